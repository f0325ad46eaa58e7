/**
 * Child process for the worker crash test: as crashWorker.ts, but every batch is hashed on the worker
 * thread (workerLines 1), and acknowledgements are printed only once the worker has taken a batch, so
 * that the parent's SIGKILL lands while batches go through it.
 * Usage: node workerCrashChild.js <dir> <rotateBytes> <inFlight>
 */
import { writeSync } from 'node:fs';
import { AuditLog } from '../../../src/execution/audit/auditLog';

async function main(): Promise<void> {
  const [dir, rotateBytes, inFlight] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: workerCrashChild <dir> <rotateBytes> <inFlight>');
  const { log, recovery } = await AuditLog.open(dir, { rotateBytes: Number(rotateBytes ?? 262144), workerLines: 1 });
  if (!recovery.verified)
    throw new Error(`the child found a broken log: ${JSON.stringify(recovery.problems.slice(0, 3))}`);
  // Never outlive a parent that failed to kill us.
  setTimeout(() => process.exit(3), 10_000).unref();
  let n = 0;
  const writer = async (): Promise<void> => {
    for (;;) {
      const r = Math.random();
      const pad =
        r < 0.02
          ? 100_000 + Math.floor(Math.random() * 400_000)
          : r < 0.1
            ? 2000 + Math.floor(Math.random() * 8000)
            : Math.floor(Math.random() * 200);
      const record = await log.append('SubmitOrder', {
        n: n++,
        clientOrderId: `c-${process.pid}-${n}`,
        pad: 'é'.repeat(pad),
      });
      // Synchronous, so that a seq printed is a seq the parent will read even if we die right after.
      if (log.stats().workerBatches > 0) writeSync(1, `${record.seq}\n`);
    }
  };
  await Promise.all(Array.from({ length: Number(inFlight ?? 32) }, writer));
}

main().catch((e: unknown) => {
  writeSync(2, `${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(2);
});
