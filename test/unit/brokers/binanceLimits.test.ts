/**
 * The Binance adapter backs off the limits Binance answers without a Retry-After: the account's unfilled-order
 * count (429 -1015) and the web application firewall (403), through the real ccxt against the fake.
 *
 * Sources: binance-spot-api-docs rest-api "LIMITS" → "Unfilled Order Count" ("If you have exceeded this, you will
 * receive a 429 error without the Retry-After header"; "The number of unfilled orders is tracked for each
 * account"); errors.md -1015 TOO_MANY_ORDERS "Too many new orders; current limit is %s orders per %s."; rest-api
 * "HTTP Return Codes" ("HTTP 403 return code is used when a WAF (Web Application Firewall) rule has been violated.
 * This can indicate a rate limit violation or a security block."); Binance FAQ "Frequently Asked Questions on API"
 * (360004492232): "Usually, a WAF ban will have a duration of 5 minutes", "50 times/10 seconds" order limit.
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';
import { brokerFailure as failure } from '../../kit/binance';

let seq = 0;
function order(overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 0.003,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-lim-${++seq}`,
    metadata: {},
    ...overrides,
  };
}

describe('Binance adapter: limits answered without Retry-After (-1015, WAF 403)', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let sleeps: number[];
  /** The retry policy's clock: moved by the waits withRetries makes and by the tests. */
  let clockMs: number;

  beforeEach(async () => {
    fake = await startFakeBinance();
    sleeps = [];
    clockMs = 0;
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock: new TestClock(),
      timeoutMs: 2000,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: () => undefined,
      retry: {
        now: () => clockMs,
        sleep: async (ms) => {
          sleeps.push(ms);
          clockMs += ms;
        },
      },
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('-1015 naming the day\'s limit ("current limit is 200000 orders per DAY."): new orders wait the day, not 10 s', async () => {
    const posts = fake.requestCount('POST /api/v3/order');
    fake.injectNext({ kind: 'tooManyOrders', interval: 'DAY' });
    const o = order();
    const first = await failure(broker.submitOrder(o));
    assert.equal(first.reason, 'RATE_LIMITED');
    assert.equal(first.retryAfterMs, 86_400_000);
    clockMs += 11_000; // past the 10-second interval: a new order would meet the same refusal
    const held = await failure(broker.submitOrder(o));
    assert.equal(held.notActed, true);
    assert.equal(held.retryAfterMs, 86_400_000 - 11_000);
    assert.match(held.message, /new orders wait 86389 s more, until the interval Binance named has passed/);
    assert.equal(fake.requestCount('POST /api/v3/order'), posts + 1, 'one 429, not one every 10 s');
    assert.ok((await broker.getQuote('BTCUSDT')).ask > 0, 'reads still go');
  });

  it('-1015 Too many new orders: not placed, not resent at once; new orders wait 10 s, cancels and reads still go', async () => {
    const resting = await broker.submitOrder(order({ order_type: { type: 'limit', price: 29_000 } }));
    const posts = fake.requestCount('POST /api/v3/order');
    fake.injectNext({ kind: 'tooManyOrders' });
    const o = order();
    const first = await failure(broker.submitOrder(o));
    assert.equal(first.reason, 'RATE_LIMITED');
    assert.equal(first.notActed, true);
    assert.equal(first.retryable, true);
    assert.equal(first.outcomeUnknown, false);
    assert.equal(first.venueCode, -1015);
    assert.equal(fake.requestCount('POST /api/v3/order'), posts + 1, 'sent once, not hammered within the interval');
    assert.deepEqual(sleeps, []);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    // Within the interval: held here, nothing sent.
    clockMs += 4000;
    const held = await failure(broker.submitOrder(o));
    assert.equal(held.reason, 'RATE_LIMITED');
    assert.equal(held.notActed, true);
    assert.equal(held.retryAfterMs, 6000);
    assert.equal(fake.requestCount('POST /api/v3/order'), posts + 1);
    // The limit counts new orders of the account: a cancel (the emergency stop's) and reads still go.
    assert.ok((await broker.getQuote('BTCUSDT')).ask > 0);
    await broker.cancelOrder(resting.order_id);
    assert.equal((await broker.getOrderStatus(resting.order_id)).status.status, 'cancelled');
    // After the interval the same order goes, once.
    clockMs += 6000;
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
  });

  it('403 from the WAF: RATE_LIMITED, not acted on, and nothing at all is sent for 5 minutes', async () => {
    fake.injectNext({ kind: 'wafBlock' });
    const o = order();
    const first = await failure(broker.submitOrder(o));
    assert.equal(first.reason, 'RATE_LIMITED');
    assert.equal(first.notActed, true);
    assert.equal(first.outcomeUnknown, false);
    assert.equal(first.retryable, true);
    assert.equal(first.retryAfterMs, 300_000);
    assert.match(first.message, /firewall/);
    assert.doesNotMatch(first.message, /<html>/i);
    const sent = fake.requestCount();
    clockMs += 60_000;
    assert.equal((await failure(broker.getQuote('BTCUSDT'))).reason, 'RATE_LIMITED');
    assert.equal((await failure(broker.submitOrder(o))).retryAfterMs, 240_000);
    await broker.poll();
    assert.equal(fake.requestCount(), sent, 'no request while the firewall block lasts');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    clockMs += 240_000;
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
  });

  it('an order that traded 1,200 times, found by client id after a timeout: every trade read (myTrades pages), each fee counted', async () => {
    // rest-api.md "Account trade list": limit "Default 500; max 1000"; without fromId "most recent trades are
    // returned". The fake answers so (test/fakes/binance/server.ts).
    const levels: Array<[number, number]> = [];
    for (let i = 0; i < 1200; i++) levels.push([30_000 + i * 0.01, 0.00001]);
    fake.setDepth('BTCUSDT', 'asks', levels);
    fake.injectNext({ kind: 'timeoutAfterAccept' });
    const o = order({ quantity: 0.012 });
    const e = await failure(broker.submitOrder(o));
    assert.equal(e.outcomeUnknown, true);
    const found = await broker.getOrderByClientId(o.client_order_id, { symbol: 'BTCUSDT' });
    assert.equal(found?.status.status, 'filled');
    assert.equal(found?.fills.length, 1200);
    assert.equal(new Set(found?.fills.map((f) => f.fill_id)).size, 1200);
    assert.ok(
      (found?.fills ?? []).every((f) => f.commission > 0),
      'every trade has its fee',
    );
    assert.ok((found?.commission ?? 0) > 0);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
  });

  it('418 without Retry-After: held for the shortest ban, 2 minutes', async () => {
    fake.injectNext({ kind: 'rateLimit', status: 418 });
    const e = await failure(broker.submitOrder(order()));
    assert.equal(e.reason, 'RATE_LIMITED');
    assert.equal(e.retryAfterMs, 120_000);
    const sent = fake.requestCount();
    assert.equal((await failure(broker.getQuote('BTCUSDT'))).reason, 'RATE_LIMITED');
    assert.equal(fake.requestCount(), sent);
  });
});
