/**
 * Binance's symbol filters as filters.md describes them, checked before an order is sent, against the fake
 * Binance (which lists and enforces them as Binance does).
 *
 * Sources: binance-spot-api-docs filters.md "MARKET_LOT_SIZE" ("the quantity rules for MARKET orders": minQty,
 * maxQty, stepSize; Binance lists it with minQty and stepSize 0 on most symbols, maxQty still set) and errors.md
 * "Filter failures" ("Filter failure: MARKET_LOT_SIZE").
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { parseSymbolRules, checkFilters } from '../../../src/brokers/binance/market';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';
import { binanceOnFake, brokerFailure as failure } from '../../kit/binance';

let seq = 0;
function market(quantity: number, side: 'buy' | 'sell' = 'sell'): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side,
    order_type: { type: 'market' },
    quantity,
    time_in_force: { type: 'IOC' },
    client_order_id: `bn-filter-${++seq}`,
    metadata: {},
  };
}

describe('Binance adapter: symbol filters, refusals and order ids as the spot docs describe them', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;

  beforeEach(async () => {
    fake = await startFakeBinance({ balances: { USDT: 100_000_000, BTC: 1000 } });
    broker = binanceOnFake(fake);
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('MARKET_LOT_SIZE listed with stepSize 0 still bounds a market order by its maxQty: refused, nothing sent', async () => {
    const sent = fake.requestCount('POST /api/v3/order');
    const e = await failure(broker.submitOrder(market(150)));
    assert.equal(e.reason, 'INVALID_ORDER');
    assert.equal(e.venueCode, 'MARKET_LOT_SIZE');
    assert.match(e.message, /quantity 150 is above BTCUSDT's maximum of 100 \(MARKET_LOT_SIZE\); nothing was sent/);
    assert.equal(fake.requestCount('POST /api/v3/order'), sent);
    // A limit order of that size is not a MARKET order: LOT_SIZE (max 9000) alone applies, and it is sent.
    const limit = await broker.submitOrder({ ...market(150), order_type: { type: 'limit', price: 30009 } });
    assert.equal(limit.status.status, 'filled');
    // A market order within maxQty is sent and fills.
    const within = await broker.submitOrder(market(100));
    assert.equal(within.status.status, 'filled');
    assert.equal(fake.requestCount('POST /api/v3/order'), sent + 2);
  });

  it("-2010's refusals by the account or the symbol's settings are rejected orders that say so (errors.md messages for -2010)", async () => {
    const cases: Array<[string, RegExp]> = [
      ['This symbol is not permitted for this account.', /^PERMISSION_DENIED: This symbol is not permitted/],
      ['This symbol is restricted for this account.', /^PERMISSION_DENIED: This symbol is restricted/],
      ['This action is disabled on this account.', /^PERMISSION_DENIED: /],
      ['This account may not place or cancel orders.', /^PERMISSION_DENIED: /],
      ['Rest API trading is not enabled.', /^PERMISSION_DENIED: /],
      ['Market orders are not supported for this symbol.', /^UNSUPPORTED_ORDER: Market orders are not supported/],
      ['Unsupported order combination', /^UNSUPPORTED_ORDER: /],
      ['Market is closed.', /^INVALID_ORDER: Market is closed\. \(Binance code -2010, HTTP 400\)/],
    ];
    for (const [msg, expected] of cases) {
      const before = fake.requestCount('POST /api/v3/order');
      fake.injectNext({ kind: 'reject', reason: msg });
      const r = await broker.submitOrder(market(0.01));
      assert.equal(r.status.status, 'rejected', msg);
      assert.match(r.status.status === 'rejected' ? r.status.reason : '', expected);
      assert.equal(fake.requestCount('POST /api/v3/order') - before, 1, `${msg}: sent once, not resent`);
    }
  });

  it('an order looked up or cancelled by Binance\'s bare orderId (rest-api.md "Query order": symbol + orderId) once its symbol is known', async () => {
    const placed = await broker.submitOrder({
      ...market(0.01, 'buy'),
      order_type: { type: 'limit', price: 20_000 },
      time_in_force: { type: 'GTC' },
    });
    assert.equal(placed.status.status, 'submitted');
    const bare = placed.order_id.split(':')[1] as string;
    const found = await broker.getOrderStatus(bare);
    assert.equal(found.order_id, placed.order_id);
    assert.equal(found.client_order_id, placed.client_order_id);
    await broker.cancelOrder(bare);
    assert.equal((await broker.getOrderStatus(bare)).status.status, 'cancelled');
  });

  it('reads MARKET_LOT_SIZE whose parts are 0 as disabled, one by one (pure)', () => {
    const rules = parseSymbolRules({
      symbol: 'BTCUSDT',
      status: 'TRADING',
      baseAsset: 'BTC',
      quoteAsset: 'USDT',
      orderTypes: ['LIMIT', 'MARKET'],
      filters: [
        { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
        { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: '83.50000000', stepSize: '0.00000000' },
      ],
    });
    const m = (quantity: number) => ({ order_type: { type: 'market' as const }, quantity });
    assert.equal(checkFilters(m(83.5), rules), undefined);
    assert.equal(checkFilters(m(83.50001), rules)?.filter, 'MARKET_LOT_SIZE');
    assert.equal(checkFilters({ order_type: { type: 'limit', price: 30000 }, quantity: 90 }, rules), undefined);
  });
});
