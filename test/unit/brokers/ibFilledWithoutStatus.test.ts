/**
 * The IB adapter, through the real `@stoqey/ib`, when TWS reports an order whose whole quantity executed without
 * the word `Filled`: its last orderStatus says `Submitted` (or `PendingCancel`) with `filled` the order's quantity
 * and `remaining` 0. The order is filled (not "partially filled" at its full size, still open, still cancellable).
 *
 * Sources: TWS API "Order Management" → orderStatus ("Filled: indicates that the order has been completely filled.
 * Market orders executions will not always trigger a Filled status."; PendingCancel: "You may still receive an
 * execution while your cancellation request is pending", IB's API guide, orderstatus.htm); the fake's
 * `filledStatusForMarketOrders: false` and scripted statuses.
 */
import * as assert from 'node:assert/strict';
import { statusFromIb } from '../../../src/brokers/ib/orders';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { type IbBroker } from '../../../src/brokers/ib/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { type FakeTws } from '../../fakes/ib/server';
import { fakeTwsPerTest } from '../../kit/fakeTws';
import { readUntil } from '../../kit/orderUpdates';

function order(overrides: Partial<PlacedOrderRequest> & { client_order_id: string }): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 100,
    time_in_force: { type: 'GTC' },
    metadata: {},
    ...overrides,
  };
}

describe('IbBroker: an order TWS reports done without a Filled status', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;
  const cid = () => `ib-nofilled-${++seq}`;

  fakeTwsPerTest(
    { clientId: 11, timeoutMs: 1000, fake: { filledStatusForMarketOrders: false } },
    (rig) => void ({ fake, broker, updates } = rig),
  );

  const eventsOf = (orderId: string): string[] =>
    updates
      .filter((u) => u.order.order_id === orderId)
      .map((u) => (u.fill ? `${u.order.status.status} fill ${u.fill.quantity}` : u.order.status.status));

  /** Waits (on the broker's events, no timer) until `count` fills of order `id` were emitted. */
  const fillsOf = (id: string, count: number): Promise<number> =>
    readUntil(
      broker,
      () => Promise.resolve(updates.filter((u) => u.order.order_id === id && u.fill).length),
      (n) => n >= count,
    );

  it('a market order filled on arrival, told Submitted with nothing remaining: filled once, not open, not cancellable', async () => {
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    const id = placed.order_id;
    // The fill waits for its commission report; the order is filled with it.
    await fillsOf(id, 1);
    assert.deepEqual(eventsOf(id).slice(-1), ['filled fill 100']);
    const seen = await broker.getOrderStatus(id);
    assert.deepEqual(seen.status, { status: 'filled' });
    assert.equal(seen.filled_quantity, 100);
    assert.equal(seen.fills.length, 1);
    assert.equal(seen.fills[0]!.commission, 1);
    assert.ok(!(await broker.listOpenOrders()).some((o) => o.order_id === id), 'listed as open');
    const before = fake.requestCount('CANCEL_ORDER');
    await assert.rejects(broker.cancelOrder(id), (e: Error) => /cannot be cancelled: it is filled/.test(e.message));
    assert.equal(fake.requestCount('CANCEL_ORDER'), before);
    // Nothing more: no second fill, no other state.
    assert.equal(eventsOf(id).filter((e) => e.includes('fill')).length, 1);
  });

  it('a limit order whose executions complete it under Submitted statuses: each fill once, then filled', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted' },
      { status: 'Submitted', filled: 40, avgFillPrice: 100, lastFillPrice: 100 },
      { status: 'Submitted', filled: 100, avgFillPrice: 100.6, lastFillPrice: 101 },
    ]);
    const placed = await broker.submitOrder(
      order({ client_order_id: cid(), order_type: { type: 'limit', price: 101 } }),
    );
    const id = placed.order_id;
    await fillsOf(id, 2);
    assert.deepEqual(eventsOf(id), ['submitted', 'partially_filled fill 40', 'filled fill 60']);
    assert.deepEqual((await broker.getOrderStatus(id)).status, { status: 'filled' });
    assert.equal((await broker.listOpenOrders()).length, 0);
  });

  it('statuses with nothing remaining are filled; with something remaining, working (pure)', () => {
    const request = order({ client_order_id: 'x', quantity: 0.3 });
    const now = Date.now();
    // 0.1 + 0.2 as IB's doubles add up: the whole quantity all the same.
    for (const status of ['Submitted', 'PreSubmitted', 'PendingCancel'])
      assert.deepEqual(statusFromIb(status, 0.1 + 0.2, request, now), { status: 'filled' }, status);
    assert.deepEqual(statusFromIb('Submitted', 0.2, request, now), { status: 'partially_filled', filled_qty: 0.2 });
    assert.deepEqual(statusFromIb('PendingCancel', 0, request, now), { status: 'submitted' });
  });
});
