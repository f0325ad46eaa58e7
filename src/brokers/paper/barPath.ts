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

/** The bar's four prints in the order they are taken to have traded (the nearer extreme first; the high on a tie). */
export function barPath({ open, high, low, close }: BarPrices): [number, number, number, number] {
  return open - low < high - open ? [open, low, high, close] : [open, high, low, close];
}

/** The touch along a bar's path, from the bar's recorded quote (at its close). */
export class BarTouch {
  private readonly spreadTicks: number;
  /** How far the bid sits below the traded price, in ticks (half the spread, rounded as the data rounds it). */
  private readonly belowTicks: number;

  constructor(
    private readonly closeQuote: Quote,
    close: number,
    private readonly tick: number,
  ) {
    this.spreadTicks = Math.max(0, Math.round((closeQuote.ask - closeQuote.bid) / tick));
    // A quote that does not straddle the close (a hand-set one) keeps its spread, its bid no further off than that.
    this.belowTicks = Math.min(this.spreadTicks, Math.max(0, Math.round((close - closeQuote.bid) / tick)));
  }

  /** The quote when the bar trades at `price`. */
  at(price: number): Quote {
    return this.withBid(price - this.belowTicks * this.tick, price);
  }

  /** The quote whose bid is `bid` (a sell stop triggering there); `last` the price traded then. */
  withBid(bid: number, last = bid + this.belowTicks * this.tick): Quote {
    const b = Math.max(this.tick, snapToStep(bid, this.tick));
    return {
      ...this.closeQuote,
      bid: b,
      ask: snapToStep(b + this.spreadTicks * this.tick, this.tick),
      last: snapToStep(last, this.tick),
    };
  }

  /** The quote whose ask is `ask` (a buy stop triggering there). */
  withAsk(ask: number): Quote {
    return this.withBid(ask - this.spreadTicks * this.tick);
  }
}
