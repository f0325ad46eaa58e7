/**
 * An OANDA order of ours whose client extensions are changed after it was placed: Order Endpoints `PUT
 * /v3/accounts/{accountID}/orders/{orderSpecifier}/clientExtensions` ("Update the Client Extensions for an Order in an
 * Account"; ClientExtensions: "Do not set, modify, or delete this field if your account is associated with MT4", whose
 * platform keeps its own there). The order keeps its OANDA id; its `clientExtensions.id`, the id its later views and
 * transactions (`clientOrderID`) carry, is another. Read from them, our order's fill came under a client order id the
 * engine never gave: an external order's, while ours stayed working; looked up after a restart by `@<our id>` it was
 * "not found".
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda } from '../../fakes/oanda/server';

let sequence = 0;
const limitBuy = (): PlacedOrderRequest => ({
  symbol: 'EUR_USD',
  side: 'buy',
  quantity: 1000,
  order_type: { type: 'limit', price: 1.1001 },
  time_in_force: { type: 'GTC' },
  metadata: {},
  client_order_id: `oa-ext-${process.pid}-${++sequence}`,
});

describe('OANDA: an order whose client extensions were changed after it was placed', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;
  let updates: OrderUpdate[];

  const adapter = (): OandaBroker =>
    new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: () => undefined,
    });

  beforeEach(async () => {
    fake = await startFakeOanda();
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    broker = adapter();
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('is still ours: listed and filled under our client order id, its fill too', async () => {
    const o = limitBuy();
    const r = await broker.submitOrder(o);
    fake.modifyClientExtensions(r.order_id, { id: 'mt4-1234567', comment: 'set elsewhere' });
    await broker.poll();
    assert.deepEqual(
      (await broker.listOpenOrders()).map((v) => v.client_order_id),
      [o.client_order_id],
    );
    fake.setQuote('EUR_USD', 1.0998, 1.1);
    await broker.poll();
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.client_order_id, o.client_order_id);
    for (const u of updates) {
      assert.equal(u.order.client_order_id, o.client_order_id, JSON.stringify(u.order));
      if (u.fill) assert.equal(u.fill.client_order_id, o.client_order_id);
    }
    assert.equal(updates.filter((u) => u.fill !== undefined).length, 1);
  });

  it('after a restart: not found by @<our id>, it is found by its OANDA id the engine kept, as ours', async () => {
    const o = limitBuy();
    const r = await broker.submitOrder(o);
    fake.modifyClientExtensions(r.order_id, { id: 'mt4-7654321' });
    fake.setQuote('EUR_USD', 1.0998, 1.1);
    await broker.disconnect();

    const again = adapter();
    await again.connect();
    try {
      const found = await again.getOrderByClientId(o.client_order_id, { symbol: o.symbol, last: r });
      assert.equal(found?.order_id, r.order_id);
      assert.equal(found?.client_order_id, o.client_order_id);
      assert.equal(found?.status.status, 'filled');
      assert.equal(found?.fills[0]?.client_order_id, o.client_order_id);
      // Without the engine's view, absence by client id is all OANDA can say.
      assert.equal(await again.getOrderByClientId(o.client_order_id), undefined);
    } finally {
      await again.disconnect();
    }
  });
});
