/**
 * Keeps the paper account on disk (the file format and its crash safety are `state.ts`): each operation's
 * change is one journal line, or a new snapshot when there is none yet for this account or the journal
 * has grown past its limit. Without a file the account lives in memory and nothing here runs.
 */
import { crashPoint } from '../../common/crashPoint';
import type { PaperAccount } from './account';
import type { PaperOrders } from './orders';
import { appendPaperJournal, deletePaperState, readPaperAccount, writePaperState, type PaperState } from './state';

/** Past this size the journal is folded into a new snapshot of the account file. */
export const JOURNAL_LIMIT_BYTES = 1024 * 1024;
/** For the crash suite, which folds the journal often: SPTRADER_PAPER_JOURNAL_LIMIT_BYTES. */
const ENV_JOURNAL_LIMIT = ((v) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined))(
  process.env['SPTRADER_PAPER_JOURNAL_LIMIT_BYTES'],
);

export class PaperPersistence {
  /** The account file's snapshot generation, whether a snapshot is on disk, whether the next save must write one, and the journal's size. */
  private generation = 0;
  private snapshotOnDisk = false;
  private needSnapshot = true;
  private journalBytes = 0;
  /** Lines in the journal that follow the snapshot on disk: the next one is numbered one more. */
  private journalLines = 0;
  private readonly journalLimitBytes: number;

  constructor(
    readonly file: string | undefined,
    journalLimitBytes: number | undefined,
  ) {
    this.journalLimitBytes = journalLimitBytes ?? ENV_JOURNAL_LIMIT ?? JOURNAL_LIMIT_BYTES;
  }

  /** The saved account with its journal applied, or undefined when there is none (or no file). */
  load(): PaperState | undefined {
    if (!this.file) return undefined;
    const saved = readPaperAccount(this.file);
    if (!saved) return undefined;
    this.generation = saved.state.generation ?? 0;
    this.snapshotOnDisk = true;
    this.needSnapshot = false;
    this.journalBytes = saved.journalBytes;
    this.journalLines = saved.journalLines;
    return saved.state;
  }

  /**
   * Deletes the account file and its journal (atomically: `deletePaperState`); the next save writes a new
   * snapshot, one generation on, so that no journal line of the deleted account can ever apply to it.
   */
  delete(): void {
    crashPoint('paper-reset-begin');
    this.generation++;
    this.snapshotOnDisk = false;
    this.needSnapshot = true;
    this.journalBytes = 0;
    this.journalLines = 0;
    if (this.file) deletePaperState(this.file);
  }

  /**
   * Saves the operation's change: one journal line, or a new snapshot when there is none yet for this
   * account or the journal has grown past its limit.
   */
  save(orders: PaperOrders, account: PaperAccount, seed: number | null): void {
    if (!this.file) return;
    const changes = orders.takeChanges();
    // A failed save leaves the next one to write a whole snapshot: a journal line carries only its own
    // change, so one that never reached the disk would otherwise be missing for good.
    if (!this.needSnapshot && this.journalBytes < this.journalLimitBytes) {
      try {
        this.journalBytes += appendPaperJournal(this.file, {
          generation: this.generation,
          line: this.journalLines + 1,
          ...books(orders, account),
          ...changes,
        });
        this.journalLines++;
      } catch (e) {
        this.needSnapshot = true;
        throw e;
      }
      crashPoint('paper-after-save');
      return;
    }
    // A new snapshot is always a new generation, so no journal line written before it applies to it.
    const generation = this.snapshotOnDisk ? this.generation + 1 : this.generation;
    this.needSnapshot = true;
    writePaperState(this.file, snapshot(orders, account, seed, generation));
    this.generation = generation;
    this.snapshotOnDisk = true;
    this.needSnapshot = false;
    this.journalBytes = 0;
    this.journalLines = 0;
    crashPoint('paper-after-save');
  }
}

function books(
  orders: PaperOrders,
  account: PaperAccount,
): Pick<PaperState, 'cash' | 'realized' | 'positions' | 'counters'> {
  const ledger = account.ledger;
  return {
    cash: Object.fromEntries([...ledger.cash].map(([c, u]) => [c, u.toString()])),
    realized: Object.fromEntries([...ledger.realized].map(([c, u]) => [c, u.toString()])),
    positions: [...ledger.positions.values()].map((p) => ({
      symbol: p.symbol,
      quantity: p.quantity.toString(),
      averagePrice: p.averagePrice.toString(),
      cost: p.cost.toString(),
    })),
    counters: { order: orders.nextOrder, fill: orders.nextFill },
  };
}

/** The whole account as the file holds it (also what a scratch copy starts from). */
export function snapshot(
  orders: PaperOrders,
  account: PaperAccount,
  seed: number | null,
  generation: number,
): PaperState {
  return {
    version: 2,
    accountId: account.accountId,
    currency: account.currency,
    seed,
    ...books(orders, account),
    orders: [...orders.all.values()],
    fills: orders.recentFills(),
    generation,
  };
}
