import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../../../src/execution/events';
import type { TestOrderOutcome } from '../../../src/usecases/testOrder';
import { chartSeriesOf } from '../../../src/views/chartData';
import { parseHostNotification, parsePanelState, parseWebviewCommand } from '../../../src/views/protocol';
import { QuoteHistory, quotePointOf } from '../../../src/views/quoteHistory';
import { priceLinesOf, resultViewOf, statusOf } from '../../../src/views/resultView';

const order = {
  symbol: 'EUR_USD',
  side: 'buy' as const,
  quantity: 1000,
  order_type: { type: 'limit' as const, price: 1.0845 },
  time_in_force: { type: 'GTC' as const },
  metadata: {},
  client_order_id: 'sp-1',
};

function outcome(overrides: Partial<TestOrderOutcome> = {}): TestOrderOutcome {
  return {
    ok: true,
    exitCode: 0,
    summary: 'FILLED on Paper.',
    component: {
      file: '/w/c.py',
      className: 'C',
      entryPoint: 'execute',
      stdout: 'hi\n',
      stderr: '',
      output: { type: 'limit', size: 1000 },
    },
    marketData: { symbol: 'EUR_USD', bid: 1.0844, ask: 1.0846, timestamp_ms: 1_000 },
    order,
    response: null,
    slippage: null,
    timings: { componentMs: 1, pythonMs: 2, engineMs: 0.5, venueMs: 0.2, totalMs: 3.7 },
    errors: [],
    notes: [],
    venue: { id: 'paper', environment: 'paper' },
    scratch: false,
    risk: [],
    denial: null,
    events: [],
    ...overrides,
  };
}

const filled: EngineEvent = {
  type: 'OrderFilled',
  at: 2_000,
  clientOrderId: 'sp-1',
  venue: 'paper',
  symbol: 'EUR_USD',
  state: 'FILLED',
  fill: {
    fill_id: 'f1',
    order_id: 'o1',
    client_order_id: 'sp-1',
    symbol: 'EUR_USD',
    side: 'buy',
    price: 1.0846,
    quantity: 1000,
    commission: 0,
    liquidity: 'taker',
    timestamp: 2_000,
  },
  filledQuantity: 1000,
  remainingQuantity: 0,
  averagePrice: 1.0846,
  position: 1000,
};

describe('result panel view model', () => {
  it('says DENIED, the final state, INVALID, ERROR, VALIDATED or NO ORDER', () => {
    assert.equal(statusOf(outcome({ denial: { code: 'TRADING_HALTED', message: 'halted' } })), 'DENIED');
    const response = { status: { status: 'filled' as const } } as unknown as TestOrderOutcome['response'];
    assert.equal(statusOf(outcome({ response, events: [filled] })), 'FILLED');
    assert.equal(statusOf(outcome({ response, events: [] })), 'FILLED');
    assert.equal(statusOf(outcome({ order: null, errors: [{ code: 'INVALID_ORDER', message: 'x' }] })), 'INVALID');
    assert.equal(statusOf(outcome({ order: null, errors: [{ code: 'COMPONENT_ERROR', message: 'x' }] })), 'ERROR');
    assert.equal(statusOf(outcome()), 'VALIDATED');
    assert.equal(statusOf(outcome({ order: null })), 'NO ORDER');
  });

  it('keeps every risk check, the timeline and the timings, and passes the protocol schema', () => {
    const view = resultViewOf(
      outcome({
        risk: [
          {
            check: 'max_order_quantity',
            passed: true,
            code: 'QUANTITY_EXCEEDS_MAXIMUM',
            message: 'ok',
            limit: 1e6,
            actual: 1000,
          },
        ],
        events: [filled],
        errors: [{ code: 'COMPONENT_ERROR', message: 'boom', file: '/w/c.py', line: 12 }],
      }),
      { kind: 'execute-paper', ranAt: 5, quotes: [{ time: 1_000, bid: 1, ask: 2 }] },
    );
    assert.equal(view.risk[0]?.check, 'max_order_quantity');
    assert.equal(view.risk[0]?.limitText, '1,000,000 units', 'risk numbers have units and thousands separators');
    assert.equal(view.risk[0]?.actualText, '1,000 units');
    assert.equal(view.timeline[0]?.type, 'OrderFilled');
    assert.match(view.timeline[0]?.detail ?? '', /1000 @ 1.0846/);
    assert.equal(view.timings.totalMs, 3.7);
    assert.deepEqual(view.errors[0], {
      code: 'COMPONENT_ERROR',
      message: 'boom',
      file: '/w/c.py',
      line: 12,
      path: null,
    });
    assert.ok(view.orderReturned?.includes('"size": 1000'));
    assert.ok(parseHostNotification({ type: 'result', result: view }));
    assert.deepEqual(parsePanelState({ result: view })?.result, view);
  });

  it('the headline says what was traded and what happened, not just the status', () => {
    const response = {
      order_id: 'o1',
      client_order_id: 'sp-1',
      symbol: 'EUR_USD',
      side: 'buy',
      order_type: order.order_type,
      time_in_force: order.time_in_force,
      quantity: 1000,
      status: { status: 'filled' },
      filled_price: 1.0846,
      filled_quantity: 1000,
      commission: 0,
      timestamp: 2_000,
      created_at: 1_000,
      fills: [filled.type === 'OrderFilled' ? filled.fill : undefined].filter((f) => f !== undefined),
    } as TestOrderOutcome['response'];
    const slippage = {
      reference: 'ask' as const,
      referencePrice: 1.0846,
      fillPrice: 1.0846,
      price: 0,
      units: 0,
      unit: 'pip' as const,
      bps: 0,
    };
    const view = resultViewOf(outcome({ response, slippage, events: [filled] }), {
      kind: 'test-order',
      ranAt: 5,
      quotes: [],
    });
    assert.equal(view.headline, 'BUY 1,000 EUR_USD LMT 1.0845 GTC → FILLED 1,000 @ 1.0846 (0 pips)');
    assert.equal(view.summary, 'FILLED on Paper.');
    assert.doesNotMatch(view.headline ?? '', /sp-1/, 'the order is named by what it is, not its client id');

    const denied = resultViewOf(
      outcome({
        ok: false,
        exitCode: 3,
        venue: { id: 'oanda-live', environment: 'live' },
        denial: { code: 'POSITION_EXCEEDS_MAXIMUM', message: 'too big' },
        risk: [
          {
            check: 'max_position',
            passed: false,
            code: 'POSITION_EXCEEDS_MAXIMUM',
            message: 'too big',
            limit: 25_000,
            actual: 30_000,
          },
        ],
      }),
      { kind: 'test-order', ranAt: 5, quotes: [] },
    );
    assert.equal(
      denied.headline,
      'LIVE · BUY 1,000 EUR_USD LMT 1.0845 GTC → DENIED: POSITION_EXCEEDS_MAXIMUM (30,000 > 25,000 units)',
    );
    assert.deepEqual([denied.risk[0]?.limitText, denied.risk[0]?.actualText], ['±25,000 units', '30,000 units']);

    const error = resultViewOf(
      outcome({
        ok: false,
        exitCode: 1,
        order: null,
        errors: [{ code: 'COMPONENT_ERROR', message: 'boom', file: '/w/c.py', line: 12 }],
      }),
      {
        kind: 'test-order',
        ranAt: 5,
        quotes: [],
      },
    );
    assert.equal(error.headline, 'No order: COMPONENT_ERROR at c.py:12: boom');
  });

  it('a panel state saved before headlines and risk texts existed still restores', () => {
    const view = resultViewOf(
      outcome({
        risk: [
          {
            check: 'max_order_quantity',
            passed: true,
            code: 'QUANTITY_EXCEEDS_MAXIMUM',
            message: 'ok',
            limit: 1e6,
            actual: 1000,
          },
        ],
      }),
      {
        kind: 'test-order',
        ranAt: 5,
        quotes: [],
      },
    );
    const { headline: _headline, ...old } = view;
    const oldRisk = old.risk.map(({ limitText: _l, actualText: _a, ...r }) => r);
    const restored = parsePanelState({ result: { ...old, risk: oldRisk } })?.result;
    assert.ok(restored, 'the old state parses');
    assert.equal(restored.headline, undefined);
    assert.equal(restored.risk[0]?.limitText, undefined);
  });

  it('draws the limit and the touch the component decided on', () => {
    assert.deepEqual(priceLinesOf(order, { ask: 1.0846, bid: 1.0844 }), [
      { price: 1.0845, title: 'limit' },
      { price: 1.0846, title: 'decision ask' },
    ]);
  });
});

describe('result panel protocol', () => {
  it('accepts only the commands it defines', () => {
    assert.deepEqual(parseWebviewCommand({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewCommand({ type: 'openLocation', file: '/a.py', line: 3 }), {
      type: 'openLocation',
      file: '/a.py',
      line: 3,
    });
    assert.equal(parseWebviewCommand({ type: 'openLocation', file: '', line: 3 }), undefined);
    assert.deepEqual(parseWebviewCommand({ type: 'drawn', ranAt: 1_796_000_000_000 }), {
      type: 'drawn',
      ranAt: 1_796_000_000_000,
    });
    assert.equal(parseWebviewCommand({ type: 'drawn' }), undefined);
    assert.equal(parseWebviewCommand({ type: 'submitOrder' }), undefined);
    assert.equal(parseWebviewCommand('ready'), undefined);
    assert.equal(
      parseHostNotification({ type: 'quotes', symbol: 'X', quotes: [{ time: 1, bid: 'a', ask: 1 }] }),
      undefined,
    );
  });

  it('the modules the webview bundles import neither vscode nor Node', () => {
    for (const file of ['protocol.ts', 'chartData.ts', 'webview/result.ts']) {
      const text = readFileSync(join(__dirname, '../../../../src/views', file), 'utf8');
      assert.doesNotMatch(text, /from 'vscode'|from 'node:/, file);
    }
  });
});

describe('chart data', () => {
  it('one ascending point per second, the last quote of each second, and a point at each fill', () => {
    const series = chartSeriesOf(
      [
        { time: 1_250, bid: 1, ask: 2 },
        { time: 1_000, bid: 0.5, ask: 1.5 },
        { time: 3_100, bid: 3, ask: 4 },
      ],
      [{ price: 2.5, quantity: 10, timestamp: 2_400 }],
      'buy',
    );
    assert.deepEqual(series.bid, [
      { time: 1, value: 1 },
      { time: 2, value: 1 },
      { time: 3, value: 3 },
    ]);
    assert.deepEqual(series.markers, [{ time: 2, price: 2.5, text: 'bought 10 @ 2.5' }]);
    assert.equal(
      chartSeriesOf([], [{ price: 1.0842, quantity: 10_000, timestamp: 5000 }], 'sell').markers[0]?.text,
      'sold 10,000 @ 1.0842',
    );
  });
});

describe('quote history', () => {
  it('keeps quotes in time order, replaces same-time ones and stays bounded', () => {
    const history = new QuoteHistory(2);
    history.record('X', { time: 1, bid: 1, ask: 2 });
    history.record('X', { time: 1, bid: 1.1, ask: 2 });
    history.record('X', { time: 0, bid: 9, ask: 9 });
    history.record('X', { time: 2, bid: 1, ask: 2 });
    history.record('X', { time: 3, bid: 1, ask: 2 });
    assert.deepEqual(
      history.recent('X').map((q) => q.time),
      [2, 3],
    );
    assert.deepEqual(history.recent('Y'), []);
  });

  it('reads the quote a run decided on from its market data', () => {
    assert.deepEqual(quotePointOf({ symbol: 'X', bid: 1, ask: 2, timestamp_ms: 7 }, 9), {
      symbol: 'X',
      point: { time: 7, bid: 1, ask: 2 },
    });
    assert.deepEqual(quotePointOf({ symbol: 'X', bid: 1, ask: 2 }, 9)?.point.time, 9);
    assert.equal(quotePointOf({ symbol: 'X' }, 9), undefined);
    assert.equal(quotePointOf(null, 9), undefined);
  });
});
