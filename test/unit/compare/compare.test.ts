/**
 * `sptrader compare` (issue 15): the built CLI runs one component once and sends its order to the
 * paper venue and to every broker's local fake at the same moment; each venue's column is checked
 * against what its fake holds.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { verifyAuditDir } from '../../../src/execution/audit/auditLog';
import type { CompareOutcome } from '../../../src/usecases/compare';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeBinance } from '../../fakes/binance/server';
import { startFakeTws } from '../../fakes/ib/server';
import { startFakeOanda } from '../../fakes/oanda/server';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('sptrader compare', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-compare-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shows what the component returned with secret-looking keys redacted (--json echoed an api_key)', async () => {
    const file = join(dir, 'leaky.py');
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class Leaky(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000,",
        "                'metadata': {'api_key': 'sk-live-DO-NOT-PRINT', 'note': 'kept'}}",
        '',
      ].join('\n'),
    );
    const r = await cli(['compare', file, '--venues', 'paper', '--state-dir', join(dir, 'state'), '--json']);
    assert.equal(r.code, 0, r.stderr || r.stdout);
    assert.doesNotMatch(r.stdout + r.stderr, /sk-live-DO-NOT-PRINT/);
    const outcome = JSON.parse(r.stdout) as CompareOutcome;
    const metadata = (outcome.component.output as { metadata: Record<string, unknown> }).metadata;
    assert.equal(metadata['note'], 'kept');
    assert.notEqual(metadata['api_key'], undefined, 'the key is still shown, its value hidden');
  });

  it('sends one FX order to paper, OANDA and IB at once and sets the fills side by side, best price first', async () => {
    const oanda = await startFakeOanda();
    const ib = await startFakeTws();
    try {
      oanda.setQuote('EUR_USD', 1.085, 1.0852);
      ib.setQuote('EUR_USD', 1.0849, 1.0851);
      const profiles = join(dir, 'profiles.json');
      writeFileSync(
        profiles,
        JSON.stringify([
          { id: 'oanda-practice', broker: 'oanda', baseUrl: oanda.url },
          { id: 'ib-paper', broker: 'ib', host: '127.0.0.1', port: ib.port, clientId: 7 },
        ]),
      );
      const env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
      const stateDir = join(dir, 'state');
      const r = await cli(
        [
          'compare',
          MARKET,
          '--venues',
          'oanda-practice,paper,ib-paper',
          '--profiles',
          profiles,
          '--state-dir',
          stateDir,
          '--json',
        ],
        env,
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as CompareOutcome;
      assert.deepEqual(
        out.venues.map((c) => [c.id, c.verdict]),
        [
          ['oanda-practice', 'FILLED'],
          ['paper', 'FILLED'],
          ['ib-paper', 'FILLED'],
        ],
      );
      // The component ran once, on the first venue's quote.
      assert.equal(out.marketData?.['ask'], 1.0852);
      const byId = new Map(out.venues.map((c) => [c.id, c]));
      const o = byId.get('oanda-practice')!;
      const i = byId.get('ib-paper')!;
      const p = byId.get('paper')!;
      assert.deepEqual(o.quote && [o.quote.bid, o.quote.ask], [1.085, 1.0852]);
      assert.deepEqual(i.quote && [i.quote.bid, i.quote.ask], [1.0849, 1.0851]);
      assert.ok(p.quote && p.quote.ask > p.quote.bid, "the paper venue's own touch");
      assert.equal(o.fill?.averagePrice, 1.0852);
      assert.equal(i.fill?.averagePrice, 1.0851);
      for (const c of out.venues) {
        assert.equal(c.fill?.quantity, 10_000, c.id);
        assert.ok(c.slippage, `${c.id} has slippage against its own quote`);
        assert.equal(c.slippage.referencePrice, c.quote?.ask, `${c.id}: a buy is measured against that venue's ask`);
        assert.ok(c.latency.submitMs !== null && c.latency.submitMs >= 0, `${c.id} submit latency`);
        assert.ok(c.latency.fillMs !== null && c.latency.fillMs >= 0, `${c.id} fill latency`);
        assert.ok(c.order?.client_order_id, `${c.id} has its own client order id`);
      }
      assert.equal(new Set(out.venues.map((c) => c.order?.client_order_id)).size, 3, 'one client order id per venue');
      // Exactly one order at each fake, under that venue's id.
      assert.equal(oanda.ordersWithClientId(o.order!.client_order_id!), 1);
      assert.equal(ib.ordersWithClientId(i.order!.client_order_id!), 1);
      // The best is the lowest price paid net of fees; the others are set against it.
      const nets = out.venues.map((c) => [c.id, c.fill!.averagePrice + (c.fees ?? 0) / c.fill!.quantity] as const);
      const best = nets.reduce((a, b) => (b[1] < a[1] ? b : a));
      assert.equal(out.best, best[0]);
      assert.equal(byId.get(out.best)!.versusBest?.price, 0);
      if (out.best === 'ib-paper')
        assert.ok(Math.abs(o.versusBest!.units - 1) < 1e-9, 'OANDA paid one pip more than IB');
      // Every order went through the one audit log, which verifies.
      const audit = await verifyAuditDir(join(stateDir, 'audit'));
      assert.equal(audit.verified, true);
      assert.ok(audit.lines >= 6, 'submit and fill records of three orders');
      // The text form has a column per venue.
      const text = await cli(
        ['compare', MARKET, '--venues', 'oanda-practice,paper', '--profiles', profiles, '--state-dir', stateDir],
        env,
      );
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^status\s+FILLED\s+FILLED$/m);
      assert.match(text.stdout, /^fill\s+10,000 @ 1\.0852\s+10,000 @ 1\.\d+$/m);
      assert.match(text.stdout, /^slippage\s+[+-]?[\d.]+ pips?, [+-]?[\d.]+ bps/m);
      assert.match(text.stdout, /Best fill net of fees: (oanda-practice|paper)/);
    } finally {
      await oanda.close();
      await ib.close();
    }
  });

  it("its first line names the order as the venues took it (916.36… units cut to the lot: 916), not the component's raw figure", async () => {
    const oanda = await startFakeOanda();
    try {
      const profiles = join(dir, 'profiles-lot.json');
      writeFileSync(profiles, JSON.stringify([{ id: 'oanda-practice', broker: 'oanda', baseUrl: oanda.url }]));
      const env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
      // The shipped MarketOrder sizes by capital: a fractional quantity each venue fits to its lot of 1 unit.
      const sized = join(ROOT, 'examples/workspace/core/orders/execution_algos/market_order.py');
      const args = ['compare', sized, '--venues', 'paper,oanda-practice', '--profiles', profiles];
      const r = await cli([...args, '--state-dir', join(dir, 'state-lot'), '--json'], env);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as CompareOutcome;
      assert.ok(
        !Number.isInteger(out.order?.quantity),
        `the component's own quantity is fractional: ${out.order?.quantity}`,
      );
      const sent = out.venues.map((c) => c.order?.quantity);
      assert.equal(new Set(sent).size, 1, `both venues took the same quantity: ${sent.join(', ')}`);
      const first = out.summary.split('\n')[0] ?? '';
      const qty = (sent[0] ?? 0).toLocaleString('en-US');
      assert.ok(first.startsWith(`BUY ${qty} EUR_USD MKT `), first);
    } finally {
      await oanda.close();
    }
  });

  it('sends a stock order to Alpaca and says why Binance and OANDA were not sent to', async () => {
    const alpaca = await startFakeAlpaca();
    const binance = await startFakeBinance();
    const oanda = await startFakeOanda();
    try {
      alpaca.setQuote('AAPL', 190, 190.05);
      const profiles = join(dir, 'profiles.json');
      writeFileSync(
        profiles,
        JSON.stringify([
          { id: 'alpaca', broker: 'alpaca', baseUrl: alpaca.url, dataUrl: alpaca.dataUrl },
          { id: 'binance', broker: 'binance', baseUrl: binance.url },
          { id: 'oanda', broker: 'oanda', baseUrl: oanda.url },
        ]),
      );
      const env = {
        SPTRADER_ALPACA_KEY_ID: FAKE_ALPACA_KEY_ID,
        SPTRADER_ALPACA_SECRET_KEY: FAKE_ALPACA_SECRET,
        SPTRADER_BINANCE_API_KEY: binance.apiKey,
        SPTRADER_BINANCE_SECRET: binance.secret,
        SPTRADER_OANDA_TOKEN: oanda.token,
        SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId,
      };
      const args = [
        '--param',
        'symbol=AAPL',
        '--param',
        'quantity=10',
        '--param',
        'max_spread_pips=1000',
        '--param',
        'pip_size=0.01',
        '--symbol',
        'AAPL',
      ];
      const r = await cli(
        [
          'compare',
          MARKET,
          '--venues',
          'alpaca,binance,oanda',
          '--profiles',
          profiles,
          '--state-dir',
          join(dir, 's'),
          '--json',
          ...args,
        ],
        env,
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as CompareOutcome;
      const byId = new Map(out.venues.map((c) => [c.id, c]));
      assert.equal(byId.get('alpaca')?.verdict, 'FILLED');
      assert.equal(byId.get('alpaca')?.fill?.averagePrice, 190.05);
      for (const id of ['binance', 'oanda']) {
        const c = byId.get(id)!;
        assert.notEqual(c.verdict, 'FILLED', id);
        assert.ok(c.reason && c.reason.length > 10, `${id} says why: ${c.reason}`);
      }
      assert.equal(binance.requestCount('POST /api/v3/order'), 0, 'nothing was sent to Binance');
      assert.equal(out.best, 'alpaca');
    } finally {
      await alpaca.close();
      await binance.close();
      await oanda.close();
    }
  });

  it('refuses a live profile before running anything, and carries on without a venue it cannot reach', async () => {
    const oanda = await startFakeOanda();
    try {
      oanda.setQuote('EUR_USD', 1.085, 1.0852);
      const profiles = join(dir, 'profiles.json');
      const port = await closedPort();
      writeFileSync(
        profiles,
        JSON.stringify([
          { id: 'oanda-live', broker: 'oanda', environment: 'live', baseUrl: oanda.url },
          { id: 'ib-down', broker: 'ib', host: '127.0.0.1', port, clientId: 3 },
        ]),
      );
      const env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
      const live = await cli(
        ['compare', MARKET, '--venues', 'paper,oanda-live', '--profiles', profiles, '--state-dir', join(dir, 'a')],
        env,
      );
      assert.equal(live.code, 2, live.stderr);
      assert.match(live.stderr, /never sends to a live account: oanda-live/);
      assert.equal(oanda.requestCount(), 0, 'not even a connection to the live venue');

      const down = await cli(
        [
          'compare',
          MARKET,
          '--venues',
          'paper,ib-down',
          '--profiles',
          profiles,
          '--state-dir',
          join(dir, 'b'),
          '--json',
        ],
        env,
      );
      assert.equal(down.code, 0, down.stderr + down.stdout);
      const out = JSON.parse(down.stdout) as CompareOutcome;
      assert.equal(out.venues[0]?.verdict, 'FILLED');
      assert.equal(out.venues[1]?.verdict, 'NOT_SENT');
      assert.match(out.venues[1]?.reason ?? '', /could not connect/);
      const unknown = await cli(['compare', MARKET, '--venues', 'paper,nasdaq', '--state-dir', join(dir, 'c')]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown venue 'nasdaq': use one of paper, oanda, alpaca, binance, ib/);
    } finally {
      await oanda.close();
    }
  });

  it('refuses a --profiles file that names one id twice, naming both entries, before running anything', async () => {
    const profiles = join(dir, 'profiles.json');
    writeFileSync(
      profiles,
      JSON.stringify([
        { id: 'oanda-main', broker: 'oanda', environment: 'practice' },
        { id: 'paper-b', broker: 'paper' },
        { id: 'oanda-main', broker: 'oanda', environment: 'live' },
      ]),
    );
    const r = await cli([
      'compare',
      MARKET,
      '--venues',
      'paper,oanda-main',
      '--profiles',
      profiles,
      '--state-dir',
      dir,
    ]);
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assert.match(r.stderr, /profiles\.json, profiles 1 and 3 both have the id "oanda-main"/);
    assert.equal(r.stdout, '', 'nothing ran');
  });

  it('--venues reads an id in other letters as --broker does (PAPER), and refuses one that matches two profiles that way', async () => {
    const upper = await cli(['compare', MARKET, '--venues', 'PAPER', '--state-dir', join(dir, 'case'), '--json']);
    assert.equal(upper.code, 0, upper.stderr + upper.stdout);
    const out = JSON.parse(upper.stdout) as CompareOutcome;
    assert.deepEqual(
      out.venues.map((c) => [c.id, c.verdict]),
      [['paper', 'FILLED']],
    );
    const twice = await cli(['compare', MARKET, '--venues', 'paper,Paper', '--state-dir', join(dir, 'case')]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /--venues names a venue twice: 'paper,Paper'/);
    const profiles = join(dir, 'cased-profiles.json');
    writeFileSync(
      profiles,
      JSON.stringify([
        { id: 'Desk', broker: 'paper' },
        { id: 'desk', broker: 'paper' },
      ]),
    );
    const exact = await cli([
      'compare',
      MARKET,
      '--venues',
      'desk',
      '--profiles',
      profiles,
      '--state-dir',
      join(dir, 'case'),
      '--json',
    ]);
    assert.equal(exact.code, 0, exact.stderr + exact.stdout);
    assert.deepEqual(
      (JSON.parse(exact.stdout) as CompareOutcome).venues.map((c) => c.id),
      ['desk'],
    );
    const ambiguous = await cli([
      'compare',
      MARKET,
      '--venues',
      'DESK',
      '--profiles',
      profiles,
      '--state-dir',
      join(dir, 'case'),
    ]);
    assert.equal(ambiguous.code, 2);
    assert.match(
      ambiguous.stderr,
      /venue 'DESK' matches 'Desk' and 'desk' in other letters: write the id as it is spelled/,
    );
    assert.equal(ambiguous.stdout, '', 'nothing ran');
  });

  it("each column says when its stop was already reached at that venue's touch, and when its quote was delayed", async () => {
    // TWS API "Delayed Streaming Data": a 10167 notice, then the delayed ticks (66/67) — the fake's marketDataNotice.
    const ib = await startFakeTws({
      marketDataNotice: {
        code: 10167,
        message: 'Requested market data is not subscribed. Displaying delayed market data.',
      },
    });
    try {
      ib.setQuote('EUR_USD', 1.0887, 1.0889);
      const component = join(dir, 'stop_below_ask.py');
      writeFileSync(
        component,
        [
          'from core.orders.order_base import OrderBase',
          'class StopBelowAsk(OrderBase):',
          '    def generate_order(self, market_data, signal=None):',
          "        stop = round(market_data['ask'] - 0.0020, 5)",
          "        return {'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'order_type': 'stop', 'price': stop, 'time_in_force': 'GTC'}",
          '',
        ].join('\n'),
      );
      const profiles = join(dir, 'profiles.json');
      writeFileSync(
        profiles,
        JSON.stringify([{ id: 'ib-paper', broker: 'ib', host: '127.0.0.1', port: ib.port, clientId: 9 }]),
      );
      const r = await cli([
        'compare',
        component,
        '--venues',
        'paper,ib-paper',
        '--profiles',
        profiles,
        '--state-dir',
        join(dir, 's'),
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as CompareOutcome;
      const reached = /^the buy stop price [\d.]+ was already reached \(market [\d.]+, the ask\): it triggered at once/;
      const [paper, venue] = out.venues;
      assert.equal(paper?.verdict, 'FILLED', JSON.stringify(paper));
      assert.equal(paper?.notes.filter((n) => reached.test(n)).length, 1, paper?.notes.join('\n'));
      assert.ok(
        venue?.notes.some((n) =>
          /^the quote from Interactive Brokers is delayed market data, some 15 minutes behind/.test(n),
        ),
        venue?.notes.join('\n'),
      );
      assert.ok(!paper?.notes.some((n) => /delayed/.test(n)), "the paper venue's live quote is not called delayed");
      if (venue?.verdict === 'FILLED')
        assert.ok(
          venue.notes.some((n) => reached.test(n)),
          venue.notes.join('\n'),
        );
    } finally {
      await ib.close();
    }
  });

  it('a combination the venue lacks is refused locally with its reason, and the other venue still fills', async () => {
    const oanda = await startFakeOanda();
    try {
      oanda.setQuote('EUR_USD', 1.085, 1.0852);
      const component = join(dir, 'market_gtc.py');
      writeFileSync(
        component,
        [
          'from core.orders.order_base import OrderBase',
          'class MarketGtc(OrderBase):',
          '    def generate_order(self, market_data, signal=None):',
          "        return {'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'order_type': 'market', 'time_in_force': 'GTC'}",
          '',
        ].join('\n'),
      );
      const profiles = join(dir, 'profiles.json');
      writeFileSync(profiles, JSON.stringify([{ id: 'oanda', broker: 'oanda', baseUrl: oanda.url }]));
      const env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
      const r = await cli(
        [
          'compare',
          component,
          '--venues',
          'paper,oanda',
          '--profiles',
          profiles,
          '--state-dir',
          join(dir, 's'),
          '--json',
        ],
        env,
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as CompareOutcome;
      const [paper, venue] = out.venues;
      assert.equal(paper?.verdict, 'FILLED');
      assert.equal(paper?.fill?.quantity, 1000);
      // OANDA executes market orders at once or not at all (its capability table): refused before sending.
      assert.equal(venue?.verdict, 'DENIED');
      assert.equal(venue?.code, 'UNSUPPORTED_ORDER');
      assert.match(venue?.reason ?? '', /OANDA executes market orders at once or not at all/);
      assert.equal(oanda.requestCount('POST /orders'), 0, 'nothing was sent to OANDA');
      assert.equal(out.best, 'paper');
    } finally {
      await oanda.close();
    }
  });
});
