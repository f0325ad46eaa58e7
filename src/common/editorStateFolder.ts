/**
 * The editor's state folder as it opens: the paper accounts of editors before the one layout (statePaths.ts) moved
 * into it, under the folder's lock (stateLock.ts, which names its files through statePaths.ts).
 */
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { crashPoint } from './crashPoint';
import { syncDirectorySync } from './durableFile';
import { acquireStateDirLock, StateDirBusyError } from './stateLock';
import { editorStateDir, journalOf, STATE_NAMES, statePaths } from './statePaths';

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
    for (const n of [...parts].reverse()) {
      renameSync(join(legacyDir, n), join(stateDir, n));
      crashPoint('legacy-account-part-moved');
    }
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
