/**
 * IB orders, pure: what IB accepts, our order ↔ the TWS API's `Order` (a structural copy of `@stoqey/ib`'s,
 * no SDK at run time), GTD dates, and IB's cumulative status reports → our status, response and fills.
 *
 * Statuses (IB → ours): `ApiPending`, `PendingSubmit` → pending; `PreSubmitted`, `Submitted`,
 * `PendingCancel` → submitted (partially_filled once `filled > 0`, filled once `filled` is the order's whole
 * quantity: TWS does not always send `Filled` for a market order that executed); `Filled` → filled; `Cancelled`,
 * `ApiCancelled` → cancelled, or expired for a GTD order cancelled at/after its expiry (IB has no
 * distinct expiry status); `Inactive` → rejected with the last error's text.
 */
import {
  type Fill,
  type OrderRequest,
  type OrderResponse,
  type OrderStatus,
  type OrderType,
  type PlacedOrderRequest,
  type TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError } from '../errors';
import { synthesisedFillId } from '../orderTracker';
import { symbolOf, type IbContract, type InstrumentKind } from './market';

const IB_CRYPTO_TRAILING_REASON = 'IB takes no trailing stop on crypto (PAXOS orders are market, limit and stop-limit)';

/** What `IbBroker` accepts: every type × TIF (see its header); a constant so the broker registry reads it without an instance. */
export const IB_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true, trailing_stop: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
  fractionalQuantity: false,
  shortSelling: true,
  cancelReplace: false,
  // TWS API "Order Types" → Trailing Stop: orderType TRAIL with the trailing amount in auxPrice or a
  // percentage in trailingPercent (one or the other). IB's crypto (PAXOS) orders are market, limit and
  // stop-limit only.
  trailingStop: {
    byOffset: true,
    byBps: true,
    notFor: { crypto: IB_CRYPTO_TRAILING_REASON },
  },
});
/** The fields of `@stoqey/ib`'s `Order` we use. */
export interface IbOrder {
  orderId?: number;
  action?: string;
  totalQuantity?: number;
  orderType?: string;
  lmtPrice?: number;
  auxPrice?: number;
  /** TRAIL: the trail as a percentage, instead of an amount in auxPrice. */
  trailingPercent?: number;
  tif?: string;
  goodTillDate?: string;
  orderRef?: string;
  /** IB's permanent id, as TWS reports it (openOrder, completedOrder); never sent. */
  permId?: number;
  transmit?: boolean;
  outsideRth?: boolean;
}

export type IbStatus =
  | 'ApiPending'
  | 'PendingSubmit'
  | 'PreSubmitted'
  | 'Submitted'
  | 'PendingCancel'
  | 'Filled'
  | 'Cancelled'
  | 'ApiCancelled'
  | 'Inactive'
  | 'Unknown';

export const IB_STATUSES: ReadonlySet<string> = new Set<IbStatus>([
  'ApiPending',
  'PendingSubmit',
  'PreSubmitted',
  'Submitted',
  'PendingCancel',
  'Filled',
  'Cancelled',
  'ApiCancelled',
  'Inactive',
  'Unknown',
]);
/** Milliseconds since the epoch → IB's `goodTillDate`, "yyyyMMdd HH:mm:ss UTC". */
export function formatGoodTillDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}

/**
 * A date/time as TWS writes it → ms, or undefined. TWS API "Orders", "Changes in the date/time field" (TWS 10.17):
 * "API allows UTC format "yyyymmdd-hh:mm:ss" … Example: 20220930-15:00:00", and "date/time field format with
 * instrument's exchange timezone … and operator's time zone … Example: IBM 20220930-15:00:00 US/Eastern"; the
 * older form is "yyyymmdd hh:mm:ss {zone}" (TWS pads it with two spaces in places). A named zone (US/Eastern,
 * Europe/London, EST5EDT, …) is read with its daylight saving time; no zone is read as UTC; a zone this machine's
 * time zone database does not know, or a date that does not exist (30 February), is undefined. An order TWS
 * reported with its good-till date in its exchange's zone was read as GTC, so its end at that date was a cancel.
 */
export function parseGoodTillDate(text: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:-|\s+)(\d{2}):(\d{2}):(\d{2})(?:\s+(\S+))?$/.exec((text ?? '').trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  const zone = m[7];
  if (zone === undefined || /^(UTC|GMT|Z|Etc\/UTC|Etc\/GMT)$/i.test(zone)) return wall;
  // The instant whose wall clock in `zone` reads `wall`: its offset there, checked again across a DST change.
  const first = zoneOffsetMs(wall, zone);
  if (first === undefined) return undefined;
  const second = zoneOffsetMs(wall - first, zone);
  return second === undefined ? undefined : wall - second;
}

/**
 * A TWS date/time moved `seconds` earlier on its own wall clock, written as it came (its separator and zone kept), or
 * the text as it is when it is not one. ExecutionFilter.time: "Only those executions reported after the specified
 * time will be returned", and an execution's time is to the second: asked from the time of the latest execution
 * seen, another in that same second (made while away) would not be "after" it and was never read. Asking from a
 * little earlier costs only executions already counted (each is known by its execId).
 */
export function earlierTwsTime(text: string, seconds: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})([- ])(\d{2}):(\d{2}):(\d{2})(.*)$/.exec(text);
  if (!m) return text;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[5]), Number(m[6]), Number(m[7])];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s) - seconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}`;
  return `${date}${m[4] ?? ' '}${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}${m[8] ?? ''}`;
}

const zoneClocks = new Map<string, Intl.DateTimeFormat | null>();
/** How far `zone`'s wall clock is ahead of UTC at the instant `ms`, or undefined for a zone Intl does not know. */
function zoneOffsetMs(ms: number, zone: string): number | undefined {
  let clock = zoneClocks.get(zone);
  if (clock === undefined) {
    try {
      clock = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      clock = null;
    }
    if (zoneClocks.size < 64) zoneClocks.set(zone, clock);
  }
  if (clock === null) return undefined;
  const parts: Record<string, number> = {};
  for (const p of clock.formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(ms / 1000) * 1000;
}

/** Our order → IB order fields. Throws INVALID_ORDER for what IB would refuse for this instrument. */
export function orderFor(request: PlacedOrderRequest, kind: InstrumentKind): IbOrder {
  if (kind !== 'crypto' && !Number.isInteger(request.quantity))
    throw new BrokerError(
      'INVALID_ORDER',
      `IB: fractional quantity ${request.quantity} is not accepted through the API for ${kind === 'fx' ? 'FX' : 'stocks'}`,
    );
  if (kind === 'crypto' && request.order_type.type === 'trailing_stop')
    throw new BrokerError('UNSUPPORTED_ORDER', IB_CRYPTO_TRAILING_REASON, { retryable: false });
  const order: IbOrder = {
    action: request.side === 'buy' ? 'BUY' : 'SELL',
    totalQuantity: request.quantity,
    orderRef: request.client_order_id,
    transmit: true,
    outsideRth: false,
    ...typeFields(request.order_type),
    tif: request.time_in_force.type,
  };
  if (request.time_in_force.type === 'GTD') order.goodTillDate = formatGoodTillDate(request.time_in_force.expires_at);
  return order;
}

function typeFields(t: OrderType): Pick<IbOrder, 'orderType' | 'lmtPrice' | 'auxPrice' | 'trailingPercent'> {
  switch (t.type) {
    case 'market':
      return { orderType: 'MKT' };
    case 'limit':
      return { orderType: 'LMT', lmtPrice: t.price };
    case 'stop':
      return { orderType: 'STP', auxPrice: t.price };
    case 'stop_limit':
      return { orderType: 'STP LMT', lmtPrice: t.limit_price, auxPrice: t.stop_price };
    case 'trailing_stop':
      return t.trail_offset !== undefined
        ? { orderType: 'TRAIL', auxPrice: t.trail_offset }
        : { orderType: 'TRAIL', trailingPercent: (t.trail_bps ?? 0) / 100 };
  }
}

/** An order reported by `openOrder` → our request (for orders adopted during reconciliation), or undefined when it is not ours to read. */
export function requestFromIb(contract: IbContract, order: IbOrder): PlacedOrderRequest | undefined {
  const side = order.action === 'BUY' ? 'buy' : order.action === 'SELL' ? 'sell' : undefined;
  const quantity = order.totalQuantity;
  if (!side || !order.orderRef || quantity === undefined || !(quantity > 0)) return undefined;
  const price = (n: number | undefined) =>
    n !== undefined && Number.isFinite(n) && n > 0 && n < Number.MAX_VALUE ? n : undefined;
  const lmt = price(order.lmtPrice);
  const aux = price(order.auxPrice);
  let orderType: OrderType;
  if (order.orderType === 'MKT') orderType = { type: 'market' };
  else if (order.orderType === 'LMT' && lmt !== undefined) orderType = { type: 'limit', price: lmt };
  else if (order.orderType === 'STP' && aux !== undefined) orderType = { type: 'stop', price: aux };
  else if (order.orderType === 'STP LMT' && lmt !== undefined && aux !== undefined)
    orderType = { type: 'stop_limit', stop_price: aux, limit_price: lmt };
  else if (order.orderType === 'TRAIL' && aux !== undefined) orderType = { type: 'trailing_stop', trail_offset: aux };
  else if (order.orderType === 'TRAIL' && price(order.trailingPercent) !== undefined)
    orderType = { type: 'trailing_stop', trail_bps: Number(((order.trailingPercent as number) * 100).toFixed(8)) };
  else return undefined;
  let tif: TimeInForce;
  const gtd = parseGoodTillDate(order.goodTillDate);
  if (order.tif === 'GTD' && gtd !== undefined) tif = { type: 'GTD', expires_at: gtd };
  else if (order.tif === 'IOC' || order.tif === 'FOK') tif = { type: order.tif };
  else tif = { type: 'GTC' };
  return {
    symbol: symbolOf(contract),
    side,
    order_type: orderType,
    quantity,
    time_in_force: tif,
    client_order_id: order.orderRef,
    metadata: {},
  };
}

export interface IbStatusReport {
  status: string;
  filled: number | undefined;
  remaining: number | undefined;
  avgFillPrice: number | undefined;
  lastFillPrice?: number | undefined;
}

/** Whether an `orderStatus` event can be trusted: a known status and finite, non-negative numbers. */
export function validStatusReport(r: IbStatusReport): string | undefined {
  if (!IB_STATUSES.has(r.status)) return `unknown order status "${r.status}"`;
  for (const [name, v] of [
    ['filled', r.filled],
    ['remaining', r.remaining],
    ['avgFillPrice', r.avgFillPrice],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) return `${name} is not a number (${String(v)})`;
  }
  return undefined;
}

/** Below this a difference of quantities is float noise (IB sends fractional crypto sizes as doubles). */
const FILLED_EPS = 1e-9;

/** IB status (+ fill counts) → ours. `now` decides whether a cancelled GTD order expired. */
export function statusFromIb(
  status: string,
  filled: number,
  request: OrderRequest,
  now: number,
  rejectReason?: string,
  cancelReason?: string,
): OrderStatus {
  switch (status) {
    case 'ApiPending':
    case 'PendingSubmit':
    case 'Unknown':
      return { status: 'pending' };
    case 'PreSubmitted':
    case 'Submitted':
    case 'PendingCancel':
      // Nothing remaining: filled, whatever the status word. TWS API "Order Management" → orderStatus: "Filled:
      // indicates that the order has been completely filled. Market orders executions will not always trigger a
      // Filled status", and a PendingCancel "may still receive an execution" (the whole rest of the order).
      if (filled > 0 && filled + FILLED_EPS >= request.quantity) return { status: 'filled' };
      return filled > 0 ? { status: 'partially_filled', filled_qty: filled } : { status: 'submitted' };
    case 'Filled':
      return { status: 'filled' };
    case 'Cancelled':
    case 'ApiCancelled': {
      if (request.time_in_force.type === 'GTD' && now >= request.time_in_force.expires_at) return { status: 'expired' };
      // IB's own reason (an order refused once working, 201, then Cancelled; or 202 with a reason) goes with it.
      const reason = cancelReason ?? rejectReason;
      return reason === undefined ? { status: 'cancelled' } : { status: 'cancelled', reason };
    }
    case 'Inactive':
      return { status: 'rejected', reason: rejectReason ?? 'IB marked the order Inactive' };
    default:
      throw new BrokerError('BAD_RESPONSE', `IB sent an unknown order status "${status}"`);
  }
}
/** The registry's view of one order, as our response. */
export interface RegistryView {
  orderId: number;
  request: PlacedOrderRequest;
  ibStatus: string | undefined;
  filled: number;
  avgFillPrice: number | null;
  rejectReason: string | undefined;
  /** Why IB cancelled the order itself (202 with a reason), when it said. */
  cancelReason?: string | undefined;
  /** We asked IB to cancel it: a reason in IB's confirmation is not news. */
  cancelRequested?: boolean;
  /**
   * The order's size at IB when the trader changed it in TWS to less than we placed (`openOrder`'s totalQuantity):
   * TWS API "Modifying Orders" (an order's "price, size, and tif" change, its orderId kept).
   */
  sizeAtIb?: number | undefined;
  fills: Fill[];
  createdAt: number;
  updatedAt: number;
}

/**
 * The status of an order cut down in TWS (`sizeAtIb`) once all of its new size filled: nothing of it works at IB any
 * more, and the rest of what we placed never will. Our order is the size we placed (the engine counts fills against
 * it), so it ends cancelled after its fills, saying so; Filled alone would leave it partly filled and working here.
 */
function cutDownInTws(view: RegistryView, status: OrderStatus): OrderStatus {
  const size = view.sizeAtIb;
  if (size === undefined || !(size < view.request.quantity - FILLED_EPS) || !(view.filled > 0)) return status;
  const done = status.status === 'filled' || (status.status === 'partially_filled' && view.filled + FILLED_EPS >= size);
  if (!done) return status;
  return {
    status: 'cancelled',
    reason: `its size was changed in TWS from ${view.request.quantity} to ${size}, all of which filled; the change took the rest away`,
  };
}

export function responseOf(view: RegistryView, now: number): OrderResponse {
  const r = view.request;
  const status: OrderStatus =
    view.rejectReason !== undefined && (view.ibStatus === undefined || view.ibStatus === 'Inactive')
      ? { status: 'rejected', reason: view.rejectReason }
      : cutDownInTws(
          view,
          statusFromIb(view.ibStatus ?? 'PendingSubmit', view.filled, r, now, view.rejectReason, view.cancelReason),
        );
  return {
    order_id: String(view.orderId),
    client_order_id: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    order_type: r.order_type,
    time_in_force: r.time_in_force,
    quantity: r.quantity,
    status,
    filled_price: view.filled > 0 ? view.avgFillPrice : null,
    filled_quantity: view.filled > 0 ? view.filled : null,
    commission: view.fills.length > 0 ? Number(view.fills.reduce((sum, f) => sum + f.commission, 0).toFixed(10)) : null,
    timestamp: view.updatedAt,
    created_at: view.createdAt,
    fills: view.fills.slice(),
  };
}

/**
 * The fill implied by a status update: IB reports cumulative `filled` and `avgFillPrice`, so a new
 * fill is the increase in `filled`, priced so the running VWAP matches (or at `lastFillPrice`).
 */
export function fillFromStatus(
  view: RegistryView,
  filled: number,
  avgFillPrice: number,
  lastFillPrice: number | undefined,
  now: number,
): Fill | undefined {
  const qty = filled - view.filled;
  if (!(qty > 1e-12)) return undefined;
  const before = view.filled * (view.avgFillPrice ?? 0);
  const implied = (filled * avgFillPrice - before) / qty;
  const price =
    lastFillPrice !== undefined && Number.isFinite(lastFillPrice) && lastFillPrice > 0 ? lastFillPrice : implied;
  return {
    fill_id: synthesisedFillId(String(view.orderId), filled),
    order_id: String(view.orderId),
    client_order_id: view.request.client_order_id,
    symbol: view.request.symbol,
    side: view.request.side,
    price,
    quantity: qty,
    commission: 0,
    liquidity: view.request.order_type.type === 'limit' ? 'maker' : 'taker',
    timestamp: now,
  };
}
