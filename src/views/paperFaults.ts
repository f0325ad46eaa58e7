/**
 * "SPtrader: Paper Venue Faults…": the paper venue's fault switch (`PaperBroker.faults`) in the editor,
 * as SPtraderB's "Simulate Disconnect" was — drop the link, reject the next order, add latency, clear —
 * so a trader sees what the engine, the trees and the panel do when a venue misbehaves. Only the paper
 * venue has a switch; nothing here touches its account.
 */
import * as vscode from 'vscode';
import { Commands } from '../constants';
import { guardCommand } from './commandGuard';
import { describeFaults, parseLatency } from './menuText';
import { PAPER_PROFILE_ID } from './profiles';
import type { ViewServices } from './services';
import { registerCommand } from './shellHooks';

/** What the command uses of the services the composition root hands out. */
type PaperFaultServices = Pick<ViewServices, 'context' | 'log' | 'session' | 'paper'>;

interface FaultItem extends vscode.QuickPickItem {
  readonly run: () => Promise<string | undefined>;
}

export function registerPaperFaults(services: PaperFaultServices): void {
  const { log, session, paper } = services;
  const faults = paper.faults;
  const say = (what: string): void => {
    const now = describeFaults(faults.state());
    log.warn(`Paper venue faults: ${what}; now ${now}`);
    void vscode.window.showWarningMessage(`SPtrader paper venue: ${what}. Faults now: ${now}.`);
  };
  services.context.subscriptions.push(
    registerCommand(
      Commands.paperFaults,
      guardCommand(log, 'Paper Venue Faults', async () => {
        const state = faults.state();
        const items: FaultItem[] = [];
        if (state.disconnected)
          items.push({
            label: '$(plug) Reconnect',
            description: 'connect again and reconcile every order by client id',
            run: async () => {
              const { engine } = await session.trading();
              await engine.connect(PAPER_PROFILE_ID);
              return 'reconnected and reconciled';
            },
          });
        else
          items.push({
            label: '$(debug-disconnect) Simulate Disconnect',
            description: 'every call fails NOT_CONNECTED; updates are lost until you reconnect',
            run: async () => {
              faults.disconnect();
              return 'link dropped (Reconnect from this menu)';
            },
          });
        items.push(
          {
            label: '$(error) Reject Next Order',
            description:
              state.rejectsQueued > 0 ? `${state.rejectsQueued} already queued; adds one` : 'the venue refuses it',
            run: async () => {
              const reason = await vscode.window.showInputBox({
                title: 'Reject the next paper order',
                ignoreFocusOut: true,
                prompt: 'The reason the venue gives (empty: one of the usual ones: margin, market closed, halted)',
                placeHolder: 'e.g. market closed',
              });
              if (reason === undefined) return undefined;
              faults.rejectNext(reason.trim() === '' ? undefined : reason.trim());
              return `the next order will be rejected${reason.trim() ? ` (${reason.trim()})` : ''}`;
            },
          },
          {
            label: '$(watch) Add Latency…',
            description: state.latencyMs
              ? `now +${state.latencyMs.fixed} ms`
              : 'every call waits before it reaches the venue',
            run: async () => {
              const text = await vscode.window.showInputBox({
                title: 'Paper venue latency',
                ignoreFocusOut: true,
                prompt:
                  'Milliseconds every call waits, and optionally a random extra up to a jitter ("250" or "250 50"); 0 turns it off',
                value: state.latencyMs ? `${state.latencyMs.fixed} ${state.latencyMs.jitter}` : '250',
                validateInput: (v) => {
                  const r = parseLatency(v);
                  return typeof r === 'string' ? r : undefined;
                },
              });
              if (text === undefined) return undefined;
              const r = parseLatency(text);
              if (typeof r === 'string') return undefined;
              faults.setLatency(r.fixed, r.jitter);
              return r.fixed === 0 && r.jitter === 0
                ? 'latency off'
                : `every call waits ${r.fixed} ms${r.jitter ? ` + up to ${r.jitter} ms` : ''}`;
            },
          },
          {
            label: '$(clear-all) Clear Faults',
            description: 'no queued rejections, no latency (a dropped link stays down until Reconnect)',
            run: async () => {
              faults.clear();
              return 'faults cleared';
            },
          },
        );
        const picked = await vscode.window.showQuickPick(items, {
          title: `SPtrader paper venue faults: ${describeFaults(state)}`,
          placeHolder: 'Make the paper venue misbehave as real ones do; the account is never touched',
        });
        if (!picked) return;
        const done = await picked.run();
        if (done) {
          say(done);
          // The trees read the venue: a dropped or restored link shows there at once.
          void vscode.commands.executeCommand(Commands.refreshPositions);
          void vscode.commands.executeCommand(Commands.refreshOrders);
          void vscode.commands.executeCommand(Commands.refreshStatusBar);
        }
      }),
    ),
  );
}
