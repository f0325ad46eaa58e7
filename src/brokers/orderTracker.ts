/**
 * The one rule by which a venue's views of an order become `OrderUpdate` events (OANDA, Alpaca and
 * Binance, which can only be polled, and IB, whose status reports are cumulative views too).
 *
 * A view is whatever the venue said about an order at one moment: the reply to a submit, a look-up,
 * a line of an open-order list, a status report. Views repeat, overlap and arrive late; the events
 * they turn into do not:
 * - every new fill is one update with `fill` set, its `order` the order just after that fill
 *   (`partially_filled`, or `filled` once the whole quantity is done);
 * - a fill keeps the venue's id when the venue lists fills (OANDA's ORDER_FILL transaction, Binance's
 *   trade id, IB's cumulative report); otherwise it is synthesised from the cumulative filled quantity
 *   (`synthesisedFillId`: `<order id>:<cumulative quantity after the fill>`, price from the change in
 *   quantity × average price), the same way from a submit reply, a poll or a reconciliation look-up;
 * - a change of state without a fill (pending, submitted, cancelled, expired, rejected) is one update
 *   without `fill`, after the fills the same view brought;
 * - nothing is emitted twice, a state never goes back (a stale view of a cancelled order says
 *   nothing), and no status change follows a final one. A fill that arrives after the order ended (a
 *   venue's late report) is still emitted: a fill is a fact about money.
 * The engine applies these events as they come; comparing snapshots is left to reconciliation.
 *
 * A view no venue could mean (more filled than ordered, a figure that is not a finite number, a fill on the other
 * side of the order) is refused whole, before anything of it is emitted: `observe` throws BAD_RESPONSE with
 * `outcomeUnknown` (the order may exist; look it up again), and the order stays as it was. Never a wrong position.
 */
import { divMoney, fromMoney, mulMoney, toMoney } from '../common/decimal';
import {
  cloneFill,
  isFinalStatus,
  type Fill,
  type OrderResponse,
  type OrderStatus,
  type OrderStatusName,
} from '../orders/model';
import type { OrderUpdate } from './broker';
import { BrokerError } from './errors';

/** Final orders remembered (beyond them the oldest are forgotten); open orders are always kept. */
export const FINAL_ORDERS_KEPT = 5000;

const MONEY_DECIMALS = 10;

/** A quantity written without exponent or float noise ("0.001", "10", "0.0000001"). */
export function plainQuantity(quantity: number): string {
  const units = toMoney(quantity);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(MONEY_DECIMALS + 1, '0');
  const int = digits.slice(0, -MONEY_DECIMALS);
  const frac = digits.slice(-MONEY_DECIMALS).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac.length > 0 ? `.${frac}` : ''}`;
}

/** The id of a fill the venue does not list: the order and its cumulative filled quantity after the fill. */
export const synthesisedFillId = (orderId: string, cumulativeQuantity: number): string =>
  `${orderId}:${plainQuantity(cumulativeQuantity)}`;

/** How far along its life a status puts an order: a view never moves an order back. */
const RANK: Readonly<Record<OrderStatusName, number>> = {
  pending: 0,
  submitted: 1,
  partially_filled: 2,
  filled: 3,
  cancelled: 3,
  expired: 3,
  rejected: 3,
};

const FINAL = 3;
const rankOf = (status: OrderStatusName | undefined): number => (status === undefined ? -1 : RANK[status]);
/** Statuses a view may report without a fill: a fill's own status comes with the fill. */
const STATE_ONLY: ReadonlySet<OrderStatusName> = new Set(['pending', 'submitted', 'cancelled', 'expired', 'rejected']);

interface Tracked {
  /** The last status emitted (none yet for an order first seen with only a fill it cannot price). */
  status: OrderStatusName | undefined;
  /** What the emitted fills add up to, in money units. */
  filled: bigint;
  /** Quantity counted through synthesised fills that no fill the venue listed has matched yet. */
  synthesised: bigint;
  notional: bigint;
  commission: number;
  fills: Fill[];
  fillIds: Set<string>;
  /** Seen working at the venue before a fill (a limit that rested was a maker). */
  rested: boolean;
  /** The last view, with every fill emitted so far. */
  last: OrderResponse;
}

export class OrderTracker {
  private readonly orders = new Map<string, Tracked>();
  private finals = 0;

  constructor(
    private readonly emit: (update: OrderUpdate) => void,
    private readonly finalKept = FINAL_ORDERS_KEPT,
  ) {}

  /**
   * Takes one view of an order, emits what it says that was not said before, and returns the view
   * with every fill known for the order (the caller's answer to a submit or a look-up).
   */
  observe(view: OrderResponse): OrderResponse {
    const implausible = implausibility(view);
    if (implausible !== undefined)
      throw new BrokerError(
        'BAD_RESPONSE',
        `the venue's reply about order ${view.order_id} (client order id ${view.client_order_id}) cannot be right: ` +
          `${implausible}; none of it was applied: look the order up again`,
        { outcomeUnknown: true, retryable: false },
      );
    const known = this.orders.get(view.order_id);
    const t: Tracked = known ?? {
      status: undefined,
      filled: 0n,
      synthesised: 0n,
      notional: 0n,
      commission: 0,
      fills: [],
      fillIds: new Set(),
      rested: false,
      last: view,
    };
    const finalBefore = rankOf(t.status) === FINAL;
    const updates: OrderUpdate[] = [];

    // Fills: the venue's own (new by id) up to what the venue reports filled, then the rest synthesised.
    let target = view.filled_quantity === null ? 0n : toMoney(view.filled_quantity);
    let listedTotal = 0n;
    for (const f of view.fills) listedTotal += toMoney(f.quantity);
    if (listedTotal > target) target = listedTotal;
    // A venue that lists fills lists all of them, though not always oldest first (newest first, or by id):
    // a fill already counted by its id is not new, nor is one whose quantity an earlier view that did not list
    // it counted through a synthesised fill (the oldest such fills, by time, are those).
    const fresh: Fill[] = [];
    const unknown: Array<{ f: Fill; i: number }> = [];
    view.fills.forEach((f, i) => {
      if (f.quantity > 0 && !t.fillIds.has(f.fill_id)) unknown.push({ f, i });
    });
    if (unknown.length > 1) unknown.sort((a, b) => a.f.timestamp - b.f.timestamp || a.i - b.i);
    let cover = t.synthesised;
    for (const { f } of unknown) {
      if (t.fillIds.has(f.fill_id)) continue;
      const q = toMoney(f.quantity);
      if (cover >= q) {
        // Counted already, through the synthesised fill: known by its id from now on.
        cover -= q;
        t.fillIds.add(f.fill_id);
        continue;
      }
      const uncovered = q - cover;
      cover = 0n;
      fresh.push(this.record(t, uncovered < q ? { ...f, quantity: fromMoney(uncovered) } : cloneFill(f)));
    }
    t.synthesised = cover;
    if (target > t.filled && view.filled_price !== null && view.filled_price > 0) {
      const made = this.record(t, this.synthesise(t, view, target));
      t.synthesised += toMoney(made.quantity);
      fresh.push(made);
    }
    const quantity = toMoney(view.quantity);
    let cumulative = t.filled;
    for (let i = fresh.length - 1; i >= 0; i--) {
      const fill = fresh[i] as Fill;
      const done = cumulative >= quantity || (i === fresh.length - 1 && view.status.status === 'filled');
      const status: OrderStatus = done
        ? { status: 'filled' }
        : { status: 'partially_filled', filled_qty: fromMoney(cumulative) };
      // The last fill brings the order to what the view says: its figures are the venue's own.
      const asView =
        i === fresh.length - 1 && view.filled_quantity !== null && toMoney(view.filled_quantity) === cumulative;
      updates.unshift({ order: this.snapshot(view, t, fill, status, asView), fill: cloneFill(fill) });
      cumulative -= toMoney(fill.quantity);
    }
    const lastFill = updates[updates.length - 1];
    // A late fill (after the order ended) does not reopen it.
    if (lastFill && rankOf(lastFill.order.status.status) >= rankOf(t.status)) t.status = lastFill.order.status.status;

    // A change of state without a fill: forward only, so never after a final state.
    const name = view.status.status;
    if (STATE_ONLY.has(name) && rankOf(name) > rankOf(t.status)) {
      t.status = name;
      updates.push({ order: this.snapshot(view, t, undefined, view.status) });
    }
    if (name === 'submitted' || name === 'partially_filled') t.rested = true;

    t.last = { ...view, fills: t.fills.map(cloneFill) };
    this.keep(view.order_id, t, known === undefined, finalBefore);
    for (const u of updates) this.emit(u);
    return { ...view, fills: t.fills.map(cloneFill) };
  }

  /** The last view of an order (with its fills), if it is remembered. */
  last(orderId: string): OrderResponse | undefined {
    return this.orders.get(orderId)?.last;
  }

  /** Stops tracking an order the venue no longer knows (a look-up answered "no such order"). */
  forget(orderId: string): void {
    const t = this.orders.get(orderId);
    if (!t) return;
    this.orders.delete(orderId);
    if (rankOf(t.status) === FINAL) this.finals--;
  }

  /** Ids of the orders last seen working (not final): a poll asks after those that left the open list. */
  openOrderIds(): string[] {
    const out: string[] = [];
    for (const [id, t] of this.orders) if (rankOf(t.status) < FINAL && !isFinalStatus(t.last.status)) out.push(id);
    return out;
  }

  private record(t: Tracked, fill: Fill): Fill {
    const q = toMoney(fill.quantity);
    t.filled += q;
    t.notional += mulMoney(q, toMoney(fill.price));
    t.commission += fill.commission;
    t.fills.push(fill);
    t.fillIds.add(fill.fill_id);
    return fill;
  }

  /** The fill that brings the emitted fills up to `target`, priced so the average matches the venue's. */
  private synthesise(t: Tracked, view: OrderResponse, target: bigint): Fill {
    const qty = target - t.filled;
    const notional = mulMoney(target, toMoney(view.filled_price as number)) - t.notional;
    const derived = notional > 0n ? fromMoney(divMoney(notional, qty)) : 0;
    const price = derived > 0 ? derived : (view.filled_price as number);
    const type = view.order_type.type;
    return {
      fill_id: synthesisedFillId(view.order_id, fromMoney(target)),
      order_id: view.order_id,
      client_order_id: view.client_order_id,
      symbol: view.symbol,
      side: view.side,
      price,
      quantity: fromMoney(qty),
      commission: Math.max(0, Number(((view.commission ?? 0) - t.commission).toFixed(MONEY_DECIMALS))),
      liquidity: t.rested && (type === 'limit' || type === 'stop_limit') ? 'maker' : 'taker',
      timestamp: view.timestamp,
    };
  }

  /** The order as of one event: after `fill` (figures up to it), or as the view says. */
  private snapshot(
    view: OrderResponse,
    t: Tracked,
    fill: Fill | undefined,
    status: OrderStatus,
    asView = fill === undefined,
  ): OrderResponse {
    const upTo = fill === undefined ? t.fills : t.fills.slice(0, t.fills.indexOf(fill) + 1);
    let filled = 0n;
    let notional = 0n;
    let commission = 0;
    for (const f of upTo) {
      const q = toMoney(f.quantity);
      filled += q;
      notional += mulMoney(q, toMoney(f.price));
      commission += f.commission;
    }
    const anyFill = filled > 0n;
    return {
      ...view,
      order_type: { ...view.order_type },
      time_in_force: { ...view.time_in_force },
      status: { ...status },
      filled_price:
        asView && view.filled_price !== null
          ? view.filled_price
          : anyFill
            ? fromMoney(divMoney(notional, filled))
            : null,
      filled_quantity:
        asView && view.filled_quantity !== null ? view.filled_quantity : anyFill ? fromMoney(filled) : null,
      commission:
        asView && view.commission !== null
          ? view.commission
          : anyFill
            ? Number(commission.toFixed(MONEY_DECIMALS))
            : null,
      timestamp: fill === undefined ? view.timestamp : fill.timestamp,
      fills: upTo.map(cloneFill),
    };
  }

  private keep(orderId: string, t: Tracked, isNew: boolean, finalBefore: boolean): void {
    if (isNew) this.orders.set(orderId, t);
    if (!finalBefore && rankOf(t.status) === FINAL) this.finals++;
    if (this.finals <= this.finalKept) return;
    for (const [id, o] of this.orders) {
      if (this.finals <= this.finalKept) break;
      if (rankOf(o.status) === FINAL) {
        this.orders.delete(id);
        this.finals--;
      }
    }
  }
}

/**
 * Beyond this no quantity, price or commission is real (a trillion units at a trillion each): such a figure is a
 * garbled reply, and exact money arithmetic (`toMoney`) cannot take numbers past 1e21 anyway.
 */
const MAX_FIGURE = 1e15;
const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && Math.abs(n) < MAX_FIGURE;

/** Why no venue could mean this view of an order, or undefined when it may be true. */
function implausibility(view: OrderResponse): string | undefined {
  if (!finite(view.quantity) || view.quantity <= 0) return `its quantity is ${String(view.quantity)}`;
  const quantity = toMoney(view.quantity);
  const filled = view.filled_quantity;
  if (filled !== null) {
    if (!finite(filled) || filled < 0) return `its filled quantity is ${String(filled)}`;
    if (toMoney(filled) > quantity) return `it says ${filled} filled of an order for ${view.quantity}`;
  }
  if (view.filled_price !== null && (!finite(view.filled_price) || view.filled_price < 0))
    return `its average fill price is ${String(view.filled_price)}`;
  if (view.commission !== null && !finite(view.commission)) return `its commission is ${String(view.commission)}`;
  let listed = 0n;
  for (const f of view.fills) {
    if (!finite(f.quantity) || !finite(f.price) || !finite(f.commission))
      return `fill ${f.fill_id} has quantity ${String(f.quantity)}, price ${String(f.price)}, commission ${String(f.commission)}`;
    if (f.quantity <= 0) continue;
    if (!(f.price > 0)) return `fill ${f.fill_id} is at price ${f.price}`;
    if (f.side !== view.side) return `fill ${f.fill_id} is a ${f.side} of a ${view.side} order`;
    listed += toMoney(f.quantity);
  }
  if (listed > quantity) return `its fills add up to ${fromMoney(listed)} of an order for ${view.quantity}`;
  return undefined;
}

/**
 * Throws BAD_RESPONSE when a venue answered a look-up of one order with another (a reply no venue documents, and
 * applying it would move the wrong order); `asked` is the id or client id asked for.
 */
export function expectAnswerFor(
  view: OrderResponse,
  asked: { orderId?: string; clientOrderId?: string },
  venue: string,
  /** The answer to a submit: the order asked for may exist whatever the reply says. */
  afterSubmit = false,
): OrderResponse {
  const other =
    (asked.orderId !== undefined && view.order_id !== asked.orderId) ||
    (asked.clientOrderId !== undefined && view.client_order_id !== asked.clientOrderId);
  if (other)
    throw new BrokerError(
      'BAD_RESPONSE',
      `${venue} answered ${afterSubmit ? 'the submit' : 'a look-up'} of ${asked.orderId !== undefined ? `order ${asked.orderId}` : `client order id ${asked.clientOrderId ?? ''}`} ` +
        `with order ${view.order_id} (client order id ${view.client_order_id}); none of it was applied: look the order up again`,
      afterSubmit ? { outcomeUnknown: true, retryable: false } : { retryable: true },
    );
  return view;
}
