/**
 * What the engine's working orders still add up to, kept up to date as orders change rather than
 * summed over every working order for each new one (which made a check O(orders in flight)):
 *  - per venue and symbol, the quantity still to fill on each side (for position limits);
 *  - per venue, the buying power reserved by orders the venue has not acknowledged yet (those are not
 *    in the venue's own buying power), each valued once, at the quote its own checks used.
 */
import { toMoney } from '../common/decimal';
import type { OrderRecord, OrderState } from './orderState';
import { ChurnMap } from '../common/churn';

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

const NONE: Readonly<SymbolSides> = Object.freeze({ buy: 0n, sell: 0n });

export class WorkingExposure {
  /** Venue → symbol → quantity left on each side. Entries stay once made (a handful of symbols per venue). */
  private readonly sides = new Map<string, Map<string, SymbolSides>>();
  private readonly reserves = new Map<string, VenueReserve>();
  /** Each working order's reservation (account currency), set when it was checked. */
  private readonly reserveOf = new ChurnMap<string, number>();

  /** Starts counting a working order; `reserve` is what it uses of buying power until acknowledged. */
  add(order: OrderRecord, reserve: number): void {
    this.reserveOf.set(order.clientOrderId, reserve);
    this.addLeft(order, toMoney(order.request.quantity) - order.filledUnits);
    if (unacknowledged(order.state)) this.addReserve(order, 1);
  }

  /**
   * A working order changed (a fill, an acknowledgement): only what changed is counted — the quantity
   * its fills took off its side, and its reservation when the venue acknowledged it.
   */
  update(before: OrderRecord, after: OrderRecord): void {
    if (!this.reserveOf.has(after.clientOrderId)) return;
    if (before.request !== after.request) {
      // Never the case today (a transition keeps the request); counted whole if it ever is.
      this.addLeft(before, -leftOf(before));
      this.addLeft(after, leftOf(after));
    } else if (before.filledUnits !== after.filledUnits) {
      this.addLeft(after, before.filledUnits - after.filledUnits);
    }
    const was = unacknowledged(before.state);
    const is = unacknowledged(after.state);
    if (was !== is) this.addReserve(after, is ? 1 : -1);
  }

  /** The order is no longer working. */
  remove(order: OrderRecord): void {
    if (!this.reserveOf.has(order.clientOrderId)) return;
    this.addLeft(order, -leftOf(order));
    if (unacknowledged(order.state)) this.addReserve(order, -1);
    this.reserveOf.delete(order.clientOrderId);
  }

  /** Quantity still to fill, in 10^-10 units, of the venue's working orders in `symbol`, by side. */
  left(venue: string, symbol: string): Readonly<SymbolSides> {
    return this.sides.get(venue)?.get(symbol) ?? NONE;
  }

  /** Buying power (account currency) held by the venue's orders it has not acknowledged yet. */
  reserved(venue: string): number {
    return this.reserves.get(venue)?.total ?? 0;
  }

  private addLeft(order: OrderRecord, units: bigint): void {
    if (units === 0n) return;
    let symbols = this.sides.get(order.venue);
    if (!symbols) {
      symbols = new Map();
      this.sides.set(order.venue, symbols);
    }
    let sides = symbols.get(order.request.symbol);
    if (!sides) {
      sides = { buy: 0n, sell: 0n };
      symbols.set(order.request.symbol, sides);
    }
    if (order.request.side === 'buy') sides.buy += units;
    else sides.sell += units;
  }

  private addReserve(order: OrderRecord, sign: 1 | -1): void {
    let venue = this.reserves.get(order.venue);
    if (!venue) {
      venue = { total: 0, count: 0 };
      this.reserves.set(order.venue, venue);
    }
    venue.count += sign;
    // Floating sums drift with every add and subtract; an empty set is exactly zero.
    venue.total = venue.count === 0 ? 0 : venue.total + sign * (this.reserveOf.get(order.clientOrderId) ?? 0);
  }
}

/** What an order may still fill, in 10^-10 units. */
const leftOf = (order: OrderRecord): bigint => toMoney(order.request.quantity) - order.filledUnits;
