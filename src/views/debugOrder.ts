/**
 * Debug Order's editor half (issue 16): the debug session that attaches to a component run listening
 * through debugpy (`python/debugRun.ts`).
 *
 * With the Python Debugger extension (ms-python.debugpy) installed, the session is its `debugpy` attach
 * configuration, and its bundled debugpy serves interpreters that have none. Without it (an offline editor,
 * code-server), SPtrader's own debugger type `sptrader-python` attaches: debugpy's adapter speaks the Debug
 * Adapter Protocol itself, so the editor only needs to be pointed at its socket (`DebugAdapterServer`); the
 * manifest's `breakpoints: [{language: "python"}]` lets breakpoints be set in Python files either way.
 *
 * Stopping or disconnecting the session before the component has returned cancels the run: nothing is sent.
 * The adapter ends the session itself when the run is over (a `terminated` event, then the editor's
 * `disconnect`); a `disconnect` with no `terminated` before it is the user's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { defaultLibraryDir } from '../python/harnessFiles';
import type { DebugEndpoint } from '../python/protocol';

/** SPtrader's own debugger type (package.json `debuggers`), used when the Python Debugger extension is absent. */
export const DEBUG_TYPE = 'sptrader-python';
const PYTHON_DEBUGGER_EXTENSION = 'ms-python.debugpy';
/** The configuration key that ties a debug session to its run. */
const RUN_KEY = 'sptraderDebugRun';

interface Tracked {
  /** The adapter ended the session (the run is over); a disconnect after it is the editor's answer. */
  terminatedByAdapter: boolean;
  onUserStop: () => void;
}

/** Which debugger attaches, and the debugpy copy for interpreters without one. */
export interface DebuggerChoice {
  type: 'debugpy' | typeof DEBUG_TYPE;
  /** The Python Debugger extension's bundled debugpy (`bundled/libs`), when it is installed. */
  debugpyPath: string | undefined;
}

export function chooseDebugger(): DebuggerChoice {
  const extension = vscode.extensions.getExtension(PYTHON_DEBUGGER_EXTENSION);
  if (!extension) return { type: DEBUG_TYPE, debugpyPath: undefined };
  const libs = join(extension.extensionPath, 'bundled', 'libs');
  return { type: 'debugpy', debugpyPath: existsSync(join(libs, 'debugpy')) ? libs : undefined };
}

export class DebugOrderSessions implements vscode.Disposable {
  private readonly tracked = new Map<string, Tracked>();
  private readonly disposables: vscode.Disposable[] = [];
  private nextRun = 1;

  constructor() {
    this.disposables.push(
      vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
        createDebugAdapterDescriptor: (session) => {
          const connect = (session.configuration as { connect?: { host?: unknown; port?: unknown } }).connect;
          const port = connect?.port;
          if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0)
            throw new Error(
              `the ${DEBUG_TYPE} debug configuration needs connect.port (the port a Debug Order run listens on); start it with SPtrader: Debug Order`,
            );
          const host = typeof connect?.host === 'string' ? connect.host : '127.0.0.1';
          return new vscode.DebugAdapterServer(port, host);
        },
      }),
    );
    for (const type of [DEBUG_TYPE, 'debugpy'])
      this.disposables.push(
        vscode.debug.registerDebugAdapterTrackerFactory(type, {
          createDebugAdapterTracker: (session) => {
            const run = (session.configuration as Record<string, unknown>)[RUN_KEY];
            const tracked = typeof run === 'string' ? this.tracked.get(run) : undefined;
            if (!tracked) return undefined;
            return {
              onDidSendMessage: (message: { type?: string; event?: string }) => {
                if (message.type === 'event' && (message.event === 'terminated' || message.event === 'exited'))
                  tracked.terminatedByAdapter = true;
              },
              onWillReceiveMessage: (message: { type?: string; command?: string }) => {
                if (message.type === 'request' && message.command === 'disconnect' && !tracked.terminatedByAdapter)
                  tracked.onUserStop();
              },
            };
          },
        }),
      );
  }

  /**
   * Starts the editor's debug session against a listening run. `onUserStop` is called if the user stops
   * or disconnects it before the run is over. Throws when the session did not start.
   */
  async attach(
    target: vscode.Uri,
    endpoint: DebugEndpoint,
    choice: DebuggerChoice,
    onUserStop: () => void,
  ): Promise<vscode.Disposable> {
    const run = `${process.pid}-${this.nextRun++}`;
    this.tracked.set(run, { terminatedByAdapter: false, onUserStop });
    const name = `SPtrader: Debug Order ${vscode.workspace.asRelativePath(target)}`;
    const configuration: vscode.DebugConfiguration = {
      type: choice.type,
      request: 'attach',
      name,
      connect: { host: endpoint.host, port: endpoint.port },
      justMyCode: true,
      // SPtrader's harness (and the `-c` line that starts it) is not the user's code: stepping out of
      // generate_order does not go into it, and the call stack ends at the component.
      rules: [
        { path: join(defaultLibraryDir(), 'sptrader_harness'), include: false },
        { module: '__main__', include: false },
      ],
      [RUN_KEY]: run,
    };
    const folder = vscode.workspace.getWorkspaceFolder(target);
    const started = await vscode.debug.startDebugging(folder, configuration, { suppressSaveBeforeStart: true });
    if (!started) {
      this.tracked.delete(run);
      throw new Error(
        choice.type === 'debugpy'
          ? 'the editor did not start the Python Debugger (debugpy) session'
          : `the editor did not start the ${DEBUG_TYPE} debug session`,
      );
    }
    return new vscode.Disposable(() => this.tracked.delete(run));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.tracked.clear();
  }
}
