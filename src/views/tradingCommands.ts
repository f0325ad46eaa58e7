/** Emergency stop, resume, status and the audit log, as editor commands over the engine. */
import * as vscode from 'vscode';
import { guardCommand } from './commandGuard';
import { registerCommand } from './shellHooks';
import { Commands } from '../constants';
import type { ViewServices } from './services';
import { verifyAuditDir } from '../execution/audit/auditLog';
import { AuditLogDocument } from './auditLogDocument';
import { interruptedStopText, type InterruptedStop } from '../usecases/session';

/**
 * Sessions whose emergency stop cut short (found in the audit log when they opened) an Emergency Stop in this editor
 * has since finished: a stop, and a flatten too when the stop cut short was one. Until then Resume is refused, as the
 * CLI's `resume` is: orders it meant to cancel may still be working, positions it meant to close open.
 */
const finishedStops = new WeakMap<object, { flatten: boolean }>();

/** The cut-short stop that still stands in the way of resuming, or undefined. */
function unfinishedStop(session: object & { interruptedStop?: InterruptedStop }): InterruptedStop | undefined {
  const stop = session.interruptedStop;
  if (stop === undefined) return undefined;
  const done = finishedStops.get(session);
  return done === undefined || (stop.flatten && !done.flatten) ? stop : undefined;
}

/** What these views use of the services the composition root hands out. */
type TradingCommandsServices = Pick<ViewServices, 'context' | 'log' | 'session'>;

export function registerTradingCommands(services: TradingCommandsServices): void {
  const { log } = services;
  const guard = (name: string, run: () => Promise<void>) => guardCommand(log, name, run);
  const auditDocument = new AuditLogDocument(services);
  services.context.subscriptions.push(
    registerCommand(
      Commands.emergencyStop,
      guard('Emergency Stop', async () => {
        const session = await services.session.trading();
        const { engine } = session;
        // Halt first, with no question asked: the question is only about closing positions.
        engine.setTradingState('HALTED', 'emergency stop');
        const report = await engine.emergencyStop({ reason: 'emergency stop' });
        finishedStops.set(session, { flatten: finishedStops.get(session)?.flatten ?? false });
        log.warn(
          `Emergency stop: HALTED; cancelled ${report.cancelled.length} orders${report.failed.length ? `; ${report.failed.length} could not be cancelled` : ''}`,
        );
        for (const f of report.failed) log.error(`Emergency stop: ${f.venue} ${f.order}: ${f.reason}`);
        const flatten = 'Close All Positions…';
        const choice = await vscode.window.showWarningMessage(
          `SPtrader: trading HALTED. ${report.cancelled.length} open order(s) cancelled${report.failed.length ? `, ${report.failed.length} FAILED (see log)` : ''}.`,
          flatten,
          'Show Log',
        );
        if (choice === 'Show Log') log.show();
        if (choice === flatten) {
          const sure = await vscode.window.showWarningMessage(
            'Close every open position at market on every connected venue?',
            { modal: true },
            'Close Positions',
          );
          if (sure === 'Close Positions') {
            const r = await engine.emergencyStop({ reason: 'emergency stop: flatten', flatten: true });
            finishedStops.set(session, { flatten: true });
            log.warn(
              `Flatten: ${r.flattened.map((f) => `${f.symbol} ${f.quantity}: ${f.result}`).join('; ') || 'no positions'}`,
            );
            for (const f of r.failed) log.error(`Flatten: ${f.venue} ${f.order}: ${f.reason}`);
            // What was done is said, and above all what was not: a position still open after "close all".
            const open = r.failed.filter((f) => f.reason.startsWith('could not flatten'));
            const closed = r.flattened.length - open.length;
            if (r.failed.length > 0)
              void vscode.window.showErrorMessage(
                `SPtrader Flatten: ${closed} position(s) closed; ${open.length} position(s) NOT closed${open.length ? `: ${open.map((f) => f.reason.replace(/^could not flatten /, '')).join('; ')}` : ''}${r.failed.length > open.length ? `; ${r.failed.length - open.length} other failure(s)` : ''} (see log). Trading stays HALTED.`,
              );
            else
              void vscode.window.showInformationMessage(
                `SPtrader Flatten: ${closed === 0 ? 'no open positions' : `${closed} position(s) closed`}. Trading stays HALTED.`,
              );
          }
        }
      }),
    ),
    registerCommand(
      Commands.resumeTrading,
      guard('Resume Trading', async () => {
        const session = await services.session.trading();
        const { engine } = session;
        const stop = unfinishedStop(session);
        if (stop !== undefined) {
          void vscode.window.showWarningMessage(
            `SPtrader: not resumed: ${interruptedStopText(stop)}. Run "SPtrader: Emergency Stop" again${stop.flatten ? ' and choose Close All Positions…' : ''} to finish it (it acts only on what is left), then resume.`,
          );
          return;
        }
        const status = engine.status();
        if (status.tradingState === 'ACTIVE') {
          void vscode.window.showInformationMessage('SPtrader: trading is already active.');
          return;
        }
        const ok = await vscode.window.showWarningMessage(
          `Trading is ${status.tradingState}: ${status.reason}. Resume trading?`,
          { modal: true },
          'Resume',
        );
        if (ok !== 'Resume') return;
        engine.setTradingState('ACTIVE', 'resumed in the editor');
        void vscode.window.showInformationMessage('SPtrader: trading resumed.');
      }),
    ),
    registerCommand(
      Commands.tradingStatus,
      guard('Trading Status', async () => {
        const { engine } = await services.session.trading();
        const s = engine.status();
        log.info(
          `Trading ${s.tradingState} since ${new Date(s.since).toISOString()} (${s.source}): ${s.reason}; ${s.workingOrders} working, ${s.externalOrders} external orders; breaker ${s.breaker.consecutiveFailures} in a row`,
        );
        log.show(true);
      }),
    ),
    registerCommand(
      Commands.showAuditLog,
      guard('Show Audit Log', async () => {
        await auditDocument.show();
      }),
    ),
    registerCommand(
      Commands.recoverState,
      guard('Recover State', async () => {
        const preview = await services.session.recoverState(true);
        if (!preview.problems.length) {
          void vscode.window.showInformationMessage(
            'SPtrader: every state file agrees with the audit log; nothing to recover.',
          );
          return;
        }
        for (const p of preview.problems) log.warn(`Recover: found ${p}`);
        for (const a of preview.actions) log.info(`Recover: would ${a}`);
        const go = 'Recover';
        const choice = await vscode.window.showWarningMessage(
          `Recover the SPtrader state from the audit log? Found: ${preview.problems.slice(0, 2).join('; ')}${preview.problems.length > 2 ? ` (+${preview.problems.length - 2} more)` : ''}. It will: ${preview.actions.join('; ')}. Damaged files are set aside, never deleted.`,
          { modal: true },
          go,
        );
        if (choice !== go) return;
        const report = await services.session.recoverState(false);
        for (const a of report.actions) log.warn(`Recover: ${a}`);
        void vscode.window.showInformationMessage(
          `SPtrader: state recovered from the audit log (${report.actions.length} step(s); see the log). Review positions, then trade.`,
        );
      }),
    ),
    registerCommand(
      Commands.verifyAuditLog,
      guard('Verify Audit Log', async () => {
        const { audit } = await services.session.trading();
        await audit.flush();
        const report = await verifyAuditDir(audit.dir);
        if (report.verified)
          void vscode.window.showInformationMessage(
            `SPtrader: audit log verified: ${report.lines} records in ${report.files} file(s), chain intact.`,
          );
        else {
          for (const p of report.problems) log.error(`Audit ${p.file}:${p.line}: ${p.kind}: ${p.problem}`);
          void vscode.window.showErrorMessage(
            `SPtrader: the audit log does NOT verify: ${report.problemCount} problem(s). See the log.`,
          );
        }
      }),
    ),
  );
}
