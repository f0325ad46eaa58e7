/** Fitting an order to a venue's trading rules (lot, minimum, tick), before risk checks and sending. */
import { snapToStep } from '../common/decimal';
import type { InstrumentRules, OrderRequest } from '../orders/model';

/** What keeps an order off the instrument's grid: said, with the order field and the value it is about. */
export interface FitProblem {
  error: string;
  field: 'quantity' | 'price' | 'stop_price' | 'limit_price';
  value: number;
}

/**
 * Quantities are cut down to the lot (never rounded up: that would trade more than asked) and
 * prices moved onto the tick in the direction that never makes the order more aggressive.
 */
export function fitToInstrument(
  order: OrderRequest,
  instrument: InstrumentRules,
  notes: string[],
): { order: OrderRequest } | FitProblem {
  const quantity = snapToStep(order.quantity, instrument.lotSize, 'down');
  if (!Number.isFinite(quantity))
    return {
      error: `quantity ${order.quantity} is too large to count in ${instrument.symbol}'s lot size ${instrument.lotSize}; check what computes it`,
      field: 'quantity',
      value: order.quantity,
    };
  if (quantity < instrument.minQuantity || quantity <= 0) {
    return {
      error: `quantity ${order.quantity} is below ${instrument.symbol}'s minimum of ${Math.max(instrument.minQuantity, instrument.lotSize)} (lot size ${instrument.lotSize}); increase the size the component computes`,
      field: 'quantity',
      value: order.quantity,
    };
  }
  if (quantity !== order.quantity)
    notes.push(`quantity ${order.quantity} was cut to ${quantity} to fit the lot size ${instrument.lotSize}`);
  const buy = order.side === 'buy';
  // A price no tick can hold: 1e308 became Infinity ("limit price must be a number"), 1e-320 became 0 ("must be
  // greater than zero"), each said as the engine's denial of a price the component never gave.
  let offGrid: FitProblem | undefined;
  const snap = (
    price: number,
    passiveDown: boolean,
    label: string,
    field: 'price' | 'stop_price' | 'limit_price',
  ): number => {
    const snapped = snapToStep(price, instrument.tickSize, passiveDown ? 'down' : 'up');
    if (offGrid === undefined && (!Number.isFinite(snapped) || snapped <= 0))
      offGrid = {
        error: `${label} ${price} ${Number.isFinite(snapped) ? 'is less than' : 'is too large for'} ${instrument.symbol}'s tick size ${instrument.tickSize}; check what computes it`,
        field,
        value: price,
      };
    if (snapped !== price && Math.abs(snapped - price) > instrument.tickSize * 1e-6)
      notes.push(`${label} ${price} was moved to ${snapped} to fit the tick size ${instrument.tickSize}`);
    return snapped;
  };
  let orderType = order.order_type;
  switch (orderType.type) {
    case 'limit': {
      const price = snap(orderType.price, buy, 'limit price', 'price');
      if (price !== orderType.price) orderType = { type: 'limit', price };
      break;
    }
    case 'stop': {
      const price = snap(orderType.price, !buy, 'stop price', 'stop_price');
      if (price !== orderType.price) orderType = { type: 'stop', price };
      break;
    }
    case 'stop_limit': {
      const stop = snap(orderType.stop_price, !buy, 'stop price', 'stop_price');
      const limit = snap(orderType.limit_price, buy, 'limit price', 'limit_price');
      if (stop !== orderType.stop_price || limit !== orderType.limit_price)
        orderType = { type: 'stop_limit', stop_price: stop, limit_price: limit };
      break;
    }
    case 'trailing_stop':
      // A wider trail, never a tighter one than asked: the distance is rounded up to the tick.
      if (orderType.trail_offset !== undefined) {
        const offset = snapToStep(orderType.trail_offset, instrument.tickSize, 'up');
        if (offset !== orderType.trail_offset) orderType = { type: 'trailing_stop', trail_offset: offset };
      }
      break;
    case 'market':
      break;
  }
  if (offGrid !== undefined) return offGrid;
  // Already on the grid: the order itself (a normalised order stays the one validated, issue 13).
  if (quantity === order.quantity && orderType === order.order_type) return { order };
  return { order: { ...order, quantity, order_type: orderType } };
}
