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

export const DEFAULT_DEPTH: Readonly<DepthOptions> = Object.freeze({ levels: 10, spacingTicks: 1, growth: 1.5, jitter: 0.25, seed: 1 });

export interface Level {
  readonly price: number;
  /** Exact size in money units (10^-10). */
  readonly size: bigint;
}

export function validateDepth(d: DepthOptions): void {
  if (!Number.isInteger(d.levels) || d.levels < 1 || d.levels > 1000)
    throw new RangeError(`depth.levels must be a whole number from 1 to 1000, got ${d.levels}`);
  if (!(d.spacingTicks > 0) || !Number.isInteger(d.spacingTicks)) throw new RangeError(`depth.spacingTicks must be a whole number ≥ 1, got ${d.spacingTicks}`);
  if (!(d.growth >= 1) || !Number.isFinite(d.growth)) throw new RangeError(`depth.growth must be ≥ 1, got ${d.growth}`);
  if (!(d.jitter >= 0 && d.jitter <= 0.9)) throw new RangeError(`depth.jitter must be between 0 and 0.9, got ${d.jitter}`);
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

/** The levels a taker on `side` trades against: asks for a buy (rising), bids for a sell (falling). */
export function levelsFor(quote: Quote, side: 'buy' | 'sell', instrument: Instrument, depth: DepthOptions): Level[] {
  const buy = side === 'buy';
  const touch = buy ? quote.ask : quote.bid;
  const touchSize = buy ? quote.ask_size : quote.bid_size;
  const out: Level[] = [];
  for (let k = 0; k < depth.levels; k++) {
    const offset = k * depth.spacingTicks * instrument.tickSize;
    const price = snapToStep(buy ? touch + offset : touch - offset, instrument.tickSize);
    if (price <= 0) break;
    const noise =
      depth.jitter === 0 || k === 0 ? 1 : 1 - depth.jitter + 2 * depth.jitter * hash01(depth.seed, quote.symbol, k * 2 + (buy ? 1 : 0), quote.timestamp);
    const size = snapToStep(touchSize * depth.growth ** k * noise, instrument.lotSize, 'down');
    if (size > 0) out.push({ price, size: units(size) });
  }
  return out;
}

/** Liquidity already taken from each quote, per symbol and side, forgotten when the quote changes. */
export class TakenLiquidity {
  private readonly taken = new Map<string, { ts: number; byPrice: Map<number, bigint> }>();

  /** The levels with what earlier orders took from this very quote removed. */
  remaining(symbol: string, side: 'buy' | 'sell', ts: number, levels: readonly Level[]): Level[] {
    const t = this.taken.get(`${symbol}\u0000${side}`);
    if (!t || t.ts !== ts) return [...levels];
    return levels.map((l) => ({ price: l.price, size: l.size - (t.byPrice.get(l.price) ?? 0n) })).filter((l) => l.size > 0n);
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
