/**
 * The working-orders file is a cache of the audit log, so it must never be ahead of it: a kill leaves both files as
 * they are on disk, and the next open takes an order the file lists but the log has never heard of as proof that
 * the log was cut short (StateDamagedError, trading refused until `recover`). The file was rewritten as soon as an
 * order was accepted, while the order's SubmitOrder could still be waiting for the log's next batch (one in flight
 * before it: a busy engine, a slow disk); a kill then left an order in the file that the log never had and no venue
 * ever saw, and the next open called a sound folder damaged.
 *
 * Here the audit log's disk (its filesystem seam, as auditDiskFull.test.ts) holds the batch with the SubmitOrder:
 * the on-disk folder at that moment is what a SIGKILL would leave. It is copied, and the copy opened.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import type { AuditFileSystem } from '../../../src/execution/audit/auditLog';
import { verifyAuditDir } from '../../../src/execution/audit/auditVerify';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession } from '../../../src/usecases/session';
import { FixedQuotes, order } from '../paper/helpers';
import { LOOSE } from './engineHelpers';
import { heldAt } from '../../kit/auditDisk';

/** Resolves when `file` lists `id`, or after `windowMs` (the file was not rewritten ahead of the log). */
function listedWithin(file: string, id: string, windowMs: number): Promise<boolean> {
  return new Promise((done) => {
    const lists = (): boolean => existsSync(file) && readFileSync(file, 'utf8').includes(id);
    const finish = (listed: boolean): void => {
      clearTimeout(timer);
      watcher.close();
      done(listed);
    };
    const watcher = watch(join(file, '..'), () => {
      if (lists()) finish(true);
    });
    const timer = setTimeout(() => finish(lists()), windowMs);
  });
}

describe('the working-orders file is never ahead of the audit log', function () {
  this.timeout(30_000);
  let dir: string;
  const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
  const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };

  const open = async (stateDir: string, auditFileSystem?: AuditFileSystem) => {
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes, stateFile: join(stateDir, 'paper-account.json') });
    const session = await openTradingSession({
      stateDir,
      clock,
      brokers: { paper },
      settings,
      ...(auditFileSystem ? { auditFileSystem } : {}),
    });
    await session.engine.connect('paper');
    return { session, paper };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-orders-after-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('killed while the SubmitOrder waits for the disk: the file does not list the order, the next open finds nothing damaged and nothing sent', async () => {
    const live = join(dir, 'live');
    const first = await open(live);
    await first.session.close();
    const fs = heldAt('SubmitOrder');
    const { session } = await open(live, fs);
    const submitted = session.engine.submitOrder(
      order('buy', 1000, { type: 'market' }, { type: 'IOC' }, 'EUR_USD'),
      'paper',
    );
    await fs.reached;
    const id = session.engine.workingOrders()[0]?.clientOrderId as string;
    assert.equal(typeof id, 'string', 'the order is accepted and waits for its SubmitOrder');
    // A buggy writer lists it within milliseconds; proving that it does not takes a window.
    const listed = await listedWithin(join(live, 'working-orders.json'), id, 1500);
    // What a SIGKILL now would leave on disk.
    const killed = join(dir, 'killed');
    cpSync(live, killed, { recursive: true });
    fs.release();
    await submitted;
    await session.close();
    assert.equal(listed, false, 'the working-orders file listed an order whose SubmitOrder was not yet on disk');

    const next = await open(killed);
    assert.deepEqual(
      next.session.damage.map((d) => d.message),
      [],
      'a sound folder is not called damaged',
    );
    assert.equal(next.paper.fillsEver(), 0, 'the order whose command never became durable was never sent');
    assert.equal(next.session.engine.getOrder(id), undefined, 'nor is it looked up or resent');
    await next.session.close();
    const verified = await verifyAuditDir(join(killed, 'audit'));
    assert.equal(verified.verified, true, JSON.stringify(verified.problems.slice(0, 2)));
  });
});
