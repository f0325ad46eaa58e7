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
  commission(
    instrument: Instrument,
    side: 'buy' | 'sell',
    price: number,
    quantity: number,
    liquidity: Liquidity,
  ): number;
}

/** A fee of `bps` basis points of notional, exact (computed on scaled integers). */
export function basisPointsFee(instrument: Instrument, price: number, quantity: number, bps: number): number {
  if (bps === 0) return 0;
  return fromMoney(divMoney(mulMoney(mulMoney(units(price), units(quantity)), units(bps)), units(10_000)));
}

/** No commission for FX (the spread is the cost) or equities (commission-free brokers); 10 bps for crypto, maker and taker. */
export const defaultFees: FeeModel = {
  commission: (instrument, _side, price, quantity) =>
    instrument.kind === 'crypto' ? basisPointsFee(instrument, price, quantity, 10) : 0,
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

/**
 * Fees as venues charge them: per share/unit (with a minimum and a cap as a share of notional, IB
 * style) or basis points of notional, different for makers and takers.
 */
export interface FeeSchedule {
  /** Basis points of notional for orders that take liquidity. */
  takerBps?: number;
  /** Basis points of notional for resting orders that were filled (may be negative: a rebate). */
  makerBps?: number;
  /** Quote currency per unit traded. */
  perUnit?: number;
  /** Smallest commission per fill when `perUnit` applies. */
  minimum?: number;
  /** Largest commission per fill as a fraction of notional (IB caps at 1 %). */
  maxFractionOfNotional?: number;
}

export function scheduleFees(schedule: FeeSchedule): FeeModel {
  return {
    commission: (instrument, _side, price, quantity, liquidity) => {
      const bps = liquidity === 'maker' ? (schedule.makerBps ?? schedule.takerBps ?? 0) : (schedule.takerBps ?? 0);
      let fee = basisPointsFee(instrument, price, quantity, bps);
      if (schedule.perUnit !== undefined) {
        let perUnit = fromMoney(mulMoney(units(schedule.perUnit), units(quantity)));
        if (schedule.minimum !== undefined) perUnit = Math.max(perUnit, schedule.minimum);
        if (schedule.maxFractionOfNotional !== undefined)
          perUnit = Math.min(
            perUnit,
            fromMoney(mulMoney(mulMoney(units(price), units(quantity)), units(schedule.maxFractionOfNotional))),
          );
        fee += perUnit;
      }
      return fee;
    },
  };
}

/**
 * Presets that resemble each venue's public retail schedule (approximations for paper trading, not
 * quotes of a contract): Alpaca equities commission-free; Binance spot 10 bps maker and taker; OANDA
 * spread-only; IB Pro fixed US equities $0.005 a share, $1 minimum, capped at 1 % of trade value.
 */
export const FEE_PRESETS: Readonly<Record<'alpaca' | 'binance' | 'oanda' | 'ib', FeeSchedule>> = Object.freeze({
  alpaca: {},
  binance: { takerBps: 10, makerBps: 10 },
  oanda: {},
  ib: { perUnit: 0.005, minimum: 1, maxFractionOfNotional: 0.01 },
});

/** Seeded, per operation: `fixedMs` plus a uniform jitter in [0, jitterMs), the same for the same seed and order sequence. */
export function jitterLatency(fixedMs: number, jitterMs: number, seed = 1): LatencyModel {
  if (!(fixedMs >= 0) || !(jitterMs >= 0)) throw new RangeError(`latency must be ≥ 0 ms, got ${fixedMs} + ${jitterMs}`);
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { orderDelayMs: () => fixedMs + (jitterMs === 0 ? 0 : Math.floor(next() * jitterMs)) };
}
