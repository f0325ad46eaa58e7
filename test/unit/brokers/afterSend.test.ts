/**
 * After-send safety of every adapter, through its real client (fetch over our keep-alive transport,
 * the Alpaca SDK, ccxt, @stoqey/ib) against its fake venue on 127.0.0.1:
 * - every answer that does not prove the venue did nothing (each 5xx, a gateway's HTML 502/504, a
 *   reset after the request was written, a timeout, a malformed 2xx), on a submit and on a cancel,
 *   after the venue acted and without it: the outcome is unknown (never a rejection), the request
 *   reached the venue once, and `getOrderByClientId` then tells the truth (filled / working / none);
 * - a failed look-up throws (retryable), never reads as "not there";
 * - 429 (and Binance's 418, -1021) are resent after the Retry-After asked for (seconds or HTTP-date),
 *   within the bound; past it the error is retryable, never a rejected order;
 * - Binance: a 500 that created nothing is looked up as absent, and absence is conclusive after
 *   `absenceConclusiveAfterMs`;
 * - no error message or refusal reason shows a whole account id.
 * Retry waits go through an injected `sleep` that records them (no test sleeps for a Retry-After).
 * One line per venue is printed: faults tried, duplicate orders at the venue (always 0).
 *
 * Past 450 lines on purpose: the same fault table runs over every venue's harness, and the harnesses
 * (how each venue is started, quoted and faulted) are what make the table readable as one.
 */
import assert from 'node:assert/strict';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { BrokerApi } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { isBrokerError, type BrokerError } from '../../../src/brokers/errors';
import type { RetryPolicy } from '../../../src/brokers/retry';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { OrderResponse, PlacedOrderRequest } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { ACCOUNT_UID, startFakeBinance } from '../../fakes/binance/server';
import type { FakeFault, FakeVenue } from '../../fakes/control';
import { FAKE_TWS_ACCOUNT, startFakeTws } from '../../fakes/ib/server';
import { startFakeOanda } from '../../fakes/oanda/server';
import { readUntil } from '../../kit/orderUpdates';

const TIMEOUT_MS = 400;
const quiet = (): void => undefined;

interface Venue {
  broker: BrokerApi;
  fake: FakeVenue;
  /** The whole account id, which no message may show. */
  accountId: string;
  submitRoute: string;
  cancelRoute: string;
  /** Fills at once at the touch. */
  market(): PlacedOrderRequest;
  /** Rests, unfilled. */
  resting(): PlacedOrderRequest;
  /** Retry waits the adapter asked for. */
  sleeps: number[];
  /** Lets `ms` pass on the retry clock (a Retry-After the adapter must honour beyond one call). */
  pass(ms: number): void;
  stop(): Promise<void>;
}

interface Harness {
  name: string;
  http: boolean;
  start(): Promise<Venue>;
  /** Faults that do not apply, with why. */
  skip?: Partial<Record<string, string>>;
}

let seq = 0;
const cid = (venue: string): string => `as-${venue}-${process.pid}-${++seq}`;
const base = (
  venue: string,
  symbol: string,
  quantity: number,
): Omit<PlacedOrderRequest, 'order_type' | 'time_in_force'> => ({
  symbol,
  side: 'buy',
  quantity,
  client_order_id: cid(venue),
  metadata: {},
});

/** Retry waits recorded, on a clock of their own that only they (and `Venue.pass`) move. */
function recordingRetry(sleeps: number[], clock: { ms: number }): RetryPolicy {
  return {
    now: () => clock.ms,
    sleep: (ms) => {
      sleeps.push(ms);
      clock.ms += ms;
      return Promise.resolve();
    },
  };
}

const HARNESSES: Harness[] = [
  {
    name: 'alpaca',
    http: true,
    skip: {
      'cancel malformed 2xx':
        'Alpaca answers a cancel with 204 and no body: any 2xx is the acceptance, and the adapter reads the order afterwards',
    },
    async start() {
      const fake = await startFakeAlpaca();
      fake.setQuote('AAPL', 150, 150.1);
      const sleeps: number[] = [];
      const retryClock = { ms: 0 };
      const broker = new AlpacaBroker({
        baseUrl: fake.url,
        dataBaseUrl: fake.url,
        credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
        timeoutMs: TIMEOUT_MS,
        pollIntervalMs: 0,
        onError: quiet,
        retry: recordingRetry(sleeps, retryClock),
      });
      await broker.connect();
      return {
        broker,
        fake,
        accountId: 'PA3ZQ8X41234',
        submitRoute: 'POST /v2/orders',
        cancelRoute: 'DELETE /v2/orders/:id',
        market: () => ({
          ...base('alpaca', 'AAPL', 10),
          order_type: { type: 'market' },
          time_in_force: { type: 'GTC' },
        }),
        resting: () => ({
          ...base('alpaca', 'AAPL', 10),
          order_type: { type: 'limit', price: 140 },
          time_in_force: { type: 'GTC' },
        }),
        sleeps,
        pass: (ms) => {
          retryClock.ms += ms;
        },
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'oanda',
    http: true,
    async start() {
      const fake = await startFakeOanda();
      const sleeps: number[] = [];
      const retryClock = { ms: 0 };
      const broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
        pollIntervalMs: 0,
        timeoutMs: TIMEOUT_MS,
        onError: quiet,
        retry: recordingRetry(sleeps, retryClock),
      });
      await broker.connect();
      return {
        broker,
        fake,
        accountId: fake.accountId,
        submitRoute: 'POST /orders',
        cancelRoute: 'PUT /orders/{spec}/cancel',
        market: () => ({
          ...base('oanda', 'EUR_USD', 100),
          order_type: { type: 'market' },
          time_in_force: { type: 'FOK' },
        }),
        resting: () => ({
          ...base('oanda', 'EUR_USD', 100),
          order_type: { type: 'limit', price: 1.05 },
          time_in_force: { type: 'GTC' },
        }),
        sleeps,
        pass: (ms) => {
          retryClock.ms += ms;
        },
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'binance',
    http: true,
    async start() {
      const fake = await startFakeBinance();
      fake.setQuote('BTCUSDT', 30009, 30011);
      const sleeps: number[] = [];
      const retryClock = { ms: 0 };
      const broker = new BinanceBroker({
        environment: 'testnet',
        baseUrl: fake.url,
        credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
        timeoutMs: TIMEOUT_MS,
        pollIntervalMs: 0,
        enableRateLimit: false,
        onError: quiet,
        retry: recordingRetry(sleeps, retryClock),
      });
      await broker.connect();
      return {
        broker,
        fake,
        accountId: String(ACCOUNT_UID),
        submitRoute: 'POST /api/v3/order',
        cancelRoute: 'DELETE /api/v3/order',
        market: () => ({
          ...base('binance', 'BTCUSDT', 0.001),
          order_type: { type: 'market' },
          time_in_force: { type: 'GTC' },
        }),
        resting: () => ({
          ...base('binance', 'BTCUSDT', 0.001),
          order_type: { type: 'limit', price: 29000 },
          time_in_force: { type: 'GTC' },
        }),
        sleeps,
        pass: (ms) => {
          retryClock.ms += ms;
        },
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'ib',
    http: false,
    async start() {
      const fake = await startFakeTws();
      fake.setQuote('AAPL', 100, 100.1);
      const broker = new IbBroker({
        host: fake.host,
        port: fake.port,
        clientId: 70 + seq++,
        timeoutMs: TIMEOUT_MS,
        connectTimeoutMs: 2000,
        onError: quiet,
      });
      await broker.connect();
      return {
        broker,
        fake,
        accountId: FAKE_TWS_ACCOUNT,
        submitRoute: 'PLACE_ORDER',
        cancelRoute: 'CANCEL_ORDER',
        market: () => ({ ...base('ib', 'AAPL', 10), order_type: { type: 'market' }, time_in_force: { type: 'GTC' } }),
        resting: () => ({
          ...base('ib', 'AAPL', 10),
          order_type: { type: 'limit', price: 90 },
          time_in_force: { type: 'GTC' },
        }),
        sleeps: [],
        pass: () => undefined,
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
];

interface AfterSendFault {
  label: string;
  fault: FakeFault;
  /** The venue acted before the answer was lost. */
  placed: boolean;
}

function httpFaults(on: 'submit' | 'cancel'): AfterSendFault[] {
  const out: AfterSendFault[] = [];
  for (const status of [500, 502, 503, 504])
    for (const placed of [true, false])
      out.push({
        label: `${status}${placed ? ' after acting' : ' without acting'}`,
        fault: { kind: 'serverError', status, placed, on },
        placed,
      });
  out.push({
    label: '504 gateway page after acting',
    fault: { kind: 'serverError', status: 504, placed: true, gateway: true, on },
    placed: true,
  });
  out.push({
    label: '502 gateway page without acting',
    fault: { kind: 'serverError', status: 502, placed: false, gateway: true, on },
    placed: false,
  });
  for (const placed of [true, false]) {
    out.push({
      label: `reset after the request was read${placed ? ', after acting' : ', without acting'}`,
      fault: { kind: 'dropConnection', placed, on },
      placed,
    });
    out.push({
      label: `timeout${placed ? ' after acting' : ' without acting'}`,
      fault: { kind: 'timeoutAfterAccept', placed, on },
      placed,
    });
  }
  out.push({ label: 'malformed 2xx', fault: { kind: 'malformedBody', on }, placed: true });
  return out;
}

function socketFaults(on: 'submit' | 'cancel'): AfterSendFault[] {
  const out: AfterSendFault[] = [];
  for (const placed of [true, false]) {
    out.push({
      label: `error 1100 (connectivity lost)${placed ? ' after acting' : ' without acting'}`,
      fault: { kind: 'serverError', placed, on },
      placed,
    });
    out.push({
      label: `reset after the request was read${placed ? ', after acting' : ', without acting'}`,
      fault: { kind: 'dropConnection', placed, on },
      placed,
    });
    out.push({
      label: `timeout${placed ? ' after acting' : ' without acting'}`,
      fault: { kind: 'timeoutAfterAccept', placed, on },
      placed,
    });
  }
  if (on === 'submit') out.push({ label: 'malformed status', fault: { kind: 'malformedBody', on }, placed: true });
  return out;
}

async function failure(call: Promise<unknown>): Promise<BrokerError> {
  try {
    await call;
  } catch (e) {
    assert.ok(isBrokerError(e), `expected a BrokerError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the call to fail');
}

/**
 * Looks the order up until `done` holds, again after each update of it the venue reports (TWS sends its news
 * over the socket); reconnects first when the fault dropped the link. No timer: the test's timeout bounds it.
 */
async function lookUp(
  v: Venue,
  clientOrderId: string,
  done: (r: OrderResponse | undefined) => boolean,
): Promise<OrderResponse | undefined> {
  if (!v.broker.isConnected()) await v.broker.connect();
  return readUntil(
    v.broker,
    () => v.broker.getOrderByClientId(clientOrderId, { symbol: v.market().symbol }),
    done,
    (u) => u.order.client_order_id === clientOrderId,
  );
}

const figures = new Map<
  string,
  { submit: number; cancel: number; lookup: number; retry: number; duplicates: number }
>();

for (const h of HARNESSES) {
  describe(`after-send safety: ${h.name}`, function () {
    this.timeout(20_000);
    let v: Venue;
    const tally = { submit: 0, cancel: 0, lookup: 0, retry: 0, duplicates: 0 };
    figures.set(h.name, tally);

    before(async () => {
      v = await h.start();
    });
    after(async () => {
      await v.stop();
    });
    afterEach(async () => {
      if (!v.broker.isConnected()) await v.broker.connect();
    });

    for (const f of h.http ? httpFaults('submit') : socketFaults('submit')) {
      it(`submit, ${f.label}: outcome unknown, sent once, the look-up finds ${f.placed ? 'it filled' : 'nothing'}`, async () => {
        const o = v.market();
        const before = v.fake.requestCount(v.submitRoute);
        v.fake.injectNext(f.fault);
        const e = await failure(v.broker.submitOrder(o));
        assert.equal(e.outcomeUnknown, true, `${e.reason}: ${e.message}`);
        assert.equal(e.retryable, false);
        assert.equal(v.fake.requestCount(v.submitRoute) - before, 1, 'the submit reached the venue once');
        const held = v.fake.ordersWithClientId(o.client_order_id);
        assert.equal(held, f.placed ? 1 : 0);
        const found = await lookUp(v, o.client_order_id, (r) => (f.placed ? r?.status.status === 'filled' : true));
        if (f.placed) assert.equal(found?.status.status, 'filled', JSON.stringify(found?.status));
        else assert.equal(found, undefined, JSON.stringify(found?.status));
        assert.equal(v.fake.requestCount(v.submitRoute) - before, 1, 'nothing was resent');
        tally.submit++;
        if (held > 1) tally.duplicates++;
      });
    }

    for (const f of h.http ? httpFaults('cancel') : socketFaults('cancel')) {
      const skip = h.skip?.[`cancel ${f.label}`];
      it(`cancel, ${f.label}: outcome unknown, sent once, the look-up finds it ${f.placed ? 'cancelled' : 'working'}`, async function () {
        if (skip !== undefined) {
          console.log(`      skipped (${h.name}): ${skip}`);
          this.skip();
        }
        const o = v.resting();
        const placed = await v.broker.submitOrder(o);
        const before = v.fake.requestCount(v.cancelRoute);
        v.fake.injectNext(f.fault);
        const e = await failure(v.broker.cancelOrder(placed.order_id));
        assert.equal(e.outcomeUnknown, true, `${e.reason}: ${e.message}`);
        assert.equal(v.fake.requestCount(v.cancelRoute) - before, 1, 'the cancel reached the venue once');
        const want = f.placed ? 'cancelled' : 'submitted';
        const found = await lookUp(v, o.client_order_id, (r) => r?.status.status === want);
        assert.equal(found?.status.status, want, JSON.stringify(found?.status));
        assert.equal(v.fake.requestCount(v.cancelRoute) - before, 1, 'nothing was resent');
        if (!f.placed) await v.broker.cancelOrder(placed.order_id);
        tally.cancel++;
      });
    }

    if (h.http) {
      const lookupFaults: Array<[string, FakeFault]> = [
        ...[500, 502, 503, 504].map((status): [string, FakeFault] => [
          `${status}`,
          { kind: 'serverError', status, on: 'lookup' },
        ]),
        ['504 gateway page', { kind: 'serverError', status: 504, gateway: true, on: 'lookup' }],
        ['reset', { kind: 'dropConnection', placed: false, on: 'lookup' }],
        ['timeout', { kind: 'timeoutAfterAccept', placed: false, on: 'lookup' }],
        ['malformed 2xx', { kind: 'malformedBody', on: 'lookup' }],
      ];
      for (const [label, fault] of lookupFaults) {
        it(`a look-up by client id that fails (${label}) throws, retryable; it never reads as "not there"`, async () => {
          const o = v.resting();
          await v.broker.submitOrder(o);
          v.fake.injectNext(fault);
          const e = await failure(v.broker.getOrderByClientId(o.client_order_id, { symbol: o.symbol }));
          assert.equal(e.retryable, true, `${e.reason}: ${e.message}`);
          // And for an id the venue never saw: a failure is still a failure, not absence.
          v.fake.injectNext({
            ...fault,
            kind: fault.kind === 'malformedBody' ? 'serverError' : fault.kind,
          } as FakeFault);
          const unknown = await failure(v.broker.getOrderByClientId(cid(h.name), { symbol: o.symbol }));
          assert.equal(unknown.retryable, true);
          assert.equal(
            await v.broker.getOrderByClientId(cid(h.name), { symbol: o.symbol }),
            undefined,
            "the venue's own not-found is undefined",
          );
          tally.lookup++;
        });
      }

      it('429 with Retry-After in seconds: resent once after the delay asked for, one order at the venue', async () => {
        const o = v.market();
        const before = v.fake.requestCount(v.submitRoute);
        v.sleeps.length = 0;
        v.fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 2 });
        const r = await v.broker.submitOrder(o);
        assert.equal(r.client_order_id, o.client_order_id);
        assert.notEqual(r.status.status, 'rejected');
        assert.deepEqual(v.sleeps, [2000]);
        assert.equal(v.fake.requestCount(v.submitRoute) - before, 2);
        assert.equal(v.fake.ordersWithClientId(o.client_order_id), 1);
        tally.retry++;
      });

      it('429 with Retry-After as an HTTP-date: waits until that date', async () => {
        const o = v.market();
        v.sleeps.length = 0;
        v.fake.injectNext({ kind: 'rateLimit', retryAfterDate: new Date(Date.now() + 3000).toUTCString() });
        await v.broker.submitOrder(o);
        assert.equal(v.sleeps.length, 1);
        const waited = v.sleeps[0] as number;
        // An HTTP-date has whole seconds: between 2 and 3 s from now.
        assert.ok(waited > 1000 && waited <= 3000, `waited ${waited} ms`);
        assert.equal(v.fake.ordersWithClientId(o.client_order_id), 1);
        tally.retry++;
      });

      it('429 past the bound: a retryable RATE_LIMITED error, not a rejection; nothing placed', async () => {
        const o = v.market();
        const before = v.fake.requestCount(v.submitRoute);
        for (let i = 0; i < 3; i++) v.fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 1 });
        const e = await failure(v.broker.submitOrder(o));
        assert.equal(e.reason, 'RATE_LIMITED');
        assert.equal(e.retryable, true);
        assert.equal(e.outcomeUnknown, false);
        assert.equal(e.notActed, true);
        assert.equal(v.fake.requestCount(v.submitRoute) - before, 3, 'three attempts (the default bound)');
        assert.equal(v.fake.ordersWithClientId(o.client_order_id), 0);
        // A Retry-After beyond the 5 s bound ends the retries at once.
        const o2 = v.market();
        const before2 = v.fake.requestCount(v.submitRoute);
        v.fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 60 });
        const e2 = await failure(v.broker.submitOrder(o2));
        assert.equal(e2.reason, 'RATE_LIMITED');
        assert.equal(e2.retryable, true);
        assert.equal(e2.retryAfterMs, 60_000);
        assert.equal(v.fake.requestCount(v.submitRoute) - before2, 1);
        // The minute asked for passes before the next test sends anything (Binance holds every request till then).
        v.pass(60_000);
        tally.retry++;
      });
    }

    it('an error message never shows the whole account id', async () => {
      const o = v.market();
      v.fake.injectNext({ kind: 'errorEchoingAccount' });
      let text: string;
      try {
        const r = await v.broker.submitOrder(o);
        assert.equal(r.status.status, 'rejected');
        text = r.status.status === 'rejected' ? r.status.reason : '';
      } catch (e) {
        assert.ok(isBrokerError(e));
        text = e.message;
      }
      assert.ok(!text.includes(v.accountId), `"${text}" shows ${v.accountId}`);
      assert.ok(!text.includes(encodeURIComponent(v.accountId)));
      assert.ok(text.includes(`…${v.accountId.slice(-4)}`), `"${text}" should keep the last four characters`);
    });
  });
}

describe('after-send safety: Binance specifics', function () {
  this.timeout(20_000);
  let v: Venue;
  before(async () => {
    v = await (HARNESSES.find((h) => h.name === 'binance') as Harness).start();
  });
  after(async () => {
    await v.stop();
  });

  it("a 500 that created nothing: unknown, five look-ups find nothing, and absence is conclusive after recvWindow + 1 s + the engine's 10 s + the retry bound", async () => {
    const o = v.market();
    v.fake.injectNext({ kind: 'serverError', status: 500 });
    const e = await failure(v.broker.submitOrder(o));
    assert.equal(e.outcomeUnknown, true);
    for (let i = 0; i < 5; i++) assert.equal(await v.broker.getOrderByClientId(o.client_order_id), undefined);
    // rest-api.md "Timing security": forwarded to the matching engine only within recvWindow (+1 s of skew);
    // "General API Information": the API waits up to 10 s for the engine, and past that (-1007) the "execution
    // status [is] unknown", so an order forwarded in time may still appear up to 10 s later.
    assert.equal(v.broker.absenceConclusiveAfterMs, 5000 + 1000 + 10_000 + 5000);
    assert.equal(v.fake.ordersWithClientId(o.client_order_id), 0);
  });

  it('-1021 (outside recvWindow) and 418 with Retry-After: resent after a -1021; a ban past the bound is a retryable error', async () => {
    const o = v.market();
    const before = v.fake.requestCount(v.submitRoute);
    v.sleeps.length = 0;
    v.fake.injectNext({ kind: 'timestampOutsideRecvWindow' });
    const r = await v.broker.submitOrder(o);
    assert.equal(r.status.status, 'filled');
    assert.equal(v.fake.requestCount(v.submitRoute) - before, 2);
    assert.deepEqual(v.sleeps, [250]);
    const o2 = v.market();
    v.fake.injectNext({ kind: 'rateLimit', status: 418, retryAfterSeconds: 120 });
    const e = await failure(v.broker.submitOrder(o2));
    assert.equal(e.reason, 'RATE_LIMITED');
    assert.equal(e.retryable, true);
    assert.equal(e.outcomeUnknown, false);
    assert.equal(v.fake.ordersWithClientId(o2.client_order_id), 0);
  });

  it('other adapters leave absenceConclusiveAfterMs unset (their venues document no such rule)', () => {
    const creds = staticCredentials({});
    const unset: BrokerApi[] = [
      new AlpacaBroker({ credentials: creds }),
      new OandaBroker({ credentials: creds }),
      new IbBroker({ clientId: 1 }),
    ];
    for (const b of unset) assert.equal(b.absenceConclusiveAfterMs, undefined, b.id);
  });
});

after(() => {
  for (const [name, t] of figures) {
    const total = t.submit + t.cancel + t.lookup + t.retry;
    console.log(
      `after-send ${name}: ${total} faults tried (submit ${t.submit}, cancel ${t.cancel}, look-up ${t.lookup}, rate limit ${t.retry}), duplicate orders at venue ${t.duplicates}`,
    );
  }
});
