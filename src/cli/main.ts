/**
 * `sptrader`: the same core as the editor, from a terminal.
 *
 * Every path ends with one of the exit codes below and a message naming the file or input at fault;
 * a stack trace is printed only for a bug (exit 70), and only with SPTRADER_DEBUG=1.
 * 0 done (the order reached the venue and the venue did not refuse it, or the component chose not to
 * trade), 1 component or validation error (audit verify: the chain is broken), 2 usage error, 3 denied
 * before sending, 4 broker error or outcome unknown, 5 the state directory is in use by another
 * SPtrader process, 6 a state file is unreadable, damaged or missing, 7 the venue rejected the order,
 * 70 internal error.
 *
 * Past 450 lines on purpose: each command is a short adapter from arguments to the core and back to
 * text, and they share one failure report and one exit-code table; split across files they would each
 * import those back.
 */
import { parseArgs } from 'node:util';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monotonicMs, systemClock } from '../common/clock';
import { fromMoney } from '../common/decimal';
import { RECOVER_HINT, StateDamagedError, StateFileError, stateFileErrorOf } from '../common/stateErrors';
import { PaperBroker } from '../brokers/paper/paperBroker';
import { failedBeforeRun, runTestOrder, type TestOrderOutcome } from '../execution/testOrder';
import { defaultInterpreterCandidates, resolveInterpreter } from '../python/interpreter';
import { PythonRunError, PythonSession, type RunnerOptions } from '../python/runner';
import { cliExitCode, formatOutcome } from '../execution/formatOutcome';
import { isBrokerError } from '../brokers/errors';
import { tailAudit, verifyAuditDir } from '../execution/audit/auditLog';
import { describeOrderType, describeStatus, describeTimeInForce, type OrderResponse } from '../orders/model';
import { acquireStateDirLock, StateDirBusyError } from '../common/stateLock';
import {
  loadRiskSettings,
  openTradingSession,
  SettingsError,
  type RiskSettings,
  type TradingSession,
} from '../execution/session';
import type { EmergencyStopReport } from '../execution/engine';
import { orderResponseOf, type OrderRecord } from '../execution/orderState';
import { recoverStateDir, type RecoverReport } from '../usecases/recover';
import { replayCommand, REPLAY_USAGE } from './replay';
import { algoCommand, ALGO_USAGE } from './algo';
import { parseParams, readJsonObject } from './args';
import { compareCommand, COMPARE_USAGE, CompareUsageError, openVenues } from './compare';
import { ALPACA_DEFAULT_DATA_URL, BrokerProfileError, createBroker, parseBrokerProfile } from '../brokers/registry';
import { environmentCredentials, MissingCredentialError } from '../brokers/credentials';
import type { BrokerApi } from '../brokers/broker';
import { DEFAULT_CLI_STATE_DIR, statePaths } from '../common/statePaths';

const USAGE = `Usage: sptrader <command> [options]

Commands:
  test-order <component.py>   Run an order component and try its order: on the paper venue it fills on a scratch copy
                              of the paper account (same cash, positions and resting orders) and the account is left
                              as it was (the audit log records the check, CheckOrder, not the scratch fills); with
                              --broker it is sent to that broker's paper/practice/testnet account.
  execute <component.py>      The same, and the order trades on the paper account itself (or --broker's account).
      --class NAME            The component class, when the file defines several.
      --symbol S              Symbol for market data (default: the component's metadata, else EUR_USD).
      --side buy|sell         market_data['side'] for components that read it (default buy).
      --market-data FILE      JSON market data; its keys replace the venue's quote.
      --signal FILE           JSON signal passed to the component.
      --param k=v             Component parameter (repeatable; v is JSON when it parses, else text).
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
      --python PATH           Python interpreter (default: $SPTRADER_PYTHON, python3, python).
      --timeout SECONDS       Stop the component after this long (default 30).
      --limits FILE           Risk limits and circuit breaker as JSON (default <state-dir>/risk-limits.json if present).
      --broker B              paper (default), oanda, alpaca, binance or ib: that broker's paper/practice/testnet
                              account (credentials from SPTRADER_* environment variables; see README).
      --environment E         The broker's environment (default its paper/practice/testnet one). Test Order never
                              sends to a live account.
      --base-url URL          Point the adapter at any compatible server (OANDA, Alpaca, Binance).
      --data-url URL          Alpaca's market-data host (quotes; your keys go there too). Required with --base-url.
      --host H --port P --client-id N   Interactive Brokers TWS / IB Gateway (default 127.0.0.1:7497).
      --venues LIST --profiles FILE   Several venues (as for compare): a component that returns
                              {'route': 'best_price', 'venues': [...], ...order} has its venue chosen among them.
      --json                  Print one JSON object instead of the summary.
  reset-paper [--yes]         Start the paper account afresh (starting cash, no positions, orders or fills); working
                              paper orders are cancelled first. Without --yes it only says what would be reset.
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
${REPLAY_USAGE}${COMPARE_USAGE}${ALGO_USAGE}  halt [--reason R] [--flatten --yes]
                              Emergency stop: HALTED at once (kept across restarts), cancel every open order,
                              and with --flatten --yes close every position at market.
  resume [--reason R]         Back to ACTIVE after a halt or a circuit-breaker trip.
  status                      Trading state, circuit breaker, working and external orders, damaged state files.
  positions | account         Show the paper account's positions or balances.
  orders                      Show the engine's working orders at every venue (UNCONFIRMED ones too) and the
                              paper venue's open orders.
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
      --json                  Print JSON.
  audit verify [DIR]          Check the audit log's hash chain (default DIR: <state-dir>/audit); exit 1 if broken.
  audit tail [DIR] [-n N]     Print the last N audit records (default 20).
      --state-dir DIR         Where the state lives (default ./.sptrader).
      --json                  Print JSON.
  recover [--yes]             Check the state files against the audit log; with --yes, rebuild the damaged,
                              missing or rolled-back ones from it (without --yes nothing is changed).
      --state-dir DIR         Where the state lives (default ./.sptrader).
      --json                  Print JSON.
  help                        Show this text.

Exit codes:
  0   done: the order reached the venue and the venue did not refuse it (or the component returned None)
  1   component or validation error: nothing was sent (audit verify: the chain is broken)
  2   usage error (a replay into a trading state folder too)
  3   denied before sending (risk checks, trading halted): nothing was sent
  4   broker error, or the venue did not confirm the order (it is looked up, never resent)
  5   the state directory is in use by another SPtrader process (or its lock file cannot be read): nothing was read or sent
  6   a state file is unreadable, damaged, missing or could not be written; the message names it. Nothing was sent
      (unless the output shows the order's status: then it was sent and its state could not be saved)
  7   the venue rejected the order
  70  internal error (a bug): please report it; SPTRADER_DEBUG=1 prints the stack trace
`;

class UsageError extends Error {}
const usage = (message: string): Error => new UsageError(message);

/** The exit codes, as the README's table has them. */
export const EXIT = {
  ok: 0,
  componentError: 1,
  usage: 2,
  denied: 3,
  broker: 4,
  busy: 5,
  stateFile: 6,
  venueRejected: 7,
  internal: 70,
} as const;

const FS_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EROFS',
  'EISDIR',
  'ENOTDIR',
  'ENOSPC',
  'EEXIST',
  'EMFILE',
  'EIO',
  'EDQUOT',
]);

/** A node file-system error (it carries the path it failed on), as a StateFileError naming that path. */
function asStateFileError(e: unknown): StateFileError | undefined {
  if (e instanceof StateFileError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code === 'string' && FS_CODES.has(err.code) && typeof err.path === 'string') {
    const action = err.syscall === undefined ? 'use it' : (SYSCALL_ACTIONS[err.syscall] ?? `${err.syscall} it`);
    return stateFileErrorOf(err.path, action, e);
  }
  return undefined;
}

const SYSCALL_ACTIONS: Readonly<Record<string, string>> = {
  open: 'open it',
  read: 'read it',
  write: 'write it',
  mkdir: 'create it',
  rename: 'replace it',
  unlink: 'remove it',
  scandir: 'list it',
  stat: 'look at it',
  fsync: 'save it to disk',
  fdatasync: 'save it to disk',
};

/** Prints why a command failed and returns its exit code: never a stack trace for a user's mistake or a machine fault. */
function reportFailure(e: unknown, json: boolean): number {
  const fail = (code: number, kind: string, message: string, extra: Record<string, unknown> = {}): number => {
    process.stderr.write(`sptrader: ${message}\n`);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ ok: false, exitCode: code, errors: [{ code: kind, message, ...extra }] })}\n`,
      );
    return code;
  };
  if (e instanceof UsageError || (e as { code?: unknown } | undefined)?.code?.toString().startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`sptrader: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (e instanceof SettingsError) return fail(EXIT.usage, 'INVALID_SETTINGS', e.message);
  // Nothing was read, written or sent: another process owns the state directory.
  if (e instanceof StateDirBusyError)
    return fail(EXIT.busy, 'STATE_DIR_BUSY', e.message, { path: statePaths(e.dir).lock });
  const stateError = asStateFileError(e);
  if (stateError) {
    const damaged = stateError instanceof StateDamagedError;
    const message = withStateDir(
      stateError.remedy === undefined
        ? `${stateError.message}. Nothing was sent; fix this and run the command again`
        : stateError.message,
    );
    return fail(EXIT.stateFile, damaged ? 'STATE_DAMAGED' : 'STATE_FILE', message, { file: stateError.file });
  }
  if (isBrokerError(e)) return fail(EXIT.broker, e.reason, e.message);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && FS_CODES.has(code)) {
    // A machine fault on a file whose path the error does not carry (a read on an open descriptor): the folder is named.
    const where = commandFolder ?? process.cwd();
    return fail(
      EXIT.stateFile,
      'STATE_FILE',
      `${where}: a file in this folder cannot be used (${(e as Error).message}). Nothing was sent; fix this and run the command again`,
      {
        file: where,
      },
    );
  }
  const error = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(
    `sptrader: internal error: ${error.message.split('\n')[0] ?? ''} (a bug in SPtrader: please report it${
      process.env['SPTRADER_DEBUG'] === '1' ? '' : ', with the stack trace that SPTRADER_DEBUG=1 prints'
    })\n`,
  );
  if (process.env['SPTRADER_DEBUG'] === '1' && error.stack) process.stderr.write(`${error.stack}\n`);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ ok: false, exitCode: EXIT.internal, errors: [{ code: 'INTERNAL', message: error.message }] })}\n`,
    );
  return EXIT.internal;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'test-order':
        return await testOrderCommand(rest, 'test');
      case 'execute':
        return await testOrderCommand(rest, 'execute');
      case 'reset-paper':
        return await resetPaperCommand(rest);
      case 'positions':
      case 'account':
      case 'orders':
        return await accountCommand(command, rest);
      case 'audit':
        return await auditCommand(rest);
      case 'replay':
        return await replayCommand(rest);
      case 'compare':
        return await compareCommand(rest);
      case 'algo':
        return await algoCommand(rest);
      case 'halt':
      case 'resume':
      case 'status':
        return await tradingCommand(command, rest);
      case 'recover':
        return await recoverCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    return reportFailure(e, rest.includes('--json'));
  }
}

/** The folder the command works in (a state directory, an audit folder), named when a file error does not say which file. */
let commandFolder: string | undefined;

/** The state directory of the command, put into remedies that say `--state-dir DIR`. */
let commandStateDir: string | undefined;
const withStateDir = (text: string): string =>
  commandStateDir === undefined ? text : text.replaceAll('--state-dir DIR', `--state-dir ${commandStateDir}`);

/** The state directory, refused at once when something other than a folder is there. */
function stateDirOf(value: string | undefined): string {
  const dir = resolve(value ?? DEFAULT_CLI_STATE_DIR);
  commandFolder = dir;
  commandStateDir = dir;
  let stats;
  try {
    stats = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return dir;
    throw stateFileErrorOf(dir, 'use it as the state directory', e);
  }
  if (!stats.isDirectory())
    throw new StateFileError(dir, 'this is a file, not a state directory', 'Pass a folder to --state-dir');
  return dir;
}

/** Closes what a command opened, all of it, and returns the first failure instead of throwing (the command's result is shown first). */
async function closeAll(...steps: Array<(() => Promise<unknown>) | undefined>): Promise<unknown> {
  let first: unknown;
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (e) {
      first ??= e;
    }
  }
  return first;
}

/** `test-order` (a scratch copy of the paper account) and `execute` (the account itself): the same options. */
async function testOrderCommand(args: string[], mode: 'test' | 'execute'): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      class: { type: 'string' },
      symbol: { type: 'string' },
      side: { type: 'string' },
      'market-data': { type: 'string' },
      signal: { type: 'string' },
      param: { type: 'string', multiple: true },
      'state-dir': { type: 'string' },
      python: { type: 'string' },
      timeout: { type: 'string' },
      limits: { type: 'string' },
      broker: { type: 'string' },
      environment: { type: 'string' },
      'base-url': { type: 'string' },
      'data-url': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'client-id': { type: 'string' },
      venues: { type: 'string' },
      profiles: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(`${mode === 'test' ? 'test-order' : 'execute'} needs exactly one component file`);
  if (values.venues !== undefined && values.broker !== undefined)
    throw new UsageError('use --venues (several venues, for a routed order) or --broker (one), not both');
  if (values.profiles !== undefined && values.venues === undefined)
    throw new UsageError('--profiles names the venues of --venues: add --venues');
  const file = resolve(positionals[0] ?? '');
  const side = values.side;
  if (side !== undefined && side !== 'buy' && side !== 'sell')
    throw new UsageError(`--side must be buy or sell, not '${side}'`);
  const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, not '${values.timeout}'`);
  const marketData =
    values['market-data'] === undefined ? undefined : readJsonObject(values['market-data'], '--market-data', usage);
  const signal = values.signal === undefined ? undefined : readJsonObject(values.signal, '--signal', usage);
  const parameters = parseParams(values.param ?? [], usage);
  alpacaDataUrlCheck(values);
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, values.limits);

  const started = monotonicMs();
  // --venues: the component may route its order among them (issue 15); the first gives the market data.
  let routed: ReturnType<typeof openVenues> | undefined;
  try {
    routed = values.venues === undefined ? undefined : openVenues(values.venues, values.profiles, stateDir);
  } catch (e) {
    if (e instanceof CompareUsageError || e instanceof BrokerProfileError) throw new UsageError(e.message);
    throw e;
  }
  const live = routed?.venues.filter((v) => v.environment === 'live') ?? [];
  if (live.length > 0)
    throw new UsageError(`Test Order never sends to a live account: ${live.map((v) => v.id).join(', ')}`);
  const broker = routed
    ? (routed.venues[0] as BrokerApi)
    : values.broker === undefined || values.broker === 'paper'
      ? openPaperBroker(stateDir)
      : openBroker(values, stateDir);
  const brokers: Record<string, BrokerApi> = { [broker.id]: broker };
  for (const v of routed?.venues ?? []) brokers[v.id] = v;
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers,
    settings,
    purpose: 'sptrader CLI',
  });
  reportRecovery(trading);
  let session: PythonSession | undefined;
  let outcome: TestOrderOutcome;
  let closeError: unknown;
  try {
    try {
      await trading.engine.connect(broker.id);
    } catch (e) {
      if (e instanceof MissingCredentialError || isBrokerError(e)) {
        const hosts = [
          values['base-url'],
          values['data-url'] === undefined ? undefined : `market data ${values['data-url']}`,
        ].filter((h) => h !== undefined);
        const at = hosts.length === 0 ? '' : ` at ${hosts.join(', ')}`;
        process.stderr.write(
          `sptrader: cannot connect to ${broker.displayName} (${broker.environment})${at}: ${(e as Error).message}\n`,
        );
        return e instanceof MissingCredentialError ? EXIT.usage : EXIT.broker;
      }
      throw e;
    }
    const interpreter = await resolveInterpreter(
      defaultInterpreterCandidates(values.python ?? process.env['SPTRADER_PYTHON']),
    );
    const runnerOptions: RunnerOptions = {
      interpreter,
      timeoutMs: timeoutSeconds * 1000,
      brokerProfile: broker.id,
      testMode: true,
    };
    session = await PythonSession.start(runnerOptions, file);
    outcome = await runTestOrder(
      {
        file,
        className: values.class,
        symbol: values.symbol,
        side,
        marketData,
        signal,
        parameters,
        source: mode === 'test' ? 'test-order' : broker instanceof PaperBroker ? 'execute-paper' : 'cli',
      },
      {
        runner: session,
        broker,
        engine: trading.engine,
        clock: systemClock,
        ...(routed ? { route: { venues: new Map(routed.venues.map((v) => [v.id, v])), fees: routed.fees } } : {}),
      },
    );
  } catch (e) {
    await session?.close();
    if (!(e instanceof PythonRunError)) throw e;
    outcome = failedBeforeRun(
      file,
      { id: broker.id, environment: broker.environment },
      { code: e.code, message: e.message, file: e.file, line: e.line },
      monotonicMs() - started,
    );
  } finally {
    // A failure to close (the state could not be saved) is reported after the outcome, which may be an order sent.
    closeError = await closeAll(() => trading.close(), ...Object.values(brokers).map((b) => () => b.disconnect()));
  }
  const exitCode = cliExitCode(outcome);
  // Show the result first; the interpreter's shutdown (several ms) need not delay it.
  process.stdout.write(
    values.json ? `${JSON.stringify({ ...outcome, ok: exitCode === 0, exitCode })}\n` : `${formatOutcome(outcome)}\n`,
  );
  await session?.close();
  if (closeError !== undefined) {
    const sent = outcome.response !== null;
    const code = reportFailure(closeError, false);
    if (sent)
      process.stderr.write(
        'sptrader: the order above reached the venue, but its state could not be saved; run `sptrader recover` before trading again\n',
      );
    return code;
  }
  return exitCode;
}

/** Risk settings: --limits FILE, else <state-dir>/risk-limits.json when present, else the defaults. */
function riskSettings(stateDir: string, limitsFile: string | undefined): RiskSettings {
  const file = limitsFile === undefined ? statePaths(stateDir).riskLimits : resolve(limitsFile);
  try {
    if (statSync(file).isDirectory())
      throw new StateFileError(
        file,
        'a directory is in the place of the risk limits file',
        'Put a JSON file there, or remove it',
      );
    accessSync(file, constants.R_OK);
  } catch (e) {
    if (e instanceof StateFileError) throw e;
    // Missing: the defaults (or, for --limits, loadRiskSettings says so); anything else is a machine fault on the file.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw stateFileErrorOf(file, 'read the risk limits', e);
  }
  return loadRiskSettings(file, limitsFile !== undefined);
}

function reportRecovery(trading: TradingSession): void {
  const r = trading.recovery;
  if (r.tornTailRemoved)
    process.stderr.write(
      `sptrader: the audit log's last line was torn by a crash (${r.tornTailBytes} bytes) and was removed\n`,
    );
  if (r.anchorMissing)
    process.stderr.write(
      `sptrader: ${join(trading.audit.dir, 'anchor.json')} was missing (deleted, or a log from before anchors); written anew at seq ${r.lastSeq}: a cut before now cannot be checked against it\n`,
    );
  if (!r.verified)
    process.stderr.write(
      `sptrader: WARNING: the audit log at ${trading.audit.dir} does not verify (${r.problemCount} problems${
        r.problems[0] ? `; first: ${r.problems[0].file}:${r.problems[0].line}: ${r.problems[0].problem}` : ''
      }); run \`sptrader audit verify\`\n`,
    );
}

/** State files the engine found damaged, missing or older than the audit log: shown (with the remedy), and the command's exit is 6. */
function reportDamage(trading: TradingSession): boolean {
  const damage = trading.engine.damage;
  if (damage.length === 0) return false;
  for (const d of damage) process.stderr.write(`sptrader: ${d.file}: ${d.problem}\n`);
  process.stderr.write(`sptrader: ${withStateDir(damage[0]?.remedy ?? RECOVER_HINT)}\n`);
  return true;
}

/**
 * `reset-paper`: the paper account afresh, as the editor's Reset Paper Account does. Working paper orders
 * are cancelled first; the audit log records the reset (a VenueBaseline of nothing) before the account
 * file is deleted, so the two agree on the next open. Without --yes it only says what would be reset.
 */
async function resetPaperCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
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
      process.stdout.write(
        `Would reset the paper account in ${stateDir} (${what}) to its starting cash. Run again with --yes to reset it.\n`,
      );
      return EXIT.ok;
    }
    for (const r of working) await trading.engine.cancel(r.clientOrderId);
    const left = trading.engine.workingOrders().filter((r) => r.venue === broker.id);
    if (left.length > 0) {
      process.stderr.write(
        `sptrader: ${left.length} paper order(s) could not be cancelled (${left.map((r) => r.clientOrderId).join(', ')}); nothing was reset\n`,
      );
      return EXIT.broker;
    }
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
async function tradingCommand(command: 'halt' | 'resume' | 'status', args: string[]): Promise<number> {
  const { values } = parseArgs({
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
    throw new UsageError('--flatten closes every position at market: add --yes to confirm');
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, values.limits);
  const broker = openPaperBroker(stateDir);
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { [broker.id]: broker },
    settings,
    purpose: 'sptrader CLI',
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

async function tradingStep(
  command: 'halt' | 'resume' | 'status',
  values: { reason?: string; flatten?: boolean; json?: boolean },
  trading: TradingSession,
  broker: PaperBroker,
): Promise<number> {
  reportRecovery(trading);
  const engine = trading.engine;
  let report: EmergencyStopReport | undefined;
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
          `sptrader: halted, but could not reach ${broker.displayName} to cancel its orders: ${e.message}\n`,
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
  } else if (command === 'resume') {
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
      lines.push(
        `Cancelled  ${report.cancelled.length} order${report.cancelled.length === 1 ? '' : 's'}${report.cancelled.length ? ': ' + report.cancelled.join(', ') : ''}`,
      );
      for (const f of report.flattened) lines.push(`Flattened  ${f.symbol} ${f.quantity}: ${f.result}`);
      for (const f of report.failed) lines.push(`FAILED     ${f.venue} ${f.order}: ${f.reason}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
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

/** A real broker's paper/practice/testnet account from --broker and its options; credentials from SPTRADER_* variables. */
function openBroker(
  values: {
    broker?: string;
    environment?: string;
    'base-url'?: string;
    'data-url'?: string;
    host?: string;
    port?: string;
    'client-id'?: string;
  },
  stateDir: string,
): BrokerApi {
  const num = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`${flag} must be a whole number, not '${v}'`);
    return n;
  };
  try {
    const profile = parseBrokerProfile({
      id: values.broker,
      broker: values.broker,
      ...(values.environment === undefined ? {} : { environment: values.environment }),
      ...(values['base-url'] === undefined ? {} : { baseUrl: values['base-url'] }),
      ...(values['data-url'] === undefined ? {} : { dataUrl: values['data-url'] }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(num(values.port, '--port') === undefined ? {} : { port: num(values.port, '--port') }),
      ...(num(values['client-id'], '--client-id') === undefined
        ? {}
        : { clientId: num(values['client-id'], '--client-id') }),
    });
    return createBroker(profile, { clock: systemClock, credentials: environmentCredentials(), stateDir });
  } catch (e) {
    if (e instanceof BrokerProfileError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Alpaca's keys go to its trading host and its market-data host: moving only the first would send them,
 * with every quote, to Alpaca's own data host. Named by flag here; a profile's check names its field.
 */
function alpacaDataUrlCheck(values: { broker?: string; 'base-url'?: string; 'data-url'?: string }): void {
  if (values['data-url'] !== undefined && values.broker !== 'alpaca')
    throw new UsageError(
      `--data-url applies to --broker alpaca only (its market-data host), not to ${values.broker ?? 'the paper venue'}`,
    );
  if (values.broker === 'alpaca' && values['base-url'] !== undefined && values['data-url'] === undefined)
    throw new UsageError(
      `--base-url points Alpaca's trading API at ${values['base-url']}, but quotes would still go to Alpaca's data host ${ALPACA_DEFAULT_DATA_URL} ` +
        `with your keys: add --data-url URL (the same server, if it serves market data too; ${ALPACA_DEFAULT_DATA_URL} to keep Alpaca's own)`,
    );
}

function openPaperBroker(stateDir: string): PaperBroker {
  return new PaperBroker({ clock: systemClock, stateFile: statePaths(stateDir).paperAccount });
}

/**
 * `positions`, `account`, `orders`: the paper account, read through the same session as trading (so a
 * damaged, missing or rolled-back state file is refused the same way), and for `orders` the engine's
 * working orders at every venue.
 */
async function accountCommand(command: 'positions' | 'account' | 'orders', args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' } } });
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, undefined);
  const broker = openPaperBroker(stateDir);
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { [broker.id]: broker },
    settings,
    purpose: `sptrader ${command}`,
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
    process.stderr.write(`sptrader: ${e.message}\n`);
    return EXIT.broker;
  }
  // Never show an account that may differ from the truth without saying which file is at fault.
  if (reportDamage(trading)) return EXIT.stateFile;
  if (command === 'positions') {
    const rows = await broker.getPositions();
    process.stdout.write(
      json
        ? `${JSON.stringify(rows)}\n`
        : rows.length === 0
          ? 'No open positions.\n'
          : rows
              .map(
                (p) =>
                  `${p.symbol.padEnd(10)} ${String(p.quantity).padStart(14)} avg ${p.average_price}  now ${p.current_price}  unrealized ${p.unrealized_pnl}`,
              )
              .join('\n') + '\n',
    );
  } else if (command === 'account') {
    const a = await broker.getAccountInfo();
    process.stdout.write(
      json
        ? `${JSON.stringify(a)}\n`
        : `Account ${a.account_id} (${a.currency})\nBalance      ${a.balance}\nEquity       ${a.equity}\nBuying power ${a.buying_power}\nPositions    ${a.open_positions.length}\n`,
    );
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
    venue === 'paper' ? '`sptrader status`, test-order' : `\`sptrader test-order --broker ${venue}\`, or the editor`
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
  return `${lines.join('\n')}\n`;
}

async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, n: { type: 'string', short: 'n' } },
  });
  const [action, dirArg, ...extra] = positionals;
  if ((action !== 'verify' && action !== 'tail') || extra.length > 0)
    throw new UsageError('audit needs verify or tail, and at most one folder');
  const n = values.n === undefined ? 20 : Number(values.n);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`-n must be a whole number, not '${values.n}'`);
  const dir = resolve(dirArg ?? statePaths(values['state-dir'] ?? DEFAULT_CLI_STATE_DIR).audit);
  commandFolder = dir;
  auditDirMustExist(dir);
  if (action === 'tail') {
    const records = await tailAudit(dir, Math.max(n, 1));
    const shown = records.slice(records.length - n);
    process.stdout.write(
      values.json
        ? `${JSON.stringify(shown)}\n`
        : shown
            .map(
              (r) => `${String(r.seq).padStart(8)} ${new Date(r.ts).toISOString()} ${r.type} ${JSON.stringify(r.data)}`,
            )
            .join('\n') + (shown.length ? '\n' : ''),
    );
    // A tail cannot show what was cut off the log's end: anchor.json says how far it reached on disk.
    const anchor = readAuditAnchor(dir);
    const lastSeq = records[records.length - 1]?.seq ?? 0;
    if (anchor !== undefined && anchor.seq > lastSeq) {
      process.stderr.write(
        `sptrader: ${dir}: the audit log ends at seq ${lastSeq}, but ${join(dir, 'anchor.json')} says seq ${anchor.seq} was on disk: the log was cut short, emptied or replaced by an older copy. Run \`sptrader audit verify\`, then \`sptrader recover\`\n`,
      );
      return EXIT.stateFile;
    }
    return EXIT.ok;
  }
  const report = await verifyAuditDir(dir);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [
      `${report.verified ? 'VERIFIED' : 'BROKEN'}: ${report.lines} records in ${report.files} file${report.files === 1 ? '' : 's'} under ${dir}, last seq ${report.lastSeq}, last line sha256 ${report.lastLineHash}`,
    ];
    if (report.tornTailBytes > 0)
      lines.push(
        `torn last line: ${report.tornTailBytes} bytes at the end of ${report.tornTailFile ?? '?'} (removed on the next open)`,
      );
    for (const p of report.problems) lines.push(`${p.file}:${p.line}: ${p.problem}`);
    if (report.problemCount > report.problems.length)
      lines.push(`… and ${report.problemCount - report.problems.length} more problems`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.verified ? EXIT.ok : EXIT.componentError;
}

/** anchor.json beside the audit log (the last seq known to be on disk); undefined when absent or unreadable (verify reports that). */
function readAuditAnchor(dir: string): { seq: number } | undefined {
  try {
    const seq = (JSON.parse(readFileSync(join(dir, 'anchor.json'), 'utf8')) as { seq?: unknown } | null)?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) ? { seq } : undefined;
  } catch {
    return undefined;
  }
}

/** The audit folder named on the command line (or under --state-dir) must be there: a clear exit 6 otherwise. */
function auditDirMustExist(dir: string): void {
  let stats;
  try {
    stats = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new StateFileError(
        dir,
        'no audit log here: the folder does not exist',
        'Check the path: it is the folder that holds audit-YYYY-MM-DD.jsonl files (<state-dir>/audit)',
      );
    throw stateFileErrorOf(dir, 'read the audit log folder', e);
  }
  if (!stats.isDirectory())
    throw new StateFileError(
      dir,
      'this is a file, not the audit log folder',
      'Pass the folder that holds audit-YYYY-MM-DD.jsonl files',
    );
}

/**
 * `recover`: rebuilds the state files the audit log says are damaged, missing or older than it
 * (src/usecases/recover.ts), under the state directory's lock. Without --yes it only reports.
 */
async function recoverCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, yes: { type: 'boolean' } },
  });
  const stateDir = stateDirOf(values['state-dir']);
  if (!existsSync(stateDir))
    throw new StateFileError(stateDir, 'there is no state directory here', 'Check --state-dir');
  const lock = acquireStateDirLock(stateDir, 'sptrader recover');
  let report: RecoverReport;
  try {
    report = await recoverStateDir({ stateDir, clock: systemClock, dryRun: values.yes !== true });
  } finally {
    lock.release();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...report, dryRun: values.yes !== true })}\n`);
  } else {
    const lines: string[] = [];
    lines.push(
      report.problems.length === 0
        ? `${report.stateDir}: no problems found.`
        : `${report.stateDir}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`,
    );
    for (const p of report.problems) lines.push(`  problem  ${p}`);
    for (const a of report.actions) lines.push(`  ${values.yes === true ? 'done   ' : 'would  '}  ${a}`);
    if (values.yes !== true && report.actions.length > 0)
      lines.push('Nothing was changed: run again with --yes to do the above.');
    else if (report.changed)
      lines.push('Recovered: check with `sptrader status` and `sptrader positions` before trading.');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  // A look without --yes that found problems says so in its exit code, as any command on damaged state does.
  return values.yes !== true && report.problems.length > 0 ? EXIT.stateFile : EXIT.ok;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // A closed pipe (`sptrader … | head`) is not an error of the command.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.exitCode = reportFailure(e, argv.includes('--json'));
    },
  );
}
