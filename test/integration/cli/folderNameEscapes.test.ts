/**
 * A state folder's name is anyone's text, and the CLI names the folder in most of what it says. `recover`,
 * `reset-paper`, a replay's summary and the damage every command reports (`sptrader: <file>: <problem>` and its remedy) wrote it as it was:
 * a folder named with a terminal escape (`\x1b[31m`, or `\x1b]0;…\x07`, which retitles the terminal) coloured or
 * retitled the terminal. Now each line is escaped, as `status` and `audit tail` already were. The built CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');

describe('sptrader: a state folder named with a terminal escape is shown escaped', function () {
  this.timeout(120_000);
  let dir: string;
  let template: string;

  const cli = (args: string[]): { code: number | null; out: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-folder-escapes-'));
    template = join(dir, 'template');
    const placed = cli(['execute', LIMIT, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.out);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let copies = 0;
  /** A copy of the template under a name holding escapes, its working-orders.json garbled. */
  const damagedCopy = (): string => {
    const stateDir = join(dir, `copy-${++copies}-\x1b[31mred\x1b]0;retitled\x07`);
    cpSync(template, stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'working-orders.json'), 'garbage');
    return stateDir;
  };

  for (const args of [['recover'], ['recover', '--yes'], ['reset-paper'], ['positions'], ['algo', '--resume']])
    it(`${args.join(' ')}: no escape reaches the terminal, the folder named escaped`, () => {
      const r = cli([...args, '--state-dir', damagedCopy()]);
      assert.ok(r.code === 0 || r.code === 6, r.out);
      assert.ok(!r.out.includes('\x1b') && !r.out.includes('\x07'), JSON.stringify(r.out));
      assert.match(r.out, /-\\x1b\[31mred\\x1b\]0;retitled\\x07/);
    });

  it('replay into a new folder so named: its summary names the folder escaped', () => {
    const data = join(dir, 'ticks.csv');
    writeFileSync(data, 'time,bid,ask\n2024-01-01T00:00:00Z,1.1,1.10012\n2024-01-01T00:00:01Z,1.1,1.10012\n');
    const r = cli(['replay', LIMIT, '--data', data, '--state-dir', join(dir, 'replay-\x1b[31mred\x1b]0;retitled\x07')]);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes('\x1b') && !r.out.includes('\x07'), JSON.stringify(r.out));
    assert.match(r.out, /audit log {2}.*replay-\\x1b\[31mred/);
  });
});
