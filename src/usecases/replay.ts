/**
 * Replay: run an order component over recorded market data, bar by bar (or tick by tick), with
 * every order going through the real engine (risk checks, audit log) to the paper venue filling
 * against the recorded quotes.
 *
 * For each record i (time t_i), in order:
 *   1. the clock moves to t_i and the venue is polled, so resting orders fill against record i (for
 *      candles, the bar's four prints with its volume: resting limits fill by queue position);
 *   2. market_data is built as Test Order builds it (symbol, side, bid, ask, spread, last,
 *      bid_size, ask_size, timestamp, timestamp_ms, capital = buying power, broker_profile,
 *      environment) plus, for candles, open, high, low, close, volume, and bar_index = i;
 *   3. the component runs; an order it returns is normalised, fitted to the instrument and
 *      submitted through the engine at t_i; a market order fills at record i's touch.
 * Speed without changing that order of events: records go to the persistent Python worker in batches
 * (`run_batch`, up to `batchSize` per round trip) that run to their end whatever the component
 * returns. What a record carries from the data is sent ahead; `capital` (buying power), the one input
 * that depends on what earlier orders did, is sent for the records up to the component's first order
 * of the batch (while nothing is working at the venue and the account is flat, one value covers the
 * batch), and past that it is asked for when read: reading it (or iterating, copying, printing the
 * market_data) sends a state request mid-batch, and the replay then submits the orders of the
 * records before, steps the venue to that record and answers (python/sptrader_harness/lazystate.py).
 * So the component sees exactly what it would have seen one record per round trip, and never runs a
 * record twice: the instance's state in `self` is never rolled back (test/unit/replay/batching.test.ts
 * holds the two equal). A batch whose orders the replay is about to submit has the next batch sent first, so the
 * worker runs it on another core meanwhile; that batch goes without capital, asked for when read and answered once
 * the orders before are submitted, as above (`sendAhead`). The venue is stepped (clock, then a poll while an order works) record by
 * record only up to the record acted on; while nothing works, a poll is a no-op and only the clock moves.
 * The component instance is kept for the whole replay (the worker keys it by replay), so a
 * component may keep state, such as its recent closes, in `self`.
 * The audit log is written line by line as in trading, but synced once at close (`syncedAtClose`).
 * Fills stream to CSV/Parquet files and into the P&L curve (replayReport.ts) as they happen.
 * A component error on one record is recorded with its index and time and the replay goes on, unless
 * `maxConsecutiveErrors` records in a row fail with the same error (code and line: a component broken on every
 * record is told once, not once a record); a failure to load or construct the component, or a record past a limit
 * of the worker (time, output) or calling sys.exit(), ends the replay, reported as `fatal`.
 *
 * A replay never touches trading state: its folder (`stateDir`) is one it created and marked with
 * `replay.json`, or a new or empty one it marks now; any other folder — above all one holding trading
 * state (an audit log, trading-state.json, working-orders.json, a paper account) — is refused with a
 * ReplayStateDirError before anything is written, so simulated fills never enter a real audit log and a
 * real halt is never bypassed.
 *
 * Past 450 lines on purpose: `replayComponent` is one loop whose steps (step the venue, build
 * market_data, run a batch, answer its state requests, submit, report) share the loop's state (the clock,
 * the record acted on, the orders in flight, the batch) and must keep the order of events above; split, each
 * step would take that state back as arguments. What does not share it lives beside it: replaySetup.ts
 * (folder, engine, data checks), replayReport.ts (P&L, fills files), replayChart.ts, replayCancel.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicMs, TestClock } from '../common/clock';
import { PaperBroker, type Candle } from '../brokers/paper/paperBroker';
import { ReplayFeed } from '../brokers/paper/replayFeed';
import { instrumentKey, sameMoney } from '../brokers/paper/instruments';
import type { Fill, InstrumentRules } from '../orders/model';
import { normalizeComponentOrder } from '../orders/normalize';
import type { ComponentBatchItem, ComponentBatchRequest, ComponentBatchResult } from '../python/runner';
import type { BatchColumns, PreparedColumns } from '../python/batchColumns';
import { frozenCopy, submitOrderCommand, type EngineEvent } from '../execution/events';
import { averagePrice } from '../execution/orderState';
import type { RiskLimits } from '../execution/risk';
import { computeSlippage, type Slippage } from '../execution/slippage';
import { splitParent } from '../execution/algos/dialect';
import { ParentOrders } from '../execution/algos/parents';
import {
  ComponentOutput,
  fillRow,
  PnlCurve,
  ReplayFillsWriter,
  type ReplayDrawdown,
  type ReplayOutput,
} from './replayReport';
import {
  checkTimes,
  defaultEngine,
  iso,
  isoFormatter,
  prepareReplayStateDir,
  replayLimits,
  round,
  type ReplayEngine,
  type ReplayEngineContext,
} from './replaySetup';
import { fitToInstrument } from './testOrder';
import { DEFAULT_MAX_CONSECUTIVE_ERRORS, failedInRow, repeatedFailure, type FailureRun } from './replayFailures';
import { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerSettings } from '../execution/tradingState';

export {
  isoFormatter,
  prepareReplayStateDir,
  REPLAY_MARKER,
  replayLimits,
  ReplayStateDirError,
  syncedAtClose,
} from './replaySetup';
export type { ReplayEngine, ReplayEngineContext } from './replaySetup';
export { replayOutputText } from './replayReport';

/** The part of the Python worker a replay needs. */
export interface ReplayRunner {
  runBatch(request: ComponentBatchRequest): Promise<ComponentBatchResult>;
  /**
   * A runner that sends the columns encoded (the Python worker) encodes a batch's here, ahead of its request:
   * the replay does it while the worker runs the batch before. One that takes the columns as they are has none.
   * A runner that has it calls each request's `onSent` once the request has left (or could not be sent).
   */
  prepareColumns?(columns: BatchColumns): PreparedColumns;
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
  /** Records per round trip to Python (default 2048). */
  batchSize?: number;
  /**
   * Send the next batch to the worker while the orders of the one before are submitted (default true): the
   * component sees and does exactly the same either way (capital is asked for when read); false sends one batch
   * at a time.
   */
  sendAhead?: boolean;
  /** Component errors kept in the report (default 50; all are counted). */
  maxErrors?: number;
  /**
   * Stop the replay (fatal REPEATED_COMPONENT_ERROR) once this many records in a row fail with the same error code at
   * the same line of the component (default 1000; 0: never). A validate_order veto is the component's decision, not a
   * failure, and an order the engine refuses is not the component's failure either: neither counts.
   */
  maxConsecutiveErrors?: number;
  /** Per-order slippage records kept (default 1000; the summary covers all). */
  maxSlippageRecords?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** Every fill, streamed as it happens, to a CSV and/or a Parquet file (written beside, renamed when complete). */
  fillsCsv?: string;
  fillsParquet?: string;
  /** Files an earlier run left that describe its fills (a report.json beside them): removed before the fills are replaced. */
  fillsDescribedBy?: readonly string[];
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
  data: {
    source: string;
    kind: 'candles' | 'ticks';
    symbol: string;
    records: number;
    from: string;
    to: string;
    duplicatesCollapsed: number;
  };
  /** Records the component saw. */
  processed: number;
  orders: {
    /** Orders the component returned. */
    produced: number;
    /** Records for which the component returned None: no order, by its own choice (not an error). */
    noOrder: number;
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
    rejectedByReason: Record<string, number>;
    cancelled: number;
    expired: number;
    /** Still working at the end. */
    open: number;
  };
  /**
   * Parent orders the component returned (issue 15), carried out as children on the replay's clock and
   * quotes; their children are among `orders.sent` and their fills among `fills`. Working parents are
   * cancelled when the data ends.
   */
  parents: { started: number; children: number; done: number; cancelled: number; failed: number };
  fills: number;
  /** The engine's positions (sum of its fills), and the venue's. */
  positions: Record<string, number>;
  venuePositions: Array<{
    symbol: string;
    quantity: number;
    averagePrice: number;
    currentPrice: number;
    unrealizedPnl: number;
  }>;
  /**
   * realized: by quote currency, before commission (the venue's ledger); unrealized: open positions
   * at the last mid, in the account currency; commission: the sum over this replay's fills, in the
   * instrument's quote currency; equity: the account's at the end, after commission.
   */
  pnl: {
    realized: Record<string, number>;
    unrealized: number;
    commission: number;
    startingCash: number;
    equity: number;
    currency: string;
  };
  /**
   * The P&L curve in the instrument's quote currency (fills' cash flows with commission, plus the position at
   * each record's mid), its largest fall; turnover is the sum of |quantity × price| over fills.
   */
  curve: { currency: string; drawdown: ReplayDrawdown; turnover: number; final: number };
  /** Where the fills were written. */
  fillsFiles: { csv?: string; parquet?: string; rows: number };
  slippage: {
    unit: 'pip' | 'tick';
    orders: number;
    meanUnits: number | null;
    /** Per order, in basis points of the decision price. */
    meanBps: number | null;
    /** What slippage cost over all fills, in the quote currency (positive: worse than the decision quote). */
    cost: number;
    worstUnits: number | null;
    bestUnits: number | null;
    records: ReplayOrderSlippage[];
  };
  errors: ReplayError[];
  errorCount: number;
  /** Every error counted by its code (COMPONENT_ERROR, INVALID_ORDER, ORDER_VETOED, …), the kept ones and the rest. */
  errorsByCode: Record<string, number>;
  /** What the component printed (print(), logging, warnings), every batch's in record order, the head of each stream kept. */
  output: ReplayOutput;
  /** Why the replay stopped early, if it did. */
  fatal: (ReplayError & { code: string }) | null;
  stateDir: string;
  auditDir: string | null;
  /** Round trips to Python. */
  batches: number;
  /** State requests within batches: the component read capital after an order of its batch (python/sptrader_harness/lazystate.py). */
  syncs: number;
  elapsedMs: number;
  ticksPerSecond: number;
}

/** A batch with at least one order per this many records sends the next batch ahead (see the replay loop). */
const ORDERS_AHEAD_FACTOR = 256;
/** Orders a replay submits between two turns of the event loop (see act). */
const ORDERS_PER_TURN = 64;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const DEFAULT_BATCH = 2048;
const noop = (): void => undefined;
let replayCounter = 0;

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

  const printed = new ComponentOutput();
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
    orders: {
      produced: 0,
      noOrder: 0,
      invalid: 0,
      denied: 0,
      deniedByCode: {},
      sent: 0,
      filled: 0,
      partiallyFilled: 0,
      rejected: 0,
      rejectedByReason: {},
      cancelled: 0,
      expired: 0,
      open: 0,
    },
    parents: { started: 0, children: 0, done: 0, cancelled: 0, failed: 0 },
    fills: 0,
    positions: {},
    venuePositions: [],
    pnl: { realized: {}, unrealized: 0, commission: 0, startingCash, equity: startingCash, currency: 'USD' },
    curve: {
      currency: '',
      drawdown: { max: 0, maxPercent: null, peakIndex: null, troughIndex: null },
      turnover: 0,
      final: 0,
    },
    fillsFiles: { rows: 0 },
    slippage: {
      unit: 'pip',
      orders: 0,
      meanUnits: null,
      meanBps: null,
      cost: 0,
      worstUnits: null,
      bestUnits: null,
      records: [],
    },
    errors: [],
    errorCount: 0,
    errorsByCode: {},
    output: printed.value,
    fatal: null,
    stateDir,
    auditDir: opened.auditDir,
    batches: 0,
    syncs: 0,
    elapsedMs: 0,
    ticksPerSecond: 0,
  };
  const addError = (index: number, code: string, message: string, line?: number): void => {
    report.errorCount++;
    report.errorsByCode[code] = (report.errorsByCode[code] ?? 0) + 1;
    if (report.errors.length < maxErrors)
      report.errors.push({
        index,
        time: iso(times[index] as number),
        code,
        message,
        ...(line === undefined ? {} : { line }),
      });
  };

  // Orders of this replay: the quote the component decided on, for slippage.
  const decisions = new Map<
    string,
    { index: number; side: 'buy' | 'sell'; bid: number; ask: number; quantity: number }
  >();
  let instrument: InstrumentRules | undefined;
  let slippageSum = 0;
  let slippageBpsSum = 0;
  let slippageCost = 0;
  let commission = 0;
  /** Records whose call returned something or raised: a batch lists no item for a record that returned None. */
  let answered = 0;
  const maxRun = Math.max(0, Math.floor(request.maxConsecutiveErrors ?? DEFAULT_MAX_CONSECUTIVE_ERRORS));
  /** The records in a row, up to `last`, that failed with the same error (the first's message said if they stop it). */
  const failures: FailureRun = { count: 0, first: -1, last: -2, code: '', line: undefined, message: '' };
  /** The record at which `failures` reached maxRun: the replay stops there. */
  let stopAt: number | undefined;
  const curve = new PnlCurve(feed.bid, feed.ask, startingCash);
  const isoFill = isoFormatter();
  const fillsWriter =
    request.fillsCsv !== undefined || request.fillsParquet !== undefined
      ? await ReplayFillsWriter.open({
          ...(request.fillsCsv === undefined ? {} : { csv: request.fillsCsv }),
          ...(request.fillsParquet === undefined ? {} : { parquet: request.fillsParquet }),
          ...(request.fillsDescribedBy === undefined ? {} : { describing: request.fillsDescribedBy }),
        })
      : undefined;
  /** The record a fill happened at: times are unique and increasing, and a fill is stamped with its record's. */
  const recordAt = (t: number): number => {
    let lo = 0;
    let hi = total - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((times[mid] as number) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  // The slippage of an order's last fill: an order filled at one price has the same at its average (slippageOf).
  let lastSlippage: { clientOrderId: string; price: number; slippage: Slippage } | undefined;
  const onFill = (fill: Fill): void => {
    report.fills++;
    commission += fill.commission;
    const index = recordAt(fill.timestamp);
    curve.fill(index, fill);
    const d = decisions.get(fill.client_order_id);
    const s = d && instrument ? computeSlippage(d.side, d, fill.price, instrument) : undefined;
    if (s) {
      slippageCost += s.price * fill.quantity;
      lastSlippage = { clientOrderId: fill.client_order_id, price: fill.price, slippage: s };
    }
    fillsWriter?.add(fillRow(fill, index, isoFill, d && s ? { index: d.index, slippage: s } : undefined));
  };
  const slippageOf = (clientOrderId: string): void => {
    const d = decisions.get(clientOrderId);
    const record = engine.getOrder(clientOrderId);
    decisions.delete(clientOrderId);
    if (!d || !record || !instrument) return;
    const price = averagePrice(record);
    if (price === null) return;
    const last = lastSlippage;
    lastSlippage = undefined;
    const s =
      last !== undefined && last.clientOrderId === clientOrderId && last.price === price
        ? last.slippage
        : computeSlippage(d.side, d, price, instrument);
    report.slippage.orders++;
    report.slippage.unit = s.unit;
    slippageSum += s.units;
    slippageBpsSum += s.bps;
    report.slippage.worstUnits =
      report.slippage.worstUnits === null ? s.units : Math.max(report.slippage.worstUnits, s.units);
    report.slippage.bestUnits =
      report.slippage.bestUnits === null ? s.units : Math.min(report.slippage.bestUnits, s.units);
    if (report.slippage.records.length < maxSlippage)
      report.slippage.records.push({
        ...s,
        index: d.index,
        time: iso(times[d.index] as number),
        clientOrderId,
        side: d.side,
        quantity: d.quantity,
      });
  };
  const onEvent = (e: EngineEvent): void => {
    if (!('clientOrderId' in e) || !decisions.has(e.clientOrderId)) return;
    // A parent's child (its decision is recorded when the parent writes it): sent or denied here.
    if (e.clientOrderId.startsWith('pa-')) {
      if (e.type === 'OrderSubmitted') report.orders.sent++;
      else if (e.type === 'OrderDenied') {
        decisions.delete(e.clientOrderId);
        report.orders.denied++;
        report.orders.deniedByCode[e.code] = (report.orders.deniedByCode[e.code] ?? 0) + 1;
      }
    }
    switch (e.type) {
      case 'OrderPartiallyFilled':
        onFill(e.fill);
        break;
      case 'OrderFilled':
        onFill(e.fill);
        report.orders.filled++;
        slippageOf(e.clientOrderId);
        break;
      case 'OrderRejected':
        report.orders.rejected++;
        report.orders.rejectedByReason[e.reason] = (report.orders.rejectedByReason[e.reason] ?? 0) + 1;
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
  const common: Record<string, unknown> = {
    symbol,
    side: request.side ?? 'buy',
    broker_profile: venue,
    environment: broker.environment,
  };
  const keys = ['bid', 'ask', 'spread', 'last', 'bid_size', 'ask_size', 'timestamp', 'timestamp_ms'];
  if (candles) keys.push('open', 'high', 'low', 'close', 'volume');
  const componentLimits = { value: undefined as unknown };
  // Parent orders (issue 15): carried out on the replay's clock and quotes, their records in its audit log.
  let parents: ParentOrders | undefined;
  const parentsWorking = (): boolean => parents?.anyWorking() === true;

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

    // What the data says of records start..start+size-1 (nothing the account decides: see `column`);
    // values the whole batch shares travel once (sizes, spread).
    type Rows = { common: Record<string, unknown>; keys: string[]; columns: unknown[][] };
    const buildRows = (start: number, size: number): Rows => {
      const columns: unknown[][] = keys.map(() => new Array<unknown>(size));
      const [bids, asks, spreads, lasts, bidSizes, askSizes, isoTimes, msTimes, opens, highs, lows, closes, volumes] =
        columns as [
          unknown[],
          unknown[],
          unknown[],
          unknown[],
          unknown[],
          unknown[],
          unknown[],
          unknown[],
          ...unknown[][],
        ];
      for (let j = 0; j < size; j++) {
        const k = start + j;
        const t = times[k] as number;
        const bid = feed.bid[k] as number;
        const ask = feed.ask[k] as number;
        bids[j] = bid;
        asks[j] = ask;
        spreads[j] = Number((ask - bid).toPrecision(12));
        lasts[j] = feed.last[k];
        bidSizes[j] = feed.bidSize[k];
        askSizes[j] = feed.askSize[k];
        isoTimes[j] = isoOf(t);
        msTimes[j] = t;
        if (candles) {
          (opens as unknown[])[j] = candles.open[k];
          (highs as unknown[])[j] = candles.high[k];
          (lows as unknown[])[j] = candles.low[k];
          (closes as unknown[])[j] = candles.close[k];
          (volumes as unknown[])[j] = candles.volume[k];
        }
      }
      const batchCommon: Record<string, unknown> = { ...common };
      const varying: string[] = [];
      const varyingColumns: unknown[][] = [];
      keys.forEach((key, c) => {
        const values = columns[c] as unknown[];
        const head = values[0];
        if (values.every((v) => v === head)) batchCommon[key] = head;
        else {
          varying.push(key);
          varyingColumns.push(values);
        }
      });
      // Key by key, as the harness takes them (numbers as float64 bytes: python/batchColumns.ts).
      return { common: batchCommon, keys: varying, columns: varyingColumns };
    };

    // Venue steps (clock, poll) run for each record in order, and only up to the record whose
    // capital or order is acted on: `cursor` is the first record not stepped yet. While nothing is
    // working at the venue a poll is a no-op, so only the clock moves.
    let cursor = 0;
    let working = engine.workingOrders().length > 0;
    const candleAt = (r: number): Candle => {
      const c = candles as NonNullable<typeof candles>;
      return {
        open: c.open[r] as number,
        high: c.high[r] as number,
        low: c.low[r] as number,
        close: c.close[r] as number,
        volume: c.volume[r] as number,
      };
    };
    const stepTo = (k: number): void => {
      if (working) {
        for (let r = Math.max(cursor, 0); r <= k; r++) {
          clock.set(times[r] as number);
          // A bar's prints fill resting limits by queue position (README, "Fills of resting limit orders").
          if (candles) broker.recordCandle(symbol, candleAt(r));
          else broker.poll();
          if (engine.workingOrders().length === 0) {
            working = false;
            break;
          }
        }
      }
      clock.set(times[k] as number);
      if (k >= cursor) cursor = k + 1;
    };
    // While a parent works, every record is stepped and the parents advanced at it (its children, its trail).
    const advanceTo = async (k: number): Promise<void> => {
      while (parents && cursor <= k && parentsWorking()) {
        stepTo(cursor);
        await parents.poll();
        if (engine.workingOrders().length > 0) working = true;
      }
      stepTo(k);
    };
    if (opened.audit)
      parents = new ParentOrders({
        engine,
        audit: opened.audit,
        clock,
        instrument: () => broker.getInstrument(symbol),
        quote: (_v, s) => broker.getQuote(s),
        capabilities: () => broker.capabilities,
        component: request.file,
        onChange: (event, p) => {
          if (event === 'ParentChild') {
            const child = p.children[p.children.length - 1];
            if (!child) return;
            report.parents.children++;
            // Its slippage against the record it was sent at.
            const k = Math.max(0, Math.min(cursor - 1, total - 1));
            decisions.set(child.id, {
              index: k,
              side: child.order.side,
              bid: feed.bid[k] as number,
              ask: feed.ask[k] as number,
              quantity: child.order.quantity,
            });
          } else if (event === 'ParentEnded') {
            if (p.state === 'DONE') report.parents.done++;
            else if (p.state === 'CANCELLED') report.parents.cancelled++;
            else report.parents.failed++;
          }
        },
      });
    const buyingPower = async (): Promise<number> => (await broker.getAccountInfo()).buying_power;
    // Capital for records from k on, valid while the component orders nothing: the venue steps to k first.
    let columnLength = 1;
    const column = async (k: number, remaining: number): Promise<{ values: number[]; until: number }> => {
      const first = await buyingPower();
      if (working || parentsWorking()) return { values: [first], until: 1 };
      // Nothing working, cash only in the account currency, flat or long only: buying power is the cash, whatever the
      // quotes do (the venue says so), so one value covers the batch. A short or a loan in another currency moves it.
      if (!broker.buyingPowerMovesWithQuotes()) return { values: [first], until: remaining };
      const n = Math.min(columnLength, remaining);
      const values = [first];
      for (let r = k + 1; r < k + n; r++) {
        clock.set(times[r] as number);
        values.push(await buyingPower());
      }
      clock.set(times[k] as number);
      return { values, until: n };
    };
    let sinceTurn = 0;
    const act = async (start: number, items: ComponentBatchItem[]): Promise<void> => {
      if (stopAt !== undefined) return;
      for (const item of items) {
        const k = start + item.index;
        if (!item.ok) {
          answered++;
          addError(k, item.error.code, item.error.message, item.error.line);
          if (failedInRow(failures, k, item.error, maxRun)) {
            stopAt = k;
            return;
          }
          continue;
        }
        if (item.output === null || item.output === undefined) continue;
        answered++;
        await advanceTo(k);
        await submitOne(k, item.output, item.line);
        working = engine.workingOrders().length > 0;
        // A batch's orders are all promise callbacks: without a turn of the event loop now and then, the
        // audit log's writes (and anything else waiting on I/O) would wait for the batch's end, and its
        // lines pile up in memory meanwhile (a whole replay's, with a component run in-process).
        if (++sinceTurn >= ORDERS_PER_TURN) {
          sinceTurn = 0;
          await nextTurn();
        }
      }
    };

    /** `failures` as the items of the batch from `start` will leave it (not acted on yet), or undefined if they stop the replay. */
    const failuresAfter = (items: ComponentBatchItem[], start: number): FailureRun | undefined => {
      if (stopAt !== undefined) return undefined;
      const run = { ...failures };
      for (const item of items)
        if (!item.ok && failedInRow(run, start + item.index, item.error, maxRun)) return undefined;
      return run;
    };

    // A batch's rows and their encoding come from the data alone (nothing the account decides): the next
    // batch's are made while the worker runs this one, off the replay's critical path.
    const runner = request.runner;
    const prepare = (
      start: number,
      size: number,
    ): { start: number; size: number; rows: Rows; prepared: PreparedColumns | undefined } => {
      const rows = buildRows(start, size);
      const prepared = runner.prepareColumns?.({ keys: rows.keys, columns: rows.columns, size });
      return { start, size, rows, prepared };
    };
    let ahead: ReturnType<typeof prepare> | undefined;
    /** The next batch's rows and encoding, made while the worker runs the one just sent (`sent`). */
    const prepareAhead = async (next: number, sent: Sent): Promise<void> => {
      if (next >= total) return;
      // Made once the request has left: a stream writes when the event loop turns, so rows made before would hold
      // its bytes back and the worker would wait for them (a batch's request is ~120 bytes a record). A runner
      // that sends nothing (in-process) writes within the microtasks of runBatch; setImmediate runs after them.
      if (runner.prepareColumns) await Promise.race([sent.delivered, sent.running.then(noop, noop)]);
      else await new Promise<void>((resolve) => setImmediate(resolve));
      ahead = prepare(next, Math.min(batchSize, total - next));
    };
    type Column = { values: number[]; until: number };
    /** What a sent batch's state requests have done. */
    interface Synced {
      /** Records before the last state request acted on: what ran if the batch fails. */
      index: number;
      /** State requests that only asked for the column a batch sent ahead went without: not capital requests. */
      standIns: number;
      /** Items such a request reported, acted on with the batch's next request or its result, as if reported there. */
      held: ComponentBatchItem[];
    }
    interface Sent {
      start: number;
      size: number;
      running: Promise<ComponentBatchResult>;
      /** The request has left for the worker (ReplayRunner.prepareColumns). */
      delivered: Promise<void>;
      synced: Synced;
    }
    const ordered = (item: ComponentBatchItem): boolean => item.ok && item.output !== null && item.output !== undefined;
    /**
     * Sends records start..start+size-1 with their first column of capital, or with a promise of it: a batch sent
     * ahead, while the replay still acts on the orders of the batch before, gets the column the replay makes after
     * them, at the same point as for a batch sent then (advanceTo(start), column). Until it is given, every record's
     * capital is asked for when read; a request that the column answers (no order earlier in the batch, a record
     * within the column) is a stand-in, answered from it with nothing else done, so the component sees what it
     * would have, and the replay does what it would have done, in the same order (and counts the same requests).
     */
    const send = (start: number, size: number, first: Column | Promise<Column>, run = failures): Sent => {
      const batch = ahead !== undefined && ahead.start === start && ahead.size === size ? ahead : prepare(start, size);
      ahead = undefined;
      const rows = batch.rows;
      const given = first instanceof Promise ? undefined : first;
      let columnEnd = given?.until ?? 0;
      let pending = given === undefined ? (first as Promise<Column>) : undefined;
      let ended = false;
      const synced: Synced = { index: 0, standIns: 0, held: [] };
      let onSent = noop;
      const delivered = new Promise<void>((resolve) => (onSent = resolve));
      const running = runner.runBatch({
        file: request.file,
        className: request.className,
        parameters: request.parameters,
        signal: request.signal ?? null,
        common: rows.common,
        keys: rows.keys,
        columns: rows.columns,
        size,
        ...(batch.prepared ? { prepared: batch.prepared } : {}),
        indexKey: 'bar_index',
        indexStart: start,
        instance: instanceKey,
        // The run of failures this batch may go on with, so that the worker stops where the replay will.
        ...(maxRun > 0
          ? {
              failureRun: {
                limit: maxRun,
                run: run.last === start - 1 ? run.count : 0,
                code: run.code,
                ...(run.line === undefined ? {} : { line: run.line }),
              },
            }
          : {}),
        onSent,
        state: {
          key: 'capital',
          values: given?.values ?? [],
          until: given?.until ?? 0,
          onSync: async ({ index, items }) => {
            if (pending !== undefined) {
              const column0 = await pending;
              pending = undefined;
              // The batch ended meanwhile (its worker stopped): nothing of it is acted on after its result.
              if (ended) throw new Error('the batch ended before its first state request was answered');
              columnEnd = column0.until;
              if (index < column0.until && !items.some(ordered)) {
                synced.standIns++;
                synced.held.push(...items);
                const values = column0.values.length === 1 ? column0.values : column0.values.slice(index);
                return { values, until: column0.until - index };
              }
            }
            if (synced.held.length > 0) {
              items = [...synced.held, ...items];
              synced.held = [];
            }
            // Read past the column without an order since: the component reads capital often; give more ahead.
            if (items.length === 0 && index >= columnEnd) columnLength = Math.min(columnLength * 2, batchSize);
            await act(start, items);
            await advanceTo(start + index);
            synced.index = index;
            const next = await column(start + index, size - index);
            columnEnd = index + next.until;
            return next;
          },
        },
      });
      // Handled here too: a failure while the replay does something else must not count as unhandled; it is seen below.
      void running.then(
        () => (ended = true),
        () => (ended = true),
      );
      return { start, size, running, delivered, synced };
    };
    let sentAhead: Sent | undefined;
    let i = 0;
    while (i < total) {
      const size = Math.min(batchSize, total - i);
      const start = i;
      let sent: Sent;
      if (sentAhead !== undefined && sentAhead.start === start && sentAhead.size === size) sent = sentAhead;
      else {
        await advanceTo(start);
        sent = send(start, size, await column(start, size));
        await prepareAhead(start + size, sent);
      }
      sentAhead = undefined;
      const result = await sent.running;
      printed.add(result);
      report.batches++;
      report.syncs += (result.syncs ?? 0) - sent.synced.standIns;
      if (result.className) report.component.className = result.className;
      if (result.entryPoint) report.component.entryPoint = result.entryPoint;
      if (!result.ok) {
        const e = result.error ?? { code: 'COMPONENT_ERROR', message: 'the component failed without a message' };
        // Records before the last state request ran and their orders were submitted.
        report.processed += sent.synced.index;
        const at = start + sent.synced.index;
        report.fatal = {
          index: at,
          time: iso(times[at] as number),
          code: e.code,
          message: e.message,
          ...(e.line === undefined ? {} : { line: e.line }),
        };
        break;
      }
      if (componentLimits.value === undefined && result.metadata)
        // Frozen once: every order's command keeps this copy instead of cloning it (and the checks remember it).
        componentLimits.value = frozenCopy(result.metadata['risk_limits']);
      const held = sent.synced.held;
      const items = held.length > 0 ? [...held, ...result.items] : result.items;
      const done = Math.max(0, Math.min(result.done, size));
      // Orders to act on: the next batch goes to the worker now and runs while they are submitted (on a second
      // core). Only when there are enough of them: a batch sent ahead asks for capital lazily on every record,
      // which costs the worker ~0.2 µs a record, more than a few orders take to submit.
      const next = start + size;
      let column0: { resolve: (c: Column) => void; reject: (e: unknown) => void } | undefined;
      if (done === size && next < total) {
        let orders = 0;
        for (const item of items) if (ordered(item)) orders++;
        // The run of failures the batch's items leave (not acted on yet): none ahead of a batch that stops the replay.
        const run =
          request.sendAhead !== false && orders * ORDERS_AHEAD_FACTOR >= size ? failuresAfter(items, start) : undefined;
        if (run !== undefined) {
          const nextColumn = new Promise<Column>((resolve, reject) => (column0 = { resolve, reject }));
          void nextColumn.catch(() => undefined);
          sentAhead = send(next, Math.min(batchSize, total - next), nextColumn, run);
          // The orders are acted on now, not once the request has left: the worker has their submits' time to take it
          // in and run it (the stream writes at the act loop's turns), and waiting left the replay idle for as long as
          // a busy machine took to schedule the worker. The batch after is prepared once the request has left,
          // meanwhile; `send` prepares a batch itself when that is not done by then (or failed: it fails there).
          void prepareAhead(next + Math.min(batchSize, total - next), sentAhead).catch(noop);
        }
      }
      try {
        await act(start, items);
        if (stopAt !== undefined) {
          // Acted on up to the record that made the run too long (maybe at a state request of this batch).
          report.processed += stopAt - start + 1;
          await advanceTo(stopAt);
          report.fatal = repeatedFailure(failures, stopAt, (r) => iso(times[r] as number));
          break;
        }
        report.processed += done;
        if (done === 0) {
          report.fatal = {
            index: i,
            time: iso(times[i] as number),
            code: 'PROTOCOL_ERROR',
            message: 'the worker ran no record of the batch',
          };
          break;
        }
        // The last records of the batch are stepped too (resting orders fill against them).
        await advanceTo(start + done - 1);
        i += done;
        progress(false);
        if (column0 !== undefined && sentAhead !== undefined) {
          // What the loop does before sending a batch, for the batch already sent.
          await advanceTo(i);
          column0.resolve(await column(i, sentAhead.size));
        }
      } catch (e) {
        column0?.reject(e);
        throw e;
      }
    }
    progress(true);
    report.ok = report.fatal === null;
  } finally {
    // The data ended (or the replay stopped): a parent still working is cancelled with its children.
    if (parents) {
      for (const p of parents.list())
        if (p.state === 'WORKING') await parents.cancel(p.parentId, 'the replay data ended').catch(() => undefined);
      parents.dispose();
    }
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
    if (report.slippage.orders > 0) {
      report.slippage.meanUnits = round(slippageSum / report.slippage.orders, 4);
      report.slippage.meanBps = round(slippageBpsSum / report.slippage.orders, 4);
    }
    report.slippage.cost = round(slippageCost, 8);
    report.orders.noOrder = Math.max(0, report.processed - answered);
    curve.advance(Math.max(report.processed - 1, -1));
    report.curve = {
      currency: instrument?.quoteCurrency ?? '',
      // A percentage only when the curve's currency is the account's (USDT and USDC count as dollars, as the venue counts them).
      drawdown: {
        ...curve.drawdown(),
        ...(instrument !== undefined && sameMoney(instrument.quoteCurrency, report.pnl.currency)
          ? {}
          : { maxPercent: null }),
      },
      turnover: round(curve.turnover, 8),
      final: round(curve.value(), 8),
    };
    if (fillsWriter) {
      // A replay that stopped early writes its fills too: they are what happened up to the stop.
      try {
        fillsWriter.close();
        report.fillsFiles = {
          ...(request.fillsCsv === undefined ? {} : { csv: request.fillsCsv }),
          ...(request.fillsParquet === undefined ? {} : { parquet: request.fillsParquet }),
          rows: fillsWriter.count,
        };
      } catch (e) {
        fillsWriter.abandon();
        throw e;
      }
    }
    report.elapsedMs = round(monotonicMs() - started, 3);
    report.ticksPerSecond = report.elapsedMs > 0 ? Math.round((report.processed / report.elapsedMs) * 1000) : 0;
  }
  return report;

  /** `line`: the component's `return` that gave `output`, where the harness could tell it (said with each problem). */
  async function submitOne(k: number, output: unknown, line?: number): Promise<void> {
    report.orders.produced++;
    const parent = splitParent(output);
    if ('error' in parent) {
      report.orders.invalid++;
      addError(k, 'INVALID_ORDER', `${parent.error.path}: ${parent.error.message}`, line);
      return;
    }
    if (parent.parent) {
      if (instrumentKey(parent.parent.symbol) !== instrumentKey(symbol)) {
        report.orders.invalid++;
        addError(
          k,
          'SYMBOL_NOT_IN_DATA',
          `the parent order is for ${parent.parent.symbol}, but the replay data records ${symbol} only`,
          line,
        );
        return;
      }
      if (!parents) {
        report.orders.invalid++;
        addError(k, 'PARENT_UNAVAILABLE', "this replay's engine has no audit log for a parent order's records");
        return;
      }
      report.parents.started++;
      await parents.start(parent.parent, venue);
      return;
    }
    const normalized = normalizeComponentOrder(output, { now: clock.now() });
    if (!normalized.ok) {
      report.orders.invalid++;
      addError(
        k,
        'INVALID_ORDER',
        normalized.issues.map((x) => (x.path === '' ? x.message : `${x.path}: ${x.message}`)).join('; '),
        line,
      );
      return;
    }
    if (instrumentKey(normalized.order.symbol) !== instrumentKey(symbol)) {
      report.orders.invalid++;
      addError(
        k,
        'SYMBOL_NOT_IN_DATA',
        `the order is for ${normalized.order.symbol}, but the replay data records ${symbol} only`,
        line,
      );
      return;
    }
    const fitted = fitToInstrument(normalized.order, instrument as InstrumentRules, []);
    if ('error' in fitted) {
      report.orders.invalid++;
      addError(k, 'INVALID_ORDER', fitted.error, line);
      return;
    }
    const cmd = submitOrderCommand(fitted.order, {
      venue,
      source: 'replay',
      clock,
      componentLimits: componentLimits.value,
      component: request.file,
    });
    decisions.set(cmd.clientOrderId, {
      index: k,
      side: cmd.order.side,
      bid: feed.bid[k] as number,
      ask: feed.ask[k] as number,
      quantity: cmd.order.quantity,
    });
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
