/**
 * When a rate limit outlasts the retries, the error says what the unanswered request left: a submit placed
 * nothing, a cancel left the order working, a read was not answered. Through the OANDA adapter against its fake:
 * OANDA "Development Guide" → rate limiting (HTTP 429), RFC 9110 §10.2.3 (Retry-After, here past the 5 s bound).
 */
import assert from 'node:assert/strict';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeOanda, type FakeOanda } from '../../fakes/oanda/server';

let sequence = 0;
const restingLimit = (): PlacedOrderRequest => ({
  symbol: 'EUR_USD',
  side: 'buy',
  quantity: 10,
  order_type: { type: 'limit', price: 1.05 },
  time_in_force: { type: 'GTC' },
  metadata: {},
  client_order_id: `oa-retry-${process.pid}-${++sequence}`,
});

async function failure(call: Promise<unknown>): Promise<BrokerError> {
  try {
    await call;
  } catch (e) {
    if (isBrokerError(e)) return e;
    throw e;
  }
  assert.fail('expected the call to fail');
}

describe('retries that give up say what the request left undone', () => {
  let fake: FakeOanda;
  let broker: OandaBroker;

  beforeEach(async () => {
    fake = await startFakeOanda();
    broker = new OandaBroker({
      baseUrl: fake.url,
      credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: () => undefined,
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('a submit: nothing was placed', async () => {
    fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 6 });
    const o = restingLimit();
    const e = await failure(broker.submitOrder(o));
    assert.equal(e.notActed, true);
    assert.match(e.message, /nothing was placed/);
    assert.equal(fake.ordersWithClientId(o.client_order_id), 0);
  });

  it('a cancel: the order was not cancelled and may still be working (it is), never "nothing was placed"', async () => {
    const placed = await broker.submitOrder(restingLimit());
    fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 6, on: 'cancel' });
    const e = await failure(broker.cancelOrder(placed.order_id));
    assert.equal(e.reason, 'RATE_LIMITED');
    assert.equal(e.notActed, true);
    assert.match(e.message, /not cancelled and may still be working/);
    assert.match(e.message, /cancel it again later/);
    assert.doesNotMatch(e.message, /placed/);
    assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'submitted');
  });

  it('a read: the venue did not answer, never "nothing was placed"', async () => {
    const placed = await broker.submitOrder(restingLimit());
    fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 6, on: 'lookup' });
    const e = await failure(broker.getOrderStatus(placed.order_id));
    assert.equal(e.reason, 'RATE_LIMITED');
    assert.match(e.message, /did not answer/);
    assert.doesNotMatch(e.message, /placed|cancelled/);
  });
});
