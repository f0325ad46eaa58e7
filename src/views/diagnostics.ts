/**
 * Component and validation errors of a run as Problems on the component's files. A run's problems
 * replace the previous run's for the same component; a successful run clears them.
 */
import * as vscode from 'vscode';
import { DIAGNOSTIC_COLLECTION } from '../constants';
import type { TestOrderOutcome } from '../usecases/testOrder';
import { editorRange } from '../python/errors';
import { findOrderClasses } from './orderClassScan';

/** Codes that are not about the component's code (the venue, risk, the engine): shown in the panel, not as Problems. */
const NOT_CODE_ERRORS: ReadonlySet<string> = new Set([
  'REJECTED',
  'OUTCOME_UNKNOWN',
  // Debug Order's own: the debugger, not the component's code.
  'DEBUG_CANCELLED',
  'DEBUGGER_FAILED',
  'DEBUGGER_NOT_ATTACHED',
  'DEBUGPY_NOT_FOUND',
]);

export class RunDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_COLLECTION);
  /** For each component, the files its last run put problems on. */
  private readonly touched = new Map<string, vscode.Uri[]>();

  async update(outcome: TestOrderOutcome): Promise<void> {
    const component = outcome.component.file;
    for (const uri of this.touched.get(component) ?? []) this.collection.delete(uri);
    this.touched.delete(component);
    if (outcome.ok) return;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const e of outcome.errors) {
      if (!e.file || NOT_CODE_ERRORS.has(e.code) || outcome.denial?.code === e.code) continue;
      // A syntax error's squiggle starts at the column its message names; an invalid order's sits on its `return`,
      // under the field the message is about where the line spells it ('quantity': size).
      const at = editorRange(e, e.line !== undefined ? await this.lineTexts(e.file) : undefined);
      const line = at ? at.startLine : await this.classLine(e.file, outcome.component.className);
      const range = at
        ? new vscode.Range(at.startLine, at.startCharacter, at.endLine, at.endCharacter)
        : new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER);
      const diagnostic = new vscode.Diagnostic(
        range,
        e.path ? `${e.message} (order field ${e.path})` : e.message,
        vscode.DiagnosticSeverity.Error,
      );
      diagnostic.source = 'SPtrader';
      diagnostic.code = e.code;
      const list = byFile.get(e.file) ?? [];
      list.push(diagnostic);
      byFile.set(e.file, list);
    }
    const uris: vscode.Uri[] = [];
    for (const [file, diagnostics] of byFile) {
      const uri = vscode.Uri.file(file);
      this.collection.set(uri, diagnostics);
      uris.push(uri);
    }
    if (uris.length) this.touched.set(component, uris);
  }

  /** The file's lines as the editor counts characters (UTF-16), for Python's code-point columns; undefined when it cannot be read. */
  private async lineTexts(file: string): Promise<((line: number) => string | undefined) | undefined> {
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      return (n) => (n >= 0 && n < document.lineCount ? document.lineAt(n).text : undefined);
    } catch {
      return undefined;
    }
  }

  /** Problems without a line sit on the component's class line, else on the first line. */
  private async classLine(file: string, className: string | undefined): Promise<number> {
    try {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      const classes = findOrderClasses(document.getText());
      return (classes.find((c) => c.className === className) ?? classes[0])?.line ?? 0;
    } catch {
      return 0;
    }
  }

  dispose(): void {
    this.collection.dispose();
  }
}
