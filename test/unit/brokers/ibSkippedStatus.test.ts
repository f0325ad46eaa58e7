/**
 * A fill read from orderStatus alone (no execDetails came: `executions: false`, applied after `commissionWaitMs`) when
 * TWS sent no status between two executions. TWS API "The orderStatus callback" (order_submission.html): "there are
 * not guaranteed to be orderStatus callbacks for every change in order status"; orderStatus's `avgFillPrice` is "the
 * average price of the shares that have been executed" and `lastFillPrice` "the last price of the shares that have
 * been executed" — the last execution's, not the average of those since the previous report. A jump from 0 to 1,000
 * filled (500 at 100, 500 at 101) was one fill of 1,000 at 101: 500 dollars more than paid, and the position's cost
 * and P&L off by it.
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { isFinalStatus, type OrderResponse } from '../../../src/orders/model';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';
import { readUntil } from '../../kit/orderUpdates';

describe('IbBroker: a fill from orderStatus alone, when TWS skipped a status', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;

  beforeEach(async () => {
    fake = await startFakeTws({ executions: false });
    fake.setQuote('AAPL', 99, 101);
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 44,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 30,
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

  const marketBuy = (quantity: number) => ({
    symbol: 'AAPL',
    side: 'buy' as const,
    order_type: { type: 'market' as const },
    quantity,
    time_in_force: { type: 'GTC' as const },
    client_order_id: `ib-skipped-${++seq}`,
    metadata: {},
  });

  const untilFinal = (orderId: string): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      (o) => isFinalStatus(o.status),
    );

  const fillsOf = (orderId: string) =>
    updates.filter((u) => u.order.order_id === orderId && u.fill !== undefined).map((u) => u.fill!);

  it('0 → 1,000 filled at an average of 100.5 (the last at 101): one fill of 1,000 at 100.5', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted', filled: 0, avgFillPrice: 0 },
      { status: 'Filled', filled: 1000, avgFillPrice: 100.5, lastFillPrice: 101 },
    ]);
    const placed = await broker.submitOrder(marketBuy(1000));
    const done = await untilFinal(placed.order_id);
    assert.equal(done.filled_price, 100.5);
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]?.quantity, 1000);
    assert.equal(fills[0]?.price, 100.5);
  });

  it('400 at 100, then 1,000 at an average of 100.6 (the last at 101, two executions since): 600 at 101', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted', filled: 400, avgFillPrice: 100, lastFillPrice: 100 },
      { status: 'Filled', filled: 1000, avgFillPrice: 100.6, lastFillPrice: 101 },
    ]);
    const placed = await broker.submitOrder(marketBuy(1000));
    await untilFinal(placed.order_id);
    assert.deepEqual(
      fillsOf(placed.order_id).map((f) => [f.quantity, f.price]),
      [
        [400, 100],
        [600, 101],
      ],
    );
  });

  it('when the status says one execution (the average moved by the last price exactly), that price, with no noise', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted', filled: 300, avgFillPrice: 100.1, lastFillPrice: 100.1 },
      { status: 'Filled', filled: 1000, avgFillPrice: 100.17, lastFillPrice: 100.2 },
    ]);
    const placed = await broker.submitOrder(marketBuy(1000));
    await untilFinal(placed.order_id);
    assert.deepEqual(
      fillsOf(placed.order_id).map((f) => [f.quantity, f.price]),
      [
        [300, 100.1],
        [700, 100.2],
      ],
    );
  });
});
