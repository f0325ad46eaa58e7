/**
 * The OANDA v20 adapter against the fake v20 venue on 127.0.0.1 (EUR_USD bid 1.09990 / ask 1.10010
 * unless a test moves it); the pure mapping is in oandaMapping.test.ts. Nothing here reaches the internet.
 *
 * Past 450 lines on purpose: one suite over one fake venue whose set-up every group (orders, refusals,
 * account, authentication, faults, rate limit) shares; the pure mapping already lives apart.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { unsupportedReason, type OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { OandaBroker, type OandaBrokerOptions } from '../../../src/brokers/oanda/adapter';
import { RequestLimiter } from '../../../src/brokers/oanda/connection';
import { MARKET_TIF_REFUSAL, STOP_LIMIT_REFUSAL } from '../../../src/brokers/oanda/orders';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda, type FakeOandaOptions } from '../../fakes/oanda/server';
import { nextUpdate } from '../../kit/orderUpdates';

let sequence = 0;
function order(
  side: 'buy' | 'sell',
  quantity: number,
  orderType: OrderType,
  timeInForce: TimeInForce,
  symbol = 'EUR_USD',
): PlacedOrderRequest {
  return {
    symbol,
    side,
    quantity,
    order_type: orderType,
    time_in_force: timeInForce,
    metadata: {},
    client_order_id: `oa-${process.pid}-${++sequence}`,
  };
}
const market: OrderType = { type: 'market' };
const limit = (price: number): OrderType => ({ type: 'limit', price });
const stop = (price: number): OrderType => ({ type: 'stop', price });
const FOK: TimeInForce = { type: 'FOK' };
const IOC: TimeInForce = { type: 'IOC' };
const GTC: TimeInForce = { type: 'GTC' };

/** The BrokerError a call failed with (fails the test when it did not fail that way). */
async function failure(call: Promise<unknown>): Promise<BrokerError> {
  try {
    await call;
  } catch (e) {
    if (isBrokerError(e)) return e;
    throw e;
  }
  assert.fail('expected the call to fail');
}

describe('OANDA v20 adapter', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;
  let updates: OrderUpdate[];
  let warnings: string[];

  async function setUp(fakeOptions: FakeOandaOptions = {}, options: Partial<OandaBrokerOptions> = {}): Promise<void> {
    fake = await startFakeOanda(fakeOptions);
    warnings = [];
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: (m) => warnings.push(m),
      ...options,
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  describe('orders', () => {
    beforeEach(() => setUp());

    it('fills a market FOK buy at the ask and sends signed units, FOK and the client id', async () => {
      const o = order('buy', 100, market, FOK);
      const r = await broker.submitOrder(o);
      assert.equal(r.status.status, 'filled');
      assert.equal(r.filled_price, 1.1001);
      assert.equal(r.filled_quantity, 100);
      assert.equal(r.client_order_id, o.client_order_id);
      assert.equal(r.fills.length, 1);
      assert.equal(r.fills[0]!.price, 1.1001);
      assert.equal(r.fills[0]!.side, 'buy');
      assert.deepEqual(fake.orderBodies()[0], {
        type: 'MARKET',
        instrument: 'EUR_USD',
        units: '100',
        timeInForce: 'FOK',
        positionFill: 'DEFAULT',
        clientExtensions: { id: o.client_order_id },
      });
      assert.equal(updates.length, 1);
      assert.equal(updates[0]!.order.status.status, 'filled');
      assert.equal(updates[0]!.fill?.fill_id, r.fills[0]!.fill_id);
      // Looking it up again reads the fill transaction and changes nothing: no second update.
      const again = await broker.getOrderByClientId(o.client_order_id);
      assert.equal(again?.status.status, 'filled');
      assert.equal(again?.filled_price, 1.1001);
      assert.equal(updates.length, 1);
    });

    it('sells with negative units at the bid (market IOC)', async () => {
      const r = await broker.submitOrder(order('sell', 50, market, IOC));
      assert.equal(r.status.status, 'filled');
      assert.equal(r.filled_price, 1.0999);
      assert.equal(fake.orderBodies()[0]!.units, '-50');
      assert.equal(fake.orderBodies()[0]!.timeInForce, 'IOC');
    });

    it('rests a limit GTC (price at displayPrecision), lists it, then cancels it', async () => {
      const o = order('buy', 1000, limit(1.09), GTC);
      const r = await broker.submitOrder(o);
      assert.equal(r.status.status, 'submitted');
      assert.equal(fake.orderBodies()[0]!.price, '1.09000');
      assert.equal(fake.orderBodies()[0]!.type, 'LIMIT');
      assert.equal(fake.orderBodies()[0]!.timeInForce, 'GTC');
      const open = await broker.listOpenOrders();
      assert.deepEqual(
        open.map((x) => x.order_id),
        [r.order_id],
      );
      assert.deepEqual(open[0]!.order_type, { type: 'limit', price: 1.09 });
      await broker.cancelOrder(r.order_id);
      assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'cancelled');
      assert.deepEqual(
        updates.map((u) => u.order.status.status),
        ['submitted', 'cancelled'],
      );
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
      assert.deepEqual(await broker.listOpenOrders(), []);
    });

    it('sends GTD with gtdTime in RFC 3339 and reads it back', async () => {
      const expires = Date.UTC(2030, 0, 1);
      const r = await broker.submitOrder(order('sell', 10, limit(1.2), { type: 'GTD', expires_at: expires }));
      assert.equal(r.status.status, 'submitted');
      assert.equal(fake.orderBodies()[0]!.gtdTime, '2030-01-01T00:00:00.000Z');
      assert.equal(fake.orderBodies()[0]!.timeInForce, 'GTD');
      const seen = await broker.getOrderStatus(r.order_id);
      assert.deepEqual(seen.time_in_force, { type: 'GTD', expires_at: expires });
      assert.equal(seen.side, 'sell');
      assert.equal(seen.quantity, 10);
    });

    it('rests a stop, and a poll reports its fill once the market reaches it', async () => {
      const r = await broker.submitOrder(order('buy', 100, stop(1.102), GTC));
      assert.equal(r.status.status, 'submitted');
      assert.equal(fake.orderBodies()[0]!.type, 'STOP');
      assert.equal(fake.orderBodies()[0]!.price, '1.10200');
      fake.setQuote('EUR_USD', 1.1021, 1.1023);
      await broker.poll();
      const last = updates[updates.length - 1]!;
      assert.equal(last.order.status.status, 'filled');
      assert.equal(last.order.filled_price, 1.1023);
      assert.equal(last.fill?.price, 1.1023);
      await broker.poll();
      assert.equal(updates.length, 2, 'a poll that sees nothing new emits nothing');
    });

    it('finds orders by id and by client id; unknown ones are ORDER_NOT_FOUND / undefined', async () => {
      const o = order('buy', 5, limit(1.05), GTC);
      const r = await broker.submitOrder(o);
      assert.equal((await broker.getOrderStatus(r.order_id)).client_order_id, o.client_order_id);
      assert.equal((await broker.getOrderByClientId(o.client_order_id))?.order_id, r.order_id);
      assert.equal(await broker.getOrderByClientId('never-sent'), undefined);
      assert.equal((await failure(broker.getOrderStatus('999999'))).reason, 'ORDER_NOT_FOUND');
      assert.equal((await failure(broker.cancelOrder('999999'))).reason, 'ORDER_NOT_FOUND');
    });

    it('refuses to cancel a filled order, naming its state', async () => {
      const r = await broker.submitOrder(order('buy', 1, market, FOK));
      const e = await failure(broker.cancelOrder(r.order_id));
      assert.equal(e.reason, 'INVALID_ORDER');
      assert.match(e.message, /already filled/);
    });

    it('reports a venue rejection with its reason (400 orderRejectTransaction)', async () => {
      fake.injectNext({ kind: 'reject', reason: 'INSUFFICIENT_MARGIN' });
      const o = order('buy', 100, market, FOK);
      const r = await broker.submitOrder(o);
      assert.equal(r.status.status, 'rejected');
      assert.match(r.status.status === 'rejected' ? r.status.reason : '', /INSUFFICIENT_MARGIN/);
      assert.equal(updates[0]!.order.status.status, 'rejected');
      assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    });

    it('reports an order OANDA creates and cancels at once (201 + INSUFFICIENT_MARGIN) as rejected', async () => {
      const r = await broker.submitOrder(order('buy', 100_000_000, market, FOK));
      // OANDA's reason first (the 201 carries no errorMessage), then what it means and what to do.
      assert.deepEqual(r.status, {
        status: 'rejected',
        reason:
          "INSUFFICIENT_MARGIN: the account's available margin does not cover this order: trade fewer units, or add funds",
      });
      assert.equal(r.filled_quantity, null);
    });

    it('reports a GTD order that passed its time as expired (polling)', async () => {
      let venueNow = Date.now();
      await fake.close();
      await broker.disconnect();
      await setUp({ now: () => venueNow }, { pollIntervalMs: 20 });
      const r = await broker.submitOrder(order('buy', 10, limit(1.05), { type: 'GTD', expires_at: venueNow + 60_000 }));
      assert.equal(r.status.status, 'submitted');
      const expired = nextUpdate(broker, (u) => u.order.status.status === 'expired');
      venueNow += 120_000;
      // The adapter's poll finds it (every 20 ms): the test waits for that update, not for a time.
      await expired.promise;
      assert.equal(updates[updates.length - 1]!.order.order_id, r.order_id);
      assert.deepEqual(warnings, []);
    });

    it('refuses a price off the tick and units off the lot locally (nothing sent, never rounded)', async () => {
      await broker.getInstrument('EUR_USD');
      const before = fake.requestCount();
      const price = await failure(broker.submitOrder(order('buy', 1, limit(1.100001), GTC)));
      assert.equal(price.reason, 'INVALID_ORDER');
      assert.match(price.message, /5 decimals/);
      const units = await failure(broker.submitOrder(order('buy', 1.5, market, FOK)));
      assert.equal(units.reason, 'INVALID_ORDER');
      assert.equal(fake.requestCount(), before);
    });

    it('trades fractional units where the instrument allows them (DE30_EUR, 0.1)', async () => {
      const r = await broker.submitOrder(order('buy', 0.5, market, FOK, 'DE30_EUR'));
      assert.equal(r.status.status, 'filled');
      assert.equal(fake.orderBodies()[0]!.units, '0.5');
    });
  });

  describe('refusals before sending', () => {
    beforeEach(() => setUp());

    it('declares stop-limit and market GTC/GTD unsupported with reasons to act on', () => {
      assert.equal(broker.capabilities.orderTypes.stop_limit, false);
      assert.equal(unsupportedReason(broker.capabilities, 'market', 'GTC', broker.displayName), MARKET_TIF_REFUSAL);
      assert.equal(unsupportedReason(broker.capabilities, 'market', 'FOK', broker.displayName), undefined);
      assert.equal(unsupportedReason(broker.capabilities, 'limit', 'GTD', broker.displayName), undefined);
    });

    it('refuses stop-limit, market GTC and market GTD without a request', async () => {
      const before = fake.requestCount();
      const sl = await failure(
        broker.submitOrder(order('buy', 1, { type: 'stop_limit', stop_price: 1.11, limit_price: 1.112 }, GTC)),
      );
      assert.equal(sl.reason, 'UNSUPPORTED_ORDER');
      assert.equal(sl.message, STOP_LIMIT_REFUSAL);
      assert.equal(sl.retryable, false);
      const gtc = await failure(broker.submitOrder(order('buy', 1, market, GTC)));
      assert.equal(gtc.reason, 'UNSUPPORTED_ORDER');
      assert.match(gtc.message, /FOK.*IOC/);
      const gtd = await failure(
        broker.submitOrder(order('buy', 1, market, { type: 'GTD', expires_at: Date.now() + 60_000 })),
      );
      assert.equal(gtd.reason, 'UNSUPPORTED_ORDER');
      assert.equal(fake.requestCount(), before);
      assert.equal(fake.requestCount('POST /orders'), 0);
    });
  });

  describe('account, positions, quotes, instruments', () => {
    beforeEach(() => setUp());

    it('reads the account with its positions', async () => {
      await broker.submitOrder(order('buy', 1000, market, FOK));
      const a = await broker.getAccountInfo();
      assert.equal(a.account_id, fake.accountId);
      assert.equal(a.currency, 'USD');
      assert.equal(a.balance, 100_000);
      assert.ok(Math.abs(a.equity - (100_000 - 0.1)) < 1e-6, `equity ${a.equity}`);
      assert.ok(a.buying_power > 0 && a.buying_power < a.equity);
      assert.equal(a.open_positions.length, 1);
    });

    it('nets positions: long at the average price, short with negative quantity, marked at the mid', async () => {
      await broker.submitOrder(order('buy', 100, market, FOK));
      await broker.submitOrder(order('sell', 30, market, FOK, 'USD_JPY'));
      const positions = await broker.getPositions();
      const eur = positions.find((p) => p.symbol === 'EUR_USD');
      const jpy = positions.find((p) => p.symbol === 'USD_JPY');
      assert.deepEqual(
        { q: eur?.quantity, avg: eur?.average_price, cur: eur?.current_price },
        { q: 100, avg: 1.1001, cur: 1.1 },
      );
      assert.deepEqual(
        { q: jpy?.quantity, avg: jpy?.average_price, cur: jpy?.current_price },
        { q: -30, avg: 150, cur: 150.01 },
      );
      const other = await startFakeOanda();
      try {
        const empty = new OandaBroker({
          baseUrl: other.url,
          credentials: staticCredentials({ 'oanda.token': other.token, 'oanda.accountId': other.accountId }),
          pollIntervalMs: 0,
        });
        await empty.connect();
        assert.deepEqual(await empty.getPositions(), []);
      } finally {
        await other.close();
      }
    });

    it('reads a quote; an unknown symbol is UNKNOWN_SYMBOL', async () => {
      fake.setQuote('EUR_USD', 1.0845, 1.0847);
      const q = await broker.getQuote('EUR_USD');
      assert.deepEqual(
        { bid: q.bid, ask: q.ask, last: q.last, bid_size: q.bid_size },
        { bid: 1.0845, ask: 1.0847, last: 1.0846, bid_size: 1_000_000 },
      );
      assert.ok(Math.abs(q.timestamp - Date.now()) < 60_000);
      assert.equal((await failure(broker.getQuote('NOPE_XYZ'))).reason, 'UNKNOWN_SYMBOL');
      assert.equal(
        (await failure(broker.submitOrder(order('buy', 1, market, FOK, 'NOPE_XYZ')))).reason,
        'UNKNOWN_SYMBOL',
      );
    });

    it('maps instrument precision to rules, once per symbol', async () => {
      assert.deepEqual(await broker.getInstrument('EUR_USD'), {
        symbol: 'EUR_USD',
        kind: 'fx',
        tickSize: 0.00001,
        lotSize: 1,
        minQuantity: 1,
        quoteCurrency: 'USD',
        pipSize: 0.0001,
      });
      const jpy = await broker.getInstrument('USD_JPY');
      assert.deepEqual(
        { tick: jpy.tickSize, pip: jpy.pipSize, ccy: jpy.quoteCurrency },
        { tick: 0.001, pip: 0.01, ccy: 'JPY' },
      );
      const dax = await broker.getInstrument('DE30_EUR');
      assert.deepEqual(
        { kind: dax.kind, lot: dax.lotSize, min: dax.minQuantity, tick: dax.tickSize },
        { kind: 'other', lot: 0.1, min: 0.1, tick: 0.1 },
      );
      await broker.getInstrument('EUR_USD');
      await broker.submitOrder(order('buy', 1, market, FOK));
      assert.equal(fake.requestCount('GET /instruments'), 3);
    });
  });

  describe('authentication and connection', () => {
    it('fails with AUTHENTICATION on a wrong token and never shows the token', async () => {
      fake = await startFakeOanda({ leakyErrors: true });
      const secret = 'wrong-token-SECRET-123456';
      broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.token': secret, 'oanda.accountId': fake.accountId }),
        pollIntervalMs: 0,
      });
      const e = await failure(broker.connect());
      assert.equal(e.reason, 'AUTHENTICATION');
      assert.equal(e.retryable, false);
      assert.ok(!e.message.includes(secret), e.message);
      assert.ok(!JSON.stringify(e.toJSON()).includes(secret));
      assert.ok(!JSON.stringify(e.cause).includes(secret), 'nor in the venue body kept as the cause');
      assert.match(e.message, /\[redacted\]/, 'the fake echoed the header; the adapter redacted it');
      assert.equal(broker.isConnected(), false);
      assert.equal((await failure(broker.getQuote('EUR_USD'))).reason, 'NOT_CONNECTED');
    });

    it('fails with PERMISSION_DENIED on an account id the token does not own', async () => {
      fake = await startFakeOanda();
      broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': '101-001-9-999' }),
        pollIntervalMs: 0,
      });
      assert.equal((await failure(broker.connect())).reason, 'PERMISSION_DENIED');
    });

    it('names the missing credential', async () => {
      fake = await startFakeOanda();
      broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.accountId': fake.accountId }),
        pollIntervalMs: 0,
      });
      const e = await failure(broker.connect());
      assert.equal(e.reason, 'AUTHENTICATION');
      assert.match(e.message, /oanda\.token/);
      assert.equal(fake.requestCount(), 0);
    });

    it('a refused connection is NETWORK, retryable, and not outcome-unknown (nothing was sent)', async () => {
      await setUp();
      const port = await freePort();
      const closed = new OandaBroker({
        baseUrl: `http://127.0.0.1:${port}`,
        credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
        pollIntervalMs: 0,
      });
      const e = await failure(closed.connect());
      assert.equal(e.reason, 'NETWORK');
      assert.equal(e.retryable, true);
      assert.equal(e.outcomeUnknown, false);
    });

    it('defaults to the practice URL; live is opt-in', () => {
      const creds = staticCredentials({});
      assert.equal(new OandaBroker({ credentials: creds }).environment, 'practice');
      assert.equal(new OandaBroker({ credentials: creds }).displayName, 'OANDA (practice)');
      assert.equal(new OandaBroker({ credentials: creds, environment: 'live' }).displayName, 'OANDA (live)');
    });
  });

  describe('faults', () => {
    beforeEach(() => setUp({}, { timeoutMs: 400 }));

    // Was "retryable, outcome known": a plain 500/503 says no more than a gateway's 502/504 (issue 11).
    it('any 5xx on a submit leaves the outcome unknown; the look-up finds nothing placed', async () => {
      for (const status of [500, 503]) {
        fake.injectNext({ kind: 'serverError', status });
        const o = order('buy', 10, market, FOK);
        const e = await failure(broker.submitOrder(o));
        assert.equal(e.reason, 'VENUE_UNAVAILABLE');
        assert.equal(e.retryable, false);
        assert.equal(e.outcomeUnknown, true);
        assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
        assert.equal(await broker.getOrderByClientId(o.client_order_id), undefined);
      }
    });

    it('502/504 on a submit leaves the outcome unknown (a gateway may have passed it on)', async () => {
      fake.injectNext({ kind: 'serverError', status: 504 });
      const e = await failure(broker.submitOrder(order('buy', 10, market, FOK)));
      assert.equal(e.reason, 'VENUE_UNAVAILABLE');
      assert.equal(e.outcomeUnknown, true);
      assert.equal(e.retryable, false);
    });

    it('429 with a Retry-After past the retry bound → RATE_LIMITED with retryAfterMs from Retry-After', async () => {
      fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 6 });
      const o = order('buy', 10, market, FOK);
      const e = await failure(broker.submitOrder(o));
      assert.equal(e.reason, 'RATE_LIMITED');
      assert.equal(e.retryAfterMs, 6000);
      assert.equal(e.retryable, true);
      assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    });

    it('timeoutAfterAccept → TIMEOUT, outcome unknown, and the order is found by client id (exactly one)', async () => {
      fake.injectNext({ kind: 'timeoutAfterAccept' });
      const o = order('buy', 10, limit(1.05), GTC);
      const e = await failure(broker.submitOrder(o));
      assert.equal(e.reason, 'TIMEOUT');
      assert.equal(e.outcomeUnknown, true);
      assert.equal(e.retryable, false);
      const found = await broker.getOrderByClientId(o.client_order_id);
      assert.equal(found?.status.status, 'submitted');
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
      assert.equal(fake.requestCount('POST /orders'), 1);
    });

    it('dropConnection → NETWORK, outcome unknown, and the order is found by client id', async () => {
      fake.injectNext({ kind: 'dropConnection' });
      const o = order('buy', 10, market, FOK);
      const e = await failure(broker.submitOrder(o));
      assert.equal(e.reason, 'NETWORK');
      assert.equal(e.outcomeUnknown, true);
      const found = await broker.getOrderByClientId(o.client_order_id);
      assert.equal(found?.status.status, 'filled');
      assert.equal(found?.filled_price, 1.1001);
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });

    it('malformedBody → BAD_RESPONSE naming the field, outcome unknown (the order was placed)', async () => {
      fake.injectNext({ kind: 'malformedBody' });
      const o = order('buy', 10, limit(1.05), GTC);
      const e = await failure(broker.submitOrder(o));
      assert.equal(e.reason, 'BAD_RESPONSE');
      assert.equal(e.outcomeUnknown, true);
      assert.match(e.message, /orderCreateTransaction\.id/);
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });

    it('duplicate client id (injected, and a real reuse) → DUPLICATE_CLIENT_ORDER_ID', async () => {
      fake.injectNext({ kind: 'duplicateClientId' });
      const first = order('buy', 10, limit(1.05), GTC);
      assert.equal((await failure(broker.submitOrder(first))).reason, 'DUPLICATE_CLIENT_ORDER_ID');
      await broker.submitOrder(first);
      const e = await failure(broker.submitOrder({ ...first, quantity: 20 }));
      assert.equal(e.reason, 'DUPLICATE_CLIENT_ORDER_ID');
      assert.equal(fake.ordersWithClientId(first.client_order_id), 1);
    });

    it('latency within the timeout is just slower', async () => {
      fake.injectNext({ kind: 'latency', ms: 100 });
      const r = await broker.submitOrder(order('buy', 10, market, FOK));
      assert.equal(r.status.status, 'filled');
    });
  });

  describe('rate limit', () => {
    it('keeps at most maxRequestsPerSecond in any second', async () => {
      await setUp({}, { maxRequestsPerSecond: 3 });
      const start = Date.now();
      // Five different look-ups (identical reads in flight would share one request).
      await Promise.all([1, 2, 3, 4, 5].map((i) => broker.getOrderByClientId(`rate-${i}`)));
      // connect() used one slot: 6 requests at 3/s need more than one second.
      assert.ok(Date.now() - start >= 900, `took ${Date.now() - start} ms`);
      assert.equal(fake.requestCount('GET /orders/{spec}'), 5);
    });

    it('RequestLimiter on an injected clock', async () => {
      let t = 0;
      // The limiter's waits end when the test says so: no timer, the clock moves by hand.
      const waits: Array<{ ms: number; end: () => void }> = [];
      const limiter = new RequestLimiter(
        2,
        () => t,
        (ms) => new Promise<void>((end) => waits.push({ ms, end })),
      );
      await limiter.take();
      await limiter.take();
      let third = false;
      const p = limiter.take().then(() => (third = true));
      assert.deepEqual(
        waits.map((w) => w.ms),
        [1001],
        'the third take waits for the first slot to leave the window',
      );
      await Promise.resolve();
      assert.equal(third, false);
      t = 1000;
      waits.shift()!.end();
      await p;
      assert.equal(third, true);
      assert.equal(waits.length, 0, 'a slot was free once the clock moved');
    });
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
