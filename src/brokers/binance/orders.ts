/**
 * Binance spot orders, pure: what Binance spot accepts (capabilities and refusals, readable without an
 * instance), our order → ccxt `createOrder` arguments, order ids, the status table, and Binance's order
 * replies → our orders. Raw shapes: binance-spot-api-docs rest-api.md ("New order", "Query order").
 *
 * Past 450 lines on purpose: what Binance accepts and how its replies read are one table per order type and status,
 * each side checked against the other (a reply is read with the refusals that produced it); split, the two would
 * drift apart.
 */
import { z } from 'zod';
import {
  type Fill,
  type OrderResponse,
  type OrderStatus,
  type OrderType,
  type PlacedOrderRequest,
  type TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError } from '../errors';
import { plainQuantity } from '../orderTracker';
import { decimalString, integerLike, millis, readOrThrow, round } from './wire';

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
  params: {
    newClientOrderId: string;
    timeInForce?: 'GTC' | 'IOC' | 'FOK';
    stopPrice?: number;
    /**
     * A trailing STOP_LOSS: ccxt sends `trailingDelta` = trailingPercent × 100 (BIPS) on a spot market
     * and makes 'market' a STOP_LOSS when told stopLossOrTakeProfit 'stopLoss' (ccxt binance createOrderRequest).
     */
    trailingPercent?: number;
    stopLossOrTakeProfit?: 'stopLoss';
  };
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
  if ((type === 'stop' || type === 'trailing_stop') && tif === 'FOK') return BINANCE_STOP_FOK_REFUSAL;
  const t = order.order_type;
  if (t.type === 'trailing_stop') {
    if (t.trail_bps === undefined) return BINANCE_TRAIL_OFFSET_REFUSAL;
    if (!Number.isInteger(t.trail_bps)) return BINANCE_WHOLE_BPS_REFUSAL;
  }
  return undefined;
}

export const BINANCE_TRAIL_OFFSET_REFUSAL =
  'Binance spot trails by basis points only (trailingDelta, in BIPS), not by a price distance';
export const BINANCE_WHOLE_BPS_REFUSAL = "Binance spot's trailingDelta is a whole number of basis points";

export const BINANCE_GTD_REFUSAL =
  'Binance spot has no GTD time in force (only GTC, IOC and FOK); use GTC and cancel it yourself';
const fokRefusal = (what: string): string =>
  `Binance spot ${what} orders take no time in force and may fill in part, so FOK cannot be honoured; use a limit FOK order`;
export const BINANCE_MARKET_FOK_REFUSAL = fokRefusal('market');
export const BINANCE_STOP_FOK_REFUSAL = fokRefusal('stop (STOP_LOSS)');

/** What `BinanceBroker` accepts (see its header table): the same refusals as `unsupportedOnBinance`, readable without an instance. */
export const BINANCE_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true, trailing_stop: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: false },
  unsupported: [
    { orderType: 'market', timeInForce: 'FOK', reason: BINANCE_MARKET_FOK_REFUSAL },
    { orderType: 'stop', timeInForce: 'FOK', reason: BINANCE_STOP_FOK_REFUSAL },
    { orderType: 'trailing_stop', timeInForce: 'FOK', reason: BINANCE_STOP_FOK_REFUSAL },
    { timeInForce: 'GTD', reason: BINANCE_GTD_REFUSAL },
  ],
  fractionalQuantity: true,
  shortSelling: false,
  cancelReplace: false,
  // binance-spot-api-docs faqs/trailing-stop-faq.md: trailingDelta (BIPS) on STOP_LOSS, STOP_LOSS_LIMIT,
  // TAKE_PROFIT, TAKE_PROFIT_LIMIT; without a stopPrice the trailing starts when the order is placed.
  trailingStop: { byOffset: BINANCE_TRAIL_OFFSET_REFUSAL, byBps: true, wholeBpsOnly: BINANCE_WHOLE_BPS_REFUSAL },
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
    case 'trailing_stop':
      // A STOP_LOSS (market once triggered) with trailingDelta and no stopPrice: it trails from placement.
      return {
        ...base,
        type: 'market',
        price: undefined,
        params: {
          newClientOrderId: order.client_order_id,
          trailingPercent: (t.trail_bps ?? 0) / 100,
          stopLossOrTakeProfit: 'stopLoss',
        },
        binanceType: 'STOP_LOSS',
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

/** What Binance says of an order beside its status (faqs/stp_faq.md; enums.md "Expiry Reasons"). */
export interface StatusDetail {
  origQty?: number | undefined;
  preventedQuantity?: number | undefined;
  /** selfTradePreventionMode */
  mode?: string | undefined;
  expiryReason?: string | undefined;
}

/** Expiry reasons that are the order type's own rules (enums.md "Order status" EXPIRED): the order is `expired`. */
const ORDER_TYPE_RULES: ReadonlySet<string> = new Set([
  'NONE',
  'UNFILLED_IOC_QUANTITY_EXPIRED',
  'UNFILLED_FOK_ORDER_EXPIRED',
  'INSUFFICIENT_LIQUIDITY',
]);
/** The other expiry reasons enums.md lists, said in words. */
const EXPIRY_REASONS: Readonly<Record<string, string>> = {
  EXECUTION_RULE_PRICE_RANGE_EXCEEDED:
    "Binance expired it: it would have traded outside the price range the symbol's Price Range Execution Rule allows around its reference price (GET /api/v3/executionRules, GET /api/v3/referencePrice); send it again priced within that range",
  EXCHANGE_CANCELED: 'Binance cancelled it itself (as it does during maintenance or a liquidation)',
  REJECTED: 'Binance expired it as rejected',
  OCO_TRIGGER: 'the other order of its OCO list traded or triggered, which ends this one',
  OTO_PHASE_ONE_EXPIRED: 'the working order of its OTO list expired, so this pending one did too',
};
const UNKNOWN_EXPIRY =
  'Binance expired it for this reason (enums.md "Expiry Reasons" lists the values known when SPtrader was made)';

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
 * | EXPIRED with an `expiryReason` other than the order type's rules | cancelled, with Binance's reason |
 * | EXPIRED_IN_MATCH   | cancelled, saying self-trade prevention expired it (and how much) |
 * | FILLED with a `preventedQuantity` and less executed than origQty | cancelled after its fills, saying so |
 *
 * Self-trade prevention (faqs/stp_faq.md) expires what would have traded against another order of the same account
 * or trade group: "The order will have the status `EXPIRED_IN_MATCH`", and "API responses for orders which expired
 * due to STP will also have a `preventedQuantity` field". Binance ended the order for a reason of its own, so it is
 * reported as an order the venue cancelled, with that reason (as OANDA's and IB's own cancels are; `expired` carries
 * none). In DECREMENT mode an order can lose part of its quantity to STP and work on: "original order quantity -
 * executed quantity - prevented quantity = quantity available for further execution", and once nothing is available
 * its status is "one of `EXPIRED_IN_MATCH`, `FILLED`, or `EXPIRED`": FILLED then means all that STP left filled, not
 * the order's quantity, and the rest never will.
 *
 * An EXPIRED order says why in `expiryReason` (CHANGELOG 2026-05: "Order query responses may include an
 * `expiryReason` field … returned only for expired orders", and RESULT/FULL order replies since 2026-03; enums.md
 * "Expiry Reasons"). EXPIRED is "canceled according to the order type's rules … or by the exchange": the rules'
 * reasons (an IOC's or FOK's unfilled quantity, a market order's for want of liquidity, NONE) stay `expired`; any
 * other (EXECUTION_RULE_PRICE_RANGE_EXCEEDED: faqs/price_range_execution_rules.md, a taker order "attempts to execute
 * at a price outside of the allowed price range"; EXCHANGE_CANCELED; a reason added later) is Binance ending the
 * order for a reason of its own, reported with it: a GTC limit "expired" with nothing said was all the trader saw.
 */
export function toOrderStatus(status: BinanceStatus, executedQty: number, detail: StatusDetail = {}): OrderStatus {
  const prevented = detail.preventedQuantity ?? 0;
  const how = (): string => {
    const mode = detail.mode !== undefined && detail.mode !== 'NONE' ? ` (mode ${detail.mode})` : '';
    const amount =
      prevented > 0
        ? `${plainQuantity(prevented)} of ${detail.origQty === undefined ? '?' : plainQuantity(detail.origQty)}`
        : 'what was left of it';
    return `Binance's self-trade prevention${mode} expired ${amount}: it would have traded against another order of the same account (or trade group); GET /api/v3/preventedMatches lists the match`;
  };
  switch (status) {
    case 'PENDING_NEW':
      return { status: 'pending' };
    case 'NEW':
    case 'PENDING_CANCEL':
      return { status: 'submitted' };
    case 'PARTIALLY_FILLED':
      return { status: 'partially_filled', filled_qty: executedQty };
    case 'FILLED':
      if (prevented > 0 && detail.origQty !== undefined && executedQty < detail.origQty)
        return { status: 'cancelled', reason: `EXPIRED_IN_MATCH: ${plainQuantity(executedQty)} filled; ${how()}` };
      return { status: 'filled' };
    case 'CANCELED':
      return { status: 'cancelled' };
    case 'REJECTED':
      return { status: 'rejected', reason: 'rejected by Binance' };
    case 'EXPIRED': {
      const why = detail.expiryReason;
      if (why === undefined || ORDER_TYPE_RULES.has(why)) return { status: 'expired' };
      return { status: 'cancelled', reason: `${why}: ${EXPIRY_REASONS[why] ?? UNKNOWN_EXPIRY}` };
    }
    case 'EXPIRED_IN_MATCH':
      return { status: 'cancelled', reason: `EXPIRED_IN_MATCH: ${how()}` };
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
  /** Any text: Binance adds statuses (see `statusOf`). */
  status: z.string().min(1),
  timeInForce: z.string().optional(),
  type: z.string(),
  side: z.enum(['BUY', 'SELL']),
  stopPrice: decimalString.optional(),
  /** A trailing stop's delta in BIPS (present only on trailing orders). */
  trailingDelta: z.number().int().positive().optional(),
  time: millis.optional(),
  updateTime: millis.optional(),
  transactTime: millis.optional(),
  /** -1 while a stop has not triggered. */
  workingTime: z.number().int().optional(),
  fills: z.array(RawFillSchema).optional(),
  /** faqs/stp_faq.md: the quantity self-trade prevention expired over the order's life, and the order's STP mode. */
  preventedQuantity: decimalString.optional(),
  selfTradePreventionMode: z.string().optional(),
  /** enums.md "Expiry Reasons": why an EXPIRED order expired (any text: Binance adds values). */
  expiryReason: z.string().optional(),
});
export type RawOrder = z.infer<typeof RawOrderSchema>;

function orderTypeOf(raw: RawOrder): OrderType {
  const stop = raw.stopPrice ?? 0;
  if (raw.trailingDelta !== undefined && (raw.type === 'STOP_LOSS' || raw.type === 'TAKE_PROFIT'))
    return { type: 'trailing_stop', trail_bps: raw.trailingDelta };
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
  /** The price of one unit of a fee asset (BNB) in the quote asset, when the adapter knows it. */
  feeAssetPrice?: (asset: string) => number | undefined;
  /** When Binance gives no time. */
  now: number;
  /** Told of a status this table does not know (the order is then read by its figures). */
  unknownStatus?: (status: string, orderId: string) => void;
  /**
   * Told of a working order self-trade prevention took part of (DECREMENT: faqs/stp_faq.md, "quantity available for
   * further execution" is origQty - executedQty - preventedQuantity): that part will never fill.
   */
  preventedWhileWorking?: (orderId: string, prevented: number, origQty: number) => void;
}

const KNOWN_STATUSES: ReadonlySet<string> = new Set(BINANCE_STATUS);

/**
 * The status of an order view. Binance adds statuses to its JSON API (CHANGELOG 2023: "New order status:
 * `EXPIRED_IN_MATCH`"; faqs/sbe_faq.md: every SBE enum has a `NON_REPRESENTABLE` variant "used to encode new enum
 * values in the future"); one this table does not know is no reason to drop the order's fills or the rest of a list.
 * Such an order is read by its figures: filled when all of it executed, otherwise still working (partially filled
 * with what executed), and the adapter says so; a later view in a known status ends it.
 */
function statusOf(raw: RawOrder, ctx: OrderContext, orderId: string, detail: StatusDetail): OrderStatus {
  if ((raw.status === 'NEW' || raw.status === 'PARTIALLY_FILLED') && (raw.preventedQuantity ?? 0) > 0)
    ctx.preventedWhileWorking?.(orderId, raw.preventedQuantity as number, raw.origQty);
  if (KNOWN_STATUSES.has(raw.status)) return toOrderStatus(raw.status as BinanceStatus, raw.executedQty, detail);
  ctx.unknownStatus?.(raw.status, orderId);
  if (raw.executedQty > 0 && raw.executedQty >= raw.origQty) return { status: 'filled' };
  return raw.executedQty > 0 ? { status: 'partially_filled', filled_qty: raw.executedQty } : { status: 'submitted' };
}

/**
 * Commission in the quote asset: quote-asset commission as is, base-asset commission (Binance charges
 * a buy's fee in what was bought) at the fill price, any other asset (BNB, with "Using BNB to pay for fees")
 * at the price `feeAssetPrice` gives for it; one it gives none for counts as 0 (the adapter says so).
 */
function commissionInQuote(
  fill: { commission: number; commissionAsset: string; price: number },
  ctx: OrderContext,
): number {
  if (fill.commission === 0) return 0;
  if (ctx.quoteAsset !== undefined && fill.commissionAsset === ctx.quoteAsset) return fill.commission;
  if (ctx.baseAsset !== undefined && fill.commissionAsset === ctx.baseAsset) return round(fill.commission * fill.price);
  const price = ctx.feeAssetPrice?.(fill.commissionAsset);
  return price !== undefined && price > 0 ? round(fill.commission * price) : 0;
}

/** Fee assets other than the symbol's own two that these fills were charged in (to value before parsing). */
export function foreignFeeAssets(
  fills: ReadonlyArray<{ commission: number; commissionAsset: string }>,
  ctx: Pick<OrderContext, 'baseAsset' | 'quoteAsset'>,
): string[] {
  const out = new Set<string>();
  for (const f of fills)
    if (f.commission !== 0 && f.commissionAsset !== ctx.baseAsset && f.commissionAsset !== ctx.quoteAsset)
      out.add(f.commissionAsset);
  return [...out];
}

/**
 * GET /api/v3/myTrades (rest-api.md "Account trade list (USER_DATA)"): one entry per trade of an order, with
 * its commission and commissionAsset, and isMaker. `GET /api/v3/order` lists no fills, so this is where the
 * fills (and fees) of an order that traded after it was placed are read.
 */
export const RawTradeSchema = z.object({
  symbol: z.string().min(1),
  id: integerLike,
  orderId: integerLike,
  price: decimalString,
  qty: decimalString,
  commission: decimalString,
  commissionAsset: z.string(),
  time: millis,
  isMaker: z.boolean().optional(),
});
export type RawTrade = z.infer<typeof RawTradeSchema>;
const TradeListSchema = z.array(z.looseObject({ info: z.unknown() }));

/** The raw trades inside ccxt's fetchMyTrades result (`info` of each). */
export function parseTrades(value: unknown): RawTrade[] {
  return readOrThrow(TradeListSchema, value, 'a list of trades').map((t) =>
    readOrThrow(RawTradeSchema, t.info, 'a trade'),
  );
}

/** An order's trades as its fills (ids as in the submit reply's `fills`: `<symbol>:<tradeId>`). */
export function fillsFromTrades(order: OrderResponse, trades: readonly RawTrade[], ctx: OrderContext): Fill[] {
  const { id } = fromOrderId(order.order_id);
  return trades
    .filter((t) => t.orderId === id && t.symbol === order.symbol && t.qty > 0)
    .map((t) => ({
      fill_id: `${t.symbol}:${t.id}`,
      order_id: order.order_id,
      client_order_id: order.client_order_id,
      symbol: order.symbol,
      side: order.side,
      price: t.price,
      quantity: t.qty,
      commission: commissionInQuote(t, ctx),
      liquidity: t.isMaker === true ? 'maker' : 'taker',
      timestamp: t.time,
    }));
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
    status: statusOf(raw, ctx, orderId, {
      origQty: raw.origQty,
      preventedQuantity: raw.preventedQuantity,
      mode: raw.selfTradePreventionMode,
      expiryReason: raw.expiryReason,
    }),
    filled_price: filled > 0 ? averagePrice(raw, fills, filled) : null,
    filled_quantity: filled > 0 ? filled : null,
    commission: fills.length > 0 ? round(fills.reduce((sum, f) => sum + f.commission, 0)) : null,
    timestamp: updated,
    created_at: created,
    fills,
  };
}

/**
 * The average fill price: cummulativeQuoteQty / executedQty. Binance's "Query order" notes: "For some
 * historical orders cummulativeQuoteQty will be < 0, meaning the data is not available at this time";
 * the fills listed in the reply then give it, else it is unknown (null), never a negative price.
 */
function averagePrice(raw: RawOrder, fills: readonly Fill[], filled: number): number | null {
  if (raw.cummulativeQuoteQty >= 0) return round(raw.cummulativeQuoteQty / filled);
  let quantity = 0;
  let notional = 0;
  for (const f of fills) {
    quantity += f.quantity;
    notional += f.quantity * f.price;
  }
  return quantity > 0 ? round(notional / quantity) : null;
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

/**
 * A list of orders read line by line: each order, or (for a line that cannot be read) its id when it has one and
 * why, so one garbled line does not hide the others from a poll (a reconciliation reads strictly).
 */
export function parseOrderListLines(
  value: unknown,
  ctxOf: (symbol: string) => OrderContext,
): Array<{ order: OrderResponse } | { id: string | undefined; error: unknown }> {
  return readOrThrow(z.array(z.unknown()), value, 'a list of orders').map((line) => {
    try {
      const o = readOrThrow(OrderListSchema.element, line, 'an order in the list');
      return { order: parseOrder(o.info, ctxOf(o.info.symbol)) };
    } catch (error) {
      const info = (line as { info?: { symbol?: unknown; orderId?: unknown } } | null)?.info;
      const id =
        typeof info?.symbol === 'string' && (typeof info.orderId === 'number' || typeof info.orderId === 'string')
          ? toOrderId(info.symbol, String(info.orderId))
          : undefined;
      return { id, error };
    }
  });
}
