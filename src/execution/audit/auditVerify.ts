/**
 * Reading an audit directory back: recovery after a crash and verification of the hash chain. The last
 * records (`sptrader audit tail`, Show Audit Log) are read from the end by auditTail.ts.
 */
import { checkSeal } from '../../common/checksum';
import { isPermissionError, permissionDenied, StateFileError } from '../../common/stateErrors';
import { MAX_STATE_FILE_BYTES, openRegularFile, tooLarge } from '../../common/userFile';
import { join } from 'node:path';
import { listAuditFiles } from './auditFiles';
import { printableStart, terminateDurably, tornTailLength, truncateDurably } from './auditTornTail';
import { asAuditRecord, GENESIS_PREV, reformat, sha256Hex, type AuditFileName, type AuditRecord } from './auditRecord';

export type AuditProblemKind =
  | 'invalid-json'
  | 'not-a-record'
  | 'not-canonical'
  | 'secret'
  | 'seq-start'
  | 'seq-gap'
  | 'prev-mismatch'
  | 'hash-mismatch'
  /** The log ends before a record that an anchor (anchor.json, a state file) saw on disk. */
  | 'truncated'
  /** The record at an anchor's seq is not the one the anchor saw: the log was replaced or rewritten. */
  | 'rolled-back'
  /** anchor.json cannot be read. */
  | 'anchor-unreadable'
  /** An audit file that cannot be read at all (a folder, a named pipe or a link in its place): only with `reportUnreadable`. */
  | 'unreadable-file';

export interface AuditProblem {
  /** Full path of the file. */
  readonly file: string;
  /** 1-based line number within the file. */
  readonly line: number;
  readonly seq?: number;
  readonly kind: AuditProblemKind;
  /** One sentence for people: what is wrong with this line. */
  readonly problem: string;
}

export interface VerifyReport {
  /** True when every line of every file is a record whose seq, prev and hash all check out. */
  readonly verified: boolean;
  /** Lines checked (a torn tail is not counted). */
  readonly lines: number;
  readonly files: number;
  /** Seq of the last line as written; 0 for an empty log. The next append gets lastSeq + 1. */
  readonly lastSeq: number;
  /**
   * sha256 of the last line: the value the next record's `prev` will hold. Keep it somewhere else too
   * (a report, a ticket) to detect later truncation of the log's end, which no chain can reveal by itself.
   */
  readonly lastLineHash: string;
  /** At most MAX_REPORTED_PROBLEMS of them; `problemCount` has the total. */
  readonly problems: AuditProblem[];
  readonly problemCount: number;
  /** Bytes of a partly written last line in the newest file: what a crash in the middle of a write leaves. */
  readonly tornTailBytes: number;
  readonly tornTailFile?: string;
  /** True when `AuditLog.open` cut the torn tail off; `verifyAuditDir` only reports it. */
  readonly tornTailRemoved: boolean;
  /** True when the log has records but no anchor.json (deleted, or a log from before anchors): `AuditLog.open` writes one anew. */
  readonly anchorMissing: boolean;
}

export type RecoveryReport = VerifyReport;

/** Where the next record goes, as found on disk; used by `AuditLog.open`. */
export interface AuditTail {
  readonly newestFile?: AuditFileName & { readonly size: number };
  readonly lastSeq: number;
  readonly lastLineHash: string;
}

const MAX_REPORTED_PROBLEMS = 1000;

/** Beside the log's files: the last seq and line hash known to be on disk (see AuditLog). */
export const ANCHOR_FILE = 'anchor.json';

/** A point of the log that something outside it saw on disk: the log must reach it, with that line there. */
export interface AuditAnchor {
  /** Who saw it, for the message: a file name. */
  readonly source: string;
  readonly seq: number;
  /** sha256 of the line at `seq`, when known. */
  readonly hash?: string;
}

export interface ScanOptions {
  /** Called with every record that parses, in chain order (after a torn tail is cut off). */
  readonly visit?: (record: AuditRecord) => void;
  /** Anchors beside anchor.json (state files that record the head they reflect). */
  readonly anchors?: readonly AuditAnchor[];
  /**
   * An audit file that cannot be read (something other than a regular file in its place) is a problem in
   * the report, its records missing from the chain, instead of an error: for `recover`, which sets such a
   * log aside, where every other reader refuses it.
   */
  readonly reportUnreadable?: boolean;
}
const NEWLINE = 0x0a;

export { listAuditFiles } from './auditFiles';
export { tailAudit } from './auditTail';

/**
 * Checks every line of every audit file in `dir`: each is a canonical record, seq starts at 1 and is
 * contiguous across files, each `prev` is the sha256 of the line before, each `hash` matches its content.
 * Read-only: a torn tail is reported, not removed.
 */
export async function verifyAuditDir(dir: string, anchors: readonly AuditAnchor[] = []): Promise<VerifyReport> {
  return (await scanAuditDir(dir, false, { anchors })).report;
}

/**
 * A file's bytes, read only if it is a regular file and without blocking: `readFile` on a named pipe in its
 * place waits for a writer forever, and on a link to /dev/zero reads until memory runs out (every command on
 * the folder hung). A folder is EISDIR; anything else that is not a regular file ENOTREG, saying what it is.
 */
async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const { handle, stat } = await openRegularFile(path);
  try {
    // Past it, readFile fails with "File size … is greater than 2 GiB" (or, as text, a string too long),
    // naming neither the file nor what to do.
    if (stat.size > BigInt(maxBytes))
      throw tooLarge(
        path,
        Number(stat.size),
        maxBytes,
        maxBytes === MAX_AUDIT_FILE_BYTES ? 'an audit file' : 'a state file',
      );
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * The most an audit file may hold: what one read gives (2 GiB - 1). The log starts a new file at 64 MiB
 * (DEFAULT_ROTATE_BYTES), so a file past it was not written by the log.
 */
const MAX_AUDIT_FILE_BYTES = 2 ** 31 - 1;

/** anchor.json of `dir`: undefined when there is none; a problem when it cannot be read. */
async function readAnchor(dir: string): Promise<{ anchor?: AuditAnchor; problem?: string }> {
  const path = join(dir, ANCHOR_FILE);
  let text: string;
  try {
    text = (await readRegularFile(path, MAX_STATE_FILE_BYTES)).toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    // As for the log's own files: its access, not its content, is at fault.
    if (isPermissionError(e)) throw permissionDenied(path, "the audit log's anchor");
    return { problem: `${path} cannot be read: ${(e as Error).message}` };
  }
  const parsed = parseAnchor(text);
  if (typeof parsed === 'string') return { problem: `${path} is damaged (${parsed})` };
  return { anchor: { source: path, ...parsed } };
}

/** The keys anchor.json is written with (AuditLog.writeAnchor), its checksum aside. */
const ANCHOR_KEYS = new Set(['version', 'seq', 'hash', 'at']);

/**
 * anchor.json's text as the head it records, or what is wrong with it. It carries a checksum (common/checksum.ts):
 * a flipped bit in its seq or hash was taken for a log cut short or replaced by another copy, when only the anchor
 * was damaged. One without a checksum (written before there were checksums) may hold no other key.
 */
export function parseAnchor(text: string): { seq: number; hash: string } | string {
  const seal = checkSeal(text);
  if (seal.problem !== undefined) return seal.problem;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not {seq, hash} JSON';
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not {seq, hash} JSON';
  const { seq, hash } = json as { seq?: unknown; hash?: unknown };
  if (!seal.sealed && Object.keys(json).some((k) => !ANCHOR_KEYS.has(k))) return 'not {seq, hash} JSON';
  if (Number.isSafeInteger(seq) && (seq as number) >= 0 && typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash))
    return { seq: seq as number, hash };
  return 'not {seq, hash} JSON';
}

/** Verification as `verifyAuditDir` does it; with `repair`, the newest file's torn tail is cut off first. */
export async function scanAuditDir(
  dir: string,
  repair: boolean,
  options: ScanOptions = {},
): Promise<{ report: VerifyReport; tail: AuditTail }> {
  const files = await listAuditFiles(dir);
  const ownAnchor = await readAnchor(dir);
  const anchors = [...(ownAnchor.anchor ? [ownAnchor.anchor] : []), ...(options.anchors ?? [])];
  const wanted = new Map<number, string>();
  for (const a of anchors) if (a.seq > 0) wanted.set(a.seq, '');
  const visit = options.visit;
  const problems: AuditProblem[] = [];
  let problemCount = 0;
  const note = (p: AuditProblem): void => {
    problemCount++;
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push(p);
  };

  let lines = 0;
  let expectedSeq = 1;
  let prevLineHash = GENESIS_PREV;
  let first = true;
  let tornTailBytes = 0;
  let tornTailFile: string | undefined;
  let tornTailRemoved = false;
  let newestFile: (AuditFileName & { size: number }) | undefined;

  for (let f = 0; f < files.length; f++) {
    const file = files[f] as AuditFileName;
    const path = join(dir, file.name);
    let bytes: Buffer;
    try {
      bytes = await readRegularFile(path, MAX_AUDIT_FILE_BYTES);
    } catch (e) {
      // Not damage, even for recover: setting a whole log aside because of its permissions would start a new one.
      if (isPermissionError(e)) throw permissionDenied(path, 'this audit log file');
      const code = (e as NodeJS.ErrnoException).code;
      const problem =
        code === 'EISDIR'
          ? 'a directory is in the place of this audit log file'
          : code === 'ENOTREG'
            ? `${(e as { what?: string }).what ?? 'something other than a file'} is in the place of this audit log file`
            : code === 'ELOOP' || code === 'EFBIG'
              ? (e as Error).message
              : `cannot read this audit log file (${code ?? (e as Error).message})`;
      if (options.reportUnreadable) {
        note({ file: path, line: 1, kind: 'unreadable-file', problem: `${problem}: its records cannot be read` });
        continue;
      }
      throw new StateFileError(
        path,
        problem,
        'Nothing was sent. Put the file back, or run `sptrader recover` to set the damaged log aside',
      );
    }
    let end = bytes.length;
    // Bytes after the newest file's last line break that are not a torn write: kept, and reported as they are.
    let strayTail = false;
    if (f === files.length - 1) {
      const torn = tornTailLength(bytes);
      if (torn > 0) {
        tornTailBytes = torn;
        tornTailFile = path;
        end = bytes.length - torn;
        if (repair) {
          await truncateDurably(path, end);
          tornTailRemoved = true;
        }
      }
      strayTail = end > 0 && bytes[end - 1] !== NEWLINE;
      let size = repair ? end : bytes.length;
      // The next record starts a line of its own: appended right after them, it would be part of their line.
      if (repair && strayTail) size += await terminateDurably(path);
      newestFile = { ...file, size };
    }

    let start = 0;
    let lineNo = 0;
    while (start < end) {
      let nl = bytes.indexOf(NEWLINE, start);
      // Only a torn tail lacks its newline, and the newest file's was excluded above; an older file
      // without a final newline is damage, checked as a line like any other.
      if (nl < 0 || nl >= end) nl = end;
      const raw = bytes.subarray(start, nl);
      start = nl + 1;
      lineNo++;
      lines++;
      const lineHash = sha256Hex(raw);
      const text = raw.toString('utf8');
      const where = { file: path, line: lineNo };
      if (strayTail && start > end) {
        note({
          ...where,
          kind: 'not-a-record',
          problem: `the ${raw.length} byte(s) after the last record are neither a record nor the start of one a crash cut short (they begin ${JSON.stringify(printableStart(text))}): they were put there by something else, and are kept as they are for you to look at`,
        });
        expectedSeq++;
        prevLineHash = lineHash;
        first = false;
        continue;
      }
      const check = checkLine(text, expectedSeq, prevLineHash, first);
      if (check.seq !== undefined && wanted.has(check.seq)) wanted.set(check.seq, lineHash);
      if (visit && check.record) visit(check.record);
      for (const p of check.problems) note({ ...where, ...(check.seq === undefined ? {} : { seq: check.seq }), ...p });
      // A line that cannot be read still took a place in the chain; assume it held the expected seq so
      // that one damaged line gives one problem, not one for every line after it.
      expectedSeq = (check.seq ?? expectedSeq) + 1;
      prevLineHash = lineHash;
      first = false;
    }
  }

  const lastSeq = expectedSeq - 1;
  const anchorWhere = { file: join(dir, ANCHOR_FILE), line: 1 };
  if (ownAnchor.problem) note({ ...anchorWhere, kind: 'anchor-unreadable', problem: ownAnchor.problem });
  for (const a of anchors) {
    const where = { file: a.source, line: 1, seq: a.seq };
    if (a.seq > lastSeq) {
      note({
        ...where,
        kind: 'truncated',
        problem:
          lastSeq === 0
            ? `the log is empty or gone, but ${a.source} saw it reach seq ${a.seq}: every record was removed`
            : `the log ends at seq ${lastSeq}, but ${a.source} saw it reach seq ${a.seq}: ${a.seq - lastSeq} record(s) at its end were removed`,
      });
    } else if (a.hash !== undefined && a.seq > 0 && wanted.get(a.seq) !== a.hash) {
      note({
        ...where,
        kind: 'rolled-back',
        problem: `the record at seq ${a.seq} is not the one ${a.source} saw: the log was replaced by another copy or rewritten`,
      });
    }
  }
  const report: VerifyReport = {
    verified: problemCount === 0,
    lines,
    files: files.length,
    lastSeq: expectedSeq - 1,
    lastLineHash: prevLineHash,
    problems,
    problemCount,
    tornTailBytes,
    ...(tornTailFile === undefined ? {} : { tornTailFile }),
    tornTailRemoved,
    anchorMissing: ownAnchor.anchor === undefined && ownAnchor.problem === undefined && expectedSeq - 1 > 0,
  };
  return {
    report,
    tail: { ...(newestFile ? { newestFile } : {}), lastSeq: expectedSeq - 1, lastLineHash: prevLineHash },
  };
}

interface LineCheck {
  seq?: number;
  record?: AuditRecord;
  problems: Array<{ kind: AuditProblemKind; problem: string }>;
}

function checkLine(text: string, expectedSeq: number, prevLineHash: string, first: boolean): LineCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problems: [{ kind: 'invalid-json', problem: 'the line is not valid JSON (damaged or edited)' }] };
  }
  const record = asAuditRecord(parsed);
  if (typeof record === 'string') return { problems: [{ kind: 'not-a-record', problem: record }] };

  const problems: LineCheck['problems'] = [];
  let again: ReturnType<typeof reformat> | undefined;
  try {
    again = reformat(record);
  } catch (e: unknown) {
    problems.push({ kind: 'not-canonical', problem: `data cannot be re-encoded: ${(e as Error).message}` });
  }
  if (again) {
    if (again.line !== text)
      problems.push({
        kind: 'not-canonical',
        problem: 'the line differs from the canonical form of its own content (edited by hand?)',
      });
    if (again.expectedHash !== record.hash)
      problems.push({
        kind: 'hash-mismatch',
        problem: 'the record content does not match its hash (the line was edited)',
      });
    if (again.secretPaths.length > 0)
      problems.push({ kind: 'secret', problem: `secret-looking value(s) at ${again.secretPaths.join(', ')}` });
  }
  if (first && record.seq !== 1) {
    problems.push({
      kind: 'seq-start',
      problem: `the log starts at seq ${record.seq}, not 1: earlier records or files are missing`,
    });
  } else if (!first && record.seq !== expectedSeq) {
    problems.push({
      kind: 'seq-gap',
      problem:
        record.seq > expectedSeq
          ? `expected seq ${expectedSeq}, found ${record.seq}: ${record.seq - expectedSeq} record(s) missing`
          : `expected seq ${expectedSeq}, found ${record.seq}: a record is repeated or out of order`,
    });
  }
  if (record.prev !== prevLineHash) {
    problems.push({
      kind: 'prev-mismatch',
      problem: first
        ? 'the first record does not start the chain (prev should be 64 zeros): earlier records or files are missing'
        : 'prev does not match the sha256 of the line before: a line before this one was removed, inserted or edited',
    });
  }
  return { seq: record.seq, record, problems };
}
