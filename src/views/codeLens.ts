/** "▶ Test Order", "Execute on Paper", "Debug", "Compare Venues", "Replay…" and "Inputs…" above each order component class; found by reading the text, never by running it. */
import * as vscode from 'vscode';
import { Commands } from '../constants';
import { isNotAComponentFile, orderClassesOf } from './orderClassScan';

export class OrderCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (isNotAComponentFile(document.uri.path)) return [];
    return orderClassesOf(document).flatMap((c) => {
      const range = new vscode.Range(c.line, 0, c.line, 0);
      return [
        new vscode.CodeLens(range, {
          title: '▶ Test Order',
          tooltip: `Run ${c.className} and send its order to the active profile's non-live venue`,
          command: Commands.testOrder,
          arguments: [document.uri, c.className],
        }),
        new vscode.CodeLens(range, {
          title: 'Execute on Paper',
          tooltip: `Run ${c.className} and execute its order on the embedded paper venue`,
          command: Commands.executeOnPaper,
          arguments: [document.uri, c.className],
        }),
        new vscode.CodeLens(range, {
          title: 'Debug',
          tooltip: `Run ${c.className} under the debugger with the inputs Test Order uses: it stops at your breakpoints, and its order fills on a scratch copy of the paper account when it returns`,
          command: Commands.debugOrder,
          arguments: [document.uri, c.className],
        }),
        new vscode.CodeLens(range, {
          title: 'Compare Venues',
          tooltip: `Run ${c.className} once and send its order to several paper or practice venues at once, side by side`,
          command: Commands.compareVenues,
          arguments: [document.uri, c.className],
        }),
        new vscode.CodeLens(range, {
          title: 'Replay…',
          tooltip: `Replay ${c.className} over recorded candles or ticks (CSV or Parquet) on the paper venue`,
          command: Commands.replayComponent,
          arguments: [document.uri, c.className],
        }),
        new vscode.CodeLens(range, {
          title: 'Inputs…',
          tooltip: `The parameters, signal and market data Test Order and Execute on Paper give ${c.className} (remembered for this file)`,
          command: Commands.testInputs,
          arguments: [document.uri, c.className],
        }),
      ];
    });
  }
}

export function registerCodeLens(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, new OrderCodeLensProvider()),
  );
}
