/**
 * "Test Order", "Execute on Paper" and "Debug Order": run the component, send its order through the
 * engine, and show the outcome in the result panel, the log and Problems. The trading itself is
 * `runTestOrder`'s. Debug Order is Test Order on the paper venue (a scratch copy of the account) with the
 * component run once under the debugger (`debugOrder.ts`, `python/debugRun.ts`).
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { RunInputsStore, type ResolvedInputs } from './runInputsStore';
import { registerCommand } from './shellHooks';
import { systemClock } from '../common/clock';
import type { BrokerApi } from '../brokers/broker';
import { Commands } from '../constants';
import type { ViewServices } from './services';
import { describeOutcome } from '../usecases/describeOrder';
import { formatOutcome } from '../usecases/formatOutcome';
import { failedBeforeRun, runTestOrder, type TestOrderOutcome } from '../usecases/testOrder';
import { RunDiagnostics } from './diagnostics';
import { withCancellableProgress, withDelayedProgress } from './progress';
import { chooseDebugger, DebugOrderSessions } from './debugOrder';
import { PythonDebugRunner } from '../python/debugRun';
import type { ComponentRunner } from '../usecases/testOrder';
import type { ResultView, RunKind } from './protocol';
import { QuoteHistory, quotePointOf } from './quoteHistory';
import { ResultPanel } from './resultPanel';
import { followedParentView, followedView, resultViewOf } from './resultView';
import { presumptiveFees } from '../brokers/registry';
import { activeProfileSetting } from './trees';

/** What these views use of the services the composition root hands out. */
type TestOrderCommandServices = Pick<
  ViewServices,
  'context' | 'log' | 'session' | 'profiles' | 'paper' | 'interpreters' | 'parents'
>;

const LABELS: Record<RunKind, string> = {
  'test-order': 'Test Order',
  'execute-paper': 'Execute on Paper',
  'execute-live': 'Execute Live',
  'debug-order': 'Debug Order',
};
const RUN_AGAIN: Record<RunKind, string> = {
  'test-order': Commands.testOrder,
  'execute-paper': Commands.executeOnPaper,
  'execute-live': Commands.executeLive,
  'debug-order': Commands.debugOrder,
};

/** Where a run's outcome is shown (the result panel), for the commands that run components. */
export interface RunResults {
  show(outcome: TestOrderOutcome, kind: RunKind): void;
  /** The result the panel shows last, and when it changes (for the Explorer's SPtrader section). */
  readonly lastResult: () => ResultView | null;
  readonly onResult: vscode.Event<unknown>;
}

export function registerOrderRunCommands(services: TestOrderCommandServices): RunResults {
  const { context, log, parents } = services;
  const quotes = new QuoteHistory();
  const runInputs = new RunInputsStore(context.workspaceState);
  const diagnostics = new RunDiagnostics();
  const debugSessions = new DebugOrderSessions();
  const panel = new ResultPanel(
    context.extensionUri,
    {
      runAgain: (view) =>
        vscode.commands.executeCommand(RUN_AGAIN[view.kind], vscode.Uri.file(view.file), view.className ?? undefined),
      sampleQuote: async (venue, symbol) => {
        const broker = services.profiles.brokers.get(venue);
        if (!broker?.isConnected()) return undefined;
        try {
          const quote = await broker.getQuote(symbol);
          const point = { time: quote.timestamp, bid: quote.bid, ask: quote.ask };
          quotes.record(symbol, point);
          return point;
        } catch {
          return undefined;
        }
      },
    },
    log,
  );
  context.subscriptions.push(diagnostics, panel, debugSessions);
  // The panel stays true: a resting order's fills, a cancel (from the tree, the emergency stop), an expiry.
  // A parent's view follows the parent: its own records, and its children's events.
  const followParent = (parentId: string): void => {
    const view = panel.result;
    const parent = parents.get(parentId);
    if (!view || !parent) return;
    const next = followedParentView(view, parent);
    if (next) panel.update(next);
  };
  context.subscriptions.push(
    parents.onDidChange((p) => followParent(p.parentId)),
    services.session.onEngineEvent((event) => {
      const view = panel.result;
      if (view?.parent && 'clientOrderId' in event && event.clientOrderId.startsWith(`${view.parent.parentId}-`))
        return followParent(view.parent.parentId);
      if (!view?.clientOrderId) return;
      const next = followedView(view, event, services.session.openSession?.engine.getOrder(view.clientOrderId));
      if (next) panel.update(next);
    }),
  );

  const going = new Set<string>();
  const run = async (kind: RunKind, uri?: vscode.Uri, className?: string): Promise<TestOrderOutcome | undefined> => {
    const label = LABELS[kind];
    // What the user waits is measured from here to the result drawn in the panel (the panel's "You waited").
    const requestedAt = Date.now();
    const target = await componentTarget(label, uri);
    if (!target) return undefined;
    // A second request for the same run while it goes (a double-click on a CodeLens, a key held down) would run
    // the component again and send its order twice: it is refused until the first has ended.
    const key = `${kind}\u0000${target.fsPath}\u0000${typeof className === 'string' ? className : ''}`;
    if (going.has(key)) {
      log.info(`${label} ${target.fsPath}: already running; the second request is ignored`);
      void vscode.window.showInformationMessage(
        `SPtrader: ${label} of ${typeof className === 'string' ? className : basename(target.fsPath)} is already running; its result shows in the result panel when it ends.`,
      );
      return undefined;
    }
    going.add(key);
    try {
      return await runOn(kind, target, uri, className, requestedAt);
    } finally {
      going.delete(key);
    }
  };

  const runOn = async (
    kind: RunKind,
    target: vscode.Uri,
    uri: vscode.Uri | undefined,
    className: string | undefined,
    requestedAt: number,
  ): Promise<TestOrderOutcome | undefined> => {
    const label = LABELS[kind];
    // What the user set for this component (parameters, signal and market-data fixtures): read now, so a
    // fixture that went missing stops the run with its name rather than running without it.
    let inputs: ResolvedInputs;
    try {
      inputs = runInputs.resolve(target.fsPath);
    } catch (e) {
      const message = (e as Error).message;
      log.error(`${label} ${target.fsPath}: ${message}`);
      void vscode.window.showErrorMessage(`SPtrader ${label}: ${message}`, 'Component Inputs…').then((choice) => {
        if (choice) void vscode.commands.executeCommand(Commands.testInputs, target);
      });
      return undefined;
    }
    // Test Order goes to the active profile (connected on demand); Execute on Paper always to the paper venue,
    // and Debug Order to a scratch copy of it, as Test Order on paper does.
    const active = activeProfileSetting();
    if (kind === 'test-order' && active.problem) {
      log.error(`${label} ${target.fsPath}: ${active.problem}`);
      void vscode.window.showErrorMessage(`SPtrader ${label}: ${active.problem}. Nothing was run.`);
      return undefined;
    }
    const profileId = kind === 'test-order' ? active.id : services.paper.id;
    let broker: BrokerApi = services.paper;
    const started = performance.now();
    panel.setRunning(true);
    panel.open(`${label}: ${basename(target.fsPath)}…`);
    let outcome: TestOrderOutcome;
    const title = `SPtrader: ${label}${className ? ` ${className}` : ''}`;
    // Debug Order's run may wait at a breakpoint for as long as the user likes: its notification stays and can cancel it.
    let debugRun: PythonDebugRunner | undefined;
    const progress =
      kind === 'debug-order'
        ? <T>(task: (say: (message: string) => void) => Promise<T>) =>
            withCancellableProgress(title, () => void debugRun?.cancel(), task)
        : <T>(task: (say: (message: string) => void) => Promise<T>) =>
            withDelayedProgress(title, () => task(() => undefined));
    try {
      outcome = await progress(async (say) => {
        const worker = await services.interpreters.workerFor(
          target,
          kind !== 'execute-paper' && kind !== 'execute-live',
        );
        let runner: ComponentRunner = worker;
        let attached: vscode.Disposable | undefined;
        if (kind === 'debug-order') {
          const choice = chooseDebugger();
          const run = new PythonDebugRunner(await services.interpreters.runnerOptionsFor(target), worker, {
            ...(choice.debugpyPath ? { debugpyPath: choice.debugpyPath } : {}),
            onListening: async (endpoint) => {
              log.info(
                `Debug Order ${target.fsPath}: debugpy ${endpoint.debugpyVersion ?? ''} (${endpoint.debugpyPath}) listens on ${endpoint.host}:${endpoint.port}; attaching ${choice.type}`,
              );
              say(`waiting for the debugger on ${endpoint.host}:${endpoint.port}…`);
              attached = await debugSessions.attach(target, endpoint, choice, () => {
                log.info(`Debug Order ${target.fsPath}: the debug session was stopped; the run is cancelled`);
                void run.cancel();
              });
              say(
                'the component stops at your breakpoints; Continue (F5) sends its order to a scratch copy of the paper account. Cancel sends nothing.',
              );
            },
          });
          debugRun = run;
          runner = run;
        }
        const { engine } = await services.session.trading();
        if (profileId !== services.paper.id) broker = await services.profiles.connectProfile(profileId);
        try {
          return await runTestOrder(
            {
              file: target.fsPath,
              className: typeof className === 'string' ? className : undefined,
              source: kind === 'debug-order' ? 'test-order' : kind,
              ...(inputs.parameters ? { parameters: inputs.parameters } : {}),
              ...(inputs.signal !== undefined ? { signal: inputs.signal } : {}),
              ...(inputs.marketData ? { marketData: inputs.marketData } : {}),
            },
            {
              runner,
              broker,
              engine,
              clock: systemClock,
              // A routed order chooses among the venues of this window (paper and the connected profiles).
              route: {
                venues: services.profiles.brokers,
                connect: async (id) => void (await services.profiles.connectProfile(id)),
                fees: (id, instrument) => {
                  const kind = services.profiles.profile(id)?.broker;
                  return kind === undefined ? undefined : presumptiveFees(kind, instrument);
                },
              },
              // Execute on Paper carries out a parent order as children; Test Order checks it only.
              ...(kind === 'execute-paper' ? { parents } : {}),
            },
          );
        } finally {
          attached?.dispose();
        }
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const raw = (e as { code?: unknown }).code;
      const code = typeof raw === 'string' ? raw : 'RUN_FAILED';
      log.error(`${label} failed: ${message}`);
      const actions = /INTERPRETER/.test(code) ? ['Select Interpreter'] : [];
      void vscode.window.showErrorMessage(`SPtrader: ${message}`, ...actions).then((choice) => {
        if (choice === 'Select Interpreter') void vscode.commands.executeCommand('python.setInterpreter');
      });
      const environment =
        services.profiles.brokers.get(profileId)?.environment ??
        services.profiles.profile(profileId)?.environment ??
        'unknown';
      outcome = failedBeforeRun(
        target.fsPath,
        { id: profileId, environment },
        { code, message },
        performance.now() - started,
      );
    } finally {
      panel.setRunning(false);
    }
    const decided = quotePointOf(outcome.marketData, systemClock.now());
    if (decided) quotes.record(decided.symbol, decided.point);
    const symbol = outcome.order?.symbol ?? decided?.symbol;
    if (symbol && broker.isConnected()) {
      const after = await broker.getQuote(symbol).catch(() => undefined);
      if (after) quotes.record(symbol, { time: after.timestamp, bid: after.bid, ask: after.ask });
    }
    if (inputs.summary) outcome.notes.unshift(`Inputs: ${inputs.summary}`);
    log.info(`${label} ${target.fsPath}\n${formatOutcome(outcome)}`);
    await diagnostics.update(outcome);
    const view = resultViewOf(outcome, {
      kind,
      ranAt: systemClock.now(),
      quotes: symbol ? quotes.recent(symbol) : [],
      // A picker in between (no component open) is the user's time, not the run's.
      ...(uri === undefined && vscode.window.activeTextEditor === undefined ? {} : { requestedAt }),
    });
    panel.show(view);
    const show = outcome.ok ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
    // What was traded and what happened ("BUY 10,000 EUR_USD MKT IOC → FILLED 10,000 @ 1.07922 (+0.2 pip)"), and where.
    const where = outcome.scratch
      ? ' (a scratch copy of the paper account: it is unchanged)'
      : kind === 'test-order' && outcome.response && outcome.venue.environment !== 'paper'
        ? ` (sent to its ${outcome.venue.environment} account)`
        : '';
    // A denial for buying power on the paper venue offers the way out: a fresh paper account.
    // A denial by the trading state (HALTED, REDUCING) offers the way back: the trading menu's Resume.
    const code = outcome.denial?.code;
    const actions =
      code === 'NOTIONAL_EXCEEDS_BUYING_POWER' && outcome.venue.id === services.paper.id
        ? ['Reset Paper Account…', 'Show Log']
        : code === 'TRADING_HALTED' || code === 'TRADING_STATE_REDUCING'
          ? ['Resume Trading…', 'Show Log']
          : outcome.errors[0]?.code === 'DEBUGPY_NOT_FOUND'
            ? ['Install Python Debugger', 'Show Log']
            : ['Show Log'];
    // After the panel has drawn the result when it is on screen (its own frame, then the toast's), at once otherwise.
    void panel.onScreen(view).then(() =>
      show(`SPtrader ${label} on ${outcome.venue.id}${where}: ${describeOutcome(outcome)}`, ...actions).then(
        (choice) => {
          if (choice === 'Show Log') log.show();
          else if (choice === 'Reset Paper Account…') void vscode.commands.executeCommand(Commands.resetPaperAccount);
          else if (choice === 'Resume Trading…') void vscode.commands.executeCommand(Commands.resumeTrading);
          else if (choice === 'Install Python Debugger')
            void vscode.commands.executeCommand('workbench.extensions.search', '@id:ms-python.debugpy');
        },
      ),
    );
    return outcome;
  };

  context.subscriptions.push(
    registerCommand(Commands.testOrder, (uri?: vscode.Uri, className?: string) => run('test-order', uri, className)),
    registerCommand(Commands.executeOnPaper, (uri?: vscode.Uri, className?: string) =>
      run('execute-paper', uri, className),
    ),
    registerCommand(Commands.debugOrder, (uri?: vscode.Uri, className?: string) => run('debug-order', uri, className)),
  );
  return {
    lastResult: () => panel.result,
    onResult: panel.onDidDraw,
    show: (outcome, kind) => {
      const symbol = outcome.order?.symbol;
      panel.show(
        resultViewOf(outcome, { kind, ranAt: systemClock.now(), quotes: symbol ? quotes.recent(symbol) : [] }),
      );
    },
  };
}

/** The order component a run command acts on (the argument, else the active editor), in a trusted workspace and saved. */
export async function componentTarget(label: string, uri?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target || !target.fsPath.endsWith('.py')) {
    void vscode.window.showWarningMessage(`Open a Python order component first, then run SPtrader: ${label}.`);
    return undefined;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window
      .showWarningMessage(
        `SPtrader runs order components only in a trusted workspace: they are Python programs with your permissions. Trust this workspace to use ${label}.`,
        'Manage Workspace Trust',
      )
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      });
    return undefined;
  }
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
  if (document?.isDirty) await document.save();
  // A CodeLens or a panel can name a file deleted or moved since, or a folder named *.py; Python would only say
  // it cannot import it, after the engine and the venue were opened for nothing.
  const missing = notARegularFile(target);
  if (missing) {
    void vscode.window.showErrorMessage(
      `SPtrader ${label}: ${target.fsPath} ${missing}; open the order component and run ${label} again.`,
    );
    return undefined;
  }
  return target;
}

/** Why `target` is not a component file to run, or undefined when it is a regular file on disk. */
function notARegularFile(target: vscode.Uri): string | undefined {
  if (target.scheme !== 'file') return `is not a file on this computer (${target.scheme}:)`;
  try {
    const stat = statSync(target.fsPath);
    return stat.isFile() ? undefined : stat.isDirectory() ? 'is a folder' : 'is not a regular file';
  } catch {
    return 'does not exist (deleted or moved?)';
  }
}
