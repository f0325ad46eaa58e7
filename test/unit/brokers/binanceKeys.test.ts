/**
 * The Binance adapter, through ccxt, against refusals of the key, the signature and the timestamp: what Binance
 * says (its code and message) and what the user can do about it, which the message alone does not say.
 *
 * Sources (binance-spot-api-docs @a5e0bc3): rest-api.md "Request Security" ("API keys can be configured to allow
 * access only to certain types of secure endpoints … By default, an API key cannot `TRADE`. You need to enable
 * trading in API Management first."; "New order (TRADE)"), "Timing security"; errors.md -2015 REJECTED_MBX_KEY
 * "Invalid API-key, IP, or permissions for action.", -1022 INVALID_SIGNATURE, -1021 INVALID_TIMESTAMP.
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { TestClock } from '../../../src/common/clock';
import { newClientOrderId } from '../../../src/common/ids';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance, type FakeBinanceOptions } from '../../fakes/binance/server';
import { binanceOnFake, brokerFailure } from '../../kit/binance';

const POST = 'POST /api/v3/order';

function order(): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 0.01,
    time_in_force: { type: 'GTC' },
    client_order_id: newClientOrderId('k'),
    metadata: {},
  };
}

describe('Binance adapter: refusals of the key, the signature and the timestamp say what to do', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker | undefined;

  async function setUp(options: FakeBinanceOptions = {}): Promise<void> {
    fake = await startFakeBinance(options);
  }

  afterEach(async () => {
    await broker?.disconnect();
    broker = undefined;
    await fake?.close();
  });

  function withKeys(apiKey: string, secret: string): BinanceBroker {
    return new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': apiKey, 'binance.secret': secret }),
      clock: new TestClock(),
      timeoutMs: 2000,
      pollIntervalMs: 0,
      enableRateLimit: false,
    });
  }

  it('a key without TRADE permission: connects (the account is USER_DATA), the order is refused -2015 once, and the user is told to enable trading', async () => {
    await setUp({ tradingEnabled: false });
    broker = binanceOnFake(fake);
    await broker.connect();
    const o = order();
    const e = await brokerFailure(broker.submitOrder(o));
    assert.equal(e.reason, 'AUTHENTICATION');
    assert.equal(e.venueCode, -2015);
    assert.equal(e.outcomeUnknown, false);
    // What Binance said, with its code …
    assert.match(e.message, /Invalid API-key, IP, or permissions for action\. \(Binance code -2015, HTTP 401\)/);
    // … and what to do.
    assert.match(e.message, /cannot TRADE until trading is enabled for the key in API Management/);
    assert.match(e.message, /IP access restriction/);
    assert.equal(fake.requestCount(POST), 1);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
  });

  it('a wrong API key at connect: -2015 with what to check of binance.apiKey (IP restriction, environment)', async () => {
    await setUp();
    broker = withKeys('this-is-not-the-key-0123456789abcdef', fake.secret);
    const e = await brokerFailure(broker.connect());
    assert.equal(e.reason, 'AUTHENTICATION');
    assert.equal(e.venueCode, -2015);
    assert.match(e.message, /Invalid API-key, IP, or permissions for action\./);
    assert.match(
      e.message,
      /check binance\.apiKey: .*IP access restriction.*Spot Test Network keys and live keys differ/,
    );
    assert.doesNotMatch(e.message, /enable.*trading/i);
  });

  it("a secret that is not the key's: -1022, and the user is pointed at binance.secret (never shown)", async () => {
    await setUp();
    const wrong = 'this-is-not-the-secret-0123456789abcdef';
    broker = withKeys(fake.apiKey, wrong);
    const e = await brokerFailure(broker.connect());
    assert.equal(e.venueCode, -1022);
    assert.match(e.message, /Signature for this request is not valid\. \(Binance code -1022, HTTP 401\)/);
    assert.match(e.message, /binance\.secret is not this API key's secret/);
    assert.ok(!e.message.includes(wrong));
  });

  it('a -1021 that persists through the resends: nothing placed, and the clock and the network are named', async () => {
    await setUp();
    broker = binanceOnFake(fake);
    await broker.connect();
    for (let i = 0; i < 3; i++) fake.injectNext({ kind: 'timestampOutsideRecvWindow' });
    const o = order();
    const e = await brokerFailure(broker.submitOrder(o));
    assert.equal(e.venueCode, -1021);
    assert.equal(e.notActed, true);
    assert.match(e.message, /outside of the recvWindow/);
    assert.match(e.message, /check that the clock is synchronised \(NTP\) and the network/);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
  });
});
