/**
 * Quotes that are not the venue's live price, flagged to the risk checks as delayed quotes are
 * (src/brokers/quoteFreshness.ts): Alpaca's `delayed_sip` feed, an Alpaca quote whose `t` is far older than now, an
 * OANDA price with `tradeable: false`, an OANDA price whose `time` is far older than now.
 *
 * Sources (the fakes answer as these say): Alpaca Market Data API "Latest quote" (`GET
 * /v2/stocks/{symbol}/quotes/latest`, `feed`: iex, sip, delayed_sip "SIP with a 15 minute delay"; `t` "Timestamp in
 * RFC-3339 format"; outside market hours it is the last quote before the close); OANDA v20 "Pricing" (ClientPrice:
 * `tradeable` "Flag indicating if the Price is tradeable or not", `time` "The date/time when the Price was created").
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import { STALE_QUOTE_AFTER_MS } from '../../../src/brokers/quoteFreshness';
import { systemClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand } from '../../../src/execution/events';
import { liveCheckLines } from '../../../src/views/profiles';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeOanda, type FakeOanda } from '../../fakes/oanda/server';

describe('quotes that are not the live price are flagged to the checks', function () {
  this.timeout(10_000);

  describe('Alpaca', () => {
    let fake: FakeAlpaca;
    let broker: AlpacaBroker | undefined;
    beforeEach(async () => {
      fake = await startFakeAlpaca();
      fake.setQuote('AAPL', 150, 150.1);
    });
    afterEach(async () => {
      await broker?.disconnect();
      broker = undefined;
      await fake.close();
    });
    const connect = async (dataFeed?: 'iex' | 'delayed_sip'): Promise<AlpacaBroker> => {
      broker = new AlpacaBroker({
        baseUrl: fake.url,
        dataBaseUrl: fake.url,
        credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
        timeoutMs: 5000,
        pollIntervalMs: 0,
        ...(dataFeed ? { dataFeed } : {}),
      });
      await broker.connect();
      return broker;
    };

    it("the delayed_sip feed's quote is a delayed quote, saying so", async () => {
      const quote = await (await connect('delayed_sip')).getQuote('AAPL');
      assert.equal(quote.delayed, true);
      assert.match(quote.delayed_reason ?? '', /^Alpaca's delayed_sip feed: the SIP quote 15 minutes behind/);
    });

    it('a fresh IEX quote is live; one whose t is hours old is stale, with its time and age', async () => {
      const b = await connect();
      const live = await b.getQuote('AAPL');
      assert.equal(live.delayed, undefined);
      assert.equal(live.delayed_reason, undefined);
      const closedAt = Date.now() - 3 * 3600_000;
      fake.setQuoteTime('AAPL', closedAt);
      const stale = await b.getQuote('AAPL');
      assert.equal(stale.delayed, true);
      assert.equal(stale.timestamp, closedAt);
      assert.match(
        stale.delayed_reason ?? '',
        new RegExp(
          `^Alpaca's latest quote for AAPL is from ${new Date(closedAt).toISOString().replace(/\./g, '\\.')}, 3 h before it was read: stale`,
        ),
      );
      fake.setQuoteTime('AAPL', Date.now() - STALE_QUOTE_AFTER_MS / 2);
      assert.equal((await b.getQuote('AAPL')).delayed, undefined, 'half a minute old is still live');
    });
  });

  describe('OANDA', () => {
    let fake: FakeOanda;
    let broker: OandaBroker;
    let dir: string | undefined;
    beforeEach(async () => {
      fake = await startFakeOanda();
      broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
        pollIntervalMs: 0,
        timeoutMs: 2000,
      });
      await broker.connect();
    });
    afterEach(async () => {
      await broker.disconnect();
      await fake.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    });

    it('tradeable: false (market closed or halted) flags the quote, though its time is recent', async () => {
      assert.equal((await broker.getQuote('EUR_USD')).delayed, undefined);
      fake.setPriceState('EUR_USD', { tradeable: false });
      const quote = await broker.getQuote('EUR_USD');
      assert.equal(quote.delayed, true);
      assert.match(quote.delayed_reason ?? '', /^OANDA marks EUR_USD not tradeable \(market closed or halted\)/);
    });

    it('a price whose time is over a minute old is stale', async () => {
      const at = Date.now() - 2 * 24 * 3600_000;
      fake.setPriceState('EUR_USD', { time: at });
      const quote = await broker.getQuote('EUR_USD');
      assert.equal(quote.delayed, true);
      assert.equal(quote.timestamp, at);
      assert.match(
        quote.delayed_reason ?? '',
        /^OANDA's latest quote for EUR_USD is from .*, 2 days before it was read/,
      );
    });

    it("the engine's checks and a live confirmation say the untradeable price was not the live one", async () => {
      fake.setPriceState('EUR_USD', { tradeable: false });
      dir = mkdtempSync(join(tmpdir(), 'sptrader-stale-'));
      const audit = (await AuditLog.open(join(dir, 'audit'), { clock: systemClock })).log;
      const engine = new ExecutionEngine({
        clock: systemClock,
        brokers: { oanda: broker },
        audit,
        limits: { maxOrderQuantity: 1e7, maxOrderNotional: 1e7, priceCollarBps: 500, maxOpenOrders: 100 },
      });
      try {
        await engine.connect('oanda');
        const cmd = submitOrderCommand(
          {
            symbol: 'EUR_USD',
            side: 'buy',
            order_type: { type: 'limit', price: 1.05 },
            quantity: 1000,
            time_in_force: { type: 'GTC' },
            metadata: {},
          },
          { venue: 'oanda', source: 'test-order', clock: systemClock },
        );
        const result = await engine.submit(cmd);
        const flagged = result.risk.filter((r) => r.delayedQuote === true).map((r) => r.check);
        assert.ok(flagged.includes('price_collar'), JSON.stringify(result.risk));
        for (const r of result.risk.filter((x) => x.delayedQuote === true))
          assert.match(r.message, /The quote was not the venue's live price: .* or a stale quote/);
        const lines = liveCheckLines(result.risk, { bid: 1.0999, ask: 1.1001 });
        assert.match(lines.quote, /NOT the live price: .*STALE quote/);
        assert.match(lines.checks, /price_collar: .*, at the delayed quote/);
      } finally {
        await engine.close();
        await audit.close();
      }
    });
  });
});
