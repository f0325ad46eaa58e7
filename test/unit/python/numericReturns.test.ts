/**
 * Numbers as traders compute them: numpy float32 prices (the decimals numpy shows, not the float32 noise), numpy
 * arrays in metadata (their items), fractions.Fraction quantities (a number, not "cannot be sent"). A real
 * interpreter with numpy runs each, in a run and in a replay batch; skipped where numpy is not installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';

const COMPONENT = [
  'from fractions import Fraction', // 1
  'import numpy as np', // 2
  'from core.orders.order_base import OrderBase', // 3
  '', // 4
  'class C(OrderBase):', // 5
  '    def generate_order(self, market_data, signal=None):', // 6
  "        bid = np.float32(market_data['bid'])", // 7
  "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': bid - np.float32(0.0005),", // 8
  "                'quantity': Fraction(3000, 3), 'metadata': {'levels': np.array([1.5, 2.1], dtype=np.float32),", // 9
  "                'grid': np.arange(4).reshape(2, 2), 'half': np.float16(0.1), 'share': Fraction(1, 4),", // 10
  "                'scalar': np.array(np.float32(0.3)), 'gap': np.float32('nan')}}", // 11
  '',
].join('\n');
const EXPECTED = {
  symbol: 'EUR_USD',
  side: 'buy',
  order_type: 'limit',
  price: 1.08452,
  quantity: 1000,
  metadata: {
    levels: [1.5, 2.1],
    grid: [
      [0, 1],
      [2, 3],
    ],
    half: 0.1,
    share: 0.25,
    scalar: 0.3,
    gap: { __sptrader_nonfinite__: 'NaN' },
  },
};

describe('numbers a component computes with numpy and fractions', function () {
  this.timeout(30_000);
  let dir: string;
  let options: RunnerOptions;
  before(async function () {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 10_000 };
    try {
      execFileSync(options.interpreter.executable, ['-c', 'import numpy'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'sptrader-numbers-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('a run sends float32 as the decimals numpy shows, arrays as lists and fractions as numbers', async () => {
    const file = join(dir, 'float32_limit.py');
    writeFileSync(file, COMPONENT);
    const r = await runComponentCold(options, { file, marketData: { bid: 1.08502 } });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, EXPECTED);
    // Which numbers were narrow numpy floats, as stored and as sent (rt-cli10): 1.5 is the same either way, NaN is
    // refused where it matters.
    assert.deepEqual(r.narrowFloats, [
      { path: 'order.price', type: 'float32', exact: 1.0845199823379517, sent: 1.08452 },
      { path: 'order.metadata.levels[1]', type: 'float32', exact: 2.0999999046325684, sent: 2.1 },
      { path: 'order.metadata.half', type: 'float16', exact: 0.0999755859375, sent: 0.1 },
      { path: 'order.metadata.scalar', type: 'float32', exact: 0.30000001192092896, sent: 0.3 },
    ]);
  });

  it('a replay batch gives each record the same', async () => {
    const file = join(dir, 'float32_batch.py');
    writeFileSync(file, COMPONENT);
    const worker = new PythonWorker(options);
    try {
      const r = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.08502], [1.1]] });
      assert.equal(r.ok, true);
      const items = r.items.map((i) => (i.ok ? i.output : i.error));
      // float32 1.1 - 0.0005 is 1.0995001 as numpy prints it (1.0995001077651978 as a Python float)
      assert.deepEqual(items, [EXPECTED, { ...EXPECTED, price: 1.0995001 }]);
    } finally {
      await worker.dispose();
    }
  });

  it('a pandas-like object is refused with the conversion that makes it a list', async () => {
    const file = join(dir, 'series.py');
    writeFileSync(
      file,
      'class Series:\n    def tolist(self):\n        return [1, 2]\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'metadata': {'s': Series()}}\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
    assert.equal(r.error?.line, 7);
    assert.match(r.error?.message ?? '', /order\.metadata\.s is a Series.*tolist\(\)/);
  });

  it("the bundled OrderBase's to_json writes numpy numbers and Decimals as JSON numbers; other objects still raise", async () => {
    const file = join(dir, 'to_json_numbers.py');
    writeFileSync(
      file,
      [
        'import datetime', // 1
        'from decimal import Decimal', // 2
        'import numpy as np', // 3
        'from core.orders.order_base import OrderBase', // 4
        '', // 5
        'class C(OrderBase):', // 6
        '    def generate_order(self, market_data, signal=None):', // 7
        "        order = {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': np.int64(1000),", // 8
        "                 'price': np.float32(1.08502) - np.float32(0.0005), 'metadata': {'levels': np.arange(2), 'd': Decimal('0.5')}}", // 9
        "        if market_data.get('when'):", // 10
        "            order['metadata']['when'] = datetime.timedelta(days=1)", // 11
        '        return self.to_json(order)', // 12
        '',
      ].join('\n'),
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, {
      type: 'order_request',
      order: {
        symbol: 'EUR_USD',
        side: 'buy',
        order_type: 'limit',
        quantity: 1000,
        price: 1.08452,
        metadata: { levels: [0, 1], d: 0.5 },
      },
      metadata: { component: 'C', version: '1.0' },
    });
    // A date is ISO 8601 there (traderDeclarations.test.ts); a duration is not JSON and still raises.
    const dated = await runComponentCold(options, { file, marketData: { when: true } });
    assert.equal(dated.error?.code, 'COMPONENT_ERROR');
    assert.equal(dated.error?.line, 12);
    assert.match(dated.error?.message ?? '', /TypeError: Object of type timedelta is not JSON serializable/);
  });
});
