/**
 * Replay figures checked by hand on tiny real CSV files through the built CLI (dist/cli.js, the user's path):
 * a long that flips short in one order, a partial close and a short left open; what the component printed
 * reaching the summary and --json; a tick's `last` as the exact mid.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';

const ROOT = join(__dirname, '../../../..');
const CLI = join(ROOT, 'dist/cli.js');

// Closes 100, 101, 102, 99, 98, 103, 105, 104 (spread 0: bid = ask = close).
const CANDLES = `time,open,high,low,close,volume
2024-01-02T10:00:00Z,100,100.5,99.5,100,1000
2024-01-02T10:01:00Z,100,101.5,99.5,101,1000
2024-01-02T10:02:00Z,101,102.5,100.5,102,1000
2024-01-02T10:03:00Z,102,102.5,98.5,99,1000
2024-01-02T10:04:00Z,99,99.5,97.5,98,1000
2024-01-02T10:05:00Z,98,103.5,97.5,103,1000
2024-01-02T10:06:00Z,103,105.5,102.5,105,1000
2024-01-02T10:07:00Z,105,105.5,103.5,104,1000
`;

/** Buys 10 at bar 0, sells 15 at bar 2 (long 10 → short 5), buys 2 at bar 4 (short 3 left open); prints each bar. */
const FLIP = `from core.orders.order_base import OrderBase
import sys

class Flip(OrderBase):
    def generate_order(self, market_data, signal=None):
        i = market_data['bar_index']
        print('bar', i, 'close', market_data['close'])
        if i == 7:
            print('done at the last bar', file=sys.stderr)
        plan = {0: ('buy', 10), 2: ('sell', 15), 4: ('buy', 2)}
        if i in plan:
            side, q = plan[i]
            return {'symbol': 'AAPL', 'side': side, 'order_type': 'market', 'quantity': q}
        return None
`;

interface Report {
  ok: boolean;
  pnl: { realized: Record<string, number>; unrealized: number; commission: number; equity: number };
  curve: {
    final: number;
    turnover: number;
    drawdown: { max: number; maxPercent: number | null; peakIndex: number | null; troughIndex: number | null };
  };
  positions: Record<string, number>;
  output: { stdout: string; stderr: string; stdoutBytes: number; stderrBytes: number; truncated: boolean };
}

describe('replay figures by hand (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let component: string;
  let data: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-hand-'));
    component = join(dir, 'core', 'orders', 'flip.py');
    mkdirSync(join(component, '..'), { recursive: true });
    writeFileSync(component, FLIP);
    data = join(dir, 'bars.csv');
    writeFileSync(data, CANDLES);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const replay = (...extra: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(
      process.execPath,
      [CLI, 'replay', component, '--data', data, '--symbol', 'AAPL', '--spread-ticks', '0', ...extra],
      { encoding: 'utf8', timeout: 60_000 },
    );

  it('a flip from long to short, a partial close and a short left open: P&L, drawdown and turnover', () => {
    const r = replay('--json');
    assert.equal(r.status, 0, String(r.stderr));
    const report = JSON.parse(String(r.stdout)) as Report;
    // Buy 10 @100; sell 15 @102 closes 10 (+20) and opens short 5 @102; buy 2 @98 closes 2 (+8); short 3 @102, last 104.
    assert.deepEqual(report.pnl.realized, { USD: 28 });
    assert.equal(report.pnl.unrealized, -6);
    assert.equal(report.pnl.commission, 0);
    assert.equal(report.pnl.equity, 100_022);
    assert.deepEqual(report.positions, { AAPL: -3 });
    // The curve: 0, 10, 20, 35, 40, 25, 19, 22: peak 40 at bar 4, trough 19 at bar 6.
    assert.equal(report.curve.final, 22);
    assert.equal(report.curve.turnover, 1000 + 1530 + 196);
    assert.equal(report.curve.drawdown.max, 21);
    assert.equal(report.curve.drawdown.peakIndex, 4);
    assert.equal(report.curve.drawdown.troughIndex, 6);
    assert.equal(report.curve.drawdown.maxPercent, Number(((21 / 100_040) * 100).toFixed(6)));
  });

  it('what the component printed is in --json and in the summary', () => {
    const json = replay('--json');
    assert.equal(json.status, 0, String(json.stderr));
    const report = JSON.parse(String(json.stdout)) as Report;
    const expected = Array.from(
      { length: 8 },
      (_, i) => `bar ${i} close ${[100, 101, 102, 99, 98, 103, 105, 104][i]}\n`,
    );
    assert.equal(report.output.stdout, expected.join(''));
    assert.equal(report.output.stderr, 'done at the last bar\n');
    assert.equal(report.output.stdoutBytes, Buffer.byteLength(expected.join('')));
    assert.equal(report.output.truncated, false);

    const text = replay();
    assert.equal(text.status, 0, String(text.stderr));
    assert.match(String(text.stdout), /--- component stdout ---\nbar 0 close 100\n[^]*bar 7 close 104\n/);
    assert.match(String(text.stdout), /--- component stderr ---\ndone at the last bar/);
  });

  it('the summary says how many rows with a repeated time were dropped', () => {
    const lines = CANDLES.trimEnd().split('\n');
    // Bar 3 twice: the first of them (close 97) is dropped, the later one (close 99) kept.
    writeFileSync(
      data,
      [...lines.slice(0, 4), '2024-01-02T10:03:00Z,102,102.5,96.5,97,1000', ...lines.slice(4)].join('\n'),
    );
    const r = replay();
    assert.equal(r.status, 0, String(r.stderr));
    assert.match(String(r.stdout), /8 candles of AAPL/);
    assert.match(
      String(r.stdout),
      /1 row with the same time as the next row dropped \(the later row of each time is kept\)/,
    );
    assert.match(String(r.stdout), /bar 3 close 99\n/);
  });

  it('a replay of one candle says "1 candle", not "1 candles"', () => {
    writeFileSync(data, CANDLES.trimEnd().split('\n').slice(0, 2).join('\n'));
    const r = replay();
    assert.equal(r.status, 0, String(r.stderr));
    assert.match(String(r.stdout), /: 1 candle of AAPL,/);
    assert.match(String(r.stdout), /processed {2}1 candle in [0-9.]+ s \([0-9,]+\/s, 1 round trip\)/);
    assert.match(String(r.stdout), /slippage {3}1 order vs the decision quote/);
  });

  it("--out's report.json keeps what the component printed", () => {
    const out = join(dir, 'results');
    const r = replay('--out', out);
    assert.equal(r.status, 0, String(r.stderr));
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    assert.match(report.output.stdout, /^bar 0 close 100\n/);
  });

  it("a GTD whose expires_at comes from market_data['timestamp_ms'] expires on the replay's clock", () => {
    writeFileSync(
      component,
      `from core.orders.order_base import OrderBase

class Gtd(OrderBase):
    def generate_order(self, market_data, signal=None):
        if market_data['bar_index'] == 0:
            return {'symbol': 'AAPL', 'side': 'buy', 'order_type': 'limit', 'price': 95, 'quantity': 1,
                    'time_in_force': 'GTD', 'expires_at': market_data['timestamp_ms'] + 120000}
        return None
`,
    );
    const r = replay('--json');
    assert.equal(r.status, 0, String(r.stderr));
    const report = JSON.parse(String(r.stdout)) as { orders: { sent: number; expired: number; open: number } };
    assert.equal(report.orders.sent, 1);
    assert.equal(report.orders.expired, 1);
    assert.equal(report.orders.open, 0);
  });
});

describe('replay ticks: last', () => {
  it('is the exact mid of bid and ask, without float noise', () => {
    const feed = ReplayFeed.fromCsvText(
      'time,bid,ask\n2024-01-02T10:00:00Z,1.08500,1.08510\n2024-01-02T10:00:01Z,1.08504,1.08506\n',
      'mem',
      { symbol: 'EUR_USD' },
    );
    assert.equal(feed.last[0], 1.08505);
    assert.equal(feed.last[1], 1.08505);
    assert.equal(feed.quote('EUR_USD', feed.lastTime).last, 1.08505);
  });
});

describe('replay figures by hand (CLI): crypto quoted in USDT on a USD account', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-usdt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('commission, P&L, turnover and the drawdown with its percentage (USDT is the dollar the account counts)', () => {
    const component = join(dir, 'core', 'orders', 'btc.py');
    mkdirSync(join(component, '..'), { recursive: true });
    writeFileSync(
      component,
      `from core.orders.order_base import OrderBase

class Btc(OrderBase):
    def generate_order(self, market_data, signal=None):
        plan = {0: ('buy', 0.5), 2: ('sell', 0.2)}
        i = market_data['bar_index']
        if i in plan:
            return {'symbol': 'BTCUSDT', 'side': plan[i][0], 'order_type': 'market', 'quantity': plan[i][1]}
        return None
`,
    );
    const data = join(dir, 'btc.csv');
    writeFileSync(
      data,
      `time,open,high,low,close,volume
2024-01-02T10:00:00Z,40000,40100,39900,40000,10
2024-01-02T10:01:00Z,40000,40600,39900,40500,10
2024-01-02T10:02:00Z,40500,41100,40400,41000,10
2024-01-02T10:03:00Z,41000,41100,40400,40800,10
`,
    );
    const r = spawnSync(process.execPath, [CLI, 'replay', component, '--data', data, '--symbol', 'BTCUSDT', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, String(r.stderr));
    const report = JSON.parse(String(r.stdout)) as Report & { curve: { currency: string } };
    // Spread 2 ticks of 0.01: bought 0.5 at the ask 40000.01, sold 0.2 at the bid 40999.99; 10 bps on each.
    assert.deepEqual(report.pnl.realized, { USDT: 199.996 });
    assert.equal(report.pnl.commission, 28.200003); // 20.000005 + 8.199998
    assert.equal(report.curve.currency, 'USDT');
    assert.equal(report.curve.turnover, 28_200.003);
    // Cash -20000.005 - 20.000005 + 8199.998 - 8.199998 = -11828.207003; 0.3 held: at #2 (mid 41000) 471.792997,
    // at #3 (mid 40800) 411.792997.
    assert.equal(report.curve.final, 411.792997);
    assert.equal(report.curve.drawdown.max, 60);
    assert.equal(report.curve.drawdown.peakIndex, 2);
    assert.equal(report.curve.drawdown.troughIndex, 3);
    assert.equal(report.curve.drawdown.maxPercent, Number(((60 / (100_000 + 471.792997)) * 100).toFixed(6)));
    // The summary says the same figures, each in its currency to the places the venue keeps (8 for USDT, trimmed).
    const text = spawnSync(process.execPath, [CLI, 'replay', component, '--data', data, '--symbol', 'BTCUSDT'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(text.status, 0, String(text.stderr));
    assert.match(
      String(text.stdout),
      /P&L {8}realized 199\.996 USDT, unrealized 240\.00 USD, commission 28\.200003 USDT; equity 100411\.79 USD/,
    );
    assert.match(String(text.stdout), /curve {6}P&L 411\.792997 USDT .* max drawdown 60\.00 USDT \(0\.060%\)/);
  });
});
