/**
 * A paper profile's own account (paper-account-<id>.json, a profile of `--profiles` with `"broker": "paper"`) damaged,
 * through dist/cli.js. The venue was renamed to its profile's id by a wrapper that hid its account file, so the
 * engine never checked that file against the audit log: with the file (and its journal) deleted, test-order and
 * execute traded on a fresh 100,000 USD account (exit 0, an order filled), the log's positions there forgotten. Now
 * the account is checked as the built-in one is: missing while the log records its fills, it is named and nothing
 * is sent.
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

  it('intact: the profile trades', () => {
    const stateDir = join(dir, 'intact');
    cpSync(template, stateDir, { recursive: true });
    const r = cli(['test-order', MARKET, '--venues', 'desk2', '--profiles', profiles, '--state-dir', stateDir]);
    assert.equal(r.code, 0, r.out);
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
    });
});
