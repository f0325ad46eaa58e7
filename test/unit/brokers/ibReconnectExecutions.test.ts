/**
 * Fills made while the adapter was away from TWS. TWS pushes `execDetails`/`commissionReport` only to a
 * connected client; after a reconnect `reqAllOpenOrders` tells an order's cumulative status but not its
 * executions or their commissions. TWS API "Executions and Commissions"
 * (interactivebrokers.github.io/tws-api/executions_commissions.html): "IBApi.EClient.reqExecutions" with an
 * "IBApi.ExecutionFilter" returns the executions (of the current day) through execDetails, each with its
 * commissionReport, then execDetailsEnd. The fake TWS answers REQ_EXECUTIONS so (test/fakes/ib/server.ts).
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { fakeTwsCommission, startFakeTws, type FakeTws } from '../../fakes/ib/server';

function order(client_order_id: string, price: number): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price },
    quantity: 1000,
    time_in_force: { type: 'GTC' },
    metadata: {},
    client_order_id,
  };
}

describe('IbBroker: fills made while disconnected come from reqExecutions, with their commission', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];

  beforeEach(async () => {
    fake = await startFakeTws();
    fake.setQuote('AAPL', 99, 101);
    // A long commission wait: a fill that waited for its report and gave up would show as commission 0.
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 21,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 60_000,
      onError: () => undefined,
    });
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('a resting order filled during the outage: one fill, IB’s execId and commission; an earlier fill not counted again', async () => {
    const before = await broker.submitOrder(order('ib-away-1', 102));
    assert.equal(before.status.status, 'filled');
    const resting = await broker.submitOrder(order('ib-away-2', 100));
    assert.equal(resting.status.status, 'submitted');

    fake.dropConnections();
    await broker.disconnect();
    fake.setQuote('AAPL', 98, 99.5); // fills the resting limit while no client is connected
    assert.equal(fake.orders().find((o) => o.orderId === Number(resting.order_id))?.status, 'Filled');

    await broker.connect();
    const after = await broker.getOrderStatus(resting.order_id);
    assert.equal(after.status.status, 'filled');
    assert.equal(after.fills.length, 1);
    const fill = after.fills[0]!;
    assert.match(fill.fill_id, /^0000e0d5\./, 'the fill is IB’s execution, not one made up from the status');
    assert.equal(fill.quantity, 1000);
    assert.equal(fill.price, fake.orders().find((o) => o.orderId === Number(resting.order_id))?.avgFillPrice);
    assert.equal(fill.commission, fakeTwsCommission(1000));
    assert.equal(after.commission, fakeTwsCommission(1000));
    const emitted = updates.filter((u) => u.order.order_id === resting.order_id && u.fill !== undefined);
    assert.equal(emitted.length, 1, 'the fill is reported once');

    const earlier = await broker.getOrderStatus(before.order_id);
    assert.equal(earlier.fills.length, 1, 'the execution seen before the outage is not counted twice');
    assert.equal(updates.filter((u) => u.order.order_id === before.order_id && u.fill !== undefined).length, 1);
    assert.equal(fake.requestCount('REQ_EXECUTIONS'), 2, 'asked on each connect');
    const [first, second] = fake.executionFilters();
    assert.equal(first?.[0], '21', 'this clientId');
    assert.equal(first?.[2], '', 'the whole day before any execution was seen');
    assert.match(second?.[2] ?? '', /^\d{8} \d{2}:\d{2}:\d{2}/, 'from the latest execution TWS reported');
  });

  it('after a restart (a new adapter, same clientId): an order of ours filled while away is adopted with IB’s fill and commission', async () => {
    const resting = await broker.submitOrder(order('ib-away-3', 100));
    assert.equal(resting.status.status, 'submitted');
    fake.dropConnections();
    await broker.disconnect();
    fake.setQuote('AAPL', 98, 99.5);

    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 21,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 60_000,
      onError: () => undefined,
    });
    await broker.connect();
    const adopted = await broker.getOrderByClientId('ib-away-3');
    assert.equal(adopted?.status.status, 'filled');
    assert.equal(adopted.fills.length, 1);
    assert.match(adopted.fills[0]!.fill_id, /^0000e0d5\./);
    assert.equal(adopted.fills[0]!.commission, fakeTwsCommission(1000));
    assert.equal(adopted.commission, fakeTwsCommission(1000));
  });

  it('a TWS that never answers REQ_EXECUTIONS does not hold connect() up (the open orders asked after it end the wait)', async function () {
    this.timeout(3000);
    await broker.disconnect();
    await fake.close();
    fake = await startFakeTws({ executionRequests: false });
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 22,
      timeoutMs: 30_000,
      onError: () => undefined,
    });
    await broker.connect();
    assert.equal(broker.isConnected(), true);
    assert.equal(fake.requestCount('REQ_EXECUTIONS'), 1);
  });
});
