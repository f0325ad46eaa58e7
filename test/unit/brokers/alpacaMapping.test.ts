/** Alpaca's wire ↔ our model, pure (orders.ts, errors.ts, wire.ts): no server, no SDK. */
import assert from 'node:assert/strict';
import { mapAlpacaError } from '../../../src/brokers/alpaca/errors';
import {
  alpacaRefusal,
  CRYPTO_TRAILING_REASON,
  IOC_TRAILING_REASON,
  parseOrder,
  toAlpacaOrder,
} from '../../../src/brokers/alpaca/orders';
import { isBrokerError } from '../../../src/brokers/errors';

describe('Alpaca mapping (pure)', () => {
  const wire = (over: Record<string, unknown> = {}) => ({
    id: 'o-1',
    client_order_id: 'cid-1',
    status: 'new',
    symbol: 'AAPL',
    asset_class: 'us_equity',
    qty: '1',
    filled_qty: '0',
    filled_avg_price: null,
    type: 'limit',
    order_type: 'limit',
    side: 'buy',
    time_in_force: 'gtc',
    limit_price: '150',
    stop_price: null,
    created_at: '2024-01-02T15:00:00Z',
    submitted_at: '2024-01-02T15:00:00Z',
    filled_at: null,
    canceled_at: null,
    expired_at: null,
    ...over,
  });

  it('reads the reference fixture', () => {
    const r = parseOrder(wire());
    assert.deepEqual(
      [
        r.order_id,
        r.client_order_id,
        r.status.status,
        r.order_type,
        r.time_in_force,
        r.quantity,
        r.filled_price,
        r.created_at,
      ],
      ['o-1', 'cid-1', 'submitted', { type: 'limit', price: 150 }, { type: 'GTC' }, 1, null, Date.UTC(2024, 0, 2, 15)],
    );
  });

  it('reads the times the Order reference says may be null (created_at "string (Nullable)")', () => {
    // docs.alpaca.markets "Orders" → Order properties: created_at, updated_at, submitted_at, filled_at, … are
    // Nullable. A null created_at was "field created_at: expected an RFC 3339 time": the order could not be read.
    const r = parseOrder(
      wire({ created_at: null, updated_at: '2024-01-02T15:00:01Z', submitted_at: '2024-01-02T15:00:00.5Z' }),
      0,
    );
    assert.equal(r.created_at, Date.UTC(2024, 0, 2, 15, 0, 0, 500));
    assert.equal(r.timestamp, Date.UTC(2024, 0, 2, 15, 0, 1));
    const bare = parseOrder(wire({ created_at: null, submitted_at: null, time_in_force: 'day' }), 1_700_000_000_000);
    assert.equal(bare.created_at, 1_700_000_000_000);
    assert.equal(bare.timestamp, 1_700_000_000_000);
    assert.deepEqual(bare.time_in_force, { type: 'GTD', expires_at: 1_700_000_000_000 + 24 * 3600_000 });
  });

  it('maps every status', () => {
    const cases: Array<[string, string, string?]> = [
      ['pending_new', 'pending'],
      ['accepted', 'pending'],
      ['held', 'pending'],
      ['new', 'submitted'],
      ['pending_cancel', 'submitted'],
      ['done_for_day', 'partially_filled', '0.5'],
      ['partially_filled', 'partially_filled', '0.5'],
      ['filled', 'filled', '1'],
      ['canceled', 'cancelled'],
      ['replaced', 'cancelled'],
      ['expired', 'expired'],
      ['rejected', 'rejected'],
      ['calculated', 'filled', '1'],
      // A status added after this table: read by the figures (Alpaca's SDK passes any status through).
      ['awaiting_review', 'submitted'],
      ['awaiting_review', 'partially_filled', '0.5'],
      ['awaiting_review', 'filled', '1'],
    ];
    for (const [alpaca, ours, filled] of cases) {
      const r = parseOrder(
        wire({ status: alpaca, qty: '1', filled_qty: filled ?? '0', filled_avg_price: filled ? '150' : null }),
      );
      assert.equal(r.status.status, ours, alpaca);
    }
  });

  it('refuses malformed orders naming the field', () => {
    assert.throws(
      () => parseOrder(wire({ filled_qty: 3 })),
      (e: unknown) => isBrokerError(e) && e.reason === 'BAD_RESPONSE' && /filled_qty/.test(e.message),
    );
    assert.throws(
      () => parseOrder(wire({ status: '' })),
      (e: unknown) => isBrokerError(e) && /field status/.test(e.message),
    );
    assert.throws(
      () => parseOrder([]),
      (e: unknown) => isBrokerError(e) && e.reason === 'BAD_RESPONSE',
    );
  });

  it('maps the error table', () => {
    const cases: Array<[number, number | undefined, string, string, boolean]> = [
      [422, 40010001, 'client_order_id must be unique', 'DUPLICATE_CLIENT_ORDER_ID', false],
      [403, 40310000, 'insufficient buying power', 'INSUFFICIENT_FUNDS', false],
      [403, 40310000, 'trading is disabled for this account', 'PERMISSION_DENIED', false],
      [401, 40110000, 'request is not authorized', 'AUTHENTICATION', false],
      [429, undefined, 'rate limit exceeded', 'RATE_LIMITED', true],
      // A submit answered 5xx is an unknown outcome: not retryable, looked up instead (issue 11).
      [500, undefined, 'internal', 'VENUE_UNAVAILABLE', false],
      [503, undefined, '', 'VENUE_UNAVAILABLE', false],
      [422, 42210000, 'sub-penny increment does not fulfill minimum pricing criteria', 'INVALID_ORDER', false],
      [422, 40010001, 'asset "ZZZZ" not found', 'UNKNOWN_SYMBOL', false],
      [404, 40410000, 'order not found', 'ORDER_NOT_FOUND', false],
    ];
    for (const [status, code, message, reason, retryable] of cases) {
      const e = mapAlpacaError({ status, code, message, retryAfterMs: status === 429 ? 2000 : undefined }, 'submit');
      assert.deepEqual([e.reason, e.retryable], [reason, retryable], `${status} ${message}`);
    }
    assert.equal(mapAlpacaError({ status: 429, message: 'x', retryAfterMs: 2000 }, 'order').retryAfterMs, 2000);
    assert.equal(mapAlpacaError({ status: 404, message: 'x' }, 'quote').reason, 'UNKNOWN_SYMBOL');
    // A 503 with Retry-After (RFC 9110 §10.2.3: how long the service is expected to be away): the wait is kept, on a
    // read (resent later) and on a submit (looked up later), which stays an unknown outcome, never resent.
    const maintenance = { status: 503, message: 'maintenance', retryAfterMs: 30_000 };
    assert.deepEqual(
      [mapAlpacaError(maintenance, 'order').retryAfterMs, mapAlpacaError(maintenance, 'order').retryable],
      [30_000, true],
    );
    const unknown = mapAlpacaError(maintenance, 'submit');
    assert.deepEqual([unknown.retryAfterMs, unknown.outcomeUnknown, unknown.retryable], [30_000, true, false]);
    assert.equal(mapAlpacaError({ status: 503, message: 'x' }, 'order').retryAfterMs, undefined);
    for (const status of [500, 502, 503, 504]) {
      assert.equal(mapAlpacaError({ status, message: 'x' }, 'submit').outcomeUnknown, true);
      assert.equal(mapAlpacaError({ status, message: 'x' }, 'cancel').outcomeUnknown, true);
      assert.deepEqual(
        [
          mapAlpacaError({ status, message: 'x' }, 'order').outcomeUnknown,
          mapAlpacaError({ status, message: 'x' }, 'order').retryable,
        ],
        [false, true],
      );
    }
    assert.equal(mapAlpacaError({ status: 429, message: 'x' }, 'submit').notActed, true);
  });

  it('trailing stops (Alpaca "Trailing Stop Orders"): trail_price or trail_percent out, and read back with hwm', () => {
    const base = {
      symbol: 'AAPL',
      side: 'sell' as const,
      quantity: 10,
      time_in_force: { type: 'GTC' as const },
      client_order_id: 't-1',
      metadata: {},
    };
    assert.deepEqual(toAlpacaOrder({ ...base, order_type: { type: 'trailing_stop', trail_offset: 1.5 } }), {
      symbol: 'AAPL',
      qty: '10',
      side: 'sell',
      time_in_force: 'gtc',
      client_order_id: 't-1',
      type: 'trailing_stop',
      trail_price: '1.5',
    });
    const pct = toAlpacaOrder({ ...base, order_type: { type: 'trailing_stop', trail_bps: 25 } });
    assert.equal(pct.trail_percent, '0.25', '25 bps is 0.25 percent');
    assert.equal(pct.trail_price, undefined);
    // Refused before sending: IOC, crypto, a sub-penny trail.
    assert.equal(
      alpacaRefusal({ ...base, order_type: { type: 'trailing_stop', trail_bps: 25 }, time_in_force: { type: 'IOC' } }),
      IOC_TRAILING_REASON,
    );
    assert.equal(
      alpacaRefusal({ ...base, symbol: 'BTC/USD', order_type: { type: 'trailing_stop', trail_bps: 25 } }),
      CRYPTO_TRAILING_REASON,
    );
    assert.match(
      alpacaRefusal({ ...base, order_type: { type: 'trailing_stop', trail_offset: 1.005 } }) ?? '',
      /trail price 1.005 is not a multiple/,
    );
    const read = parseOrder(
      wire({
        type: 'trailing_stop',
        order_type: 'trailing_stop',
        limit_price: null,
        stop_price: '148.5',
        trail_price: '1.5',
        hwm: '150',
      }),
    );
    assert.deepEqual(read.order_type, { type: 'trailing_stop', trail_offset: 1.5 });
    const readPct = parseOrder(
      wire({ type: 'trailing_stop', order_type: 'trailing_stop', limit_price: null, trail_percent: '0.25' }),
    );
    assert.deepEqual(readPct.order_type, { type: 'trailing_stop', trail_bps: 25 });
    assert.throws(
      () => parseOrder(wire({ type: 'trailing_stop', order_type: 'trailing_stop', limit_price: null })),
      /without a positive trail_price or trail_percent/,
    );
  });
});
