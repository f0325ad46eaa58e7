/**
 * A remedy names the folder the command used. Test Order and Execute denied because a state file is damaged
 * printed "Run `sptrader recover --state-dir DIR`" with the placeholder left in (the other commands name the
 * folder): the user had to work out which DIR. The real CLI over a real damaged working-orders.json, both the
 * summary and --json (where a path's characters are written as a JSON string's).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');

describe('sptrader test-order/execute: a remedy names the state folder', function () {
  this.timeout(120_000);
  let dir: string;
  let template: string;

  const cli = (args: string[]): { code: number | null; stdout: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout };
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-remedy-'));
    template = join(dir, 'template');
    const placed = cli(['execute', LIMIT, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.stdout);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the template whose working-orders.json is cut off mid-way, in a folder whose name JSON escapes. */
  const damaged = (name: string): string => {
    mkdirSync(join(dir, name));
    const stateDir = join(dir, name, 'state "quoted"');
    cpSync(template, stateDir, { recursive: true });
    const file = join(stateDir, 'working-orders.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    return stateDir;
  };

  for (const command of ['test-order', 'execute'])
    it(`${command}: the summary and --json both name the folder in the recover command`, () => {
      const stateDir = damaged(command);
      const text = cli([command, MARKET, '--state-dir', stateDir]);
      assert.equal(text.code, 6, text.stdout);
      assert.match(text.stdout, /STATE_DAMAGED/);
      assert.ok(text.stdout.includes(`sptrader recover --state-dir ${stateDir}\``), text.stdout);
      assert.doesNotMatch(text.stdout, /--state-dir DIR/);

      const json = cli([command, MARKET, '--state-dir', damaged(`${command}-json`), '--json']);
      assert.equal(json.code, 6, json.stdout);
      const parsed = JSON.parse(json.stdout) as { errors: Array<{ code: string; message: string }>; summary: string };
      const message = parsed.errors.find((e) => e.code === 'STATE_DAMAGED')?.message ?? '';
      assert.ok(
        message.includes(`sptrader recover --state-dir ${join(dir, `${command}-json`, 'state "quoted"')}\``),
        message,
      );
      assert.doesNotMatch(json.stdout, /--state-dir DIR/);
    });
});
