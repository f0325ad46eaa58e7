/**
 * A log whose last file (the one appended to) has a second name is refused; an earlier day's file with a second name
 * (a snapshot tool links files that did not change) is never appended to again, and is left alone.
 */
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refuseSharedAuditFiles } from '../../../src/execution/audit/auditFiles';

describe('audit files with more than one name', () => {
  let dir: string;
  let audit: string;
  let snapshot: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-shared-audit-'));
    audit = join(dir, 'audit');
    snapshot = join(dir, 'snapshot');
    mkdirSync(audit);
    mkdirSync(snapshot);
    for (const name of ['audit-2026-12-02.jsonl', 'audit-2026-12-03.jsonl', 'audit-2026-12-03.1.jsonl'])
      writeFileSync(join(audit, name), '{}\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('earlier days’ files linked into a snapshot: the log opens', () => {
    linkSync(join(audit, 'audit-2026-12-02.jsonl'), join(snapshot, 'audit-2026-12-02.jsonl'));
    linkSync(join(audit, 'audit-2026-12-03.jsonl'), join(snapshot, 'audit-2026-12-03.jsonl'));
    assert.doesNotThrow(() => refuseSharedAuditFiles(audit));
  });

  it('the last file in chain order linked elsewhere: refused, naming it', () => {
    const last = join(audit, 'audit-2026-12-03.1.jsonl');
    linkSync(last, join(snapshot, 'copy.jsonl'));
    assert.throws(
      () => refuseSharedAuditFiles(audit),
      (e: Error & { file?: string }) =>
        e.message.includes('has 2 names (hard links), and it is the one appended to') && e.file === last,
    );
  });
});
