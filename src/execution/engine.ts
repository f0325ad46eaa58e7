/**
 * The execution engine: the only path by which an order reaches a broker. A facade over its pieces
 * (src/execution/engine/), each owning its state, each importing only the ones below it:
 *
 *   SubmitOrder ─▶ submit lanes ─▶ pre-trade checks ─▶ event log (SubmitOrder durable) ─▶ venue
 *                     │                 │                                                │
 *                  OrderDenied       OrderDenied                    venue events: the venue's updates
 *                                                                   through the order state machine
 *
 *   orderCache      orders, working set, exposure, positions, external orders, waits for final
 *   eventLog        audit (durable) and publication of every command and event
 *   tradingControl  ACTIVE / REDUCING / HALTED, circuit breaker, damaged state files
 *   venues          broker profiles and their update subscriptions
 *   venueEvents     venue updates and replies → state-machine events → records
 *   reconciler      look-ups by client order id, external orders, positions, the local venue's check
 *   preTrade        validation, venue, grid and risk checks
 *   submitLanes     a lane per instrument, the bounded queue, deny, send
 *   emergencyStop   cancel, emergency stop and flatten
 *   restore         what the audit log and the working-orders file hand over at startup
 *
 * If the audit log fails, trading halts: nothing is sent that is not recorded.
 */
import type { Clock } from '../common/clock';
import type { BrokerApi, Disposable } from '../brokers/broker';
import { BrokerError } from '../brokers/errors';
import type { StateDamagedError } from '../common/stateErrors';
import type { OrderResponse, PlacedOrderRequest } from '../orders/model';
import { submitOrderCommand, type DenialCode, type EngineEvent, type SubmitOrder } from './events';
import type { OrderRecord } from './orderState';
import type { WorkingOrderWriter } from './orderStore';
import type { RiskCheckResult, RiskLimits, TradingStateName } from './risk';
import type { StateChange, TradingStateStore } from './tradingState';
import { madeByThisProcess } from '../common/ids';
import { auditCommand, auditRisk, EventLog } from './engine/eventLog';
import { OrderCache } from './engine/orderCache';
import { PreTradeChecks } from './engine/preTrade';
import { Reconciler } from './engine/reconciler';
import { markInterrupted, restore } from './engine/restore';
import { Stopper } from './engine/emergencyStop';
import { SubmitLanes } from './engine/submitLanes';
import { TradingControl } from './engine/tradingControl';
import { VenueEvents } from './engine/venueEvents';
import { VenueRegistry } from './engine/venues';
import type { EmergencyStopReport, EngineOptions, EngineStatus, SubmitResult } from './engine/types';

export type { EmergencyStopReport, EngineOptions, EngineStatus, LocalVenue, SubmitResult } from './engine/types';
export { recoveredRecord } from './engine/restore';

export class ExecutionEngine {
  readonly trading: TradingStateStore;
  private readonly clock: Clock;
  private readonly cache: OrderCache;
  private readonly log: EventLog;
  private readonly control: TradingControl;
  private readonly venues: VenueRegistry;
  private readonly events: VenueEvents;
  private readonly reconciler: Reconciler;
  private readonly checks: PreTradeChecks;
  private readonly lanes: SubmitLanes;
  private readonly stopper: Stopper;
  private readonly orderWriter: WorkingOrderWriter | undefined;
  private readonly queueCapacity: number;
  private readonly closeWaitMs: number;
  private closed = false;

  constructor(options: EngineOptions) {
    const clock = options.clock;
    this.clock = clock;
    const startedAt = clock.now();
    this.queueCapacity = options.queueCapacity ?? 1024;
    this.closeWaitMs = options.closeWaitMs ?? 30_000;
    this.log = new EventLog(clock, options.audit);
    this.control = new TradingControl(
      clock,
      this.log,
      options.tradingStateFile,
      options.circuitBreaker,
      options.digest?.lastTradingState,
      options.damage ?? [],
      options.digest?.dayStart,
    );
    this.trading = this.control.trading;
    // Events are recorded without a promise each; a batch that cannot be made durable halts trading here.
    this.log.onFailure((e) => this.control.auditFailed(e));
    this.cache = new OrderCache(
      options.maxFinishedOrders ?? 10_000,
      // A replay's own ids are never retried (its commands come from its loop); a component's own ids are kept.
      options.simulation === true ? (id) => !madeByThisProcess(id) : undefined,
    );
    this.orderWriter = restore(options, this.cache, this.control, options.audit);
    const writer = this.orderWriter;
    if (writer) this.cache.onWorkingChange = () => writer.schedule();
    this.events = new VenueEvents(clock, this.cache, this.log, this.control, () => this.venues);
    this.venues = new VenueRegistry(options.brokers, (venue, update) => this.events.onVenueUpdate(venue, update));
    this.reconciler = new Reconciler({
      clock,
      cache: this.cache,
      log: this.log,
      control: this.control,
      venues: this.venues,
      events: this.events,
      localVenues: options.localVenues ?? new Map(),
      startedAt,
      attempts: options.reconcileAttempts ?? 8,
      delayMs: options.reconcileDelayMs ?? 100,
    });
    this.checks = new PreTradeChecks(clock, this.cache, this.log, this.control, this.venues, options.limits);
    this.lanes = new SubmitLanes({
      clock,
      cache: this.cache,
      log: this.log,
      control: this.control,
      venues: this.venues,
      checks: this.checks,
      events: this.events,
      reconciler: this.reconciler,
      capacity: this.queueCapacity,
      simulation: options.simulation === true,
    });
    this.stopper = new Stopper({
      clock,
      cache: this.cache,
      log: this.log,
      control: this.control,
      venues: this.venues,
      events: this.events,
      reconciler: this.reconciler,
      submit: (cmd) => this.submit(cmd),
      inFlight: (clientOrderId) => this.lanes.inFlight(clientOrderId),
      simulation: options.simulation === true,
    });
    this.control.announce();
    markInterrupted(this.cache, this.log, clock, startedAt);
  }

  /** State files found damaged, missing or older than the audit log; no order is sent while there is any. */
  get damage(): readonly StateDamagedError[] {
    return this.control.damage;
  }

  /** Marks a state file as damaged (recorded; new orders are denied until `recover`). */
  reportDamage(damage: StateDamagedError): void {
    this.control.reportDamage(damage);
  }

  // --- subscriptions and views ---

  /** Every event, in order, as it happens. */
  subscribe(listener: (event: EngineEvent) => void): Disposable {
    return this.log.subscribe(listener);
  }

  getOrder(clientOrderId: string): OrderRecord | undefined {
    return this.cache.get(clientOrderId);
  }

  /** Orders the venue may still fill (or that are waiting to be sent). */
  workingOrders(): OrderRecord[] {
    return this.cache.workingOrders();
  }

  allOrders(): OrderRecord[] {
    return this.cache.allOrders();
  }

  /** Open orders at connected venues that the engine did not place, each with the venue (broker profile id) it is at. */
  externalOrders(): Array<{ readonly venue: string; readonly order: OrderResponse }> {
    return this.cache.externalOrders();
  }

  /** The engine's signed position per symbol at a venue. */
  positionsOf(venue: string): Record<string, number> {
    return this.cache.positionsOf(venue);
  }

  setLimits(limits: RiskLimits): void {
    this.checks.setLimits(limits);
  }

  status(): EngineStatus {
    this.control.tick();
    const t = this.trading.current;
    const audit = this.log.audit;
    return {
      tradingState: t.state,
      reason: t.reason,
      source: t.source,
      since: t.since,
      resumeAt: t.resumeAt,
      breaker: this.trading.breakerStatus(),
      workingOrders: this.cache.workingCount,
      queued: this.lanes.queued,
      queueCapacity: this.queueCapacity,
      externalOrders: this.cache.externalCount,
      venues: this.venues.entries().map(([id, b]) => ({ id, environment: b.environment, connected: b.isConnected() })),
      limits: { ...this.checks.currentLimits },
      audit: audit ? { dir: audit.dir, lastSeq: audit.lastSeq, state: audit.state } : null,
    };
  }

  // --- venues ---

  /** Registers a venue under a broker profile id (connecting it is `connect`'s). A second venue under one id is refused. */
  addBroker(id: string, broker: BrokerApi): void {
    if (this.closed) throw new BrokerError('INTERNAL', `cannot add broker profile ${id}: the engine is closed`);
    this.venues.add(id, broker);
  }

  /**
   * Unregisters a venue; disconnecting it is the caller's. Refused while the engine has working orders
   * there, since their fills and cancels would then go unrecorded.
   */
  removeBroker(id: string): void {
    if (!this.venues.has(id)) throw new BrokerError('INTERNAL', `no broker profile named ${id}`);
    const working = this.workingOrders().filter((r) => r.venue === id);
    if (working.length > 0)
      throw new BrokerError(
        'INTERNAL',
        `broker profile ${id} has ${working.length} working order(s) (${working.map((r) => r.clientOrderId).join(', ')}); cancel them or wait for them to finish before disconnecting`,
      );
    this.venues.remove(id);
    this.cache.dropVenue(id);
    this.checks.forgetVenue(id);
  }

  hasBroker(id: string): boolean {
    return this.venues.has(id);
  }

  // --- connection and reconciliation ---

  /** Connects a venue and reconciles orders and positions with it. */
  async connect(venue: string): Promise<void> {
    const broker = this.venues.must(venue);
    if (!broker.isConnected()) await broker.connect();
    await this.reconciler.reconcile(venue);
  }

  /**
   * Brings the engine's view in line with the venue: each working order is looked up by client order
   * id; open orders the engine did not place are reported as external; positions are taken from the
   * venue, with any difference reported.
   */
  reconcile(venue: string): Promise<void> {
    return this.reconciler.reconcile(venue);
  }

  /**
   * Starts a local venue's account afresh (Reset Paper Account). Refused while the engine has working
   * orders there (cancel them first). The audit log records a VenueBaseline of no fills and no
   * positions, durable before `reset` runs, so the log and the fresh account agree on the next open;
   * a process that dies between the two leaves an account the log disagrees with, which `recover`
   * rebuilds from the log's fills since the baseline: none, i.e. the reset is completed.
   */
  async resetLocalVenue(venue: string, reset: () => void, reason: string): Promise<void> {
    if (!this.reconciler.isLocal(venue))
      throw new Error(`${venue} is not an account kept in this state directory; only the paper account can be reset`);
    const working = this.workingOrders().filter((r) => r.venue === venue);
    if (working.length > 0)
      throw new Error(`${venue} has ${working.length} working order(s): cancel them before resetting the account`);
    await this.log.command('VenueBaseline', { venue, fills: 0, positions: {}, reason });
    this.cache.setFillCount(venue, 0);
    this.cache.setPositions(venue, []);
    reset();
    await this.reconcile(venue);
  }

  /** Asks the venue what became of one order, by client order id. Never resends. */
  reconcileOrder(clientOrderId: string): Promise<OrderRecord | undefined> {
    return this.reconciler.reconcileOrder(clientOrderId);
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
    return this.lanes.submit(cmd);
  }

  /**
   * Validation and every risk check, without sending, recording a working order or using the submit
   * rate: what Test Order does on a live profile. The check is recorded in the audit log.
   */
  async check(cmd: SubmitOrder): Promise<{
    risk: readonly RiskCheckResult[];
    denial?: { code: DenialCode; message: string };
    order: PlacedOrderRequest;
  }> {
    const checked = await this.checks.check(cmd, 'dry-run');
    this.log.note('CheckOrder', {
      command: auditCommand(checked.cmd),
      risk: auditRisk(checked.risk),
      denial: checked.denial ?? null,
    });
    // The order as it would be sent (the venue's instrument id, no secret-looking metadata): what a
    // confirmation must show, so that the confirmed order and the sent one are the same.
    const order = checked.cmd.order;
    return checked.denial ? { risk: checked.risk, denial: checked.denial, order } : { risk: checked.risk, order };
  }

  /** Waits until the order is final or `timeoutMs` passes; resolves with its record then. */
  waitForFinal(clientOrderId: string, timeoutMs: number): Promise<OrderRecord | undefined> {
    return this.cache.waitForFinal(clientOrderId, timeoutMs);
  }

  // --- cancelling and stopping ---

  /** Asks the venue to cancel one order. Resolves with the order's record after the venue answered. */
  cancel(clientOrderId: string): Promise<OrderRecord> {
    return this.stopper.cancel(clientOrderId);
  }

  /** Sets the trading state by a person's decision. */
  setTradingState(state: TradingStateName, reason: string): StateChange | undefined {
    this.log.note(state === 'ACTIVE' ? 'Resume' : state === 'HALTED' ? 'Halt' : 'Reduce', { reason });
    return this.control.set(state, reason, 'user');
  }

  /**
   * HALTED for a reason that passes (risk settings that are not valid), as a person's halt (a person's resume ends
   * it): what it takes the place of (a circuit breaker's halt, REDUCING) is kept with the state, saved, and comes back
   * with its reason and cool-down when `endCoveringHalt` ends this one (after a restart too).
   */
  haltCovering(reason: string): StateChange | undefined {
    this.log.note('Halt', { reason });
    return this.control.cover(reason, 'user');
  }

  /** Ends a `haltCovering` halt: what it took the place of comes back (a breaker's halt, REDUCING), else ACTIVE. */
  endCoveringHalt(reason: string): StateChange | undefined {
    if ((this.trading.current.covers?.state ?? 'ACTIVE') === 'ACTIVE') this.log.note('Resume', { reason });
    return this.control.uncover(reason, 'user');
  }

  /**
   * HALTED at once (saved before anything else), then every open order on every connected venue is
   * cancelled — the engine's and external ones — and, when asked (after confirmation), every position
   * is closed with a market order.
   */
  emergencyStop(options: { reason?: string; flatten?: boolean } = {}): Promise<EmergencyStopReport> {
    return this.stopper.emergencyStop(options);
  }

  /** Writes everything pending to the audit log and stops timers. The brokers are left to their owner. */
  async close(): Promise<void> {
    this.closed = true;
    // What is under way ends first, while the audit log can still take what the venues answer: closed after it, the
    // log refused those records (an order's fill missing from it) and its refusal halted the state folder on disk.
    // An emergency stop finishes (its flatten too); orders not yet sent are denied ENGINE_CLOSED.
    // Not for ever: past `closeWaitMs` what is still at a venue is left to the next open, which looks it up.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeWaitMs);
      timer.unref();
    });
    const underWay = async (): Promise<void> => {
      await this.stopper.settle();
      await this.lanes.close();
      await this.stopper.settle();
    };
    await Promise.race([underWay(), waited]);
    clearTimeout(timer);
    this.reconciler.close();
    this.cache.close();
    this.venues.close();
    await this.log.settle();
    this.log.close();
    this.trading.close();
    // What changes from here (an answer still arriving) is not written to the working-orders file: once closed, the
    // folder's lock is its owner's to release. The log is the record; the next open asks the venues again.
    this.cache.onWorkingChange = () => undefined;
    // A working-orders file that cannot be written was reported (StateSaveFailed, HALTED) when it
    // failed; the audit log holds the orders, so closing still completes.
    await this.orderWriter?.flush().catch(() => undefined);
  }

  /**
   * The state files whose last save failed (the working orders, the trading state of a halt), each error naming its
   * file: the audit log holds what they were to say, but the person running the session must be told.
   */
  unsavedStateFiles(): Error[] {
    const out: Error[] = [];
    if (this.orderWriter?.error) out.push(this.orderWriter.error);
    if (this.trading.lastSaveError) out.push(this.trading.lastSaveError);
    return out;
  }

  /** Problems saving state that a caller should tell the user about (the last failures, if any). */
  saveProblems(): string[] {
    const out: string[] = [];
    if (this.orderWriter?.error) out.push(this.orderWriter.error.message);
    if (this.trading.lastSaveError)
      out.push(`${this.trading.lastSaveError.message} (the halt is recorded in the audit log and restored from it)`);
    if (this.log.failure) out.push(this.log.failure.message);
    return out;
  }
}
