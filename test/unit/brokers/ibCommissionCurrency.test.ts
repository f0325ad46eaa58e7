/**
 * An IB commission report names its own currency (TWS API "CommissionReport": `Currency` "the reporting
 * currency", interactivebrokers.github.io/tws-api/classIBApi_1_1CommissionReport.html), which need not be the
 * account's: a USD account trading a EUR-quoted contract may be charged in EUR. A fill's commission is in the
 * account's currency (the account summary's NetLiquidation currency, TWS API "Account Summary"), so the adapter
 * converts with IB's own prices: the execution's price when its contract is the pair of the two currencies, else
 * IB's quote for that pair (either way round: IDEALPRO lists each pair one way). When IB has no such quote the
 * commission is left out (0) and the adapter says so, never added in another currency. The fake TWS
 * (test/fakes/ib/server.ts) sends the report in the currency `commissionCurrency` picks; its account is in USD.
 */
import * as assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import type { OrderResponse, PlacedOrderRequest } from '../../../src/orders/model';
import { startFakeTws, type FakeTws, type FakeTwsOptions } from '../../fakes/ib/server';
import { readUntil } from '../../kit/orderUpdates';

describe('IbBroker: a commission reported in another currency is converted to the account’s currency', function () {
  this.timeout(8000);
  let fake: FakeTws;
  let broker: IbBroker;
  let updates: OrderUpdate[];
  let warnings: string[];
  let seq = 0;

  async function start(options: FakeTwsOptions): Promise<void> {
    fake = await startFakeTws(options);
    broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 12,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      commissionWaitMs: 300,
      onError: (message, error) => warnings.push(`${message}: ${error instanceof Error ? error.message : ''}`),
    });
    updates = [];
    warnings = [];
    broker.onOrderUpdate((u) => updates.push(u));
    await broker.connect();
  }

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  const market = (symbol: string, quantity: number): PlacedOrderRequest => ({
    symbol,
    side: 'buy',
    order_type: { type: 'market' },
    quantity,
    time_in_force: { type: 'IOC' },
    client_order_id: `ib-fx-fee-${++seq}`,
    metadata: {},
  });
  const filled = (orderId: string): Promise<OrderResponse> =>
    readUntil(
      broker,
      () => broker.getOrderStatus(orderId),
      (r) => r.status.status === 'filled',
      (u) => u.order.order_id === orderId,
    );
  const fillsOf = (orderId: string) =>
    updates.filter((u) => u.order.order_id === orderId && u.fill !== undefined).map((u) => u.fill!);

  it('EUR commission on EUR_GBP in a USD account: converted at IB’s EUR.USD quote', async () => {
    await start({ commissionCurrency: () => 'EUR', commission: () => 2 });
    fake.setQuote('EUR_GBP', 0.85, 0.8502);
    fake.setQuote('EUR_USD', 1.0999, 1.1001);
    const placed = await broker.submitOrder(market('EUR_GBP', 20_000));
    const done = await filled(placed.order_id);
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    // 2 EUR at 1.1 USD per EUR is 2.2 USD, not "2".
    assert.ok(Math.abs(fills[0]!.commission - 2.2) < 1e-9, `commission ${fills[0]!.commission}`);
    assert.ok(Math.abs((done.commission ?? 0) - 2.2) < 1e-9);
    assert.deepEqual(warnings, []);
  });

  it('JPY commission in a USD account: converted at the inverse of IB’s USD.JPY quote', async () => {
    await start({ commissionCurrency: () => 'JPY', commission: () => 300 });
    fake.setQuote('EUR_USD', 1.1, 1.1002);
    fake.setQuote('USD_JPY', 149.99, 150.01);
    const placed = await broker.submitOrder(market('EUR_USD', 10_000));
    await filled(placed.order_id);
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.ok(Math.abs(fills[0]!.commission - 2) < 1e-9, `commission ${fills[0]!.commission}`);
  });

  it('EUR commission on EUR_USD in a USD account: converted at the execution’s own price', async () => {
    await start({ commissionCurrency: (c) => c.symbol, commission: () => 2 });
    fake.setQuote('EUR_USD', 1.1, 1.1002);
    const placed = await broker.submitOrder(market('EUR_USD', 10_000));
    await filled(placed.order_id);
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]!.price, 1.1002);
    assert.ok(Math.abs(fills[0]!.commission - 2 * 1.1002) < 1e-9, `commission ${fills[0]!.commission}`);
  });

  it('USD commission on EUR_GBP in a USD account: as reported (already the account’s currency)', async () => {
    await start({ commissionCurrency: () => 'USD', commission: () => 2.5 });
    fake.setQuote('EUR_GBP', 0.85, 0.8502);
    const placed = await broker.submitOrder(market('EUR_GBP', 20_000));
    await filled(placed.order_id);
    assert.deepEqual(
      fillsOf(placed.order_id).map((f) => f.commission),
      [2.5],
    );
  });

  it('USD commission on a USD-quoted stock: as reported', async () => {
    await start({ commissionCurrency: () => 'USD', commission: () => 1.25 });
    fake.setQuote('AAPL', 99, 101);
    const placed = await broker.submitOrder(market('AAPL', 10));
    await filled(placed.order_id);
    assert.deepEqual(
      fillsOf(placed.order_id).map((f) => f.commission),
      [1.25],
    );
  });

  it('no IB price for the currencies: the commission is not added in the wrong currency, and the adapter says so', async () => {
    await start({ commissionCurrency: () => 'CHF', commission: () => 3 });
    fake.setQuote('AAPL', 99, 101);
    const placed = await broker.submitOrder(market('AAPL', 10));
    await filled(placed.order_id);
    const fills = fillsOf(placed.order_id);
    assert.equal(fills.length, 1);
    assert.equal(fills[0]!.commission, 0);
    assert.ok(
      warnings.some((w) => /3 CHF/.test(w) && /USD/.test(w)),
      `no warning naming the unconverted commission: ${warnings.join(' | ')}`,
    );
  });
});
