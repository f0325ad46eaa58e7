/**
 * When a compared order (or a compared parent's children) was sent, first acknowledged and last filled, on
 * the monotonic clock, grouped by what `keyOf` makes of each event's client order id (a venue, a parent).
 */
import type { Disposable } from '../brokers/broker';
import { monotonicMs } from '../common/clock';
import type { EngineEvent } from '../execution/events';

export interface LatencyMarks {
  sent?: number;
  acked?: number;
  filled?: number;
}

export function trackLatency(
  engine: { subscribe(listener: (event: EngineEvent) => void): Disposable },
  keyOf: (clientOrderId: string) => string | undefined,
): { readonly marks: Map<string, LatencyMarks>; dispose(): void } {
  const marks = new Map<string, LatencyMarks>();
  const subscription = engine.subscribe((e: EngineEvent) => {
    if (!('clientOrderId' in e)) return;
    const key = keyOf(e.clientOrderId);
    if (key === undefined) return;
    const t = marks.get(key) ?? {};
    const now = monotonicMs();
    if (e.type === 'OrderSubmitted') t.sent ??= now;
    else if (e.type === 'OrderAccepted') t.acked ??= now;
    else if (e.type === 'OrderFilled' || e.type === 'OrderPartiallyFilled') {
      t.acked ??= now;
      t.filled = now;
    }
    marks.set(key, t);
  });
  return { marks, dispose: () => subscription.dispose() };
}
