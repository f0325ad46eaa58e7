/**
 * The Binance adapter, through the real ccxt client, against each response type a new order may get.
 *
 * Source (binance-spot-api-docs rest-api.md "New order (TRADE)"): `newOrderRespType` "Set the response JSON. ACK,
 * RESULT, or FULL; MARKET and LIMIT order types default to FULL, all other orders default to ACK."; "Response - ACK":
 * `{"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}`; "Response - RESULT": the order without
 * `fills`; "Response - FULL": with `fills`. An ACK (a stop-limit on a venue that answers with the type's default) was
 * an unreadable reply: the order was called unknown and looked up later; a RESULT's fill lost its fee.
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { eventsOf } from '../../kit/orderUpdates';
import { startFakeBinance, type FakeBinance, type FakeBinanceOptions } from '../../fakes/binance/server';
import { binanceOnFake } from '../../kit/binance';

let seq = 0;
function order(overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 0.003,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-resp-${process.pid}-${++seq}`,
    metadata: {},
    ...overrides,
  };
}

describe('Binance adapter: new-order response types ACK, RESULT and FULL', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let updates: OrderUpdate[];
  let warnings: string[];

  async function setUp(options: FakeBinanceOptions): Promise<void> {
    fake = await startFakeBinance(options);
    warnings = [];
    broker = binanceOnFake(fake, (m) => warnings.push(m));
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('a stop-limit answered with its default ACK is read at once: working, sent once, no error', async () => {
    await setUp({ newOrderRespType: 'typeDefault' });
    const r = await broker.submitOrder(
      order({ order_type: { type: 'stop_limit', stop_price: 31_000, limit_price: 31_010 } }),
    );
    assert.equal(r.status.status, 'submitted');
    assert.deepEqual(r.order_type, { type: 'stop_limit', stop_price: 31_000, limit_price: 31_010 });
    assert.equal(fake.requestCount('POST /api/v3/order'), 1);
    assert.deepEqual(eventsOf(updates, r.order_id), ['submitted']);
    // A market order keeps its FULL reply: filled, with its fills.
    const m = await broker.submitOrder(order());
    assert.equal(m.status.status, 'filled');
    assert.ok(m.fills.length > 0);
    assert.deepEqual(warnings, []);
  });

  it('a market order answered ACK: filled, its fills and fee from its trades, each once', async () => {
    await setUp({ newOrderRespType: 'ACK' });
    const r = await broker.submitOrder(order());
    assert.equal(r.status.status, 'filled');
    assert.equal(r.filled_quantity, 0.003);
    assert.ok(r.fills.length > 0 && r.fills.every((f) => /^BTCUSDT:\d+$/.test(f.fill_id)), JSON.stringify(r.fills));
    assert.ok((r.commission ?? 0) > 0, `the fee is counted: ${r.commission}`);
    assert.deepEqual(eventsOf(updates, r.order_id), ['fill 0.003']);
    await broker.getOrderStatus(r.order_id);
    assert.deepEqual(eventsOf(updates, r.order_id), ['fill 0.003']);
    assert.equal(fake.requestCount('POST /api/v3/order'), 1);
    assert.deepEqual(warnings, []);
  });

  it('a market order answered RESULT (no fills listed): its fills and fee from its trades', async () => {
    await setUp({ newOrderRespType: 'RESULT' });
    const r = await broker.submitOrder(order());
    assert.equal(r.status.status, 'filled');
    assert.ok(r.fills.length > 0 && r.fills.every((f) => /^BTCUSDT:\d+$/.test(f.fill_id)), JSON.stringify(r.fills));
    assert.ok((r.commission ?? 0) > 0, `the fee is counted: ${r.commission}`);
    assert.deepEqual(eventsOf(updates, r.order_id), ['fill 0.003']);
    assert.deepEqual(warnings, []);
  });
});
