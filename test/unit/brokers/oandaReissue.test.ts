/**
 * An OANDA order whose remaining units are reissued after a partial fill goes on under a NEW order id that replaces
 * the old one: the engine's order (its id and client order id) carries on through the replacement. Its later
 * fills count toward it, it is never reported cancelled while the remainder works, nothing is counted twice, no
 * "external" order appears, and cancelling it cancels the replacement.
 *
 * Sources (oanda/v20-openapi json/v20.json @70324cf; developer.oanda.com/rest-live-v20 Order Endpoints and
 * Transaction Definitions): POST /accounts/{accountID}/orders 201 `orderReissueTransaction` ("The Transaction that
 * reissues the Order. Only provided when the Order is configured to be reissued for its remaining units after a
 * partial fill and the reissue was successful") and `orderReissueRejectTransaction`; LimitOrderTransaction /
 * StopOrderTransaction `reason` (CLIENT_ORDER | REPLACEMENT), `replacesOrderID`, `cancellingTransactionID`;
 * Order `replacesOrderID` / `replacedByOrderID`; OrderCancelTransaction `replacedByOrderID`; an OrderID is
 * "derived from the TransactionID of the Transaction that created the Order". The fake's `reissueRemainder`
 * (test/fakes/oanda/server.ts) plays that shape.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import { parseSubmitReply } from '../../../src/brokers/oanda/orders';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda, type FakeOandaOptions } from '../../fakes/oanda/server';

let sequence = 0;
function limitBuy(quantity: number, price: number): PlacedOrderRequest {
  return {
    symbol: 'EUR_USD',
    side: 'buy',
    quantity,
    order_type: { type: 'limit', price },
    time_in_force: { type: 'GTC' },
    metadata: {},
    client_order_id: `oa-reissue-${process.pid}-${++sequence}`,
  };
}

describe('OANDA: the remainder of a partly filled order reissued under a new id stays the same order', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;
  let updates: OrderUpdate[];
  let errors: string[];

  async function setUp(options: FakeOandaOptions = {}): Promise<void> {
    fake = await startFakeOanda({ reissueRemainder: true, ...options });
    errors = [];
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: (m) => errors.push(m),
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  const filledOf = (orderId: string): number =>
    updates.filter((u) => u.fill && u.order.order_id === orderId).reduce((n, u) => n + (u.fill?.quantity ?? 0), 0);
  const onlyOurs = (orderId: string, clientOrderId: string): void => {
    for (const u of updates) {
      assert.equal(u.order.order_id, orderId, `an update for another order: ${JSON.stringify(u.order)}`);
      assert.equal(u.order.client_order_id, clientOrderId);
      if (u.fill) assert.equal(u.fill.order_id, orderId);
    }
  };
  /** The order OANDA reissued the remainder as (the fake's view). */
  const replacementOf = (orderId: string) => fake.orders().find((o) => o.replacesOrderID === orderId);

  it('reissued in the submit reply: later fills of the replacement fill the original order', async () => {
    await setUp();
    fake.setLiquidity('EUR_USD', 400);
    const req = limitBuy(1000, 1.1001);
    const r = await broker.submitOrder(req);
    assert.equal(r.status.status, 'partially_filled');
    assert.equal(r.filled_quantity, 400);
    const replacement = replacementOf(r.order_id);
    assert.ok(replacement, 'the fake reissued nothing');
    assert.notEqual(replacement.id, r.order_id);
    // The remainder rests, then the poll sees it pending: still our order, working, 400 filled.
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    await broker.poll();
    const open = await broker.listOpenOrders();
    assert.deepEqual(
      open.map((o) => [o.order_id, o.client_order_id, o.quantity, o.filled_quantity]),
      [[r.order_id, req.client_order_id, 1000, 400]],
    );
    assert.equal(updates.filter((u) => u.order.status.status === 'cancelled').length, 0, 'reported cancelled');
    // The remainder fills.
    fake.setLiquidity('EUR_USD', undefined);
    fake.setQuote('EUR_USD', 1.0998, 1.1);
    await broker.poll();
    onlyOurs(r.order_id, req.client_order_id);
    assert.equal(filledOf(r.order_id), 1000);
    const last = updates[updates.length - 1];
    assert.equal(last?.order.status.status, 'filled');
    assert.equal(last?.order.filled_quantity, 1000);
    const status = await broker.getOrderStatus(r.order_id);
    assert.equal(status.status.status, 'filled');
    assert.equal(status.filled_quantity, 1000);
    assert.equal(
      status.fills.reduce((n, f) => n + f.quantity, 0),
      1000,
    );
    assert.equal((await broker.getOrderByClientId(req.client_order_id))?.order_id, r.order_id);
    // Nothing more on a second look.
    const before = updates.length;
    await broker.poll();
    await broker.listOpenOrders();
    assert.equal(updates.length, before);
  });

  it('cancelling the order cancels the replacement that carries its remainder', async () => {
    await setUp();
    fake.setLiquidity('EUR_USD', 250);
    const req = limitBuy(1000, 1.1001);
    const r = await broker.submitOrder(req);
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    const replacement = replacementOf(r.order_id);
    assert.ok(replacement);
    await broker.cancelOrder(r.order_id);
    assert.equal(fake.orders().find((o) => o.id === replacement.id)?.state, 'CANCELLED');
    onlyOurs(r.order_id, req.client_order_id);
    const cancelled = updates.filter((u) => u.order.status.status === 'cancelled');
    assert.equal(cancelled.length, 1);
    assert.equal(cancelled[0]?.order.filled_quantity, 250);
    assert.equal(filledOf(r.order_id), 250);
    await broker.poll();
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'cancelled');
    assert.equal(updates.filter((u) => u.order.status.status === 'cancelled').length, 1);
  });

  it('reissued while resting and not yet polled: a cancel of the order cancels the reissued remainder', async () => {
    await setUp();
    const req = limitBuy(1000, 1.099);
    const r = await broker.submitOrder(req);
    fake.setLiquidity('EUR_USD', 300);
    fake.setQuote('EUR_USD', 1.0986, 1.0988); // 300 filled, 700 reissued
    fake.setQuote('EUR_USD', 1.0993, 1.0995);
    await broker.cancelOrder(r.order_id);
    assert.equal(replacementOf(r.order_id)?.state, 'CANCELLED');
    onlyOurs(r.order_id, req.client_order_id);
    assert.equal(filledOf(r.order_id), 300);
    const cancelled = updates.filter((u) => u.order.status.status === 'cancelled');
    assert.equal(cancelled.length, 1);
    assert.equal(cancelled[0]?.order.filled_quantity, 300);
  });

  it('submit reply lost: found by client order id (now on the reissued order), it is the whole order', async () => {
    await setUp();
    fake.setLiquidity('EUR_USD', 400);
    fake.injectNext({ kind: 'dropConnection' });
    const req = limitBuy(1000, 1.1001);
    await assert.rejects(broker.submitOrder(req), (e: { outcomeUnknown?: boolean }) => e.outcomeUnknown === true);
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    const original = fake.orders().find((o) => o.clientExtensions?.id === req.client_order_id && !o.replacesOrderID);
    assert.ok(original);
    const found = await broker.getOrderByClientId(req.client_order_id);
    assert.deepEqual(
      [found?.order_id, found?.client_order_id, found?.quantity, found?.filled_quantity, found?.status.status],
      [original.id, req.client_order_id, 1000, 400, 'partially_filled'],
    );
    await broker.cancelOrder(original.id);
    assert.equal(replacementOf(original.id)?.state, 'CANCELLED');
    onlyOurs(original.id, req.client_order_id);
    assert.equal(filledOf(original.id), 400);
    assert.equal(updates.filter((u) => u.order.status.status === 'cancelled').length, 1);
  });

  it('after a restart, the open reissued remainder lists as the order first placed, with its fill', async () => {
    await setUp({ reissueKeepsClientId: false });
    fake.setLiquidity('EUR_USD', 400);
    const req = limitBuy(1000, 1.1001);
    const r = await broker.submitOrder(req);
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    await broker.disconnect();
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: (m) => errors.push(m),
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
    const open = await broker.listOpenOrders();
    assert.deepEqual(
      open.map((o) => [o.order_id, o.client_order_id, o.quantity, o.filled_quantity, o.status.status]),
      [[r.order_id, req.client_order_id, 1000, 400, 'partially_filled']],
    );
    fake.setLiquidity('EUR_USD', undefined);
    fake.setQuote('EUR_USD', 1.0998, 1.1);
    await broker.poll();
    onlyOurs(r.order_id, req.client_order_id);
    assert.equal(updates[updates.length - 1]?.order.status.status, 'filled');
    assert.equal(updates[updates.length - 1]?.order.filled_quantity, 1000);
    assert.deepEqual(errors, []);
  });

  for (const strictOrderFields of [false, true])
    it(`a resting order reissued (twice) later, found by polling, without the client id on the reissue${strictOrderFields ? ' (a replaced order names no filling transaction)' : ''}`, async () => {
      await setUp({ reissueKeepsClientId: false, strictOrderFields });
      const req = limitBuy(1000, 1.099);
      const r = await broker.submitOrder(req);
      assert.equal(r.status.status, 'submitted');
      fake.setLiquidity('EUR_USD', 300);
      fake.setQuote('EUR_USD', 1.0986, 1.0988); // executable: 300 fill, 700 reissued
      fake.setQuote('EUR_USD', 1.0993, 1.0995); // the remainder rests
      await broker.poll();
      assert.equal(filledOf(r.order_id), 300);
      assert.equal(updates.filter((u) => u.order.status.status === 'cancelled').length, 0, 'reported cancelled');
      fake.setQuote('EUR_USD', 1.0986, 1.0988); // 300 more, 400 reissued again
      fake.setQuote('EUR_USD', 1.0993, 1.0995);
      await broker.poll();
      assert.equal(filledOf(r.order_id), 600);
      const open = await broker.listOpenOrders();
      assert.deepEqual(
        open.map((o) => [o.order_id, o.client_order_id, o.filled_quantity]),
        [[r.order_id, req.client_order_id, 600]],
      );
      fake.setLiquidity('EUR_USD', undefined);
      fake.setQuote('EUR_USD', 1.0986, 1.0988);
      await broker.poll();
      onlyOurs(r.order_id, req.client_order_id);
      assert.equal(filledOf(r.order_id), 1000);
      assert.equal(updates[updates.length - 1]?.order.status.status, 'filled');
      assert.deepEqual(errors, []);
    });
});

describe('OANDA: the submit reply of an order filled in part and reissued (Order Endpoints, POST /orders 201)', () => {
  const t = '2026-01-02T15:00:00.000000000Z';
  const req = limitBuy(1000, 1.1001);
  const reply = (extra: Record<string, unknown>): unknown => ({
    orderCreateTransaction: {
      id: '10',
      type: 'LIMIT_ORDER',
      instrument: 'EUR_USD',
      units: '1000',
      price: '1.10010',
      timeInForce: 'GTC',
      clientExtensions: { id: req.client_order_id },
      reason: 'CLIENT_ORDER',
      time: t,
    },
    orderFillTransaction: {
      id: '11',
      type: 'ORDER_FILL',
      orderID: '10',
      clientOrderID: req.client_order_id,
      instrument: 'EUR_USD',
      units: '400',
      price: '1.10010',
      reason: 'LIMIT_ORDER',
      time: t,
    },
    ...extra,
  });

  it('orderReissueTransaction: partly filled and still working, carried on by the reissued order', () => {
    const out = parseSubmitReply(
      reply({
        orderCancelTransaction: {
          id: '13',
          type: 'ORDER_CANCEL',
          orderID: '10',
          reason: 'CLIENT_REQUEST_REPLACED',
          time: t,
        },
        orderReissueTransaction: {
          id: '12',
          type: 'LIMIT_ORDER',
          reason: 'REPLACEMENT',
          replacesOrderID: '10',
          units: '600',
          time: t,
        },
      }),
      req,
    );
    assert.deepEqual(out.order.status, { status: 'partially_filled', filled_qty: 400 });
    assert.equal(out.reissuedAs, '12');
  });

  it('orderReissueRejectTransaction: the rest was not reissued, so the order ends with its partial fill', () => {
    const out = parseSubmitReply(
      reply({
        orderReissueRejectTransaction: {
          id: '12',
          type: 'LIMIT_ORDER_REJECT',
          rejectReason: 'INSUFFICIENT_MARGIN',
          time: t,
        },
      }),
      req,
    );
    assert.equal(out.order.status.status, 'cancelled');
    assert.match(out.order.status.status === 'cancelled' ? (out.order.status.reason ?? '') : '', /INSUFFICIENT_MARGIN/);
    assert.equal(out.order.filled_quantity, 400);
    assert.equal(out.reissuedAs, undefined);
  });
});
