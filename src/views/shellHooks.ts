/**
 * Activation loads only a thin shell (`src/extension.ts`); the core — engine, zod schemas, views — is
 * loaded right after, off the activation path. The shell registers every contributed command as a
 * proxy that waits for the core, and hands these hooks to the core (`activateCore(context, hooks)`, which
 * installs them here) so that the core's own registrations reach the proxies instead of colliding with
 * them. Without a shell (tests), they register with VS Code.
 */
import * as vscode from 'vscode';

/** Any command handler (its parameters are whatever VS Code passes). */
export type CommandHandler = (...args: never[]) => unknown;

export interface ShellHooks {
  registerCommand(id: string, handler: CommandHandler): vscode.Disposable;
  registerWebviewPanelSerializer(viewType: string, serializer: vscode.WebviewPanelSerializer): vscode.Disposable;
}

// The shell and the core are separate bundles, each with its own copy of this module: the shell passes its
// hooks to the core's copy when it loads the core, never through a global.
let installed: ShellHooks | undefined;

/** Called by the core's entry (core.ts) with the shell's hooks, and with undefined when it deactivates. */
export function installShellHooks(hooks: ShellHooks | undefined): void {
  installed = hooks;
}

function hooks(): ShellHooks | undefined {
  return installed;
}

export function registerCommand(id: string, handler: CommandHandler): vscode.Disposable {
  return (
    hooks()?.registerCommand(id, handler) ??
    vscode.commands.registerCommand(id, handler as (...args: unknown[]) => unknown)
  );
}

export function registerWebviewPanelSerializer(
  viewType: string,
  serializer: vscode.WebviewPanelSerializer,
): vscode.Disposable {
  return (
    hooks()?.registerWebviewPanelSerializer(viewType, serializer) ??
    vscode.window.registerWebviewPanelSerializer(viewType, serializer)
  );
}
