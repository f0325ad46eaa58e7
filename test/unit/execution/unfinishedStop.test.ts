/**
 * An emergency stop the audit log began and never reported is one the process did not finish (the crash suite's
 * haltFlattenCrash.test.ts kills the real CLI there). Which stops a report finishes: its own and every one begun
 * before it (a stop acts on all that is left), never one queued behind it in the same process.
 */
import assert from 'node:assert/strict';
import { AuditDigest } from '../../../src/execution/auditDigest';

describe('audit digest: emergency stops begun and never reported', () => {
  let seq = 0;
  const feed = (digest: AuditDigest, type: string, data: Record<string, unknown>): void =>
    digest.visit({ seq: ++seq, ts: 1000 + seq, type, data, prev: '', hash: '' });

  it('a stop with no report is unfinished; its report finishes it', () => {
    const d = new AuditDigest();
    feed(d, 'EmergencyStop', { at: 5, reason: 'desk', flatten: true });
    assert.deepEqual(d.unfinishedStop, { at: 5, reason: 'desk', flatten: true });
    feed(d, 'EmergencyStopReport', { reason: 'desk', begunAt: 5, cancelled: [], failed: [], flattened: [] });
    assert.equal(d.unfinishedStop, undefined);
  });

  it('a stop cut short, then a later stop that finished: nothing is left to finish', () => {
    const d = new AuditDigest();
    feed(d, 'EmergencyStop', { at: 5, reason: 'desk', flatten: true });
    feed(d, 'EmergencyStop', { at: 9, reason: 'again', flatten: true });
    feed(d, 'EmergencyStopReport', { reason: 'again', begunAt: 9, cancelled: [], failed: [], flattened: [] });
    assert.equal(d.unfinishedStop, undefined);
  });

  it('two stops at once in one process, the first reported: the second is still unfinished', () => {
    const d = new AuditDigest();
    feed(d, 'EmergencyStop', { at: 5, reason: 'first', flatten: false });
    feed(d, 'EmergencyStop', { at: 6, reason: 'second', flatten: true });
    feed(d, 'EmergencyStopReport', { reason: 'first', begunAt: 5, cancelled: [], failed: [], flattened: [] });
    assert.deepEqual(d.unfinishedStop, { at: 6, reason: 'second', flatten: true });
  });

  it('a report written before reports named their stop finishes the oldest', () => {
    const d = new AuditDigest();
    feed(d, 'EmergencyStop', { at: 5, reason: 'first', flatten: false });
    feed(d, 'EmergencyStop', { at: 6, reason: 'second', flatten: false });
    feed(d, 'EmergencyStopReport', { reason: 'first', cancelled: [], failed: [], flattened: [] });
    assert.equal(d.unfinishedStop?.reason, 'second');
  });
});
