/**
 * The connection to OANDA v20: the session (token, account URL, headers), a client-side limit on requests per
 * second, and one HTTP exchange over the keep-alive client (`../http.ts`, which enforces the timeout), resent
 * only after an answer proving OANDA did nothing; failures become `BrokerError`s (errors.ts), redacted.
 */
import { monotonicMs, type Clock } from '../../common/clock';
import { KeepAliveClient, RequestTimeoutError } from '../http';
import { withRetries, type RetriedRequest, type RetryPolicy } from '../retry';
import { maskAccountIds, redactValues } from '../credentials';
import { BrokerError, type BrokerErrorReason } from '../errors';
import { httpError } from './errors';

export const OANDA_PRACTICE_URL = 'https://api-fxpractice.oanda.com';
export const OANDA_LIVE_URL = 'https://api-fxtrade.oanda.com';

/** Keeps at most `max` requests in any rolling second. */
export class RequestLimiter {
  /** Send times of the last second's requests, oldest first, from `head` on (a queue without shifting). */
  private sent: number[] = [];
  private head = 0;
  constructor(
    private readonly max: number,
    private readonly now: () => number = monotonicMs,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async take(): Promise<void> {
    for (;;) {
      const wait = this.tryTake();
      if (wait === 0) return;
      await this.sleep(wait);
    }
  }

  /** Takes a slot now and returns 0, or returns how many ms to wait before trying again. */
  tryTake(): number {
    if (!(this.max > 0) || !Number.isFinite(this.max)) return 0;
    const now = this.now();
    const sent = this.sent;
    while (this.head < sent.length && now - (sent[this.head] as number) >= 1000) this.head++;
    if (this.head > 64 && this.head * 2 > sent.length) {
      this.sent = sent.slice(this.head);
      this.head = 0;
    }
    if (this.sent.length - this.head < this.max) {
      this.sent.push(now);
      return 0;
    }
    return 1000 - (now - (this.sent[this.head] as number)) + 1;
  }
}

export interface Session {
  token: string;
  accountId: string;
  /** `{baseUrl}/v3/accounts/{accountId}`. */
  accountUrl: string;
  /** The same for every request of the session. */
  headers: Record<string, string>;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  /** Below /v3/accounts/{id}, with its query. */
  path: string;
  /** The route for messages and counting ("GET /orders/{spec}"). */
  route: string;
  body?: unknown;
  /** Changes state at the venue: a lost reply leaves the outcome unknown. */
  mutating?: boolean;
  notFound?: BrokerErrorReason;
  badRequest?: BrokerErrorReason;
}

export interface Reply {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/**
 * What a request does, for the message when its retries give up: a GET reads, PUT …/cancel cancels, and the rest
 * (POST /orders, a replacing PUT /orders/{spec}) would have placed an order.
 */
function retriedRequest(spec: RequestSpec): RetriedRequest {
  if (spec.method === 'GET') return 'read';
  return /\/cancel(\?|$)/.test(spec.path) ? 'cancel' : 'submit';
}

/** Connection errors raised before the request left this machine: nothing reached OANDA. */
const BEFORE_SENDING = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
]);

/** The session of one account at `baseUrl` (without /v3). */
export function sessionFor(baseUrl: string, token: string, accountId: string): Session {
  return {
    token,
    accountId,
    accountUrl: `${baseUrl}/v3/accounts/${encodeURIComponent(accountId)}`,
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Accept-Datetime-Format': 'RFC3339',
    },
  };
}

export interface V20ConnectionOptions {
  /** For messages ("OANDA (practice)"). */
  displayName: string;
  timeoutMs: number;
  maxRequestsPerSecond: number;
  retry: RetryPolicy | undefined;
  clock: Clock;
}

/** Requests to one account, once `open`ed with its session. */
export class V20Connection {
  private readonly http = new KeepAliveClient();
  private readonly limiter: RequestLimiter;
  private readonly displayName: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private session: Session | undefined;

  constructor(private readonly options: V20ConnectionOptions) {
    this.displayName = options.displayName;
    this.timeoutMs = options.timeoutMs;
    this.clock = options.clock;
    this.limiter = new RequestLimiter(options.maxRequestsPerSecond);
  }

  open(session: Session): void {
    this.session = session;
  }

  /** Forgets the session (a connect that failed its check); the sockets stay for the next one. */
  forget(): void {
    this.session = undefined;
  }

  close(): void {
    this.session = undefined;
    this.http.close();
  }

  /** The token out, the account id masked to its last four characters (as is and URL-encoded, as in paths). */
  redact(text: string): string {
    return maskAccountIds(redactValues(text, [this.session?.token]), [this.session?.accountId]);
  }

  /** A non-2xx reply as a BrokerError, redacted. */
  failure(spec: RequestSpec, reply: Reply): BrokerError {
    return httpError(
      {
        status: reply.status,
        // The body becomes the error's cause: redact it too (a venue may echo a header).
        body: reply.body === undefined ? undefined : (JSON.parse(this.redact(JSON.stringify(reply.body))) as unknown),
        retryAfter: reply.retryAfter,
        route: spec.route,
        notFound: spec.notFound ?? 'ORDER_NOT_FOUND',
        ...(spec.badRequest ? { badRequest: spec.badRequest } : {}),
        mutating: spec.mutating ?? false,
        now: this.clock.now(),
      },
      (s) => this.redact(s),
    );
  }

  /** `send`, throwing on anything but 2xx. */
  async request(spec: RequestSpec): Promise<unknown> {
    const reply = await this.sendRetrying(spec);
    if (reply.status < 200 || reply.status >= 300) throw this.failure(spec, reply);
    return reply.body;
  }

  /**
   * `send`, again after an answer proving OANDA did nothing (429, a refused connection), within the
   * retry bound; the 429 that ends the bound is thrown (RATE_LIMITED, retryable, notActed).
   */
  sendRetrying(spec: RequestSpec): Promise<Reply> {
    return withRetries(
      async () => {
        const reply = await this.send(spec);
        if (reply.status === 429) throw this.failure(spec, reply);
        return reply;
      },
      this.options.retry,
      retriedRequest(spec),
    );
  }

  /** One HTTP exchange; throws only when no complete reply arrived (or a 2xx body is not JSON). */
  private async send(spec: RequestSpec): Promise<Reply> {
    const session = this.session;
    if (!session)
      throw new BrokerError('NOT_CONNECTED', `not connected to ${this.displayName}: call connect() first`, {
        retryable: false,
      });
    const wait = this.limiter.tryTake();
    if (wait > 0) await this.limiter.take();
    const mutating = spec.mutating ?? false;
    let status: number;
    let retryAfter: string | null;
    let text: string;
    try {
      const response = await this.http.exchange(`${session.accountUrl}${spec.path}`, {
        method: spec.method,
        headers: session.headers,
        ...(spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
        timeoutMs: this.timeoutMs,
      });
      status = response.status;
      const ra = response.headers['retry-after'];
      retryAfter = typeof ra === 'string' ? ra : null;
      text = response.text;
    } catch (e) {
      throw this.networkError(spec, e, e instanceof RequestTimeoutError, mutating);
    }
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        if (status >= 200 && status < 300)
          throw new BrokerError(
            'BAD_RESPONSE',
            this.redact(
              `OANDA answered ${spec.route} with HTTP ${status} and a body that is not JSON${mutating ? '; the request was accepted, so look the order up by client order id' : ''}`,
            ),
            { outcomeUnknown: mutating, retryable: false },
          );
        body = text;
      }
    }
    return { status, body, retryAfter };
  }

  private networkError(spec: RequestSpec, e: unknown, timedOut: boolean, mutating: boolean): BrokerError {
    const codes = errorCodes(e);
    const detail = this.redact(errorText(e));
    if (timedOut)
      return new BrokerError(
        'TIMEOUT',
        `no answer from OANDA to ${spec.route} within ${this.timeoutMs} ms${mutating ? '; it may have been carried out: look the order up by client order id, do not resend' : ''}`,
        { outcomeUnknown: mutating, retryable: !mutating, cause: e },
      );
    if (codes.some((c) => BEFORE_SENDING.has(c)))
      return new BrokerError('NETWORK', `could not reach OANDA for ${spec.route} (nothing was sent): ${detail}`, {
        retryable: true,
        notActed: true,
        cause: e,
      });
    return new BrokerError(
      'NETWORK',
      `the connection to OANDA failed during ${spec.route}: ${detail}${mutating ? '; it may have been carried out: look the order up by client order id, do not resend' : ''}`,
      { outcomeUnknown: mutating, retryable: !mutating, cause: e },
    );
  }
}

/** `code` of the error and its causes (undici wraps socket errors in TypeError('fetch failed')). */
function errorCodes(e: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    const code = (cur as Error & { code?: unknown }).code;
    if (typeof code === 'string') out.push(code);
    cur = cur.cause;
  }
  return out;
}

function errorText(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    parts.push(cur.message);
    cur = cur.cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(e);
}
