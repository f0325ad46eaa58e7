/**
 * Where the Alpaca adapter sends quotes with the keys: the market-data host beside the trading host, each
 * overridable, against the fake Alpaca on 127.0.0.1 run as two hosts. Market: AAPL bid 150.00 / ask 150.10.
 */
import assert from 'node:assert/strict';
import type { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { BrokerProfileError, createBroker, parseBrokerProfile } from '../../../src/brokers/registry';
import { newClientOrderId } from '../../../src/common/ids';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

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

describe('Alpaca market-data host (dataUrl)', () => {
  let fake: FakeAlpaca;
  const deps = () => ({
    clock: { now: Date.now },
    credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
  });

  beforeEach(async () => {
    // Two servers, as Alpaca splits them: each answers 404 for the other's routes.
    fake = await startFakeAlpaca({ separateDataHost: true });
    fake.setQuote('AAPL', 150, 150.1);
    fake.setQuote('BTC/USD', 60_000, 60_010);
  });
  afterEach(async () => fake.close());

  it('a profile with baseUrl and dataUrl sends trading to one host and quotes to the other, both local', async () => {
    const broker = createBroker(
      { id: 'alp', broker: 'alpaca', baseUrl: fake.url, dataUrl: `${fake.dataUrl}/` },
      deps(),
    ) as AlpacaBroker;
    assert.deepEqual(broker.endpoints, { trading: fake.url, data: fake.dataUrl });
    try {
      await broker.connect();
      const tradingAfterConnect = fake.requestsAt('trading');
      assert.equal(fake.requestsAt('data'), 0, 'connecting reads the account at the trading host only');
      const quote = await broker.getQuote('AAPL');
      assert.deepEqual([quote.bid, quote.ask], [150, 150.1]);
      const crypto = await broker.getQuote('BTC/USD');
      assert.deepEqual([crypto.bid, crypto.ask], [60_000, 60_010]);
      assert.equal(fake.requestsAt('data'), 2);
      assert.equal(fake.requestCount('GET /v2/stocks/:symbol/quotes/latest'), 1);
      assert.equal(fake.requestsAt('trading'), tradingAfterConnect, 'no quote went to the trading host');
      const placed = await broker.submitOrder(order({ type: 'market' }, { type: 'GTC' }, { quantity: 1 }));
      assert.equal(placed.status.status, 'filled');
      assert.equal(fake.ordersWithClientId(placed.client_order_id), 1);
    } finally {
      await broker.disconnect();
    }
  });

  it('without overrides the adapter names Alpaca’s own hosts; a dataUrl alone moves only the data host', () => {
    const plain = createBroker({ id: 'alp', broker: 'alpaca' }, deps()) as AlpacaBroker;
    assert.deepEqual(plain.endpoints, {
      trading: 'https://paper-api.alpaca.markets',
      data: 'https://data.alpaca.markets',
    });
    const live = createBroker(
      { id: 'alp', broker: 'alpaca', environment: 'live', dataUrl: 'https://data.sandbox.alpaca.markets' },
      deps(),
    ) as AlpacaBroker;
    assert.deepEqual(live.endpoints, {
      trading: 'https://api.alpaca.markets',
      data: 'https://data.sandbox.alpaca.markets',
    });
  });

  it('a profile with baseUrl and no dataUrl is refused before anything is built or sent, naming dataUrl', () => {
    assert.throws(
      () => createBroker({ id: 'alp', broker: 'alpaca', baseUrl: fake.url }, deps()),
      (e: unknown) =>
        e instanceof BrokerProfileError &&
        e.fields.join() === 'dataUrl' &&
        e.message.includes(`baseUrl points Alpaca's trading API at ${fake.url}`) &&
        e.message.includes('https://data.alpaca.markets with your keys: add dataUrl'),
    );
    assert.equal(fake.requestCount(), 0);
  });

  it("a profile's dataFeed reaches the quotes: delayed_sip's are flagged as not the live price; alpaca only", async () => {
    const broker = createBroker(
      { id: 'alp', broker: 'alpaca', baseUrl: fake.url, dataUrl: fake.dataUrl, dataFeed: 'delayed_sip' },
      deps(),
    );
    try {
      await broker.connect();
      const quote = await broker.getQuote('AAPL');
      assert.equal(quote.delayed, true);
      assert.match(quote.delayed_reason ?? '', /delayed_sip/);
    } finally {
      await broker.disconnect();
    }
    assert.throws(
      () => parseBrokerProfile({ id: 'o', broker: 'oanda', dataFeed: 'sip' }),
      /dataFeed applies to alpaca only/,
    );
    assert.throws(
      () => parseBrokerProfile({ id: 'a', broker: 'alpaca', dataFeed: 'opra' }),
      /dataFeed must be one of iex, sip, delayed_sip/,
    );
  });

  it('the fake’s two hosts answer 404 for each other’s routes, so a request sent to the wrong host shows', async () => {
    const res = await fetch(`${fake.url}/v2/stocks/AAPL/quotes/latest`, {
      headers: { 'apca-api-key-id': FAKE_ALPACA_KEY_ID, 'apca-api-secret-key': FAKE_ALPACA_SECRET },
    });
    assert.equal(res.status, 404);
    const account = await fetch(`${fake.dataUrl}/v2/account`, {
      headers: { 'apca-api-key-id': FAKE_ALPACA_KEY_ID, 'apca-api-secret-key': FAKE_ALPACA_SECRET },
    });
    assert.equal(account.status, 404);
  });
});
