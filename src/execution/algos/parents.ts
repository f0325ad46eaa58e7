/**
 * Parent orders carried out as children (issue 15): TWAP, iceberg, bracket (one-cancels-other exits)
 * and trailing stop. Every child is an ordinary order through the engine (validation, risk, the audit
 * log); the parent's own life is written to the same audit log, so the log stays the one record:
 *
 *   ParentStarted {parentId, venue, spec, native, emulatedBecause}   when the parent is accepted
 *   ParentChild   {parentId, childId, role, index}   before each child is submitted (its id is
 *                                              `<parentId>-<n>`, fixed before sending)
 *   ParentTrail   {parentId, watermark}        when a trailing stop's watermark moves (its emulated trigger)
 *   ParentCancelRequested {parentId, reason}   when it is cancelled, before any child's cancel is sent
 *   ParentEnded   {parentId, state, reason, filled}
 *
 * After a restart, `restore` rebuilds the working parents from those records and the children's own
 * order records: a child whose ParentChild was written but whose SubmitOrder never became durable was
 * never sent and is sent now under the same id; one the engine knows is followed, never resent (the
 * engine refuses a client order id twice). A trailing stop keeps its watermark. A parent the log shows a halt
 * came upon (the halting process died before it recorded the parent's end) ends at its first poll, sending
 * nothing, even when trading is ACTIVE again: a halt ends every parent. So does one whose cancel was decided (its
 * ParentCancelRequested is in the log) and cut short: the cancel is finished (what of its children still works is
 * cancelled; a bracket loses both exits, not one) and it ends CANCELLED for the reason first given.
 *
 * A trailing stop goes to the venue as its own order when the venue has one that means what ours does
 * (`trailingStopEmulationReason` over its capabilities: Alpaca, IB, Binance by whole bps): one child,
 * role `trailing`, that the venue trails and triggers; the engine follows it like any order (reconciled
 * after a restart, cancelled by the parent's cancel and by the emergency stop). Elsewhere (OANDA, whose
 * trailing stop belongs to a trade; the paper venue; an activation price) it is emulated here, on the
 * venue's quotes, and the parent says why (`emulatedBecause`). The choice is written in ParentStarted, so
 * a restart carries on the same way. Other triggers (TWAP's clock, the bracket's one-cancels-other) are
 * always emulated here (`poll`); the host calls `poll` on a timer and after the engine's events.
 * Cancelling a parent cancels its working children; a halt (emergency stop) ends every parent, whose
 * children the stop has cancelled.
 *
 * Past 450 lines on purpose: one concept, a parent order's life; start, poll, cancel, restore
 * and finish read and write the same parent and child records, and the four kinds (TWAP, iceberg,
 * bracket, trailing stop) differ only in a few lines of `poll`. The dialect a component writes is
 * dialect.ts.
 */
import { trailingStopEmulationReason, type BrokerCapabilities } from '../../brokers/broker';
import type { Clock } from '../../common/clock';
import { crashPoint } from '../../common/crashPoint';
import type { AuditLog, AuditRecord } from '../audit/auditLog';
import { scanAuditDir } from '../audit/auditVerify';
import type { ExecutionEngine } from '../engine';
import { submitOrderCommand } from '../events';
import { fitToInstrument } from '../fit';
import { isFinalState, orderResponseOf, type OrderState } from '../orderState';
import type { InstrumentRules, OrderRequest, Quote } from '../../orders/model';
import type { ParentSpec } from './dialect';

export type ParentState = 'WORKING' | 'DONE' | 'CANCELLED' | 'FAILED';
export type ChildRole = 'slice' | 'clip' | 'entry' | 'stop_loss' | 'take_profit' | 'trigger' | 'trailing';

export interface ChildRef {
  readonly id: string;
  readonly role: ChildRole;
  readonly index: number;
  /** The child exactly as it is (or was) submitted: what a resend after a restart sends. */
  readonly order: OrderRequest;
}

export interface ParentOrder {
  readonly parentId: string;
  readonly venue: string;
  readonly spec: ParentSpec;
  state: ParentState;
  readonly startedAt: number;
  children: ChildRef[];
  /** Quantity the parent's children have filled (exits of a bracket not counted). */
  filled: number;
  /** Trailing stop: the best bid (sell) or ask (buy) seen since activation; null before (and when native). */
  watermark: number | null;
  /** Trailing stop: the venue carries it as its own order (one `trailing` child) rather than the engine. */
  readonly native: boolean;
  /** Trailing stop emulated locally: why the venue does not carry it; null otherwise. */
  readonly emulatedBecause: string | null;
  reason: string | null;
  /** How each child stands now. */
  childStates: Record<string, { state: OrderState | 'NOT_SENT'; filled: number }>;
}

export interface ParentOrdersOptions {
  engine: ExecutionEngine;
  /** Where the parent's own records go (the session's audit log; a replay's). */
  audit: Pick<AuditLog, 'append'>;
  clock: Clock;
  instrument: (venue: string, symbol: string) => Promise<InstrumentRules>;
  quote: (venue: string, symbol: string) => Promise<Quote>;
  /** What the venue takes (a trailing stop goes to it natively when it can); unknown: emulated. */
  capabilities?: (venue: string) => BrokerCapabilities | undefined;
  /** Recorded with every child (the component's file). */
  component?: string;
  /** Told after each of the parent's own records is written (the views follow parents with it). */
  onChange?: (event: ParentEventType, parent: ParentOrder) => void;
}

export type ParentEventType = 'ParentStarted' | 'ParentChild' | 'ParentTrail' | 'ParentCancelRequested' | 'ParentEnded';

/**
 * What the audit log says of a child that the engine no longer holds (final before the restart). `neverArrived`:
 * the venue provably never had it (OrderNeverArrived: the process died between its SubmitOrder and its send, or the
 * request was lost), so nothing was placed and the parent sends it again under a new id.
 */
type ChildFacts = { state: OrderState; filled: number; neverArrived?: boolean };

export class ParentOrders {
  private readonly parents = new Map<string, ParentOrder>();
  private readonly logged = new Map<string, ChildFacts>();
  /**
   * Restored parents the log shows a halt came upon (a TradingStateChanged to HALTED after their start): why.
   * A halt ends every parent; the process that halted died before recording this one's end, and trading may be
   * ACTIVE again since, so the log, not the state now, says it must not carry on.
   */
  private readonly haltedSince = new Map<string, string>();
  /** Parents whose cancel is decided (ParentCancelRequested written, here or before a restart): why. */
  private readonly cancelling = new Map<string, string>();
  private polling: Promise<void> | undefined;
  private readonly subscription: { dispose(): void };

  constructor(private readonly options: ParentOrdersOptions) {
    // What each child became, kept here too: the engine forgets finished orders past its limit.
    this.subscription = options.engine.subscribe((e) => {
      if (!('clientOrderId' in e) || !('state' in e) || !e.clientOrderId.startsWith('pa-')) return;
      const filled = 'filledQuantity' in e ? e.filledQuantity : (this.logged.get(e.clientOrderId)?.filled ?? 0);
      this.logged.set(
        e.clientOrderId,
        e.type === 'OrderNeverArrived' ? { state: e.state, filled, neverArrived: true } : { state: e.state, filled },
      );
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }

  /** Whether any parent is still working (asked per record by a replay: no copies made). */
  anyWorking(): boolean {
    for (const p of this.parents.values()) if (p.state === 'WORKING') return true;
    return false;
  }

  /** Why a working parent's cancel was decided (before a restart, too), or undefined: it is finished, not carried on. */
  cancelRequested(parentId: string): string | undefined {
    return this.cancelling.get(parentId);
  }

  list(): ParentOrder[] {
    return [...this.parents.values()].map((p) => ({ ...p, childStates: this.childStates(p) }));
  }

  get(parentId: string): ParentOrder | undefined {
    const p = this.parents.get(parentId);
    return p && { ...p, childStates: this.childStates(p) };
  }

  /** Accepts a parent: written to the log before any child is sent; the first children go out at once. */
  async start(spec: ParentSpec, venue: string): Promise<ParentOrder> {
    const now = this.options.clock.now();
    const parentId = `pa-${now.toString(36)}-${Math.floor(Math.random() * 0x1000000)
      .toString(36)
      .padStart(5, '0')}`;
    const emulatedBecause = spec.algo === 'trailing_stop' ? await this.trailingEmulation(spec, venue) : null;
    const native = spec.algo === 'trailing_stop' && emulatedBecause === null;
    const parent: ParentOrder = {
      parentId,
      venue,
      spec,
      state: 'WORKING',
      startedAt: now,
      children: [],
      filled: 0,
      watermark: null,
      native,
      emulatedBecause,
      reason: null,
      childStates: {},
    };
    await this.options.audit.append('ParentStarted', {
      at: now,
      parentId,
      venue,
      spec: { ...spec },
      native,
      emulatedBecause,
    });
    crashPoint('parent-started-logged');
    this.parents.set(parentId, parent);
    this.changed('ParentStarted', parent);
    await this.poll();
    return this.get(parentId) as ParentOrder;
  }

  /**
   * Cancels a parent: the decision is written first (ParentCancelRequested), then its working children are
   * cancelled and it ends CANCELLED. Cut short after the decision, a restore finishes the cancel (never carries on).
   */
  async cancel(parentId: string, reason = 'cancelled'): Promise<void> {
    const p = this.parents.get(parentId);
    if (!p || p.state !== 'WORKING') return;
    if (!this.cancelling.has(parentId)) {
      await this.options.audit.append('ParentCancelRequested', {
        at: this.options.clock.now(),
        parentId,
        reason,
      });
      crashPoint('parent-cancel-requested');
      this.cancelling.set(parentId, reason);
      this.changed('ParentCancelRequested', p);
    }
    await this.finishCancel(p);
  }

  /** A decided cancel: what of its children still works is cancelled, then it ends for the reason first given. */
  private async finishCancel(p: ParentOrder): Promise<void> {
    await this.cancelChildren(p);
    crashPoint('parent-children-cancelled');
    await this.end(p, 'CANCELLED', this.cancelling.get(p.parentId) ?? 'cancelled');
  }

  /** Advances every working parent once (one at a time: concurrent calls share the running pass). */
  poll(): Promise<void> {
    if (this.polling) return this.polling;
    const pass = async (): Promise<void> => {
      for (const p of this.parents.values()) {
        // Again while it sends children that settle at once (a marketable clip, a filled entry's exits).
        for (let round = 0; p.state === 'WORKING' && round < 100; round++) {
          const before = p.children.length;
          await this.advance(p);
          if (p.children.length === before) break;
        }
      }
    };
    // Cleared in a later microtask, after it is set (a pass with nothing to await ends synchronously).
    const running: Promise<void> = pass().finally(() => {
      if (this.polling === running) this.polling = undefined;
    });
    this.polling = running;
    return running;
  }

  /** Working parents (and their children's facts) from the audit log of `auditDir`: after a restart. */
  async restore(auditDir: string): Promise<ParentOrder[]> {
    const parents = new Map<string, ParentOrder>();
    const childOf = new Map<string, string>();
    const facts = new Map<string, ChildFacts>();
    const halted = new Map<string, string>();
    const cancelled = new Map<string, string>();
    const visit = (r: AuditRecord): void => {
      const d = r.data as Record<string, unknown>;
      const id = typeof d['parentId'] === 'string' ? d['parentId'] : undefined;
      if (r.type === 'ParentStarted' && id) {
        parents.set(id, {
          parentId: id,
          venue: String(d['venue']),
          spec: d['spec'] as ParentSpec,
          state: 'WORKING',
          startedAt: Number(d['at']),
          children: [],
          filled: 0,
          watermark: null,
          native: d['native'] === true,
          emulatedBecause: typeof d['emulatedBecause'] === 'string' ? d['emulatedBecause'] : null,
          reason: null,
          childStates: {},
        });
      } else if (r.type === 'ParentChild' && id) {
        const p = parents.get(id);
        if (p) {
          p.children.push({
            id: String(d['childId']),
            role: d['role'] as ChildRole,
            index: Number(d['index']),
            order: d['order'] as OrderRequest,
          });
          childOf.set(String(d['childId']), id);
        }
      } else if (r.type === 'ParentTrail' && id) {
        const p = parents.get(id);
        if (p) p.watermark = Number(d['watermark']);
      } else if (r.type === 'TradingStateChanged' && d['to'] === 'HALTED') {
        const why = typeof d['reason'] === 'string' ? d['reason'] : 'halted';
        for (const p of parents.values())
          if (p.state === 'WORKING' && !halted.has(p.parentId)) halted.set(p.parentId, why);
      } else if (r.type === 'ParentCancelRequested' && id) {
        if (parents.has(id) && !cancelled.has(id))
          cancelled.set(id, typeof d['reason'] === 'string' ? d['reason'] : 'cancelled');
      } else if (r.type === 'ParentEnded' && id) {
        const p = parents.get(id);
        if (p) {
          p.state = d['state'] as ParentState;
          p.reason = typeof d['reason'] === 'string' ? d['reason'] : null;
        }
      } else {
        const cid = typeof d['clientOrderId'] === 'string' ? d['clientOrderId'] : undefined;
        if (cid && childOf.has(cid) && typeof d['state'] === 'string') {
          const filled = typeof d['filledQuantity'] === 'number' ? d['filledQuantity'] : (facts.get(cid)?.filled ?? 0);
          const state = d['state'] as OrderState;
          facts.set(cid, r.type === 'OrderNeverArrived' ? { state, filled, neverArrived: true } : { state, filled });
        }
      }
    };
    await scanAuditDir(auditDir, false, { visit });
    for (const [cid, f] of facts) this.logged.set(cid, f);
    const working: ParentOrder[] = [];
    for (const p of parents.values()) {
      if (p.state !== 'WORKING') continue;
      p.filled = this.filledBy(p, FILLING_ROLES);
      this.parents.set(p.parentId, p);
      const why = halted.get(p.parentId);
      if (why !== undefined) this.haltedSince.set(p.parentId, why);
      const cancel = cancelled.get(p.parentId);
      if (cancel !== undefined) this.cancelling.set(p.parentId, cancel);
      working.push(p);
    }
    return working.map((p) => this.get(p.parentId) as ParentOrder);
  }

  // --- the algorithms ---

  private async advance(p: ParentOrder): Promise<void> {
    const status = this.options.engine.status();
    const halted = status.tradingState === 'HALTED' ? status.reason : this.haltedSince.get(p.parentId);
    if (halted !== undefined) {
      await this.cancelChildren(p);
      return this.end(p, 'CANCELLED', `trading halted: ${halted}`);
    }
    // A cancel decided before a restart is finished, never carried on: nothing is sent, not even a logged child.
    if (this.cancelling.has(p.parentId)) return this.finishCancel(p);
    // A child written to the log but never sent (the process died in between) is sent now, same id.
    for (const c of p.children) if (this.facts(c.id) === undefined) await this.resend(p, c);
    // One the venue never had is as if never sent: the algorithm below sends it again, under a new id.
    const lost = p.children.filter((c) => this.facts(c.id)?.neverArrived === true);
    if (lost.length > MAX_NEVER_ARRIVED) {
      await this.cancelChildren(p);
      return this.end(p, 'FAILED', `${lost.length} children never reached ${p.venue} (the last ${lost.at(-1)?.id})`);
    }
    p.filled = this.filledBy(p, FILLING_ROLES);
    switch (p.spec.algo) {
      case 'twap':
        return this.twap(p, p.spec);
      case 'iceberg':
        return this.iceberg(p, p.spec);
      case 'bracket':
        return this.bracket(p, p.spec);
      case 'trailing_stop':
        return this.trailing(p, p.spec);
    }
  }

  private async twap(p: ParentOrder, s: Extract<ParentSpec, { algo: 'twap' }>): Promise<void> {
    const slices = this.placed(p);
    const sent = slices.length;
    const last = slices[sent - 1];
    if (last && !this.isFinal(last.id)) return;
    if (sent >= s.slices) return this.finish(p);
    const interval = (s.duration_s * 1000) / s.slices;
    if (this.options.clock.now() < p.startedAt + sent * interval) return;
    const rules = await this.options.instrument(p.venue, s.symbol);
    // Equal slices on the lot; the last takes what is left of the parent (after what earlier slices missed).
    const each = floorTo(s.quantity / s.slices, rules.lotSize);
    const qty =
      sent === s.slices - 1
        ? roundTo(s.quantity - p.filled, rules.lotSize)
        : Math.min(each, roundTo(s.quantity - p.filled, rules.lotSize));
    if (each <= 0)
      return this.end(
        p,
        'FAILED',
        `quantity ${s.quantity} is too small for ${s.slices} slices of ${s.symbol}'s lot ${rules.lotSize}`,
      );
    if (qty <= 0) return this.finish(p);
    const order: OrderRequest = {
      symbol: s.symbol,
      side: s.side,
      quantity: qty,
      order_type: s.limit_price === undefined ? { type: 'market' } : { type: 'limit', price: s.limit_price },
      time_in_force: { type: 'IOC' },
      metadata: { parent: p.parentId, algo: 'twap', slice: `${sent + 1}/${s.slices}` },
    };
    await this.send(p, 'slice', order, rules);
  }

  private async iceberg(p: ParentOrder, s: Extract<ParentSpec, { algo: 'iceberg' }>): Promise<void> {
    const clips = this.placed(p);
    const last = clips[clips.length - 1];
    if (last && !this.isFinal(last.id)) return;
    const rules = await this.options.instrument(p.venue, s.symbol);
    const remaining = roundTo(s.quantity - p.filled, rules.lotSize);
    if (remaining <= 0) return this.finish(p);
    if (last && this.facts(last.id)?.state !== 'FILLED')
      return this.end(p, 'FAILED', `clip ${last.id} ended ${this.facts(last.id)?.state ?? 'unknown'}`);
    const order: OrderRequest = {
      symbol: s.symbol,
      side: s.side,
      quantity: Math.min(floorTo(s.display_quantity, rules.lotSize), remaining),
      order_type: { type: 'limit', price: s.limit_price },
      time_in_force: { type: 'GTC' },
      metadata: { parent: p.parentId, algo: 'iceberg', clip: String(clips.length + 1) },
    };
    await this.send(p, 'clip', order, rules);
  }

  private async bracket(p: ParentOrder, s: Extract<ParentSpec, { algo: 'bracket' }>): Promise<void> {
    const rules = await this.options.instrument(p.venue, s.symbol);
    const placed = this.placed(p);
    const entry = placed.find((c) => c.role === 'entry');
    if (!entry) {
      const order: OrderRequest = {
        symbol: s.symbol,
        side: s.side,
        quantity: s.quantity,
        order_type: s.entry_price === undefined ? { type: 'market' } : { type: 'limit', price: s.entry_price },
        time_in_force: s.entry_price === undefined ? { type: 'IOC' } : { type: 'GTC' },
        metadata: { parent: p.parentId, algo: 'bracket', leg: 'entry' },
      };
      return void (await this.send(p, 'entry', order, rules));
    }
    const e = this.facts(entry.id);
    if (!e || !isFinalState(e.state)) return;
    if (e.filled <= 0) return this.end(p, 'FAILED', `the entry ended ${e.state} without a fill`);
    const exit = s.side === 'buy' ? 'sell' : 'buy';
    const sl = placed.find((c) => c.role === 'stop_loss');
    const tp = placed.find((c) => c.role === 'take_profit');
    if (!sl) {
      const order: OrderRequest = {
        symbol: s.symbol,
        side: exit,
        quantity: e.filled,
        order_type: { type: 'stop', price: s.stop_loss },
        time_in_force: { type: 'GTC' },
        metadata: { parent: p.parentId, algo: 'bracket', leg: 'stop_loss' },
      };
      await this.send(p, 'stop_loss', order, rules);
    }
    if (!tp) {
      const order: OrderRequest = {
        symbol: s.symbol,
        side: exit,
        quantity: e.filled,
        order_type: { type: 'limit', price: s.take_profit },
        time_in_force: { type: 'GTC' },
        metadata: { parent: p.parentId, algo: 'bracket', leg: 'take_profit' },
      };
      await this.send(p, 'take_profit', order, rules);
    }
    // One cancels the other: the first exit that fills cancels its sibling.
    const legs = this.placed(p).filter((c) => c.role === 'stop_loss' || c.role === 'take_profit');
    const done = legs.find((c) => (this.facts(c.id)?.filled ?? 0) > 0);
    if (done) {
      for (const c of legs) if (c !== done && !this.isFinal(c.id)) await this.cancelChild(c.id);
      if (legs.every((c) => this.isFinal(c.id))) return this.finish(p, `${done.role.replace('_', ' ')} filled`);
    } else if (legs.length === 2 && legs.every((c) => this.isFinal(c.id))) {
      return this.end(p, 'CANCELLED', 'both exits ended without a fill');
    }
  }

  /** Why this venue cannot carry this trailing stop itself, or null when it can. */
  private async trailingEmulation(
    s: Extract<ParentSpec, { algo: 'trailing_stop' }>,
    venue: string,
  ): Promise<string | null> {
    const capabilities = this.options.capabilities?.(venue);
    if (capabilities === undefined) return `the capabilities of ${venue} are not known here`;
    const rules = await this.options.instrument(venue, s.symbol);
    return (
      trailingStopEmulationReason(
        capabilities,
        { trailOffset: s.trail_offset, trailBps: s.trail_bps, activationPrice: s.activation_price, kind: rules.kind },
        venue,
      ) ?? null
    );
  }

  /** A native trailing stop: one GTC order the venue trails; the parent ends with it. */
  private async nativeTrailing(p: ParentOrder, s: Extract<ParentSpec, { algo: 'trailing_stop' }>): Promise<void> {
    const child = this.placed(p).find((c) => c.role === 'trailing');
    if (!child) {
      const rules = await this.options.instrument(p.venue, s.symbol);
      const order: OrderRequest = {
        symbol: s.symbol,
        side: s.side,
        quantity: s.quantity,
        order_type:
          s.trail_offset !== undefined
            ? { type: 'trailing_stop', trail_offset: s.trail_offset }
            : { type: 'trailing_stop', trail_bps: s.trail_bps as number },
        time_in_force: { type: 'GTC' },
        metadata: { parent: p.parentId, algo: 'trailing_stop', trailing: 'native' },
      };
      return void (await this.send(p, 'trailing', order, rules));
    }
    if (!this.isFinal(child.id)) return;
    const f = this.facts(child.id);
    if (f && f.filled > 0) return this.finish(p, `triggered at ${p.venue}`);
    const why = `${p.venue}'s trailing stop ended ${f?.state ?? 'unknown'} without a fill`;
    return this.end(p, f?.state === 'REJECTED' ? 'FAILED' : 'CANCELLED', why);
  }

  private async trailing(p: ParentOrder, s: Extract<ParentSpec, { algo: 'trailing_stop' }>): Promise<void> {
    if (p.native) return this.nativeTrailing(p, s);
    const trigger = this.placed(p).find((c) => c.role === 'trigger');
    if (trigger) {
      if (!this.isFinal(trigger.id)) return;
      const f = this.facts(trigger.id);
      return f && f.filled > 0
        ? this.finish(p, 'triggered')
        : this.end(p, 'FAILED', `the stop's market order ended ${f?.state ?? 'unknown'} without a fill`);
    }
    const q = await this.options.quote(p.venue, s.symbol);
    // Protecting a long (sell): trail the bid up; protecting a short (buy): trail the ask down.
    const price = s.side === 'sell' ? q.bid : q.ask;
    const better = (a: number, b: number): boolean => (s.side === 'sell' ? a > b : a < b);
    if (p.watermark === null) {
      if (
        s.activation_price !== undefined &&
        !(s.side === 'sell' ? price >= s.activation_price : price <= s.activation_price)
      )
        return;
      await this.trail(p, price);
    } else if (better(price, p.watermark)) {
      await this.trail(p, price);
    }
    const mark = p.watermark as number;
    const distance = s.trail_offset ?? (mark * (s.trail_bps as number)) / 10_000;
    const stop = s.side === 'sell' ? mark - distance : mark + distance;
    const hit = s.side === 'sell' ? price <= stop : price >= stop;
    if (!hit) return;
    const rules = await this.options.instrument(p.venue, s.symbol);
    const order: OrderRequest = {
      symbol: s.symbol,
      side: s.side,
      quantity: s.quantity,
      order_type: { type: 'market' },
      time_in_force: { type: 'IOC' },
      metadata: { parent: p.parentId, algo: 'trailing_stop', watermark: String(mark), stop: String(stop) },
    };
    await this.send(p, 'trigger', order, rules);
  }

  private async trail(p: ParentOrder, watermark: number): Promise<void> {
    await this.options.audit.append('ParentTrail', { at: this.options.clock.now(), parentId: p.parentId, watermark });
    crashPoint('parent-trail-logged');
    p.watermark = watermark;
    this.changed('ParentTrail', p);
  }

  // --- children ---

  /** Writes the child to the log under its fixed id, then submits it through the engine. */
  private async send(p: ParentOrder, role: ChildRole, order: OrderRequest, rules: InstrumentRules): Promise<void> {
    const index = p.children.length;
    const id = `${p.parentId}-${index + 1}`;
    const fitted = fitToInstrument({ ...order, client_order_id: id }, rules, []);
    if ('error' in fitted) return this.end(p, 'FAILED', `${role} ${index + 1}: ${fitted.error}`);
    const child: ChildRef = { id, role, index, order: fitted.order };
    await this.options.audit.append('ParentChild', {
      at: this.options.clock.now(),
      parentId: p.parentId,
      childId: id,
      role,
      index,
      order: { ...fitted.order },
    });
    p.children.push(child);
    this.changed('ParentChild', p);
    crashPoint('parent-child-logged');
    await this.submit(p, fitted.order);
  }

  /** A child whose ParentChild is in the log but which never reached the engine: sent now, as recorded, under its id. */
  private async resend(p: ParentOrder, c: ChildRef): Promise<void> {
    await this.submit(p, { ...c.order, client_order_id: c.id });
  }

  private async submit(p: ParentOrder, order: OrderRequest): Promise<void> {
    const cmd = submitOrderCommand(order, {
      venue: p.venue,
      source: 'algo',
      clock: this.options.clock,
      component: this.options.component,
    });
    const result = await this.options.engine.submit(cmd);
    if (result.denial)
      await this.end(
        p,
        'FAILED',
        `child ${cmd.clientOrderId} denied (${result.denial.code}): ${result.denial.message}`,
      );
  }

  private async cancelChildren(p: ParentOrder): Promise<void> {
    for (const c of p.children)
      if (!this.isFinal(c.id)) {
        await this.cancelChild(c.id);
        crashPoint('parent-child-cancelled');
      }
  }

  private async cancelChild(id: string): Promise<void> {
    const record = this.options.engine.getOrder(id);
    if (!record || isFinalState(record.state) || record.state === 'PENDING_CANCEL') return;
    try {
      await this.options.engine.cancel(id);
    } catch {
      // The engine records a refused cancel (OrderCancelRejected); the next poll sees the child's state.
    }
  }

  private facts(id: string): ChildFacts | undefined {
    const record = this.options.engine.getOrder(id);
    if (record) {
      const filled = orderResponseOf(record).filled_quantity ?? 0;
      return record.state === 'REJECTED' && record.reason?.startsWith('NEVER_ARRIVED:') === true
        ? { state: record.state, filled, neverArrived: true }
        : { state: record.state, filled };
    }
    return this.logged.get(id);
  }

  /** The children the venue had or may have had (those it never had are left out: they are sent again). */
  private placed(p: ParentOrder): ChildRef[] {
    return p.children.filter((c) => this.facts(c.id)?.neverArrived !== true);
  }

  private isFinal(id: string): boolean {
    const f = this.facts(id);
    return f !== undefined && isFinalState(f.state);
  }

  private filledBy(p: ParentOrder, roles: readonly ChildRole[]): number {
    let sum = 0;
    for (const c of p.children) if (roles.includes(c.role)) sum += this.facts(c.id)?.filled ?? 0;
    return Number(sum.toFixed(10));
  }

  private childStates(p: ParentOrder): ParentOrder['childStates'] {
    const out: ParentOrder['childStates'] = {};
    for (const c of p.children) {
      const f = this.facts(c.id);
      out[c.id] = f ?? { state: 'NOT_SENT', filled: 0 };
    }
    return out;
  }

  private finish(p: ParentOrder, reason = 'complete'): Promise<void> {
    return this.end(p, 'DONE', reason);
  }

  private async end(p: ParentOrder, state: ParentState, reason: string): Promise<void> {
    if (p.state !== 'WORKING') return;
    p.filled = this.filledBy(p, FILLING_ROLES);
    await this.options.audit.append('ParentEnded', {
      at: this.options.clock.now(),
      parentId: p.parentId,
      state,
      reason,
      filled: p.filled,
    });
    p.state = state;
    p.reason = reason;
    this.changed('ParentEnded', p);
  }

  private changed(event: ParentEventType, p: ParentOrder): void {
    this.options.onChange?.(event, { ...p, childStates: this.childStates(p) });
  }
}

/** Children that never reached the venue a parent sends again before it fails (a venue that loses every request). */
const MAX_NEVER_ARRIVED = 3;

/** Children whose fills count toward the parent's quantity (a bracket's exits do not). */
const FILLING_ROLES: readonly ChildRole[] = ['slice', 'clip', 'entry', 'trigger', 'trailing'];

const floorTo = (n: number, step: number): number => Number((Math.floor(n / step + 1e-9) * step).toFixed(10));
const roundTo = (n: number, step: number): number => Number((Math.round(n / step) * step).toFixed(10));

/** "pa-… TWAP BUY 10,000 EUR_USD, 6 slices over 60 s, filled 0": what a parent is, in one line. */
export function describeParent(p: ParentOrder): string {
  const s = p.spec;
  const what = `${s.algo.toUpperCase()} ${s.side.toUpperCase()} ${s.quantity.toLocaleString('en-US')} ${s.symbol}`;
  const detail =
    s.algo === 'twap'
      ? `${s.slices} slices over ${s.duration_s} s`
      : s.algo === 'iceberg'
        ? `showing ${s.display_quantity} at ${s.limit_price}`
        : s.algo === 'bracket'
          ? `stop-loss ${s.stop_loss}, take-profit ${s.take_profit}`
          : `trailing ${s.trail_offset ?? `${s.trail_bps} bps`} (${p.native ? `native at ${p.venue}` : 'emulated locally'})`;
  return `${p.parentId} ${what}, ${detail}, filled ${p.filled.toLocaleString('en-US')}`;
}

/** What of a parent the venue carries natively and what the engine emulates locally (issue 15: it says so). */
export function describeEmulation(p: Pick<ParentOrder, 'spec' | 'venue' | 'native' | 'emulatedBecause'>): string {
  switch (p.spec.algo) {
    case 'twap':
      return 'Emulated locally: the engine sends each slice as an IOC order on its schedule.';
    case 'iceberg':
      return 'Emulated locally: the engine shows one clip at a time as a GTC limit and sends the next when it fills.';
    case 'bracket':
      return 'The exits are the venue’s own stop and limit orders; one-cancels-other is emulated locally (the first exit to fill cancels the other).';
    case 'trailing_stop':
      return p.native
        ? `Native at ${p.venue}: the venue trails its own trailing stop order and triggers it; the engine follows that order.`
        : `Emulated locally (${p.emulatedBecause ?? 'the venue has no trailing stop'}): the engine trails the venue’s quote and sends a market order when the stop is hit.`;
  }
}
