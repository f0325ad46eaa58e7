/**
 * The embedded paper venue: deterministic, exact, and honest about what fills where.
 *
 * | order            | when it fills                                          | at what price                    |
 * |------------------|--------------------------------------------------------|----------------------------------|
 * | market GTC/GTD   | at once, in full                                       | the ask (buy) / the bid (sell)   |
 * | market IOC       | at once, up to the size at the touch; rest cancelled   | the touch                        |
 * | market FOK       | at once if the touch size covers it all, else cancelled| the touch                        |
 * | limit, marketable| at once (IOC/FOK: limited to the touch size as above)  | the touch (price improvement)    |
 * | limit, resting   | when a later quote crosses it (ask ≤ buy limit)        | the limit price                  |
 * | stop             | triggers when ask ≥ stop (buy) / bid ≤ stop (sell)     | the touch at trigger (gaps slip) |
 * | stop-limit       | triggers like a stop, then behaves as a limit          | the touch, never beyond the limit|
 * | IOC/FOK not marketable | cancelled at once                                | –                                |
 * | GTD              | rests until expires_at, then expired                   | –                                |
 *
 * Until order-book depth lands, only the touch size limits IOC and FOK; other orders fill in full.
 * Off-grid prices or quantities and orders beyond buying power are rejected with the rule that failed.
 * Money is kept in scaled integers (10^-10) so cash and positions never drift.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../../common/clock';
import { divMoney, fromMoney, isOnStep, mulMoney, roundMoney, toMoney } from '../../common/decimal';
import {
  isFinalStatus,
  OrderResponseSchema,
  type AccountInfo,
  type Fill,
  type InstrumentRules,
  type OrderResponse,
  type OrderStatus,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import type { BrokerApi, BrokerCapabilities, Disposable, OrderUpdate } from '../broker';
import { BrokerError } from '../errors';
import { SyntheticFeed, type QuoteSource } from './feed';
import { instrumentFor, instrumentKey, rulesOf, type Instrument } from './instruments';

export interface FeeModel {
  /** Commission in the instrument's quote currency. */
  commission(instrument: Instrument, side: 'buy' | 'sell', price: number, quantity: number, liquidity: 'maker' | 'taker'): number;
}

/** 0 for FX (the spread is the cost) and equities (commission-free brokers), 10 bps for crypto. */
export const defaultFees: FeeModel = {
  commission(instrument, _side, price, quantity) {
    if (instrument.kind !== 'crypto') return 0;
    return fromMoney(roundMoney(divMoney(mulMoney(toMoney(price), toMoney(quantity)), toMoney(1000)), 8));
  },
};

export interface PaperBrokerOptions {
  clock: Clock;
  seed?: number;
  quotes?: QuoteSource;
  stateFile?: string;
  startingCash?: number;
  currency?: string;
  fees?: FeeModel;
  accountId?: string;
  /** Re-evaluate resting orders on a timer when connected (ms; 0 = only on calls to the broker). */
  pollIntervalMs?: number;
}

const MAX_FINAL_KEPT = 1000;

const StateSchema = z.object({
  version: z.literal(1),
  accountId: z.string(),
  currency: z.string(),
  cash: z.string().regex(/^-?\d+$/),
  nextOrder: z.number().int().nonnegative(),
  nextFill: z.number().int().nonnegative(),
  positions: z.array(z.object({ symbol: z.string(), quantity: z.string().regex(/^-?\d+$/), averagePrice: z.string().regex(/^-?\d+$/) })),
  orders: z.array(z.object({ response: OrderResponseSchema, request: z.unknown(), triggered: z.boolean() })),
});
type State = z.infer<typeof StateSchema>;

interface LiveOrder {
  response: OrderResponse;
  request: PlacedOrderRequest;
  triggered: boolean;
}

interface PositionState {
  symbol: string;
  quantity: bigint;
  averagePrice: bigint;
}

export class PaperBroker implements BrokerApi {
  readonly id = 'paper';
  readonly displayName = 'Paper';
  readonly environment = 'paper' as const;
  readonly capabilities: BrokerCapabilities = {
    orderTypes: { market: true, limit: true, stop: true, stop_limit: true },
    timeInForce: { GTC: true, IOC: true, FOK: true, GTD: true },
    fractionalQuantity: true,
    shortSelling: true,
    cancelReplace: false,
  };

  private readonly clock: Clock;
  private readonly quotes: QuoteSource;
  private readonly fees: FeeModel;
  private readonly startingCash: number;
  private readonly stateFile: string | undefined;
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  private listeners: Array<(u: OrderUpdate) => void> = [];
  private accountId: string;
  private currency: string;
  private cash = 0n;
  private nextOrder = 0;
  private nextFill = 0;
  private positions = new Map<string, PositionState>();
  private orders = new Map<string, LiveOrder>();
  /** Open orders only, so polling costs O(open), not O(history). */
  private open = new Map<string, LiveOrder>();
  private byClientId = new Map<string, string>();

  constructor(private readonly options: PaperBrokerOptions) {
    this.clock = options.clock;
    this.quotes = options.quotes ?? new SyntheticFeed(options.seed ?? 1);
    this.fees = options.fees ?? defaultFees;
    this.startingCash = options.startingCash ?? 100_000;
    this.stateFile = options.stateFile;
    this.accountId = options.accountId ?? 'PAPER-1';
    this.currency = options.currency ?? 'USD';
    this.resetInMemory();
  }

  private resetInMemory(): void {
    this.cash = toMoney(this.startingCash);
    this.nextOrder = 0;
    this.nextFill = 0;
    this.positions = new Map();
    this.orders = new Map();
    this.open = new Map();
    this.byClientId = new Map();
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    if (this.stateFile && existsSync(this.stateFile)) this.load(this.stateFile);
    this.connected = true;
    const interval = this.options.pollIntervalMs ?? 0;
    if (interval > 0) {
      this.timer = setInterval(() => this.poll(), interval);
      this.timer.unref();
    }
    return;
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.connected = false;
    return;
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Clears the account: cash back to the start, no positions, no orders. */
  reset(): void {
    this.resetInMemory();
    if (this.stateFile) rmSync(this.stateFile, { force: true });
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }

  private ensureConnected(): void {
    if (!this.connected) throw new BrokerError('NOT_CONNECTED', 'the paper venue is not connected; connect first');
  }

  async getQuote(symbol: string): Promise<Quote> {
    return this.quotes.quote(symbol, this.clock.now());
  }

  async getInstrument(symbol: string): Promise<InstrumentRules> {
    return rulesOf(instrumentFor(symbol));
  }

  async submitOrder(request: PlacedOrderRequest): Promise<OrderResponse> {
    this.ensureConnected();
    this.poll();
    const existing = this.byClientId.get(request.client_order_id);
    if (existing !== undefined) {
      throw new BrokerError(
        'DUPLICATE_CLIENT_ORDER_ID',
        `client order id ${request.client_order_id} was already used for order ${existing}; look that order up instead of sending again`,
      );
    }
    const now = this.clock.now();
    const orderId = `P-${++this.nextOrder}`;
    const live: LiveOrder = {
      request,
      triggered: false,
      response: {
        order_id: orderId,
        client_order_id: request.client_order_id,
        symbol: request.symbol,
        side: request.side,
        order_type: request.order_type,
        time_in_force: request.time_in_force,
        quantity: request.quantity,
        status: { status: 'submitted' },
        filled_price: null,
        filled_quantity: null,
        commission: null,
        timestamp: now,
        created_at: now,
        fills: [],
      },
    };
    const refusal = this.venueRule(request, now);
    this.orders.set(orderId, live);
    this.open.set(orderId, live);
    this.byClientId.set(request.client_order_id, orderId);
    if (refusal) {
      this.finish(live, { status: 'rejected', reason: refusal });
    } else {
      this.emit(live);
      this.evaluate(live, true);
    }
    this.save();
    return structuredClone(live.response);
  }

  async cancelOrder(orderId: string): Promise<void> {
    this.ensureConnected();
    this.poll();
    const live = this.mustFind(orderId);
    if (isFinalStatus(live.response.status)) {
      throw new BrokerError('INVALID_ORDER', `order ${orderId} is already ${live.response.status.status} and cannot be cancelled`);
    }
    this.finish(live, { status: 'cancelled' });
    this.save();
    return;
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    this.ensureConnected();
    this.poll();
    return structuredClone(this.mustFind(orderId).response);
  }

  async getOrderByClientId(clientOrderId: string): Promise<OrderResponse | undefined> {
    this.ensureConnected();
    this.poll();
    const id = this.byClientId.get(clientOrderId);
    const live = id === undefined ? undefined : this.orders.get(id);
    return live ? structuredClone(live.response) : undefined;
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    this.ensureConnected();
    this.poll();
    return [...this.open.values()].map((o) => structuredClone(o.response));
  }

  async getPositions(): Promise<Position[]> {
    this.ensureConnected();
    this.poll();
    return this.positionList();
  }

  async getAccountInfo(): Promise<AccountInfo> {
    this.ensureConnected();
    this.poll();
    const positions = this.positionList();
    const balance = fromMoney(this.cash);
    let equity = this.cash;
    for (const p of this.positions.values()) equity += this.toAccount(mulMoney(p.quantity, toMoney(this.mid(p.symbol))), p.symbol);
    return Promise.resolve({
      account_id: this.accountId,
      balance,
      equity: fromMoney(roundMoney(equity, 2)),
      buying_power: fromMoney(roundMoney(this.buyingPower(), 2)),
      currency: this.currency,
      open_positions: positions,
    });
  }

  /** Re-evaluates every open order against the quote now: expiries, triggers, fills. */
  poll(): void {
    let changed = false;
    for (const live of [...this.open.values()]) changed = this.evaluate(live, false) || changed;
    if (changed) this.save();
  }

  // --- matching ---

  /** Returns true when the order changed. */
  private evaluate(live: LiveOrder, onArrival: boolean): boolean {
    const now = this.clock.now();
    const r = live.request;
    if (r.time_in_force.type === 'GTD' && now >= r.time_in_force.expires_at) {
      this.finish(live, { status: 'expired' });
      return true;
    }
    const quote = this.quotes.quote(r.symbol, now);
    const buy = r.side === 'buy';
    const touch = buy ? quote.ask : quote.bid;
    const t = r.order_type;
    let arriving = onArrival;
    if ((t.type === 'stop' || t.type === 'stop_limit') && !live.triggered) {
      const stop = t.type === 'stop' ? t.price : t.stop_price;
      if (!(buy ? quote.ask >= stop : quote.bid <= stop)) return this.killIfImmediate(live, onArrival);
      live.triggered = true;
      // A triggered stop-limit is a new limit order: marketable now means it takes the touch.
      arriving = true;
    }
    let price: number | undefined;
    let maker = false;
    if (t.type === 'market' || t.type === 'stop') {
      price = touch;
    } else {
      const limit = t.type === 'limit' ? t.price : t.limit_price;
      if (buy ? touch <= limit : touch >= limit) {
        // Marketable on arrival (or at trigger) fills at the touch; a resting order the market reached fills at its limit.
        const resting = !arriving;
        price = resting ? limit : touch;
        maker = resting;
      }
    }
    if (price === undefined) return this.killIfImmediate(live, onArrival);
    const remaining = toMoney(r.quantity) - toMoney(live.response.filled_quantity ?? 0);
    const tif = r.time_in_force.type;
    let quantity = remaining;
    if (tif === 'IOC' || tif === 'FOK') {
      const available = toMoney(buy ? quote.ask_size : quote.bid_size);
      if (tif === 'FOK' && available < remaining) {
        this.finish(live, { status: 'cancelled' });
        return true;
      }
      if (available < quantity) quantity = available;
    }
    if (quantity > 0n) this.fill(live, price, quantity, maker ? 'maker' : 'taker', now);
    if ((tif === 'IOC' || tif === 'FOK') && !isFinalStatus(live.response.status)) this.finish(live, { status: 'cancelled' });
    return true;
  }

  /** IOC and FOK never rest: what can't execute on arrival is cancelled. */
  private killIfImmediate(live: LiveOrder, onArrival: boolean): boolean {
    const tif = live.request.time_in_force.type;
    if (onArrival && (tif === 'IOC' || tif === 'FOK')) {
      this.finish(live, { status: 'cancelled' });
      return true;
    }
    return false;
  }

  private fill(live: LiveOrder, price: number, quantity: bigint, liquidity: 'maker' | 'taker', now: number): void {
    const r = live.request;
    const inst = instrumentFor(r.symbol);
    const qty = fromMoney(quantity);
    const commissionQuote = this.fees.commission(inst, r.side, price, qty, liquidity);
    const notional = mulMoney(toMoney(price), quantity);
    const sign = r.side === 'buy' ? 1n : -1n;
    this.cash -= this.toAccount(sign * notional + toMoney(commissionQuote), r.symbol);
    this.applyPosition(r.symbol, sign * quantity, toMoney(price));
    const fill: Fill = {
      fill_id: `PF-${++this.nextFill}`,
      order_id: live.response.order_id,
      client_order_id: r.client_order_id,
      symbol: r.symbol,
      side: r.side,
      price,
      quantity: qty,
      commission: commissionQuote,
      liquidity,
      timestamp: now,
    };
    const res = live.response;
    res.fills.push(fill);
    const filled = toMoney(res.filled_quantity ?? 0) + quantity;
    let cost = 0n;
    for (const f of res.fills) cost += mulMoney(toMoney(f.price), toMoney(f.quantity));
    res.filled_quantity = fromMoney(filled);
    res.filled_price = Number(fromMoney(divMoney(cost, filled)).toFixed(decimals(inst.tickSize) + 4));
    res.commission = fromMoney(toMoney(res.commission ?? 0) + toMoney(commissionQuote));
    res.timestamp = now;
    res.status = filled >= toMoney(r.quantity) ? { status: 'filled' } : { status: 'partially_filled', filled_qty: fromMoney(filled) };
    if (res.status.status === 'filled') this.open.delete(res.order_id);
    this.emit(live, fill);
  }

  private applyPosition(symbol: string, delta: bigint, price: bigint): void {
    const key = instrumentKey(symbol);
    const p = this.positions.get(key) ?? { symbol, quantity: 0n, averagePrice: 0n };
    const next = p.quantity + delta;
    if (p.quantity === 0n || p.quantity > 0n === delta > 0n) {
      // Adding to (or opening) a position: the average is the exact weighted mean.
      p.averagePrice = divMoney(mulMoney(p.averagePrice, abs(p.quantity)) + mulMoney(price, abs(delta)), abs(next));
    } else if (next !== 0n && next > 0n !== p.quantity > 0n) {
      // Flipped through zero: the new position was opened at this price.
      p.averagePrice = price;
    }
    p.quantity = next;
    if (next === 0n) this.positions.delete(key);
    else this.positions.set(key, p);
  }

  private finish(live: LiveOrder, status: OrderStatus): void {
    this.open.delete(live.response.order_id);
    live.response.status = status;
    live.response.timestamp = this.clock.now();
    this.emit(live);
    this.trimFinal();
  }

  private emit(live: LiveOrder, fill?: Fill): void {
    const update: OrderUpdate = fill ? { order: structuredClone(live.response), fill } : { order: structuredClone(live.response) };
    for (const l of [...this.listeners]) l(update);
  }

  private trimFinal(): void {
    let finals = this.orders.size - this.open.size;
    if (finals <= MAX_FINAL_KEPT) return;
    for (const [id, o] of this.orders) {
      if (finals <= MAX_FINAL_KEPT) break;
      if (isFinalStatus(o.response.status)) {
        this.orders.delete(id);
        finals--;
      }
    }
  }

  // --- venue rules and money ---

  private venueRule(r: PlacedOrderRequest, now: number): string | undefined {
    const inst = instrumentFor(r.symbol);
    if (!isOnStep(r.quantity, inst.lotSize)) return `quantity ${r.quantity} is not a multiple of the lot size ${inst.lotSize} for ${r.symbol}`;
    if (r.quantity < inst.minQuantity) return `quantity ${r.quantity} is below the minimum ${inst.minQuantity} for ${r.symbol}`;
    const t = r.order_type;
    const prices = t.type === 'market' ? [] : t.type === 'stop_limit' ? [t.stop_price, t.limit_price] : [t.price];
    for (const p of prices) if (!isOnStep(p, inst.tickSize)) return `price ${p} is not a multiple of the tick size ${inst.tickSize} for ${r.symbol}`;
    if (r.time_in_force.type === 'GTD' && r.time_in_force.expires_at <= now)
      return `expires_at ${new Date(r.time_in_force.expires_at).toISOString()} is already past`;
    const quote = this.quotes.quote(r.symbol, now);
    const pos = this.positions.get(instrumentKey(r.symbol))?.quantity ?? 0n;
    const delta = (r.side === 'buy' ? 1n : -1n) * toMoney(r.quantity);
    const added = abs(pos + delta) - abs(pos);
    if (added > 0n) {
      const px =
        t.type === 'limit'
          ? Math.max(t.price, r.side === 'buy' ? 0 : quote.bid)
          : t.type === 'stop_limit'
            ? t.limit_price
            : r.side === 'buy'
              ? quote.ask
              : quote.bid;
      const needed = this.toAccount(mulMoney(toMoney(px), added), r.symbol);
      const power = this.buyingPower();
      if (needed > power)
        return `insufficient buying power: the order needs ${fromMoney(roundMoney(needed, 2))} ${this.currency}, ${fromMoney(roundMoney(power, 2))} is available`;
    }
    return undefined;
  }

  /** Equity less the notional of open positions and of orders that would add to them (1× leverage). */
  private buyingPower(): bigint {
    let equity = this.cash;
    let exposure = 0n;
    for (const p of this.positions.values()) {
      const value = this.toAccount(mulMoney(p.quantity, toMoney(this.mid(p.symbol))), p.symbol);
      equity += value;
      exposure += abs(value);
    }
    let reserved = 0n;
    for (const o of this.open.values()) {
      const t = o.request.order_type;
      const px = t.type === 'market' ? this.mid(o.request.symbol) : t.type === 'stop_limit' ? t.limit_price : t.price;
      const left = toMoney(o.request.quantity) - toMoney(o.response.filled_quantity ?? 0);
      reserved += this.toAccount(mulMoney(toMoney(px), left), o.request.symbol);
    }
    return equity - exposure - reserved;
  }

  private mid(symbol: string): number {
    const q = this.quotes.quote(symbol, this.clock.now());
    return (q.bid + q.ask) / 2;
  }

  /** Converts an amount in the symbol's quote currency to the account currency at the mid. */
  private toAccount(amount: bigint, symbol: string): bigint {
    const ccy = instrumentFor(symbol).quoteCurrency;
    if (ccy === this.currency || ((ccy === 'USDT' || ccy === 'USDC') && this.currency === 'USD')) return amount;
    const direct = this.tryMid(`${ccy}_${this.currency}`);
    if (direct !== undefined) return mulMoney(amount, toMoney(direct));
    const inverse = this.tryMid(`${this.currency}_${ccy}`);
    if (inverse !== undefined) return divMoney(amount, toMoney(inverse));
    return amount;
  }

  private tryMid(symbol: string): number | undefined {
    const inst = instrumentFor(symbol);
    return inst.inferred ? undefined : this.mid(symbol);
  }

  private positionList(): Position[] {
    return [...this.positions.values()].map((p) => {
      const mid = this.mid(p.symbol);
      const inst = instrumentFor(p.symbol);
      const unrealized = mulMoney(toMoney(mid) - p.averagePrice, p.quantity);
      return {
        symbol: p.symbol,
        quantity: fromMoney(p.quantity),
        average_price: Number(fromMoney(p.averagePrice).toFixed(Math.max(decimals(inst.tickSize) + 4, 2))),
        current_price: Number(mid.toFixed(decimals(inst.tickSize) + 1)),
        unrealized_pnl: fromMoney(roundMoney(this.toAccount(unrealized, p.symbol), 2)),
      };
    });
  }

  private mustFind(orderId: string): LiveOrder {
    const live = this.orders.get(orderId);
    if (!live) throw new BrokerError('ORDER_NOT_FOUND', `no paper order ${orderId}`);
    return live;
  }

  // --- persistence ---

  private save(): void {
    if (!this.stateFile) return;
    const state: State = {
      version: 1,
      accountId: this.accountId,
      currency: this.currency,
      cash: this.cash.toString(),
      nextOrder: this.nextOrder,
      nextFill: this.nextFill,
      positions: [...this.positions.values()].map((p) => ({ symbol: p.symbol, quantity: p.quantity.toString(), averagePrice: p.averagePrice.toString() })),
      orders: [...this.orders.values()].map((o) => ({ response: o.response, request: o.request, triggered: o.triggered })),
    };
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.stateFile);
  }

  private load(file: string): void {
    let parsed: State;
    try {
      parsed = StateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (e) {
      const why =
        e instanceof z.ZodError
          ? e.issues
              .map((i) => `${i.path.join('.')}: ${i.message}`)
              .slice(0, 3)
              .join('; ')
          : (e as Error).message;
      throw new BrokerError(
        'INTERNAL',
        `the paper account file ${file} is unreadable (${why}); fix it or reset the paper account (delete the file) to start again`,
      );
    }
    this.resetInMemory();
    this.accountId = parsed.accountId;
    this.currency = parsed.currency;
    this.cash = BigInt(parsed.cash);
    this.nextOrder = parsed.nextOrder;
    this.nextFill = parsed.nextFill;
    for (const p of parsed.positions)
      this.positions.set(instrumentKey(p.symbol), { symbol: p.symbol, quantity: BigInt(p.quantity), averagePrice: BigInt(p.averagePrice) });
    for (const o of parsed.orders) {
      const live: LiveOrder = { response: o.response, request: o.request as PlacedOrderRequest, triggered: o.triggered };
      this.orders.set(o.response.order_id, live);
      if (!isFinalStatus(o.response.status)) this.open.set(o.response.order_id, live);
      this.byClientId.set(o.response.client_order_id, o.response.order_id);
    }
  }
}

const abs = (n: bigint): bigint => (n < 0n ? -n : n);

function decimals(step: number): number {
  const s = String(step);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}
