/**
 * `sptrader algo` SIGKILLed just before a child's send (`engine-before-send`: its SubmitOrder durable, nothing at the
 * venue), then `sptrader algo --resume`. The next open finds that child never arrived (OrderNeverArrived: nothing was
 * placed), so the parent must send it again under a new id: a TWAP's last slice so lost made the parent "complete"
 * with a third of its quantity missing (exit 0), an iceberg failed at the lost clip, and a bracket whose stop-loss was
 * lost carried its position with no stop at all. No child may be sent twice and no fill lost (crashKit's check).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { check, cli, records } from './crashKit';

const TWAP = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/twap_buy.py');
const ICEBERG = `from core.orders.order_base import OrderBase
class Ice(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'algo': 'iceberg', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 3000, 'display_quantity': 1000,
                'limit_price': round(market_data['ask'] * 1.001, 5)}
`;
const BRACKET = `from core.orders.order_base import OrderBase
class Br(OrderBase):
    def generate_order(self, market_data, signal=None):
        a = market_data['ask']
        return {'algo': 'bracket', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000,
                'stop_loss': round(a * 0.98, 5), 'take_profit': round(a * 1.02, 5)}
`;

describe('crash suite: a parent order killed before a child reached the venue, then algo --resume', function () {
  this.timeout(300_000);
  let root: string;
  const files: Record<string, string> = {};

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-parent-crash-'));
    for (const [name, text] of Object.entries({ iceberg: ICEBERG, bracket: BRACKET })) {
      files[name] = join(root, `${name}.py`);
      writeFileSync(files[name], text);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("a TWAP's last slice lost: the resumed parent sends it again under a new id and completes the whole quantity", async () => {
    const stateDir = join(root, 'twap');
    const args = ['--param', 'quantity=3000', '--param', 'duration_s=1', '--param', 'slices=3'];
    const killed = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'engine-before-send:3',
    });
    assert.equal(killed.signal, 'SIGKILL', `killed before slice 3's send: ${killed.stderr}${killed.stdout}`);
    const resumed = await cli(['algo', '--resume', '--state-dir', stateDir]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^DONE: .* filled 3,000 \(complete\)$/m);
    const positions = await cli(['positions', '--state-dir', stateDir, '--json']);
    assert.deepEqual(
      (JSON.parse(positions.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', 3000]],
    );
    const log = records(stateDir);
    const never = log.filter((r) => r.type === 'OrderNeverArrived').map((r) => r.data['clientOrderId']);
    assert.equal(never.length, 1, 'the lost slice is recorded as never arrived');
    const sent = log.filter((r) => r.type === 'ParentChild').map((r) => r.data['childId']);
    assert.equal(sent.length, 4, 'three slices and the one sent in place of the lost one');
    assert.equal(new Set(sent).size, 4, 'each under its own id');
    await check(stateDir);
  });

  it('an iceberg clip lost: the resumed iceberg shows the next clip and completes instead of failing', async () => {
    const stateDir = join(root, 'iceberg');
    const killed = await cli(['algo', files['iceberg'] as string, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'engine-before-send:2',
    });
    assert.equal(killed.signal, 'SIGKILL', `killed before clip 2's send: ${killed.stderr}${killed.stdout}`);
    const resumed = await cli(['algo', '--resume', '--state-dir', stateDir]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^DONE: .* filled 3,000 \(complete\)$/m);
    await check(stateDir);
  });

  for (const [leg, point] of [
    ['stop_loss', 'engine-before-send:2'],
    ['take_profit', 'engine-before-send:3'],
  ] as const) {
    it(`a bracket's ${leg} lost: the resumed bracket places it again, so both exits protect the position`, async () => {
      const stateDir = join(root, `bracket-${leg}`);
      const killed = await cli(['algo', files['bracket'] as string, '--state-dir', stateDir], {
        SPTRADER_CRASH_AT: point,
      });
      assert.equal(killed.signal, 'SIGKILL', `killed before the ${leg}'s send: ${killed.stderr}${killed.stdout}`);
      const resumed = await cli(['algo', '--resume', '--max-seconds', '2', '--state-dir', stateDir]);
      assert.equal(resumed.code, 4, resumed.stderr + resumed.stdout);
      assert.match(resumed.stdout, /\(--max-seconds 2 passed\)$/m);
      const log = records(stateDir);
      const ofLeg = new Set(
        log.filter((r) => r.type === 'ParentChild' && r.data['role'] === leg).map((r) => r.data['childId']),
      );
      assert.equal(ofLeg.size, 2, `the lost ${leg} and the one placed in its place`);
      const accepted = log.filter((r) => r.type === 'OrderAccepted' && ofLeg.has(r.data['clientOrderId']));
      assert.equal(accepted.length, 1, `a ${leg} rested at the venue while the bracket worked`);
      await check(stateDir);
    });
  }

  it('a parent left working by a killed algo: the next open says so and how to carry it on; a halt ends it', async () => {
    const stateDir = join(root, 'left-working');
    const args = ['--param', 'quantity=3000', '--param', 'duration_s=3', '--param', 'slices=3'];
    // Slice 1 filled; the kill comes after slice 2 was logged and before it was sent.
    const killed = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-child-logged:2',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const parentId = records(stateDir).find((r) => r.type === 'ParentStarted')?.data['parentId'] as string;

    const status = await cli(['status', '--state-dir', stateDir]);
    assert.equal(status.code, 0, status.stderr + status.stdout);
    assert.ok(
      status.stderr.includes(
        `1 parent order was left working by a run that stopped: ${parentId} TWAP BUY 3,000 EUR_USD`,
      ),
      status.stderr,
    );
    assert.match(status.stderr, /`sptrader algo --resume --state-dir \S+` carries it on, `sptrader halt` ends it/);
    const json = JSON.parse((await cli(['status', '--json', '--state-dir', stateDir])).stdout) as {
      parentsLeftWorking: Array<{ parentId: string; venue: string }>;
    };
    assert.deepEqual(
      json.parentsLeftWorking.map((p) => [p.parentId, p.venue]),
      [[parentId, 'paper']],
    );

    const halt = await cli(['halt', '--state-dir', stateDir]);
    assert.equal(halt.code, 0, halt.stderr + halt.stdout);
    const ended = records(stateDir).filter((r) => r.type === 'ParentEnded');
    assert.deepEqual(
      ended.map((r) => [r.data['parentId'], r.data['state'], r.data['filled']]),
      [[parentId, 'CANCELLED', 1000]],
      'the halt ended the parent in the log, with what it filled',
    );
    assert.equal((await cli(['resume', '--state-dir', stateDir])).code, 0);
    const after = await cli(['status', '--state-dir', stateDir]);
    assert.doesNotMatch(after.stderr, /left working/);
    const resumed = await cli(['algo', '--resume', '--state-dir', stateDir]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /No parent order was left working/);
    assert.equal(records(stateDir).filter((r) => r.type === 'SubmitOrder').length, 1, 'no slice after the halt');
    await check(stateDir);
  });

  it('reset-paper ends the parents a stopped algo left on the paper account: none is carried on into the new one', async () => {
    const stateDir = join(root, 'left-then-reset');
    const args = ['--param', 'quantity=3000', '--param', 'duration_s=3', '--param', 'slices=3'];
    const killed = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'parent-child-logged:2',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const parentId = records(stateDir).find((r) => r.type === 'ParentStarted')?.data['parentId'] as string;
    const reset = await cli(['reset-paper', '--yes', '--state-dir', stateDir]);
    assert.equal(reset.code, 0, reset.stderr + reset.stdout);
    assert.deepEqual(
      records(stateDir)
        .filter((r) => r.type === 'ParentEnded')
        .map((r) => [r.data['parentId'], r.data['state'], r.data['reason']]),
      [[parentId, 'CANCELLED', 'the paper account was reset']],
    );
    const resumed = await cli(['algo', '--resume', '--state-dir', stateDir]);
    assert.match(resumed.stdout, /No parent order was left working/);
    assert.equal(records(stateDir).filter((r) => r.type === 'SubmitOrder').length, 1, 'no slice into the new account');
    await check(stateDir);
  });
});
