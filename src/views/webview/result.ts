/// <reference lib="dom" />
/**
 * The result panel's script (bundled by esbuild into media/result.js, IIFE, browser). It renders a
 * ResultView with DOM calls only (never HTML strings from data), keeps it with `setState` so a
 * reload shows it again, and talks to the host only through the zod-checked protocol.
 */
import {
  parseHostNotification,
  parsePanelState,
  type HostNotification,
  type PanelState,
  type QuotePoint,
  type ResultView,
  type WebviewCommand,
} from '../protocol';
import { el, elementsOf, initialNotifications, markPainted, onThemeChange, utcTime, wireRunAgain } from './dom';
import { applyTheme, renderChart } from './resultChart';

interface VsCodeApi {
  postMessage(message: WebviewCommand): void;
  getState(): unknown;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
let current: ResultView | null = parsePanelState(vscode.getState())?.result ?? null;
const byId = elementsOf('result');

const ms = (v: number | null): string => (v === null ? '–' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
const signed = (n: number): string => (n > 0 ? `+${n}` : `${n}`);
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
  setText(byId('ran-at'), utcTime(view.ranAt));

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
      const stamp = el('time', `${utcTime(e.at)} (+${e.at - t0} ms)`);
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
        el('td', utcTime(f.timestamp)),
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
  markPainted(`${byId('headline').textContent ?? ''}\n${byId('ran-at').textContent ?? ''}`);
  if (current.requestedAt !== undefined && current.requestedAt === unmeasured && current.timings.waitedMs == null) {
    unmeasured = undefined;
    const waitedMs = Math.max(0, Date.now() - current.requestedAt);
    current = { ...current, timings: { ...current.timings, waitedMs } };
    vscode.setState({ result: current });
    setText(byId('timing-waited'), ms(waitedMs));
  }
  renderChart(current, redrawChart);
}

/** Once the chart library has loaded: the chart of the result shown now. */
function redrawChart(): void {
  if (current) renderChart(current, redrawChart);
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
// Disabled at the click, until the host says no run is going: a double-click asks for one run.
wireRunAgain(byId<HTMLButtonElement>('run-again'), () => vscode.postMessage({ type: 'runAgain' }));
onThemeChange(applyTheme);
render(current);
if (current) settleAfterPaint();
// A view the host had when it made the page (a first run's result) is drawn now, not after a "ready" round trip.
for (const initial of initialNotifications()) {
  const message = parseHostNotification(initial);
  if (message) onNotification(message);
}
vscode.postMessage({ type: 'ready' });
