/**
 * The forms of a replay file's `time` cell (see replayFeed.ts's file comment): a Date, an epoch number in
 * seconds, milliseconds, microseconds or nanoseconds told apart by size, or an ISO 8601 text read field by field.
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
    return Number.isFinite(t) ? t : 'is an invalid date';
  }
  if (typeof value === 'bigint') return fromEpochNumber(Number(value));
  if (typeof value === 'number')
    return !Number.isFinite(value)
      ? `${value} is not a finite time`
      : Number.isInteger(value)
        ? (fromCompact(String(value)) ?? fromEpochNumber(value))
        : fromEpochNumber(value);
  if (typeof value !== 'string')
    return value === null || value === undefined ? 'is empty' : `is a ${typeof value}, not a time`;
  const text = value.trim();
  if (text === '') return 'is empty';
  const compact = fromCompact(text);
  if (compact !== undefined) return compact;
  if (NUMERIC.test(text)) return fromEpochNumber(Number(text));
  if (!ISO_DATE.test(text))
    return `'${clip(text)}' is not an ISO 8601 time nor a number of seconds/milliseconds since 1970`;
  return fromIso(text);
}

/**
 * An ISO 8601 time read field by field: `Date.parse` moves an impossible date to a real one (February 30 is
 * March 1, hour 24 the next day) and accepts trailing words, each a silently wrong record.
 */
function fromIso(text: string): number | string {
  const m = ISO_TIME.exec(text);
  if (m === null) return `'${clip(text)}' is not a valid ISO 8601 time (e.g. 2024-01-02T10:00:00Z)`;
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

function fromEpochNumber(n: number): number | string {
  if (!Number.isFinite(n)) return `${n} is not a finite time`;
  const a = Math.abs(n);
  const ms = a < 1e11 ? n * 1000 : a < 1e14 ? n : a < 1e17 ? n / 1000 : n / 1e6;
  return Math.round(ms);
}
