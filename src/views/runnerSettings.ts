/**
 * The `sptrader.python.*` settings read for a component run, checked as package.json declares them. VS Code
 * only underlines a value of the wrong type or range in settings.json and hands it over as is: a path that
 * is not a string threw "trim is not a function" inside Test Order, and a timeout of 0 (or -1, or 0.0001)
 * failed every run with "timeoutMs must be a positive whole number", naming no setting. A value that does
 * not fit is now reported once, naming the setting, and its default is used instead. A number written as a
 * string ("60") is read as that number, as it always was.
 */
import { statSync } from 'node:fs';
import { Settings } from '../constants';
import { DEFAULT_RUNNER_LIMITS } from '../python/runner';

/** The longest timer Node keeps: a longer one fires at once (TimeoutOverflowWarning), timing every run out. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The numeric settings: package.json's `minimum` (below it a run cannot work), and the default used when a
 * value does not fit. package.json's `maximum` is advice the settings editor shows; a larger value is used
 * as it always was, up to `max`, past which a run cannot work either (a timeout of 1e9 s fired at once and
 * every run "did not return within 1000000000 s"; a limit of 1e300 bytes failed every run with
 * "outputLimitBytes must be a positive whole number", naming no setting): past it, `max` is used.
 */
export const RUNNER_NUMBER_SETTINGS = {
  timeoutSeconds: {
    key: Settings.timeoutSeconds,
    min: 1,
    max: MAX_TIMER_SECONDS,
    integer: false,
    fallback: DEFAULT_RUNNER_LIMITS.timeoutMs / 1000,
  },
  outputLimitBytes: {
    key: Settings.outputLimitBytes,
    max: Number.MAX_SAFE_INTEGER,
    min: 1024,
    integer: true,
    fallback: DEFAULT_RUNNER_LIMITS.outputLimitBytes,
  },
  maxAnswerBytes: {
    key: Settings.maxAnswerBytes,
    max: Number.MAX_SAFE_INTEGER,
    min: 1024,
    integer: true,
    fallback: DEFAULT_RUNNER_LIMITS.maxAnswerBytes,
  },
  maxMetadataBytes: {
    key: Settings.maxMetadataBytes,
    max: Number.MAX_SAFE_INTEGER,
    min: 1024,
    integer: true,
    fallback: DEFAULT_RUNNER_LIMITS.maxMetadataBytes,
  },
  maxNestingDepth: {
    key: Settings.maxNestingDepth,
    max: Number.MAX_SAFE_INTEGER,
    min: 4,
    integer: true,
    fallback: DEFAULT_RUNNER_LIMITS.maxNestingDepth,
  },
} as const;

export interface RunnerSettings {
  /** Undefined when unset or empty. */
  interpreterPath: string | undefined;
  packageRoot: string | undefined;
  timeoutMs: number;
  outputLimitBytes: number;
  maxAnswerBytes: number;
  maxMetadataBytes: number;
  maxNestingDepth: number;
  /** One sentence per setting that did not fit, naming it, what it holds and what is used instead. */
  problems: string[];
}

/** Reads the settings through `get` (a key below `sptrader.`, as `WorkspaceConfiguration.get` takes it). */
export function readRunnerSettings(get: (key: string) => unknown): RunnerSettings {
  const problems: string[] = [];
  const text = (key: string): string | undefined => {
    const value = get(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      problems.push(
        `${Settings.section}.${key} must be a path in a string, not ${describeSettingValue(value)}; it is ignored`,
      );
      return undefined;
    }
    return value.trim() || undefined;
  };
  // The component's process starts in this folder: one that is missing failed the spawn with ENOENT, which
  // reads as "could not start python3" and sent the user to choose another interpreter.
  const folder = (key: string): string | undefined => {
    const path = text(key);
    if (path === undefined) return undefined;
    const what = kindOf(path);
    if (what === 'folder') return path;
    problems.push(
      `${Settings.section}.${key} must be a folder, but ${path} ${what === 'missing' ? 'does not exist' : `is ${what}`}; it is ignored (the folder is found from the component's location)`,
    );
    return undefined;
  };
  const number = (name: keyof typeof RUNNER_NUMBER_SETTINGS): number => {
    const { key, min, max, integer, fallback } = RUNNER_NUMBER_SETTINGS[name];
    const raw = get(key);
    if (raw === undefined || raw === null) return fallback;
    const value = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    const fits =
      typeof value === 'number' && Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value));
    if (fits && value > max) {
      problems.push(
        `${Settings.section}.${key} must be at most ${max}${name === 'timeoutSeconds' ? ' (about 24 days, the longest timer there is)' : ''}, not ${describeSettingValue(value)}; ${max} is used`,
      );
      return max;
    }
    if (fits) return value;
    problems.push(
      `${Settings.section}.${key} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}, not ${describeSettingValue(value)}; ${fallback} is used`,
    );
    return fallback;
  };
  return {
    interpreterPath: text(Settings.interpreterPath),
    packageRoot: folder(Settings.packageRoot),
    timeoutMs: Math.round(number('timeoutSeconds') * 1000),
    outputLimitBytes: number('outputLimitBytes'),
    maxAnswerBytes: number('maxAnswerBytes'),
    maxMetadataBytes: number('maxMetadataBytes'),
    maxNestingDepth: number('maxNestingDepth'),
    problems,
  };
}

function kindOf(path: string): 'folder' | 'missing' | 'a file' | 'not a folder' {
  try {
    const stat = statSync(path);
    return stat.isDirectory() ? 'folder' : stat.isFile() ? 'a file' : 'not a folder';
  } catch {
    return 'missing';
  }
}

/** A setting's value in a message: a short string quoted, else what kind of value it is. */
export function describeSettingValue(value: unknown): string {
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
