/** The paper venue against hand-computed fills, on a quote source the test controls. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { SyntheticFeed, type QuoteSource } from '../../../src/brokers/paper/feed';
import type { OrderUpdate } from '../../../src/brokers/broker';
import type { OrderType, PlacedOrderRequest, Quote, TimeInForce } from '../../../src/orders/model';
import { isBrokerError } from '../../../src/brokers/errors';

class ScriptedQuotes implements QuoteSource {
  bid = 100;
  ask = 100.02;
  size = 1000;
  set(bid: number, ask: number, size = 1000): void {
    Object.assign(this, { bid, ask, size });
  }
  quote(symbol: string, atMs: number): Quote {
    return { symbol, bid: this.bid, ask: this.ask, last: this.bid, bid_size: this.size, ask_size: this.size, timestamp: atMs };
  }
}

let n = 0;
function order(
  side: 'buy' | 'sell',
  quantity: number,
  orderType: OrderType = { type: 'market' },
  tif: TimeInForce = { type: 'GTC' },
  symbol = 'AAPL',
): PlacedOrderRequest {
  return { symbol, side, quantity, order_type: orderType, time_in_force: tif, metadata: {}, client_order_id: `t-${++n}` };
}

describe('PaperBroker', () => {
  let clock: TestClock;
  let quotes: ScriptedQuotes;
  let broker: PaperBroker;
  let updates: OrderUpdate[];
  beforeEach(async () => {
    clock = new TestClock(Date.UTC(2026, 0, 5, 15));
    quotes = new ScriptedQuotes();
    broker = new PaperBroker({ clock, quotes, startingCash: 100_000 });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  it('market buy fills in full at the ask; market sell at the bid; cash and position exact', async () => {
    const r = await broker.submitOrder(order('buy', 10));
    assert.deepEqual([r.status.status, r.filled_price, r.filled_quantity], ['filled', 100.02, 10]);
    assert.equal((await broker.getAccountInfo()).balance, 100_000 - 1000.2);
    const s = await broker.submitOrder(order('sell', 4));
    assert.equal(s.filled_price, 100);
    const [p] = await broker.getPositions();
    assert.deepEqual([p?.quantity, p?.average_price], [6, 100.02]);
    assert.equal((await broker.getAccountInfo()).balance, 100_000 - 1000.2 + 400);
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['submitted', 'filled', 'submitted', 'filled'],
    );
  });

  for (const side of ['buy', 'sell'] as const) {
    const sign = side === 'buy' ? 1 : -1;
    it(`${side} limit marketable on arrival fills at the touch (price improvement)`, async () => {
      const limit = side === 'buy' ? 100.5 : 99.5;
      const r = await broker.submitOrder(order(side, 5, { type: 'limit', price: limit }));
      assert.equal(r.filled_price, side === 'buy' ? 100.02 : 100);
    });
    it(`${side} limit rests, then fills at its limit when the market trades through`, async () => {
      const limit = side === 'buy' ? 99.9 : 100.1;
      const r = await broker.submitOrder(order(side, 5, { type: 'limit', price: limit }));
      assert.equal(r.status.status, 'submitted');
      quotes.set(100 + sign * -0.5, 100.02 + sign * -0.5);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual([after.status.status, after.filled_price, after.fills[0]?.liquidity], ['filled', limit, 'maker']);
    });
    it(`${side} stop triggers on a gap and fills at the new touch`, async () => {
      const stop = side === 'buy' ? 100.5 : 99.5;
      const r = await broker.submitOrder(order(side, 5, { type: 'stop', price: stop }));
      assert.equal(r.status.status, 'submitted');
      quotes.set(100 + sign * 1, 100.02 + sign * 1);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual([after.status.status, after.filled_price], ['filled', side === 'buy' ? 101.02 : 99]);
    });
    it(`${side} stop-limit that gaps past its limit becomes a resting limit`, async () => {
      const t: OrderType =
        side === 'buy' ? { type: 'stop_limit', stop_price: 100.5, limit_price: 100.6 } : { type: 'stop_limit', stop_price: 99.5, limit_price: 99.4 };
      const r = await broker.submitOrder(order(side, 5, t));
      quotes.set(100 + sign * 1, 100.02 + sign * 1);
      broker.poll();
      assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'submitted');
      quotes.set(100 + sign * 0.5, 100.02 + sign * 0.5);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual([after.status.status, after.filled_price], ['filled', side === 'buy' ? 100.6 : 99.4]);
    });
  }

  it('IOC fills what the touch offers and cancels the rest', async () => {
    quotes.set(100, 100.02, 30);
    const r = await broker.submitOrder(order('buy', 50, { type: 'market' }, { type: 'IOC' }));
    assert.deepEqual([r.status.status, r.filled_quantity], ['cancelled', 30]);
  });

  it('IOC limit that is not marketable is cancelled at once', async () => {
    const r = await broker.submitOrder(order('buy', 5, { type: 'limit', price: 99 }, { type: 'IOC' }));
    assert.deepEqual([r.status.status, r.filled_quantity], ['cancelled', null]);
  });

  it('FOK fills all or nothing against the touch', async () => {
    quotes.set(100, 100.02, 30);
    const refused = await broker.submitOrder(order('buy', 50, { type: 'market' }, { type: 'FOK' }));
    assert.deepEqual([refused.status.status, refused.filled_quantity], ['cancelled', null]);
    const filled = await broker.submitOrder(order('buy', 30, { type: 'market' }, { type: 'FOK' }));
    assert.deepEqual([filled.status.status, filled.filled_quantity], ['filled', 30]);
  });

  it('GTD rests until expires_at, then expires on the clock', async () => {
    const r = await broker.submitOrder(order('buy', 5, { type: 'limit', price: 90 }, { type: 'GTD', expires_at: clock.now() + 60_000 }));
    clock.advance(59_999);
    broker.poll();
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'submitted');
    clock.advance(1);
    broker.poll();
    assert.equal((await broker.getOrderStatus(r.order_id)).status.status, 'expired');
    assert.deepEqual(await broker.listOpenOrders(), []);
  });

  it('rejects off-grid prices and quantities, GTD in the past and orders beyond buying power, with the rule', async () => {
    const tick = await broker.submitOrder(order('buy', 1, { type: 'limit', price: 99.995 }));
    assert.deepEqual(tick.status, { status: 'rejected', reason: 'price 99.995 is not a multiple of the tick size 0.01 for AAPL' });
    const lot = await broker.submitOrder(order('buy', 1.5));
    assert.match(lot.status.status === 'rejected' ? lot.status.reason : '', /not a multiple of the lot size 1/);
    const past = await broker.submitOrder(order('buy', 1, { type: 'limit', price: 99 }, { type: 'GTD', expires_at: clock.now() - 1 }));
    assert.equal(past.status.status, 'rejected');
    const big = await broker.submitOrder(order('buy', 2000));
    assert.match(big.status.status === 'rejected' ? big.status.reason : '', /insufficient buying power: the order needs 200040 USD, 100000 is available/);
    assert.equal((await broker.getAccountInfo()).balance, 100_000);
  });

  it('tolerates float noise on the grid', async () => {
    const r = await broker.submitOrder(order('buy', 1, { type: 'limit', price: 0.1 + 0.2 + 99.7 }));
    assert.notEqual(r.status.status, 'rejected');
  });

  it('keeps money exact: 0.1 + 0.2 BTC bought, 0.3 sold, with 10 bps commission', async () => {
    quotes.set(65000, 65000.02);
    await broker.submitOrder(order('buy', 0.1, { type: 'market' }, { type: 'GTC' }, 'BTCUSDT'));
    await broker.submitOrder(order('buy', 0.2, { type: 'market' }, { type: 'GTC' }, 'BTCUSDT'));
    const s = await broker.submitOrder(order('sell', 0.3, { type: 'market' }, { type: 'GTC' }, 'BTCUSDT'));
    assert.deepEqual(await broker.getPositions(), []);
    // buys: 6500.002 + 13000.004 (+ commission 6.500002 + 13.000004); sell: 19500 (- 19.5)
    assert.equal(s.commission, 19.5);
    assert.equal((await broker.getAccountInfo()).balance, 99960.993994);
  });

  it('a position that flips through zero takes the new price as its average', async () => {
    await broker.submitOrder(order('buy', 10));
    quotes.set(101, 101.02);
    await broker.submitOrder(order('sell', 15));
    const [p] = await broker.getPositions();
    assert.deepEqual([p?.quantity, p?.average_price], [-5, 101]);
  });

  it('refuses a duplicate client order id, an unknown order and cancelling a final order', async () => {
    const o = order('buy', 1);
    const r = await broker.submitOrder(o);
    await assert.rejects(broker.submitOrder(o), (e) => isBrokerError(e) && e.reason === 'DUPLICATE_CLIENT_ORDER_ID');
    await assert.rejects(broker.cancelOrder('P-999'), (e) => isBrokerError(e) && e.reason === 'ORDER_NOT_FOUND');
    await assert.rejects(broker.cancelOrder(r.order_id), (e) => isBrokerError(e) && e.reason === 'INVALID_ORDER');
    assert.equal((await broker.getOrderByClientId(o.client_order_id))?.order_id, r.order_id);
    assert.equal(await broker.getOrderByClientId('never-sent'), undefined);
  });

  describe('persistence', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-paper-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('survives a restart: cash, positions, resting orders, and the resting order fills after reload', async () => {
      const file = join(dir, 'paper.json');
      const first = new PaperBroker({ clock, quotes, stateFile: file });
      await first.connect();
      await first.submitOrder(order('buy', 10));
      const resting = await first.submitOrder(order('buy', 5, { type: 'limit', price: 99 }));
      await first.disconnect();
      const second = new PaperBroker({ clock, quotes, stateFile: file });
      await second.connect();
      assert.equal((await second.getAccountInfo()).balance, 100_000 - 1000.2);
      assert.deepEqual(
        (await second.getPositions()).map((p) => p.quantity),
        [10],
      );
      assert.deepEqual(
        (await second.listOpenOrders()).map((o) => o.order_id),
        [resting.order_id],
      );
      quotes.set(98.5, 98.52);
      second.poll();
      assert.equal((await second.getOrderStatus(resting.order_id)).filled_price, 99);
      const third = new PaperBroker({ clock, quotes, stateFile: file });
      await third.connect();
      assert.deepEqual(
        (await third.getPositions()).map((p) => p.quantity),
        [15],
      );
      const next = await third.submitOrder(order('buy', 1));
      assert.equal(next.order_id, 'P-3');
    });

    it('a corrupt state file is a clear error naming the file, never silently replaced', async () => {
      const file = join(dir, 'paper.json');
      writeFileSync(file, '{"version": 1, "cash": "abc"');
      const b = new PaperBroker({ clock, quotes, stateFile: file });
      await assert.rejects(b.connect(), (e) => isBrokerError(e) && e.message.includes(file) && /reset/.test(e.message));
    });
  });

  describe('synthetic feed', () => {
    it('is deterministic for a seed, differs across seeds, and is on the tick with bid < ask', () => {
      const a = new SyntheticFeed(1);
      const t = Date.UTC(2026, 3, 1, 12);
      assert.deepEqual(a.quote('EUR_USD', t), new SyntheticFeed(1).quote('EUR_USD', t));
      assert.notDeepEqual(a.quote('EUR_USD', t), new SyntheticFeed(2).quote('EUR_USD', t));
      for (let i = 0; i < 200; i++) {
        const q = a.quote('EURUSD', t + i * 997);
        assert.ok(q.bid < q.ask);
        assert.ok(Math.abs(q.bid * 1e5 - Math.round(q.bid * 1e5)) < 1e-6);
        assert.ok(q.bid > 1.0 && q.ask < 1.2);
      }
    });
  });

  it('property: cash + position value at trade prices is conserved minus commission; fills within the touch or the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            side: fc.constantFrom('buy' as const, 'sell' as const),
            qty: fc.integer({ min: 1, max: 20 }),
            limitOffset: fc.option(fc.integer({ min: -30, max: 30 })),
            move: fc.integer({ min: -50, max: 50 }),
          }),
          { maxLength: 25 },
        ),
        async (steps) => {
          const q = new ScriptedQuotes();
          const c = new TestClock();
          const b = new PaperBroker({ clock: c, quotes: q, startingCash: 1_000_000, fees: { commission: (_i, _s, p, qty) => Math.round(p * qty) / 1000 } });
          await b.connect();
          let mid = 10000;
          let commission = 0;
          let flow = 0;
          const fills: Array<{ price: number; bid: number; ask: number; limit?: number; side: string }> = [];
          b.onOrderUpdate((u) => {
            if (u.fill) {
              commission += u.fill.commission;
              flow += (u.fill.side === 'buy' ? -1 : 1) * u.fill.price * u.fill.quantity;
            }
          });
          for (const s of steps) {
            mid += s.move;
            q.set(mid / 100, (mid + 2) / 100);
            b.poll();
            const limit = s.limitOffset === null ? undefined : (mid + s.limitOffset) / 100;
            const r = await b.submitOrder(order(s.side, s.qty, limit === undefined ? { type: 'market' } : { type: 'limit', price: limit }));
            for (const f of r.fills) fills.push({ price: f.price, bid: q.bid, ask: q.ask, limit, side: s.side });
          }
          const account = await b.getAccountInfo();
          assert.ok(Math.abs(account.balance - (1_000_000 + flow - commission)) < 1e-6);
          for (const f of fills) {
            assert.ok(f.price >= f.bid - 1e-9 && f.price <= f.ask + 1e-9, 'fill outside the touch');
            if (f.limit !== undefined) assert.ok(f.side === 'buy' ? f.price <= f.limit + 1e-9 : f.price >= f.limit - 1e-9, 'fill worse than the limit');
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
