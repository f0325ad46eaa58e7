/**
 * The commands over the paper account and the engine's trading state: `reset-paper`, `halt`, `resume`,
 * `status`, `positions`, `account` and `orders`, each through the same session as trading.
 *
 * Past 450 lines on purpose: seven small commands that share one session's opening, its refusals (a stop cut short,
 * parents left working) and its printing; each is a few dozen lines, and apart they would repeat that frame.
 */
import { systemClock } from '../common/clock';
import { fromMoney } from '../common/decimal';
import { crashPoint } from '../common/crashPoint';
import { type PaperBroker } from '../brokers/paper/paperBroker';
import { isBrokerError } from '../brokers/errors';
import {
  describeOrderType,
  describeStatus,
  describeTimeInForce,
  type AccountInfo,
  type OrderResponse,
  type Position,
} from '../orders/model';
import { describeOrder, formatMoney, formatQuantity } from '../usecases/describeOrder';
import {
  openTradingSession,
  parseRiskSettings,
  SettingsError,
  type RiskSettings,
  type TradingSession,
} from '../usecases/session';
import type { EmergencyStopReport } from '../execution/engine';
import { ParentOrders, type ParentOrder } from '../execution/algos/parents';
import { BROKER_KINDS } from '../brokers/registry';
import { orderResponseOf, type OrderRecord } from '../execution/orderState';
import { statePaths } from '../common/statePaths';
import { asStateFileError, closeAll, EXIT, reportFailure, stateDirOf, usage, UsageError } from './failures';
import { StateFileError } from '../common/stateErrors';
import { haltReasonFlag, parseFlags, reasonFlag } from './args';
import { printable } from '../usecases/formatOutcome';
import { openPaperBroker, refusesResume, reportDamage, reportRecovery, riskSettings } from './session';

/**
 * `reset-paper`: the paper account afresh, as the editor's Reset Paper Account does. Working paper orders
 * are cancelled first; the audit log records the reset (a VenueBaseline of nothing) before the account
 * file is deleted, so the two agree on the next open. Without --yes it only says what would be reset.
 */
export async function resetPaperCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    options: { 'state-dir': { type: 'string' }, yes: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, undefined);
  const broker = openPaperBroker(stateDir);
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { [broker.id]: broker },
    settings,
    purpose: 'sptrader reset-paper',
    brokenLog: 'refuse',
  });
  let code: number = EXIT.ok;
  let closeError: unknown;
  try {
    await trading.engine.connect(broker.id);
    if (reportDamage(trading)) return EXIT.stateFile;
    const account = await broker.getAccountInfo();
    const positions = await broker.getPositions();
    const working = trading.engine.workingOrders().filter((r) => r.venue === broker.id);
    const what = `equity ${account.equity} ${account.currency}, ${positions.length} position(s), ${working.length} working order(s), ${broker.fillsEver()} fill(s)`;
    if (!values.yes) {
      // The folder's name is anyone's text: never a terminal escape (as every other line about it).
      process.stdout.write(
        printable(
          `Would reset the paper account in ${stateDir} (${what}) to its starting cash. Run again with --yes to reset it.\n`,
        ),
      );
      return EXIT.ok;
    }
    for (const r of working) await trading.engine.cancel(r.clientOrderId);
    const left = trading.engine.workingOrders().filter((r) => r.venue === broker.id);
    if (left.length > 0) {
      process.stderr.write(
        printable(
          `sptrader: ${left.length} paper order(s) could not be cancelled (${left.map((r) => r.clientOrderId).join(', ')}); nothing was reset\n`,
        ),
      );
      return EXIT.broker;
    }
    // Its parents end with it (their children were just cancelled): none is carried on into the new account.
    const ended = await endParentsLeftWorking(trading, broker, 'the paper account was reset', broker.id);
    for (const p of ended)
      process.stderr.write(`sptrader: ${printable(`parent order ${p.parentId} ended: ${p.reason ?? ''}`)}\n`);
    await trading.engine.resetLocalVenue(broker.id, () => broker.reset(), 'sptrader reset-paper');
    const after = await broker.getAccountInfo();
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ ok: true, before: what, after })}\n`
        : `Paper account reset (was ${what}): ${after.balance} ${after.currency}, no positions, no orders. The audit log keeps its history.\n`,
    );
  } catch (e) {
    code = reportFailure(e, values.json === true);
  } finally {
    closeError = await closeAll(
      () => trading.close(),
      () => broker.disconnect(),
    );
  }
  return closeError === undefined ? code : reportFailure(closeError, false);
}

/** `halt`, `resume`, `status`: the trading state of the engine over --state-dir. */
export async function tradingCommand(command: 'halt' | 'resume' | 'status', args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    options: {
      'state-dir': { type: 'string' },
      reason: { type: 'string' },
      flatten: { type: 'boolean' },
      yes: { type: 'boolean' },
      limits: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.flatten && !values.yes)
    throw new UsageError('--flatten closes every position at market: add --yes to confirm. Nothing was done', true);
  if (command === 'halt')
    values.reason = haltReasonFlag(values.reason, (m) => process.stderr.write(`sptrader: ${printable(m)}\n`));
  else reasonFlag(values.reason, usage);
  const stateDir = stateDirOf(values['state-dir']);
  let settings: RiskSettings;
  try {
    settings = riskSettings(stateDir, values.limits);
  } catch (e) {
    // A halt always works: risk settings that cannot be read (not valid, too large, a folder in the file's place, a
    // file its user may not read) must not keep a person from stopping trading (nothing is sent but the flatten's
    // closing orders, which no limit stops). Resuming refuses.
    if (!(e instanceof SettingsError || e instanceof StateFileError) || command !== 'halt') throw e;
    process.stderr.write(`sptrader: ${printable(e.message)}; halting anyway\n`);
    settings = parseRiskSettings({}, 'defaults');
  }
  const broker = openPaperBroker(stateDir);
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { [broker.id]: broker },
    settings,
    purpose: 'sptrader CLI',
    // A halt always works (an order left working is cancelled); resuming over damage is harmless (still refused).
    brokenLog: command === 'status' ? 'refuse' : 'open',
  });
  let code: number;
  let closeError: unknown;
  try {
    code = await tradingStep(command, values, trading, broker);
  } finally {
    closeError = await closeAll(
      () => trading.close(),
      () => broker.disconnect(),
    );
  }
  // A save that failed on the way out (the trading state, the working orders) is the command's result.
  return closeError === undefined ? code : reportFailure(closeError, false);
}

/**
 * A halt ends every parent order (their children the stop cancelled), and a reset of the paper account its parents:
 * those a stopped `sptrader algo` left working in the log end CANCELLED there, with what they filled, as a running
 * one's would. Left working, `algo --resume` carried on a TWAP or a bracket that the emergency stop had stopped, or
 * sent its slices into the account made afresh.
 */
async function endParentsLeftWorking(
  trading: TradingSession,
  broker: PaperBroker,
  reason: string,
  venue?: string,
): Promise<ParentOrder[]> {
  if (!trading.parentsLeftWorking.some((p) => venue === undefined || p.venue === venue)) return [];
  const parents = new ParentOrders({
    engine: trading.engine,
    audit: trading.audit,
    clock: systemClock,
    instrument: (_v, s) => broker.getInstrument(s),
    quote: (_v, s) => broker.getQuote(s),
    capabilities: () => broker.capabilities,
  });
  try {
    const working = await parents.restore(trading.audit.dir);
    const ending = working.filter((p) => venue === undefined || p.venue === venue);
    // Never advanced (nothing is sent): what of its children still works is cancelled, then it ends.
    for (const p of ending) await parents.cancel(p.parentId, reason);
    return ending.map((p) => parents.get(p.parentId) as ParentOrder);
  } finally {
    parents.dispose();
  }
}

async function tradingStep(
  command: 'halt' | 'resume' | 'status',
  values: { reason?: string; flatten?: boolean; json?: boolean },
  trading: TradingSession,
  broker: PaperBroker,
): Promise<number> {
  reportRecovery(trading);
  const engine = trading.engine;
  let report: EmergencyStopReport | undefined;
  let endedParents: ParentOrder[] = [];
  let unsaved: unknown;
  if (command === 'halt') {
    // Halt first, even if the venue cannot be reached or the halt cannot be saved: nothing is sent from now on.
    try {
      engine.setTradingState('HALTED', values.reason ?? 'halted from the command line');
    } catch (e) {
      if (asStateFileError(e) === undefined) throw e;
      unsaved = e;
    }
    try {
      await engine.connect(broker.id);
    } catch (e) {
      if (isBrokerError(e)) {
        process.stderr.write(
          `sptrader: halted, but could not reach ${broker.displayName} to cancel its orders: ${printable(e.message)}\n`,
        );
        return EXIT.broker;
      }
      if (asStateFileError(e) === undefined) throw e;
      process.stderr.write(
        `sptrader: trading is HALTED${unsaved === undefined ? ' (saved)' : ''}, but ${broker.displayName}'s orders could not be cancelled:\n`,
      );
      return reportFailure(e, false);
    }
    report = await engine.emergencyStop({
      reason: values.reason ?? 'emergency stop from the command line',
      flatten: values.flatten === true,
    });
    // The stop's report durable before the parents' ends (a failed log is the command's result, on closing).
    await trading.audit.flush().catch(() => undefined);
    crashPoint('halt-stopped');
    endedParents = await endParentsLeftWorking(
      trading,
      broker,
      `trading halted: ${values.reason ?? 'emergency stop from the command line'}`,
    );
  } else if (command === 'resume') {
    if (refusesResume(trading)) return EXIT.usage;
    // A damaged state stays refused (every order is denied until `recover`), so resuming over it is harmless.
    engine.setTradingState('ACTIVE', values.reason ?? 'resumed from the command line');
  } else {
    await engine.connect(broker.id);
  }
  const status = engine.status();
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        ...status,
        working: engine.workingOrders().map((o) => ({ venue: o.venue, state: o.state, ...orderResponseOf(o) })),
        external: engine.externalOrders(),
        emergencyStop: report ?? null,
        parentsEnded: endedParents.map((p) => ({
          parentId: p.parentId,
          state: p.state,
          reason: p.reason,
          filled: p.filled,
        })),
        // An earlier stop cut short (the process ended): this halt finished it, or it is still to finish.
        interruptedStop: command === 'halt' ? null : (trading.interruptedStop ?? null),
        // Parents a stopped `sptrader algo` left working (a halt ended them: parentsEnded), each with the marks the
        // text says on stderr: `halted` (a halt came upon it, its end unrecorded), `cancelRequested` (its cancel was
        // decided and cut short); the reason, or null.
        parentsLeftWorking: trading.parentsLeftWorking
          .filter((p) => !endedParents.some((e) => e.parentId === p.parentId))
          .map((p) => ({
            parentId: p.parentId,
            venue: p.venue,
            spec: p.spec,
            startedAt: p.at,
            halted: p.halted ?? null,
            cancelRequested: p.cancelled ?? null,
          })),
        damage: engine.damage.map((d) => ({ file: d.file, problem: d.problem })),
      })}\n`,
    );
  } else {
    const lines = [
      `Trading    ${status.tradingState}${status.tradingState === 'ACTIVE' ? '' : `: ${status.reason}`}`,
      `Since      ${new Date(status.since).toISOString()} (${status.source})${status.resumeAt ? `, resumes by itself at ${new Date(status.resumeAt).toISOString()}` : ''}`,
      `Breaker    ${status.breaker.consecutiveFailures} failures in a row, ${status.breaker.failuresInWindow} in the window`,
      `Orders     ${status.workingOrders} working, ${status.externalOrders} external`,
      `Audit      ${status.audit?.dir ?? '-'} (${status.audit?.lastSeq ?? 0} records)`,
    ];
    for (const d of engine.damage) lines.push(`DAMAGED    ${d.file}: ${d.problem}`);
    if (report) {
      // Each order named by what it is ("BUY 5,000 EUR_USD LMT 1.09026 GTD"), its id after it; one the engine did not
      // place (an external order) by its id.
      lines.push(`Cancelled  ${report.cancelled.length} order${report.cancelled.length === 1 ? '' : 's'}`);
      for (const id of report.cancelled) {
        const record = engine.getOrder(id);
        lines.push(
          `           ${record ? `${describeOrder(record.request)} (${id})` : `${id} (an order SPtrader did not place)`}`,
        );
      }
      for (const f of report.flattened) lines.push(`Flattened  ${f.symbol} ${f.quantity}: ${f.result}`);
      for (const f of report.failed) lines.push(`FAILED     ${f.venue} ${f.order}: ${f.reason}`);
      for (const p of endedParents)
        lines.push(`Parent     ${p.parentId} ${p.state} (${p.reason ?? ''}), filled ${p.filled}`);
    }
    // A reason is anyone's text (an earlier `--reason`, a venue's error in a breaker trip): never a terminal escape.
    process.stdout.write(lines.map(printable).join('\n') + '\n');
  }
  if (unsaved !== undefined) {
    process.stderr.write(
      'sptrader: trading is halted for this run and the orders above were cancelled, but the halt could not be saved:\n',
    );
    return reportFailure(unsaved, false);
  }
  if (reportDamage(trading)) return EXIT.stateFile;
  return report && report.failed.length > 0 ? EXIT.broker : EXIT.ok;
}

/**
 * `positions`, `account`, `orders`: the paper account, read through the same session as trading (so a
 * damaged, missing or rolled-back state file is refused the same way), and for `orders` the engine's
 * working orders at every venue.
 */
export async function accountCommand(command: 'positions' | 'account' | 'orders', args: string[]): Promise<number> {
  const { values } = parseFlags({ args, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' } } });
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, undefined);
  const broker = openPaperBroker(stateDir);
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { [broker.id]: broker },
    settings,
    purpose: `sptrader ${command}`,
    brokenLog: 'refuse',
  });
  let code: number;
  let closeError: unknown;
  try {
    code = await accountStep(command, values.json === true, trading, broker, stateDir);
  } finally {
    closeError = await closeAll(
      () => trading.close(),
      () => broker.disconnect(),
    );
  }
  return closeError === undefined ? code : reportFailure(closeError, false);
}

async function accountStep(
  command: 'positions' | 'account' | 'orders',
  json: boolean,
  trading: TradingSession,
  broker: PaperBroker,
  stateDir: string,
): Promise<number> {
  reportRecovery(trading);
  try {
    // Connecting reconciles the engine with the account: a file that disagrees with the audit log is reported as damage.
    await trading.engine.connect(broker.id);
  } catch (e) {
    if (!isBrokerError(e)) throw e;
    process.stderr.write(`sptrader: ${printable(e.message)}\n`);
    return EXIT.broker;
  }
  // Never show an account that may differ from the truth without saying which file is at fault.
  if (reportDamage(trading)) return EXIT.stateFile;
  if (command === 'positions') {
    const rows = await broker.getPositions();
    // P&L is in the account's currency (the paper venue marks each position at the mid and converts it).
    const currency = rows.length === 0 || json ? '' : (await broker.getAccountInfo()).currency;
    process.stdout.write(
      json
        ? `${JSON.stringify(rows)}\n`
        : rows.length === 0
          ? 'No open positions.\n'
          : printable(positionsTable(rows, currency)),
    );
  } else if (command === 'account') {
    const a = await broker.getAccountInfo();
    process.stdout.write(json ? `${JSON.stringify(a)}\n` : printable(accountText(a)));
  } else {
    const working = trading.engine.workingOrders();
    const paper = await broker.listOpenOrders();
    process.stdout.write(
      json
        ? `${JSON.stringify(ordersJson(working, paper))}\n`
        : formatOrders(working, paper, statePaths(stateDir).workingOrders),
    );
  }
  return EXIT.ok;
}

/** What settles an UNCONFIRMED order: the next connection to its venue looks it up by client order id. */
const unconfirmedHint = (venue: string): string =>
  `the venue has not said whether it has it; the next connection to ${venue} (${
    venue === 'paper'
      ? '`sptrader status`, test-order'
      : (BROKER_KINDS as readonly string[]).includes(venue)
        ? `\`sptrader test-order --broker ${venue}\`, or the editor`
        : // A profile's id (compare's or test-order's --profiles), which --broker does not take.
          `\`sptrader test-order <component> --venues ${venue} --profiles FILE\` (FILE the profiles that name ${venue}), compare with them, or the editor`
  }) looks it up by client order id, and it is never resent`;

function ordersJson(working: readonly OrderRecord[], paper: readonly OrderResponse[]): Record<string, unknown> {
  return {
    working: working.map((o) => ({
      venue: o.venue,
      clientOrderId: o.clientOrderId,
      venueOrderId: o.venueOrderId ?? null,
      state: o.state,
      symbol: o.request.symbol,
      side: o.request.side,
      quantity: o.request.quantity,
      filledQuantity: fromMoney(o.filledUnits),
      orderType: o.request.order_type,
      timeInForce: o.request.time_in_force,
      ...(o.state === 'UNCONFIRMED' ? { hint: unconfirmedHint(o.venue) } : {}),
      ...(o.reason === undefined ? {} : { reason: o.reason }),
    })),
    paper,
  };
}

function formatOrders(working: readonly OrderRecord[], paper: readonly OrderResponse[], file: string): string {
  if (working.length === 0 && paper.length === 0) return 'No open orders.\n';
  const lines: string[] = [];
  lines.push(working.length === 0 ? 'No working orders at any venue.' : `Working orders (every venue; ${file}):`);
  for (const o of working) {
    const filled = o.filledUnits > 0n ? ` (${fromMoney(o.filledUnits)} filled)` : '';
    lines.push(
      `  ${o.venue.padEnd(8)} ${o.clientOrderId.padEnd(24)} ${o.state.padEnd(16)} ${o.request.side.toUpperCase()} ${o.request.quantity} ${o.request.symbol} ${describeOrderType(o.request.order_type)} ${describeTimeInForce(o.request.time_in_force)}${filled}${o.venueOrderId ? `  venue id ${o.venueOrderId}` : ''}`,
    );
    if (o.state === 'UNCONFIRMED') lines.push(`           UNCONFIRMED: ${unconfirmedHint(o.venue)}`);
  }
  lines.push(paper.length === 0 ? 'No open orders at the paper venue.' : 'Open at the paper venue:');
  for (const o of paper)
    lines.push(
      `  ${o.order_id.padEnd(8)} ${o.client_order_id.padEnd(24)} ${o.side.toUpperCase()} ${o.quantity} ${o.symbol} ${describeOrderType(o.order_type)} ${describeTimeInForce(o.time_in_force)}  ${describeStatus(o.status)}`,
    );
  // An id or a reason can be a venue's text: shown escaped, never a terminal escape.
  return printable(`${lines.join('\n')}\n`);
}

/** `sptrader positions`: one row a position, quantities and money with thousands separators, P&L signed. */
export function positionsTable(rows: readonly Position[], currency: string): string {
  const cells = rows.map((p) => [
    p.symbol,
    formatQuantity(p.quantity),
    String(p.average_price),
    String(p.current_price),
    `${signedMoney(p.unrealized_pnl)} ${currency}`,
  ]);
  const head = ['Symbol', 'Quantity', 'Average', 'Mid', 'Unrealized P&L'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]) =>
    c.map((text, i) => (i === 0 ? text.padEnd(widths[i] as number) : text.padStart(widths[i] as number))).join('  ');
  return `${[head, ...cells].map(line).join('\n')}\n`;
}

/** `sptrader account`: each figure with two decimals, thousands separators and the account's currency. */
export function accountText(a: AccountInfo): string {
  const open = a.open_positions.reduce((sum, p) => sum + p.unrealized_pnl, 0);
  const figures: Array<[string, string]> = [
    ['Cash', formatMoney(a.balance)],
    ['Equity', formatMoney(a.equity)],
    ['Buying power', formatMoney(a.buying_power)],
    ['Open P&L', signedMoney(open)],
  ];
  const width = Math.max(...figures.map(([, v]) => v.length));
  return (
    `Account ${a.account_id} (${a.currency})\n` +
    figures.map(([label, v]) => `${label.padEnd(13)}${v.padStart(width)} ${a.currency}\n`).join('') +
    `Positions    ${a.open_positions.length}\n`
  );
}

const signedMoney = (n: number): string => `${n > 0 ? '+' : n < 0 ? '-' : ''}${formatMoney(Math.abs(n))}`;
