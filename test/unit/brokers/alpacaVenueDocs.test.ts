/**
 * The Alpaca adapter, through the real SDK, against replies Alpaca documents that the fake's own matching
 * never produces: order statuses set by Alpaca's systems, partial fills in fractional quantity strings, and
 * refusals of an order with a 403 other than buying power.
 *
 * Sources: "Orders at Alpaca" → "Order Lifecycle" (pending_new, accepted, new, partially_filled, filled,
 * done_for_day "did not fill fully and will not receive further updates for the day", canceled, expired,
 * replaced, pending_cancel, pending_replace, calculated "completed for the day … settlement calculations are
 * still pending", rejected); "Create Order" responses (403 "Buying power or shares is not sufficient", 422
 * "Input parameters are not recognized"); Alpaca support "Account restricted to liquidation" (the PDT check:
 * "the order is rejected, and API returns error with HTTP status code 403 (Forbidden)"), body
 * `{"code":40310100,"message":"trade denied due to pattern day trading protection"}` (Alpaca forum
 * "trade denied due to pattern day trading protection"); "Values & types": quantities are decimal strings.
 */
import { eventsOf } from '../../kit/orderUpdates';
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError } from '../../../src/brokers/errors';
import { newClientOrderId } from '../../../src/common/ids';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const POST = 'POST /v2/orders';

function order(
  orderType: OrderType,
  tif: TimeInForce = { type: 'GTC' },
  extra: Partial<PlacedOrderRequest> = {},
): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: orderType,
    quantity: 10,
    time_in_force: tif,
    client_order_id: newClientOrderId('d'),
    metadata: {},
    ...extra,
  };
}

describe('Alpaca adapter: replies from the Trading API documentation', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;
  let updates: OrderUpdate[];
  let errors: string[];

  beforeEach(async () => {
    fake = await startFakeAlpaca();
    fake.setQuote('AAPL', 150, 150.1);
    fake.setQuote('BTC/USD', 60_000, 60_010);
    errors = [];
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: (m) => errors.push(m),
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  const statesOf = (orderId: string): string[] => eventsOf(updates, orderId);

  // With what to do where Alpaca's words leave it out ("Orders at Alpaca" → "Buying Power"; Alpaca's pattern day
  // trading support page).
  for (const [code, message, advice] of [
    [40310100, 'trade denied due to pattern day trading protection', /3 in 5 business days\): wait/],
    [
      40310000,
      'insufficient qty available for order (requested: 10, available: 0)',
      /open sell orders hold some, or they are not owned; cancel open sell orders or sell fewer/,
    ],
    [40310000, 'account is not allowed to short', undefined],
  ] as const) {
    it(`a 403 ${code} "${message}" to a submit is that order rejected with Alpaca's reason, sent once`, async () => {
      fake.refuseNextSubmit(403, code, message);
      const o = order({ type: 'limit', price: 149 });
      const r = await broker.submitOrder(o);
      assert.equal(r.status.status, 'rejected', JSON.stringify(r.status));
      assert.ok(r.status.status === 'rejected' && r.status.reason.includes(message), JSON.stringify(r.status));
      assert.ok(r.status.status === 'rejected' && r.status.reason.includes(String(code)), JSON.stringify(r.status));
      const reason = r.status.status === 'rejected' ? r.status.reason : '';
      if (advice === undefined) assert.ok(reason.endsWith(message), reason);
      else assert.match(reason, advice);
      assert.deepEqual(statesOf(r.order_id), ['rejected']);
      assert.equal(fake.requestCount(POST), 1);
      assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
    });
  }

  it('a 422 40010001 to a submit is the order rejected as invalid, with the message', async () => {
    fake.refuseNextSubmit(422, 40010001, 'qty must be > 0');
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    assert.ok(r.status.status === 'rejected' && /INVALID_ORDER: .*qty must be > 0/.test(r.status.reason));
  });

  it('pending_new (the submit reply) → accepted → new: pending, then submitted; nothing is resent', async () => {
    fake.acceptNextAs('pending_new');
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    assert.equal(r.status.status, 'pending');
    fake.setOrder(r.order_id, { status: 'accepted' });
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'pending');
    fake.setOrder(r.order_id, { status: 'new' });
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'submitted');
    assert.deepEqual(statesOf(r.order_id), ['pending', 'submitted']);
    assert.equal(fake.requestCount(POST), 1);
  });

  it('partially filled, then done_for_day, then expired: the fills first, the filled quantity kept', async () => {
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.partialFill(r.order_id, 4, 149);
    fake.setOrder(r.order_id, { status: 'done_for_day' });
    const dfd = await broker.getOrderStatus(r.order_id);
    assert.deepEqual(dfd.status, { status: 'partially_filled', filled_qty: 4 });
    fake.setOrder(r.order_id, { status: 'expired', expired_at: new Date().toISOString() });
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'expired');
    assert.equal(done.filled_quantity, 4);
    assert.equal(done.filled_price, 149);
    assert.deepEqual(statesOf(r.order_id), ['submitted', 'fill 4', 'expired']);
  });

  it('a fill that arrives with expired in one view is reported before the expiry', async () => {
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.setOrder(r.order_id, { status: 'expired', filled_qty: '3', filled_avg_price: '148.95' });
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'expired');
    assert.deepEqual(
      done.fills.map((f) => [f.quantity, f.price]),
      [[3, 148.95]],
    );
    assert.deepEqual(statesOf(r.order_id), ['submitted', 'fill 3', 'expired']);
  });

  // The Order object's status list has grown ("Less common states … accepted_for_bidding … calculated"), and the SDK
  // passes any status through (OrderStatusFromJSON casts): one added later was refused whole, its fills never counted.
  it('a status added after this version: followed by its figures (its fills counted, filled when all filled), said once', async () => {
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.setOrder(r.order_id, { status: 'awaiting_review', filled_qty: '4', filled_avg_price: '149' });
    const part = await broker.getOrderStatus(r.order_id);
    assert.deepEqual(part.status, { status: 'partially_filled', filled_qty: 4 });
    await broker.pollOpenOrders();
    fake.setOrder(r.order_id, { status: 'awaiting_review', filled_qty: '10', filled_avg_price: '149' });
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'filled');
    assert.deepEqual(statesOf(r.order_id), ['submitted', 'fill 4', 'fill 6']);
    const said = errors.filter((e) => e.includes('awaiting_review'));
    assert.equal(said.length, 1, errors.join('\n'));
    assert.match(said[0]!, /does not know: it is followed by its figures/);
  });

  it('replaced is final for this order id (cancelled); calculated with all filled is filled', async () => {
    const a = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.setOrder(a.order_id, { status: 'replaced' });
    assert.equal((await broker.getOrderStatus(a.order_id)).status.status, 'cancelled');
    const b = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.setOrder(b.order_id, { status: 'calculated', filled_qty: '10', filled_avg_price: '149' });
    const done = await broker.getOrderStatus(b.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.filled_quantity, 10);
    // The fill's update carries the order as it stands after it: filled.
    assert.deepEqual(statesOf(b.order_id), ['submitted', 'fill 10']);
    assert.equal(updates[updates.length - 1]!.order.status.status, 'filled');
  });

  it('fractional crypto quantities: partial fills are the exact differences of the filled_qty strings', async () => {
    const r = await broker.submitOrder(
      order({ type: 'limit', price: 59_000 }, { type: 'GTC' }, { symbol: 'BTC/USD', quantity: 0.0123 }),
    );
    fake.setOrder(r.order_id, { status: 'partially_filled', filled_qty: '0.0041', filled_avg_price: '59000' });
    await broker.getOrderStatus(r.order_id);
    fake.setOrder(r.order_id, { status: 'filled', filled_qty: '0.0123', filled_avg_price: '58999.5' });
    const done = await broker.getOrderStatus(r.order_id);
    assert.equal(done.status.status, 'filled');
    assert.equal(done.filled_quantity, 0.0123);
    assert.deepEqual(
      done.fills.map((f) => f.quantity),
      [0.0041, 0.0082],
    );
    // VWAP kept: 0.0041 × 59000 + 0.0082 × p = 0.0123 × 58999.5
    assert.ok(Math.abs(done.fills[1]!.price - 58999.25) < 1e-6, String(done.fills[1]!.price));
    assert.deepEqual(errors, []);
  });

  it('a cancel refused with 422 because the order filled meanwhile reports the fill with the refusal', async () => {
    const r = await broker.submitOrder(order({ type: 'limit', price: 149 }));
    fake.setQuote('AAPL', 148.9, 149); // fills at the venue; the adapter has not looked yet
    await assert.rejects(broker.cancelOrder(r.order_id), (e: unknown) => {
      assert.ok(isBrokerError(e));
      assert.equal(e.reason, 'INVALID_ORDER');
      assert.match(e.message, /filled/);
      return true;
    });
    assert.deepEqual(statesOf(r.order_id), ['submitted', 'fill 10']);
    assert.equal(updates[updates.length - 1]!.order.status.status, 'filled');
  });
});
