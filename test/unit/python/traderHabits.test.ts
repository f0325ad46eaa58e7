/**
 * Components written with habits earlier suites never ran (red team, round 13): a category folder named as no Python
 * name can be (smart-routing) importing a helper beside it; a relative import where no package can be named; a
 * test_*.py or __init__.py given to run; an intermediate base whose generate_order raises NotImplementedError;
 * `return order, reason`; market_data read as an object (market_data.bid). A real interpreter runs each.
 */
import assert from 'node:assert/strict';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}";
const RELATIVE =
  'from .helper import UNITS\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
  "    def generate_order(self, market_data, signal=None):\n        return {'q': UNITS}\n";

describe('Python components: trader habits', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('habits', 10_000, { options: (o) => void (options = o), dir: () => undefined });

  it('a folder named smart-routing or "my algos" is a package: its component imports the helper beside it', async () => {
    const files = ['core/orders/smart-routing', 'core/orders/my algos', 'core/orders/2024'].map((folder, i) => {
      write(`${folder}/helper.py`, `UNITS = ${1000 * (i + 1)}\n`);
      return write(`${folder}/routed.py`, RELATIVE);
    });
    for (const [i, file] of files.entries()) {
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(r.output, { q: 1000 * (i + 1) });
    }
    // Warm: each folder's helper is its own.
    const worker = new PythonWorker(options);
    try {
      for (const [i, file] of [...files, ...files].entries()) {
        const r = await worker.run({ file, marketData: {} });
        assert.deepEqual(r.output, { q: 1000 * ((i % 3) + 1) }, r.error?.message);
      }
    } finally {
      await worker.dispose();
    }
  });

  it('a relative import no package can be named for says to import the helper by its plain name, not to install it', async () => {
    write('core/orders/v1.2/helper.py', 'UNITS = 5\n');
    const dotted = write('core/orders/v1.2/comp.py', RELATIVE);
    write('loose/helper.py', 'UNITS = 5\n');
    const top = write('loose/comp.py', RELATIVE);
    for (const [file, why] of [
      [dotted, /no package can be named for .*v1\.2 \(a folder name holds a dot/],
      [top, /it sits at the top of the package root \(.*loose\)/],
    ] as const) {
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error?.code, 'IMPORT_ERROR', r.error?.message);
      assert.equal(r.error.line, 1);
      assert.match(r.error.message, /a relative import needs the component inside a package/);
      assert.match(r.error.message, why);
      assert.match(r.error.message, /`from \.helper import x` -> `from helper import x`/);
      assert.doesNotMatch(r.error.message, /install it/);
    }
    // A helper's own relative import that fails is not the component's: the usual message, at the component's line.
    write('loose/pkgless.py', 'from .other import X\n');
    const viaHelper = write(
      'loose/uses.py',
      `import pkgless\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const h = await runComponentCold(options, { file: viaHelper, marketData: {} });
    assert.equal(h.error?.code, 'IMPORT_ERROR');
    assert.match(h.error.message, /install it into the interpreter/);
  });

  it('test_*.py and __init__.py are not components: refused before anything runs, in a run and a batch', async () => {
    const component = write(
      'core/orders/algos/sized.py',
      'from core.orders.order_base import OrderBase\n\nclass Sized(OrderBase):\n    qty = 1000\n' +
        "    def generate_order(self, market_data, signal=None):\n        return {'q': self.qty}\n",
    );
    // A test's stand-in subclass would otherwise have been run as the component, and its order placed.
    const test = write(
      'core/orders/algos/test_sized.py',
      'from core.orders.algos.sized import Sized\n\nclass Huge(Sized):\n    qty = 10 ** 9\n\n' +
        'def test_qty():\n    assert Huge({}).generate_order({})["q"] == 10 ** 9\n',
    );
    const init = write('core/orders/algos/__init__.py', 'from .sized import Sized\n\nclass Again(Sized):\n    pass\n');
    assert.deepEqual((await runComponentCold(options, { file: component, marketData: {} })).output, { q: 1000 });
    const worker = new PythonWorker(options);
    try {
      for (const [file, what] of [
        [
          test,
          /test_sized\.py is a test \(test_\*\.py\), which the component contract says is not a component; run the component it tests/,
        ],
        [init, /__init__\.py is a package's __init__\.py, which the component contract says is not a component/],
      ] as const) {
        const cold = await runComponentCold(options, { file, marketData: {} });
        const warm = await worker.run({ file, marketData: {} });
        for (const r of [cold, warm]) {
          assert.equal(r.output, null);
          assert.equal(r.error?.code, 'NOT_A_COMPONENT');
          assert.equal(r.error.file, file);
          assert.match(r.error.message, what);
        }
        const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1]] });
        assert.equal(batch.ok, false);
        assert.equal(batch.error?.code, 'NOT_A_COMPONENT');
      }
    } finally {
      await worker.dispose();
    }
  });

  it('an intermediate base whose generate_order raises NotImplementedError is not a component: its leaf runs', async () => {
    const file = write(
      'core/orders/sized.py',
      'from core.orders.order_base import OrderBase\n\nclass SizedBase(OrderBase):\n    fraction = 0.01\n\n' +
        '    def size(self, market_data):\n        return market_data["capital"] * self.fraction\n\n' +
        '    def generate_order(self, market_data, signal=None):\n        """Left to subclasses."""\n' +
        '        raise NotImplementedError("subclasses say how")\n\n' +
        'class SizedMarket(SizedBase):\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'q': self.size(market_data)}\n\n" +
        'class Half(SizedBase):\n    fraction = 0.5\n',
    );
    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(file);
      assert.deepEqual(
        info.classes.map((c) => [c.name, c.entryPoint]),
        [
          ['SizedBase', null],
          ['SizedMarket', 'generate_order'],
          ['Half', null],
        ],
      );
      const r = await worker.run({ file, marketData: { capital: 10_000 } });
      assert.equal(r.error, undefined, r.error?.message);
      assert.equal(r.className, 'SizedMarket');
      assert.deepEqual(r.output, { q: 100 });
      // Asked for by name, the base runs, and raises its own error at its line.
      const asked = await worker.run({ file, className: 'SizedBase', marketData: { capital: 10_000 } });
      assert.equal(asked.error?.code, 'COMPONENT_ERROR');
      assert.equal(asked.error.line, 11);
      assert.match(asked.error.message, /NotImplementedError: subclasses say how/);
    } finally {
      await worker.dispose();
    }
    // Two leaves under such a base are still two components, and only they are named.
    const two = write(
      'core/orders/two.py',
      'from core.orders.order_base import OrderBase\n\nclass Base(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        raise NotImplementedError\n\n' +
        `class A(Base):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n\n` +
        `class B(Base):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const t = await runComponentCold(options, { file: two, marketData: {} });
    assert.equal(t.error?.code, 'AMBIGUOUS_COMPONENT_CLASS');
    assert.match(t.error.message, /several order components \(A \(line 7\), B \(line 11\)\)/);
  });

  it('`return order, reason` is refused at its return with how to keep the reason; two orders are left to SPtrader', async () => {
    const file = write(
      'core/orders/explained.py',
      'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
        `    def generate_order(self, market_data, signal=None):\n        order = ${ORDER}\n` +
        "        return order, 'the signal said so'\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'NOT_SERIALIZABLE', r.error?.message);
    assert.equal(r.error.line, 6);
    assert.match(
      r.error.message,
      /returned a tuple of 2 values, a dict and a text, not the order itself; return the dict alone/,
    );
    const pair = write(
      'core/orders/pair.py',
      `class C:\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}, ${ORDER}\n`,
    );
    const p = await runComponentCold(options, { file: pair, marketData: {} });
    assert.equal(p.error, undefined, p.error?.message);
    assert.equal(Array.isArray(p.output) && p.output.length, 2);
  });

  it('market_data.bid or signal.side read as an attribute says to read it by key', async () => {
    const file = write(
      'core/orders/dotted.py',
      'class C:\n    def generate_order(self, market_data, signal=None):\n' +
        '        if signal:\n            return signal.side\n' +
        "        return {'symbol': market_data.symbol, 'price': market_data.bid}\n",
    );
    const md = await runComponentCold(options, { file, marketData: { symbol: 'EUR_USD', bid: 1.1 } });
    assert.equal(md.error?.code, 'COMPONENT_ERROR');
    assert.equal(md.error.line, 5);
    assert.match(
      md.error.message,
      /market_data is a dict, read by key: market_data\['symbol'\] or market_data\.get\('symbol'\) \(it has 'symbol'\)$/,
    );
    const sig = await runComponentCold(options, { file, marketData: {}, signal: { strength: 0.8 } });
    assert.equal(sig.error?.line, 4);
    assert.match(
      sig.error?.message ?? '',
      /the signal is a dict, read by key: signal\['side'\] or signal\.get\('side'\) \(it has no 'side' either \(its keys: strength\)\)$/,
    );
  });
});
