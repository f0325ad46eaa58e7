/**
 * `sptrader algo` running an emulated trailing stop (the paper venue has none of its own) SIGKILLed at
 * `parent-trail-logged`: the watermark's ParentTrail is durable in the audit log, the parent's memory of it
 * never updated. `sptrader algo --resume` must rebuild the parent from the log with that watermark (never a
 * worse one: the trail only moves in the position's favour), trigger it once, and a further resume must find
 * nothing left working and send nothing. The log verifies, every fill is in the account once (crashKit's check).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, cli, records } from './crashKit';

// A half-pip trail on a quote that moves a few ticks each 250 ms: the resumed run triggers within seconds.
const TRAIL = `from core.orders.order_base import OrderBase
class Trail(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'algo': 'trailing_stop', 'symbol': 'EUR_USD', 'side': 'sell', 'quantity': 1000, 'trail_offset': 0.00005}
`;

describe('crash suite: an emulated trailing stop killed right after its watermark was logged, then algo --resume', function () {
  this.timeout(300_000);
  let root: string;
  let component: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-trail-crash-'));
    component = join(root, 'trail.py');
    writeFileSync(component, TRAIL);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the resumed parent keeps the logged watermark, sends its one trigger once, and nothing is left to resend', async () => {
    const stateDir = join(root, 'state');
    const killed = await cli(['algo', component, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-trail-logged',
    });
    assert.equal(killed.signal, 'SIGKILL', `killed after the first ParentTrail: ${killed.stderr}${killed.stdout}`);
    const before = records(stateDir);
    const parentId = before.find((r) => r.type === 'ParentStarted')?.data['parentId'];
    assert.equal(typeof parentId, 'string', 'the parent was accepted before the kill');
    const trails = before.filter((r) => r.type === 'ParentTrail');
    assert.equal(trails.length, 1, 'the watermark the kill came after is durable');
    const logged = trails[0]?.data['watermark'] as number;
    assert.deepEqual(
      before.filter((r) => r.type === 'ParentChild' || r.type === 'SubmitOrder'),
      [],
      'nothing was sent before the kill',
    );

    const resumed = await cli(['algo', '--resume', '--max-seconds', '60', '--state-dir', stateDir]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    // Rebuilt from the log with the watermark the kill came after (not from scratch at the next quote).
    assert.ok(
      resumed.stdout.includes(
        `Resuming ${parentId as string} TRAILING_STOP SELL 1,000 EUR_USD, trailing 0.00005 (emulated locally), filled 0, trail watermark ${logged}\n`,
      ),
      resumed.stdout,
    );
    assert.match(resumed.stdout, /^DONE: .* filled 1,000 \(triggered\)$/m);

    const log = records(stateDir);
    // The restored watermark is the logged one: every later trail is better (higher, for a sell), and the
    // trigger's stop was measured from a watermark no lower than it.
    const marks = log.filter((r) => r.type === 'ParentTrail').map((r) => r.data['watermark'] as number);
    for (let i = 1; i < marks.length; i++)
      assert.ok((marks[i] as number) > (marks[i - 1] as number), `watermarks only rise: ${marks.join(', ')}`);
    const children = log.filter((r) => r.type === 'ParentChild');
    assert.deepEqual(
      children.map((r) => [r.data['parentId'], r.data['role']]),
      [[parentId, 'trigger']],
      'one trigger, sent once',
    );
    const trigger = children[0]?.data['order'] as { client_order_id: string; metadata: Record<string, string> };
    assert.ok(
      Number(trigger.metadata['watermark']) >= logged,
      `trigger from ${trigger.metadata['watermark']} ≥ ${logged}`,
    );
    const submits = log
      .filter((r) => r.type === 'SubmitOrder')
      .map((r) => (r.data['command'] as { clientOrderId: string }).clientOrderId);
    assert.deepEqual(submits, [trigger.client_order_id], 'the trigger reached the engine once');
    assert.deepEqual(
      log.filter((r) => r.type === 'ParentEnded').map((r) => [r.data['parentId'], r.data['state'], r.data['filled']]),
      [[parentId, 'DONE', 1000]],
    );

    const again = await cli(['algo', '--resume', '--state-dir', stateDir]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /No parent order was left working/);
    const sentAgain = records(stateDir)
      .slice(log.length)
      .filter((r) => r.type === 'ParentChild' || r.type === 'SubmitOrder' || r.type === 'ParentTrail');
    assert.deepEqual(sentAgain, [], 'a further resume sent nothing');
    const positions = await cli(['positions', '--state-dir', stateDir, '--json']);
    assert.deepEqual(
      (JSON.parse(positions.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', -1000]],
      'the one trigger filled once',
    );
    await check(stateDir);
  });
});
