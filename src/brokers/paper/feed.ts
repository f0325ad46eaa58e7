/**
 * Quotes for the paper venue. `QuoteSource` is the seam where recorded data (CSV/Parquet replay)
 * or a real broker's live quotes replace the synthetic feed: the venue asks for the quote of a
 * symbol at a time and never assumes where it came from.
 */
import { snapToStep } from '../../common/decimal';
import type { Quote } from '../../orders/model';
import { instrumentFor, instrumentKey } from './instruments';

export interface QuoteSource {
  /** The quote in force at `atMs` (milliseconds since the Unix epoch). Must not depend on call order. */
  quote(symbol: string, atMs: number): Quote;
}

/** Quotes change at most this often, so every call within one bucket sees the same market. */
export const QUOTE_BUCKET_MS = 250;
const DAY_MS = 86_400_000;
const TWO_PI = 2 * Math.PI;

/** Splits any finite number into 32-bit words so large or fractional inputs still hash apart. */
function words(n: number): number[] {
  const int = Math.trunc(n);
  const low = int % 4294967296;
  const high = Math.trunc(int / 4294967296);
  const fraction = Math.round((n - int) * 4294967296);
  return [low | 0, high | 0, fraction | 0];
}

/** A stable hash in [0, 1): the same inputs give the same number on every run and platform. */
function unit(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    for (const w of words(part)) {
      h ^= w;
      h = Math.imul(h, 0x01000193);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      h ^= h >>> 12;
      h = Math.imul(h, 0x297a2d39);
      h ^= h >>> 15;
    }
  }
  return (h >>> 0) / 4294967296;
}

function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Periods of the sinusoids the mid follows, and how much of the daily volatility each carries. */
const WAVES: ReadonlyArray<{ periodMs: number; weight: number }> = [
  { periodMs: DAY_MS, weight: 0.6 },
  { periodMs: DAY_MS / 7, weight: 0.3 },
  { periodMs: DAY_MS / 96, weight: 0.1 },
];
/** Per-bucket noise, as a fraction of the daily volatility: small, so the path stays smooth. */
const NOISE = 0.02;

/**
 * Deterministic: a quote is a pure function of (seed, instrument, 250 ms bucket), so a replayed
 * session or a test sees exactly the same market. The mid follows three seeded sinusoids scaled
 * to the instrument's daily volatility plus a small per-bucket noise; the bid is the mid less
 * half the spread rounded down to the tick, the ask is `spreadTicks` ticks above it, the last
 * trade lies on the grid between them, and the sizes vary around the instrument's touch size.
 */
export class SyntheticFeed implements QuoteSource {
  /**
   * The last quote made per symbol (as spelled): an order asks for its symbol's quote several times
   * within one bucket (the engine's check, the venue's pricing, buying power, matching), and making
   * one costs microseconds. Callers get a copy, so none can change what the next one gets.
   */
  private readonly last = new Map<string, Quote>();

  constructor(readonly seed = 1) {}

  quote(symbol: string, atMs: number): Quote {
    const bucket = Math.floor(atMs / QUOTE_BUCKET_MS);
    const t = bucket * QUOTE_BUCKET_MS;
    let quote = this.last.get(symbol);
    if (quote === undefined || quote.timestamp !== t) {
      quote = this.make(symbol, bucket, t);
      if (this.last.size >= 4096) this.last.clear();
      this.last.set(symbol, quote);
    }
    return { ...quote };
  }

  private make(symbol: string, bucket: number, t: number): Quote {
    const instrument = instrumentFor(symbol);
    const { tickSize, spreadTicks, lotSize } = instrument;
    const symbolHash = stringHash(instrumentKey(symbol));
    let move = 0;
    WAVES.forEach(({ periodMs, weight }, i) => {
      // Periods are stretched by up to ±20 % per seed so symbols do not move in lockstep.
      const period = periodMs * (0.8 + 0.4 * unit(this.seed, symbolHash, i, 1));
      move += weight * Math.sin((TWO_PI * t) / period + TWO_PI * unit(this.seed, symbolHash, i, 2));
    });
    move += (unit(this.seed, symbolHash, bucket, 3) - 0.5) * NOISE;
    const mid = instrument.referencePrice * (1 + instrument.dailyVolatility * move);
    const spread = spreadTicks * tickSize;
    const bid = Math.max(tickSize, snapToStep(mid - spread / 2, tickSize, 'down'));
    const ask = snapToStep(bid + spread, tickSize);
    const lastTicks = Math.floor(unit(this.seed, symbolHash, bucket, 4) * (spreadTicks + 1));
    const last = snapToStep(bid + lastTicks * tickSize, tickSize);
    const size = (salt: number) =>
      Math.max(
        lotSize,
        snapToStep(instrument.touchSize * (0.5 + unit(this.seed, symbolHash, bucket, salt)), lotSize, 'down'),
      );
    return { symbol, bid, ask, last, bid_size: size(5), ask_size: size(6), timestamp: t };
  }
}
