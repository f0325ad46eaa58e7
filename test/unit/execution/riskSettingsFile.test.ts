/**
 * A risk settings file (risk-limits.json, --limits) that is not valid: each problem names the key, what it must be
 * and the value it holds, and a key SPtrader does not know is named with the ones it does. zod's own words were
 * "limits.maxOrderNotional: Invalid input: expected number, received string" and "Unrecognized key: "maxFailures"".
 */
import assert from 'node:assert/strict';
import { parseRiskSettings, SettingsError } from '../../../src/usecases/session';

function refusal(json: unknown): string {
  try {
    parseRiskSettings(json, 'risk-limits.json');
  } catch (e) {
    assert.ok(e instanceof SettingsError, String(e));
    return e.message;
  }
  return assert.fail('accepted');
}

describe('risk settings file: what is wrong, in words', () => {
  for (const [json, message] of [
    [
      { limits: { maxOrderNotional: '1000' } },
      'limits.maxOrderNotional must be a finite number greater than 0, not the text "1000"',
    ],
    [{ limits: { maxOrderNotional: -1 } }, 'limits.maxOrderNotional must be a finite number greater than 0, not -1'],
    [
      { limits: { maxOrderQuantity: Infinity } },
      'limits.maxOrderQuantity must be a finite number greater than 0, not Infinity (a number too large for a float)',
    ],
    [{ limits: { maxOpenOrders: 2.5 } }, 'limits.maxOpenOrders must be a whole number greater than 0, not 2.5'],
    [{ circuitBreaker: { windowMs: null } }, 'circuitBreaker.windowMs must be a whole number greater than 0, not null'],
    [
      { limits: { allowedSymbols: 'EUR_USD' } },
      'limits.allowedSymbols must be a list of symbols such as ["EUR_USD"], not the text "EUR_USD"',
    ],
    [
      { limits: { allowedSymbols: ['EUR_USD', 'GBP USD'] } },
      'limits.allowedSymbols[1] must be a symbol of 1–32 letters, digits or . _ - / : such as "EUR_USD", not the text "GBP USD"',
    ],
    [
      { limits: [] },
      'limits must be an object of settings such as {"maxOrderNotional": 100000}, not a list of 0 items',
    ],
    [
      { circuitBreaker: 5 },
      'circuitBreaker must be an object of settings such as {"maxConsecutiveFailures": 5}, not 5',
    ],
    [
      ['limits'],
      'the file must hold a JSON object such as {"limits": {"maxOrderNotional": 100000}}, not a list of 1 item',
    ],
    [
      { circuitBreaker: { maxFailures: 3 } },
      'circuitBreaker.maxFailures is not a risk setting SPtrader knows (circuitBreaker takes maxConsecutiveFailures, maxFailuresInWindow, windowMs, maxDailyLoss, cooldownMs): rename it to the one meant, or remove it',
    ],
    [
      JSON.parse('{"limits": {"__proto__": {"maxOrderNotional": 1e12}}}') as unknown,
      'limits.__proto__ is not a risk setting SPtrader knows (limits takes maxOrderQuantity, maxPositionQuantity, maxOrderNotional, priceCollarBps, allowedSymbols, maxOpenOrders, maxOrdersPerSecond, orderBurst): rename it to the one meant, or remove it',
    ],
    [
      { limit: { maxOrderNotional: 1 } },
      'limit is not a risk setting SPtrader knows (the file takes limits, circuitBreaker): rename it to the one meant, or remove it',
    ],
  ] as const)
    it(JSON.stringify(json), () => {
      assert.equal(refusal(json), `invalid risk settings in risk-limits.json: ${message}`);
    });

  it('every problem is said, one after another', () => {
    assert.equal(
      refusal({ limits: { maxOrderNotional: 0, orderBurst: 'ten' } }),
      'invalid risk settings in risk-limits.json: limits.maxOrderNotional must be a finite number greater than 0, not 0; limits.orderBurst must be a whole number greater than 0, not the text "ten"',
    );
  });
});
