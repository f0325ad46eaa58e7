/**
 * The component's own validate_order (issue 12), with a real python3: called after generate_order in a
 * run, in every item of a replay batch and on the warm worker; a veto or an exception stops the order
 * with the component's reason, file and line, and nothing reaches the venue (Test Order and the CLI).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { TestClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { replayComponent } from '../../../src/usecases/replay';
import { runTestOrder } from '../../../src/usecases/testOrder';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import {
  PythonWorker,
  runComponentCold,
  type ComponentRunResult,
  type RunnerOptions,
} from '../../../src/python/runner';
import { LOOSE } from '../execution/engineHelpers';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const EXAMPLE = join(ROOT, 'examples/workspace/core/orders/risk_filters/vetoed_market.py');
const SAMPLE = join(ROOT, 'examples/data/eurusd_m1_sample.csv');

const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}";
const QUOTE = { symbol: 'EUR_USD', bid: 1.085, ask: 1.0851 };

/** A designed-dialect component returning ORDER, with `validate` as the body of its validate_order (8 spaces). */
const designed = (validate: string, generate = `        return ${ORDER}`) =>
  [
    'from core.orders.order_base import OrderBase',
    '',
    '',
    'class C(OrderBase):',
    '    def generate_order(self, market_data, signal=None):',
    generate,
    '',
    '    def validate_order(self, order):',
    validate,
    '',
  ].join('\n');
// Line numbers in `designed`: generate_order's body is line 6; validate_order is defined at line 8 and its body starts at line 9.

describe('validate_order: the component vets its own order', function () {
  this.timeout(60_000);
  let dir: string;
  let options: RunnerOptions;
  let worker: PythonWorker;
  const write = (rel: string, text: string): string => {
    const file = join(dir, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  const both = async (file: string, marketData: Record<string, unknown> = QUOTE): Promise<ComponentRunResult[]> => [
    await runComponentCold(options, { file, marketData }),
    await worker.run({ file, marketData }),
  ];

  before(async () => {
    options = { interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs: 10_000 };
    worker = new PythonWorker(options);
  });
  after(async () => worker.dispose());
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-validate-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('False stops the order: ORDER_VETOED with the line of the return False, cold and warm', async () => {
    const file = write(
      'core/orders/veto.py',
      designed("        if order['quantity'] > 500:\n            return False\n        return True"),
    );
    for (const r of await both(file)) {
      assert.equal(r.ok, false);
      assert.equal(r.output, null);
      assert.equal(r.error?.code, 'ORDER_VETOED');
      assert.equal(r.error?.file, file);
      assert.equal(r.error?.line, 10);
      assert.match(
        r.error.message,
        /C\.validate_order returned False at line 10: the component stopped its own order\. Nothing was sent/,
      );
    }
  });

  it('(False, reason) and a reason string carry the reason, and the line of the return that gave it', async () => {
    const file = write(
      'core/orders/reasons.py',
      designed(
        [
          "        spread = (self.quote['ask'] - self.quote['bid']) / 0.0001",
          '        if spread > 5:',
          '            return False, f"spread {spread:.1f} pips is too wide"',
          "        if order['quantity'] > 500:",
          "            return False, 'too large'",
          "        if order['side'] == 'buy':",
          "            return 'no buying on %s' % self.quote['symbol']",
          '        return True',
        ].join('\n'),
        `        self.quote = market_data\n        return ${ORDER}`,
      ),
    );
    // generate_order has two lines here: validate_order's body starts at line 10.
    const [wide] = await both(file, { ...QUOTE, ask: 1.0861 });
    assert.equal(wide?.error?.code, 'ORDER_VETOED');
    assert.match(wide.error.message, /stopped the order at line 12: spread 11\.0 pips is too wide\. Nothing was sent/);
    assert.equal(wide?.error?.line, 12);
    const [large] = await both(file);
    assert.deepEqual([large?.error?.code, large?.error?.line], ['ORDER_VETOED', 14]);
    assert.match(large!.error!.message, /at line 14: too large/);
    const small = write(
      'core/orders/small.py',
      designed("        return 'no buying today'", `        return {**${ORDER}, 'quantity': 100}`),
    );
    const [text] = await both(small);
    assert.deepEqual([text?.error?.code, text?.error?.line], ['ORDER_VETOED', 9]);
    assert.match(text!.error!.message, /stopped the order at line 9: no buying today/);
  });

  it('a computed verdict (return a comparison) vetoes at that return', async () => {
    const file = write(
      'core/orders/computed.py',
      designed("        if order['side'] == 'sell':\n            return True\n        return order['quantity'] < 500"),
    );
    const r = await runComponentCold(options, { file, marketData: QUOTE });
    assert.deepEqual([r.error?.code, r.error?.line], ['ORDER_VETOED', 11]);
    assert.match(r.error!.message, /C\.validate_order returned False at line 11/);
  });

  it('several returns that could have vetoed alike: a run says the one that ran, a batch the def line, said so', async () => {
    const file = write(
      'core/orders/ambiguous.py',
      designed("        if order['side'] == 'buy':\n            return False\n        return False"),
    );
    // One run traces validate_order's returns (returns.trace_code): the return that vetoed (it was the def line, 8).
    const r = await runComponentCold(options, { file, marketData: QUOTE });
    assert.deepEqual([r.error?.code, r.error?.line], ['ORDER_VETOED', 10]);
    assert.match(r.error!.message, /returned False at line 10:/);
    // A replay batch does not trace (it would cost on every record): the def line, said to be the def.
    const batch = await worker.runBatch({ file, common: QUOTE, keys: ['bar_index'], rows: [[0]] });
    const item = batch.items[0];
    assert.ok(item !== undefined && !item.ok, JSON.stringify(batch));
    assert.equal(item.error.line, 8);
    assert.match(item.error.message, /returned False \(line 8\)/);
  });

  it('an exception in validate_order stops the order with the line it was raised at', async () => {
    const file = write(
      'core/orders/raises.py',
      designed(
        "        self.check(order)\n        return True\n\n    def check(self, order):\n        raise ValueError('no edge today')",
      ),
    );
    for (const r of await both(file)) {
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, 'COMPONENT_ERROR');
      assert.equal(r.error?.line, 13);
      assert.equal(r.error?.file, file);
      assert.match(
        r.error.message,
        /ValueError: no edge today raised in C\.validate_order at line 13; the order was stopped and nothing was sent/,
      );
      assert.match(r.error.traceback ?? '', /raise ValueError/);
    }
  });

  it('sys.exit() in validate_order is COMPONENT_EXIT and the worker carries on', async () => {
    const file = write('core/orders/exits.py', `import sys\n${designed('        sys.exit(2)')}`);
    const r = await worker.run({ file, marketData: QUOTE });
    assert.equal(r.error?.code, 'COMPONENT_EXIT');
    assert.match(r.error.message, /in validate_order/);
    const ok = write('core/orders/ok.py', designed('        return True'));
    assert.equal((await worker.run({ file: ok, marketData: QUOTE })).ok, true);
  });

  it('True, None, (True, note) and a truthy number let the order go unchanged', async () => {
    for (const [i, body] of [
      '        return True',
      '        pass',
      "        return True, 'fine'",
      '        return 1',
    ].entries()) {
      const file = write(`core/orders/passes${i}.py`, designed(body));
      for (const r of await both(file)) {
        assert.equal(r.ok, true, `${body}: ${JSON.stringify(r.error)}`);
        assert.deepEqual(r.output, { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 });
      }
    }
  });

  it('an answer that is neither yes nor no stops the order (COMPONENT_ERROR), never lets it through', async () => {
    const file = write('core/orders/unclear.py', designed("        return {'ok': True}"));
    const r = await runComponentCold(options, { file, marketData: QUOTE });
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.match(
      r.error.message,
      /C\.validate_order \(line 8\) returned a dict, which says neither yes nor no.*in validate_order and nothing was sent/,
    );
  });

  it('sees the order inside the to_json envelope, and what it approved is what is returned', async () => {
    const file = write(
      'core/orders/envelope.py',
      designed(
        "        if order.get('symbol') != 'EUR_USD':\n            return False, 'not the envelope order'\n        order['metadata'] = {'vetted': True}\n        return True",
        `        return {'type': 'order_request', 'order': ${ORDER}, 'metadata': {'component': 'C'}}`,
      ),
    );
    const r = await runComponentCold(options, { file, marketData: QUOTE });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual((r.output as { order: { metadata: unknown } }).order.metadata, { vetted: true });
    const text = write(
      'core/orders/tojson.py',
      designed('        return False, f"{order[\'quantity\']} is too many"', `        return self.to_json(${ORDER})`),
    );
    const vetoed = await runComponentCold(options, { file: text, marketData: QUOTE });
    assert.deepEqual([vetoed.error?.code, vetoed.error?.line], ['ORDER_VETOED', 9]);
    assert.match(vetoed.error!.message, /1000 is too many/);
  });

  it('the design’s default (required fields) is not called: SPtrader’s own validation does that, field by field', async () => {
    // The shipped keys from an OrderBase class: the default would refuse them (no order_type, no quantity).
    const shippedKeys = write(
      'core/orders/shipped_keys.py',
      "from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return {'type': 'market', 'symbol': 'EUR_USD', 'side': 'buy', 'size': 10}\n",
    );
    const r = await runComponentCold(options, { file: shippedKeys, marketData: QUOTE });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    // A workspace's own copy of the design's OrderBase: its default is recognised too.
    const spec = [
      'from abc import ABC, abstractmethod',
      'from typing import Dict, Any',
      'class OrderBase(ABC):',
      '    def __init__(self, config):',
      '        self.config = config',
      '    @abstractmethod',
      '    def generate_order(self, market_data, signal=None):',
      '        pass',
      '    def validate_order(self, order: Dict[str, Any]) -> bool:',
      '        """',
      '        Validate order before submission',
      '        """',
      "        required_fields = ['symbol', 'side', 'order_type', 'quantity']",
      '        return all(field in order for field in required_fields)',
      '',
    ].join('\n');
    write('core/__init__.py', '');
    write('core/orders/__init__.py', '');
    write('core/orders/order_base.py', spec);
    const own = await runComponentCold(options, { file: shippedKeys, marketData: QUOTE });
    assert.equal(own.ok, true, JSON.stringify(own.error));
    // A workspace base class whose validate_order does more is the component's own: it is called.
    write(
      'core/orders/order_base.py',
      spec.replace(
        "'quantity']\n",
        "'quantity']\n        if order.get('size', 0) > 5:\n            return False, 'house rule: at most 5'\n",
      ),
    );
    const house = await runComponentCold(options, { file: shippedKeys, marketData: QUOTE });
    assert.equal(house.error?.code, 'ORDER_VETOED');
    assert.equal(house.error?.file, join(dir, 'core/orders/order_base.py'));
    assert.equal(house.error?.line, 15);
    assert.match(house.error.message, /C\.validate_order stopped the order at line 15: house rule: at most 5/);
  });

  it('a shipped-dialect component (Order.execute) has no validation hook: its order goes on, and the output says why', async () => {
    const file = write(
      'core/orders/shipped.py',
      "from core.base.order import Order\n\nclass M(Order):\n    def execute(self, market_state):\n        return {'type': 'market', 'symbol': 'EUR_USD', 'side': 'buy', 'size': 10}\n\n    def validate_order(self, order):\n        return False\n",
    );
    for (const r of await both(file)) {
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.entryPoint, 'execute');
      assert.deepEqual(r.output, { type: 'market', symbol: 'EUR_USD', side: 'buy', size: 10 });
      assert.match(
        r.stderr,
        /\[sptrader\] M\.validate_order was not called: SPtraderB's Order \(execute\) has no validation hook/,
      );
    }
    const plain = write(
      'core/orders/plain.py',
      'from core.base.order import Order\n\nclass M(Order):\n    def execute(self, market_state):\n        return None\n',
    );
    assert.equal((await runComponentCold(options, { file: plain, marketData: QUOTE })).stderr, '');
  });

  it('the warm worker picks up an edited validate_order', async () => {
    const file = write('core/orders/edited.py', designed('        return True'));
    assert.equal((await worker.run({ file, marketData: QUOTE })).ok, true);
    writeFileSync(file, designed("        return False, 'changed my mind'    "));
    const r = await worker.run({ file, marketData: QUOTE });
    assert.equal(r.error?.code, 'ORDER_VETOED');
    assert.match(r.error.message, /changed my mind/);
  });

  it('replay batch: validate_order runs on every item’s order; vetoed items are errors and the batch goes on', async () => {
    const file = write(
      'core/orders/batch.py',
      designed(
        "        if self.quote['spread'] > 0.0002:\n            return False, f\"spread {self.quote['spread']} at bar {self.quote['bar_index']}\"\n        return True",
        `        self.quote = market_data\n        return ${ORDER}`,
      ),
    );
    const r = await worker.runBatch({
      file,
      common: { symbol: 'EUR_USD' },
      keys: ['spread'],
      rows: [[0.0001], [0.0003], [0.0001], [0.0005]],
      indexKey: 'bar_index',
      indexStart: 100,
      stopOnOrder: false,
      instance: 'validate-test',
    });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.done, 4);
    assert.deepEqual(
      r.items.map((i) => (i.ok ? [i.index, 'order'] : [i.index, i.error.code, i.error.line])),
      [
        [0, 'order'],
        [1, 'ORDER_VETOED', 11],
        [2, 'order'],
        [3, 'ORDER_VETOED', 11],
      ],
    );
    const vetoed = r.items[3];
    assert.ok(vetoed && !vetoed.ok);
    assert.match(vetoed.error.message, /spread 0\.0005 at bar 103/);
    // stopOnOrder stops at the first order that passed, never at a veto.
    const stopped = await worker.runBatch({
      file,
      common: { symbol: 'EUR_USD' },
      keys: ['spread'],
      rows: [[0.0003], [0.0001], [0.0001]],
      stopOnOrder: true,
    });
    assert.equal(stopped.done, 2);
    assert.deepEqual(
      stopped.items.map((i) => i.ok),
      [false, true],
    );
  });

  it('replay: a component that vetoes every order sends none; each veto is reported on its record', async () => {
    const file = write('core/orders/never.py', designed("        return False, 'not in replay'"));
    const report = await replayComponent({
      file,
      data: SAMPLE,
      symbol: 'EUR_USD',
      runner: worker,
      stateDir: join(dir, 'replay'),
      engineFactory: undefined,
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.processed, 2000);
    assert.equal(report.orders.sent, 0);
    assert.equal(report.fills, 0);
    assert.equal(report.errorCount, 2000);
    assert.deepEqual([report.errors[0]?.code, report.errors[0]?.line], ['ORDER_VETOED', 9]);
  });

  describe('through Test Order and the CLI', () => {
    let clock: TestClock;
    let broker: PaperBroker;
    let updates: OrderUpdate[];
    let engine: ExecutionEngine;
    let audit: AuditLog;
    let auditDir: string;
    beforeEach(async () => {
      clock = new TestClock(Date.now());
      broker = new PaperBroker({ clock, seed: 7 });
      updates = [];
      broker.onOrderUpdate((u) => updates.push(u));
      auditDir = mkdtempSync(join(tmpdir(), 'sptrader-validate-audit-'));
      audit = (await AuditLog.open(auditDir, { clock })).log;
      engine = new ExecutionEngine({
        clock,
        brokers: { paper: broker },
        audit,
        limits: { ...LOOSE, maxOrderQuantity: 1_000_000 },
      });
      await engine.connect('paper');
    });
    afterEach(async () => {
      await engine.close();
      await audit.close();
      rmSync(auditDir, { recursive: true, force: true });
    });

    it('Test Order: a veto is exit 1 with the reason, file and line; nothing reaches the venue', async () => {
      const outcome = await runTestOrder(
        { file: EXAMPLE, parameters: { quantity: 100000 } },
        { runner: worker, broker, engine, clock },
      );
      assert.equal(outcome.exitCode, 1, JSON.stringify(outcome.errors));
      assert.match(outcome.summary, /Component error \(ORDER_VETOED\): nothing was sent/);
      assert.equal(outcome.response, null);
      assert.equal(updates.length, 0, 'an order reached the venue');
      assert.deepEqual(await broker.listOpenOrders(), []);
      const e = outcome.errors[0];
      assert.deepEqual([e?.code, e?.file, e?.line], ['ORDER_VETOED', EXAMPLE, 63]);
      assert.match(e!.message, /100000 units at [\d.]+ are worth [\d,]+, more than 50,000/);
    });

    it('Test Order: the example passes its own checks at its defaults and fills', async () => {
      const outcome = await runTestOrder({ file: EXAMPLE }, { runner: worker, broker, engine, clock });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.response?.status.status, 'filled');
    });

    // dist/cli.js as `npm test` builds it (pretest), like test/integration/cli.
    it('CLI: test-order --json exits 1 with ORDER_VETOED and the paper account has no order', function () {
      const stateDir = join(dir, 'state');
      const file = write('core/orders/cli_veto.py', designed("        return False, 'the component says no'"));
      const run = spawnSync(process.execPath, [CLI, 'test-order', file, '--state-dir', stateDir, '--json'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 1, run.stderr + run.stdout);
      const out = JSON.parse(run.stdout) as {
        ok: boolean;
        order: unknown;
        response: unknown;
        errors: Array<{ code: string; file: string; line: number; message: string }>;
      };
      assert.equal(out.ok, false);
      assert.equal(out.response, null);
      assert.deepEqual([out.errors[0]?.code, out.errors[0]?.file, out.errors[0]?.line], ['ORDER_VETOED', file, 9]);
      assert.match(out.errors[0]!.message, /the component says no/);
      const orders = spawnSync(process.execPath, [CLI, 'orders', '--state-dir', stateDir, '--json'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(orders.status, 0, orders.stderr);
      assert.deepEqual(JSON.parse(orders.stdout), { working: [], paper: [] });
      const account = spawnSync(process.execPath, [CLI, 'account', '--state-dir', stateDir, '--json'], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(account.status, 0, account.stderr);
      const a = JSON.parse(account.stdout) as { balance: number; open_positions: unknown[] };
      assert.deepEqual(a.open_positions, []);
      assert.equal(a.balance, 100000);
    });
  });
});
