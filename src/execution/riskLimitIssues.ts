/**
 * What is wrong with a component's `__metadata__['risk_limits']` (and with a risk settings file: describeSettingsIssues),
 * in words a trader acts on: the key, what it must
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

/** A JSON value as a settings file spells it, for a message: the text quoted, a list or an object by kind. */
function json(value: unknown): string {
  if (typeof value === 'string')
    return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return `${value} (a number too large for a float)`;
  if (value !== null && typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

/** Each section of a risk settings file and the keys it takes. */
export type SettingsSections = Readonly<Record<string, readonly string[]>>;

/**
 * What is wrong with a risk settings file (risk-limits.json, --limits), one sentence per problem naming the key, what
 * it must be and the value it holds: zod's own said "limits.maxOrderNotional: Invalid input: expected number, received
 * string" and, for a misspelt key, not which keys there are. `wholeKeys` are the keys that take whole numbers.
 */
export function describeSettingsIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  sections: SettingsSections,
  wholeKeys: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  const example = '{"limits": {"maxOrderNotional": 100000}}';
  for (const issue of issues) {
    const name = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .slice(1);
    const value = at(input, issue.path);
    const key = issue.path[issue.path.length - 1];
    if (issue.code === 'unrecognized_keys') {
      const known = issue.path.length === 0 ? Object.keys(sections) : (sections[String(issue.path[0])] ?? []);
      for (const k of issue.keys)
        out.push(
          `${name === '' ? '' : `${name}.`}${k} is not a risk setting SPtrader knows (${name === '' ? 'the file takes' : `${name} takes`} ${known.join(', ')}): rename it to the one meant, or remove it`,
        );
    } else if (issue.path.length === 0)
      out.push(`the file must hold a JSON object such as ${example}, not ${json(value)}`);
    else if (issue.path.length === 1)
      out.push(
        `${name} must be an object of settings such as ${name === 'circuitBreaker' ? '{"maxConsecutiveFailures": 5}' : '{"maxOrderNotional": 100000}'}, not ${json(value)}`,
      );
    else if (issue.path[1] === 'allowedSymbols' && issue.path.length > 2)
      out.push(`${name} must be a symbol of 1–32 letters, digits or . _ - / : such as "EUR_USD", not ${json(value)}`);
    else if (issue.path[1] === 'allowedSymbols')
      out.push(`${name} must be a list of symbols such as ["EUR_USD"], not ${json(value)}`);
    else
      out.push(
        `${name} must be a ${typeof key === 'string' && wholeKeys.has(key) ? 'whole number' : 'finite number'} greater than 0, not ${json(value)}`,
      );
  }
  return out;
}
