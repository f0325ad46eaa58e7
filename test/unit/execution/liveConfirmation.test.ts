/**
 * A live confirmation is for one order: the one a person saw and confirmed. Reused on another order (a
 * different order built with the same confirmation, the same command re-sent under a new client id, the
 * confirmed order changed after the fact, another venue), it is refused and nothing reaches the venue.
 * The venue is the real paper venue labelled live; nothing leaves the machine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, tailAudit } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine } from '../../../src/execution/engine';
import { submitOrderCommand, type SubmitOrder } from '../../../src/execution/events';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FixedQuotes, order } from '../paper/helpers';
import { LOOSE } from './engineHelpers';

describe('live confirmation: one confirmation, one order', function () {
  this.timeout(20_000);
  let dir: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let engine: ExecutionEngine;
  let audit: AuditLog;
  let sent: PlacedOrderRequest[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-liveconf-'));
    clock = new TestClock();
    paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
    sent = [];
    const counting = delegatingBroker(paper, { id: 'acct' });
    const live = (id: string): BrokerApi => ({
      ...counting,
      id,
      environment: 'live',
      submitOrder: (o) => {
        sent.push(o);
        return paper.submitOrder(o);
      },
    });
    audit = (await AuditLog.open(join(dir, 'audit'), { clock })).log;
    engine = new ExecutionEngine({
      clock,
      brokers: { acct: live('acct'), other: live('other') },
      audit,
      limits: LOOSE,
    });
    await engine.connect('acct');
    await engine.connect('other');
  });
  afterEach(async () => {
    await engine.close();
    await audit.close();
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const confirmed = (o: PlacedOrderRequest, confirmation: { confirmedAt: number; summary: string }, venue = 'acct') =>
    submitOrderCommand(o, { venue, source: 'execute-live', clock, liveConfirmation: confirmation });

  it('the confirmed order is sent once', async () => {
    const result = await engine.submit(confirmed(order('buy', 1), { confirmedAt: clock.now(), summary: 'BUY 1' }));
    assert.equal(result.denial, undefined, JSON.stringify(result.denial));
    assert.equal(sent.length, 1);
  });

  it('one confirmation object used to build a second, different order is refused', async () => {
    const confirmation = { confirmedAt: clock.now(), summary: 'BUY 1 AAPL' };
    const first = await engine.submit(confirmed(order('buy', 1), confirmation));
    assert.equal(first.denial, undefined);
    const second = await engine.submit(confirmed(order('buy', 500), confirmation));
    assert.equal(second.denial?.code, 'LIVE_NOT_CONFIRMED');
    assert.match(second.denial.message, /confirm/i);
    assert.equal(sent.length, 1, 'only the confirmed order reached the venue');
  });

  it('the same command re-submitted under a new client order id is refused', async () => {
    const cmd = confirmed(order('buy', 1), { confirmedAt: clock.now(), summary: 'BUY 1 AAPL' });
    assert.equal((await engine.submit(cmd)).denial, undefined);
    const again: SubmitOrder = {
      ...cmd,
      commandId: 'cmd-again',
      clientOrderId: 'again-1',
      order: { ...cmd.order, client_order_id: 'again-1' },
    };
    const result = await engine.submit(again);
    assert.equal(result.denial?.code, 'LIVE_NOT_CONFIRMED');
    assert.equal(sent.length, 1);
    await audit.flush();
    const denied = (await tailAudit(join(dir, 'audit'), 1000)).find(
      (r) =>
        r.type === 'OrderDenied' && r.data['clientOrderId'] === 'again-1' && r.data['code'] === 'LIVE_NOT_CONFIRMED',
    );
    assert.ok(denied, 'the refusal is in the audit log');
  });

  it('a confirmed command whose order was changed afterwards is refused', async () => {
    const cmd = confirmed(order('buy', 1), { confirmedAt: clock.now(), summary: 'BUY 1 AAPL' });
    const changed: SubmitOrder = { ...cmd, order: { ...cmd.order, quantity: 1000 } };
    const result = await engine.submit(changed);
    assert.equal(result.denial?.code, 'LIVE_NOT_CONFIRMED');
    assert.equal(sent.length, 0);
  });

  it('a confirmation for one live account does not send to another', async () => {
    const cmd = confirmed(order('buy', 1), { confirmedAt: clock.now(), summary: 'BUY 1 AAPL on acct' });
    const elsewhere: SubmitOrder = { ...cmd, venue: 'other' };
    const result = await engine.submit(elsewhere);
    assert.equal(result.denial?.code, 'LIVE_NOT_CONFIRMED');
    assert.equal(sent.length, 0);
  });

  it('a command taken from another command’s confirmation is refused', async () => {
    const first = confirmed(order('buy', 1), { confirmedAt: clock.now(), summary: 'BUY 1 AAPL' });
    const second = confirmed(order('sell', 1), first.liveConfirmation!);
    const result = await engine.submit(second);
    assert.equal(result.denial?.code, 'LIVE_NOT_CONFIRMED');
    assert.equal(sent.length, 0);
  });
});
