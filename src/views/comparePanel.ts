/**
 * The Compare Venues panel: one webview, one column per venue, revealed with each comparison. The page
 * is built here with a CSP nonce; its script (media/compare.js) and the chart library (media/vendor/)
 * are the only scripts it may run. Messages are parsed with the zod protocol of compareProtocol.ts; the
 * panel is restored after a reload by its serializer.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { COMPARE_PANEL_TYPE } from '../constants';
import { registerWebviewPanelSerializer } from './shellHooks';
import {
  parseCompareCommand,
  parseComparePanelState,
  type CompareNotification,
  type CompareView,
} from './compareProtocol';

export interface ComparePanelHost {
  /** Compares the same component again (the venue picker opens with the same venues chosen). */
  runAgain(view: CompareView): void;
}

export class ComparePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private current: CompareView | null = null;
  private ready = false;
  private running = false;
  private readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: ComparePanelHost,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      registerWebviewPanelSerializer(COMPARE_PANEL_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          this.current = parseComparePanelState(state)?.view ?? this.current;
          this.adopt(panel);
        },
      }),
    );
  }

  show(view: CompareView): void {
    this.current = view;
    if (!this.panel) {
      this.adopt(
        vscode.window.createWebviewPanel(
          COMPARE_PANEL_TYPE,
          this.titleOf(view),
          { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
          this.options(),
        ),
      );
    } else {
      this.panel.title = this.titleOf(view);
      this.panel.reveal(undefined, true);
      this.post({ type: 'compare', view });
    }
  }

  setRunning(running: boolean): void {
    this.running = running;
    this.post({ type: 'running', running });
  }

  get view(): CompareView | null {
    return this.current;
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      enableFindWidget: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'sptrader.svg');
    if (this.current) panel.title = this.titleOf(this.current);
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
      }),
    );
  }

  private onMessage(message: unknown): void {
    const command = parseCompareCommand(message);
    if (!command) {
      this.log.warn(
        `Compare panel: ignored a message that does not follow the protocol: ${JSON.stringify(message)?.slice(0, 200)}`,
      );
      return;
    }
    switch (command.type) {
      case 'ready':
        this.ready = true;
        if (this.current) this.post({ type: 'compare', view: this.current });
        this.post({ type: 'running', running: this.running });
        break;
      case 'runAgain':
        if (this.current && !this.running) this.host.runAgain(this.current);
        break;
      case 'openLocation':
        void this.openLocation(command.file, command.line);
        break;
    }
  }

  /** Opens only files the shown comparison names, at the (1-based) line. */
  private async openLocation(file: string, line: number | null): Promise<void> {
    const known = this.current && (this.current.file === file || this.current.errors.some((e) => e.file === file));
    if (!known) return;
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      const position = new vscode.Position(Math.max(0, Math.min((line ?? 1) - 1, document.lineCount - 1)), 0);
      await vscode.window.showTextDocument(document, {
        viewColumn: vscode.ViewColumn.One,
        selection: new vscode.Range(position, position),
      });
    } catch (e) {
      void vscode.window.showErrorMessage(
        `SPtrader: cannot open ${file}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private post(message: CompareNotification): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private titleOf(view: CompareView): string {
    const name = view.className ?? view.file.split(/[\\/]/).pop() ?? 'order';
    return `Compare: ${name}`;
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const media = (...path: string[]): string =>
      webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', ...path)).toString();
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('result.css')}">
<link rel="stylesheet" href="${media('compare.css')}">
<title>SPtrader: Compare Venues</title>
</head>
<body>
<main aria-labelledby="heading">
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
</main>
<script nonce="${nonce}" src="${media('vendor', 'lightweight-charts.standalone.production.js')}"></script>
<script nonce="${nonce}" src="${media('compare.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of [...this.disposables, ...this.panelDisposables]) d.dispose();
  }
}
