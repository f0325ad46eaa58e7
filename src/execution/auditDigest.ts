/**
 * What the audit log says about a state directory, gathered while the log is verified on open (one read
 * for both): the orders that may still be alive at a venue, the positions the engine last knew, the
 * fills it recorded per venue, and the last trading state.
 *
 * The audit log is the record; every other state file is a cache of it or a venue's own state. So:
 * - every order whose SubmitOrder is in the log and whose last record is not final — including one the
 *   process died while sending — is reconciled by client order id on the next open;
 * - a trading-state file that is gone or older than the log's last TradingStateChanged is noticed, and
 *   the log's state is used (a halt is never lost);
 * - the paper venue's account, which changes only through the engine's orders, must agree with it.
 */
import { fromMoney, toMoney } from '../common/decimal';
import type { Fill, PlacedOrderRequest } from '../orders/model';
import type { AuditRecord } from './audit/auditRecord';
import type { OrderState } from './orderState';
import type { TradingStateName } from './risk';

export interface DigestOrder {
  readonly clientOrderId: string;
  readonly commandId: string;
  readonly venue: string;
  readonly request: PlacedOrderRequest;
  state: OrderState;
  venueOrderId?: string;
  readonly fills: Fill[];
  reason?: string;
  /** Seq of its SubmitOrder record. */
  readonly seq: number;
  readonly createdAt: number;
  updatedAt: number;
  /**
   * SubmitOrders of retried commands under its id while it was open, each denied at once (its OrderDenied is the next
   * record about the id): those denials are the retries', not this order's.
   */
  retries?: number;
}

export interface DigestTradingState {
  readonly state: TradingStateName;
  readonly reason: string;
  readonly source: string;
  readonly at: number;
  readonly seq: number;
  /** As the record has them (checked by the trading state's reader): a breaker's cool-down, a covering halt's keep. */
  readonly resumeAt: unknown;
  readonly covers: unknown;
}

const FINAL_RECORDS: Readonly<Record<string, OrderState>> = {
  OrderFilled: 'FILLED',
  OrderCancelled: 'CANCELLED',
  OrderExpired: 'EXPIRED',
  OrderRejected: 'REJECTED',
  OrderNeverArrived: 'REJECTED',
  OrderDenied: 'DENIED',
};

const STATE_RECORDS: Readonly<Record<string, OrderState>> = {
  OrderSubmitted: 'SUBMITTED',
  OrderAccepted: 'ACCEPTED',
  OrderUnconfirmed: 'UNCONFIRMED',
  OrderPartiallyFilled: 'PARTIALLY_FILLED',
  OrderCancelRequested: 'PENDING_CANCEL',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class AuditDigest {
  /** Orders whose last record is not final, by client order id. */
  readonly open = new Map<string, DigestOrder>();
  /** Signed positions per venue and symbol (10^-10 units), as the engine last recorded them. */
  readonly positions = new Map<string, Map<string, bigint>>();
  /**
   * Signed sums of the fills per venue and symbol (10^-10 units): the positions of a venue that changes
   * only through this engine (paper), independent of what a reconcile once took from a damaged account.
   */
  readonly fillSums = new Map<string, Map<string, bigint>>();
  /** Fill records per venue. */
  readonly fillCount = new Map<string, number>();
  /** Every client order id the log has a SubmitOrder for. */
  readonly known = new Set<string>();
  /** Venues the log has sent orders to. */
  readonly venues = new Set<string>();
  lastTradingState: DigestTradingState | undefined;
  /**
   * An emergency stop the log began (EmergencyStop) and never reported (EmergencyStopReport): the process ended
   * while it cancelled orders or closed positions, so some may still be working or open.
   */
  get unfinishedStop(): { at: number; reason: string; flatten: boolean } | undefined {
    return this.stops[this.stops.length - 1];
  }
  /** Stops begun and not yet reported, oldest first (a second stop waits for the first and reports after it). */
  private readonly stops: Array<{ at: number; reason: string; flatten: boolean }> = [];
  /** Parent orders started (ParentStarted) and not ended (ParentEnded): a run that carried them out stopped. */
  readonly workingParents = new Map<
    string,
    {
      venue: string;
      spec: Readonly<Record<string, unknown>>;
      at: number;
      /** Why trading was halted after it started (a halt ends every parent; its end was never recorded). */
      halted?: string;
      /** Why it was cancelled (ParentCancelRequested): the cancel was decided and cut short before it ended. */
      cancelled?: string;
    }
  >();
  /** The day's starting equity for the daily loss limit, as the last DayStarted recorded it. */
  dayStart: { day: string; equity: number } | undefined;
  lastSeq = 0;
  records = 0;
  /** Every fill at the venues named in the constructor, in log order (for rebuilding a paper account). */
  readonly fillsOf = new Map<string, Fill[]>();

  constructor(options: { keepFillsOf?: readonly string[] } = {}) {
    for (const v of options.keepFillsOf ?? []) this.fillsOf.set(v, []);
  }

  /** Takes one record of the log, in chain order. */
  readonly visit = (record: AuditRecord): void => {
    this.records++;
    this.lastSeq = record.seq;
    const data = record.data;
    switch (record.type) {
      case 'SubmitOrder': {
        const cmd = data['command'];
        if (!isObject(cmd)) return;
        const id = cmd['clientOrderId'];
        const venue = cmd['venue'];
        const order = cmd['order'];
        if (typeof id !== 'string' || typeof venue !== 'string' || !isObject(order)) return;
        // A second command with an id the log already holds is denied as a duplicate (preTrade: open or finished,
        // in this session or before it): the order holding the id stays as it is. Taken for a new order, a finished
        // one's duplicate stayed open here, was looked up by its id on the next start and found the first order,
        // whose fills were then counted twice. Its denial (the next record about the id) is not the open order's.
        const holder = this.open.get(id);
        if (holder) {
          holder.retries = (holder.retries ?? 0) + 1;
          return;
        }
        if (this.known.has(id)) return;
        this.known.add(id);
        // A denied order's SubmitOrder is followed by its OrderDenied; one sent, by its fate.
        this.open.set(id, {
          clientOrderId: id,
          commandId: typeof cmd['commandId'] === 'string' ? cmd['commandId'] : id,
          venue,
          request: order as unknown as PlacedOrderRequest,
          state: 'PENDING_SUBMIT',
          fills: [],
          seq: record.seq,
          createdAt: typeof data['at'] === 'number' ? data['at'] : record.ts,
          updatedAt: record.ts,
        });
        this.venues.add(venue);
        return;
      }
      case 'DayStarted': {
        const day = data['day'];
        const equity = data['equity'];
        if (typeof day === 'string' && typeof equity === 'number' && Number.isFinite(equity))
          this.dayStart = { day, equity };
        return;
      }
      case 'ParentStarted': {
        const id = data['parentId'];
        const spec = data['spec'];
        if (typeof id === 'string' && isObject(spec))
          this.workingParents.set(id, {
            venue: typeof data['venue'] === 'string' ? data['venue'] : '',
            spec,
            at: typeof data['at'] === 'number' ? data['at'] : record.ts,
          });
        return;
      }
      case 'ParentCancelRequested': {
        const p = typeof data['parentId'] === 'string' ? this.workingParents.get(data['parentId']) : undefined;
        if (p) p.cancelled ??= typeof data['reason'] === 'string' ? data['reason'] : 'cancelled';
        return;
      }
      case 'ParentEnded':
        if (typeof data['parentId'] === 'string') this.workingParents.delete(data['parentId']);
        return;
      case 'EmergencyStop':
        this.stops.push({
          at: typeof data['at'] === 'number' ? data['at'] : record.ts,
          reason: typeof data['reason'] === 'string' ? data['reason'] : '',
          flatten: data['flatten'] === true,
        });
        return;
      case 'EmergencyStopReport': {
        // It finishes its own stop and every one begun before it (a stop acts on all that is left at the venues: an
        // earlier one cut short by a kill is done by it); a stop queued behind it in the same process is still to come.
        let own = this.stops.length - 1;
        while (own >= 0 && !(this.stops[own]?.at === data['begunAt'] && this.stops[own]?.reason === data['reason']))
          own--;
        this.stops.splice(0, own === -1 ? 1 : own + 1);
        return;
      }
      case 'TradingStateChanged': {
        const to = data['to'];
        if (to === 'HALTED')
          for (const p of this.workingParents.values())
            p.halted ??= typeof data['reason'] === 'string' ? data['reason'] : 'halted';
        if (to === 'ACTIVE' || to === 'REDUCING' || to === 'HALTED') {
          this.lastTradingState = {
            state: to,
            reason: typeof data['reason'] === 'string' ? data['reason'] : '',
            source: typeof data['source'] === 'string' ? data['source'] : '',
            at: typeof data['at'] === 'number' ? data['at'] : record.ts,
            seq: record.seq,
            resumeAt: data['resumeAt'],
            covers: data['covers'],
          };
        }
        return;
      }
      case 'VenueBaseline': {
        // Written by recover when the log lost records and a local venue's account is the better record:
        // its fills and positions as they stand become the log's from here on.
        const venue = data['venue'];
        const positions = data['positions'];
        if (typeof venue !== 'string' || !isObject(positions)) return;
        if (typeof data['fills'] === 'number') this.fillCount.set(venue, data['fills']);
        const sums = new Map<string, bigint>();
        for (const [symbol, q] of Object.entries(positions)) if (typeof q === 'number') sums.set(symbol, toMoney(q));
        this.fillSums.set(venue, sums);
        this.positions.set(venue, new Map(sums));
        this.fillsOf.get(venue)?.splice(0);
        return;
      }
      case 'PositionsReconciled': {
        const venue = data['venue'];
        const differences = data['differences'];
        if (typeof venue !== 'string' || !Array.isArray(differences)) return;
        const map = this.positionMap(venue);
        for (const d of differences) {
          if (isObject(d) && typeof d['symbol'] === 'string' && typeof d['venue'] === 'number')
            map.set(d['symbol'], toMoney(d['venue']));
        }
        return;
      }
      default:
        break;
    }
    const id = data['clientOrderId'];
    if (typeof id !== 'string') return;
    if (record.type === 'OrderFilled' || record.type === 'OrderPartiallyFilled') {
      const venue = data['venue'];
      const symbol = data['symbol'];
      if (typeof venue === 'string') {
        this.fillCount.set(venue, (this.fillCount.get(venue) ?? 0) + 1);
        const kept = this.fillsOf.get(venue);
        const f = data['fill'];
        if (isObject(f) && typeof f['symbol'] === 'string' && typeof f['quantity'] === 'number') {
          let sums = this.fillSums.get(venue);
          if (!sums) this.fillSums.set(venue, (sums = new Map<string, bigint>()));
          sums.set(
            f['symbol'],
            (sums.get(f['symbol']) ?? 0n) + toMoney(f['quantity']) * (f['side'] === 'sell' ? -1n : 1n),
          );
        }
        if (kept && isObject(f)) kept.push(f as unknown as Fill);
        if (typeof symbol === 'string' && typeof data['position'] === 'number')
          this.positionMap(venue).set(symbol, toMoney(data['position']));
      }
    }
    const order = this.open.get(id);
    if (!order) return;
    // The denial of a second command under an id in use is not about the order that holds it: a duplicate's, or one
    // for damage (checked before duplicates), which taken for this order's ended an order still working at its venue
    // (the next open neither looked it up nor counted it, and took it for an external order).
    if (record.type === 'OrderDenied' && order.retries) {
      order.retries--;
      return;
    }
    if (record.type === 'OrderDenied' && data['code'] === 'DUPLICATE_CLIENT_ORDER_ID') return;
    order.updatedAt = record.ts;
    if (typeof data['venueOrderId'] === 'string') order.venueOrderId = data['venueOrderId'];
    const fill = data['fill'];
    if (isObject(fill) && typeof fill['fill_id'] === 'string') order.fills.push(fill as unknown as Fill);
    if (typeof data['reason'] === 'string') order.reason = data['reason'];
    const final = FINAL_RECORDS[record.type];
    if (final !== undefined) {
      this.open.delete(id);
      return;
    }
    const state = STATE_RECORDS[record.type];
    if (state !== undefined) order.state = state;
    // As the state machine: back to UNCONFIRMED for an order the venue never answered for (no venue id: the cancel
    // found no record of it there), which is looked up until it is found or by the venue's rules never arrived.
    if (record.type === 'OrderCancelRejected')
      order.state =
        order.fills.length > 0 ? 'PARTIALLY_FILLED' : order.venueOrderId === undefined ? 'UNCONFIRMED' : 'ACCEPTED';
  };

  /** The engine's last known positions at a venue, as numbers (zero positions left out). */
  positionsOf(venue: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [symbol, units] of this.positions.get(venue) ?? []) if (units !== 0n) out[symbol] = fromMoney(units);
    return out;
  }

  private positionMap(venue: string): Map<string, bigint> {
    let m = this.positions.get(venue);
    if (!m) {
      m = new Map();
      this.positions.set(venue, m);
    }
    return m;
  }
}
