/**
 * An audit log that does not verify is not written to by a command that only reads, or whose every order its damage
 * would deny. `status` (and a denied Test Order) appended StateDamaged, Reconcile and PositionsReconciled to the log it
 * had just called broken, three more records on every call, burying the damage under its own noise. Now each such
 * command is refused before anything is written (exit 6, the log's file and line named, the way out said), and `halt`
 * still works over it. The real CLI over a real state folder whose log had one line edited.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/market_order.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');

describe('sptrader over an audit log that does not verify: nothing appended by a read or a denied order', function () {
  this.timeout(180_000);
  let dir: string;
  let template: string;

  const cli = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  /** Every file of the folder with its bytes, the audit log's among them. */
  const snapshot = (stateDir: string): Map<string, string> => {
    const files = new Map<string, string>();
    const visit = (folder: string): void => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (entry.name !== '.lock') files.set(path, readFileSync(path, 'latin1'));
      }
    };
    visit(stateDir);
    return files;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-broken-log-'));
    template = join(dir, 'template');
    for (const component of [MARKET, LIMIT]) {
      const placed = cli(['execute', component, '--state-dir', template]);
      assert.equal(placed.code, 0, placed.stdout + placed.stderr);
    }
    // Line 4 edited (its record no longer matches its hash): `audit verify` says BROKEN at line 4.
    const audit = join(template, 'audit');
    const file = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl')) as string);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[3] = (lines[3] as string).replace('"OrderSubmitted"', '"OrderSubmittex"');
    writeFileSync(file, lines.join('\n'));
    assert.equal(cli(['audit', 'verify', '--state-dir', template]).code, 1);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let copies = 0;
  const copy = (): string => {
    const stateDir = join(dir, `copy-${++copies}`);
    cpSync(template, stateDir, { recursive: true });
    return stateDir;
  };

  const commands: ReadonlyArray<readonly string[]> = [
    ['status'],
    ['status', '--json'],
    ['positions'],
    ['account', '--json'],
    ['orders'],
    ['test-order', MARKET],
    ['execute', MARKET, '--json'],
    ['reset-paper', '--yes'],
    ['algo', MARKET],
  ];
  for (const args of commands)
    it(`${args.filter((a) => !a.endsWith('.py')).join(' ')}: exit 6 naming the log's line, the folder unchanged`, () => {
      const stateDir = copy();
      const before = snapshot(stateDir);
      for (let call = 0; call < 2; call++) {
        const r = cli([...args, '--state-dir', stateDir]);
        assert.equal(r.code, 6, r.stdout + r.stderr);
        const said = args.includes('--json') ? r.stdout : r.stderr;
        assert.match(said, /audit-[\d-]+\.jsonl:4: the audit log does not verify/);
        assert.match(said, /sptrader recover --state-dir /);
        assert.deepEqual(snapshot(stateDir), before, 'no file of the folder was written');
      }
    });

  it('halt still works over it: trading HALTED, the working order cancelled', () => {
    const stateDir = copy();
    const r = cli(['halt', '--state-dir', stateDir, '--json']);
    assert.equal(r.code, 6, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { tradingState: string; emergencyStop: { cancelled: string[] } };
    assert.equal(report.tradingState, 'HALTED');
    assert.equal(report.emergencyStop.cancelled.length, 1, r.stdout);
  });
});
