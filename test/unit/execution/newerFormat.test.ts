/**
 * A state folder last used by a newer SPtrader: its files say a format this version does not read (version 3 of the
 * paper account, 2 of the trading state or the working orders), with a checksum that holds. Nothing is read from
 * them and nothing trades (as for damage), but the message says what happened — a newer version wrote it — instead
 * of calling the file invalid or "not a paper account", as if damaged.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { sealJson } from '../../../src/common/checksum';
import { TestClock } from '../../../src/common/clock';
import { StateDamagedError } from '../../../src/common/stateErrors';
import { loadWorkingOrders } from '../../../src/execution/orderStore';
import { TradingStateStore } from '../../../src/execution/tradingState';

const NEWER = /written by a newer version of SPtrader \(format (\d+); this version reads formats up to (\d+)\)/;

describe('state files from a newer version of SPtrader', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-newer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('paper-account.json at format 3: refused naming the file and the newer version, left untouched', () => {
    const file = join(dir, 'paper-account.json');
    const text = sealJson(JSON.stringify({ version: 3, accountId: 'PAPER-1', ledger: { kind: 'a newer layout' } }));
    writeFileSync(file, text);
    assert.throws(
      () => readPaperAccount(file),
      (e: unknown) => e instanceof StateDamagedError && e.file === file && NEWER.test(e.message),
    );
    assert.ok(existsSync(file));
  });

  it('trading-state.json at format 2: HALTED on open, the reason saying a newer version wrote it', () => {
    const file = join(dir, 'trading-state.json');
    writeFileSync(file, sealJson(JSON.stringify({ version: 2, mode: 'PAUSED', since: 1 }, null, 1)));
    const store = new TradingStateStore(file, new TestClock());
    assert.equal(store.state, 'HALTED');
    assert.match(store.loadProblem ?? '', NEWER);
    assert.ok((store.loadProblem ?? '').includes(file));
  });

  it('working-orders.json at format 2: set aside (kept for that version), saying a newer version wrote it', () => {
    const file = join(dir, 'working-orders.json');
    writeFileSync(file, JSON.stringify({ version: 2, orders: { byVenue: {} } }));
    const loaded = loadWorkingOrders(file);
    assert.match(loaded.problem ?? '', NEWER);
    assert.equal(loaded.orders.length, 0);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('working-orders.json.corrupt-')).length, 1);
  });

  it('the formats this version reads are not called newer', () => {
    const file = join(dir, 'trading-state.json');
    writeFileSync(file, sealJson(JSON.stringify({ version: 1, state: 'ACTIVE' }, null, 1)));
    assert.doesNotMatch(new TradingStateStore(file, new TestClock()).loadProblem ?? '', NEWER);
  });
});
