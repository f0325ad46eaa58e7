/**
 * After a restart (a new process: the adapter's order registry is empty) an order that ended at TWS while we were
 * away is found by its client order id, with its end and its fills. TWS API "Open Orders"
 * (interactivebrokers.github.io/tws-api/open_orders.html): "As long as an order is active, it is possible to
 * retrieve it … Note: it is not possible to obtain cancelled or fully filled orders" — so `reqAllOpenOrders` never
 * lists it; TWS API "Completed Orders" (`reqCompletedOrders`, answered by `completedOrder` with no orderId: the
 * order is known by its orderRef and permId) does, and "Executions and Commissions" (`reqExecutions`: orderId,
 * permId, price, shares, commission) tells its fills. The fake TWS answers so (test/fakes/ib/server.ts).
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { fakeTwsCommission, startFakeTws, type FakeTws } from '../../fakes/ib/server';

function limit(client_order_id: string, price: number, quantity = 100): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price },
    quantity,
    time_in_force: { type: 'GTC' },
    metadata: {},
    client_order_id,
  };
}

describe('IbBroker after a restart: an order that ended while away is found with its end (completed orders)', function () {
  this.timeout(5000);
  let fake: FakeTws;
  const brokers: IbBroker[] = [];
  let errors: string[];

  const brokerOn = (clientId: number): IbBroker => {
    const b = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 60_000,
      onError: (message) => errors.push(message),
    });
    brokers.push(b);
    return b;
  };

  beforeEach(async () => {
    errors = [];
    fake = await startFakeTws();
    fake.setQuote('AAPL', 99, 101);
  });

  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.disconnect();
    await fake.close();
  });

  /** Places a resting order from one process, which then ends; `meanwhile` happens; a new process connects. */
  const restartAfter = async (
    cid: string,
    meanwhile: (orderId: number) => void,
    first: (b: IbBroker) => Promise<void> = async () => undefined,
  ): Promise<{ orderId: string; broker: IbBroker; updates: OrderUpdate[] }> => {
    const before = brokerOn(7);
    await before.connect();
    await first(before);
    const placed = await before.submitOrder(limit(cid, 90));
    assert.equal(placed.status.status, 'submitted');
    await before.disconnect();
    meanwhile(Number(placed.order_id));
    const broker = brokerOn(7);
    const updates: OrderUpdate[] = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
    return { orderId: placed.order_id, broker, updates };
  };

  it('cancelled in TWS while away: found cancelled, with IB’s words, not open', async () => {
    const { broker } = await restartAfter('ib-rs-1', (id) =>
      assert.ok(fake.endOrder(id, 'Cancelled', 'Cancelled by Trader')),
    );
    const found = await broker.getOrderByClientId('ib-rs-1');
    assert.equal(found?.status.status, 'cancelled', JSON.stringify(found?.status));
    assert.match(found.status.status === 'cancelled' ? (found.status.reason ?? '') : '', /Cancelled by Trader/);
    assert.equal(found.fills.length, 0);
    assert.deepEqual(await broker.listOpenOrders(), []);
  });

  it('made Inactive by IB while away: found rejected with IB’s words', async () => {
    const { broker } = await restartAfter('ib-rs-2', (id) =>
      assert.ok(fake.endOrder(id, 'Inactive', 'Order is inactive: the contract is no longer tradable')),
    );
    const found = await broker.getOrderByClientId('ib-rs-2');
    assert.equal(found?.status.status, 'rejected');
    assert.match(found.status.status === 'rejected' ? found.status.reason : '', /no longer tradable/);
  });

  it('filled while away: found filled under its TWS order id, its one fill IB’s execution with its commission', async () => {
    const { orderId, broker, updates } = await restartAfter('ib-rs-3', () => fake.setQuote('AAPL', 85, 89));
    const found = await broker.getOrderByClientId('ib-rs-3');
    assert.equal(found?.status.status, 'filled', JSON.stringify(found?.status));
    assert.equal(found.order_id, orderId);
    assert.equal(found.filled_quantity, 100);
    assert.equal(found.fills.length, 1);
    assert.match(found.fills[0]!.fill_id, /^0000e0d5\./);
    assert.equal(found.fills[0]!.price, 89);
    assert.equal(found.commission, fakeTwsCommission(100));
    assert.equal(updates.filter((u) => u.fill !== undefined).length, 1, 'the fill is said once');
    assert.equal((await broker.getOrderStatus(orderId)).status.status, 'filled');
  });

  it('partly filled, then cancelled while away: cancelled with its fill, under its TWS order id', async () => {
    const { orderId, broker } = await restartAfter(
      'ib-rs-4',
      (id) => assert.ok(fake.endOrder(id, 'Cancelled', 'Cancelled by Trader')),
      async () =>
        fake.scriptNextOrder([{ status: 'Submitted' }, { status: 'Submitted', filled: 40, avgFillPrice: 90 }]),
    );
    const found = await broker.getOrderByClientId('ib-rs-4');
    assert.equal(found?.status.status, 'cancelled');
    assert.equal(found.order_id, orderId);
    assert.equal(found.filled_quantity, 40);
    assert.deepEqual(
      found.fills.map((f) => [f.quantity, f.price]),
      [[40, 90]],
    );
  });

  it('a working order of the same orderRef (another client’s) wins over a completed one: open, not cancelled', async () => {
    // Ours rests; another client's order with the same orderRef was cancelled (TWS lists it as completed).
    const { broker } = await restartAfter(
      'ib-rs-5',
      () => undefined,
      async () => {
        const other = brokerOn(8);
        await other.connect();
        const theirs = await other.submitOrder(limit('ib-rs-5', 80));
        await other.cancelOrder(theirs.order_id);
        await other.disconnect();
      },
    );
    const found = await broker.getOrderByClientId('ib-rs-5');
    assert.equal(found?.status.status, 'submitted', JSON.stringify(found?.status));
  });

  it('the fake lists only working orders as open (a filled order is a completed one)', async () => {
    const b = brokerOn(9);
    await b.connect();
    const filled = await b.submitOrder(limit('ib-rs-6', 102));
    assert.equal(filled.status.status, 'filled');
    const resting = await b.submitOrder(limit('ib-rs-7', 90));
    const other = brokerOn(10);
    const seen: string[] = [];
    other.onOrderUpdate((u) => seen.push(`${u.order.client_order_id}:${u.order.status.status}`));
    await other.connect();
    assert.deepEqual(
      (await other.listOpenOrders()).map((o) => o.order_id),
      [resting.order_id],
    );
    assert.ok(!seen.some((s) => s.startsWith('ib-rs-6:') && !s.endsWith(':filled')), seen.join(' '));
  });
});
