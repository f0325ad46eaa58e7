/**
 * Replay batching is exact: a replay that sends records to Python in batches (with capital asked for
 * only when read after an order, python/sptrader_harness/lazystate.py) gives the component exactly what
 * a replay one record per round trip gives it, so every order, fill and figure is the same. Property
 * test over components that do and do not read capital, keep state in `self`, keep market_data past
 * their call, rest limit orders, and order on every record.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { replayComponent, type ReplayReport, type ReplayRunner } from '../../../src/usecases/replay';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

const T0 = Date.UTC(2024, 2, 4, 0, 0, 0);

/**
 * Orders with probability `p_order` (every record when 1), sides and types drawn from its own seeded
 * random (state in self). How it reads capital: 'never', 'always' (and sizes its order from it), 'dump'
 * (json.dumps of the whole market_data), 'keep' (keeps every market_data and reads the capital of the
 * one `lag` records back), 'sometimes' (with probability 0.3). Limit orders rest `offset` pips away.
 */
const COMPONENT = `import json
import random
from core.orders.order_base import OrderBase

class Prop(OrderBase):
    def __init__(self, config):
        super().__init__(config)
        self.rng = random.Random(config['seed'])
        self.kept = []
        self.trace = 0

    def generate_order(self, market_data, signal=None):
        mode = self.config['read']
        seen = 0
        if mode == 'always':
            seen = market_data['capital']
        elif mode == 'dump':
            seen = len(json.dumps(market_data, sort_keys=True))
        elif mode == 'sometimes' and self.rng.random() < 0.3:
            seen = market_data.get('capital')
        elif mode == 'keep':
            self.kept.append(market_data)
            if len(self.kept) > self.config['lag']:
                seen = self.kept[-1 - self.config['lag']]['capital']
        self.trace = (self.trace * 31 + int(seen * 100)) % 1000003
        if self.rng.random() < self.config.get('p_raise', 0):
            raise ValueError('no order at bar %d' % market_data['bar_index'])
        if self.rng.random() >= self.config['p_order']:
            return None
        quantity = 1000 * (1 + self.trace % 5)
        side = 'buy' if self.rng.random() < 0.5 else 'sell'
        if self.rng.random() < self.config['p_limit']:
            offset = self.config['offset'] * 0.0001
            price = market_data['bid'] - offset if side == 'buy' else market_data['ask'] + offset
            return {'symbol': 'EUR_USD', 'side': side, 'order_type': 'limit', 'price': round(price, 5), 'quantity': quantity, 'time_in_force': 'GTC'}
        return {'symbol': 'EUR_USD', 'side': side, 'order_type': 'market', 'quantity': quantity}
`;

function candles(n: number, seed: number): ReplayFeed {
  let s = seed;
  const random = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  let mid = 108_500;
  const time: number[] = [];
  const open: number[] = [];
  const high: number[] = [];
  const low: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = mid;
    mid += Math.floor(random() * 9) - 4;
    time.push(T0 + i * 60_000);
    open.push(o / 1e5);
    close.push(mid / 1e5);
    high.push((Math.max(o, mid) + 2) / 1e5);
    low.push((Math.min(o, mid) - 2) / 1e5);
  }
  return ReplayFeed.fromColumns({ time, open, high, low, close, volume: time.map(() => 100) }, 'mem', {
    symbol: 'EUR_USD',
  });
}

/** What must not depend on batching (timings, round trips and folders aside). */
function outcome(r: ReplayReport): unknown {
  return {
    ok: r.ok,
    fatal: r.fatal,
    processed: r.processed,
    orders: r.orders,
    fills: r.fills,
    positions: r.positions,
    venuePositions: r.venuePositions,
    pnl: r.pnl,
    slippage: { ...r.slippage, records: r.slippage.records.map((x) => ({ ...x, clientOrderId: undefined })) },
    errors: r.errors,
  };
}

describe('replay batching equals one record per round trip', function () {
  this.timeout(240_000);
  let dir: string;
  let worker: PythonWorker;
  let file: string;
  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 60_000,
    });
    dir = mkdtempSync(join(tmpdir(), 'sptrader-batching-'));
    file = join(dir, 'core', 'orders', 'prop.py');
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    writeFileSync(file, COMPONENT);
  });
  after(async () => {
    await worker.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  let runs = 0;
  const replay = (
    parameters: Record<string, unknown>,
    feed: ReplayFeed,
    batchSize: number,
    sendAhead = batchSize > 1,
  ): Promise<ReplayReport> =>
    replayComponent({
      file,
      data: feed,
      runner: worker,
      parameters,
      batchSize,
      sendAhead,
      stateDir: join(dir, `run-${++runs}`),
      startingCash: 50_000,
    });

  it('same orders, fills, P&L and errors for any batch size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          read: fc.constantFrom('never', 'always', 'dump', 'sometimes', 'keep'),
          lag: fc.integer({ min: 1, max: 5 }),
          p_order: fc.constantFrom(1, 0.5, 0.1),
          p_limit: fc.constantFrom(0, 0.3),
          offset: fc.integer({ min: 0, max: 3 }),
          p_raise: fc.constantFrom(0, 0, 0.05),
        }),
        fc.integer({ min: 2, max: 64 }),
        fc.integer({ min: 1, max: 1_000 }),
        async (parameters, batchSize, dataSeed) => {
          const feed = candles(120, dataSeed);
          const one = await replay(parameters, feed, 1);
          const batched = await replay(parameters, feed, batchSize);
          assert.equal(one.ok, true, JSON.stringify(one.fatal));
          assert.deepEqual(outcome(batched), outcome(one));
          assert.ok(batched.batches <= Math.ceil(120 / batchSize), `${batched.batches} batches`);
          // A batch sent ahead (while the orders of the one before are submitted) changes nothing, not even
          // how often capital is asked for.
          const inTurn = await replay(parameters, feed, batchSize, false);
          assert.deepEqual(outcome(inTurn), outcome(batched));
          assert.equal(batched.syncs, inTurn.syncs);
          assert.equal(batched.batches, inTurn.batches);
        },
      ),
      { numRuns: 24, seed: 14 },
    );
  });

  it('a component that orders on every record and never reads capital runs in one round trip per batch, without state requests', async () => {
    const feed = candles(500, 3);
    const parameters = { seed: 5, read: 'never', lag: 1, p_order: 1, p_limit: 0, offset: 0 };
    const batched = await replay(parameters, feed, 256);
    assert.equal(batched.orders.filled, 500);
    assert.equal(batched.batches, 2);
    assert.equal(batched.syncs, 0);
    assert.deepEqual(outcome(batched), outcome(await replay(parameters, feed, 1)));
  });

  it('a batch with orders to submit sends the next one ahead, to run while they are submitted', async () => {
    const feed = candles(400, 8);
    let sent = 0;
    let ahead = 0;
    let open = 0;
    let overlapped = 0;
    const counting: ReplayRunner = {
      runBatch: async (r) => {
        sent++;
        if (r.state?.until === 0) ahead++;
        if (open > 0) overlapped++;
        open++;
        try {
          return await worker.runBatch(r);
        } finally {
          open--;
        }
      },
    };
    for (const read of ['never', 'sometimes', 'always', 'keep']) {
      const parameters = { seed: 9, read, lag: 2, p_order: 0.5, p_limit: 0.3, offset: 1, p_raise: 0.05 };
      sent = ahead = 0;
      const run = (runner: ReplayRunner, sendAhead: boolean): Promise<ReplayReport> =>
        replayComponent({
          file,
          data: feed,
          runner,
          parameters,
          batchSize: 64,
          sendAhead,
          stateDir: join(dir, `run-${++runs}`),
          startingCash: 50_000,
        });
      const aheadRun = await run(counting, true);
      assert.equal(aheadRun.ok, true, JSON.stringify(aheadRun.fatal));
      assert.equal(sent, 7);
      // Every batch after the first: each batch before it ends with orders to submit. A component that reads capital
      // after an order has them submitted at its request instead, within the batch.
      if (read === 'never') assert.equal(ahead, 6);
      assert.ok(aheadRun.errorCount > 0);
      const inTurn = await run(worker, false);
      assert.deepEqual(outcome(aheadRun), outcome(inTurn));
      assert.equal(aheadRun.syncs, inTurn.syncs, read);
    }
    // Batches were in the worker while the replay had not finished with the one before (never overlapping requests
    // to the worker itself: the runner's requests are still one at a time).
    assert.equal(overlapped, 0);
  });

  it('one that reads capital after each order asks for it once per order, and sees what it would have seen', async () => {
    const feed = candles(200, 4);
    const parameters = { seed: 6, read: 'always', lag: 1, p_order: 0.1, p_limit: 0, offset: 0 };
    const batched = await replay(parameters, feed, 200);
    assert.equal(batched.batches, 1);
    assert.ok(
      batched.syncs >= batched.orders.produced - 1 && batched.syncs <= batched.orders.produced * 2 + 8,
      `${batched.syncs} syncs, ${batched.orders.produced} orders`,
    );
    assert.deepEqual(outcome(batched), outcome(await replay(parameters, feed, 1)));
  });

  it('a long position held while capital is read on every record: one value for the batch, what it would have seen', async () => {
    // Long only, cash in the account currency, nothing working: buying power is the cash whatever the quotes do, so
    // the replay sends one value for the batch instead of answering the reads one by one (a short's would move).
    const longOnly = join(dir, 'core', 'orders', 'long_only.py');
    writeFileSync(
      longOnly,
      [
        'from core.orders.order_base import OrderBase',
        '',
        'class LongOnly(OrderBase):',
        '    def __init__(self, config):',
        '        super().__init__(config)',
        '        self.n = 0',
        '',
        '    def generate_order(self, market_data, signal=None):',
        '        self.n += 1',
        "        print('%d %r' % (self.n, market_data['capital']))",
        '        if self.n == 3 or self.n == 150:',
        "            side = 'buy' if self.n == 3 else self.config['then']",
        "            quantity = 1000 if side == 'buy' else 3000",
        "            return {'symbol': market_data['symbol'], 'side': side, 'order_type': 'market', 'quantity': quantity}",
        '        return None',
        '',
      ].join('\n'),
    );
    const feed = candles(300, 11);
    const run = (then: string, batchSize: number): Promise<ReplayReport> =>
      replayComponent({
        file: longOnly,
        data: feed,
        runner: worker,
        parameters: { then },
        batchSize,
        stateDir: join(dir, `run-${++runs}`),
        startingCash: 50_000,
      });
    // Bought at record 3, more bought at 150: long the whole time.
    const long = await run('buy', 300);
    const longOne = await run('buy', 1);
    assert.equal(long.batches, 1);
    assert.equal(long.output.stdout, longOne.output.stdout);
    assert.deepEqual(outcome(long), outcome(longOne));
    assert.ok(long.syncs <= 2, `${long.syncs} capital requests while long`);
    // 3,000 sold at 150: short 2,000 from there, buying power moves with every quote, each read answered as it comes.
    const short = await run('sell', 300);
    const shortOne = await run('sell', 1);
    assert.equal(short.output.stdout, shortOne.output.stdout);
    assert.deepEqual(outcome(short), outcome(shortOne));
    const seen = short.output.stdout
      .trim()
      .split('\n')
      .map((line) => Number(line.split(' ')[1]));
    assert.ok(new Set(seen.slice(150)).size > 10, 'a short position: buying power moved with the quotes');
    assert.ok(short.syncs > long.syncs, `${short.syncs} capital requests while short, ${long.syncs} while long`);
  });

  it('columns encoded ahead (while the worker runs the batch before) give what encoding at the request gives', async () => {
    const feed = candles(300, 5);
    const parameters = { seed: 7, read: 'sometimes', lag: 1, p_order: 0.1, p_limit: 0.3, offset: 1 };
    let ahead = 0;
    let requests = 0;
    const encodingAhead: ReplayRunner = {
      prepareColumns: (columns) => worker.prepareColumns(columns),
      runBatch: (r) => {
        requests++;
        if (r.prepared !== undefined) ahead++;
        return worker.runBatch(r);
      },
    };
    const atRequest: ReplayRunner = { runBatch: (r) => worker.runBatch(r) };
    const run = (runner: ReplayRunner): Promise<ReplayReport> =>
      replayComponent({
        file,
        data: feed,
        runner,
        parameters,
        batchSize: 32,
        stateDir: join(dir, `run-${++runs}`),
        startingCash: 50_000,
      });
    const encoded = await run(encodingAhead);
    assert.equal(encoded.ok, true, JSON.stringify(encoded.fatal));
    assert.equal(requests, 10);
    assert.equal(ahead, 10);
    assert.deepEqual(outcome(encoded), outcome(await run(atRequest)));
  });
});
