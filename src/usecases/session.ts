/**
 * One engine over one state directory, as the CLI and the editor open it (the folder's layout:
 * common/statePaths.ts).
 */
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../common/clock';
import type { BrokerApi } from '../brokers/broker';
import { acquireStateDirLock } from '../common/stateLock';
import { crashPoint } from '../common/crashPoint';
import { MAX_SETTINGS_FILE_BYTES, parseUserJson, readRegularFileSync, type UserJsonError } from '../common/userFile';
import type { AuditRecord } from '../execution/audit/auditRecord';
import { readPaperAccount, type PaperState } from '../brokers/paper/state';
import { AuditLog, type AuditFileSystem, type RecoveryReport } from '../execution/audit/auditLog';
import { ExecutionEngine, type LocalVenue } from '../execution/engine';
import { AuditDigest } from '../execution/auditDigest';
import { loadWorkingOrders, witnessesAuditLog } from '../execution/orderStore';
import { StateDamagedError, StateFileError } from '../common/stateErrors';
import { DEFAULT_RISK_LIMITS, RiskLimitsSchema, type RiskLimits } from '../execution/risk';
import { describeSettingsIssues } from '../execution/riskLimitIssues';
import { CircuitBreakerSchema, DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerSettings } from '../execution/tradingState';
import { AUDIT_WITNESSES, STATE_NAMES, statePaths, TRADING_STATE_ENTRIES } from '../common/statePaths';
import { pendingRecoveryDamage } from './recoverPending';
import { withCause, type InterruptedStop } from './interruptedStop';

export { interruptedStopText, type InterruptedStop } from './interruptedStop';

export const RiskSettingsSchema = z
  .object({
    limits: RiskLimitsSchema.optional(),
    circuitBreaker: CircuitBreakerSchema.optional(),
  })
  .strict();
export type RiskSettings = { limits: RiskLimits; circuitBreaker: CircuitBreakerSettings };

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

/** Reads risk settings from a JSON file; every problem is reported with its key path. Missing file: the defaults. */
export function loadRiskSettings(file: string, required = false): RiskSettings {
  let text: string;
  try {
    text = readRegularFileSync(file, false, {
      bytes: MAX_SETTINGS_FILE_BYTES,
      what: 'a risk settings file',
      why: 'risk settings are a few lines of JSON: this is not one, or it was damaged',
    });
  } catch (e) {
    const dangling = (e as NodeJS.ErrnoException).code === 'ENOENT' ? danglingLinkTarget(file) : undefined;
    if (dangling !== undefined)
      // A link to a settings file that was moved or deleted: read as "no file", the looser defaults traded.
      throw new SettingsError(
        `cannot read risk settings ${file}: it is a symbolic link to ${dangling}, which does not exist; put the risk settings back there, point the link at them, or remove the link to trade with the defaults`,
      );
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required)
      return { limits: { ...DEFAULT_RISK_LIMITS }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
    const tooLarge = (e as NodeJS.ErrnoException).code === 'EFBIG';
    throw new SettingsError(
      `cannot read risk settings ${file}: ${(e as Error).message}${tooLarge ? '; put the risk settings JSON there instead' : ''}`,
    );
  }
  let json: unknown;
  try {
    json = parseUserJson(text);
  } catch (e) {
    const error = e as UserJsonError;
    throw new SettingsError(
      error.line === undefined
        ? `risk settings ${file} is not JSON: ${error.message}`
        : `invalid risk settings in ${file}: ${error.message}`,
    );
  }
  return parseRiskSettings(json, file);
}

/** Where a symbolic link at `file` points, when it is one (its target missing); undefined when no link is there. */
function danglingLinkTarget(file: string): string | undefined {
  try {
    return lstatSync(file).isSymbolicLink() ? readlinkSync(file) : undefined;
  } catch {
    return undefined;
  }
}

const SETTINGS_SECTIONS = {
  limits: Object.keys(RiskLimitsSchema.shape),
  circuitBreaker: Object.keys(CircuitBreakerSchema.shape),
};
/** The settings whose schema takes whole numbers (counts and milliseconds), read from the two schemas. */
const WHOLE_SETTINGS: ReadonlySet<string> = new Set(
  [RiskLimitsSchema.shape, CircuitBreakerSchema.shape].flatMap((shape) =>
    Object.entries(shape)
      .filter(([, schema]) => {
        const inner: unknown = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
        return inner instanceof z.ZodNumber && inner.isInt;
      })
      .map(([key]) => key),
  ),
);

/** Validates risk settings (from a file or the editor's settings); unset keys take the defaults. */
export function parseRiskSettings(json: unknown, where: string): RiskSettings {
  const parsed = RiskSettingsSchema.safeParse(json);
  if (!parsed.success) {
    const issues = describeSettingsIssues(parsed.error.issues, json, SETTINGS_SECTIONS, WHOLE_SETTINGS);
    throw new SettingsError(`invalid risk settings in ${where}: ${issues.join('; ')}`);
  }
  return {
    limits: { ...DEFAULT_RISK_LIMITS, ...parsed.data.limits },
    circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER, ...parsed.data.circuitBreaker },
  };
}

/** State files that are only ever written beside an audit log: if one is there, the log must be too. */
export function stateWitnesses(stateDir: string): string[] {
  return AUDIT_WITNESSES.filter((f) => existsSync(join(stateDir, f)));
}

/**
 * A venue that keeps its account in a file of the state folder (the paper venue): the engine checks that
 * file against the audit log. Known by shape, so the engine need not know which venue it is.
 */
interface AccountFileVenue {
  readonly accountFile: string | undefined;
  fillsEver(): number;
  /** Starts the account afresh, deleting its file (the paper venue's reset). */
  reset?(): void;
}

function keepsAccountFile(broker: BrokerApi): broker is BrokerApi & AccountFileVenue {
  const venue = broker as BrokerApi & Partial<AccountFileVenue>;
  return typeof venue.fillsEver === 'function' && typeof venue.accountFile === 'string';
}

/**
 * Venues whose last record in the audit log is a reset of their account (the engine's `resetLocalVenue`
 * records a VenueBaseline of no fills and no positions, then deletes the account file): every later use of
 * the venue writes a record naming it first, so a reset that is last was, or may have been, cut short.
 */
class PendingResets {
  private readonly last = new Map<string, boolean>();

  readonly visit = (record: AuditRecord): void => {
    const data = record.data;
    const command = data['command'];
    const venue =
      typeof data['venue'] === 'string'
        ? data['venue']
        : typeof command === 'object' &&
            command !== null &&
            typeof (command as Record<string, unknown>)['venue'] === 'string'
          ? ((command as Record<string, unknown>)['venue'] as string)
          : undefined;
    if (venue === undefined) return;
    const positions = data['positions'];
    this.last.set(
      venue,
      record.type === 'VenueBaseline' &&
        data['fills'] === 0 &&
        typeof positions === 'object' &&
        positions !== null &&
        Object.keys(positions).length === 0,
    );
  };

  pending(venue: string): boolean {
    return this.last.get(venue) === true;
  }
}

/**
 * A reset the audit log records but a kill stopped before the account file was deleted: the log is the
 * record, so the reset is finished now, before the engine compares the two (it would otherwise find an
 * account with fills and positions that the log says were reset, and refuse to trade). An account that
 * has no fills and no positions is left alone (it was reset, or holds only what `recover` kept), and one
 * that cannot be read is left for the engine's checks to report.
 */
function finishInterruptedReset(broker: AccountFileVenue, file: string): void {
  let saved: PaperState | undefined;
  try {
    // Also finishes a reset killed after it moved the account file aside (brokers/paper/state.ts).
    saved = readPaperAccount(file)?.state;
  } catch {
    return;
  }
  if (!saved || !broker.reset) return;
  if (saved.counters.fill > 0 || saved.positions.some((p) => BigInt(p.quantity) !== 0n)) broker.reset();
}

/**
 * Why a folder with a replay's marker is not opened for trading. Beside trading state (a paper account, working
 * orders, the trading state) the marker is named with what to move out, as recover names it: the folder was called
 * "a replay" and the user told to use another --state-dir, when it held their account.
 */
function replayMarkerRefusal(stateDir: string): StateFileError {
  let entries: string[] = [];
  try {
    entries = readdirSync(stateDir);
  } catch {
    // unlisted: said as a replay's folder, the marker named all the same
  }
  const trading = TRADING_STATE_ENTRIES.filter((name) => name !== STATE_NAMES.audit && entries.includes(name));
  const marker = statePaths(stateDir).replayMarker;
  if (trading.length === 0)
    return new StateFileError(
      marker,
      'this folder holds a replay (replay.json): its fills are simulated and it is never used as trading state',
      'Nothing was sent. Use another --state-dir for trading',
    );
  return new StateFileError(
    marker,
    `this folder holds trading state (${trading.join(', ')}) and a replay's marker (replay.json, which a replay writes in its own folder so that SPtrader never trades from it), so it is neither a trading folder nor a replay's`,
    "Nothing was sent. If this is your trading state, move replay.json out of the folder; if it is a replay's folder, move those trading state files out of it",
  );
}

/**
 * A command that adds nothing to a broken audit log, refused: named at its first problem's line, with the way out
 * (recover keeps the evidence: a broken chain set aside whole, an unreadable or telling anchor kept aside).
 */
export function brokenLogRefusal(dir: string, recovery: RecoveryReport): StateDamagedError {
  const first = recovery.problems[0];
  // A line of the log at fault is named by its line; an anchor that cannot be read, or that shows the log cut short
  // or replaced, by its file (its "line" says nothing).
  const byLine = first !== undefined && !['truncated', 'rolled-back', 'anchor-unreadable'].includes(first.kind);
  return new StateDamagedError(
    first === undefined ? dir : byLine ? `${first.file}:${first.line}` : first.file,
    `the audit log does not verify (${recovery.problemCount} problem(s)${first === undefined ? '' : `; first: ${first.problem}`})`,
    'Nothing was sent or recorded: this command adds nothing to a log that does not verify. `sptrader audit verify --state-dir DIR` lists what is wrong; `sptrader recover --state-dir DIR --yes` repairs it, keeping the evidence (a broken chain is set aside whole and a new log begun); `sptrader halt` works meanwhile',
  );
}

const LOG_GONE_REMEDY =
  'Nothing was sent or recorded: this command starts no new log over a lost one. Put the audit log back if you have it; otherwise `sptrader recover --state-dir DIR --yes` starts a new log and keeps the paper account as its baseline (`sptrader halt` works meanwhile)';

export interface TradingSession {
  engine: ExecutionEngine;
  audit: AuditLog;
  recovery: RecoveryReport;
  /** State files found damaged, missing or older than the audit log on open (more may be found on connect). */
  readonly damage: readonly StateDamagedError[];
  /**
   * An emergency stop an earlier process began and never reported (killed while it cancelled or closed, or its audit
   * log failed under it): orders may still be working and positions open. Another stop (`halt`, with `--flatten`
   * when it closed) finishes it. `interruptedStopText` says it.
   */
  readonly interruptedStop: InterruptedStop | undefined;
  /**
   * Parent orders the audit log started and never ended, as the log opened: the run carrying them out stopped (a
   * kill, a closed window), so their children at the venue are not watched until they are resumed or a halt ends them.
   */
  readonly parentsLeftWorking: ReadonlyArray<{
    parentId: string;
    venue: string;
    spec: Readonly<Record<string, unknown>>;
    at: number;
    /** Why trading was halted after it started: it is over (resuming it only records its end), never carried on. */
    halted?: string;
    /** Why it was cancelled (the cancel was decided and cut short): resuming it finishes the cancel, never carries it on. */
    cancelled?: string;
  }>;
  /**
   * Closes the engine and the log and gives the folder back; rejects with the log's AuditLogFailedError when some
   * of this session's records could not be made durable (everything is closed and released all the same).
   */
  close(): Promise<void>;
}

export async function openTradingSession(options: {
  stateDir: string;
  clock: Clock;
  brokers: Record<string, BrokerApi>;
  settings: RiskSettings;
  queueCapacity?: number;
  /** Who holds the state directory, shown to a second process that finds it busy. */
  purpose?: string;
  /** Where the audit log's files are written (tests inject a full disk here). Default: node:fs. */
  auditFileSystem?: AuditFileSystem;
  /**
   * An audit log that does not verify, or is missing or empty beside state written with one: 'open' (the default: the
   * editor, `halt`, `resume`) opens it, its damage refusing every order until `recover`; 'refuse' (a command that
   * reads, or one whose every order that damage would deny) throws a StateDamagedError before anything is written.
   * Opened, a `status` appended StateDamaged, Reconcile and PositionsReconciled to the log it had just called broken,
   * on every call, burying the damage under its own noise.
   */
  brokenLog?: 'open' | 'refuse';
}): Promise<TradingSession> {
  const paths = statePaths(options.stateDir);
  // Throws StateDirBusyError when another process trades from this directory.
  const lock = acquireStateDirLock(options.stateDir, options.purpose ?? 'SPtrader');
  // A replay's folder holds simulated fills: never trading state (the mirror of replay's own guard). Looked for
  // under the lock, as a replay marks its folder under it: looked for before, a replay could mark the new folder
  // between the look and the lock, and both went on in it.
  if (existsSync(paths.replayMarker)) {
    lock.release();
    throw replayMarkerRefusal(options.stateDir);
  }
  crashPoint('trading-folder-checked');
  let log: AuditLog;
  let recovery: RecoveryReport;
  let engine: ExecutionEngine;
  const auditDir = paths.audit;
  const ordersFile = paths.workingOrders;
  const digest = new AuditDigest();
  const damage: StateDamagedError[] = [];
  try {
    // The working-orders file records the audit log's head when it was written: read it first, so the
    // log is checked against it while it is verified.
    const loadedOrders = loadWorkingOrders(ordersFile);
    const anchors = loadedOrders.anchor ? [{ source: ordersFile, ...loadedOrders.anchor }] : [];
    const hadAuditLog = existsSync(auditDir);
    const resets = new PendingResets();
    const visit = (record: AuditRecord): void => {
      digest.visit(record);
      resets.visit(record);
    };
    ({ log, recovery } = await AuditLog.open(auditDir, {
      clock: options.clock,
      visit,
      anchors,
      ...(options.auditFileSystem ? { fileSystem: options.auditFileSystem } : {}),
    }));
    if (!recovery.verified && options.brokenLog === 'refuse') {
      await log.close();
      // A recover cut short leaves the log set aside or half begun: said as that, whose remedy finishes it.
      throw pendingRecoveryDamage(options.stateDir) ?? brokenLogRefusal(log.dir, recovery);
    }
    if (recovery.verified) {
      for (const [id, broker] of Object.entries(options.brokers))
        if (resets.pending(id) && keepsAccountFile(broker) && broker.accountFile)
          finishInterruptedReset(broker, broker.accountFile);
    }
    if (!recovery.verified) {
      const first = recovery.problems[0];
      damage.push(
        new StateDamagedError(
          first?.file ?? auditDir,
          `the audit log does not verify (${recovery.problemCount} problem(s); first: ${first ? `line ${first.line}: ${first.problem}` : 'unknown'})`,
        ),
      );
    } else if (digest.records === 0) {
      // An empty log beside state that was written with one: the log was deleted or emptied.
      const witnesses = stateWitnesses(options.stateDir).filter(
        (f) => f !== STATE_NAMES.workingOrders || witnessesAuditLog(loadedOrders),
      );
      if (witnesses.length > 0) {
        const gone = `the audit log is ${hadAuditLog ? 'empty' : 'missing'} while ${witnesses.join(', ')} ${witnesses.length > 1 ? 'are' : 'is'} there: it was deleted or emptied`;
        // The first record of a new log is the end of the evidence: the next open finds a log with records and no
        // longer sees this one gone, and `recover` took the paper account's fills for ones the log never had (the
        // account set aside and started afresh, its positions gone). A `status` was enough to do it.
        if (options.brokenLog === 'refuse') {
          await log.close();
          throw pendingRecoveryDamage(options.stateDir) ?? new StateDamagedError(auditDir, gone, LOG_GONE_REMEDY);
        }
        damage.push(new StateDamagedError(auditDir, gone));
      }
    }
    const interrupted = pendingRecoveryDamage(options.stateDir);
    if (interrupted) damage.unshift(interrupted);
    const localVenues = new Map<string, LocalVenue>();
    for (const [id, broker] of Object.entries(options.brokers)) {
      if (keepsAccountFile(broker) && broker.accountFile)
        localVenues.set(id, { file: broker.accountFile, fillsEver: () => broker.fillsEver() });
    }
    try {
      engine = new ExecutionEngine({
        clock: options.clock,
        brokers: options.brokers,
        audit: log,
        limits: options.settings.limits,
        circuitBreaker: options.settings.circuitBreaker,
        tradingStateFile: paths.tradingState,
        ordersFile,
        loadedOrders,
        digest,
        localVenues,
        damage,
        queueCapacity: options.queueCapacity,
      });
    } catch (e) {
      await log.close();
      throw e;
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  const stop = digest.unfinishedStop;
  return {
    engine,
    audit: log,
    recovery,
    get damage() {
      return engine.damage;
    },
    interruptedStop: stop === undefined ? undefined : withCause(stop, engine.status()),
    parentsLeftWorking: [...digest.workingParents].map(([parentId, p]) => ({ parentId, ...p })),
    async close() {
      let unsaved: Error[] = [];
      try {
        await engine.close();
        unsaved = engine.unsavedStateFiles();
        await log.close();
      } finally {
        lock.release();
      }
      // Records the log could not make durable (a full disk, an I/O error): a command that ended well here had
      // an order's fill or end missing from the record, and said nothing. The next open settles them with the venue.
      if (log.error) throw log.error;
      // A state file whose last save failed (its StateSaveFailed is in the log): said, not left for the next open.
      const first = unsaved[0];
      if (first !== undefined) {
        const file = (first as { file?: unknown }).file;
        throw new StateFileError(
          typeof file === 'string' ? file : options.stateDir,
          unsaved.map((e, i) => (i === 0 && e instanceof StateFileError ? e.problem : e.message)).join('; '),
          'The audit log holds what it was to say (StateSaveFailed): free the disk or fix the file, then run `sptrader recover` if the next command reports it damaged',
        );
      }
    },
  };
}
