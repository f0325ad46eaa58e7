/**
 * Parents in replay (issue 15): a component that returns a parent order during a replay has it carried
 * out as children on the replay's clock and quotes (the same ParentOrders as `sptrader algo` and the
 * editor), each child through the replay's engine and audit log, its fills in the report; a parent still
 * working when the data ends is cancelled. Batching does not change what happens. Real Python, real data
 * in memory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { tailAudit } from '../../../src/execution/audit/auditLog';
import { replayComponent, type ReplayReport } from '../../../src/usecases/replay';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { formatReplay } from '../../../src/cli/replay';

const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

/** One-minute candles whose close follows `path` (in pips from 1.08500), with a one-pip range. */
function candles(path: number[]): ReplayFeed {
  const time = path.map((_, i) => T0 + i * 60_000);
  const close = path.map((p) => Number((1.085 + p / 10_000).toFixed(5)));
  const open = close.map((c, i) => (i === 0 ? c : (close[i - 1] as number)));
  const high = close.map((c, i) => Number((Math.max(c, open[i] as number) + 0.00001).toFixed(5)));
  const low = close.map((c, i) => Number((Math.min(c, open[i] as number) - 0.00001).toFixed(5)));
  return ReplayFeed.fromColumns({ time, open, high, low, close, volume: time.map(() => 1000) }, 'mem', {
    symbol: 'EUR_USD',
  });
}

/** Returns `self.config['orders'][n]` at the record whose bar_index is its key (JSON keys are strings). */
const COMPONENT = `from core.orders.order_base import OrderBase

class Scripted(OrderBase):
    def generate_order(self, market_data, signal=None):
        order = self.config['orders'].get(str(market_data['bar_index']))
        if order is None:
            return None
        if order.get('algo') == 'bracket':
            order = dict(order, stop_loss=round(market_data['bid'] - 0.0010, 5), take_profit=round(market_data['ask'] + 0.0010, 5))
        return order
`;

describe('parents in replay', function () {
  this.timeout(120_000);
  let dir: string;
  let worker: PythonWorker;
  let file: string;
  let runs = 0;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 60_000,
    });
    dir = mkdtempSync(join(tmpdir(), 'sptrader-parents-replay-'));
    file = join(dir, 'core', 'orders', 'scripted.py');
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    writeFileSync(file, COMPONENT);
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const replay = (orders: Record<string, unknown>, path: number[], batchSize = 1000): Promise<ReplayReport> =>
    replayComponent({
      file,
      data: candles(path),
      runner: worker,
      parameters: { orders },
      batchSize,
      stateDir: join(dir, `run-${++runs}`),
      startingCash: 100_000,
    });
  const auditTypes = async (r: ReplayReport): Promise<string[]> =>
    (await tailAudit(r.auditDir as string, 10_000)).map((x) => x.type);
  const flat = (n: number): number[] => Array.from({ length: n }, () => 0);

  it('a TWAP sends its slices on the replay clock, one every duration/slices, each filled and in the report', async () => {
    const twap = { algo: 'twap', symbol: 'EUR_USD', side: 'buy', quantity: 6000, duration_s: 600, slices: 6 };
    const r = await replay({ '5': twap }, flat(60));
    assert.equal(r.ok, true, JSON.stringify(r.fatal ?? r.errors));
    assert.deepEqual(r.parents, { started: 1, children: 6, done: 1, cancelled: 0, failed: 0 });
    assert.equal(r.orders.produced, 1);
    assert.equal(r.orders.sent, 6);
    assert.equal(r.orders.filled, 6);
    assert.equal(r.fills, 6);
    assert.equal(r.positions['EUR_USD'], 6000);
    // The summary says the one order produced was a parent and its six children are what was sent; nothing was
    // realized (bought only): "0.00 USD", as every other figure has its currency.
    const text = formatReplay(r);
    assert.match(
      text,
      /orders {5}1 produced \(59 records with no order: the component returned None\): 1 parent order, whose children are counted from here on, 6 sent, /,
      text,
    );
    assert.match(text, /P&L {8}realized 0\.00 USD, unrealized /, text);
    const types = await auditTypes(r);
    assert.equal(types.filter((t) => t === 'ParentStarted').length, 1);
    assert.equal(types.filter((t) => t === 'ParentChild').length, 6);
    assert.equal(types.filter((t) => t === 'ParentEnded').length, 1);
    // The slices are ten minutes' worth of records apart: 600 s / 6 = one slice every 100 s of replay time.
    const children = (await tailAudit(r.auditDir as string, 10_000)).filter((x) => x.type === 'ParentChild');
    const at = children.map((x) => (x.data as { at: number }).at - T0);
    assert.deepEqual(
      at.map((ms) => Math.round(ms / 60_000)),
      [5, 7, 9, 10, 12, 14],
      `slices at ${at.join(', ')} ms`,
    );
    // Batching does not change what happens.
    const one = await replay({ '5': twap }, flat(60), 1);
    assert.deepEqual([one.parents, one.orders, one.fills, one.positions], [r.parents, r.orders, r.fills, r.positions]);
  });

  it('a bracket: the take-profit fills when the market reaches it and the stop is cancelled (OCO)', async () => {
    const bracket = { algo: 'bracket', symbol: 'EUR_USD', side: 'buy', quantity: 1000 };
    // Flat, then up 15 pips: the take-profit (the ask + 10 pips at entry) fills.
    const path = [...flat(10), ...Array.from({ length: 15 }, (_, i) => i + 1), ...Array.from({ length: 10 }, () => 15)];
    const r = await replay({ '2': bracket }, path);
    assert.equal(r.ok, true, JSON.stringify(r.fatal ?? r.errors));
    assert.deepEqual(r.parents, { started: 1, children: 3, done: 1, cancelled: 0, failed: 0 });
    assert.equal(r.orders.cancelled, 1, 'the stop-loss, cancelled by the take-profit');
    assert.equal(r.orders.filled, 2, 'the entry and the take-profit');
    assert.equal(r.positions['EUR_USD'] ?? 0, 0, 'flat again');
    assert.ok(r.pnl.realized['USD']! > 0, `a profit: ${JSON.stringify(r.pnl.realized)}`);
  });

  it('a trailing stop follows the bid up and sells when it falls back by the trail', async () => {
    const buy = { symbol: 'EUR_USD', side: 'buy', quantity: 1000, order_type: 'market', time_in_force: 'IOC' };
    const trail = { algo: 'trailing_stop', symbol: 'EUR_USD', side: 'sell', quantity: 1000, trail_offset: 0.0005 };
    // Up 10 pips, then down 10: the stop (watermark − 5 pips) is hit on the way down.
    const path = [
      ...flat(5),
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      ...Array.from({ length: 10 }, (_, i) => 9 - i),
    ];
    const r = await replay({ '1': buy, '3': trail }, path);
    assert.equal(r.ok, true, JSON.stringify(r.fatal ?? r.errors));
    assert.deepEqual(r.parents, { started: 1, children: 1, done: 1, cancelled: 0, failed: 0 });
    assert.equal(r.positions['EUR_USD'] ?? 0, 0, 'the stop sold the long');
    const records = await tailAudit(r.auditDir as string, 10_000);
    const marks = records
      .filter((x) => x.type === 'ParentTrail')
      .map((x) => (x.data as { watermark: number }).watermark);
    assert.ok(marks.length >= 5, `the watermark moved up with the bid: ${marks.join(', ')}`);
    assert.ok(
      marks.every((m, i) => i === 0 || m > (marks[i - 1] as number)),
      'only ever up',
    );
    const trigger = records.find((x) => x.type === 'ParentChild');
    const at = ((trigger?.data as { at: number }).at - T0) / 60_000;
    assert.ok(at >= 16 && at <= 21, `triggered on the way down (record ${at})`);
  });

  it('a parent still working when the data ends is cancelled with its children', async () => {
    const twap = { algo: 'twap', symbol: 'EUR_USD', side: 'buy', quantity: 6000, duration_s: 3600, slices: 6 };
    const r = await replay({ '0': twap }, flat(30));
    assert.equal(r.ok, true);
    // 3600 s / 6: a slice every ten records; thirty records send three.
    assert.deepEqual(r.parents, { started: 1, children: 3, done: 0, cancelled: 1, failed: 0 });
    const ended = (await tailAudit(r.auditDir as string, 10_000)).find((x) => x.type === 'ParentEnded');
    assert.deepEqual(
      [(ended?.data as { state: string }).state, (ended?.data as { reason: string }).reason],
      ['CANCELLED', 'the replay data ended'],
    );
  });

  it('an invalid parent or one for another symbol is an error of its record, and nothing is sent', async () => {
    const r = await replay(
      {
        '1': {
          algo: 'iceberg',
          symbol: 'EUR_USD',
          side: 'buy',
          quantity: 1000,
          limit_price: 1.08,
          display_quantity: 5000,
        },
        '2': { algo: 'twap', symbol: 'GBP_USD', side: 'buy', quantity: 1000, duration_s: 60, slices: 2 },
      },
      flat(5),
    );
    assert.deepEqual(
      r.errors.map((e) => [e.index, e.code]),
      [
        [1, 'INVALID_ORDER'],
        [2, 'SYMBOL_NOT_IN_DATA'],
      ],
    );
    assert.match(r.errors[0]?.message ?? '', /display_quantity: display_quantity must not exceed quantity/);
    assert.equal(r.orders.sent, 0);
    assert.equal(r.parents.started, 0);
  });
});
