/** What the engine's working orders add up to, kept as they change: position sides and unacknowledged reservations. */
import assert from 'node:assert/strict';
import fc from 'fast-check';
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

  it('kept by differences, it always equals the sums taken afresh over the working orders (random lives)', () => {
    const venues = ['paper', 'other'];
    const symbols = ['AAPL', 'MSFT'];
    const op = fc.record({
      order: fc.nat({ max: 5 }),
      kind: fc.constantFrom('add', 'sent', 'accept', 'fill', 'remove'),
      qty: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const x = new WorkingExposure();
        const working = new Map<number, { record: OrderRecord; reserve: number }>();
        let fills = 0;
        for (const { order: n, kind, qty } of ops) {
          const venue = venues[n % 2] as string;
          const symbol = symbols[Math.floor(n / 2) % 2] as string;
          const side = n % 3 === 0 ? 'sell' : 'buy';
          const current = working.get(n);
          if (kind === 'add') {
            if (current) continue;
            const record = newOrderRecord({
              clientOrderId: `o${n}`,
              commandId: 'c',
              venue,
              request: { ...request(side, 10, symbol), client_order_id: `o${n}` },
              at: 0,
            });
            const reserve = 100 * (n + 1) + 0.1;
            x.add(record, reserve);
            working.set(n, { record, reserve });
            continue;
          }
          if (!current) continue;
          const before = current.record;
          let after: OrderRecord = before;
          if (kind === 'sent' && before.state === 'PENDING_SUBMIT')
            after = applyEvent(before, { type: 'Sent', at: 1 }).order;
          else if (kind === 'accept' && before.state === 'SUBMITTED')
            after = applyEvent(before, { type: 'Accepted', at: 2, venueOrderId: `V${n}` }).order;
          else if (
            kind === 'fill' &&
            (before.state === 'SUBMITTED' || before.state === 'ACCEPTED' || before.state === 'PARTIALLY_FILLED')
          ) {
            const left = 10 - Number(before.filledUnits / 10_000_000_000n);
            const q = Math.min(qty, left);
            after = applyEvent(before, {
              type: 'Fill',
              at: 3,
              fill: {
                fill_id: `F${++fills}`,
                order_id: `V${n}`,
                client_order_id: `o${n}`,
                symbol,
                side,
                price: 100,
                quantity: q,
                commission: 0,
                liquidity: 'taker',
                timestamp: 3,
              },
            }).order;
          } else if (kind === 'remove') {
            x.remove(before);
            working.delete(n);
            continue;
          }
          if (after !== before) {
            x.update(before, after);
            current.record = after;
          }
        }
        for (const venue of venues) {
          const unacked = [...working.values()].filter(
            (w) => w.record.venue === venue && (w.record.state === 'PENDING_SUBMIT' || w.record.state === 'SUBMITTED'),
          );
          const expected = unacked.reduce((sum, w) => sum + w.reserve, 0);
          assert.ok(
            Math.abs(x.reserved(venue) - expected) < 1e-6,
            `${venue} reserved ${x.reserved(venue)} ≠ ${expected}`,
          );
          if (unacked.length === 0) assert.equal(x.reserved(venue), 0, 'an empty set is exactly zero');
          for (const symbol of symbols) {
            const sum = { buy: 0n, sell: 0n };
            for (const w of working.values()) {
              if (w.record.venue !== venue || w.record.request.symbol !== symbol) continue;
              sum[w.record.request.side] += toMoney(w.record.request.quantity) - w.record.filledUnits;
            }
            assert.deepEqual({ ...x.left(venue, symbol) }, sum, `${venue} ${symbol}`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
