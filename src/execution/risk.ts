/**
 * Pre-trade risk checks. Each check is a pure function of the order and a snapshot of the account,
 * and always returns its result — passed or denied — with the limit and the actual value, so that a
 * user can see why an order went through as clearly as why it did not.
 *
 * Limits come from settings; a component's `__metadata__['risk_limits']` may only tighten them
 * (`tightenLimits`). A limit left undefined is not checked, and the result says so.
 *
 * Past 450 lines on purpose: one concept, the pre-trade checks, each a short pure function with
 * its limit and result shape; the limits' schema, their tightening and the check order sit with them so
 * that a new check is added in one place.
 */
import { z } from 'zod';
import { SYMBOL_PATTERN, type OrderSide, type PlacedOrderRequest } from '../orders/model';
import type { Clock } from '../common/clock';
import { describeLimitIssues } from './riskLimitIssues';

export type RiskCode =
  | 'QUANTITY_EXCEEDS_MAXIMUM'
  | 'POSITION_EXCEEDS_MAXIMUM'
  | 'NOTIONAL_EXCEEDS_MAX_PER_ORDER'
  | 'NOTIONAL_EXCEEDS_BUYING_POWER'
  | 'PRICE_OUTSIDE_COLLAR'
  | 'SYMBOL_NOT_ALLOWED'
  | 'EXPIRE_TIME_IN_PAST'
  | 'TOO_MANY_OPEN_ORDERS'
  | 'RATE_LIMIT_EXCEEDED'
  | 'TRADING_HALTED'
  | 'TRADING_STATE_REDUCING'
  | 'NO_CONVERSION_RATE';

export type RiskCheckName =
  | 'trading_state'
  | 'allowed_symbols'
  | 'expire_time'
  | 'max_order_quantity'
  | 'max_order_notional'
  | 'buying_power'
  | 'max_position'
  | 'price_collar'
  | 'max_open_orders'
  | 'submit_rate';

export interface RiskCheckResult {
  readonly check: RiskCheckName;
  readonly passed: boolean;
  /** The standard code of the denial; on a pass, the code this check would deny with. */
  readonly code: RiskCode;
  readonly message: string;
  readonly limit: number | string | null;
  readonly actual: number | string | null;
  /**
   * Set when the check judged the order against the venue's delayed market data (`Quote.delayed`: IB's, for an
   * account without a live subscription, some 15 minutes behind), not the live price; its message says so too.
   */
  readonly delayedQuote?: true;
}

export type TradingStateName = 'ACTIVE' | 'REDUCING' | 'HALTED';

const positiveLimit = z.number().positive().finite();
export const RiskLimitsSchema = z
  .object({
    /** Largest quantity of one order. */
    maxOrderQuantity: positiveLimit.optional(),
    /** Largest absolute position per symbol, counting working orders on the same side. */
    maxPositionQuantity: positiveLimit.optional(),
    /** Largest value of one order at the current quote, in the account currency. */
    maxOrderNotional: positiveLimit.optional(),
    /** How far a limit or stop price may be from the mid, in basis points (fat-finger collar). */
    priceCollarBps: positiveLimit.optional(),
    /**
     * Symbols that may be traded; empty or absent = all. Each one a symbol: a look-alike letter or a stray space
     * in one made the list deny the very symbol it was meant to allow, without a word.
     */
    allowedSymbols: z
      .array(
        z
          .string()
          .regex(SYMBOL_PATTERN, 'each allowed symbol must be 1–32 letters, digits or . _ - / : (for example EUR_USD)'),
      )
      .optional(),
    /** Working orders at once (not yet final), across symbols. */
    maxOpenOrders: z.number().int().positive().optional(),
    /** Sustained submits per second (token bucket refill). */
    maxOrdersPerSecond: positiveLimit.optional(),
    /** Submits allowed at once before the rate applies (bucket size). Default: max(1, maxOrdersPerSecond). */
    orderBurst: z.number().int().positive().optional(),
  })
  .strict();
export type RiskLimits = z.infer<typeof RiskLimitsSchema>;

export const DEFAULT_RISK_LIMITS: Readonly<RiskLimits> = Object.freeze({
  maxOrderQuantity: 1_000_000,
  maxPositionQuantity: 2_000_000,
  maxOrderNotional: 1_000_000,
  priceCollarBps: 500,
  maxOpenOrders: 200,
  maxOrdersPerSecond: 50,
  orderBurst: 100,
});

/**
 * What the component's `risk_limits` may say, snake_case as Python writes them. `max_position_size` and
 * `max_order_value` are the names of the component contract (SPtraderB); the others mirror the settings.
 */
const ComponentLimitsSchema = z
  .object({
    max_position_size: positiveLimit.optional(),
    max_order_value: positiveLimit.optional(),
    max_order_quantity: positiveLimit.optional(),
    max_position_quantity: positiveLimit.optional(),
    max_order_notional: positiveLimit.optional(),
    price_collar_bps: positiveLimit.optional(),
    allowed_symbols: z.array(z.string().min(1)).optional(),
    max_open_orders: z.number().int().positive().optional(),
    max_orders_per_second: positiveLimit.optional(),
  })
  .strict();

/**
 * Combines the settings' limits with a component's `risk_limits`: each limit becomes the stricter of
 * the two, allowed symbols the intersection. Returns the issues (by key) of a malformed `risk_limits`.
 */
export function tightenLimits(
  base: RiskLimits,
  componentLimits: unknown,
): { limits: RiskLimits; issues: string[]; tightened: string[] } {
  if (componentLimits === undefined || componentLimits === null) return { limits: base, issues: [], tightened: [] };
  const parsed = ComponentLimitsSchema.safeParse(componentLimits);
  if (!parsed.success) {
    return {
      limits: base,
      issues: describeLimitIssues(parsed.error.issues, componentLimits, Object.keys(ComponentLimitsSchema.shape)),
      tightened: [],
    };
  }
  const c = parsed.data;
  const out: RiskLimits = { ...base };
  const tightened: string[] = [];
  const min = (
    key:
      | 'maxOrderQuantity'
      | 'maxPositionQuantity'
      | 'maxOrderNotional'
      | 'priceCollarBps'
      | 'maxOpenOrders'
      | 'maxOrdersPerSecond',
    v: number | undefined,
  ) => {
    if (v === undefined) return;
    const current = out[key];
    if (current === undefined || v < current) {
      out[key] = v;
      if (!tightened.includes(key)) tightened.push(key);
    }
  };
  min('maxOrderQuantity', c.max_order_quantity);
  min('maxPositionQuantity', c.max_position_size);
  min('maxPositionQuantity', c.max_position_quantity);
  min('maxOrderNotional', c.max_order_value);
  min('maxOrderNotional', c.max_order_notional);
  min('priceCollarBps', c.price_collar_bps);
  min('maxOpenOrders', c.max_open_orders);
  min('maxOrdersPerSecond', c.max_orders_per_second);
  if (c.allowed_symbols !== undefined) {
    const base = out.allowedSymbols;
    out.allowedSymbols =
      base && base.length > 0 ? base.filter((s) => c.allowed_symbols?.includes(s)) : [...c.allowed_symbols];
    // An empty intersection must deny everything, not mean "all".
    if (out.allowedSymbols.length === 0) out.allowedSymbols = ['\u0000none'];
    tightened.push('allowedSymbols');
  }
  return { limits: out, issues: [], tightened };
}

/** A snapshot of everything the checks look at, taken by the engine just before the checks run. */
export interface RiskContext {
  readonly order: PlacedOrderRequest;
  readonly now: number;
  readonly tradingState: TradingStateName;
  /** Why trading is in that state (said when it denies an order). */
  readonly tradingReason?: string;
  readonly bid: number;
  readonly ask: number;
  /** Signed position in the symbol (long > 0). */
  readonly position: number;
  /** Quantity still to fill of working orders in the symbol, by side (not counting this one). */
  readonly workingBuy: number;
  readonly workingSell: number;
  /** Working orders across all symbols (not counting this one). */
  readonly openOrders: number;
  /** Buying power in the account currency, less what orders not yet at the venue will use. */
  readonly buyingPower: number;
  readonly accountCurrency: string;
  /** Quote currency → account currency; undefined when no rate is known. */
  readonly conversionRate: number | undefined;
  /**
   * The bid and ask (or the rate's quote) are not the live price: the venue's delayed market data, or a stale quote
   * (`Quote.delayed`, src/brokers/quoteFreshness.ts). The checks that
   * read them (order value, buying power, the price collar) still judge (a collar against a quote minutes old
   * still catches the fat finger it is for; not judging would leave the order unchecked, refusing would leave an
   * account without live data unable to trade), and their results say the quote was delayed.
   */
  readonly quoteDelayed?: boolean;
}

/**
 * What a check that read a quote that was not the live price adds to its sentence: the venue's delayed market data,
 * or a stale quote (the rule: src/brokers/quoteFreshness.ts).
 */
const DELAYED_QUOTE =
  " The quote was not the venue's live price: its delayed market data (some 15 minutes behind, no live subscription), or a stale quote (market closed or halted, or none for over a minute).";

/** The result, said as judged against a delayed quote when it was one. */
function atQuote(ctx: RiskContext, r: RiskCheckResult): RiskCheckResult {
  return ctx.quoteDelayed === true ? { ...r, message: r.message + DELAYED_QUOTE, delayedQuote: true } : r;
}

// One formatter, made once: `toLocaleString` with options builds a new Intl.NumberFormat on every call.
const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });
// Every order formats its limits and quantities (the same few whole numbers, order after order) and its own value
// and buying power (new fractions nearly every order): the text of the whole numbers formatted is kept, a bounded
// map cleared when full. Fractions are formatted each time: kept, they only churned the map (a new entry and a
// cleared table every thousand orders, all of it outliving the young generation).
let formatted = new Map<number, string>();
const fmt = (n: number): string => {
  if (!Number.isInteger(n)) return formatNumber(Number(n.toPrecision(10)));
  // 0 and -0 are one key to a Map but not one text: neither is kept.
  let text = n === 0 ? undefined : formatted.get(n);
  if (text === undefined) {
    text = formatNumber(n);
    if (n !== 0) {
      // A new map, not `clear()`: that links the old table to the new one (src/common/churn.ts).
      if (formatted.size >= 1024) formatted = new Map();
      formatted.set(n, text);
    }
  }
  return text;
};

/**
 * What `NUMBER.format(n)` gives, without Intl for the common case (every risk check formats its limit
 * and actual, on every order): digits grouped by thousands, at most 10 decimals. Anything else (an
 * exponent, more decimals, not finite) goes to Intl.
 */
export function formatNumber(n: number): string {
  const text = String(n);
  // An absurd size (a component's 1e300) keeps its exponent instead of 300 grouped digits.
  if (Math.abs(n) >= 1e21 && Number.isFinite(n)) return text;
  const dot = text.indexOf('.');
  if (text.includes('e') || !Number.isFinite(n) || (dot >= 0 && text.length - dot - 1 > 10)) return NUMBER.format(n);
  const negative = text.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  const end = dot >= 0 ? dot : text.length;
  if (end - start <= 3) return Object.is(n, -0) ? '-0' : text;
  const first = (end - start) % 3 || 3;
  let grouped = text.slice(start, start + first);
  for (let i = start + first; i < end; i += 3) grouped += ',' + text.slice(i, i + 3);
  return (negative ? '-' : '') + grouped + text.slice(end);
}

function result(
  check: RiskCheckName,
  code: RiskCode,
  passed: boolean,
  limit: number | string | null,
  actual: number | string | null,
  message: string,
): RiskCheckResult {
  return { check, code, passed, limit, actual, message };
}

/** True when the order can only shrink the position, counting working orders that already shrink it. */
export function isReducing(
  side: OrderSide,
  quantity: number,
  position: number,
  workingBuy: number,
  workingSell: number,
): boolean {
  if (side === 'sell') return position > 0 && quantity + workingSell <= position + 1e-12;
  return position < 0 && quantity + workingBuy <= -position + 1e-12;
}

export function checkTradingState(ctx: RiskContext): RiskCheckResult {
  const { order } = ctx;
  if (ctx.tradingState === 'HALTED')
    return result(
      'trading_state',
      'TRADING_HALTED',
      false,
      'ACTIVE',
      'HALTED',
      `Trading is halted${ctx.tradingReason ? ` (${ctx.tradingReason})` : ''}: new orders are denied until trading is resumed.`,
    );
  if (ctx.tradingState === 'REDUCING') {
    const ok = isReducing(order.side, order.quantity, ctx.position, ctx.workingBuy, ctx.workingSell);
    return ok
      ? result(
          'trading_state',
          'TRADING_STATE_REDUCING',
          true,
          'REDUCING',
          'reduces exposure',
          `Trading is REDUCING and this ${order.side} only reduces the position of ${fmt(ctx.position)}.`,
        )
      : result(
          'trading_state',
          'TRADING_STATE_REDUCING',
          false,
          'REDUCING',
          'increases exposure',
          `Trading is REDUCING: only orders that shrink a position pass; ${order.side} ${fmt(order.quantity)} against a position of ${fmt(ctx.position)} would not.`,
        );
  }
  return result('trading_state', 'TRADING_HALTED', true, 'ACTIVE', 'ACTIVE', 'Trading is active.');
}

export function checkAllowedSymbols(ctx: RiskContext, limits: RiskLimits): RiskCheckResult {
  const allowed = limits.allowedSymbols;
  const symbol = ctx.order.symbol;
  if (!allowed || allowed.length === 0)
    return result(
      'allowed_symbols',
      'SYMBOL_NOT_ALLOWED',
      true,
      'any',
      symbol,
      'Every symbol is allowed (no list set).',
    );
  const listed = allowed.filter((s) => s !== '\u0000none');
  const shown = listed.length === 0 ? '(none)' : listed.join(', ');
  return allowed.includes(symbol)
    ? result('allowed_symbols', 'SYMBOL_NOT_ALLOWED', true, shown, symbol, `${symbol} is in the allowed symbols.`)
    : result(
        'allowed_symbols',
        'SYMBOL_NOT_ALLOWED',
        false,
        shown,
        symbol,
        `${symbol} is not an allowed symbol (allowed: ${shown}).`,
      );
}

export function checkExpireTime(ctx: RiskContext): RiskCheckResult {
  const tif = ctx.order.time_in_force;
  if (tif.type !== 'GTD')
    return result('expire_time', 'EXPIRE_TIME_IN_PAST', true, null, null, `Time in force ${tif.type} has no expiry.`);
  const now = new Date(ctx.now).toISOString();
  const at = new Date(tif.expires_at).toISOString();
  return tif.expires_at > ctx.now
    ? result('expire_time', 'EXPIRE_TIME_IN_PAST', true, now, at, `Expires at ${at}, after now (${now}).`)
    : result('expire_time', 'EXPIRE_TIME_IN_PAST', false, now, at, `The GTD expiry ${at} is not after now (${now}).`);
}

export function checkMaxOrderQuantity(ctx: RiskContext, limits: RiskLimits): RiskCheckResult {
  const max = limits.maxOrderQuantity;
  const q = ctx.order.quantity;
  if (max === undefined)
    return result('max_order_quantity', 'QUANTITY_EXCEEDS_MAXIMUM', true, null, q, 'No maximum order quantity is set.');
  return q <= max
    ? result(
        'max_order_quantity',
        'QUANTITY_EXCEEDS_MAXIMUM',
        true,
        max,
        q,
        `Quantity ${fmt(q)} is within the maximum of ${fmt(max)}.`,
      )
    : result(
        'max_order_quantity',
        'QUANTITY_EXCEEDS_MAXIMUM',
        false,
        max,
        q,
        `Quantity ${fmt(q)} exceeds the maximum order quantity of ${fmt(max)}.`,
      );
}

/** The order's value at the current quote (buy at the ask, sell at the bid), in the account currency. */
export function orderNotional(ctx: RiskContext): number | undefined {
  if (ctx.conversionRate === undefined) return undefined;
  const price = ctx.order.side === 'buy' ? ctx.ask : ctx.bid;
  return round2(ctx.order.quantity * price * ctx.conversionRate);
}

export function checkMaxOrderNotional(ctx: RiskContext, limits: RiskLimits): RiskCheckResult {
  const max = limits.maxOrderNotional;
  const notional = orderNotional(ctx);
  if (max === undefined)
    return result(
      'max_order_notional',
      'NOTIONAL_EXCEEDS_MAX_PER_ORDER',
      true,
      null,
      notional ?? null,
      'No maximum order value is set.',
    );
  if (notional === undefined) return noRate('max_order_notional', ctx, max);
  const ccy = ctx.accountCurrency;
  return atQuote(
    ctx,
    notional <= max
      ? result(
          'max_order_notional',
          'NOTIONAL_EXCEEDS_MAX_PER_ORDER',
          true,
          max,
          notional,
          `Order value ${fmt(notional)} ${ccy} is within the maximum of ${fmt(max)} ${ccy}.`,
        )
      : result(
          'max_order_notional',
          'NOTIONAL_EXCEEDS_MAX_PER_ORDER',
          false,
          max,
          notional,
          `Order value ${fmt(notional)} ${ccy} exceeds the maximum per order of ${fmt(max)} ${ccy}.`,
        ),
  );
}

export function checkBuyingPower(ctx: RiskContext): RiskCheckResult {
  const { order } = ctx;
  const bp = round2(ctx.buyingPower);
  const ccy = ctx.accountCurrency;
  if (isReducing(order.side, order.quantity, ctx.position, ctx.workingBuy, ctx.workingSell)) {
    return result(
      'buying_power',
      'NOTIONAL_EXCEEDS_BUYING_POWER',
      true,
      bp,
      0,
      'The order only reduces a position and uses no buying power.',
    );
  }
  const notional = orderNotional(ctx);
  if (notional === undefined) return noRate('buying_power', ctx, bp);
  return atQuote(
    ctx,
    notional <= bp
      ? result(
          'buying_power',
          'NOTIONAL_EXCEEDS_BUYING_POWER',
          true,
          bp,
          notional,
          `Order value ${fmt(notional)} ${ccy} is within buying power of ${fmt(bp)} ${ccy}.`,
        )
      : result(
          'buying_power',
          'NOTIONAL_EXCEEDS_BUYING_POWER',
          false,
          bp,
          notional,
          `Order value ${fmt(notional)} ${ccy} exceeds buying power of ${fmt(bp)} ${ccy}.`,
        ),
  );
}

/** The position the order could lead to if it and every working order on its side filled. */
export function projectedPosition(ctx: RiskContext): number {
  const q = ctx.order.quantity;
  return ctx.order.side === 'buy' ? ctx.position + ctx.workingBuy + q : ctx.position - ctx.workingSell - q;
}

export function checkMaxPosition(ctx: RiskContext, limits: RiskLimits): RiskCheckResult {
  const max = limits.maxPositionQuantity;
  const projected = round10(projectedPosition(ctx));
  const abs = Math.abs(projected);
  const symbol = ctx.order.symbol;
  if (max === undefined)
    return result('max_position', 'POSITION_EXCEEDS_MAXIMUM', true, null, projected, 'No maximum position is set.');
  if (abs <= max)
    return result(
      'max_position',
      'POSITION_EXCEEDS_MAXIMUM',
      true,
      max,
      projected,
      `Projected ${symbol} position ${fmt(projected)} is within ±${fmt(max)}.`,
    );
  // An order that leaves the position smaller than it is now is never denied for size.
  if (abs < Math.abs(ctx.position))
    return result(
      'max_position',
      'POSITION_EXCEEDS_MAXIMUM',
      true,
      max,
      projected,
      `Projected ${symbol} position ${fmt(projected)} is beyond ±${fmt(max)} but smaller than now.`,
    );
  return result(
    'max_position',
    'POSITION_EXCEEDS_MAXIMUM',
    false,
    max,
    projected,
    `Projected ${symbol} position ${fmt(projected)} (now ${fmt(ctx.position)}, working ${ctx.order.side === 'buy' ? '+' + fmt(ctx.workingBuy) : '-' + fmt(ctx.workingSell)}, this order ${ctx.order.side === 'buy' ? '+' : '-'}${fmt(ctx.order.quantity)}) exceeds the maximum of ±${fmt(max)}.`,
  );
}

export function checkPriceCollar(ctx: RiskContext, limits: RiskLimits): RiskCheckResult {
  const max = limits.priceCollarBps;
  const t = ctx.order.order_type;
  const prices: Array<[string, number]> =
    t.type === 'limit'
      ? [['limit', t.price]]
      : t.type === 'stop'
        ? [['stop', t.price]]
        : t.type === 'stop_limit'
          ? [
              ['stop', t.stop_price],
              ['limit', t.limit_price],
            ]
          : [];
  if (prices.length === 0)
    return result(
      'price_collar',
      'PRICE_OUTSIDE_COLLAR',
      true,
      max ?? null,
      null,
      'A market order has no price to collar; it trades at the quote.',
    );
  const mid = (ctx.bid + ctx.ask) / 2;
  let worst = prices[0] as [string, number];
  let worstBps = -1;
  for (const p of prices) {
    const bps = Math.round((Math.abs(p[1] - mid) / mid) * 10_000 * 100) / 100;
    if (bps > worstBps) {
      worstBps = bps;
      worst = p;
    }
  }
  if (max === undefined)
    return result('price_collar', 'PRICE_OUTSIDE_COLLAR', true, null, worstBps, 'No price collar is set.');
  return atQuote(
    ctx,
    worstBps <= max
      ? result(
          'price_collar',
          'PRICE_OUTSIDE_COLLAR',
          true,
          max,
          worstBps,
          `The ${worst[0]} price ${worst[1]} is ${worstBps} bps from the mid ${fmt(mid)}, within ${max} bps.`,
        )
      : result(
          'price_collar',
          'PRICE_OUTSIDE_COLLAR',
          false,
          max,
          worstBps,
          ctx.quoteDelayed === true
            ? `The ${worst[0]} price ${worst[1]} is ${worstBps} bps from the mid ${fmt(mid)}, outside the collar of ${max} bps (a fat finger, or the market moved since the delayed quote: check the live price).`
            : `The ${worst[0]} price ${worst[1]} is ${worstBps} bps from the mid ${fmt(mid)}, outside the collar of ${max} bps (a fat finger?).`,
        ),
  );
}

export function checkMaxOpenOrders(ctx: RiskContext, limits: RiskLimits): RiskCheckResult {
  const max = limits.maxOpenOrders;
  const actual = ctx.openOrders + 1;
  if (max === undefined)
    return result('max_open_orders', 'TOO_MANY_OPEN_ORDERS', true, null, actual, 'No maximum of open orders is set.');
  return actual <= max
    ? result(
        'max_open_orders',
        'TOO_MANY_OPEN_ORDERS',
        true,
        max,
        actual,
        `${actual} working orders with this one, within the maximum of ${max}.`,
      )
    : result(
        'max_open_orders',
        'TOO_MANY_OPEN_ORDERS',
        false,
        max,
        actual,
        `${actual} working orders with this one would exceed the maximum of ${max}.`,
      );
}

function noRate(check: RiskCheckName, ctx: RiskContext, limit: number): RiskCheckResult {
  return result(
    check,
    'NO_CONVERSION_RATE',
    false,
    limit,
    null,
    `No rate converts the order's quote currency into ${ctx.accountCurrency}, so its value cannot be checked; trade a pair quoted in ${ctx.accountCurrency} or add a quote for the conversion.`,
  );
}

/**
 * Submit rate as a token bucket on the injected clock: `burst` tokens, refilled at `ratePerSecond`.
 * `take` consumes a token only when one is available.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private ratePerSecond: number,
    private burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Changes the rate (settings changed); keeps the tokens already earned, up to the new burst. */
  configure(ratePerSecond: number, burst: number): void {
    this.refill();
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
    } else if (now < this.last) {
      // The clock stepped back (a correction): nothing is earned for it, and the refill goes on from the
      // new time rather than waiting for the clock to catch up with the old one (no order for that long).
      this.last = now;
    }
  }

  available(): number {
    this.refill();
    return this.tokens;
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * How the submit rate holds an order: its bucket (a token is taken), none (no limit is set), or not counted, with
 * the reason said in the check's sentence (an emergency flatten while HALTED; a dry run takes no token).
 */
export type SubmitRate = TokenBucket | undefined | { readonly notCounted: string };

export function checkSubmitRate(rate: SubmitRate, limits: RiskLimits): RiskCheckResult {
  const perSecond = limits.maxOrdersPerSecond;
  if (perSecond === undefined || rate === undefined)
    return result('submit_rate', 'RATE_LIMIT_EXCEEDED', true, null, null, 'No submit rate limit is set.');
  if (!(rate instanceof TokenBucket))
    return result(
      'submit_rate',
      'RATE_LIMIT_EXCEEDED',
      true,
      perSecond,
      'not counted',
      `Not counted: ${rate.notCounted}`,
    );
  const burst = limits.orderBurst ?? Math.max(1, Math.ceil(perSecond));
  const ok = rate.take();
  const left = Math.floor(rate.available());
  return ok
    ? result(
        'submit_rate',
        'RATE_LIMIT_EXCEEDED',
        true,
        `${perSecond}/s (burst ${burst})`,
        `${left} left`,
        `Within the submit rate of ${perSecond} orders/s (burst ${burst}).`,
      )
    : result(
        'submit_rate',
        'RATE_LIMIT_EXCEEDED',
        false,
        `${perSecond}/s (burst ${burst})`,
        '0 left',
        `More than ${perSecond} orders/s (burst ${burst}): wait before sending more.`,
      );
}

export function runRiskChecks(
  ctx: RiskContext,
  limits: RiskLimits,
  rate: SubmitRate,
): { passed: boolean; results: RiskCheckResult[]; denial?: RiskCheckResult } {
  const results: RiskCheckResult[] = [
    checkTradingState(ctx),
    checkAllowedSymbols(ctx, limits),
    checkExpireTime(ctx),
    checkMaxOrderQuantity(ctx, limits),
    checkMaxOrderNotional(ctx, limits),
    checkBuyingPower(ctx),
    checkMaxPosition(ctx, limits),
    checkPriceCollar(ctx, limits),
    checkMaxOpenOrders(ctx, limits),
  ];
  let denial = results.find((r) => !r.passed);
  if (denial === undefined) {
    const submitRate = checkSubmitRate(rate, limits);
    results.push(submitRate);
    if (!submitRate.passed) denial = submitRate;
  } else {
    results.push(
      result(
        'submit_rate',
        'RATE_LIMIT_EXCEEDED',
        true,
        limits.maxOrdersPerSecond ?? null,
        null,
        'Not counted: the order was denied by an earlier check.',
      ),
    );
  }
  return denial ? { passed: false, results, denial } : { passed: true, results };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const round10 = (n: number): number => Math.round(n * 1e10) / 1e10;
