/**
 * The words of the trading-state menu and the paper fault switch, read off a real paper venue's switch:
 * what the menu title says is what the venue then does.
 */
import assert from 'node:assert/strict';
import { isBrokerError } from '../../../src/brokers/errors';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { describeFaults, parseLatency, STATE_MEANING, utcTime } from '../../../src/views/menuText';
import { FixedQuotes, order } from '../paper/helpers';

describe('editor menus: trading state and paper faults', () => {
  it('names every fault the switch holds, and the venue does what the words say', async () => {
    const paper = new PaperBroker({ clock: new TestClock(), quotes: new FixedQuotes() });
    await paper.connect();
    assert.equal(describeFaults(paper.faults.state()), 'no faults');
    paper.faults.rejectNext('market closed');
    paper.faults.rejectNext();
    assert.equal(describeFaults(paper.faults.state()), '2 rejections queued');
    const first = await paper.submitOrder(order('buy', 10));
    assert.equal(first.status.status, 'rejected');
    assert.match(first.status.status === 'rejected' ? first.status.reason : '', /market closed/);
    assert.equal(describeFaults(paper.faults.state()), '1 rejection queued');
    paper.faults.setLatency(0, 0);
    paper.faults.clear();
    assert.equal(describeFaults(paper.faults.state()), 'no faults');
    paper.faults.disconnect();
    assert.equal(describeFaults(paper.faults.state()), 'link down');
    await assert.rejects(paper.getAccountInfo(), (e: unknown) => isBrokerError(e) && e.reason === 'NOT_CONNECTED');
    await paper.connect();
    assert.equal(describeFaults(paper.faults.state()), 'no faults');
    await paper.getAccountInfo();
  });

  it('shows added latency with its jitter', () => {
    const s = { disconnected: true, rejectsQueued: 1, latencyMs: { fixed: 250, jitter: 50 } };
    assert.equal(describeFaults(s), 'link down · 1 rejection queued · +250 ms (+0–50)');
    assert.equal(
      describeFaults({ ...s, disconnected: false, rejectsQueued: 0, latencyMs: { fixed: 5, jitter: 0 } }),
      '+5 ms',
    );
  });

  it('reads a latency as whole milliseconds, refusing anything else with the reason', () => {
    assert.deepEqual(parseLatency('250'), { fixed: 250, jitter: 0 });
    assert.deepEqual(parseLatency(' 250 50 '), { fixed: 250, jitter: 50 });
    assert.deepEqual(parseLatency('0'), { fixed: 0, jitter: 0 });
    assert.match(parseLatency('') as string, /delay in milliseconds/);
    assert.match(parseLatency('1 2 3') as string, /delay in milliseconds/);
    assert.match(parseLatency('2.5') as string, /the delay must be a whole number.*2\.5/);
    assert.match(parseLatency('250 abc') as string, /the jitter must be a whole number/);
    assert.match(parseLatency('-1') as string, /between 0 and 60,000/);
    assert.match(parseLatency('70000') as string, /between 0 and 60,000 ms \(got 70000\)/);
  });

  it('says times in UTC and what each trading state lets through', () => {
    assert.equal(utcTime(Date.UTC(2026, 11, 2, 14, 3, 27, 900)), '14:03:27 UTC');
    assert.deepEqual(Object.keys(STATE_MEANING).sort(), ['ACTIVE', 'HALTED', 'REDUCING']);
    assert.match(STATE_MEANING.REDUCING, /reduce a position/);
  });
});
