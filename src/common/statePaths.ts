/**
 * Every path in a state folder, named once. The CLI (`--state-dir`, default `.sptrader`) and the editor
 * (`<globalStorage>/engine`) lay the folder out the same way:
 *
 *   <stateDir>/audit/                       the audit log (hash-chained JSON lines; anchor.json beside them)
 *   <stateDir>/trading-state.json           ACTIVE / REDUCING / HALTED (a halt survives restarts)
 *   <stateDir>/working-orders.json          the engine's orders still open at a venue
 *   <stateDir>/paper-account.json           the paper venue's account (+ `.journal`; `.reset` only while a
 *                                           reset deletes it); other paper profiles:
 *                                           paper-account-<profile id>.json
 *   <stateDir>/risk-limits.json             optional: risk limits and circuit breaker (the CLI's settings)
 *   <stateDir>/lock                         one process at a time (common/stateLock.ts; + lock.takeover)
 *   <stateDir>/replay.json                  only in a replay's own folder: marks it as never trading state
 *   <stateDir>/recovering.json              only while `recover --yes` changes the folder (usecases/recoverPending.ts)
 *
 * Editors before this layout kept the paper accounts in `<globalStorage>/paper/`; `openEditorStateFolder`
 * (editorStateFolder.ts) moves them into the state folder once, so that recover and the engine's checks see the
 * file in use.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { removeStaleTempFiles } from './durableFile';

/** The CLI's state folder when no --state-dir is given (relative to the working directory). */
export const DEFAULT_CLI_STATE_DIR = '.sptrader';

/** File and folder names inside a state folder. */
export const STATE_NAMES = {
  audit: 'audit',
  tradingState: 'trading-state.json',
  workingOrders: 'working-orders.json',
  paperAccount: 'paper-account.json',
  riskLimits: 'risk-limits.json',
  lock: 'lock',
  lockTakeover: 'lock.takeover',
  replayMarker: 'replay.json',
  recovering: 'recovering.json',
} as const;

/** The paper venue's journal beside its account file (brokers/paper/state.ts writes it). */
export const journalOf = (accountFile: string): string => `${accountFile}.journal`;

export interface StatePaths {
  readonly dir: string;
  readonly audit: string;
  readonly tradingState: string;
  readonly workingOrders: string;
  /** The built-in paper profile's account. */
  readonly paperAccount: string;
  readonly riskLimits: string;
  readonly lock: string;
  readonly lockTakeover: string;
  readonly replayMarker: string;
  readonly recovering: string;
}

export function statePaths(stateDir: string): StatePaths {
  return {
    dir: stateDir,
    audit: join(stateDir, STATE_NAMES.audit),
    tradingState: join(stateDir, STATE_NAMES.tradingState),
    workingOrders: join(stateDir, STATE_NAMES.workingOrders),
    paperAccount: join(stateDir, STATE_NAMES.paperAccount),
    riskLimits: join(stateDir, STATE_NAMES.riskLimits),
    lock: join(stateDir, STATE_NAMES.lock),
    lockTakeover: join(stateDir, STATE_NAMES.lockTakeover),
    replayMarker: join(stateDir, STATE_NAMES.replayMarker),
    recovering: join(stateDir, STATE_NAMES.recovering),
  };
}

/** The file name of a paper profile's account: the built-in `paper` profile's, or `paper-account-<id>.json`. */
export function paperAccountName(profileId: string): string {
  return profileId === 'paper' ? STATE_NAMES.paperAccount : `paper-account-${profileId}.json`;
}

const PROFILE_ACCOUNT = /^paper-account-([A-Za-z0-9][A-Za-z0-9._-]{0,63})\.json(?:\.journal)?$/;

/**
 * The paper profile whose account (or its journal) a file name is, `paperAccountName` read back; undefined for the
 * built-in account and any other name.
 */
export function paperProfileOf(fileName: string): string | undefined {
  const id = PROFILE_ACCOUNT.exec(fileName)?.[1];
  return id === 'paper' ? undefined : id;
}

/** State files only ever written beside an audit log: if one is there, the log must be too. */
export const AUDIT_WITNESSES: readonly string[] = [
  STATE_NAMES.tradingState,
  STATE_NAMES.workingOrders,
  STATE_NAMES.paperAccount,
  journalOf(STATE_NAMES.paperAccount),
];

/** What a trading state folder holds: their presence means "not a replay's". */
export const TRADING_STATE_ENTRIES: readonly string[] = [
  STATE_NAMES.audit,
  STATE_NAMES.tradingState,
  STATE_NAMES.workingOrders,
  STATE_NAMES.paperAccount,
  journalOf(STATE_NAMES.paperAccount),
  STATE_NAMES.riskLimits,
];

/** The editor's state folder inside its global storage. */
export function editorStateDir(globalStorage: string): string {
  return join(globalStorage, 'engine');
}

/**
 * The editor's replays (Replay Component): one folder each, `<globalStorage>/replays/<time>-<component>/`,
 * each a replay's own (marked with replay.json; audit/, fills.csv, fills.parquet, report.json), never
 * trading state. The newest few are kept.
 */
export function editorReplaysDir(globalStorage: string): string {
  return join(globalStorage, 'replays');
}

const PAPER_ACCOUNT_SNAPSHOT = /^paper-account(?:-[^/\\]+)?\.json$/;
/** The audit log's anchor (execution/audit/auditVerify.ts's ANCHOR_FILE), replaced whole like the files above. */
const AUDIT_ANCHOR = 'anchor.json';
/** The working-orders file's temp file before it was named by its process (only a dead writer's can be left). */
const LEGACY_WORKING_ORDERS_TEMP = `${STATE_NAMES.workingOrders}.tmp`;

/**
 * Removes the temp files that writes cut short by a kill left in a state folder (the trading state, the
 * working orders, paper accounts, the audit log's anchor: each is written whole to a temp file, then renamed
 * over its name), so that they do not pile up a kill at a time. Only a dead process's are removed, never a
 * live one's (durableFile.ts); `acquireStateDirLock` calls it when it takes the lock. Returns what it removed.
 */
export function removeStaleStateTemps(stateDir: string): string[] {
  const paths = statePaths(stateDir);
  const removed = removeStaleTempFiles(
    stateDir,
    (name) =>
      name === STATE_NAMES.tradingState || name === STATE_NAMES.workingOrders || PAPER_ACCOUNT_SNAPSHOT.test(name),
  );
  removed.push(...removeStaleTempFiles(paths.audit, (name) => name === AUDIT_ANCHOR));
  const legacy = join(stateDir, LEGACY_WORKING_ORDERS_TEMP);
  try {
    unlinkSync(legacy);
    removed.push(legacy);
  } catch {
    // not there (or not removable: left, it harms nothing)
  }
  return removed;
}
