/**
 * The Compare Venues chart's points from the panel's view: the venues side by side on the axis, each
 * with its own bid and ask at decision time and its fill. Pure; shared by the webview script and tests.
 */
import type { CompareView } from './compareProtocol';

/** One slot on the chart's axis per venue, in column order: its bid and ask at decision, and its fill. */
export interface CompareChart {
  /** The axis position of each venue (1, 2, …), used as the chart's time. */
  slots: Array<{ slot: number; venue: string }>;
  bid: Array<{ time: number; value: number }>;
  ask: Array<{ time: number; value: number }>;
  fills: Array<{ time: number; value: number; text: string }>;
  /** Decimals for the price axis (at most 10). */
  precision: number;
}

export function compareChartOf(view: Pick<CompareView, 'columns' | 'side'>): CompareChart {
  const chart: CompareChart = { slots: [], bid: [], ask: [], fills: [], precision: 2 };
  const verb = view.side === 'sell' ? 'sold' : 'bought';
  const prices: number[] = [];
  view.columns.forEach((c, i) => {
    const time = i + 1;
    chart.slots.push({ slot: time, venue: c.id });
    if (c.bid !== null) chart.bid.push({ time, value: c.bid });
    if (c.ask !== null) chart.ask.push({ time, value: c.ask });
    if (c.fillPrice !== null)
      chart.fills.push({
        time,
        value: c.fillPrice,
        text: `${c.id} ${verb} @ ${c.fillPrice}`,
      });
    for (const p of [c.bid, c.ask, c.fillPrice]) if (p !== null) prices.push(p);
  });
  for (const p of prices) {
    const text = String(p);
    const dot = text.indexOf('.');
    if (dot >= 0 && !text.includes('e')) chart.precision = Math.max(chart.precision, text.length - dot - 1);
  }
  chart.precision = Math.min(chart.precision, 10);
  return chart;
}
