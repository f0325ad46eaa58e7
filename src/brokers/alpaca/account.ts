/**
 * The Alpaca account, pure: GET /v2/account and GET /v2/positions → our account and positions.
 */
import { z } from 'zod';
import type { AccountInfo, Position } from '../../orders/model';
import { cryptoPairSymbol, decimal, validate } from './wire';

export const AlpacaAccountSchema = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  currency: z.string().min(1),
  cash: decimal,
  buying_power: decimal,
  equity: decimal,
  portfolio_value: decimal.nullish(),
});

export const AlpacaPositionSchema = z.object({
  symbol: z.string().min(1),
  /** us_equity or crypto; a crypto position may be named the legacy way (BTCUSD): read as its pair (BTC/USD). */
  asset_class: z.string().nullish(),
  side: z.enum(['long', 'short']).optional(),
  qty: decimal,
  avg_entry_price: decimal,
  current_price: decimal.nullish(),
  unrealized_pl: decimal.nullish(),
});

export function parsePositions(raw: unknown): Position[] {
  return validate(z.array(AlpacaPositionSchema), raw, 'positions').map((p) => {
    const magnitude = Math.abs(p.qty);
    const quantity = p.side === 'short' || p.qty < 0 ? -magnitude : magnitude;
    return {
      symbol: cryptoPairSymbol(p.symbol, p.asset_class),
      quantity,
      average_price: p.avg_entry_price,
      current_price: p.current_price ?? p.avg_entry_price,
      unrealized_pnl: p.unrealized_pl ?? 0,
    };
  });
}

export function parseAccount(raw: unknown, positions: Position[]): AccountInfo {
  const a = validate(AlpacaAccountSchema, raw, 'an account');
  return {
    account_id: a.id,
    balance: a.cash,
    equity: a.equity,
    buying_power: a.buying_power,
    currency: a.currency,
    open_positions: positions,
  };
}

/** The account's id and account_number from GET /v2/account, to mask in messages. */
export function accountIdsOf(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const a = raw as { id?: unknown; account_number?: unknown };
  return [a.id, a.account_number].filter((v): v is string => typeof v === 'string' && v.length > 0);
}
