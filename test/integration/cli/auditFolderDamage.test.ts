/**
 * The audit log folder itself damaged, through dist/cli.js as a user meets it:
 * - bytes after the log's last record that no write of SPtrader's leaves there (100 MB of spaces, text, a file of
 *   another shape in the log's place). They were cut off as "the last line was cut short by a crash" (every byte
 *   of them gone) and the run traded on (exit 0, an order sent); now they are kept and reported at their file and
 *   line, nothing is sent, `audit verify` and `recover` say the same, and `recover --yes` sets the log aside whole.
 * - a symbolic link to another state folder's audit log in the place of the folder. Each folder took its own lock
 *   and both appended to the one log: two executes at once forked its hash chain. Now every command that opens
 *   the log, and `recover`, refuses the link (exit 6) naming it; the other folder's log is not touched.
 *   `audit verify --state-dir` and `audit tail --state-dir` followed the link and said VERIFIED (exit 0) over a
 *   folder every trading command refuses: they refuse it too, and say how to read the log it leads to.
 * - an audit file with a second name in another state folder (a hard link: `cp -al`, `ln`): the same fork, with
 *   no link in sight. Every command that opens the log, recover and verify --state-dir refuse it (exit 6) naming
 *   the file; a folder named to verify is read, with a warning.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

interface Result {
  code: number | null;
  out: string;
}

const cli = (args: string[]): Result => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SPTRADER_DEBUG: '' },
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { code: r.status, out: `${r.stderr}${r.stdout}` };
};

const cliAsync = (args: string[]): Promise<Result> =>
  new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, SPTRADER_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => done({ code, out }));
  });

const auditFile = (stateDir: string): string => {
  const name = readdirSync(join(stateDir, 'audit')).find((f) => f.endsWith('.jsonl'));
  assert.ok(name, `an audit file in ${stateDir}`);
  return join(stateDir, 'audit', name);
};

/** OrderSubmitted records in every audit file of a folder (a stray 100 MB tail is skipped by reading lines only). */
const submitted = (stateDir: string): number =>
  readdirSync(join(stateDir, 'audit'))
    .filter((f) => f.endsWith('.jsonl'))
    .reduce(
      (n, f) => n + readFileSync(join(stateDir, 'audit', f), 'latin1').split('"type":"OrderSubmitted"').length - 1,
      0,
    );

describe('sptrader: the audit log folder damaged (stray bytes after the last record, a link in its place)', function () {
  this.timeout(300_000);
  let dir: string;
  let template: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-audit-folder-'));
    template = join(dir, 'template');
    const placed = cli(['execute', MARKET, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.out);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const STRAYS: ReadonlyArray<[string, () => Buffer]> = [
    ['100 MB of spaces', () => Buffer.alloc(100 * 1024 * 1024, 0x20)],
    ['a line of text', () => Buffer.from('note to self: check EUR exposure')],
    ['JSON of another shape', () => Buffer.from('{"version":1}')],
  ];
  for (const [label, stray] of STRAYS)
    it(`${label} after the last record: kept and reported at its file and line, nothing sent; verify and recover agree; recover --yes keeps it aside`, () => {
      const stateDir = join(dir, label.replace(/\W+/g, '-'));
      cpSync(template, stateDir, { recursive: true });
      const file = auditFile(stateDir);
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      const bytes = stray();
      appendFileSync(file, bytes);
      const size = statSync(file).size;
      const sent = submitted(stateDir);
      const where = `${file}:${lines + 1}`;

      const run = cli(['execute', MARKET, '--state-dir', stateDir]);
      assert.equal(run.code, 6, `execute: exit ${run.code}\n${run.out.slice(0, 2000)}`);
      assert.ok(run.out.includes(where), `execute names ${where}:\n${run.out.slice(0, 2000)}`);
      assert.doesNotMatch(run.out, /cut short by a crash/);
      assert.doesNotMatch(run.out, STACK);
      assert.equal(submitted(stateDir), sent, 'nothing was sent');
      const kept = readFileSync(file);
      assert.ok(kept.length >= size, 'no byte of the file was cut');
      assert.ok(kept.subarray(size - bytes.length, size).equals(bytes), 'the stray bytes are there as they were');

      const verify = cli(['audit', 'verify', '--state-dir', stateDir]);
      assert.equal(verify.code, 1, verify.out.slice(0, 2000));
      assert.ok(verify.out.includes(where), `verify names ${where}:\n${verify.out.slice(0, 2000)}`);
      const dry = cli(['recover', '--state-dir', stateDir]);
      assert.equal(dry.code, 6, dry.out.slice(0, 2000));
      assert.ok(dry.out.includes(where), `recover names ${where}:\n${dry.out.slice(0, 2000)}`);

      const fixed = cli(['recover', '--yes', '--state-dir', stateDir]);
      assert.equal(fixed.code, 0, fixed.out.slice(0, 2000));
      const aside = readdirSync(stateDir).find((f) => f.startsWith('audit.damaged-'));
      assert.ok(aside, `the damaged log is set aside: ${readdirSync(stateDir).join(', ')}`);
      const evidence = readFileSync(join(stateDir, aside, file.slice(file.lastIndexOf('/') + 1)));
      assert.ok(evidence.includes(bytes), 'the set-aside log holds the stray bytes');
      const next = cli(['execute', MARKET, '--state-dir', stateDir]);
      assert.equal(next.code, 0, next.out.slice(0, 2000));
      assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
    });

  it("a link to another state folder's audit log in the place of the folder: refused by execute, status and recover (exit 6) naming it; that log untouched, two executes at once cannot fork it", async () => {
    const first = join(dir, 'first');
    cpSync(template, first, { recursive: true });
    const second = join(dir, 'second');
    mkdirSync(second);
    const link = join(second, 'audit');
    symlinkSync(join(first, 'audit'), link);
    const log = auditFile(first);
    const before = readFileSync(log);

    for (const args of [['execute', MARKET], ['status'], ['recover'], ['recover', '--yes']]) {
      const r = cli([...args, '--state-dir', second]);
      assert.equal(r.code, 6, `${args[0]}: exit ${r.code}\n${r.out}`);
      assert.ok(r.out.includes(`${link}: a symbolic link (to ${join(first, 'audit')})`), `${args[0]}:\n${r.out}`);
      assert.doesNotMatch(r.out, STACK);
      assert.ok(readFileSync(log).equals(before), `${args.join(' ')} left the other folder's log as it was`);
    }
    assert.deepEqual(readdirSync(second), ['audit'], 'nothing was written into the second folder');

    // Both at once: the first trades, the second is refused; the one log verifies.
    const [a, b] = await Promise.all([
      cliAsync(['execute', MARKET, '--state-dir', first]),
      cliAsync(['execute', MARKET, '--state-dir', second]),
    ]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 6, b.out);
    const verify = cli(['audit', 'verify', '--state-dir', first]);
    assert.equal(verify.code, 0, verify.out);
    assert.ok(existsSync(join(first, 'audit', 'anchor.json')));
  });

  it('audit verify/tail --state-dir over a linked audit folder: refused as trading refuses it (exit 6), naming the link and how to read the log it leads to', () => {
    const first = join(dir, 'verify-first');
    cpSync(template, first, { recursive: true });
    const second = join(dir, 'verify-second');
    mkdirSync(second);
    const link = join(second, 'audit');
    symlinkSync(join(first, 'audit'), link);
    for (const action of ['verify', 'tail']) {
      const r = cli(['audit', action, '--state-dir', second]);
      assert.equal(r.code, 6, `${action}: exit ${r.code}\n${r.out}`);
      assert.ok(r.out.includes(`${link}: a symbolic link (to ${join(first, 'audit')})`), `${action}:\n${r.out}`);
      assert.ok(r.out.includes(`sptrader audit ${action} ${join(first, 'audit')}`), `${action}:\n${r.out}`);
      assert.doesNotMatch(r.out, /VERIFIED/);
      assert.doesNotMatch(r.out, STACK);
    }
    // Named itself, the folder is the user's choice of what to read.
    const named = cli(['audit', 'verify', link]);
    assert.equal(named.code, 0, named.out);
    assert.match(named.out, /^VERIFIED/m);
  });

  it('an audit file hard-linked into another state folder: execute, status, recover and verify --state-dir refuse it (exit 6) naming the file; nothing is appended to it; verify of the named folder warns', () => {
    const first = join(dir, 'hard-first');
    cpSync(template, first, { recursive: true });
    const second = join(dir, 'hard-second');
    mkdirSync(join(second, 'audit'), { recursive: true });
    const log = auditFile(first);
    const shared = join(second, 'audit', log.slice(log.lastIndexOf('/') + 1));
    linkSync(log, shared);
    const before = readFileSync(log);
    for (const stateDir of [first, second])
      for (const args of [['execute', MARKET], ['status'], ['recover'], ['recover', '--yes'], ['audit', 'verify']]) {
        const r = cli([...args, '--state-dir', stateDir]);
        const file = stateDir === first ? log : shared;
        assert.equal(r.code, 6, `${args.join(' ')} in ${stateDir}: exit ${r.code}\n${r.out}`);
        assert.ok(
          r.out.includes(`${file}: this audit log file has 2 names (hard links)`),
          `${args.join(' ')}:\n${r.out}`,
        );
        assert.doesNotMatch(r.out, STACK);
        assert.ok(readFileSync(log).equals(before), `${args.join(' ')} left the shared file as it was`);
      }
    assert.deepEqual(readdirSync(second).sort(), ['audit'], 'nothing was written into the second folder');
    const named = cli(['audit', 'verify', join(second, 'audit')]);
    assert.equal(named.code, 0, named.out);
    assert.match(named.out, /warning: .*this audit log file has 2 names/);
    // The remedy the message gives: a file of its own, and the folder trades again.
    cpSync(shared, `${shared}.own`, { preserveTimestamps: true });
    rmSync(shared);
    cpSync(`${shared}.own`, shared);
    rmSync(`${shared}.own`);
    const again = cli(['execute', MARKET, '--state-dir', first]);
    assert.equal(again.code, 0, again.out);
    assert.ok(readFileSync(shared).equals(before), "the other folder's copy is not written by the first's trading");
  });
});
