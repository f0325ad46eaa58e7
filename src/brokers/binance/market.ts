/**
 * Binance spot symbols, pure: exchangeInfo filters → our instrument rules, which filter would refuse an
 * order (checked before anything is sent), the order snapped onto the grid, and a ticker → our quote.
 * Raw shapes: binance-spot-api-docs filters.md and rest-api.md ("24hr ticker").
 */
import { z } from 'zod';
import { isOnStep, snapToStep } from '../../common/decimal';
import {
  type InstrumentRules,
  type OrderSide,
  type OrderType,
  type PlacedOrderRequest,
  type Quote,
} from '../../orders/model';
import { BrokerError } from '../errors';
import { decimalString, millis, readOrThrow, round } from './wire';

/*
 * {"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","orderTypes":["LIMIT","MARKET","STOP_LOSS","STOP_LOSS_LIMIT"],
 *  "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000","tickSize":"0.01"},
 *             {"filterType":"LOT_SIZE","minQty":"0.00001","maxQty":"9000","stepSize":"0.00001"},
 *             {"filterType":"NOTIONAL","minNotional":"5","applyMinToMarket":true,"maxNotional":"9000000","applyMaxToMarket":false,"avgPriceMins":5}]}
 */
const FilterSchema = z.looseObject({ filterType: z.string() });
const PriceFilterSchema = z.object({ minPrice: decimalString, maxPrice: decimalString, tickSize: decimalString });
const LotFilterSchema = z.object({ minQty: decimalString, maxQty: decimalString, stepSize: decimalString });
const NotionalFilterSchema = z.object({
  minNotional: decimalString,
  maxNotional: decimalString.optional(),
  applyMinToMarket: z.boolean().optional(),
  applyMaxToMarket: z.boolean().optional(),
});
const MinNotionalFilterSchema = z.object({ minNotional: decimalString, applyToMarket: z.boolean().optional() });
/*
 * filters.md "TRAILING_DELTA": {"filterType":"TRAILING_DELTA","minTrailingAboveDelta":10,"maxTrailingAboveDelta":2000,
 * "minTrailingBelowDelta":10,"maxTrailingBelowDelta":2000}; the Above pair bounds STOP_LOSS BUY (and TAKE_PROFIT
 * SELL), the Below pair STOP_LOSS SELL (and TAKE_PROFIT BUY).
 */
const TrailingDeltaFilterSchema = z.object({
  minTrailingAboveDelta: decimalString,
  maxTrailingAboveDelta: decimalString,
  minTrailingBelowDelta: decimalString,
  maxTrailingBelowDelta: decimalString,
});

export const RawSymbolSchema = z.object({
  symbol: z.string().min(1),
  status: z.string(),
  baseAsset: z.string().min(1),
  quoteAsset: z.string().min(1),
  orderTypes: z.array(z.string()),
  filters: z.array(FilterSchema),
});
export type RawSymbol = z.infer<typeof RawSymbolSchema>;

export type FilterName =
  'PRICE_FILTER' | 'LOT_SIZE' | 'MARKET_LOT_SIZE' | 'NOTIONAL' | 'MIN_NOTIONAL' | 'TRAILING_DELTA';

interface Range {
  min: number;
  /** 0 means no maximum, as Binance writes it. */
  max: number;
  step: number;
}

/** One symbol's Binance rules (a zero min, max or step disables that part, as on Binance). */
export interface BinanceSymbolRules {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  orderTypes: readonly string[];
  price: Range | undefined;
  lot: Range | undefined;
  marketLot: Range | undefined;
  notional:
    | {
        filter: 'NOTIONAL' | 'MIN_NOTIONAL';
        min: number;
        max: number;
        applyMinToMarket: boolean;
        applyMaxToMarket: boolean;
      }
    | undefined;
  /** TRAILING_DELTA, in BIPS: `above` bounds a trailing STOP_LOSS BUY, `below` a SELL (0: no bound, as on Binance). */
  trailingDelta: { above: { min: number; max: number }; below: { min: number; max: number } } | undefined;
}

export function parseSymbolRules(raw: unknown): BinanceSymbolRules {
  const s = readOrThrow(RawSymbolSchema, raw, 'a symbol in exchangeInfo');
  const find = (name: string) => s.filters.find((f) => f.filterType === name);
  const price = find('PRICE_FILTER');
  const lot = find('LOT_SIZE');
  const marketLot = find('MARKET_LOT_SIZE');
  const notional = find('NOTIONAL');
  const minNotional = find('MIN_NOTIONAL');
  const trailing = find('TRAILING_DELTA');
  const trailingRule =
    trailing && readOrThrow(TrailingDeltaFilterSchema, trailing, `the TRAILING_DELTA filter of ${s.symbol}`);
  const priceRange = price && readOrThrow(PriceFilterSchema, price, `the PRICE_FILTER of ${s.symbol}`);
  const lotRange = lot && readOrThrow(LotFilterSchema, lot, `the LOT_SIZE filter of ${s.symbol}`);
  const marketRange = marketLot && readOrThrow(LotFilterSchema, marketLot, `the MARKET_LOT_SIZE filter of ${s.symbol}`);
  let notionalRule: BinanceSymbolRules['notional'];
  if (notional) {
    const n = readOrThrow(NotionalFilterSchema, notional, `the NOTIONAL filter of ${s.symbol}`);
    notionalRule = {
      filter: 'NOTIONAL',
      min: n.minNotional,
      max: n.maxNotional ?? 0,
      applyMinToMarket: n.applyMinToMarket ?? true,
      applyMaxToMarket: n.applyMaxToMarket ?? false,
    };
  } else if (minNotional) {
    const n = readOrThrow(MinNotionalFilterSchema, minNotional, `the MIN_NOTIONAL filter of ${s.symbol}`);
    notionalRule = {
      filter: 'MIN_NOTIONAL',
      min: n.minNotional,
      max: 0,
      applyMinToMarket: n.applyToMarket ?? true,
      applyMaxToMarket: false,
    };
  }
  return {
    symbol: s.symbol,
    status: s.status,
    baseAsset: s.baseAsset,
    quoteAsset: s.quoteAsset,
    orderTypes: s.orderTypes,
    price: priceRange && { min: priceRange.minPrice, max: priceRange.maxPrice, step: priceRange.tickSize },
    lot: lotRange && { min: lotRange.minQty, max: lotRange.maxQty, step: lotRange.stepSize },
    // Binance lists MARKET_LOT_SIZE with stepSize 0 (and minQty 0) on most symbols: its maxQty still bounds a
    // MARKET order (filters.md "MARKET_LOT_SIZE"), and checkRange skips a part that is 0.
    marketLot: marketRange && { min: marketRange.minQty, max: marketRange.maxQty, step: marketRange.stepSize },
    notional: notionalRule,
    trailingDelta: trailingRule && {
      above: { min: trailingRule.minTrailingAboveDelta, max: trailingRule.maxTrailingAboveDelta },
      below: { min: trailingRule.minTrailingBelowDelta, max: trailingRule.maxTrailingBelowDelta },
    },
  };
}

export function toInstrumentRules(rules: BinanceSymbolRules): InstrumentRules {
  const tick = rules.price && rules.price.step > 0 ? rules.price.step : 1e-8;
  const step = rules.lot && rules.lot.step > 0 ? rules.lot.step : 1e-8;
  return {
    symbol: rules.symbol,
    kind: 'crypto',
    tickSize: tick,
    lotSize: step,
    minQuantity: rules.lot?.min ?? 0,
    quoteCurrency: rules.quoteAsset,
    pipSize: tick,
  };
}

export interface FilterFailure {
  filter: FilterName;
  message: string;
}

/** The prices an order carries, by the name Binance gives them. */
function pricesOf(t: OrderType): Array<{ name: 'price' | 'stopPrice'; value: number }> {
  switch (t.type) {
    case 'market':
      return [];
    case 'limit':
      return [{ name: 'price', value: t.price }];
    case 'stop':
      return [{ name: 'stopPrice', value: t.price }];
    case 'stop_limit':
      return [
        { name: 'stopPrice', value: t.stop_price },
        { name: 'price', value: t.limit_price },
      ];
    case 'trailing_stop':
      return [];
  }
}

function checkRange(
  value: number,
  range: Range,
  what: string,
  filter: FilterName,
  symbol: string,
): FilterFailure | undefined {
  if (range.min > 0 && value < range.min - 1e-12)
    return { filter, message: `${what} ${value} is below ${symbol}'s minimum of ${range.min} (${filter})` };
  if (range.max > 0 && value > range.max + 1e-12)
    return { filter, message: `${what} ${value} is above ${symbol}'s maximum of ${range.max} (${filter})` };
  if (range.step > 0 && !isOnStep(value, range.step))
    return {
      filter,
      message: `${what} ${value} is not a multiple of ${symbol}'s ${filter === 'PRICE_FILTER' ? 'tick size' : 'step size'} ${range.step} (${filter})`,
    };
  return undefined;
}

/**
 * Which Binance filter would refuse this order, checked before anything is sent. `referencePrice`
 * (the quote) values market and stop orders for the notional filter; without it they are not checked
 * there. Binance applies PRICE_FILTER to `price` and `stopPrice`, LOT_SIZE (and MARKET_LOT_SIZE for
 * market orders) to `quantity`, and NOTIONAL to price × quantity.
 */
export function checkFilters(
  order: Pick<PlacedOrderRequest, 'order_type' | 'quantity'> & { readonly side?: OrderSide },
  rules: BinanceSymbolRules,
  referencePrice?: number,
): FilterFailure | undefined {
  const trailing = checkTrailingDelta(order, rules);
  if (trailing) return trailing;
  if (rules.price) {
    for (const p of pricesOf(order.order_type)) {
      const failure = checkRange(
        p.value,
        rules.price,
        p.name === 'price' ? 'price' : 'stop price',
        'PRICE_FILTER',
        rules.symbol,
      );
      if (failure) return failure;
    }
  }
  if (rules.lot) {
    const failure = checkRange(order.quantity, rules.lot, 'quantity', 'LOT_SIZE', rules.symbol);
    if (failure) return failure;
  }
  const isMarket = order.order_type.type === 'market' || order.order_type.type === 'stop';
  if (isMarket && rules.marketLot) {
    const failure = checkRange(order.quantity, rules.marketLot, 'quantity', 'MARKET_LOT_SIZE', rules.symbol);
    if (failure) return failure;
  }
  if (rules.notional) {
    const n = rules.notional;
    const t = order.order_type;
    const price = t.type === 'limit' ? t.price : t.type === 'stop_limit' ? t.limit_price : referencePrice;
    if (price !== undefined) {
      const value = price * order.quantity;
      const checkMin = !isMarket || n.applyMinToMarket;
      const checkMax = n.max > 0 && (!isMarket || n.applyMaxToMarket);
      if (checkMin && n.min > 0 && value < n.min - 1e-9)
        return {
          filter: n.filter,
          message: `order value ${round(value)} is below ${rules.symbol}'s minimum notional of ${n.min} ${rules.quoteAsset} (${n.filter})`,
        };
      if (checkMax && value > n.max + 1e-9)
        return {
          filter: n.filter,
          message: `order value ${round(value)} is above ${rules.symbol}'s maximum notional of ${n.max} ${rules.quoteAsset} (${n.filter})`,
        };
    }
  }
  return undefined;
}

/**
 * TRAILING_DELTA (filters.md): a trailing stop's `trailingDelta` (our trail_bps, sent as a STOP_LOSS) must lie within
 * the Above bounds for a BUY, the Below bounds for a SELL; Binance refuses it otherwise (-1013 "Filter failure:
 * TRAILING_DELTA"), so it is said before anything is sent, with the bounds.
 */
function checkTrailingDelta(
  order: Pick<PlacedOrderRequest, 'order_type'> & { readonly side?: OrderSide },
  rules: BinanceSymbolRules,
): FilterFailure | undefined {
  const t = order.order_type;
  if (t.type !== 'trailing_stop' || t.trail_bps === undefined || rules.trailingDelta === undefined) return undefined;
  if (order.side === undefined) return undefined;
  const bounds = order.side === 'buy' ? rules.trailingDelta.above : rules.trailingDelta.below;
  const bps = t.trail_bps;
  const range = `${bounds.min}–${bounds.max > 0 ? bounds.max : '∞'} bps`;
  if ((bounds.min > 0 && bps < bounds.min) || (bounds.max > 0 && bps > bounds.max))
    return {
      filter: 'TRAILING_DELTA',
      message: `a ${order.side} trailing stop's trail of ${bps} bps is outside ${rules.symbol}'s range of ${range} (TRAILING_DELTA): trail by ${bps < bounds.min ? 'more' : 'less'}`,
    };
  return undefined;
}

/** The order moved onto Binance's grid: quantity down to the step, prices to the nearest tick. */
export function snapToFilters<T extends Pick<PlacedOrderRequest, 'order_type' | 'quantity'>>(
  order: T,
  rules: BinanceSymbolRules,
): T {
  const tick = rules.price?.step ?? 0;
  const step = rules.lot?.step ?? 0;
  const p = (v: number) => (tick > 0 ? snapToStep(v, tick) : v);
  const t = order.order_type;
  const orderType: OrderType =
    t.type === 'market' || t.type === 'trailing_stop'
      ? t
      : t.type === 'limit'
        ? { type: 'limit', price: p(t.price) }
        : t.type === 'stop'
          ? { type: 'stop', price: p(t.price) }
          : { type: 'stop_limit', stop_price: p(t.stop_price), limit_price: p(t.limit_price) };
  return {
    ...order,
    order_type: orderType,
    quantity: step > 0 ? snapToStep(order.quantity, step, 'down') : order.quantity,
  };
}

/*
 * GET /api/v3/ticker/24hr?symbol=BTCUSDT:
 * {"symbol":"BTCUSDT","lastPrice":"30010","bidPrice":"30009","bidQty":"1","askPrice":"30011","askQty":"1","closeTime":1700000000000,...}
 */
const RawTickerSchema = z.object({
  symbol: z.string(),
  bidPrice: decimalString,
  bidQty: decimalString,
  askPrice: decimalString,
  askQty: decimalString,
  lastPrice: decimalString,
  closeTime: millis.optional(),
});

export type RawTicker = z.infer<typeof RawTickerSchema>;

export function parseTicker(value: unknown): RawTicker {
  return readOrThrow(RawTickerSchema, value, 'a ticker');
}

export function parseQuote(value: unknown, now: number): Quote {
  return quoteOf(parseTicker(value), now);
}

/**
 * What a holding of the symbol's base asset is marked at: the mid while the book has a bid and an ask; with an
 * empty side (a symbol not TRADING: enums.md "Symbol status" END_OF_DAY, HALT, BREAK, CANCEL_ONLY) the last price;
 * 0 when there is neither. Never throws: one asset without a price must not make the whole account unreadable.
 */
export function markOf(t: RawTicker): number {
  if (t.bidPrice > 0 && t.askPrice > 0) return (t.bidPrice + t.askPrice) / 2;
  return t.lastPrice > 0 ? t.lastPrice : 0;
}

/** The ticker as a quote to trade at: refused (BAD_RESPONSE) when the book has no bid or no ask. */
export function quoteOf(t: RawTicker, now: number): Quote {
  if (!(t.bidPrice > 0 && t.askPrice > 0))
    throw new BrokerError('BAD_RESPONSE', `Binance has no bid and ask for ${t.symbol} (an empty book?)`);
  return {
    symbol: t.symbol,
    bid: t.bidPrice,
    ask: t.askPrice,
    last: t.lastPrice > 0 ? t.lastPrice : (t.bidPrice + t.askPrice) / 2,
    bid_size: t.bidQty,
    ask_size: t.askQty,
    timestamp: t.closeTime ?? now,
  };
}

export interface MarketEntry {
  /** Binance's symbol, e.g. BTCUSDT (ours). */
  id: string;
  /** ccxt's, e.g. BTC/USDT. */
  unified: string;
  info: unknown;
  rules?: BinanceSymbolRules;
  /** A plain spot market: ccxt's createOrder sends it to POST /api/v3/order (not margin, options, futures or equities). */
  plainSpot: boolean;
}

/** A ccxt unified market; `info` is Binance's exchangeInfo entry, read by parseSymbolRules. */
const CcxtMarketSchema = z.looseObject({
  id: z.string(),
  symbol: z.string(),
  type: z.string().optional(),
  spot: z.boolean().optional(),
  option: z.unknown().optional(),
  linear: z.unknown().optional(),
  inverse: z.unknown().optional(),
  stock: z.unknown().optional(),
  info: z.unknown(),
});

/** Binance's rules for a market, read from its exchangeInfo entry on first use. */
export function rulesOf(market: MarketEntry): BinanceSymbolRules {
  market.rules ??= parseSymbolRules(market.info);
  return market.rules;
}

/** The spot symbols ccxt listed, by Binance's id (BTCUSDT) and by ccxt's (BTC/USDT). */
export class MarketIndex {
  private readonly byId = new Map<string, MarketEntry>();
  private readonly byUnified = new Map<string, MarketEntry>();

  /** Replaces the index with what ccxt's loadMarkets listed (spot symbols only). */
  load(markets: unknown): void {
    if (typeof markets !== 'object' || markets === null)
      throw new BrokerError('BAD_RESPONSE', 'Binance sent no markets');
    this.byId.clear();
    this.byUnified.clear();
    for (const m of Object.values(markets)) {
      const parsed = CcxtMarketSchema.safeParse(m);
      if (!parsed.success || parsed.data.spot === false) continue;
      const d = parsed.data;
      const plainSpot =
        d.spot === true &&
        d.type === 'spot' &&
        d.option !== true &&
        d.linear !== true &&
        d.inverse !== true &&
        d.stock !== true;
      const market: MarketEntry = { id: d.id, unified: d.symbol, info: d.info, plainSpot };
      this.byId.set(market.id, market);
      this.byUnified.set(market.unified, market);
    }
    if (this.byId.size === 0) throw new BrokerError('BAD_RESPONSE', 'Binance listed no spot symbols');
  }

  /** By Binance's id only (BTCUSDT). */
  get(id: string): MarketEntry | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** By Binance's id, ccxt's, or either written loosely (btc-usdt). */
  find(symbol: string): MarketEntry | undefined {
    return (
      this.byId.get(symbol) ?? this.byUnified.get(symbol) ?? this.byId.get(symbol.replace(/[/_-]/g, '').toUpperCase())
    );
  }
}
