/** Exact money on the paper venue: every amount below is computed by hand. */
import assert from 'node:assert/strict';
import type { FeeModel } from '../../../src/brokers/paper/costs';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { FixedQuotes, GTC, limit, order } from './helpers';

describe('PaperBroker money', () => {
  let clock: TestClock;
  let quotes: FixedQuotes;
  let broker: PaperBroker;
  beforeEach(async () => {
    clock = new TestClock();
    quotes = new FixedQuotes();
    broker = new PaperBroker({ clock, quotes });
    await broker.connect();
  });

  it('0.1 + 0.2 BTC bought and 0.3 sold leaves exactly nothing, with 10 bps commission to the 8th decimal', async () => {
    quotes.set('BTCUSDT', 65000, 65000.02);
    const b1 = await broker.submitOrder(order('buy', 0.1, { type: 'market' }, GTC, 'BTCUSDT'));
    const b2 = await broker.submitOrder(order('buy', 0.2, { type: 'market' }, GTC, 'BTCUSDT'));
    const s = await broker.submitOrder(order('sell', 0.3, { type: 'market' }, GTC, 'BTCUSDT'));
    // Buys: 6 500.002 + 13 000.004 notional, 6.500002 + 13.000004 commission. Sell: 19 500, 19.5 commission.
    assert.deepEqual([b1.commission, b2.commission, s.commission], [6.500002, 13.000004, 19.5]);
    assert.deepEqual(await broker.getPositions(), []);
    // USDT: −6 500.002 − 6.500002 − 13 000.004 − 13.000004 + 19 500 − 19.5 = −39.006006
    assert.deepEqual(broker.getCashBalances(), { USD: 100_000, USDT: -39.006006 });
    assert.deepEqual(broker.getRealizedPnl(), { USDT: -0.006 });
    const account = await broker.getAccountInfo();
    assert.deepEqual(
      [account.balance, account.equity, account.buying_power],
      [99_960.993994, 99_960.993994, 99_960.993994],
    );
  });

  it('rounds any fee model to the quote currency: cents for USD, none for JPY, 8 places for crypto', async () => {
    const fees: FeeModel = { commission: (instrument) => (instrument.quoteCurrency === 'USDT' ? 0.123456789 : 0.125) };
    const b = new PaperBroker({ clock, quotes, fees });
    await b.connect();
    quotes.set('USD_JPY', 149.994, 150.006);
    const usd = await b.submitOrder(order('buy', 1));
    const jpy = await b.submitOrder(order('buy', 1, { type: 'market' }, GTC, 'USD_JPY'));
    const usdt = await b.submitOrder(order('buy', 0.001, { type: 'market' }, GTC, 'ETHUSDT'));
    assert.deepEqual([usd.commission, jpy.commission, usdt.commission], [0.13, 0, 0.12345679]);
  });

  it('the fee model hears maker for a resting fill and taker for an aggressive one', async () => {
    const heard: string[] = [];
    const b = new PaperBroker({
      clock,
      quotes,
      fees: { commission: (_i, _s, _p, _q, liquidity) => (heard.push(liquidity), 0) },
    });
    await b.connect();
    await b.submitOrder(order('buy', 1));
    await b.submitOrder(order('buy', 1, limit(99.5)));
    quotes.move(99.4, 99.42);
    b.poll();
    assert.deepEqual(heard, ['taker', 'maker']);
  });

  it('averages additions exactly, keeps the average on a reduction and realizes the difference', async () => {
    await broker.submitOrder(order('buy', 10)); // at 100.02
    quotes.move(101, 101.02);
    await broker.submitOrder(order('buy', 10)); // at 101.02 → average 100.52
    await broker.submitOrder(order('sell', 5)); // at 101 → realizes (101 − 100.52) × 5 = 2.4
    const [p] = await broker.getPositions();
    assert.deepEqual(p, {
      symbol: 'AAPL',
      quantity: 15,
      average_price: 100.52,
      current_price: 101.01,
      unrealized_pnl: 7.35,
    });
    assert.deepEqual(broker.getRealizedPnl(), { USD: 2.4 });
    // Cash: 100 000 − 1 000.2 − 1 010.2 + 505 = 98 494.6; equity = cash + 15 × 101.01 = 100 009.75.
    const a = await broker.getAccountInfo();
    assert.deepEqual([a.balance, a.equity], [98_494.6, 100_009.75]);
  });

  it('a position that flips through zero realizes the closed part and takes the new price as its average', async () => {
    await broker.submitOrder(order('buy', 10)); // at 100.02
    quotes.move(101, 101.02);
    await broker.submitOrder(order('sell', 15)); // at 101: closes 10 (+9.8), opens −5 at 101
    const [p] = await broker.getPositions();
    assert.deepEqual([p?.quantity, p?.average_price], [-5, 101]);
    assert.deepEqual(broker.getRealizedPnl(), { USD: 9.8 });
    assert.deepEqual(broker.getCashBalances(), { USD: 100_514.8 });
    quotes.move(100, 100.02);
    await broker.submitOrder(order('buy', 5)); // closes the short at 100.02: +0.98 × 5 = 4.9
    assert.deepEqual(await broker.getPositions(), []);
    assert.deepEqual(broker.getRealizedPnl(), { USD: 14.7 });
  });

  it('converts another quote currency to the account currency at the mid (USD_JPY)', async () => {
    quotes.set('USD_JPY', 149.994, 150.006); // mid 150
    await broker.submitOrder(order('buy', 1000, { type: 'market' }, GTC, 'USD_JPY'));
    assert.deepEqual(broker.getCashBalances(), { USD: 100_000, JPY: -150_006 });
    const a = await broker.getAccountInfo();
    // Balance: 100 000 − 150 006 / 150 = 98 999.96; the position is worth 1 000 × 150 JPY = 1 000 USD.
    assert.deepEqual([a.balance, a.equity, a.buying_power], [98_999.96, 99_999.96, 98_999.96]);
    assert.deepEqual(a.open_positions, [
      { symbol: 'USD_JPY', quantity: 1000, average_price: 150.006, current_price: 150, unrealized_pnl: -0.04 },
    ]);
  });

  it('keeps one position for every spelling of a symbol, reported as first spelled', async () => {
    quotes.set('EURUSD', 1.085, 1.08512);
    await broker.submitOrder(order('buy', 1000, { type: 'market' }, GTC, 'EUR_USD'));
    const r = await broker.submitOrder(order('sell', 400, { type: 'market' }, GTC, 'eur/usd'));
    assert.equal(r.symbol, 'eur/usd');
    assert.deepEqual(
      (await broker.getPositions()).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', 600]],
    );
  });
});
