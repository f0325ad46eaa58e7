/**
 * The execution engine: the only path by which an order reaches a broker.
 *
 *   SubmitOrder ─▶ bounded queue ─▶ validate ─▶ pre-trade risk ─▶ audit (durable) ─▶ broker
 *                                     │              │                               │
 *                                  OrderDenied    OrderDenied          OrderSubmitted, then venue
 *                                                                      updates applied through the
 *                                                                      order state machine
 *
 * - Orders of one venue and symbol are validated, checked and sent in the order they were submitted
 *   (a lane per symbol); different symbols proceed concurrently. Risk sees every order of its lane
 *   that is not yet final, so a burst cannot slip past a position limit.
 * - The queue is bounded: beyond `queueCapacity` orders waiting or in flight, a submit is denied with
 *   QUEUE_FULL at once, never held.
 * - The SubmitOrder command (with every risk check's result) is durable in the audit log before the
 *   broker is called; every event after it is appended in the order it happened. If the audit log
 *   fails, trading halts: nothing is sent that is not recorded.
 * - A submit that times out or loses its connection after sending is UNCONFIRMED, not failed: it is
 *   looked up by client order id (never resent) until the venue says what became of it.
 * - On connect the engine reconciles: its working orders by client order id, the venue's open orders
 *   (ones it did not place are reported as external, never adopted) and positions.
 */
import { monotonicMs, type Clock } from '../common/clock';
import { fromMoney, isOnStep, toMoney } from '../common/decimal';
import type { BrokerApi, Disposable, OrderUpdate } from '../brokers/broker';
import { unsupportedReason } from '../brokers/broker';
import { BrokerError, isBrokerError } from '../brokers/errors';
import {
  isFinalStatus,
  checkOrderRequest,
  type AccountInfo,
  type Fill,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Quote,
} from '../orders/model';
import { AuditLogFailedError, type AuditLog } from './audit/auditLog';
import { isSecretKey, REDACTED, redactSecrets } from './audit/secrets';
import { submitOrderCommand, type DenialCode, type EngineEvent, type SubmitOrder } from './events';
import {
  applyEvent,
  averagePrice,
  isFinalState,
  newOrderRecord,
  OrderTransitionError,
  remainingQuantity,
  type OrderEvent,
  type OrderRecord,
} from './orderState';
import { DEFAULT_RISK_LIMITS, runRiskChecks, tightenLimits, TokenBucket, type RiskCheckResult, type RiskLimits, type TradingStateName } from './risk';
import { loadWorkingOrders, WorkingOrderWriter } from './orderStore';
import { WorkingExposure } from './exposure';
import { TradingStateStore, type CircuitBreakerSettings, type StateChange } from './tradingState';
import type { AuditDigest, DigestOrder } from './auditDigest';
import { StateDamagedError } from '../common/stateErrors';
import { crashPoint } from '../common/crashPoint';
import { instrumentKey } from '../brokers/paper/instruments';
import type { LoadedWorkingOrders } from './orderStore';

export interface EngineOptions {
  clock: Clock;
  /** Brokers by profile id; orders name the one they go to. */
  brokers: ReadonlyMap<string, BrokerApi> | Record<string, BrokerApi>;
  /** Where every command and event is recorded; null only in tests that say why. */
  audit: AuditLog | null;
  limits?: RiskLimits;
  circuitBreaker?: CircuitBreakerSettings;
  /** The trading state file (halts survive restarts); undefined keeps it in memory. */
  tradingStateFile?: string;
  /** Orders waiting or in flight before submits are denied with QUEUE_FULL. Default 1024. */
  queueCapacity?: number;
  /** Look-ups of an unconfirmed order before it is left for the next reconcile. Default 8. */
  reconcileAttempts?: number;
  /** First delay between look-ups of an unconfirmed order (doubles each time). Default 100 ms. */
  reconcileDelayMs?: number;
  /** Finished orders kept in memory for the UI. Default 10 000. */
  maxFinishedOrders?: number;
  /**
   * Where the engine keeps its working orders between runs, so that orders it placed are reconciled as
   * its own after a restart (not mistaken for external ones). Undefined: memory only.
   */
  ordersFile?: string;
  /** The working-orders file as already read (the session reads it first, to anchor the audit log). */
  loadedOrders?: LoadedWorkingOrders;
  /**
   * What the audit log says (gathered when it was opened): the orders that may still be alive at a
   * venue — each is reconciled by client order id on connect, including ones the last process died
   * while sending — the positions and fills it recorded, and the last trading state.
   */
  digest?: AuditDigest;
  /**
   * Venues whose whole state lives in this state directory and changes only through this engine (the
   * paper venue): after reconciling, their positions and fills must equal the audit log's, or the
   * account file is damaged and trading is refused.
   */
  localVenues?: ReadonlyMap<string, LocalVenue>;
  /** Damage found before the engine was made (the audit log itself): trading is refused until `recover`. */
  damage?: readonly StateDamagedError[];
}

/** A venue kept in the state directory (see EngineOptions.localVenues). */
export interface LocalVenue {
  /** Its account file, named in messages. */
  readonly file: string;
  /** Fills it has made since its account was opened; undefined when it cannot say. */
  fillsEver(): number | undefined;
}

export interface SubmitResult {
  readonly order: OrderRecord;
  readonly risk: readonly RiskCheckResult[];
  readonly denial?: { readonly code: DenialCode; readonly message: string };
  /**
   * Engine time: validation, risk, the audit records and the state machine (the venue's updates for
   * this order included), summed over the synchronous stretches of this order's handling; excluded are
   * the venue's own work, waits for the disk and the time other orders in flight ran in between.
   */
  readonly engineMs: number;
  /** From calling the broker until it answered. */
  readonly venueMs: number | null;
}

export interface EngineStatus {
  tradingState: TradingStateName;
  reason: string;
  source: string;
  since: number;
  resumeAt: number | null;
  breaker: ReturnType<TradingStateStore['breakerStatus']>;
  workingOrders: number;
  queued: number;
  queueCapacity: number;
  externalOrders: number;
  venues: Array<{ id: string; environment: string; connected: boolean }>;
  limits: RiskLimits;
  audit: { dir: string; lastSeq: number; state: string } | null;
}

export interface EmergencyStopReport {
  cancelled: string[];
  failed: Array<{ venue: string; order: string; reason: string }>;
  flattened: Array<{ venue: string; symbol: string; quantity: number; result: string }>;
}

interface Prepared {
  readonly cmd: SubmitOrder;
  readonly risk: RiskCheckResult[];
  readonly durable?: Promise<unknown>;
  readonly denial?: { code: DenialCode; message: string };
  readonly engineMs: number;
}

interface Lane {
  pre: Promise<unknown>;
  send: Promise<unknown>;
}

const noop = (): void => undefined;

export class ExecutionEngine {
  private readonly clock: Clock;
  private readonly brokers: Map<string, BrokerApi>;
  private readonly audit: AuditLog | null;
  private limits: RiskLimits;
  private readonly bucket: TokenBucket | undefined;
  readonly trading: TradingStateStore;
  private readonly queueCapacity: number;
  private readonly reconcileAttempts: number;
  private readonly reconcileDelayMs: number;
  private readonly maxFinished: number;

  private readonly orders = new Map<string, OrderRecord>();
  private readonly working = new Set<string>();
  /** What the working orders add up to, per venue and symbol; kept as they change. */
  private readonly exposure = new WorkingExposure();
  private readonly finished: string[] = [];
  private readonly finishedSet = new Set<string>();
  private readonly byVenueId = new Map<string, string>();
  /** Signed positions per venue and symbol, in 10^-10 units: the venue's at reconcile plus every fill since. */
  private readonly positions = new Map<string, Map<string, bigint>>();
  private readonly external = new Map<string, { readonly venue: string; readonly order: OrderResponse }>();
  private readonly lanes = new Map<string, Lane>();
  private readonly instruments = new Map<string, InstrumentRules>();
  /** Each venue's update subscription, by broker profile id, so a removed venue stops reporting. */
  private readonly subscriptions = new Map<string, Disposable>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly finalWaiters = new Map<string, Array<(o: OrderRecord) => void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pendingAudit = new Set<Promise<unknown>>();
  /** Engine time spent on venue updates of orders whose submit call is under way, by client order id. */
  private readonly updateMs = new Map<string, number>();
  private queued = 0;
  private closed = false;
  private auditFailure: Error | undefined;
  private equityCheckAt = 0;
  private readonly orderWriter: WorkingOrderWriter | undefined;
  /** Files found damaged: no order is sent while there is any. */
  private readonly damaged: StateDamagedError[] = [];
  private readonly localVenues: ReadonlyMap<string, LocalVenue>;
  /** Fills recorded per venue (from the audit log on open, then each one since). */
  private readonly fillsRecorded = new Map<string, number>();
  /** When each order in flight was handed to its venue (by our clock); recovered orders: when this engine started. */
  private readonly sentAt = new Map<string, number>();
  private readonly startedAt: number;
  private readonly ordersFile: string | undefined;

  constructor(options: EngineOptions) {
    this.clock = options.clock;
    this.brokers = new Map<string, BrokerApi>(
      options.brokers instanceof Map ? [...(options.brokers as ReadonlyMap<string, BrokerApi>)] : Object.entries(options.brokers),
    );
    this.audit = options.audit;
    // Events are recorded without a promise each; a batch that cannot be made durable halts trading here.
    this.audit?.onFailure((e) => this.onAuditFailure(e));
    this.limits = options.limits ?? { ...DEFAULT_RISK_LIMITS };
    this.queueCapacity = options.queueCapacity ?? 1024;
    this.reconcileAttempts = options.reconcileAttempts ?? 8;
    this.reconcileDelayMs = options.reconcileDelayMs ?? 100;
    this.maxFinished = options.maxFinishedOrders ?? 10_000;
    this.startedAt = options.clock.now();
    this.localVenues = options.localVenues ?? new Map();
    this.ordersFile = options.ordersFile;
    const digest = options.digest;
    this.trading = new TradingStateStore(options.tradingStateFile, options.clock, options.circuitBreaker, digest?.lastTradingState);
    for (const d of options.damage ?? []) this.damaged.push(d);
    if (this.trading.damage !== undefined && options.tradingStateFile) {
      this.damaged.push(new StateDamagedError(options.tradingStateFile, this.trading.damage));
    }
    const rate = this.limits.maxOrdersPerSecond;
    this.bucket = rate === undefined ? undefined : new TokenBucket(rate, this.limits.orderBurst ?? Math.max(1, Math.ceil(rate)), options.clock);
    if (digest) {
      // The audit log is the record: its unfinished orders are the working ones, whatever a cache says.
      for (const d of digest.open.values()) this.adopt(recoveredRecord(d));
      for (const [venue, symbols] of digest.positions) if (!this.localVenues.has(venue)) this.positions.set(venue, new Map(symbols));
      // A local venue's positions are its fills': what a reconcile once took from its account file proves nothing.
      for (const venue of this.localVenues.keys()) this.positions.set(venue, new Map(digest.fillSums.get(venue) ?? []));
      for (const [venue, n] of digest.fillCount) this.fillsRecorded.set(venue, n);
    }
    if (options.ordersFile) {
      const loaded = options.loadedOrders ?? loadWorkingOrders(options.ordersFile);
      if (digest) {
        if (loaded.anchor && loaded.anchor.seq > digest.lastSeq) {
          this.damaged.push(
            new StateDamagedError(
              options.ordersFile,
              `it was written when the audit log reached seq ${loaded.anchor.seq}, but the log now ends at seq ${digest.lastSeq}: the audit log was cut short, emptied or replaced by an older copy`,
            ),
          );
        }
        const unknown = loaded.orders.filter((o) => !isFinalState(o.state) && !digest.known.has(o.clientOrderId));
        if (unknown.length > 0) {
          this.damaged.push(
            new StateDamagedError(
              options.ordersFile,
              `it lists ${unknown.length} order(s) the audit log has no record of (${unknown
                .slice(0, 3)
                .map((o) => o.clientOrderId)
                .join(', ')}): the audit log was cut short or replaced by an older copy`,
            ),
          );
          // Still looked up at their venue, so that nothing that may be alive is forgotten.
          for (const o of unknown) this.adopt(o);
        }
      } else {
        for (const o of loaded.orders) if (!isFinalState(o.state)) this.adopt(o);
      }
      if (loaded.problem) {
        // The log still knows every open order (they are looked up from it), but a file that cannot be
        // read is damage someone must look at, not something to paper over.
        this.damaged.push(new StateDamagedError(options.ordersFile, `${loaded.problem}; the audit log's record of open orders is used meanwhile`));
      } else if (digest && !loaded.exists && digest.known.size > 0) {
        this.damaged.push(
          new StateDamagedError(
            options.ordersFile,
            `it is missing, but the audit log has sent ${digest.known.size} order(s) from this state directory: it was deleted or moved`,
          ),
        );
      }
      this.orderWriter = new WorkingOrderWriter(
        options.ordersFile,
        () => this.workingOrders(),
        () => (this.audit ? this.audit.durableHead : undefined),
        (e) => this.stateSaveFailed(options.ordersFile as string, e),
      );
    }
    for (const [id, broker] of this.brokers) {
      this.subscriptions.set(
        id,
        broker.onOrderUpdate((u) => this.onVenueUpdate(id, u)),
      );
    }
    if (this.trading.loadProblem !== undefined) {
      this.record('TradingStateChanged', {
        at: this.clock.now(),
        from: 'ACTIVE',
        to: 'HALTED',
        reason: this.trading.current.reason,
        source: 'startup',
      });
    }
    for (const d of this.damaged) this.record('StateDamaged', { at: this.clock.now(), file: d.file, problem: d.problem });
    // Orders the last process was sending when it ended: they may or may not have reached the venue.
    for (const id of this.working) {
      const o = this.orders.get(id) as OrderRecord;
      this.sentAt.set(id, this.startedAt);
      if (o.state === 'SUBMITTED' || o.state === 'PENDING_SUBMIT') {
        const reason = 'the last SPtrader process ended while this order was being sent; it is looked up by client order id, never resent';
        this.orders.set(id, { ...o, state: 'UNCONFIRMED', reason, updatedAt: this.clock.now() });
        this.record('OrderUnconfirmed', { at: this.clock.now(), clientOrderId: id, venue: o.venue, symbol: o.request.symbol, state: 'UNCONFIRMED', reason });
      }
    }
  }

  /** Takes an order known from before this engine started as working. */
  private adopt(o: OrderRecord): void {
    this.orders.set(o.clientOrderId, o);
    this.working.add(o.clientOrderId);
    // Sent before the restart: the venue's buying power already holds them.
    this.exposure.add(o, 0);
    if (o.venueOrderId) this.byVenueId.set(o.venueOrderId, o.clientOrderId);
  }

  /** State files found damaged, missing or older than the audit log; no order is sent while there is any. */
  get damage(): readonly StateDamagedError[] {
    return this.damaged;
  }

  /** Marks a state file as damaged (recorded; new orders are denied until `recover`). */
  reportDamage(damage: StateDamagedError): void {
    if (this.damaged.some((d) => d.file === damage.file && d.problem === damage.problem)) return;
    this.damaged.push(damage);
    this.record('StateDamaged', { at: this.clock.now(), file: damage.file, problem: damage.problem });
  }

  /** A state file could not be written: recorded, and trading halts (the audit log still holds everything). */
  private stateSaveFailed(file: string, e: Error): void {
    this.record('StateSaveFailed', { at: this.clock.now(), file, message: e.message });
    if (this.trading.state !== 'HALTED') {
      const change = this.trading.set('HALTED', `could not save ${file} (${e.message}); trading is halted until it can be saved`, 'circuit_breaker');
      if (change) this.stateChanged(change);
    }
  }

  // --- subscriptions and views ---

  /** Every event, in order, as it happens. */
  subscribe(listener: (event: EngineEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  getOrder(clientOrderId: string): OrderRecord | undefined {
    return this.orders.get(clientOrderId);
  }

  /** Orders the venue may still fill (or that are waiting to be sent). */
  workingOrders(): OrderRecord[] {
    return [...this.working].map((id) => this.orders.get(id) as OrderRecord);
  }

  allOrders(): OrderRecord[] {
    return [...this.orders.values()];
  }

  /** Open orders at connected venues that the engine did not place, each with the venue (broker profile id) it is at. */
  externalOrders(): Array<{ readonly venue: string; readonly order: OrderResponse }> {
    return [...this.external.values()];
  }

  /** The engine's signed position per symbol at a venue. */
  positionsOf(venue: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [symbol, units] of this.positions.get(venue) ?? []) if (units !== 0n) out[symbol] = fromMoney(units);
    return out;
  }

  setLimits(limits: RiskLimits): void {
    this.limits = limits;
    const rate = limits.maxOrdersPerSecond;
    if (rate !== undefined) this.bucket?.configure(rate, limits.orderBurst ?? Math.max(1, Math.ceil(rate)));
  }

  status(): EngineStatus {
    this.tickTradingState();
    const t = this.trading.current;
    return {
      tradingState: t.state,
      reason: t.reason,
      source: t.source,
      since: t.since,
      resumeAt: t.resumeAt,
      breaker: this.trading.breakerStatus(),
      workingOrders: this.working.size,
      queued: this.queued,
      queueCapacity: this.queueCapacity,
      externalOrders: this.external.size,
      venues: [...this.brokers].map(([id, b]) => ({ id, environment: b.environment, connected: b.isConnected() })),
      limits: { ...this.limits },
      audit: this.audit ? { dir: this.audit.dir, lastSeq: this.audit.lastSeq, state: this.audit.state } : null,
    };
  }

  // --- venues ---

  /** Registers a venue under a broker profile id (connecting it is `connect`'s). A second venue under one id is refused. */
  addBroker(id: string, broker: BrokerApi): void {
    if (this.closed) throw new BrokerError('INTERNAL', `cannot add broker profile ${id}: the engine is closed`);
    if (this.brokers.has(id)) throw new BrokerError('INTERNAL', `a broker profile named ${id} is already registered; remove it first`);
    this.brokers.set(id, broker);
    this.subscriptions.set(
      id,
      broker.onOrderUpdate((u) => this.onVenueUpdate(id, u)),
    );
  }

  /**
   * Unregisters a venue; disconnecting it is the caller's. Refused while the engine has working orders
   * there, since their fills and cancels would then go unrecorded.
   */
  removeBroker(id: string): void {
    if (!this.brokers.has(id)) throw new BrokerError('INTERNAL', `no broker profile named ${id}`);
    const working = this.workingOrders().filter((r) => r.venue === id);
    if (working.length > 0)
      throw new BrokerError(
        'INTERNAL',
        `broker profile ${id} has ${working.length} working order(s) (${working.map((r) => r.clientOrderId).join(', ')}); cancel them or wait for them to finish before disconnecting`,
      );
    this.subscriptions.get(id)?.dispose();
    this.subscriptions.delete(id);
    this.brokers.delete(id);
    for (const key of [...this.external.keys()]) if (key.startsWith(`${id}:`)) this.external.delete(key);
    // A profile added again under this id may point elsewhere: its instrument rules are read afresh.
    for (const key of [...this.instruments.keys()]) if (key.startsWith(`${id}:`)) this.instruments.delete(key);
  }

  hasBroker(id: string): boolean {
    return this.brokers.has(id);
  }

  // --- connection and reconciliation ---

  /** Connects a venue and reconciles orders and positions with it. */
  async connect(venue: string): Promise<void> {
    const broker = this.mustBroker(venue);
    if (!broker.isConnected()) await broker.connect();
    await this.reconcile(venue);
  }

  /**
   * Brings the engine's view in line with the venue: each working order is looked up by client order
   * id; open orders the engine did not place are reported as external; positions are taken from the
   * venue, with any difference reported.
   */
  async reconcile(venue: string): Promise<void> {
    const broker = this.mustBroker(venue);
    this.note('Reconcile', { venue });
    for (const record of this.workingOrders()) {
      if (record.venue !== venue || record.state === 'PENDING_SUBMIT') continue;
      await this.reconcileOrder(record.clientOrderId);
    }
    const open = await broker.listOpenOrders();
    for (const o of open) {
      if (this.orders.has(o.client_order_id)) continue;
      if (!this.external.has(`${venue}:${o.order_id}`)) {
        this.external.set(`${venue}:${o.order_id}`, { venue, order: o });
        this.record('ExternalOrderFound', { at: this.clock.now(), venue, order: o });
      }
    }
    const venuePositions = await broker.getPositions();
    const mine = this.positionMap(venue);
    const differences: Array<{ symbol: string; engine: number; venue: number }> = [];
    const seen = new Set<string>();
    for (const p of venuePositions) {
      seen.add(p.symbol);
      const units = toMoney(p.quantity);
      const have = mine.get(p.symbol) ?? 0n;
      if (have !== units) differences.push({ symbol: p.symbol, engine: fromMoney(have), venue: p.quantity });
      mine.set(p.symbol, units);
    }
    for (const [symbol, units] of mine) {
      if (!seen.has(symbol) && units !== 0n) {
        differences.push({ symbol, engine: fromMoney(units), venue: 0 });
        mine.set(symbol, 0n);
      }
    }
    this.record('PositionsReconciled', { at: this.clock.now(), venue, differences });
    const local = this.localVenues.get(venue);
    if (local) this.checkLocalVenue(venue, local, differences, open);
  }

  /**
   * A venue kept in the state directory changes only through this engine: after reconciling, its
   * positions, fills and open orders are the audit log's, or its account file was damaged, lost or
   * put back to an older copy.
   */
  private checkLocalVenue(
    venue: string,
    local: LocalVenue,
    differences: ReadonlyArray<{ symbol: string; engine: number; venue: number }>,
    open: readonly OrderResponse[],
  ): void {
    const problems: string[] = [];
    if (differences.length > 0) {
      problems.push(
        `its positions differ from the audit log's (${differences
          .slice(0, 3)
          .map((d) => `${d.symbol}: account ${d.venue}, audit log ${d.engine}`)
          .join('; ')})`,
      );
    }
    const fills = local.fillsEver();
    const logged = this.fillsRecorded.get(venue) ?? 0;
    if (fills !== undefined && fills !== logged) problems.push(`it has made ${fills} fill(s) where the audit log records ${logged}`);
    const strangers = open.filter((o) => !this.orders.has(o.client_order_id));
    if (strangers.length > 0)
      problems.push(
        `it holds ${strangers.length} open order(s) the audit log does not (${strangers
          .slice(0, 3)
          .map((o) => o.client_order_id)
          .join(', ')})`,
      );
    const lost = this.workingOrders().filter(
      (r) => r.venue === venue && r.venueOrderId !== undefined && !open.some((o) => o.client_order_id === r.clientOrderId),
    );
    if (lost.length > 0)
      problems.push(
        `${lost.length} order(s) the audit log has open are not in it (${lost
          .slice(0, 3)
          .map((r) => r.clientOrderId)
          .join(', ')})`,
      );
    if (problems.length > 0) this.reportDamage(new StateDamagedError(local.file, `the paper account disagrees with the audit log: ${problems.join('; ')}`));
  }

  /** Asks the venue what became of one order, by client order id. Never resends. */
  async reconcileOrder(clientOrderId: string): Promise<OrderRecord | undefined> {
    const record = this.orders.get(clientOrderId);
    if (!record) return undefined;
    const broker = this.mustBroker(record.venue);
    let found: OrderResponse | undefined;
    try {
      if (!broker.isConnected()) await broker.connect();
      found = await broker.getOrderByClientId(clientOrderId, { symbol: record.request.symbol });
    } catch (e) {
      if (!isBrokerError(e)) throw e;
      if (e.reason === 'NOT_CONNECTED') {
        try {
          await broker.connect();
          found = await broker.getOrderByClientId(clientOrderId, { symbol: record.request.symbol });
        } catch (again) {
          this.venueError(record.venue, 'getOrderByClientId', again);
          return this.orders.get(clientOrderId);
        }
      } else {
        this.venueError(record.venue, 'getOrderByClientId', e);
        return this.orders.get(clientOrderId);
      }
    }
    if (found) this.applyResponse(record.venue, found);
    else this.concludeAbsence(record.venue, broker, clientOrderId);
    return this.orders.get(clientOrderId);
  }

  /**
   * The venue has no order under this client id. That proves nothing by itself (it may still be on its
   * way), unless the venue's own rules say a request this old can no longer arrive (Binance's
   * recvWindow; the paper venue, which answers within the call): then the order never arrived.
   */
  private concludeAbsence(venue: string, broker: BrokerApi, clientOrderId: string): void {
    const record = this.orders.get(clientOrderId);
    if (!record || record.venueOrderId !== undefined) return;
    if (record.state !== 'SUBMITTED' && record.state !== 'UNCONFIRMED') return;
    const window = (broker as { readonly absenceConclusiveAfterMs?: number }).absenceConclusiveAfterMs;
    if (window === undefined) return;
    const sent = this.sentAt.get(clientOrderId) ?? this.startedAt;
    const waited = this.clock.now() - sent;
    if (waited < window) return;
    this.transition(
      clientOrderId,
      {
        type: 'Rejected',
        at: this.clock.now(),
        reason: `NEVER_ARRIVED: ${broker.displayName} has no order with client id ${clientOrderId}, and by its rules a request ${Math.round(waited)} ms old can no longer reach it (after ${window} ms); nothing was placed`,
      },
      { risk: [], neverArrived: true },
    );
    void venue;
  }

  // --- submitting ---

  /** Convenience: builds the SubmitOrder command and submits it. */
  submitOrder(order: PlacedOrderRequest, venue: string, source: SubmitOrder['source'] = 'api'): Promise<SubmitResult> {
    return this.submit(submitOrderCommand(order, { venue, source, clock: this.clock }));
  }

  /**
   * Takes one SubmitOrder through the pipeline. Resolves once the broker has answered (or the order
   * was denied); venue updates keep arriving after that through `subscribe`.
   */
  submit(cmd: SubmitOrder): Promise<SubmitResult> {
    const started = monotonicMs();
    if (this.closed) return Promise.resolve(this.deny(cmd, [], 'ENGINE_CLOSED', 'The engine is shutting down; nothing was sent.', started));
    if (this.queued >= this.queueCapacity) {
      return Promise.resolve(
        this.deny(
          cmd,
          [],
          'QUEUE_FULL',
          `${this.queued} orders are already waiting or in flight (capacity ${this.queueCapacity}); submit again once some have finished.`,
          started,
        ),
      );
    }
    this.queued++;
    // One lane per instrument however it is spelled (EURUSD, eur/usd, EUR_USD), so that a burst of
    // spellings cannot pass the risk checks side by side before the venue's id is known.
    const key = `${cmd.venue}\u0000${laneKey(cmd.order?.symbol)}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { pre: Promise.resolve(), send: Promise.resolve() };
      this.lanes.set(key, lane);
    }
    const prepared = lane.pre.then(() => this.prepare(cmd));
    lane.pre = prepared.then(noop, noop);
    const sent = Promise.all([prepared, lane.send]).then(([p]) => this.send(p));
    lane.send = sent.then(noop, noop);
    const thisLane = lane;
    return sent.finally(() => {
      this.queued--;
      if (this.lanes.get(key) === thisLane && this.queued === 0) this.lanes.clear();
    });
  }

  /**
   * Validation and every risk check, without sending, recording a working order or using the submit
   * rate: what Test Order does on a live profile. The check is recorded in the audit log.
   */
  async check(cmd: SubmitOrder): Promise<{ risk: readonly RiskCheckResult[]; denial?: { code: DenialCode; message: string }; order: PlacedOrderRequest }> {
    const prepared = await this.prepare(cmd, true);
    this.note('CheckOrder', { command: auditCommand(prepared.cmd), risk: auditRisk(prepared.risk), denial: prepared.denial ?? null });
    // The order as it would be sent (the venue's instrument id, no secret-looking metadata): what a
    // confirmation must show, so that the confirmed order and the sent one are the same.
    const order = prepared.cmd.order;
    return prepared.denial ? { risk: prepared.risk, denial: prepared.denial, order } : { risk: prepared.risk, order };
  }

  /** Waits until the order is final or `timeoutMs` passes; resolves with its record then. */
  waitForFinal(clientOrderId: string, timeoutMs: number): Promise<OrderRecord | undefined> {
    const record = this.orders.get(clientOrderId);
    if (!record || isFinalState(record.state)) return Promise.resolve(record);
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

  private async prepare(cmd: SubmitOrder, dryRun = false): Promise<Prepared> {
    // Engine time is the sum of the synchronous stretches between awaits: with many orders in flight,
    // the time an await takes to resume is spent on other orders and is not this order's.
    let engineMs = 0;
    let stretch = monotonicMs();
    const pause = (): void => {
      engineMs += monotonicMs() - stretch;
    };
    const resume = (): void => {
      stretch = monotonicMs();
    };
    const spent = (): number => engineMs + (monotonicMs() - stretch);
    const denied = (code: DenialCode, message: string, risk: RiskCheckResult[] = []): Prepared => ({
      cmd,
      risk,
      denial: { code, message },
      engineMs: spent(),
    });

    if (this.auditFailure) return denied('AUDIT_LOG_FAILED', `The audit log failed (${this.auditFailure.message}); nothing is sent until it is fixed.`);
    if (this.damaged.length > 0) {
      return denied('STATE_DAMAGED', `${this.damaged.map((d) => `${d.file}: ${d.problem}`).join('; ')}. ${this.damaged[0]?.remedy ?? ''}`.trim());
    }
    const wellFormed = checkOrderRequest(cmd.order);
    if (!wellFormed.success) {
      return denied('INVALID_ORDER', wellFormed.error.issues.map((i) => `${i.path.join('.') || 'order'}: ${i.message}`).join('; '));
    }
    if (cmd.order.client_order_id !== cmd.clientOrderId) {
      return denied('INVALID_ORDER', `the order's client_order_id ${cmd.order.client_order_id} differs from the command's ${cmd.clientOrderId}`);
    }
    if (this.orders.has(cmd.clientOrderId)) {
      const other = this.orders.get(cmd.clientOrderId) as OrderRecord;
      return denied(
        'DUPLICATE_CLIENT_ORDER_ID',
        `client order id ${cmd.clientOrderId} was already used (order ${other.state}); a retry of a command never sends a second order`,
      );
    }
    const broker = this.brokers.get(cmd.venue);
    if (!broker) return denied('UNKNOWN_VENUE', `no broker profile named ${cmd.venue} (known: ${[...this.brokers.keys()].join(', ') || 'none'})`);
    if (!broker.isConnected()) return denied('VENUE_NOT_CONNECTED', `${broker.displayName} is not connected; connect it first`);
    // A check sends nothing, so it runs every risk check on a live account too (Test Order, and Execute
    // Live before its confirmation); only sending needs the per-order confirmation.
    if (!dryRun && broker.environment === 'live' && cmd.liveConfirmation === undefined) {
      return denied('LIVE_NOT_CONFIRMED', `${broker.displayName} is a live account: every live order needs its own confirmation; nothing was sent`);
    }
    let order = cmd.order;
    // Whatever path it came by (Test Order redacts at normalisation), no secret-looking metadata key is
    // kept: the order is stored by the venue, the working orders and the log.
    const meta = order.metadata;
    if (meta !== undefined && Object.keys(meta).some(isSecretKey)) {
      order = Object.freeze({ ...order, metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : v])) });
      cmd = Object.freeze({ ...cmd, order });
    }
    const refusal = unsupportedReason(broker.capabilities, order.order_type.type, order.time_in_force.type, broker.displayName);
    if (refusal !== undefined) return denied('UNSUPPORTED_ORDER', refusal);

    let instrument = this.instruments.get(`${cmd.venue}:${order.symbol}`);
    let quote: Quote;
    let account: AccountInfo;
    pause();
    try {
      if (!instrument) {
        instrument = await broker.getInstrument(order.symbol);
        this.instruments.set(`${cmd.venue}:${order.symbol}`, instrument);
      }
      // Both at once: against a remote venue that is one round trip of waiting, not two.
      [quote, account] = await Promise.all([broker.getQuote(order.symbol), broker.getAccountInfo()]);
    } catch (e) {
      resume();
      if (!isBrokerError(e)) throw e;
      return denied('QUOTE_UNAVAILABLE', `cannot check the order without ${broker.displayName}'s quote and account: ${e.message}`);
    }
    resume();
    // The venue's own id for the instrument: risk, exposure, positions, the log and the venue all key
    // by it, whatever spelling the component used.
    if (instrument.symbol !== order.symbol && instrument.symbol !== '') {
      order = Object.freeze({ ...order, symbol: instrument.symbol });
      cmd = Object.freeze({ ...cmd, order });
    }
    const offGrid = gridProblem(order, instrument);
    if (offGrid) return denied('INVALID_ORDER', offGrid);

    const { limits, issues } = tightenLimits(this.limits, cmd.componentLimits);
    if (issues.length > 0) return denied('INVALID_RISK_LIMITS', `the component's __metadata__['risk_limits'] is invalid: ${issues.join('; ')}`);

    this.tickTradingState();
    const positions = this.positionMap(cmd.venue);
    const working = this.exposure.left(cmd.venue, order.symbol);
    // Orders not yet acknowledged are not in the venue's buying power yet.
    const reserved = this.exposure.reserved(cmd.venue);
    let conversionRate: number | undefined = 1;
    if (!sameCurrency(instrument.quoteCurrency, account.currency)) {
      pause();
      conversionRate = await this.conversionRate(broker, instrument.quoteCurrency, account.currency);
      resume();
    }
    const tradingState: TradingStateName = cmd.source === 'flatten' && this.trading.state === 'HALTED' ? 'REDUCING' : this.trading.state;
    const checks = runRiskChecks(
      {
        order,
        now: this.clock.now(),
        tradingState,
        bid: quote.bid,
        ask: quote.ask,
        position: fromMoney(positions.get(order.symbol) ?? 0n),
        workingBuy: fromMoney(working.buy),
        workingSell: fromMoney(working.sell),
        openOrders: this.working.size,
        buyingPower: account.buying_power - reserved,
        accountCurrency: account.currency,
        conversionRate,
      },
      limits,
      dryRun ? undefined : this.bucket,
    );
    if (checks.denial) return denied(checks.denial.code, checks.denial.message, checks.results);
    if (dryRun) return { cmd, risk: checks.results, engineMs: spent() };

    // Accepted for sending: from here the order counts as working for every later check.
    const record = newOrderRecord({ clientOrderId: cmd.clientOrderId, commandId: cmd.commandId, venue: cmd.venue, request: order, at: this.clock.now() });
    this.orders.set(record.clientOrderId, record);
    this.working.add(record.clientOrderId);
    this.exposure.add(record, order.quantity * (order.side === 'buy' ? quote.ask : quote.bid) * (conversionRate ?? 1));
    this.orderWriter?.schedule();
    const durable = this.command('SubmitOrder', { command: auditCommand(cmd), risk: auditRisk(checks.results) });
    // Awaited by send(); marked handled here so a failure in between is not an unhandled rejection.
    durable.catch(noop);
    return { cmd, risk: checks.results, durable, engineMs: spent() };
  }

  private async send(prepared: Prepared): Promise<SubmitResult> {
    const { cmd, risk } = prepared;
    const t0 = monotonicMs();
    if (prepared.denial) return this.deny(cmd, risk, prepared.denial.code, prepared.denial.message, t0, prepared.engineMs);
    try {
      await prepared.durable;
    } catch (e) {
      return this.denyRecorded(
        cmd,
        risk,
        'AUDIT_LOG_FAILED',
        `The SubmitOrder command could not be made durable (${(e as Error).message}); nothing was sent.`,
        prepared.engineMs,
      );
    }
    // Cancelled while it waited to be sent (cancel() denies a PENDING_SUBMIT order): it must not go out.
    const waiting = this.orders.get(cmd.clientOrderId);
    if (waiting?.state !== 'PENDING_SUBMIT') {
      const order =
        waiting ??
        applyEvent(newOrderRecord({ clientOrderId: cmd.clientOrderId, commandId: cmd.commandId, venue: cmd.venue, request: cmd.order, at: this.clock.now() }), {
          type: 'Denied',
          at: this.clock.now(),
          code: 'CANCELLED_BEFORE_SEND',
          reason: 'cancelled before it was sent',
        }).order;
      const code = (order.denialCode ?? 'CANCELLED_BEFORE_SEND') as DenialCode;
      return { order, risk, denial: { code, message: order.reason ?? 'cancelled before it was sent' }, engineMs: prepared.engineMs, venueMs: null };
    }
    // A halt between the checks and now (an emergency stop) wins: nothing is sent while HALTED.
    if (this.trading.state === 'HALTED' && cmd.source !== 'flatten') {
      return this.denyRecorded(
        cmd,
        risk,
        'TRADING_HALTED',
        `Trading was halted before the order was sent (${this.trading.current.reason}); nothing was sent.`,
        prepared.engineMs,
      );
    }
    if (this.auditFailure)
      return this.denyRecorded(cmd, risk, 'AUDIT_LOG_FAILED', `The audit log failed (${this.auditFailure.message}); nothing was sent.`, prepared.engineMs);
    const broker = this.mustBroker(cmd.venue);
    const engineStart = monotonicMs();
    this.transition(cmd.clientOrderId, { type: 'Sent', at: this.clock.now() }, { risk });
    this.sentAt.set(cmd.clientOrderId, this.clock.now());
    let engineMs = prepared.engineMs + (monotonicMs() - engineStart);
    const venueStart = monotonicMs();
    let venueMs: number;
    // The venue's updates for this order (delivered while the call is under way) are engine work too.
    this.updateMs.set(cmd.clientOrderId, 0);
    try {
      crashPoint('engine-before-send');
      const response = await broker.submitOrder(cmd.order);
      crashPoint('engine-after-venue-answered');
      venueMs = monotonicMs() - venueStart;
      const applyStart = monotonicMs();
      this.applyResponse(cmd.venue, response);
      engineMs += monotonicMs() - applyStart + (this.updateMs.get(cmd.clientOrderId) ?? 0);
      this.updateMs.delete(cmd.clientOrderId);
    } catch (e) {
      this.updateMs.delete(cmd.clientOrderId);
      venueMs = monotonicMs() - venueStart;
      if (!isBrokerError(e)) throw e;
      if (e.outcomeUnknown) {
        // The venue's update stream may already have told us more than the lost reply would have.
        const now = this.orders.get(cmd.clientOrderId) as OrderRecord;
        if (now.state === 'SUBMITTED') {
          this.transition(cmd.clientOrderId, {
            type: 'Unconfirmed',
            at: this.clock.now(),
            reason: `${e.reason}: ${e.message}; looking it up by client order id ${cmd.clientOrderId}, never resending`,
          });
        }
        if (!isFinalState(now.state)) this.scheduleReconcile(cmd.clientOrderId, 0);
      } else if (e.reason === 'DUPLICATE_CLIENT_ORDER_ID') {
        // The venue already has an order with this id: find out what it is rather than call it failed.
        this.transition(cmd.clientOrderId, { type: 'Unconfirmed', at: this.clock.now(), reason: `${e.reason}: ${e.message}` });
        this.scheduleReconcile(cmd.clientOrderId, 0);
      } else if ((e as { notActed?: boolean }).notActed) {
        // The venue provably did nothing (a rate limit that outlasted the retries, a refused connection):
        // not a venue rejection, and nothing to look up. A broker error for the circuit breaker.
        this.transition(
          cmd.clientOrderId,
          { type: 'Rejected', at: this.clock.now(), reason: `NOT_PLACED: ${e.reason}: ${e.message}; nothing reached ${broker.displayName}, try again later` },
          { risk, neverArrived: true },
        );
        const change = this.trading.recordFailure(`${cmd.order.symbol} ${cmd.clientOrderId}: ${e.reason}`);
        if (change) this.stateChanged(change);
      } else {
        this.transition(cmd.clientOrderId, { type: 'Rejected', at: this.clock.now(), reason: `${e.reason}: ${e.message}` });
      }
    }
    return { order: this.orders.get(cmd.clientOrderId) as OrderRecord, risk, engineMs, venueMs };
  }

  private deny(cmd: SubmitOrder, risk: RiskCheckResult[], code: DenialCode, message: string, started: number, engineMs?: number): SubmitResult {
    const at = this.clock.now();
    let record = newOrderRecord({ clientOrderId: cmd.clientOrderId, commandId: cmd.commandId, venue: cmd.venue, request: cmd.order, at });
    record = applyEvent(record, { type: 'Denied', at, code, reason: message }).order;
    // A denied duplicate must not replace the order that holds the id.
    if (!this.orders.has(cmd.clientOrderId)) {
      this.orders.set(cmd.clientOrderId, record);
      this.retire(cmd.clientOrderId);
    }
    this.note('SubmitOrder', { command: auditCommand(cmd), risk: auditRisk(risk) });
    this.record('OrderDenied', {
      at,
      clientOrderId: cmd.clientOrderId,
      commandId: cmd.commandId,
      venue: cmd.venue,
      symbol: String(cmd.order?.symbol ?? ''),
      state: 'DENIED',
      code,
      reason: message,
      risk,
      order: auditOrder(cmd.order),
    });
    return { order: record, risk, denial: { code, message }, engineMs: engineMs ?? monotonicMs() - started, venueMs: null };
  }

  /** Denies an order whose SubmitOrder was already recorded (it passed the checks but was not sent). */
  private denyRecorded(cmd: SubmitOrder, risk: RiskCheckResult[], code: DenialCode, message: string, engineMs: number): SubmitResult {
    const at = this.clock.now();
    this.transition(cmd.clientOrderId, { type: 'Denied', at, code, reason: message }, { code, risk, commandId: cmd.commandId, order: cmd.order });
    return { order: this.orders.get(cmd.clientOrderId) as OrderRecord, risk, denial: { code, message }, engineMs, venueMs: null };
  }

  // --- cancelling and stopping ---

  /** Asks the venue to cancel one order. Resolves with the order's record after the venue answered. */
  async cancel(clientOrderId: string): Promise<OrderRecord> {
    const record = this.orders.get(clientOrderId);
    if (!record) throw new Error(`no order with client order id ${clientOrderId}`);
    this.note('CancelOrder', { clientOrderId, venue: record.venue });
    if (isFinalState(record.state)) return record;
    if (record.state === 'PENDING_SUBMIT') {
      this.transition(clientOrderId, { type: 'Denied', at: this.clock.now(), code: 'CANCELLED_BEFORE_SEND', reason: 'cancelled before it was sent' });
      return this.orders.get(clientOrderId) as OrderRecord;
    }
    this.transition(clientOrderId, { type: 'CancelRequested', at: this.clock.now() });
    const broker = this.mustBroker(record.venue);
    try {
      let venueId = this.orders.get(clientOrderId)?.venueOrderId;
      if (venueId === undefined) {
        await this.reconcileOrder(clientOrderId);
        venueId = this.orders.get(clientOrderId)?.venueOrderId;
      }
      const now = this.orders.get(clientOrderId) as OrderRecord;
      if (isFinalState(now.state)) return now;
      if (venueId === undefined) {
        this.transition(clientOrderId, {
          type: 'CancelRejected',
          at: this.clock.now(),
          reason: 'the venue has no record of this order yet; it is looked up again on reconcile',
        });
        return this.orders.get(clientOrderId) as OrderRecord;
      }
      await broker.cancelOrder(venueId);
      const status = await broker.getOrderStatus(venueId).catch(() => undefined);
      if (status) this.applyResponse(record.venue, status);
    } catch (e) {
      if (!isBrokerError(e)) throw e;
      if (e.outcomeUnknown) {
        this.scheduleReconcile(clientOrderId, 0);
      } else {
        this.transition(clientOrderId, { type: 'CancelRejected', at: this.clock.now(), reason: `${e.reason}: ${e.message}` });
        await this.reconcileOrder(clientOrderId);
      }
    }
    return this.orders.get(clientOrderId) as OrderRecord;
  }

  /** Sets the trading state by a person's decision. */
  setTradingState(state: TradingStateName, reason: string): StateChange | undefined {
    this.note(state === 'ACTIVE' ? 'Resume' : state === 'HALTED' ? 'Halt' : 'Reduce', { reason });
    const change = this.trading.set(state, reason, 'user');
    if (change) this.stateChanged(change);
    return change;
  }

  /**
   * HALTED at once (saved before anything else), then every open order on every connected venue is
   * cancelled — the engine's and external ones — and, when asked (after confirmation), every position
   * is closed with a market order.
   */
  async emergencyStop(options: { reason?: string; flatten?: boolean } = {}): Promise<EmergencyStopReport> {
    const reason = options.reason ?? 'emergency stop';
    this.note('EmergencyStop', { reason, flatten: options.flatten === true });
    const change = this.trading.set('HALTED', reason, 'emergency_stop');
    if (change) this.stateChanged(change);
    const report: EmergencyStopReport = { cancelled: [], failed: [], flattened: [] };
    for (const [venue, broker] of this.brokers) {
      if (!broker.isConnected()) continue;
      for (const record of this.workingOrders()) {
        if (record.venue !== venue) continue;
        const after = await this.cancel(record.clientOrderId);
        if (after.state === 'CANCELLED' || after.state === 'DENIED') report.cancelled.push(record.clientOrderId);
        else if (!isFinalState(after.state)) report.failed.push({ venue, order: record.clientOrderId, reason: after.reason ?? after.state });
      }
      let open: OrderResponse[] = [];
      try {
        open = await broker.listOpenOrders();
      } catch (e) {
        report.failed.push({ venue, order: '*', reason: `could not list open orders: ${(e as Error).message}` });
      }
      for (const o of open) {
        if (this.orders.has(o.client_order_id) && isFinalState((this.orders.get(o.client_order_id) as OrderRecord).state)) continue;
        if (this.orders.has(o.client_order_id)) continue;
        try {
          await broker.cancelOrder(o.order_id);
          this.external.delete(`${venue}:${o.order_id}`);
          report.cancelled.push(o.client_order_id);
          this.note('CancelExternalOrder', { venue, orderId: o.order_id, clientOrderId: o.client_order_id });
        } catch (e) {
          report.failed.push({ venue, order: o.client_order_id, reason: (e as Error).message });
        }
      }
      if (options.flatten) {
        let positions: Array<{ symbol: string; quantity: number }> = [];
        try {
          positions = await broker.getPositions();
        } catch (e) {
          report.failed.push({ venue, order: 'flatten', reason: `could not read positions: ${(e as Error).message}` });
        }
        for (const p of positions) {
          if (p.quantity === 0) continue;
          const order: PlacedOrderRequest = {
            symbol: p.symbol,
            side: p.quantity > 0 ? 'sell' : 'buy',
            order_type: { type: 'market' },
            quantity: Math.abs(p.quantity),
            time_in_force: { type: 'IOC' },
            client_order_id: '',
            metadata: { reason: 'emergency stop: flatten' },
          };
          const cmd = submitOrderCommand({ ...order, client_order_id: undefined }, { venue, source: 'flatten', clock: this.clock });
          const result = await this.submit(cmd);
          report.flattened.push({
            venue,
            symbol: p.symbol,
            quantity: p.quantity,
            result: result.denial ? `denied: ${result.denial.message}` : result.order.state,
          });
        }
      }
    }
    return report;
  }

  /** Writes everything pending to the audit log and stops timers. The brokers are left to their owner. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.subscriptions.values()) s.dispose();
    this.subscriptions.clear();
    await Promise.allSettled([...this.pendingAudit]);
    if (this.audit && this.audit.state === 'open') await this.audit.flush().catch(() => undefined);
    // A working-orders file that cannot be written was reported (StateSaveFailed, HALTED) when it
    // failed; the audit log holds the orders, so closing still completes.
    await this.orderWriter?.flush().catch(() => undefined);
  }

  /** Problems saving state that a caller should tell the user about (the last failures, if any). */
  saveProblems(): string[] {
    const out: string[] = [];
    if (this.orderWriter?.error) out.push(this.orderWriter.error.message);
    if (this.trading.lastSaveError) out.push(`${this.trading.lastSaveError.message} (the halt is recorded in the audit log and restored from it)`);
    if (this.auditFailure) out.push(this.auditFailure.message);
    return out;
  }

  // --- venue updates ---

  private onVenueUpdate(venue: string, update: OrderUpdate): void {
    const spent = this.updateMs.get(update.order.client_order_id);
    const started = spent === undefined ? 0 : monotonicMs();
    try {
      this.applyResponse(venue, update.order);
    } catch (e) {
      this.venueError(venue, 'orderUpdate', e);
    }
    if (spent !== undefined) this.updateMs.set(update.order.client_order_id, spent + (monotonicMs() - started));
  }

  /** Turns a venue's view of an order into state-machine events and applies the new ones. */
  private applyResponse(venue: string, response: OrderResponse): void {
    const clientOrderId = response.client_order_id || this.byVenueId.get(response.order_id);
    const record = clientOrderId === undefined ? undefined : this.orders.get(clientOrderId);
    if (!record || record.venue !== venue) {
      const key = `${venue}:${response.order_id}`;
      if (!isFinalStatus(response.status) && !this.external.has(key)) {
        this.external.set(key, { venue, order: response });
        this.record('ExternalOrderFound', { at: this.clock.now(), venue, order: response });
      } else if (isFinalStatus(response.status)) {
        this.external.delete(key);
      }
      return;
    }
    const id = record.clientOrderId;
    this.byVenueId.set(response.order_id, id);
    const at = this.clock.now();
    const status = response.status;
    if (status.status === 'rejected') {
      this.transition(id, { type: 'Rejected', at, reason: status.reason, venueOrderId: response.order_id });
      return;
    }
    const current = this.orders.get(id) as OrderRecord;
    if (current.state === 'SUBMITTED' || current.state === 'UNCONFIRMED') this.transition(id, { type: 'Accepted', at, venueOrderId: response.order_id });
    for (const fill of fillsOf(this.orders.get(id) as OrderRecord, response)) this.transition(id, { type: 'Fill', at, fill });
    if (status.status === 'cancelled') this.transition(id, { type: 'Cancelled', at, venueOrderId: response.order_id });
    else if (status.status === 'expired') this.transition(id, { type: 'Expired', at, venueOrderId: response.order_id });
  }

  /** Applies one event through the state machine; publishes and records what changed. */
  private transition(
    clientOrderId: string,
    event: OrderEvent,
    context?: { code?: DenialCode; risk: readonly RiskCheckResult[]; commandId?: string; order?: unknown; neverArrived?: boolean },
  ): void {
    const before = this.orders.get(clientOrderId) as OrderRecord;
    let applied;
    try {
      applied = applyEvent(before, event);
    } catch (e) {
      if (!(e instanceof OrderTransitionError)) throw e;
      this.record('TransitionRefused', { at: this.clock.now(), clientOrderId, venue: before.venue, code: e.code, message: e.message });
      return;
    }
    if (!applied.changed) return;
    const order = applied.order;
    this.orders.set(clientOrderId, order);
    this.exposure.update(before, order);
    this.orderWriter?.schedule();
    const base = { at: event.at, clientOrderId, venue: order.venue, symbol: order.request.symbol, state: order.state };
    switch (event.type) {
      case 'Sent':
        // The log holds the order and its checks in the SubmitOrder command (made durable before
        // sending, same commandId); this record marks the send. Listeners get the whole picture.
        this.record(
          'OrderSubmitted',
          { ...base, commandId: order.commandId, order: auditOrder(order.request), risk: context?.risk ?? [] },
          { ...base, commandId: order.commandId },
        );
        break;
      case 'Denied':
        this.record('OrderDenied', {
          ...base,
          commandId: order.commandId,
          code: context?.code ?? (event.code as DenialCode),
          reason: event.reason,
          risk: context?.risk ?? [],
          order: auditOrder(order.request),
        });
        break;
      case 'Accepted':
        this.trading.recordSuccess();
        this.record('OrderAccepted', { ...base, venueOrderId: event.venueOrderId });
        break;
      case 'Unconfirmed':
        this.record('OrderUnconfirmed', { ...base, reason: event.reason });
        break;
      case 'Fill': {
        this.trading.recordSuccess();
        const signed = toMoney(event.fill.quantity) * (event.fill.side === 'buy' ? 1n : -1n);
        this.fillsRecorded.set(order.venue, (this.fillsRecorded.get(order.venue) ?? 0) + 1);
        const map = this.positionMap(order.venue);
        const position = (map.get(order.request.symbol) ?? 0n) + signed;
        map.set(order.request.symbol, position);
        this.record(order.state === 'FILLED' ? 'OrderFilled' : 'OrderPartiallyFilled', {
          ...base,
          fill: event.fill,
          filledQuantity: fromMoney(order.filledUnits),
          remainingQuantity: remainingQuantity(order),
          averagePrice: averagePrice(order),
          position: fromMoney(position),
        });
        this.checkEquity(order.venue);
        break;
      }
      case 'CancelRequested':
        this.record('OrderCancelRequested', base);
        break;
      case 'CancelRejected':
        this.record('OrderCancelRejected', { ...base, reason: event.reason });
        break;
      case 'Cancelled':
        this.record('OrderCancelled', base);
        break;
      case 'Expired':
        this.record('OrderExpired', base);
        break;
      case 'Rejected': {
        if (context?.neverArrived) {
          // Not a venue refusal: nothing reached it. No circuit-breaker failure either.
          this.record('OrderNeverArrived', { ...base, reason: event.reason });
          break;
        }
        this.record('OrderRejected', { ...base, reason: event.reason });
        const change = this.trading.recordFailure(`${order.request.symbol} ${order.clientOrderId}: ${event.reason}`);
        if (change) this.stateChanged(change);
        break;
      }
    }
    if (isFinalState(order.state)) {
      this.retire(clientOrderId);
      this.sentAt.delete(clientOrderId);
    }
  }

  private retire(clientOrderId: string): void {
    const current = this.orders.get(clientOrderId);
    if (current) this.exposure.remove(current);
    this.working.delete(clientOrderId);
    if (!this.finishedSet.has(clientOrderId)) {
      this.finishedSet.add(clientOrderId);
      this.finished.push(clientOrderId);
    }
    const order = this.orders.get(clientOrderId);
    const waiters = this.finalWaiters.get(clientOrderId);
    if (waiters && order) {
      this.finalWaiters.delete(clientOrderId);
      for (const w of waiters) w(order);
    }
    while (this.finished.length > this.maxFinished) {
      const old = this.finished.shift() as string;
      this.finishedSet.delete(old);
      const o = this.orders.get(old);
      if (o && isFinalState(o.state)) {
        this.orders.delete(old);
        if (o.venueOrderId) this.byVenueId.delete(o.venueOrderId);
      }
    }
  }

  private scheduleReconcile(clientOrderId: string, attempt: number): void {
    if (this.closed || attempt >= this.reconcileAttempts) return;
    const delay = this.reconcileDelayMs * 2 ** attempt;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const before = this.orders.get(clientOrderId)?.updatedAt;
      void this.reconcileOrder(clientOrderId).then((o) => {
        // Look again while the venue has not answered for it (unknown, or a look-up that failed).
        const unanswered = o !== undefined && !isFinalState(o.state) && (o.state === 'UNCONFIRMED' || o.state === 'PENDING_CANCEL' || o.updatedAt === before);
        if (unanswered) this.scheduleReconcile(clientOrderId, attempt + 1);
      });
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  // --- trading state ---

  private tickTradingState(): void {
    let change: StateChange | undefined;
    try {
      change = this.trading.tick();
    } catch (e) {
      // The cool-down's end cannot be saved: stay halted rather than trade on an unsaved state.
      this.record('StateSaveFailed', { at: this.clock.now(), file: (e as { file?: string }).file ?? 'trading-state.json', message: (e as Error).message });
    }
    if (change) this.stateChanged(change);
  }

  private stateChanged(change: StateChange): void {
    this.record('TradingStateChanged', { at: change.at, from: change.from, to: change.to, reason: change.reason, source: change.source });
    const failed = this.trading.lastSaveError;
    if (failed) {
      this.record('StateSaveFailed', {
        at: this.clock.now(),
        file: (failed as { file?: string }).file ?? 'trading-state.json',
        message: `${failed.message}; the ${change.to} state is in effect and recorded in the audit log, which the next open takes it from`,
      });
    }
  }

  private checkEquity(venue: string): void {
    if (this.trading.breakerStatus().settings.maxDailyLoss === undefined) return;
    const now = this.clock.now();
    if (now < this.equityCheckAt) return;
    this.equityCheckAt = now + 1000;
    const broker = this.brokers.get(venue);
    if (!broker || broker.environment === 'live') return;
    void broker.getAccountInfo().then(
      (a) => {
        const change = this.trading.recordEquity(a.equity, a.currency);
        if (change) this.stateChanged(change);
      },
      (e: unknown) => this.venueError(venue, 'getAccountInfo', e),
    );
  }

  // --- audit and publication ---

  /** Records a command without waiting for it to be durable (a failure halts trading). */
  private note(type: string, data: Record<string, unknown>): void {
    this.write(type, { at: this.clock.now(), ...data });
  }

  /** Records a command (no listeners): returns its durability. */
  private command(type: string, data: Record<string, unknown>): Promise<unknown> {
    return this.append(type, { at: this.clock.now(), ...data });
  }

  /**
   * Publishes one event and records it, as published or, where the log already holds part of it
   * under another record, as `audited`.
   */
  private record<T extends EngineEvent['type']>(type: T, data: Omit<Extract<EngineEvent, { type: T }>, 'type'>, audited?: Record<string, unknown>): void {
    this.write(type, audited ?? data);
    this.publish({ type, ...data } as unknown as EngineEvent);
  }

  /**
   * Records without waiting for durability: the log makes it durable with the next batch (`close`
   * waits for that), and a failure to do so halts trading through `onFailure`.
   */
  private write(type: string, data: Record<string, unknown>): void {
    const audit = this.audit;
    if (!audit) return;
    try {
      audit.write(type, data);
    } catch (e) {
      if (e instanceof AuditLogFailedError) {
        this.onAuditFailure(e);
        return;
      }
      // Refused (a secret-looking key, a value JSON cannot hold): record it redacted, or say what was refused.
      try {
        audit.write(type, redactSecrets(data));
      } catch {
        try {
          audit.write('AuditRefused', { type, message: (e as Error).message });
        } catch (again) {
          this.onAuditFailure(again as Error);
        }
      }
    }
  }

  private publish(event: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure must not stop the engine or the other listeners.
      }
    }
  }

  private append(type: string, data: Record<string, unknown>): Promise<unknown> {
    if (!this.audit) return Promise.resolve();
    let p: Promise<unknown>;
    try {
      p = this.audit.append(type, data);
    } catch (e) {
      // Refused synchronously (a secret-looking key, a value JSON cannot hold): record that, redacted.
      p = this.audit.append(type, redactSecrets(data)).catch(() => this.audit?.append('AuditRefused', { type, message: (e as Error).message }));
    }
    this.pendingAudit.add(p);
    return p.then(
      (r) => {
        this.pendingAudit.delete(p);
        return r;
      },
      (e: unknown) => {
        this.pendingAudit.delete(p);
        this.onAuditFailure(e as Error);
        throw e;
      },
    );
  }

  private onAuditFailure(e: Error): void {
    if (this.auditFailure) return;
    this.auditFailure = e;
    const change = this.trading.set('HALTED', `the audit log failed: ${e.message}`, 'circuit_breaker');
    // The log cannot take the event any more; the listeners still must hear of the halt.
    if (change) this.publish({ type: 'TradingStateChanged', at: change.at, from: change.from, to: change.to, reason: change.reason, source: change.source });
  }

  private venueError(venue: string, operation: string, e: unknown): void {
    const reason = isBrokerError(e) ? e.reason : 'INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    this.record('VenueError', { at: this.clock.now(), venue, operation, reason, message });
  }

  // --- helpers ---

  private mustBroker(venue: string): BrokerApi {
    const b = this.brokers.get(venue);
    if (!b) throw new BrokerError('INTERNAL', `no broker profile named ${venue}`);
    return b;
  }

  private positionMap(venue: string): Map<string, bigint> {
    let m = this.positions.get(venue);
    if (!m) {
      m = new Map();
      this.positions.set(venue, m);
    }
    return m;
  }

  private readonly rates = new Map<string, { rate: number | undefined; at: number }>();

  /** Quote currency → account currency at the mid; 1 for the same currency (USDT/USDC count as USD). */
  private async conversionRate(broker: BrokerApi, from: string, to: string): Promise<number | undefined> {
    if (sameCurrency(from, to)) return 1;
    const key = `${broker.id}:${from}:${to}`;
    const cached = this.rates.get(key);
    const now = this.clock.now();
    if (cached && now - cached.at < 1000) return cached.rate;
    let rate: number | undefined;
    for (const [symbol, invert] of [
      [`${from}_${to}`, false],
      [`${to}_${from}`, true],
    ] as const) {
      try {
        const q = await broker.getQuote(symbol);
        const mid = (q.bid + q.ask) / 2;
        rate = invert ? 1 / mid : mid;
        break;
      } catch {
        // try the other way round
      }
    }
    this.rates.set(key, { rate, at: now });
    return rate;
  }
}

/** Spellings of one instrument share a lane: upper-case, separators dropped. */
const laneKey = (symbol: unknown): string => (typeof symbol === 'string' ? instrumentKey(symbol) : String(symbol));

const dollars = (c: string): string => (c === 'USDT' || c === 'USDC' ? 'USD' : c);
/** Whether two currencies are one for risk purposes (USDT and USDC count as USD). */
const sameCurrency = (a: string, b: string): boolean => a === b || dollars(a) === dollars(b);

/** Fills in a venue response that the record does not have yet; synthesised from cumulative figures when the venue lists none. */
function fillsOf(record: OrderRecord, response: OrderResponse): Fill[] {
  const known = new Set(record.fills.map((f) => f.fill_id));
  const listed = response.fills.filter((f) => !known.has(f.fill_id));
  if (response.fills.length > 0 || response.filled_quantity === null || response.filled_price === null) return listed;
  const cum = toMoney(response.filled_quantity);
  if (cum <= record.filledUnits) return [];
  const qty = cum - record.filledUnits;
  const totalNotional = cum * toMoney(response.filled_price);
  const price = fromMoney((totalNotional - record.notionalUnits + qty / 2n) / qty);
  return [
    {
      fill_id: `${response.order_id}:${fromMoney(cum)}`,
      order_id: response.order_id,
      client_order_id: record.clientOrderId,
      symbol: record.request.symbol,
      side: record.request.side,
      price,
      quantity: fromMoney(qty),
      commission: Math.max(0, (response.commission ?? 0) - record.commission),
      liquidity: 'taker',
      timestamp: response.timestamp,
    },
  ];
}

/** Why a price or quantity is off the venue's grid, or undefined. */
function gridProblem(order: PlacedOrderRequest, instrument: InstrumentRules): string | undefined {
  if (order.quantity < instrument.minQuantity) return `quantity ${order.quantity} is below ${instrument.symbol}'s minimum of ${instrument.minQuantity}`;
  if (!isOnStep(order.quantity, instrument.lotSize))
    return `quantity ${order.quantity} is not a multiple of ${instrument.symbol}'s lot size ${instrument.lotSize}`;
  const t = order.order_type;
  const prices: Array<[string, number]> =
    t.type === 'limit'
      ? [['limit price', t.price]]
      : t.type === 'stop'
        ? [['stop price', t.price]]
        : t.type === 'stop_limit'
          ? [
              ['stop price', t.stop_price],
              ['limit price', t.limit_price],
            ]
          : [];
  for (const [label, p] of prices) {
    if (!isOnStep(p, instrument.tickSize)) return `${label} ${p} is not on ${instrument.symbol}'s tick size ${instrument.tickSize}`;
  }
  return undefined;
}

/** The command as the audit log keeps it: the order's free-form metadata redacted of anything secret-looking. */
function auditCommand(cmd: SubmitOrder): Record<string, unknown> {
  return {
    commandId: cmd.commandId,
    issuedAt: cmd.issuedAt,
    clientOrderId: cmd.clientOrderId,
    venue: cmd.venue,
    source: cmd.source,
    order: auditOrder(cmd.order),
    ...(cmd.component === undefined ? {} : { component: cmd.component }),
    ...(cmd.componentLimits === undefined ? {} : { componentLimits: redactSecrets(cmd.componentLimits) }),
    ...(cmd.liveConfirmation === undefined ? {} : { liveConfirmation: cmd.liveConfirmation }),
  };
}

/**
 * Risk results as the audit log keeps them: check, verdict, limit and actual. The sentence shown to the
 * user is rebuilt from these, so it is not stored a second time (it would triple the size of the line).
 */
function auditRisk(results: readonly RiskCheckResult[]): Array<[string, boolean, number | string | null, number | string | null]> {
  return results.map((r) => [r.check, r.passed, r.limit, r.actual]);
}

function auditOrder<T>(order: T): T {
  if (typeof order !== 'object' || order === null) return order;
  const o = order as Record<string, unknown>;
  const metadata = o['metadata'];
  if (typeof metadata !== 'object' || metadata === null || Object.keys(metadata).length === 0) return order;
  return { ...o, metadata: redactSecrets(metadata) } as T;
}

/** An order the audit log has open, as a record: its fills applied through the state machine. */
export function recoveredRecord(d: DigestOrder): OrderRecord {
  let record: OrderRecord = {
    ...newOrderRecord({ clientOrderId: d.clientOrderId, commandId: d.commandId, venue: d.venue, request: d.request, at: d.createdAt }),
    state: 'SUBMITTED',
  };
  for (const fill of d.fills) {
    try {
      record = applyEvent(record, { type: 'Fill', at: fill.timestamp, fill }).order;
    } catch {
      // A fill the log holds but the state machine refuses was refused then too (TransitionRefused).
    }
  }
  const state = d.state === 'PENDING_SUBMIT' ? 'SUBMITTED' : d.state === 'PARTIALLY_FILLED' && record.filledUnits === 0n ? 'ACCEPTED' : d.state;
  return {
    ...record,
    state: record.state === 'PARTIALLY_FILLED' && (state === 'ACCEPTED' || state === 'SUBMITTED' || state === 'UNCONFIRMED') ? 'PARTIALLY_FILLED' : state,
    ...(d.venueOrderId === undefined ? {} : { venueOrderId: d.venueOrderId }),
    ...(d.reason === undefined ? {} : { reason: d.reason }),
    ...(state === 'PENDING_CANCEL' ? { stateBeforeCancel: record.filledUnits > 0n ? 'PARTIALLY_FILLED' : 'ACCEPTED' } : {}),
    updatedAt: d.updatedAt,
  };
}
