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
 * | limit, resting GTC/GTD | when a later quote reaches it, up to the size shown through it; or  | the limit (maker)                         |
 * |                        | by trades in recorded data, by queue position (`queue.ts`)          |                                           |
 * | stop                   | triggers when ask ≥ stop (buy) / bid ≤ stop (sell), then market;    | the book at the trigger (gaps slip)       |
 * |                        | over a candle, where the bar's path takes the touch there (barPath) |                                           |
 * | stop-limit             | triggers like a stop, then is a new limit: marketable or resting    | the book, never beyond the limit          |
 * | IOC/FOK not executable | cancelled at once (an untriggered stop with IOC/FOK too)            | –                                         |
 * | GTD                    | rests until `expires_at`, then `expired`                            | –                                         |
 *
 * - Liquidity taken from a quote stays taken until the quote changes; `depth: false` restores the
 *   touch-only model (IOC/FOK limited to the touch size, everything else fills in full at the touch).
 * - Refused with a `rejected` status naming the rule (not an exception): quantity below the
 *   minimum or off the lot, a price off the tick (float noise such as 1.0845000000000001 is
 *   tolerated), a GTD already past, an order beyond buying power.
 * - Buying power, balance and equity: `account.ts`. Money is kept in scaled integers (10^-10) so
 *   cash and positions never drift.
 *
 * Where each concern lives: this file is the API (what the product holds: the venue behind its fault
 * switch, plus paper-only views); `venue.ts` runs each call as an operation (change, save, then tell);
 * `matching.ts` decides fills; `account.ts` values the account; `orders.ts` keeps orders and fills;
 * `persistence.ts` + `state.ts` keep the account file.
 */
import type {
  AccountInfo,
  Fill,
  InstrumentRules,
  OrderResponse,
  PlacedOrderRequest,
  Position,
  Quote,
} from '../../orders/model';
import type {
  BrokerApi,
  BrokerCapabilities,
  Disposable,
  ImmediateVenue,
  OrderLookupHint,
  OrderUpdate,
} from '../broker';
import { FaultInjectingBroker, type FaultSwitch } from './faults';
import { PAPER_TRAILING_REASON } from './rules';
import { PaperVenue, type Candle, type PaperBrokerOptions } from './venue';

export { PAPER_TRAILING_REASON } from './rules';
export { defaultFees, type FeeModel, type LatencyModel } from './costs';
export { MAX_FILLS_KEPT, MAX_FINAL_ORDERS_KEPT } from './orders';
export { JOURNAL_LIMIT_BYTES } from './persistence';
export type { Candle, PaperBrokerOptions } from './venue';

/** Every type × TIF (see the header table); a constant so the broker registry reads it without an instance. */
export const PAPER_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true, trailing_stop: false },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
  unsupported: [{ orderType: 'trailing_stop', reason: PAPER_TRAILING_REASON }],
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
  /**
   * The fault switch a user flips on the running venue (disconnect, reject next, add latency); see
   * `FaultSwitch`. Off by default; while nothing is switched on, calls go straight to the venue.
   */
  readonly faults: FaultSwitch;

  private readonly venue: PaperVenue;
  private readonly injector: FaultInjectingBroker;

  constructor(options: PaperBrokerOptions) {
    this.venue = new PaperVenue(PAPER_CAPABILITIES, options);
    const report = options.onError ?? ((message: string) => process.emitWarning(message));
    this.injector = new FaultInjectingBroker(this.venue, {
      clock: options.clock,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      onListenerError: (e) => report(`a paper venue order update listener failed: ${(e as Error).message}`, e),
    });
    this.faults = this.injector.asSwitch();
  }

  /** Where a call goes: through the fault switch only while something is switched on. */
  private get route(): BrokerApi {
    return this.injector.armed ? this.injector : this.venue;
  }

  // --- connection and account lifecycle ---

  /** Connects (loading the saved account on first connect); also restores a link the fault switch dropped. */
  connect(): Promise<void> {
    return this.injector.connect();
  }

  disconnect(): Promise<void> {
    return this.injector.disconnect();
  }

  isConnected(): boolean {
    return this.injector.isConnected();
  }

  /** The account file, when the account is kept on disk. */
  get accountFile(): string | undefined {
    return this.venue.accountFile;
  }

  /** Fills the account has made since it was opened (its fill counter); read after connecting. */
  fillsEver(): number {
    return this.venue.fillsEver();
  }

  /** Starts the account afresh: starting cash, no positions, no orders, counters at zero; deletes the account file. */
  reset(): void {
    this.venue.reset();
  }

  /**
   * A connected copy of this account in memory — cash, positions, resting orders, counters and the
   * same market — for Test Order: it fills there realistically, and nothing it does reaches this
   * account, its file or its listeners. The copy is never saved and has no timer.
   */
  scratchCopy(): BrokerApi {
    return this.venue.scratchCopy();
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.injector.onOrderUpdate(listener);
  }

  // --- BrokerApi ---

  getQuote(symbol: string): Promise<Quote> {
    return this.route.getQuote(symbol);
  }

  /** The rules of an instrument, under the venue's own id for it (`canonicalSymbol`); answered without a connection. */
  getInstrument(symbol: string): Promise<InstrumentRules> {
    return this.venue.getInstrument(symbol);
  }

  submitOrder(request: PlacedOrderRequest): Promise<OrderResponse> {
    return this.route.submitOrder(request);
  }

  cancelOrder(orderId: string): Promise<void> {
    return this.route.cancelOrder(orderId);
  }

  getOrderStatus(orderId: string): Promise<OrderResponse> {
    return this.route.getOrderStatus(orderId);
  }

  getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined> {
    return this.route.getOrderByClientId(clientOrderId, hint);
  }

  listOpenOrders(): Promise<OrderResponse[]> {
    return this.route.listOpenOrders();
  }

  getPositions(): Promise<Position[]> {
    return this.route.getPositions();
  }

  getAccountInfo(): Promise<AccountInfo> {
    return this.route.getAccountInfo();
  }

  /** The venue's answers within the call; undefined while a fault is switched on (faults take the promise way). */
  immediate(): ImmediateVenue | undefined {
    return this.injector.armed ? undefined : this.venue.immediate();
  }

  // --- paper-only views ---

  /** Cash held in each currency, exact (a quote currency may be negative: the venue lends it). */
  getCashBalances(): Record<string, number> {
    return this.venue.getCashBalances();
  }

  /**
   * Whether buying power can move with the quotes alone, nothing trading: false while the account holds cash in its
   * own currency only, long positions and no open order (then it is the cash), true otherwise (a short's value, a
   * loan in another currency, an open order's reserve move with the market).
   */
  buyingPowerMovesWithQuotes(): boolean {
    return this.venue.buyingPowerMovesWithQuotes();
  }

  /** Realized profit and loss by quote currency, before commission. */
  getRealizedPnl(): Record<string, number> {
    return this.venue.getRealizedPnl();
  }

  /** The most recent fills (up to `MAX_FILLS_KEPT`), oldest first. */
  getFills(): Fill[] {
    return this.venue.getFills();
  }

  /**
   * Re-evaluates every open order against the quote at `clock.now()`: arrivals, expiries,
   * triggers, fills. Public methods call it first; tests on a `TestClock` call it after moving the
   * clock or the quotes.
   */
  poll(): void {
    this.venue.poll();
  }

  /**
   * Trades printed at `price` for `quantity` (a tick's last price and size in recorded data), at
   * `clock.now()`: polls first, then fills resting limit orders by queue position (README, "Fills of
   * resting limit orders"). A print through an order's price fills it in full; at its price the quantity
   * consumes the size ahead of it first. The replay calls it once per record that has trades.
   */
  recordTrade(symbol: string, price: number, quantity: number): void {
    this.venue.recordTrade(symbol, price, quantity);
  }

  /**
   * A bar of recorded data, at `clock.now()` (set the clock to the bar's time first; the quote there is the
   * bar's close): four prints — the open, the extreme nearer to it, the other extreme, the close — each with a
   * quarter of its volume (`recordTrade` for each), in one saved change. Stops and a stop-limit's trigger see
   * the path between them, the touch moving with it (`barPath.ts`): one is triggered where the bar's bid (a
   * sell) or ask (a buy) reaches its price and fills there, or at the open's touch on a gap. It acts on the
   * orders open when called: an order decided on this bar's close is placed after it.
   */
  recordCandle(symbol: string, candle: Candle): void {
    this.venue.recordCandle(symbol, candle);
  }
}
