/**
 * Where a replay writes its files (--out, --fills-csv, --fills-parquet): the places it refuses, and the --out
 * folder's lock (one replay at a time writes into it).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { acquireStateDirLock, StateDirBusyError, type StateDirLock } from '../common/stateLock';
import { STATE_NAMES, TRADING_STATE_ENTRIES } from '../common/statePaths';

/** --out names a folder another replay is writing its files into now (exit 5, as a state folder in use). */
export class ReplayOutBusyError extends Error {}

export function lockOutFolder(out: string): StateDirLock {
  try {
    return acquireStateDirLock(out, 'sptrader replay (writing its --out files)');
  } catch (e) {
    if (!(e instanceof StateDirBusyError)) throw e;
    const holder = e.holder;
    throw new ReplayOutBusyError(
      `--out ${out}: another replay is writing its files there now${
        holder
          ? ` (${holder.purpose}, pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()})`
          : ''
      }: two at once would leave one run's report.json beside the other's fills. Nothing was replayed. Wait for it to finish, or write to another --out folder (if no replay is running, delete ${join(out, STATE_NAMES.lock)})`,
    );
  }
}

export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why a replay must not write at `path` (a file, or with `folder` a folder it writes into), or undefined: in a
 * trading state folder (or its audit folder) it would replace or sit among the state files a replay never
 * touches (`--fills-csv .sptrader/audit/audit-000001.jsonl` replaced the audit log); over its own input it
 * would replace the data or the component it reads.
 */
export function replayOutputProblem(path: string, folder: boolean, inputs: readonly string[]): string | undefined {
  if (!folder && inputs.includes(path)) return 'this is an input of the replay; write the fills to another file';
  const dir = folder ? path : dirname(path);
  for (const candidate of [dir, dirname(dir)]) {
    let entries: string[];
    try {
      entries = readdirSync(candidate);
    } catch {
      continue;
    }
    // A replay's own folder (its marker beside its audit log) is no trading state.
    if (entries.includes(STATE_NAMES.replayMarker)) continue;
    const held = entries.filter((e) => TRADING_STATE_ENTRIES.includes(e));
    const isAudit = candidate !== dir && basename(dir) === STATE_NAMES.audit;
    if (held.length > 0 && (candidate === dir || isAudit))
      return `${candidate} is a trading state folder (it holds ${held.join(', ')}): a replay never writes into trading state; choose another place`;
  }
  return undefined;
}
