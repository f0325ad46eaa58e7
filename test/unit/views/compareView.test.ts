/**
 * The Compare Venues panel's contents (issue 15): a real comparison (the built CLI's `compare --json`,
 * the same use case the editor command runs) on the paper venue and the OANDA fake, turned into the
 * panel's view and chart; the view passes the panel's own protocol schema, as the webview parses it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CompareOutcome } from '../../../src/usecases/compare';
import { compareChartOf } from '../../../src/views/compareChart';
import { parseCompareNotification, parseComparePanelState } from '../../../src/views/compareProtocol';
import { compareViewOf, withUnconnected } from '../../../src/views/compareView';
import { parseBrokerProfile } from '../../../src/brokers/registry';
import { PAPER_PROFILE } from '../../../src/views/profiles';
import { startFakeOanda } from '../../fakes/oanda/server';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');

function compare(args: string[], env: NodeJS.ProcessEnv): Promise<CompareOutcome> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [CLI, 'compare', ...args, '--json'],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        try {
          done(JSON.parse(stdout) as CompareOutcome);
        } catch {
          fail(new Error(`compare printed no JSON (${error?.message ?? ''}): ${stderr}${stdout}`));
        }
      },
    );
  });
}

describe('Compare Venues panel view', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-compare-view-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const component = (name: string, order: string): string => {
    const file = join(dir, `${name}.py`);
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        `class ${name}(OrderBase):`,
        '    def generate_order(self, market_data, signal=None):',
        `        return ${order}`,
        '',
      ].join('\n'),
    );
    return file;
  };

  it('a routed component: a Router row per column (chosen, passed over, not a candidate) and the router’s sentence', async () => {
    const oanda = await startFakeOanda();
    try {
      oanda.setQuote('EUR_USD', 1.085, 1.0852);
      const profiles = join(dir, 'profiles.json');
      writeFileSync(profiles, JSON.stringify([{ id: 'oanda-practice', broker: 'oanda', baseUrl: oanda.url }]));
      const file = component(
        'Routed',
        "{'route': 'best_price', 'venues': ['oanda-practice'], 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'order_type': 'market', 'time_in_force': 'IOC'}",
      );
      const outcome = await compare(
        [file, '--venues', 'paper,oanda-practice', '--profiles', profiles, '--state-dir', join(dir, 's')],
        { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId },
      );
      const view = compareViewOf(outcome, { ranAt: 1_700_000_000_000 });
      assert.ok(parseCompareNotification({ type: 'compare', view }), 'the view follows the panel protocol');
      assert.deepEqual(
        view.columns.map((c) => [c.id, c.verdict, c.route?.role]),
        [
          ['paper', 'NOT_SENT', 'not a candidate'],
          ['oanda-practice', 'FILLED', 'chosen'],
        ],
      );
      assert.match(view.route ?? '', /^The router \(best_price\) would pick oanda-practice: best net price/);
      assert.ok(view.columns.every((c) => c.parent === null));
    } finally {
      await oanda.close();
    }
  });

  it('a parent: a Parent row per column (state, children, native or emulated) and the headline names the parent', async () => {
    const file = component(
      'Twap',
      "{'algo': 'twap', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 2000, 'duration_s': 0.5, 'slices': 2}",
    );
    const outcome = await compare([file, '--venues', 'paper', '--state-dir', join(dir, 's')], {});
    const view = compareViewOf(outcome, { ranAt: 1_700_000_000_000 });
    assert.ok(parseCompareNotification({ type: 'compare', view }), 'the view follows the panel protocol');
    assert.equal(view.order, 'TWAP BUY 2,000 EUR_USD (a parent order, carried out on each venue)');
    const [paper] = view.columns;
    assert.equal(paper?.verdict, 'FILLED');
    assert.deepEqual([paper?.parent?.state, paper?.parent?.children, paper?.fills], ['DONE', 2, 2]);
    assert.match(paper?.parent?.emulation ?? '', /^Emulated locally/);
    assert.equal(view.route, null);
  });

  it('one column per venue: fills, slippage, latency and the best; the chart has each venue quote and fill', async () => {
    const oanda = await startFakeOanda();
    try {
      oanda.setQuote('EUR_USD', 1.085, 1.0852);
      const profiles = join(dir, 'profiles.json');
      writeFileSync(profiles, JSON.stringify([{ id: 'oanda-practice', broker: 'oanda', baseUrl: oanda.url }]));
      const file = component(
        'Buy',
        "{'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 10000, 'order_type': 'market', 'time_in_force': 'IOC'}",
      );
      const outcome = await compare(
        [file, '--venues', 'paper,oanda-practice', '--profiles', profiles, '--state-dir', join(dir, 's')],
        { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId },
      );
      const view = compareViewOf(outcome, { ranAt: 1_700_000_000_000 });
      // The webview parses it with the protocol: a view the host builds always passes.
      const message = parseCompareNotification({ type: 'compare', view });
      assert.ok(message, 'the view follows the panel protocol');
      assert.deepEqual(parseComparePanelState({ view })?.view, view);

      assert.equal(view.order, 'BUY 10,000 EUR_USD MKT IOC');
      assert.deepEqual(
        view.columns.map((c) => [c.id, c.verdict]),
        [
          ['paper', 'FILLED'],
          ['oanda-practice', 'FILLED'],
        ],
      );
      const o = view.columns[1]!;
      assert.deepEqual([o.bid, o.ask, o.fillPrice, o.fillQuantity], [1.085, 1.0852, 1.0852, 10_000]);
      assert.equal(o.slippage, '0 pips', 'filled at its own ask');
      assert.equal(o.slippageBps, '0 bps');
      assert.ok(o.submitMs !== null && o.submitMs >= 0);
      assert.ok(o.fillMs !== null && o.fillMs >= 0);
      assert.match(o.clientOrderId ?? '', /\S/);
      const best = view.columns.filter((c) => c.best);
      assert.equal(best.length, 1);
      assert.equal(best[0]!.id, outcome.best);
      assert.equal(best[0]!.versusBest, 'best');
      const other = view.columns.find((c) => !c.best)!;
      assert.match(other.versusBest ?? '', /^[+-]?[\d.]+ pips?, [+-]?[\d.]+ bps, fees /);

      const chart = compareChartOf(view);
      assert.deepEqual(chart.slots, [
        { slot: 1, venue: 'paper' },
        { slot: 2, venue: 'oanda-practice' },
      ]);
      assert.deepEqual(
        chart.ask.find((p) => p.time === 2),
        { time: 2, value: 1.0852 },
      );
      assert.deepEqual(
        chart.bid.find((p) => p.time === 2),
        { time: 2, value: 1.085 },
      );
      assert.equal(chart.fills.length, 2);
      assert.match(chart.fills[1]!.text, /^oanda-practice bought @ 1\.0852$/);
      assert.ok(chart.precision >= 4);
    } finally {
      await oanda.close();
    }
  });

  it("a venue's local capability refusal reads as DENIED with its code and reason, and has no fill on the chart", async () => {
    const oanda = await startFakeOanda();
    try {
      oanda.setQuote('EUR_USD', 1.085, 1.0852);
      const profiles = join(dir, 'profiles.json');
      writeFileSync(profiles, JSON.stringify([{ id: 'oanda', broker: 'oanda', baseUrl: oanda.url }]));
      const file = component(
        'MarketGtc',
        "{'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'order_type': 'market', 'time_in_force': 'GTC'}",
      );
      const outcome = await compare(
        [file, '--venues', 'paper,oanda', '--profiles', profiles, '--state-dir', join(dir, 's')],
        { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId },
      );
      const view = compareViewOf(outcome, { ranAt: 1 });
      const denied = view.columns.find((c) => c.id === 'oanda')!;
      assert.equal(denied.verdict, 'DENIED');
      assert.equal(denied.code, 'UNSUPPORTED_ORDER');
      assert.match(denied.reason ?? '', /OANDA executes market orders at once or not at all/);
      assert.equal(denied.fillPrice, null);
      assert.equal(denied.versusBest, null);
      assert.deepEqual(
        compareChartOf(view).fills.map((f) => f.time),
        [1],
        "only the paper venue's fill",
      );
      assert.equal(oanda.requestCount('POST /orders'), 0);
    } finally {
      await oanda.close();
    }
  });

  it('a chosen profile that could not connect is a NOT_SENT column saying why, in the order chosen', async () => {
    const file = component(
      'Buy',
      "{'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'order_type': 'market', 'time_in_force': 'IOC'}",
    );
    const outcome = await compare([file, '--venues', 'paper', '--state-dir', join(dir, 's')], {});
    const oanda = parseBrokerProfile({ id: 'oanda-practice', broker: 'oanda', baseUrl: 'http://127.0.0.1:9' });
    const chosen = [oanda, PAPER_PROFILE];
    const failed = new Map([['oanda-practice', 'connect ECONNREFUSED 127.0.0.1:9']]);
    const view = compareViewOf(withUnconnected(outcome, chosen, failed, file), { ranAt: 1 });
    assert.ok(parseCompareNotification({ type: 'compare', view }));
    assert.deepEqual(
      view.columns.map((c) => [c.id, c.verdict, c.code]),
      [
        ['oanda-practice', 'NOT_SENT', 'CONNECT_FAILED'],
        ['paper', 'FILLED', null],
      ],
    );
    assert.equal(view.columns[0]!.reason, 'could not connect: connect ECONNREFUSED 127.0.0.1:9');
    assert.equal(view.columns[0]!.environment, 'practice');
    // None connected: nothing ran, and the view says so.
    const none = compareViewOf(withUnconnected(undefined, [oanda], failed, file), { ranAt: 1 });
    assert.equal(none.ok, false);
    assert.equal(none.summary, 'No venue could be connected: nothing was run or sent.');
    assert.deepEqual(
      none.columns.map((c) => [c.id, c.verdict]),
      [['oanda-practice', 'NOT_SENT']],
    );
  });
});
