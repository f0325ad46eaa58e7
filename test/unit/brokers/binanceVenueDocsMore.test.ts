/**
 * The Binance adapter, through the real ccxt client, against more of what the spot API documents and the
 * other suites do not reach: a machine clock that is off from Binance's, and an order cancelled after part
 * of it filled.
 *
 * Sources (binance-spot-api-docs): rest-api.md "Timing security" ("The logic is as follows: if (timestamp <
 * (serverTime + 1000) && (serverTime - timestamp) <= recvWindow) { // process request } else { // reject
 * request }", and "Check server time" `GET /api/v3/time` → `{"serverTime": …}`); errors.md -1021
 * INVALID_TIMESTAMP ("Timestamp for this request is outside of the recvWindow." / "Timestamp for this request
 * was 1000ms ahead of the server's time."); rest-api.md "Cancel order (TRADE)" (the reply is the order as
 * cancelled, `status` CANCELED with its `executedQty`); enums.md "Order status" (CANCELED "The order has been
 * canceled by the user", after any partial fill); rest-api.md "LIMITS" → "IP Limits" ("A `Retry-After` header is
 * sent with a 418 or 429 responses and will give the number of seconds required to wait, in the case of a 429,
 * to prevent a ban, or, in the case of a 418, until the ban is over"; "Repeatedly violating rate limits and/or
 * failing to back off after receiving 429s will result in an automated IP ban (HTTP status 418)"; limits are
 * per IP); the Spot Test Network FAQ (the testnet is reset about once a month and its data deleted) with
 * errors.md -2013 NO_SUCH_ORDER "Order does not exist.".
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { eventsOf } from '../../kit/orderUpdates';
import { startFakeBinance, type FakeBinance, type FakeBinanceOptions } from '../../fakes/binance/server';
import { brokerFailure as failure } from '../../kit/binance';

let seq = 0;
function order(overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 0.003,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-more-${++seq}`,
    metadata: {},
    ...overrides,
  };
}

describe('Binance adapter: more replies from the spot API documentation', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let updates: OrderUpdate[];
  let sleeps: number[];
  let warnings: string[];
  /** The retry policy's clock: moved by the waits withRetries makes and by the tests. */
  let clockMs: number;

  async function setUp(options: FakeBinanceOptions = {}): Promise<void> {
    fake = await startFakeBinance(options);
    sleeps = [];
    warnings = [];
    clockMs = 0;
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock: new TestClock(),
      timeoutMs: 2000,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: (m) => warnings.push(m),
      retry: {
        now: () => clockMs,
        sleep: async (ms) => {
          sleeps.push(ms);
          clockMs += ms;
        },
      },
    });
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  for (const [label, offset] of [
    ['7 s ahead of ours (our stamps fall outside recvWindow)', 7000],
    ['3 s behind ours (our stamps are "ahead of the server\'s time")', -3000],
  ] as const) {
    it(`Binance's clock ${label}: connect and a submit work on Binance's time, one order placed`, async () => {
      await setUp({ clockOffsetMs: offset });
      await broker.connect();
      assert.ok(fake.requestCount('GET /api/v3/time') >= 1, 'the adapter asked Binance for its time');
      const o = order();
      const r = await broker.submitOrder(o);
      assert.equal(r.status.status, 'filled');
      // Synchronised at connect: the order went once, not refused first.
      assert.equal(fake.requestCount('POST /api/v3/order'), 1);
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });
  }

  it('a clock that drifts off during a session: the -1021 submit is resent once on Binance time; one order', async () => {
    await setUp();
    await broker.connect();
    fake.setClockOffset(8000);
    const o = order();
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.equal(fake.requestCount('POST /api/v3/order'), 2);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    // The next order needs no refusal to learn the time again.
    await broker.submitOrder(order());
    assert.equal(fake.requestCount('POST /api/v3/order'), 3);
  });

  it('a -1021 that persists (Binance cannot tell its time) ends as a retryable error, nothing placed', async () => {
    await setUp();
    await broker.connect();
    // Every attempt is refused as out of recvWindow: what is placed is nothing, and the error says so.
    for (let i = 0; i < 3; i++) fake.injectNext({ kind: 'timestampOutsideRecvWindow' });
    const o = order();
    const e = await failure(broker.submitOrder(o));
    assert.equal(e.retryable, true);
    assert.equal(e.outcomeUnknown, false);
    assert.equal(e.notActed, true);
    assert.equal(e.venueCode, -1021);
    assert.match(e.message, /nothing was placed/);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
  });

  it('a GTC limit filled in part, then cancelled: the part kept as a fill with its fee, then cancelled', async () => {
    await setUp();
    await broker.connect();
    fake.setDepth('BTCUSDT', 'asks', [[30_010, 0.001]]);
    const r = await broker.submitOrder(order({ order_type: { type: 'limit', price: 30_020 } }));
    assert.deepEqual(r.status, { status: 'partially_filled', filled_qty: 0.001 });
    await broker.cancelOrder(r.order_id);
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'cancelled');
    assert.equal(done.filled_quantity, 0.001);
    assert.equal(done.filled_price, 30_010);
    assert.deepEqual(eventsOf(updates, r.order_id), ['fill 0.001', 'cancelled']);
    assert.equal(fake.balance('BTC').locked, 0);
  });

  it('after a 429 with Retry-After 30: nothing is sent for 30 s (orders, quotes, polls), then trading goes on', async () => {
    await setUp();
    await broker.connect();
    const resting = await broker.submitOrder(order({ order_type: { type: 'limit', price: 29_000 } }));
    fake.injectNext({ kind: 'rateLimit', status: 429, retryAfterSeconds: 30 });
    const first = await failure(broker.submitOrder(order()));
    assert.equal(first.reason, 'RATE_LIMITED');
    const sent = fake.requestCount();
    // Within the 30 s: refused here, retryable, with the time left, and nothing reaches Binance.
    clockMs += 10_000;
    const o = order();
    const held = await failure(broker.submitOrder(o));
    assert.equal(held.reason, 'RATE_LIMITED');
    assert.equal(held.retryable, true);
    assert.equal(held.notActed, true);
    assert.equal(held.outcomeUnknown, false);
    assert.equal(held.retryAfterMs, 20_000);
    assert.equal((await failure(broker.getQuote('BTCUSDT'))).reason, 'RATE_LIMITED');
    assert.equal((await failure(broker.getOrderStatus(resting.order_id))).reason, 'RATE_LIMITED');
    await broker.poll();
    assert.equal(fake.requestCount(), sent, 'no request while Binance asked for quiet');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    // Once the 30 s have passed the same order goes, once.
    clockMs += 20_000;
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    assert.equal(fake.requestCount('POST /api/v3/order'), 3);
  });

  it('a 429 with a short Retry-After on a submit: the resend waits it out and is sent; later calls are not held', async () => {
    await setUp();
    await broker.connect();
    fake.injectNext({ kind: 'rateLimit', status: 429, retryAfterSeconds: 2 });
    const o = order();
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.deepEqual(sleeps, [2000]);
    assert.equal(fake.requestCount('POST /api/v3/order'), 2);
    // Answered after the wait: nothing is held any more.
    assert.ok((await broker.getQuote('BTCUSDT')).ask > 0);
    // A 418 (IP ban) on a read holds the orders too: the limits are per IP, not per route.
    const resting = await broker.submitOrder(order({ order_type: { type: 'limit', price: 29_000 } }));
    fake.injectNext({ kind: 'rateLimit', status: 418, retryAfterSeconds: 120, on: 'lookup' });
    assert.equal((await failure(broker.getOrderStatus(resting.order_id))).reason, 'RATE_LIMITED');
    const posts = fake.requestCount('POST /api/v3/order');
    const held = await failure(broker.submitOrder(order()));
    assert.equal(held.retryAfterMs, 120_000);
    assert.equal(fake.requestCount('POST /api/v3/order'), posts);
  });

  it('an order Binance no longer knows (-2013, the testnet was reset) is ended, saying so; later orders still report fills', async () => {
    await setUp();
    await broker.connect();
    const gone = await broker.submitOrder(order({ order_type: { type: 'limit', price: 29_000 } }));
    fake.wipeOrders();
    const mine = await broker.submitOrder(order({ order_type: { type: 'limit', price: 29_000 } }));
    fake.setQuote('BTCUSDT', 28_990, 28_995); // ours fills at the venue
    await broker.poll();
    assert.deepEqual(eventsOf(updates, mine.order_id), ['submitted', 'fill 0.003']);
    // Not left working for ever: ended, with Binance's answer and why it means the end on the testnet.
    assert.deepEqual(eventsOf(updates, gone.order_id), ['submitted', 'cancelled']);
    const ended = updates.filter((u) => u.order.order_id === gone.order_id).at(-1)!.order.status;
    assert.match(
      ended.status === 'cancelled' ? (ended.reason ?? '') : '',
      /^Binance \(testnet\) no longer knows it \(-2013 "Order does not exist\."\), last seen submitted: the testnet deletes every order when it is reset/,
    );
    assert.deepEqual(warnings, []);
    // Ended: the next poll asks nothing about it, and nothing was sent again.
    const lookups = fake.requestCount('GET /api/v3/order');
    await broker.poll();
    assert.equal(fake.requestCount('GET /api/v3/order'), lookups);
    assert.equal(fake.requestCount('POST /api/v3/order'), 2);
  });
});
