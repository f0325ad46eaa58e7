/**
 * Orders as traders' components write them that earlier suites never tried (red team, round 12): an expiry given
 * without time_in_force or beside GTC (it travelled nowhere: the order rested as GTC, for ever), an expiry spelt as a
 * venue spells it, IB's and Binance's names for stop orders, a trailing stop or TWAP written as an order_type, and
 * an envelope wrapped by hand without its type.
 */
import assert from 'node:assert/strict';
import { normalizeComponentOrder, type FieldIssue, type NormalizeResult } from '../../../src/orders/normalize';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const LATER = NOW + 3_600_000;
const normalize = (raw: unknown): NormalizeResult => normalizeComponentOrder(raw, { now: NOW });
function issuesOf(raw: unknown): FieldIssue[] {
  const r = normalize(raw);
  assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r.ok ? [] : r.issues;
}
const LIMIT = { symbol: 'EUR_USD', side: 'buy', order_type: 'limit', price: 1.08, quantity: 1000 };

describe('normalizeComponentOrder: orders traders write', () => {
  it('an expiry without time_in_force is a GTD order, said in a note', () => {
    for (const [key, value] of [
      ['expires_at', new Date(LATER).toISOString()],
      ['expires_at', LATER],
      ['expire_time', LATER / 1000],
      ['good_till', new Date(LATER).toISOString()],
    ] as const) {
      const r = normalize({ ...LIMIT, [key]: value });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.order.time_in_force, { type: 'GTD', expires_at: LATER });
      assert.deepEqual(r.order.metadata, {});
      assert.ok(
        r.notes.includes(`time_in_force was not given and ${key} was: GTD (good till that time) was used`),
        r.notes.join('; '),
      );
    }
    // None for the expiry is no expiry: GTC, as before.
    const none = normalize({ ...LIMIT, expires_at: null });
    assert.ok(none.ok);
    assert.deepEqual(none.order.time_in_force, { type: 'GTC' });
    // An expiry in the past is still refused as a GTD's.
    assert.match(issuesOf({ ...LIMIT, expires_at: NOW - 1000 })[0]!.message, /is in the past/);
  });

  it('an expiry beside GTC is refused (the order would rest past it); beside IOC/FOK it is noted unused', () => {
    const [gtc, ...more] = issuesOf({ ...LIMIT, time_in_force: 'GTC', expires_at: new Date(LATER).toISOString() });
    assert.equal(more.length, 0);
    assert.equal(gtc!.path, 'expires_at');
    assert.match(
      gtc!.message,
      /^expires_at is read only with time_in_force 'GTD'; this order is GTC, which never expires/,
    );
    const [dict] = issuesOf({ ...LIMIT, time_in_force: { type: 'GTC', expires_at: LATER } });
    assert.equal(dict!.path, 'time_in_force.expires_at');
    const ioc = normalize({ ...LIMIT, time_in_force: 'IOC', expires_at: LATER });
    assert.ok(ioc.ok);
    assert.deepEqual(ioc.order.time_in_force, { type: 'IOC' });
    assert.ok(ioc.notes.some((n) => /expires_at was not used: an IOC order never rests/.test(n)));
    assert.deepEqual(ioc.order.metadata, {});
  });

  it('an expiry spelt as a venue spells it is refused with the field to use, not sent as metadata', () => {
    for (const key of ['expiresAt', 'gtdTime', 'goodTillDate', 'good_till_date', 'expiry', 'valid_until']) {
      for (const tif of [undefined, 'GTD', 'GTC']) {
        const issues = issuesOf({ ...LIMIT, ...(tif ? { time_in_force: tif } : {}), [key]: '2026-11-25T00:00:00Z' });
        assert.equal(issues.length, 1, `${key} with ${tif}: ${JSON.stringify(issues)}`);
        assert.equal(issues[0]!.path, key);
        assert.match(issues[0]!.message, new RegExp(`^'${key}' is not an order field: did you mean 'expires_at'\\?`));
      }
    }
  });

  it("IB's STP / STP LMT and Binance's STOP_LOSS / STOP_LOSS_LIMIT are stop and stop-limit orders", () => {
    const stop = { symbol: 'EUR_USD', side: 'sell', quantity: 1000, stop_price: 1.07 };
    const asStop = normalize({ ...stop, order_type: 'stop' });
    const asStopLimit = normalize({ ...stop, order_type: 'stop_limit', limit_price: 1.069 });
    assert.ok(asStop.ok && asStopLimit.ok);
    for (const t of ['STP', 'STOP_LOSS', 'stop-loss']) {
      const r = normalize({ ...stop, order_type: t });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.order.order_type, asStop.order.order_type);
    }
    for (const t of ['STP LMT', 'STOP_LOSS_LIMIT']) {
      const r = normalize({ ...stop, order_type: t, limit_price: 1.069 });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.order.order_type, asStopLimit.order.order_type);
      assert.ok(r.notes.some((n) => n.includes(`order_type '${t}' was read as 'stop_limit'`)));
    }
  });

  it('a trailing stop, TWAP, iceberg or bracket as an order_type is told the parent order it is', () => {
    const base = { symbol: 'EUR_USD', side: 'sell', quantity: 1000 };
    for (const [t, algo] of [
      ['trailing_stop', 'trailing_stop'],
      ['TRAILING_STOP_MARKET', 'trailing_stop'],
      ['trailing stop', 'trailing_stop'],
      ['trail', 'trailing_stop'],
      ['twap', 'twap'],
      ['Iceberg', 'iceberg'],
      ['bracket_order', 'bracket'],
    ] as const) {
      const [issue] = issuesOf({ ...base, order_type: t, trail_offset: 0.001 });
      assert.equal(issue!.path, 'order_type');
      assert.match(
        issue!.message,
        new RegExp(`^unknown order type '${t}'; use one of market, limit, stop, stop_limit \\(`),
      );
      assert.ok(issue!.message.includes(`return {'algo': '${algo}'`), issue!.message);
    }
  });

  it("an order wrapped in 'order' without the envelope's type says so, instead of four missing fields", () => {
    const order = { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 };
    const issues = issuesOf({ order, metadata: { component: 'Mine' } });
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, 'order');
    assert.match(
      issues[0]!.message,
      /to_json envelope only with 'type': 'order_request'; return self\.to_json\(order\)/,
    );
    // The envelope itself, and an order that merely carries an 'order' key of its own, are read as before.
    const envelope = normalize({ type: 'order_request', order, metadata: { component: 'Mine', version: '1.0' } });
    assert.ok(envelope.ok);
    const own = normalize({ ...order, order: { note: 'mine' } });
    assert.ok(own.ok, JSON.stringify(own));
  });

  it('an expiry in epoch micro- or nanoseconds, or in basic ISO 8601, is read (and said); an impossible date refused', () => {
    const gtd = (expires_at: unknown): NormalizeResult =>
      normalize({ ...LIMIT, time_in_force: 'GTD', expires_at: expires_at });
    const at = Date.UTC(2027, 0, 2, 3, 4, 5);
    for (const [value, unit] of [
      [at * 1000, 'microseconds'],
      [at * 1e6, 'nanoseconds'],
    ] as const) {
      const r = gtd(value);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.order.time_in_force, { type: 'GTD', expires_at: at });
      assert.ok(r.notes.some((n) => n.includes(`was read as epoch ${unit} (its size), 2027-01-02T03:04:05.000Z`)));
    }
    for (const [value, ms] of [
      ['20270102', Date.UTC(2027, 0, 2)],
      ['20270102T030405Z', at],
      ['20270102T0304+0100', Date.UTC(2027, 0, 2, 2, 4)],
      ['2027-01-02 03:04:05.250000+00:00', at + 250],
      ['2027-01-02T03:04:05,5Z', at + 500],
    ] as const) {
      const r = gtd(value);
      assert.ok(r.ok, `${value}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.order.time_in_force, { type: 'GTD', expires_at: ms }, value);
    }
    for (const [value, why] of [
      ['2027-02-30T00:00:00Z', '2027-02 has no day 30'],
      ['2027-13-01', '2027-13 has no day 01'],
      ['2027-01-02T25:00:00Z', '25:00:00 is no time of day'],
    ] as const) {
      const [issue] = issuesOf({ ...LIMIT, time_in_force: 'GTD', expires_at: value });
      assert.equal(issue!.message.startsWith(`expires_at "${value}" is not a time (${why})`), true, issue!.message);
    }
    // A duration where a time belongs (an hour as 3600) is said to be one.
    const [duration] = issuesOf({ ...LIMIT, time_in_force: 'GTD', expires_at: 3600 });
    assert.match(
      duration!.message,
      /is in the past .*: expires_at is a time, not a duration; for 3600 seconds from now give market_data\['timestamp_ms'\] \+ 3600000$/,
    );
    // Without a zone it is this computer's local time, and the note says so.
    const naive = gtd('2027-01-02T03:04:05');
    assert.ok(naive.ok);
    assert.equal(
      (naive.order.time_in_force as { expires_at: number }).expires_at,
      new Date(2027, 0, 2, 3, 4, 5).getTime(),
    );
    assert.ok(
      naive.notes.some((n) =>
        /has no time zone: it was read as this computer's local time \(UTC[+-]\d\d:\d\d\)/.test(n),
      ),
    );
  });

  it('a side given as a number or another type says what it got (1 / -1: buy / sell)', () => {
    const base = { symbol: 'EUR_USD', order_type: 'market', quantity: 1000 };
    for (const [side, expected] of [
      [1, /^side must be 'buy' or 'sell', got a number 1 \(did you mean 'buy'\?\)$/],
      [-1, /^side must be 'buy' or 'sell', got a number -1 \(did you mean 'sell'\?\)$/],
      [true, /^side must be 'buy' or 'sell', got a bool True$/],
      [['buy'], /^side must be 'buy' or 'sell', got a list /],
    ] as const) {
      const issues = issuesOf({ ...base, side });
      assert.equal(issues.length, 1, JSON.stringify(issues));
      assert.equal(issues[0]!.path, 'side');
      assert.match(issues[0]!.message, expected);
    }
  });

  it('False, 0 or an empty list returned for "no order" is told to return None', () => {
    for (const [raw, shown] of [
      [false, 'a bool (false)'],
      [0, 'a number (0)'],
      [[], 'a list ([])'],
    ] as const) {
      const [issue] = issuesOf(raw);
      assert.ok(
        issue!.message.startsWith(`the component returned ${shown}; to place no order, return None; `),
        issue!.message,
      );
    }
    // A list of orders is still told one order per call.
    assert.match(issuesOf([{ symbol: 'EUR_USD' }])[0]!.message, /one order per call/);
  });

  // Red team, round 7 of components: risk limits written on the order travelled as metadata and held nothing back.
  it("risk_limits (or one limit) written on the order is refused, naming __metadata__['risk_limits']", () => {
    const [whole, ...more] = issuesOf({ ...LIMIT, risk_limits: { max_position_size: 500 }, metadata: { note: 'x' } });
    assert.equal(more.length, 0);
    assert.equal(whole!.path, 'risk_limits');
    assert.match(
      whole!.message,
      /^'risk_limits' on an order is read by no risk check: the order would go without these limits, as metadata, and past them; a component's own limits are its __metadata__\['risk_limits'\]/,
    );
    assert.equal(whole!.hint, "move it to __metadata__['risk_limits']");
    const [one] = issuesOf({ ...LIMIT, maxPositionSize: 500 });
    assert.equal(one!.path, 'maxPositionSize');
    assert.equal(one!.hint, "move it to __metadata__['risk_limits']['max_position_size']");
    // Inside the shipped dialect and the envelope alike; an empty one, None, or one in the metadata is left as it was.
    assert.equal(
      issuesOf({ type: 'market', symbol: 'EUR_USD', side: 'buy', size: 10, max_order_value: 5 })[0]!.path,
      'max_order_value',
    );
    assert.equal(
      issuesOf({ type: 'order_request', order: { ...LIMIT, risk_limits: { a: 1 } } })[0]!.path,
      'order.risk_limits',
    );
    for (const raw of [
      { ...LIMIT, risk_limits: {} },
      { ...LIMIT, risk_limits: null },
      { ...LIMIT, metadata: { risk_limits: 'x' } },
    ]) {
      assert.ok(normalize(raw).ok, JSON.stringify(raw));
    }
    // The shipped MarketOrder's max_slippage stays what it was: its metadata.
    const shipped = normalize({ type: 'market', symbol: 'EUR_USD', side: 'buy', size: 10, max_slippage: 0.001 });
    assert.ok(shipped.ok);
    assert.equal(shipped.order.metadata['max_slippage'], 0.001);
  });

  it('an expires_at that is a date alone is the start of that day in UTC, said in a note', () => {
    const day = new Date(NOW + 2 * 86_400_000).toISOString().slice(0, 10);
    for (const text of [day, day.replace(/-/g, '')]) {
      const r = normalize({ ...LIMIT, time_in_force: 'GTD', expires_at: text });
      assert.ok(r.ok, JSON.stringify(r));
      const start = Date.parse(`${day}T00:00:00Z`);
      assert.deepEqual(r.order.time_in_force, { type: 'GTD', expires_at: start });
      assert.ok(
        r.notes.includes(
          `expires_at "${text}" is a date without a time: it was read as the start of that day, ${new Date(start).toISOString()}; give a time with its zone for another`,
        ),
        r.notes.join('; '),
      );
    }
    // A time with its zone gets no such note.
    const timed = normalize({ ...LIMIT, time_in_force: 'GTD', expires_at: `${day}T17:00:00-05:00` });
    assert.ok(timed.ok);
    assert.deepEqual(timed.notes, []);
  });
});
