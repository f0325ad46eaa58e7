/**
 * Pure translation between our order model and OANDA's v20 REST wire format (every number a
 * decimal string, side in the sign of `units`, times RFC 3339 with nanoseconds). Nothing here
 * performs I/O: the adapter hands each parsed JSON body to these functions, which validate it with
 * zod and throw `BrokerError('BAD_RESPONSE')` naming the field that did not fit.
 *
 * Status table (v20 → ours):
 * | v20                                                            | ours                                  |
 * |----------------------------------------------------------------|---------------------------------------|
 * | order state PENDING, TRIGGERED                                 | submitted                             |
 * | FILLED (details in the ORDER_FILL transaction)                 | filled                                |
 * | CANCELLED, cancel reason CLIENT_REQUEST(_REPLACED)             | cancelled                             |
 * | CANCELLED, TIME_IN_FORCE_EXPIRED on a GTD/GFD order            | expired                               |
 * | CANCELLED, any reason, on an IOC/FOK order or after acceptance | cancelled (filled_quantity if partly) |
 * | submit reply 201: create + cancel with no fill, reason other   |                                       |
 * |   than the above (INSUFFICIENT_MARGIN, MARKET_HALTED, …)       | rejected with that reason             |
 * | submit reply 400/404 with orderRejectTransaction               | rejected with its rejectReason        |
 *
 * Error table (HTTP status + errorCode/rejectReason → BrokerError):
 * | status | errorCode / rejectReason                              | reason                       | retryable |
 * |--------|-------------------------------------------------------|------------------------------|-----------|
 * | 400    | CLIENT_ORDER_ID_ALREADY_EXISTS                        | DUPLICATE_CLIENT_ORDER_ID    | no        |
 * | 400    | INSUFFICIENT_MARGIN, INSUFFICIENT_FUNDS, MARGIN_…     | INSUFFICIENT_FUNDS           | no        |
 * | 400    | INSTRUMENT_UNKNOWN/MISSING/NOT_TRADEABLE, INVALID_…   | UNKNOWN_SYMBOL               | no        |
 * | 400/404| ORDER_DOESNT_EXIST, ORDER_ID_INVALID                  | ORDER_NOT_FOUND              | no        |
 * | 400    | ACCOUNT_LOCKED, ACCOUNT_NOT_ACTIVE, ACCOUNT_…_LOCKED  | PERMISSION_DENIED            | no        |
 * | 400    | MARKET_HALTED, INTERNAL_SERVER_ERROR                  | VENUE_UNAVAILABLE            | yes       |
 * | 400    | anything else (TIME_IN_FORCE_INVALID, *_PRECISION_…)  | INVALID_ORDER                | no        |
 * | 401    | any                                                   | AUTHENTICATION               | no        |
 * | 403    | any                                                   | PERMISSION_DENIED            | no        |
 * | 404    | order routes / other routes                           | ORDER_NOT_FOUND / PERMISSION_DENIED (account) | no |
 * | 405    | any                                                   | INTERNAL (our bug)           | no        |
 * | 429    | any (refused unprocessed: `notActed`, resent within the bound) | RATE_LIMITED + retryAfterMs | yes |
 * | 5xx    | a submit or cancel (500, 502, 503, 504, …): outcomeUnknown | VENUE_UNAVAILABLE        | no (look it up) |
 * | 5xx    | any other request                                     | VENUE_UNAVAILABLE            | yes       |
 *
 * Every 5xx, a plain 500 included, leaves a submit or cancel unknown: RFC 9110 §15.6 gives no 5xx the
 * meaning "not applied", and OANDA documents none either (its spec lists only 4xx error responses).
 */
import { z } from 'zod';
import { isOnStep } from '../../common/decimal';
import {
  rejectedOrderResponse,
  type AccountInfo,
  type Fill,
  type InstrumentRules,
  type OrderResponse,
  type OrderStatus,
  type OrderType,
  type PlacedOrderRequest,
  type Position,
  type Quote,
  type TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError, type BrokerErrorReason } from '../errors';

export const OANDA_PRACTICE_URL = 'https://api-fxpractice.oanda.com';
export const OANDA_LIVE_URL = 'https://api-fxtrade.oanda.com';

export const STOP_LIMIT_REFUSAL =
  'OANDA has no stop-limit order (a STOP with a priceBound is cancelled when the market gaps past the bound; it never rests as a limit). ' +
  'Send a stop order instead (it fills at the market once triggered), or watch the price yourself and send a limit order when it reaches the stop.';
export const MARKET_TIF_REFUSAL =
  'OANDA executes market orders at once or not at all: use time in force FOK (fill completely or cancel) or IOC (fill what is available, cancel the rest); ' +
  'for an order that waits, send a limit or stop order with GTC or GTD.';

/** Why OANDA cannot take this combination, before anything is sent; undefined when it can. */
export function oandaRefusal(orderType: OrderType['type'], timeInForce: TimeInForce['type']): string | undefined {
  if (orderType === 'stop_limit') return STOP_LIMIT_REFUSAL;
  if (orderType === 'market' && timeInForce !== 'FOK' && timeInForce !== 'IOC') return MARKET_TIF_REFUSAL;
  return undefined;
}

/** What `OandaBroker` accepts (see its header table); a constant so the broker registry reads it without an instance. */
export const OANDA_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: false },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
  unsupported: [
    { orderType: 'stop_limit', reason: STOP_LIMIT_REFUSAL },
    { orderType: 'market', timeInForce: 'GTC', reason: MARKET_TIF_REFUSAL },
    { orderType: 'market', timeInForce: 'GTD', reason: MARKET_TIF_REFUSAL },
  ],
  // Per instrument: FX trades whole units (tradeUnitsPrecision 0), some CFDs fractions; getInstrument().lotSize says which.
  fractionalQuantity: true,
  shortSelling: true,
  cancelReplace: false,
});

// --- validation helpers -------------------------------------------------------------------

/** A decimal number sent as a string ("100", "-2", "1.10010"). */
const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number in a string')
  .transform((s) => Number(s));

/** RFC 3339 ("2030-01-01T00:00:00.000000000Z") or UNIX ("1893456000.000000000") time → ms since the epoch. */
export function parseV20Time(s: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}
const time = z.string().transform((s, ctx) => {
  const ms = parseV20Time(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an RFC 3339 or UNIX time' });
    return z.NEVER;
  }
  return ms;
});

/** Validates `raw`, or throws BAD_RESPONSE naming the first field that did not fit. */
export function validate<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  what: string,
  outcomeUnknown = false,
): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  const unknown = outcomeUnknown
    ? '; the request was accepted, so look the order up by client order id before doing anything else'
    : '';
  throw new BrokerError(
    'BAD_RESPONSE',
    `OANDA sent ${what} that SPtrader cannot read: field ${field}: ${issue?.message ?? 'invalid'}${more}${unknown}`,
    {
      outcomeUnknown,
      retryable: false,
      cause: raw,
    },
  );
}

// --- instruments ----------------------------------------------------------------------------

export const V20InstrumentSchema = z.looseObject({
  name: z.string().min(1),
  type: z.string(),
  pipLocation: z.number().int(),
  displayPrecision: z.number().int().min(0).max(12),
  tradeUnitsPrecision: z.number().int().min(0).max(12),
  minimumTradeSize: decimal,
  maximumOrderUnits: decimal.optional(),
});
export type V20Instrument = z.output<typeof V20InstrumentSchema>;
const InstrumentsReplySchema = z.object({ instruments: z.array(V20InstrumentSchema) });

export function parseInstruments(raw: unknown): V20Instrument[] {
  return validate(InstrumentsReplySchema, raw, 'an instrument list').instruments;
}

const pow10Exact = (n: number): number => Number((10 ** n).toFixed(Math.max(0, -n)));
/** 10^n for the precisions OANDA uses (-12…12), computed once. */
const POW10 = Array.from({ length: 25 }, (_, i) => pow10Exact(i - 12));
const pow10 = (n: number): number =>
  Number.isInteger(n) && n >= -12 && n <= 12 ? (POW10[n + 12] as number) : pow10Exact(n);

/** OANDA's precision fields as our rules: tick = 10^-displayPrecision, lot = 10^-tradeUnitsPrecision, pip = 10^pipLocation. */
export function instrumentRules(i: V20Instrument): InstrumentRules {
  const parts = i.name.split('_');
  return {
    symbol: i.name,
    kind: i.type === 'CURRENCY' ? 'fx' : 'other',
    tickSize: pow10(-i.displayPrecision),
    lotSize: pow10(-i.tradeUnitsPrecision),
    minQuantity: i.minimumTradeSize,
    quoteCurrency: parts.length > 1 ? (parts[parts.length - 1] ?? '') : '',
    pipSize: pow10(i.pipLocation),
  };
}

// --- our order → v20 -----------------------------------------------------------------------

export type V20TimeInForce = 'GTC' | 'GTD' | 'GFD' | 'FOK' | 'IOC';
const V20_TIFS = ['GTC', 'GTD', 'GFD', 'FOK', 'IOC'] as const;

interface V20OrderRequestBase {
  instrument: string;
  /** Signed: positive buys, negative sells. */
  units: string;
  positionFill: 'DEFAULT';
  clientExtensions: { id: string };
}
export interface V20MarketOrderRequest extends V20OrderRequestBase {
  type: 'MARKET';
  timeInForce: 'FOK' | 'IOC';
}
export interface V20PricedOrderRequest extends V20OrderRequestBase {
  type: 'LIMIT' | 'STOP';
  price: string;
  timeInForce: 'GTC' | 'GTD' | 'FOK' | 'IOC';
  /** RFC 3339, only with GTD. */
  gtdTime?: string;
  triggerCondition: 'DEFAULT';
}
/** The `order` of `POST /v3/accounts/{id}/orders`, exactly as it goes over the wire. */
export type V20OrderRequest = V20MarketOrderRequest | V20PricedOrderRequest;

/** `value` written with exactly `decimals` places, or undefined when it does not lie on that grid. */
function onGrid(value: number, decimals: number): string | undefined {
  return isOnStep(value, pow10(-decimals)) ? value.toFixed(decimals) : undefined;
}

/**
 * Our order as a v20 order request. Throws UNSUPPORTED_ORDER for combinations OANDA lacks and
 * INVALID_ORDER for a price off `displayPrecision` or units off `tradeUnitsPrecision` (it never
 * rounds an order silently), below `minimumTradeSize` or above `maximumOrderUnits`.
 */
export function toV20OrderRequest(order: PlacedOrderRequest, instrument: V20Instrument): V20OrderRequest {
  const refusal = oandaRefusal(order.order_type.type, order.time_in_force.type);
  if (refusal !== undefined) throw new BrokerError('UNSUPPORTED_ORDER', refusal, { retryable: false });
  const qty = onGrid(order.quantity, instrument.tradeUnitsPrecision);
  if (qty === undefined)
    throw new BrokerError(
      'INVALID_ORDER',
      `${order.symbol} trades in steps of ${instrumentRules(instrument).lotSize} units on OANDA; ${order.quantity} is not a multiple (snap the quantity first)`,
    );
  if (order.quantity < instrument.minimumTradeSize)
    throw new BrokerError(
      'INVALID_ORDER',
      `${order.symbol} needs at least ${instrument.minimumTradeSize} units on OANDA; got ${order.quantity}`,
    );
  if (instrument.maximumOrderUnits !== undefined && order.quantity > instrument.maximumOrderUnits)
    throw new BrokerError(
      'INVALID_ORDER',
      `${order.symbol} takes at most ${instrument.maximumOrderUnits} units per order on OANDA; got ${order.quantity}`,
    );
  const base: V20OrderRequestBase = {
    instrument: instrument.name,
    units: order.side === 'sell' ? `-${qty}` : qty,
    positionFill: 'DEFAULT',
    clientExtensions: { id: order.client_order_id },
  };
  const t = order.order_type;
  const tif = order.time_in_force;
  if (t.type === 'market') return { ...base, type: 'MARKET', timeInForce: tif.type === 'IOC' ? 'IOC' : 'FOK' };
  if (t.type === 'stop_limit') throw new BrokerError('UNSUPPORTED_ORDER', STOP_LIMIT_REFUSAL, { retryable: false });
  const price = onGrid(t.price, instrument.displayPrecision);
  if (price === undefined)
    throw new BrokerError(
      'INVALID_ORDER',
      `${order.symbol} prices have ${instrument.displayPrecision} decimals on OANDA (tick ${instrumentRules(instrument).tickSize}); ${t.price} is off the tick (snap the price first)`,
    );
  const priced: V20PricedOrderRequest = {
    ...base,
    type: t.type === 'limit' ? 'LIMIT' : 'STOP',
    price,
    timeInForce: tif.type,
    triggerCondition: 'DEFAULT',
  };
  if (tif.type === 'GTD') priced.gtdTime = new Date(tif.expires_at).toISOString();
  return priced;
}

// --- v20 transactions and orders -----------------------------------------------------------

const ClientExtensionsSchema = z.looseObject({
  id: z.string().optional(),
  tag: z.string().optional(),
  comment: z.string().optional(),
});

export const V20CreateTransactionSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  instrument: z.string(),
  units: decimal,
  price: decimal.optional(),
  priceBound: decimal.optional(),
  timeInForce: z.enum(V20_TIFS),
  gtdTime: time.optional(),
  clientExtensions: ClientExtensionsSchema.optional(),
  reason: z.string().optional(),
  time,
});
export type V20CreateTransaction = z.output<typeof V20CreateTransactionSchema>;

export const V20FillTransactionSchema = z
  .looseObject({
    id: z.string().min(1),
    type: z.literal('ORDER_FILL'),
    orderID: z.string().min(1),
    clientOrderID: z.string().optional(),
    instrument: z.string(),
    units: decimal,
    price: decimal.optional(),
    fullVWAP: decimal.optional(),
    commission: decimal.optional(),
    reason: z.string().optional(),
    time,
  })
  .refine((f) => f.price !== undefined || f.fullVWAP !== undefined, {
    message: 'an ORDER_FILL needs price or fullVWAP',
    path: ['price'],
  });
export type V20FillTransaction = z.output<typeof V20FillTransactionSchema>;

export const V20CancelTransactionSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('ORDER_CANCEL'),
  orderID: z.string().min(1),
  clientOrderID: z.string().optional(),
  reason: z.string(),
  time,
});
export type V20CancelTransaction = z.output<typeof V20CancelTransactionSchema>;

export const SubmitReplySchema = z.object({
  orderCreateTransaction: V20CreateTransactionSchema,
  orderFillTransaction: V20FillTransactionSchema.optional(),
  orderCancelTransaction: V20CancelTransactionSchema.optional(),
  lastTransactionID: z.string().optional(),
});

export const V20_ORDER_STATES = ['PENDING', 'FILLED', 'TRIGGERED', 'CANCELLED'] as const;
export const V20OrderSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  state: z.enum(V20_ORDER_STATES),
  /** Absent on orders attached to a trade (TAKE_PROFIT, STOP_LOSS, …), which we do not map. */
  instrument: z.string().optional(),
  units: decimal.optional(),
  price: decimal.optional(),
  timeInForce: z.enum(V20_TIFS).optional(),
  gtdTime: time.optional(),
  clientExtensions: ClientExtensionsSchema.optional(),
  createTime: time,
  fillingTransactionID: z.string().optional(),
  filledTime: time.optional(),
  cancellingTransactionID: z.string().optional(),
  cancelledTime: time.optional(),
});
export type V20Order = z.output<typeof V20OrderSchema>;

// Built once: zod compiles a schema on its first parse, which costs far more than a parse.
const OrderReplySchema = z.object({ order: V20OrderSchema });
const OrderListReplySchema = z.object({ orders: z.array(V20OrderSchema) });
const FillTransactionReplySchema = z.object({ transaction: V20FillTransactionSchema });
const CancelTransactionReplySchema = z.object({ transaction: V20CancelTransactionSchema });
const CancelReplySchema = z.object({ orderCancelTransaction: V20CancelTransactionSchema });

export function parseOrderReply(raw: unknown): V20Order {
  return validate(OrderReplySchema, raw, 'an order').order;
}
export function parseOrderList(raw: unknown): V20Order[] {
  return validate(OrderListReplySchema, raw, 'an order list').orders;
}
export function parseFillTransaction(raw: unknown): V20FillTransaction {
  return validate(FillTransactionReplySchema, raw, 'a fill transaction').transaction;
}
export function parseCancelTransaction(raw: unknown): V20CancelTransaction {
  return validate(CancelTransactionReplySchema, raw, 'a cancel transaction').transaction;
}
export function parseCancelReply(raw: unknown): V20CancelTransaction {
  return validate(CancelReplySchema, raw, 'a cancel reply', true).orderCancelTransaction;
}

/** A fill transaction as our Fill. OANDA charges through the spread, so every fill is a taker fill. */
export function toFill(f: V20FillTransaction, clientOrderId: string): Fill {
  return {
    fill_id: f.id,
    order_id: f.orderID,
    client_order_id: f.clientOrderID ?? clientOrderId,
    symbol: f.instrument,
    side: f.units < 0 ? 'sell' : 'buy',
    price: (f.price ?? f.fullVWAP) as number,
    quantity: Math.abs(f.units),
    commission: f.commission ?? 0,
    liquidity: 'taker',
    timestamp: f.time,
  };
}

const CANCELLED_BY_CLIENT = new Set(['CLIENT_REQUEST', 'CLIENT_REQUEST_REPLACED']);
/** Reasons an IOC/FOK order is cancelled for simply because it could not (fully) execute. */
const NOT_EXECUTABLE = new Set([
  'TIME_IN_FORCE_EXPIRED',
  'INSUFFICIENT_LIQUIDITY',
  'BOUNDS_VIOLATION',
  'FOK_NOT_FILLED',
]);

/**
 * Our status for an order OANDA cancelled. `immediate` is true for a cancel inside the submit
 * reply: an order cancelled at once for a reason other than the client's, its time in force or
 * (for IOC/FOK) missing liquidity was refused, so it is `rejected` with OANDA's reason.
 */
export function cancelledStatus(
  reason: string | undefined,
  tif: V20TimeInForce | TimeInForce['type'],
  immediate: boolean,
  filled: number,
): OrderStatus {
  const immediateOrDone = tif === 'IOC' || tif === 'FOK';
  if (reason === 'TIME_IN_FORCE_EXPIRED' && !immediateOrDone) return { status: 'expired' };
  if (reason === undefined || CANCELLED_BY_CLIENT.has(reason) || filled > 0 || !immediate)
    return { status: 'cancelled' };
  if (immediateOrDone && NOT_EXECUTABLE.has(reason)) return { status: 'cancelled' };
  return { status: 'rejected', reason };
}

/** What a successful submit reply says about the order, seen from our request. */
export interface SubmitOutcome {
  order: OrderResponse;
  fill?: Fill;
}

/** A 200/201 submit reply. A malformed body is BAD_RESPONSE with outcomeUnknown (the order was taken). */
export function parseSubmitReply(raw: unknown, request: PlacedOrderRequest): SubmitOutcome {
  const reply = validate(SubmitReplySchema, raw, 'a reply to an order', true);
  const created = reply.orderCreateTransaction;
  const fillTx = reply.orderFillTransaction;
  const cancelTx = reply.orderCancelTransaction;
  const fill = fillTx ? toFill(fillTx, request.client_order_id) : undefined;
  const filled = fill?.quantity ?? 0;
  let status: OrderStatus;
  if (cancelTx) status = cancelledStatus(cancelTx.reason, created.timeInForce, true, filled);
  else if (fill && filled >= request.quantity) status = { status: 'filled' };
  else if (fill) status = { status: 'partially_filled', filled_qty: filled };
  else status = { status: 'submitted' };
  return {
    order: {
      order_id: created.id,
      client_order_id: request.client_order_id,
      symbol: request.symbol,
      side: request.side,
      order_type: request.order_type,
      time_in_force: request.time_in_force,
      quantity: request.quantity,
      status,
      filled_price: fill?.price ?? null,
      filled_quantity: fill ? filled : null,
      commission: fill?.commission ?? null,
      timestamp: Math.max(created.time, fillTx?.time ?? 0, cancelTx?.time ?? 0),
      created_at: created.time,
      fills: fill ? [fill] : [],
    },
    ...(fill ? { fill } : {}),
  };
}

/** The body of a v20 error reply: every field optional, since it is read to explain a failure. */
export const V20ErrorSchema = z.looseObject({
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  orderRejectTransaction: z
    .looseObject({ id: z.string().optional(), type: z.string().optional(), rejectReason: z.string().optional() })
    .optional(),
  orderCancelRejectTransaction: z.looseObject({ rejectReason: z.string().optional() }).optional(),
});
export type V20ErrorBody = z.output<typeof V20ErrorSchema>;

export function readErrorBody(raw: unknown): V20ErrorBody {
  const parsed = V20ErrorSchema.safeParse(raw);
  return parsed.success ? parsed.data : {};
}

/** The reject reason of a refused order, or undefined when the reply carries no reject transaction. */
export function rejectReasonOf(body: V20ErrorBody): string | undefined {
  if (!body.orderRejectTransaction) return undefined;
  return body.orderRejectTransaction.rejectReason ?? body.errorCode ?? 'REJECTED';
}

/** A refused order (HTTP 400/404 with orderRejectTransaction) as a `rejected` response. */
export function rejectedResponse(request: PlacedOrderRequest, body: V20ErrorBody, now: number): OrderResponse {
  const reason = rejectReasonOf(body) ?? 'REJECTED';
  const message = body.errorMessage && body.errorMessage !== reason ? `${reason}: ${body.errorMessage}` : reason;
  const txId = body.orderRejectTransaction?.id;
  return rejectedOrderResponse(request, txId ? `reject-${txId}` : `reject-${request.client_order_id}`, message, now);
}

/** The transactions that complete the picture of an order object (it carries no fill price nor cancel reason). */
export interface OrderDetails {
  fill?: V20FillTransaction;
  cancel?: V20CancelTransaction;
}

/**
 * A v20 order object as our OrderResponse, or undefined for order types we do not map (TAKE_PROFIT,
 * STOP_LOSS, TRAILING_STOP_LOSS, MARKET_IF_TOUCHED, FIXED_PRICE…). `known` is the last response we
 * had for it (its cancel reason wins over guessing).
 */
export function orderFromV20(
  o: V20Order,
  details: OrderDetails = {},
  known?: OrderResponse,
): OrderResponse | undefined {
  if (o.instrument === undefined || o.units === undefined || o.timeInForce === undefined) return undefined;
  let orderType: OrderType;
  if (o.type === 'MARKET') orderType = { type: 'market' };
  else if ((o.type === 'LIMIT' || o.type === 'STOP') && o.price !== undefined && o.price > 0)
    orderType = { type: o.type === 'LIMIT' ? 'limit' : 'stop', price: o.price };
  else return undefined;
  let tif: TimeInForce;
  if (o.timeInForce === 'GTD' && o.gtdTime !== undefined && o.gtdTime > 0) tif = { type: 'GTD', expires_at: o.gtdTime };
  else if (o.timeInForce === 'IOC' || o.timeInForce === 'FOK') tif = { type: o.timeInForce };
  // GFD (good for the trading day) has no equivalent of ours; GTC is the nearest for display.
  else tif = { type: 'GTC' };
  const quantity = Math.abs(o.units);
  const clientOrderId = o.clientExtensions?.id ?? '';
  const fill = details.fill ? toFill(details.fill, clientOrderId) : undefined;
  const filled = fill?.quantity ?? 0;
  let status: OrderStatus;
  switch (o.state) {
    case 'PENDING':
    case 'TRIGGERED':
      status = { status: 'submitted' };
      break;
    case 'FILLED':
      status = { status: 'filled' };
      break;
    case 'CANCELLED':
      if (
        known &&
        (known.status.status === 'rejected' || known.status.status === 'expired' || known.status.status === 'cancelled')
      )
        status = known.status;
      else status = cancelledStatus(details.cancel?.reason, o.timeInForce, false, filled);
      break;
  }
  const times = [
    o.createTime,
    o.filledTime ?? 0,
    o.cancelledTime ?? 0,
    fill?.timestamp ?? 0,
    details.cancel?.time ?? 0,
  ];
  return {
    order_id: o.id,
    client_order_id: clientOrderId,
    symbol: o.instrument,
    side: o.units < 0 ? 'sell' : 'buy',
    order_type: orderType,
    time_in_force: tif,
    quantity,
    status,
    filled_price: fill?.price ?? null,
    filled_quantity: fill ? filled : o.state === 'FILLED' ? quantity : null,
    commission: fill?.commission ?? null,
    timestamp: Math.max(...times),
    created_at: o.createTime,
    fills: fill ? [fill] : [],
  };
}

// --- pricing, account, positions -----------------------------------------------------------

const PriceBucketSchema = z.looseObject({ price: decimal, liquidity: z.number().nonnegative().optional() });
const V20PriceSchema = z.looseObject({
  instrument: z.string(),
  time,
  tradeable: z.boolean().optional(),
  bids: z.array(PriceBucketSchema),
  asks: z.array(PriceBucketSchema),
  closeoutBid: decimal.optional(),
  closeoutAsk: decimal.optional(),
});
export type V20Price = z.output<typeof V20PriceSchema>;
const PricingReplySchema = z.object({ prices: z.array(V20PriceSchema) });

export function parsePrices(raw: unknown): V20Price[] {
  return validate(PricingReplySchema, raw, 'prices').prices;
}

/** The mid, without float noise. */
const midOf = (bid: number, ask: number): number => Number(((bid + ask) / 2).toFixed(10));

/** A v20 price as our Quote; `last` is the mid (OANDA quotes, it does not print trades). */
export function quoteFromV20(p: V20Price): Quote {
  const bid = p.bids[0]?.price ?? p.closeoutBid;
  const ask = p.asks[0]?.price ?? p.closeoutAsk;
  if (bid === undefined || ask === undefined || bid <= 0 || ask <= 0)
    throw new BrokerError(
      'VENUE_UNAVAILABLE',
      `OANDA has no price for ${p.instrument} right now${p.tradeable === false ? ' (not tradeable: market closed?)' : ''}`,
    );
  return {
    symbol: p.instrument,
    bid,
    ask,
    last: midOf(bid, ask),
    bid_size: p.bids[0]?.liquidity ?? 0,
    ask_size: p.asks[0]?.liquidity ?? 0,
    timestamp: p.time,
  };
}

export const midOfPrice = (p: V20Price): number | undefined => {
  const bid = p.bids[0]?.price ?? p.closeoutBid;
  const ask = p.asks[0]?.price ?? p.closeoutAsk;
  return bid === undefined || ask === undefined ? undefined : midOf(bid, ask);
};

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

// --- errors --------------------------------------------------------------------------------

const CODE_TABLE: ReadonlyArray<[RegExp, BrokerErrorReason, boolean]> = [
  [/^CLIENT_ORDER_ID_ALREADY_EXISTS$/, 'DUPLICATE_CLIENT_ORDER_ID', false],
  [/^(INSUFFICIENT_MARGIN|INSUFFICIENT_FUNDS|MARGIN_.*|.*_MARGIN_.*)$/, 'INSUFFICIENT_FUNDS', false],
  [/^(INSTRUMENT_.*|INVALID_INSTRUMENT|.*_INSTRUMENT_NOT_TRADEABLE)$/, 'UNKNOWN_SYMBOL', false],
  [/^(ORDER_DOESNT_EXIST|ORDER_ID_INVALID|ORDER_ID_UNSPECIFIED|NO_SUCH_ORDER)$/, 'ORDER_NOT_FOUND', false],
  [/^ACCOUNT_(NOT_ACTIVE|LOCKED|.*_LOCKED)$/, 'PERMISSION_DENIED', false],
  [/^(MARKET_HALTED|INTERNAL_SERVER_ERROR)$/, 'VENUE_UNAVAILABLE', true],
];

/** An errorCode or rejectReason as our reason; anything unlisted is INVALID_ORDER (the request itself was wrong). */
export function classifyV20Code(code: string | undefined): { reason: BrokerErrorReason; retryable: boolean } {
  if (code !== undefined)
    for (const [re, reason, retryable] of CODE_TABLE) if (re.test(code)) return { reason, retryable };
  return { reason: 'INVALID_ORDER', retryable: false };
}

/** Retry-After (seconds or an HTTP date) in ms; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number {
  if (header) {
    const s = Number(header);
    if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return 1000;
}

export interface HttpFailure {
  status: number;
  body: unknown;
  retryAfter?: string | null;
  /** "POST /orders", for the message. */
  route: string;
  /** What a 404 means on this route. */
  notFound: BrokerErrorReason;
  /** What a 400 without errorCode means on this route (e.g. UNKNOWN_SYMBOL for /pricing). */
  badRequest?: BrokerErrorReason;
  /** The request changes state (submit, cancel): any 5xx leaves its outcome unknown. */
  mutating: boolean;
  now: number;
}

/** An HTTP failure as a BrokerError (see the error table). The caller redacts the message. */
export function httpError(f: HttpFailure, redact: (s: string) => string = (s) => s): BrokerError {
  const body = readErrorBody(f.body);
  const code =
    body.orderRejectTransaction?.rejectReason ?? body.orderCancelRejectTransaction?.rejectReason ?? body.errorCode;
  const detail = redact(
    body.errorMessage ?? (typeof f.body === 'string' && f.body.length > 0 ? f.body.slice(0, 200) : 'no message'),
  );
  const head = `OANDA refused ${f.route} (HTTP ${f.status}${code ? ` ${code}` : ''}): ${detail}`;
  const opts = { venueCode: code ?? f.status, cause: f.body };
  if (f.status === 401)
    return new BrokerError(
      'AUTHENTICATION',
      `${head}; check the OANDA token (oanda.token) and that it belongs to this environment (practice or live)`,
      opts,
    );
  if (f.status === 403)
    return new BrokerError(
      'PERMISSION_DENIED',
      `${head}; check the account id (oanda.accountId) and the token's access to it`,
      opts,
    );
  if (f.status === 429)
    return new BrokerError('RATE_LIMITED', head, {
      ...opts,
      retryable: true,
      notActed: true,
      retryAfterMs: retryAfterMs(f.retryAfter, f.now),
    });
  if (f.status >= 500) {
    const unknown = f.mutating;
    const tail = unknown
      ? '; this answer does not say whether OANDA acted: the request may have been carried out, look the order up by client order id, do not resend'
      : '';
    return new BrokerError('VENUE_UNAVAILABLE', `${head}${tail}`, {
      ...opts,
      retryable: !unknown,
      outcomeUnknown: unknown,
    });
  }
  if (f.status === 404) {
    const c = code === undefined ? undefined : classifyV20Code(code);
    return new BrokerError(c && c.reason !== 'INVALID_ORDER' ? c.reason : f.notFound, head, {
      ...opts,
      retryable: false,
    });
  }
  if (f.status === 405) return new BrokerError('INTERNAL', head, { ...opts, retryable: false });
  const c = code === undefined ? { reason: f.badRequest ?? 'INVALID_ORDER', retryable: false } : classifyV20Code(code);
  return new BrokerError(c.reason, head, { ...opts, retryable: c.retryable });
}
