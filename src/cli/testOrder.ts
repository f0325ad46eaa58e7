/** `sptrader test-order` and `sptrader execute`: a component's order, through the engine, to one venue or several. */
import { resolve } from 'node:path';
import { monotonicMs, systemClock } from '../common/clock';
import { PaperBroker } from '../brokers/paper/paperBroker';
import { failedBeforeRun, runTestOrder, type TestOrderOutcome } from '../usecases/testOrder';
import { PythonRunError, PythonSession, type RunnerOptions } from '../python/runner';
import { cliExitCode, formatOutcome } from '../usecases/formatOutcome';
import { isBrokerError } from '../brokers/errors';
import { openTradingSession } from '../usecases/session';
import {
  cliInterpreter,
  choiceFlag,
  isBrief,
  numberFlag,
  parseFlags,
  parseParams,
  readJsonObject,
  COMPONENT_RUN_FLAGS,
  RUNNER_LIMIT_FLAGS,
  runnerLimits,
  symbolFlag,
  TIMER_SECONDS,
  type NumberFlag,
  typedParams,
} from './args';
import { CompareUsageError, openVenues } from './compare';
import {
  ALPACA_DEFAULT_DATA_URL,
  BROKER_KINDS,
  BrokerProfileError,
  createBroker,
  ENVIRONMENT_NAMES,
  parseBrokerProfile,
} from '../brokers/registry';
import { environmentCredentials, MissingCredentialError } from '../brokers/credentials';
import type { BrokerApi } from '../brokers/broker';
import {
  closeAll,
  EXIT,
  reportFailure,
  stateDirOf,
  usage,
  UsageError,
  withStateDir,
  withStateDirInJson,
} from './failures';
import { openPaperBroker, reportRecovery, riskSettings } from './session';

const PORT: NumberFlag = { what: 'a whole number from 1 to 65535', min: 1, max: 65535, whole: true };
/** TWS takes a 32-bit client id. */
const CLIENT_ID: NumberFlag = { what: 'a whole number from 0 to 2147483647', min: 0, max: 2 ** 31 - 1, whole: true };

/** `test-order` (a scratch copy of the paper account) and `execute` (the account itself): the same options. */
export async function testOrderCommand(args: string[], mode: 'test' | 'execute'): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      ...COMPONENT_RUN_FLAGS,
      broker: { type: 'string' },
      environment: { type: 'string' },
      'base-url': { type: 'string' },
      'data-url': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'client-id': { type: 'string' },
      venues: { type: 'string' },
      profiles: { type: 'string' },
      ...RUNNER_LIMIT_FLAGS,
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(`${mode === 'test' ? 'test-order' : 'execute'} needs exactly one component file`);
  // Words in any letters (--side SELL, --broker OANDA, --environment Live) are read as the words; checked first,
  // as the checks below compare them.
  values.broker = choiceFlag('--broker', values.broker, BROKER_KINDS, usage);
  values.environment = choiceFlag('--environment', values.environment, ENVIRONMENT_NAMES, usage);
  const side = choiceFlag('--side', values.side, ['buy', 'sell'] as const, usage);
  if (values.venues !== undefined && values.broker !== undefined)
    throw new UsageError('use --venues (several venues, for a routed order) or --broker (one), not both');
  if (values.profiles !== undefined && values.venues === undefined)
    throw new UsageError('--profiles names the venues of --venues: add --venues');
  connectionFlagsCheck(values);
  const file = resolve(positionals[0] ?? '');
  const symbol = symbolFlag(values.symbol, usage);
  const timeoutSeconds =
    values.timeout === undefined ? 30 : numberFlag('--timeout', values.timeout, TIMER_SECONDS, usage);
  const marketData =
    values['market-data'] === undefined ? undefined : readJsonObject(values['market-data'], '--market-data', usage);
  const signal = values.signal === undefined ? undefined : readJsonObject(values.signal, '--signal', usage);
  let parameters = parseParams(values.param ?? [], usage);
  const limits = runnerLimits(values, usage);
  alpacaDataUrlCheck(values);
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, values.limits);

  const started = monotonicMs();
  // --venues: the component may route its order among them (issue 15); the first gives the market data.
  let routed: ReturnType<typeof openVenues> | undefined;
  try {
    routed = values.venues === undefined ? undefined : openVenues(values.venues, values.profiles, stateDir);
  } catch (e) {
    if (e instanceof CompareUsageError || e instanceof BrokerProfileError) throw new UsageError(e.message, isBrief(e));
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
    brokenLog: 'refuse',
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
    const interpreter = await cliInterpreter(values.python, values.timeout === undefined ? undefined : timeoutSeconds);
    const runnerOptions: RunnerOptions = {
      interpreter,
      timeoutMs: timeoutSeconds * 1000,
      brokerProfile: broker.id,
      // TEST_MODE=true is Test Order's (the component contract's "Environment given to a run"): a component may size
      // or shape a test's order differently, and an execute trading on it would trade the test's order.
      testMode: mode === 'test',
      ...limits,
    };
    session = await PythonSession.start(runnerOptions, file);
    if (values.param !== undefined) {
      // Read for the parameters __metadata__ declares (its type, min/max, options); metadata that cannot be
      // read leaves them as given, and the run reports why.
      const info = await session.inspect(file).catch(() => undefined);
      parameters = typedParams(values.param, info?.metadata, file, usage, (m) =>
        process.stderr.write(`sptrader: ${m}\n`),
      );
    }
    outcome = await runTestOrder(
      {
        file,
        className: values.class,
        symbol,
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
    // A remedy from the core says `--state-dir DIR`: here it names the folder this command used.
    values.json
      ? `${withStateDirInJson(JSON.stringify({ ...outcome, ok: exitCode === 0, exitCode }))}\n`
      : `${withStateDir(formatOutcome(outcome))}\n`,
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
    return numberFlag(flag, v, flag === '--port' ? PORT : CLIENT_ID, (message) => new UsageError(message));
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
 * The flags that say how to reach one broker (--environment, --base-url, --host, --port, --client-id) apply to
 * --broker's venue only: without it the order went to the paper venue and the flags were dropped without a word
 * (`execute x.py --environment live`, the --broker forgotten, traded on paper and said nothing of it); with
 * --venues each venue's profile says it.
 */
function connectionFlagsCheck(values: Readonly<Record<string, unknown>>): void {
  const given = ['environment', 'base-url', 'host', 'port', 'client-id'].filter((flag) => values[flag] !== undefined);
  if (given.length === 0) return;
  const flags = given.map((flag) => `--${flag}`).join(', ');
  if (values['venues'] !== undefined)
    throw new UsageError(
      `${flags} ${given.length === 1 ? 'applies' : 'apply'} to --broker; with --venues, each venue's profile (--profiles) says how to reach it`,
    );
  const broker = values['broker'];
  // The paper venue's one environment may be named; it has nothing to connect to.
  const paperOnly = given.length === 1 && given[0] === 'environment' && values['environment'] === 'paper';
  if ((broker === undefined || broker === 'paper') && !paperOnly)
    throw new UsageError(
      `${flags} ${given.length === 1 ? 'applies' : 'apply'} to a broker's account (--broker oanda, alpaca, binance or ib); without --broker the order goes to the paper venue, which has ${given.length === 1 && given[0] === 'environment' ? 'no other environment' : 'nothing to connect to'}`,
    );
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
