/**
 * The connection to Alpaca: its hosts (paper, live, market data; overrides checked), the SDK loaded on
 * first connect and given one keep-alive connection per host (which also enforces the deadline and moves
 * requests to the overrides), and our order body in the SDK's spelling.
 */
import type * as AlpacaSdk from '@alpacahq/alpaca-trade-api/rest';
import type { KeepAliveClient } from '../http';
import { keepAliveFetch } from '../keepAliveFetch';
import { BrokerError } from '../errors';
import type { AlpacaOrderRequest } from './orders';

export const ALPACA_PAPER_URL = 'https://paper-api.alpaca.markets';
export const ALPACA_LIVE_URL = 'https://api.alpaca.markets';
export const ALPACA_DATA_URL = 'https://data.alpaca.markets';

export type Sdk = typeof AlpacaSdk;
export type AlpacaClient = InstanceType<Sdk['Alpaca']>;
type SdkPostOrder = Parameters<AlpacaClient['trading']['orders']['postOrderRaw']>[0]['postOrderRequest'];

export interface ClientConfig {
  keyId: string;
  secret: string;
  paper: boolean;
  http: KeepAliveClient;
  timeoutMs: number;
  /** Our default hosts and their overrides (undefined: not overridden). */
  tradingUrl: string;
  tradingOverride: string | undefined;
  dataUrl: string;
  dataOverride: string | undefined;
}

/** An SDK client on our transport; nothing is sent yet. */
export function createClient(sdk: Sdk, config: ClientConfig): AlpacaClient {
  const rewrite = (url: string): string => {
    if (config.tradingOverride !== undefined && url.startsWith(config.tradingUrl))
      return config.tradingOverride + url.slice(config.tradingUrl.length);
    if (config.dataOverride !== undefined && url.startsWith(config.dataUrl))
      return config.dataOverride + url.slice(config.dataUrl.length);
    return url;
  };
  const overridden = config.tradingOverride !== undefined || config.dataOverride !== undefined;
  return new sdk.Alpaca({
    keyId: config.keyId,
    secret: config.secret,
    paper: config.paper,
    retry: false,
    rateLimit: false,
    // The deadline is the transport's (below): the same limit on every request, headers and body,
    // without the SDK's AbortController, timer and response wrapping on each one.
    timeoutMs: 0,
    // One keep-alive connection per host instead of a fetch per request (about a third of the round
    // trip); it also moves the trading and data hosts to `baseUrl`/`dataBaseUrl` (the facade has no
    // base-URL option).
    fetchApi: keepAliveFetch(config.http, {
      timeoutMs: config.timeoutMs,
      ...(overridden ? { rewriteUrl: rewrite } : {}),
    }),
  });
}

export function toSdkOrder(body: AlpacaOrderRequest): SdkPostOrder {
  return {
    symbol: body.symbol,
    qty: body.qty,
    side: body.side,
    type: body.type,
    timeInForce: body.time_in_force,
    limitPrice: body.limit_price,
    stopPrice: body.stop_price,
    trailPrice: body.trail_price,
    trailPercent: body.trail_percent,
    clientOrderId: body.client_order_id,
  };
}

/** The URL without a trailing slash; refuses plain http to anything but this machine (the keys travel in headers). */
export function checkedBaseUrl(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BrokerError('INTERNAL', `Alpaca ${what} is not a URL: ${url}`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback))
    throw new BrokerError('INTERNAL', `Alpaca ${what} must use https (plain http only to this machine): ${url}`);
  return url.replace(/\/+$/, '');
}

/** The Alpaca SDK, on first connect (in the bundles, `./sdk/alpaca.js`); a missing one is a broker error, not a crash. */
export function loadAlpacaSdk(): Sdk {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@alpacahq/alpaca-trade-api/rest') as Sdk;
  } catch (e) {
    throw new BrokerError(
      'INTERNAL',
      `the Alpaca SDK could not be loaded (${(e as Error).message}); it is needed for Alpaca`,
    );
  }
}
