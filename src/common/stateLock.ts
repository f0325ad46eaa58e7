/**
 * One process at a time in a state directory. The audit log's hash chain, the paper account's journal
 * and the working-orders file each assume a single writer: two CLI runs on one `--state-dir`, or two
 * VS Code windows on the extension's global storage, would fork the chain and lose account changes.
 *
 * The lock is a file (`<dir>/lock`) created exclusively, holding who took it. A lock whose process is
 * gone (same host, no such pid; on Linux also a pid that another process has had since: its start is not the
 * one the holder wrote) is stale and taken over; taking over is itself serialised by a second exclusive
 * file, so two processes cannot both take one stale lock (and that file, left by a taker that was killed,
 * is stale in its turn and taken over the same way: `takeOver`). Within one process the lock is
 * counted, so nested users (the CLI and the trading session it opens) share it.
 *
 * A lock file that does not hold a whole record:
 * - empty, or the beginning of a record this module writes (`{"pid":…`): a holder is between creating
 *   and writing it (a few microseconds: one write of a few hundred bytes), or died there. While it is younger
 *   than STALE_TAKEOVER_MS, or names a pid that is alive (on this host, or on a host it does not name),
 *   it is busy; after that it is a crash's leftover and taken over like any stale lock.
 * - anything else (text this module never writes, JSON of another shape): not ours, so whose it is
 *   cannot be known. It is never taken over; the error names the file and says to delete it.
 * - a directory, or a file that cannot be read or created (permissions, a read-only or full disk):
 *   a StateFileError naming it (the CLI's exit 6), never a stack trace.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { crashPoint } from './crashPoint';
import { isAlive, processStartOf } from './processAlive';
import { StateFileError, stateFileErrorOf } from './stateErrors';
import { removeStaleStateTemps, statePaths } from './statePaths';
import { readStateFileSync } from './userFile';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Milliseconds since the epoch. */
  readonly since: number;
  /** What took it, e.g. "sptrader test-order" or "VS Code extension". */
  readonly purpose: string;
  /** Which run of `pid` took it (processStartOf), where it can be read: a pid given to another process since is no holder. */
  readonly start?: string;
}

/** The directory is in use by another live process (or by a holder whose lock file cannot be read). */
export class StateDirBusyError extends Error {
  override readonly name = 'StateDirBusyError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
    /** Why the holder is not named, when its lock file does not say. */
    readonly unreadable?: string,
  ) {
    const { lock, lockTakeover } = statePaths(dir);
    super(
      `${dir} is in use by another SPtrader process${
        holder
          ? ` (${holder.purpose}, pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()})`
          : ''
      }${unreadable ? `: its lock file ${lock} ${unreadable}` : ''}: one process at a time may trade from a state directory, or its audit log and paper account would fork. ` +
        `Finish or close that one (another VS Code window, or an sptrader command), or use another --state-dir. ` +
        `If no such process is running, delete ${lock} (and ${lockTakeover} if it is there).`,
    );
  }
}

export interface StateDirLock {
  readonly dir: string;
  /** Gives the lock back (once per acquire); the file goes when the last user in this process releases it. */
  release(): void;
}

const held = new Map<string, { count: number; path: string }>();
// A lock file without a whole record, younger than this, may be a holder still writing it.
const STALE_TAKEOVER_MS = 10_000;
// How many takers in a row may die holding a takeover marker before the folder needs a person (each death
// leaves one marker more: `lock.takeover`, `lock.takeover.takeover`, …).
const MAX_TAKEOVER_DEPTH = 3;

export function acquireStateDirLock(dir: string, purpose: string): StateDirLock {
  const absolute = resolve(dir);
  const path = statePaths(absolute).lock;
  const mine = held.get(absolute);
  if (mine) {
    mine.count++;
    return handle(absolute);
  }
  makeStateDir(absolute);
  const start = processStartOf(process.pid);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: Date.now(),
    purpose,
    ...(start === undefined ? {} : { start }),
  };
  if (!tryCreate(path, me)) {
    const seen = readLock(path);
    if (seen.kind === 'foreign') throw new StateDirBusyError(absolute, undefined, seen.why);
    if (seen.kind !== 'gone' && !isStale(seen)) throw busy(absolute, seen);
    if (!takeOver(path, seen, me)) {
      const now = readLock(path);
      throw now.kind === 'gone' ? new StateDirBusyError(absolute, undefined) : busy(absolute, now);
    }
  }
  held.set(absolute, { count: 1, path });
  // The folder is ours now: what a killed writer left half-way is cleared before anyone reads or writes it.
  removeStaleStateTemps(absolute);
  return handle(absolute);
}

function makeStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new StateFileError(
        dir,
        'this is a file, not a state directory (or a file is in the place of a folder on its path)',
        'Pass a folder to --state-dir',
      );
    throw stateFileErrorOf(dir, 'create the state directory', e);
  }
}

function busy(dir: string, seen: LockRead): StateDirBusyError {
  if (seen.kind === 'holder') return new StateDirBusyError(dir, seen.holder);
  if (seen.kind === 'partial')
    return new StateDirBusyError(
      dir,
      undefined,
      `holds no whole record (${seen.text.length === 0 ? 'it is empty' : `it holds ${JSON.stringify(seen.text.slice(0, 60))}`}): a process is writing it now${
        seen.pid === undefined ? '' : ` (pid ${seen.pid}${seen.host === undefined ? '' : ` on ${seen.host}`})`
      }, or one died while writing it (then it is taken over ${STALE_TAKEOVER_MS / 1000} s after it was written, once its process is gone)`,
    );
  if (seen.kind === 'foreign') return new StateDirBusyError(dir, undefined, seen.why);
  return new StateDirBusyError(dir, undefined);
}

function handle(dir: string): StateDirLock {
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      const entry = held.get(dir);
      if (!entry) return;
      entry.count--;
      if (entry.count > 0) return;
      held.delete(dir);
      try {
        const seen = readLock(entry.path);
        // Only our own lock file is removed (never one a takeover gave to someone else).
        if (seen.kind === 'holder' && seen.holder.pid === process.pid && seen.holder.host === hostname())
          rmSync(entry.path, { force: true });
      } catch {
        // Releasing runs in `finally` blocks: a lock that cannot be removed is left, and the next run takes it over.
      }
    },
  };
}

/** Creates the lock file with our record; false when it is already there. A half-written file is never left behind by a failed write. */
function tryCreate(path: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw stateFileErrorOf(path, 'create the lock file', e);
  }
  let written = false;
  try {
    writeSync(fd, JSON.stringify(me));
    written = true;
  } catch (e) {
    throw stateFileErrorOf(path, 'write the lock file', e);
  } finally {
    closeSync(fd);
    if (!written) rmSync(path, { force: true });
  }
  return true;
}

type LockRead =
  | { kind: 'gone' }
  | { kind: 'holder'; holder: LockHolder; text: string }
  /** Empty, or the beginning of a record this module writes: being written, or a crash while writing it. */
  | { kind: 'partial'; text: string; pid: number | undefined; host: string | undefined; ageMs: number }
  /** Not something this module writes. */
  | { kind: 'foreign'; text: string; why: string };

const RECORD_START = '{"pid":';
const PARTIAL = /^\{"pid":(\d+)(?:,"host":("(?:[^"\\]|\\.)*")?)?/;

function readLock(path: string): LockRead {
  let text: string;
  let ageMs: number;
  try {
    text = readStateFileSync(path);
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'gone' };
    // Not a record this module writes (one is a few hundred bytes): whose it is cannot be known.
    if (code === 'EFBIG')
      return {
        kind: 'foreign',
        text: '',
        why: (e as Error).message.replace(/^it /, ''),
      };
    if (code === 'EISDIR')
      throw new StateFileError(
        path,
        'a directory is in the place of the lock file',
        `SPtrader never makes one there: if no SPtrader process is running, remove it (rmdir ${path})`,
      );
    throw stateFileErrorOf(path, 'read the lock file', e);
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder> | null;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof parsed.pid === 'number' &&
      typeof parsed.host === 'string' &&
      typeof parsed.since === 'number' &&
      typeof parsed.purpose === 'string' &&
      (parsed.start === undefined || typeof parsed.start === 'string')
    )
      return { kind: 'holder', holder: parsed as LockHolder, text };
    return {
      kind: 'foreign',
      text,
      why: `holds JSON that is not an SPtrader lock record (${JSON.stringify(text.slice(0, 60))})`,
    };
  } catch {
    // not whole JSON: see below
  }
  if (text.length <= RECORD_START.length ? RECORD_START.startsWith(text) : text.startsWith(RECORD_START)) {
    const m = PARTIAL.exec(text);
    let host: string | undefined;
    try {
      host = m?.[2] === undefined ? undefined : (JSON.parse(m[2]) as string);
    } catch {
      host = undefined;
    }
    return { kind: 'partial', text, pid: m?.[1] === undefined ? undefined : Number(m[1]), host, ageMs };
  }
  return {
    kind: 'foreign',
    text,
    why: `is not one SPtrader wrote (it holds ${JSON.stringify(text.slice(0, 60))}${text.length > 60 ? '…' : ''}), so whose it is cannot be known and it is never taken over`,
  };
}

function isStale(seen: LockRead): boolean {
  if (seen.kind === 'gone') return true;
  if (seen.kind === 'foreign') return false;
  if (seen.kind === 'partial') {
    // A holder may be writing it right now. A time far ahead of now is no such write (one now is stamped now):
    // it was written before the clock went back, and waiting for the clock to reach it could take days.
    if (Math.abs(seen.ageMs) < STALE_TAKEOVER_MS) return false;
    if (seen.pid === undefined) return true; // old and empty: its writer died before writing its pid
    if (seen.host !== undefined && seen.host !== hostname()) return false;
    return seen.pid === process.pid || !isAlive(seen.pid);
  }
  const holder = seen.holder;
  if (holder.host !== hostname()) return false; // another machine's process cannot be checked: never taken over
  // Asked only for a lock this process does not hold: one with our pid is a dead earlier process's
  // (a container that starts every run as the same pid, say).
  if (holder.pid === process.pid) return true;
  if (!isAlive(holder.pid)) return true;
  // Alive: the holder itself, or a process the pid was given to after the holder was killed.
  if (holder.start === undefined) return false;
  const now = processStartOf(holder.pid);
  return now !== undefined && now !== holder.start;
}

/**
 * Replaces a stale lock (a dead holder's, or a crash's leftover without a whole record) with ours, one
 * taker at a time: under a marker file (`<lock>.takeover`) created exclusively, the lock is read again and
 * replaced only if it is still the stale one. Returns false when the lock turned out to be live after all,
 * or another process is taking it over right now.
 *
 * A taker killed while it holds the marker leaves the marker behind, naming a dead process: that marker is
 * stale in its turn and is taken over the same way, under a marker of its own (`<lock>.takeover.takeover`),
 * so a kill at any step of a takeover never leaves the folder locked for good. A marker is only ever removed
 * by its holder, or as a stale one under the marker above it, so two takers are never both past one.
 */
function takeOver(path: string, seen: LockRead, me: LockHolder, depth = 0): boolean {
  if (seen.kind === 'gone') return tryCreate(path, me);
  const marker = `${path}.takeover`;
  if (!tryCreate(marker, me)) {
    // Someone else is taking over now (then this one is busy), or a taker died holding the marker.
    const held = readLock(marker);
    if (depth >= MAX_TAKEOVER_DEPTH || held.kind === 'foreign' || (held.kind !== 'gone' && !isStale(held)))
      return false;
    if (!takeOver(marker, held, me, depth + 1)) return false;
  }
  crashPoint('lock-takeover-marked');
  try {
    // Under the marker no one else replaces the lock: look again, then replace it if it is still the stale one.
    const now = readLock(path);
    if (now.kind !== 'gone') {
      if (now.kind !== seen.kind || now.text !== seen.text || !isStale(now)) return false;
      try {
        rmSync(path, { force: true });
      } catch (e) {
        throw stateFileErrorOf(path, 'remove the stale lock file', e);
      }
      crashPoint('lock-takeover-removed');
    }
    return tryCreate(path, me);
  } finally {
    rmSync(marker, { force: true });
  }
}
