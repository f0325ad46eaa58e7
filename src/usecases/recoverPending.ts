/**
 * A recover in progress, on disk: `recover --yes` takes several durable steps (the damaged audit log renamed
 * aside, a new log begun, the paper account rebuilt from the old log's records, the other files rewritten),
 * and a kill between them left a folder whose new log is empty while the records it was to be rebuilt from sat
 * in the set-aside folder. The next `recover` then rebuilt the paper account from no fills at all (every
 * position lost), and the next command called the log "deleted".
 *
 * So before its first step `recover` writes `recovering.json` naming the folder it sets the log aside as, and
 * removes it after its last. While it is there, a trading session refuses to trade (it says a recover was
 * interrupted), and the next `recover` first undoes the half-done one: the partial new log is moved aside
 * (never deleted: recover sends nothing, so it holds no order), the old log is put back, and the recovery is
 * done again from the start. Every other step of a recover is a rewrite from the log, so doing it again is safe.
 */
import { existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { replaceFileSync, syncDirectorySync } from '../common/durableFile';
import { StateDamagedError, stateFileErrorOf } from '../common/stateErrors';
import { statePaths } from '../common/statePaths';
import { readStateFileSync } from '../common/userFile';

const PendingSchema = z.object({
  version: z.literal(1),
  /** When the recover started (ms since the epoch). */
  startedAt: z.number(),
  /** The name (in the state folder) the damaged audit log is renamed to; null when the log is kept. */
  auditSetAside: z
    .string()
    .regex(/^audit\.damaged-[0-9TZ-]+$/)
    .nullable(),
});
export type PendingRecovery = z.infer<typeof PendingSchema>;

export const RECOVER_AGAIN =
  'Nothing was sent. Run `sptrader recover --yes --state-dir DIR` (or SPtrader: Recover State in the editor) again: it puts back what the interrupted one set aside and finishes the recovery';

/** The marker of an interrupted recover, if one is there; a marker that cannot be read is an error naming it. */
export function readPendingRecovery(stateDir: string): PendingRecovery | undefined {
  const file = statePaths(stateDir).recovering;
  let text: string;
  try {
    text = readStateFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw stateFileErrorOf(file, 'read the marker of an interrupted recover', e);
  }
  let parsed: ReturnType<typeof PendingSchema.safeParse>;
  try {
    parsed = PendingSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = PendingSchema.safeParse(undefined);
  }
  if (!parsed.success)
    throw new StateDamagedError(
      file,
      'a recover of this folder was interrupted, and its marker is damaged, so what it set aside cannot be known',
      `Nothing was sent. If an audit.damaged-… folder is newer than the audit folder, it is the log: move the audit folder aside, rename that one to audit, then delete ${basename(file)} and run \`sptrader recover --yes\``,
    );
  return parsed.data;
}

/** The damage a trading session reports while a recover is unfinished. */
export function pendingRecoveryDamage(stateDir: string): StateDamagedError | undefined {
  const file = statePaths(stateDir).recovering;
  // lstat, not existsSync: a link in its place that leads nowhere is still something there, never "no recover".
  if (!entryExists(file)) return undefined;
  return new StateDamagedError(
    file,
    'a recover of this folder was interrupted before it finished (its audit log may be set aside, its state files half rebuilt)',
    RECOVER_AGAIN,
  );
}

function entryExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Written (durably) before a recover's first change. */
export function beginRecovery(stateDir: string, pending: PendingRecovery): void {
  const file = statePaths(stateDir).recovering;
  try {
    replaceFileSync(file, `${JSON.stringify(pending)}\n`, { fileMode: 0o600 });
    syncDirectorySync(stateDir);
  } catch (e) {
    throw stateFileErrorOf(file, 'start the recovery (writing its marker)', e);
  }
}

/** Removed (durably) after a recover's last change. */
export function endRecovery(stateDir: string): void {
  const file = statePaths(stateDir).recovering;
  rmSync(file, { force: true });
  syncDirectorySync(stateDir);
}

/**
 * Undoes what an interrupted recover did to the audit log: the log it begun (with whatever was written to it
 * since) moved aside as `audit.partial-<stamp>`, the log it set aside put back. Returns what it did, for the
 * report; nothing when the interrupted recover had not set the log aside yet (or kept it).
 */
export function undoInterruptedRecovery(stateDir: string, pending: PendingRecovery, stamp: string): string[] {
  const done: string[] = [];
  if (pending.auditSetAside === null) return done;
  const auditDir = statePaths(stateDir).audit;
  const setAside = join(stateDir, pending.auditSetAside);
  // Killed before its rename: the log is where it was.
  if (!existsSync(setAside)) return done;
  try {
    if (existsSync(auditDir)) {
      const partial = `${auditDir}.partial-${stamp}`;
      renameSync(auditDir, partial);
      done.push(`moved the audit log the interrupted recover had begun aside as ${partial}`);
    }
    renameSync(setAside, auditDir);
    syncDirectorySync(dirname(auditDir));
  } catch (e) {
    throw stateFileErrorOf(setAside, 'put back the audit log an interrupted recover set aside', e);
  }
  done.push(`put back the audit log the interrupted recover had set aside (${setAside}), to recover from it again`);
  return done;
}
