/**
 * TWS API "Message Codes" 100 "Max rate of messages per second has been exceeded" answering a placeOrder, through
 * the engine: TWS dropped the message unprocessed (a pacing violation), so the order is not placed, not a venue
 * rejection (it was one: OrderRejected, "Rejected by IB", a circuit-breaker failure), and not sent again; the user is
 * told to send it again later.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/common/clock';
import { AuditLog, tailAudit } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand } from '../../../src/execution/events';
import { describeRecord } from '../../../src/usecases/describeOrder';
import { closeTwsRig, connectToFakeTws, type TwsRig } from '../../kit/fakeTws';
import { LOOSE } from './engineHelpers';

describe('engine over IB: error 100 (pacing) for a placeOrder', function () {
  this.timeout(10_000);
  let rig: TwsRig | undefined;
  let dir: string;
  let audit: AuditLog;
  let engine: ExecutionEngine;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-ib-pacing-'));
    rig = await connectToFakeTws({ clientId: 31, quotes: { AAPL: [100, 100.1] } });
    audit = (await AuditLog.open(join(dir, 'audit'), { clock: systemClock })).log;
    engine = new ExecutionEngine({
      clock: systemClock,
      brokers: { ib: rig.broker },
      audit,
      limits: { ...LOOSE },
      reconcileDelayMs: 2,
    });
    await engine.connect('ib');
  });
  afterEach(async () => {
    await engine.close();
    await audit.close();
    await closeTwsRig(rig);
    rig = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('is NOT PLACED (never a venue rejection), sent once, and says to try again', async () => {
    const fake = rig!.fake;
    const cmd = submitOrderCommand(
      {
        symbol: 'AAPL',
        side: 'buy',
        order_type: { type: 'market' },
        quantity: 10,
        time_in_force: { type: 'GTC' },
        metadata: {},
      },
      { venue: 'ib', source: 'test-order', clock: systemClock },
    );
    const before = fake.requestCount('PLACE_ORDER');
    fake.injectNext({ kind: 'rateLimit', retryAfterSeconds: 1 });
    const result = await engine.submit(cmd);
    assert.equal(result.denial, undefined, JSON.stringify(result.denial));
    const record = (await engine.waitForFinal(cmd.clientOrderId, 2000)) ?? result.order;
    assert.match(record.reason ?? '', /^NOT_PLACED: RATE_LIMITED: IB error 100: Max rate of messages per second/);
    assert.match(record.reason ?? '', /did not act on it \(nothing was placed\), try again later$/);
    assert.match(describeRecord(record), /^[^\n]*NOT PLACED: RATE_LIMITED/);
    await audit.flush();
    const types = (await tailAudit(join(dir, 'audit'), Number.MAX_SAFE_INTEGER))
      .filter((r) => r.data['clientOrderId'] === cmd.clientOrderId)
      .map((r) => r.type);
    assert.ok(types.includes('OrderNeverArrived'), types.join(', '));
    assert.ok(!types.includes('OrderRejected'), types.join(', '));
    // Not sent again, by the adapter or by the engine's look-ups.
    assert.equal(await rig!.broker.getOrderByClientId(cmd.clientOrderId), undefined);
    assert.equal(fake.requestCount('PLACE_ORDER') - before, 1);
    assert.equal(fake.ordersWithClientId(cmd.clientOrderId), 0);
  });
});
