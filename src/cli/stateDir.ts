/**
 * The state directory a CLI command works in: checked once (stateDirOf), and named in remedies that say
 * `--state-dir DIR` and in file errors that do not carry their path. Apart from failures.ts so that a command module
 * the usage text imports (algo.ts, compare.ts) can use it without an import circle through the usage.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StateFileError, stateFileErrorOf } from '../common/stateErrors';
import { DEFAULT_CLI_STATE_DIR } from '../common/statePaths';

/** The folder the command works in (a state directory, an audit folder), named when a file error does not say which file. */
let folder: string | undefined;

/** The folder the command works in, when it named one. */
export const commandFolder = (): string | undefined => folder;

/** Names the folder a command works in, for a file error that does not carry its path. */
export function setCommandFolder(dir: string): void {
  folder = dir;
}

/** The state directory of the command, put into remedies that say `--state-dir DIR`. */
let commandStateDir: string | undefined;
export const withStateDir = (text: string): string =>
  commandStateDir === undefined ? text : text.replaceAll('--state-dir DIR', `--state-dir ${commandStateDir}`);

/** `withStateDir` inside JSON text: the folder written as a JSON string's content (a Windows path's backslashes). */
export const withStateDirInJson = (json: string): string =>
  commandStateDir === undefined
    ? json
    : json.replaceAll('--state-dir DIR', `--state-dir ${JSON.stringify(commandStateDir).slice(1, -1)}`);

/** The state directory, refused at once when something other than a folder is there. */
export function stateDirOf(value: string | undefined): string {
  const dir = resolve(value ?? DEFAULT_CLI_STATE_DIR);
  folder = dir;
  commandStateDir = dir;
  let stats;
  try {
    stats = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return dir;
    throw stateFileErrorOf(dir, 'use it as the state directory', e);
  }
  if (!stats.isDirectory())
    throw new StateFileError(dir, 'this is a file, not a state directory', 'Pass a folder to --state-dir');
  return dir;
}
