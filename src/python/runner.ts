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
 * The wire protocol (requests, answer schemas, limits) is `protocol.ts`; where the harness and a
 * component's package are, `harnessFiles.ts`.
 *
 * Past 450 lines on purpose: `PythonSession` is one process's life (spawn, request, answer, timeout,
 * exit, kill), and its request, answer and failure paths share that state; split, each part would reach
 * back into the others' fields.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { monotonicMs } from '../common/clock';
import { AnswerChannel, type ChannelEvent } from './channel';
import { processExitError } from './processExit';
import { PythonRunError } from './errors';
import { killLeftovers, killProcessTree } from './processTree';
import {
  ANSWER_OVERHEAD_BYTES,
  BATCH_ANSWER_FACTOR,
  batchItem,
  BatchResponseSchema,
  type ComponentBatchRequest,
  type ComponentBatchResult,
  type ComponentError,
  type ComponentInfo,
  type ComponentRunRequest,
  type ComponentRunResult,
  DATA_VARIABLES,
  DebugListeningSchema,
  type DebugListen,
  DEFAULT_RUNNER_LIMITS,
  failedBatch,
  InspectResponseSchema,
  LIMIT_HINTS,
  type RunnerOptions,
  RunResponseSchema,
  SyncRequestSchema,
  toComponentError,
  withHint,
} from './protocol';
import {
  batchSize,
  columnsJson,
  prepareColumns,
  wireItems,
  type BatchColumns,
  type PreparedColumns,
} from './batchColumns';
import { OutputMarks } from './outputMarks';
import { RequestLineWriter, requestParts } from './requestLine';
import { defaultLibraryDir, findPackageRoot, precheck } from './harnessFiles';
import { withoutOwnVariables } from './interpreter';

/**
 * How long a run's answer waits for the mark that ends its output on stderr (outputMarks.ts). The harness writes
 * the mark just before the answer, so it is normally there already; this only bounds a pipe that stalls.
 */
const OUTPUT_MARK_WAIT_MS = 2_000;
/** The folders the harness puts first on sys.path (and PYTHONPATH) once it has loaded: the package root first. */
const IMPORT_ROOTS_VARIABLE = 'SPTRADER_IMPORT_ROOTS';
/**
 * `python -c` puts the working folder (the package root) first on sys.path: it is taken off before the harness
 * imports anything, for the reason IMPORT_ROOTS_VARIABLE is used (the harness puts the root back in its place).
 */
const HARNESS_BOOTSTRAP =
  "import sys\nif sys.path[:1] == ['']: del sys.path[0]\nfrom sptrader_harness.server import main\nmain()";

export { PythonRunError } from './errors';
// The runner's public shapes, defined with the wire protocol they travel on.
export { DEFAULT_RUNNER_LIMITS, failedBatch } from './protocol';
export type {
  ComponentError,
  RunnerOptions,
  ComponentRunRequest,
  ComponentRunResult,
  ComponentBatchRequest,
  ComponentStateColumn,
  ComponentStateSync,
  ComponentBatchItem,
  ComponentBatchResult,
  ComponentInfo,
  DebugEndpoint,
  DebugListen,
} from './protocol';
export { findPackageRoot } from './harnessFiles';

interface Pending {
  id: string;
  /** The component file the request runs, when it runs one: a process that ends under it is said at its line. */
  file?: string;
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
/**
 * How long one batch of records runs before it ends after its current record (the caller sends the rest as the
 * next batch), so a slow component's batch never meets the request's timeout: that limits each record instead.
 * RunnerOptions.batchBudgetMs overrides it.
 */
export const BATCH_BUDGET_MS = 10_000;
/** Beyond a run's limit: the harness's answer that it stopped the component (watchdog.py) has this long to arrive. */
const RUN_GRACE_MS = 500;
/** Beyond a record's limit and the batch's budget: the harness's tick (at most 1 s) and the answer's way back. */
const BATCH_GRACE_MS = 5_000;

/** A batch's items in the request: JSON rows, or columns as pieces of JSON text the line writer copies as they are. */
function wireBody(req: ComponentBatchRequest): Record<string, unknown> {
  const p = req.prepared;
  if (
    p !== undefined &&
    req.rows === undefined &&
    p.keys === req.keys &&
    p.columns === req.columns &&
    p.size === req.size
  )
    return { columns: p.json, size: p.size };
  const items = wireItems(req);
  return 'columns' in items ? { columns: columnsJson(items.columns), size: items.size } : items;
}

export class PythonSession {
  private readonly child: ChildProcess;
  private readonly channel: AnswerChannel;
  /** Request lines to the harness's stdin (a batch's large line goes through one kept buffer: requestLine.ts). */
  private readonly lines = new RequestLineWriter();
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private outputBytes = 0;
  private processOutput = '';
  private readonly outputMarks = new OutputMarks();
  /** The id of the last run whose output mark arrived, and the answer waiting for one. */
  private lastMark: string | undefined;
  private markWaiter: { id: string; done: () => void } | undefined;
  private notes: string[] = [];
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private finished = false;
  private markFinished: () => void = () => undefined;
  private readonly finishedPromise = new Promise<void>((resolve) => (this.markFinished = resolve));
  private failure: PythonRunError | undefined;
  private closing = false;
  /** stop() was called: a run it cuts short was cancelled, not ended by its component. */
  private stopping = false;
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
    // SPtrader's own variables (the CLI's broker credentials, SPTRADER_OANDA_TOKEN and the like) are not the
    // component's: what it is handed, it can print, return or send anywhere.
    const env = withoutOwnVariables(base);
    // The interpreter starts with the bundled library and the user's own PYTHONPATH only: the package root (where
    // a user's json.py, signal.py or enum.py may sit) is put before the standard library by the harness once it has
    // loaded (server.py main), so that such a file can neither break Python's start-up nor be taken for a module
    // the harness imports. The component sees PYTHONPATH (and sys.path) with the package root first, as before.
    const roots = [packageRoot, ...(options.extraPythonPath ?? [])];
    const path = [libraryDir, ...(base['PYTHONPATH'] ? [base['PYTHONPATH']] : [])];
    env['PYTHONPATH'] = [...new Set(path)].join(delimiter);
    env[IMPORT_ROOTS_VARIABLE] = [...new Set(roots)].join(delimiter);
    // TEST_MODE is the product's to say (Test Order's runs), not the terminal's: one left set in the shell would have an
    // execute's run taken for a test.
    if (options.testMode ?? true) env['TEST_MODE'] = 'true';
    else delete env['TEST_MODE'];
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
    const args = ['-c', HARNESS_BOOTSTRAP, ...(mode === 'worker' ? ['--worker'] : [])];
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

  /** What the harness's signal handler said of the signal that ends it (sptrader_harness/processes.py), as a clause. */
  private whySignalled(): string | undefined {
    const said = /\[sptrader\] the harness received (SIG[A-Z0-9]+): ([^\n]*); it ends/.exec(this.processOutput);
    if (said === null) return undefined;
    const [, name, where] = said as unknown as [string, string, string];
    return `${where.replace(/^it came/, `${name} came`).replace(/^the component sent it itself/, `the component sent its own process ${name}`)}.`;
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
    const piece = this.outputMarks.push(chunk);
    if (piece.text !== '' && this.processOutput.length < 64 * 1024) this.processOutput += piece.text;
    if (piece.bytes > 0) this.countOutput(piece.bytes);
    for (const id of piece.marks) {
      this.lastMark = id;
      if (this.markWaiter?.id === id) this.markWaiter.done();
    }
  }

  /** Resolves once the output the component wrote to fd 1/2 during request `id` has all been read (its mark). */
  private outputThrough(id: string): Promise<void> {
    if (this.lastMark === id || this.exited || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.markWaiter?.id === id) this.markWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, OUTPUT_MARK_WAIT_MS);
      this.markWaiter = { id, done };
    });
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
    if (
      event.type === 'answer' &&
      p.interim &&
      (event.line.startsWith(`{"id":"${p.id}","sync":`) || event.line.startsWith(`{"id":"${p.id}","debug":`))
    ) {
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
    this.markWaiter?.done();
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
    const rest = this.outputMarks.flush();
    if (rest.text !== '' && this.processOutput.length < 64 * 1024) this.processOutput += rest.text;
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
        (this.stopping
          ? new PythonRunError(
              'PROCESS_EXITED',
              'the run was stopped (cancelled) before the component returned; its Python process was ended and nothing was sent',
              this.pending?.file,
            )
          : processExitError(exited, this.processOutput, this.pending?.file, this.whySignalled(), this.stderrTail())),
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
    this.markWaiter?.done();
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

  /** Sends one request and waits for its answer; requests are served one at a time. No timeout when `timeoutMs` is null. */
  private request(
    body: Record<string, unknown>,
    timeoutMs: number | null,
    rows = 0,
    interim?: (id: string, line: Record<string, unknown>) => void,
    timeoutMessage?: string,
    sent?: () => void,
  ): Promise<Record<string, unknown>> {
    const run = async (): Promise<Record<string, unknown>> => {
      if (this.failure) throw this.failure;
      // The output cap is per request: a long-lived worker may print a little on every run.
      this.outputBytes = 0;
      // Unpredictable and never reused: nothing but the harness serving this request can start a line with it.
      const id = requestId();
      this.channel.expect(id, this.maxLineBytes(String(body['op']), rows));
      const answer = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
        const timer =
          timeoutMs === null
            ? undefined
            : setTimeout(() => {
                this.failure ??= new PythonRunError(
                  'TIMEOUT',
                  withHint(
                    'TIMEOUT',
                    timeoutMessage ??
                      `the component did not return within ${timeoutMs / 1000} s; its process tree was stopped and nothing was sent`,
                  ),
                );
                // The run ends now; the tree is killed right after, before any other callback runs.
                this.fail(this.failure);
                this.kill();
              }, timeoutMs);
        this.pending = {
          id,
          ...(typeof body['file'] === 'string' && body['op'] !== 'inspect' ? { file: body['file'] } : {}),
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
        const stdin = this.child.stdin;
        if (stdin) this.lines.write(stdin, requestParts({ ...body, id }), sent);
        else sent?.();
      });
      // A run's output on stderr is its own up to the mark the harness wrote before this answer.
      if (body['op'] === 'run' || body['op'] === 'run_batch') await this.outputThrough(id);
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
      ...(r.data.metadata_line != null ? { metadataLine: r.data.metadata_line } : {}),
      ...(r.data.risk_limits_lines != null ? { riskLimitsLines: r.data.risk_limits_lines } : {}),
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

  /**
   * Runs the component once. With `debug` (Debug Order, `debugRun.ts`), the harness listens for a debugger
   * first and tells `debug.onListening` where; the run then has no timeout (it may sit at a breakpoint for as
   * long as the user likes) beyond the attach timeout, and ends early only by `stop()`.
   */
  async run(req: ComponentRunRequest, debug?: DebugListen): Promise<ComponentRunResult> {
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
          ...(debug
            ? {
                debug: {
                  attach_timeout_ms: debug.attachTimeoutMs,
                  debugpy_path: debug.debugpyPath ?? null,
                },
              }
            : {}),
          // The harness stops the run at the limit where it is, and says where; this request's timeout is the backstop.
          ...(debug ? {} : { timeout_ms: this.limits.timeoutMs }),
        },
        debug ? null : this.limits.timeoutMs + RUN_GRACE_MS,
        0,
        debug ? (_id, line) => this.onDebugLine(line, debug) : undefined,
        `the component did not return within ${this.limits.timeoutMs / 1000} s; its process tree was stopped and nothing was sent`,
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
        error: {
          code: err.code,
          message: err.message,
          file: req.file,
          ...(err.line !== undefined ? { line: err.line } : {}),
        },
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
      ...(d.ok && d.no_return_line != null ? { noReturnLine: d.no_return_line } : {}),
      ...(d.ok && d.narrow_floats != null && d.narrow_floats.length > 0 ? { narrowFloats: d.narrow_floats } : {}),
      ...(diagnostics ? { diagnostics } : {}),
    });
  }

  /** The harness's note that it listens for a debugger; a malformed one ends the run. */
  private onDebugLine(line: Record<string, unknown>, debug: DebugListen): void {
    const parsed = DebugListeningSchema.safeParse(line);
    if (!parsed.success) {
      this.fail(
        new PythonRunError('PROTOCOL_ERROR', `unexpected debugger endpoint from the harness: ${parsed.error.message}`),
      );
      this.kill();
      return;
    }
    const { host, port, version, path } = parsed.data.debug;
    debug.onListening({ host, port, debugpyVersion: version ?? null, debugpyPath: path });
  }

  async runBatch(req: ComponentBatchRequest): Promise<ComponentBatchResult> {
    const started = monotonicMs();
    const done = (partial: Omit<ComponentBatchResult, 'totalMs'>): ComponentBatchResult => ({
      ...partial,
      totalMs: monotonicMs() - started,
    });
    const failed = (error: ComponentError, stderr = '', diagnostics?: string[]): ComponentBatchResult =>
      failedBatch(error, { stderr, diagnostics, totalMs: monotonicMs() - started });
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
    const budget = Math.max(1, Math.round(this.options.batchBudgetMs ?? BATCH_BUDGET_MS));
    const backstop = this.limits.timeoutMs + budget + BATCH_GRACE_MS;
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
          ...wireBody(req),
          stop_on_order: req.stopOnOrder ?? false,
          index_key: req.indexKey ?? null,
          index_start: req.indexStart ?? 0,
          instance: req.instance ?? null,
          ...(req.failureRun ? { failure_run: req.failureRun } : {}),
          ...(state ? { state: { key: state.key, values: state.values, until: state.until } } : {}),
          output_limit: this.limits.outputLimitBytes,
          limits: this.wireLimits(),
          // timeoutMs limits each record's call (the harness stops it where it is and answers the records before);
          // a batch past BATCH_BUDGET_MS ends after its current record and the caller sends the rest next.
          record_timeout_ms: this.limits.timeoutMs,
          batch_ms: budget,
        },
        // The backstop, for what the harness cannot interrupt (a C call holding the GIL, a component's own SIGALRM).
        backstop,
        batchSize(req),
        interim,
        `no answer to a batch of ${batchSize(req).toLocaleString('en-US')} records from #${req.indexStart ?? 0} within ` +
          `${backstop / 1000} s (a record may take ${this.limits.timeoutMs / 1000} s): the component is stuck where ` +
          'Python cannot stop it (in native code); its process tree was stopped',
        req.onSent,
      );
    } catch (e) {
      if (syncFailure) throw syncFailure.error;
      const err = e instanceof PythonRunError ? e : new PythonRunError('PROTOCOL_ERROR', String(e));
      const { direct, diagnostics } = this.takeDirect();
      return failed(
        { code: err.code, message: err.message, file: req.file, ...(err.line !== undefined ? { line: err.line } : {}) },
        direct,
        diagnostics,
      );
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
      ...(d.ok && d.stopped ? { stopped: toComponentError(d.stopped) } : {}),
    });
  }

  /** Kills the harness and its tree now (a run in progress ends with PROCESS_EXITED) and waits for it to end. */
  async stop(): Promise<void> {
    if (this.finished) return;
    this.stopping = true;
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
  /** The record a batch stopped at (runBatch). */
  private stoppedAt: { file: string; instance: string | null; index: number; error: ComponentError } | undefined;
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

  /**
   * Many items in one round trip on the persistent interpreter (replay). A record that ran past the time limit (or
   * printed past the output limit, or called sys.exit()) ends its batch before it (`stopped`); the next batch, which starts at that record, is answered with that
   * error and not run: the record is never run twice, and the caller stops there as on any batch failure.
   */
  async runBatch(req: ComponentBatchRequest): Promise<ComponentBatchResult> {
    const bad = precheck(req.file);
    if (bad) return failedBatch(bad);
    const stopped = this.stoppedAt;
    this.stoppedAt = undefined;
    if (
      stopped !== undefined &&
      stopped.file === req.file &&
      stopped.instance === (req.instance ?? null) &&
      stopped.index === (req.indexStart ?? 0)
    )
      return failedBatch(stopped.error);
    const result = await (await this.session(req.file)).runBatch(req);
    if (result.ok && result.stopped) {
      if (result.done === 0) return { ...result, ok: false, error: result.stopped };
      this.stoppedAt = {
        file: req.file,
        instance: req.instance ?? null,
        index: (req.indexStart ?? 0) + result.done,
        error: result.stopped,
      };
    }
    return result;
  }

  /** A batch's columns encoded ahead of its runBatch (`prepared`), as runBatch would encode them. */
  prepareColumns(columns: BatchColumns): PreparedColumns {
    return prepareColumns(columns);
  }

  /**
   * Starts the interpreter that will run `file` (its package root's session) and waits until it answers,
   * running none of the component's code: what the editor does when a component is opened, so that the
   * first Test Order does not wait for Python to start.
   */
  async warm(file: string): Promise<void> {
    await (await this.session(file)).ping();
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
