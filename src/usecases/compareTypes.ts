/**
 * What a comparison of venues takes and answers: its request and dependencies, and the columns it fills in, one per
 * venue (compare.ts runs it; compareParents.ts is its variant for a parent order; views/compareView.ts shows it).
 */
import type { Clock } from '../common/clock';
import type { BrokerApi } from '../brokers/broker';
import type { AuditLog } from '../execution/audit/auditLog';
import type { ParentSpec } from '../execution/algos/dialect';
import type { ParentOrder } from '../execution/algos/parents';
import type { RouteDecision, RouteFees } from '../execution/route';
import type { InstrumentRules, OrderRequest, OrderResponse, Quote } from '../orders/model';
import type { ExecutionEngine } from '../execution/engine';
import type { Slippage } from '../execution/slippage';
import type { ComponentRunner, OutcomeError, TestOrderRequest } from './testOrder';

/** Test Order's request (recorded as a comparison), with how long each venue's parent may work. */
export interface CompareRequest extends Omit<TestOrderRequest, 'source'> {
  /** How long each venue's parent may work before the comparison cancels it (default: a TWAP's duration + waitMs, else waitMs). */
  parentWaitMs?: number;
}

export interface CompareDependencies {
  runner: ComponentRunner;
  /** The venues, in the order the columns are shown; the first is the reference for market data. */
  venues: readonly BrokerApi[];
  engine: ExecutionEngine;
  clock: Clock;
  /** Each venue's presumptive fees, for the router's choice when the component routes (none: no fee). */
  fees?: (venueId: string, instrument: InstrumentRules) => RouteFees | undefined;
  /** The session's audit log: a parent's own records go there (a component that returns a parent needs it). */
  audit?: Pick<AuditLog, 'append'>;
}

/** How one venue's order ended, as a column of the comparison. */
export type VenueVerdict =
  /** Filled in full or in part, or accepted and resting. */
  | 'FILLED'
  | 'PARTIALLY_FILLED'
  | 'ACCEPTED'
  | 'CANCELLED'
  | 'EXPIRED'
  /** The venue refused it. */
  | 'REJECTED'
  /** Refused before sending: a pre-trade check or the venue's capabilities (the engine's denial). */
  | 'DENIED'
  /** Not sent: the venue could not be reached, does not list the symbol, or the order does not fit its rules. */
  | 'NOT_SENT'
  /** Sent; the venue did not confirm it in time (it is being looked up by client order id, never resent). */
  | 'UNCONFIRMED';

export interface VenueColumn {
  id: string;
  displayName: string;
  environment: string;
  verdict: VenueVerdict;
  /** Why it was refused, denied, rejected or not sent; the denial code first when there is one. */
  reason: string | null;
  code: string | null;
  /** The venue's own touch for the order's symbol at decision time, when it could be read. */
  quote: { bid: number; ask: number; timestamp: number } | null;
  /** The order as sent to this venue (fitted to its grid), with its client order id. */
  order: OrderRequest | null;
  response: OrderResponse | null;
  fill: { quantity: number; averagePrice: number; fills: number } | null;
  /** Against this venue's own quote at decision time. */
  slippage: Slippage | null;
  /** Milliseconds: the engine's call to the venue until it answered, until accepted, until the last fill. */
  latency: { submitMs: number | null; ackMs: number | null; fillMs: number | null };
  /** Commission the venue charged, in the account's currency. */
  fees: number | null;
  notes: string[];
  /** Against the best-priced filled venue (positive = worse for the trader); null when not filled. */
  versusBest: { price: number; units: number; unit: 'pip' | 'tick'; bps: number; fees: number } | null;
  /** When the component routes: what the router makes of this venue, and why. */
  route: { role: RouteRole; reason: string | null } | null;
  /** When the component returns a parent: the parent carried out here (its children's fills are `fill`). */
  parent: ColumnParent | null;
}

/** The router's view of one compared venue: its pick, a usable candidate it passed over, one it skipped, or none of its candidates. */
export type RouteRole = 'chosen' | 'passed over' | 'skipped' | 'not a candidate';

export interface ColumnParent {
  parentId: string;
  state: ParentOrder['state'];
  reason: string | null;
  /** "TWAP BUY 1,000 EUR_USD, 2 slices over 1 s, filled 1,000". */
  description: string;
  /** What the venue carries natively and what the engine emulates. */
  emulation: string;
  children: number;
  /** The parent was still working when the comparison ended and was cancelled then. */
  cancelledAtEnd: boolean;
}

export interface CompareOutcome {
  ok: boolean;
  summary: string;
  component: { file: string; className?: string; stdout: string; stderr: string; output: unknown };
  marketData: Record<string, unknown> | null;
  /** The component's order as it returned it (normalised, before each venue's grid). */
  order: OrderRequest | null;
  /** The router's decision over the compared venues, when the component routes. */
  route: RouteDecision | null;
  /** The parent order the component returned, when it returned one. */
  parent: ParentSpec | null;
  errors: OutcomeError[];
  notes: string[];
  venues: VenueColumn[];
  /** The venue that filled at the best price net of fees, when any filled. */
  best: string | null;
  timings: { pythonMs: number | null; totalMs: number };
}

/**
 * A venue's quote at decision time as its column keeps it; a delayed quote (IB's, without a live subscription) says
 * so in the column's notes, since the column's slippage is measured against it.
 */
export function columnQuote(venue: string, quote: Quote, notes: string[]): NonNullable<VenueColumn['quote']> {
  if (quote.delayed === true)
    notes.push(
      quote.delayed_reason === undefined
        ? `the quote from ${venue} is delayed market data, some 15 minutes behind (no live market data subscription): this column's slippage is measured against it`
        : `the quote from ${venue} is not the live price (${quote.delayed_reason}): this column's slippage is measured against it`,
    );
  return { bid: quote.bid, ask: quote.ask, timestamp: quote.timestamp };
}

/** A venue's verdict from the engine's state of its order. */
export function verdictOf(state: string): VenueVerdict {
  switch (state) {
    case 'FILLED':
      return 'FILLED';
    case 'PARTIALLY_FILLED':
      return 'PARTIALLY_FILLED';
    case 'CANCELLED':
      return 'CANCELLED';
    case 'EXPIRED':
      return 'EXPIRED';
    case 'REJECTED':
      return 'REJECTED';
    case 'UNCONFIRMED':
    case 'SUBMITTED':
    case 'PENDING_SUBMIT':
      return 'UNCONFIRMED';
    default:
      return 'ACCEPTED';
  }
}

/** A venue's column before anything was sent to it (`NOT_SENT`, no reason yet). */
export function emptyColumn(v: Pick<BrokerApi, 'id' | 'displayName' | 'environment'>): VenueColumn {
  return {
    id: v.id,
    displayName: v.displayName,
    environment: v.environment,
    verdict: 'NOT_SENT',
    reason: null,
    code: null,
    quote: null,
    order: null,
    response: null,
    fill: null,
    slippage: null,
    latency: { submitMs: null, ackMs: null, fillMs: null },
    fees: null,
    notes: [],
    versusBest: null,
    route: null,
    parent: null,
  };
}
