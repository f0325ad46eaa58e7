/** Time is injected everywhere it matters, so tests drive it instead of sleeping. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class TestClock implements Clock {
  constructor(private current = Date.UTC(2026, 0, 5, 14, 30, 0)) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
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
