/** What the engine's working orders add up to, kept as they change: position sides and unacknowledged reservations. */
import assert from 'node:assert/strict';
import { toMoney } from '../../../src/common/decimal';
import { WorkingExposure } from '../../../src/execution/exposure';
import { applyEvent, newOrderRecord, type OrderRecord } from '../../../src/execution/orderState';
import type { PlacedOrderRequest } from '../../../src/orders/model';

const request = (side: 'buy' | 'sell', quantity: number, symbol = 'AAPL'): PlacedOrderRequest => ({
  symbol,
  side,
  quantity,
  order_type: { type: 'market' },
  time_in_force: { type: 'GTC' },
  metadata: {},
  client_order_id: `c-${side}-${quantity}-${symbol}`,
});

const order = (side: 'buy' | 'sell', quantity: number, venue = 'paper', symbol = 'AAPL'): OrderRecord =>
  newOrderRecord({
    clientOrderId: `c-${side}-${quantity}-${symbol}-${venue}`,
    commandId: 'cmd',
    venue,
    request: request(side, quantity, symbol),
    at: 0,
  });

describe('WorkingExposure', () => {
  it('sums what is left to fill per venue, symbol and side, through fills, and forgets finished orders', () => {
    const x = new WorkingExposure();
    const buy = order('buy', 10);
    const sell = order('sell', 4);
    const elsewhere = order('buy', 7, 'other');
    const msft = order('buy', 3, 'paper', 'MSFT');
    x.add(buy, 1000);
    x.add(sell, 400);
    x.add(elsewhere, 700);
    x.add(msft, 300);
    assert.deepEqual(x.left('paper', 'AAPL'), { buy: toMoney(10), sell: toMoney(4) });
    assert.deepEqual(x.left('other', 'AAPL'), { buy: toMoney(7), sell: 0n });
    assert.equal(x.reserved('paper'), 1700);

    // Sent, then acknowledged: the venue's buying power holds it from then on.
    const sent = applyEvent(buy, { type: 'Sent', at: 1 }).order;
    x.update(buy, sent);
    assert.equal(x.reserved('paper'), 1700);
    const accepted = applyEvent(sent, { type: 'Accepted', at: 2, venueOrderId: 'V1' }).order;
    x.update(sent, accepted);
    assert.equal(x.reserved('paper'), 700);

    const filled = applyEvent(accepted, {
      type: 'Fill',
      at: 3,
      fill: {
        fill_id: 'F1',
        order_id: 'V1',
        client_order_id: buy.clientOrderId,
        symbol: 'AAPL',
        side: 'buy',
        price: 100,
        quantity: 6,
        commission: 0,
        liquidity: 'taker',
        timestamp: 3,
      },
    }).order;
    x.update(accepted, filled);
    assert.deepEqual(x.left('paper', 'AAPL'), { buy: toMoney(4), sell: toMoney(4) });

    x.remove(filled);
    x.remove(sell);
    x.remove(msft);
    assert.deepEqual(x.left('paper', 'AAPL'), { buy: 0n, sell: 0n });
    assert.equal(x.reserved('paper'), 0);
    assert.equal(x.reserved('other'), 700);
    // Removing twice, or an order never added, changes nothing.
    x.remove(sell);
    x.update(order('sell', 99), order('sell', 99));
    assert.equal(x.reserved('other'), 700);
  });
});
