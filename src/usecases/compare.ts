/**
 * Compare venues (issue 15): run a component once and send its order to several venues at the same
 * moment, each through the one engine (validation, risk, the audit log), then set the outcomes side by
 * side: accepted or refused (with each venue's reason, local capability refusals included), fill price
 * and quantity, slippage against each venue's own quote at decision time, latency (submit → ack →
 * fill), fees, and the difference between venues.
 *
 * Never live: a venue whose environment is `live` is refused before anything runs. Each venue's order
 * is the component's order fitted to that venue's lot and tick (a venue that does not list the symbol,
 * or whose lot the quantity cannot meet, is refused with its reason); each has its own client order id.
 * The component runs once, with market data from the first venue (the reference); the quotes every
 * venue showed at that moment are read in the same breath, before the component runs.
 *
 * A component that routes (`{'route': 'best_price', 'venues': [...], ...order}`, route.ts) is compared
 * over the candidates its route lists: the router's choice is made over the compared venues as Test Order
 * would make it (each candidate's touch, fees and capability), every compared candidate is sent the order
 * all the same, and each column says whether the router would pick it, pass it over or skip it (with why);
 * a compared venue the route does not list is not sent to. So the comparison shows whether the router's
 * pick was in fact the best fill.
 *
 * A component that returns a parent order (algos/dialect.ts) has the parent carried out on each venue at
 * once (ParentOrders over the same engine and audit log), and its children's fills are compared: filled
 * quantity, average price, slippage of that average against each venue's quote at decision time, fees,
 * the first acknowledgement and the last fill. A parent still working when the comparison ends (a
 * bracket's resting exits, a trailing stop that has not triggered) is cancelled, and its column says so.
 *
 * One pass over one set of columns (connect, quote, run, route, send, time, rank); the parent's variant lives in
 * compareParents.ts, the request and column types both fill in (and the column helpers) in compareTypes.ts.
 */
import { basename } from 'node:path';
import { monotonicMs } from '../common/clock';
import { redactSecretsDeep } from '../common/secrets';
import type { BrokerApi } from '../brokers/broker';
import { splitParent } from '../execution/algos/dialect';
import { compareParents } from './compareParents';
import { trackLatency } from './compareLatency';
import { chooseVenue, splitRoute } from '../execution/route';
import { isBrokerError } from '../brokers/errors';
import type { InstrumentRules, Quote } from '../orders/model';
import { normalizeComponentOrder } from '../orders/normalize';
import { submitOrderCommand } from '../execution/events';
import { isFinalState, orderResponseOf } from '../execution/orderState';
import { describeOrder } from './describeOrder';
import { stopAlreadyReachedNote } from './priceText';
import { riskLimitsLine } from './componentLimitsAt';
import { computeSlippage } from '../execution/slippage';
import {
  buildMarketData,
  componentRiskLimits,
  fitToInstrument,
  fixtureQuoteNotes,
  narrowFloatNotes,
  runSymbol,
} from './testOrder';

import { columnQuote, emptyColumn, verdictOf } from './compareTypes';
import type { CompareDependencies, CompareOutcome, CompareRequest, VenueColumn } from './compareTypes';

export type {
  ColumnParent,
  CompareDependencies,
  CompareOutcome,
  CompareRequest,
  RouteRole,
  VenueColumn,
  VenueVerdict,
} from './compareTypes';
export { emptyColumn } from './compareTypes';

export async function compareVenues(request: CompareRequest, deps: CompareDependencies): Promise<CompareOutcome> {
  const started = monotonicMs();
  const { runner, venues, engine, clock } = deps;
  if (venues.length === 0) throw new Error('compare needs at least one venue');
  const ids = new Set<string>();
  for (const v of venues) {
    if (ids.has(v.id)) throw new Error(`venue ${v.id} is listed twice`);
    ids.add(v.id);
  }
  const outcome: CompareOutcome = {
    ok: false,
    summary: '',
    component: { file: request.file, stdout: '', stderr: '', output: null },
    marketData: null,
    order: null,
    route: null,
    parent: null,
    errors: [],
    notes: [],
    venues: venues.map((v) => emptyColumn(v)),
    best: null,
    timings: { pythonMs: null, totalMs: 0 },
  };
  const finish = (ok: boolean, summary: string): CompareOutcome => {
    outcome.ok = ok;
    outcome.summary = summary;
    outcome.timings.totalMs = round3(monotonicMs() - started);
    return outcome;
  };
  const column = (id: string): VenueColumn => outcome.venues.find((c) => c.id === id) as VenueColumn;
  const notSent = (id: string, reason: string, code: string | null = null): void => {
    const c = column(id);
    c.verdict = 'NOT_SENT';
    c.reason = reason;
    c.code = code;
  };

  // Never live: refuse before anything runs or connects.
  const live = venues.filter((v) => v.environment === 'live');
  if (live.length > 0) {
    for (const v of live)
      notSent(
        v.id,
        `${v.displayName} is a live account: compare sends only to paper, practice and testnet accounts`,
        'LIVE_REFUSED',
      );
    outcome.errors.push({
      code: 'LIVE_REFUSED',
      message: `compare never sends to a live account (${live.map((v) => v.id).join(', ')}); choose paper, practice or testnet profiles`,
    });
    return finish(false, 'Refused: a live account is among the venues; nothing was run or sent.');
  }

  // Connect every venue at once; one that cannot be reached becomes a NOT_SENT column.
  const reachable: BrokerApi[] = [];
  await Promise.all(
    venues.map(async (v) => {
      try {
        await engine.connect(v.id);
        reachable.push(v);
      } catch (e) {
        if (!isBrokerError(e) && !(e instanceof Error)) throw e;
        notSent(v.id, `could not connect: ${e.message}`, isBrokerError(e) ? e.reason : 'CONNECT_FAILED');
      }
    }),
  );
  const reference = venues.find((v) => reachable.includes(v));
  if (!reference) return finish(false, 'No venue could be reached: nothing was run or sent.');
  if (reference !== venues[0])
    outcome.notes.push(`market data came from ${reference.id} (${venues[0]?.id} could not be reached)`);

  // 1. Market data from the reference venue, and every venue's touch at the same moment.
  const pythonStarted = monotonicMs();
  const info = await runner.inspect(request.file).catch(() => undefined);
  const { symbol, problem } = runSymbol(request, info?.metadata ?? null);
  if (problem !== undefined) {
    outcome.errors.push({ code: 'INVALID_SYMBOL', message: problem });
    return finish(false, `${problem}: nothing was run or sent.`);
  }
  const quotes = new Map<string, Promise<Quote | Error>>();
  const readQuotes = (sym: string): void => {
    for (const v of reachable)
      quotes.set(
        `${v.id}\u0000${sym}`,
        v.getQuote(sym).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
      );
  };
  readQuotes(symbol);
  let marketData: Record<string, unknown>;
  try {
    marketData = await buildMarketData(reference, symbol, request, undefined, outcome.notes);
  } catch (e) {
    if (!isBrokerError(e)) throw e;
    outcome.errors.push({ code: e.reason, message: `market data from ${reference.id}: ${e.message}` });
    return finish(false, `Could not read market data from ${reference.displayName}: nothing was run or sent.`);
  }
  outcome.marketData = marketData;
  // A crossed or contradictory fixture is said here as in Test Order.
  outcome.notes.push(...fixtureQuoteNotes(request.marketData, marketData));

  // 2. The component, once.
  const run = await runner.run({
    file: request.file,
    className: request.className,
    parameters: request.parameters,
    marketData,
    signal: request.signal ?? null,
  });
  outcome.timings.pythonMs = round3(monotonicMs() - pythonStarted);
  outcome.component = {
    file: request.file,
    className: run.className,
    stdout: run.stdout,
    stderr: run.stderr,
    // What it returned is shown as the order is: a secret-looking key's value redacted (an api_key in its metadata).
    output: typeof run.output === 'object' && run.output !== null ? redactSecretsDeep(run.output) : run.output,
  };
  if (!run.ok || run.error) {
    const e = run.error ?? { code: 'COMPONENT_ERROR', message: 'the component failed without a message' };
    outcome.errors.push({ code: e.code, message: e.message, file: e.file, line: e.line });
    return finish(false, `Component error (${e.code}): nothing was sent.`);
  }
  if (run.output === null || run.output === undefined)
    return finish(true, 'The component produced no order (it returned None): nothing was sent.');
  outcome.notes.push(...narrowFloatNotes(run.narrowFloats));
  const where = run.returnedAt ? { file: run.returnedAt.file, line: run.returnedAt.line } : { file: request.file };
  const parent = splitParent(run.output);
  const routed = 'error' in parent || parent.parent ? undefined : splitRoute(run.output);
  const dialectError = 'error' in parent ? parent.error : routed && 'error' in routed ? routed.error : undefined;
  if (dialectError) {
    outcome.errors.push({
      code: 'INVALID_ORDER',
      message: `${dialectError.path}: ${dialectError.message}`,
      path: dialectError.path,
      ...where,
    });
    return finish(
      false,
      `The component's ${'error' in parent ? 'parent order' : 'route'} is invalid: nothing was sent.`,
    );
  }
  if ('parent' in parent && parent.parent) {
    if (!deps.audit)
      throw new Error('compare of a parent order needs the session audit log (CompareDependencies.audit)');
    outcome.parent = parent.parent;
    if (parent.parent.symbol !== symbol) readQuotes(parent.parent.symbol);
    const spec = parent.parent;
    const instruments = await compareParents(spec, request, { ...deps, audit: deps.audit }, reachable, quotes, outcome);
    outcome.best = rankVenues(outcome.venues, spec.side, instruments);
    const summary =
      `${spec.algo.toUpperCase()} ${spec.side.toUpperCase()} ${fmt(spec.quantity)} ${spec.symbol} → ` +
      outcome.venues
        .map((c) => `${c.id} ${c.verdict}${c.fill ? ` ${fmt(c.fill.quantity)} @ ${c.fill.averagePrice}` : ''}`)
        .join(', ') +
      (outcome.best ? `; best: ${outcome.best}` : '');
    return finish(
      outcome.venues.some((c) => c.fill !== null),
      summary,
    );
  }
  const route = routed && 'route' in routed ? routed.route : undefined;
  const normalized = normalizeComponentOrder(route ? (routed as { order: unknown }).order : run.output, {
    now: clock.now(),
  });
  if (!normalized.ok) {
    for (const issue of normalized.issues)
      outcome.errors.push({
        code: 'INVALID_ORDER',
        message: issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`,
        path: issue.path,
        ...where,
      });
    return finish(
      false,
      `The component's order is invalid (${normalized.issues.length} problem${normalized.issues.length === 1 ? '' : 's'}): nothing was sent.`,
    );
  }
  outcome.notes.push(...normalized.notes);
  const order = normalized.order;
  outcome.order = order;
  if (order.symbol !== symbol) readQuotes(order.symbol);
  // A routed order: the router's choice over the compared venues; the candidates it lists are compared.
  let sendTo = reachable;
  if (route) {
    const decision = await chooseVenue(order, route, {
      venues: new Map(reachable.map((v) => [v.id, v])),
      connect: (id) => engine.connect(id),
      fees: deps.fees ?? (() => undefined),
    });
    outcome.route = decision;
    const listed = new Set(route.venues);
    for (const c of outcome.venues) {
      const candidate = decision.candidates.find((x) => x.venue === c.id);
      c.route = !listed.has(c.id)
        ? {
            role: 'not a candidate',
            reason: `the component routes among ${route.venues.join(', ')}`,
          }
        : candidate?.skipped
          ? { role: 'skipped', reason: candidate.skipped }
          : c.id === decision.chosen
            ? { role: 'chosen', reason: decision.reason }
            : { role: 'passed over', reason: candidate?.net == null ? null : `net ${candidate.net}/unit` };
      if (!listed.has(c.id) && c.verdict === 'NOT_SENT' && c.reason === null)
        notSent(c.id, `not a candidate of the component's route (${route.venues.join(', ')})`, 'NOT_A_CANDIDATE');
    }
    const missing = route.venues.filter((id) => !venues.some((v) => v.id === id));
    if (missing.length > 0)
      outcome.notes.push(
        `the route also lists ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not compared`,
      );
    sendTo = reachable.filter((v) => listed.has(v.id));
  }

  // 3. Each venue: its own touch, its grid, then one submit each, all at once.
  const instruments = new Map<string, InstrumentRules>();
  const byClientId = new Map<string, string>();
  const latency = trackLatency(engine, (id) => byClientId.get(id));
  try {
    await Promise.all(
      sendTo.map(async (v) => {
        const c = column(v.id);
        const quote = await quotes.get(`${v.id}\u0000${order.symbol}`);
        if (quote instanceof Error) c.notes.push(`no quote at decision time: ${quote.message}`);
        else if (quote) c.quote = columnQuote(v.displayName, quote, c.notes);
        let instrument: InstrumentRules;
        try {
          instrument = await v.getInstrument(order.symbol);
        } catch (e) {
          if (!(e instanceof Error)) throw e;
          c.notes = [];
          return notSent(
            v.id,
            `${v.displayName} does not trade ${order.symbol}: ${e.message}`,
            isBrokerError(e) ? e.reason : 'UNKNOWN_SYMBOL',
          );
        }
        const fitted = fitToInstrument(order, instrument, c.notes);
        if ('error' in fitted) return notSent(v.id, fitted.error, 'INVALID_ORDER');
        const cmd = submitOrderCommand(fitted.order, {
          venue: v.id,
          source: 'compare',
          clock,
          componentLimits: componentRiskLimits(info?.metadata ?? null, run.metadata),
          component: request.file,
        });
        c.order = cmd.order;
        byClientId.set(cmd.clientOrderId, v.id);
        const result = await engine.submit(cmd);
        c.latency.submitMs = result.venueMs === null ? null : round3(result.venueMs);
        if (result.denial) {
          c.verdict = 'DENIED';
          c.code = result.denial.code;
          // A component's malformed risk_limits are said at their line, as Test Order says them.
          const line = c.code === 'INVALID_RISK_LIMITS' ? riskLimitsLine(info, result.denial.message) : undefined;
          c.reason =
            line === undefined ? result.denial.message : `${basename(request.file)}:${line}: ${result.denial.message}`;
          return;
        }
        let record = result.order;
        const marketable =
          cmd.order.order_type.type === 'market' ||
          cmd.order.time_in_force.type === 'IOC' ||
          cmd.order.time_in_force.type === 'FOK';
        if (!isFinalState(record.state) && (marketable || record.state === 'UNCONFIRMED'))
          record = (await engine.waitForFinal(cmd.clientOrderId, request.waitMs ?? 5000)) ?? record;
        const response = orderResponseOf(record);
        c.response = response;
        c.fees = response.commission;
        c.verdict = verdictOf(record.state);
        if (c.verdict === 'REJECTED' || c.verdict === 'UNCONFIRMED') c.reason = record.reason ?? null;
        if (response.filled_quantity !== null && response.filled_quantity > 0 && response.filled_price !== null) {
          c.fill = {
            quantity: response.filled_quantity,
            averagePrice: response.filled_price,
            fills: response.fills.length,
          };
          if (c.quote) c.slippage = computeSlippage(cmd.order.side, c.quote, response.filled_price, instrument);
        }
        const reached = c.quote && stopAlreadyReachedNote(cmd.order, c.quote);
        if (reached) c.notes.push(reached);
        instruments.set(v.id, instrument);
      }),
    );
  } finally {
    latency.dispose();
  }
  for (const c of outcome.venues) {
    const t = latency.marks.get(c.id);
    if (!t || t.sent === undefined) continue;
    c.latency.ackMs = t.acked === undefined ? null : round3(t.acked - t.sent);
    c.latency.fillMs = t.filled === undefined ? null : round3(t.filled - t.sent);
  }
  outcome.best = rankVenues(outcome.venues, order.side, instruments);
  const filled = outcome.venues.filter((c) => c.fill !== null).length;
  const decision = outcome.route;
  if (decision?.chosen && outcome.best && decision.chosen !== outcome.best)
    outcome.notes.push(
      `the router would pick ${decision.chosen} by its quotes and fees; the best fill net of fees was at ${outcome.best}`,
    );
  // The order as the venues took it (fitted to their grids) when they all took it alike, else the component's.
  const sent = new Set(outcome.venues.flatMap((c) => (c.order ? [describeOrder(c.order)] : [])));
  const summary =
    `${sent.size === 1 ? ([...sent][0] as string) : describeOrder(order)} → ` +
    outcome.venues
      .map((c) => `${c.id} ${c.verdict}${c.fill ? ` ${fmt(c.fill.quantity)} @ ${c.fill.averagePrice}` : ''}`)
      .join(', ') +
    (outcome.best ? `; best: ${outcome.best}` : '') +
    (decision ? `; the router would pick ${decision.chosen ?? 'none'}` : '');
  return finish(filled > 0 || outcome.venues.some((c) => c.verdict === 'ACCEPTED'), summary);
}

/**
 * The best venue is the one whose fill costs the trader least per unit, fees included (the lowest
 * price paid for a buy, the highest received for a sell); every filled venue is set against it.
 */
export function rankVenues(
  columns: VenueColumn[],
  side: 'buy' | 'sell',
  rules: ReadonlyMap<string, InstrumentRules>,
): string | null {
  const net = (c: VenueColumn): number => {
    const fill = c.fill as NonNullable<VenueColumn['fill']>;
    const feePerUnit = (c.fees ?? 0) / fill.quantity;
    return side === 'buy' ? fill.averagePrice + feePerUnit : fill.averagePrice - feePerUnit;
  };
  const filled = columns.filter((c) => c.fill !== null);
  if (filled.length === 0) return null;
  const best = filled.reduce((a, b) => (side === 'buy' ? (net(b) < net(a) ? b : a) : net(b) > net(a) ? b : a));
  const bestFill = best.fill as NonNullable<VenueColumn['fill']>;
  for (const c of filled) {
    const fill = c.fill as NonNullable<VenueColumn['fill']>;
    const raw = side === 'buy' ? fill.averagePrice - bestFill.averagePrice : bestFill.averagePrice - fill.averagePrice;
    const rule = rules.get(c.id);
    const unit = rule?.kind === 'fx' ? 'pip' : 'tick';
    const size = rule ? (unit === 'pip' ? rule.pipSize : rule.tickSize) : 0;
    c.versusBest = {
      price: round(raw, 10),
      units: size > 0 ? round(raw / size, 4) : 0,
      unit,
      bps: round((raw / bestFill.averagePrice) * 10_000, 4),
      fees: round((c.fees ?? 0) / fill.quantity - (best.fees ?? 0) / bestFill.quantity, 10) * fill.quantity,
    };
  }
  return best.id;
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 8 });
const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;
