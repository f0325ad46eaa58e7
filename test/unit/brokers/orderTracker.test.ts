/**
 * The order tracker (src/brokers/orderTracker.ts): the one rule that turns a polled venue's views of
 * an order into `OrderUpdate` events. Examples for each kind of view, then properties over random
 * venue histories seen through random, repeated and stale views.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { OrderTracker, plainQuantity, synthesisedFillId } from '../../../src/brokers/orderTracker';
import { fromMoney, mulMoney, toMoney } from '../../../src/common/decimal';
import type { Fill, OrderResponse, OrderStatus, OrderStatusName } from '../../../src/orders/model';

const ORDER_ID = 'o-1';

function view(over: Partial<OrderResponse> = {}): OrderResponse {
  return {
    order_id: ORDER_ID,
    client_order_id: 'c-1',
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 100 },
    time_in_force: { type: 'GTC' },
    quantity: 10,
    status: { status: 'submitted' },
    filled_price: null,
    filled_quantity: null,
    commission: null,
    timestamp: 1000,
    created_at: 1000,
    fills: [],
    ...over,
  };
}

const partially = (n: number): OrderStatus => ({ status: 'partially_filled', filled_qty: n });

function listedFill(id: string, quantity: number, price: number): Fill {
  return {
    fill_id: id,
    order_id: ORDER_ID,
    client_order_id: 'c-1',
    symbol: 'AAPL',
    side: 'buy',
    price,
    quantity,
    commission: 0.1,
    liquidity: 'taker',
    timestamp: 1500,
  };
}

function tracked(): { tracker: OrderTracker; updates: OrderUpdate[] } {
  const updates: OrderUpdate[] = [];
  return { tracker: new OrderTracker((u) => updates.push(u)), updates };
}

const summary = (updates: OrderUpdate[]): Array<[string, string | undefined, number | undefined]> =>
  updates.map((u) => [u.order.status.status, u.fill?.fill_id, u.fill?.quantity]);

describe('order tracker: examples', () => {
  it('emits acceptance once, then one update per change in the cumulative fill, with synthesised ids and exact prices', () => {
    const { tracker, updates } = tracked();
    tracker.observe(view());
    tracker.observe(view());
    tracker.observe(view({ status: partially(4), filled_quantity: 4, filled_price: 100 }));
    tracker.observe(view({ status: partially(4), filled_quantity: 4, filled_price: 100 }));
    const last = tracker.observe(view({ status: { status: 'filled' }, filled_quantity: 10, filled_price: 99.4 }));
    assert.deepEqual(summary(updates), [
      ['submitted', undefined, undefined],
      ['partially_filled', `${ORDER_ID}:4`, 4],
      ['filled', `${ORDER_ID}:10`, 6],
    ]);
    // 4 × 100 + 6 × p = 10 × 99.4 → p = 99
    assert.equal(updates[2]!.fill!.price, 99);
    assert.equal(updates[1]!.fill!.liquidity, 'maker', 'a limit seen resting fills as a maker');
    assert.deepEqual(updates[1]!.order.status, partially(4));
    assert.equal(updates[1]!.order.filled_quantity, 4);
    assert.deepEqual(
      last.fills.map((f) => f.fill_id),
      [`${ORDER_ID}:4`, `${ORDER_ID}:10`],
    );
  });

  it('an IOC that fills part and is cancelled in one view: the fill, then the cancel without a fill', () => {
    const { tracker, updates } = tracked();
    tracker.observe(
      view({
        status: { status: 'cancelled' },
        filled_quantity: 3,
        filled_price: 101,
        fills: [listedFill('tx-9', 3, 101)],
      }),
    );
    assert.deepEqual(summary(updates), [
      ['partially_filled', 'tx-9', 3],
      ['cancelled', undefined, undefined],
    ]);
    assert.equal(updates[1]!.order.filled_quantity, 3);
  });

  it('keeps the venue’s fill ids when it lists fills, one update each, and synthesises only what they leave out', () => {
    const { tracker, updates } = tracked();
    tracker.observe(
      view({
        status: partially(5),
        filled_quantity: 5,
        filled_price: 100.2,
        fills: [listedFill('BTC:1', 2, 100), listedFill('BTC:2', 3, 100.3333333333)],
      }),
    );
    // A later view without the list (Binance's GET /order) that shows more filled.
    tracker.observe(view({ status: { status: 'filled' }, filled_quantity: 10, filled_price: 100.1, commission: 0.5 }));
    assert.deepEqual(summary(updates), [
      ['partially_filled', 'BTC:1', 2],
      ['partially_filled', 'BTC:2', 3],
      ['filled', `${ORDER_ID}:10`, 5],
    ]);
    assert.equal(updates[2]!.fill!.commission, 0.3, 'the commission not yet in a fill');
    // The venue then lists a fill of what was synthesised: it is already counted.
    tracker.observe(
      view({
        status: { status: 'filled' },
        filled_quantity: 10,
        filled_price: 100.1,
        fills: [listedFill('BTC:3', 5, 100)],
      }),
    );
    assert.equal(updates.length, 3);
  });

  it('never goes back: a stale view after a cancel, or an older status, says nothing', () => {
    const { tracker, updates } = tracked();
    tracker.observe(view({ status: { status: 'pending' } }));
    tracker.observe(view({ status: { status: 'submitted' } }));
    tracker.observe(view({ status: { status: 'pending' } }));
    tracker.observe(view({ status: { status: 'cancelled' } }));
    tracker.observe(view({ status: { status: 'submitted' } }));
    tracker.observe(view({ status: { status: 'expired' } }));
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['pending', 'submitted', 'cancelled'],
    );
    assert.deepEqual(tracker.openOrderIds(), []);
  });

  it('reports a rejection seen first, once; a filled order first seen is its fill alone (no separate acceptance)', () => {
    const { tracker, updates } = tracked();
    tracker.observe(view({ order_id: 'r-1', status: { status: 'rejected', reason: 'INSUFFICIENT_MARGIN' } }));
    tracker.observe(view({ order_id: 'r-1', status: { status: 'rejected', reason: 'INSUFFICIENT_MARGIN' } }));
    tracker.observe(
      view({ order_type: { type: 'market' }, status: { status: 'filled' }, filled_quantity: 10, filled_price: 100 }),
    );
    assert.deepEqual(summary(updates), [
      ['rejected', undefined, undefined],
      ['filled', `${ORDER_ID}:10`, 10],
    ]);
    assert.equal(updates[1]!.fill!.liquidity, 'taker');
  });

  it('a fill it cannot price (no average price) waits for a view that has one; the status waits with it', () => {
    const { tracker, updates } = tracked();
    tracker.observe(view({ status: { status: 'filled' }, filled_quantity: 10, filled_price: null }));
    assert.equal(updates.length, 0);
    tracker.observe(view({ status: { status: 'filled' }, filled_quantity: 10, filled_price: 100 }));
    assert.deepEqual(summary(updates), [['filled', `${ORDER_ID}:10`, 10]]);
  });

  it('a fill reported after the order ended is still emitted (it is money), with no second final status', () => {
    const { tracker, updates } = tracked();
    tracker.observe(view());
    tracker.observe(view({ status: { status: 'cancelled' } }));
    tracker.observe(view({ status: { status: 'cancelled' }, filled_quantity: 2, filled_price: 100 }));
    assert.deepEqual(summary(updates), [
      ['submitted', undefined, undefined],
      ['cancelled', undefined, undefined],
      ['partially_filled', `${ORDER_ID}:2`, 2],
    ]);
  });

  it('forgets the oldest final orders beyond its bound, never an open one', () => {
    const updates: OrderUpdate[] = [];
    const tracker = new OrderTracker((u) => updates.push(u), 2);
    tracker.observe(view({ order_id: 'open' }));
    for (const id of ['a', 'b', 'c']) tracker.observe(view({ order_id: id, status: { status: 'cancelled' } }));
    assert.equal(tracker.last('a'), undefined);
    assert.ok(tracker.last('b') && tracker.last('c') && tracker.last('open'));
    assert.deepEqual(tracker.openOrderIds(), ['open']);
  });

  it('fills listed newest first (or in any order): each once, whole, under its own id, with its commission', () => {
    const { tracker, updates } = tracked();
    const at = (f: Fill, timestamp: number): Fill => ({ ...f, timestamp });
    const a = at(listedFill('A', 1, 100), 1100);
    const b = at(listedFill('B', 2, 101), 1200);
    const c = at(listedFill('C', 3, 102), 1300);
    tracker.observe(view({ status: partially(1), filled_quantity: 1, filled_price: 100, fills: [a] }));
    tracker.observe(view({ status: partially(3), filled_quantity: 3, filled_price: 100.666667, fills: [b, a] }));
    // A poll that lists none: the 3 more it reports are synthesised.
    tracker.observe(view({ status: partially(6), filled_quantity: 6, filled_price: 101.333333, fills: [] }));
    // Then the list with C (which the synthesised fill already counted) and D, newest first.
    const d = at(listedFill('D', 4, 103), 1400);
    tracker.observe(
      view({ status: { status: 'filled' }, quantity: 10, filled_quantity: 10, filled_price: 102, fills: [d, c, b, a] }),
    );
    assert.deepEqual(summary(updates), [
      ['partially_filled', 'A', 1],
      ['partially_filled', 'B', 2],
      ['partially_filled', synthesisedFillId(ORDER_ID, 6), 3],
      ['filled', 'D', 4],
    ]);
    for (const u of updates.filter((x) => x.fill && !x.fill.fill_id.includes(':')))
      assert.equal(u.fill?.commission, 0.1, u.fill?.fill_id);
  });

  it('writes synthesised ids without exponents or float noise', () => {
    assert.equal(plainQuantity(0.0000001), '0.0000001');
    assert.equal(plainQuantity(0.1 + 0.2), '0.3');
    assert.equal(plainQuantity(10), '10');
    assert.equal(synthesisedFillId('BTCUSDT:28', 0.001), 'BTCUSDT:28:0.001');
  });
});

// --- properties ---

interface History {
  quantity: number;
  /** Fills in venue order: whole lots of 0.5 at cent prices. */
  fills: Array<{ lots: number; cents: number }>;
  end: 'open' | 'cancelled' | 'filled';
  /** Whether the venue lists its fills, per look (the last entry is the final view). */
  listsFills: boolean[];
  /** Whether its lists give the newest fill first. */
  newestFirst?: boolean;
}

/** The venue's view after the first `k` fills (and, at the end, its final status). */
function venueView(h: History, k: number, atEnd: boolean, lists: boolean): OrderResponse {
  const done = h.fills.slice(0, k);
  let qty = 0n;
  let notional = 0n;
  const fills: Fill[] = [];
  for (const [i, f] of done.entries()) {
    const q = toMoney(f.lots * 0.5);
    qty += q;
    notional += mulMoney(q, toMoney(f.cents / 100));
    fills.push({ ...listedFill(`T-${i}`, f.lots * 0.5, f.cents / 100), timestamp: 1500 + i });
  }
  // Some venues list fills newest first (or by their own key): the order of the list carries no meaning.
  if (h.newestFirst) fills.reverse();
  const cum = fromMoney(qty);
  let status: OrderStatus = cum > 0 ? partially(cum) : { status: 'submitted' };
  if (atEnd && h.end !== 'open') status = h.end === 'filled' ? { status: 'filled' } : { status: 'cancelled' };
  return view({
    quantity: h.quantity,
    status,
    filled_quantity: cum > 0 ? cum : null,
    // The venue's average, rounded as a venue writes it (8 places).
    filled_price: cum > 0 ? Number((Number(notional) / Number(qty)).toFixed(8)) : null,
    fills: lists ? fills : [],
  });
}

const historyArb: fc.Arbitrary<History> = fc
  .record({
    fills: fc.array(fc.record({ lots: fc.integer({ min: 1, max: 6 }), cents: fc.integer({ min: 9000, max: 11000 }) }), {
      maxLength: 6,
    }),
    end: fc.constantFrom<History['end']>('open', 'cancelled', 'filled'),
    listsFills: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
    spare: fc.integer({ min: 0, max: 4 }),
    newestFirst: fc.boolean(),
  })
  .map(({ fills, end, listsFills, spare, newestFirst }) => {
    const total = fills.reduce((s, f) => s + f.lots, 0) * 0.5;
    const quantity = end === 'filled' ? Math.max(total, 0.5) : total + spare * 0.5 + 0.5;
    return {
      quantity,
      fills: end === 'filled' && fills.length === 0 ? [{ lots: 1, cents: 10000 }] : fills,
      end,
      listsFills,
      newestFirst,
    };
  });

/** Moments the adapter looks: indexes into the history, repeated and out of order, the last one the truth at the end. */
const lookArb = (h: History): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: h.fills.length }), { maxLength: 8 });

const RANK: Record<OrderStatusName, number> = {
  pending: 0,
  submitted: 1,
  partially_filled: 2,
  filled: 3,
  cancelled: 3,
  expired: 3,
  rejected: 3,
};

describe('order tracker: properties', () => {
  it('whatever views it is shown, the emitted fills add up to the most the venue reported, each id once, the state never going back', () => {
    fc.assert(
      fc.property(
        historyArb.chain((h) => fc.tuple(fc.constant(h), lookArb(h))),
        ([h, looks]) => {
          const { tracker, updates } = tracked();
          const views = [
            ...looks.map((k, i) => venueView(h, k, false, h.listsFills[i] as boolean)),
            venueView(h, h.fills.length, true, h.listsFills[8] as boolean),
          ];
          for (const v of views) tracker.observe(v);
          const emitted = updates.filter((u) => u.fill).map((u) => u.fill as Fill);
          // Each fill once, and the quantities add up to the whole history.
          assert.equal(new Set(emitted.map((f) => f.fill_id)).size, emitted.length);
          const total = emitted.reduce((s, f) => s + toMoney(f.quantity), 0n);
          const truth = h.fills.reduce((s, f) => s + toMoney(f.lots * 0.5), 0n);
          assert.equal(total, truth);
          // The money matches the venue's: Σ q·p within rounding of the venue's average.
          const notional = emitted.reduce((s, f) => s + Number(mulMoney(toMoney(f.quantity), toMoney(f.price))), 0);
          const venue = h.fills.reduce(
            (s, f) => s + Number(mulMoney(toMoney(f.lots * 0.5), toMoney(f.cents / 100))),
            0,
          );
          assert.ok(Math.abs(notional - venue) <= 1e4 * (emitted.length + 1), `notional ${notional} vs ${venue}`);
          // Every fill update carries its fill and the order just after it; states only move forward.
          let rank = -1;
          let finals = 0;
          for (const u of updates) {
            const r = RANK[u.order.status.status];
            if (u.fill) {
              assert.ok(u.order.status.status === 'partially_filled' || u.order.status.status === 'filled');
              assert.ok(u.fill.quantity > 0 && u.fill.price > 0);
            } else {
              assert.ok(r > rank, `state ${u.order.status.status} after rank ${rank}`);
              assert.ok(
                !['partially_filled', 'filled'].includes(u.order.status.status),
                'a fill status never comes without its fill',
              );
            }
            if (r === 3) finals++;
            rank = Math.max(rank, r);
          }
          assert.ok(finals <= 1, 'one final state at most');
          if (h.end === 'open') assert.deepEqual(tracker.openOrderIds(), [ORDER_ID]);
          else assert.deepEqual(tracker.openOrderIds(), []);
          // Shown the same views again, it says nothing more.
          const before = updates.length;
          for (const v of views) tracker.observe(v);
          assert.equal(updates.length, before);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('without a fill list, the fill that completes a cumulative figure has the same id whoever sees it first (submit reply, poll or a fresh look-up)', () => {
    fc.assert(
      fc.property(
        historyArb.filter((h) => h.fills.length > 0).chain((h) => fc.tuple(fc.constant(h), lookArb(h))),
        ([h, looks]) => {
          const a = tracked();
          for (const k of looks) a.tracker.observe(venueView(h, k, false, false));
          a.tracker.observe(venueView(h, h.fills.length, true, false));
          const fresh = tracked();
          fresh.tracker.observe(venueView(h, h.fills.length, true, false));
          const lastA = a.updates.filter((u) => u.fill).at(-1)?.fill?.fill_id;
          const lastFresh = fresh.updates.filter((u) => u.fill).at(-1)?.fill?.fill_id;
          const cum = h.fills.reduce((s, f) => s + f.lots * 0.5, 0);
          assert.equal(lastFresh, synthesisedFillId(ORDER_ID, cum));
          assert.equal(lastA, lastFresh);
        },
      ),
      { numRuns: 200 },
    );
  });
});
