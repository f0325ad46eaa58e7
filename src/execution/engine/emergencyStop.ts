/**
 * Cancelling one order, and the emergency stop: HALTED at once (saved before anything else), then every
 * open order on every connected venue cancelled — the engine's and external ones — and, when asked
 * (after a person confirmed it), every position closed with a market order.
 */
import type { Clock } from '../../common/clock';
import { isBrokerError } from '../../brokers/errors';
import { crashPoint } from '../../common/crashPoint';
import type { OrderResponse, PlacedOrderRequest } from '../../orders/model';
import { AuditLogFailedError } from '../audit/auditLog';
import { submitOrderCommand, type SubmitOrder } from '../events';
import { isFinalState, type OrderRecord } from '../orderState';
import type { EventLog } from './eventLog';
import type { OrderCache } from './orderCache';
import type { Reconciler } from './reconciler';
import type { TradingControl } from './tradingControl';
import type { EmergencyStopReport, SubmitResult } from './types';
import type { VenueEvents } from './venueEvents';
import type { VenueRegistry } from './venues';

export interface StopperOptions {
  readonly clock: Clock;
  readonly cache: OrderCache;
  readonly log: EventLog;
  readonly control: TradingControl;
  readonly venues: VenueRegistry;
  readonly events: VenueEvents;
  readonly reconciler: Reconciler;
  readonly submit: (cmd: SubmitOrder) => Promise<SubmitResult>;
  /** See EngineOptions.simulation: the CancelOrder command is written first but not waited for. */
  readonly simulation: boolean;
  /** While an order's submit is at the venue: settled once the venue answered. */
  readonly inFlight: (clientOrderId: string) => Promise<unknown> | undefined;
}

export class Stopper {
  constructor(private readonly o: StopperOptions) {}

  /** Cancels under way, by client order id: a second cancel of the same order waits for the first's outcome. */
  private readonly cancelling = new Map<string, Promise<OrderRecord>>();

  /**
   * Asks the venue to cancel one order. Resolves with the order's record after the venue answered.
   *
   * The CancelOrder command is durable before the cancel is sent, as SubmitOrder is before its submit: a process
   * killed between the two leaves a log that says the cancel was asked for (the venue may have it), never a cancel
   * at the venue the log knows nothing of. A log that cannot take it refuses the cancel (AuditLogFailedError, nothing
   * sent), except within the emergency stop (`whenUnrecorded: 'send'`), which a failed log does not hold up.
   *
   * A cancel of an order already being cancelled answers with that cancel's outcome: no second CancelOrder, no second
   * cancel at the venue. The stop's joins a refused one (nothing was sent) and then sends its own.
   */
  cancel(clientOrderId: string, whenUnrecorded: 'refuse' | 'send' = 'refuse'): Promise<OrderRecord> {
    const under = this.cancelling.get(clientOrderId);
    if (under === undefined) return this.track(clientOrderId, this.cancelOnce(clientOrderId, whenUnrecorded, false));
    if (whenUnrecorded === 'refuse') return under;
    return under.catch((e: unknown) => {
      if (e instanceof AuditLogFailedError) return this.cancel(clientOrderId, 'send');
      throw e;
    });
  }

  private track(clientOrderId: string, run: Promise<OrderRecord>): Promise<OrderRecord> {
    this.cancelling.set(clientOrderId, run);
    const done = (): void => {
      if (this.cancelling.get(clientOrderId) === run) this.cancelling.delete(clientOrderId);
    };
    run.then(done, done);
    return run;
  }

  /** `cancel`, once per order at a time; `recorded`: its CancelOrder is durable already (the emergency stop's batch). */
  private async cancelOnce(
    clientOrderId: string,
    whenUnrecorded: 'refuse' | 'send',
    recorded: boolean,
  ): Promise<OrderRecord> {
    const { cache, clock, events, log, reconciler } = this.o;
    const record = cache.get(clientOrderId);
    if (!record) throw new Error(`no order with client order id ${clientOrderId}`);
    // Nothing goes to the venue for these: the command is recorded without waiting for it.
    if (isFinalState(record.state)) {
      if (!recorded) log.note('CancelOrder', { clientOrderId, venue: record.venue });
      return record;
    }
    if (record.state === 'PENDING_SUBMIT') {
      if (!recorded) log.note('CancelOrder', { clientOrderId, venue: record.venue });
      events.transition(clientOrderId, {
        type: 'Denied',
        at: clock.now(),
        code: 'CANCELLED_BEFORE_SEND',
        reason: 'cancelled before it was sent',
      });
      return cache.must(clientOrderId);
    }
    if (!recorded) await this.recordCancel(record, whenUnrecorded);
    crashPoint('cancel-order-logged');
    // Ended while its command was written (a fill, the venue's own cancel or expiry): nothing left to cancel.
    const current = cache.get(clientOrderId);
    if (current === undefined || isFinalState(current.state)) return current ?? record;
    events.transition(clientOrderId, { type: 'CancelRequested', at: clock.now() });
    const broker = this.o.venues.must(record.venue);
    // Sent and not answered yet: the venue's id comes with its answer. Looked up now, the order would be
    // missed and left working at the venue once it arrives there.
    const answer = this.o.inFlight(clientOrderId);
    if (answer !== undefined) await answer;
    try {
      let venueId = cache.get(clientOrderId)?.venueOrderId;
      if (venueId === undefined) {
        await reconciler.reconcileOrder(clientOrderId);
        venueId = cache.get(clientOrderId)?.venueOrderId;
      }
      const now = cache.must(clientOrderId);
      if (isFinalState(now.state)) return now;
      if (venueId === undefined) {
        events.transition(clientOrderId, {
          type: 'CancelRejected',
          at: clock.now(),
          reason: 'the venue has no record of this order yet; it is looked up again on reconcile',
        });
        // As said: looked up again until the venue answers for it (found, or by its rules never arrived).
        reconciler.scheduleReconcile(clientOrderId, 0);
        return cache.must(clientOrderId);
      }
      await broker.cancelOrder(venueId);
      const status = await broker.getOrderStatus(venueId).catch(() => undefined);
      if (status) events.applyResponse(record.venue, status);
    } catch (e) {
      if (!isBrokerError(e)) {
        // The venue's client failed (a reply it could not read, a bug): the cancel may have gone through. Said to the
        // caller, and the order looked up as for an unknown outcome; it stayed PENDING_CANCEL, nothing asking again.
        log.venueError(record.venue, 'cancelOrder', e);
        reconciler.scheduleReconcile(clientOrderId, 0);
        throw e;
      }
      if (e.outcomeUnknown) {
        reconciler.scheduleReconcile(clientOrderId, 0);
      } else {
        events.transition(clientOrderId, {
          type: 'CancelRejected',
          at: clock.now(),
          reason: `${e.reason}: ${e.message}`,
        });
        await reconciler.reconcileOrder(clientOrderId);
      }
    }
    return cache.must(clientOrderId);
  }

  /** The CancelOrder command, durable (see `cancel`); in a simulation written first and not waited for, as SubmitOrder. */
  private async recordCancel(record: OrderRecord, whenUnrecorded: 'refuse' | 'send'): Promise<void> {
    const { log } = this.o;
    const data = { clientOrderId: record.clientOrderId, venue: record.venue };
    if (this.o.simulation) {
      log.note('CancelOrder', data);
      return;
    }
    try {
      await log.command('CancelOrder', data);
    } catch (e) {
      if (whenUnrecorded === 'send') return;
      const cause = e instanceof Error ? e : new Error(String(e));
      throw new AuditLogFailedError(
        `The CancelOrder command for ${record.clientOrderId} could not be made durable (${cause.message}); the cancel was not sent, and the order is still working at ${record.venue}: fix what stopped the audit log, then cancel it again`,
        cause instanceof AuditLogFailedError && cause.file !== undefined ? { cause, file: cause.file } : { cause },
      );
    }
  }

  /**
   * The emergency stop's commands for the cancels it is about to send at one venue, durable together (in a simulation
   * written and not waited for). A log that cannot take them does not hold the stop up: the cancels still go.
   */
  private async recordCancels(type: string, entries: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    if (entries.length === 0) return;
    if (this.o.simulation) {
      for (const data of entries) this.o.log.note(type, data);
      return;
    }
    await this.o.log.commands(type, entries).catch(() => undefined);
  }

  /** Resolves once the emergency stop and the cancels under way have ended (the engine is closing). */
  async settle(): Promise<void> {
    await this.stopping;
    await Promise.allSettled(this.cancelling.values());
  }

  /** The emergency stop under way, if any: a second one runs after it, on what it left. */
  private stopping: Promise<unknown> = Promise.resolve();

  /**
   * See the file's comment. HALTED at once; two stops at once (a second click) run one after the other,
   * so that the second reads the positions the first left rather than flatten them a second time.
   */
  emergencyStop(options: { reason?: string; flatten?: boolean }): Promise<EmergencyStopReport> {
    const reason = options.reason ?? 'emergency stop';
    const at = this.o.clock.now();
    // Durable before the stop acts: a process killed while it cancels or closes leaves the log saying it began.
    // A log that failed does not hold the stop up.
    const logged = this.o.log
      .command('EmergencyStop', { at, reason, flatten: options.flatten === true })
      .catch(() => undefined);
    this.o.control.set('HALTED', reason, 'emergency_stop');
    const run = this.stopping.then(() => logged).then(() => this.stop(reason, options.flatten === true, at));
    this.stopping = run.catch(() => undefined);
    return run;
  }

  private async stop(reason: string, flatten: boolean, begunAt: number): Promise<EmergencyStopReport> {
    const { cache, clock, log } = this.o;
    const report: EmergencyStopReport = { cancelled: [], failed: [], flattened: [] };
    for (const [venue, broker] of this.o.venues.entries()) {
      if (!broker.isConnected()) {
        // Not connected: its orders could not be cancelled, which the report says rather than leave out.
        for (const record of cache.workingOrders()) {
          if (record.venue !== venue) continue;
          // Not sent yet: HALTED keeps it from being sent, so it is simply ended here.
          if (record.state === 'PENDING_SUBMIT') {
            await this.cancel(record.clientOrderId, 'send').catch(() => undefined);
            report.cancelled.push(record.clientOrderId);
          } else
            report.failed.push({
              venue,
              order: record.clientOrderId,
              reason: `${broker.displayName} is not connected: the order was not cancelled; connect it and cancel it`,
            });
        }
        continue;
      }
      // Orders still waiting for the venue's answer to their submit last: their cancel waits for that answer,
      // which must not hold up the others'.
      const working = cache.workingOrders().filter((r) => r.venue === venue);
      const inFlight = (r: OrderRecord): number => (this.o.inFlight(r.clientOrderId) === undefined ? 0 : 1);
      working.sort((a, b) => inFlight(a) - inFlight(b));
      // The CancelOrder commands of every order the venue is to be asked to cancel, durable together (one write and
      // sync, not one each, one after the other) before the first cancel goes; those already being cancelled join
      // that cancel instead (see `cancel`), those not sent yet are ended here without the venue.
      const batch = working.filter(
        (r) => r.state !== 'PENDING_SUBMIT' && !isFinalState(r.state) && !this.cancelling.has(r.clientOrderId),
      );
      await this.recordCancels(
        'CancelOrder',
        batch.map((r) => ({ clientOrderId: r.clientOrderId, venue })),
      );
      crashPoint('stop-cancels-logged');
      const recorded = new Set(batch.map((r) => r.clientOrderId));
      for (const record of working) {
        // One order's failure (whatever the venue's client threw) does not leave the others working.
        let after: OrderRecord;
        try {
          const id = record.clientOrderId;
          after = await (recorded.has(id) && !this.cancelling.has(id)
            ? this.track(id, this.cancelOnce(id, 'send', true))
            : this.cancel(id, 'send'));
        } catch (e) {
          report.failed.push({ venue, order: record.clientOrderId, reason: `could not cancel: ${errorText(e)}` });
          continue;
        }
        if (after.state === 'CANCELLED' || after.state === 'DENIED') report.cancelled.push(record.clientOrderId);
        else if (!isFinalState(after.state))
          report.failed.push({ venue, order: record.clientOrderId, reason: after.reason ?? after.state });
      }
      let open: OrderResponse[] = [];
      try {
        open = await broker.listOpenOrders();
      } catch (e) {
        report.failed.push({ venue, order: '*', reason: `could not list open orders: ${(e as Error).message}` });
      }
      // Orders we did not place: their CancelExternalOrder commands durable together before the first cancel goes,
      // as CancelOrder (a kill in between leaves the log saying the cancel was asked for, never a cancel it has no
      // word of).
      const external = open.filter((o) => !cache.has(o.client_order_id));
      await this.recordCancels(
        'CancelExternalOrder',
        external.map((o) => ({ venue, orderId: o.order_id, clientOrderId: o.client_order_id })),
      );
      crashPoint('stop-external-logged');
      for (const o of external) {
        try {
          await broker.cancelOrder(o.order_id);
          cache.removeExternal(venue, o.order_id);
          report.cancelled.push(o.client_order_id);
        } catch (e) {
          report.failed.push({ venue, order: o.client_order_id, reason: (e as Error).message });
        }
      }
      if (flatten) {
        let positions: Array<{ symbol: string; quantity: number }> = [];
        try {
          positions = await broker.getPositions();
          // The venue's positions are what is closed, and what the flatten's checks must see: a position the engine
          // had not seen (opened at the venue directly since the last reconcile) was refused as "not reducing" and
          // left open.
          this.o.reconciler.takePositions(venue, positions);
        } catch (e) {
          report.failed.push({ venue, order: 'flatten', reason: `could not read positions: ${(e as Error).message}` });
        }
        for (const p of positions) {
          if (p.quantity === 0) continue;
          const order: Omit<PlacedOrderRequest, 'client_order_id'> = {
            symbol: p.symbol,
            side: p.quantity > 0 ? 'sell' : 'buy',
            order_type: { type: 'market' },
            quantity: Math.abs(p.quantity),
            time_in_force: { type: 'IOC' },
            metadata: { reason: 'emergency stop: flatten' },
          };
          const cmd = submitOrderCommand(order, { venue, source: 'flatten', clock });
          let outcome: string;
          let done = false;
          try {
            const result = await this.o.submit(cmd);
            const r = result.order;
            done = !result.denial && r.state === 'FILLED';
            outcome = result.denial
              ? `denied: ${result.denial.message}`
              : `${r.state}${r.state !== 'FILLED' && r.reason ? `: ${r.reason}` : ''}`;
          } catch (e) {
            outcome = `failed: ${errorText(e)}`;
          }
          report.flattened.push({ venue, symbol: p.symbol, quantity: p.quantity, result: outcome });
          // A position left open (in part or whole) is a failure of the stop, said as one.
          if (!done)
            report.failed.push({
              venue,
              order: cmd.clientOrderId,
              reason: `could not flatten ${p.symbol} ${p.quantity}: ${outcome}`,
            });
        }
      }
    }
    // What the stop did and did not do, failures included, is in the audit log too. `begunAt` names its EmergencyStop:
    // a stop begun and never reported was cut short (the next open says so; auditDigest.ts).
    log.note('EmergencyStopReport', {
      reason,
      begunAt,
      cancelled: report.cancelled,
      failed: report.failed,
      flattened: report.flattened,
    });
    return report;
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
