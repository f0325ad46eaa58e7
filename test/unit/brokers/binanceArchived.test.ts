/**
 * errors.md -2026 ORDER_ARCHIVED: "Order was canceled or expired with no executed qty over 90 days ago and has been
 * archived." A look-up answered so is about an order that is final, nothing of it executed, whose details Binance no
 * longer gives: said as that, not as a look-up that failed and "says nothing about the order" (ccxt calls it
 * InvalidOrder, and the look-up by client id turned it into a retryable failure).
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { reasonForBinanceCode } from '../../../src/brokers/binance/errors';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

const ARCHIVED_MESSAGE = 'Order was canceled or expired with no executed qty over 90 days ago and has been archived.';

let seq = 0;
const resting = (): PlacedOrderRequest => ({
  symbol: 'BTCUSDT',
  side: 'buy',
  order_type: { type: 'limit', price: 29000 },
  quantity: 0.001,
  time_in_force: { type: 'GTC' },
  client_order_id: `bn-archived-${++seq}`,
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

describe('Binance: an archived order (-2026 ORDER_ARCHIVED)', () => {
  let fake: FakeBinance;
  const brokers: BinanceBroker[] = [];
  const connect = async (): Promise<BinanceBroker> => {
    const broker = new BinanceBroker({
      environment: 'testnet',
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
  const venueId = (orderId: string): number => Number(orderId.split(':')[1]);

  beforeEach(async () => {
    fake = await startFakeBinance();
  });
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.disconnect();
    await fake.close();
  });

  it('is a final ORDER_NOT_FOUND, never "no such order" nor a retryable failure', () => {
    assert.equal(reasonForBinanceCode(-2026, ARCHIVED_MESSAGE), 'ORDER_NOT_FOUND');
  });

  it('an order this session followed, last seen working: its look-up ends it, cancelled, saying it was archived', async () => {
    const broker = await connect();
    const updates: OrderUpdate[] = [];
    broker.onOrderUpdate((u) => updates.push(u));
    const placed = await broker.submitOrder(resting());
    assert.deepEqual(placed.status, { status: 'submitted' });
    assert.equal(fake.archiveOrder(venueId(placed.order_id)), true);
    const now = await broker.getOrderStatus(placed.order_id);
    assert.equal(now.status.status, 'cancelled');
    assert.deepEqual(now.status, {
      status: 'cancelled',
      reason:
        'Binance archived it (-2026 ORDER_ARCHIVED): it was cancelled or expired with nothing executed, and its details are no longer available',
    });
    assert.equal(now.filled_quantity, null);
    assert.equal(now.client_order_id, placed.client_order_id);
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['submitted', 'cancelled'],
    );
    // Ended: the poll no longer asks after it.
    const asked = fake.requestCount('GET /api/v3/order');
    await broker.poll();
    assert.equal(fake.requestCount('GET /api/v3/order'), asked);
  });

  it('looked up after a restart (by client id, and by order id): the error says it is final and its details gone', async () => {
    const first = await connect();
    const placed = await first.submitOrder(resting());
    await first.cancelOrder(placed.order_id);
    assert.equal(fake.archiveOrder(venueId(placed.order_id)), true);
    const restarted = await connect();
    const byClient = await rejection(restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT' }));
    const byId = await rejection(restarted.getOrderStatus(placed.order_id));
    for (const e of [byClient, byId]) {
      assert.equal(e.reason, 'ORDER_NOT_FOUND');
      assert.equal(e.venueCode, -2026);
      assert.equal(e.retryable, false);
      assert.equal(e.outcomeUnknown, false);
      assert.match(
        e.message,
        /Order was canceled or expired with no executed qty over 90 days ago and has been archived/,
      );
      assert.match(
        e.message,
        /the order is final: Binance archived it, .* nothing of it is working or can fill, and its details \(price, quantity, times\) are no longer available from Binance$/,
      );
      assert.doesNotMatch(e.message, /says nothing about the order/);
    }
    // Asked once each: a final answer is not asked again.
    assert.equal(fake.requestCount('GET /api/v3/order'), 2);
  });

  it("after a restart, with the caller's last view (the engine's saved order): ended as in session; with fills there, the error stands", async () => {
    const first = await connect();
    const placed = await first.submitOrder(resting());
    assert.equal(fake.archiveOrder(venueId(placed.order_id)), true);
    const restarted = await connect();
    const now = await restarted.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: placed });
    assert.equal(now?.order_id, placed.order_id);
    assert.equal(now?.client_order_id, placed.client_order_id);
    assert.deepEqual(now?.status, {
      status: 'cancelled',
      reason:
        'Binance archived it (-2026 ORDER_ARCHIVED): it was cancelled or expired with nothing executed, and its details are no longer available',
    });
    // A last view with a fill cannot be the order Binance archived (nothing executed): the error is said as it is.
    const filled = {
      ...placed,
      filled_quantity: 0.0005,
      status: { status: 'partially_filled' as const, filled_qty: 0.0005 },
    };
    const again = await connect();
    const e = await rejection(again.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: filled }));
    assert.equal(e.venueCode, -2026);
    // Another order's view is not taken for this one.
    const other = { ...placed, client_order_id: 'someone-else' };
    const e2 = await rejection(again.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT', last: other }));
    assert.equal(e2.venueCode, -2026);
  });
});
