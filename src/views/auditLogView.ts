/**
 * The audit log as a person reads it (SPtrader: Show Audit Log): one line per record, oldest first and
 * newest last, each with its UTC time, its kind, the order it is about named by what it is
 * (`describeOrder`, never by client id), its status and its fill; the chain's verification at the top.
 *
 *   2026-12-02 14:03:27.123 UTC  #9  OrderFilled      BUY 10,000 EUR_USD MKT IOC  FILLED  10,000 @ 1.09014
 *
 * Pure: no `vscode`; the editor's read-only document (auditLogDocument.ts) renders what this returns.
 */
import type { AuditRecord, VerifyReport } from '../execution/audit/auditLog';
import { auditTailNotes, type AuditTail } from '../execution/audit/auditTail';
import { describeOrder, formatPrice, formatQuantity, type OrderTerms } from '../usecases/describeOrder';
import { OrderRequestSchema } from '../orders/model';

/** Most records the view shows; a longer log says "showing the last N of M" and links to the raw files. */
export const AUDIT_VIEW_LIMIT = 2000;

/** The chain's check: still running (a long log takes a while), done, or failed to run. */
export type ChainStatus =
  | { readonly kind: 'verifying' }
  | { readonly kind: 'done'; readonly report: VerifyReport }
  | { readonly kind: 'failed'; readonly message: string };

export interface AuditViewInput {
  /** The records to show, oldest first (at most AUDIT_VIEW_LIMIT of them, the newest). */
  readonly records: readonly AuditRecord[];
  /**
   * Earlier records read only to name the orders of the shown ones (a fill whose order was submitted
   * before the first shown line is still named by what it is).
   */
  readonly earlier?: readonly AuditRecord[];
  /** Records in the whole log (its last seq: seqs are contiguous from 1). */
  readonly total: number;
  readonly chain: ChainStatus;
  /** The folder holding the raw JSONL files, and the newest file's path. */
  readonly dir: string;
  readonly newestFile: string | undefined;
  /** What the read left out (a torn last line, lines that are not records), one sentence each. */
  readonly notes?: readonly string[];
}

/**
 * The view of a tail read of `limit` records plus some earlier ones (to name their orders): the newest
 * `limit` shown, the rest only read, and what the read left out said in the header.
 */
export function auditViewInputOf(
  dir: string,
  tail: AuditTail,
  limit = AUDIT_VIEW_LIMIT,
): Omit<AuditViewInput, 'chain'> {
  const cut = Math.max(0, tail.records.length - limit);
  const records = tail.records.slice(cut);
  return {
    records,
    earlier: tail.records.slice(0, cut),
    total: records[records.length - 1]?.seq ?? 0,
    dir,
    newestFile: tail.newestFile,
    notes: auditTailNotes(tail),
  };
}

/** The header lines: what the log holds, whether its chain verifies, and where the raw JSONL is. */
export function auditHeader(input: AuditViewInput): string[] {
  const shown = input.records.length;
  const lines = [
    `SPtrader audit log · ${chainLine(input.chain)}`,
    shown < input.total
      ? `Showing the last ${formatQuantity(shown)} of ${formatQuantity(input.total)} records, newest last (the raw log has them all).`
      : `${formatQuantity(shown)} record${shown === 1 ? '' : 's'}, newest last.`,
    `Raw JSONL: ${input.newestFile ?? input.dir}`,
    ...(input.notes ?? []),
    '',
  ];
  return lines;
}

function chainLine(chain: ChainStatus): string {
  switch (chain.kind) {
    case 'verifying':
      return 'chain: verifying…';
    case 'failed':
      return `chain: could not be checked: ${chain.message}`;
    case 'done': {
      const r = chain.report;
      if (r.verified)
        return `chain VERIFIED: ${formatQuantity(r.lines)} records in ${r.files} file${r.files === 1 ? '' : 's'}, intact`;
      const first = r.problems[0];
      return `chain BROKEN: ${r.problemCount} problem${r.problemCount === 1 ? '' : 's'}${first ? `, first at ${first.file}:${first.line}: ${first.problem}` : ''} (run SPtrader: Verify Audit Log)`;
    }
  }
}

/** The whole text: header, then one line per record. */
export function auditLogText(input: AuditViewInput): string {
  const orders = new Map<string, OrderTerms>();
  for (const r of input.earlier ?? []) learnOrder(r, orders);
  const body = input.records.map((r) => {
    learnOrder(r, orders);
    return auditLine(r, orders);
  });
  if (body.length === 0) body.push('(the audit log is empty: nothing has been checked or sent yet)');
  return [...auditHeader(input), ...body].map(visible).join('\n') + '\n';
}

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Control and format characters (C0, C1, the bidi embeddings, overrides, isolates and marks, zero-width ones, the
 * line and paragraph separators, a lone surrogate) as escapes: a record's text is a venue's or a component's, and a
 * bidi override in it made its line read differently from its bytes (Trojan Source), a line break split a record
 * in two, a zero-width space hid a difference. What is printable is kept as it is.
 */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (ch) => {
    const named = NAMED[ch];
    if (named !== undefined) return named;
    const code = ch.codePointAt(0) as number;
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    return code < 0x10000 ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

const KIND_WIDTH = 22;

/** "2026-12-02 14:03:27.123 UTC  #9  OrderFilled  BUY 10,000 EUR_USD MKT IOC  FILLED  10,000 @ 1.09014". */
export function auditLine(record: AuditRecord, orders: ReadonlyMap<string, OrderTerms>): string {
  const time = `${new Date(record.ts).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
  const kind = record.type.length < KIND_WIDTH ? record.type.padEnd(KIND_WIDTH) : `${record.type} `;
  return `${time}  ${`#${record.seq}`.padEnd(7)} ${kind}${whatHappened(record, orders)}`.trimEnd();
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** Remembers the order a record carries (SubmitOrder, CheckOrder, OrderSubmitted, OrderDenied) by its client id. */
function learnOrder(record: AuditRecord, orders: Map<string, OrderTerms>): void {
  const command = obj(record.data['command']);
  const order = command?.['order'] ?? record.data['order'];
  const id = str(command?.['clientOrderId']) ?? str(record.data['clientOrderId']);
  if (id === undefined || order === undefined) return;
  const parsed = OrderRequestSchema.safeParse(order);
  if (parsed.success) orders.set(id, parsed.data);
}

function orderName(record: AuditRecord, orders: ReadonlyMap<string, OrderTerms>): string | undefined {
  const id = str(obj(record.data['command'])?.['clientOrderId']) ?? str(record.data['clientOrderId']);
  if (id === undefined) return undefined;
  const known = orders.get(id);
  if (known) return describeOrder(known);
  // Submitted before the records read: named by its symbol and venue, the id only as a last resort.
  const symbol = str(record.data['symbol']);
  return `${symbol ?? 'an order'} (submitted before the records shown, ${id})`;
}

function fillText(fill: Record<string, unknown> | undefined): string | undefined {
  const quantity = num(fill?.['quantity']);
  const price = num(fill?.['price']);
  if (quantity === undefined || price === undefined) return undefined;
  return `${formatQuantity(quantity)} @ ${formatPrice(price)}`;
}

function venueOf(record: AuditRecord): string {
  const venue = str(record.data['venue']) ?? str(obj(record.data['command'])?.['venue']);
  return venue ? `on ${venue}` : '';
}

/** Everything after the kind: the order, its status, its fill, and what else the record says. */
function whatHappened(record: AuditRecord, orders: ReadonlyMap<string, OrderTerms>): string {
  const d = record.data;
  const name = orderName(record, orders);
  const state = str(d['state']);
  const parts: string[] = [];
  switch (record.type) {
    case 'SubmitOrder':
      // The command, written before any check: whether it was sent or denied is the next record.
      parts.push(name ?? '', 'submit requested', sourceOf(d), venueOf(record));
      break;
    case 'Reconcile':
      parts.push(venueOf(record));
      break;
    case 'CheckOrder': {
      const denial = obj(d['denial']);
      parts.push(
        name ?? '',
        denial ? `DENIED: ${str(denial['code']) ?? ''} ${str(denial['message']) ?? ''}`.trim() : 'CHECKED (would pass)',
        sourceOf(d),
        venueOf(record),
      );
      break;
    }
    case 'OrderDenied':
      parts.push(name ?? '', `DENIED: ${str(d['code']) ?? ''}`, clip(str(d['reason'])));
      break;
    case 'OrderFilled':
    case 'OrderPartiallyFilled': {
      const remaining = num(d['remainingQuantity']);
      parts.push(
        name ?? '',
        state ?? '',
        fillText(obj(d['fill'])) ?? '',
        record.type === 'OrderPartiallyFilled' && remaining !== undefined ? `(${formatQuantity(remaining)} left)` : '',
      );
      break;
    }
    case 'OrderRejected':
    case 'OrderUnconfirmed':
    case 'OrderCancelRejected':
    case 'OrderNeverArrived':
      parts.push(name ?? '', state ?? '', clip(str(d['reason'])));
      break;
    case 'TradingStateChanged':
      parts.push(`${str(d['from']) ?? '?'} → ${str(d['to']) ?? '?'}: ${clip(str(d['reason']))}`);
      break;
    case 'PositionsReconciled': {
      const differences = Array.isArray(d['differences']) ? d['differences'].length : 0;
      parts.push(venueOf(record), differences ? `${differences} position difference(s)` : 'positions agree');
      break;
    }
    case 'VenueError':
      parts.push(venueOf(record), `${str(d['operation']) ?? ''}: ${str(d['reason']) ?? ''}`, clip(str(d['message'])));
      break;
    case 'StateDamaged':
    case 'StateSaveFailed':
      parts.push(str(d['file']) ?? '', clip(str(d['problem']) ?? str(d['message'])));
      break;
    default:
      if (name) parts.push(name, state ?? '');
      else parts.push(scalars(d));
  }
  return parts.filter((p) => p !== '').join('  ');
}

function sourceOf(d: Readonly<Record<string, unknown>>): string {
  const source = str(obj(d['command'])?.['source']);
  return source ? `(${source})` : '';
}

const MAX_TEXT = 140;
const clip = (s: string | undefined): string =>
  s === undefined ? '' : s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;

/** A record of a kind this view does not know: its scalar fields (`at` aside), as `key=value`. */
function scalars(d: Readonly<Record<string, unknown>>): string {
  const text = Object.entries(d)
    .filter(([k, v]) => k !== 'at' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  return clip(text);
}
