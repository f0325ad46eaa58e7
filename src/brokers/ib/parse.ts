/**
 * Pure translation between our order model and the TWS API's Contract/Order/events (no I/O, no
 * `@stoqey/ib` at run time: the shapes below are structural copies of its `Contract` and `Order`).
 *
 * Symbols (our spelling → IB contract):
 * | ours                                  | secType | symbol / currency      | exchange | notes                                         |
 * |---------------------------------------|---------|------------------------|----------|-----------------------------------------------|
 * | `EUR_USD`, `EUR/USD`, `EURUSD`         | CASH    | EUR / USD              | IDEALPRO | localSymbol `EUR.USD`                         |
 * | `BTCUSD`, `BTC_USD`, `BTC/USD`         | CRYPTO  | BTC / USD              | PAXOS    | IB crypto is quoted in USD only (no USDT)     |
 * | `AAPL`, `BRK.B`                        | STK     | AAPL, `BRK B` / USD    | SMART    | US stocks only; a class dot becomes a space   |
 *
 * Statuses (IB → ours): `ApiPending`, `PendingSubmit` → pending; `PreSubmitted`, `Submitted`,
 * `PendingCancel` → submitted (partially_filled once `filled > 0`); `Filled` → filled; `Cancelled`,
 * `ApiCancelled` → cancelled, or expired for a GTD order cancelled at/after its expiry (IB has no
 * distinct expiry status); `Inactive` → rejected with the last error's text.
 */
import {
  type AccountInfo,
  type Fill,
  type OrderRequest,
  type OrderResponse,
  type OrderStatus,
  type OrderType,
  type PlacedOrderRequest,
  type Position,
  type Quote,
  type TimeInForce,
} from '../../orders/model';
import type { BrokerCapabilities } from '../broker';
import { BrokerError, type BrokerErrorReason } from '../errors';
import { synthesisedFillId } from '../orderTracker';

/** What `IbBroker` accepts: every type × TIF (see its header); a constant so the broker registry reads it without an instance. */
export const IB_CAPABILITIES: BrokerCapabilities = Object.freeze<BrokerCapabilities>({
  orderTypes: { market: true, limit: true, stop: true, stop_limit: true },
  timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
  fractionalQuantity: false,
  shortSelling: true,
  cancelReplace: false,
});

/** The fields of `@stoqey/ib`'s `Contract` we use. */
export interface IbContract {
  conId?: number;
  symbol?: string;
  secType?: string;
  exchange?: string;
  primaryExch?: string;
  currency?: string;
  localSymbol?: string;
  multiplier?: number;
}

/** The fields of `@stoqey/ib`'s `Order` we use. */
export interface IbOrder {
  orderId?: number;
  action?: string;
  totalQuantity?: number;
  orderType?: string;
  lmtPrice?: number;
  auxPrice?: number;
  tif?: string;
  goodTillDate?: string;
  orderRef?: string;
  transmit?: boolean;
  outsideRth?: boolean;
}

export type IbStatus =
  | 'ApiPending'
  | 'PendingSubmit'
  | 'PreSubmitted'
  | 'Submitted'
  | 'PendingCancel'
  | 'Filled'
  | 'Cancelled'
  | 'ApiCancelled'
  | 'Inactive'
  | 'Unknown';

export const IB_STATUSES: ReadonlySet<string> = new Set<IbStatus>([
  'ApiPending',
  'PendingSubmit',
  'PreSubmitted',
  'Submitted',
  'PendingCancel',
  'Filled',
  'Cancelled',
  'ApiCancelled',
  'Inactive',
  'Unknown',
]);

export type InstrumentKind = 'fx' | 'equity' | 'crypto';

/** Cryptocurrencies IB trades through PAXOS (all against USD). */
const PAXOS_COINS: ReadonlySet<string> = new Set([
  'BTC',
  'ETH',
  'LTC',
  'BCH',
  'SOL',
  'AVAX',
  'LINK',
  'DOGE',
  'ADA',
  'XRP',
  'MATIC',
  'UNI',
  'AAVE',
  'COMP',
]);
/** ISO codes IDEALPRO quotes. */
const FX_CODES: ReadonlySet<string> = new Set([
  'EUR',
  'USD',
  'GBP',
  'JPY',
  'CHF',
  'AUD',
  'NZD',
  'CAD',
  'SEK',
  'NOK',
  'DKK',
  'HKD',
  'SGD',
  'MXN',
  'ZAR',
  'PLN',
  'CZK',
  'HUF',
  'TRY',
  'CNH',
  'ILS',
]);

export interface ResolvedSymbol {
  kind: InstrumentKind;
  contract: IbContract;
}

/** Our symbol → an IB contract. Throws UNKNOWN_SYMBOL for what IB cannot route from a bare symbol. */
export function contractFor(symbol: string): ResolvedSymbol {
  const s = symbol.trim().toUpperCase();
  const pair = /^([A-Z]{3,5})[_/.]([A-Z]{3,4})$/.exec(s) ?? /^([A-Z]{3,5})(USD|USDT|USDC)$/.exec(s);
  if (pair) {
    const base = pair[1] ?? '';
    const quote = pair[2] ?? '';
    if (PAXOS_COINS.has(base)) {
      if (quote !== 'USD')
        throw new BrokerError(
          'UNKNOWN_SYMBOL',
          `IB trades ${base} against USD only (PAXOS), not ${quote}: use ${base}USD`,
        );
      return { kind: 'crypto', contract: { symbol: base, secType: 'CRYPTO', exchange: 'PAXOS', currency: 'USD' } };
    }
  }
  const fx = /^([A-Z]{3})[_/.]?([A-Z]{3})$/.exec(s);
  if (fx && FX_CODES.has(fx[1] ?? '') && FX_CODES.has(fx[2] ?? '') && fx[1] !== fx[2]) {
    const [, base, quote] = fx as unknown as [string, string, string];
    return {
      kind: 'fx',
      contract: {
        symbol: base,
        secType: 'CASH',
        exchange: 'IDEALPRO',
        currency: quote,
        localSymbol: `${base}.${quote}`,
      },
    };
  }
  if (/^[A-Z][A-Z0-9]{0,5}(\.[A-Z])?$/.test(s)) {
    return {
      kind: 'equity',
      contract: { symbol: s.replace('.', ' '), secType: 'STK', exchange: 'SMART', currency: 'USD' },
    };
  }
  throw new BrokerError(
    'UNKNOWN_SYMBOL',
    `IB: cannot map symbol ${symbol} to a contract (use EUR_USD for FX, AAPL for US stocks, BTCUSD for crypto)`,
  );
}

/** An IB contract → our symbol (the inverse of `contractFor`). */
export function symbolOf(contract: IbContract): string {
  const symbol = (contract.symbol ?? '').toUpperCase();
  const currency = (contract.currency ?? '').toUpperCase();
  switch (contract.secType) {
    case 'CASH':
      return `${symbol}_${currency}`;
    case 'CRYPTO':
      return `${symbol}${currency}`;
    case 'STK':
      return symbol.replace(' ', '.');
    default:
      return contract.localSymbol || symbol;
  }
}

/** Milliseconds since the epoch → IB's `goodTillDate`, "yyyyMMdd HH:mm:ss UTC". */
export function formatGoodTillDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}

/** "yyyyMMdd HH:mm:ss UTC" (or without zone: read as UTC) → ms, or undefined. */
export function parseGoodTillDate(text: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})[ -](\d{2}):(\d{2}):(\d{2})(?: (?:UTC|GMT|Etc\/UTC))?$/.exec((text ?? '').trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Our order → IB order fields. Throws INVALID_ORDER for what IB would refuse for this instrument. */
export function orderFor(request: PlacedOrderRequest, kind: InstrumentKind): IbOrder {
  if (kind !== 'crypto' && !Number.isInteger(request.quantity))
    throw new BrokerError(
      'INVALID_ORDER',
      `IB: fractional quantity ${request.quantity} is not accepted through the API for ${kind === 'fx' ? 'FX' : 'stocks'}`,
    );
  const order: IbOrder = {
    action: request.side === 'buy' ? 'BUY' : 'SELL',
    totalQuantity: request.quantity,
    orderRef: request.client_order_id,
    transmit: true,
    outsideRth: false,
    ...typeFields(request.order_type),
    tif: request.time_in_force.type,
  };
  if (request.time_in_force.type === 'GTD') order.goodTillDate = formatGoodTillDate(request.time_in_force.expires_at);
  return order;
}

function typeFields(t: OrderType): Pick<IbOrder, 'orderType' | 'lmtPrice' | 'auxPrice'> {
  switch (t.type) {
    case 'market':
      return { orderType: 'MKT' };
    case 'limit':
      return { orderType: 'LMT', lmtPrice: t.price };
    case 'stop':
      return { orderType: 'STP', auxPrice: t.price };
    case 'stop_limit':
      return { orderType: 'STP LMT', lmtPrice: t.limit_price, auxPrice: t.stop_price };
  }
}

/** An order reported by `openOrder` → our request (for orders adopted during reconciliation), or undefined when it is not ours to read. */
export function requestFromIb(contract: IbContract, order: IbOrder): PlacedOrderRequest | undefined {
  const side = order.action === 'BUY' ? 'buy' : order.action === 'SELL' ? 'sell' : undefined;
  const quantity = order.totalQuantity;
  if (!side || !order.orderRef || quantity === undefined || !(quantity > 0)) return undefined;
  const price = (n: number | undefined) =>
    n !== undefined && Number.isFinite(n) && n > 0 && n < Number.MAX_VALUE ? n : undefined;
  const lmt = price(order.lmtPrice);
  const aux = price(order.auxPrice);
  let orderType: OrderType;
  if (order.orderType === 'MKT') orderType = { type: 'market' };
  else if (order.orderType === 'LMT' && lmt !== undefined) orderType = { type: 'limit', price: lmt };
  else if (order.orderType === 'STP' && aux !== undefined) orderType = { type: 'stop', price: aux };
  else if (order.orderType === 'STP LMT' && lmt !== undefined && aux !== undefined)
    orderType = { type: 'stop_limit', stop_price: aux, limit_price: lmt };
  else return undefined;
  let tif: TimeInForce;
  const gtd = parseGoodTillDate(order.goodTillDate);
  if (order.tif === 'GTD' && gtd !== undefined) tif = { type: 'GTD', expires_at: gtd };
  else if (order.tif === 'IOC' || order.tif === 'FOK') tif = { type: order.tif };
  else tif = { type: 'GTC' };
  return {
    symbol: symbolOf(contract),
    side,
    order_type: orderType,
    quantity,
    time_in_force: tif,
    client_order_id: order.orderRef,
    metadata: {},
  };
}

export interface IbStatusReport {
  status: string;
  filled: number | undefined;
  remaining: number | undefined;
  avgFillPrice: number | undefined;
  lastFillPrice?: number | undefined;
}

/** Whether an `orderStatus` event can be trusted: a known status and finite, non-negative numbers. */
export function validStatusReport(r: IbStatusReport): string | undefined {
  if (!IB_STATUSES.has(r.status)) return `unknown order status "${r.status}"`;
  for (const [name, v] of [
    ['filled', r.filled],
    ['remaining', r.remaining],
    ['avgFillPrice', r.avgFillPrice],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) return `${name} is not a number (${String(v)})`;
  }
  return undefined;
}

/** IB status (+ fill counts) → ours. `now` decides whether a cancelled GTD order expired. */
export function statusFromIb(
  status: string,
  filled: number,
  request: OrderRequest,
  now: number,
  rejectReason?: string,
): OrderStatus {
  switch (status) {
    case 'ApiPending':
    case 'PendingSubmit':
    case 'Unknown':
      return { status: 'pending' };
    case 'PreSubmitted':
    case 'Submitted':
    case 'PendingCancel':
      return filled > 0 ? { status: 'partially_filled', filled_qty: filled } : { status: 'submitted' };
    case 'Filled':
      return { status: 'filled' };
    case 'Cancelled':
    case 'ApiCancelled':
      return request.time_in_force.type === 'GTD' && now >= request.time_in_force.expires_at
        ? { status: 'expired' }
        : { status: 'cancelled' };
    case 'Inactive':
      return { status: 'rejected', reason: rejectReason ?? 'IB marked the order Inactive' };
    default:
      throw new BrokerError('BAD_RESPONSE', `IB sent an unknown order status "${status}"`);
  }
}

/** What an IB error code means for us. */
export type IbErrorMeaning =
  /** The venue refused the order: a `rejected` status with this text, not an exception. */
  | { kind: 'reject' }
  /** Confirms a cancel (202). */
  | { kind: 'cancelled' }
  /** A warning or notice (market data farm OK, order message…): nothing to do. */
  | { kind: 'info' }
  /** A failure of the request (or of the connection) that callers decide on by reason. */
  | { kind: 'error'; reason: BrokerErrorReason; retryable?: boolean; connection?: boolean };

/**
 * IB error codes (TWS API "Message Codes") → meaning. Unlisted codes below 2100 for an order id are
 * order rejections (IB follows most with `Inactive`), codes 2100–2199 are warnings.
 * | code              | meaning                                                      | ours                               |
 * |-------------------|--------------------------------------------------------------|------------------------------------|
 * | 100               | max rate of messages per second exceeded                     | RATE_LIMITED (retryable)           |
 * | 103               | duplicate order id                                           | DUPLICATE_CLIENT_ORDER_ID          |
 * | 104, 105, 110, 321, 10243 | modify a filled order, mismatch, price off tick, invalid request, fractional | INVALID_ORDER |
 * | 135, 10147        | order id not found (cancel)                                  | ORDER_NOT_FOUND                    |
 * | 161, 10148        | cancel of an order not cancellable (filled, already cancelled) | INVALID_ORDER                    |
 * | 200               | no security definition found                                 | UNKNOWN_SYMBOL                     |
 * | 201               | order rejected - reason:…                                    | rejected status with the reason    |
 * | 202               | order cancelled                                              | cancel confirmation                |
 * | 203, 460, 354     | no permission for the security / no market data subscription | PERMISSION_DENIED                  |
 * | 326               | client id already in use                                     | AUTHENTICATION (pick another id)   |
 * | 502, 1300         | could not connect / socket port reset                        | NETWORK (connection)               |
 * | 504               | not connected                                                | NOT_CONNECTED (connection)         |
 * | 1100, 2110        | connectivity between TWS and IB lost                         | NETWORK (retryable)                |
 * | 505, 507, 508     | decoding failure, bad length, bad message                    | BAD_RESPONSE                       |
 * | 1101, 1102, 399, 2100–2199, 10167 | restored / order warning / farm notices / delayed data | info              |
 */
export function errorMeaning(code: number): IbErrorMeaning {
  switch (code) {
    case 100:
      return { kind: 'error', reason: 'RATE_LIMITED', retryable: true };
    case 103:
      return { kind: 'error', reason: 'DUPLICATE_CLIENT_ORDER_ID', retryable: false };
    case 104:
    case 105:
    case 110:
    case 321:
    case 161:
    case 10148:
    case 10243:
      return { kind: 'error', reason: 'INVALID_ORDER', retryable: false };
    case 135:
    case 10147:
      return { kind: 'error', reason: 'ORDER_NOT_FOUND', retryable: false };
    case 200:
      return { kind: 'error', reason: 'UNKNOWN_SYMBOL', retryable: false };
    case 201:
      return { kind: 'reject' };
    case 202:
      return { kind: 'cancelled' };
    case 203:
    case 460:
    case 354:
      return { kind: 'error', reason: 'PERMISSION_DENIED', retryable: false };
    case 326:
      return { kind: 'error', reason: 'AUTHENTICATION', retryable: false, connection: true };
    case 502:
    case 1300:
      return { kind: 'error', reason: 'NETWORK', retryable: true, connection: true };
    case 504:
      return { kind: 'error', reason: 'NOT_CONNECTED', retryable: true, connection: true };
    case 1100:
    case 2110:
      return { kind: 'error', reason: 'NETWORK', retryable: true };
    case 505:
    case 507:
    case 508:
      return { kind: 'error', reason: 'BAD_RESPONSE', retryable: false };
    case 1101:
    case 1102:
    case 399:
    case 10167:
      return { kind: 'info' };
    default:
      if (code >= 2100 && code < 2200) return { kind: 'info' };
      return { kind: 'reject' };
  }
}

/** The BrokerError for an IB error code the table calls an error. */
export function brokerErrorFor(code: number, message: string, extra: { outcomeUnknown?: boolean } = {}): BrokerError {
  const meaning = errorMeaning(code);
  const reason: BrokerErrorReason = meaning.kind === 'error' ? meaning.reason : 'INVALID_ORDER';
  const retryable = meaning.kind === 'error' ? meaning.retryable : false;
  return new BrokerError(reason, `IB error ${code}: ${message}`, {
    venueCode: code,
    ...(retryable === undefined ? {} : { retryable }),
    ...(reason === 'RATE_LIMITED' ? { retryAfterMs: 1000 } : {}),
    ...(extra.outcomeUnknown === undefined ? {} : { outcomeUnknown: extra.outcomeUnknown }),
  });
}

/** The registry's view of one order, as our response. */
export interface RegistryView {
  orderId: number;
  request: PlacedOrderRequest;
  ibStatus: string | undefined;
  filled: number;
  avgFillPrice: number | null;
  rejectReason: string | undefined;
  fills: Fill[];
  createdAt: number;
  updatedAt: number;
}

export function responseOf(view: RegistryView, now: number): OrderResponse {
  const r = view.request;
  const status: OrderStatus =
    view.rejectReason !== undefined && (view.ibStatus === undefined || view.ibStatus === 'Inactive')
      ? { status: 'rejected', reason: view.rejectReason }
      : statusFromIb(view.ibStatus ?? 'PendingSubmit', view.filled, r, now, view.rejectReason);
  return {
    order_id: String(view.orderId),
    client_order_id: r.client_order_id,
    symbol: r.symbol,
    side: r.side,
    order_type: r.order_type,
    time_in_force: r.time_in_force,
    quantity: r.quantity,
    status,
    filled_price: view.filled > 0 ? view.avgFillPrice : null,
    filled_quantity: view.filled > 0 ? view.filled : null,
    commission: null,
    timestamp: view.updatedAt,
    created_at: view.createdAt,
    fills: view.fills.slice(),
  };
}

/**
 * The fill implied by a status update: IB reports cumulative `filled` and `avgFillPrice`, so a new
 * fill is the increase in `filled`, priced so the running VWAP matches (or at `lastFillPrice`).
 */
export function fillFromStatus(
  view: RegistryView,
  filled: number,
  avgFillPrice: number,
  lastFillPrice: number | undefined,
  now: number,
): Fill | undefined {
  const qty = filled - view.filled;
  if (!(qty > 1e-12)) return undefined;
  const before = view.filled * (view.avgFillPrice ?? 0);
  const implied = (filled * avgFillPrice - before) / qty;
  const price =
    lastFillPrice !== undefined && Number.isFinite(lastFillPrice) && lastFillPrice > 0 ? lastFillPrice : implied;
  return {
    fill_id: synthesisedFillId(String(view.orderId), filled),
    order_id: String(view.orderId),
    client_order_id: view.request.client_order_id,
    symbol: view.request.symbol,
    side: view.request.side,
    price,
    quantity: qty,
    commission: 0,
    liquidity: view.request.order_type.type === 'limit' ? 'maker' : 'taker',
    timestamp: now,
  };
}

/** Account summary rows (tag → value, currency) → our AccountInfo. */
export function accountFromSummary(
  accountId: string,
  rows: ReadonlyArray<{ tag: string; value: string; currency: string }>,
  positions: Position[],
): AccountInfo {
  const num = (tag: string): { value: number; currency: string } | undefined => {
    const row = rows.find((r) => r.tag === tag);
    if (!row) return undefined;
    const value = Number(row.value);
    if (!Number.isFinite(value))
      throw new BrokerError('BAD_RESPONSE', `IB account summary ${tag} is not a number: ${row.value}`);
    return { value, currency: row.currency };
  };
  const netLiq = num('NetLiquidation');
  const cash = num('TotalCashValue');
  const bp = num('BuyingPower') ?? num('AvailableFunds');
  if (!netLiq) throw new BrokerError('BAD_RESPONSE', 'IB account summary has no NetLiquidation');
  return {
    account_id: accountId,
    balance: cash?.value ?? netLiq.value,
    equity: netLiq.value,
    buying_power: bp?.value ?? 0,
    currency: netLiq.currency || cash?.currency || 'USD',
    open_positions: positions,
  };
}

/** A `position` event (+ the mark, when a quote was available) → our Position. */
export function positionFrom(
  contract: IbContract,
  pos: number,
  avgCost: number | undefined,
  mark: number | undefined,
): Position {
  const multiplier = contract.multiplier !== undefined && contract.multiplier > 0 ? contract.multiplier : 1;
  const average = (avgCost ?? 0) / multiplier;
  const current = mark ?? average;
  return {
    symbol: symbolOf(contract),
    quantity: pos,
    average_price: average,
    current_price: current,
    unrealized_pnl: (current - average) * pos * multiplier,
  };
}

/** TWS tick types we read from a snapshot (live and delayed). */
export const TICK = {
  BID_SIZE: 0,
  BID: 1,
  ASK: 2,
  ASK_SIZE: 3,
  LAST: 4,
  LAST_SIZE: 5,
  DELAYED_BID: 66,
  DELAYED_ASK: 67,
  DELAYED_LAST: 68,
} as const;

export interface SnapshotTicks {
  bid?: number;
  ask?: number;
  last?: number;
  bidSize?: number;
  askSize?: number;
}

export function applyTick(ticks: SnapshotTicks, field: number, value: number | undefined, isSize: boolean): void {
  if (value === undefined || !Number.isFinite(value) || value < 0) return;
  if (isSize) {
    if (field === TICK.BID_SIZE || field === 69) ticks.bidSize = value;
    else if (field === TICK.ASK_SIZE || field === 70) ticks.askSize = value;
    return;
  }
  if (value <= 0) return;
  if (field === TICK.BID || (field === TICK.DELAYED_BID && ticks.bid === undefined)) ticks.bid = value;
  else if (field === TICK.ASK || (field === TICK.DELAYED_ASK && ticks.ask === undefined)) ticks.ask = value;
  else if (field === TICK.LAST || (field === TICK.DELAYED_LAST && ticks.last === undefined)) ticks.last = value;
}

export function quoteFromTicks(symbol: string, ticks: SnapshotTicks, now: number): Quote {
  if (ticks.bid === undefined || ticks.ask === undefined)
    throw new BrokerError(
      'BAD_RESPONSE',
      `IB sent no bid/ask for ${symbol} (market closed or no market data subscription)`,
    );
  return {
    symbol,
    bid: ticks.bid,
    ask: ticks.ask,
    last: ticks.last ?? (ticks.bid + ticks.ask) / 2,
    bid_size: ticks.bidSize ?? 0,
    ask_size: ticks.askSize ?? 0,
    timestamp: now,
  };
}
