/**
 * Over 450 lines on purpose: one data structure whose ladder, heap walk and slot pool share the same
 * typed arrays; split, each part would reach into the others' internals.
 *
 * The paper venue's queue book (`queue.ts`: our resting limit orders behind the size shown ahead of
 * them) runs on this. Price-time priority limit order book over integers: prices in ticks, sizes in lots, order ids as
 * non-negative int32 (the paper venue allocates them densely and keeps its own key beside them, either
 * in its own map or as the optional per-order `payload`).
 *
 * Data structures (all preallocated typed arrays, grown by doubling; nothing is allocated per order or
 * per fill on the hot path):
 *  - Orders live in a slot pool (struct of arrays: id, size, side, level, prev, next). Each price level
 *    is an intrusive doubly linked FIFO of slots (head = oldest); freed slots go on a free list.
 *  - `idToSlot` (Int32Array indexed by id, -1 = not resting) gives O(1) cancel: unlink the node.
 *  - Each side has a level pool (head, tail, total qty, order count, price) plus a `Map` price → level
 *    for joining an existing level, and an indexed binary min-heap of its levels keyed by
 *    `price * sign` (sign −1 for bids, +1 for asks), so the best level is the heap root. Every level
 *    knows its heap position, so a level emptied anywhere (fill or cancel) is removed at once: the
 *    book never holds an empty level.
 *  - Fills are reported through one optional callback `(makerId, takerId, price, size, makerLeft)`.
 *
 * Complexities (n = resting orders, L = levels on a side, k = levels visited, f = maker orders filled):
 *  - limit / market: O(f + k log L) to match, plus O(1) to join an existing level or O(log L) to open one.
 *  - cancel: O(1), plus O(log L) when it empties its level. reduce: O(1) (keeps the order's place).
 *  - bestBid / bestAsk: O(1).  wouldFill / depth(k): O(k log k) (best-first walk of the heap).
 *
 * Not re-entrant: the fill callback must not call back into the book.
 */

export type BookSide = 0 | 1;
export const Buy: BookSide = 0;
export const Sell: BookSide = 1;

/** Time in force for `limit`: GTC rests the remainder, IOC drops it, FOK fills all at once or nothing. */
export type Tif = 0 | 1 | 2;
export const GTC: Tif = 0;
export const IOC: Tif = 1;
export const FOK: Tif = 2;

/** Taker id reported for market orders. */
export const MARKET_TAKER = -1;

export type FillListener = (
  makerId: number,
  takerId: number,
  price: number,
  size: number,
  makerRemaining: number,
) => void;

export interface OrderBookOptions {
  onFill?: FillListener;
  /** Initial slot capacity (resting orders); grows on demand. */
  orderCapacity?: number;
  /** Initial id index capacity (largest id + 1); grows on demand. */
  idCapacity?: number;
}

export interface Depth {
  /** Best first: bids descending, asks ascending; `[price, total size]`. */
  bids: [number, number][];
  asks: [number, number][];
}

const NIL = -1;

function growI32(a: Int32Array, min: number, fill = 0): Int32Array {
  const b = new Int32Array(Math.max(min, a.length * 2));
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

function growF64(a: Float64Array, min: number): Float64Array {
  const b = new Float64Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

/** One side of the book: its levels, their price index and the heap that orders them. */
class Ladder {
  /** Level pool. */
  head: Int32Array;
  tail: Int32Array;
  count: Int32Array;
  qty: Float64Array;
  price: Float64Array;
  /** Heap position of each live level. */
  pos: Int32Array;
  private freeLevel = NIL;
  private usedLevels = 0;
  /** Heap: keys (`price * sign`) and level indices, parallel. */
  hk: Float64Array;
  hl: Int32Array;
  n = 0;
  readonly byPrice = new Map<number, number>();
  /** Scratch for best-first walks (heap positions). */
  private walkPos: Int32Array = new Int32Array(16);

  constructor(readonly sign: number) {
    const c = 64;
    this.head = new Int32Array(c);
    this.tail = new Int32Array(c);
    this.count = new Int32Array(c);
    this.qty = new Float64Array(c);
    this.price = new Float64Array(c);
    this.pos = new Int32Array(c);
    this.hk = new Float64Array(c);
    this.hl = new Int32Array(c);
  }

  /** The level at `price`, opened (empty, in the heap) if absent. */
  levelAt(price: number): number {
    const found = this.byPrice.get(price);
    if (found !== undefined) return found;
    let l = this.freeLevel;
    if (l !== NIL) this.freeLevel = this.head[l]!;
    else {
      l = this.usedLevels++;
      if (l >= this.head.length) this.growLevels();
    }
    this.head[l] = NIL;
    this.tail[l] = NIL;
    this.count[l] = 0;
    this.qty[l] = 0;
    this.price[l] = price;
    this.byPrice.set(price, l);
    const i = this.n++;
    if (i >= this.hk.length) {
      this.hk = growF64(this.hk, i + 1);
      this.hl = growI32(this.hl, i + 1);
    }
    this.hk[i] = price * this.sign;
    this.hl[i] = l;
    this.up(i);
    return l;
  }

  /** Drops an (emptied) level from the index and the heap. */
  removeLevel(l: number): void {
    this.byPrice.delete(this.price[l]!);
    const i = this.pos[l]!;
    const last = --this.n;
    if (i !== last) {
      const k = this.hk[last]!;
      const ll = this.hl[last]!;
      this.hk[i] = k;
      this.hl[i] = ll;
      this.pos[ll] = i;
      if (i > 0 && k < this.hk[(i - 1) >> 1]!) this.up(i);
      else this.down(i);
    }
    this.head[l] = this.freeLevel;
    this.freeLevel = l;
  }

  private growLevels(): void {
    const m = this.head.length + 1;
    this.head = growI32(this.head, m);
    this.tail = growI32(this.tail, m);
    this.count = growI32(this.count, m);
    this.qty = growF64(this.qty, m);
    this.price = growF64(this.price, m);
    this.pos = growI32(this.pos, m);
  }

  private up(i: number): void {
    const hk = this.hk;
    const hl = this.hl;
    const pos = this.pos;
    const k = hk[i]!;
    const l = hl[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = hk[p]!;
      if (pk <= k) break;
      const pl = hl[p]!;
      hk[i] = pk;
      hl[i] = pl;
      pos[pl] = i;
      i = p;
    }
    hk[i] = k;
    hl[i] = l;
    pos[l] = i;
  }

  private down(i: number): void {
    const hk = this.hk;
    const hl = this.hl;
    const pos = this.pos;
    const n = this.n;
    const k = hk[i]!;
    const l = hl[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ck = hk[c]!;
      const r = c + 1;
      if (r < n && hk[r]! < ck) {
        c = r;
        ck = hk[r]!;
      }
      if (ck >= k) break;
      const cl = hl[c]!;
      hk[i] = ck;
      hl[i] = cl;
      pos[cl] = i;
      i = c;
    }
    hk[i] = k;
    hl[i] = l;
    pos[l] = i;
  }

  /**
   * Visits levels best first while `visit(level)` returns true and their key is ≤ `maxKey`:
   * a best-first walk of the heap with a small scratch heap of frontier positions.
   */
  walk(maxKey: number, visit: (level: number) => boolean): void {
    if (this.n === 0) return;
    const hk = this.hk;
    let fr = this.walkPos;
    let fn = 1;
    fr[0] = 0;
    while (fn > 0) {
      // Pop the frontier's smallest key.
      const top = fr[0]!;
      const last = fr[--fn]!;
      if (fn > 0) {
        const k = hk[last]!;
        let i = 0;
        for (;;) {
          let c = 2 * i + 1;
          if (c >= fn) break;
          if (c + 1 < fn && hk[fr[c + 1]!]! < hk[fr[c]!]!) c++;
          if (hk[fr[c]!]! >= k) break;
          fr[i] = fr[c]!;
          i = c;
        }
        fr[i] = last;
      }
      if (hk[top]! > maxKey || !visit(this.hl[top]!)) return;
      // Push its heap children.
      for (let c = 2 * top + 1; c <= 2 * top + 2 && c < this.n; c++) {
        if (fn >= fr.length) this.walkPos = fr = growI32(fr, fn + 1);
        let i = fn++;
        const k = hk[c]!;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (hk[fr[p]!]! <= k) break;
          fr[i] = fr[p]!;
          i = p;
        }
        fr[i] = c;
      }
    }
  }
}

export class OrderBook<P = never> {
  private readonly bids = new Ladder(-1);
  private readonly asks = new Ladder(1);
  /** Order slot pool. */
  private oid: Int32Array;
  private osize: Float64Array;
  private oside: Uint8Array;
  private olevel: Int32Array;
  private prev: Int32Array;
  private next: Int32Array;
  private freeSlot = NIL;
  private usedSlots = 0;
  private idToSlot: Int32Array;
  private resting = 0;
  private readonly payloads = new Map<number, P>();
  private readonly onFill: FillListener | undefined;

  constructor(options: OrderBookOptions = {}) {
    const c = Math.max(16, options.orderCapacity ?? 1024);
    this.oid = new Int32Array(c);
    this.osize = new Float64Array(c);
    this.oside = new Uint8Array(c);
    this.olevel = new Int32Array(c);
    this.prev = new Int32Array(c);
    this.next = new Int32Array(c);
    this.idToSlot = new Int32Array(Math.max(16, options.idCapacity ?? 1024)).fill(NIL);
    this.onFill = options.onFill;
  }

  /** Resting orders. */
  get size(): number {
    return this.resting;
  }

  /**
   * Limit order `id` (a non-negative int32 not resting already): matches against the other side at
   * the resting prices while they are at or better than `price`, then rests the remainder (GTC),
   * drops it (IOC), or, for FOK, does nothing at all unless the whole size can fill.
   * Returns the size filled.
   */
  limit(id: number, side: BookSide, price: number, size: number, tif: Tif = GTC, payload?: P): number {
    if ((id | 0) !== id || id < 0) throw new RangeError(`order id must be a non-negative int32: ${id}`);
    if (!Number.isSafeInteger(price)) throw new RangeError(`price must be an integer number of ticks: ${price}`);
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new RangeError(`size must be a positive integer number of lots: ${size}`);
    if (id < this.idToSlot.length && this.idToSlot[id] !== NIL) throw new Error(`order ${id} is already resting`);
    if (tif === FOK && !this.wouldFill(side, size, price)) return 0;
    const opp = side === Buy ? this.asks : this.bids;
    const filled = opp.n > 0 ? this.take(id, opp, price * opp.sign, size) : 0;
    if (filled < size && tif === GTC) this.rest(id, side, price, size - filled, payload);
    return filled;
  }

  /** Market order: walks the other side best first until `size` is filled or the side is empty. Returns the size filled. */
  market(side: BookSide, size: number, takerId: number = MARKET_TAKER): number {
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new RangeError(`size must be a positive integer number of lots: ${size}`);
    const opp = side === Buy ? this.asks : this.bids;
    return opp.n > 0 ? this.take(takerId, opp, Infinity, size) : 0;
  }

  /** Removes resting order `id`; false if it is not resting (unknown, filled or cancelled already). */
  cancel(id: number): boolean {
    if (id < 0 || id >= this.idToSlot.length) return false;
    const s = this.idToSlot[id];
    if (s === undefined || s === NIL) return false;
    const lad = this.oside[s] === Buy ? this.bids : this.asks;
    const l = this.olevel[s]!;
    const p = this.prev[s]!;
    const nx = this.next[s]!;
    if (p === NIL) lad.head[l] = nx;
    else this.next[p] = nx;
    if (nx === NIL) lad.tail[l] = p;
    else this.prev[nx] = p;
    lad.qty[l] = lad.qty[l]! - this.osize[s]!;
    if (--lad.count[l]! === 0) lad.removeLevel(l);
    this.release(id, s);
    return true;
  }

  /**
   * Takes `by` off resting order `id` where it stands (time priority kept; a partial cancel or a fill
   * made elsewhere); removes it when nothing is left. Returns the size left.
   */
  reduce(id: number, by: number): number {
    const s = id >= 0 && id < this.idToSlot.length ? this.idToSlot[id]! : NIL;
    if (s === NIL) return 0;
    if (!(by > 0)) return this.osize[s]!;
    if (by >= this.osize[s]!) {
      this.cancel(id);
      return 0;
    }
    const lad = this.oside[s] === Buy ? this.bids : this.asks;
    const l = this.olevel[s]!;
    const left = this.osize[s]! - by;
    this.osize[s] = left;
    lad.qty[l] = lad.qty[l]! - by;
    return left;
  }

  /** Resting orders at `price` on `side`, oldest first, as `(id, size)`; `visit` must not change the book. */
  forEachAt(side: BookSide, price: number, visit: (id: number, size: number) => void): void {
    const lad = side === Buy ? this.bids : this.asks;
    const l = lad.byPrice.get(price);
    if (l === undefined) return;
    for (let s = lad.head[l]!; s !== NIL; s = this.next[s]!) visit(this.oid[s]!, this.osize[s]!);
  }

  /** Whether resting order `id` is on the book. */
  has(id: number): boolean {
    return id >= 0 && id < this.idToSlot.length && this.idToSlot[id] !== NIL;
  }

  /** Unfilled size of resting order `id`, 0 if it is not resting. */
  remaining(id: number): number {
    const s = id >= 0 && id < this.idToSlot.length ? this.idToSlot[id]! : NIL;
    return s === NIL ? 0 : this.osize[s]!;
  }

  /** The payload given when resting order `id` was placed. */
  payload(id: number): P | undefined {
    return this.payloads.get(id);
  }

  bestBid(): number | undefined {
    return this.bids.n > 0 ? this.bids.price[this.bids.hl[0]!] : undefined;
  }

  bestAsk(): number | undefined {
    return this.asks.n > 0 ? this.asks.price[this.asks.hl[0]!] : undefined;
  }

  /** Whether a `side` taker of `size` would fill completely now, at prices no worse than `limit` (any price if absent). */
  wouldFill(side: BookSide, size: number, limit?: number): boolean {
    const opp = side === Buy ? this.asks : this.bids;
    if (opp.n === 0) return false;
    const maxKey = limit === undefined ? Infinity : limit * opp.sign;
    if (opp.hk[0]! > maxKey) return false;
    if (opp.qty[opp.hl[0]!]! >= size) return true;
    let left = size;
    opp.walk(maxKey, (l) => (left -= opp.qty[l]!) > 0);
    return left <= 0;
  }

  /** Levels best first, at most `levels` per side. */
  depth(levels = Infinity): Depth {
    const side = (lad: Ladder): [number, number][] => {
      const out: [number, number][] = [];
      if (levels > 0) lad.walk(Infinity, (l) => out.push([lad.price[l]!, lad.qty[l]!]) < levels);
      return out;
    };
    return { bids: side(this.bids), asks: side(this.asks) };
  }

  /** Fills `size` against `opp` best first while its level keys are ≤ `maxKey`; returns the size filled. */
  private take(takerId: number, opp: Ladder, maxKey: number, size: number): number {
    const next = this.next;
    const osize = this.osize;
    const oid = this.oid;
    const onFill = this.onFill;
    let left = size;
    while (left > 0 && opp.n > 0 && opp.hk[0]! <= maxKey) {
      const l = opp.hl[0]!;
      const price = opp.price[l]!;
      let s = opp.head[l]!;
      let qty = opp.qty[l]!;
      let count = opp.count[l]!;
      while (s !== NIL) {
        const avail = osize[s]!;
        if (avail > left) {
          osize[s] = avail - left;
          qty -= left;
          if (onFill !== undefined) onFill(oid[s]!, takerId, price, left, avail - left);
          left = 0;
          break;
        }
        left -= avail;
        qty -= avail;
        count--;
        const id = oid[s]!;
        const nx = next[s]!;
        this.release(id, s);
        if (onFill !== undefined) onFill(id, takerId, price, avail, 0);
        s = nx;
        if (left === 0) break;
      }
      if (s === NIL) {
        opp.removeLevel(l);
      } else {
        opp.head[l] = s;
        this.prev[s] = NIL;
        opp.qty[l] = qty;
        opp.count[l] = count;
      }
    }
    return size - left;
  }

  private rest(id: number, side: BookSide, price: number, size: number, payload: P | undefined): void {
    let s = this.freeSlot;
    if (s !== NIL) this.freeSlot = this.next[s]!;
    else {
      s = this.usedSlots++;
      if (s >= this.oid.length) this.growSlots();
    }
    if (id >= this.idToSlot.length) this.idToSlot = growI32(this.idToSlot, id + 1, NIL);
    const lad = side === Buy ? this.bids : this.asks;
    const l = lad.levelAt(price);
    const t = lad.tail[l]!;
    this.oid[s] = id;
    this.osize[s] = size;
    this.oside[s] = side;
    this.olevel[s] = l;
    this.prev[s] = t;
    this.next[s] = NIL;
    if (t === NIL) lad.head[l] = s;
    else this.next[t] = s;
    lad.tail[l] = s;
    lad.qty[l] = lad.qty[l]! + size;
    lad.count[l]!++;
    this.idToSlot[id] = s;
    this.resting++;
    if (payload !== undefined) this.payloads.set(id, payload);
  }

  /** Frees slot `s` of order `id` (already unlinked, or being consumed from a level's head). */
  private release(id: number, s: number): void {
    this.idToSlot[id] = NIL;
    this.next[s] = this.freeSlot;
    this.freeSlot = s;
    this.resting--;
    if (this.payloads.size !== 0) this.payloads.delete(id);
  }

  private growSlots(): void {
    const m = this.oid.length + 1;
    this.oid = growI32(this.oid, m);
    this.osize = growF64(this.osize, m);
    const side = new Uint8Array(this.oid.length);
    side.set(this.oside);
    this.oside = side;
    this.olevel = growI32(this.olevel, m);
    this.prev = growI32(this.prev, m);
    this.next = growI32(this.next, m);
  }
}
