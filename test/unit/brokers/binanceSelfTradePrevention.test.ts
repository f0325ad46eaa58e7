/**
 * The Binance adapter, through the real ccxt client, against self-trade prevention as binance-spot-api-docs
 * faqs/stp_faq.md describes it: "How do I know if an order expired due to STP? The order will have the status
 * `EXPIRED_IN_MATCH`"; "API responses for orders which expired due to STP will also have a `preventedQuantity` field";
 * Scenario B/F (EXPIRE_MAKER: the order resting on the book expires), C (EXPIRE_TAKER: the arriving order expires),
 * G (DECREMENT: both orders' prevented quantity grows and the order works on for "original order quantity - executed
 * quantity - prevented quantity"; once none is available its status is "one of `EXPIRED_IN_MATCH`, `FILLED`, or
 * `EXPIRED`"). Binance ends such an order for a reason of its own; it was reported `expired` with no reason (the
 * trader saw an order vanish), and an order DECREMENT had taken part of was reported FILLED at less than its size.
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { binanceOnFake } from '../../kit/binance';
import { eventsOf } from '../../kit/orderUpdates';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';
import { makeRig, type Rig } from '../execution/engineHelpers';

let seq = 0;
function buy(overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 0.003,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-stp-${++seq}`,
    metadata: {},
    ...overrides,
  };
}
const restingBuy = (quantity: number): PlacedOrderRequest =>
  buy({ order_type: { type: 'limit', price: 29_000 }, quantity });
const binanceId = (orderId: string): number => Number(orderId.split(':')[1]);

describe('Binance adapter: self-trade prevention (faqs/stp_faq.md)', () => {
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

  it('an arriving order STP expires (EXPIRE_TAKER, Scenario C): cancelled by Binance, saying why and how much', async () => {
    fake.preventNextMatch();
    const r = await broker.submitOrder(buy());
    assert.equal(r.status.status, 'cancelled');
    assert.match(r.status.status === 'cancelled' ? (r.status.reason ?? '') : '', /^EXPIRED_IN_MATCH: /);
    assert.match(
      r.status.status === 'cancelled' ? (r.status.reason ?? '') : '',
      /self-trade prevention \(mode EXPIRE_TAKER\) expired 0\.003 of 0\.003/,
    );
    assert.deepEqual(r.fills, []);
    assert.equal(fake.requestCounts()['POST /api/v3/order'], 1);
  });

  it('filled in part, then stopped by STP (EXPIRE_BOTH): its fill first, then cancelled with the part kept', async () => {
    fake.preventNextMatch({ mode: 'EXPIRE_BOTH', after: 0.001 });
    const r = await broker.submitOrder(buy());
    assert.equal(r.status.status, 'cancelled');
    assert.equal(r.filled_quantity, 0.001);
    assert.match(
      r.status.status === 'cancelled' ? (r.status.reason ?? '') : '',
      /EXPIRE_BOTH\) expired 0\.002 of 0\.003/,
    );
    assert.deepEqual(eventsOf(updates, r.order_id), ['fill 0.001', 'cancelled']);
  });

  it('our resting order expired by another order of the account (EXPIRE_MAKER, Scenario B): the poll says so', async () => {
    const placed = await broker.submitOrder(restingBuy(0.004));
    assert.equal(placed.status.status, 'submitted');
    fake.preventResting(binanceId(placed.order_id), 'EXPIRE_MAKER');
    await broker.poll();
    const last = updates.filter((u) => u.order.order_id === placed.order_id).at(-1);
    assert.equal(last?.order.status.status, 'cancelled');
    assert.match(
      last?.order.status.status === 'cancelled' ? (last.order.status.reason ?? '') : '',
      /EXPIRED_IN_MATCH: .*expired 0\.004 of 0\.004/,
    );
    assert.deepEqual(await broker.listOpenOrders(), []);
  });

  it('DECREMENT took 0.001 of 0.004 (Scenario G): works on, then Binance calls it FILLED at 0.003; ours ends cancelled after that fill', async () => {
    const placed = await broker.submitOrder(restingBuy(0.004));
    fake.preventResting(binanceId(placed.order_id), 'DECREMENT', 0.001);
    await broker.poll();
    const working = await broker.getOrderByClientId(placed.client_order_id, { symbol: 'BTCUSDT' });
    assert.equal(working?.status.status, 'submitted', 'still on the book for the 0.003 available');
    const said = warnings.filter((w) => /self-trade prevention took/.test(w));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.match(said[0]!, /took 0\.001 of order .* \(0\.004\) away: .* that part will never fill/);

    fake.setQuote('BTCUSDT', 28_990, 28_995);
    await broker.poll();
    assert.deepEqual(eventsOf(updates, placed.order_id), ['submitted', 'fill 0.003', 'cancelled']);
    const last = updates.at(-1);
    assert.equal(last?.order.filled_quantity, 0.003);
    assert.match(
      last?.order.status.status === 'cancelled' ? (last.order.status.reason ?? '') : '',
      /EXPIRED_IN_MATCH: 0\.003 filled; .*expired 0\.001 of 0\.004/,
    );
  });

  it('through the engine: the DECREMENT case ends CANCELLED with its fill, its position and the reason', async () => {
    const rig: Rig = await makeRig();
    try {
      rig.engine.addBroker('binance', broker);
      await rig.engine.connect('binance');
      const held = rig.engine.positionsOf('binance')['BTCUSDT'] ?? 0;
      const o = restingBuy(0.004);
      const placed = await rig.engine.submitOrder(o, 'binance');
      assert.equal(placed.denial, undefined, JSON.stringify(placed.denial));
      fake.preventResting(binanceId(placed.order.venueOrderId ?? ''), 'DECREMENT', 0.001);
      fake.setQuote('BTCUSDT', 28_990, 28_995);
      await broker.poll();
      const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
      assert.equal(final?.state, 'CANCELLED');
      assert.match(final?.reason ?? '', /self-trade prevention/);
      assert.equal(Number(((rig.engine.positionsOf('binance')['BTCUSDT'] ?? 0) - held).toFixed(8)), 0.003);
    } finally {
      await rig.close();
    }
  });
});
