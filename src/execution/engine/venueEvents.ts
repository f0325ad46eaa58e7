/**
 * Venue events: what a venue says about an order, turned into state-machine events and applied.
 *
 * Three ways in: a venue's update stream (`onVenueUpdate`: the fill it carries is the fill), the reply
 * to a submit, and a look-up (`applyResponse`: a snapshot, whose fills not yet known are derived by
 * `fillsOf` — that is reconciliation). Each applied event is recorded and published once, with what it
 * changed (position, exposure, the trading state's circuit breaker).
 */
import { monotonicMs, type Clock } from '../../common/clock';
import { fromMoney, toMoney } from '../../common/decimal';
import type { OrderUpdate } from '../../brokers/broker';
import { isFinalStatus, type Fill, type OrderResponse } from '../../orders/model';
import type { DenialCode } from '../events';
import {
  applyEvent,
  averagePrice,
  isFinalState,
  OrderTransitionError,
  remainingQuantity,
  type OrderEvent,
  type OrderRecord,
} from '../orderState';
import type { RiskCheckResult } from '../risk';
import { auditOrder, type EventLog } from './eventLog';
import type { OrderCache } from './orderCache';
import type { TradingControl } from './tradingControl';
import type { VenueRegistry } from './venues';
import { ChurnMap } from '../../common/churn';

/** What a transition's record needs beyond the event itself. */
export interface TransitionContext {
  readonly code?: DenialCode;
  readonly risk: readonly RiskCheckResult[];
  readonly commandId?: string;
  readonly order?: unknown;
  /** A Rejected that is not the venue's refusal: nothing reached it. */
  readonly neverArrived?: boolean;
}

export class VenueEvents {
  /** Engine time spent on venue updates of orders whose submit call is under way, by client order id. */
  private readonly updateMs = new ChurnMap<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly cache: OrderCache,
    private readonly log: EventLog,
    private readonly control: TradingControl,
    private readonly venues: () => VenueRegistry,
  ) {}

  /** Starts counting the engine time of an order's venue updates (its submit call is under way). */
  startTiming(clientOrderId: string): void {
    this.updateMs.set(clientOrderId, 0);
  }

  /** Stops counting; returns the engine time its venue updates took meanwhile. */
  stopTiming(clientOrderId: string): number {
    const ms = this.updateMs.get(clientOrderId) ?? 0;
    this.updateMs.delete(clientOrderId);
    return ms;
  }

  /** One update from a venue's stream. */
  onVenueUpdate(venue: string, update: OrderUpdate): void {
    const id = update.order.client_order_id;
    const spent = this.updateMs.get(id);
    const started = spent === undefined ? 0 : monotonicMs();
    try {
      const record = this.resolve(venue, update.order);
      if (record) {
        // The fill in the event is the only fill a stream update brings (every venue emits each fill in its own
        // update: broker.ts's OrderUpdate contract); deriving fills from snapshots is left to replies and look-ups.
        const fills: readonly Fill[] =
          update.fill === undefined || knownFill(record, update.fill.fill_id)
            ? []
            : countsByCumulative(record) && hasCumulative(update.order)
              ? // Fills already derived from cumulative figures cannot be matched by id: only what the update adds
                // to the cumulative quantity is new (the update's own fill, when it is exactly that).
                fillsOf(
                  record,
                  update.order.fills.length > 0
                    ? update.order
                    : Object.assign({}, update.order, { fills: [update.fill] }),
                )
              : [update.fill];
        this.applyStatus(record.clientOrderId, update.order, fills);
      }
    } catch (e) {
      this.log.venueError(venue, 'orderUpdate', e);
    }
    if (spent !== undefined) this.updateMs.set(id, spent + (monotonicMs() - started));
  }

  /** A venue's view of an order (a submit's reply, a look-up): its fills not yet known are derived from it. */
  applyResponse(venue: string, response: OrderResponse): void {
    const record = this.resolve(venue, response);
    if (record) this.applyStatus(record.clientOrderId, response, fillsOf(record, response));
  }

  /** Applies one event through the state machine; publishes and records what changed. */
  transition(clientOrderId: string, event: OrderEvent, context?: TransitionContext): void {
    const before = this.cache.must(clientOrderId);
    let applied;
    try {
      applied = applyEvent(before, event);
    } catch (e) {
      if (!(e instanceof OrderTransitionError)) throw e;
      this.log.record('TransitionRefused', {
        at: this.clock.now(),
        clientOrderId,
        venue: before.venue,
        code: e.code,
        message: e.message,
      });
      return;
    }
    if (!applied.changed) return;
    const order = applied.order;
    this.cache.replace(before, order);
    this.recordTransition(order, event, context);
    // Retired as it becomes final, once: a final order's later change (a late fill's commission) stays where it is.
    if (isFinalState(order.state) && !isFinalState(before.state)) this.cache.retire(clientOrderId);
  }

  /** The cached order a venue's view is about, or undefined (then it is noted as external, or forgotten when final). */
  private resolve(venue: string, response: OrderResponse): OrderRecord | undefined {
    const clientOrderId = response.client_order_id || this.cache.byVenueOrderId(venue, response.order_id);
    const record = clientOrderId === undefined ? undefined : this.cache.get(clientOrderId);
    if (!record || record.venue !== venue) {
      if (isFinalStatus(response.status)) this.cache.removeExternal(venue, response.order_id);
      else if (this.cache.addExternal(venue, response))
        this.log.record('ExternalOrderFound', { at: this.clock.now(), venue, order: response });
      return undefined;
    }
    this.cache.linkVenueId(venue, response.order_id, record.clientOrderId);
    return record;
  }

  private applyStatus(id: string, response: OrderResponse, fills: readonly Fill[]): void {
    const at = this.clock.now();
    const status = response.status;
    if (status.status === 'rejected') {
      // Fills it lists moved money, whatever the venue calls the order now: counted before the rejection (which then
      // ends an order that traded as CANCELLED, its fills kept).
      for (const fill of fills) this.transition(id, { type: 'Fill', at, fill });
      this.transition(id, { type: 'Rejected', at, reason: status.reason, venueOrderId: response.order_id });
      return;
    }
    const current = this.cache.must(id);
    // Also an order whose cancel was asked for before the venue's answer came: it keeps the venue's id,
    // which the cancel needs.
    if (
      current.state === 'SUBMITTED' ||
      current.state === 'UNCONFIRMED' ||
      (current.state === 'PENDING_CANCEL' && current.venueOrderId === undefined)
    )
      this.transition(id, { type: 'Accepted', at, venueOrderId: response.order_id });
    for (const fill of fills) this.transition(id, { type: 'Fill', at, fill });
    if (status.status === 'cancelled')
      this.transition(
        id,
        status.reason === undefined
          ? { type: 'Cancelled', at, venueOrderId: response.order_id }
          : { type: 'Cancelled', at, venueOrderId: response.order_id, reason: status.reason },
      );
    else if (status.status === 'expired') this.transition(id, { type: 'Expired', at, venueOrderId: response.order_id });
  }

  private recordTransition(order: OrderRecord, event: OrderEvent, context: TransitionContext | undefined): void {
    const at = event.at;
    const clientOrderId = order.clientOrderId;
    const venue = order.venue;
    const symbol = order.request.symbol;
    const state = order.state;
    const base = { at, clientOrderId, venue, symbol, state };
    switch (event.type) {
      case 'Sent': {
        // The log holds the order and its checks in the SubmitOrder command (made durable before
        // sending, same commandId); this record marks the send. Listeners get the whole picture.
        const commandId = order.commandId;
        this.log.record(
          'OrderSubmitted',
          {
            at,
            clientOrderId,
            venue,
            symbol,
            state,
            commandId,
            order: auditOrder(order.request),
            risk: context?.risk ?? [],
          },
          { at, clientOrderId, venue, symbol, state, commandId },
        );
        break;
      }
      case 'Denied': {
        // Only an order accepted for sending is denied here (its SubmitOrder, with the order and its checks, is in
        // the log under the same commandId): the record says what became of it. Listeners get the whole picture.
        const commandId = order.commandId;
        const code = context?.code ?? (event.code as DenialCode);
        this.log.record(
          'OrderDenied',
          {
            ...base,
            commandId,
            code,
            reason: event.reason,
            risk: context?.risk ?? [],
            order: auditOrder(order.request),
          },
          { ...base, commandId, code, reason: event.reason },
        );
        break;
      }
      case 'Accepted':
        this.control.recordSuccess();
        this.log.record('OrderAccepted', { at, clientOrderId, venue, symbol, state, venueOrderId: event.venueOrderId });
        break;
      case 'Unconfirmed':
        this.log.record('OrderUnconfirmed', { ...base, reason: event.reason });
        break;
      case 'Fill': {
        this.control.recordSuccess();
        const signed = toMoney(event.fill.quantity) * (event.fill.side === 'buy' ? 1n : -1n);
        const position = this.cache.addFill(order.venue, order.request.symbol, signed);
        this.log.record(order.state === 'FILLED' ? 'OrderFilled' : 'OrderPartiallyFilled', {
          at,
          clientOrderId,
          venue,
          symbol,
          state,
          fill: event.fill,
          filledQuantity: fromMoney(order.filledUnits),
          remainingQuantity: remainingQuantity(order),
          averagePrice: averagePrice(order),
          position: fromMoney(position),
        });
        this.control.checkEquity(this.venues().get(order.venue), order.venue);
        break;
      }
      case 'CancelRequested':
        this.log.record('OrderCancelRequested', base);
        break;
      case 'CancelRejected':
        this.log.record('OrderCancelRejected', { ...base, reason: event.reason });
        break;
      case 'Cancelled':
        this.log.record('OrderCancelled', event.reason === undefined ? base : { ...base, reason: event.reason });
        break;
      case 'Expired':
        this.log.record('OrderExpired', base);
        break;
      case 'Rejected': {
        if (context?.neverArrived) {
          // Not a venue refusal: nothing reached it. No circuit-breaker failure either.
          this.log.record('OrderNeverArrived', { ...base, reason: event.reason });
          break;
        }
        // An order that traded ended CANCELLED (partly filled, then the rest rejected): recorded as what it became,
        // so that the log's reader and the next open see the same final state as the engine.
        if (state === 'CANCELLED') this.log.record('OrderCancelled', { ...base, reason: order.reason ?? event.reason });
        else this.log.record('OrderRejected', { ...base, reason: event.reason });
        this.control.recordFailure(`${order.request.symbol} ${order.clientOrderId}: ${event.reason}`);
        break;
      }
    }
  }
}

/** Whether the record has the fill already (an order has a handful of fills: a scan, no set to build). */
function knownFill(record: OrderRecord, fillId: string): boolean {
  for (const f of record.fills) if (f.fill_id === fillId) return true;
  return false;
}

/**
 * Whether the record holds a fill derived from cumulative figures (its id `<venue order id>:<cumulative quantity
 * after it>`, as `fillsOf` and the order tracker make them): the venue's own ids for the same fills then cannot
 * be matched against it, and what is new is only what the venue's cumulative quantity adds.
 */
export function countsByCumulative(record: OrderRecord): boolean {
  let cumulative = 0n;
  for (const f of record.fills) {
    cumulative += toMoney(f.quantity);
    const prefix = `${f.order_id}:`;
    if (!f.fill_id.startsWith(prefix)) continue;
    const rest = Number(f.fill_id.slice(prefix.length));
    if (Number.isFinite(rest) && toMoney(rest) === cumulative) return true;
  }
  return false;
}

const finite = (n: number | null): n is number => n !== null && Number.isFinite(n);

const hasCumulative = (r: OrderResponse): boolean =>
  r.fills.length > 0 || (finite(r.filled_quantity) && finite(r.filled_price));

/**
 * Fills in a venue's view of an order that the record does not have yet: the listed ones it does not know by id,
 * or, when it lists none (or the record counts by cumulative figures), what its cumulative figures add.
 */
export function fillsOf(record: OrderRecord, response: OrderResponse): Fill[] {
  const listed = response.fills;
  let unknown: Fill[] = [];
  if (listed.length > 0) {
    unknown = listed.filter((f) => !knownFill(record, f.fill_id));
    if (unknown.length === 0 || !countsByCumulative(record)) return unknown;
  }
  let cum = 0n;
  let totalNotional = 0n;
  if (finite(response.filled_quantity) && finite(response.filled_price)) {
    cum = toMoney(response.filled_quantity);
    totalNotional = cum * toMoney(response.filled_price);
  } else {
    // Cumulative figures that are not numbers are no figures (the state machine refuses such a listed fill).
    if (!listed.every((f) => finite(f.quantity) && finite(f.price))) return [];
    for (const f of listed) {
      const q = toMoney(f.quantity);
      cum += q;
      totalNotional += q * toMoney(f.price);
    }
  }
  if (cum <= record.filledUnits) return [];
  const qty = cum - record.filledUnits;
  // The venue's own fills, as they are, when they add up to exactly what is new.
  if (unknown.length > 0 && unknown.every((f) => finite(f.quantity))) {
    let sum = 0n;
    for (const f of unknown) sum += toMoney(f.quantity);
    if (sum === qty) return unknown;
  }
  const price = fromMoney((totalNotional - record.notionalUnits + qty / 2n) / qty);
  return [
    {
      fill_id: `${response.order_id}:${fromMoney(cum)}`,
      order_id: response.order_id,
      client_order_id: record.clientOrderId,
      symbol: record.request.symbol,
      side: record.request.side,
      price,
      quantity: fromMoney(qty),
      commission: Math.max(0, (response.commission ?? 0) - record.commission),
      liquidity: 'taker',
      timestamp: response.timestamp,
    },
  ];
}
