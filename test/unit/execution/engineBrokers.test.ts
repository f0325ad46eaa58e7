/** Venues added to and removed from a running engine (the editor's Connect / Disconnect), with a real paper venue. */
import assert from 'node:assert/strict';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { isBrokerError } from '../../../src/brokers/errors';
import { limit, order } from '../paper/helpers';
import { makeRig, type Rig } from './engineHelpers';

describe('ExecutionEngine addBroker / removeBroker', function () {
  this.timeout(20_000);
  let rig: Rig;
  let second: PaperBroker;
  beforeEach(async () => {
    rig = await makeRig();
    second = new PaperBroker({ clock: rig.clock, quotes: rig.quotes, startingCash: 1e9 });
  });
  afterEach(async () => {
    await second.disconnect();
    await rig.close();
  });

  it('routes orders to an added venue by its profile id after connect, and reconciles it', async () => {
    assert.equal(rig.engine.hasBroker('paper2'), false);
    rig.engine.addBroker('paper2', second);
    assert.equal(rig.engine.hasBroker('paper2'), true);
    await rig.engine.connect('paper2');
    assert.ok(rig.events.some((e) => e.type === 'PositionsReconciled' && e.venue === 'paper2'));
    const result = await rig.engine.submitOrder(order('buy', 5), 'paper2');
    assert.equal(result.denial, undefined);
    assert.equal(result.order.state, 'FILLED');
    assert.deepEqual(rig.engine.positionsOf('paper2'), { AAPL: 5 });
    assert.deepEqual(rig.engine.positionsOf('paper'), {});
    assert.deepEqual(
      rig.engine.status().venues.map((v) => v.id),
      ['paper', 'paper2'],
    );
  });

  it('reports each external order with the venue it is at, not the first venue', async () => {
    rig.engine.addBroker('paper2', second);
    await rig.engine.connect('paper2');
    await second.submitOrder(order('sell', 5, limit(120)));
    await rig.engine.reconcile('paper2');
    await rig.engine.reconcile('paper');
    const external = rig.engine.externalOrders();
    assert.deepEqual(
      external.map((e) => [e.venue, e.order.side, e.order.quantity]),
      [['paper2', 'sell', 5]],
    );
    rig.engine.removeBroker('paper2');
    assert.deepEqual(rig.engine.externalOrders(), [], "a removed venue's external orders go with it");
  });

  it('refuses a second venue under an id already registered', () => {
    assert.throws(
      () => rig.engine.addBroker('paper', second),
      (e: unknown) => isBrokerError(e) && /already registered/.test(e.message),
    );
  });

  it('follows the added venue’s updates: a resting order filled later is seen', async () => {
    rig.engine.addBroker('paper2', second);
    await rig.engine.connect('paper2');
    rig.quotes.set('AAPL', 100, 100.02);
    const o = order('buy', 3, limit(99));
    const result = await rig.engine.submitOrder(o, 'paper2');
    assert.equal(result.order.state, 'ACCEPTED');
    rig.quotes.set('AAPL', 98.9, 98.95);
    second.poll();
    const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
    assert.equal(final?.state, 'FILLED');
  });

  it('refuses to remove a venue with working orders, naming them, and removes it once they are done', async () => {
    rig.engine.addBroker('paper2', second);
    await rig.engine.connect('paper2');
    const o = order('buy', 2, limit(90));
    const placed = await rig.engine.submitOrder(o, 'paper2');
    assert.equal(placed.order.state, 'ACCEPTED');
    assert.throws(
      () => rig.engine.removeBroker('paper2'),
      (e: unknown) =>
        isBrokerError(e) && e.message.includes('1 working order') && e.message.includes(o.client_order_id),
    );
    assert.equal(rig.engine.hasBroker('paper2'), true);
    await rig.engine.cancel(o.client_order_id);
    rig.engine.removeBroker('paper2');
    assert.equal(rig.engine.hasBroker('paper2'), false);
    const after = await rig.engine.submitOrder(order('buy', 1), 'paper2');
    assert.equal(after.denial?.code, 'UNKNOWN_VENUE');
  });

  it('stops listening to a removed venue and can add it again', async () => {
    rig.engine.addBroker('paper2', second);
    await rig.engine.connect('paper2');
    rig.engine.removeBroker('paper2');
    const before = rig.events.length;
    // An order placed at the venue directly (not through the engine) must not reach the engine any more.
    await second.submitOrder(order('buy', 1));
    assert.equal(rig.events.length, before);
    rig.engine.addBroker('paper2', second);
    await rig.engine.connect('paper2');
    assert.ok(rig.events.slice(before).some((e) => e.type === 'PositionsReconciled' && e.venue === 'paper2'));
  });

  it('refuses to remove an unknown venue', () => {
    assert.throws(
      () => rig.engine.removeBroker('nope'),
      (e: unknown) => isBrokerError(e) && /no broker profile named nope/.test(e.message),
    );
  });
});
