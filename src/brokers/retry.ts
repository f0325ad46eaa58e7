/**
 * The bounded resending of requests a venue provably did not act on, shared by the REST venues.
 */
import { BrokerError } from './errors';

/**
 * How a request the venue refused unprocessed (`BrokerError.notActed`: a 429 or 418, a refused
 * connection, Binance -1021) is sent again. Nothing else is ever resent: an answer that does not
 * prove the venue did nothing (5xx, a reset after sending, a timeout, an unreadable 2xx) leaves the
 * outcome unknown, and the caller looks the order up by client order id instead (RFC 9110 §9.2.2:
 * a client SHOULD NOT retry a non-idempotent request unless it knows the first was never applied).
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 3; 1 turns resending off). */
  maxAttempts?: number;
  /**
   * No attempt starts later than this after the first one did (default 5000 ms). A Retry-After that
   * would pass it ends the retries at once. Binance's `absenceConclusiveAfterMs` counts on this bound.
   */
  maxTotalMs?: number;
  /**
   * Wait before the second attempt (doubled for each further one; default 250 ms): the whole wait when the
   * venue names none, else the least one, when the venue's is shorter.
   */
  baseDelayMs?: number;
  /** Waits `ms`. Tests pass one that records the delay; the default is a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock the bound is measured on (default `performance.now`). */
  now?: () => number;
}

/**
 * What the resent request would have done, for the message when the retries give up: a submit that was
 * never acted on placed nothing, a cancel left the order working, a read only went unanswered.
 */
export type RetriedRequest = 'submit' | 'cancel' | 'read';

export const DEFAULT_RETRY_POLICY: Readonly<Required<Pick<RetryPolicy, 'maxAttempts' | 'maxTotalMs' | 'baseDelayMs'>>> =
  Object.freeze({
    maxAttempts: 3,
    maxTotalMs: 5000,
    baseDelayMs: 250,
  });

/**
 * A Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) in ms from `nowMs`
 * (epoch ms, for the date form); undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | readonly string[] | null | undefined, nowMs: number): number | undefined {
  const value: string | null | undefined = typeof header === 'string' || header == null ? header : header[0];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Runs `attempt` until it succeeds, throws something other than a retryable `notActed` BrokerError,
 * or the policy's bound is reached. Waits the venue's Retry-After when it gave one, never less than the
 * exponential backoff. When the bound is reached the last error is thrown as a retryable BrokerError (never a
 * rejection) saying how many attempts were made and what that left (`request`: nothing placed, an order still
 * working, a read unanswered).
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy = {},
  request: RetriedRequest = 'read',
): Promise<T> {
  const maxAttempts = Math.max(1, policy.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts);
  const maxTotalMs = policy.maxTotalMs ?? DEFAULT_RETRY_POLICY.maxTotalMs;
  const baseDelayMs = policy.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs;
  const now = policy.now ?? (() => performance.now());
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!(e instanceof BrokerError) || !e.notActed || !e.retryable) throw e;
      // Never sooner than the backoff: a wait of 0 (Retry-After: 0, or a reset time already past by our clock,
      // which runs a little ahead of the venue's) would resend at once, again and again.
      const delay = Math.max(e.retryAfterMs ?? 0, baseDelayMs * 2 ** (n - 1));
      const elapsed = now() - started;
      if (n >= maxAttempts || elapsed + delay > maxTotalMs) throw exhausted(e, n, delay, maxTotalMs - elapsed, request);
      await sleep(delay);
    }
  }
}

/** What a request the venue never acted on left, and what the trader can do (by `RetriedRequest`). */
const NOT_DONE: Readonly<Record<RetriedRequest, string>> = {
  submit: 'nothing was placed',
  cancel: 'the order was not cancelled and may still be working',
  read: 'the venue did not answer',
};

function exhausted(
  e: BrokerError,
  attempts: number,
  delay: number,
  leftMs: number,
  request: RetriedRequest,
): BrokerError {
  const why =
    delay > leftMs
      ? `the venue asked to wait ${Math.ceil(delay)} ms, past the retry bound`
      : `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const again = request === 'cancel' ? 'cancel it again later' : 'try again later';
  return new BrokerError(e.reason, `${e.message}; ${NOT_DONE[request]} (${why}): ${again}`, {
    retryable: true,
    notActed: true,
    venueCode: e.venueCode,
    retryAfterMs: e.retryAfterMs ?? delay,
    cause: e,
  });
}
