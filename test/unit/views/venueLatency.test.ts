/** Venue latency for the status bar, read off a real engine's events over a paper venue whose fault switch adds latency. */
import assert from 'node:assert/strict';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand } from '../../../src/execution/events';
import { formatLatency, VenueLatencies } from '../../../src/views/venueLatency';
import { FixedQuotes } from '../paper/helpers';

describe('venue latency (status bar)', () => {
  it("is the time from send to the venue's first answer, last and median, per venue", async () => {
    const clock = new TestClock();
    // The switch's latency is waited for by moving the test clock: each call to the venue takes that long.
    const paper = new PaperBroker({
      clock,
      quotes: new FixedQuotes(),
      startingCash: 1e9,
      sleep: async (ms: number) => clock.advance(ms),
    });
    const engine = new ExecutionEngine({ clock, brokers: { paper }, audit: null });
    await engine.connect('paper');
    const latencies = new VenueLatencies();
    let changes = 0;
    engine.subscribe((e) => {
      if (latencies.observe(e)) changes++;
    });
    const send = async (): Promise<void> => {
      const cmd = submitOrderCommand(
        {
          symbol: 'AAPL',
          side: 'buy',
          quantity: 1,
          order_type: { type: 'market' },
          time_in_force: { type: 'IOC' },
          metadata: {},
        },
        { venue: 'paper', source: 'api', clock },
      );
      const r = await engine.submit(cmd);
      assert.equal(r.order.state, 'FILLED');
    };
    assert.equal(latencies.of('paper'), undefined, 'nothing measured before an order');
    await send();
    assert.equal(latencies.of('paper')?.lastMs, 0);
    for (const ms of [40, 40, 300]) {
      paper.faults.setLatency(ms);
      await send();
    }
    const l = latencies.of('paper');
    assert.equal(l?.lastMs, 300);
    assert.equal(l?.samples, 4);
    assert.equal(l?.medianMs, 40);
    assert.equal(changes, 4, 'one measurement per order: its first answer, not its later fills');
    assert.equal(latencies.of('oanda'), undefined);
    await engine.close();
  });

  it('reads as a trader would', () => {
    assert.equal(formatLatency(3.4), '3 ms');
    assert.equal(formatLatency(999), '999 ms');
    assert.equal(formatLatency(1240), '1.2 s');
  });
});
