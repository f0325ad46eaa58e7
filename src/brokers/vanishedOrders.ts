/**
 * One step of every polled venue's poll (OANDA, Alpaca, Binance): the orders the tracker last saw working that
 * the venue's open-order list no longer holds ended somehow (filled, cancelled, expired), and each is looked up
 * on its own to learn how. One look-up that fails does not keep the others' fills from being reported: it is
 * said and asked again at the next poll, unless the failure ends the round (the venue asked for quiet).
 */
import type { OrderTracker } from './orderTracker';

export interface VanishedOrderLookUps {
  /**
   * Looks one order up (its answer goes through the tracker); 'gone' when the venue no longer knows the order,
   * which is then no longer followed.
   */
  lookUp(orderId: string): Promise<'seen' | 'gone'>;
  /** Says that the look-up of an order failed (it is asked again at the next poll). */
  report(orderId: string, error: unknown): void;
  /** A failure after which the round stops and the failure is thrown (e.g. the venue asked for quiet). */
  endsRound?(error: unknown): boolean;
  /** Asked before each look-up: false stops the round quietly (the adapter was disconnected). */
  goOn?(): boolean;
}

/** Looks up, one by one, each order the tracker follows as working that is not in `listed` (the venue's open orders). */
export async function lookUpVanishedOrders(
  tracker: OrderTracker,
  listed: ReadonlySet<string>,
  how: VanishedOrderLookUps,
): Promise<void> {
  for (const id of tracker.openOrderIds()) {
    if (listed.has(id)) continue;
    if (how.goOn && !how.goOn()) return;
    let outcome: 'seen' | 'gone';
    try {
      outcome = await how.lookUp(id);
    } catch (e) {
      if (how.endsRound?.(e) === true) throw e;
      how.report(id, e);
      continue;
    }
    if (outcome === 'gone') tracker.forget(id);
  }
}
