/**
 * What a component is given and what it imports, as traders write them (red team, components round 3): a value typed
 * for a 'float' parameter reaches the component as a float, in Test Order and in a replay batch.
 */
import assert from 'node:assert/strict';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

/** Sizes its order from a 'float' fraction as numpy users do: an array of the fraction, scaled in place. */
const FRACTION = `from core.orders.order_base import OrderBase

__metadata__ = {'name': 'fraction', 'parameters': {
    'fraction': {'type': 'float', 'default': 0.5, 'min': 0, 'max': 4},
    'legs': {'type': 'int', 'default': 2},
    'weight': {'type': 'number', 'default': 1},
    'step': {'type': 'float', 'default': 1.0, 'options': [0.5, 1, 2]},
}}


class Fraction(OrderBase):
    def generate_order(self, market_data, signal=None):
        c = self.config
        kinds = dict((k, type(v).__name__) for k, v in sorted(c.items()))
        if not isinstance(c['fraction'], float):
            raise TypeError('fraction is %r, a %s' % (c['fraction'], type(c['fraction']).__name__))
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000 * c['fraction'],
                'metadata': kinds}
`;

describe('Python components: inputs as traders give them', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('inputs', 10_000, { options: (o) => void (options = o), dir: () => undefined });

  it("a whole number given for a 'float' parameter is a float (JSON carried 2 and 2.0 as one number)", async () => {
    const file = write('fraction.py', FRACTION);
    const parameters = { fraction: 2, legs: 3, weight: 4, step: 1 };
    const r = await runComponentCold(options, { file, marketData: { bid: 1.1, ask: 1.1001 }, parameters });
    assert.equal(r.ok, true, r.error?.message);
    // 'int' stays int; 'number' takes a whole number as it is; an option is the option as written.
    assert.deepEqual((r.output as { metadata: unknown }).metadata, {
      fraction: 'float',
      legs: 'int',
      step: 'int',
      weight: 'int',
    });
    // A replay batch gets the same instance inputs.
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({
        file,
        parameters,
        common: {},
        keys: ['bid', 'ask'],
        rows: [[1.1, 1.1001]],
      });
      assert.equal(batch.ok, true, batch.error?.message);
      assert.equal(batch.items[0]?.ok, true, JSON.stringify(batch.items[0]));
    } finally {
      await worker.dispose();
    }
  });
});
