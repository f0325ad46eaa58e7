/**
 * The built CLI (`dist/cli.js`) with components as traders write them (red team, round 13), on the paper venue with
 * a real python3: a malformed `__metadata__['risk_limits']` is said at its file and line by test-order, replay (before
 * any record runs: it denied every order and said only a count) and compare; a parent order given to `execute` says
 * what it is and what runs it (it was headlined "the component returned None").
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const DATA = join(ROOT, 'examples/data/eurusd_m1_sample.csv');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BAD_LIMITS = `from core.orders.order_base import OrderBase

__metadata__ = {
    'name': 'bad limits',
    'risk_limits': {
        'max_order_value': 100000,
        'max_position_size': '10k',
    },
}

class BadLimits(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}
`;

describe('sptrader CLI: components as traders write them (round 13)', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-trader-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  it("a malformed risk_limits: test-order says file:line, replay refuses before any record, compare's reason has the line", () => {
    const file = write('bad_limits.py', BAD_LIMITS);
    const state = join(dir, 'state');
    const t = cli(['test-order', file, '--state-dir', state]);
    assert.equal(t.code, 3, t.stderr || t.stdout);
    assert.match(
      t.stdout,
      new RegExp(`Error {6}${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:7: \\[INVALID_RISK_LIMITS\\]`),
    );
    assert.match(t.stdout, /Denied before sending \(INVALID_RISK_LIMITS\) at bad_limits\.py:7: /);

    const replayDir = join(dir, 'replay');
    const r = cli(['replay', file, '--data', DATA, '--state-dir', replayDir]);
    assert.equal(r.code, 1, r.stderr || r.stdout);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^sptrader replay: INVALID_RISK_LIMITS: .*bad_limits\.py:7: the component's __metadata__\['risk_limits'\] is invalid: risk_limits\.max_position_size must be a finite number greater than zero, got '10k'; nothing was replayed/,
    );
    assert.equal(existsSync(join(replayDir, 'audit')), false, 'the replay ran');

    const c = cli(['compare', file, '--venues', 'paper', '--state-dir', join(dir, 'cstate'), '--json']);
    const outcome = JSON.parse(c.stdout) as { venues: Array<{ code: string | null; reason: string | null }> };
    assert.equal(outcome.venues[0]?.code, 'INVALID_RISK_LIMITS', c.stdout);
    assert.match(outcome.venues[0].reason ?? '', /^bad_limits\.py:7: the component's __metadata__\['risk_limits'\]/);
  });

  it('risk_limits built at import: the replay runs, and its summary says why and where its orders were denied', () => {
    const file = write(
      'computed.py',
      "from core.orders.order_base import OrderBase\nLIMIT = '500'\n\n" +
        "__metadata__ = {'name': 'x', **{'risk_limits': {'max_position_size': LIMIT}}}\n\n" +
        'class C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n",
    );
    const r = cli(['replay', file, '--data', DATA, '--state-dir', join(dir, 'replay')]);
    assert.equal(r.code, 0, r.stderr || r.stdout);
    const lines = r.stdout.split('\n');
    const orders = lines.findIndex((l) => l.startsWith('  orders '));
    assert.match(lines[orders] ?? '', /0 sent, [\d,]+ denied \(INVALID_RISK_LIMITS [\d,]+\)/);
    assert.match(
      lines[orders + 1] ?? '',
      /^ {2}why {8}INVALID_RISK_LIMITS: the component's __metadata__\['risk_limits'\] \(computed\.py:4\) are not valid, so its orders were denied; `sptrader test-order computed\.py` says which limit and why$/,
    );
  });

  it('a bracket given to execute: headlined as the parent, said not carried out, with the command that runs it', () => {
    const file = write(
      'bracket.py',
      'from core.orders.order_base import OrderBase\n\nclass B(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n' +
        "        a = market_data['ask']\n" +
        "        return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000,\n" +
        "                'stop_loss': round(a - 0.002, 5), 'take_profit': round(a + 0.004, 5)}\n",
    );
    const r = cli(['execute', file, '--state-dir', join(dir, 'state')]);
    assert.equal(r.code, 0, r.stderr || r.stdout);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], 'BRACKET BUY 1,000 EUR_USD (a parent order) → valid, not started');
    assert.match(
      r.stdout,
      /which this command does not carry out: nothing was sent\. Run it with `sptrader algo bracket\.py`/,
    );
    assert.doesNotMatch(r.stdout, /returned None/);
  });

  it("a parameter typed as the Python type ('type': int): its risk_limits deny in test-order and replay (they were lost)", () => {
    const file = write(
      'typed_limits.py',
      'from core.orders.order_base import OrderBase\n\n__metadata__ = {\n' +
        "    'parameters': {'qty': {'type': int, 'default': 6000, 'min': 1000}},\n" +
        "    'risk_limits': {'max_position_size': 5000},\n}\n\n" +
        'class TypedLimits(OrderBase):\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': self.config['qty']}\n",
    );
    const t = cli(['test-order', file, '--state-dir', join(dir, 'state')]);
    assert.equal(t.code, 3, t.stderr || t.stdout);
    assert.match(
      t.stdout.split('\n')[0] ?? '',
      /^BUY 6,000 EUR_USD MKT GTC → DENIED: POSITION_EXCEEDS_MAXIMUM \(6,000 > 5,000 units\)$/,
    );
    // The declared type is checked before the run, as a literal's is.
    const p = cli(['test-order', file, '--state-dir', join(dir, 'state'), '--param', 'qty=999']);
    assert.equal(p.code, 2, p.stderr || p.stdout);
    assert.match(p.stderr, /--param qty=999: qty: 999 is below its minimum 1000/);
    const r = cli(['replay', file, '--data', DATA, '--state-dir', join(dir, 'replay')]);
    assert.equal(r.code, 0, r.stderr || r.stdout);
    assert.match(r.stdout, /orders {5}2,000 produced, 0 sent, 2,000 denied \(POSITION_EXCEEDS_MAXIMUM 2,000\)/);
  });
});
