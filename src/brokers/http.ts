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
 *
 * Beside it: keepAliveFetch.ts (a `fetch` over this client, for SDKs) and retry.ts (the bounded resending of
 * requests a venue provably did not act on).
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

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

/**
 * A reply larger than the client reads (`maxReplyBytes`): not read, its connection dropped, as when it is cut
 * mid-reply (hence ECONNRESET): for an order, the outcome is unknown. A venue's answers are kilobytes; a reply of
 * gigabytes is a broken or hostile server, and reading it whole would take the extension host's memory.
 */
export class ReplyTooLargeError extends Error {
  override readonly name = 'ReplyTooLargeError';
  readonly code = 'ECONNRESET';
  constructor(readonly maxBytes: number) {
    super(`the reply was larger than ${maxBytes.toLocaleString('en-US')} bytes and was not read`);
  }
}

/** What one reply may hold (64 MiB): a page of 1,000 orders is well under a megabyte. */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

interface Origin {
  secure: boolean;
  protocol: string;
  hostname: string;
  port: string;
}

/** A reply with its body as bytes (`keepAliveFetch` builds a `Response` over it). */
export interface Reply {
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

  constructor(private readonly maxReplyBytes: number = MAX_REPLY_BYTES) {}

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
          let bytes = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (bytes <= this.maxReplyBytes) chunks.push(c);
            else if (!settled) {
              chunks.length = 0;
              fail(new ReplyTooLargeError(this.maxReplyBytes));
              res.destroy();
            }
          });
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
