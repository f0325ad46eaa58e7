/**
 * An order that ended at TWS while the adapter was away (cancelled in TWS's window or by IB, made Inactive) is not
 * "working" forever after the reconnect. `reqAllOpenOrders` lists only open orders (TWS API "Open Orders"), so the
 * adapter also asks `reqCompletedOrders` (TWS API "Completed Orders": "IBApi.EClient.reqCompletedOrders",
 * answered by "IBApi.EWrapper.completedOrder (Contract contract, Order order, OrderState orderState)" with
 * `orderState.status`, `completedStatus` and `completedTime`, then "completedOrdersEnd"; no orderId in it, so an
 * order is known by its permId and orderRef). Fills made while away come from `reqExecutions` alone and are not
 * counted again. The fake TWS answers REQ_COMPLETED_ORDERS so (test/fakes/ib/server.ts, `completedOrder`).
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeTws, type FakeTws, type FakeTwsOptions } from '../../fakes/ib/server';

function limit(client_order_id: string, price: number): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price },
    quantity: 100,
    time_in_force: { type: 'GTC' },
    metadata: {},
    client_order_id,
  };
}

describe('IbBroker: an order that ended while disconnected is final after the reconnect (reqCompletedOrders)', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  const others: IbBroker[] = [];

  let clock: TestClock;

  const brokerOn = (clientId: number): IbBroker =>
    new IbBroker({
      clock,
      host: fake.host,
      port: fake.port,
      clientId,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 60_000,
      onError: () => undefined,
    });

  const start = async (options: FakeTwsOptions = {}) => {
    clock = new TestClock(Date.now());
    fake = await startFakeTws(options);
    fake.setQuote('AAPL', 99, 101);
    broker = brokerOn(41);
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  };

  /** Places a resting order, then leaves TWS while `meanwhile` happens there, then comes back. */
  const awayWhile = async (cid: string, meanwhile: (orderId: number) => void): Promise<string> => {
    const placed = await broker.submitOrder(limit(cid, 90));
    assert.equal(placed.status.status, 'submitted');
    fake.dropConnections();
    await broker.disconnect();
    meanwhile(Number(placed.order_id));
    await broker.connect();
    return placed.order_id;
  };

  afterEach(async () => {
    for (const b of others.splice(0)) await b.disconnect();
    await broker.disconnect();
    await fake.close();
  });

  it('cancelled in TWS while away: cancelled with IB’s words, said once, no longer open', async () => {
    await start();
    const id = await awayWhile('ib-done-1', (orderId) =>
      assert.ok(fake.endOrder(orderId, 'Cancelled', 'Cancelled by Trader')),
    );
    const after = await broker.getOrderStatus(id);
    assert.equal(after.status.status, 'cancelled');
    assert.match(after.status.status === 'cancelled' ? (after.status.reason ?? '') : '', /Cancelled by Trader/);
    assert.deepEqual(
      (await broker.listOpenOrders()).map((o) => o.order_id),
      [],
      'not listed as open',
    );
    const said = updates.filter((u) => u.order.order_id === id && u.order.status.status === 'cancelled');
    assert.equal(said.length, 1, 'the end is reported once');
    assert.equal(after.fills.length, 0);
    assert.ok(fake.requestCount('REQ_COMPLETED_ORDERS') >= 1, 'TWS was asked for its completed orders');
    const byClientId = await broker.getOrderByClientId('ib-done-1');
    assert.equal(byClientId?.status.status, 'cancelled');
  });

  it('made Inactive by IB while away: final (rejected, with IB’s words), not working', async () => {
    await start();
    const id = await awayWhile('ib-done-2', (orderId) =>
      assert.ok(fake.endOrder(orderId, 'Inactive', 'Order is inactive: the contract is no longer tradable')),
    );
    const after = await broker.getOrderStatus(id);
    assert.equal(after.status.status, 'rejected');
    assert.match(after.status.status === 'rejected' ? after.status.reason : '', /no longer tradable/);
  });

  it('a GTD order IB cancelled at its expiry while away: expired', async () => {
    await start();
    const placed = await broker.submitOrder({
      ...limit('ib-done-6', 90),
      time_in_force: { type: 'GTD', expires_at: clock.now() + 60_000 },
    });
    assert.equal(placed.status.status, 'submitted');
    fake.dropConnections();
    await broker.disconnect();
    clock.advance(61_000);
    assert.ok(fake.endOrder(Number(placed.order_id), 'Cancelled', 'Cancelled at its good-till date'));
    await broker.connect();
    assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'expired');
  });

  it('filled while away: the fill comes once, from the executions, not again from the completed order', async () => {
    await start();
    const id = await awayWhile('ib-done-3', () => fake.setQuote('AAPL', 85, 89));
    const after = await broker.getOrderStatus(id);
    assert.equal(after.status.status, 'filled');
    assert.equal(after.fills.length, 1);
    assert.equal(after.filled_quantity, 100);
    assert.equal(updates.filter((u) => u.order.order_id === id && u.fill !== undefined).length, 1);
  });

  it('partly filled, then cancelled while away: cancelled with its one fill, counted once', async () => {
    await start();
    fake.scriptNextOrder([{ status: 'Submitted' }, { status: 'Submitted', filled: 40, avgFillPrice: 90 }]);
    const id = await awayWhile('ib-done-7', (orderId) =>
      assert.ok(fake.endOrder(orderId, 'Cancelled', 'Cancelled by Trader')),
    );
    const after = await broker.getOrderStatus(id);
    assert.equal(after.status.status, 'cancelled');
    assert.equal(after.filled_quantity, 40);
    assert.equal(after.fills.length, 1);
    assert.equal(after.fills[0]?.quantity, 40);
    assert.equal(updates.filter((u) => u.order.order_id === id && u.fill !== undefined).length, 1);
  });

  it('an IOC whose submit lost its connection, cancelled by TWS unfilled: found cancelled, not absent', async () => {
    await start();
    fake.injectNext({ kind: 'dropConnection' });
    await assert.rejects(
      broker.submitOrder({ ...limit('ib-done-8', 90), time_in_force: { type: 'IOC' } }),
      (e: { outcomeUnknown?: boolean }) => e.outcomeUnknown === true,
    );
    await broker.connect();
    const found = await broker.getOrderByClientId('ib-done-8');
    assert.equal(found?.status.status, 'cancelled');
    assert.equal(found.fills.length, 0);
    assert.equal(fake.requestCount('PLACE_ORDER'), 1, 'never resent');
  });

  it('another order that carried the same orderRef and was cancelled does not end ours (matched by permId)', async () => {
    await start();
    const other = brokerOn(42);
    others.push(other);
    await other.connect();
    const theirs = await other.submitOrder(limit('ib-done-4', 91));
    await other.cancelOrder(theirs.order_id);
    const ours = await broker.submitOrder(limit('ib-done-4', 90));
    fake.dropConnections();
    await broker.disconnect();
    await broker.connect();
    const after = await broker.getOrderStatus(ours.order_id);
    assert.equal(after.status.status, 'submitted');
    assert.deepEqual(
      (await broker.listOpenOrders()).map((o) => o.order_id),
      [ours.order_id],
    );
  });

  it('a TWS that never answers REQ_COMPLETED_ORDERS does not hold connect() up', async () => {
    await start({ completedOrderRequests: false });
    const id = await awayWhile('ib-done-5', (orderId) => assert.ok(fake.endOrder(orderId, 'Cancelled', 'x')));
    assert.equal(broker.isConnected(), true);
    assert.ok(fake.requestCount('REQ_COMPLETED_ORDERS') >= 1);
    await broker.getOrderStatus(id);
  });
});
