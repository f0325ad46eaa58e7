/**
 * The audit files of a folder in chain order, for every reader of the log (verification, recovery, the tail).
 * The naming itself lives in auditRecord.ts, beside the writer that follows it.
 */
import { lstatSync, promises as fsp, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { StateFileError } from '../../common/stateErrors';
import { compareAuditFiles, parseAuditFileName, type AuditFileName } from './auditRecord';

/**
 * Refuses a symbolic link in the place of a state folder's audit log folder (AuditLog.open, recover). The
 * state folder's lock guards the files in the folder itself: a link into another state folder's audit log
 * let two folders, each under its own lock, append to one log at once and fork its hash chain.
 */
export function refuseLinkedAuditFolder(dir: string): void {
  let to: string;
  try {
    if (!lstatSync(dir).isSymbolicLink()) return;
    to = readlinkSync(dir);
  } catch {
    return; // Missing (made on open) or unreadable: said where it is read.
  }
  throw new StateFileError(
    dir,
    `a symbolic link (to ${to}) is in the place of the audit log folder: the state folder's lock covers only what is in the folder itself, so another state folder (or a process under its lock) could write that log at the same time and fork its hash chain`,
    `Nothing was read, sent or changed. Put the audit log folder itself here (move it in place of the link), or give this state folder a log of its own by removing the link`,
  );
}

/**
 * Refuses a log whose last file, the one appended to, has more than one name (hard links: `ln`, `cp -al`, a
 * backup tool's snapshot), as `refuseLinkedAuditFolder` refuses a linked folder (AuditLog.open, recover, `audit
 * verify --state-dir`): a state folder whose log shares that file with another folder's appends, under its own
 * lock, to the one file the other appends to, and the two fork its hash chain (and a snapshot's copy changes with
 * every append). Earlier days' files are never appended to again: shared (a snapshot tool links unchanged files),
 * they are left alone. Only the files of the log count (anchor.json is replaced whole). A folder that is missing or
 * cannot be read is said where it is read.
 */
export function refuseSharedAuditFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  let last: AuditFileName | undefined;
  for (const name of names) {
    const parsed = parseAuditFileName(name);
    if (parsed !== undefined && (last === undefined || compareAuditFiles(parsed, last) > 0)) last = parsed;
  }
  if (last === undefined) return;
  const path = join(dir, last.name);
  let links: number;
  try {
    const stat = lstatSync(path);
    if (!stat.isFile()) return; // a folder, a pipe or a link in a file's place is refused where it is read
    links = stat.nlink;
  } catch {
    return;
  }
  if (links > 1)
    throw new StateFileError(
      path,
      `this audit log file has ${links} names (hard links), and it is the one appended to: the state folder's lock covers only this folder, so another state folder holding the same file (a copy made with \`cp -al\` or \`ln\`, a backup tool's snapshot) could append to it at the same time and fork its hash chain, and a snapshot's copy would change with every append`,
      `Nothing was read, sent or changed. Give this folder a file of its own: copy it and move the copy over it (cp -p ${path} ${path}.own && mv ${path}.own ${path}), or delete the other name if that folder is a stale copy`,
    );
}

/** The audit files in `dir` in chain order; other files are left alone. A missing folder is an error. */
export async function listAuditFiles(dir: string): Promise<AuditFileName[]> {
  const files = await listAuditFilesIfAny(dir);
  if (files === undefined)
    throw new StateFileError(
      dir,
      'no audit log here: the folder does not exist',
      'Check the path (it is the folder that holds audit-YYYY-MM-DD.jsonl files)',
    );
  return files;
}

/** As `listAuditFiles`, but undefined when the folder does not exist (a log not written yet). */
export async function listAuditFilesIfAny(dir: string): Promise<AuditFileName[] | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ENOTDIR') throw new StateFileError(dir, 'this is a file, not the audit log folder');
    if (code === 'EACCES') throw new StateFileError(dir, 'cannot read the audit log folder: permission denied');
    throw e;
  }
  const files: AuditFileName[] = [];
  for (const name of names) {
    const parsed = parseAuditFileName(name);
    if (parsed) files.push(parsed);
  }
  return files.sort(compareAuditFiles);
}
