/**
 * SPtrader: Show Audit Log as a read-only document (`sptrader-audit:`), one readable line per record
 * (auditLogView.ts), newest last, at most AUDIT_VIEW_LIMIT of them, read from the log's end (auditTail.ts);
 * what that read left out (a torn last line, a damaged one) is said in the header. The chain's verification
 * reads the whole log, so the lines show at once with "chain: verifying…" and the header follows when it is done;
 * the "Raw JSONL:" line is a link to the newest file of the log itself. While the view is on screen it follows
 * the log: the engine's events redraw it (a second after the first of a burst).
 */
import * as vscode from 'vscode';
import { verifyAuditDir } from '../execution/audit/auditLog';
import { readAuditTail } from '../execution/audit/auditTail';
import {
  AUDIT_VIEW_LIMIT,
  auditLogText,
  auditViewInputOf,
  type AuditViewInput,
  type ChainStatus,
} from './auditLogView';
import type { ViewServices } from './services';

export const AUDIT_SCHEME = 'sptrader-audit';
/** Records read before the shown ones to name their orders (a fill of an order sent earlier). */
const LOOKBACK = 2000;
const RAW_PREFIX = 'Raw JSONL: ';
/** An open view is redrawn this long after the engine's first news (a burst of events is one refresh). */
const REFRESH_DELAY_MS = 1000;

type AuditDocumentServices = Pick<ViewServices, 'context' | 'log' | 'session'>;

export class AuditLogDocument implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider {
  readonly uri = vscode.Uri.from({ scheme: AUDIT_SCHEME, path: '/SPtrader Audit Log.log' });
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private text = 'Reading the audit log…\n';
  /** Each refresh's number: a slow verification of an older refresh never overwrites a newer view. */
  private generation = 0;

  /** A refresh asked for by the engine's news while the view is on screen (one at a time, at most one a second). */
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly services: AuditDocumentServices) {
    services.context.subscriptions.push(
      vscode.workspace.registerTextDocumentContentProvider(AUDIT_SCHEME, this),
      vscode.languages.registerDocumentLinkProvider({ scheme: AUDIT_SCHEME }, this),
      this.changed,
      // An open view follows the log: each engine event is a record (or a few) written to it.
      services.session.onEngineEvent(() => this.refreshSoon()),
      { dispose: () => clearTimeout(this.pending) },
    );
  }

  /** Reads the log's newest records, opens (or brings forward) the document, then checks the chain. */
  async show(): Promise<void> {
    await this.refresh(async () => {
      const doc = await vscode.workspace.openTextDocument(this.uri);
      await vscode.window.showTextDocument(doc, { preview: false });
    });
  }

  private refreshSoon(): void {
    if (this.pending !== undefined || !this.isOpen()) return;
    this.pending = setTimeout(() => {
      void this.refresh()
        .catch((e: unknown) =>
          this.services.log.warn(`Audit log view: not refreshed: ${e instanceof Error ? e.message : String(e)}`),
        )
        .finally(() => (this.pending = undefined));
    }, REFRESH_DELAY_MS);
  }

  /** Only a view on screen follows the log (each refresh checks the whole chain again). */
  private isOpen(): boolean {
    const uri = this.uri.toString();
    return vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === uri);
  }

  /** The newest records drawn at once ("chain: verifying…"), `shown` run, then the chain checked and drawn. */
  private async refresh(shown?: () => Promise<void>): Promise<void> {
    const { audit } = await this.services.session.trading();
    await audit.flush();
    const dir = audit.dir;
    const generation = ++this.generation;
    // Read from the end of the newest file(s): the lines show before the chain's check has read them all.
    const input = auditViewInputOf(dir, await readAuditTail(dir, AUDIT_VIEW_LIMIT + LOOKBACK));
    this.render(input, { kind: 'verifying' });
    await shown?.();
    const chain: ChainStatus = await verifyAuditDir(dir).then(
      (report): ChainStatus => ({ kind: 'done', report }),
      (e: unknown): ChainStatus => ({ kind: 'failed', message: e instanceof Error ? e.message : String(e) }),
    );
    if (generation !== this.generation) return;
    if (chain.kind === 'done' && !chain.report.verified)
      for (const p of chain.report.problems)
        this.services.log.error(`Audit ${p.file}:${p.line}: ${p.kind}: ${p.problem}`);
    this.render(input, chain);
  }

  private render(input: Omit<AuditViewInput, 'chain'>, chain: ChainStatus): void {
    this.text = auditLogText({ ...input, chain });
    this.changed.fire(this.uri);
  }

  provideTextDocumentContent(): string {
    return this.text;
  }

  provideDocumentLinks(document: vscode.TextDocument): vscode.DocumentLink[] {
    for (let i = 0; i < Math.min(document.lineCount, 6); i++) {
      const line = document.lineAt(i).text;
      if (!line.startsWith(RAW_PREFIX)) continue;
      const path = line.slice(RAW_PREFIX.length).trim();
      const range = new vscode.Range(i, RAW_PREFIX.length, i, RAW_PREFIX.length + path.length);
      const link = new vscode.DocumentLink(range, vscode.Uri.file(path));
      link.tooltip = 'Open the raw JSONL file of the audit log';
      return [link];
    }
    return [];
  }
}
