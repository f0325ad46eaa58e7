/**
 * The account at a glance, for the Positions tree: cash, equity, buying power, open P&L and the day's
 * P&L, each a short line with its currency and thousands separators, so that all of it reads at the
 * sidebar's default width. No `vscode` here (plain Node tests read it).
 *
 * The day's P&L is equity now against the first equity seen this UTC day for that venue (kept by the
 * editor across restarts); before the first reading of a day there is none, and the line says from when
 * it counts, as no venue here reports a start-of-day figure of its own.
 */
import { formatMoney } from '../usecases/describeOrder';
import type { AccountInfo } from '../orders/model';

/** The first equity seen on a UTC day, per venue. */
export interface DayStart {
  readonly day: string;
  readonly equity: number;
  readonly at: number;
}

export interface DayStartStore {
  get(venue: string): DayStart | undefined;
  set(venue: string, value: DayStart): void;
}

export interface AccountLine {
  /** What the line is ("Equity"). */
  readonly label: string;
  /** The figure with its currency ("100,012.50 USD"). */
  readonly value: string;
  /** Sign of a P&L line, for its colour; undefined for the others. */
  readonly sign?: -1 | 0 | 1;
  readonly tooltip: string;
}

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const money = formatMoney;

export const signedMoney = (n: number): string => `${n > 0 ? '+' : n < 0 ? '−' : ''}${money(Math.abs(n))}`;

const signOf = (n: number): -1 | 0 | 1 => (n > 0.004 ? 1 : n < -0.004 ? -1 : 0);

/**
 * The account's lines. Reads and, on a new UTC day, writes the venue's day start in `store`.
 */
export function accountLines(venue: string, account: AccountInfo, now: number, store: DayStartStore): AccountLine[] {
  const ccy = account.currency;
  const day = utcDay(now);
  let start = store.get(venue);
  if (start === undefined || start.day !== day || !Number.isFinite(start.equity)) {
    start = { day, equity: account.equity, at: now };
    store.set(venue, start);
  }
  const open = account.open_positions.reduce((sum, p) => sum + p.unrealized_pnl, 0);
  const dayPnl = account.equity - start.equity;
  const since = new Date(start.at).toISOString().slice(11, 16);
  return [
    {
      label: 'Cash',
      value: `${money(account.balance)} ${ccy}`,
      tooltip: `Cash in every currency, converted to ${ccy} at the mid`,
    },
    {
      label: 'Equity',
      value: `${money(account.equity)} ${ccy}`,
      tooltip: 'Cash plus every position marked at the mid',
    },
    {
      label: 'Buying power',
      value: `${money(account.buying_power)} ${ccy}`,
      tooltip: 'What new orders may still use, as the venue reports it',
    },
    {
      label: 'Open P&L',
      value: `${signedMoney(open)} ${ccy}`,
      sign: signOf(open),
      tooltip: `Unrealized profit and loss of ${account.open_positions.length} open position(s) at the mid`,
    },
    {
      label: 'Day P&L',
      value: `${signedMoney(dayPnl)} ${ccy}`,
      sign: signOf(dayPnl),
      tooltip:
        since === '00:00'
          ? `Equity now against equity at 00:00 UTC on ${day}`
          : `Equity now against the first equity seen today (${day}, at ${since} UTC)`,
    },
  ];
}
