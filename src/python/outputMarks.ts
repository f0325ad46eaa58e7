/**
 * The harness's process output (what a component writes straight to fd 1 or 2: os.write, sys.__stdout__, a
 * subprocess it runs, a C library) arrives on stderr, a pipe apart from the answer channel: Node may read a run's
 * answer before the last of that output. The harness therefore ends each run's output with a mark carrying the
 * request's id, `\0SPTRADER_SYNC:<32 hex>\0`, written just before the answer; the session takes the output as the
 * run's once the mark has arrived, so that a late line is neither lost nor shown with the next run (another
 * component's, in a warm worker). This reader splits marks out of the stream, whatever chunks it comes in, and
 * decodes the rest as UTF-8 across chunk boundaries.
 */
const START = Buffer.from('\0SPTRADER_SYNC:', 'latin1');
const ID_LENGTH = 32;
const LENGTH = START.length + ID_LENGTH + 1;
const ID = /^[0-9a-f]{32}$/;
const EMPTY = Buffer.alloc(0);

export interface OutputPiece {
  /** The output with the marks taken out. */
  text: string;
  /** Its size in bytes (what counts towards the output limit). */
  bytes: number;
  /** The request ids whose marks were in it, in order. */
  marks: string[];
}

export class OutputMarks {
  private held: Buffer = EMPTY;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  push(chunk: Buffer): OutputPiece {
    const data = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    this.held = EMPTY;
    const marks: string[] = [];
    const parts: Buffer[] = [];
    let from = 0;
    let end = data.length;
    for (;;) {
      const at = data.indexOf(START, from);
      if (at < 0) break;
      if (at + LENGTH > data.length) {
        // A mark that has not all arrived: kept for the next chunk.
        end = at;
        break;
      }
      const id = data.toString('latin1', at + START.length, at + START.length + ID_LENGTH);
      if (data[at + LENGTH - 1] === 0 && ID.test(id)) {
        parts.push(data.subarray(from, at));
        marks.push(id);
        from = at + LENGTH;
      } else {
        // Not a mark after all: its first byte is output, and the search goes on after it.
        parts.push(data.subarray(from, at + 1));
        from = at + 1;
      }
    }
    if (end === data.length) end = data.length - heldTail(data, from);
    if (end < data.length) this.held = Buffer.from(data.subarray(end));
    parts.push(data.subarray(from, end));
    let bytes = 0;
    let text = '';
    for (const part of parts) {
      bytes += part.length;
      if (part.length > 0) text += this.decoder.decode(part, { stream: true });
    }
    return { text, bytes, marks };
  }

  /** What is held back at the end of the stream (a mark's beginning that never finished), as output. */
  flush(): OutputPiece {
    const rest = this.held;
    this.held = EMPTY;
    const text = this.decoder.decode(rest);
    return { text, bytes: rest.length, marks: [] };
  }
}

/** How many bytes at the end of data (from `from` on) could be the beginning of a mark. */
function heldTail(data: Buffer, from: number): number {
  const longest = Math.min(START.length - 1, data.length - from);
  for (let n = longest; n > 0; n--) if (data.subarray(data.length - n).equals(START.subarray(0, n))) return n;
  return 0;
}
