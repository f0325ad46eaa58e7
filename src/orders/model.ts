/**
 * The order model of the design (`order-execution-architecture.md` §1.1, §1.2) as zod schemas.
 * Field names follow the design's JSON (snake_case) because that is what Python components,
 * the CLI's `--json` output and the audit log all speak.
 *
 * Past 450 lines on purpose: the schemas and the plain readers beside them (`plainOrderRequest`, `checkOrderRequest`:
 * the copies and checks the engine makes on every order without running zod) must agree field by field, and a field
 * added to one is seen missing from the other only while they stand together.
 */
import { z } from 'zod';
import { CLIENT_ORDER_ID_PATTERN } from '../common/ids';

const finite = (what: string) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a number`) })
    .refine(Number.isFinite, { message: `${what} must be a finite number` });
const positive = (what: string) => finite(what).refine((n) => n > 0, { message: `${what} must be greater than zero` });

export const OrderSideSchema = z.enum(['buy', 'sell']);
export type OrderSide = z.infer<typeof OrderSideSchema>;

export const OrderTypeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('market') }),
  z.object({ type: z.literal('limit'), price: positive('limit price') }),
  z.object({ type: z.literal('stop'), price: positive('stop price') }),
  z.object({ type: z.literal('stop_limit'), stop_price: positive('stop price'), limit_price: positive('limit price') }),
  /**
   * A stop that trails the market by a price distance or by basis points of the best price since it was
   * placed, sent to a venue that has one natively (parent orders choose it: algos/parents.ts); never
   * written by a component directly.
   */
  z
    .object({
      type: z.literal('trailing_stop'),
      trail_offset: positive('trail offset').optional(),
      trail_bps: positive('trail bps').optional(),
    })
    .refine((t) => (t.trail_offset === undefined) !== (t.trail_bps === undefined), {
      message: 'a trailing stop trails by exactly one of trail_offset or trail_bps',
    }),
]);
export type OrderType = z.infer<typeof OrderTypeSchema>;
export type OrderTypeName = OrderType['type'];
/** The types a component writes and every venue is checked for (a trailing stop comes only from a parent order). */
export type PlainOrderTypeName = Exclude<OrderTypeName, 'trailing_stop'>;
export const ORDER_TYPE_NAMES: readonly PlainOrderTypeName[] = ['market', 'limit', 'stop', 'stop_limit'];

export const TimeInForceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('GTC') }),
  z.object({ type: z.literal('IOC') }),
  z.object({ type: z.literal('FOK') }),
  /** `expires_at` is milliseconds since the Unix epoch. */
  z.object({ type: z.literal('GTD'), expires_at: z.number().int().positive() }),
]);
export type TimeInForce = z.infer<typeof TimeInForceSchema>;
export type TimeInForceName = TimeInForce['type'];
export const TIME_IN_FORCE_NAMES: readonly TimeInForceName[] = ['GTC', 'IOC', 'FOK', 'GTD'];

export const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._\-/:]{0,31}$/;

/**
 * Why `symbol` is not one (SYMBOL_PATTERN), in words a person can act on, or undefined when it is. The symbol is
 * shown with anything but printable ASCII escaped, so that a control character (a terminal escape) or a look-alike
 * letter (Cyrillic "Е" in "ЕUR_USD") is visible in the message instead of acting or passing for the real one.
 */
export function symbolProblem(symbol: string): string | undefined {
  if (SYMBOL_PATTERN.test(symbol)) return undefined;
  const shown = escapedSymbol(symbol);
  const odd = /[^\x20-\x7e]/.exec(symbol);
  const why =
    symbol === ''
      ? 'it is empty'
      : odd !== null
        ? `it has ${odd[0].charCodeAt(0) < 0x20 || odd[0] === '\x7f' ? 'a control character' : `the character U+${(odd[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}, which is not ASCII (a look-alike of a Latin letter?)`} at position ${odd.index + 1}`
        : symbol.length > 32
          ? `it is ${symbol.length} characters long`
          : 'it has a character other than letters, digits and . _ - / : (or does not start with a letter or digit)';
  return `${shown} is not a symbol: ${why}; a symbol is 1–32 letters, digits or . _ - / : (for example EUR_USD, AAPL, BTC/USDT)`;
}

/** A symbol as a message shows it: quoted, cut at 40 characters, anything but printable ASCII as a \\u escape. */
export function escapedSymbol(symbol: string): string {
  return JSON.stringify(symbol.length > 40 ? `${symbol.slice(0, 40)}…` : symbol).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * One value of an order's metadata: a component's numbers and booleans stay numbers and booleans (a
 * `spread_pips` of 1.2 is read back as 1.2, not "1.2"); a nested dict or list is kept as its JSON text.
 */
export const MetadataValueSchema = z.union([z.string(), z.number().refine(Number.isFinite), z.boolean()]);
export type MetadataValue = z.infer<typeof MetadataValueSchema>;

export const OrderRequestSchema = z.object({
  symbol: z
    .string()
    .regex(SYMBOL_PATTERN, 'symbol must be 1–32 letters, digits or . _ - / : (for example EUR_USD, AAPL, BTCUSDT)'),
  side: OrderSideSchema,
  order_type: OrderTypeSchema,
  quantity: positive('quantity'),
  time_in_force: TimeInForceSchema,
  client_order_id: z
    .string()
    .regex(CLIENT_ORDER_ID_PATTERN, 'client_order_id must be 1–36 characters of A–Z a–z 0–9 . _ : / -')
    .optional(),
  metadata: z.record(z.string(), MetadataValueSchema),
});
export type OrderRequest = z.infer<typeof OrderRequestSchema>;
/** An order on its way to a venue always carries the id that makes resubmission safe. */
export type PlacedOrderRequest = OrderRequest & { client_order_id: string };

export const OrderStatusSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('pending') }),
  z.object({ status: z.literal('submitted') }),
  z.object({ status: z.literal('partially_filled'), filled_qty: z.number().nonnegative() }),
  z.object({ status: z.literal('filled') }),
  /** `reason`: the venue's own, when the venue cancelled the order itself (never set for a cancel we asked for). */
  z.object({ status: z.literal('cancelled'), reason: z.string().optional() }),
  z.object({ status: z.literal('rejected'), reason: z.string() }),
  z.object({ status: z.literal('expired') }),
]);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;
export type OrderStatusName = OrderStatus['status'];
export const FINAL_STATUSES: ReadonlySet<OrderStatusName> = new Set(['filled', 'cancelled', 'rejected', 'expired']);
export const isFinalStatus = (s: OrderStatus): boolean => FINAL_STATUSES.has(s.status);

export const FillSchema = z.object({
  fill_id: z.string(),
  order_id: z.string(),
  client_order_id: z.string(),
  symbol: z.string(),
  side: OrderSideSchema,
  price: z.number(),
  quantity: z.number().positive(),
  commission: z.number(),
  liquidity: z.enum(['maker', 'taker']),
  timestamp: z.number(),
});
export type Fill = z.infer<typeof FillSchema>;

export const OrderResponseSchema = z.object({
  order_id: z.string(),
  client_order_id: z.string(),
  symbol: z.string(),
  side: OrderSideSchema,
  order_type: OrderTypeSchema,
  time_in_force: TimeInForceSchema,
  quantity: z.number(),
  status: OrderStatusSchema,
  /** Volume-weighted average fill price, or null before the first fill. */
  filled_price: z.number().nullable(),
  filled_quantity: z.number().nullable(),
  commission: z.number().nullable(),
  /** Time of the last change, milliseconds since the Unix epoch. */
  timestamp: z.number(),
  created_at: z.number(),
  fills: z.array(FillSchema),
});
export type OrderResponse = z.infer<typeof OrderResponseSchema>;

export const PositionSchema = z.object({
  symbol: z.string(),
  quantity: z.number(),
  average_price: z.number(),
  current_price: z.number(),
  unrealized_pnl: z.number(),
});
export type Position = z.infer<typeof PositionSchema>;

export const AccountInfoSchema = z.object({
  account_id: z.string(),
  balance: z.number(),
  equity: z.number(),
  buying_power: z.number(),
  currency: z.string(),
  open_positions: z.array(PositionSchema),
});
export type AccountInfo = z.infer<typeof AccountInfoSchema>;

export const QuoteSchema = z.object({
  symbol: z.string(),
  bid: z.number().positive(),
  ask: z.number().positive(),
  last: z.number().positive(),
  bid_size: z.number().nonnegative(),
  ask_size: z.number().nonnegative(),
  timestamp: z.number(),
  /**
   * Not the venue's live touch: its delayed market data (IB's, for an account without a live subscription: some 15
   * minutes behind; Alpaca's `delayed_sip` feed), or a stale quote (src/brokers/quoteFreshness.ts). Absent: live.
   */
  delayed: z.literal(true).optional(),
  /**
   * Why a `delayed` quote is not the live price, in the venue's terms (src/brokers/quoteFreshness.ts: Alpaca's
   * delayed feed, OANDA's `tradeable: false`, a quote older than a minute). Absent on IB's delayed ticks: some 15
   * minutes behind, no live subscription.
   */
  delayed_reason: z.string().optional(),
});
export type Quote = z.infer<typeof QuoteSchema>;

/** Human form of an order type, e.g. "limit 1.08450". */
export function describeOrderType(t: OrderType): string {
  switch (t.type) {
    case 'market':
      return 'market';
    case 'limit':
      return `limit ${t.price}`;
    case 'stop':
      return `stop ${t.price}`;
    case 'stop_limit':
      return `stop ${t.stop_price} limit ${t.limit_price}`;
    case 'trailing_stop':
      return `trailing stop ${t.trail_offset ?? `${t.trail_bps} bps`}`;
  }
}

export function describeTimeInForce(t: TimeInForce): string {
  return t.type === 'GTD' ? `GTD until ${new Date(t.expires_at).toISOString()}` : t.type;
}

export function describeStatus(s: OrderStatus): string {
  switch (s.status) {
    case 'partially_filled':
      return `PARTIALLY FILLED (${s.filled_qty})`;
    case 'rejected':
      return `REJECTED: ${s.reason}`;
    default:
      return s.status.toUpperCase();
  }
}

/** What a venue requires of prices and quantities for one symbol. */
export const InstrumentKindSchema = z.enum(['fx', 'equity', 'crypto', 'other']);
export type InstrumentKind = z.infer<typeof InstrumentKindSchema>;

export const InstrumentRulesSchema = z.object({
  symbol: z.string(),
  kind: InstrumentKindSchema,
  tickSize: z.number().positive(),
  lotSize: z.number().positive(),
  minQuantity: z.number().nonnegative(),
  quoteCurrency: z.string(),
  /** The unit traders quote slippage in: a pip for FX (0.0001, 0.01 for JPY pairs), else the tick. */
  pipSize: z.number().positive(),
});
export type InstrumentRules = z.infer<typeof InstrumentRulesSchema>;

/** A copy of an order request that shares nothing with it (plain JSON data; faster than structuredClone). */
// Orders that passed OrderRequestSchema and cannot change any more (frozen, down to the parts the
// schema reads): the engine's SubmitOrder is deep-frozen, so the venue it goes to need not parse it again.
const validFrozenOrders = new WeakSet<object>();

/** The parts the schema reads below the top (order type, time in force, metadata when present) cannot change. */
export function frozenOrderParts(o: object): boolean {
  const r = o as Record<string, unknown>;
  return (
    Object.isFrozen(r['order_type']) &&
    Object.isFrozen(r['time_in_force']) &&
    (r['metadata'] === undefined || Object.isFrozen(r['metadata']))
  );
}

const frozenOrder = (o: object): boolean => Object.isFrozen(o) && frozenOrderParts(o);

// ---- The common order, checked without the schema ---------------------------------------------------
// zod takes ~1.5 µs for an order, this check ~1 µs, and normalisation keeps the order it checked instead of
// the parse's copy; the orders components and callers send are plain objects of the schema's own fields. `plainOrderRequest` answers for those only,
// and only "yes": whatever it does not recognise goes to the schema, which has the words for what is
// wrong. test/unit/orders/plainOrder.test.ts checks against the schema that a "yes" is always the
// schema's yes, and that the schema's output is then the order itself, field for field.

const isPlainRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const positiveFinite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
/** Every enumerable key of `o` (a plain record) is one of `allowed`. */
function onlyKeys(o: Record<string, unknown>, allowed: readonly string[]): boolean {
  // for-in rather than Object.keys: no array per object. `o` is a plain record (Object.prototype), so it sees
  // the own enumerable keys, plus any enumerable key someone added to Object.prototype (then "no": the schema decides).
  for (const k in o) if (!allowed.includes(k)) return false;
  return true;
}
/** Every enumerable key of `o` (a plain record) is one of an order's own fields: `onlyKeys` spelled out for the hot path. */
function onlyOrderKeys(o: Record<string, unknown>): boolean {
  for (const k in o)
    switch (k) {
      case 'symbol':
      case 'side':
      case 'order_type':
      case 'quantity':
      case 'time_in_force':
      case 'client_order_id':
      case 'metadata':
        continue;
      default:
        return false;
    }
  return true;
}
const TYPE_ONLY = ['type'];
const TYPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  market: TYPE_ONLY,
  limit: ['type', 'price'],
  stop: ['type', 'price'],
  stop_limit: ['type', 'stop_price', 'limit_price'],
  trailing_stop: ['type', 'trail_offset', 'trail_bps'],
};

function plainOrderType(t: unknown): boolean {
  if (!isPlainRecord(t)) return false;
  const keys =
    typeof t['type'] === 'string' && Object.prototype.hasOwnProperty.call(TYPE_KEYS, t['type'])
      ? TYPE_KEYS[t['type']]
      : undefined;
  if (keys === undefined || !onlyKeys(t, keys)) return false;
  switch (t['type']) {
    case 'market':
      return true;
    case 'limit':
    case 'stop':
      return positiveFinite(t['price']);
    case 'stop_limit':
      return positiveFinite(t['stop_price']) && positiveFinite(t['limit_price']);
    default: {
      const offset = t['trail_offset'];
      const bps = t['trail_bps'];
      return offset === undefined ? positiveFinite(bps) : bps === undefined && positiveFinite(offset);
    }
  }
}

function plainTimeInForce(t: unknown): boolean {
  if (!isPlainRecord(t)) return false;
  const type = t['type'];
  if (type === 'GTC' || type === 'IOC' || type === 'FOK') return onlyKeys(t, TYPE_ONLY);
  if (type !== 'GTD' || !onlyKeys(t, ['type', 'expires_at'])) return false;
  const expires = t['expires_at'];
  return typeof expires === 'number' && Number.isSafeInteger(expires) && expires > 0;
}

function plainMetadata(m: unknown): boolean {
  if (!isPlainRecord(m) || Object.getOwnPropertySymbols(m).length > 0) return false;
  for (const k in m) {
    // The schema leaves a "__proto__" key out of what it returns: the order would not be the same.
    if (k === '__proto__' || !Object.prototype.hasOwnProperty.call(m, k)) return false;
    const v = m[k];
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return false;
  }
  return true;
}

/**
 * True only for an order OrderRequestSchema accepts whose parse would return the same fields and values
 * (plain objects of the schema's own fields); false means "ask the schema" (it may still be valid).
 */
export function plainOrderRequest(o: unknown): boolean {
  if (!isPlainRecord(o) || !onlyOrderKeys(o)) return false;
  const symbol = o['symbol'];
  const side = o['side'];
  const id = o['client_order_id'];
  return (
    typeof symbol === 'string' &&
    SYMBOL_PATTERN.test(symbol) &&
    (side === 'buy' || side === 'sell') &&
    positiveFinite(o['quantity']) &&
    (id === undefined || (typeof id === 'string' && CLIENT_ORDER_ID_PATTERN.test(id))) &&
    plainOrderType(o['order_type']) &&
    plainTimeInForce(o['time_in_force']) &&
    plainMetadata(o['metadata'])
  );
}

/** Whether `order` is a frozen order known to have passed the checks (answered from memory, nothing checked). */
export function knownValidOrder(order: unknown): boolean {
  return typeof order === 'object' && order !== null && validFrozenOrders.has(order) && frozenOrder(order);
}

/** `OrderRequestSchema.safeParse`, answered from memory for a frozen order that already passed it. */
export function checkOrderRequest(order: unknown): { success: true } | { success: false; error: z.ZodError } {
  if (knownValidOrder(order)) return { success: true };
  if (plainOrderRequest(order)) {
    if (frozenOrder(order as object)) validFrozenOrders.add(order as object);
    return { success: true };
  }
  const parsed = OrderRequestSchema.safeParse(order);
  if (!parsed.success) return { success: false, error: parsed.error };
  if (typeof order === 'object' && order !== null && frozenOrder(order)) validFrozenOrders.add(order);
  return { success: true };
}

/**
 * What OrderRequestSchema has just produced, frozen (down to the parts the schema reads) and remembered as
 * valid: an order is validated once, at normalisation, and the engine's and the venue's checks answer from
 * memory (issue 13). Only for the schema's own output, which nothing else holds yet.
 */
export function freezeValidated<T extends OrderRequest>(parsed: T): T {
  Object.freeze(parsed.order_type);
  Object.freeze(parsed.time_in_force);
  Object.freeze(parsed.metadata);
  Object.freeze(parsed);
  validFrozenOrders.add(parsed);
  return parsed;
}

/**
 * `copy` (frozen), cloned from an order known valid with only its client order id set, is valid too when
 * that id is one the schema takes: a SubmitOrder built from a normalised order is not parsed again.
 */
export function carryValidity(source: object, copy: PlacedOrderRequest): void {
  if (
    validFrozenOrders.has(source) &&
    frozenOrder(source) &&
    frozenOrder(copy) &&
    CLIENT_ORDER_ID_PATTERN.test(copy.client_order_id)
  )
    validFrozenOrders.add(copy);
}

/** An order request the caller may keep: the order itself when it is frozen down to its parts (it cannot change), else a copy. */
export function keepableOrderRequest<T extends OrderRequest>(o: T): T {
  return frozenOrder(o) ? o : cloneOrderRequest(o);
}

export function cloneOrderRequest<T extends OrderRequest>(o: T): T {
  return { ...o, order_type: { ...o.order_type }, time_in_force: { ...o.time_in_force }, metadata: { ...o.metadata } };
}

export function cloneFill(f: Fill): Fill {
  return { ...f };
}

/** A venue's refusal of an order it made nothing of: the request echoed back as `rejected`, with why. */
export function rejectedOrderResponse(
  request: PlacedOrderRequest,
  orderId: string,
  reason: string,
  at: number,
): OrderResponse {
  return {
    order_id: orderId,
    client_order_id: request.client_order_id,
    symbol: request.symbol,
    side: request.side,
    order_type: request.order_type,
    time_in_force: request.time_in_force,
    quantity: request.quantity,
    status: { status: 'rejected', reason },
    filled_price: null,
    filled_quantity: null,
    commission: null,
    timestamp: at,
    created_at: at,
    fills: [],
  };
}

/** A copy of a venue response that shares nothing with it. */
export function cloneOrderResponse(r: OrderResponse): OrderResponse {
  return {
    ...r,
    order_type: { ...r.order_type },
    time_in_force: { ...r.time_in_force },
    status: { ...r.status },
    fills: r.fills.map(cloneFill),
  };
}
