/**
 * A replay's runs of the same failure: records in a row whose component call failed with the same code at the same
 * line. `maxConsecutiveErrors` of them stop the replay (replay.ts), and the Python worker counts the same run to end
 * its batch at the same record (python/sptrader_harness/batch_stops.py), so that a component broken on every record
 * is told once, at once, with where and when it started.
 */
import type { ComponentError } from '../python/runner';

/**
 * Records in a row failing with the same error that stop a replay: a component broken on every record is told at once
 * (a million identical tracebacks took minutes and said nothing more), while one that fails while it warms up (a
 * 200-bar average read before 200 bars) or now and then still runs to the end.
 */
export const DEFAULT_MAX_CONSECUTIVE_ERRORS = 1000;
/** The largest `maxConsecutiveErrors` the CLI's flag and the editor's setting take: a billion is past any data set. */
export const MAX_CONSECUTIVE_ERRORS = 1_000_000_000;

/** Records in a row, `first` to `last`, whose component call failed with `code` at `line`; `message`: the first's. */
export interface FailureRun {
  count: number;
  first: number;
  last: number;
  code: string;
  line: number | undefined;
  message: string;
}

/**
 * Counts record k's failure in `run` (python/sptrader_harness/batch_stops.py counts the same in the worker, to end
 * its batch there): true when `limit` (> 0) records in a row have failed so. A validate_order veto never counts.
 */
export function failedInRow(run: FailureRun, k: number, error: ComponentError, limit: number): boolean {
  if (error.code === 'ORDER_VETOED') return false;
  if (k === run.last + 1 && error.code === run.code && error.line === run.line) run.count++;
  else {
    run.count = 1;
    run.first = k;
    run.code = error.code;
    run.line = error.line;
    run.message = error.message;
  }
  run.last = k;
  return limit > 0 && run.count >= limit;
}

/** Why the replay stopped at record k, the last of `run` (its `fatal`): which records, when, what they raised and where. */
export function repeatedFailure(
  run: FailureRun,
  k: number,
  timeOf: (k: number) => string,
): { index: number; time: string; code: string; message: string; line?: number } {
  const count = run.count.toLocaleString('en-US');
  return {
    index: k,
    time: timeOf(k),
    code: 'REPEATED_COMPONENT_ERROR',
    message:
      `${count} records in a row, #${run.first} (${timeOf(run.first)}) to #${k}, failed with the same error, so the ` +
      `replay stopped: ${run.code}: ${run.message.split('\n')[0] ?? ''}. Fix it, or return None on records the component ` +
      'cannot decide on yet (while it warms up, say); to replay every record whatever fails, set maxConsecutiveErrors ' +
      'to 0 (CLI --max-consecutive-errors 0; editor setting sptrader.replay.maxConsecutiveErrors)',
    ...(run.line === undefined ? {} : { line: run.line }),
  };
}
