/**
 * The audit files of a folder in chain order, for every reader of the log (verification, recovery, the tail).
 * The naming itself lives in auditRecord.ts, beside the writer that follows it.
 */
import { promises as fsp } from 'node:fs';
import { StateFileError } from '../../common/stateErrors';
import { compareAuditFiles, parseAuditFileName, type AuditFileName } from './auditRecord';

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
