/**
 * The Alpaca adapter's poll backs off a 429: once Alpaca refuses one look-up of an order that left the open list
 * for its rate limit, the poll's other look-ups wait for the next poll instead of meeting the same limit.
 *
 * Source: Alpaca "Rate limits" (docs.alpaca.markets/docs/rate-limits): "If the limit is exceeded, the API will
 * return a 429 status code", with `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; the
 * limit is per account, so every request before the reset meets it too: after a 429 whose reset is past the retry
 * bound, no trading-API request is sent until then (as the Binance adapter does after a 429/418).
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError } from '../../../src/brokers/errors';
import { newClientOrderId } from '../../../src/common/ids';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { eventsOf } from '../../kit/orderUpdates';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const limit = (price: number): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: { type: 'limit', price },
  quantity: 10,
  time_in_force: { type: 'GTC' },
  client_order_id: newClientOrderId('pl'),
  metadata: {},
});

describe('Alpaca adapter: a poll that meets the rate limit', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;
  let updates: OrderUpdate[];
  let errors: string[];
  /** The retry policy's clock, moved by the tests. */
  let clockMs: number;

  beforeEach(async () => {
    fake = await startFakeAlpaca();
    fake.setQuote('AAPL', 150, 150.1);
    errors = [];
    clockMs = 0;
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: (m) => errors.push(m),
      retry: {
        now: () => clockMs,
        sleep: async (ms) => {
          clockMs += ms;
        },
      },
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('a 429 on the first look-up (reset in 60 s): the other look-ups are not sent; the next poll reports every fill', async () => {
    const orders = [
      await broker.submitOrder(limit(149)),
      await broker.submitOrder(limit(149)),
      await broker.submitOrder(limit(149)),
    ];
    fake.setQuote('AAPL', 148.9, 149); // all three fill at the venue and leave the open list
    fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 60, on: 'lookup' });
    const before = fake.requestCount('GET /v2/orders/:id');
    await broker.pollOpenOrders();
    assert.equal(fake.requestCount('GET /v2/orders/:id') - before, 1, 'one look-up met the limit; the rest waited');
    assert.equal(errors.length, 1, JSON.stringify(errors));
    // Until the reset the poll sends nothing (and says nothing more).
    const sent = fake.requestCount();
    clockMs += 30_000;
    await broker.pollOpenOrders();
    assert.equal(fake.requestCount(), sent);
    assert.equal(errors.length, 1);
    clockMs += 30_000;
    await broker.pollOpenOrders();
    for (const o of orders) assert.deepEqual(eventsOf(updates, o.order_id), ['submitted', 'fill 10']);
  });

  it('a 429 on a submit whose reset is past the retry bound: nothing is sent to the trading API until the reset', async () => {
    const resting = await broker.submitOrder(limit(140));
    fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 60 });
    const o = limit(149);
    await assert.rejects(broker.submitOrder(o), (e: unknown) => isBrokerError(e) && e.reason === 'RATE_LIMITED');
    const sent = fake.requestCount();
    clockMs += 20_000;
    await assert.rejects(broker.submitOrder(o), (e: unknown) => {
      assert.ok(isBrokerError(e));
      assert.equal(e.reason, 'RATE_LIMITED');
      assert.equal(e.notActed, true);
      assert.equal(e.retryable, true);
      assert.equal(e.retryAfterMs, 40_000);
      return true;
    });
    await assert.rejects(
      broker.getOrderStatus(resting.order_id),
      (e: unknown) => isBrokerError(e) && e.reason === 'RATE_LIMITED',
    );
    assert.equal(fake.requestCount(), sent, 'nothing sent before the reset');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    clockMs += 40_000;
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'submitted');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
  });
});
