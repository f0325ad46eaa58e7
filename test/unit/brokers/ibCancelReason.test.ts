/**
 * An order IB ends on its own carries IB's reason in its `cancelled` status (as OANDA's do), so the user reads
 * why, not a bare "cancelled"; a cancel we asked for carries none.
 *
 * Sources: TWS API "Message Codes": 201 "Order rejected - Reason:" (an order refused, also after it was working:
 * TWS then reports it Cancelled) and 202 "Order cancelled - Reason:" ("An active order on the IB server was
 * cancelled"); TWS API "Order Management" → orderStatus `Cancelled`. The fake TWS (test/fakes/ib/server.ts) plays
 * these messages as scripted.
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { type IbBroker } from '../../../src/brokers/ib/adapter';
import type { OrderResponse, PlacedOrderRequest } from '../../../src/orders/model';
import { type FakeTws } from '../../fakes/ib/server';
import { fakeTwsPerTest } from '../../kit/fakeTws';
import { readUntil } from '../../kit/orderUpdates';

describe('IbBroker: an order IB cancelled itself carries IB’s reason', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;

  fakeTwsPerTest({ clientId: 31 }, (rig) => void ({ fake, broker, updates } = rig));

  const stop = (): PlacedOrderRequest => ({
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'stop', price: 120 },
    quantity: 100,
    time_in_force: { type: 'GTC' },
    client_order_id: `ib-why-${++seq}`,
    metadata: {},
  });
  const ended = (orderId: string): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      (r) => r.status.status === 'cancelled',
      (u) => u.order.order_id === orderId,
    );
  const reasonOf = (r: OrderResponse | undefined): string | undefined =>
    r?.status.status === 'cancelled' ? r.status.reason : undefined;

  it('refused after it was working (201, then Cancelled): cancelled with IB’s reason', async () => {
    fake.scriptNextOrder([
      { status: 'PreSubmitted' },
      { error: 201, message: 'Order rejected - reason:Insufficient margin when the stop was triggered' },
      { status: 'Cancelled' },
    ]);
    const placed = await broker.submitOrder(stop());
    const done = await ended(placed.order_id);
    assert.match(reasonOf(done) ?? '', /Insufficient margin/);
    const u = updates.find((x) => x.order.order_id === placed.order_id && x.order.status.status === 'cancelled');
    assert.match(reasonOf(u?.order) ?? '', /Insufficient margin/);
  });

  it('cancelled by IB with a reason (202): cancelled with that reason', async () => {
    fake.scriptNextOrder([
      { status: 'PreSubmitted' },
      { error: 202, message: 'Order Canceled - reason:The contract is no longer tradeable' },
      { status: 'Cancelled' },
    ]);
    const placed = await broker.submitOrder(stop());
    const done = await ended(placed.order_id);
    assert.match(reasonOf(done) ?? '', /no longer tradeable/);
  });

  it('a cancel we asked for: cancelled, no reason', async () => {
    const placed = await broker.submitOrder(stop());
    await broker.cancelOrder(placed.order_id);
    const done = await ended(placed.order_id);
    assert.equal(reasonOf(done), undefined);
  });
});
