/**
 * The extension's core, loaded by the activation shell (`extension.ts`) right after activation:
 * the container builds the engine, the views and every command handler.
 */
import type * as vscode from 'vscode';
import { Container } from './container';

let container: Container | undefined;

export function activateCore(context: vscode.ExtensionContext): void {
  container = Container.create(context);
}

export async function deactivateCore(): Promise<void> {
  await container?.dispose();
  container = undefined;
}
