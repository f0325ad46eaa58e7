/**
 * The Binance adapter, through the real ccxt client, against an order the user amends at Binance while SPtrader
 * follows it. rest-api.md "Order Amend Keep Priority (TRADE)" (`PUT /api/v3/order/amend/keepPriority`: "Reduce the
 * quantity of an existing open order"; `newClientOrderId`: "The new client order ID for the order after being
 * amended. If not sent, one will be randomly generated") and faqs/order_amend_keep_priority.md ("Note that the order
 * ID stays the same and the order keeps its priority in the queue"; "By default, amended orders get a random new
 * client order ID"). The order stays ours: the engine finds an order by its client order id, and an update under
 * one it never gave is an external order's, so the fills of an amended order went to an "external" order while
 * ours stayed working.
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { binanceOnFake } from '../../kit/binance';
import { makeRig, type Rig } from '../execution/engineHelpers';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

let seq = 0;
function restingBuy(quantity: number): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'limit', price: 29_000 },
    quantity,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-amend-${++seq}`,
    metadata: {},
  };
}

const binanceId = (orderId: string): number => Number(orderId.split(':')[1]);

describe('Binance adapter: an order amended at Binance (Order Amend Keep Priority)', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let updates: OrderUpdate[];
  let warnings: string[];

  beforeEach(async () => {
    fake = await startFakeBinance();
    warnings = [];
    broker = binanceOnFake(fake, (m) => warnings.push(m));
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('stays ours under our client order id; filled at its reduced quantity, it ends cancelled saying so', async () => {
    const o = restingBuy(0.004);
    const placed = await broker.submitOrder(o);
    assert.equal(placed.status.status, 'submitted');
    const newId = fake.amendKeepPriority(binanceId(placed.order_id), 0.0015);
    assert.notEqual(newId, o.client_order_id);

    // Still open at Binance under its new client order id: the poll sees it and says what happened, once.
    await broker.poll();
    const open = await broker.listOpenOrders();
    const mine = open.find((v) => v.order_id === placed.order_id);
    assert.equal(mine?.client_order_id, o.client_order_id, 'listed under our client order id');
    assert.equal(mine?.quantity, 0.004, 'as we placed it: the amend took the rest away');
    assert.equal(warnings.filter((w) => /amended/.test(w)).length, 1, warnings.join('\n'));
    assert.match(warnings.find((w) => /amended/.test(w)) ?? '', new RegExp(`0\\.0015.*${newId}|${newId}.*0\\.0015`));

    // The market reaches the limit: Binance fills the 0.0015 left and calls the order FILLED.
    fake.setQuote('BTCUSDT', 28_990, 28_995);
    await broker.poll();

    for (const u of updates)
      assert.equal(u.order.client_order_id, o.client_order_id, `every update is ours: ${JSON.stringify(u.order)}`);
    const fills = updates.filter((u) => u.fill !== undefined);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]?.fill?.quantity, 0.0015);
    assert.equal(fills[0]?.fill?.price, 29_000);
    assert.equal(fills[0]?.fill?.client_order_id, o.client_order_id);
    const last = updates[updates.length - 1];
    assert.equal(last?.order.status.status, 'cancelled', 'its last 0.0025 will never fill: the amend took it away');
    assert.match(last?.order.status.reason ?? '', /amended at Binance.*0\.004.*0\.0015/);
    assert.equal(last?.order.filled_quantity, 0.0015);
  });

  it('amended keeping its client order id (newClientOrderId = the current one): ended once its new size filled', async () => {
    const o = restingBuy(0.004);
    const placed = await broker.submitOrder(o);
    assert.equal(fake.amendKeepPriority(binanceId(placed.order_id), 0.0025, o.client_order_id), o.client_order_id);
    fake.setQuote('BTCUSDT', 28_990, 28_995);
    await broker.poll();
    const done = await broker.getOrderByClientId(o.client_order_id);
    assert.equal(done?.status.status, 'cancelled');
    assert.match(done?.status.reason ?? '', /from 0\.004 to 0\.0025/);
    assert.equal(done?.quantity, 0.004);
    assert.deepEqual(
      updates.filter((u) => u.fill !== undefined).map((u) => u.fill?.quantity),
      [0.0025],
    );
  });

  it('after a restart, the look-up by our client order id finds it by its Binance id, as ours', async () => {
    const o = restingBuy(0.003);
    const placed = await broker.submitOrder(o);
    fake.amendKeepPriority(binanceId(placed.order_id), 0.001);
    fake.setQuote('BTCUSDT', 28_990, 28_995);
    await broker.disconnect();

    // A new session knows only what the engine saved: the symbol and its last view.
    const again = binanceOnFake(fake, (m) => warnings.push(m));
    const seen: OrderUpdate[] = [];
    again.onOrderUpdate((u) => seen.push(u));
    await again.connect();
    try {
      const found = await again.getOrderByClientId(o.client_order_id, { symbol: o.symbol, last: placed });
      assert.equal(found?.client_order_id, o.client_order_id);
      assert.equal(found?.order_id, placed.order_id);
      assert.equal(found?.filled_quantity, 0.001);
      assert.equal(found?.status.status, 'cancelled');
      for (const u of seen) assert.equal(u.order.client_order_id, o.client_order_id);
      assert.equal(seen.filter((u) => u.fill !== undefined).length, 1);
    } finally {
      await again.disconnect();
    }
  });

  it('through the engine: the order ends CANCELLED with its fill and position, and no external order', async () => {
    const rig: Rig = await makeRig();
    try {
      rig.engine.addBroker('binance', broker);
      await rig.engine.connect('binance');
      const held = rig.engine.positionsOf('binance')['BTCUSDT'] ?? 0;
      const o = restingBuy(0.004);
      const placed = await rig.engine.submitOrder(o, 'binance');
      assert.equal(placed.denial, undefined, JSON.stringify(placed.denial));
      assert.equal(placed.order.state, 'ACCEPTED');
      fake.amendKeepPriority(binanceId(placed.order.venueOrderId ?? ''), 0.0015);
      fake.setQuote('BTCUSDT', 28_990, 28_995);
      await broker.poll();
      const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
      assert.equal(final?.state, 'CANCELLED');
      assert.match(final?.reason ?? '', /amended at Binance/);
      assert.equal(Number(((rig.engine.positionsOf('binance')['BTCUSDT'] ?? 0) - held).toFixed(8)), 0.0015);
      assert.deepEqual(rig.engine.externalOrders(), []);
    } finally {
      await rig.close();
    }
  });
});
