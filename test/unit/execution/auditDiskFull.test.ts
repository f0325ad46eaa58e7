/**
 * The disk fills while an order goes through, at the audit log (the filesystem seam the log writes through; the real
 * failure, a tmpfs filled to its last page, cut the OrderFilled line short and `execute` still said FILLED, exit 0).
 * - Before the order's SubmitOrder is durable: nothing is sent, and the order is denied for it.
 * - After the venue filled it, at the fill's record: the fill happened and cannot be taken back, but the session
 *   must not close as if all were recorded: close() rejects with the log's failure, naming the audit file, so that
 *   every command says so (exit 6) instead of ending 0. Once the disk is back, the next open learns the fill from the
 *   venue: nothing lost, nothing sent twice, the log verifies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { AuditLogFailedError, type AuditFileSystem } from '../../../src/execution/audit/auditLog';
import { verifyAuditDir } from '../../../src/execution/audit/auditVerify';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession } from '../../../src/usecases/session';
import { FixedQuotes, limit, order } from '../paper/helpers';
import { interruptedStopText } from '../../../src/usecases/session';
import { LOOSE } from './engineHelpers';
import { fullAt } from '../../kit/auditDisk';

describe('the disk fills at the audit log while an order goes through', function () {
  this.timeout(30_000);
  let dir: string;
  let clock: TestClock;
  const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
  const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
  const account = (): string => join(dir, 'paper-account.json');
  const open = async (auditFileSystem?: AuditFileSystem) => {
    const paper = new PaperBroker({ clock, quotes, stateFile: account() });
    const session = await openTradingSession({
      stateDir: dir,
      clock,
      brokers: { paper },
      settings,
      ...(auditFileSystem ? { auditFileSystem } : {}),
    });
    await session.engine.connect('paper');
    return { session, paper };
  };
  const buy = (quantity: number) => order('buy', quantity, { type: 'market' }, { type: 'IOC' }, 'EUR_USD');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-audit-full-'));
    clock = new TestClock();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('at the SubmitOrder: nothing is sent, the order is denied for it, and closing says the log failed', async () => {
    const first = await open();
    await first.session.close();
    const fs = fullAt('SubmitOrder');
    const { session, paper } = await open(fs);
    const result = await session.engine.submitOrder(buy(1000), 'paper');
    assert.equal(fs.hit, true);
    assert.equal(result.denial?.code, 'AUDIT_LOG_FAILED', JSON.stringify(result.denial));
    assert.equal(paper.fillsEver(), 0, 'nothing reached the venue');
    await assert.rejects(
      session.close(),
      (e: unknown) => e instanceof AuditLogFailedError && /ENOSPC/.test(e.message) && e.file?.startsWith(dir) === true,
    );
  });

  it("at the fill's record: close() rejects naming the audit file (it resolved: the command ended 0); the next open settles the fill, once", async () => {
    const first = await open();
    await first.session.close();
    const fs = fullAt('OrderFilled');
    const { session, paper } = await open(fs);
    const result = await session.engine.submitOrder(buy(1000), 'paper');
    assert.equal(result.order.state, 'FILLED', 'the venue filled it: that cannot be taken back');
    assert.equal(paper.fillsEver(), 1);
    await assert.rejects(
      session.close(),
      (e: unknown) =>
        e instanceof AuditLogFailedError &&
        /could not write .*audit-\d{4}-\d{2}-\d{2}\.jsonl \(ENOSPC/.test(e.message) &&
        e.file?.startsWith(join(dir, 'audit')) === true,
      'closing says the log failed',
    );
    assert.equal(fs.hit, true, 'the fill record met the full disk');

    // The disk is back: the next open looks the order up by its client id and records its fill.
    const again = await open();
    assert.deepEqual(
      again.session.damage.map((d) => d.message),
      [],
    );
    assert.deepEqual(again.session.engine.positionsOf('paper'), { EUR_USD: 1000 });
    assert.equal(again.paper.fillsEver(), 1, 'sent once');
    await again.session.close();
    const verified = await verifyAuditDir(join(dir, 'audit'));
    assert.equal(verified.verified, true, JSON.stringify(verified.problems.slice(0, 2)));
  });

  it('during an emergency stop: the next open says the audit log failed while it ran, not that the process ended', async () => {
    // The stop's report could not be recorded; every later command said "the process ended before it finished"
    // of a process that had run the stop to its end and said the disk was full.
    const first = await open();
    const resting = await first.session.engine.submitOrder(
      order('buy', 1000, limit(1.05), { type: 'GTC' }, 'EUR_USD'),
      'paper',
    );
    assert.equal(resting.order.state, 'ACCEPTED');
    await first.session.close();
    const fs = fullAt('CancelOrder');
    const { session } = await open(fs);
    const report = await session.engine.emergencyStop({ reason: 'desk' });
    await session.audit.flush().catch(() => undefined);
    assert.equal(fs.hit, true, 'the stop met the full disk');
    assert.equal(session.engine.status().tradingState, 'HALTED');
    assert.ok(report.cancelled.length + report.failed.length > 0, JSON.stringify(report));
    await assert.rejects(session.close(), AuditLogFailedError);

    const again = await open();
    const stop = again.session.interruptedStop;
    assert.ok(stop, 'the stop has no report in the log: it is still said to be unfinished');
    assert.equal(stop.cause, 'audit-log-failed');
    const text = interruptedStopText(stop);
    assert.match(text, /the audit log failed while it ran .*ENOSPC/);
    assert.doesNotMatch(text, /process ended/);
    assert.equal(again.session.engine.status().tradingState, 'HALTED', 'and trading stays halted');
    await again.session.close();
  });

  it('an emergency stop cut short with nothing saying why: both causes said, neither asserted', () => {
    const text = interruptedStopText({ at: 0, reason: 'desk', flatten: true, cause: 'unknown' });
    assert.match(text, /was cut short: it has no report .*the process ended, or the audit log could not be written/);
    assert.match(text, /orders may still be working and positions open/);
  });
});
