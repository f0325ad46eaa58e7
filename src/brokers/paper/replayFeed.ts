/**
 * Recorded market data as a `QuoteSource`: the paper venue fills against what the market really
 * did, one record at a time, instead of the synthetic feed.
 *
 * Files (the format follows the extension: `.csv`, `.parquet`; columns are matched by name, case
 * and surrounding spaces ignored, extra columns ignored, a column named twice refused):
 * - candles `time, open, high, low, close[, volume]` (SPtraderB datasets): the quote at a bar is
 *   its close with a synthetic spread of `spreadTicks` ticks (default the instrument's): the bid
 *   is the close less half the spread rounded down to the tick, the ask `spreadTicks` ticks above;
 *   `last` is the close; the sizes at the touch are the instrument's usual touch size.
 * - ticks `time, bid, ask[, bid_size, ask_size]`: the quote as recorded; `last` is the mid (as a decimal);
 *   missing sizes are the instrument's touch size.
 * `time` (alias `timestamp`, `datetime`; or a `date` column, joined to a `time` of day when both are there) may be:
 * - an ISO 8601 string (`2024-01-02T10:00:00Z`, `2024-01-02 10:00:00.250+01:00`, `2024.01.02 10:00`, the compact
 *   `20240102`, `20240102T100000Z`, `20240102100000`); without an offset it is UTC, never the machine's zone; an
 *   impossible date (February 30) is refused, not moved;
 * - a number of seconds, milliseconds, microseconds or nanoseconds since the Unix epoch, told
 *   apart by size (below 1e11: seconds, i.e. until the year 5138; below 1e14: ms; below 1e17: µs;
 *   else ns), fractional seconds allowed; never negative (a time before 1970 is written as a date; -1 and
 *   pandas' NaT are missing-value markers); a first time that is an Excel date serial (20000–99999) or below a
 *   million seconds (the first days of 1970: a row number, a count or a time of day) is refused;
 * - in Parquet also a TIMESTAMP column (read as a Date) or an INT64 (read as a bigint); a TIME column (a time of
 *   day) only with a date column (DATE or text) beside it.
 * Every time, in any form, is in the years 1900–2199 (else: a wrong unit or damage), kept to the millisecond.
 * Prices (open, high, low, close, bid, ask) are finite numbers above 0, never empty; volume and sizes finite and 0 or
 * more, an empty one read as absent (volume 0, sizes the touch size); `1e309` (past a double), NaN and Infinity are
 * refused, as are a high below the bar's open, close or low, a low above its open or close, and an ask below the bid.
 * A CSV file is UTF-8 (a BOM is skipped); a byte that is not UTF-8 is refused where it is (row, line, column, the
 * byte), in any column. Lines end in LF, CRLF or CR; a quoted field holds the separator or `""` but not a line end.
 * Every row has a field for each header column (empty ones too: `a,,c`): a shorter row (a line cut short) is refused,
 * a longer one too unless the extra fields are empty (a trailing separator), and so is a row holding NUL bytes (the
 * binary zeros a file cut off while it was written ends with). A Parquet file that does not end in PAR1
 * is said to be cut short; damage in a column's pages names the column.
 * Short names `o, h, l, c, v` and `bidsize`, `bid size`, `bid_qty`… are read as the columns they name.
 * A `symbol` column (alias `ticker`, `instrument`), if there is one, must name the replay's instrument on
 * every row (written any way `instrumentKey` reads alike: EUR/USD, EUR_USD, eurusd).
 * Every row is checked; the first bad one stops the load with an error naming the file, the row
 * (1-based data row, and the line for CSV) and the column. Rows must be in time order; a row with
 * the same time as the one before replaces it (the later record wins; counted in
 * `duplicatesCollapsed`), so that every timestamp has one quote.
 *
 * `quote(symbol, atMs)` is the last record at or before `atMs` (binary search): a pure function of
 * its arguments, as `QuoteSource` requires. Other symbols (the venue's currency conversions) go to
 * `fallback` if given, else throw.
 */
import { isUtf8 } from 'node:buffer';
import { extname } from 'node:path';
import { snapToStep } from '../../common/decimal';
import { readUserFile } from '../../common/userFile';
import type { Quote } from '../../orders/model';
import type { QuoteSource } from './feed';
import {
  CANDLE_COLUMNS,
  columnsTable,
  csvTable,
  listNames,
  parquetTable,
  ReplayDataError,
  type ColumnName,
  type ReplayColumns,
  type Table,
} from './replayTables';

export { ReplayDataError, type ReplayColumns } from './replayTables';
import { parseTime, shownTime } from './replayTime';
export { parseTime } from './replayTime';
import { instrumentFor, instrumentKey } from './instruments';
import { cellNumber, emptyCell, toNumber } from './replayCells';
import { undecodableIn } from './replayEncoding';

export type ReplayKind = 'candles' | 'ticks';

/** Past this a CSV's text would not fit in one JavaScript string (V8's limit is about 512 MiB): use Parquet. */
const MAX_CSV_BYTES = 500 * 1024 * 1024;

export interface ReplayFeedOptions {
  /** The instrument the file records (tick size, spread, touch size come from it). */
  symbol: string;
  /** Candles only: the synthetic spread in ticks (default the instrument's usual spread). */
  spreadTicks?: number;
  /** Quotes for any other symbol (e.g. a conversion pair); default: none, such a call throws. */
  fallback?: QuoteSource;
  /** Parquet only: the longest its decoding may take before the file is refused as damaged (default by size). */
  parquetTimeoutMs?: number;
}

/** One record as the replay shows it to a component. */
export interface ReplayRecord {
  index: number;
  time: number;
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  candle?: { open: number; high: number; low: number; close: number; volume: number };
}

/**
 * Excel's date serials (days since 1899-12-30) for 1954–2173, which read as seconds since 1970 would be one
 * quiet day in January 1970: a first time in this range is refused rather than replayed as 1970.
 */
const EXCEL_SERIAL_DAYS = { from: 20_000, below: 100_000 };
/** A first time as an epoch number below this (seconds: 1970-01-12) is no market's time; see the constructor. */
const SMALL_EPOCH_SECONDS = 1_000_000;

/** The columns a table lacks of the kind (ticks, candles) it has some of, or undefined when it has none of either. */
function missingColumns(table: Table): { kind: string; needs: string; missing: string[] } | undefined {
  const tick = ['bid', 'ask'] as const;
  if (tick.some((c) => table.has(c)))
    return { kind: 'ticks', needs: 'time, bid, ask', missing: tick.filter((c) => !table.has(c)) };
  if (CANDLE_COLUMNS.some((c) => table.has(c)))
    return {
      kind: 'candles',
      needs: 'time, open, high, low, close',
      missing: CANDLE_COLUMNS.filter((c) => !table.has(c)),
    };
  return undefined;
}

export class ReplayFeed implements QuoteSource {
  readonly kind: ReplayKind;
  readonly symbol: string;
  /** Where the records came from (a path, or a label). */
  readonly source: string;
  /** Record times in ms since the epoch, strictly increasing: iterate over these. */
  readonly times: Float64Array;
  readonly bid: Float64Array;
  readonly ask: Float64Array;
  readonly last: Float64Array;
  readonly bidSize: Float64Array;
  readonly askSize: Float64Array;
  /** Candles only. */
  readonly candles:
    | { open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array; volume: Float64Array }
    | undefined;
  /** Rows dropped because the next row had the same time. */
  readonly duplicatesCollapsed: number;
  private readonly key: string;
  private readonly fallback: QuoteSource | undefined;

  private constructor(table: Table, options: ReplayFeedOptions) {
    const file = table.file;
    const ticks = table.has('bid') && table.has('ask');
    const candles = CANDLE_COLUMNS.every((c) => table.has(c));
    const has = table.names === undefined ? '' : `; it has: ${listNames(table.names)}`;
    if (!table.has('time'))
      throw new ReplayDataError(
        `${file}: no 'time' column (need time plus bid, ask or open, high, low, close${has})`,
        file,
      );
    // Some of a kind's columns but not all: name the ones missing rather than say that neither kind is there.
    const partial = !ticks && !candles ? missingColumns(table) : undefined;
    if (partial !== undefined)
      throw new ReplayDataError(
        `${file}: ${partial.kind} need the columns ${partial.needs}; ${partial.missing.map((m) => `'${m}'`).join(', ')} ${partial.missing.length === 1 ? 'is' : 'are'} missing${has}`,
        file,
        undefined,
        partial.missing[0],
      );
    if (!ticks && !candles)
      throw new ReplayDataError(
        `${file}: neither tick columns (time, bid, ask) nor candle columns (time, open, high, low, close) are present${has === '' ? '' : ` (${has.slice(2)})`}`,
        file,
      );
    this.kind = ticks ? 'ticks' : 'candles';
    this.symbol = options.symbol;
    this.source = file;
    this.key = instrumentKey(options.symbol);
    this.fallback = options.fallback;
    const instrument = instrumentFor(options.symbol);
    const tick = instrument.tickSize;
    const spreadTicks = options.spreadTicks ?? instrument.spreadTicks;
    if (!(Number.isInteger(spreadTicks) && spreadTicks >= 0))
      throw new RangeError(`spreadTicks must be a whole number of ticks ≥ 0, not ${spreadTicks}`);
    const spread = spreadTicks * tick;
    const touch = instrument.touchSize;

    const n = table.rows;
    const times = new Float64Array(n);
    const bid = new Float64Array(n);
    const ask = new Float64Array(n);
    const last = new Float64Array(n);
    const bidSize = new Float64Array(n);
    const askSize = new Float64Array(n);
    const c =
      this.kind === 'candles'
        ? {
            open: new Float64Array(n),
            high: new Float64Array(n),
            low: new Float64Array(n),
            close: new Float64Array(n),
            volume: new Float64Array(n),
          }
        : undefined;
    const fail = (row: number, column: string, why: string): never => {
      throw new ReplayDataError(`${file}: ${table.where(row)}, column '${column}': ${why}`, file, row + 1, column);
    };
    const num = (row: number, column: ColumnName, min: 'positive' | 'nonnegative', fallbackValue?: number): number => {
      if (fallbackValue !== undefined && !table.has(column)) return fallbackValue;
      const raw = table.cell(column, row);
      if (fallbackValue !== undefined && emptyCell(raw)) return fallbackValue;
      const v = cellNumber(raw, min);
      return typeof v === 'string' ? fail(row, column, v) : v;
    };

    let k = -1;
    let duplicates = 0;
    const symbolColumn = table.has('symbol');
    for (let row = 0; row < n; row++) {
      if (symbolColumn) this.checkSymbol(table.cell('symbol', row), options.symbol, (why) => fail(row, 'symbol', why));
      const rawTime = table.cell('time', row);
      const t = parseTime(rawTime);
      if (typeof t === 'string') fail(row, 'time', t);
      if (row === 0) {
        const serial =
          typeof rawTime === 'string' || typeof rawTime === 'number' || typeof rawTime === 'bigint'
            ? toNumber(rawTime)
            : undefined;
        if (serial !== undefined && serial >= EXCEL_SERIAL_DAYS.from && serial < EXCEL_SERIAL_DAYS.below)
          fail(
            row,
            'time',
            `${serial} looks like an Excel date serial (days since 1899-12-30), which as seconds since 1970 would be ${new Date(serial * 1000).toISOString()}; format the column as yyyy-mm-dd hh:mm:ss (or write seconds since 1970)`,
          );
        // Seconds since 1970 below a million are the first eleven days of 1970: a row number, a count or a time of
        // day in the time column, which replayed as January 1970.
        if (serial !== undefined && serial < SMALL_EPOCH_SECONDS)
          fail(
            row,
            'time',
            `${typeof rawTime === 'string' ? `'${rawTime.trim()}'` : String(rawTime)} as seconds since 1970 is ${shownTime(t as number)}, in the first days of 1970: is the column a row number, a count or a time of day? A time is a date and time (2024-01-02T10:00:00Z) or seconds since 1970 (1704189600)`,
          );
      }
      const time = t as number;
      if (k >= 0) {
        const previous = times[k] as number;
        if (time < previous)
          fail(
            row,
            'time',
            `${shownTime(time)} is before the previous row's ${shownTime(previous)}; rows must be in time order` +
              (k === 0 && row === 1 ? ' (if the file runs newest first, sort it oldest first)' : ''),
          );
        if (time === previous) duplicates++;
        else k++;
      } else k = 0;
      times[k] = time;
      if (c) {
        const open = num(row, 'open', 'positive');
        const high = num(row, 'high', 'positive');
        const low = num(row, 'low', 'positive');
        const close = num(row, 'close', 'positive');
        const volume = num(row, 'volume', 'nonnegative', 0);
        // Which price the extreme fails against, by name: "below the bar's open, close or low" left it to be found.
        const under = (
          [
            ['low', low],
            ['open', open],
            ['close', close],
          ] as const
        ).find(([, p]) => high < p);
        if (under !== undefined)
          fail(
            row,
            'high',
            `${high} is below the bar's ${under[0]} ${under[1]} (a high is at least the open, close and low)`,
          );
        const over = (
          [
            ['open', open],
            ['close', close],
          ] as const
        ).find(([, p]) => low > p);
        if (over !== undefined)
          fail(row, 'low', `${low} is above the bar's ${over[0]} ${over[1]} (a low is at most the open and close)`);
        c.open[k] = open;
        c.high[k] = high;
        c.low[k] = low;
        c.close[k] = close;
        c.volume[k] = volume;
        const b = Math.max(tick, snapToStep(close - spread / 2, tick, 'down'));
        bid[k] = b;
        ask[k] = snapToStep(b + spread, tick);
        last[k] = close;
        bidSize[k] = touch;
        askSize[k] = touch;
      } else {
        const b = num(row, 'bid', 'positive');
        const a = num(row, 'ask', 'positive');
        if (a < b) fail(row, 'ask', `${a} is below the bid ${b} (a crossed quote)`);
        bid[k] = b;
        ask[k] = a;
        // The mid as a decimal: (1.085 + 1.0851) / 2 is 1.0850499999999998 in binary; 15 digits give back 1.08505.
        last[k] = Number(((a + b) / 2).toPrecision(15));
        bidSize[k] = num(row, 'bid_size', 'nonnegative', touch);
        askSize[k] = num(row, 'ask_size', 'nonnegative', touch);
      }
    }
    if (k < 0) throw new ReplayDataError(`${file}: no data rows`, file);
    const m = k + 1;
    this.times = times.subarray(0, m);
    this.bid = bid.subarray(0, m);
    this.ask = ask.subarray(0, m);
    this.last = last.subarray(0, m);
    this.bidSize = bidSize.subarray(0, m);
    this.askSize = askSize.subarray(0, m);
    this.candles = c && {
      open: c.open.subarray(0, m),
      high: c.high.subarray(0, m),
      low: c.low.subarray(0, m),
      close: c.close.subarray(0, m),
      volume: c.volume.subarray(0, m),
    };
    this.duplicatesCollapsed = duplicates;
  }

  /**
   * A row's `symbol` cell against the replay's: data for another instrument (the wrong file, or a `--symbol`
   * left at its default) would fill at that instrument's prices with this one's tick size, and a file of
   * several instruments would interleave their prices as one. An empty cell says nothing and is taken.
   */
  private checkSymbol(cell: unknown, symbol: string, fail: (why: string) => never): void {
    if (cell === undefined || cell === null) return;
    if (typeof cell !== 'string')
      fail(`${typeof cell === 'object' ? 'an object' : `a ${typeof cell}`} is not a symbol`);
    const text = cell.trim();
    if (text === '' || text === symbol || instrumentKey(text) === this.key) return;
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    fail(
      `the row is for ${JSON.stringify(shown)}, but this replay is for ${symbol}: replay the file with that symbol (--symbol ${shown}), or keep one instrument's rows in a file`,
    );
  }

  /** Loads a `.csv` or `.parquet` file (by extension). */
  static async load(file: string, options: ReplayFeedOptions): Promise<ReplayFeed> {
    const ext = extname(file).toLowerCase();
    if (ext === '.parquet' || ext === '.parq' || ext === '.pq') return ReplayFeed.fromParquet(file, options);
    if (ext === '.csv' || ext === '.txt') return ReplayFeed.fromCsv(file, options);
    throw new ReplayDataError(
      `${file}: unknown data format '${ext || '(no extension)'}'; use a .csv or .parquet file`,
      file,
    );
  }

  /** A CSV file with a header row; see the file comment for the columns. */
  static fromCsv(file: string, options: ReplayFeedOptions): ReplayFeed {
    let bytes: Buffer;
    try {
      bytes = readUserFile(file, 'the replay data', MAX_CSV_BYTES);
    } catch (e) {
      throw new ReplayDataError((e as Error).message, file);
    }
    const text = bytes.toString('utf8');
    // A byte that is not UTF-8 is refused where it is, whichever column holds it (csvTable).
    return new ReplayFeed(csvTable(text, file, isUtf8(bytes) ? undefined : undecodableIn(bytes, text)), options);
  }

  /** CSV already in memory; `label` names it in errors. */
  static fromCsvText(text: string, label: string, options: ReplayFeedOptions): ReplayFeed {
    return new ReplayFeed(csvTable(text, label), options);
  }

  /** A Parquet file read with hyparquet: the same columns, any numeric or string types. */
  static async fromParquet(file: string, options: ReplayFeedOptions): Promise<ReplayFeed> {
    return new ReplayFeed(await parquetTable(file, options.parquetTimeoutMs), options);
  }

  /** Columns already in memory, validated the same way; `label` names them in errors. */
  static fromColumns(columns: ReplayColumns, label: string, options: ReplayFeedOptions): ReplayFeed {
    return new ReplayFeed(columnsTable(columns, label), options);
  }

  get length(): number {
    return this.times.length;
  }

  get firstTime(): number {
    return this.times[0] as number;
  }

  get lastTime(): number {
    return this.times[this.times.length - 1] as number;
  }

  /** The index of the last record at or before `atMs`; -1 when `atMs` is before the first. */
  indexAt(atMs: number): number {
    const times = this.times;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((times[mid] as number) <= atMs) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  record(index: number): ReplayRecord {
    if (!(index >= 0 && index < this.times.length))
      throw new RangeError(`record ${index} is outside 0..${this.times.length - 1}`);
    const r: ReplayRecord = {
      index,
      time: this.times[index] as number,
      bid: this.bid[index] as number,
      ask: this.ask[index] as number,
      last: this.last[index] as number,
      bidSize: this.bidSize[index] as number,
      askSize: this.askSize[index] as number,
    };
    const c = this.candles;
    if (c)
      r.candle = {
        open: c.open[index] as number,
        high: c.high[index] as number,
        low: c.low[index] as number,
        close: c.close[index] as number,
        volume: c.volume[index] as number,
      };
    return r;
  }

  quote(symbol: string, atMs: number): Quote {
    if (symbol !== this.symbol && instrumentKey(symbol) !== this.key) {
      if (this.fallback) return this.fallback.quote(symbol, atMs);
      throw new RangeError(
        `the replay data (${this.source}) records ${this.symbol} only; there is no quote for ${symbol}`,
      );
    }
    const i = this.indexAt(atMs);
    if (i < 0)
      throw new RangeError(
        `no ${this.symbol} quote at ${new Date(atMs).toISOString()}: the replay data (${this.source}) starts at ${new Date(this.firstTime).toISOString()}`,
      );
    return {
      symbol,
      bid: this.bid[i] as number,
      ask: this.ask[i] as number,
      last: this.last[i] as number,
      bid_size: this.bidSize[i] as number,
      ask_size: this.askSize[i] as number,
      timestamp: this.times[i] as number,
    };
  }
}
