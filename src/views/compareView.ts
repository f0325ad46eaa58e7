/**
 * Turns a CompareOutcome (src/usecases/compare.ts, the same use case `sptrader compare` runs) into the
 * plain view the Compare Venues panel shows. Pure (no `vscode`, no DOM), so the panel's contents are
 * unit-tested without an editor.
 */
import { emptyColumn, type CompareOutcome, type VenueColumn } from '../usecases/compare';
import type { BrokerProfile } from '../brokers/registry';
import { describeOrder, formatSlippage } from '../usecases/describeOrder';
import type { ParentSpec } from '../execution/algos/dialect';
import type { CompareColumn, CompareView } from './compareProtocol';

export function compareViewOf(outcome: CompareOutcome, options: { ranAt: number }): CompareView {
  const order = outcome.order;
  const md = outcome.marketData;
  return {
    ok: outcome.ok,
    summary: outcome.summary,
    ranAt: options.ranAt,
    file: outcome.component.file,
    className: outcome.component.className ?? null,
    symbol: order?.symbol ?? outcome.parent?.symbol ?? (typeof md?.['symbol'] === 'string' ? md['symbol'] : null),
    side: order?.side ?? outcome.parent?.side ?? null,
    order: order ? describeOrder(order) : outcome.parent ? describeSpec(outcome.parent) : null,
    best: outcome.best,
    route: outcome.route
      ? `The router (${outcome.route.policy}) would pick ${outcome.route.chosen ?? 'none'}: ${outcome.route.reason}`
      : null,
    errors: outcome.errors.map((e) => ({
      code: e.code,
      message: e.message,
      file: e.file ?? null,
      line: e.line ?? null,
    })),
    notes: [...outcome.notes],
    columns: outcome.venues.map((c) => columnOf(c, outcome.best)),
    timings: { pythonMs: outcome.timings.pythonMs, totalMs: outcome.timings.totalMs },
    stdout: outcome.component.stdout,
    stderr: outcome.component.stderr,
  };
}

function columnOf(c: VenueColumn, best: string | null): CompareColumn {
  const v = c.versusBest;
  return {
    id: c.id,
    displayName: c.displayName,
    environment: c.environment,
    verdict: c.verdict,
    code: c.code,
    reason: c.reason,
    bid: c.quote?.bid ?? null,
    ask: c.quote?.ask ?? null,
    quoteAt: c.quote?.timestamp ?? null,
    order: c.order ? describeOrder(c.order) : null,
    clientOrderId: c.order?.client_order_id ?? null,
    fillQuantity: c.fill?.quantity ?? null,
    fillPrice: c.fill?.averagePrice ?? null,
    fills: c.fill?.fills ?? 0,
    slippage: c.slippage ? formatSlippage(c.slippage) : null,
    slippageBps: c.slippage ? formatSlippage(c.slippage, 'crypto') : null,
    submitMs: c.latency.submitMs,
    ackMs: c.latency.ackMs,
    fillMs: c.latency.fillMs,
    fees: c.fees,
    versusBest:
      v === null
        ? null
        : c.id === best
          ? 'best'
          : `${formatSlippage(v)}, ${formatSlippage(v, 'crypto')}, fees ${v.fees > 0 ? '+' : ''}${round(v.fees, 8)}`,
    best: c.id === best,
    notes: [...c.notes],
    route: c.route ? { role: c.route.role, reason: c.route.reason } : null,
    parent: c.parent
      ? {
          state: c.parent.state,
          reason: c.parent.reason,
          description: c.parent.description,
          emulation: c.parent.emulation,
          children: c.parent.children,
        }
      : null,
  };
}

/** "TWAP BUY 1,000 EUR_USD": the parent the component returned, as the panel's headline. */
function describeSpec(spec: ParentSpec): string {
  return `${spec.algo.replace('_', ' ').toUpperCase()} ${spec.side.toUpperCase()} ${spec.quantity.toLocaleString('en-US')} ${spec.symbol} (a parent order, carried out on each venue)`;
}

const round = (n: number, d: number): number => Number(n.toFixed(d)) + 0;

/**
 * The outcome with a NOT_SENT column for each chosen profile that could not connect, in the order the
 * profiles were chosen (the use case only sees the venues that connected).
 */
export function withUnconnected(
  outcome: CompareOutcome | undefined,
  chosen: readonly BrokerProfile[],
  failed: ReadonlyMap<string, string>,
  file: string,
): CompareOutcome {
  const result: CompareOutcome = outcome ?? {
    ok: false,
    summary: 'No venue could be connected: nothing was run or sent.',
    component: { file, stdout: '', stderr: '', output: null },
    marketData: null,
    order: null,
    route: null,
    parent: null,
    errors: [],
    notes: [],
    venues: [],
    best: null,
    timings: { pythonMs: null, totalMs: 0 },
  };
  if (failed.size === 0) return result;
  const byId = new Map(result.venues.map((c) => [c.id, c]));
  result.venues = chosen.flatMap((p): VenueColumn[] => {
    const column = byId.get(p.id);
    if (column) return [column];
    const reason = failed.get(p.id);
    if (reason === undefined) return [];
    return [
      {
        ...emptyColumn({ id: p.id, displayName: p.displayName ?? p.id, environment: p.environment }),
        reason: `could not connect: ${reason}`,
        code: 'CONNECT_FAILED',
      },
    ];
  });
  return result;
}
