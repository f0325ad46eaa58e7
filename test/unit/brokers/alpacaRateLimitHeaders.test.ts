/**
 * The Alpaca adapter, through the real SDK, against the rate-limit headers every trading-API reply carries. Alpaca
 * "Rate limits" (docs.alpaca.markets/docs/rate-limits; the SDK README "Rate limiting": "Alpaca enforces roughly 200
 * requests/minute"): a limit per account, 429 past it, and `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
 * `X-RateLimit-Reset` ("The time at which the current rate limit window resets in UTC epoch seconds"). The adapter
 * turns the SDK's own limiter off (it would hide 429s from the engine), so it polled whatever was left of the minute:
 * with other programs on the same keys the poll spent the last requests and the order after it was refused 429.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { newClientOrderId } from '../../../src/common/ids';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const restingBuy = (): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: { type: 'limit', price: 140 },
  quantity: 1,
  time_in_force: { type: 'GTC' },
  client_order_id: newClientOrderId('r'),
  metadata: {},
});

describe('Alpaca adapter: the rate limit each reply reports (X-RateLimit-Remaining)', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;
  let errors: string[];
  let now: number;

  beforeEach(async () => {
    // The fake's window is held 30 s into a minute that has not begun, so it does not roll over during the test.
    const window = (Math.floor(Date.now() / 60_000) + 1) * 60_000 + 30_000;
    fake = await startFakeAlpaca({ rateLimitClock: () => window });
    fake.setQuote('AAPL', 150, 150.1);
    errors = [];
    now = 1_000_000;
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      retry: { now: () => now, sleep: () => Promise.resolve() },
      onError: (m) => errors.push(m),
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  const listReads = (): number => fake.orderListRequests().length;

  it('near the limit the poll waits for the reset; orders and cancels still go; after the reset it polls again', async () => {
    await broker.submitOrder(restingBuy());
    fake.spendRequests(185); // other programs on these keys
    const second = await broker.submitOrder(restingBuy()); // its reply says how few are left
    assert.equal(second.status.status, 'submitted');

    const before = listReads();
    await broker.pollOpenOrders();
    await broker.pollOpenOrders();
    assert.equal(listReads(), before, 'no poll while a tenth of the limit or less is left');
    await broker.cancelOrder(second.order_id);
    assert.equal((await broker.submitOrder(restingBuy())).status.status, 'submitted');
    const said = errors.filter((e) => /X-RateLimit-Remaining/.test(e));
    assert.equal(said.length, 1, errors.join('\n'));
    assert.match(said[0]!, /of the account's 200 requests a minute are left .* the order poll waits for the reset/);

    now += 121_000; // past the reset (the held window ends within two minutes of now)
    await broker.pollOpenOrders();
    assert.equal(listReads(), before + 1);
  });

  it('with room left the poll goes as always', async () => {
    await broker.submitOrder(restingBuy());
    const before = listReads();
    await broker.pollOpenOrders();
    assert.equal(listReads(), before + 1);
    assert.deepEqual(
      errors.filter((e) => /X-RateLimit/.test(e)),
      [],
    );
  });
});
