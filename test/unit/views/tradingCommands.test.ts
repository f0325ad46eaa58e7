/** Emergency Stop in the editor: what it did is said to the user, failures included (a flatten the venue refused). */
import { editor, fakeLog } from './vscodeFake';
import assert from 'node:assert/strict';
import { Commands } from '../../../src/constants';
import { registerTradingCommands } from '../../../src/views/tradingCommands';
import { makeRig, type Rig } from '../execution/engineHelpers';
import { order } from '../paper/helpers';

type Services = Parameters<typeof registerTradingCommands>[0];

describe('Emergency Stop command', () => {
  let rig: Rig;
  let subscriptions: Array<{ dispose(): void }>;
  let log: ReturnType<typeof fakeLog>;
  beforeEach(async () => {
    editor.reset();
    subscriptions = [];
    rig = await makeRig();
    log = fakeLog();
    registerTradingCommands({
      context: { subscriptions },
      log,
      session: { trading: async () => ({ engine: rig.engine }), onEngineEvent: () => ({ dispose: () => undefined }) },
    } as unknown as Services);
  });
  afterEach(async () => {
    for (const d of subscriptions) d.dispose();
    await rig.close();
  });

  it('Close All Positions with one flatten order refused says that a position is still open, and which', async () => {
    for (const symbol of ['AAPL', 'MSFT'])
      assert.equal(
        (await rig.engine.submitOrder(order('buy', 5, undefined, undefined, symbol), 'paper')).denial,
        undefined,
      );
    rig.venue.injectNext('reject', { reason: 'market closed' });
    editor.answer = (_message, items) =>
      items.includes('Close All Positions…')
        ? 'Close All Positions…'
        : items.includes('Close Positions')
          ? 'Close Positions'
          : undefined;
    const run = editor.commands.get(Commands.emergencyStop);
    assert.ok(run);
    await run();
    assert.equal(rig.engine.status().tradingState, 'HALTED');
    assert.equal((await rig.paper.getPositions()).length, 1, 'one position is still open');
    const last = editor.toasts.at(-1);
    assert.equal(last?.level, 'error', JSON.stringify(editor.toasts));
    assert.match(last?.message ?? '', /1 position\(s\) NOT closed/);
    assert.match(last?.message ?? '', /market closed/);
  });

  it('Resume is refused while a flatten cut short stands (as the CLI refuses), and allowed once a flatten here finished it', async () => {
    editor.reset();
    const cutShort = {
      at: Date.UTC(2026, 11, 5, 3),
      reason: 'emergency stop',
      flatten: true,
      cause: 'unknown' as const,
    };
    const session = { engine: rig.engine, interruptedStop: cutShort };
    const mine: Array<{ dispose(): void }> = [];
    registerTradingCommands({
      context: { subscriptions: mine },
      log,
      session: { trading: async () => session, onEngineEvent: () => ({ dispose: () => undefined }) },
    } as unknown as Services);
    try {
      rig.engine.setTradingState('HALTED', 'emergency stop');
      editor.answer = (_message, items) =>
        items.includes('Resume') ? 'Resume' : items.includes('Close Positions') ? 'Close Positions' : undefined;
      await editor.commands.get(Commands.resumeTrading)?.();
      assert.equal(rig.engine.status().tradingState, 'HALTED', 'not resumed over the stop cut short');
      assert.match(editor.toasts.at(-1)?.message ?? '', /not resumed: the emergency stop of .* was cut short/);
      assert.match(editor.toasts.at(-1)?.message ?? '', /choose Close All Positions… to finish it/);
      // A stop without its flatten does not finish a flatten cut short.
      await editor.commands.get(Commands.emergencyStop)?.();
      await editor.commands.get(Commands.resumeTrading)?.();
      assert.equal(rig.engine.status().tradingState, 'HALTED');
      // The flatten done here: resuming is the person's choice again.
      editor.answer = (_message, items) =>
        items.includes('Close All Positions…')
          ? 'Close All Positions…'
          : items.includes('Close Positions')
            ? 'Close Positions'
            : items.includes('Resume')
              ? 'Resume'
              : undefined;
      await editor.commands.get(Commands.emergencyStop)?.();
      await editor.commands.get(Commands.resumeTrading)?.();
      assert.equal(rig.engine.status().tradingState, 'ACTIVE');
    } finally {
      for (const d of mine) d.dispose();
    }
  });
});
