/**
 * A new log's anchor (seq 0) is on disk before its first lines are acknowledged: a process killed right after its
 * first durable record (the first order of a new state folder, killed before it was sent) left a log without
 * anchor.json, and the next open said "anchor.json was missing (deleted, or a log from before anchors)" about a
 * folder nobody had touched. A log that is only opened (a command that reads) still writes no anchor.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { tempDir } from './helpers';

describe('audit log: a new log is anchored before its first lines', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('an open alone writes no anchor; the first acknowledged record finds one at seq 0 beside it', async () => {
    const dir = tempDir('first-anchor');
    dirs.push(dir);
    const { log } = await AuditLog.open(dir);
    assert.equal(existsSync(join(dir, 'anchor.json')), false, 'an open that records nothing writes no file');
    let crashCopy = '';
    await log.appendDurable('SubmitOrder', { clientOrderId: 'a-1' }).then(() => {
      // What a kill at this moment (the record acknowledged, the order about to be sent) leaves on disk.
      crashCopy = tempDir('first-anchor-killed');
      dirs.push(crashCopy);
      cpSync(dir, crashCopy, { recursive: true });
    });
    const anchor = JSON.parse(readFileSync(join(crashCopy, 'anchor.json'), 'utf8')) as { seq: number };
    assert.equal(anchor.seq, 0);
    const report = await verifyAuditDir(crashCopy);
    assert.equal(report.verified, true, JSON.stringify(report.problems));
    assert.equal(report.anchorMissing, false, 'the next open would call the anchor deleted');
    assert.equal(report.lastSeq, 1);
    await log.close();
    // And the anchor moves on with the log as before.
    const after = JSON.parse(readFileSync(join(dir, 'anchor.json'), 'utf8')) as { seq: number };
    assert.equal(after.seq, 1);
  });
});
