/**
 * What the engine takes over when it starts: the audit log's open orders, positions and fill counts
 * (the log is the record), the working-orders file checked against it, and the orders the last process
 * was sending when it ended (UNCONFIRMED: looked up by client order id, never resent).
 */
import type { Clock } from '../../common/clock';
import { StateDamagedError } from '../../common/stateErrors';
import type { AuditLog } from '../audit/auditLog';
import type { DigestOrder } from '../auditDigest';
import { applyEvent, isFinalState, newOrderRecord, type OrderRecord } from '../orderState';
import { loadWorkingOrders, setAsideCopy, WorkingOrderWriter } from '../orderStore';
import type { EventLog } from './eventLog';
import type { OrderCache } from './orderCache';
import type { TradingControl } from './tradingControl';
import type { EngineOptions } from './types';

/** Fills the cache from the audit log's digest and the working-orders file; returns the file's writer. */
export function restore(
  options: EngineOptions,
  cache: OrderCache,
  control: TradingControl,
  audit: AuditLog | null,
): WorkingOrderWriter | undefined {
  const digest = options.digest;
  const localVenues: ReadonlyMap<string, unknown> = options.localVenues ?? new Map<string, unknown>();
  if (digest) {
    // The audit log is the record: its unfinished orders are the working ones, whatever a cache says.
    for (const d of digest.open.values()) cache.adopt(recoveredRecord(d));
    // Every id the log has sent or denied an order under stays taken: a retried command is never a second order.
    cache.noteUsed(digest.known);
    for (const [venue, symbols] of digest.positions) if (!localVenues.has(venue)) cache.setPositions(venue, symbols);
    // A local venue's positions are its fills': what a reconcile once took from its account file proves nothing.
    for (const venue of localVenues.keys()) cache.setPositions(venue, digest.fillSums.get(venue) ?? []);
    for (const [venue, n] of digest.fillCount) cache.setFillCount(venue, n);
  }
  const file = options.ordersFile;
  if (!file) return undefined;
  const loaded = options.loadedOrders ?? loadWorkingOrders(file);
  if (digest) {
    if (loaded.anchor && loaded.anchor.seq > digest.lastSeq) {
      control.addDamage(
        new StateDamagedError(
          file,
          `it was written when the audit log reached seq ${loaded.anchor.seq}, but the log now ends at seq ${digest.lastSeq}: the audit log was cut short, emptied or replaced by an older copy`,
        ),
      );
    }
    const unknown = loaded.orders.filter((o) => !isFinalState(o.state) && !digest.known.has(o.clientOrderId));
    if (unknown.length > 0) {
      control.addDamage(
        new StateDamagedError(
          file,
          `it lists ${unknown.length} order(s) the audit log has no record of (${unknown
            .slice(0, 3)
            .map((o) => o.clientOrderId)
            .join(', ')}): the audit log was cut short or replaced by an older copy`,
        ),
      );
      // Still looked up at their venue, so that nothing that may be alive is forgotten.
      for (const o of unknown) cache.adopt(o);
    }
  } else {
    for (const o of loaded.orders) if (!isFinalState(o.state)) cache.adopt(o);
  }
  if (loaded.problem) {
    // The log still knows every open order (they are looked up from it), but a file that cannot be
    // read is damage someone must look at, not something to paper over.
    control.addDamage(
      new StateDamagedError(file, `${loaded.problem}; the audit log's record of open orders is used meanwhile`),
    );
  } else if (digest && !loaded.exists && digest.known.size > 0) {
    const aside = setAsideCopy(file);
    control.addDamage(
      new StateDamagedError(
        file,
        `it is missing, but the audit log has sent ${digest.known.size} order(s) from this state directory: ${
          aside === undefined
            ? 'it was deleted or moved'
            : `an earlier command found it damaged and set it aside as ${aside} (said then, with what was wrong)`
        }`,
      ),
    );
  }
  const writer = new WorkingOrderWriter(
    file,
    () => cache.workingOrders(),
    () => (audit ? audit.durableHead : undefined),
    (e) => control.stateSaveFailed(file, e),
    // Never ahead of the log: an order is written here only once its SubmitOrder is durable.
    () => (audit ? audit.flush() : Promise.resolve()),
  );
  // A folder without the file and with no order in its log gets it now, before any order can be sent: a
  // kill during the first order then cannot leave the log with an order and the file missing (reported as
  // deleted above). Nothing is open, so the empty file is the whole truth.
  if (!loaded.exists && !loaded.problem && (!digest || digest.known.size === 0)) {
    try {
      writer.createEmptySync();
    } catch (e) {
      control.stateSaveFailed(file, e as Error);
    }
  }
  return writer;
}

/** Orders the last process was sending when it ended: they may or may not have reached the venue. */
export function markInterrupted(cache: OrderCache, log: EventLog, clock: Clock, startedAt: number): void {
  for (const id of cache.workingIds()) {
    const o = cache.must(id);
    cache.sentAt.set(id, startedAt);
    if (o.state === 'SUBMITTED' || o.state === 'PENDING_SUBMIT') {
      const reason =
        'the last SPtrader process ended while this order was being sent; it is looked up by client order id, never resent';
      cache.set({ ...o, state: 'UNCONFIRMED', reason, updatedAt: clock.now() });
      log.record('OrderUnconfirmed', {
        at: clock.now(),
        clientOrderId: id,
        venue: o.venue,
        symbol: o.request.symbol,
        state: 'UNCONFIRMED',
        reason,
      });
    }
  }
}

/** An order the audit log has open, as a record: its fills applied through the state machine. */
export function recoveredRecord(d: DigestOrder): OrderRecord {
  let record: OrderRecord = {
    ...newOrderRecord({
      clientOrderId: d.clientOrderId,
      commandId: d.commandId,
      venue: d.venue,
      request: d.request,
      at: d.createdAt,
    }),
    state: 'SUBMITTED',
  };
  for (const fill of d.fills) {
    try {
      record = applyEvent(record, { type: 'Fill', at: fill.timestamp, fill }).order;
    } catch {
      // A fill the log holds but the state machine refuses was refused then too (TransitionRefused).
    }
  }
  const state =
    d.state === 'PENDING_SUBMIT'
      ? 'SUBMITTED'
      : d.state === 'PARTIALLY_FILLED' && record.filledUnits === 0n
        ? 'ACCEPTED'
        : d.state;
  return {
    ...record,
    state:
      record.state === 'PARTIALLY_FILLED' && (state === 'ACCEPTED' || state === 'SUBMITTED' || state === 'UNCONFIRMED')
        ? 'PARTIALLY_FILLED'
        : state,
    ...(d.venueOrderId === undefined ? {} : { venueOrderId: d.venueOrderId }),
    ...(d.reason === undefined ? {} : { reason: d.reason }),
    // Before the cancel: what the log shows of it. Without a venue id the venue never answered for it (unconfirmed):
    // taken for ACCEPTED, it was never concluded absent, and a cancel cut short left it working for good.
    ...(state === 'PENDING_CANCEL'
      ? {
          stateBeforeCancel:
            record.filledUnits > 0n ? 'PARTIALLY_FILLED' : d.venueOrderId === undefined ? 'UNCONFIRMED' : 'ACCEPTED',
        }
      : {}),
    updatedAt: d.updatedAt,
  };
}
