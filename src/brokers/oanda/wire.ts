/**
 * How OANDA's v20 writes numbers and times (decimal strings, RFC 3339 with nanoseconds or UNIX seconds), and
 * the one way a reply is read: through a zod schema, throwing `BrokerError('BAD_RESPONSE')` naming the field
 * that did not fit. Shared by orders.ts, market.ts, account.ts.
 */
import { z } from 'zod';
import { BrokerError } from '../errors';

/** A decimal number sent as a string ("100", "-2", "1.10010"). */
export const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number in a string')
  .transform((s) => Number(s))
  // A string of digits too long for a double reads as Infinity: refused here, naming the field.
  .refine((n) => Number.isFinite(n), 'expected a decimal number within range');

/**
 * RFC 3339 ("2030-01-01T00:00:00.000000000Z") or UNIX ("1893456000.000000000") time → ms since the epoch. The v20
 * DateTime: "The Unix representation is a string representing the number of seconds since the Unix Epoch … The value
 * is a fractional number, where the fractional part represents a fraction of a second (up to nine decimal places)."
 * Both forms keep whole milliseconds, the rest dropped (as Date.parse drops an RFC 3339 time's): the same instant
 * reads the same whichever form OANDA sends (a UNIX time rounded up could pass a gtdTime the other form did not).
 */
export function parseV20Time(s: string): number | undefined {
  const unix = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (unix) {
    const ms = Number(unix[1]) * 1000 + Number((unix[2] ?? '').padEnd(3, '0').slice(0, 3));
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}
export const time = z.string().transform((s, ctx) => {
  const ms = parseV20Time(s);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an RFC 3339 or UNIX time' });
    return z.NEVER;
  }
  return ms;
});

/** Validates `raw`, or throws BAD_RESPONSE naming the first field that did not fit. */
export function validate<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  what: string,
  outcomeUnknown = false,
): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  const unknown = outcomeUnknown
    ? '; the request was accepted, so look the order up by client order id before doing anything else'
    : '';
  throw new BrokerError(
    'BAD_RESPONSE',
    `OANDA sent ${what} that SPtrader cannot read: field ${field}: ${issue?.message ?? 'invalid'}${more}${unknown}`,
    {
      outcomeUnknown,
      retryable: false,
      cause: raw,
    },
  );
}
