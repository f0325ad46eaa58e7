/**
 * `async def generate_order` with a real python3 (python/sptrader_harness/awaiting.py): the coroutine runs to
 * its end on the worker's one event loop in Test Order and in a replay, a raise inside it points at its
 * line, what cannot give an order is refused at the entry point's line, and a coroutine that outlasts the
 * per-call timeout is ended with its worker: the next call gets a correct answer, never the stale one's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { replayComponent } from '../../../src/usecases/replay';
import { runTestOrder } from '../../../src/usecases/testOrder';
import { LOOSE } from '../execution/engineHelpers';

/** An async component: `lines` are generate_order's body (8 spaces in), from line 6 of the file (without `extra`). */
const component = (lines: string[], extra: string[] = []): string =>
  [
    'import asyncio',
    'from core.orders.order_base import OrderBase',
    ...extra,
    '',
    'class C(OrderBase):',
    '    async def generate_order(self, market_data, signal=None):',
    ...lines.map((l) => `        ${l}`),
    '',
  ].join('\n');

const BUY = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}";
const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);
const EXAMPLE = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/async_spread_guard.py');

describe('async def generate_order', function () {
  this.timeout(60_000);
  let dir: string;
  let options: RunnerOptions;
  let worker: PythonWorker;
  const write = (name: string, text: string): string => {
    const file = join(dir, 'core', 'orders', name);
    writeFileSync(file, text);
    return file;
  };
  before(async () => {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 5000 };
    worker = new PythonWorker(options);
  });
  after(async () => worker.dispose());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-async-'));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('Test Order runs the coroutine to its end and fills its order on the paper venue', async () => {
    const file = write('async_market.py', component(['await asyncio.sleep(0.01)', `return ${BUY}`]));
    const clock = new TestClock(Date.now());
    const broker = new PaperBroker({ clock, seed: 7 });
    const auditDir = join(dir, 'audit');
    const audit = (await AuditLog.open(auditDir, { clock })).log;
    const engine = new ExecutionEngine({ clock, brokers: { paper: broker }, audit, limits: LOOSE });
    try {
      await engine.connect('paper');
      const outcome = await runTestOrder({ file }, { runner: worker, broker, engine, clock });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.response?.status.status, 'filled');
      assert.equal(outcome.response?.filled_quantity, 1000);
      assert.equal(outcome.component.entryPoint, 'generate_order');

      // The example: its lock and the spreads it remembers live on the worker's loop from one run to the next.
      const first = await runTestOrder({ file: EXAMPLE }, { runner: worker, broker, engine, clock });
      assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
      assert.equal(first.response?.status.status, 'filled');
      const again = await runTestOrder({ file: EXAMPLE }, { runner: worker, broker, engine, clock });
      assert.equal(again.order?.metadata?.['spreads_seen'], 2);

      // An invalid order from a coroutine is still put at the return that produced it.
      const bad = write(
        'async_bad.py',
        component([
          'await asyncio.sleep(0)',
          "if market_data.get('never'):",
          '    return None',
          "return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': -5}",
        ]),
      );
      const refused = await runTestOrder({ file: bad }, { runner: worker, broker, engine, clock });
      assert.equal(refused.exitCode, 1);
      assert.equal(refused.response, null);
      const error = refused.errors.find((e) => e.code === 'INVALID_ORDER');
      assert.ok(error, JSON.stringify(refused.errors));
      assert.deepEqual([error.file, error.line], [bad, 9]);
    } finally {
      await engine.close();
      await audit.close();
    }
  });

  it('keeps one event loop for the worker: what a coroutine made on it serves the next call', async () => {
    // A queue made on the first call's loop; a later call on another loop could not await it (3.10+ says so).
    const file = write(
      'keeps_loop.py',
      component(
        [
          'global QUEUE',
          'if QUEUE is None:',
          '    QUEUE = asyncio.Queue()',
          "await QUEUE.put(market_data['n'])",
          'seen = []',
          'while not QUEUE.empty():',
          '    seen.append(await QUEUE.get())',
          'for n in seen:',
          '    QUEUE.put_nowait(n)',
          "return {'seen': seen, 'loop': id(asyncio.get_running_loop())}",
        ],
        ['QUEUE = None'],
      ),
    );
    const first = await worker.run({ file, marketData: { n: 1 } });
    assert.equal(first.ok, true, JSON.stringify(first.error));
    const pid = worker.pidFor(file);
    const second = await worker.run({ file, marketData: { n: 2 } });
    assert.equal(second.ok, true, JSON.stringify(second.error));
    const [a, b] = [first.output, second.output] as Array<{ seen: number[]; loop: number }>;
    assert.deepEqual([a?.seen, b?.seen], [[1], [1, 2]]);
    assert.equal(a?.loop, b?.loop);
    assert.equal(worker.pidFor(file), pid);
    assert.equal(second.stderr, '');
  });

  it('runs over a replay batch: each candle awaited, state kept on the instance, an error at its line and index', async () => {
    const file = write(
      'async_replay.py',
      component([
        "self.seen = getattr(self, 'seen', 0) + 1",
        'await asyncio.sleep(0)',
        "i = market_data['bar_index']",
        'if i == 3:',
        "    raise ValueError('bad bar %d' % i)",
        'if i in (2, 5):',
        "    return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'metadata': {'seen': self.seen}}",
        'return None',
      ]),
    );
    const times = Array.from({ length: 8 }, (_, i) => T0 + i * 1000);
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
      batchSize: 3,
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.processed, 8);
    assert.equal(report.orders.produced, 2);
    assert.equal(report.orders.filled, 2);
    assert.deepEqual(report.positions, { EUR_USD: 2000 });
    assert.deepEqual(
      report.slippage.records.map((r) => r.index),
      [2, 5],
    );
    assert.equal(report.errorCount, 1);
    const [raised] = report.errors;
    assert.deepEqual([raised?.index, raised?.code, raised?.line], [3, 'COMPONENT_ERROR', 10]);
    assert.match(raised?.message ?? '', /ValueError: bad bar 3/);

    // The batch path itself: one instance kept across batches, its async state with it.
    const batch = (n: number) =>
      worker.runBatch({ file, common: {}, keys: ['bar_index'], rows: [[n]], instance: 'kept' });
    await batch(0);
    const r = await batch(5);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    const item = r.items[0];
    assert.ok(item?.ok, JSON.stringify(item));
    assert.deepEqual((item.output as { metadata: unknown }).metadata, { seen: 2 });
  });

  it('a raise inside the coroutine, after an await, points at its line', async () => {
    const file = write(
      'async_raises.py',
      component(['await asyncio.sleep(0)', "total = market_data['capital']", 'return {"q": total / 0}']),
    );
    const r = await worker.run({ file, marketData: { capital: 1000 } });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.equal(r.error.file, file);
    assert.equal(r.error.line, 8);
    assert.match(r.error.message, /generate_order raised ZeroDivisionError: division by zero/);
    assert.match(r.error.traceback ?? '', /async_raises\.py", line 8, in generate_order/);
  });

  it('an async def validate_order is awaited: its (False, reason) stops the order, True lets it go', async () => {
    const vetting = (body: string): string =>
      [
        'import asyncio',
        'from core.orders.order_base import OrderBase',
        '',
        'class C(OrderBase):',
        '    async def generate_order(self, market_data, signal=None):',
        `        return ${BUY}`,
        '',
        '    async def validate_order(self, order):',
        '        await asyncio.sleep(0)',
        `        ${body}`,
        '',
      ].join('\n');
    const stopped = await worker.run({
      file: write('async_vet_no.py', vetting("return (False, 'desk closed')")),
      marketData: {},
    });
    assert.equal(stopped.ok, false);
    assert.equal(stopped.error?.code, 'ORDER_VETOED', JSON.stringify(stopped.error));
    assert.match(stopped.error.message, /desk closed/);
    const passed = await worker.run({ file: write('async_vet_yes.py', vetting('return True')), marketData: {} });
    assert.equal(passed.ok, true, JSON.stringify(passed.error));
    assert.deepEqual(passed.output, { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 });
  });

  it('an async generator, and a coroutine that returns another awaitable, are refused at the entry point', async () => {
    const gen = write('async_gen.py', component(['await asyncio.sleep(0)', `yield ${BUY}`]));
    const g = await worker.run({ file: gen, marketData: {} });
    assert.equal(g.ok, false);
    assert.equal(g.error?.code, 'NOT_SERIALIZABLE');
    assert.deepEqual([g.error.file, g.error.line], [gen, 5]);
    assert.match(g.error.message, /C\.generate_order is an async generator \(it yields\), so it gives no order/);

    const nested = write(
      'async_nested.py',
      [
        'import asyncio',
        'from core.orders.order_base import OrderBase',
        '',
        'class C(OrderBase):',
        '    async def fetch(self):',
        `        return ${BUY}`,
        '',
        '    async def generate_order(self, market_data, signal=None):',
        '        return self.fetch()',
        '',
      ].join('\n'),
    );
    const n = await worker.run({ file: nested, marketData: {} });
    assert.equal(n.ok, false);
    assert.equal(n.error?.code, 'NOT_SERIALIZABLE');
    assert.deepEqual([n.error.file, n.error.line], [nested, 8]);
    assert.match(
      n.error.message,
      /returned an awaitable \(coroutine\) from its coroutine, not an order: await it there/,
    );
    assert.doesNotMatch(n.stderr, /never awaited/);
    // The worker goes on.
    const ok = write('async_ok.py', component([`return ${BUY}`]));
    assert.equal((await worker.run({ file: ok, marketData: {} })).ok, true);
  });

  it('a coroutine stopped by SIGINT while it waits never goes on during a later call', async () => {
    // A thread interrupts the loop while the coroutine sleeps; had it stayed on the loop, its sleep would end
    // during the second call's longer one and set STALE.
    const file = write(
      'async_interrupted.py',
      component(
        [
          "if market_data.get('interrupt'):",
          '    threading.Timer(0.2, os.kill, (os.getpid(), signals.SIGINT)).start()',
          '    await asyncio.sleep(0.5)',
          "    STALE['ran'] = True",
          "    return {'stale': True}",
          'await asyncio.sleep(1.0)',
          "return {'stale_ran': STALE['ran']}",
        ],
        ['import os, threading', 'import signal as signals', "STALE = {'ran': False}"],
      ),
    );
    const interrupted = await worker.run({ file, marketData: { interrupt: true } });
    assert.equal(interrupted.error?.code, 'COMPONENT_INTERRUPTED', JSON.stringify(interrupted.error));
    const pid = worker.pidFor(file);
    const next = await worker.run({ file, marketData: {} });
    assert.deepEqual([next.ok, next.output], [true, { stale_ran: false }]);
    assert.equal(worker.pidFor(file), pid, 'the same worker answered');
    assert.doesNotMatch(next.stderr, /Task was destroyed/);
  });

  it('a coroutine past the timeout ends with its worker; the next call is answered by a fresh one, correctly', async () => {
    const file = write(
      'async_slow.py',
      component([
        "if market_data.get('slow'):",
        '    await asyncio.sleep(60)',
        "    return {'stale': True}",
        "return {'n': market_data['n']}",
      ]),
    );
    const quick = new PythonWorker({ ...options, timeoutMs: 1500 });
    try {
      assert.deepEqual((await quick.run({ file, marketData: { n: 1 } })).output, { n: 1 });
      const pid = quick.pidFor(file);
      const slow = await quick.run({ file, marketData: { slow: true, n: 0 } });
      assert.equal(slow.error?.code, 'TIMEOUT');
      assert.match(
        slow.error.message,
        /did not return within 1\.5 s; its process tree was stopped and nothing was sent/,
      );
      const next = await quick.run({ file, marketData: { n: 2 } });
      assert.deepEqual([next.ok, next.output], [true, { n: 2 }]);
      assert.notEqual(quick.pidFor(file), pid, 'a fresh worker answered');
      const batch = await quick.runBatch({ file, common: {}, keys: ['n'], rows: [[3], [4]] });
      assert.deepEqual(
        batch.items.map((x) => (x.ok ? x.output : x.error)),
        [{ n: 3 }, { n: 4 }],
      );
      assert.throws(() => process.kill(pid as number, 0), /ESRCH/, 'the timed-out worker is gone');
    } finally {
      await quick.dispose();
    }
  });
});
