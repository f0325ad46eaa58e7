/**
 * A batch sent key by key (numbers as float64 bytes: src/python/batchColumns.ts, decoded by
 * python/sptrader_harness/batch_columns.py) gives a component exactly what the same batch sent as JSON
 * rows gives it: same Python types (int where JSON writes plain digits, float otherwise, None for NaN),
 * same values, same strings. Checked with a real python3 on generated columns, and malformed columns
 * are refused with a protocol error that names the column.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { encodeColumn } from '../../../src/python/batchColumns';

describe('replay batches sent key by key', function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  let worker: PythonWorker;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 30_000,
    });
    dir = mkdtempSync(join(tmpdir(), 'sptrader-batch-columns-'));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    file = join(dir, 'core', 'orders', 'show.py');
    // Prints each value's type and repr, in key order: what the component saw, exactly.
    writeFileSync(
      file,
      `from core.orders.order_base import OrderBase

class Show(OrderBase):
    def generate_order(self, market_data, signal=None):
        print(repr([(k, type(v).__name__, repr(v)) for k, v in market_data.items()]))
        return None
`,
    );
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const seen = async (keys: string[], columns: unknown[][], asColumns: boolean): Promise<string> => {
    const size = columns[0]?.length ?? 0;
    const rows = Array.from({ length: size }, (_, j) => columns.map((c) => c[j]));
    const r = await worker.runBatch({
      file,
      common: { symbol: 'X' },
      keys,
      ...(asColumns ? { columns, size } : { rows }),
    });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, size);
    return r.stdout;
  };

  const number = fc.oneof(
    fc.double(),
    fc.integer({ min: -1e6, max: 1e6 }),
    fc.constantFrom(
      0,
      -0,
      1e20,
      1279219045357689900,
      2 ** 53,
      2 ** 53 - 1,
      1e21,
      -1e21,
      2 ** 53 + 2,
      1.5e-7,
      5e-324,
      Number.MAX_VALUE,
      NaN,
      Infinity,
    ),
  );
  const text = fc.oneof(fc.string(), fc.constantFrom('a\nb', '', '2022-01-03T00:00:00.000Z', '\u00e9\u{1F600}'));
  const column = (n: number): fc.Arbitrary<unknown[]> =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }),
      },
      { weight: 3, arbitrary: fc.array(number, { minLength: n, maxLength: n }) },
      { weight: 2, arbitrary: fc.array(fc.integer(), { minLength: n, maxLength: n }) },
      { weight: 2, arbitrary: fc.array(text, { minLength: n, maxLength: n }) },
      {
        weight: 1,
        arbitrary: fc.array(fc.oneof(number, text, fc.constant(null), fc.boolean(), fc.constant({ a: [1, 2.5] })), {
          minLength: n,
          maxLength: n,
        }),
      },
    );
  const batch = fc
    .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }))
    .chain(([n, width]) => fc.array(column(n), { minLength: width, maxLength: width }));

  it('the component sees the same types and values as from JSON rows (generated columns)', async () => {
    await fc.assert(
      fc.asyncProperty(batch, async (columns) => {
        const keys = columns.map((_, c) => `k${c}`);
        assert.equal(await seen(keys, columns, true), await seen(keys, columns, false));
      }),
      { numRuns: 100 },
    );
  });

  it('numbers travel as float64 bytes; ints, mixed and odd values keep their JSON meaning', async () => {
    assert.equal(encodeColumn([1.5, 2.25])[0], 'f64');
    assert.equal(encodeColumn([1, 2])[0], 'i64');
    assert.equal(encodeColumn([1e20, 2])[0], 'json');
    assert.deepEqual(encodeColumn([0.5, 2]).slice(2), [[1]]);
    assert.deepEqual(encodeColumn([1.5, 2, -0]).slice(2), [[1, 2]]);
    assert.equal(encodeColumn([1.5, NaN])[0], 'json');
    assert.equal(encodeColumn(['a', 'b'])[0], 'lines');
    assert.equal(encodeColumn(['a\nb', 'c'])[0], 'json');
    const keys = ['price', 'count', 'big', 'odd', 'when'];
    const columns = [
      [1.0842, 1, 1.5e-7],
      [100, 101, -0],
      [1e20, 1e21, 2 ** 53 + 2],
      [NaN, null, 'x'],
      ['2022-01-03T00:00:00.000Z', '2022-01-03T00:01:00.000Z', ''],
    ];
    const out = await seen(keys, columns, true);
    assert.equal(out, await seen(keys, columns, false));
    assert.match(out, /\('price', 'int', '1'\)/);
    assert.match(out, /\('big', 'float', '1e\+21'\)/);
    assert.match(out, /\('big', 'int', '100000000000000000000'\)/);
    assert.match(out, /\('odd', 'NoneType', 'None'\)/);
  });

  it('a batch with no varying key still runs every item', async () => {
    const r = await worker.runBatch({ file, common: { symbol: 'X' }, keys: [], columns: [], size: 3 });
    assert.equal(r.ok, true);
    assert.equal(r.done, 3);
    assert.equal(r.stdout.trim().split('\n').length, 3);
  });

  it('malformed columns are refused as a protocol error naming the column, and nothing runs', async () => {
    const r = await worker.runBatch({ file, common: {}, keys: ['a', 'b'], columns: [[1, 2], [3]], size: 2 });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'PROTOCOL_ERROR');
    assert.match(r.error?.message ?? '', /column b has 1 values, the batch 2 items/);
    assert.equal(r.stdout, '');
  });
});
