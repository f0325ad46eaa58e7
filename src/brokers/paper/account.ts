/**
 * The paper account's money: the books (`ledger.ts`: cash per currency, positions, realized P&L) and
 * what they are worth at the market — balance, equity, buying power, positions marked at the mid —
 * plus the buying power each symbol's open orders hold.
 *
 * - Balance = cash in every currency converted to the account currency at the mid (USDT and USDC
 *   count 1:1 as USD); equity = balance + positions marked at the mid.
 * - Buying power (1× leverage) = equity − |value of every position| − the notional by which
 *   resting orders would grow a position. Shorts are allowed and reserve their notional.
 */
import type { Clock } from '../../common/clock';
import { ChurnMap, ChurnSet } from '../../common/churn';
import { divMoney, divRound, fromMoney, mulMoney, roundMoney } from '../../common/decimal';
import type { Position, Quote } from '../../orders/model';
import type { QuoteSource } from './feed';
import { currencyDecimals, instrumentFor, instrumentKey, isPreset, sameMoney, type Instrument } from './instruments';
import { Ledger, type LedgerFill, type PositionBook } from './ledger';
import { units } from './money';
import type { LiveOrder } from './orders';
import type { PaperState } from './state';

/** Where the venue's quotes come from; one holder shared by the account and the matching engine, as a restored account may bring its own seed. */
export interface Market {
  quotes: QuoteSource;
}

export interface Valuation {
  balance: bigint;
  equity: bigint;
  buyingPower: bigint;
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

/** Up to this many symbols keep their set of open orders when it empties (see `untrackOpen`). */
const KEEP_EMPTY_SYMBOLS = 64;

interface Mark {
  quantity: bigint;
  cost: bigint;
  mid: bigint;
  value: bigint;
  row: Position;
}

export class PaperAccount {
  ledger = new Ledger();
  /** The last mid computed per symbol, with the touch it came from (valuations ask for it per position). */
  private mids = new Map<string, { bid: number; ask: number; mid: bigint }>();
  /** Open orders by `instrumentKey`, and the buying power each symbol's orders hold (see `reservedIn`). */
  private readonly openBySymbol = new Map<string, ChurnSet<LiveOrder>>();
  /** How many orders `openBySymbol` holds in all: a valuation skips it when none (an order that fills at once). */
  private openCount = 0;
  private readonly reserveCache = new ChurnMap<string, bigint>();
  /**
   * Each position as last marked: its value and its row, kept while its quantity, average price and mid
   * stay the same (every order asks for the account, and most orders move one position at most).
   * Only positions quoted in the account's currency are kept; a conversion moves with another pair's mid.
   */
  private readonly marks = new WeakMap<PositionBook, Mark>();
  /**
   * The marks the last valuation summed, and their sums: a valuation adds only what changed since (most
   * orders move one position, and BigInt sums over every position were a fifth of what a paper order
   * allocated). Exact, as every term is an integer; a position that goes flat leaves the sums in `book`.
   */
  private readonly counted = new Map<PositionBook, Mark>();
  private countedValue = 0n;
  private countedGross = 0n;

  constructor(
    private readonly market: Market,
    private readonly clock: Clock,
    private readonly startingCash: number,
    public accountId: string,
    public currency: string,
  ) {
    this.reset();
  }

  /** Starting cash, no positions, no orders held. */
  reset(): void {
    this.ledger = new Ledger();
    this.ledger.addCash(this.currency, units(this.startingCash));
    this.openBySymbol.clear();
    this.openCount = 0;
    this.reserveCache.clear();
    this.counted.clear();
    this.countedValue = 0n;
    this.countedGross = 0n;
  }

  /** The saved books back in memory (after `reset`). */
  restore(state: PaperState): void {
    this.reset();
    this.accountId = state.accountId;
    this.currency = state.currency;
    this.ledger.cash.clear();
    for (const [c, u] of Object.entries(state.cash)) this.ledger.cash.set(c, BigInt(u));
    for (const [c, u] of Object.entries(state.realized)) this.ledger.realized.set(c, BigInt(u));
    for (const p of state.positions) {
      const quantity = BigInt(p.quantity);
      const averagePrice = BigInt(p.averagePrice);
      // A file written before the cost was kept: the average's.
      const cost = p.cost === undefined ? mulMoney(averagePrice, abs(quantity)) : BigInt(p.cost);
      this.ledger.positions.set(instrumentKey(p.symbol), { symbol: p.symbol, quantity, averagePrice, cost });
    }
  }

  /** Books a fill; every open order of its symbol may now add more or less exposure. */
  book(fill: LedgerFill): void {
    const before = this.ledger.position(fill.symbol);
    this.ledger.apply(fill);
    this.reserveCache.delete(instrumentKey(fill.symbol));
    if (before !== undefined && this.ledger.position(fill.symbol) !== before) this.uncount(before);
  }

  /** Refusal of an order that would need more buying power than there is, else undefined. */
  /** `quote`: the order's quote at `now`, when the caller has it. */
  buyingPowerRefusal(live: LiveOrder, instrument: Instrument, now: number, quote?: Quote): string | undefined {
    const added = this.addedExposure(live, instrument, now, quote);
    if (added <= 0n) return undefined;
    const available = this.valuation().buyingPower;
    if (added <= available) return undefined;
    const decimals = currencyDecimals(this.currency);
    const show = (amount: bigint) => fromMoney(roundMoney(amount, decimals)).toFixed(decimals);
    return `insufficient buying power: the order needs ${show(added)} ${this.currency} and ${show(available)} ${this.currency} is available (1× leverage)`;
  }

  /**
   * Notional (account currency) by which an order would grow its position if it filled in full
   * now, priced at its limit or stop, or at the touch for a market order. Reducing orders add none.
   */
  private addedExposure(live: LiveOrder, instrument: Instrument, now: number, known?: Quote): bigint {
    const request = live.request;
    const position = this.ledger.position(request.symbol)?.quantity ?? 0n;
    const remaining = units(request.quantity) - units(live.response.filled_quantity ?? 0);
    const after = position + (request.side === 'buy' ? remaining : -remaining);
    const grows = abs(after) - abs(position);
    if (grows <= 0n) return 0n;
    const type = request.order_type;
    let price: number;
    if (type.type === 'limit') price = type.price;
    else if (type.type === 'stop') price = type.price;
    else if (type.type === 'stop_limit') price = type.limit_price;
    else {
      const quote = known ?? this.market.quotes.quote(request.symbol, now);
      price = request.side === 'buy' ? quote.ask : quote.bid;
    }
    return this.toAccount(mulMoney(units(price), grows), instrument.quoteCurrency, now);
  }

  // --- buying power held by open orders ---

  trackOpen(live: LiveOrder, now: number): void {
    const key = instrumentKey(live.request.symbol);
    let orders = this.openBySymbol.get(key);
    if (!orders) {
      orders = new ChurnSet();
      this.openBySymbol.set(key, orders);
    }
    if (!orders.has(live)) this.openCount++;
    orders.add(live);
    // One more order against an unchanged position: its own term is all that changes.
    const cached = this.reserveCache.get(key);
    if (cached !== undefined) {
      if (live.request.order_type.type === 'market') this.reserveCache.delete(key);
      else this.reserveCache.set(key, cached + this.addedExposure(live, instrumentFor(live.request.symbol), now));
    }
  }

  untrackOpen(live: LiveOrder): void {
    const key = instrumentKey(live.request.symbol);
    const orders = this.openBySymbol.get(key);
    if (!orders?.delete(live)) return;
    this.openCount--;
    // An empty set is kept while few symbols are tracked: an order that fills at once (the common case)
    // would otherwise make and drop one per order. Valuations skip empty sets.
    if (orders.size === 0 && this.openBySymbol.size > KEEP_EMPTY_SYMBOLS) this.openBySymbol.delete(key);
    this.reserveCache.delete(key);
  }

  /**
   * What a symbol's open orders hold of buying power: remembered while the position and the orders
   * stay as they are, so that placing many resting orders costs each one its own term, not a pass over
   * all of them. Not remembered when the amount moves with the market: a market order waiting to
   * arrive (priced at the touch) or a quote currency other than the account's (converted at the mid).
   */
  private reservedIn(key: string, orders: ChurnSet<LiveOrder>, now: number): bigint {
    const cached = this.reserveCache.get(key);
    if (cached !== undefined) return cached;
    let sum = 0n;
    let moves = false;
    orders.forEach((o) => {
      const instrument = instrumentFor(o.request.symbol);
      sum += this.addedExposure(o, instrument, now);
      if (o.request.order_type.type === 'market' || !sameMoney(instrument.quoteCurrency, this.currency)) moves = true;
    });
    if (!moves) this.reserveCache.set(key, sum);
    return sum;
  }

  // --- valuation ---

  /**
   * The account at the market at `now` (the clock's, by default): one time for every mark. `rows`, when given, receives
   * each position marked (as `positionList`), from the same marks.
   */
  valuation(rows?: Position[], now = this.clock.now()): Valuation {
    let balance = 0n;
    for (const [currency, amount] of this.ledger.cash) balance += this.toAccount(amount, currency, now);
    for (const p of this.ledger.positions.values()) {
      const mark = this.mark(p, now);
      const known = this.counted.get(p);
      if (known !== mark) {
        // The old mark's terms out of the sums, the new one set in its place (not deleted and added again: that
        // churned the map's table on every order, see src/common/churn.ts).
        if (known !== undefined) {
          this.countedValue -= known.value;
          this.countedGross -= abs(known.value);
        }
        this.countedValue += mark.value;
        this.countedGross += abs(mark.value);
        this.counted.set(p, mark);
      }
      rows?.push(mark.row);
    }
    const value = this.countedValue;
    const gross = this.countedGross;
    let reserved = 0n;
    if (this.openCount > 0)
      for (const [key, orders] of this.openBySymbol) if (orders.size > 0) reserved += this.reservedIn(key, orders, now);
    const equity = balance + value;
    return { balance, equity, buyingPower: equity - gross - reserved };
  }

  /** Takes a position's last counted mark out of the valuation's sums. */
  private uncount(p: PositionBook): void {
    const known = this.counted.get(p);
    if (known === undefined) return;
    this.countedValue -= known.value;
    this.countedGross -= abs(known.value);
    this.counted.delete(p);
  }

  /** The mid at `now`, exact in money units. */
  private mid(symbol: string, now: number): bigint {
    const q = this.market.quotes.quote(symbol, now);
    const last = this.mids.get(symbol);
    if (last !== undefined && last.bid === q.bid && last.ask === q.ask) return last.mid;
    const mid = divRound(units(q.bid) + units(q.ask), 2n);
    // A new map, not `clear()`: that links the old table to the new one (src/common/churn.ts).
    if (this.mids.size >= 4096) this.mids = new Map();
    this.mids.set(symbol, { bid: q.bid, ask: q.ask, mid });
    return mid;
  }

  /**
   * An amount in `currency` in the account currency, at the mid of a preset pair that links them
   * (EUR_USD, USD_JPY, BTCUSDT…). A currency no preset links (only possible for inferred symbols)
   * counts 1:1, as the paper venue has no price for it.
   */
  private toAccount(amount: bigint, currency: string, now: number): bigint {
    if (amount === 0n || sameMoney(currency, this.currency)) return amount;
    const account = this.currency;
    const dollars = sameMoney(account, 'USD');
    for (const [pair, inverse] of [
      [`${currency}${account}`, false],
      [`${account}${currency}`, true],
      ...(dollars
        ? ([
            [`${currency}USD`, false],
            [`USD${currency}`, true],
            [`${currency}USDT`, false],
          ] as const)
        : []),
    ] as const) {
      if (!isPreset(pair)) continue;
      const rate = this.mid(pair, now);
      return inverse ? divMoney(amount, rate) : mulMoney(amount, rate);
    }
    return amount;
  }

  positionList(): Position[] {
    const rows: Position[] = [];
    const now = this.clock.now();
    for (const p of this.ledger.positions.values()) rows.push(this.mark(p, now).row);
    return rows;
  }

  /** A position marked at its mid: value and row (account currency), from `marks` while nothing moved. */
  private mark(p: PositionBook, now: number): Mark {
    const mid = this.mid(p.symbol, now);
    const known = this.marks.get(p);
    if (known !== undefined && known.mid === mid && known.quantity === p.quantity && known.cost === p.cost)
      return known;
    const quoteCurrency = instrumentFor(p.symbol).quoteCurrency;
    // From the exact cost, not the rounded average (see `PositionBook.cost`).
    const value = mulMoney(p.quantity, mid);
    const unrealized = p.quantity > 0n ? value - p.cost : value + p.cost;
    const mark: Mark = {
      quantity: p.quantity,
      cost: p.cost,
      mid,
      value: this.toAccount(value, quoteCurrency, now),
      // Frozen: `positionList` hands the same row out until the position or its mid moves.
      row: Object.freeze({
        symbol: p.symbol,
        quantity: fromMoney(p.quantity),
        average_price: fromMoney(p.averagePrice),
        current_price: fromMoney(mid),
        unrealized_pnl: fromMoney(this.toAccount(unrealized, quoteCurrency, now)),
      }),
    };
    if (sameMoney(quoteCurrency, this.currency)) this.marks.set(p, mark);
    return mark;
  }

  /**
   * Whether buying power stays what it is whatever the quotes do, while nothing trades: no open order, cash in the
   * account currency only, and every position long. Buying power is equity less gross exposure less what open orders
   * hold; with every position long (its value positive at any mid) the first two differ by the cash alone.
   */
  buyingPowerFixed(): boolean {
    if (this.openCount > 0) return false;
    for (const [currency, amount] of this.ledger.cash)
      if (amount !== 0n && !sameMoney(currency, this.currency)) return false;
    for (const p of this.ledger.positions.values()) if (p.quantity <= 0n) return false;
    return true;
  }

  /** Cash held in each currency, exact (a quote currency may be negative: the venue lends it). */
  cashBalances(): Record<string, number> {
    return Object.fromEntries([...this.ledger.cash].map(([ccy, amount]) => [ccy, fromMoney(amount)]));
  }

  /** Realized profit and loss by quote currency, before commission. */
  realizedPnl(): Record<string, number> {
    return Object.fromEntries([...this.ledger.realized].map(([ccy, amount]) => [ccy, fromMoney(amount)]));
  }
}
