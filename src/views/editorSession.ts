/**
 * The editor's one trading session over its state folder (`<globalStorage>/engine`, laid out as
 * common/statePaths.ts says): opened on first use, so activation stays fast; its events relayed to the
 * views; damage and recovery said to the user; risk settings applied when they change.
 */
import * as vscode from 'vscode';
import type { PaperBroker } from '../brokers/paper/paperBroker';
import { systemClock } from '../common/clock';
import { acquireStateDirLock } from '../common/stateLock';
import { Commands } from '../constants';
import type { EngineEvent } from '../execution/events';
import { recoverStateDir, type RecoverReport } from '../usecases/recover';
import {
  interruptedStopText,
  openTradingSession,
  parseRiskSettings,
  SettingsError,
  type RiskSettings,
  type TradingSession,
} from '../usecases/session';
import type { SessionAccess } from './services';

/** The start of the reason of a halt for risk settings that are not valid (lifted when they are fixed). */
const SETTINGS_HALT = 'a risk setting is not valid:';

export class EditorSession implements SessionAccess, vscode.Disposable {
  private session: Promise<TradingSession> | undefined;
  private opened: TradingSession | undefined;
  private readonly engineEvents = new vscode.EventEmitter<EngineEvent>();
  private readonly sessionOpened = new vscode.EventEmitter<TradingSession>();
  readonly onEngineEvent = this.engineEvents.event;
  readonly onDidOpenSession = this.sessionOpened.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    readonly stateDir: string,
    private readonly paper: PaperBroker,
    private readonly riskSettings: () => RiskSettings,
  ) {}

  get openSession(): TradingSession | undefined {
    return this.opened;
  }

  /**
   * The engine over the extension's state; opened (and the paper venue connected and reconciled) once. Risk
   * settings that are not valid do not keep it closed (orders must still be cancelled, trading halted, the audit
   * log shown): it opens HALTED, the halt naming the setting (`applySettings`).
   */
  trading(): Promise<TradingSession> {
    this.session ??= (async () => {
      const { settings, invalid } = this.readSettings();
      const session = await openTradingSession({
        stateDir: this.stateDir,
        clock: systemClock,
        brokers: { paper: this.paper },
        settings,
        purpose: 'the SPtrader VS Code extension',
      });
      try {
        await this.started(session);
        this.settingsChecked(session, invalid);
      } catch (e) {
        // Half-opened: give the state directory back, so that a later command (or another window) can open it.
        await session.close().catch(() => undefined);
        throw e;
      }
      this.opened = session;
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
    const stop = session.interruptedStop;
    if (stop !== undefined) {
      const text = interruptedStopText(stop);
      const what = `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
      this.log.warn(what);
      void vscode.window.showWarningMessage(
        `SPtrader: ${what}. Run "SPtrader: Emergency Stop" again${stop.flatten ? ' and choose Close All Positions…' : ''} to finish it.`,
      );
    }
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
   * Rebuilds the damaged state files from the audit log (src/usecases/recover.ts): the session is
   * closed first (recover needs the state directory to itself) and opened again after.
   */
  async recoverState(dryRun: boolean): Promise<RecoverReport> {
    if (!dryRun) {
      const session = await this.session?.catch(() => undefined);
      this.session = undefined;
      this.opened = undefined;
      // A log that failed (a full disk) is what a recover is for: its close's report must not stop it.
      if (session) await session.close().catch(() => undefined);
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
   * New risk limits and circuit breaker for an open engine (one not yet open reads them when it opens). A setting
   * that is not valid halts trading (the limits it would have set are not known, and the last ones may be looser
   * than what the user meant); once the settings are valid again, that halt is lifted, unless it took the place of
   * a circuit breaker's halt or REDUCING (which then comes back, a breaker's with its reason and cool-down). A
   * person's halt or an emergency stop is left as it is.
   */
  async applySettings(): Promise<void> {
    const session = await this.session?.catch(() => undefined);
    if (!session) return;
    const { settings, invalid } = this.readSettings();
    session.engine.setLimits(settings.limits);
    session.engine.trading.configure(settings.circuitBreaker);
    this.log.info(invalid === undefined ? 'Risk limits updated from settings' : 'Risk limits at their strictest');
    this.settingsChecked(session, invalid);
  }

  /** The settings, or (when one is not valid) why, with each invalid one at its strictest (settingsPolicy.ts). */
  private readSettings(): { settings: RiskSettings; invalid?: string } {
    try {
      return { settings: this.riskSettings() };
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      // Each invalid one at its strictest: should a person resume before fixing it, nothing is looser than meant.
      const strictest = 'strictest' in e ? (e.strictest as RiskSettings) : parseRiskSettings({}, 'defaults');
      return { settings: strictest, invalid: e.message };
    }
  }

  /**
   * Halts trading for settings that are not valid (`invalid`), or lifts that halt once they are valid. A circuit
   * breaker's halt it took the place of is kept by the engine with the trading state (in its file: a restart keeps
   * it) and comes back, with its reason and cool-down, when the settings are fixed.
   */
  private settingsChecked(session: TradingSession, invalid: string | undefined): void {
    const status = session.engine.status();
    const ours =
      status.tradingState === 'HALTED' && status.source === 'user' && status.reason.startsWith(SETTINGS_HALT);
    if (invalid !== undefined) {
      const reason = `${SETTINGS_HALT} ${invalid}`;
      this.log.error(`Trading halted: ${reason}`);
      // A person's halt, an emergency stop or a damaged state file's halt stays as it is; a circuit breaker's would
      // end by itself after its cool-down, so this one takes its place, keeping it (and a person's REDUCING) to put
      // back when the settings are fixed.
      if (status.tradingState === 'HALTED' && !ours && status.source !== 'circuit_breaker') return;
      session.engine.haltCovering(reason);
      return;
    }
    if (!ours) return;
    try {
      session.engine.endCoveringHalt('the risk settings are valid again');
    } catch (e) {
      this.log.error(`Trading stays halted: ${(e as Error).message}`);
    }
    const after = session.engine.status();
    if (after.tradingState === 'HALTED' && after.source === 'circuit_breaker')
      this.log.warn(
        `The risk settings are valid again; trading stays halted by the circuit breaker (${after.reason})${after.resumeAt === null ? '' : ` until ${new Date(after.resumeAt).toISOString()}`}`,
      );
  }

  /** Closes the engine (if it opened) and gives the state folder back. */
  async close(): Promise<void> {
    const session = await this.session?.catch(() => undefined);
    // The log's failure was shown when it happened (HALTED, the audit log failed): closing still completes.
    if (session) await session.close().catch((e: unknown) => this.log.error(`Closing the engine: ${String(e)}`));
  }

  dispose(): void {
    this.engineEvents.dispose();
    this.sessionOpened.dispose();
  }
}
