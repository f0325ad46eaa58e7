/**
 * Venue calls per order: what one order costs each venue in requests, counted at its fake (and, for
 * Binance, in request weight, which its rate limit is counted in). Two operations per venue:
 * - a CLI Test Order (`dist/cli.js test-order`, as a user runs it: connect, run the component, check,
 *   send, wait for the answer, disconnect), against a fresh fake;
 * - an execute-like submit: the engine, already connected (as Execute Live finds it after its check),
 *   sends one market order and waits for it to end; only the requests from `submit` on are counted.
 * Run with `node out/bench/main.js adapters` (after `node scripts/build.mjs`, which builds dist/cli.js).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/common/clock';
import { createBroker, type BrokerProfileInput } from '../src/brokers/registry';
import { staticCredentials } from '../src/brokers/credentials';
import { submitOrderCommand } from '../src/execution/events';
import { DEFAULT_CIRCUIT_BREAKER } from '../src/execution/tradingState';
import { openTradingSession } from '../src/usecases/session';
import type { OrderRequest } from '../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../test/fakes/alpaca/server';
import { startFakeBinance, type FakeBinance } from '../test/fakes/binance/server';
import type { FakeVenue } from '../test/fakes/control';
import { startFakeTws } from '../test/fakes/ib/server';
import { startFakeOanda } from '../test/fakes/oanda/server';

type Venue = 'oanda' | 'alpaca' | 'binance' | 'ib';
const VENUES: readonly Venue[] = ['oanda', 'alpaca', 'binance', 'ib'];
/** The repository (`npm run bench` runs from it). */
const ROOT = process.cwd();
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET_EXAMPLE = join(ROOT, 'examples', 'workspace', 'core', 'orders', 'execution_algos', 'market_order.py');

interface Started {
  fake: FakeVenue;
  cliArgs: string[];
  env: NodeJS.ProcessEnv;
  profile: BrokerProfileInput;
  credentials: Record<string, string>;
  order: OrderRequest;
}

const market = (symbol: string, quantity: number, tif: 'GTC' | 'IOC'): OrderRequest => ({
  symbol,
  side: 'buy',
  quantity,
  order_type: { type: 'market' },
  time_in_force: { type: tif },
  metadata: {},
});

async function start(venue: Venue, scratch: string): Promise<Started> {
  switch (venue) {
    case 'oanda': {
      const fake = await startFakeOanda();
      fake.setQuote('EUR_USD', 1.085, 1.0852);
      // OANDA executes market orders at once or not at all: the component sends IOC.
      const component = join(scratch, 'oanda_market_ioc.py');
      writeFileSync(
        component,
        "from core.orders.order_base import OrderBase\nclass MarketIoc(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'IOC'}\n",
      );
      return {
        fake,
        cliArgs: [component, '--broker', 'oanda', '--base-url', fake.url, '--symbol', 'EUR_USD'],
        env: { SPTRADER_OANDA_TOKEN: fake.token, SPTRADER_OANDA_ACCOUNT_ID: fake.accountId },
        profile: { id: 'oanda', broker: 'oanda', environment: 'practice', baseUrl: fake.url },
        credentials: { 'oanda.token': fake.token, 'oanda.accountId': fake.accountId },
        order: market('EUR_USD', 1000, 'IOC'),
      };
    }
    case 'alpaca': {
      const fake = await startFakeAlpaca();
      fake.setQuote('AAPL', 189.9, 190.1);
      return {
        fake,
        cliArgs: [
          MARKET_EXAMPLE,
          '--broker',
          'alpaca',
          '--base-url',
          fake.url,
          '--data-url',
          fake.url,
          '--symbol',
          'AAPL',
        ],
        env: { SPTRADER_ALPACA_KEY_ID: FAKE_ALPACA_KEY_ID, SPTRADER_ALPACA_SECRET_KEY: FAKE_ALPACA_SECRET },
        profile: { id: 'alpaca', broker: 'alpaca', environment: 'paper', baseUrl: fake.url, dataUrl: fake.url },
        credentials: { 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET },
        order: market('AAPL', 1, 'GTC'),
      };
    }
    case 'binance': {
      const fake = await startFakeBinance();
      fake.setQuote('BTCUSDT', 60_000, 60_001);
      return {
        fake,
        cliArgs: [MARKET_EXAMPLE, '--broker', 'binance', '--base-url', fake.url, '--symbol', 'BTC/USDT'],
        env: { SPTRADER_BINANCE_API_KEY: fake.apiKey, SPTRADER_BINANCE_SECRET: fake.secret },
        profile: { id: 'binance', broker: 'binance', environment: 'testnet', baseUrl: fake.url },
        credentials: { 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret },
        order: market('BTCUSDT', 0.001, 'GTC'),
      };
    }
    case 'ib': {
      const fake = await startFakeTws();
      fake.setQuote('AAPL', 189.9, 190.1);
      return {
        fake,
        cliArgs: [
          MARKET_EXAMPLE,
          '--broker',
          'ib',
          '--host',
          fake.host,
          '--port',
          String(fake.port),
          '--client-id',
          '7',
          '--symbol',
          'AAPL',
        ],
        env: {},
        profile: { id: 'ib', broker: 'ib', environment: 'paper', host: fake.host, port: fake.port, clientId: 8 },
        credentials: {},
        order: market('AAPL', 1, 'GTC'),
      };
    }
  }
}

/** What changed between two `requestCounts()`. */
function delta(after: Record<string, number>, before: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [route, n] of Object.entries(after))
    if (n - (before[route] ?? 0) > 0) out[route] = n - (before[route] ?? 0);
  return out;
}

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
const describe = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, n]) => `${route} ×${n}`)
    .join(', ');

async function cliTestOrder(
  s: Started,
  stateDir: string,
): Promise<{ code: number; ms: number; stdout: string; stderr: string }> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, 'test-order', ...s.cliArgs.slice(0, 1), '--state-dir', stateDir, '--json', ...s.cliArgs.slice(1)],
      { cwd: ROOT, env: { ...process.env, ...s.env }, timeout: 90_000 },
      (error, stdout, stderr) =>
        done({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          ms: Date.now() - started,
          stdout,
          stderr,
        }),
    );
  });
}

async function executeLike(
  s: Started,
  stateDir: string,
): Promise<{ counts: Record<string, number>; weight: number; state: string }> {
  const broker = createBroker(s.profile, {
    clock: systemClock,
    credentials: staticCredentials(s.credentials),
    stateDir,
  });
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { [broker.id]: broker },
    settings: {
      limits: { maxOrderQuantity: 1e9, maxPositionQuantity: 1e15, maxOrderNotional: 1e15, priceCollarBps: 5000 },
      circuitBreaker: DEFAULT_CIRCUIT_BREAKER,
    },
  });
  try {
    await trading.engine.connect(broker.id);
    const before = s.fake.requestCounts();
    const weightBefore = weightOf(s.fake);
    const cmd = submitOrderCommand(s.order, { venue: broker.id, source: 'execute-live', clock: systemClock });
    const result = await trading.engine.submit(cmd);
    const record = (await trading.engine.waitForFinal(cmd.clientOrderId, 5000)) ?? result.order;
    return {
      counts: delta(s.fake.requestCounts(), before),
      weight: weightOf(s.fake) - weightBefore,
      state: record.state,
    };
  } finally {
    await trading.close();
    await broker.disconnect();
  }
}

const weightOf = (fake: FakeVenue): number => ('usedWeight' in fake ? (fake as FakeBinance).usedWeight() : 0);

export interface VenueCallFigures {
  venue: Venue;
  testOrder: Record<string, number>;
  testOrderWeight: number;
  execute: Record<string, number>;
  executeWeight: number;
}

/** Prints and returns the calls one Test Order and one execute-like submit make at each venue's fake. */
export async function benchVenueCalls(venues: readonly Venue[] = VENUES): Promise<VenueCallFigures[]> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run node scripts/build.mjs first`);
  console.log('\n## Venue calls per order (requests at each fake; Binance also in request weight)');
  const out: VenueCallFigures[] = [];
  for (const venue of venues) {
    const scratch = mkdtempSync(join(tmpdir(), `sptrader-bench-calls-${venue}-`));
    try {
      const s = await start(venue, scratch);
      let figures: VenueCallFigures;
      try {
        const run = await cliTestOrder(s, join(scratch, 'cli-state'));
        if (run.code !== 0) throw new Error(`test-order at ${venue} exited ${run.code}: ${run.stderr}${run.stdout}`);
        const testOrder = s.fake.requestCounts();
        const testOrderWeight = weightOf(s.fake);
        const ex = await executeLike(s, join(scratch, 'engine-state'));
        figures = { venue, testOrder, testOrderWeight, execute: ex.counts, executeWeight: ex.weight };
        const w = (n: number) => (venue === 'binance' ? `, weight ${n}` : '');
        console.log(
          `- ${venue} test-order (CLI, ${run.ms} ms): ${total(testOrder)} requests${w(testOrderWeight)}: ${describe(testOrder)}`,
        );
        console.log(
          `- ${venue} execute-like submit (${ex.state}): ${total(ex.counts)} requests${w(ex.weight)}: ${describe(ex.counts)}`,
        );
      } finally {
        await s.fake.close();
      }
      out.push(figures);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return out;
}
