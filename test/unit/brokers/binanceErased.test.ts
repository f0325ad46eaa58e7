/**
 * An order Binance acknowledged, that it later answers -2013 "Order does not exist." for (errors.md NO_SUCH_ORDER),
 * looked up after a restart with the engine's last view of it (OrderLookupHint.last, as the Reconciler passes it).
 * It was "never saw it" (undefined): the engine, which judges only unacknowledged orders absent, left it working for
 * ever. By the documentation: the Spot Test Network "is reset about once a month" and its orders deleted
 * (testnet.binance.vision FAQ), so on the testnet the order is ended, cancelled, saying why; live Binance deletes no
 * order (one cancelled or expired with nothing executed is archived, answering -2026: rest-api.md "Query order"),
 * so there it is an error that says what to check, and the order is not ended. Nothing is ever sent again.
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

let seq = 0;
const resting = (): PlacedOrderRequest => ({
  symbol: 'BTCUSDT',
  side: 'buy',
  order_type: { type: 'limit', price: 29000 },
  quantity: 0.001,
  time_in_force: { type: 'GTC' },
  client_order_id: `bn-erased-${++seq}`,
  metadata: {},
});

async function rejection(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('Binance: an acknowledged order answered -2013 after a restart', () => {
  let fake: FakeBinance;
  const brokers: BinanceBroker[] = [];
  const connect = async (environment: 'testnet' | 'live' = 'testnet'): Promise<BinanceBroker> => {
    const broker = new BinanceBroker({
      environment,
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      clock: new TestClock(),
      timeoutMs: 800,
      pollIntervalMs: 0,
      enableRateLimit: false,
    });
    brokers.push(broker);
    await broker.connect();
    return broker;
  };

  beforeEach(async () => {
    fake = await startFakeBinance();
  });
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.disconnect();
    await fake.close();
  });

  it('testnet, reset since: ended, cancelled, saying the reset deleted it; asked by client id and by its id', async () => {
    const placed = await (await connect()).submitOrder(resting());
    fake.wipeOrders();
    const restarted = await connect();
    const updates: OrderUpdate[] = [];
    restarted.onOrderUpdate((u) => updates.push(u));
    const lookups = fake.requestCount('GET /api/v3/order');
    const now = await restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: placed });
    assert.equal(now?.order_id, placed.order_id);
    assert.equal(now?.status.status, 'cancelled');
    assert.match(
      now?.status.status === 'cancelled' ? (now.status.reason ?? '') : '',
      /^Binance \(testnet\) no longer knows it \(-2013 "Order does not exist\."\), last seen submitted: the testnet deletes every order when it is reset/,
    );
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['cancelled'],
    );
    assert.equal(fake.requestCount('GET /api/v3/order'), lookups + 2, 'by client id, then by its id');
    assert.equal(fake.requestCount('POST /api/v3/order'), 1, 'nothing sent again');
  });

  it('without a last view that Binance acknowledged: still "never saw it" (the engine judges its absence)', async () => {
    const placed = await (await connect()).submitOrder(resting());
    fake.wipeOrders();
    const restarted = await connect();
    assert.equal(await restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT' }), undefined);
    // A view without Binance's id (sent, never answered) is not an acknowledged order.
    const unanswered = { ...placed, order_id: '' };
    assert.equal(
      await restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: unanswered }),
      undefined,
    );
    // Nor is one already final.
    const ended = { ...placed, status: { status: 'cancelled' as const } };
    assert.equal(
      await restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: ended }),
      undefined,
    );
  });

  it('live: not ended, an error that says live Binance deletes no order and what to check', async () => {
    const placed = await (await connect('live')).submitOrder(resting());
    fake.wipeOrders();
    const restarted = await connect('live');
    const updates: OrderUpdate[] = [];
    restarted.onOrderUpdate((u) => updates.push(u));
    const e = await rejection(
      restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: placed }),
    );
    assert.equal(e.reason, 'ORDER_NOT_FOUND');
    assert.equal(e.retryable, false);
    assert.equal(e.venueCode, -2013);
    assert.match(e.message, /though it acknowledged it and it was last seen submitted: live Binance deletes no order/);
    assert.match(e.message, /check that this profile's API key is for the account that placed it/);
    assert.deepEqual(updates, []);
    assert.equal(fake.requestCount('POST /api/v3/order'), 1);
  });
});
