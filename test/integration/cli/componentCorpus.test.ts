/**
 * The built CLI (`dist/cli.js`) over the stateful components of the corpus of trader components
 * (test/fixtures/components, red teams rt-comp8 and rt-comp10; each one's Test Order: test/unit/python/componentCorpus.test.ts), on the
 * paper venue with a real python3: `replay` over twelve candles, where what a component keeps between calls (self, a
 * class attribute) decides its orders, and a record that fails is said while the others run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const CORPUS = join(ROOT, 'test', 'fixtures', 'components');

function cli(args: string[]): { code: number | null; json: Record<string, unknown>; raw: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // said by the assertion on it
  }
  return { code: r.status, json, raw: r.stdout + r.stderr };
}

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

describe('sptrader CLI: a corpus of trader components, replayed (rt-comp8)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-corpus-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Twelve one-minute EUR_USD candles, up twice and down once in turn. */
  function candles(): string {
    const data = join(dir, 'candles.csv');
    const rows = ['time,open,high,low,close,volume'];
    let p = 1.08;
    for (let i = 0; i < 12; i++) {
      const c = p + (i % 3 ? 0.0004 : -0.0003);
      const t = new Date(Date.UTC(2026, 10, 2, 9, i)).toISOString();
      rows.push(
        `${t},${p.toFixed(5)},${(Math.max(p, c) + 0.0002).toFixed(5)},${(Math.min(p, c) - 0.0002).toFixed(5)},${c.toFixed(5)},1000`,
      );
      p = c;
    }
    writeFileSync(data, `${rows.join('\n')}\n`);
    return data;
  }

  function replayOf(name: string, data: string) {
    const r = cli(['replay', join(CORPUS, name), '--data', data, '--json', '--state-dir', join(dir, `replay-${name}`)]);
    assert.equal(r.code, 0, r.raw.slice(0, 2000));
    return r.json as {
      orders: {
        produced: number;
        noOrder: number;
        filled: number;
        denied: number;
        invalid: number;
        cancelled: number;
        deniedByCode: Record<string, number>;
      };
      positions: Record<string, number>;
      errorsByCode: Record<string, number>;
      output: { stdout: string; stderr: string };
    };
  }

  it('replay: what a component keeps between calls decides its orders, and a failing record does not end the run', () => {
    const data = candles();
    const replay = (name: string) => replayOf(name, data);
    // Buy, sell, buy…: twelve fills, flat at the end.
    const alternate = replay('alternating_sides.py');
    assert.equal(alternate.orders.filled, 12);
    assert.deepEqual(alternate.positions, {});
    // In on odd calls, out on the next odd one: six orders, flat.
    const flip = replay('flip_flop_state.py');
    assert.equal(flip.orders.produced, 6);
    assert.equal(flip.orders.noOrder, 6);
    assert.deepEqual(flip.positions, {});
    // A window kept in a class attribute: no order until it holds three closes.
    const window = replay('class_level_window.py');
    assert.ok(window.orders.noOrder >= 2, JSON.stringify(window.orders));
    // A list at call 3, a raise at call 5, a size past the limit at call 7: each said, the rest filled.
    const mixed = replay('mixed_failures.py');
    assert.deepEqual(mixed.errorsByCode, { INVALID_ORDER: 1, COMPONENT_ERROR: 1 });
    assert.equal(mixed.orders.denied, 1);
    assert.equal(mixed.orders.filled, 9);
    // A recursion limit lowered in every call: every record runs.
    assert.equal(replay('lowers_recursion_limit.py').orders.filled, 12);
    if (numpy) assert.equal(replay('numpy_zscore.py').orders.produced, 10);
  });

  it('replay of rt-comp10 components: bars kept, market_data changed, its own order ids, a bracket, logs on stdout', () => {
    const data = candles();
    const replay = (name: string) => replayOf(name, data);
    // Every bar kept in self.bars keeps its own close (none is overwritten by a later record's): ten orders.
    const kept = replay('keeps_market_data.py');
    assert.deepEqual([kept.orders.produced, kept.errorsByCode], [10, {}]);
    // Keys added, popped and overwritten in one record's market_data never reach the next record's.
    const mutated = replay('mutates_market_data.py');
    assert.deepEqual([mutated.orders.produced, mutated.errorsByCode], [12, {}]);
    // The same client_order_id on every record: the first fills, each later one is denied, said by its code.
    const named = replay('own_client_order_id.py');
    assert.deepEqual([named.orders.filled, named.orders.deniedByCode], [1, { DUPLICATE_CLIENT_ORDER_ID: 11 }]);
    // One bracket: its entry and one exit fill, the other exit is cancelled; flat at the end.
    const bracket = replay('bracket_once.py');
    assert.deepEqual(
      [bracket.orders.produced, bracket.orders.filled, bracket.orders.cancelled, bracket.positions],
      [1, 2, 1, {}],
    );
    // logging.basicConfig(stream=sys.stdout) at import: every record's line in the report's stdout, none in the protocol.
    const logs = replay('logging_to_stdout.py');
    assert.equal(logs.orders.filled, 12);
    assert.equal(logs.output.stdout.match(/^INFO momentum close=1\.\d+ bid=1\.\d+$/gm)?.length, 12, logs.output.stdout);
    // market_data deep-copied, pickled, dumped as JSON and spread into a dict on every record, each copy kept: each
    // holds its own record's values, capital among them, while an order a record sends changes what the next reads.
    const copies = replay('copies_market_data.py');
    assert.deepEqual([copies.orders.filled, copies.errorsByCode, copies.positions], [12, {}, {}]);
    // generate_order(self, *, market_data, signal=None): before, refused at its def line on every record.
    assert.equal(replay('kwonly_market_data.py').orders.filled, 12);
  });

  it('a component that catches its own time limit (a bare except in a retry loop) is stopped at its line (rt-comp10)', () => {
    const file = join(CORPUS, 'retry_bare_except.py');
    // Before: Test Order said "the component did not return within 3 s" with no line, after SPtrader's own timeout;
    // replay waited out the batch's backstop and said the component was stuck in native code.
    const run = cli(['test-order', file, '--json', '--timeout', '3', '--state-dir', join(dir, 'swallow')]);
    assert.equal(run.code, 1, run.raw.slice(0, 2000));
    const [error] = (run.json as { errors: { code: string; line: number; message: string }[] }).errors;
    assert.deepEqual([error?.code, error?.line], ['TIMEOUT', 5]);
    assert.match(
      error?.message ?? '',
      /\(it was running line 5\)\. The component caught the stop each time it came \(the `except:` at line 14 catches it\)/,
    );
    const replay = cli([
      'replay',
      file,
      '--data',
      candles(),
      '--json',
      '--timeout',
      '3',
      '--state-dir',
      join(dir, 'swallow-replay'),
    ]);
    assert.equal(replay.code, 1, replay.raw.slice(0, 2000));
    const fatal = (replay.json as { fatal: { index: number; code: string; line: number; message: string } }).fatal;
    assert.deepEqual([fatal.index, fatal.code, fatal.line], [0, 'TIMEOUT', 5]);
    assert.match(fatal.message, /the `except:` at line 14 catches it/);
  });

  it('an async component past its time limit is stopped at the await it waits in (rt-comp10)', () => {
    const file = join(CORPUS, 'async_waits_for_tick.py');
    // Before: no line in either (the limit stops the event loop in its selector, outside the coroutine).
    const run = cli(['test-order', file, '--json', '--timeout', '3', '--state-dir', join(dir, 'async-wait')]);
    assert.equal(run.code, 1, run.raw.slice(0, 2000));
    const [error] = (run.json as { errors: { code: string; line: number; message: string }[] }).errors;
    assert.deepEqual([error?.code, error?.line], ['TIMEOUT', 11], error?.message);
    assert.match(error?.message ?? '', /\(it was running line 11\)/);
    const replay = cli([
      'replay',
      file,
      '--data',
      candles(),
      '--json',
      '--timeout',
      '3',
      '--state-dir',
      join(dir, 'async-replay'),
    ]);
    assert.equal(replay.code, 1, replay.raw.slice(0, 2000));
    const fatal = (replay.json as { fatal: { index: number; code: string; line: number } }).fatal;
    assert.deepEqual([fatal.index, fatal.code, fatal.line], [0, 'TIMEOUT', 11]);
  });

  it('market_data from a fixture reaches the component as written: candles as a list of bars or a dict of columns (rt-comp10)', () => {
    const bars = [
      { high: 1.086, low: 1.084, close: 1.085 },
      { high: 1.087, low: 1.0845, close: 1.0865 },
      { high: 1.0866, low: 1.085, close: 1.0851 },
    ];
    const quote = { symbol: 'EUR_USD', bid: 1.085, ask: 1.0851 };
    const stopOf = (name: string, candles: unknown) => {
      const fixture = join(dir, `${name}.json`);
      writeFileSync(fixture, JSON.stringify({ ...quote, candles }));
      const r = cli([
        'test-order',
        join(CORPUS, 'atr_stop.py'),
        '--market-data',
        fixture,
        '--json',
        '--state-dir',
        join(dir, name),
      ]);
      assert.equal(r.code, 0, r.raw.slice(0, 2000));
      return (r.json as { order: { order_type: { type: string; price: number } } }).order.order_type;
    };
    const columns = { high: bars.map((b) => b.high), low: bars.map((b) => b.low), close: bars.map((b) => b.close) };
    // bid − 2 × the mean of the three ranges (0.0020, 0.0025, 0.0016): 1.08093, whichever shape the candles have.
    assert.deepEqual(stopOf('candles-list', bars), { type: 'stop', price: 1.08093 });
    assert.deepEqual(stopOf('candles-dict', columns), { type: 'stop', price: 1.08093 });
  });

  it('replay stops at the first record, nothing filled, where a component ends its process or its own metadata forbids its size (rt-comp9)', () => {
    const data = join(dir, 'candles3.csv');
    writeFileSync(
      data,
      'time,open,high,low,close,volume\n2026-11-02T09:00:00Z,1.08,1.0802,1.0798,1.0801,1000\n2026-11-02T09:01:00Z,1.0801,1.0803,1.0799,1.0802,1000\n',
    );
    for (const [name, code, line] of [
      // Before: twelve fills, the thread's os._exit only ending the thread.
      ['os_exit_in_thread.py', 'COMPONENT_EXIT', 7],
      ['sigterm_self.py', 'COMPONENT_EXIT', 8],
      // Before: BUY 50,000 on every record under its own 'max': 5000.
      ['metadata_default_above_max.py', 'INVALID_PARAMETER', 6],
    ] as const) {
      const r = cli(['replay', join(CORPUS, name), '--data', data, '--json', '--state-dir', join(dir, `stop-${name}`)]);
      assert.equal(r.code, 1, r.raw.slice(0, 2000));
      const out = r.json as { orders: { filled: number }; fatal: { index: number; code: string; line: number } };
      assert.deepEqual(
        [name, out.orders.filled, out.fatal.index, out.fatal.code, out.fatal.line],
        [name, 0, 0, code, line],
      );
    }
  });
});
