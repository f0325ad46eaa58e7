/**
 * The built CLI (`dist/cli.js`) with components the contract allows (docs: /work/shared/spec/components.md)
 * and the repo's examples do not cover, run with a real python3 against the paper venue only.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const DATA = join(ROOT, 'examples/data/eurusd_m1_sample.csv');

function cli(args: string[], timeoutMs = 60_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Declares four parameters with the contract's keys; prints the config it was given. */
const DECLARED = `from core.orders.order_base import OrderBase

__metadata__ = {
    'name': 'declared', 'type': 'order', 'version': '1.0',
    'parameters': {
        'size': {'type': 'int', 'default': 2000, 'min': 1, 'max': 50000},
        'offset_pips': {'type': 'float', 'default': 1.5, 'min': 0.0, 'max': 10.0},
        'mode': {'type': 'str', 'default': 'passive', 'options': ['passive', 'aggressive']},
        'label': {'type': 'str', 'default': 'x'},
        'use_ioc': {'type': 'bool', 'default': False},
    },
}

class Declared(OrderBase):
    def generate_order(self, market_data, signal=None):
        print('CONFIG', sorted(self.config.items()))
        return None
`;

describe('sptrader CLI: components the contract allows', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-contract-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  describe('--param is read and checked as __metadata__ declares it', () => {
    const bad: Array<[string, RegExp]> = [
      ['mode=foo', /--param mode=foo: mode: "foo" is not one of its options \("passive", "aggressive"\)/],
      ['size=1.5', /--param size=1\.5: size: 1\.5 is not a whole number.*≤ 50000/],
      ['size=99999', /size: 99999 is above its maximum 50000/],
      ['offset_pips=abc', /offset_pips: "abc" is not a number/],
      ['use_ioc=maybe', /use_ioc: "maybe" is not true or false/],
    ];
    for (const [pair, message] of bad) {
      it(`test-order refuses ${pair} (exit 2), naming the parameter, the value and the file; nothing runs`, () => {
        const file = write('declared.py', DECLARED);
        const r = cli(['test-order', file, '--state-dir', join(dir, 'state'), '--param', pair]);
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, message);
        assert.ok(r.stderr.includes(file), r.stderr);
        assert.doesNotMatch(r.stdout, /CONFIG/);
      });
    }

    it('values are read as their declared type: "yes" a bool, 3 a float, 123 text for a str', () => {
      const file = write('declared.py', DECLARED);
      const r = cli([
        'test-order',
        file,
        '--state-dir',
        join(dir, 'state'),
        '--param',
        'use_ioc=yes',
        '--param',
        'offset_pips=3',
        '--param',
        'label=123',
        '--param',
        'mode=aggressive',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /CONFIG \[\('label', '123'\), \('mode', 'aggressive'\), \('offset_pips', 3\), \('size', 2000\), \('use_ioc', True\)\]/,
      );
    });

    it('a name the metadata does not declare is passed as given, with a warning that names the declared ones', () => {
      const file = write('declared.py', DECLARED);
      const r = cli(['test-order', file, '--state-dir', join(dir, 'state'), '--param', 'sise=10']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stderr, /--param sise: .* declares no parameter 'sise'.*\(it declares size, offset_pips, mode/);
      assert.match(r.stdout, /\('sise', 10\)/);
    });

    it('a declaration that contradicts itself is said before the value it makes impossible', () => {
      const file = write(
        'contradicts.py',
        DECLARED.replace("'min': 1, 'max': 50000", "'min': 10, 'max': 1").replace(
          "'default': 'passive', 'options'",
          "'default': 'neutral', 'options'",
        ),
      );
      const r = cli(['test-order', file, '--state-dir', join(dir, 'state'), '--param', 'size=5']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const min = r.stderr.indexOf(`${file}: __metadata__['parameters']['size']: min 10 is above max 1`);
      assert.ok(min >= 0, r.stderr);
      assert.ok(min < r.stderr.indexOf('--param size=5: size: 5 is below its minimum 10'), r.stderr);
      assert.match(r.stderr, /\['mode'\]\['default'\]: "neutral" is not one of its options/);
    });

    it('replay refuses a value past its max before any record runs (exit 2)', () => {
      const file = write('declared.py', DECLARED);
      const r = cli(['replay', file, '--data', DATA, '--param', 'size=60000']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--param size=60000: size: 60000 is above its maximum 50000/);
      assert.equal(r.stdout, '');
    });
  });

  it("a --market-data fixture with bid and ask only still gives the contract's timestamp (the run's time)", () => {
    const file = write(
      'reads_timestamp.py',
      `from core.base.order import Order

class ReadsTimestamp(Order):
    def execute(self, market_state):
        print('TS', market_state['timestamp'], market_state['timestamp_ms'], market_state['spread'])
        return None
`,
    );
    const fixture = join(dir, 'md.json');
    writeFileSync(fixture, JSON.stringify({ bid: 1.1, ask: 1.1002 }));
    const before = Date.now();
    const r = cli(['test-order', file, '--state-dir', join(dir, 'state'), '--market-data', fixture]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const m = /TS (\S+) (\d+) 0\.0002/.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(new Date(m[1] ?? '').getTime(), Number(m[2]));
    assert.ok(Number(m[2]) >= before - 1000 && Number(m[2]) <= Date.now() + 1000, m[2]);
  });

  describe("a computed __metadata__'s risk_limits tighten the limits too", () => {
    const COMPUTED = `from core.orders.order_base import OrderBase

LIMIT = 500
__metadata__ = dict(name='computed', type='order', risk_limits={'max_position_size': LIMIT})

class Computed(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}
`;
    for (const command of ['test-order', 'execute']) {
      it(`${command}: denied past the component's max_position_size (exit 3), nothing filled`, () => {
        const r = cli([command, write('computed.py', COMPUTED), '--state-dir', join(dir, 'state')]);
        assert.equal(r.code, 3, r.stdout + r.stderr);
        assert.match(r.stdout.split('\n')[0] ?? '', /DENIED: POSITION_EXCEEDS_MAXIMUM \(1,000 > 500 units\)/);
      });
    }

    it('an import-time change cannot loosen the literal: the stricter of the two counts', () => {
      const file = write(
        'loosen.py',
        `from core.orders.order_base import OrderBase

__metadata__ = {'name': 'loosen', 'risk_limits': {'max_position_size': 500}}
__metadata__ = dict(__metadata__, risk_limits={'max_position_size': 10 ** 9})

class Loosen(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}
`,
      );
      const r = cli(['test-order', file, '--state-dir', join(dir, 'state')]);
      assert.equal(r.code, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /POSITION_EXCEEDS_MAXIMUM \(1,000 > 500 units\)/);
    });
  });

  describe("the limits' hints name flags the CLI takes", () => {
    const cases: Array<[string, string, string, string]> = [
      // [what the component does, the error code, the flag the hint names, a value that allows it]
      ["print('x' * 300000)", 'OUTPUT_LIMIT_EXCEEDED', '--output-limit-bytes', '1000000'],
      ["o['metadata'] = {'note': 'n' * 300000}", 'ANSWER_TOO_LARGE', '--max-answer-bytes', '1000000'],
      ["o['metadata'] = {'deep': [[[[[[1]]]]]]}", 'ANSWER_TOO_DEEP', '--max-nesting-depth', '64'],
    ];
    for (const [body, code, flag, allowed] of cases) {
      it(`${code}: the hint's ${flag} is accepted and allows it`, () => {
        const file = write(
          'limits.py',
          `from core.orders.order_base import OrderBase

class Limits(OrderBase):
    def generate_order(self, market_data, signal=None):
        o = {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}
        ${body}
        return o
`,
        );
        const tight = ['--output-limit-bytes', '200000', '--max-nesting-depth', '4'];
        const refused = cli(['test-order', file, '--state-dir', join(dir, 'state'), ...tight, '--json']);
        assert.equal(refused.code, 1, refused.stderr);
        const error = (JSON.parse(refused.stdout) as { errors: Array<{ code: string; message: string }> }).errors[0];
        assert.equal(error?.code, code);
        assert.ok(error?.message.includes(`CLI ${flag}`), error?.message);
        // The tight limits with the hint's flag raised (a flag given twice is a usage error).
        const raised = tight.flatMap((v, i) => (v === flag ? [] : tight[i - 1] === flag ? [] : [v]));
        const ok = cli(['test-order', file, '--state-dir', join(dir, 'state'), ...raised, flag, allowed]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      });
    }

    it('a limit flag that is not a positive whole number is a usage error', () => {
      const r = cli(['test-order', write('x.py', DECLARED), '--max-answer-bytes', '1.5']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--max-answer-bytes must be a positive whole number, not '1.5'/);
    });
  });

  describe('replay --timeout limits each record', () => {
    /** Orders on records 50 and 100, then record 120 never returns (a pure-Python loop). */
    const HANGS = `from core.orders.order_base import OrderBase

class Hangs(OrderBase):
    def generate_order(self, market_data, signal=None):
        i = market_data['bar_index']
        if i == 120:
            while True:
                i += 1
        if i in (50, 100):
            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}
        return None
`;
    it('stops at the record that hangs, naming it and its line, and keeps the orders before it', () => {
      const file = write('hangs.py', HANGS);
      const started = Date.now();
      const r = cli(['replay', file, '--data', DATA, '--timeout', '1', '--json']);
      assert.ok(Date.now() - started < 30_000, `ended within its limit, not a batch's (${Date.now() - started} ms)`);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as {
        processed: number;
        orders: { sent: number; filled: number };
        fatal: { index: number; code: string; message: string; line?: number };
      };
      assert.equal(report.fatal.code, 'TIMEOUT');
      assert.equal(report.fatal.index, 120);
      // The loop's `while` or its body, as the interpreter was between them.
      assert.ok(report.fatal.line === 7 || report.fatal.line === 8, String(report.fatal.line));
      assert.match(report.fatal.message, /did not return within 1 s on record 120 \(it was running line [78]\)/);
      assert.equal(report.processed, 120);
      assert.equal(report.orders.sent, 2);
      assert.equal(report.orders.filled, 2);
    });

    it('refuses a --timeout that is not a positive number (exit 2)', () => {
      const file = write('hangs.py', HANGS);
      const r = cli(['replay', file, '--data', DATA, '--timeout', '0']);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /--timeout must be a positive number of seconds up to 2147483 \(Node's longest timer\), not '0'/,
      );
      // Past Node's longest timer, a timeout would fire at once: every run would time out.
      const long = cli(['replay', file, '--data', DATA, '--timeout', '1e9']);
      assert.equal(long.code, 2);
      assert.match(long.stderr, /--timeout must be a positive number of seconds up to 2147483 .*not '1e9'/);
    });
  });

  describe('replay stops a component that misbehaves on every record (exit 1), and says where', () => {
    const RAISES = `from core.orders.order_base import OrderBase

class Raises(OrderBase):
    def generate_order(self, market_data, signal=None):
        return 1 / (market_data['close'] - market_data['close'])
`;
    it('1,000 records in a row failing the same way stop it; --max-consecutive-errors 0 runs every record (exit 0)', () => {
      const file = write('raises.py', RAISES);
      const r = cli(['replay', file, '--data', DATA]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /processed {2}1,000 candles/);
      assert.match(r.stdout, /errors {5}1,000 records failed \(COMPONENT_ERROR 1,000; the replay stopped\):/);
      assert.match(
        r.stdout,
        /STOPPED {4}at #999 2024-03-04T16:39:00\.000Z: REPEATED_COMPONENT_ERROR \(raises\.py:5\): 1,000 records in a row, #0 \(2024-03-04T00:00:00\.000Z\) to #999, failed with the same error, so the replay stopped: COMPONENT_ERROR: generate_order raised ZeroDivisionError: float division by zero\./,
      );
      const all = cli(['replay', file, '--data', DATA, '--max-consecutive-errors', '0', '--json']);
      assert.equal(all.code, 0, all.stderr);
      const report = JSON.parse(all.stdout) as { processed: number; errorsByCode: Record<string, number> };
      assert.equal(report.processed, 2000);
      assert.deepEqual(report.errorsByCode, { COMPONENT_ERROR: 2000 });
      const bad = cli(['replay', file, '--data', DATA, '--max-consecutive-errors', '1.5']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--max-consecutive-errors must be a whole number ≥ 0.*not '1.5'/);
    });

    it('a record printing in a loop ends it at the output limit, not at --timeout, naming the record and the print', () => {
      const file = write(
        'chatty.py',
        `from core.orders.order_base import OrderBase

class Chatty(OrderBase):
    def generate_order(self, market_data, signal=None):
        if market_data['bar_index'] == 42:
            while True:
                print('still thinking', market_data['close'])
        return None
`,
      );
      const started = Date.now();
      const r = cli(['replay', file, '--data', DATA, '--timeout', '60', '--output-limit-bytes', '10000']);
      assert.ok(Date.now() - started < 30_000, `ended at its output limit (${Date.now() - started} ms)`);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /processed {2}42 candles/);
      assert.match(
        r.stdout,
        /STOPPED {4}at #42 2024-03-04T00:42:00\.000Z: OUTPUT_LIMIT_EXCEEDED \(chatty\.py:7\): the component printed more than the limit of 10,000 bytes on record 42 \(the print at line 7 passed it\) and was stopped there/,
      );
    });
  });

  it('what a component prints or raises reaches the terminal with its control characters escaped, its text kept', () => {
    // OSC 52 would set the clipboard, ESC[2J clear the screen, a lone CR hide the start of a line, U+202E reverse it.
    const file = write(
      'noisy.py',
      `from core.orders.order_base import OrderBase

class Noisy(OrderBase):
    def generate_order(self, market_data, signal=None):
        print('clip\\x1b]52;c;ZXZpbA==\\x07 clear\\x1b[2J shown\\rHIDDEN \\u202eright-to-left crlf\\r\\nnext')
        raise ValueError('bad\\x1b[31m red')
`,
    );
    const r = cli(['test-order', file, '--state-dir', join(dir, 'state')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f\u202e]/, 'no control character reaches the terminal');
    assert.ok(
      out.includes('clip\\x1b]52;c;ZXZpbA==\\x07 clear\\x1b[2J shown\\rHIDDEN \\u202eright-to-left crlf\nnext'),
      out,
    );
    assert.ok(out.includes('bad\\x1b[31m red'), out);
  });

  it("a component's own client_order_id executed twice: the second is denied as a duplicate, and the state stays whole", () => {
    // The digest of the audit log took the denied second SubmitOrder for an order still being sent: the next run
    // looked it up by its id, found the first order and counted its fill again (position 20 against the account's
    // 10), and every later command was refused with STATE_DAMAGED.
    const file = write(
      'own_id.py',
      `from core.orders.order_base import OrderBase

class OwnId(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 10,
                'time_in_force': 'IOC', 'client_order_id': 'my-order-1'}
`,
    );
    const state = join(dir, 'state');
    const first = cli(['execute', file, '--state-dir', state]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout.split('\n')[0] ?? '', /FILLED 10/);
    const again = cli(['execute', file, '--state-dir', state]);
    assert.equal(again.code, 3, again.stdout + again.stderr);
    assert.match(again.stdout, /DUPLICATE_CLIENT_ORDER_ID: client order id my-order-1 was already used/);
    for (let i = 0; i < 2; i++) {
      const status = cli(['status', '--state-dir', state, '--json']);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      assert.doesNotMatch(status.stdout + status.stderr, /DAMAGED|disagrees/);
    }
    const positions = cli(['positions', '--state-dir', state, '--json']);
    assert.equal(positions.code, 0, positions.stdout + positions.stderr);
    assert.match(positions.stdout, /"quantity":\s*10\b/);
    const tail = cli(['audit', 'tail', '--state-dir', state, '--json', '-n', '100']);
    assert.equal((tail.stdout.match(/"type":\s*"OrderFilled"/g) ?? []).length, 1, tail.stdout);
    assert.doesNotMatch(tail.stdout, /OrderUnconfirmed/);
  });
  it('a test_*.py is not a component: test-order and replay refuse it (exit 1, NOT_A_COMPONENT), and nothing trades', () => {
    write(
      'sized.py',
      'from core.orders.order_base import OrderBase\n\nclass Sized(OrderBase):\n' +
        "    def generate_order(self, market_data, signal=None):\n        return {'symbol': 'EUR_USD', 'side': 'buy', " +
        "'order_type': 'market', 'quantity': 1000}\n",
    );
    // A test's stand-in subclass of the component: run, its order was placed as the component's.
    const test = write('test_sized.py', 'from sized import Sized\n\nclass Stub(Sized):\n    pass\n');
    const state = join(dir, 'state');
    const order = cli(['test-order', test, '--state-dir', state, '--json']);
    assert.equal(order.code, 1, order.stdout + order.stderr);
    const out = JSON.parse(order.stdout) as { errors: Array<{ code: string; message: string }>; response?: unknown };
    assert.equal(out.errors[0]?.code, 'NOT_A_COMPONENT');
    assert.match(out.errors[0]?.message ?? '', /test_sized\.py is a test \(test_\*\.py\).*run the component it tests/);
    assert.equal(out.response ?? null, null);
    const replay = cli(['replay', test, '--data', DATA, '--state-dir', join(dir, 'replay')]);
    assert.equal(replay.code, 1, replay.stdout + replay.stderr);
    assert.match(replay.stdout, /orders {5}0 produced, 0 sent/);
    assert.match(replay.stdout, /STOPPED {4}at #0 .*NOT_A_COMPONENT/);
  });
});
