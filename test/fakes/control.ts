/**
 * What every fake venue (`test/fakes/<venue>/`) offers the tests and the conformance suite: it speaks
 * the venue's real protocol on 127.0.0.1, checks auth like the venue, keeps orders and positions,
 * fills marketable orders against the quote it is given, and injects faults on demand.
 *
 * Faults are what the public documents say can happen after a request is sent, not what an adapter
 * expects: RFC 9110 §15.6 (a 5xx, a gateway's 502/504 above all, says nothing about whether the
 * origin acted), §10.2.3 (Retry-After as seconds or an HTTP-date), and each venue's own pages (cited
 * beside each behaviour in the fakes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Which request a fault hits: an order submit (default), a cancel, an order look-up, or the open-order list (OANDA). */
export type FaultTarget = 'submit' | 'cancel' | 'lookup' | 'list';

export type FakeFault = (
  | /** Answer after this many ms. */ { kind: 'latency'; ms: number }
    /**
     * Never answer (the client times out). `placed` (default true): the venue carried the request out
     * first (the order is placed, the cancel applied); false: it hangs without doing anything.
     */
  | { kind: 'timeoutAfterAccept'; placed?: boolean }
  /**
   * Answer HTTP 5xx (or the protocol's equivalent). `placed` (default false): after carrying the
   * request out. `gateway`: the answer is a proxy's HTML page (a 502/504 from a load balancer), not
   * the venue's JSON.
   */
  | { kind: 'serverError'; status?: number; placed?: boolean; gateway?: boolean }
  /**
   * Answer 429 (or `status`, e.g. Binance's 418) with Retry-After in seconds, or as an HTTP-date, without acting.
   * `resetAtEpochSeconds`: an `X-RateLimit-Reset` header instead (Alpaca "Rate limits": "The time at which the
   * current rate limit window resets in UTC epoch seconds").
   */
  | {
      kind: 'rateLimit';
      retryAfterSeconds?: number;
      retryAfterDate?: string;
      resetAtEpochSeconds?: number;
      status?: number;
    }
  /** Drop the connection after reading the request. `placed` (default true): after carrying it out. */
  | { kind: 'dropConnection'; placed?: boolean }
  /** Carry the request out, then answer 2xx with a body that is not what the protocol promises. */
  | { kind: 'malformedBody' }
  /**
   * Carry the request out, then answer with the venue's own JSON reply as `alter` rewrites it: a venue (or
   * something between us and it) sending well-formed JSON with hostile content (a wrong type, a huge number, a
   * field missing, more filled than ordered). Nothing a venue documents; what an adapter must survive (HTTP fakes).
   */
  | { kind: 'alteredBody'; alter: (body: unknown) => unknown }
  /** Refuse the order as the venue does for a client order id it has seen (even if it has not). */
  | { kind: 'duplicateClientId' }
  /** Refuse the order as the venue does, with its reason (e.g. insufficient funds). */
  | { kind: 'reject'; reason?: string }
  /** Binance: refuse the request unprocessed with -1021 (outside recvWindow). */
  | { kind: 'timestampOutsideRecvWindow' }
  /**
   * Binance: the account's unfilled-order count is over its limit: 429 -1015 "Too many new orders; current limit
   * is 50 orders per 10 SECOND.", without Retry-After, nothing done (rest-api "LIMITS" → "Unfilled Order Count").
   * `interval`: the limit's interval as the message names it (errors.md: "current limit is %s orders per %s";
   * exchangeInfo `rateLimits` ORDERS: 10 SECOND, 1 DAY), default "10 SECOND".
   */
  | { kind: 'tooManyOrders'; interval?: string }
  /** Binance: the web application firewall refuses the request (HTTP 403, an HTML page), nothing done. */
  | { kind: 'wafBlock' }
  /** Echo the account id in the venue's error message (a 4xx refusal), to prove adapters mask it. */
  | { kind: 'errorEchoingAccount' }
) & { on?: FaultTarget };

export interface FakeVenue {
  /** Base URL (http://127.0.0.1:PORT) or, for socket venues, host and port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Sets the touch for a symbol (the venue's symbol spelling, e.g. EUR_USD, AAPL, BTCUSDT). */
  setQuote(symbol: string, bid: number, ask: number): void;
  /** The next request of the fault's target (`on`, default the next submit; FIFO per target) suffers this fault. */
  injectNext(fault: FakeFault): void;
  /** Orders the venue holds with this client order id (the conformance suite's "no duplicate at the venue"). */
  ordersWithClientId(clientOrderId: string): number;
  /** Requests received, by route or message name (to assert rate limits and no blind resubmits). */
  requestCount(route?: string): number;
  /** Every route (or message name) received so far with its count: what one operation cost the venue. */
  requestCounts(): Record<string, number>;
  close(): Promise<void>;
}

/** Faults waiting for their request, FIFO per target. */
export class FaultQueue {
  private readonly queue: FakeFault[] = [];
  push(fault: FakeFault): void {
    this.queue.push(fault);
  }
  /** The first fault waiting for `target`, removed. */
  take(target: FaultTarget): FakeFault | undefined {
    const i = this.queue.findIndex((f) => (f.on ?? 'submit') === target);
    return i < 0 ? undefined : this.queue.splice(i, 1)[0];
  }
}

/** Retry-After for a rateLimit fault: seconds (RFC 9110 §10.2.3 delay-seconds) or the HTTP-date given. */
export function retryAfterHeaders(fault: {
  retryAfterSeconds?: number;
  retryAfterDate?: string;
  resetAtEpochSeconds?: number;
}): Record<string, string> {
  if (fault.resetAtEpochSeconds !== undefined) return { 'X-RateLimit-Reset': String(fault.resetAtEpochSeconds) };
  if (fault.retryAfterDate !== undefined) return { 'Retry-After': fault.retryAfterDate };
  if (fault.retryAfterSeconds !== undefined) return { 'Retry-After': String(fault.retryAfterSeconds) };
  return {};
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
};

/** What a load balancer in front of a venue answers on its own (nginx's default error page). */
export function sendGatewayPage(res: ServerResponse, status: number): void {
  const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
  const body = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

export interface HttpFaultHooks {
  /** Carries the request out at the venue; false when the venue answered it itself (a refusal), which ends the fault. */
  act(): boolean;
  /** The venue's normal answer after acting. */
  reply(): void;
  /** A 2xx answer whose body is not what the protocol promises (after acting). */
  malformed(): void;
  /** The venue's own 5xx answer. */
  serverError(status: number): void;
  /** The venue's rate-limit answer with these headers. */
  rateLimited(status: number, headers: Record<string, string>): void;
  /** Venue-specific faults (duplicate id, reject, -1021, an echoed account id); returns false when it does not apply. */
  other?(fault: FakeFault): boolean;
  /** Answers held open until the fake closes. */
  held: Set<ServerResponse>;
}

/** Plays one request under `fault` (or none): the behaviour every HTTP fake shares. */
export async function playHttpFault(
  fault: FakeFault | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  hooks: HttpFaultHooks,
): Promise<void> {
  const actThenReply = () => {
    if (hooks.act()) hooks.reply();
  };
  if (fault === undefined) return actThenReply();
  switch (fault.kind) {
    case 'latency':
      await new Promise((resolve) => setTimeout(resolve, fault.ms));
      return actThenReply();
    case 'serverError': {
      const status = fault.status ?? 500;
      if (fault.placed === true && !hooks.act()) return;
      if (fault.gateway === true) return sendGatewayPage(res, status);
      return hooks.serverError(status);
    }
    case 'rateLimit':
      return hooks.rateLimited(fault.status ?? 429, retryAfterHeaders(fault));
    case 'timeoutAfterAccept':
      if (fault.placed !== false && !hooks.act()) return;
      hooks.held.add(res);
      return;
    case 'dropConnection':
      if (fault.placed !== false && !hooks.act()) return;
      req.socket.destroy();
      return;
    case 'malformedBody':
      if (!hooks.act()) return;
      return hooks.malformed();
    case 'alteredBody':
      if (!hooks.act()) return;
      alterNextReply(res, fault.alter);
      return hooks.reply();
    default:
      if (hooks.other?.(fault) === true) return;
      return actThenReply();
  }
}

/** Rewrites the JSON body of the next `writeHead(...).end(body)` on `res` with `alter` (its length fixed up). */
function alterNextReply(res: ServerResponse, alter: (body: unknown) => unknown): void {
  const writeHead = res.writeHead.bind(res);
  const end = res.end.bind(res);
  let status = 200;
  let headers: Record<string, string | number> = {};
  res.writeHead = ((code: number, h?: Record<string, string | number>) => {
    status = code;
    headers = { ...(h ?? {}) };
    return res;
  }) as typeof res.writeHead;
  res.end = ((chunk?: unknown) => {
    res.writeHead = writeHead;
    res.end = end;
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    const altered = JSON.stringify(alter(text === '' ? undefined : (JSON.parse(text) as unknown)));
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-length') delete headers[k];
    writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(altered) });
    return end(altered);
  }) as typeof res.end;
}
