/**
 * How a request reaches the harness: one JSON line on its stdin. A replay batch's line is a few hundred KB,
 * and writing it as one fresh string cost more than building it: V8 allocates a string that large outside
 * its young generation, appending "\n" flattens it into another, and the stream encodes it into a third
 * buffer, each of them fresh pages the kernel must fault in (about 1.7 ms for a 250 KB line on this
 * project's 2-core CI machine, 0.8 µs a record). A large line is instead written piece by piece into one
 * buffer kept for the session, its columns' base64 text copied as it is (`RawJson`); the bytes are those
 * of JSON.stringify, the raw members last.
 */
import type { Writable } from 'node:stream';

/** JSON text already serialised, placed in a request line as it is (a batch's columns: batchColumns.ts). */
export class RawJson {
  constructor(readonly parts: readonly string[]) {}
}

/** The request as JSON text in pieces: `body`'s plain members by JSON.stringify, then its RawJson members. */
export function requestParts(body: Readonly<Record<string, unknown>>): string[] {
  const plain: Record<string, unknown> = {};
  const raw: Array<[string, RawJson]> = [];
  for (const [key, value] of Object.entries(body)) {
    if (value instanceof RawJson) raw.push([key, value]);
    else plain[key] = value;
  }
  const head = JSON.stringify(plain);
  if (raw.length === 0) return [head];
  const parts = [head.slice(0, -1)];
  let first = head === '{}';
  for (const [key, value] of raw) {
    parts.push(`${first ? '' : ','}${JSON.stringify(key)}:`, ...value.parts);
    first = false;
  }
  parts.push('}');
  return parts;
}

/** Lines up to this size are written as one string; past it, into the kept buffer. */
const SMALL_LINE_CHARS = 64 * 1024;
/** The kept buffer grows by doubling up to this; a larger line gets a buffer of its own size. */
const MAX_KEPT_BYTES = 64 * 1024 * 1024;

/** Writes request lines to one stream, reusing one buffer for large lines once the stream has taken the last. */
export class RequestLineWriter {
  private buffer: Buffer | undefined;
  /** The kept buffer is still referenced by a write the stream has not finished. */
  private busy = false;

  /** `sent`: called when the stream has taken the line (or failed to). */
  write(stream: Writable, parts: readonly string[], sent?: () => void): void {
    let chars = 1;
    for (const p of parts) chars += p.length;
    if (chars <= SMALL_LINE_CHARS) {
      stream.write(`${parts.join('')}\n`, sent && (() => sent()));
      return;
    }
    let bytes = 1;
    for (const p of parts) bytes += Buffer.byteLength(p);
    let buffer: Buffer;
    if (this.busy)
      buffer = Buffer.allocUnsafe(bytes); // a one-off: the kept one is still being written
    else {
      if (this.buffer === undefined || this.buffer.length < bytes)
        this.buffer = Buffer.allocUnsafe(Math.max(bytes, Math.min(2 * (this.buffer?.length ?? 0), MAX_KEPT_BYTES)));
      buffer = this.buffer;
      this.busy = true;
    }
    let at = 0;
    for (const p of parts) at += buffer.write(p, at);
    buffer[at++] = 0x0a;
    stream.write(buffer.subarray(0, at), () => {
      if (buffer === this.buffer) this.busy = false;
      sent?.();
    });
  }
}
