/**
 * The editor's composition root: builds the core services once and hands them to the views.
 * Nothing here trades; it only wires. The engine (with its audit log and trading state) lives in
 * the extension's global storage and is opened on first use, so activation stays fast.
 */
import * as vscode from 'vscode';
import { systemClock } from './common/clock';
import type { BrokerApi } from './brokers/broker';
import { PaperBroker } from './brokers/paper/paperBroker';
import { createBroker, type BrokerProfile } from './brokers/registry';
import { Commands, OUTPUT_CHANNEL_NAME, Settings } from './constants';
import type { EngineEvent } from './execution/events';
import { openTradingSession, parseRiskSettings, type RiskSettings, type TradingSession } from './execution/session';
import { recoverStateDir, type RecoverReport } from './execution/recover';
import { acquireStateDirLock } from './common/stateLock';
import { editorStateDir, openEditorStateFolder } from './common/statePaths';
import type { CredentialSource } from './brokers/credentials';
import { credentialBinding, secretStorageCredentials } from './views/credentials';
import { registerCompareCommand } from './views/compareCommand';
import { registerExecuteLiveCommand } from './views/executeLiveCommand';
import { InterpreterService } from './views/interpreter';
import { registerOrderCommands } from './views/orderCommands';
import { registerProfileCommands } from './views/profileCommands';
import { asProfileVenue, PAPER_PROFILE_ID } from './views/profiles';
import { effectiveLimits, userLiveEnabled, userProfiles, type IgnoredWorkspaceSetting } from './views/settingsPolicy';
import { registerStatusBar } from './views/statusBar';
import { registerOrderRunCommands } from './views/testOrderCommand';
import { registerTradingCommands } from './views/tradingCommands';
import { registerTrees } from './views/trees';

export class Container {
  private session: Promise<TradingSession> | undefined;
  private readonly engineEvents = new vscode.EventEmitter<EngineEvent>();
  private readonly sessionOpened = new vscode.EventEmitter<TradingSession>();
  /** Every engine event, for the views (trees, status bar); fired once the engine is open. */
  readonly onEngineEvent = this.engineEvents.event;
  /** Fired when the engine has opened and connected its venues: views read their first state then. */
  readonly onDidOpenSession = this.sessionOpened.event;
  private readonly profilesChanged = new vscode.EventEmitter<void>();
  /** Fired when a profile is added, changed, connected or disconnected. */
  readonly onDidChangeProfiles = this.profilesChanged.event;
  /** The venues registered with the engine, by profile id: the paper venue always, others once connected. */
  private readonly venues = new Map<string, BrokerApi>();
  /** Profile problems already shown, so each is reported once. */
  private readonly reportedProblems = new Set<string>();
  private openedSession: TradingSession | undefined;

  private constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly paperBroker: PaperBroker,
    readonly interpreters: InterpreterService,
  ) {
    this.venues.set(PAPER_PROFILE_ID, paperBroker);
    context.subscriptions.push(this.engineEvents, this.sessionOpened, this.profilesChanged);
  }

  static create(context: vscode.ExtensionContext): Container {
    const log = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true });
    context.subscriptions.push(log);
    try {
      const config = vscode.workspace.getConfiguration(Settings.section);
      const startingCash = config.get<number | null>(Settings.paperStartingCash) ?? undefined;
      const seed = config.get<number | null>(Settings.paperSeed) ?? undefined;
      // One layout with the CLI's (common/statePaths.ts): an older editor's paper accounts move in once.
      const folder = openEditorStateFolder(context.globalStorageUri.fsPath);
      for (const file of folder.moved) log.info(`Paper account moved into the state folder: ${file}`);
      for (const file of folder.setAside)
        log.warn(`A paper account rebuilt by recover was set aside for the one the editor used: ${file}`);
      const paperBroker = new PaperBroker({
        clock: systemClock,
        stateFile: folder.paperAccount,
        startingCash,
        seed,
        onError: (message, error) =>
          log.error(`Paper venue: ${message}: ${error instanceof Error ? error.message : String(error)}`),
      });
      const interpreters = new InterpreterService(log);
      context.subscriptions.push(interpreters);
      const container = new Container(context, log, paperBroker, interpreters);
      const results = registerOrderRunCommands(container);
      registerTradingCommands(container);
      registerOrderCommands(container);
      registerProfileCommands(container);
      registerExecuteLiveCommand(container, results);
      registerCompareCommand(container);
      registerTrees(container);
      registerStatusBar(container);
      context.subscriptions.push(
        vscode.workspace.onDidChangeConfiguration((e) => {
          if (
            e.affectsConfiguration(`${Settings.section}.risk`) ||
            e.affectsConfiguration(`${Settings.section}.circuitBreaker`)
          )
            void container.applySettings();
          if (e.affectsConfiguration(`${Settings.section}.${Settings.brokerProfiles}`))
            container.profilesChanged.fire();
          if (e.affectsConfiguration(`${Settings.section}.paper`))
            void vscode.window.showInformationMessage(
              'SPtrader: the paper venue settings apply after a window reload.',
            );
        }),
      );
      log.info('SPtrader Order Execution activated');
      return container;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log.error(`Activation failed: ${message}`);
      void vscode.window.showErrorMessage(`SPtrader could not start: ${message}`);
      throw e;
    }
  }

  /** Venues registered with the engine by profile id (connected, or connecting). */
  get brokers(): ReadonlyMap<string, BrokerApi> {
    return this.venues;
  }

  /**
   * Every usable profile (paper first), from the user's settings only (see settingsPolicy.ts); invalid
   * entries are reported once and skipped, and so are profiles a workspace tries to define.
   */
  profiles(): readonly BrokerProfile[] {
    const inspected = vscode.workspace.getConfiguration(Settings.section).inspect<unknown>(Settings.brokerProfiles);
    const { profiles, problems, ignored } = userProfiles(inspected);
    this.reportIgnored(ignored);
    for (const problem of problems) {
      if (this.reportedProblems.has(problem.message)) continue;
      this.reportedProblems.add(problem.message);
      this.log.error(`Broker profile: ${problem.message} (field ${problem.fields.join(', ')})`);
      void vscode.window.showWarningMessage(`SPtrader: ${problem.message}`, 'Open Settings').then((choice) => {
        if (choice)
          void vscode.commands.executeCommand('workbench.action.openSettingsJson', {
            revealSetting: { key: 'sptrader.brokerProfiles' },
          });
      });
    }
    return profiles;
  }

  profile(id: string): BrokerProfile | undefined {
    return this.profiles().find((p) => p.id === id);
  }

  /** `sptrader.live.enabled` from the user's settings; a workspace cannot turn live trading on. */
  liveEnabled(): boolean {
    const { enabled, ignored } = userLiveEnabled(
      vscode.workspace.getConfiguration(Settings.section).inspect<unknown>(Settings.liveEnabled),
    );
    this.reportIgnored(ignored);
    return enabled;
  }

  /**
   * A profile's credentials: the SecretStorage entries bound to its venue, environment and endpoint
   * (views/credentials.ts). Every profile here comes from the user's settings, so a value stored by an
   * earlier version under the profile id alone is adopted for it.
   */
  credentialsFor(profile: BrokerProfile): CredentialSource {
    return secretStorageCredentials(this.context.secrets, credentialBinding(profile), { adoptLegacy: true });
  }

  /** Workspace settings that are not applied: each said once, in the log and in a warning. */
  private reportIgnored(ignored: readonly IgnoredWorkspaceSetting[]): void {
    for (const { message } of ignored) {
      if (this.reportedProblems.has(message)) continue;
      this.reportedProblems.add(message);
      this.log.warn(`Workspace settings: ${message}`);
      void vscode.window.showWarningMessage(`SPtrader: ${message}`);
    }
  }

  /** Connects a profile's venue (built on first use with its SecretStorage credentials) and reconciles it. */
  async connectProfile(id: string): Promise<BrokerApi> {
    const { engine } = await this.trading();
    const existing = this.venues.get(id);
    if (existing?.isConnected() && engine.hasBroker(id)) return existing;
    const profile = this.profile(id);
    if (!profile)
      throw new Error(
        `there is no broker profile "${id}": add it with "SPtrader: Add Broker Profile" or fix it in the setting sptrader.brokerProfiles`,
      );
    const broker =
      existing ??
      asProfileVenue(
        createBroker(profile, {
          clock: systemClock,
          credentials: this.credentialsFor(profile),
          stateDir: this.stateDir,
        }),
        profile,
      );
    if (!engine.hasBroker(id)) engine.addBroker(id, broker);
    this.venues.set(id, broker);
    try {
      await engine.connect(id);
    } catch (e) {
      if (id !== PAPER_PROFILE_ID) {
        // A venue that failed to connect is dropped so the next attempt starts afresh, unless it still has working orders.
        try {
          engine.removeBroker(id);
          this.venues.delete(id);
        } catch {
          /* kept registered: its working orders need it */
        }
        await broker.disconnect().catch(() => undefined);
      }
      this.profilesChanged.fire();
      throw e;
    }
    this.log.info(`Connected broker profile ${id} (${broker.environment})`);
    this.profilesChanged.fire();
    return broker;
  }

  /** Unregisters and disconnects a profile's venue; refused while it has working orders. */
  async disconnectProfile(id: string): Promise<void> {
    if (id === PAPER_PROFILE_ID)
      throw new Error('the built-in paper profile stays connected (reset it with "SPtrader: Reset Paper Account")');
    const broker = this.venues.get(id);
    if (!broker) return;
    const engine = this.openedSession?.engine;
    if (engine?.hasBroker(id)) engine.removeBroker(id);
    this.venues.delete(id);
    try {
      await broker.disconnect();
    } finally {
      this.log.info(`Disconnected broker profile ${id}`);
      this.profilesChanged.fire();
    }
  }

  /** The engine when it is already open (views must not open it just to draw themselves). */
  get openSession(): TradingSession | undefined {
    return this.openedSession;
  }

  get stateDir(): string {
    return editorStateDir(this.context.globalStorageUri.fsPath);
  }

  /** The engine over the extension's state; opened (and the paper venue connected and reconciled) once. */
  trading(): Promise<TradingSession> {
    this.session ??= (async () => {
      const session = await openTradingSession({
        stateDir: this.stateDir,
        clock: systemClock,
        brokers: { paper: this.paperBroker },
        settings: this.riskSettings(),
        purpose: 'the SPtrader VS Code extension',
      });
      try {
        await this.started(session);
      } catch (e) {
        // Half-opened: give the state directory back, so that a later command (or another window) can open it.
        await session.close().catch(() => undefined);
        throw e;
      }
      this.openedSession = session;
      this.sessionOpened.fire(session);
      return session;
    })();
    this.session.catch(() => (this.session = undefined));
    return this.session;
  }

  private async started(session: TradingSession): Promise<void> {
    const r = session.recovery;
    if (r.tornTailRemoved)
      this.log.warn(`Audit log: a torn last line (${r.tornTailBytes} bytes) left by a crash was removed`);
    if (r.anchorMissing)
      this.log.warn(
        `Audit log: anchor.json was missing; written anew at seq ${r.lastSeq} (a cut before now cannot be checked against it)`,
      );
    if (!r.verified) {
      this.log.error(`Audit log at ${session.audit.dir} does not verify: ${r.problemCount} problems`);
      void vscode.window.showErrorMessage(
        `SPtrader: the audit log does not verify (${r.problemCount} problems). Run "SPtrader: Verify Audit Log".`,
      );
    }
    session.engine.subscribe((e) => {
      if (e.type === 'TradingStateChanged') this.log.warn(`Trading ${e.from} → ${e.to}: ${e.reason}`);
      else if (e.type === 'OrderDenied') this.log.info(`${e.clientOrderId} denied: ${e.code}: ${e.reason}`);
      else if (e.type === 'VenueError') this.log.error(`${e.venue} ${e.operation}: ${e.reason}: ${e.message}`);
      else if (e.type === 'ExternalOrderFound')
        this.log.info(
          `External order at ${e.venue}: ${e.order.client_order_id} (${e.order.symbol}); not placed by SPtrader, left alone`,
        );
      this.engineEvents.fire(e);
    });
    await session.engine.connect('paper');
    this.reportDamage(session);
  }

  /** Damaged, missing or rolled-back state refuses every order until recovered: say so, with the way out. */
  private reportDamage(session: TradingSession): void {
    const damage = session.damage;
    if (damage.length === 0) return;
    for (const d of damage) this.log.error(`State damaged: ${d.file}: ${d.problem}`);
    const recover = 'Recover State…';
    void vscode.window
      .showErrorMessage(
        `SPtrader: ${damage[0]?.file ?? 'a state file'}: ${damage[0]?.problem ?? ''}${damage.length > 1 ? ` (and ${damage.length - 1} more)` : ''}. No order is sent until the state is recovered from the audit log.`,
        recover,
        'Show Log',
      )
      .then((choice) => {
        if (choice === recover) void vscode.commands.executeCommand(Commands.recoverState);
        else if (choice === 'Show Log') this.log.show();
      });
  }

  /**
   * Rebuilds the damaged state files from the audit log (src/execution/recover.ts): the session is
   * closed first (recover needs the state directory to itself) and opened again after.
   */
  async recoverState(dryRun: boolean): Promise<RecoverReport> {
    if (!dryRun) {
      const session = await this.session?.catch(() => undefined);
      this.session = undefined;
      this.openedSession = undefined;
      if (session) await session.close();
    }
    const lock = dryRun ? undefined : acquireStateDirLock(this.stateDir, 'SPtrader: Recover State');
    try {
      return await recoverStateDir({ stateDir: this.stateDir, clock: systemClock, dryRun });
    } finally {
      lock?.release();
      if (!dryRun)
        await this.trading().catch((e: unknown) =>
          this.log.error(`Reopening after recover failed: ${(e as Error).message}`),
        );
    }
  }

  /**
   * Risk limits and circuit breaker from the user's settings, tightened (never loosened) by the
   * workspace's (settingsPolicy.ts), validated; a bad value is reported and the defaults are kept.
   */
  riskSettings(): RiskSettings {
    const config = vscode.workspace.getConfiguration(Settings.section);
    const present = {
      risk: Object.keys(config.get<Record<string, unknown>>('risk') ?? {}),
      circuitBreaker: Object.keys(config.get<Record<string, unknown>>('circuitBreaker') ?? {}),
    };
    const effective = effectiveLimits((section, key) => config.inspect<unknown>(`${section}.${key}`), present);
    for (const line of effective.tightened) this.log.info(`Risk limit tightened by the workspace: ${line}`);
    this.reportIgnored(effective.ignored);
    const risk = effective.risk;
    const cb = effective.circuitBreaker;
    const seconds = (v: unknown): unknown => (typeof v === 'number' ? Math.round(v * 1000) : undefined);
    const limits = Object.fromEntries(
      Object.entries(risk).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)),
    );
    const circuitBreaker = Object.fromEntries(
      Object.entries({
        maxConsecutiveFailures: cb['maxConsecutiveFailures'],
        maxFailuresInWindow: cb['maxFailuresInWindow'],
        windowMs: seconds(cb['windowSeconds']),
        maxDailyLoss: cb['maxDailyLoss'],
        cooldownMs: seconds(cb['cooldownSeconds']),
      }).filter(([, v]) => v !== null && v !== undefined),
    );
    try {
      const settings = parseRiskSettings(
        { limits, circuitBreaker },
        'settings (sptrader.risk / sptrader.circuitBreaker)',
      );
      this.log.info(
        `Risk limits in effect: ${JSON.stringify(settings.limits)}; circuit breaker: ${JSON.stringify(settings.circuitBreaker)}`,
      );
      return settings;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(message);
      void vscode.window.showErrorMessage(`SPtrader: ${message}. The stricter defaults apply until it is fixed.`);
      return parseRiskSettings({}, 'defaults');
    }
  }

  private async applySettings(): Promise<void> {
    if (!this.session) return;
    const session = await this.session;
    const settings = this.riskSettings();
    session.engine.setLimits(settings.limits);
    session.engine.trading.configure(settings.circuitBreaker);
    this.log.info('Risk limits updated from settings');
  }

  async dispose(): Promise<void> {
    const session = await this.session?.catch(() => undefined);
    if (session) await session.close();
    await Promise.allSettled([...this.venues.values()].map((b) => b.disconnect()));
    await this.paperBroker.disconnect();
  }
}
