/// <reference lib="dom" />
/**
 * The Compare Venues panel's script (bundled by esbuild into media/compare.js, IIFE, browser). It renders
 * a CompareView with DOM calls only (never HTML strings from data), keeps it with `setState` so a reload
 * shows it again, and talks to the host only through the zod-checked protocol.
 */
import type * as Charts from 'lightweight-charts' with { 'resolution-mode': 'import' };
import {
  parseCompareNotification,
  parseComparePanelState,
  type CompareColumn,
  type CompareCommand,
  type CompareNotification,
  type ComparePanelState,
  type CompareView,
} from '../compareProtocol';
import { compareChartOf } from '../compareChart';
import { cssVar, el, elementsOf, onThemeChange, themedChartOptions, utcTime, wireRunAgain } from './dom';

interface VsCodeApi {
  postMessage(message: CompareCommand): void;
  getState(): unknown;
  setState(state: ComparePanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
/** The standalone lightweight-charts build, loaded by its own script tag (absent if it failed to load). */
declare const LightweightCharts: typeof Charts | undefined;

const vscode = acquireVsCodeApi();
let current: CompareView | null = parseComparePanelState(vscode.getState())?.view ?? null;
let chart:
  | {
      api: Charts.IChartApi;
      bid: Charts.ISeriesApi<'Line'>;
      ask: Charts.ISeriesApi<'Line'>;
      fill: Charts.ISeriesApi<'Line'>;
      markers: Charts.ISeriesMarkersPluginApi<Charts.Time>;
      venues: Map<number, string>;
    }
  | undefined;

const byId = elementsOf('compare');

const QUANTITY = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });
const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const dash = (v: string | null): string => v ?? '–';

/** The rows of the table, each a label and how one venue's cell reads (some only for a routed or a parent order). */
const ROWS: Array<[string, (c: CompareColumn) => string | HTMLElement, ((v: CompareView) => boolean)?]> = [
  [
    'Router',
    (c) => {
      if (!c.route) return '–';
      const cell = el('span', c.route.role, 'route-role');
      cell.dataset['role'] = c.route.role;
      if (c.route.reason) cell.append(el('span', c.route.reason, 'reason'));
      return cell;
    },
    (v) => v.route !== null,
  ],
  [
    'Outcome',
    (c) => {
      const cell = el('span', c.verdict.replace('_', ' '), 'verdict');
      cell.dataset['verdict'] = c.verdict;
      if (c.code || c.reason) cell.append(el('span', `${c.code ? `${c.code}: ` : ''}${c.reason ?? ''}`, 'reason'));
      return cell;
    },
  ],
  ['Quote at decision', (c) => (c.bid === null || c.ask === null ? '–' : `${c.bid} / ${c.ask}`)],
  ['Order sent', (c) => dash(c.order), (v) => v.columns.every((c) => c.parent === null)],
  [
    'Parent',
    (c) => {
      if (!c.parent) return '–';
      const cell = el('span', `${c.parent.state}, ${c.parent.children} children`, 'parent-state');
      cell.append(el('span', c.parent.description, 'reason'), el('span', c.parent.emulation, 'reason'));
      return cell;
    },
    (v) => v.columns.some((c) => c.parent !== null),
  ],
  ['Fill', (c) => (c.fillPrice === null ? '–' : `${QUANTITY.format(c.fillQuantity ?? 0)} @ ${c.fillPrice}`)],
  ['Slippage', (c) => (c.slippage === null ? '–' : `${c.slippage}, ${c.slippageBps ?? ''}`)],
  ['Fees', (c) => (c.fees === null ? '–' : QUANTITY.format(c.fees))],
  ['Submit → answer', (c) => ms(c.submitMs)],
  ['Submit → ack', (c) => ms(c.ackMs)],
  ['Submit → fill', (c) => ms(c.fillMs)],
  ['Against the best (net of fees)', (c) => dash(c.versusBest)],
  ['Client order id', (c) => dash(c.clientOrderId)],
  ['Notes', (c) => (c.notes.length === 0 ? '–' : c.notes.join('; '))],
];

function render(view: CompareView | null): void {
  byId('empty').hidden = view !== null;
  byId('content').hidden = view === null;
  if (!view) return;
  const status = byId('status');
  status.textContent = view.ok ? (view.best ? `BEST: ${view.best}` : 'DONE') : 'NOT TRADED';
  status.dataset['ok'] = String(view.ok);
  byId('headline').textContent = view.order ?? '';
  byId('summary').textContent = view.summary;
  byId('component').textContent = `${view.file}${view.className ? ` (${view.className})` : ''}`;
  byId('ran-at').textContent = utcTime(view.ranAt);
  byId('timing').textContent = `Python ${ms(view.timings.pythonMs)}, total ${ms(view.timings.totalMs)}`;

  const head = byId<HTMLTableRowElement>('compare-head');
  head.replaceChildren(
    el('th'),
    ...view.columns.map((c) => {
      const th = el('th', `${c.id} (${c.environment})${c.best ? ' ★ best' : ''}`);
      th.title = c.displayName;
      th.scope = 'col';
      th.dataset['venue'] = c.id;
      th.dataset['best'] = String(c.best);
      return th;
    }),
  );
  byId<HTMLTableSectionElement>('compare-body').replaceChildren(
    ...ROWS.filter(([, , show]) => show === undefined || show(view)).map(([label, cell]) => {
      const row = el('tr');
      const th = el('th', label);
      th.scope = 'row';
      row.append(th);
      for (const c of view.columns) {
        const td = el('td');
        td.dataset['venue'] = c.id;
        td.dataset['best'] = String(c.best);
        const content = cell(c);
        if (typeof content === 'string') td.textContent = content;
        else td.append(content);
        row.append(td);
      }
      return row;
    }),
  );

  byId<HTMLUListElement>('errors').replaceChildren(
    ...view.errors.map((e) => {
      const item = el('li');
      item.append(el('strong', `[${e.code}] `), el('span', e.message));
      if (e.file) {
        const link = el('button', `${e.file}${e.line ? `:${e.line}` : ''}`, 'link');
        link.type = 'button';
        const file = e.file;
        const line = e.line;
        link.addEventListener('click', () => vscode.postMessage({ type: 'openLocation', file, line }));
        item.append(el('span', ' '), link);
      }
      return item;
    }),
  );
  byId('errors-section').hidden = view.errors.length === 0;
  const notes = view.route === null ? view.notes : [view.route, ...view.notes];
  byId<HTMLUListElement>('notes').replaceChildren(...notes.map((n) => el('li', n)));
  byId('notes-section').hidden = notes.length === 0;
  byId('stdout').textContent = view.stdout === '' ? '(empty)' : view.stdout;
  byId('stderr').textContent = view.stderr === '' ? '(empty)' : view.stderr;
  renderChart(view);
}

function renderChart(view: CompareView): void {
  const note = byId('chart-note');
  if (typeof LightweightCharts === 'undefined') {
    note.textContent = 'The chart library did not load.';
    return;
  }
  const data = compareChartOf(view);
  note.textContent =
    data.ask.length === 0 && data.fills.length === 0
      ? 'No venue showed a quote or filled.'
      : `${view.symbol ?? ''}: ${data.fills.length} fill(s) against ${data.ask.length} venue quote(s); one column per venue`;
  if (!chart) {
    const venues = new Map<number, string>();
    // The axis is the venues, not time: each venue has a slot (1, 2, …) named by its id.
    const label = (t: Charts.Time): string => venues.get(Number(t)) ?? '';
    const api = LightweightCharts.createChart(byId('chart'), {
      autoSize: true,
      layout: { attributionLogo: false },
      localization: { timeFormatter: label },
      timeScale: { tickMarkFormatter: label, fixLeftEdge: true, fixRightEdge: true, minBarSpacing: 40 },
      handleScroll: false,
      handleScale: false,
    });
    const points = { lineVisible: false, pointMarkersVisible: true, lastValueVisible: false } as const;
    const bid = api.addSeries(LightweightCharts.LineSeries, { ...points, title: 'bid', pointMarkersRadius: 4 });
    const ask = api.addSeries(LightweightCharts.LineSeries, { ...points, title: 'ask', pointMarkersRadius: 4 });
    const fill = api.addSeries(LightweightCharts.LineSeries, { ...points, title: 'fill', pointMarkersRadius: 6 });
    chart = { api, bid, ask, fill, markers: LightweightCharts.createSeriesMarkers(fill, []), venues };
  }
  applyTheme();
  chart.venues.clear();
  for (const s of data.slots) chart.venues.set(s.slot, s.venue);
  const priceFormat = { type: 'price' as const, precision: data.precision, minMove: 10 ** -data.precision };
  const at = (p: { time: number; value: number }): { time: Charts.UTCTimestamp; value: number } => ({
    time: p.time as Charts.UTCTimestamp,
    value: p.value,
  });
  for (const series of [chart.bid, chart.ask, chart.fill]) series.applyOptions({ priceFormat });
  chart.bid.setData(data.bid.map(at));
  chart.ask.setData(data.ask.map(at));
  chart.fill.setData(data.fills.map(at));
  chart.markers.setMarkers(
    data.fills.map((f) => ({
      time: f.time as Charts.UTCTimestamp,
      position: 'atPriceMiddle' as const,
      price: f.value,
      shape: view.side === 'sell' ? ('arrowDown' as const) : ('arrowUp' as const),
      color: cssVar('--vscode-charts-green', '#388a34'),
      text: f.text,
    })),
  );
  chart.api.timeScale().fitContent();
}

function applyTheme(): void {
  if (!chart) return;
  chart.api.applyOptions(themedChartOptions());
  chart.bid.applyOptions({ color: cssVar('--vscode-charts-blue', '#3794ff') });
  chart.ask.applyOptions({ color: cssVar('--vscode-charts-red', '#f14c4c') });
  chart.fill.applyOptions({ color: cssVar('--vscode-charts-green', '#388a34') });
}

function onNotification(message: CompareNotification): void {
  switch (message.type) {
    case 'compare':
      current = message.view;
      vscode.setState({ view: current });
      render(current);
      // Only where the user is already in the panel (Run again): the editor keeps the keyboard after a run it
      // started (the status is announced by its live region either way).
      if (document.hasFocus()) byId('status').focus();
      break;
    case 'running': {
      const button = byId<HTMLButtonElement>('run-again');
      button.disabled = message.running;
      button.setAttribute('aria-busy', String(message.running));
      byId('running').textContent = message.running ? 'Comparing…' : '';
      break;
    }
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = parseCompareNotification(event.data);
  if (message) onNotification(message);
});
// Disabled at the click, until the host says no run is going: a double-click asks for one run.
wireRunAgain(byId<HTMLButtonElement>('run-again'), () => vscode.postMessage({ type: 'runAgain' }));
onThemeChange(applyTheme);
render(current);
vscode.postMessage({ type: 'ready' });
