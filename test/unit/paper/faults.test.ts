/**
 * The fault-injecting wrapper against a real paper venue on a test clock (AAPL-like: bid 100.00,
 * ask 100.02), so each fault is checked both from the engine's side and at the venue.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { FaultInjectingBroker, type FaultInjectingBrokerOptions } from '../../../src/brokers/paper/faults';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { FixedQuotes, limit, order } from './helpers';

const START = Date.UTC(2026, 0, 5, 15);

/** The BrokerError a call failed with (fails the test when it did not fail that way). */
async function failure(call: Promise<unknown>): Promise<BrokerError> {
  try {
    await call;
  } catch (e) {
    if (isBrokerError(e)) return e;
    throw e;
  }
  assert.fail('expected the call to fail');
}

describe('FaultInjectingBroker', () => {
  let clock: TestClock;
  let inner: PaperBroker;
  let broker: FaultInjectingBroker;
  let updates: OrderUpdate[];
  const statuses = () => updates.map((u) => u.order.status.status);

  async function setUp(options: FaultInjectingBrokerOptions = {}): Promise<void> {
    clock = new TestClock(START);
    inner = new PaperBroker({ clock, quotes: new FixedQuotes() });
    broker = new FaultInjectingBroker(inner, { clock, ...options });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }
  beforeEach(() => setUp());

  it('passes everything through untouched when no fault is planned', async () => {
    assert.equal(broker.id, inner.id);
    assert.equal(broker.environment, 'paper');
    assert.equal(broker.capabilities, inner.capabilities);
    const r = await broker.submitOrder(order('buy', 10));
    assert.equal(r.status.status, 'filled');
    assert.deepEqual(statuses(), ['submitted', 'filled']);
    assert.deepEqual(await broker.getPositions(), await inner.getPositions());
    assert.equal((await broker.getQuote('AAPL')).ask, 100.02);
    assert.deepEqual(Object.values(broker.stats()), [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('reject: a rejected response and update with the reason; the venue never saw the order', async () => {
    const request = order('buy', 10);
    broker.injectNext('reject', { reason: 'market closed' });
    const r = await broker.submitOrder(request);
    assert.deepEqual(r.status, { status: 'rejected', reason: 'market closed' });
    assert.deepEqual(
      updates.map((u) => u.order.status),
      [{ status: 'rejected', reason: 'market closed' }],
    );
    assert.equal(await inner.getOrderByClientId(request.client_order_id), undefined);
    assert.deepEqual(await inner.getPositions(), []);
    // Looked up like a venue's own refusal, and the id cannot be reused.
    assert.deepEqual((await broker.getOrderByClientId(request.client_order_id))?.status, r.status);
    assert.equal((await broker.getOrderStatus(r.order_id)).client_order_id, request.client_order_id);
    assert.equal((await failure(broker.submitOrder(request))).reason, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.equal(broker.stats().reject, 1);
  });

  it('reject without a reason picks one of rejectReasons', async () => {
    await setUp({ plan: { rejectReasons: ['instrument halted'] } });
    broker.injectNext('reject');
    assert.deepEqual((await broker.submitOrder(order('sell', 1))).status, {
      status: 'rejected',
      reason: 'instrument halted',
    });
  });

  it('errorBeforeSend: VENUE_UNAVAILABLE, retryable, nothing placed; a retry goes through', async () => {
    const request = order('buy', 10);
    broker.injectNext('errorBeforeSend');
    const e = await failure(broker.submitOrder(request));
    assert.equal(e.reason, 'VENUE_UNAVAILABLE');
    assert.equal(e.retryable, true);
    assert.equal(e.outcomeUnknown, false);
    assert.equal(await inner.getOrderByClientId(request.client_order_id), undefined);
    assert.deepEqual(updates, []);
    assert.equal((await broker.submitOrder(request)).status.status, 'filled');
  });

  it('timeoutAfterAccept: TIMEOUT with outcome unknown, yet the order is filled at the venue', async () => {
    const request = order('buy', 10);
    broker.injectNext('timeoutAfterAccept');
    const e = await failure(broker.submitOrder(request));
    assert.equal(e.reason, 'TIMEOUT');
    assert.equal(e.outcomeUnknown, true);
    assert.equal((await inner.getOrderByClientId(request.client_order_id))?.status.status, 'filled');
    assert.equal((await broker.getOrderByClientId(request.client_order_id))?.filled_price, 100.02);
    assert.equal(broker.stats().timeoutAfterAccept, 1);
  });

  it('disconnectMidFill: NETWORK outcome unknown, NOT_CONNECTED until connect(), the fill is not replayed, the order is findable', async () => {
    const request = order('buy', 10);
    broker.injectNext('disconnectMidFill');
    const e = await failure(broker.submitOrder(request));
    assert.equal(e.reason, 'NETWORK');
    assert.equal(e.outcomeUnknown, true);
    assert.equal(broker.isConnected(), false);
    assert.deepEqual(statuses(), ['submitted'], 'the acknowledgement arrived, the fill did not');
    const calls = [
      () => broker.getOrderByClientId(request.client_order_id),
      () => broker.listOpenOrders(),
      () => broker.getPositions(),
      () => broker.getInstrument('AAPL'),
      () => broker.submitOrder(order('buy', 1)),
    ];
    for (const call of calls) assert.equal((await failure(call())).reason, 'NOT_CONNECTED');
    // The venue carries on while the link is down: another order fills there, and nobody is told.
    broker.injectNext('timeoutAfterAccept'); // queued, must survive the outage untouched
    const resting = await inner.submitOrder(order('buy', 5, limit(100.02)));
    assert.equal(resting.status.status, 'filled');
    assert.deepEqual(statuses(), ['submitted']);
    await broker.connect();
    assert.equal(broker.isConnected(), true);
    assert.deepEqual(statuses(), ['submitted'], 'nothing is replayed on reconnect');
    assert.equal((await broker.getOrderByClientId(request.client_order_id))?.status.status, 'filled');
    assert.equal(broker.stats().disconnectMidFill, 1);
    assert.equal(broker.stats().droppedUpdates, 3);
    assert.equal((await failure(broker.submitOrder(order('buy', 1)))).reason, 'TIMEOUT');
  });

  it('disconnectMidFill on a resting order: the link drops after the acknowledgement', async () => {
    const request = order('buy', 10, limit(99));
    broker.injectNext('disconnectMidFill');
    assert.equal((await failure(broker.submitOrder(request))).reason, 'NETWORK');
    assert.deepEqual(statuses(), ['submitted']);
    await broker.connect();
    assert.equal((await broker.getOrderByClientId(request.client_order_id))?.status.status, 'submitted');
  });

  it('duplicateAck: every update of that order arrives twice, later ones too; other orders once', async () => {
    broker.injectNext('duplicateAck');
    const r = await broker.submitOrder(order('buy', 10, limit(99)));
    await broker.cancelOrder(r.order_id);
    await broker.submitOrder(order('buy', 1));
    assert.deepEqual(statuses(), ['submitted', 'submitted', 'cancelled', 'cancelled', 'submitted', 'filled']);
    assert.equal(updates[0], updates[1]);
    assert.equal(broker.stats().duplicateAck, 1);
  });

  it('outOfOrderAck: the fill update arrives before the acknowledgement; other orders keep their order', async () => {
    broker.injectNext('outOfOrderAck');
    const r = await broker.submitOrder(order('buy', 10));
    assert.equal(r.status.status, 'filled');
    assert.deepEqual(statuses(), ['filled', 'submitted']);
    assert.equal(updates[0]?.fill?.price, 100.02);
    updates = [];
    await broker.submitOrder(order('buy', 1));
    assert.deepEqual(statuses(), ['submitted', 'filled']);
  });

  it('cancelTimeout: TIMEOUT with outcome unknown, yet the order is cancelled at the venue', async () => {
    const r = await broker.submitOrder(order('buy', 10, limit(99)));
    broker.injectNextCancel('cancelTimeout');
    const e = await failure(broker.cancelOrder(r.order_id));
    assert.equal(e.reason, 'TIMEOUT');
    assert.equal(e.outcomeUnknown, true);
    assert.equal((await inner.getOrderStatus(r.order_id)).status.status, 'cancelled');
    assert.deepEqual(statuses(), ['submitted', 'cancelled']);
    assert.equal(broker.stats().cancelTimeout, 1);
  });

  it('scripted faults apply first in first out, one order each', async () => {
    broker.injectNext('errorBeforeSend').injectNext('reject', { reason: 'insufficient margin' });
    assert.equal((await failure(broker.submitOrder(order('buy', 1)))).reason, 'VENUE_UNAVAILABLE');
    assert.equal((await broker.submitOrder(order('buy', 1))).status.status, 'rejected');
    assert.equal((await broker.submitOrder(order('buy', 1))).status.status, 'filled');
  });

  /** What happened to each of `n` orders under a random plan, as the engine sees it. */
  async function outcomes(seed: number, n: number): Promise<string[]> {
    await setUp({
      plan: {
        seed,
        reject: 0.2,
        errorBeforeSend: 0.2,
        timeoutAfterAccept: 0.2,
        duplicateAck: 0.2,
        rejectReasons: ['a', 'b'],
      },
    });
    const seen: string[] = [];
    for (let i = 0; i < n; i++) {
      updates = [];
      try {
        const r = await broker.submitOrder(order('buy', 1));
        seen.push(
          r.status.status === 'rejected' ? `reject:${r.status.reason}` : updates.length === 4 ? 'duplicate' : 'clean',
        );
      } catch (e) {
        seen.push(isBrokerError(e) ? e.reason : String(e));
      }
    }
    return seen;
  }

  it('a seeded random plan gives the same faults for the same seed, and others for another seed', async () => {
    const first = await outcomes(42, 40);
    const stats = broker.stats();
    const again = await outcomes(42, 40);
    assert.deepEqual(again, first);
    assert.deepEqual(broker.stats(), stats);
    assert.notDeepEqual(await outcomes(7, 40), first);
    for (const kind of ['reject:a', 'reject:b', 'VENUE_UNAVAILABLE', 'TIMEOUT', 'duplicate', 'clean'])
      assert.ok(first.includes(kind), `${kind} in ${first.join()}`);
    assert.equal(
      stats.reject +
        stats.errorBeforeSend +
        stats.timeoutAfterAccept +
        stats.duplicateAck +
        first.filter((o) => o === 'clean').length,
      40,
    );
  });

  it('latency: every call waits fixed + jitter ms through the injected sleep before reaching the venue', async () => {
    const slept: number[] = [];
    let seenByVenue = 0;
    await setUp({
      plan: { latencyMs: { fixed: 50, jitter: 10 } },
      sleep: async (ms) => {
        slept.push(ms);
        seenByVenue = inner.getCashBalances()['USD'] === 100_000 ? seenByVenue : seenByVenue + 1;
      },
    });
    await broker.submitOrder(order('buy', 10));
    await broker.getPositions();
    await broker.getQuote('AAPL');
    assert.equal(slept.length, 3);
    assert.ok(
      slept.every((ms) => ms >= 50 && ms <= 60 && Number.isInteger(ms)),
      slept.join(),
    );
    assert.equal(seenByVenue, 2, 'the submit slept before the venue filled it; the two later calls slept after');
    // The jitter is seeded too: the same calls wait the same times again.
    const first = slept.splice(0);
    await setUp({ plan: { latencyMs: { fixed: 50, jitter: 10 } }, sleep: async (ms) => void slept.push(ms) });
    await broker.submitOrder(order('buy', 10));
    await broker.getPositions();
    await broker.getQuote('AAPL');
    assert.deepEqual(slept, first);
  });

  it('latency of 0 never sleeps; clearFaults stops latency and queued faults', async () => {
    let sleeps = 0;
    const sleep = async (): Promise<void> => {
      sleeps++;
    };
    await setUp({ plan: { latencyMs: { fixed: 0 } }, sleep });
    await broker.submitOrder(order('buy', 1));
    assert.equal(sleeps, 0);
    await setUp({ plan: { latencyMs: { fixed: 5 }, errorBeforeSend: 1 }, sleep });
    broker.injectNext('reject');
    broker.clearFaults();
    assert.equal((await broker.submitOrder(order('buy', 1))).status.status, 'filled');
    assert.equal(sleeps, 0);
  });

  it('refuses a plan whose probabilities add up to more than 1', () => {
    assert.throws(() => new FaultInjectingBroker(inner, { plan: { reject: 0.6, errorBeforeSend: 0.6 } }), RangeError);
    assert.throws(() => new FaultInjectingBroker(inner, { plan: { duplicateAck: -0.1 } }), RangeError);
  });
});

describe('PaperBroker.faults (the switch a user flips on the running venue)', () => {
  it('rejectNext, disconnect until connected again, latency; off by default, and clear turns it off', async () => {
    const clock = new TestClock(START);
    const slept: number[] = [];
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), sleep: async (ms) => void slept.push(ms) });
    await paper.connect();
    const updates: OrderUpdate[] = [];
    paper.onOrderUpdate((u) => updates.push(u));
    assert.deepEqual(paper.faults.state(), { disconnected: false, rejectsQueued: 0, latencyMs: null });

    paper.faults.rejectNext('market closed');
    assert.equal(paper.faults.state().rejectsQueued, 1);
    const rejected = await paper.submitOrder(order('buy', 10));
    assert.deepEqual(rejected.status, { status: 'rejected', reason: 'market closed' });
    assert.equal(
      (await paper.getOrderByClientId(rejected.client_order_id))?.status.status,
      'rejected',
      'looked up as a venue would',
    );
    assert.deepEqual(paper.getCashBalances(), { USD: 100_000 }, 'the account never saw it');
    assert.equal((await paper.submitOrder(order('buy', 10))).status.status, 'filled', 'only the next one');

    paper.faults.disconnect();
    assert.equal(paper.isConnected(), false);
    assert.equal((await failure(paper.submitOrder(order('buy', 1)))).reason, 'NOT_CONNECTED');
    assert.equal((await failure(paper.getAccountInfo())).reason, 'NOT_CONNECTED');
    await paper.connect();
    assert.equal(paper.isConnected(), true);
    assert.equal((await paper.getPositions())[0]?.quantity, 10);

    paper.faults.setLatency(250, 50);
    assert.deepEqual(paper.faults.state().latencyMs, { fixed: 250, jitter: 50 });
    await paper.getQuote('AAPL');
    assert.equal(slept.length, 1);
    assert.ok((slept[0] as number) >= 250 && (slept[0] as number) <= 300);
    paper.faults.clear();
    assert.deepEqual(paper.faults.state(), { disconnected: false, rejectsQueued: 0, latencyMs: null });
    await paper.getQuote('AAPL');
    assert.equal(slept.length, 1, 'no latency once cleared');
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['rejected', 'submitted', 'filled'],
    );
  });
});
