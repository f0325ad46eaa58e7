/**
 * How every `sptrader` command ends: one exit code from the table below (the README's), and a message
 * naming the file or input at fault; a stack trace only for a bug (exit 70) and only with SPTRADER_DEBUG=1.
 * Also the command's folder, named when a file error does not say which file.
 */
import { printable } from '../usecases/formatOutcome';
import { StateDamagedError, StateFileError, stateFileErrorOf } from '../common/stateErrors';
import { isBrokerError } from '../brokers/errors';
import { AuditLogFailedError } from '../execution/audit/auditLog';
import { StateDirBusyError } from '../common/stateLock';
import { SettingsError } from '../usecases/session';
import { statePaths } from '../common/statePaths';
import { commandFolder, withStateDir } from './stateDir';
import { USAGE } from './usage';
import { isBrief } from './args';

export class UsageError extends Error {
  /** `brief`: the message says all there is (a confirmation asked for), without the whole usage text after it. */
  constructor(
    message: string,
    readonly brief = false,
  ) {
    super(message);
  }
}
export const usage = (message: string): Error => new UsageError(message);

/** The exit codes, as the README's table has them. */
export const EXIT = {
  ok: 0,
  componentError: 1,
  usage: 2,
  denied: 3,
  broker: 4,
  busy: 5,
  stateFile: 6,
  venueRejected: 7,
  internal: 70,
} as const;

const FS_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EROFS',
  'EISDIR',
  'ENOTDIR',
  'ENOSPC',
  'EEXIST',
  'EMFILE',
  'EIO',
  'EDQUOT',
]);

/** A node file-system error (it carries the path it failed on), as a StateFileError naming that path. */
export function asStateFileError(e: unknown): StateFileError | undefined {
  if (e instanceof StateFileError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code === 'string' && FS_CODES.has(err.code) && typeof err.path === 'string') {
    const action = err.syscall === undefined ? 'use it' : (SYSCALL_ACTIONS[err.syscall] ?? `${err.syscall} it`);
    // A rename of a temp file over a state file that fails for what is at the state file's name (a folder there)
    // names the state file: the temp file is SPtrader's own, and already removed.
    const dest = (err as { dest?: unknown }).dest;
    if (err.syscall === 'rename' && typeof dest === 'string' && DEST_CODES.has(err.code))
      return stateFileErrorOf(dest, action, e);
    return stateFileErrorOf(err.path, action, e);
  }
  return undefined;
}

/** What a rename's error says of its destination rather than its source. */
const DEST_CODES = new Set(['EISDIR', 'ENOTEMPTY', 'EEXIST']);

const SYSCALL_ACTIONS: Readonly<Record<string, string>> = {
  open: 'open it',
  read: 'read it',
  write: 'write it',
  mkdir: 'create it',
  rename: 'replace it',
  unlink: 'remove it',
  scandir: 'list it',
  stat: 'look at it',
  fsync: 'save it to disk',
  fdatasync: 'save it to disk',
};

/** Prints why a command failed and returns its exit code: never a stack trace for a user's mistake or a machine fault. */
export function reportFailure(e: unknown, json: boolean): number {
  const fail = (code: number, kind: string, message: string, extra: Record<string, unknown> = {}): number => {
    process.stderr.write(`sptrader: ${printable(message)}\n`);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ ok: false, exitCode: code, errors: [{ code: kind, message, ...extra }] })}\n`,
      );
    return code;
  };
  if (e instanceof UsageError || (e as { code?: unknown } | undefined)?.code?.toString().startsWith('ERR_PARSE_ARGS')) {
    // A usage error repeats what was typed: never a terminal escape. A script asking for --json gets the failure as
    // one JSON object, as for any other (the whole usage text is for a person at a terminal).
    if (json)
      return fail(EXIT.usage, 'USAGE', `${(e as Error).message} (sptrader help lists the commands and options)`);
    process.stderr.write(`sptrader: ${printable((e as Error).message)}\n${isBrief(e) ? '' : `\n${USAGE}`}`);
    return EXIT.usage;
  }
  if (e instanceof SettingsError) return fail(EXIT.usage, 'INVALID_SETTINGS', e.message);
  // Nothing was read, written or sent: another process owns the state directory.
  if (e instanceof StateDirBusyError)
    return fail(EXIT.busy, 'STATE_DIR_BUSY', e.message, { path: statePaths(e.dir).lock });
  const stateError = asStateFileError(e);
  if (stateError) {
    const damaged = stateError instanceof StateDamagedError;
    const message = withStateDir(
      stateError.remedy === undefined
        ? `${stateError.message}. Nothing was sent; fix this and run the command again`
        : stateError.message,
    );
    return fail(EXIT.stateFile, damaged ? 'STATE_DAMAGED' : 'STATE_FILE', message, { file: stateError.file });
  }
  // The audit log could not write (a full disk, an I/O error, its file deleted): a state file that could not
  // be written, not a bug. Every order whose record it refused was not sent.
  if (e instanceof AuditLogFailedError && e.file !== undefined)
    return fail(EXIT.stateFile, 'AUDIT_LOG_FAILED', e.message, { file: e.file });
  if (isBrokerError(e)) return fail(EXIT.broker, e.reason, e.message);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && FS_CODES.has(code)) {
    // A machine fault on a file whose path the error does not carry (a read on an open descriptor): the folder is named.
    const where = commandFolder() ?? process.cwd();
    return fail(
      EXIT.stateFile,
      'STATE_FILE',
      `${where}: a file in this folder cannot be used (${(e as Error).message}). Nothing was sent; fix this and run the command again`,
      {
        file: where,
      },
    );
  }
  const error = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(
    `sptrader: internal error: ${printable(error.message.split('\n')[0] ?? '')} (a bug in SPtrader: please report it${
      process.env['SPTRADER_DEBUG'] === '1' ? '' : ', with the stack trace that SPTRADER_DEBUG=1 prints'
    })\n`,
  );
  if (process.env['SPTRADER_DEBUG'] === '1' && error.stack) process.stderr.write(`${error.stack}\n`);
  if (json)
    process.stdout.write(
      `${JSON.stringify({ ok: false, exitCode: EXIT.internal, errors: [{ code: 'INTERNAL', message: error.message }] })}\n`,
    );
  return EXIT.internal;
}

export { setCommandFolder, stateDirOf, withStateDir, withStateDirInJson } from './stateDir';
export { closeAll } from './closing';
