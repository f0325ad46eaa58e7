/**
 * An audit log deleted from beside the paper account it recorded: the first record of a new log was the end of the
 * evidence. A `status` over it wrote StateDamaged, Reconcile and PositionsReconciled into a new log; the next open
 * no longer saw the log gone, and `recover --yes` took the account's fills for ones the log never had: the account
 * was set aside and started afresh, its position gone ("No open positions."). Now a read refuses before it writes
 * (exit 6, the folder named, recover's way out said), and a `halt` over it (which must work) leaves a log whose first
 * record says the one before it was lost, which recover reads: the account is kept as the new log's baseline.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/market_order.py');

describe('sptrader over a deleted audit log: the paper account survives recover', function () {
  this.timeout(180_000);
  let dir: string;
  let template: string;
  let position: number;

  const cli = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const positions = (stateDir: string): Array<{ symbol: string; quantity: number }> => {
    const r = cli(['positions', '--state-dir', stateDir, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as Array<{ symbol: string; quantity: number }>;
  };
  const logLines = (stateDir: string): number => {
    const audit = join(stateDir, 'audit');
    if (!existsSync(audit)) return 0;
    return readdirSync(audit).filter((f) => f.endsWith('.jsonl')).length;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-lost-log-'));
    template = join(dir, 'template');
    const placed = cli(['execute', MARKET, '--state-dir', template, '--json']);
    assert.equal(placed.code, 0, placed.stdout + placed.stderr);
    position = (positions(template)[0] as { quantity: number }).quantity;
    assert.ok(position > 0);
    // The log as it was, for the case of a recover that set it aside and was cut short.
    cpSync(join(template, 'audit'), join(dir, 'original-log'), { recursive: true });
    rmSync(join(template, 'audit'), { recursive: true });
    rmSync(join(template, 'working-orders.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let copies = 0;
  const copy = (): string => {
    const stateDir = join(dir, `copy-${++copies}`);
    cpSync(template, stateDir, { recursive: true });
    return stateDir;
  };

  it('status, positions and test-order refuse before writing a new log; recover then keeps the position', () => {
    const stateDir = copy();
    for (const args of [['status'], ['status'], ['positions'], ['test-order', MARKET]]) {
      const r = cli([...args, '--state-dir', stateDir]);
      assert.equal(r.code, 6, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /audit: the audit log is (missing|empty) while paper-account\.json is there/);
      assert.ok(r.stderr.includes(`sptrader recover --state-dir ${stateDir} --yes`), r.stderr);
      assert.equal(logLines(stateDir), 0, `${args.join(' ')} wrote no audit file`);
    }
    assert.equal(cli(['recover', '--state-dir', stateDir, '--yes']).code, 0);
    assert.deepEqual(
      positions(stateDir).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', position]],
    );
  });

  it('while a recover is unfinished (its marker there, the log set aside): said as that, with recover --yes to finish it', () => {
    const stateDir = copy();
    const aside = 'audit.damaged-2026-12-05T11-00-00-000Z';
    cpSync(join(dir, 'original-log'), join(stateDir, aside), { recursive: true });
    writeFileSync(
      join(stateDir, 'recovering.json'),
      `${JSON.stringify({ version: 1, startedAt: 1, auditSetAside: aside })}\n`,
    );
    const r = cli(['status', '--state-dir', stateDir]);
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.match(r.stderr, /recovering\.json: a recover of this folder was interrupted/);
    assert.doesNotMatch(r.stderr, /Put the audit log back/);
    assert.equal(logLines(stateDir), 0, 'status wrote no audit file');
    assert.equal(cli(['recover', '--state-dir', stateDir, '--yes']).code, 0);
    assert.deepEqual(
      positions(stateDir).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', position]],
    );
  });

  it('a halt over it still works, and recover afterwards keeps the position as the new log’s baseline', () => {
    const stateDir = copy();
    const halt = cli(['halt', '--state-dir', stateDir]);
    assert.equal(halt.code, 6, halt.stdout + halt.stderr);
    assert.match(halt.stdout, /Trading {4}HALTED/);
    assert.ok(logLines(stateDir) > 0, 'the halt is recorded');
    const recover = cli(['recover', '--state-dir', stateDir, '--yes']);
    assert.equal(recover.code, 0, recover.stdout + recover.stderr);
    assert.match(recover.stdout, /began over one that was deleted or emptied/);
    assert.match(recover.stdout, /keep the paper account/);
    assert.deepEqual(
      positions(stateDir).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', position]],
    );
    const status = cli(['status', '--state-dir', stateDir, '--json']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.equal((JSON.parse(status.stdout) as { tradingState: string }).tradingState, 'HALTED');
  });
});
