/**
 * Issue 16: a result panel that stays true. The panel's view follows its order's later events from a
 * real engine over the real paper venue: a resting order's fill, a cancel, the emergency stop. A
 * scratch Test Order's view and other orders' events leave it alone.
 */
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../../src/execution/events';
import { orderResponseOf, type OrderRecord } from '../../../src/execution/orderState';
import type { TestOrderOutcome } from '../../../src/usecases/testOrder';
import { parsePanelState } from '../../../src/views/protocol';
import { followedView, resultViewOf } from '../../../src/views/resultView';
import type { ResultView } from '../../../src/views/protocol';
import { makeRig, type Rig } from '../execution/engineHelpers';
import { order } from '../paper/helpers';

function viewOf(record: OrderRecord, events: EngineEvent[], scratch = false): ResultView {
  const outcome: TestOrderOutcome = {
    ok: true,
    exitCode: 0,
    summary: 'ACCEPTED on Paper.',
    component: { file: '/w/c.py', stdout: '', stderr: '', output: null },
    marketData: { symbol: record.request.symbol, bid: 100, ask: 100.02 },
    order: record.request,
    response: orderResponseOf(record),
    slippage: null,
    timings: { componentMs: 1, pythonMs: 2, engineMs: 0.5, venueMs: 0.2, totalMs: 3.7 },
    errors: [],
    notes: [],
    venue: { id: 'paper', environment: 'paper' },
    scratch,
    risk: [],
    denial: null,
    events,
  };
  return resultViewOf(outcome, { kind: 'execute-paper', ranAt: 1, quotes: [] });
}

describe('the result panel follows its order (issue 16)', () => {
  let rig: Rig;
  let later: EngineEvent[];
  beforeEach(async () => {
    rig = await makeRig();
    rig.quotes.set('AAPL', 100, 100.02);
  });
  afterEach(() => rig.close());

  /** Submits a resting buy limit at 99 and returns its view as the panel shows it after the run. */
  const resting = async (scratch = false): Promise<{ view: ResultView; id: string }> => {
    const events: EngineEvent[] = [];
    const sub = rig.engine.subscribe((e) => events.push(e));
    const result = await rig.engine.submitOrder(
      order('buy', 10, { type: 'limit', price: 99 }, { type: 'GTC' }),
      'paper',
    );
    sub.dispose();
    assert.equal(result.order.state, 'ACCEPTED');
    later = [];
    rig.engine.subscribe((e) => later.push(e));
    return { view: viewOf(result.order, events, scratch), id: result.order.clientOrderId };
  };
  const follow = (view: ResultView, id: string): ResultView => {
    let v = view;
    for (const e of later) v = followedView(v, e, rig.engine.getOrder(id)) ?? v;
    return v;
  };

  it('a resting order that fills later: FILLED, its fill, the timeline grows; the view still parses', async () => {
    const { view, id } = await resting();
    assert.equal(view.status, 'ACCEPTED');
    rig.quotes.set('AAPL', 98.9, 98.95);
    rig.clock.advance(1000);
    rig.paper.poll();
    const after = follow(view, id);
    assert.equal(after.status, 'FILLED');
    assert.match(after.headline ?? '', /^BUY 10 AAPL LMT 99(\.00)? GTC → FILLED 10 @ 99/);
    assert.equal(after.fills.length, 1);
    assert.equal(after.filledQuantity, 10);
    assert.match(after.summary, /FILLED on paper \(final; updated after the run\)/);
    assert.ok(after.timeline.length > view.timeline.length);
    assert.equal(after.timeline.at(-1)?.type, 'OrderFilled');
    assert.ok(parsePanelState({ result: after }), 'the followed view is a valid panel state');
  });

  it('a cancel from the tree, and the emergency stop: CANCELLED', async () => {
    const first = await resting();
    await rig.engine.cancel(first.id);
    assert.equal(follow(first.view, first.id).status, 'CANCELLED');
    assert.match(follow(first.view, first.id).headline ?? '', /→ CANCELLED/);

    const second = await resting();
    await rig.engine.emergencyStop({ reason: 'test' });
    assert.equal(follow(second.view, second.id).status, 'CANCELLED');
  });

  it("a scratch Test Order's view and other orders' events leave the panel as it is", async () => {
    const mine = await resting(true);
    await rig.engine.cancel(mine.id);
    for (const e of later) assert.equal(followedView(mine.view, e, rig.engine.getOrder(mine.id)), undefined);

    const shown = await resting();
    const other = await rig.engine.submitOrder(order('buy', 5, { type: 'limit', price: 98 }, { type: 'GTC' }), 'paper');
    await rig.engine.cancel(other.order.clientOrderId);
    for (const e of later) assert.equal(followedView(shown.view, e, rig.engine.getOrder(shown.id)), undefined);
  });
});
