/**
 * `plainOrderRequest` answers "valid" without the schema for plain orders (issue 13: validation without
 * zod's ~4 µs). It may only ever say yes where OrderRequestSchema says yes AND returns the same fields and
 * values — normalisation keeps the order itself when it says yes, so a "yes" the schema would have
 * changed or refused is a defect. Checked here against the schema over generated near-orders.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkOrderRequest, OrderRequestSchema, plainOrderRequest } from '../../../src/orders/model';
import { normalizeCarefully, normalizeComponentOrder, plainComponentOrder } from '../../../src/orders/normalize';

/** Values that are sometimes right and often subtly wrong for any field. */
const wild = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    0.5,
    1e-12,
    1e300,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.MAX_SAFE_INTEGER + 2,
    1.5,
    '',
    '1',
    'buy',
    'sell',
    'BUY',
    'market',
    'limit',
    'GTC',
    'GTD',
    'EUR_USD',
    ' EUR_USD',
    'a'.repeat(40),
    null,
    undefined,
    true,
    false,
    [],
    {},
  ),
  fc.double(),
  fc.string({ maxLength: 40 }),
);

const orderType = fc.oneof(
  fc.record({ type: fc.constant('market') }),
  fc.record({ type: fc.constantFrom('limit', 'stop'), price: fc.oneof(fc.double({ min: 1e-6, max: 1e6 }), wild) }),
  fc.record({
    type: fc.constant('stop_limit'),
    stop_price: fc.oneof(fc.double({ min: 1e-6, max: 1e6 }), wild),
    limit_price: fc.oneof(fc.double({ min: 1e-6, max: 1e6 }), wild),
  }),
  fc.record(
    {
      type: fc.constant('trailing_stop'),
      trail_offset: fc.oneof(fc.double({ min: 1e-6, max: 10 }), wild),
      trail_bps: fc.oneof(fc.double({ min: 1e-3, max: 500 }), wild),
    },
    { requiredKeys: ['type'] },
  ),
  fc.dictionary(fc.constantFrom('type', 'price', 'extra', '__proto__', 'constructor'), wild, { maxKeys: 3 }),
  wild,
);

const timeInForce = fc.oneof(
  fc.record({ type: fc.constantFrom('GTC', 'IOC', 'FOK', 'DAY') }),
  fc.record({ type: fc.constant('GTD'), expires_at: fc.oneof(fc.integer({ min: 1, max: 2 ** 53 - 1 }), wild) }),
  fc.dictionary(fc.constantFrom('type', 'expires_at', 'extra'), wild, { maxKeys: 3 }),
  wild,
);

const metadata = fc.oneof(
  fc.dictionary(
    fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', '1', 'api_key')),
    fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.boolean(), wild),
    { maxKeys: 4 },
  ),
  wild,
);

const validOrder = fc.record({
  symbol: fc.constantFrom('EUR_USD', 'AAPL', 'BTCUSDT', 'eur/usd', 'X:Y-Z.1'),
  side: fc.constantFrom('buy', 'sell'),
  order_type: orderType.filter((t) => typeof t === 'object' && t !== null && 'type' in t),
  quantity: fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
  time_in_force: timeInForce.filter((t) => typeof t === 'object' && t !== null && 'type' in t),
  client_order_id: fc.constantFrom('sp-1', 'a/b:c.d_e-f'),
  metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.boolean()), {
    maxKeys: 3,
  }),
});

const FIELDS = ['symbol', 'side', 'order_type', 'quantity', 'time_in_force', 'client_order_id', 'metadata', 'extra'];

/** A mostly valid order with up to two fields replaced by something else, or removed. */
const nearOrder = fc
  .tuple(
    validOrder,
    fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(wild, orderType, timeInForce, metadata), fc.boolean()), {
      maxLength: 2,
    }),
  )
  .map(([order, changes]) => {
    const o: Record<string, unknown> = { ...order };
    for (const [field, value, remove] of changes) {
      if (remove) delete o[field];
      else o[field] = value;
    }
    return o;
  });

/** A null-prototype or JSON-parsed copy, as orders arrive from Python. */
const viaJson = (o: unknown): unknown => (o === undefined ? undefined : (JSON.parse(JSON.stringify(o)) as unknown));

describe('plain orders are checked without the schema, never more leniently', () => {
  it('a yes is the schema’s yes with the same fields and values (generated near-orders)', () => {
    let yes = 0;
    fc.assert(
      fc.property(nearOrder, fc.boolean(), (raw, json) => {
        const o = json ? viaJson(raw) : raw;
        if (!plainOrderRequest(o)) return;
        yes++;
        const parsed = OrderRequestSchema.safeParse(o);
        assert.ok(parsed.success, `plain said yes, the schema no: ${JSON.stringify(o)}`);
        assert.deepStrictEqual(parsed.data, o);
      }),
      { numRuns: 4000 },
    );
    // The generator makes valid orders often enough for the property to mean something.
    assert.ok(yes > 100, `only ${yes} generated orders were plain`);
  });

  it('valid orders of every type and time in force are plain, as components send them', () => {
    const orders = [
      { type: 'market' },
      { type: 'limit', price: 1.0845 },
      { type: 'stop', price: 1.08 },
      { type: 'stop_limit', stop_price: 1.08, limit_price: 1.079 },
      { type: 'trailing_stop', trail_offset: 0.001 },
      { type: 'trailing_stop', trail_bps: 25 },
    ].flatMap((order_type) =>
      [{ type: 'GTC' }, { type: 'IOC' }, { type: 'FOK' }, { type: 'GTD', expires_at: 1_900_000_000_000 }].map(
        (time_in_force) => ({
          symbol: 'EUR_USD',
          side: 'buy',
          order_type,
          quantity: 10_000,
          time_in_force,
          client_order_id: 'sp-abc',
          metadata: { strategy: 'x', n: 1, on: true },
        }),
      ),
    );
    for (const o of orders) assert.equal(plainOrderRequest(o), true, JSON.stringify(o));
  });

  it('what the schema refuses or rewrites goes to the schema', () => {
    const base = {
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: { type: 'market' },
      quantity: 1000,
      time_in_force: { type: 'IOC' },
      metadata: {},
    };
    const cases: Array<[string, unknown]> = [
      ['an unknown field (stripped by the schema)', { ...base, note: 'x' }],
      ['an unknown order-type field', { ...base, order_type: { type: 'market', price: 1 } }],
      ['a __proto__ metadata key', { ...base, metadata: JSON.parse('{"__proto__": 1}') as unknown }],
      ['a symbol metadata key', { ...base, metadata: { [Symbol('s')]: 1 } }],
      ['a nested metadata value', { ...base, metadata: { a: { b: 1 } } }],
      ['NaN quantity', { ...base, quantity: Number.NaN }],
      [
        'a trailing stop with both offsets',
        { ...base, order_type: { type: 'trailing_stop', trail_offset: 1, trail_bps: 2 } },
      ],
      ['a class instance', Object.assign(Object.create({ inherited: 1 }) as object, base)],
      ['an array', [base]],
      ['GTD expiry not a safe integer', { ...base, time_in_force: { type: 'GTD', expires_at: 1.5 } }],
    ];
    for (const [what, o] of cases) assert.equal(plainOrderRequest(o), false, what);
  });

  it('checkOrderRequest still explains what the schema refuses', () => {
    const r = checkOrderRequest({
      symbol: 'EUR_USD',
      side: 'up',
      order_type: { type: 'market' },
      quantity: 1,
      time_in_force: { type: 'IOC' },
      metadata: {},
    });
    assert.equal(r.success, false);
    if (!r.success) assert.match(r.error.issues[0]?.path.join('.') ?? '', /side/);
  });

  it('normalisation keeps a plain order as built (frozen, valid) and gives the schema’s result otherwise', () => {
    const ok = normalizeComponentOrder(
      { symbol: 'EUR_USD', side: 'buy', order_type: 'limit', price: 1.0845, quantity: 1000, time_in_force: 'GTC' },
      { now: Date.now() },
    );
    assert.ok(ok.ok);
    if (ok.ok) {
      assert.ok(Object.isFrozen(ok.order) && Object.isFrozen(ok.order.order_type));
      assert.deepStrictEqual(OrderRequestSchema.parse(ok.order), ok.order);
      assert.equal(checkOrderRequest(ok.order).success, true);
    }
  });

  it('a component order normalised without the walk is what the walk makes of it (generated component outputs)', () => {
    // Components' own spelling: order_type and time_in_force as words, a price beside them, case and spaces off.
    const fields = {
      symbol: fc.oneof(fc.constantFrom('EUR_USD', 'AAPL', 'eur/usd', ' EUR_USD', 'bad symbol!'), wild),
      side: fc.oneof(fc.constantFrom('buy', 'sell', 'BUY', ' sell', 'long'), wild),
      order_type: fc.oneof(
        fc.constantFrom('market', 'limit', 'MARKET', 'mkt', 'stop', 'stop_limit', 'stop-limit'),
        orderType,
      ),
      quantity: fc.oneof(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), fc.constantFrom(1000, 0, -5), wild),
      time_in_force: fc.oneof(fc.constantFrom('GTC', 'ioc', ' FOK ', 'GTD', 'DAY'), timeInForce),
      price: fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), wild),
      limit_price: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      client_order_id: fc.constantFrom('sp-1', 'bad id!'),
      metadata: metadata,
      type: fc.constantFrom('order_request', 'market'),
      size: fc.constant(1000),
      tag: wild,
    };
    const componentOrder = fc.oneof(
      fc.record(fields, { requiredKeys: [] }),
      fc.record(
        {
          symbol: fields.symbol,
          side: fields.side,
          order_type: fields.order_type,
          quantity: fields.quantity,
          time_in_force: fields.time_in_force,
          price: fields.price,
        },
        { requiredKeys: ['symbol', 'side', 'order_type', 'quantity'] },
      ),
      fc.record(
        {
          symbol: fc.constantFrom('EUR_USD', 'AAPL', 'eur/usd', 'a'.repeat(40)),
          side: fc.constantFrom('buy', 'sell'),
          order_type: fc.constantFrom('market', 'limit'),
          quantity: fc.oneof(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), fc.constantFrom(0, -1, Number.NaN)),
          time_in_force: fc.constantFrom('GTC', 'ioc', ' FOK ', 'gtd', null, undefined),
          price: fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.constantFrom(0, null, '1.1')),
        },
        { requiredKeys: ['symbol', 'side', 'order_type', 'quantity'] },
      ),
    );
    const now = { now: Date.UTC(2026, 0, 1) };
    let plain = 0;
    fc.assert(
      fc.property(componentOrder, fc.boolean(), (raw, json) => {
        const o = json ? viaJson(raw) : raw;
        const careful = normalizeCarefully(o, now);
        const fast = plainComponentOrder(o);
        if (fast === undefined) return;
        plain++;
        assert.deepStrictEqual(fast, careful, JSON.stringify(o));
        if (fast.ok && careful.ok) {
          assert.ok(Object.isFrozen(fast.order) && Object.isFrozen(fast.order.order_type));
          assert.ok(Object.isFrozen(fast.order.time_in_force) && Object.isFrozen(fast.order.metadata));
          assert.equal(checkOrderRequest(fast.order).success, true);
        }
        assert.deepStrictEqual(normalizeComponentOrder(o, now), careful);
      }),
      { numRuns: 6000, seed: 14 },
    );
    // Market and limit orders as components write them take the short path often enough to mean something.
    assert.ok(plain > 100, `only ${plain} generated orders took the short path`);
    for (const o of [
      { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 },
      { symbol: 'EUR_USD', side: 'sell', order_type: 'limit', price: 1.0845, quantity: 1000, time_in_force: 'ioc' },
    ])
      assert.notEqual(plainComponentOrder(o), undefined, JSON.stringify(o));
  });
});
