/** `sptrader audit verify|tail` and `sptrader recover`: the audit log read and checked, and the state rebuilt from it. */
import { numberFlag, parseFlags } from './args';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock } from '../common/clock';
import { StateFileError, stateFileErrorOf } from '../common/stateErrors';
import { verifyAuditDir } from '../execution/audit/auditLog';
import { auditTailNotes, readAuditTail } from '../execution/audit/auditTail';
import { ANCHOR_FILE, parseAnchor } from '../execution/audit/auditVerify';
import { refuseLinkedAuditFolder, refuseSharedAuditFiles } from '../execution/audit/auditFiles';
import { parseAuditFileName } from '../execution/audit/auditRecord';
import { acquireStateDirLock } from '../common/stateLock';
import { recoverStateDir, type RecoverReport } from '../usecases/recover';
import { DEFAULT_CLI_STATE_DIR, statePaths, TRADING_STATE_ENTRIES } from '../common/statePaths';
import { EXIT, setCommandFolder, stateDirOf, UsageError } from './failures';
import { readRegularFileSync } from '../common/userFile';
import { printable } from '../usecases/formatOutcome';

export async function auditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, n: { type: 'string', short: 'n' } },
  });
  const [action, dirArg, ...extra] = positionals;
  if ((action !== 'verify' && action !== 'tail') || extra.length > 0)
    throw new UsageError('audit needs verify or tail, and at most one folder');
  const n =
    values.n === undefined
      ? 20
      : numberFlag(
          '-n',
          values.n,
          { what: 'a whole number', min: 0, max: 1e9, whole: true, range: 'from 0 to 1,000,000,000' },
          (message) => new UsageError(message),
        );
  const dir = resolve(dirArg ?? statePaths(values['state-dir'] ?? DEFAULT_CLI_STATE_DIR).audit);
  setCommandFolder(dir);
  // A state folder's log is read as trading opens it: a link in the folder's place, or a file another folder
  // shares, is refused as every trading command refuses it (a VERIFIED over a log the folder cannot trade on, or
  // that another folder may be forking, was a false all-clear). A folder named on the command line is the
  // user's own choice of what to read: it is read, and a file shared with another folder is warned about.
  if (dirArg === undefined) {
    try {
      refuseLinkedAuditFolder(dir);
      refuseSharedAuditFiles(dir);
    } catch (e) {
      if (!(e instanceof StateFileError)) throw e;
      throw new StateFileError(
        e.file,
        e.problem,
        `${e.remedy ?? ''}. To ${action} the log as it is, name its folder: sptrader audit ${action} ${e.file === dir ? realpathOrSelf(dir) : dir}`,
      );
    }
  } else {
    for (const warning of sharedAuditFileWarnings(dir))
      process.stderr.write(`sptrader: warning: ${printable(warning)}\n`);
  }
  auditDirMustExist(dir);
  if (dirArg !== undefined) refuseStateFolderForItsLog(dir, action);
  if (action === 'tail') {
    const tail = await readAuditTail(dir, Math.max(n, 1));
    const records = tail.records;
    const shown = records.slice(records.length - n);
    process.stdout.write(
      values.json
        ? `${JSON.stringify(shown)}\n`
        : shown
            .map(
              // JSON.stringify leaves bidi controls as they are: escaped, a line reads as its bytes (Trojan Source).
              (r) =>
                printable(
                  `${String(r.seq).padStart(8)} ${new Date(r.ts).toISOString()} ${r.type} ${JSON.stringify(r.data)}`,
                ),
            )
            .join('\n') + (shown.length ? '\n' : ''),
    );
    // What the read from the end left out (a torn last line, a damaged one) goes beside the records, not into them.
    for (const note of auditTailNotes(tail)) process.stderr.write(`sptrader: ${printable(note)}\n`);
    // A tail cannot show what was cut off the log's end: anchor.json says how far it reached on disk.
    const anchor = readAuditAnchor(dir);
    const lastSeq = records[records.length - 1]?.seq ?? 0;
    if (anchor !== undefined && anchor.seq > lastSeq) {
      process.stderr.write(
        `sptrader: ${printable(dir)}: the audit log ends at seq ${lastSeq}, but ${printable(join(dir, 'anchor.json'))} says seq ${anchor.seq} was on disk: the log was cut short, emptied or replaced by an older copy. Run \`sptrader audit verify\`, then \`sptrader recover\`\n`,
      );
      return EXIT.stateFile;
    }
    return EXIT.ok;
  }
  const report = await verifyAuditDir(dir);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const lines = [
      `${report.verified ? 'VERIFIED' : 'BROKEN'}: ${report.lines} records in ${report.files} file${report.files === 1 ? '' : 's'} under ${dir}, last seq ${report.lastSeq}, last line sha256 ${report.lastLineHash}`,
    ];
    if (report.tornTailBytes > 0)
      lines.push(
        `torn last line: ${report.tornTailBytes} bytes at the end of ${report.tornTailFile ?? '?'} (removed on the next open)`,
      );
    for (const p of report.problems) lines.push(`${p.file}:${p.line}: ${p.problem}`);
    if (report.problemCount > report.problems.length)
      lines.push(`… and ${report.problemCount - report.problems.length} more problems`);
    // A folder named on the command line is anyone's text: escaped as status prints its paths.
    process.stdout.write(`${printable(lines.join('\n'))}\n`);
  }
  return report.verified ? EXIT.ok : EXIT.componentError;
}

/** anchor.json beside the audit log (the last seq known to be on disk); undefined when absent or unreadable (verify reports that). */
function readAuditAnchor(dir: string): { seq: number } | undefined {
  try {
    const anchor = parseAnchor(readRegularFileSync(join(dir, ANCHOR_FILE)));
    return typeof anchor === 'string' ? undefined : { seq: anchor.seq };
  } catch {
    return undefined;
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** What `refuseSharedAuditFiles` would refuse in a folder named on the command line, as warnings. */
function sharedAuditFileWarnings(dir: string): string[] {
  try {
    refuseSharedAuditFiles(dir);
    return [];
  } catch (e) {
    if (!(e instanceof StateFileError)) throw e;
    return [
      `${e.file}: ${e.problem}. It is read as it is; a state folder holding it is refused by every trading command until it has a file of its own`,
    ];
  }
}

/**
 * A state folder named where its audit log folder belongs (`sptrader audit verify .sptrader`): it holds no audit file
 * of its own, so verify said "VERIFIED: 0 records in 0 files" and exit 0 over a log it never read (and tail "nothing
 * written yet"), a false all-clear for a log that may be broken. Refused, naming the folder the log is in.
 */
function refuseStateFolderForItsLog(dir: string, action: 'verify' | 'tail'): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // An unreadable folder is said by the reader itself.
  }
  if (names.some((name) => name === ANCHOR_FILE || parseAuditFileName(name) !== undefined)) return;
  const held = names.filter((name) => TRADING_STATE_ENTRIES.includes(name)).sort();
  if (held.length === 0) return;
  throw new UsageError(
    `audit ${action}: ${printable(dir)} is a state folder (it holds ${held.join(', ')}), not an audit log folder: ` +
      `its audit log is in ${printable(statePaths(dir).audit)}. ` +
      `Run \`sptrader audit ${action} --state-dir ${printable(dir)}\``,
    true,
  );
}

/** The audit folder named on the command line (or under --state-dir) must be there: a clear exit 6 otherwise. */
function auditDirMustExist(dir: string): void {
  let stats;
  try {
    stats = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new StateFileError(
        dir,
        'no audit log here: the folder does not exist',
        'Check the path: it is the folder that holds audit-YYYY-MM-DD.jsonl files (<state-dir>/audit)',
      );
    throw stateFileErrorOf(dir, 'read the audit log folder', e);
  }
  if (!stats.isDirectory())
    throw new StateFileError(
      dir,
      'this is a file, not the audit log folder',
      'Pass the folder that holds audit-YYYY-MM-DD.jsonl files',
    );
}

/**
 * `recover`: rebuilds the state files the audit log says are damaged, missing or older than it
 * (src/usecases/recover.ts), under the state directory's lock. Without --yes it only reports.
 */
export async function recoverCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    options: { 'state-dir': { type: 'string' }, json: { type: 'boolean' }, yes: { type: 'boolean' } },
  });
  const stateDir = stateDirOf(values['state-dir']);
  if (!existsSync(stateDir))
    throw new StateFileError(stateDir, 'there is no state directory here', 'Check --state-dir');
  const lock = acquireStateDirLock(stateDir, 'sptrader recover');
  let report: RecoverReport;
  try {
    report = await recoverStateDir({ stateDir, clock: systemClock, dryRun: values.yes !== true });
  } finally {
    lock.release();
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...report, dryRun: values.yes !== true })}\n`);
  } else {
    const lines: string[] = [];
    lines.push(
      report.problems.length === 0
        ? `${report.stateDir}: no problems found.`
        : `${report.stateDir}: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:`,
    );
    for (const p of report.problems) lines.push(`  problem  ${p}`);
    for (const a of report.actions) lines.push(`  ${values.yes === true ? 'done   ' : 'would  '}  ${a}`);
    if (values.yes !== true && report.actions.length > 0)
      lines.push('Nothing was changed: run again with --yes to do the above.');
    else if (report.changed)
      lines.push('Recovered: check with `sptrader status` and `sptrader positions` before trading.');
    // A folder's or a file's name is anyone's text: never a terminal escape.
    process.stdout.write(`${printable(lines.join('\n'))}\n`);
  }
  // A look without --yes that found problems says so in its exit code, as any command on damaged state does.
  return values.yes !== true && report.problems.length > 0 ? EXIT.stateFile : EXIT.ok;
}
