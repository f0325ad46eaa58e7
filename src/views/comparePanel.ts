/**
 * The Compare Venues panel: one webview, one column per venue, revealed with each comparison. Its script
 * (media/compare.js) and the chart library (media/vendor/) are the only scripts it may run; messages are
 * parsed with the zod protocol of compareProtocol.ts (the panel's life: webviewPanelHost.ts).
 */
import type * as vscode from 'vscode';
import { COMPARE_PANEL_TYPE } from '../constants';
import {
  parseCompareCommand,
  parseComparePanelState,
  type CompareCommand,
  type CompareNotification,
  type CompareView,
} from './compareProtocol';
import { WebviewPanelHost, type PageParts } from './webviewPanelHost';

export interface ComparePanelHost {
  /** Compares the same component again (the venue picker opens with the same venues chosen); settles when it has ended. */
  runAgain(view: CompareView): PromiseLike<unknown> | void;
}

export class ComparePanel extends WebviewPanelHost<CompareView, CompareNotification, CompareCommand> {
  constructor(
    extensionUri: vscode.Uri,
    private readonly host: ComparePanelHost,
    log: vscode.LogOutputChannel,
  ) {
    super(extensionUri, log, COMPARE_PANEL_TYPE, 'Compare panel');
  }

  get view(): CompareView | null {
    return this.current;
  }

  protected restore(state: unknown): CompareView | null | undefined {
    return parseComparePanelState(state)?.view;
  }

  protected titleOf(view: CompareView): string {
    const name = view.className ?? view.file.split(/[\\/]/).pop() ?? 'order';
    return `Compare: ${name}`;
  }

  protected draw(view: CompareView): CompareNotification {
    return { type: 'compare', view };
  }

  protected parse(message: unknown): CompareCommand | undefined {
    return parseCompareCommand(message);
  }

  protected handle(command: CompareCommand): void {
    const current = this.current;
    switch (command.type) {
      case 'runAgain':
        if (current) this.rerunOnce('Run again', () => this.host.runAgain(current), `${current.file} (Compare Venues)`);
        break;
      case 'openLocation':
        void this.openLocation(
          command.file,
          command.line,
          current !== null && (current.file === command.file || current.errors.some((e) => e.file === command.file)),
        );
        break;
    }
  }

  protected page(): PageParts {
    return {
      title: 'SPtrader: Compare Venues',
      styles: ['result.css', 'compare.css'],
      scripts: [['vendor', 'lightweight-charts.standalone.production.js'], ['compare.js']],
      body: `<main aria-labelledby="heading">
  <h1 id="heading" class="visually-hidden" hidden>SPtrader venue comparison</h1>
  <p id="empty">No comparison yet. Run <strong>SPtrader: Compare Venues</strong> on an order component.</p>
  <div id="content" hidden>
    <header>
      <span id="status" tabindex="-1" role="status" aria-live="polite" aria-label="Comparison outcome"></span>
      <strong id="headline" aria-label="The order and where it was best"></strong>
      <button id="run-again" type="button" aria-label="Compare the component again">Run again</button>
      <span id="running" aria-live="polite"></span>
      <span id="summary" class="meta"></span>
    </header>
    <p class="meta"><span id="component"></span> · <span id="ran-at"></span> · <span id="timing"></span></p>
    <section id="errors-section" aria-labelledby="errors-heading" hidden>
      <h2 id="errors-heading">Errors</h2>
      <ul id="errors"></ul>
    </section>
    <section aria-labelledby="venues-heading">
      <h2 id="venues-heading">Venues side by side</h2>
      <div class="scroll">
        <table id="compare-table">
          <thead><tr id="compare-head"><th scope="col"></th></tr></thead>
          <tbody id="compare-body"></tbody>
        </table>
      </div>
    </section>
    <section aria-labelledby="chart-heading">
      <h2 id="chart-heading">Fills against each venue's quote at decision</h2>
      <div id="chart" role="img" aria-label="Each venue's bid and ask when the component decided, and its fill"></div>
      <p class="attribution"><span id="chart-note"></span> · Charts by <a href="https://www.tradingview.com/">TradingView</a> Lightweight Charts™</p>
    </section>
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
