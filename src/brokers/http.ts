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
