/**
 * A `halt` killed after the emergency stop made its cancel records durable, on the real CLI over the paper venue:
 * - `stop-cancels-logged`: the CancelOrder commands of all the working orders (written together, one batch) are on
 *   disk and no cancel was sent; the next open finds every order working, and halting again cancels each once;
 * - `cancel-order-logged:2`, in the stop's cancels after that batch: the first order was cancelled, the others are
 *   working with their CancelOrder in the log; halting again cancels those, none twice;
 * - `stop-external-logged`: the CancelExternalOrder of an order at the venue we did not place (put there by a paper
 *   venue opened on the same account, outside the engine) is durable and its cancel not sent (it was written after
 *   the cancel, without waiting: a kill in between left a cancel at the venue the log had no word of); it is still at
 *   the venue, and halting again cancels it once.
 * Each time crashKit's check holds (fills, nothing twice at the venue, the log verifies) and no cancel is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { systemClock } from '../../../src/common/clock';
import { statePaths } from '../../../src/common/statePaths';
import { about, check, cli, ofType, orders, RESTING } from './crashKit';

describe('crash suite: a halt killed once its cancel records were durable', function () {
  this.timeout(300_000);
  let root: string;
  let component: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-stop-cancels-crash-'));
    component = join(root, 'rest.py');
    writeFileSync(component, RESTING);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** `n` resting paper orders; their client order ids, in the order placed. */
  async function rest(stateDir: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const placed = await cli(['execute', component, '--state-dir', stateDir, '--json']);
      assert.equal(placed.code, 0, placed.stderr + placed.stdout);
      ids.push((JSON.parse(placed.stdout) as { order: { client_order_id: string } }).order.client_order_id);
    }
    assert.deepEqual((await orders(stateDir)).working.map((o) => o.clientOrderId).sort(), [...ids].sort());
    return ids;
  }

  /** Halted again after the kill: everything cancelled, each order once, nothing refused, the log checks. */
  async function haltedAgain(stateDir: string, ids: readonly string[], expect: number): Promise<void> {
    const again = await cli(['halt', '--state-dir', stateDir]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, new RegExp(`^Cancelled {2}${expect} orders?$`, 'm'), again.stdout);
    for (const id of ids) {
      const after = about(stateDir, id);
      assert.equal(after.filter((t) => t === 'OrderCancelled').length, 1, `${id}: ${after.join(', ')}`);
      assert.deepEqual(
        after.filter((t) => t === 'OrderCancelRejected'),
        [],
        'no cancel refused: none was sent twice',
      );
    }
    const open = await orders(stateDir);
    assert.deepEqual([open.working, open.paper], [[], []], 'nothing left working');
    await check(stateDir);
  }

  it('killed once the CancelOrder batch was durable: every order still working with its CancelOrder; halted again, each cancelled once', async () => {
    const stateDir = join(root, 'batch');
    const ids = await rest(stateDir, 3);
    const killed = await cli(['halt', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'stop-cancels-logged' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    assert.deepEqual(
      ofType(stateDir, 'CancelOrder')
        .map((r) => r.data['clientOrderId'])
        .sort(),
      [...ids].sort(),
      'every CancelOrder is durable',
    );
    for (const id of ids) assert.equal(about(stateDir, id).at(-1), 'CancelOrder', `${id}: no cancel was sent`);
    const open = await orders(stateDir);
    assert.deepEqual(
      open.working.map((o) => [o.clientOrderId, o.state]).sort(),
      ids.map((id) => [id, 'ACCEPTED']).sort(),
      'reconciled on open: all still working',
    );
    assert.deepEqual(open.paper.map((o) => o.client_order_id).sort(), [...ids].sort(), 'all at the venue');
    await check(stateDir);
    await haltedAgain(stateDir, ids, 3);
  });

  it('killed among the cancels after the batch: those sent are cancelled, the others working with their CancelOrder; none cancelled twice', async () => {
    const stateDir = join(root, 'among');
    const ids = await rest(stateDir, 3);
    const killed = await cli(['halt', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'cancel-order-logged:2' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    for (const id of ids) assert.ok(about(stateDir, id).includes('CancelOrder'), `${id}: its CancelOrder is durable`);
    const open = await orders(stateDir);
    const working = open.working.map((o) => o.clientOrderId);
    assert.equal(working.length, 2, 'the one cancel sent before the kill went; two orders are still working');
    assert.deepEqual(open.paper.map((o) => o.client_order_id).sort(), [...working].sort());
    const cancelled = ids.filter((id) => !working.includes(id));
    assert.equal(cancelled.length, 1);
    assert.equal(about(stateDir, cancelled[0]!).filter((t) => t === 'OrderCancelled').length, 1);
    for (const id of working) assert.equal(about(stateDir, id).at(-1), 'CancelOrder', `${id}: no cancel was sent`);
    await check(stateDir);
    await haltedAgain(stateDir, ids, 2);
  });

  it("killed once an external order's CancelExternalOrder was durable: still at the venue; halted again, cancelled once", async () => {
    const stateDir = join(root, 'external');
    const [mine] = await rest(stateDir, 1);
    // An order we did not place: the paper account's own venue, opened outside the engine, a buy far below the market.
    const paper = new PaperBroker({ clock: systemClock, stateFile: statePaths(stateDir).paperAccount });
    await paper.connect();
    const external = await paper.submitOrder({
      client_order_id: 'outside-1',
      symbol: 'EURUSD',
      side: 'buy',
      order_type: { type: 'limit', price: 0.5 },
      quantity: 100,
      time_in_force: { type: 'GTC' },
      metadata: {},
    });
    assert.equal(external.status.status, 'submitted', JSON.stringify(external));
    await paper.disconnect();

    const killed = await cli(['halt', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'stop-external-logged' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    assert.deepEqual(
      ofType(stateDir, 'CancelExternalOrder').map((r) => [r.data['venue'], r.data['orderId'], r.data['clientOrderId']]),
      [['paper', external.order_id, 'outside-1']],
      'the CancelExternalOrder is durable',
    );
    const venueStatus = (): string | undefined =>
      readPaperAccount(statePaths(stateDir).paperAccount)?.state.orders.find(
        (o) => o.response.order_id === external.order_id,
      )?.response.status.status;
    assert.equal(venueStatus(), 'submitted', 'its cancel was not sent: still open');
    assert.equal(
      about(stateDir, mine!).filter((t) => t === 'OrderCancelled').length,
      1,
      'our own was cancelled before',
    );
    await check(stateDir);

    // Halted again. A paper account changes only through the engine: the order it holds that the log does not is
    // damage, which this halt reports (exit 6) while it cancels that order.
    const again = await cli(['halt', '--state-dir', stateDir]);
    assert.equal(again.code, 6, again.stderr + again.stdout);
    assert.match(again.stdout, /^DAMAGED .*holds 1 open order\(s\) the audit log does not \(outside-1\)$/m);
    assert.match(again.stdout, /^Cancelled {2}1 order\n {11}outside-1 \(an order SPtrader did not place\)$/m);
    assert.deepEqual(
      (JSON.parse((await cli(['status', '--json', '--state-dir', stateDir])).stdout) as { damage: unknown[] }).damage,
      [],
      'the damage went with the order',
    );
    const open = await orders(stateDir);
    assert.deepEqual([open.working, open.paper], [[], []], 'nothing left working, the account agrees with the log');
    await check(stateDir);
    assert.equal(venueStatus(), 'cancelled', 'cancelled at the venue, once');
    assert.equal(ofType(stateDir, 'CancelExternalOrder').length, 2, 'one per halt: the first never sent');
  });
});
