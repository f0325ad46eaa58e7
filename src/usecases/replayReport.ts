/**
 * What a replay reports beyond its counters, in memory that does not grow with the data: the P&L curve's
 * maximum drawdown and the turnover (folded in as fills arrive, the marks between fills read from the
 * feed once), and every fill streamed to CSV and Parquet files as it happens (Parquet in row groups of
 * `PARQUET_ROW_GROUP` fills; only the footer's per-group entries stay in memory).
 */
import { closeSync, fdatasyncSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crashPoint } from '../common/crashPoint';
import { removeStaleTempFilesOf, syncDirectorySync } from '../common/durableFile';
import type { Fill } from '../orders/model';
import { fromMoney, mulMoney } from '../common/decimal';
import { units } from '../brokers/paper/money';
import { printable } from './formatOutcome';
import type { Slippage } from '../execution/slippage';

/** One fill as the report files hold it. */
export interface ReplayFillRow {
  time: string;
  timeMs: number;
  /** The record the fill happened at. */
  index: number;
  clientOrderId: string;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
  commission: number;
  liquidity: 'maker' | 'taker';
  /** The touch at the record the component decided on (null for a fill of an order this replay did not decide). */
  decisionIndex: number | null;
  referencePrice: number | null;
  slippageUnits: number | null;
  slippageBps: number | null;
}

const CSV_COLUMNS = [
  'time',
  'time_ms',
  'index',
  'client_order_id',
  'side',
  'quantity',
  'price',
  'commission',
  'liquidity',
  'decision_index',
  'reference_price',
  'slippage_units',
  'slippage_bps',
] as const;
const PARQUET_ROW_GROUP = 50_000;
const CSV_FLUSH_BYTES = 64 * 1024;

type ParquetColumn = {
  name: string;
  type: 'STRING' | 'DOUBLE';
  nullable: boolean;
  data: Array<string | number | null>;
};

/** Streams fills to `<csv>` and `<parquet>` (each optional), written under a temporary name and renamed when complete. */
export class ReplayFillsWriter {
  private csv: { path: string; tmp: string; fd: number; buffer: string } | undefined;
  private parquet:
    | {
        path: string;
        tmp: string;
        writer: { write(o: { columnData: ParquetColumn[]; rowGroupSize: number }): unknown; finish(): unknown };
        rows: ReplayFillRow[];
      }
    | undefined;
  count = 0;

  private constructor(private readonly describing: readonly string[]) {}

  /**
   * `describing`: files an earlier run left that describe its fills (the report.json beside them in --out): removed,
   * with the earlier fills files, before this run's are put in place (see `close`).
   */
  static async open(files: {
    csv?: string;
    parquet?: string;
    describing?: readonly string[];
  }): Promise<ReplayFillsWriter> {
    // What a replay killed while it wrote these files left (a dead process's temp files only): they would pile up.
    for (const path of [files.csv, files.parquet]) if (path !== undefined) removeStaleTempFilesOf(path);
    const w = new ReplayFillsWriter(files.describing ?? []);
    try {
      if (files.csv !== undefined) {
        const tmp = `${files.csv}.${process.pid}.tmp`;
        const fd = openSync(tmp, 'w', 0o644);
        w.csv = { path: files.csv, tmp, fd, buffer: `${CSV_COLUMNS.join(',')}\n` };
      }
      if (files.parquet !== undefined) {
        const tmp = `${files.parquet}.${process.pid}.tmp`;
        const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
        const schema = schemaFromColumnData({ columnData: parquetColumns([]) });
        w.parquet = {
          path: files.parquet,
          tmp,
          writer: new ParquetWriter({ writer: fileWriter(tmp), schema, createdBy: 'sptrader replay' }),
          rows: [],
        };
      }
    } catch (e) {
      w.abandon();
      throw e;
    }
    return w;
  }

  add(row: ReplayFillRow): void {
    this.count++;
    const csv = this.csv;
    if (csv) {
      csv.buffer += `${csvRow(row)}\n`;
      if (csv.buffer.length >= CSV_FLUSH_BYTES) this.flushCsv();
    }
    const parquet = this.parquet;
    if (parquet) {
      parquet.rows.push(row);
      if (parquet.rows.length >= PARQUET_ROW_GROUP) this.flushParquet();
    }
  }

  /**
   * Writes what is left, syncs, and puts each file in its place. An earlier run's files are removed first, durably:
   * a kill between the renames (or before the caller's report) then leaves some of this run's files and none of the
   * earlier run's beside them. Replaced one by one, a kill left the earlier report.json beside this run's fills, or
   * this run's fills.csv beside the earlier fills.parquet, each describing other fills.
   */
  close(): void {
    const csv = this.csv;
    const parquet = this.parquet;
    if (csv) {
      this.flushCsv();
      fdatasyncSync(csv.fd);
      closeSync(csv.fd);
    }
    if (parquet) {
      this.flushParquet();
      parquet.writer.finish();
      const fd = openSync(parquet.tmp, 'r+');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const targets = [...(csv ? [csv.path] : []), ...(parquet ? [parquet.path] : []), ...this.describing];
    for (const path of targets) {
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const folders = new Set(targets.map((path) => dirname(path)));
    for (const folder of folders) syncDirectorySync(folder);
    if (csv) {
      renameSync(csv.tmp, csv.path);
      this.csv = undefined;
    }
    crashPoint('replay-fills-between');
    if (parquet) {
      renameSync(parquet.tmp, parquet.path);
      this.parquet = undefined;
    }
    for (const folder of folders) syncDirectorySync(folder);
  }

  /** Removes the temporary files (a replay that failed to write its files leaves none half-written). */
  abandon(): void {
    if (this.csv) {
      try {
        closeSync(this.csv.fd);
      } catch {
        // Already closed.
      }
      rmSync(this.csv.tmp, { force: true });
      this.csv = undefined;
    }
    if (this.parquet) {
      rmSync(this.parquet.tmp, { force: true });
      this.parquet = undefined;
    }
  }

  private flushCsv(): void {
    const csv = this.csv;
    if (!csv || csv.buffer === '') return;
    const bytes = Buffer.from(csv.buffer, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(csv.fd, bytes, written, bytes.length - written);
    csv.buffer = '';
  }

  private flushParquet(): void {
    const parquet = this.parquet;
    if (!parquet || parquet.rows.length === 0) return;
    const columnData = parquetColumns(parquet.rows);
    parquet.writer.write({ columnData, rowGroupSize: parquet.rows.length });
    parquet.rows = [];
  }
}

function parquetColumns(rows: ReplayFillRow[]): ParquetColumn[] {
  const s = (name: string, pick: (r: ReplayFillRow) => string): ParquetColumn => ({
    name,
    type: 'STRING',
    nullable: false,
    data: rows.map(pick),
  });
  const d = (name: string, pick: (r: ReplayFillRow) => number | null, nullable = false): ParquetColumn => ({
    name,
    type: 'DOUBLE',
    nullable,
    data: rows.map(pick),
  });
  return [
    s('time', (r) => r.time),
    d('time_ms', (r) => r.timeMs),
    d('index', (r) => r.index),
    s('client_order_id', (r) => r.clientOrderId),
    s('side', (r) => r.side),
    d('quantity', (r) => r.quantity),
    d('price', (r) => r.price),
    d('commission', (r) => r.commission),
    s('liquidity', (r) => r.liquidity),
    d('decision_index', (r) => r.decisionIndex, true),
    d('reference_price', (r) => r.referencePrice, true),
    d('slippage_units', (r) => r.slippageUnits, true),
    d('slippage_bps', (r) => r.slippageBps, true),
  ];
}

const csvText = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csvNumber = (v: number | null): string => (v === null ? '' : String(v));

function csvRow(r: ReplayFillRow): string {
  return [
    r.time,
    r.timeMs,
    r.index,
    csvText(r.clientOrderId),
    r.side,
    r.quantity,
    r.price,
    r.commission,
    r.liquidity,
    csvNumber(r.decisionIndex),
    csvNumber(r.referencePrice),
    csvNumber(r.slippageUnits),
    csvNumber(r.slippageBps),
  ].join(',');
}

export interface ReplayDrawdown {
  /** Largest fall of the P&L curve from a peak, in the quote currency (≥ 0). */
  max: number;
  /** That fall as a percentage of the equity at its peak (starting cash + P&L), when the quote currency is the account's (USDT, USDC as USD); else null. */
  maxPercent: number | null;
  /**
   * Records of the peak and of the trough of that fall (null when the curve never fell). The curve starts at 0 (the
   * starting cash, before record 0's fills): a fall from there has its peak at record 0.
   */
  peakIndex: number | null;
  troughIndex: number | null;
}

/**
 * The P&L curve in the instrument's quote currency, marked at each record's mid after that record's
 * fills: cash flows of the fills (commission included) plus the position at the mid. It is folded
 * forward lazily: the records between two fills are read when the second arrives (fills come in
 * record order), so the work is one pass over the feed and the memory a few numbers.
 */
export class PnlCurve {
  // The position, cash and turnover are summed exactly (10^-10 units) as fills come and read as numbers once per
  // fill: summed in floats, 1,000 fills of 1,080.01 made a turnover of 1,080,010.0000000077.
  private positionUnits = 0n;
  private cashUnits = 0n;
  private turnoverUnits = 0n;
  private position = 0;
  private cash = 0;
  private evaluated = -1;
  // The running peak starts at the starting cash (P&L 0), not at record 0's P&L: a replay that lost on its first
  // record (the spread crossed, a commission) measured its drawdown from below where it started.
  private peak = 0;
  private peakIndex = 0;
  private maxDrawdown = 0;
  private maxPeak = 0;
  private drawdownPeakIndex: number | null = null;
  private drawdownTroughIndex: number | null = null;
  /** Sum of |quantity × price| over fills, in the quote currency. */
  turnover = 0;

  constructor(
    private readonly bid: ArrayLike<number>,
    private readonly ask: ArrayLike<number>,
    private readonly startingEquity: number | null,
  ) {}

  /** A fill at record `index` (not before the last fill's). */
  fill(index: number, fill: Pick<Fill, 'side' | 'quantity' | 'price' | 'commission'>): void {
    this.advance(index - 1);
    const quantity = units(fill.quantity);
    const notional = mulMoney(quantity, units(fill.price));
    const buy = fill.side === 'buy';
    this.positionUnits += buy ? quantity : -quantity;
    this.cashUnits += (buy ? -notional : notional) - units(fill.commission);
    this.turnoverUnits += notional < 0n ? -notional : notional;
    this.position = fromMoney(this.positionUnits);
    this.cash = fromMoney(this.cashUnits);
    this.turnover = fromMoney(this.turnoverUnits);
  }

  /** Marks the records up to `to` (inclusive) with the position they held. */
  advance(to: number): void {
    // The curve is kept in floats: the fills' cash and the position at the mid differ by rounding (~1e-16 of the
    // amounts traded), which is neither a new peak nor a fall: a flat curve "fell 0.00 from #0 to #7", and a peak
    // moved to a record that was only noise higher. Far below a tick of anything traded (1e-12 of the turnover).
    const noise = this.turnover * 1e-12;
    for (let r = this.evaluated + 1; r <= to; r++) {
      const pnl =
        this.position === 0
          ? this.cash
          : this.cash + this.position * (((this.bid[r] as number) + (this.ask[r] as number)) / 2);
      if (pnl > this.peak + noise) {
        this.peak = pnl;
        this.peakIndex = r;
      } else if (this.peak - pnl > this.maxDrawdown + noise) {
        this.maxDrawdown = this.peak - pnl;
        this.maxPeak = this.peak;
        this.drawdownPeakIndex = this.peakIndex;
        this.drawdownTroughIndex = r;
      }
    }
    if (to > this.evaluated) this.evaluated = to;
  }

  /** The P&L at the last record marked. */
  value(): number {
    if (this.evaluated < 0) return this.cash;
    const r = this.evaluated;
    return this.position === 0
      ? this.cash
      : this.cash + this.position * (((this.bid[r] as number) + (this.ask[r] as number)) / 2);
  }

  drawdown(): ReplayDrawdown {
    const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;
    const base = this.startingEquity === null ? null : this.startingEquity + this.maxPeak;
    return {
      max: round(this.maxDrawdown, 8),
      maxPercent:
        base === null || base <= 0 || this.maxDrawdown === 0
          ? base === null
            ? null
            : 0
          : round((this.maxDrawdown / base) * 100, 6),
      peakIndex: this.drawdownPeakIndex,
      troughIndex: this.drawdownTroughIndex,
    };
  }
}

/** A fill's row, with its slippage against the decision quote when the replay decided it. */
export function fillRow(
  fill: Fill,
  index: number,
  iso: (ms: number) => string,
  decision: { index: number; slippage: Slippage } | undefined,
): ReplayFillRow {
  return {
    time: iso(fill.timestamp),
    timeMs: fill.timestamp,
    index,
    clientOrderId: fill.client_order_id,
    side: fill.side,
    quantity: fill.quantity,
    price: fill.price,
    commission: fill.commission,
    liquidity: fill.liquidity,
    decisionIndex: decision?.index ?? null,
    referencePrice: decision?.slippage.referencePrice ?? null,
    slippageUnits: decision?.slippage.units ?? null,
    slippageBps: decision?.slippage.bps ?? null,
  };
}

/** What the component printed over a replay: the first `ComponentOutput.KEEP_BYTES` of each stream, all of it counted. */
export interface ReplayOutput {
  stdout: string;
  stderr: string;
  /** Bytes printed in all (UTF-8), kept or not. */
  stdoutBytes: number;
  stderrBytes: number;
  /** True when more was printed than is kept. */
  truncated: boolean;
}

/**
 * What the component printed during a replay, as Test Order shows it ('--- component stdout ---' and its text; the
 * same for stderr; a line when more was printed than is kept), control characters escaped; undefined when it
 * printed nothing (or for an older report without `output`).
 */
export function replayOutputText(out: ReplayOutput | undefined): string | undefined {
  if (out === undefined) return undefined;
  const lines: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const)
    if (out[stream].trim() !== '') lines.push(`--- component ${stream} ---`, printable(out[stream].trimEnd()));
  if (out.truncated) {
    const n = (x: number): string => x.toLocaleString('en-US');
    lines.push(
      `--- the component printed ${n(out.stdoutBytes)} bytes to stdout and ${n(out.stderrBytes)} to stderr; the first ${n(ComponentOutput.KEEP_BYTES)} of each are kept ---`,
    );
  }
  return lines.length === 0 ? undefined : lines.join('\n');
}

/** Collects each batch's printed text, keeping the head of each stream so memory does not grow with the data. */
export class ComponentOutput {
  static readonly KEEP_BYTES = 256 * 1024;
  readonly value: ReplayOutput = { stdout: '', stderr: '', stdoutBytes: 0, stderrBytes: 0, truncated: false };
  private readonly kept = { stdout: 0, stderr: 0 };

  add(batch: { stdout?: string; stderr?: string }): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = batch[stream];
      if (!text) continue;
      const bytes = Buffer.byteLength(text, 'utf8');
      this.value[stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes'] += bytes;
      const room = ComponentOutput.KEEP_BYTES - this.kept[stream];
      if (bytes <= room) {
        this.value[stream] += text;
        this.kept[stream] += bytes;
        continue;
      }
      this.value.truncated = true;
      if (room <= 0) continue;
      // Cut at a character: a partial UTF-8 sequence at the end is dropped by the decoder's replacement, so trim it.
      const head = Buffer.from(text, 'utf8')
        .subarray(0, room)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
      this.value[stream] += head;
      this.kept[stream] = ComponentOutput.KEEP_BYTES;
    }
  }
}
