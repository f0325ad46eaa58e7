/**
 * Reads the harness's answer channel: newline-separated lines, of which only one that starts with
 * the awaited request's id (`{"id":"<id>"`) is an answer. Anything else — bytes a component or a
 * process it left behind wrote to the descriptor, an answer to an earlier request — is discarded
 * and reported as stray. Reading is linear: each chunk is scanned once, a line is kept as a list of
 * pieces and joined once, and a line past `maxLineBytes` is never kept at all.
 */

export type ChannelEvent =
  | { type: 'answer'; line: string }
  | { type: 'stray'; bytes: number; preview: string }
  | { type: 'answerTooLarge'; bytes: number; limit: number };

const PREVIEW_CHARS = 120;

export class AnswerChannel {
  private pieces: string[] = [];
  private length = 0;
  /** Past the line limit: the rest of this line is counted and dropped. */
  private dropping: { answer: boolean; bytes: number; preview: string } | undefined;
  private expected: { prefix: string; maxLineBytes: number } | undefined;

  constructor(private readonly emit: (event: ChannelEvent) => void) {}

  /** Lines from now on that start with `{"id":"<id>"` answer; at most `maxLineBytes` of one is kept. */
  expect(id: string, maxLineBytes: number): void {
    this.expected = { prefix: `{"id":"${id}"`, maxLineBytes };
  }

  clear(): void {
    this.expected = undefined;
  }

  /** Chunks decoded as latin1 (one character per byte), so lengths are byte counts. */
  push(chunk: string): void {
    let start = 0;
    const limit = this.expected?.maxLineBytes ?? 64 * 1024;
    while (start <= chunk.length) {
      const nl = chunk.indexOf('\n', start);
      const end = nl < 0 ? chunk.length : nl;
      if (end > start) this.take(chunk, start, end, limit);
      if (nl < 0) return;
      this.endLine();
      start = nl + 1;
    }
  }

  private take(chunk: string, start: number, end: number, limit: number): void {
    const n = end - start;
    if (this.dropping) {
      this.dropping.bytes += n;
      return;
    }
    if (this.length + n <= limit) {
      this.pieces.push(start === 0 && end === chunk.length ? chunk : chunk.slice(start, end));
      this.length += n;
      return;
    }
    // Only the head is needed to tell an answer from noise; the rest is never joined.
    const head = (this.pieces.join('') + chunk.slice(start, Math.min(end, start + PREVIEW_CHARS))).slice(
      0,
      PREVIEW_CHARS,
    );
    const prefix = this.expected?.prefix;
    this.dropping = { answer: prefix !== undefined && head.startsWith(prefix), bytes: this.length + n, preview: head };
    this.pieces = [];
    this.length = 0;
  }

  private endLine(): void {
    const dropping = this.dropping;
    if (dropping) {
      this.dropping = undefined;
      if (dropping.answer)
        this.emit({ type: 'answerTooLarge', bytes: dropping.bytes, limit: this.expected?.maxLineBytes ?? 0 });
      else this.emit({ type: 'stray', bytes: dropping.bytes, preview: dropping.preview });
      return;
    }
    if (this.length === 0) return;
    const line = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
    this.pieces = [];
    this.length = 0;
    const prefix = this.expected?.prefix;
    if (prefix !== undefined && line.startsWith(prefix)) this.emit({ type: 'answer', line });
    else this.emit({ type: 'stray', bytes: line.length, preview: line.slice(0, PREVIEW_CHARS) });
  }
}
