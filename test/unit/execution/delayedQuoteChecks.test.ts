/**
 * The pre-trade checks against an IB quote of delayed ticks (TWS API "Delayed Streaming Data": tick types 66/67
 * delayed bid/ask, sent after `reqMarketDataType(3)` to an account without a live subscription, some 15 minutes
 * behind; `Quote.delayed`). The order value, buying power and price collar were judged against it as if it were the
 * live price, without a word. They still judge (a collar against a quote minutes old still catches a fat finger),
 * and each says it judged a delayed quote: in its result (`delayedQuote`), its sentence, the denial line, and the
 * audit log's SubmitOrder record.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../../src/common/clock';
import { AuditLog, tailAudit } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand } from '../../../src/execution/events';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { describeDenial, riskValueText } from '../../../src/usecases/describeOrder';
import { closeTwsRig, connectToFakeTws, type TwsRig } from '../../kit/fakeTws';

const QUOTE_CHECKS = ['buying_power', 'max_order_notional', 'price_collar'];
const DELAYED_SENTENCE =
  " The quote was not the venue's live price: its delayed market data (some 15 minutes behind, no live subscription), or a stale quote (market closed or halted, or none for over a minute).";

const limitBuy = (price: number): Omit<PlacedOrderRequest, 'client_order_id'> => ({
  symbol: 'AAPL',
  side: 'buy',
  order_type: { type: 'limit', price },
  quantity: 10,
  time_in_force: { type: 'GTC' },
  metadata: {},
});

describe('pre-trade checks against a delayed quote (IB without a live subscription)', function () {
  this.timeout(10_000);
  let rig: TwsRig | undefined;
  let dir: string;
  let audit: AuditLog;
  let engine: ExecutionEngine;

  const start = async (delayed: boolean): Promise<void> => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-delayed-'));
    rig = await connectToFakeTws({
      clientId: 33,
      quotes: { AAPL: [99, 101] },
      // TWS API "Message Codes" 10186: refused for want of a subscription; delayed data answers after
      // reqMarketDataType(3) (the fake's default for delayedMarketData).
      fake: delayed
        ? {
            marketDataError: {
              code: 10186,
              message: 'Requested market data is not subscribed. Delayed market data is not enabled',
            },
          }
        : {},
    });
    audit = (await AuditLog.open(join(dir, 'audit'), { clock: systemClock })).log;
    engine = new ExecutionEngine({
      clock: systemClock,
      brokers: { ib: rig.broker },
      audit,
      limits: {
        maxOrderQuantity: 1e6,
        maxPositionQuantity: 1e9,
        maxOrderNotional: 1e7,
        priceCollarBps: 500,
        maxOpenOrders: 100,
      },
    });
    await engine.connect('ib');
  };
  afterEach(async () => {
    await engine.close();
    await audit.close();
    await closeTwsRig(rig);
    rig = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('an order that passes: the checks that read the quote say it was delayed, in results, sentences and the audit log', async () => {
    await start(true);
    assert.equal((await rig!.broker.getQuote('AAPL')).delayed, true, 'the fake answers delayed ticks');
    const cmd = submitOrderCommand(limitBuy(100), { venue: 'ib', source: 'test-order', clock: systemClock });
    const result = await engine.submit(cmd);
    assert.equal(result.denial, undefined, JSON.stringify(result.denial));
    const flagged = result.risk.filter((r) => r.delayedQuote === true).map((r) => r.check);
    assert.deepEqual([...flagged].sort(), QUOTE_CHECKS);
    for (const r of result.risk) {
      if (QUOTE_CHECKS.includes(r.check)) {
        assert.ok(r.message.endsWith(DELAYED_SENTENCE), r.message);
        assert.match(riskValueText(r, 'actual'), / \(delayed quote\)$/);
      } else {
        assert.equal(r.delayedQuote, undefined, r.check);
        assert.doesNotMatch(r.message, /delayed/, r.check);
      }
    }
    await audit.flush();
    const submit = (await tailAudit(join(dir, 'audit'), Number.MAX_SAFE_INTEGER)).find((r) => r.type === 'SubmitOrder');
    const risk = submit?.data['risk'] as unknown[][];
    assert.deepEqual(
      risk.filter((row) => row[4] === 'delayed quote').map((row) => row[0]),
      ['max_order_notional', 'buying_power', 'price_collar'],
    );
    assert.ok(risk.every((row) => row.length === (QUOTE_CHECKS.includes(String(row[0])) ? 5 : 4)));
  });

  it('a limit price outside the collar of the delayed mid: denied, saying the market may have moved since', async () => {
    await start(true);
    const cmd = submitOrderCommand(limitBuy(110), { venue: 'ib', source: 'test-order', clock: systemClock });
    const result = await engine.submit(cmd);
    assert.equal(result.denial?.code, 'PRICE_OUTSIDE_COLLAR');
    assert.match(
      result.denial?.message ?? '',
      /^The limit price 110 is 1000 bps from the mid 100, outside the collar of 500 bps \(a fat finger, or the market moved since the delayed quote: check the live price\)\. The quote was not the venue's live price: its delayed market data/,
    );
    assert.match(
      describeDenial(cmd.order, result.denial, result.risk),
      /→ DENIED: PRICE_OUTSIDE_COLLAR \(1,000 bps from the delayed mid > 500 bps\)$/,
    );
    assert.equal(rig!.fake.requestCount('PLACE_ORDER'), 0);
  });

  it('a live quote: no check says delayed', async () => {
    await start(false);
    const cmd = submitOrderCommand(limitBuy(110), { venue: 'ib', source: 'test-order', clock: systemClock });
    const result = await engine.submit(cmd);
    assert.equal(result.denial?.code, 'PRICE_OUTSIDE_COLLAR');
    assert.ok(result.risk.every((r) => r.delayedQuote === undefined && !/delayed/.test(r.message)));
    assert.match(describeDenial(cmd.order, result.denial, result.risk), /\(1,000 bps from the mid > 500 bps\)$/);
  });
});
