/**
 * One HTTP exchange over a keep-alive agent (`node:http` / `node:https`). REST adapters use this
 * rather than the global `fetch`: on loopback it costs about a third of `fetch`'s round trip
 * (`../shared/reference/performance.md` §8), it reuses one connection per venue, and its errors keep
 * the socket's `code` (ECONNREFUSED before sending, ECONNRESET after), which decides whether an
 * order's outcome is unknown.
 *
 * Per request it does as little as it can, since an adapter's overhead is measured against a bare
 * `node:http` POST (`bench/adapters.bench.ts`): origins are parsed once, and deadlines share one
 * timer per client instead of an AbortController and a timer per request.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BrokerError } from './errors';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface ExchangeInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Aborts the exchange; it then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Deadline for the whole exchange (connection, headers and body); it then rejects with `RequestTimeoutError`. */
  timeoutMs?: number;
}

/** No complete reply within the deadline. The request may have reached the venue: for an order, the outcome is unknown. */
export class RequestTimeoutError extends Error {
  // The name fetch gives a deadline (`AbortSignal.timeout`), which the SDKs and ccxt recognise.
  override readonly name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(readonly timeoutMs: number) {
    super(`no complete reply within ${timeoutMs} ms`);
  }
}

interface Origin {
  secure: boolean;
  protocol: string;
  hostname: string;
  port: string;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface InFlight {
  deadline: number;
  expire(): void;
}

/** Characters a request target may carry as is; anything else (spaces, `#`, non-ASCII) goes through `URL`. */
const PLAIN_PATH = /^\/[\x21-\x22\x24-\x7e]*$/;
const ORIGINS_KEPT = 16;

export class KeepAliveClient {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 16 });
  private readonly origins = new Map<string, Origin>();
  /** Exchanges with a deadline, watched by one timer armed for the earliest of them. */
  private readonly inFlight = new Set<InFlight>();
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogAt = Number.POSITIVE_INFINITY;

  /** One exchange, its body read as UTF-8. Rejects only when no complete reply arrived. */
  exchange(url: string, init: ExchangeInit): Promise<HttpReply> {
    return new Promise<HttpReply>((resolve, reject) => {
      this.start(
        url,
        init,
        (status, headers, body) => resolve({ status, headers, text: body.toString('utf8') }),
        reject,
      );
    });
  }

  /** One exchange, its body as bytes. Rejects only when no complete reply arrived. */
  send(url: string, init: ExchangeInit): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.start(url, init, (status, headers, body) => resolve({ status, headers, body }), reject);
    });
  }

  /** Sends the request; exactly one of `done` and `fail` is called, once. */
  private start(
    url: string,
    init: ExchangeInit,
    done: (status: number, headers: IncomingHttpHeaders, body: Buffer) => void,
    failed: (e: Error) => void,
  ): void {
    let origin: Origin;
    let path: string;
    try {
      [origin, path] = this.target(url);
    } catch (e) {
      failed(e as Error);
      return;
    }
    const signal = init.signal;
    if (signal?.aborted) {
      failed(abortError(signal));
      return;
    }
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    let settled = false;
    let req: ClientRequest | undefined = undefined;
    let watched: InFlight | undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (watched) this.inFlight.delete(watched);
      if (signal) signal.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (e: unknown): void => {
      if (finish()) failed(e as Error);
    };
    const onAbort = (): void => {
      fail(abortError(signal as AbortSignal));
      req?.destroy();
    };
    try {
      req = (origin.secure ? httpsRequest : httpRequest)(
        {
          protocol: origin.protocol,
          hostname: origin.hostname,
          port: origin.port,
          path,
          method: init.method,
          headers,
          agent: origin.secure ? this.https : this.http,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (finish())
              done(
                res.statusCode ?? 0,
                res.headers,
                chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
              );
          });
          res.on('error', fail);
          res.on('aborted', () =>
            fail(
              Object.assign(new Error('the connection closed before the reply was complete'), { code: 'ECONNRESET' }),
            ),
          );
        },
      );
    } catch (e) {
      // Invalid headers or method: thrown before anything was sent.
      fail(e);
      return;
    }
    req.on('error', fail);
    if (init.timeoutMs !== undefined && Number.isFinite(init.timeoutMs)) {
      const timeoutMs = init.timeoutMs;
      const request = req;
      watched = {
        deadline: performance.now() + timeoutMs,
        expire: () => {
          fail(new RequestTimeoutError(timeoutMs));
          request.destroy();
        },
      };
      this.watch(watched);
    }
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    req.end(init.body);
  }

  /** Destroys the sockets: exchanges still in flight fail as their connection does (deadlines keep running). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  /** The parsed origin (cached) and the request target of `url`. */
  private target(url: string): [Origin, string] {
    const scheme = url.indexOf('://');
    const slash = scheme < 0 ? -1 : url.indexOf('/', scheme + 3);
    const originText = slash < 0 ? url : url.slice(0, slash);
    const path = slash < 0 ? '/' : url.slice(slash);
    let origin = this.origins.get(originText);
    if (origin === undefined) {
      const parsed = new URL(originText);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
        throw new TypeError(`unsupported protocol ${parsed.protocol}`);
      if (
        parsed.username !== '' ||
        parsed.password !== '' ||
        parsed.search !== '' ||
        parsed.hash !== '' ||
        parsed.pathname !== '/'
      ) {
        // Not a bare origin: let URL read the whole thing.
        const whole = new URL(url);
        return [originOf(whole), `${whole.pathname}${whole.search}`];
      }
      origin = originOf(parsed);
      if (this.origins.size >= ORIGINS_KEPT) this.origins.clear();
      this.origins.set(originText, origin);
    }
    if (PLAIN_PATH.test(path)) return [origin, path];
    const whole = new URL(url);
    return [origin, `${whole.pathname}${whole.search}`];
  }

  private watch(f: InFlight): void {
    this.inFlight.add(f);
    if (f.deadline < this.watchdogAt) this.arm(f.deadline);
  }

  private arm(at: number): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdogAt = at;
    this.watchdog = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(at - performance.now())));
    // A pending exchange keeps its socket (and so the process) alive; the watchdog alone must not.
    this.watchdog.unref();
  }

  /** Expires what is past its deadline and re-arms for the earliest of the rest. */
  private sweep(): void {
    this.watchdog = undefined;
    this.watchdogAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const f of [...this.inFlight]) {
      if (f.deadline <= now) {
        this.inFlight.delete(f);
        f.expire();
      } else if (f.deadline < next) next = f.deadline;
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
  }
}

function originOf(u: URL): Origin {
  return { secure: u.protocol === 'https:', protocol: u.protocol, hostname: u.hostname, port: u.port };
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

export interface KeepAliveFetchOptions {
  /**
   * Deadline per exchange, enforced here (`RequestTimeoutError`, named TimeoutError as fetch names
   * one). Lets an SDK run without its own per-request AbortController and timer.
   */
  timeoutMs?: number;
  /** Rewrites each URL before it is sent (a fake venue or a proxy in place of the SDK's fixed hosts). */
  rewriteUrl?: (url: string) => string;
}

/**
 * A `fetch` over a `KeepAliveClient`, for SDKs that take a fetch implementation (Alpaca's `fetchApi`,
 * ccxt's `fetchImplementation`). Socket errors keep their `code` (ECONNREFUSED, ECONNRESET) on the
 * thrown error's `cause`, as undici's fetch does; a deadline rejects with a TimeoutError, an abort
 * with the signal's reason or an AbortError.
 *
 * It resolves with a `WireResponse`: the part of `Response` those clients read (status, headers,
 * text/json/arrayBuffer, a body stream made on demand, clone), over the bytes already received,
 * without undici's Response, Headers and web-stream machinery for every reply.
 */
export function keepAliveFetch(client: KeepAliveClient, options: KeepAliveFetchOptions = {}): typeof fetch {
  const { timeoutMs, rewriteUrl } = options;
  const wireFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    try {
      return send(input, init);
    } catch (e) {
      // fetch never throws synchronously.
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const send = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const given = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = rewriteUrl ? rewriteUrl(given) : given;
    const headers = plainHeaders(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const raw = init?.body;
    let body: string | undefined;
    if (raw === undefined || raw === null) body = undefined;
    else if (typeof raw === 'string') body = raw;
    else if (raw instanceof URLSearchParams) {
      body = raw.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    } else return Promise.reject(new TypeError('keepAliveFetch sends string or URLSearchParams bodies only'));
    const method = init?.method ?? 'GET';
    const exchange: ExchangeInit = { method, headers };
    if (body !== undefined) exchange.body = body;
    if (init?.signal) exchange.signal = init.signal;
    if (timeoutMs !== undefined) exchange.timeoutMs = timeoutMs;
    return client.send(url, exchange).then(
      (reply) => {
        const empty = reply.status === 204 || reply.status === 304 || reply.status === 205 || method === 'HEAD';
        return new WireResponse(url, reply.status, reply.headers, empty ? null : reply.body) as unknown as Response;
      },
      (e: unknown) => {
        const name = (e as Error).name;
        // An abort rejects with the signal's own reason, whatever its name, as fetch does.
        if (
          name === 'AbortError' ||
          name === 'TimeoutError' ||
          (init?.signal?.aborted === true && e === init.signal.reason)
        )
          throw e;
        throw new TypeError('fetch failed', { cause: e });
      },
    );
  };
  return wireFetch;
}

/** Request headers as one lower-case record (values of a name given twice joined, as `Headers` does). */
function plainHeaders(given: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (k: string, v: string): void => {
    const key = k.toLowerCase();
    const before = out[key];
    out[key] = before === undefined ? String(v) : `${before}, ${v}`;
  };
  if (given === undefined) return out;
  if (given instanceof Headers) given.forEach((v, k) => add(k, v));
  else if (Array.isArray(given)) for (const [k, v] of given) add(k, v);
  else for (const k of Object.keys(given)) add(k, given[k] as string);
  return out;
}

/** Response headers over node's parsed record (lower-case names); read-only, as a response's are. */
class WireHeaders {
  constructor(private readonly raw: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  getSetCookie(): string[] {
    const v = this.raw['set-cookie'];
    return v === undefined ? [] : [...v];
  }
  forEach(callback: (value: string, key: string, parent: WireHeaders) => void, thisArg?: unknown): void {
    for (const k of Object.keys(this.raw).sort()) {
      const v = this.get(k);
      if (v !== null) callback.call(thisArg, v, k, this);
    }
  }
  *entries(): IterableIterator<[string, string]> {
    for (const k of Object.keys(this.raw).sort()) {
      const v = this.get(k);
      if (v !== null) yield [k, v];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  append(): never {
    throw new TypeError('response headers are immutable');
  }
  set(): never {
    throw new TypeError('response headers are immutable');
  }
  delete(): never {
    throw new TypeError('response headers are immutable');
  }
}

/** A received reply with the reading side of `Response`; see `keepAliveFetch`. */
class WireResponse {
  readonly type = 'basic';
  readonly redirected = false;
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: WireHeaders;
  private used = false;
  private stream: ReadableStream<Uint8Array> | null | undefined;

  constructor(
    readonly url: string,
    readonly status: number,
    private readonly rawHeaders: IncomingHttpHeaders,
    private readonly payload: Buffer | null,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = '';
    this.headers = new WireHeaders(rawHeaders);
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  /** A stream of the body, made when first asked for; reading it uses the body up. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream !== undefined) return this.stream;
    const bytes = this.payload;
    this.stream =
      bytes === null
        ? null
        : new ReadableStream<Uint8Array>(
            {
              pull: (controller) => {
                this.used = true;
                if (bytes.length > 0)
                  controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice());
                controller.close();
              },
            },
            { highWaterMark: 0 },
          );
    // Asked for after text()/json()/…: the stream comes spent (locked), as fetch's is.
    if (this.used && this.stream !== null) this.stream.getReader();
    return this.stream;
  }

  text(): Promise<string> {
    return this.take().then((b) => b.toString('utf8'));
  }
  json(): Promise<unknown> {
    return this.text().then((t) => JSON.parse(t) as unknown);
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.take().then((b) => {
      const out = new ArrayBuffer(b.length);
      new Uint8Array(out).set(b);
      return out;
    });
  }
  bytes(): Promise<Uint8Array> {
    return this.take().then((b) => new Uint8Array(b));
  }
  blob(): Promise<Blob> {
    return this.take().then((b) => new Blob([new Uint8Array(b)], { type: this.headers.get('content-type') ?? '' }));
  }
  formData(): Promise<FormData> {
    // Never on a venue's JSON API; undici's Response knows the encodings.
    const type = this.headers.get('content-type');
    return this.take().then((b) =>
      new Response(new Uint8Array(b), {
        status: this.status,
        headers: type === null ? {} : { 'content-type': type },
      }).formData(),
    );
  }
  clone(): WireResponse {
    if (this.used || this.stream?.locked === true)
      throw new TypeError('Response.clone: Body has already been consumed.');
    return new WireResponse(this.url, this.status, this.rawHeaders, this.payload);
  }

  private take(): Promise<Buffer> {
    // A null body (204, 205, 304, HEAD) is never used up: it reads as empty every time, as fetch's does.
    if (this.payload === null) return Promise.resolve(Buffer.alloc(0));
    if (this.used || this.stream?.locked === true)
      return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    this.used = true;
    // A stream handed out before is spent now (locked), as fetch's is.
    this.stream?.getReader();
    return Promise.resolve(this.payload);
  }
}

// --- bounded resending of requests the venue provably did not act on ---

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
  /** Wait before the second attempt when the venue names none (doubled for each further one; default 250 ms). */
  baseDelayMs?: number;
  /** Waits `ms`. Tests pass one that records the delay; the default is a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock the bound is measured on (default `performance.now`). */
  now?: () => number;
}

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
 * or the policy's bound is reached. Waits the venue's Retry-After when it gave one, else exponential
 * backoff. When the bound is reached the last error is thrown as a retryable BrokerError (never a
 * rejection) saying how many attempts were made.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
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
      const delay = e.retryAfterMs ?? baseDelayMs * 2 ** (n - 1);
      const elapsed = now() - started;
      if (n >= maxAttempts || elapsed + delay > maxTotalMs) throw exhausted(e, n, delay, maxTotalMs - elapsed);
      await sleep(delay);
    }
  }
}

function exhausted(e: BrokerError, attempts: number, delay: number, leftMs: number): BrokerError {
  const why =
    delay > leftMs
      ? `the venue asked to wait ${Math.ceil(delay)} ms, past the retry bound`
      : `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  return new BrokerError(e.reason, `${e.message}; nothing was placed (${why}): try again later`, {
    retryable: true,
    notActed: true,
    venueCode: e.venueCode,
    retryAfterMs: e.retryAfterMs ?? delay,
    cause: e,
  });
}
