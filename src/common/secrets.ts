/**
 * Secrets never reach the audit log or a state file. The log is kept for years, copied for support and
 * read by people who must not be able to trade; an API key written once would live in every copy.
 *
 * A key is secret-looking by its name alone (values are not inspected): the name is folded to lower-case
 * letters and digits (Unicode NFKC first, so full-width "ＡＰＩ＿ＫＥＹ" and "api\u200Bkey" read as "apikey")
 * and matched against the words below. The rule errs towards redaction: a harmless value lost from a
 * record costs little, a leaked token costs the account.
 */

/**
 * Words that make a key secret wherever they appear in its folded form ("x-api-key", "clientSecret",
 * "OANDA_PASSWORD", "db.passwd", "refreshToken", "privKey" …).
 */
const SECRET_WORDS = [
  'secret',
  'password',
  'passwd',
  'passphrase',
  'apikey',
  'privatekey',
  'privkey',
  'signingkey',
  'accesskey',
  'authorization',
  'credential',
  'bearer',
  'mnemonic',
  'cookie',
  'token',
] as const;

/**
 * Short words that are secret only as a whole segment of the key ("pwd", "auth", "otp"), never inside
 * "author" or "cwd". ("pin" is left out on purpose: a "pin_bar" is a candlestick pattern.)
 */
const SECRET_SEGMENTS: ReadonlySet<string> = new Set(['pwd', 'auth', 'otp', 'totp', 'jwt']);

/**
 * Names that hold the word "token" without holding one: a rate limiter's bucket and its counts. Anything
 * else with "token" in it ("token", "access_token", "tokens", a coin called "token") is a secret.
 */
const NOT_SECRET_TOKEN_WORDS = /tokenbucket|tokencount|tokensper|tokenizer|tokentype/g;

/**
 * The rule as one pattern over the folded key, for messages and for callers that want a RegExp. The
 * segment words and the "token" exceptions are applied by `isSecretKey`, which is the rule itself.
 */
export const SECRET_KEY_PATTERN = new RegExp(SECRET_WORDS.join('|'), 'i');

/** The only value a secret-looking key may hold in the audit log or a state file. */
export const REDACTED = '[redacted]';

// Records repeat the same few dozen keys, so remembering the verdict per key keeps the check off the
// hot path; the bound keeps an adversarial stream of unique keys from growing it without limit.
const verdicts = new Map<string, boolean>();
const VERDICT_CACHE_LIMIT = 4096;

export function isSecretKey(key: string): boolean {
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  const verdict = judgeKey(key);
  if (verdicts.size < VERDICT_CACHE_LIMIT) verdicts.set(key, verdict);
  return verdict;
}

// Format characters (zero-width space, joiners, soft hyphen) are invisible in an editor: "pass\u00ADword" is "password".
const FORMAT_CHARACTERS = /\p{Cf}/gu;

function judgeKey(key: string): boolean {
  const normal = key.normalize('NFKC').replace(FORMAT_CHARACTERS, '');
  const folded = normal.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  const withoutTokenWords = folded.includes('token') ? folded.replace(NOT_SECRET_TOKEN_WORDS, '') : folded;
  for (const word of SECRET_WORDS) if (withoutTokenWords.includes(word)) return true;
  return segmentsOf(normal).some((segment) => SECRET_SEGMENTS.has(segment));
}

/** "X-Auth", "user_pwd", "authMode", "OTP2" → ["x", "auth"], ["user", "pwd"], ["auth", "mode"], ["otp"]. */
function segmentsOf(key: string): string[] {
  return key
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter((s) => s !== '');
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
        `(the key names a secret, such as ${SECRET_WORDS.slice(0, 6).join(', ')}). Secrets must never reach the audit log: pass the data through ` +
        `redactSecrets() first, or set the value to "${REDACTED}".`,
    );
  }
}

/**
 * A deep copy of `value` in which every value under a secret-looking key is replaced by "[redacted]",
 * in nested objects and arrays alike. The copy is the data as the audit log would write it: objects
 * with `toJSON` (dates, for one) are replaced by what `toJSON` returns, other objects by plain objects
 * of their own enumerable properties, exactly as `JSON.stringify` sees them. A cycle keeps its reference,
 * so that the audit log's encoder refuses the record and names where the cycle is (use
 * `redactSecretsDeep` for data that must be written whatever its shape).
 */
export function redactSecrets<T>(value: T): T {
  return redactValue(value, new Set(), 0, false) as T;
}

/** Where `redactSecretsDeep` stops: the rest of a structure nested deeper than any order is replaced by this. */
export const TOO_DEEP = '[too deep]';
/** What `redactSecretsDeep` writes where a structure refers back to itself. */
export const CIRCULAR = '[circular]';
/** Deeper than any order, event or venue reply; far below the stack's limit. */
export const MAX_REDACTION_DEPTH = 256;

/**
 * A redacted copy of any value, safe to serialise whatever its shape: every value under a secret-looking
 * key (see `isSecretKey`), at any depth, in objects, arrays, Maps and Sets, becomes "[redacted]". Plain
 * data comes back as plain data (objects with `toJSON` as what it returns, as JSON would write them);
 * a cycle becomes "[circular]" and anything nested deeper than `MAX_REDACTION_DEPTH` becomes "[too deep]",
 * so that no part of the input, and so no secret, is ever carried over by reference. The input is not changed.
 */
export function redactSecretsDeep(value: unknown): unknown {
  return redactValue(value, new Set(), 0, true);
}

function redactValue(value: unknown, seen: Set<object>, depth: number, strict: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const json: unknown = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') {
    // toJSON may return the object itself or another object: it is walked like any other value.
    const replaced: unknown = (json as () => unknown).call(value);
    return replaced === value ? redactEntries(value, seen, depth, strict) : redactValue(replaced, seen, depth, strict);
  }
  return redactEntries(value, seen, depth, strict);
}

function redactEntries(value: object, seen: Set<object>, depth: number, strict: boolean): unknown {
  // A cycle cannot be written to JSON anyway; the lenient form keeps the reference and lets the encoder report where it is.
  if (seen.has(value)) return strict ? CIRCULAR : value;
  if (strict && depth >= MAX_REDACTION_DEPTH) return TOO_DEEP;
  seen.add(value);
  try {
    const inner = (item: unknown): unknown => redactValue(item, seen, depth + 1, strict);
    if (Array.isArray(value)) return value.map(inner);
    if (strict && value instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [key, item] of value)
        out.set(key, typeof key === 'string' && isSecretKey(key) ? REDACTED : inner(item));
      return out;
    }
    if (strict && value instanceof Set) return new Set([...value].map(inner));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment, so that a key named "__proto__" stays plain data.
      Object.defineProperty(out, key, {
        value: isSecretKey(key) ? REDACTED : inner(item),
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
