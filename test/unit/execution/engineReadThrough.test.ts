/**
 * Read-through of the execution core (rt-engine18): each case here failed before its fix, through the engine's public
 * API, against the real paper venue (behind `delegatingBroker` where a venue that answers through promises is meant).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { delegatingBroker, type BrokerApi, type OrderUpdate } from '../../../src/brokers/broker';
import { BrokerError } from '../../../src/brokers/errors';
import { AuditLog, tailAudit } from '../../../src/execution/audit/auditLog';
import { AuditDigest } from '../../../src/execution/auditDigest';
import { ExecutionEngine } from '../../../src/execution/engine';
import { FixedQuotes, gtd, limit, order } from '../paper/helpers';
import { orderResponseOf } from '../../../src/execution/orderState';
import { LOOSE } from './engineHelpers';

interface TwoVenues {
  readonly dir: string;
  readonly audit: AuditLog;
  readonly clock: TestClock;
  readonly engine: ExecutionEngine;
  readonly first: PaperBroker;
  readonly second: PaperBroker;
  close(): Promise<void>;
}

/** An engine over two paper accounts, each answering through promises (a venue across a network). */
async function twoVenues(wrap: (inner: BrokerApi) => BrokerApi = (b) => delegatingBroker(b, {})): Promise<TwoVenues> {
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-readthrough-'));
  const clock = new TestClock();
  const quotes = new FixedQuotes();
  const first = new PaperBroker({ clock, quotes, startingCash: 1e9 });
  const second = new PaperBroker({ clock, quotes, startingCash: 1e9 });
  const { log } = await AuditLog.open(join(dir, 'audit'), { clock });
  const engine = new ExecutionEngine({
    clock,
    brokers: { one: wrap(first), two: wrap(second) },
    audit: log,
    limits: LOOSE,
    tradingStateFile: join(dir, 'trading-state.json'),
    ordersFile: join(dir, 'working-orders.json'),
    reconcileDelayMs: 2,
  });
  await engine.connect('one');
  await engine.connect('two');
  return {
    dir,
    audit: log,
    clock,
    engine,
    first,
    second,
    async close() {
      await engine.close();
      await log.close();
      await first.disconnect();
      await second.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('engine read-through (rt-engine18)', function () {
  this.timeout(20_000);

  it('one client order id submitted to two venues at once is sent once; the other is a duplicate', async () => {
    const rig = await twoVenues();
    try {
      const o = order('buy', 5);
      // Two lanes (two venues): their checks wait on each venue's quote side by side.
      const [a, b] = await Promise.all([rig.engine.submitOrder(o, 'one'), rig.engine.submitOrder({ ...o }, 'two')]);
      assert.deepEqual(
        [a.denial?.code, b.denial?.code],
        [undefined, 'DUPLICATE_CLIENT_ORDER_ID'],
        'the first holds the id; the second is refused as a retry would be',
      );
      assert.equal(a.order.venue, 'one');
      assert.equal(a.order.state, 'FILLED');
      assert.deepEqual(await rig.second.getPositions(), [], 'nothing reached the second venue');
      // The engine's books follow the venue that has the order.
      assert.deepEqual(rig.engine.positionsOf('one'), { AAPL: 5 });
      assert.deepEqual(rig.engine.positionsOf('two'), {});
      assert.equal(rig.engine.getOrder(o.client_order_id)?.venue, 'one');
      assert.deepEqual(rig.engine.externalOrders(), []);
    } finally {
      await rig.close();
    }
  });

  it('a venue client that throws (not a BrokerError) after the venue took the order leaves it unconfirmed and looked up', async () => {
    let placed = 0;
    // A REST venue (no stream) whose client fails reading the reply of a submit the venue has taken.
    const rig = await twoVenues((inner) => ({
      ...delegatingBroker(inner, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      submitOrder: async (o) => {
        await inner.submitOrder(o);
        placed++;
        throw new TypeError("Cannot read properties of undefined (reading 'id')");
      },
    }));
    try {
      const o = order('buy', 5);
      const result = await rig.engine.submitOrder(o, 'one');
      assert.equal(placed, 1);
      assert.equal(result.denial, undefined);
      assert.ok(
        ['UNCONFIRMED', 'FILLED'].includes(result.order.state),
        `the venue may have it: ${result.order.state} ${result.order.reason ?? ''}`,
      );
      const final = await rig.engine.waitForFinal(o.client_order_id, 5000);
      assert.equal(final?.state, 'FILLED', 'looked up by its client order id and found filled');
      assert.equal(placed, 1, 'never resent');
      assert.deepEqual(rig.engine.positionsOf('one'), { AAPL: 5 });
      assert.equal(rig.engine.status().workingOrders, 0);
    } finally {
      await rig.close();
    }
  });

  it('a cancel of an order the venue has not answered for keeps it unconfirmed, and it ends as never arrived', async () => {
    // Binance-like: a request older than its window can no longer reach the venue (absenceConclusiveAfterMs).
    const rig = await twoVenues((inner) => ({
      ...delegatingBroker(inner, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      absenceConclusiveAfterMs: 30_000,
      // The request is lost on the way: the venue never sees it.
      submitOrder: () => Promise.reject(new BrokerError('TIMEOUT', 'no answer in 10 s', { outcomeUnknown: true })),
    }));
    try {
      const o = order('buy', 10, limit(95));
      const sent = await rig.engine.submitOrder(o, 'one');
      assert.equal(sent.order.state, 'UNCONFIRMED');
      // Cancelled within the window: the venue has no record of it yet, which proves nothing.
      const after = await rig.engine.cancel(o.client_order_id);
      assert.notEqual(after.state, 'ACCEPTED', `the venue never acknowledged it: ${after.reason ?? ''}`);
      assert.equal(after.state, 'UNCONFIRMED');
      rig.clock.advance(31_000);
      const looked = await rig.engine.reconcileOrder(o.client_order_id);
      assert.equal(looked?.state, 'REJECTED', `past the window it never arrived: ${looked?.reason ?? ''}`);
      assert.match(looked?.reason ?? '', /NEVER_ARRIVED/);
      assert.deepEqual(rig.engine.workingOrders(), []);
    } finally {
      await rig.close();
    }
  });

  it('a wait for an order to finish settles when the engine closes, with the order as it is', async () => {
    const rig = await twoVenues();
    try {
      const o = order('buy', 10, limit(95));
      assert.equal((await rig.engine.submitOrder(o, 'one')).order.state, 'ACCEPTED');
      const waiting = rig.engine.waitForFinal(o.client_order_id, 3_600_000);
      await rig.engine.close();
      const outcome = await Promise.race([
        waiting.then((r) => r?.state),
        new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500)),
      ]);
      assert.equal(outcome, 'ACCEPTED');
    } finally {
      await rig.close();
    }
  });

  it('closing while a submit is at the venue records its answer, and leaves the folder trading', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let atVenue = 0;
    const rig = await twoVenues((inner) => ({
      ...delegatingBroker(inner, {}),
      submitOrder: async (o) => {
        atVenue++;
        await held;
        return inner.submitOrder(o);
      },
    }));
    const dir = rig.dir;
    try {
      const o = order('buy', 5);
      const submitted = rig.engine.submitOrder(o, 'one');
      while (atVenue === 0) await new Promise((r) => setTimeout(r, 1));
      // The session closes (the editor shutting down) while the venue is still answering.
      const closing = rig.engine.close();
      setTimeout(release, 30);
      await closing;
      await rig.audit.close();
      const result = await submitted;
      assert.equal(result.order.state, 'FILLED');
      await new Promise((r) => setTimeout(r, 50));
      const records = await tailAudit(join(dir, 'audit'), 1000);
      assert.ok(
        records.some((r) => r.type === 'OrderFilled' && r.data['clientOrderId'] === o.client_order_id),
        `the fill is in the log: ${records.map((r) => r.type).join(', ')}`,
      );
      const stateFile = join(dir, 'trading-state.json');
      const state = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : 'no trading state saved';
      assert.doesNotMatch(state, /HALTED/, 'the closed log did not halt the folder');
    } finally {
      release();
      await rig.close();
    }
  });

  it('a look-up answered after the engine and its log closed changes no file of the folder', async () => {
    let release: () => void = () => undefined;
    let hold = false;
    const held = new Promise<void>((resolve) => (release = resolve));
    const rig = await twoVenues((inner) => ({
      // No stream: the look-up is what tells the engine of the cancel.
      ...delegatingBroker(inner, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      getOrderByClientId: async (id, hint) => {
        if (hold) await held;
        return inner.getOrderByClientId(id, hint);
      },
    }));
    const dir = rig.dir;
    try {
      const o = order('buy', 10, limit(95));
      assert.equal((await rig.engine.submitOrder(o, 'one')).order.state, 'ACCEPTED');
      await rig.first.cancelOrder((await rig.first.listOpenOrders())[0]?.order_id ?? '');
      hold = true;
      const looking = rig.engine.reconcileOrder(o.client_order_id);
      await rig.engine.close();
      await rig.audit.close();
      const ordersFile = join(dir, 'working-orders.json');
      const listed = readFileSync(ordersFile, 'utf8');
      assert.match(listed, new RegExp(o.client_order_id));
      release();
      assert.equal((await looking)?.state, 'CANCELLED');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(readFileSync(ordersFile, 'utf8'), listed, 'the working-orders file is not written after close');
      const stateFile = join(dir, 'trading-state.json');
      const state = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : 'no trading state saved';
      assert.doesNotMatch(state, /HALTED/, 'a closed engine leaves the folder as it was');
    } finally {
      release();
      await rig.close();
    }
  });

  it('a look-up whose venue client throws (not a BrokerError) is a failed look-up: recorded, asked again, no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    // Mocha's own listener would fail the run elsewhere; this test takes them while it runs.
    const others = process.listeners('unhandledRejection');
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', onUnhandled);
    let lookUps = 0;
    const rig = await twoVenues((inner) => ({
      ...delegatingBroker(inner, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      // The venue takes the order; its reply is lost.
      submitOrder: async (o) => {
        await inner.submitOrder(o);
        throw new BrokerError('TIMEOUT', 'no answer in 10 s', { outcomeUnknown: true });
      },
      // The first look-up's reply cannot be read by the client; the next one can.
      getOrderByClientId: async (id, hint) => {
        if (++lookUps === 1) throw new TypeError("Cannot read properties of undefined (reading 'status')");
        return inner.getOrderByClientId(id, hint);
      },
    }));
    try {
      const o = order('buy', 5);
      assert.equal((await rig.engine.submitOrder(o, 'one')).order.state, 'UNCONFIRMED');
      const final = await rig.engine.waitForFinal(o.client_order_id, 5000);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled.map(String), []);
      assert.equal(final?.state, 'FILLED', 'asked again after the failed look-up, and found filled');
      assert.ok(lookUps >= 2);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      for (const l of others) process.on('unhandledRejection', l);
      await rig.close();
    }
  });

  it('after a restart, an order whose cancel found no record of it at the venue is still unconfirmed, and ends as never arrived', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-readthrough-restart-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    // Binance-like (absenceConclusiveAfterMs); the submit is lost on the way, the venue never sees it.
    const venue: BrokerApi = {
      ...delegatingBroker(paper, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      absenceConclusiveAfterMs: 30_000,
      submitOrder: () => Promise.reject(new BrokerError('TIMEOUT', 'no answer in 10 s', { outcomeUnknown: true })),
    };
    const open = async (): Promise<{ engine: ExecutionEngine; log: AuditLog }> => {
      const digest = new AuditDigest();
      const { log } = await AuditLog.open(join(dir, 'audit'), { clock, visit: digest.visit });
      const engine = new ExecutionEngine({ clock, brokers: { one: venue }, audit: log, limits: LOOSE, digest });
      await engine.connect('one');
      return { engine, log };
    };
    let { engine, log } = await open();
    try {
      const o = order('buy', 10, limit(95));
      assert.equal((await engine.submitOrder(o, 'one')).order.state, 'UNCONFIRMED');
      assert.equal((await engine.cancel(o.client_order_id)).state, 'UNCONFIRMED');
      await engine.close();
      await log.close();
      ({ engine, log } = await open());
      assert.equal(engine.getOrder(o.client_order_id)?.state, 'UNCONFIRMED', 'the log says the venue never answered');
      clock.advance(31_000);
      const looked = await engine.reconcileOrder(o.client_order_id);
      assert.equal(looked?.state, 'REJECTED', `past the window it never arrived: ${looked?.reason ?? ''}`);
      assert.deepEqual(engine.workingOrders(), []);
    } finally {
      await engine.close();
      await log.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cancel whose venue client throws (not a BrokerError) after the venue cancelled is looked up, and ends CANCELLED', async () => {
    const rig = await twoVenues((inner) => ({
      ...delegatingBroker(inner, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      cancelOrder: async (id) => {
        await inner.cancelOrder(id);
        throw new TypeError("Cannot read properties of undefined (reading 'orderCancelTransaction')");
      },
    }));
    try {
      const o = order('buy', 10, limit(95));
      assert.equal((await rig.engine.submitOrder(o, 'one')).order.state, 'ACCEPTED');
      await assert.rejects(rig.engine.cancel(o.client_order_id), /orderCancelTransaction/);
      const final = await rig.engine.waitForFinal(o.client_order_id, 5000);
      assert.equal(final?.state, 'CANCELLED', 'looked up after the client failed, and found cancelled');
      assert.deepEqual(rig.engine.workingOrders(), []);
    } finally {
      await rig.close();
    }
  });

  it('closing does not wait for ever on a venue that never answers a submit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-readthrough-hung-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    // A client that lost its connection and never settles what it had in flight.
    const venue: BrokerApi = { ...delegatingBroker(paper, {}), submitOrder: () => new Promise(() => undefined) };
    const { log } = await AuditLog.open(join(dir, 'audit'), { clock });
    const engine = new ExecutionEngine({ clock, brokers: { one: venue }, audit: log, limits: LOOSE, closeWaitMs: 50 });
    try {
      await engine.connect('one');
      void engine.submitOrder(order('buy', 5), 'one');
      await new Promise((r) => setTimeout(r, 20));
      const closed = await Promise.race([
        engine.close().then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still closing'), 2000)),
      ]);
      assert.equal(closed, 'closed');
    } finally {
      await log.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the emergency flatten closes a position the engine did not see open (traded at the venue directly)', async () => {
    const rig = await twoVenues();
    try {
      // The trader bought at the venue itself (its own app): the engine reconciled before, and knows nothing of it.
      await rig.first.submitOrder(order('buy', 5));
      assert.deepEqual(
        (await rig.first.getPositions()).map((p) => [p.symbol, p.quantity]),
        [['AAPL', 5]],
      );
      const report = await rig.engine.emergencyStop({ reason: 'test', flatten: true });
      assert.deepEqual(report.failed, []);
      assert.deepEqual(await rig.first.getPositions(), [], 'flat at the venue');
    } finally {
      await rig.close();
    }
  });

  it('a cancelled GTD order the venue then calls expired (IB: "Cancelled" read after its expiry) stays CANCELLED, refusing nothing', async () => {
    let tell: ((update: OrderUpdate) => void) | undefined;
    let wrapped = 0;
    const rig = await twoVenues((inner) => {
      const first = wrapped++ === 0;
      return {
        ...delegatingBroker(inner, {}),
        onOrderUpdate: (listener) => {
          if (first) tell = listener;
          return inner.onOrderUpdate(listener);
        },
      };
    });
    const refused: unknown[] = [];
    rig.engine.subscribe((e) => {
      if (e.type === 'TransitionRefused') refused.push(e);
    });
    try {
      // src/brokers/ib/orders.ts statusFromIb: TWS's "Cancelled" of a GTD order reads as expired once its time passed.
      const expiresAt = rig.clock.now() + 60_000;
      const o = order('buy', 10, limit(95), gtd(expiresAt));
      assert.equal((await rig.engine.submitOrder(o, 'one')).order.state, 'ACCEPTED');
      const cancelled = await rig.engine.cancel(o.client_order_id);
      assert.equal(cancelled.state, 'CANCELLED');
      // The same end heard again after the expiry (a reconnect's replay of the order's status).
      assert.ok(tell, "the engine follows the venue's updates");
      const view = orderResponseOf(cancelled);
      tell?.({ order: { ...view, status: { status: 'expired' } } });
      assert.deepEqual(refused, []);
      assert.equal(rig.engine.getOrder(o.client_order_id)?.state, 'CANCELLED');
      // And the other way round: an order that expired, then heard of as cancelled.
      const p = order('buy', 10, limit(95), gtd(expiresAt));
      assert.equal((await rig.engine.submitOrder(p, 'one')).order.state, 'ACCEPTED');
      rig.clock.advance(61_000);
      rig.first.poll();
      const expired = await rig.engine.waitForFinal(p.client_order_id, 2000);
      assert.equal(expired?.state, 'EXPIRED');
      tell?.({ order: { ...orderResponseOf(expired), status: { status: 'cancelled' } } });
      assert.deepEqual(refused, []);
      assert.equal(rig.engine.getOrder(p.client_order_id)?.state, 'EXPIRED');
    } finally {
      await rig.close();
    }
  });

  it("an account read answered after close (the daily loss limit's) writes no trading state file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-readthrough-equity-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const venue: BrokerApi = {
      ...delegatingBroker(paper, {}),
      // The first read is the order's checks'; the second, the daily loss limit's after the fill: held past close.
      getAccountInfo: async () => {
        if (++reads === 2) await held;
        return paper.getAccountInfo();
      },
    };
    const stateFile = join(dir, 'trading-state.json');
    const { log } = await AuditLog.open(join(dir, 'audit'), { clock });
    const engine = new ExecutionEngine({
      clock,
      brokers: { one: venue },
      audit: log,
      limits: LOOSE,
      tradingStateFile: stateFile,
      circuitBreaker: { maxDailyLoss: 1000 },
    });
    try {
      await engine.connect('one');
      assert.equal((await engine.submitOrder(order('buy', 5), 'one')).order.state, 'FILLED');
      assert.equal(reads, 2);
      await engine.close();
      await log.close();
      const before = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : 'none';
      release();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : 'none', before, 'unchanged after close');
    } finally {
      release();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unconfirmed order whose cancel was cut short is, after a restart, still one the venue never answered for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-readthrough-cutcancel-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    let lookUpsHang = false;
    // Binance-like (absenceConclusiveAfterMs); the submit is lost on the way, the venue never sees it.
    const venue: BrokerApi = {
      ...delegatingBroker(paper, { onOrderUpdate: () => ({ dispose: () => undefined }) }),
      absenceConclusiveAfterMs: 30_000,
      submitOrder: () => Promise.reject(new BrokerError('TIMEOUT', 'no answer in 10 s', { outcomeUnknown: true })),
      getOrderByClientId: (id, hint) =>
        lookUpsHang ? new Promise(() => undefined) : paper.getOrderByClientId(id, hint),
    };
    const open = async (): Promise<{ engine: ExecutionEngine; log: AuditLog }> => {
      const digest = new AuditDigest();
      const { log } = await AuditLog.open(join(dir, 'audit'), { clock, visit: digest.visit });
      const engine = new ExecutionEngine({
        clock,
        brokers: { one: venue },
        audit: log,
        limits: LOOSE,
        digest,
        closeWaitMs: 50,
      });
      await engine.connect('one');
      return { engine, log };
    };
    let { engine, log } = await open();
    try {
      const o = order('buy', 10, limit(95));
      assert.equal((await engine.submitOrder(o, 'one')).order.state, 'UNCONFIRMED');
      // The cancel's look-up never comes back: the session ends with the cancel cut short (PENDING_CANCEL in the log).
      lookUpsHang = true;
      void engine.cancel(o.client_order_id).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(engine.getOrder(o.client_order_id)?.state, 'PENDING_CANCEL');
      await engine.close();
      await log.close();
      lookUpsHang = false;
      ({ engine, log } = await open());
      clock.advance(31_000);
      const looked = await engine.reconcileOrder(o.client_order_id);
      assert.equal(
        looked?.state,
        'REJECTED',
        `past the window it never arrived: ${looked?.state} ${looked?.reason ?? ''}`,
      );
      assert.deepEqual(engine.workingOrders(), []);
    } finally {
      await engine.close();
      await log.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
