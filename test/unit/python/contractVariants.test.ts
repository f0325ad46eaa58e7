/**
 * Forms of the component contract found in SPtraderB's history beside the two the spec names: its other Order
 * base (core/orders/order.py, 2025-06-22) declared execute(self, market_state, signal_context). A real interpreter
 * runs each, as a Test Order and as a replay batch. And a component that changes the signal it is given: each record
 * of a replay batch gets the signal as the user gave it, as each Test Order run does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';

describe('SPtraderB contract variants', function () {
  this.timeout(30_000);
  let dir: string;
  let options: RunnerOptions;
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  before(async () => {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 10_000 };
    dir = mkdtempSync(join(tmpdir(), 'sptrader-variants-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const CONTEXT = [
    'from abc import ABC, abstractmethod', // 1
    '', // 2
    'class Order(ABC):', // 3
    '    @abstractmethod', // 4
    '    def execute(self, market_state, signal_context):', // 5
    '        pass', // 6
    '', // 7
    'class FollowSignal(Order):', // 8
    '    def execute(self, market_state, signal_context):', // 9
    "        side = signal_context.get('side', 'buy')", // 10
    "        return {'type': 'market', 'symbol': market_state['symbol'], 'side': side, 'size': 1000,", // 11
    "                'metadata': {'context': signal_context, 'in_state': 'signal' in market_state}}", // 12
    '',
  ].join('\n');

  it('execute(market_state, signal_context) gets the signal, or {} without one', async () => {
    const file = write('follow_signal.py', CONTEXT);
    const signal = { side: 'sell', strength: 0.8 };
    const withSignal = await runComponentCold(options, { file, marketData: { symbol: 'EUR_USD' }, signal });
    assert.equal(withSignal.error, undefined, withSignal.error?.message);
    assert.equal(withSignal.entryPoint, 'execute');
    assert.deepEqual(withSignal.output, {
      type: 'market',
      symbol: 'EUR_USD',
      side: 'sell',
      size: 1000,
      metadata: { context: signal, in_state: true },
    });
    const without = await runComponentCold(options, { file, marketData: { symbol: 'EUR_USD' } });
    assert.equal(without.error, undefined, without.error?.message);
    assert.deepEqual((without.output as { metadata: unknown }).metadata, { context: {}, in_state: false });
  });

  it('a replay batch passes it to every record', async () => {
    const file = write('follow_signal_batch.py', CONTEXT);
    const worker = new PythonWorker(options);
    try {
      const r = await worker.runBatch({
        file,
        common: { symbol: 'EUR_USD' },
        keys: ['bid'],
        rows: [[1.1], [1.2]],
        signal: { side: 'sell' },
      });
      assert.equal(r.ok, true);
      assert.deepEqual(
        r.items.map((i) => (i.ok ? (i.output as { side: string }).side : i.error.message)),
        ['sell', 'sell'],
      );
    } finally {
      await worker.dispose();
    }
  });

  it('a record of a replay batch gets the signal as given, whatever the records before did to theirs', async () => {
    const file = write(
      'consumes_signal.py',
      'class Consume:\n    def generate_order(self, market_data, signal=None):\n' +
        "        side = signal.pop('side', None)\n        signal['levels'].append(market_data['bid'])\n" +
        "        return {'symbol': 'EUR_USD', 'side': side, 'order_type': 'market', 'quantity': len(signal['levels'])}\n",
    );
    const worker = new PythonWorker(options);
    try {
      const r = await worker.runBatch({
        file,
        common: {},
        keys: ['bid'],
        rows: [[1.1], [1.2], [1.3]],
        signal: { side: 'sell', levels: [1.0] },
      });
      assert.equal(r.ok, true);
      assert.deepEqual(
        r.items.map((i) => (i.ok ? i.output : i.error.message)),
        [1, 2, 3].map(() => ({ symbol: 'EUR_USD', side: 'sell', order_type: 'market', quantity: 2 })),
      );
    } finally {
      await worker.dispose();
    }
  });

  describe('constructors take the parameters as their first argument says', () => {
    const META = "__metadata__ = {'parameters': {'base_size': {'type': 'float', 'default': 0.01}}}\n";
    const cases: Array<[string, string, string, unknown]> = [
      // [what, base, __init__ and what it keeps in self.kept, kept with base_size=0.02 given]
      [
        'an Order whose __init__ takes the dict by another name',
        'Order',
        'def __init__(self, params: dict):\n        self.kept = params',
        { base_size: 0.02 },
      ],
      [
        'an OrderBase whose __init__ takes the parameter by name',
        'OrderBase',
        "def __init__(self, base_size=0.5):\n        super().__init__({'base_size': base_size})\n        self.kept = base_size",
        0.02,
      ],
      [
        'an OrderBase whose __init__ has an optional argument that is not a parameter',
        'OrderBase',
        'def __init__(self, lookback=20):\n        super().__init__({})\n        self.kept = lookback',
        20,
      ],
      [
        'an OrderBase with the spec’s __init__(self, config)',
        'OrderBase',
        'def __init__(self, config):\n        super().__init__(config)\n        self.kept = config',
        { base_size: 0.02 },
      ],
      [
        'an Order with the shipped MarketOrder’s keywords',
        'Order',
        "def __init__(self, base_size=0.01, urgency='normal', **params):\n        self.kept = [base_size, urgency, params]",
        [0.02, 'normal', {}],
      ],
    ];
    for (const [what, base, init, kept] of cases)
      it(what, async () => {
        const module = base === 'Order' ? 'core.base.order' : 'core.orders.order_base';
        const entry =
          base === 'Order'
            ? 'def execute(self, market_state):\n        return {"kept": self.kept}'
            : 'def generate_order(self, market_data, signal=None):\n        return {"kept": self.kept}';
        const file = write(
          `ctor_${cases.findIndex((c) => c[0] === what)}.py`,
          `from ${module} import ${base}\n${META}\nclass C(${base}):\n    ${init}\n\n    ${entry}\n`,
        );
        const r = await runComponentCold(options, { file, marketData: {}, parameters: { base_size: 0.02 } });
        assert.equal(r.error, undefined, r.error?.message);
        assert.deepEqual(r.output, { kept });
      });

    it('an Order with no __init__ of its own is made without arguments, and the run says its parameters were not passed', async () => {
      const file = write(
        'ctor_none.py',
        `from core.base.order import Order\n${META}\nclass C(Order):\n    kept = 'class'\n\n` +
          '    def execute(self, market_state):\n        return {"kept": self.kept}\n',
      );
      const r = await runComponentCold(options, { file, marketData: {}, parameters: { base_size: 0.02 } });
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(r.output, { kept: 'class' });
      assert.match(r.stderr, /\[sptrader\] C has no __init__, so its parameters \(base_size\) were not passed to it/);
    });
  });

  it('a __metadata__ computed at import has given parameters checked against it, in a run and a replay batch', async () => {
    const file = write(
      'computed_metadata.py',
      "PARAMS = {'qty': {'type': 'int', 'default': 3000, 'min': 1, 'max': 5000}, 'mode': {'options': ['fast', 'slow']}}\n" +
        "__metadata__ = dict(name='computed', parameters=PARAMS)\n\n" +
        "class C:\n    def __init__(self, qty, mode='fast'):\n        self.qty = qty\n\n" +
        "    def generate_order(self, market_data, signal=None):\n        return {'q': self.qty}\n",
    );
    const ok = await runComponentCold(options, { file, marketData: {}, parameters: { qty: 4000 } });
    assert.deepEqual(ok.output, { q: 4000 });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ qty: 9000 }, /^the parameter 'qty' is 9000, .*: it is above the maximum 5000; nothing was sent$/],
      [{ qty: 2.5 }, /'qty' is 2\.5, .*: it is not a whole number/],
      [{ mode: 'FAST' }, /'mode' is 'FAST', .*: it is not one of its options \('fast', 'slow'\)/],
    ];
    for (const [parameters, message] of cases) {
      const r = await runComponentCold(options, { file, marketData: {}, parameters });
      assert.equal(r.error?.code, 'INVALID_PARAMETER', JSON.stringify(parameters));
      assert.match(r.error?.message ?? '', message);
    }
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1]], parameters: { qty: 0 } });
      assert.equal(batch.ok, false);
      assert.equal(batch.error?.code, 'INVALID_PARAMETER');
      assert.match(batch.error?.message ?? '', /below the minimum 1/);
    } finally {
      await worker.dispose();
    }
  });

  it("SPtraderB's OrderIntent dataclass is refused at its return with the conversion to a dict", async () => {
    const file = write(
      'intent.py',
      'from dataclasses import dataclass\n\n@dataclass\nclass OrderIntent:\n    side: str\n    size: float\n\n' +
        "class C:\n    def execute(self, market_state):\n        return OrderIntent('buy', 1000)\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
    assert.equal(r.error?.line, 10);
    assert.match(r.error?.message ?? '', /^the value at order is an OrderIntent, .*dataclasses\.asdict/);
  });

  it('generate_order(self, **kwargs) gets market_data and signal by name, in a run and a replay batch', async () => {
    const file = write(
      'by_name.py',
      'class C:\n    def generate_order(self, **kwargs):\n' +
        "        return {'symbol': kwargs['market_data']['symbol'], 'signal': kwargs['signal']}\n",
    );
    const r = await runComponentCold(options, { file, marketData: { symbol: 'EUR_USD' }, signal: { side: 'sell' } });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, { symbol: 'EUR_USD', signal: { side: 'sell' } });
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file, common: { symbol: 'GBP_USD' }, keys: ['i'], rows: [[1]] });
      assert.equal(batch.error, undefined, batch.error?.message);
      assert.deepEqual(batch.items[0]?.ok && batch.items[0].output, { symbol: 'GBP_USD', signal: null });
    } finally {
      await worker.dispose();
    }
  });

  it('an entry point that cannot take market_data is said at its def line, with the signature the contract declares', async () => {
    const designed = write('no_args.py', 'class C:\n    x = 1\n\n    def generate_order(self):\n        return None\n');
    const r = await runComponentCold(options, { file: designed, marketData: {} });
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.equal(r.error?.line, 4);
    assert.match(
      r.error?.message ?? '',
      /^generate_order could not be called: TypeError: .*takes 1 positional argument but 2 were given; the contract declares it generate_order\(self, market_data, signal=None\)$/,
    );
    const shipped = write('three_args.py', 'class C:\n    def execute(self, a, b, c):\n        return None\n');
    const s = await runComponentCold(options, { file: shipped, marketData: {} });
    assert.equal(s.error?.line, 2);
    assert.match(
      s.error?.message ?? '',
      /missing 1 required positional argument: 'c'; the contract declares it execute\(self, market_state\)$/,
    );
    // A TypeError inside the body keeps its own line and wording.
    const inside = write('inside.py', 'class C:\n    def execute(self, market_state):\n        return len(5)\n');
    const i = await runComponentCold(options, { file: inside, marketData: {} });
    assert.equal(i.error?.line, 3);
    assert.match(i.error?.message ?? '', /^execute raised TypeError: object of type 'int' has no len\(\)$/);
  });
});
