/// <reference lib="dom" />
/**
 * The result panel's script (bundled by esbuild into media/result.js, IIFE, browser). It renders a
 * ResultView with DOM calls only (never HTML strings from data), keeps it with `setState` so a
 * reload shows it again, and talks to the host only through the zod-checked protocol.
 */
import type * as Charts from 'lightweight-charts' with { 'resolution-mode': 'import' };
import {
  parseHostNotification,
  parsePanelState,
  type HostNotification,
  type PanelState,
  type QuotePoint,
  type ResultView,
  type WebviewCommand,
} from '../protocol';
import { chartSeriesOf } from '../chartData';

interface VsCodeApi {
  postMessage(message: WebviewCommand): void;
  getState(): unknown;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
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

const vscode = acquireVsCodeApi();
let current: ResultView | null = parsePanelState(vscode.getState())?.result ?? null;
let chart:
  | {
      api: Charts.IChartApi;
      bid: Charts.ISeriesApi<'Line'>;
      ask: Charts.ISeriesApi<'Line'>;
      /** One markers layer, replaced on every render: a new layer per render kept earlier runs' fills on the chart. */
      markers: Charts.ISeriesMarkersPluginApi<Charts.Time>;
    }
  | undefined;

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the result panel has no element #${id}`);
  return element as T;
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | null,
  className?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined && text !== null) element.textContent = text;
  if (className) element.className = className;
  return element;
}

const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const signed = (n: number): string => (n > 0 ? `+${n}` : `${n}`);
const time = (at: number): string => new Date(at).toISOString().replace('T', ' ').replace('Z', ' UTC');
const value = (v: number | string | null): string => (v === null ? '–' : typeof v === 'number' ? quantity(v) : v);
const QUANTITY = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });
const quantity = (n: number): string => QUANTITY.format(n);

function render(view: ResultView | null): void {
  const empty = byId('empty');
  const content = byId('content');
  empty.hidden = view !== null;
  content.hidden = view === null;
  if (view) byId('first-run').hidden = true;
  if (!view) return;

  const status = byId('status');
  status.textContent = view.status;
  status.dataset['ok'] = String(view.ok);
  // What was traded and what happened, then the engine's sentence about it.
  const headline = byId('headline');
  headline.textContent = view.headline ?? '';
  headline.hidden = !view.headline;
  headline.dataset['live'] = String(view.venue.environment === 'live');
  byId('summary').textContent = view.summary;
  byId('component').textContent = `${view.file}${view.className ? ` (${view.className})` : ''}`;
  const venue = byId('venue');
  const live = view.venue.environment === 'live';
  // A live account is never mistaken for a paper one: marked in words and in colour.
  venue.textContent = `${live ? 'LIVE ACCOUNT · ' : ''}${view.venue.id} (${view.venue.environment})${KIND_LABELS[view.kind]}${view.scratch ? ' · scratch copy: the paper account is unchanged' : ''}`;
  venue.dataset['live'] = String(live);
  byId('ran-at').textContent = time(view.ranAt);

  byId('order-returned').textContent = view.orderReturned ?? '(nothing returned)';
  byId('order-normalized').textContent = view.orderNormalized ?? '(no valid order)';

  const riskBody = byId<HTMLTableSectionElement>('risk-body');
  riskBody.replaceChildren(
    ...view.risk.map((r) => {
      const row = el('tr');
      row.dataset['check'] = r.check;
      row.dataset['passed'] = String(r.passed);
      row.append(
        el('td', r.check),
        el('td', r.limitText ?? value(r.limit), 'number'),
        el('td', r.actualText ?? value(r.actual), 'number'),
      );
      const verdict = el('td', r.passed ? 'pass' : 'deny', r.passed ? 'pass' : 'deny');
      verdict.title = `${r.code}: ${r.message}`;
      row.append(verdict);
      return row;
    }),
  );
  byId('risk-empty').hidden = view.risk.length > 0;
  byId('denial').textContent = view.denial ? `Denied: ${view.denial.code}: ${view.denial.message}` : '';

  const t0 = view.timeline[0]?.at ?? 0;
  byId<HTMLOListElement>('timeline').replaceChildren(
    ...view.timeline.map((e) => {
      const item = el('li');
      item.dataset['type'] = e.type;
      const stamp = el('time', `${time(e.at)} (+${e.at - t0} ms)`);
      stamp.dateTime = new Date(e.at).toISOString();
      item.append(
        stamp,
        el('strong', ` ${e.type}`),
        el('span', e.state ? ` → ${e.state}` : ''),
        el('span', e.detail ? `: ${e.detail}` : ''),
      );
      return item;
    }),
  );
  byId('timeline-empty').hidden = view.timeline.length > 0;

  byId('timing-component').textContent = ms(view.timings.componentMs);
  byId('timing-python').textContent = ms(view.timings.pythonMs);
  byId('timing-engine').textContent = ms(view.timings.engineMs);
  byId('timing-venue').textContent = ms(view.timings.venueMs);
  byId('timing-total').textContent = ms(view.timings.totalMs);
  byId('timing-waited').textContent = ms(view.timings.waitedMs ?? null);

  const s = view.slippage;
  byId('slippage').textContent = s
    ? `${signed(s.units)} ${s.unit}${Math.abs(s.units) === 1 ? '' : 's'} (${signed(s.price)} in price, ${signed(s.bps)} bps) against the ${s.reference} ${s.referencePrice}`
    : '–';
  byId('commission').textContent = view.commission === null ? '–' : String(view.commission);
  byId('filled').textContent =
    view.filledPrice === null ? '–' : `${quantity(view.filledQuantity ?? 0)} @ ${view.filledPrice}`;

  byId<HTMLTableSectionElement>('fills-body').replaceChildren(
    ...view.fills.map((f) => {
      const row = el('tr');
      row.append(
        el('td', time(f.timestamp)),
        el('td', String(f.price)),
        el('td', quantity(f.quantity)),
        el('td', String(f.commission)),
        el('td', f.liquidity),
      );
      return row;
    }),
  );
  byId('fills-empty').hidden = view.fills.length > 0;

  const errors = byId<HTMLUListElement>('errors');
  errors.replaceChildren(
    ...view.errors.map((e) => {
      const item = el('li');
      item.append(el('strong', `[${e.code}] `), el('span', e.message));
      if (e.file) {
        const link = el('button', `${e.file}${e.line ? `:${e.line}` : ''}`, 'link');
        link.type = 'button';
        link.setAttribute('aria-label', `Open ${e.file}${e.line ? ` at line ${e.line}` : ''}`);
        const file = e.file;
        const line = e.line;
        link.addEventListener('click', () => vscode.postMessage({ type: 'openLocation', file, line }));
        item.append(el('span', ' '), link);
      }
      return item;
    }),
  );
  byId('errors-section').hidden = view.errors.length === 0;
  renderRoute(view);
  renderParent(view);
  byId<HTMLUListElement>('notes').replaceChildren(...view.notes.map((n) => el('li', n)));
  byId('notes-section').hidden = view.notes.length === 0;

  byId('stdout').textContent = view.stdout === '' ? '(empty)' : view.stdout;
  byId('stderr').textContent = view.stderr === '' ? '(empty)' : view.stderr;

  renderChart(view);
}

/** A routed order: the venue chosen, every candidate priced or skipped, and why. */
function renderRoute(view: ResultView): void {
  const route = view.route;
  byId('route-section').hidden = !route;
  if (!route) return;
  byId('route-chosen').textContent = route.chosen ? `Routed to ${route.chosen} (${route.policy})` : 'Not routed';
  byId('route-reason').textContent = route.reason;
  const num = (n: number | null): string => (n === null ? '–' : quantity(n));
  byId<HTMLTableSectionElement>('route-body').replaceChildren(
    ...route.candidates.map((c) => {
      const row = el('tr');
      row.dataset['venue'] = c.venue;
      row.dataset['chosen'] = String(c.venue === route.chosen);
      row.append(
        el('td', `${c.venue}${c.venue === route.chosen ? ' ★' : ''}`),
        el('td', num(c.price), 'number'),
        el('td', num(c.quantity), 'number'),
        el('td', num(c.fee), 'number'),
        el('td', num(c.net), 'number'),
        el('td', c.coversSize === null ? '–' : c.coversSize ? 'yes' : 'no'),
        el('td', c.skipped ?? ''),
      );
      return row;
    }),
  );
}

/** A parent order and its children, as they stand (the panel follows them after the run). */
function renderParent(view: ResultView): void {
  const parent = view.parent;
  byId('parent-section').hidden = !parent;
  if (!parent) return;
  byId('parent-state').textContent = parent.state;
  byId('parent-title').textContent = parent.title;
  byId('parent-id').textContent =
    `(${parent.parentId}${parent.watermark === null ? '' : `, trail watermark ${parent.watermark}`}${parent.reason ? `: ${parent.reason}` : ''})`;
  byId('parent-emulation').textContent = parent.emulation;
  byId<HTMLTableSectionElement>('parent-body').replaceChildren(
    ...parent.children.map((c) => {
      const row = el('tr');
      row.dataset['child'] = c.id;
      row.append(
        el('td', String(c.index + 1)),
        el('td', c.role),
        el('td', c.order),
        el('td', c.state),
        el('td', quantity(c.filled), 'number'),
        el('td', c.id),
      );
      return row;
    }),
  );
  byId('parent-empty').hidden = parent.children.length > 0;
}

const KIND_LABELS: Record<ResultView['kind'], string> = {
  'test-order': ' · Test Order',
  'execute-paper': ' · Execute on Paper',
  'execute-live': ' · Execute Live',
  'debug-order': ' · Debug Order',
};

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function renderChart(view: ResultView): void {
  const host = byId('chart');
  const note = byId('chart-note');
  if (typeof LightweightCharts === 'undefined') {
    note.textContent = 'Loading the chart…';
    loadChartLibrary().then(
      () => {
        if (current) renderChart(current);
      },
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

function applyTheme(): void {
  if (!chart) return;
  const foreground = cssVar('--vscode-editor-foreground', '#cccccc');
  const grid = cssVar('--vscode-editorWidget-border', '#454545');
  chart.api.applyOptions({
    layout: {
      background: { color: 'transparent' },
      textColor: foreground,
      fontFamily: cssVar('--vscode-font-family', 'sans-serif'),
    },
    grid: { vertLines: { color: grid }, horzLines: { color: grid } },
  });
  chart.bid.applyOptions({ color: cssVar('--vscode-charts-blue', '#3794ff') });
  chart.ask.applyOptions({ color: cssVar('--vscode-charts-red', '#f14c4c') });
}

function appendQuotes(symbol: string, quotes: readonly QuotePoint[]): void {
  if (!current || current.symbol !== symbol) return;
  const last = current.quotes[current.quotes.length - 1]?.time ?? -Infinity;
  const fresh = quotes.filter((q) => q.time > last);
  if (fresh.length === 0) return;
  current = { ...current, quotes: [...current.quotes, ...fresh].slice(-600) };
  vscode.setState({ result: current });
  renderChart(current);
}

/** Once the result is on screen (the frame after it was drawn): how long since the command, kept with the result. */
function measureWaited(requestedAt: number): void {
  requestAnimationFrame(() =>
    setTimeout(() => {
      if (!current || current.requestedAt !== requestedAt) return;
      const waitedMs = Math.max(0, Date.now() - requestedAt);
      current = { ...current, timings: { ...current.timings, waitedMs } };
      vscode.setState({ result: current });
      byId('timing-waited').textContent = ms(waitedMs);
    }, 0),
  );
}

function onNotification(message: HostNotification): void {
  switch (message.type) {
    case 'result': {
      const previous = current;
      current = message.result;
      // A later event of the same run (a fill, a cancel) keeps what the user waited for its first result.
      if (
        current.requestedAt !== undefined &&
        previous?.requestedAt === current.requestedAt &&
        previous.timings.waitedMs != null
      )
        current = { ...current, timings: { ...current.timings, waitedMs: previous.timings.waitedMs } };
      vscode.setState({ result: current });
      render(current);
      // Only where the user is already in the panel (Run again): the editor keeps the keyboard after a run it
      // started (the status is announced by its live region either way).
      if (document.hasFocus()) byId('status').focus();
      if (current.requestedAt !== undefined && current.timings.waitedMs == null) measureWaited(current.requestedAt);
      break;
    }
    case 'running': {
      const button = byId<HTMLButtonElement>('run-again');
      button.disabled = message.running;
      button.setAttribute('aria-busy', String(message.running));
      byId('running').textContent = message.running ? 'Running…' : '';
      // A first run opens the panel before its result exists: say that it runs rather than "No result yet".
      byId('first-run').hidden = !(message.running && current === null);
      byId('empty').hidden = current !== null || message.running;
      break;
    }
    case 'quotes':
      appendQuotes(message.symbol, message.quotes);
      break;
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = parseHostNotification(event.data);
  if (message) onNotification(message);
});
byId('run-again').addEventListener('click', () => vscode.postMessage({ type: 'runAgain' }));
// VS Code swaps the body's theme class when the colour theme changes.
new MutationObserver(() => applyTheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
render(current);
vscode.postMessage({ type: 'ready' });
