/**
 * The live path, against a local fake OANDA configured as a live environment: Test Order validates and
 * runs every risk check and sends nothing; a send without its per-order confirmation is denied; the
 * confirmed order (the one the check showed) reaches the venue exactly once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBroker } from '../../../src/brokers/registry';
import { environmentCredentials } from '../../../src/brokers/credentials';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';
import { systemClock } from '../../../src/common/clock';
import { AuditLog } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand } from '../../../src/execution/events';
import { runTestOrder } from '../../../src/usecases/testOrder';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { startFakeOanda, type FakeOanda } from '../../fakes/oanda/server';
import { LOOSE } from './engineHelpers';

const COMPONENT = `from core.orders.order_base import OrderBase
class LiveBuy(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'FOK'}
`;

describe('live path: Test Order checks and sends nothing; only a confirmed order is sent, once', function () {
  this.timeout(60_000);
  let dir: string;
  let fake: FakeOanda;
  let broker: BrokerApi;
  let worker: PythonWorker;
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let file: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-live-'));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    file = join(dir, 'core', 'orders', 'live_buy.py');
    writeFileSync(file, COMPONENT);
    fake = await startFakeOanda();
    const env = { SPTRADER_OANDA_TOKEN: fake.token, SPTRADER_OANDA_ACCOUNT_ID: fake.accountId };
    // As the editor does it (asProfileVenue): the venue answers to its profile id.
    broker = delegatingBroker(
      createBroker(
        { id: 'oanda-live', broker: 'oanda', environment: 'live', baseUrl: fake.url },
        { clock: systemClock, credentials: environmentCredentials(env) },
      ),
      { id: 'oanda-live' },
    );
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 10_000,
    });
    audit = (await AuditLog.open(join(dir, 'audit'), { clock: systemClock })).log;
    engine = new ExecutionEngine({
      clock: systemClock,
      brokers: { 'oanda-live': broker },
      audit,
      limits: { ...LOOSE },
    });
    await engine.connect('oanda-live');
  });
  after(async () => {
    await engine.close();
    await audit.close();
    await broker.disconnect();
    await worker.dispose();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Test Order on a live profile runs validation and every risk check, shows them, and sends nothing', async () => {
    const before = fake.orderBodies().length;
    const outcome = await runTestOrder({ file }, { runner: worker, broker, engine, clock: systemClock });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.ok(
      outcome.risk.length >= 5,
      `every risk check ran and is shown (${outcome.risk.map((r) => r.check).join(', ')})`,
    );
    assert.ok(outcome.risk.every((r) => r.passed));
    assert.equal(outcome.response, null);
    assert.equal(outcome.order?.symbol, 'EUR_USD', 'the order as it would be sent');
    assert.match(outcome.summary, /live profile: nothing was sent/);
    assert.equal(fake.orderBodies().length, before, 'nothing reached the venue');
  });

  it('a send without its confirmation is denied (LIVE_NOT_CONFIRMED) and nothing reaches the venue', async () => {
    const before = fake.orderBodies().length;
    const checked = await runTestOrder({ file }, { runner: worker, broker, engine, clock: systemClock });
    const cmd = submitOrderCommand(checked.order!, { venue: 'oanda-live', source: 'execute-live', clock: systemClock });
    const result = await engine.submit(cmd);
    assert.equal(result.denial?.code, 'LIVE_NOT_CONFIRMED');
    assert.equal(fake.orderBodies().length, before);
  });

  it('the confirmed order is the one the check showed, and reaches the venue exactly once', async () => {
    const before = fake.orderBodies().length;
    const checked = await runTestOrder({ file }, { runner: worker, broker, engine, clock: systemClock });
    const shown = checked.order!;
    const cmd = submitOrderCommand(shown, {
      venue: 'oanda-live',
      source: 'execute-live',
      clock: systemClock,
      liveConfirmation: { confirmedAt: Date.now(), summary: 'BUY 1000 EUR_USD' },
    });
    const result = await engine.submit(cmd);
    assert.equal(result.denial, undefined, JSON.stringify(result.denial));
    assert.equal(result.order.clientOrderId, shown.client_order_id, 'the client id shown is the one sent');
    const record = (await engine.waitForFinal(cmd.clientOrderId, 5000)) ?? result.order;
    assert.equal(record.state, 'FILLED');
    const bodies = fake.orderBodies().slice(before);
    assert.equal(bodies.length, 1, 'exactly one order at the venue');
    assert.equal(bodies[0]?.['instrument'], 'EUR_USD');
    assert.equal(bodies[0]?.['units'], '1000');
    // The same command again (a double click, a retry) never becomes a second order.
    const again = await engine.submit(cmd);
    assert.equal(again.denial?.code, 'DUPLICATE_CLIENT_ORDER_ID');
    assert.equal(fake.orderBodies().length, before + 1);
  });
});
