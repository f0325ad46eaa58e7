/**
 * A fake Alpaca: trading and market-data REST on one node:http server (127.0.0.1, ephemeral port), or with
 * `separateDataHost` on two, as Alpaca splits them (trading at paper-api.alpaca.markets, market data at
 * data.alpaca.markets): then each answers 404 for the other's routes, so a request sent to the wrong host
 * shows, and `requestsAt('trading' | 'data')` counts what each received.
 *
 * Market data, as Alpaca's Market Data API v2 documents it:
 * - Stocks: "Historical Data" → "Common behavior" → "Base URL" (https://data.alpaca.markets/v2, the same
 *   for paper and live) and "Authentication" (the Trading API's APCA-API-KEY-ID and APCA-API-SECRET-KEY
 *   headers) (alpaca.markets/docs/api-documentation/api-v2/market-data/alpaca-data-api-v2/historical/);
 *   the latest quote, `GET /v2/stocks/{symbol}/quotes/latest?feed=iex`, answers `{symbol, quote: {t, ap, as,
 *   bp, bs, ax, bx, c, z}}` ("How to Fetch the Latest Trade/Quote in Alpaca Market Data API v2",
 *   alpaca.markets/learn/latest-trade-quote; IEX is the free plan's feed, "About Market Data API" →
 *   "Subscription Plans", docs.alpaca.markets/docs/about-market-data-api).
 * - Crypto: "Crypto Pricing API" → "Base URL" (https://data.alpaca.markets/v1beta3/crypto) and
 *   "Authentication" ("Historical crypto market data endpoints have been made public and require no
 *   authentication") (alpaca.markets/docs/api-references/market-data-api/crypto-pricing-data/);
 *   `GET /v1beta3/crypto/us/latest/quotes?symbols=BTC/USD` answers `{quotes: {"BTC/USD": {t, ap, as, bp, bs}}}`.
 *
 * Routes (wire shapes as in docs/reference brokers.md §5):
 * - POST   /v2/orders                              → 200 Order; 422 40010001 for a reused client_order_id,
 *                                                     422 42210000 for sub-penny prices, 403 40310000 without buying power
 * - GET    /v2/orders?status=open|closed|all       → Order[]
 * - GET    /v2/orders:by_client_order_id?client_order_id= → Order, or 404 40410000
 * - GET    /v2/orders/{id}                         → Order, or 404
 * - DELETE /v2/orders/{id}                         → 204; 404 unknown; 422 when already final
 * - PATCH  /v2/orders/{id}                         → 200 the replacing Order ("Replace Order by ID", `replaceOrder`)
 * - GET    /v2/account, /v2/positions, /v2/assets/{symbol}
 * - GET    /v2/stocks/{symbol}/quotes/latest, /v1beta3/crypto/us/latest/quotes?symbols=
 * Every request must carry APCA-API-KEY-ID and APCA-API-SECRET-KEY (401 otherwise), except crypto
 * market data, which Alpaca serves without keys (and the SDK sends none there).
 *
 * Matching: market orders fill in full at the touch; limits fill at the touch when marketable,
 * else rest and fill at the limit when a later `setQuote` reaches them; stops trigger on the touch
 * (buy: ask ≥ stop, sell: bid ≤ stop) and then act as market (stop) or limit (stop-limit);
 * trailing stops follow Alpaca's "Orders" → "Trailing Stop Orders" (docs.alpaca.markets/docs/orders-at-alpaca):
 * `trail_price` (a dollar offset) or `trail_percent` (one of the two, else 422), DAY or GTC only, not for
 * crypto; the order keeps `hwm` (the best price since it was placed: the highest for a sell, the lowest for
 * a buy) and `stop_price` = hwm − trail (sell) or hwm + trail (buy), updated as the price moves in the
 * order's favour and never back; when the price reaches the stop it executes as a market order. The fake
 * has no trades: its price is the touch (the bid for a sell, the ask for a buy);
 * IOC/FOK that cannot fill at once are cancelled. Faults from `injectNext` apply to the next
 * `POST /v2/orders` (`on: 'submit'`, the default), `DELETE /v2/orders/{id}` (`on: 'cancel'`) or
 * order look-up, by id or client id (`on: 'lookup'`); see `playHttpFault` in ../control.ts:
 * - 5xx after or without acting, Alpaca's JSON `{code, message}` or a gateway's HTML page: Alpaca
 *   documents 500 as "internal server error" with no promise about the order (RFC 9110 §15.6).
 * - 429 + Retry-After (seconds or an HTTP-date) and X-RateLimit-* headers, nothing done: Alpaca's
 *   rate limiter refuses the request (docs.alpaca.markets/docs/rate-limits: "429 ... Too many requests",
 *   X-RateLimit-Limit/Remaining/Reset).
 * - reset after reading the request, a hang, a 200 missing `status`, each after acting or not.
 * - errorEchoingAccount: a 403 whose message names the account number (the adapter must mask it).
 * A reused client_order_id is refused with 422 "client_order_id must be unique" whatever became of
 * the first order (the SDK README, "Order-submission safety"), so the fake never holds two.
 *
 * Past 450 lines on purpose: one fake is one closure over one venue's state (quotes, assets, orders,
 * positions, faults), and its routes, matching and fault hooks read and change that state together; split
 * apart they would pass all of it around.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FaultQueue, playHttpFault, type FakeFault, type FakeVenue } from '../control';

export const FAKE_ALPACA_KEY_ID = 'PKFAKE0000KEYID';
export const FAKE_ALPACA_SECRET = 'fake-alpaca-secret-0123456789';

export interface FakeAlpacaOptions {
  keyId?: string;
  secretKey?: string;
  /** Starting cash in USD (default 100 000). */
  cash?: number;
  /** Buying power = cash × this (default 2, Reg-T margin). */
  marginMultiplier?: number;
  /** Crypto assets the venue lists, with their increments (default BTC/USD and ETH/USD). */
  cryptoAssets?: Record<string, { priceIncrement: number; minTradeIncrement: number; minOrderSize: number }>;
  /** Echo the received key id in 401 messages (to prove the adapter redacts what a venue echoes). */
  echoCredentialsOn401?: boolean;
  /** The account's id and account_number (GET /v2/account). */
  accountId?: string;
  accountNumber?: string;
  /** Market data on a second server (`dataUrl`), trading on the first (`url`); default both on one. */
  separateDataHost?: boolean;
  /**
   * Name crypto positions the legacy way (BTCUSD for BTC/USD). Alpaca "Crypto Trading": "symbology for trading
   * pairs has changed from our previous format, where BTC/USD was previously referred to as BTCUSD. Our API has
   * made proper changes to support the legacy convention as well for backwards compatibility."
   */
  legacyCryptoSymbols?: boolean;
  /** Serve no GET /v2/assets/{symbol} (404), as brokers.md §5's minimal Alpaca server, whose routes omit it. */
  noAssetRoute?: boolean;
  /**
   * The body of the 404 for an order look-up (by id or client id) that finds none. Alpaca's error body is
   * `{"code": <int>, "message": "..."}` (brokers.md §5, [ALP-YAML]: "404 not found"); 'documented' (the default)
   * is `{"code":40410000,"message":"order not found"}`, 'messageOnly' the message without its code, 'empty' a 404
   * with no body at all (what a proxy or a wrong path gives: it says nothing about the order).
   */
  orderNotFoundBody?: 'documented' | 'messageOnly' | 'empty';
  /**
   * The body of a refused submit (`refuseNextSubmit`) or of a cancel of an order that is done. Alpaca's API
   * reference ([ALP-YAML] orders.yaml) gives the statuses and their meaning — POST /v2/orders: 403 "Buying power or
   * shares is not sufficient.", 422 "Input parameters are not recognized."; DELETE /v2/orders/{order_id}: 422 "The
   * order status is not cancelable." — and its error body is `{code, message}`; 'documented' (the default) sends that
   * body, 'empty' the status with no body at all (a proxy's or gateway's rewrite of the answer).
   */
  refusalBody?: 'documented' | 'empty';
  /**
   * Alpaca's wash-trade check ("User Protection" → "Preventing Wash Trades at Alpaca": "the Alpaca Trading platform
   * checks for potential wash trades every time a customer places an order. If we detect a possible wash trade, we
   * reject the order"; it "does apply to crypto trading"): a new order that could trade against an open order of the
   * account on the other side of the same symbol (either is a market order, or the buy's limit reaches the sell's) is
   * refused 403 `{"code":40310000,"message":"potential wash trade detected. use complex orders"}`. Nothing is placed.
   */
  washTradeCheck?: boolean;
  /** The clock of the rate limit's one-minute windows (default Date.now); a test holds it inside one window. */
  rateLimitClock?: () => number;
  /**
   * The account's market-data plan (default 'paid'). 'free': a stock quote from the `sip` feed is refused, as the
   * Market Data FAQ says ("Why am I getting HTTP 403 (Forbidden)?": "if you get a message like subscription does
   * not permit querying recent SIP data in the HTTP response body, make sure you have the proper subscription - for
   * example to query any SIP trades or quotes in the last 15 minutes, you need the Algo Trader Plus subscription").
   */
  marketDataPlan?: 'free' | 'paid';
}

export interface FakeAlpaca extends FakeVenue {
  /** The market-data host: `url` itself, or the second server with `separateDataHost`. */
  readonly dataUrl: string;
  /** Requests each server received (with one server, both count the same requests). */
  requestsAt(host: 'trading' | 'data'): number;
  /** The wire JSON of every order the venue holds (placed, in order). */
  orders(): WireOrder[];
  /**
   * The symbol's latest quote was made at `t` (ms): its `t` ("Latest quote": "Timestamp in RFC-3339 format with
   * nanosecond precision"), as Alpaca answers outside market hours with the last quote before the close.
   */
  setQuoteTime(symbol: string, t: number): void;
  /** Fills part of a resting order at its limit (or the touch), as a venue would on thin liquidity. */
  partialFill(orderId: string, qty: number, price: number): void;
  /**
   * Moves an order the way Alpaca's own systems do, outside any request ("Orders at Alpaca" → "Order
   * Lifecycle": pending_new/accepted before routing, done_for_day at the close, expired at its time in
   * force, replaced by a replace, calculated after the close): the fields given replace the order's.
   */
  setOrder(orderId: string, patch: Partial<WireOrder>): void;
  /**
   * The next POST /v2/orders is refused with this HTTP status and Alpaca's error body `{code, message}`
   * ("Create Order": 403 "Buying power or shares is not sufficient", 422 "Input parameters are not
   * recognized"; 403 40310100 "trade denied due to pattern day trading protection" per Alpaca's PDT support
   * page: "the order is rejected, and API returns error with HTTP status code 403"). Nothing is placed.
   */
  refuseNextSubmit(status: number, code: number, message: string): void;
  /** The next order placed (and left open) is answered with this status, e.g. pending_new or accepted (not yet routed). */
  acceptNextAs(status: string): void;
  /**
   * An open order placed elsewhere (Alpaca's dashboard, another program), listed first by GET /v2/orders as
   * given, never matched: e.g. a multi-leg options order (order_class "mleg", its symbol and side on the legs;
   * the SDK's generated Order model has `symbol?`, `side?`, `legs?`, and `qty` "Required if order class is
   * `mleg`") or an order in a status this client does not know.
   */
  addOrderPlacedElsewhere(order: Record<string, unknown>): void;
  /**
   * Other programs on the account's keys send `requests` requests to the trading API this minute. Alpaca "Rate
   * limits": a limit per account of requests a minute (200), past it 429; every trading-API reply carries
   * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` ("The time at which the current rate limit
   * window resets in UTC epoch seconds"), as the fake's do.
   */
  spendRequests(requests: number): void;
  /** The query parameters of every GET /v2/orders so far. */
  orderListRequests(): Array<Record<string, string>>;
  /**
   * Replaces an order as PATCH /v2/orders/{id} does (Alpaca's dashboard, another program): see `replaceOrder` in
   * the fake. Returns the new order; throws when Alpaca would refuse.
   */
  replaceOrder(orderId: string, patch: { qty?: string; limit_price?: string; client_order_id?: string }): WireOrder;
}

type Side = 'buy' | 'sell';
interface WireOrder {
  id: string;
  client_order_id: string;
  status: string;
  symbol: string;
  asset_class: string;
  qty: string;
  filled_qty: string;
  filled_avg_price: string | null;
  type: string;
  order_type: string;
  side: Side;
  time_in_force: string;
  limit_price: string | null;
  stop_price: string | null;
  trail_price: string | null;
  trail_percent: string | null;
  hwm: string | null;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  canceled_at: string | null;
  expired_at: string | null;
  failed_at: string | null;
  expires_at: string | null;
  /** Alpaca "Replace Order by ID": set on an order replaced (its replacement's id, when) and on its replacement. */
  replaced_at: string | null;
  replaced_by: string | null;
  replaces: string | null;
}

interface Book {
  order: WireOrder;
  triggered: boolean;
}

interface PositionState {
  qty: number;
  avg: number;
}

const FINAL = new Set(['filled', 'canceled', 'expired', 'rejected', 'replaced']);
const num = (s: string | null): number => (s === null ? 0 : Number(s));
const str = (n: number): string => n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 10 });
const isCrypto = (s: string): boolean => s.includes('/');

export async function startFakeAlpaca(options: FakeAlpacaOptions = {}): Promise<FakeAlpaca> {
  const keyId = options.keyId ?? FAKE_ALPACA_KEY_ID;
  const secretKey = options.secretKey ?? FAKE_ALPACA_SECRET;
  const margin = options.marginMultiplier ?? 2;
  const cryptoAssets = options.cryptoAssets ?? {
    'BTC/USD': { priceIncrement: 1, minTradeIncrement: 0.000000001, minOrderSize: 0.0001 },
    'ETH/USD': { priceIncrement: 0.1, minTradeIncrement: 0.000000001, minOrderSize: 0.001 },
  };
  let cash = options.cash ?? 100_000;
  const quotes = new Map<string, { bid: number; ask: number; t: string }>();
  const byId = new Map<string, Book>();
  const byClientId = new Map<string, string>();
  const positions = new Map<string, PositionState>();
  const faults = new FaultQueue();
  const accountId = options.accountId ?? '904837e3-3b76-47ec-b432-046db621571b';
  const accountNumber = options.accountNumber ?? 'PA3ZQ8X41234';
  const counts = new Map<string, number>();
  let total = 0;
  const atHost = { trading: 0, data: 0 };
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  const now = () => new Date().toISOString();

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    if (body === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res
      .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers })
      .end(text);
  };
  const fail = (
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    headers: Record<string, string> = {},
  ) => send(res, status, { code, message }, headers);

  // --- the ledger ---

  const applyFill = (o: WireOrder, qty: number, price: number) => {
    const prevQty = num(o.filled_qty);
    const prevAvg = num(o.filled_avg_price);
    const newQty = prevQty + qty;
    o.filled_qty = str(newQty);
    o.filled_avg_price = str(Number(((prevQty * prevAvg + qty * price) / newQty).toFixed(10)));
    const t = now();
    o.updated_at = t;
    if (newQty >= num(o.qty) - 1e-12) {
      o.status = 'filled';
      o.filled_at = t;
    } else o.status = 'partially_filled';
    const signed = o.side === 'buy' ? qty : -qty;
    cash -= signed * price;
    const p = positions.get(o.symbol) ?? { qty: 0, avg: 0 };
    const next = p.qty + signed;
    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed))
      p.avg = (Math.abs(p.qty) * p.avg + qty * price) / Math.abs(next);
    else if (Math.sign(next) !== Math.sign(p.qty) && next !== 0) p.avg = price;
    p.qty = Number(next.toFixed(10));
    if (p.qty === 0) positions.delete(o.symbol);
    else positions.set(o.symbol, p);
  };

  const cancel = (o: WireOrder) => {
    o.status = 'canceled';
    o.canceled_at = o.updated_at = now();
  };

  /** Tries to execute a live order against the current quote; returns whether anything happened. */
  const evaluate = (b: Book, arriving: boolean) => {
    const o = b.order;
    if (FINAL.has(o.status)) return;
    const q = quotes.get(o.symbol);
    if (!q) return;
    const touch = o.side === 'buy' ? q.ask : q.bid;
    if (o.type === 'trailing_stop' && !b.triggered) {
      // The water mark moves only in the order's favour; the stop follows it at the trail.
      const hwm =
        o.hwm === null ? touch : o.side === 'sell' ? Math.max(num(o.hwm), touch) : Math.min(num(o.hwm), touch);
      const trail = o.trail_price !== null ? num(o.trail_price) : (hwm * num(o.trail_percent)) / 100;
      const stopNow = o.side === 'sell' ? hwm - trail : hwm + trail;
      if (o.hwm === null || num(o.hwm) !== hwm) {
        o.hwm = str(hwm);
        o.stop_price = str(Number(stopNow.toFixed(9)));
        o.updated_at = now();
      }
      b.triggered = o.side === 'sell' ? q.bid <= num(o.stop_price) : q.ask >= num(o.stop_price);
      if (!b.triggered) return;
      applyFill(o, num(o.qty) - num(o.filled_qty), touch);
      return;
    }
    const stop = num(o.stop_price);
    // A stop-limit that triggers now becomes a new limit order: marketable at once, it takes the touch.
    let triggeredNow = false;
    if ((o.type === 'stop' || o.type === 'stop_limit') && !b.triggered) {
      b.triggered = o.side === 'buy' ? q.ask >= stop : q.bid <= stop;
      if (!b.triggered) return;
      triggeredNow = true;
    }
    const remaining = num(o.qty) - num(o.filled_qty);
    if (o.type === 'market' || o.type === 'stop') {
      applyFill(o, remaining, touch);
      return;
    }
    const limit = num(o.limit_price);
    const marketable = o.side === 'buy' ? touch <= limit : touch >= limit;
    if (marketable) applyFill(o, remaining, arriving || triggeredNow ? touch : limit);
  };

  const reevaluate = () => {
    for (const b of byId.values()) evaluate(b, false);
  };

  const marks = (symbol: string, fallback: number) => {
    const q = quotes.get(symbol);
    return q ? (q.bid + q.ask) / 2 : fallback;
  };
  const equity = () => cash + [...positions].reduce((s, [sym, p]) => s + p.qty * marks(sym, p.avg), 0);
  const buyingPower = () =>
    Math.max(0, equity() * margin - [...positions].reduce((s, [sym, p]) => s + Math.abs(p.qty) * marks(sym, p.avg), 0));

  // --- routes ---

  const refusals: Array<{ status: number; code: number; message: string }> = [];
  const acceptAs: string[] = [];
  /** Open orders placed elsewhere (`addOrderPlacedElsewhere`), listed as given. */
  const elsewhere: Array<Record<string, unknown>> = [];
  /** The query of every GET /v2/orders, in order. */
  const listRequests: Array<Record<string, string>> = [];
  const placeOrder = (body: Record<string, unknown>, res: ServerResponse): WireOrder | undefined => {
    const refusal = refusals.shift();
    if (refusal)
      return void (options.refusalBody === 'empty'
        ? send(res, refusal.status)
        : fail(res, refusal.status, refusal.code, refusal.message));
    const symbol = typeof body.symbol === 'string' ? body.symbol : '';
    const qty = typeof body.qty === 'string' ? Number(body.qty) : NaN;
    const side = body.side;
    const type = body.type;
    const tif = body.time_in_force;
    const limit = typeof body.limit_price === 'string' ? Number(body.limit_price) : undefined;
    const stop = typeof body.stop_price === 'string' ? Number(body.stop_price) : undefined;
    const trailPrice = typeof body.trail_price === 'string' ? Number(body.trail_price) : undefined;
    const trailPercent = typeof body.trail_percent === 'string' ? Number(body.trail_percent) : undefined;
    const clientId =
      typeof body.client_order_id === 'string' && body.client_order_id !== '' ? body.client_order_id : randomUUID();
    if (!quotes.has(symbol) && !(symbol in cryptoAssets))
      return void fail(res, 422, 40010001, `asset "${symbol}" not found`);
    if (!(qty > 0)) return void fail(res, 422, 40010001, 'qty must be > 0');
    if (side !== 'buy' && side !== 'sell') return void fail(res, 422, 40010001, 'invalid side');
    if (type !== 'market' && type !== 'limit' && type !== 'stop' && type !== 'stop_limit' && type !== 'trailing_stop')
      return void fail(res, 422, 40010001, `invalid order type for this account: ${String(type)}`);
    if (type === 'trailing_stop') {
      if (isCrypto(symbol)) return void fail(res, 422, 40010001, 'invalid order type for crypto orders');
      if ((trailPrice === undefined) === (trailPercent === undefined))
        return void fail(res, 422, 40010001, 'one of trail_price or trail_percent is required');
      if (!((trailPrice ?? trailPercent ?? 0) > 0))
        return void fail(res, 422, 40010001, 'trail_price or trail_percent must be > 0');
      if (tif !== 'day' && tif !== 'gtc')
        return void fail(res, 422, 40010001, 'invalid time_in_force for trailing stop orders');
    }
    if (typeof tif !== 'string' || !['day', 'gtc', 'opg', 'cls', 'ioc', 'fok'].includes(tif))
      return void fail(res, 422, 40010001, 'invalid time_in_force');
    if ((type === 'limit' || type === 'stop_limit') && !(limit !== undefined && limit > 0))
      return void fail(res, 422, 40010001, 'limit_price is required');
    if ((type === 'stop' || type === 'stop_limit') && !(stop !== undefined && stop > 0))
      return void fail(res, 422, 40010001, 'stop_price is required');
    if ((tif === 'ioc' || tif === 'fok') && (type === 'stop' || type === 'stop_limit'))
      return void fail(res, 422, 40010001, 'invalid time_in_force for stop orders');
    for (const p of [limit, stop, trailPrice]) {
      if (p === undefined) continue;
      const dp = isCrypto(symbol) ? 9 : p >= 1 ? 2 : 4;
      if (Math.abs(Math.round(p * 10 ** dp) - p * 10 ** dp) > 1e-6)
        return void fail(res, 422, 42210000, 'sub-penny increment does not fulfill minimum pricing criteria');
    }
    if (byClientId.has(clientId)) return void fail(res, 422, 40010001, 'client_order_id must be unique');
    if (options.washTradeCheck === true) {
      const priceOf = (t: unknown, l: number | undefined) => (t === 'limit' || t === 'stop_limit' ? l : undefined);
      const mine = priceOf(type, limit);
      for (const b of byId.values()) {
        const o = b.order;
        if (FINAL.has(o.status) || o.symbol !== symbol || o.side === side) continue;
        const theirs = priceOf(o.type, o.limit_price === null ? undefined : num(o.limit_price));
        const buy = side === 'buy' ? mine : theirs;
        const sell = side === 'buy' ? theirs : mine;
        if (buy === undefined || sell === undefined || buy >= sell)
          return void fail(res, 403, 40310000, 'potential wash trade detected. use complex orders');
      }
    }
    const q = quotes.get(symbol);
    const refPrice = limit ?? stop ?? q?.ask ?? 0;
    if (side === 'buy' && qty * refPrice > buyingPower() + 1e-9)
      return void fail(res, 403, 40310000, 'insufficient buying power');
    const t = now();
    const order: WireOrder = {
      id: randomUUID(),
      client_order_id: clientId,
      status: 'new',
      symbol,
      asset_class: isCrypto(symbol) ? 'crypto' : 'us_equity',
      qty: body.qty as string,
      filled_qty: '0',
      filled_avg_price: null,
      type,
      order_type: type,
      side,
      time_in_force: tif,
      limit_price: limit === undefined ? null : str(limit),
      stop_price: stop === undefined ? null : str(stop),
      trail_price: type === 'trailing_stop' && trailPrice !== undefined ? str(trailPrice) : null,
      trail_percent: type === 'trailing_stop' && trailPercent !== undefined ? str(trailPercent) : null,
      hwm: null,
      created_at: t,
      updated_at: t,
      submitted_at: t,
      filled_at: null,
      canceled_at: null,
      expired_at: null,
      failed_at: null,
      expires_at: tif === 'gtc' ? new Date(Date.now() + 90 * 86400_000).toISOString() : null,
      replaced_at: null,
      replaced_by: null,
      replaces: null,
    };
    const book: Book = { order, triggered: false };
    byId.set(order.id, book);
    byClientId.set(clientId, order.id);
    // The fake fills in full at the touch, so FOK and IOC behave alike: all now, or cancelled.
    evaluate(book, true);
    if ((tif === 'ioc' || tif === 'fok') && !FINAL.has(order.status)) cancel(order);
    const acceptedAs = acceptAs.shift();
    if (acceptedAs !== undefined && !FINAL.has(order.status)) order.status = acceptedAs;
    return order;
  };

  /**
   * Alpaca API reference "Replace Order by ID" (PATCH /v2/orders/{order_id}; docs.alpaca.markets/reference/
   * patchorderbyorderid-1): "Replaces a single order with updated parameters. Each parameter overrides the
   * corresponding attribute of the existing order. The other attributes remain the same as the existing order";
   * body `qty`, `time_in_force`, `limit_price`, `stop_price`, `trail`, `client_order_id` ("A unique identifier for
   * the new order. Automatically generated if not sent."); "Order cannot be replaced when the status is accepted,
   * pending_new, pending_cancel or pending_replace" (422 here, as for a final order). The replacement is a new order
   * (its own id, `replaces` naming the old one, its own `filled_qty` from 0; a partly filled order's replacement
   * keeps the original `qty` unless one is sent, alpacahq/Alpaca-API#165); the old one ends `replaced`, with
   * `replaced_by` and `replaced_at` (Order object). Returns the new order, or a refusal's status and message.
   */
  const replaceOrder = (
    b: Book,
    patch: Record<string, unknown>,
  ): { order: WireOrder } | { status: number; code: number; message: string } => {
    const old = b.order;
    if (FINAL.has(old.status) || ['accepted', 'pending_new', 'pending_cancel', 'pending_replace'].includes(old.status))
      return { status: 422, code: 42210000, message: `order is not replaceable in "${old.status}" state` };
    const given = (k: string): string | undefined => (typeof patch[k] === 'string' ? patch[k] : undefined);
    const clientId = given('client_order_id') ?? randomUUID();
    if (byClientId.has(clientId)) return { status: 422, code: 40010001, message: 'client_order_id must be unique' };
    const t = now();
    const order: WireOrder = {
      ...old,
      id: randomUUID(),
      client_order_id: clientId,
      status: 'new',
      qty: given('qty') ?? old.qty,
      filled_qty: '0',
      filled_avg_price: null,
      time_in_force: given('time_in_force') ?? old.time_in_force,
      limit_price: given('limit_price') ?? old.limit_price,
      stop_price: given('stop_price') ?? old.stop_price,
      created_at: t,
      updated_at: t,
      submitted_at: t,
      filled_at: null,
      canceled_at: null,
      expired_at: null,
      failed_at: null,
      replaced_at: null,
      replaced_by: null,
      replaces: old.id,
    };
    old.status = 'replaced';
    old.replaced_by = order.id;
    old.replaced_at = old.updated_at = t;
    const book: Book = { order, triggered: b.triggered };
    byId.set(order.id, book);
    byClientId.set(clientId, order.id);
    evaluate(book, true);
    return { order };
  };

  const handleOrderPost = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    let order: WireOrder | undefined;
    await playHttpFault(faults.take('submit'), req, res, {
      held,
      act: () => {
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          fail(res, 400, 40010000, 'request body format is invalid');
          return false;
        }
        order = placeOrder(body, res);
        return order !== undefined;
      },
      reply: () => send(res, 200, order),
      malformed: () => {
        const { status: _status, ...rest } = order as WireOrder;
        send(res, 200, { ...rest, qty: Number((order as WireOrder).qty) });
      },
      serverError: (status) => fail(res, status, 50010000, 'internal server error'),
      rateLimited: (status, headers) =>
        fail(res, status, 42910000, 'rate limit exceeded', {
          ...headers,
          'x-ratelimit-limit': '200',
          'x-ratelimit-remaining': '0',
        }),
      other: (fault) => {
        if (fault.kind === 'duplicateClientId') fail(res, 422, 40010001, 'client_order_id must be unique');
        else if (fault.kind === 'reject') fail(res, 403, 40310000, fault.reason ?? 'insufficient buying power');
        else if (fault.kind === 'errorEchoingAccount')
          fail(res, 403, 40310000, `account ${accountNumber} is not permitted to trade this asset`);
        else return false;
        return true;
      },
    });
  };

  /** A look-up (by id or client id) under the next 'lookup' fault. */
  const lookUp = async (req: IncomingMessage, res: ServerResponse, b: Book | undefined) =>
    playHttpFault(faults.take('lookup'), req, res, {
      held,
      act: () => {
        if (b) return true;
        if (options.orderNotFoundBody === 'messageOnly') send(res, 404, { message: 'order not found' });
        else if (options.orderNotFoundBody === 'empty') send(res, 404);
        else fail(res, 404, 40410000, 'order not found');
        return false;
      },
      reply: () => send(res, 200, (b as Book).order),
      malformed: () => send(res, 200, { id: (b as Book).order.id, status: 'filled' }),
      serverError: (status) => fail(res, status, 50010000, 'internal server error'),
      rateLimited: (status, headers) => fail(res, status, 42910000, 'rate limit exceeded', headers),
    });

  /** DELETE /v2/orders/{id} under the next 'cancel' fault: 204 with no body once the cancel is applied. */
  const cancelOrder = async (req: IncomingMessage, res: ServerResponse, b: Book) =>
    playHttpFault(faults.take('cancel'), req, res, {
      held,
      act: () => {
        if (FINAL.has(b.order.status)) {
          if (options.refusalBody === 'empty') send(res, 422);
          else fail(res, 422, 42210000, `order is already in "${b.order.status}" state`);
          return false;
        }
        cancel(b.order);
        return true;
      },
      reply: () => send(res, 204),
      malformed: () => send(res, 200, '{"id":'),
      serverError: (status) => fail(res, status, 50010000, 'internal server error'),
      rateLimited: (status, headers) => fail(res, status, 42910000, 'rate limit exceeded', headers),
      other: (fault) => {
        if (fault.kind !== 'errorEchoingAccount') return false;
        fail(res, 403, 40310000, `account ${accountNumber} may not cancel orders now`);
        return true;
      },
    });

  /** The trading API's requests in the current minute (Alpaca "Rate limits": 200 a minute per account). */
  const RATE_LIMIT = 200;
  const rateClock = options.rateLimitClock ?? Date.now;
  const rateWindow = { minute: Math.floor(rateClock() / 60_000), used: 0 };
  const rollRateWindow = (): void => {
    const minute = Math.floor(rateClock() / 60_000);
    if (minute !== rateWindow.minute) Object.assign(rateWindow, { minute, used: 0 });
  };

  /** `serves`: which of Alpaca's two APIs this server answers ('both' when there is one server). */
  const route = async (req: IncomingMessage, res: ServerResponse, raw: string, serves: 'trading' | 'data' | 'both') => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const name = routeName(method, path);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    total++;
    if (serves !== 'data') atHost.trading++;
    if (serves !== 'trading') atHost.data++;
    const dataRoute = path.startsWith('/v2/stocks/') || path.startsWith('/v1beta3/');
    if ((serves === 'trading' && dataRoute) || (serves === 'data' && !dataRoute))
      return fail(res, 404, 40410000, `endpoint not found (this is Alpaca's ${serves} host)`);
    // Crypto market data is public at Alpaca (the SDK sends no keys there); everything else needs both headers.
    const publicRoute = path.startsWith('/v1beta3/crypto/');
    if (
      !publicRoute &&
      (req.headers['apca-api-key-id'] !== keyId || req.headers['apca-api-secret-key'] !== secretKey)
    ) {
      const echo = options.echoCredentialsOn401
        ? ` (key ${String(req.headers['apca-api-key-id'])} / ${String(req.headers['apca-api-secret-key'])})`
        : '';
      return fail(res, 401, 40110000, `request is not authorized${echo}`);
    }
    if (!dataRoute) {
      rollRateWindow();
      rateWindow.used++;
      res.setHeader('x-ratelimit-limit', String(RATE_LIMIT));
      res.setHeader('x-ratelimit-remaining', String(Math.max(0, RATE_LIMIT - rateWindow.used)));
      res.setHeader('x-ratelimit-reset', String((rateWindow.minute + 1) * 60));
      if (rateWindow.used > RATE_LIMIT) return fail(res, 429, 42910000, 'rate limit exceeded');
    }
    if (method === 'POST' && path === '/v2/orders') return handleOrderPost(req, res, raw);
    if (method === 'GET' && path === '/v2/orders') {
      const status = url.searchParams.get('status') ?? 'open';
      // Alpaca API reference "Get all orders": `limit` defaults to 50, "max is 500"; `after` / `until` keep
      // only orders submitted after / until that timestamp (both exclusive); `direction` asc or desc (the
      // default) orders them by submission time.
      const at = (o: { submitted_at?: unknown }) =>
        typeof o.submitted_at === 'string' ? Date.parse(o.submitted_at) : Number.NEGATIVE_INFINITY;
      const after = url.searchParams.get('after');
      const until = url.searchParams.get('until');
      const list = [
        ...(status === 'closed' ? [] : elsewhere),
        ...[...byId.values()]
          .map((b) => b.order)
          .filter((o) => status === 'all' || (status === 'open' ? !FINAL.has(o.status) : FINAL.has(o.status))),
      ]
        .filter((o) => after === null || at(o) > Date.parse(after))
        .filter((o) => until === null || at(o) < Date.parse(until));
      const sorted = list
        .map((o, i) => ({ o, i }))
        .sort((a, b) => at(a.o) - at(b.o) || a.i - b.i)
        .map((x) => x.o);
      if (url.searchParams.get('direction') !== 'asc') sorted.reverse();
      const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 50));
      listRequests.push(Object.fromEntries(url.searchParams));
      return send(res, 200, sorted.slice(0, limit));
    }
    if (method === 'GET' && path === '/v2/orders:by_client_order_id') {
      const id = byClientId.get(url.searchParams.get('client_order_id') ?? '');
      return lookUp(req, res, id === undefined ? undefined : byId.get(id));
    }
    const orderMatch = /^\/v2\/orders\/([^/]+)$/.exec(path);
    if (orderMatch) {
      const b = byId.get(decodeURIComponent(orderMatch[1] ?? ''));
      if (method === 'GET') return lookUp(req, res, b);
      if (!b) return fail(res, 404, 40410000, 'order not found');
      if (method === 'DELETE') return cancelOrder(req, res, b);
      if (method === 'PATCH') {
        let patch: Record<string, unknown>;
        try {
          patch = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          return fail(res, 400, 40010000, 'request body format is invalid');
        }
        const done = replaceOrder(b, patch);
        return 'order' in done ? send(res, 200, done.order) : fail(res, done.status, done.code, done.message);
      }
    }
    if (method === 'GET' && path === '/v2/account') {
      return send(res, 200, {
        id: accountId,
        account_number: accountNumber,
        status: 'ACTIVE',
        currency: 'USD',
        cash: str(Number(cash.toFixed(6))),
        buying_power: str(Number(buyingPower().toFixed(6))),
        equity: str(Number(equity().toFixed(6))),
        portfolio_value: str(Number(equity().toFixed(6))),
      });
    }
    if (method === 'GET' && path === '/v2/positions') {
      return send(
        res,
        200,
        [...positions].map(([symbol, p]) => {
          const price = marks(symbol, p.avg);
          return {
            symbol: options.legacyCryptoSymbols === true ? symbol.replace('/', '') : symbol,
            asset_class: isCrypto(symbol) ? 'crypto' : 'us_equity',
            side: p.qty < 0 ? 'short' : 'long',
            qty: str(p.qty),
            avg_entry_price: str(Number(p.avg.toFixed(6))),
            current_price: str(price),
            market_value: str(Number((p.qty * price).toFixed(6))),
            cost_basis: str(Number((p.qty * p.avg).toFixed(6))),
            unrealized_pl: str(Number((p.qty * (price - p.avg)).toFixed(6))),
          };
        }),
      );
    }
    const assetMatch = /^\/v2\/assets\/(.+)$/.exec(path);
    if (method === 'GET' && assetMatch && options.noAssetRoute === true)
      return send(res, 404, { code: 40410000, message: 'Not Found' });
    if (method === 'GET' && assetMatch) {
      const symbol = decodeURIComponent(assetMatch[1] ?? '');
      const crypto = cryptoAssets[symbol];
      if (crypto)
        return send(res, 200, {
          id: randomUUID(),
          class: 'crypto',
          exchange: 'CRYPTO',
          symbol,
          name: symbol,
          status: 'active',
          tradable: true,
          marginable: false,
          shortable: false,
          easy_to_borrow: false,
          fractionable: true,
          min_order_size: str(crypto.minOrderSize),
          min_trade_increment: str(crypto.minTradeIncrement),
          price_increment: str(crypto.priceIncrement),
        });
      if (quotes.has(symbol))
        return send(res, 200, {
          id: randomUUID(),
          class: 'us_equity',
          exchange: 'NASDAQ',
          symbol,
          name: symbol,
          status: 'active',
          tradable: true,
          marginable: true,
          shortable: true,
          easy_to_borrow: true,
          fractionable: true,
        });
      return fail(res, 404, 40410000, 'asset not found');
    }
    const stockQuote = /^\/v2\/stocks\/([^/]+)\/quotes\/latest$/.exec(path);
    if (method === 'GET' && stockQuote) {
      const symbol = decodeURIComponent(stockQuote[1] ?? '');
      const q = quotes.get(symbol);
      const feed = url.searchParams.get('feed') ?? 'iex';
      // "Latest quote" lists its feeds (iex, sip, delayed_sip, boats, overnight, otc) and answers 400 for a
      // request parameter it does not accept; the message is the fake's.
      if (!['iex', 'sip', 'delayed_sip', 'boats', 'overnight', 'otc'].includes(feed))
        return send(res, 400, { message: `invalid feed: ${feed}` });
      if (feed === 'sip' && options.marketDataPlan === 'free')
        return send(res, 403, { message: 'subscription does not permit querying recent SIP data' });
      if (!q) return fail(res, 404, 40410000, `no quote for ${symbol}`);
      // Market Data API "Latest quote" `feed`: "delayed_sip" is the SIP feed "with a 15 minute delay" (for plans
      // without a live SIP subscription): the quote answered is the one of 15 minutes before.
      const t =
        url.searchParams.get('feed') === 'delayed_sip' ? new Date(Date.parse(q.t) - 15 * 60_000).toISOString() : q.t;
      return send(res, 200, {
        symbol,
        quote: { t, ap: q.ask, as: 1, bp: q.bid, bs: 2, ax: 'V', bx: 'V', c: ['R'], z: 'C' },
      });
    }
    if (method === 'GET' && path === '/v1beta3/crypto/us/latest/quotes') {
      const out: Record<string, unknown> = {};
      for (const symbol of (url.searchParams.get('symbols') ?? '').split(',')) {
        const q = quotes.get(symbol);
        if (q) out[symbol] = { t: q.t, ap: q.ask, as: 1.5, bp: q.bid, bs: 2.5 };
      }
      return send(res, 200, { quotes: out });
    }
    return fail(res, 404, 40410000, 'endpoint not found');
  };

  const listen = async (serves: 'trading' | 'data' | 'both'): Promise<{ server: Server; port: number }> => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        route(req, res, Buffer.concat(chunks).toString('utf8'), serves).catch((e: unknown) => {
          if (!res.headersSent) fail(res, 500, 50010000, e instanceof Error ? e.message : String(e));
        });
      });
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return { server, port: (server.address() as AddressInfo).port };
  };
  const { server, port } = await listen(options.separateDataHost ? 'trading' : 'both');
  const data = options.separateDataHost ? await listen('data') : undefined;

  return {
    url: `http://127.0.0.1:${port}`,
    dataUrl: `http://127.0.0.1:${data?.port ?? port}`,
    requestsAt(host) {
      return atHost[host];
    },
    host: '127.0.0.1',
    port,
    setQuote(symbol, bid, ask) {
      quotes.set(symbol, { bid, ask, t: now() });
      reevaluate();
    },
    setQuoteTime(symbol, t) {
      const q = quotes.get(symbol);
      if (!q) throw new Error(`fake Alpaca has no quote for ${symbol}`);
      quotes.set(symbol, { ...q, t: new Date(t).toISOString() });
    },
    injectNext(fault: FakeFault) {
      faults.push(fault);
    },
    ordersWithClientId(clientOrderId) {
      return [...byId.values()].filter((b) => b.order.client_order_id === clientOrderId).length;
    },
    requestCount(route) {
      return route === undefined ? total : (counts.get(route) ?? 0);
    },
    requestCounts() {
      return Object.fromEntries(counts);
    },
    orders() {
      return [...byId.values()].map((b) => structuredClone(b.order));
    },
    setOrder(orderId, patch) {
      const b = byId.get(orderId);
      if (!b) throw new Error(`fake Alpaca: no order ${orderId}`);
      Object.assign(b.order, patch, { updated_at: now() });
    },
    addOrderPlacedElsewhere(order) {
      elsewhere.push(structuredClone(order));
    },
    spendRequests(requests) {
      rollRateWindow();
      rateWindow.used += requests;
    },
    orderListRequests() {
      return listRequests.map((q) => ({ ...q }));
    },
    replaceOrder(orderId, patch) {
      const b = byId.get(orderId);
      if (!b) throw new Error(`fake Alpaca: no order ${orderId}`);
      const done = replaceOrder(b, patch);
      if (!('order' in done)) throw new Error(`fake Alpaca refused the replace: ${done.message}`);
      return done.order;
    },
    acceptNextAs(status) {
      acceptAs.push(status);
    },
    refuseNextSubmit(status, code, message) {
      refusals.push({ status, code, message });
    },
    partialFill(orderId, qty, price) {
      const b = byId.get(orderId);
      if (!b || FINAL.has(b.order.status)) throw new Error(`fake Alpaca: order ${orderId} is not open`);
      applyFill(b.order, qty, price);
    },
    async close() {
      for (const res of held) res.destroy();
      held.clear();
      for (const s of sockets) s.destroy();
      const servers = data === undefined ? [server] : [server, data.server];
      await Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    },
  };
}

/** Route names for `requestCount`: "POST /v2/orders", "GET /v2/orders/:id", "GET /v2/stocks/:symbol/quotes/latest", … */
export function routeName(method: string, path: string): string {
  const normal = path
    .replace(/^\/v2\/orders\/[^/]+$/, '/v2/orders/:id')
    .replace(/^\/v2\/assets\/.+$/, '/v2/assets/:symbol')
    .replace(/^\/v2\/stocks\/[^/]+\/quotes\/latest$/, '/v2/stocks/:symbol/quotes/latest');
  return `${method} ${normal}`;
}
