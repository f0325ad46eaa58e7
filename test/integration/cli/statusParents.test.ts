/**
 * `sptrader status --json` on parents a stopped run left working. The text on stderr marks one a cancel request came
 * upon ("being cancelled": `algo --resume` finishes the cancel) and one a halt came upon ("ended by a halt": nothing
 * more is sent for it); the JSON listed both as plain working parents, so a script read them as parents to carry on.
 * Each now carries `halted` and `cancelRequested` (the reason, or null). The logs are made as the parent crash suites
 * make them (crashKit's leaveParentCancelling, leaveParentHalted: the real CLI killed at its crash points).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, leaveParentCancelling, leaveParentHalted, TWAP } from '../crash/crashKit';

interface LeftParent {
  parentId: string;
  venue: string;
  startedAt: number;
  halted: string | null;
  cancelRequested: string | null;
}

async function statusJson(stateDir: string): Promise<{ tradingState: string; parentsLeftWorking: LeftParent[] }> {
  const run = await cli(['status', '--json', '--state-dir', stateDir]);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  return JSON.parse(run.stdout) as { tradingState: string; parentsLeftWorking: LeftParent[] };
}

describe('sptrader status --json: the marks of a parent left working', function () {
  this.timeout(120_000);
  let root: string;

  before(() => (root = mkdtempSync(join(tmpdir(), 'sptrader-status-parents-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a parent whose cancel was decided and cut short: cancelRequested is its reason, halted is null', async () => {
    const stateDir = join(root, 'cancelling');
    const parentId = await leaveParentCancelling(stateDir, join(root, 'trail.py'));
    const status = await statusJson(stateDir);
    assert.equal(status.tradingState, 'ACTIVE');
    assert.deepEqual(
      status.parentsLeftWorking.map((p) => [p.parentId, p.venue, p.halted, p.cancelRequested]),
      [[parentId, 'paper', null, '--max-seconds 0.001 passed']],
    );
    assert.equal(typeof status.parentsLeftWorking[0]?.startedAt, 'number');
  });

  it('a parent a halt came upon before it ended it: halted is the halt reason, cancelRequested is null', async () => {
    const stateDir = join(root, 'halted');
    const parentId = await leaveParentHalted(stateDir);
    const status = await statusJson(stateDir);
    assert.equal(status.tradingState, 'HALTED');
    assert.deepEqual(
      status.parentsLeftWorking.map((p) => [p.parentId, p.halted, p.cancelRequested]),
      [[parentId, 'halted from the command line', null]],
    );
  });

  it('a parent simply left working: both marks null (it is carried on by algo --resume)', async () => {
    const stateDir = join(root, 'working');
    const args = ['--param', 'quantity=3000', '--param', 'duration_s=1', '--param', 'slices=3'];
    const killed = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-started-logged',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const status = await statusJson(stateDir);
    assert.deepEqual(
      status.parentsLeftWorking.map((p) => [p.halted, p.cancelRequested]),
      [[null, null]],
    );
  });
});
