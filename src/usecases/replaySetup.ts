/**
 * What a replay needs before its loop: a folder of its own (never trading state), an engine over an
 * audit log synced once at close, times a clock can hold, and the limits and time format it uses.
 */
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestClock } from '../common/clock';
import { StateDamagedError, stateFileErrorOf } from '../common/stateErrors';
import { syncDirectorySync, writeAllSync } from '../common/durableFile';
import { acquireStateDirLock } from '../common/stateLock';
import { crashPoint } from '../common/crashPoint';
import type { PaperBroker } from '../brokers/paper/paperBroker';
import { ReplayDataError, type ReplayFeed } from '../brokers/paper/replayFeed';
import { AuditLog, nodeAuditFileSystem, type AuditFileSystem, type RecoveryReport } from '../execution/audit/auditLog';
import { ExecutionEngine } from '../execution/engine';
import { DEFAULT_RISK_LIMITS, type RiskLimits } from '../execution/risk';
import type { CircuitBreakerSettings } from '../execution/tradingState';
import { STATE_NAMES, statePaths, TRADING_STATE_ENTRIES } from '../common/statePaths';

/** The engine a replay submits through, and how to close it. */
export interface ReplayEngine {
  engine: ExecutionEngine;
  /** The audit log's folder, when there is one. */
  auditDir: string | null;
  /** The audit log itself, when there is one: parent orders write their own records to it. */
  audit?: Pick<AuditLog, 'append'>;
  close(): Promise<void>;
}

export interface ReplayEngineContext {
  clock: TestClock;
  broker: PaperBroker;
  /** Where the default engine keeps its audit log (`<stateDir>/audit`). */
  stateDir: string;
  limits: RiskLimits;
  circuitBreaker: CircuitBreakerSettings;
}

/** The file that marks a folder as a replay's (never a trading state directory). */
export const REPLAY_MARKER = STATE_NAMES.replayMarker;
const MARKER_KIND = 'sptrader-replay';

/** --state-dir names a folder a replay must not write into. */
export class ReplayStateDirError extends Error {
  override readonly name = 'ReplayStateDirError';
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(
      `${dir}: ${problem}. A replay writes only into a folder of its own (new or empty, then marked with ${REPLAY_MARKER}), never into trading state: omit --state-dir (a new temp folder) or name a new folder`,
    );
  }
}

/**
 * Makes `dir` a replay's folder, or refuses it: a folder with the replay marker is reused; a missing or
 * empty one is created and marked; anything else (trading state above all) is refused. Nothing is written
 * into a refused folder.
 *
 * The check and the marking are one step under the folder's lock: a trading command on the same new folder
 * checks for the marker under the lock too (session.ts), so the two cannot both find it empty and both go on
 * (a replay marking a folder an execute was trading from, its simulated fills in the real audit log's folder).
 * The folder is first looked at without the lock, so that a trading folder is refused without a lock file
 * ever written into it.
 */
export function prepareReplayStateDir(dir: string): string {
  const absolute = resolve(dir);
  const seen = replayFolderEntries(absolute);
  if (seen === undefined) {
    try {
      mkdirSync(absolute, { recursive: true, mode: 0o700 });
    } catch (made) {
      throw stateFileErrorOf(absolute, 'create the replay folder', made);
    }
  } else judgeReplayFolder(absolute, seen);
  const lock = acquireStateDirLock(absolute, 'sptrader replay (marking its folder)');
  try {
    // Under the lock: what another process did between the look above and now counts.
    const entries = (replayFolderEntries(absolute) ?? []).filter((e) => !LOCK_ENTRIES.has(e));
    const marking = judgeReplayFolder(absolute, entries);
    if (marking !== 'reuse') markReplayFolder(absolute, join(absolute, REPLAY_MARKER), marking === 'again');
    crashPoint('replay-folder-marked');
  } finally {
    lock.release();
  }
  return absolute;
}

/** The lock's own files, which a look under the lock finds (ours, or a takeover marker a killed process left). */
const LOCK_ENTRIES: ReadonlySet<string> = new Set([STATE_NAMES.lock, STATE_NAMES.lockTakeover]);

/** The folder's entries; undefined when it does not exist. */
function replayFolderEntries(absolute: string): string[] | undefined {
  try {
    return readdirSync(absolute);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new ReplayStateDirError(absolute, 'this is a file, not a folder');
    if (code !== 'ENOENT') throw stateFileErrorOf(absolute, 'list the replay folder', e);
    return undefined;
  }
}

/** Whether a folder holding `entries` is a replay's to reuse, to mark (`again`: an interrupted marking), or refused. */
function judgeReplayFolder(absolute: string, entries: readonly string[]): 'reuse' | 'mark' | 'again' {
  const trading = entries.filter((e) => TRADING_STATE_ENTRIES.includes(e) && e !== STATE_NAMES.audit);
  const marker = join(absolute, REPLAY_MARKER);
  if (entries.includes(REPLAY_MARKER)) {
    let kind: unknown;
    let text: string | undefined;
    try {
      text = readFileSync(marker, 'utf8');
      kind = (JSON.parse(text) as { kind?: unknown } | null)?.kind;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw stateFileErrorOf(marker, 'read the replay marker', e);
    }
    // An empty marker alone in its folder is a marking a kill or a power cut interrupted (it is flushed before
    // anything else is written there): marked again, not refused for good.
    if (text === '' && entries.length === 1) return 'again';
    if (kind !== MARKER_KIND)
      throw new ReplayStateDirError(absolute, `${REPLAY_MARKER} there is not a replay marker SPtrader wrote`);
    // A marked folder that has since gained trading state (a trading command pointed at it) is trading state now.
    if (trading.length > 0)
      throw new ReplayStateDirError(
        absolute,
        `it is marked as a replay folder but holds trading state (${trading.join(', ')})`,
      );
    return 'reuse';
  }
  const held = entries.filter((e) => TRADING_STATE_ENTRIES.includes(e));
  if (held.length > 0) throw new ReplayStateDirError(absolute, `it holds trading state (${held.join(', ')})`);
  if (entries.length > 0)
    throw new ReplayStateDirError(
      absolute,
      `it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) and not a replay folder (no ${REPLAY_MARKER})`,
    );
  return 'mark';
}

/**
 * Writes the replay marker, flushed (with its folder's entry) before the replay writes anything else there, so
 * that a power cut leaves no marker, a whole one, or an empty one in an otherwise empty folder (marked again).
 */
function markReplayFolder(dir: string, marker: string, again: boolean): void {
  const text = `${JSON.stringify({ kind: MARKER_KIND, version: 1, createdAt: new Date().toISOString(), note: 'Replay audit logs. SPtrader never trades from this folder.' }, null, 1)}\n`;
  let fd: number;
  try {
    fd = openSync(marker, again ? 'w' : 'wx', 0o600);
  } catch (e) {
    // Another replay marked it first: then it is a replay folder.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw stateFileErrorOf(marker, 'write the replay marker', e);
  }
  try {
    writeAllSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    throw stateFileErrorOf(marker, 'write the replay marker', e);
  } finally {
    closeSync(fd);
  }
  try {
    syncDirectorySync(dir);
  } catch (e) {
    throw stateFileErrorOf(dir, 'save the replay marker to disk', e);
  }
}

// Times a Date (and so every ISO string in the report and the audit log) can hold: ±8.64e15 ms.
const MAX_TIME_MS = 8.64e15;

/** A feed whose times a clock cannot hold (an epoch number of the wrong unit, say) is a data error naming the record. */
export function checkTimes(feed: ReplayFeed): void {
  const times = feed.times;
  for (const index of [0, times.length - 1]) {
    const t = times[index] as number;
    if (Number.isFinite(t) && Math.abs(t) <= MAX_TIME_MS) continue;
    throw new ReplayDataError(
      `${feed.source}: the ${index === 0 ? 'first' : 'last'} record's time (${t} ms since 1970) is beyond the dates a clock can hold (years -271821 to 275760): check the unit of the time column (seconds, milliseconds, microseconds or nanoseconds since 1970, or ISO 8601)`,
      feed.source,
      undefined,
      'time',
    );
  }
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** `toISOString` for increasing times, several times faster: the date part is reused within a day. */
export function isoFormatter(): (ms: number) => string {
  let dayStart = Number.NaN;
  let prefix = '';
  const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
  return (ms: number): string => {
    const offset = ms - dayStart;
    if (!(offset >= 0 && offset < 86_400_000) || !Number.isInteger(ms)) {
      if (!Number.isInteger(ms) || ms < 0 || ms >= 253402300800000) return iso(ms);
      dayStart = ms - (ms % 86_400_000);
      prefix = iso(dayStart).slice(0, 11);
      return iso(ms);
    }
    const h = Math.floor(offset / 3_600_000);
    const m = Math.floor(offset / 60_000) % 60;
    const sec = Math.floor(offset / 1000) % 60;
    const milli = offset % 1000;
    return `${prefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}
export const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;

/** Replay limits: the settings' defaults without the submit-rate limit (simulated time would trip it). */
export function replayLimits(overrides: Partial<RiskLimits> = {}): RiskLimits {
  const limits: RiskLimits = { ...DEFAULT_RISK_LIMITS, ...overrides };
  if (overrides.maxOrdersPerSecond === undefined) {
    delete limits.maxOrdersPerSecond;
    delete limits.orderBurst;
  }
  return limits;
}

/** An audit file system that defers its syncs to one call at the end (`syncAll`). */
export interface SyncedAtEnd extends AuditFileSystem {
  /** Syncs every file written and every directory entry made since the last call (files first, on the thread pool). */
  syncAll(): Promise<void>;
}

/**
 * A simulation's audit files: every line is written in order as it is appended, at once and
 * synchronously (so the log is complete and its hash chain verifies, and a process that dies leaves
 * every appended line in the file), but synced to disk once, when the replay ends (`syncAll`), not per
 * batch or per file: a replay cut short by a machine crash is run again. An fsync per order plus a
 * thread-pool hop per write were most of a replay's time; then a sync per file and per new directory entry
 * was most of a sparse component's: the log rotates by simulated day, and an order every ~17 simulated hours
 * paid a new file's open, directory sync and data sync (~0.7 ms) each.
 */
export function syncedAtClose(
  fs: AuditFileSystem = nodeAuditFileSystem,
  syncFile: (path: string) => Promise<void> = syncFileNamed,
): SyncedAtEnd {
  const files = new Set<string>();
  const dirs = new Set<string>();
  return {
    async syncDirectory(path) {
      dirs.add(path);
    },
    async openForAppend(path) {
      const fd = openSync(path, 'a', 0o600);
      let dirty = false;
      return {
        async write(buffer, offset, length) {
          dirty = true;
          let written = 0;
          while (written < length) written += writeSync(fd, buffer, offset + written, length - written);
          return { bytesWritten: written };
        },
        async datasync() {},
        async close() {
          closeSync(fd);
          if (dirty) files.add(path);
        },
      };
    },
    async syncAll() {
      const written = [...files];
      files.clear();
      // Reopened by name: a sync applies to the file, whichever descriptor asks. In parallel on the thread pool.
      await Promise.all(written.map((path) => syncFile(path)));
      const made = [...dirs];
      dirs.clear();
      for (const dir of made) await fs.syncDirectory(dir);
    },
  };
}

/** fdatasync of the file at `path` (on the thread pool), reopened by name. */
export async function syncFileNamed(path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch (e) {
    throw new Error(
      `the replay's audit file ${path} could not be opened to sync it to disk (${(e as Error).message}): was it moved or deleted during the replay?`,
      { cause: e },
    );
  }
  try {
    await new Promise<void>((done, fail) => fdatasync(fd, (e) => (e ? fail(e) : done())));
  } finally {
    closeSync(fd);
  }
}

/** A replay folder's audit log that does not verify, as the failure that names its first problem (exit 6). */
function brokenReplayLog(dir: string, recovery: RecoveryReport): StateDamagedError {
  const first = recovery.problems[0];
  return new StateDamagedError(
    first === undefined ? dir : `${first.file}:${first.line}`,
    `the replay's audit log does not verify (${recovery.problemCount} problem(s)${first === undefined ? '' : `; first: ${first.problem}`})`,
    `Nothing was replayed: a replay is never added to a broken log. \`sptrader audit verify ${dir}\` lists what is wrong; replay into a new folder (omit --state-dir), or move this one away and keep it as the evidence`,
  );
}

export async function defaultEngine(context: ReplayEngineContext): Promise<ReplayEngine> {
  // Its audit log is one writer's, like any other in a state directory.
  const lock = acquireStateDirLock(context.stateDir, 'sptrader replay');
  const fileSystem = syncedAtClose();
  let log: AuditLog;
  try {
    let recovery: RecoveryReport;
    ({ log, recovery } = await AuditLog.open(statePaths(context.stateDir).audit, {
      clock: context.clock,
      fileSystem,
    }));
    // A new run appended to a broken chain ended 0, its summary pointing at `audit verify` as if there were
    // nothing to find there, and the damage (an edit, a garbled line) buried under a whole run's records.
    if (!recovery.verified) {
      await log.close();
      throw brokenReplayLog(log.dir, recovery);
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  const engine = new ExecutionEngine({
    clock: context.clock,
    brokers: { [context.broker.id]: context.broker },
    audit: log,
    limits: context.limits,
    circuitBreaker: context.circuitBreaker,
    // Trading state and working orders stay in memory: a replay never halts or owns real trading.
    simulation: true,
  });
  return {
    engine,
    auditDir: log.dir,
    audit: log,
    async close() {
      try {
        await engine.close();
        await log.close();
        await fileSystem.syncAll();
      } finally {
        lock.release();
      }
    },
  };
}
