/**
 * Two status bar items: the active broker profile with its connection and its venue's latency (send →
 * first answer of the last orders, from the engine's events), and the trading state (ACTIVE / REDUCING /
 * HALTED), whose click opens the trading menu (never halts by itself). Both follow the engine's events;
 * nothing polls.
 */
import * as vscode from 'vscode';
import { Commands, Settings, StatusBarIds } from '../constants';
import type { ViewServices } from './services';
import type { TradingStateName } from '../execution/risk';
import { STATE_MEANING, utcTime } from './menuText';
import { registerCommand } from './shellHooks';
import { activeProfile } from './trees';
import { formatLatency, VenueLatencies } from './venueLatency';

/** What these views use of the services the composition root hands out. */
type StatusBarServices = Pick<ViewServices, 'context' | 'session' | 'profiles'>;

const TRADING_ICONS: Record<TradingStateName, string> = {
  ACTIVE: '$(pulse)',
  REDUCING: '$(warning)',
  HALTED: '$(circle-slash)',
};

export function registerStatusBar(services: StatusBarServices): void {
  const profile = vscode.window.createStatusBarItem(StatusBarIds.profile, vscode.StatusBarAlignment.Left, 101);
  profile.name = 'SPtrader Profile';
  const trading = vscode.window.createStatusBarItem(StatusBarIds.trading, vscode.StatusBarAlignment.Left, 100);
  trading.name = 'SPtrader Trading State';

  const latencies = new VenueLatencies();

  const update = (): void => {
    const id = activeProfile();
    const configured = services.profiles.profile(id);
    const connected = services.profiles.brokers.get(id)?.isConnected() === true;
    const live = configured?.environment === 'live';
    const latency = connected ? latencies.of(id) : undefined;
    profile.text = `${connected ? '$(plug)' : '$(debug-disconnect)'} ${id}${live ? ' (LIVE)' : ''}${latency ? ` · ${formatLatency(latency.lastMs)}` : ''}`;
    const latencyLine = latency
      ? ` Latency (sent → first answer): last order ${formatLatency(latency.lastMs)} at ${utcTime(latency.at)}, median of the last ${latency.samples} ${formatLatency(latency.medianMs)}.`
      : connected
        ? ' Latency: shown once an order has been sent.'
        : '';
    profile.tooltip = configured
      ? `SPtrader profile "${id}" (${configured.broker}, ${configured.environment}): ${connected ? 'connected' : 'not connected'}.${latencyLine} Click to choose a profile.`
      : `SPtrader profile "${id}" is not configured. Click to choose a profile.`;
    profile.accessibilityInformation = {
      label: `SPtrader profile ${id}, ${configured?.environment ?? 'not configured'}, ${connected ? 'connected' : 'not connected'}`,
    };
    profile.command = Commands.selectProfile;
    profile.backgroundColor =
      configured && !live ? undefined : new vscode.ThemeColor('statusBarItem.warningBackground');

    const session = services.session.openSession;
    if (!session) {
      trading.text = '$(sync~spin) SPtrader';
      trading.tooltip = 'SPtrader: opening the engine and its audit log…';
      trading.command = Commands.tradingStatus;
      trading.backgroundColor = undefined;
      return;
    }
    const status = session.engine.status();
    const state = status.tradingState;
    trading.text = `${TRADING_ICONS[state]} ${state}`;
    trading.backgroundColor =
      state === 'HALTED'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : state === 'REDUCING'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    const action =
      state === 'ACTIVE'
        ? 'Click for the trading menu (Emergency Stop asks first; its keybinding does not).'
        : 'Click for the trading menu (Resume, Emergency Stop…).';
    trading.tooltip = `SPtrader trading ${state} (${STATE_MEANING[state]}) since ${utcTime(status.since)}: ${status.reason}. ${status.workingOrders} working order(s). ${action}`;
    trading.accessibilityInformation = { label: `SPtrader trading state ${state}. ${action}` };
    trading.command = Commands.tradingMenu;
  };

  update();
  profile.show();
  trading.show();
  services.context.subscriptions.push(
    profile,
    trading,
    registerCommand(Commands.refreshStatusBar, update),
    services.session.onDidOpenSession(update),
    services.profiles.onDidChangeProfiles(update),
    services.session.onEngineEvent((e) => {
      if (
        latencies.observe(e) ||
        e.type === 'TradingStateChanged' ||
        e.type === 'VenueError' ||
        e.type === 'PositionsReconciled' ||
        e.type === 'OrderDenied'
      )
        update();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${Settings.section}.${Settings.activeProfile}`)) update();
    }),
  );
  // The status bar must tell the truth from the start (a halt survives restarts), so the engine opens
  // now, in the background: activation does not wait for it.
  void services.session.trading().catch((e: unknown) => {
    trading.text = '$(error) SPtrader';
    trading.tooltip = `SPtrader: the engine could not open: ${e instanceof Error ? e.message : String(e)}`;
  });
}
