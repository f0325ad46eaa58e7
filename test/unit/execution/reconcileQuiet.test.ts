/**
 * A reconcile that finds everything as the log has it records nothing: every command's connect (`status`,
 * `positions`, each Test Order) appended Reconcile and an empty PositionsReconciled to the audit log. One that finds
 * something records it, with the Reconcile note ahead of it, as before. Through the trading session, as the CLI and
 * the editor open it (the engine's positions restored from the log, then the venue's asked).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { tailAudit, verifyAuditDir, type AuditRecord } from '../../../src/execution/audit/auditLog';
import type { EngineEvent } from '../../../src/execution/events';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import { FixedQuotes, order } from '../paper/helpers';
import { LOOSE } from './engineHelpers';

describe('reconcile: recorded only when it finds something', function () {
  this.timeout(20_000);
  let dir: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let session: TradingSession | undefined;
  let events: EngineEvent[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-reconcile-quiet-'));
    clock = new TestClock();
    paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    events = [];
  });
  afterEach(async () => {
    await session?.close();
    session = undefined;
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The next command's session over the same folder and venue, connected (and so reconciled). */
  const open = async (): Promise<TradingSession> => {
    await session?.close();
    session = await openTradingSession({
      stateDir: dir,
      clock,
      brokers: { paper },
      settings: { limits: LOOSE, circuitBreaker: DEFAULT_CIRCUIT_BREAKER },
    });
    session.engine.subscribe((e) => events.push(e));
    await session.engine.connect('paper');
    return session;
  };
  const records = async (): Promise<AuditRecord[]> => {
    await session?.close();
    session = undefined;
    const report = await verifyAuditDir(join(dir, 'audit'));
    assert.ok(report.verified, JSON.stringify(report.problems));
    return tailAudit(join(dir, 'audit'), Number.MAX_SAFE_INTEGER);
  };
  const types = async (): Promise<string[]> => (await records()).map((r) => r.type);

  it('a connect that finds the venue as the log has it writes nothing, and listeners still hear of it', async () => {
    const first = await open();
    assert.ok(events.some((e) => e.type === 'PositionsReconciled' && e.differences.length === 0));
    const result = await first.engine.submitOrder(order('buy', 5), 'paper');
    assert.equal(result.order.state, 'FILLED');
    const traded = await types();
    assert.deepEqual(traded, ['SubmitOrder', 'OrderSubmitted', 'OrderAccepted', 'OrderFilled']);
    // Two more commands that only read: each one reconciles, neither writes.
    await open();
    assert.deepEqual((await open()).engine.positionsOf('paper'), { AAPL: 5 });
    assert.deepEqual(await types(), traded);
  });

  it('a position the venue holds and the log does not is recorded, the Reconcile note first', async () => {
    await open();
    await session?.close();
    session = undefined;
    // Traded at the venue behind the engine's back (another program on the same account).
    await paper.submitOrder(order('buy', 7));
    clock.advance(1000);
    assert.deepEqual((await open()).engine.positionsOf('paper'), { AAPL: 7 });
    const found = await records();
    assert.deepEqual(
      found.map((r) => r.type),
      ['Reconcile', 'PositionsReconciled'],
    );
    assert.equal(found[0]?.data['venue'], 'paper');
    assert.deepEqual(found[1]?.data['differences'], [{ symbol: 'AAPL', engine: 0, venue: 7 }]);
    // Taken as the log's now: the next command finds nothing new and writes nothing.
    await open();
    assert.equal((await records()).length, 2);
  });
});
