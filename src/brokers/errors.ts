/**
 * Errors from venues form a taxonomy: callers decide on `reason` and `retryable`, never on
 * message text. `outcomeUnknown` marks a request that may have reached the venue (a timeout or
 * a dropped connection after sending): such an order must be reconciled by client order id,
 * never resubmitted blindly. `notActed` marks the opposite: an answer that proves the venue did not
 * act on the request (a 429, a refused connection, Binance -1021), so sending it again cannot make a
 * second order; only such errors are ever resent, and only within a bound (`./retry.ts` `withRetries`).
 */
export type BrokerErrorReason =
  | 'NOT_CONNECTED'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'AUTHENTICATION'
  | 'PERMISSION_DENIED'
  | 'INSUFFICIENT_FUNDS'
  | 'INVALID_ORDER'
  | 'UNSUPPORTED_ORDER'
  | 'ORDER_NOT_FOUND'
  | 'DUPLICATE_CLIENT_ORDER_ID'
  | 'RATE_LIMITED'
  | 'VENUE_UNAVAILABLE'
  | 'BAD_RESPONSE'
  | 'UNKNOWN_SYMBOL'
  | 'INTERNAL';

export interface BrokerErrorOptions {
  retryable?: boolean;
  outcomeUnknown?: boolean;
  /** The venue provably did not act on the request (never with `outcomeUnknown`). */
  notActed?: boolean;
  venueCode?: string | number;
  retryAfterMs?: number;
  cause?: unknown;
}

export class BrokerError extends Error {
  readonly reason: BrokerErrorReason;
  readonly retryable: boolean;
  readonly outcomeUnknown: boolean;
  readonly notActed: boolean;
  readonly venueCode: string | number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(reason: BrokerErrorReason, message: string, options: BrokerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrokerError';
    this.reason = reason;
    this.retryable = options.retryable ?? DEFAULT_RETRYABLE.has(reason);
    this.outcomeUnknown = options.outcomeUnknown ?? false;
    this.notActed = !this.outcomeUnknown && (options.notActed ?? false);
    this.venueCode = options.venueCode;
    this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      reason: this.reason,
      message: this.message,
      retryable: this.retryable,
      outcomeUnknown: this.outcomeUnknown,
      notActed: this.notActed,
      venueCode: this.venueCode,
    };
  }
}

const DEFAULT_RETRYABLE: ReadonlySet<BrokerErrorReason> = new Set([
  'NETWORK',
  'TIMEOUT',
  'RATE_LIMITED',
  'VENUE_UNAVAILABLE',
]);

export function isBrokerError(e: unknown): e is BrokerError {
  return e instanceof BrokerError;
}
