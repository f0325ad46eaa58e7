/**
 * The Alpaca adapter, through the real SDK, against Alpaca's wash-trade protection. Alpaca "User Protection" →
 * "Preventing Wash Trades at Alpaca": "the Alpaca Trading platform checks for potential wash trades every time a
 * customer places an order. If we detect a possible wash trade, we reject the order", which "does apply to crypto
 * trading"; the refusal is 403 `{"code":40310000,"message":"potential wash trade detected. use complex orders"}`
 * (as Alpaca's forum quotes it). The trader saw only Alpaca's words, which do not say which order is in the way.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { newClientOrderId } from '../../../src/common/ids';
import type { OrderType, PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const order = (side: 'buy' | 'sell', order_type: OrderType): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side,
  order_type,
  quantity: 10,
  time_in_force: { type: 'GTC' },
  client_order_id: newClientOrderId('w'),
  metadata: {},
});

describe('Alpaca adapter: an order refused as a potential wash trade', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;

  beforeEach(async () => {
    fake = await startFakeAlpaca({ washTradeCheck: true });
    fake.setQuote('AAPL', 150, 150.1);
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('a market buy while our sell limit rests: rejected once, saying which order is in the way and what to do', async () => {
    const resting = await broker.submitOrder(order('sell', { type: 'limit', price: 151 }));
    assert.equal(resting.status.status, 'submitted');
    const o = order('buy', { type: 'market' });
    const r = await broker.submitOrder(o);
    assert.equal(r.status.status, 'rejected');
    const reason = r.status.status === 'rejected' ? r.status.reason : '';
    assert.match(reason, /potential wash trade detected\. use complex orders/);
    assert.match(reason, /open order of this account on the other side .* cancel that order first/);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    assert.equal(fake.requestCount('POST /v2/orders'), 2);
    // A buy that cannot reach the sell's limit is no wash trade.
    assert.equal((await broker.submitOrder(order('buy', { type: 'limit', price: 149 }))).status.status, 'submitted');
  });
});
