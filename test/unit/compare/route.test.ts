/**
 * Smart routing (issue 15): the choice among real paper venues with set quotes, fees and capabilities,
 * the route's own validation, and the CLI's Test Order routing a component's order to an OANDA fake.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';
import type { QuoteSource } from '../../../src/brokers/paper/feed';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import type { OrderRequest, Quote } from '../../../src/orders/model';
import { chooseVenue, presumptiveFee, splitRoute, type RouteFees } from '../../../src/execution/route';
import { startFakeOanda } from '../../fakes/oanda/server';

class Touch implements QuoteSource {
  constructor(
    private bid: number,
    private ask: number,
    private size = 1e9,
  ) {}
  quote(symbol: string, atMs: number): Quote {
    return {
      symbol: instrumentKey(symbol),
      bid: this.bid,
      ask: this.ask,
      last: (this.bid + this.ask) / 2,
      bid_size: this.size,
      ask_size: this.size,
      timestamp: atMs,
    };
  }
}

function venue(id: string, bid: number, ask: number, size?: number, environment?: 'live'): BrokerApi {
  const paper = new PaperBroker({
    clock: new TestClock(Date.UTC(2026, 11, 2, 12)),
    quotes: new Touch(bid, ask, size),
    depth: false,
  });
  const b = delegatingBroker(paper, { id });
  return environment ? { ...b, environment } : b;
}

const order = (o: Partial<OrderRequest> = {}): OrderRequest => ({
  symbol: 'BTCUSDT',
  side: 'buy',
  quantity: 1,
  order_type: { type: 'market' },
  time_in_force: { type: 'IOC' },
  metadata: {},
  ...o,
});

describe('smart routing', () => {
  it('chooses the best price net of fees: a cheaper ask loses to a dearer one without fees', async () => {
    const venues = new Map([
      ['a', venue('a', 99.9, 100.0)],
      ['b', venue('b', 99.95, 100.05)],
    ]);
    const fees: Record<string, RouteFees> = { a: { takerBps: 10 }, b: {} };
    const d = await chooseVenue(
      order(),
      { policy: 'best_price', venues: ['a', 'b'] },
      { venues, fees: (id) => fees[id] },
    );
    assert.equal(d.chosen, 'b', d.reason);
    const [a, b] = d.candidates;
    assert.equal(a?.price, 100);
    assert.equal(a?.fee, 0.1);
    assert.equal(a?.net, 100.1);
    assert.equal(b?.net, 100.05);
    assert.match(d.reason, /best net price: b ask 100\.05 = 100\.05\/unit; over a ask 100 \+ fee 0\.1 = 100\.1\/unit/);
    // Without fees the cheaper ask wins; a sell goes to the higher bid.
    assert.equal(
      (await chooseVenue(order(), { policy: 'best_price', venues: ['a', 'b'] }, { venues, fees: () => undefined }))
        .chosen,
      'a',
    );
    assert.equal(
      (
        await chooseVenue(
          order({ side: 'sell' }),
          { policy: 'best_price', venues: ['a', 'b'] },
          { venues, fees: () => undefined },
        )
      ).chosen,
      'b',
    );
  });

  it('skips, with the reason, a venue that is unknown, live, lacks the order type or does not list the symbol', async () => {
    const oandaLike = venue('fx-only', 1.08, 1.0801);
    const noStops: BrokerApi = {
      ...venue('no-stops', 99, 99.01),
      capabilities: {
        ...oandaLike.capabilities,
        orderTypes: { market: true, limit: true, stop: false, stop_limit: false, trailing_stop: false },
      },
    };
    const venues = new Map<string, BrokerApi>([
      ['good', venue('good', 100, 100.02)],
      ['live', venue('live', 50, 50.01, undefined, 'live')],
      ['no-stops', noStops],
    ]);
    const stop = order({ order_type: { type: 'stop', price: 101 }, time_in_force: { type: 'GTC' } });
    const d = await chooseVenue(
      stop,
      { policy: 'best_price', venues: ['nowhere', 'live', 'no-stops', 'good'] },
      { venues, fees: () => undefined },
    );
    assert.equal(d.chosen, 'good');
    const reasons = Object.fromEntries(d.candidates.map((c) => [c.venue, c.skipped]));
    assert.match(reasons['nowhere'] ?? '', /not a venue of this session \(have good, live, no-stops\)/);
    assert.match(reasons['live'] ?? '', /live account/);
    assert.match(reasons['no-stops'] ?? '', /does not accept stop orders/);
    assert.equal(reasons['good'], null);
    assert.match(d.reason, /skipped nowhere .*, live .*, no-stops/);
    const none = await chooseVenue(
      stop,
      { policy: 'best_price', venues: ['live', 'no-stops'] },
      { venues, fees: () => undefined },
    );
    assert.equal(none.chosen, null);
    assert.match(none.reason, /^no venue could take the order: live: .*; no-stops: /);
  });

  it('ranks a venue showing enough size ahead of a better price that cannot take the whole quantity', async () => {
    const venues = new Map([
      ['thin', venue('thin', 99.9, 100.0, 0.5)],
      ['deep', venue('deep', 99.9, 100.1, 10)],
    ]);
    const d = await chooseVenue(
      order({ quantity: 2 }),
      { policy: 'best_price', venues: ['thin', 'deep'] },
      { venues, fees: () => undefined },
    );
    assert.equal(d.chosen, 'deep');
    assert.equal(d.candidates[0]?.coversSize, false);
    assert.equal(d.candidates[1]?.coversSize, true);
    const small = await chooseVenue(
      order({ quantity: 0.1 }),
      { policy: 'best_price', venues: ['thin', 'deep'] },
      { venues, fees: () => undefined },
    );
    assert.equal(small.chosen, 'thin');
  });

  it('presumes fees as schedules state them: bps of notional, per unit with a minimum and a cap', () => {
    assert.equal(presumptiveFee({ takerBps: 10 }, 65_000, 0.5), 32.5);
    assert.equal(
      presumptiveFee({ perUnit: 0.005, minimum: 1, maxFractionOfNotional: 0.01 }, 190, 10),
      1,
      'IB: the $1 minimum',
    );
    assert.equal(presumptiveFee({ perUnit: 0.005, minimum: 1, maxFractionOfNotional: 0.01 }, 190, 1000), 5);
    assert.equal(
      presumptiveFee({ perUnit: 0.005, minimum: 1, maxFractionOfNotional: 0.01 }, 0.5, 100),
      0.5,
      'capped at 1 % of notional',
    );
    assert.equal(presumptiveFee(undefined, 100, 10), 0);
  });

  it('takes the route off the order in every dialect, and names the field of a bad route', () => {
    const plain = splitRoute({ route: 'best_price', venues: ['a', 'b'], symbol: 'X', side: 'buy' });
    assert.ok(!('error' in plain));
    assert.deepEqual(plain.route, { policy: 'best_price', venues: ['a', 'b'] });
    assert.deepEqual(plain.order, { symbol: 'X', side: 'buy' });
    const envelope = splitRoute({ type: 'order_request', order: { route: 'best_price', venues: ['a'], symbol: 'X' } });
    assert.ok(!('error' in envelope));
    assert.deepEqual(envelope.order, { type: 'order_request', order: { symbol: 'X' } });
    assert.deepEqual(splitRoute({ symbol: 'X' }), { route: undefined, order: { symbol: 'X' } });
    const bad = (v: unknown): string => {
      const r = splitRoute(v);
      assert.ok('error' in r, JSON.stringify(v));
      return `${r.error.path}: ${r.error.message}`;
    };
    assert.match(
      bad({ route: 'cheapest', venues: ['a'] }),
      /^route: route "cheapest" is not a routing policy; use one of best_price$/,
    );
    assert.match(bad({ route: 'best_price' }), /^venues: venues must be a list of venue ids/);
    assert.match(bad({ route: 'best_price', venues: [] }), /^venues: venues must name at least one venue$/);
    assert.match(bad({ route: 'best_price', venues: ['a', 'a'] }), /^venues: venues names a venue twice$/);
    assert.match(bad({ venues: ['a'] }), /^route: /);
    assert.match(bad({ type: 'order_request', order: { route: 'x', venues: ['a'] } }), /^order\.route: /);
  });
});

describe('sptrader test-order --venues: a routed component', function () {
  this.timeout(90_000);
  const ROOT = resolve(__dirname, '../../../..');
  const CLI = join(ROOT, 'dist', 'cli.js');
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-route-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((done) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
        (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('sends to the venue with the better price, records why in the audit log, and refuses routing with one venue', async () => {
    const oanda = await startFakeOanda();
    try {
      // Far below the paper venue's synthetic EUR_USD (around 1.08): OANDA is the better buy.
      oanda.setQuote('EUR_USD', 1.0, 1.0002);
      const component = join(dir, 'routed.py');
      writeFileSync(
        component,
        [
          'from core.orders.order_base import OrderBase',
          'class Routed(OrderBase):',
          '    def generate_order(self, market_data, signal=None):',
          "        return {'route': 'best_price', 'venues': ['paper', 'oanda'], 'symbol': 'EUR_USD', 'side': 'buy',",
          "                'quantity': 1000, 'order_type': 'market', 'time_in_force': 'IOC'}",
          '',
        ].join('\n'),
      );
      const profiles = join(dir, 'profiles.json');
      writeFileSync(profiles, JSON.stringify([{ id: 'oanda', broker: 'oanda', baseUrl: oanda.url }]));
      const env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
      const stateDir = join(dir, 'state');
      const r = await cli(
        ['test-order', component, '--venues', 'paper,oanda', '--profiles', profiles, '--state-dir', stateDir, '--json'],
        env,
      );
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const out = JSON.parse(r.stdout) as {
        venue: { id: string };
        order: OrderRequest & { client_order_id: string };
        response: { filled_price: number };
        route: { chosen: string; reason: string; candidates: Array<{ venue: string; price: number }> };
      };
      assert.equal(out.route.chosen, 'oanda');
      assert.equal(out.venue.id, 'oanda');
      assert.equal(out.response.filled_price, 1.0002);
      assert.deepEqual(
        out.route.candidates.map((c) => c.venue),
        ['paper', 'oanda'],
      );
      assert.ok((out.route.candidates[0]?.price ?? 0) > 1.05, 'the paper venue was quoted too');
      assert.equal(oanda.ordersWithClientId(out.order.client_order_id), 1);
      // The audit log's SubmitOrder command holds why the venue was chosen.
      const auditDir = join(stateDir, 'audit');
      const text = readdirSync(auditDir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => readFileSync(join(auditDir, f), 'utf8'))
        .join('');
      // The record's layout is the engine's; what matters is that the SubmitOrder line holds the decision.
      const submit = text.split('\n').find((l) => l.includes(out.order.client_order_id) && l.includes('"SubmitOrder"'));
      assert.ok(submit, 'a SubmitOrder record for the routed order');
      const metadata = JSON.stringify(JSON.parse(submit));
      assert.ok(metadata.includes('"route":"best_price → oanda"'), submit);
      assert.match(metadata, /"route_reason":"best net price: oanda ask 1\.0002[^"]*over paper ask 1\.0\d+/);

      const single = await cli(['test-order', component, '--state-dir', join(dir, 'one'), '--json']);
      assert.equal(single.code, 1, single.stderr);
      const err = JSON.parse(single.stdout) as { errors: Array<{ code: string; message: string; line?: number }> };
      assert.equal(err.errors[0]?.code, 'ROUTE_UNAVAILABLE');
      assert.match(err.errors[0]?.message ?? '', /route among paper, oanda, but this run has one venue \(paper\)/);
      assert.equal(err.errors[0]?.line, 4, 'at the return that produced it');
    } finally {
      await oanda.close();
    }
  });
});
