/**
 * Test kit: a fake TWS (test/fakes/ib) with its quotes set and the real IbBroker connected to it, every update it
 * emits collected. `connectToFakeTws` makes one; `fakeTwsPerTest` registers mocha hooks that make one before each
 * test and close it after, handing it to the suite through `use` (call it inside `describe`).
 */
import type { OrderUpdate } from '../../src/brokers/broker';
import { IbBroker, type IbBrokerOptions } from '../../src/brokers/ib/adapter';
import { startFakeTws, type FakeTws, type FakeTwsOptions } from '../fakes/ib/server';

export interface TwsRig {
  readonly fake: FakeTws;
  readonly broker: IbBroker;
  /** Every update the broker emitted, in order. */
  readonly updates: OrderUpdate[];
}

export interface TwsRigOptions {
  /** The broker's `clientId` (TWS refuses two connections with one id). */
  readonly clientId: number;
  /** The broker's request timeout (default 1 000 ms). */
  readonly timeoutMs?: number;
  /** Bid and ask the fake quotes, by symbol (default AAPL 99 / 101). */
  readonly quotes?: Readonly<Record<string, readonly [number, number]>>;
  readonly fake?: FakeTwsOptions;
  /** More broker options (a commission wait, an onError that records). Failures nobody awaits are dropped otherwise. */
  readonly broker?: Partial<IbBrokerOptions>;
}

export async function connectToFakeTws(options: TwsRigOptions): Promise<TwsRig> {
  const fake = await startFakeTws(options.fake ?? {});
  for (const [symbol, [bid, ask]] of Object.entries(options.quotes ?? { AAPL: [99, 101] }))
    fake.setQuote(symbol, bid, ask);
  const broker = new IbBroker({
    host: fake.host,
    port: fake.port,
    clientId: options.clientId,
    timeoutMs: options.timeoutMs ?? 1000,
    connectTimeoutMs: 1000,
    onError: () => undefined,
    ...options.broker,
  });
  const updates: OrderUpdate[] = [];
  broker.onOrderUpdate((u) => updates.push(u));
  await broker.connect();
  return { fake, broker, updates };
}

export async function closeTwsRig(rig: TwsRig | undefined): Promise<void> {
  if (!rig) return;
  await rig.broker.disconnect();
  await rig.fake.close();
}

/** A new rig before each test of the suite, closed after it. */
export function fakeTwsPerTest(options: TwsRigOptions, use: (rig: TwsRig) => void): void {
  let rig: TwsRig | undefined;
  beforeEach(async () => {
    rig = await connectToFakeTws(options);
    use(rig);
  });
  afterEach(async () => {
    await closeTwsRig(rig);
    rig = undefined;
  });
}
