/**
 * Turns a TestOrderOutcome into the plain view the result panel shows. Pure (no `vscode`), so the
 * panel's contents are unit-tested without an editor.
 */
import {
  describeOrder,
  describeOutcome,
  describeRecord,
  filledOf,
  precisionOf,
  riskValueText,
} from '../usecases/describeOrder';
import type { EngineEvent } from '../execution/events';
import { isFinalState, type OrderRecord } from '../execution/orderState';
import type { TestOrderOutcome } from '../usecases/testOrder';
import type { OrderRequest } from '../orders/model';
import type { ParentSpec } from '../execution/algos/dialect';
import { describeEmulation, describeParent, type ParentOrder } from '../execution/algos/parents';
import type { RouteDecision } from '../execution/route';
import type { ParentView, PriceLineSchema, QuotePoint, ResultView, RunKind, TimelineRow } from './protocol';
import type { z } from 'zod';

export function resultViewOf(
  outcome: TestOrderOutcome,
  options: { kind: RunKind; ranAt: number; quotes: readonly QuotePoint[]; requestedAt?: number },
): ResultView {
  const order = outcome.order;
  const response = outcome.response;
  const md = outcome.marketData;
  const symbol =
    order?.symbol ?? outcome.parentSpec?.symbol ?? (typeof md?.['symbol'] === 'string' ? md['symbol'] : null);
  return {
    kind: options.kind,
    ok: outcome.ok,
    exitCode: outcome.exitCode,
    status: statusOf(outcome),
    headline: outcome.parent
      ? describeParent(outcome.parent).slice(outcome.parent.parentId.length + 1)
      : outcome.parentSpec
        ? `${outcome.parentSpec.algo.replace('_', ' ').toUpperCase()} ${outcome.parentSpec.side.toUpperCase()} ${outcome.parentSpec.quantity.toLocaleString('en-US')} ${outcome.parentSpec.symbol} (a parent order; not started)`
        : describeOutcome(outcome),
    summary: outcome.summary,
    ranAt: options.ranAt,
    file: outcome.component.file,
    className: outcome.component.className ?? null,
    venue: { ...outcome.venue },
    scratch: outcome.scratch,
    symbol,
    side: order?.side ?? outcome.parentSpec?.side ?? null,
    clientOrderId: order?.client_order_id ?? response?.client_order_id ?? null,
    orderReturned: jsonOrNull(outcome.component.output),
    orderNormalized: order ? JSON.stringify(order, null, 2) : null,
    risk: outcome.risk.map((r) => ({
      check: r.check,
      code: r.code,
      passed: r.passed,
      message: r.message,
      limit: r.limit,
      actual: r.actual,
      limitText: riskValueText(r, 'limit'),
      actualText: riskValueText(r, 'actual'),
    })),
    denial: outcome.denial ? { ...outcome.denial } : null,
    timeline: outcome.events.map(timelineRowOf),
    timings: { ...outcome.timings },
    ...(options.requestedAt === undefined ? {} : { requestedAt: options.requestedAt }),
    slippage: outcome.slippage ? { ...outcome.slippage } : null,
    commission: response?.commission ?? null,
    filledPrice: response?.filled_price ?? null,
    filledQuantity: response?.filled_quantity ?? null,
    fills: (response?.fills ?? []).map((f) => ({
      fillId: f.fill_id,
      price: f.price,
      quantity: f.quantity,
      commission: f.commission,
      liquidity: f.liquidity,
      timestamp: f.timestamp,
    })),
    stdout: outcome.component.stdout,
    stderr: outcome.component.stderr,
    errors: outcome.errors.map((e) => ({
      code: e.code,
      message: e.message,
      file: e.file ?? null,
      line: e.line ?? null,
      path: e.path ?? null,
    })),
    notes: [...outcome.notes],
    quotes: [...options.quotes],
    priceLines: outcome.parentSpec ? parentPriceLines(outcome.parentSpec) : priceLinesOf(order, md),
    ...(outcome.route ? { route: routeViewOf(outcome.route) } : {}),
    ...(outcome.parent ? { parent: parentViewOf(outcome.parent) } : {}),
  };
}

/** The routing decision as the panel shows it: the chosen venue, every candidate, and why. */
export function routeViewOf(decision: RouteDecision): NonNullable<ResultView['route']> {
  return {
    policy: decision.policy,
    chosen: decision.chosen,
    reason: decision.reason,
    candidates: decision.candidates.map((c) => ({
      venue: c.venue,
      price: c.price,
      quantity: c.quantity,
      fee: c.fee,
      net: c.net,
      coversSize: c.coversSize,
      skipped: c.skipped,
    })),
  };
}

/** A parent and its children as they stand now. */
export function parentViewOf(p: ParentOrder): ParentView {
  return {
    parentId: p.parentId,
    algo: p.spec.algo,
    title: describeParent(p).slice(p.parentId.length + 1),
    state: p.state,
    reason: p.reason,
    filled: p.filled,
    emulation: describeEmulation(p),
    watermark: p.watermark,
    children: p.children.map((c) => {
      const s = p.childStates[c.id];
      return {
        id: c.id,
        role: c.role.replace('_', ' '),
        index: c.index,
        order: describeOrder(c.order),
        state: (s?.state ?? 'NOT_SENT').replace('_', ' '),
        filled: s?.filled ?? 0,
      };
    }),
  };
}

/** A parent's own prices across the chart: a bracket's entry and exits, a limit, a trailing stop's activation. */
function parentPriceLines(spec: ParentSpec): PriceLine[] {
  switch (spec.algo) {
    case 'bracket':
      return [
        ...(spec.entry_price === undefined ? [] : [{ price: spec.entry_price, title: 'entry' }]),
        { price: spec.stop_loss, title: 'stop-loss' },
        { price: spec.take_profit, title: 'take-profit' },
      ];
    case 'iceberg':
      return [{ price: spec.limit_price, title: 'limit' }];
    case 'twap':
      return spec.limit_price === undefined ? [] : [{ price: spec.limit_price, title: 'limit' }];
    case 'trailing_stop':
      return spec.activation_price === undefined ? [] : [{ price: spec.activation_price, title: 'activation' }];
  }
}

/**
 * The panel's view after its parent changed (a child sent, filled or cancelled, the trail moved, the
 * parent ended): undefined when the view is not of that parent.
 */
export function followedParentView(view: ResultView, parent: ParentOrder): ResultView | undefined {
  if (!view.parent || view.parent.parentId !== parent.parentId) return undefined;
  const next = parentViewOf(parent);
  if (JSON.stringify(next) === JSON.stringify(view.parent)) return undefined;
  return {
    ...view,
    status: parent.state,
    headline: next.title,
    summary: `${parent.state} on ${parent.venue}${parent.reason ? `: ${parent.reason}` : ''} (updated after the run).`,
    parent: next,
  };
}

/**
 * The panel's view after a later event of the order it shows (a fill of a resting order, a cancel from
 * the tree or the emergency stop, an expiry): its state, headline, fills and timeline follow the
 * engine's record. Undefined when the event is not about this order, or the view is of a scratch copy
 * (that order is gone with the copy).
 */
export function followedView(
  view: ResultView,
  event: EngineEvent,
  record: OrderRecord | undefined,
): ResultView | undefined {
  if (view.scratch || view.clientOrderId === null || !record || record.clientOrderId !== view.clientOrderId)
    return undefined;
  if (!('clientOrderId' in event) || event.clientOrderId !== view.clientOrderId) return undefined;
  // The run's own events are in the view already.
  if (view.timeline.some((r) => r.type === event.type && r.at === event.at)) return undefined;
  const fills = record.fills.map((f) => ({
    fillId: f.fill_id,
    price: f.price,
    quantity: f.quantity,
    commission: f.commission,
    liquidity: f.liquidity,
    timestamp: f.timestamp,
  }));
  const { filled, average } = filledOf(record.fills);
  const precision = precisionOf([...view.quotes.flatMap((q) => [q.bid, q.ask]), ...record.fills.map((f) => f.price)]);
  const state = record.state.replace('_', ' ');
  return {
    ...view,
    status: state,
    headline: describeRecord(record, { pricePrecision: precision, live: view.venue.environment === 'live' }),
    summary: `${state} on ${record.venue} (${isFinalState(record.state) ? 'final' : 'still working'}; updated after the run${record.reason ? `: ${record.reason}` : ''}).`,
    timeline: [...view.timeline, timelineRowOf(event)],
    fills,
    filledQuantity: filled > 0 ? filled : null,
    filledPrice: average,
    commission: record.commission,
  };
}

/** One word for the summary line: the order's final state, or why there is none. */
export function statusOf(outcome: TestOrderOutcome): string {
  if (outcome.parent) return outcome.parent.state;
  if (outcome.parentSpec && outcome.errors.length === 0) return 'VALIDATED';
  if (outcome.denial) return 'DENIED';
  if (outcome.response) {
    const last = [...outcome.events].reverse().find((e): e is Extract<EngineEvent, { state: unknown }> => 'state' in e);
    if (last) return last.state.replace('_', ' ');
    return outcome.response.status.status.toUpperCase().replace('_', ' ');
  }
  if (outcome.errors.length > 0) return outcome.errors.some((e) => e.code === 'INVALID_ORDER') ? 'INVALID' : 'ERROR';
  if (outcome.order) return 'VALIDATED';
  return 'NO ORDER';
}

export function timelineRowOf(e: EngineEvent): TimelineRow {
  const state = 'state' in e ? e.state : null;
  return { type: e.type, at: e.at, state, detail: detailOf(e) };
}

function detailOf(e: EngineEvent): string {
  switch (e.type) {
    case 'OrderSubmitted':
      return `${e.order.side} ${e.order.quantity} ${e.order.symbol}; ${e.risk.length} risk checks passed`;
    case 'OrderDenied':
      return `${e.code}: ${e.reason}`;
    case 'OrderAccepted':
      return `venue order id ${e.venueOrderId}`;
    case 'OrderUnconfirmed':
    case 'OrderCancelRejected':
    case 'OrderRejected':
      return e.reason;
    case 'OrderPartiallyFilled':
    case 'OrderFilled':
      return `${e.fill.quantity} @ ${e.fill.price} (${e.fill.liquidity}); filled ${e.filledQuantity}, remaining ${e.remainingQuantity}`;
    case 'TransitionRefused':
      return `${e.code}: ${e.message}`;
    case 'OrderCancelRequested':
    case 'OrderCancelled':
    case 'OrderExpired':
      return '';
    default:
      return '';
  }
}

type PriceLine = z.infer<typeof PriceLineSchema>;

/** The order's own prices and the touch the component decided on, drawn across the chart. */
export function priceLinesOf(order: OrderRequest | null, marketData: Record<string, unknown> | null): PriceLine[] {
  const lines: PriceLine[] = [];
  if (order) {
    const t = order.order_type;
    if (t.type === 'limit') lines.push({ price: t.price, title: 'limit' });
    else if (t.type === 'stop') lines.push({ price: t.price, title: 'stop' });
    else if (t.type === 'stop_limit')
      lines.push({ price: t.stop_price, title: 'stop' }, { price: t.limit_price, title: 'limit' });
  }
  const reference = order?.side === 'sell' ? 'bid' : 'ask';
  const touch = marketData?.[reference];
  if (typeof touch === 'number') lines.push({ price: touch, title: `decision ${reference}` });
  return lines;
}

function jsonOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  try {
    return JSON.stringify(value, null, 2) ?? null;
  } catch (e) {
    return `(not JSON: ${e instanceof Error ? e.message : 'unknown'})`;
  }
}
