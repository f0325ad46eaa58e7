/**
 * Replies no venue documents but every adapter must survive: well-formed JSON whose figures are hostile (more
 * filled than ordered, a number too large for a double, a fill on the wrong side). Each is a clear BrokerError
 * (BAD_RESPONSE; after a submit the order may exist, so `outcomeUnknown`, never a rejection the engine would
 * take as "nothing placed"), and no fill of it reaches the engine: never a wrong position.
 *
 * The fakes build their documented reply and the `alteredBody` fault (test/fakes/control.ts) rewrites it:
 * OANDA `POST /orders` 201 (`orderFillTransaction.units`, v20 spec `OrderFillTransaction`), Alpaca
 * `POST /v2/orders` and `GET /v2/orders/{id}` (the Order object's `qty`, `filled_qty`, strings), Binance
 * `POST /api/v3/order` FULL reply (`origQty`, `executedQty`, `fills[]`). The fake TWS sends scripted ORDER_STATUS
 * and EXECUTION_DATA messages (TWS API "Order Management" → orderStatus `filled` cumulative; "Executions and
 * Commissions" → execDetails `shares`) with more filled than the order's totalQuantity.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { BrokerApi, OrderUpdate } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import { TestClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeBinance } from '../../fakes/binance/server';
import type { FakeVenue } from '../../fakes/control';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';
import { readUntil } from '../../kit/orderUpdates';
import { startFakeOanda } from '../../fakes/oanda/server';

type Json = Record<string, unknown>;
const HUGE = '9'.repeat(400);

let seq = 0;
const order = (symbol: string, quantity: number): PlacedOrderRequest => ({
  symbol,
  side: 'buy',
  order_type: { type: 'market' },
  quantity,
  time_in_force: { type: 'IOC' },
  client_order_id: `hostile-${process.pid}-${++seq}`,
  metadata: {},
});

async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

describe('hostile venue replies: a clear error, never a wrong position', () => {
  let fake: FakeVenue;
  let broker: BrokerApi;
  let updates: OrderUpdate[];
  let errors: string[] = [];

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  const listen = (): void => {
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  };
  const fills = () => updates.filter((u) => u.fill !== undefined);

  async function oanda(): Promise<void> {
    const f = await startFakeOanda();
    fake = f;
    broker = new OandaBroker({
      baseUrl: f.url,
      credentials: staticCredentials({ 'oanda.token': f.token, 'oanda.accountId': f.accountId }),
      pollIntervalMs: 0,
      timeoutMs: 2000,
      onError: () => undefined,
    });
    await broker.connect();
    listen();
  }

  async function alpaca(): Promise<void> {
    const f = await startFakeAlpaca();
    f.setQuote('AAPL', 150, 150.1);
    fake = f;
    broker = new AlpacaBroker({
      baseUrl: f.url,
      dataBaseUrl: f.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: () => undefined,
    });
    await broker.connect();
    listen();
  }

  async function binance(): Promise<void> {
    const f = await startFakeBinance();
    fake = f;
    broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: f.url,
      credentials: staticCredentials({ 'binance.apiKey': f.apiKey, 'binance.secret': f.secret }),
      clock: new TestClock(),
      timeoutMs: 800,
      pollIntervalMs: 0,
      enableRateLimit: false,
      onError: () => undefined,
    });
    await broker.connect();
    listen();
  }

  const fillTx = (body: unknown): Json => (body as Json).orderFillTransaction as Json;

  it('OANDA: a fill of more units than ordered is refused (outcome unknown), not applied', async () => {
    await oanda();
    fake.injectNext({
      kind: 'alteredBody',
      alter: (b) => {
        fillTx(b).units = '100000000';
        return b;
      },
    });
    const e = await failure(broker.submitOrder(order('EUR_USD', 100)));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('OANDA: a fill whose units do not fit a double is a BAD_RESPONSE (outcome unknown), not a crash', async () => {
    await oanda();
    fake.injectNext({
      kind: 'alteredBody',
      alter: (b) => {
        fillTx(b).units = HUGE;
        return b;
      },
    });
    const e = await failure(broker.submitOrder(order('EUR_USD', 100)));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('OANDA: a sell fill for a buy order is refused, not applied as a sale', async () => {
    await oanda();
    fake.injectNext({
      kind: 'alteredBody',
      alter: (b) => {
        fillTx(b).units = '-100';
        return b;
      },
    });
    const e = await failure(broker.submitOrder(order('EUR_USD', 100)));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('OANDA: one unreadable order in the pending list does not stop the poll following the others', async () => {
    await oanda();
    const f = fake as Awaited<ReturnType<typeof startFakeOanda>>;
    const resting = await broker.submitOrder({
      ...order('EUR_USD', 100),
      order_type: { type: 'limit', price: 1.05 },
      time_in_force: { type: 'GTC' },
    });
    const other = await broker.submitOrder({
      ...order('EUR_USD', 100),
      order_type: { type: 'limit', price: 1.04 },
      time_in_force: { type: 'GTC' },
    });
    // The second order's line comes back garbled; the first one filled meanwhile and left the list.
    f.setQuote('EUR_USD', 1.0499, 1.05);
    f.injectNext({
      on: 'list',
      kind: 'alteredBody',
      alter: (b) => {
        const body = b as { orders: Json[] };
        return { ...body, orders: body.orders.map((o) => (o.id === other.order_id ? { ...o, units: HUGE } : o)) };
      },
    });
    await (broker as OandaBroker).poll();
    assert.deepEqual(
      fills().map((u) => u.order.order_id),
      [resting.order_id],
      'the first order’s fill is found although another line of the list was unreadable',
    );
  });

  it('Alpaca: a submit reply filled beyond its quantity is refused (outcome unknown), not applied', async () => {
    await alpaca();
    fake.injectNext({
      kind: 'alteredBody',
      alter: (b) => ({ ...(b as Json), status: 'filled', filled_qty: '1000000', filled_avg_price: '150.1' }),
    });
    const e = await failure(broker.submitOrder(order('AAPL', 10)));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('Alpaca: a look-up whose filled_qty does not fit a double is a BAD_RESPONSE naming the field', async () => {
    await alpaca();
    const placed = await broker.submitOrder({ ...order('AAPL', 10), order_type: { type: 'limit', price: 100 } });
    fake.injectNext({
      on: 'lookup',
      kind: 'alteredBody',
      alter: (b) => ({ ...(b as Json), status: 'filled', filled_qty: HUGE, filled_avg_price: '100' }),
    });
    const e = await failure(broker.getOrderStatus(placed.order_id));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.match(e.message, /filled_qty/);
    assert.deepEqual(fills(), []);
  });

  it('Binance: a FULL reply executed beyond origQty is refused (outcome unknown), not applied', async () => {
    await binance();
    fake.injectNext({
      kind: 'alteredBody',
      alter: (b) => {
        const o = b as Json;
        const f = (o.fills as Json[])[0] as Json;
        return { ...o, executedQty: '50.00000000', fills: [{ ...f, qty: '50.00000000' }] };
      },
    });
    const e = await failure(broker.submitOrder(order('BTCUSDT', 0.003)));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('Binance: one unreadable order in the open-order list does not stop the poll following the others', async () => {
    await binance();
    const resting = await broker.submitOrder({
      ...order('BTCUSDT', 0.003),
      order_type: { type: 'limit', price: 29_000 },
      time_in_force: { type: 'GTC' },
    });
    const other = await broker.submitOrder({
      ...order('BTCUSDT', 0.003),
      order_type: { type: 'limit', price: 28_000 },
      time_in_force: { type: 'GTC' },
    });
    // The first one fills and leaves the list; the second one's line comes back garbled.
    fake.setQuote('BTCUSDT', 28_990, 29_000);
    const otherId = Number(other.order_id.split(':')[1]);
    fake.injectNext({
      on: 'list',
      kind: 'alteredBody',
      alter: (b) => (b as Json[]).map((o) => (o.orderId === otherId ? { ...o, executedQty: HUGE } : o)),
    });
    await (broker as BinanceBroker).poll();
    assert.deepEqual(
      [...new Set(fills().map((u) => u.order.order_id))],
      [resting.order_id],
      'the first order’s fill is found although another line of the list was unreadable',
    );
  });

  it('Binance: a fill at a price too large for money (1e300) is a BAD_RESPONSE (outcome unknown), not a crash', async () => {
    await binance();
    fake.injectNext({
      kind: 'alteredBody',
      alter: (b) => {
        const o = b as Json;
        return { ...o, fills: (o.fills as Json[]).map((f) => ({ ...f, price: '1e300' })) };
      },
    });
    const e = await failure(broker.submitOrder(order('BTCUSDT', 0.003)));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('a look-up answered with another order is refused (BAD_RESPONSE), not applied to the order asked for', async () => {
    const cases: Array<[string, () => Promise<void>, string, (b: unknown, other: string) => unknown]> = [
      [
        'OANDA',
        oanda,
        'EUR_USD',
        (b, other) => ({
          ...(b as Json),
          order: { ...((b as Json).order as Json), id: other, clientExtensions: { id: 'someone-else' } },
        }),
      ],
      ['Alpaca', alpaca, 'AAPL', (b, other) => ({ ...(b as Json), id: other, client_order_id: 'someone-else' })],
      [
        'Binance',
        binance,
        'BTCUSDT',
        (b, other) => ({ ...(b as Json), orderId: Number(other.split(':')[1]), clientOrderId: 'someone-else' }),
      ],
    ];
    for (const [venue, setUp, symbol, alter] of cases) {
      await setUp();
      const price = symbol === 'EUR_USD' ? 1.05 : symbol === 'AAPL' ? 100 : 29_000;
      const resting = (n: number) =>
        broker.submitOrder({
          ...order(symbol, symbol === 'BTCUSDT' ? 0.003 : 10),
          order_type: { type: 'limit', price: price - n },
          time_in_force: { type: 'GTC' },
        });
      const mine = await resting(0);
      const other = await resting(1);
      fake.injectNext({ on: 'lookup', kind: 'alteredBody', alter: (b) => alter(b, other.order_id) });
      const e = await failure(broker.getOrderStatus(mine.order_id));
      assert.equal(e.reason, 'BAD_RESPONSE', venue);
      assert.match(e.message, new RegExp(other.order_id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), venue);
      fake.injectNext({ on: 'lookup', kind: 'alteredBody', alter: (b) => alter(b, other.order_id) });
      const e2 = await failure(broker.getOrderByClientId(mine.client_order_id, { symbol }));
      assert.equal(e2.reason, 'BAD_RESPONSE', venue);
      await broker.disconnect();
      await fake.close();
    }
  });

  it('a submit answered with another client order id is BAD_RESPONSE with the outcome unknown, not applied', async () => {
    for (const [venue, setUp, symbol] of [
      ['Alpaca', alpaca, 'AAPL'],
      ['Binance', binance, 'BTCUSDT'],
    ] as const) {
      await setUp();
      fake.injectNext({
        kind: 'alteredBody',
        alter: (b) => ({ ...(b as Json), client_order_id: 'someone-else', clientOrderId: 'someone-else' }),
      });
      const e = await failure(broker.submitOrder(order(symbol, symbol === 'BTCUSDT' ? 0.003 : 10)));
      assert.equal(e.reason, 'BAD_RESPONSE', venue);
      assert.equal(e.outcomeUnknown, true, venue);
      assert.deepEqual(fills(), [], venue);
      await broker.disconnect();
      await fake.close();
    }
  });

  async function ib(): Promise<FakeTws> {
    errors = [];
    const f = await startFakeTws();
    f.setQuote('AAPL', 99, 101);
    fake = f;
    broker = new IbBroker({
      host: f.host,
      port: f.port,
      clientId: 21,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 100,
      onError: (m) => errors.push(m),
    });
    await broker.connect();
    listen();
    return f;
  }

  it('IB: a status saying more filled than the order’s quantity is refused (outcome unknown), not applied', async () => {
    const f = await ib();
    f.scriptNextOrder([{ status: 'Filled', filled: 1_000_000, avgFillPrice: 101, lastFillPrice: 101 }]);
    const e = await failure(broker.submitOrder({ ...order('AAPL', 1000), time_in_force: { type: 'GTC' } }));
    assert.equal(e.reason, 'BAD_RESPONSE');
    assert.equal(e.outcomeUnknown, true);
    assert.deepEqual(fills(), []);
  });

  it('IB: an execution of more shares than the order has left is not applied beyond the order', async () => {
    const f = await ib();
    f.scriptNextOrder([
      { status: 'Submitted' },
      { execution: { execId: 'big.01', shares: 5000, price: 101 } },
      { commissionReport: { execId: 'big.01', commission: 1 } },
    ]);
    const placed = await broker.submitOrder({ ...order('AAPL', 1000), time_in_force: { type: 'GTC' } });
    assert.equal(placed.status.status, 'submitted');
    // TWS answers one socket in order: once the open orders asked now are in, the execution and its report are too.
    await (broker as IbBroker).reconcile();
    const now = await broker.getOrderStatus(placed.order_id);
    const filled = fills().reduce((sum, u) => sum + u.fill!.quantity, 0);
    assert.ok(filled <= 1000, `fills add up to ${filled} of an order for 1000`);
    assert.ok((now.filled_quantity ?? 0) <= 1000, `the order reads ${String(now.filled_quantity)} filled`);
    assert.ok(
      errors.some((m) => /5000/.test(m) && /1000/.test(m)),
      `no error names the execution: ${errors.join(' | ')}`,
    );
  });

  it('IB: an execution at a price no money can be (1e300) is not applied; the fill comes from the status', async () => {
    const f = await ib();
    f.scriptNextOrder([
      { status: 'Submitted' },
      { status: 'Filled', filled: 1000, avgFillPrice: 101, lastFillPrice: 101 },
      { execution: { execId: 'huge.01', shares: 1000, price: 1e300 } },
      { commissionReport: { execId: 'huge.01', commission: 1 } },
    ]);
    const placed = await broker.submitOrder({ ...order('AAPL', 1000), time_in_force: { type: 'GTC' } });
    const done = await readUntil(
      broker,
      () => broker.getOrderStatus(placed.order_id),
      (r) => r.status.status === 'filled',
      (u) => u.order.order_id === placed.order_id,
    );
    assert.deepEqual(
      done.fills.map((x) => [x.quantity, x.price]),
      [[1000, 101]],
    );
  });
});
