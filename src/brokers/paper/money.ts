/**
 * Numbers into exact money units (10^-10, as in `common/decimal.ts`). `toMoney` there formats
 * with `toFixed(10)`, which exposes binary noise once a value has more than about 15 significant
 * digits (9 999 899.95 → …9499999993); the venue instead reads the shortest decimal that
 * round-trips (`String(n)`), which is the number the user or the feed meant.
 */
import { divRound, MONEY_SCALE } from '../../common/decimal';

const FACTOR = 10n ** BigInt(MONEY_SCALE);
// Prices and sizes repeat (the touch, lot multiples): remember recent conversions.
const cache = new Map<number, bigint>();

export function units(value: number): bigint {
  const known = cache.get(value);
  if (known !== undefined) return known;
  const result = Number.isSafeInteger(value) ? BigInt(value) * FACTOR : parse(value);
  if (cache.size >= 8192) cache.clear();
  cache.set(value, result);
  return result;
}

function parse(value: number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  const [mantissa = '0', exponent = '0'] = Math.abs(value).toString().split('e');
  const [whole = '0', fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  // value = digits × 10^(exponent − fraction.length); scale it to 10^-MONEY_SCALE units.
  const shift = MONEY_SCALE + Number(exponent) - fraction.length;
  const scaled = shift >= 0 ? digits * 10n ** BigInt(shift) : divRound(digits, 10n ** BigInt(-shift));
  return value < 0 ? -scaled : scaled;
}
