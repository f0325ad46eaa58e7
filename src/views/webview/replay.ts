/// <reference lib="dom" />
/**
 * The replay panel's script (bundled by esbuild into media/replay.js, IIFE, browser). It renders a
 * ReplayView with DOM calls only (never HTML strings from data): the report's figures, the equity
 * curve, the price with the fills as markers, and the orders and fills tables. It keeps the view with
 * `setState` and talks to the host only through the zod-checked protocol.
 */
import type * as Charts from 'lightweight-charts' with { 'resolution-mode': 'import' };
import {
  parseReplayNotification,
  parseReplayPanelState,
  type ReplayCommand,
  type ReplayNotification,
  type ReplayPanelState,
  type ReplayView,
} from '../replayProtocol';
import { cssVar, el, elementsOf, onThemeChange, themedChartOptions, utcTime } from './dom';

interface VsCodeApi {
  postMessage(message: ReplayCommand): void;
  getState(): unknown;
  setState(state: ReplayPanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
declare const LightweightCharts: typeof Charts | undefined;

const vscode = acquireVsCodeApi();
let current: ReplayView | null = parseReplayPanelState(vscode.getState())?.replay ?? null;
let charts:
  | {
      equity: Charts.IChartApi;
      equitySeries: Charts.ISeriesApi<'Area'>;
      price: Charts.IChartApi;
      priceSeries: Charts.ISeriesApi<'Candlestick'> | Charts.ISeriesApi<'Line'>;
      markers: Charts.ISeriesMarkersPluginApi<Charts.Time>;
      kind: ReplayView['kind'];
    }
  | undefined;

const byId = elementsOf('replay');

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });
const num = (n: number): string => NUMBER.format(n);
const money = (n: number): string => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const orDash = (n: number | null, f: (n: number) => string = num): string => (n === null ? '–' : f(n));

/** A figure with its raw value kept in data-value (what the e2e test reads). */
function figure(id: string, text: string, raw: number | string | null): void {
  const element = byId(id);
  element.textContent = text;
  element.dataset['value'] = raw === null ? '' : String(raw);
}

function counts(list: HTMLElement, entries: Record<string, number>, empty: string): void {
  const rows = Object.entries(entries).sort((a, b) => b[1] - a[1]);
  list.replaceChildren(
    ...(rows.length === 0
      ? [el('li', empty, 'meta')]
      : rows.map(([code, n]) => {
          const item = el('li');
          item.dataset['code'] = code;
          item.append(el('strong', code), el('span', `: ${num(n)}`));
          return item;
        })),
  );
}

function render(view: ReplayView | null): void {
  byId('empty').hidden = view !== null;
  byId('content').hidden = view === null;
  if (!view) return;
  const status = byId('status');
  status.textContent = view.status;
  status.dataset['status'] = view.status;
  byId('headline').textContent = view.headline;
  byId('summary').textContent = view.summary;
  byId('component').textContent = `${view.file}${view.className ? ` (${view.className})` : ''}`;
  byId('data').textContent = `${view.dataFile} · ${view.from} → ${view.to}`;
  byId('ran-at').textContent = utcTime(view.ranAt);
  const params = Object.entries(view.parameters);
  byId('parameters').textContent =
    params.length === 0 ? 'no parameters' : params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');

  byId('limits').textContent = view.limits ?? 'not recorded (a replay from an older version)';

  const f = view.figures;
  const realized = Object.entries(f.realized);
  figure(
    'realized',
    realized.length === 0 ? `0.00 ${f.curveCurrency}` : realized.map(([c, v]) => `${money(v)} ${c}`).join(', '),
    realized.length === 0 ? 0 : (realized[0]?.[1] ?? 0),
  );
  figure('unrealized', `${money(f.unrealized)} ${f.currency}`, f.unrealized);
  figure('commission', `${money(f.commission)} ${f.curveCurrency}`, f.commission);
  figure('pnl', `${money(f.curveFinal)} ${f.curveCurrency}`, f.curveFinal);
  figure('equity', `${money(f.startingCash)} → ${money(f.equity)} ${f.currency}`, f.equity);
  figure(
    'drawdown',
    `${money(f.maxDrawdown)} ${f.curveCurrency}${f.maxDrawdownPercent === null ? '' : ` (${f.maxDrawdownPercent.toFixed(3)}%)`}`,
    f.maxDrawdown,
  );
  figure('turnover', `${money(f.turnover)} ${f.curveCurrency}`, f.turnover);
  const s = f.slippage;
  figure(
    'slippage',
    s.orders === 0
      ? '– (no filled order)'
      : `mean ${orDash(s.meanUnits)} ${s.unit}s (${orDash(s.meanBps)} bps) over ${num(s.orders)} orders; worst ${orDash(s.worstUnits)}, best ${orDash(s.bestUnits)}`,
    s.meanUnits,
  );
  figure('slippage-cost', `${money(s.cost)} ${f.curveCurrency}`, s.cost);
  const o = f.orders;
  figure('orders-produced', num(o.produced), o.produced);
  figure(
    'orders-no-order',
    o.noOrder === undefined
      ? '–'
      : `${num(o.noOrder)} record${o.noOrder === 1 ? '' : 's'} (the component returned None)`,
    o.noOrder ?? null,
  );
  figure('orders-sent', num(o.sent), o.sent);
  figure('orders-filled', num(o.filled), o.filled);
  figure('orders-denied', num(o.denied), o.denied);
  figure('orders-invalid', num(o.invalid), o.invalid);
  figure('orders-other', `${num(o.rejected)} / ${num(o.cancelled)} / ${num(o.expired)} / ${num(o.open)}`, o.open);
  figure('fills', num(f.fills), f.fills);
  const p = f.parents;
  figure(
    'orders-parents',
    p === undefined
      ? '–'
      : p.started === 0
        ? 'none'
        : `${num(p.started)} started (${num(p.children)} children): ${num(p.done)} done, ${num(p.cancelled)} cancelled, ${num(p.failed)} failed`,
    p?.started ?? null,
  );
  const positions = Object.entries(f.positions);
  figure(
    'positions',
    positions.length === 0 ? 'flat' : positions.map(([sym, q]) => `${sym} ${num(q)}`).join(', '),
    null,
  );
  counts(byId('denied-list'), f.deniedByCode, 'none');
  counts(byId('rejected-list'), f.rejectedByReason, 'none');

  byId('errors-section').hidden = view.errorCount === 0;
  // A replay that stopped (at these errors, when too many in a row failed alike) did not go on.
  byId('errors-heading').textContent =
    `Component errors (${num(view.errorCount)}${view.status === 'COMPLETED' ? '; the replay went on' : ''})`;
  byId('errors').replaceChildren(
    ...view.errors.map((e) => {
      const item = el('li');
      item.append(
        el('strong', `#${e.index} ${e.time} ${e.code}${e.line === null ? '' : ` (line ${e.line})`}: `),
        el('span', e.message.split('\n')[0] ?? ''),
      );
      return item;
    }),
  );

  byId('orders-note').textContent =
    view.ordersTotal > view.orders.length
      ? `The first ${num(view.orders.length)} of ${num(view.ordersTotal)} orders.`
      : `${num(view.ordersTotal)} order${view.ordersTotal === 1 ? '' : 's'}.`;
  byId('orders-body').replaceChildren(
    ...view.orders.map((r) => {
      const row = el('tr');
      row.dataset['state'] = r.state;
      row.append(
        el('td', `#${r.index}`, 'number'),
        el('td', utcTime(r.time)),
        el('td', r.side.toUpperCase()),
        el('td', r.type),
        el('td', num(r.quantity), 'number'),
        el('td', orDash(r.price), 'number'),
        el('td', r.state),
        el('td', num(r.filledQuantity), 'number'),
        el('td', orDash(r.averagePrice), 'number'),
        el('td', r.reason ?? ''),
      );
      return row;
    }),
  );
  byId('fills-note').textContent =
    view.fillsTotal > view.fills.length
      ? `The first ${num(view.fills.length)} of ${num(view.fillsTotal)} fills (all of them are in the exported files).`
      : `${num(view.fillsTotal)} fill${view.fillsTotal === 1 ? '' : 's'}.`;
  byId('fills-body').replaceChildren(
    ...view.fills.map((r) => {
      const row = el('tr');
      row.append(
        el('td', `#${r.index}`, 'number'),
        el('td', utcTime(r.time)),
        el('td', r.side.toUpperCase()),
        el('td', num(r.quantity), 'number'),
        el('td', num(r.price), 'number'),
        el('td', num(r.commission), 'number'),
        el('td', r.liquidity),
        el('td', r.clientOrderId),
      );
      return row;
    }),
  );
  byId<HTMLButtonElement>('export-csv').disabled = !view.exports.csv;
  byId<HTMLButtonElement>('export-parquet').disabled = !view.exports.parquet;
  byId('audit').textContent = view.auditDir ? `Audit log: ${view.auditDir}` : '';
  renderCharts(view);
}

function precisionOf(values: readonly number[]): number {
  let decimals = 2;
  for (const v of values.slice(0, 200)) {
    const text = String(v);
    const dot = text.indexOf('.');
    if (dot >= 0 && !text.includes('e')) decimals = Math.max(decimals, text.length - dot - 1);
  }
  return Math.min(decimals, 8);
}

function renderCharts(view: ReplayView): void {
  const note = byId('chart-note');
  if (typeof LightweightCharts === 'undefined') {
    note.textContent = 'The chart library did not load.';
    return;
  }
  const L = LightweightCharts;
  const options = { autoSize: true, layout: { attributionLogo: false }, timeScale: { timeVisible: true } };
  if (!charts || charts.kind !== view.kind) {
    charts?.equity.remove();
    charts?.price.remove();
    const equity = L.createChart(byId('equity-chart'), options);
    const price = L.createChart(byId('price-chart'), options);
    const equitySeries = equity.addSeries(L.AreaSeries, { lineWidth: 2 });
    const priceSeries =
      view.kind === 'candles'
        ? price.addSeries(L.CandlestickSeries, {})
        : price.addSeries(L.LineSeries, { lineWidth: 1 });
    charts = {
      equity,
      equitySeries,
      price,
      priceSeries,
      markers: L.createSeriesMarkers(priceSeries, []),
      kind: view.kind,
    };
  }
  applyTheme();
  const c = view.chart;
  const at = (t: number): Charts.UTCTimestamp => t as Charts.UTCTimestamp;
  charts.equitySeries.setData(c.equity.map((p) => ({ time: at(p.time), value: p.value })));
  const prices =
    c.price.kind === 'candles' ? c.price.bars.flatMap((b) => [b.open, b.close]) : c.price.points.map((p) => p.value);
  const precision = precisionOf(prices);
  charts.priceSeries.applyOptions({ priceFormat: { type: 'price', precision, minMove: 10 ** -precision } });
  if (c.price.kind === 'candles')
    (charts.priceSeries as Charts.ISeriesApi<'Candlestick'>).setData(
      c.price.bars.map((b) => ({ time: at(b.time), open: b.open, high: b.high, low: b.low, close: b.close })),
    );
  else
    (charts.priceSeries as Charts.ISeriesApi<'Line'>).setData(
      c.price.points.map((p) => ({ time: at(p.time), value: p.value })),
    );
  const buy = cssVar('--vscode-charts-green', '#388a34');
  const sell = cssVar('--vscode-charts-red', '#f14c4c');
  charts.markers.setMarkers(
    c.markers.map((m) => ({
      time: at(m.time),
      position: m.side === 'buy' ? ('belowBar' as const) : ('aboveBar' as const),
      shape: m.side === 'buy' ? ('arrowUp' as const) : ('arrowDown' as const),
      color: m.side === 'buy' ? buy : sell,
      // A letter keeps a busy chart readable; quantities and prices are in the tables below.
      text: `${m.side === 'buy' ? 'B' : 'S'}${m.fills > 1 ? `×${m.fills}` : ''}`,
    })),
  );
  charts.equity.timeScale().fitContent();
  charts.price.timeScale().fitContent();
  byId('equity-label').textContent = c.equity.length === 0 ? 'No record ran.' : c.equityLabel;
  note.textContent = `${c.bucket === 1 ? 'Every record' : `One point per ${num(c.bucket)} records`}; ${num(c.markers.length)} fill marker${c.markers.length === 1 ? '' : 's'} (buys below, sells above the bar)`;
}

function applyTheme(): void {
  if (!charts) return;
  const options = themedChartOptions();
  for (const chart of [charts.equity, charts.price]) chart.applyOptions(options);
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  charts.equitySeries.applyOptions({ lineColor: blue, topColor: `${blue}55`, bottomColor: `${blue}05` });
  if (charts.kind === 'ticks') (charts.priceSeries as Charts.ISeriesApi<'Line'>).applyOptions({ color: blue });
}

function onNotification(message: ReplayNotification): void {
  switch (message.type) {
    case 'replay':
      current = message.replay;
      vscode.setState({ replay: current });
      render(current);
      // Only where the user is already in the panel (Run again): the editor keeps the keyboard after a run it
      // started (the status is announced by its live region either way).
      if (document.hasFocus()) byId('status').focus();
      break;
    case 'running': {
      const button = byId<HTMLButtonElement>('replay-again');
      button.disabled = message.running;
      byId('running').textContent = message.running ? 'Replaying…' : '';
      break;
    }
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = parseReplayNotification(event.data);
  if (message) onNotification(message);
});
// Disabled at the click, until the host says no run is going: a double-click asks for one run.
byId<HTMLButtonElement>('replay-again').addEventListener('click', (event) => {
  const button = event.currentTarget as HTMLButtonElement;
  if (button.disabled) return;
  button.disabled = true;
  vscode.postMessage({ type: 'replayAgain' });
});
byId('export-csv').addEventListener('click', () => vscode.postMessage({ type: 'exportFills', format: 'csv' }));
byId('export-parquet').addEventListener('click', () => vscode.postMessage({ type: 'exportFills', format: 'parquet' }));
onThemeChange(applyTheme);
render(current);
vscode.postMessage({ type: 'ready' });
