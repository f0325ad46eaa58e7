/**
 * An engine restarted on its saved working orders against TWS, whose order ended while it was away and which has
 * no record left of how. TWS API "Open Orders" (interactivebrokers.github.io/tws-api/open_orders.html): "As long as
 * an order is active, it is possible to retrieve it … it is not possible to obtain cancelled or fully filled orders"
 * — `reqAllOpenOrders` lists every active order of every API client, so an order of ours TWS acknowledged and no
 * longer lists is not working. TWS API "Completed Orders" (`reqCompletedOrders`) would say how it ended, but a TWS
 * without it (server versions before MIN_SERVER_VER_COMPLETED_ORDERS, the fake's `completedOrderRequests: false`)
 * says nothing; executions only cover the current day. The order stayed working in the engine forever: its cancel
 * refused (IB: no order), the profile refused to disconnect, exposure and open-order counts held by it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IbBroker } from '../../../src/brokers/ib/adapter';
import { systemClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import type { EngineEvent } from '../../../src/execution/events';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';
import { LOOSE } from './engineHelpers';

describe('ExecutionEngine restarted on its saved working orders (IB)', function () {
  this.timeout(20_000);
  let fake: FakeTws;
  let dir: string;
  beforeEach(async () => {
    fake = await startFakeTws({ completedOrderRequests: false });
    fake.setQuote('AAPL', 99, 101);
    dir = mkdtempSync(join(tmpdir(), 'sptrader-restart-ib-'));
  });
  afterEach(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = async (): Promise<{
    engine: ExecutionEngine;
    broker: IbBroker;
    log: AuditLog;
    events: EngineEvent[];
  }> => {
    const broker = new IbBroker({
      host: fake.host,
      port: fake.port,
      clientId: 41,
      timeoutMs: 1000,
      connectTimeoutMs: 1000,
      onError: () => undefined,
    });
    const { log } = await AuditLog.open(join(dir, 'audit'), { clock: systemClock });
    const engine = new ExecutionEngine({
      clock: systemClock,
      brokers: { ib: broker },
      audit: log,
      limits: { ...LOOSE },
      ordersFile: join(dir, 'working-orders.json'),
    });
    const events: EngineEvent[] = [];
    engine.subscribe((e) => events.push(e));
    return { engine, broker, log, events };
  };
  const close = async (s: { engine: ExecutionEngine; broker: IbBroker; log: AuditLog }): Promise<void> => {
    await s.engine.close();
    await s.log.close();
    await s.broker.disconnect();
  };

  it('ends an acknowledged order TWS no longer lists as working (cancelled, saying how little is known), never resent', async () => {
    const first = await session();
    await first.engine.connect('ib');
    const placed = await first.engine.submitOrder(
      {
        symbol: 'AAPL',
        side: 'buy',
        quantity: 10,
        order_type: { type: 'limit', price: 95 },
        time_in_force: { type: 'GTC' },
        metadata: {},
        client_order_id: 'ib-restart-gone',
      },
      'ib',
    );
    assert.equal(placed.order.state, 'ACCEPTED');
    await close(first);

    assert.equal(fake.endOrder(Number(placed.order.venueOrderId), 'Cancelled', 'Cancelled by the user in TWS'), true);
    const places = fake.requestCount('PLACE_ORDER');

    const second = await session();
    await second.engine.connect('ib');
    const after = second.engine.getOrder('ib-restart-gone');
    assert.equal(after?.state, 'CANCELLED');
    assert.match(after?.reason ?? '', /IB no longer lists it among its working orders/);
    assert.equal(second.engine.workingOrders().length, 0);
    assert.equal(fake.requestCount('PLACE_ORDER'), places, 'not sent again');
    await close(second);
  });
});
