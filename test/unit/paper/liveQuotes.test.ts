/** Paper fills against a real broker's prices: the fake OANDA's quotes feed the paper venue. */
import assert from 'node:assert/strict';
import { TestClock } from '../../../src/common/clock';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import { LiveQuoteSource } from '../../kit/liveQuotes';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { startFakeOanda } from '../../fakes/oanda/server';
import { order } from './helpers';

describe('Paper venue on live quotes', function () {
  this.timeout(20_000);

  it('fills at the connected broker’s price, refreshes it, and refuses a stale or missing quote', async () => {
    const fake = await startFakeOanda();
    const clock = new TestClock(Date.now());
    const oanda = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
    });
    try {
      fake.setQuote('EUR_USD', 1.1, 1.1002);
      await oanda.connect();
      const live = new LiveQuoteSource(oanda, { clock, refreshMs: 20, maxAgeMs: 5000 });
      const paper = new PaperBroker({ clock, quotes: live, depth: false });
      await paper.connect();
      await assert.rejects(
        paper.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD')),
        /no OANDA.*quote for EUR_USD yet/,
      );
      await live.prime(['EUR_USD']);
      const first = await paper.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'));
      assert.equal(first.filled_price, 1.1002);
      fake.setQuote('EUR_USD', 1.2, 1.2003);
      live.start();
      await new Promise((r) => setTimeout(r, 150));
      live.stop();
      const second = await paper.submitOrder(order('sell', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'));
      assert.equal(second.filled_price, 1.2, 'the refreshed bid');
      assert.equal(fake.ordersWithClientId(first.client_order_id), 0, 'nothing was sent to the real broker');
      clock.advance(6000);
      await assert.rejects(
        paper.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD')),
        /stale/,
      );
    } finally {
      await oanda.disconnect();
      await fake.close();
    }
  });
});
