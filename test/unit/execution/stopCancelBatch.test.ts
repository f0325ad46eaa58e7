/**
 * The emergency stop's cancel records, and two cancels of one order at once, on the real audit log and the real
 * paper venue behind a wrapper that counts (and, where a test asks, holds back) the cancels it is sent:
 * - the stop makes the CancelOrder commands of all the orders it is about to cancel at a venue durable together, one
 *   write and sync, then sends the cancels (it waited for one sync per order, one after the other, before each);
 * - an order at the venue we did not place has its CancelExternalOrder durable before its cancel is sent (it was
 *   written after the cancel, without waiting);
 * - a second `cancel` of an order whose cancel is at the venue waits for that one's outcome and answers with it: no
 *   second CancelOrder, no second cancel at the venue.
 */
import assert from 'node:assert/strict';
import type { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { nodeAuditFileSystem, type AuditFileSystem, type AuditLog } from '../../../src/execution/audit/auditLog';
import type { ExecutionEngine } from '../../../src/execution/engine';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { heldAt, writesHolding } from '../../kit/auditDisk';
import { limit, order } from '../paper/helpers';
import { cancelRig, turns, type CancelRig } from './engineHelpers';

/** Turns of the event loop until `done()` (its CancelOrder on disk first: a real fsync), at most 10 s. */
async function until(done: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done() && Date.now() < end) await new Promise((r) => setImmediate(r));
}

describe("the emergency stop's cancel records, and one order cancelled twice at once", function () {
  this.timeout(20_000);
  let paper: PaperBroker;
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let cancels: string[];
  let rig: CancelRig;

  const open = async (fileSystem: AuditFileSystem = nodeAuditFileSystem): Promise<void> => {
    rig = await cancelRig('sptrader-stop-batch-', fileSystem);
    ({ paper, engine, audit, cancels } = rig);
  };
  const resting = (symbol?: string): Promise<PlacedOrderRequest> => rig.resting(symbol);
  const records = (type: string): Promise<Array<Record<string, unknown>>> => rig.records(type);

  afterEach(() => rig.close());

  it('a stop over 20 working orders makes their 20 CancelOrder commands durable in one batch, then cancels each once', async () => {
    const fs = writesHolding('CancelOrder');
    await open(fs);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await resting()).client_order_id);
    await audit.flush();
    const before = audit.stats();
    const report = await engine.emergencyStop({ reason: 'desk' });
    await audit.flush();
    const after = audit.stats();
    assert.deepEqual([...report.cancelled].sort(), [...ids].sort());
    assert.deepEqual(report.failed, []);
    assert.deepEqual(fs.writes, [20], 'the 20 CancelOrder records went to disk in one write, together');
    // Without the batch each record was its own write and sync, one after the other: 20 and more.
    assert.ok(after.fsyncs - before.fsyncs < 10, `${after.fsyncs - before.fsyncs} syncs for the whole stop`);
    assert.deepEqual([...cancels].sort(), (await Promise.all(ids.map(venueIdOf))).sort(), 'each cancelled once');
    assert.deepEqual(await paper.listOpenOrders(), []);
    assert.deepEqual(
      (await records('CancelOrder')).map((d) => d['clientOrderId']),
      ids,
      'one CancelOrder each, in the order they were placed',
    );
  });

  it("an external order's CancelExternalOrder is durable before its cancel is sent", async () => {
    const fs = heldAt('CancelExternalOrder');
    await open(fs);
    const foreign = order('sell', 5, limit(120));
    const placed = await paper.submitOrder(foreign);
    await engine.reconcile('paper');
    assert.equal(engine.externalOrders().length, 1);
    const stopping = engine.emergencyStop({ reason: 'desk' });
    await fs.reached;
    await turns();
    assert.deepEqual(cancels, [], 'nothing is sent while the CancelExternalOrder is not durable');
    assert.equal((await paper.listOpenOrders()).length, 1);
    fs.release();
    const report = await stopping;
    assert.deepEqual(report.cancelled, [foreign.client_order_id]);
    assert.deepEqual(cancels, [placed.order_id], 'sent once');
    assert.deepEqual(await paper.listOpenOrders(), []);
    assert.deepEqual(engine.externalOrders(), []);
    assert.deepEqual(
      (await records('CancelExternalOrder')).map((d) => [d['venue'], d['orderId'], d['clientOrderId']]),
      [['paper', placed.order_id, foreign.client_order_id]],
    );
  });

  it("a second cancel of an order whose cancel is at a slow venue waits for the first's outcome: one record, one call", async () => {
    await open();
    const o = await resting();
    let let_go: () => void = () => undefined;
    rig.gate = new Promise<void>((r) => (let_go = r));
    const first = engine.cancel(o.client_order_id);
    await until(() => cancels.length > 0);
    assert.equal(cancels.length, 1, 'the first cancel is at the venue');
    const second = engine.cancel(o.client_order_id);
    const third = engine.emergencyStop({ reason: 'desk' });
    // Its EmergencyStop durable, the stop goes on to the cancels.
    await audit.flush();
    await turns();
    assert.equal(cancels.length, 1, 'no second cancel while the first is at the venue');
    let_go();
    const [a, b, report] = await Promise.all([first, second, third]);
    assert.equal(a.state, 'CANCELLED');
    assert.deepEqual(b, a, 'the second answers with the first one’s outcome');
    assert.deepEqual(report.cancelled, [o.client_order_id], 'the stop joined it too');
    assert.equal(cancels.length, 1, 'the venue was asked once');
    await audit.flush();
    assert.deepEqual(
      (await records('CancelOrder')).map((d) => d['clientOrderId']),
      [o.client_order_id],
      'one CancelOrder',
    );
    assert.equal((await records('OrderCancelRejected')).length, 0);
    // Once it is over, a cancel is answered as for any ended order: nothing is sent.
    assert.equal((await engine.cancel(o.client_order_id)).state, 'CANCELLED');
    assert.equal(cancels.length, 1);
  });

  async function venueIdOf(clientOrderId: string): Promise<string> {
    const id = engine.getOrder(clientOrderId)?.venueOrderId;
    assert.ok(id !== undefined, clientOrderId);
    return id;
  }
});
