/**
 * OrderBook: hand-computed price-time priority cases, then a property test against a naive
 * reference book (plain arrays, O(n) scans) on random sequences of limit/IOC/FOK/market/cancel.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Buy,
  FOK,
  GTC,
  IOC,
  MARKET_TAKER,
  OrderBook,
  Sell,
  type BookSide,
  type Depth,
  type Tif,
} from '../../../src/brokers/paper/book/orderBook';

type FillRec = [makerId: number, takerId: number, price: number, size: number, makerRemaining: number];

function book(): { b: OrderBook<string>; fills: FillRec[] } {
  const fills: FillRec[] = [];
  const b = new OrderBook<string>({
    onFill: (m, t, p, s, r) => fills.push([m, t, p, s, r]),
    orderCapacity: 2,
    idCapacity: 2,
  });
  return { b, fills };
}

describe('OrderBook', () => {
  it('rests non-crossing orders and reports best bid/ask and depth', () => {
    const { b, fills } = book();
    assert.equal(b.bestBid(), undefined);
    assert.equal(b.bestAsk(), undefined);
    assert.equal(b.limit(1, Buy, 99, 5), 0);
    assert.equal(b.limit(2, Buy, 100, 3), 0);
    assert.equal(b.limit(3, Buy, 99, 2), 0);
    assert.equal(b.limit(4, Sell, 102, 4), 0);
    assert.equal(b.limit(5, Sell, 101, 1), 0);
    assert.equal(b.bestBid(), 100);
    assert.equal(b.bestAsk(), 101);
    assert.deepEqual(b.depth(), {
      bids: [
        [100, 3],
        [99, 7],
      ],
      asks: [
        [101, 1],
        [102, 4],
      ],
    });
    assert.deepEqual(b.depth(1), { bids: [[100, 3]], asks: [[101, 1]] });
    assert.deepEqual(b.depth(0), { bids: [], asks: [] });
    assert.equal(b.size, 5);
    assert.deepEqual(fills, []);
  });

  it('fills the better price first, at the resting price', () => {
    const { b, fills } = book();
    b.limit(1, Sell, 103, 5);
    b.limit(2, Sell, 101, 5);
    b.limit(3, Sell, 102, 5);
    assert.equal(b.limit(10, Buy, 105, 7), 7);
    assert.deepEqual(fills, [
      [2, 10, 101, 5, 0],
      [3, 10, 102, 2, 3],
    ]);
    assert.deepEqual(b.depth().asks, [
      [102, 3],
      [103, 5],
    ]);
    assert.equal(b.bestBid(), undefined, 'fully filled taker does not rest');
  });

  it('fills the earlier order first within a level, and partially', () => {
    const { b, fills } = book();
    b.limit(1, Buy, 100, 4);
    b.limit(2, Buy, 100, 6);
    b.limit(3, Buy, 100, 1);
    assert.equal(b.limit(9, Sell, 100, 7), 7);
    assert.deepEqual(fills, [
      [1, 9, 100, 4, 0],
      [2, 9, 100, 3, 3],
    ]);
    assert.equal(b.remaining(2), 3);
    assert.equal(b.remaining(1), 0);
    assert.deepEqual(b.depth().bids, [[100, 4]]);
    // The partially filled order keeps its place ahead of order 3.
    fills.length = 0;
    b.market(Sell, 4);
    assert.deepEqual(fills, [
      [2, MARKET_TAKER, 100, 3, 0],
      [3, MARKET_TAKER, 100, 1, 0],
    ]);
    assert.equal(b.size, 0);
  });

  it('rests the remainder of a crossing limit at its own price', () => {
    const { b, fills } = book();
    b.limit(1, Sell, 101, 2);
    assert.equal(b.limit(2, Buy, 102, 5), 2);
    assert.deepEqual(fills, [[1, 2, 101, 2, 0]]);
    assert.deepEqual(b.depth(), { bids: [[102, 3]], asks: [] });
    assert.equal(b.remaining(2), 3);
  });

  it('walks several levels with a market order and drops what is left', () => {
    const { b, fills } = book();
    b.limit(1, Buy, 100, 2);
    b.limit(2, Buy, 99, 3);
    b.limit(3, Buy, 98, 4);
    b.limit(4, Buy, 97, 5);
    assert.equal(b.market(Sell, 8), 8);
    assert.deepEqual(fills, [
      [1, MARKET_TAKER, 100, 2, 0],
      [2, MARKET_TAKER, 99, 3, 0],
      [3, MARKET_TAKER, 98, 3, 1],
    ]);
    assert.deepEqual(b.depth().bids, [
      [98, 1],
      [97, 5],
    ]);
    assert.equal(b.market(Sell, 100, 77), 6);
    assert.deepEqual(b.depth(), { bids: [], asks: [] });
    assert.equal(b.market(Sell, 1), 0, 'empty side');
    assert.deepEqual(fills.at(-1), [4, 77, 97, 5, 0]);
  });

  it('cancels the head, middle and tail of a level in O(1) and keeps the others in order', () => {
    const { b, fills } = book();
    for (let id = 1; id <= 5; id++) b.limit(id, Sell, 100, id);
    assert.equal(b.cancel(3), true); // middle
    assert.equal(b.cancel(1), true); // head
    assert.equal(b.cancel(5), true); // tail
    assert.deepEqual(b.depth().asks, [[100, 6]]);
    b.limit(6, Sell, 100, 1); // joins behind 4
    b.market(Buy, 7);
    assert.deepEqual(
      fills.map((f) => f[0]),
      [2, 4, 6],
    );
    assert.equal(b.size, 0);
  });

  it('reports a cancel miss for unknown, filled and already cancelled ids', () => {
    const { b } = book();
    b.limit(1, Buy, 100, 5);
    b.limit(2, Buy, 100, 5);
    assert.equal(b.cancel(42), false);
    assert.equal(b.cancel(-1), false);
    assert.equal(b.cancel(1e9), false);
    b.market(Sell, 5); // fills order 1
    assert.equal(b.cancel(1), false);
    assert.equal(b.cancel(2), true);
    assert.equal(b.cancel(2), false);
    assert.equal(b.has(2), false);
    assert.equal(b.size, 0);
  });

  it('removes emptied levels, whether by fill or by cancel', () => {
    const { b } = book();
    b.limit(1, Buy, 100, 1);
    b.limit(2, Buy, 99, 1);
    b.limit(3, Buy, 98, 1);
    b.cancel(2);
    assert.deepEqual(b.depth().bids, [
      [100, 1],
      [98, 1],
    ]);
    b.cancel(1);
    assert.equal(b.bestBid(), 98);
    b.market(Sell, 1);
    assert.equal(b.bestBid(), undefined);
    assert.deepEqual(b.depth(), { bids: [], asks: [] });
    // A level reopened at a used price starts afresh.
    b.limit(4, Buy, 100, 2);
    assert.deepEqual(b.depth().bids, [[100, 2]]);
  });

  it('FOK refuses without touching the book when the size is not there up to the limit', () => {
    const { b, fills } = book();
    b.limit(1, Sell, 100, 3);
    b.limit(2, Sell, 101, 3);
    b.limit(3, Sell, 103, 10);
    const before = b.depth();
    assert.equal(b.wouldFill(Buy, 7, 101), false);
    assert.equal(b.limit(10, Buy, 101, 7, FOK), 0);
    assert.deepEqual(b.depth(), before);
    assert.deepEqual(fills, []);
    assert.equal(b.has(10), false, 'FOK never rests');
    assert.equal(b.wouldFill(Buy, 6, 101), true);
    assert.equal(b.wouldFill(Buy, 16), true);
    assert.equal(b.wouldFill(Buy, 17), false);
    assert.equal(b.wouldFill(Sell, 1), false);
    assert.equal(b.limit(11, Buy, 103, 7, FOK), 7);
    assert.deepEqual(fills, [
      [1, 11, 100, 3, 0],
      [2, 11, 101, 3, 0],
      [3, 11, 103, 1, 9],
    ]);
  });

  it('IOC fills what it can and drops the remainder', () => {
    const { b, fills } = book();
    b.limit(1, Buy, 100, 2);
    b.limit(2, Buy, 98, 2);
    assert.equal(b.limit(5, Sell, 99, 10, IOC), 2);
    assert.deepEqual(fills, [[1, 5, 100, 2, 0]]);
    assert.deepEqual(b.depth(), { bids: [[98, 2]], asks: [] });
    assert.equal(b.has(5), false);
    assert.equal(b.limit(6, Sell, 99, 1, IOC), 0);
    assert.equal(b.size, 1);
  });

  it('keeps payloads of resting orders only, rejects bad input and duplicate ids', () => {
    const { b } = book();
    b.limit(1, Buy, 100, 2, GTC, 'O-1');
    assert.equal(b.payload(1), 'O-1');
    assert.throws(() => b.limit(1, Buy, 100, 2), /already resting/);
    assert.throws(() => b.limit(2, Buy, 100.5, 2), RangeError);
    assert.throws(() => b.limit(2, Buy, 100, 0), RangeError);
    assert.throws(() => b.limit(-2, Buy, 100, 1), RangeError);
    assert.throws(() => b.market(Buy, 1.5), RangeError);
    b.market(Sell, 2);
    assert.equal(b.payload(1), undefined);
    b.limit(1, Buy, 100, 2); // an id may be reused once it left the book
    assert.equal(b.remaining(1), 2);
  });
});

// ---- naive reference ----

interface RefOrder {
  id: number;
  price: number;
  size: number;
  seq: number;
}

class RefBook {
  private sides: [RefOrder[], RefOrder[]] = [[], []];
  private seq = 0;
  fills: FillRec[] = [];

  private sorted(side: BookSide): RefOrder[] {
    const better =
      side === Buy ? (a: RefOrder, b: RefOrder) => b.price - a.price : (a: RefOrder, b: RefOrder) => a.price - b.price;
    return [...this.sides[side]].sort((a, b) => better(a, b) || a.seq - b.seq);
  }

  private crosses(takerSide: BookSide, px: number, limit: number): boolean {
    return takerSide === Buy ? px <= limit : px >= limit;
  }

  available(side: BookSide, limit: number): number {
    const opp = this.sides[side === Buy ? Sell : Buy];
    return opp.filter((o) => this.crosses(side, o.price, limit)).reduce((s, o) => s + o.size, 0);
  }

  private take(takerId: number, side: BookSide, limit: number, size: number): number {
    const oppSide = side === Buy ? Sell : Buy;
    let left = size;
    for (const o of this.sorted(oppSide)) {
      if (left === 0 || !this.crosses(side, o.price, limit)) break;
      const q = Math.min(left, o.size);
      o.size -= q;
      left -= q;
      this.fills.push([o.id, takerId, o.price, q, o.size]);
    }
    this.sides[oppSide] = this.sides[oppSide].filter((o) => o.size > 0);
    return size - left;
  }

  limit(id: number, side: BookSide, price: number, size: number, tif: Tif): number {
    if (tif === FOK && this.available(side, price) < size) return 0;
    const filled = this.take(id, side, price, size);
    if (filled < size && tif === GTC) this.sides[side].push({ id, price, size: size - filled, seq: this.seq++ });
    return filled;
  }

  market(side: BookSide, size: number): number {
    return this.take(MARKET_TAKER, side, side === Buy ? Infinity : -Infinity, size);
  }

  cancel(id: number): boolean {
    for (const s of [Buy, Sell] as const) {
      const i = this.sides[s].findIndex((o) => o.id === id);
      if (i >= 0) {
        this.sides[s].splice(i, 1);
        return true;
      }
    }
    return false;
  }

  depth(): Depth {
    const levels = (side: BookSide): [number, number][] => {
      const out: [number, number][] = [];
      for (const o of this.sorted(side)) {
        const last = out.at(-1);
        if (last && last[0] === o.price) last[1] += o.size;
        else out.push([o.price, o.size]);
      }
      return out;
    };
    return { bids: levels(Buy), asks: levels(Sell) };
  }
}

type Op =
  | { k: 'limit'; side: BookSide; price: number; size: number; tif: Tif }
  | { k: 'market'; side: BookSide; size: number }
  | { k: 'cancel'; back: number }
  | { k: 'wouldFill'; side: BookSide; size: number; price: number | null };

const sideArb = fc.constantFrom<BookSide>(Buy, Sell);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('limit' as const),
      side: sideArb,
      price: fc.integer({ min: 88, max: 112 }),
      size: fc.integer({ min: 1, max: 10 }),
      tif: fc.constantFrom<Tif>(GTC, GTC, GTC, IOC, FOK),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('market' as const), side: sideArb, size: fc.integer({ min: 1, max: 30 }) }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('cancel' as const), back: fc.integer({ min: -2, max: 30 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('wouldFill' as const),
      side: sideArb,
      size: fc.integer({ min: 1, max: 40 }),
      price: fc.option(fc.integer({ min: 88, max: 112 })),
    }),
  },
);

describe('OrderBook against a naive reference book', () => {
  it('gives the same fills, results and depth on random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const { b, fills } = book();
        const ref = new RefBook();
        let nextId = 0;
        for (const op of ops) {
          switch (op.k) {
            case 'limit': {
              const id = nextId++;
              assert.equal(
                b.limit(id, op.side, op.price, op.size, op.tif),
                ref.limit(id, op.side, op.price, op.size, op.tif),
              );
              break;
            }
            case 'market':
              assert.equal(b.market(op.side, op.size), ref.market(op.side, op.size));
              break;
            case 'cancel': {
              const id = nextId - 1 - op.back; // may be unknown (future/negative), filled or cancelled already
              assert.equal(b.cancel(id), ref.cancel(id));
              break;
            }
            case 'wouldFill': {
              const limit = op.price ?? (op.side === Buy ? Infinity : -Infinity);
              assert.equal(
                b.wouldFill(op.side, op.size, op.price ?? undefined),
                ref.available(op.side, limit) >= op.size,
              );
              break;
            }
          }
          const d = ref.depth();
          assert.deepEqual(b.depth(), d);
          assert.equal(b.bestBid(), d.bids[0]?.[0]);
          assert.equal(b.bestAsk(), d.asks[0]?.[0]);
        }
        assert.deepEqual(fills, ref.fills);
      }),
      { numRuns: 300 },
    );
  });
});

describe('OrderBook level heap', () => {
  it('keeps levels ordered when levels deep in the book are opened and emptied at random', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ price: fc.integer({ min: 0, max: 300 }), cancel: fc.nat() }), {
          minLength: 1,
          maxLength: 300,
        }),
        fc.constantFrom<BookSide>(Buy, Sell),
        (steps, side) => {
          const { b } = book();
          const ref = new RefBook();
          const live: number[] = [];
          steps.forEach(({ price, cancel }, id) => {
            b.limit(id, side, price, 1);
            ref.limit(id, side, price, 1, GTC);
            live.push(id);
            if (cancel % 3 !== 0) {
              const [victim] = live.splice(cancel % live.length, 1);
              assert.equal(b.cancel(victim!), ref.cancel(victim!));
            }
            assert.deepEqual(b.depth(), ref.depth());
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
