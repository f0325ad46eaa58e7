import type * as vscode from 'vscode';
import { Container } from './container';

let container: Container | undefined;

export function activate(context: vscode.ExtensionContext): void {
  container = Container.create(context);
}

export async function deactivate(): Promise<void> {
  await container?.dispose();
  container = undefined;
}
