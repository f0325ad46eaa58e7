/**
 * A client-order-id look-up Alpaca answers 404 (GET /v2/orders:by_client_order_id): "no such order" only when the
 * answer is Alpaca's own. Alpaca's error body is `{"code": <int>, "message": "..."}` (brokers.md §5, the Trading API
 * OpenAPI: "404 not found"; the order route's answer `{"code":40410000,"message":"order not found"}`). The message
 * without its code still says so; a 404 with no body (a proxy, a wrong path) or Alpaca's "endpoint not found" for a
 * path it does not serve says nothing about the order, and the look-up fails, retryable, instead of reading as absent.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { isNoSuchOrder, mapAlpacaError } from '../../../src/brokers/alpaca/errors';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError } from '../../../src/brokers/errors';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

describe('Alpaca adapter: a 404 on a client-order-id look-up is "no such order" only when Alpaca says so', () => {
  let fake: FakeAlpaca | undefined;
  let broker: AlpacaBroker | undefined;

  const lookUpWith = async (body: 'documented' | 'messageOnly' | 'empty') => {
    fake = await startFakeAlpaca({ orderNotFoundBody: body });
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
    return broker.getOrderByClientId('alp-nf-1');
  };

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
    broker = undefined;
    fake = undefined;
  });

  it('Alpaca’s documented answer (code 40410000, "order not found"): absent', async () => {
    assert.equal(await lookUpWith('documented'), undefined);
  });

  it('the message "order not found" without its code: absent', async () => {
    assert.equal(await lookUpWith('messageOnly'), undefined);
  });

  it('a 404 with no body: the look-up fails (retryable), it is not read as absence', async () => {
    await assert.rejects(lookUpWith('empty'), (e: unknown) => isBrokerError(e) && e.retryable);
  });

  it('Alpaca’s 40410000 for a path it does not serve ("endpoint not found") is not "no such order"', () => {
    assert.equal(
      isNoSuchOrder(mapAlpacaError({ status: 404, code: 40410000, message: 'endpoint not found' }, 'order')),
      false,
    );
    assert.equal(isNoSuchOrder(mapAlpacaError({ status: 404, message: 'Not Found' }, 'order')), false);
    assert.equal(isNoSuchOrder(mapAlpacaError({ status: 404, message: 'order not found' }, 'order')), true);
  });
});
