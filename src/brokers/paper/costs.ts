/**
 * What trading costs on the paper venue, as strategy objects the venue is given: fee presets
 * (per venue, per tier) and latency models plug in here without touching the matching code.
 */
import { divMoney, fromMoney, mulMoney } from '../../common/decimal';
import type { PlacedOrderRequest } from '../../orders/model';
import type { Instrument } from './instruments';
import { units } from './money';

export type Liquidity = 'maker' | 'taker';

export interface FeeModel {
  /**
   * Commission for one fill, in the instrument's quote currency. The venue rounds it to that
   * currency's cents (8 decimals for crypto), so a model may return an unrounded amount.
   */
  commission(instrument: Instrument, side: 'buy' | 'sell', price: number, quantity: number, liquidity: Liquidity): number;
}

/** A fee of `bps` basis points of notional, exact (computed on scaled integers). */
export function basisPointsFee(instrument: Instrument, price: number, quantity: number, bps: number): number {
  if (bps === 0) return 0;
  return fromMoney(divMoney(mulMoney(mulMoney(units(price), units(quantity)), units(bps)), units(10_000)));
}

/** No commission for FX (the spread is the cost) or equities (commission-free brokers); 10 bps for crypto, maker and taker. */
export const defaultFees: FeeModel = {
  commission: (instrument, _side, price, quantity) => (instrument.kind === 'crypto' ? basisPointsFee(instrument, price, quantity, 10) : 0),
};

export const noFees: FeeModel = { commission: () => 0 };

export interface LatencyModel {
  /**
   * Milliseconds between `submitOrder` and the order reaching the matching engine. Until then the
   * order is `pending` and cannot fill; it is matched against the quote at its arrival time.
   */
  orderDelayMs(instrument: Instrument, order: PlacedOrderRequest): number;
}

/** Orders reach the matching engine the moment they are sent (the default). */
export const noLatency: LatencyModel = { orderDelayMs: () => 0 };
