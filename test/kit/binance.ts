/**
 * Test kit for the Binance adapter against the fake spot server: the adapter as the tests use it, and the
 * BrokerError a call fails with.
 */
import assert from 'node:assert/strict';
import { BinanceBroker } from '../../src/brokers/binance/adapter';
import { isBrokerError, type BrokerError } from '../../src/brokers/errors';
import { staticCredentials } from '../../src/brokers/credentials';
import { TestClock } from '../../src/common/clock';
import type { FakeBinance } from '../fakes/binance/server';

/** A BinanceBroker on `fake` (testnet, its keys): a test clock, 2 s per request, no polling, no rate limiter. */
export function binanceOnFake(fake: FakeBinance, onError: (message: string) => void = () => undefined): BinanceBroker {
  return new BinanceBroker({
    environment: 'testnet',
    baseUrl: fake.url,
    credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
    clock: new TestClock(),
    timeoutMs: 2000,
    pollIntervalMs: 0,
    enableRateLimit: false,
    onError: (message) => onError(message),
  });
}

/** The BrokerError `promise` fails with; the test fails when it succeeds or fails with anything else. */
export async function brokerFailure(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}
