/**
 * In a batch (replay), the output limit holds per record, as it does per Test Order run: a component that prints a
 * little on every record is not failed by how many records a batch holds, and one record printing past the limit is
 * stopped at that print (not left printing until its time limit) and ends the batch before it, with its index and
 * line: the replay stops there, as after a timeout. Real python3.
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

  it('each record may print up to the limit; one past it is stopped at its print and ends the batch before it', async () => {
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
    const rows = [[0], [1], [2], [3], [4], [5]];
    const r = await worker.runBatch({ file, common: {}, keys: ['n'], rows, instance: 'chatty' });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, 3);
    assert.deepEqual(
      r.items.map((i) => (i.ok ? [i.index, (i.output as { quantity: number }).quantity] : [i.index, i.error.code])),
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    );
    assert.equal(r.stopped?.code, 'OUTPUT_LIMIT_EXCEEDED');
    assert.equal(r.stopped?.line, 6);
    assert.match(
      r.stopped?.message ?? '',
      /printed more than the limit of 1,000 bytes on record 3 \(the print at line 6 passed it\) and was stopped there/,
    );
    assert.ok(r.stdout.length <= 1000, `kept ${r.stdout.length}`);
    assert.match(
      r.stderr,
      /printed [\d,]+ bytes in this batch of records; what it printed before passing the limit of 1,000 bytes is kept \(the print that passed it is not\)/,
    );
    // The batch from that record is answered with the same error, not run again.
    const next = await worker.runBatch({
      file,
      common: {},
      keys: ['n'],
      rows: rows.slice(3),
      indexStart: 3,
      instance: 'chatty',
    });
    assert.equal(next.ok, false);
    assert.equal(next.done, 0);
    assert.equal(next.error?.code, 'OUTPUT_LIMIT_EXCEEDED');
  });

  it('a record that prints in an endless loop ends at the limit, not at its time limit; one that swallows the stop, when it returns', async () => {
    for (const [name, body] of [
      ['loops.py', ['        while True:', "            print('tick', market_data['n'])"]],
      [
        'swallows.py',
        [
          '        for i in range(200_000):',
          '            try:',
          "                print('tick', i)",
          '            except BaseException:',
          '                pass',
        ],
      ],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(
        file,
        [
          'from core.orders.order_base import OrderBase',
          '',
          'class C(OrderBase):',
          '    def generate_order(self, market_data, signal=None):',
          "        if market_data['n'] < 2:",
          '            return None',
          ...body,
          '',
        ].join('\n'),
      );
      const r = await worker.runBatch({ file, common: {}, keys: ['n'], rows: [[0], [1], [2], [3]] });
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.done, 2, name);
      assert.equal(r.stopped?.code, 'OUTPUT_LIMIT_EXCEEDED', `${name}: ${r.stopped?.message}`);
      assert.equal(r.stopped?.line, name === 'loops.py' ? 8 : 9);
    }
  });
});
