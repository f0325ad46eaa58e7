/**
 * Secrets never reach the audit log. The log is kept for years, copied for support and read by
 * people who must not be able to trade; an API key written once would live in every copy.
 */

/** Keys whose values are treated as secrets wherever they appear in a record's data. */
export const SECRET_KEY_PATTERN = /secret|password|passphrase|api[-_]?key|token|authorization|private[-_]?key/i;

/** The only value a secret-looking key may hold in the audit log. */
export const REDACTED = '[redacted]';

// Records repeat the same few dozen keys, so remembering the verdict per key keeps the check off the
// hot path; the bound keeps an adversarial stream of unique keys from growing it without limit.
const verdicts = new Map<string, boolean>();
const VERDICT_CACHE_LIMIT = 4096;

export function isSecretKey(key: string): boolean {
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const verdict = SECRET_KEY_PATTERN.test(key);
  if (verdicts.size < VERDICT_CACHE_LIMIT) verdicts.set(key, verdict);
  return verdict;
}

/** Thrown synchronously by `AuditLog.append` when data holds a secret-looking key; nothing is written. */
export class AuditSecretError extends Error {
  override readonly name = 'AuditSecretError';
  constructor(
    readonly recordType: string,
    /** Where each offending value sits, e.g. `data.credentials.apiKey`. The values themselves are never kept. */
    readonly paths: readonly string[],
  ) {
    super(
      `Refused to write audit record "${recordType}": ${paths.join(', ')} ${paths.length === 1 ? 'looks' : 'look'} like a secret ` +
        `(key matches ${String(SECRET_KEY_PATTERN)}). Secrets must never reach the audit log: pass the data through ` +
        `redactSecrets() first, or set the value to "${REDACTED}".`,
    );
  }
}

/**
 * A deep copy of `value` in which every value under a secret-looking key is replaced by "[redacted]",
 * in nested objects and arrays alike. The copy is the data as the audit log would write it: objects
 * with `toJSON` (dates, for one) are replaced by what `toJSON` returns, other objects by plain objects
 * of their own enumerable properties, exactly as `JSON.stringify` sees them.
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, new Set()) as T;
}

function redactValue(value: unknown, seen: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const json: unknown = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return redactValue((json as () => unknown).call(value), seen);
  // A cycle cannot be written to JSON anyway; keep the reference and let the encoder report where it is.
  if (seen.has(value)) return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item: unknown) => redactValue(item, seen));
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      // defineProperty, not assignment, so that a key named "__proto__" stays plain data.
      Object.defineProperty(out, key, {
        value: isSecretKey(key) ? REDACTED : redactValue(inner, seen),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
