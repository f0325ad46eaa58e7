/**
 * SIGKILL right after the working-orders file was renamed into place (`working-orders-renamed`): the file is a
 * cache of the audit log, so every order it lists must be one whose SubmitOrder the log holds; an order the log has
 * never heard of is what the next open takes for a log cut short, and it calls the folder damaged (trading refused
 * until `recover`). The file was rewritten as soon as an order was accepted, before its SubmitOrder was durable
 * (workingOrdersAfterLog.test.ts holds the log's disk to show it every time). Killed there, the next open must find
 * nothing damaged, settle each order (looked up at the venue by its client id, never resent) and lose no fill.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { check, cli, NOTHING, records, RESTING } from './crashKit';

const TWAP = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/twap_buy.py');

/** The orders the working-orders file lists that the audit log has no SubmitOrder for. */
function aheadOfLog(stateDir: string): string[] {
  const file = JSON.parse(readFileSync(join(stateDir, 'working-orders.json'), 'utf8')) as {
    orders: Array<{ clientOrderId: string }>;
  };
  const logged = new Set(
    records(stateDir)
      .filter((r) => r.type === 'SubmitOrder')
      .map((r) => (r.data['command'] as { clientOrderId: string }).clientOrderId),
  );
  return file.orders.map((o) => o.clientOrderId).filter((id) => !logged.has(id));
}

describe('crash suite: killed right after the working-orders file was renamed into place', function () {
  this.timeout(300_000);
  let root: string;
  const components: Record<string, string> = {};

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-working-crash-'));
    for (const [name, text] of Object.entries({ resting: RESTING, nothing: NOTHING })) {
      components[name] = join(root, `${name}.py`);
      writeFileSync(components[name], text);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a resting order: the file lists only what the log sent; the next open finds it at the venue, once, and nothing damaged', async () => {
    const stateDir = join(root, 'resting');
    const killed = await cli(['execute', components['resting'] as string, '--state-dir', stateDir, '--json'], {
      SPTRADER_CRASH_AT: 'working-orders-renamed',
    });
    assert.equal(killed.signal, 'SIGKILL', `killed after the rename: ${killed.stderr}${killed.stdout}`);
    const listed = JSON.parse(readFileSync(join(stateDir, 'working-orders.json'), 'utf8')) as {
      orders: Array<{ clientOrderId: string }>;
    };
    assert.equal(listed.orders.length, 1, 'the kill came after the file listed the order');
    assert.deepEqual(aheadOfLog(stateDir), [], 'the file lists no order the log has not sent');

    const next = await cli(['test-order', components['nothing'] as string, '--state-dir', stateDir, '--json']);
    assert.equal(next.code, 0, next.stderr + next.stdout.slice(0, 600));
    assert.doesNotMatch(next.stderr, /damaged|no record of|cut short|recover/i, 'a sound folder is not called damaged');
    const id = listed.orders[0]?.clientOrderId;
    const orders = await cli(['orders', '--state-dir', stateDir, '--json']);
    assert.equal(orders.code, 0, orders.stderr);
    assert.ok(orders.stdout.includes(id as string), `the resting order is still known as working: ${orders.stdout}`);
    assert.equal(records(stateDir).filter((r) => r.type === 'SubmitOrder').length, 1, 'it was sent once');
    await check(stateDir);
  });

  it('a TWAP killed at each of its first rewrites: never an order ahead of the log; resumed, it completes once', async () => {
    for (const nth of [1, 2, 3, 4]) {
      const stateDir = join(root, `twap-${nth}`);
      const args = ['--param', 'quantity=3000', '--param', 'duration_s=1', '--param', 'slices=3'];
      const killed = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
        SPTRADER_CRASH_AT: `working-orders-renamed:${nth}`,
      });
      assert.equal(killed.signal, 'SIGKILL', `${nth}: killed after a rename: ${killed.stderr}${killed.stdout}`);
      assert.deepEqual(aheadOfLog(stateDir), [], `${nth}: the file lists no order the log has not sent`);
      const resumed = await cli(['algo', '--resume', '--state-dir', stateDir]);
      assert.equal(resumed.code, 0, `${nth}: ${resumed.stderr}${resumed.stdout}`);
      assert.doesNotMatch(resumed.stderr, /damaged|no record of|cut short/i, `${nth}: nothing damaged`);
      assert.match(resumed.stdout, /^DONE: .* filled 3,000 \(complete\)$/m, `${nth}: ${resumed.stdout}`);
      await check(stateDir);
    }
  });
});
