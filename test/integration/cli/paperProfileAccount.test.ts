/**
 * A paper profile's own account (paper-account-<id>.json, a profile of `--profiles` with `"broker": "paper"`) damaged,
 * through dist/cli.js. The venue was renamed to its profile's id by a wrapper that hid its account file, so the
 * engine never checked that file against the audit log: with the file (and its journal) deleted, test-order and
 * execute traded on a fresh 100,000 USD account (exit 0, an order filled), the log's positions there forgotten. Now
 * the account is checked as the built-in one is: missing while the log records its fills, it is named and nothing
 * is sent.
 * And `recover` did not know the file: over a damaged one it said "no problems found" while every order to the
 * profile was refused with "run `sptrader recover`". Now it rebuilds it from the log's records of the profile, as
 * it rebuilds the built-in account. A log set aside (its chain broken) left the profile's open order in
 * working-orders.json but not in the new log, and the next open refused the folder ("lists 1 order(s) the audit log
 * has no record of"): the order is now carried into the new log, and looked up at its venue.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');

describe('sptrader --venues <paper profile>: its own account file is checked against the audit log', function () {
  this.timeout(180_000);
  let dir: string;
  let template: string;
  let profiles: string;

  const cli = (args: string[]): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, out: `${r.stderr}${r.stdout}` };
  };
  const submitted = (stateDir: string): number =>
    readdirSync(join(stateDir, 'audit'))
      .filter((f) => f.endsWith('.jsonl'))
      .reduce(
        (n, f) => n + readFileSync(join(stateDir, 'audit', f), 'utf8').split('"type":"OrderSubmitted"').length - 1,
        0,
      );

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-paper-profile-'));
    template = join(dir, 'template');
    profiles = join(dir, 'profiles.json');
    writeFileSync(profiles, JSON.stringify([{ id: 'desk2', broker: 'paper' }]));
    const placed = cli(['execute', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.out);
    assert.ok(readdirSync(template).includes('paper-account-desk2.json'), readdirSync(template).join(', '));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("intact: Test Order fills on a scratch copy of the profile's account, as on the built-in one; execute trades on it", () => {
    const stateDir = join(dir, 'intact');
    cpSync(template, stateDir, { recursive: true });
    // The account's snapshot and its journal, as they are on disk.
    const account = (): string =>
      readdirSync(stateDir)
        .filter((f) => f.startsWith('paper-account-desk2.json'))
        .sort()
        .map((f) => `${f}\n${readFileSync(join(stateDir, f), 'utf8')}`)
        .join('\n');
    const before = account();
    const sentBefore = submitted(stateDir);
    const r = cli(['test-order', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', stateDir]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /FILLED/);
    assert.match(r.out, /a scratch copy of the account: the account is unchanged/);
    assert.equal(account(), before, "the profile's account is as it was");
    assert.equal(submitted(stateDir), sentBefore, 'nothing sent to the account itself');
    const executed = cli(['execute', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', stateDir]);
    assert.equal(executed.code, 0, executed.out);
    assert.notEqual(account(), before, 'execute traded on the account');
    assert.equal(submitted(stateDir), sentBefore + 1);
  });

  it('damaged (empty): recover --yes rebuilds it from the log, and the profile trades again', () => {
    const stateDir = join(dir, 'empty');
    cpSync(template, stateDir, { recursive: true });
    const file = join(stateDir, 'paper-account-desk2.json');
    writeFileSync(file, '');
    const order = ['test-order', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', stateDir];
    assert.equal(cli(order).code, 6);
    const look = cli(['recover', '--state-dir', stateDir]);
    assert.equal(look.code, 6, look.out);
    assert.ok(look.out.includes(file), look.out);
    assert.match(look.out, /rebuild it from the audit log's 1 fill\(s\)/);
    const recovered = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(recovered.code, 0, recovered.out);
    assert.equal(readdirSync(stateDir).filter((f) => f.startsWith('paper-account-desk2.json.damaged-')).length, 1);
    const account = JSON.parse(readFileSync(file, 'utf8')) as {
      positions: Array<{ symbol: string; quantity: string }>;
    };
    assert.deepEqual(
      account.positions.map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', '100000000000000']],
      'the 10,000 EUR_USD bought there, booked again from the log',
    );
    const traded = cli(order);
    assert.equal(traded.code, 0, traded.out);
  });

  it('the log set aside with an order of the profile open: it is carried into the new log, the folder opens', () => {
    const stateDir = join(dir, 'set-aside');
    cpSync(template, stateDir, { recursive: true });
    // The profile's last order's fill is the log's last line: damaged, the order is left open in what reads.
    const audit = join(stateDir, 'audit');
    const name = readdirSync(audit).find((f) => f.endsWith('.jsonl')) as string;
    const lines = readFileSync(join(audit, name), 'utf8').split('\n');
    const last = lines.length - 2;
    assert.match(lines[last] as string, /"type":"OrderFilled".*"venue":"desk2"/);
    lines[last] = (lines[last] as string).replace('"type":"OrderFilled"', '"type":"OrderFilleD"');
    writeFileSync(join(audit, name), lines.join('\n'));
    const recovered = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(recovered.code, 0, recovered.out);
    assert.match(
      recovered.out,
      /carry 1 order\(s\) the damaged log left open at other venues into the new log \(sp-\S+ at desk2\)/,
    );
    const status = cli(['status', '--state-dir', stateDir]);
    assert.equal(status.code, 0, status.out);
    const traded = cli(['test-order', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', stateDir]);
    assert.equal(traded.code, 0, traded.out);
    assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
  });

  for (const execute of [false, true])
    it(`deleted (snapshot and journal): ${execute ? 'execute' : 'test-order'} names it and sends nothing`, () => {
      const stateDir = join(dir, `deleted-${execute}`);
      cpSync(template, stateDir, { recursive: true });
      for (const f of readdirSync(stateDir)) if (f.startsWith('paper-account-desk2.json')) rmSync(join(stateDir, f));
      const before = submitted(stateDir);
      const r = cli([
        execute ? 'execute' : 'test-order',
        MARKET,
        '--venues',
        'desk2',
        '--profiles',
        profiles,
        '--state-dir',
        stateDir,
      ]);
      assert.equal(r.code, 6, r.out);
      assert.ok(r.out.includes(join(stateDir, 'paper-account-desk2.json')), r.out);
      assert.match(r.out, /missing/);
      assert.equal(submitted(stateDir), before, 'no order was sent');
      assert.doesNotMatch(r.out, /FILLED/);
      // recover finds a profile's account by its file: the remedy says to put one there, and then recover rebuilds it.
      const file = join(stateDir, 'paper-account-desk2.json');
      assert.ok(r.out.includes(`create it empty (\`touch ${file}\`)`), r.out);
      writeFileSync(file, '');
      const recovered = cli(['recover', '--yes', '--state-dir', stateDir]);
      assert.equal(recovered.code, 0, recovered.out);
      assert.match(recovered.out, /rebuild it from the audit log's 1 fill\(s\)/);
      const again = cli(['test-order', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', stateDir]);
      assert.equal(again.code, 0, again.out);
    });
});
