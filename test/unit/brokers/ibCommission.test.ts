/**
 * IB fills carry IB's commission. TWS reports a fill three ways: the order's cumulative `orderStatus`, an
 * `execDetails` per execution (its `execId`, shares, price) and, separately, a `commissionReport` naming that
 * `execId`. The fake TWS sends all three (test/fakes/ib/server.ts), through the real `@stoqey/ib`.
 *
 * Sources: TWS API "Executions and Commissions" (interactivebrokers.github.io/tws-api/executions_commissions.html:
 * "When an order is filled either fully or partially, the IBApi.EWrapper.execDetails and
 * IBApi.EWrapper.commissionReport events will deliver IBApi.Execution and IBApi.CommissionReport objects");
 * the report joins its execution by execId and comes after it, other messages (the order's status) possibly in
 * between; TWS API "Order Management" → orderStatus (`filled` and `avgFillPrice` cumulative).
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import type { OrderResponse, PlacedOrderRequest } from '../../../src/orders/model';
import { fakeTwsCommission, startFakeTws, type FakeTws, type FakeTwsOptions } from '../../fakes/ib/server';
import { readUntil } from '../../kit/orderUpdates';

function order(overrides: Partial<PlacedOrderRequest> & { client_order_id: string }): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 102 },
    quantity: 1000,
    time_in_force: { type: 'GTC' },
    metadata: {},
    ...overrides,
  };
}

describe('IbBroker: fills carry the commission of their commissionReport', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;
  const cid = () => `ib-fee-${++seq}`;

  async function start(options: FakeTwsOptions = {}, commissionWaitMs?: number): Promise<void> {
    fake = await startFakeTws(options);
    fake.setQuote('AAPL', 99, 101);
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 11,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: () => undefined,
      ...(commissionWaitMs === undefined ? {} : { commissionWaitMs }),
    });
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  }

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  const fillsOf = (orderId: string) => updates.filter((u) => u.order.order_id === orderId && u.fill !== undefined);
  const until = (orderId: string, done: (r: OrderResponse) => boolean): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      done,
      (u) => u.order.order_id === orderId,
    );

  it('a marketable order: one fill, its id the execId, its commission IB’s (not 0)', async () => {
    await start();
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    const done = await until(placed.order_id, (r) => r.status.status === 'filled');
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    const fill = fills[0]!.fill!;
    assert.equal(fill.quantity, 1000);
    assert.equal(fill.price, 101);
    assert.equal(fill.commission, fakeTwsCommission(1000));
    assert.equal(fill.commission, 5);
    assert.match(fill.fill_id, /^0000e0d5\./);
    assert.equal(fills[0]!.order.commission, 5);
    assert.equal(done.commission, 5);
    assert.deepEqual(
      done.fills.map((f) => f.fill_id),
      [fill.fill_id],
    );
  });

  it('a resting order filled later: the fill waits for its report, then carries it (maker per lastLiquidity)', async () => {
    await start();
    const placed = await broker.submitOrder(
      order({ client_order_id: cid(), order_type: { type: 'limit', price: 100 } }),
    );
    assert.equal(placed.status.status, 'submitted');
    fake.setQuote('AAPL', 98, 100);
    await until(placed.order_id, (r) => r.status.status === 'filled');
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]!.fill!.commission, 5);
    assert.equal(fills[0]!.fill!.liquidity, 'maker');
  });

  it('two partial fills, statuses before executions and reports after both: each fill once, each with its own commission', async () => {
    await start();
    fake.scriptNextOrder([
      { status: 'Submitted' },
      { status: 'Submitted', filled: 400, avgFillPrice: 100, lastFillPrice: 100 },
      { execution: { execId: 'e1.01', shares: 400, price: 100 } },
      { status: 'Filled', filled: 1000, avgFillPrice: 100.6, lastFillPrice: 101 },
      { execution: { execId: 'e2.01', shares: 600, price: 101 } },
      { commissionReport: { execId: 'e2.01', commission: 3 } },
      { commissionReport: { execId: 'e1.01', commission: 2 } },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    const done = await until(placed.order_id, (r) => r.status.status === 'filled');
    const fills = fillsOf(placed.order_id).map((u) => [
      u.fill!.fill_id,
      u.fill!.quantity,
      u.fill!.price,
      u.fill!.commission,
    ]);
    assert.deepEqual(fills, [
      ['e1.01', 400, 100, 2],
      ['e2.01', 600, 101, 3],
    ]);
    assert.equal(done.commission, 5);
    assert.equal(done.filled_quantity, 1000);
    // A status that says nothing new brings nothing.
    assert.equal((await broker.getOrderStatus(placed.order_id)).fills.length, 2);
  });

  it('executions and reports before the status: the fills come from them, the late status adds nothing', async () => {
    await start();
    fake.scriptNextOrder([
      { status: 'Submitted' },
      { execution: { execId: 'x1.01', shares: 1000, price: 100.5 } },
      { commissionReport: { execId: 'x1.01', commission: 4.25 } },
      { status: 'Filled', filled: 1000, avgFillPrice: 100.5, lastFillPrice: 100.5 },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    await until(placed.order_id, (r) => r.status.status === 'filled');
    const fills = fillsOf(placed.order_id).map((u) => [u.fill!.fill_id, u.fill!.quantity, u.fill!.commission]);
    assert.deepEqual(fills, [['x1.01', 1000, 4.25]]);
  });

  it('an openOrder saying Filled before the status with the figures: never "filled" without its fill', async () => {
    await start({ commissionReports: false }, 200);
    // TWS API "Order Management": openOrder carries the OrderState (its status) but no filled quantity; the
    // orderStatus that follows has the figures.
    fake.scriptNextOrder([
      { openOrder: 'Filled' },
      { status: 'Filled', filled: 1000, avgFillPrice: 101, lastFillPrice: 101 },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    assert.ok(
      placed.status.status !== 'filled' || placed.filled_quantity === 1000,
      `the submit's answer says filled with ${String(placed.filled_quantity)} filled`,
    );
    await until(placed.order_id, (r) => r.status.status === 'filled');
    for (const u of updates.filter((x) => x.order.order_id === placed.order_id))
      if (u.order.status.status === 'filled') assert.ok(u.fill !== undefined, 'filled without a fill');
    assert.equal(fillsOf(placed.order_id).length, 1);
  });

  it('no commission report ever: the fill still comes once, with commission 0, after the wait', async () => {
    await start({ commissionReports: false }, 50);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    await until(placed.order_id, (r) => r.status.status === 'filled');
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]!.fill!.quantity, 1000);
    assert.equal(fills[0]!.fill!.commission, 0);
  });

  it('no executions at all (a TWS that sends only orderStatus): the fill comes from the status after the wait', async () => {
    await start({ executions: false }, 50);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    assert.notEqual(placed.status.status, 'pending');
    await until(placed.order_id, (r) => r.status.status === 'filled');
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]!.fill!.price, 101);
  });
});
