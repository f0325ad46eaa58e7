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
 *
 * Editors before this layout kept the paper accounts in `<globalStorage>/paper/`; `openEditorStateFolder`
 * moves them into the state folder once, so that recover and the engine's checks see the file in use.
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { syncDirectorySync } from './durableFile';
import { acquireStateDirLock, StateDirBusyError } from './stateLock';

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
  };
}

/** The file name of a paper profile's account: the built-in `paper` profile's, or `paper-account-<id>.json`. */
export function paperAccountName(profileId: string): string {
  return profileId === 'paper' ? STATE_NAMES.paperAccount : `paper-account-${profileId}.json`;
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

/** Where editors before the one layout kept paper accounts. */
export function legacyEditorPaperDir(globalStorage: string): string {
  return join(globalStorage, 'paper');
}

const PAPER_ACCOUNT_FILE = /^paper-account(?:-[^/\\]+)?\.json(?:\.journal)?$/;

/**
 * Moves paper accounts (each file with its journal) from the old editor folder into the state folder.
 * Call it holding the state folder's lock. The old folder's account is the one the editor used; a copy
 * already in the state folder (only `recover` wrote one there, from the audit log, while the editor kept
 * using the old one) is renamed aside as `<name>.set-aside-<stamp>`, never deleted.
 */
export function adoptLegacyPaperAccounts(
  legacyDir: string,
  stateDir: string,
  now: number = Date.now(),
): { moved: readonly string[]; setAside: readonly string[] } {
  let names: string[];
  try {
    names = readdirSync(legacyDir).filter((n) => PAPER_ACCOUNT_FILE.test(n));
  } catch {
    return { moved: [], setAside: [] };
  }
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const moved: string[] = [];
  const setAside: string[] = [];
  const accounts = new Set(names.map((n) => n.replace(/\.journal$/, '')));
  for (const account of accounts) {
    // A snapshot and its journal move together: a journal is only read beside its own snapshot.
    const parts = [account, journalOf(account)].filter((n) => names.includes(n));
    // A journal in the old folder without its snapshot belongs to no account there: it is left alone.
    if (!parts.includes(account)) continue;
    const snapshotThere = join(stateDir, account);
    const journalThere = journalOf(snapshotThere);
    // A journal in the state folder beside no snapshot there, while the old folder has none, is the half
    // of this move that a crash interrupted: it belongs to the snapshot still in the old folder.
    const asideNames = existsSync(snapshotThere)
      ? [snapshotThere, journalThere]
      : parts.includes(journalOf(account))
        ? [journalThere]
        : [];
    for (const there of asideNames) {
      if (!existsSync(there)) continue;
      const aside = `${there}.set-aside-${stamp}`;
      renameSync(there, aside);
      setAside.push(aside);
    }
    // The journal first: a crash between the two leaves the snapshot in the old folder, moved next time.
    for (const n of [...parts].reverse()) renameSync(join(legacyDir, n), join(stateDir, n));
    moved.push(...parts.map((n) => join(stateDir, n)));
  }
  if (moved.length > 0 || setAside.length > 0) {
    syncDirectorySync(stateDir);
    syncDirectorySync(legacyDir);
  }
  return { moved, setAside };
}

/**
 * The editor's state folder, with the paper accounts of older editors moved into it (under its lock). When
 * another window holds the folder, nothing moves and an old account is read where it is: that window is
 * the one trading, and this one moves it on a later start.
 */
export function openEditorStateFolder(globalStorage: string): {
  stateDir: string;
  paperAccount: string;
  moved: readonly string[];
  setAside: readonly string[];
} {
  const stateDir = editorStateDir(globalStorage);
  const legacy = legacyEditorPaperDir(globalStorage);
  const paths = statePaths(stateDir);
  if (!existsSync(legacy)) return { stateDir, paperAccount: paths.paperAccount, moved: [], setAside: [] };
  let lock;
  try {
    lock = acquireStateDirLock(stateDir, 'the SPtrader VS Code extension (moving the paper account)');
  } catch (e) {
    if (!(e instanceof StateDirBusyError)) throw e;
    const old = join(legacy, STATE_NAMES.paperAccount);
    const paperAccount = existsSync(old) && !existsSync(paths.paperAccount) ? old : paths.paperAccount;
    return { stateDir, paperAccount, moved: [], setAside: [] };
  }
  try {
    return { stateDir, paperAccount: paths.paperAccount, ...adoptLegacyPaperAccounts(legacy, stateDir) };
  } finally {
    lock.release();
  }
}
