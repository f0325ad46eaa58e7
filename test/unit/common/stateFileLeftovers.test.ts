/**
 * What a kill or a damaged disk leaves in a state folder: the temp files of writes cut short between their
 * write and their rename (removed on the next open, a live process's never), and a state file too large to
 * be read as text (a clear error naming it and its size, never V8's "Cannot create a string longer than…").
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { removeStaleTempFiles, tempFileDone, tempFileFor } from '../../../src/common/durableFile';
import { StateDamagedError, StateFileError } from '../../../src/common/stateErrors';
import { acquireStateDirLock, StateDirBusyError } from '../../../src/common/stateLock';
import { removeStaleStateTemps, statePaths } from '../../../src/common/statePaths';
import { MAX_STATE_FILE_BYTES, readStateFileSync } from '../../../src/common/userFile';
import { verifyAuditDir } from '../../../src/execution/audit/auditVerify';
import { loadWorkingOrders } from '../../../src/execution/orderStore';
import { loadRiskSettings, SettingsError } from '../../../src/usecases/session';
import { riskSettings } from '../../../src/cli/session';
import { pendingRecoveryDamage } from '../../../src/usecases/recoverPending';

/** A pid no process has: one that ran and was reaped. */
function deadPid(): number {
  const ran = spawnSync(process.execPath, ['-e', '0']);
  return ran.pid;
}

/** A process that stays alive until killed. */
async function liveProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((ok) => child.stdout?.once('data', () => ok()));
  return child;
}

describe('temp files left by a kill between write and rename', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-leftovers-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("removes a dead process's temp files of state files, and nothing else", () => {
    const dead = deadPid();
    const stale = [
      `trading-state.json.${dead}.tmp`,
      `working-orders.json.${dead}.0a1b2c3d.tmp`,
      `paper-account.json.${dead}.tmp`,
      `paper-account-practice.json.${dead}.tmp`,
      // Eight hex digits that are all digits: still a temp file of working-orders.json, not of "working-orders.json.<dead>".
      `working-orders.json.${dead}.12345678.tmp`,
    ];
    const kept = [
      'trading-state.json',
      'notes.123.tmp', // not a state file's: a folder passed as --state-dir may hold a user's own files
      `paper-account.json.journal.${dead}.tmp`, // the journal is appended to, never replaced through a temp file
      'trading-state.json.corrupt-1700000000000',
    ];
    for (const name of [...stale, ...kept]) writeFileSync(join(dir, name), 'x');
    mkdirSync(join(dir, `working-orders.json.${dead}.tmp`)); // a folder is never a temp file SPtrader made
    const removed = removeStaleStateTemps(dir);
    assert.deepEqual(removed.sort(), stale.map((n) => join(dir, n)).sort());
    assert.deepEqual(readdirSync(dir).sort(), [...kept, `working-orders.json.${dead}.tmp`].sort());
  });

  it("removes the audit log's anchor temp files and the working orders' unnamed one of older versions", () => {
    const dead = deadPid();
    const audit = statePaths(dir).audit;
    mkdirSync(audit);
    writeFileSync(join(audit, `anchor.json.${dead}.deadbeef.tmp`), '{}');
    writeFileSync(join(audit, 'anchor.json'), '{}');
    writeFileSync(join(dir, 'working-orders.json.tmp'), '{}');
    removeStaleStateTemps(dir);
    assert.deepEqual(readdirSync(audit), ['anchor.json']);
    assert.deepEqual(readdirSync(dir), ['audit']);
  });

  it("never removes a live process's temp file, nor one this process is writing now", async () => {
    const child = await liveProcess();
    try {
      const theirs = join(dir, `trading-state.json.${child.pid}.tmp`);
      writeFileSync(theirs, 'being written');
      const mine = tempFileFor(join(dir, 'working-orders.json'));
      writeFileSync(mine, 'being written');
      // A temp file with this process's pid that it is not writing: an earlier run's, in a container that
      // starts every run as the same pid.
      const earlierRun = join(dir, `paper-account.json.${process.pid}.tmp`);
      writeFileSync(earlierRun, 'left');
      const removed = removeStaleTempFiles(dir, () => true);
      assert.deepEqual(removed, [earlierRun]);
      assert.ok(existsSync(theirs), "a live process's temp file is kept");
      assert.ok(existsSync(mine), 'a temp file this process is writing is kept');
      tempFileDone(mine);
      assert.deepEqual(
        removeStaleTempFiles(dir, () => true),
        [mine],
        'once written, a leftover of its own is removed',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('taking the state folder lock clears them (the next open after a kill)', () => {
    const dead = deadPid();
    const left = join(dir, `trading-state.json.${dead}.tmp`);
    writeFileSync(left, 'half a halt');
    const lock = acquireStateDirLock(dir, 'test');
    try {
      assert.equal(existsSync(left), false);
    } finally {
      lock.release();
    }
  });
});

describe('a state file too large to read as text (past 512 MiB)', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-toolarge-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A sparse file one byte past the limit: no disk space, and never read. */
  const huge = (file: string, bytes = MAX_STATE_FILE_BYTES + 1): void => {
    writeFileSync(file, '');
    truncateSync(file, bytes);
  };
  const size = (MAX_STATE_FILE_BYTES + 1).toLocaleString('en-US');
  const says = (message: string): boolean =>
    message.includes(`is ${size} bytes (512 MiB), more than the 512 MiB SPtrader reads from a state file`) &&
    !/Cannot create a string/.test(message);

  it('readStateFileSync: EFBIG, its size and the limit, before reading a byte', () => {
    const file = join(dir, 'trading-state.json');
    huge(file);
    assert.throws(
      () => readStateFileSync(file),
      (e: NodeJS.ErrnoException) => e.code === 'EFBIG' && says(e.message),
    );
  });

  it('the paper account, its journal, working orders, risk settings and the lock each name the file and what to do', () => {
    const paths = statePaths(dir);
    huge(paths.paperAccount);
    assert.throws(
      () => readPaperAccount(paths.paperAccount),
      (e: unknown) =>
        e instanceof StateDamagedError &&
        e.file === paths.paperAccount &&
        says(e.problem) &&
        /sptrader recover/.test(e.remedy ?? ''),
    );
    rmSync(paths.paperAccount);

    huge(paths.workingOrders);
    const loaded = loadWorkingOrders(paths.workingOrders);
    assert.ok(loaded.problem !== undefined && loaded.problem.includes(paths.workingOrders) && says(loaded.problem));

    huge(paths.riskLimits);
    assert.throws(
      () => loadRiskSettings(paths.riskLimits),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message.includes(paths.riskLimits) &&
        e.message.includes(
          `is ${size} bytes (512 MiB), more than the 1 MiB SPtrader reads from a risk settings file`,
        ) &&
        /put the risk settings JSON there instead/.test(e.message),
    );

    huge(paths.lock);
    assert.throws(
      () => acquireStateDirLock(dir, 'test'),
      (e: unknown) =>
        e instanceof StateDirBusyError &&
        e.message.includes(`its lock file ${paths.lock} is ${size} bytes`) &&
        e.message.includes(`delete ${paths.lock}`),
    );
  });

  it('risk settings are read up to 1 MiB: a larger file (valid JSON or not) is refused, naming it, its size and the limit', () => {
    // It was read whole, up to the 512 MiB of any state file: a 2 MiB one (blank lines around {}) was taken.
    const file = statePaths(dir).riskLimits;
    writeFileSync(file, `${' '.repeat(2 * 1024 * 1024)}{}`);
    assert.throws(
      () => loadRiskSettings(file),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message ===
          `cannot read risk settings ${file}: it is 2,097,154 bytes (2 MiB), more than the 1 MiB SPtrader reads from a risk settings file (risk settings are a few lines of JSON: this is not one, or it was damaged); put the risk settings JSON there instead`,
    );
    // The CLI's reading of it (the state folder's file, or --limits) refuses it the same way: nothing is traded.
    assert.throws(() => riskSettings(dir, undefined), SettingsError);
    assert.throws(() => riskSettings(join(dir, 'elsewhere'), file), SettingsError);
    // Exactly at the limit it is read: an empty object padded with blanks, the defaults.
    writeFileSync(file, `{${' '.repeat(1024 * 1024 - 2)}}`);
    assert.deepEqual(loadRiskSettings(file).limits, loadRiskSettings(join(dir, 'missing.json')).limits);
  });

  it('an audit file past 2 GiB: the file, its size and what to do, not "File size is greater than 2 GiB"', async () => {
    const audit = statePaths(dir).audit;
    mkdirSync(audit);
    const file = join(audit, 'audit-2026-12-03.jsonl');
    huge(file, 2 ** 31 + 10);
    await assert.rejects(
      verifyAuditDir(audit),
      (e: unknown) =>
        e instanceof StateFileError &&
        e.file === file &&
        /is 2,147,483,658 bytes .* more than the 2,048 MiB SPtrader reads from an audit file/.test(e.problem) &&
        /sptrader recover/.test(e.remedy ?? ''),
    );
  });
});

describe('the marker of an interrupted recover (recovering.json) that is not a file', function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-recovering-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a link in its place, even to nothing, is a recover still unfinished: trading refuses, naming the marker', () => {
    const marker = statePaths(dir).recovering;
    assert.equal(pendingRecoveryDamage(dir), undefined, 'no marker: nothing pending');
    symlinkSync(join(dir, 'gone.json'), marker);
    const damage = pendingRecoveryDamage(dir);
    assert.ok(damage instanceof StateDamagedError, 'a dangling link is not "no marker"');
    assert.equal(damage.file, marker);
  });
});
