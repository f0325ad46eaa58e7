/**
 * "Test Order": run a component, turn what it returned into a valid order, and send it to a
 * non-live venue. Both the CLI and the editor call this; neither talks to a broker directly.
 *
 * Where the order goes:
 * - the embedded paper venue, Test Order: the real engine checks it against the paper account (the
 *   audit log records that check, `CheckOrder`, as for a live profile), then it fills on a scratch copy
 *   of the account (same cash, positions and resting orders) through an engine of its own with no audit
 *   log. The paper account, its file and the audit log's fills are unchanged: the log records what
 *   happened at venues, and nothing did.
 * - the embedded paper venue, Execute on Paper (`sptrader execute`): the paper account itself.
 * - a broker's paper/practice/testnet profile: that practice account, and the outcome says so.
 * - a live profile: checked only, never sent (Execute Live… sends, with confirmation).
 *
 * Past 450 lines on purpose: one use case, run a component and carry its order to one venue (or
 * a route, or a parent), shared by the CLI and the editor; its steps pass one outcome along and each
 * failure path must fill the same outcome shape. The order's fit, routing and formatting are apart (fit.ts,
 * route.ts, formatOutcome.ts).
 */
import { basename } from 'node:path';
import { monotonicMs, type Clock } from '../common/clock';
import { redactSecretsDeep } from '../common/secrets';
import type { BrokerApi } from '../brokers/broker';
import { isBrokerError } from '../brokers/errors';
import { symbolProblem, type OrderRequest, type OrderResponse, type Quote } from '../orders/model';
import { normalizeComponentOrder, orderTypeNamed } from '../orders/normalize';
import { instrumentKey } from '../orders/instrumentKey';
import type { ComponentInfo, ComponentRunRequest, ComponentRunResult } from '../python/runner';
import type { ComponentError } from '../python/protocol';
import { computeSlippage, type Slippage } from '../execution/slippage';
import { ExecutionEngine } from '../execution/engine';
import { submitOrderCommand, type EngineEvent, type OrderSource } from '../execution/events';
import { isFinalState, orderResponseOf } from '../execution/orderState';
import { fitToInstrument } from '../execution/fit';
import { chooseVenue, splitRoute, withRouteMetadata, type ChooseOptions, type RouteDecision } from '../execution/route';
import type { RiskCheckResult } from '../execution/risk';
import { splitParent, type ParentSpec } from '../execution/algos/dialect';
import { describeParent, type ParentOrder } from '../execution/algos/parents';
import { riskLimitsLine } from './componentLimitsAt';
import { immediateUnfilledNote, stopAlreadyReachedNote } from './priceText';

/** The part of a Python runner Test Order needs (a cold session or the persistent worker). */
export interface ComponentRunner {
  inspect(file: string): Promise<ComponentInfo>;
  run(request: ComponentRunRequest): Promise<ComponentRunResult>;
}

export interface TestOrderRequest {
  file: string;
  className?: string;
  /** Symbol for market data; else the component's metadata, else EUR_USD. */
  symbol?: string;
  /** The side put in market_data for components that read it (shipped `MarketOrder`); default buy. */
  side?: 'buy' | 'sell';
  /** Market data from a fixture: its keys replace those built from the venue's quote. */
  marketData?: Record<string, unknown>;
  signal?: Record<string, unknown> | null;
  parameters?: Record<string, unknown>;
  /** How long to wait for a marketable order to reach a final status. */
  waitMs?: number;
  /**
   * Recorded with the order (default 'test-order'). A 'test-order' on the embedded paper venue fills
   * on a scratch copy of the account; any other source trades on the venue itself.
   */
  source?: OrderSource;
}

/** A venue that can copy its whole account into memory (the embedded paper venue). */
export interface ScratchCopyable {
  scratchCopy(): BrokerApi;
}

export function canScratch(broker: BrokerApi): broker is BrokerApi & ScratchCopyable {
  return typeof (broker as Partial<ScratchCopyable>).scratchCopy === 'function';
}

/** A problem as the harness reports it (file, line, column span), or one SPtrader found in the order. */
export interface OutcomeError extends Omit<ComponentError, 'traceback'> {
  path?: string;
  /** The offending value of an invalid order's field, shown safely (truncated, secrets redacted). */
  value?: string;
  /** What to do about it; also written into `message`. */
  hint?: string;
}

/** As the CLI documents them: 6 damaged state (nothing sent), 7 a venue's own rejection. */
export type ExitCode = 0 | 1 | 2 | 3 | 4 | 6 | 7;

export interface TestOrderOutcome {
  ok: boolean;
  exitCode: ExitCode;
  /** One line that says what happened. */
  summary: string;
  component: { file: string; className?: string; entryPoint?: string; stdout: string; stderr: string; output: unknown };
  marketData: Record<string, unknown> | null;
  order: OrderRequest | null;
  response: OrderResponse | null;
  slippage: Slippage | null;
  timings: {
    componentMs: number | null;
    pythonMs: number | null;
    engineMs: number | null;
    venueMs: number | null;
    totalMs: number;
  };
  errors: OutcomeError[];
  notes: string[];
  venue: { id: string; environment: string };
  /**
   * True when the order went to a scratch copy of the paper account (Test Order on the embedded paper
   * venue): its fills are real fills of that copy, and the paper account itself is unchanged.
   */
  scratch: boolean;
  /** Every pre-trade check, passed ones too, with limit and actual. */
  risk: readonly RiskCheckResult[];
  /** The denial, when the engine refused to send. */
  denial: { code: string; message: string } | null;
  /** The engine's events for this order, in order (the status timeline). */
  events: EngineEvent[];
  /** For a routed order: every candidate venue, priced or skipped, and why the chosen one won. */
  route?: RouteDecision;
  /** A parent order the component returned (checked), and the parent as started when this run carries it out. */
  parentSpec?: ParentSpec;
  parent?: ParentOrder;
}

export interface TestOrderDependencies {
  runner: ComponentRunner;
  /** The venue's quotes, account and instrument rules build market data; orders go only through `engine`. */
  broker: BrokerApi;
  engine: ExecutionEngine;
  clock: Clock;
  /**
   * The venues a routed order (`{'route': 'best_price', 'venues': [...]}`) may go to, with their
   * presumptive fees; without it, a routed order is refused (this run has one venue).
   */
  route?: ChooseOptions;
  /**
   * Carries out a parent order (`{'algo': 'twap' | 'iceberg' | 'bracket' | 'trailing_stop', ...}`) on
   * the run's venue as children (Execute on Paper); without it a parent is checked and not started.
   */
  parents?: { start(spec: ParentSpec, venue: string): Promise<ParentOrder> };
}

export { fitToInstrument };

const DEFAULT_SYMBOL = 'EUR_USD';

export async function runTestOrder(request: TestOrderRequest, deps: TestOrderDependencies): Promise<TestOrderOutcome> {
  const started = monotonicMs();
  const { broker, runner, clock } = deps;
  const notes: string[] = [];
  const outcome: TestOrderOutcome = {
    ok: false,
    exitCode: 1,
    summary: '',
    component: { file: request.file, stdout: '', stderr: '', output: null },
    marketData: null,
    order: null,
    response: null,
    slippage: null,
    timings: { componentMs: null, pythonMs: null, engineMs: null, venueMs: null, totalMs: 0 },
    errors: [],
    notes,
    venue: { id: broker.id, environment: broker.environment },
    scratch: false,
    risk: [],
    denial: null,
    events: [],
  };
  /** Where an order's problems are said when the harness could not tell its `return` (the entry point's def line). */
  let inexactLine: { line: number; entry: string } | undefined;
  const finish = (exitCode: ExitCode, summary: string): TestOrderOutcome => {
    if (inexactLine !== undefined && outcome.errors.some((e) => e.line === inexactLine?.line))
      notes.push(
        `line ${inexactLine.line} is where ${inexactLine.entry} is defined: which of its return statements gave this order could not be told from the order (Python 3.12 and later tell it exactly)`,
      );
    outcome.exitCode = exitCode;
    outcome.ok = exitCode === 0;
    outcome.summary = summary;
    outcome.timings.totalMs = round3(monotonicMs() - started);
    return outcome;
  };

  try {
    // 1. Market data: the fixture, or the venue's quote for the component's symbol.
    const pythonStarted = monotonicMs();
    // Reading metadata never executes the file; if it fails, the run below reports why.
    const info = await runner.inspect(request.file).catch(() => undefined);
    const { symbol, problem } = runSymbol(request, info?.metadata ?? null);
    if (problem !== undefined) {
      outcome.errors.push({ code: 'INVALID_SYMBOL', message: problem });
      return finish(1, `${problem}: nothing was run or sent.`);
    }
    // A venue whose link dropped is connected again through the engine, which reconciles its orders by
    // client order id (fills of resting orders missed while it was down), never behind the engine's back.
    if (!broker.isConnected()) {
      if (deps.engine.hasBroker(broker.id)) {
        await deps.engine.connect(broker.id);
        notes.push(`${broker.displayName} was not connected: connected again and its orders reconciled first`);
      } else await broker.connect();
    }
    const marketData = await buildMarketData(broker, symbol, request, clock.now(), notes);
    outcome.marketData = marketData;
    notes.push(...fixtureQuoteNotes(request.marketData, marketData));

    // 2. Run the component.
    const run = await runner.run({
      file: request.file,
      className: request.className,
      parameters: request.parameters,
      marketData,
      signal: request.signal ?? null,
    });
    outcome.timings.pythonMs = round3(monotonicMs() - pythonStarted);
    outcome.timings.componentMs = run.componentMs === undefined ? null : round3(run.componentMs);
    outcome.component = {
      file: request.file,
      className: run.className,
      entryPoint: run.entryPoint,
      stdout: run.stdout,
      stderr: run.stderr,
      // What the component returned, as the CLI's --json and the result panel show it: a secret-looking key's
      // value (an api_key in its metadata) is shown redacted, as the order itself carries it.
      output: typeof run.output === 'object' && run.output !== null ? redactSecretsDeep(run.output) : run.output,
    };
    if (!run.ok || run.error) {
      const e = run.error ?? { code: 'COMPONENT_ERROR', message: 'the component failed without a message' };
      outcome.errors.push({ code: e.code, message: e.message, file: e.file, line: e.line, ...columnsOf(e) });
      return finish(1, `Component error (${e.code}): nothing was sent.`);
    }
    if (run.output === null || run.output === undefined) {
      if (run.noReturnLine !== undefined)
        notes.push(
          `${run.entryPoint ?? 'generate_order'} (${basename(request.file)}:${run.noReturnLine}) has no return statement that gives a value, so it always returns None (no order); if it builds an order, end it with \`return order\``,
        );
      return finish(0, 'The component produced no order (it returned None): nothing was sent.');
    }
    notes.push(...narrowFloatNotes(run.narrowFloats));

    // A component's malformed risk_limits are denied by the engine naming the limit; said here at their line.
    const limitsAt = (d: { code: string; message: string }): { file: string; line?: number } | undefined => {
      if (d.code !== 'INVALID_RISK_LIMITS') return undefined;
      const line = riskLimitsLine(info, d.message);
      return line === undefined ? { file: request.file } : { file: request.file, line };
    };
    const denialError = (d: { code: string; message: string }): OutcomeError => ({
      code: d.code,
      message: d.message,
      ...limitsAt(d),
    });
    const deniedSummary = (d: { code: string; message: string }): string => {
      const at = limitsAt(d);
      const place = at === undefined ? '' : ` at ${basename(at.file)}${at.line === undefined ? '' : `:${at.line}`}`;
      return `Denied before sending (${d.code})${place}: ${d.message}`;
    };

    // 3. Validate and fit the order to the venue's grid.
    const engineStarted = monotonicMs();
    // Problems with the order belong on the `return` that produced it, not on the class.
    const returned = run.returnedAt;
    const where = returned ? { file: returned.file, line: returned.line } : { file: request.file };
    if (returned?.exact === false) inexactLine = { line: returned.line, entry: run.entryPoint ?? 'generate_order' };
    // A parent order (issue 15): checked here, carried out as children by `deps.parents` when given.
    const invalidAt = (e: { path: string; message: string }): OutcomeError => ({
      code: 'INVALID_ORDER',
      message: `${e.path}: ${e.message}`,
      path: e.path,
      ...where,
    });
    const parent = splitParent(run.output);
    if ('error' in parent) {
      outcome.errors.push(invalidAt(parent.error));
      return finish(1, "The component's parent order is invalid: nothing was sent.");
    }
    if (parent.parent) {
      outcome.parentSpec = parent.parent;
      const algo = parent.parent.algo.replace('_', ' ');
      if (!deps.parents || broker.environment === 'live') {
        // Said as what this run is: a check (Test Order), or an execute that does not carry out parents.
        const checking = (request.source ?? 'test-order') === 'test-order';
        return finish(
          0,
          checking
            ? `A valid ${algo} parent order: it runs over time as children, so it was not started here; Execute on Paper (or \`sptrader algo ${basename(request.file)}\`) carries it out.`
            : `A valid ${algo} parent order: it runs over time as children, which this command does not carry out: nothing was sent. Run it with \`sptrader algo ${basename(request.file)}\` (or the editor's Execute on Paper).`,
        );
      }
      const started = await deps.parents.start(parent.parent, broker.id);
      outcome.parent = started;
      if (started.state === 'FAILED') {
        outcome.errors.push({ code: 'PARENT_FAILED', message: started.reason ?? 'the parent failed' });
        return finish(
          /denied/.test(started.reason ?? '') ? 3 : 4,
          `The ${algo} parent failed: ${started.reason ?? ''}`,
        );
      }
      return finish(0, `Started ${describeParent(started)} on ${broker.displayName}: ${started.state}.`);
    }
    const split = splitRoute(run.output);
    if ('error' in split) {
      outcome.errors.push(invalidAt(split.error));
      return finish(1, `The component's route is invalid: nothing was sent.`);
    }
    const normalized = normalizeComponentOrder(split.order, { now: clock.now() });
    if (!normalized.ok) {
      for (const issue of normalized.issues)
        outcome.errors.push({
          code: 'INVALID_ORDER',
          message: issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`,
          path: issue.path,
          ...where,
          ...(issue.value !== undefined ? { value: issue.value } : {}),
          ...(issue.hint !== undefined ? { hint: issue.hint } : {}),
        });
      return finish(
        1,
        `The component's order is invalid (${normalized.issues.length} problem${normalized.issues.length === 1 ? '' : 's'}): nothing was sent.`,
      );
    }
    notes.push(...normalized.notes);
    let order = normalized.order;
    const undeclared = undeclaredOrderType(order, run.metadata ?? info?.metadata ?? null);
    if (undeclared !== undefined) notes.push(undeclared);
    // The quote in market_data is the run symbol's: an order for another instrument was decided without its price.
    const quoted = otherSymbolQuoted(order.symbol, marketData);
    if (quoted !== undefined)
      notes.push(
        `the component ordered ${order.symbol} but its market data was ${quoted}'s quote; no slippage is measured against it. To give it ${order.symbol}'s quote, run it with that symbol (the CLI's --symbol ${order.symbol}) or name it in __metadata__['symbol']`,
      );
    let venue = broker;
    let routedQuote: { bid: number; ask: number } | undefined;
    if (split.route) {
      // The engine chooses the venue (issue 15): every candidate quoted at once, priced with its fees.
      if (!deps.route) {
        outcome.order = order;
        outcome.errors.push({
          code: 'ROUTE_UNAVAILABLE',
          message: `the component asks to route among ${split.route.venues.join(', ')}, but this run has one venue (${broker.id}); run it with several venues (sptrader test-order --venues …)`,
          path: 'route',
          ...where,
        });
        return finish(1, 'The component routes its order, but this run has one venue: nothing was sent.');
      }
      const decision = await chooseVenue(order, split.route, {
        connect: (id) => deps.engine.connect(id),
        ...deps.route,
      });
      outcome.route = decision;
      if (decision.chosen === null) {
        outcome.order = order;
        outcome.errors.push({ code: 'NOT_ROUTED', message: decision.reason });
        return finish(3, `Not routed: ${decision.reason}`);
      }
      venue = deps.route.venues.get(decision.chosen) as BrokerApi;
      outcome.venue = { id: venue.id, environment: venue.environment };
      const chosen = decision.candidates.find((c) => c.venue === decision.chosen);
      if (chosen?.price != null) routedQuote = { bid: chosen.price, ask: chosen.price };
      order = withRouteMetadata(order, decision);
      notes.push(`routed to ${venue.id}: ${decision.reason}`);
    }
    const instrument = await venue.getInstrument(order.symbol);
    const fitted = fitToInstrument(order, instrument, notes);
    if ('error' in fitted) {
      outcome.order = order;
      outcome.errors.push({
        code: 'INVALID_ORDER',
        message: fitted.error,
        path: fitted.field,
        ...where,
        value: String(fitted.value),
      });
      return finish(1, `The order does not fit ${instrument.symbol}'s trading rules: nothing was sent.`);
    }
    outcome.order = fitted.order;
    const cmd = submitOrderCommand(fitted.order, {
      venue: venue.id,
      source: request.source ?? 'test-order',
      clock,
      componentLimits: componentRiskLimits(info?.metadata ?? null, run.metadata),
      component: request.file,
    });
    outcome.order = cmd.order;
    outcome.timings.engineMs = round3(monotonicMs() - engineStarted);
    if (venue.environment === 'live') {
      const checked = await deps.engine.check(cmd);
      outcome.risk = checked.risk;
      // What Execute Live confirms and sends: the order exactly as the engine would send it.
      outcome.order = checked.order;
      if (checked.denial) {
        outcome.denial = checked.denial;
        outcome.errors.push(denialError(checked.denial));
        return finish(denialExit(checked.denial.code), deniedSummary(checked.denial));
      }
      notes.push(
        'The active profile is live: Test Order validates and checks risk only, and never sends. Use Execute Live… to send with confirmation.',
      );
      return finish(0, 'Validated and risk-checked against a live profile: nothing was sent.');
    }

    // A stop the market has already reached triggers at once, and an IOC or FOK limit or stop the market has not
    // reached is cancelled at once: the outcome says so (notes below), against the quote the venue meets it with.
    const stopType = cmd.order.order_type.type;
    const venueGaveQuote =
      quoted === undefined && request.marketData?.['bid'] === undefined && request.marketData?.['ask'] === undefined;
    const immediate = cmd.order.time_in_force.type === 'IOC' || cmd.order.time_in_force.type === 'FOK';
    const arrivalQuote =
      stopType === 'stop' || stopType === 'stop_limit' || (immediate && stopType === 'limit')
        ? await venueQuoteOf(venue, cmd.order.symbol, routedQuote ?? (venueGaveQuote ? marketData : undefined))
        : undefined;

    // 4. Through the engine (risk, audit, venue), then wait for a marketable order to finish. A Test
    // Order on the embedded paper venue is checked by the engine against the paper account, then
    // fills on a scratch copy of it through an engine with no audit log (see the header).
    const scratchVenue = (request.source ?? 'test-order') === 'test-order' && canScratch(venue) ? venue : undefined;
    let engine = deps.engine;
    let scratch: { engine: ExecutionEngine; venue: BrokerApi } | undefined;
    if (scratchVenue) {
      const checked = await deps.engine.check(cmd);
      outcome.risk = checked.risk;
      if (checked.denial) {
        outcome.denial = checked.denial;
        outcome.errors.push(denialError(checked.denial));
        return finish(denialExit(checked.denial.code), deniedSummary(checked.denial));
      }
      const copy = scratchVenue.scratchCopy();
      scratch = {
        venue: copy,
        engine: new ExecutionEngine({
          clock,
          brokers: { [venue.id]: copy },
          audit: null,
          limits: deps.engine.status().limits,
        }),
      };
      engine = scratch.engine;
      outcome.scratch = true;
      notes.push(
        `Test Order ran on a scratch copy of the ${venue.displayName} account (same cash, positions and resting orders): the account is unchanged. Execute on Paper trades on it.`,
      );
    } else if ((request.source ?? 'test-order') === 'test-order') {
      notes.push(
        `Test Order sent this order to the ${venue.displayName} ${venue.environment} account: a broker profile's Test Order trades on its practice account.`,
      );
    }
    const events: EngineEvent[] = [];
    const subscription = engine.subscribe((e) => {
      if ('clientOrderId' in e && e.clientOrderId === cmd.clientOrderId) events.push(e);
    });
    outcome.events = events;
    let record;
    try {
      const result = await engine.submit(cmd);
      if (!scratch) outcome.risk = result.risk;
      outcome.timings.engineMs = round3((outcome.timings.engineMs ?? 0) + result.engineMs);
      outcome.timings.venueMs = result.venueMs === null ? null : round3(result.venueMs);
      if (result.denial) {
        outcome.risk = result.risk;
        outcome.denial = result.denial;
        outcome.errors.push(denialError(result.denial));
        return finish(denialExit(result.denial.code), deniedSummary(result.denial));
      }
      record = result.order;
      const marketable =
        cmd.order.order_type.type === 'market' ||
        cmd.order.time_in_force.type === 'IOC' ||
        cmd.order.time_in_force.type === 'FOK';
      if (!isFinalState(record.state) && (marketable || record.state === 'UNCONFIRMED')) {
        record = (await engine.waitForFinal(cmd.clientOrderId, request.waitMs ?? 5000)) ?? record;
      }
    } finally {
      subscription.dispose();
      if (scratch) {
        await scratch.engine.close();
        await scratch.venue.disconnect();
      }
    }
    const response: OrderResponse = orderResponseOf(record);
    const venueName = scratch ? `${venue.displayName} (a scratch copy of the account)` : venue.displayName;
    outcome.response = response;
    if (record.state === 'UNCONFIRMED') {
      outcome.errors.push({ code: 'OUTCOME_UNKNOWN', message: record.reason ?? 'the venue did not confirm the order' });
      return finish(
        4,
        `UNCONFIRMED: the venue did not confirm the order; it is being looked up by client order id ${cmd.clientOrderId}, will not be resent, and the next sptrader run settles it. \`sptrader orders\` lists it until then.`,
      );
    }
    if (record.state === 'REJECTED' && /^(NOT_PLACED|NEVER_ARRIVED):/.test(record.reason ?? '')) {
      // Not a venue refusal: nothing reached the venue (see the engine's NOT_PLACED and NEVER_ARRIVED).
      outcome.errors.push({ code: 'NOT_PLACED', message: record.reason ?? 'the order never reached the venue' });
      return finish(4, `Not placed on ${venueName}: ${record.reason ?? ''}`);
    }
    if (record.state === 'REJECTED') {
      outcome.errors.push({ code: 'REJECTED', message: record.reason ?? 'rejected by the venue' });
      return finish(7, `Rejected by ${venueName}: ${record.reason ?? 'no reason given'}`);
    }
    const reached = arrivalQuote && stopAlreadyReachedNote(cmd.order, arrivalQuote);
    if (reached) notes.push(reached);
    const unfilled = immediateUnfilledNote(cmd.order, arrivalQuote, response);
    if (unfilled) notes.push(unfilled);
    if (response.filled_price !== null && (routedQuote !== undefined || quoted === undefined)) {
      // Against the quote the order was decided on: the chosen venue's touch for a routed order.
      const bid = routedQuote?.bid ?? numberOr(marketData['bid']);
      const ask = routedQuote?.ask ?? numberOr(marketData['ask']);
      if (bid !== undefined && ask !== undefined)
        outcome.slippage = computeSlippage(cmd.order.side, { bid, ask }, response.filled_price, instrument);
      if (routedQuote === undefined)
        notes.push(...fixtureFarNote(request.marketData, cmd.order.side, response.filled_price));
    }
    const state = record.state.replace('_', ' ');
    if (scratch) {
      const rested = isFinalState(record.state) ? '' : ' It rested there and was discarded with the copy.';
      return finish(
        0,
        `${state} on a scratch copy of the ${venue.displayName} account: the account is unchanged.${rested} Execute on Paper trades on it.`,
      );
    }
    if ((request.source ?? 'test-order') === 'test-order')
      return finish(0, `${state} on ${venue.displayName} (${venue.environment} account).`);
    return finish(0, `${state} on ${venue.displayName}.`);
  } catch (e) {
    const err = e as {
      code?: unknown;
      message?: unknown;
      file?: unknown;
      line?: unknown;
      column?: unknown;
      endLine?: unknown;
      endColumn?: unknown;
    };
    if (typeof err.code === 'string' && typeof err.message === 'string') {
      outcome.errors.push({
        code: err.code,
        message: err.message,
        file: typeof err.file === 'string' ? err.file : undefined,
        line: typeof err.line === 'number' ? err.line : undefined,
        ...columnsOf({
          column: typeof err.column === 'number' ? err.column : undefined,
          endLine: typeof err.endLine === 'number' ? err.endLine : undefined,
          endColumn: typeof err.endColumn === 'number' ? err.endColumn : undefined,
        }),
      });
      return finish(isBrokerError(e) ? 4 : 1, `${err.code}: nothing was sent.`);
    }
    if (isBrokerError(e)) {
      outcome.errors.push({ code: e.reason, message: e.message });
      return finish(4, `Broker error (${e.reason}): nothing was sent.`);
    }
    throw e;
  }
}

/**
 * What a market-data fixture's quote says that the venue's never would (a crossed quote, a price that is not a
 * positive number, a `spread` that is not the ask − bid the component sees): the component sees it as given
 * (testing how it copes is what a fixture is for), and the note says so, and that the order fills at the venue's
 * own quote. `built` is the market data the component saw (bid and ask the venue's when the fixture has none).
 */
export function fixtureQuoteNotes(
  fixture: Record<string, unknown> | undefined,
  built?: Readonly<Record<string, unknown>>,
): string[] {
  if (fixture === undefined) return [];
  const notes: string[] = [];
  const price = (key: string): number | undefined => {
    if (!(key in fixture)) return undefined;
    const v = fixture[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
    notes.push(
      `the market-data fixture's '${key}' is ${v === null ? 'null' : typeof v === 'number' ? String(v) : `a ${typeof v}`}, not a positive price: the component saw it as given; the order fills at the venue's own quote`,
    );
    return undefined;
  };
  const bid = price('bid');
  const ask = price('ask');
  price('last');
  if (bid !== undefined && ask !== undefined && bid > ask)
    notes.push(
      `the market-data fixture's bid ${bid} is above its ask ${ask} (a crossed quote): the component saw it as given; the order fills at the venue's own quote`,
    );
  if ('spread' in fixture) notes.push(...spreadNote(fixture, built));
  return notes;
}

/** A fixture's `spread` that is not a number ≥ 0, or not the ask − bid beside it (to 1e-9 of the price). */
function spreadNote(fixture: Record<string, unknown>, built: Readonly<Record<string, unknown>> | undefined): string[] {
  const spread = fixture['spread'];
  const seen = "the component saw it as given; the order fills at the venue's own quote";
  if (typeof spread !== 'number' || !Number.isFinite(spread) || spread < 0)
    return [
      `the market-data fixture's 'spread' is ${spread === null ? 'null' : typeof spread === 'number' ? String(spread) : `a ${typeof spread}`}, not a number ≥ 0: ${seen}`,
    ];
  const bid = built?.['bid'] ?? fixture['bid'];
  const ask = built?.['ask'] ?? fixture['ask'];
  if (typeof bid !== 'number' || typeof ask !== 'number' || !(bid > 0) || !(ask > 0)) return [];
  const diff = Number((ask - bid).toPrecision(12));
  if (Math.abs(spread - diff) <= 1e-9 * Math.max(ask, bid)) return [];
  return [
    `the market-data fixture's 'spread' ${spread} is not the ask − bid the component saw (${ask} − ${bid} = ${diff}): ${seen}`,
  ];
}

/**
 * A note for each numpy float of fewer than 64 bits in the order (float16 1.0866 is stored as 1.0869140625 and sent as
 * 1.087, the decimals numpy shows for it): the price sent is not the one the component computed in float64.
 */
export function narrowFloatNotes(narrow: ComponentRunResult['narrowFloats']): string[] {
  // The order's own numbers: its metadata is kept as written, never traded on.
  return (narrow ?? [])
    .filter((n) => !/^order\.metadata\b/.test(n.path))
    .map(
      (n) =>
        `${n.path} was a numpy ${n.type} (${n.exact} as stored); it was sent as ${n.sent}, the decimals a ${n.type} keeps: compute it as a Python float (float64) to send more`,
    );
}

/** How far (a fraction of the price) a fill may be from the fixture's touch before the outcome says why. */
const FIXTURE_FAR = 0.005;

/**
 * A note when the order filled far from the market-data fixture's price the component decided on: the fixture
 * sets what the component sees, the venue fills at its own quote, and the slippage line (measured against the
 * fixture) would otherwise read as the venue's doing.
 */
export function fixtureFarNote(
  fixture: Record<string, unknown> | undefined,
  side: 'buy' | 'sell',
  filled: number,
): string[] {
  const key = side === 'buy' ? 'ask' : 'bid';
  const price = fixture?.[key];
  if (typeof price !== 'number' || !(price > 0) || !Number.isFinite(filled)) return [];
  const away = Math.abs(filled - price) / price;
  if (!(away > FIXTURE_FAR)) return [];
  const pct = (100 * away).toLocaleString('en-US', { maximumFractionDigits: 2 });
  return [
    `the market-data fixture's ${key} ${price} is ${pct} % from the fill at ${filled}: the component decided on the fixture's prices, the venue filled at its own quote, and the slippage above is measured against the fixture`,
  ];
}

/**
 * The venue's bid and ask for `symbol`: those the run already has from it (`known`: the routed venue's, or market
 * data whose bid and ask the venue gave, not a fixture), else asked for; undefined when the venue cannot say.
 */
async function venueQuoteOf(
  venue: BrokerApi,
  symbol: string,
  known: Readonly<Record<string, unknown>> | undefined,
): Promise<{ bid: number; ask: number } | undefined> {
  const bid = known?.['bid'];
  const ask = known?.['ask'];
  if (typeof bid === 'number' && typeof ask === 'number') return { bid, ask };
  try {
    const quote = await venue.getQuote(symbol);
    return { bid: quote.bid, ask: quote.ask };
  } catch {
    // Only a note depends on it: the order goes on as it would without.
    return undefined;
  }
}

/**
 * Market data as Test Order builds it: the fixture's keys over the venue's quote and buying power. A quote that is not
 * the live price (IB's delayed ticks, a stale quote: `Quote.delayed`, its reason) is said in `notes`, when given.
 */
export async function buildMarketData(
  broker: BrokerApi,
  symbol: string,
  request: TestOrderRequest,
  now: number = Date.now(),
  notes?: string[],
): Promise<Record<string, unknown>> {
  const fixture = request.marketData ?? {};
  let quote: Quote | undefined;
  let capital: number | undefined;
  if (fixture['bid'] === undefined || fixture['ask'] === undefined) quote = await broker.getQuote(symbol);
  if (fixture['capital'] === undefined) capital = (await broker.getAccountInfo()).buying_power;
  const built: Record<string, unknown> = {};
  built['symbol'] = symbol;
  built['side'] = request.side ?? sideOf(request.signal?.['side']) ?? 'buy';
  if (quote) {
    built['bid'] = quote.bid;
    built['ask'] = quote.ask;
    built['last'] = quote.last;
    built['spread'] = Number((quote.ask - quote.bid).toPrecision(12));
    built['bid_size'] = quote.bid_size;
    built['ask_size'] = quote.ask_size;
    built['timestamp'] = new Date(quote.timestamp).toISOString();
    built['timestamp_ms'] = quote.timestamp;
    if (quote.delayed === true)
      notes?.push(
        quote.delayed_reason === undefined
          ? `the quote from ${broker.displayName} for ${symbol} is delayed market data, some 15 minutes behind (the account has no live market data subscription for it): the component saw bid ${quote.bid} / ask ${quote.ask}, not the live price`
          : `the quote from ${broker.displayName} for ${symbol} is not the live price (${quote.delayed_reason}): the component saw bid ${quote.bid} / ask ${quote.ask}`,
      );
  }
  // A fixture with its own bid and ask and no time (no quote was asked for): the contract's `timestamp`, which
  // SPtraderB's components read (market_state['timestamp']), is the time of the run.
  if (!quote && fixture['timestamp'] === undefined) {
    built['timestamp'] = new Date(now).toISOString();
    built['timestamp_ms'] = now;
  }
  if (capital !== undefined) built['capital'] = capital;
  built['broker_profile'] = broker.id;
  built['environment'] = broker.environment;
  const merged = { ...built, ...fixture };
  // Where the order goes is not a fixture's to say: one saying `environment: 'practice'` on a live run let a
  // component that reads it size its order as if it were practice.
  merged['broker_profile'] = broker.id;
  merged['environment'] = broker.environment;
  if (typeof merged['bid'] === 'number' && typeof merged['ask'] === 'number' && fixture['spread'] === undefined) {
    merged['spread'] = Number((merged['ask'] - merged['bid']).toPrecision(12));
  }
  return merged;
}

/**
 * A note when the component's `__metadata__['order_types']` (the contract's list of the orders it sends) names only
 * known order types and not the one it returned: a limit component whose price path fell through to a market order
 * sent it without a word. Not a refusal: the list describes the component, it is no limit.
 */
function undeclaredOrderType(order: OrderRequest, metadata: Record<string, unknown> | null): string | undefined {
  const declared = metadata?.['order_types'];
  if (!Array.isArray(declared) || declared.length === 0) return undefined;
  const types = declared.map((t) => (typeof t === 'string' ? orderTypeNamed(t) : undefined));
  if (types.some((t) => t === undefined) || types.includes(order.order_type.type)) return undefined;
  const shown = declared.map((t) => `'${String(t)}'`).join(', ');
  return `the component returned a ${order.order_type.type.replace('_', '-')} order, which its __metadata__['order_types'] (${shown}) does not list: is that the order it means to send?`;
}

/**
 * The component's `__metadata__['risk_limits']`, which can only tighten the settings' limits: as read without
 * running the file (`read`, a literal) and as the run found it (`ran`: the module's own value, the only one when
 * `__metadata__` is computed, e.g. `dict(...)`). When both give a limit, the stricter counts, so neither a computed
 * `__metadata__` nor one changed at import loosens what the file declares.
 */
export function componentRiskLimits(
  read: Record<string, unknown> | null,
  ran: Record<string, unknown> | null | undefined,
): unknown {
  const a = read ? read['risk_limits'] : undefined;
  const b = ran ? ran['risk_limits'] : undefined;
  if (a === undefined || a === null) return b;
  if (b === undefined || b === null || JSON.stringify(a) === JSON.stringify(b)) return a;
  const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  // A malformed one is passed on as it is, to be reported (risk.ts tightenLimits).
  if (!isDict(a)) return a;
  if (!isDict(b)) return b;
  const merged: Record<string, unknown> = { ...a, ...b };
  for (const key of Object.keys(merged)) {
    const x = a[key];
    const y = b[key];
    if (typeof x === 'number' && typeof y === 'number') merged[key] = Math.min(x, y);
    else if (Array.isArray(x) && Array.isArray(y)) merged[key] = x.filter((s) => y.includes(s));
    else if (y === undefined || y === null) merged[key] = x;
  }
  return merged;
}

/**
 * The symbol a run quotes and trades (Test Order, Compare Venues): the one asked for, else the component's
 * `__metadata__`'s, else the market-data fixture's, else EUR_USD; with why it is not a symbol, when it is not.
 */
export function runSymbol(
  request: {
    readonly symbol?: string | undefined;
    readonly file: string;
    readonly marketData?: Record<string, unknown>;
  },
  metadata: Record<string, unknown> | null,
): { symbol: string; problem?: string } {
  const symbol =
    request.symbol ??
    symbolFromMetadata(metadata) ??
    stringOrUndefined(request.marketData?.['symbol']) ??
    DEFAULT_SYMBOL;
  const problem = invalidRunSymbol(symbol, request, metadata);
  return problem === undefined ? { symbol } : { symbol, problem };
}

/**
 * Why the symbol a run would quote and trade is not one, naming where it came from (the run's own, the
 * component's `__metadata__`, the market-data fixture), or undefined when it is a symbol. Checked before any
 * venue is asked for a quote of it: a control character or a look-alike letter must reach neither the venue nor
 * the audit log, nor be printed as is.
 */
export function invalidRunSymbol(
  symbol: string,
  request: { readonly symbol?: string | undefined; readonly file: string },
  metadata: Record<string, unknown> | null,
): string | undefined {
  const problem = symbolProblem(symbol);
  if (problem === undefined) return undefined;
  const from =
    request.symbol !== undefined
      ? 'the symbol asked for'
      : symbolFromMetadata(metadata) !== undefined
        ? `${request.file}: __metadata__'s symbol`
        : "the market data's 'symbol'";
  return `${from}: ${problem}`;
}

/** The symbol a component's `__metadata__` names (`symbol`, or the `symbol` parameter's default). */
export function symbolFromMetadata(metadata: Record<string, unknown> | null): string | undefined {
  if (!metadata) return undefined;
  const direct = stringOrUndefined(metadata['symbol']);
  if (direct) return direct;
  const parameters = metadata['parameters'];
  if (typeof parameters === 'object' && parameters !== null) {
    const p = (parameters as Record<string, unknown>)['symbol'];
    if (typeof p === 'string') return p;
    if (typeof p === 'object' && p !== null) return stringOrUndefined((p as Record<string, unknown>)['default']);
  }
  return undefined;
}

/** The symbol market_data quoted, when it is not the order's instrument (EUR_USD quoted, AAPL ordered); else undefined. */
function otherSymbolQuoted(ordered: string, marketData: Record<string, unknown>): string | undefined {
  const quoted = marketData['symbol'];
  if (typeof quoted !== 'string' || quoted.trim() === '') return undefined;
  return instrumentKey(quoted) === instrumentKey(ordered) ? undefined : quoted;
}

/** A component error's column fields, only those it has (so errors without one keep their shape). */
function columnsOf(e: {
  column?: number;
  endLine?: number;
  endColumn?: number;
}): Pick<OutcomeError, 'column' | 'endLine' | 'endColumn'> {
  if (e.column === undefined) return {};
  return e.endLine !== undefined && e.endColumn !== undefined
    ? { column: e.column, endLine: e.endLine, endColumn: e.endColumn }
    : { column: e.column };
}

const stringOrUndefined = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v : undefined;
/**
 * market_data's side from the signal's: 'BUY' or ' Sell' as the contract's 'buy' or 'sell' (the shipped MarketOrder
 * compares `side == 'buy'` and priced a 'BUY' as a sell); anything else as given. The signal itself is not changed.
 */
const sideOf = (v: unknown): string | undefined => {
  const given = stringOrUndefined(v);
  const lowered = given?.trim().toLowerCase();
  return lowered === 'buy' || lowered === 'sell' ? lowered : given;
};
const numberOr = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The outcome of a Test Order that failed before the component could run (no interpreter, say). */
export function failedBeforeRun(
  file: string,
  venue: { id: string; environment: string },
  error: OutcomeError,
  totalMs: number,
): TestOrderOutcome {
  return {
    ok: false,
    exitCode: 1,
    summary: `${error.code}: nothing was sent.`,
    component: { file, stdout: '', stderr: '', output: null },
    marketData: null,
    order: null,
    response: null,
    slippage: null,
    timings: { componentMs: null, pythonMs: null, engineMs: null, venueMs: null, totalMs: round3(totalMs) },
    errors: [error],
    notes: [],
    venue,
    scratch: false,
    risk: [],
    denial: null,
    events: [],
  };
}

/** A denial for damaged state or a failed audit log is the state's problem (6); any other, a check's (3). */
function denialExit(code: string): ExitCode {
  return code === 'STATE_DAMAGED' || code === 'AUDIT_LOG_FAILED' ? 6 : 3;
}
