/**
 * An emergency stop the audit log began and never reported, and how it is said (the CLI and the editor): why its
 * report is missing, as far as the folder shows. A process killed while it ran and an audit log that failed under
 * it (a full disk) leave the same log; the trading state file tells them apart when the halt for the log's failure
 * could be saved to it. Without that, both are said, and neither asserted.
 */
import { AUDIT_FAILED_REASON } from '../execution/engine/tradingControl';

export interface InterruptedStop {
  readonly at: number;
  readonly reason: string;
  readonly flatten: boolean;
  /** `audit-log-failed`: the trading state file says the audit log failed after the stop began. */
  readonly cause: 'audit-log-failed' | 'unknown';
  /** The log's failure as the halt for it recorded it (with `audit-log-failed`). */
  readonly auditFailure?: string;
}

/** `stop` with its cause, from the trading state the folder opened with. */
export function withCause(
  stop: { at: number; reason: string; flatten: boolean },
  trading: { reason: string; since: number },
): InterruptedStop {
  if (trading.since >= stop.at && trading.reason.startsWith(AUDIT_FAILED_REASON))
    return { ...stop, cause: 'audit-log-failed', auditFailure: trading.reason.slice(AUDIT_FAILED_REASON.length) };
  return { ...stop, cause: 'unknown' };
}

/** One sentence (no remedy): what happened to the stop, and what may be left at the venue. */
export function interruptedStopText(stop: InterruptedStop): string {
  const what = `the emergency stop of ${new Date(stop.at).toISOString()} (${stop.reason}${stop.flatten ? ', closing every position' : ''})`;
  const left = `orders may still be working${stop.flatten ? ' and positions open' : ''}`;
  if (stop.cause === 'audit-log-failed')
    return `${what} was cut short: the audit log failed while it ran (${stop.auditFailure ?? 'see the trading state'}), so what it did after that is not recorded and ${left}`;
  return `${what} was cut short: it has no report in the audit log (the process ended, or the audit log could not be written: a full disk, an I/O error; the run said which), so ${left}`;
}
