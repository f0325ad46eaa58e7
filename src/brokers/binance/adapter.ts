/**
 * Binance spot through ccxt's `binance` class (REST only), testnet by default. This file is the `BrokerApi`
 * over its neighbours: orders.ts (what Binance accepts, order wire ↔ model, status table), errors.ts
 * (failures → `BrokerError`), market.ts (symbols, filters, quotes), account.ts (balances → account and
 * positions), connection.ts (loading and configuring ccxt) and wire.ts (numbers and the reply reader).
 * It runs past 450 lines because the state every call shares (the orders sent this session, the symbol of
 * each order id, the tracker and the read caches) lives here, and about 60 of them are the contract below.
 *
 *
 * | ours        | GTC                          | IOC                          | FOK                     | GTD     |
 * |-------------|------------------------------|------------------------------|-------------------------|---------|
 * | market      | MARKET (no timeInForce)      | MARKET (no timeInForce)      | refused                 | refused |
 * | limit       | LIMIT timeInForce=GTC        | LIMIT timeInForce=IOC        | LIMIT timeInForce=FOK   | refused |
 * | stop        | STOP_LOSS stopPrice          | STOP_LOSS stopPrice          | refused                 | refused |
 * | stop_limit  | STOP_LOSS_LIMIT GTC          | STOP_LOSS_LIMIT IOC          | STOP_LOSS_LIMIT FOK     | refused |
 *
 * - Binance MARKET and STOP_LOSS orders take no timeInForce (sending one is -1106) and behave like IOC:
 *   whatever cannot fill at once ends EXPIRED. So GTC and IOC both map to them unchanged, and FOK is
 *   refused (Binance would fill part). Binance spot has no GTD at all.
 * - Refused before sending, with nothing sent (thrown `BrokerError`): the combinations above
 *   (`UNSUPPORTED_ORDER`), a client order id outside 1–36 of `[.A-Z:/a-z0-9_-]`, and any order a symbol
 *   filter would refuse (`INVALID_ORDER`, `venueCode` = the filter: PRICE_FILTER, LOT_SIZE,
 *   MARKET_LOT_SIZE, NOTIONAL). Market orders are checked against NOTIONAL by Binance only (it values
 *   them at its average price); stop orders are valued at their stop price.
 * - Refused by Binance (HTTP 400 -2010 NEW_ORDER_REJECTED, -1013 filter failure, other order errors):
 *   `submitOrder` resolves with a `rejected` status naming Binance's reason and code (INSUFFICIENT_FUNDS,
 *   PERMISSION_DENIED for what the account may not do, UNSUPPORTED_ORDER for an order type the symbol does not
 *   take, else INVALID_ORDER), as the `BrokerApi` contract asks, except a duplicate client order id, which throws
 *   `DUPLICATE_CLIENT_ORDER_ID` so the caller looks the existing order up.
 * - A submit or cancel that times out, loses its connection, gets a 5xx or an unreadable reply throws
 *   with `outcomeUnknown: true` and is never resent (ccxt retries are off: `maxRetriesOnFailure` 0);
 *   look the order up by client order id. Binance says so itself: on a 5XX "the execution status is
 *   UNKNOWN and could have been a success" (rest-api.md "HTTP Return Codes").
 * - A request Binance refused unprocessed (429/418 with Retry-After in seconds, -1003, -1015, -1021
 *   outside recvWindow, a refused connection) is sent again, newly timestamped and signed, within
 *   `retry` (default 3 attempts, no attempt later than 5 s after the first). newClientOrderId is unique
 *   only among open orders (rest-api.md "New order"), so deduplication cannot make a blind resend
 *   safe; these answers can, since they prove nothing was done. When the bound runs out the error is
 *   RATE_LIMITED/TIMEOUT, retryable, never a rejected order.
 * - After a 429 or 418 with Retry-After nothing at all is sent until that time has passed (the limits are
 *   per IP, and not backing off turns 429s into an IP ban of 2 minutes to 3 days): every call meanwhile
 *   fails RATE_LIMITED, retryable, `retryAfterMs` the time left, having sent nothing; the poll skips. The same
 *   after a 403 (Binance's web application firewall: "usually ... 5 minutes", so 5 minutes unless it says) and
 *   a 418 without Retry-After (2 minutes, the shortest ban). A -1015 "Too many new orders" (a 429 without
 *   Retry-After: the account's unfilled-order count) holds new orders only, for the interval its message names.
 * - A machine clock off from Binance's: every signed request is then refused -1021 (stamped more than
 *   recvWindow behind Binance's time, or over 1000 ms ahead: rest-api.md "Timing security"), so resending it
 *   on the same clock is refused again. On a -1021 the adapter reads Binance's time (GET /api/v3/time,
 *   weight 1) and stamps every later request on it (ccxt's `timeDifference`) before the resend; connect's
 *   account read is resent the same way, so a skewed clock costs one refusal, not every order.
 * - Absence is conclusive: every signed request carries `recvWindow` (default 5000 ms) and Binance
 *   forwards it to the matching engine only while serverTime − timestamp ≤ recvWindow and timestamp <
 *   serverTime + 1000 (rest-api.md "Timing security"). Once forwarded, the engine may still take up to the
 *   API's 10-second timeout to act on it, and a -1007 then says "execution status unknown" (rest-api.md
 *   "General API Information"). So a client order id not found once the last attempt of its submit is older
 *   than recvWindow + 1000 ms (the clock skew that rule allows) + 10 s (the engine's time) never reached the
 *   matching engine in time and never will: `absenceConclusiveAfterMs` = recvWindow + 1000 + 10 000 + the
 *   retry bound (the last attempt starts at most that long after the first). `getOrderByClientId` is undefined
 *   only on -2013 "Order does not exist."; -2026 ORDER_ARCHIVED (an order cancelled or expired with nothing executed,
 *   archived 90 days on) throws ORDER_NOT_FOUND, not retryable, saying the order is final and its details gone (a
 *   `getOrderStatus` of an order this session followed answers its last view, ended); any other failure throws,
 *   retryable. A -2013 for an order Binance acknowledged (its id in this session's or the caller's last view) is
 *   asked by its id too, then ends it on the testnet (a reset deletes every order) and is an error on live (which
 *   deletes none): `erased`; the poll does the same for a followed order that left the open list.
 * - Order ids are "SYMBOL:orderId" (e.g. "BTCUSDT:28") because every Binance order call needs the
 *   symbol. Client order ids are looked up in the symbol this session sent them in; otherwise in the
 *   open orders and the `lookupSymbols` option.
 * - Positions: spot has none. Every asset other than the account currency with a non-zero balance
 *   (free + locked) and a `<asset><currency>` market is a long position marked at that market's mid (its last
 *   price when the book is empty, a symbol not TRADING; 0, said once, with neither: one asset without a price
 *   never makes the account unreadable), read from one 24hr ticker request for up to 20 holdings and from the
 *   book ticker (weight 4 however many) past that; Binance keeps no entry price, so `average_price` is the mark
 *   and `unrealized_pnl` 0.
 * - Account: balance = the account currency's free + locked, buying power = its free part, equity =
 *   balance + positions at their mark. Commission paid in a third asset (BNB) is valued at its <asset><quote>
 *   mark, read at most once a minute (no extra request per order); with no such market it counts as 0, said once.
 * - Order updates come from polling the open orders of the symbols of our working orders (weight 6
 *   each, not 80 for all symbols) every `pollIntervalMs` while one is working (Binance's user-data
 *   stream is not used), plus every answer to submit, cancel and look-ups, all through the order
 *   tracker (`../orderTracker.ts`): fills listed in a submit's reply keep their trade ids, one update
 *   each; fills found by polling (GET /order lists none) are synthesised from `executedQty`.
 * - The API key and secret are read at connect, handed only to ccxt, and removed from every message;
 *   the account's uid is masked to its last four characters in them.
 */
import { z } from 'zod';
import { KeepAliveClient } from '../http';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from '../retry';
import { systemClock, type Clock } from '../../common/clock';
import {
  rejectedOrderResponse,
  cloneOrderRequest,
  checkOrderRequest,
  isFinalStatus,
  type AccountInfo,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import { expectAnswerFor, OrderTracker, plainQuantity } from '../orderTracker';
import { lookUpVanishedOrders } from '../vanishedOrders';
import { SaidOnce } from '../saidOnce';
import { ReadCache } from '../readCache';
import {
  OrderUpdateListeners,
  type BrokerApi,
  type BrokerCapabilities,
  type Disposable,
  type OrderLookupHint,
  type OrderUpdate,
} from '../broker';
import { MissingCredentialError, redactValues, requireCredential, type CredentialSource } from '../credentials';
import { BrokerError, isBrokerError } from '../errors';
import { accountInfoOf, parseAccount, positionsFromBalances } from './account';
import { createExchange, hasSpotOrderApi, type CcxtBinance } from './connection';
import { decimalString, readOrThrow } from './wire';
import { amendedAsOurs, type AmendedView } from './amended';
import { notLive } from '../quoteFreshness';
import { ORDER_ARCHIVED, TOO_MANY_ORDERS, toBrokerError, type HttpCapture } from './errors';
import {
  checkFilters,
  MarketIndex,
  markOf,
  parseTicker,
  quoteOf,
  rulesOf,
  toInstrumentRules,
  type BinanceSymbolRules,
  type MarketEntry,
  type RawTicker,
} from './market';
import {
  BINANCE_CAPABILITIES,
  fillsFromTrades,
  foreignFeeAssets,
  fromOrderId,
  infoOf,
  parseOrder,
  parseOrderList,
  parseOrderListLines,
  parseTrades,
  toCreateOrderArgs,
  toOrderId,
  unsupportedOnBinance,
  type OrderContext,
  type RawTrade,
} from './orders';

export interface BinanceBrokerOptions {
  /** Default 'testnet' (ccxt sandbox mode: testnet.binance.vision). */
  environment?: 'testnet' | 'live';
  /** Replaces the origin of every ccxt API URL (a fake, a proxy); paths are kept. */
  baseUrl?: string;
  credentials: CredentialSource;
  clock?: Clock;
  /** Per request; default 10 000. A submit that takes longer has an unknown outcome. */
  timeoutMs?: number;
  /** Poll open orders and report changes while connected; 0 = off. Default 2000. */
  pollIntervalMs?: number;
  /** ccxt's client-side throttle by venue weight; default true. Tests against a fake turn it off. */
  enableRateLimit?: boolean;
  /** Asset that cash, buying power and positions are counted in; default 'USDT'. */
  accountCurrency?: string;
  /** Symbols to search for a client order id this session did not send (after a restart). */
  lookupSymbols?: string[];
  /** Where failures a timer cannot throw go; default `process.emitWarning`. */
  onError?: (message: string, error: unknown) => void;
  /** recvWindow sent with every signed request (default 5000, Binance's own default; at most 60 000). */
  recvWindowMs?: number;
  /** Resending of requests Binance refused unprocessed (429/418, -1003, -1015, -1021); see `RetryPolicy`. */
  retry?: RetryPolicy;
  /** The IP's request weight per minute (exchangeInfo `rateLimits` REQUEST_WEIGHT; default 6000). */
  requestWeightLimit?: number;
  /** Reuse an account read this long unless an order of ours changed since (`ReadCache`); default 0 (the registry sets 1000). */
  readReuseMs?: number;
}

/** exchangeInfo `rateLimits` REQUEST_WEIGHT, 1 MINUTE, as rest-api.md and enums.md give it (live and the testnet). */
const REQUEST_WEIGHT_PER_MINUTE = 6000;

/** Added to recvWindow: Binance processes a request stamped up to 1000 ms ahead of its clock (rest-api.md "Timing security"). */
const CLOCK_SKEW_MARGIN_MS = 1000;
/**
 * How long the API waits for the matching engine before answering -1007 "Timeout waiting for response from backend
 * server. Send status unknown; execution status unknown." (rest-api.md "General API Information": "APIs have a
 * timeout of 10 seconds when processing a request"): a request forwarded in time may be acted on this much later.
 */
const MATCHING_ENGINE_TIMEOUT_MS = 10_000;

/** errors.md -2013 NO_SUCH_ORDER: "Order does not exist." */
const NO_SUCH_ORDER = -2013;
/** errors.md -1021 INVALID_TIMESTAMP: the request's timestamp is outside recvWindow of Binance's clock. */
const INVALID_TIMESTAMP = -1021;
/** GET /api/v3/myTrades: `limit` "Default 500; max 1000". */
const TRADE_PAGE = 1000;
/** Pages of one order's trades read at most (50 000 trades). */
const TRADE_PAGES_MAX = 50;

/** Refusals of a new order Binance answers with its own code: the order is rejected (see the header). */
const REJECTIONS: ReadonlySet<string> = new Set([
  'INSUFFICIENT_FUNDS',
  'INVALID_ORDER',
  'PERMISSION_DENIED',
  'UNSUPPORTED_ORDER',
]);

/** Holdings marked from the 24hr ticker (`symbols` 1–20 weigh 2); past that the book ticker (4) is read. */
const TICKERS_24HR_CHEAP = 20;
/** rest-api.md "Symbol order book ticker" and "Symbol price ticker" replies, as far as marks need them. */
const RawBookSchema = z.object({ symbol: z.string(), bidPrice: decimalString, askPrice: decimalString });
const RawPriceSchema = z.object({ symbol: z.string(), price: decimalString });

/** How long a fee asset's price (BNB in USDT) values fees charged in it before it is read again. */
const FEE_PRICE_REUSE_MS = 60_000;

/** Client order ids whose symbol is remembered for look-ups. */
const MAX_SENT_KEPT = 10_000;

export class BinanceBroker implements BrokerApi {
  readonly id = 'binance';
  readonly displayName: string;
  readonly environment: 'testnet' | 'live';
  readonly capabilities: BrokerCapabilities = BINANCE_CAPABILITIES;
  readonly absenceConclusiveAfterMs: number;

  private readonly clock: Clock;
  private readonly recvWindowMs: number;
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly currency: string;
  private exchange: CcxtBinance | undefined;
  private secrets: string[] = [];
  private accountId = 'binance';
  /** The account's uid, masked in every message. */
  private accountUid: string | undefined;
  private readonly captures = new WeakMap<object, HttpCapture>();
  private readonly markets = new MarketIndex();
  /** Client order id → what we sent, so look-ups know the symbol and the time in force. */
  private sent = new Map<string, PlacedOrderRequest>();
  /** Binance order id → symbol, for bare ids. */
  private symbolOfOrder = new Map<string, string>();
  private readonly listeners = new OrderUpdateListeners((e) =>
    this.reportError(`a Binance order update listener failed: ${(e as Error).message}`, e),
  );
  /** Turns each view of an order into the updates it brings, once; knows which orders are open. */
  private readonly tracker = new OrderTracker((u) => {
    this.reads.invalidate();
    this.listeners.emit(u);
  });
  /** Account reads (balances, and the tickers that mark them), shared while in flight and reused briefly (see `ReadCache`). */
  private readonly reads: ReadCache;
  /** Quotes: identical reads in flight share one request, never reused after. */
  private readonly quotes = new ReadCache(0);
  /**
   * Prices of fee assets (BNB) in a quote asset, by "<asset><quote>", read when a fill was charged in one and reused
   * for FEE_PRICE_REUSE_MS (on `retryNow`'s clock), so an order that pays its fee in BNB costs no extra request.
   */
  private readonly feePrices = new Map<string, { price: number; at: number }>();
  /** Fee pairs already said to be unvaluable (said once). */
  private readonly feeWarned = new Set<string>();
  /** Amends of our orders at Binance already said (amended.ts). */
  private readonly amendsSaid = new SaidOnce(MAX_SENT_KEPT);
  /** Statuses Binance reported that the status table does not know, and amounts STP took, by order (said once). */
  private readonly unknownStatusSaid = new SaidOnce(MAX_SENT_KEPT);
  /** Symbols of holdings already said to have no price (said once). */
  private readonly unpricedWarned = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** The IP's request weight this minute as Binance's last reply said it (X-MBX-USED-WEIGHT-1M), and that minute. */
  private usedWeight = { weight: 0, minute: Number.NEGATIVE_INFINITY };
  /** The minute the poll was last said to wait for the weight (said once a minute). */
  private weightSaidMinute = Number.NEGATIVE_INFINITY;
  /** No request is sent before this (on `retryNow`'s clock): Binance's last 429/418 asked to wait until then. */
  private quietUntil = Number.NEGATIVE_INFINITY;
  /** No new order is sent before this: the account's unfilled-order count was over its limit (-1015). */
  private ordersQuietUntil = Number.NEGATIVE_INFINITY;
  /** The clock `quietUntil` is on: the retry policy's, so a resend's wait and the hold agree. */
  private readonly retryNow: () => number;
  /** A read of Binance's time in flight after a -1021, shared by every call refused meanwhile. */
  private clockSync: Promise<void> | undefined;

  private readonly http = new KeepAliveClient();

  constructor(private readonly options: BinanceBrokerOptions) {
    this.environment = options.environment ?? 'testnet';
    this.displayName = this.environment === 'live' ? 'Binance' : 'Binance (testnet)';
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.currency = options.accountCurrency ?? 'USDT';
    this.recvWindowMs = options.recvWindowMs ?? 5000;
    if (!(this.recvWindowMs > 0 && this.recvWindowMs <= 60_000))
      throw new RangeError('Binance: recvWindowMs must be in (0, 60000]');
    this.absenceConclusiveAfterMs =
      this.recvWindowMs +
      CLOCK_SKEW_MARGIN_MS +
      MATCHING_ENGINE_TIMEOUT_MS +
      (options.retry?.maxTotalMs ?? DEFAULT_RETRY_POLICY.maxTotalMs);
    this.reads = new ReadCache(options.readReuseMs ?? 0);
    this.retryNow = options.retry?.now ?? (() => performance.now());
  }

  // --- connection ---

  async connect(): Promise<void> {
    if (this.exchange) return;
    let apiKey: string;
    let secret: string;
    try {
      apiKey = await requireCredential(this.options.credentials, 'binance.apiKey');
      secret = await requireCredential(this.options.credentials, 'binance.secret');
    } catch (e) {
      if (e instanceof MissingCredentialError) throw new BrokerError('AUTHENTICATION', e.message);
      throw e;
    }
    this.secrets = [apiKey, secret];
    const ex = createExchange({
      apiKey,
      secret,
      environment: this.environment,
      enableRateLimit: this.options.enableRateLimit ?? true,
      timeoutMs: this.timeoutMs,
      recvWindowMs: this.recvWindowMs,
      baseUrl: this.options.baseUrl,
      http: this.http,
      captures: this.captures,
      onUsedWeight: (weight) => this.noteUsedWeight(weight),
    });
    this.exchange = ex;
    try {
      const markets = await this.call('load markets', false, (x) => x.loadMarkets(true));
      this.markets.load(markets);
      // Checks the key and secret now rather than at the first order.
      const sentAt = this.reads.now();
      // Resent (with Binance's time) after a -1021: the first signed request is where a skewed clock shows.
      const balance = await withRetries(
        (n) => this.call('read the account', false, (x) => x.fetchBalance(), n),
        this.options.retry,
      );
      const account = parseAccount(infoOf(balance, 'a balance'));
      this.reads.put('account', account, sentAt);
      this.accountId = account.uid !== undefined ? `binance-${account.uid}` : `binance-${this.environment}`;
      this.accountUid = account.uid === undefined ? undefined : String(account.uid);
    } catch (e) {
      this.exchange = undefined;
      throw e;
    }
    if (this.pollIntervalMs > 0) {
      this.timer = setInterval(() => void this.pollFromTimer(), this.pollIntervalMs);
      // The broker must never keep a CLI or the extension host alive on its own.
      this.timer.unref();
    }
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.exchange = undefined;
    this.http.close();
  }

  isConnected(): boolean {
    return this.exchange !== undefined;
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.listeners.add(listener);
  }

  // --- BrokerApi ---

  async getInstrument(symbol: string): Promise<InstrumentRules> {
    return toInstrumentRules(rulesOf(this.market(symbol)));
  }

  /** Binance's own filters for a symbol (tick, step, minimum quantity and notional). */
  getSymbolRules(symbol: string): BinanceSymbolRules {
    return rulesOf(this.market(symbol));
  }

  async getQuote(symbol: string): Promise<Quote> {
    const market = this.market(symbol);
    const ticker = await this.ticker(market);
    try {
      const quote = quoteOf(ticker, this.clock.now());
      // A book in a symbol that does not trade (enums.md "Symbol status": END_OF_DAY, HALT, BREAK, CANCEL_ONLY) is not
      // a price an order would meet: not the live price, as OANDA's `tradeable: false` (src/brokers/quoteFreshness.ts).
      const status = rulesOf(market).status;
      return status === 'TRADING'
        ? quote
        : notLive(
            quote,
            `Binance listed ${market.id} as ${status} (not TRADING) when SPtrader connected: no order trades against its book`,
          );
    } catch (e) {
      // An empty book: say why when exchangeInfo said the symbol does not trade (enums.md "Symbol status").
      const status = rulesOf(market).status;
      if (!isBrokerError(e) || status === 'TRADING') throw e;
      throw new BrokerError(
        e.reason,
        `${e.message}; Binance listed ${market.id} as ${status} (not TRADING) when SPtrader connected`,
        { retryable: e.retryable },
      );
    }
  }

  /** A symbol's 24hr ticker: identical reads in flight share one request (a quote and a position's mark). */
  private ticker(market: MarketEntry): Promise<RawTicker> {
    return this.quotes.read(market.id, async () =>
      parseTicker(infoOf(await this.call('get a quote', false, (x) => x.fetchTicker(market.unified)), 'a ticker')),
    );
  }

  async submitOrder(order: PlacedOrderRequest): Promise<OrderResponse> {
    this.connected();
    const wellFormed = checkOrderRequest(order);
    if (!wellFormed.success || !order.client_order_id) {
      const why = wellFormed.success
        ? 'client_order_id is required'
        : wellFormed.error.issues.map((i) => i.message).join('; ');
      throw new BrokerError('INVALID_ORDER', `Binance order not sent: ${why}`);
    }
    const refusal = unsupportedOnBinance(order);
    if (refusal) throw new BrokerError('UNSUPPORTED_ORDER', `${refusal}; nothing was sent`);
    const market = this.market(order.symbol);
    const rules = rulesOf(market);
    const reference = order.order_type.type === 'stop' ? order.order_type.price : undefined;
    const failure = checkFilters(order, rules, reference);
    if (failure)
      throw new BrokerError('INVALID_ORDER', `${failure.message}; nothing was sent`, { venueCode: failure.filter });
    const args = toCreateOrderArgs(order, market.unified);
    this.reads.invalidate();
    // Remembered before sending: a submit with an unknown outcome is looked up by this.
    this.sent.set(order.client_order_id, cloneOrderRequest(order));
    if (this.sent.size > MAX_SENT_KEPT) this.sent.delete(this.sent.keys().next().value as string);
    // ccxt's createOrder on a plain spot market is createOrderRequest + privatePostOrder + parseOrder, and
    // only `info` of what parseOrder builds (Binance's reply) is read here: skip building the rest.
    const ex = this.connected();
    const direct = market.plainSpot && hasSpotOrderApi(ex);
    let reply: unknown;
    let unified: unknown;
    try {
      // Each attempt is signed anew (a fresh timestamp); resent only after an answer proving Binance did nothing.
      if (direct)
        reply = await withRetries(
          (n) =>
            this.call(
              'submit',
              true,
              () =>
                ex.privatePostOrder(
                  ex.createOrderRequest(args.symbol, args.type, args.side, args.amount, args.price, { ...args.params }),
                ),
              n,
            ),
          this.options.retry,
          'submit',
        );
      else
        unified = await withRetries(
          (n) =>
            this.call(
              'submit',
              true,
              (x) => x.createOrder(args.symbol, args.type, args.side, args.amount, args.price, { ...args.params }),
              n,
            ),
          this.options.retry,
          'submit',
        );
    } catch (e) {
      if (
        isBrokerError(e) &&
        !e.outcomeUnknown &&
        REJECTIONS.has(e.reason) &&
        typeof e.venueCode === 'number' &&
        e.venueCode < 0
      )
        return this.rejected(order, e);
      throw e;
    }
    const info = direct ? reply : infoOrUndefined(unified);
    if (isAcknowledgement(info)) return this.afterAcknowledgement(order, market, info);
    await this.priceFeeAssets(info, market.id);
    const view = direct ? this.readOrderInfo(reply, 'submit', true) : this.readOrder(unified, 'submit', true);
    const answer = expectAnswerFor(view, { clientOrderId: order.client_order_id }, 'Binance', true);
    // A RESULT reply lists no fills: those of an order that traded on arrival (and their fees) are its trades.
    return this.observe(await this.withTrades(answer));
  }

  /**
   * rest-api.md "New order (TRADE)": `newOrderRespType` "ACK, RESULT, or FULL; MARKET and LIMIT order types default
   * to FULL, all other orders default to ACK", and "Response - ACK" is `{symbol, orderId, orderListId, clientOrderId,
   * transactTime}`: the order is at Binance, its state untold. It is read at once (GET /api/v3/order); a look-up that
   * fails leaves the outcome unknown (the order is looked up again, never resent).
   */
  private async afterAcknowledgement(
    order: PlacedOrderRequest,
    market: MarketEntry,
    ack: { orderId: unknown },
  ): Promise<OrderResponse> {
    let why = 'Binance did not list it yet (-2013 "Order does not exist.")';
    try {
      const found = await this.findByClientId(order.client_order_id, market);
      if (found) return found;
    } catch (e) {
      why = isBrokerError(e) ? e.message : redactValues(String(e), this.secrets);
    }
    throw new BrokerError(
      'BAD_RESPONSE',
      `Binance acknowledged order ${String(ack.orderId)} (client order id ${order.client_order_id}) without its state, ` +
        `and reading it failed: ${why}; the order is at Binance: look it up by client order id, do not resend it`,
      { outcomeUnknown: true, retryable: false },
    );
  }

  async cancelOrder(orderId: string): Promise<void> {
    const { market, id } = this.locate(orderId);
    this.reads.invalidate();
    let raw: unknown;
    try {
      raw = await withRetries(
        (n) => this.call('cancel', true, (x) => x.cancelOrder(id, market.unified), n),
        this.options.retry,
        'cancel',
      );
    } catch (e) {
      // -2011 "Unknown order sent." (errors.md CANCEL_REJECTED) is also Binance's answer for an order that
      // is no longer open: look it up, so a fill that beat the cancel is reported and named.
      if (isBrokerError(e) && e.venueCode === -2011) await this.explainRefusedCancel(orderId, e);
      throw e;
    }
    this.observe(await this.withTrades(this.readOrder(raw, 'cancel', true)));
  }

  /**
   * An order Binance answers -2026 ORDER_ARCHIVED for (errors.md: "canceled or expired with no executed qty over 90
   * days ago"), from its last view (this session's, or the caller's after a restart): ended, cancelled saying why, if
   * it was last seen working. Undefined when there is no last view, or it was seen with fills (then the answer cannot
   * be about it): the error, which says the order is final, stands.
   */
  private archived(last: OrderResponse | undefined): OrderResponse | undefined {
    if (last === undefined || (last.filled_quantity ?? 0) > 0 || last.fills.length > 0) return undefined;
    if (isFinalStatus(last.status)) return last;
    return this.observe({
      ...last,
      status: {
        status: 'cancelled',
        reason:
          'Binance archived it (-2026 ORDER_ARCHIVED): it was cancelled or expired with nothing executed, and its details are no longer available',
      },
      timestamp: Math.max(last.timestamp, this.clock.now()),
    });
  }

  /**
   * The last view of the order a client id names, for -2026: this session's, else the caller's (an engine restarted
   * on its saved orders; the venue's id it never learnt stands in as SYMBOL:archived:<client id>).
   */
  private lastViewOf(
    clientOrderId: string,
    market: MarketEntry,
    hint: OrderLookupHint | undefined,
  ): OrderResponse | undefined {
    const known = hint?.last?.client_order_id === clientOrderId ? hint.last : undefined;
    if (known === undefined) return undefined;
    const orderId = known.order_id !== '' ? known.order_id : `${market.id}:archived:${clientOrderId}`;
    return this.tracker.last(orderId) ?? { ...known, order_id: orderId, fills: [...known.fills] };
  }

  /**
   * The last view of an order Binance acknowledged (its id "SYMBOL:orderId" known) and that was working then: this
   * session's, else the caller's (the engine's saved order after a restart). Undefined for an order never
   * acknowledged: its absence is the engine's to judge (`absenceConclusiveAfterMs`).
   */
  private acknowledgedView(clientOrderId: string, hint: OrderLookupHint | undefined): OrderResponse | undefined {
    const followed = this.tracker
      .openOrderIds()
      .map((id) => this.tracker.last(id))
      .find((o) => o?.client_order_id === clientOrderId);
    const known = followed ?? (hint?.last?.client_order_id === clientOrderId ? hint.last : undefined);
    if (known === undefined || isFinalStatus(known.status) || !/^[A-Z0-9_-]+:\d+$/.test(known.order_id))
      return undefined;
    return known;
  }

  /**
   * An order Binance acknowledged, last seen working, that Binance answers -2013 "Order does not exist." for by its
   * own id. The Spot Test Network is reset about once a month and its orders deleted (testnet.binance.vision FAQ):
   * on the testnet the order can no longer fill, and is ended, cancelled, saying so (a fill it had after its last
   * view is not known; the positions' reconcile shows it). Live Binance deletes no order (one that ended with nothing
   * executed is archived and answers -2026 ORDER_ARCHIVED, rest-api.md "Query order"), so there the answer is not
   * the order's end (another account's API key?): an error, not retryable, and the order is left as last seen.
   * Nothing is ever resent.
   */
  private erased(last: OrderResponse, cause: BrokerError): OrderResponse {
    const was = last.status.status;
    if (this.environment !== 'testnet')
      throw new BrokerError(
        'ORDER_NOT_FOUND',
        `Binance says order ${last.order_id} (client order id ${last.client_order_id}) does not exist (-2013 "Order does not exist."), though it acknowledged it and it was last seen ${was}: live Binance deletes no order, so this is not taken as its end; check that this profile's API key is for the account that placed it, and find the order in Binance's order history`,
        { retryable: false, venueCode: NO_SUCH_ORDER, cause },
      );
    return this.observe({
      ...last,
      status: {
        status: 'cancelled',
        reason: `Binance (testnet) no longer knows it (-2013 "Order does not exist."), last seen ${was}: the testnet deletes every order when it is reset, so it can no longer fill; a fill after its last view is not known`,
      },
      timestamp: Math.max(last.timestamp, this.clock.now()),
    });
  }

  /** Throws INVALID_ORDER naming the state of an order Binance would not cancel, when a look-up finds it ended. */
  private async explainRefusedCancel(orderId: string, refusal: BrokerError): Promise<void> {
    let now: OrderResponse;
    try {
      now = await this.getOrderStatus(orderId);
    } catch {
      return; // not found, or the look-up failed: the refusal stands as it is
    }
    if (!isFinalStatus(now.status)) return;
    throw new BrokerError(
      'INVALID_ORDER',
      `Binance: order ${orderId} is already ${now.status.status} and cannot be cancelled (${refusal.message})`,
      { retryable: false, venueCode: refusal.venueCode },
    );
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    return this.lookUpById(orderId);
  }

  /** GET /api/v3/order by Binance's id; `known` is our last view of the order (the caller's, after a restart). */
  private async lookUpById(orderId: string, known?: OrderResponse): Promise<OrderResponse> {
    const { market, id } = this.locate(orderId);
    // Asked by Binance's bare orderId (its symbol known from an earlier answer), the answer is "SYMBOL:orderId".
    const asked = toOrderId(market.id, id);
    let raw: unknown;
    try {
      raw = await this.call('look up an order', false, (x) => x.fetchOrder(id, market.unified));
    } catch (e) {
      const archived =
        isBrokerError(e) && e.venueCode === ORDER_ARCHIVED ? this.archived(this.tracker.last(asked)) : undefined;
      if (archived === undefined) throw e;
      return archived;
    }
    const view = expectAnswerFor(this.readOrder(raw, 'look up an order', false), { orderId: asked }, 'Binance');
    return this.observe(await this.withTrades(view), known);
  }

  async getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined> {
    this.connected();
    // Binance looks a client id up within one symbol: the one this session sent it for, or the caller's
    // (the engine knows it for orders placed before a restart).
    const symbol = this.sent.get(clientOrderId)?.symbol ?? hint?.symbol;
    if (symbol !== undefined) {
      const market = this.market(symbol);
      let found: OrderResponse | undefined;
      try {
        found = await this.findByClientId(clientOrderId, market);
      } catch (e) {
        // Final, its details gone (-2026): the order as last seen, ended, as getOrderStatus answers in session.
        const archived =
          isBrokerError(e) && e.venueCode === ORDER_ARCHIVED
            ? this.archived(this.lastViewOf(clientOrderId, market, hint))
            : undefined;
        if (archived === undefined) throw e;
        return archived;
      }
      if (found !== undefined) return found;
      // -2013 for an order Binance acknowledged is not "never arrived": asked by Binance's own id too, then said.
      const acknowledged = this.acknowledgedView(clientOrderId, hint);
      if (acknowledged === undefined) return undefined;
      try {
        // By its Binance id: an order the user amended at Binance answers to another client order id now.
        return await this.lookUpById(acknowledged.order_id, acknowledged);
      } catch (e) {
        if (isBrokerError(e) && e.venueCode === NO_SUCH_ORDER) return this.erased(acknowledged, e);
        throw e;
      }
    }
    const open = (await this.listOpenOrders()).find((o) => o.client_order_id === clientOrderId);
    if (open) return open;
    const candidates = this.options.lookupSymbols ?? [];
    for (const s of candidates) {
      const found = await this.findByClientId(clientOrderId, this.market(s));
      if (found) return found;
    }
    if (candidates.length > 0) return undefined;
    throw new BrokerError(
      'ORDER_NOT_FOUND',
      `client order id ${clientOrderId} is not among Binance's open orders, and Binance needs its symbol to look further; this session did not send it (pass its symbol, or set lookupSymbols to search)`,
    );
  }

  /**
   * The open orders of these symbols, for a poll: a line that cannot be read (or cannot be right) is reported and
   * the others are still followed; its id, when it has one, is among `listed` (it is not taken to have left).
   */
  private async openOrdersOf(symbols: string[]): Promise<{ orders: OrderResponse[]; listed: Set<string> }> {
    const orders: OrderResponse[] = [];
    const listed = new Set<string>();
    for (const symbol of symbols) {
      const market = this.market(symbol);
      const raw = await this.call('list open orders', false, (x) => x.fetchOpenOrders(market.unified));
      for (const line of parseOrderListLines(raw, (s) => this.contextOf(s))) {
        const id = 'order' in line ? line.order.order_id : line.id;
        if (id !== undefined) listed.add(id);
        try {
          if (!('order' in line)) throw line.error;
          orders.push(this.observe(await this.withTrades(line.order)));
        } catch (e) {
          if (isBrokerError(e) && e.reason === 'RATE_LIMITED') throw e;
          this.reportError(
            `Binance: open order ${id ?? '(without an id)'} could not be read; the other orders are followed: ${redactValues((e as Error).message, this.secrets)}`,
            e,
          );
        }
      }
    }
    return { orders, listed };
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    const raw = await this.call('list open orders', false, (x) => x.fetchOpenOrders(undefined));
    const out: OrderResponse[] = [];
    for (const o of parseOrderList(raw, (symbol) => this.contextOf(symbol)))
      out.push(this.observe(await this.withTrades(o)));
    return out;
  }

  async getAccountInfo(): Promise<AccountInfo> {
    const { account, positions } = await this.balancesAndPositions();
    return accountInfoOf(account, this.currency, positions, this.accountId);
  }

  async getPositions(): Promise<Position[]> {
    return (await this.balancesAndPositions()).positions;
  }

  /** One poll: reports every change to an open or tracked order. Timers call it; tests may too. */
  async poll(): Promise<void> {
    // Polling follows our working orders, by their symbols (open orders of one symbol weigh 6, of all 80);
    // orders placed elsewhere are found by listOpenOrders (reconcile).
    const working = this.tracker.openOrderIds();
    // Binance asked for quiet (429/418): the next poll after it looks.
    if (this.polling || working.length === 0 || this.quietUntil > this.retryNow()) return;
    if (this.weightNearLimit()) return;
    this.polling = true;
    try {
      const symbols = [
        ...new Set(working.map((id) => this.tracker.last(id)?.symbol).filter((s): s is string => s !== undefined)),
      ];
      const seen =
        symbols.length > 0 && symbols.length * 6 < 80
          ? (await this.openOrdersOf(symbols)).listed
          : new Set((await this.listOpenOrders()).map((o) => o.order_id));
      // Orders that left the open list ended somehow: each is asked how.
      await lookUpVanishedOrders(this.tracker, seen, {
        lookUp: async (id) => {
          try {
            await this.getOrderStatus(id);
            return 'seen';
          } catch (e) {
            if (!isBrokerError(e) || e.venueCode !== NO_SUCH_ORDER) throw e;
            const last = this.tracker.last(id);
            let why: unknown = e;
            if (last !== undefined)
              try {
                // The testnet's reset deleted it: ended, and the engine told (`erased`).
                this.erased(last, e);
                return 'seen';
              } catch (live) {
                why = live;
              }
            // Nothing more will be learnt about it.
            this.reportError(
              `Binance no longer knows order ${id}, last seen working (-2013 "Order does not exist."): it is no longer followed${why === e ? '' : ` (${(why as Error).message})`}`,
              why,
            );
            return 'gone';
          }
        },
        // Binance asked for quiet: the next poll after it goes on.
        endsRound: (e) => isBrokerError(e) && e.reason === 'RATE_LIMITED',
        report: (id, e) =>
          this.reportError(
            `Binance: looking up order ${id}, which left the open-order list, failed: ${redactValues((e as Error).message, this.secrets)}`,
            e,
          ),
      });
    } finally {
      this.polling = false;
    }
  }

  // --- internals ---

  private connected(): CcxtBinance {
    if (!this.exchange) throw new BrokerError('NOT_CONNECTED', 'Binance is not connected; connect first');
    return this.exchange;
  }

  /**
   * Runs one ccxt call and turns whatever it throws into a BrokerError. `attempt` is withRetries' count: a
   * resend (attempt > 1) comes after the wait the venue asked for and is not held back again.
   */
  private async call<T>(
    operation: string,
    mutating: boolean,
    run: (ex: CcxtBinance) => Promise<T>,
    attempt = 1,
  ): Promise<T> {
    const ex = this.connected();
    if (attempt === 1) this.holdOff(operation, operation === 'submit');
    try {
      const result = await run(ex);
      // Answered after waiting out a Retry-After: the limit has reset.
      if (attempt > 1) {
        this.quietUntil = Number.NEGATIVE_INFINITY;
        if (operation === 'submit') this.ordersQuietUntil = Number.NEGATIVE_INFINITY;
      }
      return result;
    } catch (e) {
      const http = typeof e === 'object' && e !== null ? this.captures.get(e) : undefined;
      const error = toBrokerError(e, {
        operation,
        mutating,
        http,
        secrets: this.secrets,
        accountIds: [this.accountUid],
      });
      // Outside recvWindow: the clock is off from Binance's, so the next request (a resend above all) is
      // stamped on Binance's time, or it would be refused the same way.
      if (error.venueCode === INVALID_TIMESTAMP) await this.syncClock(ex);
      if (error.reason === 'RATE_LIMITED' && error.notActed && error.retryAfterMs !== undefined) {
        const until = this.retryNow() + error.retryAfterMs;
        // The unfilled-order count is the account's and counts new orders only: cancels and reads still go.
        if (error.venueCode === TOO_MANY_ORDERS) this.ordersQuietUntil = Math.max(this.ordersQuietUntil, until);
        else this.quietUntil = Math.max(this.quietUntil, until);
      }
      throw error;
    }
  }

  /**
   * Refuses, sending nothing, while Binance's last 429/418 asked for quiet: "Repeatedly violating rate limits
   * and/or failing to back off after receiving 429s will result in an automated IP ban (HTTP status 418)",
   * and Retry-After is "the number of seconds required to wait, in the case of a 429, to prevent a ban, or, in
   * the case of a 418, until the ban is over" (rest-api.md "LIMITS" → "IP Limits"). The limits are per IP,
   * so this holds every request, reads and the poll included.
   */
  private holdOff(operation: string, newOrder: boolean): void {
    const now = this.retryNow();
    const left = Math.ceil(this.quietUntil - now);
    if (left > 0)
      throw new BrokerError(
        'RATE_LIMITED',
        `Binance ${operation} not sent: Binance asked for no requests for another ${Math.ceil(left / 1000)} s (a 429 or 418 with Retry-After, or a 403 from its firewall; sending anyway risks an IP ban); nothing was sent`,
        { retryable: true, notActed: true, retryAfterMs: left },
      );
    const ordersLeft = newOrder ? Math.ceil(this.ordersQuietUntil - now) : 0;
    if (ordersLeft > 0)
      throw new BrokerError(
        'RATE_LIMITED',
        `Binance ${operation} not sent: the account's unfilled-order count is over Binance's limit (-1015 Too many new orders); new orders wait ${Math.ceil(ordersLeft / 1000)} s more, until the interval Binance named has passed (cancels still go); nothing was sent`,
        { retryable: true, notActed: true, retryAfterMs: ordersLeft, venueCode: TOO_MANY_ORDERS },
      );
  }

  /** Keeps the request weight a reply reported, for the minute it was reported in (Binance's limit is per minute). */
  private noteUsedWeight(weight: number): void {
    this.usedWeight = { weight, minute: Math.floor(this.clock.now() / 60_000) };
  }

  /**
   * True (and said once a minute) while the IP's request weight this minute is within the share kept for orders of
   * Binance's limit: the poll then waits for the next minute. rest-api.md "LIMITS": the REQUEST_WEIGHT limit is the
   * IP's, "not the API keys'" (other programs on the same IP spend it too), and past it Binance answers 429, then
   * bans the IP (418, "from 2 minutes to 3 days"). A poll weighs up to 80 and comes every few seconds; leaving the
   * last tenth of the minute's weight to orders and cancels (weight 1 each) keeps the poll from refusing them.
   */
  private weightNearLimit(): boolean {
    const minute = Math.floor(this.clock.now() / 60_000);
    const limit = this.options.requestWeightLimit ?? REQUEST_WEIGHT_PER_MINUTE;
    if (this.usedWeight.minute !== minute || this.usedWeight.weight < limit * 0.9) return false;
    if (this.weightSaidMinute !== minute) {
      this.weightSaidMinute = minute;
      this.reportError(
        `Binance: this IP has used ${this.usedWeight.weight} of its ${limit} request weight this minute (X-MBX-USED-WEIGHT-1M; other programs on the same IP count too): the order poll waits for the next minute so that orders and cancels are not refused (429)`,
        undefined,
      );
    }
    return true;
  }

  /** Reads Binance's time and stamps later requests on it; a failure is reported, and the next -1021 tries again. */
  private syncClock(ex: CcxtBinance): Promise<void> {
    this.clockSync ??= ex
      .loadTimeDifference()
      .then(
        () => undefined,
        (e: unknown) =>
          this.reportError(
            `Binance refused a request stamped outside recvWindow and its time could not be read: ${redactValues(
              e instanceof Error ? e.message : String(e),
              this.secrets,
            )}`,
            e,
          ),
      )
      .finally(() => {
        this.clockSync = undefined;
      });
    return this.clockSync;
  }

  /** A ccxt unified order's `info`, read as an order. */
  private readOrder(raw: unknown, operation: string, mutating: boolean): OrderResponse {
    let info: unknown;
    try {
      info = infoOf(raw, 'an order');
    } catch (e) {
      throw toBrokerError(e, { operation, mutating, secrets: this.secrets, accountIds: [this.accountUid] });
    }
    return this.readOrderInfo(info, operation, mutating);
  }

  /** Binance's order payload (a reply, or a unified order's `info`) as our order. */
  private readOrderInfo(info: unknown, operation: string, mutating: boolean): OrderResponse {
    try {
      const symbol =
        typeof info === 'object' && info !== null && 'symbol' in info && typeof info.symbol === 'string'
          ? info.symbol
          : '';
      const response = parseOrder(info, this.contextOf(symbol));
      const { id } = fromOrderId(response.order_id);
      this.symbolOfOrder.set(id, response.symbol);
      return response;
    } catch (e) {
      throw toBrokerError(e, { operation, mutating, secrets: this.secrets, accountIds: [this.accountUid] });
    }
  }

  private contextOf(symbol: string): OrderContext {
    const market = this.markets.get(symbol);
    const rules = market ? rulesOf(market) : undefined;
    const quote = rules?.quoteAsset;
    return {
      baseAsset: rules?.baseAsset,
      quoteAsset: quote,
      now: this.clock.now(),
      feeAssetPrice: (asset) => (quote === undefined ? undefined : this.feePrices.get(`${asset}${quote}`)?.price),
      unknownStatus: (status, orderId) => this.sayUnknownStatus(status, orderId),
      preventedWhileWorking: (orderId, prevented, origQty) => this.sayPrevented(orderId, prevented, origQty),
    };
  }

  /** Says once per order and amount that self-trade prevention took part of a working order (orders.ts `statusOf`). */
  private sayPrevented(orderId: string, prevented: number, origQty: number): void {
    const key = `${orderId} prevented ${prevented}`;
    if (!this.unknownStatusSaid.first(key)) return;
    this.reportError(
      `Binance: self-trade prevention took ${plainQuantity(prevented)} of order ${orderId} (${plainQuantity(origQty)}) away: it would have traded against another order of the same account or trade group (self-trade prevention in DECREMENT or TRANSFER mode); that part will never fill, and the order works on for the rest`,
      undefined,
    );
  }

  /** Says once per order and status that Binance reported a status SPtrader does not know (orders.ts `statusOf`). */
  private sayUnknownStatus(status: string, orderId: string): void {
    const key = `${orderId} ${status}`;
    if (!this.unknownStatusSaid.first(key)) return;
    const shown = status.length > 40 ? `${status.slice(0, 40)}…` : status;
    this.reportError(
      `Binance reported order ${orderId} with status ${JSON.stringify(shown)}, which this version of SPtrader does not know (Binance adds statuses): it is followed by its figures (its executed quantity and fills counted, still working until all of it executed or Binance reports a status SPtrader knows); check it at Binance`,
      undefined,
    );
  }

  /**
   * Reads the price, in the symbol's quote asset, of every other asset these fills were charged in (BNB when
   * the account pays fees in BNB) from the <asset><quote> ticker; says once when there is none to read.
   */
  private async priceFeeAssets(info: unknown, symbol: string): Promise<void> {
    const fills =
      typeof info === 'object' && info !== null && 'fills' in info && Array.isArray(info.fills)
        ? (info.fills as unknown[]).filter(
            (f): f is { commission: number; commissionAsset: string } =>
              typeof f === 'object' && f !== null && 'commissionAsset' in f && typeof f.commissionAsset === 'string',
          )
        : [];
    await this.priceFeeAssetsOf(
      fills.map((f) => ({ commission: Number(f.commission), commissionAsset: f.commissionAsset })),
      symbol,
    );
  }

  private async priceFeeAssetsOf(
    fills: ReadonlyArray<{ commission: number; commissionAsset: string }>,
    symbol: string,
  ): Promise<void> {
    const ctx = this.contextOf(symbol);
    const quote = ctx.quoteAsset;
    if (quote === undefined) return;
    for (const asset of foreignFeeAssets(fills, ctx)) {
      const pair = `${asset}${quote}`;
      const known = this.feePrices.get(pair);
      if (known !== undefined && this.retryNow() - known.at < FEE_PRICE_REUSE_MS) continue;
      try {
        const market = this.markets.find(pair);
        if (!market) throw new Error(`Binance lists no ${pair} market`);
        const at = this.retryNow();
        const price = markOf(await this.ticker(market));
        if (price > 0) this.feePrices.set(pair, { price, at });
        else throw new Error(`no price for ${pair}`);
      } catch (e) {
        if (this.feePrices.has(pair) || this.feeWarned.has(pair)) continue;
        this.feeWarned.add(pair);
        this.reportError(
          `Binance charged fees on ${symbol} in ${asset}, which SPtrader cannot value in ${quote} (${(e as Error).message}): those fees are counted as 0`,
          e,
        );
      }
    }
  }

  /**
   * The order with its fills and fees from its trades (GET /api/v3/myTrades?orderId=), when it has traded
   * since we last saw it and the view lists no fills (GET /api/v3/order and the open-order list never do):
   * otherwise a fill would be synthesised from executedQty with no commission. A failure to read them is
   * reported and the order returned as it was (the fill is then synthesised).
   */
  private async withTrades(order: OrderResponse): Promise<OrderResponse> {
    const filled = order.filled_quantity ?? 0;
    const known = this.tracker.last(order.order_id)?.filled_quantity ?? 0;
    if (order.fills.length > 0 || !(filled > known + 1e-12)) return order;
    try {
      const market = this.market(order.symbol);
      const { id } = fromOrderId(order.order_id);
      const trades = await this.tradesOf(market.unified, id);
      await this.priceFeeAssetsOf(trades, order.symbol);
      const fills = fillsFromTrades(order, trades, this.contextOf(order.symbol));
      const traded = fills.reduce((sum, f) => sum + f.quantity, 0);
      // Trades not all listed yet: keep what the order says (its fill is synthesised as before).
      if (traded < filled - 1e-9) return order;
      const commission = Number(fills.reduce((sum, f) => sum + f.commission, 0).toFixed(8));
      return { ...order, fills, commission };
    } catch (e) {
      this.reportError(
        `Binance: could not read the trades of order ${order.order_id} (its fees are counted as 0): ${redactValues((e as Error).message, this.secrets)}`,
        e,
      );
      return order;
    }
  }

  /**
   * Every trade of an order, page by page: GET /api/v3/myTrades returns at most `limit` (max 1000) trades, the
   * most recent ones unless `fromId` is given (rest-api.md "Account trade list"; symbol + orderId + fromId is a
   * supported combination), so an order that traded more than a page is read from its first trade on.
   */
  private async tradesOf(unified: string, orderId: string): Promise<RawTrade[]> {
    const trades: RawTrade[] = [];
    const seen = new Set<string>();
    let fromId: bigint | undefined;
    for (let page = 0; page < TRADE_PAGES_MAX; page++) {
      const from = fromId;
      const raw = await this.call('read the trades of an order', false, (x) =>
        x.fetchMyTrades(unified, undefined, TRADE_PAGE, {
          orderId,
          // The first page from the first trade: without fromId Binance gives the most recent ones.
          fromId: (from ?? 0n).toString(),
        }),
      );
      const batch = parseTrades(raw);
      let last = -1n;
      for (const t of batch) {
        const id = BigInt(t.id);
        if (id > last) last = id;
        if (seen.has(t.id)) continue;
        seen.add(t.id);
        trades.push(t);
      }
      if (batch.length < TRADE_PAGE || last < 0n || (from !== undefined && last < from)) return trades;
      fromId = last + 1n;
    }
    return trades;
  }

  /**
   * Undefined only on -2013 "Order does not exist."; any other failure (5xx, timeout, reset, an
   * unreadable body) throws a retryable error, since it proves nothing about the order.
   */
  private async findByClientId(clientOrderId: string, market: MarketEntry): Promise<OrderResponse | undefined> {
    try {
      const raw = await withRetries(
        (n) =>
          this.call(
            'look up a client order id',
            false,
            (x) => x.fetchOrder(undefined, market.unified, { origClientOrderId: clientOrderId }),
            n,
          ),
        this.options.retry,
      );
      const view = expectAnswerFor(
        this.readOrder(raw, 'look up a client order id', false),
        { clientOrderId },
        'Binance',
      );
      return this.observe(await this.withTrades(view));
    } catch (e) {
      if (isBrokerError(e) && e.reason === 'ORDER_NOT_FOUND' && e.venueCode === -2013) return undefined;
      // Binance had the order and it ended (-2026 ORDER_ARCHIVED): the error says so, not "the look-up failed".
      if (isBrokerError(e) && e.venueCode === ORDER_ARCHIVED) throw e;
      if (
        isBrokerError(e) &&
        !e.retryable &&
        e.reason !== 'AUTHENTICATION' &&
        e.reason !== 'PERMISSION_DENIED' &&
        e.reason !== 'UNKNOWN_SYMBOL'
      )
        throw new BrokerError(
          e.reason,
          `${e.message}; the look-up of client order id ${clientOrderId} failed, which says nothing about the order`,
          {
            retryable: true,
            venueCode: e.venueCode,
            cause: e,
          },
        );
      throw e;
    }
  }

  private rejected(order: PlacedOrderRequest, e: BrokerError): OrderResponse {
    const response = rejectedOrderResponse(
      order,
      `${order.symbol}:rejected:${order.client_order_id}`,
      `${e.reason}: ${e.message.replace(/^Binance submit failed: /, '')}`,
      this.clock.now(),
    );
    return this.tracker.observe(response);
  }

  /**
   * One view of an order, with the time in force we sent (Binance reports GTC for market orders), through the tracker.
   * An order of ours the user amended at Binance (a new client order id, a smaller quantity) is reported as ours
   * (amended.ts); `known` is our last view of it when the tracker has none (after a restart).
   */
  private observe(view: OrderResponse, known?: OrderResponse): OrderResponse {
    const amended = amendedAsOurs(view, this.tracker.last(view.order_id) ?? known);
    if (amended !== undefined) this.sayAmended(amended);
    const order = amended?.view ?? view;
    const request = this.sent.get(order.client_order_id);
    if (request) order.time_in_force = request.time_in_force;
    return this.tracker.observe(order);
  }

  /** Says once per amend that an order of ours goes on under Binance's new client order id and quantity. */
  private sayAmended(a: AmendedView): void {
    const key = `${a.view.order_id} ${a.binanceClientOrderId} ${a.binanceQuantity}`;
    if (!this.amendsSaid.first(key)) return;
    this.reportError(
      `Binance: order ${a.view.order_id} (client order id ${a.view.client_order_id}) was amended at Binance outside SPtrader (Order Amend Keep Priority): Binance now names it ${a.binanceClientOrderId} and its quantity is ${a.binanceQuantity} of the ${a.view.quantity} placed; it is still followed as ${a.view.client_order_id}, and the quantity the amend took away will not fill`,
      undefined,
    );
  }

  private async pollFromTimer(): Promise<void> {
    try {
      await this.poll();
    } catch (e) {
      this.reportError(`Binance orders could not be polled: ${redactValues((e as Error).message, this.secrets)}`, e);
    }
  }

  private reportError(message: string, error: unknown): void {
    if (this.options.onError) this.options.onError(message, error);
    else process.emitWarning(message);
  }

  private balancesAndPositions(): Promise<{ account: ReturnType<typeof parseAccount>; positions: Position[] }> {
    return this.reads.read('positions', () => this.readBalancesAndPositions());
  }

  private async readBalancesAndPositions(): Promise<{
    account: ReturnType<typeof parseAccount>;
    positions: Position[];
  }> {
    const account = await this.reads.read('account', async () =>
      parseAccount(infoOf(await this.call('read the account', false, (x) => x.fetchBalance()), 'a balance')),
    );
    const held = account.balances.filter(
      (b) => b.asset !== this.currency && b.free + b.locked !== 0 && this.markets.has(`${b.asset}${this.currency}`),
    );
    const marks = new Map<string, number>();
    if (held.length === 1) {
      // One position (the usual case): its mark is read from the symbol's ticker, shared with a quote read in
      // flight (the engine reads the quote and the account at once before an order).
      const market = this.markets.get(`${(held[0] as { asset: string }).asset}${this.currency}`) as MarketEntry;
      marks.set(market.id, markOf(await this.ticker(market)));
    } else if (held.length > TICKERS_24HR_CHEAP) {
      await this.markMany(
        held.map((b) => this.markets.get(`${b.asset}${this.currency}`) as MarketEntry),
        marks,
      );
    } else if (held.length > 1) {
      const unified = held.map((b) => (this.markets.get(`${b.asset}${this.currency}`) as MarketEntry).unified);
      const tickers = await this.call('get quotes', false, (x) => x.fetchTickers(unified));
      if (typeof tickers !== 'object' || tickers === null)
        throw new BrokerError('BAD_RESPONSE', 'Binance sent tickers that could not be read');
      for (const t of Object.values(tickers)) {
        const ticker = parseTicker(infoOf(t, 'a ticker'));
        marks.set(ticker.symbol, markOf(ticker));
      }
    }
    const positions = positionsFromBalances(account, this.currency, (asset) => {
      const symbol = `${asset}${this.currency}`;
      if (!this.markets.has(symbol)) return undefined;
      // Held, but no price to mark it at (an empty book and no last price): still a position, valued at 0.
      const price = marks.get(symbol) ?? 0;
      if (price === 0) this.unpriced(symbol, asset);
      return { symbol, price };
    });
    return { account, positions };
  }

  /**
   * Marks for more holdings than the 24hr ticker reads cheaply: their books (GET /api/v3/ticker/bookTicker with
   * `symbols`, weight 4 however many), and for those whose book is empty their last prices (GET /api/v3/ticker/price,
   * weight 4), where the 24hr ticker would weigh 40 (21–100 symbols) or 80 (rest-api.md, each endpoint's "Weight").
   */
  private async markMany(markets: MarketEntry[], marks: Map<string, number>): Promise<void> {
    const books = await this.call('get quotes', false, (x) => x.fetchBidsAsks(markets.map((m) => m.unified)));
    if (typeof books !== 'object' || books === null)
      throw new BrokerError('BAD_RESPONSE', 'Binance sent book tickers that could not be read');
    for (const t of Object.values(books)) {
      const b = readOrThrow(RawBookSchema, infoOf(t, 'a book ticker'), 'a book ticker');
      if (b.bidPrice > 0 && b.askPrice > 0) marks.set(b.symbol, (b.bidPrice + b.askPrice) / 2);
    }
    const empty = markets.filter((m) => !marks.has(m.id)).map((m) => m.id);
    if (empty.length === 0) return;
    const prices = await this.call('get prices', false, (x) =>
      x.fetchLastPrices(undefined, { symbols: JSON.stringify(empty) }),
    );
    if (typeof prices !== 'object' || prices === null)
      throw new BrokerError('BAD_RESPONSE', 'Binance sent prices that could not be read');
    for (const t of Object.values(prices)) {
      const p = readOrThrow(RawPriceSchema, infoOf(t, 'a price'), 'a price');
      if (p.price > 0 && empty.includes(p.symbol)) marks.set(p.symbol, p.price);
    }
  }

  /** Says once per symbol that a holding could not be valued (it is counted at 0). */
  private unpriced(symbol: string, asset: string): void {
    if (this.unpricedWarned.has(symbol)) return;
    this.unpricedWarned.add(symbol);
    this.reportError(
      `Binance gives no price for ${symbol} (no bid, ask or last price: is it trading?): the ${asset} held is a position valued at 0`,
      undefined,
    );
  }

  private market(symbol: string): MarketEntry {
    this.connected();
    const found = this.markets.find(symbol);
    if (!found) throw new BrokerError('UNKNOWN_SYMBOL', `Binance spot has no symbol ${symbol}`);
    return found;
  }

  private locate(orderId: string): { market: MarketEntry; id: string } {
    this.connected();
    const { symbol, id } = fromOrderId(orderId);
    const known = symbol ?? this.symbolOfOrder.get(id);
    if (known === undefined)
      throw new BrokerError(
        'ORDER_NOT_FOUND',
        `order id ${orderId} names no symbol; Binance order ids look like BTCUSDT:28`,
      );
    return { market: this.market(known), id };
  }
}

/** `info` of a ccxt unified result (Binance's own reply), or undefined. */
/** A new-order reply of type ACK: the order's ids and time, no status (rest-api.md "New order", "Response - ACK"). */
function isAcknowledgement(info: unknown): info is { orderId: unknown } {
  return (
    typeof info === 'object' &&
    info !== null &&
    !Array.isArray(info) &&
    'orderId' in info &&
    'transactTime' in info &&
    !('status' in info) &&
    !('executedQty' in info)
  );
}

function infoOrUndefined(unified: unknown): unknown {
  return typeof unified === 'object' && unified !== null && 'info' in unified ? unified.info : undefined;
}
