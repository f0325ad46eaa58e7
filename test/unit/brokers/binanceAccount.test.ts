/**
 * The Binance account when a held asset's market has no book (a symbol not TRADING), against the fake Binance.
 *
 * Sources: binance-spot-api-docs enums.md "Symbol status" (TRADING, END_OF_DAY, HALT, BREAK, CANCEL_ONLY: only
 * TRADING takes new orders, so the others' books empty), rest-api.md "24hr ticker price change statistics" (bidPrice,
 * askPrice, lastPrice) and "Account information" (balances free + locked, whatever their markets do).
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError } from '../../../src/brokers/errors';
import { TestClock } from '../../../src/common/clock';
import { DEFAULT_SYMBOLS, startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

describe('Binance adapter: the account when a held asset has no book', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let said: string[];

  async function start(balances: Record<string, number>, extra = DEFAULT_SYMBOLS): Promise<void> {
    fake = await startFakeBinance({ balances, symbols: extra });
    said = [];
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock: new TestClock(),
      timeoutMs: 2000,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: (m) => said.push(m),
    });
    await broker.connect();
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('two holdings, one on a halted symbol (no bid, no ask): the account is read, that one marked at its last price', async () => {
    await start({ USDT: 1000, BTC: 1, ETH: 2 });
    fake.setQuote('ETHUSDT', 0, 0);
    const account = await broker.getAccountInfo();
    const eth = account.open_positions.find((p) => p.symbol === 'ETHUSDT');
    assert.deepEqual(eth, {
      symbol: 'ETHUSDT',
      quantity: 2,
      average_price: 2000.25,
      current_price: 2000.25,
      unrealized_pnl: 0,
    });
    assert.equal(account.open_positions.find((p) => p.symbol === 'BTCUSDT')?.current_price, 30010);
    assert.equal(account.equity, 1000 + 30010 + 2 * 2000.25);
    assert.deepEqual(said, []);
    // Trading at no price is still refused: a quote needs a bid and an ask.
    await assert.rejects(broker.getQuote('ETHUSDT'), (e: unknown) => isBrokerError(e) && e.reason === 'BAD_RESPONSE');
  });

  it('the only holding on a halted symbol: the account is read (one ticker), its position marked at its last price', async () => {
    await start({ USDT: 1000, ETH: 2 });
    fake.setQuote('ETHUSDT', 0, 0);
    const positions = await broker.getPositions();
    assert.deepEqual(
      positions.map((p) => [p.symbol, p.quantity, p.current_price]),
      [['ETHUSDT', 2, 2000.25]],
    );
    assert.equal((await broker.getAccountInfo()).buying_power, 1000);
  });

  it('a holding with no price at all (no book, never traded): still a position, valued at 0, and said once', async () => {
    const dead = { ...(DEFAULT_SYMBOLS[1] as (typeof DEFAULT_SYMBOLS)[number]), symbol: 'XYZUSDT', baseAsset: 'XYZ' };
    await start({ USDT: 1000, BTC: 1, XYZ: 5 }, [...DEFAULT_SYMBOLS, { ...dead, bid: 0, ask: 0 }]);
    const account = await broker.getAccountInfo();
    assert.deepEqual(
      account.open_positions.map((p) => [p.symbol, p.quantity, p.current_price]),
      [
        ['BTCUSDT', 1, 30010],
        ['XYZUSDT', 5, 0],
      ],
    );
    assert.equal(account.equity, 1000 + 30010);
    await broker.getAccountInfo();
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0] ?? '', /no price for XYZUSDT .*the XYZ held is a position valued at 0/);
  });
});
