/**
 * The activation shell. Activation must stay cheap (the editor waits for it), so it loads only what
 * the first moments need: a proxy for every contributed command, the CodeLens provider (a text scan)
 * and the result panel's serializer. The core — engine, audit log, zod schemas, views, status bar — is
 * required from `dist/core.js` right after activation returns; a command invoked before then waits
 * for it.
 */
import * as vscode from 'vscode';
import { COMPARE_PANEL_TYPE, REPLAY_PANEL_TYPE, RESULT_PANEL_TYPE } from './constants';
import { registerCodeLens } from './views/codeLens';
import type { CommandHandler, ShellHooks } from './views/shellHooks';

interface CoreModule {
  activateCore(context: vscode.ExtensionContext, hooks: ShellHooks): void;
  deactivateCore(): Promise<void>;
}

let core: Promise<CoreModule> | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const handlers = new Map<string, CommandHandler>();
  const serializers = new Map<string, vscode.WebviewPanelSerializer>();
  const contributed = new Set(
    (
      (context.extension.packageJSON as { contributes?: { commands?: Array<{ command: string }> } }).contributes
        ?.commands ?? []
    ).map((c) => c.command),
  );
  const hooks: ShellHooks = {
    registerCommand: (id, handler) => {
      handlers.set(id, handler);
      // Commands the manifest does not list (tree-item actions) have no proxy: register them directly.
      if (!contributed.has(id)) return vscode.commands.registerCommand(id, handler as (...args: unknown[]) => unknown);
      return new vscode.Disposable(() => handlers.delete(id));
    },
    registerWebviewPanelSerializer: (viewType, serializer) => {
      serializers.set(viewType, serializer);
      return new vscode.Disposable(() => serializers.delete(viewType));
    },
  };

  const load = (): Promise<CoreModule> =>
    (core ??= new Promise<CoreModule>((resolve, reject) => {
      setImmediate(() => {
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const m = require('./core.js') as CoreModule;
          m.activateCore(context, hooks);
          resolve(m);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    }));

  for (const id of contributed) {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        await load();
        const handler = handlers.get(id);
        if (!handler) throw new Error(`SPtrader: the command ${id} is not available`);
        return (handler as (...a: unknown[]) => unknown)(...args);
      }),
    );
  }
  for (const viewType of [RESULT_PANEL_TYPE, COMPARE_PANEL_TYPE, REPLAY_PANEL_TYPE])
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          await load();
          const serializer = serializers.get(viewType);
          if (serializer) await serializer.deserializeWebviewPanel(panel, state);
          else panel.dispose();
        },
      }),
    );
  registerCodeLens(context);
  // The views, the status bar and the engine come up just after activation, off its critical path.
  setTimeout(() => {
    load().catch((e: unknown) => {
      void vscode.window.showErrorMessage(`SPtrader could not start: ${e instanceof Error ? e.message : String(e)}`);
    });
  }, 0);
}

export async function deactivate(): Promise<void> {
  if (core) await (await core.catch(() => undefined))?.deactivateCore();
  core = undefined;
}
