/**
 * The replay result panel: one webview panel, revealed with each replay. Its script (media/replay.js)
 * and the chart library (media/vendor/) are the only scripts it may run; messages are parsed with the zod
 * protocol in replayProtocol.ts (the panel's life: webviewPanelHost.ts). Export copies the fills files the
 * replay wrote to where the user says.
 */
import * as vscode from 'vscode';
import { copyFile } from 'node:fs/promises';
import { REPLAY_PANEL_TYPE } from '../constants';
import {
  parseReplayCommand,
  parseReplayPanelState,
  type ReplayCommand,
  type ReplayNotification,
  type ReplayView,
} from './replayProtocol';
import { WebviewPanelHost, type PageParts } from './webviewPanelHost';

export interface ReplayPanelHost {
  /** Replays the same component again (asking for the data and parameters, the last ones offered first); settles when it has ended. */
  replayAgain(view: ReplayView): PromiseLike<unknown> | void;
  /** The fills file a shown replay wrote, when it still exists. */
  fillsFile(view: ReplayView, format: 'csv' | 'parquet'): string | undefined;
}

export class ReplayPanel extends WebviewPanelHost<ReplayView, ReplayNotification, ReplayCommand> {
  private exporting = false;

  constructor(
    extensionUri: vscode.Uri,
    private readonly host: ReplayPanelHost,
    log: vscode.LogOutputChannel,
  ) {
    super(extensionUri, log, REPLAY_PANEL_TYPE, 'Replay panel');
  }

  protected restore(state: unknown): ReplayView | null | undefined {
    return parseReplayPanelState(state)?.replay;
  }

  protected titleOf(view: ReplayView): string {
    return `Replay ${view.status === 'COMPLETED' ? '' : `${view.status}: `}${view.className ?? view.file.split(/[\\/]/).pop() ?? ''}`;
  }

  protected draw(view: ReplayView): ReplayNotification {
    return { type: 'replay', replay: view };
  }

  protected parse(message: unknown): ReplayCommand | undefined {
    return parseReplayCommand(message);
  }

  protected handle(command: ReplayCommand): void {
    switch (command.type) {
      case 'replayAgain':
        if (this.current) {
          const view = this.current;
          this.rerunOnce('Replay again', () => this.host.replayAgain(view), `${view.file} (Replay)`);
        }
        break;
      case 'exportFills':
        // One export at a time: a double-click opened two save dialogs, the second over the first.
        if (this.current && !this.exporting) {
          this.exporting = true;
          void this.exportFills(this.current, command.format).finally(() => (this.exporting = false));
        }
        break;
    }
  }

  private async exportFills(view: ReplayView, format: 'csv' | 'parquet'): Promise<void> {
    const source = this.host.fillsFile(view, format);
    if (!source) {
      void vscode.window.showWarningMessage(
        `SPtrader: the fills ${format === 'csv' ? 'CSV' : 'Parquet'} file of this replay is gone (replay folders are pruned to the last few); replay it again to export its fills.`,
      );
      return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `fills-${(view.className ?? 'replay').replace(/[^A-Za-z0-9_-]+/g, '_')}.${format}`;
    const target = await vscode.window.showSaveDialog({
      title: `Export the replay's fills as ${format === 'csv' ? 'CSV' : 'Parquet'}`,
      saveLabel: 'Export Fills',
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
      filters: format === 'csv' ? { CSV: ['csv'] } : { Parquet: ['parquet'] },
    });
    if (!target) return;
    try {
      await copyFile(source, target.fsPath);
      this.log.info(`Replay fills exported to ${target.fsPath}`);
      void vscode.window.showInformationMessage(
        `SPtrader: ${view.figures.fills.toLocaleString('en-US')} fills exported to ${target.fsPath}`,
      );
    } catch (e) {
      void vscode.window.showErrorMessage(
        `SPtrader: the fills could not be written to ${target.fsPath}: ${e instanceof Error ? e.message : String(e)}. Choose another place.`,
      );
    }
  }

  protected page(): PageParts {
    const th = (...names: string[]): string => names.map((n) => `<th scope="col">${n}</th>`).join('');
    return {
      title: 'SPtrader replay',
      styles: ['result.css', 'replay.css'],
      scripts: [['vendor', 'lightweight-charts.standalone.production.js'], ['replay.js']],
      body: `<main>
  <p id="empty">No replay yet. Run <strong>SPtrader: Replay Component</strong> on an order component.</p>
  <div id="content" hidden>
    <header>
      <span id="status" tabindex="-1" role="status" aria-live="polite" aria-label="Replay status"></span>
      <strong id="headline"></strong>
      <span class="actions">
        <button id="replay-again" type="button">Replay again</button>
        <button id="export-csv" type="button" aria-label="Export the fills as CSV">Export fills CSV</button>
        <button id="export-parquet" type="button" aria-label="Export the fills as Parquet">Export fills Parquet</button>
      </span>
      <span id="running" aria-live="polite"></span>
      <span id="summary" class="meta"></span>
    </header>
    <p class="meta"><span id="component"></span> · <span id="data"></span> · <span id="ran-at"></span></p>
    <p class="meta">Parameters: <span id="parameters"></span></p>
    <p class="meta">Risk limits: <span id="limits"></span></p>
    <section id="errors-section" aria-labelledby="errors-heading" hidden>
      <h2 id="errors-heading">Component errors</h2>
      <ul id="errors"></ul>
    </section>
    <div class="grid">
      <section aria-labelledby="pnl-heading">
        <h2 id="pnl-heading">P&amp;L</h2>
        <dl class="timings">
          <dt>Realised</dt><dd id="realized"></dd>
          <dt>Unrealised</dt><dd id="unrealized"></dd>
          <dt>Commission</dt><dd id="commission"></dd>
          <dt>P&amp;L after costs</dt><dd id="pnl"></dd>
          <dt>Equity</dt><dd id="equity"></dd>
          <dt>Max drawdown</dt><dd id="drawdown"></dd>
          <dt>Turnover</dt><dd id="turnover"></dd>
          <dt>Positions</dt><dd id="positions"></dd>
        </dl>
      </section>
      <section aria-labelledby="costs-heading">
        <h2 id="costs-heading">Slippage</h2>
        <dl class="timings">
          <dt>Per order</dt><dd id="slippage"></dd>
          <dt>Cost</dt><dd id="slippage-cost"></dd>
        </dl>
      </section>
      <section aria-labelledby="orders-heading">
        <h2 id="orders-heading">Orders</h2>
        <dl class="timings">
          <dt>Produced</dt><dd id="orders-produced"></dd>
          <dt>No order</dt><dd id="orders-no-order"></dd>
          <dt>Sent</dt><dd id="orders-sent"></dd>
          <dt>Filled</dt><dd id="orders-filled"></dd>
          <dt>Denied</dt><dd id="orders-denied"></dd>
          <dt>Invalid</dt><dd id="orders-invalid"></dd>
          <dt>Rejected / cancelled / expired / open</dt><dd id="orders-other"></dd>
          <dt>Fills</dt><dd id="fills"></dd>
          <dt>Parent orders</dt><dd id="orders-parents"></dd>
        </dl>
      </section>
      <section aria-labelledby="denied-heading">
        <h2 id="denied-heading">Denials by reason</h2>
        <ul id="denied-list" class="counts"></ul>
        <h2>Rejections by reason</h2>
        <ul id="rejected-list" class="counts"></ul>
      </section>
    </div>
    <section aria-labelledby="equity-heading">
      <h2 id="equity-heading">Equity curve</h2>
      <p id="equity-label" class="meta"></p>
      <div id="equity-chart" role="img" aria-label="The replay's equity curve"></div>
    </section>
    <section aria-labelledby="price-heading">
      <h2 id="price-heading">Price and trades</h2>
      <div id="price-chart" role="img" aria-label="The replayed prices with the fills marked"></div>
      <p class="attribution"><span id="chart-note"></span> · Charts by <a href="https://www.tradingview.com/">TradingView</a> Lightweight Charts™</p>
    </section>
    <section aria-labelledby="orders-table-heading">
      <h2 id="orders-table-heading">Orders</h2>
      <p id="orders-note" class="meta"></p>
      <div class="table-wrap">
        <table id="orders-table">
          <thead><tr>${th('Record', 'Time', 'Side', 'Type', 'Quantity', 'Price', 'State', 'Filled', 'Avg price', 'Reason')}</tr></thead>
          <tbody id="orders-body"></tbody>
        </table>
      </div>
    </section>
    <section aria-labelledby="fills-table-heading">
      <h2 id="fills-table-heading">Fills</h2>
      <p id="fills-note" class="meta"></p>
      <div class="table-wrap">
        <table id="fills-table">
          <thead><tr>${th('Record', 'Time', 'Side', 'Quantity', 'Price', 'Commission', 'Liquidity', 'Order')}</tr></thead>
          <tbody id="fills-body"></tbody>
        </table>
      </div>
    </section>
    <p id="audit" class="meta"></p>
  </div>
</main>`,
    };
  }
}
