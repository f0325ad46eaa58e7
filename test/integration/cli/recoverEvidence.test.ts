/**
 * `sptrader recover` (dist/cli.js) on a folder it must not tidy up in silence: a replay's marker in a trading
 * folder, which it used to call "no problems found"; an audit log cut short, whose intact anchor.json (the one
 * record of how far the log reached) it used to delete; a working-orders.json that is the one record of a loss
 * (the log and its anchor restored from an older copy), or damaged, which it wrote over without a copy (and a
 * look without --yes moved a damaged one away while saying "Nothing was changed"); a working-orders.json that
 * agrees with the log, which it rewrote whenever anything else was recovered.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
/** A buy limit far below the bid: it rests at the paper venue, listed in working-orders.json. */
const RESTING = [LIMIT, '--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'];

const cli = (args: string[], env: Record<string, string> = {}): Result => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SPTRADER_DEBUG: '', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Every file of a folder (recursively) and its bytes: what "nothing was changed" compares. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files[path.slice(dir.length)] = readFileSync(path, 'base64');
    }
  return files;
}

/** The marker as a replay writes it (usecases/replaySetup.ts). */
const REPLAY_MARKER_TEXT = `${JSON.stringify({ kind: 'sptrader-replay', version: 1, createdAt: '2026-01-06T12:00:00.000Z', note: 'Replay audit logs. SPtrader never trades from this folder.' }, null, 1)}\n`;

describe('sptrader recover: what it must not tidy up in silence', function () {
  this.timeout(120_000);
  let dir: string;
  let template: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-recover-evidence-'));
    template = join(dir, 'template');
    const placed = cli(['execute', MARKET, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.stderr + placed.stdout);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = (name: string): string => {
    const to = join(dir, name);
    cpSync(template, to, { recursive: true });
    return to;
  };

  it('a stray replay.json in a trading folder: refused (exit 6) naming the file, what it is and what to do; nothing changed, with --yes too', () => {
    const stateDir = copy('stray-marker');
    const marker = join(stateDir, 'replay.json');
    writeFileSync(marker, REPLAY_MARKER_TEXT);
    const before = snapshot(stateDir);
    for (const args of [['recover'], ['recover', '--yes']]) {
      const r = cli([...args, '--state-dir', stateDir]);
      assert.equal(r.code, 6, `${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      assert.doesNotMatch(r.stderr, STACK);
      assert.doesNotMatch(r.stdout, /no problems found/);
      assert.ok(r.stderr.includes(marker), `names ${marker}:\n${r.stderr}`);
      assert.match(r.stderr, /the marker a replay writes in its own folder/, 'says what the file is');
      assert.match(r.stderr, /holds trading state \(working-orders\.json, paper-account\.json\)/);
      assert.match(r.stderr, /move replay\.json out of the folder/, 'says what to do');
      assert.ok(r.stderr.includes(`sptrader recover --state-dir ${stateDir}`), r.stderr);
      assert.deepEqual(snapshot(stateDir), before, `${args.join(' ')}: nothing was changed`);
    }
    const json = cli(['recover', '--json', '--state-dir', stateDir]);
    assert.equal(json.code, 6);
    const failure = JSON.parse(json.stdout) as { ok: boolean; errors: Array<{ code: string; file: string }> };
    assert.equal(failure.ok, false);
    assert.deepEqual(
      failure.errors.map((e) => [e.code, e.file]),
      [['STATE_FILE', marker]],
    );
    // As every trading command does: the folder is refused over the marker.
    assert.equal(cli(['status', '--state-dir', stateDir]).code, 6);

    // Its user says which it is (trading state): the marker moved out, the folder is clean.
    renameSync(marker, join(dir, 'stray-replay.json'));
    const clean = cli(['recover', '--state-dir', stateDir]);
    assert.equal(clean.code, 0, clean.stderr + clean.stdout);
    assert.match(clean.stdout, /no problems found/);
  });

  it("a replay's own folder (its marker and audit log alone): refused, not rebuilt as trading state", () => {
    const replayDir = join(dir, 'replay-folder');
    mkdirSync(replayDir);
    cpSync(join(template, 'audit'), join(replayDir, 'audit'), { recursive: true });
    writeFileSync(join(replayDir, 'replay.json'), REPLAY_MARKER_TEXT);
    const before = snapshot(replayDir);
    const r = cli(['recover', '--yes', '--state-dir', replayDir]);
    assert.equal(r.code, 6, r.stderr + r.stdout);
    assert.ok(r.stderr.includes(join(replayDir, 'replay.json')), r.stderr);
    assert.match(r.stderr, /this folder is a replay's/);
    assert.deepEqual(snapshot(replayDir), before, 'nothing was changed');
  });

  it('an audit log cut short: recover says how many records are lost and from which seq, and keeps the anchor that shows it aside (never deleted)', () => {
    const stateDir = copy('cut-short');
    const audit = join(stateDir, 'audit');
    const logFile = join(
      audit,
      readdirSync(audit)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .at(-1) as string,
    );
    const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    const last = (JSON.parse(lines.at(-1) as string) as { seq: number }).seq;
    writeFileSync(logFile, `${lines.slice(0, -3).join('\n')}\n`);
    const anchorFile = join(audit, 'anchor.json');
    const anchor = readFileSync(anchorFile, 'utf8');
    assert.equal((JSON.parse(anchor) as { seq: number }).seq, last, 'the anchor saw the whole log');
    const loss = `the 3 record(s) from seq ${last - 2} to seq ${last}`;

    const look = cli(['recover', '--state-dir', stateDir]);
    assert.equal(look.code, 6, look.stderr + look.stdout);
    assert.ok(look.stdout.includes(`${anchorFile}:1: the log ends at seq ${last - 3}`), look.stdout);
    assert.ok(look.stdout.includes(loss), `says which records are lost:\n${look.stdout}`);
    assert.match(look.stdout, /would +set \S+anchor\.json aside as \S+anchor\.json\.cut-short-/);
    assert.equal(readFileSync(anchorFile, 'utf8'), anchor, 'a look changes nothing');

    const fix = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(fix.code, 0, fix.stderr + fix.stdout);
    assert.ok(fix.stdout.includes(loss), fix.stdout);
    const aside = readdirSync(audit).filter((f) => f.startsWith('anchor.json.cut-short-'));
    assert.equal(aside.length, 1, `the anchor is kept aside: ${readdirSync(audit).join(', ')}\n${fix.stdout}`);
    assert.equal(readFileSync(join(audit, aside[0] as string), 'utf8'), anchor, 'as it was');
    assert.ok(fix.stdout.includes(join(audit, aside[0] as string)), `says where it went:\n${fix.stdout}`);
    // The log goes on from its end, anchored anew; the loss stays recorded in it (StateRecovered) and beside it.
    assert.ok(existsSync(anchorFile));
    assert.ok(readFileSync(logFile, 'utf8').includes(loss), 'the StateRecovered record says it');
    const verify = cli(['audit', 'verify', '--state-dir', stateDir]);
    assert.equal(verify.code, 0, verify.stdout);
    assert.equal(cli(['status', '--state-dir', stateDir]).code, 0);
    assert.equal(cli(['recover', '--state-dir', stateDir]).code, 0, 'nothing left to recover');
  });

  it('an audit log replaced by another copy: the anchor that saw another record at its seq is kept aside too', () => {
    const stateDir = join(dir, 'rolled-back');
    for (let i = 0; i < 2; i++) {
      const placed = cli(['execute', MARKET, '--state-dir', stateDir]);
      assert.equal(placed.code, 0, placed.stderr + placed.stdout);
    }
    // The template's anchor saw its own line at its seq: this log has a line there too, another one.
    const audit = join(stateDir, 'audit');
    const anchor = readFileSync(join(template, 'audit', 'anchor.json'), 'utf8');
    writeFileSync(join(audit, 'anchor.json'), anchor);
    const fix = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(fix.code, 0, fix.stderr + fix.stdout);
    assert.match(fix.stdout, /anchor\.json:1: the record at seq \d+ is not the one/);
    const aside = readdirSync(audit).filter((f) => f.startsWith('anchor.json.rolled-back-'));
    assert.equal(aside.length, 1, `the anchor is kept aside: ${readdirSync(audit).join(', ')}\n${fix.stdout}`);
    assert.equal(readFileSync(join(audit, aside[0] as string), 'utf8'), anchor, 'as it was');
    assert.ok(fix.stdout.includes(join(audit, aside[0] as string)), `says where it went:\n${fix.stdout}`);
    assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
  });

  const ordersIn = (stateDir: string): string[] =>
    (
      JSON.parse(readFileSync(join(stateDir, 'working-orders.json'), 'utf8')) as {
        orders: Array<{ clientOrderId: string }>;
      }
    ).orders.map((o) => o.clientOrderId);

  it('the audit log and its anchor restored from an older copy, so that only working-orders.json shows the loss: a look changes nothing; --yes keeps it byte for byte and names the order the log lost before it writes a new one', () => {
    const stateDir = copy('orders-saw-loss');
    const older = join(dir, 'orders-saw-loss-audit');
    cpSync(join(stateDir, 'audit'), older, { recursive: true });
    const rested = cli(['execute', ...RESTING, '--state-dir', stateDir]);
    assert.equal(rested.code, 0, rested.stderr + rested.stdout);
    const [lost] = ordersIn(stateDir);
    assert.ok(lost, 'the resting order is listed');
    rmSync(join(stateDir, 'audit'), { recursive: true });
    cpSync(older, join(stateDir, 'audit'), { recursive: true });
    const ordersFile = join(stateDir, 'working-orders.json');
    const evidence = readFileSync(ordersFile);
    const before = snapshot(stateDir);

    const look = cli(['recover', '--state-dir', stateDir]);
    assert.equal(look.code, 6, look.stderr + look.stdout);
    assert.ok(look.stdout.includes(`${ordersFile}:1: the log ends at seq`), look.stdout);
    assert.ok(look.stdout.includes(`${lost} at paper`), `names the order the log lost:\n${look.stdout}`);
    assert.match(look.stdout, /would +keep a copy of \S+working-orders\.json as \S+working-orders\.json\.cut-short-/);
    assert.deepEqual(snapshot(stateDir), before, 'a look changes nothing');

    const fix = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(fix.code, 0, fix.stderr + fix.stdout);
    const kept = readdirSync(stateDir).filter((f) => f.startsWith('working-orders.json.cut-short-'));
    assert.equal(kept.length, 1, `a copy is kept: ${readdirSync(stateDir).join(', ')}\n${fix.stdout}`);
    assert.ok(readFileSync(join(stateDir, kept[0] as string)).equals(evidence), 'byte for byte');
    assert.ok(fix.stdout.includes(join(stateDir, kept[0] as string)), `says where:\n${fix.stdout}`);
    assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
    assert.equal(cli(['status', '--state-dir', stateDir]).code, 0);
    assert.equal(cli(['recover', '--state-dir', stateDir]).code, 0, 'nothing left to recover');
  });

  it('a damaged working-orders.json: a look leaves it where it is; --yes keeps a copy before it writes a new one, and a kill between the two loses neither', () => {
    const stateDir = copy('orders-damaged');
    const rested = cli(['execute', ...RESTING, '--state-dir', stateDir]);
    assert.equal(rested.code, 0, rested.stderr + rested.stdout);
    const ordersFile = join(stateDir, 'working-orders.json');
    const damaged = readFileSync(ordersFile).subarray(0, 50);
    writeFileSync(ordersFile, damaged);
    const before = snapshot(stateDir);
    const look = cli(['recover', '--state-dir', stateDir]);
    assert.equal(look.code, 6, look.stderr + look.stdout);
    assert.ok(look.stdout.includes(ordersFile), look.stdout);
    assert.deepEqual(snapshot(stateDir), before, 'a look moves nothing away');

    const killed = cli(['recover', '--yes', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'recover-orders-kept' });
    assert.equal(killed.code, null, 'killed at the point');
    assert.ok(readFileSync(ordersFile).equals(damaged), 'the file is as it was until it is replaced');
    const first = readdirSync(stateDir).filter((f) => f.startsWith('working-orders.json.damaged-'));
    assert.equal(first.length, 1, readdirSync(stateDir).join(', '));
    assert.ok(readFileSync(join(stateDir, first[0] as string)).equals(damaged), 'the copy is whole');

    const fix = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(fix.code, 0, fix.stderr + fix.stdout);
    for (const name of readdirSync(stateDir).filter((f) => f.startsWith('working-orders.json.damaged-')))
      assert.ok(readFileSync(join(stateDir, name)).equals(damaged), `${name} holds the damaged bytes`);
    assert.equal(ordersIn(stateDir).length, 1, 'the resting order is listed again, from the log');
    assert.equal(cli(['status', '--state-dir', stateDir]).code, 0);
    assert.equal(cli(['recover', '--state-dir', stateDir]).code, 0, 'nothing left to recover');
  });

  it('trading-state.json damaged beside a working-orders.json that agrees with the log: only the trading state is rewritten, as HALTED it was', () => {
    const stateDir = copy('orders-agree');
    assert.equal(cli(['execute', ...RESTING, '--state-dir', stateDir]).code, 0);
    assert.equal(cli(['halt', '--state-dir', stateDir]).code, 0);
    const ordersFile = join(stateDir, 'working-orders.json');
    const orders = readFileSync(ordersFile);
    writeFileSync(join(stateDir, 'trading-state.json'), '{"version":1,"state":"ACT');
    const fix = cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(fix.code, 0, fix.stderr + fix.stdout);
    assert.doesNotMatch(fix.stdout, /working-orders\.json/, fix.stdout);
    assert.ok(readFileSync(ordersFile).equals(orders), 'working-orders.json is not rewritten');
    assert.deepEqual(
      readdirSync(stateDir).filter((f) => f.startsWith('working-orders.json.')),
      [],
      'and no copy of it is made',
    );
    const status = cli(['status', '--state-dir', stateDir]);
    assert.equal(status.code, 0, status.stderr + status.stdout);
    assert.match(status.stdout, /^Trading +HALTED/m);
  });
});
