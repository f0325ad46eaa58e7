/**
 * What a replay's result panel draws, in memory bounded by the chart and not by the data: the P&L
 * curve and the price sampled into at most `maxPoints` buckets of records, the fills as one marker per
 * bucket and side, and the first `maxRows` orders and fills for the tables. It watches the replay's
 * engine (the `engineFactory` hook of replayComponent), so the replay itself runs as the CLI runs it.
 * The P&L is the report's curve (replayReport.ts PnlCurve): the fills' cash flows with commission plus
 * the position at each record's mid, in the instrument's quote currency.
 */
import type { ReplayFeed } from '../brokers/paper/replayFeed';
import type { Fill } from '../orders/model';
import type { EngineEvent } from '../execution/events';
import { defaultEngine, type ReplayEngine, type ReplayEngineContext } from './replaySetup';

export interface ReplayChartOrder {
  clientOrderId: string;
  /** The record the order was submitted at (its time is the record's). */
  index: number;
  time: number;
  side: 'buy' | 'sell';
  type: string;
  quantity: number;
  /** The limit (or stop) price, when the order has one. */
  price: number | null;
  /** The order's state after its last event (FILLED, DENIED, …). */
  state: string;
  filledQuantity: number;
  averagePrice: number | null;
  /** Why it was denied, rejected, cancelled or expired. */
  reason: string | null;
}

export interface ReplayChartFill {
  time: number;
  index: number;
  clientOrderId: string;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
  commission: number;
  liquidity: 'maker' | 'taker';
}

/** Seconds since the epoch (lightweight-charts' UTCTimestamp), strictly increasing within a series. */
export interface ReplayChartData {
  price:
    | { kind: 'candles'; bars: Array<{ time: number; open: number; high: number; low: number; close: number }> }
    | { kind: 'ticks'; points: Array<{ time: number; value: number }> };
  /** The P&L at the last record of each bucket. */
  pnl: Array<{ time: number; value: number }>;
  /** One per bucket and side: how many fills, their quantity and average price. */
  markers: Array<{ time: number; side: 'buy' | 'sell'; fills: number; quantity: number; price: number }>;
  orders: ReplayChartOrder[];
  ordersTotal: number;
  fills: ReplayChartFill[];
  fillsTotal: number;
  /** Records per bucket. */
  bucket: number;
}

export interface ReplayRecorderOptions {
  /** Buckets on the charts (default 1500). */
  maxPoints?: number;
  /** Rows kept for each table (default 500). */
  maxRows?: number;
}

const STATE_NAMES: Record<string, string> = {
  OrderSubmitted: 'SUBMITTED',
  OrderDenied: 'DENIED',
  OrderAccepted: 'ACCEPTED',
  OrderPartiallyFilled: 'PARTIALLY FILLED',
  OrderFilled: 'FILLED',
  OrderCancelled: 'CANCELLED',
  OrderExpired: 'EXPIRED',
  OrderRejected: 'REJECTED',
};

export class ReplayRecorder {
  private readonly times: Float64Array;
  private readonly total: number;
  readonly bucket: number;
  private readonly maxRows: number;
  private position = 0;
  private cash = 0;
  /** The last record whose P&L has been sampled. */
  private evaluated = -1;
  private readonly pnl: Array<{ time: number; value: number }> = [];
  private readonly markers = new Map<
    string,
    { time: number; side: 'buy' | 'sell'; fills: number; quantity: number; notional: number }
  >();
  private readonly orders = new Map<string, ReplayChartOrder>();
  private ordersTotal = 0;
  private readonly fills: ReplayChartFill[] = [];
  private fillsTotal = 0;

  constructor(
    private readonly feed: ReplayFeed,
    options: ReplayRecorderOptions = {},
  ) {
    this.times = feed.times;
    this.total = feed.length;
    this.bucket = Math.max(1, Math.ceil(this.total / Math.max(1, options.maxPoints ?? 1500)));
    this.maxRows = options.maxRows ?? 500;
  }

  /** An engine factory for replayComponent that hands the engine over as `base` builds it, watched by this recorder. */
  engineFactory(
    base: (context: ReplayEngineContext) => Promise<ReplayEngine> = defaultEngine,
  ): (context: ReplayEngineContext) => Promise<ReplayEngine> {
    return async (context) => {
      const opened = await base(context);
      const subscription = opened.engine.subscribe((e) => this.onEvent(e));
      return {
        ...opened,
        close: async () => {
          subscription.dispose();
          await opened.close();
        },
      };
    };
  }

  onEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'OrderSubmitted':
      case 'OrderDenied': {
        this.ordersTotal++;
        if (this.orders.size >= this.maxRows) return;
        // A denied order is what the component returned (it may not be valid): read with care.
        type Loose = { type?: unknown; price?: unknown; limit_price?: unknown };
        const order = e.order as { side?: unknown; quantity?: unknown; order_type?: Loose } | null;
        const type: Loose | null = typeof order?.order_type === 'object' ? order.order_type : null;
        const price =
          typeof type?.price === 'number'
            ? type.price
            : typeof type?.limit_price === 'number'
              ? type.limit_price
              : null;
        this.orders.set(e.clientOrderId, {
          clientOrderId: e.clientOrderId,
          index: this.recordAt(e.at),
          time: e.at,
          side: order?.side === 'sell' ? 'sell' : 'buy',
          type: typeof type?.type === 'string' ? type.type : '?',
          quantity: typeof order?.quantity === 'number' ? order.quantity : 0,
          price,
          state: STATE_NAMES[e.type] ?? e.type,
          filledQuantity: 0,
          averagePrice: null,
          reason: e.type === 'OrderDenied' ? `${e.code}: ${e.reason}` : null,
        });
        return;
      }
      case 'OrderPartiallyFilled':
      case 'OrderFilled': {
        this.fill(e.fill);
        const row = this.orders.get(e.clientOrderId);
        if (row) {
          row.state = STATE_NAMES[e.type] ?? e.type;
          row.filledQuantity = e.filledQuantity;
          row.averagePrice = e.averagePrice;
        }
        return;
      }
      case 'OrderAccepted':
      case 'OrderCancelled':
      case 'OrderExpired':
      case 'OrderRejected': {
        const row = this.orders.get(e.clientOrderId);
        if (!row) return;
        // Accepted after a fill (a venue's late acknowledgement) does not hide the fill.
        if (e.type === 'OrderAccepted' && row.filledQuantity > 0) return;
        row.state = STATE_NAMES[e.type] ?? e.type;
        if (e.type === 'OrderRejected') row.reason = e.reason;
        return;
      }
      default:
        return;
    }
  }

  /** The record a time belongs to: the last whose time is not after it. */
  private recordAt(t: number): number {
    const times = this.times;
    let lo = 0;
    let hi = this.total - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((times[mid] as number) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private fill(fill: Fill): void {
    const index = this.recordAt(fill.timestamp);
    this.advance(index - 1);
    const signed = fill.side === 'buy' ? fill.quantity : -fill.quantity;
    this.position += signed;
    this.cash -= signed * fill.price + fill.commission;
    this.fillsTotal++;
    if (this.fills.length < this.maxRows)
      this.fills.push({
        time: fill.timestamp,
        index,
        clientOrderId: fill.client_order_id,
        side: fill.side,
        quantity: fill.quantity,
        price: fill.price,
        commission: fill.commission,
        liquidity: fill.liquidity,
      });
    const first = index - (index % this.bucket);
    const key = `${first}:${fill.side}`;
    const marker = this.markers.get(key);
    if (marker) {
      marker.fills++;
      marker.quantity += fill.quantity;
      marker.notional += fill.quantity * fill.price;
    } else
      this.markers.set(key, {
        time: seconds(this.times[first] as number),
        side: fill.side,
        fills: 1,
        quantity: fill.quantity,
        notional: fill.quantity * fill.price,
      });
  }

  private mid(r: number): number {
    return ((this.feed.bid[r] as number) + (this.feed.ask[r] as number)) / 2;
  }

  /** Samples the P&L of records up to `to` (inclusive): one point at the last record of each bucket. */
  private advance(to: number): void {
    for (let r = this.evaluated + 1; r <= to; r++) {
      if ((r + 1) % this.bucket !== 0 && r !== this.total - 1) continue;
      const value = this.position === 0 ? this.cash : this.cash + this.position * this.mid(r);
      this.pnl.push({ time: seconds(this.times[r - (r % this.bucket)] as number), value: round(value) });
    }
    if (to > this.evaluated) this.evaluated = to;
  }

  /** The charts and tables after a replay that saw `processed` records. */
  result(processed: number): ReplayChartData {
    const last = Math.min(processed, this.total) - 1;
    this.advance(last);
    // The last bucket, when the replay stopped inside it.
    if (last >= 0 && (last + 1) % this.bucket !== 0 && last !== this.total - 1) {
      const value = this.position === 0 ? this.cash : this.cash + this.position * this.mid(last);
      this.pnl.push({ time: seconds(this.times[last - (last % this.bucket)] as number), value: round(value) });
    }
    return {
      price: this.price(last),
      pnl: dedupe(this.pnl),
      markers: [...this.markers.values()]
        .sort((a, b) => a.time - b.time || a.side.localeCompare(b.side))
        .map((m) => ({
          time: m.time,
          side: m.side,
          fills: m.fills,
          quantity: m.quantity,
          price: Number((m.notional / m.quantity).toPrecision(12)),
        })),
      orders: [...this.orders.values()],
      ordersTotal: this.ordersTotal,
      fills: this.fills,
      fillsTotal: this.fillsTotal,
      bucket: this.bucket,
    };
  }

  private price(last: number): ReplayChartData['price'] {
    const candles = this.feed.candles;
    const step = this.bucket;
    if (candles) {
      const bars: Array<{ time: number; open: number; high: number; low: number; close: number }> = [];
      for (let start = 0; start <= last; start += step) {
        const end = Math.min(start + step - 1, last);
        let high = -Infinity;
        let low = Infinity;
        for (let r = start; r <= end; r++) {
          high = Math.max(high, candles.high[r] as number);
          low = Math.min(low, candles.low[r] as number);
        }
        const bar = {
          time: seconds(this.times[start] as number),
          open: candles.open[start] as number,
          high,
          low,
          close: candles.close[end] as number,
        };
        const prev = bars[bars.length - 1];
        // Two buckets within one second are one bar (the chart's times are whole seconds).
        if (prev && prev.time === bar.time) {
          prev.high = Math.max(prev.high, bar.high);
          prev.low = Math.min(prev.low, bar.low);
          prev.close = bar.close;
        } else bars.push(bar);
      }
      return { kind: 'candles', bars };
    }
    const points: Array<{ time: number; value: number }> = [];
    for (let start = 0; start <= last; start += step) {
      const end = Math.min(start + step - 1, last);
      points.push({ time: seconds(this.times[start] as number), value: Number(this.mid(end).toPrecision(12)) });
    }
    return { kind: 'ticks', points: dedupe(points) };
  }
}

const seconds = (ms: number): number => Math.floor(ms / 1000);
const round = (n: number): number => Number(n.toFixed(8)) + 0;

/** Keeps the last point of each second (the chart needs strictly increasing times). */
function dedupe<T extends { time: number }>(points: T[]): T[] {
  const out: T[] = [];
  for (const p of points) {
    if (out.length > 0 && (out[out.length - 1] as T).time === p.time) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}
