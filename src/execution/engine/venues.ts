/** The venues the engine trades at, by broker profile id, each with its update subscription. */
import type { BrokerApi, Disposable, OrderUpdate } from '../../brokers/broker';
import { BrokerError } from '../../brokers/errors';

export class VenueRegistry {
  private readonly brokers: Map<string, BrokerApi>;
  /** Each venue's update subscription, so that a removed venue stops reporting. */
  private readonly subscriptions = new Map<string, Disposable>();

  constructor(
    brokers: ReadonlyMap<string, BrokerApi> | Record<string, BrokerApi>,
    private readonly onUpdate: (venue: string, update: OrderUpdate) => void,
  ) {
    this.brokers = new Map<string, BrokerApi>(
      brokers instanceof Map ? [...(brokers as ReadonlyMap<string, BrokerApi>)] : Object.entries(brokers),
    );
    for (const [id, broker] of this.brokers) this.subscribe(id, broker);
  }

  get(venue: string): BrokerApi | undefined {
    return this.brokers.get(venue);
  }

  has(venue: string): boolean {
    return this.brokers.has(venue);
  }

  must(venue: string): BrokerApi {
    const b = this.brokers.get(venue);
    if (!b) throw new BrokerError('INTERNAL', `no broker profile named ${venue}`);
    return b;
  }

  ids(): string[] {
    return [...this.brokers.keys()];
  }

  entries(): Array<[string, BrokerApi]> {
    return [...this.brokers];
  }

  add(id: string, broker: BrokerApi): void {
    if (this.brokers.has(id))
      throw new BrokerError('INTERNAL', `a broker profile named ${id} is already registered; remove it first`);
    this.brokers.set(id, broker);
    this.subscribe(id, broker);
  }

  remove(id: string): void {
    this.subscriptions.get(id)?.dispose();
    this.subscriptions.delete(id);
    this.brokers.delete(id);
  }

  /** Stops listening to every venue (they stay connected: they are their owner's). */
  close(): void {
    for (const s of this.subscriptions.values()) s.dispose();
    this.subscriptions.clear();
  }

  private subscribe(id: string, broker: BrokerApi): void {
    this.subscriptions.set(
      id,
      broker.onOrderUpdate((u) => this.onUpdate(id, u)),
    );
  }
}
