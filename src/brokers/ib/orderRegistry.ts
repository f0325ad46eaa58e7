/**
 * IB's orders as this session knows them: each order by its TWS id and by its orderRef (our client order id),
 * kept current by TWS's events (`orderStatus`, `openOrder`, `execDetails`, `commissionReport`, errors for an
 * order). IB reports cumulative status; each report goes through the order tracker, which emits what is new
 * in it once.
 *
 * Fills carry IB's commission. TWS API "Executions and Commissions": "When an order is filled either fully or
 * partially, the IBApi.EWrapper.execDetails and IBApi.EWrapper.commissionReport events will deliver
 * IBApi.Execution and IBApi.CommissionReport objects"; the report follows its execution (matched by `execId`),
 * other messages (the order's status) possibly in between. So a status report that brings a fill is held
 * until executions with their commission reports cover it: each execution becomes one fill (its id the
 * `execId`, its price and commission IB's). A report still not covered after `commissionWaitMs` is applied as
 * before, the uncovered part one fill synthesised from the cumulative figures with commission 0; so are the
 * reports answering `reqAllOpenOrders` at once (an order filled while we were away: its executions, with their
 * commissions, come first from the `reqExecutions` the adapter sends on connect; what they do not cover is
 * synthesised). Later executions for a quantity already counted are not counted again. Executions with their commissions that no status report has announced yet bring
 * their fills on their own. A held report is never lost: `flush` applies every one (on disconnect).
 * A commission report in another currency than the account's is converted first (`convertCommission`,
 * `commission.ts`).
 * Past 450 lines on purpose: holding a status report for its executions' commissions and applying it is one
 * state machine over the same entry; split, each half would reach into the other's fields.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../../common/clock';
import { isFinalStatus, type Fill } from '../../orders/model';
import { plainQuantity, synthesisedFillId, type OrderTracker } from '../orderTracker';
import { reportedCommission, type ReportedCommission } from './commission';
import { cancelRefusedState, errorMeaning } from './errors';
import type { IbContract } from './market';
import {
  fillFromStatus,
  requestFromIb,
  responseOf,
  validStatusReport,
  type IbOrder,
  type RegistryView,
} from './orders';

export interface Entry extends RegistryView {
  /** TWS has reported on this order (a status or an openOrder). */
  confirmed: boolean;
  /** Refused before TWS accepted it (rate limit, duplicate id, …): the client order id may be used again. */
  failedBeforeAcceptance: boolean;
  badResponse: string | undefined;
  /** IB's permanent id of the order (orderStatus, openOrder): what names it in a `completedOrder`. */
  permId?: number;
  /** IB's executions of this order (`execDetails`), in the order they came, each with its commission once reported. */
  executions?: Execution[];
  /** Status reports bringing a fill whose commission has not come yet, oldest first. */
  held?: StatusReport[];
  holdTimer?: ReturnType<typeof setTimeout> | undefined;
  /** An Inactive status waiting for the error that tells why (`rejectReasonWaitMs`). */
  inactive?: { report: StatusReport; timer: ReturnType<typeof setTimeout> } | undefined;
  /** TWS made the order a DAY order by its preset (10349), and the user was told. */
  madeDay?: boolean;
}

/**
 * A new entry for order `orderId`: nothing reported of it yet but, when `confirmed`, that TWS has it (a status or an
 * openOrder came, or it was adopted from TWS's lists).
 */
export function newEntry(orderId: number, request: Entry['request'], now: number, confirmed: boolean): Entry {
  return {
    orderId,
    request,
    ibStatus: undefined,
    filled: 0,
    avgFillPrice: null,
    rejectReason: undefined,
    fills: [],
    createdAt: now,
    updatedAt: now,
    confirmed,
    failedBeforeAcceptance: false,
    badResponse: undefined,
  };
}

/** One `execDetails` of ours: `shares` at `price`; `commission` once its `commissionReport` came. */
export interface Execution {
  execId: string;
  shares: number;
  price: number;
  commission: number | undefined;
  /** Execution.lastLiquidity: 1 added (maker), 2 removed, 3 routed out. */
  liquidity: number | undefined;
  /** Execution.cumQty: the order's executed quantity with this execution (tells a correction from a new fill). */
  cumQty?: number | undefined;
  /** Execution.permId: IB's permanent id of the order (what names it in a `completedOrder`, which has no orderId). */
  permId?: number | undefined;
  /** The contract's currency (what its price is in) and, for a pair, its base: IB's own rate between the two. */
  currency?: string | undefined;
  base?: string | undefined;
  /** Set while the commission report's amount is being converted to the account's currency. */
  converting?: boolean;
}

export interface StatusReport {
  status: string;
  filled: number;
  avgFillPrice: number;
  lastFillPrice: number | undefined;
}

/** How long a status report with a fill waits for its executions' commission reports (default). */
export const COMMISSION_WAIT_MS = 1000;
/**
 * How long an Inactive status waits for its error (default). TWS API "Order Management" → orderStatus: Inactive
 * "indicates that the order was received by the system but is no longer active because it was rejected or
 * canceled"; why comes in a separate error message (201 "Order rejected - reason:…"), which may follow the status.
 */
export const REJECT_REASON_WAIT_MS = 500;
/** Commission reports kept for executions not (yet) seen: TWS sends the execution first. */
const EARLY_COMMISSIONS_KEPT = 1000;
const EPS = 1e-9;

/** What IB may fill of an order: its size at IB when the trader enlarged it in TWS, else what we placed. */
const sizeOf = (entry: Entry): number => Math.max(entry.request.quantity, entry.sizeAtIb ?? 0);

/** Registry size above which the oldest final orders are forgotten. */
export const MAX_ORDERS_KEPT = 2000;
export const PENDING_IB: ReadonlySet<string> = new Set(['ApiPending', 'PendingSubmit']);

export interface OrderRegistryDeps {
  clock: Clock;
  tracker: OrderTracker;
  /** Internal notifications: 'status' (orderId), 'bad' (orderId, why). */
  events: EventEmitter;
  onError: (message: string, error: unknown) => void;
  /** How long a fill waits for its commission report (default `COMMISSION_WAIT_MS`). */
  commissionWaitMs?: number;
  /** How long an Inactive status waits for the error telling why (default `REJECT_REASON_WAIT_MS`; 0: not at all). */
  rejectReasonWaitMs?: number;
  /**
   * A reported commission in the account's currency: at once when known, else once IB's rate is (0 when IB has
   * none, said by the adapter). Absent: taken as reported.
   */
  convertCommission?: (reported: ReportedCommission, execution: Execution) => number | Promise<number>;
}

export class OrderRegistry {
  readonly byId = new Map<number, Entry>();
  readonly byRef = new Map<string, Entry>();
  /** Our executions by execId, for the commission report that names only that. */
  private readonly byExecId = new Map<string, { entry: Entry; execution: Execution }>();
  /** Commission reports that came before their execution. */
  private readonly earlyCommissions = new Map<string, ReportedCommission>();
  /**
   * Executions of orders not (yet) in the registry, by order id: `reqExecutions` on connect answers before
   * `reqAllOpenOrders` adopts an order placed in an earlier session; adopting it takes them.
   */
  private readonly unclaimed = new Map<number, Array<Omit<Execution, 'commission' | 'converting'>>>();
  /**
   * This reconcile's completed orders whose orderRef is not in the registry (an order of an earlier session, after a
   * restart), by orderRef: adopted once the open orders are known (`adoptCompleted`), so that a working order of the
   * same orderRef is never taken for a completed one.
   */
  private readonly completedUnknown = new Map<string, CompletedOrder[]>();
  private readonly commissionWaitMs: number;
  private readonly rejectReasonWaitMs: number;
  /**
   * Set while TWS answers `reqAllOpenOrders`: its status reports describe fills made while we were away, whose
   * executions TWS does not send again, so they are applied at once (commission 0 where no execution is known).
   */
  reconciling = false;
  /** Set while `flush` applies every held report: nothing is waited for any more. */
  private flushing = false;

  constructor(private readonly deps: OrderRegistryDeps) {
    this.commissionWaitMs = deps.commissionWaitMs ?? COMMISSION_WAIT_MS;
    this.rejectReasonWaitMs = deps.rejectReasonWaitMs ?? REJECT_REASON_WAIT_MS;
  }

  /** An `orderStatus` event. */
  onStatus(
    orderId: number,
    report: {
      status: string;
      filled: number;
      remaining: number;
      avgFillPrice: number;
      lastFillPrice: number | undefined;
      permId?: number | undefined;
    },
  ): void {
    const entry = this.byId.get(orderId);
    if (!entry || otherOrder(entry, report.permId)) return;
    entry.permId = permIdOf(report.permId) ?? entry.permId;
    const bad =
      validStatusReport(report) ??
      (report.filled > sizeOf(entry) + EPS
        ? `filled ${report.filled} is more than the order's ${sizeOf(entry)}`
        : report.filled > 0 && (report.avgFillPrice ?? 0) >= 1e15
          ? `avgFillPrice ${report.avgFillPrice} is not a price`
          : undefined);
    if (bad) {
      entry.badResponse = bad;
      if (this.deps.events.listenerCount('bad') === 0)
        this.deps.onError(`IB: ignored an unreadable status for order ${orderId}`, new Error(bad));
      this.deps.events.emit('bad', orderId, bad);
      return;
    }
    const next: StatusReport = {
      status: report.status,
      // Of an order enlarged in TWS, what we placed is ours: the first `quantity` filled.
      filled: Math.min(report.filled ?? 0, entry.request.quantity),
      avgFillPrice: report.avgFillPrice ?? 0,
      lastFillPrice: report.lastFillPrice,
    };
    this.releaseInactive(entry);
    // Rejected without a word yet: the error saying why is waited for briefly, so the user reads IB's reason (an
    // order's end is said once; a reason coming after it would never reach the user).
    const waits =
      next.status === 'Inactive' &&
      entry.rejectReason === undefined &&
      !this.reconciling &&
      !this.flushing &&
      this.rejectReasonWaitMs > 0 &&
      !isFinalStatus(responseOf(entry, this.deps.clock.now()).status);
    if (!waits) return this.report(entry, next);
    const timer = setTimeout(() => {
      try {
        this.releaseInactive(entry);
      } catch (e) {
        this.deps.onError(`IB: applying the Inactive status of order ${entry.orderId} failed`, e);
      }
    }, this.rejectReasonWaitMs);
    timer.unref?.();
    entry.inactive = { report: next, timer };
  }

  /** Applies an Inactive status that waited for its reason (now, or once its wait is over). */
  private releaseInactive(entry: Entry): void {
    const waiting = entry.inactive;
    if (waiting === undefined) return;
    entry.inactive = undefined;
    clearTimeout(waiting.timer);
    this.report(entry, waiting.report);
  }

  /**
   * A status report for an order: applied at once when it brings no fill (and none is held before it), else
   * held until its commission is known. A held report still tells that the order is working.
   */
  private report(entry: Entry, report: StatusReport): void {
    const held = (entry.held ??= []);
    if (held.length === 0 && !(report.filled > entry.filled + EPS)) {
      this.applyStatus(entry, report.status, report.filled, report.avgFillPrice, report.lastFillPrice);
      return;
    }
    held.push(report);
    this.drain(entry, this.reconciling);
    if ((entry.held?.length ?? 0) === 0) return;
    // TWS took the order: say so now (the submit waits for it); the fill follows with its commission.
    if (entry.ibStatus === undefined || PENDING_IB.has(entry.ibStatus)) {
      const working = report.status === 'PreSubmitted' ? 'PreSubmitted' : 'Submitted';
      this.applyStatus(entry, working, entry.filled, entry.avgFillPrice ?? 0, undefined, []);
    }
    entry.holdTimer ??= this.startHold(entry);
  }

  private startHold(entry: Entry): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      entry.holdTimer = undefined;
      try {
        // A commission being converted has come: its fill waits for the rate (which is itself bounded in time).
        if ((entry.executions ?? []).some((e) => e.converting === true)) {
          entry.holdTimer = this.startHold(entry);
          return;
        }
        this.drain(entry, true);
      } catch (e) {
        this.deps.onError(`IB: applying the held status of order ${entry.orderId} failed`, e);
      }
    }, this.commissionWaitMs);
    timer.unref?.();
    return timer;
  }

  /** Applies held reports, oldest first, while their fills are covered by commissioned executions (`force`: all). */
  private drain(entry: Entry, force: boolean): void {
    const held = entry.held ?? [];
    while (held.length > 0) {
      const next = held[0] as StatusReport;
      const fills = this.fillsUpTo(entry, next, force);
      if (fills === undefined) return;
      held.shift();
      this.applyStatus(entry, next.status, next.filled, next.avgFillPrice, next.lastFillPrice, fills);
    }
    if (entry.holdTimer !== undefined) clearTimeout(entry.holdTimer);
    entry.holdTimer = undefined;
    if (!force) this.applyUnannounced(entry);
  }

  /**
   * The fills that bring the order from what is applied to `report.filled`: IB's executions with their
   * commissions; undefined while one is missing (unless `force`, when the rest is synthesised).
   */
  private fillsUpTo(entry: Entry, report: StatusReport, force: boolean): Fill[] | undefined {
    const from = entry.filled;
    const to = report.filled;
    const fills: Fill[] = [];
    let run = 0;
    let covered = from;
    let notional = 0;
    for (const e of entry.executions ?? []) {
      const start = run;
      run += e.shares;
      const lo = Math.max(start, from);
      const hi = Math.min(run, to);
      if (!(hi > lo + EPS)) continue;
      // A commission being converted is waited for even when forced, unless the connection is going.
      if (e.commission === undefined && (!force || (e.converting === true && !this.flushing))) return undefined;
      const whole = Math.abs(hi - lo - e.shares) <= EPS;
      const quantity = whole ? e.shares : Number((hi - lo).toFixed(10));
      fills.push({
        fill_id: whole ? e.execId : `${e.execId}@${plainQuantity(hi)}`,
        order_id: String(entry.orderId),
        client_order_id: entry.request.client_order_id,
        symbol: entry.request.symbol,
        side: entry.request.side,
        price: e.price,
        quantity,
        commission: e.commission === undefined ? 0 : whole ? e.commission : (e.commission * quantity) / e.shares,
        liquidity: e.liquidity === 1 ? 'maker' : e.liquidity === undefined ? liquidityOf(entry) : 'taker',
        timestamp: this.deps.clock.now(),
      });
      covered = hi;
      notional += quantity * e.price;
    }
    if (to > covered + EPS) {
      if (!force) return undefined;
      // Not covered by executions: priced so the average matches IB's.
      const qty = to - covered;
      const before = from * (entry.avgFillPrice ?? 0) + notional;
      const implied = (to * report.avgFillPrice - before) / qty;
      const last = report.lastFillPrice;
      const price =
        Number.isFinite(implied) && implied > 0 ? implied : last !== undefined && last > 0 ? last : report.avgFillPrice;
      fills.push({
        fill_id: synthesisedFillId(String(entry.orderId), to),
        order_id: String(entry.orderId),
        client_order_id: entry.request.client_order_id,
        symbol: entry.request.symbol,
        side: entry.request.side,
        price,
        quantity: Number(qty.toFixed(10)),
        commission: 0,
        liquidity: liquidityOf(entry),
        timestamp: this.deps.clock.now(),
      });
    }
    return fills;
  }

  /** Commissioned executions beyond what any status report announced: their fills, under the order's status. */
  private applyUnannounced(entry: Entry): void {
    let run = 0;
    let notional = 0;
    for (const e of entry.executions ?? []) {
      if (e.commission === undefined) break;
      run += e.shares;
      notional += e.shares * e.price;
    }
    run = Math.min(run, entry.request.quantity);
    if (!(run > entry.filled + EPS) || entry.ibStatus === undefined) return;
    const done = run + EPS >= entry.request.quantity;
    const status = done ? 'Filled' : entry.ibStatus === 'Filled' ? 'Submitted' : entry.ibStatus;
    const report: StatusReport = { status, filled: run, avgFillPrice: notional / run, lastFillPrice: undefined };
    const fills = this.fillsUpTo(entry, report, false);
    if (fills !== undefined)
      this.applyStatus(entry, report.status, report.filled, report.avgFillPrice, undefined, fills);
  }

  /** An `execDetails` event for one of our orders. */
  onExecution(orderId: number, execution: Omit<Execution, 'commission' | 'converting'>): void {
    const found = this.byId.get(orderId);
    const entry = found && otherOrder(found, execution.permId) ? undefined : found;
    if (found && !entry) return;
    if (!execution.execId || this.byExecId.has(execution.execId)) return;
    // Beyond 1e15 no share count or price is real (a garbled message), and money arithmetic cannot take it.
    if (!(execution.shares > 0 && execution.shares < 1e15 && execution.price > 0 && execution.price < 1e15)) return;
    if (!entry) {
      const kept = this.unclaimed.get(orderId) ?? [];
      if (!kept.some((k) => k.execId === execution.execId)) kept.push(execution);
      this.unclaimed.set(orderId, kept);
      if (this.unclaimed.size > EARLY_COMMISSIONS_KEPT)
        this.unclaimed.delete(this.unclaimed.keys().next().value as number);
      return;
    }
    const corrected = correctedBy(entry, execution);
    if (corrected !== undefined) return this.correct(entry, corrected, execution);
    const executed = (entry.executions ?? []).reduce((sum, e) => sum + e.shares, 0);
    if (executed + execution.shares > sizeOf(entry) + EPS) {
      // No venue executes more than was ordered: counting it would make a position nobody holds. (Of an order
      // enlarged in TWS the executions are kept up to its size there; its fills stop at what we placed.)
      this.deps.onError(
        `IB: ignored execution ${execution.execId} of ${execution.shares} for order ${orderId}: with the ` +
          `${executed} executed before, it is more than the order's ${sizeOf(entry)}`,
        new Error('execution beyond the order quantity'),
      );
      return;
    }
    const early = this.earlyCommissions.get(execution.execId);
    this.earlyCommissions.delete(execution.execId);
    const e: Execution = { ...execution, commission: undefined };
    (entry.executions ??= []).push(e);
    this.byExecId.set(e.execId, { entry, execution: e });
    if (early !== undefined) this.settleCommission(entry, e, early);
    else this.drain(entry, false);
  }

  /**
   * A correction of an execution already known (`correctedBy`): the same execution, counted once. Its execId
   * names it from now on too (its commission report follows under it); a corrected price is taken while the
   * execution is not yet a fill (a fill given out is a fact and stays).
   */
  private correct(entry: Entry, prior: Execution, correction: Omit<Execution, 'commission' | 'converting'>): void {
    this.byExecId.set(correction.execId, { entry, execution: prior });
    let through = 0;
    for (const e of entry.executions ?? []) {
      through += e.shares;
      if (e === prior) break;
    }
    if (through > entry.filled + EPS) prior.price = correction.price;
    const early = this.earlyCommissions.get(correction.execId);
    this.earlyCommissions.delete(correction.execId);
    if (early !== undefined) this.onCommission(correction.execId, early.amount, early.currency);
  }

  /**
   * A `commissionReport` event: the commission of one execution, in the currency it names (IB's "unset"
   * value counts as 0).
   */
  onCommission(execId: string, commission: number | undefined, currency?: string): void {
    const reported = reportedCommission(commission, currency);
    const known = this.byExecId.get(execId);
    if (!known) {
      this.earlyCommissions.set(execId, reported);
      if (this.earlyCommissions.size > EARLY_COMMISSIONS_KEPT)
        this.earlyCommissions.delete(this.earlyCommissions.keys().next().value as string);
      return;
    }
    if (known.execution.commission !== undefined || known.execution.converting === true) return;
    this.settleCommission(known.entry, known.execution, reported);
  }

  /** Sets an execution's commission in its contract's currency (converting when IB reported another), then drains. */
  private settleCommission(entry: Entry, e: Execution, reported: ReportedCommission): void {
    let converted: number | Promise<number>;
    try {
      converted = this.deps.convertCommission?.(reported, e) ?? reported.amount;
    } catch (err) {
      this.deps.onError(`IB: converting the commission of ${e.execId} failed`, err);
      converted = 0;
    }
    if (typeof converted === 'number') {
      e.commission = converted;
      return this.drain(entry, false);
    }
    e.converting = true;
    void converted
      .catch((err: unknown) => {
        this.deps.onError(`IB: converting the commission of ${e.execId} failed`, err);
        return 0;
      })
      .then((value) => {
        e.converting = false;
        // A fill already given out (on disconnect) keeps what it had: nothing is counted twice.
        if (e.commission !== undefined) return;
        e.commission = value;
        this.drain(entry, false);
      })
      .catch((err: unknown) => this.deps.onError(`IB: applying the commission of ${e.execId} failed`, err));
  }

  /** Applies every held report now (the connection is going): no fill is left unsaid. */
  flush(): void {
    this.flushing = true;
    try {
      for (const entry of this.byId.values()) {
        this.releaseInactive(entry);
        if ((entry.held?.length ?? 0) > 0) this.drain(entry, true);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Applies one status report; `fills` are its fills when known, else derived from the cumulative figures. */
  applyStatus(
    entry: Entry,
    status: string,
    filled: number,
    avgFillPrice: number,
    lastFillPrice: number | undefined,
    fills?: Fill[],
  ): void {
    const now = this.deps.clock.now();
    const before = responseOf(entry, now);
    entry.confirmed = true;
    entry.badResponse = undefined;
    if (fills !== undefined) entry.fills.push(...fills);
    else {
      const fill = fillFromStatus(entry, filled, avgFillPrice, lastFillPrice, now);
      if (fill) entry.fills.push(fill);
    }
    if (filled >= entry.filled) {
      entry.filled = filled;
      if (avgFillPrice > 0) entry.avgFillPrice = avgFillPrice;
    }
    // A final status never goes back (TWS may repeat an older status after a fill).
    if (!isFinalStatus(before.status)) entry.ibStatus = status;
    entry.updatedAt = now;
    // The tracker emits the fill (if any), then a change of state, each once.
    this.deps.tracker.observe(responseOf(entry, now));
    this.deps.events.emit('status', entry.orderId);
  }

  /** An `openOrder` event: adopts an order of ours from an earlier session. */
  onOpenOrder(orderId: number, contract: IbContract, order: IbOrder, status: string): void {
    let entry = this.byId.get(orderId);
    if (!entry) {
      const request = requestFromIb(contract, order);
      if (!request) return;
      const existing = this.byRef.get(request.client_order_id);
      if (existing && !existing.failedBeforeAcceptance) return;
      entry = newEntry(orderId, request, this.deps.clock.now(), true);
      this.register(entry);
    }
    if (otherOrder(entry, order.permId)) return;
    this.noteSizeAtIb(entry, order.totalQuantity);
    const unclaimed = this.unclaimed.get(orderId);
    this.unclaimed.delete(orderId);
    entry.confirmed = true;
    entry.permId = permIdOf(order.permId) ?? entry.permId;
    // openOrder's OrderState has no filled quantity: a Filled there says only that the order is at IB (working
    // until the orderStatus with the figures, which follows, brings the fill).
    if (entry.ibStatus === undefined && status && status !== 'undefined')
      this.applyStatus(
        entry,
        status === 'Filled' ? 'Submitted' : status,
        entry.filled,
        entry.avgFillPrice ?? 0,
        undefined,
      );
    // Executions that came before the order was adopted (its status, applied after, finds them).
    for (const e of unclaimed ?? []) this.onExecution(orderId, e);
  }

  /**
   * What we placed an order at, from the engine's last view of it (after a restart): an order adopted from TWS's lists
   * carries the size TWS gives it, which is less when the trader cut it in TWS while we were away.
   */
  placedAs(entry: Entry, quantity: number): void {
    if (!(quantity > entry.request.quantity + EPS)) return;
    const size = entry.request.quantity;
    entry.request = { ...entry.request, quantity };
    this.noteSizeAtIb(entry, size);
  }

  /**
   * The size TWS gives an order of ours (`openOrder`, `completedOrder`: totalQuantity), when the trader changed it in
   * TWS (TWS API "Modifying Orders"), said once. Less than we placed: `responseOf` ends the order once that much
   * filled. More: the order we placed is the first `quantity` of it, so its fills stop there (the order is then
   * filled) and what IB fills beyond is the trader's, not counted here (IB's positions show it).
   */
  private noteSizeAtIb(entry: Entry, totalQuantity: unknown): void {
    const size = Number(totalQuantity);
    const placed = entry.request.quantity;
    if (!Number.isFinite(size) || !(size > 0) || Math.abs(size - placed) <= EPS || entry.sizeAtIb === size) return;
    entry.sizeAtIb = size;
    const what =
      size < placed
        ? `it is followed as before, and ends once ${size} filled`
        : `the first ${placed} filled are this order's fills and it is filled then; what IB fills beyond is not ` +
          `counted as SPtrader's (IB's positions show it), and the rest is cancelled in TWS, not here`;
    this.deps.onError(
      `IB: order ${entry.orderId} (client order id ${entry.request.client_order_id}) was changed in TWS: its size is ` +
        `now ${size} of the ${placed} placed; ${what}`,
      new Error('order size changed in TWS'),
    );
  }

  /**
   * A `completedOrder` (TWS API "Completed Orders", asked on every reconcile): an order of ours that ended unfilled
   * while we were away (cancelled in TWS or by IB, expired, made Inactive) gets its end, which `reqAllOpenOrders`
   * (open orders only) never tells. The message names no orderId: it is ours when its orderRef is one of ours and
   * its permId that order's (when not known yet: its contract, side and quantity). Its fills are its executions
   * (`reqExecutions`, answered first; the message has no prices): a Filled one ends filled once they cover it (an
   * order whose answers were lost), never with a fill of its own; one that says more was filled than they tell is
   * left as it is, and said.
   */
  onCompletedOrder(
    contract: IbContract,
    order: IbOrder & { filledQuantity?: unknown },
    state: { status?: unknown; completedStatus?: unknown },
  ): void {
    const entry = order.orderRef ? this.byRef.get(order.orderRef) : undefined;
    if (!entry && order.orderRef && this.reconciling) {
      const kept = this.completedUnknown.get(order.orderRef) ?? [];
      if (kept.length < 10 && this.completedUnknown.size < MAX_ORDERS_KEPT) kept.push({ contract, order, state });
      this.completedUnknown.set(order.orderRef, kept);
      return;
    }
    if (!entry || !sameOrder(entry, contract, order)) return;
    const status = typeof state.status === 'string' ? state.status : '';
    if (
      (!ENDED_UNFILLED.has(status) && status !== 'Filled') ||
      isFinalStatus(responseOf(entry, this.deps.clock.now()).status)
    )
      return;
    const last = entry.held?.[entry.held.length - 1];
    const reported = last?.filled ?? entry.filled;
    const executions = entry.executions ?? [];
    const executed = executions.reduce((sum, e) => sum + e.shares, 0);
    const known = Math.max(reported, executed);
    this.noteSizeAtIb(entry, order.totalQuantity);
    const placed = entry.request.quantity;
    const filled =
      status === 'Filled'
        ? Math.min(entry.sizeAtIb ?? placed, placed)
        : Math.min(Number(order.filledQuantity ?? 0), placed);
    if (Number.isFinite(filled) && filled > known + EPS) {
      this.deps.onError(
        `IB: order ${entry.orderId} is ${status} at IB with ${filled} filled, but only ${known} is known from ` +
          `its executions: left as it is`,
        new Error('completed order with fills not reported'),
      );
      return;
    }
    const why = typeof state.completedStatus === 'string' ? state.completedStatus.trim() : '';
    if (status === 'Inactive') entry.rejectReason ??= why || 'IB marked the order Inactive';
    else if (why !== '' && status !== 'Filled' && !entry.cancelRequested) entry.cancelReason ??= why;
    // Executions beyond what a status told (an order whose answers were lost): they are its fills, at their prices.
    const fromExecutions = executed > reported + EPS;
    this.report(entry, {
      status,
      filled: fromExecutions ? Math.min(executed, placed) : reported,
      avgFillPrice: fromExecutions
        ? executions.reduce((sum, e) => sum + e.shares * e.price, 0) / executed
        : (last?.avgFillPrice ?? entry.avgFillPrice ?? 0),
      lastFillPrice: undefined,
    });
  }

  /**
   * The end of a reconcile's answers (its open orders are known): adopts the completed orders of an orderRef that
   * is still unknown (an order of ours from an earlier session that ended while we were away). When several carry
   * that orderRef (free text: another client may have used it), the one our executions name (by permId; only this
   * client's are asked for) is ours; with none to tell them apart, none is adopted.
   */
  adoptCompleted(): void {
    const pending = [...this.completedUnknown];
    this.completedUnknown.clear();
    for (const [ref, candidates] of pending) {
      if (this.byRef.has(ref)) continue;
      const executed = candidates.filter((c) => this.unclaimedOf(permIdOf(c.order.permId)) !== undefined);
      const ours = executed.length === 1 ? executed[0] : candidates.length === 1 ? candidates[0] : undefined;
      if (ours === undefined) {
        this.deps.onError(
          `IB: ${candidates.length} completed orders carry the orderRef ${ref} and none of ours tells which is ours: ` +
            `none is taken`,
          new Error('ambiguous completed orders'),
        );
        continue;
      }
      try {
        this.adoptOne(ref, ours);
      } catch (e) {
        this.deps.onError(`IB: adopting the completed order ${ref} failed`, e);
      }
    }
  }

  /** The unclaimed executions of the order with this permId, with its TWS order id (executions carry both). */
  private unclaimedOf(
    permId: number | undefined,
  ): { orderId: number; executions: Array<Omit<Execution, 'commission' | 'converting'>> } | undefined {
    if (permId === undefined) return undefined;
    for (const [orderId, executions] of this.unclaimed)
      if (executions.some((e) => e.permId === permId)) return { orderId, executions };
    return undefined;
  }

  /**
   * A completed order of an earlier session becomes an entry with its end: its TWS order id is the one its
   * executions name; an order that never executed is named by its permId, negated (the message has no orderId,
   * and a negative id is never TWS's). Its fills are its executions (with IB's prices and commissions): a Filled one
   * they do not cover, or a cancel that says more was filled than they tell, is left out and said (the message
   * has no prices).
   */
  private adoptOne(ref: string, c: CompletedOrder): void {
    const status = typeof c.state.status === 'string' ? c.state.status : '';
    const permId = permIdOf(c.order.permId);
    const request = requestFromIb(c.contract, c.order);
    if ((!ENDED_UNFILLED.has(status) && status !== 'Filled') || permId === undefined || request === undefined) return;
    const found = this.unclaimedOf(permId);
    const executions = (found?.executions ?? []).filter((e) => e.permId === undefined || e.permId === permId);
    const executed = executions.reduce((sum, e) => sum + e.shares, 0);
    const notional = executions.reduce((sum, e) => sum + e.shares * e.price, 0);
    const reported = Number(c.order.filledQuantity ?? 0);
    const filled = status === 'Filled' ? request.quantity : Number.isFinite(reported) ? reported : 0;
    if (filled > executed + EPS || executed > request.quantity + EPS) {
      this.deps.onError(
        `IB: the completed order ${ref} (permId ${permId}) is ${status} with ${filled} filled, but its executions ` +
          `tell ${executed}: not taken`,
        new Error('completed order with fills not reported'),
      );
      return;
    }
    const orderId = found?.orderId ?? -permId;
    if (this.byId.has(orderId)) return;
    const entry: Entry = { ...newEntry(orderId, request, this.deps.clock.now(), true), permId };
    const why = typeof c.state.completedStatus === 'string' ? c.state.completedStatus.trim() : '';
    if (status === 'Inactive') entry.rejectReason = why || 'IB marked the order Inactive';
    else if (why !== '' && status !== 'Filled') entry.cancelReason = why;
    this.register(entry);
    if (found) {
      this.unclaimed.delete(found.orderId);
      for (const e of found.executions) this.onExecution(orderId, e);
    }
    this.report(entry, {
      status,
      filled: executed,
      avgFillPrice: executed > 0 ? notional / executed : 0,
      lastFillPrice: undefined,
    });
  }

  /** An error TWS sent for an order: a rejection or a cancel changes it (`message` already masked). */
  onError(id: number, code: number, message: string): void {
    const entry = this.byId.get(id);
    if (entry) {
      const meaning = errorMeaning(code, message);
      if (meaning.kind === 'reject') {
        entry.rejectReason = message;
        entry.updatedAt = this.deps.clock.now();
        this.releaseInactive(entry);
        if (entry.ibStatus === undefined || PENDING_IB.has(entry.ibStatus)) {
          entry.confirmed = true;
          this.deps.tracker.observe(responseOf(entry, this.deps.clock.now()));
        }
      } else if (code === 10148) {
        // The cancel was refused because of the state TWS names: an order it says is done is not left working here.
        const state = cancelRefusedState(code, message);
        if (state === 'Cancelled' || state === 'ApiCancelled') this.onError(id, 202, 'Order Canceled - reason:');
        // Its fills were not heard (else it would be filled here): the next look-up asks TWS (reconcile).
        else if (state === 'Filled' && responseOf(entry, this.deps.clock.now()).status.status !== 'filled')
          entry.confirmed = false;
        // No state named: the next look-up asks TWS (reconcile) what became of it, unless it is done here.
        else if (state === undefined && !isFinalStatus(responseOf(entry, this.deps.clock.now()).status))
          entry.confirmed = false;
      } else if (code === 10349 && !entry.madeDay && entry.request.time_in_force.type !== 'IOC') {
        // TWS API "Message Codes" 10349 "Order TIF was set to DAY based on order preset.": TWS works the order, but
        // as a DAY order (the TIF of its order preset for the instrument): it ends at the close, which a GTC or GTD
        // order of ours was not meant to. Said once, so that its end at the close is no surprise.
        entry.madeDay = true;
        if (entry.request.time_in_force.type !== 'FOK')
          this.deps.onError(
            `IB: TWS made order ${entry.orderId} (client order id ${entry.request.client_order_id}) a DAY order by its order preset (10349 "${message}"): it was sent ${entry.request.time_in_force.type}, and TWS will cancel it at the end of the trading day; to keep such orders, set the time in force of TWS's order presets for this kind of instrument (Global Configuration → Presets) to GTC`,
            new Error(message),
          );
      } else if (code === 161) {
        // 161 "Cancel attempted when order is not in a cancellable state" names no state: as a 10148 without one.
        if (!isFinalStatus(responseOf(entry, this.deps.clock.now()).status)) entry.confirmed = false;
      } else if (meaning.kind === 'cancelled') {
        // 202 "Order Canceled - reason:…": a reason IB gives for a cancel we did not ask for is the user's to read.
        const why = /reason:\s*(.*\S)/i.exec(message)?.[1];
        if (why !== undefined && !entry.cancelRequested) entry.cancelReason = message;
        this.releaseInactive(entry);
        // After any fill still held: the cancel came after it.
        const last = entry.held?.[entry.held.length - 1];
        this.report(entry, {
          status: 'Cancelled',
          filled: last?.filled ?? entry.filled,
          avgFillPrice: last?.avgFillPrice ?? entry.avgFillPrice ?? 0,
          lastFillPrice: undefined,
        });
      }
    }
  }

  /** Drops an order TWS never took (its id was refused as another order's): later news for that id is not ours. */
  forget(entry: Entry): void {
    if (this.byId.get(entry.orderId) === entry) this.byId.delete(entry.orderId);
    if (this.byRef.get(entry.request.client_order_id) === entry) this.byRef.delete(entry.request.client_order_id);
  }

  register(entry: Entry): void {
    this.byId.set(entry.orderId, entry);
    this.byRef.set(entry.request.client_order_id, entry);
    if (this.byId.size <= MAX_ORDERS_KEPT) return;
    // Forget the oldest final orders; open and unconfirmed ones are always kept.
    const now = this.deps.clock.now();
    for (const [id, old] of this.byId) {
      if (this.byId.size <= MAX_ORDERS_KEPT) break;
      if (!old.confirmed || !isFinalStatus(responseOf(old, now).status)) continue;
      this.byId.delete(id);
      if (this.byRef.get(old.request.client_order_id) === old) this.byRef.delete(old.request.client_order_id);
      for (const e of old.executions ?? []) this.byExecId.delete(e.execId);
    }
  }
}

/**
 * The execution of `entry` that `execution` corrects, or undefined. TWS API "Executions and Commissions": "if a
 * correction to an execution is published it will be received as an additional IBApi.EWrapper.execDetails callback
 * with all parameters identical except for the execID in the Execution object. The execID will differ only in the
 * digits after the final period." Counted as a new execution, it was the same shares twice: a fill IB never made.
 * Told apart from another fill of the order by its quantity and its cumulative quantity (cumQty), which a new
 * fill of the same size would have moved.
 */
function correctedBy(entry: Entry, execution: Omit<Execution, 'commission' | 'converting'>): Execution | undefined {
  const base = correctionBase(execution.execId);
  if (base === undefined) return undefined;
  return (entry.executions ?? []).find(
    (e) =>
      e.execId !== execution.execId &&
      correctionBase(e.execId) === base &&
      Math.abs(e.shares - execution.shares) <= EPS &&
      (e.cumQty === undefined || execution.cumQty === undefined || Math.abs(e.cumQty - execution.cumQty) <= EPS),
  );
}

/** An execId without its digits after the final period ("0000e0d5.5f6b1b1c.01.01" → "0000e0d5.5f6b1b1c.01"). */
function correctionBase(execId: string): string | undefined {
  const dot = execId.lastIndexOf('.');
  return dot > 0 && /^\d+$/.test(execId.slice(dot + 1)) ? execId.slice(0, dot) : undefined;
}

/** A `completedOrder` event's three parts. */
interface CompletedOrder {
  contract: IbContract;
  order: IbOrder & { filledQuantity?: unknown };
  state: { status?: unknown; completedStatus?: unknown };
}

/** Order statuses that end an order without (more) fills (TWS API "Order Management" → orderStatus). */
const ENDED_UNFILLED: ReadonlySet<string> = new Set(['Cancelled', 'ApiCancelled', 'Inactive']);

/** IB's permId when it is one (the library reads a missing one as 0 or MAX_VALUE). */
const permIdOf = (n: unknown): number | undefined =>
  typeof n === 'number' && Number.isInteger(n) && n > 0 && n < Number.MAX_SAFE_INTEGER ? n : undefined;

/**
 * Whether a message for `entry`'s order id is about another order: both permIds known and different. TWS's order ids
 * are a client's own (`reqIds`/`nextValidId` per connection), while `reqAllOpenOrders` reports every client's orders
 * and IB's permId "remains the same over TWS sessions" and is account-wide: another client's order under the same id
 * must not move ours.
 */
function otherOrder(entry: Entry, permId: unknown): boolean {
  const theirs = permIdOf(permId);
  return entry.permId !== undefined && theirs !== undefined && theirs !== entry.permId;
}

/**
 * A completed order (which names no orderId) is `entry`'s: the same permId when both are known, else the same
 * contract, side and quantity (an orderRef is free text: another client, or an earlier day, may have used it).
 */
function sameOrder(entry: Entry, contract: IbContract, order: IbOrder): boolean {
  const permId = permIdOf(order.permId);
  if (entry.permId !== undefined && permId !== undefined) return entry.permId === permId;
  const r = requestFromIb(contract, order);
  return (
    r !== undefined &&
    r.symbol === entry.request.symbol &&
    r.side === entry.request.side &&
    Math.abs(r.quantity - entry.request.quantity) <= EPS
  );
}

/** Without IB's word (Execution.lastLiquidity): a limit order is taken to have rested. */
const liquidityOf = (entry: Entry): 'maker' | 'taker' =>
  entry.request.order_type.type === 'limit' ? 'maker' : 'taker';
