/**
 * A parent order's first and last durable steps, each cut by SIGKILL:
 * - `parent-started-logged`: its ParentStarted is in the audit log, no child yet. The next open says it was left
 *   working; `algo --resume` carries it out whole, each slice once, and nothing more.
 * - `halt-stopped`: a halt's HALTED and its stop are durable, the end of the parent a stopped run left working is
 *   not. A halt ends every parent: after `resume`, `algo --resume` carried the TWAP on (its logged slice too) and
 *   bought the whole quantity after the halt. It must end it, sending nothing.
 * - `parent-children-cancelled`: `--max-seconds` passed, its working children were cancelled at the venue, and the
 *   process died before ParentEnded (and before the cancels' own records were durable). The resumed bracket must
 *   learn the cancels from the venue and end (for the cancel's own reason), never place its exits again: the
 *   position keeps the entry alone.
 * No order is at the venue twice, no fill lost, the log verifies (crashKit's check).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, cli, leaveParentHalted, ofType, sentIds, TWAP } from './crashKit';

const BRACKET = `from core.orders.order_base import OrderBase
class Br(OrderBase):
    def generate_order(self, market_data, signal=None):
        a = market_data['ask']
        return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000,
                'stop_loss': round(a * 0.98, 5), 'take_profit': round(a * 1.02, 5)}
`;

async function positions(stateDir: string): Promise<Array<[string, number]>> {
  const run = await cli(['positions', '--state-dir', stateDir, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return (JSON.parse(run.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]);
}

describe('crash suite: a parent order killed at its start and at its end, and a halt killed before it ended one', function () {
  this.timeout(300_000);
  let root: string;
  let bracket: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-parent-life-'));
    bracket = join(root, 'bracket.py');
    writeFileSync(bracket, BRACKET);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('killed right after ParentStarted: said to be left working; resumed, the TWAP buys its 3,000 once, slice by slice', async () => {
    const stateDir = join(root, 'started');
    const args = ['--param', 'quantity=3000', '--param', 'duration_s=1', '--param', 'slices=3'];
    const killed = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-started-logged',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const parentId = ofType(stateDir, 'ParentStarted')[0]?.data['parentId'] as string;
    assert.equal(typeof parentId, 'string', 'the parent was accepted: its ParentStarted is durable');
    assert.deepEqual(sentIds(stateDir), [], 'nothing was sent before the kill');

    const status = await cli(['status', '--state-dir', stateDir]);
    assert.equal(status.code, 0, status.stderr + status.stdout);
    assert.ok(
      status.stderr.includes(
        `1 parent order was left working by a run that stopped: ${parentId} TWAP BUY 3,000 EUR_USD`,
      ),
      status.stderr,
    );

    const resumed = await cli(['algo', '--resume', '--max-seconds', '30', '--state-dir', stateDir]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^DONE: .* filled 3,000 \(complete\)$/m);
    const children = ofType(stateDir, 'ParentChild').map((r) => r.data['childId']);
    assert.deepEqual(children, [`${parentId}-1`, `${parentId}-2`, `${parentId}-3`], 'three slices, in order');
    assert.deepEqual(sentIds(stateDir), children, 'each sent once');
    assert.deepEqual(await positions(stateDir), [['EUR_USD', 3000]]);

    const again = await cli(['algo', '--resume', '--state-dir', stateDir]);
    assert.match(again.stdout, /No parent order was left working/);
    assert.equal(sentIds(stateDir).length, 3, 'a further resume sends nothing');
    assert.equal(ofType(stateDir, 'ParentStarted').length, 1);
    await check(stateDir);
  });

  it('a halt killed before it ended the parent a stopped run left working: after resume, algo --resume ends it and sends nothing', async () => {
    const stateDir = join(root, 'halted');
    // Slice 1 filled; slice 2 is logged, never sent. The halt is durable (HALTED in the log and its file), the parent's
    // end is not.
    const parentId = await leaveParentHalted(stateDir);
    assert.deepEqual(ofType(stateDir, 'ParentEnded'), [], 'the kill came before the halt ended the parent');

    const status = await cli(['status', '--state-dir', stateDir]);
    assert.ok(
      status.stderr.includes(
        `1 parent order was ended by a halt whose run stopped before it recorded that end: ${parentId} TWAP BUY 3,000 EUR_USD at paper (halted: halted from the command line); nothing more is sent for it`,
      ),
      status.stderr,
    );
    assert.doesNotMatch(status.stderr, /carries it on/, 'it is not offered to be carried on');
    assert.equal((await cli(['resume', '--state-dir', stateDir])).code, 0);

    // Trading is ACTIVE again: the log, not the state now, says the halt ended this parent.
    const resumed = await cli(['algo', '--resume', '--max-seconds', '30', '--state-dir', stateDir]);
    assert.equal(resumed.code, 4, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^CANCELLED: .*\(trading halted: halted from the command line\)$/m);
    assert.deepEqual(
      sentIds(stateDir),
      [`${parentId}-1`],
      'no slice after the halt, not even the one logged before it',
    );
    assert.deepEqual(
      ofType(stateDir, 'ParentEnded').map((r) => [r.data['parentId'], r.data['state'], r.data['filled']]),
      [[parentId, 'CANCELLED', 1000]],
    );
    assert.deepEqual(await positions(stateDir), [['EUR_USD', 1000]]);
    const after = await cli(['status', '--state-dir', stateDir]);
    assert.doesNotMatch(after.stderr, /parent order/);
    await check(stateDir);
  });

  it('killed after --max-seconds cancelled the exits, before ParentEnded: resumed, the bracket ends with them cancelled, none placed again', async () => {
    const stateDir = join(root, 'cancelled');
    const killed = await cli(['algo', bracket, '--max-seconds', '1', '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-children-cancelled',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const parentId = ofType(stateDir, 'ParentStarted')[0]?.data['parentId'] as string;
    const roles = ofType(stateDir, 'ParentChild').map((r) => r.data['role']);
    assert.deepEqual(roles, ['entry', 'stop_loss', 'take_profit'], 'the entry filled and both exits rested');
    assert.deepEqual(ofType(stateDir, 'ParentEnded'), [], 'the kill came before the parent ended in the log');

    const resumed = await cli(['algo', '--resume', '--max-seconds', '30', '--state-dir', stateDir]);
    assert.equal(resumed.code, 4, resumed.stderr + resumed.stdout);
    // The cancel was decided (ParentCancelRequested) before the kill: the resume finishes it, for its reason.
    assert.match(resumed.stdout, /^CANCELLED: .*\(--max-seconds 1 passed\)$/m);
    assert.deepEqual(
      ofType(stateDir, 'ParentChild').map((r) => r.data['role']),
      roles,
      'no exit was placed again',
    );
    assert.equal(new Set(sentIds(stateDir)).size, 3, 'three orders, each sent once');
    const exits = new Set([`${parentId}-2`, `${parentId}-3`]);
    assert.equal(
      ofType(stateDir, 'OrderCancelled').filter((r) => exits.has(r.data['clientOrderId'] as string)).length,
      2,
      'both cancels are in the log (learned from the venue where the kill lost their records)',
    );
    assert.deepEqual(
      ofType(stateDir, 'ParentEnded').map((r) => [r.data['parentId'], r.data['state'], r.data['filled']]),
      [[parentId, 'CANCELLED', 1000]],
    );
    const orders = JSON.parse((await cli(['orders', '--state-dir', stateDir, '--json'])).stdout) as {
      working: unknown[];
      paper: unknown[];
    };
    assert.deepEqual([orders.working, orders.paper], [[], []], 'no exit is left resting at the venue');
    assert.deepEqual(await positions(stateDir), [['EUR_USD', 1000]], 'the entry alone');
    await check(stateDir);
  });
});
