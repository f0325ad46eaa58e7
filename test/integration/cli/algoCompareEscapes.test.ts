/**
 * `sptrader algo` and `sptrader compare` print a component's words escaped, as test-order and replay do: a component
 * whose exception held a terminal escape (`\x1b]0;…\x07` retitles the terminal, `\x1b[31m` colours what follows) had it
 * reach the terminal as it was, and so did a component file's name. Real python3, the built CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');

describe('sptrader algo and compare: a component’s terminal escapes are shown escaped', function () {
  this.timeout(120_000);
  let dir: string;
  let component: string;

  const cli = (args: string[]): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-algo-escapes-'));
    const orders = join(dir, 'core', 'orders');
    mkdirSync(orders, { recursive: true });
    component = join(orders, 'escapes.py');
    writeFileSync(
      component,
      [
        'from core.orders.order_base import OrderBase',
        '',
        '',
        'class Escapes(OrderBase):',
        '    def generate_order(self, market_data, signal):',
        '        raise ValueError("boom \\x1b]0;retitled\\x07 \\x1b[31mred")',
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const args of [['algo'], ['compare', '--venues', 'paper']])
    it(`${args[0]}: the exception escaped, exit 1`, () => {
      const r = cli([args[0] as string, component, ...args.slice(1), '--state-dir', join(dir, `state-${args[0]}`)]);
      assert.equal(r.code, 1, r.out);
      assert.ok(!r.out.includes('\x1b') && !r.out.includes('\x07'), JSON.stringify(r.out));
      assert.ok(r.out.includes('boom \\x1b]0;retitled\\x07 \\x1b[31mred'), r.out);
    });

  it('algo: a component file named with an escape is shown escaped', () => {
    const r = cli(['algo', join(dir, 'no\x1b[2Jsuch.py'), '--state-dir', join(dir, 'state-name')]);
    assert.equal(r.code, 1, r.out);
    assert.ok(!r.out.includes('\x1b'), JSON.stringify(r.out));
    assert.match(r.out, /no\\x1b\[2Jsuch\.py does not exist/);
  });
});
