/** One process at a time in a state directory: held, refused with who holds it, taken over when its holder is gone. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireStateDirLock, StateDirBusyError } from '../../../src/common/stateLock';
import { systemClock } from '../../../src/common/clock';
import { openTradingSession } from '../../../src/execution/session';
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
          e instanceof StateDirBusyError && e.holder?.pid === child.pid && /a test holder, pid \d+/.test(e.message) && e.message.includes(join(dir, 'lock')),
      );
    } finally {
      await killed(child);
    }
    assert.ok(existsSync(join(dir, 'lock')), 'SIGKILL left the lock file');
    const mine = acquireStateDirLock(dir, 'after the crash');
    assert.equal((JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { purpose: string }).purpose, 'after the crash');
    mine.release();
  });

  it('takes over a lock left with its own pid by a dead earlier run (containers reuse pids)', () => {
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), since: 0, purpose: 'a run that crashed' }));
    const mine = acquireStateDirLock(dir, 'this run');
    assert.equal((JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { purpose: string }).purpose, 'this run');
    mine.release();
  });

  it("never takes over another machine's lock (a shared folder): its process cannot be checked", () => {
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: 1, host: `${hostname()}-elsewhere`, since: 0, purpose: 'elsewhere' }));
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
        ['-e', `require(${JSON.stringify(CLI)}).main(['positions', '--state-dir', ${JSON.stringify(dir)}]).then((c) => process.exit(c))`],
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
});
