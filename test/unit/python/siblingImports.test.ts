/**
 * A component that imports a helper beside it by its plain name (`from sizing import size_for`), as SPtraderB's
 * `python3 <file>` allowed: the script's folder is first on sys.path there. Real interpreter, cold and warm; in a
 * warm worker, two folders' helpers of the same name never stand in for each other, and each keeps its state.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const USES_HELPER =
  'from utils import lot, CALLS\nfrom core.orders.order_base import OrderBase\n\n' +
  'class C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n' +
  '        import utils as again\n' +
  "        return {'q': lot(), 'calls': CALLS[0], 'same': again.lot is lot}\n";
const helper = (lot: number): string => `CALLS = [0]\n\ndef lot():\n    CALLS[0] += 1\n    return ${lot}\n`;

describe('Python components: a helper beside the component, imported by its plain name', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('siblings', 10_000, { options: (o) => void (options = o), dir: () => undefined });

  it('is found cold, in the core/ layout, as `python file.py` finds it', async () => {
    write('core/orders/execution_algos/utils.py', helper(1200));
    const file = write('core/orders/execution_algos/sized.py', USES_HELPER);
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, { q: 1200, calls: 1, same: true });
  });

  it('warm: two folders each with a utils.py get their own, keep its state, and see an edit', async () => {
    const helperA = write('core/orders/execution_algos/utils.py', helper(1200));
    write('core/orders/risk_filters/utils.py', helper(7));
    const a = write('core/orders/execution_algos/sized.py', USES_HELPER);
    const b = write('core/orders/risk_filters/small.py', USES_HELPER);
    // Not a component's folder: a plain `import utils` there finds nothing, as under `python file.py`.
    const elsewhere = write(
      'core/orders/other/plain.py',
      "class C:\n    def generate_order(self, market_data, signal=None):\n        import utils\n        return {'q': 1}\n",
    );
    const worker = new PythonWorker(options);
    try {
      assert.deepEqual((await worker.run({ file: a, marketData: {} })).output, { q: 1200, calls: 1, same: true });
      const pid = worker.pidFor(a);
      assert.deepEqual((await worker.run({ file: b, marketData: {} })).output, { q: 7, calls: 1, same: true });
      assert.deepEqual((await worker.run({ file: a, marketData: {} })).output, { q: 1200, calls: 2, same: true });
      assert.deepEqual((await worker.run({ file: b, marketData: {} })).output, { q: 7, calls: 2, same: true });
      const missing = await worker.run({ file: elsewhere, marketData: {} });
      assert.equal(missing.error?.code, 'COMPONENT_ERROR', JSON.stringify(missing));
      assert.match(missing.error?.message ?? '', /No module named 'utils'/);
      writeFileSync(helperA, helper(34567));
      assert.deepEqual((await worker.run({ file: a, marketData: {} })).output, { q: 34567, calls: 1, same: true });
      assert.deepEqual((await worker.run({ file: b, marketData: {} })).output, { q: 7, calls: 1, same: true });
      assert.equal(worker.pidFor(a), pid, 'the same interpreter throughout');
    } finally {
      await worker.dispose();
    }
  });

  it('a replay batch imports it too', async () => {
    write('core/orders/execution_algos/utils.py', helper(50));
    const file = write('core/orders/execution_algos/sized.py', USES_HELPER);
    const worker = new PythonWorker(options);
    try {
      const r = await worker.runBatch({ file, common: {}, keys: ['i'], rows: [[1], [2]] });
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(
        r.items.map((x) => (x.ok ? x.output : x.error)),
        [
          { q: 50, calls: 1, same: true },
          { q: 50, calls: 2, same: true },
        ],
      );
    } finally {
      await worker.dispose();
    }
  });
});
