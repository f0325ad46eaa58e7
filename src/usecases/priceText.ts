/**
 * Prices and quantities as the summaries write them (grouped by thousands, at the instrument's decimals), and the
 * notes built from nothing but them. Below describeOrder.ts and testOrder.ts, which both use it (describeOrder.ts
 * names the outcome type testOrder.ts defines, so testOrder.ts takes what it needs of the text from here). Pure.
 */
import type { OrderRequest } from '../orders/model';

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });

/**
 * 10000 → "10,000"; 0.5 → "0.5"; 1234567.891 → "1,234,567.891" (at most 10 decimals); from 1e21 on, where
 * grouped digits would run across the screen, JavaScript's exponent ("1e+300").
 */
export function formatQuantity(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1e21) return String(Number(n.toPrecision(15)));
  return NUMBER.format(Number(n.toPrecision(15)));
}

/**
 * A price at `precision` decimals (grouped by thousands), or as written when the precision is unknown; from 1e21 on,
 * as formatQuantity, JavaScript's exponent (a component's 1e308 was 309 digits across the headline).
 */
export function formatPrice(n: number, precision?: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (precision === undefined || Math.abs(n) >= 1e21) return formatQuantity(n);
  const p = Math.max(0, Math.min(precision, 10));
  return n.toLocaleString('en-US', { minimumFractionDigits: p, maximumFractionDigits: p });
}

/** Decimals a number is written with: 1.0845 → 4, 1e-7 → 7, 100 → 0 (at most 10). */
export function decimalsIn(n: number): number {
  if (!Number.isFinite(n)) return 0;
  let text = String(n);
  if (text.includes('e')) text = n.toFixed(10).replace(/0+$/, '');
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : Math.min(text.length - dot - 1, 10);
}

/** The most decimals among prices that lie on the instrument's grid (quotes, order prices, single fills). */
export function precisionOf(prices: readonly (number | null | undefined)[]): number | undefined {
  let best: number | undefined;
  for (const p of prices)
    if (typeof p === 'number' && Number.isFinite(p) && p > 0) best = Math.max(best ?? 0, decimalsIn(p));
  return best;
}

/**
 * A note for a stop (or stop-limit) whose stop price the market had already reached when it arrived: a buy stop at
 * or below the ask, a sell stop at or above the bid. The venues trigger such a stop at once (OANDA, Alpaca, IB, and
 * the paper venue as they do), so its fill is kept; without a word it read as a market order sent by mistake.
 * Undefined for any other order, and for a stop the market has not reached.
 */
export function stopAlreadyReachedNote(
  order: Pick<OrderRequest, 'side' | 'order_type'>,
  quote: { readonly bid: number; readonly ask: number },
): string | undefined {
  const t = order.order_type;
  if (t.type !== 'stop' && t.type !== 'stop_limit') return undefined;
  const stop = t.type === 'stop' ? t.price : t.stop_price;
  const buy = order.side === 'buy';
  const market = buy ? quote.ask : quote.bid;
  if (!Number.isFinite(market) || !(buy ? market >= stop : market <= stop)) return undefined;
  const precision = precisionOf([stop, quote.bid, quote.ask, ...(t.type === 'stop_limit' ? [t.limit_price] : [])]);
  const then =
    t.type === 'stop'
      ? 'it triggered at once, as a market order'
      : `it triggered at once, as a limit order at ${formatPrice(t.limit_price, precision)}`;
  return `the ${order.side} stop price ${formatPrice(stop, precision)} was already reached (market ${formatPrice(market, precision)}, the ${buy ? 'ask' : 'bid'}): ${then}, as at a real venue. A ${order.side} stop meant to wait for the market goes ${buy ? 'above the ask' : 'below the bid'}`;
}

/**
 * A note for an IOC or FOK order that ended cancelled with nothing filled, or (IOC) part of it: such an order takes
 * what it can the moment it arrives and is cancelled for the rest, so a limit away from the touch, or a stop the market
 * has not reached, ends CANCELLED at once. The outcome said only "CANCELLED (nothing filled)". `quote` is the touch the
 * order met on arrival, when known: the reason is named only where that quote shows it. Undefined for any other order.
 */
export function immediateUnfilledNote(
  order: Pick<OrderRequest, 'side' | 'order_type' | 'time_in_force' | 'quantity'>,
  quote: { readonly bid: number; readonly ask: number } | undefined,
  response: { readonly status: { readonly status: string }; readonly filled_quantity: number | null },
): string | undefined {
  const tif = order.time_in_force.type;
  if ((tif !== 'IOC' && tif !== 'FOK') || response.status.status !== 'cancelled') return undefined;
  const filled = response.filled_quantity ?? 0;
  const rest = 'a GTC or GTD order rests until the market comes to it';
  if (filled > 0)
    return `${formatQuantity(filled)} of ${formatQuantity(order.quantity)} filled at once and the other ${formatQuantity(order.quantity - filled)} were cancelled, as ${tif} does (${rest})`;
  const what =
    tif === 'IOC'
      ? 'an IOC order takes what it can the moment it arrives and is cancelled for the rest'
      : 'a FOK order fills whole the moment it arrives, or not at all';
  const t = order.order_type;
  const buy = order.side === 'buy';
  const touch = quote === undefined ? undefined : buy ? quote.ask : quote.bid;
  const touchName = buy ? 'ask' : 'bid';
  if (touch !== undefined && Number.isFinite(touch) && (t.type === 'stop' || t.type === 'stop_limit')) {
    const stop = t.type === 'stop' ? t.price : t.stop_price;
    if (buy ? touch < stop : touch > stop) {
      const precision = precisionOf([stop, quote?.bid, quote?.ask]);
      return `nothing filled: the ${order.side} stop ${formatPrice(stop, precision)} had not been reached when the order arrived (the ${touchName} was ${formatPrice(touch, precision)}), and ${what}; a stop meant to wait for the market is GTC or GTD`;
    }
  }
  if (
    touch !== undefined &&
    Number.isFinite(touch) &&
    t.type === 'limit' &&
    (buy ? touch > t.price : touch < t.price)
  ) {
    const precision = precisionOf([t.price, quote?.bid, quote?.ask]);
    return `nothing filled: the ${order.side} limit ${formatPrice(t.price, precision)} was ${buy ? 'below the ask' : 'above the bid'} ${formatPrice(touch, precision)} when the order arrived, and ${what}; ${rest}`;
  }
  return `nothing filled: ${what}, and nothing could fill when it arrived${tif === 'FOK' ? ' (not the whole quantity at its price)' : ''}`;
}
