/**
 * Properties over random sessions of market and limit orders and quote moves: money is conserved
 * exactly (cash + position at the trade prices = starting cash − commission), and no fill is
 * outside the quote at that time (aggressive fills) or worse than its limit.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { mulMoney } from '../../../src/common/decimal';
import { units } from '../../../src/brokers/paper/money';
import type { Fill } from '../../../src/orders/model';
import { FixedQuotes, GTC, IOC, limit, order } from './helpers';

type Step =
  | { kind: 'move'; ticks: number; size: number }
  | { kind: 'order'; side: 'buy' | 'sell'; quantity: number; limitOffset: number | null; ioc: boolean }
  | { kind: 'cancelOldest' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('move' as const),
    ticks: fc.integer({ min: -60, max: 60 }),
    size: fc.integer({ min: 0, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('order' as const),
    side: fc.constantFrom('buy' as const, 'sell' as const),
    quantity: fc.integer({ min: 1, max: 30 }),
    limitOffset: fc.option(fc.integer({ min: -40, max: 40 })),
    ioc: fc.boolean(),
  }),
  fc.constant({ kind: 'cancelOldest' as const }),
);

describe('PaperBroker properties', () => {
  for (const depth of [false, true] as const) {
    it(`conserves money exactly and never fills outside the ${depth ? 'book' : 'quote'} or beyond a limit (${depth ? 'with' : 'without'} depth)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
          const quotes = new FixedQuotes();
          const clock = new TestClock();
          // A fee that is not a round number of cents exercises the rounding too.
          const broker = new PaperBroker({
            clock,
            quotes,
            startingCash: 10_000_000,
            fees: { commission: (_i, _s, p, q) => (p * q) / 3000 },
            depth: depth ? { levels: 4, spacingTicks: 1, growth: 2, jitter: 0.3, seed: 5 } : false,
          });
          await broker.connect();
          let cents = 10_000; // the bid, in cents
          const limits = new Map<string, number | undefined>();
          const checked: Array<{ fill: Fill; bid: number; ask: number; limit: number | undefined }> = [];
          broker.onOrderUpdate((u) => {
            if (u.fill)
              checked.push({
                fill: u.fill,
                bid: quotes.fallback.bid,
                ask: quotes.fallback.ask,
                limit: limits.get(u.order.order_id),
              });
          });
          for (const s of steps) {
            clock.advance(1000);
            if (s.kind === 'move') {
              cents = Math.max(100, cents + s.ticks);
              quotes.move(cents / 100, (cents + 2) / 100, s.size);
              broker.poll();
            } else if (s.kind === 'order') {
              const price = s.limitOffset === null ? undefined : (cents + s.limitOffset) / 100;
              const r = await broker.submitOrder(
                order(s.side, s.quantity, price === undefined ? { type: 'market' } : limit(price), s.ioc ? IOC : GTC),
              );
              limits.set(r.order_id, price);
              // The response already carries the fills made on arrival; the listener saw them first.
              assert.equal(r.fills.length, checked.filter((c) => c.fill.order_id === r.order_id).length);
            } else {
              const [oldest] = await broker.listOpenOrders();
              if (oldest) await broker.cancelOrder(oldest.order_id);
            }
          }

          let flow = 0n;
          let commission = 0n;
          let position = 0n;
          for (const { fill, bid, ask, limit: lim } of checked) {
            const signed = fill.side === 'buy' ? units(fill.quantity) : -units(fill.quantity);
            flow -= mulMoney(units(fill.price), signed);
            commission += units(fill.commission);
            position += signed;
            if (fill.liquidity === 'taker') {
              // The book has 4 levels one tick apart behind the touch: a taker fills within them, never beyond.
              const reach = depth ? 0.03 + 1e-9 : 1e-9;
              if (fill.side === 'buy')
                assert.ok(
                  fill.price >= ask && fill.price <= ask + reach,
                  `taker buy fill ${fill.price} outside the book from ${ask}`,
                );
              else
                assert.ok(
                  fill.price <= bid && fill.price >= bid - reach,
                  `taker sell fill ${fill.price} outside the book from ${bid}`,
                );
              if (!depth) assert.equal(fill.price, fill.side === 'buy' ? ask : bid);
            } else {
              // A resting limit fills at its own price, once the touch has reached it.
              assert.equal(fill.price, lim);
              assert.ok(
                fill.side === 'buy' ? ask <= fill.price : bid >= fill.price,
                'maker fill before the market reached it',
              );
            }
            if (lim !== undefined)
              assert.ok(
                fill.side === 'buy' ? fill.price <= lim : fill.price >= lim,
                `fill ${fill.price} worse than limit ${lim}`,
              );
          }
          // cash + Σ(signed quantity × trade price) = starting cash − commission, to the last 10^-10.
          assert.equal(units(broker.getCashBalances()['USD'] ?? Number.NaN), units(10_000_000) + flow - commission);
          const positions = await broker.getPositions();
          assert.equal(units(positions[0]?.quantity ?? 0), position);
          const account = await broker.getAccountInfo();
          const mid = units(cents / 100) + units(0.01);
          assert.equal(units(account.equity), units(10_000_000) + flow - commission + mulMoney(position, mid));
          // Every order is either open or final, and open ones have not overfilled.
          for (const o of await broker.listOpenOrders()) assert.ok((o.filled_quantity ?? 0) < o.quantity);
        }),
        { numRuns: 150 },
      );
    });
  }
});
