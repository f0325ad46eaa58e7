/**
 * The embedded paper venue: deterministic, exact, and honest about what fills where.
 *
 * Every quote has a synthetic book behind it (`depth.ts`: levels a tick apart, growing in size,
 * seeded): takers walk it, so slippage emerges from size.
 *
 * | order                  | fills when                                                          | at                                        |
 * |------------------------|---------------------------------------------------------------------|-------------------------------------------|
 * | market GTC/GTD         | at once, walking the book; beyond its depth the rest works on       | each level's price (VWAP across levels)   |
 * |                        | later quotes (partially filled meanwhile)                           |                                           |
 * | market IOC             | at once, as far as the book goes; the rest is cancelled             | each level's price                        |
 * | market FOK             | at once if the whole book covers it, otherwise cancelled            | each level's price                        |
 * | limit, marketable      | at once, walking levels at or better than the limit; the rest rests | each level's price, never beyond the limit|
 * |                        | (GTC/GTD) or is cancelled (IOC); FOK all or nothing within the limit|                                           |
 * | limit, resting GTC/GTD | when a later quote reaches it, up to the size shown through it      | the limit (maker)                         |
 * | stop                   | triggers when ask ≥ stop (buy) / bid ≤ stop (sell), then market     | the book at the trigger (gaps slip)       |
 * | stop-limit             | triggers like a stop, then is a new limit: marketable or resting    | the book, never beyond the limit          |
 * | IOC/FOK not executable | cancelled at once (an untriggered stop with IOC/FOK too)            | –                                         |
 * | GTD                    | rests until `expires_at`, then `expired`                            | –                                         |
 *
 * - Liquidity taken from a quote stays taken until the quote changes; `depth: false` restores the
 *   touch-only model (IOC/FOK limited to the touch size, everything else fills in full at the touch).
 * - Refused with a `rejected` status naming the rule (not an exception): quantity below the
 *   minimum or off the lot, a price off the tick (float noise such as 1.0845000000000001 is
 *   tolerated), a GTD already past, an order beyond buying power.
 * - Buying power (1× leverage) = equity − |value of every position| − the notional by which
 *   resting orders would grow a position. Shorts are allowed and reserve their notional.
 * - Balance = cash in every currency converted to the account currency at the mid (USDT and USDC
 *   count 1:1 as USD); equity = balance + positions marked at the mid.
 * - Resting orders are re-evaluated against the quote at `clock.now()` by `poll()`, which every
 *   public method calls first, and which a timer calls when connected on a real clock.
 * - Order updates (submitted, each fill, cancelled, expired, rejected) are delivered
 *   synchronously, in order, after the change has been saved.
 * Money is kept in scaled integers (10^-10) so cash and positions never drift.
 */
import { systemClock, type Clock } from '../../common/clock';
import { crashPoint } from '../../common/crashPoint';
import { divMoney, divRound, fromMoney, isOnStep, mulMoney, roundMoney, snapToStep } from '../../common/decimal';
import {
  cloneFill,
  cloneOrderRequest,
  cloneOrderResponse,
  isFinalStatus,
  checkOrderRequest,
  type AccountInfo,
  type Fill,
  type InstrumentRules,
  type OrderResponse,
  type OrderStatus,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import { OrderUpdateListeners, type BrokerApi, type BrokerCapabilities, type Disposable, type OrderUpdate } from '../broker';
import { BrokerError } from '../errors';
import { defaultFees, noLatency, type FeeModel, type LatencyModel, type Liquidity } from './costs';
import { SyntheticFeed, type QuoteSource } from './feed';
import { currencyDecimals, instrumentFor, instrumentKey, isPreset, rulesOf, sameMoney, type Instrument, canonicalSymbol } from './instruments';
import { Ledger } from './ledger';
import { RestingIndex, type RestingPlace } from './restingIndex';
import { bookFor, DEFAULT_DEPTH, TakenLiquidity, validateDepth, type DepthOptions, type Level } from './depth';
import { units } from './money';
import { appendPaperJournal, deletePaperState, readPaperAccount, writePaperState, type PaperState, type StoredOrder } from './state';

export { defaultFees, type FeeModel, type LatencyModel } from './costs';

export interface PaperBrokerOptions {
  clock: Clock;
  /** Seed of the synthetic feed (default: the saved account's, else 1). Ignored with `quotes`. */
  seed?: number;
  /** Where quotes come from (default: the synthetic feed). */
  quotes?: QuoteSource;
  /** The account file; without it the account lives in memory only. */
  stateFile?: string;
  /** Journal size past which the next change writes a new snapshot; default JOURNAL_LIMIT_BYTES. */
  journalLimitBytes?: number;
  /** In the account currency; default 100 000. */
  startingCash?: number;
  /** Default 'USD'. */
  currency?: string;
  /** Default: nothing for FX and equities, 10 bps for crypto. */
  fees?: FeeModel;
  /** Default: none (orders reach the matching engine at once). */
  latency?: LatencyModel;
  /** The synthetic book behind each quote (default `DEFAULT_DEPTH`); `false` = the touch only, unlimited for GTC/GTD. */
  depth?: Partial<DepthOptions> | false;
  accountId?: string;
  /** Where failures the venue cannot throw go: a listener that threw, a timer poll that failed. Default: `process.emitWarning`. */
  onError?: (message: string, error: unknown) => void;
  /** Re-evaluate resting orders this often while connected; 0 = only when the broker is called. Default 1000 on the system clock, else 0. */
  pollIntervalMs?: number;
}

/** Final orders kept (and saved) for look-ups; open orders are always kept. */
export const MAX_FINAL_ORDERS_KEPT = 1000;
/** Fills kept (and saved) for `getFills`. */
export const MAX_FILLS_KEPT = 1000;
/** Past this size the journal is folded into a new snapshot of the account file. */
export const JOURNAL_LIMIT_BYTES = 1024 * 1024;
/** For the crash suite, which folds the journal often: SPTRADER_PAPER_JOURNAL_LIMIT_BYTES. */
const ENV_JOURNAL_LIMIT = ((v) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined))(process.env['SPTRADER_PAPER_JOURNAL_LIMIT_BYTES']);

const PLAIN = new Intl.NumberFormat('en-US', { useGrouping: false, maximumFractionDigits: 12 });

/** A number as people write it: no exponent, no float noise (0.000001, 1.0845). */
function plain(n: number): string {
  return PLAIN.format(n);
}

type LiveOrder = StoredOrder & { request: PlacedOrderRequest };

/** The venue's order ids are `P-<n>`, n in arrival order. */
const seqOf = (orderId: string): number => Number(orderId.slice(2));

/** Every type × TIF (see the header table); a constant so the broker registry reads it without an instance. */
export const PAPER_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
  fractionalQuantity: true,
  shortSelling: true,
  cancelReplace: false,
});

export class PaperBroker implements BrokerApi {
  readonly id = 'paper';
  readonly displayName = 'Paper';
  readonly environment = 'paper' as const;
  readonly capabilities: BrokerCapabilities = PAPER_CAPABILITIES;
  /**
   * The paper venue answers within the call and saves before it answers: an order it has no record of
   * (by client order id) never reached it, however recently it was sent.
   */
  readonly absenceConclusiveAfterMs = 0;

  private readonly clock: Clock;
  private readonly fees: FeeModel;
  private readonly latency: LatencyModel;
  private readonly depth: DepthOptions | false;
  private readonly taken = new TakenLiquidity();
  /** Open orders by what can make them trade, so polling costs O(log n + k), not O(open orders). */
  private readonly index = new RestingIndex();
  private readonly startingCash: number;
  private readonly stateFile: string | undefined;
  private readonly pollIntervalMs: number;
  private quotes: QuoteSource;
  private seed: number | null;
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  // A faulty listener must not undo or hide a fill that has happened.
  private readonly listeners = new OrderUpdateListeners((e) => this.reportError(`a paper venue order update listener failed: ${(e as Error).message}`, e));
  /** Updates of the operation under way, delivered once it is saved. */
  private outbox: OrderUpdate[] = [];
  private delivering = false;
  private dirty = false;

  private accountId: string;
  private currency: string;
  private ledger = new Ledger();
  private nextOrder = 0;
  private nextFill = 0;
  /** Every retained order by id, oldest first. */
  private orders = new Map<string, LiveOrder>();
  /** Open orders only, so polling costs O(open), not O(history). */
  private open = new Map<string, LiveOrder>();
  private byClientId = new Map<string, string>();
  private fills: Fill[] = [];
  /** Order ids in the order they became final, for trimming the oldest; `finalHead` is the next to look at. */
  private finalQueue: string[] = [];
  /** The last mid computed per symbol, with the touch it came from (valuations ask for it per position). */
  private readonly mids = new Map<string, { bid: number; ask: number; mid: bigint }>();
  /** Open orders by `instrumentKey`, and the buying power each symbol's orders hold (see `reservedIn`). */
  private openBySymbol = new Map<string, Set<LiveOrder>>();
  /** What the operation under way changed, for its journal line (see `save`). */
  private readonly changed = new Set<LiveOrder>();
  private removedIds: string[] = [];
  private newFills: Fill[] = [];
  /** The account file's snapshot generation, whether a snapshot is on disk, whether the next save must write one, and the journal's size. */
  private generation = 0;
  private snapshotOnDisk = false;
  private needSnapshot = true;
  private journalBytes = 0;
  private reserveCache = new Map<string, bigint>();
  private finalHead = 0;

  constructor(private readonly options: PaperBrokerOptions) {
    this.clock = options.clock;
    this.fees = options.fees ?? defaultFees;
    this.latency = options.latency ?? noLatency;
    this.depth = options.depth === false ? false : { ...DEFAULT_DEPTH, ...options.depth };
    if (this.depth) validateDepth(this.depth);
    this.startingCash = options.startingCash ?? 100_000;
    this.stateFile = options.stateFile;
    this.accountId = options.accountId ?? 'PAPER-1';
    this.currency = options.currency ?? 'USD';
    this.pollIntervalMs = options.pollIntervalMs ?? (options.clock === systemClock ? 1000 : 0);
    this.seed = options.quotes ? null : (options.seed ?? 1);
    this.quotes = options.quotes ?? new SyntheticFeed(this.seed ?? 1);
    this.resetInMemory();
  }

  // --- connection and account lifecycle ---

  async connect(): Promise<void> {
    if (this.connected) return;
    if (this.stateFile) {
      const saved = readPaperAccount(this.stateFile);
      if (saved) {
        this.restore(saved.state);
        this.generation = saved.state.generation ?? 0;
        this.snapshotOnDisk = true;
        this.needSnapshot = false;
        this.journalBytes = saved.journalBytes;
      }
    }
    this.connected = true;
    if (this.pollIntervalMs > 0) {
      this.timer = setInterval(() => this.pollFromTimer(), this.pollIntervalMs);
      // The venue must never keep a CLI or the extension host alive on its own.
      this.timer.unref();
    }
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.connected = false;
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** The account file, when the account is kept on disk. */
  get accountFile(): string | undefined {
    return this.stateFile;
  }

  /** Fills the account has made since it was opened (its fill counter); read after connecting. */
  fillsEver(): number {
    return this.nextFill;
  }

  /** Starts the account afresh: starting cash, no positions, no orders, counters at zero; deletes the account file. */
  reset(): void {
    this.resetInMemory();
    this.snapshotOnDisk = false;
    this.needSnapshot = true;
    this.journalBytes = 0;
    if (this.stateFile) deletePaperState(this.stateFile);
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.listeners.add(listener);
  }

  // --- BrokerApi ---

  async getQuote(symbol: string): Promise<Quote> {
    this.ensureConnected();
    return this.quotes.quote(symbol, this.clock.now());
  }

  /** Static venue rules: answered without a connection. */
  /** The rules of an instrument, under the venue's own id for it (`canonicalSymbol`). */
  async getInstrument(symbol: string): Promise<InstrumentRules> {
    return { ...rulesOf(instrumentFor(symbol)), symbol: canonicalSymbol(symbol) };
  }

  async submitOrder(request: PlacedOrderRequest): Promise<OrderResponse> {
    this.ensureConnected();
    const wellFormed = checkOrderRequest(request);
    if (!wellFormed.success || !request.client_order_id) {
      const why = wellFormed.success ? 'client_order_id is required' : wellFormed.error.issues.map((i) => i.message).join('; ');
      throw new BrokerError('INVALID_ORDER', `the paper venue cannot read this order: ${why}`);
    }
    return this.operation(() => {
      this.pollNow();
      const known = this.byClientId.get(request.client_order_id);
      if (known !== undefined) {
        const status = this.orders.get(known)?.response.status.status ?? 'known';
        throw new BrokerError(
          'DUPLICATE_CLIENT_ORDER_ID',
          `client order id ${request.client_order_id} was already used for order ${known} (${status}); look that order up instead of sending it again`,
        );
      }
      const now = this.clock.now();
      // No price, no order: a quote source that cannot price the symbol refuses before anything is accepted.
      this.quotes.quote(request.symbol, now);
      const instrument = instrumentFor(request.symbol);
      const orderId = `P-${++this.nextOrder}`;
      const delay = Math.max(0, this.latency.orderDelayMs(instrument, request));
      const live: LiveOrder = {
        request: cloneOrderRequest(request),
        triggered: false,
        arrivesAt: now + delay,
        arrived: false,
        response: {
          order_id: orderId,
          client_order_id: request.client_order_id,
          symbol: request.symbol,
          side: request.side,
          order_type: request.order_type,
          time_in_force: request.time_in_force,
          quantity: request.quantity,
          status: { status: 'pending' },
          filled_price: null,
          filled_quantity: null,
          commission: null,
          timestamp: now,
          created_at: now,
          fills: [],
        },
      };
      this.orders.set(orderId, live);
      this.byClientId.set(request.client_order_id, orderId);
      this.touch(live);
      const refusal = this.venueRule(live, instrument, now);
      if (refusal !== undefined) {
        this.finish(live, { status: 'rejected', reason: refusal }, now);
        return this.view(live);
      }
      this.open.set(orderId, live);
      this.trackOpen(live, now);
      if (delay === 0) this.arrive(live, now);
      else this.publish(live);
      this.reindex(live);
      return this.view(live);
    });
  }

  async cancelOrder(orderId: string): Promise<void> {
    this.ensureConnected();
    this.operation(() => {
      this.pollNow();
      const live = this.mustFind(orderId);
      if (isFinalStatus(live.response.status)) {
        throw new BrokerError('INVALID_ORDER', `order ${orderId} is already ${live.response.status.status} and cannot be cancelled`);
      }
      this.finish(live, { status: 'cancelled' }, this.clock.now());
    });
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return this.view(this.mustFind(orderId));
    });
  }

  async getOrderByClientId(clientOrderId: string): Promise<OrderResponse | undefined> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      const id = this.byClientId.get(clientOrderId);
      const live = id === undefined ? undefined : this.orders.get(id);
      return live ? this.view(live) : undefined;
    });
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return [...this.open.values()].map((o) => this.view(o));
    });
  }

  async getPositions(): Promise<Position[]> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return this.positionList();
    });
  }

  async getAccountInfo(): Promise<AccountInfo> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      const { balance, equity, buyingPower } = this.valuation();
      return {
        account_id: this.accountId,
        balance: fromMoney(balance),
        equity: fromMoney(equity),
        buying_power: fromMoney(buyingPower),
        currency: this.currency,
        open_positions: this.positionList(),
      };
    });
  }

  // --- paper-only views ---

  /** Cash held in each currency, exact (a quote currency may be negative: the venue lends it). */
  getCashBalances(): Record<string, number> {
    return Object.fromEntries([...this.ledger.cash].map(([ccy, units]) => [ccy, fromMoney(units)]));
  }

  /** Realized profit and loss by quote currency, before commission. */
  getRealizedPnl(): Record<string, number> {
    return Object.fromEntries([...this.ledger.realized].map(([ccy, units]) => [ccy, fromMoney(units)]));
  }

  /** The most recent fills (up to `MAX_FILLS_KEPT`), oldest first. */
  getFills(): Fill[] {
    return this.recentFills().map(cloneFill);
  }

  /**
   * Re-evaluates every open order against the quote at `clock.now()`: arrivals, expiries,
   * triggers, fills. Public methods call it first; tests on a `TestClock` call it after moving the
   * clock or the quotes.
   */
  poll(): void {
    this.operation(() => this.pollNow());
  }

  // --- operations: change, save, then tell ---

  /**
   * Runs one change to the account, saves it, then delivers its updates, so a listener never sees
   * a state that a crash could take back. Updates raised by a listener's own calls queue behind
   * the ones being delivered, keeping the order the venue made them in.
   */
  private operation<T>(change: () => T): T {
    let result: T;
    try {
      result = change();
    } finally {
      if (this.dirty) {
        this.dirty = false;
        this.save();
      }
      this.deliver();
    }
    return result;
  }

  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let update = this.outbox.shift(); update; update = this.outbox.shift()) {
        this.listeners.emit(update);
      }
    } finally {
      this.delivering = false;
    }
  }

  private pollFromTimer(): void {
    try {
      this.poll();
    } catch (e) {
      // Thrown from a timer it would take the extension host down; the next call reports it again.
      this.reportError(`the paper venue could not update its orders: ${(e as Error).message}`, e);
    }
  }

  private reportError(message: string, error: unknown): void {
    if (this.options.onError) this.options.onError(message, error);
    else process.emitWarning(message);
  }

  /** Re-evaluates only the open orders the market at `now` can act on (see `RestingIndex`), in arrival order. */
  private pollNow(): void {
    const now = this.clock.now();
    if (this.open.size === 0) return;
    for (const seq of this.index.candidates(now, (symbol) => this.quotes.quote(symbol, now))) {
      const live = this.open.get(`P-${seq}`);
      if (!live) {
        this.index.remove(seq);
        continue;
      }
      this.evaluate(live, now);
      this.reindex(live);
    }
  }

  /** Files an open order where the next quote will find it (or removes a final one). */
  private reindex(live: LiveOrder): void {
    const seq = seqOf(live.response.order_id);
    if (!this.open.has(live.response.order_id) || isFinalStatus(live.response.status)) {
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
  }

  // --- matching ---

  private evaluate(live: LiveOrder, now: number): void {
    if (!live.arrived) {
      if (now < live.arrivesAt) return;
      this.arrive(live, live.arrivesAt);
      if (isFinalStatus(live.response.status) || now === live.arrivesAt) return;
    }
    const tif = live.request.time_in_force;
    if (tif.type === 'GTD' && now >= tif.expires_at) {
      this.finish(live, { status: 'expired' }, now);
      return;
    }
    this.match(live, now, false);
  }

  /** The order reaches the matching engine: it is acknowledged, then matched as a new order. */
  private arrive(live: LiveOrder, at: number): void {
    live.arrived = true;
    this.touch(live);
    const tif = live.request.time_in_force;
    if (tif.type === 'GTD' && at >= tif.expires_at) {
      this.finish(live, { status: 'expired' }, at);
      return;
    }
    live.response.status = { status: 'submitted' };
    live.response.timestamp = at;
    this.publish(live);
    this.match(live, at, true);
  }

  private match(live: LiveOrder, at: number, arriving: boolean): void {
    const request = live.request;
    const instrument = instrumentFor(request.symbol);
    const quote = this.quotes.quote(request.symbol, at);
    const buy = request.side === 'buy';
    const touch = buy ? quote.ask : quote.bid;
    const type = request.order_type;
    const immediate = request.time_in_force.type === 'IOC' || request.time_in_force.type === 'FOK';

    if ((type.type === 'stop' || type.type === 'stop_limit') && !live.triggered) {
      const stop = type.type === 'stop' ? type.price : type.stop_price;
      if (!(buy ? quote.ask >= stop : quote.bid <= stop)) {
        if (arriving && immediate) this.finish(live, { status: 'cancelled' }, at);
        return;
      }
      live.triggered = true;
      this.touch(live);
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
      if (arriving && immediate) this.finish(live, { status: 'cancelled' }, at);
      return;
    }
    // Marketable on arrival: it takes liquidity, walking the book. Resting: the market came to it and it
    // fills at its own price (maker), as far as the size at or through its price goes.
    const liquidity: Liquidity = arriving || limit === undefined ? 'taker' : 'maker';
    const remaining = units(request.quantity) - units(live.response.filled_quantity ?? 0);

    if (this.depth === false) {
      const price = liquidity === 'maker' && limit !== undefined ? limit : touch;
      let quantity = remaining;
      if (immediate) {
        // Without depth, the touch is all the liquidity an IOC or FOK can reach.
        const shown = units(snapToStep(buy ? quote.ask_size : quote.bid_size, instrument.lotSize, 'down'));
        if (request.time_in_force.type === 'FOK' && shown < remaining) {
          this.finish(live, { status: 'cancelled' }, at);
          return;
        }
        if (shown < quantity) quantity = shown;
      }
      if (quantity > 0n) this.fill(live, instrument, price, quantity, liquidity, at);
      if (immediate && !isFinalStatus(live.response.status)) this.finish(live, { status: 'cancelled' }, at);
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
        this.finish(live, { status: 'cancelled' }, at);
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
      // A taker gets one fill per level it reaches; a resting order one fill at its own price.
      if (liquidity === 'taker') this.fill(live, instrument, level.price, quantity, liquidity, at);
      else makerQuantity += quantity;
      left -= quantity;
    }
    if (makerQuantity > 0n) this.fill(live, instrument, limit as number, makerQuantity, liquidity, at);
    if (immediate && !isFinalStatus(live.response.status)) this.finish(live, { status: 'cancelled' }, at);
  }

  private fill(live: LiveOrder, instrument: Instrument, price: number, quantity: bigint, liquidity: Liquidity, at: number): void {
    const request = live.request;
    const quoteCurrency = instrument.quoteCurrency;
    const qty = fromMoney(quantity);
    const commission = roundMoney(units(this.fees.commission(instrument, request.side, price, qty, liquidity)), currencyDecimals(quoteCurrency));
    this.ledger.apply({ symbol: request.symbol, quoteCurrency, side: request.side, price: units(price), quantity, commission });

    const fill: Fill = {
      fill_id: `PF-${++this.nextFill}`,
      order_id: live.response.order_id,
      client_order_id: request.client_order_id,
      symbol: request.symbol,
      side: request.side,
      price,
      quantity: qty,
      commission: fromMoney(commission),
      liquidity,
      timestamp: at,
    };
    const response = live.response;
    response.fills.push(fill);
    const filled = units(response.filled_quantity ?? 0) + quantity;
    let cost = 0n;
    for (const f of response.fills) cost += mulMoney(units(f.price), units(f.quantity));
    response.filled_quantity = fromMoney(filled);
    // The average of prices on the tick needs a few more places than the tick to be exact enough.
    response.filled_price = Number(fromMoney(divMoney(cost, filled)).toFixed(instrument.pricePrecision + 4));
    response.commission = fromMoney(units(response.commission ?? 0) + commission);
    response.timestamp = at;
    response.status = filled >= units(request.quantity) ? { status: 'filled' } : { status: 'partially_filled', filled_qty: fromMoney(filled) };
    // The position moved: every open order of the symbol may now add more or less exposure.
    this.reserveCache.delete(instrumentKey(request.symbol));
    if (response.status.status === 'filled') {
      this.untrackOpen(live);
      this.open.delete(response.order_id);
      this.index.remove(seqOf(response.order_id));
      this.finalQueue.push(response.order_id);
    }
    this.fills.push(fill);
    // Trimmed in steps of MAX_FILLS_KEPT, not one fill at a time (which moved the whole list per fill).
    if (this.fills.length >= 2 * MAX_FILLS_KEPT) this.fills = this.recentFills();
    this.newFills.push(fill);
    this.touch(live);
    this.publish(live, fill);
    if (response.status.status === 'filled') this.trimFinal();
  }

  private finish(live: LiveOrder, status: OrderStatus, at: number): void {
    if (!isFinalStatus(live.response.status)) this.finalQueue.push(live.response.order_id);
    if (this.open.has(live.response.order_id)) this.untrackOpen(live);
    this.open.delete(live.response.order_id);
    this.index.remove(seqOf(live.response.order_id));
    live.response.status = status;
    live.response.timestamp = at;
    this.touch(live);
    this.publish(live);
    this.trimFinal();
  }

  private publish(live: LiveOrder, fill?: Fill): void {
    const order = this.view(live);
    this.outbox.push(fill ? { order, fill: cloneFill(fill) } : { order });
  }

  private view(live: LiveOrder): OrderResponse {
    return cloneOrderResponse(live.response);
  }

  private recentFills(): Fill[] {
    return this.fills.length > MAX_FILLS_KEPT ? this.fills.slice(-MAX_FILLS_KEPT) : this.fills;
  }

  /** Forgets the oldest final orders beyond MAX_FINAL_ORDERS_KEPT, oldest to become final first. */
  private trimFinal(): void {
    let finals = this.orders.size - this.open.size;
    while (finals > MAX_FINAL_ORDERS_KEPT && this.finalHead < this.finalQueue.length) {
      const id = this.finalQueue[this.finalHead++] as string;
      const o = this.orders.get(id);
      if (o && isFinalStatus(o.response.status)) {
        this.orders.delete(id);
        this.removedIds.push(id);
        this.byClientId.delete(o.response.client_order_id);
        finals--;
      }
    }
    if (this.finalHead > 4096 && this.finalHead * 2 > this.finalQueue.length) {
      this.finalQueue = this.finalQueue.slice(this.finalHead);
      this.finalHead = 0;
    }
  }

  // --- venue rules ---

  private venueRule(live: LiveOrder, instrument: Instrument, now: number): string | undefined {
    const request = live.request;
    const symbol = request.symbol;
    if (!isOnStep(request.quantity, instrument.lotSize))
      return `quantity ${plain(request.quantity)} is not a multiple of the lot size ${plain(instrument.lotSize)} for ${symbol}`;
    if (request.quantity < instrument.minQuantity)
      return `quantity ${plain(request.quantity)} is below the minimum ${plain(instrument.minQuantity)} for ${symbol}`;
    const type = request.order_type;
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

    const added = this.addedExposure(live, instrument, now);
    if (added > 0n) {
      const available = this.valuation().buyingPower;
      if (added > available) {
        const decimals = currencyDecimals(this.currency);
        const show = (units: bigint) => fromMoney(roundMoney(units, decimals)).toFixed(decimals);
        return `insufficient buying power: the order needs ${show(added)} ${this.currency} and ${show(available)} ${this.currency} is available (1× leverage)`;
      }
    }
    return undefined;
  }

  /**
   * Notional (account currency) by which an order would grow its position if it filled in full
   * now, priced at its limit or stop, or at the touch for a market order. Reducing orders add none.
   */
  private addedExposure(live: LiveOrder, instrument: Instrument, now: number): bigint {
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
      const quote = this.quotes.quote(request.symbol, now);
      price = request.side === 'buy' ? quote.ask : quote.bid;
    }
    return this.toAccount(mulMoney(units(price), grows), instrument.quoteCurrency);
  }

  // --- buying power held by open orders ---

  private trackOpen(live: LiveOrder, now: number): void {
    const key = instrumentKey(live.request.symbol);
    let orders = this.openBySymbol.get(key);
    if (!orders) {
      orders = new Set();
      this.openBySymbol.set(key, orders);
    }
    orders.add(live);
    // One more order against an unchanged position: its own term is all that changes.
    const cached = this.reserveCache.get(key);
    if (cached !== undefined) {
      if (live.request.order_type.type === 'market') this.reserveCache.delete(key);
      else this.reserveCache.set(key, cached + this.addedExposure(live, instrumentFor(live.request.symbol), now));
    }
  }

  private untrackOpen(live: LiveOrder): void {
    const key = instrumentKey(live.request.symbol);
    const orders = this.openBySymbol.get(key);
    orders?.delete(live);
    if (orders?.size === 0) this.openBySymbol.delete(key);
    this.reserveCache.delete(key);
  }

  /**
   * What a symbol's open orders hold of buying power: remembered while the position and the orders
   * stay as they are, so that placing many resting orders costs each one its own term, not a pass over
   * all of them. Not remembered when the amount moves with the market: a market order waiting to
   * arrive (priced at the touch) or a quote currency other than the account's (converted at the mid).
   */
  private reservedIn(key: string, orders: ReadonlySet<LiveOrder>, now: number): bigint {
    const cached = this.reserveCache.get(key);
    if (cached !== undefined) return cached;
    let sum = 0n;
    let moves = false;
    for (const o of orders) {
      const instrument = instrumentFor(o.request.symbol);
      sum += this.addedExposure(o, instrument, now);
      if (o.request.order_type.type === 'market' || !sameMoney(instrument.quoteCurrency, this.currency)) moves = true;
    }
    if (!moves) this.reserveCache.set(key, sum);
    return sum;
  }

  // --- money ---

  private valuation(): { balance: bigint; equity: bigint; buyingPower: bigint } {
    let balance = 0n;
    for (const [currency, units] of this.ledger.cash) balance += this.toAccount(units, currency);
    let value = 0n;
    let gross = 0n;
    for (const p of this.ledger.positions.values()) {
      const v = this.toAccount(mulMoney(p.quantity, this.mid(p.symbol)), instrumentFor(p.symbol).quoteCurrency);
      value += v;
      gross += abs(v);
    }
    const now = this.clock.now();
    let reserved = 0n;
    for (const [key, orders] of this.openBySymbol) reserved += this.reservedIn(key, orders, now);
    const equity = balance + value;
    return { balance, equity, buyingPower: equity - gross - reserved };
  }

  /** The mid at `clock.now()`, exact in money units. */
  private mid(symbol: string): bigint {
    const q = this.quotes.quote(symbol, this.clock.now());
    const last = this.mids.get(symbol);
    if (last !== undefined && last.bid === q.bid && last.ask === q.ask) return last.mid;
    const mid = divRound(units(q.bid) + units(q.ask), 2n);
    if (this.mids.size >= 4096) this.mids.clear();
    this.mids.set(symbol, { bid: q.bid, ask: q.ask, mid });
    return mid;
  }

  /**
   * An amount in `currency` in the account currency, at the mid of a preset pair that links them
   * (EUR_USD, USD_JPY, BTCUSDT…). A currency no preset links (only possible for inferred symbols)
   * counts 1:1, as the paper venue has no price for it.
   */
  private toAccount(amount: bigint, currency: string): bigint {
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
      const rate = this.mid(pair);
      return inverse ? divMoney(amount, rate) : mulMoney(amount, rate);
    }
    return amount;
  }

  private positionList(): Position[] {
    return [...this.ledger.positions.values()].map((p) => {
      const mid = this.mid(p.symbol);
      const unrealized = mulMoney(mid - p.averagePrice, p.quantity);
      return {
        symbol: p.symbol,
        quantity: fromMoney(p.quantity),
        average_price: fromMoney(p.averagePrice),
        current_price: fromMoney(mid),
        unrealized_pnl: fromMoney(this.toAccount(unrealized, instrumentFor(p.symbol).quoteCurrency)),
      };
    });
  }

  private ensureConnected(): void {
    if (!this.connected) throw new BrokerError('NOT_CONNECTED', 'the paper venue is not connected; connect first');
  }

  private mustFind(orderId: string): LiveOrder {
    const live = this.orders.get(orderId);
    if (!live)
      throw new BrokerError(
        'ORDER_NOT_FOUND',
        `there is no paper order ${orderId} (the venue keeps open orders and the last ${MAX_FINAL_ORDERS_KEPT} final ones)`,
      );
    return live;
  }

  // --- persistence ---

  private resetInMemory(): void {
    this.ledger = new Ledger();
    this.ledger.addCash(this.currency, units(this.startingCash));
    this.nextOrder = 0;
    this.nextFill = 0;
    this.orders = new Map();
    this.open = new Map();
    this.index.clear();
    this.byClientId = new Map();
    this.fills = [];
    this.finalQueue = [];
    this.finalHead = 0;
    this.openBySymbol = new Map();
    this.reserveCache = new Map();
    this.outbox = [];
    this.changed.clear();
    this.removedIds = [];
    this.newFills = [];
    this.dirty = false;
  }

  /** Marks an order as changed by the operation under way (saved with it). */
  private touch(live: LiveOrder): void {
    this.dirty = true;
    if (this.stateFile) this.changed.add(live);
  }

  /**
   * Saves the operation's change: one journal line, or a new snapshot when there is none yet for this
   * account or the journal has grown past JOURNAL_LIMIT_BYTES.
   */
  private save(): void {
    if (!this.stateFile) return;
    const changed = [...this.changed];
    const removed = this.removedIds;
    const fills = this.newFills;
    this.changed.clear();
    this.removedIds = [];
    this.newFills = [];
    // A failed save leaves the next one to write a whole snapshot: a journal line carries only its own
    // change, so one that never reached the disk would otherwise be missing for good.
    if (!this.needSnapshot && this.journalBytes < (this.options.journalLimitBytes ?? ENV_JOURNAL_LIMIT ?? JOURNAL_LIMIT_BYTES)) {
      try {
        this.journalBytes += appendPaperJournal(this.stateFile, {
          generation: this.generation,
          ...this.books(),
          // An order made and trimmed within one change is not kept.
          orders: changed.filter((o) => this.orders.get(o.response.order_id) === o),
          removed,
          fills,
        });
      } catch (e) {
        this.needSnapshot = true;
        throw e;
      }
      crashPoint('paper-after-save');
      return;
    }
    // A new snapshot is always a new generation, so no journal line written before it applies to it.
    const generation = this.snapshotOnDisk ? this.generation + 1 : this.generation;
    this.needSnapshot = true;
    writePaperState(this.stateFile, this.snapshot(generation));
    this.generation = generation;
    this.snapshotOnDisk = true;
    this.needSnapshot = false;
    this.journalBytes = 0;
    crashPoint('paper-after-save');
  }

  private books(): Pick<PaperState, 'cash' | 'realized' | 'positions' | 'counters'> {
    return {
      cash: Object.fromEntries([...this.ledger.cash].map(([c, u]) => [c, u.toString()])),
      realized: Object.fromEntries([...this.ledger.realized].map(([c, u]) => [c, u.toString()])),
      positions: [...this.ledger.positions.values()].map((p) => ({
        symbol: p.symbol,
        quantity: p.quantity.toString(),
        averagePrice: p.averagePrice.toString(),
      })),
      counters: { order: this.nextOrder, fill: this.nextFill },
    };
  }

  private snapshot(generation: number): PaperState {
    return {
      version: 2,
      accountId: this.accountId,
      currency: this.currency,
      seed: this.seed,
      ...this.books(),
      orders: [...this.orders.values()],
      fills: this.recentFills(),
      generation,
    };
  }

  private restore(state: PaperState): void {
    this.resetInMemory();
    this.accountId = state.accountId;
    this.currency = state.currency;
    this.ledger.cash.clear();
    for (const [c, u] of Object.entries(state.cash)) this.ledger.cash.set(c, BigInt(u));
    for (const [c, u] of Object.entries(state.realized)) this.ledger.realized.set(c, BigInt(u));
    for (const p of state.positions)
      this.ledger.positions.set(instrumentKey(p.symbol), { symbol: p.symbol, quantity: BigInt(p.quantity), averagePrice: BigInt(p.averagePrice) });
    this.nextOrder = state.counters.order;
    this.nextFill = state.counters.fill;
    for (const o of state.orders) {
      const live: LiveOrder = { ...o, request: { ...o.request, client_order_id: o.request.client_order_id } };
      this.orders.set(o.response.order_id, live);
      if (!isFinalStatus(o.response.status)) {
        this.open.set(o.response.order_id, live);
        this.trackOpen(live, 0);
      }
      this.byClientId.set(o.response.client_order_id, o.response.order_id);
    }
    // Oldest to become final first (a final order's timestamp is when it became final), as trimming expects.
    this.finalQueue = state.orders
      .filter((o) => isFinalStatus(o.response.status))
      .sort((a, b) => a.response.timestamp - b.response.timestamp || seqOf(a.response.order_id) - seqOf(b.response.order_id))
      .map((o) => o.response.order_id);
    this.fills = state.fills;
    for (const live of this.open.values()) this.reindex(live);
    // The saved market comes back with the account unless the caller chose another feed or seed.
    if (!this.options.quotes && this.options.seed === undefined && state.seed !== null && state.seed !== this.seed) {
      this.seed = state.seed;
      this.quotes = new SyntheticFeed(state.seed);
    }
  }
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);
