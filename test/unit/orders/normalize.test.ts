import assert from 'node:assert/strict';
import { normalizeComponentOrder, type FieldIssue, type NormalizeResult } from '../../../src/orders/normalize';
import { OrderRequestSchema } from '../../../src/orders/model';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const normalize = (raw: unknown): NormalizeResult => normalizeComponentOrder(raw, { now: NOW });
function issuesOf(raw: unknown): FieldIssue[] {
  const r = normalize(raw);
  assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r.ok ? [] : r.issues;
}
const nan = (v: string) => ({ __sptrader_nonfinite__: v });

describe('normalizeComponentOrder', () => {
  it('accepts the designed dialect with string type and price fields', () => {
    const r = normalize({
      symbol: 'EUR_USD',
      side: 'BUY',
      order_type: 'limit',
      price: 1.0845,
      quantity: 1000,
      time_in_force: 'GTD',
      expires_at: NOW / 1000 + 3600,
    });
    assert.ok(r.ok);
    assert.equal(r.dialect, 'designed');
    assert.deepEqual(r.order, {
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: { type: 'limit', price: 1.0845 },
      quantity: 1000,
      time_in_force: { type: 'GTD', expires_at: NOW + 3_600_000 },
      metadata: {},
    });
  });

  it('unwraps the to_json envelope and keeps component name and version', () => {
    const r = normalize({
      type: 'order_request',
      order: { symbol: 'AAPL', side: 'sell', order_type: 'market', quantity: 5 },
      metadata: { component: 'Spread', version: '1.2' },
    });
    assert.ok(r.ok);
    assert.equal(r.dialect, 'envelope');
    assert.deepEqual(r.order.metadata, { component: 'Spread', component_version: '1.2' });
    assert.deepEqual(r.order.time_in_force, { type: 'GTC' });
    assert.match(r.notes.join('\n'), /GTC/);
  });

  it('maps the shipped dialect: type/size, market price as reference, extras into metadata', () => {
    const r = normalize({
      type: 'market',
      symbol: 'EURUSD',
      side: 'buy',
      size: 184.3,
      price: 1.0852,
      value: 200,
      urgency: 'normal',
      timestamp: '2026-01-01T00:00:00',
      time_in_force: 'IOC',
      metadata: { base_size: 0.02 },
    });
    assert.ok(r.ok);
    assert.equal(r.dialect, 'shipped');
    assert.deepEqual(r.order.order_type, { type: 'market' });
    assert.equal(r.order.quantity, 184.3);
    assert.deepEqual(r.order.time_in_force, { type: 'IOC' });
    assert.deepEqual(r.order.metadata, {
      base_size: 0.02,
      reference_price: 1.0852,
      value: 200,
      urgency: 'normal',
      timestamp: '2026-01-01T00:00:00',
    });
    // Kept as the shipped dialect means it, and said (rt-comp11: before, without a word).
    assert.deepEqual(
      r.notes.filter((n) => /reference_price/.test(n)),
      [
        "price 1.0852 on a market order was kept as metadata.reference_price (the decision price) and not sent: a market order fills at the market; for a price limit use order_type 'limit'",
      ],
    );
  });

  it('keeps a metadata number a number and a boolean a boolean (issue 16); a nested value becomes its JSON text', () => {
    const r = normalize({
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: 'market',
      quantity: 1000,
      metadata: { spread_pips: 1.2, levels: 3, hedged: false, note: '1.2', book: { depth: 2 }, tags: ['a', 1] },
    });
    assert.ok(r.ok);
    assert.deepEqual(r.order.metadata, {
      spread_pips: 1.2,
      levels: 3,
      hedged: false,
      note: '1.2',
      book: '{"depth":2}',
      tags: '["a",1]',
    });
    assert.equal(typeof r.order.metadata['spread_pips'], 'number');
    // The order as the audit log and the paper account hold it reads back the same.
    assert.deepEqual(OrderRequestSchema.parse(JSON.parse(JSON.stringify(r.order))).metadata, r.order.metadata);
  });

  it('accepts object and serde-style order types and time in force', () => {
    const a = normalize({
      symbol: 'BTCUSDT',
      side: 'buy',
      order_type: { type: 'stop_limit', stop_price: 70000, limit_price: 70100 },
      quantity: 0.01,
      time_in_force: { type: 'FOK' },
    });
    assert.ok(a.ok);
    assert.deepEqual(a.order.order_type, { type: 'stop_limit', stop_price: 70000, limit_price: 70100 });
    const b = normalize({
      symbol: 'BTCUSDT',
      side: 'sell',
      order_type: { Stop: { price: 60000 } },
      quantity: 0.01,
      time_in_force: { GTD: { expires_at: NOW + 60_000 } },
    });
    assert.ok(b.ok);
    assert.deepEqual(b.order.order_type, { type: 'stop', price: 60000 });
    assert.deepEqual(b.order.time_in_force, { type: 'GTD', expires_at: NOW + 60_000 });
  });

  it('refuses a key an order type dict does not read, instead of dropping it (an IOC there rested as GTC)', () => {
    const order = { symbol: 'EUR_USD', side: 'buy', quantity: 1000 };
    const [tif] = issuesOf({ ...order, order_type: { type: 'limit', price: 1.08, time_in_force: 'IOC' } });
    assert.equal(tif?.path, 'order_type.time_in_force');
    assert.match(tif.message, /time_in_force is not read inside order_type; put it at the top level of the order/);
    const [stop] = issuesOf({ ...order, order_type: { type: 'limit', price: 1.08, stop_price: 1.09 } });
    assert.equal(stop?.path, 'order_type.stop_price');
    assert.match(stop.message, /a limit order type has no field 'stop_price'; it reads 'price' \(or 'limit_price'\)/);
    const [serde] = issuesOf({
      order: { ...order, order_type: { Limit: { price: 1.08, tif: 'IOC' } } },
      type: 'order_request',
    });
    assert.equal(serde?.path, 'order.order_type.Limit.tif');
    // What it reads, and None, pass as before; so does a market order's reference price.
    assert.ok(normalize({ ...order, order_type: { type: 'limit', price: 1.08, limit_price: null } }).ok);
    assert.ok(normalize({ ...order, order_type: { type: 'market', price: 1.08 } }).ok);
  });

  it('refuses one price given twice with different values, in the order type and beside it or under two names', () => {
    const order = { symbol: 'EUR_USD', side: 'buy', quantity: 1000 };
    const [beside] = issuesOf({ ...order, order_type: { type: 'limit', price: 1.0866 }, price: 1.05 });
    assert.equal(beside?.path, 'price');
    assert.match(beside.message, /^price is 1\.05 but order_type\.price is 1\.0866: give the price once$/);
    const [twice] = issuesOf({ ...order, order_type: 'limit', price: 1.0866, limit_price: 1.07 });
    assert.equal(twice?.path, 'limit_price');
    const ok = normalize({ ...order, order_type: { type: 'limit', price: 1.0866 }, price: 1.0866 });
    assert.ok(ok.ok);
    assert.deepEqual(ok.order.order_type, { type: 'limit', price: 1.0866 });
    assert.ok(normalize({ ...order, order_type: 'limit', price: 1.0866, limit_price: 1.0866 }).ok);
  });

  it('refuses a price beside a string order type that the type does not read (it travelled as metadata)', () => {
    const order = { symbol: 'EUR_USD', side: 'buy', quantity: 1000 };
    const [stop] = issuesOf({ ...order, order_type: 'limit', price: 1.08, stop_price: 1.09 });
    assert.equal(stop?.path, 'stop_price');
    assert.match(stop.message, /a limit order has no stop_price; .*use order_type 'stop_limit'\)$/);
    const [limit] = issuesOf({ ...order, order_type: 'market', limit_price: 1.08 });
    assert.equal(limit?.path, 'limit_price');
    // A market order's price is its reference price, as the shipped dialect writes it.
    const shipped = normalize({ type: 'market', symbol: 'EUR_USD', side: 'buy', size: 1, price: 1.08 });
    assert.ok(shipped.ok);
  });

  it('reports every violation at once, each with its path', () => {
    const issues = issuesOf({ symbol: '', side: 'hold', order_type: 'limit', quantity: -3, time_in_force: 'DAY' });
    const paths = issues.map((i) => i.path).sort();
    assert.deepEqual(paths, ['price', 'quantity', 'side', 'symbol', 'time_in_force']);
    assert.match(issues.find((i) => i.path === 'side')!.message, /use 'buy' or 'sell'/);
    assert.match(issues.find((i) => i.path === 'price')!.message, /limit order needs a limit price/);
    assert.match(issues.find((i) => i.path === 'quantity')!.message, /greater than zero/);
    assert.match(issues.find((i) => i.path === 'time_in_force')!.message, /unknown time in force 'DAY'/);
  });

  it('names the shipped field names and envelope prefix in paths', () => {
    assert.deepEqual(
      issuesOf({ type: 'limit', symbol: 'X', side: 'buy', size: 0 })
        .map((i) => i.path)
        .sort(),
      ['price', 'size'],
    );
    assert.deepEqual(
      issuesOf({
        type: 'order_request',
        order: { symbol: 'X', side: 'buy', order_type: 'market', quantity: 'ten' },
      }).map((i) => i.path),
      ['order.quantity'],
    );
  });

  it('refuses a non-dict result and says what an order looks like', () => {
    for (const raw of [[1, 2], 'buy', 42, true]) {
      const [issue] = issuesOf(raw);
      assert.equal(issue!.path, '');
      assert.match(issue!.message, /an order must be a dict/);
    }
  });

  it('reports missing fields', () => {
    const issues = issuesOf({ metadata: {} });
    assert.deepEqual(issues.map((i) => i.path).sort(), ['order_type', 'quantity', 'side', 'symbol']);
  });

  it('an empty dict is one issue: return None to place no order', () => {
    const issues = issuesOf({});
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /returned an empty dict; to place no order, return None/);
  });

  it('reports wrong types with the value seen', () => {
    const issues = issuesOf({ symbol: 7, side: 'buy', order_type: 'limit', price: '1.1', quantity: 10 });
    assert.deepEqual(issues.map((i) => i.path).sort(), ['price', 'symbol']);
    assert.match(issues.find((i) => i.path === 'price')!.message, /must be a number, got a string "1.1"/);
  });

  it('a symbol with a look-alike letter or an invisible character is said by its code point, escaped', () => {
    for (const [symbol, why] of [
      [
        '\u0415UR_USD',
        /it has the character U\+0415, which is not ASCII \(a look-alike of a Latin letter\?\) at position 1/,
      ],
      ['EUR_USD\u202e', /it has the character U\+202E/],
      ['EUR\u001b[2J_USD', /it has a control character at position 4/],
      ['EUR USD', /other than letters, digits/],
    ] as const) {
      const [issue, ...rest] = issuesOf({ symbol, side: 'buy', order_type: 'market', quantity: 1 });
      assert.equal(rest.length, 0, JSON.stringify(rest));
      assert.equal(issue!.path, 'symbol');
      assert.match(issue!.message, why);
      assert.match(issue!.message, /is not a symbol: .*for example EUR_USD/);
      assert.doesNotMatch(issue!.message + issue!.value, /[^\x20-\x7e…–]/, 'nothing but printable ASCII shown');
    }
  });

  it('white space around a symbol (read from a file or a prompt) is removed, and the run says so', () => {
    const r = normalize({ symbol: ' EUR_USD\n', side: 'buy', order_type: 'market', quantity: 1 });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.order.symbol, 'EUR_USD');
    assert.ok(
      r.notes.includes(`symbol " EUR_USD\\n" was read as 'EUR_USD' (the white space around it removed)`),
      r.notes.join(),
    );
    assert.deepEqual(
      issuesOf({ symbol: '   ', side: 'buy', order_type: 'market', quantity: 1 }).map((i) => i.path),
      ['symbol'],
    );
  });

  it("an order field spelt another way is refused with the field's name, never sent without it", () => {
    const base = { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 };
    // A time in force under another name rested as GTC, the 'tif' travelling as metadata.
    for (const key of ['tif', 'TIF', 'timeInForce', 'TimeInForce', 'time-in-force']) {
      const issues = issuesOf({ ...base, [key]: 'IOC' });
      assert.deepEqual(
        issues.map((i) => [i.path, i.hint]),
        [[key, "name it 'time_in_force'"]],
      );
      assert.match(issues[0]!.message, new RegExp(`^'${key}' is not an order field: did you mean 'time_in_force'\\?`));
    }
    const { quantity: _q, ...noQuantity } = base;
    for (const key of ['units', 'qty', 'size', 'Quantity']) {
      const issues = issuesOf({ ...noQuantity, [key]: 1000 });
      assert.ok(
        issues.some((i) => i.path === key && /did you mean 'quantity'\?/.test(i.message)),
        JSON.stringify(issues),
      );
    }
    const inEnvelope = issuesOf({ type: 'order_request', order: { ...base, clientOrderId: 'a-1' } });
    assert.deepEqual(
      inEnvelope.map((i) => i.path),
      ['order.clientOrderId'],
    );
    // A price under another name, where the order type needs it: said once, at the key written.
    const stop = issuesOf({ ...base, order_type: 'stop', stopPrice: 1.07 });
    assert.deepEqual(
      stop.map((i) => [i.path, i.hint]),
      [['stopPrice', "name it 'stop_price'"]],
    );
    // A stop-limit's two prices as camelCase: each said at its key, the limit one as limit_price (it was "a stop-limit
    // order needs a limit price ('limit_price')" with limitPrice not named).
    const stopLimit = issuesOf({ ...base, order_type: 'stop_limit', stopPrice: 1.2, limitPrice: 1.21 });
    assert.deepEqual(
      stopLimit.map((i) => [i.path, i.hint]),
      [
        ['stopPrice', "name it 'stop_price'"],
        ['limitPrice', "name it 'limit_price'"],
      ],
    );
    // Where the field is given, or a price the order type does not read, such a key is the component's metadata.
    for (const extra of [{ size: 'large' }, { stop: 1.07, limit: 1.2 }, { instrument: 'fx', direction: 'long' }]) {
      const r = normalize({ ...base, ...extra });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.order.metadata, extra);
    }
  });

  it('reports NaN and Infinity from Python by field', () => {
    const issues = issuesOf({
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: 'limit',
      price: nan('Infinity'),
      quantity: nan('NaN'),
    });
    const hint = 'check what computes it for a division by zero or a missing input';
    assert.deepEqual(issues, [
      { path: 'quantity', message: `quantity is NaN; it must be a finite number (${hint})`, value: 'NaN', hint },
      { path: 'price', message: `price is Infinity; it must be a finite number (${hint})`, value: 'Infinity', hint },
    ]);
  });

  it('refuses unknown order types and names the valid ones', () => {
    const [issue] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'twap', quantity: 1 });
    assert.equal(issue!.path, 'order_type');
    assert.match(issue!.message, /unknown order type 'twap'; use one of market, limit, stop, stop_limit/);
  });

  it('refuses a stop-limit missing either price', () => {
    const issues = issuesOf({
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: 'stop_limit',
      stop_price: 1.09,
      quantity: 1,
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['limit_price'],
    );
    const both = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'stop_limit', quantity: 1 });
    assert.deepEqual(both.map((i) => i.path).sort(), ['limit_price', 'stop_price']);
  });

  it('refuses GTD without an expiry or with one in the past', () => {
    assert.match(
      issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1, time_in_force: 'GTD' })[0]!.message,
      /GTD order needs 'expires_at'/,
    );
    const past = issuesOf({
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: 'market',
      quantity: 1,
      time_in_force: 'GTD',
      expires_at: '2020-01-01T00:00:00Z',
    });
    assert.equal(past[0]!.path, 'expires_at');
    assert.match(past[0]!.message, /is in the past/);
    assert.match(
      issuesOf({
        symbol: 'EUR_USD',
        side: 'buy',
        order_type: 'market',
        quantity: 1,
        time_in_force: 'GTD',
        expires_at: 'soon',
      })[0]!.message,
      /is not a time/,
    );
  });

  it('validates a client order id against every venue charset', () => {
    const [issue] = issuesOf({
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: 'market',
      quantity: 1,
      client_order_id: 'has space',
    });
    assert.equal(issue!.path, 'client_order_id');
  });

  describe('says the value it saw and what to do (issue 16)', () => {
    it('a negative quantity: the value, and the side that says the direction', () => {
      const [buy] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: -1000 });
      assert.equal(buy!.path, 'quantity');
      assert.equal(buy!.value, '-1000');
      assert.match(
        buy!.message,
        /^quantity must be greater than zero, got -1000: did you mean side='sell' with quantity 1000\?/,
      );
      // A signed size that agrees with its side: never told to buy instead (that would turn a sale into a purchase).
      const [sell] = issuesOf({ type: 'market', symbol: 'EUR_USD', side: 'sell', size: -2.5 });
      assert.equal(sell!.path, 'size');
      assert.match(sell!.message, /got -2\.5: side='sell' already says the direction: give size 2\.5;/);
      assert.doesNotMatch(sell!.message, /buy/);
      const [zero] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 0 });
      assert.match(zero!.message, /greater than zero, got 0: to place no order, return None/);
    });

    it('a non-positive price: the value', () => {
      const [issue] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'limit', price: -1.1, quantity: 1 });
      assert.equal(issue!.path, 'price');
      assert.match(issue!.message, /limit price must be greater than zero, got -1\.1/);
    });

    it('a wrong type: the value, truncated, and how to convert it', () => {
      const [issue] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: '1000' });
      assert.match(issue!.message, /quantity must be a number, got a string "1000": convert it with float/);
      const long = 'x'.repeat(500);
      const [symbol] = issuesOf({ symbol: long, side: 'buy', order_type: 'market', quantity: 1 });
      assert.ok(symbol!.value!.length <= 60, symbol!.value);
      assert.ok(symbol!.message.length < 250, symbol!.message);
      const [none] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: null });
      assert.match(none!.message, /got None.*never set/);
      // None is said once ("got None None" before), with the hint whatever the field.
      assert.equal(
        issuesOf({ symbol: null, side: 'buy', order_type: 'market', quantity: 1 })[0]!.message,
        'symbol must be a string, got None: it is None: was the value it comes from never set?',
      );
      assert.equal(
        issuesOf({ symbol: 'EUR_USD', side: null, order_type: 'market', quantity: 1 })[0]!.message,
        "side must be 'buy' or 'sell', got None",
      );
      assert.equal(
        issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: null })[0]!.message,
        'quantity must be a number, got None: it is None: was the value it comes from never set?',
      );
    });

    it('an unknown order type, side or time in force: the nearest valid one', () => {
      const [type] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'limt', price: 1, quantity: 1 });
      assert.match(
        type!.message,
        /unknown order type 'limt'; use one of market, limit, stop, stop_limit \(did you mean 'limit'\?\)/,
      );
      assert.equal(type!.hint, "did you mean 'limit'?");
      const [foo] = issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'foo', quantity: 1 });
      assert.equal(foo!.hint, undefined);
      assert.match(
        issuesOf({ symbol: 'EUR_USD', side: 'long', order_type: 'market', quantity: 1 })[0]!.message,
        /did you mean 'buy'\?/,
      );
      assert.match(
        issuesOf({ symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1, time_in_force: 'DAY' })[0]!
          .message,
        /unknown time in force 'DAY'.*GTD.*expires_at/,
      );
    });

    it('an alias is accepted and the run says how it was read', () => {
      const r = normalize({ symbol: 'EUR_USD', side: 'buy', order_type: 'mkt', quantity: 1 });
      assert.ok(r.ok);
      assert.deepEqual(r.order.order_type, { type: 'market' });
      assert.ok(r.notes.includes("order_type 'mkt' was read as 'market'"), r.notes.join('; '));
    });

    it('never shows a secret-looking field', () => {
      const [issue] = issuesOf({
        symbol: 'EUR_USD',
        side: 'buy',
        order_type: 'market',
        quantity: 1,
        client_order_id: 'has space',
        metadata: 'x',
      });
      assert.ok(issue);
      const r = normalize({
        symbol: 'EUR_USD',
        side: 'buy',
        order_type: 'market',
        quantity: 1,
        metadata: { nested: { api_key: 'sk-live-123' } },
      });
      assert.ok(r.ok);
      assert.ok(!JSON.stringify(r.order).includes('sk-live-123'));
    });
  });
  describe("a word that is a name on Object's prototype ('constructor', '__proto__') is read as any other word", () => {
    const base = { symbol: 'EUR_USD', side: 'buy', type: 'market', size: 1000 };
    // JSON.parse makes '__proto__' an own key, as the component's answer arrives.
    const order = (extra: string): unknown => JSON.parse(`{"symbol":"EUR_USD","size":1000,${extra}}`);

    it("a key 'constructor' is an unknown key kept as metadata, not a misspelling of 'function Object()'", () => {
      const r = normalize({ ...base, constructor: 1 });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.order.metadata, { constructor: 1 });
    });

    it("type 'constructor' or '__proto__' is an unknown order type, named as given", () => {
      for (const word of ['constructor', '__proto__']) {
        const issues = issuesOf(order(`"side":"buy","type":"${word}"`));
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.equal(issues[0]?.path, 'type');
        assert.match(issues[0]?.message ?? '', new RegExp(`^unknown order type '${word}'; use one of market, limit`));
        assert.doesNotMatch(JSON.stringify(issues), /native code|object Object/);
      }
    });

    it("a key '__proto__' in the order or its metadata is refused naming where; it was dropped without a word", () => {
      for (const [text, path] of [
        ['"side":"buy","type":"market","__proto__":{"size":1}', '__proto__'],
        ['"side":"buy","type":"market","metadata":{"note":"x","__proto__":"y"}', 'metadata.__proto__'],
      ] as const) {
        const issues = issuesOf(order(text));
        assert.equal(issues.length, 1, JSON.stringify(issues));
        assert.equal(issues[0]?.path, path);
        assert.match(issues[0]?.message ?? '', /^'__proto__' cannot be the name of an order's field or metadata key/);
      }
      const kept = normalize(order('"side":"buy","type":"market","metadata":{"proto":"y"}'));
      assert.ok(kept.ok);
      assert.deepEqual(kept.order.metadata, { proto: 'y' });
    });

    it("side 'constructor' or '__proto__' is refused with no 'did you mean' made of Object's insides", () => {
      for (const word of ['constructor', '__proto__']) {
        const issues = issuesOf(order(`"type":"market","side":"${word}"`));
        assert.equal(issues[0]?.message, `side '${word}' is not valid; use 'buy' or 'sell'`);
        assert.equal(issues[0]?.hint, undefined);
      }
    });
  });
});
