/**
 * IB execution corrections. TWS API "Executions and Commissions" (interactivebrokers.github.io/tws-api/
 * executions_commissions.html): "Note: if a correction to an execution is published it will be received as an
 * additional IBApi.EWrapper.execDetails callback with all parameters identical except for the execID in the
 * Execution object. The execID will differ only in the digits after the final period." A correction counted as a
 * new execution was the same shares twice: a fill IB never made (and the order's real next fill refused as more
 * than the order).
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import type { OrderResponse, PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';
import { readUntil } from '../../kit/orderUpdates';

function order(client_order_id: string): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 102 },
    quantity: 1000,
    time_in_force: { type: 'GTC' },
    metadata: {},
    client_order_id,
  };
}

describe('IbBroker: an execution correction (same execId up to its final period) is counted once', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let warnings: string[];
  let seq = 0;

  beforeEach(async () => {
    fake = await startFakeTws();
    fake.setQuote('AAPL', 99, 101);
    warnings = [];
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 12,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: (m) => warnings.push(m),
    });
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  const fillsOf = (orderId: string) =>
    updates
      .filter((u) => u.order.order_id === orderId && u.fill !== undefined)
      .map((u) => [u.fill!.fill_id, u.fill!.quantity, u.fill!.price, u.fill!.commission]);
  const until = (orderId: string, done: (r: OrderResponse) => boolean): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      done,
      (u) => u.order.order_id === orderId,
    );

  it('a correction between two fills: each real fill once, with its commission; nothing refused', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted' },
      { execution: { execId: '0000e0d5.5f6b1b1c.01.01', shares: 400, price: 100 } },
      { commissionReport: { execId: '0000e0d5.5f6b1b1c.01.01', commission: 2 } },
      { status: 'Submitted', filled: 400, avgFillPrice: 100, lastFillPrice: 100 },
      // The correction: every parameter the same but the digits after the execId's final period.
      { execution: { execId: '0000e0d5.5f6b1b1c.01.02', shares: 400, price: 100, cumQty: 400 } },
      { commissionReport: { execId: '0000e0d5.5f6b1b1c.01.02', commission: 2 } },
      { execution: { execId: '0000e0d5.5f6b2a00.01.01', shares: 600, price: 101, cumQty: 1000 } },
      { commissionReport: { execId: '0000e0d5.5f6b2a00.01.01', commission: 3 } },
      { status: 'Filled', filled: 1000, avgFillPrice: 100.6, lastFillPrice: 101 },
    ]);
    const placed = await broker.submitOrder(order(`ib-corr-${process.pid}-${++seq}`));
    const done = await until(placed.order_id, (r) => r.status.status === 'filled');
    assert.deepEqual(fillsOf(placed.order_id), [
      ['0000e0d5.5f6b1b1c.01.01', 400, 100, 2],
      ['0000e0d5.5f6b2a00.01.01', 600, 101, 3],
    ]);
    assert.equal(done.filled_quantity, 1000);
    assert.equal(done.commission, 5);
    assert.deepEqual(warnings, []);
  });

  it('two fills of the same size whose execIds share all but the final digits are two fills (cumQty moved)', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted' },
      { status: 'Submitted', filled: 500, avgFillPrice: 100, lastFillPrice: 100 },
      { execution: { execId: '0000e0d5.77.01.01', shares: 500, price: 100 } },
      { commissionReport: { execId: '0000e0d5.77.01.01', commission: 2 } },
      { status: 'Filled', filled: 1000, avgFillPrice: 100, lastFillPrice: 100 },
      { execution: { execId: '0000e0d5.77.01.02', shares: 500, price: 100 } },
      { commissionReport: { execId: '0000e0d5.77.01.02', commission: 2 } },
    ]);
    const placed = await broker.submitOrder(order(`ib-corr-${process.pid}-${++seq}`));
    const done = await until(placed.order_id, (r) => r.status.status === 'filled');
    assert.deepEqual(fillsOf(placed.order_id), [
      ['0000e0d5.77.01.01', 500, 100, 2],
      ['0000e0d5.77.01.02', 500, 100, 2],
    ]);
    assert.equal(done.filled_quantity, 1000);
  });
});
