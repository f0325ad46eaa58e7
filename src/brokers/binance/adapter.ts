/**
 * Binance spot through ccxt's `binance` class (REST only), testnet by default.
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
 *   `submitOrder` resolves with a `rejected` status naming Binance's reason and code, as the
 *   `BrokerApi` contract asks, except a duplicate client order id, which throws
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
 * - Absence is conclusive: every signed request carries `recvWindow` (default 5000 ms) and Binance
 *   processes it only while serverTime − timestamp ≤ recvWindow and timestamp < serverTime + 1000
 *   (rest-api.md "Timing security"). So a client order id not found once the last attempt of its
 *   submit is older than recvWindow + 1000 ms (the clock skew that rule allows) never reached the
 *   matching engine and never will: `absenceConclusiveAfterMs` = recvWindow + 1000 + the retry bound
 *   (the last attempt starts at most that long after the first). `getOrderByClientId` is undefined
 *   only on -2013 "Order does not exist."; any other failure throws, retryable.
 * - Order ids are "SYMBOL:orderId" (e.g. "BTCUSDT:28") because every Binance order call needs the
 *   symbol. Client order ids are looked up in the symbol this session sent them in; otherwise in the
 *   open orders and the `lookupSymbols` option.
 * - Positions: spot has none. Every asset other than the account currency with a non-zero balance
 *   (free + locked) and a `<asset><currency>` market is a long position marked at that market's mid;
 *   Binance keeps no entry price, so `average_price` is the mark and `unrealized_pnl` 0.
 * - Account: balance = the account currency's free + locked, buying power = its free part, equity =
 *   balance + positions at their mark. Commission paid in BNB cannot be valued and counts as 0.
 * - Order updates come from polling the open orders of the symbols of our working orders (weight 6
 *   each, not 80 for all symbols) every `pollIntervalMs` while one is working (Binance's user-data
 *   stream is not used), plus every answer to submit, cancel and look-ups, all through the order
 *   tracker (`../orderTracker.ts`): fills listed in a submit's reply keep their trade ids, one update
 *   each; fills found by polling (GET /order lists none) are synthesised from `executedQty`.
 * - The API key and secret are read at connect, handed only to ccxt, and removed from every message;
 *   the account's uid is masked to its last four characters in them.
 */
import { createHmac } from 'node:crypto';
import { DEFAULT_RETRY_POLICY, KeepAliveClient, keepAliveFetch, withRetries, type RetryPolicy } from '../http';
import { z } from 'zod';
import { systemClock, type Clock } from '../../common/clock';
import {
  rejectedOrderResponse,
  cloneOrderRequest,
  checkOrderRequest,
  type AccountInfo,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import { OrderTracker } from '../orderTracker';
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
import {
  accountInfoOf,
  BINANCE_CAPABILITIES,
  checkFilters,
  fromOrderId,
  infoOf,
  parseAccount,
  parseOrder,
  parseOrderList,
  parseQuote,
  parseSymbolRules,
  positionsFromBalances,
  toBrokerError,
  toCreateOrderArgs,
  toInstrumentRules,
  unsupportedOnBinance,
  type BinanceSymbolRules,
  type HttpCapture,
  type OrderContext,
} from './parse';

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
  /** Reuse an account read this long unless an order of ours changed since (`ReadCache`); default 0 (the registry sets 1000). */
  readReuseMs?: number;
}

/** Added to recvWindow: Binance processes a request stamped up to 1000 ms ahead of its clock (rest-api.md "Timing security"). */
const CLOCK_SKEW_MARGIN_MS = 1000;

type Params = Record<string, unknown>;

/** The part of ccxt's binance class used here; every result is `unknown` and read through zod in parse.ts. */
interface CcxtBinance {
  urls: { api: Record<string, unknown> };
  setSandboxMode(enabled: boolean): void;
  loadMarkets(reload?: boolean): Promise<unknown>;
  createOrder(
    symbol: string,
    type: string,
    side: string,
    amount: number,
    price?: number,
    params?: Params,
  ): Promise<unknown>;
  hmac?: (request: unknown, secret: unknown, hash: unknown, digest?: string) => unknown;
  fetchOrder(id: string | undefined, symbol: string, params?: Params): Promise<unknown>;
  cancelOrder(id: string, symbol: string, params?: Params): Promise<unknown>;
  fetchOpenOrders(symbol?: string, since?: number, limit?: number, params?: Params): Promise<unknown>;
  fetchBalance(params?: Params): Promise<unknown>;
  fetchTicker(symbol: string, params?: Params): Promise<unknown>;
  fetchTickers(symbols?: string[], params?: Params): Promise<unknown>;
  handleErrors: (...args: unknown[]) => unknown;
  handleHttpStatusCode: (...args: unknown[]) => unknown;
}

/** ccxt's createOrder on a plain spot market, in its two halves. */
interface SpotOrderApi {
  /** What `createOrder` sends. */
  createOrderRequest(
    symbol: string,
    type: string,
    side: string,
    amount: number,
    price?: number,
    params?: Params,
  ): Params;
  /** POST /api/v3/order, signed; resolves with Binance's reply as parsed JSON. */
  privatePostOrder(request: Params): Promise<unknown>;
}

function hasSpotOrderApi(ex: CcxtBinance): ex is CcxtBinance & SpotOrderApi {
  const api = ex as Partial<SpotOrderApi>;
  return typeof api.createOrderRequest === 'function' && typeof api.privatePostOrder === 'function';
}

type CcxtBinanceConstructor = new (config: Params) => CcxtBinance;

function isConstructor(value: unknown): value is CcxtBinanceConstructor {
  return typeof value === 'function';
}

/**
 * Loads ccxt's binance class on first connect: in the bundles this `require` is `./sdk/ccxt-binance.js`
 * (scripts/build.mjs), outside them the ccxt package; either way the extension activates without
 * parsing megabytes of exchange code.
 */
function loadCcxtBinance(): CcxtBinanceConstructor {
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('ccxt');
  } catch (e) {
    throw new BrokerError(
      'INTERNAL',
      `the ccxt package could not be loaded (${(e as Error).message}); it is needed for Binance`,
    );
  }
  const ctor = typeof mod === 'object' && mod !== null && 'binance' in mod ? mod.binance : undefined;
  if (!isConstructor(ctor)) throw new BrokerError('INTERNAL', 'the installed ccxt package has no binance exchange');
  return ctor;
}

interface MarketEntry {
  /** Binance's symbol, e.g. BTCUSDT (ours). */
  id: string;
  /** ccxt's, e.g. BTC/USDT. */
  unified: string;
  info: unknown;
  rules?: BinanceSymbolRules;
  /** A plain spot market: ccxt's createOrder sends it to POST /api/v3/order (not margin, options, futures or equities). */
  plainSpot: boolean;
}

/** Client order ids whose symbol is remembered for look-ups. */
const MAX_SENT_KEPT = 10_000;

/** A ccxt unified market; `info` is Binance's exchangeInfo entry, read by parseSymbolRules. */
const CcxtMarketSchema = z.looseObject({
  id: z.string(),
  symbol: z.string(),
  type: z.string().optional(),
  spot: z.boolean().optional(),
  option: z.unknown().optional(),
  linear: z.unknown().optional(),
  inverse: z.unknown().optional(),
  stock: z.unknown().optional(),
  info: z.unknown(),
});

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
  private markets = new Map<string, MarketEntry>();
  private byUnified = new Map<string, MarketEntry>();
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
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

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
      this.recvWindowMs + CLOCK_SKEW_MARGIN_MS + (options.retry?.maxTotalMs ?? DEFAULT_RETRY_POLICY.maxTotalMs);
    this.reads = new ReadCache(options.readReuseMs ?? 0);
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
    const Binance = loadCcxtBinance();
    const ex = new Binance({
      apiKey,
      secret,
      enableRateLimit: this.options.enableRateLimit ?? true,
      timeout: this.timeoutMs,
      options: {
        defaultType: 'spot',
        // loadMarkets asks for spot exchangeInfo only: no futures exchangeInfo, no sapi currency or
        // margin calls (which need live keys and would leave the testnet or the fake).
        fetchMarkets: { types: ['spot'] },
        fetchCurrencies: false,
        fetchMargins: false,
        adjustForTimeDifference: false,
        // Never resend: a retried submit could place a second order.
        maxRetriesOnFailure: 0,
        // absenceConclusiveAfterMs rests on it.
        recvWindow: this.recvWindowMs,
        fetchOpenOrders: { warnWithoutSymbol: false },
        warnOnFetchOpenOrdersWithoutSymbol: false,
        newOrderRespType: { market: 'FULL', limit: 'FULL' },
      },
    });
    if (this.environment === 'testnet') ex.setSandboxMode(true);
    // One keep-alive connection instead of ccxt's default fetch per request (about a third of the round trip).
    (ex as unknown as { fetchImplementation: typeof fetch }).fetchImplementation = keepAliveFetch(this.http);
    signWithNodeCrypto(ex);
    if (this.options.baseUrl !== undefined) this.rewriteOrigins(ex, this.options.baseUrl);
    this.captureHttpErrors(ex);
    this.exchange = ex;
    try {
      const markets = await this.call('load markets', false, (x) => x.loadMarkets(true));
      this.indexMarkets(markets);
      // Checks the key and secret now rather than at the first order.
      const sentAt = this.reads.now();
      const balance = await this.call('read the account', false, (x) => x.fetchBalance());
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
    return toInstrumentRules(this.rulesOf(this.market(symbol)));
  }

  /** Binance's own filters for a symbol (tick, step, minimum quantity and notional). */
  getSymbolRules(symbol: string): BinanceSymbolRules {
    return this.rulesOf(this.market(symbol));
  }

  async getQuote(symbol: string): Promise<Quote> {
    const market = this.market(symbol);
    return this.quotes.read(market.id, async () => {
      const ticker = await this.call('get a quote', false, (x) => x.fetchTicker(market.unified));
      return parseQuote(infoOf(ticker, 'a ticker'), this.clock.now());
    });
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
    const rules = this.rulesOf(market);
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
          () =>
            this.call('submit', true, () =>
              ex.privatePostOrder(
                ex.createOrderRequest(args.symbol, args.type, args.side, args.amount, args.price, { ...args.params }),
              ),
            ),
          this.options.retry,
        );
      else
        unified = await withRetries(
          () =>
            this.call('submit', true, (x) =>
              x.createOrder(args.symbol, args.type, args.side, args.amount, args.price, { ...args.params }),
            ),
          this.options.retry,
        );
    } catch (e) {
      if (
        isBrokerError(e) &&
        !e.outcomeUnknown &&
        (e.reason === 'INSUFFICIENT_FUNDS' || e.reason === 'INVALID_ORDER') &&
        typeof e.venueCode === 'number' &&
        e.venueCode < 0
      )
        return this.rejected(order, e);
      throw e;
    }
    return this.observe(direct ? this.readOrderInfo(reply, 'submit', true) : this.readOrder(unified, 'submit', true));
  }

  async cancelOrder(orderId: string): Promise<void> {
    const { market, id } = this.locate(orderId);
    this.reads.invalidate();
    const raw = await withRetries(
      () => this.call('cancel', true, (x) => x.cancelOrder(id, market.unified)),
      this.options.retry,
    );
    this.observe(this.readOrder(raw, 'cancel', true));
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    const { market, id } = this.locate(orderId);
    const raw = await this.call('look up an order', false, (x) => x.fetchOrder(id, market.unified));
    return this.observe(this.readOrder(raw, 'look up an order', false));
  }

  async getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined> {
    this.connected();
    // Binance looks a client id up within one symbol: the one this session sent it for, or the caller's
    // (the engine knows it for orders placed before a restart).
    const symbol = this.sent.get(clientOrderId)?.symbol ?? hint?.symbol;
    if (symbol !== undefined) return this.findByClientId(clientOrderId, this.market(symbol));
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

  /** The open orders of these symbols, one symbol-scoped request each. */
  private async openOrdersOf(symbols: string[]): Promise<OrderResponse[]> {
    const out: OrderResponse[] = [];
    for (const symbol of symbols) {
      const market = this.market(symbol);
      const raw = await this.call('list open orders', false, (x) => x.fetchOpenOrders(market.unified));
      out.push(...parseOrderList(raw, (s) => this.contextOf(s)).map((o) => this.observe(o)));
    }
    return out;
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    const raw = await this.call('list open orders', false, (x) => x.fetchOpenOrders(undefined));
    return parseOrderList(raw, (symbol) => this.contextOf(symbol)).map((o) => this.observe(o));
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
    if (this.polling || working.length === 0) return;
    this.polling = true;
    try {
      const symbols = [
        ...new Set(working.map((id) => this.tracker.last(id)?.symbol).filter((s): s is string => s !== undefined)),
      ];
      const listed =
        symbols.length > 0 && symbols.length * 6 < 80 ? await this.openOrdersOf(symbols) : await this.listOpenOrders();
      const seen = new Set(listed.map((o) => o.order_id));
      // Orders that left the open list ended somehow: ask how.
      for (const id of this.tracker.openOrderIds()) if (!seen.has(id)) await this.getOrderStatus(id);
    } finally {
      this.polling = false;
    }
  }

  // --- internals ---

  private connected(): CcxtBinance {
    if (!this.exchange) throw new BrokerError('NOT_CONNECTED', 'Binance is not connected; connect first');
    return this.exchange;
  }

  /** Runs one ccxt call and turns whatever it throws into a BrokerError. */
  private async call<T>(operation: string, mutating: boolean, run: (ex: CcxtBinance) => Promise<T>): Promise<T> {
    const ex = this.connected();
    try {
      return await run(ex);
    } catch (e) {
      const http = typeof e === 'object' && e !== null ? this.captures.get(e) : undefined;
      throw toBrokerError(e, { operation, mutating, http, secrets: this.secrets, accountIds: [this.accountUid] });
    }
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
    const rules = market ? this.rulesOf(market) : undefined;
    return { baseAsset: rules?.baseAsset, quoteAsset: rules?.quoteAsset, now: this.clock.now() };
  }

  /**
   * Undefined only on -2013 "Order does not exist."; any other failure (5xx, timeout, reset, an
   * unreadable body) throws a retryable error, since it proves nothing about the order.
   */
  private async findByClientId(clientOrderId: string, market: MarketEntry): Promise<OrderResponse | undefined> {
    try {
      const raw = await withRetries(
        () =>
          this.call('look up a client order id', false, (x) =>
            x.fetchOrder(undefined, market.unified, { origClientOrderId: clientOrderId }),
          ),
        this.options.retry,
      );
      return this.observe(this.readOrder(raw, 'look up a client order id', false));
    } catch (e) {
      if (isBrokerError(e) && e.reason === 'ORDER_NOT_FOUND' && e.venueCode === -2013) return undefined;
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

  /** One view of an order, with the time in force we sent (Binance reports GTC for market orders), through the tracker. */
  private observe(order: OrderResponse): OrderResponse {
    const request = this.sent.get(order.client_order_id);
    if (request) order.time_in_force = request.time_in_force;
    return this.tracker.observe(order);
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
    const mids = new Map<string, number>();
    if (held.length === 1) {
      // One position (the usual case): its mark is the symbol's quote, shared with a quote read in flight
      // (the engine reads the quote and the account at once before an order).
      const quote = await this.getQuote(`${(held[0] as { asset: string }).asset}${this.currency}`);
      mids.set(quote.symbol, (quote.bid + quote.ask) / 2);
    } else if (held.length > 1) {
      const unified = held.map((b) => (this.markets.get(`${b.asset}${this.currency}`) as MarketEntry).unified);
      const tickers = await this.call('get quotes', false, (x) => x.fetchTickers(unified));
      if (typeof tickers !== 'object' || tickers === null)
        throw new BrokerError('BAD_RESPONSE', 'Binance sent tickers that could not be read');
      for (const t of Object.values(tickers)) {
        const quote = parseQuote(infoOf(t, 'a ticker'), this.clock.now());
        mids.set(quote.symbol, (quote.bid + quote.ask) / 2);
      }
    }
    const positions = positionsFromBalances(account, this.currency, (asset) => {
      const symbol = `${asset}${this.currency}`;
      const price = mids.get(symbol);
      return price === undefined ? undefined : { symbol, price };
    });
    return { account, positions };
  }

  private market(symbol: string): MarketEntry {
    this.connected();
    const found =
      this.markets.get(symbol) ??
      this.byUnified.get(symbol) ??
      this.markets.get(symbol.replace(/[/_-]/g, '').toUpperCase());
    if (!found) throw new BrokerError('UNKNOWN_SYMBOL', `Binance spot has no symbol ${symbol}`);
    return found;
  }

  private rulesOf(market: MarketEntry): BinanceSymbolRules {
    market.rules ??= parseSymbolRules(market.info);
    return market.rules;
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

  private indexMarkets(markets: unknown): void {
    if (typeof markets !== 'object' || markets === null)
      throw new BrokerError('BAD_RESPONSE', 'Binance sent no markets');
    this.markets.clear();
    this.byUnified.clear();
    for (const m of Object.values(markets)) {
      const parsed = CcxtMarketSchema.safeParse(m);
      if (!parsed.success || parsed.data.spot === false) continue;
      const d = parsed.data;
      const plainSpot =
        d.spot === true &&
        d.type === 'spot' &&
        d.option !== true &&
        d.linear !== true &&
        d.inverse !== true &&
        d.stock !== true;
      const market: MarketEntry = { id: d.id, unified: d.symbol, info: d.info, plainSpot };
      this.markets.set(market.id, market);
      this.byUnified.set(market.unified, market);
    }
    if (this.markets.size === 0) throw new BrokerError('BAD_RESPONSE', 'Binance listed no spot symbols');
  }

  private rewriteOrigins(ex: CcxtBinance, baseUrl: string): void {
    const origin = new URL(baseUrl).origin;
    for (const [key, value] of Object.entries(ex.urls.api)) {
      if (typeof value !== 'string') continue;
      const u = new URL(value);
      ex.urls.api[key] = `${origin}${u.pathname}`;
    }
  }

  /** ccxt's exceptions carry no status or headers: keep them (Retry-After above all) beside the error. */
  private captureHttpErrors(ex: CcxtBinance): void {
    const handleErrors = ex.handleErrors.bind(ex);
    const handleHttpStatusCode = ex.handleHttpStatusCode.bind(ex);
    const keep = (e: unknown, capture: HttpCapture) => {
      if (typeof e === 'object' && e !== null && !this.captures.has(e)) this.captures.set(e, capture);
    };
    ex.handleErrors = (...args: unknown[]) => {
      try {
        return handleErrors(...args);
      } catch (e) {
        const [status, , , , headers, body] = args;
        keep(e, {
          status: typeof status === 'number' ? status : 0,
          body: typeof body === 'string' ? body : undefined,
          retryAfter: headerOf(headers, 'retry-after'),
        });
        throw e;
      }
    };
    ex.handleHttpStatusCode = (...args: unknown[]) => {
      try {
        return handleHttpStatusCode(...args);
      } catch (e) {
        const [status, , , , body] = args;
        keep(e, { status: typeof status === 'number' ? status : 0, body: typeof body === 'string' ? body : undefined });
        throw e;
      }
    };
  }
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

/**
 * ccxt signs every private request with a JavaScript HMAC (@noble/hashes), several times slower than
 * node:crypto's. node:crypto stands in for it when the digest is hex and the hash function ccxt passes
 * gives node's HMAC-SHA256 on a probe (checked once per function); anything else (RSA and Ed25519
 * keys never come here) goes to ccxt's own.
 */
function signWithNodeCrypto(ex: CcxtBinance): void {
  const own = ex.hmac;
  if (typeof own !== 'function') return;
  const isSha256 = new WeakMap<object, boolean>();
  const probe = createHmac('sha256', 'probe key').update('probe request').digest('hex');
  ex.hmac = (request: unknown, secret: unknown, hash: unknown, digest = 'hex'): unknown => {
    if (digest === 'hex' && typeof hash === 'function' && isBytesOrText(request) && isBytesOrText(secret)) {
      let sha256 = isSha256.get(hash);
      if (sha256 === undefined) {
        sha256 = own('probe request', 'probe key', hash, 'hex') === probe;
        isSha256.set(hash, sha256);
      }
      if (sha256) return createHmac('sha256', secret).update(request).digest('hex');
    }
    return own(request, secret, hash, digest);
  };
}

const isBytesOrText = (v: unknown): v is string | Uint8Array => typeof v === 'string' || v instanceof Uint8Array;
