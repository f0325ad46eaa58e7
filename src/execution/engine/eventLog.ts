/**
 * The event log: every command and event the engine records (the audit log) and publishes (listeners).
 *
 * Events are recorded without a promise each; the log makes them durable with its next batch, and a
 * batch that cannot be made so reaches `onFailure` once, which halts trading (see ../engine.ts). Only the
 * commands that reach a venue are awaited (`command`, or `commands` for several at once): SubmitOrder is durable before
 * its order is sent, CancelOrder (and the emergency stop's CancelExternalOrder) before its cancel, EmergencyStop before
 * the stop acts.
 */
import type { Clock } from '../../common/clock';
import type { Disposable } from '../../brokers/broker';
import { isBrokerError } from '../../brokers/errors';
import { AuditLogFailedError, type AuditLog } from '../audit/auditLog';
import { redactSecrets } from '../../common/secrets';
import type { EngineEvent, SubmitOrder } from '../events';
import type { RiskCheckResult } from '../risk';
import { ChurnSet } from '../../common/churn';

export class EventLog {
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly pendingAudit = new ChurnSet<Promise<unknown>>();
  private failed: Error | undefined;
  private failureHandler: (e: Error) => void = () => undefined;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    readonly audit: AuditLog | null,
  ) {
    audit?.onFailure((e) => this.fail(e));
  }

  /** Why the audit log failed, once it has: nothing is sent after that. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Called once, when the audit log fails. */
  onFailure(handler: (e: Error) => void): void {
    this.failureHandler = handler;
  }

  /** Every event, in order, as it happens. */
  subscribe(listener: (event: EngineEvent) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Records a command without waiting for it to be durable (a failure halts trading). */
  note(type: string, data: Record<string, unknown>): void {
    this.write(type, { at: this.clock.now(), ...data });
  }

  /** Records a command (no listeners): returns its durability. */
  command(type: string, data: Record<string, unknown>): Promise<unknown> {
    return this.append(type, { at: this.clock.now(), ...data });
  }

  /**
   * Records several commands of one type together (the audit log's `appendMany`: one write and sync for all, where
   * `command` awaited one after the other pays one each): returns their durability. Those the log refuses as data
   * (a secret-looking key) are recorded one by one, as `command` does.
   */
  commands(type: string, entries: ReadonlyArray<Record<string, unknown>>): Promise<unknown> {
    const audit = this.audit;
    if (!audit || entries.length === 0) return Promise.resolve();
    const at = this.clock.now();
    let p: Promise<unknown>;
    try {
      p = audit.appendMany(entries.map((data) => ({ type, data: { at, ...data } })));
    } catch {
      // Refused synchronously, nothing written: each one as `command` (redacted, or said refused).
      return Promise.all(entries.map((data) => this.append(type, { at, ...data })));
    }
    return this.track(p);
  }

  /**
   * Publishes one event and records it, as published or, where the log already holds part of it
   * under another record, as `audited`.
   */
  record<T extends EngineEvent['type']>(
    type: T,
    data: Omit<Extract<EngineEvent, { type: T }>, 'type'>,
    audited?: Record<string, unknown>,
  ): void {
    this.write(type, audited ?? data);
    if (this.listeners.size > 0) this.publish({ type, ...data } as unknown as EngineEvent);
  }

  /** Publishes without recording: for what the log can no longer take (its own failure). */
  publish(event: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure must not stop the engine or the other listeners.
      }
    }
  }

  venueError(venue: string, operation: string, e: unknown): void {
    const reason = isBrokerError(e) ? e.reason : 'INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    this.record('VenueError', { at: this.clock.now(), venue, operation, reason, message });
  }

  /** Waits for every awaited record, then for the log's last batch. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.pendingAudit.values());
    if (this.audit && this.audit.state === 'open') await this.audit.flush().catch(() => undefined);
  }

  /**
   * The engine has closed: what still arrives (a look-up's answer, an account read) is recorded while the audit log
   * is open, and once that is closed too, it is not a failure that halts trading: the folder is no longer this
   * engine's (its lock released, perhaps another process's), and its next open asks the venues again.
   */
  close(): void {
    this.closed = true;
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
        this.fail(e);
        return;
      }
      // Refused (a secret-looking key, a value JSON cannot hold): record it redacted, or say what was refused.
      try {
        audit.write(type, redactSecrets(data));
      } catch {
        try {
          audit.write('AuditRefused', { type, message: (e as Error).message });
        } catch (again) {
          this.fail(again as Error);
        }
      }
    }
  }

  private append(type: string, data: Record<string, unknown>): Promise<unknown> {
    if (!this.audit) return Promise.resolve();
    let p: Promise<unknown>;
    try {
      // Nothing of the record is held while its sync is under way (the caller only waits).
      p = this.audit.appendDurable(type, data);
    } catch (e) {
      // Refused synchronously (a secret-looking key, a value JSON cannot hold): record that, redacted.
      p = this.audit
        .append(type, redactSecrets(data))
        .catch(() => this.audit?.append('AuditRefused', { type, message: (e as Error).message }));
    }
    return this.track(p);
  }

  /** An awaited record: `settle` waits for it; its failure is the log's failure (trading halts). */
  private track(p: Promise<unknown>): Promise<unknown> {
    this.pendingAudit.add(p);
    return p.then(
      (r) => {
        this.pendingAudit.delete(p);
        return r;
      },
      (e: unknown) => {
        this.pendingAudit.delete(p);
        this.fail(e as Error);
        throw e;
      },
    );
  }

  private fail(e: Error): void {
    if (this.failed || this.closed) return;
    this.failed = e;
    this.failureHandler(e);
  }
}

/** The command as the audit log keeps it: the order's free-form metadata redacted of anything secret-looking. */
export function auditCommand(cmd: SubmitOrder): Record<string, unknown> {
  const out: Record<string, unknown> = {
    commandId: cmd.commandId,
    issuedAt: cmd.issuedAt,
    clientOrderId: cmd.clientOrderId,
    venue: cmd.venue,
    source: cmd.source,
    order: auditOrder(cmd.order),
  };
  // Set one by one (same keys, same order) rather than spread from a literal each.
  if (cmd.component !== undefined) out['component'] = cmd.component;
  if (cmd.componentLimits !== undefined) out['componentLimits'] = redactSecrets(cmd.componentLimits);
  if (cmd.liveConfirmation !== undefined) out['liveConfirmation'] = cmd.liveConfirmation;
  return out;
}

/**
 * Risk results as the audit log keeps them: check, verdict, limit and actual, and 'delayed quote' after them for a
 * check judged against the venue's delayed market data. The sentence shown to the user is rebuilt from these, so it
 * is not stored a second time (it would triple the size of the line).
 */
export function auditRisk(
  results: readonly RiskCheckResult[],
): Array<[string, boolean, number | string | null, number | string | null, ...'delayed quote'[]]> {
  return results.map((r) =>
    r.delayedQuote === true
      ? [r.check, r.passed, r.limit, r.actual, 'delayed quote']
      : [r.check, r.passed, r.limit, r.actual],
  );
}

export function auditOrder<T>(order: T): T {
  if (typeof order !== 'object' || order === null) return order;
  const o = order as Record<string, unknown>;
  const metadata = o['metadata'];
  if (typeof metadata !== 'object' || metadata === null || !hasKeys(metadata)) return order;
  return { ...o, metadata: redactSecrets(metadata) } as T;
}

/** Whether `o` has an own enumerable key (`Object.keys(o).length > 0` without the array). */
function hasKeys(o: object): boolean {
  for (const k in o) if (Object.prototype.hasOwnProperty.call(o, k)) return true;
  return false;
}
