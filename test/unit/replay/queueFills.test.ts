/**
 * Replay over candles feeds each bar's prints to the paper venue (PaperBroker.recordCandle), so a resting
 * limit fills by the volume that trades at or through its price after the size ahead of it, not only when
 * the quote at the close reaches it (README, "Fills of resting limit orders: queue position"). Real python3.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { replayComponent } from '../../../src/usecases/replay';
import { ReplayRecorder } from '../../../src/usecases/replayChart';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

describe('replay: resting limits fill by the bars that trade at their price', function () {
  this.timeout(60_000);
  let dir: string;
  let worker: PythonWorker;
  let file: string;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 30_000,
    });
  });
  after(async () => worker.dispose());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-queue-'));
    mkdirSync(join(dir, 'core/orders'), { recursive: true });
    file = join(dir, 'core/orders/rest_once.py');
    // One GTC buy limit at 1.0990 on the first bar, nothing after.
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class RestOnce(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        if market_data['bar_index'] != 0:",
        '            return None',
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': 1.099,",
        "                'quantity': 1000, 'time_in_force': 'GTC'}",
        '',
      ].join('\n'),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Bars after the first: [open, high, low, close, volume]. */
  const replay = async (bars: Array<[number, number, number, number, number]>) => {
    const rows: Array<[number, number, number, number, number]> = [[1.1, 1.1, 1.1, 1.1, 0], ...bars];
    const times = rows.map((_, i) => T0 + i * 60_000);
    const feed = ReplayFeed.fromColumns(
      {
        time: times,
        open: rows.map((r) => r[0]),
        high: rows.map((r) => r[1]),
        low: rows.map((r) => r[2]),
        close: rows.map((r) => r[3]),
        volume: rows.map((r) => r[4]),
      },
      'bars',
      { symbol: 'EUR_USD' },
    );
    const recorder = new ReplayRecorder(feed);
    const report = await replayComponent({
      file,
      data: feed,
      runner: worker,
      stateDir: join(dir, 'state'),
      engineFactory: recorder.engineFactory(),
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.orders.sent, 1);
    return { report, fills: recorder.result(report.processed).fills };
  };

  it('a bar whose low trades through the limit fills it in full at the limit, as a maker, though its close is far above', async () => {
    const { report, fills } = await replay([
      [1.1, 1.1005, 1.0995, 1.1, 1_000_000], // does not reach 1.0990
      [1.1, 1.1, 1.0985, 1.1, 50], // through it, and back up by the close
      [1.1, 1.1, 1.1, 1.1, 0],
    ]);
    assert.equal(report.orders.filled, 1);
    assert.equal(report.orders.open, 0);
    assert.deepEqual(
      fills.map((f) => [f.index, f.price, f.quantity, f.liquidity]),
      [[2, 1.099, 1000, 'maker']],
    );
  });

  it('a bar that only touches the limit fills nothing while the size ahead is not traded, and fills once enough trades there', async () => {
    const small = await replay([
      [1.1, 1.1, 1.099, 1.1, 4],
      [1.1, 1.1, 1.1, 1.1, 0],
    ]);
    assert.equal(small.report.orders.filled, 0);
    assert.equal(small.report.orders.open, 1);
    assert.deepEqual(small.fills, []);

    const heavy = await replay([
      [1.1, 1.1, 1.099, 1.1, 400_000_000],
      [1.1, 1.1, 1.1, 1.1, 0],
    ]);
    assert.equal(heavy.report.orders.filled, 1);
    assert.deepEqual(
      heavy.fills.map((f) => [f.index, f.price, f.liquidity]),
      [[1, 1.099, 'maker']],
    );
  });
});
