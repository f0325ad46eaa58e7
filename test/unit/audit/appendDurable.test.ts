/**
 * `appendDurable`: `append` for a caller that only waits (the engine's SubmitOrder, CancelOrder). It resolves, with
 * nothing, once its record is on disk and not before; its line takes its place in the chain between the records
 * appended around it; refused data throws at once and writes nothing, as `append` does; a closed log refuses it.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, AuditLogFailedError, AuditSecretError, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { heldAt } from '../../kit/auditDisk';
import { auditFiles, tempDir } from './helpers';

describe('AuditLog.appendDurable', () => {
  const dirs: string[] = [];
  const dir = (label: string): string => {
    const d = tempDir(label);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('resolves only once its record is on disk, with nothing; the line sits in the chain where it was appended', async () => {
    const d = dir('durable');
    const disk = heldAt('Held');
    const { log } = await AuditLog.open(d, { fileSystem: disk });
    const first = await log.append('Before', { n: 1 });
    let settled = false;
    const durable = log.appendDurable('Held', { n: 2, nested: { side: 'buy', quantity: 10.5 } });
    void durable.then(() => (settled = true));
    const after = log.append('After', { n: 3 });
    await disk.reached;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'not durable while the write holding it is held back');
    disk.release();
    assert.equal(await durable, undefined);
    const last = await after;
    assert.deepEqual([first.seq, last.seq], [1, 3]);
    await log.close();
    const lines = auditFiles(d).flatMap((f) => readFileSync(join(d, f), 'utf8').trim().split('\n'));
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { type: string }).type),
      ['Before', 'Held', 'After'],
    );
    assert.deepEqual((JSON.parse(lines[1] as string) as { data: unknown }).data, {
      n: 2,
      nested: { quantity: 10.5, side: 'buy' },
    });
    const report = await verifyAuditDir(d);
    assert.equal(report.verified, true, JSON.stringify(report.problems));
    assert.equal(report.lines, 3);
  });

  it('throws at once for refused data and writes nothing; a closed log refuses it', async () => {
    const d = dir('refused');
    const { log } = await AuditLog.open(d);
    assert.throws(() => log.appendDurable('Secret', { apiKey: 'k' }), AuditSecretError);
    await log.appendDurable('Plain', { n: 1 });
    await log.close();
    await assert.rejects(log.appendDurable('Late', { n: 2 }), AuditLogFailedError);
    const lines = auditFiles(d).flatMap((f) => readFileSync(join(d, f), 'utf8').trim().split('\n'));
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { seq: number; type: string }).type),
      ['Plain'],
    );
  });
});
