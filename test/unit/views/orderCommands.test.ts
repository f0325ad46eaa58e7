/** Cancel Order and Close Position from a tree item or a command argument that is stale: the order or position changed since it was shown. */
import { editor, fakeLog } from './vscodeFake';
import assert from 'node:assert/strict';
import { Commands } from '../../../src/constants';
import { registerOrderCommands } from '../../../src/views/orderCommands';
import { makeRig, type Rig } from '../execution/engineHelpers';
import { order } from '../paper/helpers';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';

type Services = Parameters<typeof registerOrderCommands>[0];

describe('Cancel Order with a stale argument', () => {
  let rig: Rig;
  let subscriptions: Array<{ dispose(): void }>;
  beforeEach(async () => {
    editor.reset();
    subscriptions = [];
    rig = await makeRig();
    rig.quotes.set('AAPL', 100, 100.02);
    registerOrderCommands({
      context: { subscriptions },
      log: fakeLog(),
      session: { trading: async () => ({ engine: rig.engine }) },
      profiles: { brokers: new Map([['paper', rig.venue]]) },
      paper: { id: 'paper' },
      parents: {},
    } as unknown as Services);
  });
  afterEach(async () => {
    for (const d of subscriptions) d.dispose();
    await rig.close();
  });

  const cancel = (node: unknown): Promise<unknown> => {
    const handler = editor.commands.get(Commands.cancelOrder);
    assert.ok(handler);
    return handler(node) as Promise<unknown>;
  };

  it('an order that filled since says so, not that the venue has yet to confirm a cancel', async () => {
    const result = await rig.engine.submitOrder(order('buy', 10), 'paper');
    const record = (await rig.engine.waitForFinal(result.order.clientOrderId, 1000)) ?? result.order;
    assert.equal(record.state, 'FILLED');
    await cancel({ kind: 'order', record });
    assert.deepEqual(
      editor.toasts.map((t) => t.level),
      ['information'],
    );
    assert.match(
      editor.toasts[0]?.message ?? '',
      /^SPtrader Cancel on paper: nothing to cancel; the order had already ended: BUY 10 AAPL .*FILLED/,
    );
    assert.doesNotMatch(editor.toasts[0]?.message ?? '', /has not confirmed/);
  });

  it('a working order is cancelled; an id the engine never had is an error naming it', async () => {
    const result = await rig.engine.submitOrder(order('buy', 10, { type: 'limit', price: 90 }), 'paper');
    assert.equal(result.order.state, 'ACCEPTED');
    await cancel({ kind: 'order', record: result.order });
    assert.match(editor.toasts[0]?.message ?? '', /^SPtrader Cancel on paper: BUY 10 AAPL LMT 90 .*CANCELLED/);
    await cancel({ kind: 'order', record: { ...result.order, clientOrderId: 'gone-1' } });
    assert.equal(editor.toasts[1]?.level, 'error');
    assert.equal(editor.toasts[1]?.message, 'SPtrader: Cancel Order failed: no order with client order id gone-1');
  });

  it('Close Position on a position closed since (a second click) sends nothing, never the opposite position', async () => {
    await rig.engine.submitOrder(order('buy', 10), 'paper');
    const account = await rig.venue.getAccountInfo();
    const position = account.open_positions.find((p) => p.symbol === 'AAPL');
    assert.equal(position?.quantity, 10);
    const node = { kind: 'position', venue: 'paper', position, currency: 'USD' };
    editor.answer = (message, items) => (items.includes('Close Position') ? 'Close Position' : undefined);
    const close = editor.commands.get(Commands.closePosition);
    assert.ok(close);
    await close(node);
    await close(node);
    assert.equal(rig.engine.positionsOf('paper')['AAPL'] ?? 0, 0, 'closed, not reversed to -10');
    assert.equal(
      editor.toasts[editor.toasts.length - 1]?.message,
      'SPtrader Close Position: there is no open AAPL position at paper any more; nothing was sent.',
    );
    // Two clicks at once: one close; the other is refused while it goes.
    await rig.engine.submitOrder(order('buy', 4), 'paper');
    const again = (await rig.venue.getAccountInfo()).open_positions.find((p) => p.symbol === 'AAPL');
    const node4 = { ...node, position: again };
    await Promise.all([close(node4), close(node4)]);
    assert.equal(rig.engine.positionsOf('paper')['AAPL'] ?? 0, 0);
    assert.ok(
      editor.toasts.some((t) => t.message === 'SPtrader Close Position: AAPL at paper is already being closed.'),
    );
  });
});

describe('Close Position on a live account', () => {
  let rig: Rig;
  let subscriptions: Array<{ dispose(): void }>;
  let liveEnabled: boolean;
  const LIVE = 'live-acct';
  beforeEach(async () => {
    editor.reset();
    subscriptions = [];
    liveEnabled = false;
    rig = await makeRig();
    rig.quotes.set('AAPL', 100, 100.02);
    // The paper venue standing in for a live account: the engine asks a per-order confirmation of it.
    const live: BrokerApi = { ...delegatingBroker(rig.venue, { id: LIVE, displayName: 'Live' }), environment: 'live' };
    rig.engine.addBroker(LIVE, live);
    registerOrderCommands({
      context: { subscriptions },
      log: fakeLog(),
      session: { trading: async () => ({ engine: rig.engine }) },
      profiles: {
        brokers: new Map<string, BrokerApi>([
          ['paper', rig.venue],
          [LIVE, live],
        ]),
        liveEnabled: () => liveEnabled,
      },
      paper: { id: 'paper' },
      parents: {},
    } as unknown as Services);
  });
  afterEach(async () => {
    for (const d of subscriptions) d.dispose();
    await rig.close();
  });

  const openPosition = async (): Promise<unknown> => {
    await rig.engine.submitOrder(order('buy', 10), 'paper');
    const position = (await rig.venue.getAccountInfo()).open_positions.find((p) => p.symbol === 'AAPL');
    assert.equal(position?.quantity, 10);
    return { kind: 'position', venue: LIVE, position, currency: 'USD' };
  };
  const close = (node: unknown): Promise<unknown> => {
    const handler = editor.commands.get(Commands.closePosition);
    assert.ok(handler);
    return handler(node) as Promise<unknown>;
  };

  it('with live trading off, nothing is asked and nothing is sent', async () => {
    const node = await openPosition();
    let asked = 0;
    editor.answer = (_m, items) => (items.includes('Close Position') ? (asked++, 'Close Position') : undefined);
    await close(node);
    assert.equal(asked, 0);
    assert.equal(rig.engine.positionsOf(LIVE)['AAPL'] ?? 0, 0, 'no fill at the live account');
    assert.equal((await rig.venue.getAccountInfo()).open_positions[0]?.quantity, 10);
    assert.match(editor.toasts[0]?.message ?? '', /LIVE account and live trading is off .*nothing was sent/);
  });

  it("with live trading on, the modal names the LIVE account and is the order's confirmation; Cancel sends nothing", async () => {
    liveEnabled = true;
    const node = await openPosition();
    const asked: string[] = [];
    editor.answer = () => undefined;
    await close(node);
    assert.equal((await rig.venue.getAccountInfo()).open_positions[0]?.quantity, 10, 'cancelled: nothing sent');
    editor.answer = (message, items) => {
      asked.push(message);
      return items.includes('Close Position') ? 'Close Position' : undefined;
    };
    await close(node);
    assert.match(asked[0] ?? '', /^Close AAPL on the LIVE account live-acct: sell 10 at market\?$/);
    assert.deepEqual((await rig.venue.getAccountInfo()).open_positions, [], 'closed at the venue');
    const last = editor.toasts[editor.toasts.length - 1]?.message ?? '';
    assert.doesNotMatch(last, /LIVE_NOT_CONFIRMED|confirmation/);
  });
});
