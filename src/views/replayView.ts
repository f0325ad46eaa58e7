/**
 * Turns a replay's report and the recorder's chart data into the plain view the replay panel shows,
 * and the sentence its notification says. Pure (no `vscode`), so both are unit-tested without an editor.
 */
import { formatMoney } from '../usecases/describeOrder';
import type { RiskLimits } from '../execution/risk';
import type { CircuitBreakerSettings } from '../execution/tradingState';
import type { ReplayReport } from '../usecases/replay';
import { REPLAY_CANCELLED } from '../usecases/replayCancel';
import type { ReplayChartData } from '../usecases/replayChart';
import type { ReplayView } from './replayProtocol';

const N = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const whole = (n: number): string => N.format(n);
const money = formatMoney;
const basename = (path: string): string => path.split(/[\\/]/).pop() ?? path;

export interface ReplayViewContext {
  ranAt: number;
  dataFile: string;
  parameters: Record<string, unknown>;
  exports: { csv: boolean; parquet: boolean };
  /** The class the user chose, for a replay that stopped before the harness named it. */
  className?: string;
  /** The risk limits it ran under, as `replayLimitsText` says them. */
  limits?: string;
}

export function replayViewOf(report: ReplayReport, chart: ReplayChartData, context: ReplayViewContext): ReplayView {
  const d = report.data;
  const unit = d.kind === 'candles' ? 'candle' : 'tick';
  const status: ReplayView['status'] = report.ok
    ? 'COMPLETED'
    : report.fatal?.code === REPLAY_CANCELLED
      ? 'CANCELLED'
      : 'STOPPED';
  const seconds = (report.elapsedMs / 1000).toFixed(2);
  const tally = `${whole(report.orders.produced)} order${report.orders.produced === 1 ? '' : 's'}, ${whole(report.fills)} fill${report.fills === 1 ? '' : 's'}`;
  let summary: string;
  if (status === 'COMPLETED')
    summary = `Ran all ${whole(report.processed)} ${unit}s in ${seconds} s (${whole(report.ticksPerSecond)}/s): ${tally}.`;
  else if (status === 'CANCELLED')
    summary = `Cancelled after ${whole(report.processed)} of ${whole(d.records)} ${unit}s (${((report.processed / Math.max(1, d.records)) * 100).toFixed(1)}%), at ${report.fatal?.time ?? '?'}: ${tally}. The figures cover the ${unit}s before the cancel.`;
  else {
    const f = report.fatal;
    summary = `Stopped at ${unit} #${f?.index ?? '?'} (${f?.time ?? '?'}): ${f?.code ?? 'ERROR'}: ${f?.message ?? ''}${f?.line === undefined ? '' : ` (line ${f.line})`}. The figures cover the ${whole(report.processed)} ${unit}s before.`;
  }
  const sameCurrency = report.curve.currency === report.pnl.currency;
  const className = report.component.className ?? context.className ?? null;
  const offset = sameCurrency ? report.pnl.startingCash : 0;
  return {
    ranAt: context.ranAt,
    status,
    headline: `${className ?? basename(report.component.file)} over ${basename(context.dataFile)}: ${whole(d.records)} ${unit}s of ${d.symbol}`,
    summary,
    file: report.component.file,
    className,
    dataFile: context.dataFile,
    symbol: d.symbol,
    kind: d.kind,
    parameters: context.parameters,
    records: d.records,
    processed: report.processed,
    from: d.from,
    to: d.to,
    figures: {
      currency: report.pnl.currency,
      startingCash: report.pnl.startingCash,
      equity: report.pnl.equity,
      realized: report.pnl.realized,
      unrealized: report.pnl.unrealized,
      commission: report.pnl.commission,
      curveCurrency: report.curve.currency,
      curveFinal: report.curve.final,
      maxDrawdown: report.curve.drawdown.max,
      maxDrawdownPercent: report.curve.drawdown.maxPercent,
      turnover: report.curve.turnover,
      slippage: {
        unit: report.slippage.unit,
        orders: report.slippage.orders,
        meanUnits: report.slippage.meanUnits,
        meanBps: report.slippage.meanBps,
        worstUnits: report.slippage.worstUnits,
        bestUnits: report.slippage.bestUnits,
        cost: report.slippage.cost,
      },
      orders: {
        produced: report.orders.produced,
        noOrder: report.orders.noOrder,
        sent: report.orders.sent,
        denied: report.orders.denied,
        invalid: report.orders.invalid,
        filled: report.orders.filled,
        partiallyFilled: report.orders.partiallyFilled,
        rejected: report.orders.rejected,
        cancelled: report.orders.cancelled,
        expired: report.orders.expired,
        open: report.orders.open,
      },
      deniedByCode: report.orders.deniedByCode,
      rejectedByReason: report.orders.rejectedByReason,
      fills: report.fills,
      positions: report.positions,
      parents: { ...report.parents },
    },
    ...(context.limits === undefined ? {} : { limits: context.limits }),
    errors: report.errors.map((e) => ({
      index: e.index,
      time: e.time,
      code: e.code,
      message: e.message,
      line: e.line ?? null,
    })),
    errorCount: report.errorCount,
    chart: {
      price: chart.price,
      equity: chart.pnl.map((p) => ({ time: p.time, value: Number((offset + p.value).toFixed(8)) })),
      equityLabel: sameCurrency
        ? `Equity, ${report.pnl.currency} (starting cash ${money(offset)} + P&L after commission, marked at the mid)`
        : `P&L, ${report.curve.currency} (after commission, marked at the mid)`,
      markers: chart.markers,
      bucket: chart.bucket,
    },
    orders: chart.orders,
    ordersTotal: chart.ordersTotal,
    fills: chart.fills,
    fillsTotal: chart.fillsTotal,
    exports: context.exports,
    auditDir: report.auditDir,
    elapsedMs: report.elapsedMs,
  };
}

/** The notification's sentence: what ran, how it ended, and the P&L. */
export function describeReplay(view: ReplayView): string {
  const f = view.figures;
  const plural = (count: number, word: string): string => `${whole(count)} ${word}${count === 1 ? '' : 's'}`;
  const unit = view.kind === 'candles' ? 'candle' : 'tick';
  const pnl = `P&L ${money(f.curveFinal)} ${f.curveCurrency}, max drawdown ${money(f.maxDrawdown)} ${f.curveCurrency}`;
  const name = view.className ?? basename(view.file);
  const counts = `${plural(f.orders.produced, 'order')}, ${plural(f.fills, 'fill')}`;
  switch (view.status) {
    case 'COMPLETED':
      return `Replay of ${name}: ${plural(view.processed, unit)} of ${view.symbol}, ${counts}; ${pnl}.`;
    case 'CANCELLED':
      return `Replay of ${name} cancelled after ${whole(view.processed)} of ${plural(view.records, unit)} (${((view.processed / Math.max(1, view.records)) * 100).toFixed(1)}%): ${counts}; ${pnl}. The panel shows what ran.`;
    case 'STOPPED':
      return `Replay of ${name} stopped: ${view.summary}`;
  }
}

/**
 * The risk limits an editor replay runs under, said in the panel: the settings' (sptrader.risk and
 * sptrader.circuitBreaker, a workspace only tightening them), not the built-in defaults; the submit-rate
 * limit is left out because a replay's clock is simulated (a day of ticks passes in a second).
 */
export function replayLimitsText(limits: RiskLimits, breaker: CircuitBreakerSettings): string {
  const parts: string[] = [];
  if (limits.maxOrderQuantity !== undefined) parts.push(`order ≤ ${whole(limits.maxOrderQuantity)} units`);
  if (limits.maxOrderNotional !== undefined) parts.push(`order value ≤ ${money(limits.maxOrderNotional)}`);
  if (limits.maxPositionQuantity !== undefined) parts.push(`position ≤ ${whole(limits.maxPositionQuantity)}`);
  if (limits.priceCollarBps !== undefined) parts.push(`price collar ${whole(limits.priceCollarBps)} bps`);
  if (limits.maxOpenOrders !== undefined) parts.push(`≤ ${whole(limits.maxOpenOrders)} open orders`);
  if (limits.allowedSymbols && limits.allowedSymbols.length > 0)
    parts.push(`symbols ${limits.allowedSymbols.join(', ')}`);
  const halts: string[] = [];
  if (breaker.maxConsecutiveFailures !== undefined) halts.push(`${breaker.maxConsecutiveFailures} failures in a row`);
  if (breaker.maxDailyLoss !== undefined) halts.push(`a day's loss of ${money(breaker.maxDailyLoss)}`);
  return `from your settings (sptrader.risk, sptrader.circuitBreaker): ${parts.join(', ') || 'none'}; no submit-rate limit (simulated time)${halts.length > 0 ? `; the circuit breaker halts after ${halts.join(' or ')}` : ''}.`;
}
