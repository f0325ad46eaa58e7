/**
 * A stop whose price the market had already reached when it was placed (a buy stop at or below the ask, a sell stop
 * at or above the bid) triggers at once on the paper venue, as at OANDA, Alpaca and IB: the fill stays, and the
 * outcome says why, in a note the CLI (formatOutcome) and the result panel (resultViewOf) both show. It filled with
 * no word, reading as a market order sent by mistake. Real Python, the real harness, the paper venue in a state
 * directory opened as the CLI opens it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { stopAlreadyReachedNote } from '../../../src/usecases/describeOrder';
import { formatOutcome } from '../../../src/usecases/formatOutcome';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import { runTestOrder, type TestOrderOutcome } from '../../../src/usecases/testOrder';
import { resultViewOf } from '../../../src/views/resultView';
import { LOOSE } from './engineHelpers';

/** A stop `offset_pips` from the touch its side triggers on (the ask for a buy, the bid for a sell). */
const STOP_AT = `from core.orders.order_base import OrderBase

__metadata__ = {
    'name': 'stop_at',
    'type': 'order',
    'parameters': {
        'side': {'type': 'str', 'default': 'buy'},
        'offset_pips': {'type': 'float', 'default': -20},
        'stop_limit': {'type': 'bool', 'default': False},
    },
}


class StopAt(OrderBase):
    def generate_order(self, market_data, signal=None):
        side = self.config['side']
        touch = market_data['ask'] if side == 'buy' else market_data['bid']
        stop = round(touch + self.config['offset_pips'] * 0.0001, 5)
        order = {'symbol': 'EUR_USD', 'side': side, 'quantity': 1000, 'time_in_force': 'GTC'}
        if self.config['stop_limit']:
            slack = 0.0010 if side == 'buy' else -0.0010
            order.update({'order_type': 'stop_limit', 'stop_price': stop, 'limit_price': round(touch + slack, 5)})
        else:
            order.update({'order_type': 'stop', 'price': stop})
        return order
`;

const REACHED = /stop price [\d.]+ was already reached \(market [\d.]+, the (ask|bid)\): it triggered at once/;

describe('a stop the market has already reached: it triggers at once, and the outcome says so', function () {
  this.timeout(30_000);
  let worker: PythonWorker;
  let dir: string;
  let component: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let session: TradingSession;

  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 5000,
    });
  });
  after(() => worker.dispose());
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-stop-reached-'));
    component = join(dir, 'stop_at.py');
    writeFileSync(component, STOP_AT);
    clock = new TestClock(Date.UTC(2026, 0, 6, 12));
    paper = new PaperBroker({ clock, seed: 7, stateFile: join(dir, 'paper-account.json') });
    const settings = { limits: LOOSE, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
    session = await openTradingSession({ stateDir: join(dir, 'state'), clock, brokers: { paper }, settings });
    await session.engine.connect('paper');
  });
  afterEach(async () => {
    await session.close();
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (parameters: Record<string, unknown>, source?: 'execute-paper'): Promise<TestOrderOutcome> =>
    runTestOrder(
      { file: component, parameters, ...(source ? { source } : {}) },
      { runner: worker, broker: paper, engine: session.engine, clock },
    );
  const noted = (outcome: TestOrderOutcome): string[] => outcome.notes.filter((n) => REACHED.test(n));

  it('a buy stop 20 pips below the ask fills at once (the fill is kept), with a note naming the stop and the ask', async () => {
    const outcome = await run({ side: 'buy', offset_pips: -20 });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.response?.status.status, 'filled', outcome.summary);
    const ask = outcome.marketData?.['ask'] as number;
    const stop = Number((ask - 0.002).toFixed(5));
    const note = `the buy stop price ${stop.toFixed(5)} was already reached (market ${ask.toFixed(5)}, the ask): it triggered at once, as a market order, as at a real venue. A buy stop meant to wait for the market goes above the ask`;
    assert.deepEqual(noted(outcome), [note]);
    // Both faces show it: the CLI's text and the result panel's notes.
    assert.ok(formatOutcome(outcome).includes(`Note       ${note}`), formatOutcome(outcome));
    assert.ok(resultViewOf(outcome, { kind: 'test-order', ranAt: 1, quotes: [] }).notes.includes(note));
  });

  it('a sell stop above the bid, and a stop-limit, on Execute on Paper too', async () => {
    const sell = await run({ side: 'sell', offset_pips: 20 }, 'execute-paper');
    assert.equal(sell.response?.status.status, 'filled', sell.summary);
    assert.equal(noted(sell).length, 1, sell.notes.join('\n'));
    assert.match(
      noted(sell)[0] as string,
      /^the sell stop price [\d.]+ was already reached \(market [\d.]+, the bid\)/,
    );
    const stopLimit = await run({ side: 'buy', offset_pips: 0, stop_limit: true });
    assert.equal(stopLimit.response?.status.status, 'filled', stopLimit.summary);
    assert.match(noted(stopLimit)[0] ?? '', /it triggered at once, as a limit order at [\d.]+/);
  });

  it('a buy stop above the ask, a sell stop below the bid: they wait, and no such note', async () => {
    for (const parameters of [
      { side: 'buy', offset_pips: 20 },
      { side: 'sell', offset_pips: -20 },
    ]) {
      const outcome = await run(parameters);
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.response?.status.status, 'submitted', outcome.summary);
      assert.deepEqual(noted(outcome), [], outcome.notes.join('\n'));
    }
  });

  it('the note is for stops alone, said against the touch the stop triggers on', () => {
    const quote = { bid: 1.079, ask: 1.0792 };
    const gtc = { type: 'GTC' as const };
    const buyStop = (price: number) => ({
      side: 'buy' as const,
      order_type: { type: 'stop' as const, price },
      time_in_force: gtc,
    });
    assert.match(
      stopAlreadyReachedNote(buyStop(1.07), quote) ?? '',
      /^the buy stop price 1\.0700 was already reached \(market 1\.0792, the ask\)/,
    );
    assert.ok(stopAlreadyReachedNote(buyStop(1.0792), quote), 'at the ask is reached');
    assert.equal(stopAlreadyReachedNote(buyStop(1.0793), quote), undefined);
    // Between the bid and the ask: a buy stop is reached (the ask is above it), a sell stop too (the bid is below it).
    assert.ok(stopAlreadyReachedNote(buyStop(1.0791), quote));
    const sellStop = (price: number) => ({
      side: 'sell' as const,
      order_type: { type: 'stop' as const, price },
      time_in_force: gtc,
    });
    assert.match(stopAlreadyReachedNote(sellStop(1.0791), quote) ?? '', /\(market 1\.0790, the bid\)/);
    assert.ok(stopAlreadyReachedNote(sellStop(1.079), quote), 'at the bid is reached');
    assert.equal(stopAlreadyReachedNote(sellStop(1.0789), quote), undefined);
    const limit = { side: 'buy' as const, order_type: { type: 'limit' as const, price: 1.07 }, time_in_force: gtc };
    assert.equal(stopAlreadyReachedNote(limit, quote), undefined);
  });
});
