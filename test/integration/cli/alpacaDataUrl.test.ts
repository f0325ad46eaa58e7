/**
 * The built CLI (`dist/cli.js`) at a self-hosted Alpaca: `--base-url` moves the trading host and
 * `--data-url` the market-data host, both at local fakes (two servers, as Alpaca splits them). A guard
 * loaded into the CLI's process (`--require`) records every TCP connection it opens and refuses any host
 * but 127.0.0.1, so the test shows that no request leaves this machine, not only that the order arrived.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');

/** Loaded with --require: logs each TCP connection as host:port and refuses every host but loopback. */
const GUARD = `'use strict';
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const log = process.env.SPTRADER_TEST_CONNECT_LOG;
const local = (host) => host === '127.0.0.1' || host === 'localhost' || host === '::1';
const refusal = (host) => Object.assign(new Error('connect to ' + host + ' refused: the test allows only 127.0.0.1'), { code: 'ECONNREFUSED' });
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  if (options.path == null && options.port != null) {
    const host = options.host == null ? 'localhost' : String(options.host);
    fs.appendFileSync(log, host + ':' + options.port + '\\n');
    if (!local(host)) {
      process.nextTick(() => this.destroy(refusal(host)));
      return this;
    }
  }
  return connect.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  if (local(host)) return lookup.call(this, host, ...rest);
  fs.appendFileSync(log, 'dns ' + host + '\\n');
  const callback = rest[rest.length - 1];
  process.nextTick(() => callback(refusal(host)));
};
`;

/** Buys one share of AAPL at the quote it is given (whole shares: Alpaca takes fractions only on DAY orders). */
const COMPONENT = `from core.orders.order_base import OrderBase

class OneShare(OrderBase):
    def generate_order(self, market_data, signal=None):
        if market_data['ask'] <= market_data['bid']:
            return None
        return {'symbol': 'AAPL', 'side': 'buy', 'order_type': 'market', 'quantity': 1}
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every TCP connection (host:port) and refused DNS look-up the CLI made. */
  connections: string[];
}

describe('sptrader CLI at a self-hosted Alpaca (--base-url with --data-url)', function () {
  this.timeout(60_000);
  let dir: string;
  let fake: FakeAlpaca;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-alpaca-data-'));
    writeFileSync(join(dir, 'guard.cjs'), GUARD);
    writeFileSync(join(dir, 'one_share.py'), COMPONENT);
    fake = await startFakeAlpaca({ separateDataHost: true });
    fake.setQuote('AAPL', 189.9, 190.1);
  });
  afterEach(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Asynchronous: the fakes answer in this process. */
  const run = (args: string[]): Promise<Run> => {
    const log = join(dir, 'connections.log');
    writeFileSync(log, '');
    const env = {
      ...process.env,
      NODE_OPTIONS: `--require ${join(dir, 'guard.cjs')}`,
      SPTRADER_TEST_CONNECT_LOG: log,
      SPTRADER_ALPACA_KEY_ID: FAKE_ALPACA_KEY_ID,
      SPTRADER_ALPACA_SECRET_KEY: FAKE_ALPACA_SECRET,
    };
    const cliArgs = [
      CLI,
      'test-order',
      join(dir, 'one_share.py'),
      '--state-dir',
      join(dir, 'state'),
      // --broker alpaca unless the case names another (a flag given twice is a usage error).
      ...(args.includes('--broker') ? [] : ['--broker', 'alpaca']),
      '--symbol',
      'AAPL',
      ...args,
    ];
    return new Promise((done) => {
      execFile(process.execPath, cliArgs, { env, timeout: 50_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({
          code,
          stdout,
          stderr,
          connections: readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l !== ''),
        });
      });
    });
  };

  it('runs a Test Order end to end with the quote from the local data host; no connection leaves 127.0.0.1', async () => {
    const r = await run(['--base-url', fake.url, '--data-url', fake.dataUrl, '--json']);
    const said = `exit ${r.code}\n${r.stderr}\n${r.stdout}\nconnections: ${r.connections.join(', ')}`;
    assert.equal(r.code, 0, said);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      order: { client_order_id: string };
      response: { status: { status: string } };
    };
    assert.equal(out.ok, true, said);
    assert.equal(out.response.status.status, 'filled', said);
    assert.equal(
      fake.ordersWithClientId(out.order.client_order_id),
      1,
      'the order reached the local trading host once',
    );
    assert.ok(
      fake.requestCount('GET /v2/stocks/:symbol/quotes/latest') >= 1,
      `the quote came from the local data host\n${said}`,
    );
    assert.ok(fake.requestsAt('data') >= 1 && fake.requestsAt('trading') >= 3, said);
    // Every connection the CLI opened went to one of the two fakes.
    const allowed = new Set([new URL(fake.url).host, new URL(fake.dataUrl).host]);
    assert.ok(r.connections.length >= 2, said);
    for (const c of r.connections) assert.ok(allowed.has(c), `a connection to ${c} left the fakes\n${said}`);
    assert.ok(r.connections.includes(new URL(fake.dataUrl).host), `the CLI connected to the data host\n${said}`);
  });

  it('--base-url without --data-url is a usage error (exit 2) naming --data-url, before anything is sent', async () => {
    const r = await run(['--base-url', fake.url]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /--base-url points Alpaca's trading API at http:\/\/127\.0\.0\.1:\d+, but quotes would still go to Alpaca's data host/,
    );
    assert.match(
      r.stderr,
      /https:\/\/data\.alpaca\.markets with your keys: add --data-url URL \(the same server, if it serves market data too/,
    );
    assert.equal(fake.requestCount(), 0);
    assert.deepEqual(r.connections, []);
  });

  it('--data-url is refused for a venue other than Alpaca, and an invalid one names the field', async () => {
    const oanda = await run(['--broker', 'oanda', '--data-url', fake.dataUrl]);
    assert.equal(oanda.code, 2, oanda.stderr);
    assert.match(oanda.stderr, /--data-url applies to --broker alpaca only/);
    const plain = await run(['--base-url', fake.url, '--data-url', 'http://data.example']);
    assert.equal(plain.code, 2, plain.stderr);
    assert.match(plain.stderr, /dataUrl must be https \(plain http only on a loopback address\)/);
    assert.equal(fake.requestCount(), 0);
  });
});
