/**
 * Binance spot, pure: our orders → ccxt `createOrder` arguments, Binance replies → our types, and the
 * status and error lookup tables. Nothing here does I/O or loads ccxt; every raw reply is read through
 * a zod schema, so a reply that is not what Binance documents becomes `BrokerError('BAD_RESPONSE')`.
 * Raw shapes: binance-spot-api-docs rest-api.md ("New order", "Query order", "Account information",
 * "24hr ticker") and filters.md.
 */
import { z } from 'zod';
import { isOnStep, snapToStep } from '../../common/decimal';
import {
  type AccountInfo,
  type Fill,
  type InstrumentRules,
  type OrderResponse,
  type OrderStatus,
  type OrderType,
  type PlacedOrderRequest,
  type Position,
  type Quote,
  type TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { maskAccountIds, redactValues } from '../credentials';
import { BrokerError, isBrokerError, type BrokerErrorReason } from '../errors';

// --- numbers as Binance writes them ("0.00100000") ---

const decimalString = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: `not a number: ${String(v)}` });
    return z.NEVER;
  }
  return n;
});
const integerLike = z.union([z.number().int(), z.string().regex(/^-?\d+$/)]).transform((v) => String(v));
const millis = z.number().int().nonnegative();

function readOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  throw new BrokerError('BAD_RESPONSE', `Binance sent ${what} that could not be read (${where})`);
}

// --- exchangeInfo filters → instrument rules ---

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

export const RawSymbolSchema = z.object({
  symbol: z.string().min(1),
  status: z.string(),
  baseAsset: z.string().min(1),
  quoteAsset: z.string().min(1),
  orderTypes: z.array(z.string()),
  filters: z.array(FilterSchema),
});
export type RawSymbol = z.infer<typeof RawSymbolSchema>;

export type FilterName = 'PRICE_FILTER' | 'LOT_SIZE' | 'MARKET_LOT_SIZE' | 'NOTIONAL' | 'MIN_NOTIONAL';

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
}

export function parseSymbolRules(raw: unknown): BinanceSymbolRules {
  const s = readOrThrow(RawSymbolSchema, raw, 'a symbol in exchangeInfo');
  const find = (name: string) => s.filters.find((f) => f.filterType === name);
  const price = find('PRICE_FILTER');
  const lot = find('LOT_SIZE');
  const marketLot = find('MARKET_LOT_SIZE');
  const notional = find('NOTIONAL');
  const minNotional = find('MIN_NOTIONAL');
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
    marketLot:
      marketRange && marketRange.stepSize > 0
        ? { min: marketRange.minQty, max: marketRange.maxQty, step: marketRange.stepSize }
        : undefined,
    notional: notionalRule,
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
  order: Pick<PlacedOrderRequest, 'order_type' | 'quantity'>,
  rules: BinanceSymbolRules,
  referencePrice?: number,
): FilterFailure | undefined {
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
    t.type === 'market'
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

const round = (n: number): number => Number(n.toFixed(8));

// --- our order → ccxt createOrder ---

/** Binance's client order id: "unique among open orders", 1–36 characters. */
export const BINANCE_CLIENT_ORDER_ID = /^[.A-Z:/a-z0-9_-]{1,36}$/;

export type BinanceOrderType = 'MARKET' | 'LIMIT' | 'STOP_LOSS' | 'STOP_LOSS_LIMIT';

export interface CreateOrderArgs {
  /** ccxt's unified symbol, e.g. "BTC/USDT". */
  symbol: string;
  /** ccxt turns 'market' + stopPrice into STOP_LOSS and 'limit' + stopPrice into STOP_LOSS_LIMIT. */
  type: 'market' | 'limit';
  side: 'buy' | 'sell';
  amount: number;
  /** Never set for market orders: ccxt would send quoteOrderQty = amount × price instead of quantity. */
  price: number | undefined;
  params: { newClientOrderId: string; timeInForce?: 'GTC' | 'IOC' | 'FOK'; stopPrice?: number };
  /** What Binance will receive as `type`. */
  binanceType: BinanceOrderType;
}

/**
 * Why Binance spot cannot take this type × time in force, or undefined. Binance has no GTD; MARKET
 * and STOP_LOSS take no timeInForce (sending one is -1106) and always behave like IOC (an unfilled
 * remainder ends EXPIRED), so GTC and IOC are accepted and sent without it, and FOK is refused
 * because Binance would fill part of it.
 */
export function unsupportedOnBinance(
  order: Pick<PlacedOrderRequest, 'order_type' | 'time_in_force'>,
): string | undefined {
  const tif = order.time_in_force.type;
  if (tif === 'GTD') return BINANCE_GTD_REFUSAL;
  const type = order.order_type.type;
  if (type === 'market' && tif === 'FOK') return BINANCE_MARKET_FOK_REFUSAL;
  if (type === 'stop' && tif === 'FOK') return BINANCE_STOP_FOK_REFUSAL;
  return undefined;
}

export const BINANCE_GTD_REFUSAL =
  'Binance spot has no GTD time in force (only GTC, IOC and FOK); use GTC and cancel it yourself';
const fokRefusal = (what: string): string =>
  `Binance spot ${what} orders take no time in force and may fill in part, so FOK cannot be honoured; use a limit FOK order`;
export const BINANCE_MARKET_FOK_REFUSAL = fokRefusal('market');
export const BINANCE_STOP_FOK_REFUSAL = fokRefusal('stop (STOP_LOSS)');

/** What `BinanceBroker` accepts (see its header table): the same refusals as `unsupportedOnBinance`, readable without an instance. */
export const BINANCE_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: false },
  unsupported: [
    { orderType: 'market', timeInForce: 'FOK', reason: BINANCE_MARKET_FOK_REFUSAL },
    { orderType: 'stop', timeInForce: 'FOK', reason: BINANCE_STOP_FOK_REFUSAL },
    { timeInForce: 'GTD', reason: BINANCE_GTD_REFUSAL },
  ],
  fractionalQuantity: true,
  shortSelling: false,
  cancelReplace: false,
});

export function toCreateOrderArgs(order: PlacedOrderRequest, unifiedSymbol: string): CreateOrderArgs {
  const refusal = unsupportedOnBinance(order);
  if (refusal) throw new BrokerError('UNSUPPORTED_ORDER', refusal);
  if (!BINANCE_CLIENT_ORDER_ID.test(order.client_order_id))
    throw new BrokerError(
      'INVALID_ORDER',
      `client order id "${order.client_order_id}" is not 1–36 characters of A–Z a–z 0–9 . _ : / - as Binance requires`,
    );
  const base = { symbol: unifiedSymbol, side: order.side, amount: order.quantity } as const;
  const tif = order.time_in_force.type === 'GTD' ? 'GTC' : order.time_in_force.type;
  const t = order.order_type;
  switch (t.type) {
    case 'market':
      return {
        ...base,
        type: 'market',
        price: undefined,
        params: { newClientOrderId: order.client_order_id },
        binanceType: 'MARKET',
      };
    case 'limit':
      return {
        ...base,
        type: 'limit',
        price: t.price,
        params: { newClientOrderId: order.client_order_id, timeInForce: tif },
        binanceType: 'LIMIT',
      };
    case 'stop':
      return {
        ...base,
        type: 'market',
        price: undefined,
        params: { newClientOrderId: order.client_order_id, stopPrice: t.price },
        binanceType: 'STOP_LOSS',
      };
    case 'stop_limit':
      return {
        ...base,
        type: 'limit',
        price: t.limit_price,
        params: { newClientOrderId: order.client_order_id, timeInForce: tif, stopPrice: t.stop_price },
        binanceType: 'STOP_LOSS_LIMIT',
      };
  }
}

// --- order ids: Binance needs the symbol with every order look-up ---

/** Our order id for a Binance order: "BTCUSDT:28", so a cancel or look-up needs nothing else. */
export function toOrderId(symbol: string, binanceOrderId: string): string {
  return `${symbol}:${binanceOrderId}`;
}

export function fromOrderId(orderId: string): { symbol: string | undefined; id: string } {
  const m = /^([A-Z0-9]+):(\d+)$/.exec(orderId);
  if (m) return { symbol: m[1], id: m[2] as string };
  return { symbol: undefined, id: orderId };
}

// --- status table ---

export const BINANCE_STATUS = [
  'PENDING_NEW',
  'NEW',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELED',
  'PENDING_CANCEL',
  'REJECTED',
  'EXPIRED',
  'EXPIRED_IN_MATCH',
] as const;
export type BinanceStatus = (typeof BINANCE_STATUS)[number];

/**
 * | Binance            | ours                                   |
 * |--------------------|----------------------------------------|
 * | PENDING_NEW        | pending                                |
 * | NEW                | submitted                              |
 * | PARTIALLY_FILLED   | partially_filled (executedQty)         |
 * | FILLED             | filled                                 |
 * | CANCELED           | cancelled (filled_quantity keeps any partial fill) |
 * | PENDING_CANCEL     | submitted (still working; unused by Binance) |
 * | REJECTED           | rejected                               |
 * | EXPIRED            | expired (IOC/FOK/market remainder)     |
 * | EXPIRED_IN_MATCH   | expired (self-trade prevention)        |
 */
export function toOrderStatus(status: BinanceStatus, executedQty: number): OrderStatus {
  switch (status) {
    case 'PENDING_NEW':
      return { status: 'pending' };
    case 'NEW':
    case 'PENDING_CANCEL':
      return { status: 'submitted' };
    case 'PARTIALLY_FILLED':
      return { status: 'partially_filled', filled_qty: executedQty };
    case 'FILLED':
      return { status: 'filled' };
    case 'CANCELED':
      return { status: 'cancelled' };
    case 'REJECTED':
      return { status: 'rejected', reason: 'rejected by Binance' };
    case 'EXPIRED':
      return { status: 'expired' };
    case 'EXPIRED_IN_MATCH':
      return { status: 'expired' };
  }
}

// --- orders ---

/*
 * POST /api/v3/order (newOrderRespType FULL):
 * {"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"sp-1","transactTime":1700000000100,"price":"0.00000000",
 *  "origQty":"0.00100000","executedQty":"0.00100000","cummulativeQuoteQty":"30.01100000","status":"FILLED","timeInForce":"GTC",
 *  "type":"MARKET","side":"BUY","workingTime":1700000000100,"selfTradePreventionMode":"NONE",
 *  "fills":[{"price":"30011.00","qty":"0.00100000","commission":"0.00000100","commissionAsset":"BTC","tradeId":56}]}
 * GET /api/v3/order adds "stopPrice","time","updateTime","isWorking","origQuoteOrderQty" and has no fills;
 * DELETE /api/v3/order answers with "origClientOrderId" (ours) and a new "clientOrderId" (the cancel's).
 */
const RawFillSchema = z.object({
  price: decimalString,
  qty: decimalString,
  commission: decimalString,
  commissionAsset: z.string(),
  tradeId: integerLike,
});

export const RawOrderSchema = z.object({
  symbol: z.string().min(1),
  orderId: integerLike,
  clientOrderId: z.string(),
  origClientOrderId: z.string().optional(),
  price: decimalString,
  origQty: decimalString,
  executedQty: decimalString,
  cummulativeQuoteQty: decimalString,
  status: z.enum(BINANCE_STATUS),
  timeInForce: z.string().optional(),
  type: z.string(),
  side: z.enum(['BUY', 'SELL']),
  stopPrice: decimalString.optional(),
  time: millis.optional(),
  updateTime: millis.optional(),
  transactTime: millis.optional(),
  /** -1 while a stop has not triggered. */
  workingTime: z.number().int().optional(),
  fills: z.array(RawFillSchema).optional(),
});
export type RawOrder = z.infer<typeof RawOrderSchema>;

function orderTypeOf(raw: RawOrder): OrderType {
  const stop = raw.stopPrice ?? 0;
  switch (raw.type) {
    case 'MARKET':
      return { type: 'market' };
    case 'LIMIT':
    case 'LIMIT_MAKER':
      return { type: 'limit', price: raw.price };
    case 'STOP_LOSS':
    case 'TAKE_PROFIT':
      return { type: 'stop', price: stop };
    case 'STOP_LOSS_LIMIT':
    case 'TAKE_PROFIT_LIMIT':
      return { type: 'stop_limit', stop_price: stop, limit_price: raw.price };
    default:
      throw new BrokerError('BAD_RESPONSE', `Binance sent an order of unknown type ${raw.type}`);
  }
}

function timeInForceOf(raw: RawOrder): TimeInForce {
  if (raw.timeInForce === 'IOC') return { type: 'IOC' };
  if (raw.timeInForce === 'FOK') return { type: 'FOK' };
  return { type: 'GTC' };
}

export interface OrderContext {
  /** Assets of the symbol, to value commission charged in the base asset. */
  baseAsset?: string;
  quoteAsset?: string;
  /** What we asked for (its time in force wins: Binance reports GTC for market orders). */
  request?: Pick<PlacedOrderRequest, 'time_in_force'>;
  /** When Binance gives no time. */
  now: number;
}

/**
 * Commission in the quote asset: quote-asset commission as is, base-asset commission (Binance charges
 * a buy's fee in what was bought) at the fill price; any other asset (BNB) cannot be valued here and
 * counts as 0.
 */
function commissionInQuote(fill: z.infer<typeof RawFillSchema>, ctx: OrderContext): number {
  if (ctx.quoteAsset !== undefined && fill.commissionAsset === ctx.quoteAsset) return fill.commission;
  if (ctx.baseAsset !== undefined && fill.commissionAsset === ctx.baseAsset) return round(fill.commission * fill.price);
  return 0;
}

export function parseOrder(value: unknown, ctx: OrderContext): OrderResponse {
  const raw = readOrThrow(RawOrderSchema, value, 'an order');
  const orderId = toOrderId(raw.symbol, raw.orderId);
  const clientOrderId = raw.origClientOrderId ?? raw.clientOrderId;
  const side = raw.side === 'BUY' ? 'buy' : 'sell';
  const working = raw.workingTime !== undefined && raw.workingTime >= 0 ? raw.workingTime : undefined;
  const created = raw.time ?? raw.transactTime ?? working ?? ctx.now;
  const updated = raw.updateTime ?? raw.transactTime ?? created;
  const fills: Fill[] = (raw.fills ?? [])
    .filter((f) => f.qty > 0)
    .map((f) => ({
      fill_id: `${raw.symbol}:${f.tradeId}`,
      order_id: orderId,
      client_order_id: clientOrderId,
      symbol: raw.symbol,
      side,
      price: f.price,
      quantity: f.qty,
      commission: commissionInQuote(f, ctx),
      // Fills in the reply to a submit happened on arrival, against resting orders.
      liquidity: 'taker',
      timestamp: updated,
    }));
  const filled = raw.executedQty;
  return {
    order_id: orderId,
    client_order_id: clientOrderId,
    symbol: raw.symbol,
    side,
    order_type: orderTypeOf(raw),
    time_in_force: ctx.request?.time_in_force ?? timeInForceOf(raw),
    quantity: raw.origQty,
    status: toOrderStatus(raw.status, filled),
    filled_price: filled > 0 ? round(raw.cummulativeQuoteQty / filled) : null,
    filled_quantity: filled > 0 ? filled : null,
    commission: fills.length > 0 ? round(fills.reduce((sum, f) => sum + f.commission, 0)) : null,
    timestamp: updated,
    created_at: created,
    fills,
  };
}

// Built once: zod compiles a schema on its first parse, which costs far more than a parse.
const WithInfoSchema = z.looseObject({ info: z.unknown() });
const OrderListSchema = z.array(z.looseObject({ info: z.looseObject({ symbol: z.string() }) }));

/** The raw Binance payload inside a ccxt unified result (`info`). */
export function infoOf(value: unknown, what: string): unknown {
  return readOrThrow(WithInfoSchema, value, what).info;
}

export function parseOrderList(value: unknown, ctxOf: (symbol: string) => OrderContext): OrderResponse[] {
  const list = readOrThrow(OrderListSchema, value, 'a list of orders');
  return list.map((o) => parseOrder(o.info, ctxOf(o.info.symbol)));
}

// --- account, positions, quotes ---

/*
 * GET /api/v3/account:
 * {"makerCommission":10,"takerCommission":10,"canTrade":true,"updateTime":1700000000000,"accountType":"SPOT",
 *  "balances":[{"asset":"USDT","free":"1000","locked":"30"},{"asset":"BTC","free":"0.01","locked":"0"}],"permissions":["SPOT"],"uid":354937868}
 */
export const RawAccountSchema = z.object({
  accountType: z.string().optional(),
  uid: integerLike.optional(),
  updateTime: millis.optional(),
  balances: z.array(z.object({ asset: z.string(), free: decimalString, locked: decimalString })),
});
export type RawAccount = z.infer<typeof RawAccountSchema>;

export function parseAccount(value: unknown): RawAccount {
  return readOrThrow(RawAccountSchema, value, 'account balances');
}

/**
 * Spot has no positions: each asset other than the account currency with a non-zero balance
 * (free + locked) is a long position in `<asset><currency>`, marked at that symbol's mid. Binance keeps
 * no entry price, so `average_price` is the mark and `unrealized_pnl` is 0.
 */
export function positionsFromBalances(
  account: RawAccount,
  currency: string,
  markOf: (asset: string) => { symbol: string; price: number } | undefined,
): Position[] {
  const positions: Position[] = [];
  for (const b of account.balances) {
    const quantity = round(b.free + b.locked);
    if (b.asset === currency || quantity === 0) continue;
    const mark = markOf(b.asset);
    if (!mark) continue;
    positions.push({
      symbol: mark.symbol,
      quantity,
      average_price: mark.price,
      current_price: mark.price,
      unrealized_pnl: 0,
    });
  }
  return positions;
}

/** Balance = the account currency held (free + locked); buying power = its free part; equity adds positions at their mark. */
export function accountInfoOf(
  account: RawAccount,
  currency: string,
  positions: Position[],
  accountId: string,
): AccountInfo {
  const cash = account.balances.find((b) => b.asset === currency);
  const balance = cash ? round(cash.free + cash.locked) : 0;
  const held = positions.reduce((sum, p) => sum + p.quantity * p.current_price, 0);
  return {
    account_id: accountId,
    balance,
    equity: round(balance + held),
    buying_power: cash ? cash.free : 0,
    currency,
    open_positions: positions,
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

export function parseQuote(value: unknown, now: number): Quote {
  const t = readOrThrow(RawTickerSchema, value, 'a ticker');
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

// --- errors ---

/** What the adapter saw of the HTTP reply behind an error (ccxt's exceptions do not carry it). */
export interface HttpCapture {
  status: number;
  body?: string;
  retryAfter?: string;
}

const BinanceErrorBodySchema = z.object({ code: z.number().int(), msg: z.string() });

/**
 * ccxt's error classes (base/errorHierarchy.js), child → parent, so a class is read by what it is
 * a kind of. ccxt sets `name` on every instance, which survives bundling.
 */
const CCXT_PARENT: Readonly<Record<string, string>> = {
  ExchangeError: 'BaseError',
  AuthenticationError: 'ExchangeError',
  PermissionDenied: 'AuthenticationError',
  AccountNotEnabled: 'PermissionDenied',
  AccountSuspended: 'AuthenticationError',
  ArgumentsRequired: 'ExchangeError',
  BadRequest: 'ExchangeError',
  BadSymbol: 'BadRequest',
  OperationRejected: 'ExchangeError',
  NoChange: 'OperationRejected',
  MarginModeAlreadySet: 'NoChange',
  MarketClosed: 'OperationRejected',
  ManualInteractionNeeded: 'OperationRejected',
  RestrictedLocation: 'OperationRejected',
  InsufficientFunds: 'ExchangeError',
  InvalidAddress: 'ExchangeError',
  AddressPending: 'InvalidAddress',
  InvalidOrder: 'ExchangeError',
  OrderNotFound: 'InvalidOrder',
  OrderNotCached: 'InvalidOrder',
  OrderImmediatelyFillable: 'InvalidOrder',
  OrderNotFillable: 'InvalidOrder',
  DuplicateOrderId: 'InvalidOrder',
  ContractUnavailable: 'InvalidOrder',
  NotSupported: 'ExchangeError',
  InvalidProxySettings: 'ExchangeError',
  ExchangeClosedByUser: 'ExchangeError',
  OperationFailed: 'BaseError',
  NetworkError: 'OperationFailed',
  DDoSProtection: 'NetworkError',
  RateLimitExceeded: 'NetworkError',
  ExchangeNotAvailable: 'NetworkError',
  OnMaintenance: 'ExchangeNotAvailable',
  InvalidNonce: 'NetworkError',
  ChecksumError: 'InvalidNonce',
  RequestTimeout: 'NetworkError',
  BadResponse: 'OperationFailed',
  NullResponse: 'BadResponse',
  CancelPending: 'OperationFailed',
  UnsubscribeError: 'BaseError',
};

/** The class and its ancestors, most specific first; empty when `name` is not a ccxt class. */
export function ccxtLineage(name: string): string[] {
  if (name !== 'BaseError' && !(name in CCXT_PARENT)) return [];
  const out: string[] = [];
  for (let n: string | undefined = name; n !== undefined; n = CCXT_PARENT[n]) out.push(n);
  return out;
}

/** ccxt class → ours, most specific first (checked after Binance's own code). */
const CCXT_REASON: ReadonlyArray<[string, BrokerErrorReason]> = [
  ['RequestTimeout', 'TIMEOUT'],
  ['DDoSProtection', 'RATE_LIMITED'],
  ['RateLimitExceeded', 'RATE_LIMITED'],
  ['ExchangeNotAvailable', 'VENUE_UNAVAILABLE'],
  ['InvalidNonce', 'AUTHENTICATION'],
  ['NetworkError', 'NETWORK'],
  ['BadResponse', 'BAD_RESPONSE'],
  ['OperationFailed', 'VENUE_UNAVAILABLE'],
  ['PermissionDenied', 'PERMISSION_DENIED'],
  ['AuthenticationError', 'AUTHENTICATION'],
  ['InsufficientFunds', 'INSUFFICIENT_FUNDS'],
  ['OrderNotFound', 'ORDER_NOT_FOUND'],
  ['DuplicateOrderId', 'DUPLICATE_CLIENT_ORDER_ID'],
  ['BadSymbol', 'UNKNOWN_SYMBOL'],
  ['InvalidOrder', 'INVALID_ORDER'],
  ['BadRequest', 'INVALID_ORDER'],
  ['OperationRejected', 'INVALID_ORDER'],
  ['NotSupported', 'UNSUPPORTED_ORDER'],
];

/**
 * Binance's own codes (errors.md), which win over ccxt's class: ccxt maps -1022 to BadRequest and
 * -2015 to DDoSProtection once a private call has succeeded. -2010 NEW_ORDER_REJECTED carries
 * several refusals that only its message tells apart.
 */
export function reasonForBinanceCode(code: number, msg: string): BrokerErrorReason | undefined {
  switch (code) {
    case -2010:
      if (/duplicate order/i.test(msg)) return 'DUPLICATE_CLIENT_ORDER_ID';
      if (/insufficient balance/i.test(msg)) return 'INSUFFICIENT_FUNDS';
      return 'INVALID_ORDER';
    case -2013:
      return 'ORDER_NOT_FOUND';
    case -2011:
      return /unknown order/i.test(msg) ? 'ORDER_NOT_FOUND' : 'INVALID_ORDER';
    case -1021:
      // Outside recvWindow: refused before processing (rest-api.md "Timing security"); resent with a new timestamp.
      return 'TIMEOUT';
    case -1002:
    case -1022:
    case -2014:
    case -2015:
      return 'AUTHENTICATION';
    case -1003:
    case -1015:
      return 'RATE_LIMITED';
    case -1000:
    case -1001:
    case -1006:
    case -1007:
    case -1008:
    case -1016:
      return 'VENUE_UNAVAILABLE';
    case -1121:
      return 'UNKNOWN_SYMBOL';
    case -2018:
    case -2019:
      return 'INSUFFICIENT_FUNDS';
    default:
      if (code <= -1100 && code >= -1199) return 'INVALID_ORDER';
      if (code === -1013 || code === -1111 || code === -1106 || code === -1115) return 'INVALID_ORDER';
      return undefined;
  }
}

export interface ErrorContext {
  /** "submit", "cancel", … for the message. */
  operation: string;
  /** The request may have reached Binance and changed something (a submit): unknown outcomes are flagged. */
  mutating: boolean;
  http?: HttpCapture;
  /** Values to redact from every message (key, secret). */
  secrets: ReadonlyArray<string | undefined>;
  /** Account ids (the uid) to mask to their last four characters in every message. */
  accountIds?: ReadonlyArray<string | undefined>;
}

/**
 * Answers proving Binance did not act on the request, so it may be sent again (with a new timestamp
 * and signature): 429 and 418 (rest-api.md "LIMITS": the request is refused by the rate limiter, with
 * Retry-After in seconds), -1003 TOO_MANY_REQUESTS and -1015 TOO_MANY_ORDERS (the same limits as codes,
 * errors.md), and -1021 INVALID_TIMESTAMP (rest-api.md "Timing security": a request outside its
 * recvWindow is rejected, not processed).
 */
const NOT_ACTED_CODES: ReadonlySet<number> = new Set([-1003, -1015, -1021]);
/** Socket errors raised before anything was written: nothing reached Binance. */
const NOT_SENT = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/** Reasons after which a mutating request may or may not have taken effect. */
const UNKNOWN_OUTCOME: ReadonlySet<BrokerErrorReason> = new Set([
  'TIMEOUT',
  'NETWORK',
  'VENUE_UNAVAILABLE',
  'BAD_RESPONSE',
]);

function retryAfterMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Signed URLs carry a signature in the query: messages keep the path only; account ids are masked. */
function scrub(
  text: string,
  secrets: ReadonlyArray<string | undefined>,
  accountIds: ReadonlyArray<string | undefined> = [],
): string {
  return maskAccountIds(redactValues(text, secrets), accountIds)
    .replace(/(https?:\/\/[^\s?]+)\?\S*/g, '$1')
    .replace(/signature=[0-9a-fA-F]+/g, 'signature=[redacted]');
}

/** Any failure of a Binance call (ccxt exception, our own, anything thrown) → BrokerError. */
export function toBrokerError(e: unknown, ctx: ErrorContext): BrokerError {
  if (isBrokerError(e)) {
    // An unreadable reply to a submit: the order may well be at Binance.
    if (ctx.mutating && e.reason === 'BAD_RESPONSE' && !e.outcomeUnknown)
      return new BrokerError(
        'BAD_RESPONSE',
        scrub(
          `${e.message}; the order may or may not be at Binance: look it up by client order id, do not resend it`,
          ctx.secrets,
          ctx.accountIds,
        ),
        {
          outcomeUnknown: true,
          retryable: false,
          venueCode: e.venueCode,
        },
      );
    return e;
  }
  const name = e instanceof Error ? e.name : '';
  const message = e instanceof Error ? e.message : String(e);
  const lineage = ccxtLineage(name);
  const status = ctx.http?.status;
  let body: z.infer<typeof BinanceErrorBodySchema> | undefined;
  if (ctx.http?.body !== undefined) {
    try {
      const parsed = BinanceErrorBodySchema.safeParse(JSON.parse(ctx.http.body));
      if (parsed.success) body = parsed.data;
    } catch {
      body = undefined;
    }
  }

  let reason: BrokerErrorReason | undefined;
  if (status === 429 || status === 418) reason = 'RATE_LIMITED';
  if (reason === undefined && body) reason = reasonForBinanceCode(body.code, body.msg);
  if (reason === undefined && status !== undefined) {
    if (status >= 500) reason = 'VENUE_UNAVAILABLE';
    else if (status === 401) reason = 'AUTHENTICATION';
    else if (status === 403) reason = 'PERMISSION_DENIED';
  }
  if (reason === undefined) reason = CCXT_REASON.find(([cls]) => lineage.includes(cls))?.[1];
  // Not a ccxt error at all: ccxt tripped over a reply it could not read (a TypeError in its parser).
  if (reason === undefined)
    reason =
      lineage.length > 0
        ? 'INTERNAL'
        : e instanceof TypeError || e instanceof SyntaxError
          ? 'BAD_RESPONSE'
          : 'INTERNAL';

  const notActed =
    status === 429 ||
    status === 418 ||
    (body !== undefined && NOT_ACTED_CODES.has(body.code)) ||
    (status === undefined && body === undefined && NOT_SENT.test(message));
  // Every 5xx, timeout, reset or unreadable reply to a submit or cancel: "the execution status is
  // UNKNOWN and could have been a success" (rest-api.md "HTTP Return Codes").
  const outcomeUnknown = ctx.mutating && UNKNOWN_OUTCOME.has(reason) && !notActed;
  const detail = body
    ? `${body.msg} (Binance code ${body.code}${status !== undefined ? `, HTTP ${status}` : ''})`
    : message;
  const suffix = outcomeUnknown
    ? '; the order may or may not be at Binance: look it up by client order id, do not resend it'
    : notActed
      ? '; Binance did not act on it'
      : '';
  return new BrokerError(
    reason,
    scrub(`Binance ${ctx.operation} failed: ${detail}${suffix}`, ctx.secrets, ctx.accountIds),
    {
      venueCode: body?.code ?? status,
      retryAfterMs: notActed ? retryAfterMs(ctx.http?.retryAfter) : undefined,
      outcomeUnknown,
      notActed,
      // Nothing that may have taken effect is retried blindly; it is reconciled first.
      ...(outcomeUnknown ? { retryable: false } : notActed ? { retryable: true } : {}),
    },
  );
}
