/**
 * The order cache: what the engine knows of every order, position and stranger at each venue, in memory.
 *
 * It owns the records (working and recently finished), the index from a venue's order id to ours, what
 * the working orders add up to (exposure), the positions kept from fills, the venue's orders we did not
 * place (external), the fills counted per venue and who waits for an order to finish. It decides nothing:
 * the state machine (`../orderState`) makes records, the pieces above it store them here.
 */
import { ChurnMap, ChurnSet } from '../../common/churn';
import { fromMoney } from '../../common/decimal';
import type { OrderResponse } from '../../orders/model';
import { WorkingExposure } from '../exposure';
import { isFinalState, type OrderRecord } from '../orderState';

export interface ExternalOrder {
  readonly venue: string;
  readonly order: OrderResponse;
}

export class OrderCache {
  // Churn: an entry per order, deleted as it finishes (src/common/churn.ts says why not a Map).
  private readonly orders = new ChurnMap<string, OrderRecord>();
  private readonly working = new ChurnSet<string>();
  /** What the working orders add up to, per venue and symbol; kept as they change. */
  readonly exposure = new WorkingExposure();
  // Finished ids, oldest first, from `finishedHead` on: a head index rather than `shift()`, which moves the
  // whole array on every retired order once it is past V8's in-place trimming (measured: 5 % of an order).
  private finished: string[] = [];
  private finishedHead = 0;
  /**
   * Client order ids by venue, then the venue's order id (two venues may use the same ids). One map per venue: a key
   * joined of the two was a new string to hash on every look-up, three times an order.
   */
  private readonly byVenueId = new Map<string, ChurnMap<string, string>>();
  /** Signed positions per venue and symbol, in 10^-10 units: the venue's at reconcile plus every fill since. */
  private readonly positions = new Map<string, Map<string, bigint>>();
  private readonly external = new Map<string, ExternalOrder>();
  /** Fills recorded per venue (from the audit log on open, then each one since). */
  private readonly fillsRecorded = new Map<string, number>();
  /** When each order in flight was handed to its venue (by our clock); recovered orders: when the engine started. */
  readonly sentAt = new ChurnMap<string, number>();
  private readonly finalWaiters = new ChurnMap<string, Array<(o: OrderRecord) => void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Client order ids the audit log has orders under from before the engine started (the finished ones too). */
  private usedBefore: ReadonlySet<string> = new Set<string>();
  /**
   * The ids of this session's finished orders whose records were dropped (past `maxFinished`): only the id is kept,
   * so that a command retried with one is still a duplicate (the record forgotten, it was sent a second time).
   */
  private readonly dropped = new Set<string>();
  /** Called whenever a working order changes (the working-orders file is rewritten from `workingOrders`). */
  onWorkingChange: () => void = () => undefined;

  /**
   * `remember`: whether a dropped finished order's id is kept (default: every one). A replay keeps only ids it did
   * not make itself: nobody retries a replay's commands, and a million orders' ids would grow its memory for nothing.
   */
  constructor(
    private readonly maxFinished: number,
    private readonly remember: (clientOrderId: string) => boolean = () => true,
  ) {}

  get(clientOrderId: string): OrderRecord | undefined {
    return this.orders.get(clientOrderId);
  }

  has(clientOrderId: string): boolean {
    return this.orders.has(clientOrderId);
  }

  /** The record of an order the caller knows is cached. */
  must(clientOrderId: string): OrderRecord {
    return this.orders.get(clientOrderId) as OrderRecord;
  }

  /** Orders the venue may still fill (or that are waiting to be sent). */
  workingOrders(): OrderRecord[] {
    return this.working.values().map((id) => this.orders.get(id) as OrderRecord);
  }

  workingIds(): readonly string[] {
    return this.working.values();
  }

  get workingCount(): number {
    return this.working.size;
  }

  allOrders(): OrderRecord[] {
    return this.orders.values();
  }

  /**
   * The client order ids used by orders before the engine started (the audit log's digest, held as it is: each open
   * copied every id of the log into a second set): none is sent again.
   */
  noteUsed(ids: ReadonlySet<string>): void {
    this.usedBefore = ids;
  }

  /**
   * Whether an order the cache no longer holds had this client order id, and when: one from before the engine
   * started (the audit log's), or one of this session finished long enough ago that only its id is kept.
   */
  usedEarlier(clientOrderId: string): 'before this session' | 'earlier in this session' | undefined {
    if (this.usedBefore.has(clientOrderId)) return 'before this session';
    return this.dropped.has(clientOrderId) ? 'earlier in this session' : undefined;
  }

  /** Takes an order known from before the engine started as working. */
  adopt(o: OrderRecord): void {
    this.orders.set(o.clientOrderId, o);
    this.working.add(o.clientOrderId);
    // Sent before the restart: the venue's buying power already holds them.
    this.exposure.add(o, 0);
    if (o.venueOrderId) this.venueIds(o.venue).set(o.venueOrderId, o.clientOrderId);
  }

  /** A new order accepted for sending: from here it counts as working for every later check. */
  accept(record: OrderRecord, reserve: number): void {
    this.orders.set(record.clientOrderId, record);
    this.working.add(record.clientOrderId);
    this.exposure.add(record, reserve);
    this.onWorkingChange();
  }

  /** Stores what the state machine made of an order; a final one is retired. */
  replace(before: OrderRecord, after: OrderRecord): void {
    this.orders.set(after.clientOrderId, after);
    this.exposure.update(before, after);
    this.onWorkingChange();
  }

  /** An order denied before it became working: kept for the UI, unless its id belongs to another order. */
  addDenied(record: OrderRecord): void {
    if (this.orders.has(record.clientOrderId)) return;
    this.orders.set(record.clientOrderId, record);
    this.retire(record.clientOrderId);
  }

  /** Sets a record without touching exposure (a working order whose state changed at startup). */
  set(record: OrderRecord): void {
    this.orders.set(record.clientOrderId, record);
  }

  /**
   * An order has become final (called once per order, as it becomes so): it leaves the working set, its waiters hear
   * of it, the oldest finished are dropped.
   */
  retire(clientOrderId: string): void {
    const order = this.orders.get(clientOrderId);
    if (order && this.working.has(clientOrderId)) this.exposure.remove(order);
    this.working.delete(clientOrderId);
    this.sentAt.delete(clientOrderId);
    this.finished.push(clientOrderId);
    const waiters = this.finalWaiters.get(clientOrderId);
    if (waiters && order) {
      this.finalWaiters.delete(clientOrderId);
      for (const w of waiters) w(order);
    }
    while (this.finished.length - this.finishedHead > this.maxFinished) {
      const old = this.finished[this.finishedHead++] as string;
      if (this.finishedHead >= 1024 && this.finishedHead * 2 >= this.finished.length) {
        this.finished = this.finished.slice(this.finishedHead);
        this.finishedHead = 0;
      }
      const o = this.orders.get(old);
      if (o && isFinalState(o.state)) {
        this.orders.delete(old);
        if (this.remember(old)) this.dropped.add(old);
        if (o.venueOrderId) this.byVenueId.get(o.venue)?.delete(o.venueOrderId);
      }
    }
  }

  // --- venue ids ---

  /** Our client order id of a venue's order id, at that venue (two venues may use the same ids). */
  byVenueOrderId(venue: string, venueOrderId: string): string | undefined {
    return this.byVenueId.get(venue)?.get(venueOrderId);
  }

  linkVenueId(venue: string, venueOrderId: string, clientOrderId: string): void {
    if (venueOrderId !== '') this.venueIds(venue).set(venueOrderId, clientOrderId);
  }

  private venueIds(venue: string): ChurnMap<string, string> {
    let ids = this.byVenueId.get(venue);
    if (ids === undefined) {
      ids = new ChurnMap();
      this.byVenueId.set(venue, ids);
    }
    return ids;
  }

  // --- positions and fills ---

  positionMap(venue: string): Map<string, bigint> {
    let m = this.positions.get(venue);
    if (!m) {
      m = new Map();
      this.positions.set(venue, m);
    }
    return m;
  }

  setPositions(venue: string, units: Iterable<[string, bigint]>): void {
    this.positions.set(venue, new Map(units));
  }

  /** The signed position per symbol at a venue. */
  positionsOf(venue: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [symbol, units] of this.positions.get(venue) ?? []) if (units !== 0n) out[symbol] = fromMoney(units);
    return out;
  }

  /** Adds a fill's signed quantity to the venue's position; returns the new position. */
  addFill(venue: string, symbol: string, signedUnits: bigint): bigint {
    this.fillsRecorded.set(venue, (this.fillsRecorded.get(venue) ?? 0) + 1);
    const map = this.positionMap(venue);
    const position = (map.get(symbol) ?? 0n) + signedUnits;
    map.set(symbol, position);
    return position;
  }

  fillsAt(venue: string): number {
    return this.fillsRecorded.get(venue) ?? 0;
  }

  setFillCount(venue: string, n: number): void {
    this.fillsRecorded.set(venue, n);
  }

  // --- orders at a venue that we did not place ---

  externalOrders(): ExternalOrder[] {
    return [...this.external.values()];
  }

  get externalCount(): number {
    return this.external.size;
  }

  /** Notes an external order; false when it was already known. */
  addExternal(venue: string, order: OrderResponse): boolean {
    const key = `${venue}:${order.order_id}`;
    if (this.external.has(key)) return false;
    this.external.set(key, { venue, order });
    return true;
  }

  removeExternal(venue: string, venueOrderId: string): void {
    this.external.delete(`${venue}:${venueOrderId}`);
  }

  /** Forgets the external orders of a venue that is no longer registered. */
  dropVenue(venue: string): void {
    for (const key of [...this.external.keys()]) if (key.startsWith(`${venue}:`)) this.external.delete(key);
  }

  // --- waiting ---

  /** Waits until the order is final or `timeoutMs` passes; resolves with its record then. */
  waitForFinal(clientOrderId: string, timeoutMs: number): Promise<OrderRecord | undefined> {
    const record = this.orders.get(clientOrderId);
    if (!record || isFinalState(record.state) || this.closed) return Promise.resolve(record);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const list = this.finalWaiters.get(clientOrderId);
        if (list) list.splice(list.indexOf(done), 1);
        resolve(this.orders.get(clientOrderId));
      }, timeoutMs);
      this.timers.add(timer);
      const done = (o: OrderRecord): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(o);
      };
      const list = this.finalWaiters.get(clientOrderId) ?? [];
      list.push(done);
      this.finalWaiters.set(clientOrderId, list);
    });
  }

  /**
   * The engine is closing: every wait ends now, with the order as it is (nothing will finish it any more; with its
   * timer stopped, a wait left behind never settled), and a wait asked for after this answers at once.
   */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const waits = this.finalWaiters.entries();
    this.finalWaiters.clear();
    for (const [clientOrderId, waiters] of waits) {
      const order = this.orders.get(clientOrderId);
      if (order) for (const w of waiters) w(order);
    }
  }
}
