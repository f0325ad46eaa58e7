import assert from 'node:assert/strict';
import {
  decimalsIn,
  describeDenial,
  describeOrder,
  describeOutcome,
  describeRecord,
  formatPrice,
  formatQuantity,
  formatSlippage,
  guessKind,
  riskDenialDetail,
  riskValueText,
} from '../../../src/usecases/describeOrder';
import type { EngineEvent } from '../../../src/execution/events';
import type { OrderRecord, OrderState } from '../../../src/execution/orderState';
import type { RiskCheckResult } from '../../../src/execution/risk';
import { computeSlippage } from '../../../src/execution/slippage';
import type { TestOrderOutcome } from '../../../src/usecases/testOrder';
import type { Fill, OrderRequest, OrderResponse, OrderStatus, OrderType, TimeInForce } from '../../../src/orders/model';

const FX = { kind: 'fx' as const, pipSize: 0.0001, tickSize: 0.00001 };
const EQUITY = { kind: 'equity' as const, pipSize: 0.01, tickSize: 0.01 };
const CRYPTO = { kind: 'crypto' as const, pipSize: 0.01, tickSize: 0.01 };

function request(overrides: Partial<OrderRequest> = {}): OrderRequest & { client_order_id: string } {
  return {
    symbol: 'EUR_USD',
    side: 'buy',
    quantity: 10_000,
    order_type: { type: 'market' },
    time_in_force: { type: 'IOC' },
    metadata: {},
    client_order_id: 'sp-abc-1',
    ...overrides,
  };
}

function fill(price: number, quantity: number, i = 1): Fill {
  return {
    fill_id: `f${i}`,
    order_id: 'v1',
    client_order_id: 'sp-abc-1',
    symbol: 'EUR_USD',
    side: 'buy',
    price,
    quantity,
    commission: 0,
    liquidity: 'taker',
    timestamp: 2_000 + i,
  };
}

function response(order: OrderRequest, status: OrderStatus, fills: Fill[]): OrderResponse {
  const filled = fills.reduce((s, f) => s + f.quantity, 0);
  const avg = filled > 0 ? fills.reduce((s, f) => s + f.price * f.quantity, 0) / filled : null;
  return {
    order_id: 'v1',
    client_order_id: 'sp-abc-1',
    symbol: order.symbol,
    side: order.side,
    order_type: order.order_type,
    time_in_force: order.time_in_force,
    quantity: order.quantity,
    status,
    filled_price: avg,
    filled_quantity: filled > 0 ? filled : null,
    commission: fills.length > 0 ? 0 : null,
    timestamp: 3_000,
    created_at: 1_000,
    fills,
  };
}

const stateEvent = (state: OrderState): EngineEvent =>
  ({ type: 'OrderAccepted', at: 2_000, clientOrderId: 'sp-abc-1', venue: 'paper', state }) as unknown as EngineEvent;

function outcome(overrides: Partial<TestOrderOutcome> = {}): TestOrderOutcome {
  return {
    ok: true,
    exitCode: 0,
    summary: 'FILLED on Paper.',
    component: {
      file: '/w/core/orders/c.py',
      className: 'C',
      entryPoint: 'generate_order',
      stdout: '',
      stderr: '',
      output: {},
    },
    marketData: { symbol: 'EUR_USD', bid: 1.0792, ask: 1.0792 },
    order: request(),
    response: null,
    slippage: null,
    timings: { componentMs: 1, pythonMs: 2, engineMs: 0.5, venueMs: 0.2, totalMs: 3.7 },
    errors: [],
    notes: [],
    venue: { id: 'paper', environment: 'paper' },
    scratch: false,
    risk: [],
    denial: null,
    events: [],
    ...overrides,
  };
}

function record(state: OrderState, overrides: Partial<OrderRecord> = {}): OrderRecord {
  return {
    clientOrderId: 'sp-abc-1',
    commandId: 'c1',
    venue: 'paper',
    request: request({ order_type: { type: 'limit', price: 1.085 }, time_in_force: { type: 'GTC' } }),
    state,
    filledUnits: 0n,
    notionalUnits: 0n,
    commission: 0,
    fills: [],
    createdAt: 1_000,
    updatedAt: 2_000,
    ...overrides,
  };
}

const check = (c: Partial<RiskCheckResult> & Pick<RiskCheckResult, 'check' | 'code'>): RiskCheckResult => ({
  passed: false,
  message: '',
  limit: null,
  actual: null,
  ...c,
});

describe('describeOrder: numbers', () => {
  it('groups thousands, keeps decimals, never writes an exponent', () => {
    assert.equal(formatQuantity(10_000), '10,000');
    assert.equal(formatQuantity(1_234_567.891), '1,234,567.891');
    assert.equal(formatQuantity(0.5), '0.5');
    assert.equal(formatQuantity(1e-7), '0.0000001');
    assert.equal(formatQuantity(2.5e9), '2,500,000,000');
    assert.equal(formatQuantity(0.1 + 0.2), '0.3');
    assert.equal(formatQuantity(1e300), '1e+300');
    assert.equal(formatPrice(1.085, 4), '1.0850');
    assert.equal(formatPrice(1.0792233333, 5), '1.07922');
    assert.equal(formatPrice(64_321.5, 2), '64,321.50');
    assert.equal(formatPrice(1.085), '1.085');
    assert.equal(decimalsIn(1.07922), 5);
    assert.equal(decimalsIn(1e-7), 7);
    assert.equal(decimalsIn(100), 0);
  });

  it('guesses FX and crypto from the symbol only to choose the slippage unit', () => {
    assert.equal(guessKind('EUR_USD'), 'fx');
    assert.equal(guessKind('GBPJPY'), 'fx');
    assert.equal(guessKind('BTCUSDT'), 'crypto');
    assert.equal(guessKind('BTC/USD'), 'crypto');
    assert.equal(guessKind('ETH-USD'), 'crypto');
    assert.equal(guessKind('AAPL'), 'other');
  });
});

describe('describeOrder: the order by what it is', () => {
  const cases: Array<[OrderType, TimeInForce, string]> = [
    [{ type: 'market' }, { type: 'IOC' }, 'BUY 10,000 EUR_USD MKT IOC'],
    [{ type: 'limit', price: 1.085 }, { type: 'GTC' }, 'BUY 10,000 EUR_USD LMT 1.085 GTC'],
    [{ type: 'stop', price: 1.09 }, { type: 'FOK' }, 'BUY 10,000 EUR_USD STP 1.09 FOK'],
    [
      { type: 'stop_limit', stop_price: 1.09, limit_price: 1.0905 },
      { type: 'GTC' },
      'BUY 10,000 EUR_USD STP 1.0900/LMT 1.0905 GTC',
    ],
    [
      { type: 'limit', price: 1.085 },
      { type: 'GTD', expires_at: Date.UTC(2025, 4, 1, 12, 30) },
      'BUY 10,000 EUR_USD LMT 1.085 GTD 2025-05-01T12:30Z',
    ],
  ];
  for (const [type, tif, expected] of cases)
    it(`${type.type} ${tif.type}: ${expected}`, () =>
      assert.equal(describeOrder(request({ order_type: type, time_in_force: tif })), expected));

  it('writes prices at the instrument precision when it is known, and marks a live account', () => {
    const o = request({ order_type: { type: 'limit', price: 1.085 }, time_in_force: { type: 'GTC' } });
    assert.equal(describeOrder(o, { pricePrecision: 4 }), 'BUY 10,000 EUR_USD LMT 1.0850 GTC');
    assert.equal(
      describeOrder({ ...o, side: 'sell' }, { live: true, pricePrecision: 5 }),
      'LIVE · SELL 10,000 EUR_USD LMT 1.08500 GTC',
    );
  });

  it('never names the order by its client id', () => {
    assert.doesNotMatch(describeOrder(request()), /sp-abc-1/);
    assert.doesNotMatch(describeRecord(record('ACCEPTED')), /sp-abc-1/);
  });
});

describe('describeOutcome: every status', () => {
  const fxSlip = computeSlippage('buy', { bid: 1.0792, ask: 1.0792 }, 1.07922, FX);

  it('FILLED: quantity @ average price at the instrument precision, slippage in pips', () => {
    const order = request();
    const o = outcome({
      response: response(order, { status: 'filled' }, [fill(1.07922, 10_000)]),
      slippage: fxSlip,
      events: [stateEvent('FILLED')],
    });
    assert.equal(describeOutcome(o), 'BUY 10,000 EUR_USD MKT IOC → FILLED 10,000 @ 1.07922 (+0.2 pip)');
  });

  it("FILLED for another instrument than the market data's: the fill's own decimals, not the quote's", () => {
    // A component run on EUR_USD's quote that ordered USD_JPY said "@ 150.34200" (EUR_USD's five decimals).
    const order = request({ symbol: 'USD_JPY', quantity: 1_000 });
    const o = outcome({
      marketData: { symbol: 'EUR_USD', bid: 1.08675, ask: 1.08687 },
      order,
      response: response(order, { status: 'filled' }, [fill(150.342, 1_000)]),
      events: [stateEvent('FILLED')],
    });
    assert.equal(describeOutcome(o), 'BUY 1,000 USD_JPY MKT IOC → FILLED 1,000 @ 150.342');
    // The same instrument spelt otherwise (EURUSD) is the quote's: its decimals hold.
    const eur = request({ symbol: 'EURUSD' });
    const same = outcome({
      marketData: { symbol: 'EUR_USD', bid: 1.0791, ask: 1.07925 },
      order: eur,
      response: response(eur, { status: 'filled' }, [fill(1.0792, 10_000)]),
    });
    assert.match(describeOutcome(same), /→ FILLED 10,000 @ 1\.07920/);
  });

  it('FILLED over several fills: the average is written at the precision of the fills, not the division', () => {
    const order = request({ quantity: 30_000 });
    const fills = [fill(1.07921, 10_000, 1), fill(1.07922, 10_000, 2), fill(1.07924, 10_000, 3)];
    const slip = computeSlippage('buy', { bid: 1.0791, ask: 1.0792 }, 1.0792233333, FX);
    const o = outcome({ order, response: response(order, { status: 'filled' }, fills), slippage: slip });
    assert.equal(describeOutcome(o), 'BUY 30,000 EUR_USD MKT IOC → FILLED 30,000 @ 1.07922 (+0.23 pip)');
  });

  it('a better price than the quote is negative slippage; more than one pip is plural', () => {
    const order = request({ side: 'sell', quantity: 2_500_000 });
    const slip = computeSlippage('sell', { bid: 1.0792, ask: 1.0793 }, 1.07935, FX);
    const o = outcome({
      order,
      response: response(order, { status: 'filled' }, [fill(1.07935, 2_500_000)]),
      slippage: slip,
    });
    assert.equal(describeOutcome(o), 'SELL 2,500,000 EUR_USD MKT IOC → FILLED 2,500,000 @ 1.07935 (-1.5 pips)');
  });

  it('PARTIALLY FILLED: how much of how much', () => {
    const order = request({ order_type: { type: 'limit', price: 1.0795 }, time_in_force: { type: 'GTC' } });
    const o = outcome({
      order,
      response: response(order, { status: 'partially_filled', filled_qty: 4_000 }, [fill(1.0795, 4_000)]),
      slippage: computeSlippage('buy', { bid: 1.0792, ask: 1.0792 }, 1.0795, FX),
      events: [stateEvent('PARTIALLY_FILLED')],
    });
    assert.equal(
      describeOutcome(o),
      'BUY 10,000 EUR_USD LMT 1.0795 GTC → PARTIALLY FILLED 4,000 of 10,000 @ 1.0795 (+3 pips), rest working',
    );
  });

  it('ACCEPTED: resting at the venue', () => {
    const order = request({ order_type: { type: 'limit', price: 1.078 }, time_in_force: { type: 'GTC' } });
    const o = outcome({
      order,
      response: response(order, { status: 'submitted' }, []),
      events: [stateEvent('ACCEPTED')],
    });
    assert.equal(describeOutcome(o), 'BUY 10,000 EUR_USD LMT 1.0780 GTC → ACCEPTED (working at the venue)');
  });

  it('CANCELLED and EXPIRED: with nothing filled, or after a partial fill', () => {
    const order = request({ order_type: { type: 'limit', price: 1.078 } });
    const none = outcome({
      order,
      response: response(order, { status: 'cancelled' }, []),
      events: [stateEvent('CANCELLED')],
    });
    assert.equal(describeOutcome(none), 'BUY 10,000 EUR_USD LMT 1.0780 IOC → CANCELLED (nothing filled)');
    const some = outcome({ order, response: response(order, { status: 'cancelled' }, [fill(1.078, 2_000)]) });
    assert.equal(describeOutcome(some), 'BUY 10,000 EUR_USD LMT 1.0780 IOC → CANCELLED after 2,000 of 10,000 @ 1.0780');
    // The venue ended it itself and said why: the headline says it.
    const margin = outcome({
      order,
      response: response(order, { status: 'cancelled', reason: 'INSUFFICIENT_MARGIN' }, []),
      events: [stateEvent('CANCELLED')],
    });
    assert.equal(
      describeOutcome(margin),
      'BUY 10,000 EUR_USD LMT 1.0780 IOC → CANCELLED (nothing filled): INSUFFICIENT_MARGIN',
    );
    const gtd = request({
      order_type: { type: 'stop', price: 1.09 },
      time_in_force: { type: 'GTD', expires_at: Date.UTC(2025, 0, 2) },
    });
    const expired = outcome({ order: gtd, response: response(gtd, { status: 'expired' }, []) });
    assert.equal(
      describeOutcome(expired),
      'BUY 10,000 EUR_USD STP 1.0900 GTD 2025-01-02T00:00Z → EXPIRED (nothing filled)',
    );
  });

  it('REJECTED by the venue with its reason; NOT PLACED when nothing reached it', () => {
    const order = request();
    const rejected = outcome({
      ok: false,
      exitCode: 7,
      response: response(order, { status: 'rejected', reason: 'INSUFFICIENT_MARGIN' }, []),
    });
    assert.equal(describeOutcome(rejected), 'BUY 10,000 EUR_USD MKT IOC → REJECTED: INSUFFICIENT_MARGIN');
    const notPlaced = outcome({
      ok: false,
      exitCode: 4,
      response: response(order, { status: 'rejected', reason: 'NOT_PLACED: connection refused' }, []),
    });
    assert.equal(describeOutcome(notPlaced), 'BUY 10,000 EUR_USD MKT IOC → NOT PLACED: connection refused');
  });

  it('DENIED: the check that denied, in numbers with units', () => {
    const o = outcome({
      ok: false,
      exitCode: 3,
      order: request({ time_in_force: { type: 'GTC' } }),
      denial: {
        code: 'POSITION_EXCEEDS_MAXIMUM',
        message: 'Projected EUR_USD position 30,000 exceeds the maximum of ±25,000.',
      },
      risk: [
        check({
          check: 'max_order_quantity',
          code: 'QUANTITY_EXCEEDS_MAXIMUM',
          passed: true,
          limit: 1_000_000,
          actual: 10_000,
        }),
        check({ check: 'max_position', code: 'POSITION_EXCEEDS_MAXIMUM', limit: 25_000, actual: 30_000 }),
      ],
    });
    assert.equal(
      describeOutcome(o),
      'BUY 10,000 EUR_USD MKT GTC → DENIED: POSITION_EXCEEDS_MAXIMUM (30,000 > 25,000 units)',
    );
  });

  it('DENIED without a check (damaged state, halted engine): the denial message', () => {
    const o = outcome({
      ok: false,
      exitCode: 6,
      denial: { code: 'STATE_DAMAGED', message: 'orders.json is damaged\nrun sptrader recover' },
    });
    assert.equal(describeOutcome(o), 'BUY 10,000 EUR_USD MKT IOC → DENIED: STATE_DAMAGED: orders.json is damaged');
  });

  it('UNCONFIRMED: being looked up by client id', () => {
    const order = request();
    const o = outcome({
      ok: false,
      exitCode: 4,
      response: response(order, { status: 'submitted' }, []),
      events: [stateEvent('UNCONFIRMED')],
      errors: [{ code: 'OUTCOME_UNKNOWN', message: 'timeout' }],
    });
    assert.equal(describeOutcome(o), 'BUY 10,000 EUR_USD MKT IOC → UNCONFIRMED (looking it up by client id)');
    // Without the timeline, the error says so.
    assert.equal(
      describeOutcome({ ...o, events: [] }),
      'BUY 10,000 EUR_USD MKT IOC → UNCONFIRMED (looking it up by client id)',
    );
  });

  it('no order: None, a component error with its place, an invalid order', () => {
    assert.equal(describeOutcome(outcome({ order: null })), 'No order: the component returned None; nothing was sent.');
    const error = outcome({
      ok: false,
      exitCode: 1,
      order: null,
      errors: [
        {
          code: 'COMPONENT_ERROR',
          message: 'ZeroDivisionError: division by zero\n  trace',
          file: '/w/core/orders/c.py',
          line: 12,
        },
      ],
    });
    assert.equal(describeOutcome(error), 'No order: COMPONENT_ERROR at c.py:12: ZeroDivisionError: division by zero');
    const invalid = outcome({
      ok: false,
      exitCode: 1,
      order: null,
      errors: [
        { code: 'INVALID_ORDER', message: 'quantity: quantity must be greater than zero', path: 'quantity' },
        { code: 'INVALID_ORDER', message: 'symbol: symbol is required', path: 'symbol' },
      ],
    });
    assert.equal(
      describeOutcome(invalid),
      'No order: INVALID_ORDER: quantity: quantity must be greater than zero (+1 more)',
    );
    const unfit = outcome({
      ok: false,
      exitCode: 1,
      order: request({ quantity: 0.5 }),
      errors: [{ code: 'INVALID_ORDER', message: "quantity 0.5 is below EUR_USD's minimum of 1" }],
    });
    assert.equal(
      describeOutcome(unfit),
      "BUY 0.5 EUR_USD MKT IOC → INVALID_ORDER: quantity 0.5 is below EUR_USD's minimum of 1",
    );
  });

  it('a live account is marked; a live check sends nothing', () => {
    const checked = outcome({
      venue: { id: 'oanda-live', environment: 'live' },
      risk: [
        check({ check: 'trading_state', code: 'TRADING_HALTED', passed: true }),
        check({ check: 'max_position', code: 'POSITION_EXCEEDS_MAXIMUM', passed: true }),
      ],
    });
    assert.equal(
      describeOutcome(checked),
      'LIVE · BUY 10,000 EUR_USD MKT IOC → CHECKED (2 risk checks passed; nothing sent)',
    );
    assert.match(
      describeOutcome(outcome({ venue: { id: 'x', environment: 'live' }, order: null })),
      /^LIVE · No order/,
    );
  });

  it('equity slippage in ticks, crypto in bps', () => {
    const aapl = request({ symbol: 'AAPL', quantity: 1_500, time_in_force: { type: 'GTC' } });
    const eq = outcome({
      order: aapl,
      marketData: { bid: 187.2, ask: 187.25 },
      response: response(aapl, { status: 'filled' }, [fill(187.28, 1_500)]),
      slippage: computeSlippage('buy', { bid: 187.2, ask: 187.25 }, 187.28, EQUITY),
    });
    assert.equal(describeOutcome(eq), 'BUY 1,500 AAPL MKT GTC → FILLED 1,500 @ 187.28 (+3 ticks)');
    const btc = request({ symbol: 'BTCUSDT', side: 'sell', quantity: 0.25 });
    const cr = outcome({
      order: btc,
      marketData: { bid: 64_321.5, ask: 64_321.6 },
      response: response(btc, { status: 'filled' }, [fill(64_315.1, 0.25)]),
      slippage: computeSlippage('sell', { bid: 64_321.5, ask: 64_321.6 }, 64_315.1, CRYPTO),
    });
    assert.equal(describeOutcome(cr), 'SELL 0.25 BTCUSDT MKT IOC → FILLED 0.25 @ 64,315.1 (+0.99 bps)');
    // The instrument's own precision, when the caller knows it, wins over the prices seen.
    assert.equal(
      describeOutcome(cr, { pricePrecision: 2 }),
      'SELL 0.25 BTCUSDT MKT IOC → FILLED 0.25 @ 64,315.10 (+0.99 bps)',
    );
    // The kind, when known, wins over the guess.
    assert.match(describeOutcome(cr, { kind: 'other' }), /\(\+640 ticks\)$/);
  });

  it('big numbers keep their separators and no exponent', () => {
    const big = request({ symbol: 'USD_JPY', quantity: 125_000_000, order_type: { type: 'limit', price: 151.234 } });
    const o = outcome({
      order: big,
      marketData: { bid: 151.23, ask: 151.234 },
      response: response(big, { status: 'filled' }, [fill(151.234, 125_000_000)]),
    });
    assert.equal(describeOutcome(o), 'BUY 125,000,000 USD_JPY LMT 151.234 IOC → FILLED 125,000,000 @ 151.234');
  });
});

describe('describeRecord: the engine’s orders (toasts, the Open Orders tree)', () => {
  it('every state of a record', () => {
    const expected: Record<OrderState, string> = {
      PENDING_SUBMIT: 'PENDING SUBMIT (waiting for the venue)',
      SUBMITTED: 'SUBMITTED (waiting for the venue)',
      ACCEPTED: 'ACCEPTED (working at the venue)',
      PARTIALLY_FILLED: 'PARTIALLY FILLED 0 of 10,000, rest working',
      PENDING_CANCEL: 'PENDING CANCEL (waiting for the venue)',
      FILLED: 'FILLED 10,000',
      CANCELLED: 'CANCELLED (nothing filled)',
      EXPIRED: 'EXPIRED (nothing filled)',
      REJECTED: 'REJECTED: no reason given',
      UNCONFIRMED: 'UNCONFIRMED (looking it up by client id)',
      DENIED: 'DENIED: DENIED',
    };
    for (const [state, text] of Object.entries(expected))
      assert.equal(describeRecord(record(state as OrderState)), `BUY 10,000 EUR_USD LMT 1.085 GTC → ${text}`, state);
  });

  it('fills: how much at what average; a cancel after a partial fill says so', () => {
    const fills = [fill(1.085, 3_000, 1), fill(1.08495, 1_000, 2)];
    assert.equal(
      describeRecord(record('PARTIALLY_FILLED', { fills })),
      'BUY 10,000 EUR_USD LMT 1.08500 GTC → PARTIALLY FILLED 4,000 of 10,000 @ 1.08499, rest working',
    );
    assert.equal(
      describeRecord(record('CANCELLED', { fills })),
      'BUY 10,000 EUR_USD LMT 1.08500 GTC → CANCELLED after 4,000 of 10,000 @ 1.08499',
    );
    assert.equal(
      describeRecord(record('FILLED', { fills: [fill(1.085, 10_000)] }), {
        slippage: computeSlippage('buy', { bid: 1.0849, ask: 1.0849 }, 1.085, FX),
      }),
      'BUY 10,000 EUR_USD LMT 1.085 GTC → FILLED 10,000 @ 1.085 (+1 pip)',
    );
  });

  it('a denial with its code and reason; live marked', () => {
    const denied = record('DENIED', {
      denialCode: 'TRADING_HALTED',
      reason: 'Trading is halted: new orders are denied until trading is resumed.',
    });
    assert.equal(
      describeRecord(denied, { live: true }),
      'LIVE · BUY 10,000 EUR_USD LMT 1.085 GTC → DENIED: TRADING_HALTED (Trading is halted: new orders are denied until trading is resumed.)',
    );
    assert.equal(
      describeDenial(
        request(),
        { code: 'QUANTITY_EXCEEDS_MAXIMUM', message: 'x' },
        [check({ check: 'max_order_quantity', code: 'QUANTITY_EXCEEDS_MAXIMUM', limit: 5_000, actual: 10_000 })],
        { live: true },
      ),
      'LIVE · BUY 10,000 EUR_USD MKT IOC → DENIED: QUANTITY_EXCEEDS_MAXIMUM (10,000 > 5,000 units)',
    );
  });
});

describe('risk numbers with units', () => {
  it('each check’s limit and actual', () => {
    const usd = 'Order value 1,079,220 USD exceeds the maximum per order of 1,000,000 USD.';
    const rows: Array<[RiskCheckResult, string, string]> = [
      [
        check({ check: 'max_order_quantity', code: 'QUANTITY_EXCEEDS_MAXIMUM', limit: 1_000_000, actual: 10_000 }),
        '1,000,000 units',
        '10,000 units',
      ],
      [
        check({ check: 'max_position', code: 'POSITION_EXCEEDS_MAXIMUM', limit: 25_000, actual: -30_000 }),
        '±25,000 units',
        '-30,000 units',
      ],
      [
        check({
          check: 'max_order_notional',
          code: 'NOTIONAL_EXCEEDS_MAX_PER_ORDER',
          limit: 1_000_000,
          actual: 1_079_220,
          message: usd,
        }),
        '1,000,000.00 USD',
        '1,079,220.00 USD',
      ],
      [
        check({
          check: 'buying_power',
          code: 'NOTIONAL_EXCEEDS_BUYING_POWER',
          limit: 100_000,
          actual: 10_792.2,
          message: 'Order value 10,792.2 EUR is within buying power of 100,000 EUR.',
        }),
        '100,000.00 EUR',
        '10,792.20 EUR',
      ],
      [check({ check: 'price_collar', code: 'PRICE_OUTSIDE_COLLAR', limit: 50, actual: 12.5 }), '50 bps', '12.5 bps'],
      [check({ check: 'max_open_orders', code: 'TOO_MANY_OPEN_ORDERS', limit: 20, actual: 1 }), '20 orders', '1 order'],
      [
        check({ check: 'submit_rate', code: 'RATE_LIMIT_EXCEEDED', limit: '5/s (burst 5)', actual: '4 left' }),
        '5/s (burst 5)',
        '4 left',
      ],
      [
        check({ check: 'trading_state', code: 'TRADING_HALTED', limit: 'ACTIVE', actual: 'ACTIVE' }),
        'ACTIVE',
        'ACTIVE',
      ],
      [check({ check: 'max_position', code: 'POSITION_EXCEEDS_MAXIMUM', limit: null, actual: 5 }), '–', '5 units'],
    ];
    for (const [r, limit, actual] of rows) {
      assert.equal(riskValueText(r, 'limit'), limit, r.check);
      assert.equal(riskValueText(r, 'actual'), actual, r.check);
    }
  });

  it('why a check denied', () => {
    assert.equal(
      riskDenialDetail(
        check({ check: 'max_position', code: 'POSITION_EXCEEDS_MAXIMUM', limit: 25_000, actual: -30_000 }),
      ),
      '-30,000 beyond ±25,000 units',
    );
    assert.equal(
      riskDenialDetail(
        check({
          check: 'max_order_notional',
          code: 'NOTIONAL_EXCEEDS_MAX_PER_ORDER',
          limit: 1_000,
          actual: 10_792.2,
          message: 'Order value 10,792.2 USD exceeds the maximum per order of 1,000 USD.',
        }),
      ),
      '10,792.20 > 1,000.00 USD',
    );
    assert.equal(
      riskDenialDetail(check({ check: 'price_collar', code: 'PRICE_OUTSIDE_COLLAR', limit: 10, actual: 42.1 })),
      '42.1 bps from the mid > 10 bps',
    );
    assert.equal(
      riskDenialDetail(check({ check: 'max_open_orders', code: 'TOO_MANY_OPEN_ORDERS', limit: 20, actual: 21 })),
      '21 > 20 working orders',
    );
    assert.equal(
      riskDenialDetail(
        check({ check: 'submit_rate', code: 'RATE_LIMIT_EXCEEDED', limit: '5/s (burst 5)', actual: '0 left' }),
      ),
      'more than 5/s (burst 5)',
    );
    assert.equal(
      riskDenialDetail(
        check({ check: 'allowed_symbols', code: 'SYMBOL_NOT_ALLOWED', limit: 'GBP_USD', actual: 'EUR_USD' }),
      ),
      'EUR_USD not in GBP_USD',
    );
    assert.equal(
      riskDenialDetail(check({ check: 'trading_state', code: 'TRADING_HALTED', limit: 'ACTIVE', actual: 'HALTED' })),
      'trading is HALTED',
    );
    assert.equal(
      riskDenialDetail(
        check({
          check: 'trading_state',
          code: 'TRADING_STATE_REDUCING',
          limit: 'REDUCING',
          actual: 'increases exposure',
        }),
      ),
      'increases exposure while REDUCING',
    );
    assert.equal(
      riskDenialDetail(
        check({
          check: 'buying_power',
          code: 'NO_CONVERSION_RATE',
          limit: 1000,
          message: "No rate converts the order's quote currency into USD, so…",
        }),
      ),
      'no rate values the order in USD',
    );
  });

  it('slippage text', () => {
    assert.equal(formatSlippage({ units: 0.2, unit: 'pip', bps: 0.0185 }), '+0.2 pip');
    assert.equal(formatSlippage({ units: 0, unit: 'pip', bps: 0 }), '0 pips');
    assert.equal(formatSlippage({ units: -1, unit: 'tick', bps: -0.5 }), '-1 tick');
    assert.equal(formatSlippage({ units: 12.3456, unit: 'tick', bps: 1.23456 }, 'crypto'), '+1.23 bps');
  });
});
