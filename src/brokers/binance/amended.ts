/**
 * An order of ours that the user amended at Binance, read as ours. rest-api.md "Order Amend Keep Priority (TRADE)"
 * (`PUT /api/v3/order/amend/keepPriority`, from Binance's app or another program) reduces an open order's quantity in
 * place: it keeps its `orderId` ("Note that the order ID stays the same and the order keeps its priority in the
 * queue", faqs/order_amend_keep_priority.md), its `origQty` becomes `newQty` (less than the quantity), and its client
 * order id becomes `newClientOrderId`, which "If not sent, … will be randomly generated". Read as Binance answers, our
 * order came back under a client order id we never gave it, and the engine, which knows orders by their client order
 * id, took it and its fills for another program's order while ours stayed working.
 *
 * So a view of an order this adapter knows as ours (same Binance order id) is reported under our client order id and
 * our quantity. The amend took the rest away: while the order works nothing else changes, and once Binance calls it
 * FILLED (at the reduced quantity) it is ours cancelled after its fills, saying the amend reduced it; cancelled or
 * expired at Binance, it stays so.
 */
import type { OrderResponse } from '../../orders/model';

export interface AmendedView {
  /** The view under our client order id and quantity. */
  view: OrderResponse;
  /** Binance's client order id and quantity for it now. */
  binanceClientOrderId: string;
  binanceQuantity: number;
}

/**
 * `view` as ours when `ours` (our last view of the same Binance order) names it by another client order id, or for
 * more than Binance now holds (an amend that kept the client order id: "It is possible to reuse the current
 * clientOrderId by sending it as the `newClientOrderId`"); undefined when it is not an amended order of ours.
 */
export function amendedAsOurs(view: OrderResponse, ours: OrderResponse | undefined): AmendedView | undefined {
  if (
    ours === undefined ||
    ours.order_id !== view.order_id ||
    ours.client_order_id === '' ||
    (ours.client_order_id === view.client_order_id && !(view.quantity < ours.quantity))
  )
    return undefined;
  const clientOrderId = ours.client_order_id;
  const reduced = view.quantity < ours.quantity;
  const status =
    reduced && view.status.status === 'filled'
      ? {
          status: 'cancelled' as const,
          reason: `amended at Binance (Order Amend Keep Priority, outside SPtrader): its quantity was reduced from ${ours.quantity} to ${view.quantity}, all of which filled; the rest was taken away by the amend`,
        }
      : view.status;
  return {
    view: {
      ...view,
      client_order_id: clientOrderId,
      quantity: Math.max(view.quantity, ours.quantity),
      status,
      fills: view.fills.map((f) => ({ ...f, client_order_id: clientOrderId })),
    },
    binanceClientOrderId: view.client_order_id,
    binanceQuantity: view.quantity,
  };
}
