/**
 * When a venue's quote is not its live price, and the rule that says so. The risk checks judge an order against the
 * quote (order value, buying power, the price collar) and a live confirmation shows it; a quote that is not the live
 * touch is flagged `Quote.delayed` (with `delayed_reason`, the venue's own terms), so both say so. A quote is flagged
 * when, and only when, one of these holds:
 *
 * - the venue labels it delayed: IB's delayed tick types (66/67), Alpaca's `delayed_sip` feed (15 minutes behind);
 * - the venue says the instrument cannot be traded at that price now: OANDA's `tradeable: false` (market closed or
 *   halted: the price is the last one before), a Binance symbol not TRADING (HALT, BREAK, END_OF_DAY, CANCEL_ONLY);
 * - the venue's own time of the quote is more than `STALE_QUOTE_AFTER_MS` older than our clock (Alpaca's latest quote
 *   `t`, OANDA's price `time`): the market closed, the instrument stopped quoting, or the feed stalled.
 *
 * A venue that gives no time of its bid and ask is read as live: IB's live ticks; Binance's 24hr ticker, whose
 * `closeTime` ends its statistics window and says nothing of when the book last changed.
 */
import type { Quote } from '../orders/model';

/** A quote whose venue time is this much older than our clock is not the live price (a minute: FX and listed equities requote within seconds while their market is open). */
export const STALE_QUOTE_AFTER_MS = 60_000;

/** The quote, flagged as not the live price for `reason`; a quote flagged already keeps its first reason. */
export function notLive(quote: Quote, reason: string): Quote {
  return quote.delayed === true ? quote : { ...quote, delayed: true, delayed_reason: reason };
}

/** The quote flagged when the venue's time of it (`quote.timestamp`) is older than `STALE_QUOTE_AFTER_MS` at `now`. */
export function flagIfStale(quote: Quote, venue: string, now: number): Quote {
  const age = now - quote.timestamp;
  if (!(age > STALE_QUOTE_AFTER_MS)) return quote;
  return notLive(
    quote,
    `${venue}'s latest quote for ${quote.symbol} is from ${new Date(quote.timestamp).toISOString()}, ${describeAge(age)} before it was read: stale (market closed, or no quotes since)`,
  );
}

function describeAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}
