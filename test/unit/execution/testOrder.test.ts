/**
 * Test Order end to end in plain Node: real Python, the real harness, the real paper venue.
 * Every bad input must give a clear error and reach the venue never.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { runTestOrder, type TestOrderOutcome, type TestOrderRequest } from '../../../src/usecases/testOrder';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { AuditLog, tailAudit } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { LOOSE } from './engineHelpers';

const EXAMPLES = resolve(__dirname, '../../../../examples/workspace/core/orders');

const HEADER = `from core.orders.order_base import OrderBase\n`;
const order = (body: string) =>
  `${HEADER}\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}\n`;

interface BadCase {
  name: string;
  source?: string;
  file?: string;
  code: string;
  line?: number;
  /** The column the message names (Python 3.10+ points at the first item, 3.8/3.9 at the second). */
  column?: number[];
  message: RegExp;
  path?: string;
}

const BAD: BadCase[] = [
  { name: 'missing file', file: 'does_not_exist.py', code: 'FILE_NOT_FOUND', message: /does_not_exist\.py/ },
  { name: 'not a .py file', file: 'component.txt', source: 'x = 1\n', code: 'NOT_PYTHON_FILE', message: /\.py/ },
  {
    name: 'syntax error',
    source: `${HEADER}\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None)\n        return {}\n`,
    code: 'SYNTAX_ERROR',
    line: 4,
    message: /syntax/i,
  },
  {
    name: 'syntax error inside a line',
    source: `${HEADER}\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        x = (1 2)\n        return None\n`,
    code: 'SYNTAX_ERROR',
    line: 5,
    column: [14, 16],
    message: /syntax error at line 5, column (14|16)\b/,
  },
  {
    name: 'import error',
    source: `import numpy_that_does_not_exist\n${HEADER}`,
    code: 'IMPORT_ERROR',
    line: 1,
    message: /numpy_that_does_not_exist/,
  },
  {
    name: 'no component class',
    source: `x = 1\nclass Helper:\n    pass\n`,
    code: 'NO_COMPONENT_CLASS',
    message: /no order component/i,
  },
  {
    name: 'several classes and none chosen',
    source: `${order('        return None')}\nclass D(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return None\n`,
    code: 'AMBIGUOUS_COMPONENT_CLASS',
    message: /C.*D|D.*C/,
  },
  {
    name: 'constructor raises',
    source: `${HEADER}\nclass C(OrderBase):\n    def __init__(self, config):\n        raise RuntimeError('bad config')\n    def generate_order(self, market_data, signal=None):\n        return None\n`,
    code: 'CONSTRUCTOR_ERROR',
    line: 5,
    message: /bad config/,
  },
  {
    name: 'generate_order raises',
    source: order(`        x = market_data['nope']`),
    code: 'COMPONENT_ERROR',
    line: 5,
    message: /KeyError/,
  },
  {
    name: 'execute raises',
    source: `from core.base.order import Order\n\nclass C(Order):\n    def execute(self, market_state):\n        return 1 / 0\n`,
    code: 'COMPONENT_ERROR',
    line: 5,
    message: /ZeroDivisionError/,
  },
  {
    name: 'returns a non-dict',
    source: order(`        return ['EUR_USD', 'buy']`),
    code: 'INVALID_ORDER',
    message: /returned a list; an order must be a dict .*\(one order per call: /,
  },
  {
    name: 'missing fields',
    source: order(`        return {'symbol': 'EUR_USD'}`),
    code: 'INVALID_ORDER',
    line: 5,
    message: /side is required/,
  },
  {
    name: 'wrong types',
    source: order(`        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': '1000'}`),
    code: 'INVALID_ORDER',
    path: 'quantity',
    message: /quantity: quantity must be a number, got a string "1000"/,
  },
  {
    name: 'NaN quantity',
    source: order(
      `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': float('nan')}`,
    ),
    code: 'INVALID_ORDER',
    path: 'quantity',
    message: /NaN/,
  },
  {
    name: 'Infinity price',
    source: order(
      `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': float('inf'), 'quantity': 1}`,
    ),
    code: 'INVALID_ORDER',
    path: 'price',
    message: /Infinity/,
  },
  {
    name: 'zero quantity',
    source: order(`        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 0}`),
    code: 'INVALID_ORDER',
    path: 'quantity',
    message: /greater than zero/,
  },
  {
    name: 'negative quantity',
    source: order(`        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': -5}`),
    code: 'INVALID_ORDER',
    path: 'quantity',
    line: 5,
    message: /quantity: quantity must be greater than zero, got -5: did you mean side='sell' with quantity 5\?/,
  },
  {
    name: 'unknown order type',
    source: order(`        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'iceberg', 'quantity': 1}`),
    code: 'INVALID_ORDER',
    path: 'order_type',
    message: /unknown order type 'iceberg'/,
  },
  {
    name: 'unknown time in force',
    source: order(
      `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1, 'time_in_force': 'DAY'}`,
    ),
    code: 'INVALID_ORDER',
    path: 'time_in_force',
    message: /unknown time in force 'DAY'/,
  },
  {
    name: 'limit without price',
    source: order(`        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1}`),
    code: 'INVALID_ORDER',
    path: 'price',
    message: /limit order needs a limit price/,
  },
  {
    name: 'stop-limit missing a price',
    source: order(
      `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'stop_limit', 'stop_price': 1.2, 'quantity': 1}`,
    ),
    code: 'INVALID_ORDER',
    path: 'limit_price',
    message: /stop-limit order needs a limit price/,
  },
  {
    name: 'GTD without expiry',
    source: order(
      `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': 1.0, 'quantity': 1, 'time_in_force': 'GTD'}`,
    ),
    code: 'INVALID_ORDER',
    path: 'expires_at',
    message: /needs 'expires_at'/,
  },
  {
    name: 'GTD in the past',
    source: order(
      `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': 1.0, 'quantity': 1, 'time_in_force': 'GTD', 'expires_at': 1000000000}`,
    ),
    code: 'INVALID_ORDER',
    path: 'expires_at',
    message: /in the past/,
  },
  {
    name: 'output over the cap',
    source: order(`        print('x' * 5000000)\n        return None`),
    code: 'OUTPUT_LIMIT_EXCEEDED',
    message: /limit|more than/i,
  },
  {
    name: 'infinite loop',
    source: order(`        while True:\n            pass`),
    code: 'TIMEOUT',
    message: /nothing was sent/,
  },
  {
    name: 'sys.exit() inside the component',
    source: `import sys\n${order(`        sys.exit(3)`)}`,
    code: 'COMPONENT_EXIT',
    message: /sys\.exit|exit/,
  },
  {
    name: 'os._exit() inside the component',
    source: `import os\n${order(`        os._exit(7)`)}`,
    code: 'COMPONENT_EXIT',
    message: /os\._exit/,
  },
];

describe('Test Order (component → validation → paper venue)', function () {
  this.timeout(30_000);
  let dir: string;
  let options: RunnerOptions;
  let worker: PythonWorker;
  let clock: TestClock;
  let broker: PaperBroker;
  let updates: OrderUpdate[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-testorder-'));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    options = {
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 3000,
      outputLimitBytes: 1024 * 1024,
    };
    worker = new PythonWorker(options);
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let auditDir: string;
  beforeEach(async () => {
    clock = new TestClock(Date.now());
    broker = new PaperBroker({ clock, seed: 7 });
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    auditDir = mkdtempSync(join(tmpdir(), 'sptrader-testorder-audit-'));
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

  const run = (request: TestOrderRequest): Promise<TestOrderOutcome> =>
    runTestOrder(request, { runner: worker, broker, engine, clock });

  for (const c of BAD) {
    it(`${c.name}: clear error, nothing sent`, async () => {
      const file = join(dir, 'core', 'orders', c.file ?? `${c.name.replace(/\W+/g, '_')}.py`);
      if (c.source !== undefined) writeFileSync(file, c.source);
      const outcome = await run({ file });
      assert.equal(outcome.exitCode, 1, JSON.stringify(outcome.errors));
      assert.equal(outcome.response, null);
      assert.equal(updates.length, 0, 'an order reached the venue');
      assert.deepEqual(await broker.listOpenOrders(), []);
      const error = outcome.errors.find((e) => e.code === c.code);
      assert.ok(error, `expected ${c.code}, got ${JSON.stringify(outcome.errors)}`);
      assert.match(error.message, c.message);
      if (c.line !== undefined) {
        assert.equal(error.line, c.line);
        assert.equal(error.file, file);
      }
      if (c.column !== undefined) {
        assert.ok(c.column.includes(error.column!), `column ${error.column}`);
        // the message and the squiggle agree
        assert.match(error.message, new RegExp(`line ${error.line}, column ${error.column}:`));
      }
      if (c.path !== undefined) assert.equal(error.path, c.path);
    });
  }

  it('a symbol with a control character or a look-alike letter (asked for, in __metadata__, in the fixture) is refused before any quote or run', async () => {
    const file = join(dir, 'core', 'orders', 'odd_symbol.py');
    const body = `        print('RAN')\n        return {'symbol': market_data['symbol'], 'side': 'buy', 'order_type': 'market', 'quantity': 1000}`;
    let quotes = 0;
    const getQuote = broker.getQuote.bind(broker);
    broker.getQuote = (symbol) => (quotes++, getQuote(symbol));
    const cases: Array<[TestOrderRequest, RegExp]> = [
      [
        { file, symbol: '\u0415UR_USD' },
        /^the symbol asked for: "\\u0415UR_USD" is not a symbol: it has the character U\+0415/,
      ],
      [
        { file, symbol: 'EUR\u001b[2J_USD' },
        /^the symbol asked for: "EUR\\u001b\[2J_USD" is not a symbol: it has a control character at position 4/,
      ],
      [
        { file, marketData: { symbol: 'EUR_USD\u202e', bid: 1.1, ask: 1.1001 } },
        /^the market data's 'symbol': "EUR_USD\\u202e" is not a symbol/,
      ],
    ];
    writeFileSync(file, order(body));
    for (const [request, message] of cases) {
      const outcome = await run(request);
      assert.equal(outcome.exitCode, 1);
      assert.equal(outcome.errors[0]?.code, 'INVALID_SYMBOL');
      assert.match(outcome.errors[0]?.message ?? '', message);
      assert.doesNotMatch(outcome.summary, /[\u0000-\u001f\u007f\u0415\u202e]/, 'shown escaped');
      assert.equal(outcome.component.stdout, '', 'the component did not run');
    }
    writeFileSync(file, `__metadata__ = {'symbol': 'BTC\\x00USDT'}\n${order(body)}`);
    const fromMetadata = await run({ file });
    assert.match(fromMetadata.errors[0]?.message ?? '', /__metadata__'s symbol: "BTC\\u0000USDT" is not a symbol/);
    assert.equal(quotes, 0, 'no venue was asked for a quote of it');
    assert.equal(updates.length, 0);
    const records = await tailAudit(auditDir, 100);
    assert.deepEqual(
      records.filter((r) => JSON.stringify(r).includes('USD\\u')),
      [],
      'nothing of it in the audit log',
    );
    assert.ok(!records.some((r) => r.type === 'SubmitOrder'));
    // The same component with a real symbol runs.
    const ok = await run({ file, symbol: 'EUR_USD' });
    assert.equal(ok.exitCode, 0, JSON.stringify(ok.errors));
  });

  it('a market-data fixture cannot say which venue or environment the order goes to', async () => {
    const file = join(dir, 'core', 'orders', 'where_am_i.py');
    writeFileSync(
      file,
      order(
        "        print(market_data['environment'], market_data['broker_profile'], market_data['bid'])\n        return None",
      ),
    );
    const outcome = await run({
      file,
      marketData: { environment: 'practice', broker_profile: 'oanda-demo', bid: 1.1, ask: 1.1002 },
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.component.stdout.trim(), 'paper paper 1.1', "the quote is the fixture's; the venue is not");
  });

  it("a fixture's crossed or missing quote reaches the component as given, and a note says the venue's quote fills", async () => {
    const file = join(dir, 'core', 'orders', 'crossed.py');
    writeFileSync(file, order("        print(market_data['bid'], market_data['ask'])\n        return None"));
    const crossed = await run({ file, marketData: { bid: 1.1002, ask: 1.1 } });
    assert.equal(crossed.component.stdout.trim(), '1.1002 1.1');
    assert.ok(
      crossed.notes.some((n) =>
        /fixture's bid 1\.1002 is above its ask 1\.1 \(a crossed quote\).*venue's own quote/.test(n),
      ),
      crossed.notes.join(' | '),
    );
    const missing = await run({ file, marketData: { bid: null, ask: 1.1 } });
    assert.equal(missing.component.stdout.trim(), 'None 1.1');
    assert.ok(
      missing.notes.some((n) => /fixture's 'bid' is null, not a positive price/.test(n)),
      missing.notes.join(' | '),
    );
    const fine = await run({ file, marketData: { bid: 1.1, ask: 1.1002 } });
    assert.deepEqual(
      fine.notes.filter((n) => /fixture/.test(n)),
      [],
    );
  });

  it('a price the component returned as a numpy float16 is sent as the decimals float16 keeps, and a note says so (rt-cli10)', async function () {
    try {
      execFileSync(options.interpreter.executable, ['-c', 'import numpy'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const file = join(dir, 'core', 'orders', 'half_price.py');
    writeFileSync(
      file,
      'import numpy as np\n' +
        order(
          "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1000,\n" +
            "                'price': np.float16(1.0866), 'time_in_force': 'GTC', 'metadata': {'w': np.float32(0.3)}}",
        ),
    );
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.deepEqual(outcome.order?.order_type, { type: 'limit', price: 1.087 }, 'sent as float16 keeps it');
    // Before: no note; 1.0866 became 1.087 without a word. Metadata, never traded on, gets none.
    assert.deepEqual(
      outcome.notes.filter((n) => /numpy/.test(n)),
      [
        'order.price was a numpy float16 (1.0869140625 as stored); it was sent as 1.087, the decimals a float16 keeps: compute it as a Python float (float64) to send more',
      ],
    );
  });

  it("a fixture's spread that is not the ask − bid the component saw, or not a number ≥ 0, gets a note naming both (rt-cli10)", async () => {
    const file = join(dir, 'core', 'orders', 'spread.py');
    writeFileSync(
      file,
      order("        print(market_data['bid'], market_data['ask'], market_data['spread'])\n        return None"),
    );
    const fixtureNotes = (o: { notes: string[] }): string[] => o.notes.filter((n) => /fixture/.test(n));
    // Before: no note; the component decided on a spread 2,500 times the quote's.
    const wrong = await run({ file, marketData: { bid: 1.1, ask: 1.1002, spread: 0.5 } });
    assert.equal(wrong.component.stdout.trim(), '1.1 1.1002 0.5', 'the component sees the fixture as given');
    assert.deepEqual(fixtureNotes(wrong), [
      "the market-data fixture's 'spread' 0.5 is not the ask − bid the component saw (1.1002 − 1.1 = 0.0002): the component saw it as given; the order fills at the venue's own quote",
    ]);
    const negative = await run({ file, marketData: { bid: 1.1, ask: 1.1002, spread: -0.0002 } });
    assert.deepEqual(fixtureNotes(negative), [
      "the market-data fixture's 'spread' is -0.0002, not a number ≥ 0: the component saw it as given; the order fills at the venue's own quote",
    ]);
    // A spread alone is checked against the venue's bid and ask, which the component saw beside it.
    const alone = await run({ file, marketData: { spread: 3 } });
    assert.equal(fixtureNotes(alone).length, 1, alone.notes.join(' | '));
    assert.match(
      fixtureNotes(alone)[0] ?? '',
      /^the market-data fixture's 'spread' 3 is not the ask − bid the component saw \([\d.]+ − [\d.]+ = [\d.]+\)/,
    );
    const zero = await run({ file, marketData: { bid: 0, ask: 1.1002 } });
    assert.ok(
      fixtureNotes(zero).some((n) => /fixture's 'bid' is 0, not a positive price/.test(n)),
      zero.notes.join(' | '),
    );
    const right = await run({ file, marketData: { bid: 1.1, ask: 1.1002, spread: 0.0002 } });
    assert.deepEqual(fixtureNotes(right), []);
  });

  it('an order for another symbol than the one quoted: filled, no slippage against the wrong quote, and a note says so', async () => {
    const file = join(dir, 'core', 'orders', 'other_symbol.py');
    writeFileSync(
      file,
      order(
        "        return {'symbol': 'AAPL', 'side': 'buy', 'order_type': 'market', 'quantity': 10, 'time_in_force': 'IOC'}",
      ),
    );
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.marketData?.['symbol'], 'EUR_USD');
    assert.equal(outcome.response?.status.status, 'filled');
    assert.equal(outcome.slippage, null, 'AAPL filled against the EUR_USD ask is no slippage');
    assert.ok(
      outcome.notes.some((n) =>
        /ordered AAPL but its market data was EUR_USD's quote; no slippage is measured.*--symbol AAPL/.test(n),
      ),
      outcome.notes.join(' | '),
    );
    // The same instrument spelt another way is the instrument quoted: measured as before, and no note.
    writeFileSync(
      file,
      order(
        "        return {'symbol': 'EURUSD', 'side': 'buy', 'order_type': 'market', 'quantity': 10, 'time_in_force': 'IOC'}",
      ),
    );
    const same = await run({ file });
    assert.equal(same.exitCode, 0, JSON.stringify(same.errors));
    assert.notEqual(same.slippage, null);
    assert.ok(!same.notes.some((n) => /market data was/.test(n)), same.notes.join(' | '));
  });

  it("the signal's side in another case reaches market_data as 'buy' or 'sell'; the signal itself as given", async () => {
    const file = join(dir, 'core', 'orders', 'signal_side.py');
    writeFileSync(file, order("        print(market_data['side'], signal['side'])\n        return None"));
    for (const [given, side] of [
      ['BUY', 'buy'],
      [' Sell ', 'sell'],
      ['hold', 'hold'],
    ] as const) {
      const outcome = await run({ file, signal: { side: given } });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.component.stdout, `${side} ${given}\n`);
    }
  });

  it("what the component returned is shown with a secret-looking key's value redacted", async () => {
    const file = join(dir, 'core', 'orders', 'returns_secret.py');
    writeFileSync(
      file,
      order(
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 10, 'time_in_force': 'IOC', " +
          "'metadata': {'api_key': 'sk-live-123', 'note': 'ok'}, 'auth': {'password': 'hunter2'}}",
      ),
    );
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    const shown = JSON.stringify(outcome);
    assert.doesNotMatch(shown, /sk-live-123|hunter2/);
    assert.deepEqual((outcome.component.output as { metadata: unknown }).metadata, {
      api_key: '[redacted]',
      note: 'ok',
    });
  });

  it('an invalid order is reported at the return that produced it, with the value, even from a variable', async () => {
    const file = join(dir, 'core', 'orders', 'from_variable.py');
    writeFileSync(
      file,
      order(
        [
          `        if market_data.get('side') == 'sell':`,
          `            return {'symbol': 'EUR_USD', 'side': 'sell', 'order_type': 'market', 'quantity': 1000}`,
          `        size = -1000`,
          `        o = {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'mkt', 'quantity': size}`,
          `        return o`,
        ].join('\n'),
      ),
    );
    const outcome = await run({ file, side: 'buy' });
    assert.equal(outcome.exitCode, 1);
    assert.equal(updates.length, 0);
    const [error] = outcome.errors;
    assert.equal(error?.code, 'INVALID_ORDER');
    assert.equal(error.file, file);
    assert.equal(error.line, 9);
    assert.equal(error.path, 'quantity');
    assert.equal(error.value, '-1000');
    assert.match(error.hint ?? '', /did you mean side='sell' with quantity 1000\?/);
    assert.match(error.message, /got -1000: did you mean side='sell'/);
  });

  it('an invalid order from one of two returns that write the same dict is said at the return that ran', async () => {
    const file = join(dir, 'core', 'orders', 'two_alike.py');
    writeFileSync(
      file,
      order(
        [
          `        if market_data.get('side') == 'sell':`,
          `            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': market_data['bid'] * 0}`,
          `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': -market_data['bid']}`,
        ].join('\n'),
      ),
    );
    const outcome = await run({ file, side: 'buy' });
    assert.equal(outcome.exitCode, 1);
    const [error] = outcome.errors;
    assert.equal(error?.code, 'INVALID_ORDER');
    // Python 3.12+ records which return ran (sys.monitoring), and before it a Test Order's one call is traced
    // (returns.py): the exact line on every version, and no note that it is only the def line (it was line 4, the
    // def, on Python 3.8-3.11).
    assert.equal(error.line, 7);
    assert.equal(
      outcome.notes.find((n) => /is where generate_order is defined/.test(n)),
      undefined,
    );
  });

  it('generate_order(self, market_data) without a signal parameter, or with a keyword-only one, runs', async () => {
    const bodies = {
      no_signal: `    def generate_order(self, market_data):`,
      keyword_signal: `    def generate_order(self, market_data, *, signal=None):\n        assert signal == {'side': 'sell'}`,
      static_method: `    @staticmethod\n    def generate_order(market_data, signal=None):`,
    };
    for (const [name, head] of Object.entries(bodies)) {
      const file = join(dir, 'core', 'orders', `${name}.py`);
      writeFileSync(
        file,
        `${HEADER}\nclass C(OrderBase):\n${head}\n        return {'symbol': market_data['symbol'], 'side': 'sell', 'order_type': 'market', 'quantity': 1000}\n`,
      );
      const outcome = await run({ file, signal: { side: 'sell' } });
      assert.equal(outcome.exitCode, 0, `${name}: ${JSON.stringify(outcome.errors)}`);
      assert.equal(outcome.response?.status.status, 'filled', name);
    }
  });

  it('a helper class with an execute method beside the OrderBase component does not make the file ambiguous', async () => {
    const file = join(dir, 'core', 'orders', 'with_helper.py');
    writeFileSync(
      file,
      `${HEADER}\nclass Sizer:\n    def execute(self, x):\n        return 1000\n\nclass Real(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return {'symbol': market_data['symbol'], 'side': 'buy', 'order_type': 'market', 'quantity': Sizer().execute(0)}\n`,
    );
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.component.className, 'Real');
    assert.equal(outcome.response?.status.status, 'filled');
  });

  it('a component that returns None produced no order: exit 0, nothing sent', async () => {
    const file = join(dir, 'core', 'orders', 'none.py');
    writeFileSync(file, order('        return None'));
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.order, null);
    assert.match(outcome.summary, /produced no order/);
    assert.equal(updates.length, 0);
  });

  it('stdout noise around the result is kept for display and does not corrupt the order', async () => {
    const file = join(dir, 'core', 'orders', 'noisy.py');
    writeFileSync(
      file,
      `import os, sys\n${order(`        print('{"not": "the order"}')\n        sys.stdout.buffer.write(b'\\xff\\xfe raw bytes\\n')\n        os.write(1, b'\\xff low-level\\n')\n        print('warning', file=sys.stderr)\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}`)}`,
    );
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.response?.status.status, 'filled');
    assert.match(outcome.component.stdout, /"not": "the order"/);
    assert.match(outcome.component.stdout, /\uFFFD/);
    assert.match(outcome.component.stderr, /warning/);
  });

  it('fills the spread-guarded market example at the ask, with zero slippage against the quote it saw (Execute on Paper)', async () => {
    const outcome = await run({
      file: join(EXAMPLES, 'execution_algos', 'spread_guarded_market.py'),
      source: 'execute-paper',
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    const quote = outcome.marketData!;
    assert.equal(outcome.response?.status.status, 'filled');
    assert.equal(outcome.response?.filled_quantity, 10000);
    assert.equal(outcome.response?.filled_price, quote['ask']);
    assert.deepEqual(outcome.slippage && { units: outcome.slippage.units, unit: outcome.slippage.unit }, {
      units: 0,
      unit: 'pip',
    });
    assert.equal(updates.length > 0, true);
    assert.ok(outcome.timings.componentMs !== null && outcome.timings.venueMs !== null && outcome.timings.totalMs > 0);
  });

  it('slippage is measured against the quote the component saw (a fixture), in pips', async () => {
    const live = await broker.getQuote('EUR_USD');
    const outcome = await run({
      file: join(EXAMPLES, 'execution_algos', 'spread_guarded_market.py'),
      marketData: { bid: live.bid - 0.0002, ask: live.ask - 0.0002 },
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.slippage?.units, 2);
    assert.equal(outcome.slippage?.reference, 'ask');
  });

  it('rests the GTD limit below the bid (Execute on Paper)', async () => {
    const outcome = await run({
      file: join(EXAMPLES, 'execution_algos', 'limit_below_bid.py'),
      source: 'execute-paper',
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.response?.status.status, 'submitted');
    assert.equal(outcome.order?.time_in_force.type, 'GTD');
    assert.equal(outcome.order?.metadata['component'], 'LimitBelowBid');
    assert.equal((await broker.listOpenOrders()).length, 1);
  });

  it('places the stop-limit breakout on BTCUSDT and it rests untriggered', async () => {
    const outcome = await run({ file: join(EXAMPLES, 'smart_routing', 'stop_limit_breakout.py') });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.order?.symbol, 'BTCUSDT');
    assert.equal(outcome.order?.order_type.type, 'stop_limit');
    assert.equal(outcome.response?.status.status, 'submitted');
  });

  it('runs the shipped execute(market_state) example, cutting its fractional size to the lot', async () => {
    const outcome = await run({ file: join(EXAMPLES, 'execution_algos', 'market_order.py'), side: 'sell' });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.order?.side, 'sell');
    assert.equal(Number.isInteger(outcome.order?.quantity), true);
    assert.match(outcome.notes.join('\n'), /was cut to/);
    assert.equal(outcome.response?.filled_price, outcome.marketData?.['bid']);
  });

  it('goes through the engine: every risk check in the outcome, the timeline of events, the audit log (Execute on Paper)', async () => {
    const outcome = await run({
      file: join(EXAMPLES, 'execution_algos', 'spread_guarded_market.py'),
      source: 'execute-paper',
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.risk.length, 10);
    assert.ok(outcome.risk.every((r) => r.passed && r.message.length > 0));
    assert.deepEqual(
      outcome.events.map((e) => e.type),
      ['OrderSubmitted', 'OrderAccepted', 'OrderFilled'],
    );
    await audit.flush();
    const types = (await tailAudit(auditDir, 100)).map((r) => r.type);
    assert.ok(types.includes('SubmitOrder') && types.includes('OrderFilled'), types.join(','));
  });

  it('a component whose risk_limits deny the order: exit 3, the failed check named, nothing sent', async () => {
    const file = join(dir, 'core', 'orders', 'tight.py');
    writeFileSync(
      file,
      `${HEADER}\n__metadata__ = {'name': 'tight', 'type': 'order', 'risk_limits': {'max_order_value': 500}}\n\nclass Tight(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n`,
    );
    const outcome = await run({ file });
    assert.equal(outcome.exitCode, 3, outcome.summary);
    assert.equal(outcome.denial?.code, 'NOTIONAL_EXCEEDS_MAX_PER_ORDER');
    assert.match(outcome.summary, /Order value [\d,.]+ USD exceeds the maximum per order of 500 USD/);
    assert.equal(updates.length, 0);
  });

  it('denies while trading is halted, and says so', async () => {
    engine.setTradingState('HALTED', 'emergency stop pressed');
    const outcome = await run({ file: join(EXAMPLES, 'execution_algos', 'spread_guarded_market.py') });
    assert.equal(outcome.exitCode, 3);
    assert.equal(outcome.denial?.code, 'TRADING_HALTED');
    assert.equal(updates.length, 0);
  });
});
