/**
 * A parent's cancel (Ctrl-C, `--max-seconds` running out) cut short by SIGKILL after it was decided, before the
 * parent's end was in the log. The decision is written first (ParentCancelRequested), so `algo --resume` finishes
 * the cancel instead of carrying the parent on:
 * - a TWAP interrupted by Ctrl-C, killed at `parent-children-cancelled`: resumed, it bought its other slices (the
 *   user's Ctrl-C lost). It must end CANCELLED with the one slice it had, sending nothing.
 * - an emulated trailing stop whose `--max-seconds` ran out, killed at the same point: resumed, it trailed on (to
 *   sell when the stop was hit) until the resumed run's own deadline. It must end CANCELLED at once, sending nothing.
 * - a bracket whose `--max-seconds` ran out, killed at `parent-child-cancelled:1` (its stop-loss cancelled, its
 *   take-profit not yet): resumed, it kept the take-profit alone resting until the resumed run's own deadline. The
 *   cancel meant both exits to go: the resume cancels the take-profit at once and ends the bracket CANCELLED.
 * In between, `status` says the cancel was cut short and that resuming finishes it (not that it carries it on).
 * No order is at the venue twice, no fill lost, the log verifies (crashKit's check).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, CLI, cli, leaveParentCancelling, ofType, sentIds, TWAP, type Run } from './crashKit';

const BRACKET = `from core.orders.order_base import OrderBase
class Br(OrderBase):
    def generate_order(self, market_data, signal=None):
        a = market_data['ask']
        return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000,
                'stop_loss': round(a * 0.98, 5), 'take_profit': round(a * 1.02, 5)}
`;

const ended = (stateDir: string): unknown[][] =>
  ofType(stateDir, 'ParentEnded').map((r) => [r.data['parentId'], r.data['state'], r.data['reason']]);

async function positions(stateDir: string): Promise<Array<[string, number]>> {
  const run = await cli(['positions', '--state-dir', stateDir, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]);
}

/** `sptrader algo` sent Ctrl-C (SIGINT) once its first slice is shown, as a person at the terminal would. */
function interruptedAlgo(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, 'algo', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Its first child's line is printed by the loop that watches for Ctrl-C ("Started" comes before it listens).
      if (!sent && /^ {2}\S+ {2}slice 1: /m.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** `status` says the parent's cancel was cut short and that resuming finishes it. */
async function saysCancelCutShort(stateDir: string, parentId: string, reason: string): Promise<void> {
  const status = await cli(['status', '--state-dir', stateDir]);
  assert.equal(status.code, 0, status.stderr + status.stdout);
  assert.ok(
    status.stderr.includes(`1 parent order was being cancelled by a run that stopped`) &&
      status.stderr.includes(`${parentId} `) &&
      status.stderr.includes(`(cancelled: ${reason})`) &&
      status.stderr.includes('finishes the cancel'),
    status.stderr,
  );
  assert.doesNotMatch(status.stderr, /carries it on/, 'it is not offered to be carried on');
}

describe('crash suite: a parent killed while its cancel was under way, then algo --resume', function () {
  this.timeout(300_000);
  let root: string;

  before(() => (root = mkdtempSync(join(tmpdir(), 'sptrader-parent-cancel-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a TWAP cancelled by Ctrl-C, killed before it ended: resumed, it ends CANCELLED with its one slice, buying nothing more', async () => {
    const stateDir = join(root, 'twap');
    const args = ['--param', 'quantity=3000', '--param', 'duration_s=9', '--param', 'slices=3'];
    const killed = await interruptedAlgo([TWAP, ...args, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-children-cancelled',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const parentId = ofType(stateDir, 'ParentStarted')[0]?.data['parentId'] as string;
    assert.deepEqual(sentIds(stateDir), [`${parentId}-1`], 'slice 1 went before Ctrl-C');
    assert.deepEqual(ended(stateDir), [], 'the kill came before the parent ended in the log');
    await saysCancelCutShort(stateDir, parentId, 'interrupted (Ctrl-C)');

    const resumed = await cli(['algo', '--resume', '--max-seconds', '30', '--state-dir', stateDir]);
    assert.equal(resumed.code, 4, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^Resuming .*, finishing its cancel \(interrupted \(Ctrl-C\)\)$/m);
    assert.match(resumed.stdout, /^CANCELLED: .* filled 1,000 \(interrupted \(Ctrl-C\)\)$/m);
    assert.deepEqual(sentIds(stateDir), [`${parentId}-1`], 'no slice after the Ctrl-C');
    assert.deepEqual(ended(stateDir), [[parentId, 'CANCELLED', 'interrupted (Ctrl-C)']]);
    assert.deepEqual(await positions(stateDir), [['EUR_USD', 1000]]);
    const after = await cli(['status', '--state-dir', stateDir]);
    assert.doesNotMatch(after.stderr, /parent order/);
    await check(stateDir);
  });

  it('an emulated trailing stop whose --max-seconds ran out, killed before it ended: resumed, it ends CANCELLED at once, selling nothing', async () => {
    const stateDir = join(root, 'trail');
    const parentId = await leaveParentCancelling(stateDir, join(root, 'trail.py'));
    assert.ok(ofType(stateDir, 'ParentTrail').length >= 1, 'it was trailing');
    assert.deepEqual(sentIds(stateDir), [], 'not triggered before the cancel');
    await saysCancelCutShort(stateDir, parentId, '--max-seconds 0.001 passed');

    // Carried on, it trailed (and would have sold at market once hit) until this run's own --max-seconds.
    const resumed = await cli(['algo', '--resume', '--max-seconds', '3', '--state-dir', stateDir]);
    assert.equal(resumed.code, 4, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^CANCELLED: .* filled 0 \(--max-seconds 0\.001 passed\)$/m);
    assert.deepEqual(sentIds(stateDir), [], 'the cancelled stop never triggered');
    assert.deepEqual(ofType(stateDir, 'ParentChild'), []);
    assert.deepEqual(ended(stateDir), [[parentId, 'CANCELLED', '--max-seconds 0.001 passed']]);
    assert.deepEqual(await positions(stateDir), []);
    await check(stateDir);
  });

  it('a bracket killed between its two exit cancels: resumed, it cancels the exit left and ends CANCELLED, placing nothing', async () => {
    const stateDir = join(root, 'bracket');
    const component = join(root, 'bracket.py');
    writeFileSync(component, BRACKET);
    const killed = await cli(['algo', component, '--max-seconds', '1', '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-child-cancelled:1',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const parentId = ofType(stateDir, 'ParentStarted')[0]?.data['parentId'] as string;
    const roles = ofType(stateDir, 'ParentChild').map((r) => r.data['role']);
    assert.deepEqual(roles, ['entry', 'stop_loss', 'take_profit'], 'the entry filled and both exits rested');
    const paperOpen = async (): Promise<string[]> =>
      (
        JSON.parse((await cli(['orders', '--state-dir', stateDir, '--json'])).stdout) as {
          paper: Array<{ client_order_id: string }>;
        }
      ).paper.map((o) => o.client_order_id);
    assert.deepEqual(await paperOpen(), [`${parentId}-3`], 'the stop-loss was cancelled, the take-profit not yet');
    await saysCancelCutShort(stateDir, parentId, '--max-seconds 1 passed');

    // Carried on, the bracket kept the take-profit alone resting until this run's own deadline.
    const started = Date.now();
    const resumed = await cli(['algo', '--resume', '--max-seconds', '20', '--state-dir', stateDir]);
    assert.equal(resumed.code, 4, resumed.stderr + resumed.stdout);
    assert.ok(Date.now() - started < 15_000, 'the cancel is finished at once, not at the deadline');
    assert.match(resumed.stdout, /^CANCELLED: .* filled 1,000 \(--max-seconds 1 passed\)$/m);
    assert.deepEqual(
      ofType(stateDir, 'ParentChild').map((r) => r.data['role']),
      roles,
      'no exit was placed again',
    );
    assert.equal(new Set(sentIds(stateDir)).size, 3, 'three orders, each sent once');
    const exits = new Set([`${parentId}-2`, `${parentId}-3`]);
    assert.equal(
      ofType(stateDir, 'OrderCancelled').filter((r) => exits.has(r.data['clientOrderId'] as string)).length,
      2,
      'both exits are cancelled',
    );
    assert.deepEqual(ended(stateDir), [[parentId, 'CANCELLED', '--max-seconds 1 passed']]);
    assert.deepEqual(await paperOpen(), [], 'no exit is left resting at the venue');
    assert.deepEqual(await positions(stateDir), [['EUR_USD', 1000]], 'the entry alone, as the cancel meant');
    await check(stateDir);
  });
});
