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
const MAX_DEPTH = 64;

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

const quote = (text: string): string => (NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`);

const SECRET = '';
// Records repeat the same few dozen keys: their quoted text, or SECRET for a secret-looking one.
const keyTexts = new Map<string, string>();

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = isSecretKey(key) ? SECRET : JSON.stringify(key);
    if (keyTexts.size >= 4096) keyTexts.clear();
    keyTexts.set(key, text);
  }
  return text;
}

/** Sorts a handful of keys in place by UTF-16 code unit (`<` on strings), as `Array#sort()` would. */
function sortKeys(keys: string[]): string[] {
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

/** Writes ASCII text (no character above 0x7f) at `pos`, one byte a character; returns the end. */
export function writeAscii(buf: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
  return pos;
}

/**
 * Writes a safe integer's decimal digits as `String` gives them (-0 as "0") at `pos`; returns the end. A number past
 * int32 (a timestamp: every record has two) is written as two int32 halves, the low one eight digits wide: digit by
 * digit in floating point it was a division and a remainder per digit, 13 of each for a millisecond time.
 */
export function writeInteger(buf: Buffer, pos: number, value: number): number {
  let n = value;
  if (n < 0) {
    buf[pos++] = 45;
    n = -n;
  }
  if (n < 2147483648) return writeSmall(buf, pos, n | 0);
  const high = Math.floor(n / 100_000_000);
  const end = writeSmall(buf, pos, high);
  let low = (n - high * 100_000_000) | 0;
  for (let i = end + 7; i >= end; i--) {
    const next = (low / 10) | 0;
    buf[i] = 48 + low - next * 10;
    low = next;
  }
  return end + 8;
}

/** `writeInteger` of a non-negative int32. */
function writeSmall(buf: Buffer, pos: number, n: number): number {
  const end = pos + integerDigits(n);
  let rest = n;
  for (let i = end - 1; i >= pos; i--) {
    const next = (rest / 10) | 0;
    buf[i] = 48 + rest - next * 10;
    rest = next;
  }
  return end;
}

/** Decimal digits of a non-negative safe integer. */
export function integerDigits(n: number): number {
  if (n < 100_000_000) {
    if (n < 10_000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : 4;
    return n < 1_000_000 ? (n < 100_000 ? 5 : 6) : n < 10_000_000 ? 7 : 8;
  }
  let digits = 9;
  for (let rest = n; rest >= 1_000_000_000; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** An object's keys as `Object.keys` gave them, sorted, and each one's quoted UTF-8 bytes and colon. */
interface Shape {
  readonly keys: readonly string[];
  readonly sorted: readonly string[];
  readonly names: readonly Buffer[];
}

// Records repeat a few dozen shapes (the same keys in the same order): each one sorted and encoded once.
// Keyed by the first key; a candidate matches when every key is the same string in the same place.
const shapes = new Map<string, Shape[]>();
let shapeCount = 0;

// The keys of the object being looked up, as `Object.keys` gives them (for-in into a reused array: no array per
// object). Only `shapeOf` uses it, and it is done with it before the encoder goes into the object's values.
const scratchKeys: string[] = [];

/**
 * The shape of a plain object (its prototype Object.prototype or null), or undefined when a key is secret-looking
 * or for-in meets a key that is not the object's own (something enumerable on Object.prototype): the careful path.
 */
function shapeOf(value: object): Shape | undefined {
  // An object with very many keys once does not keep its keys here for ever.
  if (scratchKeys.length > 1024) scratchKeys.length = 0;
  let n = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    scratchKeys[n++] = key;
  }
  const first = n === 0 ? '' : (scratchKeys[0] as string);
  const candidates = shapes.get(first);
  if (candidates !== undefined)
    next: for (const shape of candidates) {
      const known = shape.keys;
      if (known.length !== n) continue;
      for (let i = 1; i < n; i++) if (known[i] !== scratchKeys[i]) continue next;
      return shape;
    }
  const keys = scratchKeys.slice(0, n);
  const sorted = sortKeys([...keys]);
  const names: Buffer[] = [];
  for (const key of sorted) {
    const name = keyText(key);
    if (name === SECRET) return undefined;
    names.push(Buffer.from(`${name}:`, 'utf8'));
  }
  // Data whose keys are data (ids, symbols) makes new shapes without end: start again past a bound.
  if (shapeCount >= 4096) {
    shapes.clear();
    shapeCount = 0;
  }
  const shape: Shape = { keys, sorted, names };
  const list = shapes.get(first);
  if (list === undefined) shapes.set(first, [shape]);
  else if (list.length < 64) list.push(shape);
  shapeCount++;
  return shape;
}

/**
 * Writes the canonical JSON of plain data straight into a byte buffer as UTF-8, byte for byte what
 * `Buffer.from(canonicalJson(value).json)` holds, or answers UNHANDLED wherever `fastEncode` would (the
 * caller then takes the string path). Building the text as strings left the collector a rope of young
 * strings per record and the writer a flattening and a transcoding of each: a quarter of an audit line's CPU.
 */
export class CanonicalBytes {
  /** The output; replaced by a larger one (its first `pos` bytes copied) when it runs out of room. */
  buf: Buffer;
  pos = 0;

  constructor(size = 8192) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Encodes `value` at `pos`; false (and `pos` where it was) when the value needs the careful encoder. */
  encode(value: unknown): boolean {
    const start = this.pos;
    if (this.value(value, 0)) return true;
    this.pos = start;
    return false;
  }

  /** Any text, as UTF-8. */
  text(text: string): void {
    this.room(3 * text.length);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.pos + bytes + 1024));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** ASCII text without escapes (digits, hex, quoted keys): one byte per character. */
  ascii(text: string): void {
    this.room(text.length);
    this.pos = writeAscii(this.buf, this.pos, text);
  }

  /** Longer text of one-byte characters (a hash's hex digits): copied in one call rather than by a loop. */
  latin1(text: string): void {
    this.room(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
  }

  /** A safe integer's digits, as `String` writes them (-0 as "0"), without making the string. */
  integer(value: number): void {
    this.room(17);
    this.pos = writeInteger(this.buf, this.pos, value);
  }

  private string(text: string): void {
    const n = text.length;
    this.room(n + 2);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 34;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      // Anything JSON escapes, or beyond ASCII: the whole string the way the string path writes it.
      if (c < 0x20 || c > 0x7e || c === 34 || c === 92) {
        this.room(3 * n + 8);
        this.pos += this.buf.write(quote(text), this.pos, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 34;
    this.pos = pos;
  }

  private value(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return true;
      case 'number':
        if (Number.isSafeInteger(value)) this.integer(value);
        else if (Number.isFinite(value)) this.ascii(String(value));
        else return false;
        return true;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return true;
      case 'object': {
        if (value === null) {
          this.ascii('null');
          return true;
        }
        if (depth >= MAX_DEPTH) return false;
        if (Array.isArray(value)) {
          this.room(1);
          this.buf[this.pos++] = 91;
          for (let i = 0; i < value.length; i++) {
            if (i > 0) {
              this.room(1);
              this.buf[this.pos++] = 44;
            }
            const item: unknown = value[i];
            if (item === undefined) this.ascii('null');
            else if (!this.value(item, depth + 1)) return false;
          }
          this.room(1);
          this.buf[this.pos++] = 93;
          return true;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return false;
        if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
        const shape = shapeOf(value);
        if (shape === undefined) return false;
        const { sorted, names } = shape;
        this.room(1);
        this.buf[this.pos++] = 123;
        let first = true;
        for (let i = 0; i < sorted.length; i++) {
          const inner = (value as Record<string, unknown>)[sorted[i] as string];
          if (inner === undefined) continue;
          const name = names[i] as Buffer;
          this.room(name.length + 1);
          const buf = this.buf;
          let pos = this.pos;
          if (!first) buf[pos++] = 44;
          first = false;
          for (let j = 0; j < name.length; j++) buf[pos++] = name[j] as number;
          this.pos = pos;
          if (!this.value(inner, depth + 1)) return false;
        }
        this.room(1);
        this.buf[this.pos++] = 125;
        return true;
      }
      default:
        return false;
    }
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
