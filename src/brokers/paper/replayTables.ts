/**
 * The tables a replay feed is checked from: a CSV text, a Parquet file (hyparquet) or columns in memory,
 * each as a cell getter with a way to name a row in errors (replayFeed.ts validates every cell). Columns
 * are matched by name, case and surrounding spaces ignored, `timestamp` as `time`; extra columns ignored.
 */
import { readUserFile } from '../../common/userFile';

/** A Parquet file is read whole into memory (hyparquet); past this, split it. */
const MAX_PARQUET_BYTES = 2 * 1024 * 1024 * 1024 - 1;
/** Records a replay holds in memory at most (a year of one-second ticks is 31.5 million). */
const MAX_PARQUET_ROWS = 500_000_000;

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
}

export const CANDLE_COLUMNS = ['open', 'high', 'low', 'close'] as const;
const OPTIONAL_COLUMNS = ['volume', 'bid_size', 'ask_size'] as const;
export const ALL_COLUMNS = ['time', ...CANDLE_COLUMNS, 'bid', 'ask', ...OPTIONAL_COLUMNS] as const;
export type ColumnName = (typeof ALL_COLUMNS)[number];

/** A table to validate: a cell getter and how to name a row in errors. */
export interface Table {
  file: string;
  rows: number;
  has(column: ColumnName): boolean;
  cell(column: ColumnName, row: number): unknown;
  where(row: number): string;
}

/** CSV already in memory; `label` names it in errors. */
export function csvTable(text: string, label: string): Table {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  let headerLine = 0;
  while (headerLine < lines.length && (lines[headerLine] ?? '').trim() === '') headerLine++;
  if (headerLine >= lines.length)
    throw new ReplayDataError(`${label}: the file is empty (a header row is needed)`, label);
  const unquote = (s: string): string => {
    const t = s.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
  };
  const headerText = (lines[headerLine] ?? '').replace(/\r$/, '');
  // UTF-16 read as UTF-8 (Excel's "Unicode text"): NULs between letters, or the BOM's two replacement characters.
  if (headerText.includes('\u0000') || headerText.startsWith('\ufffd\ufffd'))
    throw new ReplayDataError(
      `${label}: the file looks UTF-16 encoded (Excel's "Unicode text"); save it as "CSV UTF-8 (comma delimited)"`,
      label,
    );
  // Comma-separated; a header without a comma but with semicolons or tabs names the file's own separator
  // (Excel in locales that write a decimal comma saves CSV with ';').
  const separator = headerText.includes(',')
    ? ','
    : headerText.includes(';')
      ? ';'
      : headerText.includes('\t')
        ? '\t'
        : ',';
  const header = headerText.split(separator).map((h) => unquote(h).toLowerCase());
  const index = new Map<ColumnName, number>();
  header.forEach((h, i) => {
    const name = h === 'timestamp' ? 'time' : h;
    if ((ALL_COLUMNS as readonly string[]).includes(name) && !index.has(name as ColumnName))
      index.set(name as ColumnName, i);
  });
  if (!index.has('time') && !header.includes('time'))
    throw new ReplayDataError(
      `${label}: the header has no 'time' column (it has: ${header.join(', ')})`,
      label,
      undefined,
      'time',
    );
  const cells: string[][] = [];
  const lineOf: number[] = [];
  for (let i = headerLine + 1; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    cells.push(line.split(separator));
    lineOf.push(i + 1);
  }
  const table: Table = {
    file: label,
    rows: cells.length,
    has: (column) => index.has(column),
    cell: (column, row) => {
      const fields = cells[row] as string[];
      const f = fields[index.get(column) as number];
      return f === undefined ? undefined : f.length > 0 && f.charCodeAt(0) === 34 ? unquote(f) : f;
    },
    where: (row) => `row ${row + 1} (line ${lineOf[row]})`,
  };
  return table;
}

/** A Parquet file read with hyparquet: the same columns, any numeric or string types. */
export async function parquetTable(file: string): Promise<Table> {
  let bytes: Buffer;
  try {
    bytes = readUserFile(file, 'the replay data', MAX_PARQUET_BYTES);
  } catch (e) {
    throw new ReplayDataError((e as Error).message, file);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const { parquetMetadata, parquetSchema, parquetRead } = await import('hyparquet');
  let names: string[];
  let rows: number;
  try {
    const metadata = parquetMetadata(buffer);
    names = parquetSchema(metadata).children.map((c) => c.element.name);
    rows = Number(metadata.num_rows);
  } catch (e) {
    throw new ReplayDataError(`${file} is not a readable Parquet file: ${(e as Error).message}`, file);
  }
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_PARQUET_ROWS)
    throw new ReplayDataError(
      `${file}: its metadata says ${String(rows)} rows; a replay reads at most ${MAX_PARQUET_ROWS.toLocaleString('en-US')} (split the file)`,
      file,
    );
  const byName = new Map<ColumnName, string>();
  for (const name of names) {
    const lower = name.trim().toLowerCase();
    const canonical = lower === 'timestamp' ? 'time' : lower;
    if ((ALL_COLUMNS as readonly string[]).includes(canonical) && !byName.has(canonical as ColumnName))
      byName.set(canonical as ColumnName, name);
  }
  if (!byName.has('time'))
    throw new ReplayDataError(`${file}: no 'time' column (it has: ${names.join(', ')})`, file, undefined, 'time');
  const data = new Map<ColumnName, unknown[]>();
  for (const key of byName.keys()) data.set(key, new Array<unknown>(rows));
  try {
    await parquetRead({
      file: buffer,
      columns: [...byName.values()],
      onChunk: (chunk) => {
        for (const [key, name] of byName) {
          if (name !== chunk.columnName) continue;
          const target = data.get(key) as unknown[];
          const values = chunk.columnData as ArrayLike<unknown>;
          for (let i = 0; i < values.length; i++) target[chunk.rowStart + i] = values[i];
        }
      },
    });
  } catch (e) {
    throw new ReplayDataError(`${file}: reading the Parquet data failed: ${(e as Error).message}`, file);
  }
  const table: Table = {
    file,
    rows,
    has: (column) => data.has(column),
    cell: (column, row) => (data.get(column) as unknown[])[row],
    where: (row) => `row ${row + 1}`,
  };
  return table;
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
