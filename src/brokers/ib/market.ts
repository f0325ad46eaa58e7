/**
 * IB instruments and quotes: our symbols ↔ TWS contracts (a structural copy of `@stoqey/ib`'s `Contract`),
 * and snapshot ticks (asked of TWS here) → our quote.
 *
 * Symbols (our spelling → IB contract):
 * Symbols (our spelling → IB contract):
 * | ours                                  | secType | symbol / currency      | exchange | notes                                         |
 * |---------------------------------------|---------|------------------------|----------|-----------------------------------------------|
 * | `EUR_USD`, `EUR/USD`, `EURUSD`         | CASH    | EUR / USD              | IDEALPRO | localSymbol `EUR.USD`                         |
 * | `BTCUSD`, `BTC_USD`, `BTC/USD`         | CRYPTO  | BTC / USD              | PAXOS    | IB crypto is quoted in USD only (no USDT)     |
 * | `AAPL`, `BRK.B`                        | STK     | AAPL, `BRK B` / USD    | SMART    | US stocks only; a class dot becomes a space   |
 */
import { type InstrumentRules, type Quote } from '../../orders/model';
import type * as IbLib from '@stoqey/ib';
import { BrokerError } from '../errors';
import { asBrokerError, awaitAnswer, type TwsRequest } from './connection';

/** The fields of `@stoqey/ib`'s `Contract` we use. */
export interface IbContract {
  conId?: number;
  symbol?: string;
  secType?: string;
  exchange?: string;
  primaryExch?: string;
  currency?: string;
  localSymbol?: string;
  multiplier?: number;
}
export type InstrumentKind = 'fx' | 'equity' | 'crypto';

/** Cryptocurrencies IB trades through PAXOS (all against USD). */
const PAXOS_COINS: ReadonlySet<string> = new Set([
  'BTC',
  'ETH',
  'LTC',
  'BCH',
  'SOL',
  'AVAX',
  'LINK',
  'DOGE',
  'ADA',
  'XRP',
  'MATIC',
  'UNI',
  'AAVE',
  'COMP',
]);
/** ISO codes IDEALPRO quotes. */
const FX_CODES: ReadonlySet<string> = new Set([
  'EUR',
  'USD',
  'GBP',
  'JPY',
  'CHF',
  'AUD',
  'NZD',
  'CAD',
  'SEK',
  'NOK',
  'DKK',
  'HKD',
  'SGD',
  'MXN',
  'ZAR',
  'PLN',
  'CZK',
  'HUF',
  'TRY',
  'CNH',
  'ILS',
]);

export interface ResolvedSymbol {
  kind: InstrumentKind;
  contract: IbContract;
}

/** Our symbol → an IB contract. Throws UNKNOWN_SYMBOL for what IB cannot route from a bare symbol. */
export function contractFor(symbol: string): ResolvedSymbol {
  const s = symbol.trim().toUpperCase();
  const pair = /^([A-Z]{3,5})[_/.]([A-Z]{3,4})$/.exec(s) ?? /^([A-Z]{3,5})(USD|USDT|USDC)$/.exec(s);
  if (pair) {
    const base = pair[1] ?? '';
    const quote = pair[2] ?? '';
    if (PAXOS_COINS.has(base)) {
      if (quote !== 'USD')
        throw new BrokerError(
          'UNKNOWN_SYMBOL',
          `IB trades ${base} against USD only (PAXOS), not ${quote}: use ${base}USD`,
        );
      return { kind: 'crypto', contract: { symbol: base, secType: 'CRYPTO', exchange: 'PAXOS', currency: 'USD' } };
    }
  }
  const fx = /^([A-Z]{3})[_/.]?([A-Z]{3})$/.exec(s);
  if (fx && FX_CODES.has(fx[1] ?? '') && FX_CODES.has(fx[2] ?? '') && fx[1] !== fx[2]) {
    const [, base, quote] = fx as unknown as [string, string, string];
    return {
      kind: 'fx',
      contract: {
        symbol: base,
        secType: 'CASH',
        exchange: 'IDEALPRO',
        currency: quote,
        localSymbol: `${base}.${quote}`,
      },
    };
  }
  if (/^[A-Z][A-Z0-9]{0,5}(\.[A-Z])?$/.test(s)) {
    return {
      kind: 'equity',
      contract: { symbol: s.replace('.', ' '), secType: 'STK', exchange: 'SMART', currency: 'USD' },
    };
  }
  throw new BrokerError(
    'UNKNOWN_SYMBOL',
    `IB: cannot map symbol ${symbol} to a contract (use EUR_USD for FX, AAPL for US stocks, BTCUSD for crypto)`,
  );
}

/** An IB contract → our symbol (the inverse of `contractFor`). */
export function symbolOf(contract: IbContract): string {
  const symbol = (contract.symbol ?? '').toUpperCase();
  const currency = (contract.currency ?? '').toUpperCase();
  switch (contract.secType) {
    case 'CASH':
      return `${symbol}_${currency}`;
    case 'CRYPTO':
      return `${symbol}${currency}`;
    case 'STK':
      return symbol.replace(' ', '.');
    default:
      return contract.localSymbol || symbol;
  }
}
/** TWS tick types we read from a snapshot (live and delayed). */
export const TICK = {
  BID_SIZE: 0,
  BID: 1,
  ASK: 2,
  ASK_SIZE: 3,
  LAST: 4,
  LAST_SIZE: 5,
  DELAYED_BID: 66,
  DELAYED_ASK: 67,
  DELAYED_LAST: 68,
  /** TWS API "Available Tick Types" 88 "Delayed Last Timestamp": "Delayed time of the last trade (in UNIX time)", a tickString. */
  DELAYED_LAST_TIMESTAMP: 88,
} as const;

export interface SnapshotTicks {
  bid?: number;
  ask?: number;
  last?: number;
  bidSize?: number;
  askSize?: number;
  /** The bid, or the ask, is a delayed tick (66, 67), not a live one. */
  bidDelayed?: boolean;
  askDelayed?: boolean;
  /** The delayed last trade's time (tick 88), ms: the time a delayed quote is of. */
  delayedLastTime?: number;
}

/** A tickString of a snapshot: the delayed last trade's time (88), in whole UNIX seconds; any other text is skipped. */
export function applyTickString(ticks: SnapshotTicks, field: number, value: string | undefined): void {
  if (field !== TICK.DELAYED_LAST_TIMESTAMP || value === undefined || !/^\d{1,12}$/.test(value.trim())) return;
  const seconds = Number(value.trim());
  if (seconds > 0) ticks.delayedLastTime = seconds * 1000;
}

export function applyTick(ticks: SnapshotTicks, field: number, value: number | undefined, isSize: boolean): void {
  if (value === undefined || !Number.isFinite(value) || value < 0) return;
  if (isSize) {
    if (field === TICK.BID_SIZE || field === 69) ticks.bidSize = value;
    else if (field === TICK.ASK_SIZE || field === 70) ticks.askSize = value;
    return;
  }
  if (value <= 0) return;
  if (field === TICK.BID || (field === TICK.DELAYED_BID && ticks.bid === undefined)) {
    ticks.bid = value;
    ticks.bidDelayed = field === TICK.DELAYED_BID;
  } else if (field === TICK.ASK || (field === TICK.DELAYED_ASK && ticks.ask === undefined)) {
    ticks.ask = value;
    ticks.askDelayed = field === TICK.DELAYED_ASK;
  } else if (field === TICK.LAST || (field === TICK.DELAYED_LAST && ticks.last === undefined)) ticks.last = value;
}

export function quoteFromTicks(symbol: string, ticks: SnapshotTicks, now: number): Quote {
  if (ticks.bid === undefined || ticks.ask === undefined)
    throw new BrokerError(
      'BAD_RESPONSE',
      `IB sent no bid/ask for ${symbol} (market closed or no market data subscription)`,
    );
  const quote: Quote = {
    symbol,
    bid: ticks.bid,
    ask: ticks.ask,
    last: ticks.last ?? (ticks.bid + ticks.ask) / 2,
    bid_size: ticks.bidSize ?? 0,
    ask_size: ticks.askSize ?? 0,
    timestamp: now,
  };
  if (ticks.bidDelayed === true || ticks.askDelayed === true) {
    quote.delayed = true;
    // The delayed quote is of some 15 minutes ago, not of when we read it: IB's time of the delayed last trade
    // (tick 88) is the time it gives for it, and the nearest to the delayed bid/ask it carries no time of.
    if (ticks.delayedLastTime !== undefined) quote.timestamp = ticks.delayedLastTime;
  }
  return quote;
}

/** Our static rules for a symbol (IB's real ones come from `reqContractDetails`: minTick, sizeIncrement). Answered without a connection. */
export function instrumentRulesFor(symbol: string): InstrumentRules {
  const { kind, contract } = contractFor(symbol);
  const quote = contract.currency ?? 'USD';
  switch (kind) {
    case 'fx': {
      const jpy = quote === 'JPY';
      return {
        symbol,
        kind,
        tickSize: jpy ? 0.005 : 0.00005,
        lotSize: 1,
        minQuantity: 1,
        quoteCurrency: quote,
        pipSize: jpy ? 0.01 : 0.0001,
      };
    }
    case 'crypto':
      return {
        symbol,
        kind,
        tickSize: 0.01,
        lotSize: 0.00000001,
        minQuantity: 0.00000001,
        quoteCurrency: quote,
        pipSize: 0.01,
      };
    case 'equity':
      return { symbol, kind, tickSize: 0.01, lotSize: 1, minQuantity: 1, quoteCurrency: quote, pipSize: 0.01 };
  }
}

/** Market data refusals for want of a live subscription (TWS API "Message Codes"), which delayed data may answer. */
export const NOT_SUBSCRIBED: ReadonlySet<number> = new Set([354, 10168, 10186]);

/**
 * The market data type of one TWS connection: live (TWS's default) until a quote is refused for want of a live
 * subscription (10168, 10186, 354); then delayed data is asked for, once (`reqMarketDataType(3)`), and the quote
 * asked again. TWS API "Delayed Streaming Data" (interactivebrokers.github.io/tws-api/delayed_data.html): "By
 * default, the API is in the real time market data mode … To switch to delayed streaming data, the function
 * IBApi::EClient::reqMarketDataType must be invoked with a parameter of 3 (for delayed) … Subsequent calls to
 * IBApi::EClient::reqMktData will then result in requests for delayed data which will be returned to the delayed tick
 * types … If live data is available, it will always be returned instead of delayed data." So the switch costs no
 * instrument that has a subscription its live quotes, and the quote says when it is delayed (`Quote.delayed`, from
 * the delayed tick types). When the delayed request is refused too, its refusal is the error, saying so.
 */
export class MarketDataMode {
  private delayed = false;

  async quote(
    tws: TwsRequest,
    nextReqId: () => number,
    symbol: string,
    contract: IbContract,
    now: () => number,
  ): Promise<Quote> {
    const askedLive = !this.delayed;
    try {
      return await snapshotQuote(tws, nextReqId(), symbol, contract, now);
    } catch (e) {
      if (!askedLive || !(e instanceof BrokerError) || !NOT_SUBSCRIBED.has(Number(e.venueCode))) throw e;
    }
    if (!this.delayed) {
      this.delayed = true;
      tws.ib.reqMarketDataType(tws.lib.MarketDataType.DELAYED);
    }
    try {
      return await snapshotQuote(tws, nextReqId(), symbol, contract, now);
    } catch (e) {
      if (!(e instanceof BrokerError)) throw e;
      throw new BrokerError(
        e.reason,
        `${e.message} (asked again for delayed market data, reqMarketDataType 3: IB had none for ${symbol} either)`,
        {
          retryable: e.retryable,
          outcomeUnknown: e.outcomeUnknown,
          notActed: e.notActed,
          venueCode: e.venueCode,
          ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
          cause: e,
        },
      );
    }
  }
}

/** A `reqMktData` snapshot: ticks until `tickSnapshotEnd`, as our quote. */
export function snapshotQuote(
  tws: TwsRequest,
  reqId: number,
  symbol: string,
  contract: IbContract,
  now: () => number,
): Promise<Quote> {
  const { ib } = tws;
  const E = tws.lib.EventName;
  const ticks: SnapshotTicks = {};
  return awaitAnswer<Quote>(ib, tws.lib, `quote ${symbol}`, tws.timeoutMs, (done, fail) => {
    const onPrice = (id: number, field: number, value: number) => {
      if (id === reqId) applyTick(ticks, field, value, false);
    };
    const onSize = (id: number, field?: number, value?: number) => {
      if (id === reqId && field !== undefined) applyTick(ticks, field, value, true);
    };
    const onString = (id: number, field: number, value: string) => {
      if (id === reqId) applyTickString(ticks, field, value);
    };
    const onEnd = (id: number) => {
      if (id !== reqId) return;
      try {
        done(quoteFromTicks(symbol, ticks, now()));
      } catch (e) {
        fail(asBrokerError(e, `quote ${symbol}`));
      }
    };
    const offErr = tws.requestErrors(reqId, fail);
    ib.on(E.tickPrice, onPrice);
    ib.on(E.tickSize, onSize);
    ib.on(E.tickString, onString);
    ib.on(E.tickSnapshotEnd, onEnd);
    ib.reqMktData(reqId, { ...contract, exchange: contract.exchange ?? 'SMART' } as IbLib.Contract, '', true, false);
    return () => {
      ib.off(E.tickPrice, onPrice);
      ib.off(E.tickSize, onSize);
      ib.off(E.tickString, onString);
      ib.off(E.tickSnapshotEnd, onEnd);
      offErr();
    };
  });
}
