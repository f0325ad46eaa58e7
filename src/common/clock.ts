/** Time is injected everywhere it matters, so tests drive it instead of sleeping. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Milliseconds that have passed, from any origin, never going back when `now` is stepped (an NTP correction): for
   * windows of time. A clock without it: its `now`, read forward only (see `ElapsedTime`).
   */
  elapsedMs?(): number;
}

export const systemClock: Clock = { now: () => Date.now(), elapsedMs: () => performance.now() };

/** A clock that moves only when told to. `set` and a negative `advance` step it; only a positive `advance` passes time. */
export class TestClock implements Clock {
  private passed = 0;
  constructor(private current = Date.UTC(2026, 0, 5, 14, 30, 0)) {}
  now(): number {
    return this.current;
  }
  elapsedMs(): number {
    return this.passed;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
    if (ms > 0) this.passed += ms;
  }
}

/** Time passed by a clock: its `elapsedMs`, or else its `now` read forward only (a step back passes no time). */
export class ElapsedTime {
  private elapsed = 0;
  private last: number;
  constructor(private readonly clock: Clock) {
    this.last = clock.elapsedMs ? clock.elapsedMs() : clock.now();
  }
  ms(): number {
    if (this.clock.elapsedMs) return this.clock.elapsedMs() - this.last;
    const now = this.clock.now();
    if (now > this.last) this.elapsed += now - this.last;
    this.last = now;
    return this.elapsed;
  }
}

/**
 * Monotonic high-resolution time in milliseconds, for measuring durations. `performance.now()` rather
 * than `process.hrtime.bigint()`: the engine reads it several times per order, and each bigint was an
 * allocation and a conversion.
 */
export function monotonicMs(): number {
  return performance.now();
}
