/**
 * The circuit breaker's window of failures is time that passed, not the clock's reading: a clock stepped back (an
 * NTP correction) must not keep old failures in the window for as long as the step.
 */
import assert from 'node:assert/strict';
import { ElapsedTime, TestClock } from '../../../src/common/clock';
import { TradingStateStore } from '../../../src/execution/tradingState';

const BREAKER = { maxFailuresInWindow: 3, windowMs: 60_000 };

describe('circuit breaker window', () => {
  it('trips on as many failures within the window', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(undefined, clock, BREAKER);
    assert.equal(store.recordFailure('a'), undefined);
    clock.advance(1_000);
    assert.equal(store.recordFailure('b'), undefined);
    clock.advance(1_000);
    assert.equal(store.recordFailure('c')?.to, 'HALTED');
  });

  it('forgets failures older than the window', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(undefined, clock, BREAKER);
    store.recordFailure('a');
    store.recordFailure('b');
    clock.advance(60_001);
    assert.equal(store.breakerStatus().failuresInWindow, 0, 'the status reads the window as it is now');
    assert.equal(store.recordFailure('c'), undefined);
    assert.equal(store.breakerStatus().failuresInWindow, 1);
  });

  it('a clock stepped back an hour does not keep the failures before it in the window', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(undefined, clock, BREAKER);
    store.recordFailure('a');
    store.recordFailure('b');
    clock.advance(-3_600_000);
    clock.advance(61_000);
    assert.equal(store.recordFailure('c'), undefined, 'a failure a minute after two others is not three in a minute');
    assert.equal(store.breakerStatus().failuresInWindow, 1);
  });

  it('time after a step back still counts toward the window', () => {
    const clock = new TestClock();
    const store = new TradingStateStore(undefined, clock, BREAKER);
    store.recordFailure('a');
    clock.advance(-3_600_000);
    clock.advance(10_000);
    store.recordFailure('b');
    clock.advance(10_000);
    assert.equal(store.recordFailure('c')?.to, 'HALTED', 'three failures within 20 s of time passing');
  });
});

describe('ElapsedTime over a clock with no elapsed time of its own', () => {
  it('counts its readings forward only: a step back passes no time, and time goes on from there', () => {
    let now = 1_000_000;
    const time = new ElapsedTime({ now: () => now });
    now += 5_000;
    assert.equal(time.ms(), 5_000);
    now -= 3_600_000;
    assert.equal(time.ms(), 5_000);
    now += 2_000;
    assert.equal(time.ms(), 7_000);
  });
});

describe('daily loss limit and a clock stepped back', () => {
  it('a clock stepped back over midnight keeps the day already started (its start equity is not taken again)', () => {
    const clock = new TestClock(Date.UTC(2026, 0, 6, 0, 5));
    const store = new TradingStateStore(undefined, clock, { maxDailyLoss: 100 });
    assert.equal(store.recordEquity(10_000, 'USD'), undefined, "the day's start");
    assert.equal(store.recordEquity(9_950, 'USD'), undefined, 'a loss of 50');
    clock.set(Date.UTC(2026, 0, 5, 23, 58));
    assert.equal(store.recordEquity(9_900, 'USD')?.to, 'HALTED', 'a loss of 100 from the same start');
  });

  it('a new day going forward takes its own start equity', () => {
    const clock = new TestClock(Date.UTC(2026, 0, 5, 23, 58));
    const store = new TradingStateStore(undefined, clock, { maxDailyLoss: 100 });
    store.recordEquity(10_000, 'USD');
    clock.set(Date.UTC(2026, 0, 6, 0, 5));
    assert.equal(store.recordEquity(9_950, 'USD'), undefined);
    assert.equal(store.recordEquity(9_860, 'USD'), undefined, 'a loss of 90 from the new start of 9,950');
  });
});
