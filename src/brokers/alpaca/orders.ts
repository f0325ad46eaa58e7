/**
 * Alpaca orders, pure: what Alpaca accepts (capabilities and refusals, readable without an instance), our
 * order → the body of `POST /v2/orders`, and Alpaca's orders → ours. Nothing here performs I/O or loads the
 * SDK; replies are read through zod (wire.ts).
 *
 * Status table (Alpaca → ours):
 * | Alpaca                                                     | ours                                          |
 * |------------------------------------------------------------|-----------------------------------------------|
 * | pending_new, accepted, accepted_for_bidding, held, suspended | pending                                     |
 * | new, pending_cancel, pending_replace, stopped, done_for_day | submitted (partially_filled once filled_qty > 0) |
 * | partially_filled                                           | partially_filled                              |
 * | filled                                                     | filled                                        |
 * | calculated                                                 | filled when filled_qty = qty, else partially_filled |
 * | canceled                                                   | cancelled                                     |
 * | replaced (`replaced_by`)                                   | cancelled here; the adapter follows a replacement carrying it on |
 * | expired                                                    | expired                                       |
 * | rejected                                                   | rejected (the Order object carries no reason) |
 * | a status not listed here                                   | by its figures: filled when filled_qty = qty, else working (the adapter says so) |
 *
 * Alpaca's list has grown (`accepted_for_bidding`, `held`, `calculated` are its "less common states … most users
 * will likely never see"), and its SDK passes any status through (OrderStatusFromJSON is a cast): a status added after
 * this table is no reason to drop the order's fills, so it is read by what the order says it filled.
 */
import { z } from 'zod';
import { isOnStep } from '../../common/decimal';
import type { OrderResponse, OrderStatus, OrderType, PlacedOrderRequest, TimeInForce } from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError } from '../errors';
import { cryptoPairSymbol, decimal, decimalString, optionalTime, validate } from './wire';

// --- our order → Alpaca -------------------------------------------------------------------

export type AlpacaTimeInForce = 'day' | 'gtc' | 'opg' | 'cls' | 'ioc' | 'fok';
export type AlpacaOrderTypeName = 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';

/** The body of `POST /v2/orders`, exactly as it goes over the wire. */
export interface AlpacaOrderRequest {
  symbol: string;
  qty: string;
  side: 'buy' | 'sell';
  type: AlpacaOrderTypeName;
  time_in_force: AlpacaTimeInForce;
  limit_price?: string;
  stop_price?: string;
  /** Trailing stop: a dollar distance from the high (sell) or low (buy) water mark… */
  trail_price?: string;
  /** …or a percent of it (one of the two). */
  trail_percent?: string;
  client_order_id: string;
}

/** Alpaca spells crypto pairs with a slash (BTC/USD); every other symbol is a US equity. */
export const isCryptoSymbol = (symbol: string): boolean => symbol.includes('/');
/** Alpaca's price increment for US equities: $0.01 at or above $1.00, $0.0001 below. */
export function equityTick(price: number): number {
  return price >= 1 ? 0.01 : 0.0001;
}

export const GTD_REASON =
  'Alpaca has no good-till-date orders: send GTC (or DAY from Alpaca itself) and cancel the order at the time you wanted it to expire';
export const IOC_STOP_REASON =
  'Alpaca accepts IOC and FOK only on market and limit orders: use GTC for stop and stop-limit orders';
export const IOC_TRAILING_REASON = 'Alpaca accepts trailing stops only as DAY or GTC orders: use GTC';
export const CRYPTO_TRAILING_REASON =
  'Alpaca takes trailing stops on US equities only (its crypto orders are market, limit and stop-limit)';

/** What `AlpacaBroker` accepts (see its header table); a constant so the broker registry reads it without an instance. */
export const ALPACA_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true, trailing_stop: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: false },
  unsupported: [
    { timeInForce: 'GTD', reason: GTD_REASON },
    { orderType: 'trailing_stop', timeInForce: 'IOC', reason: IOC_TRAILING_REASON },
    { orderType: 'trailing_stop', timeInForce: 'FOK', reason: IOC_TRAILING_REASON },
    { orderType: 'stop', timeInForce: 'IOC', reason: IOC_STOP_REASON },
    { orderType: 'stop', timeInForce: 'FOK', reason: IOC_STOP_REASON },
    { orderType: 'stop_limit', timeInForce: 'IOC', reason: IOC_STOP_REASON },
    { orderType: 'stop_limit', timeInForce: 'FOK', reason: IOC_STOP_REASON },
  ],
  // Crypto only: fractional shares need DAY orders, which are refused above.
  fractionalQuantity: true,
  shortSelling: true,
  cancelReplace: false,
  // Alpaca "Orders" → "Trailing Stop Orders": trail_price (a dollar offset) or trail_percent from the
  // high water mark; a single order only, on equities.
  trailingStop: { byOffset: true, byBps: true, notFor: { crypto: CRYPTO_TRAILING_REASON } },
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
  if ((tif === 'IOC' || tif === 'FOK') && type === 'trailing_stop') return IOC_TRAILING_REASON;
  const crypto = isCryptoSymbol(order.symbol);
  if (crypto) {
    if (type === 'trailing_stop') return CRYPTO_TRAILING_REASON;
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
    case 'trailing_stop':
      return t.trail_offset === undefined ? [] : [['trail price', t.trail_offset]];
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
    case 'trailing_stop':
      // trail_percent is in percent: 25 bps is "0.25".
      return t.trail_offset !== undefined
        ? { ...base, type: 'trailing_stop', trail_price: decimalString(t.trail_offset) }
        : { ...base, type: 'trailing_stop', trail_percent: decimalString((t.trail_bps ?? 0) / 100) };
  }
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
  /** Any text: a status not in ALPACA_STATUSES is read by the order's figures (`mapAlpacaStatus`). */
  status: z.string().min(1),
  /** Empty (or absent) on a multi-leg order, whose legs carry the symbols (checked in parseOrder). */
  symbol: z.string().nullish(),
  /** us_equity, us_option or crypto: a crypto order named the legacy way (BTCUSD) is read as its pair (BTC/USD). */
  asset_class: z.string().nullish(),
  /** simple, bracket, oco, oto, mleg (or ""). */
  order_class: z.string().nullish(),
  qty: decimal.nullish(),
  filled_qty: decimal,
  filled_avg_price: decimal.nullish(),
  type: z.string().optional(),
  order_type: z.string().optional(),
  /** Absent (or "") on a multi-leg order, whose legs each have one (checked in parseOrder). */
  side: z.enum(['buy', 'sell', '']).nullish(),
  time_in_force: z.enum(['day', 'gtc', 'opg', 'cls', 'ioc', 'fok']),
  limit_price: decimal.nullish(),
  stop_price: decimal.nullish(),
  trail_price: decimal.nullish(),
  trail_percent: decimal.nullish(),
  /** Trailing stop: the high (sell) or low (buy) water mark so far; `stop_price` is then the stop it sets. */
  hwm: decimal.nullish(),
  /** "string (Nullable)" in the Order reference's property table: the earliest other time stands in. */
  created_at: optionalTime,
  updated_at: optionalTime,
  submitted_at: optionalTime,
  filled_at: optionalTime,
  canceled_at: optionalTime,
  expired_at: optionalTime,
  failed_at: optionalTime,
  expires_at: optionalTime,
  /**
   * Alpaca "Replace Order by ID" (PATCH /v2/orders/{order_id}) makes a new order: the old one ends `replaced` with
   * `replaced_by` (the new order's id), the new one names it in `replaces` (Order object: "replaced_by … The order ID
   * that this order was replaced by", "replaces … The order ID that this order replaces").
   */
  replaced_by: z.string().nullish(),
  replaces: z.string().nullish(),
});
export type AlpacaOrder = z.output<typeof AlpacaOrderSchema>;

/** Alpaca's status (and fill progress) as ours; see the table at the top of this file. */
export function mapAlpacaStatus(status: string, filledQty: number, qty: number): OrderStatus {
  const open: OrderStatus =
    filledQty > 0 ? { status: 'partially_filled', filled_qty: filledQty } : { status: 'submitted' };
  switch (status as AlpacaStatus) {
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
    default:
      return filledQty > 0 && filledQty >= qty ? { status: 'filled' } : open;
  }
}

const KNOWN_STATUSES: ReadonlySet<string> = new Set(ALPACA_STATUSES);

/** An Alpaca order SPtrader cannot represent (notional, multi-leg): skipped in lists. */
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
    case 'trailing_stop':
      if (o.trail_price !== null && o.trail_price !== undefined && o.trail_price > 0)
        return { type: 'trailing_stop', trail_offset: o.trail_price };
      return {
        type: 'trailing_stop',
        trail_bps: Number((need(o.trail_percent, 'trail_price or trail_percent') * 100).toFixed(8)),
      };
    case undefined:
      throw new BrokerError('BAD_RESPONSE', 'Alpaca sent an order that SPtrader cannot read: field type: missing');
    default:
      throw new UnrepresentableOrder(`Alpaca order ${o.id} is a ${type} order, which SPtrader does not model`);
  }
}

function timeInForceOf(o: AlpacaOrder, createdAt: number): TimeInForce {
  switch (o.time_in_force) {
    case 'gtc':
      return { type: 'GTC' };
    case 'ioc':
      return { type: 'IOC' };
    case 'fok':
      return { type: 'FOK' };
    default:
      // day/opg/cls (orders placed outside SPtrader) end at a time Alpaca states in expires_at.
      return { type: 'GTD', expires_at: o.expires_at ?? createdAt + 24 * 3600_000 };
  }
}

/**
 * An Alpaca order as our OrderResponse (one view of it). Alpaca reports only cumulative `filled_qty`
 * and `filled_avg_price` and lists no fills, so `fills` is empty: the order tracker
 * (`../orderTracker.ts`) synthesises them from the change in those figures between views.
 */
export function parseOrder(raw: unknown, now: number = Date.now()): OrderResponse {
  return parseOrderWithLinks(raw, now).view;
}

/** An order as ours (`parseOrder`) with its replace links: the order that replaced it, the order it replaces. */
export interface LinkedOrder {
  view: OrderResponse;
  /** Set when the order ended `replaced` by this one (its `replaced_by`). */
  replacedBy?: string;
  /** The order this one replaces (its `replaces`). */
  replaces?: string;
  /** A status Alpaca sent that the status table does not know (the view is read by its figures). */
  unknownStatus?: string;
}

export function parseOrderWithLinks(raw: unknown, now: number = Date.now()): LinkedOrder {
  const o = validate(AlpacaOrderSchema, raw, 'an order');
  const view = viewOf(o, now);
  return {
    view,
    ...(o.status === 'replaced' && o.replaced_by ? { replacedBy: o.replaced_by } : {}),
    ...(o.replaces ? { replaces: o.replaces } : {}),
    ...(KNOWN_STATUSES.has(o.status) ? {} : { unknownStatus: o.status }),
  };
}

function viewOf(o: AlpacaOrder, now: number): OrderResponse {
  // "Multi-leg options orders" (order_class mleg): one order over several option legs, each with its own symbol,
  // side and ratio_qty; the order itself has no symbol or side (the SDK's Order model: `symbol?`, `side?`).
  if (o.order_class === 'mleg')
    throw new UnrepresentableOrder(
      `Alpaca order ${o.id} is a multi-leg (mleg) options order, which SPtrader does not model`,
    );
  if (!o.symbol)
    throw new BrokerError('BAD_RESPONSE', `Alpaca sent order ${o.id} that SPtrader cannot read: field symbol: missing`);
  if (!o.side)
    throw new BrokerError('BAD_RESPONSE', `Alpaca sent order ${o.id} that SPtrader cannot read: field side: missing`);
  const symbol = cryptoPairSymbol(o.symbol, o.asset_class);
  const side = o.side;
  if (o.qty === null || o.qty === undefined)
    throw new UnrepresentableOrder(
      `Alpaca order ${o.id} is a notional (dollar amount) order, which SPtrader does not model`,
    );
  const times = [o.updated_at, o.filled_at, o.canceled_at, o.expired_at, o.failed_at, o.submitted_at].filter(
    (t): t is number => typeof t === 'number',
  );
  const createdAt = o.created_at ?? (times.length > 0 ? Math.min(...times) : now);
  const orderType = orderTypeOf(o);
  const timeInForce = timeInForceOf(o, createdAt);
  const filled = o.filled_qty;
  const avg = o.filled_avg_price ?? null;
  if (filled > 0 && (avg === null || !(avg > 0)))
    throw new BrokerError(
      'BAD_RESPONSE',
      `Alpaca sent order ${o.id} with filled_qty ${filled} but no filled_avg_price`,
    );
  const timestamp = Math.max(createdAt, ...times);
  return {
    order_id: o.id,
    client_order_id: o.client_order_id,
    symbol,
    side,
    order_type: orderType,
    time_in_force: timeInForce,
    quantity: o.qty,
    status: mapAlpacaStatus(o.status, filled, o.qty),
    filled_price: filled > 0 ? avg : null,
    filled_quantity: filled > 0 ? filled : null,
    commission: filled > 0 ? 0 : null,
    timestamp,
    created_at: createdAt,
    fills: [],
  };
}
