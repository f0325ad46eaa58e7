/**
 * Read-through of the audit log (rt-engine18): each case failed before its fix, through AuditLog and verifyAuditDir:
 * what the writer puts on disk is what the reader and verifier take back, byte for byte.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, tailAudit, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { tempDir } from './helpers';

describe('AuditLog read-through (rt-engine18)', () => {
  const dirs: string[] = [];
  const dir = (label: string): string => {
    const d = tempDir(label);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('text JSON escapes six bytes a character (control characters, lone surrogates) is written whole, wherever it falls', async () => {
    const d = join(dir('escapes'), 'audit');
    const { log } = await AuditLog.open(d, { clock: new TestClock(1_700_000_000_000) });
    // A component's text with terminal colours (ESC), or a string cut in the middle of a surrogate pair; each lands
    // at another place of the writer's scratch space (after filler of another length), at its end too.
    const values: Array<Record<string, unknown>> = [];
    for (const escaped of ['\u001b', '\ud800', '\u0001\u000b']) {
      for (const filler of [0, 8100, 8150, 8170, 16_300]) {
        for (const count of [1, 10, 40, 3000]) values.push({ filler: 'x'.repeat(filler), text: escaped.repeat(count) });
      }
    }
    for (const data of values) await log.append('Note', data);
    await log.close();
    const report = await verifyAuditDir(d);
    assert.deepEqual(report.problems.slice(0, 3), []);
    assert.equal(report.lines, values.length);
    const back = await tailAudit(d, values.length);
    assert.deepEqual(
      back.map((r) => r.data),
      values,
    );
  });
});
