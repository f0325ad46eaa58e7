/**
 * What the editor's replay adds around replayComponent, with a real python3: the recorder's charts and
 * tables agree with the report, and a cancel stops the worker mid-batch and still ends with a report.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { replayComponent } from '../../../src/usecases/replay';
import { cancellableRunner, observedRunner, REPLAY_CANCELLED } from '../../../src/usecases/replayCancel';
import { ReplayRecorder } from '../../../src/usecases/replayChart';
import {
  defaultInterpreterCandidates,
  resolveInterpreter,
  type ResolvedInterpreter,
} from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { ReplayViewSchema } from '../../../src/views/replayProtocol';
import { describeReplay, replayLimitsText, replayViewOf } from '../../../src/views/replayView';
import { DEFAULT_RISK_LIMITS } from '../../../src/execution/risk';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';

const ROOT = join(__dirname, '../../../..');
const SMA = join(ROOT, 'examples/workspace/core/orders/execution_algos/sma_cross.py');
const SAMPLE = join(ROOT, 'examples/data/eurusd_m1_sample.csv');
const TWAP = join(ROOT, 'examples/workspace/core/orders/execution_algos/twap_buy.py');

describe('replay in the editor: panel data and cancel', function () {
  this.timeout(60_000);
  let dir: string;
  let interpreter: ResolvedInterpreter;
  before(async () => (interpreter = await resolveInterpreter(defaultInterpreterCandidates())));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-panel-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the recorder samples the P&L, the price and the fills in buckets, and its figures agree with the report', async () => {
    const worker = new PythonWorker({ interpreter, timeoutMs: 30_000 });
    try {
      const feed = await ReplayFeed.load(SAMPLE, { symbol: 'EUR_USD' });
      const recorder = new ReplayRecorder(feed, { maxPoints: 100, maxRows: 5 });
      const report = await replayComponent({
        file: SMA,
        data: feed,
        runner: worker,
        stateDir: join(dir, 'state'),
        parameters: { period: 20 },
        engineFactory: recorder.engineFactory(),
      });
      assert.equal(report.ok, true, JSON.stringify(report.fatal));
      const chart = recorder.result(report.processed);
      assert.equal(chart.bucket, 20);
      assert.equal(chart.price.kind, 'candles');
      const bars = chart.price.kind === 'candles' ? chart.price.bars : [];
      assert.equal(bars.length, 100);
      assert.equal(bars[0]?.open, feed.candles?.open[0]);
      assert.equal(bars[99]?.close, feed.candles?.close[1999]);
      assert.equal(bars[0]?.high, Math.max(...Array.from(feed.candles?.high.subarray(0, 20) ?? [])));
      assert.equal(chart.pnl.length, 100);
      // Strictly increasing times, in seconds.
      for (let i = 1; i < bars.length; i++) assert.ok((bars[i]?.time ?? 0) > (bars[i - 1]?.time ?? 0));
      assert.equal(bars[1]?.time, (feed.times[20] ?? 0) / 1000);
      // The last point is the report's final P&L; no sampled fall exceeds the report's max drawdown.
      assert.equal(chart.pnl[99]?.value, report.curve.final);
      let peak = -Infinity;
      let fall = 0;
      for (const p of chart.pnl) {
        peak = Math.max(peak, p.value);
        fall = Math.max(fall, peak - p.value);
      }
      assert.ok(fall <= report.curve.drawdown.max + 1e-6, `${fall} > ${report.curve.drawdown.max}`);
      assert.equal(chart.fillsTotal, report.fills);
      assert.equal(chart.ordersTotal, report.orders.produced);
      assert.equal(chart.orders.length, 5);
      assert.equal(chart.fills.length, 5);
      assert.deepEqual(
        chart.orders.map((o) => [o.state, o.type, o.quantity, o.filledQuantity]),
        Array.from({ length: 5 }, () => ['FILLED', 'market', 10000, 10000]),
      );
      assert.deepEqual(
        chart.orders.map((o) => o.side),
        ['buy', 'sell', 'buy', 'sell', 'buy'],
      );
      assert.equal(chart.fills[0]?.clientOrderId, chart.orders[0]?.clientOrderId);
      assert.equal(chart.fills[0]?.price, chart.orders[0]?.averagePrice);
      const marked = chart.markers.reduce((s, m) => s + m.fills, 0);
      assert.equal(marked, report.fills);
      assert.equal(
        chart.markers.reduce((s, m) => s + m.quantity, 0),
        report.fills * 10000,
      );

      // The panel's view: what the webview accepts (its zod schema), the report's figures, equity = cash + P&L.
      const view = replayViewOf(report, chart, {
        ranAt: 0,
        dataFile: SAMPLE,
        parameters: { period: 20 },
        exports: { csv: false, parquet: false },
      });
      assert.deepEqual(ReplayViewSchema.parse(view), view);
      assert.equal(view.status, 'COMPLETED');
      assert.equal(view.headline, 'SmaCross over eurusd_m1_sample.csv: 2,000 candles of EUR_USD');
      assert.match(view.summary, /^Ran all 2,000 candles in [0-9.]+ s \([0-9,]+\/s\): \d+ orders, \d+ fills\.$/);
      assert.equal(view.figures.maxDrawdown, report.curve.drawdown.max);
      // Every candle the component answered with None is counted for the panel, beside the orders it produced.
      assert.ok(report.orders.noOrder > 0);
      assert.equal(view.figures.orders.noOrder, report.orders.noOrder);
      assert.equal(report.orders.noOrder + report.orders.produced, 2000);
      assert.equal(view.figures.realized['USD'], report.pnl.realized['USD']);
      assert.equal(view.chart.equity[99]?.value, 100_000 + report.curve.final);
      assert.match(view.chart.equityLabel, /^Equity, USD \(starting cash 100,000\.00 \+ P&L after commission/);
      assert.match(
        describeReplay(view),
        new RegExp(
          `^Replay of SmaCross: 2,000 candles of EUR_USD, ${report.orders.produced} orders, ${report.fills} fills; P&L -?[0-9.,]+ USD, max drawdown [0-9.,]+ USD\\.$`,
        ),
      );
    } finally {
      await worker.dispose();
    }
  });

  it('runs under the limits it is given (the editor passes its settings), and the panel says which and counts parents', async () => {
    const worker = new PythonWorker({ interpreter, timeoutMs: 30_000 });
    try {
      const feed = await ReplayFeed.load(SAMPLE, { symbol: 'EUR_USD' });
      const recorder = new ReplayRecorder(feed);
      const limits = { ...DEFAULT_RISK_LIMITS, maxOrderQuantity: 5000 };
      const { maxOrdersPerSecond: _rate, orderBurst: _burst, ...replayable } = limits;
      const report = await replayComponent({
        file: SMA,
        data: feed,
        runner: worker,
        stateDir: join(dir, 'state'),
        parameters: { period: 20 },
        engineFactory: recorder.engineFactory(),
        limits: replayable,
        circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER, maxConsecutiveFailures: 1_000_000 },
      });
      // The component orders 10,000 a time: every order is denied by the settings' 5,000, none by a default.
      assert.ok(report.orders.produced > 0);
      assert.equal(report.orders.denied, report.orders.produced);
      assert.deepEqual(Object.keys(report.orders.deniedByCode), ['QUANTITY_EXCEEDS_MAXIMUM']);
      const text = replayLimitsText(replayable, { ...DEFAULT_CIRCUIT_BREAKER, maxDailyLoss: 2500 });
      assert.equal(
        text,
        "from your settings (sptrader.risk, sptrader.circuitBreaker): order ≤ 5,000 units, order value ≤ 1,000,000.00, position ≤ 2,000,000, price collar 500 bps, ≤ 200 open orders; no submit-rate limit (simulated time); the circuit breaker halts after 5 failures in a row or a day's loss of 2,500.00.",
      );
      const view = replayViewOf(report, recorder.result(report.processed), {
        ranAt: 0,
        dataFile: SAMPLE,
        parameters: { period: 20 },
        exports: { csv: false, parquet: false },
        limits: text,
      });
      assert.deepEqual(ReplayViewSchema.parse(view), view);
      assert.equal(view.limits, text);
      assert.deepEqual(view.figures.parents, { started: 0, children: 0, done: 0, cancelled: 0, failed: 0 });
      // A panel kept by an older version (no limits, no parents) still opens.
      const { limits: _l, ...older } = view;
      const { parents: _p, ...olderFigures } = view.figures;
      assert.ok(ReplayViewSchema.safeParse({ ...older, figures: olderFigures }).success);
    } finally {
      await worker.dispose();
    }
  });

  it('counts the parent orders a component returned (a TWAP), for the panel', async () => {
    const worker = new PythonWorker({ interpreter, timeoutMs: 30_000 });
    try {
      const data = join(dir, 'eurusd_30.csv');
      writeFileSync(data, `${readFileSync(SAMPLE, 'utf8').split('\n').slice(0, 31).join('\n')}\n`);
      const feed = await ReplayFeed.load(data, { symbol: 'EUR_USD' });
      const recorder = new ReplayRecorder(feed);
      const report = await replayComponent({
        file: TWAP,
        data: feed,
        runner: worker,
        stateDir: join(dir, 'state'),
        parameters: { quantity: 2000, duration_s: 120, slices: 2 },
        engineFactory: recorder.engineFactory(),
      });
      assert.equal(report.ok, true, JSON.stringify(report.fatal));
      assert.ok(report.parents.started > 0, JSON.stringify(report.parents));
      assert.ok(report.parents.children >= report.parents.started, JSON.stringify(report.parents));
      const view = replayViewOf(report, recorder.result(report.processed), {
        ranAt: 0,
        dataFile: data,
        parameters: {},
        exports: { csv: false, parquet: false },
      });
      assert.deepEqual(view.figures.parents, report.parents);
      assert.deepEqual(ReplayViewSchema.parse(view), view);
    } finally {
      await worker.dispose();
    }
  });

  it('a cancel mid-batch kills the Python worker and ends with a report of where it stopped, fills and audit complete', async () => {
    mkdirSync(join(dir, 'core/orders'), { recursive: true });
    const file = join(dir, 'core/orders/every_bar.py');
    // Orders on every record and reads capital each time: after an order the replay answers a state request
    // per record, mid-batch (python/sptrader_harness/lazystate.py), which is where this test cancels.
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class EveryBar(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        if market_data['capital'] <= 0:",
        '            return None',
        "        side = 'buy' if market_data['bar_index'] % 2 == 0 else 'sell'",
        "        return {'symbol': 'EUR_USD', 'side': side, 'order_type': 'market', 'quantity': 1000}",
        '',
      ].join('\n'),
    );
    const worker = new PythonWorker({ interpreter, timeoutMs: 30_000 });
    const controller = new AbortController();
    let pid: number | undefined;
    // observedRunner says which record each state request is at: cancel at the 50th.
    const reached: number[] = [];
    const watching = observedRunner(worker, (index) => {
      pid ??= worker.pidFor(file);
      reached.push(index);
      if (index >= 50) controller.abort();
    });
    const fillsCsv = join(dir, 'fills.csv');
    try {
      const report = await replayComponent({
        file,
        data: SAMPLE,
        runner: cancellableRunner(watching, () => worker.stop(), controller.signal),
        stateDir: join(dir, 'state'),
        batchSize: 500,
        fillsCsv,
      });
      assert.equal(report.ok, false);
      assert.equal(report.fatal?.code, REPLAY_CANCELLED);
      assert.equal(report.processed, 50);
      assert.equal(report.fatal?.index, 50);
      assert.equal(report.orders.sent, 50);
      assert.equal(report.fills, 50);
      // One state request per record after the first order (the component reads capital each time).
      assert.deepEqual(
        reached,
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      // The worker's process is gone, not left to finish the batch.
      assert.ok(pid !== undefined);
      assert.equal(worker.pidFor(file), undefined);
      assert.throws(() => process.kill(pid as number, 0), /ESRCH/);
      assert.ok(existsSync(fillsCsv));
      assert.equal(readFileSync(fillsCsv, 'utf8').trim().split('\n').length, 1 + 50);
      const feed = await ReplayFeed.load(SAMPLE, { symbol: 'EUR_USD' });
      const view = replayViewOf(report, new ReplayRecorder(feed).result(report.processed), {
        ranAt: 0,
        dataFile: SAMPLE,
        parameters: {},
        exports: { csv: true, parquet: false },
      });
      assert.equal(view.status, 'CANCELLED');
      assert.match(
        view.summary,
        /^Cancelled after 50 of 2,000 candles \(2\.5%\), at 2024-03-04T00:50:00\.000Z: 50 orders, 50 fills\./,
      );
      assert.match(describeReplay(view), /^Replay of every_bar\.py cancelled after 50 of 2,000 candles \(2\.5%\)/);
      const verified = await verifyAuditDir(report.auditDir as string);
      assert.equal(verified.verified, true);
      // A cancelled signal answers the next batch at once, without a worker.
      const again = await cancellableRunner(watching, () => worker.stop(), controller.signal).runBatch({
        file,
        rows: [[]],
        keys: [],
        common: {},
      });
      assert.equal(again.error?.code, REPLAY_CANCELLED);
    } finally {
      await worker.dispose();
    }
  });
});
