/** The TWS API's contracts, orders, statuses and error codes ↔ our model, pure (orders.ts, market.ts, errors.ts). */
import * as assert from 'node:assert/strict';
import { errorMeaning } from '../../../src/brokers/ib/errors';
import { contractFor, symbolOf } from '../../../src/brokers/ib/market';
import {
  formatGoodTillDate,
  orderFor,
  parseGoodTillDate,
  requestFromIb,
  statusFromIb,
} from '../../../src/brokers/ib/orders';
import { BrokerError } from '../../../src/brokers/errors';
import type { PlacedOrderRequest } from '../../../src/orders/model';

const GTD_2030 = Date.UTC(2030, 0, 1, 0, 0, 0);

function order(overrides: Partial<PlacedOrderRequest> & { client_order_id: string }): PlacedOrderRequest {
  return {
    symbol: 'AAPL',
    side: 'buy',
    order_type: { type: 'market' },
    quantity: 10,
    time_in_force: { type: 'GTC' },
    metadata: {},
    ...overrides,
  };
}

describe('IB mapping (pure)', () => {
  it('maps symbols to contracts and back', () => {
    assert.deepEqual(contractFor('EUR_USD'), {
      kind: 'fx',
      contract: { symbol: 'EUR', secType: 'CASH', exchange: 'IDEALPRO', currency: 'USD', localSymbol: 'EUR.USD' },
    });
    assert.deepEqual(contractFor('AAPL').contract, {
      symbol: 'AAPL',
      secType: 'STK',
      exchange: 'SMART',
      currency: 'USD',
    });
    assert.deepEqual(contractFor('BTCUSD').contract, {
      symbol: 'BTC',
      secType: 'CRYPTO',
      exchange: 'PAXOS',
      currency: 'USD',
    });
    assert.equal(contractFor('BRK.B').contract.symbol, 'BRK B');
    assert.throws(
      () => contractFor('BTCUSDT'),
      (e: unknown) => e instanceof BrokerError && e.reason === 'UNKNOWN_SYMBOL',
    );
    assert.equal(symbolOf(contractFor('EUR_USD').contract), 'EUR_USD');
    assert.equal(symbolOf(contractFor('BTC/USD').contract), 'BTCUSD');
    assert.equal(symbolOf(contractFor('BRK.B').contract), 'BRK.B');
  });

  it('maps orders: types, TIF, GTD format, orderRef, transmit', () => {
    assert.equal(formatGoodTillDate(Date.UTC(2030, 0, 2, 3, 4, 5)), '20300102 03:04:05 UTC');
    assert.equal(parseGoodTillDate('20300102 03:04:05 UTC'), Date.UTC(2030, 0, 2, 3, 4, 5));
    const o = orderFor(
      order({
        client_order_id: 'c1',
        order_type: { type: 'stop_limit', stop_price: 101, limit_price: 102 },
        time_in_force: { type: 'GTD', expires_at: GTD_2030 },
      }),
      'equity',
    );
    assert.deepEqual(o, {
      action: 'BUY',
      totalQuantity: 10,
      orderRef: 'c1',
      transmit: true,
      outsideRth: false,
      orderType: 'STP LMT',
      lmtPrice: 102,
      auxPrice: 101,
      tif: 'GTD',
      goodTillDate: '20300101 00:00:00 UTC',
    });
    assert.equal(
      orderFor(order({ client_order_id: 'c2', order_type: { type: 'stop', price: 5 }, side: 'sell' }), 'equity')
        .auxPrice,
      5,
    );
    assert.throws(
      () => orderFor(order({ client_order_id: 'c3', quantity: 1.5 }), 'equity'),
      (e: unknown) => e instanceof BrokerError && e.reason === 'INVALID_ORDER',
    );
    assert.equal(
      orderFor(order({ client_order_id: 'c4', symbol: 'BTCUSD', quantity: 0.01 }), 'crypto').totalQuantity,
      0.01,
    );
  });

  it('maps statuses and error codes', () => {
    const r = order({ client_order_id: 'x' });
    assert.deepEqual(statusFromIb('PendingSubmit', 0, r, 0), { status: 'pending' });
    assert.deepEqual(statusFromIb('PreSubmitted', 0, r, 0), { status: 'submitted' });
    assert.deepEqual(statusFromIb('Submitted', 3, r, 0), { status: 'partially_filled', filled_qty: 3 });
    assert.deepEqual(statusFromIb('PendingCancel', 0, r, 0), { status: 'submitted' });
    assert.deepEqual(statusFromIb('Filled', 10, r, 0), { status: 'filled' });
    assert.deepEqual(statusFromIb('ApiCancelled', 0, r, 0), { status: 'cancelled' });
    assert.deepEqual(statusFromIb('Cancelled', 0, { ...r, time_in_force: { type: 'GTD', expires_at: 100 } }, 200), {
      status: 'expired',
    });
    assert.deepEqual(statusFromIb('Inactive', 0, r, 0, 'no margin'), { status: 'rejected', reason: 'no margin' });
    const reason = (code: number) => {
      const m = errorMeaning(code);
      return m.kind === 'error' ? m.reason : m.kind;
    };
    assert.equal(reason(201), 'reject');
    assert.equal(reason(202), 'cancelled');
    assert.equal(reason(100), 'RATE_LIMITED');
    assert.equal(reason(103), 'INTERNAL');
    assert.equal(reason(10197), 'VENUE_UNAVAILABLE');
    assert.equal(reason(10168), 'PERMISSION_DENIED');
    assert.equal(reason(321), 'INVALID_ORDER');
    assert.equal(reason(200), 'UNKNOWN_SYMBOL');
    assert.equal(reason(502), 'NETWORK');
    assert.equal(reason(504), 'NOT_CONNECTED');
    assert.equal(reason(1100), 'NETWORK');
    assert.equal(reason(10148), 'INVALID_ORDER');
    assert.equal(reason(161), 'INVALID_ORDER');
    assert.equal(reason(10147), 'ORDER_NOT_FOUND');
    assert.equal(reason(2104), 'info');
  });

  it('trailing stops (TWS API "Trailing Stop"): TRAIL with auxPrice or trailingPercent, and read back; none on crypto', () => {
    const trail = (t: PlacedOrderRequest['order_type']) =>
      orderFor(order({ client_order_id: 't', side: 'sell', order_type: t }), 'equity');
    const byAmount = trail({ type: 'trailing_stop', trail_offset: 0.5 });
    assert.deepEqual([byAmount.orderType, byAmount.auxPrice, byAmount.trailingPercent], ['TRAIL', 0.5, undefined]);
    const byPercent = trail({ type: 'trailing_stop', trail_bps: 25 });
    assert.deepEqual([byPercent.orderType, byPercent.auxPrice, byPercent.trailingPercent], ['TRAIL', undefined, 0.25]);
    const contract = contractFor('AAPL').contract;
    assert.deepEqual(requestFromIb(contract, { ...byAmount })?.order_type, {
      type: 'trailing_stop',
      trail_offset: 0.5,
    });
    assert.deepEqual(requestFromIb(contract, { ...byPercent })?.order_type, { type: 'trailing_stop', trail_bps: 25 });
    assert.throws(
      () =>
        orderFor(
          order({ client_order_id: 'c', symbol: 'BTCUSD', order_type: { type: 'trailing_stop', trail_bps: 25 } }),
          'crypto',
        ),
      (e: unknown) => e instanceof BrokerError && e.reason === 'UNSUPPORTED_ORDER' && /PAXOS/.test(e.message),
    );
  });
});
