/**
 * The last records of an audit log, read from the end (Show Audit Log, `sptrader audit tail`): fixed-size
 * chunks are read backwards from the newest file's end through a file handle, walking back into the file
 * before when the newest holds fewer records than asked for. Memory stays at the records asked for plus
 * one chunk (and the one line being put together), whatever the log's size: a 56 MB file is not read
 * whole to show its last 2,000 lines.
 *
 * Nothing here is verified: the hash chain is auditVerify.ts's job, and it reads every line. A torn last
 * line (no newline at the end of the newest file: a write cut short) is left out and said so; a line that
 * is not JSON or not a record is reported by where it is and skipped, never thrown.
 */
import type { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StateFileError, stateFileErrorOf } from '../../common/stateErrors';
import { openRegularFile } from '../../common/userFile';
import { listAuditFilesIfAny } from './auditFiles';
import { asAuditRecord, type AuditRecord } from './auditRecord';

export type AuditTailProblemKind = 'invalid-json' | 'not-a-record';

/** A line of the tail that is not a record. Reading from the end, its line number is not known: its place is. */
export interface AuditTailProblem {
  /** Full path of the file. */
  readonly file: string;
  /** Byte offset of the line's first byte in the file. */
  readonly offset: number;
  /** 1 for the file's last complete line, 2 for the line before it, … */
  readonly lineFromEnd: number;
  readonly kind: AuditTailProblemKind;
  /** One sentence for people: what is wrong with this line. */
  readonly problem: string;
}

export interface AuditTail {
  /** The last records, oldest first: at most the number asked for, fewer when the log holds fewer. */
  readonly records: AuditRecord[];
  /** Files the records came from (the newest, then as many before it as were needed). */
  readonly filesRead: number;
  /** Full path of the log's newest file; undefined when there is none. */
  readonly newestFile?: string;
  /** A partly written last line of the newest file, left out. */
  readonly tornTail?: { readonly file: string; readonly bytes: number };
  /** Lines met on the way that are not records, newest first; at most MAX_TAIL_PROBLEMS of them. */
  readonly problems: AuditTailProblem[];
  readonly problemCount: number;
  /** Why there is nothing to read: the folder does not exist or holds no audit files. */
  readonly note?: string;
}

export interface AuditTailOptions {
  /** Bytes read at a time. Default DEFAULT_TAIL_CHUNK_BYTES. */
  readonly chunkBytes?: number;
}

export const DEFAULT_TAIL_CHUNK_BYTES = 64 * 1024;
const MAX_TAIL_PROBLEMS = 100;
const NEWLINE = 0x0a;

/** The last `n` records of the audit log in `dir`, with what was left out on the way (see the file's comment). */
export async function readAuditTail(dir: string, n: number, options: AuditTailOptions = {}): Promise<AuditTail> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`readAuditTail: n must be a whole number ≥ 0, got ${n}`);
  const chunkBytes = options.chunkBytes ?? DEFAULT_TAIL_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1)
    throw new RangeError(`readAuditTail: chunkBytes must be a whole number ≥ 1, got ${chunkBytes}`);
  const files = await listAuditFilesIfAny(dir);
  if (files === undefined)
    return {
      records: [],
      filesRead: 0,
      problems: [],
      problemCount: 0,
      note: `the folder ${dir} does not exist (nothing written yet)`,
    };
  const newest = files[files.length - 1];
  if (newest === undefined)
    return {
      records: [],
      filesRead: 0,
      problems: [],
      problemCount: 0,
      note: `the folder ${dir} holds no audit files (nothing written yet)`,
    };

  const newestFirst: AuditRecord[] = [];
  const problems: AuditTailProblem[] = [];
  let problemCount = 0;
  let tornTail: AuditTail['tornTail'];
  let filesRead = 0;
  const chunk = Buffer.allocUnsafe(chunkBytes);
  for (let f = files.length - 1; f >= 0 && newestFirst.length < n; f--) {
    const path = join(dir, (files[f] as (typeof files)[number]).name);
    filesRead++;
    let lineFromEnd = 0;
    await readLinesBackwards(path, chunk, (line, offset, last) => {
      if (last) {
        // The bytes after the file's last newline: nothing when it ends in one. In the newest file they
        // are a write cut short (the next AuditLog.open removes them); in an older file, a damaged line.
        if (line.length === 0) return true;
        if (f === files.length - 1) {
          tornTail = { file: path, bytes: line.length };
          return true;
        }
      }
      lineFromEnd++;
      const read = readRecord(line);
      if (typeof read === 'string') {
        problemCount++;
        if (problems.length < MAX_TAIL_PROBLEMS)
          problems.push({
            file: path,
            offset,
            lineFromEnd,
            kind: read === INVALID_JSON ? 'invalid-json' : 'not-a-record',
            problem: read,
          });
        return true;
      }
      newestFirst.push(read);
      return newestFirst.length < n;
    });
  }
  return {
    records: newestFirst.reverse(),
    filesRead,
    newestFile: join(dir, newest.name),
    ...(tornTail === undefined ? {} : { tornTail }),
    problems,
    problemCount,
  };
}

/** The last `n` records of the log, oldest first; lines that are not records are skipped. */
export async function tailAudit(dir: string, n: number): Promise<AuditRecord[]> {
  return (await readAuditTail(dir, n)).records;
}

/** What a tail left out, in sentences for people (none when it left nothing out). */
export function auditTailNotes(tail: AuditTail): string[] {
  const notes: string[] = [];
  if (tail.note !== undefined) notes.push(`No audit log to read: ${tail.note}.`);
  if (tail.tornTail)
    notes.push(
      `Left out: the last ${tail.tornTail.bytes} byte${tail.tornTail.bytes === 1 ? '' : 's'} of ${tail.tornTail.file}, a line with no newline (a write cut short, e.g. by a crash); the log removes it when it is next opened.`,
    );
  for (const p of tail.problems)
    notes.push(
      `Skipped: ${p.file}, line ${p.lineFromEnd} from the end (byte ${p.offset}): ${p.problem}. Verify the audit log to see the whole chain.`,
    );
  if (tail.problemCount > tail.problems.length)
    notes.push(`… and ${tail.problemCount - tail.problems.length} more line(s) that are not records.`);
  return notes;
}

const INVALID_JSON = 'the line is not valid JSON (damaged or edited)';

/** The record a line holds, or a sentence saying why it is not one. */
function readRecord(line: Buffer): AuditRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.toString('utf8'));
  } catch {
    return INVALID_JSON;
  }
  return asAuditRecord(parsed);
}

/**
 * Calls `line` with each line of the file at `path`, last first, with the byte offset of its start, until
 * it returns false. The first call has `last` set: the bytes after the final newline (empty when the file
 * ends in one). A line longer than the chunk is put together from the chunks it spans; nothing else is kept.
 */
async function readLinesBackwards(
  path: string,
  chunk: Buffer,
  line: (bytes: Buffer, offset: number, last: boolean) => boolean,
): Promise<void> {
  // Opened as verify opens it: a named pipe in the file's place held `audit tail` (and the editor's Show Audit Log)
  // until something wrote to it, and a link showed another folder's records as this log's.
  let opened: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    opened = await openRegularFile(path);
  } catch (e: unknown) {
    const what = (e as { what?: unknown }).what;
    if (typeof what === 'string')
      throw new StateFileError(
        path,
        `${what} is in the place of this audit log file (only a regular file is read)`,
        'Nothing was sent. Put the file back, or run `sptrader recover` to set the damaged log aside',
      );
    throw stateFileErrorOf(path, 'read this audit log file', e);
  }
  const { handle } = opened;
  const size = Number(opened.stat.size);
  try {
    let last = true;
    const emit = (bytes: Buffer, offset: number): boolean => {
      const go = line(bytes, offset, last);
      last = false;
      return go;
    };
    // The start of the line being put together lies in an earlier chunk; these are its later pieces.
    let carry: Buffer[] = [];
    let position = size;
    while (position > 0) {
      const start = Math.max(0, position - chunk.length);
      const view = chunk.subarray(0, position - start);
      await readFully(handle, view, start, path);
      let end = view.length;
      while (end > 0) {
        const nl = view.lastIndexOf(NEWLINE, end - 1);
        if (nl < 0) break;
        const piece = view.subarray(nl + 1, end);
        const bytes = carry.length === 0 ? piece : Buffer.concat([piece, ...carry]);
        carry = [];
        if (!emit(bytes, start + nl + 1)) return;
        end = nl;
      }
      // The chunk is read into again: what is kept of it is copied.
      if (end > 0) carry.unshift(Buffer.from(view.subarray(0, end)));
      position = start;
    }
    // The file's first line (empty when the file starts with a newline), or all of it when it has no newline.
    if (size > 0) emit(Buffer.concat(carry), 0);
  } finally {
    await handle.close();
  }
}

async function readFully(handle: fsp.FileHandle, into: Buffer, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < into.length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(into, done, into.length - done, position + done));
    } catch (e: unknown) {
      throw stateFileErrorOf(path, 'read this audit log file', e);
    }
    // Shorter than its size at open: cut short while being read (a recover setting it aside).
    if (bytesRead === 0)
      throw new StateFileError(path, 'the audit log file became shorter while it was read', 'Show the log again');
    done += bytesRead;
  }
}
