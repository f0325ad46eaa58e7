/**
 * IB quotes for an account without a live market-data subscription (a paper account's usual case). TWS API
 * "Message Codes": 10167 "Requested market data is not subscribed. Displaying delayed market data." and 10090 "Part
 * of requested market data is not subscribed. Subscription-independent ticks are still active. Delayed market data
 * is available." are notices for the request's id, after which TWS sends the delayed ticks (TWS API "Delayed
 * Streaming Data": 66 delayed bid, 67 delayed ask, 68 delayed last). 10090 failed the quote as if IB had refused it.
 *
 * A quote refused outright for want of a subscription (10168 or 10186 "Requested market data is not subscribed.
 * Delayed market data is not enabled", 354 "Requested market data is not subscribed") is asked again after
 * `reqMarketDataType(3)` (TWS API "Delayed Streaming Data": "To switch to delayed streaming data, the function
 * IBApi::EClient::reqMarketDataType must be invoked with a parameter of 3"), once per connection; the quote says it
 * is delayed, and so does Test Order's market data. It was the refusal, with no delayed data ever asked for.
 */
import * as assert from 'node:assert/strict';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { BrokerError } from '../../../src/brokers/errors';
import { buildMarketData } from '../../../src/usecases/testOrder';
import { startFakeTws, type FakeTws, type FakeTwsOptions } from '../../fakes/ib/server';

describe('IbBroker: delayed market data', function () {
  this.timeout(5000);
  let fake: FakeTws | undefined;
  let broker: IbBroker | undefined;

  const connect = async (options: FakeTwsOptions): Promise<{ fake: FakeTws; broker: IbBroker }> => {
    fake = await startFakeTws(options);
    fake.setQuote('AAPL', 99, 101);
    fake.setQuote('EUR_USD', 1.1, 1.1002);
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 13,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: () => undefined,
    });
    await broker.connect();
    return { fake, broker };
  };

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
    broker = undefined;
    fake = undefined;
  });

  for (const [code, message] of [
    [10167, 'Requested market data is not subscribed. Displaying delayed market data.'],
    [
      10090,
      'Part of requested market data is not subscribed. Subscription-independent ticks are still active.Delayed market data is available.AAPL NASDAQ.NMS/TOP/ALL',
    ],
  ] as const) {
    it(`notice ${code}, then delayed ticks: the quote is those ticks, and says it is delayed`, async () => {
      const { broker } = await connect({ marketDataNotice: { code, message } });
      const q = await broker.getQuote('AAPL');
      assert.equal(q.bid, 99);
      assert.equal(q.ask, 101);
      assert.equal(q.delayed, true);
    });
  }

  it('a live quote asks for no delayed data and is not marked delayed', async () => {
    const { fake, broker } = await connect({});
    const q = await broker.getQuote('AAPL');
    assert.equal(q.bid, 99);
    assert.equal(q.delayed, undefined);
    assert.equal(fake.requestCount('REQ_MARKET_DATA_TYPE'), 0);
  });

  for (const [code, message] of [
    [10168, 'Requested market data is not subscribed. Delayed market data is not enabled.'],
    [10186, 'Requested market data is not subscribed. Delayed market data is not enabled'],
    [354, 'Requested market data is not subscribed.'],
  ] as const) {
    it(`refused with ${code}: delayed data asked for once (reqMarketDataType 3), the quote asked again and marked delayed`, async () => {
      const { fake, broker } = await connect({ marketDataError: { code, message } });
      const q = await broker.getQuote('AAPL');
      assert.equal(q.bid, 99);
      assert.equal(q.ask, 101);
      assert.equal(q.delayed, true);
      assert.equal(fake.requestCount('REQ_MARKET_DATA_TYPE'), 1);
      assert.equal(fake.requestCount('REQ_MKT_DATA'), 2);
      // The connection now asks for delayed data: the next quote is not refused first, and the type is not asked again.
      const next = await broker.getQuote('EUR_USD');
      assert.equal(next.delayed, true);
      assert.equal(fake.requestCount('REQ_MARKET_DATA_TYPE'), 1);
      assert.equal(fake.requestCount('REQ_MKT_DATA'), 3);
    });
  }

  it('refused, and no delayed data either: the refusal stays the error, saying delayed data was asked for too', async () => {
    const message = 'Requested market data is not subscribed. Delayed market data is not enabled';
    const { fake, broker } = await connect({ marketDataError: { code: 10186, message }, delayedMarketData: false });
    const failure = async (): Promise<BrokerError> => {
      try {
        await broker.getQuote('AAPL');
      } catch (e) {
        assert.ok(e instanceof BrokerError, String(e));
        return e;
      }
      assert.fail('expected the quote to fail');
    };
    const e = await failure();
    assert.equal(e.reason, 'PERMISSION_DENIED');
    assert.equal(e.venueCode, 10186);
    assert.equal(e.retryable, false);
    assert.match(e.message, /^IB error 10186: Requested market data is not subscribed\./);
    assert.match(e.message, /subscribe to the instrument's market data in IBKR's Client Portal/);
    assert.match(e.message, /asked again for delayed market data, reqMarketDataType 3: IB had none for AAPL either\)$/);
    assert.equal(fake.requestCount('REQ_MARKET_DATA_TYPE'), 1);
    assert.equal(fake.requestCount('REQ_MKT_DATA'), 2);
    // Already asking for delayed data: the next refusal is said as it is, and nothing is asked twice.
    const again = await failure();
    assert.equal(again.venueCode, 10186);
    assert.doesNotMatch(again.message, /asked again/);
    assert.equal(fake.requestCount('REQ_MARKET_DATA_TYPE'), 1);
    assert.equal(fake.requestCount('REQ_MKT_DATA'), 3);
  });

  it("a delayed quote's time is the delayed last trade's (tick 88), not our read time; without one, the read time", async () => {
    // TWS API "Available Tick Types": 88 "Delayed Last Timestamp", "Delayed time of the last trade (in UNIX time)".
    const fifteenMinutesAgo = Math.floor(Date.now() / 1000) - 15 * 60;
    const { broker } = await connect({
      marketDataNotice: {
        code: 10167,
        message: 'Requested market data is not subscribed. Displaying delayed market data.',
      },
      delayedLastTimestamp: String(fifteenMinutesAgo),
    });
    const q = await broker.getQuote('AAPL');
    assert.equal(q.delayed, true);
    assert.equal(q.timestamp, fifteenMinutesAgo * 1000);
    await broker.disconnect();
    await fake?.close();
    const before = Date.now();
    const { broker: other } = await connect({
      marketDataNotice: {
        code: 10167,
        message: 'Requested market data is not subscribed. Displaying delayed market data.',
      },
      delayedLastTimestamp: 'not a time',
    });
    const unread = await other.getQuote('AAPL');
    assert.equal(unread.delayed, true);
    assert.ok(unread.timestamp >= before, 'a time that is not whole UNIX seconds is not read');
  });

  it("Test Order's market data says the quote is delayed", async () => {
    const { broker } = await connect({
      marketDataError: {
        code: 10186,
        message: 'Requested market data is not subscribed. Delayed market data is not enabled',
      },
    });
    const notes: string[] = [];
    const data = await buildMarketData(broker, 'AAPL', { file: 'component.py' }, Date.now(), notes);
    assert.equal(data['bid'], 99);
    assert.equal(data['ask'], 101);
    assert.deepEqual(notes, [
      'the quote from Interactive Brokers for AAPL is delayed market data, some 15 minutes behind (the account has no live market data subscription for it): the component saw bid 99 / ask 101, not the live price',
    ]);
  });
});
