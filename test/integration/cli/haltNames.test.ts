/**
 * `sptrader halt` as a trader reads it. It listed what it cancelled by client order id alone
 * ("Cancelled 1 order: sp-mx97982q-26798f0001"); orders are named by what they are (issue 16), the id after it.
 * `halt --flatten` without --yes answered with the whole usage text of every command under its one sentence.
 * The real CLI over a real state folder with a resting paper order.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');

describe('sptrader halt: what it says', function () {
  this.timeout(120_000);
  let dir: string;
  const cli = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-halt-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--flatten without --yes: one sentence, nothing done; the halt names each cancelled order by what it is', () => {
    const stateDir = join(dir, 'state');
    const placed = cli(['execute', LIMIT, '--state-dir', stateDir, '--json']);
    assert.equal(placed.code, 0, placed.stderr + placed.stdout);
    const order = (JSON.parse(placed.stdout) as { order: { client_order_id: string; quantity: number } }).order;

    const unconfirmed = cli(['halt', '--flatten', '--state-dir', stateDir]);
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    assert.equal(
      unconfirmed.stderr,
      'sptrader: --flatten closes every position at market: add --yes to confirm. Nothing was done\n',
    );
    const status = JSON.parse(cli(['status', '--state-dir', stateDir, '--json']).stdout) as {
      tradingState: string;
      workingOrders: number;
    };
    assert.deepEqual([status.tradingState, status.workingOrders], ['ACTIVE', 1], 'nothing was done');

    const halted = cli(['halt', '--reason', 'lunch', '--state-dir', stateDir]);
    assert.equal(halted.code, 0, halted.stderr + halted.stdout);
    assert.match(halted.stdout, /^Cancelled {2}1 order$/m, halted.stdout);
    const qty = order.quantity.toLocaleString('en-US');
    assert.match(
      halted.stdout,
      new RegExp(`^ {11}BUY ${qty} EUR_USD LMT [\\d.]+ GTD \\S+ \\(${order.client_order_id}\\)$`, 'm'),
      halted.stdout,
    );
  });
});
