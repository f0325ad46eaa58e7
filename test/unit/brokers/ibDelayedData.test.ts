/**
 * IB quotes for an account without a live market-data subscription (a paper account's usual case). TWS API
 * "Message Codes": 10167 "Requested market data is not subscribed. Displaying delayed market data." and 10090 "Part
 * of requested market data is not subscribed. Subscription-independent ticks are still active. Delayed market data
 * is available." are notices for the request's id, after which TWS sends the delayed ticks (TWS API "Delayed
 * Streaming Data": 66 delayed bid, 67 delayed ask, 68 delayed last). 10090 failed the quote as if IB had refused it.
 */
import * as assert from 'node:assert/strict';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';

describe('IbBroker: delayed market data after a subscription notice', function () {
  this.timeout(5000);
  let fake: FakeTws | undefined;
  let broker: IbBroker | undefined;

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  for (const [code, message] of [
    [10167, 'Requested market data is not subscribed. Displaying delayed market data.'],
    [
      10090,
      'Part of requested market data is not subscribed. Subscription-independent ticks are still active.Delayed market data is available.AAPL NASDAQ.NMS/TOP/ALL',
    ],
  ] as const) {
    it(`notice ${code}, then delayed ticks: the quote is those ticks`, async () => {
      fake = await startFakeTws({ marketDataNotice: { code, message } });
      fake.setQuote('AAPL', 99, 101);
      broker = new IbBroker({
        host: fake.host,
        port: fake.port,
        clientId: 13,
        timeoutMs: 1000,
        connectTimeoutMs: 1000,
      });
      await broker.connect();
      const q = await broker.getQuote('AAPL');
      assert.equal(q.bid, 99);
      assert.equal(q.ask, 101);
    });
  }
});
