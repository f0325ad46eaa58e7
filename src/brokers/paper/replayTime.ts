/**
 * The forms of a replay file's `time` cell (see replayFeed.ts's file comment): a Date, an epoch number in
 * seconds, milliseconds, microseconds or nanoseconds told apart by size, or an ISO 8601 text read field by field.
 * Every form must land in the years 1900–2199, and an epoch number must not be negative: past those a time is
 * of the wrong unit (1e30), a missing-value marker (pandas' NaT, -1) or a flipped sign, and was replayed as
 * 1677, 1916 or the year 5138 (or thrown as a RangeError naming no file).
 */

/** The furthest time from 1970 a JavaScript Date holds (±100,000,000 days). */
const MAX_DATE_MS = 8.64e15;

/**
 * A time in a message: ISO 8601, or the milliseconds themselves past the dates a Date holds (`toISOString` throws
 * there, and an error about a record of the wrong unit became a RangeError naming no file).
 */
export function shownTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS
    ? new Date(ms).toISOString()
    : `${ms} ms since 1970 (beyond the dates a clock can hold: check the unit of the time column)`;
}

/** The times a replay reads: 1900-01-01T00:00:00Z up to (not including) 2200-01-01T00:00:00Z. */
const EARLIEST_MS = Date.UTC(1900, 0, 1);
const END_MS = Date.UTC(2200, 0, 1);

/** Int64's smallest value: what pandas and Arrow write for a missing time (NaT) in an INT64 or TIMESTAMP column. */
const NAT = -(2 ** 63);

/** A number as the time column may write one. */
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const ISO_DATE = /^\d{4}[-./]\d{2}[-./]\d{2}/;
/** A date, a time of day (seconds and their fraction optional) and an offset (none: UTC); `.` or `/` also part a date. */
const ISO_TIME =
  /^(\d{4})([-./])(\d{2})\2(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Milliseconds since the epoch, or a message saying why not. */
export function parseTime(value: unknown): number | string {
  if (value instanceof Date) {
    const t = value.getTime();
    if (!Number.isFinite(t))
      return 'is a TIMESTAMP past the dates a clock holds (a missing time written as NaT, or damage)';
    // NaT in a TIMESTAMP(NANOS) column is a Date in 1677.
    if (Math.abs(t - NAT / 1e6) < 1)
      return `is ${value.toISOString()}, the smallest 64-bit TIMESTAMP, which pandas and Arrow write for a missing time (NaT)`;
    return inRange(t, 'the TIMESTAMP');
  }
  if (typeof value === 'bigint') return fromEpochNumber(Number(value), String(value));
  if (typeof value === 'number')
    return !Number.isFinite(value)
      ? `${value} is not a time (a finite number of seconds or milliseconds since 1970, or an ISO 8601 time, is expected)`
      : Number.isInteger(value)
        ? (checked(fromCompact(String(value)), String(value)) ?? fromEpochNumber(value, String(value)))
        : fromEpochNumber(value, String(value));
  if (typeof value !== 'string')
    return value === null || value === undefined ? 'is empty' : `is a ${typeof value}, not a time`;
  const text = value.trim();
  if (text === '') return 'is empty';
  const compact = checked(fromCompact(text), `'${clip(text)}'`);
  if (compact !== undefined) return compact;
  if (NUMERIC.test(text)) return fromEpochNumber(Number(text), `'${clip(text)}'`);
  if (!ISO_DATE.test(text))
    return `'${clip(text)}' is not an ISO 8601 time nor a number of seconds/milliseconds since 1970`;
  const t = fromIso(text);
  return typeof t === 'string' ? t : inRange(t, `'${clip(text)}'`);
}

/** A compact time's milliseconds held to the years a replay reads (its message as is). */
function checked(t: number | string | undefined, shown: string): number | string | undefined {
  return typeof t === 'number' ? inRange(t, shown) : t;
}

/** A time in a message about its range: ISO 8601 when a Date holds it. */
function whenOf(ms: number): string {
  return Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} ms since 1970`;
}

/** `ms` if it is in the years 1900–2199, else why not (`shown`: the cell as the message shows it). */
function inRange(ms: number, shown: string, unit = ''): number | string {
  if (ms >= EARLIEST_MS && ms < END_MS) return ms;
  return `${shown}${unit} is ${whenOf(ms)}, ${ms < EARLIEST_MS ? 'before 1900' : 'after 2199'}; a replay reads times in the years 1900–2199 (check the unit of the time column: seconds, milliseconds, microseconds or nanoseconds since 1970, or ISO 8601)`;
}

/**
 * An ISO 8601 time read field by field: `Date.parse` moves an impossible date to a real one (February 30 is
 * March 1, hour 24 the next day) and accepts trailing words, each a silently wrong record.
 */
function fromIso(text: string): number | string {
  const m = ISO_TIME.exec(text);
  if (m === null)
    return `'${clip(text)}' is not a valid ISO 8601 time (e.g. 2024-01-02T10:00:00Z or 2024-01-02 11:00:00+01:00; an offset is Z, UTC or ±hh:mm, not a zone name)`;
  const [, y, , mo, d, h = '0', mi = '0', sec = '0', fraction = '', offset = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12) return `'${clip(text)}' has no month ${month}`;
  if (day < 1 || day > daysInMonth) return `'${clip(text)}' has no day ${day} (${y}-${mo} has ${daysInMonth} days)`;
  if (hour > 23 || minute > 59 || second > 59) return `'${clip(text)}' is not a time of day (00:00:00 to 23:59:59)`;
  let offsetMinutes = 0;
  const o = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset);
  if (o !== null) {
    const oh = Number(o[2]);
    const om = Number(o[3] ?? '0');
    if (oh > 23 || om > 59) return `'${clip(text)}' has an impossible offset ${offset}`;
    offsetMinutes = (o[1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const utc = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  // Date.UTC reads years 0–99 as 1900–1999; set the year itself.
  utc.setUTCFullYear(year);
  return utc.getTime() - offsetMinutes * 60_000;
}

/** ISO 8601's basic format (`20240102`, `20240102T100000Z`, a Date,Time pair `20240102 100000`), years 1900–2199. */
const BASIC_TIME =
  /^(19\d{2}|2[01]\d{2})(\d{2})(\d{2})(?:[T ]?(\d{2}):?(\d{2})(?::?(\d{2})([.,]\d+)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A compact date or time (ISO 8601's basic format) as milliseconds since the epoch, or undefined when the text is
 * not one. As seconds since 1970, `20240102` was a day in August 1970 and `20240102100000` (as ms) one in 2611. Bare
 * digits are a compact time only as eight (yyyymmdd) or fourteen (yyyymmddhhmmss) and only when that is a real
 * date: twelve (yyyymmddhhmm) are just as much milliseconds in 1976, and the others stay epoch numbers.
 */
function fromCompact(text: string): number | string | undefined {
  const m = BASIC_TIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, sec, fraction = '', offset = ''] = m;
  const digitsOnly = /^\d+$/.test(text);
  if (digitsOnly && text.length !== 8 && text.length !== 14) return undefined;
  const iso = `${y}-${mo}-${d}${h === undefined ? '' : `T${h}:${mi}${sec === undefined ? '' : `:${sec}`}${fraction}`}${offset}`;
  const t = fromIso(iso);
  // Bare digits that are no date (month 13, day 00) are an epoch number as before; text with a T or zone is refused.
  return typeof t === 'string' && digitsOnly ? undefined : t;
}

/** A cell's text for an error message, never more than a line of it. */
function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * An epoch number (`shown` as the cell wrote it) as milliseconds, its unit told by its size, or why not: a negative
 * one is refused (a time before 1970 is written as a date), as is one past 2199 in its unit.
 */
function fromEpochNumber(n: number, shown: string): number | string {
  if (!Number.isFinite(n))
    return `${shown} is too large a number to be a time (seconds or milliseconds since 1970 are expected)`;
  if (n === NAT)
    return `${shown} is the smallest 64-bit integer, which pandas and Arrow write for a missing time (NaT)`;
  const a = Math.abs(n);
  const [ms, unit] =
    a < 1e11
      ? [n * 1000, 'seconds']
      : a < 1e14
        ? [n, 'milliseconds']
        : a < 1e17
          ? [n / 1000, 'microseconds']
          : [n / 1e6, 'nanoseconds'];
  if (n < 0)
    return `${shown} is negative (as ${unit} since 1970: ${whenOf(Math.round(ms))}); a time since 1970 is 0 or more, a negative one a flipped sign or a missing-value marker (write a time before 1970 as a date)`;
  return inRange(Math.round(ms), shown, ` as ${unit} since 1970`);
}
