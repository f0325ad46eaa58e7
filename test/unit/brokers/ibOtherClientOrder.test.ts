/**
 * TWS reports every client's orders to `reqAllOpenOrders` (TWS API "Open Orders": "reqAllOpenOrders … all the open
 * orders … regardless of which client application was used to place them"), while order ids come from each
 * connection's own `reqIds`/`nextValidId`: another client's order may carry one of our order ids. IB's permId is the
 * order's account-wide id ("remains the same over TWS sessions"): a status, an openOrder or an execution under our
 * order id but with another permId is about another order, and must not move ours (fill it, end it).
 */
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { OrderRegistry, type Entry } from '../../../src/brokers/ib/orderRegistry';
import { responseOf } from '../../../src/brokers/ib/orders';
import { OrderTracker } from '../../../src/brokers/orderTracker';
import { TestClock } from '../../../src/common/clock';

describe('IB order registry: another client’s order under one of our order ids does not move ours', () => {
  const setUp = () => {
    const clock = new TestClock(Date.now());
    const updates: OrderUpdate[] = [];
    const registry = new OrderRegistry({
      clock,
      tracker: new OrderTracker((u) => updates.push(u)),
      events: new EventEmitter(),
      onError: () => undefined,
      commissionWaitMs: 0,
      rejectReasonWaitMs: 0,
    });
    const entry: Entry = {
      orderId: 7,
      request: {
        symbol: 'AAPL',
        side: 'buy',
        order_type: { type: 'limit', price: 90 },
        quantity: 100,
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'ib-oc-1',
      },
      ibStatus: undefined,
      filled: 0,
      avgFillPrice: null,
      rejectReason: undefined,
      fills: [],
      createdAt: clock.now(),
      updatedAt: clock.now(),
      confirmed: false,
      failedBeforeAcceptance: false,
      badResponse: undefined,
    };
    registry.register(entry);
    registry.onStatus(7, {
      status: 'Submitted',
      filled: 0,
      remaining: 100,
      avgFillPrice: 0,
      lastFillPrice: undefined,
      permId: 5001,
    });
    return { clock, registry, entry, updates };
  };

  it('a Filled status of another permId leaves ours working, unfilled', () => {
    const { clock, registry, entry, updates } = setUp();
    registry.reconciling = true;
    registry.onStatus(7, {
      status: 'Filled',
      filled: 100,
      remaining: 0,
      avgFillPrice: 91,
      lastFillPrice: 91,
      permId: 9009,
    });
    assert.equal(responseOf(entry, clock.now()).status.status, 'submitted');
    assert.equal(updates.filter((u) => u.fill).length, 0);
  });

  it('an execution of another permId is not a fill of ours; one of ours is', () => {
    const { clock, registry, entry } = setUp();
    registry.onExecution(7, { execId: 'x.1', shares: 100, price: 91, liquidity: 2, permId: 9009 });
    registry.onCommission('x.1', 1);
    assert.equal(entry.executions?.length ?? 0, 0);
    registry.onExecution(7, { execId: 'y.1', shares: 40, price: 90, liquidity: 1, permId: 5001 });
    assert.equal(entry.executions?.length, 1);
    assert.equal(responseOf(entry, clock.now()).status.status, 'submitted');
  });

  it('a Cancelled status of the same permId still ends ours', () => {
    const { clock, registry, entry } = setUp();
    registry.onStatus(7, {
      status: 'Cancelled',
      filled: 0,
      remaining: 100,
      avgFillPrice: 0,
      lastFillPrice: undefined,
      permId: 5001,
    });
    assert.equal(responseOf(entry, clock.now()).status.status, 'cancelled');
  });
});
