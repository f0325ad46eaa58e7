/**
 * TEST_MODE=true is Test Order's (the component contract, "Environment given to a run"): `execute` ran its component
 * with it too, so a component that sizes a test's order differently (a trader's guard against trading a test) traded
 * the test's order on the account. Now `test-order` gives it and `execute` does not, even when the terminal has it set.
 * The built CLI (dist/cli.js), a real python3, the paper venue.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');

const SIZED = `import os
from core.orders.order_base import OrderBase


class Sized(OrderBase):
    def generate_order(self, market_data, signal=None):
        # A test trades one lot; the real thing trades its size.
        quantity = 1000 if os.environ.get('TEST_MODE') == 'true' else 25000
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': quantity,
                'time_in_force': 'IOC'}
`;

describe('sptrader CLI: TEST_MODE is given to Test Order only', function () {
  this.timeout(90_000);
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-test-mode-'));
    file = join(dir, 'sized.py');
    writeFileSync(file, SIZED);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], env: NodeJS.ProcessEnv = {}): { quantity: unknown; state: unknown } => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--state-dir', join(dir, 'state'), '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
    assert.equal(r.status, 0, `${args[0]} exits 0: ${r.stderr}${r.stdout.slice(0, 400)}`);
    const out = JSON.parse(r.stdout) as {
      order?: { quantity?: unknown };
      response?: { status?: { status?: unknown } };
    };
    return { quantity: out.order?.quantity, state: out.response?.status?.status };
  };

  it('test-order runs the component with TEST_MODE=true; execute runs it without, and trades its own size', () => {
    assert.deepEqual(run(['test-order', file]), { quantity: 1000, state: 'filled' });
    assert.deepEqual(run(['execute', file]), { quantity: 25000, state: 'filled' });
  });

  it('a TEST_MODE left set in the terminal does not make an execute a test', () => {
    assert.deepEqual(run(['execute', file], { TEST_MODE: 'true' }), { quantity: 25000, state: 'filled' });
    assert.deepEqual(run(['test-order', file], { TEST_MODE: 'false' }), { quantity: 1000, state: 'filled' });
  });
});
