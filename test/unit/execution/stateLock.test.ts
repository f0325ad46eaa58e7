/** One process at a time in a state directory: held, refused with who holds it, taken over when its holder is gone. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireStateDirLock, StateDirBusyError } from '../../../src/common/stateLock';
import { StateFileError } from '../../../src/common/stateErrors';
import { systemClock } from '../../../src/common/clock';
import { openTradingSession } from '../../../src/usecases/session';
import { DEFAULT_RISK_LIMITS } from '../../../src/execution/risk';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';

const LOCK_MODULE = resolve(__dirname, '../../../src/common/stateLock.js');
const CLI = resolve(__dirname, '../../../src/cli/main.js');

/** A child process that takes the lock and keeps it until killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(LOCK_MODULE)}).acquireStateDirLock(${JSON.stringify(dir)}, 'a test holder'); console.log('held'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('held') && ok());
    child.on('exit', (code) => fail(new Error(`the holder exited with ${code}`)));
  });
  return child;
}

const killed = (child: ChildProcess): Promise<void> =>
  new Promise((ok) => {
    child.on('exit', () => ok());
    child.kill('SIGKILL');
  });

describe('state directory lock', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is shared within a process and removed with the last release', () => {
    const a = acquireStateDirLock(dir, 'first');
    const b = acquireStateDirLock(dir, 'second');
    const lock = join(dir, 'lock');
    assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid, process.pid);
    a.release();
    a.release(); // twice is once
    assert.ok(existsSync(lock));
    b.release();
    assert.equal(existsSync(lock), false);
  });

  it('refuses a second process, naming the holder; takes over once the holder is gone (killed, its lock left behind)', async () => {
    const child = await holder(dir);
    try {
      assert.throws(
        () => acquireStateDirLock(dir, 'me'),
        (e) =>
          e instanceof StateDirBusyError &&
          e.holder?.pid === child.pid &&
          /a test holder, pid \d+/.test(e.message) &&
          e.message.includes(join(dir, 'lock')),
      );
    } finally {
      await killed(child);
    }
    assert.ok(existsSync(join(dir, 'lock')), 'SIGKILL left the lock file');
    const mine = acquireStateDirLock(dir, 'after the crash');
    assert.equal(
      (JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { purpose: string }).purpose,
      'after the crash',
    );
    mine.release();
  });

  it('takes over a lock left with its own pid by a dead earlier run (containers reuse pids)', () => {
    writeFileSync(
      join(dir, 'lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), since: 0, purpose: 'a run that crashed' }),
    );
    const mine = acquireStateDirLock(dir, 'this run');
    assert.equal((JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { purpose: string }).purpose, 'this run');
    mine.release();
  });

  // A killed holder's pid given to another process since (a browser, another container's process): the lock read
  // as busy for as long as that process ran, naming a holder that was gone. The holder's start tells them apart.
  it("takes over a killed holder's lock whose pid another process has since; never a live holder's (Linux: /proc)", async function () {
    if (process.platform !== 'linux') this.skip();
    const lock = join(dir, 'lock');
    const live = await holder(dir);
    const record = JSON.parse(readFileSync(lock, 'utf8')) as { pid: number; start?: string };
    assert.match(record.start ?? '', /^[0-9a-f-]+\/\d+$/, 'the holder wrote which run of its pid it is');
    assert.throws(() => acquireStateDirLock(dir, 'me'), StateDirBusyError, 'a live holder is never taken over');
    await killed(live);
    // Another process now has a pid the dead holder's lock names.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const reused = { ...record, pid: other.pid };
      writeFileSync(lock, JSON.stringify(reused));
      const mine = acquireStateDirLock(dir, 'after the reuse');
      assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { purpose: string }).purpose, 'after the reuse');
      mine.release();
      // A lock written before holders said which run they are stays busy while its pid runs: it cannot be told apart.
      const { start: _start, ...older } = reused;
      writeFileSync(lock, JSON.stringify(older));
      assert.throws(() => acquireStateDirLock(dir, 'me'), StateDirBusyError);
    } finally {
      await killed(other);
    }
  });

  it('takes over the lock of a holder that died and was not reaped yet (a zombie still answers kill(pid, 0))', async function () {
    if (process.platform !== 'linux') this.skip();
    // sh starts a child, then becomes a sleep that never waits for it: the child, ending after that, stays a zombie.
    // (A child that ended at once could be reaped by sh itself before its exec, and be gone rather than a zombie.)
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = await new Promise<number>((ok) =>
        parent.stdout?.once('data', (d: Buffer) => ok(Number(d.toString().trim()))),
      );
      // Until it has ended (~0.3 s, more on a loaded machine): then /proc says Z.
      for (let i = 0; i < 500 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.match(readFileSync(`/proc/${pid}/stat`, 'utf8'), /\) Z /, 'the child is a zombie');
      writeFileSync(
        join(dir, 'lock'),
        JSON.stringify({ pid, host: hostname(), since: Date.now(), purpose: 'sptrader recover, killed' }),
      );
      const mine = acquireStateDirLock(dir, 'the next run');
      assert.equal(
        (JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { purpose: string }).purpose,
        'the next run',
      );
      mine.release();
    } finally {
      await killed(parent);
    }
  });

  it("never takes over another machine's lock (a shared folder): its process cannot be checked", () => {
    writeFileSync(
      join(dir, 'lock'),
      JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, since: 0, purpose: 'elsewhere' }),
    );
    assert.throws(() => acquireStateDirLock(dir, 'me'), StateDirBusyError);
  });

  it('a trading session holds it: the CLI on the same state directory is refused (exit 5), nothing touched', async () => {
    const session = await openTradingSession({
      stateDir: dir,
      clock: systemClock,
      brokers: {},
      settings: { limits: { ...DEFAULT_RISK_LIMITS }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } },
      purpose: 'a test session',
    });
    try {
      const cli = spawnSync(
        process.execPath,
        [
          '-e',
          `require(${JSON.stringify(CLI)}).main(['positions', '--state-dir', ${JSON.stringify(dir)}]).then((c) => process.exit(c))`,
        ],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(cli.status, 5, cli.stderr);
      assert.match(cli.stderr, /in use by another SPtrader process \(a test session, pid \d+/);
      assert.equal(existsSync(join(dir, 'paper-account.json')), false);
    } finally {
      await session.close();
    }
    assert.equal(existsSync(join(dir, 'lock')), false, 'closing the session gave the directory back');
  });

  describe('a taker killed during a takeover (SIGKILL at its crash points)', () => {
    /** A child that takes the lock (taking over a stale one), then gives it back; killed at `crashAt` if set. */
    const take = (crashAt?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> =>
      new Promise((ok) => {
        const child = spawn(
          process.execPath,
          [
            '-e',
            `require(${JSON.stringify(LOCK_MODULE)}).acquireStateDirLock(${JSON.stringify(dir)}, 'a taker').release(); console.log('taken')`,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SPTRADER_CRASH_AT: crashAt ?? '' } },
        );
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code, signal) => ok({ code, signal, out }));
      });
    const staleLock = async (): Promise<void> => {
      await killed(await holder(dir));
      assert.ok(existsSync(join(dir, 'lock')), 'SIGKILL left the lock file');
    };

    for (const point of ['lock-takeover-marked', 'lock-takeover-removed']) {
      it(`killed at ${point}: the marker it leaves names a dead process, and the next takeovers go through`, async () => {
        await staleLock();
        const died = await take(point);
        assert.equal(died.signal, 'SIGKILL', died.out);
        assert.ok(existsSync(join(dir, 'lock.takeover')), 'the dead taker left its marker');
        // The lock is stale (or gone) again: taken; then a holder killed again leaves one more stale lock,
        // whose takeover must get past the dead taker's marker.
        const mine = acquireStateDirLock(dir, 'after the dead taker');
        assert.equal(
          (JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { purpose: string }).purpose,
          'after the dead taker',
        );
        mine.release();
        await staleLock();
        const next = await take();
        assert.equal(next.code, 0, next.out);
        assert.equal(existsSync(join(dir, 'lock')), false, 'given back');
      });
    }

    it("takers killed in a row, each inside the last one's marker: three are got past; a fourth level is refused, naming the lock", async () => {
      await staleLock();
      for (let n = 1; n <= 3; n++) {
        const died = await take('lock-takeover-marked');
        assert.equal(died.signal, 'SIGKILL', `taker ${n}: ${died.out}`);
      }
      assert.ok(existsSync(join(dir, 'lock.takeover.takeover.takeover')), 'three dead takers, three markers');
      const mine = acquireStateDirLock(dir, 'after three dead takers');
      mine.release();
      assert.deepEqual(readdirSync(dir), [], 'every marker went with the takeover');
      await staleLock();
      for (let n = 1; n <= 4; n++) assert.equal((await take('lock-takeover-marked')).signal, 'SIGKILL');
      assert.throws(
        () => acquireStateDirLock(dir, 'me'),
        (e) => e instanceof StateDirBusyError && e.message.includes(`delete ${join(dir, 'lock')}`),
      );
    });

    it("a stale lock and a dead taker's marker, six processes racing for them: one holder at a time, never two", async () => {
      await staleLock();
      const died = await take('lock-takeover-marked');
      assert.equal(died.signal, 'SIGKILL', died.out);
      const journal = join(dir, 'holders.log');
      const go = join(dir, 'go');
      const racer = `
        const fs = require('node:fs');
        while (!fs.existsSync(${JSON.stringify(go)})) {}
        try {
          const lock = require(${JSON.stringify(LOCK_MODULE)}).acquireStateDirLock(${JSON.stringify(dir)}, 'a racer');
          fs.appendFileSync(${JSON.stringify(journal)}, 'in ' + process.pid + '\\n');
          const until = Date.now() + 150;
          while (Date.now() < until) {}
          fs.appendFileSync(${JSON.stringify(journal)}, 'out ' + process.pid + '\\n');
          lock.release();
          console.log('held');
        } catch (e) {
          if (e.name !== 'StateDirBusyError') throw e;
          console.log('busy');
        }`;
      const runs = Array.from(
        { length: 6 },
        () =>
          new Promise<string>((ok) => {
            const child = spawn(process.execPath, ['-e', racer], { stdio: ['ignore', 'pipe', 'inherit'] });
            let out = '';
            child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
            child.on('close', (code) => ok(code === 0 ? out.trim() : `exit ${code}`));
          }),
      );
      // Every racer is waiting at the start line before it is opened.
      await new Promise((ok) => setTimeout(ok, 500));
      writeFileSync(go, '');
      const outcomes = await Promise.all(runs);
      assert.ok(
        outcomes.every((o) => o === 'held' || o === 'busy'),
        outcomes.join(', '),
      );
      assert.ok(outcomes.includes('held'), `someone took the stale lock: ${outcomes.join(', ')}`);
      const lines = readFileSync(journal, 'utf8').trim().split('\n');
      for (let i = 0; i < lines.length; i += 2) {
        const pid = (lines[i] as string).split(' ')[1];
        assert.deepEqual(
          [lines[i], lines[i + 1]],
          [`in ${pid}`, `out ${pid}`],
          `one holder at a time: ${lines.join(' | ')}`,
        );
      }
      assert.equal(lines.length, 2 * outcomes.filter((o) => o === 'held').length);
    });
  });

  describe('a lock file without a whole record', () => {
    const lockOf = (): string => join(dir, 'lock');
    const age = (seconds: number): void => {
      const t = Date.now() / 1000 - seconds;
      utimesSync(lockOf(), t, t);
    };
    const purposeOf = (): string => (JSON.parse(readFileSync(lockOf(), 'utf8')) as { purpose: string }).purpose;
    // A pid no process has: one that just exited.
    const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid;
    const refused = (why: RegExp) => (e: unknown) =>
      e instanceof StateDirBusyError && e.message.includes(lockOf()) && why.test(e.message);

    it('empty and fresh: a holder may be writing it, so busy (naming the file); empty and old: a crash before the write, taken over', () => {
      writeFileSync(lockOf(), '');
      assert.throws(() => acquireStateDirLock(dir, 'me'), refused(/holds no whole record \(it is empty\)/));
      age(60);
      const mine = acquireStateDirLock(dir, 'after a crash while locking');
      assert.equal(purposeOf(), 'after a crash while locking');
      mine.release();
    });

    it('half a record naming a live pid is busy however old; naming a dead pid, taken over once old', () => {
      const live = JSON.stringify({ pid: process.ppid, host: hostname(), since: 0, purpose: 'x' });
      writeFileSync(lockOf(), live.slice(0, live.indexOf('"since"')));
      age(60);
      assert.throws(() => acquireStateDirLock(dir, 'me'), refused(new RegExp(`pid ${process.ppid} on ${hostname()}`)));
      const dead = JSON.stringify({ pid: deadPid(), host: hostname(), since: 0, purpose: 'x' });
      writeFileSync(lockOf(), dead.slice(0, 12));
      assert.throws(() => acquireStateDirLock(dir, 'me'), StateDirBusyError, 'fresh: its writer may be alive');
      age(60);
      const mine = acquireStateDirLock(dir, 'after the dead half');
      assert.equal(purposeOf(), 'after the dead half');
      mine.release();
    });

    it("written before the clock went back (its time hours ahead of now): a crash's leftover like an old one, not busy until the clock catches up", () => {
      writeFileSync(lockOf(), '');
      age(-3600);
      const mine = acquireStateDirLock(dir, 'after the clock went back');
      assert.equal(purposeOf(), 'after the clock went back');
      mine.release();
      const dead = JSON.stringify({ pid: deadPid(), host: hostname(), since: 0, purpose: 'x' });
      writeFileSync(lockOf(), dead.slice(0, 12));
      age(-3600);
      acquireStateDirLock(dir, 'after the dead half').release();
      // A live writer's half record is still busy, whatever its time says.
      const live = JSON.stringify({ pid: process.ppid, host: hostname(), since: 0, purpose: 'x' });
      writeFileSync(lockOf(), live.slice(0, live.indexOf('"since"')));
      age(-3600);
      assert.throws(() => acquireStateDirLock(dir, 'me'), refused(new RegExp(`pid ${process.ppid} on ${hostname()}`)));
    });

    it("another host's half record is never taken over", () => {
      const other = JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, since: 0, purpose: 'x' });
      writeFileSync(lockOf(), other.slice(0, other.indexOf('"since"')));
      age(3600);
      assert.throws(() => acquireStateDirLock(dir, 'me'), StateDirBusyError);
    });

    it('text SPtrader never writes (garbage, JSON of another shape) is never taken over, however old: the error names the file and says to delete it', () => {
      for (const text of ['hello', '\u0000\u0001binary', '{"owner":"someone"}', '[1,2]', 'null']) {
        writeFileSync(lockOf(), text);
        age(3600);
        assert.throws(
          () => acquireStateDirLock(dir, 'me'),
          refused(/not one SPtrader wrote|not an SPtrader lock record/),
          text,
        );
        assert.throws(() => acquireStateDirLock(dir, 'me'), refused(/If no such process is running, delete/), text);
        assert.equal(readFileSync(lockOf(), 'utf8'), text, 'left as it was');
      }
    });

    it('a directory in the place of the lock, or a state directory that is a file, is a StateFileError naming it', () => {
      mkdirSync(lockOf());
      age(3600);
      assert.throws(
        () => acquireStateDirLock(dir, 'me'),
        (e: unknown) =>
          e instanceof StateFileError &&
          e.file === lockOf() &&
          /a directory is in the place of the lock file/.test(e.message),
      );
      rmSync(lockOf(), { recursive: true });
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, 'x');
      assert.throws(
        () => acquireStateDirLock(file, 'me'),
        (e: unknown) => e instanceof StateFileError && e.file === file && /not a state directory/.test(e.message),
      );
      assert.throws(
        () => acquireStateDirLock(join(file, 'below'), 'me'),
        (e: unknown) => e instanceof StateFileError && e.file === join(file, 'below'),
      );
    });
  });
});
