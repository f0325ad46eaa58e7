/**
 * An order of ours replaced at Alpaca (its dashboard, another program): Alpaca API reference "Replace Order by ID"
 * (PATCH /v2/orders/{order_id}) makes a NEW order (its own id and client_order_id, `replaces` naming ours) and ends
 * ours `replaced`, with `replaced_by` (Order object). A replacement for exactly the order's remaining quantity (a
 * new price, a new time in force) carries the user's order on: it stays one order (our ids), the replacement's
 * fills count toward it, a cancel reaches the live order, it is never "cancelled" nor the replacement "external". A
 * replacement for another quantity (a partly filled order's replacement keeps the original `qty`,
 * alpacahq/Alpaca-API#165) is an order of its own: ours ended there, cancelled with the reason.
 * The fake answers PATCH so (test/fakes/alpaca/server.ts, `replaceOrder`).
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

let seq = 0;
const limit = (price: number, quantity = 10): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: { type: 'limit', price },
  quantity,
  time_in_force: { type: 'GTC' },
  client_order_id: `alp-rp-${++seq}`,
  metadata: {},
});

describe('Alpaca adapter: an order replaced at Alpaca (PATCH /v2/orders/{id}) stays the user’s order', () => {
  let fake: FakeAlpaca;
  let updates: OrderUpdate[];
  const brokers: AlpacaBroker[] = [];

  const brokerOn = async (): Promise<AlpacaBroker> => {
    const b = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: () => undefined,
    });
    brokers.push(b);
    await b.connect();
    return b;
  };

  beforeEach(async () => {
    fake = await startFakeAlpaca();
    fake.setQuote('AAPL', 150, 150.1);
    updates = [];
  });

  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.disconnect();
    await fake.close();
  });

  it('a new price: still working under our ids, then its replacement’s fill counts toward it', async () => {
    const broker = await brokerOn();
    broker.onOrderUpdate((u) => updates.push(u));
    const mine = await broker.submitOrder(limit(149));
    const next = fake.replaceOrder(mine.order_id, { limit_price: '149.5' });
    await broker.pollOpenOrders();
    const seen = await broker.getOrderStatus(mine.order_id);
    assert.equal(seen.status.status, 'submitted', JSON.stringify(seen.status));
    assert.equal(seen.client_order_id, mine.client_order_id);
    assert.deepEqual(
      (await broker.listOpenOrders()).map((o) => [o.order_id, o.client_order_id]),
      [[mine.order_id, mine.client_order_id]],
      'the replacement is listed as our order, not as an order placed elsewhere',
    );
    fake.setQuote('AAPL', 149.4, 149.5); // the replacement's price fills
    await broker.pollOpenOrders();
    const done = await broker.getOrderStatus(mine.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.filled_quantity, 10);
    assert.equal(done.filled_price, 149.5);
    const mineSaid = updates.filter((u) => u.order.client_order_id === mine.client_order_id);
    assert.ok(!mineSaid.some((u) => u.order.status.status === 'cancelled'), 'never said cancelled');
    assert.ok(!updates.some((u) => u.order.client_order_id === next.client_order_id), 'the replacement is ours');
    assert.equal(mineSaid.filter((u) => u.fill).length, 1);
  });

  it('a cancel goes to the order that carries it now', async () => {
    const broker = await brokerOn();
    const mine = await broker.submitOrder(limit(149));
    const next = fake.replaceOrder(mine.order_id, { limit_price: '148' });
    await broker.cancelOrder(mine.order_id);
    assert.equal(fake.orders().find((o) => o.id === next.id)?.status, 'canceled');
    assert.equal((await broker.getOrderStatus(mine.order_id)).status.status, 'cancelled');
  });

  it('after a restart, the look-up by our client order id follows the replacement (its fill counted)', async () => {
    const before = await brokerOn();
    const mine = await before.submitOrder(limit(149));
    await before.disconnect();
    const next = fake.replaceOrder(mine.order_id, { limit_price: '149.5' });
    fake.setQuote('AAPL', 149.4, 149.5);
    assert.equal(fake.orders().find((o) => o.id === next.id)?.status, 'filled');
    const broker = await brokerOn();
    const found = await broker.getOrderByClientId(mine.client_order_id);
    assert.equal(found?.status.status, 'filled', JSON.stringify(found?.status));
    assert.equal(found.order_id, mine.order_id);
    assert.equal(found.filled_quantity, 10);
  });

  it('partly filled, then replaced for its remaining quantity: both fills count, once each', async () => {
    const broker = await brokerOn();
    broker.onOrderUpdate((u) => updates.push(u));
    const mine = await broker.submitOrder(limit(149));
    fake.partialFill(mine.order_id, 4, 149);
    fake.replaceOrder(mine.order_id, { limit_price: '149.5', qty: '6' });
    await broker.pollOpenOrders();
    const mid = await broker.getOrderStatus(mine.order_id);
    assert.deepEqual(mid.status, { status: 'partially_filled', filled_qty: 4 });
    fake.setQuote('AAPL', 149.4, 149.5);
    await broker.pollOpenOrders();
    const done = await broker.getOrderStatus(mine.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.filled_quantity, 10);
    assert.deepEqual(
      updates.filter((u) => u.fill).map((u) => [u.fill!.quantity, u.fill!.price]),
      [
        [4, 149],
        [6, 149.5],
      ],
    );
  });

  it('replaced for another quantity: ours ended there (cancelled, saying so); the replacement is its own order', async () => {
    const broker = await brokerOn();
    const mine = await broker.submitOrder(limit(149));
    const next = fake.replaceOrder(mine.order_id, { qty: '25' });
    const after = await broker.getOrderStatus(mine.order_id);
    assert.equal(after.status.status, 'cancelled');
    assert.match(after.status.status === 'cancelled' ? (after.status.reason ?? '') : '', /replaced/i);
    assert.match(after.status.status === 'cancelled' ? (after.status.reason ?? '') : '', new RegExp(next.id));
    assert.deepEqual(
      (await broker.listOpenOrders()).map((o) => o.client_order_id),
      [next.client_order_id],
    );
  });
});
