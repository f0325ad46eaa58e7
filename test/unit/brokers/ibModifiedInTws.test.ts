/**
 * An order of ours whose size the trader changes in TWS's window. TWS API "Modifying Orders"
 * (interactivebrokers.github.io/tws-api/modifying_orders.html): an order keeps its `orderId`, and its "price, size,
 * and tif" are what one changes; "The openOrder callback" is sent when an order changes, and orderStatus's `remaining`
 * is what is left of the new size. Filled then means the new size is done. Read against the size we placed, an order
 * cut from 10 to 6 and filled ended `filled` with 6 of 10: the engine, which counts fills against what it placed, kept
 * it partly filled and working for ever, though nothing of it was left at IB.
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { isFinalStatus, type OrderResponse, type PlacedOrderRequest } from '../../../src/orders/model';
import type { FakeTws } from '../../fakes/ib/server';
import { closeTwsRig, connectToFakeTws, fakeTwsPerTest } from '../../kit/fakeTws';
import { readUntil } from '../../kit/orderUpdates';

describe('IbBroker: an order whose size the trader changed in TWS', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;

  fakeTwsPerTest({ clientId: 43 }, (rig) => void ({ fake, broker, updates } = rig));

  const restingBuy = (): PlacedOrderRequest => ({
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 90 },
    quantity: 10,
    time_in_force: { type: 'GTC' },
    client_order_id: `ib-modified-${++seq}`,
    metadata: {},
  });

  const untilFinal = (orderId: string): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      (o) => isFinalStatus(o.status),
    );

  it('cut from 10 to 6 and filled: the 6 are its fill, then it ends cancelled, saying TWS took the rest away', async () => {
    const placed = await broker.submitOrder(restingBuy());
    assert.equal(placed.status.status, 'submitted');
    assert.ok(fake.modifyInTws(Number(placed.order_id), 6));
    // TWS's openOrder and orderStatus for the change reach the adapter before the market moves.
    await readUntil(
      broker,
      () => broker.listOpenOrders(),
      (list) => list.some((o) => o.order_id === placed.order_id),
    );
    fake.setQuote('AAPL', 88, 89);
    const done = await untilFinal(placed.order_id);
    assert.equal(done.status.status, 'cancelled');
    assert.match(done.status.reason ?? '', /size was changed in TWS from 10 to 6/);
    assert.equal(done.filled_quantity, 6);
    assert.equal(done.quantity, 10);
    const mine = updates.filter((u) => u.order.order_id === placed.order_id);
    const fills = mine.filter((u) => u.fill !== undefined);
    assert.deepEqual(
      fills.map((u) => u.fill?.quantity),
      [6],
    );
    assert.equal(fills[0]?.order.status.status, 'partially_filled');
    assert.equal(mine[mine.length - 1]?.order.status.status, 'cancelled');
    // Nothing of it is working at IB: a cancel is refused here, not sent.
    const before = fake.requestCount('CANCEL_ORDER');
    await broker.cancelOrder(placed.order_id);
    assert.equal(fake.requestCount('CANCEL_ORDER'), before);
  });

  it('cut from 10 to 6 and cancelled before it fills: cancelled as any order', async () => {
    const placed = await broker.submitOrder(restingBuy());
    assert.ok(fake.modifyInTws(Number(placed.order_id), 6));
    await broker.cancelOrder(placed.order_id);
    const done = await untilFinal(placed.order_id);
    assert.deepEqual(done.status, { status: 'cancelled' });
    assert.equal(done.filled_quantity, null);
  });

  it('enlarged from 10 to 15 and filled: the first 10 are its fill and it is filled; the 5 beyond are said', async () => {
    const said: string[] = [];
    const rig = await connectToFakeTws({ clientId: 46, broker: { onError: (m: string) => said.push(m) } });
    try {
      const placed = await rig.broker.submitOrder(restingBuy());
      assert.ok(rig.fake.modifyInTws(Number(placed.order_id), 15));
      // TWS's openOrder and orderStatus for the change come before the answer to a later request (one socket).
      await rig.broker.listOpenOrders();
      rig.fake.setQuote('AAPL', 88, 89);
      const done = await readUntil(
        rig.broker,
        () => rig.broker.getOrderStatus(placed.order_id),
        (o) => isFinalStatus(o.status),
      );
      assert.equal(done.status.status, 'filled');
      assert.equal(done.filled_quantity, 10);
      const fills = rig.updates.filter((u) => u.fill !== undefined).map((u) => u.fill!);
      assert.deepEqual(
        fills.map((f) => [f.quantity, f.price]),
        [[10, 89]],
      );
      // IB's commission for the execution of 15 (USD 1.00), the order's share of it.
      assert.ok(Math.abs((fills[0]?.commission ?? 0) - 10 / 15) < 1e-9, String(fills[0]?.commission));
      assert.ok(said.some((m) => /size is now 15 of the 10 placed; the first 10 filled are this order's/.test(m)));
      assert.ok(!said.some((m) => /ignored/.test(m)), said.join('\n'));
    } finally {
      await closeTwsRig(rig);
    }
  });

  it('cut and filled while SPtrader was away: after a restart, found by client id with its fill, then cancelled', async () => {
    const o = restingBuy();
    const placed = await broker.submitOrder(o);
    await broker.disconnect();
    assert.ok(fake.modifyInTws(Number(placed.order_id), 6));
    fake.setQuote('AAPL', 88, 89);

    // A new session: TWS lists the order as it is now (6, Filled); the engine knows what it placed.
    const again = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 43,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: () => undefined,
    });
    const seen: OrderUpdate[] = [];
    again.onOrderUpdate((u) => seen.push(u));
    await again.connect();
    try {
      const found = await again.getOrderByClientId(o.client_order_id, { symbol: o.symbol, last: placed });
      assert.equal(found?.status.status, 'cancelled', JSON.stringify(found));
      assert.match(found?.status.reason ?? '', /size was changed in TWS from 10 to 6/);
      assert.equal(found?.quantity, 10);
      assert.equal(found?.filled_quantity, 6);
      assert.deepEqual(
        seen.filter((u) => u.fill !== undefined).map((u) => u.fill?.quantity),
        [6],
      );
    } finally {
      await again.disconnect();
    }
  });
});
