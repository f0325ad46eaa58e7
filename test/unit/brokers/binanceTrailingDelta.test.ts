/**
 * filters.md "TRAILING_DELTA": "For STOP_LOSS BUY, STOP_LOSS_LIMIT_BUY, TAKE_PROFIT SELL and TAKE_PROFIT_LIMIT SELL
 * orders: trailingDelta >= minTrailingAboveDelta, trailingDelta <= maxTrailingAboveDelta. For STOP_LOSS SELL,
 * STOP_LOSS_LIMIT SELL, TAKE_PROFIT BUY, and TAKE_PROFIT_LIMIT BUY orders: trailingDelta >= minTrailingBelowDelta,
 * trailingDelta <= maxTrailingBelowDelta." A trailing stop (a STOP_LOSS with trailingDelta = trail_bps) outside them
 * went to Binance and came back -1013 "Filter failure: TRAILING_DELTA" with nothing to say what the bounds were; the
 * bounds are in exchangeInfo, so it is refused before anything is sent, naming them (the other filters the adapter
 * can judge alone are, too). One that reaches Binance anyway (rules changed since) says what the filter holds.
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { whatToDo } from '../../../src/brokers/binance/errors';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { DEFAULT_SYMBOLS, startFakeBinance, type FakeBinance } from '../../fakes/binance/server';
import { binanceOnFake, brokerFailure } from '../../kit/binance';

let seq = 0;
const trailing = (side: 'buy' | 'sell', bps: number): PlacedOrderRequest => ({
  symbol: 'BTCUSDT',
  side,
  order_type: { type: 'trailing_stop', trail_bps: bps },
  quantity: 0.01,
  time_in_force: { type: 'GTC' },
  client_order_id: `bn-td-${++seq}`,
  metadata: {},
});
const POST = 'POST /api/v3/order';

describe('Binance adapter: a trailing stop outside TRAILING_DELTA', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;

  beforeEach(async () => {
    const btc = DEFAULT_SYMBOLS.find((s) => s.symbol === 'BTCUSDT')!;
    fake = await startFakeBinance({
      symbols: [
        {
          ...btc,
          trailingDelta: {
            minTrailingAboveDelta: 10,
            maxTrailingAboveDelta: 2000,
            minTrailingBelowDelta: 20,
            maxTrailingBelowDelta: 500,
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

  it('a buy trailing 2,500 bps (above bounds 10–2,000): refused before sending, naming the range', async () => {
    const e = await brokerFailure(broker.submitOrder(trailing('buy', 2500)));
    assert.equal(e.reason, 'INVALID_ORDER');
    assert.equal(e.venueCode, 'TRAILING_DELTA');
    assert.equal(
      e.message,
      "a buy trailing stop's trail of 2500 bps is outside BTCUSDT's range of 10–2000 bps (TRAILING_DELTA): trail by less; nothing was sent",
    );
    assert.equal(fake.requestCount(POST), 0);
  });

  it('a sell by the below bounds (20–500): 600 and 10 refused, each saying which way to move; 300 rests', async () => {
    const wide = await brokerFailure(broker.submitOrder(trailing('sell', 600)));
    assert.match(
      wide.message,
      /a sell trailing stop's trail of 600 bps is outside BTCUSDT's range of 20–500 bps \(TRAILING_DELTA\): trail by less/,
    );
    const tight = await brokerFailure(broker.submitOrder(trailing('sell', 10)));
    assert.match(
      tight.message,
      /trail of 10 bps is outside BTCUSDT's range of 20–500 bps \(TRAILING_DELTA\): trail by more/,
    );
    assert.equal(fake.requestCount(POST), 0);
    // A buy of 600 is within the above bounds: the side picks the pair.
    assert.equal((await broker.submitOrder(trailing('buy', 600))).status.status, 'submitted');
    assert.equal((await broker.submitOrder(trailing('sell', 300))).status.status, 'submitted');
    assert.equal(fake.requestCount(POST), 2);
  });

  it("Binance's own refusal (the rules changed since they were read) says what the filter holds (pure)", () => {
    assert.match(
      whatToDo(-1013, 'submit', 'Filter failure: TRAILING_DELTA') ?? '',
      /outside the symbol's range \(TRAILING_DELTA in exchangeInfo gives minTrailingAboveDelta–maxTrailingAboveDelta for a buy/,
    );
  });
});
