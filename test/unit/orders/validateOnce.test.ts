/**
 * Validate once, at normalisation (issue 13): the order normalisation produced is frozen and remembered as
 * valid, so the SubmitOrder built from it and the engine's pre-trade check do not check it again; anything
 * that changed it (a quantity cut to the lot) or could change it (an unfrozen copy) is checked as before.
 * A plain order is checked without the schema (plainOrder.test.ts); the schema is the check for the rest.
 */
import assert from 'node:assert/strict';
import { TestClock } from '../../../src/common/clock';
import { fitToInstrument } from '../../../src/execution/fit';
import { submitOrderCommand } from '../../../src/execution/events';
import {
  checkOrderRequest,
  knownValidOrder,
  OrderRequestSchema,
  type InstrumentRules,
} from '../../../src/orders/model';
import { normalizeComponentOrder } from '../../../src/orders/normalize';

const EUR_USD: InstrumentRules = {
  symbol: 'EUR_USD',
  kind: 'fx',
  tickSize: 0.00001,
  lotSize: 1,
  minQuantity: 1,
  quoteCurrency: 'USD',
  pipSize: 0.0001,
};

describe('an order is validated once, at normalisation', () => {
  const clock = new TestClock(Date.UTC(2026, 11, 2));
  let parses = 0;
  const original = OrderRequestSchema.safeParse.bind(OrderRequestSchema);
  beforeEach(() => {
    parses = 0;
    (OrderRequestSchema as { safeParse: unknown }).safeParse = (value: unknown) => {
      parses++;
      return original(value);
    };
  });
  afterEach(() => {
    (OrderRequestSchema as { safeParse: unknown }).safeParse = original;
  });

  const normalised = (raw: Record<string, unknown>) => {
    const r = normalizeComponentOrder(raw, { now: clock.now() });
    assert.ok(r.ok, JSON.stringify(r));
    return r.order;
  };

  it('normalise → fit → SubmitOrder → pre-trade check checks the order once', () => {
    const order = normalised({ symbol: 'EUR_USD', side: 'buy', order_type: 'limit', price: 1.08, quantity: 1000 });
    assert.equal(parses, 0, 'a plain order is checked without the schema');
    assert.ok(knownValidOrder(order), 'normalisation remembers the order as valid');
    const fitted = fitToInstrument(order, EUR_USD, []);
    assert.ok('order' in fitted);
    assert.equal(fitted.order, order, 'an order already on the grid is the order itself');
    const cmd = submitOrderCommand(fitted.order, { venue: 'paper', source: 'replay', clock });
    assert.ok(knownValidOrder(cmd.order), 'the SubmitOrder carries the validity of the order it was built from');
    assert.equal(checkOrderRequest(cmd.order).success, true);
    assert.equal(parses, 0, 'the SubmitOrder was parsed again');
  });

  it('an order that is not plain is parsed by the schema once, then remembered', () => {
    // A null-prototype order (not a plain object) is one only the schema answers for.
    const raw = Object.assign(Object.create(null) as object, {
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: Object.freeze({ type: 'market' }),
      quantity: 1000,
      time_in_force: Object.freeze({ type: 'IOC' }),
      client_order_id: 'sp-1',
      metadata: Object.freeze({}),
    });
    Object.freeze(raw);
    assert.equal(knownValidOrder(raw), false);
    assert.equal(checkOrderRequest(raw).success, true);
    assert.equal(parses, 1);
    assert.equal(checkOrderRequest(raw).success, true);
    assert.equal(parses, 1, 'a frozen order that passed is not parsed again');
  });

  it('the normalised order cannot be changed afterwards (it is frozen down to its parts)', () => {
    const order = normalised({ symbol: 'EUR_USD', side: 'buy', order_type: 'limit', price: 1.08, quantity: 1000 });
    assert.throws(() => {
      (order as { quantity: number }).quantity = -5;
    }, TypeError);
    assert.throws(() => {
      (order.order_type as { price: number }).price = Number.NaN;
    }, TypeError);
    assert.throws(() => {
      (order.metadata as Record<string, unknown>)['x'] = Number.NaN;
    }, TypeError);
  });

  it('an order the fit changed, or an unfrozen copy, is parsed again', () => {
    const order = normalised({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000.5 });
    const fitted = fitToInstrument(order, EUR_USD, []);
    assert.ok('order' in fitted);
    assert.notEqual(fitted.order, order);
    assert.equal(knownValidOrder(fitted.order), false, 'a changed order is not taken as valid');
    const cmd = submitOrderCommand(fitted.order, { venue: 'paper', source: 'replay', clock });
    assert.equal(knownValidOrder(cmd.order), false);
    assert.equal(checkOrderRequest(cmd.order).success, true);
    assert.ok(knownValidOrder(cmd.order), 'checked by the engine, then remembered');
    const copy = { ...order, quantity: -1 };
    assert.equal(checkOrderRequest(copy).success, false);
  });

  it('a SubmitOrder whose client order id the schema would refuse is parsed, and refused', () => {
    const order = normalised({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 });
    const cmd = submitOrderCommand(
      { ...order, client_order_id: 'not allowed: spaces and a very long id beyond thirty-six chars' },
      { venue: 'paper', source: 'replay', clock },
    );
    assert.equal(checkOrderRequest(cmd.order).success, false);
  });
});
