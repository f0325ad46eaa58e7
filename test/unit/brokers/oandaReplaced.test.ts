/**
 * An OANDA order a user replaces (OANDA's platform or the API: PUT /orders/{orderSpecifier}, Order Endpoints "Replace
 * an Order in an Account by simultaneously cancelling it and creating a replacement Order"; the order is CANCELLED
 * with reason CLIENT_REQUEST_REPLACED and `replacedByOrderID`, the new one is created with reason REPLACEMENT and
 * `replacesOrderID`). What is right for the user: a replacement that changes nothing the order is (the same
 * instrument, side, remaining units, type and price: a new time in force, a new gtdTime, a new clientExtensions)
 * carries the order on, as a reissue does (its fills count toward it, a cancel reaches it, it is not "external"); a
 * replacement of another type or price is another order: ours ended there (cancelled, saying it was replaced, and
 * by which order), the new one is an order of its own. The fake's `replaceOrder` plays the replace.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda } from '../../fakes/oanda/server';

let sequence = 0;
const limitBuy = (quantity: number, price: number): PlacedOrderRequest => ({
  symbol: 'EUR_USD',
  side: 'buy',
  quantity,
  order_type: { type: 'limit', price },
  time_in_force: { type: 'GTC' },
  metadata: {},
  client_order_id: `oa-replace-${process.pid}-${++sequence}`,
});

describe('OANDA: an order the user replaces', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;
  let updates: OrderUpdate[];

  beforeEach(async () => {
    fake = await startFakeOanda();
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: () => undefined,
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('with a new time in force only: still our order; its fill counts toward it; never said cancelled', async () => {
    const r = await broker.submitOrder(limitBuy(1000, 1.1001));
    fake.replaceOrder(r.order_id, { timeInForce: 'GTD', gtdTime: new Date(Date.now() + 3_600_000).toISOString() });
    await broker.poll();
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'submitted');
    assert.deepEqual(
      (await broker.listOpenOrders()).map((o) => o.client_order_id),
      [r.client_order_id],
    );
    fake.setQuote('EUR_USD', 1.0998, 1.1);
    await broker.poll();
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.filled_quantity, 1000);
    assert.ok(!updates.some((u) => u.order.status.status === 'cancelled'));
  });

  it('to a STOP at the same price and units: another order; ours cancelled saying it was replaced, and by which', async () => {
    const r = await broker.submitOrder(limitBuy(1000, 1.1001));
    const next = fake.replaceOrder(r.order_id, { type: 'STOP' });
    const after = await broker.getOrderStatus(r.order_id);
    assert.equal(after.status.status, 'cancelled', JSON.stringify(after.status));
    const reason = after.status.status === 'cancelled' ? (after.status.reason ?? '') : '';
    assert.match(reason, /REPLACED/);
    assert.match(reason, new RegExp(`\\b${next}\\b`));
  });

  it('at another price: another order; ours cancelled saying it was replaced', async () => {
    const r = await broker.submitOrder(limitBuy(1000, 1.1001));
    fake.replaceOrder(r.order_id, { price: '1.09900' });
    const after = await broker.getOrderStatus(r.order_id);
    assert.equal(after.status.status, 'cancelled');
    assert.match(after.status.status === 'cancelled' ? (after.status.reason ?? '') : '', /REPLACED/);
  });
});
