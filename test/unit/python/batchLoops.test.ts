/**
 * run_batch has two loops over its records (python/sptrader_harness/server.py): plain_records for the common case
 * (generate_order(market_data, signal) taking the signal by position, no signal, every row complete) and the
 * general loop for the rest. Both must answer alike: the same items, errors, printed market_data,
 * state requests and records done. A component whose generate_order takes its signal by keyword only runs in the
 * general loop; the same component taking it by position in plain_records. Both run generated batches of the same
 * actions (nothing, orders, state reads, kept market_data, exceptions, non-dict returns, too much output or too
 * large an answer, sys.exit, mutations), with and without a validate_order that vetoes some orders, with a real
 * python3, and their answers are compared.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import type { ComponentBatchRequest, ComponentStateSync } from '../../../src/python/runner';

const ACTIONS = [
  'none',
  'none',
  'none',
  'show',
  'keep',
  'old',
  'order',
  'read',
  'raise',
  'missing',
  'text',
  'odd',
  'big',
  'loud',
  'loudraise',
  'exit',
  'mutate',
  'nan',
] as const;

const body = (signature: string, vets: boolean): string =>
  [
    'import sys',
    'from core.orders.order_base import OrderBase',
    '',
    'class C(OrderBase):',
    '    def __init__(self, config):',
    '        super().__init__(config)',
    '        self.kept = []',
    `    def generate_order(${signature}):`,
    "        act = market_data['act']",
    "        x = market_data['x']",
    "        if act == 'show':",
    '            print(repr(list(market_data.items())))',
    "        elif act == 'keep':",
    '            self.kept.append(market_data)',
    "        elif act == 'old':",
    "            print([k.get('capital') for k in self.kept])",
    "        elif act == 'order':",
    "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'x': x}",
    "        elif act == 'read':",
    "            return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': 1, 'seen': market_data['capital']}",
    "        elif act == 'raise':",
    "            raise ValueError('boom %r' % (x,))",
    "        elif act == 'missing':",
    "            return market_data['nope']",
    "        elif act == 'text':",
    '            return \'{"symbol": "EUR_USD", "side": "buy", "order_type": "market", "quantity": 2}\'',
    "        elif act == 'odd':",
    '            return [1, x]',
    "        elif act == 'big':",
    "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'pad': 'p' * 900}",
    "        elif act == 'loud':",
    "            print('y' * 5000)",
    "        elif act == 'loudraise':",
    "            print('z' * 5000)",
    "            raise RuntimeError('after printing')",
    "        elif act == 'exit':",
    '            sys.exit(3)',
    "        elif act == 'mutate':",
    "            market_data['x'] = -1",
    "            market_data['new'] = 1",
    "            del market_data['symbol']",
    '            print(sorted(market_data))',
    "        elif act == 'nan':",
    "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': float('nan')}",
    '        return None',
    // With validate_order: a veto by False, by a reason, an exception, and a verdict that is neither.
    ...(vets
      ? [
          '    def validate_order(self, order):',
          "        if order.get('quantity') == 2:",
          '            return False',
          "        if 'pad' in order:",
          "            raise ValueError('no padding')",
          "        if order.get('side') == 'sell':",
          "            return 'no selling'",
          "        return 'maybe' == order.get('x') or None",
        ]
      : []),
    '',
  ].join('\n');

describe('run_batch: the common-case loop answers as the general one', function () {
  this.timeout(300_000);
  let worker: PythonWorker;
  let dir: string;
  const files = { plain: '', general: '', plainVets: '', generalVets: '' };
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 30_000,
      outputLimitBytes: 4000,
      maxAnswerBytes: 1024,
    });
    dir = mkdtempSync(join(tmpdir(), 'sptrader-batch-loops-'));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    for (const name of Object.keys(files) as Array<keyof typeof files>) {
      files[name] = join(dir, 'core', 'orders', `${name}.py`);
      const signature = name.startsWith('plain')
        ? 'self, market_data, signal=None'
        : 'self, market_data, *, signal=None';
      writeFileSync(files[name], body(signature, name.endsWith('Vets')));
    }
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Case {
    acts: string[];
    xs: number[];
    columns: boolean;
    indexKey: boolean;
    stopOnOrder: boolean;
    vets: boolean;
    state: { values: number[]; until: number; next: number } | null;
  }

  /** What a batch answered, with the component's file named alike and the timings left out. */
  const answer = async (file: string, c: Case): Promise<unknown> => {
    const syncs: Array<{ index: number; items: unknown }> = [];
    const keys = ['act', 'x'];
    const req: ComponentBatchRequest = {
      file,
      common: { symbol: 'EUR_USD', x: 'common' },
      keys,
      ...(c.columns ? { columns: [c.acts, c.xs], size: c.acts.length } : { rows: c.acts.map((a, i) => [a, c.xs[i]]) }),
      ...(c.indexKey ? { indexKey: 'bar_index', indexStart: 7 } : {}),
      stopOnOrder: c.stopOnOrder,
    };
    const state = c.state;
    if (state)
      req.state = {
        key: 'capital',
        values: state.values,
        until: state.until,
        onSync: async (s: ComponentStateSync) => {
          syncs.push({ index: s.index, items: s.items });
          return { values: [2000 + s.index, 3000 + s.index], until: state.next };
        },
      };
    const r = await worker.runBatch(req);
    const text = JSON.stringify({
      ok: r.ok,
      done: r.done,
      items: r.items,
      stdout: r.stdout,
      stderr: r.stderr,
      error: r.error,
      syncs: r.syncs,
      log: syncs,
      stopped: r.stopped,
    });
    return JSON.parse(text.split(file).join('FILE')) as unknown;
  };

  interface Answer {
    ok: boolean;
    items: Array<{ index: number; output: { seen: number } }>;
    log: Array<{ index: number; items: Array<{ index: number; output: { seen: number } }> }>;
  }

  const same = async (c: Case): Promise<void> => {
    const a = await answer(c.vets ? files.plainVets : files.plain, c);
    const b = await answer(c.vets ? files.generalVets : files.general, c);
    assert.deepEqual(a, b);
  };

  const cases = fc.integer({ min: 1, max: 40 }).chain((n) =>
    fc.record({
      acts: fc.array(fc.constantFrom(...ACTIONS), { minLength: n, maxLength: n }),
      xs: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }),
      columns: fc.boolean(),
      indexKey: fc.boolean(),
      stopOnOrder: fc.boolean(),
      vets: fc.boolean(),
      state: fc.option(
        fc.record({
          values: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 4 }),
          until: fc.integer({ min: 0, max: n + 2 }),
          next: fc.integer({ min: 1, max: 3 }),
        }),
      ),
    }),
  );

  it('the same items, errors, vetoes, market_data, state requests and records done (generated batches)', async () => {
    await fc.assert(
      fc.asyncProperty(cases, (c) => same(c as Case)),
      { numRuns: 60 },
    );
  });

  it("the same when the batch's items pass its answer limit; a read of the column, then of a state request", async () => {
    const n = 80;
    const big: Case = {
      acts: Array.from({ length: n }, () => 'big'),
      xs: Array.from({ length: n }, (_, i) => i),
      columns: true,
      indexKey: true,
      stopOnOrder: false,
      vets: false,
      state: null,
    };
    await same(big);
    // Said by the record (from indexStart 7) that passed the limit, not by a byte count read as a number of items.
    const tooLarge = (await answer(files.plain, big)) as { ok: boolean; error?: { code: string; message: string } };
    assert.equal(tooLarge.error?.code, 'ANSWER_TOO_LARGE');
    assert.match(
      tooLarge.error.message,
      /^the results of this batch are more than [\d,]+ bytes as JSON by record (\d+);/,
    );
    const record = Number(/by record (\d+)/.exec(tooLarge.error.message)?.[1]);
    assert.ok(record >= 7 && record < 7 + n, `record ${record}`);
    const a = (await answer(files.plain, {
      acts: ['none', 'read', 'none', 'read'],
      xs: [1, 2, 3, 4],
      columns: true,
      indexKey: false,
      stopOnOrder: false,
      vets: false,
      state: { values: [10, 11, 12], until: 4, next: 1 },
    })) as Answer;
    assert.equal(a.ok, true);
    // Record 1 reads the column's second value and orders; record 3 asks (with record 1's item) and gets 2003.
    assert.deepEqual(
      a.log.map((s) => s.index),
      [3],
    );
    assert.deepEqual(
      [...a.log.flatMap((s) => s.items), ...a.items].map((i) => [i.index, i.output.seen]),
      [
        [1, 11],
        [3, 2003],
      ],
    );
  });
});
