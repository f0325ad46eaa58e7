/**
 * Queue position of resting limit orders (README, "The paper venue": the fill model). Each symbol has a
 * price-time book (`book/orderBook.ts`) holding our resting limit orders and, ahead of each, a
 * placeholder for the market's size that was at its price when it joined the level:
 *
 * - Joining: an order that rests (a limit that did not fill in full on arrival, a triggered stop-limit)
 *   queues behind the size shown at its price then: the touch size (`bid_size` for a buy at the bid,
 *   `ask_size` for a sell at the ask); nothing inside the spread (it is the new best price); behind the
 *   touch, the synthetic book's size there (the touch size without depth). Our own earlier orders at the
 *   price stay ahead of it (price-time priority), and the market's size already ahead of them counts once.
 * - Trades at the level (`trade`) consume the queue from the front: the market's size ahead first, then
 *   our orders in time order, which fill by what is left (partial fills). A trade through the level (a
 *   print below a buy's price, above a sell's) fills every order at that price in full. A print carries no
 *   aggressor side, so it counts for resting buys and sells alike.
 * - Assumption: cancels come from behind us, so nothing but trades shortens the queue ahead — except
 *   that a quote which reaches the order's price from the other side (an ask at or below a buy) means the
 *   level was taken: nothing is ahead any more, and the order fills from the quote as before.
 *
 * Sizes are whole lots and prices whole ticks inside the book. Each order's market size ahead is kept on
 * the order (`queueAhead`, saved with it) so a reloaded account queues exactly where it was.
 */
import { Buy, IOC, OrderBook, Sell, type BookSide } from './book/orderBook';
import { instrumentFor, instrumentKey, type Instrument } from './instruments';
import { units } from './money';
import type { LiveOrder } from './orders';

/** A fill the queue made: `lots` of `live` at its own price. */
export interface QueueFill {
  live: LiveOrder;
  lots: number;
}

/** The id no entry ever gets: the taker of every trade. */
const TAKER = 0;
const EVERYTHING = Number.MAX_SAFE_INTEGER;

class SymbolQueue {
  /** One book per side (index `BookSide`), so our own buys and sells never meet. */
  readonly books: [OrderBook, OrderBook];
  readonly tick: number;
  readonly lot: bigint;
  /** Book id → our order, or null for the market's size ahead (a placeholder). */
  private readonly entries: Array<LiveOrder | null | undefined> = [undefined];
  private readonly freeIds: number[] = [];
  /** Per level (`side:ticks`): the placeholders there and how many of our orders. */
  private readonly levels = new Map<string, { placeholders: Set<number>; ours: number }>();
  private readonly placeholderLevel = new Map<number, string>();
  private readonly fills: Array<[number, number]> = [];

  constructor(instrument: Instrument) {
    this.tick = instrument.tickSize;
    this.lot = units(instrument.lotSize);
    const onFill = (maker: number, _taker: number, _price: number, size: number): void =>
      void this.fills.push([maker, size]);
    this.books = [
      new OrderBook({ orderCapacity: 64, idCapacity: 64, onFill }),
      new OrderBook({ orderCapacity: 64, idCapacity: 64, onFill }),
    ];
  }

  ticks(price: number): number {
    return Math.round(price / this.tick);
  }

  lots(amount: bigint): number {
    return Number(amount / this.lot);
  }

  private level(side: BookSide, ticks: number): { placeholders: Set<number>; ours: number } {
    const key = `${side}:${ticks}`;
    let level = this.levels.get(key);
    if (!level) {
      level = { placeholders: new Set(), ours: 0 };
      this.levels.set(key, level);
    }
    return level;
  }

  private allocate(entry: LiveOrder | null): number {
    const id = this.freeIds.pop() ?? this.entries.length;
    this.entries[id] = entry;
    return id;
  }

  private release(id: number): void {
    this.entries[id] = undefined;
    this.freeIds.push(id);
  }

  /** Our order `live` joins the back of its level with `aheadLots` of the market's size ahead of it in all. */
  join(live: LiveOrder, side: BookSide, ticks: number, lots: number, aheadLots: number): number {
    const level = this.level(side, ticks);
    const book = this.books[side];
    let already = 0;
    for (const p of level.placeholders) already += book.remaining(p);
    const extra = aheadLots - already;
    if (extra > 0) {
      const p = this.allocate(null);
      book.limit(p, side, ticks, extra);
      level.placeholders.add(p);
      this.placeholderLevel.set(p, `${side}:${ticks}`);
    }
    const id = this.allocate(live);
    book.limit(id, side, ticks, lots);
    level.ours++;
    return id;
  }

  /** Our order `id` leaves its level; the market's size there goes once none of ours is left. */
  leave(id: number, side: BookSide, ticks: number): void {
    this.books[side].cancel(id);
    this.release(id);
    const key = `${side}:${ticks}`;
    const level = this.levels.get(key);
    if (!level || --level.ours > 0) return;
    this.dropPlaceholders(side, level.placeholders);
    this.levels.delete(key);
  }

  private dropPlaceholders(side: BookSide, placeholders: Set<number>): void {
    for (const p of placeholders) {
      this.books[side].cancel(p);
      this.placeholderLevel.delete(p);
      this.release(p);
    }
    placeholders.clear();
  }

  /** The level was taken (the quote reached it from the other side): nothing of the market's is ahead any more. */
  clearAhead(side: BookSide, ticks: number): void {
    const level = this.levels.get(`${side}:${ticks}`);
    if (level) this.dropPlaceholders(side, level.placeholders);
  }

  /** A print of `lots` at `ticks`: through-fills on both sides, then the queue at the price. */
  trade(ticks: number, lots: number, out: QueueFill[]): Set<string> {
    const touched = new Set<string>();
    for (const side of [Buy, Sell] as const) {
      const book = this.books[side];
      if (book.size === 0) continue;
      const taker: BookSide = side === Buy ? Sell : Buy;
      const through = side === Buy ? ticks + 1 : ticks - 1;
      book.limit(TAKER, taker, through, EVERYTHING, IOC);
      if (lots > 0) book.limit(TAKER, taker, ticks, lots, IOC);
      if (this.fills.length === 0) continue;
      for (const [id, size] of this.fills) {
        const entry = this.entries[id];
        if (entry) out.push({ live: entry, lots: size });
        else if (!book.has(id)) {
          // A placeholder used up: forget it.
          const key = this.placeholderLevel.get(id);
          if (key !== undefined) this.levels.get(key)?.placeholders.delete(id);
          this.placeholderLevel.delete(id);
          this.release(id);
        }
      }
      this.fills.length = 0;
      touched.add(`${side}:${ticks}`);
    }
    return touched;
  }

  /** The market's size ahead of each of our orders at a level, in lots (oldest first). */
  aheadAt(side: BookSide, ticks: number, visit: (live: LiveOrder, aheadLots: number) => void): void {
    let ahead = 0;
    this.books[side].forEachAt(side, ticks, (id, size) => {
      const entry = this.entries[id];
      if (entry) visit(entry, ahead);
      else ahead += size;
    });
  }

  get empty(): boolean {
    return this.books[Buy].size === 0 && this.books[Sell].size === 0;
  }

  reduce(id: number, side: BookSide, lots: number): void {
    this.books[side].reduce(id, lots);
  }
}

interface Place {
  symbol: string;
  side: BookSide;
  ticks: number;
  id: number;
}

export class QueueBook {
  private readonly symbols = new Map<string, SymbolQueue>();
  /** Our queued orders by order id. */
  private readonly places = new Map<string, Place>();

  clear(): void {
    this.symbols.clear();
    this.places.clear();
  }

  isQueued(live: LiveOrder): boolean {
    return this.places.has(live.response.order_id);
  }

  /**
   * `live` (resting at `price`, `remaining` left) joins its level behind `ahead` of the market's size
   * (money units), recorded on the order as `queueAhead`.
   */
  join(live: LiveOrder, price: number, remaining: bigint, ahead: bigint, at: number): void {
    const q = this.queueOf(live.request.symbol);
    const side = live.request.side === 'buy' ? Buy : Sell;
    const ticks = q.ticks(price);
    const aheadLots = q.lots(ahead);
    const id = q.join(live, side, ticks, q.lots(remaining), aheadLots);
    this.places.set(live.response.order_id, { symbol: instrumentKey(live.request.symbol), side, ticks, id });
    live.queuedAt = at;
    // The market's size ahead of it counts what was ahead of our earlier orders at the price once.
    q.aheadAt(side, ticks, (o, lots) => {
      if (o === live) live.queueAhead = (BigInt(lots) * q.lot).toString();
    });
  }

  /** The order no longer rests (filled, cancelled, expired). */
  leave(live: LiveOrder): void {
    const place = this.places.get(live.response.order_id);
    if (!place) return;
    this.places.delete(live.response.order_id);
    const q = this.symbols.get(place.symbol);
    if (!q) return;
    q.leave(place.id, place.side, place.ticks);
    if (q.empty) this.symbols.delete(place.symbol);
  }

  /** A fill made from the quote: the order keeps its place with less left. */
  reduce(live: LiveOrder, quantity: bigint): void {
    const place = this.places.get(live.response.order_id);
    const q = place && this.symbols.get(place.symbol);
    if (place && q) q.reduce(place.id, place.side, q.lots(quantity));
  }

  /** The quote reached the order's level from the other side: the market's size there is gone. Returns the orders whose queue changed. */
  levelTaken(live: LiveOrder): LiveOrder[] {
    const place = this.places.get(live.response.order_id);
    const q = place && this.symbols.get(place.symbol);
    if (!place || !q) return [];
    q.clearAhead(place.side, place.ticks);
    return this.record(q, place.side, place.ticks);
  }

  /**
   * A print of `quantity` (money units) at `price`: the fills it makes, oldest order first within a
   * level; `changed` gets every order whose queue moved.
   */
  trade(symbol: string, price: number, quantity: bigint, changed: Set<LiveOrder>): QueueFill[] {
    const q = this.symbols.get(instrumentKey(symbol));
    if (!q) return [];
    const out: QueueFill[] = [];
    const ticks = q.ticks(price);
    for (const key of q.trade(ticks, q.lots(quantity), out)) {
      const [side, at] = key.split(':').map(Number) as [BookSide, number];
      for (const o of this.record(q, side, at)) changed.add(o);
    }
    return out;
  }

  /** Puts a restored order back where it was (its saved `queueAhead`); orders must come oldest first. */
  restore(live: LiveOrder, price: number, remaining: bigint): void {
    const q = this.queueOf(live.request.symbol);
    const side = live.request.side === 'buy' ? Buy : Sell;
    const ticks = q.ticks(price);
    const id = q.join(live, side, ticks, q.lots(remaining), q.lots(BigInt(live.queueAhead ?? '0')));
    this.places.set(live.response.order_id, { symbol: instrumentKey(live.request.symbol), side, ticks, id });
  }

  /** Writes each order's market size ahead at a level onto it; returns those that changed. */
  private record(q: SymbolQueue, side: BookSide, ticks: number): LiveOrder[] {
    const changed: LiveOrder[] = [];
    q.aheadAt(side, ticks, (o, lots) => {
      const ahead = (BigInt(lots) * q.lot).toString();
      if (o.queueAhead !== ahead) {
        o.queueAhead = ahead;
        changed.push(o);
      }
    });
    return changed;
  }

  private queueOf(symbol: string): SymbolQueue {
    const key = instrumentKey(symbol);
    let q = this.symbols.get(key);
    if (!q) {
      q = new SymbolQueue(instrumentFor(symbol));
      this.symbols.set(key, q);
    }
    return q;
  }
}
