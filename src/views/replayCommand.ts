/**
 * "Replay Component": pick the data (recent files first, the workspace's CSV/Parquet files, Browse…),
 * the symbol and the parameters (from `__metadata__['parameters']`, defaults filled in, each value
 * checked as it is typed), then run the same replay `sptrader replay` runs (replayComponent) under a
 * progress notification whose Cancel stops the Python worker, and show the result panel.
 */
import * as vscode from 'vscode';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { replaceFileSync } from '../common/durableFile';
import { basename, join, resolve, sep } from 'node:path';
import { ReplayDataError, ReplayFeed } from '../brokers/paper/replayFeed';
import { editorReplaysDir } from '../common/statePaths';
import { Commands } from '../constants';
import { replayComponent, replayOutputText, ReplayStateDirError, REPLAY_MARKER } from '../usecases/replay';
import { cancellableRunner, observedRunner } from '../usecases/replayCancel';
import { ReplayRecorder } from '../usecases/replayChart';
import { readParameterSpecs } from '../python/componentParameters';
import type { PythonWorker } from '../python/runner';
import { PythonRunError } from '../python/runner';
import { onlyGiven, pickParameters } from './parameterPicker';
import { ReplayPanel } from './replayPanel';
import type { ViewServices } from './services';
import type { ReplayView } from './replayProtocol';
import { describeReplay, replayLimitsText, replayViewOf } from './replayView';
import { replayStartingParameters, type RunInputsStore } from './runInputsStore';
import type { RiskSettings } from '../usecases/session';
import type { ReplaySettings } from './replaySettings';
import type { RiskLimits } from '../execution/risk';
import { registerCommand } from './shellHooks';
import { lastReplayChoices, ownEntry, rememberedRecord, rememberedStrings } from './workspaceMemory';
import { componentTarget } from './testOrderCommand';
import { InvalidRiskSettings } from './editorSettings';

const RECENT_KEY = 'sptrader.replay.recentData';
const CHOICES_KEY = 'sptrader.replay.lastChoices';
const RECENT_MAX = 8;
/** Replay folders kept in the extension's storage (each holds an audit log and the fills files). */
const KEEP_REPLAYS = 10;
const DATA_GLOB = '**/*.{csv,parquet,CSV,PARQUET}';
const DATA_EXCLUDE = '**/{node_modules,.git,.e2e,out,dist,test-results}/**';

/**
 * `riskSettings`: the limits and circuit breaker of the editor's settings (what Test Order and Execute run
 * under), read at each replay; `inputs`: the components' inputs (Set Component Inputs…), where the
 * parameters form starts; `replaySettings`: `sptrader.replay.*` (when a run of failures stops the replay), read at
 * each replay before anything is asked.
 */
export function registerReplayCommand(
  services: Pick<ViewServices, 'context' | 'log' | 'interpreters'>,
  riskSettings: () => RiskSettings,
  inputs: RunInputsStore,
  replaySettings: () => ReplaySettings,
): void {
  const { context, log } = services;
  const replaysDir = editorReplaysDir(context.globalStorageUri.fsPath);
  let running = false;
  const panel = new ReplayPanel(
    context.extensionUri,
    {
      replayAgain: (view) =>
        vscode.commands.executeCommand(
          Commands.replayComponent,
          vscode.Uri.file(view.file),
          view.className ?? undefined,
        ),
      fillsFile: (view, format) => {
        // A restored panel's view comes back from the webview's state: only a folder of ours is read.
        const dir = view.auditDir ? resolve(view.auditDir, '..') : undefined;
        if (!dir || !dir.startsWith(`${replaysDir}${sep}`)) return undefined;
        const file = join(dir, `fills.${format}`);
        return existsSync(file) ? file : undefined;
      },
    },
    log,
  );
  context.subscriptions.push(panel);

  const run = async (uri?: vscode.Uri, className?: string): Promise<ReplayView | undefined> => {
    if (running) {
      void vscode.window.showWarningMessage(
        'SPtrader: a replay is already running; cancel it from its notification or wait for it to end.',
      );
      return undefined;
    }
    // Set before the first await: a second request arriving while the component is found (a save) must see it.
    running = true;
    let worker: PythonWorker | undefined;
    try {
      // A setting that does not fit is said before the user picks data, symbol and parameters for nothing.
      const { maxConsecutiveErrors } = replaySettings();
      const target = await componentTarget('Replay Component', uri);
      if (!target) return undefined;
      panel.setRunning(true);
      worker = await services.interpreters.replayWorkerFor(target);
      const info = await worker.inspect(target.fsPath);
      const classes = info.classes.filter((c) => c.entryPoint !== null);
      const chosenClass = typeof className === 'string' ? className : await pickClass(classes);
      if (chosenClass === null) return undefined;
      if (info.metadataError) log.warn(`Replay: ${target.fsPath}: ${info.metadataError}`);
      const { specs, problems } = readParameterSpecs(info.metadata);
      for (const p of problems) log.warn(`Replay: ${target.fsPath}: ${p}`);

      const choicesKey = `${target.fsPath}#${chosenClass ?? ''}`;
      const allChoices = rememberedRecord(context.workspaceState.get<unknown>(CHOICES_KEY));
      const last = lastReplayChoices(ownEntry(allChoices, choicesKey));
      const dataFile = await pickDataFile(context.workspaceState);
      if (!dataFile) return undefined;
      const symbolSpec = specs.find((s) => s.name === 'symbol');
      const symbol = await vscode.window.showInputBox({
        title: `Replay ${chosenClass ?? basename(target.fsPath)}: symbol`,
        prompt: `The instrument ${basename(dataFile)} records (orders for another symbol are not sent)`,
        value: last.symbol ?? (typeof symbolSpec?.default === 'string' ? symbolSpec.default : undefined) ?? 'EUR_USD',
        ignoreFocusOut: true,
        validateInput: (v) =>
          /^[A-Za-z0-9][A-Za-z0-9_./:-]{0,31}$/.test(v.trim())
            ? undefined
            : 'A symbol such as EUR_USD, AAPL or BTC/USDT (letters, digits, _ . / : -)',
      });
      if (symbol === undefined) return undefined;
      const start = replayStartingParameters(inputs.get(target.fsPath), last.parameters);
      const given: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(start.parameters))
        if (specs.some((s) => s.name === name)) given[name] = value;
      // A component that declares its symbol trades the data's.
      if (symbolSpec && (symbolSpec.type === 'str' || symbolSpec.type === 'any')) given['symbol'] = symbol.trim();
      const parameters = await pickParameters(
        `Replay ${chosenClass ?? basename(target.fsPath)}`,
        specs,
        given,
        'Run the replay',
        start.from === 'defaults' ? undefined : `starting from the ${start.from}`,
      );
      if (!parameters) return undefined;

      allChoices[choicesKey] = { symbol: symbol.trim(), parameters: onlyGiven(specs, parameters) };
      await context.workspaceState.update(CHOICES_KEY, allChoices);
      await remember(context.workspaceState, dataFile);

      const settings = riskSettings();
      const view = await runReplay({
        settings,
        file: target.fsPath,
        className: chosenClass,
        dataFile,
        symbol: symbol.trim(),
        parameters,
        maxConsecutiveErrors,
        worker,
        replaysDir,
        log,
      });
      if (!view) return undefined;
      panel.show(view);
      const message = describeReplay(view);
      log.info(`${message} (${view.auditDir ?? 'no audit log'})`);
      const show = view.status === 'STOPPED' ? vscode.window.showErrorMessage : vscode.window.showInformationMessage;
      void show(`SPtrader ${message}`, 'Show Log').then((choice) => {
        if (choice) log.show();
      });
      return view;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error(`Replay failed: ${message}`);
      // Invalid risk settings were just shown, each with Open Settings: a second notification would say it again.
      if (e instanceof InvalidRiskSettings && e.shown) return undefined;
      const interpreter = e instanceof PythonRunError && /INTERPRETER/.test(e.code);
      void vscode.window
        .showErrorMessage(`SPtrader Replay: ${message}`, ...(interpreter ? ['Select Interpreter'] : []))
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('python.setInterpreter');
        });
      return undefined;
    } finally {
      running = false;
      panel.setRunning(false);
      await worker?.dispose();
    }
  };

  context.subscriptions.push(
    registerCommand(Commands.replayComponent, (uri?: vscode.Uri, className?: string) => run(uri, className)),
  );
}

/** The replay itself, under a cancellable progress notification; undefined when the data could not be read. */
async function runReplay(options: {
  settings: RiskSettings;
  file: string;
  className: string | undefined;
  dataFile: string;
  symbol: string;
  parameters: Record<string, unknown>;
  maxConsecutiveErrors: number;
  worker: PythonWorker;
  replaysDir: string;
  log: vscode.LogOutputChannel;
}): Promise<ReplayView | undefined> {
  const name = options.className ?? basename(options.file);
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `SPtrader: Replay ${name} over ${basename(options.dataFile)}`,
      cancellable: true,
    },
    async (progress, token) => {
      progress.report({ message: 'reading the data…' });
      let feed: ReplayFeed;
      try {
        feed = await ReplayFeed.load(options.dataFile, { symbol: options.symbol });
      } catch (e) {
        if (e instanceof ReplayDataError) {
          void vscode.window.showErrorMessage(`SPtrader Replay: ${e.message}`);
          return undefined;
        }
        throw e;
      }
      const controller = new AbortController();
      const cancel = token.onCancellationRequested(() => {
        options.log.info(`Replay of ${name}: cancelled; stopping its Python worker`);
        controller.abort();
      });
      const stateDir = newReplayDir(options.replaysDir, name);
      const recorder = new ReplayRecorder(feed);
      const unit = feed.kind === 'candles' ? 'candles' : 'ticks';
      let shown = 0;
      let reportedAt = 0;
      let orders = 0;
      let fills = 0;
      const tell = (processed: number, total: number): void => {
        const percent = total > 0 ? (processed / total) * 100 : 100;
        progress.report({
          increment: Math.max(0, percent - shown),
          message: `${processed.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} ${unit} · ${orders.toLocaleString('en-US')} orders · ${fills.toLocaleString('en-US')} fills`,
        });
        shown = Math.max(shown, percent);
        reportedAt = Date.now();
      };
      // Within a batch, the records reached as the component reads capital (twice a second at most).
      const runner = observedRunner(options.worker, (index) => {
        if (Date.now() - reportedAt >= 500) tell(index, feed.length);
      });
      try {
        const report = await replayComponent({
          file: options.file,
          ...(options.className === undefined ? {} : { className: options.className }),
          data: feed,
          parameters: options.parameters,
          maxConsecutiveErrors: options.maxConsecutiveErrors,
          // The settings' limits, without the submit-rate limit: a replay's clock is simulated.
          limits: withoutRateLimit(options.settings.limits),
          circuitBreaker: options.settings.circuitBreaker,
          runner: cancellableRunner(runner, () => options.worker.stop(), controller.signal),
          stateDir,
          engineFactory: recorder.engineFactory(),
          fillsCsv: join(stateDir, 'fills.csv'),
          fillsParquet: join(stateDir, 'fills.parquet'),
          // Twice a second: a notification redrawn more often is hard to click (its Cancel moves under the pointer).
          progressIntervalMs: 500,
          onProgress: (p) => {
            orders = p.ordersSent;
            fills = p.fills;
            tell(p.processed, p.total);
          },
        });
        // Replaced whole: a kill while it is written leaves no empty or partial report.
        replaceFileSync(join(stateDir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
        // What the component printed goes to the log, as a Test Order's does (the CLI's summary shows it too).
        const printed = replayOutputText(report.output);
        if (printed !== undefined) options.log.info(`Replay of ${name} over ${basename(options.dataFile)}\n${printed}`);
        pruneReplays(options.replaysDir, stateDir, options.log);
        return replayViewOf(report, recorder.result(report.processed), {
          ranAt: Date.now(),
          dataFile: options.dataFile,
          parameters: options.parameters,
          exports: { csv: report.fillsFiles.csv !== undefined, parquet: report.fillsFiles.parquet !== undefined },
          limits: replayLimitsText(withoutRateLimit(options.settings.limits), options.settings.circuitBreaker),
          ...(options.className === undefined ? {} : { className: options.className }),
        });
      } catch (e) {
        if (e instanceof ReplayStateDirError) throw new Error(e.message);
        throw e;
      } finally {
        cancel.dispose();
      }
    },
  );
}

function withoutRateLimit(limits: RiskLimits): RiskLimits {
  const { maxOrdersPerSecond: _rate, orderBurst: _burst, ...rest } = limits;
  return rest;
}

/** A new folder for one replay under the extension's storage, named by time and component. */
function newReplayDir(root: string, name: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const slug = name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40);
  let dir = join(root, `${stamp}-${slug}`);
  for (let n = 2; existsSync(dir); n++) dir = join(root, `${stamp}-${slug}-${n}`);
  return dir;
}

/** Keeps the newest replay folders; removes only folders a replay marked as its own. */
function pruneReplays(root: string, keep: string, log: vscode.LogOutputChannel): void {
  try {
    const marked = readdirSync(root)
      .map((entry) => join(root, entry))
      .filter((dir) => dir !== keep && existsSync(join(dir, REPLAY_MARKER)))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    for (const dir of marked.slice(KEEP_REPLAYS - 1)) rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    log.warn(`Replay: older replay folders in ${root} could not be pruned: ${(e as Error).message}`);
  }
}

async function pickClass(
  classes: ReadonlyArray<{ name: string; line: number; entryPoint: string | null }>,
): Promise<string | undefined | null> {
  if (classes.length <= 1) return classes[0]?.name;
  const picked = await vscode.window.showQuickPick(
    classes.map((c) => ({ label: c.name, description: `line ${c.line}, ${c.entryPoint ?? ''}` })),
    { title: 'Replay Component: which class?', ignoreFocusOut: true },
  );
  return picked ? picked.label : null;
}

interface DataItem extends vscode.QuickPickItem {
  path?: string;
  browse?: boolean;
}

/** Recent data files first (those that still exist), then the workspace's CSV and Parquet files, then Browse…. */
async function pickDataFile(state: vscode.Memento): Promise<string | undefined> {
  const recent = rememberedStrings(state.get<unknown>(RECENT_KEY)).filter((p) => existsSync(p));
  const found = await vscode.workspace.findFiles(DATA_GLOB, DATA_EXCLUDE, 200);
  const inWorkspace = found
    .map((u) => u.fsPath)
    .filter((p) => !recent.includes(p))
    .sort();
  const item = (path: string, description: string): DataItem => ({
    label: `$(file) ${basename(path)}`,
    description,
    detail: vscode.workspace.asRelativePath(path),
    path,
  });
  const items: DataItem[] = [
    ...(recent.length > 0 ? [{ label: 'Recent', kind: vscode.QuickPickItemKind.Separator } as DataItem] : []),
    ...recent.map((p) => item(p, 'recent')),
    ...(inWorkspace.length > 0 ? [{ label: 'Workspace', kind: vscode.QuickPickItemKind.Separator } as DataItem] : []),
    ...inWorkspace.map((p) => item(p, '')),
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(folder-opened) Browse…', description: 'a .csv or .parquet file anywhere', browse: true },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Replay Component: data (candles time,open,high,low,close[,volume] or ticks time,bid,ask)',
    placeHolder: 'A CSV or Parquet file of candles or ticks',
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (!picked.browse) return picked.path;
  const chosen = await vscode.window.showOpenDialog({
    title: 'Replay data (candles or ticks)',
    canSelectMany: false,
    openLabel: 'Replay This Data',
    filters: { 'Candles or ticks': ['csv', 'parquet'] },
  });
  return chosen?.[0]?.fsPath;
}

async function remember(state: vscode.Memento, file: string): Promise<void> {
  const recent = rememberedStrings(state.get<unknown>(RECENT_KEY)).filter((p) => p !== file);
  await state.update(RECENT_KEY, [file, ...recent].slice(0, RECENT_MAX));
}
