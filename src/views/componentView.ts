/**
 * The SPtrader section of the Explorer, shown once an order component has been opened in a trusted
 * workspace: the component in the editor, its last result in this window, and one click to Test Order,
 * Execute on Paper, Debug, Replay or Compare it, or to set its inputs. A webview without scripts: its
 * links are command links, from an allow-list.
 *
 * Expanded (VS Code remembers that per user), it is also the window's first webview, drawn while the
 * user reads the component: in code-server the first webview of a window takes 2–3 s to start, which the
 * first result panel otherwise waits for (BENCHMARKS.md, issue 16). It never expands itself.
 */
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { isNotAComponentFile, orderClassesOf } from './orderClassScan';
import type { ResultView } from './protocol';
import { webviewPage } from './webviewPanelHost';

export const COMPONENT_VIEW_ID = 'sptrader.component';
/** Set once a component is open in a trusted workspace; the view's `when`. */
export const COMPONENT_OPEN_CONTEXT = 'sptrader.componentOpen';

const ACTIONS: ReadonlyArray<{ command: string; label: string; title: string }> = [
  {
    command: 'sptrader.testOrder',
    label: '▶ Test Order',
    title: 'Run it and check its order on a scratch copy of the paper account',
  },
  {
    command: 'sptrader.executeOnPaper',
    label: 'Execute on Paper',
    title: 'Run it and send its order to the paper account',
  },
  {
    command: 'sptrader.debugOrder',
    label: 'Debug',
    title: 'Run it under the debugger, then send its order to a scratch copy',
  },
  { command: 'sptrader.replayComponent', label: 'Replay…', title: 'Run it over recorded candles or ticks' },
  {
    command: 'sptrader.compareVenues',
    label: 'Compare Venues…',
    title: 'Send its order to several paper and practice venues',
  },
  { command: 'sptrader.testInputs', label: 'Inputs…', title: 'Parameters, signal and market data for its runs' },
];

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface ComponentViewSource {
  /** The last result shown in the result panel. */
  readonly lastResult: () => ResultView | null;
  /** Fires when a result is shown or updated. */
  readonly onResult: vscode.Event<unknown>;
}

export class ComponentView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  /** The last component the editor showed (kept while another file, or the view itself, has focus). */
  private component: { file: string; classes: string[] } | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The body of the page the section shows. */
  private shownBody: string | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: ComponentViewSource,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewViewProvider(COMPONENT_VIEW_ID, this),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.follow(editor)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.follow(vscode.window.activeTextEditor)),
      source.onResult(() => this.render()),
    );
    this.follow(vscode.window.activeTextEditor);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = {
      enableScripts: false,
      enableCommandUris: ACTIONS.map((a) => a.command),
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    view.onDidDispose(() => (this.view = undefined));
    view.onDidChangeVisibility(() => this.render(true));
    this.render(true);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  private follow(editor: vscode.TextEditor | undefined): void {
    if (!editor || !vscode.workspace.isTrusted) return;
    const doc = editor.document;
    if (doc.uri.scheme !== 'file' || doc.languageId !== 'python' || isNotAComponentFile(doc.uri.fsPath)) return;
    const classes = orderClassesOf(doc).map((c) => c.className);
    if (classes.length === 0) return;
    this.component = { file: doc.uri.fsPath, classes };
    void vscode.commands.executeCommand('setContext', COMPONENT_OPEN_CONTEXT, true);
    this.render();
  }

  /**
   * Writes the section's page when what it says changed (or `always`, when it is shown again): a new page is
   * a new document for the editor to load, and the section is rendered on every editor change and result.
   */
  private render(always = false): void {
    const view = this.view;
    if (!view?.visible) return;
    const body = this.body();
    if (!always && body === this.shownBody) return;
    this.shownBody = body;
    view.webview.html = webviewPage(view.webview, this.extensionUri, () => ({
      title: 'SPtrader',
      styles: ['component.css'],
      scripts: [],
      body,
    }));
  }

  private body(): string {
    const c = this.component;
    const result = this.source.lastResult();
    const mine = c !== undefined && result !== null && result.file === c.file ? result : null;
    const body = c
      ? `<p class="name" title="${escape(c.file)}">${escape(basename(c.file))}${c.classes.length === 1 ? ` · ${escape(c.classes[0] ?? '')}` : ` · ${c.classes.length} classes`}</p>
<nav aria-label="Run the component">${ACTIONS.map((a) => `<a href="command:${a.command}" title="${escape(a.title)}">${escape(a.label)}</a>`).join('\n')}</nav>
${
  mine
    ? `<p class="last" role="status"><span class="badge">${escape(mine.status)}</span> ${escape(mine.headline ?? '')}</p>
<p class="meta">${escape(KIND[mine.kind])} · ${escape(new Date(mine.ranAt).toISOString().slice(11, 19))} UTC · the result panel has the rest</p>`
    : '<p class="meta">No run of it in this window yet.</p>'
}`
      : '<p class="meta">Open an order component (a class deriving OrderBase or Order) to run it from here.</p>';
    return body;
  }
}

const KIND: Record<ResultView['kind'], string> = {
  'test-order': 'Test Order',
  'execute-paper': 'Execute on Paper',
  'execute-live': 'Execute Live',
  'debug-order': 'Debug Order',
};
