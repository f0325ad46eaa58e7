/**
 * Runs order components in the user's Python through the harness in `python/sptrader_harness`.
 * A `PythonSession` is one live interpreter speaking JSON lines; cold runs use a session once,
 * the `PythonWorker` keeps one alive (the harness recompiles a component when its file changes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { monotonicMs } from '../common/clock';
import { PythonRunError } from './errors';
import type { ResolvedInterpreter } from './interpreter';

export { PythonRunError } from './errors';

export interface ComponentError {
  code: string;
  message: string;
  file?: string;
  line?: number;
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
  outputLimitBytes?: number;
  /** The folder holding `sptrader_harness`; default found next to the code. */
  libraryDir?: string;
  /** Where Python keeps compiled bytecode (PYTHONPYCACHEPREFIX); default a folder in the OS temp dir. */
  bytecodeCacheDir?: string;
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
}

export type ComponentBatchItem = { index: number; ok: true; output: unknown } | { index: number; ok: false; error: ComponentError };

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
}

export interface ComponentInfo {
  classes: Array<{ name: string; line: number; bases: string[]; entryPoint: 'generate_order' | 'execute' | null }>;
  metadata: Record<string, unknown> | null;
  metadataError?: string;
}

const DATA_VARIABLES = ['DATA_SOURCE', 'TEST_DATASET', 'CANDLE_DATA_FILE', 'LIVE_SYMBOL', 'LIVE_TIMEFRAME', 'LIVE_FROM', 'LIVE_TO'];

const ErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  file: z.string().nullish(),
  line: z.number().nullish(),
  traceback: z.string().nullish(),
});
const ResponseSchema = z.looseObject({ id: z.number().nullable(), ok: z.boolean(), error: ErrorSchema.nullish() });
const RunResponseSchema = ResponseSchema.extend({
  result: z.unknown(),
  class_name: z.string().nullish(),
  entry_point: z.enum(['generate_order', 'execute']).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  component_ms: z.number().nullish(),
});
const BatchResponseSchema = ResponseSchema.extend({
  class_name: z.string().nullish(),
  entry_point: z.enum(['generate_order', 'execute']).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  done: z.number().int().nonnegative().default(0),
  results: z
    .array(
      z.union([
        z.object({ index: z.number().int(), ok: z.literal(true), result: z.unknown() }),
        z.object({ index: z.number().int(), ok: z.literal(false), error: ErrorSchema }),
      ]),
    )
    .default([]),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  component_ms: z.number().nullish(),
});
const InspectResponseSchema = ResponseSchema.extend({
  classes: z
    .array(z.object({ name: z.string(), line: z.number(), bases: z.array(z.string()), entry_point: z.enum(['generate_order', 'execute']).nullable() }))
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
      throw new PythonRunError('INTERNAL', `the bundled Python library (python/sptrader_harness) was not found above ${__dirname}; reinstall the extension`);
    dir = parent;
  }
}

/** Checks done in Node so that obvious mistakes never cost a Python start. */
function precheck(file: string): ComponentError | undefined {
  if (!file.endsWith('.py')) return { code: 'NOT_PYTHON_FILE', message: `${file} is not a Python file (.py); open or pass an order component`, file };
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
  return { code: e.code, message: e.message, file: e.file ?? undefined, line: e.line ?? undefined, traceback: e.traceback ?? undefined };
}

interface Pending {
  id: number;
  resolve: (line: Record<string, unknown>) => void;
  reject: (e: PythonRunError) => void;
}

export class PythonSession {
  private readonly child: ChildProcess;
  private buffer = '';
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private outputBytes = 0;
  private processOutput = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private failure: PythonRunError | undefined;
  readonly packageRoot: string;

  private constructor(
    private readonly options: RunnerOptions,
    packageRoot: string,
  ) {
    this.packageRoot = packageRoot;
    const libraryDir = options.libraryDir ?? defaultLibraryDir();
    const base = options.env ?? process.env;
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
    const path = [packageRoot, ...(options.extraPythonPath ?? []), libraryDir, ...(base['PYTHONPATH'] ? [base['PYTHONPATH']] : [])];
    env['PYTHONPATH'] = [...new Set(path)].join(delimiter);
    if (options.testMode ?? true) env['TEST_MODE'] = 'true';
    if (options.brokerProfile) env['BROKER_PROFILE'] = options.brokerProfile;
    for (const name of DATA_VARIABLES) if (base[name] !== undefined) env[name] = base[name];
    // Bytecode goes to a private cache, never into the user's folders, so a PYTHONDONTWRITEBYTECODE
    // set to avoid that litter is honoured while cold runs stop recompiling the harness (~4 ms).
    env['PYTHONPYCACHEPREFIX'] = options.bytecodeCacheDir ?? join(tmpdir(), `sptrader-pycache-${process.getuid?.() ?? 'user'}`);
    delete env['PYTHONDONTWRITEBYTECODE'];
    env['PYTHONUNBUFFERED'] = '1';
    env['PYTHONIOENCODING'] = 'utf-8';
    this.child = spawn(options.interpreter.executable, ['-c', 'from sptrader_harness.server import main; main()'], {
      cwd: packageRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.child.stdout?.setEncoding('ascii');
    this.child.stdout?.on('data', (chunk: string) => this.onProtocol(chunk));
    // fd 1 of the component is pointed at stderr by the harness; both count towards the cap.
    this.child.stderr?.on('data', (chunk: Buffer) => this.onOutput(chunk));
    this.child.on('error', (e) => this.fail(new PythonRunError('INTERPRETER_NOT_FOUND', `could not start ${options.interpreter.executable}: ${e.message}`)));
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      const why = this.failure;
      this.fail(
        why ??
          new PythonRunError(
            'PROCESS_EXITED',
            `the Python process exited with ${signal ? `signal ${signal}` : `code ${code}`} before returning a result; did the component call os._exit()? Nothing was sent.${this.stderrTail()}`,
          ),
      );
    });
    this.child.stdin?.on('error', () => undefined);
  }

  static async start(options: RunnerOptions, componentFile?: string): Promise<PythonSession> {
    const root = options.packageRoot ?? (componentFile ? findPackageRoot(componentFile) : process.cwd());
    return Promise.resolve(new PythonSession(options, root));
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

  private onOutput(chunk: Buffer): void {
    this.outputBytes += chunk.length;
    const limit = this.options.outputLimitBytes ?? 1024 * 1024;
    if (this.processOutput.length < 64 * 1024) this.processOutput += new TextDecoder('utf-8', { fatal: false }).decode(chunk);
    if (this.outputBytes > limit && !this.failure) {
      this.failure = new PythonRunError(
        'OUTPUT_LIMIT_EXCEEDED',
        `the component wrote more than ${limit} bytes to its output; the run was stopped and nothing was sent`,
      );
      this.kill();
    }
  }

  private onProtocol(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const p = this.pending;
      if (!p) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        this.pending = undefined;
        p.reject(new PythonRunError('PROTOCOL_ERROR', `the harness sent a malformed line: ${line.slice(0, 200)}`));
        continue;
      }
      this.pending = undefined;
      p.resolve(parsed as Record<string, unknown>);
    }
  }

  private fail(e: PythonRunError): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(this.failure);
  }

  private kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    try {
      if (process.platform === 'win32') spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true });
      else process.kill(-pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** Sends one request and waits for its answer; requests are served one at a time. */
  private request(body: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const run = async (): Promise<Record<string, unknown>> => {
      if (this.failure) throw this.failure;
      // The output cap is per request: a long-lived worker may print a little on every run.
      this.outputBytes = 0;
      const id = this.nextId++;
      return new Promise<Record<string, unknown>>((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          this.failure ??= new PythonRunError(
            'TIMEOUT',
            `the component did not return within ${timeoutMs / 1000} s; its process tree was stopped and nothing was sent`,
          );
          this.kill();
          this.fail(this.failure);
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
        };
        this.child.stdin?.write(`${JSON.stringify({ ...body, id })}\n`);
      });
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async ping(): Promise<{ python: number[]; executable: string }> {
    const r = await this.request({ op: 'ping' }, 10_000);
    return { python: r['python'] as number[], executable: String(r['executable']) };
  }

  async inspect(file: string): Promise<ComponentInfo> {
    const bad = precheck(file);
    if (bad) throw new PythonRunError(bad.code, bad.message, bad.file);
    const raw = await this.request({ op: 'inspect', file }, this.options.timeoutMs ?? 30_000);
    const r = InspectResponseSchema.safeParse(raw);
    if (!r.success) throw new PythonRunError('PROTOCOL_ERROR', `unexpected inspect answer from the harness: ${r.error.message}`);
    if (!r.data.ok) {
      const e = r.data.error;
      throw new PythonRunError(e?.code ?? 'PROTOCOL_ERROR', e?.message ?? 'inspect failed', e?.file ?? file, e?.line ?? undefined);
    }
    return {
      classes: r.data.classes.map((c) => ({ name: c.name, line: c.line, bases: c.bases, entryPoint: c.entry_point })),
      metadata: r.data.metadata ?? null,
      metadataError: r.data.metadata_error ?? undefined,
    };
  }

  async run(req: ComponentRunRequest): Promise<ComponentRunResult> {
    const started = monotonicMs();
    const done = (partial: Omit<ComponentRunResult, 'totalMs'>): ComponentRunResult => ({ ...partial, totalMs: monotonicMs() - started });
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
          output_limit: this.options.outputLimitBytes ?? 1024 * 1024,
        },
        this.options.timeoutMs ?? 30_000,
      );
    } catch (e) {
      const err = e instanceof PythonRunError ? e : new PythonRunError('PROTOCOL_ERROR', String(e));
      return done({
        ok: false,
        output: null,
        metadata: null,
        stdout: '',
        stderr: this.processOutput,
        error: { code: err.code, message: err.message, file: req.file },
      });
    }
    const r = RunResponseSchema.safeParse(raw);
    if (!r.success)
      return done({
        ok: false,
        output: null,
        metadata: null,
        stdout: '',
        stderr: '',
        error: { code: 'PROTOCOL_ERROR', message: `unexpected answer from the harness: ${r.error.message}` },
      });
    const d = r.data;
    // Output the component wrote straight to fd 1/2 arrives on stderr; show it with the run.
    const direct = this.processOutput;
    this.processOutput = '';
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
    });
  }

  async runBatch(req: ComponentBatchRequest): Promise<ComponentBatchResult> {
    const started = monotonicMs();
    const done = (partial: Omit<ComponentBatchResult, 'totalMs'>): ComponentBatchResult => ({ ...partial, totalMs: monotonicMs() - started });
    const failed = (error: ComponentError, stderr = ''): ComponentBatchResult =>
      done({ ok: false, done: 0, items: [], metadata: null, stdout: '', stderr, error });
    const bad = precheck(req.file);
    if (bad) return failed(bad);
    let raw: Record<string, unknown>;
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
          output_limit: this.options.outputLimitBytes ?? 1024 * 1024,
        },
        this.options.timeoutMs ?? 30_000,
      );
    } catch (e) {
      const err = e instanceof PythonRunError ? e : new PythonRunError('PROTOCOL_ERROR', String(e));
      return failed({ code: err.code, message: err.message, file: req.file }, this.processOutput);
    }
    const r = BatchResponseSchema.safeParse(raw);
    if (!r.success) return failed({ code: 'PROTOCOL_ERROR', message: `unexpected answer from the harness: ${r.error.message}` });
    const d = r.data;
    const direct = this.processOutput;
    this.processOutput = '';
    return done({
      ok: d.ok,
      done: d.done,
      items: d.results.map((i): ComponentBatchItem =>
        i.ok ? { index: i.index, ok: true, output: i.result ?? null } : { index: i.index, ok: false, error: toComponentError(i.error) },
      ),
      className: d.class_name ?? undefined,
      entryPoint: d.entry_point ?? undefined,
      metadata: d.metadata ?? null,
      stdout: d.stdout,
      stderr: d.stderr + direct,
      componentMs: d.component_ms ?? undefined,
      error: d.error ? toComponentError(d.error) : undefined,
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), 2000);
    await exited;
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
      pending = PythonSession.start(this.options, file).then((s) => {
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
    const s = first.done ? await PythonSession.start(this.options) : first.value;
    if (first.done) this.sessions.set(s.packageRoot, s);
    await s.ping();
  }

  pidFor(file: string): number | undefined {
    return this.sessions.get(this.options.packageRoot ?? findPackageRoot(file))?.pid;
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}
