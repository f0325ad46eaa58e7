/**
 * trading-state.json is saved before the audit log records a change, so a process that ends between the two leaves
 * the file one change ahead of the log, and the next open takes it (the change is recorded then). A file that lifts
 * the log's halt is taken only when it follows the log's last change: one copied from another state folder (sealed,
 * its time later than the log's halt) lifted a halt this log never saw lifted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { checkSeal, sealJson } from '../../../src/common/checksum';
import { TradingStateStore, type LoggedTradingState } from '../../../src/execution/tradingState';

describe('trading-state.json ahead of the audit log', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-follows-'));
    file = join(dir, 'trading-state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A halt at `haltAt`, logged, then a resume saved to the file but not logged (the process ended between). */
  function haltThenUnloggedResume(clock: TestClock): LoggedTradingState {
    const store = new TradingStateStore(file, clock);
    const halt = store.set('HALTED', 'stopped by hand', 'user');
    assert.ok(halt);
    clock.advance(60_000);
    assert.ok(store.set('ACTIVE', 'resumed by hand', 'user'));
    return { state: 'HALTED', reason: 'stopped by hand', source: 'user', at: halt.at, seq: 7 };
  }

  it('each change saved names the state it came from and since when', () => {
    const clock = new TestClock();
    const logged = haltThenUnloggedResume(clock);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { state: string; after?: unknown };
    assert.equal(saved.state, 'ACTIVE');
    assert.deepEqual(saved.after, { state: 'HALTED', since: logged.at });
  });

  it('a resume the log missed is taken when the file follows the log’s halt (and recorded on open)', () => {
    const clock = new TestClock();
    const logged = haltThenUnloggedResume(clock);
    const reopened = new TradingStateStore(file, clock, undefined, logged);
    assert.equal(reopened.state, 'ACTIVE');
    assert.equal(reopened.damage, undefined);
    assert.deepEqual(reopened.unlogged && { from: reopened.unlogged.from, to: reopened.unlogged.to }, {
      from: 'HALTED',
      to: 'ACTIVE',
    });
  });

  it('a file that does not follow this log’s halt (copied from another folder) does not lift it: HALTED, and damaged', () => {
    const clock = new TestClock();
    const other = haltThenUnloggedResume(clock);
    // This folder's log halted at another time (its own emergency stop), before the copied file's resume.
    const logged: LoggedTradingState = {
      ...other,
      reason: 'emergency stop',
      source: 'emergency_stop',
      at: other.at - 5,
    };
    const reopened = new TradingStateStore(file, clock, undefined, logged);
    assert.equal(reopened.state, 'HALTED');
    assert.equal(reopened.current.reason, 'emergency stop');
    assert.equal(reopened.unlogged, undefined);
    assert.match(reopened.damage ?? '', /does not follow this log .*its ACTIVE is not taken/);
    assert.match(reopened.damage ?? '', /audit log's last trading state is HALTED \(seq 7/);
  });

  it('a file that raises the restriction is taken whatever it follows (a halt is never lost)', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(file, clock);
    clock.advance(1000);
    assert.ok(store.set('HALTED', 'the breaker tripped', 'circuit_breaker'));
    const logged: LoggedTradingState = {
      state: 'ACTIVE',
      reason: 'resumed',
      source: 'user',
      at: clock.now() - 500,
      seq: 3,
    };
    const reopened = new TradingStateStore(file, clock, undefined, logged);
    assert.equal(reopened.state, 'HALTED');
    assert.equal(reopened.damage, undefined);
  });

  it('a file written before `after` was kept still lifts as before (no way to tell, and no file of that age is a copy)', () => {
    const clock = new TestClock();
    const logged = haltThenUnloggedResume(clock);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete saved['after'];
    delete saved['crc32'];
    writeFileSync(file, sealJson(JSON.stringify(saved)));
    assert.deepEqual(checkSeal(readFileSync(file, 'utf8')), { sealed: true });
    const reopened = new TradingStateStore(file, clock, undefined, { ...logged, at: logged.at - 5 });
    assert.equal(reopened.state, 'ACTIVE');
  });
});
