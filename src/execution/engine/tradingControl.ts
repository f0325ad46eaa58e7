/**
 * Whether the engine may trade: the trading state (ACTIVE / REDUCING / HALTED, with its circuit breaker)
 * and the state files found damaged. Every change is recorded and published through the event log.
 */
import type { Clock } from '../../common/clock';
import type { BrokerApi } from '../../brokers/broker';
import { StateDamagedError } from '../../common/stateErrors';
import {
  TradingStateStore,
  type CircuitBreakerSettings,
  type StateChange,
  type TradingStateRecord,
} from '../tradingState';
import type { TradingStateName } from '../risk';
import type { EventLog } from './eventLog';
import type { EngineEvent } from '../events';

type TradingStateChangedData = Omit<Extract<EngineEvent, { type: 'TradingStateChanged' }>, 'type'>;

/** How a halt for the audit log's failure starts its reason: the folder's next open tells it from a kill by it. */
export const AUDIT_FAILED_REASON = 'the audit log failed: ';

export class TradingControl {
  readonly trading: TradingStateStore;
  /** Files found damaged: no order is sent while there is any. */
  private readonly damaged: StateDamagedError[] = [];
  private equityCheckAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly log: EventLog,
    file: string | undefined,
    breaker: CircuitBreakerSettings | undefined,
    lastTradingState: ConstructorParameters<typeof TradingStateStore>[3],
    /** Damage found before the engine was made (the audit log itself). */
    damage: readonly StateDamagedError[],
    /** The day's starting equity the audit log recorded last. */
    dayStart?: { day: string; equity: number },
  ) {
    this.trading = new TradingStateStore(file, clock, breaker, lastTradingState);
    this.trading.takeDayStart(dayStart);
    this.damaged.push(...damage);
    if (this.trading.damage !== undefined && file) this.damaged.push(new StateDamagedError(file, this.trading.damage));
  }

  get state(): TradingStateName {
    return this.trading.state;
  }

  /** Why the trading state is what it is (a halt's reason: the emergency stop, a setting, the breaker's trip). */
  get reason(): string {
    return this.trading.current.reason;
  }

  /** State files found damaged, missing or older than the audit log. */
  get damage(): readonly StateDamagedError[] {
    return this.damaged;
  }

  /** Adds damage found while the engine was being made (recorded by `announce`). */
  addDamage(d: StateDamagedError): void {
    this.damaged.push(d);
  }

  /** Records what was found at startup: a trading state that could not be read, and every damaged file. */
  announce(): void {
    const unlogged = this.trading.unlogged;
    // At the time it was made, so that the next open finds the file and the log agreeing (not the file older).
    if (unlogged !== undefined)
      this.stateChanged(
        unlogged,
        unlogged.reason.startsWith(AUDIT_FAILED_REASON)
          ? 'the trading state file held this change and the audit log did not: the log had failed and could not take it; recorded when the folder was next opened'
          : 'the trading state file held this change and the audit log did not (the process ended or the audit log failed between the two, or recover rewrote the file); recorded when the folder was next opened',
      );
    if (this.trading.loadProblem !== undefined) {
      this.log.record('TradingStateChanged', {
        // The halt's own time, as every change is logged: a later change saved to the file names it (`after`).
        at: this.trading.current.since,
        from: 'ACTIVE',
        to: 'HALTED',
        reason: this.trading.current.reason,
        source: 'startup',
      });
    }
    for (const d of this.damaged)
      this.log.record('StateDamaged', { at: this.clock.now(), file: d.file, problem: d.problem });
  }

  /** Marks a state file as damaged (recorded; new orders are denied until `recover`). */
  reportDamage(damage: StateDamagedError): void {
    if (this.damaged.some((d) => d.file === damage.file && d.problem === damage.problem)) return;
    this.damaged.push(damage);
    this.log.record('StateDamaged', { at: this.clock.now(), file: damage.file, problem: damage.problem });
  }

  /** A state file could not be written: recorded, and trading halts (the audit log still holds everything). */
  stateSaveFailed(file: string, e: Error): void {
    this.log.record('StateSaveFailed', { at: this.clock.now(), file, message: e.message });
    if (this.trading.state !== 'HALTED') {
      const change = this.trading.set(
        'HALTED',
        `could not save ${file} (${e.message}); trading is halted until it can be saved`,
        'circuit_breaker',
      );
      if (change) this.stateChanged(change);
    }
  }

  /** The audit log failed: HALTED, published (the log cannot take the event any more). */
  auditFailed(e: Error): void {
    const change = this.trading.set('HALTED', `${AUDIT_FAILED_REASON}${e.message}`, 'circuit_breaker');
    if (change)
      this.log.publish({
        type: 'TradingStateChanged',
        at: change.at,
        from: change.from,
        to: change.to,
        reason: change.reason,
        source: change.source,
      });
  }

  /** Sets the trading state by a person's decision or the engine's (an emergency stop). */
  set(state: TradingStateName, reason: string, source: TradingStateRecord['source']): StateChange | undefined {
    const change = this.trading.set(state, reason, source);
    if (change) this.stateChanged(change);
    return change;
  }

  /** Halts for a reason that passes (risk settings that are not valid), keeping what it replaces for `uncover`. */
  cover(reason: string, source: TradingStateRecord['source']): StateChange | undefined {
    const change = this.trading.cover(reason, source);
    if (change) this.stateChanged(change);
    return change;
  }

  /** Ends a `cover` halt: back to what it replaced (a breaker's halt then ends by its cool-down), else ACTIVE. */
  uncover(reason: string, source: TradingStateRecord['source']): StateChange | undefined {
    const change = this.trading.uncover(reason, source);
    if (change) this.stateChanged(change);
    this.tick();
    return change;
  }

  /** Ends a cool-down that is over. */
  tick(): void {
    let change: StateChange | undefined;
    try {
      change = this.trading.tick();
    } catch (e) {
      // The cool-down's end cannot be saved: stay halted rather than trade on an unsaved state.
      this.log.record('StateSaveFailed', {
        at: this.clock.now(),
        file: (e as { file?: string }).file ?? 'trading-state.json',
        message: (e as Error).message,
      });
    }
    if (change) this.stateChanged(change);
  }

  recordSuccess(): void {
    this.trading.recordSuccess();
  }

  /** A venue refused an order or failed: the circuit breaker counts it. */
  recordFailure(what: string): void {
    const change = this.trading.recordFailure(what);
    if (change) this.stateChanged(change);
  }

  /** After a fill on a practice venue: its equity for the daily-loss breaker, at most once a second. */
  checkEquity(broker: BrokerApi | undefined, venue: string): void {
    if (this.trading.breakerStatus().settings.maxDailyLoss === undefined) return;
    const now = this.clock.now();
    if (now < this.equityCheckAt) return;
    this.equityCheckAt = now + 1000;
    if (!broker || broker.environment === 'live') return;
    void broker.getAccountInfo().then(
      (a) => {
        const before = this.trading.current;
        const change = this.trading.recordEquity(a.equity, a.currency);
        const after = this.trading.current;
        // In the log too (the record): a trading state file lost or rebuilt keeps the day's start from it.
        if (after.dayStartEquity !== null && (after.day !== before.day || before.dayStartEquity === null))
          this.log.note('DayStarted', { day: after.day, equity: after.dayStartEquity, currency: a.currency });
        if (change) this.stateChanged(change);
      },
      (e: unknown) => this.log.venueError(venue, 'getAccountInfo', e),
    );
  }

  private stateChanged(change: StateChange, note?: string): void {
    // The log is the record: a breaker's cool-down and what a covering halt keeps are in it too, so that a trading
    // state file lost or rolled back (taken from the log on open, rebuilt from it by recover) does not lose them.
    const now = this.trading.current;
    const data: { -readonly [K in keyof TradingStateChangedData]: TradingStateChangedData[K] } = {
      at: change.at,
      from: change.from,
      to: change.to,
      reason: change.reason,
      source: change.source,
    };
    if (now.resumeAt !== null) data.resumeAt = now.resumeAt;
    if (now.covers !== undefined) data.covers = now.covers;
    if (note !== undefined) data.note = note;
    this.log.record('TradingStateChanged', data);
    const failed = this.trading.lastSaveError;
    if (failed) {
      this.log.record('StateSaveFailed', {
        at: this.clock.now(),
        file: (failed as { file?: string }).file ?? 'trading-state.json',
        message: `${failed.message}; the ${change.to} state is in effect and recorded in the audit log, which the next open takes it from`,
      });
    }
  }
}
