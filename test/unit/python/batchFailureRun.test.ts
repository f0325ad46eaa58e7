/**
 * The worker ends a replay's batch after the record that makes `failureRun.limit` records in a row fail with the same
 * code at the same line (python/sptrader_harness/batch_stops.py), counting the run the batch before left; a
 * validate_order veto is no failure. Real python3.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, type ComponentBatchRequest } from '../../../src/python/runner';

describe('a batch ends at a run of the same failure', function () {
  this.timeout(30_000);
  let dir: string;
  let worker: PythonWorker;
  let file: string;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 10_000,
    });
    dir = mkdtempSync(join(tmpdir(), 'sptrader-failure-run-'));
    file = join(dir, 'fails.py');
    // n < 0: a veto; n == 0: None; n % 2: a KeyError at line 13; else a ValueError at line 14.
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class C(OrderBase):',
        '    def validate_order(self, order):',
        "        return False, 'vetoed'",
        '',
        '    def generate_order(self, market_data, signal=None):',
        "        n = market_data['n']",
        '        if n < 0:',
        "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}",
        '        if n == 0:',
        '            return None',
        "        if n % 2: raise KeyError('x')",
        "        raise ValueError('y')",
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const batch = (values: number[], failureRun?: ComponentBatchRequest['failureRun']) =>
    worker.runBatch({
      file,
      common: {},
      keys: ['n'],
      rows: values.map((v) => [v]),
      ...(failureRun ? { failureRun } : {}),
    });

  it('ends after the record that makes the run; a None, a veto or another line starts it again', async () => {
    const ones = Array<number>(50).fill(1);
    const run = await batch(ones, { limit: 10, run: 0 });
    assert.equal(run.ok, true, JSON.stringify(run.error));
    assert.equal(run.done, 10);
    assert.deepEqual(
      run.items.map((i) => [i.index, i.ok ? null : [i.error.code, i.error.line]]),
      ones.slice(0, 10).map((_, i) => [i, ['COMPONENT_ERROR', 13]]),
    );
    // 9 in a row, then a record that returns None: no run of 10 until records 10..19.
    const broken = await batch([...Array<number>(9).fill(1), 0, ...ones], { limit: 10, run: 0 });
    assert.equal(broken.done, 20);
    const vetoes = await batch([...Array<number>(200).fill(-1)], { limit: 10, run: 0 });
    assert.equal(vetoes.done, 200);
    assert.equal(vetoes.items.filter((i) => !i.ok && i.error.code === 'ORDER_VETOED').length, 200);
    const alternating = await batch(
      ones.map((_, i) => 1 + (i % 2)),
      { limit: 2, run: 0 },
    );
    assert.equal(alternating.done, 50);
    assert.equal(alternating.items.length, 50);
    // Without a limit the batch runs to its end.
    assert.equal((await batch(ones)).done, 50);
  });

  it('goes on with the run the batch before left, when its first record fails the same way', async () => {
    const ones = Array<number>(50).fill(1);
    assert.equal((await batch(ones, { limit: 10, run: 7, code: 'COMPONENT_ERROR', line: 13 })).done, 3);
    assert.equal((await batch(ones, { limit: 10, run: 7, code: 'COMPONENT_ERROR', line: 14 })).done, 10);
    assert.equal((await batch([0, ...ones], { limit: 10, run: 7, code: 'COMPONENT_ERROR', line: 13 })).done, 11);
  });
});
