/**
 * `sptrader`: the same core as the editor, from a terminal.
 * Exit codes: 0 the order reached the venue (or the component chose not to trade), 1 component or
 * validation error, 2 usage error, 3 denied before sending, 4 broker error, 5 the state directory is
 * in use by another SPtrader process.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monotonicMs, systemClock } from '../common/clock';
import { PaperBroker } from '../brokers/paper/paperBroker';
import { failedBeforeRun, runTestOrder, type TestOrderOutcome } from '../execution/testOrder';
import { defaultInterpreterCandidates, resolveInterpreter } from '../python/interpreter';
import { PythonRunError, PythonSession, type RunnerOptions } from '../python/runner';
import { formatOutcome } from '../execution/formatOutcome';
import { isBrokerError } from '../brokers/errors';
import { tailAudit, verifyAuditDir } from '../execution/audit/auditLog';
import { describeOrderType, describeStatus, describeTimeInForce } from '../orders/model';
import { acquireStateDirLock, StateDirBusyError } from '../common/stateLock';
import { loadRiskSettings, openTradingSession, SettingsError, type RiskSettings, type TradingSession } from '../execution/session';
import type { EmergencyStopReport } from '../execution/engine';
import { orderResponseOf } from '../execution/orderState';
import { replayCommand, REPLAY_USAGE } from './replay';
import { BrokerProfileError, createBroker, parseBrokerProfile } from '../brokers/registry';
import { environmentCredentials, MissingCredentialError } from '../brokers/credentials';
import type { BrokerApi } from '../brokers/broker';

const USAGE = `Usage: sptrader <command> [options]

Commands:
  test-order <component.py>   Run an order component and send its order to the paper venue.
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
      --host H --port P --client-id N   Interactive Brokers TWS / IB Gateway (default 127.0.0.1:7497).
      --json                  Print one JSON object instead of the summary.
${REPLAY_USAGE}  halt [--reason R] [--flatten --yes]
                              Emergency stop: HALTED at once (kept across restarts), cancel every open order,
                              and with --flatten --yes close every position at market.
  resume [--reason R]         Back to ACTIVE after a halt or a circuit-breaker trip.
  status                      Trading state, circuit breaker, working and external orders.
  positions | account | orders  Show the paper account's positions, balances or open orders.
      --state-dir DIR         Where the paper account lives (default ./.sptrader).
      --json                  Print JSON.
  audit verify [DIR]          Check the audit log's hash chain (default DIR: <state-dir>/audit); exit 1 if broken.
  audit tail [DIR] [-n N]     Print the last N audit records (default 20).
      --state-dir DIR         Where the state lives (default ./.sptrader).
      --json                  Print JSON.
  help                        Show this text.
`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'test-order':
        return await testOrderCommand(rest);
      case 'positions':
      case 'account':
      case 'orders':
        return await accountCommand(command, rest);
      case 'audit':
        return await auditCommand(rest);
      case 'replay':
        return await replayCommand(rest);
      case 'halt':
      case 'resume':
      case 'status':
        return await tradingCommand(command, rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`sptrader: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof StateDirBusyError) {
      // Nothing was read, written or sent: another process owns the state directory.
      process.stderr.write(`sptrader: ${e.message}\n`);
      return 5;
    }
    throw e;
  }
}

async function testOrderCommand(args: string[]): Promise<number> {
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
      host: { type: 'string' },
      port: { type: 'string' },
      'client-id': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('test-order needs exactly one component file');
  const file = resolve(positionals[0] ?? '');
  const side = values.side;
  if (side !== undefined && side !== 'buy' && side !== 'sell') throw new UsageError(`--side must be buy or sell, not '${side}'`);
  const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not '${values.timeout}'`);
  const marketData = values['market-data'] === undefined ? undefined : readJsonObject(values['market-data'], '--market-data');
  const signal = values.signal === undefined ? undefined : readJsonObject(values.signal, '--signal');
  const parameters = parseParams(values.param ?? []);
  const stateDir = resolve(values['state-dir'] ?? '.sptrader');
  const settings = riskSettings(stateDir, values.limits);

  const started = monotonicMs();
  const broker = values.broker === undefined || values.broker === 'paper' ? openPaperBroker(stateDir) : openBroker(values, stateDir);
  const trading = await openTradingSession({ stateDir, clock: systemClock, brokers: { [broker.id]: broker }, settings, purpose: 'sptrader CLI' });
  reportRecovery(trading);
  let session: PythonSession | undefined;
  let outcome: TestOrderOutcome;
  try {
    try {
      await trading.engine.connect(broker.id);
    } catch (e) {
      if (e instanceof MissingCredentialError || isBrokerError(e)) {
        await trading.close();
        await broker.disconnect().catch(() => undefined);
        process.stderr.write(`sptrader: cannot connect to ${broker.displayName} (${broker.environment}): ${(e as Error).message}\n`);
        return e instanceof MissingCredentialError ? 2 : 4;
      }
      throw e;
    }
    const interpreter = await resolveInterpreter(defaultInterpreterCandidates(values.python ?? process.env['SPTRADER_PYTHON']));
    const runnerOptions: RunnerOptions = { interpreter, timeoutMs: timeoutSeconds * 1000, brokerProfile: broker.id, testMode: true };
    session = await PythonSession.start(runnerOptions, file);
    outcome = await runTestOrder(
      { file, className: values.class, symbol: values.symbol, side, marketData, signal, parameters },
      { runner: session, broker, engine: trading.engine, clock: systemClock },
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
    await trading.close();
    await broker.disconnect();
  }
  // Show the result first; the interpreter's shutdown (several ms) need not delay it.
  process.stdout.write(values.json ? `${JSON.stringify(outcome)}\n` : `${formatOutcome(outcome)}\n`);
  await session?.close();
  return outcome.exitCode;
}

/** Risk settings: --limits FILE, else <state-dir>/risk-limits.json when present, else the defaults. */
function riskSettings(stateDir: string, limitsFile: string | undefined): RiskSettings {
  try {
    return loadRiskSettings(limitsFile === undefined ? join(stateDir, 'risk-limits.json') : resolve(limitsFile), limitsFile !== undefined);
  } catch (e) {
    if (e instanceof SettingsError) throw new UsageError(e.message);
    throw e;
  }
}

function reportRecovery(trading: TradingSession): void {
  const r = trading.recovery;
  if (r.tornTailRemoved) process.stderr.write(`sptrader: the audit log's last line was torn by a crash (${r.tornTailBytes} bytes) and was removed\n`);
  if (!r.verified)
    process.stderr.write(
      `sptrader: WARNING: the audit log at ${trading.audit.dir} does not verify (${r.problemCount} problems); run \`sptrader audit verify\`\n`,
    );
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
  if (values.flatten && !values.yes) throw new UsageError('--flatten closes every position at market: add --yes to confirm');
  const stateDir = resolve(values['state-dir'] ?? '.sptrader');
  const settings = riskSettings(stateDir, values.limits);
  const broker = openPaperBroker(stateDir);
  const trading = await openTradingSession({ stateDir, clock: systemClock, brokers: { [broker.id]: broker }, settings, purpose: 'sptrader CLI' });
  reportRecovery(trading);
  try {
    const engine = trading.engine;
    let report: EmergencyStopReport | undefined;
    if (command === 'halt') {
      // Halt first, even if the venue cannot be reached: nothing is sent from now on.
      engine.setTradingState('HALTED', values.reason ?? 'halted from the command line');
      try {
        await engine.connect(broker.id);
      } catch (e) {
        process.stderr.write(`sptrader: halted, but could not reach ${broker.displayName} to cancel its orders: ${(e as Error).message}\n`);
        return 4;
      }
      report = await engine.emergencyStop({ reason: values.reason ?? 'emergency stop from the command line', flatten: values.flatten === true });
    } else if (command === 'resume') {
      engine.setTradingState('ACTIVE', values.reason ?? 'resumed from the command line');
    } else {
      await engine.connect(broker.id);
    }
    const status = engine.status();
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ...status, working: engine.workingOrders().map(orderResponseOf), external: engine.externalOrders(), emergencyStop: report ?? null })}\n`,
      );
    } else {
      const lines = [
        `Trading    ${status.tradingState}${status.tradingState === 'ACTIVE' ? '' : `: ${status.reason}`}`,
        `Since      ${new Date(status.since).toISOString()} (${status.source})${status.resumeAt ? `, resumes by itself at ${new Date(status.resumeAt).toISOString()}` : ''}`,
        `Breaker    ${status.breaker.consecutiveFailures} failures in a row, ${status.breaker.failuresInWindow} in the window`,
        `Orders     ${status.workingOrders} working, ${status.externalOrders} external`,
        `Audit      ${status.audit?.dir ?? '-'} (${status.audit?.lastSeq ?? 0} records)`,
      ];
      if (report) {
        lines.push(
          `Cancelled  ${report.cancelled.length} order${report.cancelled.length === 1 ? '' : 's'}${report.cancelled.length ? ': ' + report.cancelled.join(', ') : ''}`,
        );
        for (const f of report.flattened) lines.push(`Flattened  ${f.symbol} ${f.quantity}: ${f.result}`);
        for (const f of report.failed) lines.push(`FAILED     ${f.venue} ${f.order}: ${f.reason}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    }
    return report && report.failed.length > 0 ? 4 : 0;
  } finally {
    await trading.close();
    await broker.disconnect();
  }
}

/** A real broker's paper/practice/testnet account from --broker and its options; credentials from SPTRADER_* variables. */
function openBroker(
  values: { broker?: string; environment?: string; 'base-url'?: string; host?: string; port?: string; 'client-id'?: string },
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
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(num(values.port, '--port') === undefined ? {} : { port: num(values.port, '--port') }),
      ...(num(values['client-id'], '--client-id') === undefined ? {} : { clientId: num(values['client-id'], '--client-id') }),
    });
    return createBroker(profile, { clock: systemClock, credentials: environmentCredentials(), stateDir });
  } catch (e) {
    if (e instanceof BrokerProfileError) throw new UsageError(e.message);
    throw e;
  }
}

function openPaperBroker(stateDir: string): PaperBroker {
  return new PaperBroker({ clock: systemClock, stateFile: join(stateDir, 'paper-account.json') });
}

async function accountCommand(command: 'positions' | 'account' | 'orders', args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' } } });
  const stateDir = resolve(values['state-dir'] ?? '.sptrader');
  const lock = acquireStateDirLock(stateDir, `sptrader ${command}`);
  const broker = openPaperBroker(stateDir);
  try {
    await broker.connect();
    const data = command === 'positions' ? await broker.getPositions() : command === 'orders' ? await broker.listOpenOrders() : await broker.getAccountInfo();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(data)}\n`);
    } else if (command === 'positions') {
      const rows = data as Awaited<ReturnType<PaperBroker['getPositions']>>;
      process.stdout.write(
        rows.length === 0
          ? 'No open positions.\n'
          : rows
              .map(
                (p) =>
                  `${p.symbol.padEnd(10)} ${String(p.quantity).padStart(14)} avg ${p.average_price}  now ${p.current_price}  unrealized ${p.unrealized_pnl}`,
              )
              .join('\n') + '\n',
      );
    } else if (command === 'orders') {
      const rows = data as Awaited<ReturnType<PaperBroker['listOpenOrders']>>;
      process.stdout.write(
        rows.length === 0
          ? 'No open orders.\n'
          : rows
              .map(
                (o) =>
                  `${o.order_id.padEnd(8)} ${o.side.toUpperCase()} ${o.quantity} ${o.symbol} ${describeOrderType(o.order_type)} ${describeTimeInForce(o.time_in_force)}  ${describeStatus(o.status)}`,
              )
              .join('\n') + '\n',
      );
    } else {
      const a = data as Awaited<ReturnType<PaperBroker['getAccountInfo']>>;
      process.stdout.write(
        `Account ${a.account_id} (${a.currency})\nBalance      ${a.balance}\nEquity       ${a.equity}\nBuying power ${a.buying_power}\nPositions    ${a.open_positions.length}\n`,
      );
    }
    return 0;
  } catch (e) {
    if (isBrokerError(e)) {
      process.stderr.write(`sptrader: ${e.message}\n`);
      return 4;
    }
    throw e;
  } finally {
    await broker.disconnect();
    lock.release();
  }
}

async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, n: { type: 'string', short: 'n' } },
  });
  const [action, dirArg, ...extra] = positionals;
  if ((action !== 'verify' && action !== 'tail') || extra.length > 0) throw new UsageError('audit needs verify or tail, and at most one folder');
  const dir = resolve(dirArg ?? join(values['state-dir'] ?? '.sptrader', 'audit'));
  if (action === 'tail') {
    const n = values.n === undefined ? 20 : Number(values.n);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`-n must be a whole number, not '${values.n}'`);
    const records = await tailAudit(dir, n);
    process.stdout.write(
      values.json
        ? `${JSON.stringify(records)}\n`
        : records.map((r) => `${String(r.seq).padStart(8)} ${new Date(r.ts).toISOString()} ${r.type} ${JSON.stringify(r.data)}`).join('\n') +
            (records.length ? '\n' : ''),
    );
    return 0;
  }
  const report = await verifyAuditDir(dir);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [
      `${report.verified ? 'VERIFIED' : 'BROKEN'}: ${report.lines} records in ${report.files} file${report.files === 1 ? '' : 's'} under ${dir}, last seq ${report.lastSeq}, last line sha256 ${report.lastLineHash}`,
    ];
    if (report.tornTailBytes > 0)
      lines.push(`torn last line: ${report.tornTailBytes} bytes at the end of ${report.tornTailFile ?? '?'} (removed on the next open)`);
    for (const p of report.problems) lines.push(`${p.file}:${p.line}: ${p.problem}`);
    if (report.problemCount > report.problems.length) lines.push(`… and ${report.problemCount - report.problems.length} more problems`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.verified ? 0 : 1;
}

function readJsonObject(path: string, flag: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${flag}: ${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

function parseParams(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param needs key=value, got '${pair}'`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`sptrader: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
