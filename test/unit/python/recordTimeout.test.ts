/**
 * A batch (replay) limits each record's call of the component to the runner's timeout, with a real python3:
 * a record that hangs is stopped where it is, the records before it are answered, and the record is named (and
 * never run again); a slow component's long batch ends after its budget and the rest runs as the next batch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';

describe('a record past its time limit in a batch', function () {
  this.timeout(60_000);
  let dir: string;
  let options: RunnerOptions;
  const workers: PythonWorker[] = [];
  const worker = (extra: Partial<RunnerOptions> = {}): PythonWorker => {
    const w = new PythonWorker({ ...options, ...extra });
    workers.push(w);
    return w;
  };
  before(async () => {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 1000 };
    dir = mkdtempSync(join(tmpdir(), 'sptrader-record-timeout-'));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.dispose()));
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, body: string): string => {
    const file = join(dir, name);
    writeFileSync(
      file,
      `from core.orders.order_base import OrderBase\nimport time\n\nclass C(OrderBase):\n    def __init__(self, config):\n        self.calls = 0\n\n    def generate_order(self, market_data, signal=None):\n        self.calls += 1\n${body}\n`,
    );
    return file;
  };
  const rows = (n: number): number[][] => Array.from({ length: n }, (_, i) => [i]);
  const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': self.calls}";

  it('stops the hung record at its line, answers the records before it, and never runs it again', async () => {
    const file = write(
      'hangs.py',
      [
        "        if market_data['n'] == 7:", // line 10
        '            while True:', // 11
        '                pass', // 12
        `        return ${ORDER} if market_data['n'] % 3 == 0 else None`,
      ].join('\n'),
    );
    const w = worker();
    const started = Date.now();
    const r = await w.runBatch({ file, common: {}, keys: ['n'], rows: rows(10), indexStart: 0, instance: 'r1' });
    assert.ok(Date.now() - started < 6000, `stopped near its limit, not at the backstop (${Date.now() - started} ms)`);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, 7, 'records 0..6 ran');
    assert.deepEqual(
      r.items.map((i) => (i.ok ? [i.index, (i.output as { quantity: number }).quantity] : [i.index])),
      [
        [0, 1],
        [3, 4],
        [6, 7],
      ],
      'the orders before the hung record are answered, once',
    );
    assert.equal(r.stopped?.code, 'TIMEOUT');
    assert.match(
      r.stopped?.message ?? '',
      /generate_order did not return within 1 s on record 7 \(it was running line 1[12]\)/,
    );
    assert.ok(r.stopped?.line === 11 || r.stopped?.line === 12, String(r.stopped?.line));
    assert.equal(r.stopped?.file, file);
    // The caller's next batch starts at the hung record: it is answered with the error, and the record is not run.
    const again = await w.runBatch({ file, common: {}, keys: ['n'], rows: rows(3), indexStart: 7, instance: 'r1' });
    assert.equal(again.ok, false);
    assert.equal(again.done, 0);
    assert.equal(again.error?.code, 'TIMEOUT');
    assert.match(again.error?.message ?? '', /on record 7/);
    // Anything else runs again, on a fresh worker.
    const fresh = await w.runBatch({ file, common: {}, keys: ['n'], rows: [[0]], indexStart: 0, instance: 'r2' });
    assert.equal(fresh.ok, true);
    assert.equal(fresh.items.length, 1);
  });

  it('the first record of a batch hanging fails the batch with the record named', async () => {
    const file = write('first.py', '        time.sleep(30)\n        return None');
    const r = await worker().runBatch({ file, common: {}, keys: ['n'], rows: rows(4), indexStart: 40 });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'TIMEOUT');
    assert.match(r.error?.message ?? '', /on record 40 \(it was running line 10\)/);
  });

  it('a component that swallows the stop (except BaseException) is stopped all the same', async () => {
    const file = write(
      'swallows.py',
      [
        "        if market_data['n'] == 2:",
        '            try:',
        '                time.sleep(30)',
        '            except BaseException:',
        '                return ' + ORDER,
        '        return None',
      ].join('\n'),
    );
    const r = await worker().runBatch({ file, common: {}, keys: ['n'], rows: rows(5), indexStart: 0 });
    assert.equal(r.ok, true);
    assert.equal(r.done, 2);
    assert.deepEqual(r.items, [], 'the order it returned after its limit is not answered');
    assert.equal(r.stopped?.code, 'TIMEOUT');
  });

  it('a slow component: a batch ends after its budget with no error, and the next goes on with the same instance', async () => {
    const file = write('slow.py', `        time.sleep(0.03)\n        return ${ORDER}`);
    const w = worker({ timeoutMs: 5000, batchBudgetMs: 300 });
    const first = await w.runBatch({ file, common: {}, keys: ['n'], rows: rows(60), indexStart: 0, instance: 's' });
    assert.equal(first.ok, true);
    assert.equal(first.stopped, undefined);
    assert.ok(first.done > 0 && first.done < 60, `ended after its budget: ${first.done} of 60`);
    assert.equal(first.items.length, first.done);
    const rest = await w.runBatch({
      file,
      common: {},
      keys: ['n'],
      rows: rows(60).slice(first.done, first.done + 3),
      indexStart: first.done,
      instance: 's',
    });
    assert.equal(rest.ok, true);
    assert.deepEqual(
      rest.items.map((i) => (i.ok ? (i.output as { quantity: number }).quantity : null)),
      [first.done + 1, first.done + 2, first.done + 3],
      'the same instance: its call count goes on',
    );
  });

  describe('a run (Test Order) past its limit says where it was', () => {
    const cases: Array<[string, string, RegExp, number]> = [
      [
        'a loop in generate_order',
        'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        n = 0\n        while True:\n            n += 1\n',
        /^generate_order did not return within 1 s; its process tree was stopped and nothing was sent \(it was running line [67]\)/,
        6,
      ],
      [
        'a loop at import',
        'import time\nfrom core.orders.order_base import OrderBase\nwhile True:\n    time.sleep(0.01)\n',
        /^loading the component did not finish within 1 s; .* \(it was running line [34]\)/,
        3,
      ],
      [
        'a sleep in the constructor',
        'import time\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def __init__(self, config):\n        time.sleep(60)\n\n    def generate_order(self, market_data, signal=None):\n        return None\n',
        /^creating C did not finish within 1 s; .* \(it was running line 6\)/,
        6,
      ],
    ];
    for (const [name, text, message, line] of cases) {
      it(`${name}: TIMEOUT at its line, within the limit and a margin; the next run works`, async () => {
        const file = join(dir, `run_${line}_${name.length}.py`);
        writeFileSync(file, text);
        const w = worker();
        const started = Date.now();
        const r = await w.run({ file, marketData: {} });
        const took = Date.now() - started;
        assert.equal(r.error?.code, 'TIMEOUT');
        assert.match(r.error?.message ?? '', message);
        assert.ok(r.error?.line === line || r.error?.line === line + 1, String(r.error?.line));
        assert.equal(r.error?.file, file);
        assert.ok(took < 1000 + 1500, `took ${took} ms`);
        const next = await w.run({ file: write('fine.py', '        return None'), marketData: {} });
        assert.equal(next.ok, true, JSON.stringify(next.error));
      });
    }
  });
});
