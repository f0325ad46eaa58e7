/**
 * Test kit: waiting on a venue's order events instead of a timer. A venue that reports on its own (TWS over
 * its socket, a polled venue's timer, the paper venue on a quote) tells its listeners when an order changes.
 * A test reads the order and, until it is what the test waits for, waits for the next such event and reads
 * again. Nothing here sleeps: a venue that never gets there fails by mocha's timeout, not by a guessed delay.
 */
import type { BrokerApi, Disposable, OrderUpdate } from '../../src/brokers/broker';

type Listenable = Pick<BrokerApi, 'onOrderUpdate'>;

export interface PendingUpdate {
  readonly promise: Promise<OrderUpdate>;
  /** Stops listening (the promise then never settles). */
  cancel(): void;
}

/** The next update `broker` emits that `match` accepts (any update by default). */
export function nextUpdate(broker: Listenable, match: (u: OrderUpdate) => boolean = () => true): PendingUpdate {
  let subscription: Disposable | undefined;
  const promise = new Promise<OrderUpdate>((resolve) => {
    subscription = broker.onOrderUpdate((u) => {
      if (!match(u)) return;
      subscription?.dispose();
      resolve(u);
    });
  });
  return { promise, cancel: () => subscription?.dispose() };
}

/**
 * What `read` returns once `done` holds of it: each read is preceded by listening for the next update that
 * `match` accepts, so an update arriving during the read is not missed, and a read that is not yet `done`
 * waits for it.
 */
export async function readUntil<T>(
  broker: Listenable,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  match?: (u: OrderUpdate) => boolean,
): Promise<T> {
  for (;;) {
    const next = nextUpdate(broker, match);
    let value: T;
    try {
      value = await read();
    } catch (e) {
      next.cancel();
      throw e;
    }
    if (done(value)) {
      next.cancel();
      return value;
    }
    await next.promise;
  }
}

/** What `updates` say happened to one order, in order: each fill as `fill <quantity>`, else its status. */
export function eventsOf(updates: readonly OrderUpdate[], orderId: string): string[] {
  return updates
    .filter((u) => u.order.order_id === orderId)
    .map((u) => (u.fill ? `fill ${u.fill.quantity}` : u.order.status.status));
}
