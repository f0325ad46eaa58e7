/**
 * The OANDA adapter against v20 replies the spec defines that the fake's default matching never produced:
 * IOC fills in part with the rest cancelled, FOK killed for liquidity, fills that close, reduce and open
 * trades, fills without the deprecated `price`, and commission.
 *
 * Sources (oanda/v20-openapi json/v20.json @70324cf): `TimeInForce` ("FOK: The Order must be immediately
 * 'Filled Or Killed'", "IOC: The Order must be 'Immediately partially filled Or Cancelled'");
 * `OrderFillTransaction` (`units` "The number of units filled by the OrderFill"; `price` "This field is now
 * deprecated and should no longer be used. The individual tradesClosed, tradeReduced and tradeOpened fields
 * contain the exact/official price each unit was filled at."; `commission` "always represented as a
 * positive quantity"; `tradeOpened`, `tradesClosed`, `tradeReduced`); `OrderCancelReason`
 * (INSUFFICIENT_LIQUIDITY); `POST /accounts/{accountID}/orders` 201 (`orderCreateTransaction`,
 * `orderFillTransaction`, `orderCancelTransaction`).
 */
import { eventsOf as updateEvents } from '../../kit/orderUpdates';
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda, type FakeOandaOptions } from '../../fakes/oanda/server';

let sequence = 0;
function order(side: 'buy' | 'sell', quantity: number, orderType: OrderType, tif: TimeInForce): PlacedOrderRequest {
  return {
    symbol: 'EUR_USD',
    side,
    quantity,
    order_type: orderType,
    time_in_force: tif,
    metadata: {},
    client_order_id: `oad-${process.pid}-${++sequence}`,
  };
}
const market: OrderType = { type: 'market' };
const IOC: TimeInForce = { type: 'IOC' };
const FOK: TimeInForce = { type: 'FOK' };

describe('OANDA v20 adapter: replies from the v20 spec', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;
  let updates: OrderUpdate[];
  let warnings: string[];

  async function setUp(fakeOptions: FakeOandaOptions = {}): Promise<void> {
    fake = await startFakeOanda(fakeOptions);
    warnings = [];
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: (m) => warnings.push(m),
    });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  }

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  const eventsOf = (orderId: string): string[] => updateEvents(updates, orderId);

  it('IOC filled in part (fill + cancel INSUFFICIENT_LIQUIDITY in one reply): the fill, then cancelled', async () => {
    await setUp({ commissionRate: 0.0001 });
    fake.setLiquidity('EUR_USD', 600);
    const r = await broker.submitOrder(order('buy', 1000, market, IOC));
    assert.equal(r.status.status, 'cancelled');
    assert.equal(r.filled_quantity, 600);
    assert.equal(r.filled_price, 1.1001);
    assert.deepEqual(
      r.fills.map((f) => [f.quantity, f.price]),
      [[600, 1.1001]],
    );
    // 600 × 1.1001 × 0.0001, in account currency to 4 decimals as the fill transaction writes it.
    assert.equal(r.fills[0]!.commission, 0.066);
    assert.equal(r.commission, 0.066);
    assert.deepEqual(eventsOf(r.order_id), ['fill 600', 'cancelled']);
    // Read back (order CANCELLED with both a filling and a cancelling transaction): the same, nothing new.
    const again = await broker.getOrderStatus(r.order_id);
    assert.equal(again.status.status, 'cancelled');
    assert.equal(again.filled_quantity, 600);
    assert.equal(again.fills.length, 1);
    assert.deepEqual(eventsOf(r.order_id), ['fill 600', 'cancelled']);
    assert.equal(fake.requestCount('POST /orders'), 1);
    assert.deepEqual(warnings, []);
  });

  it('FOK that cannot fill entirely is killed (cancelled, nothing filled), not an error', async () => {
    await setUp();
    fake.setLiquidity('EUR_USD', 600);
    const r = await broker.submitOrder(order('buy', 1000, market, FOK));
    assert.equal(r.status.status, 'cancelled');
    assert.equal(r.filled_quantity, null);
    assert.deepEqual(r.fills, []);
  });

  it('a fill that closes one trade and opens another (tradesClosed + tradeOpened) is one fill of all its units', async () => {
    await setUp();
    await broker.submitOrder(order('buy', 100, market, FOK));
    const r = await broker.submitOrder(order('sell', 150, market, FOK));
    assert.equal(r.status.status, 'filled');
    assert.equal(r.filled_quantity, 150);
    assert.deepEqual(
      r.fills.map((f) => [f.side, f.quantity, f.price]),
      [['sell', 150, 1.0999]],
    );
    const positions = await broker.getPositions();
    assert.equal(positions.length, 1);
    assert.equal(positions[0]!.quantity, -50);
  });

  it('a fill that reduces a trade (tradeReduced) is read as is', async () => {
    await setUp();
    await broker.submitOrder(order('buy', 100, market, FOK));
    const r = await broker.submitOrder(order('sell', 40, market, IOC));
    assert.equal(r.status.status, 'filled');
    assert.equal(r.fills[0]!.quantity, 40);
    assert.equal((await broker.getPositions())[0]!.quantity, 60);
  });

  it('a fill whose only prices are its trades (no deprecated price, no fullVWAP) is priced from them', async () => {
    await setUp({ fillPrices: 'tradesOnly' });
    await broker.submitOrder(order('sell', 40, market, FOK));
    fake.setQuote('EUR_USD', 1.0999, 1.1003);
    const r = await broker.submitOrder(order('buy', 100, market, FOK));
    // Closes the 40 short at 1.1003 and opens 60 long at 1.1003: one fill of 100 at 1.1003.
    assert.equal(r.status.status, 'filled');
    assert.equal(r.filled_price, 1.1003);
    assert.deepEqual(
      r.fills.map((f) => [f.quantity, f.price]),
      [[100, 1.1003]],
    );
    const seen = await broker.getOrderByClientId(r.client_order_id);
    assert.equal(seen?.filled_price, 1.1003);
    assert.deepEqual(warnings, []);
  });

  it('a resting stop OANDA cancels itself when triggered (INSUFFICIENT_MARGIN) is cancelled, and the reason is said', async () => {
    await setUp({ balance: 100 });
    const r = await broker.submitOrder(order('buy', 100_000, { type: 'stop', price: 1.101 }, { type: 'GTC' }));
    assert.equal(r.status.status, 'submitted');
    fake.setQuote('EUR_USD', 1.1011, 1.1013); // triggers; 100 000 units need far more margin than 100
    await broker.poll();
    assert.equal(updates[updates.length - 1]!.order.status.status, 'cancelled');
    assert.deepEqual(
      warnings.filter((w) => w.includes(`order ${r.order_id} `)).map((w) => w.replace(/.*itself: /, '')),
      ['INSUFFICIENT_MARGIN'],
    );
    // A cancel we asked for says nothing.
    const mine = await broker.submitOrder(order('buy', 10, { type: 'limit', price: 1.05 }, { type: 'GTC' }));
    await broker.cancelOrder(mine.order_id);
    await broker.getOrderStatus(mine.order_id);
    assert.equal(warnings.filter((w) => w.includes(`order ${mine.order_id} `)).length, 0);
    assert.equal(warnings.length, 1);
  });

  it('a look-up that fails for one order that left the pending list does not hold back the others: asked again next poll', async () => {
    // GET /orders/{orderSpecifier} is asked per order (v20.json "Get Order"); a failure of one is that one's.
    await setUp();
    const first = await broker.submitOrder(order('buy', 10, { type: 'limit', price: 1.099 }, { type: 'GTC' }));
    const second = await broker.submitOrder(order('buy', 20, { type: 'limit', price: 1.098 }, { type: 'GTC' }));
    assert.equal(first.status.status, 'submitted');
    assert.equal(second.status.status, 'submitted');
    fake.setQuote('EUR_USD', 1.097, 1.0972); // both limits are now through the touch: both fill
    fake.injectNext({ kind: 'malformedBody', on: 'lookup' });
    await broker.poll();
    assert.deepEqual(
      eventsOf(second.order_id),
      ['submitted', 'fill 20'],
      'the second order filled, though the first could not be read',
    );
    assert.deepEqual(eventsOf(first.order_id), ['submitted']);
    assert.equal(warnings.filter((w) => w.includes(`order ${first.order_id},`)).length, 1, warnings.join(' | '));
    await broker.poll();
    assert.deepEqual(eventsOf(first.order_id), ['submitted', 'fill 10'], 'read at the next poll');
    assert.deepEqual(eventsOf(second.order_id), ['submitted', 'fill 20'], 'nothing twice');
    assert.equal(fake.requestCount('POST /orders'), 2);
  });

  it('a fill whose trades carry no price (tradeOpened {tradeID, units}, as OANDA’s examples show) is priced from the fill', async () => {
    // TradeOpen and TradeReduce (v20.json definitions) require no field; OANDA's example replies list trades
    // without a price. Such a fill is OANDA's word that the order filled: it must be read, at its own price.
    await setUp({ fillPrices: 'fillOnly' });
    const opened = await broker.submitOrder(order('buy', 100, market, FOK));
    assert.equal(opened.status.status, 'filled');
    assert.deepEqual(
      opened.fills.map((f) => [f.side, f.quantity, f.price]),
      [['buy', 100, 1.1001]],
    );
    // Closes the 100 (tradesClosed without prices) and opens 50 short: one fill of 150 at the bid.
    const reversed = await broker.submitOrder(order('sell', 150, market, IOC));
    assert.equal(reversed.status.status, 'filled');
    assert.deepEqual(
      reversed.fills.map((f) => [f.side, f.quantity, f.price]),
      [['sell', 150, 1.0999]],
    );
    // Read back through the order and its filling transaction: the same fill, nothing new.
    const again = await broker.getOrderStatus(reversed.order_id);
    assert.equal(again.status.status, 'filled');
    assert.equal(again.filled_price, 1.0999);
    assert.deepEqual(eventsOf(reversed.order_id), ['fill 150']);
    assert.equal(fake.requestCount('POST /orders'), 2);
    assert.deepEqual(warnings, []);
  });

  it('an IOC filled in part whose reply was lost: the look-up finds its fill though the order names none', async () => {
    // Order Definitions: fillingTransactionID is "only provided when the Order's state is FILLED"; a CANCELLED IOC
    // that filled in part names only its cancel. Its ORDER_FILL lies between its creation and its cancel.
    await setUp({ strictOrderFields: true });
    fake.setLiquidity('EUR_USD', 600);
    const o = order('buy', 1000, market, IOC);
    fake.injectNext({ kind: 'timeoutAfterAccept' });
    await assert.rejects(broker.submitOrder(o), (e: { reason?: string; outcomeUnknown?: boolean }) => {
      assert.equal(e.reason, 'TIMEOUT');
      assert.equal(e.outcomeUnknown, true);
      return true;
    });
    const found = await broker.getOrderByClientId(o.client_order_id);
    assert.equal(found?.status.status, 'cancelled');
    assert.equal(found?.filled_quantity, 600);
    assert.equal(found?.filled_price, 1.1001);
    assert.deepEqual(
      found?.fills.map((f) => [f.quantity, f.price]),
      [[600, 1.1001]],
    );
    assert.deepEqual(eventsOf(found.order_id), ['fill 600', 'cancelled']);
    // Read again: nothing new, and the transactions are not asked for again.
    const ranges = fake.requestCount('GET /transactions/idrange');
    await broker.getOrderStatus(found.order_id);
    assert.deepEqual(eventsOf(found.order_id), ['fill 600', 'cancelled']);
    assert.equal(fake.requestCount('GET /transactions/idrange'), ranges);
    assert.equal(fake.requestCount('POST /orders'), 1);
  });

  it('an IOC that filled nothing and was cancelled: no fill is made up', async () => {
    await setUp({ strictOrderFields: true });
    fake.setLiquidity('EUR_USD', 0);
    const o = order('buy', 1000, market, IOC);
    fake.injectNext({ kind: 'timeoutAfterAccept' });
    await assert.rejects(broker.submitOrder(o));
    const found = await broker.getOrderByClientId(o.client_order_id);
    assert.equal(found?.status.status, 'cancelled');
    assert.equal(found?.filled_quantity, null);
    assert.deepEqual(found?.fills, []);
  });

  it('a venue serving no /transactions routes: a resting limit that filled is reported filled, once, at its price', async () => {
    // brokers.md §5's minimal OANDA server has GET /orders/{spec} but no GET /transactions/{id}: the FILLED order
    // (with its fillingTransactionID) is all there is. Its fill used to wait for a transaction that never came,
    // every poll, and the order stayed working.
    await setUp({ noTransactionRoutes: true });
    const r = await broker.submitOrder(order('buy', 10, { type: 'limit', price: 1.099 }, { type: 'GTC' }));
    assert.equal(r.status.status, 'submitted');
    fake.setQuote('EUR_USD', 1.0985, 1.099);
    await broker.poll();
    assert.deepEqual(eventsOf(r.order_id), ['submitted', 'fill 10']);
    const seen = await broker.getOrderStatus(r.order_id);
    assert.equal(seen.status.status, 'filled');
    assert.equal(seen.filled_quantity, 10);
    assert.equal(seen.filled_price, 1.099);
    await broker.poll();
    assert.deepEqual(eventsOf(r.order_id), ['submitted', 'fill 10'], 'nothing twice');
    assert.equal(warnings.length, 1, warnings.join(' | '));
    assert.match(warnings[0]!, /did not give fill transaction/);
  });

  it('a venue serving no /transactions routes: a GTD order cancelled at its gtdTime is expired', async () => {
    let venueNow = Date.now();
    await setUp({ noTransactionRoutes: true, now: () => venueNow });
    const expires = venueNow + 60_000;
    const r = await broker.submitOrder(
      order('buy', 10, { type: 'limit', price: 1.05 }, { type: 'GTD', expires_at: expires }),
    );
    venueNow += 120_000;
    await broker.poll();
    assert.deepEqual(eventsOf(r.order_id), ['submitted', 'expired']);
  });

  it('a FILLED order that names no filling transaction is reported filled, once, at its price', async () => {
    // Without fillingTransactionID the fill could not be priced: nothing was said, and the order stayed working.
    await setUp({ noTransactionRoutes: true, omitFillingTransactionId: true });
    const r = await broker.submitOrder(order('sell', 10, { type: 'limit', price: 1.1003 }, { type: 'GTC' }));
    fake.setQuote('EUR_USD', 1.1003, 1.1005);
    await broker.poll();
    assert.deepEqual(eventsOf(r.order_id), ['submitted', 'fill 10']);
    const seen = await broker.getOrderStatus(r.order_id);
    assert.deepEqual([seen.status.status, seen.filled_quantity, seen.filled_price], ['filled', 10, 1.1003]);
    await broker.poll();
    assert.deepEqual(eventsOf(r.order_id), ['submitted', 'fill 10'], 'nothing twice');
  });
});
