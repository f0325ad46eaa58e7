/**
 * Child process for the crash test: appends records with many in flight and prints each acknowledged
 * seq on its own line as soon as `append` resolves, until the parent kills it with SIGKILL.
 * Usage: node crashWorker.js <dir> <rotateBytes> <inFlight>
 */
import { writeSync } from 'node:fs';
import { AuditLog } from '../../../src/execution/audit/auditLog';

async function main(): Promise<void> {
  const [dir, rotateBytes, inFlight] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: crashWorker <dir> <rotateBytes> <inFlight>');
  const { log, recovery } = await AuditLog.open(dir, { rotateBytes: Number(rotateBytes ?? 262144) });
  if (!recovery.verified)
    throw new Error(`the child found a broken log: ${JSON.stringify(recovery.problems.slice(0, 3))}`);
  // Never outlive a parent that failed to kill us.
  setTimeout(() => process.exit(3), 10_000).unref();
  let n = 0;
  const writer = async (): Promise<void> => {
    for (;;) {
      // Mostly short records, some spanning many pages: the kernel checks for SIGKILL between pages of a
      // write, so large batches are where a kill can leave a torn tail.
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
        pad: 'x'.repeat(pad),
      });
      // Synchronous, so that a seq printed is a seq the parent will read even if we die right after.
      writeSync(1, `${record.seq}\n`);
    }
  };
  await Promise.all(Array.from({ length: Number(inFlight ?? 32) }, writer));
}

main().catch((e: unknown) => {
  writeSync(2, `${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(2);
});
