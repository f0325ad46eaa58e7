/**
 * IB's orders as this session knows them: each order by its TWS id and by its orderRef (our client order id),
 * kept current by TWS's events (`orderStatus`, `openOrder`, errors for an order). IB reports cumulative
 * status; each report goes through the order tracker, which emits what is new in it once.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../../common/clock';
import { isFinalStatus } from '../../orders/model';
import type { OrderTracker } from '../orderTracker';
import { errorMeaning } from './errors';
import type { IbContract } from './market';
import {
  fillFromStatus,
  requestFromIb,
  responseOf,
  validStatusReport,
  type IbOrder,
  type RegistryView,
} from './orders';

export interface Entry extends RegistryView {
  /** TWS has reported on this order (a status or an openOrder). */
  confirmed: boolean;
  /** Refused before TWS accepted it (rate limit, duplicate id, …): the client order id may be used again. */
  failedBeforeAcceptance: boolean;
  badResponse: string | undefined;
}

/** Registry size above which the oldest final orders are forgotten. */
export const MAX_ORDERS_KEPT = 2000;
export const PENDING_IB: ReadonlySet<string> = new Set(['ApiPending', 'PendingSubmit']);

export interface OrderRegistryDeps {
  clock: Clock;
  tracker: OrderTracker;
  /** Internal notifications: 'status' (orderId), 'bad' (orderId, why). */
  events: EventEmitter;
  onError: (message: string, error: unknown) => void;
}

export class OrderRegistry {
  readonly byId = new Map<number, Entry>();
  readonly byRef = new Map<string, Entry>();

  constructor(private readonly deps: OrderRegistryDeps) {}

  /** An `orderStatus` event. */
  onStatus(
    orderId: number,
    report: {
      status: string;
      filled: number;
      remaining: number;
      avgFillPrice: number;
      lastFillPrice: number | undefined;
    },
  ): void {
    const entry = this.byId.get(orderId);
    if (!entry) return;
    const bad = validStatusReport(report);
    if (bad) {
      entry.badResponse = bad;
      if (this.deps.events.listenerCount('bad') === 0)
        this.deps.onError(`IB: ignored an unreadable status for order ${orderId}`, new Error(bad));
      this.deps.events.emit('bad', orderId, bad);
      return;
    }
    this.applyStatus(entry, report.status, report.filled ?? 0, report.avgFillPrice ?? 0, report.lastFillPrice);
  }

  applyStatus(
    entry: Entry,
    status: string,
    filled: number,
    avgFillPrice: number,
    lastFillPrice: number | undefined,
  ): void {
    const now = this.deps.clock.now();
    const before = responseOf(entry, now);
    entry.confirmed = true;
    entry.badResponse = undefined;
    const fill = fillFromStatus(entry, filled, avgFillPrice, lastFillPrice, now);
    if (fill) entry.fills.push(fill);
    if (filled >= entry.filled) {
      entry.filled = filled;
      if (avgFillPrice > 0) entry.avgFillPrice = avgFillPrice;
    }
    // A final status never goes back (TWS may repeat an older status after a fill).
    if (!isFinalStatus(before.status)) entry.ibStatus = status;
    entry.updatedAt = now;
    // The tracker emits the fill (if any), then a change of state, each once.
    this.deps.tracker.observe(responseOf(entry, now));
    this.deps.events.emit('status', entry.orderId);
  }

  /** An `openOrder` event: adopts an order of ours from an earlier session. */
  onOpenOrder(orderId: number, contract: IbContract, order: IbOrder, status: string): void {
    let entry = this.byId.get(orderId);
    if (!entry) {
      const request = requestFromIb(contract, order);
      if (!request) return;
      const existing = this.byRef.get(request.client_order_id);
      if (existing && !existing.failedBeforeAcceptance) return;
      const now = this.deps.clock.now();
      entry = {
        orderId,
        request,
        ibStatus: undefined,
        filled: 0,
        avgFillPrice: null,
        rejectReason: undefined,
        fills: [],
        createdAt: now,
        updatedAt: now,
        confirmed: true,
        failedBeforeAcceptance: false,
        badResponse: undefined,
      };
      this.register(entry);
    }
    entry.confirmed = true;
    if (entry.ibStatus === undefined && status && status !== 'undefined')
      this.applyStatus(entry, status, entry.filled, entry.avgFillPrice ?? 0, undefined);
  }

  /** An error TWS sent for an order: a rejection or a cancel changes it (`message` already masked). */
  onError(id: number, code: number, message: string): void {
    const entry = this.byId.get(id);
    if (entry) {
      const meaning = errorMeaning(code, message);
      if (meaning.kind === 'reject') {
        entry.rejectReason = message;
        entry.updatedAt = this.deps.clock.now();
        if (entry.ibStatus === undefined || PENDING_IB.has(entry.ibStatus)) {
          entry.confirmed = true;
          this.deps.tracker.observe(responseOf(entry, this.deps.clock.now()));
        }
      } else if (meaning.kind === 'cancelled') {
        this.applyStatus(entry, 'Cancelled', entry.filled, entry.avgFillPrice ?? 0, undefined);
      }
    }
  }

  register(entry: Entry): void {
    this.byId.set(entry.orderId, entry);
    this.byRef.set(entry.request.client_order_id, entry);
    if (this.byId.size <= MAX_ORDERS_KEPT) return;
    // Forget the oldest final orders; open and unconfirmed ones are always kept.
    const now = this.deps.clock.now();
    for (const [id, old] of this.byId) {
      if (this.byId.size <= MAX_ORDERS_KEPT) break;
      if (!old.confirmed || !isFinalStatus(responseOf(old, now).status)) continue;
      this.byId.delete(id);
      if (this.byRef.get(old.request.client_order_id) === old) this.byRef.delete(old.request.client_order_id);
    }
  }
}
