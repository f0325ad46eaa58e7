/**
 * The engine's working orders on disk, so that after a restart it reconciles the orders it placed as
 * its own. Writes are coalesced (at most one in flight; the latest state wins) and atomic (temp file,
 * fsync, rename). The audit log remains the record of what happened; this file is only a cache of what
 * is still open, and a file that cannot be read is reported and set aside, never trusted half-way.
 * It carries a checksum (common/checksum.ts): a flipped bit in the audit log's head it records was taken for
 * a log cut short or replaced ("records were removed"), when only this file was damaged.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { readStateFileSync } from '../common/userFile';
import { open, rename, rm } from 'node:fs/promises';
import { isPermissionError, newerFormat, permissionDenied, stateFileErrorOf } from '../common/stateErrors';
import { crashPoint } from '../common/crashPoint';
import { checkSeal, sealJson } from '../common/checksum';
import { replaceFileSync, syncDirectorySync, tempFileDone, tempFileFor } from '../common/durableFile';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { FillSchema, OrderRequestSchema } from '../orders/model';
import { ORDER_STATES, type OrderRecord, type OrderState } from './orderState';

const StoredOrderSchema = z.object({
  clientOrderId: z.string(),
  commandId: z.string(),
  venue: z.string(),
  request: OrderRequestSchema.extend({ client_order_id: z.string() }),
  state: z.enum(ORDER_STATES as [OrderState, ...OrderState[]]),
  stateBeforeCancel: z.enum(ORDER_STATES as [OrderState, ...OrderState[]]).optional(),
  venueOrderId: z.string().optional(),
  filledUnits: z.string().regex(/^\d+$/),
  notionalUnits: z.string().regex(/^\d+$/),
  commission: z.number(),
  fills: z.array(FillSchema),
  reason: z.string().optional(),
  denialCode: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
const AnchorSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string().regex(/^[0-9a-f]{64}$/) });
const FileSchema = z.object({
  version: z.literal(1),
  /** The audit log's durable head when the file was written: the log must reach it (absent in older files). */
  audit: AnchorSchema.optional(),
  orders: z.array(StoredOrderSchema),
});

export interface LoadedWorkingOrders {
  orders: OrderRecord[];
  /** Why the file could not be used (it was set aside when it could be read but not understood). */
  problem?: string;
  /** Whether the file was there. */
  exists: boolean;
  /** The audit log's head the file saw, when it says. */
  anchor?: { seq: number; hash: string };
}

/**
 * Reads the working-orders file. One that can be read but not understood is set aside (`.corrupt-<time>`) for a
 * person to look at, unless `keepInPlace` (recover: a look without --yes changes nothing, and a recover that does
 * change the folder sets it aside itself, under its own name, before it writes a new one).
 */
export function loadWorkingOrders(file: string, keepInPlace = false): LoadedWorkingOrders {
  const setAside = keepInPlace ? (_file: string, problem: string): string => problem : setAsideFile;
  let text: string;
  try {
    text = readStateFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { orders: [], exists: false };
    // Not damage for recover to rewrite: its access is at fault.
    if (isPermissionError(e)) throw permissionDenied(file, 'the working orders file');
    return { orders: [], exists: true, problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  const seal = checkSeal(text);
  if (seal.problem !== undefined)
    return { orders: [], exists: true, problem: setAside(file, `${file} is damaged: ${seal.problem}`) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { orders: [], exists: true, problem: setAside(file, `${file} is not JSON (${(e as Error).message})`) };
  }
  const newer = newerFormat(json, 1);
  // Derived from the audit log: set aside (kept for that version) and rebuilt, as a damaged one is.
  if (newer !== undefined) return { orders: [], exists: true, problem: setAside(file, `${file}: ${newer}`) };
  // A file without a checksum was written before there were checksums: it may hold no other key (a damaged
  // checksum key would otherwise pass for an unknown one, and be dropped).
  const parsed = (seal.sealed ? FileSchema : FileSchema.strict()).safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'the whole file'}: ${i.message}`);
    return { orders: [], exists: true, problem: setAside(file, `${file} is invalid (${issues.join('; ')})`) };
  }
  return {
    exists: true,
    ...(parsed.data.audit ? { anchor: parsed.data.audit } : {}),
    orders: parsed.data.orders.map((o) => ({
      ...o,
      filledUnits: BigInt(o.filledUnits),
      notionalUnits: BigInt(o.notionalUnits),
    })),
  };
}

/**
 * Whether the file proves an audit log was there: it lists orders or saw a log with records. One written
 * before the log held a durable record (no orders, seen at seq 0) proves nothing, so an empty log beside
 * it is a folder killed or closed early, not a log deleted.
 */
export function witnessesAuditLog(loaded: LoadedWorkingOrders): boolean {
  return loaded.exists && !(loaded.problem === undefined && loaded.orders.length === 0 && loaded.anchor?.seq === 0);
}

const CORRUPT = '.corrupt-';

/**
 * The newest copy of `file` an earlier open found damaged and set aside (`setAside`), if any: a file missing for
 * that reason is said as such, not as "deleted or moved" by someone.
 */
export function setAsideCopy(file: string): string | undefined {
  const prefix = `${basename(file)}${CORRUPT}`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return undefined;
  }
  const stamp = (n: string): number => Number(n.slice(prefix.length));
  const newest = names
    .filter((n) => n.startsWith(prefix) && Number.isSafeInteger(stamp(n)))
    .sort((a, b) => stamp(b) - stamp(a))[0];
  return newest === undefined ? undefined : join(dirname(file), newest);
}

/** Keeps a bad file beside the new one for a person to look at. */
function setAsideFile(file: string, problem: string): string {
  const aside = `${file}${CORRUPT}${Date.now()}`;
  try {
    renameSync(file, aside);
    return `${problem}; moved to ${aside}`;
  } catch {
    return problem;
  }
}

export class WorkingOrderWriter {
  private writing: Promise<void> | undefined;
  private dirty = false;
  private lastError: Error | undefined;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => OrderRecord[],
    /** The audit log's durable head, recorded in the file (see loadWorkingOrders). */
    private readonly anchor: () => { seq: number; hash: string } | undefined = () => undefined,
    /** Told of a write that failed (the file keeps its previous content; the next change tries again). */
    private readonly onError: (error: Error) => void = () => undefined,
    /**
     * Resolves once every record the audit log was handed so far is durable: the file waits for it, so that it
     * never lists an order whose SubmitOrder a kill could still take away (the next open would take that order for
     * proof that the log was cut short, and call a sound folder damaged).
     */
    private readonly logDurable: () => Promise<unknown> = () => Promise.resolve(),
  ) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  }

  /** Asks for the current working orders to be saved soon. */
  schedule(): void {
    this.dirty = true;
    if (this.writing) return;
    this.writing = this.loop();
  }

  /** The last write's failure, if the last write failed. */
  get error(): Error | undefined {
    return this.lastError;
  }

  /** Resolves once everything scheduled so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.lastError) throw this.lastError;
  }

  private async loop(): Promise<void> {
    try {
      await new Promise((r) => setImmediate(r));
      while (this.dirty) {
        this.dirty = false;
        const orders = this.snapshot();
        // A log that failed makes nothing durable any more (it halts trading and says so itself): the file keeps
        // what the log's durable part says.
        const durable = await this.logDurable().then(
          () => true,
          () => false,
        );
        if (!durable) break;
        await this.write(orders);
      }
      this.lastError = undefined;
    } catch (e) {
      this.lastError = e as Error;
      try {
        this.onError(e as Error);
      } catch {
        // the listener's own failure changes nothing here
      }
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * Writes the file now, durably, with no orders: done when a state folder is opened without it and the
   * audit log has no order yet, so that once an order is in the log the file is there, and a missing file
   * always means it was deleted or moved, never that the process died before its first write.
   */
  createEmptySync(): void {
    try {
      replaceFileSync(this.file, this.text([]), { fileMode: 0o600 });
      syncDirectorySync(dirname(this.file));
    } catch (e) {
      throw stateFileErrorOf(this.file, 'save the working orders', e);
    }
  }

  private text(orders: OrderRecord[]): string {
    const anchor = this.anchor();
    return sealJson(
      `${JSON.stringify(
        {
          version: 1,
          ...(anchor ? { audit: { seq: anchor.seq, hash: anchor.hash } } : {}),
          orders: orders.map((o) => ({
            ...o,
            filledUnits: o.filledUnits.toString(),
            notionalUnits: o.notionalUnits.toString(),
          })),
        },
        null,
        1,
      )}\n`,
    );
  }

  private async write(orders: OrderRecord[]): Promise<void> {
    const text = this.text(orders);
    // Named by this process and marked as being written: a kill before the rename leaves it for the next
    // open of the folder to remove (common/statePaths.ts `removeStaleStateTemps`).
    const tmp = tempFileFor(this.file);
    try {
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      crashPoint('working-orders-before-rename');
      await rename(tmp, this.file);
      crashPoint('working-orders-renamed');
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw stateFileErrorOf(this.file, 'save the working orders', e);
    } finally {
      tempFileDone(tmp);
    }
  }
}
