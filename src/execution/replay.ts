/**
 * Replay: run an order component over recorded market data, bar by bar (or tick by tick), with
 * every order going through the real engine (risk checks, audit log) to the paper venue filling
 * against the recorded quotes.
 *
 * For each record i (time t_i), in order:
 *   1. the clock moves to t_i and the venue is polled, so resting orders fill against record i;
 *   2. market_data is built as Test Order builds it (symbol, side, bid, ask, spread, last,
 *      bid_size, ask_size, timestamp, timestamp_ms, capital = buying power, broker_profile,
 *      environment) plus, for candles, open, high, low, close, volume, and bar_index = i;
 *   3. the component runs; an order it returns is normalised, fitted to the instrument and
 *      submitted through the engine at t_i; a market order fills at record i's touch.
 * Speed without changing that order of events: records are sent to the persistent Python worker
 * in batches (`run_batch`, up to `batchSize` per round trip), and the worker stops a batch at the
 * first record that produced an order, so the order is submitted before the next record runs.
 * A batch is built ahead only while no order is working at the venue (polling is then a no-op and
 * buying power depends only on the quotes); while one is working, records go one at a time.
 * The component instance is kept for the whole replay (the worker keys it by replay), so a
 * component may keep state, such as its recent closes, in `self`.
 * A component error on one record is recorded with its index and time and the replay goes on; a
 * failure to load or construct the component (or a timeout) ends the replay, reported as `fatal`.
 *
 * A replay never touches trading state: its folder (`stateDir`) is one it created and marked with
 * `replay.json`, or a new or empty one it marks now; any other folder — above all one holding trading
 * state (an audit log, trading-state.json, working-orders.json, a paper account) — is refused with a
 * ReplayStateDirError before anything is written, so simulated fills never enter a real audit log and a
 * real halt is never bypassed.
 *
 * Past 450 lines on purpose: the loop, its batching and its report share the replay's clock, venue and
 * counters; the folder rule above is a few lines beside them.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monotonicMs, TestClock } from '../common/clock';
import { stateFileErrorOf } from '../common/stateErrors';
import { PaperBroker } from '../brokers/paper/paperBroker';
import { ReplayDataError, ReplayFeed } from '../brokers/paper/replayFeed';
import { instrumentKey } from '../brokers/paper/instruments';
import type { InstrumentRules } from '../orders/model';
import { normalizeComponentOrder } from '../orders/normalize';
import type { ComponentBatchRequest, ComponentBatchResult } from '../python/runner';
import { acquireStateDirLock } from '../common/stateLock';
import { AuditLog } from './audit/auditLog';
import { ExecutionEngine } from './engine';
import { submitOrderCommand, type EngineEvent } from './events';
import { averagePrice } from './orderState';
import { DEFAULT_RISK_LIMITS, type RiskLimits } from './risk';
import { computeSlippage, type Slippage } from './slippage';
import { fitToInstrument } from './testOrder';
import { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerSettings } from './tradingState';

/** The part of the Python worker a replay needs. */
export interface ReplayRunner {
  runBatch(request: ComponentBatchRequest): Promise<ComponentBatchResult>;
}

/** The engine a replay submits through, and how to close it. */
export interface ReplayEngine {
  engine: ExecutionEngine;
  /** The audit log's folder, when there is one. */
  auditDir: string | null;
  close(): Promise<void>;
}

export interface ReplayEngineContext {
  clock: TestClock;
  broker: PaperBroker;
  /** Where the default engine keeps its audit log (`<stateDir>/audit`). */
  stateDir: string;
  limits: RiskLimits;
  circuitBreaker: CircuitBreakerSettings;
}

export interface ReplayProgress {
  processed: number;
  total: number;
  elapsedMs: number;
  ticksPerSecond: number;
  ordersSent: number;
  fills: number;
}

export interface ReplayRequest {
  file: string;
  className?: string;
  /** A `.csv` / `.parquet` file, or a feed already loaded. */
  data: string | ReplayFeed;
  /** The data's instrument (default EUR_USD); ignored when `data` is a feed. */
  symbol?: string;
  parameters?: Record<string, unknown>;
  signal?: Record<string, unknown> | null;
  /** market_data['side'] for components that read it (default buy). */
  side?: 'buy' | 'sell';
  runner: ReplayRunner;
  /** Default: an engine over a new audit log in `<stateDir>/audit`, trading state in memory. */
  engineFactory?: (context: ReplayEngineContext) => Promise<ReplayEngine>;
  /** Default: a new folder in the OS temp dir (kept: the audit log is the replay's record). */
  stateDir?: string;
  startingCash?: number;
  /** Candles: the synthetic spread in ticks (default the instrument's). */
  spreadTicks?: number;
  /** Over the defaults, which have no submit-rate limit in a replay (time is simulated). */
  limits?: Partial<RiskLimits>;
  circuitBreaker?: Partial<CircuitBreakerSettings>;
  /** Records per round trip to Python (default 1000). */
  batchSize?: number;
  /** Component errors kept in the report (default 50; all are counted). */
  maxErrors?: number;
  /** Per-order slippage records kept (default 1000; the summary covers all). */
  maxSlippageRecords?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** Call onProgress at most this often (default 100 ms of wall time). */
  progressIntervalMs?: number;
}

export interface ReplayError {
  index: number;
  time: string;
  code: string;
  message: string;
  line?: number;
}

export interface ReplayOrderSlippage extends Slippage {
  index: number;
  time: string;
  clientOrderId: string;
  side: 'buy' | 'sell';
  quantity: number;
}

export interface ReplayReport {
  ok: boolean;
  component: { file: string; className?: string; entryPoint?: string };
  data: { source: string; kind: 'candles' | 'ticks'; symbol: string; records: number; from: string; to: string; duplicatesCollapsed: number };
  /** Records the component saw. */
  processed: number;
  orders: {
    /** Orders the component returned. */
    produced: number;
    /** Returned but not valid (or not fitting the instrument, or for another symbol): not sent. */
    invalid: number;
    /** Denied by the engine before reaching the venue, by code. */
    denied: number;
    deniedByCode: Record<string, number>;
    /** Accepted by the engine and sent to the venue. */
    sent: number;
    filled: number;
    partiallyFilled: number;
    rejected: number;
    cancelled: number;
    expired: number;
    /** Still working at the end. */
    open: number;
  };
  fills: number;
  /** The engine's positions (sum of its fills), and the venue's. */
  positions: Record<string, number>;
  venuePositions: Array<{ symbol: string; quantity: number; averagePrice: number; currentPrice: number; unrealizedPnl: number }>;
  /**
   * realized: by quote currency, before commission (the venue's ledger); unrealized: open positions
   * at the last mid, in the account currency; commission: the sum over this replay's fills, in the
   * instrument's quote currency; equity: the account's at the end, after commission.
   */
  pnl: { realized: Record<string, number>; unrealized: number; commission: number; startingCash: number; equity: number; currency: string };
  slippage: {
    unit: 'pip' | 'tick';
    orders: number;
    meanUnits: number | null;
    worstUnits: number | null;
    bestUnits: number | null;
    records: ReplayOrderSlippage[];
  };
  errors: ReplayError[];
  errorCount: number;
  /** Why the replay stopped early, if it did. */
  fatal: (ReplayError & { code: string }) | null;
  stateDir: string;
  auditDir: string | null;
  /** Round trips to Python. */
  batches: number;
  elapsedMs: number;
  ticksPerSecond: number;
}

/** The file that marks a folder as a replay's (never a trading state directory). */
export const REPLAY_MARKER = 'replay.json';
const MARKER_KIND = 'sptrader-replay';
/** What a trading state directory holds (session.ts, the paper venue, the lock): their presence means "not a replay's". */
const TRADING_STATE_ENTRIES = ['audit', 'trading-state.json', 'working-orders.json', 'paper-account.json', 'paper-account.json.journal', 'risk-limits.json'];

/** --state-dir names a folder a replay must not write into. */
export class ReplayStateDirError extends Error {
  override readonly name = 'ReplayStateDirError';
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(
      `${dir}: ${problem}. A replay writes only into a folder of its own (new or empty, then marked with ${REPLAY_MARKER}), never into trading state: omit --state-dir (a new temp folder) or name a new folder`,
    );
  }
}

/**
 * Makes `dir` a replay's folder, or refuses it: a folder with the replay marker is reused; a missing or
 * empty one is created and marked; anything else (trading state above all) is refused. Nothing is written
 * into a refused folder.
 */
export function prepareReplayStateDir(dir: string): string {
  const absolute = resolve(dir);
  let entries: string[];
  try {
    entries = readdirSync(absolute);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new ReplayStateDirError(absolute, 'this is a file, not a folder');
    if (code !== 'ENOENT') throw stateFileErrorOf(absolute, 'list the replay folder', e);
    try {
      mkdirSync(absolute, { recursive: true, mode: 0o700 });
    } catch (made) {
      throw stateFileErrorOf(absolute, 'create the replay folder', made);
    }
    entries = [];
  }
  const trading = entries.filter((e) => TRADING_STATE_ENTRIES.includes(e) && e !== 'audit');
  const marker = join(absolute, REPLAY_MARKER);
  if (entries.includes(REPLAY_MARKER)) {
    let kind: unknown;
    try {
      kind = (JSON.parse(readFileSync(marker, 'utf8')) as { kind?: unknown } | null)?.kind;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw stateFileErrorOf(marker, 'read the replay marker', e);
    }
    if (kind !== MARKER_KIND) throw new ReplayStateDirError(absolute, `${REPLAY_MARKER} there is not a replay marker SPtrader wrote`);
    // A marked folder that has since gained trading state (a trading command pointed at it) is trading state now.
    if (trading.length > 0) throw new ReplayStateDirError(absolute, `it is marked as a replay folder but holds trading state (${trading.join(', ')})`);
    return absolute;
  }
  const held = entries.filter((e) => TRADING_STATE_ENTRIES.includes(e));
  if (held.length > 0) throw new ReplayStateDirError(absolute, `it holds trading state (${held.join(', ')})`);
  if (entries.length > 0)
    throw new ReplayStateDirError(
      absolute,
      `it is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}) and not a replay folder (no ${REPLAY_MARKER})`,
    );
  const text = `${JSON.stringify({ kind: MARKER_KIND, version: 1, createdAt: new Date().toISOString(), note: 'Replay audit logs. SPtrader never trades from this folder.' }, null, 1)}\n`;
  try {
    writeFileSync(marker, text, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    // Another replay marked it first: then it is a replay folder.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw stateFileErrorOf(marker, 'write the replay marker', e);
  }
  return absolute;
}

// Times a Date (and so every ISO string in the report and the audit log) can hold: ±8.64e15 ms.
const MAX_TIME_MS = 8.64e15;

/** A feed whose times a clock cannot hold (an epoch number of the wrong unit, say) is a data error naming the record. */
function checkTimes(feed: ReplayFeed): void {
  const times = feed.times;
  for (const index of [0, times.length - 1]) {
    const t = times[index] as number;
    if (Number.isFinite(t) && Math.abs(t) <= MAX_TIME_MS) continue;
    throw new ReplayDataError(
      `${feed.source}: the ${index === 0 ? 'first' : 'last'} record's time (${t} ms since 1970) is beyond the dates a clock can hold (years -271821 to 275760): check the unit of the time column (seconds, milliseconds, microseconds or nanoseconds since 1970, or ISO 8601)`,
      feed.source,
      undefined,
      'time',
    );
  }
}

const DEFAULT_BATCH = 1000;
let replayCounter = 0;

const iso = (ms: number): string => new Date(ms).toISOString();

/** `toISOString` for increasing times, several times faster: the date part is reused within a day. */
export function isoFormatter(): (ms: number) => string {
  let dayStart = Number.NaN;
  let prefix = '';
  const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
  return (ms: number): string => {
    const offset = ms - dayStart;
    if (!(offset >= 0 && offset < 86_400_000) || !Number.isInteger(ms)) {
      if (!Number.isInteger(ms) || ms < 0 || ms >= 253402300800000) return iso(ms);
      dayStart = ms - (ms % 86_400_000);
      prefix = iso(dayStart).slice(0, 11);
      return iso(ms);
    }
    const h = Math.floor(offset / 3_600_000);
    const m = Math.floor(offset / 60_000) % 60;
    const sec = Math.floor(offset / 1000) % 60;
    const milli = offset % 1000;
    return `${prefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  };
}
const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;

/** Replay limits: the settings' defaults without the submit-rate limit (simulated time would trip it). */
export function replayLimits(overrides: Partial<RiskLimits> = {}): RiskLimits {
  const limits: RiskLimits = { ...DEFAULT_RISK_LIMITS, ...overrides };
  if (overrides.maxOrdersPerSecond === undefined) {
    delete limits.maxOrdersPerSecond;
    delete limits.orderBurst;
  }
  return limits;
}

async function defaultEngine(context: ReplayEngineContext): Promise<ReplayEngine> {
  // Its audit log is one writer's, like any other in a state directory.
  const lock = acquireStateDirLock(context.stateDir, 'sptrader replay');
  let log: AuditLog;
  try {
    ({ log } = await AuditLog.open(join(context.stateDir, 'audit'), { clock: context.clock }));
  } catch (e) {
    lock.release();
    throw e;
  }
  const engine = new ExecutionEngine({
    clock: context.clock,
    brokers: { [context.broker.id]: context.broker },
    audit: log,
    limits: context.limits,
    circuitBreaker: context.circuitBreaker,
    // Trading state and working orders stay in memory: a replay never halts or owns real trading.
  });
  return {
    engine,
    auditDir: log.dir,
    async close() {
      try {
        await engine.close();
        await log.close();
      } finally {
        lock.release();
      }
    },
  };
}

export async function replayComponent(request: ReplayRequest): Promise<ReplayReport> {
  const started = monotonicMs();
  const feed =
    typeof request.data === 'string'
      ? await ReplayFeed.load(request.data, { symbol: request.symbol ?? 'EUR_USD', spreadTicks: request.spreadTicks })
      : request.data;
  checkTimes(feed);
  const symbol = feed.symbol;
  const total = feed.length;
  const times = feed.times;
  const candles = feed.candles;
  const stateDir = prepareReplayStateDir(request.stateDir ?? mkdtempSync(join(tmpdir(), 'sptrader-replay-')));
  const clock = new TestClock(feed.firstTime);
  const startingCash = request.startingCash ?? 100_000;
  const broker = new PaperBroker({ clock, quotes: feed, startingCash, pollIntervalMs: 0 });
  const limits = replayLimits(request.limits);
  const circuitBreaker: CircuitBreakerSettings = { ...DEFAULT_CIRCUIT_BREAKER, ...request.circuitBreaker };
  const opened = await (request.engineFactory ?? defaultEngine)({ clock, broker, stateDir, limits, circuitBreaker });
  const engine = opened.engine;
  const venue = broker.id;
  const batchSize = Math.max(1, Math.floor(request.batchSize ?? DEFAULT_BATCH));
  const maxErrors = request.maxErrors ?? 50;
  const maxSlippage = request.maxSlippageRecords ?? 1000;
  const progressEvery = request.progressIntervalMs ?? 100;

  const report: ReplayReport = {
    ok: false,
    component: { file: request.file },
    data: {
      source: feed.source,
      kind: feed.kind,
      symbol,
      records: total,
      from: iso(feed.firstTime),
      to: iso(feed.lastTime),
      duplicatesCollapsed: feed.duplicatesCollapsed,
    },
    processed: 0,
    orders: { produced: 0, invalid: 0, denied: 0, deniedByCode: {}, sent: 0, filled: 0, partiallyFilled: 0, rejected: 0, cancelled: 0, expired: 0, open: 0 },
    fills: 0,
    positions: {},
    venuePositions: [],
    pnl: { realized: {}, unrealized: 0, commission: 0, startingCash, equity: startingCash, currency: 'USD' },
    slippage: { unit: 'pip', orders: 0, meanUnits: null, worstUnits: null, bestUnits: null, records: [] },
    errors: [],
    errorCount: 0,
    fatal: null,
    stateDir,
    auditDir: opened.auditDir,
    batches: 0,
    elapsedMs: 0,
    ticksPerSecond: 0,
  };
  const addError = (index: number, code: string, message: string, line?: number): void => {
    report.errorCount++;
    if (report.errors.length < maxErrors)
      report.errors.push({ index, time: iso(times[index] as number), code, message, ...(line === undefined ? {} : { line }) });
  };

  // Orders of this replay: the quote the component decided on, for slippage.
  const decisions = new Map<string, { index: number; side: 'buy' | 'sell'; bid: number; ask: number; quantity: number }>();
  let instrument: InstrumentRules | undefined;
  let slippageSum = 0;
  let commission = 0;
  const slippageOf = (clientOrderId: string): void => {
    const d = decisions.get(clientOrderId);
    const record = engine.getOrder(clientOrderId);
    decisions.delete(clientOrderId);
    if (!d || !record || !instrument) return;
    const price = averagePrice(record);
    if (price === null) return;
    const s = computeSlippage(d.side, d, price, instrument);
    report.slippage.orders++;
    report.slippage.unit = s.unit;
    slippageSum += s.units;
    report.slippage.worstUnits = report.slippage.worstUnits === null ? s.units : Math.max(report.slippage.worstUnits, s.units);
    report.slippage.bestUnits = report.slippage.bestUnits === null ? s.units : Math.min(report.slippage.bestUnits, s.units);
    if (report.slippage.records.length < maxSlippage)
      report.slippage.records.push({ ...s, index: d.index, time: iso(times[d.index] as number), clientOrderId, side: d.side, quantity: d.quantity });
  };
  const onEvent = (e: EngineEvent): void => {
    if (!('clientOrderId' in e) || !decisions.has(e.clientOrderId)) return;
    switch (e.type) {
      case 'OrderPartiallyFilled':
        report.fills++;
        commission += e.fill.commission;
        break;
      case 'OrderFilled':
        report.fills++;
        commission += e.fill.commission;
        report.orders.filled++;
        slippageOf(e.clientOrderId);
        break;
      case 'OrderRejected':
        report.orders.rejected++;
        decisions.delete(e.clientOrderId);
        break;
      case 'OrderCancelled':
      case 'OrderExpired':
        if (e.type === 'OrderCancelled') report.orders.cancelled++;
        else report.orders.expired++;
        if ((engine.getOrder(e.clientOrderId)?.filledUnits ?? 0n) > 0n) report.orders.partiallyFilled++;
        slippageOf(e.clientOrderId);
        break;
      default:
        break;
    }
  };
  const subscription = engine.subscribe(onEvent);

  const instanceKey = `replay-${process.pid}-${++replayCounter}-${Date.now()}`;
  const common: Record<string, unknown> = { symbol, side: request.side ?? 'buy', broker_profile: venue, environment: broker.environment };
  const keys = ['bid', 'ask', 'spread', 'last', 'bid_size', 'ask_size', 'timestamp', 'timestamp_ms', 'capital'];
  if (candles) keys.push('open', 'high', 'low', 'close', 'volume');
  const componentLimits = { value: undefined as unknown };

  try {
    await engine.connect(venue);
    instrument = await broker.getInstrument(symbol);
    const accountCurrency = (await broker.getAccountInfo()).currency;
    report.pnl.currency = accountCurrency;
    const isoOf = isoFormatter();
    let lastProgress = monotonicMs();
    const progress = (force: boolean): void => {
      if (!request.onProgress) return;
      const now = monotonicMs();
      if (!force && now - lastProgress < progressEvery) return;
      lastProgress = now;
      const elapsedMs = now - started;
      request.onProgress({
        processed: report.processed,
        total,
        elapsedMs,
        ticksPerSecond: elapsedMs > 0 ? (report.processed / elapsedMs) * 1000 : 0,
        ordersSent: report.orders.sent,
        fills: report.fills,
      });
    };

    interface Batch {
      start: number;
      size: number;
      working: boolean;
      common: Record<string, unknown>;
      keys: string[];
      rows: unknown[][];
    }
    const build = async (i: number): Promise<Batch> => {
      // 1–2. Records up to the batch size, each with its clock, poll and buying power.
      const working = engine.workingOrders().length > 0;
      const size = working ? 1 : Math.min(batchSize, total - i);
      // Flat, nothing working, cash only in the account currency: buying power cannot move with the quotes.
      let fixedCapital: number | undefined;
      if (!working && Object.keys(engine.positionsOf(venue)).length === 0) {
        const cash = broker.getCashBalances();
        if (Object.entries(cash).every(([ccy, v]) => ccy === accountCurrency || v === 0)) {
          clock.set(times[i] as number);
          fixedCapital = (await broker.getAccountInfo()).buying_power;
        }
      }
      const columns: unknown[][] = keys.map(() => new Array<unknown>(size));
      for (let j = 0; j < size; j++) {
        const k = i + j;
        const t = times[k] as number;
        clock.set(t);
        if (working) broker.poll();
        const bid = feed.bid[k] as number;
        const ask = feed.ask[k] as number;
        const values: unknown[] = [
          bid,
          ask,
          Number((ask - bid).toPrecision(12)),
          feed.last[k],
          feed.bidSize[k],
          feed.askSize[k],
          isoOf(t),
          t,
          fixedCapital ?? (await broker.getAccountInfo()).buying_power,
        ];
        if (candles) values.push(candles.open[k], candles.high[k], candles.low[k], candles.close[k], candles.volume[k]);
        for (let c = 0; c < values.length; c++) (columns[c] as unknown[])[j] = values[c];
      }
      // Values the whole batch shares travel once (sizes, spread, capital while flat).
      const batchCommon: Record<string, unknown> = { ...common };
      const varying: string[] = [];
      const varyingColumns: unknown[][] = [];
      keys.forEach((key, c) => {
        const column = columns[c] as unknown[];
        const first = column[0];
        if (column.every((v) => v === first)) batchCommon[key] = first;
        else {
          varying.push(key);
          varyingColumns.push(column);
        }
      });
      const rows: unknown[][] = new Array<unknown[]>(size);
      for (let j = 0; j < size; j++) rows[j] = varyingColumns.map((column) => column[j]);
      return { start: i, size, working, common: batchCommon, keys: varying, rows };
    };

    let i = 0;
    let prebuilt: Batch | undefined;
    while (i < total) {
      const batch = prebuilt?.start === i ? prebuilt : await build(i);
      prebuilt = undefined;
      const size = batch.size;
      // 3. The component over the batch, stopping at its first order.
      const pending = request.runner.runBatch({
        file: request.file,
        className: request.className,
        parameters: request.parameters,
        signal: request.signal ?? null,
        common: batch.common,
        keys: batch.keys,
        rows: batch.rows,
        indexKey: 'bar_index',
        indexStart: i,
        stopOnOrder: true,
        instance: instanceKey,
      });
      // While Python works, the next batch is built as if this one places no order (then polling is
      // a no-op and buying power depends on the quotes only); it is thrown away if it did.
      const speculative = !batch.working && i + size < total ? build(i + size) : undefined;
      const result = await pending;
      const next = speculative ? await speculative : undefined;
      const ordersBefore = report.orders.produced;
      report.batches++;
      if (result.className) report.component.className = result.className;
      if (result.entryPoint) report.component.entryPoint = result.entryPoint;
      if (!result.ok) {
        const e = result.error ?? { code: 'COMPONENT_ERROR', message: 'the component failed without a message' };
        report.fatal = { index: i, time: iso(times[i] as number), code: e.code, message: e.message, ...(e.line === undefined ? {} : { line: e.line }) };
        break;
      }
      if (componentLimits.value === undefined && result.metadata) componentLimits.value = result.metadata['risk_limits'];
      const done = Math.max(0, Math.min(result.done, size));
      for (const item of result.items) {
        const k = i + item.index;
        if (!item.ok) {
          addError(k, item.error.code, item.error.message, item.error.line);
          continue;
        }
        if (item.output === null || item.output === undefined) continue;
        clock.set(times[k] as number);
        await submitOne(k, item.output);
      }
      report.processed += done;
      if (done === 0) {
        report.fatal = { index: i, time: iso(times[i] as number), code: 'PROTOCOL_ERROR', message: 'the worker ran no record of the batch' };
        break;
      }
      if (next && done === size && report.orders.produced === ordersBefore && engine.workingOrders().length === 0) prebuilt = next;
      i += done;
      progress(false);
    }
    progress(true);
    report.ok = report.fatal === null;
  } finally {
    subscription.dispose();
    report.orders.open = engine.workingOrders().length;
    report.positions = engine.positionsOf(venue);
    try {
      const account = await broker.getAccountInfo();
      report.venuePositions = account.open_positions.map((p) => ({
        symbol: p.symbol,
        quantity: p.quantity,
        averagePrice: p.average_price,
        currentPrice: p.current_price,
        unrealizedPnl: p.unrealized_pnl,
      }));
      report.pnl.realized = broker.getRealizedPnl();
      report.pnl.unrealized = round(
        account.open_positions.reduce((s, p) => s + p.unrealized_pnl, 0),
        10,
      );
      report.pnl.equity = account.equity;
    } catch {
      // The venue's summary is best-effort once the replay failed.
    }
    await opened.close();
    await broker.disconnect();
    report.pnl.commission = round(commission, 10);
    if (report.slippage.orders > 0) report.slippage.meanUnits = round(slippageSum / report.slippage.orders, 4);
    report.elapsedMs = round(monotonicMs() - started, 3);
    report.ticksPerSecond = report.elapsedMs > 0 ? Math.round((report.processed / report.elapsedMs) * 1000) : 0;
  }
  return report;

  async function submitOne(k: number, output: unknown): Promise<void> {
    report.orders.produced++;
    const normalized = normalizeComponentOrder(output, { now: clock.now() });
    if (!normalized.ok) {
      report.orders.invalid++;
      addError(k, 'INVALID_ORDER', normalized.issues.map((x) => (x.path === '' ? x.message : `${x.path}: ${x.message}`)).join('; '));
      return;
    }
    if (instrumentKey(normalized.order.symbol) !== instrumentKey(symbol)) {
      report.orders.invalid++;
      addError(k, 'SYMBOL_NOT_IN_DATA', `the order is for ${normalized.order.symbol}, but the replay data records ${symbol} only`);
      return;
    }
    const fitted = fitToInstrument(normalized.order, instrument as InstrumentRules, []);
    if ('error' in fitted) {
      report.orders.invalid++;
      addError(k, 'INVALID_ORDER', fitted.error);
      return;
    }
    const cmd = submitOrderCommand(fitted.order, { venue, source: 'replay', clock, componentLimits: componentLimits.value, component: request.file });
    decisions.set(cmd.clientOrderId, { index: k, side: cmd.order.side, bid: feed.bid[k] as number, ask: feed.ask[k] as number, quantity: cmd.order.quantity });
    const result = await engine.submit(cmd);
    if (result.denial) {
      decisions.delete(cmd.clientOrderId);
      report.orders.denied++;
      report.orders.deniedByCode[result.denial.code] = (report.orders.deniedByCode[result.denial.code] ?? 0) + 1;
      return;
    }
    report.orders.sent++;
  }
}
