/**
 * "Execute Live…": the one way the editor sends an order to a live account. Only when
 * `sptrader.live.enabled` is on in the user's settings (a workspace cannot turn it on), and for every single order: run the component, validate and risk-check
 * it (Test Order on a live profile sends nothing), show the whole order and the account in a modal, and
 * send only on its "Send Live Order" button, with the confirmation carried in the command.
 */
import * as vscode from 'vscode';
import { registerCommand } from './shellHooks';
import { systemClock } from '../common/clock';
import type { BrokerProfile } from '../brokers/registry';
import { Commands } from '../constants';
import type { ViewServices } from './services';
import { submitOrderCommand } from '../execution/events';
import { describeDenial, describeOutcome, describeRecord } from '../usecases/describeOrder';
import { formatOutcome } from '../usecases/formatOutcome';
import type { EngineEvent } from '../execution/events';
import { orderResponseOf, type OrderRecord } from '../execution/orderState';
import { runTestOrder, type TestOrderOutcome } from '../usecases/testOrder';
import { withDelayedProgress } from './progress';
import { liveCheckLines, liveOrderSummary, profileEndpoint } from './profiles';
import { componentTarget, type RunResults } from './testOrderCommand';
import { activeProfile } from './trees';

/** What these views use of the services the composition root hands out. */
type ExecuteLiveCommandServices = Pick<ViewServices, 'context' | 'log' | 'session' | 'profiles' | 'interpreters'>;

const SEND = 'Send Live Order';

export function registerExecuteLiveCommand(services: ExecuteLiveCommandServices, results: RunResults): void {
  // One Execute Live at a time, from its first step: a second request (a double-click, a replayed message) while
  // one is checking, waiting for its confirmation or for the venue is refused, never a second order.
  let going = false;
  services.context.subscriptions.push(
    registerCommand(
      Commands.executeLive,
      async (uri?: vscode.Uri, className?: string): Promise<OrderRecord | undefined> => {
        if (going) {
          services.log.info('Execute Live: already in progress; the second request is ignored');
          void vscode.window.showWarningMessage(
            'SPtrader: an Execute Live is already in progress (checking its order, waiting for your confirmation or for the venue); nothing more was sent.',
          );
          return undefined;
        }
        going = true;
        try {
          return await executeLive(services, results, uri, typeof className === 'string' ? className : undefined);
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          services.log.error(`Execute Live failed: ${message}`);
          void vscode.window.showErrorMessage(`SPtrader: Execute Live failed: ${message}`);
          return undefined;
        } finally {
          going = false;
        }
      },
    ),
  );
}

async function executeLive(
  services: ExecuteLiveCommandServices,
  results: RunResults,
  uri: vscode.Uri | undefined,
  className: string | undefined,
): Promise<OrderRecord | undefined> {
  const { log } = services;
  if (!services.profiles.liveEnabled()) {
    void vscode.window.showWarningMessage(
      'SPtrader: live trading is off. Turn on sptrader.live.enabled in your user settings to use Execute Live….',
    );
    return undefined;
  }
  const target = await componentTarget('Execute Live', uri);
  if (!target) return undefined;
  const profile = await chooseLiveProfile(services);
  if (!profile) return undefined;

  const prepared = await withDelayedProgress(
    `SPtrader: checking the order for live profile ${profile.id}`,
    async () => {
      // An execution, not a test: the component runs without TEST_MODE (see workerFor).
      const worker = await services.interpreters.workerFor(target, false);
      const { engine } = await services.session.trading();
      const broker = await services.profiles.connectProfile(profile.id);
      if (broker.environment !== 'live')
        throw new Error(`profile ${profile.id} is not a live account (it is ${broker.environment})`);
      // On a live venue runTestOrder runs, validates, fits and risk-checks the order, and sends nothing.
      const checked = await runTestOrder(
        { file: target.fsPath, className, source: 'execute-live' },
        { runner: worker, broker, engine, clock: systemClock },
      );
      const info = await worker.inspect(target.fsPath).catch(() => undefined);
      const account = await broker.getAccountInfo();
      return { engine, checked, componentLimits: info?.metadata?.['risk_limits'], account };
    },
  );
  const { engine, checked, account } = prepared;
  log.info(`Execute Live (check) ${target.fsPath}\n${formatOutcome(checked)}`);
  if (checked.parentSpec) {
    // A parent runs over time as children: never started on a live account from the editor.
    void vscode.window.showWarningMessage(
      `SPtrader Execute Live on ${profile.id}: the component returns a ${checked.parentSpec.algo.replace('_', ' ')} parent order, which Execute Live does not carry out. Nothing was sent. Execute on Paper runs it on the paper venue.`,
    );
    return undefined;
  }
  if (!checked.ok || checked.order === null) {
    const show = checked.ok ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
    void show(
      `SPtrader Execute Live on ${profile.id}: ${describeOutcome(checked, { live: true })}${checked.ok ? '' : '. Nothing was sent.'}`,
    );
    return undefined;
  }

  const order = checked.order;
  const summary = liveOrderSummary(order, profile, account);
  // Every check's result, as the engine ran it on this very order (a delayed quote said as one).
  const { quote, checks } = liveCheckLines(checked.risk, {
    bid: checked.marketData?.['bid'],
    ask: checked.marketData?.['ask'],
  });
  const endpoint = `Endpoint: ${profileEndpoint(profile)} (environment ${profile.environment})`;
  const clientId = order.client_order_id === undefined ? '' : `\nClient order id: ${order.client_order_id}`;
  const choice = await vscode.window.showWarningMessage(
    `Send this order to the LIVE account of profile "${profile.id}"?`,
    {
      modal: true,
      detail: `${summary}\n${endpoint}${clientId}${quote}\n\nChecks (all passed; they run again when it is sent):\n${checks}\n\nThis trades real money. It is sent once, exactly as shown, and never retried. Cancel sends nothing.`,
    },
    SEND,
  );
  if (choice !== SEND) {
    log.info(
      `Execute Live: not confirmed; nothing was sent (${order.side} ${order.quantity} ${order.symbol} on ${profile.id})`,
    );
    return undefined;
  }
  const cmd = submitOrderCommand(order, {
    venue: profile.id,
    source: 'execute-live',
    clock: systemClock,
    component: target.fsPath,
    componentLimits: prepared.componentLimits,
    liveConfirmation: { confirmedAt: systemClock.now(), summary },
  });
  const events: EngineEvent[] = [];
  const subscription = engine.subscribe((e) => {
    if ('clientOrderId' in e && e.clientOrderId === cmd.clientOrderId) events.push(e);
  });
  let result;
  let record: OrderRecord;
  try {
    result = await engine.submit(cmd);
    record = result.denial ? result.order : ((await engine.waitForFinal(cmd.clientOrderId, 5000)) ?? result.order);
  } finally {
    subscription.dispose();
  }
  // The result panel shows what was sent and what became of it, as for Test Order (and follows it after).
  const sent: TestOrderOutcome = {
    ...checked,
    ok: !result.denial && record.state !== 'REJECTED' && record.state !== 'UNCONFIRMED',
    order: record.request,
    risk: result.risk,
    denial: result.denial ? { ...result.denial } : null,
    errors: result.denial ? [{ code: result.denial.code, message: result.denial.message }] : [],
    response: result.denial ? null : orderResponseOf(record),
    events,
    summary: result.denial
      ? `Denied before sending (${result.denial.code}): ${result.denial.message}`
      : `${record.state.replace('_', ' ')} on the LIVE account of ${profile.id}${record.reason ? `: ${record.reason}` : ''}.`,
  };
  results.show(sent, 'execute-live');
  if (result.denial) {
    log.warn(`Execute Live ${cmd.clientOrderId} denied: ${result.denial.code}: ${result.denial.message}`);
    void vscode.window.showErrorMessage(
      `SPtrader Execute Live on ${profile.id}: ${describeDenial(order, result.denial, result.risk, { live: true })}. Nothing was sent.`,
    );
    return result.order;
  }
  log.info(
    `Execute Live ${cmd.clientOrderId} on ${profile.id}: ${record.state}${record.reason ? ` (${record.reason})` : ''}`,
  );
  const bad = record.state === 'REJECTED' || record.state === 'UNCONFIRMED';
  void (bad ? vscode.window.showErrorMessage : vscode.window.showInformationMessage)(
    `SPtrader Execute Live on ${profile.id}: ${describeRecord(record, { live: true })}`,
  );
  return record;
}

/** The active profile when it is live, else a choice among the live profiles. */
async function chooseLiveProfile(services: ExecuteLiveCommandServices): Promise<BrokerProfile | undefined> {
  const live = services.profiles.profiles().filter((p) => p.environment === 'live');
  const active = live.find((p) => p.id === activeProfile());
  if (active) return active;
  if (live.length === 0) {
    void vscode.window.showWarningMessage(
      'SPtrader: there is no live broker profile. Add one with "SPtrader: Add Broker Profile".',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    live.map((p) => ({ label: p.displayName ?? p.id, description: `${p.broker} · live`, profile: p })),
    {
      title: 'Execute Live: live broker profile',
      placeHolder: 'The live account to send to (the active profile is not live)',
    },
  );
  return picked?.profile;
}
