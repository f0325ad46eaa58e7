import * as vscode from 'vscode';
import { systemClock } from '../common/clock';
import { Commands } from '../constants';
import type { Container } from '../container';
import { formatOutcome } from '../execution/formatOutcome';
import { runTestOrder } from '../execution/testOrder';

/** "SPtrader: Test Order" on the component in the active editor; the result goes to the log. */
export function registerTestOrderCommand(container: Container): void {
  container.context.subscriptions.push(
    vscode.commands.registerCommand(Commands.testOrder, async (uri?: vscode.Uri) => {
      const target = uri ?? vscode.window.activeTextEditor?.document.uri;
      if (!target || !target.fsPath.endsWith('.py')) {
        void vscode.window.showWarningMessage('Open a Python order component first, then run SPtrader: Test Order.');
        return undefined;
      }
      if (!vscode.workspace.isTrusted) {
        void vscode.window
          .showWarningMessage(
            'SPtrader runs order components only in a trusted workspace: they are Python programs with your permissions. Trust this workspace to test orders.',
            'Manage Workspace Trust',
          )
          .then((choice) => {
            if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
          });
        return undefined;
      }
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
      if (document?.isDirty) await document.save();
      const log = container.log;
      try {
        const worker = await container.interpreters.workerFor(target);
        const { engine } = await container.trading();
        const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'SPtrader: testing order' }, () =>
          runTestOrder({ file: target.fsPath }, { runner: worker, broker: container.paperBroker, engine, clock: systemClock }),
        );
        log.info(`Test Order ${target.fsPath}\n${formatOutcome(outcome)}`);
        log.show(true);
        const show = outcome.ok ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
        void show(`SPtrader: ${outcome.summary}`, 'Show Log').then((choice) => {
          if (choice) log.show();
        });
        return outcome;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log.error(`Test Order failed: ${message}`);
        const actions = /INTERPRETER/.test(String((e as { code?: unknown }).code)) ? ['Select Interpreter'] : [];
        void vscode.window.showErrorMessage(`SPtrader: ${message}`, ...actions).then((choice) => {
          if (choice === 'Select Interpreter') void vscode.commands.executeCommand('python.setInterpreter');
        });
        return undefined;
      }
    }),
  );
}
