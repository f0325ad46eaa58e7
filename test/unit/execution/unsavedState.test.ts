/**
 * A state file the engine could not save during a session (the disk full, a folder in its place): the engine goes on
 * (the audit log holds what the file was to say, and records StateSaveFailed), but the session's close must say so.
 * It said nothing, so `execute` or `halt` ended 0 over a working-orders or trading-state file left behind, and only
 * the next command found it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { StateFileError } from '../../../src/common/stateErrors';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession } from '../../../src/usecases/session';
import { FixedQuotes, order } from '../paper/helpers';
import { LOOSE } from './engineHelpers';

describe('a state file that cannot be saved during a session: its close says so', function () {
  this.timeout(30_000);
  let dir: string;
  let clock: TestClock;
  const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
  const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
  const open = async () => {
    const paper = new PaperBroker({ clock, quotes, stateFile: join(dir, 'paper-account.json') });
    const session = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
    await session.engine.connect('paper');
    return session;
  };
  /** A folder (not empty) in the file's place: a rename over it fails, as a full disk's write would. */
  const block = (file: string): void => {
    rmSync(file, { force: true });
    mkdirSync(file);
    writeFileSync(join(file, 'stray'), 'x');
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-unsaved-'));
    clock = new TestClock();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the working orders: the order rests, its file cannot be written, and close() rejects naming the file', async () => {
    const session = await open();
    block(join(dir, 'working-orders.json'));
    const resting = await session.engine.submitOrder(
      order('buy', 1000, { type: 'limit', price: 1.09 }, { type: 'GTC' }, 'EUR_USD'),
      'paper',
    );
    // Resting; or, when the open's own write of the file met the folder first, denied: that failure halts trading.
    assert.ok(
      resting.order.state === 'ACCEPTED' || resting.denial?.code === 'TRADING_HALTED',
      `${resting.order.state}: ${resting.denial?.message ?? ''}`,
    );
    await assert.rejects(
      session.close(),
      (e: unknown) =>
        e instanceof StateFileError &&
        e.file === join(dir, 'working-orders.json') &&
        /cannot save the working orders/.test(e.message),
    );
  });

  it('the trading state of a halt: the halt holds, its file cannot be written, and close() rejects naming the file', async () => {
    const session = await open();
    block(join(dir, 'trading-state.json'));
    await session.engine.emergencyStop({ reason: 'desk says stop' });
    assert.equal(session.engine.status().tradingState, 'HALTED');
    await assert.rejects(
      session.close(),
      (e: unknown) =>
        e instanceof StateFileError &&
        e.file === join(dir, 'trading-state.json') &&
        /cannot save the trading state/.test(e.message),
    );
  });

  it('nothing failed: close() resolves', async () => {
    const session = await open();
    await session.engine.emergencyStop({ reason: 'a plain halt' });
    await session.close();
  });
});
