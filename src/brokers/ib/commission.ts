/**
 * An IB commission in the account's currency. A commission report names its own currency (TWS API
 * "CommissionReport": `Currency`, "the reporting currency"), which need not be the account's: a USD account
 * trading a EUR-quoted contract may be charged in EUR. A fill's commission is read by the rest of SPtrader in the
 * account's currency (the Compare view's fees, OANDA's "in the Account's home currency"), so a report in another
 * currency is converted with IB's own prices: the execution's own price when its contract is the pair of the two
 * currencies, else IB's quote for that pair. With no rate the commission counts as 0 and the adapter says so:
 * never a figure in one currency added to figures in another.
 */

/** A commission as IB reported it: an amount in a currency ('' when the report names none). */
export interface ReportedCommission {
  amount: number;
  currency: string;
}

/** The execution a commission belongs to: its contract's currency, the base for a pair, its price. */
export interface ExecutedAt {
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

/**
 * The commission in `to` when no quote is needed for it: nothing to convert, or the execution is itself a trade of
 * the two currencies (its price is IB's rate); undefined when a rate must be asked for.
 */
export function commissionWithoutQuote(
  reported: ReportedCommission,
  to: string,
  execution: ExecutedAt,
): number | undefined {
  const { amount, currency: from } = reported;
  const target = to.toUpperCase();
  if (amount === 0 || from === '' || from === target) return amount;
  const base = (execution.base ?? '').toUpperCase();
  const quote = (execution.currency ?? '').toUpperCase();
  if (execution.price > 0 && Number.isFinite(execution.price)) {
    if (base === from && quote === target) return roundCommission(amount * execution.price);
    if (base === target && quote === from) return roundCommission(amount / execution.price);
  }
  return undefined;
}

/** `amount` at `rate`, or undefined when the rate is not a positive number. */
export function atRate(amount: number, rate: number | undefined): number | undefined {
  return rate !== undefined && Number.isFinite(rate) && rate > 0 ? roundCommission(amount * rate) : undefined;
}

/** A converted commission, to 10 decimals (no binary noise from the rate). */
const roundCommission = (x: number): number => Number(x.toFixed(10));
