import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { TestClock } from '../../../src/common/clock';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

let seq = 0;
function order(orderType: OrderType, overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: orderType,
    quantity: 0.001,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-test-${++seq}`,
    metadata: {},
    ...overrides,
  };
}
const tif = (type: 'GTC' | 'IOC' | 'FOK'): TimeInForce => ({ type });

async function rejection(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

function brokerFor(
  fake: FakeBinance,
  overrides: { apiKey?: string; secret?: string; timeoutMs?: number } = {},
): BinanceBroker {
  return new BinanceBroker({
    environment: 'testnet',
    baseUrl: fake.url,
    credentials: staticCredentials({
      'binance.apiKey': overrides.apiKey ?? fake.apiKey,
      'binance.secret': overrides.secret ?? fake.secret,
    }),
    clock: new TestClock(),
    timeoutMs: overrides.timeoutMs ?? 800,
    pollIntervalMs: 0,
    enableRateLimit: false,
  });
}

describe('Binance adapter against the fake Binance', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let updates: OrderUpdate[];

  beforeEach(async () => {
    fake = await startFakeBinance();
    broker = brokerFor(fake);
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('connects with one exchangeInfo and one account request, all to the fake', () => {
    assert.equal(fake.requestCount('GET /api/v3/exchangeInfo'), 1);
    assert.equal(fake.requestCount('GET /api/v3/account'), 1);
    assert.equal(fake.requestCount(), 2);
    assert.equal(broker.isConnected(), true);
    assert.equal(broker.environment, 'testnet');
  });

  it('fills a market buy at the ask, reporting the fill and the commission in the quote asset', async () => {
    const sent = order({ type: 'market' });
    const res = await broker.submitOrder(sent);
    assert.deepEqual(res.status, { status: 'filled' });
    assert.match(res.order_id, /^BTCUSDT:\d+$/);
    assert.equal(res.client_order_id, sent.client_order_id);
    assert.equal(res.filled_price, 30011);
    assert.equal(res.filled_quantity, 0.001);
    assert.equal(res.fills.length, 1);
    assert.equal(res.fills[0]!.price, 30011);
    // 0.1% of 0.001 BTC charged in BTC, valued at the fill price.
    assert.ok(Math.abs((res.commission ?? 0) - 0.030011) < 1e-9, String(res.commission));
    assert.deepEqual(res.time_in_force, { type: 'GTC' });
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.fill?.quantity, 0.001);
    assert.equal(fake.ordersWithClientId(sent.client_order_id), 1);
  });

  it('rests a GTC limit, lists it as open, then cancels it', async () => {
    const res = await broker.submitOrder(order({ type: 'limit', price: 29000 }));
    assert.deepEqual(res.status, { status: 'submitted' });
    assert.deepEqual(res.order_type, { type: 'limit', price: 29000 });
    assert.equal(fake.balance('USDT').locked, 29);
    const open = await broker.listOpenOrders();
    assert.deepEqual(
      open.map((o) => o.order_id),
      [res.order_id],
    );
    await broker.cancelOrder(res.order_id);
    const after = await broker.getOrderStatus(res.order_id);
    assert.deepEqual(after.status, { status: 'cancelled' });
    assert.equal(fake.balance('USDT').locked, 0);
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['submitted', 'cancelled'],
    );
    assert.deepEqual(await broker.listOpenOrders(), []);
  });

  it('expires an IOC limit that cannot fill and fills a marketable FOK limit', async () => {
    const ioc = await broker.submitOrder(order({ type: 'limit', price: 29000 }, { time_in_force: tif('IOC') }));
    assert.deepEqual(ioc.status, { status: 'expired' });
    assert.deepEqual(ioc.time_in_force, { type: 'IOC' });
    assert.equal(ioc.filled_quantity, null);
    const fok = await broker.submitOrder(order({ type: 'limit', price: 30100 }, { time_in_force: tif('FOK') }));
    assert.deepEqual(fok.status, { status: 'filled' });
    assert.equal(fok.filled_price, 30011);
    assert.deepEqual(fok.time_in_force, { type: 'FOK' });
  });

  it('sends a stop-limit as STOP_LOSS_LIMIT, which triggers and fills when the quote crosses (reported by polling)', async () => {
    const res = await broker.submitOrder(
      order({ type: 'stop_limit', stop_price: 29000, limit_price: 28990 }, { side: 'sell' }),
    );
    assert.deepEqual(res.status, { status: 'submitted' });
    assert.deepEqual(res.order_type, { type: 'stop_limit', stop_price: 29000, limit_price: 28990 });
    fake.setQuote('BTCUSDT', 28995, 28997);
    updates.length = 0;
    await broker.poll();
    assert.equal(updates.length, 1);
    assert.deepEqual(updates[0]!.order.status, { status: 'filled' });
    assert.equal(updates[0]!.order.filled_price, 28995);
  });

  it('sends a stop as STOP_LOSS with its stop price', async () => {
    const res = await broker.submitOrder(order({ type: 'stop', price: 31000 }));
    assert.deepEqual(res.status, { status: 'submitted' });
    assert.deepEqual(res.order_type, { type: 'stop', price: 31000 });
  });

  it('finds an order by id and by client order id; an unknown client id is undefined', async () => {
    const sent = order({ type: 'limit', price: 29500 });
    const res = await broker.submitOrder(sent);
    assert.equal((await broker.getOrderStatus(res.order_id)).client_order_id, sent.client_order_id);
    const byClient = await broker.getOrderByClientId(sent.client_order_id);
    assert.equal(byClient?.order_id, res.order_id);
    assert.equal(fake.requestCount('GET /api/v3/order'), 2);
    const unknown = await rejection(broker.getOrderStatus('BTCUSDT:999999'));
    assert.equal(unknown.reason, 'ORDER_NOT_FOUND');
    assert.equal(unknown.venueCode, -2013);
    // Never sent by this session and not open: Binance needs a symbol to search.
    assert.equal((await rejection(broker.getOrderByClientId('never-sent'))).reason, 'ORDER_NOT_FOUND');
    const searching = new BinanceBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      pollIntervalMs: 0,
      enableRateLimit: false,
      lookupSymbols: ['BTCUSDT'],
    });
    await searching.connect();
    assert.equal(await searching.getOrderByClientId('never-sent'), undefined);
    assert.equal((await searching.getOrderByClientId(sent.client_order_id))?.order_id, res.order_id);
    await searching.disconnect();
  });

  it('after a restart, finds an order it sent earlier by client order id with the symbol the caller knows', async () => {
    const sent = order({ type: 'limit', price: 29500 });
    const res = await broker.submitOrder(sent);
    await broker.cancelOrder(res.order_id); // no longer open: only a look-up within its symbol finds it
    const restarted = brokerFor(fake);
    await restarted.connect();
    try {
      assert.equal((await rejection(restarted.getOrderByClientId(sent.client_order_id))).reason, 'ORDER_NOT_FOUND');
      const found = await restarted.getOrderByClientId(sent.client_order_id, { symbol: 'BTCUSDT' });
      assert.deepEqual([found?.order_id, found?.status.status], [res.order_id, 'cancelled']);
      assert.equal(await restarted.getOrderByClientId('never-sent', { symbol: 'BTCUSDT' }), undefined);
    } finally {
      await restarted.disconnect();
    }
  });

  it('reports the account: USDT cash, buying power, and non-USDT balances as positions', async () => {
    const account = await broker.getAccountInfo();
    assert.equal(account.currency, 'USDT');
    assert.equal(account.balance, 100_000);
    assert.equal(account.buying_power, 100_000);
    assert.equal(account.account_id, 'binance-354937868');
    const positions = await broker.getPositions();
    assert.deepEqual(
      positions.map((p) => [p.symbol, p.quantity, p.current_price]),
      [
        ['BTCUSDT', 1, 30010],
        ['ETHUSDT', 10, 2000.25],
      ],
    );
    assert.equal(account.equity, 100_000 + 30010 + 20002.5);
    await broker.submitOrder(order({ type: 'limit', price: 20000 }, { quantity: 0.5 }));
    const after = await broker.getAccountInfo();
    assert.equal(after.balance, 100_000);
    assert.equal(after.buying_power, 90_000);
  });

  it('reads a quote from the 24h ticker', async () => {
    const q = await broker.getQuote('BTCUSDT');
    assert.equal(q.symbol, 'BTCUSDT');
    assert.equal(q.bid, 30009);
    assert.equal(q.ask, 30011);
    assert.equal(q.bid_size, 1);
    fake.setQuote('BTCUSDT', 31000, 31002);
    assert.equal((await broker.getQuote('BTC/USDT')).ask, 31002);
    assert.equal((await rejection(broker.getQuote('NOPEUSDT'))).reason, 'UNKNOWN_SYMBOL');
  });

  it('reads the instrument filters and refuses an off-tick price or a small notional before sending', async () => {
    const rules = await broker.getInstrument('BTCUSDT');
    assert.deepEqual(rules, {
      symbol: 'BTCUSDT',
      kind: 'crypto',
      tickSize: 0.01,
      lotSize: 0.00001,
      minQuantity: 0.00001,
      quoteCurrency: 'USDT',
      pipSize: 0.01,
    });
    const before = fake.requestCount();
    const offTick = await rejection(broker.submitOrder(order({ type: 'limit', price: 29000.005 })));
    assert.equal(offTick.reason, 'INVALID_ORDER');
    assert.equal(offTick.venueCode, 'PRICE_FILTER');
    assert.match(offTick.message, /PRICE_FILTER/);
    const small = await rejection(broker.submitOrder(order({ type: 'limit', price: 29000 }, { quantity: 0.0001 })));
    assert.equal(small.venueCode, 'NOTIONAL');
    assert.match(small.message, /minimum notional of 5 USDT \(NOTIONAL\)/);
    const offLot = await rejection(broker.submitOrder(order({ type: 'limit', price: 29000 }, { quantity: 0.001005 })));
    assert.equal(offLot.venueCode, 'LOT_SIZE');
    assert.equal(fake.requestCount(), before);
  });

  it('returns a rejected status with Binance’s reason when the venue refuses the order', async () => {
    fake.injectNext({ kind: 'reject' });
    const res = await broker.submitOrder(order({ type: 'market' }));
    assert.equal(res.status.status, 'rejected');
    assert.match(
      res.status.status === 'rejected' ? res.status.reason : '',
      /^INSUFFICIENT_FUNDS: Account has insufficient balance for requested action\. \(Binance code -2010/,
    );
    // A real shortfall, found by the fake's ledger.
    const big = await broker.submitOrder(order({ type: 'limit', price: 29000 }, { quantity: 5 }));
    assert.equal(big.status.status, 'rejected');
    assert.equal(updates.filter((u) => u.order.status.status === 'rejected').length, 2);
  });

  it('refuses GTD and market FOK locally, naming the reason, with nothing sent', async () => {
    const before = fake.requestCount();
    const gtd = await rejection(
      broker.submitOrder(
        order({ type: 'limit', price: 29000 }, { time_in_force: { type: 'GTD', expires_at: Date.now() + 60_000 } }),
      ),
    );
    assert.equal(gtd.reason, 'UNSUPPORTED_ORDER');
    assert.match(gtd.message, /no GTD/);
    const fok = await rejection(broker.submitOrder(order({ type: 'market' }, { time_in_force: tif('FOK') })));
    assert.equal(fok.reason, 'UNSUPPORTED_ORDER');
    assert.equal(fake.requestCount(), before);
    // IOC market orders are sent, without timeInForce (the fake refuses one with -1106).
    assert.deepEqual((await broker.submitOrder(order({ type: 'market' }, { time_in_force: tif('IOC') }))).status, {
      status: 'filled',
    });
  });

  it('fails to connect with a wrong secret or key as AUTHENTICATION, without either value in the message', async () => {
    const badSecret = 'this-is-the-wrong-secret-0123456789';
    const wrong = brokerFor(fake, { secret: badSecret });
    const e = await rejection(wrong.connect());
    assert.equal(e.reason, 'AUTHENTICATION');
    assert.equal(e.venueCode, -1022);
    assert.ok(!e.message.includes(badSecret));
    assert.ok(!e.message.includes(fake.apiKey));
    assert.ok(!JSON.stringify(e.toJSON()).includes(badSecret));
    assert.equal(wrong.isConnected(), false);
    const badKey = 'this-is-the-wrong-api-key-987654';
    const e2 = await rejection(brokerFor(fake, { apiKey: badKey }).connect());
    assert.equal(e2.reason, 'AUTHENTICATION');
    assert.equal(e2.venueCode, -2015);
    assert.ok(!e2.message.includes(badKey));
    assert.ok(!e2.message.includes(fake.secret));
  });

  it('refuses a second open order with the same client order id as DUPLICATE_CLIENT_ORDER_ID', async () => {
    const first = order({ type: 'limit', price: 29000 });
    await broker.submitOrder(first);
    const e = await rejection(broker.submitOrder({ ...first }));
    assert.equal(e.reason, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.equal(fake.ordersWithClientId(first.client_order_id), 1);
  });

  describe('faults', () => {
    it('5xx → VENUE_UNAVAILABLE with an unknown outcome; the look-up finds nothing', async () => {
      fake.injectNext({ kind: 'serverError', status: 503 });
      const sent = order({ type: 'market' });
      const e = await rejection(broker.submitOrder(sent));
      assert.equal(e.reason, 'VENUE_UNAVAILABLE');
      // Binance's own JSON body (-1000 UNKNOWN) on the 503.
      assert.equal(e.venueCode, -1000);
      assert.equal(e.outcomeUnknown, true);
      assert.equal(e.retryable, false);
      assert.equal(await broker.getOrderByClientId(sent.client_order_id), undefined);
    });

    it('429 with a Retry-After past the retry bound → RATE_LIMITED with retryAfterMs, sent once', async () => {
      fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 7 });
      const sent = order({ type: 'market' });
      const e = await rejection(broker.submitOrder(sent));
      assert.equal(e.reason, 'RATE_LIMITED');
      assert.equal(e.retryAfterMs, 7000);
      assert.equal(e.retryable, true);
      assert.equal(e.outcomeUnknown, false);
      assert.equal(fake.requestCount('POST /api/v3/order'), 1);
      assert.equal(fake.ordersWithClientId(sent.client_order_id), 0);
    });

    it('timeout after acceptance → outcomeUnknown; found by client id, exactly one at the venue', async () => {
      fake.injectNext({ kind: 'timeoutAfterAccept' });
      const sent = order({ type: 'market' });
      const e = await rejection(broker.submitOrder(sent));
      assert.equal(e.reason, 'TIMEOUT');
      assert.equal(e.outcomeUnknown, true);
      assert.equal(fake.requestCount('POST /api/v3/order'), 1);
      const found = await broker.getOrderByClientId(sent.client_order_id);
      assert.deepEqual(found?.status, { status: 'filled' });
      assert.equal(fake.ordersWithClientId(sent.client_order_id), 1);
    });

    it('dropped connection after placing → outcomeUnknown; found by client id', async () => {
      fake.injectNext({ kind: 'dropConnection' });
      const sent = order({ type: 'limit', price: 29000 });
      const e = await rejection(broker.submitOrder(sent));
      assert.equal(e.reason, 'NETWORK');
      assert.equal(e.outcomeUnknown, true);
      assert.equal(fake.requestCount('POST /api/v3/order'), 1);
      const found = await broker.getOrderByClientId(sent.client_order_id);
      assert.deepEqual(found?.status, { status: 'submitted' });
      assert.equal(fake.ordersWithClientId(sent.client_order_id), 1);
    });

    it('malformed body → BAD_RESPONSE (outcome unknown); found by client id', async () => {
      fake.injectNext({ kind: 'malformedBody' });
      const sent = order({ type: 'market' });
      const e = await rejection(broker.submitOrder(sent));
      assert.equal(e.reason, 'BAD_RESPONSE');
      assert.equal(e.outcomeUnknown, true);
      assert.equal((await broker.getOrderByClientId(sent.client_order_id))?.status.status, 'filled');
    });

    it('duplicate client id fault → DUPLICATE_CLIENT_ORDER_ID', async () => {
      fake.injectNext({ kind: 'duplicateClientId' });
      const e = await rejection(broker.submitOrder(order({ type: 'market' })));
      assert.equal(e.reason, 'DUPLICATE_CLIENT_ORDER_ID');
      assert.equal(e.venueCode, -2010);
      assert.equal(e.outcomeUnknown, false);
    });

    it('latency only delays the answer', async () => {
      fake.injectNext({ kind: 'latency', ms: 50 });
      assert.deepEqual((await broker.submitOrder(order({ type: 'market' }))).status, { status: 'filled' });
    });
  });

  it('refuses calls before connect with NOT_CONNECTED', async () => {
    const idle = brokerFor(fake);
    assert.equal((await rejection(idle.getQuote('BTCUSDT'))).reason, 'NOT_CONNECTED');
    assert.equal((await rejection(idle.submitOrder(order({ type: 'market' })))).reason, 'NOT_CONNECTED');
  });
});
