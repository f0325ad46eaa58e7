/**
 * The paper venue proper: one account (`account.ts`), its orders (`orders.ts`), the matching engine
 * (`matching.ts`) and the account file (`persistence.ts`), driven through operations — each call changes
 * the account, saves the change, then delivers its order updates, so a listener never sees a state a
 * crash could take back. `PaperBroker` (`paperBroker.ts`) puts it behind the fault switch; this class is
 * what the switch passes calls through to.
 *
 * - Resting orders are re-evaluated against the quote at `clock.now()` by `poll()`, which every public
 *   method calls first, and which a timer calls when connected on a real clock.
 * - Order updates (submitted, each fill, cancelled, expired, rejected) are delivered synchronously, in
 *   order, after the change has been saved.
 *
 * Past 450 lines on purpose: the venue's whole BrokerApi, each call one operation; its answers within the call
 * (`immediate`) are the same operations, not copies.
 */
import { systemClock, type Clock } from '../../common/clock';
import { fromMoney } from '../../common/decimal';
import {
  checkOrderRequest,
  isFinalStatus,
  type AccountInfo,
  type Fill,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import {
  OrderUpdateListeners,
  type AccountFunds,
  type BrokerApi,
  type BrokerCapabilities,
  type Disposable,
  type ImmediateVenue,
  type OrderUpdate,
} from '../broker';
import { BrokerError } from '../errors';
import { PaperAccount, type Market } from './account';
import { defaultFees, noLatency, type FeeModel, type LatencyModel } from './costs';
import { DEFAULT_DEPTH, validateDepth, type DepthOptions } from './depth';
import { SyntheticFeed, type QuoteSource } from './feed';
import { canonicalSymbol, instrumentFor, rulesOf } from './instruments';
import { PaperMatching } from './matching';
import { PaperOrders, type LiveOrder } from './orders';
import { units } from './money';
import { PaperPersistence, snapshot } from './persistence';

/** A bar of recorded data, as `recordCandle` takes it. */
export interface Candle {
  open: number;
  high: number;
  low: number;
  close: number;
  /** Units traded during the bar (0 when the data has none). */
  volume: number;
}

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
  /** How latency switched on with `faults.setLatency` is waited for (default: setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

export class PaperVenue implements BrokerApi {
  readonly id = 'paper';
  readonly displayName = 'Paper';
  readonly environment = 'paper' as const;
  readonly absenceConclusiveAfterMs = 0;

  private readonly clock: Clock;
  private readonly pollIntervalMs: number;
  private readonly market: Market;
  private seed: number | null;
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  // A faulty listener must not undo or hide a fill that has happened.
  private readonly listeners = new OrderUpdateListeners((e) =>
    this.reportError(`a paper venue order update listener failed: ${(e as Error).message}`, e),
  );
  /** Updates of the operation under way, delivered once it is saved. */
  private outbox: OrderUpdate[] = [];
  private delivering = false;
  /** A change whose save failed: held in memory, saved (and then told) before anything else is done or read. */
  private unsaved = false;
  private readonly orders: PaperOrders;
  private readonly account: PaperAccount;
  private readonly matching: PaperMatching;
  private readonly persistence: PaperPersistence;

  constructor(
    readonly capabilities: BrokerCapabilities,
    private readonly options: PaperBrokerOptions,
  ) {
    this.clock = options.clock;
    const depth = options.depth === false ? false : { ...DEFAULT_DEPTH, ...options.depth };
    if (depth) validateDepth(depth);
    this.pollIntervalMs = options.pollIntervalMs ?? (options.clock === systemClock ? 1000 : 0);
    this.seed = options.quotes ? null : (options.seed ?? 1);
    this.market = { quotes: options.quotes ?? new SyntheticFeed(this.seed ?? 1) };
    this.persistence = new PaperPersistence(options.stateFile, options.journalLimitBytes);
    this.orders = new PaperOrders(options.stateFile !== undefined);
    this.account = new PaperAccount(
      this.market,
      this.clock,
      options.startingCash ?? 100_000,
      options.accountId ?? 'PAPER-1',
      options.currency ?? 'USD',
    );
    const fees = options.fees ?? defaultFees;
    const latency = options.latency ?? noLatency;
    this.matching = new PaperMatching(
      this.market,
      this.orders,
      this.account,
      { clock: this.clock, fees, latency, depth },
      // The response and the fill are frozen: listeners get them as they are, never a copy.
      (live, fill) => this.outbox.push(fill ? { order: live.response, fill } : { order: live.response }),
    );
  }

  // --- connection and account lifecycle ---

  async connect(): Promise<void> {
    if (this.connected) return;
    const saved = this.persistence.load();
    if (saved) {
      this.resetInMemory();
      this.account.restore(saved);
      const open = this.orders.restore(saved);
      for (const live of open) this.account.trackOpen(live, 0);
      this.matching.restoreOpen(open);
      // The saved market comes back with the account unless the caller chose another feed or seed.
      if (!this.options.quotes && this.options.seed === undefined && saved.seed !== null && saved.seed !== this.seed) {
        this.seed = saved.seed;
        this.market.quotes = new SyntheticFeed(saved.seed);
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

  get accountFile(): string | undefined {
    return this.persistence.file;
  }

  fillsEver(): number {
    return this.orders.nextFill;
  }

  reset(): void {
    this.resetInMemory();
    this.persistence.delete();
  }

  /**
   * A connected copy of this account in memory — cash, positions, resting orders, counters and the same
   * market — for Test Order (see PaperBroker.scratchCopy). Never saved, no timer, no listeners of ours.
   */
  scratchCopy(): PaperVenue {
    this.ensureConnected();
    this.poll();
    const copy = new PaperVenue(this.capabilities, {
      ...this.options,
      stateFile: undefined,
      pollIntervalMs: 0,
      quotes: this.market.quotes,
    });
    const state = structuredClone(snapshot(this.orders, this.account, this.seed, 0));
    copy.account.restore(state);
    const open = copy.orders.restore(state);
    for (const live of open) copy.account.trackOpen(live, 0);
    copy.matching.restoreOpen(open);
    copy.connected = true;
    return copy;
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.listeners.add(listener);
  }

  // --- BrokerApi ---

  async getQuote(symbol: string): Promise<Quote> {
    return this.quoteNow(symbol);
  }

  /** The answers of `getQuote`, `getAccountInfo` and `submitOrder` within the call, while connected. */
  immediate(): ImmediateVenue | undefined {
    return this.connected ? this.answersNow : undefined;
  }

  private readonly answersNow: ImmediateVenue = {
    quote: (symbol) => this.quoteNow(symbol),
    funds: () => this.fundsNow(),
    submit: (request) => this.submitNow(request),
  };

  private quoteNow(symbol: string): Quote {
    this.ensureConnected();
    return this.market.quotes.quote(symbol, this.clock.now());
  }

  /** Static venue rules, under the venue's own id for the instrument (`canonicalSymbol`): answered without a connection. */
  async getInstrument(symbol: string): Promise<InstrumentRules> {
    return { ...rulesOf(instrumentFor(symbol)), symbol: canonicalSymbol(symbol) };
  }

  async submitOrder(request: PlacedOrderRequest): Promise<OrderResponse> {
    return this.submitNow(request);
  }

  private submitNow(request: PlacedOrderRequest): OrderResponse {
    this.ensureConnected();
    const wellFormed = checkOrderRequest(request);
    if (!wellFormed.success || !request.client_order_id) {
      const why = wellFormed.success
        ? 'client_order_id is required'
        : wellFormed.error.issues.map((i) => i.message).join('; ');
      throw new BrokerError('INVALID_ORDER', `the paper venue cannot read this order: ${why}`);
    }
    return this.operation(() => {
      this.pollNow();
      const known = this.orders.idOf(request.client_order_id);
      if (known !== undefined) {
        const status = this.orders.all.get(known)?.response.status.status ?? 'known';
        throw new BrokerError(
          'DUPLICATE_CLIENT_ORDER_ID',
          `client order id ${request.client_order_id} was already used for order ${known} (${status}); look that order up instead of sending it again`,
        );
      }
      return view(this.matching.submit(request, this.clock.now()));
    });
  }

  async cancelOrder(orderId: string): Promise<void> {
    this.ensureConnected();
    this.operation(() => {
      this.pollNow();
      const live = this.orders.mustFind(orderId);
      if (isFinalStatus(live.response.status)) {
        throw new BrokerError(
          'INVALID_ORDER',
          `order ${orderId} is already ${live.response.status.status} and cannot be cancelled`,
        );
      }
      this.matching.cancel(live, this.clock.now());
    });
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return view(this.orders.mustFind(orderId));
    });
  }

  async getOrderByClientId(clientOrderId: string): Promise<OrderResponse | undefined> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      const live = this.orders.byClient(clientOrderId);
      return live ? view(live) : undefined;
    });
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return [...this.orders.open.values()].map(view);
    });
  }

  async getPositions(): Promise<Position[]> {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return this.account.positionList();
    });
  }

  async getAccountInfo(): Promise<AccountInfo> {
    return this.accountNow();
  }

  /** `accountNow`'s buying power and currency: one valuation, no position rows, two fewer conversions. */
  private fundsNow(): AccountFunds {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      return { buying_power: fromMoney(this.account.valuation().buyingPower), currency: this.account.currency };
    });
  }

  private accountNow(): AccountInfo {
    this.ensureConnected();
    return this.operation(() => {
      this.pollNow();
      // One pass marks each position once, for the totals and the rows alike.
      const positions: Position[] = [];
      const { balance, equity, buyingPower } = this.account.valuation(positions);
      return {
        account_id: this.account.accountId,
        balance: fromMoney(balance),
        equity: fromMoney(equity),
        buying_power: fromMoney(buyingPower),
        currency: this.account.currency,
        open_positions: positions,
      };
    });
  }

  // --- paper-only views ---

  getCashBalances(): Record<string, number> {
    return this.account.cashBalances();
  }

  /** Whether buying power can move with the quotes alone (see PaperAccount.buyingPowerFixed). */
  buyingPowerMovesWithQuotes(): boolean {
    return !this.account.buyingPowerFixed();
  }

  getRealizedPnl(): Record<string, number> {
    return this.account.realizedPnl();
  }

  getFills(): Fill[] {
    // The fills are frozen; the list is the caller's own.
    return this.orders.recentFills().slice();
  }

  poll(): void {
    this.operation(() => this.pollNow());
  }

  recordTrade(symbol: string, price: number, quantity: number): void {
    this.operation(() => {
      this.pollNow();
      this.matching.trade(symbol, price, units(quantity), this.clock.now());
    });
  }

  recordCandle(symbol: string, candle: Candle): void {
    // NautilusTrader's bar model: the open, the nearer extreme, the other, the close; a quarter of the volume each.
    const share = units(candle.volume) / 4n;
    this.operation(() => this.matching.candle(symbol, candle, share, this.clock.now()));
  }

  // --- operations: change, save, then tell ---

  /**
   * Runs one change to the account, saves it, then delivers its updates, so a listener never sees
   * a state that a crash could take back. Updates raised by a listener's own calls queue behind
   * the ones being delivered, keeping the order the venue made them in.
   */
  private operation<T>(change: () => T): T {
    // A change that could not be saved is not shown to anyone (no answer, no update, no look-up) until it
    // is: a caller told of it could record a fill that a crash then takes back from the account.
    if (this.unsaved) this.save();
    let result: T;
    try {
      result = change();
    } finally {
      if (this.orders.dirty) {
        this.orders.dirty = false;
        this.save();
      }
      this.deliver();
    }
    return result;
  }

  /**
   * Saves the account; a failure keeps the change in memory for the next operation to save, and says the
   * outcome is unknown (the engine then looks the order up by client id, never resends), since the change
   * is made but not durable: it takes effect once saved, or never if the process ends first.
   */
  private save(): void {
    try {
      this.persistence.save(this.orders, this.account, this.seed);
      this.unsaved = false;
    } catch (e) {
      this.unsaved = true;
      throw new BrokerError(
        'INTERNAL',
        `${(e as Error).message}; the change is held until it can be saved (nothing of it is confirmed before)`,
        { cause: e, outcomeUnknown: true },
      );
    }
  }

  private deliver(): void {
    if (this.delivering || this.outbox.length === 0) return;
    this.delivering = true;
    try {
      // Read by index, not shift(): a burst of fills would move the whole queue per update.
      for (let i = 0; i < this.outbox.length; i++) this.listeners.emit(this.outbox[i] as OrderUpdate);
    } finally {
      this.outbox = [];
      this.delivering = false;
    }
  }

  private pollNow(): void {
    this.matching.poll(this.clock.now());
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

  private ensureConnected(): void {
    if (!this.connected) throw new BrokerError('NOT_CONNECTED', 'the paper venue is not connected; connect first');
  }

  private resetInMemory(): void {
    this.orders.clear();
    this.account.reset();
    this.matching.clear();
    this.outbox = [];
  }
}

/** What a caller gets of an order: its response as it is now, frozen down to its parts (see `LiveOrder`). */
function view(live: LiveOrder): OrderResponse {
  return live.response;
}
