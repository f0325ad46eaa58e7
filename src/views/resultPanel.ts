/**
 * The Test Order / Execute on Paper result panel: one webview panel, revealed with each new result. Its
 * script (media/result.js) and the chart library (media/vendor/, loaded by the script after the first
 * result is drawn) are the only scripts it may run; messages are parsed with the shared zod protocol (the
 * panel's life: webviewPanelHost.ts). While it is on screen it samples the venue's quote for the chart.
 */
import type * as vscode from 'vscode';
import { RESULT_PANEL_TYPE } from '../constants';
import {
  parsePanelState,
  parseWebviewCommand,
  type HostNotification,
  type QuotePoint,
  type ResultView,
  type WebviewCommand,
} from './protocol';
import { WebviewPanelHost, type PageParts } from './webviewPanelHost';

export interface ResultPanelHost {
  /** Runs the same component again the same way (Test Order or Execute on Paper); settles when that run has ended. */
  runAgain(view: ResultView): PromiseLike<unknown> | void;
  /** The current quote of a symbol at the result's venue, for the live chart; undefined when unavailable. */
  sampleQuote(venue: string, symbol: string): Promise<QuotePoint | undefined>;
}

/** How often the chart takes a quote while the panel is visible (the paper feed changes every 250 ms). */
const QUOTE_SAMPLE_MS = 1000;
/** The longest `onScreen` waits for the page to say a result is on screen. */
const DRAWN_WAIT_MS = 250;

export class ResultPanel extends WebviewPanelHost<ResultView, HostNotification, WebviewCommand> {
  /** A warm Test Order takes a few ms: "Running…" would flash on and off in the frame before its result. */
  protected override readonly runningShownAfterMs = 100;
  /** result.ts draws the view written into its page (a first run's result) before it says it is ready. */
  protected override readonly embedsView = true;
  private sampler: NodeJS.Timeout | undefined;
  private sampling = false;
  private createdAt = 0;
  private drawnWaiters: { readonly ranAt: number; readonly done: () => void }[] = [];

  constructor(
    extensionUri: vscode.Uri,
    private readonly host: ResultPanelHost,
    log: vscode.LogOutputChannel,
  ) {
    super(extensionUri, log, RESULT_PANEL_TYPE, 'Result panel');
  }

  override show(view: ResultView): void {
    super.show(view);
    this.updateSampler();
  }

  /**
   * Opens the panel when a run starts, if it is not open yet, without taking focus: the webview starts while
   * the component runs, instead of after it (on a first run, creating the panel is most of the wait).
   */
  open(title: string): void {
    if (!this.panel) this.create(title);
  }

  /** Redraws the shown result with what happened to its order since (no reveal, no focus change). */
  update(view: ResultView): void {
    this.current = view;
    this.post({ type: 'result', result: view });
    if (this.panel) this.panel.title = this.titleOf(view);
    this.drawnAgain(view);
  }

  get result(): ResultView | null {
    return this.current;
  }

  /**
   * Resolves once the page says `view` is on screen, at most DRAWN_WAIT_MS after; at once when the page will not
   * draw it soon (no panel, its page not ready, not on screen, or another view shown since). The run's
   * notification waits for it: drawn in the same frame as the result (the toast's layout is 15-20 ms of the
   * editor's main thread), it held the result back; after it, the result is on screen first.
   */
  onScreen(view: ResultView): Promise<void> {
    if (!this.panel?.visible || !this.ready || this.current !== view) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = {
        ranAt: view.ranAt,
        done: () => {
          clearTimeout(timer);
          this.drawnWaiters = this.drawnWaiters.filter((w) => w !== waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, DRAWN_WAIT_MS);
      this.drawnWaiters.push(waiter);
    });
  }

  override dispose(): void {
    for (const waiter of this.drawnWaiters) waiter.done();
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    super.dispose();
  }

  protected restore(state: unknown): ResultView | null | undefined {
    return parsePanelState(state)?.result;
  }

  protected titleOf(view: ResultView): string {
    const name = view.className ?? view.file.split(/[\\/]/).pop() ?? 'order';
    return `${view.status}: ${name}`;
  }

  protected draw(view: ResultView): HostNotification {
    return { type: 'result', result: view };
  }

  protected parse(message: unknown): WebviewCommand | undefined {
    return parseWebviewCommand(message);
  }

  protected handle(command: WebviewCommand): void {
    const current = this.current;
    switch (command.type) {
      case 'runAgain':
        if (current)
          this.rerunOnce('Run again', () => this.host.runAgain(current), `${current.file} (${current.kind})`);
        break;
      case 'openLocation':
        void this.openLocation(
          command.file,
          command.line,
          current !== null && (current.file === command.file || current.errors.some((e) => e.file === command.file)),
        );
        break;
      case 'drawn':
        for (const waiter of this.drawnWaiters.filter((w) => w.ranAt === command.ranAt)) waiter.done();
        break;
    }
  }

  protected override adopted(panel: vscode.WebviewPanel): vscode.Disposable[] {
    this.createdAt = performance.now();
    this.updateSampler();
    return [panel.onDidChangeViewState(() => this.updateSampler())];
  }

  protected override closed(): void {
    for (const waiter of this.drawnWaiters) waiter.done();
    this.updateSampler();
  }

  protected override pageReady(): void {
    if (!this.ready)
      this.log.info(`Result panel ready ${Math.round(performance.now() - this.createdAt)} ms after it was created`);
  }

  /** Takes quotes for the chart only while the panel is on screen; nothing runs while it is hidden. */
  private updateSampler(): void {
    const want = this.panel?.visible === true && this.current !== null && this.current.symbol !== null;
    if (want && !this.sampler) {
      this.sampler = setInterval(() => void this.sample(), QUOTE_SAMPLE_MS);
    } else if (!want && this.sampler) {
      clearInterval(this.sampler);
      this.sampler = undefined;
    }
  }

  private async sample(): Promise<void> {
    const view = this.current;
    if (this.sampling || !view?.symbol) return;
    this.sampling = true;
    try {
      const point = await this.host.sampleQuote(view.venue.id, view.symbol);
      if (point) this.post({ type: 'quotes', symbol: view.symbol, quotes: [point] });
    } finally {
      this.sampling = false;
    }
  }

  protected page(media: (...path: string[]) => string): PageParts {
    return {
      title: 'SPtrader result',
      styles: ['result.css'],
      scripts: [['result.js']],
      inline: true,
      bodyAttributes: `data-chart-src="${media('vendor', 'lightweight-charts.standalone.production.js')}"`,
      body: `<main aria-labelledby="heading">
  <h1 id="heading" class="visually-hidden" hidden>SPtrader order result</h1>
  <p id="first-run" role="status" aria-live="polite" hidden>Running the component…</p>
  <p id="empty">No result yet. Run <strong>SPtrader: Test Order</strong> or <strong>SPtrader: Execute on Paper</strong> on an order component.</p>
  <div id="content" hidden>
    <header>
      <span id="status" tabindex="-1" role="status" aria-live="polite" aria-label="Order status"></span>
      <strong id="headline" aria-label="What was traded and what happened"></strong>
      <button id="run-again" type="button" aria-label="Run the component again">Run again</button>
      <span id="running" aria-live="polite"></span>
      <span id="summary" class="meta"></span>
    </header>
    <p class="meta"><span id="component"></span> · <span id="venue"></span> · <span id="ran-at"></span></p>
    <section id="errors-section" aria-labelledby="errors-heading" hidden>
      <h2 id="errors-heading">Errors</h2>
      <ul id="errors"></ul>
    </section>
    <section id="route-section" aria-labelledby="route-heading" hidden>
      <h2 id="route-heading">Routing</h2>
      <p><strong id="route-chosen"></strong> <span id="route-reason" class="meta"></span></p>
      <table id="route-table">
        <thead><tr><th scope="col">Venue</th><th scope="col">Touch</th><th scope="col">Quantity</th><th scope="col">Fee</th><th scope="col">Net per unit</th><th scope="col">Size covers</th><th scope="col">Skipped because</th></tr></thead>
        <tbody id="route-body"></tbody>
      </table>
    </section>
    <section id="parent-section" aria-labelledby="parent-heading" hidden>
      <h2 id="parent-heading">Parent order and its children</h2>
      <p><strong id="parent-state"></strong> <span id="parent-title"></span> <span id="parent-id" class="meta"></span></p>
      <p id="parent-emulation" class="meta"></p>
      <table id="parent-table">
        <thead><tr><th scope="col">#</th><th scope="col">Role</th><th scope="col">Order</th><th scope="col">State</th><th scope="col">Filled</th><th scope="col">Client order id</th></tr></thead>
        <tbody id="parent-body"></tbody>
      </table>
      <p id="parent-empty" class="meta">No child sent yet.</p>
    </section>
    <div class="grid">
      <section aria-labelledby="timings-heading">
        <h2 id="timings-heading">Timings</h2>
        <dl class="timings">
          <dt>Component</dt><dd id="timing-component"></dd>
          <dt>Python total</dt><dd id="timing-python"></dd>
          <dt>Engine</dt><dd id="timing-engine"></dd>
          <dt>Venue</dt><dd id="timing-venue"></dd>
          <dt>Total</dt><dd id="timing-total"></dd>
          <dt title="From the command to this result drawn here">You waited</dt><dd id="timing-waited"></dd>
        </dl>
      </section>
      <section aria-labelledby="execution-heading">
        <h2 id="execution-heading">Execution</h2>
        <dl class="timings">
          <dt>Filled</dt><dd id="filled"></dd>
          <dt>Slippage</dt><dd id="slippage"></dd>
          <dt>Commission</dt><dd id="commission"></dd>
        </dl>
      </section>
    </div>
    <section aria-labelledby="chart-heading">
      <h2 id="chart-heading">Price</h2>
      <div id="chart" role="img" aria-label="Recent bid and ask with the order's prices and fills"></div>
      <p class="attribution"><span id="chart-note"></span> · Charts by <a href="https://www.tradingview.com/">TradingView</a> Lightweight Charts™</p>
    </section>
    <section aria-labelledby="risk-heading">
      <h2 id="risk-heading">Risk checks</h2>
      <table id="risk-table">
        <thead><tr><th scope="col">Check</th><th scope="col">Limit</th><th scope="col">Actual</th><th scope="col">Result</th></tr></thead>
        <tbody id="risk-body"></tbody>
      </table>
      <p id="risk-empty" class="meta">No risk checks ran.</p>
      <p id="denial"></p>
    </section>
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Status timeline</h2>
      <ol id="timeline" class="timeline"></ol>
      <p id="timeline-empty" class="meta">The order reached no venue.</p>
    </section>
    <section aria-labelledby="fills-heading">
      <h2 id="fills-heading">Fills</h2>
      <table id="fills-table">
        <thead><tr><th scope="col">Time</th><th scope="col">Price</th><th scope="col">Quantity</th><th scope="col">Commission</th><th scope="col">Liquidity</th></tr></thead>
        <tbody id="fills-body"></tbody>
      </table>
      <p id="fills-empty" class="meta">No fills.</p>
    </section>
    <div class="grid">
      <section aria-labelledby="returned-heading">
        <h2 id="returned-heading">Order as returned</h2>
        <pre id="order-returned" tabindex="0"></pre>
      </section>
      <section aria-labelledby="normalized-heading">
        <h2 id="normalized-heading">Order as normalised</h2>
        <pre id="order-normalized" tabindex="0"></pre>
      </section>
    </div>
    <section id="notes-section" aria-labelledby="notes-heading" hidden>
      <h2 id="notes-heading">Notes</h2>
      <ul id="notes"></ul>
    </section>
    <div class="grid">
      <section aria-labelledby="stdout-heading">
        <h2 id="stdout-heading">Component stdout</h2>
        <pre id="stdout" tabindex="0"></pre>
      </section>
      <section aria-labelledby="stderr-heading">
        <h2 id="stderr-heading">Component stderr</h2>
        <pre id="stderr" tabindex="0"></pre>
      </section>
    </div>
  </div>
</main>`,
    };
  }
}
