/**
 * An Alpaca refusal with no body (a proxy's or gateway's rewrite of the answer): the SDK's message is its own,
 * "Response returned an error code (HTTP 422)", which says nothing Alpaca said. The error now says what came back
 * (the status, with no body) and what Alpaca's API reference documents that status to mean on that route
 * (alpacahq/alpaca-docs orders.yaml: POST /v2/orders 403 "Buying power or shares is not sufficient.", 422 "Input
 * parameters are not recognized."; DELETE /v2/orders/{order_id} 422 "The order status is not cancelable.").
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { mapAlpacaError } from '../../../src/brokers/alpaca/errors';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError } from '../../../src/brokers/errors';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

describe('Alpaca adapter: a 4xx with no body says so and what Alpaca documents it to mean', () => {
  let fake: FakeAlpaca | undefined;
  let broker: AlpacaBroker | undefined;
  let seq = 0;

  const connect = async () => {
    fake = await startFakeAlpaca({ refusalBody: 'empty' });
    fake.setQuote('AAPL', 150, 150.1);
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: () => undefined,
      retry: { sleep: async () => undefined },
    });
    await broker.connect();
    return { fake, broker };
  };

  const limitBuy = (): PlacedOrderRequest => ({
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'limit', price: 149 },
    quantity: 10,
    time_in_force: { type: 'GTC' },
    client_order_id: `alp-empty-${++seq}`,
    metadata: {},
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
    broker = undefined;
    fake = undefined;
  });

  it('a submit refused 422 with no body: rejected, saying the status, no body, and "Input parameters are not recognized"', async () => {
    const { fake, broker } = await connect();
    fake.refuseNextSubmit(422, 42210000, 'qty must be > 0');
    const r = await broker.submitOrder(limitBuy());
    assert.equal(r.status.status, 'rejected');
    assert.ok(r.status.status === 'rejected');
    assert.doesNotMatch(r.status.reason, /Response returned an error code/);
    assert.equal(
      r.status.reason,
      'INVALID_ORDER: Alpaca 422: the answer had no body (no Alpaca error code or message); POST /v2/orders documents 422 as "Input parameters are not recognized" (a value of the order Alpaca refuses)',
    );
  });

  it('a cancel refused 422 with no body: "The order status is not cancelable"', async () => {
    const { fake, broker } = await connect();
    const placed = await broker.submitOrder(limitBuy());
    fake.setOrder(placed.order_id, { status: 'canceled' });
    await assert.rejects(broker.cancelOrder(placed.order_id), (e: unknown) => {
      assert.ok(isBrokerError(e), String(e));
      assert.equal(e.reason, 'INVALID_ORDER');
      assert.match(
        e.message,
        /^Alpaca 422: the answer had no body \(no Alpaca error code or message\); DELETE \/v2\/orders\/\{order_id\} documents 422 as "The order status is not cancelable"/,
      );
      return true;
    });
  });

  it('the reason is still read from the status alone, and an answer with Alpaca’s body is shown as it was', () => {
    const sdkWords = (status: number) => `Response returned an error code (HTTP ${status})`;
    const forbidden = mapAlpacaError({ status: 403, message: sdkWords(403) }, 'submit');
    assert.equal(forbidden.reason, 'PERMISSION_DENIED');
    assert.match(forbidden.message, /^Alpaca 403: the answer had no body .*"Buying power or shares is not sufficient"/);
    const account = mapAlpacaError({ status: 422, message: '' }, 'account');
    assert.equal(account.message, 'Alpaca 422: the answer had no body (no Alpaca error code or message)');
    const alpacas = mapAlpacaError({ status: 422, code: 42210000, message: 'sub-penny increment' }, 'submit');
    assert.equal(alpacas.message, 'Alpaca 422 (42210000): sub-penny increment');
  });
});
