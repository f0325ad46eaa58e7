/**
 * The engine against a scripted venue that says surprising but legal things (a fill twice, a fill before
 * the submit's reply, a snapshot without fill ids and then the venue's own ids, a price of zero, the same
 * venue order id at two venues). Quotes, instruments and the account come from a real paper venue; what
 * the venue says of orders is the script's. Invariants: no fill counted twice, the position is the sum of
 * the fills counted, each order sent once, a venue in the wrong leaves a TransitionRefused record.
 * (Past 450 lines on purpose: one scripted venue shared by every case, the restart cases included.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerError } from '../../../src/brokers/errors';
import { delegatingBroker, type BrokerApi, type OrderUpdate } from '../../../src/brokers/broker';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, tailAudit, type AuditRecord } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import type { EngineEvent } from '../../../src/execution/events';
import type { Fill, OrderResponse, OrderStatus, PlacedOrderRequest } from '../../../src/orders/model';
import { FixedQuotes, limit, order } from '../paper/helpers';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import { LOOSE } from './engineHelpers';

/** A venue whose answers about orders are the test's. */
class ScriptedVenue {
  readonly sent: PlacedOrderRequest[] = [];
  readonly lookups = new Map<string, OrderResponse>();
  private readonly listeners: Array<(u: OrderUpdate) => void> = [];
  /** What a submit answers; by default "new" with venue id `V-<client id>`. */
  /** What a cancel does; by default nothing (the test says what the look-ups answer). */
  cancel: (venueOrderId: string) => Promise<void> = () => Promise.resolve();
  reply: (o: PlacedOrderRequest) => Promise<OrderResponse> = (o) => Promise.resolve(view(o, { status: 'submitted' }));
  readonly api: BrokerApi;

  constructor(paper: PaperBroker, id: string) {
    this.api = {
      ...delegatingBroker(paper, { id }),
      submitOrder: (o) => {
        this.sent.push(o);
        return this.reply(o);
      },
      getOrderByClientId: (cid) => Promise.resolve(this.lookups.get(cid)),
      getOrderStatus: (vid) => {
        const found = [...this.lookups.values()].find((r) => r.order_id === vid);
        return found ? Promise.resolve(found) : Promise.reject(new BrokerError('ORDER_NOT_FOUND', `no order ${vid}`));
      },
      cancelOrder: (vid) => this.cancel(vid),
      listOpenOrders: () => Promise.resolve([]),
      getPositions: () => Promise.resolve([]),
      onOrderUpdate: (l) => {
        this.listeners.push(l);
        return { dispose: () => this.listeners.splice(this.listeners.indexOf(l), 1) };
      },
    };
  }

  emit(update: OrderUpdate): void {
    for (const l of [...this.listeners]) l(update);
  }
}

function view(
  o: PlacedOrderRequest,
  status: OrderStatus,
  extra: Partial<Pick<OrderResponse, 'filled_quantity' | 'filled_price' | 'fills' | 'order_id'>> = {},
): OrderResponse {
  return {
    order_id: extra.order_id ?? `V-${o.client_order_id}`,
    client_order_id: o.client_order_id,
    symbol: o.symbol,
    side: o.side,
    order_type: o.order_type,
    time_in_force: o.time_in_force,
    quantity: o.quantity,
    status,
    filled_price: extra.filled_price ?? null,
    filled_quantity: extra.filled_quantity ?? null,
    commission: null,
    timestamp: 1,
    created_at: 1,
    fills: extra.fills ?? [],
  };
}

function fill(o: PlacedOrderRequest, id: string, quantity: number, price = 100, orderId?: string): Fill {
  return {
    fill_id: id,
    order_id: orderId ?? `V-${o.client_order_id}`,
    client_order_id: o.client_order_id,
    symbol: o.symbol,
    side: o.side,
    price,
    quantity,
    commission: 0,
    liquidity: 'maker',
    timestamp: 1,
  };
}

describe('ExecutionEngine against a venue saying surprising things', function () {
  this.timeout(20_000);
  let dir: string;
  let paper: PaperBroker;
  let venue: ScriptedVenue;
  let other: ScriptedVenue;
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let events: EngineEvent[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-surprise-'));
    const clock = new TestClock();
    paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    venue = new ScriptedVenue(paper, 'a');
    other = new ScriptedVenue(paper, 'b');
    audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    engine = new ExecutionEngine({
      clock,
      brokers: { a: venue.api, b: other.api },
      audit,
      limits: LOOSE,
      tradingStateFile: join(dir, 'trading-state.json'),
      reconcileAttempts: 2,
      reconcileDelayMs: 2,
    });
    events = [];
    engine.subscribe((e) => events.push(e));
    await engine.connect('a');
    await engine.connect('b');
  });
  afterEach(async () => {
    await engine.close();
    await audit.close();
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const records = async (): Promise<AuditRecord[]> => {
    await audit.flush();
    return tailAudit(join(dir, 'audit'), Number.MAX_SAFE_INTEGER);
  };
  const fillsOf = (id: string): EngineEvent[] =>
    events.filter((e) => (e.type === 'OrderFilled' || e.type === 'OrderPartiallyFilled') && e.clientOrderId === id);
  const refused = (id: string): EngineEvent[] =>
    events.filter((e) => e.type === 'TransitionRefused' && e.clientOrderId === id);

  it('counts a fill the stream repeats, and a submit reply lists again, once', async () => {
    const o = order('buy', 10, limit(100));
    venue.reply = (req) => {
      const f = fill(req, 'F1', 4);
      venue.emit({ order: view(req, { status: 'partially_filled', filled_qty: 4 }), fill: f });
      venue.emit({ order: view(req, { status: 'partially_filled', filled_qty: 4 }), fill: f });
      return Promise.resolve(
        view(req, { status: 'partially_filled', filled_qty: 4 }, { filled_quantity: 4, filled_price: 100, fills: [f] }),
      );
    };
    const result = await engine.submitOrder(o, 'a');
    assert.equal(result.order.state, 'PARTIALLY_FILLED');
    assert.equal(engine.getOrder(o.client_order_id)?.fills.length, 1);
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 4 });
    assert.equal(fillsOf(o.client_order_id).length, 1);
    assert.equal(venue.sent.length, 1);
  });

  it('refuses a fill at a price of zero or below, with a TransitionRefused record, and counts nothing', async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    venue.emit({ order: view(o, { status: 'partially_filled', filled_qty: 4 }), fill: fill(o, 'F0', 4, 0) });
    venue.emit({ order: view(o, { status: 'partially_filled', filled_qty: 4 }), fill: fill(o, 'F-', 4, -1) });
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'ACCEPTED');
    assert.equal(engine.getOrder(o.client_order_id)?.filledUnits, 0n);
    assert.deepEqual(engine.positionsOf('a'), {});
    const codes = refused(o.client_order_id).map((e) => (e.type === 'TransitionRefused' ? e.code : ''));
    assert.deepEqual(codes, ['INVALID_FILL', 'INVALID_FILL']);
    const logged = (await records()).filter((r) => r.type === 'TransitionRefused');
    assert.equal(logged.length, 2);
  });

  it('does not count again, by the stream, a fill first known from a reply that gave only cumulative figures', async () => {
    const o = order('buy', 10, limit(100));
    // The reply says 4 filled at 100 and lists no fill; the stream then brings that very fill under its own id.
    venue.reply = (req) =>
      Promise.resolve(
        view(req, { status: 'partially_filled', filled_qty: 4 }, { filled_quantity: 4, filled_price: 100 }),
      );
    await engine.submitOrder(o, 'a');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 4 });
    venue.emit({
      order: view(o, { status: 'partially_filled', filled_qty: 4 }, { filled_quantity: 4, filled_price: 100 }),
      fill: fill(o, 'T-1', 4),
    });
    assert.equal(engine.getOrder(o.client_order_id)?.filledUnits, 40_000_000_000n);
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 4 });
    // The next fill, beyond what was known, is counted: by what it adds to the cumulative figure.
    venue.emit({
      order: view(o, { status: 'filled' }, { filled_quantity: 10, filled_price: 100.6 }),
      fill: fill(o, 'T-2', 6, 101),
    });
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'FILLED');
    // Exactly what the cumulative figure adds: the venue's own fill, as it is.
    assert.deepEqual(
      engine.getOrder(o.client_order_id)?.fills.map((f) => [f.fill_id, f.quantity, f.price]),
      [
        [`V-${o.client_order_id}:4`, 4, 100],
        ['T-2', 6, 101],
      ],
    );
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 10 });
    assert.deepEqual(refused(o.client_order_id), []);
  });

  it('does not count again a fill first known from cumulative figures when a look-up then lists it by id', async () => {
    const o = order('buy', 10, limit(100));
    venue.reply = (req) =>
      Promise.resolve(
        view(req, { status: 'partially_filled', filled_qty: 4 }, { filled_quantity: 4, filled_price: 100 }),
      );
    await engine.submitOrder(o, 'a');
    venue.lookups.set(
      o.client_order_id,
      view(
        o,
        { status: 'partially_filled', filled_qty: 7 },
        { filled_quantity: 7, filled_price: 100, fills: [fill(o, 'T-1', 4), fill(o, 'T-2', 3)] },
      ),
    );
    const after = await engine.reconcileOrder(o.client_order_id);
    assert.equal(after?.filledUnits, 70_000_000_000n);
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 7 });
    assert.deepEqual(refused(o.client_order_id), []);
  });
  it('keeps a fill that came before the submit reply when the reply then says "new"', async () => {
    const o = order('buy', 10, limit(100));
    venue.reply = (req) => {
      venue.emit({
        order: view(req, { status: 'filled' }, { filled_quantity: 10, filled_price: 100 }),
        fill: fill(req, 'F1', 10),
      });
      return Promise.resolve(view(req, { status: 'submitted' }));
    };
    const result = await engine.submitOrder(o, 'a');
    assert.equal(result.order.state, 'FILLED');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 10 });
    // Snapshots going backwards (partially filled, then new) change nothing.
    venue.lookups.set(
      o.client_order_id,
      view(o, { status: 'partially_filled', filled_qty: 4 }, { filled_quantity: 4, filled_price: 100 }),
    );
    await engine.reconcileOrder(o.client_order_id);
    venue.lookups.set(o.client_order_id, view(o, { status: 'submitted' }));
    await engine.reconcileOrder(o.client_order_id);
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'FILLED');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 10 });
    assert.equal(fillsOf(o.client_order_id).length, 1);
  });

  it("takes an update from another venue naming one of its orders as that venue's external order", async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    other.emit({
      order: view(o, { status: 'partially_filled', filled_qty: 4 }, { order_id: 'B-9' }),
      fill: fill(o, 'FB', 4, 100, 'B-9'),
    });
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'ACCEPTED');
    assert.deepEqual(engine.positionsOf('a'), {});
    assert.deepEqual(
      engine.externalOrders().map((x) => [x.venue, x.order.order_id]),
      [['b', 'B-9']],
    );
  });

  it('tells apart two venues that use the same order id when an update names only that id', async () => {
    const atA = order('buy', 10, limit(100));
    const atB = order('buy', 10, limit(100));
    venue.reply = (req) => Promise.resolve(view(req, { status: 'submitted' }, { order_id: 'X-1' }));
    other.reply = (req) => Promise.resolve(view(req, { status: 'submitted' }, { order_id: 'X-1' }));
    await engine.submitOrder(atA, 'a');
    await engine.submitOrder(atB, 'b');
    venue.emit({ order: { ...view(atA, { status: 'cancelled' }, { order_id: 'X-1' }), client_order_id: '' } });
    assert.equal(engine.getOrder(atA.client_order_id)?.state, 'CANCELLED');
    assert.equal(engine.getOrder(atB.client_order_id)?.state, 'ACCEPTED');
  });

  it('looks up a submit whose reply was lost after the venue took it, and never sends it again', async () => {
    const o = order('buy', 10, limit(100));
    venue.reply = (req) => {
      venue.lookups.set(
        req.client_order_id,
        view(req, { status: 'partially_filled', filled_qty: 4 }, { fills: [fill(req, 'F1', 4)] }),
      );
      return Promise.reject(new BrokerError('TIMEOUT', 'no answer in 10 s', { outcomeUnknown: true }));
    };
    const result = await engine.submitOrder(o, 'a');
    assert.equal(result.order.state, 'UNCONFIRMED');
    const found = await engine.reconcileOrder(o.client_order_id);
    assert.equal(found?.state, 'PARTIALLY_FILLED');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 4 });
    assert.equal(venue.sent.length, 1);
  });
  it('counts a fill that raced the cancel and came after it, keeping the order cancelled', async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    venue.lookups.set(o.client_order_id, view(o, { status: 'cancelled' }));
    const cancelled = await engine.cancel(o.client_order_id);
    assert.equal(cancelled.state, 'CANCELLED');
    venue.emit({
      order: view(o, { status: 'cancelled' }, { filled_quantity: 4, filled_price: 100 }),
      fill: fill(o, 'F1', 4),
    });
    venue.emit({
      order: view(o, { status: 'cancelled' }, { filled_quantity: 4, filled_price: 100 }),
      fill: fill(o, 'F1', 4),
    });
    const after = engine.getOrder(o.client_order_id);
    assert.equal(after?.state, 'CANCELLED');
    assert.equal(after?.filledUnits, 40_000_000_000n);
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 4 });
    const logged = (await records()).filter((r) => r.data['clientOrderId'] === o.client_order_id).map((r) => r.type);
    assert.deepEqual(logged.slice(-3), ['OrderCancelRequested', 'OrderCancelled', 'OrderPartiallyFilled']);
  });

  it('ends an order the venue filled before the cancel reached it as FILLED, its fill counted once', async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    const f = fill(o, 'F1', 10);
    venue.lookups.set(
      o.client_order_id,
      view(o, { status: 'filled' }, { filled_quantity: 10, filled_price: 100, fills: [f] }),
    );
    venue.cancel = () => {
      venue.emit({ order: view(o, { status: 'filled' }, { filled_quantity: 10, filled_price: 100 }), fill: f });
      return Promise.reject(new BrokerError('INVALID_ORDER', 'order is already filled'));
    };
    const result = await engine.cancel(o.client_order_id);
    assert.equal(result.state, 'FILLED');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 10 });
    assert.equal(fillsOf(o.client_order_id).length, 1);
    assert.deepEqual(refused(o.client_order_id), []);
  });

  it("refuses a fill past the order's quantity with a TransitionRefused record, keeping the fills before it", async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    venue.emit({ order: view(o, { status: 'partially_filled', filled_qty: 8 }), fill: fill(o, 'F1', 8) });
    venue.emit({ order: view(o, { status: 'filled' }), fill: fill(o, 'F2', 5) });
    assert.equal(engine.getOrder(o.client_order_id)?.filledUnits, 80_000_000_000n);
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 8 });
    assert.deepEqual(
      refused(o.client_order_id).map((e) => e.type === 'TransitionRefused' && e.code),
      ['OVERFILL'],
    );
    // A snapshot whose cumulative quantity goes back changes nothing.
    venue.lookups.set(
      o.client_order_id,
      view(o, { status: 'partially_filled', filled_qty: 3 }, { filled_quantity: 3, filled_price: 100 }),
    );
    await engine.reconcileOrder(o.client_order_id);
    assert.equal(engine.getOrder(o.client_order_id)?.filledUnits, 80_000_000_000n);
  });
  it('refuses a fill whose quantity or price is not a number, and still finishes the submit that brought it', async () => {
    const o = order('buy', 10, limit(100));
    venue.reply = (req) =>
      Promise.resolve(
        view(req, { status: 'partially_filled', filled_qty: 4 }, { fills: [fill(req, 'F-nan', Number.NaN)] }),
      );
    const result = await engine.submitOrder(o, 'a');
    assert.equal(result.order.state, 'ACCEPTED');
    venue.emit({ order: view(o, { status: 'partially_filled', filled_qty: 4 }), fill: fill(o, 'F-inf', 4, Infinity) });
    // A snapshot whose cumulative figures are not numbers gives no fill; a look-up still answers.
    venue.lookups.set(
      o.client_order_id,
      view(o, { status: 'partially_filled', filled_qty: 4 }, { filled_quantity: Number.NaN, filled_price: 100 }),
    );
    assert.equal((await engine.reconcileOrder(o.client_order_id))?.state, 'ACCEPTED');
    assert.deepEqual(engine.positionsOf('a'), {});
    assert.deepEqual(
      refused(o.client_order_id).map((e) => e.type === 'TransitionRefused' && e.code),
      ['INVALID_FILL', 'INVALID_FILL'],
    );
  });
  it('counts the fills a snapshot saying "rejected" lists, and ends the order CANCELLED (partly filled)', async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    venue.lookups.set(
      o.client_order_id,
      view(
        o,
        { status: 'rejected', reason: 'risk' },
        { filled_quantity: 4, filled_price: 100, fills: [fill(o, 'F1', 4)] },
      ),
    );
    const after = await engine.reconcileOrder(o.client_order_id);
    assert.equal(after?.filledUnits, 40_000_000_000n);
    // It stayed PARTIALLY_FILLED for ever (the rejection refused), working and counted in exposure.
    assert.equal(after?.state, 'CANCELLED');
    assert.equal(after?.reason, 'the venue rejected the rest after 4 of 10 filled: risk');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 4 });
    assert.deepEqual(refused(o.client_order_id), []);
    assert.equal(engine.workingOrders().length, 0);
    const logged = (await records()).filter((r) => r.data['clientOrderId'] === o.client_order_id);
    const last = logged[logged.length - 1];
    assert.equal(last?.type, 'OrderCancelled');
    assert.equal(last?.data['state'], 'CANCELLED');
    assert.equal(last?.data['reason'], 'the venue rejected the rest after 4 of 10 filled: risk');
  });

  it('ends an order the venue rejects after a fill it streamed as CANCELLED, the position keeping the fill', async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    venue.emit({ order: view(o, { status: 'partially_filled', filled_qty: 3 }), fill: fill(o, 'F1', 3) });
    venue.emit({ order: view(o, { status: 'rejected', reason: 'halted symbol' }, { filled_quantity: 3 }) });
    const after = engine.getOrder(o.client_order_id);
    assert.equal(after?.state, 'CANCELLED');
    assert.deepEqual(engine.positionsOf('a'), { AAPL: 3 });
    assert.deepEqual(refused(o.client_order_id), []);
  });

  it("keeps the venue's reason when the venue cancels an order itself: on the order, its status and the audit log", async () => {
    const o = order('buy', 10, limit(100));
    await engine.submitOrder(o, 'a');
    venue.emit({ order: view(o, { status: 'cancelled', reason: 'INSUFFICIENT_MARGIN' }) });
    const after = engine.getOrder(o.client_order_id);
    assert.equal(after?.state, 'CANCELLED');
    assert.equal(after?.reason, 'INSUFFICIENT_MARGIN');
    const logged = (await records()).find((r) => r.type === 'OrderCancelled');
    assert.equal(logged?.data['reason'], 'INSUFFICIENT_MARGIN');
    // A cancel the venue reports without a reason (one we asked for) says none.
    const asked = order('buy', 10, limit(100));
    await engine.submitOrder(asked, 'a');
    venue.emit({ order: view(asked, { status: 'cancelled' }) });
    assert.equal(engine.getOrder(asked.client_order_id)?.reason, undefined);
  });
});

describe('ExecutionEngine reopened over its state folder while the venue kept filling', function () {
  this.timeout(20_000);
  let dir: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let venue: ScriptedVenue;
  let session: TradingSession | undefined;
  const open = async (): Promise<TradingSession> =>
    openTradingSession({
      stateDir: dir,
      clock,
      brokers: { a: venue.api },
      settings: { limits: LOOSE, circuitBreaker: DEFAULT_CIRCUIT_BREAKER },
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-surprise-restart-'));
    clock = new TestClock();
    paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    venue = new ScriptedVenue(paper, 'a');
  });
  afterEach(async () => {
    await session?.close();
    session = undefined;
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const listed of [true, false]) {
    it(`counts once the fills made while it was closed (look-up ${listed ? 'lists fills' : 'gives cumulative figures'})`, async () => {
      const o = order('buy', 10, limit(100));
      session = await open();
      await session.engine.connect('a');
      await session.engine.submitOrder(o, 'a');
      const f1 = fill(o, 'F1', 4);
      venue.emit({ order: view(o, { status: 'partially_filled', filled_qty: 4 }), fill: f1 });
      assert.deepEqual(session.engine.positionsOf('a'), { AAPL: 4 });
      await session.close();
      session = undefined;

      // Meanwhile: 3 more at 101, then the rest cancelled.
      venue.lookups.set(
        o.client_order_id,
        view(
          o,
          { status: 'cancelled' },
          listed
            ? { filled_quantity: 7, filled_price: 100.3, fills: [f1, fill(o, 'F2', 3, 101)] }
            : { filled_quantity: 7, filled_price: 100.3 },
        ),
      );
      session = await open();
      const events: EngineEvent[] = [];
      session.engine.subscribe((e) => events.push(e));
      assert.equal(session.engine.getOrder(o.client_order_id)?.state, 'PARTIALLY_FILLED');
      await session.engine.connect('a');
      const after = session.engine.getOrder(o.client_order_id);
      assert.equal(after?.state, 'CANCELLED');
      assert.equal(after?.filledUnits, 70_000_000_000n);
      assert.equal(after?.fills.length, 2);
      assert.deepEqual(
        events
          .filter((e) => e.type === 'OrderPartiallyFilled')
          .map((e) => e.type === 'OrderPartiallyFilled' && e.fill.quantity),
        [3],
      );
      assert.deepEqual(
        events.filter(
          (e) => e.type === 'TransitionRefused' || e.type === 'VenueError' || e.type === 'ExternalOrderFound',
        ),
        [],
      );
      assert.equal(venue.sent.length, 1);
    });
  }
  it('denies, after a restart, a submit under a client order id an earlier session already sent', async () => {
    const o = order('buy', 10, limit(100));
    venue.reply = (req) => Promise.resolve(view(req, { status: 'filled' }, { filled_quantity: 10, filled_price: 100 }));
    session = await open();
    await session.engine.connect('a');
    assert.equal((await session.engine.submitOrder(o, 'a')).order.state, 'FILLED');
    await session.close();
    session = undefined;

    session = await open();
    await session.engine.connect('a');
    const again = await session.engine.submitOrder(o, 'a');
    assert.equal(again.order.state, 'DENIED');
    assert.equal(again.denial?.code, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.equal(venue.sent.length, 1);
  });
});
