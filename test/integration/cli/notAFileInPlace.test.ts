/**
 * What the damage matrix (damageMatrix.test.ts) found, through dist/cli.js as a user meets it:
 * - a folder in the place of trading-state.json or working-orders.json: every command said "run `sptrader recover`",
 *   recover's look said it would rewrite the file, and `recover --yes` then failed (exit 6) naming a temp file of
 *   its own (`trading-state.json.<pid>.tmp: cannot replace it`) or the copy it could not make
 *   (`working-orders.json.damaged-…: cannot keep a copy`): the folder could not be recovered at all. Now recover
 *   moves the folder aside whole as `<file>.damaged-<time>` (said in its plan) and rebuilds the file.
 * - a replay's marker (replay.json) beside a trading folder's account: every trading command called the folder "a
 *   replay" and said to use another --state-dir, when it held the user's account. Now the marker is named, with what
 *   to move out, as recover says it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('sptrader: a folder in a state file’s place, a replay marker beside trading state', function () {
  this.timeout(240_000);
  let dir: string;
  let template: string;

  const cli = (args: string[]): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, out: `${r.stderr}${r.stdout}` };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-not-a-file-'));
    template = join(dir, 'template');
    for (const args of [
      ['execute', MARKET],
      ['halt', '--reason', 'writes trading-state.json'],
      ['resume'],
      ['execute', LIMIT, '--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'],
    ]) {
      const r = cli([...args, '--state-dir', template]);
      assert.equal(r.code, 0, r.out);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ['trading-state.json', 'working-orders.json']) {
    it(`a folder in the place of ${name}: recover --yes moves it aside and rebuilds the file`, () => {
      const stateDir = join(dir, name);
      cpSync(template, stateDir, { recursive: true });
      const file = join(stateDir, name);
      rmSync(file);
      mkdirSync(file);
      writeFileSync(join(file, 'stray'), 'kept');

      const refused = cli(['test-order', MARKET, '--state-dir', stateDir]);
      assert.equal(refused.code, 6, refused.out);
      assert.ok(refused.out.includes(file), refused.out);

      const look = cli(['recover', '--state-dir', stateDir]);
      assert.match(look.out, new RegExp(`move what is in the place of .*${name} \\(not a file\\) aside`));

      const recovered = cli(['recover', '--yes', '--state-dir', stateDir]);
      assert.equal(recovered.code, 0, recovered.out);
      assert.doesNotMatch(recovered.out, /\.tmp|cannot keep a copy/);
      assert.doesNotMatch(recovered.out, STACK);
      const aside = readdirSync(stateDir).filter((f) => f.startsWith(`${name}.damaged-`));
      assert.equal(aside.length, 1, `one ${name}.damaged-<time> in ${readdirSync(stateDir).join(', ')}`);
      assert.deepEqual(readdirSync(join(stateDir, aside[0] as string)), ['stray'], 'the folder is kept whole');

      if (name === 'trading-state.json') {
        // The open that found the folder halted trading (the log records it, so recover keeps it): a person resumes.
        const status = cli(['status', '--state-dir', stateDir]);
        assert.match(status.out, /HALTED: cannot read the trading state file .*a folder is in the place/);
        assert.equal(cli(['resume', '--state-dir', stateDir]).code, 0);
      }
      const traded = cli(['test-order', MARKET, '--state-dir', stateDir]);
      assert.equal(traded.code, 0, traded.out);
      assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
    });
  }

  it('replay.json beside a trading folder’s account: the marker is named with what to move out', () => {
    const stateDir = join(dir, 'marker');
    cpSync(template, stateDir, { recursive: true });
    const marker = join(stateDir, 'replay.json');
    writeFileSync(marker, '{}\n');
    for (const command of ['status', 'positions']) {
      const r = cli([command, '--state-dir', stateDir]);
      assert.equal(r.code, 6, r.out);
      assert.ok(r.out.includes(marker), `${command} names ${marker}: ${r.out}`);
      assert.match(r.out, /holds trading state \(.*paper-account\.json.*\)/);
      assert.match(r.out, /move replay\.json out of the folder/);
      assert.doesNotMatch(r.out, /Use another --state-dir/);
    }
    const order = cli(['test-order', MARKET, '--state-dir', stateDir]);
    assert.equal(order.code, 6, order.out);
    assert.ok(order.out.includes(marker), order.out);

    rmSync(marker);
    assert.equal(cli(['test-order', MARKET, '--state-dir', stateDir]).code, 0, 'with the marker moved out it trades');
  });
});
