/**
 * A synthetic order book behind each quote, so that size has a price: a market order walks the levels
 * and its slippage emerges from the depth, large orders and IOCs fill in part, and FOK is all or
 * nothing against what the book shows.
 *
 * Level k (0 = the touch) sits `k × spacingTicks` ticks behind the touch and shows
 * `touchSize × growth^k × jitter` (jitter in [1 − jitter, 1 + jitter], seeded by symbol, level and
 * quote time, so the same quote always shows the same book), cut down to the lot. Liquidity taken
 * from a quote stays taken until the quote changes (a new timestamp): polling the same quote twice
 * never fills the same size twice.
 */
import { snapToStep } from '../../common/decimal';
import type { Quote } from '../../orders/model';
import type { Instrument } from './instruments';
import { units } from './money';

export interface DepthOptions {
  /** Levels per side, touch included (1 = the touch only). */
  levels: number;
  /** Ticks between levels. */
  spacingTicks: number;
  /** Each level shows this many times the size of the one before it. */
  growth: number;
  /** Relative size noise per level, 0 (none) to 0.9. */
  jitter: number;
  seed: number;
}

export const DEFAULT_DEPTH: Readonly<DepthOptions> = Object.freeze({
  levels: 10,
  spacingTicks: 1,
  growth: 1.5,
  jitter: 0.25,
  seed: 1,
});

export interface Level {
  readonly price: number;
  /** Exact size in money units (10^-10). */
  readonly size: bigint;
}

export function validateDepth(d: DepthOptions): void {
  if (!Number.isInteger(d.levels) || d.levels < 1 || d.levels > 1000)
    throw new RangeError(`depth.levels must be a whole number from 1 to 1000, got ${d.levels}`);
  if (!(d.spacingTicks > 0) || !Number.isInteger(d.spacingTicks))
    throw new RangeError(`depth.spacingTicks must be a whole number ≥ 1, got ${d.spacingTicks}`);
  if (!(d.growth >= 1) || !Number.isFinite(d.growth)) throw new RangeError(`depth.growth must be ≥ 1, got ${d.growth}`);
  if (!(d.jitter >= 0 && d.jitter <= 0.9))
    throw new RangeError(`depth.jitter must be between 0 and 0.9, got ${d.jitter}`);
}

function hash01(seed: number, symbol: string, level: number, ts: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  const mix = (n: number): void => {
    h ^= n;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= h >>> 13;
  };
  for (let i = 0; i < symbol.length; i++) mix(symbol.charCodeAt(i));
  mix(level);
  mix(ts % 4294967296);
  mix(Math.floor(ts / 4294967296));
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * The levels a taker on `side` trades against, asks for a buy (rising), bids for a sell (falling),
 * each computed when first asked for: a small order looks at the touch only.
 */
export class QuoteBook {
  private readonly levels: Array<Level | null> = [];
  private readonly touch: number;
  private readonly touchSize: number;
  private readonly buy: boolean;

  constructor(
    readonly quote: Quote,
    readonly side: 'buy' | 'sell',
    readonly instrument: Instrument,
    readonly depth: DepthOptions,
  ) {
    this.buy = side === 'buy';
    this.touch = this.buy ? quote.ask : quote.bid;
    this.touchSize = this.buy ? quote.ask_size : quote.bid_size;
  }

  /** How many levels the book may have (some may show no size). */
  get size(): number {
    return this.depth.levels;
  }

  /**
   * Level k (0 = the touch), or null when its price would be zero or below (the book has ended: every
   * later level is null too) or it shows no size once cut down to the lot.
   */
  level(k: number): Level | null {
    const known = this.levels[k];
    if (known !== undefined) return known;
    let level: Level | null = null;
    const { depth, instrument } = this;
    const offset = k * depth.spacingTicks * instrument.tickSize;
    const price = snapToStep(this.buy ? this.touch + offset : this.touch - offset, instrument.tickSize);
    if (price > 0) {
      const noise =
        depth.jitter === 0 || k === 0
          ? 1
          : 1 -
            depth.jitter +
            2 * depth.jitter * hash01(depth.seed, this.quote.symbol, k * 2 + (this.buy ? 1 : 0), this.quote.timestamp);
      const size = snapToStep(this.touchSize * depth.growth ** k * noise, instrument.lotSize, 'down');
      if (size > 0) level = Object.freeze({ price, size: units(size) });
    }
    this.levels[k] = level;
    return level;
  }
}

// The book behind a quote is a pure function of it: orders against the same quote (a burst within one
// tick) share one. One entry per symbol and side; a new quote replaces it.
const lastBook = new Map<string, QuoteBook>();

const sameQuote = (a: Quote, b: Quote): boolean =>
  a === b ||
  (a.timestamp === b.timestamp &&
    a.symbol === b.symbol &&
    a.bid === b.bid &&
    a.ask === b.ask &&
    a.bid_size === b.bid_size &&
    a.ask_size === b.ask_size);

/** The book a taker on `side` trades against at this quote. */
export function bookFor(quote: Quote, side: 'buy' | 'sell', instrument: Instrument, depth: DepthOptions): QuoteBook {
  const key = `${quote.symbol}\u0000${side}`;
  const cached = lastBook.get(key);
  if (cached && cached.instrument === instrument && cached.depth === depth && sameQuote(cached.quote, quote))
    return cached;
  const book = new QuoteBook({ ...quote }, side, instrument, depth);
  if (lastBook.size >= 4096) lastBook.clear();
  lastBook.set(key, book);
  return book;
}

/** Liquidity already taken from each quote, per symbol and side, forgotten when the quote changes. */
export class TakenLiquidity {
  private readonly taken = new Map<string, { ts: number; byPrice: Map<number, bigint> }>();

  /** What earlier orders took at `price` from this very quote. */
  takenAt(symbol: string, side: 'buy' | 'sell', ts: number, price: number): bigint {
    const t = this.taken.get(`${symbol}\u0000${side}`);
    return t && t.ts === ts ? (t.byPrice.get(price) ?? 0n) : 0n;
  }

  take(symbol: string, side: 'buy' | 'sell', ts: number, price: number, size: bigint): void {
    const key = `${symbol}\u0000${side}`;
    let t = this.taken.get(key);
    if (!t || t.ts !== ts) {
      t = { ts, byPrice: new Map() };
      this.taken.set(key, t);
    }
    t.byPrice.set(price, (t.byPrice.get(price) ?? 0n) + size);
  }

  clear(): void {
    this.taken.clear();
  }
}
