/**
 * What is wrong with a component's `__metadata__['risk_limits']`, in words a trader acts on: the key, what it must
 * be, the value it has (a string '500', None, an infinite number), and for a key SPtrader does not know, the ones it
 * does. A malformed risk_limits denies every order of the component (INVALID_RISK_LIMITS): a limit it relies on is
 * never silently dropped.
 */
import type { z } from 'zod';

const NONFINITE = '__sptrader_nonfinite__';

/** How a Python value that reached SPtrader as JSON is shown: as Python writes it. */
function python(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const special = (value as Record<string, unknown>)[NONFINITE];
    if (typeof special === 'string') return special === 'NaN' ? 'nan' : special.replace('Infinity', 'inf');
    return 'a dict';
  }
  return typeof value;
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path)
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** One sentence per problem, each starting with the key it is about (`risk_limits.max_position_size ...`). */
export function describeLimitIssues(issues: readonly z.core.$ZodIssue[], input: unknown, known: string[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const name = `risk_limits${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
    const value = at(input, issue.path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push(
          `${name}.${key} is not a limit SPtrader enforces (it knows ${known.join(', ')}): rename it to the one meant, or remove it`,
        );
    } else if (issue.path.length === 0) {
      out.push(`risk_limits: it must be a dict such as {'max_position_size': 10000}, got ${python(value)}`);
    } else if (issue.path[0] === 'allowed_symbols' && issue.path.length > 1) {
      out.push(`${name} must be a symbol such as 'EUR_USD', got ${python(value)}`);
    } else if (issue.path[0] === 'allowed_symbols') {
      out.push(`${name} must be a list of symbols such as ['EUR_USD'], got ${python(value)}`);
    } else if (issue.path[0] === 'max_open_orders') {
      out.push(`${name} must be a whole number greater than zero, got ${python(value)}`);
    } else {
      out.push(`${name} must be a finite number greater than zero, got ${python(value)}`);
    }
  }
  return out;
}
