/**
 * The extension's core, loaded by the activation shell (`extension.ts`) right after activation:
 * the container builds the engine, the views and every command handler.
 */
import type * as vscode from 'vscode';
import { Container } from './container';
import { installShellHooks, type ShellHooks } from './views/shellHooks';

let container: Container | undefined;

/** `hooks`: the activation shell's command proxies and serializers, which the core's registrations go through. */
export function activateCore(context: vscode.ExtensionContext, hooks?: ShellHooks): void {
  installShellHooks(hooks);
  container = Container.create(context);
}

export async function deactivateCore(): Promise<void> {
  await container?.dispose();
  container = undefined;
  installShellHooks(undefined);
}
