/**
 * Fills of resting limit orders by queue position (README, "Fills of resting limit orders"): an order
 * queues behind the size shown at its price when it joins the level, and only trades at the level (after
 * that size) or through it fill it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { TestClock } from '../../../src/common/clock';
import { FixedQuotes, GTC, limit, order } from './helpers';

const EUR = 'EUR_USD';

describe('PaperBroker queue position', () => {
  let clock: TestClock;
  let quotes: FixedQuotes;
  let broker: PaperBroker;
  let updates: OrderUpdate[];
  const fillsOf = (orderId: string) =>
    updates.filter((u) => u.fill && u.order.order_id === orderId).map((u) => [u.fill?.price, u.fill?.quantity]);

  async function open(options: { stateFile?: string } = {}): Promise<PaperBroker> {
    const b = new PaperBroker({ clock, quotes, startingCash: 10_000_000, depth: false, ...options });
    await b.connect();
    b.onOrderUpdate((u) => updates.push(u));
    return b;
  }

  beforeEach(async () => {
    clock = new TestClock(Date.UTC(2026, 0, 5, 10));
    quotes = new FixedQuotes().set(EUR, 1.08, 1.0802, 5000);
    updates = [];
    broker = await open();
  });

  it('queue ahead 5,000 at 1.0800: trades of 3,000 then 4,000 fill 2,000 of a 5,000 order; a trade through fills the rest', async () => {
    const placed = await broker.submitOrder(order('buy', 5000, limit(1.08), GTC, EUR));
    assert.equal(placed.status.status, 'submitted');
    broker.recordTrade(EUR, 1.08, 3000);
    assert.deepEqual(fillsOf(placed.order_id), [], '2,000 still ahead');
    broker.recordTrade(EUR, 1.08, 4000);
    assert.deepEqual(fillsOf(placed.order_id), [[1.08, 2000]]);
    assert.deepEqual((await broker.getOrderStatus(placed.order_id)).status, {
      status: 'partially_filled',
      filled_qty: 2000,
    });
    broker.recordTrade(EUR, 1.08, 1000);
    assert.deepEqual(fillsOf(placed.order_id), [
      [1.08, 2000],
      [1.08, 1000],
    ]);
    broker.recordTrade(EUR, 1.07999, 1);
    assert.deepEqual(
      fillsOf(placed.order_id).at(-1),
      [1.08, 2000],
      'a print below a buy fills what is left, at its own price',
    );
    assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'filled');
    assert.deepEqual(
      (await broker.getOrderStatus(placed.order_id)).fills.map((f) => f.liquidity),
      ['maker', 'maker', 'maker'],
    );
  });

  it('sells queue behind the ask size; trades away from the level (a buy aggressor above it) fill in full', async () => {
    quotes.set(EUR, 1.08, 1.0802, 2500);
    const placed = await broker.submitOrder(order('sell', 1000, limit(1.0802), GTC, EUR));
    broker.recordTrade(EUR, 1.0802, 3000);
    assert.deepEqual(fillsOf(placed.order_id), [[1.0802, 500]]);
    broker.recordTrade(EUR, 1.0803, 1);
    assert.deepEqual(fillsOf(placed.order_id).at(-1), [1.0802, 500]);
    assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'filled');
  });

  it('our own orders at one price keep price-time priority, and the market size ahead counts once', async () => {
    const first = await broker.submitOrder(order('buy', 1000, limit(1.08), GTC, EUR));
    clock.advance(1000);
    const second = await broker.submitOrder(order('buy', 1000, limit(1.08), GTC, EUR));
    // Ahead of the second: the 5,000 the market showed, then the first order.
    broker.recordTrade(EUR, 1.08, 5500);
    assert.deepEqual(fillsOf(first.order_id), [[1.08, 500]]);
    assert.deepEqual(fillsOf(second.order_id), []);
    broker.recordTrade(EUR, 1.08, 1000);
    assert.deepEqual(fillsOf(first.order_id).at(-1), [1.08, 500]);
    assert.deepEqual(fillsOf(second.order_id), [[1.08, 500]]);
  });

  it('an order inside the spread is the new best price: nothing ahead of it', async () => {
    const placed = await broker.submitOrder(order('buy', 1000, limit(1.0801), GTC, EUR));
    broker.recordTrade(EUR, 1.0801, 300);
    assert.deepEqual(fillsOf(placed.order_id), [[1.0801, 300]]);
  });

  it('cancelling an order ahead moves the next one up (its own size, not the market size ahead of it)', async () => {
    const first = await broker.submitOrder(order('buy', 1000, limit(1.08), GTC, EUR));
    const second = await broker.submitOrder(order('buy', 1000, limit(1.08), GTC, EUR));
    await broker.cancelOrder(first.order_id);
    broker.recordTrade(EUR, 1.08, 5000);
    assert.deepEqual(fillsOf(second.order_id), [], 'the market size ahead is still there');
    broker.recordTrade(EUR, 1.08, 400);
    assert.deepEqual(fillsOf(second.order_id), [[1.08, 400]]);
  });

  it('without trades (live or synthetic quotes) a resting limit fills only when the quote reaches it, as before', async () => {
    const placed = await broker.submitOrder(order('buy', 500, limit(1.08), GTC, EUR));
    clock.advance(1000);
    broker.poll();
    assert.deepEqual(fillsOf(placed.order_id), []);
    quotes.set(EUR, 1.0798, 1.08, 5000);
    clock.advance(1000);
    broker.poll();
    assert.deepEqual(fillsOf(placed.order_id), [[1.08, 500]]);
  });

  it('a candle is four prints with a quarter of its volume each; a low below the limit fills in full', async () => {
    const placed = await broker.submitOrder(order('buy', 3000, limit(1.08), GTC, EUR));
    // Open 1.0801, low at the limit: a quarter of 24,000 (6,000) trades there: 5,000 ahead, 1,000 ours.
    broker.recordCandle(EUR, { open: 1.0801, high: 1.0804, low: 1.08, close: 1.0802, volume: 24_000 });
    assert.deepEqual(fillsOf(placed.order_id), [[1.08, 1000]]);
    broker.recordCandle(EUR, { open: 1.0801, high: 1.0802, low: 1.0799, close: 1.0801, volume: 0 });
    assert.deepEqual(fillsOf(placed.order_id).at(-1), [1.08, 2000], 'traded through: filled, volume or not');
  });

  it('the queue position is saved with the order: a reloaded account queues where it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-queue-'));
    try {
      const stateFile = join(dir, 'paper-account.json');
      const first = await open({ stateFile });
      const placed = await first.submitOrder(order('buy', 5000, limit(1.08), GTC, EUR));
      first.recordTrade(EUR, 1.08, 3000);
      const saved = readPaperAccount(stateFile)?.state.orders.find((o) => o.response.order_id === placed.order_id);
      assert.equal(saved?.queueAhead, String(2000n * 10n ** 10n), 'the journal holds the 2,000 still ahead');
      await first.disconnect();
      const second = await open({ stateFile });
      second.recordTrade(EUR, 1.08, 4000);
      assert.deepEqual(fillsOf(placed.order_id), [[1.08, 2000]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('properties: never fills more than traded at a level, never before the size ahead has traded, price-time between our orders', async () => {
    const steps = fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant('join' as const),
          side: fc.constantFrom('buy' as const, 'sell' as const),
          offset: fc.integer({ min: -2, max: 3 }),
          quantity: fc.integer({ min: 1, max: 3000 }),
          shown: fc.integer({ min: 1, max: 4000 }),
        }),
        fc.record({
          kind: fc.constant('trade' as const),
          offset: fc.integer({ min: -3, max: 103 }),
          volume: fc.integer({ min: 0, max: 5000 }),
        }),
        fc.record({ kind: fc.constant('cancel' as const), which: fc.nat() }),
      ),
      { maxLength: 40 },
    );
    const tick = 0.00001;
    const bid = 1.08;
    const ask = 1.081; // 100 ticks wide: the quote never reaches a resting order, only trades fill them
    const price = (ticksFromBid: number) => Number((bid + ticksFromBid * tick).toFixed(5));
    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        const q = new FixedQuotes();
        const c = new TestClock(Date.UTC(2026, 0, 5, 10));
        const b = new PaperBroker({ clock: c, quotes: q, startingCash: 1e9, depth: false });
        await b.connect();
        const seen: OrderUpdate[] = [];
        b.onOrderUpdate((u) => seen.push(u));
        interface Mine {
          id: string;
          side: 'buy' | 'sell';
          ticks: number;
          quantity: number;
          filled: number;
          ahead: number;
          tradedSinceJoin: number;
          joined: number;
          open: boolean;
        }
        const mine: Mine[] = [];
        for (const s of plan) {
          c.advance(10);
          if (s.kind === 'join') {
            // The order's own side shows `shown` at the touch; it rests `offset` ticks from it (negative: inside the spread).
            q.set(EUR, bid, ask, s.shown);
            const ticks = s.side === 'buy' ? -s.offset : 100 + s.offset;
            const placed = await b.submitOrder(order(s.side, s.quantity, limit(price(ticks)), GTC, EUR));
            // Behind or at the touch the size shown is ahead; inside the spread nothing.
            mine.push({
              id: placed.order_id,
              side: s.side,
              ticks,
              quantity: s.quantity,
              filled: 0,
              ahead: s.offset < 0 ? 0 : s.shown,
              tradedSinceJoin: 0,
              joined: mine.length,
              open: true,
            });
          } else if (s.kind === 'cancel') {
            const live = mine.filter((m) => m.open);
            const m = live[s.which % Math.max(1, live.length)];
            if (!m) continue;
            await b.cancelOrder(m.id);
            m.open = false;
          } else {
            const before = seen.length;
            b.recordTrade(EUR, price(s.offset), s.volume);
            const fills = seen.slice(before).filter((u) => u.fill);
            const atLevel = new Map<string, number>();
            for (const u of fills) {
              const m = mine.find((x) => x.id === u.order.order_id) as Mine;
              const quantity = u.fill?.quantity ?? 0;
              m.filled += quantity;
              assert.ok(m.filled <= m.quantity);
              if (m.ticks === s.offset) {
                const key = m.side;
                atLevel.set(key, (atLevel.get(key) ?? 0) + quantity);
                // Never before the size ahead when it joined has traded at its level.
                assert.ok(
                  m.tradedSinceJoin + s.volume > m.ahead,
                  `order ${m.id} filled at its level with ${m.ahead} ahead and ${m.tradedSinceJoin + s.volume} traded`,
                );
                // Price-time: every earlier open order of ours at the same price and side is filled by now.
                for (const other of mine)
                  if (other.joined < m.joined && other.open && other.side === m.side && other.ticks === m.ticks)
                    assert.equal(other.filled, other.quantity, `order ${m.id} filled before the earlier ${other.id}`);
              } else {
                // Away from the level only a print through it fills, and in full.
                assert.ok(m.side === 'buy' ? s.offset < m.ticks : s.offset > m.ticks);
                assert.equal(m.filled, m.quantity);
              }
              if (m.filled === m.quantity) m.open = false;
            }
            // Never more than traded at the level, per side.
            for (const total of atLevel.values())
              assert.ok(total <= s.volume, `filled ${total} at a level where ${s.volume} traded`);
            for (const m of mine) if (m.ticks === s.offset) m.tradedSinceJoin += s.volume;
          }
        }
        await b.disconnect();
      }),
      { numRuns: 150 },
    );
  });
});
