/**
 * What every fake venue (`test/fakes/<venue>/`) offers the tests and the conformance suite: it speaks
 * the venue's real protocol on 127.0.0.1, checks auth like the venue, keeps orders and positions,
 * fills marketable orders against the quote it is given, and injects faults on demand.
 */
export type FakeFault =
  /** Answer after this many ms. */
  | { kind: 'latency'; ms: number }
  /** Accept and keep the order, then never answer (the client times out: an unknown outcome). */
  | { kind: 'timeoutAfterAccept' }
  /** Answer with HTTP 5xx (or the protocol's equivalent) without placing the order. */
  | { kind: 'serverError'; status?: number }
  /** Answer 429 with Retry-After (seconds) without placing the order. */
  | { kind: 'rateLimit'; retryAfterSeconds: number }
  /** Place the order, then drop the connection before answering. */
  | { kind: 'dropConnection' }
  /** Place the order, then answer with a body that is not what the protocol promises. */
  | { kind: 'malformedBody' }
  /** Refuse the order as the venue does for a client order id it has seen (even if it has not). */
  | { kind: 'duplicateClientId' }
  /** Refuse the order as the venue does, with its reason (e.g. insufficient funds). */
  | { kind: 'reject'; reason?: string };

export interface FakeVenue {
  /** Base URL (http://127.0.0.1:PORT) or, for socket venues, host and port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Sets the touch for a symbol (the venue's symbol spelling, e.g. EUR_USD, AAPL, BTCUSDT). */
  setQuote(symbol: string, bid: number, ask: number): void;
  /** The next order request (FIFO) suffers this fault. */
  injectNext(fault: FakeFault): void;
  /** Orders the venue holds with this client order id (the conformance suite's "no duplicate at the venue"). */
  ordersWithClientId(clientOrderId: string): number;
  /** Requests received, by route or message name (to assert rate limits and no blind resubmits). */
  requestCount(route?: string): number;
  close(): Promise<void>;
}
