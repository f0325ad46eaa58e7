/**
 * The paper venue's answers within the call (`BrokerApi.immediate`): the same answers as its promise methods, given
 * only while nothing can change a call (connected, no fault switched on), and the engine's orders come out the same
 * whichever way they went.
 */
import assert from 'node:assert/strict';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand } from '../../../src/execution/events';
import { FixedQuotes, limit, order } from './helpers';

describe('the paper venue answers within the call', () => {
  const twins = async (): Promise<[PaperBroker, PaperBroker, TestClock]> => {
    const clock = new TestClock();
    const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002, 5_000_000);
    const a = new PaperBroker({ clock, quotes });
    const b = new PaperBroker({ clock, quotes });
    await a.connect();
    await b.connect();
    return [a, b, clock];
  };

  it('gives what the promise methods resolve with: quote, account, and each reply of a run of orders', async () => {
    const [a, b] = await twins();
    const now = b.immediate();
    assert.ok(now, 'a connected paper venue with no fault answers within the call');
    assert.deepEqual(now.quote('EUR_USD'), await a.getQuote('EUR_USD'));
    const funds = async (venue: PaperBroker) => {
      const { buying_power, currency } = await venue.getAccountInfo();
      return { buying_power, currency };
    };
    assert.deepEqual(now.funds(), await funds(a));
    const run = [
      order('buy', 10_000, { type: 'market' }, { type: 'IOC' }, 'EUR_USD'),
      order('sell', 4_000, limit(1.0999), { type: 'GTC' }, 'EUR_USD'),
      order('buy', 2_000, limit(1.0), { type: 'GTC' }, 'EUR_USD'),
      order('sell', 1e12, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'),
    ];
    for (const o of run) assert.deepEqual(now.submit(o), await a.submitOrder(o), o.client_order_id);
    assert.deepEqual(now.funds(), await funds(a));
    assert.deepEqual(await b.getAccountInfo(), await a.getAccountInfo());
    assert.deepEqual(await b.listOpenOrders(), await a.listOpenOrders());
    // A client order id used once is refused the same way both ways.
    const again = run[0]!;
    await assert.rejects(a.submitOrder(again), /DUPLICATE_CLIENT_ORDER_ID|already used/);
    assert.throws(() => now.submit(again), /already used/);
  });

  it('gives none while a call could be changed (a fault switched on, the link down, not connected)', async () => {
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes() });
    assert.equal(paper.immediate(), undefined, 'not connected yet');
    await paper.connect();
    assert.ok(paper.immediate());
    paper.faults.setLatency(5);
    assert.equal(paper.immediate(), undefined, 'latency switched on');
    paper.faults.clear();
    assert.ok(paper.immediate());
    paper.faults.rejectNext('market closed');
    assert.equal(paper.immediate(), undefined, 'a rejection queued');
    paper.faults.clear();
    paper.faults.disconnect();
    assert.equal(paper.immediate(), undefined, 'the link dropped');
    await paper.connect();
    assert.ok(paper.immediate());
    await paper.disconnect();
    assert.equal(paper.immediate(), undefined, 'disconnected');
  });

  it('an engine order takes the promise way while a fault is on and the call way without: same records either way', async () => {
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes().set('EUR_USD', 1.1, 1.1002, 5_000_000) });
    const engine = new ExecutionEngine({ clock, brokers: { paper }, audit: null });
    await engine.connect('paper');
    const events: string[] = [];
    engine.subscribe((e) => {
      if ('clientOrderId' in e) events.push(e.type);
    });
    const submit = (side: 'buy' | 'sell') =>
      engine.submit(
        submitOrderCommand(order(side, 1_000, { type: 'market' }, { type: 'IOC' }, 'EUR_USD'), {
          venue: 'paper',
          source: 'api',
          clock,
        }),
      );
    paper.faults.setLatency(1);
    assert.equal(paper.immediate(), undefined, 'latency on: the promise way');
    const slow = submit('buy');
    await new Promise((r) => setTimeout(r, 20));
    const filledSlow = await slow;
    paper.faults.clear();
    const slowEvents = [...events];
    events.length = 0;
    assert.ok(paper.immediate(), 'nothing switched on: the call way');
    const filledNow = await submit('sell');
    assert.equal(filledSlow.order.state, 'FILLED');
    assert.equal(filledNow.order.state, 'FILLED');
    assert.deepEqual(events, slowEvents, 'the same records, in the same order, either way');
    assert.deepEqual(slowEvents, ['OrderSubmitted', 'OrderAccepted', 'OrderFilled']);
    events.length = 0;
    paper.faults.rejectNext('instrument halted');
    const rejected = await submit('buy');
    assert.equal(rejected.order.state, 'REJECTED');
    assert.match(rejected.order.reason ?? '', /instrument halted/);
    assert.deepEqual(events, ['OrderSubmitted', 'OrderRejected']);
    assert.equal((await paper.getAccountInfo()).open_positions.length, 0, 'bought and sold back');
    await engine.close();
  });
});
