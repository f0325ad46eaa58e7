/**
 * A component kept in a folder of its own (no `core/` layout: the folder is the package root) beside files named
 * like standard library modules: a trader's signal.py, types.py, token.py or json.py. Python is started by a real
 * interpreter each time, cold and warm: such a file must neither look like a missing interpreter nor stop the
 * harness, while the component's own imports still find the user's files first, as SPtraderB ran them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

// Each raises on import: if the harness or Python itself imported one, the run would fail.
const SHADOWS = ['json', 'types', 'weakref', 'signal', 'enum', 're', 'keyword', 'ast', 'traceback', 'token', 'copy'];
const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}";

describe('Python components beside files named like standard library modules', function () {
  this.timeout(30_000);
  let dir!: string;
  let options!: RunnerOptions;
  const write = componentFolder('shadow', 10_000, { options: (o) => void (options = o), dir: (d) => void (dir = d) });
  beforeEach(() => {
    for (const name of SHADOWS) write(`${name}.py`, `raise ImportError('the user file ${name}.py was imported')\n`);
    write('sptrader_harness.py', "raise ImportError('the user file sptrader_harness.py was imported')\n");
  });

  it('runs, fails at the component’s line and is inspected, cold and warm', async () => {
    const ok = write(
      'buy.py',
      `from core.orders.order_base import OrderBase\n\nclass Buy(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const failing = write(
      'broken.py',
      "class Broken:\n    def generate_order(self, market_data, signal=None):\n        raise ValueError('no quote')\n",
    );
    const cold = await runComponentCold(options, { file: ok, marketData: {} });
    assert.equal(cold.error, undefined, cold.error?.message);
    assert.equal((cold.output as { quantity: number }).quantity, 1000);
    const raised = await runComponentCold(options, { file: failing, marketData: {} });
    assert.equal(raised.error?.code, 'COMPONENT_ERROR', raised.error?.message);
    assert.equal(raised.error?.line, 3);
    assert.match(raised.error?.message ?? '', /ValueError: no quote/);

    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(ok);
      assert.deepEqual(
        info.classes.map((c) => c.name),
        ['Buy'],
      );
      for (let i = 0; i < 2; i++) {
        const warm = await worker.run({ file: ok, marketData: {} });
        assert.equal(warm.error, undefined, warm.error?.message);
        const again = await worker.run({ file: failing, marketData: {} });
        assert.equal(again.error?.code, 'COMPONENT_ERROR', again.error?.message);
        assert.equal(again.error?.line, 3);
      }
    } finally {
      await worker.dispose();
    }
  });

  it("the component's own imports find the user's files first, and it sees PYTHONPATH with the root first", async () => {
    write('calendar.py', 'def is_open():\n    return "the user\'s calendar"\n');
    const file = write(
      'hours.py',
      'import os, sys\nimport calendar\n\nclass Hours:\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'calendar': calendar.is_open(), 'first': sys.path[0], 'pythonpath': os.environ['PYTHONPATH'].split(os.pathsep)[0],\n" +
        "                'own': sorted(k for k in os.environ if k.startswith('SPTRADER_') and k != 'SPTRADER_RUN_TREE')}\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, { calendar: "the user's calendar", first: dir, pythonpath: dir, own: [] });
  });

  it('a json.py in the working folder does not make the interpreter look missing', async () => {
    // A name of its own: the probe of each command is cached for the process.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const command = join(bin, 'python3-shadow-probe');
    symlinkSync(options.interpreter.executable, command);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const found = await resolveInterpreter([command]);
      assert.equal(found.version[0], 3);
    } finally {
      process.chdir(cwd);
    }
  });
});
