/**
 * The read cache (src/brokers/readCache.ts) on its own, on an injected clock, and behind the OANDA,
 * Binance and Alpaca adapters against their fakes, counting the requests each fake receives: identical
 * reads in flight share one request, an account read is reused only while fresh and only until an
 * order of ours changes something, and quotes are never reused.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import { ReadCache } from '../../../src/brokers/readCache';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeBinance } from '../../fakes/binance/server';
import { startFakeOanda } from '../../fakes/oanda/server';

/** A promise and the functions that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('read cache', () => {
  let now = 0;
  const clock = (): number => now;
  beforeEach(() => (now = 1000));

  it('shares a read in flight, reuses it while fresh (from when it was sent), then reads again', async () => {
    const cache = new ReadCache(1000, clock);
    let loads = 0;
    const gate = deferred<string>();
    const load = () => {
      loads++;
      return loads === 1 ? gate.promise : Promise.resolve(`answer ${loads}`);
    };
    const a = cache.read('account', load);
    now += 300;
    const b = cache.read('account', load);
    gate.resolve('answer 1');
    assert.deepEqual(await Promise.all([a, b]), ['answer 1', 'answer 1']);
    assert.equal(loads, 1);
    now = 1000 + 1000;
    assert.equal(await cache.read('account', load), 'answer 1', 'fresh for 1000 ms from when it was sent');
    now += 1;
    assert.equal(await cache.read('account', load), 'answer 2');
    assert.equal(loads, 2);
  });

  it('after invalidate() nothing read before is reused, and a read in flight then is neither joined nor kept', async () => {
    const cache = new ReadCache(60_000, clock);
    let loads = 0;
    const gate = deferred<string>();
    const load = () => {
      loads++;
      return loads === 1 ? gate.promise : Promise.resolve(`answer ${loads}`);
    };
    const before = cache.read('account', load);
    cache.invalidate();
    const after = cache.read('account', load);
    gate.resolve('answer 1');
    assert.equal(await before, 'answer 1');
    assert.equal(await after, 'answer 2');
    assert.equal(await cache.read('account', load), 'answer 2', 'the read sent after the change is kept');
    assert.equal(loads, 2);
    cache.invalidate();
    assert.equal(await cache.read('account', load), 'answer 3');
  });

  it('with reuse 0 it only shares reads in flight; a failed read is not kept', async () => {
    const cache = new ReadCache(0, clock);
    let loads = 0;
    const gate = deferred<number>();
    const a = cache.read('q', () => (loads++, gate.promise));
    const b = cache.read('q', () => (loads++, gate.promise));
    gate.resolve(7);
    assert.deepEqual(await Promise.all([a, b]), [7, 7]);
    assert.equal(await cache.read('q', () => (loads++, Promise.resolve(8))), 8);
    assert.equal(loads, 2);
    const reuse = new ReadCache(1000, clock);
    await assert.rejects(
      reuse.read('x', () => Promise.reject(new Error('venue down'))),
      /venue down/,
    );
    assert.equal(await reuse.read('x', () => Promise.resolve('up')), 'up');
  });
});

const order = (symbol: string, quantity: number, tif: 'IOC' | 'GTC', id: string): PlacedOrderRequest => ({
  symbol,
  side: 'buy',
  quantity,
  order_type: { type: 'market' },
  time_in_force: { type: tif },
  client_order_id: id,
  metadata: {},
});

describe('read cache behind the adapters (requests counted at the fakes)', () => {
  it('OANDA: two account reads make one, an order makes the next one fresh, quotes are read every time', async () => {
    const fake = await startFakeOanda();
    const broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      readReuseMs: 60_000,
    });
    try {
      await broker.connect();
      const summaries = fake.requestCount('GET /summary');
      const [a, b] = await Promise.all([broker.getAccountInfo(), broker.getAccountInfo()]);
      await broker.getAccountInfo();
      assert.deepEqual(a, b);
      assert.equal(fake.requestCount('GET /summary') - summaries, 1);
      await broker.submitOrder(order('EUR_USD', 100, 'IOC', 'rc-oanda-1'));
      const after = await broker.getAccountInfo();
      assert.equal(fake.requestCount('GET /summary') - summaries, 2, 'the order changed the account: read again');
      assert.deepEqual(
        after.open_positions.map((p) => [p.symbol, p.quantity]),
        [['EUR_USD', 100]],
      );
      const pricing = fake.requestCount('GET /pricing');
      fake.setQuote('EUR_USD', 1.2, 1.2002);
      assert.equal((await broker.getQuote('EUR_USD')).ask, 1.2002);
      fake.setQuote('EUR_USD', 1.3, 1.3002);
      assert.equal((await broker.getQuote('EUR_USD')).ask, 1.3002);
      assert.equal(fake.requestCount('GET /pricing') - pricing, 2);
    } finally {
      await broker.disconnect();
      await fake.close();
    }
  });

  it('Binance: the account read at connect serves the next read; a poll with no order of ours working sends nothing', async () => {
    const fake = await startFakeBinance();
    const broker = new BinanceBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      pollIntervalMs: 0,
      enableRateLimit: false,
      readReuseMs: 60_000,
    });
    try {
      await broker.connect();
      assert.equal(fake.requestCount('GET /api/v3/account'), 1);
      await broker.getPositions();
      await broker.getAccountInfo();
      assert.equal(fake.requestCount('GET /api/v3/account'), 1);
      const before = fake.requestCount();
      await broker.poll();
      assert.equal(fake.requestCount(), before);
      // A resting order is polled by its symbol (weight 6), not across every symbol (80).
      await broker.submitOrder({
        ...order('BTCUSDT', 0.001, 'GTC', 'rc-binance-1'),
        order_type: { type: 'limit', price: 20000 },
      });
      await broker.poll();
      assert.deepEqual(
        Object.keys(fake.requestCounts()).filter((r) => r.includes('openOrders')),
        ['GET /api/v3/openOrders (one symbol)'],
      );
      assert.equal(fake.requestCount('GET /api/v3/account'), 1, 'nothing read the account since the order');
      await broker.getAccountInfo();
      assert.equal(fake.requestCount('GET /api/v3/account'), 2);
    } finally {
      await broker.disconnect();
      await fake.close();
    }
  });

  it('Alpaca: an account read right after connecting reuses the key check; with reuse 0 every read is sent', async () => {
    const fake = await startFakeAlpaca();
    const make = (readReuseMs: number) =>
      new AlpacaBroker({
        baseUrl: fake.url,
        dataBaseUrl: fake.url,
        credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
        pollIntervalMs: 0,
        readReuseMs,
      });
    const reusing = make(60_000);
    const plain = make(0);
    try {
      await reusing.connect();
      await reusing.getAccountInfo();
      assert.equal(fake.requestCount('GET /v2/account'), 1);
      await plain.connect();
      await plain.getAccountInfo();
      await plain.getAccountInfo();
      assert.equal(fake.requestCount('GET /v2/account'), 4);
    } finally {
      await reusing.disconnect();
      await plain.disconnect();
      await fake.close();
    }
  });
});
