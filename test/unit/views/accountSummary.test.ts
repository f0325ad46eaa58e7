/** The account lines of the Positions tree, from a real paper account that trades. */
import assert from 'node:assert/strict';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { accountLines, signedMoney, type DayStart, type DayStartStore } from '../../../src/views/accountSummary';
import { FixedQuotes, order } from '../paper/helpers';

const memory = (): DayStartStore & { map: Map<string, DayStart> } => {
  const map = new Map<string, DayStart>();
  return { map, get: (v) => map.get(v), set: (v, s) => map.set(v, s) };
};

describe('account lines (Positions tree)', () => {
  it('show cash, equity, buying power, open and day P&L with currency and separators', async () => {
    const clock = new TestClock(Date.UTC(2026, 11, 2, 9, 30));
    const quotes = new FixedQuotes();
    const paper = new PaperBroker({ clock, quotes, startingCash: 100_000 });
    await paper.connect();
    const store = memory();
    const first = accountLines('paper', await paper.getAccountInfo(), clock.now(), store);
    assert.deepEqual(
      first.map((l) => `${l.label}: ${l.value}`),
      [
        'Cash: 100,000.00 USD',
        'Equity: 100,000.00 USD',
        'Buying power: 100,000.00 USD',
        'Open P&L: 0.00 USD',
        'Day P&L: 0.00 USD',
      ],
    );
    assert.match(first[4]?.tooltip ?? '', /first equity seen today \(2026-12-02, at 09:30 UTC\)/);
    // A buy fills at the ask; the mid is below it, so the position opens at a loss of half the spread.
    await paper.submitOrder(order('buy', 100));
    clock.advance(60_000);
    const after = accountLines('paper', await paper.getAccountInfo(), clock.now(), store);
    const open = after.find((l) => l.label === 'Open P&L');
    const day = after.find((l) => l.label === 'Day P&L');
    assert.equal(open?.sign, -1);
    assert.match(open?.value ?? '', /^−\d[\d,]*\.\d\d USD$/);
    assert.equal(day?.value, open?.value, 'no cash moved but the position: the day P&L is the open P&L');
    // A new UTC day starts from the equity then.
    clock.set(Date.UTC(2026, 11, 3, 0, 0));
    const next = accountLines('paper', await paper.getAccountInfo(), clock.now(), store);
    assert.equal(next.find((l) => l.label === 'Day P&L')?.value, '0.00 USD');
    assert.equal(store.map.get('paper')?.day, '2026-12-03');
    assert.match(next[4]?.tooltip ?? '', /at 00:00 UTC on 2026-12-03/);
  });

  it('signs money the way a trader reads it', () => {
    assert.equal(signedMoney(1234.5), '+1,234.50');
    assert.equal(signedMoney(-0.5), '−0.50');
    assert.equal(signedMoney(0), '0.00');
  });
});
