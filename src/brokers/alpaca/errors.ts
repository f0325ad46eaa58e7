/**
 * Alpaca's refusals → `BrokerError` with a `reason` and `retryable`: an HTTP error answer (status and Alpaca
 * code), and anything else the SDK throws (a timeout, a connection that failed before or after sending).
 *
 * Error table (HTTP status + Alpaca code → BrokerError):
 * | status | code / message                                  | reason                      | retryable |
 * |--------|-------------------------------------------------|-----------------------------|-----------|
 * | 401    | any                                             | AUTHENTICATION              | no        |
 * | 403    | "insufficient buying power / qty / balance"     | INSUFFICIENT_FUNDS          | no        |
 * | 403    | other                                           | PERMISSION_DENIED (a submit: rejected) | no |
 * | 403    | a quote: the market-data plan does not cover the feed (Market Data FAQ) | PERMISSION_DENIED, saying so | no |
 * | 400/422| a quote: a parameter Alpaca's market data refused (a feed) | VENUE_UNAVAILABLE (not an order's fault) | no |
 * | 404    | order routes / quote and asset routes           | ORDER_NOT_FOUND / UNKNOWN_SYMBOL | no   |
 * | 404    | order routes: 40410000 (not "endpoint not found") or the message "order not found" alone: venueCode 40410000, no such order |
 * | 400/422| 40010001 "client_order_id must be unique"       | DUPLICATE_CLIENT_ORDER_ID   | no        |
 * | 400/422| "asset … not found" / "not tradable"            | UNKNOWN_SYMBOL              | no        |
 * | 422    | 42210000 sub-penny, and any other 400/422       | INVALID_ORDER               | no        |
 * | any    | no body (the SDK's "Response returned an error code"): the message says so and what Alpaca documents the status to mean there (`documentedMeaning`) | as above | |
 * | 429    | any (refused unprocessed: `notActed`, resent within the bound) | RATE_LIMITED (+ retryAfterMs) | yes |
 * | 5xx    | on a submit or cancel (502/503/504 included): outcomeUnknown | VENUE_UNAVAILABLE     | no (look it up) |
 * | 5xx    | any other request                               | VENUE_UNAVAILABLE           | yes       |
 * | 5xx    | with Retry-After (a 503's "how long the service is expected to be unavailable") | the same, + retryAfterMs | |
 *
 * A 5xx says nothing about whether Alpaca acted (RFC 9110 §15.6.3–5: a gateway's 502/504 least of
 * all), so a submit or cancel answered with one is an unknown outcome, resolved by client order id.
 */
import { BrokerError, type BrokerErrorReason } from '../errors';
import type { Sdk } from './connection';

export type AlpacaOperation = 'submit' | 'cancel' | 'order' | 'account' | 'quote' | 'asset';

export interface AlpacaHttpError {
  status: number;
  code?: number | string;
  message: string;
  retryAfterMs?: number;
}

/** Known Alpaca error codes. */
export const ALPACA_CODES = {
  invalidRequest: 40010001,
  forbidden: 40310000,
  patternDayTrading: 40310100,
  notFound: 40410000,
  subPenny: 42210000,
} as const;

/**
 * Whether a venue code is one of Alpaca's own (8 digits led by the HTTP status: 40310000, 42210000), i.e. the
 * answer carried Alpaca's error body and is not a bare status from a proxy or gateway.
 */
export function isAlpacaCode(code: string | number | undefined): boolean {
  return typeof code === 'number' && Number.isInteger(code) && code >= 10_000_000 && code < 100_000_000;
}

/**
 * Whether an error is Alpaca's own answer that there is no such order (see the 404 rows of the table): a 404
 * without it (a proxy's, a wrong path's "endpoint not found") proves nothing about the order.
 */
export function isNoSuchOrder(e: BrokerError): boolean {
  return (
    e.reason === 'ORDER_NOT_FOUND' && e.venueCode === ALPACA_CODES.notFound && !/endpoint not found/i.test(e.message)
  );
}

/**
 * What to do about a 403 refusal of an order, which Alpaca's message alone does not say. "Orders at Alpaca" →
 * "Buying Power": "your available buying power is reduced by your existing open buy long and sell short orders,
 * whereas your sell long and buy to cover orders do not replenish your available buying power until they have
 * executed", and a market buy is valued above the current price; "insufficient qty available for order
 * (requested: …, available: …)": the shares are not held, or open sell orders hold them; 40310100 "trade denied due
 * to pattern day trading protection": Alpaca's support page on pattern day trading (FINRA's rule: a margin account
 * under $25,000 of equity may make at most 3 day trades in 5 business days); 40310000 "potential wash trade detected.
 * use complex orders": "User Protection" → "Preventing Wash Trades at Alpaca" (an order that could trade against an
 * open order of the same account on the other side is rejected; crypto too).
 */
function refusalAdvice(code: number | string | undefined, text: string): string | undefined {
  if (code === ALPACA_CODES.patternDayTrading || /pattern day trading/i.test(text))
    return 'the order would be a day trade beyond what an account under $25,000 of equity may make (3 in 5 business days): wait, or trade without opening and closing the same day';
  if (/insufficient qty/i.test(text))
    return 'the account does not hold that many shares free to sell: open sell orders hold some, or they are not owned; cancel open sell orders or sell fewer';
  if (/wash trade/i.test(text))
    return 'an open order of this account on the other side of the same symbol could trade against this one, which Alpaca refuses (its wash-trade protection): cancel that order first, or send the two as one bracket or OCO order';
  if (/insufficient buying power/i.test(text))
    return "open buy orders take from Alpaca's buying power and a market buy is valued above the current price: trade fewer shares, or cancel open buy orders";
  return undefined;
}

/**
 * The SDK's own words when an error answer carries no message (`buildApiError`: an empty body, or one without
 * `message`): they say nothing Alpaca said.
 */
const SDK_NO_BODY = /^Response returned an error code \(HTTP \d+\)$/;

/**
 * What a status means on this endpoint, per Alpaca's API reference (alpacahq/alpaca-docs orders.yaml, the errors of
 * each route), for an answer that says nothing itself (an empty body).
 */
function documentedMeaning(status: number, op: AlpacaOperation): string | undefined {
  if (op === 'submit' && status === 403)
    return 'POST /v2/orders documents 403 as "Buying power or shares is not sufficient"';
  if (op === 'submit' && status === 422)
    return 'POST /v2/orders documents 422 as "Input parameters are not recognized" (a value of the order Alpaca refuses)';
  if (op === 'cancel' && status === 422)
    return 'DELETE /v2/orders/{order_id} documents 422 as "The order status is not cancelable" (filled, cancelled or expired already)';
  if ((op === 'cancel' || op === 'order') && status === 404)
    return 'the order routes document 404 as "Order is not found", but without Alpaca\'s body this may be a proxy\'s';
  return undefined;
}

/** The hint @alpacahq/alpaca-trade-api appends to a market-data 403's message (its own call options). */
const SDK_SIP_HINT = /\s*\(?Your account may not have SIP market-data access\..*$/s;

/** An HTTP error answer from Alpaca as a BrokerError (table at the top of this file). */
export function mapAlpacaError(e: AlpacaHttpError, op: AlpacaOperation): BrokerError {
  const code =
    e.code === undefined || e.code === '' ? undefined : Number.isNaN(Number(e.code)) ? e.code : Number(e.code);
  // A gateway's HTML page becomes the SDK's message: keep it short. The SDK's own hint on a market-data 403 names
  // its call options (`{ feed: "iex" }`), which a user of SPtrader has no way to pass: the advice below replaces it.
  const trimmed = e.message.replace(SDK_SIP_HINT, '').trim();
  // An answer with no body (or none the SDK could read a message from): say so, and what Alpaca documents the status
  // to mean on this endpoint, rather than the SDK's "Response returned an error code".
  const noBody = code === undefined && (trimmed === '' || SDK_NO_BODY.test(trimmed));
  const meaning = noBody ? documentedMeaning(e.status, op) : undefined;
  const text = noBody ? '' : trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed || `HTTP ${e.status}`;
  const shown = noBody
    ? `the answer had no body (no Alpaca error code or message)${meaning === undefined ? '' : `; ${meaning}`}`
    : text;
  const make = (
    reason: BrokerErrorReason,
    message: string,
    extra: {
      retryable?: boolean;
      retryAfterMs?: number;
      outcomeUnknown?: boolean;
      notActed?: boolean;
      venueCode?: number | string;
    } = {},
  ) => new BrokerError(reason, message, { venueCode: code ?? e.status, ...extra });
  const what = `Alpaca ${e.status}${code !== undefined ? ` (${code})` : ''}: ${shown}`;
  const s = e.status;
  if (s === 401)
    return make('AUTHENTICATION', `${what}; check the Alpaca key id and secret key (paper and live keys differ)`);
  if (s === 403 && op === 'quote')
    return make(
      'PERMISSION_DENIED',
      `${what}; Alpaca's market data refused the quote: the keys are wrong for the data host, or the account's market-data plan does not cover the feed asked for (SIP quotes of the last 15 minutes need a paid plan, Alpaca Market Data FAQ); the iex feed (the default) is free, delayed_sip is SIP 15 minutes behind`,
    );
  if (s === 403) {
    const advice = refusalAdvice(code, text);
    const said = advice === undefined ? what : `${what}; ${advice}`;
    if (/insufficient|buying power/i.test(text)) return make('INSUFFICIENT_FUNDS', said);
    return make('PERMISSION_DENIED', said);
  }
  if (s === 404) {
    if (op === 'quote' || op === 'asset') return make('UNKNOWN_SYMBOL', what);
    if (op === 'account') return make('AUTHENTICATION', `${what}; the account was not found for these keys`);
    // Alpaca's own answer that there is no such order: its code (not for a path it does not serve: "endpoint not
    // found"), or its message without the code. A 404 with neither (an empty body, a proxy's page) says nothing.
    const noSuchOrder =
      (code === ALPACA_CODES.notFound && !/endpoint/i.test(text)) ||
      (code === undefined && /^order not found\.?$/i.test(trimmed));
    return make('ORDER_NOT_FOUND', what, noSuchOrder ? { venueCode: ALPACA_CODES.notFound } : {});
  }
  if ((s === 400 || s === 422) && op === 'quote')
    return make(
      'VENUE_UNAVAILABLE',
      `${what}; Alpaca's market data refused the quote request (a feed or symbol it does not accept)`,
      { retryable: false },
    );
  if (s === 400 || s === 422) {
    if (
      /client_order_id must be unique/i.test(text) ||
      (code === ALPACA_CODES.invalidRequest && /client_order_id/i.test(text) && /unique|exist/i.test(text))
    )
      return make('DUPLICATE_CLIENT_ORDER_ID', what);
    if (code === ALPACA_CODES.subPenny) return make('INVALID_ORDER', what);
    if (/asset .*not (found|tradable|active)|could not find asset|not tradable/i.test(text))
      return make('UNKNOWN_SYMBOL', what);
    if (op === 'cancel') return make('INVALID_ORDER', noBody ? what : `${what}; the order can no longer be cancelled`);
    return make('INVALID_ORDER', what);
  }
  // Alpaca's rate limiter answers before the order is processed ("Rate limit", docs.alpaca.markets/docs/rate-limits).
  if (s === 429)
    return make('RATE_LIMITED', what, {
      retryable: true,
      notActed: true,
      ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }),
    });
  if (s >= 500) {
    // A 503 may say how long Alpaca will be away (RFC 9110 §10.2.3 Retry-After): the next look-up waits that long.
    const wait = e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs };
    if (op === 'submit' || op === 'cancel') {
      const what2 = op === 'submit' ? 'the order may have been placed' : 'the order may have been cancelled';
      return make(
        'VENUE_UNAVAILABLE',
        `${what}; this answer does not say whether Alpaca acted: ${what2}, look it up by client order id, do not resend`,
        {
          outcomeUnknown: true,
          retryable: false,
          ...wait,
        },
      );
    }
    return make('VENUE_UNAVAILABLE', what, wait);
  }
  return make('INTERNAL', what, { retryable: false });
}

/** Error codes of a connection that never reached the server: nothing was sent. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface SdkErrorContext {
  /** The SDK once loaded (its error classes); undefined before the first connect. */
  sdk: Sdk | undefined;
  timeoutMs: number;
  /** Secrets out, account ids masked. */
  redact: (text: string) => string;
}

/** Anything an Alpaca call threw as a redacted BrokerError: our own, the SDK's ApiError (an HTTP answer) or FetchError (no answer). */
export function toBrokerError(e: unknown, op: AlpacaOperation, ctx: SdkErrorContext): BrokerError {
  const redact = ctx.redact;
  if (e instanceof BrokerError) {
    const message = redact(e.message);
    if (message === e.message) return e;
    return new BrokerError(e.reason, message, {
      retryable: e.retryable,
      outcomeUnknown: e.outcomeUnknown,
      notActed: e.notActed,
      venueCode: e.venueCode,
      retryAfterMs: e.retryAfterMs,
    });
  }
  const sdk = ctx.sdk;
  const mutating = op === 'submit' || op === 'cancel';
  if (sdk && e instanceof sdk.ApiError) {
    const mapped = mapAlpacaError(
      { status: e.status, code: e.code, message: e.message, retryAfterMs: e.retryAfterMs },
      op,
    );
    return toBrokerError(mapped, op, ctx);
  }
  if (sdk && e instanceof sdk.FetchError) {
    const timedOut = errorChain(e).some((c) => c.name === 'TimeoutError' || c.name === 'AbortError');
    const neverSent = !timedOut && errorChain(e).some((c) => NOT_SENT_CODES.has(c.code ?? ''));
    const detail = redact(describeChain(e));
    if (timedOut) {
      const message = `Alpaca did not answer within ${ctx.timeoutMs} ms${mutating ? '; the request may have been applied' : ''}`;
      return new BrokerError('TIMEOUT', message, { outcomeUnknown: mutating, retryable: !mutating });
    }
    if (neverSent)
      return new BrokerError('NETWORK', `could not reach Alpaca (${detail}); nothing was sent`, {
        retryable: true,
        notActed: true,
      });
    const message = `the connection to Alpaca failed (${detail})${mutating ? '; the request may have been applied' : ''}`;
    return new BrokerError('NETWORK', message, { outcomeUnknown: mutating, retryable: !mutating });
  }
  const message = redact(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  return new BrokerError('INTERNAL', `Alpaca SDK failed: ${message}`, { outcomeUnknown: mutating, retryable: false });
}

interface ChainLink {
  name: string;
  message: string;
  code?: string;
}

function errorChain(e: unknown): ChainLink[] {
  const out: ChainLink[] = [];
  let cur: unknown = e;
  for (let depth = 0; depth < 6 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    out.push({ name: cur.name, message: cur.message, code: typeof code === 'string' ? code : undefined });
    cur = cur.cause;
  }
  return out;
}

function describeChain(e: unknown): string {
  return errorChain(e)
    .slice(1)
    .map((c) => (c.code ? `${c.code}: ${c.message}` : c.message))
    .filter((m) => m.length > 0)
    .join(' ← ');
}
