/**
 * A replay over candles gives a resting stop the bar's path, not only its close (README, "Fills of resting
 * limit orders: queue position", the replay over candles): a sell stop whose bar dips through it and closes
 * above fills at the stop on that bar; the bar the order was decided on is not part of its market (the
 * decision is at that bar's close). Real python3, the real engine and paper venue.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { replayComponent } from '../../../src/usecases/replay';
import { ReplayRecorder } from '../../../src/usecases/replayChart';
import { PythonWorker } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

describe('replay: a stop over candles triggers where the bar reaches it', function () {
  this.timeout(60_000);
  let dir!: string;
  let worker!: PythonWorker;
  let file!: string;
  const write = componentFolder('replay-stop', 30_000, {
    options: (o) => void (worker = new PythonWorker(o)),
    dir: (d) => void (dir = d),
  });
  after(async () => worker.dispose());
  beforeEach(() => {
    // One GTC sell stop at 1.0800 on the first bar, nothing after.
    file = write(
      'core/orders/stop_once.py',
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class StopOnce(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        if market_data['bar_index'] != 0:",
        '            return None',
        "        return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'stop', 'stop_price': 1.08,",
        "                'quantity': 1000, 'time_in_force': 'GTC'}",
        '',
      ].join('\n'),
    );
  });

  /** [open, high, low, close] per bar, bar 0 the decision bar. */
  const replay = async (rows: Array<[number, number, number, number]>, component = file) => {
    const times = rows.map((_, i) => T0 + i * 60_000);
    const feed = ReplayFeed.fromColumns(
      {
        time: times,
        open: rows.map((r) => r[0]),
        high: rows.map((r) => r[1]),
        low: rows.map((r) => r[2]),
        close: rows.map((r) => r[3]),
        volume: rows.map(() => 1000),
      },
      'bars',
      { symbol: 'EUR_USD' },
    );
    const recorder = new ReplayRecorder(feed);
    const report = await replayComponent({
      file: component,
      data: feed,
      runner: worker,
      stateDir: join(dir, 'state'),
      engineFactory: recorder.engineFactory(),
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    return { report, fills: recorder.result(report.processed).fills };
  };

  it('fills at the stop on the next bar whose low crosses it, though that bar closes above; not on the decision bar', async () => {
    const { report, fills } = await replay([
      [1.081, 1.0812, 1.0795, 1.081], // the decision bar: its own low crossed 1.0800 before its close
      [1.081, 1.0815, 1.079, 1.0805], // high first (nearer the open), then the low: the bid passes 1.0800
      [1.0805, 1.0805, 1.0805, 1.0805],
    ]);
    assert.equal(report.orders.sent, 1);
    assert.equal(report.orders.filled, 1);
    assert.equal(report.orders.open, 0);
    assert.deepEqual(
      fills.map((f) => [f.index, f.price, f.quantity, f.liquidity]),
      [[1, 1.08, 1000, 'taker']],
    );
  });

  it('fills at the open when the next bar gaps below the stop', async () => {
    const { fills } = await replay([
      [1.081, 1.0812, 1.0805, 1.081],
      [1.0795, 1.0815, 1.079, 1.0805], // opens 5 pips below: its bid is 1.07944
      [1.0805, 1.0805, 1.0805, 1.0805],
    ]);
    assert.deepEqual(
      fills.map((f) => [f.index, f.price, f.liquidity]),
      [[1, 1.07944, 'taker']],
    );
  });

  for (const [first, bar, exit] of [
    ['high', [1.085, 1.0865, 1.0835, 1.085], [2, 'sell', 1.086, 'maker']],
    ['low', [1.085, 1.0865, 1.0837, 1.085], [2, 'sell', 1.084, 'taker']],
  ] as const)
    it(`a bracket whose exit bar reaches both exits fills the one the path reaches first (the ${first}) and cancels the other`, async () => {
      // Bought at bar 0's close (ask 1.08506); stop-loss 1.0840, take-profit 1.0860. Bar 2 reaches both: the
      // engine's one-cancels-other acts between records, so within the bar the first exit cancels the other.
      const bracket = write(
        'core/orders/bracket_once.py',
        [
          'from core.orders.order_base import OrderBase',
          '',
          'class BracketOnce(OrderBase):',
          '    def generate_order(self, market_data, signal=None):',
          "        if market_data['bar_index'] != 0:",
          '            return None',
          "        return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000,",
          "                'stop_loss': 1.084, 'take_profit': 1.086}",
          '',
        ].join('\n'),
      );
      const flat: [number, number, number, number] = [1.085, 1.085, 1.085, 1.085];
      const { report, fills } = await replay([flat, flat, [...bar], flat, flat], bracket);
      assert.deepEqual(report.parents, { started: 1, children: 3, done: 1, cancelled: 0, failed: 0 });
      assert.equal(report.orders.filled, 2, 'the entry and one exit');
      assert.equal(report.orders.cancelled, 1, 'the other exit');
      assert.deepEqual(report.positions, {}, 'flat again, not reversed');
      assert.deepEqual(
        fills.map((f) => [f.index, f.side, f.price, f.liquidity]),
        [[0, 'buy', 1.08506, 'taker'], [...exit]],
      );
    });
});
