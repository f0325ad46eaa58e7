/**
 * One process at a time in a state directory. The audit log's hash chain, the paper account's journal
 * and the working-orders file each assume a single writer: two CLI runs on one `--state-dir`, or two
 * VS Code windows on the extension's global storage, would fork the chain and lose account changes.
 *
 * The lock is a file (`<dir>/lock`) created exclusively, holding who took it. A lock whose process is
 * gone (same host, no such pid) is stale and taken over; taking over is itself serialised by a second
 * exclusive file, so two processes cannot both take one stale lock. Within one process the lock is
 * counted, so nested users (the CLI and the trading session it opens) share it.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Milliseconds since the epoch. */
  readonly since: number;
  /** What took it, e.g. "sptrader test-order" or "VS Code extension". */
  readonly purpose: string;
}

/** The directory is in use by another live process. */
export class StateDirBusyError extends Error {
  override readonly name = 'StateDirBusyError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      `${dir} is in use by another SPtrader process${
        holder ? ` (${holder.purpose}, pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()})` : ''
      }: one process at a time may trade from a state directory, or its audit log and paper account would fork. ` +
        `Finish or close that one (another VS Code window, or an sptrader command), or use another --state-dir. ` +
        `If no such process is running, delete ${join(dir, 'lock')} (and ${join(dir, 'lock.takeover')} if it is there).`,
    );
  }
}

export interface StateDirLock {
  readonly dir: string;
  /** Gives the lock back (once per acquire); the file goes when the last user in this process releases it. */
  release(): void;
}

const held = new Map<string, { count: number; path: string }>();
// An unreadable lock younger than this may be a holder still writing it.
const STALE_TAKEOVER_MS = 10_000;

export function acquireStateDirLock(dir: string, purpose: string): StateDirLock {
  const absolute = resolve(dir);
  const path = join(absolute, 'lock');
  const mine = held.get(absolute);
  if (mine) {
    mine.count++;
    return handle(absolute);
  }
  mkdirSync(absolute, { recursive: true, mode: 0o700 });
  const me: LockHolder = { pid: process.pid, host: hostname(), since: Date.now(), purpose };
  if (!tryCreate(path, me)) {
    const holder = readHolder(path);
    if (holder !== undefined && !isStale(holder)) throw new StateDirBusyError(absolute, holder);
    if (!takeOver(path, holder, me)) throw new StateDirBusyError(absolute, readHolder(path));
  }
  held.set(absolute, { count: 1, path });
  return handle(absolute);
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
      const holder = readHolder(entry.path);
      // Only our own lock file is removed (never one a takeover gave to someone else).
      if (holder?.pid === process.pid && holder.host === hostname()) rmSync(entry.path, { force: true });
    },
  };
}

function tryCreate(path: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(me));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The lock's holder; undefined when the file is gone or unreadable (a holder still writing it, or a crash before it wrote). */
function readHolder(path: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.since === 'number' && typeof parsed.purpose === 'string')
      return parsed as LockHolder;
  } catch {
    // fall through
  }
  return undefined;
}

function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false; // another machine's process cannot be checked: never taken over
  // Asked only for a lock this process does not hold: one with our pid is a dead earlier process's
  // (a container that starts every run as the same pid, say).
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Replaces a stale (or unreadable and old) lock with ours, one taker at a time. Returns false when the
 * lock turned out to be live after all, or another process is taking it over right now.
 */
function takeOver(path: string, seen: LockHolder | undefined, me: LockHolder): boolean {
  if (seen === undefined) {
    // Unreadable: a holder between creating and writing it, or one that crashed there. Only an old one is taken.
    try {
      if (Date.now() - statSync(path).mtimeMs < STALE_TAKEOVER_MS) return false;
    } catch {
      return tryCreate(path, me);
    }
  }
  // Someone else is taking over now, or a takeover crashed (then its marker stays, and the error says to
  // delete it): a marker is never removed by another process, which could remove a live one.
  const marker = `${path}.takeover`;
  if (!tryCreate(marker, me)) return false;
  try {
    // Under the marker no one else replaces the lock: look again, then replace it if it is still the stale one.
    const now = readHolder(path);
    if (now === undefined) {
      try {
        if (Date.now() - statSync(path).mtimeMs < STALE_TAKEOVER_MS) return false; // a holder still writing it
      } catch {
        // gone meanwhile: ours to create
      }
    } else {
      const same = now.pid === seen?.pid && now.since === seen.since && now.host === seen.host;
      if (!same || !isStale(now)) return false;
    }
    rmSync(path, { force: true });
    return tryCreate(path, me);
  } finally {
    rmSync(marker, { force: true });
  }
}
