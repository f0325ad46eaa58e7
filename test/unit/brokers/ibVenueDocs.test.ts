/**
 * The IB adapter against messages TWS documents but the fake's own matching never sends: notices that come
 * through the `error` event while the order goes on, partial fills reported cumulatively, ApiCancelled and
 * Inactive. Each case is scripted on the fake TWS (`scriptNextOrder`) and read through the real `@stoqey/ib`.
 *
 * Sources: TWS API "Error Handling" (the error event carries "true error messages as well as notifications
 * that do not mean anything is wrong"); TWS API "Message Codes" (399 order message, 404 "Shares for this order
 * are not immediately available for short sale. The order will be held while we attempt to locate the
 * shares.", 2100–2999 warnings, 201 rejected, 202 cancelled); `@stoqey/ib` common/errorCode.ts
 * `isNonFatalError` (2100–2999 and any "Warning:" text are not fatal); 10349 "Order TIF was set to DAY based
 * on order preset" and 10311 "This order will be directly routed to …" are notices after which TWS works the
 * order (ib-api-reloaded/ib_async#191, deephaven-examples/deephaven-ib#106); TWS API "Order Management" →
 * orderStatus (`filled` and `avgFillPrice` are cumulative; ApiCancelled, Inactive).
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { type IbBroker } from '../../../src/brokers/ib/adapter';
import { errorMeaning } from '../../../src/brokers/ib/errors';
import type { OrderResponse, PlacedOrderRequest } from '../../../src/orders/model';
import { type FakeTws } from '../../fakes/ib/server';
import { fakeTwsPerTest } from '../../kit/fakeTws';
import { readUntil } from '../../kit/orderUpdates';

function order(overrides: Partial<PlacedOrderRequest> & { client_order_id: string }): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 100 },
    quantity: 10,
    time_in_force: { type: 'GTC' },
    metadata: {},
    ...overrides,
  };
}

describe('IbBroker: TWS messages from the API documentation', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;
  const cid = () => `ib-doc-${++seq}`;

  fakeTwsPerTest({ clientId: 9, timeoutMs: 400 }, (rig) => void ({ fake, broker, updates } = rig));

  const until = (orderId: string, done: (r: OrderResponse) => boolean): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      done,
      (u) => u.order.order_id === orderId,
    );

  const notices: Array<[number, string]> = [
    [10349, 'Order TIF was set to DAY based on order preset.'],
    [10233, 'Defaults were inherited from CASH preset during the creation of this order.'],
    [
      10311,
      'This order will be directly routed to NYSE. Direct routed orders may result in higher trade fees. Restriction is specified in Precautionary Settings of Global Configuration/API.',
    ],
    [
      404,
      'Shares for this order are not immediately available for short sale. The order will be held while we attempt to locate the shares.',
    ],
    [10983, "BUY LMT 100: Warning: The 'EtradeOnly' order attribute is not supported."],
    [2148, 'An order notice in the warning range (2100–2999).'],
    [
      399,
      'Order Message:\nBUY 10 AAPL NASDAQ.NMS\nWarning: your order will not be placed at the exchange until 2030-01-02 09:30:00 US/Eastern',
    ],
  ];

  for (const [code, message] of notices) {
    it(`a notice (${code}) before the first status does not reject the order, which works on`, async () => {
      fake.scriptNextOrder([{ error: code, message }, { status: 'PreSubmitted' }, { status: 'Submitted' }]);
      const placed = await broker.submitOrder(order({ client_order_id: cid() }));
      assert.equal(placed.status.status, 'submitted', JSON.stringify(placed.status));
      assert.ok(!updates.some((u) => u.order.status.status === 'rejected'));
      assert.equal(fake.requestCount('PLACE_ORDER'), 1);
    });
  }

  it('a notice between partial fills changes nothing; fills are the increases of the cumulative filled', async () => {
    fake.scriptNextOrder([
      { status: 'PreSubmitted' },
      { error: 10349, message: 'Order TIF was set to DAY based on order preset.' },
      { status: 'Submitted', filled: 4, avgFillPrice: 100, lastFillPrice: 100 },
      { status: 'Submitted', filled: 4, avgFillPrice: 100, lastFillPrice: 100 }, // TWS may repeat a status
      { status: 'Filled', filled: 10, avgFillPrice: 99.7, lastFillPrice: 99.5 },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    const done = await until(placed.order_id, (r) => r.status.status === 'filled');
    assert.equal(done.filled_quantity, 10);
    assert.equal(done.filled_price, 99.7);
    assert.deepEqual(
      done.fills.map((f) => [f.quantity, f.price]),
      [
        [4, 100],
        [6, 99.5],
      ],
    );
    assert.deepEqual(
      updates.filter((u) => u.order.order_id === placed.order_id && u.fill).map((u) => u.fill!.quantity),
      [4, 6],
    );
    assert.ok(!updates.some((u) => u.order.status.status === 'rejected'));
  });

  it('ApiCancelled after a partial fill is cancelled with the filled quantity kept', async () => {
    fake.scriptNextOrder([
      { status: 'Submitted', filled: 3, avgFillPrice: 100, lastFillPrice: 100 },
      { error: 202, message: 'Order Canceled - reason:' },
      { status: 'ApiCancelled', filled: 3, avgFillPrice: 100, lastFillPrice: 100 },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    const done = await until(placed.order_id, (r) => r.status.status === 'cancelled');
    assert.equal(done.filled_quantity, 3);
    assert.equal(done.fills.length, 1);
  });

  it('201 then Inactive is rejected with the reason IB gave', async () => {
    fake.scriptNextOrder([
      { error: 201, message: 'Order rejected - reason:Insufficient buying power' },
      { status: 'Inactive' },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    assert.deepEqual(placed.status, {
      status: 'rejected',
      reason: 'Order rejected - reason:Insufficient buying power',
    });
  });

  it('Inactive then 201: rejected with the reason IB gave, in the submit’s answer and in the update', async () => {
    // TWS API "Order Management" → orderStatus: Inactive means the order is not working (rejected or cancelled);
    // its error (here 201) is a separate message, which may come after the status.
    fake.scriptNextOrder([
      { status: 'Inactive' },
      { error: 201, message: 'Order rejected - reason:Insufficient buying power' },
    ]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    const reason = 'Order rejected - reason:Insufficient buying power';
    assert.deepEqual(placed.status, { status: 'rejected', reason });
    const said = updates.filter((u) => u.order.order_id === placed.order_id && u.order.status.status === 'rejected');
    assert.deepEqual(
      said.map((u) => u.order.status),
      [{ status: 'rejected', reason }],
    );
  });

  it('Inactive with no error after it: still rejected (with a generic reason), the submit not held to its timeout', async () => {
    fake.scriptNextOrder([{ status: 'Inactive' }]);
    const placed = await broker.submitOrder(order({ client_order_id: cid() }));
    assert.equal(placed.status.status, 'rejected');
  });

  it('classifies by the rule, not by a list of tests: warnings never reject, rejections stay rejections', () => {
    assert.equal(errorMeaning(2999, 'x').kind, 'info');
    assert.equal(errorMeaning(3000, 'x').kind, 'reject');
    assert.equal(errorMeaning(10999, 'Order Message: Warning: something').kind, 'info');
    assert.equal(errorMeaning(201, 'Order rejected - reason: Warning: margin').kind, 'reject');
    assert.equal(errorMeaning(110, 'Warning: The price does not conform').kind, 'error');
    assert.equal(errorMeaning(10289, 'An unknown order error').kind, 'reject');
  });
});
