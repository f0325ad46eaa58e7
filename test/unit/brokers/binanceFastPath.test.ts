/**
 * `readRawOrder` (the hand transcription of `RawOrderSchema` with `RawFillSchema`) against zod
 * itself: over valid raw Binance orders covering every branch the schema allows (decimals as strings
 * and as numbers, ids as integers and as digit strings), and over mutations of them, the fast path
 * followed by the zod fallback must give exactly what zod alone gives: the same verdict, the same
 * parsed value, and through `parseOrder` the same BAD_RESPONSE message.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BINANCE_STATUS, parseOrder, RawOrderSchema, readRawOrder } from '../../../src/brokers/binance/parse';
import { BrokerError } from '../../../src/brokers/errors';
import { assertSingleStepAgreement, Coverage, deepClone, extraFields, mutate, mutations, outcomeOf } from './fastPathSupport';

const SIDES = RawOrderSchema.shape.side.options;
const ORDER_KEYS = Object.keys(RawOrderSchema.shape);
const FILL_KEYS = ['price', 'qty', 'commission', 'commissionAsset', 'tradeId'];
const KNOWN = new Set([...ORDER_KEYS, ...FILL_KEYS]);
const DECIMAL_KEYS = ['price', 'origQty', 'executedQty', 'cummulativeQuoteQty'] as const;
const OPTIONAL_KEYS = ['origClientOrderId', 'timeInForce', 'stopPrice', 'time', 'updateTime', 'transactTime', 'workingTime', 'fills'] as const;

/** `decimalString`: a string Number() reads as finite (Binance's "0.00100000", and what Number() tolerates), or a finite number. */
const binanceDecimal: fc.Arbitrary<string | number> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.stringMatching(/^[0-9]{1,6}$/), fc.stringMatching(/^[0-9]{8}$/)).map(([w, f]) => `${w}.${f}`) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-0', '1e-8', '1E3', ' 12 ', '\t5\n', '0x1F', '0b101', '.5', '5.', '+3', '-2.5') },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.integer() },
);
/** `integerLike`: a safe integer, or a string of digits (of any length). */
const integerLike: fc.Arbitrary<string | number> = fc.oneof(fc.maxSafeInteger(), fc.stringMatching(/^-?[0-9]{1,20}$/));
const millis = fc.oneof(fc.constant(0), fc.maxSafeNat(), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }));

const rawFill = fc
  .tuple(
    fc.record(
      {
        price: binanceDecimal,
        qty: binanceDecimal,
        commission: binanceDecimal,
        commissionAsset: fc.oneof(fc.constantFrom('BTC', 'USDT', 'BNB', ''), fc.string({ maxLength: 5 })),
        tradeId: integerLike,
      },
      { noNullPrototype: true },
    ),
    extraFields(['tradeGroupId', 'matchType'], FILL_KEYS),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

const rawOrder = fc
  .tuple(
    fc.record(
      {
        symbol: fc.oneof(fc.constantFrom('BTCUSDT', 'ETHBTC', 'BNBUSDT'), fc.string({ minLength: 1, maxLength: 8 })),
        orderId: integerLike,
        clientOrderId: fc.string({ maxLength: 36 }),
        origClientOrderId: fc.string({ maxLength: 36 }),
        price: binanceDecimal,
        origQty: binanceDecimal,
        executedQty: binanceDecimal,
        cummulativeQuoteQty: binanceDecimal,
        status: fc.constantFrom(...BINANCE_STATUS),
        timeInForce: fc.oneof(fc.constantFrom('GTC', 'IOC', 'FOK', 'GTX', ''), fc.string({ maxLength: 4 })),
        type: fc.oneof(
          fc.constantFrom('MARKET', 'LIMIT', 'LIMIT_MAKER', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT', ''),
          fc.string({ maxLength: 6 }),
        ),
        side: fc.constantFrom(...SIDES),
        stopPrice: binanceDecimal,
        time: millis,
        updateTime: millis,
        transactTime: millis,
        workingTime: fc.oneof(fc.constant(-1), fc.maxSafeInteger()),
        fills: fc.array(rawFill, { maxLength: 3 }),
      },
      {
        requiredKeys: ['symbol', 'orderId', 'clientOrderId', 'price', 'origQty', 'executedQty', 'cummulativeQuoteQty', 'status', 'type', 'side'],
        noNullPrototype: true,
      },
    ),
    extraFields(
      ['orderListId', 'isWorking', 'selfTradePreventionMode', 'origQuoteOrderQty', 'icebergQty', 'workingFloor', 'usedSor', 'preventedMatchId'],
      ORDER_KEYS,
    ),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

const WORDS = [...BINANCE_STATUS, ...SIDES, 'buy', 'MARKET', 'LIMIT', 'GTC', 'BTCUSDT', '0.00100000', '-1', '28'];

/**
 * RawOrderSchema alone, failing as `parseOrder`'s zod path does (binance/parse.ts `readOrThrow`,
 * which is not exported; the last check in `checkAgainstZod` keeps this copy honest).
 */
function zodOnly(raw: unknown): unknown {
  const parsed = RawOrderSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new BrokerError('BAD_RESPONSE', `Binance sent an order that could not be read (${where})`);
}
const withFastPath = (raw: unknown) => readRawOrder(raw) ?? zodOnly(raw);

/** The differential check; returns whether the fast path took the order itself. */
function checkAgainstZod(raw: unknown): boolean {
  const before = deepClone(raw);
  const fast = outcomeOf(() => readRawOrder(raw));
  assert.ok(fast.ok, 'readRawOrder threw instead of returning undefined');
  assert.deepStrictEqual(raw, before, 'readRawOrder changed its input');
  const expected = outcomeOf(() => zodOnly(raw));
  assert.deepStrictEqual(
    outcomeOf(() => withFastPath(raw)),
    expected,
  );
  if (fast.value !== undefined) assert.ok(expected.ok, 'the fast path accepted an order zod refuses');
  if (!expected.ok)
    assert.deepStrictEqual(
      outcomeOf(() => parseOrder(raw, { now: 0 })),
      expected,
    );
  return fast.value !== undefined;
}

describe('Binance readRawOrder fast path vs RawOrderSchema', function () {
  // Thousands of seeded cases: on a loaded machine they outlast mocha's 2 s default.
  this.timeout(60_000);
  it('takes every valid raw order itself and returns exactly what zod returns', () => {
    const coverage = new Coverage();
    fc.assert(
      fc.property(rawOrder, (order) => {
        const parsed = RawOrderSchema.safeParse(order);
        assert.ok(parsed.success, `the generator made an invalid order: ${parsed.error?.message}`);
        const fast = readRawOrder(order);
        assert.notEqual(fast, undefined, 'a valid order fell back to zod');
        assert.deepStrictEqual(fast, parsed.data);
        assert.ok(checkAgainstZod(order));

        coverage.note('status', order.status);
        coverage.note('side', order.side);
        for (const k of OPTIONAL_KEYS) coverage.presence('order', order, k);
        for (const k of DECIMAL_KEYS) coverage.note(`${k} type`, typeof order[k]);
        coverage.note('orderId type', typeof order.orderId);
        if (order.fills) {
          coverage.note('fills empty', order.fills.length === 0);
          for (const f of order.fills) {
            coverage.note('tradeId type', typeof f.tradeId);
            coverage.note('fill price type', typeof f.price);
          }
        }
        coverage.note(
          'unknown keys',
          Object.keys(order).some((k) => !KNOWN.has(k)),
        );
      }),
      { seed: 0xb1a4ce01, numRuns: 500 },
    );
    assert.deepEqual(coverage.missing('status', BINANCE_STATUS), []);
    assert.deepEqual(coverage.missing('side', SIDES), []);
    for (const label of [...DECIMAL_KEYS.map((k) => `${k} type`), 'orderId type', 'tradeId type', 'fill price type'])
      assert.deepEqual(coverage.missing(label, ['string', 'number']), [], label);
    assert.deepEqual(coverage.missing('fills empty', [true, false]), []);
    assert.deepEqual(coverage.missing('unknown keys', [true, false]), []);
    assert.deepEqual(coverage.oneSided(), []);
  });

  it('gives zod’s verdict, value and message on mutated raw orders', () => {
    let accepted = 0;
    let fastAccepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(rawOrder, mutations(WORDS, [...ORDER_KEYS, ...FILL_KEYS]), (order, ops) => {
        const raw = mutate(order, ops, KNOWN);
        if (checkAgainstZod(raw)) fastAccepted++;
        if (RawOrderSchema.safeParse(raw).success) accepted++;
        else rejected++;
      }),
      { seed: 0xb1a4ce02, numRuns: 1000 },
    );
    assert.ok(rejected > 300, `only ${rejected} mutated orders were refused`);
    assert.ok(accepted > 50 && fastAccepted > 30, `accepted ${accepted}, by the fast path ${fastAccepted}`);
  });

  it('agrees with zod on every single-step variant of valid raw orders', () => {
    assertSingleStepAgreement({
      valid: rawOrder,
      read: readRawOrder,
      readName: 'readRawOrder',
      schema: RawOrderSchema,
      known: KNOWN,
      words: WORDS,
      seed: 0xb1a4ce03,
      numRuns: 9,
    });
  });

  it('matches zod on hand-picked edge cases', () => {
    const base = {
      symbol: 'BTCUSDT',
      orderId: 28,
      orderListId: -1,
      clientOrderId: 'sp-1',
      transactTime: 1700000000100,
      price: '0.00000000',
      origQty: '0.00100000',
      executedQty: '0.00100000',
      cummulativeQuoteQty: '30.01100000',
      status: 'FILLED',
      timeInForce: 'GTC',
      type: 'MARKET',
      side: 'BUY',
      workingTime: 1700000000100,
      fills: [{ price: '30011.00', qty: '0.00100000', commission: '0.00000100', commissionAsset: 'BTC', tradeId: 56 }],
    };
    const sparse: unknown[] = [];
    sparse[1] = base.fills[0];
    const cases: unknown[] = [
      base,
      { ...base, fills: [] },
      { ...base, fills: undefined, stopPrice: undefined, time: undefined, origClientOrderId: undefined, timeInForce: undefined, workingTime: undefined },
      { ...base, fills: null },
      { ...base, fills: {} },
      { ...base, fills: [null] },
      { ...base, fills: [{ ...base.fills[0], tradeId: '56' }] },
      { ...base, fills: [{ ...base.fills[0], tradeId: 56.5 }] },
      { ...base, fills: [{ ...base.fills[0], tradeId: 2 ** 53 }] },
      { ...base, fills: [{ ...base.fills[0], price: 'NaN' }] },
      { ...base, fills: sparse },
      { ...base, orderId: '28' },
      { ...base, orderId: '-28' },
      { ...base, orderId: '2.8' },
      { ...base, orderId: 2 ** 53 },
      { ...base, orderId: -0 },
      { ...base, orderId: '99999999999999999999999' },
      { ...base, price: '' },
      { ...base, price: '   ' },
      { ...base, price: '\u00a0' },
      { ...base, price: 'Infinity' },
      { ...base, price: Number.POSITIVE_INFINITY },
      { ...base, price: Number.NaN },
      { ...base, price: '1e400' },
      { ...base, price: 0.1 },
      { ...base, price: -0 },
      { ...base, price: null },
      { ...base, stopPrice: null },
      { ...base, time: -1 },
      { ...base, time: -0 },
      { ...base, time: 1.5 },
      { ...base, time: '1700000000000' },
      { ...base, workingTime: -1 },
      { ...base, workingTime: 2 ** 53 },
      { ...base, status: 'filled' },
      { ...base, side: 'buy' },
      { ...base, symbol: '' },
      { ...base, clientOrderId: 7 },
      { ...base, type: null },
      Object.assign(Object.create(null) as object, base),
      JSON.parse(JSON.stringify({ ...base, fills: undefined }).replace('{', '{"__proto__":{"symbol":"X"},')),
      [base],
      null,
      undefined,
      0,
    ];
    for (const raw of cases) checkAgainstZod(raw);
  });
});
