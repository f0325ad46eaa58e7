/** Instruments (presets, spellings, inference) and the deterministic synthetic feed. */
import assert from 'node:assert/strict';
import { QUOTE_BUCKET_MS, SyntheticFeed } from '../../../src/brokers/paper/feed';
import { currencyDecimals, instrumentFor } from '../../../src/brokers/paper/instruments';
import { units } from '../../../src/brokers/paper/money';
import { isOnStep } from '../../../src/common/decimal';

describe('paper instruments', () => {
  it('EURUSD, EUR_USD, EUR/USD and eurusd are one preset, keeping the spelling given', () => {
    for (const s of ['EURUSD', 'EUR_USD', 'EUR/USD', 'eurusd']) {
      const i = instrumentFor(s);
      assert.deepEqual(
        [i.symbol, i.kind, i.referencePrice, i.tickSize, i.lotSize, i.quoteCurrency, i.pricePrecision, i.inferred],
        [s, 'fx', 1.085, 0.00001, 1, 'USD', 5, false],
      );
    }
  });

  it('has the presets the venue promises', () => {
    const row = (s: string) => {
      const i = instrumentFor(s);
      return [i.kind, i.referencePrice, i.tickSize, i.lotSize, i.baseCurrency, i.quoteCurrency];
    };
    assert.deepEqual(row('GBP_USD'), ['fx', 1.27, 0.00001, 1, 'GBP', 'USD']);
    assert.deepEqual(row('USD_JPY'), ['fx', 150, 0.001, 1, 'USD', 'JPY']);
    assert.deepEqual(row('BTCUSDT'), ['crypto', 65000, 0.01, 0.00001, 'BTC', 'USDT']);
    assert.deepEqual(row('ETHUSDT').slice(0, 3), ['crypto', 3500, 0.01]);
    for (const [s, p] of [
      ['AAPL', 190],
      ['MSFT', 420],
      ['SPY', 520],
    ] as const)
      assert.deepEqual(row(s), ['equity', p, 0.01, 1, 'SHARE', 'USD']);
  });

  it('infers unknown symbols from their shape and says so', () => {
    const shape = (s: string) => {
      const i = instrumentFor(s);
      return [i.kind, i.referencePrice, i.quoteCurrency, i.inferred];
    };
    assert.deepEqual(shape('NZD_CHF'), ['fx', 1, 'CHF', true]);
    assert.deepEqual(shape('nzdchf'), ['fx', 1, 'CHF', true]);
    // A pair of two currencies the presets price centres on their cross rate: JPY_USD, an engine's first ask to turn
    // yen into dollars, at 1.0 valued a USD_JPY order of 1,000 dollars at 150,000.
    assert.deepEqual(shape('EUR_JPY'), ['fx', 1.085 * 150, 'JPY', true]);
    assert.equal(instrumentFor('EUR_JPY').tickSize, 0.001);
    assert.deepEqual(shape('JPY_USD'), ['fx', 1 / 150, 'USD', true]);
    assert.deepEqual(shape('EUR_GBP'), ['fx', 1.085 / 1.27, 'GBP', true]);
    assert.deepEqual(shape('SOLUSDT'), ['crypto', 100, 'USDT', true]);
    assert.deepEqual(shape('SOLBTC'), ['crypto', 100, 'BTC', true]);
    assert.deepEqual(shape('ARB/USDC'), ['crypto', 100, 'USDC', true]);
    assert.deepEqual(shape('NVDA'), ['equity', 100, 'USD', true]);
    assert.deepEqual(shape('BRK.B'), ['equity', 100, 'USD', true]);
  });

  it('keeps cash to each currency’s cents', () => {
    assert.deepEqual(['USD', 'JPY', 'USDT', 'EUR'].map(currencyDecimals), [2, 0, 8, 2]);
  });
});

describe('SyntheticFeed', () => {
  const t0 = Date.UTC(2026, 3, 1, 12);

  it('is a pure function of seed, instrument and 250 ms bucket', () => {
    const a = new SyntheticFeed(1);
    assert.deepEqual(a.quote('EUR_USD', t0), new SyntheticFeed(1).quote('EUR_USD', t0));
    // Call order does not matter, and every time within a bucket sees the same quote.
    const later = a.quote('EUR_USD', t0 + 10_000);
    a.quote('AAPL', t0);
    assert.deepEqual(a.quote('EUR_USD', t0 + 10_000), later);
    const { timestamp, ...inBucket } = a.quote('EUR_USD', t0 + QUOTE_BUCKET_MS - 1);
    const { timestamp: start, ...atStart } = a.quote('EUR_USD', t0);
    assert.deepEqual([inBucket, timestamp], [atStart, start]);
    // Spellings of one instrument quote alike.
    const { symbol: _s, ...plain } = a.quote('eurusd', t0);
    const { symbol: _t, ...underscored } = a.quote('EUR_USD', t0);
    assert.deepEqual(plain, underscored);
  });

  it('hands each caller its own copy of a quote it remembers for the bucket', () => {
    const feed = new SyntheticFeed(1);
    const first = feed.quote('EUR_USD', t0);
    const fresh = new SyntheticFeed(1).quote('EUR_USD', t0 + 1);
    first.bid = 0;
    first.ask_size = 0;
    const again = feed.quote('EUR_USD', t0 + 1);
    assert.notEqual(again, first);
    assert.deepEqual(again, fresh);
    // The next bucket is a new quote, as a fresh feed makes it.
    assert.deepEqual(
      feed.quote('EUR_USD', t0 + QUOTE_BUCKET_MS),
      new SyntheticFeed(1).quote('EUR_USD', t0 + QUOTE_BUCKET_MS),
    );
  });

  it('differs across seeds and moves over time', () => {
    const mids = (seed: number) =>
      Array.from({ length: 20 }, (_, i) => new SyntheticFeed(seed).quote('BTCUSDT', t0 + i * 3_600_000).bid);
    assert.notDeepEqual(mids(1), mids(2));
    assert.ok(new Set(mids(1)).size > 10);
  });

  it('quotes bid < ask on the tick, the spread in ticks, last between them, sizes on the lot, near the reference', () => {
    const feed = new SyntheticFeed(7);
    for (const symbol of ['EUR_USD', 'USD_JPY', 'BTCUSDT', 'ETHUSDT', 'AAPL', 'SPY', 'SOLUSDT']) {
      const inst = instrumentFor(symbol);
      for (let i = 0; i < 300; i++) {
        const q = feed.quote(symbol, t0 + i * 997_531);
        assert.ok(q.bid < q.ask, `${symbol} bid ${q.bid} ask ${q.ask}`);
        assert.ok(
          isOnStep(q.bid, inst.tickSize) && isOnStep(q.ask, inst.tickSize) && isOnStep(q.last, inst.tickSize),
          `${symbol} off tick`,
        );
        assert.ok(Math.abs(q.ask - q.bid - inst.spreadTicks * inst.tickSize) < inst.tickSize / 100, `${symbol} spread`);
        assert.ok(q.last >= q.bid && q.last <= q.ask);
        assert.ok(
          q.bid_size >= inst.lotSize && isOnStep(q.bid_size, inst.lotSize) && isOnStep(q.ask_size, inst.lotSize),
        );
        assert.ok(
          Math.abs(q.bid / inst.referencePrice - 1) < 3 * inst.dailyVolatility,
          `${symbol} wandered to ${q.bid}`,
        );
      }
    }
  });

  it('never uses Math.random', () => {
    const original = Math.random;
    Math.random = () => {
      throw new Error('Math.random used');
    };
    try {
      new SyntheticFeed(3).quote('AAPL', t0);
    } finally {
      Math.random = original;
    }
  });
});

describe('paper money units', () => {
  it('reads the decimal a number was written as, at any magnitude', () => {
    assert.equal(units(9_999_899.95), 99_998_999_500_000_000n);
    assert.equal(units(-0.000001), -10_000n);
    assert.equal(units(1e-7), 1_000n);
    assert.equal(units(1.0845000000000001), 10_845_000_000n);
    assert.equal(units(1.23456789012345), 12_345_678_901n);
    assert.equal(units(1e21), 10n ** 31n);
  });
});
