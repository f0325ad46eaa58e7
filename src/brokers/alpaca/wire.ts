/**
 * How Alpaca writes numbers and times (decimal strings, ISO times), both ways, and the one way a reply is
 * read: through a zod schema, throwing `BrokerError('BAD_RESPONSE')` naming the field that did not fit.
 * Shared by orders.ts, market.ts and account.ts.
 */
import { z } from 'zod';
import { BrokerError } from '../errors';

/** One formatter for every call: `toLocaleString` builds one each time, about 60 µs. */
const DECIMAL_FORMAT = new Intl.NumberFormat('en-US', { useGrouping: false, maximumFractionDigits: 10 });

/** A number as Alpaca wants it in a string: no exponent, no float noise. */
export function decimalString(n: number): string {
  // Whole numbers print the same either way (-0 aside, which the formatter writes as "-0").
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return String(n);
  return DECIMAL_FORMAT.format(n);
}

/** Quote currencies of Alpaca's crypto pairs (docs "Crypto Trading": pairs "based on BTC, USD, and USDT"; USDC). */
const CRYPTO_QUOTES = ['USDT', 'USDC', 'USD', 'BTC'] as const;

/**
 * A crypto symbol in the pair form SPtrader trades it in (BTC/USD). Alpaca's "Crypto Trading" page: "symbology for
 * trading pairs has changed from our previous format, where BTC/USD was previously referred to as BTCUSD. Our API
 * has made proper changes to support the legacy convention as well"; positions (and orders placed the old way)
 * still name the pair BTCUSD. Only for an `asset_class` of crypto; anything else is returned as is.
 */
export function cryptoPairSymbol(symbol: string, assetClass: string | null | undefined): string {
  if (assetClass !== 'crypto' || symbol.includes('/')) return symbol;
  const quote = CRYPTO_QUOTES.find((q) => symbol.length > q.length && symbol.endsWith(q));
  return quote === undefined ? symbol : `${symbol.slice(0, -quote.length)}/${quote}`;
}

/** A decimal number sent as a string ("150", "-2", "0.0001"). */
export const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number in a string')
  .transform((s) => Number(s))
  // A string of digits too long for a double reads as Infinity: refused here, naming the field.
  .refine((n) => Number.isFinite(n), 'expected a decimal number within range');
export const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an RFC 3339 time')
  .transform((s) => Date.parse(s));
export const optionalTime = isoTime.nullish();

/** Validates `raw`, or throws BAD_RESPONSE naming the first field that did not fit. */
export function validate<S extends z.ZodType>(schema: S, raw: unknown, what: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  throw new BrokerError(
    'BAD_RESPONSE',
    `Alpaca sent ${what} that SPtrader cannot read: field ${field}: ${issue?.message ?? 'invalid'}${more}`,
  );
}
