/**
 * The paper venue's matching engine: when an order reaches the market (latency), whether it is
 * refused, triggered, marketable or resting, and what it fills at (the table in `paperBroker.ts` and
 * README). It owns the resting index (which open orders a quote can act on) and the liquidity taken
 * from each quote; it changes orders through `PaperOrders` and money through `PaperAccount`, and hands
 * each update to `publish` (the venue delivers them once the change is saved).
 *
 * Past 450 lines on purpose: walking a recorded bar (`candle`, `crossStops`) triggers and fills orders through
 * the same private steps as a quote does (`match`, `reindex`, the queue), at the bar's point in place of its
 * quote (`quoteOf`); split off, each of those steps would have to be exposed. The path's pure parts (the order
 * of the prints, the touch at each) are `barPath.ts`.
 */
import type { Clock } from '../../common/clock';
import { divMoney, fromMoney, mulMoney, roundMoney, snapToStep } from '../../common/decimal';
import {
  keepableOrderRequest,
  isFinalStatus,
  type Fill,
  type OrderStatus,
  type PlacedOrderRequest,
  type Quote,
} from '../../orders/model';
import type { Market, PaperAccount } from './account';
import type { FeeModel, LatencyModel, Liquidity } from './costs';
import { barPath, BarTouch, type BarPrices } from './barPath';
import { bookFor, TakenLiquidity, type DepthOptions, type Level } from './depth';
import { currencyDecimals, instrumentFor, instrumentKey, type Instrument } from './instruments';
import { units } from './money';
import { changedResponse, seqOf, type LiveOrder, type PaperOrders } from './orders';
import { QueueBook } from './queue';
import { RestingIndex, type RestingPlace } from './restingIndex';
import { staticRuleRefusal } from './rules';

export interface MatchingOptions {
  clock: Clock;
  fees: FeeModel;
  latency: LatencyModel;
  /** The synthetic book behind each quote; `false` = the touch only, unlimited for GTC/GTD. */
  depth: DepthOptions | false;
}

/** Told of each change to an order (with the fill that made it, if any), in the order they happen. */
export type PublishUpdate = (live: LiveOrder, fill?: Fill) => void;

export class PaperMatching {
  private readonly taken = new TakenLiquidity();
  /** Open orders by what can make them trade, so polling costs O(log n + k), not O(open orders). */
  private readonly index = new RestingIndex();
  /** Resting limit orders behind the size ahead of them at their price, filled by trades (`trade`). */
  private readonly queue = new QueueBook();
  private readonly clock: Clock;
  private readonly fees: FeeModel;
  private readonly latency: LatencyModel;
  private readonly depth: DepthOptions | false;
  /** While a bar's path is walked (`candle`): the symbol's quote at that point of the bar, in place of the recorded one. */
  private onPath: { key: string; at: number; quote: Quote } | undefined;
  /** A bar is being walked (`candle`), its open and close included. */
  private walking = false;
  /** The open of a bar is being evaluated (`candle`): a resting limit it is through was gapped through. */
  private atOpen = false;

  constructor(
    private readonly market: Market,
    private readonly orders: PaperOrders,
    private readonly account: PaperAccount,
    options: MatchingOptions,
    private readonly publish: PublishUpdate,
  ) {
    this.clock = options.clock;
    this.fees = options.fees;
    this.latency = options.latency;
    this.depth = options.depth;
  }

  clear(): void {
    this.index.clear();
    this.queue.clear();
  }

  /** Restored open orders, filed where the next quote will find them, and back in their queues. */
  restoreOpen(open: readonly LiveOrder[]): void {
    for (const live of open) this.reindex(live);
    const queued = open
      .filter((o) => o.queueAhead !== undefined && restingPrice(o) !== undefined)
      .sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0) || seqOf(a.response.order_id) - seqOf(b.response.order_id));
    for (const live of queued) this.queue.restore(live, restingPrice(live) as number, remainingOf(live));
  }

  /**
   * Trades printed at `price` (recorded data): through the level they fill every resting order at it in
   * full; at it, `quantity` (money units) consumes the queue from the front (see `queue.ts`).
   */
  trade(symbol: string, price: number, quantity: bigint, at: number): void {
    const changed = new Set<LiveOrder>();
    const fills = this.queue.trade(symbol, price, quantity, changed);
    for (const o of changed) this.orders.touch(o);
    for (const { live, lots } of fills) {
      if (!this.orders.open.has(live.response.order_id)) continue;
      const instrument = instrumentFor(live.request.symbol);
      this.fill(live, instrument, restingPrice(live) as number, BigInt(lots) * units(instrument.lotSize), 'maker', at);
    }
  }

  /**
   * A bar of recorded data at `at` (its quote at `at` is its close), walked as it traded (`barPath.ts`):
   * at the open, every order is evaluated against the open's touch (arrivals and expiries due, stops the
   * bar gapped through fill at the open's touch, limits it reaches); then along each run to the next print
   * the stops it crosses trigger in the order they are crossed, at their own price (the touch passes
   * through it), and each print trades `share` (money units) through the queue (`trade`); last, the close's
   * quote, as every later call at `at` sees it. A stop-limit triggered on the way works against the prints
   * after its trigger only. Orders placed after this call (on this bar's close) see the next bar.
   */
  candle(symbol: string, bar: BarPrices, share: bigint, at: number): void {
    // Nothing open, nothing a bar can act on: no quote is read (a symbol the quotes lack is no error, as before).
    if (this.orders.open.size === 0) return;
    const tick = instrumentFor(symbol).tickSize;
    const path = barPath(bar, tick);
    const touch = new BarTouch(this.market.quotes.quote(symbol, at), bar.close, tick);
    const onPath = { key: instrumentKey(symbol), at, quote: touch.at(path[0]) };
    this.onPath = onPath;
    this.walking = true;
    try {
      this.atOpen = true;
      this.poll(at);
      this.atOpen = false;
      this.trade(symbol, path[0], share, at);
      for (let j = 1; j < path.length; j++) {
        const from = path[j - 1] as number;
        const to = path[j] as number;
        if (to !== from && this.orders.open.size > 0) this.crossStops(onPath, touch, from, to);
        onPath.quote = touch.at(to);
        this.trade(symbol, to, share, at);
      }
      this.onPath = undefined;
      this.poll(at);
    } finally {
      this.onPath = undefined;
      this.walking = false;
      this.atOpen = false;
    }
  }

  /**
   * A bracket's exit filled while a bar is walked: its other exit is cancelled at that point of the bar. The
   * engine's one-cancels-other (parent orders) acts between records, and a bar is one record: without this,
   * a bar reaching both the take-profit and the stop-loss would fill both and reverse the position.
   */
  private oneCancelsOther(filled: LiveOrder, at: number): void {
    const parent = bracketExitOf(filled);
    if (parent === undefined) return;
    for (const live of [...this.orders.open.values()])
      if (live !== filled && bracketExitOf(live) === parent) this.finish(live, CANCELLED, at);
  }

  /** The run from `from` to `to`: untriggered stops it reaches (sell stops falling, buy stops rising), matched where it reaches each. */
  private crossStops(
    onPath: { key: string; at: number; quote: Quote },
    touch: BarTouch,
    from: number,
    to: number,
  ): void {
    const falling = to < from;
    const stopOf = (seq: number): number | undefined => {
      const live = this.orders.open.get(`P-${seq}`);
      if (!live || live.triggered || !live.arrived) return undefined;
      const type = live.request.order_type;
      return type.type === 'stop' ? type.price : type.type === 'stop_limit' ? type.stop_price : undefined;
    };
    const reached = this.index
      .stopsReached(
        (s) => instrumentKey(s) === onPath.key,
        falling ? 'sell' : 'buy',
        falling ? touch.bidAt(to) : touch.askAt(to),
      )
      .filter((seq) => stopOf(seq) !== undefined);
    if (reached.length === 0) return;
    // In the order the run reaches them: the highest sell stop first on the way down; arrival order at one price.
    reached.sort((a, b) => ((stopOf(a) as number) - (stopOf(b) as number)) * (falling ? -1 : 1) || a - b);
    for (const seq of reached) {
      const live = this.orders.open.get(`P-${seq}`);
      const stop = stopOf(seq);
      if (!live || stop === undefined) continue;
      onPath.quote = falling
        ? touch.withBid(Math.min(stop, touch.bidAt(from)))
        : touch.withAsk(Math.max(stop, touch.askAt(from)));
      this.match(live, onPath.at, false, onPath.quote);
      this.reindex(live, onPath.at);
    }
  }

  /** The quote the engine acts on: the point of the bar being walked, else the recorded one. */
  private quoteOf(symbol: string, at: number): Quote {
    const onPath = this.onPath;
    if (onPath !== undefined && onPath.at === at && instrumentKey(symbol) === onPath.key) return onPath.quote;
    return this.market.quotes.quote(symbol, at);
  }

  /** A new order (its client order id unused): accepted or refused by the venue's rules, then matched if it has arrived. */
  submit(request: PlacedOrderRequest, now: number): LiveOrder {
    // No price, no order: a quote source that cannot price the symbol refuses before anything is accepted.
    // A quote is a function of the symbol and the time, so this one also prices the order's buying power
    // and, when it arrives at once, its match.
    const quote = this.quoteOf(request.symbol, now);
    const instrument = instrumentFor(request.symbol);
    const orderId = `P-${++this.orders.nextOrder}`;
    const delay = Math.max(0, this.latency.orderDelayMs(instrument, request));
    const kept = keepableOrderRequest(request);
    // A copy of the caller's order is ours alone; its parts are frozen so that responses can share them,
    // copied again with Object.assign because V8 freezes an object made by spreading many times slower.
    if (kept !== request) {
      kept.order_type = Object.freeze(Object.assign({}, kept.order_type));
      kept.time_in_force = Object.freeze(Object.assign({}, kept.time_in_force));
    }
    const live: LiveOrder = {
      request: kept,
      triggered: false,
      arrivesAt: now + delay,
      arrived: false,
      response: Object.freeze({
        order_id: orderId,
        client_order_id: request.client_order_id,
        symbol: request.symbol,
        side: request.side,
        order_type: kept.order_type,
        time_in_force: kept.time_in_force,
        quantity: request.quantity,
        status: PENDING,
        filled_price: null,
        filled_quantity: null,
        commission: null,
        timestamp: now,
        created_at: now,
        fills: NO_FILLS,
      }),
    };
    this.orders.add(live);
    const refusal =
      staticRuleRefusal(live.request, instrument, now) ?? this.account.buyingPowerRefusal(live, instrument, now, quote);
    if (refusal !== undefined) {
      this.finish(live, Object.freeze({ status: 'rejected', reason: refusal }), now);
      return live;
    }
    this.orders.markOpen(live);
    this.account.trackOpen(live, now);
    if (delay === 0) this.arrive(live, now, quote);
    else this.publish(live);
    this.reindex(live, now);
    return live;
  }

  cancel(live: LiveOrder, now: number): void {
    this.finish(live, CANCELLED, now);
  }

  /** Re-evaluates only the open orders the market at `now` can act on (see `RestingIndex`), in arrival order. */
  poll(now: number): void {
    if (this.orders.open.size === 0) return;
    for (const seq of this.index.candidates(now, (symbol) => this.quoteOf(symbol, now))) {
      const live = this.orders.open.get(`P-${seq}`);
      if (!live) {
        this.index.remove(seq);
        continue;
      }
      this.evaluate(live, now);
      this.reindex(live, now);
    }
  }

  /** Files an open order where the next quote will find it (or removes a final one); a new resting limit joins its queue. */
  private reindex(live: LiveOrder, at?: number): void {
    const seq = seqOf(live.response.order_id);
    if (!this.orders.open.has(live.response.order_id) || isFinalStatus(live.response.status)) {
      this.index.remove(seq);
      return;
    }
    const request = live.request;
    const tif = request.time_in_force;
    const type = request.order_type;
    let place: RestingPlace;
    if (!live.arrived) place = { kind: 'pending', arrivesAt: live.arrivesAt };
    else if ((type.type === 'stop' || type.type === 'stop_limit') && !live.triggered)
      place = { kind: 'stop', side: request.side, price: type.type === 'stop' ? type.price : type.stop_price };
    else if (type.type === 'limit' || type.type === 'stop_limit')
      place = { kind: 'limit', side: request.side, price: type.type === 'limit' ? type.price : type.limit_price };
    else place = { kind: 'active' };
    this.index.add(seq, request.symbol, place, tif.type === 'GTD' ? tif.expires_at : undefined);
    if (place.kind === 'limit' && at !== undefined && !this.queue.isQueued(live)) this.joinQueue(live, place.price, at);
  }

  /** The order rests at `price` from `at`: it queues behind the size the market shows there then (see `queue.ts`). */
  private joinQueue(live: LiveOrder, price: number, at: number): void {
    const request = live.request;
    const instrument = instrumentFor(request.symbol);
    const quote = this.quoteOf(request.symbol, at);
    const buy = request.side === 'buy';
    const tick = instrument.tickSize;
    // Its own side of the book: bids for a buy, asks for a sell.
    const touch = buy ? quote.bid : quote.ask;
    const touchSize = units(snapToStep(buy ? quote.bid_size : quote.ask_size, instrument.lotSize, 'down'));
    const offset = Math.round((buy ? touch - price : price - touch) / tick);
    let ahead: bigint;
    if (offset < 0) ahead = 0n;
    else if (offset === 0 || this.depth === false) ahead = touchSize;
    else {
      const book = bookFor(quote, buy ? 'sell' : 'buy', instrument, this.depth);
      const level = book.level(Math.min(Math.floor(offset / this.depth.spacingTicks), book.size - 1));
      ahead = level === null ? touchSize : level.size;
    }
    this.queue.join(live, price, remainingOf(live), ahead, at);
    this.orders.touch(live);
  }

  private evaluate(live: LiveOrder, now: number): void {
    if (!live.arrived) {
      if (now < live.arrivesAt) return;
      this.arrive(live, live.arrivesAt);
      if (isFinalStatus(live.response.status) || now === live.arrivesAt) return;
    }
    const tif = live.request.time_in_force;
    if (tif.type === 'GTD' && now >= tif.expires_at) {
      this.finish(live, EXPIRED, now);
      return;
    }
    this.match(live, now, false);
  }

  /** The order reaches the matching engine: it is acknowledged, then matched as a new order. */
  /** `quote`: the order's quote at `at`, when the caller has it. */
  private arrive(live: LiveOrder, at: number, quote?: Quote): void {
    live.arrived = true;
    this.orders.touch(live);
    const tif = live.request.time_in_force;
    if (tif.type === 'GTD' && at >= tif.expires_at) {
      this.finish(live, EXPIRED, at);
      return;
    }
    live.response = changedResponse(live.response, SUBMITTED, at);
    this.publish(live);
    this.match(live, at, true, quote);
  }

  private match(live: LiveOrder, at: number, arriving: boolean, known?: Quote): void {
    const request = live.request;
    const instrument = instrumentFor(request.symbol);
    const quote = known ?? this.quoteOf(request.symbol, at);
    const buy = request.side === 'buy';
    const touch = buy ? quote.ask : quote.bid;
    const type = request.order_type;
    const immediate = request.time_in_force.type === 'IOC' || request.time_in_force.type === 'FOK';

    if ((type.type === 'stop' || type.type === 'stop_limit') && !live.triggered) {
      // On its tick, as the limit below: the venue takes float noise (1.0800100000000001) as the tick's price.
      const stop = snapToStep(type.type === 'stop' ? type.price : type.stop_price, instrument.tickSize);
      if (!(buy ? quote.ask >= stop : quote.bid <= stop)) {
        if (arriving && immediate) this.finish(live, CANCELLED, at);
        return;
      }
      live.triggered = true;
      this.orders.touch(live);
      // Once triggered the order is new to the book: a marketable stop-limit takes the touch.
      arriving = true;
    }

    let limit: number | undefined;
    let marketable = true;
    if (type.type === 'limit' || type.type === 'stop_limit') {
      limit = snapToStep(type.type === 'limit' ? type.price : type.limit_price, instrument.tickSize);
      marketable = buy ? quote.ask <= limit : quote.bid >= limit;
    }
    if (!marketable) {
      if (arriving && immediate) this.finish(live, CANCELLED, at);
      return;
    }
    // Marketable on arrival: it takes liquidity, walking the book. Resting: the market came to it and it
    // fills at its own price (maker), as far as the size at or through its price goes.
    const liquidity: Liquidity = arriving || limit === undefined ? 'taker' : 'maker';
    // Resting, unless a bar opened through it (a gap): the market never traded at the limit, and the order fills
    // at the open's touch, better than its limit (as a stop gapped through fills at the open, worse than its stop).
    const atLimit = liquidity === 'maker' && !this.atOpen;
    const remaining = units(request.quantity) - units(live.response.filled_quantity ?? 0);

    if (this.depth === false) {
      const price = atLimit && limit !== undefined ? limit : touch;
      let quantity = remaining;
      if (immediate) {
        // Without depth, the touch is all the liquidity an IOC or FOK can reach.
        const shown = units(snapToStep(buy ? quote.ask_size : quote.bid_size, instrument.lotSize, 'down'));
        if (request.time_in_force.type === 'FOK' && shown < remaining) {
          this.finish(live, CANCELLED, at);
          return;
        }
        if (shown < quantity) quantity = shown;
      }
      if (liquidity === 'maker') for (const o of this.queue.levelTaken(live)) this.orders.touch(o);
      if (quantity > 0n) {
        if (liquidity === 'maker') this.queue.reduce(live, quantity);
        this.fill(live, instrument, price, quantity, liquidity, at);
      }
      if (immediate && !isFinalStatus(live.response.status)) this.finish(live, CANCELLED, at);
      return;
    }

    // Walked level by level, computing only the levels the order reaches; prices move away from the
    // touch, so the first level beyond a limit ends the walk.
    const book = bookFor(quote, request.side, instrument, this.depth);
    const symbol = request.symbol;
    const ts = quote.timestamp;
    const available = (k: number): Level | null => {
      const level = book.level(k);
      if (level === null) return null;
      const size = level.size - this.taken.takenAt(symbol, request.side, ts, level.price);
      return size > 0n ? { price: level.price, size } : null;
    };
    const beyondLimit = (price: number): boolean => limit !== undefined && (buy ? price > limit : price < limit);
    if (request.time_in_force.type === 'FOK') {
      let total = 0n;
      for (let k = 0; k < book.size && total < remaining; k++) {
        const level = available(k);
        if (level === null) continue;
        if (beyondLimit(level.price)) break;
        total += level.size;
      }
      if (total < remaining) {
        this.finish(live, CANCELLED, at);
        return;
      }
    }
    let left = remaining;
    let makerQuantity = 0n;
    for (let k = 0; k < book.size && left > 0n; k++) {
      const level = available(k);
      if (level === null) continue;
      if (beyondLimit(level.price)) break;
      const quantity = level.size < left ? level.size : left;
      this.taken.take(symbol, request.side, ts, level.price, quantity);
      // A taker (or a limit gapped through) gets one fill per level it reaches; a resting order one at its own price.
      if (!atLimit) {
        if (liquidity === 'maker') this.queue.reduce(live, quantity);
        this.fill(live, instrument, level.price, quantity, liquidity, at);
      } else makerQuantity += quantity;
      left -= quantity;
    }
    if (liquidity === 'maker') {
      // The market came to the order's price from the other side: nothing is ahead of it there any more.
      for (const o of this.queue.levelTaken(live)) this.orders.touch(o);
    }
    if (makerQuantity > 0n) {
      this.queue.reduce(live, makerQuantity);
      this.fill(live, instrument, limit as number, makerQuantity, liquidity, at);
    }
    if (immediate && !isFinalStatus(live.response.status)) this.finish(live, CANCELLED, at);
  }

  private fill(
    live: LiveOrder,
    instrument: Instrument,
    price: number,
    quantity: bigint,
    liquidity: Liquidity,
    at: number,
  ): void {
    const request = live.request;
    const quoteCurrency = instrument.quoteCurrency;
    const qty = fromMoney(quantity);
    const commission = roundMoney(
      units(this.fees.commission(instrument, request.side, price, qty, liquidity)),
      currencyDecimals(quoteCurrency),
    );
    this.account.book({
      symbol: request.symbol,
      quoteCurrency,
      side: request.side,
      price: units(price),
      quantity,
      commission,
    });

    const fill: Fill = Object.freeze({
      fill_id: `PF-${++this.orders.nextFill}`,
      order_id: live.response.order_id,
      client_order_id: request.client_order_id,
      symbol: request.symbol,
      side: request.side,
      price,
      quantity: qty,
      commission: fromMoney(commission),
      liquidity,
      timestamp: at,
    });
    const before = live.response;
    // Copied by a loop: a spread array is slower to freeze.
    const fills: Fill[] = [];
    for (const f of before.fills) fills.push(f);
    fills.push(fill);
    Object.freeze(fills);
    const filled = units(before.filled_quantity ?? 0) + quantity;
    let cost = 0n;
    for (const f of fills) cost += mulMoney(units(f.price), units(f.quantity));
    const filledQuantity = fromMoney(filled);
    const done = filled >= units(request.quantity);
    const after = changedResponse(
      before,
      done ? FILLED : Object.freeze({ status: 'partially_filled', filled_qty: filledQuantity }),
      at,
      // The average of prices on the tick needs a few more places than the tick to be exact enough.
      Number(fromMoney(divMoney(cost, filled)).toFixed(instrument.pricePrecision + 4)),
      filledQuantity,
      fromMoney(units(before.commission ?? 0) + commission),
      fills,
    );
    // Closed while the response still shows the order open (`markClosing` reads it).
    if (done) this.close(live);
    live.response = after;
    this.orders.addFill(fill);
    this.orders.touch(live);
    this.publish(live, fill);
    if (done) this.orders.trimFinal();
    if (this.walking) this.oneCancelsOther(live, at);
  }

  /** The order leaves the open set (it has become or is becoming final). */
  private close(live: LiveOrder): void {
    if (this.orders.open.has(live.response.order_id)) this.account.untrackOpen(live);
    this.orders.markClosing(live);
    this.index.remove(seqOf(live.response.order_id));
    this.queue.leave(live);
  }

  /** `status` must be frozen (the response shares it). */
  private finish(live: LiveOrder, status: Readonly<OrderStatus>, at: number): void {
    this.close(live);
    live.response = changedResponse(live.response, status, at);
    this.orders.touch(live);
    this.publish(live);
    this.orders.trimFinal();
  }
}

// Parts of responses, shared: every response and its parts are frozen (see `LiveOrder`).
const PENDING: OrderStatus = Object.freeze({ status: 'pending' });
const SUBMITTED: OrderStatus = Object.freeze({ status: 'submitted' });
const FILLED: OrderStatus = Object.freeze({ status: 'filled' });
const CANCELLED: OrderStatus = Object.freeze({ status: 'cancelled' });
const EXPIRED: OrderStatus = Object.freeze({ status: 'expired' });
const NO_FILLS = Object.freeze([]) as unknown as Fill[];

/** The price a resting limit (or a triggered stop-limit) waits at; undefined for other orders. */
function restingPrice(live: LiveOrder): number | undefined {
  const type = live.request.order_type;
  if (type.type === 'limit') return type.price;
  if (type.type === 'stop_limit' && live.triggered) return type.limit_price;
  return undefined;
}

/** The parent id of a bracket's exit (the metadata parent orders give it: `parents.ts`), else undefined. */
function bracketExitOf(live: LiveOrder): string | undefined {
  const m = live.request.metadata;
  if (m === undefined || m['algo'] !== 'bracket' || (m['leg'] !== 'stop_loss' && m['leg'] !== 'take_profit'))
    return undefined;
  return typeof m['parent'] === 'string' ? m['parent'] : undefined;
}

function remainingOf(live: LiveOrder): bigint {
  return units(live.request.quantity) - units(live.response.filled_quantity ?? 0);
}
