/**
 * A cancel's CancelOrder command is durable before the cancel reaches the venue, as an order's SubmitOrder is before
 * its submit. It was written without waiting (and the cancel sent at once): a process killed in between left a
 * cancel at the venue that the log knew nothing of. Here the audit log's disk (test/kit/auditDisk.ts) holds back or
 * refuses the write with the CancelOrder, and the real paper venue behind a wrapper counts the cancels it is sent:
 * - held: the venue is not asked until the record is on disk; then it is, once;
 * - refused (the disk is full, or the log failed before): the cancel is refused with an error that says so, nothing is
 *   sent and the order is still working; an order already ended answers as before;
 * - the emergency stop's cancels follow the same rule (held: nothing sent until the record is on disk), but a failed
 *   log does not hold the stop up: its cancels still go (its own record, EmergencyStop, is written the same way).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { AuditLogFailedError, type AuditFileSystem, type AuditLog } from '../../../src/execution/audit/auditLog';
import type { ExecutionEngine } from '../../../src/execution/engine';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { fullAt, heldAt } from '../../kit/auditDisk';
import { order } from '../paper/helpers';
import { cancelRig, turns, type CancelRig } from './engineHelpers';

describe('a cancel is recorded durably before it is sent', function () {
  this.timeout(20_000);
  let dir: string;
  let paper: PaperBroker;
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let cancels: string[];
  let rig: CancelRig;

  const open = async (fileSystem: AuditFileSystem): Promise<void> => {
    rig = await cancelRig('sptrader-cancel-durable-', fileSystem);
    ({ dir, paper, engine, audit, cancels } = rig);
  };
  const resting = (symbol?: string): Promise<PlacedOrderRequest> => rig.resting(symbol);
  const records = (type: string): Promise<Array<Record<string, unknown>>> => rig.records(type);

  afterEach(() => rig.close());

  it('while its CancelOrder waits for the disk, the venue is not asked; once it is on disk, the cancel goes once', async () => {
    const fs = heldAt('CancelOrder');
    await open(fs);
    const o = await resting();
    const cancelling = engine.cancel(o.client_order_id);
    await fs.reached;
    await turns();
    assert.deepEqual(cancels, [], 'nothing is sent while the CancelOrder is not durable');
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'ACCEPTED', 'and the order is not said to be cancelling');
    fs.release();
    const after = await cancelling;
    assert.equal(after.state, 'CANCELLED');
    assert.equal(cancels.length, 1, 'sent once');
    assert.deepEqual(await paper.listOpenOrders(), []);
    await audit.flush();
    assert.deepEqual(
      (await records('CancelOrder')).map((d) => [d['clientOrderId'], d['venue']]),
      [[o.client_order_id, 'paper']],
    );
  });

  it('the disk is full at its CancelOrder: refused with the reason, nothing sent, the order still working', async () => {
    const fs = fullAt('CancelOrder');
    await open(fs);
    const o = await resting();
    const refused = (e: unknown): boolean =>
      e instanceof AuditLogFailedError &&
      e.message.includes(`The CancelOrder command for ${o.client_order_id} could not be made durable`) &&
      /ENOSPC/.test(e.message) &&
      e.message.includes('the cancel was not sent, and the order is still working at paper') &&
      e.file?.startsWith(join(dir, 'audit')) === true;
    await assert.rejects(engine.cancel(o.client_order_id), refused);
    assert.equal(fs.hit, true);
    // The log has failed now: a second try is refused the same way, before anything is written or sent.
    await assert.rejects(engine.cancel(o.client_order_id), refused);
    assert.deepEqual(cancels, [], 'the venue was never asked');
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'ACCEPTED');
    assert.deepEqual(
      (await paper.listOpenOrders()).map((r) => r.client_order_id),
      [o.client_order_id],
      'still working at the venue',
    );
  });

  it('an order already ended answers with its record, the log failed or not; nothing is sent', async () => {
    const fs = fullAt('CancelOrder');
    await open(fs);
    const filled = order('buy', 10, undefined, { type: 'IOC' });
    assert.equal((await engine.submitOrder(filled, 'paper')).order.state, 'FILLED');
    assert.equal((await engine.cancel(filled.client_order_id)).state, 'FILLED');
    await audit.flush().catch(() => undefined);
    assert.equal(fs.hit, true, 'its CancelOrder met the full disk');
    assert.equal((await engine.cancel(filled.client_order_id)).state, 'FILLED', 'and after the log failed');
    assert.deepEqual(cancels, []);
  });

  it("the emergency stop's cancels wait for their CancelOrder too", async () => {
    const fs = heldAt('CancelOrder');
    await open(fs);
    const o = await resting();
    const stopping = engine.emergencyStop({ reason: 'desk' });
    await fs.reached;
    await turns();
    assert.deepEqual(cancels, [], 'nothing is sent while the CancelOrder is not durable');
    fs.release();
    const report = await stopping;
    assert.deepEqual(report.cancelled, [o.client_order_id]);
    assert.equal(cancels.length, 1);
  });

  it('a failed log does not hold the emergency stop up: its cancels go without their record', async () => {
    const fs = fullAt('CancelOrder');
    await open(fs);
    const a = await resting('AAPL');
    const b = await resting('MSFT');
    const report = await engine.emergencyStop({ reason: 'desk' });
    await audit.flush().catch(() => undefined);
    assert.equal(fs.hit, true, 'the CancelOrder met the full disk');
    assert.deepEqual(report.cancelled.sort(), [a.client_order_id, b.client_order_id].sort());
    assert.deepEqual(report.failed, []);
    assert.equal(cancels.length, 2);
    assert.deepEqual(await paper.listOpenOrders(), [], 'nothing is left working at the venue');
    assert.equal(engine.status().tradingState, 'HALTED');
  });
});
