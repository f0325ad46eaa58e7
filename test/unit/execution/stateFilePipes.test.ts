/**
 * The engine's own state files and the audit log with a named pipe (or a link to /dev/zero) in their place:
 * read, each one would wait for a writer forever (every command on the folder hung). Each is refused at once
 * with what is there, and the engine's usual handling of an unreadable file follows.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { loadWorkingOrders } from '../../../src/execution/orderStore';
import { TradingStateStore } from '../../../src/execution/tradingState';
import { withPipes } from '../common/pipes';

describe('engine state files that are not regular files', () => {
  const pipes = withPipes('sptrader-pipes-');
  const { pipeAt } = pipes;
  let dir: string;
  beforeEach(() => {
    dir = pipes.dir();
  });

  it('trading-state.json: the engine starts halted and says a named pipe is there', () => {
    const file = join(dir, 'trading-state.json');
    pipeAt(file);
    const store = new TradingStateStore(file, new TestClock());
    assert.match(
      store.loadProblem ?? '',
      /cannot read the trading state file .*a named pipe is in the place of this file/,
    );
  });

  it('working-orders.json: a problem naming the file, no orders made up', () => {
    const file = join(dir, 'working-orders.json');
    symlinkSync('/dev/zero', file);
    const loaded = loadWorkingOrders(file);
    assert.deepEqual(loaded.orders, []);
    // Refused as a link before anything is read from it (state files are never reached through one).
    assert.match(
      loaded.problem ?? '',
      /working-orders\.json: a symbolic link \(to \/dev\/zero\) is in the place of this file/,
    );
  });

  it('the audit log: anchor.json and a day file as named pipes are problems, not a hang', async () => {
    const audit = join(dir, 'audit');
    mkdirSync(audit);
    pipeAt(join(audit, 'anchor.json'));
    const report = await verifyAuditDir(audit);
    assert.ok(
      report.problems.some((p) => /anchor\.json cannot be read: a named pipe is in the place/.test(p.problem)),
      JSON.stringify(report.problems),
    );
    pipeAt(join(audit, 'audit-2026-01-05.jsonl'));
    await assert.rejects(
      AuditLog.open(audit),
      /audit-2026-01-05\.jsonl: a named pipe is in the place of this audit log file/,
    );
  });
});
