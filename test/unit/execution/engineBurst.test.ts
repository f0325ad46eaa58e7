/**
 * A burst of 10,000 orders submitted at once on a frozen clock, against a submit rate of 100/s (burst
 * 200) and a queue of 2,000: nothing is lost, nothing is sent twice, the queue stays bounded, the
 * audit log holds every command and every denial, and the rate refills as the clock moves.
 */
import assert from 'node:assert/strict';
import type { SubmitResult } from '../../../src/execution/engine';
import { order } from '../paper/helpers';
import { LOOSE, makeRig, type Rig } from './engineHelpers';

const ORDERS = 10_000;
const CAPACITY = 2_000;
const RATE = 100;
const BURST = 200;

const countBy = (results: SubmitResult[], code: string): number =>
  results.filter((r) => r.denial?.code === code).length;

describe('ExecutionEngine burst', function () {
  this.timeout(60_000);
  let rig: Rig | undefined;
  afterEach(async () => rig && (await rig.close()));

  it(`${ORDERS} orders at once: ${BURST} filled, the rest denied by rate or queue, none lost or sent twice, queue bounded, all audited`, async () => {
    rig = await makeRig({ limits: { ...LOOSE, maxOrdersPerSecond: RATE, orderBurst: BURST }, queueCapacity: CAPACITY });
    const { engine, paper, clock } = rig;
    let maxQueued = 0;
    engine.subscribe(() => (maxQueued = Math.max(maxQueued, engine.status().queued)));

    const started = performance.now();
    const pending: Array<Promise<SubmitResult>> = [];
    for (let i = 0; i < ORDERS; i++) {
      pending.push(engine.submitOrder(order('buy', 1), 'paper'));
      maxQueued = Math.max(maxQueued, engine.status().queued);
    }
    const results = await Promise.all(pending);
    const elapsed = performance.now() - started;

    // None lost: every promise resolved, with its own order.
    assert.equal(results.length, ORDERS);
    const ids = results.map((r) => r.order.clientOrderId);
    assert.equal(new Set(ids).size, ORDERS, 'each result is a different order');

    const filled = results.filter((r) => r.order.state === 'FILLED').length;
    const rateLimited = countBy(results, 'RATE_LIMIT_EXCEEDED');
    const queueFull = countBy(results, 'QUEUE_FULL');
    console.log(
      `      burst: orders=${ORDERS} filled=${filled} rate-limited=${rateLimited} queue-full=${queueFull} max-queued=${maxQueued} (capacity ${CAPACITY}) elapsed=${Math.round(elapsed)}ms`,
    );
    assert.equal(filled, BURST);
    assert.equal(queueFull, ORDERS - CAPACITY, 'submitted synchronously, everything beyond the capacity is QUEUE_FULL');
    assert.equal(rateLimited, CAPACITY - BURST);
    assert.equal(
      filled + rateLimited + queueFull,
      ORDERS,
      'every order is filled or denied for rate or queue, nothing else',
    );
    assert.ok(maxQueued <= CAPACITY, `queued ${maxQueued} > capacity ${CAPACITY}`);
    assert.equal(maxQueued, CAPACITY, 'the queue did fill up');
    assert.equal(engine.status().queued, 0);

    // Nothing sent twice: the venue filled 200 orders, each client id once.
    const fills = paper.getFills();
    assert.equal(fills.length, BURST);
    const filledIds = new Set(results.filter((r) => r.order.state === 'FILLED').map((r) => r.order.clientOrderId));
    assert.equal(new Set(fills.map((f) => f.client_order_id)).size, BURST, 'each client id filled at most once');
    for (const f of fills) assert.ok(filledIds.has(f.client_order_id));
    assert.deepEqual(engine.positionsOf('paper'), { AAPL: BURST });

    // The audit log: one SubmitOrder per command, one OrderDenied per denial.
    const records = await rig.auditRecords();
    const submitIds = records
      .filter((r) => r.type === 'SubmitOrder')
      .map((r) => (r.data['command'] as { clientOrderId: string }).clientOrderId);
    assert.equal(submitIds.length, ORDERS);
    assert.equal(new Set(submitIds).size, ORDERS, 'one SubmitOrder record per command');
    const deniedIds = records.filter((r) => r.type === 'OrderDenied').map((r) => r.data['clientOrderId'] as string);
    assert.equal(deniedIds.length, rateLimited + queueFull);
    assert.deepEqual(
      [...deniedIds].sort(),
      results
        .filter((r) => r.denial)
        .map((r) => r.order.clientOrderId)
        .sort(),
      'one OrderDenied record per denial',
    );
    assert.equal(
      records.filter((r) => r.type === 'OrderSubmitted').length,
      BURST,
      'only the admitted orders were sent',
    );

    // A second later the bucket has refilled by exactly the rate.
    clock.advance(1_000);
    const more = await Promise.all(
      Array.from({ length: 2 * RATE }, () => engine.submitOrder(order('buy', 1), 'paper')),
    );
    assert.equal(more.filter((r) => r.order.state === 'FILLED').length, RATE);
    assert.equal(countBy(more, 'RATE_LIMIT_EXCEEDED'), RATE);
    assert.equal(paper.getFills().length, BURST + RATE);
  });
});
