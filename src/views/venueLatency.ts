/**
 * Each venue's latency as a trader feels it: the time from an order being sent to the venue's first
 * answer about it (acknowledged, filled or rejected), read off the engine's own events, so that it costs
 * the venue nothing and measures the path orders really take. No `vscode` here.
 */
import type { EngineEvent } from '../execution/events';

const SAMPLES = 20;
const PENDING_LIMIT = 1024;

export interface VenueLatency {
  /** The last order's send → first answer, ms. */
  readonly lastMs: number;
  /** Median of the last (up to 20) orders, ms. */
  readonly medianMs: number;
  readonly samples: number;
  /** When the last answer came (ms since 1970). */
  readonly at: number;
}

export class VenueLatencies {
  private readonly sent = new Map<string, { venue: string; at: number }>();
  private readonly samples = new Map<string, number[]>();
  private readonly last = new Map<string, { ms: number; at: number }>();

  /** Reads one engine event; true when a venue's latency changed. */
  observe(e: EngineEvent): boolean {
    if (e.type === 'OrderSubmitted') {
      if (this.sent.size >= PENDING_LIMIT) this.sent.clear();
      this.sent.set(e.clientOrderId, { venue: e.venue, at: e.at });
      return false;
    }
    if (
      e.type !== 'OrderAccepted' &&
      e.type !== 'OrderFilled' &&
      e.type !== 'OrderPartiallyFilled' &&
      e.type !== 'OrderRejected'
    )
      return false;
    const sent = this.sent.get(e.clientOrderId);
    if (!sent || sent.venue !== e.venue) return false;
    this.sent.delete(e.clientOrderId);
    const ms = Math.max(0, e.at - sent.at);
    const list = this.samples.get(e.venue) ?? [];
    list.push(ms);
    if (list.length > SAMPLES) list.shift();
    this.samples.set(e.venue, list);
    this.last.set(e.venue, { ms, at: e.at });
    return true;
  }

  of(venue: string): VenueLatency | undefined {
    const list = this.samples.get(venue);
    const last = this.last.get(venue);
    if (!list || list.length === 0 || !last) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median =
      sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return { lastMs: last.ms, medianMs: Math.round(median), samples: list.length, at: last.at };
  }
}

/** "84 ms" / "1.2 s". */
export const formatLatency = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
