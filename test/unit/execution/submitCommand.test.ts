/**
 * SubmitOrder commands are immutable without copying what cannot change (issue 13): an order whose parts
 * are frozen (normalised, fitted) shares them; a caller's mutable order and risk limits are copied, so later
 * changes cannot reach the command; a replay's risk_limits are frozen once (frozenCopy) and kept.
 */
import assert from 'node:assert/strict';
import { TestClock } from '../../../src/common/clock';
import { frozenCopy, isFrozenCopy, submitOrderCommand } from '../../../src/execution/events';
import type { OrderRequest } from '../../../src/orders/model';
import { normalizeComponentOrder } from '../../../src/orders/normalize';

const clock = new TestClock(Date.UTC(2026, 11, 2));
const options = { venue: 'paper', source: 'replay' as const, clock };

describe('SubmitOrder commands', () => {
  it("a caller's mutable order is copied: changing it afterwards does not change the command", () => {
    const order: OrderRequest = {
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: { type: 'limit', price: 1.08 },
      quantity: 1000,
      time_in_force: { type: 'GTC' },
      metadata: { note: 'a' },
    };
    const cmd = submitOrderCommand(order, options);
    (order.order_type as { price: number }).price = 2;
    order.metadata['note'] = 'b';
    order.quantity = 5;
    assert.deepEqual(cmd.order.order_type, { type: 'limit', price: 1.08 });
    assert.equal(cmd.order.metadata['note'], 'a');
    assert.equal(cmd.order.quantity, 1000);
    assert.ok(
      Object.isFrozen(cmd.order) && Object.isFrozen(cmd.order.order_type) && Object.isFrozen(cmd.order.metadata),
    );
  });

  it('a normalised order shares its frozen parts; only the top object (with the client order id) is new', () => {
    const r = normalizeComponentOrder(
      { symbol: 'EUR_USD', side: 'sell', order_type: 'limit', price: 1.09, quantity: 2000 },
      { now: clock.now() },
    );
    assert.ok(r.ok);
    if (!r.ok) return;
    const cmd = submitOrderCommand(r.order, options);
    assert.notEqual(cmd.order, r.order);
    assert.equal(cmd.order.order_type, r.order.order_type);
    assert.equal(cmd.order.time_in_force, r.order.time_in_force);
    assert.equal(cmd.order.metadata, r.order.metadata);
    assert.equal(cmd.order.client_order_id, cmd.clientOrderId);
    assert.ok(Object.isFrozen(cmd.order));
  });

  it("risk limits: a caller's object is copied; a frozenCopy is kept by every command", () => {
    const limits = { max_order_quantity: 5000, allowed_symbols: ['EUR_USD'] };
    const order: OrderRequest = {
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: { type: 'market' },
      quantity: 1000,
      time_in_force: { type: 'IOC' },
      metadata: {},
    };
    const copied = submitOrderCommand(order, { ...options, componentLimits: limits });
    limits.allowed_symbols.push('GBP_USD');
    assert.deepEqual(copied.componentLimits, { max_order_quantity: 5000, allowed_symbols: ['EUR_USD'] });
    assert.ok(isFrozenCopy(copied.componentLimits));

    const once = frozenCopy({ max_order_quantity: 5000 });
    assert.ok(Object.isFrozen(once) && isFrozenCopy(once));
    const a = submitOrderCommand(order, { ...options, componentLimits: once });
    const b = submitOrderCommand(order, { ...options, componentLimits: once });
    assert.equal(a.componentLimits, once);
    assert.equal(b.componentLimits, once);
    assert.equal(frozenCopy(once), once);
    assert.equal(isFrozenCopy(Object.freeze({ max_order_quantity: 1 })), false, 'frozen elsewhere is not enough');
  });
});
