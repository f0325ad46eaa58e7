/**
 * The `sptrader.paper.*` settings, checked as package.json declares them. VS Code only underlines a value of
 * the wrong type in settings.json and hands it over as is: a starting cash of "abc" stopped the whole extension
 * ("SPtrader could not start: not a finite amount: abc", naming no setting), a negative one opened an account
 * that could buy nothing, and a seed of "x" or -3 made another market than the one the user asked for. A value
 * that does not fit is reported, naming the setting, and the default is used.
 */
import { Settings } from '../constants';
import { describeSettingValue } from './runnerSettings';

/** As `sptrader replay --cash`: a trillion is past any account (1e308 gave an equity of "1e+308 USD"). */
const MAX_STARTING_CASH = 1e12;

export interface PaperSettings {
  /** Undefined: the venue's default (100,000), or the saved account's. */
  readonly startingCash: number | undefined;
  /** Undefined: the saved account's seed, else 1. */
  readonly seed: number | undefined;
  /** One sentence per setting that did not fit, naming it, what it holds and what is used instead. */
  readonly problems: readonly string[];
}

/** Reads the settings through `get` (a key below `sptrader.`, as `WorkspaceConfiguration.get` takes it). */
export function readPaperSettings(get: (key: string) => unknown): PaperSettings {
  const problems: string[] = [];
  const numberOf = (raw: unknown): unknown =>
    typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;

  let startingCash: number | undefined;
  const cash = numberOf(get(Settings.paperStartingCash));
  if (cash !== undefined && cash !== null) {
    if (typeof cash === 'number' && Number.isFinite(cash) && cash > 0 && cash <= MAX_STARTING_CASH) startingCash = cash;
    else
      problems.push(
        `${Settings.section}.${Settings.paperStartingCash} must be an amount above 0, not ${describeSettingValue(cash)}${typeof cash === 'number' && cash > MAX_STARTING_CASH ? ' (at most 1,000,000,000,000)' : ''}; 100,000 is used`,
      );
  }
  let seed: number | undefined;
  const rawSeed = numberOf(get(Settings.paperSeed));
  if (rawSeed !== undefined && rawSeed !== null) {
    if (typeof rawSeed === 'number' && Number.isSafeInteger(rawSeed) && rawSeed >= 0) seed = rawSeed;
    else
      problems.push(
        `${Settings.section}.${Settings.paperSeed} must be a whole number of at least 0 (or empty), not ${describeSettingValue(rawSeed)}; the saved account's seed is used`,
      );
  }
  return { startingCash, seed, problems };
}
