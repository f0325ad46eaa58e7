/**
 * Issue 16: the harness says which `return` produced an order, and a syntax error's column, with a
 * real interpreter; every Python from 3.8 on that is installed is tried when SPTRADER_PYTHONS lists them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';

const HEADER =
  'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n';

// Line numbers below count from 1: line 4 is the `def`.
const MULTI = `${HEADER}        kind = market_data.get('kind')
        if kind == 'none':
            return None
        if kind == 'sell':
            return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': 1}
        if kind == 'limit':
            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': 1.1, 'quantity': 1}
        if kind == 'built':
            order = dict(symbol='EUR_USD', side='buy', order_type='market', quantity=-1000)
            return order
        return {
            'symbol': 'EUR_USD',
            'side': 'buy',
            'order_type': 'market',
            'quantity': market_data.get('q', 1),
        }
`;

const interpreters = (process.env['SPTRADER_PYTHONS'] ?? '').split(',').filter(Boolean);

for (const python of interpreters.length ? interpreters : [undefined]) {
  describe(`the return that produced the order, and syntax error columns${python ? ` (${python})` : ''}`, function () {
    this.timeout(30_000);
    let dir: string;
    let options: RunnerOptions;
    let worker: PythonWorker;
    const write = (name: string, text: string): string => {
      const file = join(dir, 'core', 'orders', name);
      writeFileSync(file, text);
      return file;
    };
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sptrader-returns-'));
      mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
      options = {
        interpreter: await resolveInterpreter(python ? [python] : defaultInterpreterCandidates()),
        timeoutMs: 5000,
      };
      worker = new PythonWorker(options);
    });
    after(async () => {
      await worker.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('one return that can give an order: its line, on every run', async () => {
      const file = write(
        'single.py',
        `${HEADER}        if market_data.get('skip'):\n            return None\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': -5}\n`,
      );
      for (let i = 0; i < 2; i++) {
        const r = await worker.run({ file, marketData: {} });
        assert.ok(r.ok, JSON.stringify(r.error));
        assert.deepEqual(r.returnedAt, { file, line: 7 });
      }
      const none = await worker.run({ file, marketData: { skip: true } });
      assert.equal(none.output, null);
      assert.equal(none.returnedAt, undefined);
    });

    it('several returns: the one that ran, a multi-line one at its `return` line', async () => {
      const file = write('multi.py', MULTI);
      const cases: Array<[Record<string, unknown>, number]> = [
        [{ kind: 'sell' }, 9],
        [{ kind: 'limit' }, 11],
        [{ kind: 'built' }, 14],
        [{ kind: 'other', q: 3 }, 15],
        [{ kind: 'sell' }, 9],
      ];
      // Python 3.12+ records the return that ran (sys.monitoring); before it, one run is traced for that function
      // alone (returns.py). Either way the return itself, though `return order` could have made any of these dicts
      // (before 3.12 this was the def line, 4, marked as not the return).
      for (const [marketData, line] of cases) {
        const r = await worker.run({ file, marketData });
        assert.ok(r.ok, JSON.stringify(r.error));
        assert.deepEqual(r.returnedAt, { file, line }, JSON.stringify(marketData));
      }
    });

    it('several returns written out as different dicts: told apart by what was returned, on every version', async () => {
      const file = write(
        'literals.py',
        `${HEADER}        if market_data.get('kind') == 'sell':\n            return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': -1}\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': -1}\n`,
      );
      assert.deepEqual((await worker.run({ file, marketData: { kind: 'sell' } })).returnedAt, { file, line: 6 });
      assert.deepEqual((await worker.run({ file, marketData: {} })).returnedAt, { file, line: 7 });
    });

    it('an inherited generate_order: the file and line of the base class that returned', async () => {
      const baseFile = write(
        'base_component.py',
        `${HEADER}        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 0}\n`,
      );
      const file = write(
        'derived.py',
        `from core.orders.base_component import C as Base\n\nclass D(Base):\n    pass\n`,
      );
      const r = await worker.run({ file, marketData: {} });
      assert.ok(r.ok, JSON.stringify(r.error));
      assert.deepEqual(r.returnedAt, { file: baseFile, line: 5 });
    });

    it("a syntax error's column is the one its message names, from run and from inspect", async () => {
      const file = write('syntax.py', `${HEADER}        x = (1 2)\n        return None\n`);
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error?.code, 'SYNTAX_ERROR');
      assert.equal(r.error.line, 5);
      const named = /line (\d+), column (\d+)/.exec(r.error.message);
      assert.ok(named, r.error.message);
      assert.equal(Number(named[1]), r.error.line);
      assert.equal(Number(named[2]), r.error.column);
      // the column points into the line: at the "1" (3.10+) or the "2" (3.8, 3.9)
      assert.ok(['1', '2'].includes('        x = (1 2)'[r.error.column! - 1]!), String(r.error.column));
      if (r.error.endColumn !== undefined) {
        assert.equal(r.error.endLine, 5);
        assert.ok(r.error.endColumn > r.error.column!);
      }
      await assert.rejects(
        worker.inspect(file),
        (e: { code: string; line: number; column: number }) =>
          e.code === 'SYNTAX_ERROR' && e.line === 5 && e.column === r.error!.column,
      );
    });

    it('a syntax error Python gives no end for has a column and no end', async () => {
      const file = write('unclosed.py', `${HEADER}        return {'symbol': 'EUR_USD'\n`);
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error?.code, 'SYNTAX_ERROR');
      assert.ok(r.error.column === undefined || r.error.column >= 1);
      if (r.error.endColumn !== undefined)
        assert.ok(r.error.endLine! > r.error.line! || r.error.endColumn > r.error.column!);
    });
  });
}
