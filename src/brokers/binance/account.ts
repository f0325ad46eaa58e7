/**
 * The Binance spot account, pure: balances (GET /api/v3/account) → our account and positions. Spot has no
 * positions of its own; they are derived from balances here.
 */
import { z } from 'zod';
import { type AccountInfo, type Position } from '../../orders/model';
import { decimalString, integerLike, millis, readOrThrow, round } from './wire';

/*
 * GET /api/v3/account:
 * {"makerCommission":10,"takerCommission":10,"canTrade":true,"updateTime":1700000000000,"accountType":"SPOT",
 *  "balances":[{"asset":"USDT","free":"1000","locked":"30"},{"asset":"BTC","free":"0.01","locked":"0"}],"permissions":["SPOT"],"uid":354937868}
 */
export const RawAccountSchema = z.object({
  accountType: z.string().optional(),
  uid: integerLike.optional(),
  updateTime: millis.optional(),
  balances: z.array(z.object({ asset: z.string(), free: decimalString, locked: decimalString })),
});
export type RawAccount = z.infer<typeof RawAccountSchema>;

export function parseAccount(value: unknown): RawAccount {
  return readOrThrow(RawAccountSchema, value, 'account balances');
}

/**
 * Spot has no positions: each asset other than the account currency with a non-zero balance
 * (free + locked) is a long position in `<asset><currency>`, marked at that symbol's mid. Binance keeps
 * no entry price, so `average_price` is the mark and `unrealized_pnl` is 0.
 */
export function positionsFromBalances(
  account: RawAccount,
  currency: string,
  markOf: (asset: string) => { symbol: string; price: number } | undefined,
): Position[] {
  const positions: Position[] = [];
  for (const b of account.balances) {
    const quantity = round(b.free + b.locked);
    if (b.asset === currency || quantity === 0) continue;
    const mark = markOf(b.asset);
    if (!mark) continue;
    positions.push({
      symbol: mark.symbol,
      quantity,
      average_price: mark.price,
      current_price: mark.price,
      unrealized_pnl: 0,
    });
  }
  return positions;
}

/** Balance = the account currency held (free + locked); buying power = its free part; equity adds positions at their mark. */
export function accountInfoOf(
  account: RawAccount,
  currency: string,
  positions: Position[],
  accountId: string,
): AccountInfo {
  const cash = account.balances.find((b) => b.asset === currency);
  const balance = cash ? round(cash.free + cash.locked) : 0;
  const held = positions.reduce((sum, p) => sum + p.quantity * p.current_price, 0);
  return {
    account_id: accountId,
    balance,
    equity: round(balance + held),
    buying_power: cash ? cash.free : 0,
    currency,
    open_positions: positions,
  };
}
