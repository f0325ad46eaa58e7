/**
 * Components as traders declare them (red team, components round 7). A base class whose hook for its subclasses only
 * raises NotImplementedError (a template method without abc) made its file ambiguous, so the leaf never ran. A
 * __metadata__ with one value JSON cannot carry (a parameter's 'type': int, the Python type itself) was left out
 * whole without a word, its risk_limits with it, so an order past them was sent. A timedelta, a set or bytes in an
 * order said only that they cannot be sent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 6000}";

const TEMPLATE = `from core.orders.order_base import OrderBase


class SideDecider(OrderBase):
    quantity = 2000

    def decide(self, market_data, signal):
        raise NotImplementedError("subclasses decide the side")

    def generate_order(self, market_data, signal=None):
        side = self.decide(market_data, signal)
        if side is None:
            return None
        return {"symbol": "EUR_USD", "side": side, "order_type": "market", "quantity": self.quantity}


class SpreadFade(SideDecider):
    def decide(self, market_data, signal):
        return "sell" if market_data["ask"] - market_data["bid"] < 0.0002 else None
`;

/** `'type': int` in a parameter; risk_limits of 5,000 units. */
const TYPED = `from core.orders.order_base import OrderBase

__metadata__ = {
    "name": "typed",
    "parameters": {"qty": {"type": int, "default": 2000, "min": 1000, "max": 10000}, "hedge": {"type": bool, "default": False}},
    "risk_limits": {"max_position_size": 5000},
}


class Typed(OrderBase):
    def generate_order(self, market_data, signal=None):
        return ${ORDER}
`;

describe('Python components: declarations as traders write them', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('declared', 10_000, { options: (o) => void (options = o), dir: () => undefined });

  it('a base whose hook only raises NotImplementedError is not run: its leaf is the component', async () => {
    const file = write('template_method.py', TEMPLATE);
    const r = await runComponentCold(options, { file, marketData: { bid: 1.1, ask: 1.1001 } });
    assert.equal(r.ok, true, r.error?.message);
    assert.equal(r.className, 'SpreadFade');
    assert.deepEqual(r.output, { symbol: 'EUR_USD', side: 'sell', order_type: 'market', quantity: 2000 });
    // Read without running the file alike (the CodeLens and the replay's class picker).
    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(file);
      assert.deepEqual(
        info.classes.map((c) => [c.name, c.entryPoint]),
        [
          ['SideDecider', null],
          ['SpreadFade', 'generate_order'],
        ],
      );
      // A replay batch runs the leaf too.
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid', 'ask'], rows: [[1.1, 1.1001]] });
      assert.equal(batch.ok, true, batch.error?.message);
      assert.equal(batch.items[0]?.ok, true);
    } finally {
      await worker.dispose();
    }
    // Two leaves of one template base: the two leaves are named, the base is not.
    const two = write(
      'two_leaves.py',
      `${TEMPLATE}\n\nclass Buyer(SideDecider):\n    def decide(self, market_data, signal):\n        return 'buy'\n`,
    );
    const t = await runComponentCold(options, { file: two, marketData: { bid: 1.1, ask: 1.1001 } });
    assert.equal(t.error?.code, 'AMBIGUOUS_COMPONENT_CLASS');
    assert.match(t.error.message, /several order components \(SpreadFade \(line 17\), Buyer \(line 22\)\)/);
    // A lone class with such a hook is still the component (nothing derives it): it raises where it calls the hook.
    const lone = write('lone.py', TEMPLATE.slice(0, TEMPLATE.indexOf('\n\nclass SpreadFade')) + '\n');
    const l = await runComponentCold(options, { file: lone, marketData: { bid: 1.1, ask: 1.1001 } });
    assert.equal(l.error?.code, 'COMPONENT_ERROR');
    assert.equal(l.error.line, 8);
    assert.match(l.error.message, /NotImplementedError: subclasses decide the side/);
  });

  it("a parameter's 'type': int is the type's name, read and run; its risk_limits are kept", async () => {
    const file = write('typed.py', TYPED);
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.ok, true, r.error?.message);
    // Before, __metadata__ was None here: its risk_limits never reached the engine, and an order of 6,000 filled.
    assert.deepEqual(r.metadata?.['risk_limits'], { max_position_size: 5000 });
    assert.deepEqual(r.metadata?.['parameters'], {
      qty: { type: 'int', default: 2000, min: 1000, max: 10000 },
      hedge: { type: 'bool', default: false },
    });
    assert.equal(r.stderr, '');
    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(file);
      assert.equal(info.metadataError, undefined);
      assert.deepEqual(info.metadata?.['parameters'], r.metadata?.['parameters']);
      // Checked as the whole number it declares when the file runs.
      const half = await worker.run({ file, marketData: {}, parameters: { qty: 2500.5 } });
      assert.equal(half.error?.code, 'INVALID_PARAMETER');
      assert.match(half.error.message, /the parameter 'qty' is 2500\.5, .*: it is not a whole number/);
    } finally {
      await worker.dispose();
    }
  });

  it('any other value JSON cannot carry leaves out its key, said; one in risk_limits stops the run at its line', async () => {
    const head =
      'from core.orders.order_base import OrderBase\n\nclass Limit:\n    def __init__(self, units):\n        self.units = units\n\n';
    const tail = `\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`;
    const author = write(
      'author.py',
      `${head}__metadata__ = {"name": "x", "author": object(), "risk_limits": {"max_position_size": 5000}}${tail}`,
    );
    const a = await runComponentCold(options, { file: author, marketData: {} });
    assert.equal(a.ok, true, a.error?.message);
    assert.deepEqual(a.metadata, { name: 'x', risk_limits: { max_position_size: 5000 } });
    assert.equal(
      a.stderr,
      "[sptrader] __metadata__['author'] was left out: the value at __metadata__['author'] is an object, which cannot be sent as JSON; return numbers, strings, lists and dicts\n",
    );
    const limits = write(
      'limits.py',
      `${head}__metadata__ = {"name": "x", "risk_limits": {"max_position_size": Limit(5000)}}${tail}`,
    );
    const worker = new PythonWorker(options);
    try {
      for (const r of [
        await worker.run({ file: limits, marketData: {} }),
        await worker.runBatch({ file: limits, common: {}, keys: ['bid'], rows: [[1.1]] }),
      ]) {
        assert.equal(r.ok, false);
        assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
        assert.equal(r.error.line, 7);
        assert.match(
          r.error.message,
          /^__metadata__\['risk_limits'\] cannot be read: the value at __metadata__\['risk_limits'\]\.max_position_size is a Limit, .*; the limits it declares could not be applied, so nothing was sent/,
        );
      }
    } finally {
      await worker.dispose();
    }
  });

  it('a timedelta, a set or bytes in an order is refused saying what to return instead', async () => {
    const head =
      'from datetime import timedelta\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
      '    def generate_order(self, market_data, signal=None):\n';
    for (const [value, hint] of [
      [
        "'expires_at': timedelta(hours=4)",
        /\(a timedelta is a duration: .* market_data\['timestamp_ms'\] \+ 14400000; .*\.total_seconds\(\)\)$/,
      ],
      ["'metadata': {'tags': {'a'}}", /\(a set: return sorted\(\.\.\.\) or list\(\.\.\.\) of it\)$/],
      ["'metadata': {'raw': b'ab'}", /\(bytes: return its \.decode\(\) or \.hex\(\)\)$/],
    ] as const) {
      const file = write(
        'value.py',
        `${head}        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': 1.1, 'quantity': 1, ${value}}\n`,
      );
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
      assert.equal(r.error.line, 6);
      assert.match(r.error.message, hint);
    }
  });

  it("a parameter a computed __metadata__ does not allow is said at its declaration's line", async () => {
    const file = write(
      'computed.py',
      'from decimal import Decimal\nfrom core.orders.order_base import OrderBase\n\n__metadata__ = dict(\n' +
        "    name='computed',\n    parameters={\n        'qty': {'type': 'int', 'default': 2000, 'max': 10000},\n    },\n" +
        "    risk_limits={'max_position_size': Decimal('5000')},\n)\n\n" +
        `class C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const r = await runComponentCold(options, { file, marketData: {}, parameters: { qty: 20000 } });
    assert.equal(r.error?.code, 'INVALID_PARAMETER');
    assert.equal(r.error.line, 7);
    // A signalling NaN Decimal is the NaN it stands for (it was 'could not be read as JSON: ValueError'), which
    // SPtrader's validation then refuses at the order's field.
    const snan = write(
      'snan.py',
      'from decimal import Decimal\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
        "    def generate_order(self, market_data, signal=None):\n        return {'quantity': Decimal('sNaN')}\n",
    );
    const s = await runComponentCold(options, { file: snan, marketData: {} });
    assert.equal(s.ok, true, s.error?.message);
    assert.deepEqual(s.output, { quantity: { __sptrader_nonfinite__: 'NaN' } });
  });

  it('the bundled OrderBase.to_json writes a datetime expires_at as ISO 8601 (it raised: not JSON serializable)', async () => {
    const file = write(
      'envelope_gtd.py',
      'from datetime import datetime, timezone\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n' +
        "        return self.to_json({'symbol': 'EUR_USD', 'expires_at': datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)})\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.ok, true, r.error?.message);
    assert.deepEqual(r.output, {
      type: 'order_request',
      order: { symbol: 'EUR_USD', expires_at: '2030-01-02T03:04:05+00:00' },
      metadata: { component: 'C', version: '1.0' },
    });
  });

  it('a parameter the constructor takes by name has no argument for, and __metadata__ does not declare, is refused', async () => {
    const file = write(
      'shipped.py',
      'from core.base.order import Order\n\nclass ContextMarket(Order):\n' +
        "    def __init__(self, base_size=0.01, max_slippage=0.001, urgency='normal'):\n        self.base_size = base_size\n\n" +
        "    def execute(self, market_state):\n        return {'type': 'market', 'symbol': 'EUR_USD', 'side': 'buy', 'size': self.base_size}\n",
    );
    // A misspelt --param base_sise=0.1 was dropped: the order went at the default size, without a word.
    const r = await runComponentCold(options, { file, marketData: {}, parameters: { base_sise: 0.1 } });
    assert.equal(r.error?.code, 'INVALID_PARAMETER');
    assert.equal(r.error.line, 4);
    assert.equal(
      r.error.message,
      "the parameter 'base_sise' was given, but ContextMarket.__init__ (line 4) takes no such argument (it takes base_size, max_slippage, urgency) and __metadata__['parameters'] does not declare it: it would be dropped and the component run without it (did you mean 'base_size'?); nothing was sent",
    );
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({
        file,
        common: {},
        keys: ['bid'],
        rows: [[1.1]],
        parameters: { base_sise: 0.1 },
      });
      assert.equal(batch.error?.code, 'INVALID_PARAMETER');
      // Taken by name, or declared (SPtrader reads some, such as symbol, itself), it runs as before.
      const ok = await worker.run({ file, marketData: {}, parameters: { base_size: 0.1 } });
      assert.deepEqual(ok.output, { type: 'market', symbol: 'EUR_USD', side: 'buy', size: 0.1 });
      const declared = write(
        'declared.py',
        `__metadata__ = {'parameters': {'symbol': {'type': 'str'}}}\n${readFileSync(file, 'utf8')}`,
      );
      const d = await worker.run({ file: declared, marketData: {}, parameters: { symbol: 'GBP_USD' } });
      assert.equal(d.ok, true, d.error?.message);
    } finally {
      await worker.dispose();
    }
  });

  it("a base's __init__ in another file raising KeyError('a sentence') is said at the leaf's class, not as a parameter", async () => {
    write(
      'strict_base.py',
      'from core.orders.order_base import OrderBase\n\nclass StrictBase(OrderBase):\n    def __init__(self, config):\n' +
        "        super().__init__(config)\n        if 'account' not in config:\n" +
        "            raise KeyError('missing settings: account')\n",
    );
    const file = write(
      'strict_leaf.py',
      'from strict_base import StrictBase\n\n\nclass StrictLeaf(StrictBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'CONSTRUCTOR_ERROR');
    assert.equal(r.error.line, 4);
    // It said "the parameter 'missing settings: account' was not given … --param missing settings: account=VALUE".
    assert.equal(
      r.error.message,
      "creating StrictLeaf raised KeyError: 'missing settings: account' (raised at strict_base.py:7 in __init__)",
    );
    // Its generate_order failing in the base's file, on what the leaf's hook returned: at the leaf's class too, in a
    // run and on each record of a replay batch (they had no line).
    write(
      'desk_base.py',
      'from core.orders.order_base import OrderBase\n\nclass DeskBase(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        side, qty, extra = self.decide(market_data)\n' +
        "        return dict(extra, symbol='EUR_USD', side=side, quantity=qty)\n",
    );
    const leaf = write(
      'bad_shape.py',
      "from desk_base import DeskBase\n\nclass BadShape(DeskBase):\n    def decide(self, market_data):\n        return 'buy', 1000\n",
    );
    const g = await runComponentCold(options, { file: leaf, marketData: {} });
    assert.equal(g.error?.code, 'COMPONENT_ERROR');
    assert.equal(g.error.line, 3);
    assert.match(g.error.message, /\(raised at desk_base\.py:5 in generate_order\)$/);
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file: leaf, common: {}, keys: ['bid'], rows: [[1.1], [1.2]] });
      assert.equal(batch.ok, true, batch.error?.message);
      assert.deepEqual(
        batch.items.map((i) => (i.ok ? null : i.error.line)),
        [3, 3],
      );
    } finally {
      await worker.dispose();
    }
  });
});
