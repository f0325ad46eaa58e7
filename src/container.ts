/**
 * The editor's composition root: builds the core services once and hands them to the views.
 * Nothing here trades; it only wires.
 */
import * as vscode from 'vscode';
import { join } from 'node:path';
import { systemClock } from './common/clock';
import { PaperBroker } from './brokers/paper/paperBroker';
import { OUTPUT_CHANNEL_NAME } from './constants';
import { InterpreterService } from './views/interpreter';
import { registerTestOrderCommand } from './views/testOrderCommand';

export class Container {
  private constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly paperBroker: PaperBroker,
    readonly interpreters: InterpreterService,
  ) {}

  static create(context: vscode.ExtensionContext): Container {
    const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
    context.subscriptions.push(log);
    try {
      const paperBroker = new PaperBroker({ clock: systemClock, stateFile: join(context.globalStorageUri.fsPath, 'paper', 'paper-account.json') });
      const interpreters = new InterpreterService(log);
      context.subscriptions.push(interpreters);
      const container = new Container(context, log, paperBroker, interpreters);
      registerTestOrderCommand(container);
      log.info('SPtrader Order Execution activated');
      return container;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error(`Activation failed: ${message}`);
      void vscode.window.showErrorMessage(`SPtrader could not start: ${message}`);
      throw e;
    }
  }

  async dispose(): Promise<void> {
    await this.paperBroker.disconnect();
  }
}
