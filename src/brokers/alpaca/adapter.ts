/**
 * Alpaca (US equities and crypto) through the official SDK `@alpacahq/alpaca-trade-api` 4.x,
 * REST only (`/rest`, no WebSocket dependencies), loaded on first `connect()`.
 *
 * This file is the `BrokerApi` over its neighbours: orders.ts (what Alpaca accepts, order wire ↔ model, the
 * status table), errors.ts (HTTP and SDK failures → `BrokerError`, the error table), market.ts (quotes,
 * assets), account.ts (account, positions), connection.ts (hosts, loading the SDK onto our keep-alive
 * transport) and wire.ts (decimals, times, the reply reader). It runs past 450 lines because about 50 of them
 * are the contract below and the state every call shares (the tracker, the read caches, the poll and the paged
 * open-order list that feeds it) lives here.
 *
 * Our type × time in force → Alpaca `type` / `time_in_force`:
 * | ours       | GTC             | IOC             | FOK             | GTD     |
 * |------------|-----------------|-----------------|-----------------|---------|
 * | market     | market / gtc    | market / ioc    | market / fok    | refused |
 * | limit      | limit / gtc     | limit / ioc     | limit / fok     | refused |
 * | stop       | stop / gtc      | refused         | refused         | refused |
 * | stop_limit | stop_limit / gtc| refused         | refused         | refused |
 *
 * Refused before anything is sent (`BrokerError('UNSUPPORTED_ORDER')`, nothing reaches Alpaca):
 * - GTD: Alpaca has no good-till-date; the reason tells the user to send GTC (or DAY) and cancel.
 * - IOC/FOK on stop and stop-limit (Alpaca allows them only on market and limit).
 * - Crypto (symbols with a slash, e.g. BTC/USD): plain stop orders and FOK.
 * - Fractional share quantities (Alpaca takes them only on DAY orders, which we do not send).
 * - Prices off Alpaca's increment: equities 0.01 at or above $1, 0.0001 below; crypto the asset's
 *   `price_increment` (fetched once per symbol from /v2/assets).
 * Quantities and prices go over the wire as decimal strings; `client_order_id` is ours.
 *
 * Transport: the SDK facade with `retry: false` and `rateLimit: false` (its defaults throttle
 * client-side and retry GETs, which would hide 429s and 5xx from the engine), over our keep-alive
 * `fetchApi` (`../keepAliveFetch.ts`), which enforces `timeoutMs` on every request and rewrites the trading
 * and data hosts when `baseUrl`/`dataBaseUrl` are given (the facade has no base-URL option). The keys go
 * to both hosts (`endpoints` names them); `createBroker` refuses a profile that moves only the trading
 * host, so quotes never leave for Alpaca's data host behind a self-hosted or offline trading server.
 * Responses are read as wire JSON and validated by the zod schemas of orders.ts, market.ts and account.ts,
 * never trusted as the SDK's typed models.
 *
 * Failures: HTTP errors map through `mapAlpacaError`. A submit (or cancel) that times out, loses
 * its connection after sending, gets any 5xx (a gateway's 502/504 included) or an unreadable 2xx body
 * throws with `outcomeUnknown: true` and is never resent: find the order with `getOrderByClientId`.
 * Only a request Alpaca provably did not act on (429, a connection refused before anything was
 * written) is sent again, with the same client_order_id, within `retry` (default 3 attempts, 5 s;
 * Retry-After honoured); Alpaca also refuses a second order with a client_order_id it has seen
 * ("client_order_id must be unique", even after the first ended), so even a resend that raced a
 * first acceptance could not place two. When the bound runs out the error is RATE_LIMITED or
 * NETWORK, retryable, never a rejected order, and no trading-API request is sent until the time the 429
 * named (its rate limit is the account's); each call meanwhile fails RATE_LIMITED, sent nothing, and the poll
 * skips. Market data (its own limits) is not held. `getOrderByClientId` is undefined only on Alpaca's own
 * 404 (code 40410000); any other failure throws, retryable, so a failed look-up never reads as absence.
 * Every error message passes through `redactValues` with the key id and secret, and account ids
 * (the account's id and account_number) are masked to their last four characters. Order updates: every change this adapter
 * observes (a submit's answer, a look-up, a list, the poll of open orders every `pollIntervalMs`
 * while an order of ours is working) goes through the order tracker (`../orderTracker.ts`), which emits each change
 * once and synthesises fills from changes in `filled_qty` (Alpaca lists none).
 * An order of ours replaced at Alpaca (PATCH /v2/orders/{id}: a new order with `replaces`, ours `replaced` with
 * `replaced_by`) for exactly its remaining quantity stays ours: the replacement is read under our ids, its fills
 * count toward ours and a cancel goes to it (`follow`, ../replacements.ts); one for another quantity ends ours,
 * cancelled with the reason (REPLACED: …), the replacement an order of its own.
 */
import { KeepAliveClient } from '../http';
import { withRetries, type RetryPolicy } from '../retry';
import { z } from 'zod';
import { systemClock, type Clock } from '../../common/clock';
import { toMoney } from '../../common/decimal';
import {
  isFinalStatus,
  rejectedOrderResponse,
  checkOrderRequest,
  type AccountInfo,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import { expectAnswerFor, OrderTracker } from '../orderTracker';
import { lookUpVanishedOrders } from '../vanishedOrders';
import { Replacements, stillWorking } from '../replacements';
import { SaidOnce } from '../saidOnce';
import { ReadCache } from '../readCache';
import {
  OrderUpdateListeners,
  unsupportedReason,
  type BrokerApi,
  type BrokerCapabilities,
  type Disposable,
  type OrderUpdate,
} from '../broker';
import {
  maskAccountIds,
  MissingCredentialError,
  redactValues,
  requireCredential,
  type CredentialSource,
} from '../credentials';
import { BrokerError, isBrokerError } from '../errors';
import { accountIdsOf, parseAccount, parsePositions } from './account';
import {
  ALPACA_DATA_URL,
  ALPACA_LIVE_URL,
  ALPACA_PAPER_URL,
  checkedBaseUrl,
  createClient,
  loadAlpacaSdk,
  toSdkOrder,
  type AlpacaClient,
  type Sdk,
} from './connection';
import { ALPACA_CODES, isAlpacaCode, isNoSuchOrder, toBrokerError, type AlpacaOperation } from './errors';
import { parseAsset, parseCryptoQuote, parseStockQuote } from './market';
import { flagIfStale, notLive } from '../quoteFreshness';
import {
  ALPACA_CAPABILITIES,
  alpacaRefusal,
  isCryptoSymbol,
  parseOrderWithLinks,
  toAlpacaOrder,
  UnrepresentableOrder,
  type LinkedOrder,
} from './orders';
import { validate } from './wire';

export interface AlpacaBrokerOptions {
  /** Default 'paper' (https://paper-api.alpaca.markets); 'live' is https://api.alpaca.markets. */
  environment?: 'paper' | 'live';
  /** Overrides the trading host (a proxy or a fake). Must be https unless it is a loopback address. */
  baseUrl?: string;
  /**
   * Overrides the market-data host (default https://data.alpaca.markets), where quotes go with the keys.
   * Same rule as `baseUrl`; give it whenever `baseUrl` is given (the registry requires it).
   */
  dataBaseUrl?: string;
  /** Asked for 'alpaca.keyId' and 'alpaca.secretKey' at connect time. */
  credentials: CredentialSource;
  /** Default the system clock. On any other clock polling defaults to off (tests call `pollOpenOrders()`). */
  clock?: Clock;
  /** Per-request deadline (default 10 000 ms). */
  timeoutMs?: number;
  /** Poll open orders and emit updates this often while connected; 0 = off. Default 2000 on the system clock, else 0. */
  pollIntervalMs?: number;
  /** Stock quote feed (default 'iex', which free accounts have). */
  dataFeed?: 'iex' | 'sip' | 'delayed_sip';
  /** Where failures that cannot be thrown go (a poll that failed, a listener that threw). Default: `process.emitWarning`. */
  onError?: (message: string, error: unknown) => void;
  /** Resending of requests Alpaca refused unprocessed (429, connection refused); see `RetryPolicy`. */
  retry?: RetryPolicy;
  /** Reuse an account or positions read this long unless an order of ours changed since (`ReadCache`); default 0 (the registry sets 1000). */
  readReuseMs?: number;
}

const OrderListSchema = z.array(z.unknown());
/** GET /v2/orders: `limit` "max is 500" (Alpaca API reference, "Get all orders"). */
const OPEN_ORDER_PAGE = 500;
/** Pages read at most in one listing (50 000 open orders). */
const OPEN_ORDER_PAGES_MAX = 100;
/** Replacements followed in one look-up (a replace of a replace …); the rest at the next. */
const REPLACEMENTS_FOLLOWED = 5;

const idOf = (item: unknown): string | undefined =>
  typeof item === 'object' && item !== null && 'id' in item && typeof item.id === 'string' ? item.id : undefined;

/** When an order in a list was submitted (ms), for the next page's `after`; -Infinity when it does not say. */
function submittedAt(item: unknown): number {
  if (typeof item !== 'object' || item === null) return Number.NEGATIVE_INFINITY;
  const o = item as { submitted_at?: unknown; created_at?: unknown };
  const text = typeof o.submitted_at === 'string' ? o.submitted_at : o.created_at;
  const at = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  return Number.isFinite(at) ? at : Number.NEGATIVE_INFINITY;
}

export class AlpacaBroker implements BrokerApi {
  readonly id = 'alpaca';
  readonly displayName: string;
  readonly environment: 'paper' | 'live';
  readonly capabilities: BrokerCapabilities = ALPACA_CAPABILITIES;

  private readonly http = new KeepAliveClient();
  private readonly tradingUrl: string;
  private readonly dataUrl: string;
  private readonly tradingOverride: string | undefined;
  private readonly dataOverride: string | undefined;
  private readonly timeoutMs: number;
  /** No trading-API request is sent before this (on `retryNow`'s clock): Alpaca's last 429 asked to wait until then. */
  private quietUntil = Number.NEGATIVE_INFINITY;
  /** The clock `quietUntil` is on: the retry policy's, so a resend's wait and the hold agree. */
  private readonly retryNow: () => number;
  private readonly pollIntervalMs: number;
  private sdk: Sdk | undefined;
  private client: AlpacaClient | undefined;
  private secrets: string[] = [];
  /** The account's id and account_number, masked in every message. */
  private accountIds: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly listeners = new OrderUpdateListeners((e) =>
    this.report('Alpaca: an order-update listener threw', e),
  );
  /** Turns each view of an order into the updates it brings, once. */
  private readonly tracker = new OrderTracker((u) => {
    this.reads.invalidate();
    this.listeners.emit(u);
  });
  /** Account and positions reads, shared while in flight and reused briefly (see `ReadCache`). */
  private readonly reads: ReadCache;
  /** Quotes: identical reads in flight share one request, never reused after. */
  private readonly quotes = new ReadCache(0);
  private instruments = new Map<string, InstrumentRules>();
  /** Which venue order carries which of ours after a replace at Alpaca (`follow`). */
  private readonly replacements = new Replacements();
  /**
   * What Alpaca's last trading-API reply said of the rate limit (X-RateLimit-Limit/Remaining/Reset), its reset on
   * `retryNow`'s clock; and the window the poll was last said to wait in (said once a window).
   */
  private rateWindow: { limit: number; remaining: number; resetAt: number } | undefined;
  private rateWindowSaid = Number.NaN;
  /** Statuses Alpaca sent that the status table does not know, by order (said once). */
  private readonly unknownStatusSaid = new SaidOnce();

  constructor(private readonly options: AlpacaBrokerOptions) {
    this.environment = options.environment ?? 'paper';
    this.displayName = this.environment === 'live' ? 'Alpaca (live)' : 'Alpaca (paper)';
    this.tradingUrl = this.environment === 'live' ? ALPACA_LIVE_URL : ALPACA_PAPER_URL;
    this.dataUrl = ALPACA_DATA_URL;
    this.tradingOverride = options.baseUrl === undefined ? undefined : checkedBaseUrl(options.baseUrl, 'baseUrl');
    this.dataOverride =
      options.dataBaseUrl === undefined ? undefined : checkedBaseUrl(options.dataBaseUrl, 'dataBaseUrl');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retryNow = options.retry?.now ?? (() => performance.now());
    this.pollIntervalMs = options.pollIntervalMs ?? ((options.clock ?? systemClock) === systemClock ? 2000 : 0);
    this.reads = new ReadCache(options.readReuseMs ?? 0);
  }

  /** Where requests go, with the keys: the trading host and the market-data host, overrides applied. */
  get endpoints(): { readonly trading: string; readonly data: string } {
    return { trading: this.tradingOverride ?? this.tradingUrl, data: this.dataOverride ?? this.dataUrl };
  }

  // --- lifecycle ---

  async connect(): Promise<void> {
    if (this.client) return;
    let keyId: string;
    let secret: string;
    try {
      keyId = await requireCredential(this.options.credentials, 'alpaca.keyId');
      secret = await requireCredential(this.options.credentials, 'alpaca.secretKey');
    } catch (e) {
      if (e instanceof MissingCredentialError) throw new BrokerError('AUTHENTICATION', e.message, { retryable: false });
      throw e;
    }
    this.secrets = [keyId, secret];
    // Loaded here, not at the top, so the extension pays for the SDK only when Alpaca is used.
    const sdk = (this.sdk ??= loadAlpacaSdk());
    const client = this.guardSync('account', () =>
      createClient(sdk, {
        keyId,
        secret,
        paper: this.environment === 'paper',
        http: this.http,
        timeoutMs: this.timeoutMs,
        tradingUrl: this.tradingUrl,
        tradingOverride: this.tradingOverride,
        dataUrl: this.dataUrl,
        dataOverride: this.dataOverride,
      }),
    );
    // Checks the keys (and the host) before declaring the venue connected.
    const sentAt = this.reads.now();
    const raw = await this.request('account', () => client.trading.account.getAccountRaw());
    this.guardSync('account', () => parseAccount(raw, []));
    this.reads.put('rawAccount', raw, sentAt);
    this.accountIds = accountIdsOf(raw);
    this.client = client;
    if (this.pollIntervalMs > 0) {
      this.timer = setInterval(() => void this.pollOpenOrders(), this.pollIntervalMs);
      this.timer.unref();
    }
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.client = undefined;
    this.http.close();
  }

  isConnected(): boolean {
    return this.client !== undefined;
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.listeners.add(listener);
  }

  // --- orders ---

  async submitOrder(order: PlacedOrderRequest): Promise<OrderResponse> {
    const client = this.ensureConnected();
    const wellFormed = checkOrderRequest(order);
    if (!wellFormed.success || !order.client_order_id) {
      const why = wellFormed.success
        ? 'client_order_id is required'
        : wellFormed.error.issues.map((i) => i.message).join('; ');
      throw new BrokerError('INVALID_ORDER', `cannot send this order to Alpaca: ${why}`);
    }
    const refusal =
      alpacaRefusal(order) ??
      unsupportedReason(this.capabilities, order.order_type.type, order.time_in_force.type, 'Alpaca');
    if (refusal !== undefined) throw new BrokerError('UNSUPPORTED_ORDER', refusal);
    const cryptoTick = isCryptoSymbol(order.symbol) ? await this.cryptoTick(order.symbol) : undefined;
    const body = toAlpacaOrder(order, cryptoTick);
    this.reads.invalidate();
    let raw: unknown;
    try {
      // Resent only after an answer proving Alpaca did nothing (notActed), with the same client_order_id.
      raw = await withRetries(
        (n) =>
          this.request(
            'submit',
            () => client.trading.orders.postOrderRaw({ postOrderRequest: toSdkOrder(body) }),
            true,
            n,
          ),
        this.options.retry,
        'submit',
      );
    } catch (e) {
      // Alpaca answered and refused the order itself (buying power, its own rules): a rejected order,
      // as the other venues report it, not a failure to reach the venue. A 403 with Alpaca's own code is
      // such a refusal too ("Create Order": 403 "Buying power or shares is not sufficient"; the PDT check
      // "rejects" the order with a 403, 40310100), whatever its wording; a bare 403 (no Alpaca body) is not.
      if (
        isBrokerError(e) &&
        !e.outcomeUnknown &&
        (e.reason === 'INSUFFICIENT_FUNDS' ||
          e.reason === 'INVALID_ORDER' ||
          (e.reason === 'PERMISSION_DENIED' && isAlpacaCode(e.venueCode))) &&
        e.venueCode !== undefined
      )
        return this.rejected(order, e);
      throw e;
    }
    try {
      const linked = parseOrderWithLinks(raw, this.now());
      if (linked.unknownStatus !== undefined) this.sayUnknownStatus(linked.unknownStatus, linked.view.order_id);
      return this.tracker.observe(
        expectAnswerFor(linked.view, { clientOrderId: order.client_order_id }, 'Alpaca', true),
      );
    } catch (e) {
      // Alpaca answered 2xx: the order probably exists, but we cannot tell what it is.
      const err = this.toBrokerError(e, 'submit');
      throw new BrokerError(
        err.reason,
        `${err.message}; the order may have been placed: look it up by client order id ${order.client_order_id}`,
        {
          outcomeUnknown: true,
          retryable: false,
          venueCode: err.venueCode,
        },
      );
    }
  }

  /**
   * A crypto pair's price increment (GET /v2/assets/{symbol}), to refuse an off-increment price before sending; or
   * undefined when Alpaca answers 404 for the asset (a venue that serves no asset route, or a pair it lists no asset
   * for): the order then goes as is and Alpaca judges its price itself (422 42210000), as it does any symbol.
   */
  private async cryptoTick(symbol: string): Promise<number | undefined> {
    try {
      return (await this.getInstrument(symbol)).tickSize;
    } catch (e) {
      if (isBrokerError(e) && (e.venueCode === 404 || e.venueCode === ALPACA_CODES.notFound)) return undefined;
      throw e;
    }
  }

  async cancelOrder(orderId: string): Promise<void> {
    const client = this.ensureConnected();
    this.reads.invalidate();
    for (let attempt = 0; ; attempt++) {
      // Replaced at Alpaca: the order carrying ours now is the one cancelled.
      const venueId = this.replacements.venueIdOf(orderId);
      try {
        await withRetries(
          (n) =>
            this.request('cancel', () => client.trading.orders.deleteOrderByOrderIDRaw({ orderId: venueId }), false, n),
          this.options.retry,
          'cancel',
        );
        break;
      } catch (e) {
        // "Cancel Order": 422 "The order status is not cancelable" (already filled, cancelled, expired, replaced…):
        // read it now, so a fill that beat the cancel is reported with the refusal, not at some later poll; an order
        // replaced meanwhile by one carrying it on is cancelled there.
        if (isBrokerError(e) && e.reason === 'INVALID_ORDER' && !e.outcomeUnknown) {
          await this.getOrderStatus(orderId).catch((lookUp: unknown) =>
            this.report(`Alpaca: looking up order ${orderId} after a refused cancel failed`, lookUp),
          );
          if (this.replacements.venueIdOf(orderId) !== venueId && attempt < REPLACEMENTS_FOLLOWED) continue;
        }
        throw e;
      }
    }
    // Alpaca cancels asynchronously (pending_cancel → canceled): look once so listeners hear of it.
    try {
      await this.getOrderStatus(orderId);
    } catch (e) {
      this.report(`Alpaca: looking up order ${orderId} after cancelling it failed`, e);
    }
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    return this.lookUpVenueOrder(this.replacements.venueIdOf(orderId));
  }

  /** GET /v2/orders/{id} of a venue order, read as the user's order (`follow`). */
  private async lookUpVenueOrder(venueId: string, depth = 0): Promise<OrderResponse> {
    const client = this.ensureConnected();
    const raw = await this.request('order', () => client.trading.orders.getOrderByOrderIDRaw({ orderId: venueId }));
    const linked = this.guardSync('order', () => parseOrderWithLinks(raw, this.now()));
    this.guardSync('order', () => expectAnswerFor(linked.view, { orderId: venueId }, 'Alpaca'));
    return this.follow(linked, depth);
  }

  /**
   * Undefined only when Alpaca answers its own 404 "order not found" (code 40410000, or that message alone); every
   * other failure (5xx, timeout, reset, an unreadable body, a bare 404) throws a retryable error: it proves nothing.
   */
  async getOrderByClientId(clientOrderId: string): Promise<OrderResponse | undefined> {
    const client = this.ensureConnected();
    try {
      const raw = await withRetries(
        (n) =>
          this.request('order', () => client.trading.orders.getOrderByClientOrderIdRaw({ clientOrderId }), true, n),
        this.options.retry,
      );
      const linked = this.guardSync('order', () => parseOrderWithLinks(raw, this.now()));
      this.guardSync('order', () => expectAnswerFor(linked.view, { clientOrderId }, 'Alpaca'));
      return await this.follow(linked);
    } catch (e) {
      if (e instanceof BrokerError && isNoSuchOrder(e)) return undefined;
      if (e instanceof BrokerError && !e.retryable && e.reason !== 'AUTHENTICATION' && e.reason !== 'PERMISSION_DENIED')
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

  async listOpenOrders(): Promise<OrderResponse[]> {
    return (await this.readOpenOrders(false)).orders;
  }

  /**
   * The open orders, each through the tracker. Orders SPtrader does not model (notional, multi-leg, other
   * types placed elsewhere) are skipped. One Alpaca sent that cannot be read throws (`tolerant` false), or
   * (`tolerant`, the poll) is reported naming it and left out while every other order is still followed:
   * its id is returned among `listed`, so the poll does not take it for an order that left the list.
   */
  private async readOpenOrders(tolerant: boolean): Promise<{ orders: OrderResponse[]; listed: Set<string> }> {
    const raw = await this.readOpenOrderPages();
    const orders: OrderResponse[] = [];
    const listed = new Set<string>();
    for (const item of raw) {
      const id = idOf(item);
      if (id !== undefined) {
        listed.add(id);
        // A replacement carrying ours on: our order is listed.
        listed.add(this.replacements.ourIdOf(id));
      }
      try {
        let linked: LinkedOrder;
        try {
          linked = parseOrderWithLinks(item, this.now());
        } catch (e) {
          if (e instanceof UnrepresentableOrder) continue;
          throw this.toBrokerError(e, 'order');
        }
        orders.push(await this.follow(linked));
      } catch (e) {
        if (!tolerant) throw e;
        this.report(
          `Alpaca: open order ${id ?? '(without an id)'} could not be read; the other orders are followed`,
          e,
        );
      }
    }
    return { orders, listed };
  }

  /**
   * Every open order, page by page: GET /v2/orders returns at most `limit` (max 500) orders, so a full page is
   * followed by the next, oldest first (`direction=asc`), from just before the last one's `submitted_at`
   * (`after` is exclusive: orders sharing that instant are read again and dropped by id). Alpaca API
   * reference "Get all orders" (`limit` "max is 500", `after`, `until`, `direction`).
   */
  private async readOpenOrderPages(): Promise<unknown[]> {
    const client = this.ensureConnected();
    const items: unknown[] = [];
    const seen = new Set<string>();
    let after: string | undefined;
    for (let page = 0; page < OPEN_ORDER_PAGES_MAX; page++) {
      const from = after;
      const raw = await this.request('order', () =>
        client.trading.orders.getAllOrdersRaw({
          status: 'open',
          limit: OPEN_ORDER_PAGE,
          direction: 'asc',
          ...(from === undefined ? {} : { after: from }),
        }),
      );
      const batch = this.guardSync('order', () => validate(OrderListSchema, raw, 'an order list'));
      let fresh = 0;
      let last = Number.NEGATIVE_INFINITY;
      for (const item of batch) {
        const id = idOf(item);
        if (id !== undefined) {
          if (seen.has(id)) continue;
          seen.add(id);
        }
        items.push(item);
        fresh++;
        last = Math.max(last, submittedAt(item));
      }
      if (batch.length < OPEN_ORDER_PAGE || fresh === 0 || !Number.isFinite(last)) return items;
      after = new Date(last - 1).toISOString();
    }
    throw new BrokerError(
      'BAD_RESPONSE',
      `Alpaca listed more than ${OPEN_ORDER_PAGES_MAX * OPEN_ORDER_PAGE} open orders; the list was not read to its end`,
      { retryable: true },
    );
  }

  // --- account and market data ---

  async getAccountInfo(): Promise<AccountInfo> {
    const client = this.ensureConnected();
    const [account, positions] = await Promise.all([
      this.reads.read('rawAccount', () => this.request('account', () => client.trading.account.getAccountRaw())),
      this.getPositions(),
    ]);
    return this.guardSync('account', () => parseAccount(account, positions));
  }

  async getPositions(): Promise<Position[]> {
    const client = this.ensureConnected();
    return this.reads.read('positions', async () => {
      const raw = await this.request('account', () => client.trading.positions.getAllOpenPositionsRaw());
      return this.guardSync('account', () => parsePositions(raw));
    });
  }

  async getQuote(symbol: string): Promise<Quote> {
    this.ensureConnected();
    return this.quotes.read(symbol, () => this.readQuote(symbol));
  }

  private async readQuote(symbol: string): Promise<Quote> {
    const client = this.ensureConnected();
    if (isCryptoSymbol(symbol)) {
      const raw = await this.request('quote', () =>
        client.marketData.crypto.cryptoLatestQuotesRaw({ loc: 'us', symbols: symbol }),
      );
      return this.guardSync('quote', () => flagIfStale(parseCryptoQuote(raw, symbol), 'Alpaca', this.now()));
    }
    const feed = this.options.dataFeed ?? 'iex';
    const raw = await this.request('quote', () => client.marketData.stocks.stockLatestQuoteSingleRaw({ symbol, feed }));
    return this.guardSync('quote', () => {
      const quote = parseStockQuote(raw, symbol);
      // Alpaca market data "Historical stock data" feeds: `delayed_sip` is the SIP "delayed by 15 minutes".
      return feed === 'delayed_sip'
        ? notLive(quote, "Alpaca's delayed_sip feed: the SIP quote 15 minutes behind, not the live price")
        : flagIfStale(quote, 'Alpaca', this.now());
    });
  }

  async getInstrument(symbol: string): Promise<InstrumentRules> {
    const cached = this.instruments.get(symbol);
    if (cached) return cached;
    const client = this.ensureConnected();
    const raw = await this.request('asset', () =>
      client.trading.assets.getV2AssetsSymbolOrAssetIdRaw({ symbolOrAssetId: symbol }),
    );
    const rules = this.guardSync('asset', () => ({ ...parseAsset(raw), symbol }));
    this.instruments.set(symbol, rules);
    return rules;
  }

  // --- polling and updates ---

  /** One poll: open orders, then every order we last saw open that is no longer listed. */
  async pollOpenOrders(): Promise<void> {
    // Polling follows our working orders; orders placed elsewhere are found by listOpenOrders (reconcile).
    // Alpaca asked for quiet (a 429): the next poll after it looks.
    if (this.polling || !this.client || this.tracker.openOrderIds().length === 0 || this.quietUntil > this.retryNow())
      return;
    if (this.nearRateLimit()) return;
    this.polling = true;
    try {
      const { listed } = await this.readOpenOrders(true);
      // Orders that left the open-order list ended somehow: each is asked how.
      await lookUpVanishedOrders(this.tracker, listed, {
        goOn: () => this.client !== undefined,
        lookUp: async (id) => {
          await this.getOrderStatus(id);
          return 'seen';
        },
        // Alpaca's limit is the account's: the other look-ups would meet it too, so they wait for the next poll.
        endsRound: (e) => isBrokerError(e) && e.reason === 'RATE_LIMITED',
        report: (id, e) => this.report(`Alpaca: looking up order ${id}, which left the open-order list, failed`, e),
      });
    } catch (e) {
      this.report('Alpaca: polling open orders failed', e);
    } finally {
      this.polling = false;
    }
  }

  /**
   * One view of an order, through the tracker (which emits what is new in it), as the user's order. Alpaca API
   * reference "Replace Order by ID" (PATCH /v2/orders/{order_id}): a replace makes a NEW order (its own id and
   * client_order_id, `replaces` naming the old one) and ends the old one `replaced` with `replaced_by`. A replacement
   * for exactly the order's remaining quantity, same symbol and side (a new price or time in force) carries ours
   * on: it is read as ours (our ids and quantity, its terms, its fills after ours), and a cancel goes to it
   * (`Replacements`). A replacement for another quantity (a partly filled order's keeps the original `qty`,
   * alpacahq/Alpaca-API#165) is an order of its own: ours ended there, cancelled with the reason.
   */
  private async follow(linked: LinkedOrder, depth = 0): Promise<OrderResponse> {
    const { view, replacedBy, replaces } = linked;
    if (linked.unknownStatus !== undefined) this.sayUnknownStatus(linked.unknownStatus, view.order_id);
    if (
      replaces !== undefined &&
      this.replacements.ourIdOf(view.order_id) === view.order_id &&
      this.followed(replaces) &&
      depth < REPLACEMENTS_FOLLOWED
    )
      // A replacement seen before the replace was followed (a poll's list): the order it replaces is read first,
      // with its last fills, which follows on to this one and records it when it carries ours on.
      await this.lookUpVenueOrder(replaces, depth + 1);
    const ourId = this.replacements.ourIdOf(view.order_id);
    const ours = ourId === view.order_id ? undefined : this.tracker.last(ourId);
    const mapped = ours ? this.asOurs(view, ours) : view;
    const before = this.tracker.last(ourId);
    if (replacedBy === undefined || (before !== undefined && isFinalStatus(before.status)))
      return this.tracker.observe(mapped);
    // Replaced: followed to its replacement (up to a bound; the rest at the next look-up).
    const working = stillWorking(mapped);
    if (depth >= REPLACEMENTS_FOLLOWED) return this.tracker.observe(working);
    const client = this.ensureConnected();
    const raw = await this.request('order', () => client.trading.orders.getOrderByOrderIDRaw({ orderId: replacedBy }));
    const next = this.guardSync('order', () => parseOrderWithLinks(raw, this.now()));
    this.guardSync('order', () => expectAnswerFor(next.view, { orderId: replacedBy }, 'Alpaca'));
    const carried =
      (next.replaces === undefined || next.replaces === view.order_id) &&
      next.view.symbol === working.symbol &&
      next.view.side === working.side &&
      toMoney(next.view.quantity) + toMoney(working.filled_quantity ?? 0) === toMoney(working.quantity);
    if (!carried)
      return this.tracker.observe({
        ...mapped,
        status: {
          status: 'cancelled',
          reason:
            `REPLACED: Alpaca replaced order ${view.order_id} by order ${replacedBy} (client order id ` +
            `${next.view.client_order_id}) for ${next.view.quantity} ${next.view.symbol}, not its remaining ` +
            `quantity: that one is an order of its own`,
        },
      });
    // Its own fills before the replace, under our ids; then the replacement as ours.
    this.replacements.record(replacedBy, this.tracker.observe(working));
    return this.follow(next, depth + 1);
  }

  /** Whether venue order `venueId` carries an order of ours (itself or by a replacement) that is still working. */
  private followed(venueId: string): boolean {
    const ours = this.tracker.last(this.replacements.ourIdOf(venueId));
    return ours !== undefined && !isFinalStatus(ours.status);
  }

  /** A replacement's view as our order: our ids and quantity, its price and time in force (what works now). */
  private asOurs(view: OrderResponse, ours: OrderResponse): OrderResponse {
    return {
      ...this.replacements.asOurs(view, ours),
      order_type: view.order_type,
      time_in_force: view.time_in_force,
    };
  }

  /** The order Alpaca refused, as a rejected order with Alpaca's reason (Alpaca made no order of it). */
  private rejected(order: PlacedOrderRequest, e: BrokerError): OrderResponse {
    const response = rejectedOrderResponse(
      order,
      `rejected:${order.client_order_id}`,
      `${e.reason}: ${e.message}`,
      this.now(),
    );
    return this.tracker.observe(response);
  }

  private now(): number {
    return (this.options.clock ?? systemClock).now();
  }

  /** Says once per order and status that Alpaca sent a status SPtrader does not know (orders.ts `mapAlpacaStatus`). */
  private sayUnknownStatus(status: string, orderId: string): void {
    const key = `${orderId} ${status}`;
    if (!this.unknownStatusSaid.first(key)) return;
    const shown = status.length > 40 ? `${status.slice(0, 40)}…` : status;
    this.report(
      `Alpaca reported order ${orderId} with status ${JSON.stringify(shown)}, which this version of SPtrader does not know: it is followed by its figures (its filled_qty counted, still working until all of it filled or Alpaca reports a status SPtrader knows); check it at Alpaca`,
      undefined,
    );
  }

  private report(message: string, e: unknown): void {
    const text = this.redact(e instanceof Error ? `${message}: ${e.message}` : message);
    if (this.options.onError) this.options.onError(text, e instanceof BrokerError ? e : undefined);
    else process.emitWarning(text);
  }

  // --- transport and errors ---

  private ensureConnected(): AlpacaClient {
    if (!this.client) throw new BrokerError('NOT_CONNECTED', `${this.displayName} is not connected`);
    return this.client;
  }

  /**
   * Runs one SDK call and reads its body as wire JSON (undefined when `json` is false), turning
   * every failure into a redacted BrokerError.
   */
  /**
   * One call to Alpaca. `attempt` is withRetries' count: a resend comes after the wait Alpaca asked for and is
   * not held back again. Trading-API calls are held while Alpaca's last 429 asked for quiet (its limit is the
   * account's, so any call before the reset meets it too); market data has limits of its own.
   */
  private async request(
    op: AlpacaOperation,
    call: () => Promise<{ raw: Response }>,
    json = true,
    attempt = 1,
  ): Promise<unknown> {
    const trading = op !== 'quote';
    if (trading && attempt === 1) this.holdOff(op);
    try {
      const res = await call();
      if (trading && attempt > 1) this.quietUntil = Number.NEGATIVE_INFINITY;
      if (trading) this.noteRateLimit(res.raw.headers);
      if (!json) {
        await res.raw.arrayBuffer();
        return undefined;
      }
      const text = await res.raw.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new BrokerError('BAD_RESPONSE', `Alpaca answered with a body that is not JSON (${text.length} bytes)`, {
          outcomeUnknown: op === 'submit' || op === 'cancel',
          retryable: false,
        });
      }
    } catch (e) {
      const error = this.toBrokerError(e, op);
      if (trading && error.reason === 'RATE_LIMITED' && error.notActed && error.retryAfterMs !== undefined)
        this.quietUntil = Math.max(this.quietUntil, this.retryNow() + error.retryAfterMs);
      throw error;
    }
  }

  /**
   * Keeps what a trading-API reply says of the rate limit. Alpaca "Rate limits": a limit per account of requests a
   * minute, answered 429 past it, and every reply carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
   * `X-RateLimit-Reset` ("The time at which the current rate limit window resets in UTC epoch seconds", read
   * against the adapter's clock).
   */
  private noteRateLimit(headers: Headers | undefined): void {
    const read = (name: string): number | undefined => {
      const v = headers?.get(name)?.trim();
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
    };
    const limit = read('x-ratelimit-limit');
    const remaining = read('x-ratelimit-remaining');
    const reset = read('x-ratelimit-reset');
    if (limit === undefined || remaining === undefined || reset === undefined || limit <= 0) return;
    this.rateWindow = { limit, remaining, resetAt: this.retryNow() + Math.max(0, reset * 1000 - this.now()) };
  }

  /**
   * True (said once a window) while the account's requests left before Alpaca's rate limit resets are within the
   * tenth of the limit kept for orders and cancels: the poll waits for the reset. Other programs on the account's
   * keys spend the same requests, and a poll past the limit would leave the next order refused 429.
   */
  private nearRateLimit(): boolean {
    const w = this.rateWindow;
    if (w === undefined || this.retryNow() >= w.resetAt || w.remaining > w.limit * 0.1) return false;
    if (this.rateWindowSaid !== w.resetAt) {
      this.rateWindowSaid = w.resetAt;
      this.report(
        `Alpaca: ${w.remaining} of the account's ${w.limit} requests a minute are left until the rate limit resets in ${Math.ceil((w.resetAt - this.retryNow()) / 1000)} s (X-RateLimit-Remaining; other programs on these keys count too): the order poll waits for the reset so that orders and cancels are not refused (429)`,
        undefined,
      );
    }
    return true;
  }

  /** Refuses, sending nothing, while Alpaca's last 429 asked for quiet (X-RateLimit-Reset or Retry-After). */
  private holdOff(op: AlpacaOperation): void {
    const left = Math.ceil(this.quietUntil - this.retryNow());
    if (left <= 0) return;
    throw new BrokerError(
      'RATE_LIMITED',
      `Alpaca ${op} request not sent: Alpaca's rate limit (a 429) resets in ${Math.ceil(left / 1000)} s, and every request before then would be refused too; nothing was sent`,
      { retryable: true, notActed: true, retryAfterMs: left },
    );
  }

  private guardSync<T>(op: AlpacaOperation, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.toBrokerError(e, op);
    }
  }

  /** Secrets out, account ids masked to their last four characters. */
  private redact(text: string): string {
    return maskAccountIds(redactValues(text, this.secrets), this.accountIds);
  }

  private toBrokerError(e: unknown, op: AlpacaOperation): BrokerError {
    return toBrokerError(e, op, { sdk: this.sdk, timeoutMs: this.timeoutMs, redact: (s) => this.redact(s) });
  }
}
