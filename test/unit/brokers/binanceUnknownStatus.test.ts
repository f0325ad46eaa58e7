/**
 * The Binance adapter, through the real ccxt client, against an order status added after this version was written.
 * Binance adds statuses to its JSON API (binance-spot-api-docs CHANGELOG, 2023: "New order status:
 * `EXPIRED_IN_MATCH`"; faqs/sbe_faq.md: "All enums now have a `NON_REPRESENTABLE` variant. This will be used to
 * encode new enum values in the future"). A view in such a status was refused whole: its line of the open-order list
 * was "unreadable" at every poll and the order's fills never counted, though its executed quantity was plain.
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { binanceOnFake } from '../../kit/binance';
import { eventsOf } from '../../kit/orderUpdates';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

const binanceId = (orderId: string): number => Number(orderId.split(':')[1]);
const LATER = 'SOME_STATUS_ADDED_LATER';

describe('Binance adapter: an order status Binance added later', () => {
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

  it('is followed by its figures: working while part is left, its fills counted, filled once all executed; said once', async () => {
    const o: PlacedOrderRequest = {
      symbol: 'BTCUSDT',
      side: 'buy',
      order_type: { type: 'limit', price: 30_020 },
      quantity: 0.003,
      time_in_force: { type: 'GTC' },
      client_order_id: 'bn-later-1',
      metadata: {},
    };
    fake.setDepth('BTCUSDT', 'asks', [[30_010, 0.001]]);
    const placed = await broker.submitOrder(o);
    assert.deepEqual(placed.status, { status: 'partially_filled', filled_qty: 0.001 });
    fake.reportStatusAs(binanceId(placed.order_id), LATER);

    await broker.poll();
    await broker.poll();
    const open = await broker.listOpenOrders();
    assert.deepEqual(
      open.map((v) => [v.client_order_id, v.status.status, v.filled_quantity]),
      [[o.client_order_id, 'partially_filled', 0.001]],
    );
    assert.equal(warnings.filter((w) => w.includes(LATER)).length, 1, warnings.join('\n'));
    assert.match(warnings.find((w) => w.includes(LATER)) ?? '', /does not know .*followed by its figures/);

    // The rest trades at the limit; Binance still shows the new status.
    fake.setQuote('BTCUSDT', 30_000, 30_015);
    await broker.poll();
    assert.deepEqual(eventsOf(updates, placed.order_id), ['fill 0.001', 'fill 0.002']);
    assert.equal(updates.at(-1)?.order.status.status, 'filled');
  });
});
