/**
 * Venue orders that carry one of ours on under a new venue id: OANDA's reissue of a partly filled order's remaining
 * units (oanda/reissue.ts), Alpaca's replace (PATCH /v2/orders/{order_id}: a new order with `replaces`, the old one
 * `replaced` with `replaced_by`, alpaca/adapter.ts).
 *
 * Our order stays ONE order across such replacements: it keeps the id and client order id the engine knows, its
 * replacement's fills count toward it, and a cancel goes to the venue order that carries it now. This class
 * remembers which venue order carries which of ours, and the fills ours had before each replacement.
 */
import { divMoney, fromMoney, mulMoney, toMoney } from '../common/decimal';
import { cloneFill, type Fill, type OrderResponse, type OrderStatus } from '../orders/model';

/** Replacements remembered; beyond them the oldest are forgotten. */
const KEPT = 5000;

interface Replacement {
  /** Our order's id (the id of the order first placed). */
  ourId: string;
  /** Our order's fills before this replacement was created. */
  before: Fill[];
}

export class Replacements {
  /** Venue id of a replacement → our order. */
  private readonly replacements = new Map<string, Replacement>();
  /** Our order's id → the venue order carrying it now. */
  private readonly current = new Map<string, string>();

  /** Our order a venue order carries on (itself when it replaces none of ours). */
  ourIdOf(venueId: string): string {
    return this.replacements.get(venueId)?.ourId ?? venueId;
  }

  /** The venue order that carries our order now. */
  venueIdOf(ourId: string): string {
    return this.current.get(ourId) ?? ourId;
  }

  /** Records that venue order `replacementId` carries on our order `ours` (as it stands, with its fills so far). */
  record(replacementId: string, ours: OrderResponse): void {
    if (this.replacements.has(replacementId)) return;
    this.replacements.set(replacementId, { ourId: ours.order_id, before: ours.fills.map(cloneFill) });
    this.current.set(ours.order_id, replacementId);
    if (this.replacements.size > KEPT) {
      const [oldest, r] = this.replacements.entries().next().value as [string, Replacement];
      this.replacements.delete(oldest);
      if (this.current.get(r.ourId) === oldest) this.current.delete(r.ourId);
    }
  }

  /**
   * A view of replacement `view` as our order `ours`: our ids, quantity and terms, the fills ours had before the
   * replacement plus the replacement's own, and a working status while the remainder works.
   */
  asOurs(view: OrderResponse, ours: OrderResponse): OrderResponse {
    const before = this.replacements.get(view.order_id)?.before ?? [];
    const own = view.fills.map((f) => ({
      ...cloneFill(f),
      order_id: ours.order_id,
      client_order_id: ours.client_order_id,
    }));
    const fills = [...before.map(cloneFill), ...own.filter((f) => !before.some((b) => b.fill_id === f.fill_id))];
    let baseQty = 0n;
    let baseNotional = 0n;
    let baseCommission = 0;
    for (const f of before) {
      const q = toMoney(f.quantity);
      baseQty += q;
      baseNotional += mulMoney(q, toMoney(f.price));
      baseCommission += f.commission;
    }
    const ownQty = toMoney(view.filled_quantity ?? 0);
    const filled = baseQty + ownQty;
    let price: number | null;
    if (ownQty > 0n)
      price =
        view.filled_price === null
          ? null
          : fromMoney(divMoney(baseNotional + mulMoney(ownQty, toMoney(view.filled_price)), filled));
    else price = baseQty > 0n ? fromMoney(divMoney(baseNotional, baseQty)) : null;
    const anyFill = filled > 0n;
    let status: OrderStatus = view.status;
    const name = view.status.status;
    if (name === 'pending' || name === 'submitted' || name === 'partially_filled')
      status = anyFill ? { status: 'partially_filled', filled_qty: fromMoney(filled) } : { status: 'submitted' };
    return {
      ...view,
      order_id: ours.order_id,
      client_order_id: ours.client_order_id,
      symbol: ours.symbol,
      side: ours.side,
      order_type: { ...ours.order_type },
      time_in_force: { ...ours.time_in_force },
      quantity: ours.quantity,
      status,
      filled_price: anyFill ? price : null,
      filled_quantity: anyFill ? fromMoney(filled) : null,
      commission: anyFill ? Number((baseCommission + (view.commission ?? 0)).toFixed(10)) : null,
      created_at: ours.created_at,
      fills,
    };
  }
}

/** A view of an order OANDA replaced by a reissue of its remainder: its fills stand, and the order still works. */
export function stillWorking(view: OrderResponse): OrderResponse {
  const filled = view.filled_quantity ?? 0;
  return {
    ...view,
    status: filled > 0 ? { status: 'partially_filled', filled_qty: filled } : { status: 'submitted' },
  };
}
