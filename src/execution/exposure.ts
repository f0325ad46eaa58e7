/**
 * What the engine's working orders still add up to, kept up to date as orders change rather than
 * summed over every working order for each new one (which made a check O(orders in flight)):
 *  - per venue and symbol, the quantity still to fill on each side (for position limits);
 *  - per venue, the buying power reserved by orders the venue has not acknowledged yet (those are not
 *    in the venue's own buying power), each valued once, at the quote its own checks used.
 */
import { toMoney } from '../common/decimal';
import type { OrderRecord, OrderState } from './orderState';

interface SymbolSides {
  buy: bigint;
  sell: bigint;
}

interface VenueReserve {
  /** Sum of `reserve` over the venue's unacknowledged orders, in the account currency. */
  total: number;
  count: number;
}

/** States in which the venue's buying power does not include the order yet. */
const unacknowledged = (state: OrderState): boolean => state === 'PENDING_SUBMIT' || state === 'SUBMITTED';

export class WorkingExposure {
  private readonly sides = new Map<string, SymbolSides>();
  private readonly reserves = new Map<string, VenueReserve>();
  /** Each working order's reservation (account currency), set when it was checked. */
  private readonly reserveOf = new Map<string, number>();

  /** Starts counting a working order; `reserve` is what it uses of buying power until acknowledged. */
  add(order: OrderRecord, reserve: number): void {
    this.reserveOf.set(order.clientOrderId, reserve);
    this.apply(order, 1);
  }

  /** A working order changed (a fill, an acknowledgement). */
  update(before: OrderRecord, after: OrderRecord): void {
    if (!this.reserveOf.has(after.clientOrderId)) return;
    this.apply(before, -1);
    this.apply(after, 1);
  }

  /** The order is no longer working. */
  remove(order: OrderRecord): void {
    if (!this.reserveOf.has(order.clientOrderId)) return;
    this.apply(order, -1);
    this.reserveOf.delete(order.clientOrderId);
  }

  /** Quantity still to fill, in 10^-10 units, of the venue's working orders in `symbol`, by side. */
  left(venue: string, symbol: string): Readonly<SymbolSides> {
    return this.sides.get(`${venue}\u0000${symbol}`) ?? { buy: 0n, sell: 0n };
  }

  /** Buying power (account currency) held by the venue's orders it has not acknowledged yet. */
  reserved(venue: string): number {
    return this.reserves.get(venue)?.total ?? 0;
  }

  private apply(order: OrderRecord, sign: 1 | -1): void {
    const key = `${order.venue}\u0000${order.request.symbol}`;
    let sides = this.sides.get(key);
    if (!sides) {
      sides = { buy: 0n, sell: 0n };
      this.sides.set(key, sides);
    }
    const left = toMoney(order.request.quantity) - order.filledUnits;
    if (order.request.side === 'buy') sides.buy += sign === 1 ? left : -left;
    else sides.sell += sign === 1 ? left : -left;
    if (sides.buy === 0n && sides.sell === 0n) this.sides.delete(key);

    if (!unacknowledged(order.state)) return;
    let venue = this.reserves.get(order.venue);
    if (!venue) {
      venue = { total: 0, count: 0 };
      this.reserves.set(order.venue, venue);
    }
    venue.count += sign;
    venue.total += sign * (this.reserveOf.get(order.clientOrderId) ?? 0);
    // Floating sums drift with every add and subtract; an empty set is exactly zero.
    if (venue.count === 0) this.reserves.delete(order.venue);
  }
}
