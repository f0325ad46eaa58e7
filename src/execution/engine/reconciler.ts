/**
 * Reconciliation: bringing the engine's view in line with a venue's after a gap (a connect, a restart, a
 * submit whose outcome is unknown). Orders are looked up by client order id, never resent; open orders
 * the engine did not place are reported as external, never adopted; positions are taken from the venue,
 * with any difference reported. A venue kept in the state directory (paper) must agree with the log.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Clock } from '../../common/clock';
import { fromMoney, toMoney } from '../../common/decimal';
import type { BrokerApi } from '../../brokers/broker';
import { isBrokerError } from '../../brokers/errors';
import { StateDamagedError } from '../../common/stateErrors';
import { journalOf, STATE_NAMES } from '../../common/statePaths';
import type { OrderResponse } from '../../orders/model';
import { isFinalState, orderResponseOf, type OrderRecord } from '../orderState';
import type { EventLog } from './eventLog';
import type { OrderCache } from './orderCache';
import type { TradingControl } from './tradingControl';
import type { LocalVenue } from './types';
import type { VenueEvents } from './venueEvents';
import type { VenueRegistry } from './venues';

export interface ReconcilerOptions {
  readonly clock: Clock;
  readonly cache: OrderCache;
  readonly log: EventLog;
  readonly control: TradingControl;
  readonly venues: VenueRegistry;
  readonly events: VenueEvents;
  readonly localVenues: ReadonlyMap<string, LocalVenue>;
  /** When the engine started: what an order recovered from before it counts as sent at. */
  readonly startedAt: number;
  readonly attempts: number;
  readonly delayMs: number;
}

export class Reconciler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  /**
   * Orders whose last look-up failed in a way worth asking again (a retryable venue error), with the wait the venue
   * named (a 429/418's Retry-After), if any.
   */
  private readonly failedLookUps = new Map<string, number | undefined>();

  constructor(private readonly o: ReconcilerOptions) {}

  /** Brings the engine's view of one venue in line with it (see the file's comment). */
  /** A venue kept in the state directory (the paper account), checked against the audit log. */
  isLocal(venue: string): boolean {
    return this.o.localVenues.has(venue);
  }

  async reconcile(venue: string): Promise<void> {
    const { cache, log, clock } = this.o;
    const broker = this.o.venues.must(venue);
    log.note('Reconcile', { venue });
    for (const record of cache.workingOrders()) {
      if (record.venue !== venue || record.state === 'PENDING_SUBMIT') continue;
      await this.reconcileOrder(record.clientOrderId);
      // A look-up that failed said nothing about the order (a 5xx, a timeout, a rate limit): asked again later.
      // Nothing else would ask (an order restored from the file is not among the adapter's followed orders), so it
      // stayed working, its fills unknown, until the next connect.
      if (this.failedLookUps.has(record.clientOrderId)) this.scheduleReconcile(record.clientOrderId, 0, true);
    }
    const open = await broker.listOpenOrders();
    for (const o of open) {
      if (cache.has(o.client_order_id)) continue;
      if (cache.addExternal(venue, o)) log.record('ExternalOrderFound', { at: clock.now(), venue, order: o });
    }
    const differences = this.takePositions(venue, await broker.getPositions());
    const local = this.o.localVenues.get(venue);
    if (local) this.checkLocalVenue(venue, local, differences, open);
  }

  /**
   * Takes the venue's positions as the engine's (the venue holds them), recording where they differed
   * (PositionsReconciled); returns the differences.
   */
  takePositions(
    venue: string,
    venuePositions: ReadonlyArray<{ readonly symbol: string; readonly quantity: number }>,
  ): Array<{ symbol: string; engine: number; venue: number }> {
    const { cache, log, clock } = this.o;
    const mine = cache.positionMap(venue);
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
    log.record('PositionsReconciled', { at: clock.now(), venue, differences });
    return differences;
  }

  /** Asks the venue what became of one order, by client order id. Never resends. */
  async reconcileOrder(clientOrderId: string): Promise<OrderRecord | undefined> {
    const { cache, log } = this.o;
    const record = cache.get(clientOrderId);
    if (!record) return undefined;
    const broker = this.o.venues.must(record.venue);
    let found: OrderResponse | undefined;
    // What the engine knows of it: its symbol (Binance looks a client id up within one) and its last view (what an
    // answer that names it final without its details ends, e.g. Binance -2026, after a restart).
    const hint = { symbol: record.request.symbol, last: orderResponseOf(record) };
    const failed = (e: unknown): OrderRecord | undefined => {
      log.venueError(record.venue, 'getOrderByClientId', e);
      // The venue's client failing (a reply it could not read, a bug) said nothing of the order either: asked again.
      // Thrown on, it ended a look-up scheduled on a timer as an unhandled rejection (the CLI's process exits on one),
      // and the order was not asked about again.
      if (!isBrokerError(e)) this.failedLookUps.set(clientOrderId, undefined);
      else if (e.retryable || e.outcomeUnknown) this.failedLookUps.set(clientOrderId, e.retryAfterMs);
      return cache.get(clientOrderId);
    };
    this.failedLookUps.delete(clientOrderId);
    try {
      if (!broker.isConnected()) await broker.connect();
      found = await broker.getOrderByClientId(clientOrderId, hint);
    } catch (e) {
      if (!isBrokerError(e) || e.reason !== 'NOT_CONNECTED') return failed(e);
      try {
        await broker.connect();
        found = await broker.getOrderByClientId(clientOrderId, hint);
      } catch (again) {
        return failed(again);
      }
    }
    if (found) this.o.events.applyResponse(record.venue, found);
    else this.concludeAbsence(broker, clientOrderId);
    return cache.get(clientOrderId);
  }

  /**
   * Looks the order up again later, with a doubling delay, while the venue has not answered for it; `whileFailing`:
   * only while the look-up itself fails (an order the venue already answered for, working as before, is followed).
   */
  scheduleReconcile(clientOrderId: string, attempt: number, whileFailing = false): void {
    if (this.closed || attempt >= this.o.attempts) return;
    // Not before the time the venue asked for quiet (a 418 ban lasts minutes, past the doubling's reach).
    const delay = Math.max(this.o.delayMs * 2 ** attempt, this.failedLookUps.get(clientOrderId) ?? 0);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const before = this.o.cache.get(clientOrderId)?.updatedAt;
      void this.reconcileOrder(clientOrderId).then(
        (o) => {
          // Look again while the venue has not answered for it (unknown, or a look-up that failed).
          const unanswered =
            o !== undefined &&
            !isFinalState(o.state) &&
            (whileFailing
              ? this.failedLookUps.has(clientOrderId)
              : o.state === 'UNCONFIRMED' || o.state === 'PENDING_CANCEL' || o.updatedAt === before);
          if (unanswered) this.scheduleReconcile(clientOrderId, attempt + 1, whileFailing);
        },
        // Nothing awaits a timer's look-up: what it could not apply is recorded, never an unhandled rejection.
        (e: unknown) => this.o.log.venueError(this.o.cache.get(clientOrderId)?.venue ?? '', 'reconcile', e),
      );
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  close(): void {
    this.closed = true;
    this.failedLookUps.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * The venue has no order under this client id. That proves nothing by itself (it may still be on its
   * way), unless the venue's own rules say a request this old can no longer arrive (Binance's
   * recvWindow; the paper venue, which answers within the call): then the order never arrived.
   */
  private concludeAbsence(broker: BrokerApi, clientOrderId: string): void {
    const { cache, clock } = this.o;
    const record = cache.get(clientOrderId);
    if (!record || record.venueOrderId !== undefined) return;
    // Also one whose cancel was asked for before the venue ever answered for it.
    const unanswered = (s: string | undefined): boolean => s === 'SUBMITTED' || s === 'UNCONFIRMED';
    if (!unanswered(record.state) && !(record.state === 'PENDING_CANCEL' && unanswered(record.stateBeforeCancel)))
      return;
    const window = (broker as { readonly absenceConclusiveAfterMs?: number }).absenceConclusiveAfterMs;
    if (window === undefined) return;
    const sent = cache.sentAt.get(clientOrderId) ?? this.o.startedAt;
    const waited = clock.now() - sent;
    if (waited < window) return;
    this.o.events.transition(
      clientOrderId,
      {
        type: 'Rejected',
        at: clock.now(),
        reason: `NEVER_ARRIVED: ${broker.displayName} has no order with client id ${clientOrderId}, and by its rules a request ${Math.round(waited)} ms old can no longer reach it (after ${window} ms); nothing was placed`,
      },
      { risk: [], neverArrived: true },
    );
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
    const { cache } = this.o;
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
    const logged = cache.fillsAt(venue);
    if (fills !== undefined && fills !== logged)
      problems.push(`it has made ${fills} fill(s) where the audit log records ${logged}`);
    const strangers = open.filter((o) => !cache.has(o.client_order_id));
    if (strangers.length > 0)
      problems.push(
        `it holds ${strangers.length} open order(s) the audit log does not (${strangers
          .slice(0, 3)
          .map((o) => o.client_order_id)
          .join(', ')})`,
      );
    const lost = cache
      .workingOrders()
      .filter(
        (r) =>
          r.venue === venue && r.venueOrderId !== undefined && !open.some((o) => o.client_order_id === r.clientOrderId),
      );
    if (lost.length > 0)
      problems.push(
        `${lost.length} order(s) the audit log has open are not in it (${lost
          .slice(0, 3)
          .map((r) => r.clientOrderId)
          .join(', ')})`,
      );
    if (problems.length === 0) return;
    // No file at all where the log has its fills: it was deleted or moved (not an account that is there and wrong).
    const missing = !existsSync(local.file);
    // recover finds a paper profile's account (paper-account-<id>.json) by its file or its journal: with both gone it
    // would say "no problems found" to the remedy that sent the user there, so the remedy says how to point it there.
    const profileGone =
      missing && basename(local.file) !== STATE_NAMES.paperAccount && !existsSync(journalOf(local.file));
    this.o.control.reportDamage(
      new StateDamagedError(
        local.file,
        missing
          ? `the paper account is missing (deleted or moved) while the audit log records what it held: ${problems.join('; ')}`
          : `the paper account disagrees with the audit log: ${problems.join('; ')}`,
        ...(profileGone
          ? [
              `Nothing was sent. Put the file back if it was moved; otherwise create it empty (\`touch ${local.file}\`) and run \`sptrader recover --yes --state-dir DIR\`: recover finds a paper profile's account by its file, and rebuilds it from the audit log's records of ${venue}`,
            ]
          : []),
      ),
    );
  }
}
