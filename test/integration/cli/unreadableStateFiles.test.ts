/**
 * The state files besides the paper account and the audit files (whose mode 000 failures.test.ts covers) that its
 * user may not read: trading-state.json, working-orders.json, audit/anchor.json. Their access, not their content,
 * is at fault, as for the account. trading-state.json at mode 000 was called damaged: the open recorded a HALTED
 * "cannot read the trading state file" in the audit log, so that with its access back the folder was still refused
 * ("older than the audit log's HALTED … a full disk, say"), halted, until `recover` and a resume; `recover --yes` over
 * the unreadable file replaced it. Now each is a permission error naming the file and `chmod u+rw`, nothing is
 * recorded or replaced, and with the access back everything is as it was.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('sptrader: a trading state, working orders or anchor file its user may not read (mode 000)', function () {
  this.timeout(300_000);
  let dir: string;
  let template: string;
  // Root reads anything: the commands then run as nobody, owning the folder, from a copy of dist/ it can reach.
  const asRoot = process.getuid?.() === 0;
  let script: string;

  /** As the folder's owner (nobody, when the suite runs as root); `asOwner: false` for the template. */
  const cli = (args: string[], asOwner = true): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [asOwner ? script : join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '', HOME: dir },
      timeout: 60_000,
      ...(asRoot && asOwner ? { uid: 65534, gid: 65534 } : {}),
    });
    return { code: r.status, out: `${r.stderr}${r.stdout}` };
  };
  const status = (stateDir: string): { tradingState: string; working: number } => {
    const s = JSON.parse(cli(['status', '--state-dir', stateDir, '--json']).out) as {
      tradingState: string;
      workingOrders: number;
    };
    return { tradingState: s.tradingState, working: s.workingOrders };
  };
  const auditText = (stateDir: string): string =>
    readdirSync(join(stateDir, 'audit'))
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(stateDir, 'audit', f), 'utf8'))
      .join('');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-unreadable-'));
    chmodSync(dir, 0o755);
    script = join(ROOT, 'dist', 'cli.js');
    if (asRoot) {
      cpSync(join(ROOT, 'dist'), join(dir, 'cli-dist'), { recursive: true });
      script = join(dir, 'cli-dist', 'cli.js');
    }
    template = join(dir, 'template');
    for (const args of [
      ['execute', MARKET],
      ['halt', '--reason', 'desk'],
      ['resume'],
      ['execute', LIMIT, '--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'],
    ]) {
      const r = cli([...args, '--state-dir', template], false);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.out}`);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ['trading-state.json', 'working-orders.json', 'audit/anchor.json'])
    it(`${name}: exit 6 naming it and how to give access back; nothing recorded or replaced; with access back, all is there`, () => {
      const stateDir = join(dir, name.replace(/\W+/g, '-'));
      cpSync(template, stateDir, { recursive: true });
      if (asRoot) spawnSync('chown', ['-R', '65534:65534', stateDir]);
      const truth = status(stateDir);
      assert.deepEqual(truth, { tradingState: 'ACTIVE', working: 1 });
      const file = join(stateDir, name);
      const content = readFileSync(file, 'utf8');
      const log = auditText(stateDir);
      chmodSync(file, 0o000);
      try {
        for (const args of [['status'], ['test-order', MARKET], ['recover', '--yes']]) {
          const r = cli([...args, '--state-dir', stateDir]);
          assert.equal(r.code, 6, `${args[0]}: exit ${r.code}\n${r.out}`);
          assert.doesNotMatch(r.out, STACK);
          assert.ok(r.out.includes(file), `${args[0]} names ${file}:\n${r.out}`);
          assert.match(r.out, /permission denied/);
          assert.match(r.out, /give your user read and write access to it \(chmod u\+rw/, r.out);
          assert.doesNotMatch(r.out, /sptrader recover|damaged|rebuil|rewrite/, `${args[0]}: not called damage`);
        }
      } finally {
        chmodSync(file, 0o600);
      }
      assert.equal(readFileSync(file, 'utf8'), content, 'the file was not replaced');
      assert.equal(auditText(stateDir), log, 'nothing was recorded');
      assert.deepEqual(status(stateDir), truth, 'with its access back, the folder is as it was');
      assert.equal(cli(['status', '--state-dir', stateDir]).code, 0);
    });
});
