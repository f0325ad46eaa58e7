/**
 * The Binance adapter, through the real ccxt client, against the IP's request weight. binance-spot-api-docs
 * rest-api.md "LIMITS" → "IP Limits": "Every request will contain `X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)`
 * in the response headers which has the current used weight for the IP for all request rate limiters defined";
 * "Each route has a weight"; the limits are "based on the IPs, not the API keys"; "When a 429 is received, it's your
 * obligation as an API to back off … Repeatedly violating rate limits and/or failing to back off after receiving 429s
 * will result in an automated IP ban (HTTP status 418)". The adapter polled at full weight however close the IP was
 * to its 6000 a minute (other programs on the IP spend it too), so the order that came next was refused 429.
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

let seq = 0;
const restingBuy = (): PlacedOrderRequest => ({
  symbol: 'BTCUSDT',
  side: 'buy',
  order_type: { type: 'limit', price: 29_000 },
  quantity: 0.001,
  time_in_force: { type: 'GTC' },
  client_order_id: `bn-weight-${++seq}`,
  metadata: {},
});

describe('Binance adapter: the IP request weight each reply reports (X-MBX-USED-WEIGHT-1M)', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let clock: TestClock;
  let warnings: string[];

  beforeEach(async () => {
    // The IP's weight is counted in one minute the whole test (a real minute could roll over between two requests).
    fake = await startFakeBinance({ weightClock: () => Date.UTC(2026, 0, 5, 14, 30, 30) });
    clock = new TestClock();
    warnings = [];
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock,
      timeoutMs: 2000,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: (m) => warnings.push(m),
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  const openOrderReads = (): number => fake.requestCounts()['GET /api/v3/openOrders (one symbol)'] ?? 0;

  it('near the limit the poll waits for the next minute; orders and cancels still go', async () => {
    await broker.submitOrder(restingBuy());
    fake.spendWeight(5_500); // other programs on this IP
    const second = await broker.submitOrder(restingBuy()); // its reply reports the IP's weight
    assert.equal(second.status.status, 'submitted');

    const before = openOrderReads();
    await broker.poll();
    await broker.poll();
    assert.equal(openOrderReads(), before, 'no poll while the weight is within a tenth of the limit');
    await broker.cancelOrder(second.order_id);
    assert.equal((await broker.submitOrder(restingBuy())).status.status, 'submitted');
    const said = warnings.filter((w) => /X-MBX-USED-WEIGHT-1M/.test(w));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.match(said[0]!, /used \d+ of its 6000 request weight this minute.*poll waits for the next minute/);

    clock.advance(60_000); // Binance's minute is over: the weight starts again
    await broker.poll();
    assert.equal(openOrderReads(), before + 1);
  });

  it('far from the limit the poll goes as always', async () => {
    await broker.submitOrder(restingBuy());
    const before = openOrderReads();
    await broker.poll();
    assert.equal(openOrderReads(), before + 1);
    assert.deepEqual(
      warnings.filter((w) => /weight/.test(w)),
      [],
    );
  });
});
