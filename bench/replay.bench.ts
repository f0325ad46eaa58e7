/**
 * Replay throughput over 1,000,000 generated EUR_USD ticks (a temp CSV, loaded once), end to end:
 * feed + clock + paper venue + market_data for every tick + a cheap Python component through the
 * persistent worker (batched `run_batch`) + engine and durable audit for its orders.
 * Floor: the same loop with an in-process component that never trades (feed + venue + engine
 * + market_data, no Python); loading the file is measured apart.
 * Run alone: `npx tsc -p tsconfig.test.json && node -e "require('./out/bench/replay.bench').benchReplay()"`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicMs } from '../src/common/clock';
import { ReplayFeed } from '../src/brokers/paper/replayFeed';
import { replayComponent, type ReplayReport, type ReplayRunner } from '../src/execution/replay';
import { defaultInterpreterCandidates, resolveInterpreter } from '../src/python/interpreter';
import { PythonWorker, type ComponentBatchRequest, type ComponentBatchResult } from '../src/python/runner';

const TICKS = 1_000_000;

/** Trades every 20,000 ticks, alternating sides: cheap per tick, a few dozen orders in all. */
const CHEAP_COMPONENT = `from core.orders.order_base import OrderBase

class Cheap(OrderBase):
    def __init__(self, config):
        super().__init__(config)
        self.n = 0

    def generate_order(self, market_data, signal=None):
        self.n += 1
        if self.n % 20000:
            return None
        return {'symbol': market_data['symbol'], 'side': 'buy' if self.n % 40000 else 'sell', 'order_type': 'market', 'quantity': 10000}
`;

/** Deterministic ticks: a random walk on the 0.00001 grid, 1 pip spread, 100 ms apart. */
function writeTicks(file: string, n: number): void {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const start = Date.UTC(2024, 2, 4, 0, 0, 0);
  let mid = 108_500; // in 0.00001
  const parts: string[] = ['time,bid,ask'];
  for (let i = 0; i < n; i++) {
    mid += Math.floor(random() * 5) - 2;
    parts.push(`${start + i * 100},${((mid - 5) / 100_000).toFixed(5)},${((mid + 5) / 100_000).toFixed(5)}`);
  }
  writeFileSync(file, `${parts.join('\n')}\n`);
}

/** The floor's component: in-process, never trades. */
const idleRunner: ReplayRunner = {
  runBatch: async (req: ComponentBatchRequest): Promise<ComponentBatchResult> => ({
    ok: true,
    done: req.rows.length,
    items: [],
    metadata: null,
    stdout: '',
    stderr: '',
    totalMs: 0,
  }),
};

const perSecond = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function benchReplay(): Promise<void> {
  console.log(`\n## Replay (${TICKS.toLocaleString('en-US')} ticks)\n`);
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-bench-replay-'));
  try {
    const csv = join(dir, 'ticks.csv');
    writeTicks(csv, TICKS);
    const component = join(dir, 'core', 'orders', 'cheap.py');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    writeFileSync(component, CHEAP_COMPONENT);

    const t0 = monotonicMs();
    const feed = ReplayFeed.fromCsv(csv, { symbol: 'EUR_USD' });
    const loadMs = monotonicMs() - t0;

    const floor = await replayComponent({ file: component, data: feed, runner: idleRunner, stateDir: join(dir, 'floor') });
    const interpreter = await resolveInterpreter(defaultInterpreterCandidates(process.env['SPTRADER_PYTHON']));
    const worker = new PythonWorker({ interpreter, timeoutMs: 120_000 });
    let full: ReplayReport;
    try {
      full = await replayComponent({ file: component, data: feed, runner: worker, stateDir: join(dir, 'full') });
    } finally {
      await worker.dispose();
    }
    if (!full.ok) throw new Error(`the replay failed: ${JSON.stringify(full.fatal)}`);

    console.log('| what                                                        | ticks/s     | total       |');
    console.log('|-------------------------------------------------------------|-------------|-------------|');
    console.log(
      `| load + validate the CSV (${TICKS.toLocaleString('en-US')} rows)                      | ${perSecond((TICKS / loadMs) * 1000).padStart(11)} | ${(loadMs / 1000).toFixed(2).padStart(9)} s |`,
    );
    console.log(
      `| replay, cheap Python component (${full.batches} round trips, ${full.orders.sent} orders) | ${perSecond(full.ticksPerSecond).padStart(11)} | ${(full.elapsedMs / 1000).toFixed(2).padStart(9)} s |`,
    );
    console.log(
      `| floor: same loop, no component (feed + venue + engine)      | ${perSecond(floor.ticksPerSecond).padStart(11)} | ${(floor.elapsedMs / 1000).toFixed(2).padStart(9)} s |`,
    );
    console.log(
      `\ntarget ≥ 50,000 ticks/s end to end: ${full.ticksPerSecond >= 50_000 ? 'met' : 'NOT met'} (${full.fills} fills, positions ${JSON.stringify(full.positions)})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
