/**
 * Trading controls against a real engine and paper venue: REDUCING never lets a position flip (working
 * orders and orders submitted together counted, under any spelling of the symbol), the circuit breaker's
 * trip survives a restart, and every decision is in the audit log.
 */
import assert from 'node:assert/strict';
import { limit, order } from '../paper/helpers';
import { LOOSE, makeRig, settle, type Rig } from './engineHelpers';

describe('trading controls', function () {
  this.timeout(20_000);
  let rig: Rig;
  afterEach(async () => rig && (await rig.close()));

  it('REDUCING: a sell beyond the long is denied; working sells count; two sells submitted together cannot flip it', async () => {
    rig = await makeRig();
    assert.equal((await rig.engine.submitOrder(order('buy', 100), 'paper')).order.state, 'FILLED');
    rig.engine.setTradingState('REDUCING', 'wind down');
    assert.equal((await rig.engine.submitOrder(order('sell', 101), 'paper')).denial?.code, 'TRADING_STATE_REDUCING');
    // A resting sell of 60 is working: only 40 more may be sold.
    const resting = order('sell', 60, limit(150));
    assert.equal((await rig.engine.submitOrder(resting, 'paper')).denial, undefined);
    assert.equal((await rig.engine.submitOrder(order('sell', 41), 'paper')).denial?.code, 'TRADING_STATE_REDUCING');
    // Two sells of 30 at once (one spelled differently): together they would sell 120 of 100.
    const [a, b] = await Promise.all([
      rig.engine.submitOrder(order('sell', 30, limit(150)), 'paper'),
      rig.engine.submitOrder(order('sell', 30, limit(150), undefined, 'aapl'), 'paper'),
    ]);
    const denials = [a, b].filter((r) => r.denial?.code === 'TRADING_STATE_REDUCING');
    assert.equal(denials.length, 1, JSON.stringify([a.denial, b.denial]));
    const working = rig.engine.workingOrders().filter((o) => o.request.side === 'sell');
    const total = working.reduce((s, o) => s + o.request.quantity, 0);
    assert.ok(total <= 100, `working sells ${total} never exceed the long of 100`);
    const records = await rig.auditRecords();
    assert.ok(
      records.filter((r) => r.type === 'OrderDenied' && r.data['code'] === 'TRADING_STATE_REDUCING').length >= 3,
    );
  });

  it('REDUCING with a partly filled working sell counts only what is left of it', async () => {
    rig = await makeRig();
    assert.equal((await rig.engine.submitOrder(order('buy', 100), 'paper')).order.state, 'FILLED');
    const resting = order('sell', 60, limit(101));
    assert.equal((await rig.engine.submitOrder(resting, 'paper')).denial, undefined);
    // The market reaches the limit for 25 only: the sell is partly filled.
    rig.quotes.move(101, 101.02, 25);
    rig.paper.poll();
    await settle();
    assert.equal(rig.engine.getOrder(resting.client_order_id)?.state, 'PARTIALLY_FILLED');
    assert.deepEqual(rig.engine.positionsOf('paper'), { AAPL: 75 });
    rig.quotes.move(100, 100.02);
    rig.engine.setTradingState('REDUCING', 'wind down');
    // The position is 75 and 35 are still working: 40 more may be sold, 41 may not.
    assert.equal((await rig.engine.submitOrder(order('sell', 41), 'paper')).denial?.code, 'TRADING_STATE_REDUCING');
    assert.equal((await rig.engine.submitOrder(order('sell', 40), 'paper')).order.state, 'FILLED');
    assert.equal((await rig.engine.submitOrder(order('sell', 1), 'paper')).denial?.code, 'TRADING_STATE_REDUCING');
  });

  it('a circuit-breaker trip survives a restart, and resuming by hand clears it', async () => {
    rig = await makeRig({
      circuitBreaker: { maxConsecutiveFailures: 2, maxFailuresInWindow: 100, windowMs: 60_000 },
    });
    for (let i = 0; i < 2; i++) rig.venue.injectNext('reject', { reason: 'venue says no' });
    for (let i = 0; i < 2; i++)
      assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'REJECTED');
    assert.equal(rig.engine.status().tradingState, 'HALTED');
    await rig.restart();
    await rig.engine.connect('paper');
    const status = rig.engine.status();
    assert.equal(status.tradingState, 'HALTED', 'a trip is not forgotten by restarting');
    assert.equal(status.source, 'circuit_breaker');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_HALTED');
    rig.engine.setTradingState('ACTIVE', 'checked the venue');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'FILLED');
    const records = await rig.auditRecords();
    assert.ok(records.some((r) => r.type === 'Resume'));
  });

  it("a halt for settings that are not valid keeps the breaker's halt it replaced across a restart", async () => {
    rig = await makeRig({
      circuitBreaker: { maxConsecutiveFailures: 2, maxFailuresInWindow: 100, windowMs: 60_000, cooldownMs: 60_000 },
    });
    for (let i = 0; i < 2; i++) rig.venue.injectNext('reject', { reason: 'venue says no' });
    for (let i = 0; i < 2; i++) await rig.engine.submitOrder(order('buy', 1), 'paper');
    const tripped = rig.engine.status();
    assert.equal(tripped.source, 'circuit_breaker');
    const resumeAt = tripped.resumeAt as number;
    assert.equal(resumeAt, rig.clock.now() + 60_000);
    rig.engine.haltCovering('a risk setting is not valid: x');
    const covering = rig.engine.status();
    assert.equal(covering.source, 'user');
    assert.equal(
      covering.reason,
      `a risk setting is not valid: x; then the circuit breaker's halt before it (${tripped.reason}, its cool-down until ${new Date(resumeAt).toISOString()})`,
    );
    // Kept in memory only, a restart lost it: fixing the settings then resumed trading in the breaker's cool-down.
    await rig.restart();
    await rig.engine.connect('paper');
    assert.equal(rig.engine.status().reason, covering.reason);
    // The same invalid setting said again on open changes nothing.
    assert.equal(rig.engine.haltCovering('a risk setting is not valid: x'), undefined);
    rig.engine.endCoveringHalt('the risk settings are valid again');
    const back = rig.engine.status();
    assert.deepEqual(
      [back.tradingState, back.source, back.reason, back.resumeAt],
      ['HALTED', 'circuit_breaker', tripped.reason, resumeAt],
    );
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_HALTED');
    await rig.restart();
    assert.equal(rig.engine.status().resumeAt, resumeAt);
    // Its cool-down still ends it.
    rig.clock.advance(60_000);
    assert.equal(rig.engine.status().tradingState, 'ACTIVE');
  });

  it("a breaker's cool-down that ended under a settings halt ends when the settings are fixed; a person's resume ends both", async () => {
    rig = await makeRig({
      circuitBreaker: { maxConsecutiveFailures: 1, maxFailuresInWindow: 100, windowMs: 60_000, cooldownMs: 1000 },
    });
    rig.venue.injectNext('reject', { reason: 'venue says no' });
    await rig.engine.submitOrder(order('buy', 1), 'paper');
    rig.engine.haltCovering('a risk setting is not valid: y');
    rig.clock.advance(5000);
    assert.equal(rig.engine.status().tradingState, 'HALTED', 'not ended by the covered cool-down');
    await rig.restart();
    rig.engine.endCoveringHalt('the risk settings are valid again');
    assert.equal(rig.engine.status().tradingState, 'ACTIVE');
    const changes = (await rig.auditRecords()).filter((r) => r.type === 'TradingStateChanged').map((r) => r.data['to']);
    assert.deepEqual(changes.slice(-3), ['HALTED', 'HALTED', 'ACTIVE']);
    // A person who resumes (or halts) decides: nothing covered comes back later.
    rig.venue.injectNext('reject', { reason: 'venue says no' });
    await rig.engine.submitOrder(order('buy', 1), 'paper');
    rig.engine.haltCovering('a risk setting is not valid: y');
    rig.engine.setTradingState('ACTIVE', 'checked');
    rig.engine.setTradingState('HALTED', 'a risk setting is not valid: y');
    rig.engine.endCoveringHalt('the risk settings are valid again');
    assert.equal(rig.engine.status().tradingState, 'ACTIVE');
  });

  it('a halt for settings that are not valid over REDUCING goes back to REDUCING, not ACTIVE, when it ends', async () => {
    rig = await makeRig();
    rig.engine.setTradingState('REDUCING', 'wind down');
    rig.engine.haltCovering('a risk setting is not valid: z');
    assert.equal(rig.engine.status().reason, 'a risk setting is not valid: z; then REDUCING again (wind down)');
    // Another setting made bad meanwhile: what is kept is still the REDUCING.
    rig.engine.haltCovering('a risk setting is not valid: w');
    await rig.restart();
    rig.engine.endCoveringHalt('the risk settings are valid again');
    const status = rig.engine.status();
    assert.deepEqual([status.tradingState, status.reason], ['REDUCING', 'wind down']);
    // Over ACTIVE it resumes.
    rig.engine.setTradingState('ACTIVE', 'done');
    rig.engine.haltCovering('a risk setting is not valid: z');
    rig.engine.haltCovering('a risk setting is not valid: w');
    rig.engine.endCoveringHalt('the risk settings are valid again');
    assert.equal(rig.engine.status().tradingState, 'ACTIVE');
  });

  it('a daily-loss trip is not ended by the cool-down the same day: the loss is still there', async () => {
    rig = await makeRig({ circuitBreaker: { maxDailyLoss: 500, cooldownMs: 60_000 }, startingCash: 100_000 });
    await rig.engine.submitOrder(order('buy', 100), 'paper');
    rig.quotes.move(94, 94.02);
    rig.clock.advance(2000);
    await rig.engine.submitOrder(order('buy', 1), 'paper');
    await settle(10);
    assert.equal(rig.engine.status().tradingState, 'HALTED');
    rig.clock.advance(61_000);
    assert.equal(rig.engine.status().tradingState, 'HALTED', 'still the same day, still beyond the daily loss');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'TRADING_HALTED');
    const resumeAt = rig.engine.status().resumeAt;
    assert.ok(resumeAt !== null && new Date(resumeAt).getUTCDate() !== new Date(rig.clock.now()).getUTCDate());
    rig.clock.set(resumeAt);
    assert.equal(rig.engine.status().tradingState, 'ACTIVE', 'a new day starts afresh');
  });

  it('halt while an order waits in its lane: it is not sent', async () => {
    rig = await makeRig();
    const first = rig.engine.submitOrder(order('buy', 1), 'paper');
    const second = rig.engine.submitOrder(order('buy', 1), 'paper');
    rig.engine.setTradingState('HALTED', 'stop now');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.denial?.code, 'TRADING_HALTED');
    assert.equal(b.denial?.code, 'TRADING_HALTED');
    assert.deepEqual(await rig.paper.getPositions(), []);
  });
});

describe('emergency flatten and the submit rate', function () {
  this.timeout(20_000);
  let rig: Rig;
  afterEach(async () => rig && (await rig.close()));

  it('an emergency stop flattens every position even when the submit rate allows one order at a time', async () => {
    rig = await makeRig({ limits: { ...LOOSE, maxOrdersPerSecond: 1, orderBurst: 3 } });
    for (const symbol of ['AAPL', 'MSFT', 'IBM'])
      assert.equal(
        (await rig.engine.submitOrder(order('buy', 5, undefined, undefined, symbol), 'paper')).denial,
        undefined,
      );
    const report = await rig.engine.emergencyStop({ reason: 'stop', flatten: true });
    assert.deepEqual(report.failed, [], JSON.stringify(report));
    assert.deepEqual(await rig.paper.getPositions(), []);
    // The stop's orders used no tokens of the rate, and ordinary orders are still held to it after a resume.
    rig.engine.setTradingState('ACTIVE', 'checked');
    assert.equal((await rig.engine.submitOrder(order('buy', 1), 'paper')).denial?.code, 'RATE_LIMIT_EXCEEDED');
  });
});
