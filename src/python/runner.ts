/**
 * Runs order components in the user's Python through the harness in `python/sptrader_harness`.
 * A `PythonSession` is one live interpreter speaking JSON lines; cold runs use a session once,
 * the `PythonWorker` keeps one alive (the harness recompiles a component when its file changes).
 *
 * Every request carries a fresh random id and only a line that starts with it is taken as the answer
 * (`channel.ts`); the harness keeps the channel away from component code and its children, kills the
 * processes a run left behind before answering, and holds answers and metadata to the limits below.
 * A run ends at its timeout whatever its children do: the session waits for the answer, the timeout
 * or the harness's exit, never for its pipes to close, and then kills the whole tree (`processTree.ts`).
 * This file stays whole: the session's request, answer and failure paths share its state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { monotonicMs } from '../common/clock';
import { AnswerChannel, type ChannelEvent } from './channel';
import { PythonRunError } from './errors';
import type { ResolvedInterpreter } from './interpreter';
import { killLeftovers, killProcessTree } from './processTree';

export { PythonRunError } from './errors';

export interface ComponentError {
  /**
   * Stable, from the harness: e.g. SYNTAX_ERROR, IMPORT_ERROR, CONSTRUCTOR_ERROR, COMPONENT_ERROR (an
   * exception, in generate_order/execute or in validate_order), COMPONENT_EXIT, ORDER_VETOED (the
   * component's own validate_order stopped its order: `message` has its reason, `file`/`line` the
   * return that did it), ANSWER_TOO_LARGE, TIMEOUT. Every one means nothing was sent.
   */
  code: string;
  message: string;
  file?: string;
  line?: number;
  /** 1-based column on `line`, as Python counts it (a SyntaxError's offset): the column the message names. */
  column?: number;
  /** Where the problem ends (SyntaxError end_lineno / end_offset, Python 3.10+): `endColumn` is 1-based and exclusive. */
  endLine?: number;
  endColumn?: number;
  traceback?: string;
}

export interface RunnerOptions {
  interpreter: ResolvedInterpreter;
  /** Folder put first on PYTHONPATH; default found from the component's location. */
  packageRoot?: string;
  extraPythonPath?: string[];
  env?: NodeJS.ProcessEnv;
  testMode?: boolean;
  brokerProfile?: string;
  timeoutMs?: number;
  /** What a run may print (print(), sys.stdout/stderr and fd 1/2 together); default 1 MiB. */
  outputLimitBytes?: number;
  /** What `generate_order`/`execute` may return, in bytes of JSON (each item of a batch); default 256 KiB. */
  maxAnswerBytes?: number;
  /** What the component's `__metadata__` may hold, in bytes of JSON; default 64 KiB. */
  maxMetadataBytes?: number;
  /** How deeply an answer or `__metadata__` may nest lists and dicts; default 64. */
  maxNestingDepth?: number;
  /** The folder holding `sptrader_harness`; default found next to the code. */
  libraryDir?: string;
  /** Where Python keeps compiled bytecode (PYTHONPYCACHEPREFIX); default a folder in the OS temp dir. */
  bytecodeCacheDir?: string;
}

export const DEFAULT_RUNNER_LIMITS = {
  timeoutMs: 30_000,
  outputLimitBytes: 1024 * 1024,
  maxAnswerBytes: 256 * 1024,
  maxMetadataBytes: 64 * 1024,
  maxNestingDepth: 64,
} as const;

/** A batch's results together may be this many times `maxAnswerBytes` (BATCH_ANSWER_FACTOR in the harness). */
const BATCH_ANSWER_FACTOR = 64;
/** Room in an answer line for what is not the order or metadata: names, timings, error messages, tracebacks. */
const ANSWER_OVERHEAD_BYTES = 256 * 1024;

/** How to allow more, appended to the message of an error past a limit. */
const LIMIT_HINTS: Record<string, string> = {
  ANSWER_TOO_LARGE:
    'To allow more, raise maxAnswerBytes (CLI --max-answer-bytes, setting sptrader.python.maxAnswerBytes).',
  ANSWER_TOO_DEEP:
    'To allow more, raise maxNestingDepth (CLI --max-nesting-depth, setting sptrader.python.maxNestingDepth).',
  METADATA_TOO_LARGE:
    'To allow more, raise maxMetadataBytes (CLI --max-metadata-bytes, setting sptrader.python.maxMetadataBytes).',
  METADATA_TOO_DEEP:
    'To allow more, raise maxNestingDepth (CLI --max-nesting-depth, setting sptrader.python.maxNestingDepth).',
  OUTPUT_LIMIT_EXCEEDED: 'To allow more, raise outputLimitBytes (setting sptrader.python.outputLimitBytes).',
  TIMEOUT: 'To allow longer, raise timeoutMs (CLI --timeout SECONDS, setting sptrader.python.timeoutSeconds).',
};

function withHint(code: string, message: string): string {
  const hint = LIMIT_HINTS[code];
  return hint && !message.includes(hint) ? `${message}. ${hint}` : message;
}

export interface ComponentRunRequest {
  file: string;
  className?: string;
  parameters?: Record<string, unknown>;
  marketData: Record<string, unknown>;
  signal?: Record<string, unknown> | null;
}

export interface ComponentRunResult {
  ok: boolean;
  /** What the component returned (JSON-safe); null when it returned None. */
  output: unknown;
  className?: string;
  entryPoint?: 'generate_order' | 'execute';
  metadata: Record<string, unknown> | null;
  stdout: string;
  stderr: string;
  componentMs?: number;
  totalMs: number;
  error?: ComponentError;
  /**
   * The `return` statement of generate_order/execute that produced `output` (the harness's returns.py), so a
   * problem SPtrader finds in the order can be shown there; when it could not be told which return (Python
   * < 3.12, several returns that could have), the function's `def` line with `exact: false`.
   */
  returnedAt?: { file: string; line: number; exact?: false };
  /** What the session noticed besides the answer: stray lines on the answer channel, processes killed after the run. */
  diagnostics?: string[];
}

/** One component over many market_data dicts in one round trip (replay); see `run_batch` in the harness. */
export interface ComponentBatchRequest {
  file: string;
  className?: string;
  parameters?: Record<string, unknown>;
  signal?: Record<string, unknown> | null;
  /** Keys every item shares. */
  common: Record<string, unknown>;
  /** Item i is `common` updated with `keys` zipped with `rows[i]`. */
  keys: string[];
  rows: unknown[][];
  /** When given, item i also gets `market_data[indexKey] = indexStart + i` (a counter that costs no bytes). */
  indexKey?: string;
  indexStart?: number;
  /** Stop after the first item that returned an order, so the caller acts on it before the next item runs. */
  stopOnOrder?: boolean;
  /** Keep the component instance across batches under this key (same file, class and parameters). */
  instance?: string;
  /**
   * A value that depends on what the component's orders did (replay's `capital`), asked for only when read
   * (see python/sptrader_harness/lazystate.py): `values[min(i, values.length - 1)]` is item i's while i <
   * `until` and the component has returned no order in this batch; past that, reading it calls `onSync`
   * with the item's index and the items before it not yet reported, and the component waits for its answer
   * (the values from that item on, in the same form). Items reported there are not in the batch's result.
   */
  state?: {
    key: string;
    values: unknown[];
    until: number;
    onSync: (sync: ComponentStateSync) => Promise<ComponentStateColumn>;
  };
}

export interface ComponentStateColumn {
  values: unknown[];
  until: number;
}

export interface ComponentStateSync {
  index: number;
  items: ComponentBatchItem[];
}

export type ComponentBatchItem =
  { index: number; ok: true; output: unknown } | { index: number; ok: false; error: ComponentError };

export interface ComponentBatchResult {
  /** False when the component could not be loaded or constructed, or printed too much: no item's result counts. */
  ok: boolean;
  /** Items run (all of them unless `stopOnOrder` stopped early). */
  done: number;
  /** Only items that returned something or raised; an item that returned None has no entry. */
  items: ComponentBatchItem[];
  className?: string;
  entryPoint?: 'generate_order' | 'execute';
  metadata: Record<string, unknown> | null;
  stdout: string;
  stderr: string;
  componentMs?: number;
  totalMs: number;
  error?: ComponentError;
  diagnostics?: string[];
  /** State requests answered during the batch (see ComponentBatchRequest.state). */
  syncs?: number;
}

export interface ComponentInfo {
  classes: Array<{ name: string; line: number; bases: string[]; entryPoint: 'generate_order' | 'execute' | null }>;
  metadata: Record<string, unknown> | null;
  metadataError?: string;
}

const DATA_VARIABLES = [
  'DATA_SOURCE',
  'TEST_DATASET',
  'CANDLE_DATA_FILE',
  'LIVE_SYMBOL',
  'LIVE_TIMEFRAME',
  'LIVE_FROM',
  'LIVE_TO',
];

const ErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  file: z.string().nullish(),
  line: z.number().nullish(),
  column: z.number().int().positive().nullish(),
  end_line: z.number().int().positive().nullish(),
  end_column: z.number().int().positive().nullish(),
  traceback: z.string().nullish(),
});
const ResponseSchema = z.looseObject({
  id: z.string(),
  ok: z.boolean(),
  error: ErrorSchema.nullish(),
  killed_count: z.number().int().nonnegative().nullish(),
  killed_processes: z.array(z.number().int()).nullish(),
  recycle: z.boolean().nullish(),
});
const RunResponseSchema = ResponseSchema.extend({
  result: z.unknown(),
  class_name: z.string().nullish(),
  entry_point: z.enum(['generate_order', 'execute']).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  component_ms: z.number().nullish(),
  return_line: z.number().int().positive().nullish(),
  return_file: z.string().nullish(),
  return_exact: z.boolean().nullish(),
});
const BatchResultsSchema = z
  .array(
    z.union([
      z.object({ index: z.number().int(), ok: z.literal(true), result: z.unknown() }),
      z.object({ index: z.number().int(), ok: z.literal(false), error: ErrorSchema }),
    ]),
  )
  .default([]);
const SyncRequestSchema = z.object({
  id: z.string(),
  sync: z.number().int().nonnegative(),
  results: BatchResultsSchema,
});
const BatchResponseSchema = ResponseSchema.extend({
  class_name: z.string().nullish(),
  entry_point: z.enum(['generate_order', 'execute']).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  done: z.number().int().nonnegative().default(0),
  results: BatchResultsSchema,
  syncs: z.number().int().nonnegative().nullish(),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  component_ms: z.number().nullish(),
});
const InspectResponseSchema = ResponseSchema.extend({
  classes: z
    .array(
      z.object({
        name: z.string(),
        line: z.number(),
        bases: z.array(z.string()),
        entry_point: z.enum(['generate_order', 'execute']).nullable(),
      }),
    )
    .default([]),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  metadata_error: z.string().nullish(),
});

/** If the path has a `core` folder, its parent (SPtraderB's layout); else above the top package; else the file's folder. */
export function findPackageRoot(file: string): string {
  const abs = resolve(file);
  const parts = abs.split(/[\\/]/);
  const core = parts.lastIndexOf('core', parts.length - 2);
  if (core > 0) return parts.slice(0, core).join('/') || '/';
  let dir = dirname(abs);
  while (existsSync(join(dir, '__init__.py')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

let libraryDirCache: string | undefined;
function defaultLibraryDir(): string {
  if (libraryDirCache) return libraryDirCache;
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'python');
    if (existsSync(join(candidate, 'sptrader_harness', 'server.py'))) return (libraryDirCache = candidate);
    const parent = dirname(dir);
    if (parent === dir)
      throw new PythonRunError(
        'INTERNAL',
        `the bundled Python library (python/sptrader_harness) was not found above ${__dirname}; reinstall the extension`,
      );
    dir = parent;
  }
}

/** Checks done in Node so that obvious mistakes never cost a Python start. */
function precheck(file: string): ComponentError | undefined {
  if (!file.endsWith('.py'))
    return {
      code: 'NOT_PYTHON_FILE',
      message: `${file} is not a Python file (.py); open or pass an order component`,
      file,
    };
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) return { code: 'FILE_NOT_FOUND', message: `${file} does not exist; check the path`, file };
  return undefined;
}

function toComponentError(e: z.infer<typeof ErrorSchema>): ComponentError {
  const error: ComponentError = {
    code: e.code,
    message: withHint(e.code, e.message),
    file: e.file ?? undefined,
    line: e.line ?? undefined,
  };
  if (e.column != null) {
    error.column = e.column;
    if (e.end_line != null && e.end_column != null) {
      error.endLine = e.end_line;
      error.endColumn = e.end_column;
    }
  }
  error.traceback = e.traceback ?? undefined;
  return error;
}

function batchItem(i: z.infer<typeof BatchResultsSchema>[number]): ComponentBatchItem {
  return i.ok
    ? { index: i.index, ok: true, output: i.result ?? null }
    : { index: i.index, ok: false, error: toComponentError(i.error) };
}

interface Pending {
  id: string;
  resolve: (line: Record<string, unknown>) => void;
  reject: (e: PythonRunError) => void;
  /** A line with this id that is not the answer yet (a run_batch state request): handled, the answer still awaited. */
  interim?: (line: Record<string, unknown>) => void;
}

export type SessionMode = 'once' | 'worker';

/** 128 random bits as hex, from a pool refilled 256 ids at a time: one randomBytes(16) costs ~12 µs, most of a warm ping. */
let idPool = Buffer.alloc(0);
let idOffset = 0;
function requestId(): string {
  if (idOffset + 16 > idPool.length) {
    idPool = randomBytes(16 * 256);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + 16);
  idOffset += 16;
  return id;
}

/** Stray lines and killed processes noted per run; a run keeps this many notes. */
const MAX_NOTES = 10;
/** After the harness exits, how long its last answer and output may take to arrive. */
const EXIT_GRACE_MS = 100;

export class PythonSession {
  private readonly child: ChildProcess;
  private readonly channel: AnswerChannel;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private outputBytes = 0;
  private processOutput = '';
  private notes: string[] = [];
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private finished = false;
  private markFinished: () => void = () => undefined;
  private readonly finishedPromise = new Promise<void>((resolve) => (this.markFinished = resolve));
  private failure: PythonRunError | undefined;
  private closing = false;
  /** In the harness's environment and so in every process it starts: how leftovers are found once parent links are gone. */
  private readonly marker = `SPTRADER_RUN_TREE=${randomBytes(12).toString('hex')}`;
  private readonly limits: Required<
    Pick<RunnerOptions, 'timeoutMs' | 'outputLimitBytes' | 'maxAnswerBytes' | 'maxMetadataBytes' | 'maxNestingDepth'>
  >;
  readonly packageRoot: string;

  private constructor(
    private readonly options: RunnerOptions,
    packageRoot: string,
    mode: SessionMode,
  ) {
    this.packageRoot = packageRoot;
    this.limits = {
      timeoutMs: options.timeoutMs ?? DEFAULT_RUNNER_LIMITS.timeoutMs,
      outputLimitBytes: options.outputLimitBytes ?? DEFAULT_RUNNER_LIMITS.outputLimitBytes,
      maxAnswerBytes: options.maxAnswerBytes ?? DEFAULT_RUNNER_LIMITS.maxAnswerBytes,
      maxMetadataBytes: options.maxMetadataBytes ?? DEFAULT_RUNNER_LIMITS.maxMetadataBytes,
      maxNestingDepth: options.maxNestingDepth ?? DEFAULT_RUNNER_LIMITS.maxNestingDepth,
    };
    for (const [name, value] of Object.entries(this.limits))
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new PythonRunError('INVALID_OPTION', `${name} must be a positive whole number, not ${value}`);
    const libraryDir = options.libraryDir ?? defaultLibraryDir();
    const base = options.env ?? process.env;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
    const path = [
      packageRoot,
      ...(options.extraPythonPath ?? []),
      libraryDir,
      ...(base['PYTHONPATH'] ? [base['PYTHONPATH']] : []),
    ];
    env['PYTHONPATH'] = [...new Set(path)].join(delimiter);
    if (options.testMode ?? true) env['TEST_MODE'] = 'true';
    if (options.brokerProfile) env['BROKER_PROFILE'] = options.brokerProfile;
    for (const name of DATA_VARIABLES) if (base[name] !== undefined) env[name] = base[name];
    // Bytecode goes to a private cache, never into the user's folders, so a PYTHONDONTWRITEBYTECODE
    // set to avoid that litter is honoured while cold runs stop recompiling the harness (~4 ms).
    env['PYTHONPYCACHEPREFIX'] =
      options.bytecodeCacheDir ?? join(tmpdir(), `sptrader-pycache-${process.getuid?.() ?? 'user'}`);
    delete env['PYTHONDONTWRITEBYTECODE'];
    env['PYTHONUNBUFFERED'] = '1';
    env['PYTHONIOENCODING'] = 'utf-8';
    const eq = this.marker.indexOf('=');
    env[this.marker.slice(0, eq)] = this.marker.slice(eq + 1);
    const args = ['-c', 'from sptrader_harness.server import main; main()', ...(mode === 'worker' ? ['--worker'] : [])];
    this.child = spawn(options.interpreter.executable, args, {
      cwd: packageRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group (and session): the tree can be killed as one, and a terminal's Ctrl+C is ours to handle.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.channel = new AnswerChannel((event) => this.onChannel(event));
    // latin1 maps each byte to one character: lengths are byte counts, and stray bytes cannot break decoding.
    this.child.stdout?.setEncoding('latin1');
    this.child.stdout?.on('data', (chunk: string) => this.channel.push(chunk));
    // fd 1 of the component is pointed at stderr by the harness; both count towards the cap.
    this.child.stderr?.on('data', (chunk: Buffer) => this.onOutput(chunk));
    this.child.on('error', (e) =>
      this.fail(
        new PythonRunError('INTERPRETER_NOT_FOUND', `could not start ${options.interpreter.executable}: ${e.message}`),
      ),
    );
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.stdin?.on('error', () => undefined);
  }

  static async start(
    options: RunnerOptions,
    componentFile?: string,
    mode: SessionMode = 'once',
  ): Promise<PythonSession> {
    const root = options.packageRoot ?? (componentFile ? findPackageRoot(componentFile) : process.cwd());
    return Promise.resolve(new PythonSession(options, root, mode));
  }

  get alive(): boolean {
    return this.exited === undefined && this.failure === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private stderrTail(): string {
    const tail = this.processOutput.trim().slice(-800);
    return tail ? `\nLast output:\n${tail}` : '';
  }

  private note(text: string): void {
    if (this.notes.length < MAX_NOTES) this.notes.push(text);
  }

  /** The notes gathered since the last call, for a result. */
  private takeNotes(): string[] | undefined {
    if (this.notes.length === 0) return undefined;
    const notes = this.notes;
    this.notes = [];
    return notes;
  }

  private countOutput(bytes: number): void {
    this.outputBytes += bytes;
    const limit = this.limits.outputLimitBytes;
    if (this.outputBytes > limit && !this.failure) {
      this.failure = new PythonRunError(
        'OUTPUT_LIMIT_EXCEEDED',
        withHint(
          'OUTPUT_LIMIT_EXCEEDED',
          `the component wrote more than ${limit} bytes to its output; the run was stopped and nothing was sent`,
        ),
      );
      this.kill();
      this.fail(this.failure);
    }
  }

  private onOutput(chunk: Buffer): void {
    if (this.processOutput.length < 64 * 1024)
      this.processOutput += new TextDecoder('utf-8', { fatal: false }).decode(chunk);
    this.countOutput(chunk.length);
  }

  private onChannel(event: ChannelEvent): void {
    if (event.type === 'stray') {
      this.note(
        `discarded ${event.bytes} bytes on the harness's answer channel that were not the answer to this run: ${JSON.stringify(event.preview)}`,
      );
      this.countOutput(event.bytes);
      return;
    }
    const p = this.pending;
    if (!p) return;
    if (event.type === 'answer' && p.interim && event.line.startsWith(`{"id":"${p.id}","sync":`)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(event.line);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed === 'object' && parsed !== null && (parsed as Record<string, unknown>)['id'] === p.id) {
        p.interim(parsed as Record<string, unknown>);
        return;
      }
    }
    this.pending = undefined;
    this.channel.clear();
    if (event.type === 'answerTooLarge') {
      this.failure ??= new PythonRunError(
        'ANSWER_TOO_LARGE',
        `the harness's answer was longer than ${event.limit} bytes; the run was stopped and nothing was sent. ${LIMIT_HINTS['ANSWER_TOO_LARGE']}`,
      );
      this.kill();
      p.reject(this.failure);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.line);
    } catch {
      p.reject(
        new PythonRunError('PROTOCOL_ERROR', `the harness sent a malformed answer: ${event.line.slice(0, 200)}`),
      );
      return;
    }
    const record = parsed as Record<string, unknown>;
    // The prefix matched; the parsed id must too (a line can start with the prefix and carry a second "id").
    if (typeof parsed !== 'object' || parsed === null || record['id'] !== p.id) {
      p.reject(
        new PythonRunError('PROTOCOL_ERROR', `the harness's answer carried the wrong id: ${event.line.slice(0, 200)}`),
      );
      return;
    }
    p.resolve(record);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = { code, signal };
    // The last answer and output may still be in the pipes: give them a moment, but never wait for the
    // pipes to close (a process the component left behind may hold them open for its whole life).
    const stdout = this.child.stdout;
    const stderr = this.child.stderr;
    let waiting = 0;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.finish();
    };
    const timer = setTimeout(finish, EXIT_GRACE_MS);
    for (const stream of [stdout, stderr]) {
      if (!stream || stream.readableEnded || stream.destroyed) continue;
      waiting++;
      stream.once('end', () => {
        if (--waiting === 0) finish();
      });
    }
    if (waiting === 0) finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.markFinished();
    const exited = this.exited ?? { code: null, signal: null };
    // Clean only when we asked it to close AND it ended by itself: a harness killed by a signal (its own
    // os.kill, the OOM killer) never got to end its runs' processes, whatever state we were in.
    const clean =
      this.closing &&
      this.failure === undefined &&
      this.pending === undefined &&
      exited.signal === null &&
      exited.code === 0;
    this.fail(
      this.failure ??
        new PythonRunError(
          'PROCESS_EXITED',
          `the Python process exited with ${exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`} before returning a result; did the component end its own process (a signal, os.abort())? Nothing was sent.${this.stderrTail()}`,
        ),
    );
    // Whatever is left of its tree goes with it, and no pipe held by a leftover keeps Node waiting. After a
    // clean close the harness has already ended its runs' processes: only its group is swept, without a /proc walk.
    const pid = this.child.pid;
    if (pid !== undefined) {
      if (clean) {
        if (process.platform !== 'win32') {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // The group is empty.
          }
        }
      } else killLeftovers(pid, this.marker);
    }
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }

  private fail(e: PythonRunError): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = undefined;
    this.channel.clear();
    p?.reject(this.failure);
  }

  private kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    try {
      killProcessTree(pid);
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** The longest answer line a request may bring: its limits, the output it may carry (escaped up to 6×), and room for the rest. */
  private maxLineBytes(op: string, rows: number): number {
    const l = this.limits;
    if (op === 'ping') return 64 * 1024;
    if (op === 'inspect') return l.maxMetadataBytes + 4 * 1024 * 1024;
    const answers = op === 'run_batch' ? BATCH_ANSWER_FACTOR * l.maxAnswerBytes + rows * 64 : l.maxAnswerBytes;
    return answers + l.maxMetadataBytes + 6 * l.outputLimitBytes + ANSWER_OVERHEAD_BYTES;
  }

  /** The limits a request tells the harness. */
  private wireLimits(): Record<string, number> {
    return {
      answer_bytes: this.limits.maxAnswerBytes,
      metadata_bytes: this.limits.maxMetadataBytes,
      depth: this.limits.maxNestingDepth,
    };
  }

  /** Sends one request and waits for its answer; requests are served one at a time. */
  private request(
    body: Record<string, unknown>,
    timeoutMs: number,
    rows = 0,
    interim?: (id: string, line: Record<string, unknown>) => void,
  ): Promise<Record<string, unknown>> {
    const run = async (): Promise<Record<string, unknown>> => {
      if (this.failure) throw this.failure;
      // The output cap is per request: a long-lived worker may print a little on every run.
      this.outputBytes = 0;
      // Unpredictable and never reused: nothing but the harness serving this request can start a line with it.
      const id = requestId();
      this.channel.expect(id, this.maxLineBytes(String(body['op']), rows));
      const answer = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          this.failure ??= new PythonRunError(
            'TIMEOUT',
            withHint(
              'TIMEOUT',
              `the component did not return within ${timeoutMs / 1000} s; its process tree was stopped and nothing was sent`,
            ),
          );
          // The run ends now; the tree is killed right after, before any other callback runs.
          this.fail(this.failure);
          this.kill();
        }, timeoutMs);
        this.pending = {
          id,
          resolve: (v) => {
            clearTimeout(timer);
            resolvePromise(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
          ...(interim ? { interim: (line: Record<string, unknown>) => interim(id, line) } : {}),
        };
        this.child.stdin?.write(`${JSON.stringify({ ...body, id })}\n`);
      });
      this.afterAnswer(answer);
      return answer;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Notes the processes the harness killed after a run, and ends a worker that could not clean up after itself. */
  private afterAnswer(answer: Record<string, unknown>): void {
    const count = answer['killed_count'];
    if (typeof count === 'number' && count > 0) {
      const pids = Array.isArray(answer['killed_processes']) ? answer['killed_processes'].join(', ') : '';
      this.note(
        `killed ${count} process${count === 1 ? '' : 'es'} the component left running (${pids}); processes a component starts end with its run`,
      );
    }
    if (answer['recycle'] === true) {
      this.failure ??= new PythonRunError(
        'WORKER_RECYCLED',
        'the worker was ended with the processes its last run left running; the next run starts a new one',
      );
      this.kill();
    }
  }

  async ping(): Promise<{ python: number[]; executable: string }> {
    const r = await this.request({ op: 'ping' }, 10_000);
    return { python: r['python'] as number[], executable: String(r['executable']) };
  }

  async inspect(file: string): Promise<ComponentInfo> {
    const bad = precheck(file);
    if (bad) throw new PythonRunError(bad.code, bad.message, bad.file);
    const raw = await this.request({ op: 'inspect', file, limits: this.wireLimits() }, this.limits.timeoutMs);
    const r = InspectResponseSchema.safeParse(raw);
    if (!r.success)
      throw new PythonRunError('PROTOCOL_ERROR', `unexpected inspect answer from the harness: ${r.error.message}`);
    if (!r.data.ok) {
      const e = r.data.error;
      const code = e?.code ?? 'PROTOCOL_ERROR';
      throw new PythonRunError(
        code,
        withHint(code, e?.message ?? 'inspect failed'),
        e?.file ?? file,
        e?.line ?? undefined,
        {
          column: e?.column ?? undefined,
          endLine: e?.end_line ?? undefined,
          endColumn: e?.end_column ?? undefined,
        },
      );
    }
    return {
      classes: r.data.classes.map((c) => ({ name: c.name, line: c.line, bases: c.bases, entryPoint: c.entry_point })),
      metadata: r.data.metadata ?? null,
      metadataError: r.data.metadata_error ?? undefined,
    };
  }

  /** What arrived outside the answer since the last run: fd 1/2 output, then the session's notes as `[sptrader]` lines. */
  private takeDirect(): { direct: string; diagnostics: string[] | undefined } {
    const direct = this.processOutput;
    this.processOutput = '';
    const diagnostics = this.takeNotes();
    const notes = diagnostics ? diagnostics.map((n) => `[sptrader] ${n}\n`).join('') : '';
    return { direct: direct + (direct && notes && !direct.endsWith('\n') ? '\n' : '') + notes, diagnostics };
  }

  async run(req: ComponentRunRequest): Promise<ComponentRunResult> {
    const started = monotonicMs();
    const done = (partial: Omit<ComponentRunResult, 'totalMs'>): ComponentRunResult => ({
      ...partial,
      totalMs: monotonicMs() - started,
    });
    const bad = precheck(req.file);
    if (bad) return done({ ok: false, output: null, metadata: null, stdout: '', stderr: '', error: bad });
    let raw: Record<string, unknown>;
    try {
      raw = await this.request(
        {
          op: 'run',
          file: req.file,
          class_name: req.className ?? null,
          parameters: req.parameters ?? {},
          market_data: req.marketData,
          signal: req.signal ?? null,
          output_limit: this.limits.outputLimitBytes,
          limits: this.wireLimits(),
        },
        this.limits.timeoutMs,
      );
    } catch (e) {
      const err = e instanceof PythonRunError ? e : new PythonRunError('PROTOCOL_ERROR', String(e));
      const { direct, diagnostics } = this.takeDirect();
      return done({
        ok: false,
        output: null,
        metadata: null,
        stdout: '',
        stderr: direct,
        error: { code: err.code, message: err.message, file: req.file },
        ...(diagnostics ? { diagnostics } : {}),
      });
    }
    // Output the component wrote straight to fd 1/2 arrives on stderr; show it with the run.
    const { direct, diagnostics } = this.takeDirect();
    const r = RunResponseSchema.safeParse(raw);
    if (!r.success)
      return done({
        ok: false,
        output: null,
        metadata: null,
        stdout: '',
        stderr: direct,
        error: { code: 'PROTOCOL_ERROR', message: `unexpected answer from the harness: ${r.error.message}` },
        ...(diagnostics ? { diagnostics } : {}),
      });
    const d = r.data;
    return done({
      ok: d.ok,
      output: d.ok ? (d.result ?? null) : null,
      className: d.class_name ?? undefined,
      entryPoint: d.entry_point ?? undefined,
      metadata: d.metadata ?? null,
      stdout: d.stdout,
      stderr: d.stderr + direct,
      componentMs: d.component_ms ?? undefined,
      error: d.error ? toComponentError(d.error) : undefined,
      ...(d.ok && d.return_line != null
        ? {
            returnedAt: {
              file: d.return_file ?? req.file,
              line: d.return_line,
              ...(d.return_exact === false ? { exact: false as const } : {}),
            },
          }
        : {}),
      ...(diagnostics ? { diagnostics } : {}),
    });
  }

  async runBatch(req: ComponentBatchRequest): Promise<ComponentBatchResult> {
    const started = monotonicMs();
    const done = (partial: Omit<ComponentBatchResult, 'totalMs'>): ComponentBatchResult => ({
      ...partial,
      totalMs: monotonicMs() - started,
    });
    const failed = (error: ComponentError, stderr = '', diagnostics?: string[]): ComponentBatchResult =>
      done({
        ok: false,
        done: 0,
        items: [],
        metadata: null,
        stdout: '',
        stderr,
        error,
        ...(diagnostics ? { diagnostics } : {}),
      });
    const bad = precheck(req.file);
    if (bad) return failed(bad);
    let raw: Record<string, unknown>;
    // A state request's handler failing (the caller's own error) ends the batch (the harness is told to
    // abort) and is thrown from here once the harness has answered.
    let syncFailure: { error: unknown } | undefined;
    const state = req.state;
    const interim = state
      ? (id: string, line: Record<string, unknown>): void => {
          const reply = (body: Record<string, unknown>): void => {
            if (!this.failure) this.child.stdin?.write(`${JSON.stringify({ op: 'sync', id, ...body })}\n`);
          };
          const parsed = SyncRequestSchema.safeParse(line);
          if (!parsed.success) {
            syncFailure ??= {
              error: new PythonRunError(
                'PROTOCOL_ERROR',
                `unexpected state request from the harness: ${parsed.error.message}`,
              ),
            };
            reply({ abort: 'the state request was malformed' });
            return;
          }
          const items = parsed.data.results.map(batchItem);
          state.onSync({ index: parsed.data.sync, items }).then(
            (column) => reply({ values: column.values, until: column.until }),
            (e: unknown) => {
              syncFailure ??= { error: e };
              reply({ abort: e instanceof Error ? e.message : String(e) });
            },
          );
        }
      : undefined;
    try {
      raw = await this.request(
        {
          op: 'run_batch',
          file: req.file,
          class_name: req.className ?? null,
          parameters: req.parameters ?? {},
          signal: req.signal ?? null,
          common: req.common,
          keys: req.keys,
          rows: req.rows,
          stop_on_order: req.stopOnOrder ?? false,
          index_key: req.indexKey ?? null,
          index_start: req.indexStart ?? 0,
          instance: req.instance ?? null,
          ...(state ? { state: { key: state.key, values: state.values, until: state.until } } : {}),
          output_limit: this.limits.outputLimitBytes,
          limits: this.wireLimits(),
        },
        this.limits.timeoutMs,
        req.rows.length,
        interim,
      );
    } catch (e) {
      if (syncFailure) throw syncFailure.error;
      const err = e instanceof PythonRunError ? e : new PythonRunError('PROTOCOL_ERROR', String(e));
      const { direct, diagnostics } = this.takeDirect();
      return failed({ code: err.code, message: err.message, file: req.file }, direct, diagnostics);
    }
    if (syncFailure) throw syncFailure.error;
    const { direct, diagnostics } = this.takeDirect();
    const r = BatchResponseSchema.safeParse(raw);
    if (!r.success)
      return failed(
        { code: 'PROTOCOL_ERROR', message: `unexpected answer from the harness: ${r.error.message}` },
        direct,
        diagnostics,
      );
    const d = r.data;
    return done({
      ok: d.ok,
      done: d.done,
      items: d.results.map(batchItem),
      className: d.class_name ?? undefined,
      entryPoint: d.entry_point ?? undefined,
      metadata: d.metadata ?? null,
      stdout: d.stdout,
      stderr: d.stderr + direct,
      componentMs: d.component_ms ?? undefined,
      error: d.error ? toComponentError(d.error) : undefined,
      ...(diagnostics ? { diagnostics } : {}),
      ...(d.syncs == null ? {} : { syncs: d.syncs }),
    });
  }

  /** Kills the harness and its tree now (a run in progress ends with PROCESS_EXITED) and waits for it to end. */
  async stop(): Promise<void> {
    if (this.finished) return;
    this.kill();
    await this.finishedPromise;
  }

  /** Ends the harness (it exits at the end of its input) and waits for it, killing its tree after 2 s; never waits for its pipes. */
  async close(): Promise<void> {
    if (this.finished) return;
    this.closing = true;
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), 2000);
    await this.finishedPromise;
    clearTimeout(timer);
  }
}

/** Runs one component in a fresh interpreter that exits afterwards. */
export async function runComponentCold(options: RunnerOptions, req: ComponentRunRequest): Promise<ComponentRunResult> {
  const session = await PythonSession.start(options, req.file);
  try {
    return await session.run(req);
  } finally {
    await session.close();
  }
}

/** Keeps one interpreter alive per package root; starts a new one after a crash or a timeout. */
export class PythonWorker {
  private readonly sessions = new Map<string, PythonSession>();
  private readonly starting = new Map<string, Promise<PythonSession>>();
  /** Inspection is a pure function of the file's bytes; a stat is far cheaper than a round trip. */
  private readonly inspected = new Map<string, { key: string; info: ComponentInfo }>();
  constructor(private readonly options: RunnerOptions) {}

  private session(file: string): Promise<PythonSession> {
    const root = this.options.packageRoot ?? findPackageRoot(file);
    const existing = this.sessions.get(root);
    if (existing?.alive) return Promise.resolve(existing);
    // Concurrent first runs share one start instead of racing to spawn two interpreters.
    let pending = this.starting.get(root);
    if (!pending) {
      pending = PythonSession.start(this.options, file, 'worker').then((s) => {
        this.sessions.set(root, s);
        this.starting.delete(root);
        return s;
      });
      this.starting.set(root, pending);
    }
    return pending;
  }

  async inspect(file: string): Promise<ComponentInfo> {
    const bad = precheck(file);
    if (bad) throw new PythonRunError(bad.code, bad.message, bad.file);
    const st = statSync(file, { bigint: true });
    const key = `${st.mtimeNs}:${st.size}`;
    const cached = this.inspected.get(file);
    if (cached?.key === key) return cached.info;
    const info = await (await this.session(file)).inspect(file);
    this.inspected.set(file, { key, info });
    return info;
  }

  async run(req: ComponentRunRequest): Promise<ComponentRunResult> {
    const bad = precheck(req.file);
    if (bad) return { ok: false, output: null, metadata: null, stdout: '', stderr: '', error: bad, totalMs: 0 };
    return (await this.session(req.file)).run(req);
  }

  /** Many items in one round trip on the persistent interpreter (replay). */
  async runBatch(req: ComponentBatchRequest): Promise<ComponentBatchResult> {
    const bad = precheck(req.file);
    if (bad) return { ok: false, done: 0, items: [], metadata: null, stdout: '', stderr: '', error: bad, totalMs: 0 };
    return (await this.session(req.file)).runBatch(req);
  }

  async ping(): Promise<void> {
    const first = this.sessions.values().next();
    const s = first.done ? await PythonSession.start(this.options, undefined, 'worker') : first.value;
    if (first.done) this.sessions.set(s.packageRoot, s);
    await s.ping();
  }

  pidFor(file: string): number | undefined {
    return this.sessions.get(this.options.packageRoot ?? findPackageRoot(file))?.pid;
  }

  /** Stops every interpreter now, a run in progress too (it ends with PROCESS_EXITED): a cancel. */
  async stop(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}
