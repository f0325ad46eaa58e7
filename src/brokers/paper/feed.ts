/**
 * Quotes for the paper venue. `QuoteSource` is the seam where recorded data (replay) or a real
 * broker's live quotes replace the synthetic feed.
 */
import { snapToStep } from '../../common/decimal';
import type { Quote } from '../../orders/model';
import { instrumentFor, instrumentKey } from './instruments';

export interface QuoteSource {
  quote(symbol: string, atMs: number): Quote;
}

const BUCKET_MS = 250;
const DAY_MS = 86_400_000;

/** A stable 32-bit hash, so the same seed, symbol and time always give the same quote. */
function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h ^= p | 0;
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return (h >>> 0) / 4294967296;
}

function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Deterministic: a quote is a pure function of (seed, instrument, 250 ms bucket). The mid follows a
 * smooth path (three seeded sinusoids scaled to the instrument's daily volatility) plus a small
 * per-bucket noise, snapped to the tick; the spread is the instrument's in ticks.
 */
export class SyntheticFeed implements QuoteSource {
  constructor(private readonly seed = 1) {}

  quote(symbol: string, atMs: number): Quote {
    const inst = instrumentFor(symbol);
    const sh = stringHash(instrumentKey(symbol));
    const bucket = Math.floor(atMs / BUCKET_MS);
    const t = bucket * BUCKET_MS;
    let move = 0;
    const periods = [DAY_MS, DAY_MS / 7, DAY_MS / 96];
    const weights = [0.6, 0.3, 0.1];
    for (let i = 0; i < periods.length; i++) {
      const phase = hash32(this.seed, sh, i) * 2 * Math.PI;
      move += weights[i]! * Math.sin((2 * Math.PI * t) / periods[i]! + phase);
    }
    const noise = (hash32(this.seed, sh, bucket) - 0.5) * 0.02;
    const mid = inst.referencePrice * (1 + inst.dailyVolatility * (move + noise));
    const half = (inst.spreadTicks * inst.tickSize) / 2;
    const bid = snapToStep(mid - half, inst.tickSize, 'down');
    const ask = snapToStep(bid + inst.spreadTicks * inst.tickSize, inst.tickSize);
    const sizeFactor = 0.5 + hash32(this.seed, sh, bucket, 7);
    const lastFraction = Math.floor(hash32(this.seed, sh, bucket, 9) * (inst.spreadTicks + 1));
    const last = snapToStep(bid + lastFraction * inst.tickSize, inst.tickSize);
    const size = (f: number) => snapToStep(inst.touchSize * f, inst.lotSize, 'down');
    return { symbol, bid, ask, last, bid_size: size(sizeFactor), ask_size: size(1.5 - sizeFactor + 0.5), timestamp: t };
  }
}
