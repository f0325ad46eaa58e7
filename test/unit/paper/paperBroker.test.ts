/**
 * The paper venue's matching against hand-computed fills. The market is AAPL-like: bid 100.00,
 * ask 100.02, 1000 shown on each side, 100 000 USD to start, no commission on equities.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { isBrokerError } from '../../../src/brokers/errors';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import type { OrderType, TimeInForce } from '../../../src/orders/model';
import { FOK, FixedQuotes, GTC, IOC, gtd, limit, order, stop, stopLimit } from './helpers';

const START = Date.UTC(2026, 0, 5, 15);

describe('PaperBroker matching', () => {
  let clock: TestClock;
  let quotes: FixedQuotes;
  let broker: PaperBroker;
  let updates: OrderUpdate[];
  beforeEach(async () => {
    clock = new TestClock(START);
    quotes = new FixedQuotes();
    broker = new PaperBroker({ clock, quotes });
    await broker.connect();
    updates = [];
    broker.onOrderUpdate((u) => updates.push(u));
  });

  /** The venue without depth: the touch is all an IOC/FOK can reach, and GTC/GTD fill in full at it. */
  const touchOnly = async (): Promise<PaperBroker> => {
    const b = new PaperBroker({ clock, quotes, depth: false });
    await b.connect();
    b.onOrderUpdate((u) => updates.push(u));
    return b;
  };
  const statusOf = async (id: string) => (await broker.getOrderStatus(id)).status.status;
  const cash = () => broker.getCashBalances()['USD'];
  const position = async () => (await broker.getPositions())[0]?.quantity ?? 0;

  describe('every order type × time in force × side against bid 100.00 / ask 100.02, quantity 10', () => {
    // Fills on arrival are at the touch: 100.02 for a buy (cash 100 000 − 1 000.20), 100.00 for a sell (cash + 1 000).
    const filled = {
      buy: { status: 'filled', price: 100.02, cash: 98_999.8, position: 10 },
      sell: { status: 'filled', price: 100, cash: 101_000, position: -10 },
    };
    const rests = { status: 'submitted', price: null, cash: 100_000, position: 0 };
    const killed = { status: 'cancelled', price: null, cash: 100_000, position: 0 };
    type Outcome = { status: string; price: number | null; cash: number; position: number };
    const cases: Array<{ name: string; type: Record<'buy' | 'sell', OrderType>; resting: boolean }> = [
      { name: 'market', type: { buy: { type: 'market' }, sell: { type: 'market' } }, resting: false },
      { name: 'marketable limit', type: { buy: limit(100.05), sell: limit(99.97) }, resting: false },
      { name: 'limit exactly at the touch', type: { buy: limit(100.02), sell: limit(100) }, resting: false },
      { name: 'limit away from the touch', type: { buy: limit(100.01), sell: limit(100.01) }, resting: true },
      { name: 'stop already through', type: { buy: stop(100.02), sell: stop(100) }, resting: false },
      { name: 'stop not reached', type: { buy: stop(100.5), sell: stop(99.5) }, resting: true },
      {
        name: 'stop-limit through and marketable',
        type: { buy: stopLimit(100.01, 100.05), sell: stopLimit(100.01, 99.95) },
        resting: false,
      },
      {
        name: 'stop-limit through, limit not reached',
        type: { buy: stopLimit(100.01, 100.01), sell: stopLimit(100.01, 100.01) },
        resting: true,
      },
      {
        name: 'stop-limit not reached',
        type: { buy: stopLimit(100.5, 100.6), sell: stopLimit(99.5, 99.4) },
        resting: true,
      },
    ];
    const tifs: TimeInForce[] = [GTC, gtd(START + 60_000), IOC, FOK];
    for (const c of cases) {
      for (const tif of tifs) {
        for (const side of ['buy', 'sell'] as const) {
          const immediate = tif.type === 'IOC' || tif.type === 'FOK';
          const expected: Outcome = c.resting ? (immediate ? killed : rests) : filled[side];
          it(`${side} ${c.name} ${tif.type} → ${expected.status}${expected.price === null ? '' : ` at ${expected.price}`}`, async () => {
            const r = await broker.submitOrder(order(side, 10, c.type[side], tif));
            assert.equal(r.status.status, expected.status);
            assert.equal(r.filled_price, expected.price);
            assert.equal(r.filled_quantity, expected.price === null ? null : 10);
            assert.equal(cash(), expected.cash);
            assert.equal(await position(), expected.position);
            assert.deepEqual(
              (await broker.listOpenOrders()).map((o) => o.order_id),
              expected.status === 'submitted' ? [r.order_id] : [],
            );
            if (expected.price !== null) assert.equal(r.fills[0]?.liquidity, 'taker');
          });
        }
      }
    }
  });

  for (const side of ['buy', 'sell'] as const) {
    const up = side === 'buy' ? 1 : -1;
    it(`${side} limit rests, does not fill short of its price, then fills at its limit when the market trades through`, async () => {
      const price = side === 'buy' ? 99.9 : 100.1;
      const r = await broker.submitOrder(order(side, 10, limit(price)));
      quotes.move(side === 'buy' ? 99.89 : 100.09, side === 'buy' ? 99.91 : 100.11); // one cent short
      broker.poll();
      assert.equal(await statusOf(r.order_id), 'submitted');
      quotes.move(side === 'buy' ? 99.5 : 100.5, side === 'buy' ? 99.52 : 100.52);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual(
        [after.status.status, after.filled_price, after.fills[0]?.liquidity],
        ['filled', price, 'maker'],
      );
      assert.equal(cash(), side === 'buy' ? 100_000 - 999 : 100_000 + 1001);
      assert.equal(await position(), 10 * up);
    });

    it(`${side} stop triggers on a gap and fills at the new touch, not at the stop`, async () => {
      const r = await broker.submitOrder(order(side, 10, stop(side === 'buy' ? 100.5 : 99.5)));
      quotes.move(side === 'buy' ? 100.46 : 99.52, side === 'buy' ? 100.48 : 99.54); // not yet
      broker.poll();
      assert.equal(await statusOf(r.order_id), 'submitted');
      quotes.move(side === 'buy' ? 101 : 98.98, side === 'buy' ? 101.02 : 99);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual([after.status.status, after.filled_price], ['filled', side === 'buy' ? 101.02 : 98.98]);
      assert.equal(cash(), side === 'buy' ? 98_989.8 : 100_989.8);
    });

    it(`${side} stop-limit that gaps past its limit becomes a resting limit, then fills at the limit`, async () => {
      const t = side === 'buy' ? stopLimit(100.5, 100.6) : stopLimit(99.5, 99.4);
      const r = await broker.submitOrder(order(side, 10, t));
      quotes.move(side === 'buy' ? 101 : 98.98, side === 'buy' ? 101.02 : 99); // triggered, but beyond the limit
      broker.poll();
      assert.equal(await statusOf(r.order_id), 'submitted');
      quotes.move(side === 'buy' ? 100.3 : 99.6, side === 'buy' ? 100.32 : 99.62); // back above the sell stop / below the buy stop
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      // Once triggered it stays a limit even though the market went back past the stop.
      assert.deepEqual(
        [after.status.status, after.filled_price, after.fills[0]?.liquidity],
        ['filled', side === 'buy' ? 100.6 : 99.4, 'maker'],
      );
    });

    it(`${side} stop-limit triggered later takes the touch when its limit is marketable`, async () => {
      const t = side === 'buy' ? stopLimit(100.5, 100.6) : stopLimit(99.5, 99.4);
      const r = await broker.submitOrder(order(side, 10, t));
      quotes.move(side === 'buy' ? 100.5 : 99.48, side === 'buy' ? 100.52 : 99.5);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual(
        [after.status.status, after.filled_price, after.fills[0]?.liquidity],
        ['filled', side === 'buy' ? 100.52 : 99.48, 'taker'],
      );
    });
  }

  it('without depth, IOC fills what the touch shows and cancels the rest (market and limit)', async () => {
    broker = await touchOnly();
    quotes.move(100, 100.02, 30);
    const m = await broker.submitOrder(order('buy', 50, { type: 'market' }, IOC));
    assert.deepEqual([m.status.status, m.filled_quantity, m.filled_price], ['cancelled', 30, 100.02]);
    const l = await broker.submitOrder(order('sell', 50, limit(99.99), IOC));
    assert.deepEqual([l.status.status, l.filled_quantity, l.filled_price], ['cancelled', 30, 100]);
    assert.equal(cash(), 99_999.4);
    assert.deepEqual(
      updates.slice(0, 3).map((u) => [u.order.status.status, u.fill?.quantity]),
      [
        ['submitted', undefined],
        ['partially_filled', 30],
        ['cancelled', undefined],
      ],
    );
  });

  it('without depth, FOK fills all or nothing against the touch', async () => {
    broker = await touchOnly();
    quotes.move(100, 100.02, 30);
    const refused = await broker.submitOrder(order('buy', 31, { type: 'market' }, FOK));
    assert.deepEqual([refused.status.status, refused.filled_quantity, refused.fills], ['cancelled', null, []]);
    assert.equal(cash(), 100_000);
    const all = await broker.submitOrder(order('buy', 30, limit(100.02), FOK));
    assert.deepEqual([all.status.status, all.filled_quantity], ['filled', 30]);
  });

  it('without depth, GTC and GTD orders larger than the touch fill in full at the touch', async () => {
    broker = await touchOnly();
    quotes.move(100, 100.02, 30);
    const r = await broker.submitOrder(order('buy', 50));
    assert.deepEqual([r.status.status, r.filled_quantity, r.filled_price], ['filled', 50, 100.02]);
  });

  describe('depth (levels 1 tick apart, each twice the size of the one before, no jitter)', () => {
    const deep = (): PaperBroker => {
      const b = new PaperBroker({
        clock,
        quotes,
        depth: { levels: 3, spacingTicks: 1, growth: 2, jitter: 0, seed: 1 },
      });
      b.onOrderUpdate((u) => updates.push(u));
      return b;
    };
    // Touch 100.00 / 100.02 with 10 shown: asks 100.02×10, 100.03×20, 100.04×40 (70 in all); bids 100.00×10, 99.99×20, 99.98×40.

    it('a market buy walks the book: slippage emerges from the size', async () => {
      broker = deep();
      await broker.connect();
      quotes.move(100, 100.02, 10);
      const r = await broker.submitOrder(order('buy', 25));
      assert.deepEqual(
        r.fills.map((f) => [f.price, f.quantity]),
        [
          [100.02, 10],
          [100.03, 15],
        ],
      );
      // (10 × 100.02 + 15 × 100.03) / 25 = 100.026
      assert.equal(r.filled_price, 100.026);
      assert.equal(r.status.status, 'filled');
    });

    it('liquidity taken from a quote stays taken until the quote changes', async () => {
      broker = deep();
      await broker.connect();
      quotes.move(100, 100.02, 10);
      await broker.submitOrder(order('buy', 10));
      const second = await broker.submitOrder(order('buy', 10));
      assert.deepEqual(
        second.fills.map((f) => f.price),
        [100.03],
        'the touch was taken by the first order',
      );
    });

    it('a market order larger than the whole book fills in part and keeps working on the next quote', async () => {
      broker = deep();
      await broker.connect();
      quotes.move(100, 100.02, 10);
      const r = await broker.submitOrder(order('sell', 100));
      assert.deepEqual([r.status.status, r.filled_quantity], ['partially_filled', 70]);
      clock.advance(1000);
      broker.poll();
      assert.equal(await statusOf(r.order_id), 'filled');
    });

    it('IOC takes what the book has within its limit and cancels the rest; FOK is all or nothing against the depth', async () => {
      broker = deep();
      await broker.connect();
      quotes.move(100, 100.02, 10);
      const ioc = await broker.submitOrder(order('buy', 50, limit(100.03), IOC));
      assert.deepEqual([ioc.status.status, ioc.filled_quantity, ioc.filled_price], ['cancelled', 30, 100.026667]);
      clock.advance(1000); // a new quote: the book is whole again
      const refused = await broker.submitOrder(order('sell', 71, { type: 'market' }, FOK));
      assert.deepEqual([refused.status.status, refused.fills.length], ['cancelled', 0]);
      const all = await broker.submitOrder(order('sell', 70, { type: 'market' }, FOK));
      assert.deepEqual([all.status.status, all.filled_quantity], ['filled', 70]);
      assert.equal(all.filled_price, 99.985714); // (10×100 + 20×99.99 + 40×99.98) / 70
    });

    it('a resting limit fills at its own price, up to the size the market shows through it', async () => {
      broker = deep();
      await broker.connect();
      quotes.move(100, 100.02, 10);
      const r = await broker.submitOrder(order('buy', 50, limit(99.9)));
      assert.equal(r.status.status, 'submitted');
      clock.advance(1000);
      quotes.move(99.85, 99.89, 10); // asks 99.89×10, 99.90×20 reach the limit; 99.91 does not
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.deepEqual(
        [after.status.status, after.filled_quantity, after.filled_price, after.fills[0]?.liquidity],
        ['partially_filled', 30, 99.9, 'maker'],
      );
    });
  });

  it('GTD rests until expires_at, then expires on the clock', async () => {
    const r = await broker.submitOrder(order('buy', 5, limit(90), gtd(START + 60_000)));
    clock.advance(59_999);
    broker.poll();
    assert.equal(await statusOf(r.order_id), 'submitted');
    clock.advance(1);
    broker.poll();
    assert.equal(await statusOf(r.order_id), 'expired');
    assert.deepEqual(await broker.listOpenOrders(), []);
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['submitted', 'expired'],
    );
  });

  it('an expired GTD does not fill even if the quote crossed it after expiry', async () => {
    const r = await broker.submitOrder(order('buy', 5, limit(99), gtd(START + 1000)));
    clock.advance(5000);
    quotes.move(98, 98.02);
    broker.poll();
    assert.equal(await statusOf(r.order_id), 'expired');
    assert.equal(cash(), 100_000);
  });

  it('cancelling a resting order cancels it and says so', async () => {
    const r = await broker.submitOrder(order('buy', 5, limit(99)));
    await broker.cancelOrder(r.order_id);
    assert.equal(await statusOf(r.order_id), 'cancelled');
    assert.deepEqual(
      updates.map((u) => u.order.status.status),
      ['submitted', 'cancelled'],
    );
  });

  describe('venue rules: rejected with the rule, nothing booked', () => {
    const reason = (s: { status: string; reason?: string }) =>
      s.status === 'rejected' ? s.reason : `not rejected: ${s.status}`;

    it('a price off the tick names the tick and the nearest prices', async () => {
      const r = await broker.submitOrder(order('buy', 1, limit(99.995)));
      assert.equal(
        reason(r.status),
        'limit price 99.995 is not a multiple of the tick size 0.01 for AAPL (nearest: 99.99 or 100)',
      );
      const s = await broker.submitOrder(order('buy', 1, stopLimit(100.001, 100.1)));
      assert.match(reason(s.status) ?? '', /^stop price 100.001 is not a multiple of the tick size 0.01 for AAPL/);
    });

    it('a quantity off the lot names the lot, with the symbol as the order spelled it', async () => {
      const r = await broker.submitOrder(order('buy', 0.000001, { type: 'market' }, GTC, 'BTCUSDT'));
      assert.equal(reason(r.status), 'quantity 0.000001 is not a multiple of the lot size 0.00001 for BTCUSDT');
      const e = await broker.submitOrder(order('buy', 1.5));
      assert.equal(reason(e.status), 'quantity 1.5 is not a multiple of the lot size 1 for AAPL');
    });

    it('tolerates float noise on the grid and fills at the clean price', async () => {
      quotes.set('EUR_USD', 1.0844, 1.08452);
      const r = await broker.submitOrder(order('buy', 1000, limit(1.0845000000000001), GTC, 'EUR_USD'));
      assert.equal(r.status.status, 'submitted');
      quotes.set('EUR_USD', 1.0843, 1.08442);
      broker.poll();
      const after = await broker.getOrderStatus(r.order_id);
      assert.equal(after.fills[0]?.price, 1.0845);
      assert.equal(cash(), 98_915.5);
      const noisyQuantity = await broker.submitOrder(order('buy', 0.1 + 0.2, { type: 'market' }, GTC, 'ETHUSDT'));
      assert.equal(noisyQuantity.status.status, 'filled');
    });

    it('a GTD already past is rejected', async () => {
      const r = await broker.submitOrder(order('buy', 1, limit(99), gtd(START)));
      assert.match(reason(r.status) ?? '', /^expires_at 2026-01-05T15:00:00.000Z is already past/);
    });

    it('insufficient buying power, counting resting orders and shorts', async () => {
      const big = await broker.submitOrder(order('buy', 1000));
      assert.equal(
        reason(big.status),
        'insufficient buying power: the order needs 100020.00 USD and 100000.00 USD is available (1× leverage)',
      );
      // A resting buy of 900 at 99 reserves 89 100.
      await broker.submitOrder(order('buy', 900, limit(99)));
      assert.equal((await broker.getAccountInfo()).buying_power, 10_900);
      const next = await broker.submitOrder(order('buy', 110));
      assert.match(reason(next.status) ?? '', /needs 11002.20 USD and 10900.00 USD is available/);
      assert.equal(cash(), 100_000);
    });

    it('a short reserves its notional; an order that reduces a position needs no buying power', async () => {
      await broker.submitOrder(order('sell', 500));
      // Cash 150 000; the short is worth −500 × 100.01 (mid) = −50 005; equity 99 995; buying power 99 995 − 50 005.
      const a = await broker.getAccountInfo();
      assert.deepEqual([a.balance, a.equity, a.buying_power], [150_000, 99_995, 49_990]);
      const cover = await broker.submitOrder(order('buy', 500, limit(99)));
      assert.equal(cover.status.status, 'submitted');
      assert.equal((await broker.getAccountInfo()).buying_power, 49_990);
    });
  });

  describe('errors are BrokerErrors', () => {
    const reasonIs = (reason: string) => (e: unknown) => isBrokerError(e) && e.reason === reason;

    it('NOT_CONNECTED before connect and after disconnect', async () => {
      const fresh = new PaperBroker({ clock, quotes });
      await assert.rejects(fresh.submitOrder(order('buy', 1)), reasonIs('NOT_CONNECTED'));
      await broker.disconnect();
      await assert.rejects(broker.getAccountInfo(), reasonIs('NOT_CONNECTED'));
      await assert.rejects(broker.getQuote('AAPL'), reasonIs('NOT_CONNECTED'));
    });

    it('ORDER_NOT_FOUND, DUPLICATE_CLIENT_ORDER_ID, and INVALID_ORDER naming the state of a final order', async () => {
      const o = order('buy', 1);
      const r = await broker.submitOrder(o);
      await assert.rejects(broker.submitOrder(o), reasonIs('DUPLICATE_CLIENT_ORDER_ID'));
      const resting = order('buy', 1, limit(90));
      await broker.submitOrder(resting);
      await assert.rejects(broker.submitOrder({ ...resting, quantity: 2 }), reasonIs('DUPLICATE_CLIENT_ORDER_ID'));
      await assert.rejects(broker.cancelOrder('P-999'), reasonIs('ORDER_NOT_FOUND'));
      await assert.rejects(broker.getOrderStatus('P-999'), reasonIs('ORDER_NOT_FOUND'));
      await assert.rejects(
        broker.cancelOrder(r.order_id),
        (e) => reasonIs('INVALID_ORDER')(e) && /already filled/.test((e as Error).message),
      );
      assert.equal((await broker.getOrderByClientId(o.client_order_id))?.order_id, r.order_id);
      assert.equal(await broker.getOrderByClientId('never-sent'), undefined);
      assert.equal(await position(), 1);
    });

    it('a malformed order is INVALID_ORDER, not a rejection', async () => {
      await assert.rejects(broker.submitOrder(order('buy', Number.NaN)), reasonIs('INVALID_ORDER'));
      assert.equal(updates.length, 0);
    });
  });

  describe('order updates', () => {
    it('arrive synchronously, in the order the venue made them, before submitOrder resolves', async () => {
      const r1 = await broker.submitOrder(order('buy', 10));
      const r2 = await broker.submitOrder(order('sell', 5, limit(100.5)));
      const rejected = await broker.submitOrder(order('buy', 1.5));
      quotes.move(100.5, 100.52);
      broker.poll();
      assert.deepEqual(
        updates.map((u) => [u.order.order_id, u.order.status.status, u.fill?.price]),
        [
          [r1.order_id, 'submitted', undefined],
          [r1.order_id, 'filled', 100.02],
          [r2.order_id, 'submitted', undefined],
          [rejected.order_id, 'rejected', undefined],
          [r2.order_id, 'filled', 100.5],
        ],
      );
      assert.deepEqual(
        [r1, r2, rejected].map((r) => r.order_id),
        ['P-1', 'P-2', 'P-3'],
      );
    });

    it('keep their order when a listener calls the broker from inside an update', async () => {
      let sentFollowUp = false;
      broker.onOrderUpdate((u) => {
        if (!sentFollowUp && u.order.status.status === 'filled') {
          sentFollowUp = true;
          void broker.submitOrder(order('sell', 10));
        }
      });
      await broker.submitOrder(order('buy', 10));
      assert.deepEqual(
        updates.map((u) => [u.order.order_id, u.order.status.status]),
        [
          ['P-1', 'submitted'],
          ['P-1', 'filled'],
          ['P-2', 'submitted'],
          ['P-2', 'filled'],
        ],
      );
    });

    it('a listener that throws neither undoes the fill nor stops other listeners, and is reported', async () => {
      const reported: string[] = [];
      const b = new PaperBroker({ clock, quotes, onError: (message) => reported.push(message) });
      await b.connect();
      b.onOrderUpdate(() => {
        throw new Error('boom');
      });
      const seen: string[] = [];
      b.onOrderUpdate((u) => seen.push(u.order.status.status));
      const r = await b.submitOrder(order('buy', 1));
      assert.equal(r.status.status, 'filled');
      assert.deepEqual(seen, ['submitted', 'filled']);
      assert.deepEqual(reported, [
        'a paper venue order update listener failed: boom',
        'a paper venue order update listener failed: boom',
      ]);
    });
  });

  it('what it hands out is a picture of the moment: frozen, and unchanged by what happens to the order later', async () => {
    const sent = order('buy', 10, limit(100.01));
    const placed = await broker.submitOrder(sent);
    const looked = await broker.getOrderStatus(placed.order_id);
    const [listed] = await broker.listOpenOrders();
    // The caller's own order stays the caller's: changing it later changes nothing at the venue.
    (sent.order_type as { price: number }).price = 99;
    quotes.move(99.99, 100.01);
    broker.poll();
    const filled = await broker.getOrderStatus(placed.order_id);
    assert.equal(filled.status.status, 'filled');
    assert.deepEqual(filled.order_type, { type: 'limit', price: 100.01 });
    assert.equal(filled.fills.length, 1);
    for (const earlier of [placed, looked, listed]) {
      assert.equal(earlier?.status.status, 'submitted');
      assert.deepEqual(earlier?.fills, []);
      assert.equal(earlier?.filled_quantity, null);
    }
    const fill = updates.find((u) => u.fill)?.fill;
    assert.ok(fill);
    for (const frozen of [filled, filled.status, filled.order_type, filled.time_in_force, filled.fills, fill])
      assert.ok(Object.isFrozen(frozen));
    assert.throws(() => {
      (filled.status as { status: string }).status = 'cancelled';
    }, TypeError);
    assert.equal((await broker.getOrderStatus(placed.order_id)).status.status, 'filled');
    // Position rows too: a caller's change to one is not the venue's.
    const [row] = await broker.getPositions();
    assert.ok(row && Object.isFrozen(row));
    assert.equal((await broker.getAccountInfo()).open_positions[0]?.quantity, 10);
  });

  it('a latency model delays arrival: pending until then, matched against the quote at arrival', async () => {
    const slow = new PaperBroker({ clock, quotes, latency: { orderDelayMs: () => 500 } });
    await slow.connect();
    const seen: string[] = [];
    slow.onOrderUpdate((u) => seen.push(u.order.status.status));
    const r = await slow.submitOrder(order('buy', 10));
    assert.equal(r.status.status, 'pending');
    quotes.move(101, 101.02);
    clock.advance(499);
    slow.poll();
    assert.equal((await slow.getOrderStatus(r.order_id)).status.status, 'pending');
    clock.advance(1);
    const after = await slow.getOrderStatus(r.order_id);
    assert.deepEqual(
      [after.status.status, after.filled_price, after.fills[0]?.timestamp],
      ['filled', 101.02, START + 500],
    );
    assert.deepEqual(seen, ['pending', 'submitted', 'filled']);
  });

  it('answers instrument rules without a connection', async () => {
    const fresh = new PaperBroker({ clock, quotes });
    assert.deepEqual(await fresh.getInstrument('btc/usdt'), {
      symbol: 'BTCUSDT',
      kind: 'crypto',
      tickSize: 0.01,
      lotSize: 0.00001,
      minQuantity: 0.00001,
      quoteCurrency: 'USDT',
      pipSize: 0.01,
    });
  });
});
