/**
 * In a batch (replay), the output limit holds per record, as it does per Test Order run: a component that prints a
 * little on every record is not failed by how many records a batch holds, and one record printing past the limit
 * fails that record alone (nothing sent for it), with its index. Real python3.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

describe('printing in a batch', function () {
  this.timeout(30_000);
  let dir: string;
  let worker: PythonWorker;
  before(async () => {
    const interpreter = await resolveInterpreter(defaultInterpreterCandidates());
    worker = new PythonWorker({ interpreter, timeoutMs: 10_000, outputLimitBytes: 1000 });
    dir = mkdtempSync(join(tmpdir(), 'sptrader-batch-output-'));
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each record may print up to the limit; one past it fails that record only', async () => {
    const file = join(dir, 'chatty.py');
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class C(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        n = market_data['n']",
        "        print('x' * (5000 if n == 3 else 600))",
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': n + 1}",
        '',
      ].join('\n'),
    );
    const r = await worker.runBatch({ file, common: {}, keys: ['n'], rows: [[0], [1], [2], [3], [4], [5]] });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, 6);
    assert.deepEqual(
      r.items.map((i) => (i.ok ? [i.index, (i.output as { quantity: number }).quantity] : [i.index, i.error.code])),
      [
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 'OUTPUT_LIMIT_EXCEEDED'],
        [4, 5],
        [5, 6],
      ],
    );
    const failed = r.items[3];
    assert.ok(failed && !failed.ok);
    assert.match(failed.error.message, /printed 5,001 bytes on record 3, more than the limit of 1,000/);
    assert.ok(r.stdout.length <= 1000, `kept ${r.stdout.length}`);
    assert.match(r.stderr, /printed [\d,]+ bytes in this batch of records; the first 1,000 are kept/);
  });
});
