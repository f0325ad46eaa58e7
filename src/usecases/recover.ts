/**
 * `sptrader recover`: the way out when a state file is damaged, missing or older than the audit log.
 * Past 450 lines on purpose: what it finds, what it will do and the doing share one set of findings (the
 * digest, the paper check, what is set aside); an interrupted run's marker is apart (recoverPending.ts).
 *
 * The audit log is the record; the other files are rebuilt from it, and what was done is said and
 * recorded (a StateRecovered record in the log):
 * - audit log: a log whose chain is broken (edited, garbled lines) is set aside whole as
 *   `audit.damaged-<time>/` and a new log begins; its first record names what was set aside and what
 *   it held, and the paper account (as it stands, or as rebuilt) is carried into it as a VenueBaseline
 *   with its open orders, so that the next open finds the two agreeing. A log shorter than its anchors (cut short, an older copy) is kept as it is; the records past
 *   its end are lost and the report says how many, from which seq.
 * - audit/anchor.json: one that cannot be read is kept aside as `anchor.json.damaged-<time>` (every open reports it
 *   until then: auditLog.ts leaves it as it is) and written anew at the log's end; one that shows the log cut short
 *   (or replaced) is the evidence of the loss, kept aside as `anchor.json.cut-short-<time>` (`.rolled-back-<time>`).
 * - trading-state.json: rewritten from the log's last TradingStateChanged (a halt stays a halt).
 * - A folder (anything but a file) in the place of either file above is moved aside whole as
 *   `<file>.damaged-<time>` first: it can be neither copied nor renamed over.
 * - working-orders.json: rewritten from the log's unfinished orders when it must be (damaged, missing, showing a loss,
 *   listing orders the log does not know, the log replaced, or its orders changed); a copy of one that is evidence is
 *   kept first as `working-orders.json.<damaged|cut-short|rolled-back|unknown-orders>-<time>`.
 * - paper-account.json (+ journal): when it cannot be read, is missing while the log has paper fills, or
 *   disagrees with the log (positions, fill count, open orders), it is set aside and rebuilt by booking
 *   every paper fill in the log on a fresh account with the default starting cash; its open orders are
 *   cancelled (recorded as OrderCancelled), since their place in the book cannot be rebuilt.
 * - paper-account-<id>.json (a paper profile's account, found by its files): checked against the log's records of
 *   that profile and rebuilt from them as the built-in one is; when the log lost records it is left as it is, said.
 * - replay.json (a replay's marker): the folder is refused as it is, nothing changed (refuseReplayMarker).
 */
import {
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../common/clock';
import { replaceFileSync, syncDirectorySync } from '../common/durableFile';
import { fromMoney, toMoney } from '../common/decimal';
import { StateDamagedError, StateFileError, stateFileErrorOf } from '../common/stateErrors';
import { crashPoint } from '../common/crashPoint';
import { Ledger } from '../brokers/paper/ledger';
import { instrumentFor, instrumentKey } from '../brokers/paper/instruments';
import { units } from '../brokers/paper/money';
import { readPaperAccount, writePaperState, journalFile, type PaperState } from '../brokers/paper/state';
import { isFinalStatus, type Fill } from '../orders/model';
import { AuditLog, type AuditRecord } from '../execution/audit/auditLog';
import { refuseLinkedAuditFolder, refuseSharedAuditFiles } from '../execution/audit/auditFiles';
import { ANCHOR_FILE, scanAuditDir, type AuditProblem } from '../execution/audit/auditVerify';
import { AuditDigest } from '../execution/auditDigest';
import { recoveredRecord } from '../execution/engine';
import { loadWorkingOrders, witnessesAuditLog, WorkingOrderWriter } from '../execution/orderStore';
import type { OrderRecord } from '../execution/orderState';
import {
  TradingStateStore,
  tradingStateOfLog,
  tradingStateText,
  type TradingStateRecord,
} from '../execution/tradingState';
import { stateWitnesses } from './session';
import { paperAccountName, paperProfileOf, STATE_NAMES, statePaths, TRADING_STATE_ENTRIES } from '../common/statePaths';
import { beginRecovery, endRecovery, readPendingRecovery, undoInterruptedRecovery } from './recoverPending';

/**
 * Whether the log began over a lost one and was not recovered since. A session that finds the log missing or empty
 * beside state written with one records it as a StateDamaged naming the audit folder itself (no other damage names
 * the folder), and `halt` or the editor go on over it: from then the log has records, and that record alone still says
 * the ones before it are gone. Without it, `recover` took the paper account's fills for ones the log never had and
 * started the account afresh, its positions gone. A later StateRecovered (a recover's baseline) ends the mark.
 */
class LostLogMark {
  seq: number | undefined;

  readonly visit = (record: AuditRecord): void => {
    if (record.type === 'StateRecovered') this.seq = undefined;
    else if (record.type === 'StateDamaged' && this.seq === undefined) {
      const file = record.data['file'];
      if (typeof file === 'string' && basename(file) === STATE_NAMES.audit) this.seq = record.seq;
    }
  };
}

export interface RecoverReport {
  readonly stateDir: string;
  /** What was found wrong. */
  readonly problems: readonly string[];
  /** What was done about it (or, with dryRun, what would be). */
  readonly actions: readonly string[];
  readonly changed: boolean;
}

/** The paper venue's broker profile id and default starting cash (see PaperBroker). */
const PAPER = 'paper';
const PAPER_STARTING_CASH = 100_000;
const PAPER_CURRENCY = 'USD';

export async function recoverStateDir(options: {
  stateDir: string;
  clock: Clock;
  dryRun?: boolean;
}): Promise<RecoverReport> {
  const { stateDir, clock } = options;
  const dryRun = options.dryRun === true;
  const problems: string[] = [];
  const actions: string[] = [];
  const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
  let st;
  try {
    st = statSync(stateDir);
  } catch (e) {
    throw new StateFileError(
      stateDir,
      `cannot recover: the state directory cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (!st.isDirectory()) throw new StateFileError(stateDir, 'cannot recover: this is a file, not a state directory');
  refuseReplayMarker(stateDir);

  // A recover killed half-way: what it set aside is put back first, and it is done again from the start.
  const pending = readPendingRecovery(stateDir);
  if (pending && dryRun)
    return {
      stateDir,
      problems: [
        `${statePaths(stateDir).recovering}: a recover of this folder was interrupted before it finished` +
          (pending.auditSetAside === null ? '' : ` (it set the audit log aside as ${pending.auditSetAside})`),
      ],
      actions: ['put back what the interrupted recover set aside, then check the folder and recover it again'],
      changed: false,
    };
  if (pending) actions.push(...undoInterruptedRecovery(stateDir, pending, stamp));

  const paths = statePaths(stateDir);
  const auditDir = paths.audit;
  const ordersFile = paths.workingOrders;
  const tradingFile = paths.tradingState;
  const paperFile = paths.paperAccount;

  // 1. The audit log, read as it is (nothing repaired yet).
  // Read where it is: a look without --yes changes nothing, and a copy is kept under recover's own name below.
  const loadedOrders = loadWorkingOrders(ordersFile, true);
  if (loadedOrders.problem) problems.push(loadedOrders.problem);
  // Paper profiles' own accounts (paper-account-<id>.json), found by their files: checked and rebuilt as the built-in one.
  const profileAccounts = profilePaperAccounts(stateDir);
  const digest = new AuditDigest({ keepFillsOf: [PAPER, ...profileAccounts.map((a) => a.venue)] });
  refuseLinkedAuditFolder(auditDir);
  refuseSharedAuditFiles(auditDir);
  const hadLog = existsSync(auditDir);
  if (hadLog && !statSync(auditDir).isDirectory())
    throw new StateFileError(
      auditDir,
      'cannot recover: a file is in the place of the audit log folder; move it away first',
    );
  let setAside = false;
  const lostBefore = new LostLogMark();
  // Whether the log lost records (broken, cut short, emptied, gone): then an intact paper account is the
  // better record of the paper venue, and becomes the log's baseline instead of being rebuilt from it.
  let logLost = false;
  // anchor.json could not be read, or shows the log lost records: kept aside here (the evidence), never deleted.
  let anchorDamaged = false;
  let anchorAside: string | undefined;
  // What the working-orders file shows the log lost (its anchor past the log's end, or at another record).
  let ordersSawLoss: 'cut-short' | 'rolled-back' | undefined =
    !hadLog && (loadedOrders.anchor?.seq ?? 0) > 0 ? 'cut-short' : undefined;
  if (hadLog) {
    const anchors = loadedOrders.anchor ? [{ source: ordersFile, ...loadedOrders.anchor }] : [];
    // A file of the log that cannot be read at all is damage like a garbled line: the log is set aside.
    const visit = (record: AuditRecord): void => {
      digest.visit(record);
      lostBefore.visit(record);
    };
    const { report } = await scanAuditDir(auditDir, false, { visit, anchors, reportUnreadable: true });
    const chain = report.problems.filter(
      (p) => p.kind !== 'truncated' && p.kind !== 'rolled-back' && p.kind !== 'anchor-unreadable',
    );
    const shortened = report.problems.filter(
      (p) => p.kind === 'truncated' || p.kind === 'rolled-back' || p.kind === 'anchor-unreadable',
    );
    const seenByOrders = shortened.find(
      (p) => p.file === ordersFile && (p.kind === 'truncated' || p.kind === 'rolled-back'),
    );
    if (seenByOrders) ordersSawLoss = seenByOrders.kind === 'truncated' ? 'cut-short' : 'rolled-back';
    for (const p of report.problems.slice(0, 10)) problems.push(`${p.file}:${p.line}: ${p.problem}`);
    if (report.problemCount > 10) problems.push(`… and ${report.problemCount - 10} more audit log problem(s)`);
    if (chain.length > 0 || shortened.some((p) => p.kind !== 'anchor-unreadable')) logLost = true;
    anchorDamaged = shortened.some((p) => p.kind === 'anchor-unreadable');
    if (chain.length > 0) {
      setAside = true;
      actions.push(
        `set the damaged audit log aside as ${auditDir}.damaged-${stamp} (its ${digest.records} readable record(s) were used to rebuild the state) and start a new log`,
      );
    } else if (shortened.some((p) => p.kind !== 'anchor-unreadable')) {
      actions.push(`keep the audit log as it is: ${lossText(shortened, report.lastSeq)}`);
      // anchor.json shows how far the log reached: the one record of the loss outside the log. Set aside, never
      // deleted or written over (auditLog.ts holds it too), and a new one written at the log's end.
      const proof = shortened.find(
        (p) => p.file === join(auditDir, ANCHOR_FILE) && (p.kind === 'truncated' || p.kind === 'rolled-back'),
      );
      if (proof) {
        anchorAside = join(
          auditDir,
          `${ANCHOR_FILE}.${proof.kind === 'truncated' ? 'cut-short' : 'rolled-back'}-${stamp}`,
        );
        actions.push(
          `set ${join(auditDir, ANCHOR_FILE)} aside as ${anchorAside} (it saw ${proof.kind === 'truncated' ? 'the log reach' : 'another record at'} seq ${proof.seq ?? '?'}: it is kept as the evidence of the loss) and write a new one at the log's end (seq ${report.lastSeq})`,
        );
      }
    }
    if (!setAside && anchorDamaged) {
      anchorAside = join(auditDir, `${ANCHOR_FILE}.damaged-${stamp}`);
      actions.push(
        `set the damaged anchor aside as ${anchorAside} and write a new one at the log's end (seq ${report.lastSeq}); the log itself is kept as it is`,
      );
    }
  }
  const witnesses = stateWitnesses(stateDir).filter(
    (f) => f !== STATE_NAMES.workingOrders || witnessesAuditLog(loadedOrders),
  );
  if (digest.records === 0 && witnesses.length > 0) {
    logLost = true;
    problems.push(
      `${auditDir}: the audit log is ${hadLog ? 'empty' : 'missing'} while ${witnesses.join(', ')} ${witnesses.length > 1 ? 'are' : 'is'} there`,
    );
    actions.push('start a new audit log');
  } else if (lostBefore.seq !== undefined && !logLost) {
    // Only that record still says the records before it are gone: the account's fills are not ones the log never had.
    logLost = true;
    problems.push(
      `${auditDir}: the audit log began over one that was deleted or emptied (its record ${lostBefore.seq}, StateDamaged, says so) and was not recovered since`,
    );
  }
  if (!loadedOrders.exists && digest.known.size > 0)
    problems.push(`${ordersFile}: missing, while the audit log has sent ${digest.known.size} order(s)`);

  // 2. The paper account against the log.
  const paper = checkPaper(paperFile, digest);
  // A log set aside leaves a new log that knows nothing: an account that agrees with the old log's readable
  // records is carried into it as its baseline (fills, positions, open orders), or the next open would find
  // the account disagreeing with the new log, and a second recover would set the account aside.
  const carried = setAside && paper.problem === undefined && paper.account !== undefined;
  const baseline = (logLost && paper.problem !== undefined) || carried ? paper.account : undefined;
  // Its open orders the new log must be told of: those the old log did not know, or all of them after a set-aside.
  const adopted = carried
    ? (paper.account?.orders ?? []).filter((o) => !isFinalStatus(o.response.status))
    : paper.strangers;
  if (carried && baseline) {
    actions.push(
      `carry the paper account's ${baseline.counters.fill} fill(s), positions and ${adopted.length} open order(s) into the new log as its baseline (the account agrees with the damaged log's readable records)`,
    );
  } else if (baseline) {
    problems.push(`${paperFile}: ${paper.problem}`);
    const adopt = paper.strangers.length;
    actions.push(
      `keep the paper account (it reads cleanly; the audit log is what lost records) and record its ${baseline.counters.fill} fill(s) and positions as the new log's baseline` +
        (adopt > 0 ? `; its ${adopt} open order(s) unknown to the log are recorded as adopted` : ''),
    );
  } else if (paper.problem) {
    problems.push(`${paperFile}: ${paper.problem}`);
    actions.push(
      `set the paper account aside as ${paperFile}.damaged-${stamp} and rebuild it from the audit log's ${digest.fillsOf.get(PAPER)?.length ?? 0} paper fill(s) on a fresh ${PAPER_STARTING_CASH} ${PAPER_CURRENCY} account` +
        (paper.openOrders.length > 0 ? `; its ${paper.openOrders.length} open order(s) are cancelled` : ''),
    );
  }

  // 2b. Each paper profile's account against the log's records of that profile. Rebuilt from them when the log is
  // whole; a log that lost records (or is set aside) leaves it as it is, said, for its records are not all there.
  const profileRebuilds: Array<{ venue: string; file: string; openOrders: string[] }> = [];
  for (const { venue, file } of profileAccounts) {
    const check = checkPaper(file, digest, venue);
    if (check.problem === undefined) continue;
    problems.push(`${file}: ${check.problem}`);
    if (logLost) {
      actions.push(
        check.account === undefined
          ? `leave ${file} as it is: the audit log lost records, so the paper profile ${venue}'s account cannot be rebuilt from it; move the file aside to start that profile afresh`
          : `keep ${file} as it is: it reads cleanly and the audit log lost records, so it is the better record of the paper profile ${venue}; the engine checks the two again when ${venue} next connects, after looking up its open orders`,
      );
      continue;
    }
    profileRebuilds.push({ venue, file, openOrders: check.openOrders });
    actions.push(
      `set the paper profile ${venue}'s account aside as ${file}.damaged-${stamp} and rebuild it from the audit log's ${digest.fillsOf.get(venue)?.length ?? 0} fill(s) there on a fresh ${PAPER_STARTING_CASH} ${PAPER_CURRENCY} account` +
        (check.openOrders.length > 0 ? `; its ${check.openOrders.length} open order(s) are cancelled` : ''),
    );
  }

  // 2c. A log set aside leaves a new one that knows nothing of the orders still open at other venues (a broker's, a
  // paper profile's): carried into it, or the next open found working-orders.json listing orders "the audit log has
  // no record of" and refused the folder again. Each is looked up at its venue by its id on the next connection.
  const carriedElsewhere = setAside ? [...digest.open.values()].filter((o) => o.venue !== PAPER) : [];
  if (carriedElsewhere.length > 0)
    actions.push(
      `carry ${carriedElsewhere.length} order(s) the damaged log left open at other venues into the new log (${carriedElsewhere
        .slice(0, 5)
        .map((o) => `${o.clientOrderId} at ${o.venue}`)
        .join(
          ', ',
        )}${carriedElsewhere.length > 5 ? ', …' : ''}): each is looked up at its venue on its next connection`,
    );

  // 3. The trading state against the log.
  const trading = new TradingStateStore(tradingFile, clock, undefined, digest.lastTradingState);
  const tradingProblem = trading.damage ?? trading.loadProblem;
  let tradingRecord: TradingStateRecord | undefined;
  let tradingAside: string | undefined;
  if (tradingProblem !== undefined) {
    problems.push(`${tradingFile}: ${tradingProblem}`);
    const last = digest.lastTradingState;
    const fromLog = last
      ? tradingStateOfLog(last)
      : {
          state: 'HALTED' as const,
          reason: 'the trading state could not be read or rebuilt; review the account, then resume',
          source: 'startup' as const,
          since: clock.now(),
          resumeAt: null,
        };
    // A breaker's cool-down and what a covering halt keeps come from the log's record too.
    // The day's starting equity too: taken afresh, it would be the equity after the day's losses.
    const day = digest.dayStart;
    tradingRecord = { version: 1, ...fromLog, day: day?.day ?? null, dayStartEquity: day?.equity ?? null };
    tradingAside = notAFile(tradingFile) ? `${tradingFile}.damaged-${stamp}` : undefined;
    if (tradingAside !== undefined)
      actions.push(`move what is in the place of ${tradingFile} (not a file) aside as ${tradingAside}`);
    actions.push(
      `rewrite ${tradingFile} as ${tradingRecord.state} (${last ? `from the audit log, seq ${last.seq}` : 'nothing in the audit log to take it from'})`,
    );
  }

  // 4. The working orders: rewritten from the log only when it is needed (the file damaged, missing while the
  // log sent orders, showing a loss, listing orders the log does not know, the log replaced, or its orders not
  // the log's unfinished ones once the above is done), and a file that is evidence is kept first, never written
  // over: the orders it lists that the log lost may still be working at their venue.
  const unknown = loadedOrders.orders.filter((o) => !digest.known.has(o.clientOrderId));
  if (unknown.length > 0)
    problems.push(
      `${ordersFile}: lists ${unknown.length} order(s) the audit log has no record of (${unknownText(unknown)})`,
    );
  const ordersKind =
    loadedOrders.problem !== undefined
      ? 'damaged'
      : (ordersSawLoss ?? (unknown.length > 0 ? 'unknown-orders' : undefined));
  const ordersAside =
    ordersKind !== undefined && loadedOrders.exists && existsSync(ordersFile)
      ? `${ordersFile}.${ordersKind}-${stamp}`
      : undefined;
  const changed = problems.length > 0;
  const ordersNotAFile = ordersAside !== undefined && notAFile(ordersFile);
  if (changed && ordersAside !== undefined)
    actions.push(
      `${ordersNotAFile ? `move what is in the place of ${ordersFile} (not a file) aside` : `keep a copy of ${ordersFile}`} as ${ordersAside} (${
        ordersKind === 'damaged'
          ? 'it cannot be read'
          : ordersKind === 'unknown-orders'
            ? 'it lists orders the audit log does not know'
            : 'it saw records the log no longer holds'
      }${unknown.length > 0 ? `: check ${unknownText(unknown)} at ${unknown.length === 1 ? 'its venue' : 'their venues'}, they may still be working` : ''})`,
    );
  // What the steps below record (orders cancelled or adopted with the paper account) changes the log's orders too.
  const ordersMustBeWritten =
    ordersKind !== undefined ||
    setAside ||
    baseline !== undefined ||
    paper.problem !== undefined ||
    profileRebuilds.length > 0 ||
    !loadedOrders.exists ||
    !sameIds(
      loadedOrders.orders.map((o) => o.clientOrderId),
      [...digest.open.keys()],
    );
  if (changed && ordersMustBeWritten) actions.push(`rewrite ${ordersFile} from the audit log's unfinished orders`);
  if (!changed && pending) endRecovery(stateDir);
  if (!changed || dryRun)
    return {
      stateDir,
      problems,
      actions: changed ? actions : ['nothing to do: every state file agrees with the audit log'],
      changed: false,
    };

  // Carry it out, marked as under way until the last step is durable (recoverPending.ts).
  beginRecovery(stateDir, {
    version: 1,
    startedAt: clock.now(),
    auditSetAside: setAside ? `${STATE_NAMES.audit}.damaged-${stamp}` : null,
  });
  crashPoint('recover-begun');
  if (setAside) {
    renameSync(auditDir, `${auditDir}.damaged-${stamp}`);
    syncDirectorySync(stateDir);
    crashPoint('recover-log-set-aside');
  } else if (hadLog) {
    const anchor = join(auditDir, ANCHOR_FILE);
    if (anchorAside !== undefined && existsSync(anchor)) {
      renameSync(anchor, anchorAside);
      syncDirectorySync(auditDir);
    } else rmSync(anchor, { force: true });
  }
  const { log } = await AuditLog.open(auditDir, { clock });
  try {
    const now = clock.now();
    /** Records the log's unfinished paper orders named as cancelled, so that the log and the account agree. */
    const cancelInLog = (ids: readonly string[], reason: string, venue = PAPER): void => {
      for (const id of ids) {
        const o = digest.open.get(id);
        if (!o) continue;
        log.write('OrderCancelled', {
          at: now,
          clientOrderId: id,
          venue,
          symbol: o.request.symbol,
          state: 'CANCELLED',
          reason,
        });
        digest.open.delete(id);
      }
    };
    if (baseline) {
      for (const o of adopted) {
        const id = o.request.client_order_id;
        log.write('SubmitOrder', {
          at: now,
          command: {
            commandId: `recover-${id}`,
            issuedAt: now,
            clientOrderId: id,
            venue: PAPER,
            source: 'recover',
            order: o.request,
          },
          risk: [],
        });
        log.write('OrderAccepted', {
          at: now,
          clientOrderId: id,
          venue: PAPER,
          symbol: o.request.symbol,
          state: 'ACCEPTED',
          venueOrderId: o.response.order_id,
        });
        digest.visit({
          seq: 0,
          ts: now,
          type: 'SubmitOrder',
          data: { at: now, command: { commandId: `recover-${id}`, clientOrderId: id, venue: PAPER, order: o.request } },
          prev: '',
          hash: '',
        });
        digest.visit({
          seq: 0,
          ts: now,
          type: 'OrderAccepted',
          data: { clientOrderId: id, venue: PAPER, venueOrderId: o.response.order_id },
          prev: '',
          hash: '',
        });
      }
      const atVenue = new Set(
        baseline.orders.filter((o) => !isFinalStatus(o.response.status)).map((o) => o.request.client_order_id),
      );
      cancelInLog(
        paper.openOrders.filter((id) => !atVenue.has(id)),
        'not open at the paper venue when sptrader recover took its account as the record',
      );
      const positions: Record<string, number> = {};
      for (const p of baseline.positions)
        if (BigInt(p.quantity) !== 0n) positions[p.symbol] = fromMoney(BigInt(p.quantity));
      log.write('VenueBaseline', {
        at: now,
        venue: PAPER,
        fills: baseline.counters.fill,
        positions,
        reason: 'the audit log lost records; the paper account, which reads cleanly, is the record from here on',
      });
    } else if (paper.problem) {
      cancelInLog(
        paper.openOrders,
        'the paper account was rebuilt from the audit log by sptrader recover; its open orders were cancelled',
      );
      const fills = digest.fillsOf.get(PAPER) ?? [];
      rebuildPaper(paperFile, fills, stamp, digest.known.size);
      crashPoint('recover-paper-rebuilt');
      if (setAside) {
        // The new log knows nothing of the fills the account was rebuilt from: it starts from them.
        const positions: Record<string, number> = {};
        for (const [symbol, u] of digest.fillSums.get(PAPER) ?? []) if (u !== 0n) positions[symbol] = fromMoney(u);
        log.write('VenueBaseline', {
          at: now,
          venue: PAPER,
          fills: fills.length,
          positions,
          reason: 'the audit log was set aside; the paper account was rebuilt from its readable records',
        });
      }
    }
    for (const o of carriedElsewhere) {
      log.write('SubmitOrder', {
        at: now,
        command: {
          commandId: o.commandId,
          issuedAt: o.createdAt,
          clientOrderId: o.clientOrderId,
          venue: o.venue,
          source: 'recover',
          order: o.request,
        },
        risk: [],
      });
      if (o.venueOrderId !== undefined)
        log.write('OrderAccepted', {
          at: now,
          clientOrderId: o.clientOrderId,
          venue: o.venue,
          symbol: o.request.symbol,
          state: 'ACCEPTED',
          venueOrderId: o.venueOrderId,
        });
    }
    for (const p of profileRebuilds) {
      cancelInLog(
        p.openOrders,
        `the paper profile ${p.venue}'s account was rebuilt from the audit log by sptrader recover; its open orders were cancelled`,
        p.venue,
      );
      rebuildPaper(p.file, digest.fillsOf.get(p.venue) ?? [], stamp, digest.known.size);
    }
    if (tradingRecord) {
      if (tradingAside !== undefined) setAsideWhole(tradingFile, tradingAside);
      replaceFileSync(tradingFile, tradingStateText(tradingRecord), { fileMode: 0o600, dirMode: 0o700 });
      syncDirectorySync(stateDir);
    }
    log.write('StateRecovered', { at: now, problems, actions });
    await log.flush();
    crashPoint('recover-logged');
    if (ordersMustBeWritten) {
      if (ordersAside !== undefined)
        if (ordersNotAFile) setAsideWhole(ordersFile, ordersAside);
        else keepCopy(ordersFile, ordersAside);
      crashPoint('recover-orders-kept');
      const records: OrderRecord[] = [...digest.open.values()].map(recoveredRecord);
      const writer = new WorkingOrderWriter(
        ordersFile,
        () => records,
        () => log.durableHead,
      );
      writer.schedule();
      await writer.flush();
    }
  } finally {
    await log.close();
  }
  crashPoint('recover-before-done');
  endRecovery(stateDir);
  return { stateDir, problems, actions, changed: true };
}

/** The orders a working-orders file lists that the log does not know, by client order id and venue. */
function unknownText(orders: readonly OrderRecord[]): string {
  const named = orders.slice(0, 5).map((o) => `${o.clientOrderId} at ${o.venue}`);
  return `${named.join(', ')}${orders.length > 5 ? `, and ${orders.length - 5} more` : ''}`;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((id) => left.has(id));
}

/**
 * Copies a state file about to be written over to `aside`, flushed with its folder's entry first: the original
 * stays in place until the new one replaces it whole, so a kill at any step leaves one of the two, and the copy.
 */
function keepCopy(file: string, aside: string): void {
  try {
    copyFileSync(file, aside, fsConstants.COPYFILE_EXCL);
    const fd = openSync(aside, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    syncDirectorySync(dirname(aside));
  } catch (e) {
    throw stateFileErrorOf(aside, `keep a copy of ${file} before it is rewritten (nothing was written over it)`, e);
  }
}

/**
 * Whether something other than a file (or a link to one) is in a state file's place: a folder, a socket. It cannot
 * be copied aside, nor replaced by a rename, so it is moved aside whole before the file is written.
 */
function notAFile(file: string): boolean {
  try {
    const st = lstatSync(file);
    return !st.isFile() && !st.isSymbolicLink();
  } catch {
    return false;
  }
}

/** Renames what is in a state file's place aside (its content kept as it was), with its folder's entry flushed. */
function setAsideWhole(file: string, aside: string): void {
  try {
    renameSync(file, aside);
    syncDirectorySync(dirname(file));
  } catch (e) {
    throw stateFileErrorOf(file, `move it aside as ${aside} before it is rewritten`, e);
  }
}

/** How many records a log kept as it is lost, and which: from its end to the furthest seq an anchor saw. */
function lossText(found: readonly AuditProblem[], lastSeq: number): string {
  const cut = found.filter((p) => p.kind === 'truncated' && p.seq !== undefined);
  const furthest = Math.max(lastSeq, ...cut.map((p) => p.seq as number));
  const saw = [...new Set(cut.filter((p) => p.seq === furthest).map((p) => basename(p.file)))].join(' and ');
  const ends = lastSeq === 0 ? 'it holds no record' : `it ends at seq ${lastSeq}`;
  const lost =
    furthest > lastSeq
      ? `${ends}, and the ${furthest - lastSeq} record(s) from seq ${lastSeq + 1} to seq ${furthest} (${saw} saw them on disk) are lost`
      : ends;
  return found.some((p) => p.kind === 'rolled-back')
    ? `${lost}; records an anchor saw are not the ones the log holds (it was replaced by another copy or rewritten)`
    : lost;
}

/**
 * A replay's marker (replay.json) in the folder: every trading command refuses the folder over it (session.ts), and
 * replay refuses a marked folder holding trading state. Whether the folder is trading state with a stray marker, or
 * a replay's with trading files put in it, only its user can tell; recover used to say "no problems" and rebuild
 * around it, so it refuses too, naming the file, what it is and what to do, and changes nothing.
 */
function refuseReplayMarker(stateDir: string): void {
  const marker = statePaths(stateDir).replayMarker;
  try {
    // lstat: a link in its place that leads nowhere is still a marker there.
    lstatSync(marker);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw stateFileErrorOf(marker, 'look at the replay marker', e);
  }
  let entries: string[];
  try {
    entries = readdirSync(stateDir);
  } catch (e) {
    throw stateFileErrorOf(stateDir, 'list the state directory', e);
  }
  const trading = TRADING_STATE_ENTRIES.filter((name) => name !== STATE_NAMES.audit && entries.includes(name));
  const what = `${STATE_NAMES.replayMarker} is the marker a replay writes in its own folder so that SPtrader never trades from it`;
  if (trading.length === 0)
    throw new StateFileError(
      marker,
      `cannot recover: this folder is a replay's (${what}); recover rebuilds trading state, and a replay's folder is never trading state`,
      'Nothing was changed. Point --state-dir at your trading state folder; a replay folder is replayed into again, or deleted',
    );
  throw new StateFileError(
    marker,
    `cannot recover: this folder holds trading state (${trading.join(', ')}) and a replay's marker (${what}), so it is neither a trading folder nor a replay's, and every trading command refuses it`,
    `Nothing was changed. If this is your trading state, move ${STATE_NAMES.replayMarker} out of the folder; if it is a replay's folder, move those trading state files out of it. Then run \`sptrader recover --state-dir DIR\` again`,
  );
}

interface PaperCheck {
  problem?: string;
  /** Client order ids of the log's unfinished paper orders. */
  openOrders: string[];
  /** The account, when it could be read. */
  account?: PaperState;
  /** Its open orders the log does not know. */
  strangers: PaperState['orders'];
}

/** A paper account's file against the log's records of its venue (the built-in `paper`, or a paper profile's id). */
function checkPaper(file: string, digest: AuditDigest, venue = PAPER): PaperCheck {
  const openOrders = [...digest.open.values()].filter((o) => o.venue === venue).map((o) => o.clientOrderId);
  const loggedFills = digest.fillCount.get(venue) ?? 0;
  let account: { state: PaperState } | undefined;
  try {
    account = readPaperAccount(file);
  } catch (e) {
    // A file that cannot be read at all (permissions, a disk error) is not rebuilt: it may be whole.
    if (e instanceof StateFileError && !(e instanceof StateDamagedError)) throw e;
    return { problem: (e as Error).message, openOrders, strangers: [] };
  }
  if (!account) {
    return loggedFills > 0 || openOrders.length > 0
      ? {
          problem: `missing, while the audit log records ${loggedFills} paper fill(s) and ${openOrders.length} open paper order(s)`,
          openOrders,
          strangers: [],
        }
      : { openOrders, strangers: [] };
  }
  const state = account.state;
  const issues: string[] = [];
  if (state.counters.fill !== loggedFills)
    issues.push(`${state.counters.fill} fill(s) where the audit log records ${loggedFills}`);
  // Compared by instrument however spelled (EURUSD, EUR_USD), named as the account or the log spells it.
  const names: Record<string, string> = {};
  const logged: Record<string, number> = {};
  for (const [symbol, u] of digest.fillSums.get(venue) ?? []) {
    const key = instrumentKey(symbol);
    names[key] ??= symbol;
    logged[key] = fromMoney(toMoney(logged[key] ?? 0) + u);
  }
  for (const k of Object.keys(logged)) if (logged[k] === 0) delete logged[k];
  const held: Record<string, number> = {};
  for (const p of state.positions)
    if (BigInt(p.quantity) !== 0n) {
      const key = instrumentKey(p.symbol);
      names[key] = p.symbol;
      held[key] = fromMoney(BigInt(p.quantity));
    }
  for (const key of new Set([...Object.keys(logged), ...Object.keys(held)])) {
    if ((logged[key] ?? 0) !== (held[key] ?? 0))
      issues.push(`${names[key] ?? key}: account ${held[key] ?? 0}, audit log ${logged[key] ?? 0}`);
  }
  const openAtVenue = state.orders.filter((o) => !isFinalStatus(o.response.status));
  const accountOpen = new Set(openAtVenue.map((o) => o.request.client_order_id));
  const strangers = openAtVenue.filter((o) => !digest.open.has(o.request.client_order_id));
  const loggedOpen = new Set(openOrders);
  const differ =
    [...accountOpen].some((id) => !loggedOpen.has(id)) ||
    [...loggedOpen].some((id) => digest.open.get(id)?.venueOrderId !== undefined && !accountOpen.has(id));
  if (differ) issues.push('its open orders differ from the audit log’s');
  return issues.length > 0
    ? { problem: `disagrees with the audit log: ${issues.join('; ')}`, openOrders, account: state, strangers }
    : { openOrders, account: state, strangers };
}

/** The paper profiles whose account (or its journal) is in the folder: each one's venue id and account file. */
function profilePaperAccounts(stateDir: string): Array<{ venue: string; file: string }> {
  const venues = new Set<string>();
  for (const name of readdirSync(stateDir)) {
    const id = paperProfileOf(name);
    if (id !== undefined) venues.add(id);
  }
  return [...venues].sort().map((venue) => ({ venue, file: join(stateDir, paperAccountName(venue)) }));
}

/** A fresh paper account with every fill of the log booked on it, in order; the old files set aside. */
function rebuildPaper(file: string, fills: readonly Fill[], stamp: string, ordersSent: number): void {
  for (const f of [file, journalFile(file)]) {
    if (existsSync(f)) renameSync(f, `${f}.damaged-${stamp}`);
  }
  const ledger = new Ledger();
  ledger.addCash(PAPER_CURRENCY, units(PAPER_STARTING_CASH));
  let maxOrder = 0;
  for (const fill of fills) {
    const instrument = instrumentFor(fill.symbol);
    ledger.apply({
      symbol: fill.symbol,
      quoteCurrency: instrument.quoteCurrency,
      side: fill.side,
      price: toMoney(fill.price),
      quantity: toMoney(fill.quantity),
      commission: toMoney(fill.commission),
    });
    const n = Number(/^P-(\d+)$/.exec(fill.order_id)?.[1] ?? 0);
    if (n > maxOrder) maxOrder = n;
  }
  const state: PaperState = {
    version: 2,
    accountId: 'PAPER-1',
    currency: PAPER_CURRENCY,
    seed: null,
    cash: Object.fromEntries([...ledger.cash].map(([c, u]) => [c, u.toString()])),
    realized: Object.fromEntries([...ledger.realized].map(([c, u]) => [c, u.toString()])),
    positions: [...ledger.positions.values()].map((p) => ({
      symbol: p.symbol,
      quantity: p.quantity.toString(),
      averagePrice: p.averagePrice.toString(),
      cost: p.cost.toString(),
    })),
    // Order ids are never reused: the counter starts past every id the log has seen.
    counters: { order: Math.max(maxOrder, ordersSent), fill: fills.length },
    orders: [],
    fills: fills.slice(-1000),
    generation: 0,
  };
  writePaperState(file, state);
}
