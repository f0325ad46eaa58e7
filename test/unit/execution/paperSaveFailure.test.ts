/**
 * The paper account could not be saved while an order went through (a full disk, an I/O error: here its
 * journal's name taken by a folder). The venue made the change in memory; until it is on disk nobody may
 * learn of it, and the engine must not call the order rejected: it is unconfirmed, looked up by client id.
 * Whether the disk comes back in the same session or the process ends first, the audit log and the account
 * agree on the next open.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { journalFile } from '../../../src/brokers/paper/state';
import { TestClock } from '../../../src/common/clock';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession } from '../../../src/usecases/session';
import { FixedQuotes, order } from '../paper/helpers';
import { LOOSE } from './engineHelpers';

describe('a paper account that cannot be saved while an order goes through', function () {
  this.timeout(30_000);
  let dir: string;
  let clock: TestClock;
  const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
  const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
  const file = (): string => join(dir, 'paper-account.json');
  const open = async () => {
    const paper = new PaperBroker({ clock, quotes, stateFile: file() });
    const session = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
    await session.engine.connect('paper');
    return { session, paper };
  };
  const buy = (quantity: number) => order('buy', quantity, { type: 'market' }, { type: 'GTC' }, 'EUR_USD');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-paper-save-'));
    clock = new TestClock();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A session with one fill (the account's snapshot written), then the journal's name taken by a folder. */
  async function failingSession() {
    const opened = await open();
    assert.equal((await opened.session.engine.submitOrder(buy(1000), 'paper')).order.state, 'FILLED');
    mkdirSync(journalFile(file()));
    const second = await opened.session.engine.submitOrder(buy(2000), 'paper');
    return { ...opened, second: second.order };
  }

  it('the order is UNCONFIRMED, not REJECTED, and its fill is shown to no one until saved; once the disk is back, the look-up finds it filled', async () => {
    const { session, paper, second } = await failingSession();
    assert.equal(second.state, 'UNCONFIRMED', `${second.state}: ${second.reason ?? ''}`);
    assert.match(second.reason ?? '', /could not save the paper account.*held until it can be saved/);
    // Not on disk: no look-up may report it (the engine would record a fill a crash then takes back).
    await assert.rejects(paper.getOrderByClientId(second.clientOrderId), /held until it can be saved/);
    rmdirSync(journalFile(file()));
    const found = await session.engine.reconcileOrder(second.clientOrderId);
    assert.equal(found?.state, 'FILLED');
    assert.deepEqual(session.engine.positionsOf('paper'), { EUR_USD: 3000 });
    await session.close();
    const again = await open();
    assert.deepEqual(
      again.session.damage.map((d) => d.message),
      [],
    );
    // No damage above: the account's fills and positions are the audit log's.
    assert.deepEqual(again.session.engine.positionsOf('paper'), { EUR_USD: 3000 });
    await again.session.close();
  });

  it('the process ends before the disk is back: the change never took effect, and the next open settles the order as never placed', async () => {
    const { session, second } = await failingSession();
    assert.equal(second.state, 'UNCONFIRMED');
    await session.close().catch(() => undefined);
    rmdirSync(journalFile(file()));
    const again = await open();
    assert.deepEqual(
      again.session.damage.map((d) => d.message),
      [],
    );
    const settled = await again.session.engine.reconcileOrder(second.clientOrderId);
    assert.equal(settled?.state, 'REJECTED', settled?.reason);
    assert.match(settled?.reason ?? '', /NEVER_ARRIVED/);
    assert.deepEqual(again.session.engine.positionsOf('paper'), { EUR_USD: 1000 });
    assert.equal(again.paper.fillsEver(), 1);
    await again.session.close();
  });
});
