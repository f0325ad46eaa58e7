/**
 * Replay as users run it: 1,000,000 generated EUR_USD minute candles (in memory, loaded once), end to end
 * through the real engine (risk, audit log written and synced at close), the paper venue and a Python
 * component in the persistent worker, for components that order on every candle, every 10th, every
 * 1,000th and never (each alternates buy and sell, 1,000 units, so positions open and close).
 * Beside them, in the same run:
 *  - the no-component loop floor: the same loop with an in-process component that never orders (feed,
 *    clock, venue, market_data rows; no Python, no orders);
 *  - the same order rates with an in-process component (no Python): what Node (the replay loop, normalising,
 *    the engine and the venue) costs per order, so the report says which part is the engine's and which
 *    Python's;
 *  - the engine alone: `engine.submit` per order, timed around the call inside the every-candle run.
 *  - each run's CPU time, Node's and the Python worker's (Linux's /proc), beside the split by wall time, which
 *    moves with whatever else the machine runs.
 * Targets (issue 14): every-candle ≥ 25,000 candles/s and ≤ 3× the time of the never-ordering Python
 * component; every-1,000th ≥ 40 % of the floor's candles/s.
 * Candles: REPLAY_BENCH_CANDLES (default 1,000,000); order-heavy rows may be capped with
 * REPLAY_BENCH_HEAVY_CANDLES (default the same) on a slow machine, and then say so.
 * Run alone: `npx tsc -p tsconfig.test.json && node out/bench/main.js replay`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ReplayFeed } from '../src/brokers/paper/replayFeed';
import { ExecutionEngine } from '../src/execution/engine';
import { replayComponent, type ReplayReport, type ReplayRunner } from '../src/usecases/replay';
import { defaultInterpreterCandidates, resolveInterpreter } from '../src/python/interpreter';
import { batchSize } from '../src/python/batchColumns';
import {
  PythonWorker,
  type ComponentBatchItem,
  type ComponentBatchRequest,
  type ComponentBatchResult,
} from '../src/python/runner';

// A full GC before each memory sample (the live heap, not garbage waiting to be collected).
setFlagsFromString('--expose-gc');

const CANDLES = Number(process.env['REPLAY_BENCH_CANDLES'] ?? 1_000_000);
const HEAVY = Math.min(CANDLES, Number(process.env['REPLAY_BENCH_HEAVY_CANDLES'] ?? CANDLES));

/** Orders every `every` candles (never when 0), alternating sides; state in self, as users write it. */
const component = (every: number): string => `from core.orders.order_base import OrderBase

class Every(OrderBase):
    def __init__(self, config):
        super().__init__(config)
        self.n = 0
        self.side = 'sell'

    def generate_order(self, market_data, signal=None):
        self.n += 1
        if ${every === 0 ? 'True' : `self.n % ${every}`}:
            return None
        self.side = 'buy' if self.side == 'sell' else 'sell'
        return {'symbol': market_data['symbol'], 'side': self.side, 'order_type': 'market', 'quantity': 1000}
`;

/** Deterministic minute candles: a random walk on the 0.00001 grid. */
function candles(n: number): ReplayFeed {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const start = Date.UTC(2022, 0, 3, 0, 0, 0);
  const time = new Array<number>(n);
  const open = new Array<number>(n);
  const high = new Array<number>(n);
  const low = new Array<number>(n);
  const close = new Array<number>(n);
  const volume = new Array<number>(n);
  let mid = 108_500;
  for (let i = 0; i < n; i++) {
    const o = mid;
    mid = Math.max(50_000, mid + Math.floor(random() * 9) - 4);
    time[i] = start + i * 60_000;
    open[i] = o / 1e5;
    close[i] = mid / 1e5;
    high[i] = (Math.max(o, mid) + 2) / 1e5;
    low[i] = (Math.min(o, mid) - 2) / 1e5;
    volume[i] = 100 + (i % 50);
  }
  return ReplayFeed.fromColumns({ time, open, high, low, close, volume }, 'bench', { symbol: 'EUR_USD' });
}

/** An in-process component: orders every `every` records (never when 0), alternating sides. */
function inProcess(every: number): ReplayRunner {
  let side: 'buy' | 'sell' = 'sell';
  return {
    runBatch: async (req: ComponentBatchRequest): Promise<ComponentBatchResult> => {
      const items: ComponentBatchItem[] = [];
      if (every > 0)
        for (let j = 0; j < batchSize(req); j++) {
          if (((req.indexStart ?? 0) + j + 1) % every !== 0) continue;
          side = side === 'buy' ? 'sell' : 'buy';
          items.push({ index: j, ok: true, output: { symbol: 'EUR_USD', side, order_type: 'market', quantity: 1000 } });
        }
      return { ok: true, done: batchSize(req), items, metadata: null, stdout: '', stderr: '', totalMs: 0 };
    },
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The CPU time process `pid` has run, in µs (Linux: /proc/<pid>/schedstat), or NaN where that cannot be read. */
function cpuUs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return NaN;
  }
}

/** engine.submit's own time, summed over calls while `on`. */
function timeEngine(): { stop: () => { calls: number; ms: number } } {
  const proto = ExecutionEngine.prototype;
  type Submit = (
    this: ExecutionEngine,
    ...args: Parameters<ExecutionEngine['submit']>
  ) => ReturnType<ExecutionEngine['submit']>;
  const original = Object.getOwnPropertyDescriptor(proto, 'submit')?.value as Submit;
  let calls = 0;
  let ns = 0n;
  proto.submit = async function (this: ExecutionEngine, ...args: Parameters<Submit>) {
    const t = process.hrtime.bigint();
    try {
      return await original.apply(this, args);
    } finally {
      ns += process.hrtime.bigint() - t;
      calls++;
    }
  };
  return {
    stop: () => {
      proto.submit = original;
      return { calls, ms: Number(ns) / 1e6 };
    },
  };
}

export async function benchReplay(): Promise<void> {
  console.log(
    `\n## Replay (${fmt(CANDLES)} EUR_USD candles${HEAVY < CANDLES ? `; order-heavy rows over the first ${fmt(HEAVY)}` : ''})\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-bench-replay-'));
  let worker: PythonWorker | undefined;
  try {
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    const files = new Map<number, string>();
    for (const every of [0, 1, 10, 1000]) {
      const file = join(dir, 'core', 'orders', `every${every}.py`);
      writeFileSync(file, component(every));
      files.set(every, file);
    }
    const full = candles(CANDLES);
    const heavy = HEAVY < CANDLES ? candles(HEAVY) : full;
    let runs = 0;
    // Each run's CPU time, Node's and the worker's: what each side spent, whatever else the machine ran meanwhile.
    const cpu = new Map<ReplayReport, { node: number; python: number | undefined }>();
    const replay = async (
      label: string,
      feed: ReplayFeed,
      runner: ReplayRunner,
      file: string,
    ): Promise<ReplayReport> => {
      const pid = runner instanceof PythonWorker ? runner.pidFor(file) : undefined;
      const python0 = runner instanceof PythonWorker ? (pid === undefined ? 0 : cpuUs(pid)) : undefined;
      const node0 = process.cpuUsage();
      const r = await replayComponent({ file, data: feed, runner, stateDir: join(dir, `run-${++runs}`) });
      const node = process.cpuUsage(node0);
      const after = runner instanceof PythonWorker ? runner.pidFor(file) : undefined;
      const python1 = after !== undefined && (pid === undefined || pid === after) ? cpuUs(after) : undefined;
      cpu.set(r, {
        node: node.user + node.system,
        python: python0 !== undefined && python1 !== undefined ? python1 - python0 : undefined,
      });
      if (!r.ok) throw new Error(`${label}: the replay failed: ${JSON.stringify(r.fatal)}`);
      return r;
    };
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates(process.env['SPTRADER_PYTHON'])),
      timeoutMs: 600_000,
    });
    const python = worker;

    const rows: Array<{ label: string; r: ReplayReport; note?: string }> = [];
    const floor = await replay('floor', full, inProcess(0), files.get(0) as string);
    rows.push({ label: 'floor: no component (feed, clock, venue, rows)', r: floor });
    const never = await replay('never', full, python, files.get(0) as string);
    rows.push({ label: 'Python component, never orders', r: never });
    const nodeEvery = await (async () => {
      const timer = timeEngine();
      const r = await replay('node every', heavy, inProcess(1), files.get(1) as string);
      const engine = timer.stop();
      return { r, engine };
    })();
    rows.push({ label: 'in-process component, every candle (Node + engine)', r: nodeEvery.r });
    const results = new Map<number, ReplayReport>();
    for (const every of [1, 10, 1000]) {
      const feed = every === 1000 ? full : heavy;
      const r = await replay(`python every ${every}`, feed, python, files.get(every) as string);
      results.set(every, r);
      rows.push({ label: `Python component, every ${every === 1 ? 'candle' : `${fmt(every)}th`}`, r });
    }

    // What users run first: the README's example component (orders on every candle while the spread is tight, then
    // denied for buying power once the account is spent, and prints a line on every call), from examples/.
    const exampleCandles = Math.min(HEAVY, 200_000);
    const exampleFile = join(
      __dirname,
      '../../examples/workspace/core/orders/execution_algos/spread_guarded_market.py',
    );
    const example = await replay(
      'example',
      exampleCandles < CANDLES ? candles(exampleCandles) : full,
      python,
      exampleFile,
    );
    rows.push({ label: 'README example spread_guarded_market.py, spent', r: example });

    console.log(
      '| replay                                              | candles   | orders    | candles/s | µs/candle | round trips |',
    );
    console.log(
      '|-----------------------------------------------------|-----------|-----------|-----------|-----------|-------------|',
    );
    for (const { label, r } of rows)
      console.log(
        `| ${label.padEnd(51)} | ${fmt(r.processed).padStart(9)} | ${fmt(r.orders.sent).padStart(9)} | ${fmt(r.ticksPerSecond).padStart(9)} | ${(1e6 / Math.max(1, r.ticksPerSecond)).toFixed(2).padStart(9)} | ${fmt(r.batches).padStart(11)} |`,
      );

    console.log(
      `\nexample: ${fmt(example.orders.produced)} orders produced, ${fmt(example.orders.sent)} sent, ${fmt(example.orders.denied)} denied ` +
        `(${Object.entries(example.orders.deniedByCode)
          .map(([code, n]) => `${code} ${fmt(n)}`)
          .join(', ')}), ${fmt(example.orders.invalid)} invalid`,
    );
    const every1 = results.get(1) as ReplayReport;
    const every1000 = results.get(1000) as ReplayReport;
    const usPerCandle = (r: ReplayReport): number => (r.elapsedMs * 1000) / r.processed;
    const engineUs = (nodeEvery.engine.ms * 1000) / Math.max(1, nodeEvery.engine.calls);
    const nodeOrderUs = usPerCandle(nodeEvery.r) - usPerCandle(floor);
    const pythonOrderUs = usPerCandle(every1) - usPerCandle(nodeEvery.r) - (usPerCandle(never) - usPerCandle(floor));
    console.log(`\nPer order on every candle (same run): ${usPerCandle(every1).toFixed(1)} µs/candle in all, of which`);
    console.log(
      `  engine.submit (risk, audit, venue):      ${engineUs.toFixed(1)} µs (${fmt(nodeEvery.engine.calls)} calls timed)`,
    );
    console.log(
      `  rest of Node per order (normalise, fit, slippage, fills): ${(nodeOrderUs - engineUs).toFixed(1)} µs`,
    );
    console.log(
      `  Python per record, never ordering:       ${(usPerCandle(never) - usPerCandle(floor)).toFixed(1)} µs`,
    );
    console.log(`  Python's extra for a record that orders: ${pythonOrderUs.toFixed(1)} µs`);
    console.log(`  the loop floor:                          ${usPerCandle(floor).toFixed(2)} µs`);
    // The same split in CPU time: a difference of wall times above moves with whatever else the machine runs.
    const cpuPer = (r: ReplayReport, side: 'node' | 'python'): number => (cpu.get(r)?.[side] ?? NaN) / r.processed;
    console.log(
      `  as CPU time: Node ${cpuPer(every1, 'node').toFixed(1)} µs a candle through Python, ${cpuPer(nodeEvery.r, 'node').toFixed(1)} in-process; ` +
        `the worker ${cpuPer(every1, 'python').toFixed(2)} µs a record that orders, ${cpuPer(never, 'python').toFixed(2)} never ordering ` +
        `(on the second core, meanwhile)`,
    );

    const ratio = usPerCandle(every1) / usPerCandle(never);
    const share = every1000.ticksPerSecond / floor.ticksPerSecond;
    console.log(
      `\ntarget every candle ≥ 25,000 candles/s: ${every1.ticksPerSecond >= 25_000 ? 'met' : 'NOT met'} (${fmt(every1.ticksPerSecond)}); ≤ 3× never-ordering: ${ratio <= 3 ? 'met' : 'NOT met'} (${ratio.toFixed(2)}×)`,
    );
    console.log(
      `target every 1,000th ≥ 40% of the floor: ${share >= 0.4 ? 'met' : 'NOT met'} (${(share * 100).toFixed(1)}%: ${fmt(every1000.ticksPerSecond)} vs ${fmt(floor.ticksPerSecond)})`,
    );
    // Memory flat in the number of candles (issue 14): the live heap after a full GC, sampled once a
    // tenth of the way in and again at the end of a replay that orders every 100th candle (fills,
    // report, audit and engine caches all grow with the orders if anything keeps them).
    const gc = runInNewContext('gc') as () => void;
    let early: { processed: number; heap: number } | undefined;
    const sampled = await replayComponent({
      file: files.get(1000) as string,
      data: full,
      runner: inProcess(100),
      stateDir: join(dir, `run-${++runs}`),
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (early === undefined && p.processed >= CANDLES / 10) {
          gc();
          early = { processed: p.processed, heap: process.memoryUsage().heapUsed };
        }
      },
    });
    gc();
    const lateHeap = process.memoryUsage().heapUsed;
    if (!sampled.ok || early === undefined) throw new Error('the memory run failed');
    const perHundredK = (lateHeap - early.heap) / ((sampled.processed - early.processed) / 100_000) / 1e6;
    console.log(
      `memory: live heap ${(early.heap / 1e6).toFixed(1)} MB at candle ${fmt(early.processed)}, ${(lateHeap / 1e6).toFixed(1)} MB at ${fmt(sampled.processed)} ` +
        `(${fmt(sampled.orders.sent)} orders, every 100th): ${perHundredK >= 0 ? '+' : ''}${perHundredK.toFixed(2)} MB per 100,000 candles beyond the loaded data; ` +
        `target flat: ${perHundredK <= 0.5 ? 'met' : 'NOT met'} (≤ 0.5 MB per 100,000 candles)`,
    );
    const heapMb = process.memoryUsage().heapUsed / 1e6;
    console.log(
      `heap after the runs: ${heapMb.toFixed(0)} MB (the ${fmt(CANDLES)} loaded candles included); capital requests: ${fmt(every1.syncs)}`,
    );
  } finally {
    await worker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
