/**
 * Trading state (ACTIVE / REDUCING / HALTED), the circuit breaker that trips it, and the file that
 * makes a halt survive a restart: an engine that was halted starts halted.
 *
 * - HALTED by a person (halt, emergency stop) stays until a person resumes.
 * - HALTED by the circuit breaker resumes by a person, or by itself after the configured cool-down.
 * - The file is written atomically (temp file, fsync, rename) before the new state takes effect;
 *   a file that cannot be read is an error naming the file, and the engine starts HALTED rather
 *   than guess.
 *
 * Past 450 lines on purpose: the file's schema, the rules for a file that disagrees with the audit log (older,
 * newer, not following it) and the breaker all read and write one record and its save; split, each would take the
 * record back as an argument.
 */
import { readStateFileSync } from '../common/userFile';
import { replaceFileSync, syncDirectorySync } from '../common/durableFile';
import { crashPoint } from '../common/crashPoint';
import { checkSeal, sealJson } from '../common/checksum';
import { dirname } from 'node:path';
import { isPermissionError, newerFormat, permissionDenied, stateFileErrorOf } from '../common/stateErrors';
import { z } from 'zod';
import { ElapsedTime, type Clock } from '../common/clock';
import type { TradingStateName } from './risk';

/** What a halt for risk settings that are not valid took the place of (`TradingStateSchema.covers`). */
const CoveredSchema = z.object({
  state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']),
  reason: z.string(),
  source: z.enum(['user', 'circuit_breaker', 'emergency_stop', 'startup']),
  since: z.number(),
  resumeAt: z.number().nullable(),
});

export const TradingStateSchema = z.object({
  version: z.literal(1),
  state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']),
  reason: z.string(),
  /** Who set it: a person, the circuit breaker or the emergency stop. */
  source: z.enum(['user', 'circuit_breaker', 'emergency_stop', 'startup']),
  since: z.number(),
  /** When a breaker trip ends by itself (ms since epoch), if it does. */
  resumeAt: z.number().nullable(),
  /** Equity at the start of the UTC day `day`, for the daily loss limit. */
  day: z.string().nullable(),
  dayStartEquity: z.number().nullable(),
  /**
   * What this halt (for risk settings that are not valid) took the place of: a circuit breaker's halt with its
   * cool-down, a person's REDUCING, or ACTIVE; put back when the halt for the settings ends (`uncover`). Kept in the
   * file, so that a restart does not turn a breaker's halt into one that lifts as soon as the settings are fixed.
   */
  covers: CoveredSchema.optional(),
  /**
   * The state this one was changed from, and since when: what the audit log's last TradingStateChanged says when the
   * process ended between saving this file and recording the change. On open, a file that lifts the log's halt (or
   * REDUCING) is taken only when it follows that record; one that does not (copied from another state folder, put
   * back from elsewhere) would lift a halt this log never saw lifted. Absent in files written before it was kept.
   */
  after: z.object({ state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']), since: z.number() }).optional(),
});
export type TradingStateRecord = z.infer<typeof TradingStateSchema>;
export type CoveredHalt = NonNullable<TradingStateRecord['covers']>;

export const CircuitBreakerSchema = z
  .object({
    /** Trip after this many broker errors or rejections in a row. */
    maxConsecutiveFailures: z.number().int().positive().optional(),
    /** …or this many within `windowMs`. */
    maxFailuresInWindow: z.number().int().positive().optional(),
    windowMs: z.number().int().positive().optional(),
    /** …or when equity falls this far (account currency) below the day's starting equity. */
    maxDailyLoss: z.number().positive().optional(),
    /** A trip ends by itself after this long; absent = only a person resumes. */
    cooldownMs: z.number().int().positive().optional(),
  })
  .strict();
export type CircuitBreakerSettings = z.infer<typeof CircuitBreakerSchema>;

export const DEFAULT_CIRCUIT_BREAKER: Readonly<CircuitBreakerSettings> = Object.freeze({
  maxConsecutiveFailures: 5,
  maxFailuresInWindow: 10,
  windowMs: 60_000,
  cooldownMs: 300_000,
});

export class TradingStateFileError extends Error {
  override readonly name = 'TradingStateFileError';
}

export interface StateChange {
  readonly from: TradingStateName;
  readonly to: TradingStateName;
  readonly reason: string;
  readonly source: TradingStateRecord['source'];
  readonly at: number;
}

/** The audit log's last TradingStateChanged (its digest's reading: the extras as the record has them). */
export interface LoggedTradingState {
  readonly state: TradingStateName;
  readonly reason: string;
  readonly source: string;
  readonly at: number;
  readonly seq: number;
  readonly resumeAt?: unknown;
  readonly covers?: unknown;
}

/**
 * The trading state the log's record says: a breaker's cool-down and what a covering halt keeps come with it (a
 * record from before they were logged, or one damaged, has neither: a halt then stays until a person resumes).
 */
export function tradingStateOfLog(
  logged: LoggedTradingState,
): Pick<TradingStateRecord, 'state' | 'reason' | 'source' | 'since' | 'resumeAt' | 'covers'> {
  const source =
    (['user', 'circuit_breaker', 'emergency_stop', 'startup'] as const).find((s) => s === logged.source) ?? 'startup';
  const resumeAt =
    logged.state === 'HALTED' && typeof logged.resumeAt === 'number' && Number.isFinite(logged.resumeAt)
      ? logged.resumeAt
      : null;
  const covers = logged.state === 'HALTED' ? CoveredSchema.safeParse(logged.covers) : undefined;
  const base = { state: logged.state, reason: logged.reason, source, since: logged.at, resumeAt };
  return covers?.success ? { ...base, covers: covers.data } : base;
}

/** How much a state holds back: a file may raise it without the log (a halt is never lost), not lower it. */
const RESTRICTION: Readonly<Record<TradingStateName, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const DAY_MS = 86_400_000;
/** The start (ms since epoch) of the UTC day after the one `ms` is in. */
const nextUtcDay = (ms: number): number => (Math.floor(ms / DAY_MS) + 1) * DAY_MS;

export class TradingStateStore {
  private record: TradingStateRecord;
  private consecutive = 0;
  /** When each failure in the window happened, on `time`'s scale. */
  private failures: number[] = [];
  /**
   * Time passed, never going back: the breaker's window is measured on it. On the clock's reading a step back (a
   * correction) kept the failures before it inside the window for as long as the step, so that one failure an hour
   * later could trip the breaker (and a step forward emptied the window).
   */
  private readonly time: ElapsedTime;
  /** Set when the file could not be read: the engine starts halted and says why. */
  readonly loadProblem: string | undefined;
  /**
   * Set when the file is missing or older than the audit log's last trading state: the log's state was
   * taken (a halt is never lost) and the file must be rebuilt (`recover`).
   */
  readonly damage: string | undefined;
  /**
   * A change the file holds that the audit log does not: the file is saved before the change's record, and a
   * process killed in between left it there alone. Taken (the file is newer), and recorded on open by the engine.
   */
  readonly unlogged: StateChange | undefined;
  /** The last save that failed (a halt still took effect in memory and is in the audit log). */
  lastSaveError: Error | undefined;
  /** Set when the engine closed: the file is no longer written (see `close`). */
  private closed = false;

  constructor(
    private readonly file: string | undefined,
    private readonly clock: Clock,
    private breaker: CircuitBreakerSettings = DEFAULT_CIRCUIT_BREAKER,
    /** The last TradingStateChanged in the audit log, to check the file against. */
    fromLog?: LoggedTradingState,
  ) {
    const now = clock.now();
    this.time = new ElapsedTime(clock);
    const fresh: TradingStateRecord = {
      version: 1,
      state: 'ACTIVE',
      reason: 'started',
      source: 'startup',
      since: now,
      resumeAt: null,
      day: null,
      dayStartEquity: null,
    };
    this.record = fresh;
    if (!file) return;
    let text: string | undefined;
    let missing = false;
    try {
      text = readStateFileSync(file);
    } catch (e) {
      // Its access, not its content, is at fault: not a halt recorded in the log for a file that is whole (which, with
      // the access back, left the folder refused as older than the log until recover), but an error saying so.
      if (isPermissionError(e)) throw permissionDenied(file, 'the trading state file');
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.loadProblem = `cannot read the trading state file ${file}: ${(e as Error).message}`;
      } else missing = true;
    }
    if (text !== undefined) {
      let parsed: unknown;
      const seal = checkSeal(text);
      if (seal.problem) this.loadProblem = `the trading state file ${file} is damaged: ${seal.problem}`;
      else
        try {
          parsed = JSON.parse(text);
        } catch (e) {
          this.loadProblem = `the trading state file ${file} is not JSON (${(e as Error).message})`;
        }
      if (this.loadProblem === undefined) {
        // A file without a checksum was written before there were checksums: it may hold no other key (a
        // damaged checksum key would otherwise pass for an unknown one, and be dropped).
        const checked = (seal.sealed ? TradingStateSchema : TradingStateSchema.strict()).safeParse(parsed);
        const newer = newerFormat(parsed, 1);
        if (newer !== undefined) this.loadProblem = `the trading state file ${file}: ${newer}`;
        else if (checked.success) this.record = checked.data;
        else
          this.loadProblem = `the trading state file ${file} is invalid: ${checked.error.issues.map((i) => `${i.path.join('.') || 'the whole file'}: ${i.message}`).join('; ')}`;
      }
    }
    if (this.loadProblem !== undefined) {
      // Fail safe: a state we cannot read may have been HALTED. Keep the bad file; a person resumes.
      this.record = {
        ...fresh,
        state: 'HALTED',
        reason: `${this.loadProblem}; trading is halted until you resume`,
        source: 'startup',
      };
      this.damage = this.loadProblem;
      return;
    }
    if (!fromLog) {
      // A log with no change at all: a file that is not the state every folder starts in has one the log lacks.
      if (!missing && this.record.state !== 'ACTIVE') this.unlogged = this.changeFrom('ACTIVE');
      return;
    }
    // The file is saved before the audit record of a change, so it may be newer than the log, never older.
    const older = missing || this.record.since < fromLog.at;
    if (!older) {
      const r = this.record;
      if (r.since > fromLog.at && (r.state !== fromLog.state || r.reason !== fromLog.reason)) {
        const after = r.after;
        if (
          RESTRICTION[r.state] < RESTRICTION[fromLog.state] &&
          after !== undefined &&
          (after.state !== fromLog.state || after.since !== fromLog.at)
        ) {
          // Fail safe: the log's halt stands, and the folder is damaged until recover rebuilds the file from the log.
          this.damage = `the trading state file says ${r.state} since ${new Date(r.since).toISOString()}, a change from ${after.state} since ${new Date(after.since).toISOString()}, but the audit log's last trading state is ${fromLog.state} (seq ${fromLog.seq}, ${new Date(fromLog.at).toISOString()}): the file does not follow this log (copied from another state folder, or put back from elsewhere), so its ${r.state} is not taken`;
          const { covers: _stale, ...kept } = r;
          this.record = { ...kept, ...tradingStateOfLog(fromLog) };
          return;
        }
        this.unlogged = this.changeFrom(fromLog.state);
      }
      return;
    }
    this.damage = missing
      ? `the trading state file is missing, but the audit log says the trading state was ${fromLog.state} (seq ${fromLog.seq}: ${fromLog.reason})`
      : `the trading state file says ${this.record.state} since ${new Date(this.record.since).toISOString()}, older than the audit log's ${fromLog.state} (seq ${fromLog.seq}, ${new Date(fromLog.at).toISOString()}): that change could not be saved to it (a full disk, say: see StateSaveFailed in the audit log), or an older copy was put back`;
    const { covers: _stale, ...kept } = this.record;
    this.record = { ...kept, ...tradingStateOfLog(fromLog) };
  }

  /** The file's state as a change from `from`, made when the file says (its `since`). */
  private changeFrom(from: TradingStateName): StateChange {
    const r = this.record;
    return { from, to: r.state, reason: r.reason, source: r.source, at: r.since };
  }

  /**
   * The day's starting equity the audit log recorded (`DayStarted`): taken when the file has none for that day (it
   * was deleted, rebuilt by recover or put back from an older copy). Otherwise the first equity read after the
   * restart became the day's start, after the day's losses, and the daily loss limit was measured from there.
   */
  takeDayStart(logged: { day: string; equity: number } | undefined): void {
    if (logged === undefined || (this.record.day !== null && this.record.day >= logged.day)) return;
    this.record = { ...this.record, day: logged.day, dayStartEquity: logged.equity };
  }

  configure(breaker: CircuitBreakerSettings): void {
    this.breaker = breaker;
  }

  get current(): Readonly<TradingStateRecord> {
    return this.record;
  }

  get state(): TradingStateName {
    return this.record.state;
  }

  /** Ends a breaker trip whose cool-down has passed; returns the change, if any. */
  tick(): StateChange | undefined {
    const r = this.record;
    if (
      r.state === 'HALTED' &&
      r.source === 'circuit_breaker' &&
      r.resumeAt !== null &&
      this.clock.now() >= r.resumeAt
    ) {
      this.consecutive = 0;
      this.failures = [];
      return this.set('ACTIVE', `the circuit breaker's cool-down ended (${r.reason})`, 'circuit_breaker');
    }
    return undefined;
  }

  /**
   * Halts in place of what there is, keeping it for `uncover` (a halt that is already one of these keeps what it
   * kept): a halt for a reason that passes (risk settings that are not valid) must not end a circuit breaker's halt
   * or a person's REDUCING when it passes.
   */
  cover(reason: string, source: TradingStateRecord['source']): StateChange | undefined {
    const r = this.record;
    const covers: CoveredHalt = r.covers ?? {
      state: r.state,
      reason: r.reason,
      source: r.source,
      since: r.since,
      resumeAt: r.resumeAt,
    };
    // Said with the halt, so that what comes back once the settings are fixed is known meanwhile (also after a
    // restart: the file keeps both).
    const until = covers.resumeAt === null ? '' : `, its cool-down until ${new Date(covers.resumeAt).toISOString()}`;
    const then =
      covers.state === 'ACTIVE'
        ? ''
        : covers.state === 'REDUCING'
          ? `; then REDUCING again (${covers.reason})`
          : `; then the ${covers.source === 'circuit_breaker' ? "circuit breaker's " : ''}halt before it (${covers.reason}${until})`;
    return this.set('HALTED', `${reason}${then}`, source, null, covers);
  }

  /**
   * Ends a `cover` halt: what it took the place of comes back (a breaker's halt with its reason and cool-down, which
   * `tick` then ends if it passed meanwhile; REDUCING), else ACTIVE.
   */
  uncover(reason: string, source: TradingStateRecord['source']): StateChange | undefined {
    const c = this.record.covers;
    if (c === undefined || c.state === 'ACTIVE') return this.set('ACTIVE', reason, source);
    return this.set(c.state, c.reason, c.source, c.resumeAt);
  }

  /** Sets the state, saving it first. Returns the change, or undefined when nothing changed. */
  set(
    state: TradingStateName,
    reason: string,
    source: TradingStateRecord['source'],
    resumeAt: number | null = null,
    covers?: CoveredHalt,
  ): StateChange | undefined {
    const from = this.record.state;
    const { covers: before, ...rest } = this.record;
    if (from === state && this.record.reason === reason && before === covers) return undefined;
    const at = this.clock.now();
    // Any other change (a person's resume or halt, an emergency stop) ends what a covering halt kept.
    const after = { state: from, since: this.record.since };
    const next: TradingStateRecord =
      covers === undefined
        ? { ...rest, state, reason, source, since: at, resumeAt, after }
        : { ...rest, state, reason, source, since: at, resumeAt, covers, after };
    try {
      this.save(next);
      this.lastSaveError = undefined;
    } catch (e) {
      const error = stateFileErrorOf(this.file ?? 'trading-state.json', 'save the trading state', e);
      // A halt takes effect even when it cannot be saved (the audit log records it, and the next open
      // takes it from there); anything else must not take effect unsaved.
      if (state !== 'HALTED') throw error;
      this.lastSaveError = error;
    }
    this.record = next;
    if (state === 'ACTIVE') {
      this.consecutive = 0;
      this.failures = [];
    }
    return { from, to: state, reason, source, at };
  }

  /** A broker error or venue rejection: may trip the breaker. */
  recordFailure(what: string): StateChange | undefined {
    this.consecutive++;
    this.failures.push(this.time.ms());
    const windowMs = this.breaker.windowMs ?? 60_000;
    this.pruneWindow();
    if (this.record.state === 'HALTED') return undefined;
    const maxRun = this.breaker.maxConsecutiveFailures;
    const maxWindow = this.breaker.maxFailuresInWindow;
    if (maxRun !== undefined && this.consecutive >= maxRun)
      return this.trip(`${this.consecutive} broker errors or rejections in a row (limit ${maxRun}); last: ${what}`);
    if (maxWindow !== undefined && this.failures.length >= maxWindow)
      return this.trip(
        `${this.failures.length} broker errors or rejections within ${Math.round(windowMs / 1000)} s (limit ${maxWindow}); last: ${what}`,
      );
    return undefined;
  }

  /** Drops the failures older than the window. */
  private pruneWindow(): void {
    const since = this.time.ms() - (this.breaker.windowMs ?? 60_000);
    while (this.failures.length > 0 && (this.failures[0] as number) <= since) this.failures.shift();
  }

  /** An order the venue took: ends a run of failures. */
  recordSuccess(): void {
    this.consecutive = 0;
  }

  /** Equity seen now: sets the day's start on a new UTC day, and trips on the daily loss limit. */
  recordEquity(equity: number, currency: string): StateChange | undefined {
    const now = this.clock.now();
    // A clock stepped back over midnight is still the day already started: its start equity would otherwise be
    // taken again after the day's losses, and the daily loss limit measured from there (loosened).
    const today = utcDay(now);
    const day = this.record.day !== null && today < this.record.day ? this.record.day : today;
    if (this.record.day !== day || this.record.dayStartEquity === null) {
      const next = { ...this.record, day, dayStartEquity: equity };
      try {
        this.save(next);
      } catch (e) {
        this.lastSaveError = stateFileErrorOf(this.file ?? 'trading-state.json', 'save the trading state', e);
      }
      this.record = next;
      return undefined;
    }
    const max = this.breaker.maxDailyLoss;
    const loss = Math.round((this.record.dayStartEquity - equity) * 100) / 100;
    if (max !== undefined && loss >= max && this.record.state !== 'HALTED') {
      // Not ended by the cool-down the same day (the loss is still there): at the earliest when the next
      // UTC day starts, which takes its own starting equity.
      return this.trip(
        `the day's loss of ${loss} ${currency} reached the daily loss limit of ${max} ${currency}`,
        nextUtcDay(now),
      );
    }
    return undefined;
  }

  /** Counters the UI shows next to the state. */
  breakerStatus(): { consecutiveFailures: number; failuresInWindow: number; settings: CircuitBreakerSettings } {
    this.pruneWindow();
    return {
      consecutiveFailures: this.consecutive,
      failuresInWindow: this.failures.length,
      settings: { ...this.breaker },
    };
  }

  /** Trips the breaker; its cool-down (if any) ends no earlier than `notBefore`. */
  private trip(reason: string, notBefore = 0): StateChange | undefined {
    const cooldown = this.breaker.cooldownMs;
    return this.set(
      'HALTED',
      `circuit breaker: ${reason}`,
      'circuit_breaker',
      cooldown === undefined ? null : Math.max(this.clock.now() + cooldown, notBefore),
    );
  }

  /**
   * The engine has closed: what still changes the state (an account read or a venue's answer arriving late) changes
   * it in memory only. The folder's lock is its owner's to release once closed; the file written after that could be
   * another process's, and the audit log, closed, would not hold the change.
   */
  close(): void {
    this.closed = true;
  }

  private save(record: TradingStateRecord): void {
    if (!this.file || this.closed) return;
    replaceFileSync(this.file, tradingStateText(record), { fileMode: 0o600, dirMode: 0o700 });
    syncDirectorySync(dirname(this.file));
    // Saved, not yet in the audit log (its record follows): the next open must record what the file holds.
    crashPoint('trading-state-saved');
  }
}

/**
 * The trading state file's text: indented JSON (people read it) with a checksum, so that a flipped bit in a
 * resume time or the day's starting equity is found on load, not obeyed (common/checksum.ts).
 */
export function tradingStateText(record: TradingStateRecord): string {
  return sealJson(`${JSON.stringify(record, null, 2)}\n`);
}
