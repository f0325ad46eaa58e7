/**
 * How Binance writes numbers and times ("0.00100000", epoch milliseconds), and the one way a reply is read:
 * through a zod schema, so a reply that is not what Binance documents becomes `BrokerError('BAD_RESPONSE')`.
 * Shared by orders.ts, market.ts and account.ts.
 */
import { z } from 'zod';
import { BrokerError } from '../errors';

export const decimalString = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n)) {
    // A hostile reply may send megabytes of digits: the message shows the start of it.
    const shown = String(v);
    ctx.addIssue({ code: 'custom', message: `not a number: ${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown}` });
    return z.NEVER;
  }
  return n;
});
export const integerLike = z.union([z.number().int(), z.string().regex(/^-?\d+$/)]).transform((v) => String(v));
export const millis = z.number().int().nonnegative();

export function readOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new BrokerError('BAD_RESPONSE', `Binance sent ${what} that could not be read (${where})`);
}

/** Eight decimals, as Binance prints amounts. */
export const round = (n: number): number => Number(n.toFixed(8));
