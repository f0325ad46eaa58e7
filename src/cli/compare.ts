/**
 * `sptrader compare <component.py> --venues paper,oanda,…`: runs a component once and sends its order
 * to each venue at the same moment (paper, practice and testnet accounts only), then prints the
 * outcomes side by side (see src/usecases/compare.ts). Venues are `paper` (the embedded paper venue,
 * whose account in --state-dir the order changes), a broker kind with its default paper/practice/testnet
 * profile (oanda, alpaca, binance, ib), or a profile id from --profiles FILE (a JSON array of broker
 * profiles, as in the `sptrader.brokerProfiles` setting). Credentials come from SPTRADER_* variables.
 * Exit codes: 0 at least one venue took the order, 1 component or validation error, 2 usage error (a
 * live venue too), 3 every venue that was sent to refused it before sending, 4 no venue could be
 * reached or none confirmed, 7 every venue that was sent to rejected it. Others go to main's handler.
 */
import { printable } from '../usecases/formatOutcome';
import { resolve } from 'node:path';
import { systemClock } from '../common/clock';
import {
  cliInterpreter,
  choiceFlag,
  briefly,
  isBrief,
  MAX_TIMEOUT_SECONDS,
  numberFlag,
  parseFlags,
  parseParams,
  readJsonFile,
  readJsonObject,
  COMPONENT_RUN_FLAGS,
  RUNNER_LIMIT_FLAGS,
  runnerLimits,
  symbolFlag,
  TIMER_SECONDS,
  typedParams,
} from './args';
import { delegatingBroker, type BrokerApi } from '../brokers/broker';
import { environmentCredentials } from '../brokers/credentials';
import { PaperBroker } from '../brokers/paper/paperBroker';
import {
  BROKER_KINDS,
  BrokerProfileError,
  createBroker,
  parseBrokerProfile,
  type BrokerKind,
  type BrokerProfile,
} from '../brokers/registry';
import type { InstrumentRules } from '../orders/model';
import type { RouteFees } from '../execution/route';
import { presumptiveFees } from '../brokers/registry';
import { formatSlippage } from '../usecases/describeOrder';
import { compareVenues, type CompareOutcome, type VenueColumn } from '../usecases/compare';
import { openTradingSession } from '../usecases/session';
import { PythonRunError, PythonSession } from '../python/runner';
import { statePaths } from '../common/statePaths';
import { CloseFailure, closeAll } from './closing';
import { stateDirOf } from './stateDir';
import { riskSettings } from './session';

export const COMPARE_USAGE = `  compare <component.py> --venues V1,V2,…
                              Run a component once and send its order to every venue at the same moment (paper,
                              practice and testnet accounts only; never live); print the outcomes side by side:
                              status and reason, fill, slippage against each venue's own quote, latency, fees.
                              A routed order goes to the route's candidates among them, with the router's pick;
                              a parent order runs on each venue and its children's fills are compared.
      --venues LIST           paper, a broker (oanda, alpaca, binance, ib: its default practice/testnet profile),
                              or a profile id from --profiles, in any letters. The first venue's quote is the
                              component's market data.
      --profiles FILE         JSON array of broker profiles (as the sptrader.brokerProfiles setting).
      --parent-seconds N      How long each venue's parent may work before it is cancelled (default: a TWAP's
                              duration + 5 s, else 5 s).
      --symbol S  --side buy|sell  --class NAME  --param k=v  --market-data FILE  --signal FILE
      --state-dir DIR  --python PATH  --timeout SECONDS  --limits FILE  --json   as for test-order.
      --output-limit-bytes N  --max-answer-bytes N  --max-metadata-bytes N  --max-nesting-depth N   as for test-order.
`;

export class CompareUsageError extends Error {}
const usage = (message: string): Error => new CompareUsageError(message);

export async function compareCommand(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (e) {
    if (
      e instanceof CompareUsageError ||
      e instanceof BrokerProfileError ||
      (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      const text = isBrief(e)
        ? ''
        : `\nUsage: sptrader compare <component.py> --venues V1,V2 [options]\n${COMPARE_USAGE}`;
      process.stderr.write(`sptrader compare: ${printable((e as Error).message)}\n${text}`);
      return 2;
    }
    if (e instanceof PythonRunError) {
      process.stderr.write(`sptrader compare: ${printable(`${e.code}: ${e.message}`)}\n`);
      return 1;
    }
    throw e;
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      venues: { type: 'string' },
      profiles: { type: 'string' },
      ...COMPONENT_RUN_FLAGS,
      'parent-seconds': { type: 'string' },
      ...RUNNER_LIMIT_FLAGS,
    },
  });
  if (positionals.length !== 1) throw new CompareUsageError('compare needs exactly one component file');
  const usage = (message: string): Error => new CompareUsageError(message);
  const parentSeconds =
    values['parent-seconds'] === undefined
      ? undefined
      : numberFlag(
          '--parent-seconds',
          values['parent-seconds'],
          { ...TIMER_SECONDS, what: 'a positive number of seconds', range: `at most ${MAX_TIMEOUT_SECONDS}` },
          usage,
        );
  if (values.venues === undefined) throw new CompareUsageError('--venues is required, e.g. --venues paper,oanda');
  const side = choiceFlag('--side', values.side, ['buy', 'sell'] as const, usage);
  const symbol = symbolFlag(values.symbol, usage);
  const timeoutSeconds =
    values.timeout === undefined ? 30 : numberFlag('--timeout', values.timeout, TIMER_SECONDS, usage);
  const file = resolve(positionals[0] ?? '');
  // As test-order: a file in the folder's place refused, the folder named in remedies, a folder or unreadable file in
  // the risk limits' place a state file's fault.
  const stateDir = stateDirOf(values['state-dir']);
  const settings = riskSettings(stateDir, values.limits);
  const marketData =
    values['market-data'] === undefined ? undefined : readJsonObject(values['market-data'], '--market-data', usage);
  const signal = values.signal === undefined ? undefined : readJsonObject(values.signal, '--signal', usage);
  let parameters = parseParams(values.param ?? [], usage);
  const limits = runnerLimits(values, usage);

  const { venues, fees } = openVenues(values.venues, values.profiles, stateDir);
  const live = venues.filter((v) => v.environment === 'live');
  if (live.length > 0) {
    throw new CompareUsageError(
      `compare never sends to a live account: ${live.map((v) => `${v.id} (${v.displayName})`).join(', ')}; use paper, practice or testnet profiles`,
    );
  }
  const brokers: Record<string, BrokerApi> = {};
  for (const v of venues) brokers[v.id] = v;
  const interpreter = await cliInterpreter(values.python, values.timeout === undefined ? undefined : timeoutSeconds);
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers,
    settings,
    purpose: 'sptrader compare',
    brokenLog: 'refuse',
  });
  let session: PythonSession | undefined;
  let outcome: CompareOutcome;
  let closeError: unknown;
  try {
    session = await PythonSession.start(
      {
        interpreter,
        timeoutMs: timeoutSeconds * 1000,
        brokerProfile: venues[0]?.id ?? 'paper',
        testMode: true,
        ...limits,
      },
      file,
    );
    if (values.param !== undefined) {
      const info = await session.inspect(file).catch(() => undefined);
      parameters = typedParams(values.param, info?.metadata, file, usage, (m) =>
        process.stderr.write(`sptrader: ${m}\n`),
      );
    }
    outcome = await compareVenues(
      {
        file,
        className: values.class,
        symbol,
        side,
        marketData,
        signal,
        parameters,
        ...(parentSeconds === undefined ? {} : { parentWaitMs: parentSeconds * 1000 }),
      },
      { runner: session, venues, engine: trading.engine, clock: systemClock, fees, audit: trading.audit },
    );
  } finally {
    await session?.close();
    closeError = await closeAll(
      () => trading.close(),
      () => Promise.all(venues.map((v) => v.disconnect().catch(() => undefined))),
    );
  }
  process.stdout.write(values.json ? `${JSON.stringify(outcome)}\n` : `${formatComparison(outcome)}\n`);
  // The orders above were sent: what they did is shown first, then that it could not all be recorded (the CLI's
  // failure report: exit 6 naming the file).
  if (closeError !== undefined) throw new CloseFailure(closeError);
  return compareExitCode(outcome);
}

/** 0 when a venue took the order (or the component chose not to trade); else the most telling failure. */
export function compareExitCode(outcome: CompareOutcome): number {
  if (outcome.errors.some((e) => e.code === 'LIVE_REFUSED')) return 2;
  if (outcome.order === null && outcome.parent === null)
    return outcome.ok ? 0 : outcome.errors.length > 0 && outcome.venues.every((c) => c.reason === null) ? 1 : 4;
  if (
    outcome.venues.some((c) => ['FILLED', 'PARTIALLY_FILLED', 'ACCEPTED', 'CANCELLED', 'EXPIRED'].includes(c.verdict))
  )
    return 0;
  const sent = outcome.venues.filter((c) => c.verdict !== 'NOT_SENT');
  if (sent.length > 0 && sent.every((c) => c.verdict === 'DENIED')) return 3;
  if (sent.length > 0 && sent.every((c) => c.verdict === 'REJECTED')) return 7;
  if (outcome.venues.every((c) => c.code === 'INVALID_ORDER')) return 1;
  return 4;
}

/**
 * The venues of `--venues` (with `--profiles`), and each one's presumptive fees for routing: the
 * paper venue's own model (crypto 10 bps, else none), a broker's public retail schedule otherwise.
 */
export function openVenues(
  list: string,
  profilesFile: string | undefined,
  stateDir: string,
): { venues: BrokerApi[]; fees: (id: string, instrument: InstrumentRules) => RouteFees | undefined } {
  const given = list.split(',').map((v) => v.trim());
  if (given.some((n) => n === '')) throw new CompareUsageError(`--venues has an empty entry: '${list}'`);
  const profiles = profilesFile === undefined ? [] : readProfiles(profilesFile);
  const names = given.map((name) => venueName(name, profiles));
  if (new Set(names).size !== names.length) throw new CompareUsageError(`--venues names a venue twice: '${list}'`);
  const opened = names.map((name) => openVenue(name, profiles, stateDir));
  const kinds = new Map(opened.map((o) => [o.broker.id, o.kind]));
  return {
    venues: opened.map((o) => o.broker),
    fees: (id, instrument) => {
      const kind = kinds.get(id);
      return kind === undefined ? undefined : presumptiveFees(kind, instrument);
    },
  };
}

/**
 * The venue a `--venues` entry names, read as --broker is (PAPER, Oanda): the entry as written when a profile or
 * venue has that id, else the one whose id it is in other letters. Profile ids may differ only in case; an entry
 * that matches several of them that way names none.
 */
function venueName(name: string, profiles: readonly BrokerProfile[]): string {
  const ids = ['paper', ...BROKER_KINDS, ...profiles.map((p) => p.id)];
  if (ids.includes(name)) return name;
  const folded = name.toLowerCase();
  const matches = [...new Set(ids.filter((id) => id.toLowerCase() === folded))];
  if (matches.length > 1)
    throw new CompareUsageError(
      `venue '${name}' matches ${matches.map((m) => `'${m}'`).join(' and ')} in other letters: write the id as it is spelled`,
    );
  return matches[0] ?? name;
}

function openVenue(
  name: string,
  profiles: readonly BrokerProfile[],
  stateDir: string,
): { broker: BrokerApi; kind: BrokerKind } {
  if (name === 'paper')
    return {
      broker: new PaperBroker({ clock: systemClock, stateFile: statePaths(stateDir).paperAccount }),
      kind: 'paper',
    };
  const profile =
    profiles.find((p) => p.id === name) ??
    ((BROKER_KINDS as readonly string[]).includes(name) ? parseBrokerProfile({ id: name, broker: name }) : undefined);
  if (!profile) {
    const known = ['paper', ...BROKER_KINDS.filter((k) => k !== 'paper'), ...profiles.map((p) => p.id)];
    throw new CompareUsageError(`unknown venue '${name}': use one of ${[...new Set(known)].join(', ')}`);
  }
  const inner = createBroker(profile, { clock: systemClock, credentials: environmentCredentials(), stateDir });
  // Columns, the audit log and the engine's venues are named by the profile, as in the editor.
  return {
    broker:
      inner.id === profile.id
        ? inner
        : delegatingBroker(inner, { id: profile.id, keepScratchCopy: profile.broker === 'paper' }),
    kind: profile.broker,
  };
}

function readProfiles(path: string): BrokerProfile[] {
  const value = readJsonFile(path, '--profiles', usage);
  const list = Array.isArray(value) ? value : (value as { brokerProfiles?: unknown } | null)?.brokerProfiles;
  if (!Array.isArray(list))
    throw briefly(new CompareUsageError(`--profiles: ${path} must hold a JSON array of broker profiles`));
  const parsed = list.map((p, i) => {
    try {
      return parseBrokerProfile(p);
    } catch (e) {
      throw briefly(new CompareUsageError(`--profiles: ${path}, profile ${i + 1}: ${(e as Error).message}`));
    }
  });
  // A venue is chosen by id: with two entries of one id, which account an order goes to would be a guess.
  const first = new Map<string, number>();
  parsed.forEach((p, i) => {
    const earlier = first.get(p.id);
    if (earlier !== undefined)
      throw briefly(
        new CompareUsageError(
          `--profiles: ${path}, profiles ${earlier + 1} and ${i + 1} both have the id "${p.id}": give each profile its own id`,
        ),
      );
    first.set(p.id, i);
  });
  return parsed;
}

/**
 * The comparison as a table: one column per venue. Escaped: a component's exception, a venue's refusal and the notes
 * are anyone's text, and a terminal escape in them (a title set, a colour, a line cleared) reached the terminal.
 */
export function formatComparison(outcome: CompareOutcome): string {
  return printable(comparisonLines(outcome).join('\n'));
}

function comparisonLines(outcome: CompareOutcome): string[] {
  const lines = [outcome.summary];
  for (const e of outcome.errors)
    lines.push(`ERROR  ${e.code}: ${e.message}${e.file ? ` (${e.file}${e.line ? `:${e.line}` : ''})` : ''}`);
  if (outcome.order === null && outcome.parent === null) return lines;
  const rows: Array<[string, (c: VenueColumn) => string]> = [
    ['venue', (c) => `${c.id} (${c.environment})`],
    ...(outcome.route
      ? [['route', (c: VenueColumn) => c.route?.role ?? '-'] as [string, (c: VenueColumn) => string]]
      : []),
    ['status', (c) => c.verdict + (c.code ? ` ${c.code}` : '')],
    ['quote', (c) => (c.quote ? `${c.quote.bid} / ${c.quote.ask}` : '-')],
    outcome.parent
      ? ['parent', (c) => (c.parent ? `${c.parent.state}, ${c.parent.children} children` : '-')]
      : ['order', (c) => (c.order ? `${c.order.side.toUpperCase()} ${num(c.order.quantity)} ${c.order.symbol}` : '-')],
    ['fill', (c) => (c.fill ? `${num(c.fill.quantity)} @ ${c.fill.averagePrice}` : '-')],
    ['slippage', (c) => (c.slippage ? `${formatSlippage(c.slippage)}, ${formatSlippage(c.slippage, 'crypto')}` : '-')],
    [
      'vs best',
      (c) => (c.versusBest ? `${formatSlippage(c.versusBest)}, ${formatSlippage(c.versusBest, 'crypto')}` : '-'),
    ],
    ['fees', (c) => (c.fees === null ? '-' : num(c.fees))],
    ['submit→answer', (c) => ms(c.latency.submitMs)],
    ['submit→ack', (c) => ms(c.latency.ackMs)],
    ['submit→fill', (c) => ms(c.latency.fillMs)],
  ];
  const cells = rows.map(([label, f]) => [label, ...outcome.venues.map(f)]);
  const widths = outcome.venues.map((_, i) => Math.max(...cells.map((r) => (r[i + 1] as string).length)));
  const labelWidth = Math.max(...rows.map(([l]) => l.length));
  for (const r of cells)
    lines.push(
      [(r[0] as string).padEnd(labelWidth), ...r.slice(1).map((c, i) => c.padEnd(widths[i] as number))]
        .join('  ')
        .trimEnd(),
    );
  for (const c of outcome.venues) if (c.reason) lines.push(`${c.id}: ${c.reason}`);
  for (const c of outcome.venues) if (c.parent) lines.push(`${c.id}: ${c.parent.emulation}`);
  if (outcome.route)
    lines.push(
      `Route (${outcome.route.policy}): the router would pick ${outcome.route.chosen ?? 'none'}: ${outcome.route.reason}`,
    );
  for (const c of outcome.venues) for (const n of c.notes) lines.push(`${c.id}: note: ${n}`);
  for (const n of outcome.notes) lines.push(`note: ${n}`);
  if (outcome.best)
    lines.push(`Best ${outcome.parent ? 'average fill of the children' : 'fill'} net of fees: ${outcome.best}`);
  return lines;
}

const num = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 8 });
const ms = (n: number | null): string => (n === null ? '-' : `${n.toFixed(1)} ms`);
