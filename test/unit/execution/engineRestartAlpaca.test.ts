/**
 * An engine restarted on its saved working orders against Alpaca, whose order filled in part before the restart
 * (the engine counted it) and more while it was away, then was cancelled ("Orders at Alpaca" → "Order Lifecycle":
 * an order canceled after a partial fill keeps its `filled_qty`): the fill made while away is counted once, on top
 * of the one counted before (the new session's adapter knows nothing of it), and the order ends cancelled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlpacaBroker } from '../../../src/brokers/alpaca/adapter';
import { staticCredentials } from '../../../src/brokers/credentials';
import { systemClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import type { EngineEvent } from '../../../src/execution/events';
import { filledQuantity } from '../../../src/execution/orderState';
import { FAKE_ALPACA_KEY_ID, FAKE_ALPACA_SECRET, startFakeAlpaca, type FakeAlpaca } from '../../fakes/alpaca/server';

const LIMITS = {
  maxOrderQuantity: 1e9,
  maxPositionQuantity: 1e9,
  maxOrderNotional: 1e9,
  priceCollarBps: 5000,
  maxOpenOrders: 100,
};

describe('ExecutionEngine restarted on its saved working orders (Alpaca)', function () {
  this.timeout(20_000);
  let fake: FakeAlpaca;
  let dir: string;
  beforeEach(async () => {
    fake = await startFakeAlpaca();
    dir = mkdtempSync(join(tmpdir(), 'sptrader-restart-alpaca-'));
  });
  afterEach(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = async (): Promise<{
    engine: ExecutionEngine;
    broker: AlpacaBroker;
    log: AuditLog;
    events: EngineEvent[];
  }> => {
    const broker = new AlpacaBroker({
      baseUrl: fake.url,
      dataBaseUrl: fake.url,
      credentials: staticCredentials({ 'alpaca.keyId': FAKE_ALPACA_KEY_ID, 'alpaca.secretKey': FAKE_ALPACA_SECRET }),
      timeoutMs: 5000,
      pollIntervalMs: 0,
      onError: () => undefined,
    });
    const { log } = await AuditLog.open(join(dir, 'audit'), { clock: systemClock });
    const engine = new ExecutionEngine({
      clock: systemClock,
      brokers: { alpaca: broker },
      audit: log,
      limits: LIMITS,
      ordersFile: join(dir, 'working-orders.json'),
    });
    const events: EngineEvent[] = [];
    engine.subscribe((e) => events.push(e));
    return { engine, broker, log, events };
  };
  const close = async (s: { engine: ExecutionEngine; broker: AlpacaBroker; log: AuditLog }): Promise<void> => {
    await s.engine.close();
    await s.log.close();
    await s.broker.disconnect();
  };

  it('counts the fill made while away once, on top of the one it had, and ends the order cancelled', async () => {
    fake.setQuote('AAPL', 99, 101);
    const first = await session();
    await first.engine.connect('alpaca');
    const placed = await first.engine.submitOrder(
      {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 10,
        order_type: { type: 'limit', price: 95 },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'alp-restart-1',
      },
      'alpaca',
    );
    assert.equal(placed.order.state, 'ACCEPTED');
    const venueId = placed.order.venueOrderId!;
    fake.partialFill(venueId, 5, 95);
    await first.engine.reconcile('alpaca');
    assert.equal(filledQuantity(first.engine.getOrder('alp-restart-1')!), 5);
    await close(first);

    fake.partialFill(venueId, 2, 95);
    fake.setOrder(venueId, { status: 'canceled', canceled_at: new Date().toISOString() });

    const second = await session();
    await second.engine.connect('alpaca');
    const after = second.engine.getOrder('alp-restart-1')!;
    assert.equal(filledQuantity(after), 7);
    assert.equal(after.state, 'CANCELLED');
    assert.deepEqual(
      second.events.filter((e) => e.type === 'TransitionRefused' || e.type === 'VenueError').map((e) => e.type),
      [],
    );
    await close(second);
  });
});
