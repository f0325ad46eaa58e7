/**
 * Any failure of a Binance call → `BrokerError` with a `reason` and `retryable`: Binance's own codes
 * (errors.md) first, then the HTTP status, then ccxt's error class by its lineage; whether a mutating
 * request may have taken effect (`outcomeUnknown`) or provably did not (`notActed`); secrets and account
 * ids scrubbed from every message.
 */
import { z } from 'zod';
import { maskAccountIds, redactValues } from '../credentials';
import { BrokerError, isBrokerError, type BrokerErrorReason } from '../errors';

/** What the adapter saw of the HTTP reply behind an error (ccxt's exceptions do not carry it). */
export interface HttpCapture {
  status: number;
  body?: string;
  retryAfter?: string;
}

const BinanceErrorBodySchema = z.object({ code: z.number().int(), msg: z.string() });

/**
 * ccxt's error classes (base/errorHierarchy.js), child → parent, so a class is read by what it is
 * a kind of. ccxt sets `name` on every instance, which survives bundling.
 */
const CCXT_PARENT: Readonly<Record<string, string>> = {
  ExchangeError: 'BaseError',
  AuthenticationError: 'ExchangeError',
  PermissionDenied: 'AuthenticationError',
  AccountNotEnabled: 'PermissionDenied',
  AccountSuspended: 'AuthenticationError',
  ArgumentsRequired: 'ExchangeError',
  BadRequest: 'ExchangeError',
  BadSymbol: 'BadRequest',
  OperationRejected: 'ExchangeError',
  NoChange: 'OperationRejected',
  MarginModeAlreadySet: 'NoChange',
  MarketClosed: 'OperationRejected',
  ManualInteractionNeeded: 'OperationRejected',
  RestrictedLocation: 'OperationRejected',
  InsufficientFunds: 'ExchangeError',
  InvalidAddress: 'ExchangeError',
  AddressPending: 'InvalidAddress',
  InvalidOrder: 'ExchangeError',
  OrderNotFound: 'InvalidOrder',
  OrderNotCached: 'InvalidOrder',
  OrderImmediatelyFillable: 'InvalidOrder',
  OrderNotFillable: 'InvalidOrder',
  DuplicateOrderId: 'InvalidOrder',
  ContractUnavailable: 'InvalidOrder',
  NotSupported: 'ExchangeError',
  InvalidProxySettings: 'ExchangeError',
  ExchangeClosedByUser: 'ExchangeError',
  OperationFailed: 'BaseError',
  NetworkError: 'OperationFailed',
  DDoSProtection: 'NetworkError',
  RateLimitExceeded: 'NetworkError',
  ExchangeNotAvailable: 'NetworkError',
  OnMaintenance: 'ExchangeNotAvailable',
  InvalidNonce: 'NetworkError',
  ChecksumError: 'InvalidNonce',
  RequestTimeout: 'NetworkError',
  BadResponse: 'OperationFailed',
  NullResponse: 'BadResponse',
  CancelPending: 'OperationFailed',
  UnsubscribeError: 'BaseError',
};

/** The class and its ancestors, most specific first; empty when `name` is not a ccxt class. */
export function ccxtLineage(name: string): string[] {
  if (name !== 'BaseError' && !(name in CCXT_PARENT)) return [];
  const out: string[] = [];
  for (let n: string | undefined = name; n !== undefined; n = CCXT_PARENT[n]) out.push(n);
  return out;
}

/** ccxt class → ours, most specific first (checked after Binance's own code). */
const CCXT_REASON: ReadonlyArray<[string, BrokerErrorReason]> = [
  ['RequestTimeout', 'TIMEOUT'],
  ['DDoSProtection', 'RATE_LIMITED'],
  ['RateLimitExceeded', 'RATE_LIMITED'],
  ['ExchangeNotAvailable', 'VENUE_UNAVAILABLE'],
  ['InvalidNonce', 'AUTHENTICATION'],
  ['NetworkError', 'NETWORK'],
  ['BadResponse', 'BAD_RESPONSE'],
  ['OperationFailed', 'VENUE_UNAVAILABLE'],
  ['PermissionDenied', 'PERMISSION_DENIED'],
  ['AuthenticationError', 'AUTHENTICATION'],
  ['InsufficientFunds', 'INSUFFICIENT_FUNDS'],
  ['OrderNotFound', 'ORDER_NOT_FOUND'],
  ['DuplicateOrderId', 'DUPLICATE_CLIENT_ORDER_ID'],
  ['BadSymbol', 'UNKNOWN_SYMBOL'],
  ['InvalidOrder', 'INVALID_ORDER'],
  ['BadRequest', 'INVALID_ORDER'],
  ['OperationRejected', 'INVALID_ORDER'],
  ['NotSupported', 'UNSUPPORTED_ORDER'],
];

/**
 * errors.md "Messages for -1010 ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED, -2011 CANCEL_REJECTED": the account may
 * not do this ("This symbol is not permitted for this account.", "This symbol is restricted for this account.",
 * "This action is disabled on this account.", "This account may not place or cancel orders.", "Rest API trading is
 * not enabled.") …
 */
const ACCOUNT_REFUSAL =
  /not permitted for this account|restricted for this account|disabled on this account|may not place or cancel orders|trading is not enabled/i;
/** … or the symbol does not take this kind of order ("Market orders are not supported for this symbol.", …). */
const SYMBOL_LACKS =
  /orders are not supported for this symbol|not support for this symbol|unsupported order combination/i;

/**
 * errors.md -2026 ORDER_ARCHIVED: "Order was canceled or expired with no executed qty over 90 days ago and has been
 * archived." A look-up's answer about an order that exists no more in detail: it is final (cancelled or expired)
 * and nothing of it executed, but Binance no longer tells its fields. ccxt calls it InvalidOrder, which read as a
 * failed look-up that said nothing about the order.
 */
export const ORDER_ARCHIVED = -2026;

/**
 * Binance's own codes (errors.md), which win over ccxt's class: ccxt maps -1022 to BadRequest and
 * -2015 to DDoSProtection once a private call has succeeded. -2010 NEW_ORDER_REJECTED carries
 * several refusals that only its message tells apart.
 */
export function reasonForBinanceCode(code: number, msg: string): BrokerErrorReason | undefined {
  switch (code) {
    case -2010:
      if (/duplicate order/i.test(msg)) return 'DUPLICATE_CLIENT_ORDER_ID';
      if (/insufficient balance/i.test(msg)) return 'INSUFFICIENT_FUNDS';
      if (ACCOUNT_REFUSAL.test(msg)) return 'PERMISSION_DENIED';
      if (SYMBOL_LACKS.test(msg)) return 'UNSUPPORTED_ORDER';
      return 'INVALID_ORDER';
    case -2013:
      return 'ORDER_NOT_FOUND';
    case ORDER_ARCHIVED:
      // Not "no such order": Binance had it, and it ended (see ORDER_ARCHIVED). Its details are what is not found.
      return 'ORDER_NOT_FOUND';
    case -2011:
      if (/unknown order/i.test(msg)) return 'ORDER_NOT_FOUND';
      return ACCOUNT_REFUSAL.test(msg) ? 'PERMISSION_DENIED' : 'INVALID_ORDER';
    case -1021:
      // Outside recvWindow: refused before processing (rest-api.md "Timing security"); resent with a new timestamp.
      return 'TIMEOUT';
    case -1002:
    case -1022:
    case -2014:
    case -2015:
      return 'AUTHENTICATION';
    case -1003:
    case -1015:
      return 'RATE_LIMITED';
    case -1000:
    case -1001:
    case -1006:
    case -1007:
    case -1008:
    case -1016:
      return 'VENUE_UNAVAILABLE';
    case -1121:
      return 'UNKNOWN_SYMBOL';
    case -2018:
    case -2019:
      return 'INSUFFICIENT_FUNDS';
    default:
      if (code <= -1100 && code >= -1199) return 'INVALID_ORDER';
      if (code === -1013 || code === -1111 || code === -1106 || code === -1115) return 'INVALID_ORDER';
      return undefined;
  }
}

export interface ErrorContext {
  /** "submit", "cancel", … for the message. */
  operation: string;
  /** The request may have reached Binance and changed something (a submit): unknown outcomes are flagged. */
  mutating: boolean;
  http?: HttpCapture;
  /** Values to redact from every message (key, secret). */
  secrets: ReadonlyArray<string | undefined>;
  /** Account ids (the uid) to mask to their last four characters in every message. */
  accountIds?: ReadonlyArray<string | undefined>;
}

/**
 * Answers proving Binance did not act on the request, so it may be sent again (with a new timestamp
 * and signature): 429 and 418 (rest-api.md "LIMITS": the request is refused by the rate limiter, with
 * Retry-After in seconds), -1003 TOO_MANY_REQUESTS and -1015 TOO_MANY_ORDERS (the same limits as codes,
 * errors.md), and -1021 INVALID_TIMESTAMP (rest-api.md "Timing security": a request outside its
 * recvWindow is rejected, not processed).
 */
const NOT_ACTED_CODES: ReadonlySet<number> = new Set([-1003, -1015, -1021]);
/** Socket errors raised before anything was written: nothing reached Binance. */
const NOT_SENT = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/** Reasons after which a mutating request may or may not have taken effect. */
const UNKNOWN_OUTCOME: ReadonlySet<BrokerErrorReason> = new Set([
  'TIMEOUT',
  'NETWORK',
  'VENUE_UNAVAILABLE',
  'BAD_RESPONSE',
]);

/**
 * Waits Binance implies when it names none. 403: "Usually, a WAF ban will have a duration of 5 minutes" (Binance
 * FAQ "Frequently Asked Questions on API" 360004492232, Web Application Firewall limits). 418: "IP bans ... from
 * 2 minutes to 3 days" (rest-api "LIMITS"). -1015: the unfilled-order count is over a limit of the account, and
 * "you will receive a 429 error without the Retry-After header" (rest-api "LIMITS" → "Unfilled Order Count"); its
 * shortest interval is 10 SECOND (exchangeInfo `rateLimits` ORDERS, and the FAQ's "50 times/10 seconds").
 */
export const WAF_BAN_MS = 5 * 60_000;
export const IP_BAN_MIN_MS = 2 * 60_000;
export const ORDER_COUNT_INTERVAL_MS = 10_000;
const INTERVAL_UNIT_MS: Readonly<Record<string, number>> = {
  SECOND: 1000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
};
/**
 * The interval a -1015 names ("Too many new orders; current limit is %s orders per %s.", errors.md; exchangeInfo
 * `rateLimits` ORDERS come as 10 SECOND and 1 DAY): without Retry-After, new orders wait that long. Waiting only the
 * shortest interval after the day's limit was reached sent an order every 10 s, each refused 429 again, and rest-api
 * "LIMITS" bans an IP "failing to back off after receiving 429s".
 */
function orderCountIntervalMs(msg: string | undefined): number {
  const m = /per (?:(\d+) )?(SECOND|MINUTE|HOUR|DAY)\b/i.exec(msg ?? '');
  if (!m) return ORDER_COUNT_INTERVAL_MS;
  return Number(m[1] ?? 1) * (INTERVAL_UNIT_MS[(m[2] as string).toUpperCase()] ?? ORDER_COUNT_INTERVAL_MS);
}
export const TOO_MANY_ORDERS = -1015;

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/**
 * -1013 "Filter failure: <filter>" (errors.md "Filter failures": "-1013 INVALID_MESSAGE … The request didn't reach the
 * Matching Engine"): what the filter holds against the order (errors.md's description; filters.md for
 * PERCENT_PRICE_BY_SIDE) and what to change. The filters checked before sending (PRICE_FILTER, LOT_SIZE,
 * MARKET_LOT_SIZE, NOTIONAL) seldom get here; these others need Binance's average price or the account's orders.
 */
const FILTER_ADVICE: Readonly<Record<string, string>> = {
  PERCENT_PRICE:
    "the price is too far from the symbol's average weighted price of the last minutes (PERCENT_PRICE): place it nearer the market",
  PERCENT_PRICE_BY_SIDE:
    "the price is too far from the symbol's average of previous trade prices for a buy or a sell (PERCENT_PRICE_BY_SIDE in exchangeInfo gives the multipliers): place it nearer the market",
  MAX_NUM_ORDERS:
    'the account has as many open orders on this symbol as Binance allows (MAX_NUM_ORDERS): cancel some before placing more',
  MAX_NUM_ALGO_ORDERS:
    'the account has as many open stop orders on this symbol as Binance allows (MAX_NUM_ALGO_ORDERS): cancel some before placing more',
  EXCHANGE_MAX_NUM_ORDERS:
    'the account has as many open orders on the exchange as Binance allows (EXCHANGE_MAX_NUM_ORDERS): cancel some before placing more',
  EXCHANGE_MAX_NUM_ALGO_ORDERS:
    'the account has as many open stop orders on the exchange as Binance allows (EXCHANGE_MAX_NUM_ALGO_ORDERS): cancel some before placing more',
  MAX_POSITION:
    "the account's position in the base asset (its balance and open buy orders) has reached the symbol's limit (MAX_POSITION)",
  PRICE_FILTER: "the price is outside the symbol's range or off its tick size (PRICE_FILTER)",
  LOT_SIZE: "the quantity is outside the symbol's range or off its step size (LOT_SIZE)",
  MARKET_LOT_SIZE: "the market order's quantity is outside the symbol's range for market orders (MARKET_LOT_SIZE)",
  NOTIONAL: "price × quantity is outside the symbol's minimum and maximum notional (NOTIONAL)",
  MIN_NOTIONAL: "price × quantity is below the symbol's minimum notional (MIN_NOTIONAL)",
  TRAILING_DELTA:
    "the trailing stop's trail (trailingDelta, in basis points) is outside the symbol's range (TRAILING_DELTA in exchangeInfo gives minTrailingAboveDelta–maxTrailingAboveDelta for a buy, minTrailingBelowDelta–maxTrailingBelowDelta for a sell): trail by an amount within it",
};

/** Operations on TRADE endpoints (rest-api.md "Request Security": "Trading on the exchange, placing and canceling orders"). */
const TRADE_OPERATIONS: ReadonlySet<string> = new Set(['submit', 'cancel']);

/**
 * What the user can do about a refusal of the key, the signature or the timestamp, which Binance's message alone
 * does not say. errors.md: -2015 REJECTED_MBX_KEY "Invalid API-key, IP, or permissions for action.", -2014
 * BAD_API_KEY_FMT "API-key format invalid.", -1022 INVALID_SIGNATURE "Signature for this request is not valid.",
 * -1002 UNAUTHORIZED; rest-api.md "Request Security": "API keys can be configured to allow access only to certain
 * types of secure endpoints … By default, an API key cannot `TRADE`. You need to enable trading in API Management
 * first."; "Timing security" for -1021 (the adapter already stamps requests on Binance's time, so one that
 * persists is a clock that moves or a request slower than recvWindow).
 */
export function whatToDo(code: number, operation: string, msg = ''): string | undefined {
  switch (code) {
    case -1013: {
      const filter = /Filter failure: ([A-Z_]+)/.exec(msg)?.[1];
      return filter === undefined ? undefined : FILTER_ADVICE[filter];
    }
    case -2010:
      // errors.md, messages for -2010 NEW_ORDER_REJECTED: "Order would trigger immediately." (Binance also words it
      // "Stop price would trigger immediately."): a STOP_LOSS(_LIMIT) whose stopPrice the last price has already
      // reached is refused, not triggered at once as some venues (and the paper venue) do.
      if (/would trigger immediately/i.test(msg))
        return 'Binance does not take a stop the market has already reached (a buy stop at or below the last price, a sell stop at or above it): send a market or limit order now, or a stop beyond the market';
      // errors.md -2010 "Account has insufficient balance for requested action."; faqs/commission_faq.md: "the total
      // commission are summed up and deducted from your received amount" ("For orders on the BUY side, the received
      // amount would be `quantity`") unless it is paid in BNB: a buy leaves less of the asset than its fills add up to.
      return /insufficient balance/i.test(msg)
        ? "the account's free balance (GET /api/v3/account; what open orders lock is not free) is short of what the order needs; Binance takes a trade's fee from what it receives unless fees are paid in BNB, so after a buy the account holds a little less than was bought: sell what the account holds, not what was bought"
        : undefined;
    case -2015:
      return TRADE_OPERATIONS.has(operation)
        ? 'the key may read the account but not trade: Binance API keys cannot TRADE until trading is enabled for the key in API Management; also check that its IP access restriction includes this machine'
        : "check binance.apiKey: the key itself, its IP access restriction (this machine's address must be allowed), and that it is a key of this environment (Spot Test Network keys and live keys differ)";
    case -2014:
      return 'binance.apiKey is not a Binance API key: enter it again, without spaces or line breaks';
    case -1022:
      return "binance.secret is not this API key's secret (Binance refused the signature made with it): enter the key's secret again";
    case -1002:
      return "this API key is not authorized for this request: check the key's permissions in API Management";
    case ORDER_ARCHIVED:
      return 'the order is final: Binance archived it, which it does to an order cancelled or expired with nothing executed, more than 90 days after; nothing of it is working or can fill, and its details (price, quantity, times) are no longer available from Binance';
    case -1021:
      return "this computer's clock moved against Binance's, or the request took longer than recvWindow to arrive: check that the clock is synchronised (NTP) and the network";
    default:
      return undefined;
  }
}

/** Signed URLs carry a signature in the query: messages keep the path only; account ids are masked. */
function scrub(
  text: string,
  secrets: ReadonlyArray<string | undefined>,
  accountIds: ReadonlyArray<string | undefined> = [],
): string {
  return maskAccountIds(redactValues(text, secrets), accountIds)
    .replace(/(https?:\/\/[^\s?]+)\?\S*/g, '$1')
    .replace(/signature=[0-9a-fA-F]+/g, 'signature=[redacted]');
}

/** Any failure of a Binance call (ccxt exception, our own, anything thrown) → BrokerError. */
export function toBrokerError(e: unknown, ctx: ErrorContext): BrokerError {
  if (isBrokerError(e)) {
    // An unreadable reply to a submit: the order may well be at Binance.
    if (ctx.mutating && e.reason === 'BAD_RESPONSE' && !e.outcomeUnknown)
      return new BrokerError(
        'BAD_RESPONSE',
        scrub(
          `${e.message}; the order may or may not be at Binance: look it up by client order id, do not resend it`,
          ctx.secrets,
          ctx.accountIds,
        ),
        {
          outcomeUnknown: true,
          retryable: false,
          venueCode: e.venueCode,
        },
      );
    return e;
  }
  const name = e instanceof Error ? e.name : '';
  const message = e instanceof Error ? e.message : String(e);
  const lineage = ccxtLineage(name);
  const status = ctx.http?.status;
  let body: z.infer<typeof BinanceErrorBodySchema> | undefined;
  if (ctx.http?.body !== undefined) {
    try {
      const parsed = BinanceErrorBodySchema.safeParse(JSON.parse(ctx.http.body));
      if (parsed.success) body = parsed.data;
    } catch {
      body = undefined;
    }
  }

  let reason: BrokerErrorReason | undefined;
  // 403 with no Binance error body: its web application firewall refused it (a rate limit or a blocked request),
  // before the API saw it.
  const waf = status === 403 && body === undefined;
  if (status === 429 || status === 418 || waf) reason = 'RATE_LIMITED';
  if (reason === undefined && body) reason = reasonForBinanceCode(body.code, body.msg);
  if (reason === undefined && status !== undefined) {
    if (status >= 500) reason = 'VENUE_UNAVAILABLE';
    else if (status === 401) reason = 'AUTHENTICATION';
    else if (status === 403) reason = 'PERMISSION_DENIED';
  }
  if (reason === undefined) reason = CCXT_REASON.find(([cls]) => lineage.includes(cls))?.[1];
  // Not a ccxt error at all: ccxt tripped over a reply it could not read (a TypeError in its parser).
  if (reason === undefined)
    reason =
      lineage.length > 0
        ? 'INTERNAL'
        : e instanceof TypeError || e instanceof SyntaxError
          ? 'BAD_RESPONSE'
          : 'INTERNAL';

  const notActed =
    status === 429 ||
    status === 418 ||
    waf ||
    (body !== undefined && NOT_ACTED_CODES.has(body.code)) ||
    (status === undefined && body === undefined && NOT_SENT.test(message));
  // Every 5xx, timeout, reset or unreadable reply to a submit or cancel: "the execution status is
  // UNKNOWN and could have been a success" (rest-api.md "HTTP Return Codes").
  const outcomeUnknown = ctx.mutating && UNKNOWN_OUTCOME.has(reason) && !notActed;
  const detail = body
    ? `${body.msg} (Binance code ${body.code}${status !== undefined ? `, HTTP ${status}` : ''})`
    : waf
      ? "HTTP 403 from Binance's web application firewall (too many requests, or a request it took for an attack; such a block usually lasts 5 minutes)"
      : message;
  const named = notActed ? retryAfterMs(ctx.http?.retryAfter) : undefined;
  const implied =
    named !== undefined || !notActed
      ? undefined
      : waf
        ? WAF_BAN_MS
        : status === 418
          ? IP_BAN_MIN_MS
          : body?.code === TOO_MANY_ORDERS
            ? orderCountIntervalMs(body.msg)
            : undefined;
  const suffix = outcomeUnknown
    ? '; the order may or may not be at Binance: look it up by client order id, do not resend it'
    : notActed
      ? '; Binance did not act on it'
      : '';
  const advice = body === undefined ? undefined : whatToDo(body.code, ctx.operation, body.msg);
  return new BrokerError(
    reason,
    scrub(
      `Binance ${ctx.operation} failed: ${detail}${suffix}${advice === undefined ? '' : `; ${advice}`}`,
      ctx.secrets,
      ctx.accountIds,
    ),
    {
      venueCode: waf ? 403 : (body?.code ?? status),
      retryAfterMs: named ?? implied,
      outcomeUnknown,
      notActed,
      // Nothing that may have taken effect is retried blindly; it is reconciled first.
      ...(outcomeUnknown ? { retryable: false } : notActed ? { retryable: true } : {}),
    },
  );
}
