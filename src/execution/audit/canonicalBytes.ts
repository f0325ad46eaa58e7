/**
 * Canonical JSON (see canonicalJson.ts) written straight into a byte buffer as UTF-8: the audit writer's encoder
 * (auditRecord.ts's LineWriter), with the integer and ASCII writers it shares. Byte for byte what
 * `Buffer.from(canonicalJson(value).json)` holds; anything the string path's fast encoder would not take is left to it.
 */
import { keyText, MAX_DEPTH, quote, SECRET, sortKeys } from './canonicalJson';

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
      // Anything JSON escapes, or beyond ASCII: the whole string the way the string path writes it. Room for six
      // bytes a character: a control character or a lone surrogate is written `\u00XX` (three, the most UTF-8 takes
      // for one, cut the line short wherever the text reached the end of the buffer: `write` stops where it is full).
      if (c < 0x20 || c > 0x7e || c === 34 || c === 92) {
        this.room(6 * n + 2);
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
