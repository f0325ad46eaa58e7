/**
 * The paper venue's cost per quote with many resting orders: with the resting index a poll visits only
 * the orders the quote can act on, so it should barely grow from 100 to 5,000 resting orders. Placing
 * an order beside the resting ones (its buying-power check) should not grow with them either.
 */
import { monotonicMs, TestClock } from '../src/common/clock';
import { PaperBroker } from '../src/brokers/paper/paperBroker';
import type { QuoteSource } from '../src/brokers/paper/feed';
import type { Quote } from '../src/orders/model';

export async function benchPaperPoll(): Promise<void> {
  console.log('\n## Paper venue: cost of one poll (a new quote) by number of resting orders');
  const results: Array<[number, number, number]> = [];
  for (const n of [100, 5000]) {
    const clock = new TestClock();
    let mid = 100;
    const quotes: QuoteSource = {
      quote: (symbol: string, at: number): Quote => ({
        symbol,
        bid: mid - 0.01,
        ask: mid + 0.01,
        last: mid,
        bid_size: 1e6,
        ask_size: 1e6,
        timestamp: at,
      }),
    };
    const broker = new PaperBroker({ clock, quotes, startingCash: 1e12, depth: false });
    await broker.connect();
    const placing = monotonicMs();
    for (let i = 0; i < n; i++) {
      const buy = i % 2 === 0;
      const price = Number((buy ? 90 - (i % 500) * 0.01 : 110 + (i % 500) * 0.01).toFixed(2));
      await broker.submitOrder({
        symbol: 'AAPL',
        side: buy ? 'buy' : 'sell',
        quantity: 1,
        order_type: { type: 'limit', price },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: `r-${i}`,
      });
    }
    const placeUs = ((monotonicMs() - placing) / n) * 1000;
    const polls = 2000;
    const t = monotonicMs();
    for (let i = 0; i < polls; i++) {
      clock.advance(250);
      mid = 100 + ((i % 20) - 10) * 0.01; // the market moves, never reaching the resting orders
      broker.poll();
    }
    const us = ((monotonicMs() - t) / polls) * 1000;
    results.push([n, us, placeUs]);
    console.log(
      `${String(n).padStart(5)} resting orders: ${us.toFixed(1)} µs per poll; placing them ${placeUs.toFixed(1)} µs per order on average`,
    );
  }
  const [[n0, a, pa], [n1, b, pb]] = results as [[number, number, number], [number, number, number]];
  console.log(
    `growth ${n0} → ${n1} resting orders: poll ${(b / a).toFixed(2)}×, average placement ${(pb / pa).toFixed(2)}× (a scan of every open order would grow ~${(n1 / n0).toFixed(0)}× and ~${(n1 / n0 / 2).toFixed(0)}×)`,
  );
}
