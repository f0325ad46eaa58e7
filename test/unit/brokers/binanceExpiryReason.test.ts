/**
 * The Binance adapter, through the real ccxt client, against `expiryReason` (binance-spot-api-docs CHANGELOG: since
 * 2026-03 RESULT/FULL order replies, since 2026-05 "Order query responses may include an `expiryReason` field … only
 * for expired orders"; enums.md "Expiry Reasons"). EXPIRED is "canceled according to the order type's rules … or by
 * the exchange" (enums.md "Order status"): the rules' expiries (an IOC's or FOK's unfilled quantity) stay expired;
 * the exchange's own (faqs/price_range_execution_rules.md: "If a taker order attempts to execute at a price outside
 * of the allowed price range, it will be expired (i.e. status: `EXPIRED`) with the expiry reason
 * `EXECUTION_RULE_PRICE_RANGE_EXCEEDED`"; EXCHANGE_CANCELED during maintenance) were reported as a GTC order that
 * "expired", with nothing said.
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { parseOrder, toOrderStatus } from '../../../src/brokers/binance/orders';
import type { OrderUpdate } from '../../../src/brokers/broker';
import type { OrderStatus, PlacedOrderRequest } from '../../../src/orders/model';
import { binanceOnFake } from '../../kit/binance';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';
import { makeRig, type Rig } from '../execution/engineHelpers';

let seq = 0;
function limitBuy(price: number, overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'limit', price },
    quantity: 0.003,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-exp-${++seq}`,
    metadata: {},
    ...overrides,
  };
}
const reasonOf = (s: OrderStatus | undefined): string => (s?.status === 'cancelled' ? (s.reason ?? '') : '');
const binanceId = (orderId: string): number => Number(orderId.split(':')[1]);

describe('Binance adapter: why an order expired (expiryReason)', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;
  let updates: OrderUpdate[];

  beforeEach(async () => {
    fake = await startFakeBinance();
    broker = binanceOnFake(fake);
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('a GTC limit expired by the Price Range Execution Rule: ended by Binance with that reason, sent once', async () => {
    fake.setPriceRange('BTCUSDT', { low: 25_000, high: 30_000 });
    const r = await broker.submitOrder(limitBuy(30_100));
    assert.equal(r.status.status, 'cancelled');
    assert.match(reasonOf(r.status), /^EXECUTION_RULE_PRICE_RANGE_EXCEEDED: .*Price Range Execution Rule/);
    assert.deepEqual(r.fills, []);
    const again = await broker.getOrderByClientId(r.client_order_id, { symbol: 'BTCUSDT' });
    assert.match(reasonOf(again?.status), /^EXECUTION_RULE_PRICE_RANGE_EXCEEDED/, 'the look-up reads it too');
    assert.equal(fake.requestCounts()['POST /api/v3/order'], 1);
  });

  it('a resting order Binance cancels itself (EXCHANGE_CANCELED): the poll ends it with that reason', async () => {
    const placed = await broker.submitOrder(limitBuy(29_000));
    assert.equal(placed.status.status, 'submitted');
    fake.exchangeCancel(binanceId(placed.order_id));
    await broker.poll();
    const last = updates.filter((u) => u.order.order_id === placed.order_id).at(-1);
    assert.equal(last?.order.status.status, 'cancelled');
    assert.match(reasonOf(last?.order.status), /^EXCHANGE_CANCELED: Binance cancelled it itself/);
  });

  it('an IOC that could not fill (UNFILLED_IOC_QUANTITY_EXPIRED) is still expired: its own rule', async () => {
    const r = await broker.submitOrder(limitBuy(29_000, { time_in_force: { type: 'IOC' } }));
    assert.deepEqual(r.status, { status: 'expired' });
  });

  it('reads every reason enums.md lists, and one added later (pure)', () => {
    for (const rule of [
      'NONE',
      'UNFILLED_IOC_QUANTITY_EXPIRED',
      'UNFILLED_FOK_ORDER_EXPIRED',
      'INSUFFICIENT_LIQUIDITY',
    ])
      assert.deepEqual(toOrderStatus('EXPIRED', 0, { expiryReason: rule }), { status: 'expired' }, rule);
    for (const other of ['REJECTED', 'EXCHANGE_CANCELED', 'OCO_TRIGGER', 'OTO_PHASE_ONE_EXPIRED'])
      assert.match(reasonOf(toOrderStatus('EXPIRED', 0, { expiryReason: other })), new RegExp(`^${other}: `));
    const later = parseOrder(
      {
        symbol: 'BTCUSDT',
        orderId: 7,
        clientOrderId: 'sp-7',
        price: '29000.00',
        origQty: '0.003',
        executedQty: '0.001',
        cummulativeQuoteQty: '29.00',
        status: 'EXPIRED',
        type: 'LIMIT',
        side: 'BUY',
        expiryReason: 'SOME_REASON_ADDED_LATER',
      },
      { now: 0 },
    );
    assert.equal(later.status.status, 'cancelled');
    assert.match(reasonOf(later.status), /^SOME_REASON_ADDED_LATER: Binance expired it for this reason/);
    assert.equal(later.filled_quantity, 0.001);
  });

  it('through the engine: the order ends CANCELLED with the reason, nothing filled', async () => {
    const rig: Rig = await makeRig();
    try {
      rig.engine.addBroker('binance', broker);
      await rig.engine.connect('binance');
      fake.setPriceRange('BTCUSDT', { low: 25_000, high: 30_000 });
      const o = limitBuy(30_100);
      const placed = await rig.engine.submitOrder(o, 'binance');
      assert.equal(placed.denial, undefined, JSON.stringify(placed.denial));
      const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
      assert.equal(final?.state, 'CANCELLED');
      assert.match(final?.reason ?? '', /EXECUTION_RULE_PRICE_RANGE_EXCEEDED/);
    } finally {
      await rig.close();
    }
  });
});
