/**
 * OANDA's refusals → `BrokerError` with a `reason` and `retryable`: the error body of a v20 reply, its
 * errorCode or rejectReason, and the HTTP status.
 *
 * Error table (HTTP status + errorCode/rejectReason → BrokerError):
 * Error table (HTTP status + errorCode/rejectReason → BrokerError):
 * | status | errorCode / rejectReason                              | reason                       | retryable |
 * |--------|-------------------------------------------------------|------------------------------|-----------|
 * | 400    | CLIENT_ORDER_ID_ALREADY_EXISTS                        | DUPLICATE_CLIENT_ORDER_ID    | no        |
 * | 400    | INSUFFICIENT_MARGIN, INSUFFICIENT_FUNDS, MARGIN_…     | INSUFFICIENT_FUNDS           | no        |
 * | 400    | INSTRUMENT_UNKNOWN/MISSING/NOT_TRADEABLE, INVALID_…   | UNKNOWN_SYMBOL               | no        |
 * | 400/404| ORDER_DOESNT_EXIST, ORDER_ID_INVALID                  | ORDER_NOT_FOUND              | no        |
 * | 400    | ACCOUNT_LOCKED, ACCOUNT_NOT_ACTIVE, ACCOUNT_…_LOCKED  | PERMISSION_DENIED            | no        |
 * | 400    | MARKET_HALTED, INTERNAL_SERVER_ERROR                  | VENUE_UNAVAILABLE            | yes       |
 * | 400    | anything else (TIME_IN_FORCE_INVALID, *_PRECISION_…)  | INVALID_ORDER                | no        |
 * | 401    | any                                                   | AUTHENTICATION               | no        |
 * | 403    | any                                                   | PERMISSION_DENIED            | no        |
 * | 404    | order routes / other routes                           | ORDER_NOT_FOUND / PERMISSION_DENIED (account) | no |
 * | 405    | any                                                   | INTERNAL (our bug)           | no        |
 * | 429    | any (refused unprocessed: `notActed`, resent within the bound) | RATE_LIMITED + retryAfterMs | yes |
 * | 5xx    | a submit or cancel (500, 502, 503, 504, …): outcomeUnknown | VENUE_UNAVAILABLE        | no (look it up) |
 * | 5xx    | any other request                                     | VENUE_UNAVAILABLE            | yes       |
 *
 * Every 5xx, a plain 500 included, leaves a submit or cancel unknown: RFC 9110 §15.6 gives no 5xx the
 * meaning "not applied", and OANDA documents none either (its spec lists only 4xx error responses).
 */
import { z } from 'zod';
import { BrokerError, type BrokerErrorReason } from '../errors';
import { retryAfterMs as retryAfterHeaderMs } from '../retry';

/** The body of a v20 error reply: every field optional, since it is read to explain a failure. */
export const V20ErrorSchema = z.looseObject({
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  orderRejectTransaction: z
    .looseObject({ id: z.string().optional(), type: z.string().optional(), rejectReason: z.string().optional() })
    .optional(),
  orderCancelRejectTransaction: z.looseObject({ rejectReason: z.string().optional() }).optional(),
});
export type V20ErrorBody = z.output<typeof V20ErrorSchema>;

export function readErrorBody(raw: unknown): V20ErrorBody {
  const parsed = V20ErrorSchema.safeParse(raw);
  return parsed.success ? parsed.data : {};
}

/** The reject reason of a refused order, or undefined when the reply carries no reject transaction. */
export function rejectReasonOf(body: V20ErrorBody): string | undefined {
  if (!body.orderRejectTransaction) return undefined;
  return body.orderRejectTransaction.rejectReason ?? body.errorCode ?? 'REJECTED';
}

const CODE_TABLE: ReadonlyArray<[RegExp, BrokerErrorReason, boolean]> = [
  [/^CLIENT_ORDER_ID_ALREADY_EXISTS$/, 'DUPLICATE_CLIENT_ORDER_ID', false],
  [/^(INSUFFICIENT_MARGIN|INSUFFICIENT_FUNDS|MARGIN_.*|.*_MARGIN_.*)$/, 'INSUFFICIENT_FUNDS', false],
  [/^(INSTRUMENT_.*|INVALID_INSTRUMENT|.*_INSTRUMENT_NOT_TRADEABLE)$/, 'UNKNOWN_SYMBOL', false],
  [/^(ORDER_DOESNT_EXIST|ORDER_ID_INVALID|ORDER_ID_UNSPECIFIED|NO_SUCH_ORDER)$/, 'ORDER_NOT_FOUND', false],
  [/^ACCOUNT_(NOT_ACTIVE|LOCKED|.*_LOCKED)$/, 'PERMISSION_DENIED', false],
  [/^(MARKET_HALTED|INTERNAL_SERVER_ERROR)$/, 'VENUE_UNAVAILABLE', true],
];

/** An errorCode or rejectReason as our reason; anything unlisted is INVALID_ORDER (the request itself was wrong). */
export function classifyV20Code(code: string | undefined): { reason: BrokerErrorReason; retryable: boolean } {
  if (code !== undefined)
    for (const [re, reason, retryable] of CODE_TABLE) if (re.test(code)) return { reason, retryable };
  return { reason: 'INVALID_ORDER', retryable: false };
}

/** Retry-After (seconds or an HTTP date) in ms; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number {
  if (header) {
    const s = Number(header);
    if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  return 1000;
}

export interface HttpFailure {
  status: number;
  body: unknown;
  retryAfter?: string | null;
  /** "POST /orders", for the message. */
  route: string;
  /** What a 404 means on this route. */
  notFound: BrokerErrorReason;
  /** What a 400 without errorCode means on this route (e.g. UNKNOWN_SYMBOL for /pricing). */
  badRequest?: BrokerErrorReason;
  /** The request changes state (submit, cancel): any 5xx leaves its outcome unknown. */
  mutating: boolean;
  now: number;
}

/**
 * A reply without OANDA's error form (`errorMessage`, v20 "Error Response"), said as what it was: a proxy's page,
 * nothing, or JSON of another shape (its first 200 characters), so the user sees what came back.
 */
function notOandasError(body: unknown): string {
  if (body === undefined || body === null || body === '') return 'an empty reply, no errorMessage';
  if (typeof body === 'string') return body.slice(0, 200);
  let text: string;
  try {
    text = JSON.stringify(body) ?? typeof body;
  } catch {
    text = typeof body;
  }
  return `a reply without OANDA's errorMessage: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** An HTTP failure as a BrokerError (see the error table). The caller redacts the message. */
export function httpError(f: HttpFailure, redact: (s: string) => string = (s) => s): BrokerError {
  const body = readErrorBody(f.body);
  const code =
    body.orderRejectTransaction?.rejectReason ?? body.orderCancelRejectTransaction?.rejectReason ?? body.errorCode;
  const detail = redact(body.errorMessage ?? notOandasError(f.body));
  const head = `OANDA refused ${f.route} (HTTP ${f.status}${code ? ` ${code}` : ''}): ${detail}`;
  const opts = { venueCode: code ?? f.status, cause: f.body };
  if (f.status === 401)
    return new BrokerError(
      'AUTHENTICATION',
      `${head}; check the OANDA token (oanda.token) and that it belongs to this environment (practice or live)`,
      opts,
    );
  if (f.status === 403)
    return new BrokerError(
      'PERMISSION_DENIED',
      `${head}; check the account id (oanda.accountId) and the token's access to it`,
      opts,
    );
  if (f.status === 429)
    return new BrokerError('RATE_LIMITED', head, {
      ...opts,
      retryable: true,
      notActed: true,
      retryAfterMs: retryAfterMs(f.retryAfter, f.now),
    });
  if (f.status >= 500) {
    const unknown = f.mutating;
    const tail = unknown
      ? '; this answer does not say whether OANDA acted: the request may have been carried out, look the order up by client order id, do not resend'
      : '';
    // A 503 may say how long OANDA will be away (RFC 9110 §10.2.3 Retry-After): the next look-up waits that long.
    const wait = retryAfterHeaderMs(f.retryAfter, f.now);
    return new BrokerError('VENUE_UNAVAILABLE', `${head}${tail}`, {
      ...opts,
      retryable: !unknown,
      outcomeUnknown: unknown,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    });
  }
  if (f.status === 404) {
    const c = code === undefined ? undefined : classifyV20Code(code);
    return new BrokerError(c && c.reason !== 'INVALID_ORDER' ? c.reason : f.notFound, head, {
      ...opts,
      retryable: false,
    });
  }
  if (f.status === 405) return new BrokerError('INTERNAL', head, { ...opts, retryable: false });
  const c = code === undefined ? { reason: f.badRequest ?? 'INVALID_ORDER', retryable: false } : classifyV20Code(code);
  return new BrokerError(c.reason, head, { ...opts, retryable: c.retryable });
}

/** A 404 that is OANDA saying the order does not exist (not a proxy's page, not another resource missing). */
export function orderDoesNotExist(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const code = (body as { errorCode?: unknown }).errorCode;
  return code === undefined || code === 'ORDER_DOESNT_EXIST' || code === 'NO_SUCH_ORDER' || code === 'ORDER_ID_INVALID';
}

/**
 * What an OrderCancelReason that refused an order on arrival means and what to do about it: the 201 reply carries
 * the reason alone (no errorMessage, unlike a 400), so the user would read a bare code. Reasons are the v20
 * OrderCancelReason enum (oanda/v20-openapi json/v20.json; developer.oanda.com/rest-live-v20/order-df/); the code
 * stays first, so what OANDA said is kept as it said it.
 */
const REFUSALS: ReadonlyArray<[RegExp, string]> = [
  [
    /^INSUFFICIENT_MARGIN$/,
    "the account's available margin does not cover this order: trade fewer units, or add funds",
  ],
  [
    /^(MARKET_HALTED|INSTRUMENT_(BID|ASK)_HALTED)$/,
    'trading in this instrument was halted (a closed or paused market): send it again when the market is open',
  ],
  [
    /^INSTRUMENT_(BID|ASK)_REDUCE_ONLY$/,
    'this side of the instrument takes only orders that reduce a position for now: it cannot open or add to one',
  ],
  [
    /^(POSITION_SIZE_EXCEEDED|ACCOUNT_POSITION_VALUE_LIMIT_EXCEEDED)$/,
    "the order would take the position past the account's limit: trade fewer units",
  ],
  [
    /^(OPEN_TRADES|PENDING_ORDERS)_ALLOWED_EXCEEDED$/,
    'the account has as many open trades or pending orders as it may',
  ],
  [
    /^FIFO_VIOLATION$/,
    'the account must close its oldest trade in this instrument first (FIFO): reduce the position before opening another',
  ],
  [/^ACCOUNT_.*LOCKED$/, 'OANDA has locked the account against this: see its status with OANDA'],
];

export function explainRefusal(reason: string): string {
  const found = REFUSALS.find(([re]) => re.test(reason));
  return found === undefined ? reason : `${reason}: ${found[1]}`;
}

export const unknownSymbol = (symbol: string): BrokerError =>
  new BrokerError(
    'UNKNOWN_SYMBOL',
    `OANDA does not list ${symbol} for this account (OANDA names instruments like EUR_USD, USD_JPY, XAU_USD)`,
    {
      retryable: false,
    },
  );
