/**
 * Exact money arithmetic on scaled integers. Prices and quantities arrive as JS numbers that
 * have already been snapped to an instrument's tick or lot; they are turned into integers of
 * 10^-scale units so that cash, positions and commission never drift.
 */
export const MONEY_SCALE = 10;
const MONEY_FACTOR = 10n ** BigInt(MONEY_SCALE);

// Steps are an instrument's tick and lot: a handful per process, asked for on every price.
const decimalsCache = new Map<number, number>();

/** Number of decimal places in a step such as 0.0001 → 4, 0.5 → 1, 1 → 0. */
export function decimalsOf(step: number): number {
  const known = decimalsCache.get(step);
  if (known !== undefined) return known;
  if (!Number.isFinite(step) || step <= 0) throw new RangeError(`step must be a positive number, got ${step}`);
  let d = 0;
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-9) d++;
  if (decimalsCache.size >= 1024) decimalsCache.clear();
  decimalsCache.set(step, d);
  return d;
}

/** Rounds `value` to the nearest multiple of `step` and removes float noise. */
export function snapToStep(value: number, step: number, mode: 'nearest' | 'down' | 'up' = 'nearest'): number {
  const d = decimalsOf(step);
  const units = Math.round(step * 10 ** d);
  const scaled = value * 10 ** d;
  const ratio = scaled / units;
  const k = mode === 'down' ? Math.floor(ratio + 1e-9) : mode === 'up' ? Math.ceil(ratio - 1e-9) : Math.round(ratio);
  return Number(((k * units) / 10 ** d).toFixed(d));
}

/** True when `value` lies on the grid of `step` (within float noise). */
export function isOnStep(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-7;
}

// Quantities and prices repeat (lots, the touch): remember recent conversions.
const toMoneyCache = new Map<number, bigint>();

/** A JS number (at most 10 decimals) as an exact count of 10^-10 units. */
export function toMoney(value: number): bigint {
  const known = toMoneyCache.get(value);
  if (known !== undefined) return known;
  const units = toMoneyUncached(value);
  if (toMoneyCache.size >= 8192) toMoneyCache.clear();
  toMoneyCache.set(value, units);
  return units;
}

function toMoneyUncached(value: number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  const [int, frac = ''] = Math.abs(value).toFixed(MONEY_SCALE).split('.');
  const units = BigInt(int ?? '0') * MONEY_FACTOR + BigInt(frac.padEnd(MONEY_SCALE, '0').slice(0, MONEY_SCALE));
  return value < 0 ? -units : units;
}

const MAX_EXACT_UNITS = BigInt(Number.MAX_SAFE_INTEGER);

export function fromMoney(units: bigint): number {
  // Exactly representable: one correctly rounded division gives the double nearest to units × 10^-10,
  // the same number that parsing its decimal text gives.
  if (units <= MAX_EXACT_UNITS && units >= -MAX_EXACT_UNITS) return Number(units) / 1e10;
  // Larger (a balance past ~900,000): the decimal text in exponent form, which Number parses correctly
  // rounded, as it does `int.frac`, for one conversion to text instead of two divisions and two.
  return Number(`${units}e-${MONEY_SCALE}`);
}

/** Exact product of two money-scaled amounts, rounded half away from zero to the money scale. */
export function mulMoney(a: bigint, b: bigint): bigint {
  return divRound(a * b, MONEY_FACTOR);
}

/** a / b at the money scale, rounded half away from zero. */
export function divMoney(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new RangeError('division by zero');
  return divRound(a * MONEY_FACTOR, b);
}

export function divRound(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (an + ad / 2n) / ad;
  return negative ? -q : q;
}

/** Rounds a money amount to `decimals` places (e.g. cents), half away from zero. */
export function roundMoney(units: bigint, decimals: number): bigint {
  const step = 10n ** BigInt(MONEY_SCALE - decimals);
  return divRound(units, step) * step;
}
