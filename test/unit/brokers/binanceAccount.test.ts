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
import { binanceOnFake } from '../../kit/binance';

describe('Binance adapter: the account when a held asset has no book', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let said: string[];

  async function start(balances: Record<string, number>, extra = DEFAULT_SYMBOLS): Promise<void> {
    fake = await startFakeBinance({ balances, symbols: extra });
    said = [];
    broker = binanceOnFake(fake, (m) => said.push(m));
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

describe('Binance adapter: fees paid in BNB, priced without a request per order', () => {
  const withBnb = {
    bnbFeePrice: 600,
    balances: { USDT: 100_000, BTC: 1, BNB: 5 },
    symbols: [
      ...DEFAULT_SYMBOLS,
      {
        symbol: 'BNBUSDT',
        baseAsset: 'BNB',
        quoteAsset: 'USDT',
        tickSize: 0.1,
        stepSize: 0.001,
        minQty: 0.001,
        minNotional: 5,
        bid: 599.9,
        ask: 600.1,
      },
    ],
  };
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let clockMs: number;

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('three market orders charged in BNB (rest-api "New order" FULL fills[].commissionAsset): one BNBUSDT read a minute, each fee valued', async () => {
    fake = await startFakeBinance(withBnb);
    clockMs = 0;
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock: new TestClock(),
      timeoutMs: 2000,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: () => undefined,
      retry: { now: () => clockMs, sleep: async (ms) => void (clockMs += ms) },
    });
    await broker.connect();
    const tickers = (): number => fake.requestCount('GET /api/v3/ticker/24hr');
    const before = tickers();
    const buy = (n: number) => ({
      symbol: 'BTCUSDT',
      side: 'buy' as const,
      order_type: { type: 'market' as const },
      quantity: 0.003,
      time_in_force: { type: 'IOC' as const },
      client_order_id: `bn-bnb-${n}`,
      metadata: {},
    });
    const first = await broker.submitOrder(buy(1));
    const second = await broker.submitOrder(buy(2));
    // 0.003 × 30011 × 0.001 = 0.090033 USDT, charged as 0.00015006 BNB, valued at the BNB mid (600): 0.090036.
    assert.equal(first.commission, 0.090036);
    assert.equal(second.commission, 0.090036);
    assert.equal(tickers() - before, 1, 'the BNB price read for the first order serves the second');
    // A minute later the price is read again, and the new one values the fee.
    clockMs += 60_000;
    fake.setQuote('BNBUSDT', 699.9, 700.1);
    const third = await broker.submitOrder(buy(3));
    assert.equal(tickers() - before, 2);
    assert.equal(third.commission, Number((0.00015006 * 700).toFixed(8)));
  });
});

describe('Binance adapter: an account holding many assets is marked at the weight of one ticker request', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('25 holdings (rest-api.md "24hr ticker" weighs 40 for 21–100 symbols, "Symbol order book ticker" 4): marked for at most 8', async () => {
    const coins = Array.from({ length: 23 }, (_, i) => `C${String(i + 1).padStart(2, '0')}X`);
    const symbols = [
      ...DEFAULT_SYMBOLS,
      ...coins.map((c, i) => ({
        symbol: `${c}USDT`,
        baseAsset: c,
        quoteAsset: 'USDT',
        tickSize: 0.01,
        stepSize: 0.01,
        minQty: 0.01,
        minNotional: 5,
        bid: 10 + i,
        ask: 10.02 + i,
      })),
    ];
    const balances: Record<string, number> = { USDT: 1000, BTC: 1, ETH: 2 };
    for (const c of coins) balances[c] = 3;
    fake = await startFakeBinance({ balances, symbols });
    broker = binanceOnFake(fake);
    await broker.connect();
    // One coin's book is empty (a symbol not TRADING): it is marked at its last price.
    fake.setQuote('C05XUSDT', 0, 0);
    const before = fake.usedWeight();
    const account = await broker.getAccountInfo();
    assert.equal(account.open_positions.length, 25);
    const mark = (s: string) => Number(account.open_positions.find((p) => p.symbol === s)?.current_price.toFixed(8));
    assert.equal(mark('BTCUSDT'), 30010);
    assert.equal(mark('C01XUSDT'), 10.01);
    assert.equal(mark('C23XUSDT'), 32.01);
    assert.equal(mark('C05XUSDT'), 14.01);
    // The account read at connect is reused (readReuseMs 0 still shares nothing: it is read again, 20).
    assert.ok(fake.usedWeight() - before <= 20 + 8, `weight ${fake.usedWeight() - before}`);
  });
});

describe('Binance adapter: a symbol that is not TRADING (enums.md "Symbol status")', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('its quote says the symbol is not trading, and an order is rejected with "Market is closed." (-2010)', async () => {
    const halted = {
      ...(DEFAULT_SYMBOLS[1] as (typeof DEFAULT_SYMBOLS)[number]),
      symbol: 'XYZUSDT',
      baseAsset: 'XYZ',
      bid: 0,
      ask: 0,
      status: 'BREAK' as const,
    };
    fake = await startFakeBinance({ symbols: [...DEFAULT_SYMBOLS, halted] });
    broker = binanceOnFake(fake);
    await broker.connect();
    await assert.rejects(
      broker.getQuote('XYZUSDT'),
      (e: unknown) =>
        isBrokerError(e) && e.reason === 'BAD_RESPONSE' && /XYZUSDT .*BREAK \(not TRADING\)/.test(e.message),
    );
    const r = await broker.submitOrder({
      symbol: 'XYZUSDT',
      side: 'buy',
      order_type: { type: 'limit', price: 10 },
      quantity: 1,
      time_in_force: { type: 'GTC' },
      client_order_id: 'bn-halted-1',
      metadata: {},
    });
    assert.equal(r.status.status, 'rejected');
    assert.match(r.status.status === 'rejected' ? r.status.reason : '', /Market is closed\. \(Binance code -2010/);
  });

  it('a book left in a symbol in HALT is not the live price: flagged to the checks, saying the status', async () => {
    const halted = {
      ...(DEFAULT_SYMBOLS[1] as (typeof DEFAULT_SYMBOLS)[number]),
      symbol: 'XYZUSDT',
      baseAsset: 'XYZ',
      bid: 10,
      ask: 10.1,
      status: 'HALT' as const,
    };
    fake = await startFakeBinance({ symbols: [...DEFAULT_SYMBOLS, halted] });
    broker = binanceOnFake(fake);
    await broker.connect();
    const q = await broker.getQuote('XYZUSDT');
    assert.equal(q.bid, 10);
    assert.equal(q.delayed, true);
    assert.match(q.delayed_reason ?? '', /^Binance listed XYZUSDT as HALT \(not TRADING\) when SPtrader connected/);
    assert.equal((await broker.getQuote('BTCUSDT')).delayed, undefined, 'a TRADING symbol is live');
  });
});
