/**
 * Components as traders write them that earlier suites never ran (red team, round 13), through Test Order on the
 * paper venue with a real interpreter and engine: a stop loss or take profit written on a single order (it was sent
 * without them, as metadata: the position had no exit), a malformed `__metadata__['risk_limits']` said at its file
 * and line (the denial named no place), and a parent order's headline (it said "the component returned None").
 */
import assert from 'node:assert/strict';
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
import { describeOutcome } from '../../../src/usecases/describeOrder';
import { declaredRiskLimitsProblem } from '../../../src/usecases/componentLimitsAt';
import { LOOSE } from '../execution/engineHelpers';
import { componentFolder } from '../../kit/componentFolder';

const BASE = 'from core.orders.order_base import OrderBase\n';
const designed = (body: string): string =>
  `${BASE}\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}`;

describe('Python components: as traders write them (round 13)', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('trader', 10_000, { options: (o) => void (options = o), dir: () => undefined });
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
    auditDir = mkdtempSync(join(tmpdir(), 'sptrader-trader-audit-'));
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
    runTestOrder(request, { runner: worker, broker, engine, clock });

  describe('a stop loss or take profit on a single order is refused with the bracket that places them', () => {
    const cases: Array<[string, string, RegExp, RegExp]> = [
      [
        'designed, market',
        designed(
          "        a = market_data['ask']\n" +
            "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000,\n" +
            "                'stop_loss': 1.05, 'take_profit': 1.2}\n",
        ),
        /^stop_loss: 'stop_loss' and 'take_profit' are not fields of a single order: the order would be sent without them, as metadata, and nothing would close the position there; return a bracket/,
        /\{'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'stop_loss': 1\.05, 'take_profit': 1\.2\}/,
      ],
      [
        'designed, limit, sl/tp',
        designed(
          "        return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'limit', 'price': 1.3, 'quantity': 2000,\n" +
            "                'sl': 1.35, 'tp': 1.25}\n",
        ),
        /^sl: 'sl' and 'tp' are not fields of a single order/,
        /'side': 'sell', 'quantity': 2000, 'entry_price': 1\.3, 'stop_loss': 1\.35, 'take_profit': 1\.25\}/,
      ],
      [
        "OANDA's stopLossOnFill alone",
        designed(
          "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000,\n" +
            "                'stopLossOnFill': {'price': '1.05'}}\n",
        ),
        /^stopLossOnFill: 'stopLossOnFill' is not a field of a single order: the order would be sent without it/,
        /'stop_loss': \.\.\., 'take_profit': \.\.\.\}/,
      ],
      [
        'shipped execute, stop_loss_pips',
        'from core.base.order import Order\n\nclass C(Order):\n    def execute(self, market_state):\n' +
          "        return {'type': 'market', 'side': 'buy', 'size': 1000, 'symbol': 'EUR_USD',\n" +
          "                'stop_loss_pips': 20}\n",
        /^stop_loss_pips: 'stop_loss_pips' is not a field of a single order/,
        /return a bracket/,
      ],
      [
        'trailing stop distance',
        designed(
          "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000,\n" +
            "                'trailing_stop_distance': 0.001}\n",
        ),
        /^trailing_stop_distance: 'trailing_stop_distance' is not a field of a single order/,
        /return a trailing stop on a later call: \{'algo': 'trailing_stop'/,
      ],
    ];
    for (const [name, source, message, hint] of cases) {
      it(`${name}: INVALID_ORDER at the return, nothing sent`, async () => {
        const file = write(`${name.replace(/\W+/g, '_')}.py`, source);
        const outcome = await run({ file });
        assert.equal(outcome.exitCode, 1, JSON.stringify(outcome.errors));
        assert.equal(updates.length, 0, 'an order reached the venue');
        assert.equal(outcome.errors.length, 1, JSON.stringify(outcome.errors));
        const [error] = outcome.errors;
        assert.equal(error?.code, 'INVALID_ORDER');
        assert.equal(error.file, file);
        assert.ok(error.line !== undefined && error.line >= 5, `line ${error.line}`);
        assert.match(error.message, message);
        assert.match(error.message, hint);
      });
    }

    it('a trailing stop parent with trail_pips: INVALID_ORDER at its return, naming the field and what it takes', async () => {
      const file = write(
        'trail_pips.py',
        designed(
          "        return {'algo': 'trailing_stop', 'symbol': 'EUR_USD', 'side': 'sell', 'quantity': 1000,\n" +
            "                'trail_pips': 20}\n",
        ),
      );
      const outcome = await run({ file });
      assert.equal(outcome.exitCode, 1, JSON.stringify(outcome.errors));
      assert.equal(updates.length, 0, 'an order reached the venue');
      const [error] = outcome.errors;
      assert.equal(error?.code, 'INVALID_ORDER');
      assert.equal(error.file, file);
      assert.equal(error.line, 5, 'the return statement');
      assert.equal(error.path, 'trail_pips');
      assert.match(error.message, /^trail_pips: 'trail_pips' is not a field of a trailing_stop parent order; /);
      assert.match(error.message, /takes algo, symbol, side, quantity, trail_offset or trail_bps \(exactly one\)/);
    });

    it('the same exits inside metadata, False or None are left as they were: the order is sent', async () => {
      const file = write(
        'in_metadata.py',
        designed(
          "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000,\n" +
            "                'stop_loss': None, 'take_profit': False, 'metadata': {'stop_loss': 1.05}}\n",
        ),
      );
      const outcome = await run({ file });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.deepEqual(outcome.order?.metadata, { stop_loss: 1.05, take_profit: false });
    });

    it('the bracket it names is a valid parent order, said as one (not "the component returned None")', async () => {
      const file = write(
        'bracket.py',
        designed(
          "        return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000,\n" +
            "                'stop_loss': 1.05, 'take_profit': 1.2}\n",
        ),
      );
      const checked = await run({ file });
      assert.equal(checked.exitCode, 0, JSON.stringify(checked.errors));
      assert.equal(checked.parentSpec?.algo, 'bracket');
      assert.equal(describeOutcome(checked), 'BRACKET BUY 1,000 EUR_USD (a parent order) → valid, not started');
      assert.match(checked.summary, /so it was not started here; .*`sptrader algo bracket\.py`/);
      // Execute (the CLI's, which carries out no parent) says that nothing was sent, and what runs it.
      const executed = await run({ file, source: 'execute-paper' });
      assert.match(
        executed.summary,
        /which this command does not carry out: nothing was sent\. Run it with `sptrader algo bracket\.py`/,
      );
      assert.equal(updates.length, 0);
    });
  });

  it('reduce only, post only or a displayed size is refused (it went as metadata); `_order` after a type is read', async () => {
    const order = (extra: string): string =>
      designed(
        `        return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'limit', 'price': 1.3, 'quantity': 1000, ${extra}}\n`,
      );
    for (const [extra, message] of [
      [
        "'reduce_only': True",
        /^reduce_only: 'reduce_only' is an instruction SPtrader sends to no venue: the order would go without it, as metadata, and could open or add to a position instead of only reducing it/,
      ],
      [
        "'postOnly': True",
        /^postOnly: 'postOnly' is an instruction .* and could take liquidity at once instead of only resting/,
      ],
      ["'iceberg_qty': 100", /^iceberg_qty: .* return an iceberg parent order: \{'algo': 'iceberg'/],
      ["'hidden': True", /^hidden: .* and would show its whole size/],
    ] as const) {
      const outcome = await run({ file: write('flags.py', order(extra)) });
      assert.equal(outcome.exitCode, 1, `${extra}: ${JSON.stringify(outcome.errors)}`);
      assert.equal(outcome.errors[0]?.code, 'INVALID_ORDER');
      assert.equal(outcome.errors[0].line, 5);
      assert.match(outcome.errors[0].message, message);
    }
    assert.equal(updates.length, 0);
    // Said false, it is no instruction: kept as metadata, the order sent.
    const off = await run({ file: write('off.py', order("'post_only': False, 'reduce_only': False")) });
    assert.equal(off.exitCode, 0, JSON.stringify(off.errors));
    assert.deepEqual(off.order?.metadata, { post_only: false, reduce_only: false });
    // 'limit_order' / 'MARKET_ORDER' are the types they name, with a note.
    const named = await run({
      file: write(
        'named.py',
        designed(
          "        return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'LIMIT_ORDER', 'price': 1.3, 'quantity': 1000}\n",
        ),
      ),
    });
    assert.equal(named.exitCode, 0, JSON.stringify(named.errors));
    assert.deepEqual(named.order?.order_type, { type: 'limit', price: 1.3 });
    assert.ok(named.notes.includes("order_type 'LIMIT_ORDER' was read as 'limit'"), named.notes.join('; '));
  });

  it('a forgotten `return order` is noted at the def line; a None from a guard is not', async () => {
    const forgot = write(
      'forgot.py',
      designed(
        "        order = {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n" +
          '        self.validate_order(order)\n',
      ),
    );
    const outcome = await run({ file: forgot });
    assert.equal(outcome.exitCode, 0);
    assert.ok(
      outcome.notes.includes(
        'generate_order (forgot.py:4) has no return statement that gives a value, so it always returns None (no order); if it builds an order, end it with `return order`',
      ),
      outcome.notes.join('\n'),
    );
    // Async, and the shipped dialect: the same.
    const asyncForgot = write(
      'async_forgot.py',
      'from core.base.order import Order\n\nclass C(Order):\n    async def execute(self, market_state):\n' +
        "        order = {'type': 'market'}\n",
    );
    const a = await run({ file: asyncForgot });
    assert.ok(
      a.notes.some((n) => n.startsWith('execute (async_forgot.py:4) has no return statement')),
      a.notes.join(),
    );
    // A guard's None beside a return that gives the order, or an explicit `return None` only: no note.
    for (const [name, body] of [
      [
        'guard.py',
        "        if market_data.get('bid', 0) > 0:\n            return None\n        return {'symbol': 'X'}\n",
      ],
      ['explicit.py', '        return None\n'],
    ] as const) {
      const r = await run({ file: write(name, designed(body)) });
      assert.equal(r.exitCode, 0);
      assert.ok(!r.notes.some((n) => /no return statement/.test(n)), r.notes.join());
    }
  });

  it("an error raised inside a helper beside the component says the helper's file and line too", async () => {
    write('sizing.py', "def size_for(md):\n    risk = md['capital'] * 0.01\n    return risk / md.get('atr')\n");
    write(
      'conf.py',
      "import json\n\ndef load():\n    with open('no-such-settings.json') as f:\n        return json.load(f)\n",
    );
    write('rates.py', "RATES = {'EUR': 1.1}\nUSD = RATES['USD']\n");
    const inCall = write(
      'in_call.py',
      `${BASE}from sizing import size_for\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n` +
        "        qty = size_for(market_data)\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': qty}\n",
    );
    const inInit = write(
      'in_init.py',
      `${BASE}import conf\n\nclass C(OrderBase):\n    def __init__(self, config=None):\n        super().__init__(config or {})\n` +
        '        self.settings = conf.load()\n\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const atImport = write(
      'at_import.py',
      `${BASE}import rates\n${designed('        return None\n').slice(BASE.length)}`,
    );
    for (const [file, code, line, message] of [
      [inCall, 'COMPONENT_ERROR', 6, /^generate_order raised TypeError: .* \(raised at sizing\.py:3 in size_for\)$/],
      [inInit, 'CONSTRUCTOR_ERROR', 7, /^creating C raised FileNotFoundError: .* \(raised at conf\.py:4 in load\)/],
      [
        atImport,
        'IMPORT_ERROR',
        2,
        /^loading the component raised KeyError: 'USD' \(raised at rates\.py:2 in <module>\)$/,
      ],
    ] as const) {
      const outcome = await run({ file });
      const [error] = outcome.errors;
      assert.equal(error?.code, code, JSON.stringify(outcome.errors));
      assert.equal(error.file, file);
      assert.equal(error.line, line, error.message);
      assert.match(error.message, message);
    }
    // Raised by a library the component's own line called: that line, and no helper named.
    const own = write('own.py', designed("        import json\n        return json.loads('{bad')\n"));
    const outcome = await run({ file: own });
    assert.equal(outcome.errors[0]?.line, 6);
    assert.doesNotMatch(outcome.errors[0].message, /raised at/);
  });

  it('an entry point written as a module-level function is said at its def, with the class to put it in', async () => {
    const script = write(
      'script.py',
      '"""A script-style component."""\nimport math\n\n\ndef generate_order(market_data, signal=None):\n' +
        "    return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n",
    );
    const outcome = await run({ file: script });
    assert.equal(outcome.exitCode, 1);
    assert.equal(updates.length, 0);
    const [error] = outcome.errors;
    assert.equal(error?.code, 'NO_COMPONENT_CLASS');
    assert.equal(error.line, 5);
    assert.match(
      error.message,
      /; generate_order at line 5 is a module-level function, not a method: put it in a class, e\.g\. `class MyOrder\(OrderBase\):` with `def generate_order\(self, market_data, signal=None\)`/,
    );
    const shipped = write('shipped.py', 'def execute(market_state):\n    return None\n');
    const s = await run({ file: shipped });
    assert.equal(s.errors[0]?.line, 1);
    assert.match(
      s.errors[0].message,
      /execute at line 1 is a module-level function.*`def execute\(self, market_state\)`/,
    );
    // A helper file with neither: no line, as before.
    const helper = await run({ file: write('helper.py', 'def size_for(md):\n    return 1000\n') });
    assert.equal(helper.errors[0]?.code, 'NO_COMPONENT_CLASS');
    assert.equal(helper.errors[0].line, undefined);
  });

  describe("a malformed __metadata__['risk_limits'] is said at its file and line", () => {
    const ORDER = "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n";
    const cls = `\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${ORDER}`;
    const cases: Array<[string, string, number, RegExp]> = [
      [
        'the bad limit’s own line in a dict display',
        `${BASE}\n__metadata__ = {\n    'name': 'x',\n    'risk_limits': {\n        'max_order_value': 100000,\n` +
          `        'max_position_size': '10k',\n    },\n}\n${cls}`,
        7,
        /risk_limits\.max_position_size must be a finite number greater than zero, got '10k'/,
      ],
      [
        'an unknown limit in dict(...)',
        `${BASE}\n__metadata__ = dict(\n    name='x',\n    risk_limits=dict(\n        max_position_size=500,\n` +
          `        max_daily_loss=100,\n    ),\n)\n${cls}`,
        7,
        /risk_limits\.max_daily_loss is not a limit SPtrader enforces/,
      ],
      [
        'risk_limits that are no dict: the key’s line',
        `${BASE}\n__metadata__ = {'name': 'x',\n                'risk_limits': [10000]}\n${cls}`,
        4,
        /risk_limits: it must be a dict/,
      ],
    ];
    for (const [name, source, line, message] of cases) {
      it(`${name}: the denial's error has file and line, nothing sent`, async () => {
        const file = write(`${name.replace(/\W+/g, '_')}.py`, source);
        const outcome = await run({ file });
        assert.equal(outcome.exitCode, 3, JSON.stringify(outcome.errors));
        assert.equal(outcome.denial?.code, 'INVALID_RISK_LIMITS');
        assert.equal(updates.length, 0);
        const [error] = outcome.errors;
        assert.equal(error?.code, 'INVALID_RISK_LIMITS');
        assert.equal(error.file, file);
        assert.equal(error.line, line, error.message);
        assert.match(error.message, message);
        const base = file.split('/').pop() as string;
        assert.match(
          outcome.summary,
          new RegExp(`^Denied before sending \\(INVALID_RISK_LIMITS\\) at ${base}:${line}: `),
        );
        // As a replay reads it before any record runs: the same problem at the same line.
        const declared = declaredRiskLimitsProblem(await worker.inspect(file));
        assert.equal(declared?.line, line);
        assert.match(declared.message, message);
      });
    }

    it('computed at import: said at the __metadata__ assignment; valid limits are no problem', async () => {
      const file = write(
        'computed.py',
        `${BASE}\nLIMIT = '500'\n\n__metadata__ = {'name': 'x', **{'risk_limits': {'max_position_size': LIMIT}}}\n${cls}`,
      );
      const outcome = await run({ file });
      assert.equal(outcome.denial?.code, 'INVALID_RISK_LIMITS');
      assert.equal(outcome.errors[0]?.line, 5);
      const good = write(
        'good.py',
        `${BASE}\n__metadata__ = {'risk_limits': {'max_position_size': 50000, 'allowed_symbols': ['EUR_USD']}}\n${cls}`,
      );
      assert.equal(declaredRiskLimitsProblem(await worker.inspect(good)), undefined);
      const sent = await run({ file: good });
      assert.equal(sent.exitCode, 0, JSON.stringify(sent.errors));
    });
  });
});
