/** Every failure of the CLI ends with a documented exit code and a message naming the file or input at fault (dist/cli.js). */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { startFakeOanda } from '../../fakes/oanda/server';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number; script?: string } = {},
): Result {
  const r = spawnSync(process.execPath, [options.script ?? CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SPTRADER_DEBUG: '', ...options.env },
    timeout: 60_000,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The fake venue answers in this process: the CLI must run without blocking the event loop.
const cliAsync = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });

/** No stack trace, no exit 70, and the message names `what`. */
function cleanFailure(r: Result, code: number, what: string): void {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}\n${r.stderr}${r.stdout}`);
  assert.doesNotMatch(r.stderr, STACK, 'no stack trace');
  assert.ok((r.stderr + r.stdout).includes(what), `the message names ${what}:\n${r.stderr}${r.stdout}`);
}

const auditText = (stateDir: string): string =>
  readdirSync(join(stateDir, 'audit'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => readFileSync(join(stateDir, 'audit', f), 'utf8'))
    .join('');

describe('sptrader: every failure ends cleanly', function () {
  this.timeout(120_000);
  let dir: string;
  let stateDir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-cli-failures-'));
    stateDir = join(dir, 'state');
    // One trading folder for the tests that only read or refuse: a fill and a resting order.
    assert.equal(cli(['execute', MARKET, '--state-dir', stateDir]).code, 0);
    const resting = cli([
      'execute',
      LIMIT,
      '--state-dir',
      stateDir,
      '--param',
      'offset_pips=200',
      '--param',
      'expiry_minutes=1440',
    ]);
    assert.equal(resting.code, 0, resting.stderr + resting.stdout);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const copy = (name: string): string => {
    const to = join(dir, name);
    cpSync(stateDir, to, { recursive: true });
    return to;
  };

  it('the usage text documents every exit code, 6 and 7 included', () => {
    const r = cli(['help']);
    assert.equal(r.code, 0);
    for (const line of [
      /^\s+5\s+the state directory is in use/m,
      /^\s+6\s+a state file is unreadable, damaged, missing/m,
      /^\s+7\s+the venue rejected the order/m,
      /^\s+70\s+internal error/m,
    ])
      assert.match(r.stdout, line);
  });

  it('orders: the engine working orders of every venue beside the paper venue’s open orders (text and JSON)', () => {
    const text = cli(['orders', '--state-dir', copy('orders')]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /Working orders \(every venue; .*working-orders\.json\):\n\s+paper\s+\S+\s+ACCEPTED\s+BUY 5000 EUR_USD limit/,
    );
    assert.match(text.stdout, /Open at the paper venue:\n\s+P-\d+\s+\S+\s+BUY 5000 EUR_USD limit/);
    const json = JSON.parse(cli(['orders', '--state-dir', copy('orders-json'), '--json']).stdout) as {
      working: Array<{
        venue: string;
        clientOrderId: string;
        state: string;
        symbol: string;
        side: string;
        quantity: number;
      }>;
      paper: Array<{ client_order_id: string }>;
    };
    assert.equal(json.working.length, 1);
    assert.deepEqual(
      [
        json.working[0]?.venue,
        json.working[0]?.state,
        json.working[0]?.symbol,
        json.working[0]?.side,
        json.working[0]?.quantity,
      ],
      ['paper', 'ACCEPTED', 'EUR_USD', 'buy', 5000],
    );
    assert.equal(
      json.paper[0]?.client_order_id,
      json.working[0]?.clientOrderId,
      'the same order seen from the engine and from the venue',
    );
  });

  it('a state directory that is a file, a missing audit folder, a lock of garbage: exit 6, 6, 5 naming them', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    for (const command of ['status', 'positions', 'halt', 'resume', 'orders'])
      cleanFailure(cli([command, '--state-dir', file]), 6, file);
    cleanFailure(cli(['test-order', MARKET, '--state-dir', file]), 6, file);
    const missing = join(dir, 'no-such-folder');
    cleanFailure(cli(['audit', 'verify', missing]), 6, missing);
    cleanFailure(cli(['audit', 'tail', missing]), 6, missing);
    cleanFailure(cli(['audit', 'verify', '--state-dir', missing, '--json']), 6, join(missing, 'audit'));
    const locked = copy('locked');
    writeFileSync(join(locked, 'lock'), '{"pid": 12, "ho');
    const busy = cli(['status', '--state-dir', locked]);
    cleanFailure(busy, 5, join(locked, 'lock'));
    assert.match(busy.stderr, /If no such process is running, delete/);
  });

  it('a risk-limits.json past 1 MiB: every command refuses it (exit 2) naming its size, but a halt still halts', () => {
    const folder = copy('huge-limits');
    const limits = join(folder, 'risk-limits.json');
    writeFileSync(limits, `${' '.repeat(2 * 1024 * 1024)}{}`);
    const status = cli(['status', '--state-dir', folder]);
    cleanFailure(status, 2, limits);
    assert.match(
      status.stderr,
      /is 2,097,154 bytes \(2 MiB\), more than the 1 MiB SPtrader reads from a risk settings file/,
    );
    cleanFailure(cli(['execute', MARKET, '--state-dir', folder]), 2, limits);
    // A person stopping trading is never kept from it by a settings file; resuming is.
    const halt = cli(['halt', '--state-dir', folder, '--reason', 'limits file broken']);
    assert.equal(halt.code, 0, halt.stderr);
    assert.match(halt.stderr, /risk-limits\.json: it is 2,097,154 bytes .*; halting anyway/);
    cleanFailure(cli(['resume', '--state-dir', folder]), 2, limits);
    writeFileSync(limits, '{}');
    const after = cli(['status', '--state-dir', folder, '--json']);
    assert.equal(after.code, 0, after.stderr);
    assert.equal((JSON.parse(after.stdout) as { tradingState: string }).tradingState, 'HALTED');
  });

  it('a read-only state folder: exit 6 naming the file that could not be written, nothing sent', function () {
    const readOnly = copy('read-only');
    const before = auditText(readOnly);
    const asRoot = process.getuid?.() === 0;
    // Root writes anywhere: the command then runs as nobody, for whom the folder is read-only.
    // nobody may not be able to reach the checkout (a clone under a private temporary folder): it runs a copy
    // of the built CLI from the test's own folder, which it can reach.
    let script: string | undefined;
    if (asRoot) {
      cpSync(join(ROOT, 'dist'), join(dir, 'cli-dist'), { recursive: true });
      script = join(dir, 'cli-dist', 'cli.js');
    }
    const run = (args: string[]): Result =>
      asRoot ? cli(args, { uid: 65534, gid: 65534, env: { HOME: dir }, script }) : cli(args);
    const walk = (path: string, mode: (isDir: boolean) => number): void => {
      const isDir = statSync(path).isDirectory();
      if (isDir) for (const name of readdirSync(path)) walk(join(path, name), mode);
      chmodSync(path, mode(isDir));
    };
    walk(readOnly, (isDir) => (isDir ? 0o555 : 0o444));
    chmodSync(dir, 0o755);
    try {
      for (const command of ['status', 'positions', 'orders']) {
        const r = run([command, '--state-dir', readOnly]);
        assert.equal(r.code, 6, `${command}: exit ${r.code}\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, STACK);
        assert.match(
          r.stderr,
          new RegExp(`${readOnly.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(lock|audit|[a-z-]+\\.json)`),
          r.stderr,
        );
        assert.match(r.stderr, /permission denied|read-only/);
      }
      assert.equal(auditText(readOnly), before, 'nothing was written');
    } finally {
      chmodSync(dir, 0o700);
      walk(readOnly, (isDir) => (isDir ? 0o700 : 0o600));
    }
  });

  it('a state file its user may not read (mode 000): exit 6 naming it and how to give access back; recover changes nothing; with access back, all is there', function () {
    const asRoot = process.getuid?.() === 0;
    // Root reads anything: the commands then run as nobody, owning the folder (see the read-only test above).
    let script: string | undefined;
    if (asRoot) {
      cpSync(join(ROOT, 'dist'), join(dir, 'cli-dist-000'), { recursive: true });
      script = join(dir, 'cli-dist-000', 'cli.js');
    }
    const run = (args: string[]): Result =>
      asRoot ? cli(args, { uid: 65534, gid: 65534, env: { HOME: dir }, script }) : cli(args);
    const held = (stdout: string): Array<[string, number]> =>
      (JSON.parse(stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]);
    const truth = held(cli(['positions', '--state-dir', copy('truth-000'), '--json']).stdout);
    assert.ok(truth.length > 0, 'the folder holds a position');
    chmodSync(dir, 0o755);
    try {
      for (const name of ['paper-account.json', 'paper-account.json.journal', 'audit/audit-*.jsonl']) {
        const folder = copy(`mode-000-${name.replace(/\W+/g, '-')}`);
        const file =
          name === 'audit/audit-*.jsonl'
            ? join(folder, 'audit', readdirSync(join(folder, 'audit')).find((n) => n.endsWith('.jsonl')) as string)
            : join(folder, name);
        assert.ok(statSync(file).isFile(), `${name} is there`);
        if (asRoot) spawnSync('chown', ['-R', '65534:65534', folder]);
        const before = auditText(folder);
        chmodSync(file, 0o000);
        for (const args of [['positions'], ['status'], ['recover', '--yes']]) {
          const r = run([...args, '--state-dir', folder]);
          cleanFailure(r, 6, file);
          assert.match(r.stderr, /permission denied/, r.stderr);
          assert.match(r.stderr, /give your user read and write access to it \(chmod u\+rw/, r.stderr);
          assert.doesNotMatch(r.stderr + r.stdout, /sptrader recover|set .* aside|rebuil/, 'not called damage');
        }
        chmodSync(file, 0o600);
        assert.equal(auditText(folder), before, 'nothing was written to the audit log');
        assert.deepEqual(
          readdirSync(folder).filter((n) => /damaged|set-aside|partial/.test(n)),
          [],
          'nothing was set aside',
        );
        const after = run(['positions', '--state-dir', folder, '--json']);
        assert.equal(after.code, 0, after.stderr);
        assert.deepEqual(held(after.stdout), truth, 'with its access back, the account is all there');
      }
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('a damaged paper account: commands refuse naming it (exit 6, nothing sent); recover reports, then with --yes rebuilds it from the audit log', () => {
    const damaged = copy('damaged');
    const truth = JSON.parse(cli(['positions', '--state-dir', copy('truth'), '--json']).stdout) as Array<{
      symbol: string;
      quantity: number;
    }>;
    const account = join(damaged, 'paper-account.json');
    writeFileSync(account, readFileSync(account, 'utf8').slice(0, 40));
    const submitted = auditText(damaged).split('"OrderSubmitted"').length;
    for (const args of [['status'], ['positions'], ['test-order', MARKET, '--json']])
      cleanFailure(cli([...args, '--state-dir', damaged]), 6, account);
    assert.equal(auditText(damaged).split('"OrderSubmitted"').length, submitted, 'no order sent');
    const look = cli(['recover', '--state-dir', damaged]);
    cleanFailure(look, 6, account);
    assert.match(look.stdout, /would/);
    assert.match(look.stdout, /Nothing was changed: run again with --yes/);
    cleanFailure(cli(['status', '--state-dir', damaged]), 6, account);
    const fix = cli(['recover', '--state-dir', damaged, '--yes']);
    assert.equal(fix.code, 0, fix.stderr + fix.stdout);
    assert.match(fix.stdout, /done/);
    const after = cli(['positions', '--state-dir', damaged, '--json']);
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual(
      (JSON.parse(after.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]),
      truth.map((p) => [p.symbol, p.quantity]),
    );
    assert.equal(cli(['recover', '--state-dir', damaged]).code, 0, 'nothing left to recover');
  });

  it('replay: a data file cut short or not UTF-8 is exit 1 naming the file, row, line, column and value', () => {
    const cut = join(dir, 'cut.csv');
    writeFileSync(
      cut,
      'time,bid,ask,bid_size,ask_size\n2024-01-01T00:00:00Z,1.1,1.10012,5,5\n2024-01-01T00:00:01Z,1.1,1.1',
    );
    const short = cli(['replay', MARKET, '--data', cut]);
    cleanFailure(short, 1, cut);
    assert.equal(
      short.stderr,
      `sptrader replay: ${cut}: row 2 (line 3): it has 3 fields but the header has 5: 'bid_size', 'ask_size' are missing (a line cut short? every row has a field for each header column, empty ones too: a,,c)\n`,
    );
    assert.equal(short.stdout, '', 'no replay ran');
    const latin1 = join(dir, 'latin1.csv');
    writeFileSync(latin1, Buffer.from('time,bid,ask\n2024-01-01T00:00:00Z,1.1\xa0,1.10012\n', 'latin1'));
    const bad = cli(['replay', MARKET, '--data', latin1]);
    cleanFailure(bad, 1, latin1);
    assert.equal(
      bad.stderr,
      `sptrader replay: ${latin1}: row 1 (line 2), column 'bid': the byte 0xA0 in "1.1\\xA0" is not UTF-8; replay data is UTF-8 text (was the file saved as Latin-1 or Windows-1252? save it as "CSV UTF-8")\n`,
    );
  });

  it('replay: into a trading folder (even a halted one) exit 2 and its audit log untouched; a time of 1e30 is a data error naming the file (exit 1)', () => {
    const trading = copy('halted');
    assert.equal(cli(['halt', '--state-dir', trading]).code, 0);
    const before = auditText(trading);
    const data = join(dir, 'ticks.csv');
    writeFileSync(data, 'time,bid,ask\n2024-01-01T00:00:00Z,1.1,1.10012\n2024-01-01T00:00:01Z,1.1,1.10012\n');
    const r = cli(['replay', MARKET, '--data', data, '--state-dir', trading]);
    cleanFailure(r, 2, trading);
    assert.match(r.stderr, /holds trading state \(audit, .*\)\. .*never into trading state/);
    assert.equal(auditText(trading), before, 'no simulated fill in the real audit log');
    const far = join(dir, 'far.csv');
    writeFileSync(far, 'time,bid,ask\n1e30,1.1,1.1002\n');
    cleanFailure(cli(['replay', MARKET, '--data', far]), 1, far);
    const replays = join(dir, 'replays');
    const first = cli(['replay', MARKET, '--data', data, '--state-dir', replays, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      cli(['replay', MARKET, '--data', data, '--state-dir', replays, '--json']).code,
      0,
      'a replay folder is reused',
    );
    const notEmpty = join(dir, 'not-empty');
    mkdirSync(notEmpty);
    writeFileSync(join(notEmpty, 'notes.txt'), 'mine');
    cleanFailure(cli(['replay', MARKET, '--data', data, '--state-dir', notEmpty]), 2, notEmpty);
  });

  it('replay into its own folder whose audit log is broken: exit 6 naming the line, nothing appended (text and JSON)', () => {
    // It used to open the log, ignore that it did not verify, append a whole new run onto the broken chain and
    // end 0, its summary saying "check: sptrader audit verify" as if there were nothing to find.
    const data = join(dir, 'replay-ticks.csv');
    writeFileSync(data, 'time,bid,ask\n2024-01-01T00:00:00Z,1.1,1.10012\n2024-01-01T00:00:01Z,1.1,1.10012\n');
    const replays = join(dir, 'broken-replay');
    const first = cli(['replay', MARKET, '--data', data, '--state-dir', replays, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const audit = join(replays, 'audit');
    const file = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl')) as string);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = (lines[1] as string).replace('"seq":2', '"seq":7');
    writeFileSync(file, lines.join('\n'));
    const broken = readFileSync(file);
    for (const json of [false, true]) {
      const r = cli(['replay', MARKET, '--data', data, '--state-dir', replays, ...(json ? ['--json'] : [])]);
      cleanFailure(r, 6, `${file}:2`);
      assert.match(r.stderr, /audit log does not verify/);
      assert.match(r.stderr, /Nothing was replayed/);
      if (json) assert.equal((JSON.parse(r.stdout) as { exitCode: number }).exitCode, 6);
      assert.deepEqual(readFileSync(file), broken, 'nothing appended to the broken log');
      assert.deepEqual(
        readdirSync(audit).filter((f) => f.endsWith('.jsonl')),
        [basename(file)],
        'no other audit file begun',
      );
    }
  });

  it('replay: a folder in the place of an output file (report.json, fills.csv) is refused before it runs (exit 2)', () => {
    const data = join(dir, 'out-ticks.csv');
    writeFileSync(data, 'time,bid,ask\n2024-01-01T00:00:00Z,1.1,1.10012\n');
    for (const name of ['report.json', 'fills.csv']) {
      const out = join(dir, `out-${name}`);
      mkdirSync(join(out, name), { recursive: true });
      const replays = join(dir, `out-replay-${name}`);
      const r = cli(['replay', MARKET, '--data', data, '--out', out, '--state-dir', replays]);
      cleanFailure(r, 2, join(out, name));
      assert.match(r.stderr, /a folder is in the place of this output file/);
      assert.deepEqual(readdirSync(out), [name], 'nothing written beside it');
      assert.deepEqual(readdirSync(replays), ['replay.json'], 'nothing replayed');
    }
  });

  it('orders lists an UNCONFIRMED order at another venue (OANDA) as such, with what settles it', async () => {
    const fake = await startFakeOanda();
    const venueDir = join(dir, 'unconfirmed');
    try {
      fake.setQuote('EUR_USD', 1.085, 1.0852);
      // Placed, then the connection drops; every look-up fails: the outcome stays unknown.
      fake.injectNext({ kind: 'dropConnection', placed: true });
      for (let i = 0; i < 40; i++) fake.injectNext({ kind: 'serverError', on: 'lookup' });
      const env = { SPTRADER_OANDA_TOKEN: fake.token, SPTRADER_OANDA_ACCOUNT_ID: fake.accountId };
      const r = await cliAsync(
        ['test-order', MARKET, '--state-dir', venueDir, '--broker', 'oanda', '--base-url', fake.url],
        env,
      );
      assert.equal(r.code, 4, r.stderr + r.stdout);
      assert.match(
        r.stdout.split('\n')[0] ?? '',
        /^BUY 10,000 EUR_USD MKT \w+ → UNCONFIRMED \(looking it up by client id\)$/,
        'the first line says what was sent and that it is being looked up',
      );
    } finally {
      await fake.close();
    }
    const text = cli(['orders', '--state-dir', venueDir]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^\s+oanda\s+\S+\s+UNCONFIRMED\s+BUY 10000 EUR_USD market/m);
    assert.match(
      text.stdout,
      /UNCONFIRMED: .*next connection to oanda \(`sptrader test-order --broker oanda`.*never resent/,
    );
    const json = JSON.parse(cli(['orders', '--state-dir', venueDir, '--json']).stdout) as {
      working: Array<{ venue: string; state: string; hint?: string }>;
    };
    assert.deepEqual(
      json.working.map((o) => [o.venue, o.state, typeof o.hint]),
      [['oanda', 'UNCONFIRMED', 'string']],
    );
  });

  it('a venue rejection is exit 7 (text and JSON), a broker the CLI cannot reach exit 4', async () => {
    const fake = await startFakeOanda();
    try {
      fake.setQuote('EUR_USD', 1.085, 1.0852);
      const env = { SPTRADER_OANDA_TOKEN: fake.token, SPTRADER_OANDA_ACCOUNT_ID: fake.accountId };
      const venueDir = join(dir, 'oanda');
      fake.injectNext({ kind: 'reject', reason: 'INSUFFICIENT_MARGIN' });
      const r = await cliAsync(
        ['test-order', MARKET, '--state-dir', venueDir, '--broker', 'oanda', '--base-url', fake.url, '--json'],
        env,
      );
      assert.equal(r.code, 7, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; response: { status: { status: string } } };
      assert.deepEqual([out.ok, out.exitCode, out.response.status.status], [false, 7, 'rejected']);
      fake.injectNext({ kind: 'reject' });
      const text = await cliAsync(
        ['test-order', MARKET, '--state-dir', venueDir, '--broker', 'oanda', '--base-url', fake.url],
        env,
      );
      assert.equal(text.code, 7, text.stderr + text.stdout);
      assert.match(text.stdout, /Rejected by OANDA/);
    } finally {
      await fake.close();
    }
    const closed = await cliAsync(
      [
        'test-order',
        MARKET,
        '--state-dir',
        join(dir, 'oanda-down'),
        '--broker',
        'oanda',
        '--base-url',
        'http://127.0.0.1:9',
      ],
      {
        SPTRADER_OANDA_TOKEN: 'x',
        SPTRADER_OANDA_ACCOUNT_ID: 'y',
      },
    );
    assert.equal(closed.code, 4, closed.stderr + closed.stdout);
    assert.doesNotMatch(closed.stderr, STACK);
  });
});
