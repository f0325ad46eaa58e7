/**
 * Debug Order (issue 16): one run of a component under the Python debugger, in an interpreter of its own.
 *
 * The harness listens for a Debug Adapter Protocol client through debugpy (its adapter is the DAP server;
 * `python/sptrader_harness/debugging.py`) and says where; `onListening` starts the editor's debug session
 * against that endpoint; once the client has set its breakpoints and sent configurationDone, the component
 * runs with the market data, signal and parameters it was given, and what it returns is this runner's result,
 * so the order then goes through Test Order's pipeline like any other (`runTestOrder` takes this as its runner).
 *
 * The interpreter is a one-run session, closed after the run: the process that hosted a debugger (tracing
 * on, debugpy imported) never serves an ordinary run. The run has no timeout while the component is paused
 * at a breakpoint; it fails if no debugger attaches within `attachTimeoutMs`, and `cancel()` ends it.
 */
import { PythonRunError } from './errors';
import type { ComponentInfo, ComponentRunRequest, ComponentRunResult, DebugEndpoint, RunnerOptions } from './protocol';
import { PythonSession } from './runner';

export const DEFAULT_ATTACH_TIMEOUT_MS = 30_000;

export interface DebugRunOptions {
  /** How long to wait for a debugger to attach (default 30 s). */
  attachTimeoutMs?: number;
  /** A folder with a `debugpy` package, used only when the interpreter has none (the Python Debugger extension's bundled copy). */
  debugpyPath?: string;
  /** The harness listens: attach a debugger to this endpoint. A failure here ends the run with DEBUGGER_FAILED. */
  onListening(endpoint: DebugEndpoint): void | Promise<void>;
}

/** Runs one component once under the debugger; metadata is read by `inspector` (the ordinary worker: it never executes the file). */
export class PythonDebugRunner {
  private session: PythonSession | undefined;
  private cancelled = false;
  private listenFailure: string | undefined;
  private endpointSeen: DebugEndpoint | undefined;

  constructor(
    private readonly options: RunnerOptions,
    private readonly inspector: { inspect(file: string): Promise<ComponentInfo> },
    private readonly debug: DebugRunOptions,
  ) {
    const timeout = debug.attachTimeoutMs ?? DEFAULT_ATTACH_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeout) || timeout <= 0)
      throw new PythonRunError('INVALID_OPTION', `attachTimeoutMs must be a positive whole number, not ${timeout}`);
  }

  /** Where the run listened, once it has. */
  get endpoint(): DebugEndpoint | undefined {
    return this.endpointSeen;
  }

  /** The interpreter's process id while the run lives. */
  get pid(): number | undefined {
    return this.session?.pid;
  }

  inspect(file: string): Promise<ComponentInfo> {
    return this.inspector.inspect(file);
  }

  async run(req: ComponentRunRequest): Promise<ComponentRunResult> {
    if (this.session) throw new PythonRunError('INVALID_OPTION', 'a debug runner runs its component once');
    const failed = (code: string, message: string): ComponentRunResult => ({
      ok: false,
      output: null,
      metadata: null,
      stdout: '',
      stderr: '',
      error: { code, message, file: req.file },
      totalMs: 0,
    });
    if (this.cancelled)
      return failed('DEBUG_CANCELLED', 'Debug Order was cancelled before the component ran; nothing was sent');
    const session = await PythonSession.start(this.options, req.file, 'once');
    this.session = session;
    try {
      const result = await session.run(req, {
        attachTimeoutMs: this.debug.attachTimeoutMs ?? DEFAULT_ATTACH_TIMEOUT_MS,
        ...(this.debug.debugpyPath ? { debugpyPath: this.debug.debugpyPath } : {}),
        onListening: (endpoint) => {
          this.endpointSeen = endpoint;
          Promise.resolve()
            .then(() => this.debug.onListening(endpoint))
            .catch((e: unknown) => {
              this.listenFailure = e instanceof Error ? e.message : String(e);
              void session.stop();
            });
        },
      });
      // A run that was stopped says why, not that its process exited.
      if (this.cancelled)
        return {
          ...result,
          ok: false,
          output: null,
          error: {
            code: 'DEBUG_CANCELLED',
            message: 'Debug Order was cancelled; the component was stopped and nothing was sent',
            file: req.file,
          },
        };
      if (this.listenFailure !== undefined)
        return {
          ...result,
          ok: false,
          output: null,
          error: {
            code: 'DEBUGGER_FAILED',
            message: `the debugger could not attach to 127.0.0.1:${this.endpointSeen?.port ?? '?'}: ${this.listenFailure}; nothing was sent`,
            file: req.file,
          },
        };
      return result;
    } finally {
      await session.close();
    }
  }

  /** Stops the run (at a breakpoint or waiting for the debugger); it ends with DEBUG_CANCELLED and nothing is sent. */
  async cancel(): Promise<void> {
    this.cancelled = true;
    await this.session?.stop();
  }
}
