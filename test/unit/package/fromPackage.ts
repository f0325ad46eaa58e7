/**
 * The CLI of an unpacked package, run the way a user of the .vsix runs it: from a folder outside the
 * repository (no node_modules anywhere above it, no NODE_PATH, HOME in the folder) against each venue's
 * local fake, with credentials in SPTRADER_* variables. Used by vsix.test.ts (a copy of the built files)
 * and by test/e2e/cliFromVsix.mjs (the packaged .vsix, unzipped).
 *
 * Every child gets a preload that refuses DNS for any host but the loopback one: the outside world is
 * unreachable by construction, so no run reaches the internet whatever an SDK tries.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeBinance } from '../../fakes/binance/server';
import { startFakeTws } from '../../fakes/ib/server';
import { startFakeOanda } from '../../fakes/oanda/server';
import type { FakeVenue } from '../../fakes/control';

/** The chunk each adapter requires on first connect, as scripts/build.mjs names them. */
export const SDK_CHUNKS = ['ccxt-binance', 'alpaca', 'ib'] as const;
/** The packages the chunks replace: none may be found from inside the package. */
export const SDK_PACKAGES = ['ccxt', '@alpacahq/alpaca-trade-api', '@stoqey/ib'] as const;

export type Venue = 'oanda' | 'binance' | 'alpaca' | 'ib';
/** OANDA needs no SDK (fetch), but it is one of the four venues a user gets in the package. */
export const VENUES: readonly Venue[] = ['oanda', 'binance', 'alpaca', 'ib'];

const GUARD = `'use strict';
// Written by test/unit/package/fromPackage.ts: only the loopback host resolves.
const dns = require('node:dns');
const local = (host) => host === 'localhost' || host === '127.0.0.1' || host === '::1';
const refuse = (host) => Object.assign(new Error('getaddrinfo ENOTFOUND ' + host + ' (the test allows only 127.0.0.1)'), { code: 'ENOTFOUND', hostname: host });
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  if (local(host)) return lookup.call(this, host, ...rest);
  const callback = rest[rest.length - 1];
  process.nextTick(() => callback(refuse(host)));
};
const promised = dns.promises.lookup;
dns.promises.lookup = (host, ...rest) => (local(host) ? promised(host, ...rest) : Promise.reject(refuse(host)));
`;

/** A scratch folder outside the repository, with the network guard; `dispose` removes it. */
export function scratch(prefix: string): { dir: string; env: NodeJS.ProcessEnv; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const guard = join(dir, 'network-guard.cjs');
  writeFileSync(guard, GUARD);
  mkdirSync(join(dir, 'home'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: join(dir, 'home'),
    NODE_OPTIONS: `--require ${guard}`,
    ...(process.env['SPTRADER_PYTHON'] === undefined ? {} : { SPTRADER_PYTHON: process.env['SPTRADER_PYTHON'] }),
  };
  return { dir, env, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The SDK packages `node` finds from `dir` with `env` (none, when the folder is really isolated). */
export function resolvableSdkPackages(dir: string, env: NodeJS.ProcessEnv): string[] {
  const script = `const found = []; for (const p of ${JSON.stringify(SDK_PACKAGES)}) { try { require.resolve(p); found.push(p); } catch {} } process.stdout.write(JSON.stringify(found));`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node -e failed in ${dir}: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

export interface ChunkFigure {
  chunk: string;
  bytes: number;
  /** `require` of the chunk in a fresh node, measured inside it. */
  loadMs: number;
  /** What the chunk exports (the names the adapter needs must be among them). */
  exports: string[];
}

/** Each chunk of `<extensionDir>/dist/sdk/`, loaded alone in a fresh `node` with `env`. */
export function chunkFigures(extensionDir: string, env: NodeJS.ProcessEnv): ChunkFigure[] {
  return SDK_CHUNKS.map((chunk) => {
    const file = join(extensionDir, 'dist', 'sdk', `${chunk}.js`);
    const script = `const t = process.hrtime.bigint(); const m = require(${JSON.stringify(file)}); const ms = Number(process.hrtime.bigint() - t) / 1e6; process.stdout.write(JSON.stringify({ ms, exports: Object.keys(m) }));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: extensionDir, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${chunk}.js does not load in a plain node: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { ms: number; exports: string[] };
    return { chunk, bytes: statSync(file).size, loadMs: out.ms, exports: out.exports };
  });
}

export interface VenueRun {
  venue: Venue;
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** The CLI's --json output, when it printed one. */
  json:
    { ok?: boolean; order?: { client_order_id?: string }; errors?: { code: string; message: string }[] } | undefined;
  /** Requests the fake received, and the orders it holds with the run's client order id. */
  requests: number;
  ordersAtVenue: number;
  /** Requests of the route that shows the venue's SDK spoke to the fake (the account read at connect). */
  connectRequests: number;
}

const EXAMPLE = join('examples', 'workspace', 'core', 'orders', 'execution_algos', 'market_order.py');

/** `<extensionDir>/dist/cli.js test-order market_order.py --broker <venue>` against a fresh fake. */
export async function runAtVenue(
  extensionDir: string,
  venue: Venue,
  work: { dir: string; env: NodeJS.ProcessEnv },
): Promise<VenueRun> {
  const stateDir = mkdtempSync(join(work.dir, `state-${venue}-`));
  let fake: FakeVenue;
  let args: string[];
  let env: NodeJS.ProcessEnv = {};
  let connectRoute: string | undefined;
  let component = join(extensionDir, EXAMPLE);
  if (venue === 'oanda') {
    const oanda = await startFakeOanda();
    fake = oanda;
    // OANDA executes market orders at once or not at all: the component sends IOC (README, note [1]).
    component = join(stateDir, 'oanda_market_ioc.py');
    writeFileSync(
      component,
      "from core.orders.order_base import OrderBase\nclass MarketIoc(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'IOC'}\n",
    );
    args = ['--broker', 'oanda', '--base-url', oanda.url, '--symbol', 'EUR_USD'];
    env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
    // Any request: OANDA's client is fetch, in the bundle itself.
    connectRoute = undefined;
  } else if (venue === 'binance') {
    const binance = await startFakeBinance();
    binance.setQuote('BTCUSDT', 60_000, 60_001);
    fake = binance;
    args = ['--broker', 'binance', '--base-url', binance.url, '--symbol', 'BTC/USDT'];
    env = { SPTRADER_BINANCE_API_KEY: binance.apiKey, SPTRADER_BINANCE_SECRET: binance.secret };
    connectRoute = 'GET /api/v3/account';
  } else if (venue === 'alpaca') {
    // Trading and market data on two servers, as Alpaca splits them.
    const alpaca = await startFakeAlpaca({ separateDataHost: true });
    alpaca.setQuote('AAPL', 189.9, 190.1);
    fake = alpaca;
    args = ['--broker', 'alpaca', '--base-url', alpaca.url, '--data-url', alpaca.dataUrl, '--symbol', 'AAPL'];
    env = { SPTRADER_ALPACA_KEY_ID: FAKE_ALPACA_KEY_ID, SPTRADER_ALPACA_SECRET_KEY: FAKE_ALPACA_SECRET };
    connectRoute = 'GET /v2/account';
  } else {
    fake = await startFakeTws();
    fake.setQuote('AAPL', 189.9, 190.1);
    args = ['--broker', 'ib', '--host', fake.host, '--port', String(fake.port), '--client-id', '7', '--symbol', 'AAPL'];
    connectRoute = 'START_API';
  }
  try {
    const cliArgs = [
      join(extensionDir, 'dist', 'cli.js'),
      'test-order',
      component,
      '--state-dir',
      stateDir,
      '--json',
      ...args,
    ];
    const started = Date.now();
    // Asynchronous: the fake answers in this process.
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        cliArgs,
        { cwd: work.dir, env: { ...work.env, ...env }, timeout: 90_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
        },
      );
    });
    const wallMs = Date.now() - started;
    let json: VenueRun['json'];
    try {
      json = JSON.parse(r.stdout) as VenueRun['json'];
    } catch {
      json = undefined;
    }
    const clientOrderId = json?.order?.client_order_id;
    return {
      venue,
      args,
      ...r,
      wallMs,
      json,
      requests: fake.requestCount(),
      ordersAtVenue: clientOrderId === undefined ? 0 : fake.ordersWithClientId(clientOrderId),
      connectRequests: fake.requestCount(connectRoute),
    };
  } finally {
    await fake.close();
  }
}

/** What each venue's run must show. */
export function assertVenueRun(run: VenueRun): void {
  const said = `exit ${run.code}\n${run.stderr}\n${run.stdout}`;
  assert.doesNotMatch(run.stdout + run.stderr, /Cannot find module|could not be loaded|cannot load/i, said);
  assert.ok(run.connectRequests > 0, `the ${run.venue} SDK connected to the fake\n${said}`);
  assert.equal(run.code, 0, said);
  assert.equal(run.json?.ok, true, said);
  assert.equal(run.ordersAtVenue, 1, `the order reached the fake ${run.venue} once\n${said}`);
}
