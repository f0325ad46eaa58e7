/**
 * A cancel killed at `cancel-order-logged`: its CancelOrder command is durable and the cancel not yet sent. The
 * command was written without waiting and the cancel sent at once, so a kill in between could leave a cancel at the
 * venue the log had no CancelOrder for; now the record is on disk first. Killed there, on the real CLI over the paper
 * venue:
 * - `reset-paper --yes`, which cancels each working paper order itself (the engine's single-order cancel);
 * - `halt`, the emergency stop's cancels.
 * After the kill the log holds the CancelOrder and nothing after it for the order; the next open finds the order
 * working (at the venue and in the engine), and running the command again cancels it once: one OrderCancelled, no
 * refused cancel, no order twice at the venue, no fill lost, the log verifies (crashKit's check). And `halt` killed
 * just after the venue saved the cancel (`paper-after-save:1`, the kill that found the gap): the log holds the
 * CancelOrder, the next open learns the cancel from the venue, and nothing is cancelled twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { about, check, cli, ofType, orders, RESTING } from './crashKit';

describe('crash suite: a cancel killed after its CancelOrder was durable, before it was sent', function () {
  this.timeout(300_000);
  let root: string;
  let component: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-cancel-crash-'));
    component = join(root, 'rest.py');
    writeFileSync(component, RESTING);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A resting paper order; its client order id. */
  async function rest(stateDir: string): Promise<string> {
    const placed = await cli(['execute', component, '--state-dir', stateDir, '--json']);
    assert.equal(placed.code, 0, placed.stderr + placed.stdout);
    const id = (JSON.parse(placed.stdout) as { order: { client_order_id: string } }).order.client_order_id;
    assert.deepEqual(
      (await orders(stateDir)).working.map((o) => [o.clientOrderId, o.state]),
      [[id, 'ACCEPTED']],
    );
    return id;
  }

  /** Killed at the point: the log has the cancel's command and nothing after it; the next open finds it working. */
  async function killedAfterLogging(stateDir: string, id: string): Promise<void> {
    const cancels = ofType(stateDir, 'CancelOrder').filter((r) => r.data['clientOrderId'] === id);
    assert.equal(cancels.length, 1, 'the CancelOrder is durable');
    assert.equal(cancels[0]?.data['venue'], 'paper');
    assert.equal(
      about(stateDir, id).at(-1),
      'CancelOrder',
      'nothing about the order after it: the cancel was not sent',
    );
    const open = await orders(stateDir);
    assert.deepEqual(
      open.working.map((o) => [o.clientOrderId, o.state]),
      [[id, 'ACCEPTED']],
      'reconciled on open: still working',
    );
    assert.deepEqual(
      open.paper.map((o) => o.client_order_id),
      [id],
      'at the venue',
    );
    await check(stateDir);
  }

  /** Cancelled once, in the end. */
  async function cancelledOnce(stateDir: string, id: string): Promise<void> {
    const after = about(stateDir, id);
    assert.equal(after.filter((t) => t === 'OrderCancelled').length, 1, after.join(', '));
    assert.deepEqual(
      after.filter((t) => t === 'OrderCancelRejected'),
      [],
      'no cancel refused: the one sent is the only one',
    );
    const open = await orders(stateDir);
    assert.deepEqual([open.working, open.paper], [[], []], 'nothing left working');
    await check(stateDir);
  }

  it('reset-paper --yes, killed between its cancel record and the cancel: run again, it cancels once and resets', async () => {
    const stateDir = join(root, 'reset');
    const id = await rest(stateDir);
    const killed = await cli(['reset-paper', '--yes', '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'cancel-order-logged',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    await killedAfterLogging(stateDir, id);

    const again = await cli(['reset-paper', '--yes', '--state-dir', stateDir]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /^Paper account reset /m);
    await cancelledOnce(stateDir, id);
  });

  it("halt, killed between an order's cancel record and its cancel: the stop is said cut short; halted again, it cancels once", async () => {
    const stateDir = join(root, 'halt');
    const id = await rest(stateDir);
    const killed = await cli(['halt', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'cancel-order-logged' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    await killedAfterLogging(stateDir, id);
    const status = await cli(['status', '--json', '--state-dir', stateDir]);
    const json = JSON.parse(status.stdout) as { tradingState: string; interruptedStop: unknown };
    assert.equal(json.tradingState, 'HALTED');
    assert.notEqual(json.interruptedStop, null, 'the stop has no report: it is said to be cut short');

    const again = await cli(['halt', '--state-dir', stateDir]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /^Cancelled {2}1 order$/m);
    await cancelledOnce(stateDir, id);
  });

  it('halt, killed once the venue saved the cancel: the log holds its CancelOrder; the next open learns it was cancelled, once', async () => {
    // Where the CancelOrder was written without waiting, the venue had the cancel and the log had no word of it.
    const stateDir = join(root, 'venue-cancelled');
    const id = await rest(stateDir);
    const killed = await cli(['halt', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'paper-after-save:1' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    assert.deepEqual(
      ofType(stateDir, 'CancelOrder').map((r) => r.data['clientOrderId']),
      [id],
      'the cancel the venue has is in the log',
    );
    const open = await orders(stateDir);
    assert.deepEqual([open.working, open.paper], [[], []], 'reconciled on open: cancelled at the venue and here');
    assert.equal(about(stateDir, id).filter((t) => t === 'OrderCancelled').length, 1, 'learned from the venue');

    const again = await cli(['halt', '--state-dir', stateDir]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /^Cancelled {2}0 orders$/m, 'nothing is cancelled twice');
    await cancelledOnce(stateDir, id);
  });
});
