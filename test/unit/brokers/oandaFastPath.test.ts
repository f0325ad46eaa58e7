/**
 * `readSubmitReply` (the hand transcription of `SubmitReplySchema`) against zod itself: over valid
 * submit replies covering every branch the schema allows, and over mutations of them, the fast path
 * followed by the zod fallback must give exactly what zod alone gives: the same verdict, the same
 * parsed value, the same BAD_RESPONSE message.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseSubmitReply,
  readSubmitReply,
  SubmitReplySchema,
  V20CancelTransactionSchema,
  V20CreateTransactionSchema,
  V20FillTransactionSchema,
  validate,
} from '../../../src/brokers/oanda/parse';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { assertSingleStepAgreement, Coverage, decimalText, deepClone, extraFields, mutate, mutations, outcomeOf, rfc3339Time } from './fastPathSupport';

const TIFS = V20CreateTransactionSchema.shape.timeInForce.options;
const CREATE_KEYS = Object.keys(V20CreateTransactionSchema.shape);
const FILL_KEYS = Object.keys(V20FillTransactionSchema.shape);
const CANCEL_KEYS = Object.keys(V20CancelTransactionSchema.shape);
const REPLY_KEYS = Object.keys(SubmitReplySchema.shape);
const ALL_KEYS = [...new Set([...CREATE_KEYS, ...FILL_KEYS, ...CANCEL_KEYS, ...REPLY_KEYS, 'id', 'tag', 'comment'])];
const KNOWN = new Set(ALL_KEYS);

/** OANDA's time: RFC 3339 or UNIX seconds with nanoseconds. */
const v20Time = fc.oneof(
  rfc3339Time,
  fc
    .tuple(fc.integer({ min: 946_684_800, max: 4_102_444_800 }), fc.option(fc.integer({ min: 0, max: 999_999_999 }), { nil: undefined }))
    .map(([s, ns]) => (ns === undefined ? String(s) : `${s}.${String(ns).padStart(9, '0')}`)),
);
const txId = fc.stringMatching(/^[1-9][0-9]{0,6}$/);
const anyText = fc.oneof(fc.constantFrom('', 'EUR_USD', 'USD_JPY', 'XAU_USD', 'SPX500_USD', 'CLIENT_ORDER', 'FOK_NOT_FILLED'), fc.string({ maxLength: 8 }));

const clientExtensions = fc
  .tuple(
    fc.record(
      { id: fc.string({ maxLength: 12 }), tag: fc.string({ maxLength: 6 }), comment: fc.string({ maxLength: 6 }) },
      { requiredKeys: [], noNullPrototype: true },
    ),
    extraFields(['source'], ['id', 'tag', 'comment']),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

const createTx = fc
  .tuple(
    fc.record(
      {
        id: txId,
        type: fc.oneof(fc.constantFrom('MARKET_ORDER', 'LIMIT_ORDER', 'STOP_ORDER', 'FIXED_PRICE_ORDER', ''), fc.string({ maxLength: 6 })),
        instrument: anyText,
        units: decimalText,
        price: decimalText,
        priceBound: decimalText,
        timeInForce: fc.constantFrom(...TIFS),
        gtdTime: v20Time,
        clientExtensions,
        reason: anyText,
        time: v20Time,
      },
      { requiredKeys: ['id', 'type', 'instrument', 'units', 'timeInForce', 'time'], noNullPrototype: true },
    ),
    extraFields(['accountID', 'userID', 'batchID', 'requestID', 'positionFill', 'triggerCondition', 'partialFill'], CREATE_KEYS),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

const fillTx = fc
  .tuple(
    fc.record(
      {
        id: txId,
        type: fc.constant('ORDER_FILL'),
        orderID: txId,
        clientOrderID: fc.string({ maxLength: 12 }),
        instrument: anyText,
        units: decimalText,
        commission: decimalText,
        reason: anyText,
        time: v20Time,
      },
      { requiredKeys: ['id', 'type', 'orderID', 'instrument', 'units', 'time'], noNullPrototype: true },
    ),
    // The schema's refinement: price or fullVWAP (or both).
    fc.oneof(
      decimalText.map((price) => ({ price })),
      decimalText.map((fullVWAP) => ({ fullVWAP })),
      fc.tuple(decimalText, decimalText).map(([price, fullVWAP]) => ({ price, fullVWAP })),
    ),
    extraFields(['tradeOpened', 'fullPrice', 'pl', 'financing', 'accountBalance', 'halfSpreadCost', 'gainQuoteHomeConversionFactor'], FILL_KEYS),
  )
  .map(([known, prices, extra]) => ({ ...extra, ...known, ...prices }));

const cancelTx = fc
  .tuple(
    fc.record(
      {
        id: txId,
        type: fc.constant('ORDER_CANCEL'),
        orderID: txId,
        clientOrderID: fc.string({ maxLength: 12 }),
        reason: fc.oneof(
          fc.constantFrom('CLIENT_REQUEST', 'TIME_IN_FORCE_EXPIRED', 'INSUFFICIENT_MARGIN', 'FOK_NOT_FILLED', 'MARKET_HALTED', ''),
          fc.string({ maxLength: 6 }),
        ),
        time: v20Time,
      },
      { requiredKeys: ['id', 'type', 'orderID', 'reason', 'time'], noNullPrototype: true },
    ),
    extraFields(['accountID', 'batchID', 'requestID', 'userID'], CANCEL_KEYS),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

const submitReply = fc
  .tuple(
    fc.record(
      { orderCreateTransaction: createTx, orderFillTransaction: fillTx, orderCancelTransaction: cancelTx, lastTransactionID: txId },
      { requiredKeys: ['orderCreateTransaction'], noNullPrototype: true },
    ),
    extraFields(['relatedTransactionIDs', 'orderReissueTransaction'], REPLY_KEYS),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

/** Words mutations put in place of values: this venue's vocabulary. */
const WORDS = [...TIFS, 'ORDER_FILL', 'ORDER_CANCEL', 'MARKET_ORDER', 'EUR_USD', 'CLIENT_REQUEST', '1.10010', '-100', '1893456000.000000000'];

const zodOnly = (raw: unknown) => validate(SubmitReplySchema, raw, 'a reply to an order', true);
const withFastPath = (raw: unknown) => readSubmitReply(raw) ?? zodOnly(raw);

const request: PlacedOrderRequest = {
  symbol: 'EUR_USD',
  side: 'buy',
  quantity: 100,
  order_type: { type: 'market' },
  time_in_force: { type: 'FOK' },
  metadata: {},
  client_order_id: 'fast-path-1',
};

/**
 * The same reply with an own `__proto__` key at the top: `readSubmitReply` never takes such an
 * object (a spread would copy the key), and `SubmitReplySchema` (not loose) drops it, so
 * `parseSubmitReply` on it runs the zod path end to end.
 */
function forcedThroughZod(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const copy = deepClone(raw) as Record<string, unknown>;
  Object.defineProperty(copy, '__proto__', { value: { ignored: true }, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** The differential check shared by both properties; returns whether the fast path took the reply itself. */
function checkAgainstZod(raw: unknown): boolean {
  const before = deepClone(raw);
  const fast = outcomeOf(() => readSubmitReply(raw));
  assert.ok(fast.ok, 'readSubmitReply threw instead of returning undefined');
  assert.deepStrictEqual(raw, before, 'readSubmitReply changed its input');
  const expected = outcomeOf(() => zodOnly(raw));
  assert.deepStrictEqual(
    outcomeOf(() => withFastPath(raw)),
    expected,
  );
  if (fast.value !== undefined) assert.ok(expected.ok, 'the fast path accepted a reply zod refuses');

  // End to end: parseSubmitReply with the fast path vs forced through zod.
  const forced = forcedThroughZod(raw);
  assert.equal(readSubmitReply(forced), undefined);
  assert.deepStrictEqual(
    outcomeOf(() => parseSubmitReply(raw, request)),
    outcomeOf(() => parseSubmitReply(forced, request)),
  );
  return fast.value !== undefined;
}

describe('OANDA readSubmitReply fast path vs SubmitReplySchema', function () {
  // Thousands of seeded cases: on a loaded machine they outlast mocha's 2 s default.
  this.timeout(60_000);
  it('takes every valid submit reply itself and returns exactly what zod returns', () => {
    const coverage = new Coverage();
    fc.assert(
      fc.property(submitReply, (reply) => {
        const parsed = SubmitReplySchema.safeParse(reply);
        assert.ok(parsed.success, `the generator made an invalid reply: ${parsed.error?.message}`);
        const fast = readSubmitReply(reply);
        assert.notEqual(fast, undefined, 'a valid reply fell back to zod');
        assert.deepStrictEqual(fast, parsed.data);
        assert.ok(checkAgainstZod(reply));

        const create = reply.orderCreateTransaction as Record<string, unknown>;
        coverage.note('timeInForce', create.timeInForce);
        for (const k of ['orderFillTransaction', 'orderCancelTransaction', 'lastTransactionID']) coverage.presence('reply', reply, k);
        for (const k of ['price', 'priceBound', 'gtdTime', 'clientExtensions', 'reason']) coverage.presence('create', create, k);
        const fill = reply.orderFillTransaction as Record<string, unknown> | undefined;
        if (fill) for (const k of ['price', 'fullVWAP', 'commission', 'clientOrderID', 'reason']) coverage.presence('fill', fill, k);
        if (reply.orderCancelTransaction) coverage.presence('cancel', reply.orderCancelTransaction, 'clientOrderID');
        coverage.note(
          'unknown keys in create',
          Object.keys(create).some((k) => !CREATE_KEYS.includes(k)),
        );
        coverage.note('unix time', /^\d+(\.\d+)?$/.test(create.time as string));
      }),
      { seed: 0x0a4da01, numRuns: 500 },
    );
    assert.deepEqual(coverage.missing('timeInForce', TIFS), []);
    assert.deepEqual(coverage.missing('unknown keys in create', [true, false]), []);
    assert.deepEqual(coverage.missing('unix time', [true, false]), []);
    assert.deepEqual(coverage.oneSided(), []);
  });

  it('gives zod’s verdict, value and message on mutated replies', () => {
    let accepted = 0;
    let fastAccepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(submitReply, mutations(WORDS, ALL_KEYS), (reply, ops) => {
        const raw = mutate(reply, ops, KNOWN);
        if (checkAgainstZod(raw)) fastAccepted++;
        if (SubmitReplySchema.safeParse(raw).success) accepted++;
        else rejected++;
      }),
      { seed: 0x0a4da02, numRuns: 800 },
    );
    // The mutations must reach both verdicts, and the fast path must see valid mutated replies too.
    assert.ok(rejected > 300, `only ${rejected} mutated replies were refused`);
    assert.ok(accepted > 50 && fastAccepted > 30, `accepted ${accepted}, by the fast path ${fastAccepted}`);
  });

  it('agrees with zod on every single-step variant of valid replies', () => {
    assertSingleStepAgreement({
      valid: submitReply,
      read: readSubmitReply,
      readName: 'readSubmitReply',
      schema: SubmitReplySchema,
      known: KNOWN,
      words: WORDS,
      seed: 0x0a4da03,
      numRuns: 6,
    });
  });

  it('matches zod on hand-picked edge cases', () => {
    const base = {
      orderCreateTransaction: {
        id: '6372',
        type: 'MARKET_ORDER',
        instrument: 'EUR_USD',
        units: '100',
        timeInForce: 'FOK',
        time: '2030-01-01T00:00:00.000000000Z',
      },
    };
    const fill = { id: '6373', type: 'ORDER_FILL', orderID: '6372', instrument: 'EUR_USD', units: '100', price: '1.10010', time: '1893456000.000000000' };
    const cancel = { id: '6374', type: 'ORDER_CANCEL', orderID: '6372', reason: 'FOK_NOT_FILLED', time: '1893456000' };
    const cases: unknown[] = [
      base,
      { ...base, orderFillTransaction: fill, lastTransactionID: '6373' },
      { ...base, orderCancelTransaction: cancel },
      { ...base, orderFillTransaction: undefined, orderCancelTransaction: undefined, lastTransactionID: undefined },
      { ...base, orderFillTransaction: { ...fill, price: undefined } },
      { ...base, orderFillTransaction: { ...fill, price: undefined, fullVWAP: '1.1' } },
      { ...base, orderFillTransaction: null },
      { ...base, orderFillTransaction: [] },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: '1e3' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: ' 100' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: '100.' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: '.5' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: '+100' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: '-' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: 'NaN' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: '' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, units: 100 } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, id: '' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, time: 'yesterday' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, time: '' } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, gtdTime: null } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, clientExtensions: [] } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, clientExtensions: { id: 7 } } },
      { ...base, orderCreateTransaction: { ...base.orderCreateTransaction, timeInForce: 'gtc' } },
      JSON.parse('{"orderCreateTransaction":{"__proto__":{"x":1},"id":"1","type":"T","instrument":"I","units":"1","timeInForce":"GTC","time":"1"}}'),
      JSON.parse('{"__proto__":[],"orderCreateTransaction":{"id":"1","type":"T","instrument":"I","units":"1","timeInForce":"GTC","time":"1"}}'),
      [],
      null,
      undefined,
      'not json',
    ];
    for (const raw of cases) checkAgainstZod(raw);
  });
});
