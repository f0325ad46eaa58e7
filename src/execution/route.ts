/**
 * Smart routing (issue 15): a component may ask the engine to choose the venue, by returning its
 * order with a route, in any order dialect:
 *
 *     {'route': 'best_price', 'venues': ['paper', 'oanda-practice'], 'symbol': 'EUR_USD', 'side': 'buy', ...}
 *
 * The candidates are quoted at once; each is priced at the touch the order would take (the ask for a
 * buy, the bid for a sell) plus its presumptive taker fee per unit, after fitting the quantity to its
 * lot. A candidate is skipped, with the reason, when it is not a venue of this session, is live (routing
 * chooses among paper, practice and testnet accounts only), cannot take the order type and time in
 * force, does not list the symbol, cannot meet the quantity with its lot, or gives no quote. A venue
 * whose displayed size covers the quantity ranks ahead of one that does not (ccxt's `requireFullFill`,
 * made soft); among equals the lower net price for a buy (higher for a sell) wins, then the first listed.
 * The decision is written into the order's metadata (`route`, `route_reason`) so the audit log's
 * SubmitOrder command holds why the venue was chosen, and is returned in full to be shown.
 */
import { z } from 'zod';
import type { BrokerApi } from '../brokers/broker';
import { unsupportedReason } from '../brokers/broker';
import { isBrokerError } from '../brokers/errors';
import type { InstrumentRules, OrderRequest } from '../orders/model';
import { fitToInstrument } from './fit';

export const ROUTE_POLICIES = ['best_price'] as const;
export type RoutePolicy = (typeof ROUTE_POLICIES)[number];

/** Presumptive fees of a venue, as its public schedule states them (an estimate: the fill reports the real one). */
export interface RouteFees {
  /** Basis points of notional for orders that take liquidity. */
  readonly takerBps?: number;
  /** Quote currency per unit traded. */
  readonly perUnit?: number;
  /** Smallest commission per fill when `perUnit` applies. */
  readonly minimum?: number;
  /** Largest commission per fill as a fraction of notional. */
  readonly maxFractionOfNotional?: number;
}

export interface RouteSpec {
  policy: RoutePolicy;
  venues: string[];
}

export interface RouteCandidate {
  venue: string;
  /** The touch the order would take at this venue. */
  price: number | null;
  /** Displayed size at that touch, when the venue shows it. */
  size: number | null;
  /** The quantity after this venue's lot. */
  quantity: number | null;
  /** Presumptive fee for the whole quantity, and per unit. */
  fee: number | null;
  /** Price plus fee per unit for a buy, minus for a sell. */
  net: number | null;
  /** The displayed size covers the quantity. */
  coversSize: boolean | null;
  /** Why the venue was not considered. */
  skipped: string | null;
}

export interface RouteDecision {
  policy: RoutePolicy;
  /** The venue chosen, or null when every candidate was skipped. */
  chosen: string | null;
  /** One sentence: why this venue, or why none. */
  reason: string;
  candidates: RouteCandidate[];
}

const RouteSchema = z.strictObject({
  route: z.enum(ROUTE_POLICIES, {
    error: (i) => `route ${JSON.stringify(i.input)} is not a routing policy; use one of ${ROUTE_POLICIES.join(', ')}`,
  }),
  venues: z
    .array(z.string().min(1, 'a venue id must not be empty'), {
      error: () => "venues must be a list of venue ids, e.g. ['paper', 'oanda-practice']",
    })
    .min(1, 'venues must name at least one venue')
    .refine((v) => new Set(v).size === v.length, { message: 'venues names a venue twice' }),
});

export type SplitRoute =
  | { route: undefined; order: unknown }
  | { route: RouteSpec; order: unknown }
  | { error: { path: string; message: string } };

/**
 * Takes `route` and `venues` off a component's output (top level, or inside an `order_request`
 * envelope's order), checked; what remains is the order, for the normaliser.
 */
export function splitRoute(output: unknown): SplitRoute {
  if (typeof output !== 'object' || output === null || Array.isArray(output))
    return { route: undefined, order: output };
  const raw = output as Record<string, unknown>;
  const envelope =
    raw['type'] === 'order_request' &&
    typeof raw['order'] === 'object' &&
    raw['order'] !== null &&
    !Array.isArray(raw['order']);
  const body = envelope ? (raw['order'] as Record<string, unknown>) : raw;
  const prefix = envelope ? 'order.' : '';
  if (!('route' in body) && !('venues' in body)) return { route: undefined, order: output };
  const parsed = RouteSchema.safeParse({ route: body['route'], venues: body['venues'] });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? 'route');
    return { error: { path: prefix + field, message: issue?.message ?? 'invalid route' } };
  }
  const rest = { ...body };
  delete rest['route'];
  delete rest['venues'];
  return {
    route: { policy: parsed.data.route, venues: parsed.data.venues },
    order: envelope ? { ...raw, order: rest } : rest,
  };
}

export interface ChooseOptions {
  /** The venues of this session by id (connected or connectable). */
  venues: ReadonlyMap<string, BrokerApi>;
  /** Connects a venue that is not connected (default: the venue's own connect); the engine's reconciles it too. */
  connect?: (venueId: string) => Promise<void>;
  /** Each venue's presumptive fees for an instrument (none: no fee). */
  fees: (venueId: string, instrument: InstrumentRules) => RouteFees | undefined;
}

/** Quotes every candidate at once and chooses by the policy (see the file comment). */
export async function chooseVenue(
  order: OrderRequest,
  spec: RouteSpec,
  options: ChooseOptions,
): Promise<RouteDecision> {
  const candidates = await Promise.all(spec.venues.map((id) => price(order, id, options)));
  const usable = candidates.filter((c) => c.skipped === null && c.net !== null);
  if (usable.length === 0) {
    return {
      policy: spec.policy,
      chosen: null,
      reason: `no venue could take the order: ${candidates.map((c) => `${c.venue}: ${c.skipped}`).join('; ')}`,
      candidates,
    };
  }
  const better = (a: RouteCandidate, b: RouteCandidate): RouteCandidate => {
    if (a.coversSize !== b.coversSize) return a.coversSize === false ? b : a;
    const an = a.net as number;
    const bn = b.net as number;
    if (an === bn) return a;
    return order.side === 'buy' ? (bn < an ? b : a) : bn > an ? b : a;
  };
  const best = usable.reduce(better);
  const others = usable.filter((c) => c !== best);
  const side = order.side === 'buy' ? 'ask' : 'bid';
  const fmt = (c: RouteCandidate): string =>
    `${c.venue} ${side} ${c.price}${c.fee ? ` + fee ${round(c.fee, 8)}` : ''} = ${round(c.net as number, 10)}/unit`;
  const reason =
    `best net price: ${fmt(best)}` +
    (others.length ? `; over ${others.map(fmt).join(', ')}` : '') +
    (best.coversSize === false ? ' (no venue showed enough size for the whole quantity)' : '') +
    (candidates.some((c) => c.skipped)
      ? `; skipped ${candidates
          .filter((c) => c.skipped)
          .map((c) => `${c.venue} (${c.skipped})`)
          .join(', ')}`
      : '');
  return { policy: spec.policy, chosen: best.venue, reason, candidates };
}

async function price(order: OrderRequest, id: string, options: ChooseOptions): Promise<RouteCandidate> {
  const c: RouteCandidate = {
    venue: id,
    price: null,
    size: null,
    quantity: null,
    fee: null,
    net: null,
    coversSize: null,
    skipped: null,
  };
  const venue = options.venues.get(id);
  if (!venue) {
    c.skipped = `not a venue of this session (have ${[...options.venues.keys()].join(', ') || 'none'})`;
    return c;
  }
  if (venue.environment === 'live') {
    c.skipped = 'a live account: routing chooses among paper, practice and testnet accounts only';
    return c;
  }
  const unsupported = unsupportedReason(
    venue.capabilities,
    order.order_type.type,
    order.time_in_force.type,
    venue.displayName,
  );
  if (unsupported) {
    c.skipped = unsupported;
    return c;
  }
  try {
    if (!venue.isConnected()) await (options.connect ? options.connect(id) : venue.connect());
    const [instrument, quote] = await Promise.all([venue.getInstrument(order.symbol), venue.getQuote(order.symbol)]);
    const fitted = fitToInstrument(order, instrument, []);
    if ('error' in fitted) {
      c.skipped = fitted.error;
      return c;
    }
    const qty = fitted.order.quantity;
    const touch = order.side === 'buy' ? quote.ask : quote.bid;
    const size = order.side === 'buy' ? quote.ask_size : quote.bid_size;
    if (!(touch > 0)) {
      c.skipped = `no ${order.side === 'buy' ? 'ask' : 'bid'} to take`;
      return c;
    }
    const fee = presumptiveFee(options.fees(id, instrument), touch, qty);
    c.price = touch;
    c.size = typeof size === 'number' && Number.isFinite(size) && size > 0 ? size : null;
    c.quantity = qty;
    c.fee = fee;
    c.net = order.side === 'buy' ? touch + fee / qty : touch - fee / qty;
    c.coversSize = c.size === null ? null : c.size >= qty;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    c.skipped = isBrokerError(e) ? `${e.reason}: ${e.message}` : e.message;
  }
  return c;
}

/** The fee a schedule presumes for one taker fill of `quantity` at `price`. */
export function presumptiveFee(fees: RouteFees | undefined, price: number, quantity: number): number {
  if (!fees) return 0;
  const notional = price * quantity;
  let fee = ((fees.takerBps ?? 0) * notional) / 10_000;
  if (fees.perUnit !== undefined) {
    let perUnit = fees.perUnit * quantity;
    if (fees.minimum !== undefined) perUnit = Math.max(perUnit, fees.minimum);
    if (fees.maxFractionOfNotional !== undefined) perUnit = Math.min(perUnit, notional * fees.maxFractionOfNotional);
    fee += perUnit;
  }
  return round(fee, 10);
}

/** The order as routed: the decision in its metadata, so the audit log's SubmitOrder holds why. */
export function withRouteMetadata(order: OrderRequest, decision: RouteDecision): OrderRequest {
  return {
    ...order,
    metadata: {
      ...order.metadata,
      route: `${decision.policy} → ${decision.chosen ?? 'none'}`,
      route_reason: decision.reason.slice(0, 1000),
    },
  };
}

const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;
