/**
 * The trading state's menu: what a click on the status bar's ACTIVE / REDUCING / HALTED item offers.
 * A click never halts by itself (the Emergency Stop keybinding is the fast path); the menu names each
 * step and the Emergency Stop asks once more. REDUCING (only orders that shrink a position pass the
 * checks) has its own command here, as the design's third state deserves a way in.
 */
import * as vscode from 'vscode';
import { Commands } from '../constants';
import { guardCommand } from './commandGuard';
import { STATE_MEANING, utcTime } from './menuText';
import type { ViewServices } from './services';
import { registerCommand } from './shellHooks';

/** What the menu uses of the services the composition root hands out. */
type TradingMenuServices = Pick<ViewServices, 'context' | 'log' | 'session'>;

interface MenuItem extends vscode.QuickPickItem {
  readonly run: () => Thenable<unknown> | Promise<unknown>;
}

export function registerTradingMenu(services: TradingMenuServices): void {
  const { log, session } = services;
  const guard = (name: string, run: () => Promise<void>) => guardCommand(log, name, run);

  const enterReducing = async (): Promise<void> => {
    const { engine } = await session.trading();
    const status = engine.status();
    if (status.tradingState === 'REDUCING') {
      void vscode.window.showInformationMessage('SPtrader: trading is already REDUCING.');
      return;
    }
    const from = status.tradingState;
    const ok = await vscode.window.showWarningMessage(
      `Enter REDUCING? From now on only orders that reduce a position are sent; every other order is denied with TRADING_STATE_REDUCING. Working orders stay as they are.${from === 'HALTED' ? ' Trading is HALTED now: this lets reducing orders through again.' : ''}`,
      { modal: true },
      'Enter REDUCING',
    );
    if (ok !== 'Enter REDUCING') return;
    engine.setTradingState('REDUCING', 'entered in the editor');
    log.warn(`Trading REDUCING (was ${from}): entered in the editor`);
    void vscode.window.showWarningMessage('SPtrader: trading REDUCING: only orders that reduce a position are sent.');
  };

  services.context.subscriptions.push(
    registerCommand(Commands.enterReducing, guard('Enter REDUCING', enterReducing)),
    registerCommand(
      Commands.tradingMenu,
      guard('Trading State', async () => {
        const { engine } = await session.trading();
        const s = engine.status();
        const state = s.tradingState;
        const items: MenuItem[] = [];
        if (state !== 'HALTED')
          items.push({
            label: '$(circle-slash) Emergency Stop',
            description: 'halt and cancel every open order',
            detail: 'Asks once more. The keybinding (Ctrl+Alt+Shift+K) halts without asking.',
            run: async () => {
              const sure = await vscode.window.showWarningMessage(
                `Emergency Stop: halt trading and cancel every open order (${s.workingOrders} working)?`,
                { modal: true },
                'Emergency Stop',
              );
              if (sure === 'Emergency Stop') await vscode.commands.executeCommand(Commands.emergencyStop);
            },
          });
        if (state !== 'REDUCING')
          items.push({
            label: '$(warning) Enter REDUCING',
            description: STATE_MEANING.REDUCING,
            run: () => vscode.commands.executeCommand(Commands.enterReducing),
          });
        if (state !== 'ACTIVE')
          items.push({
            label: '$(pulse) Resume Trading',
            description: `back to ACTIVE: ${STATE_MEANING.ACTIVE}`,
            run: () => vscode.commands.executeCommand(Commands.resumeTrading),
          });
        items.push({
          label: '$(output) Show Trading Status',
          description: 'state, reason, working orders and the circuit breaker in the log',
          run: () => vscode.commands.executeCommand(Commands.tradingStatus),
        });
        const picked = await vscode.window.showQuickPick(items, {
          title: `SPtrader: trading ${state} since ${utcTime(s.since)} (${STATE_MEANING[state]})`,
          placeHolder: `${s.reason}; ${s.workingOrders} working order(s)`,
        });
        if (picked) await picked.run();
      }),
    ),
  );
}
