/**
 * Test kit (no product path uses it: the paper venue trades on the synthetic feed or recorded data).
 * Paper fills against real prices: a `QuoteSource` fed by a connected broker's quotes. The paper venue
 * asks for quotes synchronously, so this keeps the latest quote of each symbol it has been asked
 * about, refreshed from the broker every `refreshMs` while started; a symbol seen for the first time
 * is fetched with `prime()` before trading it. A quote older than `maxAgeMs` is refused rather than
 * traded on: a paper fill at a stale price would be the kind of lie this venue exists to avoid.
 */
import type { Clock } from '../../src/common/clock';
import type { Quote } from '../../src/orders/model';
import type { BrokerApi } from '../../src/brokers/broker';
import { BrokerError } from '../../src/brokers/errors';
import type { QuoteSource } from '../../src/brokers/paper/feed';

export interface LiveQuoteOptions {
  clock: Clock;
  /** How often subscribed symbols are refreshed while started. Default 1000 ms. */
  refreshMs?: number;
  /** A quote older than this (by the clock) is refused. Default 10 000 ms. */
  maxAgeMs?: number;
  onError?: (message: string, error: unknown) => void;
}

export class LiveQuoteSource implements QuoteSource {
  private readonly latest = new Map<string, { quote: Quote; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private readonly refreshMs: number;
  private readonly maxAgeMs: number;

  constructor(
    private readonly broker: BrokerApi,
    private readonly options: LiveQuoteOptions,
  ) {
    this.refreshMs = options.refreshMs ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 10_000;
  }

  /** Fetches the current quote of each symbol now (and keeps refreshing them while started). */
  async prime(symbols: readonly string[]): Promise<void> {
    for (const symbol of symbols) await this.fetch(symbol);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  quote(symbol: string, atMs: number): Quote {
    const entry = this.latest.get(symbol);
    if (!entry) {
      throw new BrokerError(
        'VENUE_UNAVAILABLE',
        `no ${this.broker.displayName} quote for ${symbol} yet: the paper venue trades it once a real price has arrived`,
        {
          retryable: true,
        },
      );
    }
    const age = atMs - entry.at;
    if (age > this.maxAgeMs) {
      throw new BrokerError(
        'VENUE_UNAVAILABLE',
        `the last ${this.broker.displayName} quote for ${symbol} is ${Math.round(age / 1000)} s old; refusing to fill on a stale price`,
        {
          retryable: true,
        },
      );
    }
    return { ...entry.quote, timestamp: entry.at };
  }

  private async fetch(symbol: string): Promise<void> {
    const quote = await this.broker.getQuote(symbol);
    this.latest.set(symbol, { quote, at: this.options.clock.now() });
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      for (const symbol of this.latest.keys()) {
        try {
          await this.fetch(symbol);
        } catch (e) {
          this.options.onError?.(
            `could not refresh the ${this.broker.displayName} quote for ${symbol}: ${(e as Error).message}`,
            e,
          );
        }
      }
    } finally {
      this.refreshing = false;
    }
  }
}
