/**
 * The execution engine's audit log: every command and event as one JSON line, made durable before the
 * order it describes leaves for a broker.
 *
 * Guarantees:
 *  - `append` resolves only after the line is on disk (write + fdatasync, and the directory entry of a
 *    new file synced); an acknowledged line survives a crash of the process or the machine.
 *  - Seq and hash are assigned synchronously, in call order, so concurrent callers get one total order.
 *  - A write or sync failure rejects the affected appends and fails the log for good: the caller must stop
 *    trading rather than trade unrecorded. Nothing is ever dropped silently.
 *  - Secrets are refused before anything is written.
 *
 * Group commit is adaptive: at most one write+fdatasync is in flight; lines appended meanwhile form the
 * next batch, flushed right after it. A lone caller pays one fdatasync per line (about 0.2 ms on this
 * machine, see docs performance §7); many callers share one, with no fixed timer adding latency. Where
 * the system has O_DSYNC the file is opened with it and a batch is one writev that returns once durable:
 * one trip to the thread pool, whose answer waits for the event loop's next turn, instead of one per
 * 64 KiB chunk and another for the fdatasync (a busy engine waits for each of those turns).
 *
 * Past 450 lines on purpose: one writer's state (seq, hash chain, current file, the batch in
 * flight, the failure that stops it for good) is shared by append, group commit, rotation, anchors and
 * close; the record format (auditRecord.ts), canonical JSON, verification (auditVerify.ts) and secret
 * refusal (common/secrets.ts) are already apart.
 */
import { constants as fsConstants, fstatSync, promises as fsp } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { systemClock, type Clock } from '../../common/clock';
import { tempFileDone, tempFileFor } from '../../common/durableFile';
import { sealJson } from '../../common/checksum';
import { StateFileError } from '../../common/stateErrors';
import { canonicalJson } from './canonicalJson';
import { refuseLinkedAuditFolder, refuseSharedAuditFiles } from './auditFiles';
import { auditFileName, LineWriter, utcDay, type AuditFileName, type AuditRecord } from './auditRecord';
import { ANCHOR_FILE, scanAuditDir, type AuditAnchor, type RecoveryReport } from './auditVerify';
import { AuditSecretError } from '../../common/secrets';

export type { AuditRecord } from './auditRecord';
export type { AuditAnchor, AuditProblem, AuditProblemKind, RecoveryReport, VerifyReport } from './auditVerify';
export { tailAudit, verifyAuditDir } from './auditVerify';
export { AuditSecretError, redactSecrets } from '../../common/secrets';

/** The parts of a Node `FileHandle` the log uses; tests substitute failing ones. */
export interface AuditFileHandle {
  /** The log reuses `buffer` once the promise settles: an implementation must not keep it. */
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  /** Appends the buffers in order with one call, when the file can (the same rule about keeping them). */
  writev?(buffers: Uint8Array[]): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  close(): Promise<void>;
  /**
   * True when a write has finished only once its bytes are durable (the file was opened with O_DSYNC):
   * the log then asks no `datasync`, and a batch costs one trip to the thread pool instead of two.
   */
  readonly durableWrites?: boolean;
  /**
   * True when the file has no name any more (it, or its folder, was deleted while the log had it open):
   * lines written to it would be on no disk anyone can read, so the log fails instead of acknowledging them.
   */
  unlinked?(): boolean;
}

export interface AuditFileSystem {
  /** Opens (creating with mode 0o600 if missing) a file for appending. */
  openForAppend(path: string): Promise<AuditFileHandle>;
  /** Makes a newly created directory entry durable. */
  syncDirectory(path: string): Promise<void>;
}

export const nodeAuditFileSystem: AuditFileSystem = {
  async openForAppend(path) {
    const { O_APPEND, O_CREAT, O_DSYNC, O_WRONLY } = fsConstants;
    // Where there is no O_DSYNC (Windows), each batch is written, then flushed.
    const dsync = O_DSYNC !== undefined;
    const handle = await fsp.open(path, dsync ? O_WRONLY | O_APPEND | O_CREAT | O_DSYNC : 'a', 0o600);
    return {
      durableWrites: dsync,
      write: (buffer, offset, length) => handle.write(buffer, offset, length),
      writev: (buffers) => handle.writev(buffers),
      datasync: () => handle.datasync(),
      close: () => handle.close(),
      // One fstat a batch (a few µs beside its ~200 µs durable write).
      unlinked: () => fstatSync(handle.fd).nlink === 0,
    };
  },
  async syncDirectory(path) {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (e: unknown) {
      // Windows cannot open a directory, and NTFS makes the entry durable with the file's own flush.
      if (process.platform === 'win32') return;
      throw e;
    }
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

export interface AuditLogOptions {
  clock?: Clock;
  /** A file is closed and the next one started once it would grow past this. Default 64 MiB. */
  rotateBytes?: number;
  /** Start a new file when the UTC day of `ts` changes. Default true. */
  rotateDaily?: boolean;
  /** Applied to every `data` before the secret check, e.g. `redactSecrets` to redact instead of refuse. */
  redact?: (data: Record<string, unknown>) => Record<string, unknown>;
  /** Where files are opened and synced; tests inject faults here. Default: node:fs. */
  fileSystem?: AuditFileSystem;
  /** Called with every record on disk, in order, while the log is verified on open (one read for both). */
  visit?: (record: AuditRecord) => void;
  /** Points of the log that state files saw on disk; one the log does not reach is a problem in the report. */
  anchors?: readonly AuditAnchor[];
}

export interface AuditLogStats {
  /** Lines made durable by this instance. */
  readonly lines: number;
  /** Write+fdatasync rounds: one per batch and per file the batch touched. */
  readonly batches: number;
  /** fdatasync calls on audit files (directory syncs for new files not counted). */
  readonly fsyncs: number;
  readonly bytes: number;
  readonly largestBatch: number;
}

export type AuditLogState = 'open' | 'failed' | 'closed';

/** Thrown by appends once a write or sync has failed, and by appends to a closed log. */
export class AuditLogFailedError extends Error {
  override readonly name = 'AuditLogFailedError';
  /** The file a write or sync failed on (a machine fault: disk full, I/O error, the file deleted); absent for a closed log. */
  readonly file: string | undefined;
  constructor(message: string, options?: ErrorOptions & { file?: string }) {
    super(message, options);
    this.file = options?.file;
  }
}

export const DEFAULT_ROTATE_BYTES = 64 * 1024 * 1024;
const ANCHOR_INTERVAL_MS = 1000;
/** Lines that start a batch's write without waiting for the end of the event loop's turn (see scheduleFlush). */
const EARLY_FLUSH_LINES = 64;
// new Date(ts).toISOString() only yields a YYYY-MM-DD day up to the end of year 9999.
const MAX_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const DAY_MS = 86_400_000;

/** A file of the log as the appender sees it; its handle is opened by the first flush that writes to it. */
interface Target {
  readonly file: AuditFileName;
  readonly path: string;
  /** Bytes in the file plus bytes assigned to it and not yet written; decides size rotation. */
  size: number;
  /** Whether the file must be created, so its directory entry needs a sync. */
  readonly create: boolean;
  handle?: AuditFileHandle;
  /** Set once later lines go to another file: closed after its last segment is durable. */
  retired: boolean;
  lastSegment?: Segment;
}

interface Segment {
  readonly target: Target;
  /** The segment's lines as bytes, in order: each chunk's first `used` bytes. */
  readonly chunks: Chunk[];
  lines: number;
}

interface Chunk {
  readonly bytes: Buffer;
  used: number;
}

/** Lines are written into chunks of this size (a longer line gets one of its own). */
const CHUNK_BYTES = 64 * 1024;
/** Written chunks kept for the next batches, so that a busy log does not allocate one per batch. */
const SPARE_CHUNKS = 16;

interface Waiter {
  readonly record?: AuditRecord;
  resolve(record: AuditRecord | undefined): void;
  reject(error: Error): void;
}

interface Batch {
  readonly segments: Segment[];
  readonly waiters: Waiter[];
  lines: number;
  /** Seq of the batch's first line. */
  firstSeq?: number;
  /** Seq and line hash of its last line. */
  lastSeq?: number;
  lastHash?: string;
}

interface Encoded {
  readonly type: string;
  readonly typeJson: string;
  readonly data: Record<string, unknown>;
  /** The data's canonical JSON; undefined until `commit`, which encodes plain data straight into the line. */
  readonly dataJson: string | undefined;
}

// A log writes the same few dozen record types over and over: each one's JSON text made once.
const typeJsons = new Map<string, string>();

/** `JSON.stringify(type)`, remembered (a bounded map, cleared when full). */
function typeJsonOf(type: string): string {
  let json = typeJsons.get(type);
  if (json === undefined) {
    json = JSON.stringify(type);
    if (typeJsons.size >= 256) typeJsons.clear();
    typeJsons.set(type, json);
  }
  return json;
}

/** The data's canonical JSON; throws, naming where, for data the log refuses (secrets, values JSON cannot hold). */
function dataJson(type: string, data: Record<string, unknown>): string {
  const { json, secretPaths } = canonicalJson(data);
  if (secretPaths.length > 0) throw new AuditSecretError(type, secretPaths);
  return json;
}

// Two AuditLogs on one directory would fork the hash chain; this catches it within one process.
const openDirectories = new Set<string>();

export class AuditLog {
  private nextSeq: number;
  private prevLineHash: string;
  private current: Target | undefined;
  // End of `current`'s UTC day, so that most appends skip formatting a date.
  private dayEnd = 0;
  private pending: Batch = newBatch();
  private inFlight = false;
  private flushScheduled = false;
  private failure: AuditLogFailedError | undefined;
  // Set when close() starts: later appends are refused rather than left waiting on closed files.
  private closed = false;
  private readonly openTargets = new Set<Target>();
  private readonly lineWriter = new LineWriter();
  private readonly spareChunks: Buffer[] = [];
  private readonly failureListeners: Array<(error: AuditLogFailedError) => void> = [];
  private readonly counters = { lines: 0, batches: 0, fsyncs: 0, bytes: 0, largestBatch: 0 };
  // The last record known to be on disk: what state files anchor to, and what anchor.json says.
  private durable: { seq: number; hash: string };
  private anchorWritten = 0;
  private anchorAt = 0;
  private anchorTimer: NodeJS.Timeout | undefined;
  private anchorWrite: Promise<void> = Promise.resolve();
  // Set when the log was opened without records an anchor saw, or with anchor.json damaged: anchor.json is
  // left as it is, so that every open finds the loss or the damage (not only the first, whose new records
  // would otherwise write an anchor over it: the evidence gone) until recover sets it aside.
  private anchorHeld = false;
  // A new (empty) log's anchor, at seq 0, is written before its first lines (see writeBatch).
  private firstAnchorDue = false;

  private constructor(
    /** Absolute path of the log's directory. */
    readonly dir: string,
    private readonly clock: Clock,
    private readonly rotateBytes: number,
    private readonly rotateDaily: boolean,
    private readonly redact: ((data: Record<string, unknown>) => Record<string, unknown>) | undefined,
    private readonly fs: AuditFileSystem,
    lastSeq: number,
    lastLineHash: string,
    newest: (AuditFileName & { size: number }) | undefined,
  ) {
    this.nextSeq = lastSeq + 1;
    this.prevLineHash = lastLineHash;
    this.durable = { seq: lastSeq, hash: lastLineHash };
    this.anchorWritten = lastSeq;
    if (newest) this.setCurrent(newest, newest.size, false);
  }

  /**
   * Opens the log in `dir` (created with mode 0o700 if missing), cutting off a torn last line left by a
   * crash and verifying the whole chain. A log with problems still opens, so that trading can be recorded
   * while someone looks; show `recovery.problems` loudly when `recovery.verified` is false.
   */
  static async open(dir: string, options: AuditLogOptions = {}): Promise<{ log: AuditLog; recovery: RecoveryReport }> {
    const rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES;
    if (!Number.isSafeInteger(rotateBytes) || rotateBytes < 1) {
      throw new RangeError(`AuditLog.open: rotateBytes must be a whole number of bytes ≥ 1, got ${rotateBytes}`);
    }
    const absolute = resolve(dir);
    if (openDirectories.has(absolute)) {
      throw new Error(
        `The audit log at ${absolute} is already open in this process; share that AuditLog instead (two writers would fork the hash chain).`,
      );
    }
    openDirectories.add(absolute);
    try {
      refuseLinkedAuditFolder(absolute);
      refuseSharedAuditFiles(absolute);
      const fs = options.fileSystem ?? nodeAuditFileSystem;
      const created = await fsp.mkdir(absolute, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
        // mkdir's own words ("EEXIST: file already exists, mkdir …") said neither what is there nor what to do.
        if ((e as NodeJS.ErrnoException).code === 'EEXIST')
          throw new StateFileError(
            absolute,
            'a file is in the place of the audit log folder',
            'Nothing was sent or recorded. Move that file away (look at it first: SPtrader never writes one there), then run the command again',
          );
        throw e;
      });
      if (created !== undefined) await fs.syncDirectory(dirname(created));
      const { report, tail } = await scanAuditDir(absolute, true, {
        ...(options.visit ? { visit: options.visit } : {}),
        anchors: options.anchors ?? [],
      });
      const log = new AuditLog(
        absolute,
        options.clock ?? systemClock,
        rotateBytes,
        options.rotateDaily ?? true,
        options.redact,
        fs,
        tail.lastSeq,
        tail.lastLineHash,
        tail.newestFile,
      );
      log.anchorHeld = report.problems.some(
        (p) => p.kind === 'truncated' || p.kind === 'rolled-back' || p.kind === 'anchor-unreadable',
      );
      // A log without its anchor gets one at once, so that from now on a cut is noticed (and the run says so).
      if (report.anchorMissing) await log.writeAnchor().catch(() => undefined);
      log.firstAnchorDue = tail.lastSeq === 0 && !log.anchorHeld;
      return { log, recovery: report };
    } catch (e: unknown) {
      openDirectories.delete(absolute);
      throw e;
    }
  }

  /**
   * The last record on disk (seq and the sha256 of its line): what a state file records as the point of
   * the log it reflects, so that a log cut short or replaced by an older copy is noticed on open.
   */
  get durableHead(): { readonly seq: number; readonly hash: string } {
    return this.durable;
  }

  /** Seq of the last record appended (durable or not yet); 0 for an empty log. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get state(): AuditLogState {
    return this.closed ? 'closed' : this.failure ? 'failed' : 'open';
  }

  /** Why the log failed, when it has. */
  get error(): Error | undefined {
    return this.failure;
  }

  stats(): AuditLogStats {
    return { ...this.counters };
  }

  /**
   * Appends one record; resolves with it once it is durable. Throws synchronously, writing nothing, when
   * `data` holds a secret-looking key or cannot be written as JSON. Rejects when the log has failed or is closed.
   */
  append(type: string, data: Record<string, unknown>): Promise<AuditRecord> {
    const refusal = this.refusal();
    // Refused data is said first, as a throw, even by a failed log.
    if (refusal) return (this.encode(type, data, true), Promise.reject(refusal));
    // Throws here (not in a promise) for refused data, having written nothing.
    const record = this.commit(this.encode(type, data, false));
    return new Promise<AuditRecord>((resolve, reject) => {
      this.pending.waiters.push({ record, resolve: resolve as (r: AuditRecord | undefined) => void, reject });
      this.scheduleFlush();
    });
  }

  /**
   * `append` for a caller that only waits: resolves, with nothing, once the record is durable, and holds nothing of
   * it until then. `append` keeps the record (its data with it) for its answer: with many orders in flight, every
   * order's SubmitOrder data outlived the young generation while its batch's sync was under way, and was copied.
   */
  appendDurable(type: string, data: Record<string, unknown>): Promise<void> {
    const refusal = this.refusal();
    if (refusal) return (this.encode(type, data, true), Promise.reject(refusal));
    // Throws here (not in a promise) for refused data, having written nothing.
    this.queueLine(this.encode(type, data, false));
    return new Promise<void>((resolve, reject) => {
      this.pending.waiters.push({ resolve: () => resolve(), reject });
      this.scheduleFlush();
    });
  }

  /**
   * Appends one record without waiting for it: for the many events whose durability nobody awaits one
   * by one (`flush` and `close` still cover them, and a failure reaches `onFailure`). Throws
   * synchronously, writing nothing, when `data` is refused (as `append`) or the log has failed or is closed.
   */
  write(type: string, data: Record<string, unknown>): void {
    const refusal = this.refusal();
    if (refusal) {
      this.encode(type, data, true);
      throw refusal;
    }
    this.commit(this.encode(type, data, false));
    this.scheduleFlush();
  }

  /** Calls `listener` once if the log fails (a write or sync error): later records cannot be made durable. */
  onFailure(listener: (error: AuditLogFailedError) => void): void {
    this.failureListeners.push(listener);
  }

  /** Appends several records, all or none: if one is refused, nothing is written. */
  appendMany(
    entries: ReadonlyArray<{ readonly type: string; readonly data: Record<string, unknown> }>,
  ): Promise<AuditRecord[]> {
    const encoded = entries.map((entry) => this.encode(entry.type, entry.data, true));
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return Promise.all(
      encoded.map(
        (e) =>
          new Promise<AuditRecord>((resolve, reject) => {
            const record = this.commit(e);
            this.pending.waiters.push({ record, resolve: resolve as (r: AuditRecord | undefined) => void, reject });
            this.scheduleFlush();
          }),
      ),
    );
  }

  /** Resolves once every record appended so far is durable; rejects if any of them could not be made so. */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.lines === 0 && !this.inFlight) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // The pending batch is written after the one in flight, so waiting for it covers both.
      this.pending.waiters.push({ resolve: () => resolve(), reject });
      this.scheduleFlush();
    });
  }

  /**
   * Makes pending records durable and closes the files. Rejects if pending records could not be written;
   * a log that had already failed just releases its files.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.failure) await this.flush();
    } finally {
      if (this.anchorTimer) clearTimeout(this.anchorTimer);
      this.anchorTimer = undefined;
      try {
        await this.anchorWrite;
        if (this.durable.seq !== this.anchorWritten) await this.writeAnchor();
      } catch {
        // The anchor is a check, not the record: the log itself is complete. verify says if it lags.
      }
      openDirectories.delete(this.dir);
      await this.closeHandles();
    }
  }

  /**
   * anchor.json holds the durable head (seq, hash), so that `verify` and the next open notice a log
   * cut short, emptied or put back to an older copy, which no hash chain reveals by itself. Written at
   * most once a second while records arrive, and at close; a crash leaves it behind the log, never ahead.
   */
  private scheduleAnchor(): void {
    if (this.anchorTimer || this.closed) return;
    const wait = Math.max(0, this.anchorAt + ANCHOR_INTERVAL_MS - Date.now());
    this.anchorTimer = setTimeout(() => {
      this.anchorTimer = undefined;
      this.anchorWrite = this.anchorWrite.then(() => this.writeAnchor()).catch(() => undefined);
    }, wait);
    this.anchorTimer.unref();
  }

  /** Writes anchor.json with the durable head now (see scheduleAnchor). */
  async writeAnchor(): Promise<void> {
    if (this.anchorHeld) return;
    const head = this.durable;
    this.anchorAt = Date.now();
    const file = join(this.dir, ANCHOR_FILE);
    // Marked as being written, so that another open of the folder in this process leaves it alone; a kill
    // before the rename leaves it for the next open to remove (common/statePaths.ts `removeStaleStateTemps`).
    const tmp = tempFileFor(file);
    // With a checksum: a flipped bit in it is the anchor's damage, not a log cut short (auditVerify.ts parseAnchor).
    const text = sealJson(`${JSON.stringify({ version: 1, seq: head.seq, hash: head.hash, at: this.clock.now() })}\n`);
    try {
      const handle = await fsp.open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await fsp.rename(tmp, file);
      this.anchorWritten = head.seq;
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    } finally {
      tempFileDone(tmp);
    }
  }

  private refusal(): Error | undefined {
    if (this.failure) return this.failure;
    if (this.closed)
      return new AuditLogFailedError(
        `The audit log at ${this.dir} is closed; open it again before recording more commands or events.`,
      );
    return undefined;
  }

  /**
   * Checks the record's shape and applies `redact`; with `toJson` also encodes the data (throwing for refused
   * data), else leaves that to `commit`, which writes plain data straight into the line (see LineWriter).
   */
  private encode(type: string, data: Record<string, unknown>, toJson: boolean): Encoded {
    if (typeof type !== 'string' || type === '')
      throw new TypeError(`Audit record type must be a non-empty string, got ${JSON.stringify(type)}`);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new TypeError(
        `Audit record "${type}": data must be an object, got ${Array.isArray(data) ? 'an array' : String(data)}`,
      );
    }
    const written = this.redact ? this.redact(data) : data;
    return {
      type,
      typeJson: typeJsonOf(type),
      data: written,
      dataJson: toJson ? dataJson(type, written) : undefined,
    };
  }

  /** Assigns seq, ts, prev and hash, and queues the line; returns the record. Synchronous: call order is chain order. */
  private commit(e: Encoded): AuditRecord {
    const prev = this.prevLineHash;
    const seq = this.nextSeq;
    const ts = this.queueLine(e);
    return { seq, ts, type: e.type, data: e.data, prev, hash: this.lineWriter.hash };
  }

  /** `commit` without the record: returns the line's ts. */
  private queueLine(e: Encoded): number {
    const ts = this.clock.now();
    if (!Number.isSafeInteger(ts) || ts < 0 || ts > MAX_TS) {
      throw new RangeError(
        `The audit log's clock returned ${ts}; it must give whole milliseconds since 1970 (check the Clock passed to AuditLog.open).`,
      );
    }
    const seq = this.nextSeq;
    const prev = this.prevLineHash;
    const writer = this.lineWriter;
    if (e.dataJson !== undefined) writer.prepare(seq, ts, e.typeJson, e.dataJson, prev);
    else if (!writer.prepareData(seq, ts, e.typeJson, e.data, prev))
      writer.prepare(seq, ts, e.typeJson, dataJson(e.type, e.data), prev);
    const lineBytes = writer.lineBytes;
    const target = this.targetFor(ts, lineBytes);

    const batch = this.pending;
    let segment = batch.segments[batch.segments.length - 1];
    if (segment === undefined || segment.target !== target) {
      segment = { target, chunks: [], lines: 0 };
      batch.segments.push(segment);
      target.lastSegment = segment;
    }
    let chunk = segment.chunks[segment.chunks.length - 1];
    if (chunk === undefined || chunk.bytes.length - chunk.used < lineBytes) {
      chunk = { bytes: this.chunkFor(lineBytes), used: 0 };
      segment.chunks.push(chunk);
    }
    this.prevLineHash = writer.write(chunk.bytes, chunk.used);
    chunk.used += lineBytes;
    this.nextSeq = seq + 1;
    target.size += lineBytes;
    segment.lines++;
    if (batch.lines === 0) batch.firstSeq = seq;
    batch.lines++;
    batch.lastSeq = seq;
    batch.lastHash = this.prevLineHash;
    return ts;
  }

  /** Keeps a written batch's chunks for later lines (only once on disk: a write reads them until then). */
  private recycle(batch: Batch): void {
    for (const segment of batch.segments)
      for (const chunk of segment.chunks)
        if (chunk.bytes.length === CHUNK_BYTES && this.spareChunks.length < SPARE_CHUNKS)
          this.spareChunks.push(chunk.bytes);
  }

  private chunkFor(lineBytes: number): Buffer {
    if (lineBytes > CHUNK_BYTES) return Buffer.allocUnsafe(lineBytes);
    return this.spareChunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
  }

  /** The file this line goes to, starting a new one on a new UTC day or when the current one is full. */
  private targetFor(ts: number, lineBytes: number): Target {
    const current = this.current;
    if (current === undefined) return this.setCurrent(auditFileName(utcDay(ts), 0), 0, true);
    const newDay = this.rotateDaily && ts >= this.dayEnd;
    const full = current.size > 0 && current.size + lineBytes > this.rotateBytes;
    if (!newDay && !full) return current;
    // The day in a file name never goes back, even if the clock does, so name order stays chain order.
    const tsDay = utcDay(ts);
    const day = tsDay > current.file.day ? tsDay : current.file.day;
    current.retired = true;
    return this.setCurrent(auditFileName(day, day === current.file.day ? current.file.index + 1 : 0), 0, true);
  }

  private setCurrent(file: AuditFileName, size: number, create: boolean): Target {
    const target: Target = { file, path: join(this.dir, file.name), size, create, retired: false };
    this.current = target;
    this.dayEnd = Date.parse(`${file.day}T00:00:00.000Z`) + DAY_MS;
    return target;
  }

  private scheduleFlush(): void {
    if (this.inFlight) return;
    // A batch that is already large goes to the disk at once: a turn of the event loop can be long when
    // many orders are in flight (each one's work runs in promise callbacks), and the disk would sit idle
    // until it ended while every order waits for its record. Its fsync then overlaps the rest of the turn.
    if (this.pending.lines >= EARLY_FLUSH_LINES) {
      this.startFlush();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate, not a timer: records appended in the same turn of the event loop join this batch,
    // and nothing waits longer than that turn.
    setImmediate(this.startFlush);
  }

  private readonly startFlush = (): void => {
    this.flushScheduled = false;
    if (this.inFlight || this.failure) return;
    const batch = this.pending;
    if (batch.lines === 0 && batch.waiters.length === 0) return;
    this.pending = newBatch();
    this.inFlight = true;
    void this.writeBatch(batch).then(
      () => {
        this.inFlight = false;
        if (batch.lastSeq !== undefined && batch.lastHash !== undefined) {
          this.durable = { seq: batch.lastSeq, hash: batch.lastHash };
          this.scheduleAnchor();
        }
        this.recycle(batch);
        for (const w of batch.waiters) w.resolve(w.record);
        if (this.pending.lines > 0 || this.pending.waiters.length > 0) this.scheduleFlush();
      },
      (e: unknown) => {
        this.inFlight = false;
        this.fail(e, batch);
      },
    );
  };

  private async writeBatch(batch: Batch): Promise<void> {
    if (this.firstAnchorDue) {
      // A new log's anchor (seq 0) first, once: a kill after its first lines and before the anchor that follows them
      // was read by the next open as anchor.json deleted ("a cut before now cannot be checked"), on the first order
      // of a new state folder. Only written with lines to follow, so a command that reads writes no file.
      this.firstAnchorDue = false;
      await this.writeAnchor().catch(() => undefined);
    }
    for (const segment of batch.segments) {
      const target = segment.target;
      let handle = target.handle;
      if (handle === undefined) {
        handle = await this.fs.openForAppend(target.path);
        target.handle = handle;
        this.openTargets.add(target);
        // A file's lines are only durable once its name is: sync the directory entry of a new file.
        if (target.create) await this.fs.syncDirectory(this.dir);
      }
      // Checked before each batch: a file (or state folder) deleted under a running session would otherwise
      // have the log acknowledge records, and the engine send their orders, into a file no one can read again.
      if (handle.unlinked?.() === true)
        throw new Error(
          `the file was deleted while the log was open (the folder ${this.dir} too, if it is gone): its records from here on would be lost. Put the state folder back, or run \`sptrader recover\``,
        );
      const bytes = await writeChunks(handle, segment.chunks);
      if (handle.durableWrites !== true) await handle.datasync();
      this.counters.fsyncs++;
      this.counters.batches++;
      this.counters.bytes += bytes;
      this.counters.lines += segment.lines;
      if (segment.lines > this.counters.largestBatch) this.counters.largestBatch = segment.lines;
      if (target.retired && target.lastSegment === segment) {
        target.handle = undefined;
        this.openTargets.delete(target);
        await handle.close();
      }
    }
  }

  private fail(cause: unknown, batch: Batch): void {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const paths = [...new Set(batch.segments.map((s) => s.target.path))];
    const files = paths.join(', ');
    this.failure = new AuditLogFailedError(
      `The audit log could not write ${files || this.dir} (${reason}). Records from seq ${firstSeq(batch) ?? '?'} on are not durable, ` +
        `and no further command or event can be recorded: stop trading, fix the disk (space, permissions, device), then reopen the audit log.`,
      { cause, file: paths[0] ?? this.dir },
    );
    const pending = this.pending;
    this.pending = newBatch();
    for (const w of batch.waiters) w.reject(this.failure);
    for (const w of pending.waiters) w.reject(this.failure);
    for (const listener of this.failureListeners) {
      try {
        listener(this.failure);
      } catch {
        // One listener's failure must not keep the others from hearing of the log's.
      }
    }
    void this.closeHandles();
  }

  private async closeHandles(): Promise<void> {
    const targets = [...this.openTargets];
    this.openTargets.clear();
    for (const t of targets) {
      const handle = t.handle;
      t.handle = undefined;
      // Closing is cleanup after the outcome is already decided; a second error here would add nothing.
      if (handle) await handle.close().catch(() => undefined);
    }
  }
}

/** Appends the chunks' used bytes in order: with one writev where the file has it, else chunk by chunk. */
async function writeChunks(handle: AuditFileHandle, chunks: readonly Chunk[]): Promise<number> {
  let total = 0;
  for (const chunk of chunks) total += chunk.used;
  let done = 0;
  if (handle.writev !== undefined && chunks.length > 0) {
    const { bytesWritten } = await handle.writev(chunks.map((c) => c.bytes.subarray(0, c.used)));
    if (!(bytesWritten >= 0)) throw new Error(`writev returned ${bytesWritten} bytes`);
    done = bytesWritten;
  }
  // What a short writev left, or everything where there is no writev.
  let start = 0;
  for (const chunk of chunks) {
    const end = start + chunk.used;
    let offset = Math.max(0, done - start);
    while (offset < chunk.used) {
      const { bytesWritten } = await handle.write(chunk.bytes, offset, chunk.used - offset);
      if (!(bytesWritten > 0)) throw new Error(`write returned ${bytesWritten} bytes`);
      offset += bytesWritten;
      done += bytesWritten;
    }
    start = end;
  }
  return total;
}

function newBatch(): Batch {
  return { segments: [], waiters: [], lines: 0 };
}

function firstSeq(batch: Batch): number | undefined {
  return batch.firstSeq;
}
