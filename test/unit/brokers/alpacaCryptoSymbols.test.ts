/**
 * The Alpaca adapter against crypto pairs named the legacy way. Alpaca "Crypto Trading": "Note that symbology for
 * trading pairs has changed from our previous format, where BTC/USD was previously referred to as BTCUSD. Our API
 * has made proper changes to support the legacy convention as well for backwards compatibility." Positions (and
 * orders placed the old way) may come back as BTCUSD, with `asset_class` "crypto"; SPtrader trades the pair as
 * BTC/USD, so a BTCUSD position was another instrument: reconciliation saw a position nobody ordered, and closing
 * it sent an equity order for "BTCUSD" (refused as fractional shares).
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { parseAsset } from '../../../src/brokers/alpaca/market';
import { cryptoPairSymbol } from '../../../src/brokers/alpaca/wire';
import { staticCredentials } from '../../../src/brokers/credentials';
import { newClientOrderId } from '../../../src/common/ids';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const buy = (symbol: string, quantity: number, price: number): PlacedOrderRequest => ({
  symbol,
  side: 'buy',
  order_type: { type: 'limit', price },
  quantity,
  time_in_force: { type: symbol.includes('/') ? 'IOC' : 'GTC' },
  client_order_id: newClientOrderId('k'),
  metadata: {},
});

describe('Alpaca adapter: crypto pairs named the legacy way (BTCUSD)', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;

  beforeEach(async () => {
    fake = await startFakeAlpaca({ legacyCryptoSymbols: true });
    fake.setQuote('AAPL', 150, 150.1);
    fake.setQuote('BTC/USD', 60_000, 60_010);
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('a BTCUSD position is the BTC/USD SPtrader bought; an equity keeps its symbol', async () => {
    const r = await broker.submitOrder(buy('BTC/USD', 0.015, 60_020));
    assert.equal(r.status.status, 'filled');
    await broker.submitOrder(buy('AAPL', 2, 151));
    const positions = await broker.getPositions();
    assert.deepEqual(positions.map((p) => [p.symbol, p.quantity]).sort(), [
      ['AAPL', 2],
      ['BTC/USD', 0.015],
    ]);
    assert.deepEqual((await broker.getAccountInfo()).open_positions.map((p) => p.symbol).sort(), ['AAPL', 'BTC/USD']);
  });

  it('an order Alpaca names BTCUSD (crypto) is read as BTC/USD', async () => {
    const r = await broker.submitOrder(buy('BTC/USD', 0.015, 60_020));
    fake.setOrder(r.order_id, { symbol: 'BTCUSD' });
    const seen = await broker.getOrderStatus(r.order_id);
    assert.equal(seen.symbol, 'BTC/USD');
    assert.equal(seen.filled_quantity, 0.015);
  });

  it('splits on the quote currencies Alpaca lists (USD, USDT, USDC, BTC), only for crypto', () => {
    assert.equal(cryptoPairSymbol('BTCUSD', 'crypto'), 'BTC/USD');
    assert.equal(cryptoPairSymbol('ETHBTC', 'crypto'), 'ETH/BTC');
    assert.equal(cryptoPairSymbol('BTCUSDT', 'crypto'), 'BTC/USDT');
    assert.equal(cryptoPairSymbol('USDTUSD', 'crypto'), 'USDT/USD');
    assert.equal(cryptoPairSymbol('BTC/USD', 'crypto'), 'BTC/USD');
    assert.equal(cryptoPairSymbol('SQQQUSD', 'us_equity'), 'SQQQUSD');
    assert.equal(cryptoPairSymbol('AAPL', undefined), 'AAPL');
    assert.equal(cryptoPairSymbol('USD', 'crypto'), 'USD');
    // An asset named the legacy way (the Broker API's sample crypto asset is "BTCUSD") keeps its quote currency.
    const asset = (symbol: string) => ({
      symbol,
      class: 'crypto',
      tradable: true,
      min_order_size: '0.0001',
      min_trade_increment: '0.0001',
      price_increment: '0.000001',
    });
    assert.equal(parseAsset(asset('ETHBTC')).quoteCurrency, 'BTC');
    assert.equal(parseAsset(asset('ETH/BTC')).quoteCurrency, 'BTC');
    assert.equal(parseAsset(asset('BTCUSD')).quoteCurrency, 'USD');
  });
});

describe('Alpaca adapter: a venue that serves no asset route (brokers.md §5’s minimal server)', () => {
  let fake: FakeAlpaca;
  let broker: AlpacaBroker;

  beforeEach(async () => {
    fake = await startFakeAlpaca({ noAssetRoute: true });
    fake.setQuote('BTC/USD', 60_000, 60_010);
    broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
    });
    await broker.connect();
  });

  afterEach(async () => {
    await broker.disconnect();
    await fake.close();
  });

  it('a crypto order is sent without the local increment check (it was refused as UNKNOWN_SYMBOL, never sent)', async () => {
    const r = await broker.submitOrder(buy('BTC/USD', 0.015, 60_020));
    assert.equal(r.status.status, 'filled');
    assert.equal(r.filled_quantity, 0.015);
    assert.equal(fake.requestCount('POST /v2/orders'), 1);
  });
});
