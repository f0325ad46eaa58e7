import assert from 'node:assert/strict';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { readPaperSettings } from '../../../src/views/paperSettings';

const settingsOf = (values: Record<string, unknown>) => readPaperSettings((key) => values[key]);

describe('sptrader.paper.* settings (what VS Code hands over unchecked)', () => {
  it('unset or empty: the venue decides, and no problem', () => {
    assert.deepEqual(settingsOf({}), { startingCash: undefined, seed: undefined, problems: [] });
    assert.deepEqual(settingsOf({ 'paper.startingCash': null, 'paper.seed': null }), {
      startingCash: undefined,
      seed: undefined,
      problems: [],
    });
  });

  it('values that fit are used (a number in a string too)', () => {
    assert.deepEqual(settingsOf({ 'paper.startingCash': 250_000.5, 'paper.seed': 0 }), {
      startingCash: 250_000.5,
      seed: 0,
      problems: [],
    });
    assert.equal(settingsOf({ 'paper.startingCash': ' 5000 ' }).startingCash, 5000);
  });

  it('a starting cash that is text, zero, negative or not finite is named and the default used', () => {
    for (const bad of ['abc', 0, -5, Number.NaN, Number.POSITIVE_INFINITY, true, [1], { usd: 1 }]) {
      const s = settingsOf({ 'paper.startingCash': bad });
      assert.equal(s.startingCash, undefined, JSON.stringify(bad));
      assert.equal(s.problems.length, 1);
      assert.match(
        s.problems[0] ?? '',
        /^sptrader\.paper\.startingCash must be an amount above 0, not .+; 100,000 is used$/,
      );
    }
    assert.match(settingsOf({ 'paper.startingCash': 'abc' }).problems[0] ?? '', /not the string "abc"/);
    assert.deepEqual(settingsOf({ 'paper.startingCash': 1e308 }), {
      startingCash: undefined,
      seed: undefined,
      problems: [
        'sptrader.paper.startingCash must be an amount above 0, not 1e+308 (at most 1,000,000,000,000); 100,000 is used',
      ],
    });
    assert.equal(settingsOf({ 'paper.startingCash': 1e12 }).startingCash, 1e12);
    // What the venue did with it: the whole extension failed to start, naming no setting.
    assert.throws(
      () => new PaperBroker({ clock: new TestClock(1_700_000_000_000), startingCash: 'abc' as unknown as number }),
      /not a finite amount: abc/,
    );
  });

  it('a seed that is not a whole number of at least 0 is named and the saved one used', () => {
    for (const bad of ['x', -3, 1.5, 2 ** 60, Number.NaN, false, [1]]) {
      const s = settingsOf({ 'paper.seed': bad });
      assert.equal(s.seed, undefined, JSON.stringify(bad));
      assert.match(
        s.problems[0] ?? '',
        /^sptrader\.paper\.seed must be a whole number of at least 0 \(or empty\), not .+; the saved account's seed is used$/,
      );
    }
  });
});
