/**
 * Which Python runs a component: the explicit setting, else the Python extension's environment
 * for the component's folder (followed when the user switches), else python3, else python.
 * One warm worker per interpreter keeps repeated Test Orders fast.
 */
import * as vscode from 'vscode';
import { Settings } from '../constants';
import { defaultInterpreterCandidates, resolveInterpreter } from '../python/interpreter';
import { PythonWorker, type RunnerOptions } from '../python/runner';
import { activeProfileOf } from './profiles';
import { readRunnerSettings } from './runnerSettings';

interface PythonEnvironmentsApi {
  environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(path: string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

export class InterpreterService implements vscode.Disposable {
  private readonly workers = new Map<string, PythonWorker>();
  private readonly disposables: vscode.Disposable[] = [];
  private pythonApi: Promise<PythonEnvironmentsApi | undefined> | undefined;
  private readonly reported = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(Settings.section)) void this.resetWorkers('settings changed');
      }),
    );
  }

  /**
   * A warm worker for the interpreter that should run `file`. `testMode`: the run is a test (Test Order, Debug Order,
   * Compare Venues, Inputs…), given TEST_MODE=true; an execution (Execute on Paper, Execute Live) is not, and has a
   * worker of its own, so that a component that sizes a test's order differently never trades the test's.
   */
  async workerFor(file: vscode.Uri, testMode = true): Promise<PythonWorker> {
    const found = await this.optionsFor(file);
    const options: RunnerOptions = { ...found.options, testMode };
    const key = `${found.key}\u0000${testMode ? 'test' : 'execute'}`;
    let worker = this.workers.get(key);
    if (!worker) {
      worker = new PythonWorker(options);
      this.workers.set(key, worker);
      this.log.info(
        `Python ${options.interpreter.version.join('.')} at ${options.interpreter.executable} runs components`,
      );
    }
    return worker;
  }

  /**
   * A worker of its own for one replay, which its caller disposes (and may stop at once on a cancel
   * without touching the warm worker Test Order uses). `sptrader.python.timeoutSeconds` limits each
   * record's call of the component, as one Test Order run (a batch of records ends after its own budget;
   * runner.ts), like `sptrader replay --timeout`.
   */
  async replayWorkerFor(file: vscode.Uri): Promise<PythonWorker> {
    const { options } = await this.optionsFor(file);
    return new PythonWorker({ ...options, brokerProfile: 'paper' });
  }

  /** How the interpreter for `file` is started, for a run of its own (Debug Order's one-run session). */
  async runnerOptionsFor(file: vscode.Uri): Promise<RunnerOptions> {
    return (await this.optionsFor(file)).options;
  }

  private async optionsFor(file: vscode.Uri): Promise<{ options: RunnerOptions; key: string }> {
    const config = vscode.workspace.getConfiguration(Settings.section, file);
    const settings = readRunnerSettings((key) => config.get<unknown>(key));
    this.report(settings.problems);
    const explicit = settings.interpreterPath ?? (await this.fromPythonExtension(file));
    const interpreter = await resolveInterpreter(defaultInterpreterCandidates(explicit || undefined));
    const packageRoot = settings.packageRoot;
    const folder = vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath;
    const options: RunnerOptions = {
      interpreter,
      packageRoot,
      extraPythonPath: folder ? [folder] : [],
      timeoutMs: settings.timeoutMs,
      outputLimitBytes: settings.outputLimitBytes,
      maxAnswerBytes: settings.maxAnswerBytes,
      maxMetadataBytes: settings.maxMetadataBytes,
      maxNestingDepth: settings.maxNestingDepth,
      brokerProfile: activeProfileOf(config.get<unknown>(Settings.activeProfile)).id,
      testMode: true,
    };
    return { options, key: `${interpreter.executable}\u0000${packageRoot ?? ''}\u0000${folder ?? ''}` };
  }

  /** Settings that did not fit, each shown once (and again only after it changes). */
  private report(problems: readonly string[]): void {
    for (const problem of problems) {
      if (this.reported.has(problem)) continue;
      this.reported.add(problem);
      this.log.warn(problem);
      void vscode.window.showWarningMessage(`SPtrader: ${problem}`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'sptrader.python');
      });
    }
  }

  private async fromPythonExtension(file: vscode.Uri): Promise<string | undefined> {
    this.pythonApi ??= this.loadPythonApi();
    const api = await this.pythonApi;
    if (!api) return undefined;
    try {
      const active = api.environments.getActiveEnvironmentPath(file);
      const resolved = await api.environments.resolveEnvironment(active.path);
      return resolved?.executable.uri?.fsPath ?? active.path;
    } catch (e) {
      this.log.warn(`The Python extension could not say which interpreter to use: ${String(e)}`);
      return undefined;
    }
  }

  private async loadPythonApi(): Promise<PythonEnvironmentsApi | undefined> {
    if (!vscode.extensions.getExtension('ms-python.python')) return undefined;
    try {
      const { PythonExtension } = await import('@vscode/python-extension');
      const api = (await PythonExtension.api()) as unknown as PythonEnvironmentsApi;
      this.disposables.push(
        api.environments.onDidChangeActiveEnvironmentPath(
          () => void this.resetWorkers('the Python environment changed'),
        ),
      );
      return api;
    } catch (e) {
      this.log.warn(`The Python extension is installed but its API is unavailable: ${String(e)}`);
      return undefined;
    }
  }

  private async resetWorkers(why: string): Promise<void> {
    const workers = [...this.workers.values()];
    this.workers.clear();
    if (workers.length) this.log.info(`Python workers restarted: ${why}`);
    await Promise.all(workers.map((w) => w.dispose()));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    void this.resetWorkers('shutting down');
  }
}
