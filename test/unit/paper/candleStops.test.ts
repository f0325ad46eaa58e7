/**
 * Stops over recorded candles walk the bar's path (README, "Fills of resting limit orders: queue position",
 * the replay over candles): the open, the extreme nearer to it, the other extreme, the close. A stop whose
 * price the path's touch reaches triggers there and fills at that touch, which is the stop itself (a sell
 * stop's bid passes through it), unless the bar opens beyond it (a gap): then at the open's touch. A
 * stop-limit triggers the same way and its limit then works against the rest of the path only.
 *
 * The quotes are the recorded candles themselves (`ReplayFeed`): a bar's quote is its close with the
 * synthetic spread; EUR/USD's tick is 0.00001 and its spread 12 ticks by default, so the bid is the price
 * less 0.00006 and the ask the price plus 0.00006. Every expected price below is worked out by hand.
 */
import assert from 'node:assert/strict';
import type { OrderUpdate } from '../../../src/brokers/broker';
import { barPath } from '../../../src/brokers/paper/barPath';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { TestClock } from '../../../src/common/clock';
import type { OrderType } from '../../../src/orders/model';
import fc from 'fast-check';
import { GTC, limit, order, stop, stopLimit } from './helpers';

const EUR = 'EUR_USD';
const T0 = Date.UTC(2024, 2, 4, 9, 0, 0);
const MINUTE = 60_000;
/** The bar the order is decided on (flat, far from every price below): [open, high, low, close]. */
const DECISION: Bar = [1.082, 1.082, 1.082, 1.082];

type Bar = [open: number, high: number, low: number, close: number];
interface Placed {
  side: 'buy' | 'sell';
  type: OrderType;
  quantity?: number;
}

/**
 * Replays `bars` (after the decision bar) through a PaperBroker priced by the recorded candles: the orders
 * are placed at the decision bar's close, then each bar goes to `recordCandle` at its time. Returns every
 * fill as [bar index, order index, price, liquidity] and the broker.
 */
async function replay(orders: Placed[], bars: Bar[], spreadTicks?: number, decision: Bar = DECISION) {
  const rows = [decision, ...bars];
  const times = rows.map((_, i) => T0 + i * MINUTE);
  const feed = ReplayFeed.fromColumns(
    {
      time: times,
      open: rows.map((r) => r[0]),
      high: rows.map((r) => r[1]),
      low: rows.map((r) => r[2]),
      close: rows.map((r) => r[3]),
      volume: rows.map(() => 1_000_000),
    },
    'bars',
    spreadTicks === undefined ? { symbol: EUR } : { symbol: EUR, spreadTicks },
  );
  const clock = new TestClock(T0);
  const broker = new PaperBroker({ clock, quotes: feed, startingCash: 10_000_000 });
  await broker.connect();
  const updates: OrderUpdate[] = [];
  broker.onOrderUpdate((u) => updates.push(u));
  const candle = (i: number) => {
    const [open, high, low, close] = rows[i] as Bar;
    return { open, high, low, close, volume: 1_000_000 };
  };
  broker.recordCandle(EUR, candle(0));
  const ids: string[] = [];
  for (const o of orders)
    ids.push((await broker.submitOrder(order(o.side, o.quantity ?? 1000, o.type, GTC, EUR))).order_id);
  for (let i = 1; i < rows.length; i++) {
    clock.set(times[i] as number);
    broker.recordCandle(EUR, candle(i));
  }
  const fills = updates
    .filter((u) => u.fill)
    .map((u) => [
      times.indexOf(u.fill?.timestamp as number),
      ids.indexOf(u.order.order_id),
      u.fill?.price,
      u.fill?.liquidity,
    ]);
  return { broker, fills, ids };
}

describe('PaperBroker: stops over recorded candles walk the bar (open, nearer extreme, other extreme, close)', () => {
  const sellStop: Placed = { side: 'sell', type: stop(1.08) };
  const buyStop: Placed = { side: 'buy', type: stop(1.083) };

  for (const spreadTicks of [undefined, 0]) {
    const spread = spreadTicks === undefined ? 'the default 12-tick spread' : 'no spread';
    it(`a sell stop at 1.0800 on a bar whose low crosses it but closes above fills at 1.0800 (${spread})`, async () => {
      // The bid falls through 1.0800 on the way from the high to the low: the stop fills at that bid.
      const { fills } = await replay([sellStop], [[1.081, 1.0815, 1.079, 1.0805]], spreadTicks);
      assert.deepEqual(fills, [[1, 0, 1.08, 'taker']]);
    });

    it(`a buy stop at 1.0830 on a bar whose high crosses it but closes below fills at 1.0830 (${spread})`, async () => {
      const { fills } = await replay([buyStop], [[1.081, 1.0835, 1.0805, 1.0812]], spreadTicks);
      assert.deepEqual(fills, [[1, 0, 1.083, 'taker']]);
    });
  }

  it('a bar that opens beyond the stop (a gap) fills it at the open, worse than the stop', async () => {
    // Open 1.0795: its bid is 1.07944 (1.0795 less 6 ticks); without a spread, the open itself.
    assert.deepEqual((await replay([sellStop], [[1.0795, 1.0815, 1.079, 1.0805]])).fills, [[1, 0, 1.07944, 'taker']]);
    assert.deepEqual((await replay([sellStop], [[1.0795, 1.0815, 1.079, 1.0805]], 0)).fills, [[1, 0, 1.0795, 'taker']]);
    // Open 1.0840 above a buy stop at 1.0830: its ask, 1.08406; without a spread, 1.0840.
    assert.deepEqual((await replay([buyStop], [[1.084, 1.0845, 1.0805, 1.0812]])).fills, [[1, 0, 1.08406, 'taker']]);
    assert.deepEqual((await replay([buyStop], [[1.084, 1.0845, 1.0805, 1.0812]], 0)).fills, [[1, 0, 1.084, 'taker']]);
  });

  it('a bar whose touch never reaches the stop leaves it working', async () => {
    // Low 1.08007: its bid 1.08001 is still above the stop.
    const { fills, broker, ids } = await replay([sellStop], [[1.081, 1.0815, 1.08007, 1.0805]]);
    assert.deepEqual(fills, []);
    assert.equal((await broker.getOrderStatus(ids[0] as string)).status.status, 'submitted');
    // Low 1.08006: its bid is the stop's price, which triggers it (bid ≤ stop, as on quotes).
    assert.deepEqual((await replay([sellStop], [[1.081, 1.0815, 1.08006, 1.0805]])).fills, [[1, 0, 1.08, 'taker']]);
  });

  it('a stop price with float noise (1.084 + 0.00001 is 1.0840100000000001) triggers where the touch reaches its tick', async () => {
    // open 1.0835 → low 1.0833 (nearer) → high 1.0845: the ask passes 1.08401 on the way up; the close's ask 1.08366 is below it.
    const { fills } = await replay([{ side: 'buy', type: stop(1.084 + 0.00001) }], [[1.0835, 1.0845, 1.0833, 1.0836]]);
    assert.deepEqual(fills, [[1, 0, 1.08401, 'taker']]);
  });

  it('the path runs to the nearer extreme first: of a sell and a buy stop on one bar, the nearer side fills first', async () => {
    // Open 1.0810: the low 1.0790 is 20 pips away, the high 1.0835 25: open → low → high → close.
    const lowFirst = await replay([buyStop, sellStop], [[1.081, 1.0835, 1.079, 1.0812]]);
    assert.deepEqual(lowFirst.fills, [
      [1, 1, 1.08, 'taker'],
      [1, 0, 1.083, 'taker'],
    ]);
    // Open 1.0825: the high is nearer: open → high → low → close.
    const highFirst = await replay([sellStop, buyStop], [[1.0825, 1.0835, 1.079, 1.0812]]);
    assert.deepEqual(highFirst.fills, [
      [1, 1, 1.083, 'taker'],
      [1, 0, 1.08, 'taker'],
    ]);
  });

  it('a bar whose open is midway between its high and low runs to the high first, whatever the float noise', async () => {
    // 1.0815 − 1.081 and 1.082 − 1.0815 are both 50 ticks; in floats 0.0004999999999999449 < 0.000500000000000167
    // took the low first. Orders placed at a close of 1.0815 (bid 1.08144, ask 1.08156): neither stop triggers there.
    const at = [1.0815, 1.0815, 1.0815, 1.0815] as Bar;
    const { fills } = await replay(
      [
        { side: 'sell', type: stop(1.0812) },
        { side: 'buy', type: stop(1.0818) },
      ],
      [[1.0815, 1.082, 1.081, 1.0815]],
      undefined,
      at,
    );
    assert.deepEqual(fills, [
      [1, 1, 1.0818, 'taker'],
      [1, 0, 1.0812, 'taker'],
    ]);
    for (const [open, high, low] of [
      [1.0805, 1.081, 1.08],
      [1.2345, 1.235, 1.234],
      [0.6605, 0.661, 0.66],
      [150.05, 150.1, 150],
    ] as const)
      assert.deepEqual(barPath({ open, high, low, close: open }, 0.00001), [open, high, low, open], `${open}`);
  });

  it('a large stop walks the book from the stop, one tick per level (slippage from size, not from the close)', async () => {
    const { fills } = await replay(
      [{ side: 'sell', type: stop(1.08), quantity: 3_000_000 }],
      [[1.081, 1.0815, 1.079, 1.0805]],
    );
    const prices = fills.map((f) => f[2] as number);
    assert.ok(prices.length > 1, 'more than the touch');
    prices.forEach((p, k) => assert.equal(p, Number((1.08 - k * 0.00001).toFixed(5))));
  });

  it('a stop-limit triggered on the path whose limit is marketable there fills at the trigger, as a taker', async () => {
    const { fills } = await replay([{ side: 'sell', type: stopLimit(1.08, 1.0799) }], [[1.081, 1.0815, 1.079, 1.0805]]);
    assert.deepEqual(fills, [[1, 0, 1.08, 'taker']]);
  });

  it('a triggered stop-limit rests and its limit works against the rest of the path: a later print through it fills it', async () => {
    // Open 1.0795 gaps through the stop 1.0800 (bid 1.07944 < the limit 1.0803: it rests); the path then runs
    // to the low 1.0790 (nearer), to the high 1.0810 (through 1.0803: filled at the limit, a maker), and closes
    // at 1.0796, below the limit.
    const { fills } = await replay([{ side: 'sell', type: stopLimit(1.08, 1.0803) }], [[1.0795, 1.081, 1.079, 1.0796]]);
    assert.deepEqual(fills, [[1, 0, 1.0803, 'maker']]);
  });

  it('a stop-limit triggered on the path, not at the open, rests and fills from a print after its trigger', async () => {
    // open 1.0810 → high 1.0812 (nearer) → low 1.0790 (the bid passes 1.0800: triggered, resting at 1.0803)
    // → close 1.0806 (a print through 1.0803).
    const { fills } = await replay([{ side: 'sell', type: stopLimit(1.08, 1.0803) }], [[1.081, 1.0812, 1.079, 1.0806]]);
    assert.deepEqual(fills, [[1, 0, 1.0803, 'maker']]);
  });

  it('a stop-limit does not see the prints before its trigger', async () => {
    // The high 1.0815 is through the limit 1.0811, but it printed before the bid reached the stop 1.0800;
    // after it the path only goes lower.
    const { fills, broker, ids } = await replay(
      [{ side: 'sell', type: stopLimit(1.08, 1.0811) }],
      [[1.081, 1.0815, 1.079, 1.0795]],
    );
    assert.deepEqual(fills, []);
    assert.equal((await broker.getOrderStatus(ids[0] as string)).status.status, 'submitted');
  });

  it('a bar for a symbol the quotes lack, with nothing open, is no error (as before the walk)', async () => {
    const { broker } = await replay([], []);
    assert.doesNotThrow(() =>
      broker.recordCandle('GBP_USD', { open: 1.27, high: 1.271, low: 1.269, close: 1.27, volume: 0 }),
    );
  });

  it("property: a stop triggers exactly when the bar's touch reaches it, at the stop, or at the open's touch on a gap", async () => {
    // Prices in ticks of 0.00001 between 1.07000 and 1.09900; the decision bar far away (1.10000 for a sell
    // stop, 1.06000 for a buy stop) so that nothing triggers on arrival. The data's bid is the price less half
    // the spread rounded up to the tick (the close less half the spread, rounded down), the ask a spread above.
    const price = fc.integer({ min: 107_000, max: 109_900 });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          side: fc.constantFrom('buy' as const, 'sell' as const),
          stopTicks: price,
          a: price,
          b: price,
          up: fc.integer({ min: 0, max: 300 }),
          down: fc.integer({ min: 0, max: 300 }),
          spreadTicks: fc.integer({ min: 0, max: 20 }),
        }),
        async ({ side, stopTicks, a, b, up, down, spreadTicks }) => {
          const [open, close] = [a, b];
          const high = Math.max(open, close) + up;
          const low = Math.min(open, close) - down;
          const px = (t: number): number => t / 100_000;
          const below = Math.ceil(spreadTicks / 2);
          const above = spreadTicks - below;
          const decision: Bar = side === 'sell' ? [1.1, 1.1, 1.1, 1.1] : [1.06, 1.06, 1.06, 1.06];
          const { fills } = await replay(
            [{ side, type: stop(px(stopTicks)) }],
            [[px(open), px(high), px(low), px(close)]],
            spreadTicks,
            decision,
          );
          let expected: number | undefined;
          if (side === 'sell' && low - below <= stopTicks) expected = Math.min(open - below, stopTicks);
          if (side === 'buy' && high + above >= stopTicks) expected = Math.max(open + above, stopTicks);
          assert.deepEqual(
            fills.map((f) => f[2]),
            expected === undefined ? [] : [px(expected)],
            `${side} stop ${px(stopTicks)} on O ${px(open)} H ${px(high)} L ${px(low)} C ${px(close)}, spread ${spreadTicks}`,
          );
        },
      ),
      { numRuns: 300, seed: 20261203 },
    );
  });
});

describe('PaperBroker: a resting limit that a bar opens through (a gap) fills at the open, better than its limit', () => {
  // The market never traded at the limit: it opened beyond it, where the order fills (Backtrader, LEAN: a limit
  // gapped through fills at the open), as a stop gapped through fills at the open, worse than its stop.
  for (const spreadTicks of [undefined, 0]) {
    const spread = spreadTicks === undefined ? 'the default 12-tick spread' : 'no spread';
    it(`a buy limit at 1.0800 on a bar opening at 1.0790 fills at the open's ask (${spread})`, async () => {
      const { fills } = await replay(
        [{ side: 'buy', type: limit(1.08) }],
        [[1.079, 1.0795, 1.0785, 1.079]],
        spreadTicks,
      );
      // The ask at the open is 1.0790 + 6 ticks; without a spread, the open itself.
      assert.deepEqual(fills, [[1, 0, spreadTicks === 0 ? 1.079 : 1.07906, 'maker']]);
    });

    it(`a sell limit at 1.0830 on a bar opening at 1.0840 fills at the open's bid (${spread})`, async () => {
      const { fills } = await replay(
        [{ side: 'sell', type: limit(1.083) }],
        [[1.084, 1.0845, 1.0835, 1.084]],
        spreadTicks,
      );
      assert.deepEqual(fills, [[1, 0, spreadTicks === 0 ? 1.084 : 1.08394, 'maker']]);
    });
  }

  it('a limit the open does not pass, which the bar then trades through, still fills at the limit', async () => {
    // Open 1.0805 (its ask 1.08056 above the limit), low 1.0790 through it: filled at 1.0800, a maker.
    const { fills } = await replay([{ side: 'buy', type: limit(1.08) }], [[1.0805, 1.0806, 1.079, 1.0795]]);
    assert.deepEqual(fills, [[1, 0, 1.08, 'maker']]);
  });

  it('a triggered stop-limit resting from an earlier bar fills at the open of a bar that gaps through its limit', async () => {
    // Bar 1 triggers the sell stop 1.0800 (low 1.0790) and leaves it resting at 1.0803 (it closes at 1.0796, below);
    // bar 2 opens at 1.0815, above the limit: filled at its bid, 1.08144.
    const { fills } = await replay(
      [{ side: 'sell', type: stopLimit(1.08, 1.0803) }],
      [
        [1.0798, 1.0799, 1.079, 1.0796],
        [1.0815, 1.082, 1.081, 1.0815],
      ],
    );
    assert.deepEqual(fills, [[2, 0, 1.08144, 'maker']]);
  });
});
