/**
 * The Alpaca adapter through the real SDK against the fake Alpaca on 127.0.0.1 (never the internet); the
 * pure translation is in alpacaMapping.test.ts. Market: AAPL bid 150.00 / ask 150.10.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { GTD_REASON, toAlpacaOrder } from '../../../src/brokers/alpaca/orders';
import { decimalString } from '../../../src/brokers/alpaca/wire';
import { unsupportedReason, type OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { newClientOrderId } from '../../../src/common/ids';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';
import { nextUpdate } from '../../kit/orderUpdates';

const POST = 'POST /v2/orders';

function order(
  orderType: OrderType,
  tif: TimeInForce = { type: 'GTC' },
  extra: Partial<PlacedOrderRequest> = {},
): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: orderType,
    quantity: 10,
    time_in_force: tif,
    client_order_id: newClientOrderId('t'),
    metadata: {},
    ...extra,
  };
}

async function rejects(p: Promise<unknown>, check: (e: BrokerError) => void): Promise<BrokerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    check(e);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('Alpaca adapter against the fake Alpaca', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;
  let updates: OrderUpdate[];

  const make = (extra: { keyId?: string; secret?: string; timeoutMs?: number } = {}) =>
    new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({
        'alpaca.keyId': extra.keyId ?? FAKE_ALPACA_KEY_ID,
        'alpaca.secretKey': extra.secret ?? FAKE_ALPACA_SECRET,
      }),
      timeoutMs: extra.timeoutMs ?? 5000,
      pollIntervalMs: 0,
    });

  beforeEach(async () => {
    fake = await startFakeAlpaca({ echoCredentialsOn401: true });
    fake.setQuote('AAPL', 150, 150.1);
    fake.setQuote('BTC/USD', 60_000, 60_010);
    broker = make();
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('fills a market order at the ask, with one synthesised fill, an update and a position', async () => {
    const o = order({ type: 'market' });
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.equal(r.client_order_id, o.client_order_id);
    assert.equal(r.filled_price, 150.1);
    assert.equal(r.filled_quantity, 10);
    assert.equal(r.fills.length, 1);
    assert.deepEqual(
      { id: r.fills[0]!.fill_id, qty: r.fills[0]!.quantity, price: r.fills[0]!.price },
      { id: `${r.order_id}:10`, qty: 10, price: 150.1 },
    );
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.fill?.fill_id, `${r.order_id}:10`);
    assert.equal(fake.requestCount(POST), 1);
    const [position] = await broker.getPositions();
    assert.deepEqual(position, {
      symbol: 'AAPL',
      quantity: 10,
      average_price: 150.1,
      current_price: 150.05,
      unrealized_pnl: -0.5,
    });
    // Looking again changes nothing: no second update, same fill id.
    const again = await broker.getOrderStatus(r.order_id);
    assert.equal(again.fills[0]!.fill_id, r.fills[0]!.fill_id);
    assert.equal(updates.length, 1);
  });

  it('sends the wire body Alpaca documents (strings, snake_case, our client id)', () => {
    const o = order({ type: 'stop_limit', stop_price: 151, limit_price: 151.5 }, { type: 'GTC' }, { quantity: 3 });
    assert.deepEqual(toAlpacaOrder(o), {
      symbol: 'AAPL',
      qty: '3',
      side: 'buy',
      type: 'stop_limit',
      time_in_force: 'gtc',
      stop_price: '151',
      limit_price: '151.5',
      client_order_id: o.client_order_id,
    });
    assert.equal(decimalString(0.0001), '0.0001');
  });

  it('rests a limit order, lists it open, then cancels it (DELETE → 204) and reports the cancel', async () => {
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    assert.equal(r.status.status, 'submitted');
    assert.deepEqual(
      (await broker.listOpenOrders()).map((o) => o.order_id),
      [r.order_id],
    );
    await broker.cancelOrder(r.order_id);
    assert.equal(fake.requestCount('DELETE /v2/orders/:id'), 1);
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'cancelled');
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['submitted', 'cancelled'],
    );
    assert.deepEqual(await broker.listOpenOrders(), []);
    await rejects(broker.cancelOrder(r.order_id), (e) => assert.equal(e.reason, 'INVALID_ORDER'));
    await rejects(broker.cancelOrder('no-such-order'), (e) => assert.equal(e.reason, 'ORDER_NOT_FOUND'));
  });

  it('rests a stop until the market reaches it, then fills; polling reports the fill', async () => {
    const r = await broker.submitOrder(order({ type: 'stop', price: 151 }));
    assert.equal(r.status.status, 'submitted');
    fake.setQuote('AAPL', 151.1, 151.2);
    await broker.pollOpenOrders();
    const last = updates[updates.length - 1]!;
    assert.equal(last.order.status.status, 'filled');
    assert.equal(last.fill?.price, 151.2);
    assert.equal(last.fill?.quantity, 10);
  });

  it('triggers a stop-limit and fills it at its limit when it rests', async () => {
    const r = await broker.submitOrder(
      order({ type: 'stop_limit', stop_price: 151, limit_price: 151.05 }, { type: 'GTC' }, { quantity: 2 }),
    );
    assert.equal(r.status.status, 'submitted');
    fake.setQuote('AAPL', 151, 151.2); // triggered, but the ask is above the limit
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'submitted');
    fake.setQuote('AAPL', 150.9, 151);
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.filled_price, 151.05);
    assert.equal(done.fills[0]!.liquidity, 'maker');
  });

  it('synthesises one fill per change in filled_qty, with stable ids and exact prices', async () => {
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.partialFill(r.order_id, 4, 149);
    const partial = await broker.getOrderStatus(r.order_id);
    assert.deepEqual(partial.status, { status: 'partially_filled', filled_qty: 4 });
    fake.partialFill(r.order_id, 6, 148.9);
    const full = await broker.getOrderStatus(r.order_id);
    assert.equal(full.status.status, 'filled');
    assert.deepEqual(
      full.fills.map((f) => [f.fill_id, f.quantity, f.price]),
      [
        [`${r.order_id}:4`, 4, 149],
        [`${r.order_id}:10`, 6, 148.9],
      ],
    );
    assert.deepEqual(
      updates.map((u) => [u.order.status.status, u.fill?.quantity]),
      [
        ['submitted', undefined],
        ['partially_filled', 4],
        ['filled', 6],
      ],
    );
  });

  it('finds orders by id and by client id; an unknown client id is undefined, an unknown id ORDER_NOT_FOUND', async () => {
    const o = order({ type: 'limit', price: 149 });
    const r = await broker.submitOrder(o);
    assert.equal((await broker.getOrderStatus(r.order_id)).client_order_id, o.client_order_id);
    assert.equal((await broker.getOrderByClientId(o.client_order_id))?.order_id, r.order_id);
    assert.equal(await broker.getOrderByClientId('never-sent'), undefined);
    await rejects(broker.getOrderStatus('nope'), (e) => assert.equal(e.reason, 'ORDER_NOT_FOUND'));
  });

  it('reads the account, positions, quotes and instrument rules', async () => {
    await broker.submitOrder(order({ type: 'market' }, { type: 'GTC' }, { quantity: 2 }));
    const account = await broker.getAccountInfo();
    assert.equal(account.account_id, '904837e3-3b76-47ec-b432-046db621571b');
    assert.equal(account.currency, 'USD');
    assert.equal(account.balance, 100_000 - 300.2);
    assert.equal(account.open_positions.length, 1);
    assert.ok(account.buying_power > 0);
    const q = await broker.getQuote('AAPL');
    assert.deepEqual([q.bid, q.ask, q.bid_size, q.ask_size, q.last], [150, 150.1, 2, 1, 150.05]);
    const btc = await broker.getQuote('BTC/USD');
    assert.deepEqual([btc.bid, btc.ask], [60_000, 60_010]);
    assert.deepEqual(await broker.getInstrument('AAPL'), {
      symbol: 'AAPL',
      kind: 'equity',
      tickSize: 0.01,
      lotSize: 1,
      minQuantity: 1,
      quoteCurrency: 'USD',
      pipSize: 0.01,
    });
    const btcRules = await broker.getInstrument('BTC/USD');
    assert.equal(btcRules.kind, 'crypto');
    assert.equal(btcRules.tickSize, 1);
    await rejects(broker.getQuote('ZZZZ'), (e) => assert.equal(e.reason, 'UNKNOWN_SYMBOL'));
  });

  it("returns the venue's rejection with its reason (403 insufficient buying power → INSUFFICIENT_FUNDS), nothing placed", async () => {
    const o = order({ type: 'market' }, { type: 'GTC' }, { quantity: 10_000 });
    const updates: string[] = [];
    const sub = broker.onOrderUpdate((u) => updates.push(`${u.order.client_order_id} ${u.order.status.status}`));
    const rejected = await broker.submitOrder(o);
    sub.dispose();
    assert.equal(rejected.status.status, 'rejected');
    assert.ok(
      rejected.status.status === 'rejected' &&
        /^INSUFFICIENT_FUNDS: .*insufficient buying power; open buy orders take from Alpaca's buying power and a market buy is valued above the current price: trade fewer shares/.test(
          rejected.status.reason,
        ),
      JSON.stringify(rejected.status),
    );
    assert.equal(rejected.client_order_id, o.client_order_id);
    assert.deepEqual(updates, [`${o.client_order_id} rejected`]);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    fake.injectNext({ kind: 'reject', reason: 'insufficient qty available for order' });
    const again = await broker.submitOrder(order({ type: 'market' }));
    assert.ok(
      again.status.status === 'rejected' && again.status.reason.startsWith('INSUFFICIENT_FUNDS'),
      JSON.stringify(again.status),
    );
  });

  it('refuses GTD, IOC/FOK stops, crypto stops, fractional shares and sub-penny prices before sending', async () => {
    const before = fake.requestCount();
    await rejects(
      broker.submitOrder(order({ type: 'limit', price: 149 }, { type: 'GTD', expires_at: Date.now() + 3600_000 })),
      (e) => {
        assert.equal(e.reason, 'UNSUPPORTED_ORDER');
        assert.match(e.message, /GTC/);
        assert.match(e.message, /cancel/);
      },
    );
    await rejects(broker.submitOrder(order({ type: 'stop', price: 151 }, { type: 'IOC' })), (e) =>
      assert.equal(e.reason, 'UNSUPPORTED_ORDER'),
    );
    await rejects(
      broker.submitOrder(order({ type: 'stop_limit', stop_price: 151, limit_price: 152 }, { type: 'FOK' })),
      (e) => assert.equal(e.reason, 'UNSUPPORTED_ORDER'),
    );
    await rejects(broker.submitOrder(order({ type: 'market' }, { type: 'GTC' }, { quantity: 1.5 })), (e) =>
      assert.match(e.message, /fractional/),
    );
    await rejects(broker.submitOrder(order({ type: 'limit', price: 149.123 })), (e) =>
      assert.match(e.message, /increment 0\.01/),
    );
    await rejects(
      broker.submitOrder(
        order({ type: 'stop', price: 61_000 }, { type: 'GTC' }, { symbol: 'BTC/USD', quantity: 0.01 }),
      ),
      (e) => assert.match(e.message, /stop-limit/),
    );
    assert.equal(fake.requestCount(), before);
    assert.equal(fake.requestCount(POST), 0);
    // Sub-dollar equities may use four decimals.
    assert.equal(toAlpacaOrder(order({ type: 'limit', price: 0.5123 })).limit_price, '0.5123');
    assert.equal(unsupportedReason(broker.capabilities, 'stop', 'IOC', 'Alpaca') !== undefined, true);
    assert.equal(broker.capabilities.unsupported?.find((u) => u.timeInForce === 'GTD')?.reason, GTD_REASON);
  });

  it('trades crypto with the asset increments (fractional quantity, IOC)', async () => {
    const r = await broker.submitOrder(
      order({ type: 'limit', price: 60_020 }, { type: 'IOC' }, { symbol: 'BTC/USD', quantity: 0.015 }),
    );
    assert.equal(r.status.status, 'filled');
    assert.equal(r.filled_quantity, 0.015);
    await rejects(
      broker.submitOrder(
        order({ type: 'limit', price: 60_000.5 }, { type: 'GTC' }, { symbol: 'BTC/USD', quantity: 0.01 }),
      ),
      (e) => assert.equal(e.reason, 'UNSUPPORTED_ORDER'),
    );
  });

  it('fails authentication with AUTHENTICATION and never shows the key or secret, even when the venue echoes them', async () => {
    const secret = 'wrong-secret-value-XYZ';
    const keyId = 'PKWRONGKEYID42';
    const bad = make({ keyId, secret });
    const e = await rejects(bad.connect(), (err) => {
      assert.equal(err.reason, 'AUTHENTICATION');
      assert.equal(err.retryable, false);
    });
    assert.ok(!e.message.includes(secret), e.message);
    assert.ok(!e.message.includes(keyId), e.message);
    assert.ok(!JSON.stringify(e.toJSON()).includes(secret));
    assert.match(e.message, /\[redacted\]/);
    assert.equal(bad.isConnected(), false);
    const missing = new AlpacaBroker({ baseUrl: fake.url, credentials: staticCredentials({}), pollIntervalMs: 0 });
    await rejects(missing.connect(), (err) => assert.match(err.message, /alpaca\.keyId/));
  });

  describe('faults', () => {
    // Was "retryable, not outcomeUnknown": a 5xx does not prove Alpaca did nothing (issue 11).
    it('5xx on a submit → VENUE_UNAVAILABLE with an unknown outcome, never resent; nothing placed here', async () => {
      fake.injectNext({ kind: 'serverError', status: 503 });
      const o = order({ type: 'market' });
      await rejects(broker.submitOrder(o), (e) => {
        assert.equal(e.reason, 'VENUE_UNAVAILABLE');
        assert.equal(e.retryable, false);
        assert.equal(e.outcomeUnknown, true);
      });
      assert.equal(await broker.getOrderByClientId(o.client_order_id), undefined);
      assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
      assert.equal(fake.requestCount(POST), 1);
    });

    it('429 with a Retry-After past the retry bound → RATE_LIMITED with retryAfterMs, sent once (the SDK never retries)', async () => {
      fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 7 });
      await rejects(broker.submitOrder(order({ type: 'market' })), (e) => {
        assert.equal(e.reason, 'RATE_LIMITED');
        assert.equal(e.retryAfterMs, 7000);
        assert.equal(e.retryable, true);
        assert.equal(e.outcomeUnknown, false);
      });
      assert.equal(fake.requestCount(POST), 1);
    });

    it('timeoutAfterAccept → TIMEOUT outcomeUnknown (no retry); found by client id afterwards, exactly one at the venue', async () => {
      await broker.disconnect();
      broker = make({ timeoutMs: 300 });
      await broker.connect();
      fake.injectNext({ kind: 'timeoutAfterAccept' });
      const o = order({ type: 'market' });
      await rejects(broker.submitOrder(o), (e) => {
        assert.equal(e.reason, 'TIMEOUT');
        assert.equal(e.outcomeUnknown, true);
        assert.equal(e.retryable, false);
      });
      assert.equal(fake.requestCount(POST), 1);
      const found = await broker.getOrderByClientId(o.client_order_id);
      assert.equal(found?.status.status, 'filled');
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });

    it('dropConnection → NETWORK outcomeUnknown; found by client id afterwards', async () => {
      fake.injectNext({ kind: 'dropConnection' });
      const o = order({ type: 'limit', price: 149 });
      await rejects(broker.submitOrder(o), (e) => {
        assert.equal(e.reason, 'NETWORK');
        assert.equal(e.outcomeUnknown, true);
      });
      assert.equal(fake.requestCount(POST), 1);
      assert.equal((await broker.getOrderByClientId(o.client_order_id))?.status.status, 'submitted');
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });

    it('malformedBody → BAD_RESPONSE naming the field (and outcomeUnknown: the order was placed)', async () => {
      fake.injectNext({ kind: 'malformedBody' });
      const o = order({ type: 'market' });
      await rejects(broker.submitOrder(o), (e) => {
        assert.equal(e.reason, 'BAD_RESPONSE');
        assert.match(e.message, /status/);
        assert.equal(e.outcomeUnknown, true);
      });
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });

    it('duplicate client id → DUPLICATE_CLIENT_ORDER_ID (injected, and for real on a reused id)', async () => {
      fake.injectNext({ kind: 'duplicateClientId' });
      await rejects(broker.submitOrder(order({ type: 'market' })), (e) =>
        assert.equal(e.reason, 'DUPLICATE_CLIENT_ORDER_ID'),
      );
      const o = order({ type: 'limit', price: 149 });
      await broker.submitOrder(o);
      await rejects(broker.submitOrder(o), (e) => {
        assert.equal(e.reason, 'DUPLICATE_CLIENT_ORDER_ID');
        assert.equal(e.venueCode, 40010001);
      });
      assert.equal(fake.ordersWithClientId(o.client_order_id), 1);
    });

    it('latency is only latency', async () => {
      fake.injectNext({ kind: 'latency', ms: 50 });
      assert.equal((await broker.submitOrder(order({ type: 'market' }))).status.status, 'filled');
    });
  });

  it('polls open orders on a timer while connected and emits the fill', async () => {
    const polled = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      pollIntervalMs: 20,
    });
    await polled.connect();
    const seen: OrderUpdate[] = [];
    polled.onOrderUpdate((u) => seen.push(u));
    try {
      const r = await polled.submitOrder(order({ type: 'limit', price: 149 }));
      const filled = nextUpdate(polled, (u) => u.order.status.status === 'filled');
      fake.setQuote('AAPL', 148.8, 148.9);
      // The adapter's poll (every 20 ms) finds the fill: the test waits for that update, not for a time.
      await filled.promise;
      const fill = seen.find((u) => u.order.status.status === 'filled');
      assert.equal(fill?.order.order_id, r.order_id);
      assert.equal(fill?.fill?.price, 149);
    } finally {
      await polled.disconnect();
    }
  });

  it('is not connected before connect and after disconnect', async () => {
    await broker.disconnect();
    await rejects(broker.getQuote('AAPL'), (e) => assert.equal(e.reason, 'NOT_CONNECTED'));
  });
});
