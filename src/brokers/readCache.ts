/**
 * Reads of a venue that one order's handling asks for several times (the account: the Test Order's
 * market data, then the engine's pre-trade check, then its equity check after the fill) answered by
 * one request where that cannot change the answer:
 * - identical reads in flight at once share one request (single flight): the second caller gets an
 *   answer from a request sent after it was needed by the first, no older than what it asked for by
 *   more than one round trip;
 * - a completed read is reused for `reuseMs` (counted from when its request was sent), unless this
 *   adapter changed something since: `invalidate()` (called on every submit, cancel and order update)
 *   drops what was read before it, and a read still in flight when it is called is not kept. So a
 *   reused account never misses one of our own orders; what it can miss is a change made elsewhere
 *   (a deposit, another application's order) in the last `reuseMs`, which a read made a moment
 *   earlier would have missed the same way.
 */
import { monotonicMs } from '../common/clock';

interface Done<T> {
  value: T;
  sentAt: number;
}

export class ReadCache {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly done = new Map<string, Done<unknown>>();
  /** Bumped by `invalidate()`: reads sent before it are not kept. */
  private generation = 0;

  constructor(
    private readonly reuseMs: number,
    readonly now: () => number = monotonicMs,
  ) {}

  /** `load()`'s answer for `key`: shared with a read in flight, reused while fresh, else sent. */
  read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key);
    if (pending) return pending as Promise<T>;
    const kept = this.done.get(key);
    const now = this.now();
    if (kept && now - kept.sentAt <= this.reuseMs) return Promise.resolve(kept.value as T);
    this.done.delete(key);
    const generation = this.generation;
    const request = load().then(
      (value) => {
        if (this.inFlight.get(key) === request) this.inFlight.delete(key);
        if (generation === this.generation && this.reuseMs > 0) this.done.set(key, { value, sentAt: now });
        return value;
      },
      (e: unknown) => {
        if (this.inFlight.get(key) === request) this.inFlight.delete(key);
        throw e;
      },
    );
    this.inFlight.set(key, request);
    return request;
  }

  /** Keeps `value` as a fresh answer for `key` (a read made for another purpose, e.g. at connect). */
  put<T>(key: string, value: T, sentAt: number = this.now()): void {
    if (this.reuseMs > 0) this.done.set(key, { value, sentAt });
  }

  /** Something changed at the venue through us: nothing read before now is reused. */
  invalidate(): void {
    this.generation++;
    this.done.clear();
    // Later callers must not join a read sent before the change either.
    this.inFlight.clear();
  }
}
