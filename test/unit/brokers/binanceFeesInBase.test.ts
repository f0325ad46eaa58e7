/**
 * A buy's fee taken from the asset bought. binance-spot-api-docs faqs/commission_faq.md: "If not paying in BNB, the
 * total commission are summed up and deducted from your received amount" ("For orders on the `BUY` side, the received
 * amount would be `quantity`"); rest-api.md "New order" FULL `fills[].commissionAsset` names it. The fills add up to
 * the quantity bought while the account holds that less the fee, so a sell of what was bought is refused -2010
 * "Account has insufficient balance for requested action.", which said nothing of why. (The engine's position is the
 * sum of the fills, the quantity bought: see the report of this round.)
 */
import assert from 'node:assert/strict';
import type { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { binanceOnFake } from '../../kit/binance';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

const market = (side: 'buy' | 'sell', client_order_id: string): PlacedOrderRequest => ({
  symbol: 'BTCUSDT',
  side,
  order_type: { type: 'market' },
  quantity: 0.003,
  time_in_force: { type: 'IOC' },
  client_order_id,
  metadata: {},
});

describe('Binance adapter: a buy whose fee Binance took from the asset bought', () => {
  let fake: FakeBinance;
  let broker: BinanceBroker;

  beforeEach(async () => {
    fake = await startFakeBinance({ balances: { USDT: 100_000 } });
    broker = binanceOnFake(fake);
    await broker.connect();
  });

  afterEach(async () => {
    await broker?.disconnect();
    await fake?.close();
  });

  it('selling what was bought is refused once, saying the fee came out of the asset and to sell what is held', async () => {
    const bought = await broker.submitOrder(market('buy', 'bn-fee-1'));
    assert.equal(bought.status.status, 'filled');
    assert.equal(bought.filled_quantity, 0.003);
    assert.deepEqual(
      (await broker.getPositions()).map((p) => [p.symbol, p.quantity]),
      [['BTCUSDT', 0.002997]],
      'the account holds the quantity bought less the 0.1 % fee',
    );
    const sold = await broker.submitOrder(market('sell', 'bn-fee-2'));
    assert.equal(sold.status.status, 'rejected');
    const reason = sold.status.status === 'rejected' ? sold.status.reason : '';
    assert.match(reason, /insufficient balance/);
    assert.match(reason, /fee from what it receives .* sell what the account holds/);
    assert.equal(fake.requestCounts()['POST /api/v3/order'], 2);
  });
});
