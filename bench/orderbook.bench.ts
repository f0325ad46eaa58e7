/**
 * Order book speed: the paper venue's OrderBook against nodejs-order-book on the same seeded workload
 * (1M ops: 70% limit, 20% cancel, 10% market), each with the checksum it ends on (cancel hits + final
 * depth); a price-time engine must end on the same checksum as nodejs-order-book.
 *
 * When the shared workload script exists (default /work/shared/bench/orderbook-workload.mjs, or
 * $SPTRADER_ORDERBOOK_WORKLOAD), both engines run through it, each in its own process, with
 * bench/orderbook-adapter.mjs for ours. Otherwise (CI has only the repo; or
 * SPTRADER_ORDERBOOK_WORKLOAD=none) both run in this process on a TS generation of the same
 * documented workload: mulberry32(seed) stream, random-walk mid, exponential price offsets.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OrderBook } from '../src/brokers/paper/book/orderBook';

const ROOT = join(__dirname, '..', '..');
const OPS = 1_000_000;
const SEED = 1;

interface Result {
  engine: string;
  opsPerSec: number;
  checksum: Record<string, unknown>;
}

async function viaSharedScript(script: string): Promise<Result[]> {
  const run = promisify(execFile);
  const out: Result[] = [];
  for (const engine of ['nodejs-order-book', join(ROOT, 'bench', 'orderbook-adapter.mjs')]) {
    const args = ['--expose-gc', script, '--engine', engine, '--ops', String(OPS), '--seed', String(SEED)];
    console.log(`$ node ${args.join(' ')}   (cwd ${ROOT})`);
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, maxBuffer: 1 << 24 });
    out.push(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Result);
  }
  return out;
}

// ---- in-process fallback ----

interface Engine {
  name: string;
  limit(id: number, side: number, price: number, size: number): void;
  market(side: number, size: number): void;
  cancel(id: number): boolean;
  depth(): { bids: [number, number][]; asks: [number, number][] };
}

interface Workload {
  kind: Uint8Array;
  side: Uint8Array;
  price: Int32Array;
  size: Int32Array;
  id: Int32Array;
  maxId: number;
}

function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Kinds: 0 limit, 1 cancel, 2 market. Same draws, in the same order, as the shared script's generator. */
function generate(ops: number, seed: number): Workload {
  const rnd = mulberry32(seed);
  const w: Workload = {
    kind: new Uint8Array(ops),
    side: new Uint8Array(ops),
    price: new Int32Array(ops),
    size: new Int32Array(ops),
    id: new Int32Array(ops),
    maxId: 0,
  };
  const targeted = new Uint8Array(ops);
  let mid = 10_000;
  for (let i = 0; i < ops; i++) {
    if (rnd() < 0.01) mid = Math.min(11_000, Math.max(9_000, mid + (rnd() < 0.5 ? -1 : 1)));
    const u = rnd();
    if (u < 0.7 || w.maxId === 0) {
      const s = rnd() < 0.5 ? 0 : 1;
      const off = Math.floor(-Math.log(1 - rnd()) * 8) - 2;
      w.side[i] = s;
      w.size[i] = 1 + Math.floor(rnd() * 100);
      w.price[i] = s === 0 ? mid - off : mid + off;
      w.id[i] = w.maxId++;
    } else if (u < 0.9) {
      const old = rnd() < 0.5;
      let target = -1;
      for (let k = 0; k < 4 && target < 0; k++) {
        const c = old ? Math.floor(rnd() * w.maxId) : w.maxId - 1 - Math.floor(rnd() * Math.min(2000, w.maxId));
        if (!targeted[c]) target = c;
      }
      if (target < 0) target = w.maxId - 1;
      targeted[target] = 1;
      w.kind[i] = 1;
      w.id[i] = target;
    } else {
      w.kind[i] = 2;
      w.side[i] = rnd() < 0.5 ? 0 : 1;
      w.size[i] = 1 + Math.floor(rnd() * 400);
    }
  }
  return w;
}

function ours(): Engine {
  const b = new OrderBook({ idCapacity: OPS, orderCapacity: 1 << 15 });
  return {
    name: 'sptrader OrderBook (in-process)',
    limit: (id, side, price, size) => b.limit(id, side === 0 ? 0 : 1, price, size),
    market: (side, size) => b.market(side === 0 ? 0 : 1, size),
    cancel: (id) => b.cancel(id),
    depth: () => b.depth(),
  };
}

interface NobOrderBook {
  limit(o: { id: string; side: 'buy' | 'sell'; size: number; price: number }): unknown;
  market(o: { side: 'buy' | 'sell'; size: number }): unknown;
  cancel(id: string): unknown;
  depth(): [[number, number][], [number, number][]];
}

function nodejsOrderBook(maxId: number): Engine {
  const req = createRequire(join(ROOT, 'package.json'));
  const { OrderBook: Nob } = req('nodejs-order-book') as { OrderBook: new () => NobOrderBook };
  const { version } = req('nodejs-order-book/package.json') as { version: string };
  const ob = new Nob();
  const ids = Array.from({ length: maxId }, (_, i) => `o${i}`);
  const sides = ['buy', 'sell'] as const;
  return {
    name: `nodejs-order-book ${version} (in-process)`,
    limit: (id, side, price, size) => ob.limit({ id: ids[id]!, side: sides[side]!, size, price }),
    market: (side, size) => ob.market({ side: sides[side]!, size }),
    cancel: (id) => ob.cancel(ids[id]!) !== undefined,
    depth: () => {
      const [asks, bids] = ob.depth();
      return { bids: bids.sort((a, b) => b[0] - a[0]), asks: asks.sort((a, b) => a[0] - b[0]) };
    },
  };
}

function replay(w: Workload, eng: Engine): Result {
  let hits = 0;
  const t = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) {
    const k = w.kind[i];
    if (k === 0) eng.limit(w.id[i]!, w.side[i]!, w.price[i]!, w.size[i]!);
    else if (k === 1) hits += eng.cancel(w.id[i]!) ? 1 : 0;
    else eng.market(w.side[i]!, w.size[i]!);
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const d = eng.depth();
  // FNV-1a over the final depth (bids, a separator, asks).
  let h = 2166136261;
  for (const [p, q] of [...d.bids, [-1, -1], ...d.asks]) {
    h = Math.imul(h ^ p!, 16777619) >>> 0;
    h = Math.imul(h ^ q!, 16777619) >>> 0;
  }
  const total = (lv: [number, number][]): number => lv.reduce((s, [, q]) => s + q, 0);
  return {
    engine: eng.name,
    opsPerSec: Math.round((OPS / ms) * 1000),
    checksum: {
      cancelHits: hits,
      bidLevels: d.bids.length,
      askLevels: d.asks.length,
      bidQty: total(d.bids),
      askQty: total(d.asks),
      bestBid: d.bids[0]?.[0],
      bestAsk: d.asks[0]?.[0],
      depthHash: h.toString(16),
    },
  };
}

function inProcess(): Result[] {
  console.log(`in-process replay (${OPS} ops, seed ${SEED})`);
  const w = generate(OPS, SEED);
  return [replay(w, nodejsOrderBook(w.maxId)), replay(w, ours())];
}

export async function benchOrderBook(): Promise<void> {
  console.log('\n## Order book: price-time priority, OrderBook vs nodejs-order-book');
  const script = process.env.SPTRADER_ORDERBOOK_WORKLOAD ?? '/work/shared/bench/orderbook-workload.mjs';
  const [ref, mine] = script !== 'none' && existsSync(script) ? await viaSharedScript(script) : inProcess();
  if (!ref || !mine) throw new Error('order book bench: missing result');
  for (const r of [ref, mine])
    console.log(
      `${r.engine.padEnd(44)} ${r.opsPerSec.toLocaleString('en-US').padStart(11)} ops/s  checksum ${JSON.stringify(r.checksum)}`,
    );
  const same = JSON.stringify(mine.checksum) === JSON.stringify(ref.checksum);
  console.log(
    `checksums ${same ? 'match' : 'DIFFER'}; ratio ${(mine.opsPerSec / ref.opsPerSec).toFixed(1)}× (floor: 2×)`,
  );
  if (!same) process.exitCode = 1;
}
