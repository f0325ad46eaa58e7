/**
 * Instruments of the paper venue: the grid prices and quantities must sit on, and what the
 * synthetic feed needs to look plausible. Unknown symbols are inferred (and marked so) rather than
 * refused, because a paper venue exists to let people try things.
 */
import { decimalsOf } from '../../common/decimal';
import type { InstrumentRules } from '../../orders/model';
import { instrumentKey } from '../../orders/instrumentKey';

// The paper venue's modules take the key from here, beside the instruments it names.
export { instrumentKey };

export type InstrumentKind = 'fx' | 'equity' | 'crypto';

export interface Instrument extends InstrumentRules {
  kind: InstrumentKind;
  /** Decimal places of the tick: 5 for EUR/USD, 3 for USD/JPY, 2 for equities and USDT pairs. */
  pricePrecision: number;
  /** What one unit of quantity is: EUR for EUR/USD, BTC for BTCUSDT, SHARE for equities. */
  baseCurrency: string;
  /** Where the synthetic feed centres its path. */
  referencePrice: number;
  /** Quoted spread, in ticks. */
  spreadTicks: number;
  /** Typical relative move over a day, e.g. 0.006 for EUR/USD. */
  dailyVolatility: number;
  /** Size the synthetic feed shows at the touch (in units), around which it varies. */
  touchSize: number;
  /** True when the symbol is not a preset and its rules were guessed from its shape. */
  inferred: boolean;
}

type Preset = Omit<Instrument, 'symbol' | 'inferred' | 'pricePrecision'>;

const fx = (base: string, quote: string, price: number): Preset => {
  // JPY pairs are quoted to 3 decimals (a pip is 0.01), the others to 5 (a pip is 0.0001).
  const jpy = quote === 'JPY';
  return {
    kind: 'fx',
    baseCurrency: base,
    quoteCurrency: quote,
    referencePrice: price,
    tickSize: jpy ? 0.001 : 0.00001,
    lotSize: 1,
    minQuantity: 1,
    spreadTicks: 12,
    dailyVolatility: 0.006,
    touchSize: 1_000_000,
    pipSize: jpy ? 0.01 : 0.0001,
  };
};
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
  pipSize: 0.01,
});
const crypto = (base: string, quote: string, price: number, lot: number, touchSize: number): Preset => ({
  kind: 'crypto',
  baseCurrency: base,
  quoteCurrency: quote,
  referencePrice: price,
  tickSize: 0.01,
  lotSize: lot,
  minQuantity: lot,
  spreadTicks: 2,
  dailyVolatility: 0.03,
  touchSize,
  pipSize: 0.01,
});

/** Keyed by `instrumentKey`. The extra FX majors are here so other currencies convert to the account's. */
const PRESETS: Readonly<Record<string, Preset>> = {
  EURUSD: fx('EUR', 'USD', 1.085),
  GBPUSD: fx('GBP', 'USD', 1.27),
  AUDUSD: fx('AUD', 'USD', 0.66),
  USDJPY: fx('USD', 'JPY', 150),
  USDCHF: fx('USD', 'CHF', 0.88),
  USDCAD: fx('USD', 'CAD', 1.36),
  BTCUSDT: crypto('BTC', 'USDT', 65000, 0.00001, 5),
  ETHUSDT: crypto('ETH', 'USDT', 3500, 0.0001, 50),
  AAPL: equity(190),
  MSFT: equity(420),
  SPY: equity(520),
};

const CRYPTO_QUOTES = ['USDT', 'USDC', 'BTC'] as const;

/**
 * The instrument for a symbol as the order spelled it (kept in `symbol`, so responses echo the
 * user's spelling). Unknown symbols: six letters or XXX_YYY / XXX/YYY → FX around the presets' cross rate, else 1.0
 * (crossPrice); ending in USDT, USDC or BTC → crypto around 100; anything else → an equity around 100.
 */
const resolved = new Map<string, Instrument>();

/** The instrument for a symbol (cached: every order asks). Callers must not modify the result. */
export function instrumentFor(symbol: string): Instrument {
  let instrument = resolved.get(symbol);
  if (instrument === undefined) {
    instrument = Object.freeze(resolveInstrument(symbol));
    if (resolved.size < 10_000) resolved.set(symbol, instrument);
  }
  return instrument;
}

function resolveInstrument(symbol: string): Instrument {
  const key = instrumentKey(symbol);
  const preset = PRESETS[key];
  if (preset) return complete(preset, symbol, false);
  const cryptoQuote = CRYPTO_QUOTES.find((q) => key.length > q.length && key.endsWith(q));
  // Crypto first: SOLBTC has six letters but is not a currency pair.
  if (cryptoQuote)
    return complete(crypto(key.slice(0, -cryptoQuote.length), cryptoQuote, 100, 0.0001, 100), symbol, true);
  if (/^[A-Z]{6}$/.test(key) && /^[A-Za-z]{3}([_/]?)[A-Za-z]{3}$/.test(symbol))
    return complete(fx(key.slice(0, 3), key.slice(3), crossPrice(key.slice(0, 3), key.slice(3))), symbol, true);
  return complete(equity(100), symbol, true);
}

/**
 * Where an inferred currency pair's feed centres: through the dollar when the presets price both currencies (EUR_JPY
 * 162.75, JPY_USD 1/150), else 1.0. At 1.0, JPY_USD, the first pair an engine asks for to turn yen into dollars, made
 * a USD_JPY order of 1,000 dollars worth 150,000 of them, refused for buying power (rt-comp8).
 */
function crossPrice(base: string, quote: string): number {
  const b = inDollars(base);
  const q = inDollars(quote);
  // As fractions, so that EUR_JPY is 1.085 × 150 exactly, not 1.085 ÷ (1/150).
  return b !== undefined && q !== undefined ? (b[0] * q[1]) / (b[1] * q[0]) : 1.0;
}

/** One unit of a currency in dollars at the presets' reference prices, as [numerator, denominator]. */
function inDollars(currency: string): readonly [number, number] | undefined {
  if (currency === 'USD') return [1, 1];
  const direct = PRESETS[`${currency}USD`];
  if (direct?.kind === 'fx') return [direct.referencePrice, 1];
  const inverse = PRESETS[`USD${currency}`];
  return inverse?.kind === 'fx' ? [1, inverse.referencePrice] : undefined;
}

function complete(preset: Preset, symbol: string, inferred: boolean): Instrument {
  return { ...preset, symbol, inferred, pricePrecision: decimalsOf(preset.tickSize) };
}

/**
 * The paper venue's own id for an instrument, whatever the spelling it was asked for: FX pairs as
 * EUR_USD, everything else upper-case without separators (BTCUSDT, AAPL). Risk, positions and the
 * audit log key by it, so EURUSD, eur/usd and EUR-USD can never be three positions.
 */
export function canonicalSymbol(symbol: string): string {
  const instrument = instrumentFor(symbol);
  const key = instrumentKey(symbol);
  return instrument.kind === 'fx' && key.length === 6 ? `${key.slice(0, 3)}_${key.slice(3)}` : key;
}

/** True for the preset instruments, which the venue also uses to convert currencies. */
export function isPreset(symbol: string): boolean {
  return PRESETS[instrumentKey(symbol)] !== undefined;
}

/** What an engine needs to check an order before sending it. */
export function rulesOf(instrument: Instrument): InstrumentRules {
  const { symbol, kind, tickSize, lotSize, minQuantity, quoteCurrency, pipSize } = instrument;
  return { symbol, kind, tickSize, lotSize, minQuantity, quoteCurrency, pipSize };
}

/** Decimal places cash in a currency is kept to: its cents, none for JPY, 8 for crypto. */
export function currencyDecimals(currency: string): number {
  const c = currency.toUpperCase();
  if (c === 'JPY' || c === 'KRW') return 0;
  if (c === 'USDT' || c === 'USDC' || c === 'BTC' || c === 'ETH') return 8;
  return 2;
}

/** USDT and USDC count as dollars, 1:1 (the paper venue does not model a de-peg). */
export function sameMoney(a: string, b: string): boolean {
  if (a === b) return true;
  const dollar = (c: string) => (c === 'USDT' || c === 'USDC' ? 'USD' : c);
  return dollar(a.toUpperCase()) === dollar(b.toUpperCase());
}
