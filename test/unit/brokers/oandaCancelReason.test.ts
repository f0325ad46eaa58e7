/**
 * An order OANDA cancels itself carries OANDA's reason in the `cancelled` update the engine sees, so the user
 * reads why (INSUFFICIENT_MARGIN, INSUFFICIENT_LIQUIDITY, …), not a bare "cancelled". A cancel the client asked
 * for (CLIENT_REQUEST) carries none.
 *
 * Sources (oanda/v20-openapi json/v20.json @70324cf): `OrderCancelTransaction.reason` ("The reason that the Order
 * was cancelled", an `OrderCancelReason`: CLIENT_REQUEST, INSUFFICIENT_MARGIN, INSUFFICIENT_LIQUIDITY,
 * MARKET_HALTED, TIME_IN_FORCE_EXPIRED, BOUNDS_VIOLATION, …); `POST /accounts/{accountID}/orders` 201
 * (`orderCancelTransaction` beside `orderFillTransaction` for an IOC filled in part); `TimeInForce` (FOK "Filled
 * Or Killed", IOC "Immediately partially filled Or Cancelled"). The fake (test/fakes/oanda/server.ts) cancels
 * with these reasons.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { OrderResponse, OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda, type FakeOandaOptions } from '../../fakes/oanda/server';

let sequence = 0;
function order(quantity: number, orderType: OrderType, tif: TimeInForce): PlacedOrderRequest {
  return {
    symbol: 'EUR_USD',
    side: 'buy',
    quantity,
    order_type: orderType,
    time_in_force: tif,
    metadata: {},
    client_order_id: `oa-why-${process.pid}-${++sequence}`,
  };
}
const reasonOf = (r: OrderResponse | undefined): string | undefined =>
  r?.status.status === 'cancelled' ? r.status.reason : undefined;

describe('OANDA: an order OANDA cancelled itself carries OANDA’s reason', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;
  let updates: OrderUpdate[];

  async function setUp(options: FakeOandaOptions = {}): Promise<void> {
    fake = await startFakeOanda(options);
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: () => undefined,
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  const cancelledUpdate = (orderId: string): OrderUpdate | undefined =>
    updates.find((u) => u.order.order_id === orderId && u.order.status.status === 'cancelled');

  it('a resting stop cancelled for INSUFFICIENT_MARGIN when it triggers: the update says so', async () => {
    await setUp({ balance: 100 });
    const r = await broker.submitOrder(order(100_000, { type: 'stop', price: 1.101 }, { type: 'GTC' }));
    assert.equal(r.status.status, 'submitted');
    fake.setQuote('EUR_USD', 1.1011, 1.1013);
    await broker.poll();
    const u = cancelledUpdate(r.order_id);
    assert.ok(u, 'no cancelled update');
    assert.match(reasonOf(u.order) ?? '', /INSUFFICIENT_MARGIN/);
    // Read again: the same reason.
    assert.match(reasonOf(await broker.getOrderStatus(r.order_id)) ?? '', /INSUFFICIENT_MARGIN/);
  });

  it('FOK killed for liquidity: cancelled with INSUFFICIENT_LIQUIDITY', async () => {
    await setUp();
    fake.setLiquidity('EUR_USD', 600);
    const r = await broker.submitOrder(order(1000, { type: 'market' }, { type: 'FOK' }));
    assert.equal(r.status.status, 'cancelled');
    assert.match(reasonOf(r) ?? '', /INSUFFICIENT_LIQUIDITY/);
    assert.match(reasonOf(cancelledUpdate(r.order_id)?.order) ?? '', /INSUFFICIENT_LIQUIDITY/);
  });

  it('IOC filled in part: the fill, then cancelled with OANDA’s reason for the rest', async () => {
    await setUp();
    fake.setLiquidity('EUR_USD', 600);
    const r = await broker.submitOrder(order(1000, { type: 'market' }, { type: 'IOC' }));
    assert.equal(r.filled_quantity, 600);
    assert.match(reasonOf(r) ?? '', /INSUFFICIENT_LIQUIDITY/);
    assert.match(reasonOf(cancelledUpdate(r.order_id)?.order) ?? '', /INSUFFICIENT_LIQUIDITY/);
  });

  it('a cancel the client asked for carries no reason', async () => {
    await setUp();
    const r = await broker.submitOrder(order(10, { type: 'limit', price: 1.05 }, { type: 'GTC' }));
    await broker.cancelOrder(r.order_id);
    assert.equal(cancelledUpdate(r.order_id)?.order.status.status, 'cancelled');
    assert.equal(reasonOf(cancelledUpdate(r.order_id)?.order), undefined);
    assert.equal(reasonOf(await broker.getOrderStatus(r.order_id)), undefined);
  });
});
