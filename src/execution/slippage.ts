import type { InstrumentRules, OrderSide } from '../orders/model';

/** Slippage of a fill against the price the component decided on, positive when worse for the trader. */
export interface Slippage {
  /** The touch the order would have crossed when the component decided: the ask for a buy, the bid for a sell. */
  reference: 'ask' | 'bid';
  referencePrice: number;
  fillPrice: number;
  /** In price units, positive = paid more (buy) or received less (sell). */
  price: number;
  /** In the instrument's customary unit (pips for FX, ticks otherwise). */
  units: number;
  unit: 'pip' | 'tick';
  bps: number;
}

export function computeSlippage(
  side: OrderSide,
  decision: { bid: number; ask: number },
  fillPrice: number,
  instrument: Pick<InstrumentRules, 'kind' | 'pipSize' | 'tickSize'>,
): Slippage {
  const reference = side === 'buy' ? 'ask' : 'bid';
  const referencePrice = side === 'buy' ? decision.ask : decision.bid;
  const raw = side === 'buy' ? fillPrice - referencePrice : referencePrice - fillPrice;
  const unit = instrument.kind === 'fx' ? 'pip' : 'tick';
  const unitSize = unit === 'pip' ? instrument.pipSize : instrument.tickSize;
  const round = (n: number, d: number) => Number(n.toFixed(d)) + 0;
  return {
    reference,
    referencePrice,
    fillPrice,
    price: round(raw, 10),
    units: round(raw / unitSize, 4),
    unit,
    bps: round((raw / referencePrice) * 10_000, 4),
  };
}
