/**
 * An IB commission in the currency of its fill. A commission report names its own currency (TWS API
 * "CommissionReport": `Currency`, "the reporting currency"), which need not be the currency the order is priced
 * in: IDEALPRO charges FX commissions in USD whatever the pair. A fill's commission is in the instrument's quote
 * currency (as the paper venue's fee model and the Binance adapter give it, and as the engine adds it to
 * price × quantity), so a report in another currency is converted with IB's own prices: the base currency at the
 * execution's price, any other at IB's quote for the pair of the two (the fill waits for it). With no rate the
 * commission counts as 0 and the adapter says so: never a figure in one currency added to figures in another.
 */

/** A commission as IB reported it: an amount in a currency ('' when the report names none). */
export interface ReportedCommission {
  amount: number;
  currency: string;
}

/** What a commission is converted to: the execution's contract currency, its base for a pair, its price. */
export interface CommissionTarget {
  currency?: string | undefined;
  base?: string | undefined;
  price: number;
}

/** A commission report as we keep it: IB's "unset" value (or anything not a finite amount) counts as 0. */
export function reportedCommission(commission: number | undefined, currency: string | undefined): ReportedCommission {
  const amount =
    commission !== undefined && Number.isFinite(commission) && Math.abs(commission) < 1e300 ? commission : 0;
  return { amount, currency: (currency ?? '').trim().toUpperCase() };
}

/** The commission in the target's currency when no rate is needed for it; undefined when one is (`from` → `to`). */
export function commissionWithoutRate(reported: ReportedCommission, target: CommissionTarget): number | undefined {
  const { amount, currency: from } = reported;
  const to = (target.currency ?? '').toUpperCase();
  if (amount === 0 || from === '' || to === '' || from === to) return amount;
  if (from === (target.base ?? '').toUpperCase()) return roundCommission(amount * target.price);
  return undefined;
}

/** `amount` at `rate`, or undefined when the rate is not a positive number. */
export function atRate(amount: number, rate: number | undefined): number | undefined {
  return rate !== undefined && Number.isFinite(rate) && rate > 0 ? roundCommission(amount * rate) : undefined;
}

/** A converted commission, to 10 decimals (no binary noise from the rate). */
const roundCommission = (x: number): number => Number(x.toFixed(10));
