/**
 * Slips a trader makes that earlier suites never ran (red team, rt-comp8), through Test Order on the paper venue with
 * a real interpreter and engine: an order field mistyped ('time_in_forc': 'IOC' rested as GTC, the key sent as
 * metadata; 'limit_prce' was told "a limit order needs a limit price"); a time in force written out in words; a
 * parent order's field under another name ('duration_seconds' was told "duration_s must be a number"); `return
 * order,` and `return str(order)`; a quantity left inside a one-element numpy array; a UserDict; a component that
 * lowered Python's recursion limit (the harness could not answer: PROTOCOL_ERROR, a replay stopped as INTERNAL);
 * a USD_JPY order of 1,000 dollars valued at 150,000 (the paper venue priced JPY_USD, its yen rate, at 1.0); a market
 * order from a component whose __metadata__['order_types'] lists only 'limit', sent without a word; a limit price of
 * 1e308 or 1e-320, denied as Infinity ("must be a number") or 0 after it was put on the tick.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { runTestOrder, type TestOrderOutcome, type TestOrderRequest } from '../../../src/usecases/testOrder';
import { formatPrice } from '../../../src/usecases/priceText';
import { LOOSE } from '../execution/engineHelpers';
import { componentFolder } from '../../kit/componentFolder';

const BASE = 'from core.orders.order_base import OrderBase\n';
/** A component whose generate_order is `body` (its lines indented by 8); its `return` is on line 5 when body is one line. */
const designed = (body: string, head = ''): string =>
  `${BASE}${head}\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}`;
const MARKET = "'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000";

describe('Python components: slips a trader makes (rt-comp8)', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('slips', 10_000, { options: (o) => void (options = o), dir: () => undefined });
  let worker: PythonWorker;
  let clock: TestClock;
  let broker: PaperBroker;
  let updates: OrderUpdate[];
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let auditDir: string;
  beforeEach(async () => {
    worker = new PythonWorker(options);
    clock = new TestClock(Date.now());
    broker = new PaperBroker({ clock, seed: 7 });
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    auditDir = mkdtempSync(join(tmpdir(), 'sptrader-slips-audit-'));
    audit = (await AuditLog.open(auditDir, { clock })).log;
    engine = new ExecutionEngine({ clock, brokers: { paper: broker }, audit, limits: LOOSE });
    await engine.connect('paper');
  });
  afterEach(async () => {
    await engine.close();
    await audit.close();
    await worker.dispose();
    rmSync(auditDir, { recursive: true, force: true });
  });
  const run = (request: TestOrderRequest): Promise<TestOrderOutcome> =>
    runTestOrder({ source: 'execute-paper', ...request }, { runner: worker, broker, engine, clock });

  /** The one INVALID_ORDER the run ended with, at the component's `return`, nothing sent. */
  async function refused(file: string, line = 5): Promise<{ path?: string; message: string }> {
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 1, JSON.stringify(outcome.errors));
    assert.equal(updates.length, 0, 'an order reached the venue');
    assert.equal(outcome.errors.length, 1, JSON.stringify(outcome.errors));
    const [error] = outcome.errors;
    assert.equal(error?.code, 'INVALID_ORDER', error?.message);
    assert.equal(error.file, file);
    assert.equal(error.line, line, 'the return statement');
    return error;
  }

  describe('an order field mistyped is refused at its key with the field meant, never sent as metadata', () => {
    const cases: Array<[string, string, string]> = [
      // The IOC a market order asked for: the order went GTC, 'time_in_forc' in its metadata.
      ['time_in_forc', `${MARKET}, 'time_in_forc': 'IOC'`, 'time_in_force'],
      [
        'limit_prce',
        "'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1000, 'limit_prce': 1.05",
        'price',
      ],
      ['quantiy', "'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantiy': 1000", 'quantity'],
      ['ordertpye', "'symbol': 'EUR_USD', 'side': 'buy', 'ordertpye': 'market', 'quantity': 1000", 'order_type'],
      [
        'stop_prcie',
        "'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'stop', 'quantity': 1000, 'stop_prcie': 1.2",
        'stop_price',
      ],
      ['client_order_idd', `${MARKET}, 'client_order_idd': 'mine-1'`, 'client_order_id'],
    ];
    for (const [key, fields, meant] of cases) {
      it(`'${key}' is '${meant}'`, async () => {
        const error = await refused(write(`${key}.py`, designed(`        return {${fields}}\n`)));
        assert.equal(error.path, key);
        // Said once, at the key written: not also "is required" / "needs a price" for the field it meant.
        assert.match(error.message, new RegExp(`^${key}: '${key}' is not an order field: did you mean '${meant}'\\?`));
      });
    }

    it('metadata keys near no field, and a flag, are the order’s metadata: it is sent', async () => {
      const extra = "'reason': 'x', 'note': 'n', 'signal': 's', 'sides': 2, 'expired': False, 'timeframe': 'M1'";
      const outcome = await run({ file: write('meta.py', designed(`        return {${MARKET}, ${extra}}\n`)) });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.deepEqual(outcome.order?.metadata, {
        reason: 'x',
        note: 'n',
        signal: 's',
        sides: 2,
        expired: false,
        timeframe: 'M1',
      });
    });
  });

  it('a time in force written out in words is that time in force', async () => {
    for (const [words, tif] of [
      ['Fill or Kill', 'FOK'],
      ['good_till_cancelled', 'GTC'],
      ['Immediate-Or-Cancel', 'IOC'],
    ] as const) {
      const file = write(
        `tif_${tif}.py`,
        designed(
          `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1000, 'price': round(market_data['bid'] - 0.01, 5), 'time_in_force': '${words}'}\n`,
        ),
      );
      const outcome = await run({ file });
      assert.equal(outcome.errors.length, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.order?.time_in_force.type, tif);
    }
  });

  it("a side in a broker's words names the side meant (refused: 'sell_short' is not a side here)", async () => {
    const error = await refused(
      write(
        'short.py',
        designed(
          "        return {'symbol': 'EUR_USD', 'side': 'Sell Short', 'order_type': 'market', 'quantity': 1000}\n",
        ),
      ),
    );
    assert.match(error.message, /side 'Sell Short' is not valid; use 'buy' or 'sell' \(did you mean 'sell'\?\)/);
  });

  it('a parent order\'s field under another name says the field it is; a missing one "is required"', async () => {
    const twap = (fields: string) =>
      designed(`        return {'algo': 'twap', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 3000, ${fields}}\n`);
    const seconds = await refused(write('twap_seconds.py', twap("'duration_seconds': 60, 'slices': 6")));
    assert.equal(seconds.path, 'duration_seconds');
    assert.match(
      seconds.message,
      /'duration_seconds' is not a field of a twap parent order; 'duration_seconds' is duration_s here; a twap parent order takes/,
    );
    const slices = await refused(write('twap_slices.py', twap("'duration_s': 60, 'num_slices': 6")));
    assert.match(slices.message, /'num_slices' is slices here/);
    const missing = await refused(write('twap_missing.py', twap("'duration_s': 60")));
    assert.equal(missing.path, 'slices');
    assert.match(missing.message, /slices is required/);
    const iceberg = await refused(
      write(
        'iceberg.py',
        designed(
          "        return {'algo': 'iceberg', 'symbol': 'EUR_USD', 'side': 'sell', 'size': 5000, 'limit_price': 1.2, 'display_qty': 1000}\n",
        ),
      ),
    );
    assert.match(
      iceberg.message,
      /^size, display_qty: 'size' and 'display_qty' are not fields of an iceberg parent order; 'size' is quantity here; 'display_qty' is display_quantity here; an iceberg parent order takes/,
    );
  });

  it('`return order,` and `return str(order)` say what was returned, at the return', async () => {
    const comma = write('comma.py', designed(`        order = {${MARKET}}\n        return order,\n`));
    const c = await run({ file: comma });
    assert.equal(c.errors[0]?.code, 'NOT_SERIALIZABLE', JSON.stringify(c.errors));
    assert.equal(c.errors[0].line, 6);
    assert.match(
      c.errors[0].message,
      /returned a tuple holding the order, not the order itself \(a comma after `return order`\?\); return the dict alone/,
    );
    const text = write('text.py', designed(`        return str({${MARKET}, 'flag': True})\n`));
    const t = await run({ file: text });
    assert.equal(t.errors[0]?.code, 'COMPONENT_ERROR', JSON.stringify(t.errors));
    assert.equal(t.errors[0].line, 5);
    assert.match(
      t.errors[0].message,
      /returned a string that is not JSON: a dict written out as Python text \(str\(order\) or repr/,
    );
    assert.equal(updates.length, 0);
  });

  it('a quantity inside a one-element array, and a UserDict order, say how to return what was meant', async () => {
    const list = await refused(
      write(
        'one_element.py',
        designed("        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': [1000.0]}\n"),
      ),
    );
    assert.match(
      list.message,
      /quantity must be a number, got a list \[1000\]: a list \(or numpy array, pandas Series\) of one number: take the number, e\.g\. float\(x\[0\]\) or x\.item\(\)/,
    );
    const numpy = spawnSync(options.interpreter.executable, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
    if (numpy) {
      const array = await refused(
        write(
          'numpy_array.py',
          designed(
            "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': np.round(np.array([1000.4]))}\n",
            'import numpy as np\n',
          ),
        ),
        6,
      );
      assert.match(array.message, /take the number, e\.g\. float\(x\[0\]\) or x\.item\(\)/);
    }
    const mapping = await run({
      file: write(
        'userdict.py',
        designed(`        return UserDict({${MARKET}})\n`, 'from collections import UserDict\n'),
      ),
    });
    assert.equal(mapping.errors[0]?.code, 'NOT_SERIALIZABLE', JSON.stringify(mapping.errors));
    assert.match(
      mapping.errors[0].message,
      /is a UserDict, which cannot be sent as JSON; .* \(a mapping: return dict\(\.\.\.\) of it\)$/,
    );
  });

  it('a component that lowers the recursion limit runs (the harness keeps its own), in a run and a replay batch', async () => {
    const atImport = write(
      'low_at_import.py',
      designed(`        return {${MARKET}}\n`, 'import sys\nsys.setrecursionlimit(12)\n'),
    );
    const inCall = write(
      'low_in_call.py',
      designed(`        import sys\n        sys.setrecursionlimit(10)\n        return {${MARKET}}\n`),
    );
    for (const file of [atImport, inCall]) {
      const outcome = await run({ file });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.response?.status.status, 'filled');
      assert.match(
        outcome.component.stderr,
        /\[sptrader\] sys\.setrecursionlimit\(1[02]\) was taken as \d+: the harness that runs the component needs that much/,
      );
    }
    // A replay batch of the same: every record answered (it stopped at the first as INTERNAL).
    for (const file of [atImport, inCall]) {
      const batch = await worker.runBatch({
        file,
        common: { symbol: 'EUR_USD' },
        keys: ['bid'],
        rows: [[1.1], [1.2], [1.3]],
      });
      assert.equal(batch.ok, true, JSON.stringify(batch.error));
      assert.equal(batch.done, 3);
    }
    // Raising it is the component's to do, as before.
    const raised = write(
      'raised.py',
      designed(
        `        import sys\n        sys.setrecursionlimit(5000)\n        return {${MARKET}, 'metadata': {'limit': sys.getrecursionlimit()}}\n`,
      ),
    );
    const r = await run({ file: raised });
    assert.equal(r.order?.metadata['limit'], 5000, JSON.stringify(r.errors));
  });

  it('a limit price no tick can hold (1e308, 1e-320) is said as the price given, at the return', async () => {
    for (const [price, said] of [
      ['1e308', /^limit price 1e\+308 is too large for EUR_USD's tick size 0\.00001; check what computes it$/],
      ['1e-320', /^limit price 1e-320 is less than EUR_USD's tick size 0\.00001; check what computes it$/],
    ] as const) {
      const file = write(
        `price_${price.replace(/\W/g, '_')}.py`,
        designed(
          `        return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'limit', 'quantity': 1000, 'price': ${price}}\n`,
        ),
      );
      const outcome = await run({ file });
      assert.equal(outcome.exitCode, 1, JSON.stringify(outcome.errors));
      assert.equal(updates.length, 0, 'an order reached the venue');
      const [error] = outcome.errors;
      assert.equal(error?.code, 'INVALID_ORDER');
      assert.equal(error.line, 5);
      assert.deepEqual([error.path, error.value], ['price', price === '1e308' ? '1e+308' : price]);
      // It was the engine's denial of a price never given: "limit price must be a number", "... greater than zero".
      assert.match(error.message, said);
    }
    assert.equal(formatPrice(1e308, 5), '1e+308');
  });

  it("an order of a type __metadata__['order_types'] does not list is sent with a note saying so", async () => {
    const declaring = (types: string) =>
      write(
        `declares_${types.replace(/\W+/g, '_')}.py`,
        designed(`        return {${MARKET}}\n`, `__metadata__ = {'name': 'x', 'order_types': [${types}]}\n`),
      );
    const noteOf = async (types: string) => {
      const outcome = await run({ file: declaring(types) });
      assert.equal(outcome.response?.status.status, 'filled', JSON.stringify(outcome.errors));
      return outcome.notes.filter((n) => n.includes("__metadata__['order_types']"));
    };
    assert.deepEqual(await noteOf("'limit'"), [
      "the component returned a market order, which its __metadata__['order_types'] ('limit') does not list: is that the order it means to send?",
    ]);
    // Listed in another spelling, or a list with a word that is no order type here: nothing said.
    assert.deepEqual(await noteOf("'Limit', 'MKT'"), []);
    assert.deepEqual(await noteOf("'limit', 'smart'"), []);
  });

  it('a USD_JPY order of 1,000 dollars is worth about 1,000 dollars, not 150,000 (it was denied for buying power)', async () => {
    const file = write(
      'usd_jpy.py',
      designed("        return {'symbol': 'USD_JPY', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n"),
    );
    const outcome = await run({ file, symbol: 'USD_JPY' });
    assert.equal(outcome.denial, null, JSON.stringify(outcome.denial));
    assert.equal(outcome.response?.status.status, 'filled');
    const buyingPower = outcome.risk.find((c) => c.check === 'buying_power');
    assert.ok(buyingPower !== undefined && typeof buyingPower.actual === 'number', JSON.stringify(outcome.risk));
    assert.ok(Math.abs(buyingPower.actual - 1000) < 20, `valued at ${String(buyingPower.actual)} USD`);
  });
});
