/**
 * The life of one order as the engine sees it: a transition table and a pure `applyEvent`.
 *
 *   PENDING_SUBMIT ─Denied──────────────────────────────────────────────▶ DENIED
 *        │ Sent
 *        ▼
 *   SUBMITTED ──Unconfirmed──▶ UNCONFIRMED  (timeout / lost connection after sending:
 *        │                          │         reconciled by client order id, never resent)
 *        │ Accepted                 │ Accepted / Fill / Rejected / Cancelled / Expired
 *        ▼                          ▼
 *   ACCEPTED ──Fill──▶ PARTIALLY_FILLED ──Fill (complete)──▶ FILLED
 *        │ CancelRequested        │ CancelRequested
 *        ▼                        ▼
 *   PENDING_CANCEL ──Cancelled──▶ CANCELLED     CancelRejected: back to where it was (ACCEPTED for one sent,
 *                                                unless the venue never answered for it: UNCONFIRMED)
 *   PARTIALLY_FILLED / PENDING_CANCEL with fills ──Rejected──▶ CANCELLED (partly filled, then ended; fills kept)
 *        └──Fill──▶ stays PENDING_CANCEL (a fill racing the cancel is real), or FILLED when complete
 *
 * On purpose:
 * - A fill whose `fill_id` was already applied is ignored (venues and reconnects repeat them).
 * - A fill at a price of zero or below (or not a number) is refused (INVALID_FILL), as is one past the
 *   order's quantity (OVERFILL): the venue is wrong, and the engine says so rather than count it.
 * - A fill that arrives after the venue said CANCELLED or EXPIRED (messages crossing) is applied:
 *   the money moved. The order keeps its final state for the remainder, or becomes FILLED if the
 *   fill completes it.
 * - A fill or a final status may arrive before the acknowledgement: acceptance is implied.
 * - Repeating the final status an order already has (two "cancelled" messages) changes nothing, nor does a cancelled
 *   order heard of as expired or an expired one as cancelled: one end in two words (IB's "Cancelled" of a GTD order
 *   reads as expired once its time has passed, src/brokers/ib/orders.ts), not a venue contradicting itself.
 * - Everything else is refused with an `OrderTransitionError`; the order is left as it was.
 *
 * Past 450 lines on purpose: the table, the `applyEvent` that is the table's only reader and the record's
 * projections (filled, average price, the venue-neutral status) change together; split, each would import the
 * record's private money fields back.
 */
import {
  FINAL_STATUSES,
  type Fill,
  type OrderResponse,
  type OrderStatus,
  type OrderStatusName,
  type PlacedOrderRequest,
} from '../orders/model';
import { fromMoney, toMoney } from '../common/decimal';

export type OrderState =
  | 'PENDING_SUBMIT'
  | 'SUBMITTED'
  | 'UNCONFIRMED'
  | 'ACCEPTED'
  | 'PARTIALLY_FILLED'
  | 'PENDING_CANCEL'
  | 'FILLED'
  | 'CANCELLED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'DENIED';

/**
 * The engine's states beside the venue's status names (`OrderStatus` in src/orders/model.ts): one
 * table, read both ways. A state is final exactly when its venue status is; a venue's status reads as
 * the state marked `reads` in its row.
 */
const STATE_TABLE: ReadonlyArray<{
  readonly state: OrderState;
  readonly status: OrderStatusName;
  readonly reads?: true;
}> = [
  { state: 'PENDING_SUBMIT', status: 'pending', reads: true },
  { state: 'SUBMITTED', status: 'submitted' },
  { state: 'UNCONFIRMED', status: 'submitted' },
  { state: 'ACCEPTED', status: 'submitted', reads: true },
  { state: 'PARTIALLY_FILLED', status: 'partially_filled', reads: true },
  { state: 'PENDING_CANCEL', status: 'submitted' },
  { state: 'FILLED', status: 'filled', reads: true },
  { state: 'CANCELLED', status: 'cancelled', reads: true },
  { state: 'REJECTED', status: 'rejected', reads: true },
  { state: 'EXPIRED', status: 'expired', reads: true },
  { state: 'DENIED', status: 'rejected' },
];

export const ORDER_STATES: readonly OrderState[] = STATE_TABLE.map((r) => r.state);

const STATUS_OF = new Map<OrderState, OrderStatusName>(STATE_TABLE.map((r) => [r.state, r.status]));
const STATE_OF = new Map<OrderStatusName, OrderState>(
  STATE_TABLE.filter((r) => r.reads).map((r) => [r.status, r.state]),
);

/** The venue's name for an order in this state. */
export const venueStatusOf = (s: OrderState): OrderStatusName => STATUS_OF.get(s) as OrderStatusName;
/** The state a venue's status reads as (what an order the engine did not follow is taken to be in). */
export const stateOfVenueStatus = (s: OrderStatusName): OrderState => STATE_OF.get(s) as OrderState;

export const FINAL_ORDER_STATES: ReadonlySet<OrderState> = new Set(
  ORDER_STATES.filter((s) => FINAL_STATUSES.has(venueStatusOf(s))),
);
export const isFinalState = (s: OrderState): boolean => FINAL_ORDER_STATES.has(s);

export type OrderEvent =
  | { readonly type: 'Sent'; readonly at: number }
  | { readonly type: 'Denied'; readonly at: number; readonly code: string; readonly reason: string }
  | { readonly type: 'Unconfirmed'; readonly at: number; readonly reason: string }
  | { readonly type: 'Accepted'; readonly at: number; readonly venueOrderId: string }
  | { readonly type: 'Fill'; readonly at: number; readonly fill: Fill }
  | { readonly type: 'CancelRequested'; readonly at: number }
  | { readonly type: 'CancelRejected'; readonly at: number; readonly reason: string }
  /** `reason`: the venue's own, when the venue cancelled the order itself (margin, a halt, an IOC's rest). */
  | { readonly type: 'Cancelled'; readonly at: number; readonly venueOrderId?: string; readonly reason?: string }
  | { readonly type: 'Rejected'; readonly at: number; readonly reason: string; readonly venueOrderId?: string }
  | { readonly type: 'Expired'; readonly at: number; readonly venueOrderId?: string };

export type OrderEventType = OrderEvent['type'];

export interface OrderRecord {
  readonly clientOrderId: string;
  readonly commandId: string;
  /** The broker profile the order goes to. */
  readonly venue: string;
  readonly request: PlacedOrderRequest;
  readonly state: OrderState;
  /** For PENDING_CANCEL: the state to return to when the cancel is refused. */
  readonly stateBeforeCancel?: OrderState;
  readonly venueOrderId?: string;
  /** Exact sum of fill quantities, in 10^-10 units. */
  readonly filledUnits: bigint;
  /** Exact sum of price × quantity over fills, in 10^-20 units (for the average price). */
  readonly notionalUnits: bigint;
  readonly commission: number;
  readonly fills: readonly Fill[];
  readonly reason?: string;
  readonly denialCode?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type TransitionErrorCode = 'ILLEGAL_TRANSITION' | 'OVERFILL' | 'FILL_MISMATCH' | 'INVALID_FILL';

export class OrderTransitionError extends Error {
  override readonly name = 'OrderTransitionError';
  constructor(
    readonly code: TransitionErrorCode,
    readonly from: OrderState,
    readonly event: OrderEventType,
    message: string,
  ) {
    super(message);
  }
}

/** Where an event takes an order; `fill` means "decided by the fill quantity", `same` means "no change". */
type Target = OrderState | 'fill' | 'same' | 'back';

/** The transition table. A missing entry is an illegal transition. */
export const TRANSITIONS: Readonly<Record<OrderState, Partial<Record<OrderEventType, Target>>>> = {
  PENDING_SUBMIT: { Sent: 'SUBMITTED', Denied: 'DENIED' },
  SUBMITTED: {
    Accepted: 'ACCEPTED',
    Unconfirmed: 'UNCONFIRMED',
    Fill: 'fill',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  UNCONFIRMED: {
    Accepted: 'ACCEPTED',
    Unconfirmed: 'same',
    Fill: 'fill',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  ACCEPTED: {
    Accepted: 'same',
    Unconfirmed: 'same',
    Fill: 'fill',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  PARTIALLY_FILLED: {
    Accepted: 'same',
    Unconfirmed: 'same',
    Fill: 'fill',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    // The venue ended the rest of an order that traded: it was partly filled, then ended (the fills stay).
    Rejected: 'CANCELLED',
    Expired: 'EXPIRED',
  },
  PENDING_CANCEL: {
    Accepted: 'same',
    Unconfirmed: 'same',
    Fill: 'fill',
    CancelRequested: 'same',
    CancelRejected: 'back',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  FILLED: { Accepted: 'same', Fill: 'fill', CancelRejected: 'same' },
  CANCELLED: { Cancelled: 'same', Expired: 'same', Fill: 'fill', CancelRequested: 'same', CancelRejected: 'same' },
  EXPIRED: { Expired: 'same', Cancelled: 'same', Fill: 'fill', CancelRequested: 'same', CancelRejected: 'same' },
  REJECTED: { Rejected: 'same' },
  DENIED: { Denied: 'same' },
};

export function newOrderRecord(input: {
  clientOrderId: string;
  commandId: string;
  venue: string;
  request: PlacedOrderRequest;
  at: number;
}): OrderRecord {
  return {
    clientOrderId: input.clientOrderId,
    commandId: input.commandId,
    venue: input.venue,
    request: input.request,
    state: 'PENDING_SUBMIT',
    filledUnits: 0n,
    notionalUnits: 0n,
    commission: 0,
    fills: [],
    createdAt: input.at,
    updatedAt: input.at,
  };
}

export interface Applied {
  readonly order: OrderRecord;
  /** False when the event changed nothing (a repeated fill, a repeated final status). */
  readonly changed: boolean;
}

/** Applies one event to an order. Pure: returns a new record, never touches the old one. Throws `OrderTransitionError`. */
export function applyEvent(order: OrderRecord, event: OrderEvent): Applied {
  const target = TRANSITIONS[order.state][event.type];
  if (target === undefined) {
    throw new OrderTransitionError(
      'ILLEGAL_TRANSITION',
      order.state,
      event.type,
      `order ${order.clientOrderId}: ${event.type} is not possible in state ${order.state}`,
    );
  }
  if (target === 'same') {
    // The venue's id is kept when its acknowledgement arrives, even one that changes nothing else (while a
    // cancel is pending): without the id the order could not be cancelled at the venue.
    const venueOrderId = event.type === 'Accepted' ? event.venueOrderId : undefined;
    return venueOrderId !== undefined && order.venueOrderId === undefined
      ? { order: changed(order, { venueOrderId, updatedAt: event.at }), changed: true }
      : { order, changed: false };
  }

  switch (event.type) {
    case 'Fill':
      return applyFill(order, event.fill, event.at);
    case 'Denied':
      return {
        order: changed(order, { state: 'DENIED', reason: event.reason, denialCode: event.code, updatedAt: event.at }),
        changed: true,
      };
    case 'Rejected': {
      const { stateBeforeCancel: _dropped, ...rest } = order;
      // An order that traded was not refused: it was partly filled and then ended, which CANCELLED (with its
      // fills) says; REJECTED would say nothing was done. The venue's reason is kept.
      const traded = order.filledUnits > 0n;
      const reason = traded
        ? `the venue rejected the rest after ${fromMoney(order.filledUnits)} of ${order.request.quantity} filled: ${event.reason}`
        : event.reason;
      return {
        order: withVenueId(
          changed(rest, { state: traded ? 'CANCELLED' : 'REJECTED', reason, updatedAt: event.at }),
          event.venueOrderId,
        ),
        changed: true,
      };
    }
    case 'Accepted':
      return {
        order:
          order.venueOrderId === undefined && event.venueOrderId !== undefined
            ? changed(order, { state: 'ACCEPTED', updatedAt: event.at, venueOrderId: event.venueOrderId })
            : { ...order, state: 'ACCEPTED', updatedAt: event.at },
        changed: true,
      };
    case 'Unconfirmed':
      return {
        order: changed(order, { state: 'UNCONFIRMED', reason: event.reason, updatedAt: event.at }),
        changed: true,
      };
    case 'CancelRequested':
      return {
        order: changed(order, { state: 'PENDING_CANCEL', stateBeforeCancel: order.state, updatedAt: event.at }),
        changed: true,
      };
    case 'CancelRejected': {
      const back = order.stateBeforeCancel ?? (order.filledUnits > 0n ? 'PARTIALLY_FILLED' : 'ACCEPTED');
      // A cancel the venue refused is never a step back to "submitted" or "unconfirmed" (the venue answered), and
      // an order that traded while the cancel was pending is partially filled, whatever it was before. One without
      // the venue's id was never sent to the venue to cancel (the engine found no record of it there yet): it is
      // as unconfirmed as before; called ACCEPTED, it was never concluded absent, and stayed working for good.
      const state: OrderState =
        order.filledUnits > 0n
          ? 'PARTIALLY_FILLED'
          : back === 'SUBMITTED' || back === 'UNCONFIRMED'
            ? order.venueOrderId === undefined
              ? 'UNCONFIRMED'
              : 'ACCEPTED'
            : back;
      const { stateBeforeCancel: _dropped, ...rest } = order;
      return { order: changed(rest, { state, reason: event.reason, updatedAt: event.at }), changed: true };
    }
    case 'Cancelled':
    case 'Expired': {
      const state: OrderState = event.type === 'Cancelled' ? 'CANCELLED' : 'EXPIRED';
      const { stateBeforeCancel: _dropped, ...rest } = order;
      let ended: OrderRecord;
      if (event.type === 'Expired') ended = changed(rest, { state, updatedAt: event.at });
      else {
        // The venue's reason, or none: a reason from before (a refused cancel, a look-up) does not explain the end.
        const { reason: _before, ...kept } = rest;
        ended =
          event.reason === undefined
            ? changed(kept, { state, updatedAt: event.at })
            : changed(kept, { state, reason: event.reason, updatedAt: event.at });
      }
      return { order: withVenueId(ended, event.venueOrderId), changed: true };
    }
    case 'Sent':
      return { order: { ...order, state: 'SUBMITTED', updatedAt: event.at }, changed: true };
  }
}

/**
 * A copy of the record with `fields` set. Object.assign, not a spread: in Node 20 a spread that adds a key
 * the record does not have yet ({...order, reason}) takes ~1.5 µs, Object.assign ~0.2 µs (a spread of keys
 * it has is faster still, and is used where that is certain).
 */
function changed(
  order: Omit<OrderRecord, 'stateBeforeCancel'> & { stateBeforeCancel?: OrderState },
  fields: Partial<OrderRecord>,
): OrderRecord {
  return Object.assign({}, order, fields);
}

function withVenueId(order: OrderRecord, venueOrderId: string | undefined): OrderRecord {
  if (venueOrderId === undefined || order.venueOrderId !== undefined) return order;
  // The record was made just now by the caller: set the id on it rather than copy it again.
  (order as { venueOrderId?: string }).venueOrderId = venueOrderId;
  return order;
}

function applyFill(order: OrderRecord, fill: Fill, at: number): Applied {
  for (const f of order.fills) if (f.fill_id === fill.fill_id) return { order, changed: false };
  if (
    fill.client_order_id !== order.clientOrderId ||
    fill.symbol !== order.request.symbol ||
    fill.side !== order.request.side
  ) {
    throw new OrderTransitionError(
      'FILL_MISMATCH',
      order.state,
      'Fill',
      `fill ${fill.fill_id} (${fill.side} ${fill.symbol}, client id ${fill.client_order_id}) does not belong to order ${order.clientOrderId} (${order.request.side} ${order.request.symbol})`,
    );
  }
  if (!(Number.isFinite(fill.price) && fill.price > 0) || !Number.isFinite(fill.quantity)) {
    // No venue trades at nothing or below it: counting it would move the position at a price that is not one.
    throw new OrderTransitionError(
      'INVALID_FILL',
      order.state,
      'Fill',
      `fill ${fill.fill_id} of ${fill.quantity} for order ${order.clientOrderId} has price ${fill.price}; a fill's price must be above zero and its quantity a number`,
    );
  }
  const qty = toMoney(fill.quantity);
  const total = toMoney(order.request.quantity);
  const filledUnits = order.filledUnits + qty;
  if (qty <= 0n || filledUnits > total) {
    throw new OrderTransitionError(
      'OVERFILL',
      order.state,
      'Fill',
      `fill ${fill.fill_id} of ${fill.quantity} would take order ${order.clientOrderId} to ${fromMoney(filledUnits)} of ${order.request.quantity}`,
    );
  }
  const complete = filledUnits === total;
  let state: OrderState;
  if (complete) state = 'FILLED';
  else if (order.state === 'CANCELLED' || order.state === 'EXPIRED' || order.state === 'PENDING_CANCEL')
    state = order.state;
  else state = 'PARTIALLY_FILLED';
  const notionalUnits = order.notionalUnits + qty * toMoney(fill.price);
  const commission = roundCommission(order.commission + fill.commission);
  const fills = [...order.fills, fill];
  // Every key is the record's own unless the venue's id comes with this fill (see `changed`).
  const next: OrderRecord =
    order.venueOrderId === undefined
      ? changed(order, {
          state,
          filledUnits,
          notionalUnits,
          commission,
          fills,
          venueOrderId: fill.order_id,
          updatedAt: at,
        })
      : { ...order, state, filledUnits, notionalUnits, commission, fills, updatedAt: at };
  if (complete && 'stateBeforeCancel' in next) {
    const { stateBeforeCancel: _dropped, ...rest } = next;
    return { order: rest, changed: true };
  }
  return { order: next, changed: true };
}

const roundCommission = (n: number): number => Math.round(n * 1e10) / 1e10;

/** Quantity filled so far, as a number. */
export const filledQuantity = (o: OrderRecord): number => fromMoney(o.filledUnits);
/** Quantity the venue may still fill. */
export function remainingQuantity(o: OrderRecord): number {
  return isFinalState(o.state) ? 0 : fromMoney(toMoney(o.request.quantity) - o.filledUnits);
}
/** Volume-weighted average fill price, or null before the first fill. */
export function averagePrice(o: OrderRecord): number | null {
  if (o.filledUnits === 0n) return null;
  // notional is in 10^-20 units; dividing by filled (10^-10) leaves 10^-10 units.
  return fromMoney((o.notionalUnits + o.filledUnits / 2n) / o.filledUnits);
}

/** The record in the venue-neutral `OrderResponse` shape the CLI's JSON and the result panel show. */
export function orderResponseOf(o: OrderRecord): OrderResponse {
  const name = venueStatusOf(o.state);
  // A working order that has traded is partially filled in the venue's words, whatever the engine awaits.
  const status: OrderStatus =
    name === 'rejected'
      ? { status: 'rejected', reason: o.reason ?? o.state.toLowerCase() }
      : name === 'cancelled' && o.state === 'CANCELLED' && o.reason !== undefined
        ? { status: 'cancelled', reason: o.reason }
        : name === 'partially_filled' || (name === 'submitted' && o.filledUnits > 0n)
          ? { status: 'partially_filled', filled_qty: fromMoney(o.filledUnits) }
          : { status: name };
  return {
    order_id: o.venueOrderId ?? '',
    client_order_id: o.clientOrderId,
    symbol: o.request.symbol,
    side: o.request.side,
    order_type: o.request.order_type,
    time_in_force: o.request.time_in_force,
    quantity: o.request.quantity,
    status,
    filled_price: averagePrice(o),
    filled_quantity: o.filledUnits > 0n ? fromMoney(o.filledUnits) : null,
    commission: o.fills.length > 0 ? o.commission : null,
    timestamp: o.updatedAt,
    created_at: o.createdAt,
    fills: [...o.fills],
  };
}
