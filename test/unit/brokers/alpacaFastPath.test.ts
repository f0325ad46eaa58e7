/**
 * `readAlpacaOrder` (the hand transcription of `AlpacaOrderSchema`) against zod itself: over valid
 * Alpaca orders covering every branch the schema allows, and over mutations of them, the fast path
 * followed by the zod fallback must give exactly what zod alone gives: the same verdict, the same
 * parsed value, the same BAD_RESPONSE message (also through `parseOrder`).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ALPACA_STATUSES, AlpacaOrderSchema, parseOrder, readAlpacaOrder, validate } from '../../../src/brokers/alpaca/parse';
import { assertSingleStepAgreement, Coverage, decimalText, deepClone, extraFields, mutate, mutations, outcomeOf, rfc3339Time } from './fastPathSupport';

const TIFS = AlpacaOrderSchema.shape.time_in_force.options;
const SIDES = AlpacaOrderSchema.shape.side.options;
const ORDER_KEYS = Object.keys(AlpacaOrderSchema.shape);
const KNOWN = new Set(ORDER_KEYS);
const NULLISH_DECIMALS = ['qty', 'filled_avg_price', 'limit_price', 'stop_price'] as const;
const NULLISH_TIMES = ['updated_at', 'submitted_at', 'filled_at', 'canceled_at', 'expired_at', 'failed_at', 'expires_at'] as const;
const OPTIONAL_STRINGS = ['type', 'order_type'] as const;

const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof(arb, fc.constant(null));
const orderTypeName = fc.oneof(fc.constantFrom('market', 'limit', 'stop', 'stop_limit', 'trailing_stop', ''), fc.string({ maxLength: 6 }));

const alpacaOrder = fc
  .tuple(
    fc.record(
      {
        id: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 8 })),
        client_order_id: fc.string({ maxLength: 16 }),
        status: fc.constantFrom(...ALPACA_STATUSES),
        symbol: fc.oneof(fc.constantFrom('AAPL', 'SPY', 'BTC/USD', 'ETH/USDT'), fc.string({ minLength: 1, maxLength: 6 })),
        qty: nullable(decimalText),
        filled_qty: decimalText,
        filled_avg_price: nullable(decimalText),
        type: orderTypeName,
        order_type: orderTypeName,
        side: fc.constantFrom(...SIDES),
        time_in_force: fc.constantFrom(...TIFS),
        limit_price: nullable(decimalText),
        stop_price: nullable(decimalText),
        created_at: rfc3339Time,
        updated_at: nullable(rfc3339Time),
        submitted_at: nullable(rfc3339Time),
        filled_at: nullable(rfc3339Time),
        canceled_at: nullable(rfc3339Time),
        expired_at: nullable(rfc3339Time),
        failed_at: nullable(rfc3339Time),
        expires_at: nullable(rfc3339Time),
      },
      { requiredKeys: ['id', 'client_order_id', 'status', 'symbol', 'filled_qty', 'side', 'time_in_force', 'created_at'], noNullPrototype: true },
    ),
    extraFields(
      [
        'asset_id',
        'asset_class',
        'notional',
        'extended_hours',
        'legs',
        'trail_percent',
        'trail_price',
        'hwm',
        'position_intent',
        'replaced_at',
        'replaced_by',
        'replaces',
        'order_class',
        'source',
        'subtag',
      ],
      ORDER_KEYS,
    ),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

const WORDS = [...ALPACA_STATUSES, ...TIFS, ...SIDES, 'BUY', 'GTC', 'market', 'AAPL', '150.25', '2024-01-02T15:04:05.123456789Z'];

const zodOnly = (raw: unknown) => validate(AlpacaOrderSchema, raw, 'an order');
const withFastPath = (raw: unknown) => readAlpacaOrder(raw) ?? zodOnly(raw);

/** The differential check; returns whether the fast path took the order itself. */
function checkAgainstZod(raw: unknown): boolean {
  const before = deepClone(raw);
  const fast = outcomeOf(() => readAlpacaOrder(raw));
  assert.ok(fast.ok, 'readAlpacaOrder threw instead of returning undefined');
  assert.deepStrictEqual(raw, before, 'readAlpacaOrder changed its input');
  const expected = outcomeOf(() => zodOnly(raw));
  assert.deepStrictEqual(
    outcomeOf(() => withFastPath(raw)),
    expected,
  );
  if (fast.value !== undefined) assert.ok(expected.ok, 'the fast path accepted an order zod refuses');
  // parseOrder reads through the same seam: an order zod refuses fails there with zod's message.
  if (!expected.ok)
    assert.deepStrictEqual(
      outcomeOf(() => parseOrder(raw)),
      expected,
    );
  return fast.value !== undefined;
}

describe('Alpaca readAlpacaOrder fast path vs AlpacaOrderSchema', function () {
  // Thousands of seeded cases: on a loaded machine they outlast mocha's 2 s default.
  this.timeout(60_000);
  it('takes every valid order itself and returns exactly what zod returns', () => {
    const coverage = new Coverage();
    fc.assert(
      fc.property(alpacaOrder, (order) => {
        const parsed = AlpacaOrderSchema.safeParse(order);
        assert.ok(parsed.success, `the generator made an invalid order: ${parsed.error?.message}`);
        const fast = readAlpacaOrder(order);
        assert.notEqual(fast, undefined, 'a valid order fell back to zod');
        assert.deepStrictEqual(fast, parsed.data);
        assert.ok(checkAgainstZod(order));

        coverage.note('status', order.status);
        coverage.note('time_in_force', order.time_in_force);
        coverage.note('side', order.side);
        const fields = order as Record<string, unknown>;
        for (const k of [...NULLISH_DECIMALS, ...NULLISH_TIMES, ...OPTIONAL_STRINGS]) coverage.presence('order', order, k);
        for (const k of [...NULLISH_DECIMALS, ...NULLISH_TIMES]) if (k in fields) coverage.note(`${k} null`, fields[k] === null);
        coverage.note(
          'unknown keys',
          Object.keys(order).some((k) => !KNOWN.has(k)),
        );
      }),
      { seed: 0xa1facca1, numRuns: 500 },
    );
    assert.deepEqual(coverage.missing('status', ALPACA_STATUSES), []);
    assert.deepEqual(coverage.missing('time_in_force', TIFS), []);
    assert.deepEqual(coverage.missing('side', SIDES), []);
    for (const k of [...NULLISH_DECIMALS, ...NULLISH_TIMES]) assert.deepEqual(coverage.missing(`${k} null`, [true, false]), [], k);
    assert.deepEqual(coverage.missing('unknown keys', [true, false]), []);
    assert.deepEqual(coverage.oneSided(), []);
  });

  it('gives zod’s verdict, value and message on mutated orders', () => {
    let accepted = 0;
    let fastAccepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(alpacaOrder, mutations(WORDS, ORDER_KEYS), (order, ops) => {
        const raw = mutate(order, ops, KNOWN);
        if (checkAgainstZod(raw)) fastAccepted++;
        if (AlpacaOrderSchema.safeParse(raw).success) accepted++;
        else rejected++;
      }),
      { seed: 0xa1facca2, numRuns: 1000 },
    );
    assert.ok(rejected > 300, `only ${rejected} mutated orders were refused`);
    assert.ok(accepted > 50 && fastAccepted > 30, `accepted ${accepted}, by the fast path ${fastAccepted}`);
  });

  it('agrees with zod on every single-step variant of valid orders', () => {
    assertSingleStepAgreement({
      valid: alpacaOrder,
      read: readAlpacaOrder,
      readName: 'readAlpacaOrder',
      schema: AlpacaOrderSchema,
      known: KNOWN,
      words: WORDS,
      seed: 0xa1facca3,
      numRuns: 12,
    });
  });

  it('matches zod on hand-picked edge cases', () => {
    const base = {
      id: '61e69015-8549-4bfd-b9c3-01e75843f47d',
      client_order_id: 'sp-1',
      status: 'filled',
      symbol: 'AAPL',
      qty: '10',
      filled_qty: '10',
      filled_avg_price: '150.25',
      type: 'market',
      side: 'buy',
      time_in_force: 'gtc',
      created_at: '2024-01-02T15:04:05.123456789Z',
    };
    const cases: unknown[] = [
      base,
      { ...base, qty: null, filled_avg_price: null, limit_price: null, stop_price: null, updated_at: null, expires_at: null },
      { ...base, qty: undefined, type: undefined, order_type: undefined, filled_at: undefined },
      { ...base, type: null },
      { ...base, order_type: 7 },
      { ...base, qty: 10 },
      { ...base, qty: '10.' },
      { ...base, qty: '.5' },
      { ...base, qty: '1e3' },
      { ...base, qty: '' },
      { ...base, qty: 'NaN' },
      { ...base, filled_qty: null },
      { ...base, filled_qty: undefined },
      { ...base, id: '' },
      { ...base, symbol: '' },
      { ...base, client_order_id: '' },
      { ...base, status: 'FILLED' },
      { ...base, status: 'cancelled' },
      { ...base, side: 'BUY' },
      { ...base, time_in_force: 'GTC' },
      { ...base, created_at: '' },
      { ...base, created_at: 'not a time' },
      { ...base, created_at: 1704207845123 },
      { ...base, updated_at: 'garbage' },
      { ...base, updated_at: '2024-01-02' },
      { ...base, legs: [], notional: null, extended_hours: false },
      JSON.parse(
        '{"__proto__":{"qty":"5"},"id":"x","client_order_id":"","status":"new","symbol":"A","filled_qty":"0","side":"sell","time_in_force":"day","created_at":"2024-01-02T00:00:00Z"}',
      ),
      Object.assign(Object.create(null) as object, base),
      [base],
      null,
      undefined,
      '{}',
    ];
    for (const raw of cases) checkAgainstZod(raw);
  });
});
