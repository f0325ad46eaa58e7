/** A quote source the test sets by hand, so every fill price can be computed on paper. */
import type { QuoteSource } from '../../../src/brokers/paper/feed';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import type { OrderType, PlacedOrderRequest, Quote, TimeInForce } from '../../../src/orders/model';

interface Touch {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

export class FixedQuotes implements QuoteSource {
  private readonly touches = new Map<string, Touch>();
  /** What every symbol not set explicitly quotes. */
  fallback: Touch = { bid: 100, ask: 100.02, bidSize: 1000, askSize: 1000 };

  set(symbol: string, bid: number, ask: number, size = 1000): this {
    this.touches.set(instrumentKey(symbol), { bid, ask, bidSize: size, askSize: size });
    return this;
  }

  /** Moves the fallback quote (the AAPL-like market most tests trade in). */
  move(bid: number, ask: number, size = 1000): this {
    this.fallback = { bid, ask, bidSize: size, askSize: size };
    return this;
  }

  quote(symbol: string, atMs: number): Quote {
    const t = this.touches.get(instrumentKey(symbol)) ?? this.fallback;
    return { symbol, bid: t.bid, ask: t.ask, last: t.bid, bid_size: t.bidSize, ask_size: t.askSize, timestamp: atMs };
  }
}

let sequence = 0;

export function order(
  side: 'buy' | 'sell',
  quantity: number,
  orderType: OrderType = { type: 'market' },
  timeInForce: TimeInForce = { type: 'GTC' },
  symbol = 'AAPL',
): PlacedOrderRequest {
  return {
    symbol,
    side,
    quantity,
    order_type: orderType,
    time_in_force: timeInForce,
    metadata: {},
    client_order_id: `t-${++sequence}`,
  };
}

export const limit = (price: number): OrderType => ({ type: 'limit', price });
export const stop = (price: number): OrderType => ({ type: 'stop', price });
export const stopLimit = (stopPrice: number, limitPrice: number): OrderType => ({
  type: 'stop_limit',
  stop_price: stopPrice,
  limit_price: limitPrice,
});
export const GTC: TimeInForce = { type: 'GTC' };
export const IOC: TimeInForce = { type: 'IOC' };
export const FOK: TimeInForce = { type: 'FOK' };
export const gtd = (expiresAt: number): TimeInForce => ({ type: 'GTD', expires_at: expiresAt });
