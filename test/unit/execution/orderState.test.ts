/**
 * The order state machine: every cell of the transition table, the hand cases the design calls out
 * (late fills, repeated fills, implied acceptance, refused cancels) and a property over random event
 * sequences. Records are immutable: a refused event leaves the input exactly as it was.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  applyEvent,
  averagePrice,
  filledQuantity,
  FINAL_ORDER_STATES,
  isFinalState,
  newOrderRecord,
  ORDER_STATES,
  orderResponseOf,
  OrderTransitionError,
  remainingQuantity,
  TRANSITIONS,
  type OrderEvent,
  type OrderEventType,
  type OrderRecord,
  type OrderState,
} from '../../../src/execution/orderState';
import { toMoney } from '../../../src/common/decimal';
import type { Fill, PlacedOrderRequest } from '../../../src/orders/model';

const T0 = Date.UTC(2026, 0, 5, 14, 30, 0);
const CLIENT_ID = 'cid-1';

const request = (quantity = 10): PlacedOrderRequest => ({
  symbol: 'EUR_USD',
  side: 'buy',
  order_type: { type: 'limit', price: 1.1 },
  quantity,
  time_in_force: { type: 'GTC' },
  client_order_id: CLIENT_ID,
  metadata: {},
});

const fresh = (quantity = 10): OrderRecord =>
  newOrderRecord({ clientOrderId: CLIENT_ID, commandId: 'cmd-1', venue: 'paper', request: request(quantity), at: T0 });

const fill = (id: string, quantity: number, price = 1.1, over: Partial<Fill> = {}): Fill => ({
  fill_id: id,
  order_id: 'V-1',
  client_order_id: CLIENT_ID,
  symbol: 'EUR_USD',
  side: 'buy',
  price,
  quantity,
  commission: 0.01,
  liquidity: 'maker',
  timestamp: T0,
  ...over,
});

const ev = {
  Sent: (): OrderEvent => ({ type: 'Sent', at: T0 + 1 }),
  Denied: (): OrderEvent => ({ type: 'Denied', at: T0 + 1, code: 'QUANTITY_EXCEEDS_MAXIMUM', reason: 'too big' }),
  Unconfirmed: (): OrderEvent => ({ type: 'Unconfirmed', at: T0 + 2, reason: 'timeout' }),
  Accepted: (): OrderEvent => ({ type: 'Accepted', at: T0 + 3, venueOrderId: 'V-1' }),
  Fill: (f: Fill = fill('F-new', 1)): OrderEvent => ({ type: 'Fill', at: T0 + 4, fill: f }),
  CancelRequested: (): OrderEvent => ({ type: 'CancelRequested', at: T0 + 5 }),
  CancelRejected: (): OrderEvent => ({ type: 'CancelRejected', at: T0 + 6, reason: 'too late' }),
  Cancelled: (): OrderEvent => ({ type: 'Cancelled', at: T0 + 7, venueOrderId: 'V-1' }),
  Rejected: (): OrderEvent => ({ type: 'Rejected', at: T0 + 8, reason: 'venue says no', venueOrderId: 'V-1' }),
  Expired: (): OrderEvent => ({ type: 'Expired', at: T0 + 9, venueOrderId: 'V-1' }),
} satisfies Record<OrderEventType, () => OrderEvent>;

const EVENT_TYPES = Object.keys(ev) as OrderEventType[];

/** Applies events in order, failing the test if any is refused. */
function run(order: OrderRecord, ...events: OrderEvent[]): OrderRecord {
  let o = order;
  for (const e of events) o = applyEvent(o, e).order;
  return o;
}

/** A realistic record in each state, reached through legal events (quantity 10). */
const RECORD_IN: Record<OrderState, () => OrderRecord> = {
  PENDING_SUBMIT: () => fresh(),
  SUBMITTED: () => run(fresh(), ev.Sent()),
  UNCONFIRMED: () => run(fresh(), ev.Sent(), ev.Unconfirmed()),
  ACCEPTED: () => run(fresh(), ev.Sent(), ev.Accepted()),
  PARTIALLY_FILLED: () => run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-0', 4))),
  PENDING_CANCEL: () => run(fresh(), ev.Sent(), ev.Accepted(), ev.CancelRequested()),
  FILLED: () => run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-0', 10))),
  CANCELLED: () => run(fresh(), ev.Sent(), ev.Accepted(), ev.Cancelled()),
  REJECTED: () => run(fresh(), ev.Sent(), ev.Rejected()),
  EXPIRED: () => run(fresh(), ev.Sent(), ev.Accepted(), ev.Expired()),
  DENIED: () => run(fresh(), ev.Denied()),
};

/**
 * What each event (as built by `ev`; a Fill is a new fill of 1 of the 10) does in each state, written
 * out by hand from the design: a state, 'noop' (same object, changed false), 'OVERFILL', or absent =
 * ILLEGAL_TRANSITION.
 */
type Outcome = OrderState | 'noop' | 'OVERFILL';
const EXPECTED: Record<OrderState, Partial<Record<OrderEventType, Outcome>>> = {
  PENDING_SUBMIT: { Sent: 'SUBMITTED', Denied: 'DENIED' },
  SUBMITTED: {
    Accepted: 'ACCEPTED',
    Unconfirmed: 'UNCONFIRMED',
    Fill: 'PARTIALLY_FILLED',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  UNCONFIRMED: {
    Accepted: 'ACCEPTED',
    Unconfirmed: 'noop',
    Fill: 'PARTIALLY_FILLED',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  ACCEPTED: {
    Accepted: 'noop',
    Unconfirmed: 'noop',
    Fill: 'PARTIALLY_FILLED',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  PARTIALLY_FILLED: {
    Accepted: 'noop',
    Unconfirmed: 'noop',
    Fill: 'PARTIALLY_FILLED',
    CancelRequested: 'PENDING_CANCEL',
    Cancelled: 'CANCELLED',
    Rejected: 'CANCELLED',
    Expired: 'EXPIRED',
  },
  PENDING_CANCEL: {
    Accepted: 'noop',
    Unconfirmed: 'noop',
    Fill: 'PENDING_CANCEL',
    CancelRequested: 'noop',
    CancelRejected: 'ACCEPTED',
    Cancelled: 'CANCELLED',
    Rejected: 'REJECTED',
    Expired: 'EXPIRED',
  },
  FILLED: { Accepted: 'noop', Fill: 'OVERFILL', CancelRejected: 'noop' },
  CANCELLED: { Cancelled: 'noop', Expired: 'noop', Fill: 'CANCELLED', CancelRequested: 'noop', CancelRejected: 'noop' },
  EXPIRED: { Expired: 'noop', Cancelled: 'noop', Fill: 'EXPIRED', CancelRequested: 'noop', CancelRejected: 'noop' },
  REJECTED: { Rejected: 'noop' },
  DENIED: { Denied: 'noop' },
};

function assertTransitionError(fn: () => unknown, code: string, from?: OrderState, event?: OrderEventType): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OrderTransitionError, `expected OrderTransitionError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (from !== undefined) assert.equal(e.from, from);
    if (event !== undefined) assert.equal(e.event, event);
    return true;
  });
}

describe('orderState', () => {
  it("a cancel the venue explains keeps its reason in the order's status; one it does not clears a reason from before", () => {
    const run = (events: OrderEvent[]): OrderRecord => events.reduce((o, e) => applyEvent(o, e).order, fresh());
    const explained = run([
      ev.Sent(),
      ev.Accepted(),
      { type: 'Cancelled', at: T0 + 7, venueOrderId: 'V-1', reason: 'INSUFFICIENT_MARGIN' },
    ]);
    assert.equal(explained.reason, 'INSUFFICIENT_MARGIN');
    assert.deepEqual(orderResponseOf(explained).status, { status: 'cancelled', reason: 'INSUFFICIENT_MARGIN' });
    // A refused cancel's "too late", then the venue's plain cancel: the end is not explained by the refusal.
    const plain = run([ev.Sent(), ev.Accepted(), ev.CancelRequested(), ev.CancelRejected(), ev.Cancelled()]);
    assert.equal(plain.state, 'CANCELLED');
    assert.equal(plain.reason, undefined);
    assert.deepEqual(orderResponseOf(plain).status, { status: 'cancelled' });
  });

  describe('transition table', () => {
    it('the hand-written expectations cover exactly the cells the table allows', () => {
      for (const state of ORDER_STATES) {
        const allowed = EVENT_TYPES.filter((t) => TRANSITIONS[state][t] !== undefined).sort();
        const expected = EVENT_TYPES.filter((t) => EXPECTED[state][t] !== undefined).sort();
        assert.deepEqual(allowed, expected, `state ${state}`);
      }
      assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...ORDER_STATES].sort());
    });

    for (const state of ORDER_STATES) {
      for (const type of EVENT_TYPES) {
        const outcome = EXPECTED[state][type];
        it(`${state} × ${type} → ${outcome ?? 'ILLEGAL_TRANSITION'}`, () => {
          const before = RECORD_IN[state]();
          assert.equal(before.state, state);
          const snapshot = structuredClone(before);
          const event = ev[type]();
          if (outcome === undefined) {
            assertTransitionError(() => applyEvent(before, event), 'ILLEGAL_TRANSITION', state, type);
          } else if (outcome === 'OVERFILL') {
            assertTransitionError(() => applyEvent(before, event), 'OVERFILL', state, type);
          } else if (outcome === 'noop') {
            const r = applyEvent(before, event);
            assert.equal(r.changed, false);
            assert.equal(r.order, before);
          } else {
            const r = applyEvent(before, event);
            assert.equal(r.changed, true);
            assert.equal(r.order.state, outcome);
            assert.notEqual(r.order, before);
            assert.equal(r.order.updatedAt, event.at);
          }
          assert.deepEqual(before, snapshot, 'the input record must not change');
        });
      }
    }
  });

  describe('hand cases', () => {
    it('newOrderRecord starts empty in PENDING_SUBMIT', () => {
      const o = fresh();
      assert.equal(o.state, 'PENDING_SUBMIT');
      assert.equal(o.filledUnits, 0n);
      assert.equal(averagePrice(o), null);
      assert.equal(remainingQuantity(o), 10);
      assert.equal(filledQuantity(o), 0);
    });

    it('partial then complete fills → FILLED with the exact VWAP', () => {
      let o = run(fresh(6), ev.Sent(), ev.Accepted());
      o = applyEvent(o, ev.Fill(fill('F-1', 1, 1.1))).order;
      assert.equal(o.state, 'PARTIALLY_FILLED');
      assert.equal(remainingQuantity(o), 5);
      o = applyEvent(o, ev.Fill(fill('F-2', 2, 1.2))).order;
      assert.equal(o.state, 'PARTIALLY_FILLED');
      assert.equal(averagePrice(o), 1.1666666667);
      o = applyEvent(o, ev.Fill(fill('F-3', 3, 1.3))).order;
      assert.equal(o.state, 'FILLED');
      assert.equal(averagePrice(o), 1.2333333333);
      assert.equal(filledQuantity(o), 6);
      assert.equal(o.filledUnits, toMoney(6));
      assert.equal(remainingQuantity(o), 0);
      assert.equal(o.commission, 0.03);
      assert.equal(o.fills.length, 3);
    });

    it('fractional fills sum exactly (no float drift)', () => {
      let o = run(fresh(0.3), ev.Sent(), ev.Accepted());
      o = applyEvent(o, ev.Fill(fill('F-1', 0.1))).order;
      o = applyEvent(o, ev.Fill(fill('F-2', 0.2))).order;
      assert.equal(o.state, 'FILLED');
      assert.equal(filledQuantity(o), 0.3);
    });

    it('a repeated fill id is ignored: changed false, same object', () => {
      const o = run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-1', 2)));
      const again = applyEvent(o, ev.Fill(fill('F-1', 2)));
      assert.equal(again.changed, false);
      assert.equal(again.order, o);
      // Even if the repeat carries different numbers: the id decides.
      const odd = applyEvent(o, ev.Fill(fill('F-1', 5, 9.9)));
      assert.equal(odd.changed, false);
      assert.equal(odd.order, o);
      assert.equal(filledQuantity(o), 2);
    });

    it('OVERFILL is refused and leaves the order as it was', () => {
      const o = run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-1', 7)));
      const snapshot = structuredClone(o);
      assertTransitionError(
        () => applyEvent(o, ev.Fill(fill('F-2', 3.0000000001))),
        'OVERFILL',
        'PARTIALLY_FILLED',
        'Fill',
      );
      assert.deepEqual(o, snapshot);
      // Exactly the remainder is fine.
      assert.equal(applyEvent(o, ev.Fill(fill('F-2', 3))).order.state, 'FILLED');
    });

    it('a zero-quantity fill is refused as OVERFILL', () => {
      const o = run(fresh(), ev.Sent(), ev.Accepted());
      assertTransitionError(() => applyEvent(o, ev.Fill(fill('F-0', 0))), 'OVERFILL');
    });

    for (const [what, over] of [
      ['another client id', { client_order_id: 'cid-2' }],
      ['another symbol', { symbol: 'GBP_USD' }],
      ['another side', { side: 'sell' }],
    ] as const) {
      it(`FILL_MISMATCH for a fill with ${what}`, () => {
        const o = run(fresh(), ev.Sent(), ev.Accepted());
        const snapshot = structuredClone(o);
        assertTransitionError(
          () => applyEvent(o, ev.Fill(fill('F-1', 1, 1.1, over))),
          'FILL_MISMATCH',
          'ACCEPTED',
          'Fill',
        );
        assert.deepEqual(o, snapshot);
      });
    }

    it('a fill after CancelRequested stays PENDING_CANCEL; a completing fill → FILLED', () => {
      let o = run(fresh(), ev.Sent(), ev.Accepted(), ev.CancelRequested());
      assert.equal(o.stateBeforeCancel, 'ACCEPTED');
      o = applyEvent(o, ev.Fill(fill('F-1', 4))).order;
      assert.equal(o.state, 'PENDING_CANCEL');
      assert.equal(filledQuantity(o), 4);
      assert.equal(remainingQuantity(o), 6);
      o = applyEvent(o, ev.Fill(fill('F-2', 6))).order;
      assert.equal(o.state, 'FILLED');
      assert.equal(o.stateBeforeCancel, undefined);
      assert.equal('stateBeforeCancel' in o, false);
    });

    it('a fill after CANCELLED is applied (money moved) and the order stays CANCELLED', () => {
      const o = run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-1', 2, 1.1)), ev.Cancelled());
      assert.equal(remainingQuantity(o), 0);
      const r = applyEvent(o, ev.Fill(fill('F-2', 3, 1.2)));
      assert.equal(r.changed, true);
      assert.equal(r.order.state, 'CANCELLED');
      assert.equal(filledQuantity(r.order), 5);
      assert.equal(averagePrice(r.order), 1.16);
      assert.equal(remainingQuantity(r.order), 0);
    });

    it('a late fill that completes a CANCELLED or EXPIRED order → FILLED', () => {
      for (const final of [ev.Cancelled(), ev.Expired()]) {
        const o = run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-1', 4)), final);
        const r = applyEvent(o, ev.Fill(fill('F-2', 6)));
        assert.equal(r.order.state, 'FILLED');
        assert.equal(filledQuantity(r.order), 10);
      }
    });

    it('a late fill after EXPIRED that does not complete stays EXPIRED', () => {
      const o = run(fresh(), ev.Sent(), ev.Accepted(), ev.Expired());
      assert.equal(applyEvent(o, ev.Fill(fill('F-1', 1))).order.state, 'EXPIRED');
    });

    it('CancelRejected returns to the state before the cancel', () => {
      const accepted = run(fresh(), ev.Sent(), ev.Accepted(), ev.CancelRequested(), ev.CancelRejected());
      assert.equal(accepted.state, 'ACCEPTED');
      assert.equal('stateBeforeCancel' in accepted, false);
      assert.equal(accepted.reason, 'too late');

      const partial = run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-1', 3)), ev.CancelRequested());
      assert.equal(partial.stateBeforeCancel, 'PARTIALLY_FILLED');
      assert.equal(applyEvent(partial, ev.CancelRejected()).order.state, 'PARTIALLY_FILLED');
    });

    it('a venue rejecting the rest of an order that traded ends it CANCELLED, its fills and the reason kept', () => {
      // It stayed PARTIALLY_FILLED for ever (Rejected was refused in that state): never final, never retired.
      const partial = run(fresh(), ev.Sent(), ev.Accepted(), ev.Fill(fill('F-1', 4)));
      const ended = applyEvent(partial, ev.Rejected()).order;
      assert.equal(ended.state, 'CANCELLED');
      assert.ok(isFinalState(ended.state));
      assert.equal(filledQuantity(ended), 4);
      assert.equal(ended.reason, 'the venue rejected the rest after 4 of 10 filled: venue says no');
      // The same while a cancel was pending with a fill that raced it; without a fill it is a plain REJECTED.
      const pending = run(fresh(), ev.Sent(), ev.Accepted(), ev.CancelRequested(), ev.Fill(fill('F-1', 2)));
      const racing = applyEvent(pending, ev.Rejected()).order;
      assert.equal(racing.state, 'CANCELLED');
      assert.equal('stateBeforeCancel' in racing, false);
      assert.equal(filledQuantity(racing), 2);
      assert.equal(applyEvent(RECORD_IN.PENDING_CANCEL(), ev.Rejected()).order.state, 'REJECTED');
    });

    it('CancelRejected never goes back to SUBMITTED; to UNCONFIRMED only while the venue never answered for it', () => {
      for (const path of [[ev.Sent()], [ev.Sent(), ev.Unconfirmed()]]) {
        const o = run(fresh(), ...path, ev.CancelRequested());
        assert.ok(o.stateBeforeCancel === 'SUBMITTED' || o.stateBeforeCancel === 'UNCONFIRMED');
        // No venue id: the cancel never reached the venue (the engine found no record of it there yet).
        assert.equal(applyEvent(o, ev.CancelRejected()).order.state, 'UNCONFIRMED');
        const known = run(fresh(), ...path, ev.CancelRequested(), ev.Accepted());
        assert.equal(known.state, 'PENDING_CANCEL');
        assert.equal(applyEvent(known, ev.CancelRejected()).order.state, 'ACCEPTED');
        const traded = applyEvent(o, ev.Fill(fill('F-1', 2))).order;
        assert.equal(applyEvent(traded, ev.CancelRejected()).order.state, 'PARTIALLY_FILLED');
      }
    });

    it('CancelRejected after a fill that raced the cancel of an ACCEPTED order → PARTIALLY_FILLED', () => {
      const o = run(fresh(), ev.Sent(), ev.Accepted(), ev.CancelRequested(), ev.Fill(fill('F-1', 2)));
      assert.equal(o.state, 'PENDING_CANCEL');
      const back = applyEvent(o, ev.CancelRejected()).order;
      assert.equal(back.state, 'PARTIALLY_FILLED');
      assert.equal(filledQuantity(back), 2);
    });

    it('a fill before Accepted from SUBMITTED implies acceptance', () => {
      const o = run(fresh(), ev.Sent());
      const r = applyEvent(o, ev.Fill(fill('F-1', 2, 1.1, { order_id: 'V-77' }))).order;
      assert.equal(r.state, 'PARTIALLY_FILLED');
      assert.equal(r.venueOrderId, 'V-77');
      // A late Accepted changes nothing.
      const late = applyEvent(r, ev.Accepted());
      assert.equal(late.changed, false);
      assert.equal(late.order, r);
      // A complete fill straight from SUBMITTED → FILLED.
      assert.equal(applyEvent(o, ev.Fill(fill('F-1', 10))).order.state, 'FILLED');
    });

    it('a final status before the acknowledgement keeps the venue id it carries', () => {
      const o = applyEvent(run(fresh(), ev.Sent()), ev.Cancelled()).order;
      assert.equal(o.state, 'CANCELLED');
      assert.equal(o.venueOrderId, 'V-1');
    });

    it('a repeated final status is a no-op', () => {
      for (const [state, event] of [
        ['CANCELLED', ev.Cancelled()],
        ['EXPIRED', ev.Expired()],
        ['REJECTED', ev.Rejected()],
        ['DENIED', ev.Denied()],
      ] as const) {
        const o = RECORD_IN[state]();
        const r = applyEvent(o, event);
        assert.equal(r.changed, false, state);
        assert.equal(r.order, o, state);
      }
    });

    it('Denied records the code and reason', () => {
      const o = run(fresh(), ev.Denied());
      assert.equal(o.denialCode, 'QUANTITY_EXCEEDS_MAXIMUM');
      assert.equal(o.reason, 'too big');
      assert.equal(remainingQuantity(o), 0);
    });
  });

  describe('property: random event sequences', () => {
    const TOTAL = 10;
    const fillArb: fc.Arbitrary<OrderEvent> = fc
      .record({
        id: fc.integer({ min: 1, max: 8 }),
        quantity: fc.constantFrom(0.5, 1, 2, 2.5, 3, 4, 7, 10),
        price: fc.integer({ min: 10_900, max: 11_100 }),
        mismatch: fc.integer({ min: 0, max: 9 }),
      })
      .map(({ id, quantity, price, mismatch }) => ({
        type: 'Fill' as const,
        at: T0,
        fill: fill(`F-${id}`, quantity, price / 10_000, mismatch === 0 ? { side: 'sell' } : {}),
      }));
    const eventArb: fc.Arbitrary<OrderEvent> = fc.oneof(
      { arbitrary: fillArb, weight: 5 },
      ...EVENT_TYPES.filter((t) => t !== 'Fill').map((t) => ({ arbitrary: fc.constant(ev[t]()), weight: 1 })),
    );

    it('keeps every invariant', () => {
      fc.assert(
        // Most sequences start with Sent, so that the working and final states are reached often.
        fc.property(fc.integer({ min: 0, max: 9 }), fc.array(eventArb, { maxLength: 40 }), (unsent, rest) => {
          const events = unsent === 0 ? rest : [ev.Sent(), ...rest];
          let o = fresh(TOTAL);
          let applied = 0n;
          const total = toMoney(TOTAL);
          for (const e of events) {
            const snapshot = structuredClone(o);
            let next: OrderRecord;
            try {
              const r = applyEvent(o, e);
              if (r.changed && e.type === 'Fill') applied += toMoney(e.fill.quantity);
              if (!r.changed) assert.equal(r.order, o);
              next = r.order;
            } catch (err) {
              assert.ok(err instanceof OrderTransitionError, String(err));
              next = o;
            }
            assert.deepEqual(o, snapshot, 'the input record must not change');
            assert.ok(ORDER_STATES.includes(next.state), next.state);
            assert.ok(next.filledUnits <= total, 'filled beyond the quantity');
            assert.equal(next.filledUnits, applied, 'sum of applied fills');
            assert.equal(
              next.fills.reduce((s, f) => s + toMoney(f.quantity), 0n),
              next.filledUnits,
            );
            assert.equal(new Set(next.fills.map((f) => f.fill_id)).size, next.fills.length, 'a fill id applied twice');
            if (isFinalState(o.state) && next.state !== o.state) {
              assert.equal(e.type, 'Fill', `${o.state} left by ${e.type}`);
              assert.equal(next.state, 'FILLED');
            }
            assert.equal(
              next.state === 'FILLED',
              next.filledUnits === total,
              `state ${next.state} with ${next.filledUnits} filled`,
            );
            if (next.filledUnits > 0n)
              assert.ok(!['SUBMITTED', 'UNCONFIRMED', 'ACCEPTED'].includes(next.state), `${next.state} with fills`);
            if (next.state === 'PARTIALLY_FILLED') assert.ok(next.filledUnits > 0n);
            if (next.state !== 'PENDING_CANCEL') assert.equal(next.stateBeforeCancel, undefined);
            if (FINAL_ORDER_STATES.has(next.state)) assert.equal(remainingQuantity(next), 0);
            o = next;
          }
        }),
        { numRuns: 2000 },
      );
    });
  });
});
