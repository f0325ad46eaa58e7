/// <reference lib="dom" />
/**
 * The result panel's chart (part of media/result.js): bid and ask of the order's symbol, its fills as markers,
 * its limit/stop prices and fill as lines kept inside the scale, in the editor's theme colours. One chart
 * for the panel's life, redrawn for each result with that result's data only.
 */
import type * as Charts from 'lightweight-charts' with { 'resolution-mode': 'import' };
import type { ResultView } from '../protocol';
import { chartSeriesOf } from '../chartData';
import { cssVar, elementsOf, themedChartOptions } from './dom';

/** The standalone lightweight-charts build, loaded after the first result is drawn (absent until then, or if it failed). */
declare const LightweightCharts: typeof Charts | undefined;

// The chart library (200 KB) is not parsed before the panel can show a result: it is loaded when a chart is
// first drawn, by a script element carrying this script's CSP nonce.
const scriptNonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';
let chartLibrary: Promise<void> | undefined;
function loadChartLibrary(): Promise<void> {
  chartLibrary ??= new Promise<void>((resolve, reject) => {
    const src = document.body.dataset['chartSrc'];
    if (!src) return reject(new Error('no chart library'));
    const script = document.createElement('script');
    script.nonce = scriptNonce;
    script.src = src;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error('the chart library did not load'));
    document.head.appendChild(script);
  });
  return chartLibrary;
}

let chart:
  | {
      api: Charts.IChartApi;
      bid: Charts.ISeriesApi<'Line'>;
      ask: Charts.ISeriesApi<'Line'>;
      /** One markers layer, replaced on every render: a new layer per render kept earlier runs' fills on the chart. */
      markers: Charts.ISeriesMarkersPluginApi<Charts.Time>;
    }
  | undefined;

const element = elementsOf('result');

/** Draws `view`'s chart; while the library is loading says so, and calls `redraw` once it has loaded. */
export function renderChart(view: ResultView, redraw: () => void): void {
  const host = element('chart');
  const note = element('chart-note');
  if (typeof LightweightCharts === 'undefined') {
    note.textContent = 'Loading the chart…';
    loadChartLibrary().then(
      () => redraw(),
      () => (note.textContent = 'The chart library did not load.'),
    );
    return;
  }
  const data = chartSeriesOf(view.quotes, view.fills, view.side);
  note.textContent =
    data.bid.length === 0
      ? 'No quotes for this symbol yet.'
      : `${view.symbol ?? ''}: ${data.bid.length} quote(s) seen by SPtrader`;
  if (!chart) {
    const api = LightweightCharts.createChart(host, {
      autoSize: true,
      layout: { attributionLogo: false },
      timeScale: { timeVisible: true, secondsVisible: true },
    });
    const bidSeries = api.addSeries(LightweightCharts.LineSeries, { lineWidth: 1, title: 'bid' });
    const askSeries = api.addSeries(LightweightCharts.LineSeries, { lineWidth: 1, title: 'ask' });
    chart = { api, bid: bidSeries, ask: askSeries, markers: LightweightCharts.createSeriesMarkers(askSeries, []) };
  }
  applyTheme();
  const { bid, ask } = chart;
  const precision = precisionOf([
    ...view.quotes.flatMap((q) => [q.bid, q.ask]),
    ...view.priceLines.map((l) => l.price),
  ]);
  const priceFormat = { type: 'price' as const, precision, minMove: 10 ** -precision };
  // The order's own prices stay in view even when the market is far from them.
  const lines = [...view.priceLines.map((l) => l.price), ...(view.filledPrice === null ? [] : [view.filledPrice])];
  bid.applyOptions({ priceFormat });
  ask.applyOptions({
    priceFormat,
    autoscaleInfoProvider: (base: () => Charts.AutoscaleInfo | null) => {
      const info = base();
      if (!info?.priceRange || lines.length === 0) return info;
      return {
        ...info,
        priceRange: {
          minValue: Math.min(info.priceRange.minValue, ...lines),
          maxValue: Math.max(info.priceRange.maxValue, ...lines),
        },
      };
    },
  });
  bid.setData(data.bid.map((p) => ({ time: p.time as Charts.UTCTimestamp, value: p.value })));
  ask.setData(data.ask.map((p) => ({ time: p.time as Charts.UTCTimestamp, value: p.value })));
  for (const line of ask.priceLines()) ask.removePriceLine(line);
  const accent = cssVar('--vscode-charts-orange', '#d18616');
  for (const line of view.priceLines)
    ask.createPriceLine({
      price: line.price,
      title: line.title,
      color: accent,
      lineWidth: 1,
      lineStyle: LightweightCharts.LineStyle.Dashed,
      axisLabelVisible: true,
    });
  if (view.filledPrice !== null)
    ask.createPriceLine({
      price: view.filledPrice,
      title: 'fill',
      color: cssVar('--vscode-charts-green', '#388a34'),
      lineWidth: 1,
      axisLabelVisible: true,
    });
  // This order's fills only: a denied or failed run has none, whatever the panel showed before.
  chart.markers.setMarkers(
    data.markers.map((m) => ({
      time: m.time as Charts.UTCTimestamp,
      position: 'atPriceMiddle' as const,
      price: m.price,
      shape: view.side === 'sell' ? ('arrowDown' as const) : ('arrowUp' as const),
      color: cssVar('--vscode-charts-green', '#388a34'),
      text: m.text,
    })),
  );
  chart.api.timeScale().fitContent();
}

/** Decimals the prices are written with (at most 10), so the axis shows 1.08455 and not 1.08. */
function precisionOf(prices: readonly number[]): number {
  let decimals = 2;
  for (const p of prices) {
    const text = String(p);
    const dot = text.indexOf('.');
    if (dot >= 0 && !text.includes('e')) decimals = Math.max(decimals, text.length - dot - 1);
  }
  return Math.min(decimals, 10);
}

/** The chart in the editor's theme colours (again when the theme changes). */
export function applyTheme(): void {
  if (!chart) return;
  chart.api.applyOptions(themedChartOptions());
  chart.bid.applyOptions({ color: cssVar('--vscode-charts-blue', '#3794ff') });
  chart.ask.applyOptions({ color: cssVar('--vscode-charts-red', '#f14c4c') });
}
