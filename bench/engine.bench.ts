/**
 * Engine throughput, beside the audit log's floors measured in the same run on the same disk:
 *  - the engine in-process with the paper venue at zero latency: validate + risk + state machine +
 *    paper fill + durable audit (adaptive group commit), with up to 256 orders in flight;
 *  - engine CPU per order, measured as the wall figure is: the main thread's busy time (event-loop
 *    utilisation) over each window of WINDOW finished orders, divided by the window — so that p50 × orders
 *    is the run's main-thread time and agrees with orders/s (a per-order sum of synchronous stretches,
 *    the figure printed before, left out the promise hops, the collector and the lanes' bookkeeping);
 *  - the CPU floor of one audit line (native JSON.stringify + sha256), and the ceiling it puts on one thread;
 *  - floors: raw appends on one fd (no durability) and append + fdatasync per line.
 */
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicMs, systemClock } from '../src/common/clock';
import { PaperBroker } from '../src/brokers/paper/paperBroker';
import type { QuoteSource } from '../src/brokers/paper/feed';
import { AuditLog } from '../src/execution/audit/auditLog';
import { ExecutionEngine } from '../src/execution/engine';
import { sha256Hex } from '../src/execution/audit/auditRecord';
import { submitOrderCommand } from '../src/execution/events';
import type { Quote } from '../src/orders/model';
import { quantile } from './stats';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOG', 'META', 'TSLA', 'AMD'];

/** A steady touch per symbol: the bench measures the engine, not the market. */
const steadyQuotes: QuoteSource = {
  quote: (symbol: string, atMs: number): Quote => ({
    symbol,
    bid: 100,
    ask: 100.02,
    last: 100.01,
    bid_size: 1e9,
    ask_size: 1e9,
    timestamp: atMs,
  }),
};

const perSecond = (n: number, ms: number): string => Math.round((n / ms) * 1000).toLocaleString('en-US');

/** Finished orders per CPU sample (see the header). */
const WINDOW = 256;

interface EngineRun {
  ms: number;
  /** Main-thread busy µs per order, one sample per WINDOW finished orders. */
  cpuUs: number[];
  /** Per order: the sum of its synchronous stretches in the engine (`engineMs`), the older measure. */
  stretchUs: number[];
  lines: number;
  fsyncs: number;
  /** Process CPU (user + system, every thread) over the run, per order. */
  processUsPerOrder: number;
  /** Main-thread busy time (event-loop utilisation) over the run, per order. */
  mainUsPerOrder: number;
  /** The collector's pauses over the run, per order: scavenges (young generation) and the rest (old generation). */
  gc: { minorUs: number; majorUs: number };
}

/** Sums the collector's pauses (`gc` performance entries) from now until `stop`. */
function watchCollector(): { stop(): Promise<{ minorMs: number; majorMs: number }> } {
  let minorMs = 0;
  let majorMs = 0;
  const add = (entries: readonly PerformanceEntry[]): void => {
    for (const e of entries) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minorMs += e.duration;
      else majorMs += e.duration;
    }
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: async () => {
      // Node makes a pause's entry in a later turn of the event loop: let the last ones arrive.
      await new Promise((resolve) => setTimeout(resolve, 10));
      add(observer.takeRecords());
      observer.disconnect();
      return { minorMs, majorMs };
    },
  };
}

async function runEngine(orders: number, inFlight: number, dir: string, withAudit = true): Promise<EngineRun> {
  const paper = new PaperBroker({ clock: systemClock, quotes: steadyQuotes, startingCash: 1e12, pollIntervalMs: 0 });
  const { log } = await AuditLog.open(join(dir, `audit-${inFlight}-${withAudit ? 'on' : 'off'}`), {
    clock: systemClock,
  });
  const engine = new ExecutionEngine({
    clock: systemClock,
    brokers: { paper },
    audit: withAudit ? log : null,
    // Loose limits, every check still evaluated; no submit rate (the bench is the burst).
    limits: {
      maxOrderQuantity: 1e9,
      maxPositionQuantity: 1e12,
      maxOrderNotional: 1e12,
      priceCollarBps: 1000,
      maxOpenOrders: 100_000,
    },
    queueCapacity: inFlight,
    maxFinishedOrders: 1000,
  });
  await engine.connect('paper');
  const cpuUs: number[] = [];
  const stretchUs: number[] = [];
  let next = 0;
  let done = 0;
  let failures = 0;
  const cpu0 = process.cpuUsage();
  const collector = watchCollector();
  const elu0 = performance.eventLoopUtilization();
  let window = elu0;
  const t0 = monotonicMs();
  const worker = async (): Promise<void> => {
    while (next < orders) {
      const i = next++;
      const cmd = submitOrderCommand(
        {
          symbol: SYMBOLS[i % SYMBOLS.length] as string,
          side: i % 2 === 0 ? 'buy' : 'sell',
          quantity: 10,
          order_type: { type: 'market' },
          time_in_force: { type: 'IOC' },
          metadata: {},
        },
        { venue: 'paper', source: 'api', clock: systemClock },
      );
      const r = await engine.submit(cmd);
      if (r.order.state !== 'FILLED') failures++;
      stretchUs.push(r.engineMs * 1000);
      if (++done % WINDOW === 0) {
        const now = performance.eventLoopUtilization();
        cpuUs.push((performance.eventLoopUtilization(now, window).active * 1000) / WINDOW);
        window = now;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  await log.flush();
  const ms = monotonicMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const gc = await collector.stop();
  const stats = log.stats();
  await engine.close();
  await log.close();
  if (failures > 0) throw new Error(`${failures} orders did not fill`);
  return {
    ms,
    cpuUs,
    stretchUs,
    lines: stats.lines,
    fsyncs: stats.fsyncs,
    processUsPerOrder: (cpu.user + cpu.system) / orders,
    mainUsPerOrder: (elu.active * 1000) / orders,
    gc: { minorUs: (gc.minorMs * 1000) / orders, majorUs: (gc.majorMs * 1000) / orders },
  };
}

/** The collector's share of the main thread's busy time: a large one says objects live too long (see src/common/churn.ts). */
function collectorText(r: EngineRun): string {
  return `collector pauses ${r.gc.minorUs.toFixed(1)} µs/order young + ${r.gc.majorUs.toFixed(1)} old (${(((r.gc.minorUs + r.gc.majorUs) / r.mainUsPerOrder) * 100).toFixed(0)}% of the busy time)`;
}

export async function benchEngine(): Promise<void> {
  const orders = Number(process.env['ENGINE_ORDERS'] ?? 50_000);
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-bench-engine-'));
  console.log(
    `\n## Engine (paper venue, zero latency, durable audit; ${orders.toLocaleString('en-US')} market orders)`,
  );
  try {
    // Floors on the same disk, same run.
    const line = `${JSON.stringify({ seq: 1, ts: Date.now(), type: 'OrderFilled', data: { clientOrderId: 'sp-mww3g5iu-168ce80001', symbol: 'AAPL', qty: 10, price: 100.02 }, prev: '0'.repeat(64), hash: 'f'.repeat(64) })}\n`;
    let fd = openSync(join(dir, 'raw.log'), 'a');
    let t = monotonicMs();
    const rawLines = 200_000;
    for (let i = 0; i < rawLines; i++) writeSync(fd, line);
    const rawMs = monotonicMs() - t;
    closeSync(fd);
    fd = openSync(join(dir, 'fsync.log'), 'a');
    const syncLines = 2000;
    t = monotonicMs();
    for (let i = 0; i < syncLines; i++) {
      writeSync(fd, line);
      fdatasyncSync(fd);
    }
    const syncMs = monotonicMs() - t;
    closeSync(fd);
    console.log(`floor: raw append (writeSync, one fd)     ${perSecond(rawLines, rawMs)} lines/s`);
    console.log(`floor: append + fdatasync per line        ${perSecond(syncLines, syncMs)} lines/s`);
    // What a line costs in CPU before any engine work: serialize a typical event natively and hash it.
    const event = {
      at: Date.now(),
      clientOrderId: 'sp-mww3g5iu-168ce80001',
      venue: 'paper',
      symbol: 'AAPL',
      state: 'FILLED',
      fill: {
        fill_id: 'PF-1',
        order_id: 'P-1',
        client_order_id: 'sp-mww3g5iu-168ce80001',
        symbol: 'AAPL',
        side: 'buy',
        price: 100.02,
        quantity: 10,
        commission: 0,
        liquidity: 'taker',
        timestamp: Date.now(),
      },
      filledQuantity: 10,
      remainingQuantity: 0,
      averagePrice: 100.02,
      position: 10,
    };
    const hashLines = 100_000;
    let sink = 0;
    t = monotonicMs();
    for (let i = 0; i < hashLines; i++) {
      event.at = i;
      sink += sha256Hex(JSON.stringify(event)).length;
    }
    const lineUs = ((monotonicMs() - t) * 1000) / hashLines;
    if (sink === 0) throw new Error('unreachable');
    console.log(`floor: JSON.stringify + sha256 of one event line (no engine, no disk)  ${lineUs.toFixed(2)} µs/line`);

    await runEngine(5000, 64, dir); // warm-up (JIT)
    for (const inFlight of [1, 16, 256]) {
      const n = inFlight === 1 ? Math.min(orders, 3000) : orders;
      const r = await runEngine(n, inFlight, dir);
      const linesPerOrder = r.lines / n;
      console.log(
        `engine, ${String(inFlight).padStart(3)} in flight: ${perSecond(n, r.ms).padStart(9)} orders/s  ` +
          `(${perSecond(r.lines, r.ms)} audit lines/s, ${linesPerOrder.toFixed(2)} lines/order, ${(r.lines / Math.max(1, r.fsyncs)).toFixed(1)} lines/fsync)  ` +
          `engine CPU/order p50 ${quantile(r.cpuUs, 0.5).toFixed(1)} µs, p99 ${quantile(r.cpuUs, 0.99).toFixed(1)} µs ` +
          `(sync stretches alone: p50 ${quantile(r.stretchUs, 0.5).toFixed(1)}, p99 ${quantile(r.stretchUs, 0.99).toFixed(1)})`,
      );
      // The same run seen whole: wall time per order, the main thread's busy time per order (what bounds
      // throughput on one thread) and the process's CPU per order (every thread: fsyncs, the venue, GC).
      console.log(
        `   same run: ${((r.ms * 1000) / n).toFixed(1)} µs wall/order = main thread busy ${r.mainUsPerOrder.toFixed(1)} µs/order ` +
          `(${((r.mainUsPerOrder / ((r.ms * 1000) / n)) * 100).toFixed(0)}% busy) + idle; process CPU ${r.processUsPerOrder.toFixed(1)} µs/order (all threads); ${collectorText(r)}`,
      );
      if (inFlight === 256) {
        const ceiling = 1e6 / (linesPerOrder * lineUs);
        console.log(
          `ceiling: at ${linesPerOrder.toFixed(2)} lines/order, serializing and hashing the audit lines alone caps one thread at ${Math.round(ceiling).toLocaleString('en-US')} orders/s on this machine`,
        );
        // Issue 13's targets: ≥ 50,000 orders/s and ≥ 45 % of the ceiling; CPU per order p50 ≤ 20 µs, p99 ≤ 80 µs.
        const rate = (n / r.ms) * 1000;
        const ok = rate >= 50_000 && rate >= 0.45 * ceiling;
        const p50 = quantile(r.cpuUs, 0.5);
        const p99 = quantile(r.cpuUs, 0.99);
        console.log(
          `target ≥ 50,000 orders/s and ≥ 45% of the ceiling at 256 in flight (${((rate / ceiling) * 100).toFixed(1)}%): ${ok ? 'MET' : 'NOT MET'}; ` +
            `engine CPU/order with the audit log's encoding in it: p50 ${p50.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs (the target is judged without it, below)`,
        );
        console.log(
          `ratio: engine audit lines/s ÷ raw append floor = ${(r.lines / r.ms / (rawLines / rawMs)).toFixed(3)}`,
        );
      }
    }
    // The engine's own work with the audit log's encoding, hashing and writing taken out (issue 13 reports
    // them separately): the same orders at 256 in flight, no audit log.
    {
      const n = orders;
      const r = await runEngine(n, 256, dir, false);
      const p50 = quantile(r.cpuUs, 0.5);
      const p99 = quantile(r.cpuUs, 0.99);
      console.log(
        `engine without the audit log, 256 in flight: ${perSecond(n, r.ms)} orders/s  engine CPU/order p50 ${p50.toFixed(1)} µs, p99 ${p99.toFixed(1)} µs ` +
          `(sync stretches alone: p50 ${quantile(r.stretchUs, 0.5).toFixed(1)}, p99 ${quantile(r.stretchUs, 0.99).toFixed(1)}); ` +
          `${((r.ms * 1000) / n).toFixed(1)} µs wall/order, main thread busy ${r.mainUsPerOrder.toFixed(1)} µs/order, process CPU ${r.processUsPerOrder.toFixed(1)} µs/order; ${collectorText(r)}`,
      );
      // Issue 13: engine CPU per order (validation through risk, state machine, a paper fill and its events),
      // the audit encoding reported separately (above).
      console.log(
        `target engine CPU/order p50 ≤ 20 µs and p99 ≤ 80 µs (audit encoding reported separately): ${p50 <= 20 && p99 <= 80 ? 'MET' : 'NOT MET'}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
