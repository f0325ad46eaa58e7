/**
 * A fake Binance spot REST API on 127.0.0.1 (an ephemeral port), enough for ccxt's binance class:
 * exchangeInfo, tickers, time/ping, and the signed order, openOrders, account and myTrades routes. It
 * checks `X-MBX-APIKEY`, the HMAC-SHA256 signature of the exact parameter string before
 * `&signature=`, and timestamp/recvWindow like Binance; keeps orders by orderId and clientOrderId and
 * balances with locked amounts; fills MARKET orders at the touch in full (the book has no depth
 * limit), fills marketable LIMIT orders at the touch, rests the others, triggers stops when
 * `setQuote` crosses them (trailing stops as below), and injects `FakeFault`s into the next `POST /api/v3/order` (`on: 'submit'`,
 * the default), `DELETE /api/v3/order` (`on: 'cancel'`) or `GET /api/v3/order` (`on: 'lookup'`),
 * FIFO per target (`playHttpFault` in ../control.ts). What each is, from binance-spot-api-docs:
 * - serverError: HTTP 5XX, Binance's JSON (-1000 UNKNOWN, errors.md) or a gateway's HTML page, after
 *   acting (`placed`) or not: "the execution status is UNKNOWN and could have been a success"
 *   (rest-api.md "HTTP Return Codes").
 * - rateLimit: 429 (or 418, the IP ban) with -1003 and `Retry-After` in seconds, nothing done
 *   (rest-api.md "LIMITS" / "IP Limits": "A Retry-After header is sent with a 418 or 429").
 * - timestampOutsideRecvWindow: 400 -1021, nothing done; the same check `authenticate` makes for real
 *   (rest-api.md "Timing security": outside recvWindow the request is rejected, not processed).
 * - timeoutAfterAccept / dropConnection: act (or not), then hang / destroy the socket.
 * - malformedBody: act, then a truncated JSON body.
 * - errorEchoingAccount: a 400 whose msg names the account's uid (the adapter must mask it).
 * - tooManyOrders: 429 -1015 without Retry-After, nothing done (rest-api "LIMITS" → "Unfilled Order Count").
 * - wafBlock: 403 with the firewall's HTML page, nothing done (rest-api "HTTP Return Codes").
 *
 * Trailing stops (faqs/trailing-stop-faq.md): a STOP_LOSS with `trailingDelta` in BIPS and no stopPrice
 * trails from placement; a SELL triggers after the price falls by the delta from the highest price since
 * it was placed, a BUY after it rises by the delta from the lowest; it then executes as STOP_LOSS does
 * (market). The TRAILING_DELTA filter (filters.md) bounds the delta, 10–2000 here. The fake has no trades:
 * its price is the touch (the bid for a sell, the ask for a buy). A trailingDelta with a stopPrice (an
 * activation price) is not modelled and refused.
 *
 * Past 450 lines on purpose: one fake is one closure over one venue's state (symbols, balances, orders,
 * faults, request weights), and its routes, matching and fault hooks read and change that state together;
 * split apart they would pass all of it around. In order: state, matching, replies, signed routes, faults.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FaultQueue, playHttpFault, type FakeFault, type FakeVenue, type HttpFaultHooks } from '../control';

/** Routes of TRADE security (rest-api.md "Request Security"); the other signed routes are USER_DATA. */
const TRADE_ROUTES: ReadonlySet<string> = new Set([
  'POST /api/v3/order',
  'DELETE /api/v3/order',
  'DELETE /api/v3/openOrders',
  'POST /api/v3/order/test',
]);

/** The account's uid (GET /api/v3/account). */
export const ACCOUNT_UID = 354937868;

/** A symbol's TRAILING_DELTA filter (filters.md), 10–2000 BIPS each way unless the symbol says otherwise. */
const trailingDeltaOf = (s: FakeBinanceSymbol): NonNullable<FakeBinanceSymbol['trailingDelta']> =>
  s.trailingDelta ?? {
    minTrailingAboveDelta: 10,
    maxTrailingAboveDelta: 2000,
    minTrailingBelowDelta: 10,
    maxTrailingBelowDelta: 2000,
  };

export interface FakeBinanceSymbol {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  tickSize: number;
  stepSize: number;
  minQty: number;
  minNotional: number;
  bid: number;
  ask: number;
  /**
   * enums.md "Symbol status" (default TRADING): in any other (END_OF_DAY, HALT, BREAK, CANCEL_ONLY) a new order is
   * refused -2010 "Market is closed." (errors.md, messages for -2010: "The symbol is not trading").
   */
  status?: 'TRADING' | 'END_OF_DAY' | 'HALT' | 'BREAK' | 'CANCEL_ONLY';
  /**
   * filters.md "MAX_NUM_ORDERS": "the maximum number of orders an account is allowed to have open on a symbol" (listed
   * in exchangeInfo when set); one more is refused 400 -1013 "Filter failure: MAX_NUM_ORDERS" (errors.md "Filter
   * failures": "Account has too many open orders on the symbol."), nothing placed.
   */
  maxNumOrders?: number;
  /**
   * filters.md "PERCENT_PRICE_BY_SIDE": a BUY passes if `price` <= average × bidMultiplierUp and >= average ×
   * bidMultiplierDown, a SELL with askMultiplierUp/Down; with `avgPriceMins` 0 "the last price is used" (the fake's
   * last price). Checked on `price` (LIMIT, STOP_LOSS_LIMIT); a failure is 400 -1013 "Filter failure:
   * PERCENT_PRICE_BY_SIDE", nothing placed.
   */
  /**
   * filters.md "TRAILING_DELTA" (default 10–2000 BIPS each way): "For STOP_LOSS BUY, STOP_LOSS_LIMIT_BUY, TAKE_PROFIT
   * SELL and TAKE_PROFIT_LIMIT SELL orders: trailingDelta >= minTrailingAboveDelta, trailingDelta <=
   * maxTrailingAboveDelta. For STOP_LOSS SELL, STOP_LOSS_LIMIT SELL, TAKE_PROFIT BUY, and TAKE_PROFIT_LIMIT BUY
   * orders: trailingDelta >= minTrailingBelowDelta, trailingDelta <= maxTrailingBelowDelta." A failure is 400 -1013
   * "Filter failure: TRAILING_DELTA", nothing placed.
   */
  trailingDelta?: {
    minTrailingAboveDelta: number;
    maxTrailingAboveDelta: number;
    minTrailingBelowDelta: number;
    maxTrailingBelowDelta: number;
  };
  percentPriceBySide?: {
    bidMultiplierUp: number;
    bidMultiplierDown: number;
    askMultiplierUp: number;
    askMultiplierDown: number;
  };
}

export interface FakeBinanceOptions {
  apiKey?: string;
  secret?: string;
  /** Free balances at the start; default 100 000 USDT, 1 BTC, 10 ETH. */
  balances?: Record<string, number>;
  symbols?: FakeBinanceSymbol[];
  /** Taker/maker commission, charged in the asset received (as Binance does without BNB); default 0.001. */
  commissionRate?: number;
  /**
   * Pay fees in BNB (the account option "Using BNB to pay for fees"): each fill's commission is its value in
   * the quote asset divided by this BNB price, with `commissionAsset` "BNB" (rest-api.md "New order" FULL
   * response: `fills[].commission`, `fills[].commissionAsset`).
   */
  bnbFeePrice?: number;
  /**
   * How far Binance's clock is ahead of this machine's (negative: behind); default 0. It is the clock the
   * timestamp/recvWindow check reads and GET /api/v3/time answers (rest-api.md "Timing security": a request
   * is processed only while `timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`;
   * errors.md -1021 INVALID_TIMESTAMP, with the two messages Binance gives for ahead and behind).
   */
  clockOffsetMs?: number;
  /**
   * How `POST /api/v3/order` answers (rest-api.md "New order (TRADE)": `newOrderRespType` "Set the response JSON.
   * ACK, RESULT, or FULL; MARKET and LIMIT order types default to FULL, all other orders default to ACK"; the
   * "Response - ACK" is `{symbol, orderId, orderListId, clientOrderId, transactTime}`, "Response - RESULT" the order
   * without `fills`). 'asked' (default): as the request asks, else the type's default; 'typeDefault': the type's
   * default whatever the request asks; 'ACK' / 'RESULT': always that.
   */
  newOrderRespType?: 'asked' | 'typeDefault' | 'ACK' | 'RESULT';
  /**
   * Whether the API key may TRADE (default true). rest-api.md "Request Security": "API keys can be configured to
   * allow access only to certain types of secure endpoints. For example, you can have an API key with `TRADE`
   * permission for trading, while using a separate API key with `USER_DATA` permission to monitor your order
   * status. By default, an API key cannot `TRADE`. You need to enable trading in API Management first." A key
   * without it reads the account and its orders (USER_DATA) but every TRADE endpoint (New order, Cancel order)
   * answers 401 -2015 "Invalid API-key, IP, or permissions for action." (errors.md REJECTED_MBX_KEY), nothing done.
   */
  tradingEnabled?: boolean;
  /** The clock of the request weight's one-minute windows (default Date.now); a test holds it inside one window. */
  weightClock?: () => number;
}

export interface FakeBinance extends FakeVenue {
  readonly apiKey: string;
  readonly secret: string;
  /** Request weight spent so far, as Binance counts it (`requestWeight`). */
  usedWeight(): number;
  /**
   * Other programs on the same IP spend `weight` of this minute's REQUEST_WEIGHT (rest-api.md "LIMITS" → "IP Limits":
   * the limits are the IP's, "not the API keys'"). Every reply's `X-MBX-USED-WEIGHT-1M` is the IP's weight this
   * minute; past 6000 a request is answered 429 -1003 with `Retry-After` (the seconds to the next minute).
   */
  spendWeight(weight: number): void;
  /** Free and locked amounts of an asset. */
  balance(asset: string): { free: number; locked: number };
  setBalance(asset: string, free: number): void;
  /**
   * The book an arriving order takes from on one side (BUY takes `asks`, SELL `bids`): price levels, best
   * first. A marketable order fills level by level, one trade (and one `fills[]` entry) per level; what is
   * left of a MARKET or IOC order then ends EXPIRED, a FOK that cannot fill in full ends EXPIRED with nothing
   * filled, and a GTC limit rests PARTIALLY_FILLED (enums.md "Order status": EXPIRED "The order was canceled
   * according to the order type's rules (e.g. LIMIT FOK orders with no fill, LIMIT IOC or MARKET orders that
   * partially fill)"). Levels taken are used up.
   */
  setDepth(symbol: string, side: 'asks' | 'bids', levels: Array<[price: number, qty: number]>): void;
  /**
   * The next arriving order that would trade meets an order of the same account resting at the touch and is stopped
   * by self-trade prevention (faqs/stp_faq.md), its STP mode being `mode` (EXPIRE_TAKER by default; Scenario C:
   * "the taker order will expire"; EXPIRE_BOTH, Scenario D). With `after`, it first trades that much with other
   * accounts' orders, then meets ours. Its remaining quantity is expired: it ends EXPIRED_IN_MATCH (enums.md: "The
   * order was expired by the exchange due to STP") with `preventedMatchId` and `preventedQuantity` ("API responses for
   * orders which expired due to STP will also have a `preventedQuantity` field") and, in the FULL reply,
   * `preventedMatches[]`.
   */
  preventNextMatch(options?: { mode?: 'EXPIRE_TAKER' | 'EXPIRE_BOTH'; after?: number }): void;
  /**
   * A resting order of ours meets an order another program sent from the same account (faqs/stp_faq.md, the taker's
   * mode decides). EXPIRE_MAKER (Scenario B, F): its remaining quantity expires, status EXPIRED_IN_MATCH. DECREMENT
   * (Scenario G): its `preventedQuantity` grows by `quantity` (capped at what is available) and it works on for the
   * rest ("original order quantity - executed quantity - prevented quantity = quantity available for further
   * execution"); once nothing is available it is removed from the book with the status of the event that emptied
   * it: "one of `EXPIRED_IN_MATCH`, `FILLED`, or `EXPIRED`" (FILLED with less executed than its origQty).
   */
  preventResting(orderId: number, mode: 'EXPIRE_MAKER' | 'DECREMENT', quantity?: number): void;
  /**
   * The symbol's Price Range Execution Rule (faqs/price_range_execution_rules.md) allows trades between `low` and
   * `high` only (undefined: no rule): "If a taker order attempts to execute at a price outside of the allowed price
   * range, it will be expired (i.e. status: `EXPIRED`) with the expiry reason `EXECUTION_RULE_PRICE_RANGE_EXCEEDED`".
   */
  setPriceRange(symbol: string, range: { low: number; high: number } | undefined): void;
  /**
   * Binance cancels an open order itself (enums.md "Order status" EXPIRED: "or by the exchange, (e.g. orders canceled
   * during liquidation, orders canceled during maintenance)"): EXPIRED with expiryReason `EXCHANGE_CANCELED`.
   */
  exchangeCancel(orderId: number): void;
  /**
   * The order's views show `status` in place of its own (undefined: its own again), as a status Binance adds after a
   * client was written would (CHANGELOG 2023: "New order status: `EXPIRED_IN_MATCH`"; faqs/sbe_faq.md: "All enums now
   * have a `NON_REPRESENTABLE` variant. This will be used to encode new enum values in the future"). The order works
   * on as before.
   */
  reportStatusAs(orderId: number, status: string | undefined): void;
  /** Moves Binance's clock to `ms` ahead of this machine's (negative: behind), as `clockOffsetMs` at the start. */
  setClockOffset(ms: number): void;
  /**
   * Deletes every order, as a reset of the Spot Test Network does (testnet FAQ: it is reset about once a month
   * and user data is deleted): looked up afterwards, each is -2013 "Order does not exist.". Balances stay.
   */
  wipeOrders(): void;
  /**
   * The order as Binance holds it once archived (errors.md -2026 ORDER_ARCHIVED: "Order was canceled or expired with
   * no executed qty over 90 days ago and has been archived."): one still open with nothing executed is first
   * cancelled (by the user elsewhere), then archived; GET /api/v3/order for it then answers 400 -2026 with that
   * message. An order with an executed quantity is never archived: false, nothing changes.
   */
  archiveOrder(orderId: number): boolean;
  /**
   * The user reduces an open order's quantity in place from elsewhere (Binance's app, another program), as rest-api.md
   * "Order Amend Keep Priority (TRADE)" does (`PUT /api/v3/order/amend/keepPriority`): the order keeps its `orderId`
   * and its place in the book, its `origQty` becomes `newQty` ("`newQty` must be greater than 0 and less than the
   * order's quantity"), and its client order id becomes `newClientOrderId` ("If not sent, one will be randomly
   * generated"; faqs/order_amend_keep_priority.md: "By default, amended orders get a random new client order ID").
   * Looked up by its former client order id afterwards, the order is -2013 "Order does not exist." (an order has one
   * client order id, rest-api.md "Query order": "the `origClientOrderId` from that result is checked against that
   * order"). What the amend frees of the locked amount is released. Returns the new client order id; throws for an
   * order that is not open or a `newQty` Binance refuses.
   */
  amendKeepPriority(orderId: number, newQty: number, newClientOrderId?: string): string;
}

type Side = 'BUY' | 'SELL';
type OrderKind = 'MARKET' | 'LIMIT' | 'STOP_LOSS' | 'STOP_LOSS_LIMIT';
type Status = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';

interface StoredFill {
  price: number;
  qty: number;
  commission: number;
  commissionAsset: string;
  tradeId: number;
  time: number;
  maker: boolean;
}

interface StoredOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  side: Side;
  type: OrderKind;
  timeInForce: 'GTC' | 'IOC' | 'FOK';
  price: number;
  stopPrice: number;
  /** Trailing stop: its delta in BIPS, and the best price since it was placed. */
  trailingDelta?: number;
  extreme?: number;
  origQty: number;
  executedQty: number;
  /** Quantity self-trade prevention expired (faqs/stp_faq.md "prevented quantity"), and its last match. */
  preventedQty: number;
  preventedMatchId?: number;
  /** The STP mode the order carries (rest-api.md "New order": selfTradePreventionMode). */
  stpMode: string;
  /**
   * Why it expired, once EXPIRED (enums.md "Expiry Reasons"; CHANGELOG 2026-05: "Order query responses may include an
   * `expiryReason` field … returned only for expired orders"; RESULT and FULL order replies show it too).
   */
  expiryReason?: string;
  /** A status shown in its views instead of `status` (reportStatusAs). */
  shownStatus?: string;
  /** The FULL reply's preventedMatches[] of an order STP stopped as it arrived. */
  preventedMatches?: unknown[];
  quoteQty: number;
  status: Status;
  triggered: boolean;
  time: number;
  updateTime: number;
  /** What is locked for it: quote for a buy, base for a sell. */
  lockedAsset: string;
  locked: number;
  fills: StoredFill[];
}

class BinanceReply extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
  ) {
    super(msg);
  }
}

export const DEFAULT_SYMBOLS: FakeBinanceSymbol[] = [
  {
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    tickSize: 0.01,
    stepSize: 0.00001,
    minQty: 0.00001,
    minNotional: 5,
    bid: 30009,
    ask: 30011,
  },
  {
    symbol: 'ETHUSDT',
    baseAsset: 'ETH',
    quoteAsset: 'USDT',
    tickSize: 0.01,
    stepSize: 0.0001,
    minQty: 0.0001,
    minNotional: 5,
    bid: 2000,
    ask: 2000.5,
  },
];

const fmt = (n: number): string => n.toFixed(8);
/** LOT_SIZE maxQty and MARKET_LOT_SIZE maxQty of every symbol (exchangeInfo), both checked on new orders. */
const LOT_MAX_QTY = 9000;
const MARKET_LOT_MAX_QTY = 100;
const onStep = (v: number, step: number): boolean => Math.abs(v / step - Math.round(v / step)) < 1e-7;

export async function startFakeBinance(options: FakeBinanceOptions = {}): Promise<FakeBinance> {
  const apiKey = options.apiKey ?? 'fake-binance-api-key-0123456789';
  const secret = options.secret ?? 'fake-binance-secret-abcdefghijklmnop';
  const commissionRate = options.commissionRate ?? 0.001;
  let clockOffsetMs = options.clockOffsetMs ?? 0;
  const tradingEnabled = options.tradingEnabled ?? true;
  const serverNow = (): number => Date.now() + clockOffsetMs;
  const symbols = new Map((options.symbols ?? DEFAULT_SYMBOLS).map((s) => [s.symbol, { ...s }]));
  const balances = new Map<string, { free: number; locked: number }>();
  for (const [asset, free] of Object.entries(options.balances ?? { USDT: 100_000, BTC: 1, ETH: 10 }))
    balances.set(asset, { free, locked: 0 });
  const orders = new Map<number, StoredOrder>();
  /** Orders archived (errors.md -2026 ORDER_ARCHIVED): a look-up no longer answers their fields. */
  const archived = new Set<number>();
  /** The last price of a symbol whose book setQuote emptied. */
  const lastPrices = new Map<string, number>();
  const faults = new FaultQueue();
  const held = new Set<ServerResponse>();
  const counts = new Map<string, number>();
  /** Request weight spent, as Binance counts it against the 6000-per-minute limit. */
  let weight = 0;
  /** The IP's weight in the current minute (rest-api.md "IP Limits": REQUEST_WEIGHT, 6000 per 1 MINUTE). */
  let minuteWeight = 0;
  const weightClock = options.weightClock ?? Date.now;
  let weightMinute = Math.floor(weightClock() / 60_000);
  const rollMinute = (): void => {
    const minute = Math.floor(weightClock() / 60_000);
    if (minute !== weightMinute) {
      weightMinute = minute;
      minuteWeight = 0;
    }
  };
  const detailed = new Map<string, number>();
  const sockets = new Set<Socket>();
  let nextOrderId = 1000;
  const depth = new Map<string, Array<[number, number]>>();
  const priceRanges = new Map<string, { low: number; high: number }>();
  const preventMatch: Array<{ mode: 'EXPIRE_TAKER' | 'EXPIRE_BOTH'; after: number }> = [];
  let nextPreventedMatchId = 0;
  let nextTradeId = 5000;
  /** What an order can still trade: faqs/stp_faq.md "quantity available for further execution". */
  const available = (o: StoredOrder): number => Number((o.origQty - o.executedQty - o.preventedQty).toFixed(12));

  const wallet = (asset: string) => {
    let b = balances.get(asset);
    if (!b) balances.set(asset, (b = { free: 0, locked: 0 }));
    return b;
  };
  const symbolOf = (name: string | undefined) => {
    const s = name === undefined ? undefined : symbols.get(name);
    if (!s) throw new BinanceReply(400, -1121, 'Invalid symbol.');
    return s;
  };

  // --- matching ---

  function fill(order: StoredOrder, price: number, maker: boolean, now: number): void {
    // Release what was locked, then move the money.
    if (order.locked > 0) {
      wallet(order.lockedAsset).locked -= order.locked;
      wallet(order.lockedAsset).free += order.locked;
      order.locked = 0;
    }
    fillQty(order, price, available(order), maker, now);
  }

  /** One trade of `qty` at `price` (locks are the caller's). */
  function fillQty(order: StoredOrder, price: number, qty: number, maker: boolean, now: number): void {
    const s = symbolOf(order.symbol);
    const quote = price * qty;
    const base = wallet(s.baseAsset);
    const cash = wallet(s.quoteAsset);
    let commission: number;
    let commissionAsset: string;
    if (options.bnbFeePrice !== undefined) {
      commission = (quote * commissionRate) / options.bnbFeePrice;
      commissionAsset = 'BNB';
      wallet('BNB').free -= commission;
      if (order.side === 'BUY') {
        cash.free -= quote;
        base.free += qty;
      } else {
        base.free -= qty;
        cash.free += quote;
      }
    } else if (order.side === 'BUY') {
      commission = qty * commissionRate;
      commissionAsset = s.baseAsset;
      cash.free -= quote;
      base.free += qty - commission;
    } else {
      commission = quote * commissionRate;
      commissionAsset = s.quoteAsset;
      base.free -= qty;
      cash.free += quote - commission;
    }
    order.fills.push({ price, qty, commission, commissionAsset, tradeId: ++nextTradeId, time: now, maker });
    order.executedQty = Number((order.executedQty + qty).toFixed(12));
    order.quoteQty += quote;
    order.status = available(order) <= 1e-12 ? 'FILLED' : 'PARTIALLY_FILLED';
    order.updateTime = now;
  }

  function expire(order: StoredOrder, reason: string, now: number): void {
    release(order);
    order.status = 'EXPIRED';
    order.expiryReason = reason;
    order.updateTime = now;
  }
  const unfilledReason = (order: StoredOrder): string =>
    order.type === 'MARKET' || order.type === 'STOP_LOSS'
      ? 'INSUFFICIENT_LIQUIDITY'
      : order.timeInForce === 'FOK'
        ? 'UNFILLED_FOK_ORDER_EXPIRED'
        : 'UNFILLED_IOC_QUANTITY_EXPIRED';

  /** Self-trade prevention expires `qty` of an order (faqs/stp_faq.md "What is a Prevented Match?"). */
  function prevent(order: StoredOrder, qty: number, now: number): number {
    const id = nextPreventedMatchId++;
    order.preventedQty = Number((order.preventedQty + qty).toFixed(12));
    order.preventedMatchId = id;
    order.updateTime = now;
    if (available(order) <= 1e-12) {
      release(order);
      order.status = 'EXPIRED_IN_MATCH';
    } else if (order.locked > 0) {
      // What stays locked is what is still available to trade.
      const keep = order.side === 'BUY' ? order.price * available(order) : available(order);
      const b = wallet(order.lockedAsset);
      b.free += order.locked - keep;
      b.locked -= order.locked - keep;
      order.locked = keep;
    }
    return id;
  }

  /** An arriving marketable order against `setDepth` levels; false when the side has no depth set. */
  function walkDepth(order: StoredOrder, s: FakeBinanceSymbol, now: number): boolean {
    const levels = depth.get(`${s.symbol}:${order.side === 'BUY' ? 'asks' : 'bids'}`);
    if (!levels) return false;
    const limit = order.type === 'LIMIT' || order.type === 'STOP_LOSS_LIMIT' ? order.price : undefined;
    const within = (p: number) =>
      limit === undefined || (order.side === 'BUY' ? p <= limit + 1e-12 : p >= limit - 1e-12);
    const remaining = () => available(order);
    const reachable = levels.filter((l) => within(l[0])).reduce((sum, l) => sum + l[1], 0);
    release(order);
    const immediate = order.type === 'MARKET' || order.type === 'STOP_LOSS' || order.timeInForce !== 'GTC';
    if (order.timeInForce === 'FOK' && limit !== undefined && reachable < remaining() - 1e-12) {
      expire(order, 'UNFILLED_FOK_ORDER_EXPIRED', now);
      return true;
    }
    for (const level of levels) {
      if (remaining() <= 0 || !within(level[0])) break;
      const take = Math.min(level[1], remaining());
      if (take <= 0) continue;
      fillQty(order, level[0], take, false, now);
      level[1] = Number((level[1] - take).toFixed(12));
    }
    depth.set(
      `${s.symbol}:${order.side === 'BUY' ? 'asks' : 'bids'}`,
      levels.filter((l) => l[1] > 0),
    );
    if (remaining() > 0) {
      if (immediate) {
        expire(order, unfilledReason(order), now);
      } else {
        const need = order.side === 'BUY' ? order.price * remaining() : remaining();
        const b = wallet(order.lockedAsset);
        b.free -= need;
        b.locked += need;
        order.locked = need;
      }
    }
    return true;
  }

  const touch = (s: FakeBinanceSymbol, side: Side) => (side === 'BUY' ? s.ask : s.bid);
  const marketable = (s: FakeBinanceSymbol, side: Side, limit: number) =>
    side === 'BUY' ? s.ask <= limit + 1e-12 : s.bid >= limit - 1e-12;
  const stopReached = (s: FakeBinanceSymbol, side: Side, stop: number) =>
    side === 'BUY' ? s.ask >= stop - 1e-12 : s.bid <= stop + 1e-12;

  /** Works an order that has just arrived or whose trigger the quote has reached. */
  function work(order: StoredOrder, now: number, arriving: boolean): void {
    const s = symbolOf(order.symbol);
    const trades =
      order.type === 'MARKET' ||
      (order.type === 'STOP_LOSS' && order.triggered) ||
      ((order.type === 'LIMIT' || (order.type === 'STOP_LOSS_LIMIT' && order.triggered)) &&
        marketable(s, order.side, order.price));
    const stp = arriving && trades ? preventMatch.shift() : undefined;
    if (stp !== undefined) {
      release(order);
      order.stpMode = stp.mode;
      const price = touch(s, order.side);
      if (stp.after > 0) fillQty(order, price, Math.min(stp.after, available(order)), false, now);
      const rest = available(order);
      const id = prevent(order, rest, now);
      order.status = 'EXPIRED_IN_MATCH';
      order.preventedMatches = [
        {
          preventedMatchId: id,
          makerOrderId: 1,
          price: fmt(price),
          takerPreventedQuantity: fmt(rest),
          ...(stp.mode === 'EXPIRE_BOTH' ? { makerPreventedQuantity: fmt(rest) } : {}),
        },
      ];
      return;
    }
    const range = priceRanges.get(s.symbol);
    if (arriving && trades && range !== undefined) {
      const price = touch(s, order.side);
      if (price < range.low - 1e-12 || price > range.high + 1e-12) {
        expire(order, 'EXECUTION_RULE_PRICE_RANGE_EXCEEDED', now);
        return;
      }
    }
    if (arriving && trades && walkDepth(order, s, now)) return;
    if (order.type === 'MARKET' || (order.type === 'STOP_LOSS' && order.triggered)) {
      fill(order, touch(s, order.side), false, now);
      return;
    }
    if (order.type === 'STOP_LOSS' || (order.type === 'STOP_LOSS_LIMIT' && !order.triggered)) return;
    if (marketable(s, order.side, order.price)) {
      fill(order, arriving || order.type === 'STOP_LOSS_LIMIT' ? touch(s, order.side) : order.price, !arriving, now);
      return;
    }
    if (order.timeInForce !== 'GTC') expire(order, unfilledReason(order), now);
  }

  function release(order: StoredOrder): void {
    if (order.locked > 0) {
      const b = wallet(order.lockedAsset);
      b.locked -= order.locked;
      b.free += order.locked;
      order.locked = 0;
    }
  }

  /** Moves a trailing stop's best price with the touch; true when the price has come back by the delta. */
  function trail(o: StoredOrder, s: FakeBinanceSymbol): boolean {
    const price = touch(s, o.side);
    const delta = (o.trailingDelta as number) / 10_000;
    o.extreme =
      o.extreme === undefined ? price : o.side === 'SELL' ? Math.max(o.extreme, price) : Math.min(o.extreme, price);
    return o.side === 'SELL' ? price <= o.extreme * (1 - delta) + 1e-12 : price >= o.extreme * (1 + delta) - 1e-12;
  }

  function reevaluate(symbol: string): void {
    const now = Date.now();
    const s = symbolOf(symbol);
    for (const o of orders.values()) {
      if (o.symbol !== symbol || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED')) continue;
      if (o.trailingDelta !== undefined && !o.triggered) {
        if (!trail(o, s)) continue;
        o.triggered = true;
        work(o, now, true);
      } else if ((o.type === 'STOP_LOSS' || o.type === 'STOP_LOSS_LIMIT') && !o.triggered) {
        if (!stopReached(s, o.side, o.stopPrice)) continue;
        o.triggered = true;
        work(o, now, true);
      } else {
        work(o, now, false);
      }
    }
  }

  // --- routes ---

  function exchangeInfo(): unknown {
    return {
      timezone: 'UTC',
      serverTime: serverNow(),
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      ],
      exchangeFilters: [],
      symbols: [...symbols.values()].map((s) => ({
        symbol: s.symbol,
        status: s.status ?? 'TRADING',
        baseAsset: s.baseAsset,
        baseAssetPrecision: 8,
        quoteAsset: s.quoteAsset,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        baseCommissionPrecision: 8,
        quoteCommissionPrecision: 8,
        orderTypes: [
          'LIMIT',
          'LIMIT_MAKER',
          'MARKET',
          'STOP_LOSS',
          'STOP_LOSS_LIMIT',
          'TAKE_PROFIT',
          'TAKE_PROFIT_LIMIT',
        ],
        icebergAllowed: true,
        ocoAllowed: true,
        quoteOrderQtyMarketAllowed: true,
        allowTrailingStop: true,
        cancelReplaceAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        permissions: [],
        permissionSets: [['SPOT']],
        defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
        allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
        filters: [
          {
            filterType: 'PRICE_FILTER',
            minPrice: fmt(s.tickSize),
            maxPrice: '1000000.00000000',
            tickSize: fmt(s.tickSize),
          },
          { filterType: 'LOT_SIZE', minQty: fmt(s.minQty), maxQty: fmt(LOT_MAX_QTY), stepSize: fmt(s.stepSize) },
          {
            filterType: 'MARKET_LOT_SIZE',
            minQty: '0.00000000',
            maxQty: fmt(MARKET_LOT_MAX_QTY),
            stepSize: '0.00000000',
          },
          {
            filterType: 'NOTIONAL',
            minNotional: fmt(s.minNotional),
            applyMinToMarket: true,
            maxNotional: '9000000.00000000',
            applyMaxToMarket: false,
            avgPriceMins: 5,
          },
          { filterType: 'TRAILING_DELTA', ...trailingDeltaOf(s) },
          ...(s.maxNumOrders === undefined ? [] : [{ filterType: 'MAX_NUM_ORDERS', maxNumOrders: s.maxNumOrders }]),
          ...(s.percentPriceBySide === undefined
            ? []
            : [
                {
                  filterType: 'PERCENT_PRICE_BY_SIDE',
                  bidMultiplierUp: String(s.percentPriceBySide.bidMultiplierUp),
                  bidMultiplierDown: String(s.percentPriceBySide.bidMultiplierDown),
                  askMultiplierUp: String(s.percentPriceBySide.askMultiplierUp),
                  askMultiplierDown: String(s.percentPriceBySide.askMultiplierDown),
                  avgPriceMins: 0,
                },
              ]),
        ],
      })),
    };
  }

  /** The last price: the mid while the book has both sides, else the last one it had. */
  function lastOf(s: FakeBinanceSymbol): number {
    return s.bid > 0 && s.ask > 0 ? (s.bid + s.ask) / 2 : (lastPrices.get(s.symbol) ?? 0);
  }

  function ticker24hr(s: FakeBinanceSymbol): unknown {
    const now = Date.now();
    // A book emptied by setQuote(symbol, 0, 0) (a symbol not TRADING: enums.md "Symbol status") has no bid or ask;
    // its last price is the last one it traded at (rest-api.md "24hr ticker price change statistics": lastPrice).
    const mid = lastOf(s);
    return {
      symbol: s.symbol,
      priceChange: '0.00000000',
      priceChangePercent: '0.000',
      weightedAvgPrice: fmt(mid),
      prevClosePrice: fmt(mid),
      lastPrice: fmt(mid),
      lastQty: '0.10000000',
      bidPrice: fmt(s.bid),
      bidQty: '1.00000000',
      askPrice: fmt(s.ask),
      askQty: '1.00000000',
      openPrice: fmt(mid),
      highPrice: fmt(s.ask),
      lowPrice: fmt(s.bid),
      volume: '10.00000000',
      quoteVolume: fmt(10 * mid),
      openTime: now - 86_400_000,
      closeTime: now,
      firstId: 1,
      lastId: 2,
      count: 2,
    };
  }

  function orderView(o: StoredOrder, kind: 'new' | 'query' | 'cancel', cancelClientId?: string): unknown {
    const common = {
      symbol: o.symbol,
      orderId: o.orderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      price: fmt(o.price),
      origQty: fmt(o.origQty),
      executedQty: fmt(o.executedQty),
      cummulativeQuoteQty: fmt(o.quoteQty),
      status: o.shownStatus ?? o.status,
      timeInForce: o.timeInForce,
      type: o.type,
      side: o.side,
      selfTradePreventionMode: o.stpMode,
      ...(o.status === 'EXPIRED' && o.expiryReason !== undefined ? { expiryReason: o.expiryReason } : {}),
      ...(o.preventedMatchId === undefined
        ? {}
        : { preventedMatchId: o.preventedMatchId, preventedQuantity: fmt(o.preventedQty) }),
    };
    const stop = {
      ...(o.type === 'STOP_LOSS' || o.type === 'STOP_LOSS_LIMIT' ? { stopPrice: fmt(o.stopPrice) } : {}),
      ...(o.trailingDelta === undefined ? {} : { trailingDelta: o.trailingDelta }),
    };
    if (kind === 'new')
      return {
        ...common,
        ...stop,
        transactTime: o.time,
        workingTime: o.type === 'MARKET' || o.type === 'LIMIT' ? o.time : -1,
        fills: o.fills.map((f) => ({
          price: fmt(f.price),
          qty: fmt(f.qty),
          commission: fmt(f.commission),
          commissionAsset: f.commissionAsset,
          tradeId: f.tradeId,
        })),
        ...(o.preventedMatches === undefined ? {} : { preventedMatches: o.preventedMatches }),
      };
    if (kind === 'cancel')
      return {
        ...common,
        ...stop,
        origClientOrderId: o.clientOrderId,
        clientOrderId: cancelClientId ?? `cancel-${o.orderId}`,
        transactTime: Date.now(),
      };
    return {
      ...common,
      stopPrice: fmt(o.stopPrice),
      ...(o.trailingDelta === undefined ? {} : { trailingDelta: o.trailingDelta, trailingTime: o.time }),
      icebergQty: '0.00000000',
      time: o.time,
      updateTime: o.updateTime,
      isWorking: o.type === 'MARKET' || o.type === 'LIMIT' || o.triggered,
      workingTime: o.time,
      origQuoteOrderQty: '0.00000000',
    };
  }

  function findOrder(params: URLSearchParams): StoredOrder {
    const s = symbolOf(params.get('symbol') ?? undefined);
    const id = params.get('orderId');
    const client = params.get('origClientOrderId');
    let found: StoredOrder | undefined;
    if (id !== null) found = orders.get(Number(id));
    else if (client !== null)
      found = [...orders.values()].reverse().find((o) => o.clientOrderId === client && o.symbol === s.symbol);
    else
      throw new BinanceReply(
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
      );
    if (!found || found.symbol !== s.symbol) throw new BinanceReply(400, -2013, 'Order does not exist.');
    return found;
  }

  /** GET /api/v3/order: an archived order's fields are no longer answered (errors.md -2026 ORDER_ARCHIVED). */
  function lookUpOrder(params: URLSearchParams): StoredOrder {
    const found = findOrder(params);
    if (archived.has(found.orderId))
      throw new BinanceReply(
        400,
        -2026,
        'Order was canceled or expired with no executed qty over 90 days ago and has been archived.',
      );
    return found;
  }

  function newOrder(params: URLSearchParams): StoredOrder {
    const s = symbolOf(params.get('symbol') ?? undefined);
    const side = params.get('side');
    if (side !== 'BUY' && side !== 'SELL') throw new BinanceReply(400, -1117, 'Invalid side.');
    const type = params.get('type');
    if (type !== 'MARKET' && type !== 'LIMIT' && type !== 'STOP_LOSS' && type !== 'STOP_LOSS_LIMIT')
      throw new BinanceReply(400, -1116, 'Invalid orderType.');
    const tif = params.get('timeInForce');
    const needsTif = type === 'LIMIT' || type === 'STOP_LOSS_LIMIT';
    if (!needsTif && tif !== null)
      throw new BinanceReply(400, -1106, "Parameter 'timeInForce' sent when not required.");
    if (needsTif && tif === null)
      throw new BinanceReply(
        400,
        -1102,
        "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
      );
    if (tif !== null && tif !== 'GTC' && tif !== 'IOC' && tif !== 'FOK')
      throw new BinanceReply(400, -1115, 'Invalid timeInForce.');
    const qty = Number(params.get('quantity'));
    if (!(qty > 0))
      throw new BinanceReply(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    const needsPrice = type === 'LIMIT' || type === 'STOP_LOSS_LIMIT';
    const price = Number(params.get('price') ?? 0);
    if (needsPrice && !(price > 0))
      throw new BinanceReply(400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.");
    if (!needsPrice && params.get('price') !== null)
      throw new BinanceReply(400, -1106, "Parameter 'price' sent when not required.");
    const trailingDelta = params.get('trailingDelta') === null ? undefined : Number(params.get('trailingDelta'));
    if (trailingDelta !== undefined) {
      if (type !== 'STOP_LOSS' || params.get('stopPrice') !== null)
        throw new BinanceReply(400, -1106, 'The fake models trailingDelta only on a STOP_LOSS without stopPrice.');
      // filters.md "TRAILING_DELTA": the Above bounds for a STOP_LOSS BUY, the Below bounds for a STOP_LOSS SELL.
      const f = trailingDeltaOf(s);
      const [min, max] =
        side === 'BUY'
          ? [f.minTrailingAboveDelta, f.maxTrailingAboveDelta]
          : [f.minTrailingBelowDelta, f.maxTrailingBelowDelta];
      if (!Number.isInteger(trailingDelta) || trailingDelta < min || trailingDelta > max)
        throw new BinanceReply(400, -1013, 'Filter failure: TRAILING_DELTA');
    }
    const needsStop = (type === 'STOP_LOSS' || type === 'STOP_LOSS_LIMIT') && trailingDelta === undefined;
    const stopPrice = Number(params.get('stopPrice') ?? 0);
    if (needsStop && !(stopPrice > 0))
      throw new BinanceReply(400, -1102, "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.");
    for (const p of [price, stopPrice])
      if (p > 0 && !onStep(p, s.tickSize)) throw new BinanceReply(400, -1013, 'Filter failure: PRICE_FILTER');
    if (qty < s.minQty - 1e-12 || qty > LOT_MAX_QTY + 1e-12 || !onStep(qty, s.stepSize))
      throw new BinanceReply(400, -1013, 'Filter failure: LOT_SIZE');
    // filters.md "MARKET_LOT_SIZE": the quantity rules for MARKET orders, each part disabled at 0 (as listed here:
    // minQty and stepSize 0, maxQty MARKET_LOT_MAX_QTY); errors.md "Filter failure: MARKET_LOT_SIZE".
    if (type === 'MARKET' && qty > MARKET_LOT_MAX_QTY + 1e-12)
      throw new BinanceReply(400, -1013, 'Filter failure: MARKET_LOT_SIZE');
    const valuePrice = needsPrice ? price : touch(s, side);
    if (valuePrice * qty < s.minNotional - 1e-9) throw new BinanceReply(400, -1013, 'Filter failure: NOTIONAL');
    const band = s.percentPriceBySide;
    if (band && needsPrice) {
      const average = lastOf(s);
      const [up, down] =
        side === 'BUY'
          ? [band.bidMultiplierUp, band.bidMultiplierDown]
          : [band.askMultiplierUp, band.askMultiplierDown];
      if (price > average * up + 1e-9 || price < average * down - 1e-9)
        throw new BinanceReply(400, -1013, 'Filter failure: PERCENT_PRICE_BY_SIDE');
    }
    if (s.maxNumOrders !== undefined) {
      const open = [...orders.values()].filter(
        (o) => o.symbol === s.symbol && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'),
      ).length;
      if (open >= s.maxNumOrders) throw new BinanceReply(400, -1013, 'Filter failure: MAX_NUM_ORDERS');
    }
    if ((s.status ?? 'TRADING') !== 'TRADING') throw new BinanceReply(400, -2010, 'Market is closed.');
    const clientOrderId = params.get('newClientOrderId') ?? `fake-${nextOrderId + 1}`;
    if (!/^[.A-Z:/a-z0-9_-]{1,36}$/.test(clientOrderId))
      throw new BinanceReply(400, -1100, "Illegal characters found in parameter 'newClientOrderId'.");
    if (
      [...orders.values()].some(
        (o) => o.clientOrderId === clientOrderId && (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED'),
      )
    )
      throw new BinanceReply(400, -2010, 'Duplicate order sent.');
    if (needsStop && stopReached(s, side, stopPrice))
      throw new BinanceReply(400, -2010, 'Stop price would trigger immediately.');
    // Funds: a buy needs the quote at the limit (or the ask), a sell needs the base.
    const lockedAsset = side === 'BUY' ? s.quoteAsset : s.baseAsset;
    const need = side === 'BUY' ? (needsPrice ? price : touch(s, 'BUY')) * qty : qty;
    const b = wallet(lockedAsset);
    if (b.free < need - 1e-9)
      throw new BinanceReply(400, -2010, 'Account has insufficient balance for requested action.');
    const now = Date.now();
    const order: StoredOrder = {
      symbol: s.symbol,
      orderId: ++nextOrderId,
      clientOrderId,
      side,
      type,
      timeInForce: tif ?? 'GTC',
      price: needsPrice ? price : 0,
      stopPrice: needsStop ? stopPrice : 0,
      ...(trailingDelta === undefined ? {} : { trailingDelta, extreme: touch(s, side) }),
      origQty: qty,
      executedQty: 0,
      preventedQty: 0,
      stpMode: 'NONE',
      quoteQty: 0,
      status: 'NEW',
      triggered: false,
      time: now,
      updateTime: now,
      lockedAsset,
      locked: 0,
      fills: [],
    };
    b.free -= need;
    b.locked += need;
    order.locked = need;
    orders.set(order.orderId, order);
    work(order, now, true);
    return order;
  }

  function cancel(params: URLSearchParams): StoredOrder {
    const o = findOrder(params);
    if (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED')
      throw new BinanceReply(400, -2011, 'Unknown order sent.');
    release(o);
    o.status = 'CANCELED';
    o.updateTime = Date.now();
    return o;
  }

  function account(): unknown {
    return {
      makerCommission: 10,
      takerCommission: 10,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: { maker: '0.00100000', taker: '0.00100000', buyer: '0.00000000', seller: '0.00000000' },
      canTrade: true,
      canWithdraw: true,
      canDeposit: true,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: Date.now(),
      accountType: 'SPOT',
      balances: [...balances]
        .filter(([, b]) => b.free + b.locked !== 0)
        .map(([asset, b]) => ({ asset, free: fmt(b.free), locked: fmt(b.locked) })),
      permissions: ['SPOT'],
      uid: ACCOUNT_UID,
    };
  }

  function myTrades(params: URLSearchParams): unknown {
    const s = symbolOf(params.get('symbol') ?? undefined);
    // rest-api.md "Account trade list": orderId "can only be used in combination with symbol".
    const orderId = params.get('orderId');
    const trades = [];
    for (const o of orders.values()) {
      if (o.symbol !== s.symbol || (orderId !== null && String(o.orderId) !== orderId)) continue;
      for (const f of o.fills)
        trades.push({
          symbol: o.symbol,
          id: f.tradeId,
          orderId: o.orderId,
          orderListId: -1,
          price: fmt(f.price),
          qty: fmt(f.qty),
          quoteQty: fmt(f.price * f.qty),
          commission: fmt(f.commission),
          commissionAsset: f.commissionAsset,
          time: f.time,
          isBuyer: o.side === 'BUY',
          isMaker: f.maker,
          isBestMatch: true,
        });
    }
    // rest-api.md "Account trade list": limit "Default 500; max 1000"; "If fromId is set, it will get id >= that
    // fromId. Otherwise most recent trades are returned" (oldest first either way); symbol + orderId + fromId is
    // one of the supported combinations.
    trades.sort((a, b) => a.id - b.id);
    const limit = Math.min(1000, Number(params.get('limit') ?? 500));
    const fromId = params.get('fromId');
    if (fromId !== null) return trades.filter((t) => t.id >= Number(fromId)).slice(0, limit);
    return trades.slice(-limit);
  }

  // --- auth ---

  function authenticate(req: IncomingMessage, raw: string, security: 'TRADE' | 'USER_DATA'): URLSearchParams {
    if (req.headers['x-mbx-apikey'] !== apiKey)
      throw new BinanceReply(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    const at = raw.lastIndexOf('&signature=');
    if (at < 0)
      throw new BinanceReply(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    const payload = raw.slice(0, at);
    const given = Buffer.from(raw.slice(at + '&signature='.length), 'utf8');
    const expected = Buffer.from(createHmac('sha256', secret).update(payload).digest('hex'), 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new BinanceReply(401, -1022, 'Signature for this request is not valid.');
    const params = new URLSearchParams(payload);
    const timestamp = Number(params.get('timestamp'));
    const recvWindow = Number(params.get('recvWindow') ?? 5000);
    if (!Number.isInteger(timestamp))
      throw new BinanceReply(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    if (!(recvWindow > 0 && recvWindow <= 60_000))
      throw new BinanceReply(400, -1131, 'recvWindow must be less than 60000');
    const now = serverNow();
    if (timestamp > now + 1000)
      throw new BinanceReply(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
    if (now - timestamp > recvWindow)
      throw new BinanceReply(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    if (security === 'TRADE' && !tradingEnabled)
      throw new BinanceReply(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    return params;
  }

  // --- HTTP ---

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json;charset=UTF-8',
      'X-MBX-USED-WEIGHT-1M': String(minuteWeight),
      ...headers,
    });
    res.end(text);
  };

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const route = `${method} ${url.pathname}`;
    counts.set(route, (counts.get(route) ?? 0) + 1);
    // CHANGELOG 2026-03-27: placing and cancelling orders weighs 0 when the request succeeds; "Failed requests are
    // still charged the documented weight" (charged once the answer shows it failed).
    const weightless = WEIGHTLESS_ON_SUCCESS.has(route);
    const spent = weightless ? 0 : requestWeight(route, url.searchParams);
    weight += spent;
    rollMinute();
    minuteWeight += spent;
    if (weightless)
      res.on('finish', () => {
        if (res.statusCode < 400) return;
        const failed = requestWeight(route, url.searchParams);
        weight += failed;
        rollMinute();
        minuteWeight += failed;
      });
    // Open orders of every symbol cost 80 times a symbol's 6: tell the two apart.
    const detail =
      route === 'GET /api/v3/openOrders'
        ? `${route} (${url.searchParams.has('symbol') ? 'one symbol' : 'all symbols'})`
        : route;
    detailed.set(detail, (detailed.get(detail) ?? 0) + 1);
    const query = url.search.startsWith('?') ? url.search.slice(1) : url.search;
    const publicParams = url.searchParams;
    // rest-api.md: "New order (TRADE)", "Cancel order (TRADE)", "Cancel All Open Orders on a Symbol (TRADE)".
    const security = TRADE_ROUTES.has(route) ? 'TRADE' : 'USER_DATA';
    const signed = (raw: string) => authenticate(req, raw, security);
    if (minuteWeight > 6000) {
      const seconds = Math.max(1, Math.ceil(((weightMinute + 1) * 60_000 - weightClock()) / 1000));
      return send(
        res,
        429,
        {
          code: -1003,
          msg: 'Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.',
        },
        { 'Retry-After': String(seconds) },
      );
    }
    try {
      switch (route) {
        case 'GET /api/v3/ping':
          return send(res, 200, {});
        case 'GET /api/v3/time':
          return send(res, 200, { serverTime: serverNow() });
        case 'GET /api/v3/exchangeInfo':
          return send(res, 200, exchangeInfo());
        case 'GET /api/v3/ticker/24hr': {
          const many = publicParams.get('symbols');
          if (many !== null)
            return send(
              res,
              200,
              (JSON.parse(many) as string[]).map((name) => ticker24hr(symbolOf(name))),
            );
          return send(res, 200, ticker24hr(symbolOf(publicParams.get('symbol') ?? undefined)));
        }
        // rest-api.md "Symbol order book ticker" and "Symbol price ticker": one symbol, or `symbols` (a JSON array)
        // answered with an array.
        case 'GET /api/v3/ticker/bookTicker': {
          const book = (s: FakeBinanceSymbol) => ({
            symbol: s.symbol,
            bidPrice: fmt(s.bid),
            bidQty: '1.00000000',
            askPrice: fmt(s.ask),
            askQty: '1.00000000',
          });
          const many = publicParams.get('symbols');
          if (many !== null)
            return send(
              res,
              200,
              (JSON.parse(many) as string[]).map((n) => book(symbolOf(n))),
            );
          return send(res, 200, book(symbolOf(publicParams.get('symbol') ?? undefined)));
        }
        case 'GET /api/v3/ticker/price': {
          const price = (s: FakeBinanceSymbol) => ({ symbol: s.symbol, price: fmt(lastOf(s)) });
          const many = publicParams.get('symbols');
          if (many !== null)
            return send(
              res,
              200,
              (JSON.parse(many) as string[]).map((n) => price(symbolOf(n))),
            );
          return send(res, 200, price(symbolOf(publicParams.get('symbol') ?? undefined)));
        }
        case 'POST /api/v3/order':
          return await placeOrder(req, res, signed(body));
        case 'GET /api/v3/order': {
          const params = signed(query);
          let found: StoredOrder | undefined;
          return await playHttpFault(
            faults.take('lookup'),
            req,
            res,
            faultHooks(res, {
              act: () => replyingRefusal(res, () => (found = lookUpOrder(params))),
              reply: () => send(res, 200, orderView(found as StoredOrder, 'query')),
              malformed: () => send(res, 200, `{"symbol":"${(found as StoredOrder).symbol}","orderId":`),
            }),
          );
        }
        case 'DELETE /api/v3/order': {
          const params = signed(query);
          let cancelled: StoredOrder | undefined;
          return await playHttpFault(
            faults.take('cancel'),
            req,
            res,
            faultHooks(res, {
              act: () => replyingRefusal(res, () => (cancelled = cancel(params))),
              reply: () =>
                send(
                  res,
                  200,
                  orderView(cancelled as StoredOrder, 'cancel', params.get('newClientOrderId') ?? undefined),
                ),
              malformed: () => send(res, 200, `{"symbol":"${(cancelled as StoredOrder).symbol}","status":`),
            }),
          );
        }
        case 'GET /api/v3/openOrders': {
          const params = signed(query);
          const symbol = params.get('symbol');
          if (symbol !== null) symbolOf(symbol);
          const open = [...orders.values()].filter(
            (o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (symbol === null || o.symbol === symbol),
          );
          return await playHttpFault(
            faults.take('list'),
            req,
            res,
            faultHooks(res, {
              act: () => true,
              reply: () =>
                send(
                  res,
                  200,
                  open.map((o) => orderView(o, 'query')),
                ),
              malformed: () => send(res, 200, '[{"symbol":'),
            }),
          );
        }
        case 'GET /api/v3/account':
          signed(query);
          return send(res, 200, account());
        case 'GET /api/v3/myTrades':
          return send(res, 200, myTrades(signed(query)));
        default:
          return send(res, 404, { code: -1000, msg: `no such route in the fake: ${route}` });
      }
    } catch (e) {
      if (e instanceof BinanceReply) return send(res, e.status, { code: e.code, msg: e.msg });
      return send(res, 500, { code: -1000, msg: `fake failure: ${(e as Error).message}` });
    }
  }

  /** Runs `act`; a refusal it throws is answered here (and ends the fault: nothing was done). */
  function replyingRefusal(res: ServerResponse, act: () => unknown): boolean {
    try {
      act();
      return true;
    } catch (e) {
      if (!(e instanceof BinanceReply)) throw e;
      send(res, e.status, { code: e.code, msg: e.msg });
      return false;
    }
  }

  /** The answers every faulted route shares: Binance's 5xx, 429/418 and venue-specific refusals. */
  function faultHooks(res: ServerResponse, own: Pick<HttpFaultHooks, 'act' | 'reply' | 'malformed'>): HttpFaultHooks {
    return {
      ...own,
      held,
      serverError: (status) =>
        send(res, status, { code: -1000, msg: 'An unknown error occured while processing the request.' }),
      rateLimited: (status, headers) =>
        send(
          res,
          status,
          status === 418
            ? {
                code: -1003,
                msg: 'Way too many requests; IP(127.0.0.1) banned until 1700000000000. Please use the websocket for live updates to avoid bans.',
              }
            : {
                code: -1003,
                msg: 'Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. Please use the websocket for live updates to avoid polling the API.',
              },
          headers,
        ),
      other: (fault) => {
        if (fault.kind === 'duplicateClientId') send(res, 400, { code: -2010, msg: 'Duplicate order sent.' });
        else if (fault.kind === 'reject')
          send(res, 400, {
            code: -2010,
            msg: fault.reason ?? 'Account has insufficient balance for requested action.',
          });
        else if (fault.kind === 'tooManyOrders')
          // rest-api "LIMITS" → "Unfilled Order Count": "If you have exceeded this, you will receive a 429 error
          // without the Retry-After header." errors.md: -1015 TOO_MANY_ORDERS.
          send(res, 429, {
            code: -1015,
            msg:
              fault.interval === undefined || fault.interval === '10 SECOND'
                ? 'Too many new orders; current limit is 50 orders per 10 SECOND.'
                : `Too many new orders; current limit is 200000 orders per ${fault.interval}.`,
          });
        else if (fault.kind === 'wafBlock') {
          // rest-api "HTTP Return Codes": "HTTP 403 return code is used when a WAF (Web Application Firewall) rule
          // has been violated. This can indicate a rate limit violation or a security block." The firewall's own
          // page, not Binance's JSON.
          const page = '<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>';
          res.writeHead(403, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(page) }).end(page);
        } else if (fault.kind === 'timestampOutsideRecvWindow')
          send(res, 400, { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' });
        else if (fault.kind === 'errorEchoingAccount')
          send(res, 400, { code: -2010, msg: `Account ${ACCOUNT_UID} has insufficient balance for requested action.` });
        else return false;
        return true;
      },
    };
  }

  /** The reply to a new order in the response type it gets (see `FakeBinanceOptions.newOrderRespType`). */
  function newOrderReply(o: StoredOrder, params: URLSearchParams): unknown {
    const mode = options.newOrderRespType ?? 'asked';
    const typeDefault = o.type === 'MARKET' || o.type === 'LIMIT' ? 'FULL' : 'ACK';
    const asked = params.get('newOrderRespType');
    const type =
      mode === 'ACK' || mode === 'RESULT'
        ? mode
        : mode === 'asked' && (asked === 'ACK' || asked === 'RESULT' || asked === 'FULL')
          ? asked
          : typeDefault;
    if (type === 'ACK')
      return {
        symbol: o.symbol,
        orderId: o.orderId,
        orderListId: -1,
        clientOrderId: o.clientOrderId,
        transactTime: o.time,
      };
    const full = orderView(o, 'new') as Record<string, unknown>;
    if (type === 'RESULT') delete full.fills;
    return full;
  }

  async function placeOrder(req: IncomingMessage, res: ServerResponse, params: URLSearchParams): Promise<void> {
    let placed: StoredOrder | undefined;
    await playHttpFault(
      faults.take('submit'),
      req,
      res,
      faultHooks(res, {
        act: () => replyingRefusal(res, () => (placed = newOrder(params))),
        reply: () => send(res, 200, newOrderReply(placed as StoredOrder, params)),
        malformed: () => {
          const o = placed as StoredOrder;
          res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' });
          res.end(`{"symbol":"${o.symbol}","orderId":${o.orderId},"clientOrderId":"${o.clientOrderId}","status":`);
        },
      }),
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, { code: -1000, msg: `fake failure: ${(e as Error).message}` });
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fake Binance server has no port');
  const port = address.port;

  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    apiKey,
    secret,
    setQuote(symbol, bid, ask) {
      const s = symbolOf(symbol);
      if (s.bid > 0 && s.ask > 0) lastPrices.set(s.symbol, (s.bid + s.ask) / 2);
      s.bid = bid;
      s.ask = ask;
      reevaluate(symbol);
    },
    injectNext(fault: FakeFault) {
      faults.push(fault);
    },
    ordersWithClientId(clientOrderId) {
      return [...orders.values()].filter((o) => o.clientOrderId === clientOrderId).length;
    },
    requestCounts() {
      return Object.fromEntries(detailed);
    },
    spendWeight(spent) {
      rollMinute();
      minuteWeight += spent;
    },
    usedWeight() {
      return weight;
    },
    requestCount(route) {
      if (route === undefined) return [...counts.values()].reduce((a, b) => a + b, 0);
      if (route.includes(' ')) return counts.get(route) ?? 0;
      return [...counts].filter(([key]) => key.endsWith(` ${route}`)).reduce((sum, [, n]) => sum + n, 0);
    },
    balance(asset) {
      const b = wallet(asset);
      return { free: b.free, locked: b.locked };
    },
    setDepth(symbol, side, levels) {
      depth.set(
        `${symbol}:${side}`,
        levels.map(([price, qty]) => [price, qty]),
      );
    },
    wipeOrders() {
      orders.clear();
    },
    archiveOrder(orderId: number) {
      const o = orders.get(orderId);
      if (!o || o.executedQty > 0) return false;
      if (o.status === 'NEW') {
        release(o);
        o.status = 'CANCELED';
        o.updateTime = Date.now();
      }
      archived.add(orderId);
      return true;
    },
    amendKeepPriority(orderId: number, newQty: number, newClientOrderId?: string) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
        throw new Error(`order ${orderId} is not open: -2038 ORDER_AMEND_REJECTED`);
      // errors.md, messages for -2038: "Order amend (quantity increase) is not supported."; the fake also keeps the
      // new quantity above what was executed, so the order stays open.
      if (!(newQty > o.executedQty + 1e-12 && newQty < o.origQty - 1e-12))
        throw new Error(`newQty ${newQty} is not between the executed ${o.executedQty} and the quantity ${o.origQty}`);
      const freed = o.origQty - newQty;
      if (o.locked > 0) {
        const unlock = Math.min(o.locked, o.side === 'BUY' ? freed * o.price : freed);
        wallet(o.lockedAsset).locked -= unlock;
        wallet(o.lockedAsset).free += unlock;
        o.locked -= unlock;
      }
      o.origQty = newQty;
      o.clientOrderId = newClientOrderId ?? randomBytes(16).toString('base64url').slice(0, 22);
      o.updateTime = Date.now();
      return o.clientOrderId;
    },
    setClockOffset(ms: number) {
      clockOffsetMs = ms;
    },
    preventNextMatch(options = {}) {
      preventMatch.push({ mode: options.mode ?? 'EXPIRE_TAKER', after: options.after ?? 0 });
    },
    reportStatusAs(orderId, status) {
      const o = orders.get(orderId);
      if (!o) throw new Error(`no order ${orderId}`);
      if (status === undefined) delete o.shownStatus;
      else o.shownStatus = status;
    },
    setPriceRange(symbol, range) {
      if (range === undefined) priceRanges.delete(symbol);
      else priceRanges.set(symbol, { ...range });
    },
    exchangeCancel(orderId) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
        throw new Error(`order ${orderId} is not open`);
      expire(o, 'EXCHANGE_CANCELED', Date.now());
    },
    preventResting(orderId, mode, quantity) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED'))
        throw new Error(`order ${orderId} is not open`);
      prevent(o, mode === 'EXPIRE_MAKER' ? available(o) : Math.min(quantity ?? available(o), available(o)), Date.now());
    },
    setBalance(asset, free) {
      wallet(asset).free = free;
    },
    close() {
      for (const r of held) r.destroy();
      held.clear();
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Routes whose successful requests weigh 0 since 2026-04-02 (CHANGELOG 2026-03-27). */
const WEIGHTLESS_ON_SUCCESS: ReadonlySet<string> = new Set([
  'POST /api/v3/order',
  'DELETE /api/v3/order',
  'DELETE /api/v3/openOrders',
]);

/**
 * Binance's request weight of a route (rest-api.md, each endpoint's "Weight"): what a client spends of
 * its 6000-per-minute budget. Open orders without a symbol cost 80, with one 6.
 */
function requestWeight(route: string, params: URLSearchParams): number {
  const symbol = params.has('symbol');
  switch (route) {
    case 'GET /api/v3/exchangeInfo':
      return 20;
    case 'GET /api/v3/account':
      return 20;
    case 'GET /api/v3/openOrders':
      return symbol ? 6 : 80;
    case 'GET /api/v3/order':
      return 4;
    case 'GET /api/v3/ticker/24hr': {
      // "24hr ticker price change statistics": symbol 2; symbols 1–20: 2, 21–100: 40, 101 or more: 80; neither 80.
      if (symbol) return 2;
      const many = params.get('symbols');
      if (many === null) return 80;
      const n = many.split(',').length;
      return n <= 20 ? 2 : n <= 100 ? 40 : 80;
    }
    case 'GET /api/v3/ticker/bookTicker':
    case 'GET /api/v3/ticker/price':
      // "Symbol order book ticker", "Symbol price ticker": symbol 2; symbols (any number) or neither 4.
      return symbol ? 2 : 4;
    case 'GET /api/v3/myTrades':
      // rest-api.md "Account trade list": 20 without orderId, 5 with it.
      return params.has('orderId') ? 5 : 20;
    default:
      return 1;
  }
}
