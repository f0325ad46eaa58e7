/**
 * What the runner and the Python harness say to each other: the requests (run, run_batch, inspect), their
 * answers as zod schemas (the only readers of a harness line), the errors a component can cause, and the
 * limits on answers and output with the hints that say which limit to raise.
 */
import { z } from 'zod';
import type { ResolvedInterpreter } from './interpreter';
import type { PreparedColumns } from './batchColumns';

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
  /**
   * How long a batch of records (runBatch) runs before it ends after its current record, the rest left to the
   * caller's next batch; default 10 s. `timeoutMs` limits each record's call of the component in a batch.
   */
  batchBudgetMs?: number;
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
export const BATCH_ANSWER_FACTOR = 64;
/** Room in an answer line for what is not the order or metadata: names, timings, error messages, tracebacks. */
export const ANSWER_OVERHEAD_BYTES = 256 * 1024;

/** How to allow more, appended to the message of an error past a limit. */
export const LIMIT_HINTS: Record<string, string> = {
  ANSWER_TOO_LARGE:
    'To allow more, raise maxAnswerBytes (CLI --max-answer-bytes, setting sptrader.python.maxAnswerBytes).',
  ANSWER_TOO_DEEP:
    'To allow more, raise maxNestingDepth (CLI --max-nesting-depth, setting sptrader.python.maxNestingDepth).',
  METADATA_TOO_LARGE:
    'To allow more, raise maxMetadataBytes (CLI --max-metadata-bytes, setting sptrader.python.maxMetadataBytes).',
  METADATA_TOO_DEEP:
    'To allow more, raise maxNestingDepth (CLI --max-nesting-depth, setting sptrader.python.maxNestingDepth).',
  OUTPUT_LIMIT_EXCEEDED:
    'To allow more, raise outputLimitBytes (CLI --output-limit-bytes, setting sptrader.python.outputLimitBytes).',
  TIMEOUT: 'To allow longer, raise timeoutMs (CLI --timeout SECONDS, setting sptrader.python.timeoutSeconds).',
};

export function withHint(code: string, message: string): string {
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
  /**
   * When the component returned None and its entry point has no `return` that gives a value (a forgotten
   * `return order`): that function's `def` line.
   */
  noReturnLine?: number;
  /**
   * The numpy floats of fewer than 64 bits in the order (float16 1.0866 is sent as 1.087, the decimals numpy shows):
   * where, their type, their exact value and what was sent. At most 10.
   */
  narrowFloats?: Array<{ path: string; type: string; exact: number; sent: number }>;
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
  /** Item i is `common` updated with `keys` zipped with `rows[i]` … */
  keys: string[];
  rows?: unknown[][];
  /**
   * … or with `keys[c]` set to `columns[c][i]` (key-major, all columns `size` long): the form replay sends,
   * numbers as float64 bytes (batchColumns.ts) rather than JSON text. Exactly one of `rows` and `columns`.
   */
  columns?: unknown[][];
  /** Items in the batch when `columns` is given (there may be no varying key at all). */
  size?: number;
  /**
   * `columns` already encoded (batchColumns.ts prepareColumns, from these very `keys`, `columns` and `size`):
   * sent as it is instead of encoding them again. A runner that takes the columns as they are ignores it.
   */
  prepared?: PreparedColumns;
  /** When given, item i also gets `market_data[indexKey] = indexStart + i` (a counter that costs no bytes). */
  indexKey?: string;
  indexStart?: number;
  /** Stop after the first item that returned an order, so the caller acts on it before the next item runs. */
  stopOnOrder?: boolean;
  /** Keep the component instance across batches under this key (same file, class and parameters). */
  instance?: string;
  /**
   * End the batch after the record that makes `limit` records in a row fail with the same code at the same line
   * (a validate_order veto is no failure), counting the `run` records before this batch that failed with `code` at
   * `line` (python/sptrader_harness/batch_stops.py). The caller, which counts the same run, stops there.
   */
  failureRun?: { limit: number; run: number; code?: string; line?: number };
  /**
   * Called once the request has left for the interpreter (its bytes taken by the pipe, or the pipe failed): the
   * caller may then work without holding up its delivery. A runner that sends nothing need not call it.
   */
  onSent?: () => void;
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
  /** `line`: the `return` of the component's file that gave `output`, when the harness could tell it. */
  { index: number; ok: true; output: unknown; line?: number } | { index: number; ok: false; error: ComponentError };

export interface ComponentBatchResult {
  /** False when the component could not be loaded or constructed, or printed too much: no item's result counts. */
  ok: boolean;
  /** Items run (all of them unless `stopOnOrder`, `failureRun`, the batch's time budget or `stopped` ended it early). */
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
  /**
   * Record `indexStart + done` ran past its time limit (the runner's timeoutMs), printed past the output limit or
   * called sys.exit()/os._exit(), and was stopped there: the batch ended before it (`ok` true, the records before it
   * and their items count). PythonWorker answers the caller's next batch, the one that starts at that record, with
   * this error instead of running it again.
   */
  stopped?: ComponentError;
}

/** A batch none of whose items ran: the component could not run, or the batch was not started (`error` says why). */
export function failedBatch(
  error: ComponentError,
  more: { stderr?: string; diagnostics?: string[]; totalMs?: number } = {},
): ComponentBatchResult {
  return {
    ok: false,
    done: 0,
    items: [],
    metadata: null,
    stdout: '',
    stderr: more.stderr ?? '',
    totalMs: more.totalMs ?? 0,
    error,
    ...(more.diagnostics ? { diagnostics: more.diagnostics } : {}),
  };
}

export interface ComponentInfo {
  classes: Array<{ name: string; line: number; bases: string[]; entryPoint: 'generate_order' | 'execute' | null }>;
  metadata: Record<string, unknown> | null;
  metadataError?: string;
  /** The line of the `__metadata__ = ...` assignment, literal or not. */
  metadataLine?: number;
  /**
   * Where `__metadata__`'s risk_limits are written, when its value is a dict display or dict(...): '' is the
   * `risk_limits` key's line, each limit's key its own line.
   */
  riskLimitsLines?: Readonly<Record<string, number>>;
}

export const DATA_VARIABLES = [
  'DATA_SOURCE',
  'TEST_DATASET',
  'CANDLE_DATA_FILE',
  'LIVE_SYMBOL',
  'LIVE_TIMEFRAME',
  'LIVE_FROM',
  'LIVE_TO',
];

export const ErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  file: z.string().nullish(),
  line: z.number().nullish(),
  column: z.number().int().positive().nullish(),
  end_line: z.number().int().positive().nullish(),
  end_column: z.number().int().positive().nullish(),
  traceback: z.string().nullish(),
});
export const ResponseSchema = z.looseObject({
  id: z.string(),
  ok: z.boolean(),
  error: ErrorSchema.nullish(),
  killed_count: z.number().int().nonnegative().nullish(),
  killed_processes: z.array(z.number().int()).nullish(),
  recycle: z.boolean().nullish(),
});
export const RunResponseSchema = ResponseSchema.extend({
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
  no_return_line: z.number().int().positive().nullish(),
  narrow_floats: z
    .array(z.object({ path: z.string().max(200), type: z.string().max(20), exact: z.number(), sent: z.number() }))
    .max(10)
    .nullish(),
});
/** Where the harness listens for a debugger during a Debug Order run (debugpy's adapter, a DAP server). */
export interface DebugEndpoint {
  host: string;
  port: number;
  debugpyVersion: string | null;
  /** The debugpy package the run imported (the interpreter's own, or the fallback copy). */
  debugpyPath: string;
}

/** What a Debug Order run asks of the harness, and where it tells the caller it listens. */
export interface DebugListen {
  /** How long the run waits for a debugger to attach before it fails with DEBUGGER_NOT_ATTACHED. */
  attachTimeoutMs: number;
  /** A folder holding a `debugpy` package, used when the interpreter has none (the Python Debugger extension's). */
  debugpyPath?: string;
  onListening(endpoint: DebugEndpoint): void;
}

/** The harness's interim line of a debug run: `{"id":..., "debug": {host, port, version, path}}`. */
export const DebugListeningSchema = z.object({
  id: z.string(),
  debug: z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535),
    version: z.string().nullish(),
    path: z.string(),
  }),
});

export const BatchResultsSchema = z
  .array(
    z.union([
      z.object({ index: z.number().int(), ok: z.literal(true), result: z.unknown(), line: z.number().int().nullish() }),
      z.object({ index: z.number().int(), ok: z.literal(false), error: ErrorSchema }),
    ]),
  )
  .default([]);
export const SyncRequestSchema = z.object({
  id: z.string(),
  sync: z.number().int().nonnegative(),
  results: BatchResultsSchema,
});
export const BatchResponseSchema = ResponseSchema.extend({
  class_name: z.string().nullish(),
  entry_point: z.enum(['generate_order', 'execute']).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  done: z.number().int().nonnegative().default(0),
  results: BatchResultsSchema,
  syncs: z.number().int().nonnegative().nullish(),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  component_ms: z.number().nullish(),
  /** A record ran past its time limit (`record_timeout_ms`), or must end the replay: the batch ended before it, `done` records ran. */
  stopped: ErrorSchema.nullish(),
});
export const InspectResponseSchema = ResponseSchema.extend({
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
  metadata_line: z.number().int().positive().nullish(),
  risk_limits_lines: z.record(z.string(), z.number().int().positive()).nullish(),
});

export function toComponentError(e: z.infer<typeof ErrorSchema>): ComponentError {
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

export function batchItem(i: z.infer<typeof BatchResultsSchema>[number]): ComponentBatchItem {
  return i.ok
    ? { index: i.index, ok: true, output: i.result ?? null, ...(i.line != null ? { line: i.line } : {}) }
    : { index: i.index, ok: false, error: toComponentError(i.error) };
}
