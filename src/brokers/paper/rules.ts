/**
 * The paper venue's static order rules: a quantity on the lot and at least the minimum, prices on the
 * tick (float noise such as 1.0845000000000001 is tolerated), a GTD not already past. Buying power is
 * the account's rule (`account.ts`). A refusal is the sentence the `rejected` status carries.
 */
import { isOnStep, snapToStep } from '../../common/decimal';
import type { PlacedOrderRequest } from '../../orders/model';
import type { Instrument } from './instruments';

const PLAIN = new Intl.NumberFormat('en-US', { useGrouping: false, maximumFractionDigits: 12 });

/** A number as people write it: no exponent, no float noise (0.000001, 1.0845). */
function plain(n: number): string {
  return PLAIN.format(n);
}

/** Why the venue refuses the order by its static rules, or undefined. */
export function staticRuleRefusal(
  request: PlacedOrderRequest,
  instrument: Instrument,
  now: number,
): string | undefined {
  const symbol = request.symbol;
  if (!isOnStep(request.quantity, instrument.lotSize))
    return `quantity ${plain(request.quantity)} is not a multiple of the lot size ${plain(instrument.lotSize)} for ${symbol}`;
  if (request.quantity < instrument.minQuantity)
    return `quantity ${plain(request.quantity)} is below the minimum ${plain(instrument.minQuantity)} for ${symbol}`;
  const type = request.order_type;
  if (type.type === 'trailing_stop') return PAPER_TRAILING_REASON;
  const prices: Array<[string, number]> =
    type.type === 'market'
      ? []
      : type.type === 'stop_limit'
        ? [
            ['stop price', type.stop_price],
            ['limit price', type.limit_price],
          ]
        : [[type.type === 'limit' ? 'limit price' : 'stop price', type.price]];
  for (const [what, p] of prices) {
    if (!isOnStep(p, instrument.tickSize)) {
      const below = snapToStep(p, instrument.tickSize, 'down');
      const above = snapToStep(p, instrument.tickSize, 'up');
      return `${what} ${plain(p)} is not a multiple of the tick size ${plain(instrument.tickSize)} for ${symbol} (nearest: ${plain(below)} or ${plain(above)})`;
    }
  }
  const tif = request.time_in_force;
  if (tif.type === 'GTD' && tif.expires_at <= now)
    return `expires_at ${new Date(tif.expires_at).toISOString()} is already past (now ${new Date(now).toISOString()})`;
  return undefined;
}

/** The paper venue keeps to the four plain types; a parent's trailing stop is emulated by the engine. */
export const PAPER_TRAILING_REASON = 'the paper venue has no trailing stop order of its own';
