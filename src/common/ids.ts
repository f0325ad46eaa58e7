import { randomBytes } from 'node:crypto';

/**
 * Client order ids must survive every venue's rules: Binance allows 36 characters of
 * `[.A-Z:/a-z0-9_-]`, Alpaca 128, OANDA 128, IB an integer of its own (mapped separately).
 * So ours are at most 32 characters of `[A-Za-z0-9-]` and unique without coordination.
 */
export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9._:/-]{1,36}$/;

let counter = 0;
const processTag = randomBytes(3).toString('hex');

export function newClientOrderId(prefix = 'sp', nowMs: number = Date.now()): string {
  counter = (counter + 1) % 0x100000;
  return `${prefix}-${nowMs.toString(36)}-${processTag}${counter.toString(36).padStart(4, '0')}`;
}

const OWN_ID = new RegExp(`^[A-Za-z0-9]+-[0-9a-z]+-${processTag}[0-9a-z]{4}$`);

/** Whether `id` has the form `newClientOrderId` gives this process's ids (its process tag): one it made. */
export function madeByThisProcess(id: string): boolean {
  return OWN_ID.test(id);
}

const sessionTag = randomBytes(6).toString('hex');
let sequence = 0;

/** Unique across processes (a random tag per process) and ordered within one; no system call per id. */
export function newSequentialId(prefix: string): string {
  sequence++;
  return `${prefix}-${sessionTag}-${sequence.toString(36)}`;
}
