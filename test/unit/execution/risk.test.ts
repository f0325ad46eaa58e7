/**
 * Pre-trade risk checks: each check passes exactly at its limit, denies just beyond it with its code,
 * and says both the limit and the actual value (in the fields and in the message). Also: notional at
 * the quote, conversion rates, reducing orders, tightening limits, the token bucket and runRiskChecks.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import {
  checkAllowedSymbols,
  checkBuyingPower,
  checkExpireTime,
  checkMaxOpenOrders,
  checkMaxOrderNotional,
  checkMaxOrderQuantity,
  checkMaxPosition,
  checkPriceCollar,
  checkSubmitRate,
  checkTradingState,
  DEFAULT_RISK_LIMITS,
  formatNumber,
  isReducing,
  orderNotional,
  projectedPosition,
  runRiskChecks,
  tightenLimits,
  TokenBucket,
  type RiskCheckName,
  type RiskCheckResult,
  type RiskCode,
  type RiskContext,
  type RiskLimits,
} from '../../../src/execution/risk';

const NOW = Date.UTC(2026, 0, 5, 14, 30, 0);

const order = (over: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest => ({
  symbol: 'EUR_USD',
  side: 'buy',
  order_type: { type: 'market' },
  quantity: 1000,
  time_in_force: { type: 'GTC' },
  client_order_id: 'cid-1',
  metadata: {},
  ...over,
});

const ctx = (over: Partial<RiskContext> = {}, ord: Partial<PlacedOrderRequest> = {}): RiskContext => ({
  order: order(ord),
  now: NOW,
  tradingState: 'ACTIVE',
  bid: 0.99,
  ask: 1.01,
  position: 0,
  workingBuy: 0,
  workingSell: 0,
  openOrders: 0,
  buyingPower: 1e9,
  accountCurrency: 'USD',
  conversionRate: 1,
  ...over,
});

/** A pass with the expected code, check, limit and actual, whose message shows the given texts. */
function assertPass(
  r: RiskCheckResult,
  check: RiskCheckName,
  code: RiskCode,
  limit: RiskCheckResult['limit'],
  actual: RiskCheckResult['actual'],
  shows: string[] = [],
): void {
  assert.equal(r.check, check);
  assert.equal(r.passed, true, r.message);
  assert.equal(r.code, code);
  assert.equal(r.limit, limit);
  assert.equal(r.actual, actual);
  for (const s of shows)
    assert.ok(r.message.includes(s), `message ${JSON.stringify(r.message)} should show ${JSON.stringify(s)}`);
}

/** A denial with the code, limit and actual, whose message shows both the limit and the actual value. */
function assertDenied(
  r: RiskCheckResult,
  check: RiskCheckName,
  code: RiskCode,
  limit: RiskCheckResult['limit'],
  actual: RiskCheckResult['actual'],
  shows: string[],
): void {
  assert.equal(r.check, check);
  assert.equal(r.passed, false, r.message);
  assert.equal(r.code, code);
  assert.equal(r.limit, limit);
  assert.equal(r.actual, actual);
  for (const s of shows)
    assert.ok(r.message.includes(s), `message ${JSON.stringify(r.message)} should show ${JSON.stringify(s)}`);
}

describe('risk checks', () => {
  describe('max_order_quantity', () => {
    const limits: RiskLimits = { maxOrderQuantity: 1000 };
    it('passes exactly at the limit', () => {
      assertPass(
        checkMaxOrderQuantity(ctx({}, { quantity: 1000 }), limits),
        'max_order_quantity',
        'QUANTITY_EXCEEDS_MAXIMUM',
        1000,
        1000,
        ['1,000'],
      );
    });
    it('denies just beyond it, naming limit and actual', () => {
      const r = checkMaxOrderQuantity(ctx({}, { quantity: 1000.5 }), limits);
      assertDenied(r, 'max_order_quantity', 'QUANTITY_EXCEEDS_MAXIMUM', 1000, 1000.5, ['1,000.5', 'of 1,000.']);
    });
    it('an unset limit passes and says so', () => {
      const r = checkMaxOrderQuantity(ctx({}, { quantity: 1e12 }), {});
      assert.equal(r.passed, true);
      assert.equal(r.limit, null);
      assert.match(r.message, /no maximum/i);
    });
  });

  describe('max_order_notional', () => {
    const limits: RiskLimits = { maxOrderNotional: 1000 };
    it('values a buy at the ask and a sell at the bid, times the conversion rate', () => {
      const c = { bid: 1.2, ask: 1.25, conversionRate: 0.8 };
      assert.equal(orderNotional(ctx(c, { side: 'buy' })), 1000);
      assert.equal(orderNotional(ctx(c, { side: 'sell' })), 960);
      assertPass(
        checkMaxOrderNotional(ctx(c, { side: 'sell' }), limits),
        'max_order_notional',
        'NOTIONAL_EXCEEDS_MAX_PER_ORDER',
        1000,
        960,
        ['960 USD'],
      );
    });
    it('passes exactly at the limit', () => {
      const r = checkMaxOrderNotional(ctx({ bid: 1.2, ask: 1.25, conversionRate: 0.8 }), limits);
      assertPass(r, 'max_order_notional', 'NOTIONAL_EXCEEDS_MAX_PER_ORDER', 1000, 1000, ['1,000 USD']);
    });
    it('denies just beyond it, naming limit and actual', () => {
      const r = checkMaxOrderNotional(ctx({ bid: 1.2, ask: 1.25001, conversionRate: 0.8 }), limits);
      assertDenied(r, 'max_order_notional', 'NOTIONAL_EXCEEDS_MAX_PER_ORDER', 1000, 1000.01, [
        '1,000.01 USD',
        '1,000 USD',
      ]);
    });
    it('denies NO_CONVERSION_RATE when the rate is undefined', () => {
      const c = ctx({ conversionRate: undefined, accountCurrency: 'EUR' });
      assert.equal(orderNotional(c), undefined);
      const r = checkMaxOrderNotional(c, limits);
      assertDenied(r, 'max_order_notional', 'NO_CONVERSION_RATE', 1000, null, ['EUR']);
    });
  });

  describe('buying_power', () => {
    it('passes exactly at the buying power', () => {
      const r = checkBuyingPower(ctx({ buyingPower: 1000, bid: 1.2, ask: 1.25, conversionRate: 0.8 }));
      assertPass(r, 'buying_power', 'NOTIONAL_EXCEEDS_BUYING_POWER', 1000, 1000, ['1,000 USD']);
    });
    it('denies just beyond it, naming limit and actual', () => {
      const r = checkBuyingPower(ctx({ buyingPower: 999.99, bid: 1.2, ask: 1.25, conversionRate: 0.8 }));
      assertDenied(r, 'buying_power', 'NOTIONAL_EXCEEDS_BUYING_POWER', 999.99, 1000, ['1,000 USD', '999.99 USD']);
    });
    it('a reducing order passes with no buying power, even without a conversion rate', () => {
      const r = checkBuyingPower(
        ctx({ buyingPower: 0, position: 1000, conversionRate: undefined }, { side: 'sell', quantity: 1000 }),
      );
      assertPass(r, 'buying_power', 'NOTIONAL_EXCEEDS_BUYING_POWER', 0, 0);
      const short = checkBuyingPower(ctx({ buyingPower: 0, position: -1000 }, { side: 'buy', quantity: 400 }));
      assert.equal(short.passed, true);
    });
    it('an order that flips the position is not reducing and needs buying power', () => {
      const r = checkBuyingPower(ctx({ buyingPower: 0, position: 1000 }, { side: 'sell', quantity: 1000.5 }));
      assert.equal(r.passed, false);
      assert.equal(r.code, 'NOTIONAL_EXCEEDS_BUYING_POWER');
    });
    it('denies NO_CONVERSION_RATE when the rate is undefined', () => {
      const r = checkBuyingPower(ctx({ buyingPower: 5000, conversionRate: undefined }));
      assertDenied(r, 'buying_power', 'NO_CONVERSION_RATE', 5000, null, ['USD']);
    });
  });

  describe('isReducing', () => {
    it('counts working orders that already reduce', () => {
      assert.equal(isReducing('sell', 600, 1000, 0, 400), true);
      assert.equal(isReducing('sell', 601, 1000, 0, 400), false);
      assert.equal(isReducing('buy', 600, -1000, 400, 0), true);
      assert.equal(isReducing('buy', 601, -1000, 400, 0), false);
      assert.equal(isReducing('buy', 1, 1000, 0, 0), false);
      assert.equal(isReducing('sell', 1, 0, 0, 0), false);
    });
  });

  describe('max_position', () => {
    const limits: RiskLimits = { maxPositionQuantity: 2000 };
    it('projects position + working orders on the same side + this order', () => {
      assert.equal(
        projectedPosition(ctx({ position: 500, workingBuy: 500, workingSell: 9999 }, { quantity: 1000 })),
        2000,
      );
      assert.equal(
        projectedPosition(
          ctx({ position: -500, workingBuy: 9999, workingSell: 500 }, { side: 'sell', quantity: 1000 }),
        ),
        -2000,
      );
    });
    it('passes exactly at the limit, long and short', () => {
      assertPass(
        checkMaxPosition(ctx({ position: 500, workingBuy: 500 }), limits),
        'max_position',
        'POSITION_EXCEEDS_MAXIMUM',
        2000,
        2000,
        ['2,000'],
      );
      assertPass(
        checkMaxPosition(ctx({ position: -500, workingSell: 500 }, { side: 'sell' }), limits),
        'max_position',
        'POSITION_EXCEEDS_MAXIMUM',
        2000,
        -2000,
        ['-2,000'],
      );
    });
    it('denies just beyond it, naming limit and actual', () => {
      const r = checkMaxPosition(ctx({ position: 500, workingBuy: 500 }, { quantity: 1000.5 }), limits);
      assertDenied(r, 'max_position', 'POSITION_EXCEEDS_MAXIMUM', 2000, 2000.5, ['2,000.5', '±2,000.']);
      const s = checkMaxPosition(ctx({ position: -500, workingSell: 500 }, { side: 'sell', quantity: 1000.5 }), limits);
      assertDenied(s, 'max_position', 'POSITION_EXCEEDS_MAXIMUM', 2000, -2000.5, ['-2,000.5', '±2,000.']);
    });
    it('a reducing order passes even when the position is beyond the limit', () => {
      const r = checkMaxPosition(ctx({ position: 3000 }, { side: 'sell', quantity: 500 }), limits);
      assertPass(r, 'max_position', 'POSITION_EXCEEDS_MAXIMUM', 2000, 2500);
      // Flipping to a larger position the other way is not reducing.
      assert.equal(checkMaxPosition(ctx({ position: 3000 }, { side: 'sell', quantity: 6500 }), limits).passed, false);
    });
  });

  describe('price_collar', () => {
    const limits: RiskLimits = { priceCollarBps: 500 };
    // bid 0.99, ask 1.01: mid 1.
    it('passes exactly at the collar, above and below the mid', () => {
      assertPass(
        checkPriceCollar(ctx({}, { order_type: { type: 'limit', price: 1.05 } }), limits),
        'price_collar',
        'PRICE_OUTSIDE_COLLAR',
        500,
        500,
        ['500 bps'],
      );
      assertPass(
        checkPriceCollar(ctx({}, { order_type: { type: 'stop', price: 0.95 } }), limits),
        'price_collar',
        'PRICE_OUTSIDE_COLLAR',
        500,
        500,
        ['0.95'],
      );
    });
    it('denies just beyond it, naming limit and actual', () => {
      const r = checkPriceCollar(ctx({}, { order_type: { type: 'limit', price: 1.0501 } }), limits);
      assertDenied(r, 'price_collar', 'PRICE_OUTSIDE_COLLAR', 500, 501, ['501 bps', 'collar of 500 bps', '1.0501']);
    });
    it('judges a stop-limit by its worse price', () => {
      const r = checkPriceCollar(
        ctx({}, { order_type: { type: 'stop_limit', stop_price: 1.01, limit_price: 0.9499 } }),
        limits,
      );
      assertDenied(r, 'price_collar', 'PRICE_OUTSIDE_COLLAR', 500, 501, ['limit price 0.9499']);
    });
    it('a market order has no price to collar', () => {
      assert.equal(checkPriceCollar(ctx(), limits).passed, true);
    });
  });

  describe('allowed_symbols', () => {
    const limits: RiskLimits = { allowedSymbols: ['EUR_USD', 'GBP_USD'] };
    it('passes a listed symbol', () => {
      assertPass(
        checkAllowedSymbols(ctx(), limits),
        'allowed_symbols',
        'SYMBOL_NOT_ALLOWED',
        'EUR_USD, GBP_USD',
        'EUR_USD',
        ['EUR_USD'],
      );
    });
    it('denies an unlisted symbol, naming it and the list', () => {
      const r = checkAllowedSymbols(ctx({}, { symbol: 'USD_JPY' }), limits);
      assertDenied(r, 'allowed_symbols', 'SYMBOL_NOT_ALLOWED', 'EUR_USD, GBP_USD', 'USD_JPY', [
        'USD_JPY',
        'EUR_USD, GBP_USD',
      ]);
    });
    it('is case-sensitive', () => {
      assert.equal(checkAllowedSymbols(ctx({}, { symbol: 'eur_usd' }), limits).passed, false);
    });
    it('an absent or empty list allows every symbol', () => {
      assert.equal(checkAllowedSymbols(ctx({}, { symbol: 'USD_JPY' }), {}).passed, true);
      assert.equal(checkAllowedSymbols(ctx({}, { symbol: 'USD_JPY' }), { allowedSymbols: [] }).passed, true);
    });
  });

  describe('expire_time', () => {
    const nowIso = new Date(NOW).toISOString();
    it('passes an expiry one millisecond after now', () => {
      const at = new Date(NOW + 1).toISOString();
      const r = checkExpireTime(ctx({}, { time_in_force: { type: 'GTD', expires_at: NOW + 1 } }));
      assertPass(r, 'expire_time', 'EXPIRE_TIME_IN_PAST', nowIso, at, [nowIso, at]);
    });
    it('denies an expiry exactly at now, naming both times', () => {
      const r = checkExpireTime(ctx({}, { time_in_force: { type: 'GTD', expires_at: NOW } }));
      assertDenied(r, 'expire_time', 'EXPIRE_TIME_IN_PAST', nowIso, nowIso, [nowIso]);
      const past = new Date(NOW - 60_000).toISOString();
      assertDenied(
        checkExpireTime(ctx({}, { time_in_force: { type: 'GTD', expires_at: NOW - 60_000 } })),
        'expire_time',
        'EXPIRE_TIME_IN_PAST',
        nowIso,
        past,
        [nowIso, past],
      );
    });
    it('a time in force without expiry passes', () => {
      assert.equal(checkExpireTime(ctx()).passed, true);
    });
  });

  describe('max_open_orders', () => {
    const limits: RiskLimits = { maxOpenOrders: 5 };
    it('passes exactly at the limit (counting this order)', () => {
      assertPass(checkMaxOpenOrders(ctx({ openOrders: 4 }), limits), 'max_open_orders', 'TOO_MANY_OPEN_ORDERS', 5, 5, [
        '5 working',
        'maximum of 5',
      ]);
    });
    it('denies just beyond it, naming limit and actual', () => {
      assertDenied(
        checkMaxOpenOrders(ctx({ openOrders: 5 }), limits),
        'max_open_orders',
        'TOO_MANY_OPEN_ORDERS',
        5,
        6,
        ['6 working', 'maximum of 5'],
      );
    });
  });

  describe('submit_rate', () => {
    const limits: RiskLimits = { maxOrdersPerSecond: 2, orderBurst: 3 };
    it('passes up to the burst, then denies with the rate in the message', () => {
      const clock = new TestClock(NOW);
      const bucket = new TokenBucket(2, 3, clock);
      for (let i = 0; i < 3; i++) {
        const r = checkSubmitRate(bucket, limits);
        assertPass(r, 'submit_rate', 'RATE_LIMIT_EXCEEDED', '2/s (burst 3)', `${2 - i} left`, [
          '2 orders/s',
          'burst 3',
        ]);
      }
      const r = checkSubmitRate(bucket, limits);
      assertDenied(r, 'submit_rate', 'RATE_LIMIT_EXCEEDED', '2/s (burst 3)', '0 left', ['2 orders/s', 'burst 3']);
      clock.advance(500);
      assert.equal(checkSubmitRate(bucket, limits).passed, true);
    });
    it('default burst is the rate rounded up', () => {
      const r = checkSubmitRate(new TokenBucket(2.5, 3, new TestClock(NOW)), { maxOrdersPerSecond: 2.5 });
      assert.equal(r.limit, '2.5/s (burst 3)');
    });
    it('passes when no rate or no bucket is set', () => {
      assert.equal(checkSubmitRate(undefined, limits).passed, true);
      assert.equal(checkSubmitRate(new TokenBucket(1, 1, new TestClock(NOW)), {}).passed, true);
    });
  });

  describe('trading_state', () => {
    it('ACTIVE passes; HALTED denies everything, naming the state', () => {
      assertPass(checkTradingState(ctx()), 'trading_state', 'TRADING_HALTED', 'ACTIVE', 'ACTIVE');
      const r = checkTradingState(ctx({ tradingState: 'HALTED', position: 1000 }, { side: 'sell', quantity: 1 }));
      assertDenied(r, 'trading_state', 'TRADING_HALTED', 'ACTIVE', 'HALTED', []);
      assert.match(r.message, /halted/i);
      const why = checkTradingState(ctx({ tradingState: 'HALTED', tradingReason: 'emergency stop from the editor' }));
      assert.equal(
        why.message,
        'Trading is halted (emergency stop from the editor): new orders are denied until trading is resumed.',
      );
    });
    it('REDUCING passes an order that takes the position exactly to zero', () => {
      const r = checkTradingState(ctx({ tradingState: 'REDUCING', position: 1000 }, { side: 'sell', quantity: 1000 }));
      assertPass(r, 'trading_state', 'TRADING_STATE_REDUCING', 'REDUCING', 'reduces exposure', ['REDUCING', '1,000']);
    });
    it('REDUCING denies just beyond, naming the quantity and the position', () => {
      const r = checkTradingState(
        ctx({ tradingState: 'REDUCING', position: 1000 }, { side: 'sell', quantity: 1000.5 }),
      );
      assertDenied(r, 'trading_state', 'TRADING_STATE_REDUCING', 'REDUCING', 'increases exposure', [
        'REDUCING',
        'sell 1,000.5',
        'position of 1,000',
      ]);
    });
    it('REDUCING counts working orders and denies an order that grows the position', () => {
      const c = { tradingState: 'REDUCING' as const, position: 1000, workingSell: 400 };
      assert.equal(checkTradingState(ctx(c, { side: 'sell', quantity: 600 })).passed, true);
      assert.equal(checkTradingState(ctx(c, { side: 'sell', quantity: 601 })).passed, false);
      assert.equal(checkTradingState(ctx(c, { side: 'buy', quantity: 1 })).passed, false);
      assert.equal(checkTradingState(ctx({ tradingState: 'REDUCING' }, { side: 'buy', quantity: 1 })).passed, false);
    });
  });
});

describe('tightenLimits', () => {
  const base: RiskLimits = { ...DEFAULT_RISK_LIMITS, allowedSymbols: ['EUR_USD', 'GBP_USD', 'USD_JPY'] };

  it('no risk_limits: the settings unchanged', () => {
    for (const c of [undefined, null]) {
      const t = tightenLimits(base, c);
      assert.deepEqual(t.limits, base);
      assert.deepEqual(t.issues, []);
      assert.deepEqual(t.tightened, []);
    }
  });

  it('ignores a looser component limit and applies a stricter one', () => {
    const t = tightenLimits(base, {
      max_order_quantity: 2_000_000,
      max_order_notional: 500,
      max_open_orders: 10,
      max_orders_per_second: 100,
    });
    assert.deepEqual(t.issues, []);
    assert.equal(t.limits.maxOrderQuantity, 1_000_000);
    assert.equal(t.limits.maxOrderNotional, 500);
    assert.equal(t.limits.maxOpenOrders, 10);
    assert.equal(t.limits.maxOrdersPerSecond, 50);
    assert.deepEqual(t.tightened.sort(), ['maxOpenOrders', 'maxOrderNotional']);
    // The input is not touched.
    assert.equal(base.maxOrderNotional, 1_000_000);
  });

  it('an equal limit is not counted as tightened', () => {
    assert.deepEqual(tightenLimits(base, { price_collar_bps: 500 }).tightened, []);
  });

  it('a component limit applies where the settings set none', () => {
    const t = tightenLimits({}, { max_position_quantity: 10, price_collar_bps: 20 });
    assert.equal(t.limits.maxPositionQuantity, 10);
    assert.equal(t.limits.priceCollarBps, 20);
  });

  it('allowed symbols intersect', () => {
    const t = tightenLimits(base, { allowed_symbols: ['GBP_USD', 'EUR_USD', 'AUD_USD'] });
    assert.deepEqual(t.limits.allowedSymbols, ['EUR_USD', 'GBP_USD']);
    assert.ok(t.tightened.includes('allowedSymbols'));
    assert.equal(checkAllowedSymbols(ctx({}, { symbol: 'AUD_USD' }), t.limits).passed, false);
    assert.equal(checkAllowedSymbols(ctx({}, { symbol: 'USD_JPY' }), t.limits).passed, false);
    assert.equal(checkAllowedSymbols(ctx({}, { symbol: 'GBP_USD' }), t.limits).passed, true);
    // With no list in the settings the component's list applies.
    assert.deepEqual(tightenLimits({}, { allowed_symbols: ['AUD_USD'] }).limits.allowedSymbols, ['AUD_USD']);
  });

  it('an empty intersection denies every symbol', () => {
    const t = tightenLimits(base, { allowed_symbols: ['AUD_USD'] });
    for (const symbol of ['EUR_USD', 'GBP_USD', 'USD_JPY', 'AUD_USD', 'none']) {
      const r = checkAllowedSymbols(ctx({}, { symbol }), t.limits);
      assert.equal(r.passed, false, symbol);
      assert.equal(r.limit, '(none)');
    }
  });

  it('malformed risk_limits: issues by key, settings unchanged', () => {
    const t = tightenLimits(base, {
      max_order_quantity: -5,
      max_open_orders: 1.5,
      allowed_symbols: 'EUR_USD',
      bogus: 1,
    });
    assert.deepEqual(t.limits, base);
    assert.deepEqual(t.tightened, []);
    const joined = t.issues.join('\n');
    for (const key of [
      'risk_limits.max_order_quantity',
      'risk_limits.max_open_orders',
      'risk_limits.allowed_symbols',
      'bogus',
    ]) {
      assert.ok(joined.includes(key), `issues should name ${key}: ${joined}`);
    }
    assert.equal(t.issues.length, 4);
    const notObject = tightenLimits(base, 'tight please');
    assert.equal(notObject.issues.length, 1);
    assert.match(notObject.issues[0]!, /^risk_limits: /);
  });

  it('malformed risk_limits are said as the key, what it must be and the value Python gave', () => {
    const t = tightenLimits(base, {
      max_position_size: '500',
      max_order_value: { __sptrader_nonfinite__: 'Infinity' },
      max_open_orders: null,
      allowed_symbols: ['EUR_USD', 3],
      max_daily_loss: 500,
    });
    assert.deepEqual(t.issues, [
      "risk_limits.max_position_size must be a finite number greater than zero, got '500'",
      'risk_limits.max_order_value must be a finite number greater than zero, got inf',
      "risk_limits.allowed_symbols[1] must be a symbol such as 'EUR_USD', got 3",
      'risk_limits.max_open_orders must be a whole number greater than zero, got None',
      'risk_limits.max_daily_loss is not a limit SPtrader enforces (it knows max_position_size, max_order_value, ' +
        'max_order_quantity, max_position_quantity, max_order_notional, price_collar_bps, allowed_symbols, max_open_orders, ' +
        'max_orders_per_second): rename it to the one meant, or remove it',
    ]);
    assert.deepEqual(tightenLimits(base, []).issues, [
      "risk_limits: it must be a dict such as {'max_position_size': 10000}, got a list of 0 items",
    ]);
  });

  it('orderBurst cannot be set by a component', () => {
    assert.equal(tightenLimits(base, { order_burst: 1 }).issues.length, 1);
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then refills at the rate as the clock advances', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(2, 3, clock);
    assert.equal(bucket.available(), 3);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
    assert.equal(bucket.available(), 0);
    clock.advance(499);
    assert.equal(bucket.take(), false, 'not a whole token yet');
    clock.advance(1);
    assert.ok(Math.abs(bucket.available() - 1) < 1e-9);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
    clock.advance(1000);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
  });

  it('never holds more than the burst', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(2, 3, clock);
    clock.advance(60_000);
    assert.equal(bucket.available(), 3);
  });

  it('a clock that steps back adds nothing', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(2, 1, clock);
    assert.equal(bucket.take(), true);
    clock.advance(-10_000);
    assert.equal(bucket.take(), false);
  });

  it('after a clock that steps back, orders flow again at the rate rather than waiting out the step', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(2, 1, clock);
    assert.equal(bucket.take(), true);
    clock.advance(-3_600_000);
    assert.equal(bucket.take(), false, 'the step back mints nothing');
    clock.advance(500);
    assert.equal(bucket.take(), true, 'half a second later (rate 2/s) there is a token again, not an hour later');
    assert.equal(bucket.take(), false);
  });

  it('a clock that jumps forward refills at most the burst', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(2, 3, clock);
    for (let i = 0; i < 3; i++) bucket.take();
    clock.advance(86_400_000);
    assert.equal(bucket.available(), 3);
    for (let i = 0; i < 3; i++) assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
  });

  it('configure keeps earned tokens up to the new burst', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(2, 5, clock);
    bucket.configure(1, 2);
    assert.equal(bucket.available(), 2);
    bucket.take();
    bucket.take();
    clock.advance(1000);
    assert.equal(bucket.available(), 1);
  });
});

describe('runRiskChecks', () => {
  const ALL: RiskCheckName[] = [
    'trading_state',
    'allowed_symbols',
    'expire_time',
    'max_order_quantity',
    'max_order_notional',
    'buying_power',
    'max_position',
    'price_collar',
    'max_open_orders',
    'submit_rate',
  ];
  const limits: RiskLimits = { ...DEFAULT_RISK_LIMITS, maxOrdersPerSecond: 1, orderBurst: 2 };

  it('returns every check result when all pass and takes one rate token', () => {
    const bucket = new TokenBucket(1, 2, new TestClock(NOW));
    const out = runRiskChecks(ctx(), limits, bucket);
    assert.equal(out.passed, true);
    assert.equal(out.denial, undefined);
    assert.deepEqual(
      out.results.map((r) => r.check),
      ALL,
    );
    assert.ok(out.results.every((r) => r.passed));
    assert.equal(bucket.available(), 1);
  });

  it('a denial by an earlier check returns all 10 results and takes no rate token', () => {
    const bucket = new TokenBucket(1, 2, new TestClock(NOW));
    const out = runRiskChecks(ctx({}, { quantity: 2_000_000 }), limits, bucket);
    assert.equal(out.passed, false);
    assert.equal(out.results.length, 10);
    assert.deepEqual(
      out.results.map((r) => r.check),
      ALL,
    );
    assert.equal(out.denial?.check, 'max_order_quantity');
    assert.equal(out.denial?.code, 'QUANTITY_EXCEEDS_MAXIMUM');
    // Later checks still ran and report: the value is beyond its maximum too, the position exactly at it.
    assert.equal(out.results.find((r) => r.check === 'max_order_notional')?.passed, false);
    assert.equal(out.results.find((r) => r.check === 'max_position')?.passed, true);
    const rate = out.results[9]!;
    assert.equal(rate.passed, true);
    assert.match(rate.message, /not counted/i);
    assert.equal(bucket.available(), 2);
  });

  it('the first denial is the one reported when several checks deny', () => {
    const out = runRiskChecks(
      ctx({ tradingState: 'HALTED' }, { symbol: 'USD_JPY', quantity: 2_000_000 }),
      { ...limits, allowedSymbols: ['EUR_USD'] },
      undefined,
    );
    assert.equal(out.denial?.code, 'TRADING_HALTED');
    assert.deepEqual(
      out.results.filter((r) => !r.passed).map((r) => r.check),
      ['trading_state', 'allowed_symbols', 'max_order_quantity', 'max_order_notional'],
    );
  });

  it('denies by rate once the burst is spent', () => {
    const clock = new TestClock(NOW);
    const bucket = new TokenBucket(1, 2, clock);
    assert.equal(runRiskChecks(ctx(), limits, bucket).passed, true);
    assert.equal(runRiskChecks(ctx(), limits, bucket).passed, true);
    const third = runRiskChecks(ctx(), limits, bucket);
    assert.equal(third.passed, false);
    assert.equal(third.denial?.code, 'RATE_LIMIT_EXCEEDED');
    assert.equal(third.results.length, 10);
    clock.advance(1000);
    assert.equal(runRiskChecks(ctx(), limits, bucket).passed, true);
  });

  it('an order the rate does not count passes it, takes no token and says why', () => {
    const bucket = new TokenBucket(1, 1, new TestClock(NOW));
    const exempt = runRiskChecks(ctx(), { ...limits, maxOrdersPerSecond: 1 }, { notCounted: 'a reason.' });
    const rate = exempt.results.find((r) => r.check === 'submit_rate');
    assert.deepEqual(
      [exempt.passed, rate?.passed, rate?.actual, rate?.message],
      [true, true, 'not counted', 'Not counted: a reason.'],
    );
    assert.equal(bucket.available(), 1);
    assert.equal(runRiskChecks(ctx(), { ...limits, maxOrdersPerSecond: 1 }, bucket).passed, true);
    assert.equal(runRiskChecks(ctx(), { ...limits, maxOrdersPerSecond: 1 }, bucket).passed, false);
  });
});

describe('risk message numbers', () => {
  const intl = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });

  it('are written exactly as Intl en-US writes them, without Intl on the common path', () => {
    for (const n of [
      0,
      -0,
      1,
      -1,
      999,
      1000,
      -1000,
      1234567.891,
      0.1,
      1e-10,
      1e-11,
      -98765.4321,
      100.02,
      1e12,
      Number.NaN,
      Infinity,
    ])
      assert.equal(formatNumber(n), intl.format(n), String(n));
    // From 1e21 on (a component's absurd 1e300), the exponent instead of a screenful of grouped digits.
    assert.equal(formatNumber(1e21), '1e+21');
    assert.equal(formatNumber(-1e300), '-1e+300');
    fc.assert(
      fc.property(fc.double({ noNaN: true, min: -1e22, max: 1e22 }), (x) => {
        const n = Number.isInteger(x) ? x : Number(x.toPrecision(10));
        assert.equal(formatNumber(n), Math.abs(n) >= 1e21 ? String(n) : intl.format(n));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('risk results carry their sentence wherever they go', () => {
  it('a passing check written when read is the same sentence in JSON, a structured clone and a spread', () => {
    const { results } = runRiskChecks(
      {
        order: {
          symbol: 'EUR_USD',
          side: 'buy',
          order_type: { type: 'limit', price: 1.0845 },
          quantity: 10_000,
          time_in_force: { type: 'GTC' },
          client_order_id: 'sp-1',
          metadata: {},
        },
        now: Date.UTC(2026, 11, 2),
        tradingState: 'ACTIVE',
        bid: 1.0844,
        ask: 1.0846,
        position: 0,
        workingBuy: 0,
        workingSell: 0,
        openOrders: 0,
        buyingPower: 100_000,
        accountCurrency: 'USD',
        conversionRate: 1,
      },
      { ...DEFAULT_RISK_LIMITS, maxOrderQuantity: 1_000_000, maxOrderNotional: 50_000, priceCollarBps: 50 },
      undefined,
    );
    const quantity = results.find((r) => r.check === 'max_order_quantity');
    assert.equal(quantity?.message, 'Quantity 10,000 is within the maximum of 1,000,000.');
    for (const r of results) {
      assert.equal(typeof r.message, 'string');
      assert.ok(r.message.length > 0, r.check);
      const viaJson = JSON.parse(JSON.stringify(r)) as RiskCheckResult;
      assert.equal(viaJson.message, r.message, `${r.check} in JSON`);
      assert.equal(structuredClone(r).message, r.message, `${r.check} in a structured clone`);
      assert.equal({ ...r }.message, r.message, `${r.check} in a spread`);
      assert.deepEqual(Object.keys(r).sort(), ['actual', 'check', 'code', 'limit', 'message', 'passed']);
    }
  });
});
