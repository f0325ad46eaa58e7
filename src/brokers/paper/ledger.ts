/**
 * The paper account's books, in scaled integers (10^-10 units, see `common/decimal.ts`) so that no
 * sequence of trades can drift: cash per currency, positions as signed quantity with an average
 * price, and realized profit and loss per currency.
 */
import { divMoney, divRound, mulMoney } from '../../common/decimal';
import { instrumentKey } from './instruments';

export interface PositionBook {
  /** The spelling of the first order that opened it. */
  symbol: string;
  /** Positive long, negative short. */
  quantity: bigint;
  /** `cost / |quantity|`, rounded to the money scale: what the position shows. */
  averagePrice: bigint;
  /**
   * What the open quantity cost (≥ 0), exact: P&L is counted from it, not from the rounded average (bought 1,000 at
   * 1.08001 and 2,000 at 1.08002, all sold at 1.08003, realized 0.0399999 through the average 1.0800166667).
   */
  cost: bigint;
}

export interface LedgerFill {
  symbol: string;
  quoteCurrency: string;
  side: 'buy' | 'sell';
  price: bigint;
  quantity: bigint;
  /** In the quote currency, already rounded to its cents. */
  commission: bigint;
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);
const sign = (n: bigint): bigint => (n < 0n ? -1n : 1n);

export class Ledger {
  /** Cash by currency. A quote currency may go negative: the venue lends it, converting at the mid. */
  readonly cash = new Map<string, bigint>();
  /** By `instrumentKey`, so EUR_USD and EURUSD are one position. Flat positions are removed. */
  readonly positions = new Map<string, PositionBook>();
  /** Realized profit and loss by quote currency, before commission. */
  readonly realized = new Map<string, bigint>();

  cashIn(currency: string): bigint {
    return this.cash.get(currency) ?? 0n;
  }

  addCash(currency: string, amount: bigint): void {
    this.cash.set(currency, this.cashIn(currency) + amount);
  }

  position(symbol: string): PositionBook | undefined {
    return this.positions.get(instrumentKey(symbol));
  }

  /** Books one fill: pays or receives the notional and the commission, moves the position. Returns the P&L it realized. */
  apply(fill: LedgerFill): bigint {
    const delta = fill.side === 'buy' ? fill.quantity : -fill.quantity;
    this.addCash(fill.quoteCurrency, -mulMoney(fill.price, delta) - fill.commission);
    const key = instrumentKey(fill.symbol);
    const book = this.positions.get(key) ?? { symbol: fill.symbol, quantity: 0n, averagePrice: 0n, cost: 0n };
    const before = book.quantity;
    const after = before + delta;
    let realized = 0n;
    if (before === 0n || sign(before) === sign(delta)) {
      // Opening or adding: the cost grows by this fill's notional.
      book.cost += mulMoney(fill.price, abs(delta));
    } else {
      // Reducing: the closed part realizes its proceeds less its share of the cost (all of it when the position
      // closes, so a round trip realizes exactly what it made); a flip opens the rest at this price.
      const closed = abs(delta) < abs(before) ? abs(delta) : abs(before);
      const closedCost = closed === abs(before) ? book.cost : divRound(book.cost * closed, abs(before));
      realized = (mulMoney(fill.price, closed) - closedCost) * sign(before);
      book.cost -= closedCost;
      if (after !== 0n && sign(after) !== sign(before)) book.cost = mulMoney(fill.price, abs(after));
    }
    if (after !== 0n) book.averagePrice = divMoney(book.cost, abs(after));
    book.quantity = after;
    if (after === 0n) this.positions.delete(key);
    else this.positions.set(key, book);
    if (realized !== 0n)
      this.realized.set(fill.quoteCurrency, (this.realized.get(fill.quoteCurrency) ?? 0n) + realized);
    return realized;
  }
}
