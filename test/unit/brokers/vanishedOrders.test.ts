/**
 * The poll step the polled venues share (src/brokers/vanishedOrders.ts): orders the tracker follows as working
 * that left the venue's open list are each looked up, one failure not holding back the others.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { OrderTracker } from '../../../src/brokers/orderTracker';
import { lookUpVanishedOrders } from '../../../src/brokers/vanishedOrders';
import type { OrderResponse, OrderStatus } from '../../../src/orders/model';

function view(orderId: string, status: OrderStatus = { status: 'submitted' }): OrderResponse {
  return {
    order_id: orderId,
    client_order_id: `c-${orderId}`,
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 100 },
    time_in_force: { type: 'GTC' },
    quantity: 10,
    status,
    filled_price: status.status === 'filled' ? 100 : null,
    filled_quantity: status.status === 'filled' ? 10 : null,
    commission: null,
    timestamp: 1000,
    created_at: 1000,
    fills: [],
  };
}

describe('lookUpVanishedOrders', () => {
  let updates: OrderUpdate[];
  let tracker: OrderTracker;

  beforeEach(() => {
    updates = [];
    tracker = new OrderTracker((u) => updates.push(u));
    for (const id of ['a', 'b', 'c', 'd']) tracker.observe(view(id));
  });

  it('looks up only the working orders not listed; their answers go through the tracker; gone ones are let go', async () => {
    const asked: string[] = [];
    const reported: string[] = [];
    await lookUpVanishedOrders(tracker, new Set(['a']), {
      lookUp: async (id) => {
        asked.push(id);
        if (id === 'c') return 'gone';
        tracker.observe(view(id, { status: 'filled' }));
        return 'seen';
      },
      report: (id) => reported.push(id),
    });
    assert.deepEqual(asked, ['b', 'c', 'd']);
    assert.deepEqual(reported, []);
    assert.deepEqual(tracker.openOrderIds(), ['a']);
    assert.equal(tracker.last('c'), undefined, 'a gone order is no longer followed');
    assert.deepEqual(
      updates.filter((u) => u.fill).map((u) => u.order.order_id),
      ['b', 'd'],
    );
  });

  it('a failed look-up is reported and the others still go; the failed one stays followed for the next poll', async () => {
    const asked: string[] = [];
    const reported: Array<[string, string]> = [];
    await lookUpVanishedOrders(tracker, new Set(), {
      lookUp: async (id) => {
        asked.push(id);
        if (id === 'b') throw new Error('reset');
        return 'seen';
      },
      report: (id, e) => reported.push([id, (e as Error).message]),
    });
    assert.deepEqual(asked, ['a', 'b', 'c', 'd']);
    assert.deepEqual(reported, [['b', 'reset']]);
    assert.ok(tracker.openOrderIds().includes('b'));
  });

  it('a failure that ends the round is thrown and nothing after it is asked', async () => {
    const asked: string[] = [];
    const quiet = new Error('429');
    await assert.rejects(
      lookUpVanishedOrders(tracker, new Set(), {
        lookUp: async (id) => {
          asked.push(id);
          if (id === 'b') throw quiet;
          return 'seen';
        },
        endsRound: (e) => e === quiet,
        report: () => assert.fail('not reported'),
      }),
      (e) => e === quiet,
    );
    assert.deepEqual(asked, ['a', 'b']);
  });

  it('stops quietly once goOn says no (disconnected)', async () => {
    const asked: string[] = [];
    let connected = true;
    await lookUpVanishedOrders(tracker, new Set(), {
      goOn: () => connected,
      lookUp: async (id) => {
        asked.push(id);
        connected = false;
        return 'seen';
      },
      report: () => undefined,
    });
    assert.deepEqual(asked, ['a']);
  });
});
