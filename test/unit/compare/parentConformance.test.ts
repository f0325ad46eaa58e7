/**
 * Parent conformance (issue 15): a bracket and a trailing stop carried out by the engine (ParentOrders
 * over a real trading session: engine, risk, audit log) on the paper venue and on each broker's fake
 * (OANDA, Alpaca, Binance, IB), through the real adapters polling their fake on 127.0.0.1.
 *
 * What SPtrader does on every venue today, and the cases check it:
 * - bracket: the entry, then the exits as the venue's own orders (a GTC stop and a GTC limit, which every
 *   venue here takes natively), linked one-cancels-other by the engine (emulated locally). Each child
 *   reaches the venue exactly once; when the take-profit fills, the stop's cancel reaches the venue.
 * - trailing stop: native where the venue has a standalone trailing stop that means what ours does, per its
 *   public documentation (Alpaca `trailing_stop` by trail_price or trail_percent; IB `TRAIL` by auxPrice or
 *   trailingPercent; Binance spot STOP_LOSS with `trailingDelta`, whole BIPS only): one order rests at the
 *   venue and the venue trails and triggers it; the engine follows it like any order, so the parent's cancel,
 *   the emergency stop and a restart reach it. Emulated elsewhere, and the parent says why: on paper (no
 *   trailing order of its own), on OANDA (its TrailingStopLossOrder belongs to one open trade and closes all
 *   of it), on Binance for a trail by price distance; then nothing rests at the venue while it trails and,
 *   when the stop is hit, one market order reaches it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import type { BrokerApi } from '../../../src/brokers/broker';
import { staticCredentials } from '../../../src/brokers/credentials';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { OandaBroker } from '../../../src/brokers/oanda/adapter';
import type { QuoteSource } from '../../../src/brokers/paper/feed';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { systemClock } from '../../../src/common/clock';
import type { ParentSpec } from '../../../src/execution/algos/dialect';
import {
  describeEmulation,
  describeParent,
  ParentOrders,
  type ParentOrder,
} from '../../../src/execution/algos/parents';
import { tailAudit } from '../../../src/execution/audit/auditLog';
import { submitOrderCommand } from '../../../src/execution/events';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import type { PlacedOrderRequest, Quote } from '../../../src/orders/model';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca } from '../../fakes/alpaca/server';
import { startFakeBinance } from '../../fakes/binance/server';
import { startFakeTws } from '../../fakes/ib/server';
import { startFakeOanda } from '../../fakes/oanda/server';

interface Venue {
  broker: BrokerApi;
  symbol: string;
  bid: number;
  ask: number;
  /** A price step well inside the venue's grid. */
  step: number;
  quantity: number;
  /** How many orders with this client id reached the venue. */
  placed(clientOrderId: string): number;
  /** Orders submitted to the venue so far (all client ids). */
  submits(): number;
  quote(bid: number, ask: number): void;
  stop(): Promise<void>;
}

/** How a venue carries a trailing stop by a price offset and by bps: natively, or emulated for this reason. */
type Trailing = { byOffset: true | RegExp; byBps: true | RegExp };

class Settable implements QuoteSource {
  private readonly map = new Map<string, { bid: number; ask: number }>();
  set(symbol: string, bid: number, ask: number): void {
    this.map.set(instrumentKey(symbol), { bid, ask });
  }
  quote(symbol: string, atMs: number): Quote {
    const t = this.map.get(instrumentKey(symbol)) ?? { bid: 100, ask: 100.02 };
    return { symbol, bid: t.bid, ask: t.ask, last: t.bid, bid_size: 1e9, ask_size: 1e9, timestamp: atMs };
  }
}

const POLL_MS = 50;
const quiet = (): void => undefined;

const VENUES: Array<{ name: string; trailing: Trailing; start(): Promise<Venue> }> = [
  {
    name: 'paper',
    trailing: {
      byOffset: /the paper venue has no trailing stop order of its own/,
      byBps: /the paper venue has no trailing stop order of its own/,
    },
    async start() {
      const quotes = new Settable();
      quotes.set('AAPL', 100, 100.02);
      // Counts what reaches the venue: the paper venue keeps every order it was sent.
      const paper = new PaperBroker({ clock: systemClock, quotes, pollIntervalMs: POLL_MS, depth: false });
      const counts = new Map<string, number>();
      let submits = 0;
      const reached = (o: PlacedOrderRequest): void => {
        submits++;
        counts.set(o.client_order_id, (counts.get(o.client_order_id) ?? 0) + 1);
      };
      const submit = paper.submitOrder.bind(paper);
      paper.submitOrder = (o) => {
        reached(o);
        return submit(o);
      };
      // The engine sends a paper order within the call when it can (`immediate`): counted there too.
      const immediate = paper.immediate.bind(paper);
      paper.immediate = () => {
        const now = immediate();
        return (
          now && {
            ...now,
            submit: (o) => {
              reached(o);
              return now.submit(o);
            },
          }
        );
      };
      await paper.connect();
      return {
        broker: paper,
        symbol: 'AAPL',
        bid: 100,
        ask: 100.02,
        step: 0.01,
        quantity: 10,
        placed: (id) => counts.get(id) ?? 0,
        submits: () => submits,
        quote: (bid, ask) => quotes.set('AAPL', bid, ask),
        stop: () => paper.disconnect(),
      };
    },
  },
  {
    name: 'oanda',
    trailing: {
      byOffset: /TrailingStopLossOrder\) belongs to one open trade/,
      byBps: /TrailingStopLossOrder\) belongs to one open trade/,
    },
    async start() {
      const fake = await startFakeOanda();
      fake.setQuote('EUR_USD', 1.0999, 1.1001);
      const broker = new OandaBroker({
        baseUrl: fake.url,
        credentials: staticCredentials({ 'oanda.token': fake.token, 'oanda.accountId': fake.accountId }),
        pollIntervalMs: POLL_MS,
        onError: quiet,
      });
      await broker.connect();
      return {
        broker,
        symbol: 'EUR_USD',
        bid: 1.0999,
        ask: 1.1001,
        step: 0.0001,
        quantity: 100,
        placed: (id) => fake.ordersWithClientId(id),
        submits: () => fake.requestCount('POST /orders'),
        quote: (bid, ask) => fake.setQuote('EUR_USD', bid, ask),
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'alpaca',
    trailing: { byOffset: true, byBps: true },
    async start() {
      const fake = await startFakeAlpaca();
      fake.setQuote('AAPL', 150, 150.1);
      const broker = new AlpacaBroker({
        baseUrl: fake.url,
        dataBaseUrl: fake.url,
        credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
        pollIntervalMs: POLL_MS,
        onError: quiet,
      });
      await broker.connect();
      return {
        broker,
        symbol: 'AAPL',
        bid: 150,
        ask: 150.1,
        step: 0.01,
        quantity: 10,
        placed: (id) => fake.ordersWithClientId(id),
        submits: () => fake.requestCount('POST /v2/orders'),
        quote: (bid, ask) => fake.setQuote('AAPL', bid, ask),
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'binance',
    trailing: { byOffset: /Binance spot trails by basis points only/, byBps: true },
    async start() {
      const fake = await startFakeBinance();
      fake.setQuote('BTCUSDT', 30009, 30011);
      const broker = new BinanceBroker({
        environment: 'testnet',
        baseUrl: fake.url,
        credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
        pollIntervalMs: POLL_MS,
        enableRateLimit: false,
        onError: quiet,
      });
      await broker.connect();
      return {
        broker,
        symbol: 'BTCUSDT',
        bid: 30009,
        ask: 30011,
        step: 1,
        quantity: 0.001,
        placed: (id) => fake.ordersWithClientId(id),
        submits: () => fake.requestCount('POST /api/v3/order'),
        quote: (bid, ask) => fake.setQuote('BTCUSDT', bid, ask),
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
  {
    name: 'ib',
    trailing: { byOffset: true, byBps: true },
    async start() {
      const fake = await startFakeTws();
      fake.setQuote('AAPL', 100, 100.1);
      const broker = new IbBroker({
        host: fake.host,
        port: fake.port,
        clientId: 71,
        connectTimeoutMs: 2000,
        onError: quiet,
      });
      await broker.connect();
      return {
        broker,
        symbol: 'AAPL',
        bid: 100,
        ask: 100.1,
        step: 0.01,
        quantity: 10,
        placed: (id) => fake.ordersWithClientId(id),
        submits: () => fake.requestCount('PLACE_ORDER'),
        quote: (bid, ask) => fake.setQuote('AAPL', bid, ask),
        stop: async () => {
          await broker.disconnect();
          await fake.close();
        },
      };
    },
  },
];

const LIMITS = {
  maxOrderQuantity: 1e9,
  maxPositionQuantity: 1e12,
  maxOrderNotional: 1e12,
  priceCollarBps: 5000,
  maxOpenOrders: 1000,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const venue of VENUES) {
  const { name, trailing } = venue;
  describe(`parent conformance: ${name}`, function () {
    this.timeout(30_000);
    let v: Venue;
    let dir: string;
    let session: TradingSession;
    let parents: ParentOrders;

    beforeEach(async () => {
      v = await venue.start();
      dir = mkdtempSync(join(tmpdir(), `sptrader-parent-conf-${name}-`));
      session = await openTradingSession({
        stateDir: dir,
        clock: systemClock,
        brokers: { [v.broker.id]: v.broker },
        settings: {
          limits: LIMITS,
          circuitBreaker: {
            maxConsecutiveFailures: 100,
            maxFailuresInWindow: 100,
            windowMs: 60_000,
            cooldownMs: 60_000,
          },
        },
      });
      await session.engine.connect(v.broker.id);
      parents = new ParentOrders({
        engine: session.engine,
        audit: session.audit,
        clock: systemClock,
        instrument: (_venue, s) => v.broker.getInstrument(s),
        quote: (_venue, s) => v.broker.getQuote(s),
        capabilities: () => v.broker.capabilities,
      });
    });
    afterEach(async () => {
      parents.dispose();
      await session.close();
      await v.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Polls the parent until `done` holds (the adapters see the fake's fills by polling it). */
    const until = async (id: string, what: string, done: (p: ParentOrder) => boolean): Promise<ParentOrder> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        await parents.poll();
        const p = parents.get(id) as ParentOrder;
        if (done(p)) return p;
        if (Date.now() > deadline)
          throw new Error(
            `${what}: not within 10 s (parent ${p.state}${p.reason ? `: ${p.reason}` : ''}, children ${JSON.stringify(p.childStates)})`,
          );
        await sleep(POLL_MS);
      }
    };
    const px = (n: number): number => Number(n.toFixed(8));

    it(`${name}: bracket — exits are the venue's own stop and limit, each sent once; the take-profit's fill sends the stop's cancel to the venue (OCO emulated)`, async () => {
      const spec: ParentSpec = {
        algo: 'bracket',
        symbol: v.symbol,
        side: 'buy',
        quantity: v.quantity,
        stop_loss: px(v.bid - 50 * v.step),
        take_profit: px(v.ask + 50 * v.step),
      };
      assert.match(
        describeEmulation({ spec, venue: v.broker.id, native: false, emulatedBecause: null }),
        /venue’s own stop and limit orders; one-cancels-other is emulated locally/,
      );
      const started = await parents.start(spec, v.broker.id);
      const id = started.parentId;
      const working = await until(id, 'the entry fills and both exits rest', (p) => {
        const s = p.childStates;
        return (
          p.children.length === 3 &&
          p.children.slice(1).every((c) => ['ACCEPTED', 'PENDING_NEW', 'SUBMITTED'].includes(s[c.id]?.state ?? ''))
        );
      });
      const [entry, sl, tp] = working.children;
      assert.deepEqual(
        working.children.map((c) => c.role),
        ['entry', 'stop_loss', 'take_profit'],
      );
      assert.equal(working.childStates[entry!.id]?.state, 'FILLED');
      for (const c of working.children) assert.equal(v.placed(c.id), 1, `${c.role} reached ${name} once`);
      // Native exits: the venue itself holds a stop and a limit (not emulated triggers).
      const atVenue = await v.broker.listOpenOrders();
      const slAtVenue = atVenue.find((o) => o.client_order_id === sl!.id);
      const tpAtVenue = atVenue.find((o) => o.client_order_id === tp!.id);
      assert.equal(slAtVenue?.order_type.type, 'stop', `the stop-loss rests at ${name} as its own stop order`);
      assert.equal(tpAtVenue?.order_type.type, 'limit', `the take-profit rests at ${name} as its own limit order`);

      // The market reaches the take-profit: it fills at the venue, and the engine cancels the stop there.
      v.quote(px(spec.take_profit + 2 * v.step), px(spec.take_profit + 3 * v.step));
      const done = await until(id, 'the take-profit fills and the stop is cancelled', (p) => p.state !== 'WORKING');
      assert.equal(done.state, 'DONE', done.reason ?? '');
      assert.equal(done.reason, 'take profit filled');
      assert.equal(done.childStates[tp!.id]?.state, 'FILLED');
      assert.equal(done.childStates[sl!.id]?.state, 'CANCELLED');
      const slNow = await v.broker.getOrderByClientId(sl!.id);
      assert.equal(slNow?.status.status, 'cancelled', `the OCO cancel reached ${name}`);
      for (const c of done.children) assert.equal(v.placed(c.id), 1, `${c.role} was never sent again`);
      assert.equal((await v.broker.listOpenOrders()).length, 0, `nothing rests at ${name}`);
      const types = (await tailAudit(join(dir, 'audit'), 200)).map((r) => r.type);
      assert.equal(types.filter((t) => t === 'ParentChild').length, 3);
      assert.equal(types.filter((t) => t === 'ParentEnded').length, 1);
    });

    /** Buys the quantity the trailing stops below protect, and waits for the fill. */
    const buyLong = async (): Promise<void> => {
      const buy = submitOrderCommand(
        {
          symbol: v.symbol,
          side: 'buy',
          quantity: v.quantity,
          order_type: { type: 'market' },
          time_in_force: { type: 'IOC' },
          metadata: {},
        },
        { venue: v.broker.id, source: 'cli', clock: systemClock },
      );
      const bought = await session.engine.submit(buy);
      assert.ok(!bought.denial, JSON.stringify(bought.denial));
      assert.equal((await session.engine.waitForFinal(buy.clientOrderId, 10_000))?.state, 'FILLED');
    };
    const trailSpec = (by: 'offset' | 'bps'): ParentSpec => ({
      algo: 'trailing_stop',
      symbol: v.symbol,
      side: 'sell',
      quantity: v.quantity,
      ...(by === 'offset' ? { trail_offset: px(5 * v.step) } : { trail_bps: 50 }),
    });
    /** The trail's distance below a price, in the spec's own terms. */
    const distance = (spec: ParentSpec, price: number): number =>
      spec.algo === 'trailing_stop' ? (spec.trail_offset ?? (price * (spec.trail_bps ?? 0)) / 10_000) : 0;
    const working = (p: ParentOrder, id: string): boolean =>
      ['ACCEPTED', 'PENDING_NEW', 'SUBMITTED'].includes(p.childStates[id]?.state ?? '');
    /** A new session and ParentOrders over the same state folder and venue: what a restart of the host does. */
    const restart = async (): Promise<void> => {
      parents.dispose();
      await session.close();
      session = await openTradingSession({
        stateDir: dir,
        clock: systemClock,
        brokers: { [v.broker.id]: v.broker },
        settings: {
          limits: LIMITS,
          circuitBreaker: {
            maxConsecutiveFailures: 100,
            maxFailuresInWindow: 100,
            windowMs: 60_000,
            cooldownMs: 60_000,
          },
        },
      });
      await session.engine.connect(v.broker.id);
      parents = new ParentOrders({
        engine: session.engine,
        audit: session.audit,
        clock: systemClock,
        instrument: (_venue, s) => v.broker.getInstrument(s),
        quote: (_venue, s) => v.broker.getQuote(s),
        capabilities: () => v.broker.capabilities,
      });
    };

    for (const by of ['offset', 'bps'] as const) {
      const expected = (): true | RegExp => (by === 'offset' ? trailing.byOffset : trailing.byBps);
      it(`${name}: trailing stop by ${by} — native or emulated as the venue's documents say; the trail, the trigger and the fill`, async () => {
        await buyLong();
        const spec = trailSpec(by);
        const submitsBefore = v.submits();
        const started = await parents.start(spec, v.broker.id);
        const id = started.parentId;
        const native = expected() === true;
        assert.equal(started.native, native, `native at ${name}: ${started.emulatedBecause ?? ''}`);
        if (native) {
          assert.equal(started.emulatedBecause, null);
          assert.match(describeEmulation(started), new RegExp(`^Native at ${v.broker.id}: the venue trails its own`));
          assert.match(describeParent(started), new RegExp(`\\(native at ${v.broker.id}\\)`));
          const [child] = started.children;
          assert.equal(child?.role, 'trailing');
          assert.equal(v.placed(child.id), 1, `the trailing stop reached ${name} once`);
          const atVenue = (await v.broker.listOpenOrders()).find((o) => o.client_order_id === child.id);
          assert.equal(atVenue?.order_type.type, 'trailing_stop', `${name} holds it as its own trailing stop`);
          assert.deepEqual(atVenue?.order_type, child.order.order_type, 'the venue reads back the trail we sent');
          await until(id, 'the venue accepts it', (p) => working(p, child.id));
          // The price rises: the venue trails; the engine sends nothing and writes no watermark.
          const high = px(v.bid + Math.ceil((4 * distance(spec, v.bid)) / v.step) * v.step);
          v.quote(high, px(high + (v.ask - v.bid)));
          await parents.poll();
          await sleep(3 * POLL_MS);
          assert.equal(parents.get(id)?.state, 'WORKING');
          assert.equal(v.submits(), submitsBefore + 1, `one order reached ${name} for the whole trailing stop`);
          // It falls back by twice the trail from the high: the venue's stop triggers and fills.
          const fall = px(high - Math.ceil((2 * distance(spec, high)) / v.step) * v.step);
          v.quote(fall, px(fall + (v.ask - v.bid)));
          const done = await until(id, 'the venue triggers its trailing stop', (p) => p.state !== 'WORKING');
          assert.equal(done.state, 'DONE', done.reason ?? '');
          assert.equal(done.reason, `triggered at ${v.broker.id}`);
          assert.equal(done.childStates[child.id]?.state, 'FILLED');
          assert.equal(done.filled, v.quantity);
          assert.equal(v.submits(), submitsBefore + 1);
          const types = (await tailAudit(join(dir, 'audit'), 200)).map((r) => r.type);
          assert.equal(types.filter((t) => t === 'ParentTrail').length, 0, 'no emulated watermark');
          return;
        }
        assert.match(started.emulatedBecause ?? '', expected() as RegExp);
        assert.match(describeEmulation(started), /^Emulated locally \(.+\): the engine trails the venue’s quote/);
        assert.match(describeParent(started), /\(emulated locally\)/);
        assert.equal(started.watermark, v.bid, 'the trail starts at the bid');
        // The bid rises: the watermark follows it; nothing is sent to the venue.
        const high = px(v.bid + 20 * v.step);
        v.quote(high, px(v.ask + 20 * v.step));
        const trailed = await until(id, 'the watermark follows the bid', (p) => p.watermark === high);
        assert.equal(trailed.children.length, 0);
        assert.equal(v.submits(), submitsBefore, `nothing reached ${name} while trailing`);
        // It falls back by more than the trail: one market sell is sent and fills.
        const fall = px(high - Math.ceil((distance(spec, high) + v.step) / v.step) * v.step);
        v.quote(fall, px(fall + (v.ask - v.bid)));
        const done = await until(id, 'the stop triggers and its market order fills', (p) => p.state !== 'WORKING');
        assert.equal(done.state, 'DONE', done.reason ?? '');
        assert.equal(done.reason, 'triggered');
        const [trigger] = done.children;
        assert.equal(trigger?.role, 'trigger');
        assert.equal(trigger?.order.order_type.type, 'market');
        assert.equal(done.childStates[trigger.id]?.state, 'FILLED');
        assert.equal(v.placed(trigger.id), 1, `the trigger's order reached ${name} once`);
        assert.equal(v.submits(), submitsBefore + 1, `exactly one order reached ${name} for the whole trailing stop`);
        const trails = (await tailAudit(join(dir, 'audit'), 200)).filter((r) => r.type === 'ParentTrail');
        assert.deepEqual(
          trails.map((r) => (r.data as { watermark: number }).watermark),
          [v.bid, high],
          'each watermark move is in the audit log (it survives a restart)',
        );
      });
    }

    /** The native way this venue trails (by bps where it takes both), or undefined when it has none. */
    const nativeBy = (): 'offset' | 'bps' | undefined =>
      trailing.byBps === true ? 'bps' : trailing.byOffset === true ? 'offset' : undefined;

    it(`${name}: cancelling a trailing stop parent cancels its order at the venue (native) or ends its trail (emulated)`, async () => {
      await buyLong();
      const started = await parents.start(trailSpec(nativeBy() ?? 'offset'), v.broker.id);
      await parents.cancel(started.parentId, 'cancelled by the test');
      const after = await until(started.parentId, 'the parent ends', (p) => p.state !== 'WORKING');
      assert.equal(after.state, 'CANCELLED');
      if (started.native) {
        const child = started.children[0] as ParentOrder['children'][number];
        const ended = await until(started.parentId, 'the cancel reaches the venue', (p) =>
          ['CANCELLED'].includes(p.childStates[child.id]?.state ?? ''),
        );
        assert.equal(ended.childStates[child.id]?.state, 'CANCELLED');
        const atVenue = await v.broker.getOrderByClientId(child.id, { symbol: v.symbol });
        assert.equal(atVenue?.status.status, 'cancelled', `the cancel reached ${name}`);
      } else {
        assert.equal(after.children.length, 0, 'nothing was ever sent');
      }
      assert.equal((await v.broker.listOpenOrders()).length, 0, `nothing rests at ${name}`);
    });

    const by = nativeBy();
    if (by !== undefined) {
      it(`${name}: the emergency stop cancels a native trailing stop at the venue and ends its parent`, async () => {
        await buyLong();
        const started = await parents.start(trailSpec(by), v.broker.id);
        assert.equal(started.native, true);
        const child = started.children[0] as ParentOrder['children'][number];
        await until(started.parentId, 'the venue accepts it', (p) => working(p, child.id));
        await session.engine.emergencyStop({ reason: 'test stop' });
        const after = await until(started.parentId, 'the parent ends', (p) => p.state !== 'WORKING');
        assert.equal(after.state, 'CANCELLED');
        assert.match(after.reason ?? '', /trading halted/);
        const atVenue = await v.broker.getOrderByClientId(child.id, { symbol: v.symbol });
        assert.equal(atVenue?.status.status, 'cancelled', `the emergency stop's cancel reached ${name}`);
        assert.equal((await v.broker.listOpenOrders()).length, 0);
      });

      it(`${name}: after a restart a native trailing stop is still the venue's order: reconciled, followed, never resent`, async () => {
        await buyLong();
        const spec = trailSpec(by);
        const started = await parents.start(spec, v.broker.id);
        const child = started.children[0] as ParentOrder['children'][number];
        await until(started.parentId, 'the venue accepts it', (p) => working(p, child.id));
        const submitsBefore = v.submits();
        await restart();
        const [restored] = await parents.restore(join(dir, 'audit'));
        assert.equal(restored?.parentId, started.parentId);
        assert.equal(restored?.native, true, 'the choice to go native is in the audit log');
        assert.equal(
          session.engine.getOrder(child.id)?.state !== undefined,
          true,
          'the engine follows the venue order',
        );
        await parents.poll();
        assert.equal(v.submits(), submitsBefore, 'nothing is sent again after the restart');
        // The venue trails and triggers it while the new session follows it.
        const high = px(v.bid + Math.ceil((4 * distance(spec, v.bid)) / v.step) * v.step);
        v.quote(high, px(high + (v.ask - v.bid)));
        await sleep(3 * POLL_MS);
        const fall = px(high - Math.ceil((2 * distance(spec, high)) / v.step) * v.step);
        v.quote(fall, px(fall + (v.ask - v.bid)));
        const done = await until(started.parentId, 'the venue triggers it', (p) => p.state !== 'WORKING');
        assert.equal(done.state, 'DONE', done.reason ?? '');
        assert.equal(done.childStates[child.id]?.state, 'FILLED');
        assert.equal(v.placed(child.id), 1, `the trailing stop reached ${name} once in all`);
      });
    }
  });
}
