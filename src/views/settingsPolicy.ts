/**
 * Which settings a workspace may set. A cloned repository's `.vscode/settings.json` is written by
 * whoever wrote the repository, so it must not be able to point the user's broker profiles (and with
 * them the user's stored credentials) elsewhere, turn live trading on, or loosen a risk limit.
 *
 * - `sptrader.brokerProfiles` and `sptrader.live.*`: the user's settings only. package.json gives them
 *   "scope": "application", and this module reads them from `inspect()`'s `globalValue` and never from a
 *   workspace or folder value, whatever the editor's version does with the scope.
 * - `sptrader.risk.*` and `sptrader.circuitBreaker.*`: the user's value, which a workspace may only
 *   tighten (a smaller maximum, a longer window or cooldown, fewer allowed symbols); a workspace value
 *   that would loosen one is ignored and reported. (Not settable at all in an untrusted workspace: they
 *   are `restrictedConfigurations`.)
 *
 * Pure (no `vscode`): the container passes in what `WorkspaceConfiguration.inspect` returned.
 */
import { parseProfileList, type ProfileList } from './profiles';
import { DEFAULT_RISK_LIMITS, RiskLimitsSchema } from '../execution/risk';
import { CircuitBreakerSchema, DEFAULT_CIRCUIT_BREAKER } from '../execution/tradingState';
import { parseRiskSettings, type RiskSettings } from '../usecases/session';

/** The part of `vscode.WorkspaceConfiguration.inspect()`'s result read here. */
export interface InspectedSetting<T = unknown> {
  readonly defaultValue?: T;
  readonly globalValue?: T;
  readonly workspaceValue?: T;
  readonly workspaceFolderValue?: T;
}

/** A value a workspace set that is not applied, with why. Never holds a secret (settings hold none). */
export interface IgnoredWorkspaceSetting {
  readonly key: string;
  readonly message: string;
}

const WORKSPACE_LEVELS = [
  ['workspaceValue', 'the workspace settings'],
  ['workspaceFolderValue', 'a workspace folder’s settings'],
] as const;

function workspaceValues<T>(inspected: InspectedSetting<T> | undefined): Array<{ value: T; where: string }> {
  const out: Array<{ value: T; where: string }> = [];
  if (!inspected) return out;
  for (const [level, where] of WORKSPACE_LEVELS) {
    const value = inspected[level];
    if (value !== undefined) out.push({ value, where });
  }
  return out;
}

/** The user's value of a setting, else its default; never a workspace's. */
export function userValue<T>(inspected: InspectedSetting<T> | undefined): T | undefined {
  return inspected?.globalValue !== undefined ? inspected.globalValue : inspected?.defaultValue;
}

export interface UserProfileList extends ProfileList {
  readonly ignored: readonly IgnoredWorkspaceSetting[];
}

/**
 * The broker profiles of the user's settings (paper first). Profiles a workspace defines are never used,
 * not even under a new id: connecting one would send requests, and with them the user's account details,
 * wherever the repository's author chose. Each workspace level that has any is reported once.
 */
export function userProfiles(inspected: InspectedSetting | undefined): UserProfileList {
  const { profiles, problems } = parseProfileList(inspected?.globalValue);
  const userIds = new Set(profiles.map((p) => p.id));
  const ignored = workspaceValues(inspected).map(({ value, where }): IgnoredWorkspaceSetting => {
    const ids = Array.isArray(value) ? value.map(idOf).filter((id): id is string => id !== undefined) : [];
    const shadowed = ids.filter((id) => userIds.has(id));
    const named = ids.length === 0 ? '' : ` (${ids.map((id) => `"${id}"`).join(', ')})`;
    const why =
      shadowed.length > 0
        ? `; it would have replaced your own profile ${shadowed.map((id) => `"${id}"`).join(', ')}, which stays as your user settings define it`
        : '';
    return {
      key: 'sptrader.brokerProfiles',
      message:
        `sptrader.brokerProfiles in ${where}${named} is ignored: broker profiles are read only from your user settings, so that ` +
        `a repository cannot send your credentials elsewhere${why}. Add a profile you trust with "SPtrader: Add Broker Profile".`,
    };
  });
  return { profiles, problems, ignored };
}

/** `sptrader.live.enabled` from the user's settings only. */
export function userLiveEnabled(inspected: InspectedSetting | undefined): {
  enabled: boolean;
  ignored: IgnoredWorkspaceSetting[];
} {
  const ignored = workspaceValues(inspected)
    .filter(({ value }) => value === true)
    .map(({ where }) => ({
      key: 'sptrader.live.enabled',
      message: `sptrader.live.enabled in ${where} is ignored: live trading can be turned on only in your user settings.`,
    }));
  return { enabled: inspected?.globalValue === true, ignored };
}

/** How a workspace value may differ from the user's for it to tighten the limit. */
type Direction = 'lower' | 'higher' | 'subset';

/** Every risk and circuit-breaker setting, with what "stricter" means for it. */
export const LIMIT_DIRECTIONS: Readonly<Record<'risk' | 'circuitBreaker', Readonly<Record<string, Direction>>>> = {
  risk: {
    maxOrderQuantity: 'lower',
    maxPositionQuantity: 'lower',
    maxOrderNotional: 'lower',
    priceCollarBps: 'lower',
    maxOpenOrders: 'lower',
    maxOrdersPerSecond: 'lower',
    orderBurst: 'lower',
    allowedSymbols: 'subset',
  },
  circuitBreaker: {
    // Empty (null) is "off": any number is stricter.
    maxConsecutiveFailures: 'lower',
    maxFailuresInWindow: 'lower',
    maxDailyLoss: 'lower',
    // A longer window counts more failures; a longer cooldown (null: only a person resumes) holds a halt longer.
    windowSeconds: 'higher',
    cooldownSeconds: 'higher',
  },
};

export interface EffectiveLimits {
  /** `sptrader.risk.*` by key (without the prefix): the user's value or default, tightened by the workspace. */
  readonly risk: Record<string, unknown>;
  readonly circuitBreaker: Record<string, unknown>;
  /** Workspace values applied because they are stricter, e.g. `sptrader.risk.maxOrderQuantity: 1000 (yours 1000000)`. */
  readonly tightened: readonly string[];
  readonly ignored: readonly IgnoredWorkspaceSetting[];
}

/**
 * The risk limits and circuit breaker in effect: for each key (the known ones, and any other `present`
 * one) the user's value or the default, replaced by a workspace value only when that is stricter.
 * `inspect(section, key)` returns the setting `sptrader.<section>.<key>` as inspected.
 */
export function effectiveLimits(
  inspect: (section: 'risk' | 'circuitBreaker', key: string) => InspectedSetting | undefined,
  present: Readonly<Record<'risk' | 'circuitBreaker', readonly string[]>> = { risk: [], circuitBreaker: [] },
): EffectiveLimits {
  const tightened: string[] = [];
  const ignored: IgnoredWorkspaceSetting[] = [];
  const result = { risk: {} as Record<string, unknown>, circuitBreaker: {} as Record<string, unknown> };
  for (const section of ['risk', 'circuitBreaker'] as const) {
    const directions = LIMIT_DIRECTIONS[section];
    const keys = [...new Set([...Object.keys(directions), ...present[section]])];
    for (const key of keys) {
      const name = `sptrader.${section}.${key}`;
      const inspected = inspect(section, key);
      let value = userValue(inspected);
      for (const { value: candidate, where } of workspaceValues(inspected)) {
        // Own keys only: `constructor` is no limit (directions['constructor'] was Object, a "direction").
        const direction = Object.hasOwn(directions, key) ? directions[key] : undefined;
        const verdict = direction === undefined ? undefined : tighter(section, key, direction, value, candidate);
        if (verdict?.apply) {
          tightened.push(`${name}: ${show(verdict.value)} from ${where} (yours ${show(value)})`);
          value = verdict.value;
        } else if (!isSame(candidate, value)) {
          const reason =
            direction === undefined
              ? 'workspaces can set only the known limits'
              : (verdict?.why ??
                `it would loosen your limit (${show(value)}); workspace settings can only tighten risk limits`);
          ignored.push({ key: name, message: `${name} = ${show(candidate)} in ${where} is ignored: ${reason}.` });
        }
      }
      // Defined, not assigned: `obj['__proto__'] = v` replaced the object's prototype, the setting lost unseen.
      if (value !== undefined)
        Object.defineProperty(result[section], key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return { ...result, tightened, ignored };
}

type Verdict = { apply: true; value: unknown } | { apply: false; why?: string };

/** A number written as text ("10", " 2000 ") is that number, as the engine reads a setting (riskSettingsOf). */
const settingNumber = (v: unknown): unknown => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v);

type SafeParser = { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ message: string }> } } };

/**
 * A setting as the engine reads it: its engine key, its schema and its value in the engine's unit (a number written as
 * text is that number; the breaker's seconds are milliseconds). Undefined for a key SPtrader does not know.
 */
function engineReading(
  section: 'risk' | 'circuitBreaker',
  key: string,
  raw: unknown,
): { key: string; schema: SafeParser; value: unknown } | undefined {
  const value = settingNumber(raw);
  if (section === 'risk') {
    const shape = RiskLimitsSchema.shape as Record<string, SafeParser>;
    return Object.hasOwn(shape, key) ? { key, schema: shape[key]!, value } : undefined;
  }
  const target = Object.hasOwn(BREAKER_KEYS, key) ? BREAKER_KEYS[key] : undefined;
  const shape = CircuitBreakerSchema.shape as Record<string, SafeParser>;
  if (target === undefined || !Object.hasOwn(shape, target.key)) return undefined;
  const scaled = typeof value === 'number' && target.scale !== 1 ? Math.round(value * target.scale) : value;
  return { key: target.key, schema: shape[target.key]!, value: scaled };
}

/** Whether a setting's value (set, not empty) is one the engine runs under, as riskSettingsOf checks it. */
function validSetting(section: 'risk' | 'circuitBreaker', key: string, raw: unknown): boolean {
  const reading = engineReading(section, key, raw);
  return reading !== undefined && reading.schema.safeParse(reading.value).success;
}

/**
 * Whether the workspace's `candidate` tightens the user's own `rawCurrent` (their value, else the default). The
 * user's value is read as the engine reads it: compared as written, a limit written as text ("1000", which the engine
 * takes as 1,000) was taken for a limit that is off, and a cloned repository's 500,000 replaced it, reported as
 * "tightened". A user's value that is not valid (text, a negative number, a fraction where a count goes) halts
 * trading until it is fixed; a workspace value in its place would lift that halt, so it is not applied either.
 */
function tighter(
  section: 'risk' | 'circuitBreaker',
  key: string,
  direction: Direction,
  rawCurrent: unknown,
  candidate: unknown,
): Verdict {
  const current = settingNumber(rawCurrent);
  const empty = current === null || current === undefined || (Array.isArray(current) && current.length === 0);
  if (!empty && !validSetting(section, key, current))
    return {
      apply: false,
      why: `your own value (${show(rawCurrent)}) is not valid: no order is sent until you fix it in your user settings`,
    };
  if (direction === 'subset') {
    if (!isSymbolList(candidate)) return { apply: false, why: 'it must be a list of symbols' };
    const mine = Array.isArray(current) ? (current as string[]) : [];
    // An empty list allows every symbol: from a workspace it could only loosen.
    if (candidate.length === 0) return { apply: false };
    if (mine.length === 0) return { apply: true, value: [...candidate] };
    const common = mine.filter((s) => candidate.includes(s));
    // No symbol in common cannot be written (an empty list means "all"); yours stay.
    if (common.length === 0)
      return { apply: false, why: `it shares no symbol with yours (${mine.join(', ')}), which stay` };
    return common.length < mine.length ? { apply: true, value: common } : { apply: false };
  }
  if (typeof candidate !== 'number' || !Number.isFinite(candidate) || candidate <= 0)
    return { apply: false, why: 'a workspace may set it only to a positive number' };
  // An empty maximum is the engine's default (riskSettingsOf leaves it out, parseRiskSettings puts the default in):
  // taken for "off", a workspace's 1,500,000 replaced the 1,000,000 in effect. Only a maximum the engine has no default
  // for (the daily loss) is off, and any number is stricter.
  if (typeof current !== 'number' && direction === 'lower') {
    const fallback = engineDefault(section, key);
    if (fallback === undefined) return { apply: true, value: candidate };
    return candidate < fallback
      ? { apply: true, value: candidate }
      : {
          apply: false,
          why: `it would loosen the limit in effect (${show(fallback)}, the default your empty setting takes)`,
        };
  }
  // For a window or cooldown, null means "until a person resumes", the strictest.
  if (typeof current !== 'number') return { apply: false };
  if (direction === 'lower') return candidate < current ? { apply: true, value: candidate } : { apply: false };
  return candidate > current ? { apply: true, value: candidate } : { apply: false };
}

/** The value the engine runs under when a setting is empty, in the setting's own unit; undefined: none (off). */
function engineDefault(section: 'risk' | 'circuitBreaker', key: string): number | undefined {
  if (section === 'risk')
    return Object.hasOwn(DEFAULT_RISK_LIMITS, key)
      ? (DEFAULT_RISK_LIMITS as Readonly<Record<string, number | undefined>>)[key]
      : undefined;
  const target = Object.hasOwn(BREAKER_KEYS, key) ? BREAKER_KEYS[key] : undefined;
  const value =
    target && Object.hasOwn(DEFAULT_CIRCUIT_BREAKER, target.key)
      ? (DEFAULT_CIRCUIT_BREAKER as Readonly<Record<string, number | undefined>>)[target.key]
      : undefined;
  return target === undefined || value === undefined ? undefined : value / target.scale;
}

const isSymbolList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((s) => typeof s === 'string' && s !== '');

const idOf = (entry: unknown): string | undefined =>
  typeof entry === 'object' && entry !== null && 'id' in entry && typeof entry.id === 'string' ? entry.id : undefined;

/**
 * A setting's value in a message, at most 80 characters: the message goes into a toast, the log and (a halt's
 * reason) the audit log, and a value of a megabyte went into each whole.
 */
const show = (value: unknown): string => {
  if (value === undefined || value === null) return 'empty';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 80)}… (${text.length.toLocaleString('en-US')} characters)` : text;
};

const isSame = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Each limit at its strictest, for a setting that is not valid (undefined: the key is left out, which for the
 * cool-down means "only a person resumes"). Stricter than any value the user could have meant: a maximum of the
 * smallest number there is (every order above it denied), one open order, a symbol list that allows none.
 */
const STRICTEST: Readonly<Record<'risk' | 'circuitBreaker', Readonly<Record<string, unknown>>>> = {
  risk: {
    maxOrderQuantity: Number.MIN_VALUE,
    maxPositionQuantity: Number.MIN_VALUE,
    maxOrderNotional: Number.MIN_VALUE,
    priceCollarBps: Number.MIN_VALUE,
    maxOpenOrders: 1,
    maxOrdersPerSecond: Number.MIN_VALUE,
    orderBurst: 1,
    allowedSymbols: ['\u0000none'],
  },
  circuitBreaker: {
    maxConsecutiveFailures: 1,
    maxFailuresInWindow: 1,
    windowMs: Number.MAX_SAFE_INTEGER,
    maxDailyLoss: Number.MIN_VALUE,
    cooldownMs: undefined,
  },
};

/** The engine's circuit-breaker key for each `sptrader.circuitBreaker.*` setting (seconds become milliseconds). */
const BREAKER_KEYS: Readonly<Record<string, { key: string; scale: number }>> = {
  maxConsecutiveFailures: { key: 'maxConsecutiveFailures', scale: 1 },
  maxFailuresInWindow: { key: 'maxFailuresInWindow', scale: 1 },
  windowSeconds: { key: 'windowMs', scale: 1000 },
  maxDailyLoss: { key: 'maxDailyLoss', scale: 1 },
  cooldownSeconds: { key: 'cooldownMs', scale: 1000 },
};

/**
 * The risk settings the engine runs under, from the effective limits, each setting checked on its own and each
 * problem naming its setting. A known setting whose value does not fit (wrong type, not finite, zero or below, not
 * whole where it must be) makes `settings` undefined: no order may be sent until it is fixed. Its default used to
 * apply instead, which loosened the user's risk (a `maxOrderQuantity` of "1O" meant to be 10 became 1,000,000; a
 * `cooldownSeconds` of -1 became 300 s where empty, the strictest, means "only a person resumes"). An unknown key
 * is reported and ignored (it is no limit the engine knows; a workspace cannot add one). A number written as text
 * ("10") is read as that number. Empty values and empty lists take the defaults, as before.
 */
export function riskSettingsOf(effective: Pick<EffectiveLimits, 'risk' | 'circuitBreaker'>): {
  /** Undefined while a known setting is not valid: trading must be refused (`invalid` says why). */
  settings: RiskSettings | undefined;
  /** Every problem, one sentence each naming its setting (the invalid ones and the ignored unknown keys). */
  problems: string[];
  /** The problems that refuse trading. */
  invalid: string[];
  /**
   * While a setting is not valid: the valid ones as they are and each invalid one at its strictest (STRICTEST), for
   * an engine that is halted for it and may be resumed by a person before it is fixed: no looser than any value
   * the user could have meant.
   */
  strictest?: RiskSettings;
} {
  const problems: string[] = [];
  const invalid: string[] = [];
  /** `risk.maxOrderQuantity`, `circuitBreaker.cooldownSeconds`: the settings of `invalid`. */
  const invalidKeys: string[] = [];
  const check = (name: string, schema: SafeParser | undefined, value: unknown): boolean => {
    if (schema === undefined) {
      problems.push(`${name} is not a setting SPtrader knows; it is ignored`);
      return false;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return true;
    const why = parsed.error?.issues.map((i) => i.message).join('; ') ?? 'not valid';
    const problem = `${name} = ${show(value)} is not valid (${why}); no order is sent until it is fixed`;
    invalid.push(problem);
    invalidKeys.push(name.slice('sptrader.'.length));
    problems.push(problem);
    return false;
  };
  const limits: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(effective.risk)) {
    if (raw === null || raw === undefined || (Array.isArray(raw) && raw.length === 0)) continue;
    const reading = engineReading('risk', key, raw);
    if (check(`sptrader.risk.${key}`, reading?.schema, reading?.value ?? raw) && reading) limits[key] = reading.value;
  }
  const circuitBreaker: Record<string, unknown> = {};
  // An empty cool-down is the strictest: a halt lasts until a person resumes (package.json says so). Dropping it
  // like the other empty values gave the default's 300 s, after which trading resumed by itself.
  let manualResumeOnly = false;
  for (const [setting, raw] of Object.entries(effective.circuitBreaker)) {
    if (raw === null && setting === 'cooldownSeconds') manualResumeOnly = true;
    if (raw === null || raw === undefined) continue;
    const reading = engineReading('circuitBreaker', setting, raw);
    const name = `sptrader.circuitBreaker.${setting}`;
    if (reading === undefined) {
      check(name, undefined, raw);
      continue;
    }
    // The engine's value (milliseconds) is checked; the message shows what the user wrote, in seconds.
    const engineValue = { safeParse: () => reading.schema.safeParse(reading.value) };
    if (check(name, engineValue, settingNumber(raw))) circuitBreaker[reading.key] = reading.value;
  }
  if (invalid.length > 0) {
    const strictest = parseRiskSettings({ limits, circuitBreaker }, 'settings');
    for (const name of invalidKeys) {
      const [section, key] = name.split('.') as ['risk' | 'circuitBreaker', string];
      const target = section === 'risk' ? strictest.limits : strictest.circuitBreaker;
      const engineKey = section === 'risk' ? key : (BREAKER_KEYS[key]?.key ?? key);
      const value = STRICTEST[section][engineKey];
      if (value === undefined) delete (target as Record<string, unknown>)[engineKey];
      else (target as Record<string, unknown>)[engineKey] = value;
    }
    return { settings: undefined, problems, invalid, strictest };
  }
  const settings = parseRiskSettings({ limits, circuitBreaker }, 'settings (sptrader.risk / sptrader.circuitBreaker)');
  if (manualResumeOnly) delete settings.circuitBreaker.cooldownMs;
  return { settings, problems, invalid };
}
