/**
 * The paper venue's orders and fills: every retained order by id and by client order id, the open ones,
 * the recent fills, the counters that name them, and what the operation under way changed (for its
 * journal line). It owns no money and no matching: the account (`account.ts`) and the matching engine
 * (`matching.ts`) change orders through it, and persistence (`persistence.ts`) saves what it reports.
 */
import { ChurnMap, ChurnSet } from '../../common/churn';
import {
  isFinalStatus,
  type Fill,
  type OrderResponse,
  type OrderStatus,
  type PlacedOrderRequest,
} from '../../orders/model';
import { BrokerError } from '../errors';
import type { PaperState, StoredOrder } from './state';

/**
 * An order as the venue holds it (the stored shape, with a request that always has its client order id).
 * Its response is frozen, down to its parts, and replaced whole on every change: the
 * venue hands it out as it is — to listeners, look-ups and the journal — and no caller can change it.
 */
export type LiveOrder = Omit<StoredOrder, 'request' | 'response'> & {
  request: PlacedOrderRequest;
  response: Readonly<OrderResponse>;
};

/**
 * `r` with a new status and timestamp (and, for a fill, its new totals and fills), frozen. Spelled out
 * field by field in the schema's order, as the journal writes it: spreading a frozen object is several
 * times slower in V8 than building a literal. `status` and `fills` must be frozen.
 */
export function changedResponse(
  r: Readonly<OrderResponse>,
  status: OrderStatus,
  timestamp: number,
  filledPrice = r.filled_price,
  filledQuantity = r.filled_quantity,
  commission = r.commission,
  fills = r.fills,
): Readonly<OrderResponse> {
  return Object.freeze({
    order_id: r.order_id,
    client_order_id: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    order_type: r.order_type,
    time_in_force: r.time_in_force,
    quantity: r.quantity,
    status,
    filled_price: filledPrice,
    filled_quantity: filledQuantity,
    commission,
    timestamp,
    created_at: r.created_at,
    fills,
  });
}

/** A response read from the account file (or a scratch copy), frozen down to its parts as the venue keeps them. */
function freezeStoredResponse(response: OrderResponse): Readonly<OrderResponse> {
  Object.freeze(response.order_type);
  Object.freeze(response.time_in_force);
  Object.freeze(response.status);
  for (const fill of response.fills) Object.freeze(fill);
  Object.freeze(response.fills);
  return Object.freeze(response);
}

/** Final orders kept (and saved) for look-ups; open orders are always kept. */
export const MAX_FINAL_ORDERS_KEPT = 1000;
/** Fills kept (and saved) for `getFills`. */
export const MAX_FILLS_KEPT = 1000;

/** The venue's order ids are `P-<n>`, n in arrival order. */
export const seqOf = (orderId: string): number => Number(orderId.slice(2));

/** What one operation changed: the orders it created or changed (still kept), those it forgot, the fills it made. */
export interface OrderChanges {
  orders: LiveOrder[];
  removed: string[];
  fills: Fill[];
}

export class PaperOrders {
  nextOrder = 0;
  nextFill = 0;
  /** Every retained order by id, oldest first. */
  readonly all = new ChurnMap<string, LiveOrder>();
  /** Open orders only, so polling costs O(open), not O(history). */
  readonly open = new ChurnMap<string, LiveOrder>();
  private readonly byClientId = new ChurnMap<string, string>();
  private fills: Fill[] = [];
  /** Order ids in the order they became final, for trimming the oldest; `finalHead` is the next to look at. */
  private finalQueue: string[] = [];
  private finalHead = 0;
  /** Whether the operation under way changed anything (then it is saved). */
  dirty = false;
  private readonly changed = new ChurnSet<LiveOrder>();
  private removedIds: string[] = [];
  private newFills: Fill[] = [];

  /** `tracking`: remember each change for a journal line (only when the account is kept on disk). */
  constructor(private readonly tracking: boolean) {}

  clear(): void {
    this.nextOrder = 0;
    this.nextFill = 0;
    this.all.clear();
    this.open.clear();
    this.byClientId.clear();
    this.fills = [];
    this.finalQueue = [];
    this.finalHead = 0;
    this.changed.clear();
    this.removedIds = [];
    this.newFills = [];
    this.dirty = false;
  }

  /** The order id a client order id was used for, if the venue still keeps that order. */
  idOf(clientOrderId: string): string | undefined {
    return this.byClientId.get(clientOrderId);
  }

  byClient(clientOrderId: string): LiveOrder | undefined {
    const id = this.byClientId.get(clientOrderId);
    return id === undefined ? undefined : this.all.get(id);
  }

  mustFind(orderId: string): LiveOrder {
    const live = this.all.get(orderId);
    if (!live)
      throw new BrokerError(
        'ORDER_NOT_FOUND',
        `there is no paper order ${orderId} (the venue keeps open orders and the last ${MAX_FINAL_ORDERS_KEPT} final ones)`,
      );
    return live;
  }

  /** A new order, kept from now on (open or not is the matching engine's call: `markOpen`). */
  add(live: LiveOrder): void {
    this.all.set(live.response.order_id, live);
    this.byClientId.set(live.request.client_order_id, live.response.order_id);
    this.touch(live);
  }

  markOpen(live: LiveOrder): void {
    this.open.set(live.response.order_id, live);
  }

  /** The order is leaving the open set (it is about to become final). */
  markClosing(live: LiveOrder): void {
    if (!isFinalStatus(live.response.status)) this.finalQueue.push(live.response.order_id);
    this.open.delete(live.response.order_id);
  }

  /** A fill the venue made: kept for `getFills` and saved with the operation. */
  addFill(fill: Fill): void {
    this.fills.push(fill);
    // Trimmed in steps of MAX_FILLS_KEPT, not one fill at a time (which moved the whole list per fill).
    if (this.fills.length >= 2 * MAX_FILLS_KEPT) this.fills = this.recentFills();
    if (this.tracking) this.newFills.push(fill);
  }

  recentFills(): Fill[] {
    return this.fills.length > MAX_FILLS_KEPT ? this.fills.slice(-MAX_FILLS_KEPT) : this.fills;
  }

  /** Marks an order as changed by the operation under way (saved with it). */
  touch(live: LiveOrder): void {
    this.dirty = true;
    if (this.tracking) this.changed.add(live);
  }

  /** What the operation changed, for its journal line; forgets it. */
  takeChanges(): OrderChanges {
    // An order made and trimmed within one change is not kept.
    const orders: LiveOrder[] = [];
    for (const o of this.changed.values()) if (this.all.get(o.response.order_id) === o) orders.push(o);
    const changes = { orders, removed: this.removedIds, fills: this.newFills };
    this.changed.clear();
    this.removedIds = [];
    this.newFills = [];
    return changes;
  }

  /** Forgets the oldest final orders beyond MAX_FINAL_ORDERS_KEPT, oldest to become final first. */
  trimFinal(): void {
    let finals = this.all.size - this.open.size;
    if (finals <= MAX_FINAL_ORDERS_KEPT) return;
    while (finals > MAX_FINAL_ORDERS_KEPT && this.finalHead < this.finalQueue.length) {
      const id = this.finalQueue[this.finalHead++] as string;
      const o = this.all.get(id);
      if (o && isFinalStatus(o.response.status)) {
        this.all.delete(id);
        if (this.tracking) this.removedIds.push(id);
        this.byClientId.delete(o.response.client_order_id);
        finals--;
      }
    }
    if (this.finalHead > 4096 && this.finalHead * 2 > this.finalQueue.length) {
      this.finalQueue = this.finalQueue.slice(this.finalHead);
      this.finalHead = 0;
    }
  }

  /** The saved orders and fills back in memory (after `clear`); returns the open ones. */
  restore(state: PaperState): LiveOrder[] {
    this.nextOrder = state.counters.order;
    this.nextFill = state.counters.fill;
    const open: LiveOrder[] = [];
    for (const o of state.orders) {
      const live: LiveOrder = {
        ...o,
        request: { ...o.request, client_order_id: o.request.client_order_id },
        response: freezeStoredResponse(o.response),
      };
      this.all.set(o.response.order_id, live);
      if (!isFinalStatus(o.response.status)) {
        this.open.set(o.response.order_id, live);
        open.push(live);
      }
      this.byClientId.set(o.response.client_order_id, o.response.order_id);
    }
    // Oldest to become final first (a final order's timestamp is when it became final), as trimming expects.
    this.finalQueue = state.orders
      .filter((o) => isFinalStatus(o.response.status))
      .sort(
        (a, b) =>
          a.response.timestamp - b.response.timestamp || seqOf(a.response.order_id) - seqOf(b.response.order_id),
      )
      .map((o) => o.response.order_id);
    for (const fill of state.fills) Object.freeze(fill);
    this.fills = state.fills;
    return open;
  }
}
