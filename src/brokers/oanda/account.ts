/**
 * The OANDA account, pure: the v20 account summary → our account, v20 positions (long and short sides) →
 * our net positions marked at their mids.
 */
import { z } from 'zod';
import { type AccountInfo, type Position } from '../../orders/model';
import { decimal, validate } from './wire';

const SummarySchema = z.object({
  account: z.looseObject({
    id: z.string(),
    currency: z.string(),
    balance: decimal,
    NAV: decimal,
    unrealizedPL: decimal.optional(),
    marginAvailable: decimal,
    marginUsed: decimal.optional(),
  }),
});
export type V20Summary = z.output<typeof SummarySchema>['account'];

export function parseSummary(raw: unknown): V20Summary {
  return validate(SummarySchema, raw, 'an account summary').account;
}

/** Buying power is OANDA's marginAvailable, in the account currency (not a notional). */
export function accountFromV20(a: V20Summary, positions: Position[]): AccountInfo {
  return {
    account_id: a.id,
    balance: a.balance,
    equity: a.NAV,
    buying_power: a.marginAvailable,
    currency: a.currency,
    open_positions: positions,
  };
}

const PositionSideSchema = z.looseObject({
  units: decimal,
  averagePrice: decimal.optional(),
  unrealizedPL: decimal.optional(),
});
const V20PositionSchema = z.looseObject({
  instrument: z.string(),
  unrealizedPL: decimal.optional(),
  long: PositionSideSchema,
  short: PositionSideSchema,
});
const PositionsReplySchema = z.object({ positions: z.array(V20PositionSchema) });
export type V20Position = z.output<typeof V20PositionSchema>;

export function parsePositions(raw: unknown): V20Position[] {
  return validate(PositionsReplySchema, raw, 'open positions').positions;
}

/**
 * v20 positions as ours: one net position per instrument (short units are negative on the wire).
 * On a hedging account with both sides open, the average price is the larger side's. `mids` marks
 * each position; unrealized P/L is OANDA's, in the account currency.
 */
export function positionsFromV20(list: V20Position[], mids: ReadonlyMap<string, number>): Position[] {
  const out: Position[] = [];
  for (const p of list) {
    const longUnits = Math.abs(p.long.units);
    const shortUnits = Math.abs(p.short.units);
    const net = Number((longUnits - shortUnits).toFixed(10));
    if (longUnits === 0 && shortUnits === 0) continue;
    const average = (longUnits >= shortUnits ? p.long.averagePrice : p.short.averagePrice) ?? 0;
    out.push({
      symbol: p.instrument,
      quantity: net,
      average_price: average,
      current_price: mids.get(p.instrument) ?? average,
      unrealized_pnl: p.unrealizedPL ?? (p.long.unrealizedPL ?? 0) + (p.short.unrealizedPL ?? 0),
    });
  }
  return out;
}
