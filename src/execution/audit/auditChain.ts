/**
 * The hash chain and the bytes of a batch of audit lines, computed away from the code that assigns them.
 *
 * `AuditLog.commit` fixes each line's seq, ts, type and data in call order; what is left (the record's
 * `hash`, the previous line's sha256 as `prev`, the line's text and the batch's UTF-8 bytes) depends only
 * on those and on the last line of the batch before. `chainBatch` does that work, the same way on the
 * main thread (a small batch, where a hop to another thread would cost more than it saves) and in the
 * worker thread of auditChainWorker.ts (a large one, so the engine's thread spends its time on orders).
 */
import { Worker } from 'node:worker_threads';
import { formatLine, hashInput, sha256Hex } from './auditRecord';

/** One batch as `AuditLog` hands it over: plain arrays and strings, cheap to post to a worker. */
export interface ChainInput {
  /** Seq of the batch's first line; the rest follow one by one. */
  readonly firstSeq: number;
  /** sha256 of the line before the batch (64 zeros before the first line of a log). */
  readonly prev: string;
  /** ts of each line. */
  readonly ts: readonly number[];
  /** JSON of each line's type and canonical JSON of its data, two entries a line. */
  readonly texts: readonly string[];
  /** Lines of each file segment, in order; they add up to the batch's lines. */
  readonly segmentLines: readonly number[];
}

export interface ChainOutput {
  /** The bytes of each segment: its lines, each ended by a newline. */
  readonly segments: Uint8Array[];
  /** Each line's record hash, 64 hex digits a line. */
  readonly hashes: string;
  /** Each line's own sha256 (the next line's prev), 64 hex digits a line. */
  readonly lineHashes: string;
}

/** Length of a line's text, newline included, without its seq, ts, type and data. */
const LINE_OVERHEAD = formatLine(0, 0, '', '', '', '').length - 2 + 2 * 64 + 1;

/** Bytes of the line `chainBatch` writes for these fields; prev and hash are always 64 hex digits. */
export function lineByteLength(seq: number, ts: number, typeBytes: number, dataBytes: number): number {
  return LINE_OVERHEAD + digits(seq) + digits(ts) + typeBytes + dataBytes;
}

/** Decimal digits of a non-negative safe integer, as `String(n).length` without making the string. */
function digits(n: number): number {
  let d = 1;
  for (let limit = 10; n >= limit && d < 16; limit *= 10) d++;
  return d;
}

/**
 * Hashes and formats a batch. `transferable` gives each segment its own ArrayBuffer (a worker hands
 * them to the main thread without a copy); otherwise small segments may share Node's buffer pool.
 */
export function chainBatch(input: ChainInput, transferable = false): ChainOutput {
  const segments: Uint8Array[] = [];
  const hashes: string[] = [];
  const lineHashes: string[] = [];
  let prev = input.prev;
  let line = 0;
  for (const count of input.segmentLines) {
    let text = '';
    for (const end = line + count; line < end; line++) {
      const seq = input.firstSeq + line;
      const ts = input.ts[line] as number;
      const typeJson = input.texts[2 * line] as string;
      const dataJson = input.texts[2 * line + 1] as string;
      const hash = sha256Hex(hashInput(seq, ts, typeJson, dataJson, prev));
      const formatted = formatLine(seq, ts, typeJson, dataJson, prev, hash);
      prev = sha256Hex(formatted);
      hashes.push(hash);
      lineHashes.push(prev);
      text += `${formatted}\n`;
    }
    if (transferable) {
      const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
      bytes.write(text);
      segments.push(bytes);
    } else {
      segments.push(Buffer.from(text));
    }
  }
  return { segments, hashes: hashes.join(''), lineHashes: lineHashes.join('') };
}

/**
 * The worker thread that runs `chainBatch`, one batch at a time. It never keeps the process alive while
 * idle. Any error or exit it did not ask for is reported once through `onDeath`, and the batch waiting
 * on it is rejected: the log that owns it fails rather than write lines nobody hashed.
 */
export class ChainWorker {
  private readonly worker: Worker;
  private waiting: { resolve(output: ChainOutput): void; reject(error: Error): void } | undefined;
  private dead: Error | undefined;
  private ending = false;
  private online = false;

  constructor(
    file: string,
    private readonly onDeath: (error: Error) => void,
  ) {
    this.worker = new Worker(file);
    this.worker.unref();
    this.worker.on('online', () => (this.online = true));
    this.worker.on('message', (output: ChainOutput) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      this.worker.unref();
      waiting?.resolve(output);
    });
    this.worker.on('error', (e: Error) => this.die(new Error(`its hashing thread failed: ${e.message}`, { cause: e })));
    this.worker.on('messageerror', (e: Error) => this.die(e));
    this.worker.on('exit', (code) => this.die(new Error(`its hashing thread exited with code ${code}`)));
  }

  /** Whether the thread has started; until then a batch is cheaper to hash here than to wait for it. */
  get ready(): boolean {
    return this.online && this.dead === undefined;
  }

  hash(input: ChainInput): Promise<ChainOutput> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.waiting) return Promise.reject(new Error('the hashing thread already has a batch'));
    return new Promise<ChainOutput>((resolve, reject) => {
      this.waiting = { resolve, reject };
      // Referenced while a batch is out, so that a process with nothing else to do waits for its reply.
      this.worker.ref();
      this.worker.postMessage(input);
    });
  }

  /** Ends the thread; a batch still waiting is rejected. */
  async terminate(): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    this.rejectWaiting(new Error("the audit log's hashing thread was stopped"));
    await this.worker.terminate();
  }

  private die(error: Error): void {
    if (this.ending || this.dead) return;
    this.dead = error;
    this.rejectWaiting(error);
    this.onDeath(error);
    void this.worker.terminate();
  }

  private rejectWaiting(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    this.worker.unref();
    waiting?.reject(error);
  }
}
