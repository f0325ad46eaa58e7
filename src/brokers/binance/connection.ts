/**
 * The connection to Binance: ccxt's binance class, loaded on first connect and configured once (spot only,
 * never resending, one keep-alive connection, node:crypto signing, origins rewritten for a fake), with the
 * HTTP status and headers ccxt's exceptions drop kept beside them for errors.ts.
 */
import { createHmac } from 'node:crypto';
import type { KeepAliveClient } from '../http';
import { keepAliveFetch } from '../keepAliveFetch';
import { BrokerError } from '../errors';
import type { HttpCapture } from './errors';

type Params = Record<string, unknown>;

/** The part of ccxt's binance class used here; every result is `unknown` and read through zod (orders.ts, market.ts, account.ts). */
export interface CcxtBinance {
  urls: { api: Record<string, unknown> };
  setSandboxMode(enabled: boolean): void;
  loadMarkets(reload?: boolean): Promise<unknown>;
  createOrder(
    symbol: string,
    type: string,
    side: string,
    amount: number,
    price?: number,
    params?: Params,
  ): Promise<unknown>;
  hmac?: (request: unknown, secret: unknown, hash: unknown, digest?: string) => unknown;
  fetchOrder(id: string | undefined, symbol: string, params?: Params): Promise<unknown>;
  cancelOrder(id: string, symbol: string, params?: Params): Promise<unknown>;
  fetchOpenOrders(symbol?: string, since?: number, limit?: number, params?: Params): Promise<unknown>;
  fetchMyTrades(symbol?: string, since?: number, limit?: number, params?: Params): Promise<unknown>;
  fetchBalance(params?: Params): Promise<unknown>;
  /**
   * Reads Binance's clock (GET /api/v3/time) and stamps every later signed request on it: ccxt's `nonce()` is
   * the machine's time minus the difference this keeps in `options.timeDifference`.
   */
  loadTimeDifference(params?: Params): Promise<unknown>;
  fetchTicker(symbol: string, params?: Params): Promise<unknown>;
  fetchTickers(symbols?: string[], params?: Params): Promise<unknown>;
  /** GET /api/v3/ticker/bookTicker with `symbols`: weight 4 however many (rest-api.md "Symbol order book ticker"). */
  fetchBidsAsks(symbols?: string[], params?: Params): Promise<unknown>;
  /** GET /api/v3/ticker/price (the `symbols` given in params): weight 4 (rest-api.md "Symbol price ticker"). */
  fetchLastPrices(symbols?: string[], params?: Params): Promise<unknown>;
  handleErrors: (...args: unknown[]) => unknown;
  handleHttpStatusCode: (...args: unknown[]) => unknown;
}

/** ccxt's createOrder on a plain spot market, in its two halves. */
interface SpotOrderApi {
  /** What `createOrder` sends. */
  createOrderRequest(
    symbol: string,
    type: string,
    side: string,
    amount: number,
    price?: number,
    params?: Params,
  ): Params;
  /** POST /api/v3/order, signed; resolves with Binance's reply as parsed JSON. */
  privatePostOrder(request: Params): Promise<unknown>;
}

export function hasSpotOrderApi(ex: CcxtBinance): ex is CcxtBinance & SpotOrderApi {
  const api = ex as Partial<SpotOrderApi>;
  return typeof api.createOrderRequest === 'function' && typeof api.privatePostOrder === 'function';
}

type CcxtBinanceConstructor = new (config: Params) => CcxtBinance;

function isConstructor(value: unknown): value is CcxtBinanceConstructor {
  return typeof value === 'function';
}

/**
 * Loads ccxt's binance class on first connect: in the bundles this `require` is `./sdk/ccxt-binance.js`
 * (scripts/build.mjs), outside them the ccxt package; either way the extension activates without
 * parsing megabytes of exchange code.
 */
export function loadCcxtBinance(): CcxtBinanceConstructor {
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('ccxt');
  } catch (e) {
    throw new BrokerError(
      'INTERNAL',
      `the ccxt package could not be loaded (${(e as Error).message}); it is needed for Binance`,
    );
  }
  const ctor = typeof mod === 'object' && mod !== null && 'binance' in mod ? mod.binance : undefined;
  if (!isConstructor(ctor)) throw new BrokerError('INTERNAL', 'the installed ccxt package has no binance exchange');
  return ctor;
}

export interface ExchangeConfig {
  apiKey: string;
  secret: string;
  environment: 'testnet' | 'live';
  enableRateLimit: boolean;
  timeoutMs: number;
  recvWindowMs: number;
  /** Replaces the origin of every ccxt API URL. */
  baseUrl: string | undefined;
  http: KeepAliveClient;
  /** Where the HTTP reply behind each ccxt exception is kept. */
  captures: WeakMap<object, HttpCapture>;
  /** Told the IP's request weight of the current minute each reply carries (X-MBX-USED-WEIGHT-1M). */
  onUsedWeight?: (weight: number) => void;
}

/** A configured ccxt binance instance; nothing is sent yet. */
export function createExchange(config: ExchangeConfig): CcxtBinance {
  const Binance = loadCcxtBinance();
  const ex = new Binance({
    apiKey: config.apiKey,
    secret: config.secret,
    enableRateLimit: config.enableRateLimit,
    timeout: config.timeoutMs,
    options: {
      defaultType: 'spot',
      // loadMarkets asks for spot exchangeInfo only: no futures exchangeInfo, no sapi currency or
      // margin calls (which need live keys and would leave the testnet or the fake).
      fetchMarkets: { types: ['spot'] },
      fetchCurrencies: false,
      fetchMargins: false,
      adjustForTimeDifference: false,
      // Never resend: a retried submit could place a second order.
      maxRetriesOnFailure: 0,
      // absenceConclusiveAfterMs rests on it.
      recvWindow: config.recvWindowMs,
      fetchOpenOrders: { warnWithoutSymbol: false },
      warnOnFetchOpenOrdersWithoutSymbol: false,
      newOrderRespType: { market: 'FULL', limit: 'FULL' },
    },
  });
  if (config.environment === 'testnet') ex.setSandboxMode(true);
  // One keep-alive connection instead of ccxt's default fetch per request (about a third of the round trip).
  (ex as unknown as { fetchImplementation: typeof fetch }).fetchImplementation = keepAliveFetch(config.http);
  signWithNodeCrypto(ex);
  if (config.baseUrl !== undefined) rewriteOrigins(ex, config.baseUrl);
  captureHttpErrors(ex, config.captures, config.onUsedWeight);
  return ex;
}

/** Every ccxt API URL on `baseUrl`'s origin (a fake, a proxy); paths are kept. */
function rewriteOrigins(ex: CcxtBinance, baseUrl: string): void {
  const origin = new URL(baseUrl).origin;
  for (const [key, value] of Object.entries(ex.urls.api)) {
    if (typeof value !== 'string') continue;
    const u = new URL(value);
    ex.urls.api[key] = `${origin}${u.pathname}`;
  }
}

/**
 * ccxt's exceptions carry no status or headers: keep them (Retry-After above all) beside the error. Every reply, an
 * error or not, also passes its X-MBX-USED-WEIGHT-1M to `onUsedWeight` (rest-api.md "IP Limits": "Every request will
 * contain `X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)` in the response headers which has the current used weight
 * for the IP for all request rate limiters defined").
 */
export function captureHttpErrors(
  ex: CcxtBinance,
  captures: WeakMap<object, HttpCapture>,
  onUsedWeight?: (weight: number) => void,
): void {
  const handleErrors = ex.handleErrors.bind(ex);
  const handleHttpStatusCode = ex.handleHttpStatusCode.bind(ex);
  const keep = (e: unknown, capture: HttpCapture) => {
    if (typeof e === 'object' && e !== null && !captures.has(e)) captures.set(e, capture);
  };
  ex.handleErrors = (...args: unknown[]) => {
    const used = onUsedWeight === undefined ? undefined : headerOf(args[4], 'x-mbx-used-weight-1m');
    if (used !== undefined && /^\d+$/.test(used.trim())) onUsedWeight?.(Number(used.trim()));
    try {
      return handleErrors(...args);
    } catch (e) {
      const [status, , , , headers, body] = args;
      keep(e, {
        status: typeof status === 'number' ? status : 0,
        body: typeof body === 'string' ? body : undefined,
        retryAfter: headerOf(headers, 'retry-after'),
      });
      throw e;
    }
  };
  ex.handleHttpStatusCode = (...args: unknown[]) => {
    try {
      return handleHttpStatusCode(...args);
    } catch (e) {
      const [status, , , , body] = args;
      keep(e, { status: typeof status === 'number' ? status : 0, body: typeof body === 'string' ? body : undefined });
      throw e;
    }
  };
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  for (const [key, value] of Object.entries(headers))
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  return undefined;
}

/**
 * ccxt signs every private request with a JavaScript HMAC (@noble/hashes), several times slower than
 * node:crypto's. node:crypto stands in for it when the digest is hex and the hash function ccxt passes
 * gives node's HMAC-SHA256 on a probe (checked once per function); anything else (RSA and Ed25519
 * keys never come here) goes to ccxt's own.
 */
function signWithNodeCrypto(ex: CcxtBinance): void {
  const own = ex.hmac;
  if (typeof own !== 'function') return;
  const isSha256 = new WeakMap<object, boolean>();
  const probe = createHmac('sha256', 'probe key').update('probe request').digest('hex');
  ex.hmac = (request: unknown, secret: unknown, hash: unknown, digest = 'hex'): unknown => {
    if (digest === 'hex' && typeof hash === 'function' && isBytesOrText(request) && isBytesOrText(secret)) {
      let sha256 = isSha256.get(hash);
      if (sha256 === undefined) {
        sha256 = own('probe request', 'probe key', hash, 'hex') === probe;
        isSha256.set(hash, sha256);
      }
      if (sha256) return createHmac('sha256', secret).update(request).digest('hex');
    }
    return own(request, secret, hash, digest);
  };
}

const isBytesOrText = (v: unknown): v is string | Uint8Array => typeof v === 'string' || v instanceof Uint8Array;
