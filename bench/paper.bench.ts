/**
 * The paper venue's own cost per order: submit + fill of a market order (the engine bench's order),
 * in memory (as the engine bench and a replay run it) and with the account saved (as the product runs
 * it: one fdatasync'd journal line per order). Each beside its floor, measured in the same run: the
 * order's own schema check (which the venue must do) for the in-memory figure, and an fdatasync'd append
 * of a journal line of the same size for the saved one.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicMs, TestClock } from '../src/common/clock';
import { PaperBroker } from '../src/brokers/paper/paperBroker';
import type { QuoteSource } from '../src/brokers/paper/feed';
import { checkOrderRequest, type PlacedOrderRequest, type Quote } from '../src/orders/model';

const steady: QuoteSource = {
  quote: (symbol: string, at: number): Quote => ({
    symbol,
    bid: 1.0845,
    ask: 1.0846,
    last: 1.0845,
    bid_size: 1e9,
    ask_size: 1e9,
    timestamp: at,
  }),
};

const request = (i: number): PlacedOrderRequest => ({
  symbol: 'EUR_USD',
  side: i % 2 === 0 ? 'buy' : 'sell',
  quantity: 1000,
  order_type: { type: 'market' },
  time_in_force: { type: 'IOC' },
  metadata: {},
  client_order_id: `bench-${i}`,
});

/** Wall-clock and CPU (user + system of this process) microseconds per order. */
async function perOrderUs(n: number, stateFile: string | undefined): Promise<{ wall: number; cpu: number }> {
  const clock = new TestClock(Date.UTC(2026, 0, 5, 10));
  const broker = new PaperBroker({
    clock,
    quotes: steady,
    startingCash: 1e12,
    pollIntervalMs: 0,
    ...(stateFile ? { stateFile } : {}),
  });
  await broker.connect();
  let fills = 0;
  broker.onOrderUpdate((u) => {
    if (u.fill) fills++;
  });
  const warm = Math.min(2000, n / 5);
  for (let i = 0; i < warm; i++) await broker.submitOrder(request(-1 - i));
  fills = 0;
  const cpu0 = process.cpuUsage();
  const t = monotonicMs();
  for (let i = 0; i < n; i++) {
    clock.advance(1);
    await broker.submitOrder(request(i));
  }
  const wall = ((monotonicMs() - t) / n) * 1000;
  const cpu = process.cpuUsage(cpu0);
  if (fills !== n) throw new Error(`expected ${n} fills, saw ${fills}`);
  await broker.disconnect();
  return { wall, cpu: (cpu.user + cpu.system) / n };
}

/** CPU microseconds per order of the venue's own schema check (and building the request). */
function validateFloorUs(n: number): number {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) if (!checkOrderRequest(request(i)).success) throw new Error('invalid');
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

function appendFloorUs(n: number, file: string, line: string): number {
  const fd = openSync(file, 'a', 0o600);
  try {
    const t = monotonicMs();
    for (let i = 0; i < n; i++) {
      writeSync(fd, line);
      fdatasyncSync(fd);
    }
    return ((monotonicMs() - t) / n) * 1000;
  } finally {
    closeSync(fd);
  }
}

export async function benchPaper(): Promise<void> {
  console.log('\n## Paper venue: submit + fill of one market order (IOC, 1,000 EUR_USD), the venue alone');
  const n = 20_000;
  const floor = validateFloorUs(n);
  const memory = await perOrderUs(n, undefined);
  console.log(
    `in memory: ${memory.cpu.toFixed(2)} µs CPU/order (wall ${memory.wall.toFixed(2)} µs, ${Math.round(1e6 / memory.wall).toLocaleString('en-US')} orders/s); floor (the order's schema check alone): ${floor.toFixed(2)} µs CPU → ${(memory.cpu / floor).toFixed(1)}×`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'sptrader-bench-paper-'));
  try {
    const saved = 2000;
    const file = join(dir, 'paper-account.json');
    const durable = await perOrderUs(saved, file);
    const journal = readFileSync(`${file}.journal`, 'utf8').split('\n');
    const line = `${journal[Math.floor(journal.length / 2)] ?? ''}\n`;
    const append = appendFloorUs(saved, join(dir, 'floor.journal'), line);
    console.log(
      `saved (one fdatasync'd journal line of ~${line.length} bytes per order): ${durable.wall.toFixed(1)} µs/order wall (${durable.cpu.toFixed(1)} µs CPU); floor (an fdatasync'd append of that line alone): ${append.toFixed(1)} µs → ${(durable.wall / append).toFixed(2)}×`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
