/**
 * Adapter overhead per order for the REST brokers, beside the loopback HTTP floor measured in the same
 * run against the same fake venue: the floor sends a ready-made request of the same order over a
 * keep-alive `node:http` agent (the venue's work is in both figures); the adapter figure is
 * `submitOrder` end to end (validation, mapping, signing, its HTTP client, parsing the reply). The two
 * alternate order by order, so machine noise hits both alike.
 *
 * Each venue is measured twice. First (the headline) with the fake venue in a child process, as a
 * real venue is never in the client's process; then with the fake in this process, where its CPU
 * shares one thread with the client's. `ADAPTER_MODES=child` or `=inproc` runs one of them,
 * `ADAPTER_VENUES=oanda,alpaca,binance` a subset, `ADAPTER_ORDERS` sets the orders per venue. Before
 * them, the venue calls one order makes (`venueCalls.bench.ts`; `ADAPTER_CALLS=0` skips them).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
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
import { benchVenueCalls } from './venueCalls.bench';
import { benchReplyParse } from './replyParse.bench';

type Venue = 'oanda' | 'alpaca' | 'binance';
const VENUES: readonly Venue[] = ['oanda', 'alpaca', 'binance'];

/** What the bench needs of a running fake, wherever it runs. */
interface FakeHandle {
  url: string;
  /** The credentials and ids the fake expects (token, accountId, apiKey, secret). */
  secrets: Record<string, string>;
  close(): Promise<void>;
}

/** The touch every venue is given before the run, so market orders fill. */
const QUOTES: Record<Venue, [string, number, number]> = {
  oanda: ['EUR_USD', 1.085, 1.0852],
  alpaca: ['AAPL', 150, 150.1],
  binance: ['BTCUSDT', 30000, 30001],
};

/** Starts a venue's fake in this process. */
async function startInProcess(venue: Venue): Promise<FakeHandle> {
  const [symbol, bid, ask] = QUOTES[venue];
  switch (venue) {
    case 'oanda': {
      const fake = await startFakeOanda();
      fake.setQuote(symbol, bid, ask);
      return { url: fake.url, secrets: { token: fake.token, accountId: fake.accountId }, close: () => fake.close() };
    }
    case 'alpaca': {
      const fake = await startFakeAlpaca();
      fake.setQuote(symbol, bid, ask);
      return { url: fake.url, secrets: {}, close: () => fake.close() };
    }
    case 'binance': {
      const fake = await startFakeBinance();
      fake.setQuote(symbol, bid, ask);
      return { url: fake.url, secrets: { apiKey: fake.apiKey, secret: fake.secret }, close: () => fake.close() };
    }
  }
}

const CHILD_FLAG = '--adapters-bench-fake';

interface ReadyMessage {
  type: 'ready';
  url: string;
  secrets: Record<string, string>;
}

/** Starts a venue's fake in a child process (this file, run with CHILD_FLAG). */
async function startInChild(venue: Venue): Promise<FakeHandle> {
  const child: ChildProcess = fork(__filename, [CHILD_FLAG, venue], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ReadyMessage));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the ${venue} fake's process exited (${code}) before it was ready`)));
  });
  child.removeAllListeners('exit');
  return {
    url: ready.url,
    secrets: ready.secrets,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
      }),
  };
}

/** The child's side: run the fake until told to close. */
async function serveFake(venue: Venue): Promise<void> {
  const fake = await startInProcess(venue);
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'close') void fake.close().then(() => process.exit(0));
  });
  // The bench died without closing: do not outlive it.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', url: fake.url, secrets: fake.secrets } satisfies ReadyMessage);
}

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
        res.on('end', () =>
          (res.statusCode ?? 500) < 300
            ? resolve()
            : reject(new Error(`floor request: HTTP ${res.statusCode} on ${raw.path}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(raw.body);
  });
}

/** The adapter, our order, and the same order as a ready-made wire request, for one venue's fake. */
function subject(
  venue: Venue,
  fake: FakeHandle,
): { broker: BrokerApi; order: (i: number) => PlacedOrderRequest; raw: (i: number) => RawRequest } {
  const s = fake.secrets;
  switch (venue) {
    case 'oanda':
      return {
        broker: new OandaBroker({
          baseUrl: fake.url,
          credentials: staticCredentials({ 'oanda.token': s['token'] ?? '', 'oanda.accountId': s['accountId'] ?? '' }),
          pollIntervalMs: 0,
          maxRequestsPerSecond: 1e9,
        }),
        order: (i) => ({
          symbol: 'EUR_USD',
          side: i % 2 ? 'sell' : 'buy',
          quantity: 1000,
          order_type: { type: 'market' },
          time_in_force: { type: 'FOK' },
          metadata: {},
          client_order_id: `a-${i}`,
        }),
        raw: (i) => ({
          path: `/v3/accounts/${s['accountId']}/orders`,
          headers: {
            authorization: `Bearer ${s['token']}`,
            'content-type': 'application/json',
            'accept-datetime-format': 'RFC3339',
          },
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
      };
    case 'alpaca':
      return {
        broker: new AlpacaBroker({
          baseUrl: fake.url,
          dataBaseUrl: fake.url,
          credentials: staticCredentials({
            'alpaca.keyId': FAKE_ALPACA_KEY_ID,
            'alpaca.secretKey': FAKE_ALPACA_SECRET,
          }),
          pollIntervalMs: 0,
        }),
        order: (i) => ({
          symbol: 'AAPL',
          side: i % 2 ? 'sell' : 'buy',
          quantity: 1,
          order_type: { type: 'market' },
          time_in_force: { type: 'GTC' },
          metadata: {},
          client_order_id: `a-${i}`,
        }),
        raw: (i) => ({
          path: '/v2/orders',
          headers: {
            'apca-api-key-id': FAKE_ALPACA_KEY_ID,
            'apca-api-secret-key': FAKE_ALPACA_SECRET,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            symbol: 'AAPL',
            qty: '1',
            side: i % 2 ? 'sell' : 'buy',
            type: 'market',
            time_in_force: 'gtc',
            client_order_id: `r-${i}`,
          }),
        }),
      };
    case 'binance':
      return {
        broker: new BinanceBroker({
          environment: 'testnet',
          baseUrl: fake.url,
          credentials: staticCredentials({ 'binance.apiKey': s['apiKey'] ?? '', 'binance.secret': s['secret'] ?? '' }),
          clock: new TestClock(Date.now()),
          pollIntervalMs: 0,
          enableRateLimit: false,
        }),
        order: (i) => ({
          symbol: 'BTCUSDT',
          side: i % 2 ? 'sell' : 'buy',
          quantity: 0.001,
          order_type: { type: 'market' },
          time_in_force: { type: 'IOC' },
          metadata: {},
          client_order_id: `a-${i}`,
        }),
        raw: (i) => {
          const query = `symbol=BTCUSDT&side=${i % 2 ? 'SELL' : 'BUY'}&type=MARKET&quantity=0.001&newClientOrderId=r-${i}&timestamp=${Date.now()}&recvWindow=10000`;
          const signature = createHmac('sha256', s['secret'] ?? '')
            .update(query)
            .digest('hex');
          return {
            path: '/api/v3/order',
            headers: { 'x-mbx-apikey': s['apiKey'] ?? '', 'content-type': 'application/x-www-form-urlencoded' },
            body: `${query}&signature=${signature}`,
          };
        },
      };
  }
}

async function measure(venue: Venue, fake: FakeHandle, n: number): Promise<void> {
  const { broker, order, raw } = subject(venue, fake);
  await broker.connect();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(fake.url);
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
    if (r.status.status === 'rejected')
      throw new Error(`${venue}: the fake rejected the bench order: ${r.status.reason}`);
    t = monotonicMs();
    await post(agent, base, raw(i));
    floor.push((monotonicMs() - t) * 1000);
  }
  await broker.disconnect();
  agent.destroy();
  const a = quantile(adapter, 0.5);
  const f = quantile(floor, 0.5);
  console.log(
    `${venue.padEnd(8)} adapter submitOrder p50 ${a.toFixed(0).padStart(5)} µs (p99 ${quantile(adapter, 0.99).toFixed(0)})   ` +
      `floor HTTP POST p50 ${f.toFixed(0).padStart(5)} µs (p99 ${quantile(floor, 0.99).toFixed(0)})   ` +
      `overhead ${(a - f).toFixed(0).padStart(4)} µs   ratio ${(a / f).toFixed(2)}×  (target ≤ 1.2×) ${a / f <= 1.2 ? 'MET' : 'NOT MET'}`,
  );
}

export async function benchAdapters(): Promise<void> {
  if (process.env['ADAPTER_CALLS'] !== '0') await benchVenueCalls();
  benchReplyParse();
  const n = Number(process.env['ADAPTER_ORDERS'] ?? 2000);
  const venues = (process.env['ADAPTER_VENUES'] ?? VENUES.join(','))
    .split(',')
    .filter((v): v is Venue => (VENUES as readonly string[]).includes(v));
  const modes = (process.env['ADAPTER_MODES'] ?? 'child,inproc').split(',');
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `\n## REST adapters: submitOrder vs a raw keep-alive HTTP POST of the same order to the same fake venue (${n} orders each; ${cpus().length} CPUs, load average ${load})`,
  );
  for (const mode of ['child', 'inproc'] as const) {
    if (!modes.includes(mode)) continue;
    console.log(
      mode === 'child'
        ? '### fake venue in a child process (headline: a real venue is never in the client process)'
        : "### fake venue in this process (its CPU shares the client's thread)",
    );
    for (const venue of venues) {
      const fake = mode === 'child' ? await startInChild(venue) : await startInProcess(venue);
      try {
        await measure(venue, fake, n);
      } finally {
        await fake.close();
      }
    }
  }
}

if (require.main === module && process.argv[2] === CHILD_FLAG) {
  const venue = process.argv[3] as Venue;
  serveFake(venue).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
