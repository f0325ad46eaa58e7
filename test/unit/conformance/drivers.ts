/**
 * The venues the conformance suite runs against: the paper venue (behind `FaultInjectingBroker`)
 * and every adapter against its fake on 127.0.0.1. Each driver starts one venue and one connected
 * broker, and says how the venue is quoted, which faults it can suffer, and how prices are written.
 */
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type {
  BrokerApi,
  BrokerCapabilities,
  BrokerEnvironment,
  Disposable,
  OrderUpdate,
} from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { QuoteSource } from '../../../src/brokers/paper/feed';
import { FaultInjectingBroker, type FaultKind } from '../../../src/brokers/paper/faults';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock, type Clock } from '../../../src/common/clock';
import type {
  AccountInfo,
  InstrumentRules,
  OrderResponse,
  PlacedOrderRequest,
  Position,
  Quote,
} from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeBinance } from '../../fakes/binance/server';
import type { FakeFault } from '../../fakes/control';
import { startFakeTws } from '../../fakes/ib/server';
import { startFakeOanda } from '../../fakes/oanda/server';

export type FaultName = Exclude<
  FakeFault['kind'],
  'reject' | 'timestampOutsideRecvWindow' | 'errorEchoingAccount' | 'tooManyOrders' | 'wafBlock' | 'alteredBody'
>;
export const FAULT_NAMES: readonly FaultName[] = [
  'latency',
  'timeoutAfterAccept',
  'serverError',
  'rateLimit',
  'dropConnection',
  'malformedBody',
  'duplicateClientId',
];

/** The part of `FakeVenue` the suite uses. */
export interface VenueControl {
  injectNext(fault: FakeFault): void;
  ordersWithClientId(clientOrderId: string): number;
  /** Requests received (all routes): a local refusal leaves it unchanged. */
  requestCount(route?: string): number;
}

export interface Venue {
  broker: BrokerApi;
  fake: VenueControl;
  symbol: string;
  /** The order-submit route for `requestCount` (no blind resubmits). */
  submitRoute: string;
  /** The touch every case starts from. */
  bid: number;
  ask: number;
  /** Decimals of the price grid (prices are rounded to it). */
  decimals: number;
  quantity: number;
  /** The venue's time (GTD expiry must be after it). */
  now(): number;
  /** Moves the touch of `symbol` at the venue. */
  quote(bid: number, ask: number): void;
  /** Faults this venue cannot suffer, with the reason (the case is skipped and the reason printed). */
  inapplicable: Partial<Record<FaultName, string>>;
  /** What the venue's injected `reject` reason shows up as in the rejection. */
  rejectReason: string;
}

export interface VenueDriver {
  name: string;
  start(): Promise<Venue>;
  stop(): Promise<void>;
}

/** Adapter deadline for the fault cases (a timeoutAfterAccept costs this much). */
const TIMEOUT_MS = 1000;
const quiet = (): void => undefined;

// --- paper ---

class SettableQuotes implements QuoteSource {
  private readonly touches = new Map<string, { bid: number; ask: number }>();
  set(symbol: string, bid: number, ask: number): void {
    this.touches.set(instrumentKey(symbol), { bid, ask });
  }
  quote(symbol: string, atMs: number): Quote {
    const t = this.touches.get(instrumentKey(symbol)) ?? { bid: 100, ask: 100.02 };
    return { symbol, bid: t.bid, ask: t.ask, last: t.bid, bid_size: 1000, ask_size: 1000, timestamp: atMs };
  }
}

/**
 * Sits between `FaultInjectingBroker` and the paper venue and plays the fake's bookkeeping role:
 * it counts every call that reaches the venue and every order the venue accepted per client id.
 */
class CountingBroker implements BrokerApi {
  readonly id: string;
  readonly displayName: string;
  readonly environment: BrokerEnvironment;
  readonly capabilities: BrokerCapabilities;
  calls = 0;
  submits = 0;
  readonly placed = new Map<string, number>();

  constructor(private readonly inner: PaperBroker) {
    this.id = inner.id;
    this.displayName = inner.displayName;
    this.environment = inner.environment;
    this.capabilities = inner.capabilities;
  }
  private count<T>(run: () => Promise<T>): Promise<T> {
    this.calls++;
    return run();
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }
  isConnected(): boolean {
    return this.inner.isConnected();
  }
  async submitOrder(order: PlacedOrderRequest): Promise<OrderResponse> {
    this.submits++;
    const r = await this.count(() => this.inner.submitOrder(order));
    this.placed.set(order.client_order_id, (this.placed.get(order.client_order_id) ?? 0) + 1);
    return r;
  }
  cancelOrder(orderId: string): Promise<void> {
    return this.count(() => this.inner.cancelOrder(orderId));
  }
  getOrderStatus(orderId: string): Promise<OrderResponse> {
    return this.count(() => this.inner.getOrderStatus(orderId));
  }
  getOrderByClientId(clientOrderId: string): Promise<OrderResponse | undefined> {
    return this.count(() => this.inner.getOrderByClientId(clientOrderId));
  }
  listOpenOrders(): Promise<OrderResponse[]> {
    return this.count(() => this.inner.listOpenOrders());
  }
  getAccountInfo(): Promise<AccountInfo> {
    return this.count(() => this.inner.getAccountInfo());
  }
  getPositions(): Promise<Position[]> {
    return this.count(() => this.inner.getPositions());
  }
  getQuote(symbol: string): Promise<Quote> {
    return this.count(() => this.inner.getQuote(symbol));
  }
  getInstrument(symbol: string): Promise<InstrumentRules> {
    return this.count(() => this.inner.getInstrument(symbol));
  }
  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.inner.onOrderUpdate(listener);
  }
}

const PAPER_FAULTS: Partial<Record<FakeFault['kind'], FaultKind>> = {
  reject: 'reject',
  timeoutAfterAccept: 'timeoutAfterAccept',
  serverError: 'errorBeforeSend',
  dropConnection: 'disconnectMidFill',
};

function paperDriver(): VenueDriver {
  let broker: FaultInjectingBroker | undefined;
  return {
    name: 'paper',
    async start() {
      const clock: Clock = new TestClock(Date.UTC(2026, 0, 5, 15, 0, 0));
      const quotes = new SettableQuotes();
      const paper = new PaperBroker({ clock, quotes, pollIntervalMs: 0, depth: false });
      const counting = new CountingBroker(paper);
      const faulty = new FaultInjectingBroker(counting, { clock });
      broker = faulty;
      await faulty.connect();
      const symbol = 'AAPL';
      return {
        broker: faulty,
        fake: {
          injectNext(fault) {
            const kind = PAPER_FAULTS[fault.kind];
            if (kind === undefined) throw new Error(`the paper venue has no ${fault.kind} fault`);
            faulty.injectNext(
              kind,
              fault.kind === 'reject' && fault.reason !== undefined ? { reason: fault.reason } : {},
            );
          },
          ordersWithClientId: (id) => counting.placed.get(id) ?? 0,
          requestCount: (route) => (route === 'submit' ? counting.submits : counting.calls),
        },
        symbol,
        submitRoute: 'submit',
        bid: 100,
        ask: 100.02,
        decimals: 2,
        quantity: 10,
        now: () => clock.now(),
        quote: (bid, ask) => quotes.set(symbol, bid, ask),
        inapplicable: {
          latency:
            'FaultInjectingBroker takes latency as a plan for every call (latencyMs), not as a scripted next-submit fault',
          rateLimit: 'the embedded paper venue has no rate limit and FaultInjectingBroker no rate-limit fault',
          malformedBody: 'the paper venue answers in-process objects: there is no body to corrupt',
          duplicateClientId:
            'FaultInjectingBroker has no spurious duplicate-client-id fault (a real reuse is refused by the venue)',
        },
        rejectReason: 'insufficient margin (conformance)',
      };
    },
    async stop() {
      await broker?.disconnect();
    },
  };
}

// --- OANDA ---

function oandaDriver(): VenueDriver {
  let stopAll = async (): Promise<void> => undefined;
  return {
    name: 'oanda',
    async start() {
      const fake = await startFakeOanda();
      const broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
        pollIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
        onError: quiet,
      });
      stopAll = async () => {
        await broker.disconnect();
        await fake.close();
      };
      await broker.connect();
      return {
        broker,
        fake,
        symbol: 'EUR_USD',
        submitRoute: 'POST /orders',
        bid: 1.0999,
        ask: 1.1001,
        decimals: 5,
        quantity: 100,
        now: () => Date.now(),
        quote: (bid, ask) => fake.setQuote('EUR_USD', bid, ask),
        inapplicable: {},
        rejectReason: 'INSUFFICIENT_MARGIN',
      };
    },
    stop: () => stopAll(),
  };
}

// --- Alpaca ---

function alpacaDriver(): VenueDriver {
  let stopAll = async (): Promise<void> => undefined;
  return {
    name: 'alpaca',
    async start() {
      const fake = await startFakeAlpaca();
      const broker = new AlpacaBroker({
        baseUrl: fake.url,
        dataBaseUrl: fake.url,
        credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
        timeoutMs: TIMEOUT_MS,
        pollIntervalMs: 0,
        onError: quiet,
      });
      stopAll = async () => {
        await broker.disconnect();
        await fake.close();
      };
      fake.setQuote('AAPL', 150, 150.1);
      await broker.connect();
      return {
        broker,
        fake,
        symbol: 'AAPL',
        submitRoute: 'POST /v2/orders',
        bid: 150,
        ask: 150.1,
        decimals: 2,
        quantity: 10,
        now: () => Date.now(),
        quote: (bid, ask) => fake.setQuote('AAPL', bid, ask),
        inapplicable: {},
        rejectReason: 'insufficient buying power (conformance)',
      };
    },
    stop: () => stopAll(),
  };
}

// --- Binance ---

function binanceDriver(): VenueDriver {
  let stopAll = async (): Promise<void> => undefined;
  return {
    name: 'binance',
    async start() {
      const fake = await startFakeBinance();
      const broker = new BinanceBroker({
        environment: 'testnet',
        baseUrl: fake.url,
        credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
        timeoutMs: TIMEOUT_MS,
        pollIntervalMs: 0,
        enableRateLimit: false,
        onError: quiet,
      });
      stopAll = async () => {
        await broker.disconnect();
        await fake.close();
      };
      await broker.connect();
      return {
        broker,
        fake,
        symbol: 'BTCUSDT',
        submitRoute: 'POST /api/v3/order',
        bid: 30009,
        ask: 30011,
        decimals: 2,
        quantity: 0.001,
        now: () => Date.now(),
        quote: (bid, ask) => fake.setQuote('BTCUSDT', bid, ask),
        inapplicable: {},
        rejectReason: 'Account has insufficient balance for requested action. (conformance)',
      };
    },
    stop: () => stopAll(),
  };
}

// --- Interactive Brokers ---

let ibClientId = 40;

function ibDriver(): VenueDriver {
  let stopAll = async (): Promise<void> => undefined;
  return {
    name: 'ib',
    async start() {
      const fake = await startFakeTws();
      fake.setQuote('AAPL', 100, 100.1);
      const broker = new IbBroker({
        host: fake.host,
        port: fake.port,
        clientId: ++ibClientId,
        timeoutMs: TIMEOUT_MS,
        connectTimeoutMs: 2000,
        onError: quiet,
      });
      stopAll = async () => {
        await broker.disconnect();
        await fake.close();
      };
      await broker.connect();
      return {
        broker,
        fake,
        symbol: 'AAPL',
        submitRoute: 'PLACE_ORDER',
        bid: 100,
        ask: 100.1,
        decimals: 2,
        quantity: 10,
        now: () => Date.now(),
        quote: (bid, ask) => fake.setQuote('AAPL', bid, ask),
        inapplicable: {},
        rejectReason: 'insufficient margin (conformance)',
      };
    },
    stop: () => stopAll(),
  };
}

export const VENUE_DRIVERS: ReadonlyArray<() => VenueDriver> = [
  paperDriver,
  oandaDriver,
  alpacaDriver,
  binanceDriver,
  ibDriver,
];
