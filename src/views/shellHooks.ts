/**
 * Activation loads only a thin shell (`src/extension.ts`); the core — engine, zod schemas, views — is
 * loaded right after, off the activation path. The shell registers every contributed command as a
 * proxy that waits for the core, and installs these hooks so that the core's own registrations reach
 * the proxies instead of colliding with them. Without a shell (tests), they register with VS Code.
 */
import * as vscode from 'vscode';

/** Any command handler (its parameters are whatever VS Code passes). */
export type CommandHandler = (...args: never[]) => unknown;

export interface ShellHooks {
  registerCommand(id: string, handler: CommandHandler): vscode.Disposable;
  registerWebviewPanelSerializer(viewType: string, serializer: vscode.WebviewPanelSerializer): vscode.Disposable;
}

export const SHELL_HOOKS = Symbol.for('sptrader.shellHooks');

function hooks(): ShellHooks | undefined {
  return (globalThis as Record<symbol, unknown>)[SHELL_HOOKS] as ShellHooks | undefined;
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
