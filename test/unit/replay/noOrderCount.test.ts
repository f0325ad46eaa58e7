/**
 * A replay counts the records for which the component returned None (no order, by its own choice): in the report
 * (`orders.noOrder`) and in the CLI's summary. A batch's answer lists no item for such a record, so the count was
 * nowhere: "0 produced" read the same for a component that chose not to trade and for one that never ran.
 * And an order a replay cannot send is said at the component's `return` that gave it (file:line), as Test Order
 * says it: a replay's INVALID_ORDER had no line at all.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReplay } from '../../../src/cli/replay';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { replayComponent } from '../../../src/usecases/replay';

const ROOT = join(__dirname, '../../../..');
const SAMPLE = join(ROOT, 'examples/data/eurusd_m1_sample.csv');

describe('replay: records with no order', function () {
  this.timeout(60_000);
  let dir: string;
  let worker: PythonWorker;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 30_000,
    });
  });
  after(async () => worker.dispose());
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-noorder-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts None returns apart from orders and errors, over batches and after orders', async () => {
    const file = join(dir, 'every_tenth.py');
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class EveryTenth(OrderBase):',
        '    def __init__(self, config):',
        '        super().__init__(config)',
        '        self.n = 0',
        '',
        '    def generate_order(self, market_data, signal=None):',
        '        self.n += 1',
        '        if self.n == 1:',
        "            raise ValueError('warming up')",
        '        if self.n % 10 != 0:',
        '            return None',
        "        side = 'buy' if self.n % 20 == 0 else 'sell'",
        "        return {'symbol': 'EUR_USD', 'side': side, 'order_type': 'market', 'quantity': 1000}",
        '',
      ].join('\n'),
    );
    const report = await replayComponent({
      file,
      data: SAMPLE,
      symbol: 'EUR_USD',
      runner: worker,
      stateDir: join(dir, 'state'),
      batchSize: 64,
      engineFactory: undefined,
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.processed, 2000);
    assert.equal(report.orders.produced, 200);
    assert.equal(report.errorCount, 1);
    assert.equal(report.orders.noOrder, 2000 - 200 - 1);
    assert.match(
      formatReplay(report),
      /orders {5}200 produced \(1,799 records with no order: the component returned None\), 200 sent/,
    );
  });

  it('a component that never orders says so for every record', async () => {
    const never = join(dir, 'never.py');
    writeFileSync(
      never,
      'class Never:\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const none = await replayComponent({
      file: never,
      data: SAMPLE,
      symbol: 'EUR_USD',
      runner: worker,
      stateDir: join(dir, 'never'),
      engineFactory: undefined,
    });
    assert.equal(none.orders.noOrder, 2000);
    assert.match(formatReplay(none), /0 produced \(2,000 records with no order: the component returned None\)/);
  });

  it('an order it cannot send is said at the return that gave it, file:line in the summary', async () => {
    const file = join(dir, 'two_returns.py');
    writeFileSync(
      file,
      [
        'class Alternating:', // 1
        '    def __init__(self):', // 2
        '        self.n = 0', // 3
        '', // 4
        '    def generate_order(self, market_data, signal=None):', // 5
        '        self.n += 1', // 6
        '        if self.n % 2:', // 7
        "            return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': True}", // 8
        "        return {'symbol': 'GBP_USD', 'side': 'buy', 'order_type': 'market',", // 9
        "                'quantity': 1000}", // 10
        '',
      ].join('\n'),
    );
    const report = await replayComponent({
      file,
      data: SAMPLE,
      symbol: 'EUR_USD',
      runner: worker,
      stateDir: join(dir, 'state'),
      engineFactory: undefined,
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.orders.invalid, 2000);
    const [first, second] = report.errors;
    assert.deepEqual([first?.code, first?.line], ['INVALID_ORDER', 8]);
    assert.deepEqual([second?.code, second?.line], ['SYMBOL_NOT_IN_DATA', 9]);
    const text = formatReplay(report);
    assert.match(
      text,
      /#0 \S+ INVALID_ORDER \(two_returns\.py:8\): quantity: quantity must be a number, got a bool True/,
    );
    assert.match(text, /#1 \S+ SYMBOL_NOT_IN_DATA \(two_returns\.py:9\): the order is for GBP_USD/);
  });

  it('orders that expired (GTD) are in the summary: the sent orders add up', async () => {
    const file = join(dir, 'gtd.py');
    writeFileSync(
      file,
      [
        'class Gtd:',
        '    def __init__(self):',
        '        self.n = 0',
        '',
        '    def generate_order(self, market_data, signal=None):',
        '        self.n += 1',
        '        if self.n % 100 != 1:',
        '            return None',
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1000,",
        "                'price': round(market_data['bid'] - 0.01, 5), 'expires_at': market_data['timestamp_ms'] + 180000}",
        '',
      ].join('\n'),
    );
    const report = await replayComponent({
      file,
      data: SAMPLE,
      symbol: 'EUR_USD',
      runner: worker,
      stateDir: join(dir, 'gtd'),
      engineFactory: undefined,
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.deepEqual([report.orders.sent, report.orders.expired, report.orders.open], [20, 20, 0]);
    assert.match(formatReplay(report), /20 sent, .*0 cancelled, 20 expired, 0 open/);
  });
});
