/**
 * Small files that must survive a crash or a power loss: written whole, flushed, then renamed over the
 * old one, with the directory entry flushed too. Synchronous, for state that must be on disk before
 * the caller goes on (a halt before it takes effect, a paper fill before it is reported).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

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
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
