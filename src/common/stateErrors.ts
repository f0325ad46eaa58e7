/**
 * Errors about the files SPtrader keeps in a state directory, shared by every reader so that the CLI
 * and the editor can say which file is at fault and what to do, instead of a stack trace.
 *
 * - `StateFileError`: a file could not be read or written at all (a machine fault or a user's mistake:
 *   permissions, a directory where a file belongs, a full disk). CLI exit code 6.
 * - `StateDamagedError`: a file was read and is damaged, missing or older than the audit log says it
 *   must be. Trading is refused until the user acts (`sptrader recover`). CLI exit code 6.
 */

export class StateFileError extends Error {
  override readonly name: string = 'StateFileError';
  constructor(
    /** The file (or directory) at fault, absolute. */
    readonly file: string,
    /** What was wrong, in words a user understands. */
    readonly problem: string,
    /** What to do about it. */
    readonly remedy?: string,
  ) {
    super(`${file}: ${problem}${remedy ? `. ${remedy}` : ''}`);
  }
}

export const RECOVER_HINT =
  'Nothing was sent. Run `sptrader recover --state-dir DIR` (or SPtrader: Recover State in the editor) to rebuild it from the audit log';

export class StateDamagedError extends StateFileError {
  override readonly name = 'StateDamagedError';
  constructor(file: string, problem: string, remedy: string = RECOVER_HINT) {
    super(file, problem, remedy);
  }
}

/** A file-system error as a StateFileError naming the file, with a plain reason for the common codes. */
export function stateFileErrorOf(file: string, action: string, e: unknown): StateFileError {
  if (e instanceof StateFileError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOSPC'
      ? 'the disk is full'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : code === 'EISDIR'
            ? 'a directory is in the place of this file'
            : code === 'ENOTDIR'
              ? 'a file is in the place of a directory on this path'
              : code === 'ENOENT'
                ? 'it does not exist'
                : code === 'ELOOP'
                  ? 'its symbolic links point at each other in a loop (no file is at the end of them)'
                  : code === 'ENAMETOOLONG'
                    ? 'the path is too long for the file system (a name of at most 255 bytes, a path of at most 4,096)'
                    : // Node's own words name the path a second time (a 100 KB path printed twice).
                      ((e as Error | undefined)?.message ?? String(e));
  return new StateFileError(file, `cannot ${action}: ${why}`);
}

/** Whether a file-system error is a permission refusal (the file is there and may be whole: only its access is wrong). */
export function isPermissionError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * A state file this user may not read: not damage (`recover` would set aside or rebuild a file that is whole),
 * a StateFileError saying how to give the access back. `what` names it ("the paper account").
 */
export function permissionDenied(file: string, what: string): StateFileError {
  return new StateFileError(
    file,
    `cannot read ${what}: permission denied`,
    `Nothing was sent. Its access, not its content, is at fault: give your user read and write access to it (chmod u+rw ${file}, or change its owner back), then run the command again`,
  );
}

/**
 * When a state file's JSON says it has a format newer than the `highest` this version reads (the folder was last
 * used by a newer SPtrader), the sentence that says so; undefined otherwise. Without it the file was called
 * "invalid" or "not a paper account", as if damaged, and the remedy offered was to rebuild it.
 */
export function newerFormat(json: unknown, highest: number): string | undefined {
  const version = (json as { version?: unknown } | null | undefined)?.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version <= highest) return undefined;
  return `it was written by a newer version of SPtrader (format ${version}; this version reads formats up to ${highest}): open this folder with that version again, or rebuild the file for this one from the audit log`;
}
