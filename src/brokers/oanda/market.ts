/**
 * OANDA instruments and prices, pure: v20 instrument precision → our instrument rules, v20 prices → our
 * quotes and mids.
 */
import { z } from 'zod';
import { type InstrumentRules, type Quote } from '../../orders/model';
import { BrokerError } from '../errors';
import { flagIfStale, notLive } from '../quoteFreshness';
import { decimal, time, validate } from './wire';

export const V20InstrumentSchema = z.looseObject({
  name: z.string().min(1),
  type: z.string(),
  pipLocation: z.number().int(),
  displayPrecision: z.number().int().min(0).max(12),
  tradeUnitsPrecision: z.number().int().min(0).max(12),
  minimumTradeSize: decimal,
  maximumOrderUnits: decimal.optional(),
});
export type V20Instrument = z.output<typeof V20InstrumentSchema>;
const InstrumentsReplySchema = z.object({ instruments: z.array(V20InstrumentSchema) });

export function parseInstruments(raw: unknown): V20Instrument[] {
  return validate(InstrumentsReplySchema, raw, 'an instrument list').instruments;
}

const pow10Exact = (n: number): number => Number((10 ** n).toFixed(Math.max(0, -n)));
/** 10^n for the precisions OANDA uses (-12…12), computed once. */
const POW10 = Array.from({ length: 25 }, (_, i) => pow10Exact(i - 12));
export const pow10 = (n: number): number =>
  Number.isInteger(n) && n >= -12 && n <= 12 ? (POW10[n + 12] as number) : pow10Exact(n);

/** OANDA's precision fields as our rules: tick = 10^-displayPrecision, lot = 10^-tradeUnitsPrecision, pip = 10^pipLocation. */
export function instrumentRules(i: V20Instrument): InstrumentRules {
  const parts = i.name.split('_');
  return {
    symbol: i.name,
    kind: i.type === 'CURRENCY' ? 'fx' : 'other',
    tickSize: pow10(-i.displayPrecision),
    lotSize: pow10(-i.tradeUnitsPrecision),
    minQuantity: i.minimumTradeSize,
    quoteCurrency: parts.length > 1 ? (parts[parts.length - 1] ?? '') : '',
    pipSize: pow10(i.pipLocation),
  };
}

/**
 * PriceBucket (developer.oanda.com/rest-live-v20/pricing-common-df): `liquidity` is "(integer or decimal if
 * available)"; v20 writes an integer as a JSON number and a decimal as a string, so both are read.
 */
const liquidity = z.union([z.number(), decimal]).pipe(z.number().nonnegative());
const PriceBucketSchema = z.looseObject({ price: decimal, liquidity: liquidity.optional() });
const V20PriceSchema = z.looseObject({
  instrument: z.string(),
  time,
  tradeable: z.boolean().optional(),
  bids: z.array(PriceBucketSchema),
  asks: z.array(PriceBucketSchema),
  closeoutBid: decimal.optional(),
  closeoutAsk: decimal.optional(),
});
export type V20Price = z.output<typeof V20PriceSchema>;
const PricingReplySchema = z.object({ prices: z.array(V20PriceSchema) });

export function parsePrices(raw: unknown): V20Price[] {
  return validate(PricingReplySchema, raw, 'prices').prices;
}

/** The mid, without float noise. */
const midOf = (bid: number, ask: number): number => Number(((bid + ask) / 2).toFixed(10));

/**
 * A v20 price as our Quote; `last` is the mid (OANDA quotes, it does not print trades). Not the live price
 * (src/brokers/quoteFreshness.ts) when OANDA says it is not tradeable (ClientPrice.tradeable, developer.oanda.com
 * rest-live-v20/pricing-df: "Flag indicating if the Price is tradeable or not": false while the market is closed or
 * the instrument halted, the price then being the last one before), or when its `time` is over a minute old at `now`.
 */
export function quoteFromV20(p: V20Price, now: number): Quote {
  const bid = p.bids[0]?.price ?? p.closeoutBid;
  const ask = p.asks[0]?.price ?? p.closeoutAsk;
  if (bid === undefined || ask === undefined || bid <= 0 || ask <= 0)
    throw new BrokerError(
      'VENUE_UNAVAILABLE',
      `OANDA has no price for ${p.instrument} right now${p.tradeable === false ? ' (not tradeable: market closed?)' : ''}`,
    );
  const quote: Quote = {
    symbol: p.instrument,
    bid,
    ask,
    last: midOf(bid, ask),
    bid_size: p.bids[0]?.liquidity ?? 0,
    ask_size: p.asks[0]?.liquidity ?? 0,
    timestamp: p.time,
  };
  if (p.tradeable === false)
    return notLive(
      quote,
      `OANDA marks ${p.instrument} not tradeable (market closed or halted): its price from ${new Date(p.time).toISOString()} is the last one before`,
    );
  return flagIfStale(quote, 'OANDA', now);
}

export const midOfPrice = (p: V20Price): number | undefined => {
  const bid = p.bids[0]?.price ?? p.closeoutBid;
  const ask = p.asks[0]?.price ?? p.closeoutAsk;
  return bid === undefined || ask === undefined ? undefined : midOf(bid, ask);
};
