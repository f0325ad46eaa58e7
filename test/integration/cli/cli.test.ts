/** The built CLI (`dist/cli.js`), as a user runs it. */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { startFakeOanda } from '../../fakes/oanda/server';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditLog } from '../../../src/execution/audit/auditLog';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const EXAMPLE = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sptrader CLI', function () {
  this.timeout(60_000);
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'sptrader-cli-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('test-order prints a readable summary of a real paper fill', () => {
    const r = cli(['test-order', EXAMPLE, '--state-dir', stateDir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // The first line says what was traded and what happened, with the fill and the slippage.
    assert.match(
      r.stdout.split('\n')[0] ?? '',
      /^BUY 10,000 EUR_USD MKT IOC → FILLED 10,000 @ 1\.\d{4,5} \([+-]?[\d.]+ pips?\)$/,
    );
    assert.match(
      r.stdout,
      /^\s+pass max_order_quantity\s+10,000 units, limit [\d,]+ units$/m,
      'risk numbers have units and thousands separators',
    );
    assert.match(r.stdout, /Status\s+FILLED/);
    assert.match(r.stdout, /Fill\s+10000 @ 1\.\d+/);
    assert.match(
      r.stdout,
      /Slippage\s+[+-]?[\d.]+ pips? \(.*\) against the (ask|bid) [\d.]+/,
      'slippage is measured against the quote the component saw',
    );
    assert.match(
      r.stdout,
      /Timings\s+component [\d.]+ ms, python total [\d.]+ ms, engine [\d.]+ ms, venue [\d.]+ ms, total [\d.]+ ms/,
    );
    assert.match(r.stdout, /spread [\d.]+ pips/, 'the component output is shown');
  });

  it('--json prints one object with the fields scripts rely on', () => {
    const r = cli(['test-order', EXAMPLE, '--state-dir', stateDir, '--json', '--side', 'sell']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['ok', 'order', 'response', 'slippage', 'timings', 'errors']) assert.ok(key in out, key);
    const response = out['response'] as Record<string, unknown>;
    for (const key of ['order_id', 'status', 'filled_price', 'filled_quantity', 'commission', 'timestamp'])
      assert.ok(key in response, key);
    assert.equal(out['ok'], true);
  });

  it('execute keeps the paper account in --state-dir across runs', () => {
    assert.equal(cli(['execute', EXAMPLE, '--state-dir', stateDir, '--json']).code, 0);
    assert.equal(cli(['execute', EXAMPLE, '--state-dir', stateDir, '--json']).code, 0);
    const r = cli(['execute', EXAMPLE, '--state-dir', stateDir, '--json', '--param', 'quantity=5000']);
    const out = JSON.parse(r.stdout) as { order: { quantity: number } };
    assert.equal(out.order.quantity, 5000);
    const positions = cli(['positions', '--state-dir', stateDir, '--json']);
    assert.equal(positions.code, 0, positions.stderr);
    const list = JSON.parse(positions.stdout) as Array<{ symbol: string; quantity: number }>;
    assert.deepEqual(
      list.map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', 25000]],
    );
  });

  it('test-order leaves the paper account as it was (a scratch copy fills); execute changes it; reset-paper starts it afresh', () => {
    const positions = (): Array<[string, number]> => {
      const r = cli(['positions', '--state-dir', stateDir, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]);
    };
    const tried = cli(['test-order', EXAMPLE, '--state-dir', stateDir]);
    assert.equal(tried.code, 0, tried.stderr + tried.stdout);
    assert.match(tried.stdout.split('\n')[0] ?? '', /→ FILLED 10,000 @/);
    assert.match(tried.stdout, /Venue\s+paper \(paper\), a scratch copy of the account: the account is unchanged/);
    assert.match(tried.stdout, /FILLED on a scratch copy of the Paper account: the account is unchanged\./);
    assert.deepEqual(positions(), []);
    assert.equal(cli(['execute', EXAMPLE, '--state-dir', stateDir]).code, 0);
    assert.deepEqual(positions(), [['EUR_USD', 10000]]);
    assert.equal(cli(['test-order', EXAMPLE, '--state-dir', stateDir]).code, 0);
    assert.deepEqual(positions(), [['EUR_USD', 10000]], 'a Test Order after an Execute left the account as it was');

    const dry = cli(['reset-paper', '--state-dir', stateDir]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /Would reset the paper account .*1 position\(s\), 0 working order\(s\), 1 fill\(s\).*--yes/,
    );
    assert.deepEqual(positions(), [['EUR_USD', 10000]]);
    const reset = cli(['reset-paper', '--state-dir', stateDir, '--yes']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /^Paper account reset \(was .*\): 100000 USD, no positions, no orders\./);
    // The next open agrees with the audit log (\`positions\` exits 6 on damage), and the chain verifies.
    assert.deepEqual(positions(), []);
    assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
  });

  it('exit 1 with file and line for a component error', () => {
    const file = join(stateDir, 'broken.py');
    writeFileSync(
      file,
      'from core.orders.order_base import OrderBase\n\nclass B(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        raise ValueError("no edge today")\n',
    );
    const r = cli(['test-order', file, '--state-dir', stateDir, '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      errors: Array<{ code: string; file: string; line: number; message: string }>;
    };
    assert.equal(out.ok, false);
    assert.deepEqual([out.errors[0]?.code, out.errors[0]?.file, out.errors[0]?.line], ['COMPONENT_ERROR', file, 5]);
    assert.match(out.errors[0]!.message, /ValueError: no edge today/);
  });

  it('exit 2 for usage errors', () => {
    assert.equal(cli(['test-order']).code, 2);
    assert.equal(cli(['test-order', EXAMPLE, '--side', 'hold']).code, 2);
    assert.equal(cli(['test-order', EXAMPLE, '--bogus']).code, 2);
    assert.equal(cli(['frobnicate']).code, 2);
    // With --json a usage error is one JSON object on stdout, as any failure is; stderr says it in one line.
    const json = cli(['test-order', EXAMPLE, '--bogus', '--json']);
    assert.equal(json.code, 2);
    const parsed = JSON.parse(json.stdout) as {
      ok: boolean;
      exitCode: number;
      errors: Array<{ code: string; message: string }>;
    };
    assert.deepEqual([parsed.ok, parsed.exitCode, parsed.errors[0]?.code], [false, 2, 'USAGE']);
    assert.match(parsed.errors[0]?.message ?? '', /Unknown option '--bogus'/);
    assert.doesNotMatch(json.stderr, /Usage: sptrader/);
    assert.match(cli(['test-order', EXAMPLE, '--bogus']).stderr, /Usage: sptrader/);
    const r = cli(['test-order', EXAMPLE, '--market-data', join(stateDir, 'missing.json')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--market-data: .* cannot be read: it does not exist/);
    // The flags were right; the file was not: the message alone, not the whole usage text burying it.
    assert.doesNotMatch(r.stderr, /Usage: sptrader/);
    // A named pipe as a fixture is refused at once (a plain read waits forever for a writer).
    const fifo = join(stateDir, 'signal.fifo');
    execFileSync('mkfifo', [fifo]);
    const p = cli(['test-order', EXAMPLE, '--signal', fifo]);
    assert.equal(p.code, 2);
    assert.match(p.stderr, /--signal: .*signal\.fifo is not a regular file \(a named pipe\)/);
    // compare's --profiles of the wrong shape, and test-order --venues with it: the message alone, too.
    const profiles = join(stateDir, 'profiles-object.json');
    writeFileSync(profiles, '{"id": "oanda"}');
    for (const args of [
      ['compare', EXAMPLE, '--venues', 'paper,oanda', '--profiles', profiles],
      ['test-order', EXAMPLE, '--venues', 'paper,oanda', '--profiles', profiles],
    ]) {
      const c = cli(args);
      assert.equal(c.code, 2, c.stderr);
      assert.match(c.stderr, /--profiles: .*profiles-object\.json must hold a JSON array of broker profiles\n$/);
      assert.doesNotMatch(c.stderr, /Usage: sptrader/);
    }
  });

  it('exit 1 with a clear message when no interpreter is found', () => {
    const r = cli(['test-order', EXAMPLE, '--state-dir', stateDir, '--json', '--python', '/nonexistent/python3'], {
      PATH: '/nonexistent',
    });
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { errors: Array<{ code: string; message: string }> };
    assert.equal(out.errors[0]?.code, 'INTERPRETER_NOT_FOUND');
    assert.match(out.errors[0].message, /\/nonexistent\/python3/);
  });

  it("--python hang.sh --timeout 1: given up at the probe's least time (5 s), not its 15 s nor the component's 1 s (rt-comp9, rt-comp11)", () => {
    const hang = join(stateDir, 'hang.sh');
    writeFileSync(hang, '#!/bin/sh\nsleep 30\n');
    chmodSync(hang, 0o755);
    const started = Date.now();
    const r = cli(['test-order', EXAMPLE, '--state-dir', stateDir, '--json', '--python', hang, '--timeout', '1']);
    const took = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(took < 10_000, `took ${took} ms`);
    const out = JSON.parse(r.stdout) as { errors: Array<{ code: string; message: string }> };
    assert.equal(out.errors[0]?.code, 'INTERPRETER_NOT_ANSWERING');
    assert.match(
      out.errors[0].message,
      /hang\.sh did not answer the probe \(.*\) within 5 s \(the probe's own least time/,
    );
  });

  it('exit 1 when the interpreter is too old', () => {
    const fake = join(stateDir, 'python2');
    writeFileSync(fake, '#!/bin/sh\necho \'{"executable": "/usr/bin/python2.7", "version": [2, 7, 18]}\'\n');
    chmodSync(fake, 0o755);
    const r = cli(['test-order', EXAMPLE, '--state-dir', stateDir, '--json', '--python', fake]);
    assert.equal(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout) as { errors: Array<{ code: string; message: string }> };
    assert.equal(out.errors[0]?.code, 'INTERPRETER_TOO_OLD');
    assert.match(out.errors[0].message, /2\.7\.18/);
  });
});

describe('sptrader audit', function () {
  this.timeout(60_000);
  it('tails a record holding bidi controls escaped, so that its line reads as its bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-audit-cli-'));
    try {
      const { log } = await AuditLog.open(dir);
      await log.append('OrderRejected', { clientOrderId: 'c-1', reason: 'ok \u202edias eunev\u202c \u2066x\u2069' });
      await log.close();
      const tail = cli(['audit', 'tail', dir, '-n', '1']);
      assert.equal(tail.code, 0, tail.stderr);
      // JSON.stringify left them raw: the terminal showed the reason reordered.
      assert.ok(!/[\u202a-\u202e\u2066-\u2069]/.test(tail.stdout), tail.stdout);
      assert.match(tail.stdout, /"reason":"ok \\u202edias eunev\\u202c \\u2066x\\u2069"/);
      const json = cli(['audit', 'tail', dir, '-n', '1', '--json']);
      assert.equal((JSON.parse(json.stdout) as Array<{ data: { reason: string } }>)[0]?.data.reason.length, 19);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('verifies a chain, tails it, and reports a tampered line with file and line (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-audit-cli-'));
    try {
      const { log } = await AuditLog.open(dir);
      for (let i = 1; i <= 5; i++) await log.append('OrderSubmitted', { clientOrderId: `c-${i}`, quantity: i });
      await log.close();
      const ok = cli(['audit', 'verify', dir]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^VERIFIED: 5 records in 1 file/);
      const tail = cli(['audit', 'tail', dir, '-n', '2', '--json']);
      assert.deepEqual(
        (JSON.parse(tail.stdout) as Array<{ seq: number }>).map((r) => r.seq),
        [4, 5],
      );
      const file = join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.jsonl'))!,
      );
      writeFileSync(file, readFileSync(file, 'utf8').replace('"quantity":3', '"quantity":9'));
      const bad = cli(['audit', 'verify', dir]);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /^BROKEN/);
      assert.ok(bad.stdout.includes(`${file}:3:`), bad.stdout);
      assert.equal(cli(['audit', 'rewrite', dir]).code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sptrader halt | resume | status', function () {
  this.timeout(60_000);
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'sptrader-cli-trading-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('halt survives across processes: test-order and execute are denied (exit 3) until resume; the audit log records all of it', () => {
    assert.equal(cli(['execute', EXAMPLE, '--state-dir', stateDir]).code, 0);
    const halt = cli(['halt', '--state-dir', stateDir, '--reason', 'news spike']);
    assert.equal(halt.code, 0, halt.stderr);
    assert.match(halt.stdout, /Trading\s+HALTED: news spike/);
    const status = cli(['status', '--state-dir', stateDir, '--json']);
    const s = JSON.parse(status.stdout) as { tradingState: string; reason: string };
    assert.equal(s.tradingState, 'HALTED');
    for (const command of ['test-order', 'execute']) {
      const denied = cli([command, EXAMPLE, '--state-dir', stateDir]);
      assert.equal(denied.code, 3, denied.stdout);
      assert.match(denied.stdout, /TRADING_HALTED/);
      assert.equal(
        denied.stdout.split('\n')[0],
        'BUY 10,000 EUR_USD MKT IOC → DENIED: TRADING_HALTED (trading is HALTED)',
      );
    }
    const resume = cli(['resume', '--state-dir', stateDir]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /Trading\s+ACTIVE/);
    assert.equal(cli(['execute', EXAMPLE, '--state-dir', stateDir]).code, 0);
    const verify = cli(['audit', 'verify', '--state-dir', stateDir]);
    assert.equal(verify.code, 0, verify.stdout);
    const types = (
      JSON.parse(cli(['audit', 'tail', '--state-dir', stateDir, '-n', '1000', '--json']).stdout) as Array<{
        type: string;
      }>
    ).map((r) => r.type);
    for (const t of [
      'SubmitOrder',
      'OrderFilled',
      'Halt',
      'EmergencyStop',
      'TradingStateChanged',
      'OrderDenied',
      'Resume',
    ])
      assert.ok(types.includes(t), t);
  });

  it('halt cancels resting orders; --flatten needs --yes', () => {
    const limit = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
    assert.equal(cli(['execute', limit, '--state-dir', stateDir]).code, 0);
    assert.match(cli(['orders', '--state-dir', stateDir]).stdout, /LIMIT|limit/);
    assert.equal(cli(['halt', '--state-dir', stateDir, '--flatten']).code, 2);
    const halt = cli(['halt', '--state-dir', stateDir]);
    assert.equal(halt.code, 0, halt.stderr);
    assert.match(halt.stdout, /Cancelled\s+1 order/);
    assert.match(cli(['orders', '--state-dir', stateDir]).stdout, /No open orders/);
  });

  it('risk limits from a file: a bad file is a usage error naming the key; a tight one denies with the check', () => {
    const bad = join(stateDir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ limits: { maxOrderQuantity: -5 } }));
    const r = cli(['test-order', EXAMPLE, '--state-dir', stateDir, '--limits', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /limits\.maxOrderQuantity/);
    writeFileSync(join(stateDir, 'risk-limits.json'), JSON.stringify({ limits: { maxOrderNotional: 1000 } }));
    const denied = cli(['test-order', EXAMPLE, '--state-dir', stateDir, '--json']);
    assert.equal(denied.code, 3);
    const out = JSON.parse(denied.stdout) as {
      denial: { code: string };
      risk: Array<{ check: string; passed: boolean; limit: unknown }>;
    };
    assert.equal(out.denial.code, 'NOTIONAL_EXCEEDS_MAX_PER_ORDER');
    assert.equal(out.risk.find((c) => !c.passed)?.limit, 1000);
  });
});

describe('sptrader test-order --broker (against a local fake venue)', function () {
  this.timeout(60_000);
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'sptrader-cli-broker-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  // The fake answers in this process, so the CLI must run without blocking the event loop.
  const cliAsync = (
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolvePromise) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { ...process.env, ...env }, timeout: 60_000 },
        (error, stdout, stderr) => {
          resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });

  it('sends the component’s order to OANDA practice through the engine, with credentials from the environment', async () => {
    const fake = await startFakeOanda();
    try {
      fake.setQuote('EUR_USD', 1.085, 1.0852);
      const env = { SPTRADER_OANDA_TOKEN: fake.token, SPTRADER_OANDA_ACCOUNT_ID: fake.accountId };
      const r = await cliAsync(
        ['test-order', EXAMPLE, '--state-dir', stateDir, '--broker', 'oanda', '--base-url', fake.url, '--json'],
        env,
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as {
        venue: { id: string; environment: string };
        order: { client_order_id: string };
        response: { status: { status: string }; filled_price: number };
      };
      assert.equal(out.venue.environment, 'practice');
      assert.equal(out.response.status.status, 'filled');
      assert.equal(out.response.filled_price, 1.0852);
      assert.equal(fake.ordersWithClientId(out.order.client_order_id), 1, 'exactly one order at the venue');
      assert.ok(!r.stdout.includes(fake.token) && !r.stderr.includes(fake.token), 'the token is never printed');
      const bad = await cliAsync(
        ['test-order', EXAMPLE, '--state-dir', stateDir, '--broker', 'oanda', '--base-url', fake.url],
        {
          SPTRADER_OANDA_TOKEN: 'wrong-token-value-123',
          SPTRADER_OANDA_ACCOUNT_ID: fake.accountId,
        },
      );
      assert.equal(bad.code, 4, bad.stderr);
      assert.match(bad.stderr, /cannot connect to OANDA/i);
      assert.ok(!bad.stderr.includes('wrong-token-value-123'));
      const missing = await cliAsync(
        ['test-order', EXAMPLE, '--state-dir', stateDir, '--broker', 'oanda', '--base-url', fake.url],
        {
          SPTRADER_OANDA_TOKEN: '',
          SPTRADER_OANDA_ACCOUNT_ID: '',
        },
      );
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /SPTRADER_OANDA_TOKEN|oanda\.token/);
      const usage = await cliAsync(['test-order', EXAMPLE, '--state-dir', stateDir, '--broker', 'nasdaq'], {});
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /broker must be one of/);
    } finally {
      await fake.close();
    }
  });
});
