/**
 * The emergency stop against a real paper venue whose calls a test can hold or fail: an order still in
 * flight at the venue when the stop runs is cancelled once the venue has it (never left working while
 * HALTED); a cancel or flatten that fails for one order does not stop the others, and each failure is
 * in the report.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';
import { BrokerError } from '../../../src/brokers/errors';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, tailAudit } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FixedQuotes, limit, order } from '../paper/helpers';
import { LOOSE } from './engineHelpers';

interface Hooks {
  /** Held submits: released by calling the function. */
  hold?: (o: PlacedOrderRequest) => Promise<void> | undefined;
  cancelFails?: (venueOrderId: string) => Error | undefined;
  submitFails?: (o: PlacedOrderRequest) => Error | undefined;
}

describe('emergency stop: orders in flight and venues that fail part of it', function () {
  this.timeout(20_000);
  let dir: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let hooks: Hooks;
  let submitted: PlacedOrderRequest[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-estop-'));
    clock = new TestClock();
    paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    hooks = {};
    submitted = [];
    const venue: BrokerApi = {
      ...delegatingBroker(paper, { id: 'paper' }),
      submitOrder: async (o) => {
        submitted.push(o);
        await hooks.hold?.(o);
        const fail = hooks.submitFails?.(o);
        if (fail) throw fail;
        return paper.submitOrder(o);
      },
      cancelOrder: async (id): Promise<void> => {
        const fail = hooks.cancelFails?.(id);
        if (fail) throw fail;
        await paper.cancelOrder(id);
      },
    };
    audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    engine = new ExecutionEngine({
      clock,
      brokers: { paper: venue },
      audit,
      limits: LOOSE,
      tradingStateFile: join(dir, 'trading-state.json'),
      reconcileAttempts: 2,
      reconcileDelayMs: 2,
    });
    await engine.connect('paper');
  });
  afterEach(async () => {
    await engine.close();
    await audit.close();
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an order in flight at the venue when the stop runs is cancelled once the venue has it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    hooks.hold = () => gate;
    const o = order('buy', 10, limit(95));
    const submitting = engine.submitOrder(o, 'paper');
    while (submitted.length === 0) await new Promise((r) => setImmediate(r));
    const stopping = engine.emergencyStop({ reason: 'stop while in flight' });
    setTimeout(release, 20);
    const [report] = await Promise.all([stopping, submitting]);
    assert.equal(engine.status().tradingState, 'HALTED');
    assert.deepEqual(await paper.listOpenOrders(), [], 'nothing is left working at the venue');
    assert.equal(engine.getOrder(o.client_order_id)?.state, 'CANCELLED');
    assert.deepEqual(report.cancelled, [o.client_order_id]);
    assert.deepEqual(report.failed, []);
  });

  it('a cancel that throws for one order does not stop the others from being cancelled, and is reported', async () => {
    const a = order('buy', 10, limit(95), undefined, 'AAPL');
    const b = order('buy', 10, limit(95), undefined, 'MSFT');
    const c = order('buy', 10, limit(95), undefined, 'IBM');
    for (const o of [a, b, c]) assert.equal((await engine.submitOrder(o, 'paper')).denial, undefined);
    const bad = engine.getOrder(a.client_order_id)?.venueOrderId;
    hooks.cancelFails = (id) => (id === bad ? new TypeError('socket hang up in the client') : undefined);
    const report = await engine.emergencyStop({ reason: 'stop' });
    assert.deepEqual(report.cancelled.sort(), [b.client_order_id, c.client_order_id].sort());
    assert.equal(report.failed.length, 1);
    assert.equal(report.failed[0]?.order, a.client_order_id);
    assert.match(report.failed[0]?.reason ?? '', /socket hang up/);
    assert.equal((await paper.listOpenOrders()).length, 1, 'only the one whose cancel failed is left');
    await audit.flush();
    const recorded = (await tailAudit(join(dir, 'audit'), 1000)).find((r) => r.type === 'EmergencyStopReport');
    assert.deepEqual(recorded?.data['failed'], report.failed, 'the failure is in the audit log');
  });

  it('flatten closes every symbol; one refused flatten order is reported and the others still go', async () => {
    for (const symbol of ['AAPL', 'MSFT', 'IBM'])
      assert.equal(
        (await engine.submitOrder(order('buy', 7, undefined, undefined, symbol), 'paper')).denial,
        undefined,
      );
    hooks.submitFails = (o) =>
      o.symbol === 'MSFT' ? new BrokerError('INVALID_ORDER', 'MSFT is not tradable right now') : undefined;
    const report = await engine.emergencyStop({ reason: 'stop', flatten: true });
    assert.equal(report.flattened.length, 3);
    const msft = report.flattened.find((f) => f.symbol === 'MSFT');
    assert.match(msft?.result ?? '', /REJECTED/);
    assert.ok(
      report.failed.some((f) => /flatten MSFT 7.*not tradable/.test(f.reason)),
      JSON.stringify(report),
    );
    assert.deepEqual(
      (await paper.getPositions()).map((p) => [p.symbol, p.quantity]),
      [['MSFT', 7]],
      'the other symbols are flat',
    );
    assert.equal(engine.status().tradingState, 'HALTED');
  });

  it('a flatten whose submit throws for one symbol still flattens the others', async () => {
    for (const symbol of ['AAPL', 'MSFT', 'IBM'])
      assert.equal(
        (await engine.submitOrder(order('buy', 7, undefined, undefined, symbol), 'paper')).denial,
        undefined,
      );
    hooks.submitFails = (o) => (o.symbol === 'AAPL' ? new TypeError('client bug') : undefined);
    const report = await engine.emergencyStop({ reason: 'stop', flatten: true });
    assert.deepEqual(
      (await paper.getPositions()).map((p) => [p.symbol, p.quantity]),
      [['AAPL', 7]],
    );
    const aapl = report.flattened.find((f) => f.symbol === 'AAPL');
    assert.match(aapl?.result ?? report.failed.map((f) => f.reason).join(), /client bug/);
  });
});

describe('cancel of an order whose submit outcome is unknown', function () {
  this.timeout(20_000);
  it('the venue never got it: the cancel ends it as never arrived, not as a working ACCEPTED order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-cancel-unknown-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    const venue: BrokerApi = {
      ...delegatingBroker(paper, { id: 'paper' }),
      onOrderUpdate: () => ({ dispose: () => undefined }),
      // The request is lost on the way: the venue never sees it, the engine cannot know.
      submitOrder: () => Promise.reject(new BrokerError('TIMEOUT', 'no answer in 10 s', { outcomeUnknown: true })),
    };
    const audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    const engine = new ExecutionEngine({
      clock,
      brokers: { paper: venue },
      audit,
      limits: LOOSE,
      reconcileDelayMs: 50,
    });
    try {
      await engine.connect('paper');
      const o = order('buy', 10, limit(95));
      const result = await engine.submitOrder(o, 'paper');
      assert.equal(result.order.state, 'UNCONFIRMED');
      const after = await engine.cancel(o.client_order_id);
      assert.notEqual(after.state, 'ACCEPTED', `the venue never acknowledged it: ${after.reason ?? ''}`);
      assert.equal(after.state, 'REJECTED');
      assert.match(after.reason ?? '', /NEVER_ARRIVED/);
      assert.deepEqual(engine.workingOrders(), []);
    } finally {
      await engine.close();
      await audit.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emergency stop with a venue that is not connected', function () {
  this.timeout(20_000);
  it('its working orders are reported as not cancelled rather than left out of the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-estop-disc-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    const audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    const engine = new ExecutionEngine({ clock, brokers: { paper }, audit, limits: LOOSE });
    try {
      await engine.connect('paper');
      const o = order('buy', 10, limit(95));
      assert.equal((await engine.submitOrder(o, 'paper')).denial, undefined);
      await paper.disconnect();
      const report = await engine.emergencyStop({ reason: 'stop' });
      assert.equal(engine.status().tradingState, 'HALTED');
      assert.deepEqual(report.cancelled, []);
      assert.equal(report.failed.length, 1, JSON.stringify(report));
      assert.equal(report.failed[0]?.order, o.client_order_id);
      assert.match(report.failed[0]?.reason ?? '', /not connected/);
    } finally {
      await engine.close();
      await audit.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emergency stop with a slow venue', function () {
  this.timeout(20_000);
  it('an order whose submit is still at the venue does not hold up the cancel of the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-estop-slow-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    const cancelled: string[] = [];
    const venue: BrokerApi = {
      ...delegatingBroker(paper, { id: 'paper' }),
      submitOrder: async (o) => {
        if (o.symbol === 'MSFT') {
          held = true;
          await gate;
        }
        return paper.submitOrder(o);
      },
      cancelOrder: async (id) => {
        cancelled.push(id);
        await paper.cancelOrder(id);
      },
    };
    const audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    const engine = new ExecutionEngine({ clock, brokers: { paper: venue }, audit, limits: LOOSE });
    try {
      await engine.connect('paper');
      const slow = order('buy', 10, limit(95), undefined, 'MSFT');
      const submitting = engine.submitOrder(slow, 'paper');
      while (!held) await new Promise((r) => setImmediate(r));
      const quick = order('buy', 10, limit(95), undefined, 'AAPL');
      assert.equal((await engine.submitOrder(quick, 'paper')).denial, undefined);
      const stopping = engine.emergencyStop({ reason: 'stop' });
      // The AAPL order is cancelled while the MSFT submit is still waiting for the venue.
      for (let i = 0; i < 200 && cancelled.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
      assert.equal(cancelled.length, 1, 'the order the venue has is cancelled without waiting for the slow one');
      release();
      const [report] = await Promise.all([stopping, submitting]);
      assert.deepEqual(report.cancelled.sort(), [quick.client_order_id, slow.client_order_id].sort());
      assert.deepEqual(await paper.listOpenOrders(), []);
    } finally {
      release();
      await engine.close();
      await audit.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('two emergency stops at once', function () {
  this.timeout(20_000);
  it('flatten once: the second stop reads the positions the first left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-estop-twice-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    const sent: PlacedOrderRequest[] = [];
    const venue: BrokerApi = {
      ...delegatingBroker(paper, { id: 'paper' }),
      submitOrder: (o) => {
        sent.push(o);
        return paper.submitOrder(o);
      },
    };
    const audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    const engine = new ExecutionEngine({ clock, brokers: { paper: venue }, audit, limits: LOOSE });
    try {
      await engine.connect('paper');
      assert.equal((await engine.submitOrder(order('buy', 10), 'paper')).denial, undefined);
      const [a, b] = await Promise.all([
        engine.emergencyStop({ reason: 'first click', flatten: true }),
        engine.emergencyStop({ reason: 'second click', flatten: true }),
      ]);
      assert.equal(sent.length, 2, 'the buy and one flatten order');
      assert.deepEqual(await paper.getPositions(), []);
      assert.deepEqual([...a.failed, ...b.failed], [], JSON.stringify([a, b]));
      assert.equal(a.flattened.length + b.flattened.length, 1);
    } finally {
      await engine.close();
      await audit.close();
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
