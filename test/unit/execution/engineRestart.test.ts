/**
 * An engine restarted on the same state (working orders file, audit log) against a venue that kept
 * trading meanwhile: its own orders are reconciled by client order id, not taken for external ones.
 * Binance is the hard case: it looks a client id up only within a symbol, which the new session did
 * not send, so the engine passes the symbol it saved with the order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BinanceBroker } from '../../../src/brokers/binance/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { systemClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import type { EngineEvent } from '../../../src/execution/events';
import { startFakeBinance, type FakeBinance } from '../../fakes/binance/server';

const LIMITS = {
  maxOrderQuantity: 1e9,
  maxPositionQuantity: 1e9,
  maxOrderNotional: 1e9,
  priceCollarBps: 5000,
  maxOpenOrders: 100,
};

describe('ExecutionEngine restarted on its saved working orders', function () {
  this.timeout(20_000);
  let fake: FakeBinance;
  let dir: string;
  beforeEach(async () => {
    fake = await startFakeBinance();
    dir = mkdtempSync(join(tmpdir(), 'sptrader-restart-'));
  });
  afterEach(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = async (
    reconcileDelayMs?: number,
  ): Promise<{
    engine: ExecutionEngine;
    broker: BinanceBroker;
    log: AuditLog;
    events: EngineEvent[];
  }> => {
    const broker = new BinanceBroker({
      environment: 'testnet',
      baseUrl: fake.url,
      credentials: staticCredentials({ 'binance.apiKey': fake.apiKey, 'binance.secret': fake.secret }),
      pollIntervalMs: 0,
      enableRateLimit: false,
    });
    const { log } = await AuditLog.open(join(dir, 'audit'), { clock: systemClock });
    const engine = new ExecutionEngine({
      clock: systemClock,
      brokers: { binance: broker },
      audit: log,
      limits: LIMITS,
      ordersFile: join(dir, 'working-orders.json'),
      ...(reconcileDelayMs === undefined ? {} : { reconcileDelayMs }),
    });
    const events: EngineEvent[] = [];
    engine.subscribe((e) => events.push(e));
    return { engine, broker, log, events };
  };

  const close = async (s: { engine: ExecutionEngine; broker: BinanceBroker; log: AuditLog }): Promise<void> => {
    await s.engine.close();
    await s.log.close();
    await s.broker.disconnect();
  };

  it('finds its resting Binance order filled while it was away, by client order id and symbol, and does not call it external', async () => {
    const first = await session();
    await first.engine.connect('binance');
    const placed = await first.engine.submitOrder(
      {
        symbol: 'BTCUSDT',
        side: 'buy',
        quantity: 0.001,
        order_type: { type: 'limit', price: 29000 },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'restart-1',
      },
      'binance',
    );
    assert.equal(placed.order.state, 'ACCEPTED');
    await close(first);

    fake.setQuote('BTCUSDT', 28990, 28995); // the market comes down to the resting buy while no session runs

    const second = await session();
    assert.equal(second.engine.getOrder('restart-1')?.state, 'ACCEPTED', 'the working order came back from the file');
    await second.engine.connect('binance');
    const after = second.engine.getOrder('restart-1');
    assert.equal(after?.state, 'FILLED');
    assert.equal(after?.venueOrderId, placed.order.venueOrderId);
    assert.deepEqual(
      second.events.filter((e) => e.type === 'ExternalOrderFound' || e.type === 'VenueError').map((e) => e.type),
      [],
    );
    assert.ok(second.events.some((e) => e.type === 'OrderFilled' && e.clientOrderId === 'restart-1'));
    assert.equal(second.engine.workingOrders().length, 0);
    await close(second);
  });

  it('ends its working Binance order that Binance archived while it was away (-2026): cancelled, saying so, never resent', async () => {
    const first = await session();
    await first.engine.connect('binance');
    const placed = await first.engine.submitOrder(
      {
        symbol: 'BTCUSDT',
        side: 'buy',
        quantity: 0.001,
        order_type: { type: 'limit', price: 29000 },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'restart-archived',
      },
      'binance',
    );
    assert.equal(placed.order.state, 'ACCEPTED');
    await close(first);

    // errors.md -2026 ORDER_ARCHIVED: cancelled elsewhere with nothing executed, archived 90 days on.
    const venueOrderId = Number(placed.order.venueOrderId?.split(':')[1]);
    assert.equal(fake.archiveOrder(venueOrderId), true);
    const posts = fake.requestCount('POST /api/v3/order');

    const second = await session();
    assert.equal(second.engine.getOrder('restart-archived')?.state, 'ACCEPTED');
    await second.engine.connect('binance');
    const after = second.engine.getOrder('restart-archived');
    assert.equal(after?.state, 'CANCELLED');
    assert.match(after?.reason ?? '', /Binance archived it \(-2026 ORDER_ARCHIVED\).*nothing executed/);
    assert.equal(after?.venueOrderId, placed.order.venueOrderId);
    assert.equal(second.engine.workingOrders().length, 0);
    assert.deepEqual(
      second.events.filter((e) => e.type === 'ExternalOrderFound' || e.type === 'VenueError').map((e) => e.type),
      [],
    );
    assert.equal(fake.requestCount('POST /api/v3/order'), posts, 'not sent again');
    await close(second);
  });

  it('looks its working order up again when the look-up after a restart failed (a 5xx says nothing about the order), and finds its fill', async () => {
    const first = await session();
    await first.engine.connect('binance');
    const placed = await first.engine.submitOrder(
      {
        symbol: 'BTCUSDT',
        side: 'buy',
        quantity: 0.001,
        order_type: { type: 'limit', price: 29000 },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'restart-lookup-failed',
      },
      'binance',
    );
    assert.equal(placed.order.state, 'ACCEPTED');
    await close(first);

    // rest-api.md "HTTP Return Codes": a 5XX is Binance's own failure; the look-up learnt nothing of the order.
    for (let i = 0; i < 4; i++) fake.injectNext({ kind: 'serverError', status: 503, on: 'lookup' });
    const second = await session();
    await second.engine.connect('binance');
    assert.equal(second.engine.getOrder('restart-lookup-failed')?.state, 'ACCEPTED');
    assert.ok(second.events.some((e) => e.type === 'VenueError'));

    fake.setQuote('BTCUSDT', 28990, 28995); // the resting buy fills at Binance
    const deadline = Date.now() + 8000;
    while (second.engine.getOrder('restart-lookup-failed')?.state !== 'FILLED' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(second.engine.getOrder('restart-lookup-failed')?.state, 'FILLED');
    await close(second);
  });

  it('after a restart whose look-up met a 418 ban (Retry-After past the retry bound), looks again once the ban is over', async () => {
    const first = await session();
    await first.engine.connect('binance');
    const placed = await first.engine.submitOrder(
      {
        symbol: 'BTCUSDT',
        side: 'buy',
        quantity: 0.001,
        order_type: { type: 'limit', price: 29000 },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'restart-banned',
      },
      'binance',
    );
    assert.equal(placed.order.state, 'ACCEPTED');
    await close(first);

    // rest-api.md "LIMITS": "A Retry-After header is sent with a 418 or 429 responses and will give the number of
    // seconds required to wait"; 418 is the IP ban after repeated 429s.
    fake.injectNext({ kind: 'rateLimit', status: 418, retryAfterSeconds: 7, on: 'lookup' });
    // Look-ups again after 10, 20, 40 … ms: eight of them are over within 2.6 s, long before the ban ends.
    const second = await session(10);
    const started = Date.now();
    // The reconcile cannot list the open orders during the ban either: connect says so (nothing was sent).
    await assert.rejects(second.engine.connect('binance'), /Binance asked for no requests for another \d+ s/);
    fake.setQuote('BTCUSDT', 28990, 28995); // the resting buy fills at Binance
    const deadline = Date.now() + 15_000;
    while (second.engine.getOrder('restart-banned')?.state !== 'FILLED' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(second.engine.getOrder('restart-banned')?.state, 'FILLED');
    assert.ok(Date.now() - started >= 6000, 'nothing was asked during the ban');
    await close(second);
  });
});
