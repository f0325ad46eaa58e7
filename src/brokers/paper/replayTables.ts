/**
 * The tables a replay feed is checked from: a CSV text, a Parquet file (hyparquet) or columns in memory,
 * each as a cell getter with a way to name a row in errors (replayFeed.ts validates every cell). Columns
 * are matched by name, case and surrounding spaces ignored, `timestamp`/`datetime` as `time`, a `date` column
 * as the time without one (daily bars) or joined to it (`Date,Time,…`); extra columns ignored, a column
 * named twice refused.
 *
 * Over 450 lines on purpose: the column names, the CSV reader and the Parquet reader share one mapping of names to
 * columns and one joining of a date and a time of day; split, each reader would drift from the other's reading.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readUserFile } from '../../common/userFile';
import { describeUndecodable, type Undecodable } from './replayEncoding';
import { parseTime } from './replayTime';

/** A Parquet file is read whole into memory (hyparquet); past this, split it. */
const MAX_PARQUET_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export class ReplayDataError extends Error {
  override readonly name = 'ReplayDataError';
  constructor(
    message: string,
    readonly file: string,
    readonly row?: number,
    readonly column?: string,
  ) {
    super(message);
  }
}

/** Columns already in memory (tests, benchmarks, other loaders): validated like a file. */
export interface ReplayColumns {
  time: ArrayLike<unknown>;
  open?: ArrayLike<unknown>;
  high?: ArrayLike<unknown>;
  low?: ArrayLike<unknown>;
  close?: ArrayLike<unknown>;
  volume?: ArrayLike<unknown>;
  bid?: ArrayLike<unknown>;
  ask?: ArrayLike<unknown>;
  bid_size?: ArrayLike<unknown>;
  ask_size?: ArrayLike<unknown>;
  symbol?: ArrayLike<unknown>;
}

export const CANDLE_COLUMNS = ['open', 'high', 'low', 'close'] as const;
const OPTIONAL_COLUMNS = ['volume', 'bid_size', 'ask_size'] as const;
/** `symbol`: what a file that names its instrument on each row records (checked against the replay's). */
export const ALL_COLUMNS = ['time', ...CANDLE_COLUMNS, 'bid', 'ask', ...OPTIONAL_COLUMNS, 'symbol'] as const;
export type ColumnName = (typeof ALL_COLUMNS)[number];

/** A table to validate: a cell getter and how to name a row in errors. */
export interface Table {
  file: string;
  rows: number;
  /** The header's names as written (for messages), when the table has a header. */
  names?: readonly string[];
  has(column: ColumnName): boolean;
  cell(column: ColumnName, row: number): unknown;
  where(row: number): string;
}

/** Header names read as `time` besides `time` itself. */
const TIME_ALIASES: ReadonlySet<string> = new Set(['timestamp', 'datetime', 'date_time', 'date/time', 'date time']);
/** Other header names of a column: the symbol, short OHLCV names (`o,h,l,c,v`), recorded sizes as venues name them. */
const ALIASES: ReadonlyMap<string, ColumnName> = new Map<string, ColumnName>([
  ['ticker', 'symbol'],
  ['instrument', 'symbol'],
  ['o', 'open'],
  ['h', 'high'],
  ['l', 'low'],
  ['c', 'close'],
  ['v', 'volume'],
  ['vol', 'volume'],
  ...['bid', 'ask'].flatMap((side) =>
    ['size', ' size', '_qty', 'qty', ' qty', 'volume', '_volume', ' volume'].map((suffix): [string, ColumnName] => [
      `${side}${suffix}`,
      `${side}_size` as ColumnName,
    ]),
  ),
]);

/** A header name without case, surrounding spaces or MetaTrader's angle brackets (`<DATE>`). */
function bareName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.length > 2 && lower.startsWith('<') && lower.endsWith('>') ? lower.slice(1, -1).trim() : lower;
}

/** The column a header name stands for (case and surrounding spaces ignored), or undefined for an extra column. */
function canonicalColumn(name: string): ColumnName | undefined {
  const lower = bareName(name);
  const canonical = TIME_ALIASES.has(lower) ? 'time' : (ALIASES.get(lower) ?? lower);
  return (ALL_COLUMNS as readonly string[]).includes(canonical) ? (canonical as ColumnName) : undefined;
}

/** A header's names for an error message: a binary or one-line file must not put megabytes into it. */
export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 20).map((n) => (n.length > 40 ? `${n.slice(0, 40)}…` : n));
  return shown.join(', ') + (names.length > 20 ? `, … (${names.length} columns)` : '');
}

/**
 * Which column of a header is each table column, by `canonicalColumn`. A name that appears twice (or two names
 * for time) is refused, saying which columns: reading either would be a guess. A `date` column is the time
 * when there is no time column (daily bars), and is put before a separate `time` column (`Date,Time,…`).
 */
export function mapColumns(names: readonly string[], label: string): { index: Map<ColumnName, number>; date?: number } {
  const index = new Map<ColumnName, number>();
  let date: number | undefined;
  names.forEach((name, i) => {
    if (bareName(name) === 'date') {
      if (date !== undefined)
        throw new ReplayDataError(
          `${label}: columns ${date + 1} ('${names[date]}') and ${i + 1} ('${name}') are both 'date'; keep one (or rename the other)`,
          label,
          undefined,
          'time',
        );
      date = i;
      return;
    }
    const column = canonicalColumn(name);
    if (column === undefined) return;
    const before = index.get(column);
    if (before !== undefined)
      throw new ReplayDataError(
        `${label}: columns ${before + 1} ('${names[before]}') and ${i + 1} ('${name}') are both '${column}'; keep one (or rename the other)`,
        label,
        undefined,
        column,
      );
    index.set(column, i);
  });
  if (date === undefined) return { index };
  if (!index.has('time')) {
    index.set('time', date);
    return { index };
  }
  return { index, date };
}

/** Grows a Uint32Array list (offsets into the text and line numbers: a 500 MB file fits in 32 bits). */
class Offsets {
  data = new Uint32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const more = new Uint32Array(this.data.length * 2);
      more.set(this.data);
      this.data = more;
    }
    this.data[this.length++] = value;
  }
}

/**
 * The fields of one CSV line: split at `separator`, a field in double quotes may hold the separator and `""`
 * for a quote (RFC 4180). A string says why the line cannot be read.
 */
export function splitCsvLine(line: string, separator: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let j = i;
    while (line[j] === ' ') j++;
    if (line[j] === '"') {
      let value = '';
      let k = j + 1;
      for (;;) {
        const q = line.indexOf('"', k);
        if (q < 0) return `field ${fields.length + 1} opens a quote (") that the line does not close`;
        value += line.slice(k, q);
        if (line[q + 1] === '"') {
          value += '"';
          k = q + 2;
          continue;
        }
        k = q + 1;
        break;
      }
      while (line[k] === ' ') k++;
      if (k < line.length && line[k] !== separator)
        return `field ${fields.length + 1} has text after its closing quote (a quote inside a quoted field is written "")`;
      fields.push(value);
      if (k >= line.length) return fields;
      i = k + 1;
    } else {
      const s = line.indexOf(separator, i);
      if (s < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, s));
      i = s + 1;
    }
  }
}

/**
 * CSV already in memory; `label` names it in errors. Lines end in LF, CRLF or CR; blank lines are skipped. Only
 * where each line starts is kept (4 bytes a row); a row is split into fields when it is read, so a file of
 * tens of millions of rows needs little more memory than its text.
 */
export function csvTable(text: string, label: string, undecodable?: Undecodable): Table {
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    if (undecodable !== undefined) undecodable = { ...undecodable, at: undecodable.at - 1 };
  }
  const starts = new Offsets();
  const ends = new Offsets();
  const lineNumbers = new Offsets();
  let header: { start: number; end: number; line: number } | undefined;
  // Excel's separator hint: a first line `sep=;` names the separator, and the header is the next line.
  let hinted: string | undefined;
  let line = 0;
  for (let at = 0; at < text.length;) {
    line++;
    let end = at;
    while (end < text.length) {
      const ch = text.charCodeAt(end);
      if (ch === 10 || ch === 13) break;
      end++;
    }
    const next = text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
    let k = at;
    while (k < end && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++;
    if (k < end) {
      if (header === undefined) {
        const hint = hinted === undefined ? /^sep=(.)\s*$/i.exec(text.slice(k, Math.min(end, k + 16))) : null;
        if (hint !== null && end - k <= 16) hinted = hint[1];
        else header = { start: at, end, line };
      } else {
        starts.push(at);
        ends.push(end);
        lineNumbers.push(line);
      }
    }
    at = next;
  }
  if (header === undefined) throw new ReplayDataError(`${label}: the file is empty (a header row is needed)`, label);
  const headerText = text.slice(header.start, header.end);
  if (text.startsWith('PAR1'))
    throw new ReplayDataError(`${label} is a Parquet file, not CSV: give it the extension .parquet`, label);
  // UTF-16 read as UTF-8 (Excel's "Unicode text"): NULs between letters, or the BOM's two replacement characters.
  const start = headerText.slice(0, 64);
  const nuls = start.split('\u0000').length - 1;
  if (/^(?:\ufffd\ufffd)?(?:(?:[^\u0000]\u0000)+[^\u0000]?|(?:\u0000[^\u0000])+\u0000?)$/.test(start))
    throw new ReplayDataError(
      `${label}: the file looks UTF-16 encoded (Excel's "Unicode text"); save it as "CSV UTF-8 (comma delimited)"`,
      label,
    );
  // Control characters or undecodable bytes in the header: not text (an image, an archive, a spreadsheet). Bytes
  // known to be no UTF-8 are said where they are, below: a Latin-1 "é" in a header is text in the wrong encoding.
  if (
    nuls > 0 ||
    (undecodable === undefined ? /[\u0001-\u0008\u000e-\u001f\ufffd]/ : /[\u0001-\u0008\u000e-\u001f]/).test(start)
  )
    throw new ReplayDataError(
      `${label} is not a text file (its first line holds binary data); replay data is CSV text or a .parquet file`,
      label,
    );
  // Comma-separated; a header without a comma but with semicolons or tabs names the file's own separator
  // (Excel in locales that write a decimal comma saves CSV with ';').
  const separator =
    hinted ??
    (headerText.includes(',') ? ',' : headerText.includes(';') ? ';' : headerText.includes('\t') ? '\t' : ',');
  const names = splitCsvLine(headerText, separator);
  if (typeof names === 'string')
    throw new ReplayDataError(`${label}: the header (line ${header.line}): ${names}`, label);
  const { index, date } = mapColumns(names, label);
  if (undecodable !== undefined) {
    const bad = describeUndecodable(text, label, separator, names, index, lineNumbers, header.line, undecodable);
    throw new ReplayDataError(bad.message, label, bad.row, bad.column);
  }
  if (!index.has('time'))
    throw new ReplayDataError(
      `${label}: the header has no 'time' column (nor timestamp, datetime or date; it has: ${listNames(names.map((n) => n.trim()))})`,
      label,
      undefined,
      'time',
    );
  // The header's width without trailing empty names (`time,bid,ask,` as spreadsheets write): each row must have it.
  let width = names.length;
  while (width > 1 && (names[width - 1] as string).trim() === '') width--;
  // The row last split: the feed reads a row's columns one after another.
  let cachedRow = -1;
  let cached: string[] = [];
  // Binary zeros in a row: what a file cut off while it was written (or damaged on disk) ends with.
  const nulAt = text.indexOf('\u0000', header.end);
  const fieldsOf = (row: number): string[] => {
    if (row === cachedRow) return cached;
    const fields = splitCsvLine(text.slice(starts.data[row], ends.data[row]), separator);
    if (typeof fields === 'string')
      throw new ReplayDataError(`${label}: ${table.where(row)}: ${fields}`, label, row + 1);
    if (nulAt >= (starts.data[row] as number) && nulAt < (ends.data[row] as number)) {
      const field = fields.findIndex((f) => f.includes('\u0000'));
      const name = (names[field] ?? '').trim();
      throw new ReplayDataError(
        `${label}: ${table.where(row)}${name === '' ? '' : `, column '${name}'`}: it holds NUL bytes (binary zeros), as a file cut off while it was written or damaged on disk ends with; replay data is text`,
        label,
        row + 1,
        name === '' ? undefined : (canonicalColumn(name) ?? name),
      );
    }
    // More fields than the header's shifts the row: `1,0850` (a decimal comma) read as 1 and 850 put 850 in the
    // ask. Empty ones past the header's (a trailing separator, as spreadsheets write) say nothing.
    if (fields.length > names.length && fields.slice(names.length).some((f) => f.trim() !== ''))
      throw new ReplayDataError(
        `${label}: ${table.where(row)}: it has ${fields.length} fields but the header has ${names.length}` +
          (separator === ',' && /\d,\d/.test(text.slice(starts.data[row], ends.data[row]))
            ? ' (a decimal comma? write the decimal point as ".", or separate the fields with ";")'
            : ' (a field holding the separator is quoted: "a,b")'),
        label,
        row + 1,
      );
    // Fewer fields than the header's: a line cut short (the end of a file still being written, a truncated copy) or
    // a field lost; read, its missing cells were empty and its volume 0, or a shorter price taken for the whole.
    if (fields.length < width) {
      const missing = names.slice(fields.length, width).map((n) => n.trim());
      const first = missing.find((n) => canonicalColumn(n) !== undefined) ?? missing[0] ?? '';
      throw new ReplayDataError(
        `${label}: ${table.where(row)}: it has ${fields.length} field${fields.length === 1 ? '' : 's'} but the header has ${width}: ${listNames(missing.map((n) => `'${n}'`))} ${missing.length === 1 ? 'is' : 'are'} missing (a line cut short? every row has a field for each header column, empty ones too: a,,c)`,
        label,
        row + 1,
        canonicalColumn(first) ?? first,
      );
    }
    cachedRow = row;
    cached = fields;
    return fields;
  };
  const table: Table = {
    file: label,
    rows: starts.length,
    names: names.map((n) => n.trim()),
    has: (column) => index.has(column),
    cell: (column, row) => {
      const fields = fieldsOf(row);
      const value = fields[index.get(column) as number];
      if (column !== 'time' || date === undefined) return value;
      // `Date,Time,…`: the date and the time of day, as one ISO time (the time column alone is just a clock);
      // a time that has its own date (`Date,Timestamp` of full times) is that time.
      const day = fields[date];
      return day === undefined || day.trim() === '' || value === undefined || value.trim() === '' || dated(value)
        ? value
        : `${day.trim()} ${value.trim()}`;
    },
    where: (row) => `row ${row + 1} (line ${lineNumbers.data[row]})`,
  };
  return table;
}

/**
 * A Parquet file read with hyparquet: the same columns, any numeric or string types. hyparquet runs in a worker
 * thread (parquetWorker.ts) with a deadline and a heap of its own: a damaged file whose page header claims two
 * billion values made it loop for hours, in the editor's extension host too, and could take all the memory.
 */
export async function parquetTable(file: string, timeoutMs?: number): Promise<Table> {
  let bytes: Buffer;
  try {
    bytes = readUserFile(file, 'the replay data', MAX_PARQUET_BYTES);
  } catch (e) {
    throw new ReplayDataError((e as Error).message, file);
  }
  const { names, rows, timeUnit, columns } = await decodeInWorker(bytes, file, timeoutMs);
  const data = new Map<ColumnName | 'date', ArrayLike<unknown>>(columns);
  const days = data.get('date');
  const table: Table = {
    file,
    rows,
    names,
    has: (column) => data.has(column),
    cell: (column, row) => {
      const value = (data.get(column) as ArrayLike<unknown>)[row];
      return column === 'time' && days !== undefined ? joinDayAndTime(days[row], value, timeUnit) : value;
    },
    where: (row) => `row ${row + 1}`,
  };
  return table;
}

/** What the Parquet worker sends back: the header's names, the rows, and each replay column's values. */
export interface DecodedParquet {
  names: string[];
  rows: number;
  /** The time column is a time of day (Parquet TIME): its units a millisecond. */
  timeUnit?: bigint;
  columns: Array<[ColumnName | 'date', unknown[] | Float64Array]>;
}

/**
 * `bytes` decoded in a worker thread within `timeoutMs` (default 30 s and 2 s a MiB) and a heap of 64 times the
 * file (1 GiB at least): past either, the worker is ended and the file refused as damaged, naming it.
 */
async function decodeInWorker(bytes: Buffer, file: string, timeoutMs?: number): Promise<DecodedParquet> {
  const mib = bytes.length / 2 ** 20;
  const limitMs = timeoutMs ?? Math.round(30_000 + 2_000 * mib);
  const heapMb = Math.min(16_384, Math.max(1_024, Math.ceil(64 * mib)));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  // Beside this module: out/src/brokers/paper/ under tests, dist/ in the bundles (scripts/build.mjs).
  const worker = new Worker(join(__dirname, 'parquetWorker.js'), {
    workerData: { buffer, file },
    transferList: [buffer],
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
  });
  type Reply = { ok: true; decoded: DecodedParquet } | { ok: false; message: string; column?: string; known: boolean };
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new ReplayDataError(
              `${file}: reading the Parquet data did not finish in ${Math.round(limitMs / 1000)} s: the file is damaged (a page that claims more values than it holds), or too large to read at once (split it)`,
              file,
            ),
          ),
        limitMs,
      );
      worker.once('message', (m: Reply) => (clearTimeout(timer), resolve(m)));
      worker.once('error', (e: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(
          new ReplayDataError(
            e.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `${file}: reading the Parquet data took more than ${heapMb.toLocaleString('en-US')} MiB of memory: the file is damaged (a page that claims more values than it holds), or too large to read at once (split it)`
              : `${file}: reading the Parquet data failed: ${e.message}`,
            file,
          ),
        );
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new ReplayDataError(`${file}: reading the Parquet data stopped (its worker ended with ${code})`, file));
      });
    });
    if (!reply.ok)
      throw new ReplayDataError(
        reply.known ? reply.message : `${file}: reading the Parquet data failed: ${reply.message}`,
        file,
        undefined,
        reply.column,
      );
    return reply.decoded;
  } finally {
    void worker.terminate();
  }
}

/**
 * A Parquet row's `date` and `time` cells as one time, as csvTable joins `Date,Time`: a time of day (Parquet TIME,
 * `unitsPerMs` units a millisecond) is added to the date's midnight; a text time follows the date's text.
 */
function joinDayAndTime(day: unknown, time: unknown, unitsPerMs: bigint | undefined): unknown {
  const dayText = cellText(day);
  if (dayText === '' || time === null || time === undefined) return time;
  // A TIMESTAMP, an epoch number or a text with its own date is a whole time already (`date` + `timestamp`).
  if (unitsPerMs === undefined && (time instanceof Date || (typeof time === 'string' && dated(time)))) return time;
  if (
    unitsPerMs === undefined &&
    (typeof time === 'number' || typeof time === 'bigint') &&
    Math.abs(Number(time)) >= 1e6
  )
    return time;
  if (unitsPerMs !== undefined) {
    const midnight = day instanceof Date ? day.getTime() : parseTime(dayText);
    const units =
      typeof time === 'bigint'
        ? time
        : typeof time === 'number' && Number.isFinite(time)
          ? BigInt(Math.trunc(time))
          : -1n;
    const ms = Number(units / unitsPerMs);
    if (typeof midnight !== 'number' || !Number.isFinite(midnight) || !(ms >= 0 && ms < 86_400_000))
      return `${dayText} ${cellText(time)}`;
    return new Date(midnight + ms);
  }
  return `${dayText} ${cellText(time)}`;
}

/** A time cell that has its own date (`2024-01-02 10:00`, `20240102T100000`), not only a time of day. */
function dated(text: string): boolean {
  return /^\s*(?:\d{4}[-./]\d{2}[-./]\d{2}|\d{8}T)/.test(text);
}

/** A Parquet cell as text in a joined time: a date as its day, a number as written. */
function cellText(value: unknown): string {
  if (value instanceof Date)
    return Number.isFinite(value.getTime()) ? value.toISOString().slice(0, 10) : 'Invalid Date';
  if (typeof value === 'string') return value.trim();
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : value == null ? '' : typeof value;
}

/**
 * The decimal a FLOAT (32-bit) cell was written as: read as a double, 1.1 is 1.100000023841858, a price off
 * every tick grid, so the quotes, the fills and the component's market data all carried the float's error.
 * The shortest decimal that is the same float32 is what the writer had (pandas' float32 columns).
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/** Columns already in memory, validated the same way; `label` names them in errors. */
export function columnsTable(columns: ReplayColumns, label: string): Table {
  const entries = new Map<ColumnName, ArrayLike<unknown>>();
  for (const name of ALL_COLUMNS) {
    const col = columns[name];
    if (col !== undefined) entries.set(name, col);
  }
  const table: Table = {
    file: label,
    rows: columns.time.length,
    has: (column) => entries.has(column),
    cell: (column, row) => (entries.get(column) as ArrayLike<unknown>)[row],
    where: (row) => `row ${row + 1}`,
  };
  return table;
}
