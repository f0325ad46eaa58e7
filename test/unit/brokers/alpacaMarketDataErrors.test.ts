/**
 * Alpaca's market data refusing a quote, through the real SDK: said as a market-data refusal, never as an order's
 * fault (INVALID_ORDER), with what the user can do.
 *
 * Sources (the fake answers as these say): Alpaca Market Data FAQ, "Why am I getting HTTP 403 (Forbidden)?" ("if
 * you get a message like subscription does not permit querying recent SIP data in the HTTP response body, make
 * sure you have the proper subscription - for example to query any SIP trades or quotes in the last 15 minutes,
 * you need the Algo Trader Plus subscription"); Market Data API "Latest quote" (`feed`: iex, sip, delayed_sip, …;
 * 400 for a request parameter it does not accept).
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the quote to fail');
}

describe('Alpaca: market data refusing a quote', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker | undefined;
  afterEach(async () => {
    await broker?.disconnect();
    broker = undefined;
    await fake.close();
  });
  const connect = async (dataFeed: string): Promise<AlpacaBroker> => {
    fake = await startFakeAlpaca({ marketDataPlan: 'free' });
    fake.setQuote('AAPL', 150, 150.1);
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      dataFeed: dataFeed as 'iex',
    });
    await broker.connect();
    return broker;
  };

  it('a SIP quote on a free plan: PERMISSION_DENIED naming the plan and the free feeds, not the SDK’s call options', async () => {
    const e = await failure((await connect('sip')).getQuote('AAPL'));
    assert.equal(e.reason, 'PERMISSION_DENIED');
    assert.equal(e.retryable, false);
    assert.match(e.message, /^Alpaca 403: subscription does not permit querying recent SIP data; /);
    assert.match(e.message, /market-data plan does not cover the feed asked for/);
    assert.match(e.message, /the iex feed \(the default\) is free, delayed_sip is SIP 15 minutes behind$/);
    assert.doesNotMatch(e.message, /feed: "iex"/);
  });

  it('a feed Alpaca does not accept: a market-data refusal, not INVALID_ORDER', async () => {
    const e = await failure((await connect('tape-z')).getQuote('AAPL'));
    assert.equal(e.reason, 'VENUE_UNAVAILABLE');
    assert.equal(e.retryable, false);
    assert.match(e.message, /^Alpaca 400: invalid feed: tape-z; Alpaca's market data refused the quote request/);
  });

  it('the free plan still quotes from iex', async () => {
    const q = await (await connect('iex')).getQuote('AAPL');
    assert.equal(q.bid, 150);
  });
});
