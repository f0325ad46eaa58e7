/**
 * The `sptrader.replay.*` settings, checked as package.json declares them. VS Code only underlines a value of the
 * wrong type or range in settings.json and hands it over as is, so each is checked here; a value that does not fit is
 * an error naming the setting (the replay does not run), never a default in its place: the user asked for another
 * stopping rule than the default's, and a replay under the wrong one either stops where they meant it to go on or
 * runs a broken component over every record.
 */
import { Settings } from '../constants';
import { DEFAULT_MAX_CONSECUTIVE_ERRORS, MAX_CONSECUTIVE_ERRORS } from '../usecases/replayFailures';
import { describeSettingValue } from './runnerSettings';

export interface ReplaySettings {
  /** Records in a row failing the same way that stop a replay (0: never): `sptrader replay --max-consecutive-errors`. */
  readonly maxConsecutiveErrors: number;
}

/** Reads the settings through `get` (a key below `sptrader.`); a value that does not fit: `problem` names it. */
export function readReplaySettings(
  get: (key: string) => unknown,
): { settings: ReplaySettings; problem?: undefined } | { settings?: undefined; problem: string } {
  const key = Settings.replayMaxConsecutiveErrors;
  const raw = get(key);
  if (raw === undefined || raw === null) return { settings: { maxConsecutiveErrors: DEFAULT_MAX_CONSECUTIVE_ERRORS } };
  // A number written as a string ("50") is that number, as for the other numeric settings.
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_CONSECUTIVE_ERRORS)
    return { settings: { maxConsecutiveErrors: value } };
  return {
    problem:
      `${Settings.section}.${key} must be a whole number from 0 to ${MAX_CONSECUTIVE_ERRORS.toLocaleString('en-US')} ` +
      `(records in a row failing the same way that stop a replay; 0: never stop), not ${describeSettingValue(value)}; ` +
      'no replay runs until it is fixed',
  };
}
