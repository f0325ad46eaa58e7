/**
 * Alpaca market data and assets, pure: latest stock and crypto quotes → our quotes, an asset → our
 * instrument rules (price increments and lot sizes).
 */
import { z } from 'zod';
import type { InstrumentRules, Quote } from '../../orders/model';
import { BrokerError } from '../errors';
import { cryptoPairSymbol, decimal, isoTime, validate } from './wire';

const QuoteBody = z.object({
  ap: z.number().nonnegative(),
  as: z.number().nonnegative(),
  bp: z.number().nonnegative(),
  bs: z.number().nonnegative(),
  t: isoTime,
});
export const AlpacaStockQuoteSchema = z.object({ symbol: z.string().optional(), quote: QuoteBody });
export const AlpacaCryptoQuotesSchema = z.object({ quotes: z.record(z.string(), QuoteBody) });

function toQuote(symbol: string, q: z.output<typeof QuoteBody>): Quote {
  if (!(q.bp > 0) || !(q.ap > 0))
    throw new BrokerError(
      'VENUE_UNAVAILABLE',
      `Alpaca has no two-sided quote for ${symbol} right now (bid ${q.bp}, ask ${q.ap}); the market may be closed`,
    );
  // The latest-quote endpoint carries no trade: `last` is the mid.
  return {
    symbol,
    bid: q.bp,
    ask: q.ap,
    last: Number(((q.bp + q.ap) / 2).toPrecision(12)),
    bid_size: q.bs,
    ask_size: q.as,
    timestamp: q.t,
  };
}

export function parseStockQuote(raw: unknown, symbol: string): Quote {
  return toQuote(symbol, validate(AlpacaStockQuoteSchema, raw, 'a quote').quote);
}

export function parseCryptoQuote(raw: unknown, symbol: string): Quote {
  const q = validate(AlpacaCryptoQuotesSchema, raw, 'a crypto quote').quotes[symbol];
  if (q === undefined) throw new BrokerError('UNKNOWN_SYMBOL', `Alpaca has no crypto quote for ${symbol}`);
  return toQuote(symbol, q);
}

export const AlpacaAssetSchema = z.object({
  symbol: z.string().min(1),
  class: z.string(),
  tradable: z.boolean(),
  fractionable: z.boolean().optional(),
  min_order_size: decimal.nullish(),
  min_trade_increment: decimal.nullish(),
  price_increment: decimal.nullish(),
});

/**
 * Instrument rules. Equities: tick 0.01 (valid at every price; Alpaca also allows 0.0001 below
 * $1, see `equityTick`), whole shares. Crypto: the asset's own increments.
 */
export function parseAsset(raw: unknown): InstrumentRules {
  const a = validate(AlpacaAssetSchema, raw, 'an asset');
  if (!a.tradable) throw new BrokerError('UNKNOWN_SYMBOL', `${a.symbol} is not tradable on Alpaca`);
  const crypto = a.class === 'crypto';
  if (!crypto)
    return {
      symbol: a.symbol,
      kind: 'equity',
      tickSize: 0.01,
      lotSize: 1,
      minQuantity: 1,
      quoteCurrency: 'USD',
      pipSize: 0.01,
    };
  const tick = a.price_increment ?? undefined;
  const lot = a.min_trade_increment ?? undefined;
  if (tick === undefined || !(tick > 0))
    throw new BrokerError('BAD_RESPONSE', `Alpaca sent crypto asset ${a.symbol} without a price_increment`);
  if (lot === undefined || !(lot > 0))
    throw new BrokerError('BAD_RESPONSE', `Alpaca sent crypto asset ${a.symbol} without a min_trade_increment`);
  // The pair as BTC/USD, also when the asset names it the legacy way (BTCUSD, ETHBTC).
  const quoteCurrency = cryptoPairSymbol(a.symbol, 'crypto').split('/')[1] ?? 'USD';
  return {
    symbol: a.symbol,
    kind: 'crypto',
    tickSize: tick,
    lotSize: lot,
    minQuantity: a.min_order_size ?? lot,
    quoteCurrency,
    pipSize: tick,
  };
}
