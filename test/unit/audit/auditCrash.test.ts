/**
 * The audit log's promise under SIGKILL: a child appends with 32 records in flight and prints every seq
 * it has been told is durable; the parent kills it at a random moment, reopens the log, and checks that
 * only a torn tail was removed, the chain verifies, and every acknowledged seq is there.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { auditFiles, tempDir } from './helpers';
import { runAndKill } from './crashRun';

const KILLS = Number(process.env['AUDIT_CRASH_KILLS'] ?? 200);
const KILLS_PER_DIR = 5;
const LANES = 2;
const ROTATE_BYTES = 256 * 1024;

function snapshot(dir: string): Map<string, Buffer> {
  return new Map(auditFiles(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

describe('audit log under SIGKILL', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(`keeps every acknowledged line through ${KILLS} kills`, async () => {
    const started = Date.now();
    const totals = { kills: 0, tornTails: 0, acknowledged: 0 };
    // Two lanes, each on its own directories, keep both cores busy: one spawns while the other verifies.
    const lane = async (lane: number): Promise<void> => {
      let dir = '';
      let durable = 0;
      let killsInDir = 0;
      for (let i = lane; i < KILLS; i += LANES) {
        if (killsInDir++ % KILLS_PER_DIR === 0) {
          dir = tempDir('crash');
          dirs.push(dir);
          durable = 0;
        }
        const run = await runAndKill(dir, ROTATE_BYTES, 1 + Math.random() * 29);
        totals.kills++;
        assert.equal(run.signal, 'SIGKILL', `the child should have been killed, it ended on its own: ${run.stderr}`);
        const maxAcked = run.acked.reduce((a, b) => Math.max(a, b), 0);
        totals.acknowledged += run.acked.length;
        const before = snapshot(dir);

        const { log, recovery } = await AuditLog.open(dir, { rotateBytes: ROTATE_BYTES });
        const where = `kill ${i} in ${dir}`;
        assert.deepEqual(recovery.problems, [], where);
        assert.equal(recovery.verified, true, where);
        // Verified means seq 1..lastSeq are all there, in order; so every acknowledged seq is present.
        assert.ok(
          recovery.lastSeq >= maxAcked,
          `${where}: acknowledged seq ${maxAcked} is missing (log ends at ${recovery.lastSeq})`,
        );
        assert.ok(recovery.lastSeq >= durable, `${where}: earlier durable seq ${durable} is missing`);

        // Only the torn tail of the newest file may have changed.
        const after = snapshot(dir);
        const names = [...before.keys()];
        assert.deepEqual([...after.keys()], names, where);
        names.forEach((name, k) => {
          const was = before.get(name) as Buffer;
          const is = after.get(name) as Buffer;
          if (k < names.length - 1 || recovery.tornTailBytes === 0)
            return assert.ok(was.equals(is), `${where}: ${name} changed`);
          assert.equal(recovery.tornTailFile, join(dir, name), where);
          assert.equal(is.length, was.length - recovery.tornTailBytes, where);
          assert.ok(was.subarray(0, is.length).equals(is), `${where}: more than the tail of ${name} changed`);
        });
        if (recovery.tornTailBytes > 0) totals.tornTails++;

        const next = await log.append('RecoveredAfterKill', { kill: i });
        assert.equal(next.seq, recovery.lastSeq + 1, where);
        assert.equal(next.prev, recovery.lastLineHash, where);
        durable = next.seq;
        await log.close();
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, k) => lane(k)));
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `      ${totals.kills} kills, ${totals.tornTails} torn tails cut off, ${totals.acknowledged} acknowledged lines checked, ${seconds.toFixed(1)} s`,
    );
  });
});
