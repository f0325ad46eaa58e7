/** Binance's wire ↔ our model, pure (orders.ts, market.ts, errors.ts): no server, no SDK. */
import assert from 'node:assert/strict';
import { toBrokerError } from '../../../src/brokers/binance/errors';
import {
  checkFilters,
  parseSymbolRules,
  snapToFilters,
  type BinanceSymbolRules,
} from '../../../src/brokers/binance/market';
import {
  BINANCE_TRAIL_OFFSET_REFUSAL,
  BINANCE_WHOLE_BPS_REFUSAL,
  parseOrder,
  toCreateOrderArgs,
  toOrderStatus,
} from '../../../src/brokers/binance/orders';
import { isBrokerError, type BrokerErrorReason } from '../../../src/brokers/errors';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';

let seq = 0;
function order(orderType: OrderType, overrides: Partial<PlacedOrderRequest> = {}): PlacedOrderRequest {
  return {
    symbol: 'BTCUSDT',
    side: 'buy',
    order_type: orderType,
    quantity: 0.001,
    time_in_force: { type: 'GTC' },
    client_order_id: `bn-test-${++seq}`,
    metadata: {},
    ...overrides,
  };
}
const tif = (type: 'GTC' | 'IOC' | 'FOK'): TimeInForce => ({ type });

describe('Binance mapping (pure)', () => {
  const rules: BinanceSymbolRules = parseSymbolRules({
    symbol: 'BTCUSDT',
    status: 'TRADING',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    orderTypes: ['LIMIT', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT'],
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: '0.01', maxPrice: '1000000', tickSize: '0.01' },
      { filterType: 'LOT_SIZE', minQty: '0.00001', maxQty: '9000', stepSize: '0.00001' },
      {
        filterType: 'NOTIONAL',
        minNotional: '5',
        applyMinToMarket: true,
        maxNotional: '9000000',
        applyMaxToMarket: false,
      },
    ],
  });

  it('maps our types to ccxt createOrder arguments', () => {
    const m = toCreateOrderArgs(
      order({ type: 'market' }, { time_in_force: tif('IOC'), client_order_id: 'a' }),
      'BTC/USDT',
    );
    assert.deepEqual(m, {
      symbol: 'BTC/USDT',
      side: 'buy',
      amount: 0.001,
      type: 'market',
      price: undefined,
      params: { newClientOrderId: 'a' },
      binanceType: 'MARKET',
    });
    const l = toCreateOrderArgs(
      order({ type: 'limit', price: 1 }, { time_in_force: tif('FOK'), client_order_id: 'b' }),
      'BTC/USDT',
    );
    assert.deepEqual(
      [l.type, l.price, l.params, l.binanceType],
      ['limit', 1, { newClientOrderId: 'b', timeInForce: 'FOK' }, 'LIMIT'],
    );
    const s = toCreateOrderArgs(order({ type: 'stop', price: 2 }, { client_order_id: 'c' }), 'BTC/USDT');
    assert.deepEqual(
      [s.type, s.price, s.params, s.binanceType],
      ['market', undefined, { newClientOrderId: 'c', stopPrice: 2 }, 'STOP_LOSS'],
    );
    const sl = toCreateOrderArgs(
      order({ type: 'stop_limit', stop_price: 3, limit_price: 2.5 }, { client_order_id: 'd' }),
      'BTC/USDT',
    );
    assert.deepEqual(
      [sl.type, sl.price, sl.params, sl.binanceType],
      ['limit', 2.5, { newClientOrderId: 'd', timeInForce: 'GTC', stopPrice: 3 }, 'STOP_LOSS_LIMIT'],
    );
    assert.throws(
      () => toCreateOrderArgs(order({ type: 'market' }, { client_order_id: 'x'.repeat(37) }), 'BTC/USDT'),
      /1–36/,
    );
    assert.throws(
      () => toCreateOrderArgs(order({ type: 'stop', price: 2 }, { time_in_force: tif('FOK') }), 'BTC/USDT'),
      /FOK/,
    );
  });

  it('checks and snaps to the filters, naming the one that fails', () => {
    assert.equal(checkFilters({ order_type: { type: 'limit', price: 30000 }, quantity: 0.001 }, rules), undefined);
    assert.equal(
      checkFilters({ order_type: { type: 'limit', price: 30000.001 }, quantity: 0.001 }, rules)?.filter,
      'PRICE_FILTER',
    );
    assert.equal(
      checkFilters({ order_type: { type: 'stop_limit', stop_price: 0.001, limit_price: 1 }, quantity: 10 }, rules)
        ?.filter,
      'PRICE_FILTER',
    );
    assert.equal(checkFilters({ order_type: { type: 'market' }, quantity: 0.000001 }, rules)?.filter, 'LOT_SIZE');
    assert.equal(checkFilters({ order_type: { type: 'market' }, quantity: 0.0001 }, rules, 30000)?.filter, 'NOTIONAL');
    assert.equal(checkFilters({ order_type: { type: 'market' }, quantity: 0.0001 }, rules), undefined);
    const snapped = snapToFilters({ order_type: { type: 'limit', price: 30000.006 }, quantity: 0.0012349 }, rules);
    assert.deepEqual(snapped, { order_type: { type: 'limit', price: 30000.01 }, quantity: 0.00123 });
  });

  it('maps every Binance status', () => {
    assert.deepEqual(toOrderStatus('NEW', 0), { status: 'submitted' });
    assert.deepEqual(toOrderStatus('PENDING_NEW', 0), { status: 'pending' });
    assert.deepEqual(toOrderStatus('PARTIALLY_FILLED', 0.5), { status: 'partially_filled', filled_qty: 0.5 });
    assert.deepEqual(toOrderStatus('FILLED', 1), { status: 'filled' });
    assert.deepEqual(toOrderStatus('CANCELED', 0), { status: 'cancelled' });
    assert.equal(toOrderStatus('REJECTED', 0).status, 'rejected');
    assert.deepEqual(toOrderStatus('EXPIRED', 0), { status: 'expired' });
    const stp = toOrderStatus('EXPIRED_IN_MATCH', 0, { origQty: 2, preventedQuantity: 2, mode: 'EXPIRE_TAKER' });
    assert.equal(stp.status, 'cancelled');
    assert.match(stp.status === 'cancelled' ? (stp.reason ?? '') : '', /^EXPIRED_IN_MATCH: .*EXPIRE_TAKER.*2 of 2/);
    // faqs/stp_faq.md: FILLED once DECREMENT left nothing else available, with less executed than the quantity.
    const decremented = toOrderStatus('FILLED', 4, { origQty: 6, preventedQuantity: 2, mode: 'DECREMENT' });
    assert.equal(decremented.status, 'cancelled');
    assert.deepEqual(toOrderStatus('FILLED', 6, { origQty: 6, preventedQuantity: 0 }), { status: 'filled' });
  });

  it('refuses a malformed order as BAD_RESPONSE and reads a partial fill', () => {
    assert.throws(
      () => parseOrder({ symbol: 'BTCUSDT', orderId: 1, status: 'WHATEVER' }, { now: 0 }),
      (e: unknown) => isBrokerError(e) && e.reason === 'BAD_RESPONSE',
    );
    const partial = parseOrder(
      {
        symbol: 'BTCUSDT',
        orderId: 7,
        clientOrderId: 'c1',
        price: '30000.00',
        origQty: '0.002',
        executedQty: '0.001',
        cummulativeQuoteQty: '30.000',
        status: 'PARTIALLY_FILLED',
        timeInForce: 'GTC',
        type: 'LIMIT',
        side: 'SELL',
        time: 10,
        updateTime: 20,
      },
      { now: 0 },
    );
    assert.deepEqual(partial.status, { status: 'partially_filled', filled_qty: 0.001 });
    assert.equal(partial.filled_price, 30000);
    assert.equal(partial.order_id, 'BTCUSDT:7');
    assert.equal(partial.side, 'sell');
    assert.equal(partial.created_at, 10);
    assert.equal(partial.timestamp, 20);
  });

  it('a cummulativeQuoteQty below 0 is "not available" (rest-api.md, Query order), never a negative fill price', () => {
    const historical = {
      symbol: 'BTCUSDT',
      orderId: 8,
      clientOrderId: 'old-1',
      price: '30000.00',
      origQty: '0.002',
      executedQty: '0.002',
      cummulativeQuoteQty: '-1.00000000',
      status: 'FILLED',
      timeInForce: 'GTC',
      type: 'LIMIT',
      side: 'BUY',
      time: 10,
      updateTime: 20,
    };
    const unknownPrice = parseOrder(historical, { now: 0 });
    assert.deepEqual(unknownPrice.status, { status: 'filled' });
    assert.equal(unknownPrice.filled_quantity, 0.002);
    assert.equal(unknownPrice.filled_price, null, 'the average price is unknown, not -500');
    // Fills listed in the same reply still price the order.
    const withFills = parseOrder(
      {
        ...historical,
        fills: [
          { price: '30000.00', qty: '0.001', commission: '0', commissionAsset: 'USDT', tradeId: 1 },
          { price: '30010.00', qty: '0.001', commission: '0', commissionAsset: 'USDT', tradeId: 2 },
        ],
      },
      { now: 0, quoteAsset: 'USDT', baseAsset: 'BTC' },
    );
    assert.equal(withFills.filled_price, 30005);
  });

  it('maps Binance codes and ccxt classes to the error taxonomy', () => {
    const ccxtError = (name: string, message = 'x') => Object.assign(new Error(message), { name });
    const cases: Array<
      [unknown, { status?: number; body?: string; retryAfter?: string } | undefined, BrokerErrorReason]
    > = [
      [
        ccxtError('InvalidOrder'),
        { status: 400, body: '{"code":-2010,"msg":"Account has insufficient balance for requested action."}' },
        'INSUFFICIENT_FUNDS',
      ],
      [
        ccxtError('InvalidOrder'),
        { status: 400, body: '{"code":-2010,"msg":"Duplicate order sent."}' },
        'DUPLICATE_CLIENT_ORDER_ID',
      ],
      [
        ccxtError('OrderNotFound'),
        { status: 400, body: '{"code":-2013,"msg":"Order does not exist."}' },
        'ORDER_NOT_FOUND',
      ],
      [
        ccxtError('BadRequest'),
        { status: 400, body: '{"code":-1022,"msg":"Signature for this request is not valid."}' },
        'AUTHENTICATION',
      ],
      [
        ccxtError('DDoSProtection'),
        { status: 400, body: '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}' },
        'AUTHENTICATION',
      ],
      [
        ccxtError('OperationRejected'),
        { status: 401, body: '{"code":-2014,"msg":"API-key format invalid."}' },
        'AUTHENTICATION',
      ],
      [
        ccxtError('DDoSProtection'),
        { status: 418, body: '{"code":-1003,"msg":"banned"}', retryAfter: '120' },
        'RATE_LIMITED',
      ],
      [ccxtError('ExchangeNotAvailable'), { status: 502, body: 'Bad Gateway' }, 'VENUE_UNAVAILABLE'],
      [ccxtError('RequestTimeout'), undefined, 'TIMEOUT'],
      [ccxtError('NetworkError'), undefined, 'NETWORK'],
      [ccxtError('OnMaintenance'), undefined, 'VENUE_UNAVAILABLE'],
      [ccxtError('BadSymbol'), undefined, 'UNKNOWN_SYMBOL'],
      [new TypeError('cannot read x of undefined'), undefined, 'BAD_RESPONSE'],
    ];
    for (const [error, http, reason] of cases) {
      const mapped = toBrokerError(error, {
        operation: 'submit',
        mutating: true,
        http: http && { status: http.status ?? 0, ...http },
        secrets: [],
      });
      assert.equal(mapped.reason, reason, `${String(error)} ${http?.body ?? ''}`);
    }
    const banned = toBrokerError(ccxtError('DDoSProtection'), {
      operation: 'x',
      mutating: false,
      http: { status: 418, retryAfter: '120' },
      secrets: [],
    });
    assert.equal(banned.retryAfterMs, 120_000);
    const timeout = toBrokerError(ccxtError('RequestTimeout'), { operation: 'submit', mutating: true, secrets: [] });
    assert.equal(timeout.outcomeUnknown, true);
    const readTimeout = toBrokerError(ccxtError('RequestTimeout'), {
      operation: 'look up',
      mutating: false,
      secrets: [],
    });
    assert.equal(readTimeout.outcomeUnknown, false);
    const leaky = toBrokerError(
      ccxtError(
        'NetworkError',
        'binance GET http://h/api/v3/account?timestamp=1&signature=abcdef failed for key SECRETKEY123',
      ),
      {
        operation: 'x',
        mutating: false,
        secrets: ['SECRETKEY123'],
      },
    );
    assert.ok(!leaky.message.includes('SECRETKEY123') && !leaky.message.includes('abcdef'), leaky.message);
  });

  it('trailing stops (trailing-stop-faq.md): a STOP_LOSS with trailingDelta in whole BIPS, read back from trailingDelta', () => {
    const m = toCreateOrderArgs(
      order({ type: 'trailing_stop', trail_bps: 50 }, { side: 'sell', client_order_id: 't' }),
      'BTC/USDT',
    );
    assert.deepEqual(m, {
      symbol: 'BTC/USDT',
      side: 'sell',
      amount: 0.001,
      type: 'market',
      price: undefined,
      params: { newClientOrderId: 't', trailingPercent: 0.5, stopLossOrTakeProfit: 'stopLoss' },
      binanceType: 'STOP_LOSS',
    });
    const refused = (t: OrderType, time: TimeInForce = tif('GTC')): string => {
      try {
        toCreateOrderArgs(order(t, { time_in_force: time, client_order_id: 'x' }), 'BTC/USDT');
        return 'sent';
      } catch (e) {
        assert.ok(isBrokerError(e) && e.reason === 'UNSUPPORTED_ORDER', String(e));
        return e.message;
      }
    };
    assert.equal(refused({ type: 'trailing_stop', trail_offset: 50 }), BINANCE_TRAIL_OFFSET_REFUSAL);
    assert.equal(refused({ type: 'trailing_stop', trail_bps: 12.5 }), BINANCE_WHOLE_BPS_REFUSAL);
    assert.match(refused({ type: 'trailing_stop', trail_bps: 50 }, tif('FOK')), /FOK cannot be honoured/);
    const read = parseOrder(
      {
        symbol: 'BTCUSDT',
        orderId: 9,
        clientOrderId: 't',
        price: '0',
        origQty: '0.001',
        executedQty: '0',
        cummulativeQuoteQty: '0',
        status: 'NEW',
        timeInForce: 'GTC',
        type: 'STOP_LOSS',
        side: 'SELL',
        stopPrice: '0',
        trailingDelta: 50,
        time: 1,
        updateTime: 1,
      },
      { now: 1 },
    );
    assert.deepEqual(read.order_type, { type: 'trailing_stop', trail_bps: 50 });
  });
});
