/**
 * The Binance adapter, through the real ccxt client, against replies the spot API documents that the fake's
 * default matching never produced: FULL responses with one fill per price level, orders that end EXPIRED
 * after a partial fill, EXPIRED_IN_MATCH, fees paid in BNB, a cancel that comes after the fill, and the
 * error codes of a refused request.
 *
 * Sources (binance-spot-api-docs): rest-api.md "New order (TRADE)" (newOrderRespType FULL: `fills[]` with
 * `price, qty, commission, commissionAsset, tradeId`), "Cancel order (TRADE)", "HTTP Return Codes" (429, 418,
 * `Retry-After`); enums.md "Order status" (EXPIRED: "LIMIT FOK orders with no fill, LIMIT IOC or MARKET orders
 * that partially fill"; EXPIRED_IN_MATCH: "expired by the exchange due to STP"); errors.md (-1013 filter
 * failure, -2010 NEW_ORDER_REJECTED, -2011 CANCEL_REJECTED "Unknown order sent.", -1021 INVALID_TIMESTAMP).
 */
import { eventsOf as updateEvents } from '../../kit/orderUpdates';
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { TestClock } from '../../../src/common/clock';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import {
  DEFAULT_SYMBOLS,
  startFakeBinance,
  type FakeBinance,
  type FakeBinanceOptions,
} from '../../fakes/binance/server';

let seq = 0;
function order(orderType: OrderType, overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: orderType,
    quantity: 0.003,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-doc-${++seq}`,
    metadata: {},
    ...overrides,
  };
}
const tif = (type: 'GTC' | 'IOC' | 'FOK'): TimeInForce => ({ type });
const market: OrderType = { type: 'market' };

async function rejection(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('Binance adapter: replies from the spot API documentation', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let updates: OrderUpdate[];
  let warnings: string[];

  async function setUp(options: FakeBinanceOptions = {}): Promise<void> {
    fake = await startFakeBinance(options);
    warnings = [];
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock: new TestClock(),
      timeoutMs: 800,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: (m: string) => warnings.push(m),
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  const eventsOf = (orderId: string): string[] => updateEvents(updates, orderId);

  it('a FULL reply with one fill per level: each fill with its price, tradeId and commission valued in USDT', async () => {
    await setUp();
    fake.setDepth('BTCUSDT', 'asks', [
      [30_010, 0.001],
      [30_011, 0.001],
      [30_012, 0.005],
    ]);
    const r = await broker.submitOrder(order(market));
    assert.equal(r.status.status, 'filled');
    assert.deepEqual(
      r.fills.map((f) => [f.quantity, f.price]),
      [
        [0.001, 30_010],
        [0.001, 30_011],
        [0.001, 30_012],
      ],
    );
    assert.equal(new Set(r.fills.map((f) => f.fill_id)).size, 3);
    assert.equal(r.filled_price, 30_011);
    // A buy's fee is charged in BTC (0.1 % of each fill): valued at each fill's price, in USDT.
    assert.ok(Math.abs((r.commission ?? 0) - 0.090033) < 1e-6, String(r.commission));
    assert.deepEqual(eventsOf(r.order_id), ['fill 0.001', 'fill 0.001', 'fill 0.001']);
    assert.equal(fake.requestCount('GET /api/v3/myTrades'), 0); // the reply listed its fills
  });

  it('a MARKET order the book cannot fill ends EXPIRED with its partial fill kept and reported first', async () => {
    await setUp();
    fake.setDepth('BTCUSDT', 'asks', [[30_010, 0.002]]);
    const r = await broker.submitOrder(order(market));
    assert.equal(r.status.status, 'expired');
    assert.equal(r.filled_quantity, 0.002);
    assert.equal(r.fills.length, 1);
    assert.deepEqual(eventsOf(r.order_id), ['fill 0.002', 'expired']);
    const again = await broker.getOrderStatus(r.order_id);
    assert.equal(again.status.status, 'expired');
    assert.equal(again.filled_quantity, 0.002);
    assert.deepEqual(eventsOf(r.order_id), ['fill 0.002', 'expired']);
  });

  it('IOC limit filled in part: EXPIRED with the part; FOK that cannot fill in full: EXPIRED with nothing', async () => {
    await setUp();
    fake.setDepth('BTCUSDT', 'asks', [
      [30_010, 0.001],
      [30_050, 0.01],
    ]);
    const ioc = await broker.submitOrder(order({ type: 'limit', price: 30_020 }, { time_in_force: tif('IOC') }));
    assert.equal(ioc.status.status, 'expired');
    assert.equal(ioc.filled_quantity, 0.001);
    const fok = await broker.submitOrder(order({ type: 'limit', price: 30_020 }, { time_in_force: tif('FOK') }));
    assert.equal(fok.status.status, 'expired');
    assert.equal(fok.filled_quantity, null);
    assert.deepEqual(fok.fills, []);
  });

  it('EXPIRED_IN_MATCH (self-trade prevention) is ended by Binance with its reason, nothing filled', async () => {
    await setUp();
    fake.preventNextMatch();
    const r = await broker.submitOrder(order(market));
    assert.equal(r.status.status, 'cancelled');
    assert.match(r.status.status === 'cancelled' ? (r.status.reason ?? '') : '', /self-trade prevention/);
    assert.deepEqual(r.fills, []);
  });

  const withBnb: FakeBinanceOptions = {
    bnbFeePrice: 600,
    balances: { USDT: 100_000, BTC: 1, BNB: 5 },
    symbols: [
      ...DEFAULT_SYMBOLS,
      {
        symbol: 'BNBUSDT',
        baseAsset: 'BNB',
        quoteAsset: 'USDT',
        tickSize: 0.1,
        stepSize: 0.001,
        minQty: 0.001,
        minNotional: 5,
        bid: 599.9,
        ask: 600.1,
      },
    ],
  };

  it('fees paid in BNB are valued in the quote asset at the BNB/USDT price, not reported as zero', async () => {
    await setUp(withBnb);
    const r = await broker.submitOrder(order(market));
    assert.equal(r.status.status, 'filled');
    assert.equal(r.fills[0]!.quantity, 0.003);
    // 0.003 × 30011 × 0.001 = 0.090033 USDT, charged as 0.00015006 BNB (8 decimals), valued at the BNB mid
    // (600): 0.090036.
    assert.equal(r.commission, 0.090036);
    assert.equal(r.fills[0]!.commission, 0.090036);
    assert.deepEqual(warnings, []);
  });

  it('fees in an asset with no market to value them in are counted as 0, and that is said once', async () => {
    await setUp({ bnbFeePrice: 600, balances: { USDT: 100_000, BTC: 1, BNB: 5 } });
    await broker.submitOrder(order(market));
    await broker.submitOrder(order(market));
    assert.equal(
      warnings.filter((w) => /fees on BTCUSDT in BNB.*counted as 0/.test(w)).length,
      1,
      JSON.stringify(warnings),
    );
  });

  it('a limit that fills after it rested: the fill and its fee come from the trade list, not as zero', async () => {
    await setUp();
    const r = await broker.submitOrder(order({ type: 'limit', price: 29_000 }));
    fake.setQuote('BTCUSDT', 28_990, 28_995);
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.fills.length, 1);
    const f = done.fills[0]!;
    assert.equal(f.price, 29_000);
    assert.equal(f.liquidity, 'maker');
    assert.match(f.fill_id, /^BTCUSDT:\d+$/);
    // A buy's fee is 0.1 % of the BTC received, valued at the fill price: 0.000003 × 29000.
    assert.ok(Math.abs(f.commission - 0.087) < 1e-9, String(f.commission));
    assert.ok(Math.abs((done.commission ?? 0) - 0.087) < 1e-9, String(done.commission));
    const fillUpdate = updates.find((u) => u.order.order_id === r.order_id && u.fill);
    assert.ok(fillUpdate && Math.abs(fillUpdate.fill!.commission - 0.087) < 1e-9);
    // Looked up again: nothing new, and the trade list is not read again.
    const before = fake.requestCount('GET /api/v3/myTrades');
    await broker.getOrderStatus(r.order_id);
    assert.equal(fake.requestCount('GET /api/v3/myTrades'), before);
    assert.equal(updates.filter((u) => u.order.order_id === r.order_id && u.fill).length, 1);
  });

  it('a GTC limit filled in part on arrival and the rest later (found by a poll): each fill once, with its fee', async () => {
    await setUp();
    fake.setDepth('BTCUSDT', 'asks', [[30_010, 0.001]]);
    const r = await broker.submitOrder(order({ type: 'limit', price: 30_020 }));
    assert.deepEqual(r.status, { status: 'partially_filled', filled_qty: 0.001 });
    fake.setQuote('BTCUSDT', 30_000, 30_015); // the rest trades at the limit, as a maker
    await broker.poll();
    const fills = updates.filter((u) => u.order.order_id === r.order_id && u.fill).map((u) => u.fill!);
    assert.deepEqual(
      fills.map((f) => [f.quantity, f.price, f.liquidity]),
      [
        [0.001, 30_010, 'taker'],
        [0.002, 30_020, 'maker'],
      ],
    );
    assert.ok(Math.abs(fills[1]!.commission - 0.002 * 0.001 * 30_020) < 1e-9, String(fills[1]!.commission));
    assert.equal(updates[updates.length - 1]!.order.status.status, 'filled');
  });

  it('a cancel answered -2011 because the order already filled names the fill, and reports it', async () => {
    await setUp();
    const r = await broker.submitOrder(order({ type: 'limit', price: 29_000 }));
    assert.equal(r.status.status, 'submitted');
    fake.setQuote('BTCUSDT', 28_990, 28_995); // fills at the venue; the adapter has not looked yet
    const e = await rejection(broker.cancelOrder(r.order_id));
    assert.equal(e.reason, 'INVALID_ORDER', e.message);
    assert.match(e.message, /filled/);
    assert.deepEqual(eventsOf(r.order_id), ['submitted', 'fill 0.003']);
    assert.equal(updates[updates.length - 1]!.order.status.status, 'filled');
  });

  it('a cancel of an id Binance does not know is still ORDER_NOT_FOUND', async () => {
    await setUp();
    const e = await rejection(broker.cancelOrder('BTCUSDT:99999'));
    assert.equal(e.reason, 'ORDER_NOT_FOUND', e.message);
  });

  it("-2010 and -1013 from the venue are the order rejected with Binance's message; nothing resent", async () => {
    await setUp();
    fake.injectNext({ kind: 'reject', reason: 'Order would immediately match and take.' });
    const a = await broker.submitOrder(order({ type: 'limit', price: 29_000 }));
    assert.ok(a.status.status === 'rejected' && a.status.reason.includes('Order would immediately match and take.'));
    assert.ok(a.status.status === 'rejected' && a.status.reason.includes('-2010'), JSON.stringify(a.status));
    assert.equal(fake.requestCount('POST /api/v3/order'), 1);
  });

  it('418 (IP ban) with Retry-After is RATE_LIMITED, not acted on, with the wait Binance gave', async () => {
    await setUp();
    fake.injectNext({ kind: 'rateLimit', status: 418, retryAfterSeconds: 120 });
    const o = order({ type: 'limit', price: 29_000 });
    const e = await rejection(broker.submitOrder(o));
    assert.equal(e.reason, 'RATE_LIMITED');
    assert.equal(e.notActed, true);
    assert.equal(e.outcomeUnknown, false);
    assert.equal(e.retryAfterMs, 120_000);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
  });
});
