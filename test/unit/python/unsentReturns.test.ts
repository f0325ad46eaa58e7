/**
 * What a component returned that cannot be sent (not JSON-safe, a string that is not JSON) is reported at the
 * `return` that produced it, in a run and in every record of a batch, with the value's path: not only at the file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';

describe('a return that cannot be sent names its line', function () {
  this.timeout(30_000);
  let dir: string;
  let options: RunnerOptions;
  let worker: PythonWorker;
  before(async () => {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 10_000 };
    dir = mkdtempSync(join(tmpdir(), 'sptrader-unsent-'));
    worker = new PythonWorker(options);
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  const component = [
    'from core.orders.order_base import OrderBase', // 1
    'import datetime', // 2
    '', // 3
    'class C(OrderBase):', // 4
    '    def generate_order(self, market_data, signal=None):', // 5
    "        if market_data.get('n') == 1:", // 6
    '            return None', // 7
    "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000,", // 8
    "                'metadata': {'tags': {'a', 'b'}}}", // 9
    '',
  ].join('\n');

  it('a run: NOT_SERIALIZABLE at the return line, with the path of the value', async () => {
    const file = write('set_in_metadata.py', component);
    const r = await worker.run({ file, marketData: {} });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
    assert.equal(r.error?.file, file);
    assert.equal(r.error?.line, 8);
    assert.match(r.error?.message ?? '', /order\.metadata\.tags is a set/);
  });

  it('a run: a string that is not JSON, at its return line', async () => {
    const file = write(
      'not_json.py',
      "from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        x = 1\n        return \"{'symbol': 'EUR_USD'}\"\n",
    );
    const r = await worker.run({ file, marketData: {} });
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.equal(r.error?.line, 6);
    assert.match(r.error?.message ?? '', /returned a string that is not JSON/);
  });

  it('a batch: the record whose order cannot be sent names the return line; the others run', async () => {
    const file = write('batch_set.py', component);
    const r = await worker.runBatch({ file, common: {}, keys: ['n'], rows: [[0], [1], [2]] });
    assert.equal(r.ok, true);
    assert.equal(r.done, 3);
    assert.deepEqual(
      r.items.map((i) => (i.ok ? [i.index, true] : [i.index, false, i.error.code, i.error.line])),
      [
        [0, false, 'NOT_SERIALIZABLE', 8],
        [2, false, 'NOT_SERIALIZABLE', 8],
      ],
    );
  });

  it('a batch: a record that raises after one that could not be sent keeps its own line', async () => {
    const file = write(
      'batch_raise.py',
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class C(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        if market_data['n'] == 0:",
        '            return object()',
        "        raise ValueError('no')",
        '',
      ].join('\n'),
    );
    const r = await worker.runBatch({ file, common: {}, keys: ['n'], rows: [[0], [1]] });
    assert.deepEqual(
      r.items.map((i) => (i.ok ? [i.index] : [i.index, i.error.code, i.error.line])),
      [
        [0, 'NOT_SERIALIZABLE', 6],
        [1, 'COMPONENT_ERROR', 7],
      ],
    );
  });
});
