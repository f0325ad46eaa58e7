/**
 * The paper account on disk: one JSON file, replaced atomically (temp file, fsync, rename) after
 * every change, so a crash leaves either the old or the new account, never half of one. Amounts
 * are decimal strings of 10^-10 units because JSON numbers cannot carry a BigInt exactly.
 * A file that fails validation is reported, never silently replaced: it is someone's account.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { FillSchema, OrderRequestSchema, OrderResponseSchema } from '../../orders/model';
import { BrokerError } from '../errors';

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
});
export type StoredOrder = z.infer<typeof StoredOrderSchema>;

const StoredPositionSchema = z.object({ symbol: z.string(), quantity: Units, averagePrice: Units });

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
});
export type PaperState = z.infer<typeof PaperStateSchema>;

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

const AnyStateSchema = z.union([PaperStateSchema, PaperStateV1Schema]);

function upgrade(state: z.infer<typeof AnyStateSchema>): PaperState {
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

/** The saved account, or undefined when there is none yet. */
export function readPaperState(file: string): PaperState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(file, (e as Error).message, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw unreadable(file, `it is not valid JSON (${(e as Error).message})`, e);
  }
  const parsed = AnyStateSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`)
      .join('; ');
    throw unreadable(file, `it is not a paper account (${issues})`, parsed.error);
  }
  return upgrade(parsed.data);
}

function unreadable(file: string, why: string, cause: unknown): BrokerError {
  return new BrokerError(
    'INTERNAL',
    `the paper account file ${file} cannot be loaded: ${why}. It was left untouched; reset the paper account to start a fresh one (this deletes the file).`,
    { cause },
  );
}

export function writePaperState(file: string, state: PaperState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(state));
      // Flushed before the rename so a power loss cannot leave the new name on empty content.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new BrokerError('INTERNAL', `could not save the paper account to ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export function deletePaperState(file: string): void {
  rmSync(file, { force: true });
}
