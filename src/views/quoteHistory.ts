/**
 * The quotes the extension has seen, per symbol, for the result panel's chart: the quote each run
 * decided on, the quotes read while a result is on screen. Pure and bounded.
 */
import type { QuotePoint } from './protocol';

export class QuoteHistory {
  private readonly bySymbol = new Map<string, QuotePoint[]>();

  constructor(private readonly capacity = 600) {}

  /** Adds a quote; one at the same time as the last replaces it, older ones than the last are dropped. */
  record(symbol: string, point: QuotePoint): void {
    let points = this.bySymbol.get(symbol);
    if (!points) {
      points = [];
      this.bySymbol.set(symbol, points);
    }
    const last = points[points.length - 1];
    if (last && point.time < last.time) return;
    if (last && point.time === last.time) points[points.length - 1] = point;
    else points.push(point);
    if (points.length > this.capacity) points.splice(0, points.length - this.capacity);
  }

  recent(symbol: string): QuotePoint[] {
    return [...(this.bySymbol.get(symbol) ?? [])];
  }
}

/** A quote from a run's market data, when it has bid, ask and a time. */
export function quotePointOf(
  marketData: Record<string, unknown> | null,
  now: number,
): { symbol: string; point: QuotePoint } | undefined {
  if (!marketData) return undefined;
  const { symbol, bid, ask, timestamp_ms: time } = marketData;
  if (typeof symbol !== 'string' || typeof bid !== 'number' || typeof ask !== 'number') return undefined;
  return { symbol, point: { time: typeof time === 'number' ? time : now, bid, ask } };
}
