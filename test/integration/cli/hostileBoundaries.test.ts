/**
 * Hostile and mistaken input at the CLI's boundaries (rt-hostile16), through the built CLI with real files and a real
 * python3:
 * - a state folder named where its audit log folder belongs (`sptrader audit verify .sptrader`) was "VERIFIED: 0
 *   records in 0 files", exit 0, over a log that was broken: now refused naming the folder the log is in;
 * - the interpreter probe ran the user's Python with the CLI's broker credentials (SPTRADER_OANDA_TOKEN) in its
 *   environment, where a `sitecustomize`, a `.pth` file or a `--python` wrapper could read them, while the component's
 *   own process was kept from them;
 * - the emergency stop was refused (exit 2 or 6, trading and the working orders left as they were) for a folder in
 *   the place of the risk limits file, or a `--reason` of several lines or past 500 characters, while every other
 *   risk settings file that could not be read was "halting anyway".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const RESTING = ['--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'];
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

describe('sptrader at its boundaries: hostile and mistaken input (rt-hostile16)', function () {
  this.timeout(120_000);
  let dir: string;

  const cli = (
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '', ...env },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  before(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-hostile-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('audit verify and tail given the state folder instead of its audit folder: refused naming <state>/audit, never VERIFIED', () => {
    const state = join(dir, 'state');
    const traded = cli(['execute', MARKET, '--state-dir', state]);
    assert.equal(traded.code, 0, traded.stdout + traded.stderr);
    // The log is broken: a middle line edited (a record's time moved after the fact).
    const auditDir = join(state, 'audit');
    const file = join(
      auditDir,
      readdirSync(auditDir).find((n) => n.endsWith('.jsonl')) ?? assert.fail('no audit file'),
    );
    const lines = readFileSync(file, 'utf8').split('\n');
    const middle = Math.floor(lines.length / 2);
    const edited = (lines[middle] ?? '').replace(/"at":(\d+)/, (_, at: string) => `"at":${Number(at) - 1000}`);
    assert.notEqual(edited, lines[middle], 'a middle line was edited');
    lines[middle] = edited;
    writeFileSync(file, lines.join('\n'));
    assert.equal(cli(['audit', 'verify', auditDir]).code, 1, 'the log itself is BROKEN');

    for (const action of ['verify', 'tail']) {
      for (const json of [false, true]) {
        const r = cli(['audit', action, state, ...(json ? ['--json'] : [])]);
        const said = r.stdout + r.stderr;
        // Before: verify printed "VERIFIED: 0 records in 0 files under <state>", exit 0; tail "nothing written yet".
        assert.equal(r.code, 2, said);
        assert.doesNotMatch(said, /VERIFIED|nothing written yet/);
        assert.ok(said.includes(`${state} is a state folder`), said);
        assert.ok(said.includes(`its audit log is in ${auditDir}`), said);
        assert.ok(said.includes(`sptrader audit ${action} --state-dir ${state}`), said);
        assert.doesNotMatch(said, STACK);
        if (json) assert.equal((JSON.parse(r.stdout) as { errors: { code: string }[] }).errors[0]?.code, 'USAGE');
      }
    }
    // The remedy it names reads the log and finds it broken.
    assert.equal(cli(['audit', 'verify', '--state-dir', state]).code, 1);
    // A folder of the log's own that holds nothing yet is still an (empty) audit log folder.
    const empty = join(dir, 'empty-audit');
    mkdirSync(empty);
    const none = cli(['audit', 'verify', empty]);
    assert.equal(none.code, 0, none.stdout + none.stderr);
    assert.match(none.stdout, /^VERIFIED: 0 records in 0 files/);
  });

  it('halt is never refused for its risk limits file or its --reason: trading halts and the working order is cancelled', () => {
    const template = join(dir, 'resting');
    const placed = cli(['execute', LIMIT, ...RESTING, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.stdout + placed.stderr);
    const limitsFolder = join(dir, 'limits-folder');
    mkdirSync(limitsFolder);
    const long = `desk call ${'x'.repeat(1_200)}`;
    const cases: { name: string; args: string[]; damage?: (state: string) => void; said: RegExp; reason: RegExp }[] = [
      {
        name: 'a folder in the place of risk-limits.json',
        args: [],
        damage: (state) => mkdirSync(join(state, 'risk-limits.json')),
        said: /risk-limits\.json: a directory is in the place of the risk limits file.*; halting anyway/,
        reason: /^emergency stop from the command line$/,
      },
      {
        name: '--limits naming a folder',
        args: ['--limits', limitsFolder],
        said: /limits-folder: a directory is in the place of the risk limits file.*; halting anyway/,
        reason: /^emergency stop from the command line$/,
      },
      {
        name: 'a --reason of two lines with a terminal escape and a bidi control',
        args: ['--reason', 'desk call:\n\u001b[31mstop\u202e all'],
        said: /--reason must be one line .* \(U\+000A\) at position 11; halting anyway, with the reason as "desk call: \/ \\u001b\[31mstop\\u202e all"/,
        reason: /^desk call: \/ \\u001b\[31mstop\\u202e all$/,
      },
      {
        name: 'a --reason of 1,210 characters',
        args: ['--reason', long],
        said: /it is 1,210 characters long; halting anyway, with the reason as "desk call x+…"/,
        reason: /^desk call x{489}…$/,
      },
    ];
    for (const c of cases) {
      const state = join(dir, `halt ${c.name}`);
      cpSync(template, state, { recursive: true });
      c.damage?.(state);
      const r = cli(['halt', '--state-dir', state, ...c.args]);
      // Before: exit 6 (the folder) or 2 (the reason), "Nothing was done": ACTIVE, the order still working.
      assert.equal(r.code, 0, `${c.name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.said, c.name);
      assert.match(r.stdout, /Cancelled  1 order/, c.name);
      assert.doesNotMatch(r.stdout + r.stderr, STACK);
      assert.doesNotMatch(r.stdout + r.stderr, /\u001b|\u202e/, `${c.name}: nothing raw reaches the terminal`);
      rmSync(join(state, 'risk-limits.json'), { recursive: true, force: true });
      const status = cli(['status', '--json', '--state-dir', state]);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      const s = JSON.parse(status.stdout) as { tradingState: string; reason: string; workingOrders: number };
      assert.equal(s.tradingState, 'HALTED', c.name);
      assert.match(s.reason, c.reason, c.name);
      assert.equal(s.workingOrders, 0, c.name);
    }
    // Resuming still refuses what it cannot read.
    const state = join(dir, 'halt a folder in the place of risk-limits.json');
    mkdirSync(join(state, 'risk-limits.json'));
    const resumed = cli(['resume', '--state-dir', state]);
    assert.equal(resumed.code, 6, resumed.stdout + resumed.stderr);
    // And a resume's reason is still one line, refused (exit 2) as before: only the stop goes ahead whatever is said.
    rmSync(join(state, 'risk-limits.json'), { recursive: true });
    assert.equal(cli(['resume', '--state-dir', state, '--reason', 'a\nb']).code, 2);
  });

  it('no Python process the CLI starts, the interpreter probe included, is handed SPtrader’s own variables (credentials)', () => {
    // A sitecustomize on the user's PYTHONPATH runs in every Python process before any of SPtrader's code, as an
    // installed package's .pth file or a --python wrapper script would: it writes down what it was handed.
    const site = join(dir, 'site');
    const seen = join(dir, 'seen.txt');
    mkdirSync(site);
    writeFileSync(
      join(site, 'sitecustomize.py'),
      [
        'import os',
        // The harness carries its run's marker; the probe runs before there is a run.
        "who = 'harness' if 'SPTRADER_RUN_TREE' in os.environ else 'probe'",
        "handed = sorted(k for k, v in os.environ.items() if 'do-not-leak' in v)",
        `with open(${JSON.stringify(seen)}, 'a') as f:`,
        "    f.write(who + ' ' + repr(handed) + '\\n')",
        '',
      ].join('\n'),
    );
    const r = cli(['test-order', MARKET, '--state-dir', join(dir, 'creds')], {
      PYTHONPATH: site,
      SPTRADER_OANDA_TOKEN: 'tok-do-not-leak-0123',
      SPTRADER_ALPACA_SECRET_KEY: 'alpaca-do-not-leak-4567',
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(existsSync(seen), 'the sitecustomize ran');
    const processes = readFileSync(seen, 'utf8').trim().split('\n');
    // The probe (`python3 -c "import sys…"`, which finds the interpreter) and the harness each ran it.
    assert.deepEqual(processes.map((p) => p.split(' ')[0]).sort(), ['harness', 'probe'], processes.join('\n'));
    // Before: "probe ['SPTRADER_ALPACA_SECRET_KEY', 'SPTRADER_OANDA_TOKEN']".
    for (const p of processes) assert.ok(p.endsWith(' []'), `a Python process was handed the credentials: ${p}`);
    assert.doesNotMatch(r.stdout + r.stderr, /do-not-leak/);
  });
});
