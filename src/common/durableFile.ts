/**
 * Small files that must survive a crash or a power loss: written whole, flushed, then renamed over the
 * old one, with the directory entry flushed too. Synchronous, for state that must be on disk before
 * the caller goes on (a halt before it takes effect, a paper fill before it is reported).
 *
 * A process killed between writing a temp file and renaming it leaves the temp file behind: named
 * `<file>.<pid>.tmp` (or `<file>.<pid>.<8 hex>.tmp` for a write that awaits), so that whoever opens the
 * folder next can tell a dead process's leftover from a live one's write (`removeStaleTempFiles`).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crashPoint } from './crashPoint';
import { isAlive } from './processAlive';

/** Writes all of `text` (a short write is carried on, never taken for the whole). */
export function writeAllSync(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (!(written > 0)) throw new Error(`write returned ${written} bytes`);
    offset += written;
  }
}

/** Makes a directory's entries (a renamed or newly created file) durable. */
export function syncDirectorySync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    // Windows cannot open a directory; NTFS makes the entry durable with the file's own flush.
    if (process.platform === 'win32') return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` with `text` atomically: a crash leaves the old content or the new, never a mix or an
 * empty file. The rename itself is made durable by the caller's `syncDirectorySync` (so that it can
 * change more entries first). A temp file left by a failure is removed.
 */
export function replaceFileSync(
  file: string,
  text: string,
  options: { fileMode?: number; dirMode?: number } = {},
): void {
  mkdirSync(dirname(file), { recursive: true, ...(options.dirMode === undefined ? {} : { mode: options.dirMode }) });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', options.fileMode);
    try {
      writeAllSync(fd, text);
      // Flushed before the rename so a power loss cannot leave the new name on empty content.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    crashPoint('replace-before-rename');
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Temp files this process is writing now: an awaiting write between its open and its rename. */
const writing = new Set<string>();

/**
 * A temp file's name beside `file` for a write that awaits (unique within this process, and marked as being
 * written so that `removeStaleTempFiles` leaves it alone): give it back with `tempFileDone` once it is renamed
 * or removed.
 */
export function tempFileFor(file: string): string {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writing.add(tmp);
  return tmp;
}

export function tempFileDone(tmp: string): void {
  writing.delete(tmp);
}

/** `removeStaleTempFiles` for one file's own temp files (a report a replay rewrites, say); returns what it removed. */
export function removeStaleTempFilesOf(file: string): string[] {
  const name = basename(file);
  return removeStaleTempFiles(dirname(file), (base) => base === name);
}

const TEMP_NAME = /^(.+?)\.(\d+)(?:\.[0-9a-f]{8})?\.tmp$/;

/**
 * Removes what writes cut short by a kill left in `dir`: the temp files of the files `ours` names (by their
 * name in `dir`) whose process is gone, or is this one but is writing none of them now (a container starts
 * every run with the same pid). A live process's temp file is never touched. Call it holding the folder's
 * lock. Returns the paths removed; one that cannot be removed (a read-only folder) is left for the next open,
 * since it harms nothing but space.
 */
export function removeStaleTempFiles(dir: string, ours: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (m === null || !ours(m[1] as string)) continue;
    const path = join(dir, name);
    const pid = Number(m[2]);
    if (pid === process.pid ? writing.has(path) : isAlive(pid)) continue;
    try {
      // unlink, not rm: a folder of that name is not a temp file SPtrader made, and is left alone.
      unlinkSync(path);
      removed.push(path);
    } catch {
      // left for the next open
    }
  }
  return removed;
}
