/**
 * OANDA orders, pure: what OANDA accepts (refusals and capabilities, readable without an instance), our order
 * → the v20 order request, and v20 orders and transactions → our orders and fills. The adapter hands each
 * parsed JSON body to these functions, which read it through zod (wire.ts).
 *
 * A little past 450 lines on purpose: the status table below, the fill from a transaction's trades and the
 * request mapping are one concern (what an OANDA order is in our terms); splitting would part the table from
 * the code it describes.
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
 * | filled in part, the rest reissued as a new order (reissue.ts)  | partially_filled, carried on by it    |
 * | filled in part, orderReissueRejectTransaction (no reissue)     | cancelled, REISSUE_REJECTED: reason   |
 */
import { z } from 'zod';
import { isOnStep } from '../../common/decimal';
import {
  rejectedOrderResponse,
  type Fill,
  type OrderResponse,
  type OrderStatus,
  type OrderType,
  type PlacedOrderRequest,
  type TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError } from '../errors';
import { explainRefusal, rejectReasonOf, type V20ErrorBody } from './errors';
import { instrumentRules, pow10, type V20Instrument } from './market';
import { decimal, time, validate } from './wire';

export const STOP_LIMIT_REFUSAL =
  'OANDA has no stop-limit order (a STOP with a priceBound is cancelled when the market gaps past the bound; it never rests as a limit). ' +
  'Send a stop order instead (it fills at the market once triggered), or watch the price yourself and send a limit order when it reaches the stop.';
export const MARKET_TIF_REFUSAL =
  'OANDA executes market orders at once or not at all: use time in force FOK (fill completely or cancel) or IOC (fill what is available, cancel the rest); ' +
  'for an order that waits, send a limit or stop order with GTC or GTD.';

/**
 * OANDA v20 "Order Definitions" → TrailingStopLossOrder: "linked to an open Trade and created with a
 * price distance … A TrailingStopLossOrder cannot be used to open a new Position"; it closes its trade.
 */
export const TRAILING_STOP_REFUSAL =
  "OANDA's trailing stop (TrailingStopLossOrder) belongs to one open trade and closes all of it; it cannot stand alone for a quantity";

/** Why OANDA cannot take this combination, before anything is sent; undefined when it can. */
export function oandaRefusal(orderType: OrderType['type'], timeInForce: TimeInForce['type']): string | undefined {
  if (orderType === 'stop_limit') return STOP_LIMIT_REFUSAL;
  if (orderType === 'trailing_stop') return TRAILING_STOP_REFUSAL;
  if (orderType === 'market' && timeInForce !== 'FOK' && timeInForce !== 'IOC') return MARKET_TIF_REFUSAL;
  return undefined;
}

/** What `OandaBroker` accepts (see its header table); a constant so the broker registry reads it without an instance. */
export const OANDA_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: false, trailing_stop: false },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
  unsupported: [
    { orderType: 'stop_limit', reason: STOP_LIMIT_REFUSAL },
    { orderType: 'trailing_stop', reason: TRAILING_STOP_REFUSAL },
    { orderType: 'market', timeInForce: 'GTC', reason: MARKET_TIF_REFUSAL },
    { orderType: 'market', timeInForce: 'GTD', reason: MARKET_TIF_REFUSAL },
  ],
  // Per instrument: FX trades whole units (tradeUnitsPrecision 0), some CFDs fractions; getInstrument().lotSize says which.
  fractionalQuantity: true,
  shortSelling: true,
  cancelReplace: false,
});

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
  if (t.type === 'trailing_stop')
    throw new BrokerError('UNSUPPORTED_ORDER', TRAILING_STOP_REFUSAL, { retryable: false });
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
  /** "required, default=FOK" on a market order's request; a transaction without it is read with the request's. */
  timeInForce: z.enum(V20_TIFS).optional(),
  gtdTime: time.optional(),
  clientExtensions: ClientExtensionsSchema.optional(),
  reason: z.string().optional(),
  time,
});
export type V20CreateTransaction = z.output<typeof V20CreateTransactionSchema>;

/**
 * A TradeOpen or TradeReduce of a fill: the units of one trade and "the exact/official price" they filled at.
 * The spec requires none of TradeOpen's fields, and OANDA's own example replies (Order Endpoints, Trade
 * Endpoints) show `tradeOpened: {tradeID, units}` and `tradesClosed: [{tradeID, units, realizedPL, financing}]`
 * with no price: such a fill is priced from its own `price` (or fullVWAP), never refused.
 */
const V20TradeEffectSchema = z.looseObject({
  tradeID: z.string().optional(),
  units: decimal,
  price: decimal.optional(),
});

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
    tradeOpened: V20TradeEffectSchema.optional(),
    tradesClosed: z.array(V20TradeEffectSchema).optional(),
    tradeReduced: V20TradeEffectSchema.optional(),
    commission: decimal.optional(),
    reason: z.string().optional(),
    time,
  })
  .refine((f) => tradesPrice(f) !== undefined || f.price !== undefined || f.fullVWAP !== undefined, {
    message: 'an ORDER_FILL needs a price (its trades, price or fullVWAP)',
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
  /** The new order carrying the remaining units after a partial fill (see reissue.ts). */
  orderReissueTransaction: z.looseObject({ id: z.string().min(1) }).optional(),
  /** The reissue of the remaining units was refused: the order ends with its partial fill. */
  orderReissueRejectTransaction: z.looseObject({ rejectReason: z.string().optional() }).optional(),
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
  /** Created as the replacement of this order (a reissue of its remaining units, or a cancel/replace). */
  replacesOrderID: z.string().optional(),
  /** Cancelled for this replacement. */
  replacedByOrderID: z.string().optional(),
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
const LooseOrderListReplySchema = z.object({ orders: z.array(z.unknown()) });
/**
 * An order list read line by line: each order, or (for a line that cannot be read) its id when it has one and
 * why, so one garbled line does not hide the others (the poll follows them; a reconciliation reads strictly).
 */
export function parseOrderListLines(
  raw: unknown,
): Array<{ order: V20Order } | { id: string | undefined; error: BrokerError }> {
  return validate(LooseOrderListReplySchema, raw, 'an order list').orders.map((line) => {
    try {
      return { order: validate(V20OrderSchema, line, 'an order in the list') };
    } catch (e) {
      const id =
        typeof line === 'object' && line !== null && typeof (line as { id?: unknown }).id === 'string'
          ? (line as { id: string }).id
          : undefined;
      return { id, error: e as BrokerError };
    }
  });
}
export function parseFillTransaction(raw: unknown): V20FillTransaction {
  return validate(FillTransactionReplySchema, raw, 'a fill transaction').transaction;
}
export function parseCancelTransaction(raw: unknown): V20CancelTransaction {
  return validate(CancelTransactionReplySchema, raw, 'a cancel transaction').transaction;
}
const TransactionListReplySchema = z.object({ transactions: z.array(z.unknown()) });
/** The ORDER_FILL of order `orderId` in a list of transactions (GET /transactions/idrange), or undefined. */
export function fillOfOrder(raw: unknown, orderId: string): V20FillTransaction | undefined {
  for (const t of validate(TransactionListReplySchema, raw, 'a list of transactions').transactions) {
    const tx = t as { type?: unknown; orderID?: unknown } | null;
    if (typeof tx === 'object' && tx !== null && tx.type === 'ORDER_FILL' && tx.orderID === orderId)
      return validate(V20FillTransactionSchema, t, 'a fill transaction');
  }
  return undefined;
}
export function parseCancelReply(raw: unknown): V20CancelTransaction {
  return validate(CancelReplySchema, raw, 'a cancel reply', true).orderCancelTransaction;
}

interface TradeEffect {
  units: number;
  price?: number | undefined;
}

/**
 * The units-weighted price of the trades a fill opened, closed and reduced, or undefined when it lists none
 * or any of them has no price (a part of the units priced would be a wrong average: the fill's own price is
 * used then). OrderFillTransaction.price "is now deprecated … The individual tradesClosed, tradeReduced and
 * tradeOpened fields contain the exact/official price each unit was filled at" (fullVWAP is what they "should
 * have been filled at, in the absence of guaranteed price execution"), so these prices come first.
 */
function tradesPrice(f: {
  tradeOpened?: TradeEffect | undefined;
  tradesClosed?: TradeEffect[] | undefined;
  tradeReduced?: TradeEffect | undefined;
}): number | undefined {
  const effects = [f.tradeOpened, ...(f.tradesClosed ?? []), f.tradeReduced].filter(
    (t): t is TradeEffect => t !== undefined && t.units !== 0,
  );
  let units = 0;
  let notional = 0;
  for (const t of effects) {
    if (t.price === undefined || !(t.price > 0)) return undefined;
    units += Math.abs(t.units);
    notional += Math.abs(t.units) * t.price;
  }
  return units > 0 ? Number((notional / units).toPrecision(12)) : undefined;
}

/** A fill transaction as our Fill. OANDA charges through the spread, so every fill is a taker fill. */
export function toFill(f: V20FillTransaction, clientOrderId: string): Fill {
  return {
    fill_id: f.id,
    order_id: f.orderID,
    client_order_id: f.clientOrderID ?? clientOrderId,
    symbol: f.instrument,
    side: f.units < 0 ? 'sell' : 'buy',
    price: (tradesPrice(f) ?? f.price ?? f.fullVWAP) as number,
    quantity: Math.abs(f.units),
    commission: f.commission ?? 0,
    liquidity: 'taker',
    timestamp: f.time,
  };
}

const CANCELLED_BY_CLIENT = new Set(['CLIENT_REQUEST', 'CLIENT_REQUEST_REPLACED']);

/**
 * OANDA's own reason for cancelling an order (OrderCancelReason: INSUFFICIENT_MARGIN, BOUNDS_VIOLATION,
 * POSITION_SIZE_EXCEEDED, ACCOUNT_ORDER_FILL_LOCKED, …), or undefined when the client asked for it.
 */
export function venueCancelReason(reason: string | undefined): string | undefined {
  return reason === undefined || CANCELLED_BY_CLIENT.has(reason) ? undefined : reason;
}
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
 * (for IOC/FOK) missing liquidity was refused, so it is `rejected` with OANDA's reason. Any other
 * cancel OANDA made itself is `cancelled` with OANDA's reason; one the client asked for has none.
 */
export function cancelledStatus(
  reason: string | undefined,
  tif: V20TimeInForce | TimeInForce['type'],
  immediate: boolean,
  filled: number,
): OrderStatus {
  const immediateOrDone = tif === 'IOC' || tif === 'FOK';
  if (reason === 'TIME_IN_FORCE_EXPIRED' && !immediateOrDone) return { status: 'expired' };
  const why = venueCancelReason(reason);
  // OANDA's own reason goes with the status: the user reads why, not a bare "cancelled".
  if (why === undefined) return { status: 'cancelled' };
  if (filled > 0 || !immediate || (immediateOrDone && NOT_EXECUTABLE.has(why)))
    return { status: 'cancelled', reason: why };
  return { status: 'rejected', reason: explainRefusal(why) };
}

/** What a successful submit reply says about the order, seen from our request. */
export interface SubmitOutcome {
  order: OrderResponse;
  fill?: Fill;
  /** The id of the new order OANDA reissued the remaining units as (`orderReissueTransaction`). */
  reissuedAs?: string;
}

/** A 200/201 submit reply. A malformed body is BAD_RESPONSE with outcomeUnknown (the order was taken). */
export function parseSubmitReply(raw: unknown, request: PlacedOrderRequest): SubmitOutcome {
  const reply = validate(SubmitReplySchema, raw, 'a reply to an order', true);
  const created = reply.orderCreateTransaction;
  const fillTx = reply.orderFillTransaction;
  const cancelTx = reply.orderCancelTransaction;
  const fill = fillTx ? toFill(fillTx, request.client_order_id) : undefined;
  const filled = fill?.quantity ?? 0;
  const reissue = fill && filled < request.quantity ? reply.orderReissueTransaction : undefined;
  const reissueRefused = fill && filled < request.quantity ? reply.orderReissueRejectTransaction : undefined;
  let status: OrderStatus;
  // The rest goes on as a new order (its cancel of this one is part of the replacement, not the order's end).
  if (reissue) status = { status: 'partially_filled', filled_qty: filled };
  else if (reissueRefused)
    status = { status: 'cancelled', reason: `REISSUE_REJECTED: ${reissueRefused.rejectReason ?? 'no reason given'}` };
  else if (cancelTx)
    status = cancelledStatus(cancelTx.reason, created.timeInForce ?? request.time_in_force.type, true, filled);
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
    ...(reissue ? { reissuedAs: reissue.id } : {}),
  };
}

/**
 * The fill of a FILLED order read from the order alone, when its fill transaction cannot be had: all its units at
 * the order's own price (a LIMIT fills at its price or better; a STOP is its trigger), under the filling
 * transaction's id (the same fill if that transaction is read later); undefined for an order without a price.
 */
export function fillFromOrder(o: V20Order, fillId: string): V20FillTransaction | undefined {
  if (o.state !== 'FILLED' || o.instrument === undefined || o.units === undefined) return undefined;
  if (o.price === undefined || !(o.price > 0)) return undefined;
  return {
    id: fillId,
    type: 'ORDER_FILL',
    orderID: o.id,
    ...(o.clientExtensions?.id === undefined ? {} : { clientOrderID: o.clientExtensions.id }),
    instrument: o.instrument,
    units: o.units,
    price: o.price,
    time: o.filledTime ?? o.createTime,
  };
}

/**
 * The cancel of a CANCELLED order read from the order alone, when its cancel transaction cannot be had: a GTD order
 * cancelled at or after its gtdTime expired (TIME_IN_FORCE_EXPIRED); undefined otherwise (a cancel without reason).
 */
export function cancelFromOrder(o: V20Order, cancelId: string): V20CancelTransaction | undefined {
  const at = o.cancelledTime;
  if (o.state !== 'CANCELLED' || at === undefined || o.timeInForce !== 'GTD' || o.gtdTime === undefined)
    return undefined;
  if (at < o.gtdTime) return undefined;
  return { id: cancelId, type: 'ORDER_CANCEL', orderID: o.id, reason: 'TIME_IN_FORCE_EXPIRED', time: at };
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
  // The client order id we gave it, when we know the order: OANDA lets an order's client extensions be changed after
  // it is placed (PUT /orders/{orderSpecifier}/clientExtensions; ClientExtensions: an MT4-linked account's platform
  // keeps its own there), and the order, and its fill, stay ours.
  const ours = known?.client_order_id;
  const clientOrderId = ours !== undefined && ours !== '' ? ours : (o.clientExtensions?.id ?? '');
  const fillTx = details.fill && ours ? { ...details.fill, clientOrderID: clientOrderId } : details.fill;
  const fill = fillTx ? toFill(fillTx, clientOrderId) : undefined;
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
