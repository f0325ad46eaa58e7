/**
 * Instruments of the paper venue: the grid prices and quantities must sit on, and what the
 * synthetic feed needs to look plausible. Unknown symbols are inferred and marked so.
 */
import type { InstrumentRules } from '../../orders/model';

export interface Instrument extends InstrumentRules {
  baseCurrency: string;
  referencePrice: number;
  spreadTicks: number;
  /** Relative daily move, e.g. 0.006 for EUR/USD. */
  dailyVolatility: number;
  /** Size shown at the touch, in units. */
  touchSize: number;
  inferred: boolean;
}

type Preset = Omit<Instrument, 'symbol' | 'inferred' | 'pipSize'> & { pipSize?: number };

const fx = (base: string, quote: string, price: number, tick = 0.00001, spreadTicks = 12): Preset => ({
  kind: 'fx',
  baseCurrency: base,
  quoteCurrency: quote,
  referencePrice: price,
  tickSize: tick,
  lotSize: 1,
  minQuantity: 1,
  spreadTicks,
  dailyVolatility: 0.006,
  touchSize: 1_000_000,
  pipSize: quote === 'JPY' ? 0.01 : 0.0001,
});
const equity = (price: number): Preset => ({
  kind: 'equity',
  baseCurrency: 'SHARE',
  quoteCurrency: 'USD',
  referencePrice: price,
  tickSize: 0.01,
  lotSize: 1,
  minQuantity: 1,
  spreadTicks: 2,
  dailyVolatility: 0.015,
  touchSize: 500,
});
const crypto = (base: string, price: number, lot: number): Preset => ({
  kind: 'crypto',
  baseCurrency: base,
  quoteCurrency: 'USDT',
  referencePrice: price,
  tickSize: 0.01,
  lotSize: lot,
  minQuantity: lot,
  spreadTicks: 2,
  dailyVolatility: 0.03,
  touchSize: 5,
});

const PRESETS: Record<string, Preset> = {
  EURUSD: fx('EUR', 'USD', 1.085),
  GBPUSD: fx('GBP', 'USD', 1.27),
  AUDUSD: fx('AUD', 'USD', 0.66),
  USDJPY: fx('USD', 'JPY', 150, 0.001, 12),
  BTCUSDT: crypto('BTC', 65000, 0.00001),
  ETHUSDT: { ...crypto('ETH', 3500, 0.0001), touchSize: 50 },
  AAPL: equity(190),
  MSFT: equity(420),
  SPY: equity(520),
};

/** EURUSD, EUR_USD, EUR/USD and eurusd name one instrument. */
export function instrumentKey(symbol: string): string {
  return symbol.toUpperCase().replace(/[_/\-.:]/g, '');
}

export function instrumentFor(symbol: string): Instrument {
  const key = instrumentKey(symbol);
  const preset = PRESETS[key];
  if (preset) return { ...preset, pipSize: preset.pipSize ?? preset.tickSize, symbol, inferred: false };
  let inferred: Preset;
  if (/^[A-Z]{3}[A-Z]{3}$/.test(key) && /[_/]/.test(symbol)) inferred = fx(key.slice(0, 3), key.slice(3), 1.0);
  else if (/(USDT|USDC|BTC)$/.test(key) && key.length > 4) inferred = crypto(key.replace(/(USDT|USDC|BTC)$/, ''), 100, 0.001);
  else inferred = equity(100);
  return { ...inferred, pipSize: inferred.pipSize ?? inferred.tickSize, symbol, inferred: true };
}

export function rulesOf(instrument: Instrument): InstrumentRules {
  const { symbol, kind, tickSize, lotSize, minQuantity, quoteCurrency, pipSize } = instrument;
  return { symbol, kind, tickSize, lotSize, minQuantity, quoteCurrency, pipSize };
}
