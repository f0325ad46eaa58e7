/** Replay end to end with a real python3: the example component over the bundled CSV, errors, run_batch. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { verifyAuditDir } from '../../../src/execution/audit/auditLog';
import {
  isoFormatter,
  prepareReplayStateDir,
  REPLAY_MARKER,
  replayComponent,
  replayLimits,
  ReplayStateDirError,
} from '../../../src/usecases/replay';
import { ReplayDataError } from '../../../src/brokers/paper/replayFeed';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

const ROOT = join(__dirname, '../../../..');
const SMA = join(ROOT, 'examples/workspace/core/orders/execution_algos/sma_cross.py');
const SAMPLE = join(ROOT, 'examples/data/eurusd_m1_sample.csv');
const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

describe('replay', function () {
  this.timeout(60_000);
  let dir: string;
  let worker: PythonWorker;
  const write = (rel: string, text: string): string => {
    const file = join(dir, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 30_000,
    });
  });
  after(async () => worker.dispose());
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays sma_cross over the bundled candles: orders fill, positions are the sum of fills, the audit chain verifies', async () => {
    const fills: Array<{ side: string; quantity: number }> = [];
    let progressCalls = 0;
    const report = await replayComponent({
      file: SMA,
      data: SAMPLE,
      symbol: 'EUR_USD',
      runner: worker,
      stateDir: dir,
      parameters: { period: 20 },
      onProgress: () => progressCalls++,
      engineFactory: undefined,
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.processed, 2000);
    assert.equal(report.component.className, 'SmaCross');
    assert.equal(report.errorCount, 0);
    assert.ok(report.orders.produced > 10, `orders: ${report.orders.produced}`);
    assert.equal(report.orders.sent, report.orders.produced);
    assert.equal(report.orders.filled, report.orders.sent);
    assert.equal(report.fills, report.orders.filled);
    assert.equal(report.orders.denied + report.orders.invalid + report.orders.open, 0);
    assert.ok(progressCalls >= 1);
    // Long or flat, alternating: the final position is 10,000 if the buys outnumber the sells.
    for (const s of report.slippage.records) fills.push({ side: s.side, quantity: s.quantity });
    assert.equal(fills.length, report.orders.filled, 'one slippage record per filled order');
    const net = fills.reduce((sum, f) => sum + (f.side === 'buy' ? f.quantity : -f.quantity), 0);
    assert.deepEqual(report.positions, net === 0 ? {} : { EUR_USD: net });
    assert.equal(
      report.venuePositions.reduce((s, p) => s + p.quantity, 0),
      net,
    );
    // Market orders fill at the decision quote's touch on the paper venue: no slippage.
    assert.equal(report.slippage.unit, 'pip');
    assert.equal(report.slippage.worstUnits, 0);
    assert.equal(report.slippage.records[0]?.referencePrice, report.slippage.records[0]?.fillPrice);
    // Every round trip pays the spread (1.2 pips on 10,000 units = 1.20 USD).
    const roundTrips = Math.floor(report.orders.filled / 2);
    assert.ok((report.pnl.realized['USD'] ?? 0) < 0 || roundTrips === 0);
    assert.ok(
      Math.abs(
        report.pnl.equity -
          (100_000 + (report.pnl.realized['USD'] ?? 0) + report.pnl.unrealized - report.pnl.commission),
      ) < 1e-6,
    );
    const audit = await verifyAuditDir(join(dir, 'audit'));
    assert.equal(audit.verified, true);
    assert.ok(audit.lines > report.orders.sent * 3, `${audit.lines} audit lines`);
    // Deterministic: the same replay gives the same figures.
    const again = await replayComponent({
      file: SMA,
      data: SAMPLE,
      runner: worker,
      stateDir: join(dir, 'again'),
      parameters: { period: 20 },
    });
    assert.deepEqual(
      { o: again.orders, p: again.positions, r: again.pnl.realized, e: again.pnl.equity },
      { o: report.orders, p: report.positions, r: report.pnl.realized, e: report.pnl.equity },
    );
  });

  it('reports a component error with its index and time and goes on', async () => {
    const file = write(
      'core/orders/flaky.py',
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class Flaky(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        i = market_data['bar_index']",
        '        if i == 7:',
        "            raise ValueError('bad bar %d' % i)",
        '        if i == 9:',
        "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}",
        '        if i == 11:',
        "            return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': -5}",
        '        return None',
        '',
      ].join('\n'),
    );
    const times = Array.from({ length: 30 }, (_, i) => T0 + i * 1000);
    const feed = ReplayFeed.fromColumns(
      { time: times, bid: times.map(() => 1.1), ask: times.map(() => 1.10012) },
      'mem',
      { symbol: 'EUR_USD' },
    );
    const report = await replayComponent({
      file,
      data: feed,
      runner: worker,
      stateDir: join(dir, 'state'),
      batchSize: 8,
    });
    assert.equal(report.ok, true);
    assert.equal(report.processed, 30);
    assert.equal(report.errorCount, 2);
    const [raised, invalid] = report.errors;
    assert.equal(raised?.index, 7);
    assert.equal(raised?.time, new Date(T0 + 7000).toISOString());
    assert.equal(raised?.code, 'COMPONENT_ERROR');
    assert.equal(raised?.line, 7);
    assert.match(raised?.message ?? '', /ValueError: bad bar 7/);
    assert.equal(invalid?.index, 11);
    assert.equal(invalid?.code, 'INVALID_ORDER');
    assert.equal(report.orders.produced, 2);
    assert.equal(report.orders.invalid, 1);
    assert.equal(report.orders.filled, 1);
    assert.deepEqual(report.positions, { EUR_USD: 1000 });
    assert.equal(report.slippage.records[0]?.index, 9);
  });

  it('stops with a fatal error when the component cannot load', async () => {
    const file = write('core/orders/broken.py', 'import no_such_module_xyz\n');
    const times = [T0, T0 + 1000];
    const feed = ReplayFeed.fromColumns({ time: times, bid: [1.1, 1.1], ask: [1.1001, 1.1001] }, 'mem', {
      symbol: 'EUR_USD',
    });
    const report = await replayComponent({ file, data: feed, runner: worker, stateDir: join(dir, 'state') });
    assert.equal(report.ok, false);
    assert.equal(report.fatal?.code, 'IMPORT_ERROR');
    assert.equal(report.fatal?.index, 0);
    assert.equal(report.processed, 0);
  });

  it('a resting limit order fills on a later record, in the same batch', async () => {
    const file = write(
      'core/orders/dip.py',
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class Dip(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        if market_data['bar_index'] == 0:",
        "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': 1.099, 'quantity': 1000}",
        '        return None',
        '',
      ].join('\n'),
    );
    const bids = [1.1, 1.0995, 1.0992, 1.0985, 1.099, 1.1];
    const times = bids.map((_, i) => T0 + i * 1000);
    const feed = ReplayFeed.fromColumns({ time: times, bid: bids, ask: bids.map((b) => b + 0.0001) }, 'mem', {
      symbol: 'EUR_USD',
    });
    const report = await replayComponent({ file, data: feed, runner: worker, stateDir: join(dir, 'state') });
    assert.equal(report.orders.filled, 1);
    assert.deepEqual(report.positions, { EUR_USD: 1000 });
    const s = report.slippage.records[0];
    assert.equal(s?.fillPrice, 1.099, 'the resting limit fills at its price when the ask reaches it (record 3)');
    assert.equal(
      report.batches,
      1,
      'the working order does not cut the batch: it fills between records the venue steps through',
    );
  });

  it('run_batch: one instance across batches, stop at the first order, sparse results; run stays as it was', async () => {
    const file = write(
      'core/orders/count.py',
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class Count(OrderBase):',
        '    def __init__(self, config):',
        '        super().__init__(config)',
        '        self.n = 0',
        '    def generate_order(self, market_data, signal=None):',
        '        self.n += 1',
        "        if market_data['x'] % 5 == 4:",
        "            return {'n': self.n, 'i': market_data['i'], 'c': market_data['c'], 'k': self.config.get('k')}",
        '        return None',
        '',
      ].join('\n'),
    );
    const rows = Array.from({ length: 12 }, (_, x) => [x]);
    const base = {
      file,
      common: { c: 'common' },
      keys: ['x'],
      rows,
      indexKey: 'i',
      indexStart: 100,
      instance: 'test-1',
      parameters: { k: 1 },
    };
    const first = await worker.runBatch({ ...base, stopOnOrder: true });
    assert.equal(first.ok, true);
    assert.equal(first.done, 5);
    // line: the component's `return` that gave the order (a replay says an order it cannot send there).
    assert.deepEqual(first.items, [{ index: 4, ok: true, output: { n: 5, i: 104, c: 'common', k: 1 }, line: 10 }]);
    const second = await worker.runBatch(base);
    assert.equal(second.done, 12);
    assert.deepEqual(
      second.items.map((i) => (i.ok ? i.output : null)),
      [
        { n: 10, i: 104, c: 'common', k: 1 },
        { n: 15, i: 109, c: 'common', k: 1 },
      ],
      'the instance kept its count from the first batch',
    );
    const fresh = await worker.runBatch({ ...base, parameters: { k: 2 } });
    assert.deepEqual(
      fresh.items[0],
      { index: 4, ok: true, output: { n: 5, i: 104, c: 'common', k: 2 }, line: 10 },
      'other parameters: a new instance',
    );
    const run = await worker.run({ file, marketData: { x: 4, i: 0, c: 'c' }, parameters: { k: 3 } });
    assert.deepEqual(run.output, { n: 1, i: 0, c: 'c', k: 3 });
    const missing = await worker.runBatch({ ...base, className: 'Nope' });
    assert.equal(missing.ok, false);
    assert.equal(missing.error?.code, 'CLASS_NOT_FOUND');
  });

  it('replay limits drop the submit rate unless asked; isoFormatter matches toISOString', () => {
    const limits = replayLimits();
    assert.equal(limits.maxOrdersPerSecond, undefined);
    assert.equal(limits.orderBurst, undefined);
    assert.equal(limits.maxOpenOrders, 200);
    assert.equal(replayLimits({ maxOrdersPerSecond: 5 }).maxOrdersPerSecond, 5);
    const iso = isoFormatter();
    let t = Date.UTC(2023, 11, 31, 23, 59, 58, 7);
    for (let i = 0; i < 5000; i++) {
      t += (i * 7919) % 4001;
      assert.equal(iso(t), new Date(t).toISOString());
    }
    assert.equal(iso(T0 - 1), new Date(T0 - 1).toISOString(), 'going back in time');
  });

  it('never writes into trading state: a folder with an audit log, trading-state.json, working-orders.json or a paper account is refused before anything is written', async () => {
    const feed = ReplayFeed.fromColumns({ time: [T0, T0 + 1000], bid: [1.1, 1.1], ask: [1.1001, 1.1001] }, 'mem', {
      symbol: 'EUR_USD',
    });
    for (const entry of [
      'audit',
      'trading-state.json',
      'working-orders.json',
      'paper-account.json',
      'paper-account.json.journal',
    ]) {
      const trading = join(dir, `trading-${entry}`);
      mkdirSync(trading);
      if (entry === 'audit') mkdirSync(join(trading, entry));
      else writeFileSync(join(trading, entry), '{}');
      const before = readdirSync(trading).sort();
      await assert.rejects(
        replayComponent({ file: SMA, data: feed, runner: worker, stateDir: trading }),
        (e: unknown) =>
          e instanceof ReplayStateDirError &&
          e.message.includes(trading) &&
          e.message.includes(entry) &&
          /never into trading state/.test(e.message),
      );
      assert.deepEqual(readdirSync(trading).sort(), before, `nothing written into the folder with ${entry}`);
    }
  });

  it('a replay folder is new or empty and then marked; it is reused; a non-empty unmarked one is refused', () => {
    const fresh = join(dir, 'new', 'replays');
    assert.equal(prepareReplayStateDir(fresh), fresh);
    const marker = JSON.parse(readFileSync(join(fresh, REPLAY_MARKER), 'utf8')) as { kind: string };
    assert.equal(marker.kind, 'sptrader-replay');
    mkdirSync(join(fresh, 'audit'));
    assert.equal(prepareReplayStateDir(fresh), fresh, 'a marked folder with its audit log is reused');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    prepareReplayStateDir(empty);
    assert.ok(existsSync(join(empty, REPLAY_MARKER)));
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    assert.throws(
      () => prepareReplayStateDir(other),
      (e: unknown) =>
        e instanceof ReplayStateDirError && /not empty \(notes\.txt\) and not a replay folder/.test(e.message),
    );
    assert.equal(existsSync(join(other, REPLAY_MARKER)), false);
    writeFileSync(join(fresh, 'trading-state.json'), '{}');
    assert.throws(
      () => prepareReplayStateDir(fresh),
      /marked as a replay folder but holds trading state \(trading-state\.json\)/,
    );
    const fake = join(dir, 'fake');
    mkdirSync(fake);
    writeFileSync(join(fake, REPLAY_MARKER), '{"kind":"something else"}');
    assert.throws(() => prepareReplayStateDir(fake), /not a replay marker/);
    // An empty marker alone in its folder: a marking cut short by a kill or a power cut, marked again.
    const cut = join(dir, 'cut');
    mkdirSync(cut);
    writeFileSync(join(cut, REPLAY_MARKER), '');
    assert.equal(prepareReplayStateDir(cut), cut);
    assert.equal(
      (JSON.parse(readFileSync(join(cut, REPLAY_MARKER), 'utf8')) as { kind: string }).kind,
      'sptrader-replay',
    );
    // Beside anything else, an empty marker is not known to be ours: refused as before.
    writeFileSync(join(cut, REPLAY_MARKER), '');
    mkdirSync(join(cut, 'audit'));
    assert.throws(() => prepareReplayStateDir(cut), /not a replay marker/);
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    assert.throws(() => prepareReplayStateDir(file), /this is a file, not a folder/);
  });

  it('a time no clock can hold (an epoch number of the wrong unit) is a data error naming the file, not a crash', async () => {
    const csv = write('far.csv', 'time,bid,ask\n1e30,1.1,1.1002\n');
    await assert.rejects(
      replayComponent({ file: SMA, data: csv, runner: worker, stateDir: join(dir, 'state') }),
      (e: unknown) =>
        e instanceof ReplayDataError &&
        e.message.startsWith(`${csv}: row 1 (line 2), column 'time': '1e30' as nanoseconds since 1970 is`) &&
        e.row === 1 &&
        /unit of the time column/.test(e.message),
    );
  });
});
