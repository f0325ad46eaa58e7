/**
 * A `fetch` over a `KeepAliveClient` (http.ts), for SDKs that take a fetch implementation (Alpaca's
 * `fetchApi`, ccxt's `fetchImplementation`): requests and replies with the reading side of `Request` and
 * `Response`, over one keep-alive connection per venue.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ExchangeInit, KeepAliveClient } from './http';

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
