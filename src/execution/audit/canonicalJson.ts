/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, numbers and strings as
 * `JSON.stringify` writes them. A record's hash is taken over this text, so anyone can recompute it
 * from the parsed line, in any language, and get the same bytes.
 *
 * Encoding the output of `JSON.parse(canonicalJson(x))` again gives the same text; the verifier relies
 * on that to prove each line is exactly what the writer produced.
 */
import { isSecretKey, REDACTED } from '../../common/secrets';

/** Thrown when a value cannot be written as JSON without losing what it was. */
export class CanonicalJsonError extends TypeError {
  override readonly name = 'CanonicalJsonError';
  constructor(
    /** Where the value sits, e.g. `data.legs[2].price`. */
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export interface CanonicalJson {
  readonly json: string;
  /** Paths of values under secret-looking keys that are not "[redacted]"; the values are not kept. */
  readonly secretPaths: string[];
}

// Deeper than any order or event; a bound turns a runaway structure into a clear error instead of a stack overflow.
export const MAX_DEPTH = 64;

export function canonicalJson(value: unknown, rootName = 'data'): CanonicalJson {
  // Plain data without secrets (every record the engine writes) takes the fast path; anything it does
  // not handle (a secret-looking key, toJSON, a non-finite number, a cycle…) is encoded again by the
  // careful encoder below, which knows where in the value the problem is.
  const fast = fastEncode(value, 0);
  if (fast !== undefined) return { json: fast, secretPaths: [] };
  const encoder = new Encoder(rootName);
  const json = encoder.encode(value, 0);
  if (json === undefined)
    throw new CanonicalJsonError(rootName, 'has no JSON form (undefined, a function or a symbol)');
  return { json, secretPaths: encoder.secretPaths };
}

/** Not handled by the fast path: the careful encoder takes over. */
const UNHANDLED = undefined;

// Characters JSON.stringify escapes (and lone surrogates, which it writes as \uXXXX): strings without
// any are written as they are, between quotes.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

export const quote = (text: string): string => (NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`);

export const SECRET = '';
// Records repeat the same few dozen keys: their quoted text, or SECRET for a secret-looking one.
const keyTexts = new Map<string, string>();

export function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = isSecretKey(key) ? SECRET : JSON.stringify(key);
    if (keyTexts.size >= 4096) keyTexts.clear();
    keyTexts.set(key, text);
  }
  return text;
}

/** Sorts a handful of keys in place by UTF-16 code unit (`<` on strings), as `Array#sort()` would. */
export function sortKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * Canonical text of plain data (objects, arrays, strings, finite numbers, booleans, null, undefined
 * properties), or UNHANDLED for anything else, including a secret-looking key and nesting deeper than
 * MAX_DEPTH (which is also how a cycle ends here).
 */
function fastEncode(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      // Number#toString is what JSON.stringify writes for a finite number (-0 included: "0").
      return Number.isFinite(value) ? String(value) : UNHANDLED;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) return UNHANDLED;
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          // JSON writes undefined array items as null; functions and the like go to the careful encoder.
          const encoded = item === undefined ? 'null' : fastEncode(item, depth + 1);
          if (encoded === UNHANDLED) return UNHANDLED;
          out += i === 0 ? encoded : `,${encoded}`;
        }
        return `${out}]`;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return UNHANDLED;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return UNHANDLED;
      const keys = sortKeys(Object.keys(value));
      let out = '{';
      for (const key of keys) {
        const name = keyText(key);
        if (name === SECRET) return UNHANDLED;
        const inner = (value as Record<string, unknown>)[key];
        if (inner === undefined) continue;
        const encoded = fastEncode(inner, depth + 1);
        if (encoded === UNHANDLED) return UNHANDLED;
        out += out.length === 1 ? `${name}:${encoded}` : `,${name}:${encoded}`;
      }
      return `${out}}`;
    }
    default:
      // undefined at the root, bigint, function, symbol.
      return UNHANDLED;
  }
}

class Encoder {
  readonly secretPaths: string[] = [];
  // Keys and indexes from the root to the value being encoded; only turned into text when something is wrong.
  private readonly path: Array<string | number> = [];
  private readonly open = new Set<object>();

  constructor(private readonly rootName: string) {}

  /** The canonical text, or undefined where JSON drops the value (an undefined property). */
  encode(value: unknown, depth: number): string | undefined {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value);
      case 'number':
        // NaN and ±Infinity would become null and the log would state something that did not happen.
        if (!Number.isFinite(value))
          throw this.error(`${String(value)} is not a finite number; write it as a string or fix the producer`);
        return JSON.stringify(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'undefined':
        return undefined;
      case 'bigint':
        throw this.error(`a bigint (${String(value)}n) has no JSON form; convert it to a string or a number first`);
      case 'function':
      case 'symbol':
        throw this.error(`a ${typeof value} has no JSON form; audit data must be plain data`);
      case 'object':
        return value === null ? 'null' : this.encodeObject(value, depth);
    }
  }

  private encodeObject(value: object, depth: number): string {
    const toJson: unknown = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJson === 'function') {
      const replaced = this.encode((toJson as () => unknown).call(value), depth);
      return replaced ?? 'null';
    }
    if (depth >= MAX_DEPTH) throw this.error(`nested deeper than ${MAX_DEPTH} levels`);
    if (this.open.has(value)) throw this.error('refers back to itself (a cycle); audit data must be a tree');
    if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet) {
      // JSON.stringify would write {} and the entries would vanish from the record without a trace.
      throw this.error(`a ${value.constructor.name} has no JSON form; convert it to an object or an array first`);
    }
    this.open.add(value);
    try {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          this.path.push(i);
          out += (i === 0 ? '' : ',') + (this.encode(value[i] as unknown, depth + 1) ?? 'null');
          this.path.pop();
        }
        return `${out}]`;
      }
      const keys = Object.keys(value).sort();
      let out = '{';
      for (const key of keys) {
        const inner = (value as Record<string, unknown>)[key];
        this.path.push(key);
        if (isSecretKey(key) && inner !== REDACTED) this.secretPaths.push(this.pathText());
        const encoded = this.encode(inner, depth + 1);
        this.path.pop();
        if (encoded !== undefined) out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${encoded}`;
      }
      return `${out}}`;
    } finally {
      this.open.delete(value);
    }
  }

  private error(detail: string): CanonicalJsonError {
    return new CanonicalJsonError(this.pathText(), detail);
  }

  private pathText(): string {
    let text = this.rootName;
    for (const step of this.path) {
      if (typeof step === 'number') text += `[${step}]`;
      else if (/^[A-Za-z_$][\w$]*$/.test(step)) text += `.${step}`;
      else text += `[${JSON.stringify(step)}]`;
    }
    return text;
  }
}
