/**
 * What reading one venue's submit reply costs with zod, printed before the adapters' submitOrder p50
 * of the same run, so it reads as a share of the round trip. Hand-written readers beside the schemas
 * (the "fast paths") saved 5–28 µs of it on a 1,200–9,000 µs submit and were removed (BENCHMARKS.md,
 * 2026-12-02, "Venue reply fast paths").
 */
import { monotonicMs } from '../src/common/clock';
import { AlpacaOrderSchema } from '../src/brokers/alpaca/orders';
import { RawOrderSchema } from '../src/brokers/binance/orders';
import { SubmitReplySchema } from '../src/brokers/oanda/orders';
import { quantile } from './stats';

const ALPACA_ORDER = {
  id: '61e69015-8549-4bfd-b9c3-01e75843f47d',
  client_order_id: 'sp-1700000000000-1',
  created_at: '2024-01-02T15:00:00.000Z',
  updated_at: '2024-01-02T15:00:00.010Z',
  submitted_at: '2024-01-02T15:00:00.001Z',
  filled_at: '2024-01-02T15:00:00.010Z',
  expired_at: null,
  canceled_at: null,
  failed_at: null,
  expires_at: null,
  asset_id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415',
  symbol: 'AAPL',
  asset_class: 'us_equity',
  qty: '1',
  filled_qty: '1',
  filled_avg_price: '190.1',
  order_class: '',
  order_type: 'market',
  type: 'market',
  side: 'buy',
  time_in_force: 'gtc',
  limit_price: null,
  stop_price: null,
  status: 'filled',
  extended_hours: false,
};

const BINANCE_REPLY = {
  symbol: 'BTCUSDT',
  orderId: 28,
  orderListId: -1,
  clientOrderId: 'sp-1',
  transactTime: 1700000000100,
  price: '0.00000000',
  origQty: '0.00100000',
  executedQty: '0.00100000',
  cummulativeQuoteQty: '30.01100000',
  status: 'FILLED',
  timeInForce: 'GTC',
  type: 'MARKET',
  side: 'BUY',
  workingTime: 1700000000100,
  selfTradePreventionMode: 'NONE',
  fills: [{ price: '30011.00', qty: '0.00100000', commission: '0.00000100', commissionAsset: 'BTC', tradeId: 56 }],
};

const OANDA_REPLY = {
  orderCreateTransaction: {
    id: '6356',
    accountID: '101-004-1435156-001',
    userID: 1435156,
    batchID: '6356',
    requestID: '60993830306051098',
    time: '2024-01-02T15:00:00.000000000Z',
    type: 'MARKET_ORDER',
    instrument: 'EUR_USD',
    units: '1000',
    timeInForce: 'IOC',
    positionFill: 'DEFAULT',
    reason: 'CLIENT_ORDER',
    clientExtensions: { id: 'sp-1' },
  },
  orderFillTransaction: {
    id: '6357',
    accountID: '101-004-1435156-001',
    time: '2024-01-02T15:00:00.000000000Z',
    type: 'ORDER_FILL',
    orderID: '6356',
    clientOrderID: 'sp-1',
    instrument: 'EUR_USD',
    units: '1000',
    price: '1.08520',
    fullVWAP: '1.08520',
    reason: 'MARKET_ORDER',
    pl: '0.0000',
    financing: '0.0000',
    commission: '0.0000',
    accountBalance: '100000.0000',
  },
  relatedTransactionIDs: ['6356', '6357'],
  lastTransactionID: '6357',
};

/** µs per call of `fn` on fresh copies of `raw` (a reply is parsed from JSON each time). */
function perCall(raw: unknown, fn: (value: unknown) => unknown, n: number): number {
  const text = JSON.stringify(raw);
  const samples: number[] = [];
  for (let round = 0; round < 20; round++) {
    const copies = Array.from({ length: n }, () => JSON.parse(text) as unknown);
    const t = monotonicMs();
    for (const c of copies) fn(c);
    samples.push(((monotonicMs() - t) * 1000) / n);
  }
  return quantile(samples, 0.5);
}

export interface ReplyParseFigure {
  venue: string;
  zodUs: number;
}

export function benchReplyParse(n = 2000): ReplyParseFigure[] {
  const cases: Array<[string, unknown, (v: unknown) => { success: boolean }]> = [
    ['oanda', OANDA_REPLY, (v) => SubmitReplySchema.safeParse(v)],
    ['alpaca', ALPACA_ORDER, (v) => AlpacaOrderSchema.safeParse(v)],
    ['binance', BINANCE_REPLY, (v) => RawOrderSchema.safeParse(v)],
  ];
  console.log('\n## Reading one submit reply with its zod schema (median of 20 rounds of fresh JSON.parse copies)');
  const out: ReplyParseFigure[] = [];
  for (const [venue, raw, zod] of cases) {
    if (!zod(raw).success) throw new Error(`${venue}: the schema refused the bench reply`);
    const zodUs = perCall(raw, zod, n);
    out.push({ venue, zodUs });
    console.log(`${venue.padEnd(8)} zod ${zodUs.toFixed(2)} µs per reply`);
  }
  return out;
}
