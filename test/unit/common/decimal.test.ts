/**
 * Money units back to numbers: `fromMoney` gives the double nearest to units × 10^-10, which is what parsing
 * the amount's decimal text gives, on both of its paths (exact units and the larger balances of big accounts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromMoney, MONEY_SCALE, toMoney } from '../../../src/common/decimal';

/** The definition: the decimal text `int.frac` of the amount, parsed. */
function byText(units: bigint): number {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const factor = 10n ** BigInt(MONEY_SCALE);
  const n = Number(`${abs / factor}.${(abs % factor).toString().padStart(MONEY_SCALE, '0')}`);
  return negative ? -n : n;
}

describe('fromMoney', () => {
  it('property: the double that parsing the decimal text of the amount gives, small or large', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
          fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
          fc.bigInt({ min: 2n ** 53n - 1000n, max: 2n ** 53n + 1000n }),
        ),
        (units) => assert.ok(Object.is(fromMoney(units), byText(units)) || (units === 0n && fromMoney(units) === 0)),
      ),
      { numRuns: 5000 },
    );
  });

  it('round-trips the amounts a large account holds (cents past a million, a trillion)', () => {
    for (const amount of [1_000_000.01, 999_999.99, 1e12, 1e12 - 1000.2, -2_500_000.37, 123_456_789.123456])
      assert.equal(fromMoney(toMoney(amount)), amount);
  });
});
