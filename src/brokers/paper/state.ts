/**
 * The paper account on disk: a snapshot file, replaced atomically (temp file, fsync, rename), and a
 * journal beside it (`<file>.journal`, JSON lines, fdatasync'd) holding each change since the
 * snapshot. A change costs one short appended line, not a rewrite of the account with its last
 * thousand orders and fills; once the journal is large the next change writes a new snapshot (one
 * generation on) and empties the journal. Journal lines carry the generation of the snapshot they
 * follow, so lines left behind by a crash between the two steps are ignored. A crash leaves the old
 * or the new account, never half of one: a torn last journal line is cut off on load.
 * Amounts are decimal strings of 10^-10 units because JSON numbers cannot carry a BigInt exactly.
 * A file that fails validation is reported, never silently replaced: it is someone's account.
 * Past 450 lines on purpose: the snapshot, the journal and the reset are one format, read and written together.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
} from 'node:fs';
import { replaceFileSync, syncDirectorySync, writeAllSync } from '../../common/durableFile';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FillSchema, OrderRequestSchema, OrderResponseSchema } from '../../orders/model';
import { BrokerError } from '../errors';
import {
  isPermissionError,
  permissionDenied,
  newerFormat,
  StateDamagedError,
  StateFileError,
  stateFileErrorOf,
} from '../../common/stateErrors';
import { crashPoint } from '../../common/crashPoint';
import { journalOf } from '../../common/statePaths';
import { checkSeal, sealJson } from '../../common/checksum';
import { readStateFileSync } from '../../common/userFile';

const Units = z.string().regex(/^-?\d+$/, 'must be a whole number of 10^-10 units, as a string');

const StoredRequestSchema = OrderRequestSchema.extend({ client_order_id: z.string().min(1) });

export const StoredOrderSchema = z.object({
  request: StoredRequestSchema,
  response: OrderResponseSchema,
  /** A stop or stop-limit whose trigger has been hit. */
  triggered: z.boolean(),
  /** When the order reaches the matching engine (latency); it cannot fill before. */
  arrivesAt: z.number(),
  arrived: z.boolean(),
  /** A resting limit order: the market's size ahead of it at its price (queue position, see `queue.ts`). */
  queueAhead: Units.optional(),
  /** When it joined its price level (orders at one price queue in this order). */
  queuedAt: z.number().optional(),
});
export type StoredOrder = z.infer<typeof StoredOrderSchema>;

/** `cost`: what the open quantity cost, exact (absent in files written before it was kept: the average's). */
const StoredPositionSchema = z.object({
  symbol: z.string(),
  quantity: Units,
  averagePrice: Units,
  cost: z.string().regex(/^\d+$/, 'must be a whole number of 10^-10 units (0 or more), as a string').optional(),
});

export const PaperStateSchema = z.object({
  version: z.literal(2),
  accountId: z.string(),
  currency: z.string(),
  /** The synthetic feed's seed, so a reloaded account sees the same market. Null with an injected quote source. */
  seed: z.number().nullable(),
  cash: z.record(z.string(), Units),
  realized: z.record(z.string(), Units),
  positions: z.array(StoredPositionSchema),
  counters: z.object({ order: z.number().int().nonnegative(), fill: z.number().int().nonnegative() }),
  /** Open orders and the most recent final ones. */
  orders: z.array(StoredOrderSchema),
  /** The most recent fills, newest last. */
  fills: z.array(FillSchema),
  /** Which journal lines follow this snapshot (absent in files written before the journal: 0). */
  generation: z.number().int().nonnegative().optional(),
});
export type PaperState = z.infer<typeof PaperStateSchema>;

/** One change to the account: the books as they are after it, and the orders and fills it touched. */
export const JournalEntrySchema = z.object({
  generation: z.number().int().nonnegative(),
  /**
   * Its place among its generation's lines (1, 2, …), so that a line lost, repeated or put out of order
   * (each line carries the whole books, and the last one read wins) is found on load instead of rolling the
   * account back. Absent in lines written before it was.
   */
  line: z.number().int().positive().optional(),
  cash: z.record(z.string(), Units),
  realized: z.record(z.string(), Units),
  positions: z.array(StoredPositionSchema),
  counters: z.object({ order: z.number().int().nonnegative(), fill: z.number().int().nonnegative() }),
  /** Orders the change created or changed, as they are after it. */
  orders: z.array(StoredOrderSchema),
  /** Orders no longer kept (the oldest final ones). */
  removed: z.array(z.string()),
  /** Fills the change made. */
  fills: z.array(FillSchema),
});
export type JournalEntry = z.infer<typeof JournalEntrySchema>;

/** The journal beside an account file: named where every path of a state folder is (common/statePaths.ts). */
export const journalFile = journalOf;
/** Where a reset moves the account file while it removes the journal (see `deletePaperState`). */
export const resetFile = (file: string): string => `${file}.reset`;

/** The first layout (one cash balance in the account currency), upgraded on load. */
const PaperStateV1Schema = z.object({
  version: z.literal(1),
  accountId: z.string(),
  currency: z.string(),
  cash: Units,
  nextOrder: z.number().int().nonnegative(),
  nextFill: z.number().int().nonnegative(),
  positions: z.array(StoredPositionSchema),
  orders: z.array(z.object({ response: OrderResponseSchema, request: StoredRequestSchema, triggered: z.boolean() })),
});

function upgrade(state: PaperState | z.infer<typeof PaperStateV1Schema>): PaperState {
  if (state.version === 2) return state;
  return {
    version: 2,
    accountId: state.accountId,
    currency: state.currency,
    seed: null,
    cash: { [state.currency]: state.cash },
    realized: {},
    positions: state.positions,
    counters: { order: state.nextOrder, fill: state.nextFill },
    orders: state.orders.map((o) => ({ ...o, arrivesAt: o.response.created_at, arrived: true })),
    fills: state.orders.flatMap((o) => o.response.fills).sort((a, b) => a.timestamp - b.timestamp),
  };
}

/**
 * The saved account with its journal applied, the journal's size in bytes (after cutting off a torn last
 * line) and how many of its lines follow this snapshot; undefined when there is no account yet.
 */
export function readPaperAccount(
  file: string,
): { state: PaperState; journalBytes: number; journalLines: number } | undefined {
  if (existsSync(resetFile(file))) {
    // A reset that a kill interrupted after its rename: the account is reset, only the removals are left.
    // Beside an account file, it is an old account a finished reset could not remove (the journal is the new one's).
    if (existsSync(file)) removeSetAside(file);
    else finishReset(file);
  }
  const snapshot = readSnapshot(file);
  const state = snapshot?.state;
  const path = journalFile(file);
  if (!state) {
    // Changes with no account to apply them to: the snapshot was lost, not never made.
    if (existsSync(path)) {
      throw new StateDamagedError(
        file,
        `the paper account is missing while its journal ${path} is there: the account was deleted or moved`,
      );
    }
    return undefined;
  }
  let text: string;
  try {
    text = readStateFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state, journalBytes: 0, journalLines: 0 };
    throw unreadable(path, (e as Error).message, e);
  }
  refuseSharedJournal(path);
  const generation = state.generation ?? 0;
  const lines = text.split('\n');
  // Everything after the last newline is a line whose write did not finish (a crash): not part of the account.
  let torn = lines.pop() ?? '';
  // So is a last line that holds zero bytes though its newline is there (only zeros may follow it): after a
  // power loss, the blocks of an append that never reached the disk read back as zeros, and its newline may be
  // in one that did. No line written whole holds a zero byte (JSON escapes it), so none that was made durable
  // is cut; a change cut that the audit log recorded is found when the account is checked against the log.
  const zeroed = lines.length > 0 && (lines[lines.length - 1] as string).includes('\0') && !/[^\0]/.test(torn);
  if (zeroed) torn = `${lines.pop() as string}\n${torn}`;
  const entries: JournalEntry[] = [];
  // Lines after a checksummed snapshot, or after a checksummed line, all carry one.
  let sealed = snapshot?.sealed === true;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const seal = checkSeal(line);
    if (seal.problem) throw unreadable(path, `line ${i + 1}: ${seal.problem}`, undefined);
    if (sealed && !seal.sealed)
      throw unreadable(
        path,
        `line ${i + 1} has no checksum where every line has one: it was damaged on disk or edited`,
        undefined,
      );
    sealed ||= seal.sealed;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw unreadable(path, `line ${i + 1} is not valid JSON (${(e as Error).message})`, e);
    }
    const parsed = JournalEntrySchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || 'the line'}: ${issue.message}`)
        .join('; ');
      throw unreadable(path, `line ${i + 1} is not a paper account change (${issues})`, parsed.error);
    }
    if (parsed.data.generation !== generation) continue;
    // Once numbered, every later line is: a line without its number where one belongs was not written so.
    const place = parsed.data.line;
    if (place !== undefined ? place !== entries.length + 1 : entries.some((e) => e.line !== undefined))
      throw unreadable(
        path,
        `line ${i + 1} holds ${place === undefined ? 'an unnumbered change' : `change ${place}`} of the account where change ${entries.length + 1} belongs: journal lines were lost, repeated or put out of order`,
        undefined,
      );
    entries.push(parsed.data);
  }
  let journalBytes = Buffer.byteLength(text);
  if (torn !== '' && !zeroed && !isTornLine(torn))
    throw unreadable(
      path,
      `line ${lines.length + 1} is neither a paper account change nor the start of one that a crash cut short (it begins ${JSON.stringify(torn.slice(0, 24))})`,
      undefined,
    );
  if (torn !== '') {
    journalBytes -= Buffer.byteLength(torn);
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, journalBytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return { state: applyJournal(state, entries), journalBytes, journalLines: entries.length };
}

/** How every journal line begins (`appendPaperJournal` writes the generation first). */
const LINE_START = '{"generation":';

/**
 * Whether an unfinished last line is what a crash during an append leaves: the start of a line, possibly
 * followed (or replaced) by zeros where the file grew but its data never reached the disk. Anything else
 * (text written over the end, another file's bytes) is damage to report, not a line to cut off.
 */
function isTornLine(tail: string): boolean {
  const data = tail.replace(/\0+$/, '');
  if (data.includes('\0')) return false;
  return data.length <= LINE_START.length ? LINE_START.startsWith(data) : data.startsWith(LINE_START);
}

/** The snapshot with each journal entry applied in order. */
function applyJournal(state: PaperState, entries: readonly JournalEntry[]): PaperState {
  if (entries.length === 0) return state;
  const orders = new Map(state.orders.map((o) => [o.response.order_id, o]));
  const fills = [...state.fills];
  const fillIds = new Set(fills.map((f) => f.fill_id));
  let last = entries[0] as JournalEntry;
  for (const entry of entries) {
    last = entry;
    for (const o of entry.orders) orders.set(o.response.order_id, o);
    for (const id of entry.removed) orders.delete(id);
    for (const f of entry.fills) {
      if (fillIds.has(f.fill_id)) continue;
      fillIds.add(f.fill_id);
      fills.push(f);
    }
  }
  return {
    ...state,
    cash: last.cash,
    realized: last.realized,
    positions: last.positions,
    counters: last.counters,
    orders: [...orders.values()],
    fills,
  };
}

/** Appends one change to the journal, durable (its directory entry too, for a new file) before it returns; returns the bytes written. */
export function appendPaperJournal(file: string, entry: JournalEntry): number {
  const line = `${sealJson(JSON.stringify(entry))}\n`;
  try {
    const fd = openSync(journalFile(file), 'a', 0o600);
    let created: boolean;
    try {
      created = fstatSync(fd).size === 0;
      writeAllSync(fd, line);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) syncDirectorySync(dirname(file));
  } catch (e) {
    throw new BrokerError(
      'INTERNAL',
      `could not save the paper account to ${journalFile(file)}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return Buffer.byteLength(line);
}

/**
 * A journal with a second name (a hard link: `cp -al` of a state folder, `ln`) is appended to through either
 * name, so two state folders, each under its own lock, would change one account at once: refused, naming it,
 * as the audit log refuses a file it shares (execution/audit/auditFiles.ts). The snapshot is replaced whole
 * (renamed over its name), which ends such a link on its next write, so only the journal is looked at.
 */
function refuseSharedJournal(path: string): void {
  let links: number;
  try {
    links = lstatSync(path).nlink;
  } catch {
    return; // gone since it was read: the next read says so
  }
  if (links > 1)
    throw new StateFileError(
      path,
      `the paper account's journal has ${links} names (hard links): another state folder holding the same file (a copy made with \`cp -al\` or \`ln\`) would append its changes to this account at the same time`,
      `Nothing was sent or changed. Give this folder a file of its own: copy it and move the copy over it (cp -p ${path} ${path}.own && mv ${path}.own ${path}), or delete the other name if that folder is a stale copy`,
    );
}

/** The saved account (the snapshot alone, no journal), or undefined when there is none yet. */
export function readPaperState(file: string): PaperState | undefined {
  return readSnapshot(file)?.state;
}

/** The snapshot, and whether it carries a checksum (then so must every journal line that follows it). */
function readSnapshot(file: string): { state: PaperState; sealed: boolean } | undefined {
  let text: string;
  try {
    text = readStateFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(file, (e as Error).message, e);
  }
  const seal = checkSeal(text);
  if (seal.problem) throw unreadable(file, seal.problem, undefined);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw unreadable(file, `it is not valid JSON (${(e as Error).message})`, e);
  }
  // The layout is chosen by its version, so that a problem is reported against that layout's fields (a
  // union of the two would only say "Invalid input").
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw unreadable(file, `it is not a paper account (expected a JSON object, got ${jsonKind(json)})`, undefined);
  const newer = newerFormat(json, 2);
  if (newer !== undefined) throw unreadable(file, newer, undefined);
  const version = (json as { version?: unknown }).version;
  if (version !== 1 && version !== 2)
    throw unreadable(
      file,
      `it is not a paper account (version: expected 1 or 2, got ${version === undefined ? 'nothing' : JSON.stringify(version)})`,
      undefined,
    );
  // A file without a checksum was written before there were checksums: it may hold no key but its layout's
  // (a damaged checksum key would otherwise pass for an old file's unknown one, and be dropped).
  const parsed = (
    version === 2 ? (seal.sealed ? PaperStateSchema : PaperStateSchema.strict()) : PaperStateV1Schema
  ).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`)
      .join('; ');
    throw unreadable(file, `it is not a paper account (${issues})`, parsed.error);
  }
  return { state: upgrade(parsed.data), sealed: seal.sealed };
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : `a ${typeof value}`;
}

function unreadable(file: string, why: string, cause: unknown): StateFileError {
  // Not damage: `recover` would set aside, and rebuild without its resting orders, an account that is whole.
  if (isPermissionError(cause))
    return permissionDenied(file, file.endsWith('.journal') ? "the paper account's journal" : 'the paper account');
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const e =
    code === 'EISDIR'
      ? new StateDamagedError(
          file,
          `a directory is in the place of the paper account${file.endsWith('.journal') ? "'s journal" : ''}`,
        )
      : new StateDamagedError(file, `the paper account cannot be loaded: ${why}; it was left untouched`);
  return e;
}

export function writePaperState(file: string, state: PaperState): void {
  try {
    replaceFileSync(file, sealJson(JSON.stringify(state)), { fileMode: 0o600 });
    crashPoint('paper-fold-between');
    // The snapshot holds everything the journal did; its lines are of the previous generation now.
    rmSync(journalFile(file), { force: true });
    // The new name (and the journal's removal) durable before any change is journalled against it.
    syncDirectorySync(dirname(file));
  } catch (e) {
    throw new BrokerError('INTERNAL', `could not save the paper account to ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Deletes the account (the reset): one rename moves the account file aside, and from that moment the
 * account reads as reset — `readPaperAccount` finishes a reset a kill interrupted — so a kill at any step
 * leaves the whole old account or none of it, never a journal without its snapshot or a snapshot without
 * the journal's changes. The journal goes next, then the file set aside.
 */
export function deletePaperState(file: string): void {
  let stat: Stats | undefined;
  try {
    stat = lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw stateFileErrorOf(file, 'reset the paper account', e);
  }
  if (stat?.isDirectory())
    throw new StateFileError(
      file,
      'a directory is in the place of the paper account, so it cannot be reset',
      `SPtrader never makes one there: move it away (or remove it), then reset again`,
    );
  if (stat) {
    try {
      renameSync(file, resetFile(file));
      syncDirectorySync(dirname(file));
    } catch (e) {
      throw stateFileErrorOf(file, 'reset the paper account (moving it aside)', e);
    }
    crashPoint('paper-reset-between');
  }
  finishReset(file);
}

/** Removes what a reset leaves after its rename: the journal, then the account file set aside. */
function finishReset(file: string): void {
  const journal = journalFile(file);
  try {
    rmSync(journal, { force: true });
  } catch (e) {
    throw stateFileErrorOf(journal, 'remove the paper account journal (resetting the account)', e);
  }
  crashPoint('paper-reset-between');
  removeSetAside(file);
}

function removeSetAside(file: string): void {
  const aside = resetFile(file);
  try {
    rmSync(aside, { force: true });
    syncDirectorySync(dirname(file));
  } catch (e) {
    throw stateFileErrorOf(aside, 'remove the paper account a reset set aside', e);
  }
}
