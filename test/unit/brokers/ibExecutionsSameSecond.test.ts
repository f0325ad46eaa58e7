/**
 * Executions asked for after a reconnect, by time. TWS API ExecutionFilter.time: "Time from which the executions will
 * be returned yyyymmdd hh:mm:ss Only those executions reported after the specified time will be returned"; an
 * Execution's time is to the second. The adapter asked from the time of the latest execution it had seen, so a fill
 * made while it was away in that same second was not "after" it: never read, the order's fill lost (its status said
 * Filled, its executions did not). The fake TWS applies the filter so, on a clock the test holds.
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { earlierTwsTime } from '../../../src/brokers/ib/orders';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';

const order = (client_order_id: string, price: number): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: { type: 'limit', price },
  quantity: 100,
  time_in_force: { type: 'GTC' },
  metadata: {},
  client_order_id,
});

describe('IbBroker: executions of the same second as the last one seen, made while away', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  // TWS's clock for executions: every execution of this test falls in one second.
  const second = Date.UTC(2026, 0, 5, 14, 30, 0) + 400;

  beforeEach(async () => {
    fake = await startFakeTws({ executionClock: () => second });
    fake.setQuote('AAPL', 99, 101);
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 23,
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

  it('the fill made while away is read, once, with IB’s execution; the one seen before is not counted again', async () => {
    const seen = await broker.submitOrder(order('ib-same-1', 102));
    assert.equal(seen.status.status, 'filled');
    const resting = await broker.submitOrder(order('ib-same-2', 100));
    assert.equal(resting.status.status, 'submitted');

    fake.dropConnections();
    await broker.disconnect();
    fake.setQuote('AAPL', 98, 99.5); // fills the resting order in the same second, while no client is connected
    await broker.connect();

    const after = await broker.getOrderStatus(resting.order_id);
    assert.equal(after.status.status, 'filled');
    assert.equal(after.fills.length, 1);
    assert.match(after.fills[0]!.fill_id, /^0000e0d5\./, 'IB’s execution, not a fill made up from the status');
    assert.equal(updates.filter((u) => u.order.order_id === seen.order_id && u.fill !== undefined).length, 1);
    assert.equal(updates.filter((u) => u.order.order_id === resting.order_id && u.fill !== undefined).length, 1);
    const asked = fake.executionFilters()[1]?.[2] ?? '';
    assert.equal(asked, '20260105 14:29:00 UTC', 'a minute before the latest execution seen, in TWS’s own form');
  });

  it('moves a TWS time earlier on its own clock, keeping its form (pure)', () => {
    assert.equal(earlierTwsTime('20260105 14:30:00 UTC', 60), '20260105 14:29:00 UTC');
    assert.equal(earlierTwsTime('20260101-00:00:30', 60), '20251231-23:59:30');
    assert.equal(earlierTwsTime('20260105 09:30:00 US/Eastern', 60), '20260105 09:29:00 US/Eastern');
    assert.equal(earlierTwsTime('not a time', 60), 'not a time');
  });
});
