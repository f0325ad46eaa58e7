/**
 * A replay file's cells as numbers and as an error message shows them (replayFeed.ts checks every one): a price or a
 * size is a finite number, said as the file wrote it when it is not one, with what was expected.
 */

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A cell as an error message shows it: a line of it, never the megabytes of a broken file's one field. */
export function shownCell(raw: unknown): string {
  const clip = (text: string): string => (text.length > 60 ? `${text.slice(0, 60)}…` : text);
  if (typeof raw === 'string') return JSON.stringify(clip(raw));
  // JSON writes NaN and Infinity (a Parquet DOUBLE may hold either) as null.
  if (typeof raw === 'bigint' || typeof raw === 'number') return String(raw);
  try {
    return clip(JSON.stringify(raw) ?? 'nothing');
  } catch {
    // A list of INT64 (bigints) in a Parquet cell: JSON has no bigint.
    return Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
  }
}

export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const t = value.trim();
    return NUMERIC.test(t) ? Number(t) : undefined;
  }
  return undefined;
}

/** A cell that holds nothing: absent (a short column in memory), null (Parquet) or blank text. */
export function emptyCell(raw: unknown): boolean {
  return raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '');
}

/** A price (`positive`) or a volume or size (`nonnegative`) from a cell that is not empty, or why it is not one. */
export function cellNumber(raw: unknown, min: 'positive' | 'nonnegative'): number | string {
  const expected = min === 'positive' ? 'a price greater than 0' : 'a number 0 or more';
  if (emptyCell(raw)) return `is empty (expected ${expected})`;
  const v = toNumber(raw);
  if (v === undefined)
    return (
      `${shownCell(raw)} is not a number` +
      (typeof raw === 'string' && /^-?\d+,\d+$/.test(raw.trim())
        ? ' (a decimal comma: write the decimal point as ".")'
        : ` (expected ${expected})`)
    );
  // 1e309 is a number JavaScript holds only as Infinity; NaN and ±Infinity are what a Parquet DOUBLE may hold.
  if (!Number.isFinite(v))
    return typeof raw === 'string'
      ? `${shownCell(raw)} is too large a number (past 1.8e308, the largest a double holds; expected ${expected})`
      : `${shownCell(raw)} is not a finite number (expected ${expected})`;
  // 1e-400 reads as 0: said as written, not as a 0 the file does not hold.
  if (v === 0 && typeof raw === 'string' && /[1-9]/.test(raw.replace(/[eE].*$/, '')))
    return `${shownCell(raw)} is too small a number to hold (it reads as 0; expected ${expected})`;
  if (min === 'positive' ? !(v > 0) : !(v >= 0))
    return `${v} must be ${min === 'positive' ? 'greater than 0' : '0 or more'}`;
  return v;
}
