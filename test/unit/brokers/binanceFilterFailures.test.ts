/**
 * The Binance adapter, through ccxt, against filters Binance applies that the adapter cannot check before sending
 * (they need Binance's average price or the account's open orders): the order is rejected, sent once, with
 * Binance's code and message and what the filter holds against it.
 *
 * Sources (binance-spot-api-docs @a5e0bc3): filters.md "MAX_NUM_ORDERS" ("the maximum number of orders an account is
 * allowed to have open on a symbol") and "PERCENT_PRICE_BY_SIDE" (a BUY passes if price <= average ×
 * bidMultiplierUp and >= average × bidMultiplierDown; with avgPriceMins 0 the last price is the average); errors.md
 * "-1013 INVALID_MESSAGE" ("The request didn't reach the Matching Engine") and "Filter failures" ("Filter failure:
 * MAX_NUM_ORDERS" | "Account has too many open orders on the symbol.").
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { whatToDo } from '../../../src/brokers/binance/errors';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { DEFAULT_SYMBOLS, startFakeBinance, type FakeBinance } from '../../fakes/binance/server';
import { binanceOnFake } from '../../kit/binance';

let seq = 0;
function limit(price: number, side: 'buy' | 'sell' = 'buy'): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side,
    order_type: { type: 'limit', price },
    quantity: 0.01,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-ff-${++seq}`,
    metadata: {},
  };
}

const POST = 'POST /api/v3/order';

describe('Binance adapter: filter failures Binance alone can judge say what the filter holds against the order', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;

  beforeEach(async () => {
    const btc = DEFAULT_SYMBOLS.find((s) => s.symbol === 'BTCUSDT')!;
    fake = await startFakeBinance({
      symbols: [
        {
          ...btc,
          maxNumOrders: 2,
          percentPriceBySide: {
            bidMultiplierUp: 1.2,
            bidMultiplierDown: 0.8,
            askMultiplierUp: 1.2,
            askMultiplierDown: 0.8,
          },
        },
      ],
    });
    broker = binanceOnFake(fake);
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('a third open order where MAX_NUM_ORDERS is 2: rejected once, with Binance code -1013 and what to do', async () => {
    assert.equal((await broker.submitOrder(limit(29000))).status.status, 'submitted');
    assert.equal((await broker.submitOrder(limit(28900))).status.status, 'submitted');
    const third = limit(28800);
    const r = await broker.submitOrder(third);
    assert.equal(r.status.status, 'rejected');
    const reason = r.status.status === 'rejected' ? r.status.reason : '';
    assert.match(reason, /^INVALID_ORDER: Filter failure: MAX_NUM_ORDERS \(Binance code -1013, HTTP 400\)/);
    assert.match(reason, /as many open orders on this symbol as Binance allows \(MAX_NUM_ORDERS\): cancel some/);
    assert.equal(fake.requestCount(POST), 3);
    assert.equal(fake.ordersWithClientId(third.client_order_id), 0);
  });

  it('a buy limit 30 % above the last price (PERCENT_PRICE_BY_SIDE up 1.2): rejected once, told to price nearer the market', async () => {
    const far = limit(39000);
    const r = await broker.submitOrder(far);
    assert.equal(r.status.status, 'rejected');
    const reason = r.status.status === 'rejected' ? r.status.reason : '';
    assert.match(reason, /Filter failure: PERCENT_PRICE_BY_SIDE \(Binance code -1013, HTTP 400\)/);
    assert.match(reason, /too far from the symbol's average of previous trade prices .*: place it nearer the market/);
    assert.equal(fake.requestCount(POST), 1);
    assert.equal(fake.ordersWithClientId(far.client_order_id), 0);
    // Within the band it rests.
    assert.equal((await broker.submitOrder(limit(29000))).status.status, 'submitted');
  });

  it('a buy stop the market already reached (-2010 "Stop price would trigger immediately."): rejected once, told what Binance takes instead', async () => {
    // errors.md, messages for -2010 NEW_ORDER_REJECTED: "Order would trigger immediately."; the fake refuses a
    // STOP_LOSS whose stopPrice the price has reached (a buy stop at or below it).
    const stop: PlacedOrderRequest = { ...limit(1), order_type: { type: 'stop', price: 20000 } };
    const r = await broker.submitOrder(stop);
    assert.equal(r.status.status, 'rejected');
    const reason = r.status.status === 'rejected' ? r.status.reason : '';
    assert.match(reason, /^INVALID_ORDER: Stop price would trigger immediately\. \(Binance code -2010, HTTP 400\)/);
    assert.match(
      reason,
      /Binance does not take a stop the market has already reached \(a buy stop at or below the last price/,
    );
    assert.equal(fake.requestCount(POST), 1);
    assert.equal(fake.ordersWithClientId(stop.client_order_id), 0);
  });

  it('a filter failure it has nothing to add to keeps Binance’s words alone (pure)', () => {
    assert.equal(whatToDo(-1013, 'submit', 'Filter failure: ICEBERG_PARTS'), undefined);
    assert.equal(whatToDo(-1013, 'submit', 'Order would trigger immediately.'), undefined);
  });
});
