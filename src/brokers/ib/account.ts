/**
 * The IB account: account summary rows and `position` events (asked of TWS here) → our account and positions.
 */
import { type AccountInfo, type Position } from '../../orders/model';
import type * as IbLib from '@stoqey/ib';
import { BrokerError } from '../errors';
import { awaitAnswer, type TwsRequest } from './connection';
import { symbolOf, type IbContract } from './market';

/** Account summary rows (tag → value, currency) → our AccountInfo. */
export function accountFromSummary(
  accountId: string,
  rows: ReadonlyArray<{ tag: string; value: string; currency: string }>,
  positions: Position[],
): AccountInfo {
  const num = (tag: string): { value: number; currency: string } | undefined => {
    const row = rows.find((r) => r.tag === tag);
    if (!row) return undefined;
    const value = Number(row.value);
    if (!Number.isFinite(value))
      throw new BrokerError('BAD_RESPONSE', `IB account summary ${tag} is not a number: ${row.value}`);
    return { value, currency: row.currency };
  };
  const netLiq = num('NetLiquidation');
  const cash = num('TotalCashValue');
  const bp = num('BuyingPower') ?? num('AvailableFunds');
  if (!netLiq) throw new BrokerError('BAD_RESPONSE', 'IB account summary has no NetLiquidation');
  return {
    account_id: accountId,
    balance: cash?.value ?? netLiq.value,
    equity: netLiq.value,
    buying_power: bp?.value ?? 0,
    currency: netLiq.currency || cash?.currency || 'USD',
    open_positions: positions,
  };
}

/** A `position` event (+ the mark, when a quote was available) → our Position. */
export function positionFrom(
  contract: IbContract,
  pos: number,
  avgCost: number | undefined,
  mark: number | undefined,
): Position {
  const multiplier = contract.multiplier !== undefined && contract.multiplier > 0 ? contract.multiplier : 1;
  const average = (avgCost ?? 0) / multiplier;
  const current = mark ?? average;
  return {
    symbol: symbolOf(contract),
    quantity: pos,
    average_price: average,
    current_price: current,
    unrealized_pnl: (current - average) * pos * multiplier,
  };
}

export interface SummaryRow {
  account: string;
  tag: string;
  value: string;
  currency: string;
}

/** `reqAccountSummary` for our tags, every row until `accountSummaryEnd`. */
export async function accountSummaryRows(tws: TwsRequest, reqId: number): Promise<SummaryRow[]> {
  const { ib } = tws;
  const E = tws.lib.EventName;
  const rows: SummaryRow[] = [];
  await awaitAnswer<void>(ib, tws.lib, 'reqAccountSummary', tws.timeoutMs, (done, fail) => {
    const onRow = (id: number, account: string, tag: string, value: string, currency: string) => {
      if (id === reqId) rows.push({ account, tag, value, currency });
    };
    const onEnd = (id: number) => {
      if (id === reqId) done();
    };
    const offErr = tws.requestErrors(reqId, fail);
    ib.on(E.accountSummary, onRow);
    ib.on(E.accountSummaryEnd, onEnd);
    ib.reqAccountSummary(reqId, 'All', 'NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds');
    return () => {
      ib.off(E.accountSummary, onRow);
      ib.off(E.accountSummaryEnd, onEnd);
      offErr();
      if (tws.current()) ib.cancelAccountSummary(reqId);
    };
  });
  return rows;
}

export interface PositionRow {
  account: string;
  contract: IbContract;
  pos: number;
  avgCost: number | undefined;
}

/** `reqPositions`: every `position` event until `positionEnd`. */
export async function positionRows(tws: TwsRequest): Promise<PositionRow[]> {
  const { ib } = tws;
  const E = tws.lib.EventName;
  const raw: PositionRow[] = [];
  await awaitAnswer<void>(ib, tws.lib, 'reqPositions', tws.timeoutMs, (done) => {
    const onPosition = (account: string, contract: IbLib.Contract, pos: number, avgCost?: number) =>
      raw.push({ account, contract, pos, avgCost });
    const onEnd = () => done();
    ib.on(E.position, onPosition);
    ib.on(E.positionEnd, onEnd);
    ib.reqPositions();
    return () => {
      ib.off(E.position, onPosition);
      ib.off(E.positionEnd, onEnd);
      if (tws.current()) ib.cancelPositions();
    };
  });
  return raw;
}
