/**
 * Submit lanes: how one SubmitOrder goes from the caller to its venue.
 *
 * - Orders of one venue and instrument are checked and sent in the order they were submitted (a lane per
 *   instrument); different instruments proceed concurrently. Risk sees every order of its lane that is
 *   not yet final, so a burst cannot slip past a position limit.
 * - The queue is bounded: beyond its capacity, a submit is denied with QUEUE_FULL at once, never held.
 * - The SubmitOrder command (with every check's result) is durable before the venue is called.
 * - A submit that times out or loses its connection after sending is UNCONFIRMED, not failed: it is
 *   looked up by client order id (never resent) until the venue says what became of it.
 *
 * Past 450 lines on purpose: a send within the call (the paper venue) and one through the venue's promise share
 * the reply's application and what every failure means; kept side by side so they cannot drift apart.
 */
import { monotonicMs, type Clock } from '../../common/clock';
import type { BrokerApi, ImmediateVenue } from '../../brokers/broker';
import { isBrokerError } from '../../brokers/errors';
import { instrumentKey } from '../../orders/instrumentKey';
import type { OrderResponse } from '../../orders/model';
import { crashPoint } from '../../common/crashPoint';
import type { DenialCode, SubmitOrder } from '../events';
import { applyEvent, isFinalState, newOrderRecord } from '../orderState';
import type { RiskCheckResult } from '../risk';
import { auditCommand, auditRisk, type EventLog } from './eventLog';
import type { OrderCache } from './orderCache';
import type { Checked, PreTradeChecks } from './preTrade';
import type { Reconciler } from './reconciler';
import type { TradingControl } from './tradingControl';
import type { SubmitResult } from './types';
import type { VenueEvents } from './venueEvents';
import type { VenueRegistry } from './venues';
import { ChurnMap } from '../../common/churn';

/** One instrument's orders: checked one after another, and sent one after another in the same order. */
interface Lane {
  readonly toCheck: Waiting[];
  readonly toSend: Waiting[];
  checking: boolean;
  sending: boolean;
}

interface Waiting {
  readonly cmd: SubmitOrder;
  readonly resolve: (result: SubmitResult) => void;
  readonly reject: (error: unknown) => void;
  checked?: Checked;
  failed?: { error: unknown };
}

export interface SubmitLanesOptions {
  readonly clock: Clock;
  readonly cache: OrderCache;
  readonly log: EventLog;
  readonly control: TradingControl;
  readonly venues: VenueRegistry;
  readonly checks: PreTradeChecks;
  readonly events: VenueEvents;
  readonly reconciler: Reconciler;
  readonly capacity: number;
  /** See EngineOptions.simulation: the SubmitOrder command is written first but not waited for. */
  readonly simulation: boolean;
}

const noop = (): void => undefined;

const ENGINE_CLOSED = {
  code: 'ENGINE_CLOSED',
  message: 'The engine is shutting down; nothing was sent.',
} as const satisfies { code: DenialCode; message: string };

/** Spellings of one instrument share a lane: upper-case, separators dropped. */
const laneKey = (symbol: unknown): string => (typeof symbol === 'string' ? instrumentKey(symbol) : String(symbol));

export class SubmitLanes {
  private readonly lanes = new Map<string, Lane>();
  /** The venue's answer to each submit still at the venue, by client order id (removed once it is in). */
  private readonly atVenue = new ChurnMap<string, Promise<unknown>>();
  private queuedCount = 0;
  private closed = false;
  /** `close`'s waits for the last order in the lanes to be answered or denied. */
  private drained: Array<() => void> = [];

  constructor(private readonly o: SubmitLanesOptions) {}

  /** Orders waiting or in flight. */
  get queued(): number {
    return this.queuedCount;
  }

  /**
   * Takes no more orders; resolves once every order already in the lanes is answered (one at its venue: its answer
   * applied and recorded while the audit log is still open) or denied (one not sent yet: ENGINE_CLOSED).
   */
  close(): Promise<void> {
    this.closed = true;
    if (this.queuedCount === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /**
   * While the order's submit is at the venue (sent, no answer yet): a promise settled once the venue
   * answered (or failed), so that a cancel can wait for the venue's id rather than miss the order.
   */
  inFlight(clientOrderId: string): Promise<unknown> | undefined {
    // Made only when asked (a cancel, rarely): the send itself keeps the venue's own promise, no chain per order.
    return this.atVenue.get(clientOrderId)?.then(noop, noop);
  }

  /**
   * Takes one SubmitOrder through the pipeline. Resolves once the broker has answered (or the order
   * was denied); venue updates keep arriving after that.
   */
  submit(cmd: SubmitOrder): Promise<SubmitResult> {
    const started = monotonicMs();
    if (this.closed) return Promise.resolve(this.deny(cmd, [], ENGINE_CLOSED.code, ENGINE_CLOSED.message, started));
    if (this.queuedCount >= this.o.capacity) {
      return Promise.resolve(
        this.deny(
          cmd,
          [],
          'QUEUE_FULL',
          `${this.queuedCount} orders are already waiting or in flight (capacity ${this.o.capacity}); submit again once some have finished.`,
          started,
        ),
      );
    }
    this.queuedCount++;
    // One lane per instrument however it is spelled (EURUSD, eur/usd, EUR_USD), so that a burst of
    // spellings cannot pass the risk checks side by side before the venue's id is known.
    const key = `${cmd.venue}\u0000${laneKey(cmd.order?.symbol)}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { toCheck: [], toSend: [], checking: false, sending: false };
      this.lanes.set(key, lane);
    }
    const queued = lane;
    // Queues drained by one loop per stage, rather than a chain of promises per order: the checks of the
    // next order start as soon as the previous one's end, while that one waits to be sent. A lane's loop
    // starts after this call returns, as the checks always have.
    return new Promise<SubmitResult>((resolve, reject) => {
      queued.toCheck.push({ cmd, resolve, reject });
      if (!queued.checking) {
        queued.checking = true;
        queueMicrotask(() => void this.checkLane(queued));
      }
    });
  }

  private async checkLane(lane: Lane): Promise<void> {
    for (let next = lane.toCheck.shift(); next !== undefined; next = lane.toCheck.shift()) {
      if (this.closed) {
        // Not checked (nothing is asked of its venue), and never accepted: denied once its turn to be sent comes.
        next.checked = { cmd: next.cmd, risk: [], denial: ENGINE_CLOSED, engineMs: 0 };
        lane.toSend.push(next);
        if (!lane.sending) void this.sendLane(lane);
        continue;
      }
      try {
        const checked = this.o.checks.check(next.cmd, this.accept);
        // The paper venue answers within the call: no turn of the event loop for its orders.
        next.checked = checked instanceof Promise ? await checked : checked;
      } catch (error) {
        next.failed = { error };
      }
      lane.toSend.push(next);
      if (!lane.sending) void this.sendLane(lane);
    }
    lane.checking = false;
  }

  private async sendLane(lane: Lane): Promise<void> {
    lane.sending = true;
    for (let next = lane.toSend.shift(); next !== undefined; next = lane.toSend.shift()) {
      let result: SubmitResult | undefined;
      let failed = next.failed;
      if (failed === undefined && next.checked !== undefined) {
        try {
          const sent = this.send(next.checked);
          result = sent instanceof Promise ? await sent : sent;
        } catch (error) {
          failed = { error };
        }
      }
      this.queuedCount--;
      // With nothing waiting or in flight anywhere, no lane holds anything: start afresh.
      if (this.queuedCount === 0) {
        this.lanes.clear();
        const drained = this.drained;
        this.drained = [];
        for (const done of drained) done();
      }
      if (result !== undefined) next.resolve(result);
      else next.reject(failed?.error);
    }
    lane.sending = false;
  }

  /** Accepted for sending: from here the order counts as working for every later check. */
  private readonly accept = (
    cmd: SubmitOrder,
    risk: RiskCheckResult[],
    reserve: number,
  ): Promise<unknown> | undefined => {
    const { cache, log, clock } = this.o;
    const record = newOrderRecord({
      clientOrderId: cmd.clientOrderId,
      commandId: cmd.commandId,
      venue: cmd.venue,
      request: cmd.order,
      at: clock.now(),
    });
    cache.accept(record, reserve);
    // Without an audit log there is no command to record, nor anything to wait for.
    if (!log.audit) return undefined;
    if (this.o.simulation) {
      const command = auditCommand(cmd);
      log.note('SubmitOrder', { command, risk: auditRisk(risk) });
      return undefined;
    }
    const durable = log.command('SubmitOrder', { command: auditCommand(cmd), risk: auditRisk(risk) });
    // Awaited by send(); marked handled here so a failure in between is not an unhandled rejection.
    durable.catch(noop);
    return durable;
  };

  /** Sends a checked order (denies a denied one): within the call where nothing is awaited (see `sendNow`). */
  private send(prepared: Checked): SubmitResult | Promise<SubmitResult> {
    const { cmd, risk } = prepared;
    if (prepared.denial)
      return this.deny(cmd, risk, prepared.denial.code, prepared.denial.message, monotonicMs(), prepared.engineMs);
    if (prepared.durable !== undefined) return this.sendDurable(prepared, prepared.durable);
    return this.sendNow(prepared);
  }

  /** Sends once the SubmitOrder command is durable. */
  private async sendDurable(prepared: Checked, durable: Promise<unknown>): Promise<SubmitResult> {
    try {
      await durable;
    } catch (e) {
      return this.denyRecorded(
        prepared.cmd,
        prepared.risk,
        'AUDIT_LOG_FAILED',
        `The SubmitOrder command could not be made durable (${(e as Error).message}); nothing was sent.`,
        prepared.engineMs,
      );
    }
    return this.sendNow(prepared);
  }

  /**
   * Sends a checked order whose command is durable (or needs no wait): within the call at a venue that answers so
   * (`BrokerApi.immediate`, the paper venue), else through the venue's promise.
   */
  private sendNow(prepared: Checked): SubmitResult | Promise<SubmitResult> {
    const { cmd, risk } = prepared;
    const { cache, clock, control, events, log } = this.o;
    // Cancelled while it waited to be sent (cancel() denies a PENDING_SUBMIT order): it must not go out.
    const waiting = cache.get(cmd.clientOrderId);
    if (waiting?.state !== 'PENDING_SUBMIT') {
      const order =
        waiting ??
        applyEvent(
          newOrderRecord({
            clientOrderId: cmd.clientOrderId,
            commandId: cmd.commandId,
            venue: cmd.venue,
            request: cmd.order,
            at: clock.now(),
          }),
          {
            type: 'Denied',
            at: clock.now(),
            code: 'CANCELLED_BEFORE_SEND',
            reason: 'cancelled before it was sent',
          },
        ).order;
      const code = (order.denialCode ?? 'CANCELLED_BEFORE_SEND') as DenialCode;
      return {
        order,
        risk,
        denial: { code, message: order.reason ?? 'cancelled before it was sent' },
        engineMs: prepared.engineMs,
        venueMs: null,
      };
    }
    // Accepted, then the engine began closing: nothing more is sent (its SubmitOrder says it was not).
    if (this.closed) return this.denyRecorded(cmd, risk, ENGINE_CLOSED.code, ENGINE_CLOSED.message, prepared.engineMs);
    // A halt between the checks and now (an emergency stop) wins: nothing is sent while HALTED.
    if (control.state === 'HALTED' && cmd.source !== 'flatten') {
      return this.denyRecorded(
        cmd,
        risk,
        'TRADING_HALTED',
        `Trading was halted before the order was sent (${control.trading.current.reason}); nothing was sent.`,
        prepared.engineMs,
      );
    }
    const auditFailure = log.failure;
    if (auditFailure)
      return this.denyRecorded(
        cmd,
        risk,
        'AUDIT_LOG_FAILED',
        `The audit log failed (${auditFailure.message}); nothing was sent.`,
        prepared.engineMs,
      );
    const broker = this.o.venues.must(cmd.venue);
    const engineStart = monotonicMs();
    events.transition(cmd.clientOrderId, { type: 'Sent', at: clock.now() }, { risk });
    cache.sentAt.set(cmd.clientOrderId, clock.now());
    const engineMs = prepared.engineMs + (monotonicMs() - engineStart);
    const immediate = broker.immediate?.();
    if (immediate !== undefined) return this.sendImmediate(prepared, broker, immediate, engineMs);
    return this.sendAtVenue(prepared, broker, engineMs);
  }

  /** The venue answers within the call: its reply (and the updates it delivered meanwhile) applied at once. */
  private sendImmediate(
    prepared: Checked,
    broker: BrokerApi,
    immediate: ImmediateVenue,
    engineMs: number,
  ): SubmitResult {
    const venueStart = monotonicMs();
    // The venue's updates for this order (delivered while the call is under way) are engine work too.
    this.o.events.startTiming(prepared.cmd.clientOrderId);
    try {
      crashPoint('engine-before-send');
      return this.answered(prepared, immediate.submit(prepared.cmd.order), venueStart, engineMs);
    } catch (e) {
      return this.notAnswered(prepared, broker, e, venueStart, engineMs);
    }
  }

  /** Sends through the venue's promise and applies its reply. */
  private async sendAtVenue(prepared: Checked, broker: BrokerApi, engineMs: number): Promise<SubmitResult> {
    const id = prepared.cmd.clientOrderId;
    const venueStart = monotonicMs();
    this.o.events.startTiming(id);
    try {
      crashPoint('engine-before-send');
      const answered = broker.submitOrder(prepared.cmd.order);
      this.atVenue.set(id, answered);
      let response: Awaited<typeof answered>;
      try {
        response = await answered;
      } finally {
        this.atVenue.delete(id);
      }
      return this.answered(prepared, response, venueStart, engineMs);
    } catch (e) {
      return this.notAnswered(prepared, broker, e, venueStart, engineMs);
    }
  }

  /** The venue's reply to a submit, applied. */
  private answered(prepared: Checked, response: OrderResponse, venueStart: number, engineMs: number): SubmitResult {
    const { cmd, risk } = prepared;
    const { events } = this.o;
    crashPoint('engine-after-venue-answered');
    const venueMs = monotonicMs() - venueStart;
    const applyStart = monotonicMs();
    events.applyResponse(cmd.venue, response);
    const spent = engineMs + (monotonicMs() - applyStart) + events.stopTiming(cmd.clientOrderId);
    return { order: this.o.cache.must(cmd.clientOrderId), risk, engineMs: spent, venueMs };
  }

  /** A submit the venue failed (or whose reply could not be applied). */
  private notAnswered(
    prepared: Checked,
    broker: BrokerApi,
    e: unknown,
    venueStart: number,
    engineMs: number,
  ): SubmitResult {
    const { cmd, risk } = prepared;
    this.o.events.stopTiming(cmd.clientOrderId);
    const venueMs = monotonicMs() - venueStart;
    this.failedAtVenue(cmd, risk, broker, e);
    return { order: this.o.cache.must(cmd.clientOrderId), risk, engineMs, venueMs };
  }

  /** What a submit that failed at the venue became: unconfirmed (looked up, never resent), or rejected. */
  private failedAtVenue(cmd: SubmitOrder, risk: RiskCheckResult[], broker: BrokerApi, e: unknown): void {
    const { cache, clock, control, events, log } = this.o;
    if (!isBrokerError(e)) {
      // Not the venue's answer but its client failing (a reply it could not read, a bug): the request may have
      // reached the venue and been taken, so the outcome is unknown. Thrown on, the order stayed SUBMITTED, its
      // buying power held and nothing looking it up, while the venue could be filling it.
      log.venueError(cmd.venue, 'submitOrder', e);
      if (cache.must(cmd.clientOrderId).state === 'SUBMITTED')
        events.transition(cmd.clientOrderId, {
          type: 'Unconfirmed',
          at: clock.now(),
          reason: `${broker.displayName}'s client failed (${e instanceof Error ? e.message : String(e)}); looking it up by client order id ${cmd.clientOrderId}, never resending`,
        });
      if (!isFinalState(cache.must(cmd.clientOrderId).state)) this.o.reconciler.scheduleReconcile(cmd.clientOrderId, 0);
      return;
    }
    if (e.outcomeUnknown) {
      // The venue's update stream may already have told us more than the lost reply would have.
      const now = cache.must(cmd.clientOrderId);
      if (now.state === 'SUBMITTED') {
        events.transition(cmd.clientOrderId, {
          type: 'Unconfirmed',
          at: clock.now(),
          reason: `${e.reason}: ${e.message}; looking it up by client order id ${cmd.clientOrderId}, never resending`,
        });
      }
      if (!isFinalState(now.state)) this.o.reconciler.scheduleReconcile(cmd.clientOrderId, 0);
    } else if (e.reason === 'DUPLICATE_CLIENT_ORDER_ID') {
      // The venue already has an order with this id: find out what it is rather than call it failed.
      events.transition(cmd.clientOrderId, {
        type: 'Unconfirmed',
        at: clock.now(),
        reason: `${e.reason}: ${e.message}`,
      });
      this.o.reconciler.scheduleReconcile(cmd.clientOrderId, 0);
    } else if ((e as { notActed?: boolean }).notActed) {
      // The venue provably did nothing (a rate limit that outlasted the retries, a refused connection):
      // not a venue rejection, and nothing to look up. A broker error for the circuit breaker.
      events.transition(
        cmd.clientOrderId,
        {
          type: 'Rejected',
          at: clock.now(),
          reason: `NOT_PLACED: ${e.reason}: ${e.message}; ${broker.displayName} did not act on it (nothing was placed), try again later`,
        },
        { risk, neverArrived: true },
      );
      control.recordFailure(`${cmd.order.symbol} ${cmd.clientOrderId}: ${e.reason}`);
    } else {
      events.transition(cmd.clientOrderId, {
        type: 'Rejected',
        at: clock.now(),
        reason: `${e.reason}: ${e.message}`,
      });
    }
  }

  /** Denies an order that never became working: its command and the denial are recorded. */
  deny(
    cmd: SubmitOrder,
    risk: RiskCheckResult[],
    code: DenialCode,
    message: string,
    started: number,
    engineMs?: number,
  ): SubmitResult {
    const { cache, clock, log } = this.o;
    const at = clock.now();
    let record = newOrderRecord({
      clientOrderId: cmd.clientOrderId,
      commandId: cmd.commandId,
      venue: cmd.venue,
      request: cmd.order,
      at,
    });
    record = applyEvent(record, { type: 'Denied', at, code, reason: message }).order;
    // A denied duplicate must not replace the order that holds the id.
    cache.addDenied(record);
    const command = auditCommand(cmd);
    log.note('SubmitOrder', { command, risk: auditRisk(risk) });
    // The SubmitOrder just written holds the order and every check's result (same commandId); the denial's record
    // says what became of it, as OrderSubmitted's does. Listeners get the whole picture. (The order and the checks
    // written out again were three quarters of a denial's bytes in the log, and most of a denied order's time.)
    const denied = {
      at,
      clientOrderId: cmd.clientOrderId,
      commandId: cmd.commandId,
      venue: cmd.venue,
      symbol: String(cmd.order?.symbol ?? ''),
      state: 'DENIED' as const,
      code,
      reason: message,
    };
    log.record('OrderDenied', { ...denied, risk, order: command['order'] }, denied);
    return {
      order: record,
      risk,
      denial: { code, message },
      engineMs: engineMs ?? monotonicMs() - started,
      venueMs: null,
    };
  }

  /** Denies an order whose SubmitOrder was already recorded (it passed the checks but was not sent). */
  private denyRecorded(
    cmd: SubmitOrder,
    risk: RiskCheckResult[],
    code: DenialCode,
    message: string,
    engineMs: number,
  ): SubmitResult {
    const at = this.o.clock.now();
    this.o.events.transition(
      cmd.clientOrderId,
      { type: 'Denied', at, code, reason: message },
      { code, risk, commandId: cmd.commandId, order: cmd.order },
    );
    return { order: this.o.cache.must(cmd.clientOrderId), risk, denial: { code, message }, engineMs, venueMs: null };
  }
}
