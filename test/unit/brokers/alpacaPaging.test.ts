/**
 * The Alpaca adapter lists every open order, however many: GET /v2/orders returns one page.
 *
 * Source: Alpaca Trading API reference, "Get all orders" (GET /v2/orders): `limit` "The maximum number of
 * orders in response. Defaults to 50 and max is 500"; `after` / `until` "The response will include only ones
 * submitted after / until this timestamp (exclusive.)"; `direction` "The chronological order of response based
 * on the submission time. asc or desc. Defaults to desc." The fake (test/fakes/alpaca/server.ts) answers so.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { newClientOrderId } from '../../../src/common/ids';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

/** An open limit order placed elsewhere (the dashboard), submitted at `at`. */
function openOrder(i: number, at: string): Record<string, unknown> {
  return {
    id: `elsewhere-${i}`,
    client_order_id: `dashboard-${i}`,
    created_at: at,
    updated_at: at,
    submitted_at: at,
    filled_at: null,
    canceled_at: null,
    expired_at: null,
    failed_at: null,
    symbol: 'AAPL',
    asset_class: 'us_equity',
    qty: '1',
    filled_qty: '0',
    filled_avg_price: null,
    order_class: 'simple',
    order_type: 'limit',
    type: 'limit',
    side: 'buy',
    time_in_force: 'gtc',
    limit_price: '100',
    stop_price: null,
    status: 'new',
    extended_hours: false,
  };
}

describe('Alpaca adapter: open orders past one page (GET /v2/orders limit max 500)', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;

  beforeEach(async () => {
    fake = await startFakeAlpaca();
    fake.setQuote('AAPL', 150, 150.1);
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: () => undefined,
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('1,203 open orders (some sharing one instant at a page boundary) are all listed, once each', async () => {
    const base = Date.parse('2026-12-03T14:00:00.000Z');
    for (let i = 0; i < 1203; i++) {
      // Orders 495-510 share one microsecond-precise instant, across the first page's end (500).
      const ms = i >= 495 && i <= 510 ? base + 495 : base + i;
      fake.addOrderPlacedElsewhere(openOrder(i, new Date(ms).toISOString().replace('Z', '123Z')));
    }
    const mine = await broker.submitOrder({
      symbol: 'AAPL',
      side: 'buy',
      order_type: { type: 'limit', price: 149 },
      quantity: 10,
      time_in_force: { type: 'GTC' },
      client_order_id: newClientOrderId('pg'),
      metadata: {},
    });
    const open = await broker.listOpenOrders();
    const ids = open.map((o) => o.order_id);
    assert.equal(new Set(ids).size, ids.length, 'an order listed twice');
    assert.equal(ids.length, 1204);
    assert.ok(ids.includes(mine.order_id));
    for (let i = 0; i < 1203; i++) assert.ok(ids.includes(`elsewhere-${i}`), `elsewhere-${i} missing`);
    const pages = fake.orderListRequests();
    assert.ok(pages.length >= 3, `${pages.length} pages`);
    for (const q of pages) assert.ok(Number(q.limit) <= 500, JSON.stringify(q));
  });

  it('one short page is one request', async () => {
    for (let i = 0; i < 3; i++) fake.addOrderPlacedElsewhere(openOrder(i, new Date(Date.now() + i).toISOString()));
    assert.equal((await broker.listOpenOrders()).length, 3);
    assert.equal(fake.orderListRequests().length, 1);
  });
});
