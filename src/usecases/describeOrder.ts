/**
 * One line that says what was traded and what happened to it, for the CLI's first line, the result
 * panel's headline, the toasts and the Open Orders tree:
 *
 *   BUY 10,000 EUR_USD MKT IOC → FILLED 10,000 @ 1.07922 (+0.2 pip)
 *   LIVE · SELL 5 AAPL LMT 187.25 GTC → DENIED: QUANTITY_EXCEEDS_MAXIMUM (5 > 1 units)
 *   No order: COMPONENT_ERROR at c.py:12: division by zero
 *
 * Orders are named by what they are (side, quantity, symbol, type, time in force), never by their
 * client order id. Pure: no `vscode`, no Node; numbers are grouped by thousands with `en-US`.
 */
import { instrumentKey } from '../orders/instrumentKey';
import type { OrderRequest, OrderType, TimeInForce } from '../orders/model';
import { stateOfVenueStatus, type OrderRecord, type OrderState } from '../execution/orderState';
import type { RiskCheckResult } from '../execution/risk';
import type { Slippage } from '../execution/slippage';
import type { TestOrderOutcome } from './testOrder';
import { describeParent } from '../execution/algos/parents';
import { formatPrice, formatQuantity, precisionOf } from './priceText';

export { decimalsIn, formatPrice, formatQuantity, precisionOf, stopAlreadyReachedNote } from './priceText';

/** What names an order. */
export type OrderTerms = Pick<OrderRequest, 'symbol' | 'side' | 'quantity' | 'order_type' | 'time_in_force'>;

export type InstrumentKind = 'fx' | 'equity' | 'crypto' | 'other';

export interface DescribeOptions {
  /** Decimals of the instrument's prices (its tick); else the most any price seen for the order is written with. */
  pricePrecision?: number;
  /** Decides the slippage unit: pips for FX (as the outcome computed it), bps for crypto, ticks otherwise. Guessed from the symbol when absent. */
  kind?: InstrumentKind;
  /** Marks the line "LIVE · " (a live account). */
  live?: boolean;
}

const MAX_REASON = 160;

export function orderTypeAbbreviation(t: OrderType, precision?: number): string {
  switch (t.type) {
    case 'market':
      return 'MKT';
    case 'limit':
      return `LMT ${formatPrice(t.price, precision)}`;
    case 'stop':
      return `STP ${formatPrice(t.price, precision)}`;
    case 'stop_limit':
      return `STP ${formatPrice(t.stop_price, precision)}/LMT ${formatPrice(t.limit_price, precision)}`;
    case 'trailing_stop':
      return t.trail_offset !== undefined
        ? `TRAIL ${formatPrice(t.trail_offset, precision)}`
        : `TRAIL ${t.trail_bps} bps`;
  }
}

export function timeInForceAbbreviation(t: TimeInForce): string {
  return t.type === 'GTD' ? `GTD ${new Date(t.expires_at).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z')}` : t.type;
}

const orderPrices = (t: OrderType): number[] =>
  t.type === 'limit' || t.type === 'stop' ? [t.price] : t.type === 'stop_limit' ? [t.stop_price, t.limit_price] : [];

/** "BUY 10,000 EUR_USD LMT 1.0850 GTC" — what the order is, with no id. */
export function describeOrder(
  order: OrderTerms,
  options: Pick<DescribeOptions, 'pricePrecision' | 'live'> = {},
): string {
  const precision = options.pricePrecision ?? precisionOf(orderPrices(order.order_type));
  return `${options.live ? 'LIVE · ' : ''}${order.side.toUpperCase()} ${formatQuantity(order.quantity)} ${order.symbol} ${orderTypeAbbreviation(order.order_type, precision)} ${timeInForceAbbreviation(order.time_in_force)}`;
}

const CRYPTO_QUOTE = /(USDT|USDC|BUSD|FDUSD|TUSD|DAI)$/i;
const CRYPTO_BASE =
  /^(BTC|XBT|ETH|SOL|XRP|DOGE|ADA|LTC|BNB|AVAX|DOT|LINK|MATIC|TRX|SHIB|BCH|XLM|ATOM|UNI|ETC)([/_\-:]|USD|EUR|BTC|ETH|$)/i;

/** A guess from the symbol alone, used only to choose how slippage is shown when the kind is not given. */
export function guessKind(symbol: string): InstrumentKind {
  if (CRYPTO_QUOTE.test(symbol) || CRYPTO_BASE.test(symbol)) return 'crypto';
  if (/^[A-Z]{3}[_/]?[A-Z]{3}$/i.test(symbol)) return 'fx';
  return 'other';
}

const signed = (n: number, digits = 2): string => {
  const r = Number(n.toFixed(digits)) + 0;
  return r > 0 ? `+${formatQuantity(r)}` : formatQuantity(r);
};

/** "+0.2 pip", "-1.5 pips", "+3 ticks", "+1.25 bps" (FX in pips, crypto in bps, anything else in ticks). */
export function formatSlippage(s: Pick<Slippage, 'units' | 'unit' | 'bps'>, kind?: InstrumentKind): string {
  if (kind === 'crypto') return `${signed(s.bps)} bps`;
  const units = Number(s.units.toFixed(2)) + 0;
  const plural = units === 0 || Math.abs(units) > 1;
  return `${signed(units)} ${s.unit}${plural ? 's' : ''}`;
}

/** The facts of what happened to a placed order, from a venue response or the engine's record. */
interface Result {
  state: OrderState;
  filled: number;
  average: number | null;
  reason: string | undefined;
  denialCode: string | undefined;
}

const oneLine = (text: string): string => {
  const first = text.split(/\r?\n/)[0]?.trim() ?? '';
  return first.length > MAX_REASON ? `${first.slice(0, MAX_REASON - 1)}…` : first;
};

function stateText(r: Result, order: OrderTerms, precision: number | undefined, slippage: string): string {
  const at = (): string => (r.average === null ? '' : ` @ ${formatPrice(r.average, precision)}`);
  const part = (): string => `${formatQuantity(r.filled)} of ${formatQuantity(order.quantity)}${at()}${slippage}`;
  switch (r.state) {
    case 'FILLED':
      return `FILLED ${formatQuantity(r.filled || order.quantity)}${at()}${slippage}`;
    case 'PARTIALLY_FILLED':
      return `PARTIALLY FILLED ${part()}, rest working`;
    case 'ACCEPTED':
      return r.filled > 0 ? `ACCEPTED, ${part()} filled` : 'ACCEPTED (working at the venue)';
    case 'SUBMITTED':
    case 'PENDING_SUBMIT':
      return `${r.state.replace('_', ' ')} (waiting for the venue)`;
    case 'PENDING_CANCEL':
      return r.filled > 0 ? `PENDING CANCEL after ${part()}` : 'PENDING CANCEL (waiting for the venue)';
    case 'CANCELLED':
    case 'EXPIRED': {
      // The venue's reason, when the venue ended the order itself (margin, a halt, an IOC's rest).
      const why = r.state === 'CANCELLED' && r.reason ? `: ${oneLine(r.reason)}` : '';
      return r.filled > 0 ? `${r.state} after ${part()}${why}` : `${r.state} (nothing filled)${why}`;
    }
    case 'UNCONFIRMED':
      return 'UNCONFIRMED (looking it up by client id)';
    case 'REJECTED': {
      const reason = r.reason ?? 'no reason given';
      const notPlaced = /^(NOT_PLACED|NEVER_ARRIVED):\s*/.exec(reason);
      return notPlaced ? `NOT PLACED: ${oneLine(reason.slice(notPlaced[0].length))}` : `REJECTED: ${oneLine(reason)}`;
    }
    case 'DENIED':
      return `DENIED: ${r.denialCode ?? 'DENIED'}${r.reason ? ` (${oneLine(r.reason)})` : ''}`;
  }
}

// ---- risk checks: numbers with units ----

type RiskLike = Pick<RiskCheckResult, 'check' | 'code' | 'passed' | 'message' | 'limit' | 'actual' | 'delayedQuote'>;

/** The account currency a notional check speaks in, as its message says it. */
function currencyOf(message: string): string | undefined {
  return (/\d ([A-Z]{3,5})\b/.exec(message) ?? /\binto ([A-Z]{3,5})\b/.exec(message))?.[1];
}

/** An amount of money with two decimals and thousands separators: "10,792.20". */
export const formatMoney = (n: number): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money = formatMoney;

/** A check's limit or actual value with its unit: "25,000 units", "±25,000 units", "10,792.20 USD", "12.5 bps", "3 orders". */
export function riskValueText(r: RiskLike, which: 'limit' | 'actual'): string {
  const text = valueText(r, which);
  // Judged against the venue's delayed market data: the figure is as of that quote.
  return which === 'actual' && r.delayedQuote === true ? `${text} (delayed quote)` : text;
}

function valueText(r: RiskLike, which: 'limit' | 'actual'): string {
  const v = r[which];
  if (v === null) return '–';
  if (typeof v === 'string') return v;
  switch (r.check) {
    case 'max_order_quantity':
      return `${formatQuantity(v)} units`;
    case 'max_position':
      return which === 'limit' ? `±${formatQuantity(v)} units` : `${formatQuantity(v)} units`;
    case 'max_order_notional':
    case 'buying_power': {
      const ccy = currencyOf(r.message);
      return `${money(v)}${ccy ? ` ${ccy}` : ''}`;
    }
    case 'price_collar':
      return `${formatQuantity(v)} bps`;
    case 'max_open_orders':
      return `${formatQuantity(v)} order${v === 1 ? '' : 's'}`;
    case 'submit_rate':
      return `${formatQuantity(v)}/s`;
    default:
      return formatQuantity(v);
  }
}

/** Why a check denied, in numbers: "30,000 > 25,000 units", "12,000.00 > 1,000.00 USD", "42.1 bps from the mid > 10 bps". */
export function riskDenialDetail(r: RiskLike): string {
  const { limit, actual } = r;
  if (r.code === 'NO_CONVERSION_RATE') {
    const ccy = currencyOf(r.message);
    return `no rate values the order${ccy ? ` in ${ccy}` : ''}`;
  }
  const n = (v: number | string | null): string => (v === null ? '–' : typeof v === 'number' ? formatQuantity(v) : v);
  switch (r.check) {
    case 'max_order_quantity':
      return `${n(actual)} > ${n(limit)} units`;
    case 'max_position':
      return typeof actual === 'number' && actual < 0
        ? `${n(actual)} beyond ±${n(limit)} units`
        : `${n(actual)} > ${n(limit)} units`;
    case 'max_order_notional':
    case 'buying_power': {
      const ccy = currencyOf(r.message);
      const m = (v: number | string | null): string => (typeof v === 'number' ? money(v) : n(v));
      return `${m(actual)} > ${m(limit)}${ccy ? ` ${ccy}` : ''}${r.delayedQuote === true ? ' at a delayed quote' : ''}`;
    }
    case 'price_collar':
      return `${n(actual)} bps from the ${r.delayedQuote === true ? 'delayed ' : ''}mid > ${n(limit)} bps`;
    case 'max_open_orders':
      return `${n(actual)} > ${n(limit)} working orders`;
    case 'submit_rate':
      return `more than ${typeof limit === 'number' ? `${n(limit)}/s` : n(limit)}`;
    case 'allowed_symbols':
      return `${n(actual)} not in ${n(limit)}`;
    case 'expire_time':
      return `expires ${n(actual)}, not after now ${n(limit)}`;
    case 'trading_state':
      return actual === 'HALTED' ? 'trading is HALTED' : `${n(actual)} while ${n(limit)}`;
  }
}

// ---- the whole line ----

/** "DENIED: POSITION_EXCEEDS_MAXIMUM (30,000 > 25,000 units)", or the denial's own message when no check made it. */
function denialText(denial: { code: string; message: string }, risk: readonly RiskLike[]): string {
  const check = risk.find((c) => !c.passed && c.code === denial.code) ?? risk.find((c) => !c.passed);
  return `DENIED: ${denial.code}${check ? ` (${riskDenialDetail(check)})` : `: ${oneLine(denial.message)}`}`;
}

/** The line for an order the engine refused to send: "BUY 10,000 EUR_USD MKT GTC → DENIED: POSITION_EXCEEDS_MAXIMUM (30,000 > 25,000 units)". */
export function describeDenial(
  order: OrderTerms,
  denial: { code: string; message: string },
  risk: readonly RiskLike[],
  options: Pick<DescribeOptions, 'pricePrecision' | 'live'> = {},
): string {
  return `${describeOrder(order, options)} → ${denialText(denial, risk)}`;
}

function slippageOf(s: Slippage | null | undefined, kind: InstrumentKind): string {
  return s ? ` (${formatSlippage(s, kind)})` : '';
}

/** The order's last state in the outcome (its events, else its response), as the first line says it. */
export function stateOfOutcome(outcome: TestOrderOutcome): OrderState | undefined {
  for (let i = outcome.events.length - 1; i >= 0; i--) {
    const e = outcome.events[i] as { state?: unknown } | undefined;
    if (e && typeof e.state === 'string') return e.state as OrderState;
  }
  const r = outcome.response;
  if (!r) return undefined;
  if (
    r.status.status === 'submitted' &&
    outcome.exitCode === 4 &&
    outcome.errors.some((e) => e.code === 'OUTCOME_UNKNOWN')
  )
    return 'UNCONFIRMED';
  return stateOfVenueStatus(r.status.status);
}

/**
 * A file name on one line of a summary: a line end in it (a file named "x.py\nVenue      oanda (live)") is written
 * as \n, so that it cannot end the line and make the rest read as another line of the summary.
 */
export const fileOnOneLine = (text: string): string => text.replace(/\r?\n/g, '\\n');

const fileName = (path: string): string => fileOnOneLine(path.split(/[\\/]/).pop() ?? path);

/** The line for a Test Order / Execute on Paper / Execute Live check outcome. */
export function describeOutcome(outcome: TestOrderOutcome, options: DescribeOptions = {}): string {
  const live = options.live ?? outcome.venue.environment === 'live';
  const mark = live ? 'LIVE · ' : '';
  const order = outcome.order;
  const firstError = outcome.errors[0];
  if (!order) {
    // A parent order (bracket, TWAP, …) is no single order: said as the parent, started or only checked.
    const parent = outcome.parentSpec;
    if (parent && !firstError)
      return outcome.parent
        ? `${mark}${describeParent(outcome.parent)}: ${outcome.parent.state}`
        : `${mark}${parent.algo.replace('_', ' ').toUpperCase()} ${parent.side.toUpperCase()} ${parent.quantity.toLocaleString('en-US')} ${parent.symbol} (a parent order) → valid, not started`;
    if (!firstError) return `${mark}No order: the component returned None; nothing was sent.`;
    const where = firstError.file
      ? ` at ${fileName(firstError.file)}${firstError.line ? `:${firstError.line}` : ''}`
      : '';
    const more = outcome.errors.length > 1 ? ` (+${outcome.errors.length - 1} more)` : '';
    return `${mark}No order: ${firstError.code}${where}: ${oneLine(firstError.message)}${more}`;
  }
  const md = outcome.marketData ?? {};
  const r = outcome.response;
  // The quote's decimals only when it is this instrument's: a USD_JPY order run on EUR_USD's market data filled at
  // 150.34200, five decimals of EUR_USD's.
  const quoted = typeof md['symbol'] !== 'string' || instrumentKey(md['symbol']) === instrumentKey(order.symbol);
  const precision =
    options.pricePrecision ??
    precisionOf([
      ...(quoted ? [md['bid'] as number, md['ask'] as number] : []),
      ...orderPrices(order.order_type),
      ...(r?.fills ?? []).map((f) => f.price),
    ]);
  const head = `${mark}${describeOrder(order, { pricePrecision: precision })}`;
  const kind = options.kind ?? (outcome.slippage?.unit === 'pip' ? 'fx' : guessKind(order.symbol));

  if (outcome.denial) return `${head} → ${denialText(outcome.denial, outcome.risk)}`;
  if (r) {
    const state = stateOfOutcome(outcome) ?? 'SUBMITTED';
    const reason = r.status.status === 'rejected' || r.status.status === 'cancelled' ? r.status.reason : undefined;
    const filled = r.filled_quantity ?? (r.status.status === 'partially_filled' ? r.status.filled_qty : 0);
    const result: Result = { state, filled, average: r.filled_price, reason, denialCode: undefined };
    return `${head} → ${stateText(result, order, precision, filled > 0 ? slippageOf(outcome.slippage, kind) : '')}`;
  }
  if (firstError) {
    const what = firstError.code === 'INVALID_ORDER' ? 'INVALID_ORDER' : `NOT SENT: ${firstError.code}`;
    return `${head} → ${what}: ${oneLine(firstError.message)}`;
  }
  const passed = outcome.risk.length;
  return `${head} → CHECKED (${passed} risk check${passed === 1 ? '' : 's'} passed; nothing sent)`;
}

/** How much of an order its fills add up to, and their average price (null before any fill). */
export function filledOf(fills: ReadonlyArray<{ readonly price: number; readonly quantity: number }>): {
  filled: number;
  average: number | null;
} {
  let filled = 0;
  let notional = 0;
  for (const f of fills) {
    filled += f.quantity;
    notional += f.price * f.quantity;
  }
  filled = Number(filled.toPrecision(15));
  return { filled, average: filled > 0 ? notional / filled : null };
}

/** The line for an order the engine keeps (cancel, Execute Live, close position, the Open Orders tree). */
export function describeRecord(
  record: Pick<OrderRecord, 'request' | 'state' | 'fills' | 'reason' | 'denialCode'>,
  options: DescribeOptions & { slippage?: Slippage | null } = {},
): string {
  const order = record.request;
  const precision =
    options.pricePrecision ?? precisionOf([...orderPrices(order.order_type), ...record.fills.map((f) => f.price)]);
  const head = describeOrder(order, { pricePrecision: precision, live: options.live });
  const { filled, average } = filledOf(record.fills);
  const kind = options.kind ?? (options.slippage?.unit === 'pip' ? 'fx' : guessKind(order.symbol));
  const result: Result = { state: record.state, filled, average, reason: record.reason, denialCode: record.denialCode };
  return `${head} → ${stateText(result, order, precision, filled > 0 ? slippageOf(options.slippage, kind) : '')}`;
}
