/**
 * Which open paper orders a new quote can affect, found in O(log n + k) instead of re-evaluating every
 * open order on every poll: resting limits sorted by limit price and untriggered stops by stop price,
 * per symbol and side; orders waiting for their latency by arrival time; GTD orders by expiry; and the
 * few takers still working (a market order larger than the book) evaluated on every poll.
 */

/** (key, seq) pairs kept sorted; seq breaks ties and is the order's arrival sequence. */
class SortedKeys {
  private readonly keys: number[] = [];
  private readonly seqs: number[] = [];

  private lowerBound(key: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: number, seq: number): void {
    let i = this.lowerBound(key);
    while (i < this.keys.length && this.keys[i] === key && (this.seqs[i] as number) < seq) i++;
    this.keys.splice(i, 0, key);
    this.seqs.splice(i, 0, seq);
  }

  remove(key: number, seq: number): void {
    for (let i = this.lowerBound(key); i < this.keys.length && this.keys[i] === key; i++) {
      if (this.seqs[i] === seq) {
        this.keys.splice(i, 1);
        this.seqs.splice(i, 1);
        return;
      }
    }
  }

  /** Seqs with key ≤ `max`. */
  atMost(max: number, out: number[]): void {
    const end = this.lowerBound(max + 1e-9 * Math.max(1, Math.abs(max)));
    for (let i = 0; i < end; i++) out.push(this.seqs[i] as number);
  }

  /** Seqs with key ≥ `min`. */
  atLeast(min: number, out: number[]): void {
    for (let i = this.lowerBound(min - 1e-9 * Math.max(1, Math.abs(min))); i < this.keys.length; i++)
      out.push(this.seqs[i] as number);
  }

  get size(): number {
    return this.keys.length;
  }
}

export type RestingPlace =
  | { kind: 'pending'; arrivesAt: number }
  | { kind: 'active' }
  | { kind: 'limit'; side: 'buy' | 'sell'; price: number }
  | { kind: 'stop'; side: 'buy' | 'sell'; price: number };

interface SymbolBook {
  buyLimits: SortedKeys;
  sellLimits: SortedKeys;
  buyStops: SortedKeys;
  sellStops: SortedKeys;
}

interface Entry {
  symbol: string;
  place: RestingPlace;
  expiresAt: number | undefined;
}

export class RestingIndex {
  private readonly books = new Map<string, SymbolBook>();
  private pending = new SortedKeys();
  private expiries = new SortedKeys();
  private readonly active = new Set<number>();
  private readonly entries = new Map<number, Entry>();

  /** Orders indexed. */
  get size(): number {
    return this.entries.size;
  }

  add(seq: number, symbol: string, place: RestingPlace, expiresAt: number | undefined): void {
    this.remove(seq);
    this.entries.set(seq, { symbol, place, expiresAt });
    if (expiresAt !== undefined) this.expiries.insert(expiresAt, seq);
    switch (place.kind) {
      case 'pending':
        this.pending.insert(place.arrivesAt, seq);
        break;
      case 'active':
        this.active.add(seq);
        break;
      case 'limit':
        this.book(symbol)[place.side === 'buy' ? 'buyLimits' : 'sellLimits'].insert(place.price, seq);
        break;
      case 'stop':
        this.book(symbol)[place.side === 'buy' ? 'buyStops' : 'sellStops'].insert(place.price, seq);
        break;
    }
  }

  remove(seq: number): void {
    const e = this.entries.get(seq);
    if (!e) return;
    this.entries.delete(seq);
    if (e.expiresAt !== undefined) this.expiries.remove(e.expiresAt, seq);
    const p = e.place;
    if (p.kind === 'pending') this.pending.remove(p.arrivesAt, seq);
    else if (p.kind === 'active') this.active.delete(seq);
    else {
      const b = this.books.get(e.symbol);
      if (b)
        (p.kind === 'limit'
          ? p.side === 'buy'
            ? b.buyLimits
            : b.sellLimits
          : p.side === 'buy'
            ? b.buyStops
            : b.sellStops
        ).remove(p.price, seq);
    }
  }

  clear(): void {
    this.books.clear();
    this.entries.clear();
    this.active.clear();
    this.pending = new SortedKeys();
    this.expiries = new SortedKeys();
  }

  /**
   * Orders the market at `now` may act on, in arrival order: arrivals due, expiries due, takers still
   * working, limits the touch has reached and stops it has triggered.
   */
  candidates(now: number, quote: (symbol: string) => { bid: number; ask: number }): number[] {
    const out: number[] = [];
    this.pending.atMost(now, out);
    this.expiries.atMost(now, out);
    for (const seq of this.active) out.push(seq);
    for (const [symbol, b] of this.books) {
      if (b.buyLimits.size + b.sellLimits.size + b.buyStops.size + b.sellStops.size === 0) {
        this.books.delete(symbol);
        continue;
      }
      const q = quote(symbol);
      b.buyLimits.atLeast(q.ask, out); // a buy limit at or above the ask is marketable
      b.sellLimits.atMost(q.bid, out);
      b.buyStops.atMost(q.ask, out); // a buy stop at or below the ask has triggered
      b.sellStops.atLeast(q.bid, out);
    }
    return [...new Set(out)].sort((a, b) => a - b);
  }

  /**
   * Untriggered stops of one side that a touch at `price` has reached, for the symbols `matches` takes (its
   * spellings): sell stops at or above a bid, buy stops at or below an ask.
   */
  stopsReached(matches: (symbol: string) => boolean, side: 'buy' | 'sell', price: number): number[] {
    const out: number[] = [];
    for (const [symbol, b] of this.books) {
      if (!matches(symbol)) continue;
      if (side === 'sell') b.sellStops.atLeast(price, out);
      else b.buyStops.atMost(price, out);
    }
    return out;
  }

  private book(symbol: string): SymbolBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = {
        buyLimits: new SortedKeys(),
        sellLimits: new SortedKeys(),
        buyStops: new SortedKeys(),
        sellStops: new SortedKeys(),
      };
      this.books.set(symbol, b);
    }
    return b;
  }
}
