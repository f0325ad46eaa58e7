/** Fee schedules and latency models against hand-computed figures, and through the venue. */
import assert from 'node:assert/strict';
import { TestClock } from '../../../src/common/clock';
import { FEE_PRESETS, jitterLatency, scheduleFees } from '../../../src/brokers/paper/costs';
import { instrumentFor } from '../../../src/brokers/paper/instruments';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { FixedQuotes, limit, order } from './helpers';

describe('Paper costs', () => {
  const aapl = instrumentFor('AAPL');
  const btc = instrumentFor('BTCUSDT');

  it('IB-like per-share fee: $0.005 a share, $1 minimum, capped at 1 % of the trade', () => {
    const ib = scheduleFees(FEE_PRESETS.ib);
    assert.equal(ib.commission(aapl, 'buy', 100, 1000, 'taker'), 5);
    assert.equal(ib.commission(aapl, 'buy', 100, 10, 'taker'), 1, 'the minimum');
    assert.equal(ib.commission(aapl, 'buy', 2, 1000, 'taker'), 5, 'per share, under the 1 % cap of $20');
    assert.equal(ib.commission(aapl, 'buy', 0.05, 10_000, 'taker'), 5, 'cap 1 % of $500 = $5 equals the per-share fee');
    assert.equal(ib.commission(aapl, 'buy', 0.01, 10_000, 'taker'), 1, 'cap: 1 % of $100');
  });

  it('maker/taker basis points, with a maker rebate', () => {
    const mt = scheduleFees({ takerBps: 7.5, makerBps: -2 });
    assert.equal(mt.commission(btc, 'buy', 50_000, 0.1, 'taker'), 3.75);
    assert.equal(mt.commission(btc, 'buy', 50_000, 0.1, 'maker'), -1);
    assert.equal(scheduleFees(FEE_PRESETS.binance).commission(btc, 'sell', 60_000, 0.5, 'maker'), 30);
    assert.equal(scheduleFees(FEE_PRESETS.alpaca).commission(aapl, 'buy', 100, 100, 'taker'), 0);
  });

  it('seeded latency: fixed plus jitter, the same sequence for the same seed', () => {
    const a = jitterLatency(20, 10, 42);
    const b = jitterLatency(20, 10, 42);
    const xs = Array.from({ length: 50 }, () => a.orderDelayMs(aapl, order('buy', 1)));
    assert.deepEqual(
      xs,
      Array.from({ length: 50 }, () => b.orderDelayMs(aapl, order('buy', 1))),
    );
    assert.ok(xs.every((x) => x >= 20 && x < 30 && Number.isInteger(x)));
    assert.ok(new Set(xs).size > 3, 'it jitters');
    assert.throws(() => jitterLatency(-1, 0), /≥ 0/);
  });

  it('through the venue: a maker fill pays the maker rate, and an order waits for its latency', async () => {
    const clock = new TestClock();
    const quotes = new FixedQuotes();
    const b = new PaperBroker({
      clock,
      quotes,
      fees: scheduleFees({ takerBps: 10, makerBps: 1 }),
      latency: jitterLatency(50, 0),
      depth: false,
    });
    await b.connect();
    const taker = await b.submitOrder(order('buy', 10));
    assert.equal(taker.status.status, 'pending', 'not at the matching engine before its latency');
    clock.advance(50);
    b.poll();
    const filled = await b.getOrderStatus(taker.order_id);
    assert.equal(filled.status.status, 'filled');
    assert.equal(filled.commission, 1); // 10 × 100.02 × 10 bps = 1.0002 → cents
    const maker = await b.submitOrder(order('sell', 10, limit(100.1)));
    clock.advance(50);
    b.poll();
    quotes.move(100.1, 100.12);
    clock.advance(1);
    b.poll();
    const m = await b.getOrderStatus(maker.order_id);
    assert.deepEqual([m.status.status, m.fills[0]?.liquidity, m.commission], ['filled', 'maker', 0.1]);
  });
});
