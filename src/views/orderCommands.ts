/**
 * Cancel, cancel all, close a position, reset the paper account and choose the active profile.
 * Every order goes through the engine (risk checks, audit log); none goes to a broker directly.
 */
import * as vscode from 'vscode';
import { guardCommand } from './commandGuard';
import { registerCommand } from './shellHooks';
import { systemClock } from '../common/clock';
import { Commands, Settings } from '../constants';
import type { ViewServices } from './services';
import { submitOrderCommand } from '../execution/events';
import type { ExecutionEngine } from '../execution/engine';
import { describeDenial, describeOrder, describeRecord } from '../usecases/describeOrder';
import { isFinalState, type OrderRecord } from '../execution/orderState';
import { activeProfile, type OrderNode, type PositionNode, type ProfileNode } from './trees';
import { describeParent } from '../execution/algos/parents';

/** What these views use of the services the composition root hands out. */
type OrderCommandsServices = Pick<ViewServices, 'context' | 'log' | 'session' | 'profiles' | 'paper' | 'parents'>;

export function registerOrderCommands(services: OrderCommandsServices): void {
  const { log } = services;
  const guard = <A extends unknown[]>(name: string, run: (...args: A) => Promise<void>) => guardCommand(log, name, run);

  const live = (venue: string): boolean => services.profiles.brokers.get(venue)?.environment === 'live';
  const cancelOne = async (engine: ExecutionEngine, clientOrderId: string): Promise<OrderRecord> => {
    const after = await engine.cancel(clientOrderId);
    log.info(
      `Cancel ${clientOrderId}: ${describeRecord(after)} on ${after.venue}${after.reason ? ` (${after.reason})` : ''}`,
    );
    return after;
  };

  const closing = new Set<string>();
  const closeOne = async (node: Extract<PositionNode, { kind: 'position' }>): Promise<void> => {
    const { venue, position } = node;
    const side = position.quantity > 0 ? 'sell' : 'buy';
    const quantity = Math.abs(position.quantity);
    // On a live account this modal is the order's own confirmation (as Execute Live's is): it says so, and
    // it is offered only when live trading is on in the user's settings.
    const isLive = live(venue);
    if (isLive && !services.profiles.liveEnabled()) {
      void vscode.window.showErrorMessage(
        `SPtrader Close Position: ${venue} is a LIVE account and live trading is off (sptrader.live.enabled in your user settings); nothing was sent.`,
      );
      return;
    }
    const summary = `${side.toUpperCase()} ${quantity} ${position.symbol} MKT IOC to close the position`;
    const sure = await vscode.window.showWarningMessage(
      isLive
        ? `Close ${position.symbol} on the LIVE account ${venue}: ${side} ${quantity} at market?`
        : `Close ${position.symbol} at ${venue}: ${side} ${quantity} at market?`,
      {
        modal: true,
        detail: `Position ${position.quantity} @ ${position.average_price}; unrealized P&L ${position.unrealized_pnl}.${isLive ? `\n\n${summary}.\nThis trades real money. It is sent once, exactly as shown, and never retried. Cancel sends nothing.` : ''}`,
      },
      'Close Position',
    );
    if (sure !== 'Close Position') return;
    const confirmedAt = systemClock.now();
    const { engine } = await services.session.trading();
    // The tree item is the position when the view was drawn; what was confirmed is sent only if it still
    // is the position: closed since (a second click, a fill, another app), it would open the opposite one.
    const broker = services.profiles.brokers.get(venue) ?? (venue === services.paper.id ? services.paper : undefined);
    if (!broker) throw new Error(`there is no venue ${venue} in this window any more`);
    const now = (await broker.getAccountInfo()).open_positions.find((p) => p.symbol === position.symbol)?.quantity ?? 0;
    if (now !== position.quantity) {
      log.info(
        `Close Position ${position.symbol} at ${venue}: the position is ${now} now, not the ${position.quantity} confirmed; nothing was sent`,
      );
      void vscode.window.showWarningMessage(
        now === 0
          ? `SPtrader Close Position: there is no open ${position.symbol} position at ${venue} any more; nothing was sent.`
          : `SPtrader Close Position: the ${position.symbol} position at ${venue} is ${now} now, not the ${position.quantity} you confirmed; nothing was sent. Close it again from the refreshed view.`,
      );
      return;
    }
    const cmd = submitOrderCommand(
      {
        symbol: position.symbol,
        side,
        quantity,
        order_type: { type: 'market' },
        time_in_force: { type: 'IOC' },
        metadata: { reason: 'close position' },
      },
      {
        venue,
        source: 'flatten',
        clock: systemClock,
        // The modal above confirmed this very order for the live account (the engine refuses one without).
        ...(isLive ? { liveConfirmation: { confirmedAt, summary } } : {}),
      },
    );
    const result = await engine.submit(cmd);
    if (result.denial) {
      void vscode.window.showErrorMessage(
        `SPtrader Close Position on ${venue}: ${describeDenial(cmd.order, result.denial, result.risk, { live: live(venue) })}. Nothing was sent.`,
      );
      return;
    }
    const record = (await engine.waitForFinal(cmd.clientOrderId, 5000)) ?? result.order;
    log.info(
      `Close Position ${position.symbol} at ${venue}: ${side} ${quantity}: ${record.state}${record.reason ? ` (${record.reason})` : ''}`,
    );
    const show = record.state === 'FILLED' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
    void show(`SPtrader Close Position on ${venue}: ${describeRecord(record, { live: live(venue) })}`);
  };

  services.context.subscriptions.push(
    registerCommand(
      Commands.cancelOrder,
      guard('Cancel Order', async (node?: OrderNode) => {
        const { engine } = await services.session.trading();
        if (node?.kind === 'parent') {
          // A parent: its working children are cancelled, then it ends CANCELLED.
          const after = await services.parents.cancel(node.parent.parentId);
          const text = after ? `${describeParent(after)}: ${after.state}` : node.parent.parentId;
          log.info(`Cancel parent ${text}`);
          void vscode.window.showInformationMessage(`SPtrader Cancel: parent ${text}`);
          return;
        }
        let clientOrderId = node?.kind === 'order' ? node.record.clientOrderId : undefined;
        if (!clientOrderId) {
          const working = engine.workingOrders();
          if (working.length === 0) {
            void vscode.window.showInformationMessage('SPtrader: there are no working orders to cancel.');
            return;
          }
          const picked = await vscode.window.showQuickPick(
            working.map((r) => ({
              label: describeOrder(r.request, { live: live(r.venue) }),
              description: `${r.state.replace('_', ' ')} · ${r.venue}`,
              detail: `client order id ${r.clientOrderId}`,
              clientOrderId: r.clientOrderId,
            })),
            { title: 'Cancel Order', placeHolder: 'The working order to cancel' },
          );
          clientOrderId = picked?.clientOrderId;
        }
        if (!clientOrderId) return;
        // A tree item or a command argument can name an order that has ended since it was shown (filled, expired).
        const before = engine.getOrder(clientOrderId);
        const after = await cancelOne(engine, clientOrderId);
        const text = describeRecord(after, { live: live(after.venue) });
        if (before !== undefined && isFinalState(before.state)) {
          void vscode.window.showInformationMessage(
            `SPtrader Cancel on ${after.venue}: nothing to cancel; the order had already ended: ${text}`,
          );
          return;
        }
        const done = after.state === 'CANCELLED' || after.state === 'DENIED';
        const show =
          done || isFinalState(after.state) ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
        // The order by what it is ("BUY 10,000 EUR_USD LMT 1.0850 GTC → CANCELLED (nothing filled)"), not by its id.
        void show(
          `SPtrader Cancel on ${after.venue}: ${text}${done ? '' : isFinalState(after.state) ? ' (it ended before the cancel reached the venue)' : ' (the venue has not confirmed the cancel yet)'}`,
        );
      }),
    ),
    registerCommand(
      Commands.cancelAllOrders,
      guard('Cancel All Orders', async () => {
        const { engine } = await services.session.trading();
        const working = engine.workingOrders();
        if (working.length === 0) {
          void vscode.window.showInformationMessage('SPtrader: there are no working orders to cancel.');
          return;
        }
        const states = (await Promise.all(working.map((r) => cancelOne(engine, r.clientOrderId)))).map((r) => r.state);
        const open = states.filter((s) => !isFinalState(s)).length;
        const message = `SPtrader: ${states.length - open} of ${states.length} order(s) cancelled${open ? `; ${open} still waiting for the venue (see the log)` : ''}.`;
        void (open ? vscode.window.showWarningMessage(message) : vscode.window.showInformationMessage(message));
      }),
    ),
    registerCommand(
      Commands.closePosition,
      guard('Close Position', async (node?: PositionNode) => {
        if (node?.kind !== 'position') {
          void vscode.window.showInformationMessage(
            'SPtrader: choose Close Position on a position in the SPtrader Positions view.',
          );
          return;
        }
        // One Close Position per position at a time: a second click while the first is asking or sending waits for
        // nothing and sends nothing.
        const key = `${node.venue}\u0000${node.position.symbol}`;
        if (closing.has(key)) {
          void vscode.window.showInformationMessage(
            `SPtrader Close Position: ${node.position.symbol} at ${node.venue} is already being closed.`,
          );
          return;
        }
        closing.add(key);
        try {
          await closeOne(node);
        } finally {
          closing.delete(key);
        }
      }),
    ),
    registerCommand(
      Commands.resetPaperAccount,
      guard('Reset Paper Account', async () => {
        const session = services.session.openSession;
        const working = session?.engine.workingOrders().filter((r) => r.venue === services.paper.id) ?? [];
        const sure = await vscode.window.showWarningMessage(
          'Reset the paper account?',
          {
            modal: true,
            detail: `Cash goes back to the starting amount; every paper position, order and fill is deleted${working.length ? `, and the ${working.length} working paper order(s) are cancelled first` : ''}. The audit log keeps its history and records the reset.`,
          },
          'Reset Paper Account',
        );
        if (sure !== 'Reset Paper Account') return;
        const { engine } = await services.session.trading();
        for (const r of engine.workingOrders().filter((o) => o.venue === services.paper.id))
          await cancelOne(engine, r.clientOrderId);
        // The audit log records the reset before the account is emptied, so the two agree on the next open.
        await engine.resetLocalVenue(services.paper.id, () => services.paper.reset(), 'Reset Paper Account (VS Code)');
        log.warn('Paper account reset');
        void vscode.window.showInformationMessage('SPtrader: the paper account was reset.');
      }),
    ),
    registerCommand(
      Commands.setActiveProfile,
      guard('Set Active Profile', async (node?: ProfileNode) => {
        const id = node?.id ?? (await pickProfile(services));
        if (!id) return;
        await vscode.workspace
          .getConfiguration(Settings.section)
          .update(Settings.activeProfile, id, vscode.ConfigurationTarget.Global);
        void vscode.window.showInformationMessage(`SPtrader: the active profile is now "${id}".`);
      }),
    ),
    registerCommand(
      Commands.selectProfile,
      guard('Select Profile', async () => {
        const id = await pickProfile(services);
        if (id)
          await vscode.workspace
            .getConfiguration(Settings.section)
            .update(Settings.activeProfile, id, vscode.ConfigurationTarget.Global);
      }),
    ),
  );
}

async function pickProfile(services: OrderCommandsServices): Promise<string | undefined> {
  const active = activeProfile();
  const picked = await vscode.window.showQuickPick(
    services.profiles.profiles().map((p) => ({
      label: `${p.id === active ? '$(pass-filled) ' : ''}${p.displayName ?? p.id}`,
      description: `${p.broker} · ${p.environment} · ${services.profiles.brokers.get(p.id)?.isConnected() ? 'connected' : 'not connected'}`,
      id: p.id,
    })),
    { title: 'SPtrader: Broker Profile', placeHolder: 'The profile Test Order and the status bar use' },
  );
  return picked?.id;
}
