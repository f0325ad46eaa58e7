/** One way for an editor command to fail: the log gets the error, the user a toast naming the command. */
import * as vscode from 'vscode';

export function guardCommand<A extends unknown[], R>(
  log: vscode.LogOutputChannel,
  name: string,
  run: (...args: A) => Promise<R>,
): (...args: A) => Promise<R | undefined> {
  return async (...args: A): Promise<R | undefined> => {
    try {
      return await run(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error(`${name} failed: ${message}`);
      void vscode.window.showErrorMessage(`SPtrader: ${name} failed: ${message}`);
      return undefined;
    }
  };
}
