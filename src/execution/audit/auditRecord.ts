/**
 * The on-disk form of one audit record and of the files that hold them, shared by the writer and the
 * verifier so that both agree byte for byte.
 *
 * A line is `{"seq":…,"ts":…,"type":…,"data":…,"prev":…,"hash":…}` with `data` in canonical JSON, where
 *  - `prev` is the sha256 of the previous line's text (without its newline), 64 zeros for the first, and
 *  - `hash` is the sha256 of the canonical JSON of `{data, prev, seq, ts, type}`.
 * `prev` covers the whole previous line, so editing, removing or inserting a line breaks the link after it.
 */
import * as crypto from 'node:crypto';
import { CanonicalBytes, integerDigits, writeAscii, writeInteger } from './canonicalBytes';
import { canonicalJson } from './canonicalJson';

export interface AuditRecord {
  /** 1-based, contiguous across all files of the log. */
  readonly seq: number;
  /** Milliseconds since the Unix epoch, from the log's clock. */
  readonly ts: number;
  /** Command or event name, e.g. "SubmitOrder", "OrderFilled". */
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prev: string;
  readonly hash: string;
}

export const GENESIS_PREV = '0'.repeat(64);

// Each record costs two hashes, the largest share of append's CPU time; the one-shot crypto.hash
// (Node ≥ 20.12) is about three times faster than createHash for lines this short.
const oneShotHash: ((algorithm: string, data: string | Uint8Array, encoding: 'hex') => string) | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Hex(text: string | Uint8Array): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/** The text the record's `hash` is taken over: canonical JSON of {data, prev, seq, ts, type}, keys sorted. */
export function hashInput(seq: number, ts: number, typeJson: string, dataJson: string, prev: string): string {
  return `{"data":${dataJson},"prev":"${prev}","seq":${seq},"ts":${ts},"type":${typeJson}}`;
}

export function formatLine(
  seq: number,
  ts: number,
  typeJson: string,
  dataJson: string,
  prev: string,
  hash: string,
): string {
  return `{"seq":${seq},"ts":${ts},"type":${typeJson},"data":${dataJson},"prev":"${prev}","hash":"${hash}"}`;
}

/**
 * Writes records as UTF-8 bytes, byte for byte the text of `hashInput` and `formatLine`: the data's JSON is
 * encoded once (into a scratch buffer, where the hash input is taken) and copied into the line, and the line
 * is hashed where it lies. Building the two texts as strings and encoding them for the hash, the `prev` hash
 * and the write cost the writer three encodings of every line and young strings for the collector.
 * A property test holds it to the two string functions.
 */
// `,"prev":"…","hash":"…"}` and the newline after the data.
const LINE_TAIL_BYTES = ',"prev":"'.length + 64 + '","hash":"'.length + 64 + '"}'.length + 1;

export class LineWriter {
  // '{"data":' then the data's JSON, then the rest of the hash input; `bytes.buf` is the scratch space.
  private readonly bytes = new CanonicalBytes(8192);
  private dataEnd = 0;
  private seq = 0;
  private ts = 0;
  private typeJson = '';
  private prev = '';
  /** `hash` of the record last passed to `prepare`. */
  hash = '';
  /** Bytes of that record's line, its newline included: what `write` needs room for. */
  lineBytes = 0;

  constructor() {
    this.bytes.buf.write('{"data":', 0, 'latin1');
  }

  /** Hashes the record's hash input; then `hash` and `lineBytes` describe its line. */
  prepare(seq: number, ts: number, typeJson: string, dataJson: string, prev: string): void {
    const bytes = this.bytes;
    bytes.pos = 8;
    bytes.text(dataJson);
    this.finish(seq, ts, typeJson, prev);
  }

  /**
   * `prepare` for the data itself, encoded straight into the scratch space (`CanonicalBytes`): false, and
   * nothing prepared, when the data needs the careful encoder (then `canonicalJson` and `prepare`).
   */
  prepareData(seq: number, ts: number, typeJson: string, data: unknown, prev: string): boolean {
    const bytes = this.bytes;
    bytes.pos = 8;
    if (!bytes.encode(data)) return false;
    this.finish(seq, ts, typeJson, prev);
    return true;
  }

  private finish(seq: number, ts: number, typeJson: string, prev: string): void {
    const bytes = this.bytes;
    const dataEnd = bytes.pos;
    // `,"prev":"…","seq":…,"ts":…,"type":…}` written piece by piece: no string made for it.
    bytes.ascii(',"prev":"');
    bytes.latin1(prev);
    bytes.ascii('","seq":');
    bytes.integer(seq);
    bytes.ascii(',"ts":');
    bytes.integer(ts);
    bytes.ascii(',"type":');
    bytes.text(typeJson);
    bytes.ascii('}');
    this.hash = sha256Hex(bytes.buf.subarray(0, bytes.pos));
    this.seq = seq;
    this.ts = ts;
    this.typeJson = typeJson;
    this.prev = prev;
    this.dataEnd = dataEnd;
    const typeBytes = Buffer.byteLength(typeJson);
    // `{"seq":` seq `,"ts":` ts `,"type":` type `,"data":` data, then the tail.
    this.lineBytes =
      7 + integerDigits(seq) + 6 + integerDigits(ts) + 8 + typeBytes + 8 + (dataEnd - 8) + LINE_TAIL_BYTES;
  }

  /** Writes the prepared record's line and a newline at `at` (room for `lineBytes`); returns the line's sha256. */
  write(into: Buffer, at: number): string {
    let pos = writeAscii(into, at, '{"seq":');
    pos = writeInteger(into, pos, this.seq);
    pos = writeAscii(into, pos, ',"ts":');
    pos = writeInteger(into, pos, this.ts);
    pos = writeAscii(into, pos, ',"type":');
    pos += into.write(this.typeJson, pos, 'utf8');
    pos = writeAscii(into, pos, ',"data":');
    pos += this.bytes.buf.copy(into, pos, 8, this.dataEnd);
    pos = writeAscii(into, pos, ',"prev":"');
    // The two hashes as one copy each (64 hex digits): a loop over their characters took twice as long.
    pos += into.write(this.prev, pos, 'latin1');
    pos = writeAscii(into, pos, '","hash":"');
    pos += into.write(this.hash, pos, 'latin1');
    pos = writeAscii(into, pos, '"}');
    into[pos] = 10;
    return sha256Hex(into.subarray(at, pos));
  }
}

const RECORD_KEYS = new Set(['seq', 'ts', 'type', 'data', 'prev', 'hash']);
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The record a parsed line holds, or a sentence saying why it is not one. Extra fields are refused:
 * they would sit outside the hash, where anyone could add to a record unnoticed.
 */
export function asAuditRecord(parsed: unknown): AuditRecord | string {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the line is not a JSON object';
  const r = parsed as Record<string, unknown>;
  for (const key of Object.keys(r))
    if (!RECORD_KEYS.has(key)) return `unexpected field "${key}" (a record has only seq, ts, type, data, prev, hash)`;
  if (typeof r['seq'] !== 'number' || !Number.isSafeInteger(r['seq']) || r['seq'] < 1)
    return '"seq" is missing or not a positive integer';
  if (typeof r['ts'] !== 'number' || !Number.isSafeInteger(r['ts'])) return '"ts" is missing or not an integer';
  if (typeof r['type'] !== 'string' || r['type'] === '') return '"type" is missing or not a non-empty string';
  const data = r['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return '"data" is missing or not an object';
  if (typeof r['prev'] !== 'string' || !HEX64.test(r['prev']))
    return '"prev" is missing or not 64 lowercase hex digits';
  if (typeof r['hash'] !== 'string' || !HEX64.test(r['hash']))
    return '"hash" is missing or not 64 lowercase hex digits';
  return r as unknown as AuditRecord;
}

/** The line the writer would have produced for this record, to compare with the line on disk. */
export function reformat(record: AuditRecord): { line: string; expectedHash: string; secretPaths: string[] } {
  const { json, secretPaths } = canonicalJson(record.data);
  const typeJson = JSON.stringify(record.type);
  const expectedHash = sha256Hex(hashInput(record.seq, record.ts, typeJson, json, record.prev));
  return {
    line: formatLine(record.seq, record.ts, typeJson, json, record.prev, record.hash),
    expectedHash,
    secretPaths,
  };
}

// ---- Files ------------------------------------------------------------------------------------------

/** `audit-YYYY-MM-DD.jsonl`, then `audit-YYYY-MM-DD.1.jsonl`, `.2`, … when a day's file reaches the size limit. */
const FILE_NAME = /^audit-(\d{4}-\d{2}-\d{2})(?:\.([1-9]\d*))?\.jsonl$/;

export interface AuditFileName {
  readonly name: string;
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** 0 for the day's first file. */
  readonly index: number;
}

export function auditFileName(day: string, index: number): AuditFileName {
  return { name: index === 0 ? `audit-${day}.jsonl` : `audit-${day}.${index}.jsonl`, day, index };
}

export function parseAuditFileName(name: string): AuditFileName | undefined {
  const m = FILE_NAME.exec(name);
  if (!m || m[1] === undefined) return undefined;
  return { name, day: m[1], index: m[2] === undefined ? 0 : Number(m[2]) };
}

/** Chain order: by day, then by index within the day. */
export function compareAuditFiles(a: AuditFileName, b: AuditFileName): number {
  if (a.day !== b.day) return a.day < b.day ? -1 : 1;
  return a.index - b.index;
}

export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}
