/**
 * Adapter overhead per order for the REST brokers, beside the loopback HTTP floor measured in the same
 * run against the same fake venue: the floor sends a ready-made request of the same order over a
 * keep-alive `node:http` agent (the venue's work is in both figures); the adapter figure is
 * `submitOrder` end to end (validation, mapping, signing, its HTTP client, parsing the reply).
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { monotonicMs, TestClock } from '../src/common/clock';
import type { BrokerApi } from '../src/brokers/broker';
import { staticCredentials } from '../src/brokers/credentials';
import { OandaBroker } from '../src/brokers/oanda/adapter';
import { AlpacaBroker } from '../src/brokers/alpaca/adapter';
import { BinanceBroker } from '../src/brokers/binance/adapter';
import type { PlacedOrderRequest } from '../src/orders/model';
import { startFakeOanda } from '../test/fakes/oanda/server';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../test/fakes/alpaca/server';
import { startFakeBinance } from '../test/fakes/binance/server';
import { quantile } from './stats';

interface RawRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function post(agent: Agent, base: URL, raw: RawRequest): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: raw.path,
        method: 'POST',
        agent,
        headers: { ...raw.headers, 'content-length': Buffer.byteLength(raw.body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`floor request: HTTP ${res.statusCode} on ${raw.path}`))));
      },
    );
    req.on('error', reject);
    req.end(raw.body);
  });
}

async function measure(
  name: string,
  broker: BrokerApi,
  order: (i: number) => PlacedOrderRequest,
  raw: (i: number) => RawRequest,
  url: string,
  n: number,
): Promise<void> {
  await broker.connect();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(url);
  const adapter: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < 200; i++) {
    await broker.submitOrder(order(-1 - i));
    await post(agent, base, raw(-1 - i));
  }
  // Interleaved, so machine noise hits both alike.
  for (let i = 0; i < n; i++) {
    let t = monotonicMs();
    const r = await broker.submitOrder(order(i));
    adapter.push((monotonicMs() - t) * 1000);
    if (r.status.status === 'rejected') throw new Error(`${name}: the fake rejected the bench order: ${r.status.reason}`);
    t = monotonicMs();
    await post(agent, base, raw(i));
    floor.push((monotonicMs() - t) * 1000);
  }
  await broker.disconnect();
  agent.destroy();
  const a = quantile(adapter, 0.5);
  const f = quantile(floor, 0.5);
  console.log(
    `${name.padEnd(8)} adapter submitOrder p50 ${a.toFixed(0).padStart(5)} µs (p99 ${quantile(adapter, 0.99).toFixed(0)})   ` +
      `floor HTTP POST p50 ${f.toFixed(0).padStart(5)} µs (p99 ${quantile(floor, 0.99).toFixed(0)})   ratio ${(a / f).toFixed(2)}×  (target ≤ 1.2×) ${a / f <= 1.2 ? 'MET' : 'NOT MET'}`,
  );
}

export async function benchAdapters(): Promise<void> {
  const n = Number(process.env['ADAPTER_ORDERS'] ?? 2000);
  console.log(`\n## REST adapters: submitOrder against the fake venue vs a raw HTTP POST to it (${n} orders each, in-process fakes)`);
  const clock = new TestClock(Date.now());

  const oanda = await startFakeOanda();
  oanda.setQuote('EUR_USD', 1.085, 1.0852);
  try {
    await measure(
      'oanda',
      new OandaBroker({
        baseUrl: oanda.url,
        credentials: staticCredentials({ 'oanda.token': oanda.token, 'oanda.accountId': oanda.accountId }),
        pollIntervalMs: 0,
        maxRequestsPerSecond: 1e9,
      }),
      (i) => ({
        symbol: 'EUR_USD',
        side: i % 2 ? 'sell' : 'buy',
        quantity: 1000,
        order_type: { type: 'market' },
        time_in_force: { type: 'FOK' },
        metadata: {},
        client_order_id: `a-${i}`,
      }),
      (i) => ({
        path: `/v3/accounts/${oanda.accountId}/orders`,
        headers: { authorization: `Bearer ${oanda.token}`, 'content-type': 'application/json', 'accept-datetime-format': 'RFC3339' },
        body: JSON.stringify({
          order: {
            type: 'MARKET',
            instrument: 'EUR_USD',
            units: i % 2 ? '-1000' : '1000',
            timeInForce: 'FOK',
            positionFill: 'DEFAULT',
            clientExtensions: { id: `r-${i}` },
          },
        }),
      }),
      oanda.url,
      n,
    );
  } finally {
    await oanda.close();
  }

  const alpaca = await startFakeAlpaca();
  alpaca.setQuote('AAPL', 150, 150.1);
  try {
    await measure(
      'alpaca',
      new AlpacaBroker({
        baseUrl: alpaca.url,
        dataBaseUrl: alpaca.url,
        credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
        pollIntervalMs: 0,
      }),
      (i) => ({
        symbol: 'AAPL',
        side: i % 2 ? 'sell' : 'buy',
        quantity: 1,
        order_type: { type: 'market' },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: `a-${i}`,
      }),
      (i) => ({
        path: '/v2/orders',
        headers: { 'apca-api-key-id': FAKE_ALPACA_KEY_ID, 'apca-api-secret-key': FAKE_ALPACA_SECRET, 'content-type': 'application/json' },
        body: JSON.stringify({ symbol: 'AAPL', qty: '1', side: i % 2 ? 'sell' : 'buy', type: 'market', time_in_force: 'gtc', client_order_id: `r-${i}` }),
      }),
      alpaca.url,
      n,
    );
  } finally {
    await alpaca.close();
  }

  const binance = await startFakeBinance();
  binance.setQuote('BTCUSDT', 30000, 30001);
  try {
    await measure(
      'binance',
      new BinanceBroker({
        environment: 'testnet',
        baseUrl: binance.url,
        credentials: staticCredentials({ 'binance.apiKey': binance.apiKey, 'binance.secret': binance.secret }),
        clock,
        pollIntervalMs: 0,
        enableRateLimit: false,
      }),
      (i) => ({
        symbol: 'BTCUSDT',
        side: i % 2 ? 'sell' : 'buy',
        quantity: 0.001,
        order_type: { type: 'market' },
        time_in_force: { type: 'IOC' },
        metadata: {},
        client_order_id: `a-${i}`,
      }),
      (i) => {
        const query = `symbol=BTCUSDT&side=${i % 2 ? 'SELL' : 'BUY'}&type=MARKET&quantity=0.001&newClientOrderId=r-${i}&timestamp=${Date.now()}&recvWindow=10000`;
        const signature = createHmac('sha256', binance.secret).update(query).digest('hex');
        return {
          path: '/api/v3/order',
          headers: { 'x-mbx-apikey': binance.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
          body: `${query}&signature=${signature}`,
        };
      },
      binance.url,
      n,
    );
  } finally {
    await binance.close();
  }
}
