/**
 * The editor's composition root: builds the core services once and hands each view registrar the few it
 * uses (views/services.ts); nothing imports this file back. Nothing here trades; it only wires. The
 * engine (views/editorSession.ts) lives in the extension's global storage and is opened on first use, so
 * activation stays fast; profiles and their venues are views/profileVenues.ts, settings
 * views/editorSettings.ts.
 */
import * as vscode from 'vscode';
import { PaperBroker } from './brokers/paper/paperBroker';
import { systemClock } from './common/clock';
import { openEditorStateFolder } from './common/editorStateFolder';
import { OUTPUT_CHANNEL_NAME, Settings } from './constants';
import { EditorSession } from './views/editorSession';
import { EditorSettings } from './views/editorSettings';
import { registerCompareCommand } from './views/compareCommand';
import { registerExecuteLiveCommand } from './views/executeLiveCommand';
import { InterpreterService } from './views/interpreter';
import { registerOrderCommands } from './views/orderCommands';
import { EditorParents } from './views/parentOrders';
import { registerPaperFaults } from './views/paperFaults';
import { registerPrewarm } from './views/prewarm';
import { ComponentView } from './views/componentView';
import { registerRunInputs } from './views/runInputs';
import { readPaperSettings } from './views/paperSettings';
import { RunInputsStore } from './views/runInputsStore';
import { registerProfileCommands } from './views/profileCommands';
import { ProfileVenues } from './views/profileVenues';
import { registerReplayCommand } from './views/replayCommand';
import type { ViewServices } from './views/services';
import { registerStatusBar } from './views/statusBar';
import { registerOrderRunCommands } from './views/testOrderCommand';
import { registerTradingCommands } from './views/tradingCommands';
import { registerTradingMenu } from './views/tradingMenu';
import { registerTrees } from './views/trees';

export class Container {
  private constructor(
    private readonly session: EditorSession,
    private readonly venues: ProfileVenues,
    private readonly paper: PaperBroker,
  ) {}

  static create(context: vscode.ExtensionContext): Container {
    const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
    context.subscriptions.push(log);
    try {
      const config = vscode.workspace.getConfiguration(Settings.section);
      const { startingCash, seed, problems } = readPaperSettings((key) => config.get<unknown>(key));
      for (const problem of problems) {
        log.warn(problem);
        void vscode.window.showWarningMessage(`SPtrader: ${problem}`);
      }
      // One layout with the CLI's (common/statePaths.ts): an older editor's paper accounts move in once.
      const folder = openEditorStateFolder(context.globalStorageUri.fsPath);
      for (const file of folder.moved) log.info(`Paper account moved into the state folder: ${file}`);
      for (const file of folder.setAside)
        log.warn(`A paper account rebuilt by recover was set aside for the one the editor used: ${file}`);
      const paper = new PaperBroker({
        clock: systemClock,
        stateFile: folder.paperAccount,
        startingCash,
        seed,
        onError: (message, error) =>
          log.error(`Paper venue: ${message}: ${error instanceof Error ? error.message : String(error)}`),
      });
      const interpreters = new InterpreterService(log);
      const settings = new EditorSettings(log);
      const session = new EditorSession(log, folder.stateDir, paper, () => settings.riskSettings());
      const profiles = new ProfileVenues(context.secrets, log, settings, session, paper, folder.stateDir);
      const parents = new EditorParents(log, session, profiles);
      context.subscriptions.push(interpreters, session, profiles, parents);
      const services: ViewServices = { context, log, session, profiles, paper, interpreters, parents };
      const results = registerOrderRunCommands(services);
      registerTradingCommands(services);
      registerTradingMenu(services);
      registerPaperFaults(services);
      const inputs = new RunInputsStore(context.workspaceState);
      registerRunInputs(services, inputs);
      registerOrderCommands(services);
      registerProfileCommands(services);
      registerExecuteLiveCommand(services, results);
      registerCompareCommand(services);
      registerReplayCommand(
        services,
        () => settings.riskSettings(),
        inputs,
        () => settings.replaySettings(),
      );
      registerTrees(services);
      registerStatusBar(services);
      registerPrewarm(services);
      context.subscriptions.push(new ComponentView(context.extensionUri, results));
      context.subscriptions.push(
        vscode.workspace.onDidChangeConfiguration((e) => {
          if (
            e.affectsConfiguration(`${Settings.section}.risk`) ||
            e.affectsConfiguration(`${Settings.section}.circuitBreaker`)
          )
            void session.applySettings();
          if (e.affectsConfiguration(`${Settings.section}.${Settings.brokerProfiles}`)) profiles.changed();
          if (e.affectsConfiguration(`${Settings.section}.paper`))
            void vscode.window.showInformationMessage(
              'SPtrader: the paper venue settings apply after a window reload.',
            );
        }),
      );
      log.info('SPtrader Order Execution activated');
      return new Container(session, profiles, paper);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error(`Activation failed: ${message}`);
      void vscode.window.showErrorMessage(`SPtrader could not start: ${message}`);
      throw e;
    }
  }

  async dispose(): Promise<void> {
    await this.session.close();
    await this.venues.disconnectAll();
    await this.paper.disconnect();
  }
}
