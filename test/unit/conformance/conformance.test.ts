/**
 * The numbered conformance suite: the same cases against the paper venue and every adapter
 * against its fake (drivers.ts). Case numbers are the same for every venue:
 *   C01–C16  every order type × time in force: a supported one behaves as its TIF says (marketable
 *            market fills at the touch, non-marketable limits rest, IOC/FOK that cannot fill end,
 *            GTC stops rest and fill once the quote crosses them); an unsupported one is refused
 *            locally with the reason BROKER_SUPPORT gives, nothing sent (requestCount unchanged)
 *   C17      a marketable limit fills at or better than its limit
 *   C18–C20  cancel; status by id; status by client id (undefined for one never sent)
 *   C21–C23  account; positions after a fill; quote
 *   C24      a venue rejection carries the venue's reason
 *   C25–C31  under each fault: at most one order at the venue, no blind resubmit, no lost fill
 *            (what the venue filled is found filled by client id after reconnecting), and an
 *            unknown outcome resolved by a client-id look-up
 * The last lines printed are "conformance <venue>: N cases, N passed" (the README cites them).
 */
import assert from 'node:assert/strict';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { BROKER_SUPPORT, type BrokerKind } from '../../../src/brokers/registry';
import {
  isFinalStatus,
  ORDER_TYPE_NAMES,
  TIME_IN_FORCE_NAMES,
  type OrderResponse,
  type OrderStatusName,
  type OrderType,
  type PlainOrderTypeName,
  type PlacedOrderRequest,
  type TimeInForce,
  type TimeInForceName,
} from '../../../src/orders/model';
import type { FakeFault } from '../../fakes/control';
import { readUntil } from '../../kit/orderUpdates';
import { FAULT_NAMES, VENUE_DRIVERS, type FaultName, type Venue } from './drivers';

const FAULTS: Readonly<Record<FaultName, FakeFault>> = {
  latency: { kind: 'latency', ms: 100 },
  timeoutAfterAccept: { kind: 'timeoutAfterAccept' },
  serverError: { kind: 'serverError' },
  rateLimit: { kind: 'rateLimit', retryAfterSeconds: 1 },
  dropConnection: { kind: 'dropConnection' },
  malformedBody: { kind: 'malformedBody' },
  duplicateClientId: { kind: 'duplicateClientId' },
};

const OPEN: ReadonlySet<OrderStatusName> = new Set(['pending', 'submitted']);
const ENDED_UNFILLED: ReadonlySet<OrderStatusName> = new Set(['cancelled', 'expired']);

async function failure(call: Promise<unknown>): Promise<BrokerError> {
  try {
    await call;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

interface Tally {
  cases: number;
  passed: number;
  skipped: number;
  failed: number;
  notes: string[];
}
const tallies = new Map<string, Tally>();

let sequence = 0;

for (const makeDriver of VENUE_DRIVERS) {
  const driver = makeDriver();
  const name = driver.name;
  const support = BROKER_SUPPORT[name as BrokerKind];
  const tally: Tally = { cases: 0, passed: 0, skipped: 0, failed: 0, notes: [] };
  tallies.set(name, tally);

  describe(`conformance: ${name}`, function () {
    this.timeout(15_000);
    let v: Venue;

    // --- helpers bound to the venue ---
    const px = (n: number): number => Number(n.toFixed(v.decimals));
    const tick = (): number => 10 ** -v.decimals;
    /** 1 % of the price, on the grid: far enough that nothing crosses by accident. */
    const away = (): number => px(((v.bid + v.ask) / 2) * 0.01);
    const cid = (): string => `cf-${name}-${process.pid}-${++sequence}`;
    const tifOf = (t: TimeInForceName): TimeInForce =>
      t === 'GTD' ? { type: 'GTD', expires_at: Math.ceil((v.now() + 86_400_000) / 1000) * 1000 } : { type: t };
    const order = (orderType: OrderType, tif: TimeInForceName, side: 'buy' | 'sell' = 'buy'): PlacedOrderRequest => ({
      symbol: v.symbol,
      side,
      quantity: v.quantity,
      order_type: orderType,
      time_in_force: tifOf(tif),
      client_order_id: cid(),
      metadata: {},
    });
    /** The first time in force the venue takes market orders with. */
    const marketTif = (): TimeInForceName => {
      const tif = TIME_IN_FORCE_NAMES.find((t) => support.market[t].supported);
      assert.ok(tif, `${name} takes no market order`);
      return tif;
    };
    /**
     * The order once `done` holds: looked up, and while not done, looked up again after the venue's next
     * update of it (venues that report on their own: TWS, the paper venue on a quote). No timer: an order
     * that never gets there fails by the test's timeout.
     */
    const settle = (orderId: string, done: (r: OrderResponse) => boolean): Promise<OrderResponse> =>
      readUntil(
        v.broker,
        () => v.broker.getOrderStatus(orderId),
        done,
        (u) => u.order.order_id === orderId,
      );
    const settleByClientId = (
      clientOrderId: string,
      done: (r: OrderResponse) => boolean,
    ): Promise<OrderResponse | undefined> =>
      readUntil(
        v.broker,
        () => v.broker.getOrderByClientId(clientOrderId),
        (r) => r !== undefined && done(r),
        (u) => u.order.client_order_id === clientOrderId,
      );
    const final = (r: OrderResponse): boolean => isFinalStatus(r.status);
    const notPending = (r: OrderResponse): boolean => r.status.status !== 'pending';
    const assertFilledNearTouch = (r: OrderResponse, side: 'buy' | 'sell', limit?: number): void => {
      assert.equal(r.status.status, 'filled', `status ${JSON.stringify(r.status)}`);
      assert.ok(
        Math.abs((r.filled_quantity ?? 0) - v.quantity) <= v.quantity * 1e-9,
        `filled ${r.filled_quantity} of ${v.quantity}`,
      );
      const price = r.filled_price ?? NaN;
      const touch = side === 'buy' ? v.ask : v.bid;
      // "Touch-ish": within 0.2 % of the touch on the taking side, and never beyond a limit.
      assert.ok(Math.abs(price - touch) <= touch * 0.002, `filled at ${price}, touch ${touch}`);
      if (limit !== undefined)
        assert.ok(
          side === 'buy' ? price <= limit + 1e-9 : price >= limit - 1e-9,
          `filled at ${price} beyond limit ${limit}`,
        );
    };

    before(async function () {
      this.timeout(20_000);
      v = await driver.start();
    });

    after(async () => {
      await driver.stop();
    });

    beforeEach(() => {
      v.quote(v.bid, v.ask);
    });

    afterEach(async function () {
      const state = this.currentTest?.state;
      tally.cases++;
      if (state === 'passed') tally.passed++;
      else if (state === 'pending') tally.skipped++;
      else tally.failed++;
      // Each case starts from the same market with nothing resting (a failing clean-up must not stop the other cases).
      try {
        if (!v.broker.isConnected()) await v.broker.connect();
        v.quote(v.bid, v.ask);
        for (const o of await v.broker.listOpenOrders()) await v.broker.cancelOrder(o.order_id).catch(() => undefined);
      } catch (e) {
        console.log(
          `      clean-up after "${this.currentTest?.title}" failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    });

    // --- C01–C16: every order type × time in force ---

    let n = 0;
    for (const type of ORDER_TYPE_NAMES) {
      for (const tif of TIME_IN_FORCE_NAMES) {
        const number = `C${String(++n).padStart(2, '0')}`;
        const cell = support[type][tif];
        const combo = `${type} × ${tif}`;
        if (!cell.supported) {
          it(`${number} ${name}: ${combo} is refused before sending (${cell.reason.slice(0, 60)}…)`, async () => {
            const o = order(shapeOf(type, 'resting'), tif);
            const before = v.fake.requestCount();
            const e = await failure(v.broker.submitOrder(o));
            assert.equal(e.reason, 'UNSUPPORTED_ORDER');
            assert.equal(e.outcomeUnknown, false);
            assert.ok(e.message.includes(cell.reason), `message "${e.message}" should carry "${cell.reason}"`);
            assert.equal(v.fake.requestCount(), before, 'nothing reached the venue');
            assert.equal(v.fake.ordersWithClientId(o.client_order_id), 0);
          });
          continue;
        }
        const immediate = tif === 'IOC' || tif === 'FOK';
        if (type === 'market') {
          it(`${number} ${name}: ${combo} fills at the touch`, async () => {
            const placed = await v.broker.submitOrder(order({ type: 'market' }, tif));
            assertFilledNearTouch(await settle(placed.order_id, final), 'buy');
          });
        } else if (type === 'limit' && !immediate) {
          it(`${number} ${name}: ${combo} below the bid rests and is listed open`, async () => {
            const placed = await v.broker.submitOrder(order(shapeOf(type, 'resting'), tif));
            const now = await settle(placed.order_id, notPending);
            assert.ok(OPEN.has(now.status.status), `status ${JSON.stringify(now.status)}`);
            assert.ok((await v.broker.listOpenOrders()).some((o) => o.order_id === placed.order_id));
            assert.deepEqual(now.time_in_force.type, tif);
          });
        } else if (type === 'limit') {
          it(`${number} ${name}: ${combo} below the bid ends unfilled at once`, async () => {
            const placed = await v.broker.submitOrder(order(shapeOf(type, 'resting'), tif));
            const now = await settle(placed.order_id, final);
            assert.ok(ENDED_UNFILLED.has(now.status.status), `status ${JSON.stringify(now.status)}`);
            assert.ok(!(now.filled_quantity ?? 0), `filled ${now.filled_quantity}`);
          });
        } else if (!immediate) {
          const crosses = tif === 'GTC';
          it(`${number} ${name}: ${combo} above the ask rests untriggered${crosses ? ', then fills once the quote crosses it' : ''}`, async () => {
            const shape = shapeOf(type, 'resting');
            const placed = await v.broker.submitOrder(order(shape, tif));
            const now = await settle(placed.order_id, notPending);
            assert.ok(OPEN.has(now.status.status), `status ${JSON.stringify(now.status)}`);
            assert.ok(!(now.filled_quantity ?? 0));
            if (!crosses) return;
            const stopPrice =
              shape.type === 'stop' ? shape.price : shape.type === 'stop_limit' ? shape.stop_price : NaN;
            const limit = shape.type === 'stop_limit' ? shape.limit_price : undefined;
            v.quote(px(stopPrice + tick()), px(stopPrice + 2 * tick()));
            const done = await settle(placed.order_id, final);
            assert.equal(done.status.status, 'filled', `status ${JSON.stringify(done.status)}`);
            const price = done.filled_price ?? NaN;
            assert.ok(
              price >= stopPrice - 1e-9 && price <= stopPrice + 3 * tick() + 1e-9,
              `filled at ${price}, stop ${stopPrice}`,
            );
            if (limit !== undefined) assert.ok(price <= limit + 1e-9);
          });
        } else {
          it(`${number} ${name}: ${combo} above the ask never fills untriggered (ends, or waits for its trigger)`, async () => {
            const placed = await v.broker.submitOrder(order(shapeOf(type, 'resting'), tif));
            // Whether the venue ends it or keeps it is decided by the time it answers the submit (TWS sends the
            // accepted and the final status in one write), so one look-up tells, with nothing to wait for.
            const now = await v.broker.getOrderStatus(placed.order_id);
            assert.ok(
              OPEN.has(now.status.status) || ENDED_UNFILLED.has(now.status.status),
              `status ${JSON.stringify(now.status)}`,
            );
            assert.ok(!(now.filled_quantity ?? 0), `filled ${now.filled_quantity}`);
            if (OPEN.has(now.status.status))
              tally.notes.push(`${number} ${combo} waits for its trigger (the venue applies ${tif} after triggering)`);
          });
        }
      }
    }

    /** Prices relative to the touch: 'resting' never executes at the starting quote (buy side). */
    function shapeOf(type: PlainOrderTypeName, how: 'resting'): OrderType {
      void how;
      switch (type) {
        case 'market':
          return { type: 'market' };
        case 'limit':
          return { type: 'limit', price: px(v.bid - away()) };
        case 'stop':
          return { type: 'stop', price: px(v.ask + away()) };
        case 'stop_limit': {
          const stop = px(v.ask + away());
          return { type: 'stop_limit', stop_price: stop, limit_price: px(stop + away() / 2) };
        }
      }
    }

    // --- C17–C24 ---

    it(`C17 ${name}: a marketable limit fills at or better than its limit`, async () => {
      const tif: TimeInForceName = support.limit.GTC.supported ? 'GTC' : 'IOC';
      const limit = px(v.ask + away());
      const placed = await v.broker.submitOrder(order({ type: 'limit', price: limit }, tif));
      assertFilledNearTouch(await settle(placed.order_id, final), 'buy', limit);
    });

    it(`C18 ${name}: cancel ends a resting order and removes it from the open orders`, async () => {
      const placed = await v.broker.submitOrder(order(shapeOf('limit', 'resting'), 'GTC'));
      await settle(placed.order_id, notPending);
      await v.broker.cancelOrder(placed.order_id);
      const now = await settle(placed.order_id, final);
      assert.equal(now.status.status, 'cancelled');
      assert.ok(!(await v.broker.listOpenOrders()).some((o) => o.order_id === placed.order_id));
    });

    it(`C19 ${name}: status by venue id shows what was sent`, async () => {
      const o = order(shapeOf('limit', 'resting'), 'GTC', 'buy');
      const placed = await v.broker.submitOrder(o);
      const seen = await v.broker.getOrderStatus(placed.order_id);
      assert.equal(seen.order_id, placed.order_id);
      assert.equal(seen.client_order_id, o.client_order_id);
      assert.equal(seen.symbol, o.symbol);
      assert.equal(seen.side, 'buy');
      assert.equal(seen.quantity, o.quantity);
      assert.deepEqual(seen.order_type, o.order_type);
    });

    it(`C20 ${name}: status by client id finds the order; a client id never sent is undefined`, async () => {
      const o = order(shapeOf('limit', 'resting'), 'GTC');
      const placed = await v.broker.submitOrder(o);
      assert.equal((await v.broker.getOrderByClientId(o.client_order_id))?.order_id, placed.order_id);
      // Undefined, or ORDER_NOT_FOUND from a venue that cannot search every symbol for it (Binance without lookupSymbols).
      const unknown = `cf-never-sent-${++sequence}`;
      try {
        assert.equal(await v.broker.getOrderByClientId(unknown), undefined);
      } catch (e) {
        assert.ok(isBrokerError(e) && e.reason === 'ORDER_NOT_FOUND', String(e));
        tally.notes.push(`C20 an unknown client id is ORDER_NOT_FOUND (thrown), not undefined: ${e.message}`);
      }
    });

    it(`C21 ${name}: account info is complete and positive`, async () => {
      const a = await v.broker.getAccountInfo();
      assert.ok(a.account_id.length > 0);
      assert.ok(a.currency.length > 0);
      assert.ok(a.balance > 0 && a.equity > 0, `balance ${a.balance}, equity ${a.equity}`);
      assert.ok(a.buying_power >= 0);
      assert.ok(Array.isArray(a.open_positions));
    });

    it(`C22 ${name}: a fill shows in the positions`, async () => {
      const held = async () => (await v.broker.getPositions()).find((p) => p.symbol === v.symbol)?.quantity ?? 0;
      const before = await held();
      const placed = await v.broker.submitOrder(order({ type: 'market' }, marketTif()));
      assert.equal((await settle(placed.order_id, final)).status.status, 'filled');
      // Every venue books the position with the fill, and a positions read asks after it (on TWS's socket,
      // after the fill's status), so one read sees it.
      const delta = (await held()) - before;
      // Within 1 %: a venue may charge commission in the asset bought (Binance without BNB).
      assert.ok(Math.abs(delta - v.quantity) <= v.quantity * 0.01, `position grew by ${delta}, expected ${v.quantity}`);
    });

    it(`C23 ${name}: the quote is the venue's touch`, async () => {
      const q = await v.broker.getQuote(v.symbol);
      assert.equal(q.bid, v.bid);
      assert.equal(q.ask, v.ask);
      assert.ok(q.bid < q.ask);
    });

    it(`C24 ${name}: a venue rejection carries the venue's reason and places nothing`, async () => {
      v.fake.injectNext({ kind: 'reject', reason: v.rejectReason });
      const o = order({ type: 'market' }, marketTif());
      // The BrokerApi contract: a refusal by the venue is a `rejected` order, not an exception.
      const rejected = await v.broker.submitOrder(o);
      assert.equal(rejected.status.status, 'rejected');
      assert.ok(
        rejected.status.status === 'rejected' && rejected.status.reason.includes(v.rejectReason),
        JSON.stringify(rejected.status),
      );
      assert.equal(rejected.client_order_id, o.client_order_id);
      assert.equal(v.fake.ordersWithClientId(o.client_order_id), 0);
    });

    // --- C25–C31: faults ---

    FAULT_NAMES.forEach((fault, i) => {
      const number = `C${25 + i}`;
      it(`${number} ${name}: ${fault}: no duplicate, no blind resubmit, no lost fill, unknown outcome resolved by client id`, async function () {
        const inapplicable = v.inapplicable[fault];
        if (inapplicable !== undefined) {
          console.log(`      skipped ${number} ${name} ${fault}: ${inapplicable}`);
          this.skip();
        }
        const o = order({ type: 'market' }, marketTif());
        const sentBefore = v.fake.requestCount(v.submitRoute);
        v.fake.injectNext(FAULTS[fault]);
        let answer: OrderResponse | undefined;
        let error: BrokerError | undefined;
        try {
          answer = await v.broker.submitOrder(o);
        } catch (e) {
          assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
          error = e;
        }
        if (fault === 'latency')
          assert.ok(answer, `latency within the deadline should only be slower, got ${error?.message}`);
        if (answer) assert.equal(answer.client_order_id, o.client_order_id);
        if (!v.broker.isConnected()) await v.broker.connect();
        // A 429 proves the venue did nothing, so one resend after its Retry-After is allowed (and expected of
        // the HTTP venues); after any other fault the submit is never resent. (Was "<= 1" for every fault.) IB's
        // "duplicate" is TWS's 103 for its integer order id (TWS API "Message Codes": "an order ID that is less
        // than or equal to the order ID of a previous order from this client"), not our client id: TWS placed
        // nothing, so the adapter may place the order once more under a fresh order id.
        const provedNotPlaced = fault === 'rateLimit' || (fault === 'duplicateClientId' && name === 'ib');
        const resends = provedNotPlaced ? 2 : 1;
        assert.ok(
          v.fake.requestCount(v.submitRoute) - sentBefore <= resends,
          'the adapter never resends a submit blindly',
        );
        if (fault === 'rateLimit' && v.fake.requestCount(v.submitRoute) - sentBefore === 2)
          assert.ok(answer, `a resend after a 429 should succeed, got ${error?.message}`);
        const atVenue = v.fake.ordersWithClientId(o.client_order_id);
        assert.ok(atVenue <= 1, `${atVenue} orders at the venue with one client id`);
        if (error && !error.outcomeUnknown)
          assert.equal(atVenue, 0, `a known-outcome failure (${error.reason}) must have placed nothing`);
        // Only an order the venue holds is waited for (to see its fill); otherwise one look-up.
        const found =
          atVenue === 1
            ? await settleByClientId(o.client_order_id, final)
            : await v.broker.getOrderByClientId(o.client_order_id);
        if (atVenue === 1) {
          // No lost fill: the marketable order the venue took is found, filled, by its client id.
          assert.ok(found, 'the venue has the order; a look-up by client id must find it');
          assertFilledNearTouch(found, 'buy');
        } else {
          assert.ok(
            found === undefined || found.status.status === 'rejected',
            `nothing placed, yet found ${JSON.stringify(found?.status)}`,
          );
        }
        if (error?.outcomeUnknown)
          assert.equal(
            found !== undefined && found.status.status !== 'rejected',
            atVenue === 1,
            'the look-up resolved the unknown outcome',
          );
      });
    });
  });
}

after(() => {
  for (const [name, t] of tallies) {
    const extra = [t.skipped ? `${t.skipped} skipped` : '', t.failed ? `${t.failed} failed` : '']
      .filter(Boolean)
      .join(', ');
    console.log(`conformance ${name}: ${t.cases} cases, ${t.passed} passed${extra ? `, ${extra}` : ''}`);
    for (const note of [...new Set(t.notes)]) console.log(`  note (${name}): ${note}`);
  }
});
