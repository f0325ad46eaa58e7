/**
 * What the result, Compare Venues and replay panels share: one webview panel of a type, opened beside the
 * editor without taking focus and revealed with each new view; restored after a window reload by its
 * serializer; its page built with a CSP nonce so that only the extension's own scripts run; messages from
 * the page parsed with the panel's zod protocol (anything else is logged and ignored); the view drawn once
 * the page says it is ready. A panel supplies its protocol, title, page and the commands beyond "ready".
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { registerWebviewPanelSerializer } from './shellHooks';

/** What a panel's page holds, with `media(...)` naming a file under media/ as the webview may load it. */
export interface PageParts {
  readonly title: string;
  /** Style sheets under media/, in order. */
  readonly styles: readonly string[];
  /** Scripts under media/ (a path of one or more segments each), loaded in order with the page's nonce. */
  readonly scripts: ReadonlyArray<readonly string[]>;
  /** Attributes of <body>, already escaped. */
  readonly bodyAttributes?: string;
  /** The markup inside <body> before the scripts. */
  readonly body: string;
  /**
   * The styles and scripts are written into the page (under the page's nonce) instead of linked: a new page
   * then runs without fetching them through the webview's resource loader after its content frame loads
   * (a round trip through the extension host each, 0.1-0.5 s for the result panel's 200 KB script on a
   * loaded machine, on the way to a first result).
   */
  readonly inline?: boolean;
  /**
   * Notifications written into the page as JSON (`<script type="application/json" id="sptrader-initial">`), which
   * its script handles before it says it is ready: see `WebviewPanelHost.embedsView`.
   */
  readonly initial?: readonly unknown[];
}

/** Files under media/ written into pages, read once. */
const inlined = new Map<string, string>();
function mediaText(extensionUri: vscode.Uri, path: readonly string[]): string | undefined {
  const file = vscode.Uri.joinPath(extensionUri, 'media', ...path);
  if (file.scheme !== 'file') return undefined;
  let text = inlined.get(file.fsPath);
  if (text === undefined) {
    try {
      text = readFileSync(file.fsPath, 'utf8');
    } catch {
      return undefined;
    }
    inlined.set(file.fsPath, text);
  }
  return text;
}

type Running = { readonly type: 'running'; readonly running: boolean };

export abstract class WebviewPanelHost<
  View,
  Notification extends { readonly type: string },
  Command extends { readonly type: string },
>
  implements vscode.Disposable
{
  protected panel: vscode.WebviewPanel | undefined;
  protected current: View | null = null;
  protected ready = false;
  protected running = false;
  protected readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];
  private readonly drawn = new vscode.EventEmitter<View>();
  /** Fires with each view shown or updated. */
  readonly onDidDraw = this.drawn.event;

  constructor(
    protected readonly extensionUri: vscode.Uri,
    protected readonly log: vscode.LogOutputChannel,
    private readonly viewType: string,
    /** How the log names the panel ("Result panel"). */
    private readonly name: string,
  ) {
    this.disposables.push(
      registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const restored = this.restore(state);
          if (restored) {
            this.current = restored;
            this.restoredView = true;
          }
          this.adopt(panel);
        },
      }),
    );
  }

  /** The view a restored panel's saved state holds, if it is one. */
  protected abstract restore(state: unknown): View | null | undefined;
  protected abstract titleOf(view: View): string;
  /** The message that draws `view` in the page. */
  protected abstract draw(view: View): Notification;
  /** The page's message, or undefined when it does not follow the protocol. */
  protected abstract parse(message: unknown): Command | undefined;
  /** Every command but "ready". */
  protected abstract handle(command: Command): void;
  protected abstract page(media: (...path: string[]) => string): PageParts;

  /**
   * Whether the panel's page reads the view it is made with (`PageParts.initial`): a view the host has before the
   * page says it is ready (a first run, whose panel opens at the click and whose result comes while the editor
   * still makes the webview) is then written into the page instead of posted after its "ready" (a round trip
   * through the editor, 30-110 ms, on the way to a first result). Only for pages whose script reads it.
   */
  protected readonly embedsView: boolean = false;
  /** The view written into the page last made (see embedsView): not posted again when that page says it is ready. */
  private embedded: View | null = null;

  /** Called when a panel is adopted (created or restored); what it returns is disposed with the panel. */
  protected adopted(_panel: vscode.WebviewPanel): vscode.Disposable[] {
    return [];
  }

  /** Called when the panel is closed. */
  protected closed(): void {}

  /** Called when the page says it is ready, before the view is drawn. */
  protected pageReady(): void {}

  /**
   * Shows a view, opening the panel or revealing it without taking focus from the editor. The view's message
   * leaves first; a panel already on screen is not revealed again (that is no change to the user, and it is
   * work for the editor in the frame that draws the result); other listeners hear of the view last.
   */
  show(view: View): void {
    this.current = view;
    this.restoredView = false;
    if (!this.panel) this.create(this.titleOf(view));
    else if (!this.ready && this.embedsView) {
      // The page is still being made: made again with the view in it (the editor loads the latest content).
      this.panel.title = this.titleOf(view);
      this.panel.webview.html = this.html(this.panel.webview);
      if (!this.panel.visible) this.panel.reveal(undefined, true);
    } else {
      this.post(this.draw(view));
      this.panel.title = this.titleOf(view);
      if (!this.panel.visible) this.panel.reveal(undefined, true);
    }
    this.drawn.fire(view);
  }

  /** A view redrawn without show (a later event of the same run). */
  protected drawnAgain(view: View): void {
    this.drawn.fire(view);
  }

  /**
   * A run is said in the page (its "Running…", its run-again button disabled) once it has taken this long while
   * a view is shown, so a quick run does not flash them (the host refuses a second run while one is going
   * either way); at once while the panel has nothing to show yet.
   */
  protected readonly runningShownAfterMs: number = 0;
  private runningTimer: NodeJS.Timeout | undefined;
  /** What the page was last told. */
  private runningShown = false;

  setRunning(running: boolean): void {
    this.running = running;
    clearTimeout(this.runningTimer);
    this.runningTimer = undefined;
    if (running && this.runningShownAfterMs > 0 && this.current !== null) {
      this.runningTimer = setTimeout(() => {
        this.runningTimer = undefined;
        if (this.running) this.postRunning();
      }, this.runningShownAfterMs);
      return;
    }
    if (running || this.runningShown) this.postRunning();
  }

  private postRunning(): void {
    this.runningShown = this.running;
    this.post({ type: 'running', running: this.running });
  }

  /** A run the page asked for ("Run again") that has not ended yet. */
  private rerun: Promise<void> | undefined;
  /**
   * `current` came back from the page's saved state after a window reload, not from a run in this window: the
   * page wrote it, so the file it names and how it ran are the page's word until a run here shows a view.
   */
  private restoredView = false;

  /**
   * Starts the run the page asked for, unless one is going: a double-click, or a message the page sends twice,
   * must not run the component (and send its order) twice. The host's own `running` is set only once the run
   * has found its component (after a save, a picker), too late to refuse a second message already received;
   * this refuses every request until the run it started has ended, then tells the page whether a run is
   * going (its button, disabled when clicked, comes back).
   */
  protected rerunOnce(what: string, start: () => PromiseLike<unknown> | void, target?: string): void {
    if (this.running || this.rerun) {
      this.log.info(`${this.name}: ${what} ignored: a run is already going`);
      return;
    }
    const ended = (): void => {
      this.rerun = undefined;
      this.postRunning();
    };
    const restored = this.restoredView;
    this.rerun = (async () => {
      try {
        // A restored view names a file its page chose: a page that saved another one and posted the request itself
        // would run any Python file on disk. The person says yes to that file first (a page cannot answer a modal).
        if (restored && !(await this.confirmRestored(what, target))) {
          this.log.info(`${this.name}: ${what} of a restored view not confirmed; nothing was run`);
          return;
        }
        await start();
      } catch (e) {
        this.log.error(`${this.name}: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    })().finally(ended);
  }

  private async confirmRestored(what: string, target: string | undefined): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(
      `SPtrader: ${what}: this panel was restored after the window reloaded. Run ${target ?? 'its component'} again?`,
      { modal: true, detail: 'Check the file: a panel restored from its saved state names what its page saved.' },
      what,
    );
    return choice === what;
  }

  dispose(): void {
    clearTimeout(this.runningTimer);
    this.drawn.dispose();
    this.panel?.dispose();
    for (const d of [...this.disposables, ...this.panelDisposables]) d.dispose();
  }

  protected create(title: string): void {
    this.adopt(
      vscode.window.createWebviewPanel(
        this.viewType,
        title,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        this.options(),
      ),
    );
  }

  protected post(message: Notification | Running): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  /** Opens a file the shown view names (`known`), at its (1-based) line, in the first editor group. */
  protected async openLocation(file: string, line: number | null, known: boolean): Promise<void> {
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
        this.closed();
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
      }),
      ...this.adopted(panel),
    );
  }

  private onMessage(message: unknown): void {
    const command = this.parse(message);
    if (!command) {
      this.log.warn(`${this.name}: ignored a message that does not follow the protocol: ${snippet(message)}`);
      return;
    }
    if (command.type !== 'ready') {
      this.handle(command);
      return;
    }
    this.pageReady();
    this.ready = true;
    if (this.current && this.current !== this.embedded) this.post(this.draw(this.current));
    this.embedded = null;
    this.postRunning();
  }

  private html(webview: vscode.Webview): string {
    const view = this.embedsView ? this.current : null;
    this.embedded = view;
    return webviewPage(webview, this.extensionUri, (media) => {
      const page = this.page(media);
      return view === null ? page : { ...page, initial: [this.draw(view)] };
    });
  }
}

/** The start of a message for the log; one nested too deep for JSON (the page can post anything) is named as such. */
function snippet(message: unknown): string {
  try {
    return String(JSON.stringify(message)).slice(0, 200);
  } catch {
    return `(${typeof message}, not written as JSON)`;
  }
}

/**
 * A webview's page: the extension's media only, under a CSP that lets no script run but the page's own
 * (each carries the page's nonce; a page without scripts runs none).
 */
export function webviewPage(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  build: (media: (...path: string[]) => string) => PageParts,
): string {
  const nonce = randomBytes(16).toString('base64');
  const media = (...path: string[]): string =>
    webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', ...path)).toString();
  const page = build(media);
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}${page.inline ? ` 'nonce-${nonce}'` : ''}`,
    `font-src ${webview.cspSource}`,
    ...(page.scripts.length > 0 ? [`script-src 'nonce-${nonce}'`] : []),
  ].join('; ');
  // Written in, a script's text must not close its element early ("</script" in a string or a regex only).
  const text = (path: readonly string[]): string | undefined =>
    page.inline ? mediaText(extensionUri, path)?.replace(/<\/(script|style)/gi, '<\\/$1') : undefined;
  const styles = page.styles
    .map((s) => {
      const css = text([s]);
      return css === undefined
        ? `<link rel="stylesheet" href="${media(s)}">`
        : `<style nonce="${nonce}">${css}</style>`;
    })
    .join('\n');
  const scripts = page.scripts
    .map((s) => {
      const js = text(s);
      return js === undefined
        ? `<script nonce="${nonce}" src="${media(...s)}"></script>`
        : `<script nonce="${nonce}">${js}</script>`;
    })
    .join('\n');
  // Data, not a script (never run, so no nonce): "<" escaped, so that no text in it can end the element.
  const initial =
    page.initial && page.initial.length > 0
      ? `<script type="application/json" id="sptrader-initial">${JSON.stringify(page.initial).replace(/</g, '\\u003c')}</script>\n`
      : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${page.title}</title>
</head>
<body${page.bodyAttributes ? ` ${page.bodyAttributes}` : ''}>
${page.body}
${initial}${scripts}
</body>
</html>`;
}
