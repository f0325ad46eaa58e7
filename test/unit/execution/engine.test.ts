/** The execution engine against a real paper venue, real fault injection and a real audit log. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { submitOrderCommand, type EngineEvent } from '../../../src/execution/events';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { limit, order } from '../paper/helpers';
import { LOOSE, makeRig, settle, type Rig } from './engineHelpers';

const types = (events: EngineEvent[], id: string): string[] =>
  events.filter((e) => 'clientOrderId' in e && e.clientOrderId === id).map((e) => e.type);

describe('ExecutionEngine', function () {
  this.timeout(20_000);
  let rig: Rig;
  afterEach(async () => rig && (await rig.close()));

  it('takes a market order through risk, the audit log and the venue to FILLED, and records the command before sending', async () => {
    rig = await makeRig();
    const o = order('buy', 10);
    const result = await rig.engine.submitOrder(o, 'paper');
    assert.equal(result.denial, undefined);
    assert.equal(result.order.state, 'FILLED');
    assert.equal(result.risk.length, 10);
    assert.ok(result.risk.every((r) => r.passed));
    assert.deepEqual(types(rig.events, o.client_order_id), ['OrderSubmitted', 'OrderAccepted', 'OrderFilled']);
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: 10 });
    const records = await rig.auditRecords();
    const mine = records.filter((r) => JSON.stringify(r.data).includes(o.client_order_id)).map((r) => r.type);
    assert.deepEqual(mine, ['SubmitOrder', 'OrderSubmitted', 'OrderAccepted', 'OrderFilled']);
    const submit = records.find((r) => r.type === 'SubmitOrder' && JSON.stringify(r.data).includes(o.client_order_id));
    assert.ok(Array.isArray((submit?.data as { risk: unknown[] }).risk), 'the risk results are in the audit log');
    // The send is published with the order and every check; the log ties it to the command by id.
    const sent = rig.events.find((e) => e.type === 'OrderSubmitted' && e.clientOrderId === o.client_order_id);
    assert.equal(sent?.type === 'OrderSubmitted' && sent.risk.length, 10);
    const sentRecord = records.find(
      (r) => r.type === 'OrderSubmitted' && r.data['clientOrderId'] === o.client_order_id,
    );
    assert.equal(sentRecord?.data['commandId'], (submit?.data as { command: { commandId: string } }).command.commandId);
  });

  it('denies an order beyond a limit with the check, limit and actual, and sends nothing', async () => {
    rig = await makeRig({ limits: { ...LOOSE, maxOrderQuantity: 100 } });
    const o = order('buy', 101);
    const result = await rig.engine.submitOrder(o, 'paper');
    assert.equal(result.order.state, 'DENIED');
    assert.equal(result.denial?.code, 'QUANTITY_EXCEEDS_MAXIMUM');
    const failed = result.risk.find((r) => !r.passed);
    assert.equal(failed?.limit, 100);
    assert.equal(failed?.actual, 101);
    assert.equal(await rig.paper.getOrderByClientId(o.client_order_id), undefined);
    assert.deepEqual(types(rig.events, o.client_order_id), ['OrderDenied']);
    const records = await rig.auditRecords();
    assert.deepEqual(
      records.filter((r) => JSON.stringify(r.data).includes(o.client_order_id)).map((r) => r.type),
      ['SubmitOrder', 'OrderDenied'],
    );
  });

  it('a component’s risk_limits tighten the settings, and a malformed one is a denial naming the key', async () => {
    rig = await makeRig();
    const clock = rig.clock;
    const tight = await rig.engine.submit(
      submitOrderCommand(order('buy', 50), {
        venue: 'paper',
        source: 'test-order',
        clock,
        componentLimits: { max_order_quantity: 10 },
      }),
    );
    assert.equal(tight.denial?.code, 'QUANTITY_EXCEEDS_MAXIMUM');
    const bad = await rig.engine.submit(
      submitOrderCommand(order('buy', 5), {
        venue: 'paper',
        source: 'test-order',
        clock,
        componentLimits: { max_order_quantity: -1 },
      }),
    );
    assert.equal(bad.denial?.code, 'INVALID_RISK_LIMITS');
    assert.match(bad.denial?.message ?? '', /risk_limits\.max_order_quantity/);
  });

  it('a retried command never becomes a second order', async () => {
    rig = await makeRig();
    const cmd = submitOrderCommand(order('buy', 5), { venue: 'paper', source: 'api', clock: rig.clock });
    const [a, b] = await Promise.all([rig.engine.submit(cmd), rig.engine.submit(cmd)]);
    assert.equal(a.order.state, 'FILLED');
    assert.equal(b.denial?.code, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.equal(rig.paper.getFills().length, 1);
    assert.equal(
      rig.engine.getOrder(cmd.clientOrderId)?.state,
      'FILLED',
      'the denied retry does not overwrite the order',
    );
  });

  it('a command retried with the id of an order finished long ago in this session is still a duplicate', async () => {
    // The engine keeps whole only its last finished orders: past them it forgot the id and sent the retry again.
    rig = await makeRig({ maxFinishedOrders: 3 });
    const first = submitOrderCommand(order('buy', 5), { venue: 'paper', source: 'api', clock: rig.clock });
    assert.equal((await rig.engine.submit(first)).order.state, 'FILLED');
    for (let i = 0; i < 5; i++)
      assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'FILLED');
    assert.equal(rig.engine.getOrder(first.clientOrderId), undefined, 'its record was dropped');
    const again = await rig.engine.submit(first);
    assert.equal(again.denial?.code, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.match(again.denial?.message ?? '', /earlier in this session/);
    assert.equal(rig.paper.getFills().length, 6);
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: 10 });
  });

  it("a replay's engine keeps no id of its own dropped orders (memory flat), but a component's own id stays taken", async () => {
    rig = await makeRig({ maxFinishedOrders: 3, simulation: true });
    // Without a client id of its own, as a replay's loop sends it: the engine makes one (newClientOrderId).
    const { client_order_id: _given, ...unnamed } = order('buy', 1);
    const own = submitOrderCommand(unnamed, { venue: 'paper', source: 'replay', clock: rig.clock });
    const mine = submitOrderCommand(
      { ...order('buy', 1), client_order_id: 'my-strategy-1' },
      { venue: 'paper', source: 'replay', clock: rig.clock },
    );
    assert.equal((await rig.engine.submit(own)).order.state, 'FILLED');
    assert.equal((await rig.engine.submit(mine)).order.state, 'FILLED');
    for (let i = 0; i < 5; i++)
      assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'FILLED');
    const cache = (rig.engine as unknown as { cache: { usedEarlier(id: string): string | undefined } }).cache;
    assert.equal(cache.usedEarlier(own.clientOrderId), undefined, 'an id the replay made is not kept');
    const again = await rig.engine.submit(
      submitOrderCommand(
        { ...order('buy', 1), client_order_id: 'my-strategy-1' },
        { venue: 'paper', source: 'replay', clock: rig.clock },
      ),
    );
    assert.equal(again.denial?.code, 'DUPLICATE_CLIENT_ORDER_ID');
  });

  it('sends the orders of one symbol in the order they were submitted, while other symbols proceed', async () => {
    rig = await makeRig();
    const orders = Array.from({ length: 30 }, (_, i) =>
      order(i % 2 ? 'sell' : 'buy', 1 + i, { type: 'market' }, { type: 'GTC' }, i % 3 === 0 ? 'MSFT' : 'AAPL'),
    );
    const results = await Promise.all(orders.map((o) => rig.engine.submitOrder(o, 'paper')));
    for (const symbol of ['AAPL', 'MSFT']) {
      const ids = results
        .filter((r) => r.order.request.symbol === symbol)
        .map((r) => Number(r.order.venueOrderId?.slice(2)));
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
        `${symbol} venue ids follow submission order`,
      );
    }
    assert.ok(results.every((r) => r.order.state === 'FILLED'));
  });

  it('denies with QUEUE_FULL beyond its capacity instead of growing', async () => {
    rig = await makeRig({ queueCapacity: 5 });
    let maxQueued = 0;
    rig.engine.subscribe(() => (maxQueued = Math.max(maxQueued, rig.engine.status().queued)));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => rig.engine.submitOrder(order('buy', 1), 'paper')),
    );
    assert.equal(results.filter((r) => r.denial?.code === 'QUEUE_FULL').length, 15);
    assert.equal(results.filter((r) => r.order.state === 'FILLED').length, 5);
    assert.ok(maxQueued <= 5);
    assert.match(results.find((r) => r.denial)?.denial?.message ?? '', /capacity 5/);
  });

  it('HALTED denies new orders but lets cancels through; REDUCING passes only orders that shrink a position', async () => {
    rig = await makeRig();
    const resting = order('buy', 10, limit(90));
    await rig.engine.submitOrder(resting, 'paper');
    await rig.engine.submitOrder(order('buy', 100), 'paper');
    rig.engine.setTradingState('HALTED', 'lunch');
    const denied = await rig.engine.submitOrder(order('buy', 1), 'paper');
    assert.equal(denied.denial?.code, 'TRADING_HALTED');
    const cancelled = await rig.engine.cancel(resting.client_order_id);
    assert.equal(cancelled.state, 'CANCELLED');
    rig.engine.setTradingState('REDUCING', 'wind down');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_STATE_REDUCING');
    assert.equal((await rig.engine.submitOrder(order('sell', 40), 'paper')).order.state, 'FILLED');
    assert.equal(
      (await rig.engine.submitOrder(order('sell', 61), 'paper')).denial?.code,
      'TRADING_STATE_REDUCING',
      'would flip the position',
    );
    const changes = rig.events.filter((e) => e.type === 'TradingStateChanged');
    assert.deepEqual(
      changes.map((e) => (e.type === 'TradingStateChanged' ? e.to : '')),
      ['HALTED', 'REDUCING'],
    );
  });

  it('emergency stop halts at once, cancels every open order (external ones too), flattens when asked, and survives a restart', async () => {
    rig = await makeRig();
    const mine = order('buy', 10, limit(95));
    await rig.engine.submitOrder(mine, 'paper');
    await rig.engine.submitOrder(order('buy', 30), 'paper');
    const foreign = order('sell', 5, limit(120));
    await rig.paper.submitOrder(foreign);
    await rig.engine.reconcile('paper');
    assert.equal(rig.engine.externalOrders().length, 1, 'an order the engine did not place is reported, not adopted');
    assert.ok(rig.events.some((e) => e.type === 'ExternalOrderFound'));

    const report = await rig.engine.emergencyStop({ reason: 'test stop', flatten: true });
    assert.equal(rig.engine.status().tradingState, 'HALTED');
    assert.deepEqual(report.cancelled.sort(), [foreign.client_order_id, mine.client_order_id].sort());
    assert.deepEqual(report.failed, []);
    assert.equal((await rig.paper.listOpenOrders()).length, 0);
    assert.equal(report.flattened.length, 1);
    assert.equal(report.flattened[0]?.result, 'FILLED');
    assert.deepEqual(await rig.paper.getPositions(), []);
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_HALTED');

    await rig.restart();
    assert.equal(rig.engine.status().tradingState, 'HALTED', 'a halted engine starts halted');
    assert.equal(rig.engine.status().reason, 'test stop');
    await rig.engine.connect('paper');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_HALTED');
    rig.engine.setTradingState('ACTIVE', 'checked');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'FILLED');
  });

  it('the circuit breaker trips after N rejections in a row, says why, and resets after its cool-down', async () => {
    rig = await makeRig({
      circuitBreaker: { maxConsecutiveFailures: 3, maxFailuresInWindow: 100, windowMs: 60_000, cooldownMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) rig.venue.injectNext('reject', { reason: 'insufficient margin' });
    for (let i = 0; i < 3; i++)
      assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'REJECTED');
    const status = rig.engine.status();
    assert.equal(status.tradingState, 'HALTED');
    assert.match(status.reason, /3 broker errors or rejections in a row.*insufficient margin/);
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_HALTED');
    rig.clock.advance(60_001);
    assert.equal(rig.engine.status().tradingState, 'ACTIVE');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'FILLED');
  });

  it('the circuit breaker trips on the daily loss limit', async () => {
    rig = await makeRig({ circuitBreaker: { maxDailyLoss: 500 }, startingCash: 100_000 });
    await rig.engine.submitOrder(order('buy', 100), 'paper');
    rig.quotes.move(94, 94.02);
    rig.clock.advance(2000);
    await rig.engine.submitOrder(order('buy', 1), 'paper');
    await settle(10);
    assert.equal(rig.engine.status().tradingState, 'HALTED');
    assert.match(rig.engine.status().reason, /daily loss limit of 500/);
  });

  it('a timeout after the venue accepted leaves the order UNCONFIRMED, then reconciles it by client id without resending', async () => {
    rig = await makeRig({ stream: false });
    rig.venue.injectNext('timeoutAfterAccept');
    const o = order('buy', 7);
    const result = await rig.engine.submitOrder(o, 'paper');
    assert.equal(result.order.state, 'UNCONFIRMED');
    assert.ok(
      rig.engine.workingOrders().some((w) => w.clientOrderId === o.client_order_id),
      'still in flight, not failed',
    );
    const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
    assert.equal(final?.state, 'FILLED');
    assert.equal(rig.paper.getFills().length, 1, 'sent once');
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: 7 });
    assert.ok(rig.events.some((e) => e.type === 'OrderUnconfirmed'));
  });

  it('with an update stream, a timeout is resolved by the stream and never resent', async () => {
    rig = await makeRig();
    rig.venue.injectNext('timeoutAfterAccept');
    const o = order('buy', 7);
    await rig.engine.submitOrder(o, 'paper');
    const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
    assert.equal(final?.state, 'FILLED');
    assert.equal(rig.paper.getFills().length, 1);
    assert.equal(rig.events.filter((e) => e.type === 'TransitionRefused').length, 0);
  });

  it('a connection lost mid-fill is reconnected and reconciled', async () => {
    rig = await makeRig();
    rig.venue.injectNext('disconnectMidFill');
    const o = order('sell', 3);
    const result = await rig.engine.submitOrder(o, 'paper');
    assert.equal(
      result.order.state,
      'ACCEPTED',
      'the acknowledgement came through; the fill was lost with the connection',
    );
    const final = await rig.engine.waitForFinal(o.client_order_id, 2000);
    assert.equal(final?.state, 'FILLED');
    assert.ok(rig.venue.isConnected());
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: -3 });
  });

  it('duplicate and out-of-order acknowledgements count each fill once', async () => {
    rig = await makeRig();
    rig.venue.injectNext('duplicateAck').injectNext('outOfOrderAck');
    const a = await rig.engine.submitOrder(order('buy', 4), 'paper');
    const b = await rig.engine.submitOrder(order('buy', 6), 'paper');
    assert.equal(a.order.state, 'FILLED');
    assert.equal(b.order.state, 'FILLED');
    assert.equal(a.order.fills.length, 1);
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: 10 });
    assert.equal(rig.events.filter((e) => e.type === 'OrderFilled').length, 2);
    assert.equal(rig.events.filter((e) => e.type === 'TransitionRefused').length, 0);
  });

  it('an error before sending is a rejection that counts towards the breaker, not an unknown outcome', async () => {
    rig = await makeRig();
    rig.venue.injectNext('errorBeforeSend');
    const result = await rig.engine.submitOrder(order('buy', 1), 'paper');
    assert.equal(result.order.state, 'REJECTED');
    assert.match(result.order.reason ?? '', /VENUE_UNAVAILABLE/);
    assert.equal(rig.engine.status().breaker.consecutiveFailures, 1);
  });

  it('an order the venue refuses for its grid is denied before sending, naming the rule', async () => {
    rig = await makeRig();
    const result = await rig.engine.submitOrder(order('buy', 1, limit(100.005)), 'paper');
    assert.equal(result.denial?.code, 'INVALID_ORDER');
    assert.match(result.denial?.message ?? '', /tick size 0\.01/);
  });

  it('a fill arriving after the order was cancelled at the venue is applied on purpose', async () => {
    rig = await makeRig();
    const o = order('buy', 10, limit(99));
    await rig.engine.submitOrder(o, 'paper');
    const cancelled = await rig.engine.cancel(o.client_order_id);
    assert.equal(cancelled.state, 'CANCELLED');
    // The venue reports a fill that crossed the cancel on the wire.
    const record = rig.engine.getOrder(o.client_order_id);
    assert.ok(record?.venueOrderId);
    rig.venue.onOrderUpdate(() => undefined);
    (rig.engine as unknown as { events: { applyResponse(v: string, r: unknown): void } }).events.applyResponse(
      'paper',
      {
        ...(await rig.paper.getOrderStatus(record.venueOrderId)),
        fills: [
          {
            fill_id: 'late-1',
            order_id: record.venueOrderId,
            client_order_id: o.client_order_id,
            symbol: 'AAPL',
            side: 'buy',
            price: 99,
            quantity: 4,
            commission: 0,
            liquidity: 'maker',
            timestamp: rig.clock.now(),
          },
        ],
      },
    );
    const after = rig.engine.getOrder(o.client_order_id);
    assert.equal(after?.state, 'CANCELLED');
    assert.equal(after?.fills.length, 1);
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: 4 });
  });

  it('records every command and event exactly once, in a chain that verifies', async () => {
    rig = await makeRig({ limits: { ...LOOSE, maxOrderQuantity: 50 } });
    const orders: PlacedOrderRequest[] = [
      order('buy', 10),
      order('sell', 60),
      order('buy', 5, limit(90)),
      order('sell', 2),
    ];
    for (const o of orders) await rig.engine.submitOrder(o, 'paper');
    await rig.engine.cancel(orders[2]?.client_order_id as string);
    rig.engine.setTradingState('HALTED', 'done');
    await rig.engine.close();
    const records = await rig.auditRecords();
    const published = rig.events.map((e) => e.type);
    const eventRecords = records.map((r) => r.type).filter((t) => published.includes(t as EngineEvent['type']));
    assert.deepEqual(eventRecords, published, 'each published event is in the log once, in order');
    for (const o of orders)
      assert.equal(
        records.filter((r) => r.type === 'SubmitOrder' && JSON.stringify(r.data).includes(o.client_order_id)).length,
        1,
      );
    assert.ok(records.some((r) => r.type === 'CancelOrder'));
    assert.ok(records.some((r) => r.type === 'Halt'));
    assert.ok(existsSync(join(rig.dir, 'trading-state.json')));
  });
});
