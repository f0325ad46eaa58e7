/** OANDA v20's wire ↔ our model, pure (orders.ts, errors.ts, wire.ts): no server. */
import assert from 'node:assert/strict';
import { type BrokerError } from '../../../src/brokers/errors';
import { classifyV20Code, explainRefusal, httpError } from '../../../src/brokers/oanda/errors';
import { parsePrices, quoteFromV20, type V20Instrument } from '../../../src/brokers/oanda/market';
import { cancelledStatus, orderFromV20, toV20OrderRequest } from '../../../src/brokers/oanda/orders';
import { parseV20Time } from '../../../src/brokers/oanda/wire';
import type { OrderType, PlacedOrderRequest, TimeInForce } from '../../../src/orders/model';

let sequence = 0;
function order(
  side: 'buy' | 'sell',
  quantity: number,
  orderType: OrderType,
  timeInForce: TimeInForce,
  symbol = 'EUR_USD',
): PlacedOrderRequest {
  return {
    symbol,
    side,
    quantity,
    order_type: orderType,
    time_in_force: timeInForce,
    metadata: {},
    client_order_id: `oa-${process.pid}-${++sequence}`,
  };
}
const market: OrderType = { type: 'market' };
const limit = (price: number): OrderType => ({ type: 'limit', price });
const stop = (price: number): OrderType => ({ type: 'stop', price });
const FOK: TimeInForce = { type: 'FOK' };
const IOC: TimeInForce = { type: 'IOC' };
const GTC: TimeInForce = { type: 'GTC' };

describe('OANDA v20 mapping (pure)', () => {
  const EUR: V20Instrument = {
    name: 'EUR_USD',
    type: 'CURRENCY',
    pipLocation: -4,
    displayPrecision: 5,
    tradeUnitsPrecision: 0,
    minimumTradeSize: 1,
    maximumOrderUnits: 100_000_000,
  };

  it('maps every type × TIF as the header table says', () => {
    const cases: Array<[OrderType, TimeInForce, string]> = [
      [market, FOK, 'MARKET FOK'],
      [market, IOC, 'MARKET IOC'],
      [limit(1.1), GTC, 'LIMIT GTC 1.10000'],
      [limit(1.1), IOC, 'LIMIT IOC 1.10000'],
      [limit(1.1), FOK, 'LIMIT FOK 1.10000'],
      [stop(1.2), { type: 'GTD', expires_at: Date.UTC(2031, 5, 1, 12) }, 'STOP GTD 1.20000 2031-06-01T12:00:00.000Z'],
    ];
    for (const [type, tif, expected] of cases) {
      const r = toV20OrderRequest(order('sell', 3, type, tif), EUR);
      const described = [
        r.type,
        r.timeInForce,
        'price' in r ? r.price : undefined,
        'gtdTime' in r ? r.gtdTime : undefined,
      ]
        .filter(Boolean)
        .join(' ');
      assert.equal(described, expected);
      assert.equal(r.units, '-3');
    }
    assert.throws(
      () => toV20OrderRequest(order('buy', 1, market, GTC), EUR),
      (e: BrokerError) => e.reason === 'UNSUPPORTED_ORDER',
    );
    assert.throws(
      () => toV20OrderRequest(order('buy', 0.5, market, FOK), EUR),
      (e: BrokerError) => e.reason === 'INVALID_ORDER',
    );
  });

  it('classifies codes and HTTP statuses', () => {
    assert.deepEqual(classifyV20Code('INSUFFICIENT_MARGIN'), { reason: 'INSUFFICIENT_FUNDS', retryable: false });
    assert.deepEqual(classifyV20Code('CLIENT_ORDER_ID_ALREADY_EXISTS'), {
      reason: 'DUPLICATE_CLIENT_ORDER_ID',
      retryable: false,
    });
    assert.deepEqual(classifyV20Code('TIME_IN_FORCE_INVALID'), { reason: 'INVALID_ORDER', retryable: false });
    assert.deepEqual(classifyV20Code('MARKET_HALTED'), { reason: 'VENUE_UNAVAILABLE', retryable: true });
    const base = {
      body: { errorMessage: 'x' },
      route: 'GET /orders/{spec}',
      notFound: 'ORDER_NOT_FOUND' as const,
      mutating: false,
      now: 0,
    };
    assert.equal(httpError({ ...base, status: 401 }).reason, 'AUTHENTICATION');
    assert.equal(httpError({ ...base, status: 403 }).reason, 'PERMISSION_DENIED');
    assert.equal(httpError({ ...base, status: 404 }).reason, 'ORDER_NOT_FOUND');
    assert.equal(httpError({ ...base, status: 429, retryAfter: '3' }).retryAfterMs, 3000);
    const e500 = httpError({ ...base, status: 500 });
    assert.deepEqual([e500.reason, e500.retryable, e500.outcomeUnknown], ['VENUE_UNAVAILABLE', true, false]);
    assert.equal(e500.retryAfterMs, undefined);
    // A 503 with Retry-After (RFC 9110 §10.2.3), in seconds or as an HTTP-date: the wait is kept; a submit stays an
    // unknown outcome, never resent.
    assert.equal(httpError({ ...base, status: 503, retryAfter: '30' }).retryAfterMs, 30_000);
    const dated = httpError({ ...base, status: 503, retryAfter: new Date(60_000).toUTCString(), mutating: true });
    assert.deepEqual([dated.retryAfterMs, dated.outcomeUnknown, dated.retryable], [60_000, true, false]);
  });

  it('an error reply without OANDA\'s errorMessage (v20 "Error Response") is said as what came back', () => {
    const refused = (body: unknown) =>
      httpError({ body, status: 400, route: 'POST /orders', notFound: 'ORDER_NOT_FOUND', mutating: true, now: 0 })
        .message;
    assert.equal(
      refused({ message: 'x', errorMessage: 5 }),
      'OANDA refused POST /orders (HTTP 400): a reply without OANDA\'s errorMessage: {"message":"x","errorMessage":5}',
    );
    assert.equal(refused([1, 2]), "OANDA refused POST /orders (HTTP 400): a reply without OANDA's errorMessage: [1,2]");
    assert.equal(refused(''), 'OANDA refused POST /orders (HTTP 400): an empty reply, no errorMessage');
    assert.equal(
      refused('<html>Bad Request</html>'),
      'OANDA refused POST /orders (HTTP 400): <html>Bad Request</html>',
    );
    assert.match(refused({ long: 'y'.repeat(500) }), /: \{"long":"y{191}…$/);
  });

  it('reads UNIX times and maps cancel reasons', () => {
    assert.equal(parseV20Time('1893456000.123456789'), 1893456000123);
    assert.equal(parseV20Time('2030-01-01T00:00:00.123456789Z'), 1893456000123);
    // One instant in both forms of the v20 DateTime (Accept-Datetime-Format RFC3339 or UNIX) reads the same.
    for (const [unix, rfc] of [
      ['1466620889.285982286', '2016-06-22T18:41:29.285982286Z'],
      ['1466620889.9999', '2016-06-22T18:41:29.9999Z'],
      ['1466620889', '2016-06-22T18:41:29Z'],
      ['1466620889.5', '2016-06-22T18:41:29.5Z'],
    ] as const)
      assert.equal(parseV20Time(unix), parseV20Time(rfc), unix);
    assert.deepEqual(cancelledStatus('CLIENT_REQUEST', 'GTC', false, 0), { status: 'cancelled' });
    assert.deepEqual(cancelledStatus('TIME_IN_FORCE_EXPIRED', 'GTD', false, 0), { status: 'expired' });
    assert.deepEqual(cancelledStatus('TIME_IN_FORCE_EXPIRED', 'IOC', true, 0), {
      status: 'cancelled',
      reason: 'TIME_IN_FORCE_EXPIRED',
    });
    // Refused on arrival (a 201 with no errorMessage): OANDA's reason, then what it means and what to do.
    assert.deepEqual(cancelledStatus('MARKET_HALTED', 'FOK', true, 0), {
      status: 'rejected',
      reason:
        'MARKET_HALTED: trading in this instrument was halted (a closed or paused market): send it again when the market is open',
    });
    assert.match(
      explainRefusal('ACCOUNT_NEW_POSITIONS_LOCKED'),
      /^ACCOUNT_NEW_POSITIONS_LOCKED: OANDA has locked the account/,
    );
    assert.match(explainRefusal('POSITION_SIZE_EXCEEDED'), /past the account's limit: trade fewer units$/);
    assert.match(explainRefusal('FIFO_VIOLATION'), /oldest trade in this instrument first \(FIFO\)/);
    // A reason with nothing to add is OANDA's code alone.
    assert.equal(explainRefusal('STOP_LOSS_ON_FILL_LOSS'), 'STOP_LOSS_ON_FILL_LOSS');
    assert.deepEqual(cancelledStatus('INSUFFICIENT_LIQUIDITY', 'IOC', true, 5), {
      status: 'cancelled',
      reason: 'INSUFFICIENT_LIQUIDITY',
    });
    // A working order OANDA cancelled itself later: cancelled, with OANDA's reason.
    assert.deepEqual(cancelledStatus('INSUFFICIENT_MARGIN', 'GTC', false, 0), {
      status: 'cancelled',
      reason: 'INSUFFICIENT_MARGIN',
    });
  });

  it('reads a PriceBucket liquidity as an integer or a decimal string ("integer or decimal if available")', () => {
    // developer.oanda.com/rest-live-v20/pricing-common-df, PriceBucket: liquidity is "(integer or decimal
    // if available)", and v20 writes decimals as strings.
    const reply = (liquidity: unknown) => ({
      prices: [
        {
          instrument: 'EUR_USD',
          time: '2030-01-01T00:00:00.000000000Z',
          tradeable: true,
          bids: [{ price: '1.10000', liquidity }],
          asks: [{ price: '1.10010', liquidity }],
        },
      ],
    });
    for (const [liquidity, size] of [
      [10000000, 10000000],
      ['10000000', 10000000],
      ['250000.5', 250000.5],
    ] as const) {
      const quote = quoteFromV20(
        parsePrices(reply(liquidity))[0] as Parameters<typeof quoteFromV20>[0],
        Date.UTC(2030, 0, 1),
      );
      assert.equal(quote.bid_size, size);
      assert.equal(quote.ask_size, size);
    }
    assert.throws(() => parsePrices(reply('lots')), /field prices\.0\.bids\.0\.liquidity/);
    assert.throws(() => parsePrices(reply(-5)), /field prices\.0\.bids\.0\.liquidity/);
  });

  it('skips order types it cannot represent (TAKE_PROFIT)', () => {
    assert.equal(
      orderFromV20({ id: '9', type: 'TAKE_PROFIT', state: 'PENDING', price: 1.2, timeInForce: 'GTC', createTime: 0 }),
      undefined,
    );
  });
});
