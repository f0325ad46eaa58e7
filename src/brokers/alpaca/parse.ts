/**
 * Pure translation between our order model and Alpaca's trading/market-data wire format (snake_case
 * JSON, money and quantities as decimal strings). Nothing here performs I/O or loads the SDK:
 * the adapter reads each response body as JSON and hands it to these functions, which validate it
 * with zod and throw `BrokerError('BAD_RESPONSE')` naming the field that did not fit.
 *
 * Status table (Alpaca → ours):
 * | Alpaca                                                     | ours                                          |
 * |------------------------------------------------------------|-----------------------------------------------|
 * | pending_new, accepted, accepted_for_bidding, held, suspended | pending                                     |
 * | new, pending_cancel, pending_replace, stopped, done_for_day | submitted (partially_filled once filled_qty > 0) |
 * | partially_filled                                           | partially_filled                              |
 * | filled                                                     | filled                                        |
 * | calculated                                                 | filled when filled_qty = qty, else partially_filled |
 * | canceled, replaced                                         | cancelled (`replaced`: this id is done)       |
 * | expired                                                    | expired                                       |
 * | rejected                                                   | rejected (the Order object carries no reason) |
 *
 * Error table (HTTP status + Alpaca code → BrokerError):
 * | status | code / message                                  | reason                      | retryable |
 * |--------|-------------------------------------------------|-----------------------------|-----------|
 * | 401    | any                                             | AUTHENTICATION              | no        |
 * | 403    | "insufficient buying power / qty / balance"     | INSUFFICIENT_FUNDS          | no        |
 * | 403    | other                                           | PERMISSION_DENIED           | no        |
 * | 404    | order routes / quote and asset routes           | ORDER_NOT_FOUND / UNKNOWN_SYMBOL | no   |
 * | 400/422| 40010001 "client_order_id must be unique"       | DUPLICATE_CLIENT_ORDER_ID   | no        |
 * | 400/422| "asset … not found" / "not tradable"            | UNKNOWN_SYMBOL              | no        |
 * | 422    | 42210000 sub-penny, and any other 400/422       | INVALID_ORDER               | no        |
 * | 429    | any (refused unprocessed: `notActed`, resent within the bound) | RATE_LIMITED (+ retryAfterMs) | yes |
 * | 5xx    | on a submit or cancel (502/503/504 included): outcomeUnknown | VENUE_UNAVAILABLE     | no (look it up) |
 * | 5xx    | any other request                               | VENUE_UNAVAILABLE           | yes       |
 *
 * A 5xx says nothing about whether Alpaca acted (RFC 9110 §15.6.3–5: a gateway's 502/504 least of
 * all), so a submit or cancel answered with one is an unknown outcome, resolved by client order id.
 */
import { z } from 'zod';
import { isOnStep } from '../../common/decimal';
import type {
  AccountInfo,
  InstrumentRules,
  OrderResponse,
  OrderStatus,
  OrderType,
  PlacedOrderRequest,
  Position,
  Quote,
  TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError, type BrokerErrorReason } from '../errors';

export const ALPACA_PAPER_URL = 'https://paper-api.alpaca.markets';
export const ALPACA_LIVE_URL = 'https://api.alpaca.markets';
export const ALPACA_DATA_URL = 'https://data.alpaca.markets';

// --- our order → Alpaca -------------------------------------------------------------------

export type AlpacaTimeInForce = 'day' | 'gtc' | 'opg' | 'cls' | 'ioc' | 'fok';
export type AlpacaOrderTypeName = 'market' | 'limit' | 'stop' | 'stop_limit';

/** The body of `POST /v2/orders`, exactly as it goes over the wire. */
export interface AlpacaOrderRequest {
  symbol: string;
  qty: string;
  side: 'buy' | 'sell';
  type: AlpacaOrderTypeName;
  time_in_force: AlpacaTimeInForce;
  limit_price?: string;
  stop_price?: string;
  client_order_id: string;
}

/** Alpaca spells crypto pairs with a slash (BTC/USD); every other symbol is a US equity. */
export const isCryptoSymbol = (symbol: string): boolean => symbol.includes('/');

/** One formatter for every call: `toLocaleString` builds one each time, about 60 µs. */
const DECIMAL_FORMAT = new Intl.NumberFormat('en-US', { useGrouping: false, maximumFractionDigits: 10 });

/** A number as Alpaca wants it in a string: no exponent, no float noise. */
export function decimalString(n: number): string {
  // Whole numbers print the same either way (-0 aside, which the formatter writes as "-0").
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return String(n);
  return DECIMAL_FORMAT.format(n);
}

/** Alpaca's price increment for US equities: $0.01 at or above $1.00, $0.0001 below. */
export function equityTick(price: number): number {
  return price >= 1 ? 0.01 : 0.0001;
}

export const GTD_REASON =
  'Alpaca has no good-till-date orders: send GTC (or DAY from Alpaca itself) and cancel the order at the time you wanted it to expire';
export const IOC_STOP_REASON =
  'Alpaca accepts IOC and FOK only on market and limit orders: use GTC for stop and stop-limit orders';

/** What `AlpacaBroker` accepts (see its header table); a constant so the broker registry reads it without an instance. */
export const ALPACA_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: false },
  unsupported: [
    { timeInForce: 'GTD', reason: GTD_REASON },
    { orderType: 'stop', timeInForce: 'IOC', reason: IOC_STOP_REASON },
    { orderType: 'stop', timeInForce: 'FOK', reason: IOC_STOP_REASON },
    { orderType: 'stop_limit', timeInForce: 'IOC', reason: IOC_STOP_REASON },
    { orderType: 'stop_limit', timeInForce: 'FOK', reason: IOC_STOP_REASON },
  ],
  // Crypto only: fractional shares need DAY orders, which are refused above.
  fractionalQuantity: true,
  shortSelling: true,
  cancelReplace: false,
});

/**
 * Why Alpaca would refuse this order, checked before anything is sent (the combinations the
 * venue documents as refused, plus sub-penny prices on equities), or undefined.
 */
export function alpacaRefusal(order: PlacedOrderRequest, cryptoPriceIncrement?: number): string | undefined {
  const type = order.order_type.type;
  const tif = order.time_in_force.type;
  if (tif === 'GTD') return GTD_REASON;
  if ((tif === 'IOC' || tif === 'FOK') && (type === 'stop' || type === 'stop_limit')) return IOC_STOP_REASON;
  const crypto = isCryptoSymbol(order.symbol);
  if (crypto) {
    if (type === 'stop') return 'Alpaca does not accept plain stop orders on crypto: use stop-limit';
    if (tif === 'FOK') return 'Alpaca accepts only GTC and IOC on crypto orders';
  } else if (!Number.isInteger(order.quantity)) {
    return 'Alpaca accepts fractional share quantities only on DAY market orders, which SPtrader does not send: use whole shares';
  }
  for (const [what, price] of priceFields(order.order_type)) {
    const tick = crypto ? cryptoPriceIncrement : equityTick(price);
    if (tick !== undefined && !isOnStep(price, tick))
      return `${what} ${price} is not a multiple of Alpaca's price increment ${decimalString(tick)}${crypto ? '' : ' (0.01 at or above $1, 0.0001 below)'}`;
  }
  return undefined;
}

function priceFields(t: OrderType): Array<[string, number]> {
  switch (t.type) {
    case 'market':
      return [];
    case 'limit':
      return [['limit price', t.price]];
    case 'stop':
      return [['stop price', t.price]];
    case 'stop_limit':
      return [
        ['stop price', t.stop_price],
        ['limit price', t.limit_price],
      ];
  }
}

const TIF_TO_ALPACA = { GTC: 'gtc', IOC: 'ioc', FOK: 'fok' } as const;

/** Our order as Alpaca's request body; throws `UNSUPPORTED_ORDER` for what Alpaca refuses. */
export function toAlpacaOrder(order: PlacedOrderRequest, cryptoPriceIncrement?: number): AlpacaOrderRequest {
  const refusal = alpacaRefusal(order, cryptoPriceIncrement);
  if (refusal !== undefined) throw new BrokerError('UNSUPPORTED_ORDER', refusal);
  const tif = order.time_in_force.type;
  if (tif === 'GTD') throw new BrokerError('UNSUPPORTED_ORDER', GTD_REASON);
  const base = {
    symbol: order.symbol,
    qty: decimalString(order.quantity),
    side: order.side,
    time_in_force: TIF_TO_ALPACA[tif],
    client_order_id: order.client_order_id,
  };
  const t = order.order_type;
  switch (t.type) {
    case 'market':
      return { ...base, type: 'market' };
    case 'limit':
      return { ...base, type: 'limit', limit_price: decimalString(t.price) };
    case 'stop':
      return { ...base, type: 'stop', stop_price: decimalString(t.price) };
    case 'stop_limit':
      return {
        ...base,
        type: 'stop_limit',
        stop_price: decimalString(t.stop_price),
        limit_price: decimalString(t.limit_price),
      };
  }
}

// --- validation helpers -------------------------------------------------------------------

/** A decimal number sent as a string ("150", "-2", "0.0001"). */
const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number in a string')
  .transform((s) => Number(s));
const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 time')
  .transform((s) => Date.parse(s));
const optionalTime = isoTime.nullish();

/** Validates `raw`, or throws BAD_RESPONSE naming the first field that did not fit. */
export function validate<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  throw new BrokerError(
    'BAD_RESPONSE',
    `Alpaca sent ${what} that SPtrader cannot read: field ${field}: ${issue?.message ?? 'invalid'}${more}`,
  );
}

// --- orders ---------------------------------------------------------------------------------

export const ALPACA_STATUSES = [
  'new',
  'partially_filled',
  'filled',
  'done_for_day',
  'canceled',
  'expired',
  'replaced',
  'pending_cancel',
  'pending_replace',
  'pending_new',
  'accepted',
  'accepted_for_bidding',
  'stopped',
  'rejected',
  'suspended',
  'calculated',
  'held',
] as const;
export type AlpacaStatus = (typeof ALPACA_STATUSES)[number];

export const AlpacaOrderSchema = z.object({
  id: z.string().min(1),
  client_order_id: z.string(),
  status: z.enum(ALPACA_STATUSES),
  symbol: z.string().min(1),
  qty: decimal.nullish(),
  filled_qty: decimal,
  filled_avg_price: decimal.nullish(),
  type: z.string().optional(),
  order_type: z.string().optional(),
  side: z.enum(['buy', 'sell']),
  time_in_force: z.enum(['day', 'gtc', 'opg', 'cls', 'ioc', 'fok']),
  limit_price: decimal.nullish(),
  stop_price: decimal.nullish(),
  created_at: isoTime,
  updated_at: optionalTime,
  submitted_at: optionalTime,
  filled_at: optionalTime,
  canceled_at: optionalTime,
  expired_at: optionalTime,
  failed_at: optionalTime,
  expires_at: optionalTime,
});
export type AlpacaOrder = z.output<typeof AlpacaOrderSchema>;

/** Alpaca's status (and fill progress) as ours; see the table at the top of this file. */
export function mapAlpacaStatus(status: AlpacaStatus, filledQty: number, qty: number): OrderStatus {
  const open: OrderStatus =
    filledQty > 0 ? { status: 'partially_filled', filled_qty: filledQty } : { status: 'submitted' };
  switch (status) {
    case 'pending_new':
    case 'accepted':
    case 'accepted_for_bidding':
    case 'held':
    case 'suspended':
      return { status: 'pending' };
    case 'new':
    case 'pending_cancel':
    case 'pending_replace':
    case 'stopped':
    case 'done_for_day':
      return open;
    case 'partially_filled':
      return { status: 'partially_filled', filled_qty: filledQty };
    case 'filled':
      return { status: 'filled' };
    case 'calculated':
      return filledQty >= qty ? { status: 'filled' } : open;
    case 'canceled':
    case 'replaced':
      return { status: 'cancelled' };
    case 'expired':
      return { status: 'expired' };
    case 'rejected':
      return { status: 'rejected', reason: 'rejected by Alpaca (the venue gives no reason on the order)' };
  }
}

/** An Alpaca order SPtrader cannot represent (trailing stop, notional, multi-leg): skipped in lists. */
export class UnrepresentableOrder extends BrokerError {
  constructor(message: string) {
    super('BAD_RESPONSE', message);
  }
}

function orderTypeOf(o: AlpacaOrder): OrderType {
  const type = o.type ?? o.order_type;
  const need = (v: number | null | undefined, field: string): number => {
    if (v === null || v === undefined || !(v > 0))
      throw new BrokerError('BAD_RESPONSE', `Alpaca sent a ${type} order without a positive ${field}`);
    return v;
  };
  switch (type) {
    case 'market':
      return { type: 'market' };
    case 'limit':
      return { type: 'limit', price: need(o.limit_price, 'limit_price') };
    case 'stop':
      return { type: 'stop', price: need(o.stop_price, 'stop_price') };
    case 'stop_limit':
      return {
        type: 'stop_limit',
        stop_price: need(o.stop_price, 'stop_price'),
        limit_price: need(o.limit_price, 'limit_price'),
      };
    case undefined:
      throw new BrokerError('BAD_RESPONSE', 'Alpaca sent an order that SPtrader cannot read: field type: missing');
    default:
      throw new UnrepresentableOrder(`Alpaca order ${o.id} is a ${type} order, which SPtrader does not model`);
  }
}

function timeInForceOf(o: AlpacaOrder): TimeInForce {
  switch (o.time_in_force) {
    case 'gtc':
      return { type: 'GTC' };
    case 'ioc':
      return { type: 'IOC' };
    case 'fok':
      return { type: 'FOK' };
    default:
      // day/opg/cls (orders placed outside SPtrader) end at a time Alpaca states in expires_at.
      return { type: 'GTD', expires_at: o.expires_at ?? o.created_at + 24 * 3600_000 };
  }
}

/**
 * An Alpaca order as our OrderResponse (one view of it). Alpaca reports only cumulative `filled_qty`
 * and `filled_avg_price` and lists no fills, so `fills` is empty: the order tracker
 * (`../orderTracker.ts`) synthesises them from the change in those figures between views.
 */
export function parseOrder(raw: unknown): OrderResponse {
  const o = validate(AlpacaOrderSchema, raw, 'an order');
  if (o.qty === null || o.qty === undefined)
    throw new UnrepresentableOrder(
      `Alpaca order ${o.id} is a notional (dollar amount) order, which SPtrader does not model`,
    );
  const orderType = orderTypeOf(o);
  const timeInForce = timeInForceOf(o);
  const filled = o.filled_qty;
  const avg = o.filled_avg_price ?? null;
  if (filled > 0 && (avg === null || !(avg > 0)))
    throw new BrokerError(
      'BAD_RESPONSE',
      `Alpaca sent order ${o.id} with filled_qty ${filled} but no filled_avg_price`,
    );
  const timestamp = Math.max(
    ...[o.updated_at, o.filled_at, o.canceled_at, o.expired_at, o.failed_at, o.submitted_at, o.created_at].filter(
      (t): t is number => typeof t === 'number',
    ),
  );
  return {
    order_id: o.id,
    client_order_id: o.client_order_id,
    symbol: o.symbol,
    side: o.side,
    order_type: orderType,
    time_in_force: timeInForce,
    quantity: o.qty,
    status: mapAlpacaStatus(o.status, filled, o.qty),
    filled_price: filled > 0 ? avg : null,
    filled_quantity: filled > 0 ? filled : null,
    commission: filled > 0 ? 0 : null,
    timestamp,
    created_at: o.created_at,
    fills: [],
  };
}

// --- account, positions, quotes, assets ------------------------------------------------------

export const AlpacaAccountSchema = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  currency: z.string().min(1),
  cash: decimal,
  buying_power: decimal,
  equity: decimal,
  portfolio_value: decimal.nullish(),
});

export const AlpacaPositionSchema = z.object({
  symbol: z.string().min(1),
  side: z.enum(['long', 'short']).optional(),
  qty: decimal,
  avg_entry_price: decimal,
  current_price: decimal.nullish(),
  unrealized_pl: decimal.nullish(),
});

export function parsePositions(raw: unknown): Position[] {
  return validate(z.array(AlpacaPositionSchema), raw, 'positions').map((p) => {
    const magnitude = Math.abs(p.qty);
    const quantity = p.side === 'short' || p.qty < 0 ? -magnitude : magnitude;
    return {
      symbol: p.symbol,
      quantity,
      average_price: p.avg_entry_price,
      current_price: p.current_price ?? p.avg_entry_price,
      unrealized_pnl: p.unrealized_pl ?? 0,
    };
  });
}

export function parseAccount(raw: unknown, positions: Position[]): AccountInfo {
  const a = validate(AlpacaAccountSchema, raw, 'an account');
  return {
    account_id: a.id,
    balance: a.cash,
    equity: a.equity,
    buying_power: a.buying_power,
    currency: a.currency,
    open_positions: positions,
  };
}

const QuoteBody = z.object({
  ap: z.number().nonnegative(),
  as: z.number().nonnegative(),
  bp: z.number().nonnegative(),
  bs: z.number().nonnegative(),
  t: isoTime,
});
export const AlpacaStockQuoteSchema = z.object({ symbol: z.string().optional(), quote: QuoteBody });
export const AlpacaCryptoQuotesSchema = z.object({ quotes: z.record(z.string(), QuoteBody) });

function toQuote(symbol: string, q: z.output<typeof QuoteBody>): Quote {
  if (!(q.bp > 0) || !(q.ap > 0))
    throw new BrokerError(
      'VENUE_UNAVAILABLE',
      `Alpaca has no two-sided quote for ${symbol} right now (bid ${q.bp}, ask ${q.ap}); the market may be closed`,
    );
  // The latest-quote endpoint carries no trade: `last` is the mid.
  return {
    symbol,
    bid: q.bp,
    ask: q.ap,
    last: Number(((q.bp + q.ap) / 2).toPrecision(12)),
    bid_size: q.bs,
    ask_size: q.as,
    timestamp: q.t,
  };
}

export function parseStockQuote(raw: unknown, symbol: string): Quote {
  return toQuote(symbol, validate(AlpacaStockQuoteSchema, raw, 'a quote').quote);
}

export function parseCryptoQuote(raw: unknown, symbol: string): Quote {
  const q = validate(AlpacaCryptoQuotesSchema, raw, 'a crypto quote').quotes[symbol];
  if (q === undefined) throw new BrokerError('UNKNOWN_SYMBOL', `Alpaca has no crypto quote for ${symbol}`);
  return toQuote(symbol, q);
}

export const AlpacaAssetSchema = z.object({
  symbol: z.string().min(1),
  class: z.string(),
  tradable: z.boolean(),
  fractionable: z.boolean().optional(),
  min_order_size: decimal.nullish(),
  min_trade_increment: decimal.nullish(),
  price_increment: decimal.nullish(),
});

/**
 * Instrument rules. Equities: tick 0.01 (valid at every price; Alpaca also allows 0.0001 below
 * $1, see `equityTick`), whole shares. Crypto: the asset's own increments.
 */
export function parseAsset(raw: unknown): InstrumentRules {
  const a = validate(AlpacaAssetSchema, raw, 'an asset');
  if (!a.tradable) throw new BrokerError('UNKNOWN_SYMBOL', `${a.symbol} is not tradable on Alpaca`);
  const crypto = a.class === 'crypto';
  if (!crypto)
    return {
      symbol: a.symbol,
      kind: 'equity',
      tickSize: 0.01,
      lotSize: 1,
      minQuantity: 1,
      quoteCurrency: 'USD',
      pipSize: 0.01,
    };
  const tick = a.price_increment ?? undefined;
  const lot = a.min_trade_increment ?? undefined;
  if (tick === undefined || !(tick > 0))
    throw new BrokerError('BAD_RESPONSE', `Alpaca sent crypto asset ${a.symbol} without a price_increment`);
  if (lot === undefined || !(lot > 0))
    throw new BrokerError('BAD_RESPONSE', `Alpaca sent crypto asset ${a.symbol} without a min_trade_increment`);
  const quoteCurrency = a.symbol.split('/')[1] ?? 'USD';
  return {
    symbol: a.symbol,
    kind: 'crypto',
    tickSize: tick,
    lotSize: lot,
    minQuantity: a.min_order_size ?? lot,
    quoteCurrency,
    pipSize: tick,
  };
}

// --- errors ------------------------------------------------------------------------------------

export type AlpacaOperation = 'submit' | 'cancel' | 'order' | 'account' | 'quote' | 'asset';

export interface AlpacaHttpError {
  status: number;
  code?: number | string;
  message: string;
  retryAfterMs?: number;
}

/** Known Alpaca error codes. */
export const ALPACA_CODES = {
  invalidRequest: 40010001,
  forbidden: 40310000,
  notFound: 40410000,
  subPenny: 42210000,
} as const;

/** An HTTP error answer from Alpaca as a BrokerError (table at the top of this file). */
export function mapAlpacaError(e: AlpacaHttpError, op: AlpacaOperation): BrokerError {
  const code =
    e.code === undefined || e.code === '' ? undefined : Number.isNaN(Number(e.code)) ? e.code : Number(e.code);
  // A gateway's HTML page becomes the SDK's message: keep it short.
  const trimmed = e.message.trim();
  const text = trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed || `HTTP ${e.status}`;
  const make = (
    reason: BrokerErrorReason,
    message: string,
    extra: { retryable?: boolean; retryAfterMs?: number; outcomeUnknown?: boolean; notActed?: boolean } = {},
  ) => new BrokerError(reason, message, { venueCode: code ?? e.status, ...extra });
  const what = `Alpaca ${e.status}${code !== undefined ? ` (${code})` : ''}: ${text}`;
  const s = e.status;
  if (s === 401)
    return make('AUTHENTICATION', `${what}; check the Alpaca key id and secret key (paper and live keys differ)`);
  if (s === 403) {
    if (/insufficient|buying power/i.test(text)) return make('INSUFFICIENT_FUNDS', what);
    return make('PERMISSION_DENIED', what);
  }
  if (s === 404) {
    if (op === 'quote' || op === 'asset') return make('UNKNOWN_SYMBOL', what);
    if (op === 'account') return make('AUTHENTICATION', `${what}; the account was not found for these keys`);
    return make('ORDER_NOT_FOUND', what);
  }
  if (s === 400 || s === 422) {
    if (
      /client_order_id must be unique/i.test(text) ||
      (code === ALPACA_CODES.invalidRequest && /client_order_id/i.test(text) && /unique|exist/i.test(text))
    )
      return make('DUPLICATE_CLIENT_ORDER_ID', what);
    if (code === ALPACA_CODES.subPenny) return make('INVALID_ORDER', what);
    if (/asset .*not (found|tradable|active)|could not find asset|not tradable/i.test(text))
      return make('UNKNOWN_SYMBOL', what);
    if (op === 'cancel') return make('INVALID_ORDER', `${what}; the order can no longer be cancelled`);
    return make('INVALID_ORDER', what);
  }
  // Alpaca's rate limiter answers before the order is processed ("Rate limit", docs.alpaca.markets/docs/rate-limits).
  if (s === 429)
    return make('RATE_LIMITED', what, {
      retryable: true,
      notActed: true,
      ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
    });
  if (s >= 500) {
    if (op === 'submit' || op === 'cancel') {
      const what2 = op === 'submit' ? 'the order may have been placed' : 'the order may have been cancelled';
      return make(
        'VENUE_UNAVAILABLE',
        `${what}; this answer does not say whether Alpaca acted: ${what2}, look it up by client order id, do not resend`,
        {
          outcomeUnknown: true,
          retryable: false,
        },
      );
    }
    return make('VENUE_UNAVAILABLE', what);
  }
  return make('INTERNAL', what, { retryable: false });
}
