/**
 * Chart series from quotes and fills: one point per second (the chart's time unit), ascending and
 * unique as lightweight-charts requires, with a point at every fill's second so its marker lands on
 * the line. Pure; shared by the webview script and unit tests.
 */
import type { QuotePoint } from './protocol';

export interface ChartPoint {
  /** Seconds since the Unix epoch. */
  time: number;
  value: number;
}

export interface ChartSeries {
  bid: ChartPoint[];
  ask: ChartPoint[];
  markers: Array<{ time: number; price: number; text: string }>;
}

export function chartSeriesOf(
  quotes: readonly QuotePoint[],
  fills: ReadonlyArray<{ price: number; quantity: number; timestamp: number }>,
  side: string | null,
): ChartSeries {
  const sorted = [...quotes].sort((a, b) => a.time - b.time);
  const seconds = new Set<number>(sorted.map((q) => Math.floor(q.time / 1000)));
  for (const f of fills) seconds.add(Math.floor(f.timestamp / 1000));
  const bid: ChartPoint[] = [];
  const ask: ChartPoint[] = [];
  let index = 0;
  let last: QuotePoint | undefined;
  for (const second of [...seconds].sort((a, b) => a - b)) {
    while (index < sorted.length && Math.floor((sorted[index]?.time ?? 0) / 1000) <= second) last = sorted[index++];
    const quote = last ?? sorted[0];
    if (!quote) continue;
    bid.push({ time: second, value: quote.bid });
    ask.push({ time: second, value: quote.ask });
  }
  const verb = side === 'sell' ? 'sold' : 'bought';
  const markers = fills
    .map((f) => ({
      time: Math.floor(f.timestamp / 1000),
      price: f.price,
      text: `${verb} ${f.quantity.toLocaleString('en-US', { maximumFractionDigits: 10 })} @ ${f.price}`,
    }))
    .sort((a, b) => a.time - b.time);
  return { bid, ask, markers };
}
