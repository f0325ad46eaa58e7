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

// A part of the panel is written only when what it shows changed: an unchanged part is neither laid out nor
// painted again (a run of the same component changes a few lines of the panel, not all of it).
function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
function setHidden(element: HTMLElement, hidden: boolean): void {
  if (element.hidden !== hidden) element.hidden = hidden;
}
function setData(element: HTMLElement, key: string, text: string): void {
  if (element.dataset[key] !== text) element.dataset[key] = text;
}
/** What each list was last drawn from (as JSON), so a list drawn from the same rows is left as it is. */
const listSources = new Map<string, string>();
function replaceList(id: string, source: unknown, rows: () => Node[]): void {
  const key = JSON.stringify(source);
  if (listSources.get(id) === key) return;
  listSources.set(id, key);
  byId(id).replaceChildren(...rows());
}

/** Draws the view's text (the chart follows in `settle`, once this is on screen). */
function render(view: ResultView | null): void {
  setHidden(byId('empty'), view !== null);
  setHidden(byId('content'), view === null);
  if (view) setHidden(byId('first-run'), true);
  if (!view) return;

  const status = byId('status');
  setText(status, view.status);
  setData(status, 'ok', String(view.ok));
  // What was traded and what happened, then the engine's sentence about it.
  const headline = byId('headline');
  setText(headline, view.headline ?? '');
  setHidden(headline, !view.headline);
  setData(headline, 'live', String(view.venue.environment === 'live'));
  setText(byId('summary'), view.summary);
  setText(byId('component'), `${view.file}${view.className ? ` (${view.className})` : ''}`);
  const venue = byId('venue');
  const live = view.venue.environment === 'live';
  // A live account is never mistaken for a paper one: marked in words and in colour.
  setText(
    venue,
    `${live ? 'LIVE ACCOUNT · ' : ''}${view.venue.id} (${view.venue.environment})${KIND_LABELS[view.kind]}${view.scratch ? ' · scratch copy: the paper account is unchanged' : ''}`,
  );
  setData(venue, 'live', String(live));
  setText(byId('ran-at'), time(view.ranAt));

  setText(byId('order-returned'), view.orderReturned ?? '(nothing returned)');
  setText(byId('order-normalized'), view.orderNormalized ?? '(no valid order)');

  replaceList('risk-body', view.risk, () =>
    view.risk.map((r) => {
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
  setHidden(byId('risk-empty'), view.risk.length > 0);
  setText(byId('denial'), view.denial ? `Denied: ${view.denial.code}: ${view.denial.message}` : '');

  const t0 = view.timeline[0]?.at ?? 0;
  replaceList('timeline', view.timeline, () =>
    view.timeline.map((e) => {
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
  setHidden(byId('timeline-empty'), view.timeline.length > 0);

  setText(byId('timing-component'), ms(view.timings.componentMs));
  setText(byId('timing-python'), ms(view.timings.pythonMs));
  setText(byId('timing-engine'), ms(view.timings.engineMs));
  setText(byId('timing-venue'), ms(view.timings.venueMs));
  setText(byId('timing-total'), ms(view.timings.totalMs));
  setText(byId('timing-waited'), ms(view.timings.waitedMs ?? null));

  const s = view.slippage;
  setText(
    byId('slippage'),
    s
      ? `${signed(s.units)} ${s.unit}${Math.abs(s.units) === 1 ? '' : 's'} (${signed(s.price)} in price, ${signed(s.bps)} bps) against the ${s.reference} ${s.referencePrice}`
      : '–',
  );
  setText(byId('commission'), view.commission === null ? '–' : String(view.commission));
  setText(
    byId('filled'),
    view.filledPrice === null ? '–' : `${quantity(view.filledQuantity ?? 0)} @ ${view.filledPrice}`,
  );

  replaceList('fills-body', view.fills, () =>
    view.fills.map((f) => {
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
  setHidden(byId('fills-empty'), view.fills.length > 0);

  replaceList('errors', view.errors, () =>
    view.errors.map((e) => {
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
  setHidden(byId('errors-section'), view.errors.length === 0);
  renderRoute(view);
  renderParent(view);
  replaceList('notes', view.notes, () => view.notes.map((n) => el('li', n)));
  setHidden(byId('notes-section'), view.notes.length === 0);

  setText(byId('stdout'), view.stdout === '' ? '(empty)' : view.stdout);
  setText(byId('stderr'), view.stderr === '' ? '(empty)' : view.stderr);
}

/** A routed order: the venue chosen, every candidate priced or skipped, and why. */
function renderRoute(view: ResultView): void {
  const route = view.route;
  setHidden(byId('route-section'), !route);
  if (!route) return;
  setText(byId('route-chosen'), route.chosen ? `Routed to ${route.chosen} (${route.policy})` : 'Not routed');
  setText(byId('route-reason'), route.reason);
  const num = (n: number | null): string => (n === null ? '–' : quantity(n));
  replaceList('route-body', route, () =>
    route.candidates.map((c) => {
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
  setHidden(byId('parent-section'), !parent);
  if (!parent) return;
  setText(byId('parent-state'), parent.state);
  setText(byId('parent-title'), parent.title);
  setText(
    byId('parent-id'),
    `(${parent.parentId}${parent.watermark === null ? '' : `, trail watermark ${parent.watermark}`}${parent.reason ? `: ${parent.reason}` : ''})`,
  );
  setText(byId('parent-emulation'), parent.emulation);
  replaceList('parent-body', parent.children, () =>
    parent.children.map((c) => {
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
  setHidden(byId('parent-empty'), parent.children.length > 0);
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
  settleAfterPaint();
}

/**
 * The chart and what the user waited come after the frame that shows a result's text: the chart's canvases
 * (tens of ms to redraw in a software-composited editor) are then drawn in the frame after, instead of holding
 * back the text the trader reads first. One pending settle serves every change made before it runs.
 */
let settling = false;
/** The command time of a result received whose wait is not measured yet (a restored one is not measured again). */
let unmeasured: number | undefined;
/** The run time of a result received that the host has not been told is on screen. */
let untold: number | undefined;
function settleAfterPaint(): void {
  if (settling) return;
  settling = true;
  requestAnimationFrame(() => {
    const painted = current;
    // The host hears now, as this frame is drawn: what it shows next (the run's notification) can only be laid
    // out in a later frame, not in this one.
    if (painted && untold === painted.ranAt) {
      untold = undefined;
      vscode.postMessage({ type: 'drawn', ranAt: painted.ranAt });
    }
    setTimeout(() => settle(painted), 0);
  });
}

/** Once `painted` is on screen: how long since its command (kept with the result), then the chart. */
function settle(painted: ResultView | null): void {
  settling = false;
  // A result that came after the frame was drawn is settled after its own frame.
  if (current !== painted) {
    settleAfterPaint();
    return;
  }
  if (!current) return;
  if (current.requestedAt !== undefined && current.requestedAt === unmeasured && current.timings.waitedMs == null) {
    unmeasured = undefined;
    const waitedMs = Math.max(0, Date.now() - current.requestedAt);
    current = { ...current, timings: { ...current.timings, waitedMs } };
    vscode.setState({ result: current });
    setText(byId('timing-waited'), ms(waitedMs));
  }
  renderChart(current);
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
      unmeasured = current.timings.waitedMs == null ? current.requestedAt : undefined;
      untold = current.ranAt;
      settleAfterPaint();
      break;
    }
    case 'running': {
      const button = byId<HTMLButtonElement>('run-again');
      button.disabled = message.running;
      button.setAttribute('aria-busy', String(message.running));
      setText(byId('running'), message.running ? 'Running…' : '');
      // A first run opens the panel before its result exists: say that it runs rather than "No result yet".
      setHidden(byId('first-run'), !(message.running && current === null));
      setHidden(byId('empty'), current !== null || message.running);
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
if (current) settleAfterPaint();
vscode.postMessage({ type: 'ready' });
