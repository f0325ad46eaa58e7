/**
 * How a replay batch's per-record values travel to the harness: one column per key, numbers as raw
 * float64 bytes (base64) instead of JSON text. Parsing JSON numbers was most of what a record cost in
 * Python (about 1–2.5 µs a record of 13 values); a float64 column is decoded in one C call.
 *
 * The harness must see exactly what JSON would have given it, so a column is sent as bytes only when
 * that is provably the same (batch_columns.py decodes):
 *  - `['f64', base64]`: every value a finite number that JSON writes with a fraction or exponent
 *    (Python float); the bytes are the same double JSON's shortest form parses back to;
 *  - `['i64', base64]`: every value a safe integer (Python int), as little-endian int64 bytes;
 *  - `['f64', base64, [i, …]]`: floats, except those items, which are safe integers (Python int);
 *  - `['lines', text]`: every value a string without "\n", joined by "\n";
 *  - `['json', values]`: anything else (null, NaN, objects, mixed types), as JSON would send it.
 */

import { RawJson } from './requestLine';

export type WireColumn =
  | readonly ['f64', string]
  | readonly ['f64', string, number[]]
  | readonly ['i64', string]
  | readonly ['lines', string]
  | readonly ['json', readonly unknown[]];

/** Integers JSON.stringify writes in plain digits, which Python's json reads as int (|v| < 1e21). */
const isPlainInteger = (v: number): boolean => Number.isInteger(v) && Math.abs(v) < 1e21;

function numberColumn(values: readonly unknown[]): WireColumn | undefined {
  const n = values.length;
  const doubles = new Float64Array(n);
  let ints: number[] | undefined;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    doubles[i] = v;
    if (isPlainInteger(v)) {
      // Past 2^53 JSON writes the shortest digits, not the double's exact value: only JSON says the same.
      if (!Number.isSafeInteger(v)) return undefined;
      (ints ??= []).push(i);
    }
  }
  if (ints !== undefined && ints.length === n) {
    const whole = new BigInt64Array(n);
    for (let i = 0; i < n; i++) whole[i] = BigInt(doubles[i] as number);
    return ['i64', littleEndianBase64(whole)];
  }
  const text = littleEndianBase64(doubles);
  if (ints === undefined) return ['f64', text];
  return ['f64', text, ints];
}

/** The array's bytes, little-endian whatever the host (the harness swaps on a big-endian one), in base64. */
function littleEndianBase64(values: Float64Array | BigInt64Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (!littleEndian) bytes.swap64();
  return bytes.toString('base64');
}

function linesColumn(values: readonly unknown[]): WireColumn | undefined {
  for (const v of values) if (typeof v !== 'string' || v.includes('\n')) return undefined;
  return ['lines', (values as readonly string[]).join('\n')];
}

const littleEndian = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

/** One column of a batch, in the most compact form that gives the harness what JSON would. */
export function encodeColumn(values: readonly unknown[]): WireColumn {
  if (values.length === 0) return ['json', []];
  const first = values[0];
  return (
    (typeof first === 'number'
      ? numberColumn(values)
      : typeof first === 'string'
        ? linesColumn(values)
        : undefined) ?? ['json', values]
  );
}

/**
 * Columns as JSON text in pieces, the same text JSON.stringify(columns) gives: base64 and the wrapper
 * around it separately, so that the line writer copies the large parts as they are (requestLine.ts).
 */
export function columnsJson(columns: readonly WireColumn[]): RawJson {
  const parts: string[] = ['['];
  columns.forEach((column, c) => {
    const comma = c === 0 ? '' : ',';
    if (column[0] === 'f64' || column[0] === 'i64') {
      // Base64 holds no character JSON escapes.
      parts.push(`${comma}["${column[0]}","`, column[1]);
      parts.push(column.length > 2 ? `",${JSON.stringify(column[2])}]` : '"]');
    } else parts.push(comma + JSON.stringify(column));
  });
  parts.push(']');
  return new RawJson(parts);
}

/** The items of a batch request as the harness reads them: `rows` as JSON, or `columns` encoded. */
export function wireItems(req: {
  readonly keys: readonly string[];
  readonly rows?: unknown[][];
  readonly columns?: unknown[][];
  readonly size?: number;
}): { rows: unknown[][] } | { columns: WireColumn[]; size: number } {
  if (req.columns === undefined) {
    if (req.rows === undefined) throw new TypeError('a batch needs rows or columns');
    return { rows: req.rows };
  }
  if (req.rows !== undefined) throw new TypeError('a batch has rows or columns, not both');
  if (req.columns.length !== req.keys.length)
    throw new TypeError(`a batch has ${req.keys.length} keys but ${req.columns.length} columns`);
  const size = req.size ?? req.columns[0]?.length;
  if (size === undefined || !Number.isSafeInteger(size) || size < 0)
    throw new TypeError('a batch of columns needs its size');
  for (const [c, column] of req.columns.entries())
    if (column.length !== size)
      throw new TypeError(`column ${req.keys[c]} has ${column.length} values, the batch ${size} items`);
  return { columns: req.columns.map(encodeColumn), size };
}

/** A batch's columns encoded ahead of its request (replay does it while the harness runs the batch before). */
export interface PreparedColumns {
  readonly keys: readonly string[];
  readonly columns: readonly unknown[][];
  readonly size: number;
  readonly json: RawJson;
}

/** A batch's varying keys and their values, key by key. */
export interface BatchColumns {
  readonly keys: readonly string[];
  readonly columns: unknown[][];
  readonly size?: number;
}

/** Encodes `columns` now; runBatch sends this text for a request with these very keys, columns and size. */
export function prepareColumns(req: BatchColumns): PreparedColumns {
  const items = wireItems(req) as { columns: WireColumn[]; size: number };
  return { keys: req.keys, columns: req.columns, size: items.size, json: columnsJson(items.columns) };
}

/** Items in a batch request. */
export function batchSize(req: {
  readonly rows?: unknown[][];
  readonly columns?: unknown[][];
  readonly size?: number;
}): number {
  return req.rows?.length ?? req.size ?? req.columns?.[0]?.length ?? 0;
}
