/**
 * Over 450 lines on purpose: the fault table below and the one wrapper that implements it (and the
 * switch a user flips) read together; each fault touches the same call, routing and hold state.
 *
 * Fault injection: a venue that misbehaves the way real ones do, to see what the engine (and the
 * trader) does then. `FaultInjectingBroker` wraps any `BrokerApi` and passes every call through,
 * except for the faults it is told to inject. The paper venue runs behind one (`PaperBroker.faults`,
 * the `FaultSwitch` a user flips from the editor: disconnect, reject next, add latency); the engine's
 * tests wrap venues in one with a random plan.
 *
 * | fault                | what happens                                                        | what a real venue does that it imitates                                 |
 * |----------------------|---------------------------------------------------------------------|-------------------------------------------------------------------------|
 * | `reject`             | not sent on; a `rejected` response (a reason from `rejectReasons`)  | a risk or session check refuses the order: margin, market closed, halt  |
 * |                      | is returned and delivered to listeners; remembered for look-ups     |                                                                         |
 * | `errorBeforeSend`    | throws VENUE_UNAVAILABLE (retryable); nothing reached the venue     | a 503 / gateway refusal before the order is accepted                    |
 * | `timeoutAfterAccept` | the order IS placed, then throws TIMEOUT (outcomeUnknown)           | the order is booked but the response is lost on the way back            |
 * | `disconnectMidFill`  | the order IS placed, updates stop at its first fill, then throws    | the connection drops while the order trades; the stream is gone and     |
 * |                      | NETWORK (outcomeUnknown); every later call but `connect()` /        | nothing is replayed on reconnect: the client must reconcile by querying |
 * |                      | `disconnect()` throws NOT_CONNECTED; updates are withheld and are   |                                                                         |
 * |                      | NOT replayed on `connect()`                                         |                                                                         |
 * | `duplicateAck`       | every update of that order is delivered twice                       | at-least-once delivery: a resent execution report after a retry         |
 * | `outOfOrderAck`      | that order's updates are held to the end of each call, then         | reports on separate channels (fills vs. order events) arriving crossed  |
 * |                      | delivered newest first (a fill before its acknowledgement)          |                                                                         |
 * | `cancelTimeout`      | the cancel IS done, then throws TIMEOUT (outcomeUnknown)            | the cancel is processed but its response is lost                        |
 * | `latencyMs`          | every call waits `fixed` + uniform [0, `jitter`] ms before it       | network and venue round-trip time                                       |
 * |                      | reaches the venue (no await at all when that is 0)                  |                                                                         |
 *
 * Scripted faults (`injectNext`, `injectNextCancel`, first in first out) beat random ones: a
 * submit or cancel that takes a scripted fault draws no random number. Random faults use a
 * seeded mulberry32, one draw per submit (a second for the reject reason), so the same seed and
 * the same calls give the same faults; latency jitter has its own stream and does not disturb them.
 */
import { systemClock, type Clock } from '../../common/clock';
import {
  rejectedOrderResponse,
  type AccountInfo,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import type {
  BrokerApi,
  BrokerCapabilities,
  BrokerEnvironment,
  Disposable,
  OrderLookupHint,
  OrderUpdate,
} from '../broker';
import { BrokerError } from '../errors';

export type FaultKind =
  'reject' | 'errorBeforeSend' | 'timeoutAfterAccept' | 'disconnectMidFill' | 'duplicateAck' | 'outOfOrderAck';
export type CancelFaultKind = 'cancelTimeout';
export const FAULT_KINDS: readonly FaultKind[] = [
  'reject',
  'errorBeforeSend',
  'timeoutAfterAccept',
  'disconnectMidFill',
  'duplicateAck',
  'outOfOrderAck',
];

export interface FaultPlan {
  /** Seed of the random faults and the latency jitter (default 1). */
  seed?: number;
  /** Probability per submitOrder of each fault; together at most 1. */
  reject?: number;
  /** Reasons a random or unexplained scripted rejection picks from (default: margin, market closed, halted). */
  rejectReasons?: string[];
  errorBeforeSend?: number;
  timeoutAfterAccept?: number;
  disconnectMidFill?: number;
  duplicateAck?: number;
  outOfOrderAck?: number;
  /** Probability per cancelOrder of `cancelTimeout`. */
  cancelTimeout?: number;
  latencyMs?: { fixed: number; jitter?: number };
}

export interface FaultOptions {
  /** For `reject`: the reason given (default: one of `rejectReasons`). */
  reason?: string;
}

export interface FaultInjectingBrokerOptions {
  plan?: FaultPlan;
  /** Timestamps of injected rejections (default: the system clock). */
  clock?: Clock;
  /** How latency is waited for (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
  /** Told when a listener throws; the venue carries on regardless (default: ignored). */
  onListenerError?: (error: unknown) => void;
}

export type FaultStats = Record<FaultKind | CancelFaultKind, number> & {
  /** Updates withheld while disconnected, never delivered. */
  droppedUpdates: number;
};

export const DEFAULT_REJECT_REASONS: readonly string[] = ['insufficient margin', 'market closed', 'instrument halted'];

/** What is switched on now (for a status bar item or a quick pick). */
export interface FaultSwitchState {
  /** The link is down (`disconnect()`): every call fails NOT_CONNECTED until the venue is connected again. */
  disconnected: boolean;
  /** Orders still to be rejected by `rejectNext()`. */
  rejectsQueued: number;
  /** Added to every call; null when none. */
  latencyMs: { fixed: number; jitter: number } | null;
}

/**
 * The fault switch of a running venue, for a user: the editor's "paper faults" command calls these on
 * `PaperBroker.faults`. Each takes effect on the next call to the venue; none touches the account.
 */
export interface FaultSwitch {
  /**
   * Drops the connection now: every call fails with NOT_CONNECTED and order updates (fills of resting
   * orders included) are lost, as when a real connection drops. Connecting again (the engine's
   * `connect(venue)`, which also reconciles by client order id) restores it.
   */
  disconnect(): void;
  /** The next order submitted is rejected by the venue with `reason` (default: one of the usual reasons); queues up. */
  rejectNext(reason?: string): void;
  /** Every later call waits `fixedMs` plus a uniform 0..`jitterMs` before it reaches the venue; 0 turns it off. */
  setLatency(fixedMs: number, jitterMs?: number): void;
  /** Turns every fault off (queued rejections, latency); a dropped link stays down until connected again. */
  clear(): void;
  state(): FaultSwitchState;
}

/** A small, fast, seedable PRNG (mulberry32): numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultInjectingBroker implements BrokerApi {
  readonly id: string;
  readonly displayName: string;
  readonly environment: BrokerEnvironment;
  readonly capabilities: BrokerCapabilities;

  private plan: FaultPlan;
  /** Whether `plan` can change a call (latency, a fault drawn at random); kept with it, as `armed` is asked on every call. */
  private planArmed = false;
  private readonly faultRng: () => number;
  private readonly latencyRng: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly clock: Clock;
  private readonly onListenerError: (error: unknown) => void;
  private readonly listeners = new Set<(update: OrderUpdate) => void>();
  private readonly scripted: Array<{ fault: FaultKind; options: FaultOptions }> = [];
  private readonly scriptedCancels: CancelFaultKind[] = [];
  private readonly duplicated = new Set<string>();
  private readonly reversed = new Set<string>();
  /** Updates of `reversed` orders held until the calls under way end. */
  private held: OrderUpdate[] = [];
  private callsUnderWay = 0;
  /** True after `disconnectMidFill` until `connect()`. */
  private linkDown = false;
  /** The client order id whose first fill drops the link. */
  private dropOnFillOf: string | undefined;
  /** Orders refused by an injected `reject`, so look-ups find them as a venue's would. */
  private readonly rejected = new Map<string, OrderResponse>();
  private nextRejected = 0;
  private counts: FaultStats = FaultInjectingBroker.zeroStats();

  constructor(
    private readonly inner: BrokerApi,
    options: FaultInjectingBrokerOptions = {},
  ) {
    this.id = inner.id;
    this.displayName = inner.displayName;
    this.environment = inner.environment;
    this.capabilities = inner.capabilities;
    this.plan = this.withPlan(validate(options.plan ?? {}));
    const seed = this.plan.seed ?? 1;
    this.faultRng = mulberry32(seed);
    this.latencyRng = mulberry32(seed ^ 0x9e3779b9);
    this.sleep = options.sleep ?? defaultSleep;
    this.clock = options.clock ?? systemClock;
    this.onListenerError = options.onListenerError ?? (() => undefined);
    inner.onOrderUpdate((update) => this.route(update));
  }

  // --- the fault controls ---

  /** Queues a fault for the next submitOrder that has none queued before it. */
  injectNext(fault: FaultKind, options: FaultOptions = {}): this {
    this.scripted.push({ fault, options });
    return this;
  }

  /** Queues a fault for the next cancelOrder. */
  injectNextCancel(fault: CancelFaultKind = 'cancelTimeout'): this {
    this.scriptedCancels.push(fault);
    return this;
  }

  /** Drops the link now (see `FaultSwitch.disconnect`). */
  dropLink(): void {
    this.linkDown = true;
  }

  /** Every later call waits `fixedMs` + uniform [0, `jitterMs`] ms; 0 and 0 = none. */
  setLatency(fixedMs: number, jitterMs = 0): void {
    const latencyMs = fixedMs === 0 && jitterMs === 0 ? undefined : { fixed: fixedMs, jitter: jitterMs };
    this.plan = this.withPlan(validate({ ...this.plan, latencyMs }));
  }

  /**
   * Whether anything could change a call now: a fault queued or drawn at random, latency, an order whose
   * acknowledgements are doubled or reversed, a dropped link. When not, a caller may bypass the wrapper.
   */
  get armed(): boolean {
    return (
      this.planArmed ||
      this.linkDown ||
      this.scripted.length > 0 ||
      this.scriptedCancels.length > 0 ||
      this.duplicated.size > 0 ||
      this.reversed.size > 0 ||
      this.rejected.size > 0 ||
      this.callsUnderWay > 0
    );
  }

  private withPlan(p: FaultPlan): FaultPlan {
    this.planArmed =
      p.latencyMs !== undefined || FAULT_KINDS.some((kind) => (p[kind] ?? 0) > 0) || (p.cancelTimeout ?? 0) > 0;
    return p;
  }

  /** The switch a user flips (see `FaultSwitch`). */
  asSwitch(): FaultSwitch {
    return {
      disconnect: () => this.dropLink(),
      rejectNext: (reason) => void this.injectNext('reject', reason === undefined ? {} : { reason }),
      setLatency: (fixedMs, jitterMs) => this.setLatency(fixedMs, jitterMs),
      clear: () => this.clearFaults(),
      state: () => ({
        disconnected: this.linkDown,
        rejectsQueued: this.scripted.filter((s) => s.fault === 'reject').length,
        latencyMs: this.plan.latencyMs
          ? { fixed: this.plan.latencyMs.fixed, jitter: this.plan.latencyMs.jitter ?? 0 }
          : null,
      }),
    };
  }

  /** How many of each fault were injected, and how many updates were withheld. */
  stats(): FaultStats {
    return { ...this.counts };
  }

  /**
   * Stops injecting: drops scripted faults, the random plan, latency and the ack faults of
   * orders already placed. Counts are kept; a dropped link stays down until `connect()`.
   */
  clearFaults(): void {
    this.scripted.length = 0;
    this.scriptedCancels.length = 0;
    this.plan = this.withPlan({ seed: this.plan.seed });
    this.duplicated.clear();
    this.reversed.clear();
    this.flushHeld();
  }

  // --- BrokerApi ---

  /** Restores a dropped link; updates withheld while it was down are gone, as on a real venue. */
  async connect(): Promise<void> {
    this.linkDown = false;
    this.held = [];
    await this.inner.connect();
  }

  async disconnect(): Promise<void> {
    await this.inner.disconnect();
  }

  isConnected(): boolean {
    return !this.linkDown && this.inner.isConnected();
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    const own = (update: OrderUpdate): void => listener(update);
    this.listeners.add(own);
    return { dispose: () => this.listeners.delete(own) };
  }

  async submitOrder(order: PlacedOrderRequest): Promise<OrderResponse> {
    return this.call(async () => {
      const id = order.client_order_id;
      if (this.rejected.has(id)) {
        throw new BrokerError(
          'DUPLICATE_CLIENT_ORDER_ID',
          `client order id ${id} was already used for a rejected order; look that order up instead`,
        );
      }
      const { fault, options } = this.scripted.shift() ?? { fault: this.drawFault(), options: {} };
      if (fault !== undefined) this.counts[fault]++;
      switch (fault) {
        case 'reject':
          return this.reject(order, options.reason ?? this.drawReason());
        case 'errorBeforeSend':
          throw new BrokerError(
            'VENUE_UNAVAILABLE',
            `injected fault: the venue is unavailable; order ${id} was not sent`,
            { retryable: true },
          );
        case 'timeoutAfterAccept':
          await this.inner.submitOrder(order);
          throw new BrokerError('TIMEOUT', `injected fault: no response for order ${id} (it may have been placed)`, {
            outcomeUnknown: true,
          });
        case 'disconnectMidFill':
          this.dropOnFillOf = id;
          try {
            await this.inner.submitOrder(order);
          } finally {
            this.dropOnFillOf = undefined;
          }
          this.linkDown = true;
          throw new BrokerError('NETWORK', `injected fault: connection lost while order ${id} was being placed`, {
            outcomeUnknown: true,
          });
        case 'duplicateAck':
          this.duplicated.add(id);
          break;
        case 'outOfOrderAck':
          this.reversed.add(id);
          break;
      }
      return this.inner.submitOrder(order);
    });
  }

  async cancelOrder(orderId: string): Promise<void> {
    return this.call(async () => {
      const p = this.plan.cancelTimeout ?? 0;
      const fault = this.scriptedCancels.shift() ?? (p > 0 && this.faultRng() < p ? 'cancelTimeout' : undefined);
      await this.inner.cancelOrder(orderId);
      if (fault === 'cancelTimeout') {
        this.counts.cancelTimeout++;
        throw new BrokerError(
          'TIMEOUT',
          `injected fault: no response to cancelling order ${orderId} (it may have been cancelled)`,
          { outcomeUnknown: true },
        );
      }
    });
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    return this.call(async () => {
      const refused = [...this.rejected.values()].find((o) => o.order_id === orderId);
      return refused ? structuredClone(refused) : this.inner.getOrderStatus(orderId);
    });
  }

  async getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined> {
    return this.call(async () => {
      const refused = this.rejected.get(clientOrderId);
      return refused ? structuredClone(refused) : this.inner.getOrderByClientId(clientOrderId, hint);
    });
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    return this.call(() => this.inner.listOpenOrders());
  }

  async getAccountInfo(): Promise<AccountInfo> {
    return this.call(() => this.inner.getAccountInfo());
  }

  async getPositions(): Promise<Position[]> {
    return this.call(() => this.inner.getPositions());
  }

  async getQuote(symbol: string): Promise<Quote> {
    return this.call(() => this.inner.getQuote(symbol));
  }

  async getInstrument(symbol: string): Promise<InstrumentRules> {
    return this.call(() => this.inner.getInstrument(symbol));
  }

  // --- internals ---

  private static zeroStats(): FaultStats {
    return {
      reject: 0,
      errorBeforeSend: 0,
      timeoutAfterAccept: 0,
      disconnectMidFill: 0,
      duplicateAck: 0,
      outOfOrderAck: 0,
      cancelTimeout: 0,
      droppedUpdates: 0,
    };
  }

  /** Checks the link, waits the latency, runs the call, then releases held updates. */
  private async call<T>(body: () => Promise<T>): Promise<T> {
    this.ensureLinked();
    const latency = this.plan.latencyMs;
    if (latency) {
      const ms = latency.fixed + Math.floor(this.latencyRng() * ((latency.jitter ?? 0) + 1));
      if (ms > 0) {
        await this.sleep(ms);
        this.ensureLinked();
      }
    }
    this.callsUnderWay++;
    try {
      return await body();
    } finally {
      if (--this.callsUnderWay === 0) this.flushHeld();
    }
  }

  private ensureLinked(): void {
    if (this.linkDown)
      throw new BrokerError(
        'NOT_CONNECTED',
        `not connected to ${this.displayName}: the connection was lost; call connect() and reconcile`,
      );
  }

  private drawFault(): FaultKind | undefined {
    let r = this.faultRng();
    for (const kind of FAULT_KINDS) {
      r -= this.plan[kind] ?? 0;
      if (r < 0) return kind;
    }
    return undefined;
  }

  private drawReason(): string {
    const reasons = this.plan.rejectReasons?.length ? this.plan.rejectReasons : DEFAULT_REJECT_REASONS;
    return reasons[Math.floor(this.faultRng() * reasons.length)] ?? 'rejected';
  }

  private reject(order: PlacedOrderRequest, reason: string): OrderResponse {
    const response = rejectedOrderResponse(order, `REJ-${++this.nextRejected}`, reason, this.clock.now());
    this.rejected.set(order.client_order_id, response);
    this.emit({ order: structuredClone(response) });
    return structuredClone(response);
  }

  /** Every update from the inner venue comes here first. */
  private route(update: OrderUpdate): void {
    if (this.dropOnFillOf !== undefined && update.fill && update.order.client_order_id === this.dropOnFillOf)
      this.linkDown = true;
    if (this.linkDown) {
      this.counts.droppedUpdates++;
      return;
    }
    if (this.callsUnderWay > 0 && this.reversed.has(update.order.client_order_id)) this.held.push(update);
    else this.emit(update);
  }

  private flushHeld(): void {
    const held = this.held.reverse();
    this.held = [];
    for (const update of held) {
      if (this.linkDown) this.counts.droppedUpdates++;
      else this.emit(update);
    }
  }

  private emit(update: OrderUpdate): void {
    const times = this.duplicated.has(update.order.client_order_id) ? 2 : 1;
    for (let i = 0; i < times; i++) {
      for (const listener of this.listeners) {
        try {
          listener(update);
        } catch (e) {
          this.onListenerError(e);
        }
      }
    }
  }
}

function validate(plan: FaultPlan): FaultPlan {
  let total = 0;
  for (const kind of [...FAULT_KINDS, 'cancelTimeout'] as const) {
    const p = plan[kind] ?? 0;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`fault probability ${kind} must be between 0 and 1, got ${p}`);
    if (kind !== 'cancelTimeout') total += p;
  }
  if (total > 1 + 1e-9) throw new RangeError(`submit fault probabilities add up to ${total}, more than 1`);
  const latency = plan.latencyMs;
  if (latency && !(latency.fixed >= 0 && (latency.jitter ?? 0) >= 0))
    throw new RangeError('latencyMs fixed and jitter must be zero or more');
  return { ...plan };
}
