/**
 * A cancel TWS refuses for the order's state: TWS API "Message Codes" 10148 "OrderId {id} that needs to be cancelled
 * cannot be cancelled, state: {state}." (the states of "Order Management" → "Possible Order States"). The state was
 * not read: an order TWS says is Filled, whose fills this client did not hear, stayed working here for ever, and the
 * cancel failed with TWS's bare text. Now a Filled order's fills are read from TWS (reqExecutions,
 * reqCompletedOrders) and the cancel says it was too late, naming the state; a Cancelled one is cancelled.
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { BrokerError } from '../../../src/brokers/errors';
import { type IbBroker } from '../../../src/brokers/ib/adapter';
import { cancelRefusedState } from '../../../src/brokers/ib/errors';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { type FakeTws } from '../../fakes/ib/server';
import { fakeTwsPerTest } from '../../kit/fakeTws';
import { readUntil } from '../../kit/orderUpdates';

describe('IbBroker: a cancel refused for the order’s state (10148)', function () {
  this.timeout(5000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let seq = 0;

  fakeTwsPerTest({ clientId: 41 }, (rig) => void ({ fake, broker, updates } = rig));

  const restingBuy = (): PlacedOrderRequest => ({
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 90 },
    quantity: 10,
    time_in_force: { type: 'GTC' },
    client_order_id: `ib-10148-${++seq}`,
    metadata: {},
  });

  it('reads the state from the text, and only a documented one', () => {
    const text = (state: string) => `OrderId 7 that needs to be cancelled cannot be cancelled, state: ${state}.`;
    assert.equal(cancelRefusedState(10148, text('Filled')), 'Filled');
    assert.equal(cancelRefusedState(10148, text('PendingCancel')), 'PendingCancel');
    assert.equal(cancelRefusedState(10148, text('Sideways')), undefined);
    assert.equal(cancelRefusedState(10148, 'OrderId 7 that needs to be cancelled cannot be cancelled.'), undefined);
    assert.equal(cancelRefusedState(161, text('Filled')), undefined);
  });

  it('Filled at TWS unheard: the cancel is too late, saying Filled, and the order ends filled with its fill', async () => {
    const placed = await broker.submitOrder(restingBuy());
    assert.equal(placed.status.status, 'submitted');
    assert.ok(fake.fillWithoutNotice(Number(placed.order_id), 89.5));
    const e = await broker.cancelOrder(placed.order_id).then(
      () => assert.fail('the cancel of a filled order succeeded'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof BrokerError, String(e));
    assert.equal(e.reason, 'INVALID_ORDER');
    assert.equal(e.venueCode, 10148);
    assert.match(e.message, /^IB: too late to cancel order \d+: IB says it is already Filled \(error 10148: /);
    const done = await readUntil(
      broker,
      () => broker.getOrderStatus(placed.order_id),
      (r) => r.status.status === 'filled',
      (u) => u.order.order_id === placed.order_id,
    );
    assert.equal(done.status.status, 'filled');
    const fill = updates.find((u) => u.order.order_id === placed.order_id && u.fill !== undefined)?.fill;
    assert.equal(fill?.quantity, 10);
    assert.equal(fill?.price, 89.5);
    assert.equal(fake.ordersWithClientId(placed.client_order_id), 1, 'nothing was sent again');
  });

  it('Cancelled at TWS unheard: the cancel is done, and the order ends cancelled', async () => {
    const placed = await broker.submitOrder(restingBuy());
    assert.ok(fake.cancelWithoutNotice(Number(placed.order_id)));
    await broker.cancelOrder(placed.order_id);
    assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'cancelled');
    assert.deepEqual(
      updates.filter((u) => u.order.order_id === placed.order_id).map((u) => u.order.status.status),
      ['submitted', 'cancelled'],
    );
  });
});

/**
 * The same refusal without a state: 161 "Cancel attempted when order is not in a cancellable state. Order permId =
 * {permId}" (TWS API "Message Codes"), or 10148 worded without ", state: …". It was a bare INVALID_ORDER and the order
 * stayed working here for ever. Now TWS is asked (open and completed orders, executions) and the order ends as it
 * says: Filled → the cancel is too late and the fills are read; Cancelled → the cancel is done.
 */
for (const refusal of ['161', 'bare'] as const) {
  const code = refusal === '161' ? 161 : 10148;
  describe(`IbBroker: a cancel refused without a state (${refusal === '161' ? '161' : '10148, no state'})`, function () {
    this.timeout(5000);
    let fake: FakeTws;
    let broker: IbBroker;
    let updates: OrderUpdate[];
    let seq = 0;

    fakeTwsPerTest({ clientId: 42, fake: { cancelRefusal: refusal } }, (rig) => void ({ fake, broker, updates } = rig));

    const restingBuy = (): PlacedOrderRequest => ({
      symbol: 'AAPL',
      side: 'buy',
      order_type: { type: 'limit', price: 90 },
      quantity: 10,
      time_in_force: { type: 'GTC' },
      client_order_id: `ib-${refusal}-${++seq}`,
      metadata: {},
    });

    it('Filled at TWS unheard: the cancel is too late, and the order is filled with its fill once it fails', async () => {
      const placed = await broker.submitOrder(restingBuy());
      assert.ok(fake.fillWithoutNotice(Number(placed.order_id), 89.5));
      const e = await broker.cancelOrder(placed.order_id).then(
        () => assert.fail('the cancel of a filled order succeeded'),
        (x: unknown) => x,
      );
      assert.ok(e instanceof BrokerError, String(e));
      assert.equal(e.reason, 'INVALID_ORDER');
      assert.equal(e.venueCode, code);
      assert.match(e.message, new RegExp(`^IB: too late to cancel order \\d+: IB lists it Filled \\(error ${code}: `));
      assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'filled');
      const fills = updates.filter((u) => u.order.order_id === placed.order_id && u.fill !== undefined);
      assert.deepEqual(
        fills.map((u) => [u.fill?.quantity, u.fill?.price]),
        [[10, 89.5]],
      );
      assert.equal(fake.ordersWithClientId(placed.client_order_id), 1, 'nothing was sent again');
    });

    it('Cancelled at TWS unheard: the cancel is done, and the order ends cancelled', async () => {
      const placed = await broker.submitOrder(restingBuy());
      assert.ok(fake.cancelWithoutNotice(Number(placed.order_id)));
      await broker.cancelOrder(placed.order_id);
      assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'cancelled');
      assert.deepEqual(
        updates.filter((u) => u.order.order_id === placed.order_id).map((u) => u.order.status.status),
        ['submitted', 'cancelled'],
      );
    });
  });
}
