/**
 * One HTTP exchange over a keep-alive agent (`node:http` / `node:https`). REST adapters use this
 * rather than the global `fetch`: on loopback it costs about a third of `fetch`'s round trip
 * (`../shared/reference/performance.md` §8), it reuses one connection per venue, and its errors keep
 * the socket's `code` (ECONNREFUSED before sending, ECONNRESET after), which decides whether an
 * order's outcome is unknown.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export class KeepAliveClient {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

  exchange(url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<HttpReply> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(new TypeError(`unsupported protocol ${target.protocol}`));
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    return new Promise<HttpReply>((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: init.method,
          headers,
          agent: secure ? this.https : this.http,
          signal: init.signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
          res.on('aborted', () => reject(Object.assign(new Error('the connection closed before the reply was complete'), { code: 'ECONNRESET' })));
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/**
 * A `fetch` over a `KeepAliveClient`, for SDKs that take a fetch implementation (Alpaca's `fetchApi`,
 * ccxt's `fetchImplementation`). Socket errors keep their `code` (ECONNREFUSED, ECONNRESET) on the
 * thrown error's `cause`, as undici's fetch does.
 */
export function keepAliveFetch(client: KeepAliveClient): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((v, k) => (headers[k] = v));
    const raw = init?.body;
    let body: string | undefined;
    if (raw === undefined || raw === null) body = undefined;
    else if (typeof raw === 'string') body = raw;
    else if (raw instanceof URLSearchParams) {
      body = raw.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    } else throw new TypeError('keepAliveFetch sends string or URLSearchParams bodies only');
    let reply: HttpReply;
    try {
      reply = await client.exchange(url, {
        method: init?.method ?? 'GET',
        headers,
        ...(body === undefined ? {} : { body }),
        ...(init?.signal ? { signal: init.signal } : {}),
      });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new TypeError('fetch failed', { cause: e });
    }
    const responseHeaders = new Headers();
    for (const [k, v] of Object.entries(reply.headers)) {
      if (Array.isArray(v)) for (const item of v) responseHeaders.append(k, item);
      else if (v !== undefined) responseHeaders.set(k, v);
    }
    const empty = reply.status === 204 || reply.status === 304 || reply.status === 205;
    return new Response(empty ? null : reply.text, { status: reply.status, headers: responseHeaders });
  };
}
