/**
 * Fast from the first click (issue 16): when a component is the active editor in a trusted workspace, the
 * Python worker that will run it is started (the interpreter and the harness, none of the component's
 * code) and the engine is opened (audit log verified, paper account loaded), so that the first Test Order
 * waits for neither. Nothing is run or opened in an untrusted workspace, for a file that is not a
 * component, or twice for the same interpreter; a failure is only logged (the command reports it
 * when the user asks for a run).
 */
import * as vscode from 'vscode';
import { monotonicMs } from '../common/clock';
import { isNotAComponentFile, orderClassesOf } from './orderClassScan';
import type { ViewServices } from './services';

export function registerPrewarm(s: Pick<ViewServices, 'context' | 'log' | 'session' | 'interpreters'>): void {
  const warmed = new Set<string>();
  let engineWarm = false;
  const consider = (editor: vscode.TextEditor | undefined): void => {
    if (!editor || !vscode.workspace.isTrusted) return;
    const doc = editor.document;
    if (doc.uri.scheme !== 'file' || doc.languageId !== 'python' || isNotAComponentFile(doc.uri.fsPath)) return;
    if (orderClassesOf(doc).length === 0) return;
    void warm(doc.uri);
  };
  const warm = async (uri: vscode.Uri): Promise<void> => {
    const started = monotonicMs();
    try {
      if (!engineWarm) {
        engineWarm = true;
        s.session.trading().then(
          () => s.log.info(`Engine opened ahead of the first run (${Math.round(monotonicMs() - started)} ms)`),
          (e: unknown) => {
            engineWarm = false;
            s.log.warn(`The engine could not be opened ahead of the first run: ${String(e)}`);
          },
        );
      }
      const worker = await s.interpreters.workerFor(uri);
      if (warmed.has(uri.fsPath)) return;
      warmed.add(uri.fsPath);
      await worker.warm(uri.fsPath);
      s.log.info(
        `Python started ahead of the first run of ${vscode.workspace.asRelativePath(uri)} (${Math.round(monotonicMs() - started)} ms)`,
      );
    } catch (e) {
      warmed.delete(uri.fsPath);
      s.log.warn(`Python could not be started ahead of the first run: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  s.context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor(consider),
    vscode.workspace.onDidGrantWorkspaceTrust(() => consider(vscode.window.activeTextEditor)),
    // A settings change restarts the workers (interpreter.ts): the next component opened warms again.
    vscode.workspace.onDidChangeConfiguration(() => warmed.clear()),
  );
  consider(vscode.window.activeTextEditor);
}
