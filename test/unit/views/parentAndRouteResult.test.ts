/**
 * The result panel for parents and routed orders (issue 15), from real runs: real Python, the real
 * harness, a trading session over a state directory (engine, audit log, paper account) as the editor
 * opens it. Execute on Paper of a component that returns a parent starts it (the same ParentOrders as
 * `sptrader algo`) and the panel shows the parent with its children, following them after the run;
 * Test Order only checks a parent; a routed order's panel names the chosen venue, the candidates and why.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { ParentOrders } from '../../../src/execution/algos/parents';
import { tailAudit } from '../../../src/execution/audit/auditLog';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import { runTestOrder } from '../../../src/usecases/testOrder';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { parseHostNotification } from '../../../src/views/protocol';
import { followedParentView, resultViewOf } from '../../../src/views/resultView';
import { LOOSE } from '../execution/engineHelpers';

describe('result panel: parents with their children, and routing', function () {
  this.timeout(30_000);
  let worker: PythonWorker;
  let dir: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let session: TradingSession;
  let parents: ParentOrders;

  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 5000,
    });
  });
  after(() => worker.dispose());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-parent-view-'));
    clock = new TestClock(Date.UTC(2026, 0, 6, 12));
    paper = new PaperBroker({ clock, seed: 7, stateFile: join(dir, 'paper-account.json'), startingCash: 1e7 });
    session = await openTradingSession({
      stateDir: join(dir, 'engine'),
      clock,
      brokers: { paper },
      settings: { limits: { ...LOOSE, maxOrderQuantity: 1_000_000 }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } },
    });
    await session.engine.connect('paper');
    parents = new ParentOrders({
      engine: session.engine,
      audit: session.audit,
      clock,
      instrument: (_v, s) => paper.getInstrument(s),
      quote: (_v, s) => paper.getQuote(s),
    });
  });
  afterEach(async () => {
    parents.dispose();
    await session.close();
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const component = (name: string, body: string[]): string => {
    const file = join(dir, `${name}.py`);
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        `class ${name}(OrderBase):`,
        '    def generate_order(self, market_data, signal=None):',
        ...body.map((l) => `        ${l}`),
        '',
      ].join('\n'),
    );
    return file;
  };
  // An entry below the market, so the bracket rests with its entry working.
  const BRACKET = [
    "bid = market_data['bid']",
    "return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 10000,",
    "        'entry_price': round(bid * 0.99, 5), 'stop_loss': round(bid * 0.98, 5), 'take_profit': round(bid * 1.02, 5)}",
  ];

  it('Execute on Paper starts a parent: the panel shows it WORKING with its entry, then follows it to CANCELLED', async () => {
    const file = component('Bracket', BRACKET);
    const outcome = await runTestOrder(
      { file, source: 'execute-paper' },
      { runner: worker, broker: paper, engine: session.engine, clock, parents },
    );
    assert.equal(outcome.ok, true, outcome.summary + JSON.stringify(outcome.errors));
    assert.equal(outcome.parent?.state, 'WORKING');
    assert.match(outcome.summary, /^Started pa-\S+ BRACKET BUY 10,000 EUR_USD, stop-loss .*: WORKING\.$/);
    const view = resultViewOf(outcome, { kind: 'execute-paper', ranAt: clock.now(), quotes: [] });
    assert.ok(parseHostNotification({ type: 'result', result: view }), 'the view follows the panel protocol');
    assert.equal(view.status, 'WORKING');
    assert.match(view.headline ?? '', /^BRACKET BUY 10,000 EUR_USD, stop-loss/);
    const p = view.parent!;
    assert.equal(p.algo, 'bracket');
    assert.match(p.emulation, /stop and limit orders; one-cancels-other is emulated locally/);
    assert.deepEqual(
      p.children.map((c) => [c.role, c.state]),
      [['entry', 'ACCEPTED']],
    );
    assert.match(p.children[0]!.order, /^BUY 10,000 EUR_USD LMT \S+ GTC$/);
    const entryId = p.children[0]!.id;
    assert.equal(entryId, `${p.parentId}-1`);
    assert.equal(session.engine.getOrder(entryId)?.state, 'ACCEPTED', 'the entry rests at the paper venue');

    // Cancelling the parent cancels its child; the panel follows both.
    await parents.cancel(p.parentId);
    const after = followedParentView(view, parents.get(p.parentId)!);
    assert.ok(after);
    assert.equal(after.status, 'CANCELLED');
    assert.deepEqual(
      after.parent!.children.map((c) => [c.role, c.state]),
      [['entry', 'CANCELLED']],
    );
    assert.match(after.summary, /^CANCELLED on paper: cancelled \(updated after the run\)\.$/);
    assert.equal(followedParentView(after, parents.get(p.parentId)!), undefined, 'nothing new: no update');
    const types = (await tailAudit(join(dir, 'engine', 'audit'), 50)).map((r) => r.type);
    assert.ok(types.includes('ParentStarted') && types.includes('ParentChild') && types.includes('ParentEnded'));
  });

  it('Test Order checks a parent and starts nothing; an invalid parent is refused at its return line', async () => {
    const file = component('Bracket', BRACKET);
    const outcome = await runTestOrder({ file }, { runner: worker, broker: paper, engine: session.engine, clock });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.parent, undefined);
    assert.equal(outcome.parentSpec?.algo, 'bracket');
    assert.match(outcome.summary, /a valid bracket parent order: .*Execute on Paper/i);
    const view = resultViewOf(outcome, { kind: 'test-order', ranAt: 1, quotes: [] });
    assert.equal(view.status, 'VALIDATED');
    assert.match(view.headline ?? '', /^BRACKET BUY 10,000 EUR_USD \(a parent order; not started\)$/);
    assert.equal(session.engine.workingOrders().length, 0, 'nothing was sent');

    const bad = component('BadBracket', [
      "return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'stop_loss': 1.2, 'take_profit': 1.1}",
    ]);
    const refused = await runTestOrder(
      { file: bad, source: 'execute-paper' },
      { runner: worker, broker: paper, engine: session.engine, clock, parents },
    );
    assert.equal(refused.exitCode, 1);
    assert.equal(refused.errors[0]?.code, 'INVALID_ORDER');
    assert.equal(refused.errors[0]?.line, 4);
    assert.match(
      refused.errors[0]?.message ?? '',
      /stop_loss: for a buy, stop_loss \(1\.2\) must be below take_profit/,
    );
    assert.equal(parents.list().length, 0);
  });

  it('a routed order: the panel names the chosen venue, every candidate and why', async () => {
    const other = new PaperBroker({ clock, seed: 11, stateFile: join(dir, 'other.json'), startingCash: 1e7 });
    const second = delegatingBroker(other, { id: 'paper-2' });
    session.engine.addBroker('paper-2', second);
    await session.engine.connect('paper-2');
    try {
      const file = component('Routed', [
        "return {'route': 'best_price', 'venues': ['paper', 'paper-2', 'nowhere'], 'symbol': 'EUR_USD', 'side': 'buy',",
        "        'quantity': 1000, 'order_type': 'market', 'time_in_force': 'IOC'}",
      ]);
      const venues = new Map<string, BrokerApi>([
        ['paper', paper],
        ['paper-2', second],
      ]);
      const outcome = await runTestOrder(
        { file, source: 'execute-paper' },
        {
          runner: worker,
          broker: paper,
          engine: session.engine,
          clock,
          route: { venues, fees: () => undefined },
        },
      );
      assert.equal(outcome.ok, true, outcome.summary);
      const view = resultViewOf(outcome, { kind: 'execute-paper', ranAt: 1, quotes: [] });
      const route = view.route!;
      assert.ok(route.chosen === 'paper' || route.chosen === 'paper-2');
      assert.equal(view.venue.id, route.chosen);
      assert.deepEqual(
        route.candidates.map((c) => c.venue),
        ['paper', 'paper-2', 'nowhere'],
      );
      const chosen = route.candidates.find((c) => c.venue === route.chosen)!;
      const loser = route.candidates.find((c) => c.venue !== route.chosen && c.venue !== 'nowhere')!;
      assert.ok(chosen.net! <= loser.net!, 'the lower ask won');
      assert.match(route.reason, /^best net price: /);
      assert.match(route.candidates[2]!.skipped ?? '', /^not a venue of this session/);
      assert.ok(parseHostNotification({ type: 'result', result: view }));
    } finally {
      await other.disconnect();
    }
  });
});
