/** The editor's settings read through the editor's API, as the engine gets them. */
import { editor, fakeLog } from './vscodeFake';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { systemClock } from '../../../src/common/clock';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { SettingsError } from '../../../src/usecases/session';
import { EditorSession } from '../../../src/views/editorSession';
import { EditorSettings } from '../../../src/views/editorSettings';

type Log = ConstructorParameters<typeof EditorSettings>[0];

/** A setting as the user's settings.json holds it (the section object and the dotted key, as the editor answers). */
function setUser(section: 'risk' | 'circuitBreaker', key: string, value: unknown): void {
  const all = { ...((editor.configuration.get(section) as Record<string, unknown> | undefined) ?? {}), [key]: value };
  editor.configuration.set(section, all);
  editor.configuration.set(`${section}.${key}`, value);
}

describe('EditorSettings.riskSettings', () => {
  beforeEach(() => editor.reset());

  it('a bad setting refuses trading, naming it (once in a toast); its default never takes its place', () => {
    setUser('risk', 'maxOrderQuantity', 10);
    setUser('circuitBreaker', 'cooldownSeconds', -1);
    const settings = new EditorSettings(fakeLog() as unknown as Log);
    // The bad one took its default: a 300 s cool-down, after which trading resumed by itself.
    assert.throws(
      () => settings.riskSettings(),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message ===
          'sptrader.circuitBreaker.cooldownSeconds = -1 is not valid (Too small: expected number to be >0); no order is sent until it is fixed',
    );
    assert.throws(() => settings.riskSettings(), SettingsError);
    assert.deepEqual(
      editor.toasts.map((t) => [t.level, t.message]),
      [
        [
          'error',
          'SPtrader: sptrader.circuitBreaker.cooldownSeconds = -1 is not valid (Too small: expected number to be >0); no order is sent until it is fixed.',
        ],
      ],
    );
    setUser('circuitBreaker', 'cooldownSeconds', 600);
    const fixed = settings.riskSettings();
    assert.equal(fixed.limits.maxOrderQuantity, 10);
    assert.equal(fixed.circuitBreaker.cooldownMs, 600_000);
  });

  it('wrong type, negative, NaN, text, infinite: each names its setting', () => {
    for (const [key, value] of [
      ['maxOrderQuantity', '10 lots'],
      ['maxOrderNotional', -5],
      ['priceCollarBps', Number.NaN],
      ['maxPositionQuantity', Number.POSITIVE_INFINITY],
      ['maxOpenOrders', 1.5],
      ['allowedSymbols', 'EUR_USD'],
    ] as const) {
      editor.reset();
      setUser('risk', key, value);
      assert.throws(
        () => new EditorSettings(fakeLog() as unknown as Log).riskSettings(),
        (e: unknown) => e instanceof SettingsError && e.message.startsWith(`sptrader.risk.${key} = `),
        key,
      );
    }
  });
});

describe('EditorSession: risk settings that are not valid', function () {
  this.timeout(30_000);
  let dir: string;
  let paper: PaperBroker;
  let session: EditorSession;
  const log = fakeLog();

  beforeEach(() => {
    editor.reset();
    dir = mkdtempSync(join(tmpdir(), 'sptrader-editor-settings-'));
    paper = new PaperBroker({ clock: systemClock, seed: 3, stateFile: join(dir, 'paper-account.json') });
    const settings = new EditorSettings(log as unknown as Log);
    session = new EditorSession(log as unknown as Log, join(dir, 'engine'), paper, () => settings.riskSettings());
  });
  afterEach(async () => {
    await session.close();
    await paper.disconnect();
    session.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const order: PlacedOrderRequest = {
    symbol: 'EUR_USD',
    side: 'buy',
    quantity: 1000,
    order_type: { type: 'market' },
    time_in_force: { type: 'IOC' },
    metadata: {},
    client_order_id: 'sp-settings-1',
  };

  it('the engine opens HALTED on them, naming the setting (cancels and halts still work); fixed, it resumes', async () => {
    setUser('risk', 'maxOrderNotional', 'lots');
    // It did not open at all: no order could be cancelled, no halt made, no audit log shown.
    const trading = await session.trading();
    const status = trading.engine.status();
    assert.equal(status.tradingState, 'HALTED');
    assert.match(status.reason, /sptrader\.risk\.maxOrderNotional = "lots" is not valid/);
    assert.equal((await trading.engine.submitOrder({ ...order }, 'paper')).denial?.code, 'TRADING_HALTED');
    assert.deepEqual((await trading.engine.emergencyStop({ reason: 'test' })).failed, []);
    setUser('risk', 'maxOrderNotional', 50_000);
    await session.applySettings();
    // The emergency stop's halt is a person's: fixing the settings does not lift it.
    assert.equal(trading.engine.status().tradingState, 'HALTED');
    trading.engine.setTradingState('HALTED', `a risk setting is not valid: x`);
    await session.applySettings();
    assert.equal(trading.engine.status().tradingState, 'ACTIVE');
    assert.equal(trading.engine.status().limits.maxOrderNotional, 50_000);
  });

  it('a setting made bad while open halts trading (orders denied, the halt naming it); fixing it resumes', async () => {
    setUser('risk', 'maxOrderQuantity', 5000);
    const trading = await session.trading();
    assert.equal(trading.engine.status().tradingState, 'ACTIVE');

    setUser('risk', 'maxOrderQuantity', -5);
    await session.applySettings();
    const halted = trading.engine.status();
    assert.equal(halted.tradingState, 'HALTED');
    assert.match(halted.reason, /sptrader\.risk\.maxOrderQuantity = -5 is not valid/);
    const denied = await trading.engine.submitOrder({ ...order }, 'paper');
    assert.equal(denied.denial?.code, 'TRADING_HALTED');
    // A person resumes before fixing it: the setting is at its strictest, not its default (1,000,000) nor the last.
    trading.engine.setTradingState('ACTIVE', 'resumed by hand');
    const strict = await trading.engine.submitOrder({ ...order, client_order_id: 'sp-settings-2' }, 'paper');
    assert.equal(strict.denial?.code, 'QUANTITY_EXCEEDS_MAXIMUM');

    setUser('risk', 'maxOrderQuantity', 2000);
    await session.applySettings();
    assert.equal(trading.engine.status().tradingState, 'ACTIVE');
    assert.equal(trading.engine.status().limits.maxOrderQuantity, 2000);
  });

  it('a circuit breaker’s halt a bad setting took the place of comes back after a restart, with its cool-down', async () => {
    setUser('circuitBreaker', 'maxConsecutiveFailures', 2);
    setUser('circuitBreaker', 'cooldownSeconds', 600);
    const trading = await session.trading();
    paper.faults.rejectNext('venue says no');
    paper.faults.rejectNext('venue says no');
    for (const id of ['sp-breaker-1', 'sp-breaker-2'])
      assert.equal(
        (await trading.engine.submitOrder({ ...order, client_order_id: id }, 'paper')).order.state,
        'REJECTED',
      );
    const tripped = trading.engine.status();
    assert.equal(tripped.source, 'circuit_breaker');
    assert.ok(tripped.resumeAt !== null);
    setUser('risk', 'maxOrderQuantity', -5);
    await session.applySettings();
    assert.match(trading.engine.status().reason, /^a risk setting is not valid: sptrader\.risk\.maxOrderQuantity = -5/);
    // The editor is closed, the setting fixed, the editor opened again on the same state folder.
    await session.close();
    session.dispose();
    setUser('risk', 'maxOrderQuantity', 5000);
    const settings = new EditorSettings(log as unknown as Log);
    session = new EditorSession(log as unknown as Log, join(dir, 'engine'), paper, () => settings.riskSettings());
    const reopened = (await session.trading()).engine.status();
    // Remembered only in memory, the breaker's halt was lost: trading resumed in its cool-down.
    assert.deepEqual(
      [reopened.tradingState, reopened.source, reopened.reason, reopened.resumeAt],
      ['HALTED', 'circuit_breaker', tripped.reason, tripped.resumeAt],
    );
  });

  it('a person’s REDUCING a bad setting halted comes back when it is fixed (not ACTIVE)', async () => {
    const trading = await session.trading();
    trading.engine.setTradingState('REDUCING', 'wind down');
    setUser('risk', 'orderBurst', 0);
    await session.applySettings();
    assert.equal(trading.engine.status().tradingState, 'HALTED');
    setUser('risk', 'orderBurst', 10);
    await session.applySettings();
    assert.deepEqual([trading.engine.status().tradingState, trading.engine.status().reason], ['REDUCING', 'wind down']);
  });

  it('a person’s halt is not lifted by fixing the settings', async () => {
    const trading = await session.trading();
    trading.engine.setTradingState('HALTED', 'lunch');
    setUser('risk', 'orderBurst', 0);
    await session.applySettings();
    setUser('risk', 'orderBurst', 10);
    await session.applySettings();
    const status = trading.engine.status();
    assert.equal(status.tradingState, 'HALTED');
    assert.equal(status.reason, 'lunch');
  });
});
