/**
 * The editor's settings mapped to what the core takes: broker profiles, the live switch and risk limits,
 * from the user's settings (a workspace may only tighten, see settingsPolicy.ts), each problem reported once.
 */
import * as vscode from 'vscode';
import type { BrokerProfile } from '../brokers/registry';
import { Settings } from '../constants';
import { parseRiskSettings, SettingsError, type RiskSettings } from '../usecases/session';
import { readReplaySettings, type ReplaySettings } from './replaySettings';
import {
  effectiveLimits,
  riskSettingsOf,
  userLiveEnabled,
  userProfiles,
  type IgnoredWorkspaceSetting,
} from './settingsPolicy';

/** Risk settings of which one is not valid (the message names it), with each such one at its strictest. */
export class InvalidRiskSettings extends SettingsError {
  constructor(
    message: string,
    /** The valid settings, and each invalid one at its strictest: for an engine halted for them. */
    readonly strictest: RiskSettings,
    /** A notification naming a problem (with Open Settings) was shown as this was thrown: none other is needed. */
    readonly shown = false,
  ) {
    super(message);
  }
}

export class EditorSettings {
  /** Problems already shown, so each is reported once. */
  private readonly reported = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /**
   * Every usable profile (paper first), from the user's settings only (see settingsPolicy.ts); invalid
   * entries are reported once and skipped, and so are profiles a workspace tries to define.
   */
  profiles(): readonly BrokerProfile[] {
    const inspected = vscode.workspace.getConfiguration(Settings.section).inspect<unknown>(Settings.brokerProfiles);
    const { profiles, problems, ignored } = userProfiles(inspected);
    this.reportIgnored(ignored);
    for (const problem of problems) {
      if (this.reported.has(problem.message)) continue;
      this.reported.add(problem.message);
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
   * Risk limits and circuit breaker from the user's settings, tightened (never loosened) by the
   * workspace's (settingsPolicy.ts), each validated on its own: a bad value is reported once, naming its setting,
   * and throws a `SettingsError` naming it too, so that no order is sent (a default in its place could be looser
   * than what the user meant).
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
    const { settings, problems, invalid, strictest } = riskSettingsOf(effective);
    let shown = false;
    for (const problem of problems) {
      if (this.reported.has(problem)) continue;
      this.reported.add(problem);
      shown = true;
      this.log.error(problem);
      void vscode.window.showErrorMessage(`SPtrader: ${problem}.`, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'sptrader.risk');
      });
    }
    if (settings === undefined)
      throw new InvalidRiskSettings(invalid.join('; '), strictest ?? parseRiskSettings({}, 'defaults'), shown);
    this.log.info(
      `Risk limits in effect: ${JSON.stringify(settings.limits)}; circuit breaker: ${JSON.stringify(settings.circuitBreaker)}`,
    );
    return settings;
  }

  /**
   * The replay's settings (replaySettings.ts), read at each replay: a value that does not fit is logged once and
   * throws a `SettingsError` naming the setting, which Replay Component shows; its default never takes its place.
   */
  replaySettings(): ReplaySettings {
    const config = vscode.workspace.getConfiguration(Settings.section);
    const read = readReplaySettings((key) => config.get<unknown>(key));
    if (read.settings) return read.settings;
    if (!this.reported.has(read.problem)) {
      this.reported.add(read.problem);
      this.log.error(read.problem);
    }
    throw new SettingsError(read.problem);
  }

  /** Workspace settings that are not applied: each said once, in the log and in a warning. */
  private reportIgnored(ignored: readonly IgnoredWorkspaceSetting[]): void {
    for (const { message } of ignored) {
      if (this.reported.has(message)) continue;
      this.reported.add(message);
      this.log.warn(`Workspace settings: ${message}`);
      void vscode.window.showWarningMessage(`SPtrader: ${message}`);
    }
  }
}
