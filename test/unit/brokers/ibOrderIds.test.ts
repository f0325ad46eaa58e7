/**
 * TWS's order ids and the refusals that are not about the order, through the real `@stoqey/ib` against the fake TWS.
 *
 * - TWS API "Placing Orders" → "The Next Valid Identifier": with several clients on one account "it is necessary to
 *   use an order ID with new orders which is greater than all previous order IDs returned to the client application
 *   in openOrder or orderStatus callbacks", and after `reqAllOpenOrders` likewise. TWS API "Message Codes" 103
 *   "Duplicate order id": TWS holds an order under that integer id already. Our client order id is the orderRef, so a
 *   103 is not a duplicate client order id: nothing was placed, and the order may go once more under a fresh id.
 * - 321 "Error validating request" with TWS's API set read-only: not an invalid order, a setting to change.
 * - Market data refusals (10197 competing live session, 10168 not subscribed and delayed data off, 321 for a data
 *   request) are not invalid orders (IBKR's table lists the subscription one as 10186, TWS also sends it as 10168): the trader is told what is wrong with the data and what to do.
 */
import * as assert from 'node:assert/strict';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { BrokerError } from '../../../src/brokers/errors';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeTws, type FakeTws, type FakeTwsOptions } from '../../fakes/ib/server';

const order = (cid: string, type: 'market' | 'limit' = 'market'): PlacedOrderRequest => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: type === 'market' ? { type: 'market' } : { type: 'limit', price: 50 },
  quantity: 10,
  time_in_force: { type: type === 'market' ? 'IOC' : 'GTC' },
  metadata: {},
  client_order_id: cid,
});

async function refusal(p: Promise<unknown>): Promise<BrokerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BrokerError, String(e));
    return e;
  }
  assert.fail('expected a BrokerError');
}

describe('IbBroker: order ids TWS already holds, read-only API, refused market data', function () {
  this.timeout(8000);
  let fake: FakeTws | undefined;
  const brokers: IbBroker[] = [];

  const start = async (options: FakeTwsOptions = {}) => {
    fake = await startFakeTws(options);
    fake.setQuote('AAPL', 99, 101);
    return fake;
  };
  const connect = async (clientId: number): Promise<IbBroker> => {
    const f = fake as FakeTws;
    const broker = new IbBroker({
      host: f.host,
      port: f.port,
      clientId,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: () => undefined,
    });
    brokers.push(broker);
    await broker.connect();
    return broker;
  };

  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.disconnect();
    await fake?.close();
    fake = undefined;
  });

  it('another client’s open orders and a reset id sequence: ours goes under an id past theirs, sent once', async () => {
    const f = await start();
    const other = await connect(7);
    await other.submitOrder(order('other-1', 'limit'));
    await other.submitOrder(order('other-2', 'limit'));
    f.resetOrderIdSequence();
    const ours = await connect(13);
    const before = f.requestCount('PLACE_ORDER');
    const placed = await ours.submitOrder(order('ib-ids-1'));
    assert.equal(f.requestCount('PLACE_ORDER') - before, 1);
    assert.equal(placed.status.status, 'filled');
    assert.ok(Number(placed.order_id) > 2, `order id ${placed.order_id} must pass the ids reqAllOpenOrders told`);
    assert.equal(f.ordersWithClientId('ib-ids-1'), 1);
  });

  it('our own filled orders of an earlier session and a reset id sequence: the next one goes past them, sent once', async () => {
    const f = await start();
    const earlier = await connect(13);
    await earlier.submitOrder(order('ib-ids-earlier-1'));
    await earlier.submitOrder(order('ib-ids-earlier-2'));
    await earlier.disconnect();
    f.resetOrderIdSequence();
    // The same client id after a restart: TWS tells the day's executions of this client (reqExecutions on connect).
    const restarted = await connect(13);
    const before = f.requestCount('PLACE_ORDER');
    const placed = await restarted.submitOrder(order('ib-ids-after-restart'));
    assert.equal(f.requestCount('PLACE_ORDER') - before, 1);
    assert.equal(placed.status.status, 'filled');
    assert.equal(f.ordersWithClientId('ib-ids-after-restart'), 1);
  });

  it('103 for an id TWS holds a done order under: placed once more under a fresh id, one order at TWS', async () => {
    const f = await start();
    const other = await connect(7);
    const done = await other.submitOrder(order('other-filled'));
    assert.equal(done.status.status, 'filled');
    f.resetOrderIdSequence();
    const ours = await connect(13);
    const before = f.requestCount('PLACE_ORDER');
    const placed = await ours.submitOrder(order('ib-ids-2'));
    assert.equal(f.requestCount('PLACE_ORDER') - before, 2, 'refused under the taken id, then placed');
    assert.equal(placed.status.status, 'filled');
    assert.notEqual(placed.order_id, done.order_id);
    assert.equal(f.ordersWithClientId('ib-ids-2'), 1);
    assert.equal((await ours.getOrderByClientId('ib-ids-2'))?.order_id, placed.order_id);
  });

  it('103 twice: not placed (retryable, never a duplicate client order id); sending it again places it', async () => {
    const f = await start();
    const other = await connect(7);
    await other.submitOrder(order('other-filled-1'));
    await other.submitOrder(order('other-filled-2'));
    f.resetOrderIdSequence();
    const ours = await connect(13);
    const e = await refusal(ours.submitOrder(order('ib-ids-3')));
    assert.equal(e.venueCode, 103);
    assert.notEqual(e.reason, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.equal(e.notActed, true);
    assert.equal(e.outcomeUnknown, false);
    assert.equal(e.retryable, true);
    assert.match(e.message, /nothing was placed/);
    assert.match(e.message, /client id/);
    assert.equal(f.ordersWithClientId('ib-ids-3'), 0);
    assert.equal(await ours.getOrderByClientId('ib-ids-3'), undefined);
    const again = await ours.submitOrder(order('ib-ids-3'));
    assert.equal(again.status.status, 'filled');
    assert.equal(f.ordersWithClientId('ib-ids-3'), 1);
  });

  it('321 with the API read-only: PERMISSION_DENIED saying which TWS setting to change, nothing placed', async () => {
    const f = await start({ readOnlyApi: true });
    const ours = await connect(13);
    const e = await refusal(ours.submitOrder(order('ib-ro-1')));
    assert.equal(e.reason, 'PERMISSION_DENIED');
    assert.equal(e.venueCode, 321);
    assert.equal(e.outcomeUnknown, false);
    assert.match(e.message, /Read-Only API/);
    assert.equal(f.orders().length, 0);
  });

  const dataRefusals = [
    [10197, 'No market data during competing live session', 'VENUE_UNAVAILABLE', true, /logged in elsewhere/],
    [
      10168,
      'Requested market data is not subscribed. Delayed market data is not enabled.',
      'PERMISSION_DENIED',
      false,
      /subscri/,
    ],
    [
      10186,
      'Requested market data is not subscribed. Delayed market data is not enabled',
      'PERMISSION_DENIED',
      false,
      /subscri/,
    ],
    [321, "Error validating request.-'bO' : cause - Invalid generic tick list", 'VENUE_UNAVAILABLE', false, /321/],
  ] as const;
  for (const [code, message, reason, retryable, says] of dataRefusals) {
    it(`a quote refused with ${code}: ${reason}, not an invalid order`, async () => {
      // No delayed data either: a subscription refusal is asked again for delayed data (ibDelayedData.test.ts).
      await start({ marketDataError: { code, message }, delayedMarketData: false });
      const ours = await connect(13);
      const e = await refusal(ours.getQuote('AAPL'));
      assert.equal(e.reason, reason);
      assert.equal(e.retryable, retryable);
      assert.equal(e.venueCode, code);
      assert.match(e.message, says);
    });
  }
});
