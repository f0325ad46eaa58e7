/**
 * Compare venues for a parent order (issue 15): the parent a component returned, carried out on each
 * compared venue at once by ParentOrders over the one engine and audit log; see compare.ts.
 */
import type { BrokerApi } from '../brokers/broker';
import { isBrokerError } from '../brokers/errors';
import { monotonicMs } from '../common/clock';
import type { InstrumentRules, Quote } from '../orders/model';
import type { AuditLog } from '../execution/audit/auditLog';
import type { ParentSpec } from '../execution/algos/dialect';
import { describeEmulation, describeParent, ParentOrders, type ParentOrder } from '../execution/algos/parents';
import {
  columnQuote,
  type CompareDependencies,
  type CompareOutcome,
  type CompareRequest,
  type VenueColumn,
} from './compareTypes';
import { trackLatency } from './compareLatency';
import { isFinalState, orderResponseOf } from '../execution/orderState';
import { computeSlippage } from '../execution/slippage';

/**
 * The parent carried out on every reachable venue at once, until each ends or its time is up (then it is
 * cancelled); each venue's column is filled in from its children's fills (filled quantity, average price,
 * slippage of that average against the venue's quote at decision time, fees, first acknowledgement and
 * last fill). Returns each venue's instrument, for ranking.
 */
export async function compareParents(
  spec: ParentSpec,
  request: CompareRequest,
  deps: CompareDependencies & { audit: Pick<AuditLog, 'append'> },
  reachable: readonly BrokerApi[],
  quotes: ReadonlyMap<string, Promise<Quote | Error>>,
  outcome: CompareOutcome,
): Promise<Map<string, InstrumentRules>> {
  const { engine, clock } = deps;
  const byId = new Map(reachable.map((v) => [v.id, v]));
  const venue = (id: string): BrokerApi => {
    const v = byId.get(id);
    if (!v) throw new Error(`venue ${id} is not compared`);
    return v;
  };
  const column = (id: string): VenueColumn => outcome.venues.find((c) => c.id === id) as VenueColumn;
  const parents = new ParentOrders({
    engine,
    audit: deps.audit,
    clock,
    instrument: (v, s) => venue(v).getInstrument(s),
    quote: (v, s) => venue(v).getQuote(s),
    capabilities: (v) => byId.get(v)?.capabilities,
    component: request.file,
  });
  // First acknowledgement and last fill of each parent's children, by the parent's id.
  const latency = trackLatency(engine, (id) => /^(pa-[^-]+-[^-]+)-\d+$/.exec(id)?.[1]);
  const instruments = new Map<string, InstrumentRules>();
  const started = new Map<string, string>();
  try {
    await Promise.all(
      reachable.map(async (v) => {
        const c = column(v.id);
        const quote = await quotes.get(`${v.id}\u0000${spec.symbol}`);
        if (quote instanceof Error) c.notes.push(`no quote at decision time: ${quote.message}`);
        else if (quote) c.quote = columnQuote(v.displayName, quote, c.notes);
        try {
          instruments.set(v.id, await v.getInstrument(spec.symbol));
        } catch (e) {
          if (!(e instanceof Error)) throw e;
          c.verdict = 'NOT_SENT';
          c.reason = `${v.displayName} does not trade ${spec.symbol}: ${e.message}`;
          c.code = isBrokerError(e) ? e.reason : 'UNKNOWN_SYMBOL';
          return;
        }
        const p = await parents.start(spec, v.id);
        started.set(v.id, p.parentId);
      }),
    );
    // Every parent works side by side until it ends, has filled its quantity, or its time is up.
    const waitMs =
      request.parentWaitMs ?? (spec.algo === 'twap' ? spec.duration_s * 1000 : 0) + (request.waitMs ?? 5000);
    const deadline = monotonicMs() + waitMs;
    const settled = (p: ParentOrder | undefined): boolean =>
      !p || p.state !== 'WORKING' || (spec.algo === 'bracket' && p.filled >= spec.quantity && p.children.length >= 3);
    for (;;) {
      await parents.poll();
      const all = [...started.values()].map((id) => parents.get(id));
      if (all.every(settled) || monotonicMs() >= deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const [v, id] of started) {
      const p = parents.get(id);
      if (p?.state !== 'WORKING') continue;
      await parents.cancel(id, 'cancelled at the end of the comparison');
      column(v).notes.push(
        spec.algo === 'bracket' && p.filled > 0
          ? 'the bracket was cancelled at the end of the comparison: its exits no longer rest (the entry’s position stays)'
          : 'the parent was still working at the end of the comparison and was cancelled',
      );
    }
    // Let the cancels' children settle, then read every child's fills.
    for (const id of started.values())
      for (const child of parents.get(id)?.children ?? [])
        if (!isFinalState(engine.getOrder(child.id)?.state ?? 'FILLED'))
          await engine.waitForFinal(child.id, request.waitMs ?? 5000);
  } finally {
    latency.dispose();
    parents.dispose();
  }
  for (const [v, id] of started) {
    const p = parents.get(id) as ParentOrder;
    const c = column(v);
    c.parent = {
      parentId: p.parentId,
      state: p.state,
      reason: p.reason,
      description: describeParent(p).slice(p.parentId.length + 1),
      emulation: describeEmulation(p),
      children: p.children.length,
      cancelledAtEnd: p.reason === 'cancelled at the end of the comparison',
    };
    let quantity = 0;
    let notional = 0;
    let fees = 0;
    let fills = 0;
    let denied: string | undefined;
    for (const child of p.children) {
      const record = engine.getOrder(child.id);
      if (!record) continue;
      if (record.state === 'DENIED') denied = record.reason ?? 'denied';
      // A bracket's exits close the position; the comparison is of what the parent bought or sold.
      if (child.role === 'stop_loss' || child.role === 'take_profit') continue;
      const r = orderResponseOf(record);
      for (const f of r.fills) {
        quantity += f.quantity;
        notional += f.quantity * f.price;
        fees += f.commission;
        fills++;
      }
    }
    c.fees = fills > 0 ? round(fees, 10) : null;
    const rules = instruments.get(v);
    if (quantity > 0) {
      const averagePrice = round(notional / quantity, 10);
      c.fill = { quantity: round(quantity, 10), averagePrice, fills };
      if (c.quote && rules) c.slippage = computeSlippage(spec.side, c.quote, averagePrice, rules);
    }
    c.verdict =
      quantity > 0
        ? quantity + 1e-9 >= spec.quantity
          ? 'FILLED'
          : 'PARTIALLY_FILLED'
        : p.state === 'FAILED'
          ? denied !== undefined
            ? 'DENIED'
            : 'REJECTED'
          : p.state === 'CANCELLED'
            ? 'CANCELLED'
            : 'ACCEPTED';
    if (quantity === 0 || p.state !== 'DONE') c.reason = p.reason;
    const t = latency.marks.get(id);
    if (t?.sent !== undefined) {
      c.latency.ackMs = t.acked === undefined ? null : round3(t.acked - t.sent);
      c.latency.fillMs = t.filled === undefined ? null : round3(t.filled - t.sent);
    }
  }
  return instruments;
}

const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;
