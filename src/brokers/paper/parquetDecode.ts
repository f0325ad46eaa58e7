/**
 * A Parquet file's replay columns decoded with hyparquet: run in a worker thread (parquetWorker.ts), never in the
 * extension host's or the CLI's own thread, since hyparquet believes a damaged file's counts (replayTables.ts).
 */
import {
  listNames,
  mapColumns,
  ReplayDataError,
  shortestFloat32,
  type ColumnName,
  type DecodedParquet,
} from './replayTables';

/** Records a replay holds in memory at most (a year of one-second ticks is 31.5 million). */
const MAX_PARQUET_ROWS = 500_000_000;

export async function decodeParquet(buffer: ArrayBuffer, file: string): Promise<DecodedParquet> {
  const { parquetMetadata, parquetSchema, parquetRead } = await import('hyparquet');
  let names: string[];
  let rows: number;
  let metadata: ReturnType<typeof parquetMetadata>;
  const float32 = new Set<string>();
  // Columns of a time of day (Parquet TIME): how many of their units make a millisecond.
  const timeOfDay = new Map<string, bigint>();
  // What a damaged or cut-short file is, said before hyparquet's own words ("footer != PAR1", "Cannot read properties
  // of undefined"): a Parquet file starts and ends with the four bytes PAR1.
  const bytes = new Uint8Array(buffer);
  const magic = (at: number): boolean =>
    bytes[at] === 0x50 && bytes[at + 1] === 0x41 && bytes[at + 2] === 0x52 && bytes[at + 3] === 0x31;
  if (bytes.length < 12 || !magic(0) || !magic(bytes.length - 4))
    throw new ReplayDataError(
      bytes.length === 0
        ? `${file} is empty (0 bytes), not a Parquet file`
        : !magic(0)
          ? `${file} is not a Parquet file: it does not start with PAR1, as every Parquet file does (a CSV file is named .csv)`
          : `${file} is cut short (${bytes.length.toLocaleString('en-US')} bytes): a Parquet file ends with PAR1 after its metadata, and this one does not (an unfinished download or copy?); write or copy it again`,
      file,
    );
  try {
    metadata = parquetMetadata(buffer);
    const columns = parquetSchema(metadata).children;
    names = columns.map((c) => c.element.name);
    for (const c of columns) {
      const { name, type, converted_type: converted, logical_type: logical } = c.element;
      if (type === 'FLOAT') float32.add(name);
      const unit = logical?.type === 'TIME' ? logical.unit : converted?.startsWith('TIME_') ? converted.slice(5) : '';
      if (unit !== '') timeOfDay.set(name, unit === 'MILLIS' ? 1n : unit === 'MICROS' ? 1000n : 1_000_000n);
    }
    rows = Number(metadata.num_rows);
    // The footer's count against its row groups': damage (a flipped bit, a file put together by hand) made the
    // replay size every column by a count the data does not hold.
    const held = metadata.row_groups.reduce((sum, group) => sum + Number(group.num_rows), 0);
    if (held !== rows)
      throw new ReplayDataError(
        `${file}: its metadata says ${rows.toLocaleString('en-US')} rows but its row groups hold ${held.toLocaleString('en-US')}: the file is damaged`,
        file,
      );
  } catch (e) {
    if (e instanceof ReplayDataError) throw e;
    throw new ReplayDataError(
      `${file}: its Parquet metadata (the footer) is damaged and cannot be read (${(e as Error).message}); write the file again`,
      file,
    );
  }
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_PARQUET_ROWS)
    throw new ReplayDataError(
      `${file}: its metadata says ${String(rows)} rows; a replay reads at most ${MAX_PARQUET_ROWS.toLocaleString('en-US')} (split the file)`,
      file,
    );
  const { index, date } = mapColumns(names, file);
  const byName = new Map<ColumnName | 'date', string>([...index].map(([column, i]) => [column, names[i] as string]));
  if (!byName.has('time'))
    throw new ReplayDataError(
      `${file}: no 'time' column (nor timestamp, datetime or date; it has: ${listNames(names)})`,
      file,
      undefined,
      'time',
    );
  if (date !== undefined) byName.set('date', names[date] as string);
  const timeName = byName.get('time') as string;
  const timeUnit = timeOfDay.get(timeName);
  // A time of day alone would be read as an epoch number: a replay of 1 January 1970.
  if (timeUnit !== undefined && date === undefined)
    throw new ReplayDataError(
      `${file}: column '${timeName}' holds a time of day (Parquet TIME) and there is no date column to go with it; add a 'date' column or write the time as a TIMESTAMP`,
      file,
      undefined,
      'time',
    );
  const data = new Map<ColumnName | 'date', unknown[]>();
  for (const key of byName.keys()) data.set(key, new Array<unknown>(rows));
  // One column at a time, so that damage in a column's pages names that column.
  for (const [key, name] of byName) {
    const target = data.get(key) as unknown[];
    const single = float32.has(name);
    let filled = 0;
    try {
      await parquetRead({
        file: buffer,
        metadata,
        columns: [name],
        onChunk: (chunk) => {
          if (chunk.columnName !== name) return;
          const values = chunk.columnData as ArrayLike<unknown>;
          for (let i = 0; i < values.length; i++) {
            const value = values[i];
            target[chunk.rowStart + i] = single && typeof value === 'number' ? shortestFloat32(value) : value;
          }
          filled += values.length;
        },
      });
    } catch (e) {
      throw new ReplayDataError(
        `${file}: column '${name}' is damaged and cannot be read (${(e as Error).message}); write the file again`,
        file,
        undefined,
        key === 'date' ? 'time' : key,
      );
    }
    // Pages that hold fewer values than their row group says: the rest would be read as empty cells.
    if (filled !== rows)
      throw new ReplayDataError(
        `${file}: column '${name}' holds ${filled.toLocaleString('en-US')} values but the file says ${rows.toLocaleString('en-US')} rows: the file is damaged; write it again`,
        file,
        undefined,
        key === 'date' ? 'time' : key,
      );
  }
  // A column of numbers only goes back to the caller's thread as one moved buffer, not element by element.
  const columns: DecodedParquet['columns'] = [...data].map(([key, values]) => {
    for (let i = 0; i < values.length; i++) if (typeof values[i] !== 'number') return [key, values];
    return [key, Float64Array.from(values as number[])];
  });
  return { names, rows, ...(timeUnit === undefined ? {} : { timeUnit }), columns };
}
