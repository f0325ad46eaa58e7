/**
 * Audit log speed, each figure beside its floors measured in the same run on the same disk:
 *  - raw `writeSync` on one fd (no durability at all),
 *  - `writeSync` + `fdatasyncSync` per line (durable, no batching),
 *  - AuditLog with adaptive group commit at 1, 16 and 256 concurrent writers, each awaiting its ack,
 *  - verification speed (what `AuditLog.open` costs per line already on disk).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicMs } from '../src/common/clock';
import { AuditLog, verifyAuditDir } from '../src/execution/audit/auditLog';
import { quantile, report } from './stats';

/** A SubmitOrder about as large as the engine's (the reference figures use 297 B lines). */
function sampleData(n: number): Record<string, unknown> {
  return {
    clientOrderId: `O-20260105-143000-${String(n).padStart(8, '0')}`,
    instrument: 'EUR_USD',
    side: n % 2 ? 'buy' : 'sell',
    type: 'limit',
    quantity: 10_000,
    limitPrice: 1.08425,
    timeInForce: 'GTC',
    strategy: 'spread_guarded_market',
  };
}

const rate = (lines: number, ms: number): string =>
  `${Math.round((lines / ms) * 1000).toLocaleString('en-US')} lines/s`;

export async function benchAudit(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sptrader-audit-bench-'));
  console.log(`\n## Audit log (temp dir ${root})`);
  try {
    const line = `${JSON.stringify({ seq: 1, ts: Date.now(), type: 'SubmitOrder', data: sampleData(1), prev: '0'.repeat(64), hash: 'f'.repeat(64) })}\n`;
    console.log(`line size ${Buffer.byteLength(line)} B`);

    const rawLines = 100_000;
    let fd = openSync(join(root, 'raw.jsonl'), 'a', 0o600);
    let t = monotonicMs();
    for (let i = 0; i < rawLines; i++) writeSync(fd, line);
    const rawMs = monotonicMs() - t;
    closeSync(fd);
    console.log(`${'floor: writeSync on one fd, no sync'.padEnd(44)} ${rate(rawLines, rawMs)}`);

    const syncLines = 3000;
    const perLine: number[] = [];
    fd = openSync(join(root, 'sync.jsonl'), 'a', 0o600);
    t = monotonicMs();
    for (let i = 0; i < syncLines; i++) {
      const s = monotonicMs();
      writeSync(fd, line);
      fdatasyncSync(fd);
      perLine.push(monotonicMs() - s);
    }
    const syncMs = monotonicMs() - t;
    closeSync(fd);
    console.log(`${'floor: writeSync + fdatasyncSync per line'.padEnd(44)} ${rate(syncLines, syncMs)}`);
    report('  per line', perLine);

    for (const [writers, lines] of [
      [1, 20_000],
      [16, 50_000],
      [256, 100_000],
    ] as const) {
      const dir = join(root, `c${writers}`);
      const { log } = await AuditLog.open(dir);
      const acks: number[] = [];
      let next = 0;
      const writer = async (): Promise<void> => {
        while (next < lines) {
          const n = next++;
          const s = monotonicMs();
          await log.append('SubmitOrder', sampleData(n));
          acks.push(monotonicMs() - s);
        }
      };
      t = monotonicMs();
      await Promise.all(Array.from({ length: writers }, writer));
      const ms = monotonicMs() - t;
      const stats = log.stats();
      await log.close();
      console.log(
        `${`AuditLog adaptive group commit, C=${writers}`.padEnd(44)} ${rate(lines, ms)}  ` +
          `(${stats.fsyncs.toLocaleString('en-US')} fdatasyncs, ${(lines / stats.fsyncs).toFixed(1)} lines each; ack p50 ${quantile(acks, 0.5).toFixed(3)} ms, p99 ${quantile(acks, 0.99).toFixed(3)} ms)`,
      );
      report('  ack latency', acks);
    }

    t = monotonicMs();
    const verified = await verifyAuditDir(join(root, 'c256'));
    const verifyMs = monotonicMs() - t;
    if (!verified.verified)
      throw new Error(`the bench's own log does not verify: ${JSON.stringify(verified.problems.slice(0, 3))}`);
    console.log(`${'verifyAuditDir (open pays this per line)'.padEnd(44)} ${rate(verified.lines, verifyMs)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
