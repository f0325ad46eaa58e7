/** The paper venue finds the orders a quote can act on without visiting the others. */
import assert from 'node:assert/strict';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { RestingIndex } from '../../../src/brokers/paper/restingIndex';
import { FixedQuotes, GTC, gtd, limit, order, stop } from './helpers';

describe('RestingIndex', () => {
  it('returns only crossed limits, triggered stops, due arrivals and expiries, and working takers, in arrival order', () => {
    const index = new RestingIndex();
    let seq = 0;
    // 5,000 buy limits below the market and 5,000 sell limits above it: none can trade.
    for (let i = 0; i < 5000; i++)
      index.add(++seq, 'AAPL', { kind: 'limit', side: 'buy', price: 90 - i * 0.01 }, undefined);
    for (let i = 0; i < 5000; i++)
      index.add(++seq, 'AAPL', { kind: 'limit', side: 'sell', price: 110 + i * 0.01 }, undefined);
    const quote = { bid: 100, ask: 100.02 };
    assert.deepEqual(
      index.candidates(0, () => quote),
      [],
    );
    index.add(++seq, 'AAPL', { kind: 'limit', side: 'buy', price: 100.02 }, undefined); // at the ask: marketable
    const crossedBuy = seq;
    index.add(++seq, 'AAPL', { kind: 'limit', side: 'sell', price: 100.01 }, undefined); // above the bid: not
    index.add(++seq, 'AAPL', { kind: 'stop', side: 'sell', price: 100 }, undefined); // at the bid: triggered
    const triggered = seq;
    index.add(++seq, 'AAPL', { kind: 'stop', side: 'buy', price: 100.5 }, undefined);
    index.add(++seq, 'AAPL', { kind: 'pending', arrivesAt: 50 }, undefined);
    const arriving = seq;
    index.add(++seq, 'AAPL', { kind: 'active' }, undefined);
    const taker = seq;
    index.add(++seq, 'AAPL', { kind: 'limit', side: 'buy', price: 50 }, 40);
    const expiring = seq;
    assert.deepEqual(
      index.candidates(49, () => quote),
      [crossedBuy, triggered, taker, expiring],
    );
    assert.deepEqual(
      index.candidates(50, () => quote),
      [crossedBuy, triggered, arriving, taker, expiring],
    );
    index.remove(crossedBuy);
    index.remove(expiring);
    assert.deepEqual(
      index.candidates(50, () => quote),
      [triggered, arriving, taker],
    );
    assert.equal(index.size, 10_000 + 5);
  });
});

describe('PaperBroker with thousands of resting orders', () => {
  it('fills exactly the orders a quote reaches, in arrival order, and leaves the rest resting', async () => {
    const clock = new TestClock();
    const quotes = new FixedQuotes();
    const broker = new PaperBroker({ clock, quotes, startingCash: 1e9, depth: false });
    await broker.connect();
    for (let i = 0; i < 2000; i++)
      await broker.submitOrder(order('buy', 1, limit(Number((99 - i * 0.01).toFixed(2))), GTC));
    const first = await broker.submitOrder(order('buy', 1, limit(99.5)));
    const second = await broker.submitOrder(order('buy', 1, limit(99.5), gtd(clock.now() + 10_000)));
    const stopped = await broker.submitOrder(order('sell', 1, stop(99.45)));
    clock.advance(1000);
    quotes.move(99.4, 99.5);
    broker.poll();
    const fills = broker.getFills();
    assert.deepEqual(
      fills.map((f) => f.order_id),
      [first.order_id, second.order_id, stopped.order_id],
    );
    assert.equal((await broker.listOpenOrders()).length, 2000);
  });
});
