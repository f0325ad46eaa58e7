/** Readers of arguments the CLI's commands share; `fail` builds the command's own usage error (exit 2). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseUserJson, readJsonObjectFile, readJsonUserFile, UserJsonError } from '../common/userFile';
import { parseParameterText, readParameterSpecs } from '../python/componentParameters';
import { symbolProblem } from '../orders/model';
import { printable } from '../usecases/formatOutcome';
import { defaultInterpreterCandidates, resolveInterpreter, type ResolvedInterpreter } from '../python/interpreter';

type Fail = (message: string) => Error;

/**
 * Marks a usage error as one whose message says all there is: a flag's file that cannot be used (missing, not JSON,
 * the wrong shape). The flags were typed right, so the whole usage text after it would only bury the message.
 */
export function briefly(e: Error): Error {
  Object.defineProperty(e, 'brief', { value: true });
  return e;
}

/** Whether a usage error is said without the usage text after it (`briefly`, or a `UsageError` made brief). */
export const isBrief = (e: unknown): boolean => (e as { brief?: unknown } | undefined)?.brief === true;

/** A flag given twice with two values, or a path flag given nothing: a usage error as parseArgs's own are. */
class FlagValueError extends TypeError {
  readonly code = 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';
}

/** Flags that name a file or folder: empty, each would be the working folder (`resolve('')`). */
const PATH_FLAGS: ReadonlySet<string> = new Set([
  'state-dir',
  'data',
  'out',
  'fills-csv',
  'fills-parquet',
  'limits',
  'profiles',
  'market-data',
  'signal',
  'python',
]);

/**
 * `parseArgs` (strict: an unknown flag or one without its value is refused), and a flag that is not `multiple`
 * given twice with two values is refused too: parseArgs kept the last, so `--state-dir live --state-dir scratch`
 * or `--data a.csv --data b.csv` silently used one of the two. The same value twice (and a boolean twice) is taken.
 */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const parsed = parseArgs({ ...config, tokens: true });
  const seen = new Map<string, string | undefined>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    // `--state-dir "$DIR"` with DIR unset: resolve('') is the working folder, so `halt` halted a new state folder
    // there while the real one went on trading. A file or folder flag given nothing is refused.
    if (PATH_FLAGS.has(token.name) && token.value !== undefined && token.value.trim() === '')
      throw new FlagValueError(
        `--${token.name} is empty: give it a ${token.name === 'state-dir' || token.name === 'out' ? 'folder' : 'file'}, or leave the flag out for its default`,
      );
    if (config.options?.[token.name]?.multiple === true) continue;
    if (seen.has(token.name) && seen.get(token.name) !== token.value) {
      const shown = (v: string | undefined): string => `'${v === undefined ? '' : clipFlag(v)}'`;
      throw new FlagValueError(
        `${token.rawName.startsWith('--') ? `--${token.name}` : token.rawName} is given twice (${shown(seen.get(token.name))}, then ${shown(token.value)}); give it once`,
      );
    }
    seen.set(token.name, token.value);
  }
  return parsed as unknown as ReturnType<typeof parseArgs<T>>;
}

function clipFlag(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}

/** A flag's number: `Number('')` is 0, so an empty value (`--port=`) would pass as zero; it is NaN here. */
export function flagNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** `--symbol`: refused before anything runs when it is not a symbol (a control character, a look-alike letter…). */
export function symbolFlag(text: string | undefined, fail: Fail): string | undefined {
  if (text === undefined) return undefined;
  const problem = symbolProblem(text);
  if (problem !== undefined) throw fail(`--symbol ${problem}`);
  return text;
}

/** What a reason may not hold: control characters, line breaks and invisible formatting characters. */
const REASON_ODD_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * `--reason`: one line a person wrote, kept in the audit log and the trading state and shown by `status` and the
 * editor. A terminal escape in it (`\x1b]0;…`) reached the terminal of everyone who later ran `status`.
 */
export function reasonFlag(text: string | undefined, fail: Fail): string | undefined {
  if (text === undefined) return undefined;
  const odd = new RegExp(REASON_ODD_CHARACTERS.source).exec(text);
  const why =
    text.trim() === ''
      ? 'it is empty'
      : text.length > MAX_REASON_LENGTH
        ? `it is ${text.length.toLocaleString('en-US')} characters long`
        : odd !== null
          ? `it has a control or invisible character (U+${odd[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}) at position ${odd.index + 1}`
          : undefined;
  if (why === undefined) return text;
  throw fail(`--reason must be one line of text of at most ${MAX_REASON_LENGTH} characters: ${why}`);
}
const MAX_REASON_LENGTH = 500;

/**
 * `halt --reason`: the emergency stop is not refused for its reason. A reason `reasonFlag` refuses (several lines
 * pasted, `--reason "$(git log -1)"`, a long one) refused the halt, and trading went on; now it is kept as one line,
 * its control and invisible characters written as escapes and cut to the length a reason has, and `warn` says so.
 * An empty one is the halt's own reason (undefined).
 */
export function haltReasonFlag(text: string | undefined, warn: (message: string) => void): string | undefined {
  if (text === undefined) return undefined;
  let problem: string;
  try {
    return reasonFlag(text, (message) => new Error(message));
  } catch (e) {
    problem = (e as Error).message;
  }
  const line = text
    .trim()
    .replace(REASON_ODD_CHARACTERS, (c) =>
      c === '\n' ? ' / ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  const kept =
    line === '' ? undefined : line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
  warn(
    `${problem}; halting anyway, ${kept === undefined ? "with the halt's own reason" : `with the reason as "${kept.length > 80 ? `${kept.slice(0, 80)}…` : kept}"`}`,
  );
  return kept;
}

/**
 * A flag that takes one of a few words (`--side`, `--broker`, `--environment`): written in any letters (`SELL`,
 * `Buy`, `OANDA`), it is read as the word (as `--param side=SELL` is); anything else is refused naming the flag, the
 * value and the words it takes.
 */
export function choiceFlag<T extends string>(
  flag: string,
  text: string | undefined,
  choices: readonly T[],
  fail: Fail,
): T | undefined {
  if (text === undefined) return undefined;
  const folded = text.trim().toLowerCase();
  const choice = choices.find((c) => c.toLowerCase() === folded);
  if (choice !== undefined && folded !== '') return choice;
  const words = choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
  throw fail(`${flag} must be ${words}, not '${clipFlag(text)}'`);
}

/** What a number flag takes: its values from `min` to `max`, and how its message says it. */
export interface NumberFlag {
  /** As the message says it: "a positive amount", "a whole number ≥ 0". */
  readonly what: string;
  readonly min: number;
  readonly max: number;
  /** `min` itself is refused (a positive amount). */
  readonly aboveMin?: boolean;
  readonly whole?: boolean;
  /** The range in words when `what` does not say it ("at most 1,000,000"); said after the value. */
  readonly range?: string;
}

/** A number as a person writes it: digits, a sign, a point, an exponent. Not hex, `_`, Infinity or spaces. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A number flag's value, checked against what it takes. `Number()` read `0x10` as 16, `1e-400` as 0,
 * `9007199254740993` as …992, and a range of one end only let `--cash 1e308` or `--spread-ticks 1e20` through (a
 * replay quoting EUR/USD with an ask of 1e15). Refused with `fail`, naming the flag, the value, what it takes
 * and why the value is not that.
 */
export function numberFlag(flag: string, text: string, spec: NumberFlag, fail: Fail): number {
  const decimal = DECIMAL.test(text);
  const n = decimal ? Number(text) : Number.NaN;
  let why: string | undefined;
  if (!decimal) {
    const t = text.trim();
    if (t === '') why = undefined;
    else if (t !== text) why = 'no spaces around it';
    else if (/^[+-]?0[xob]/i.test(t)) why = 'write it in decimal digits';
    else if (/\d_\d/.test(t)) why = 'write it without _ between digits';
    else if (/^[+-]?(Infinity|inf)$/i.test(t)) why = 'not a finite number';
    else why = 'not a number';
  } else if (!Number.isFinite(n)) why = 'too large for a number';
  else if (n === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) why = 'too small to tell from 0';
  else if (n < spec.min || (spec.aboveMin && n === spec.min) || n > spec.max) why = undefined;
  else if (spec.whole && !Number.isSafeInteger(n))
    why = Number.isInteger(n) ? 'too large to be exact beyond 2^53' : 'not a whole number';
  else if (spec.min >= 0 && text.startsWith('-')) why = 'a minus sign on a number that cannot be negative';
  else return n;
  const after = [spec.range, why].filter((part) => part !== undefined).join('; ');
  throw fail(`${flag} must be ${spec.what}, not '${text}'${after === '' ? '' : ` (${after})`}`);
}

/**
 * Sets a parameter as the object's own key: `out['__proto__'] = v` would instead replace the object's
 * prototype, the parameter lost and `v`'s keys showing through as if they had been passed.
 */
function setParameter(out: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
}

/** `--param k=v` pairs: v is JSON when it parses, else text (always text for the names in `asText`). */
export function parseParams(
  pairs: readonly string[],
  fail: Fail,
  asText: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw fail(`--param needs key=value, got '${pair}'`);
    const raw = pair.slice(eq + 1);
    // `--param size=1 --param size=100`: the last one won without a word.
    const before = given.get(pair.slice(0, eq));
    if (before !== undefined && before !== raw)
      throw fail(
        `--param ${pair.slice(0, eq)} is given twice ('${clipFlag(before)}', then '${clipFlag(raw)}'); give it once`,
      );
    given.set(pair.slice(0, eq), raw);
    let value: unknown = raw;
    if (!asText.has(pair.slice(0, eq)))
      try {
        value = parseUserJson(raw);
      } catch (e) {
        // Not JSON: text. JSON with a key twice (`{"a": 1, "a": 2}`): which was meant is not guessed.
        if (e instanceof UserJsonError && e.line !== undefined)
          throw fail(`--param ${pair.slice(0, eq)}: ${e.message}`);
      }
    setParameter(out, pair.slice(0, eq), value);
  }
  return out;
}

/** The JSON in the file a flag names (a regular file of at most 16 MiB: userFile.ts). */
export function readJsonFile(path: string, flag: string, fail: Fail): unknown {
  try {
    return readJsonUserFile(path, `${flag}:`);
  } catch (e) {
    throw briefly(fail((e as Error).message));
  }
}

/** The JSON object in the file a flag names, nested at most 64 levels. */
export function readJsonObject(path: string, flag: string, fail: Fail): Record<string, unknown> {
  try {
    return readJsonObjectFile(path, `${flag}:`) as Record<string, unknown>;
  } catch (e) {
    throw briefly(fail((e as Error).message));
  }
}

/**
 * `--param k=v` pairs read for the parameters the component's `__metadata__` declares (the component contract:
 * `{type, default, min, max, options}`): v is read as its declared type ("yes" for a bool, 5 for a float, text
 * for a str even when it looks like a number) and checked against min/max/options; a value that does not fit
 * is a usage error naming the parameter, the value and what the metadata asks for. A name the metadata does not
 * declare is read as `parseParams` does (JSON when it parses, else text) and `warn`ed about when it declares others;
 * what is wrong with the declarations themselves is `warn`ed about too.
 */
export function typedParams(
  pairs: readonly string[],
  metadata: unknown,
  file: string,
  fail: Fail,
  warn: (message: string) => void,
): Record<string, unknown> {
  const { specs, problems } = readParameterSpecs(metadata);
  // A warning names what the component's __metadata__ and the command line hold: never a terminal escape.
  const say = (message: string): void => warn(printable(message));
  // A declaration that contradicts itself (min above max, a default outside its own options) is said first: the
  // refusal of a value that follows would otherwise read as the user's mistake.
  for (const problem of problems) say(`${file}: ${problem}`);
  // A declared parameter is read below as its type says, never as JSON here.
  const out = parseParams(pairs, fail, new Set(specs.map((s) => s.name)));
  if (specs.length === 0) return out;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) {
      say(
        `--param ${name}: ${file} declares no parameter '${name}' in __metadata__['parameters'] (it declares ${specs.map((s) => s.name).join(', ')}); passed as given`,
      );
      continue;
    }
    const read = parseParameterText(spec, pair.slice(eq + 1));
    // The message repeats the value (clipped); the flag is named by its parameter, not echoed whole again.
    if (!read.ok) throw fail(`--param ${pair.length > 80 ? `${name}=…` : pair}: ${read.message} (${file})`);
    if (read.note !== undefined) say(`--param ${read.note}`);
    setParameter(out, name, read.value);
  }
  return out;
}

const POSITIVE_WHOLE: NumberFlag = {
  what: 'a positive whole number',
  min: 1,
  max: Number.MAX_SAFE_INTEGER,
  whole: true,
  range: `at most ${Number.MAX_SAFE_INTEGER}`,
};

/** The longest --timeout: Node's longest timer (2^31 − 1 ms); a longer one fires at once. */
export const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A flag's seconds for a timer (--timeout). */
export const TIMER_SECONDS: NumberFlag = {
  what: `a positive number of seconds up to ${MAX_TIMEOUT_SECONDS} (Node's longest timer)`,
  min: 0,
  aboveMin: true,
  max: MAX_TIMEOUT_SECONDS,
};

/** The flags of the commands that run a component once and send what it returns (test-order, execute, compare). */
export const COMPONENT_RUN_FLAGS = {
  class: { type: 'string' },
  symbol: { type: 'string' },
  side: { type: 'string' },
  'market-data': { type: 'string' },
  signal: { type: 'string' },
  param: { type: 'string', multiple: true },
  'state-dir': { type: 'string' },
  python: { type: 'string' },
  timeout: { type: 'string' },
  limits: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The runner's limits as flags (the names the limit errors' hints give: protocol.ts LIMIT_HINTS). */
export const RUNNER_LIMIT_FLAGS = {
  'output-limit-bytes': { type: 'string' },
  'max-answer-bytes': { type: 'string' },
  'max-metadata-bytes': { type: 'string' },
  'max-nesting-depth': { type: 'string' },
} as const;

const LIMIT_OPTION = {
  'output-limit-bytes': 'outputLimitBytes',
  'max-answer-bytes': 'maxAnswerBytes',
  'max-metadata-bytes': 'maxMetadataBytes',
  'max-nesting-depth': 'maxNestingDepth',
} as const;

type LimitOptions = Partial<Record<(typeof LIMIT_OPTION)[keyof typeof LIMIT_OPTION], number>>;

/** The limits the flags of RUNNER_LIMIT_FLAGS set, each a positive whole number. */
export function runnerLimits(values: Partial<Record<keyof typeof LIMIT_OPTION, string>>, fail: Fail): LimitOptions {
  const out: LimitOptions = {};
  for (const [flag, option] of Object.entries(LIMIT_OPTION) as Array<[keyof typeof LIMIT_OPTION, keyof LimitOptions]>) {
    const text = values[flag];
    if (text === undefined) continue;
    // Byte counts are long: 1_000_000 is read as a million (a `_` between digits only).
    out[option] = numberFlag(`--${flag}`, text.replace(/(?<=\d)_(?=\d)/g, ''), POSITIVE_WHOLE, fail);
  }
  return out;
}

/**
 * The Python a CLI command runs components with: --python, else SPTRADER_PYTHON, else python3/python. A command's
 * --timeout (seconds), when given, bounds the interpreter's first answer too (a --python that hangs), never below
 * the probe's own least time (PROBE_FLOOR_MS); else the probe's own 15 s.
 */
export function cliInterpreter(python: string | undefined, timeoutSeconds?: number): Promise<ResolvedInterpreter> {
  return resolveInterpreter(
    defaultInterpreterCandidates(python ?? process.env['SPTRADER_PYTHON']),
    timeoutSeconds === undefined ? {} : { timeoutMs: timeoutSeconds * 1000 },
  );
}
