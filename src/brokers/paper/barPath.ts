/**
 * A bar of recorded data as the market moved through it (README, "Fills of resting limit orders: queue
 * position", candles): four prints — the open, the extreme nearer to it, the other extreme, the close —
 * joined by straight runs (NautilusTrader's bar execution; Backtrader and LEAN likewise trigger stops on a
 * bar's high or low and fill a gap at the open).
 *
 * The touch moves with the prints: a bar's recorded quote is its close with the data's spread around it
 * (`replayFeed.ts`), so the touch at a print is that quote shifted by the print's distance from the close,
 * the same spread on the same side. Along a run it passes through every price between, which is where a
 * stop on the way triggers: a sell stop when the bid reaches its price, a buy stop when the ask does, as
 * stops trigger on quotes (`matching.ts`).
 */
import { snapToStep } from '../../common/decimal';
import type { Quote } from '../../orders/model';

/** A bar's prices, as `PaperBroker.recordCandle` takes them. */
export interface BarPrices {
  open: number;
  high: number;
  low: number;
  close: number;
}

/**
 * The bar's four prints in the order they are taken to have traded (the nearer extreme first; the high on a tie).
 * The distances are compared in whole ticks: in floats a tie is noise (1.0815 − 1.081 < 1.082 − 1.0815).
 */
export function barPath({ open, high, low, close }: BarPrices, tick: number): [number, number, number, number] {
  const below = Math.round((open - low) / tick);
  const above = Math.round((high - open) / tick);
  return below < above ? [open, low, high, close] : [open, high, low, close];
}

/** The touch along a bar's path, from the bar's recorded quote (at its close). Prices are counted in whole ticks. */
export class BarTouch {
  private readonly spreadTicks: number;
  /** How far the bid sits below the traded price, in ticks (half the spread, rounded as the data rounds it). */
  private readonly belowTicks: number;
  /** Ticks per unit when the tick divides one (0.00001, 0.01, 0.25): a count of ticks over it is the exact price. */
  private readonly perUnit: number | undefined;

  constructor(
    private readonly closeQuote: Quote,
    close: number,
    private readonly tick: number,
  ) {
    const perUnit = Math.round(1 / tick);
    this.perUnit = Math.abs(perUnit * tick - 1) < 1e-12 ? perUnit : undefined;
    this.spreadTicks = Math.max(0, this.ticks(closeQuote.ask) - this.ticks(closeQuote.bid));
    // A quote that does not straddle the close (a hand-set one) keeps its spread, its bid no further off than that.
    this.belowTicks = Math.min(this.spreadTicks, Math.max(0, this.ticks(close) - this.ticks(closeQuote.bid)));
  }

  /** The bid when the bar trades at `price`. */
  bidAt(price: number): number {
    return this.price(Math.max(1, this.ticks(price) - this.belowTicks));
  }

  /** The ask when the bar trades at `price`. */
  askAt(price: number): number {
    return this.price(Math.max(1, this.ticks(price) - this.belowTicks) + this.spreadTicks);
  }

  /** The quote when the bar trades at `price`. */
  at(price: number): Quote {
    return this.quote(this.ticks(price) - this.belowTicks, price);
  }

  /** The quote whose bid is `bid` (a sell stop triggering there). */
  withBid(bid: number): Quote {
    const b = this.ticks(bid);
    return this.quote(b, this.price(b + this.belowTicks));
  }

  /** The quote whose ask is `ask` (a buy stop triggering there). */
  withAsk(ask: number): Quote {
    const b = this.ticks(ask) - this.spreadTicks;
    return this.quote(b, this.price(b + this.belowTicks));
  }

  private quote(bidTicks: number, last: number): Quote {
    const b = Math.max(1, bidTicks);
    return { ...this.closeQuote, bid: this.price(b), ask: this.price(b + this.spreadTicks), last };
  }

  private ticks(price: number): number {
    return Math.round(price / this.tick);
  }

  private price(ticks: number): number {
    return this.perUnit !== undefined ? ticks / this.perUnit : snapToStep(ticks * this.tick, this.tick);
  }
}
