/**
 * The audit log's promise under SIGKILL while batches are hashed on its worker thread: as
 * auditCrash.test.ts, with a child (crashWorker.ts in its `worker` mode) that hands every batch to the worker. The log
 * left behind opens, verifies, and holds every acknowledged seq; only a torn tail was cut off.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { auditFiles, tempDir } from './helpers';
import { runAndKill } from './crashRun';

const KILLS = Number(process.env['AUDIT_WORKER_CRASH_KILLS'] ?? 20);
const ROTATE_BYTES = 256 * 1024;

describe('audit log under SIGKILL, batches hashed on the worker thread', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(`keeps every acknowledged line through ${KILLS} kills`, async () => {
    let dir = '';
    let tornTails = 0;
    for (let i = 0; i < KILLS; i++) {
      if (i % 5 === 0) {
        dir = tempDir('worker-crash');
        dirs.push(dir);
      }
      const run = await runAndKill(dir, ROTATE_BYTES, 1 + Math.random() * 29, 'worker');
      assert.equal(run.signal, 'SIGKILL', `the child should have been killed, it ended on its own: ${run.stderr}`);
      assert.ok(run.acked.length > 0, 'the child acknowledged lines hashed by its worker');
      const maxAcked = run.acked.reduce((a, b) => Math.max(a, b), 0);
      const before = new Map(auditFiles(dir).map((f) => [f, readFileSync(join(dir, f))]));

      const { log, recovery } = await AuditLog.open(dir, { rotateBytes: ROTATE_BYTES });
      const where = `kill ${i} in ${dir}`;
      assert.deepEqual(recovery.problems, [], where);
      assert.equal(recovery.verified, true, where);
      assert.ok(recovery.lastSeq >= maxAcked, `${where}: acknowledged seq ${maxAcked} is missing`);
      // Only the torn tail of the newest file may have changed.
      const names = [...before.keys()];
      assert.deepEqual(auditFiles(dir), names, where);
      names.forEach((name, k) => {
        const was = before.get(name) as Buffer;
        const is = readFileSync(join(dir, name));
        if (k < names.length - 1 || recovery.tornTailBytes === 0)
          return assert.ok(was.equals(is), `${where}: ${name} changed`);
        assert.equal(is.length, was.length - recovery.tornTailBytes, where);
        assert.ok(was.subarray(0, is.length).equals(is), `${where}: more than the tail of ${name} changed`);
      });
      if (recovery.tornTailBytes > 0) tornTails++;
      const next = await log.append('RecoveredAfterKill', { kill: i });
      assert.equal(next.seq, recovery.lastSeq + 1, where);
      assert.equal(next.prev, recovery.lastLineHash, where);
      await log.close();
      assert.equal((await verifyAuditDir(dir)).verified, true, where);
    }
    console.log(`      ${KILLS} kills, ${tornTails} torn tails cut off`);
  });
});
