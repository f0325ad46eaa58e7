/**
 * `sptrader algo` (and `compare`) opens its state folder as every other command does. It took --state-dir as given (a file there read
 * "ENOTDIR: not a directory, open '<file>/risk-limits.json'", exit 2), never said what the folder's open found: over
 * a damaged working-orders.json `algo --resume` ended 0 ("No parent order was left working."), having set the file
 * aside without a word, and a new parent ran its component and ended "denied" (exit 3), the file never named. Now
 * each is exit 6 naming the file, with the recover command for this folder, before a component runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const TWAP = join(ROOT, 'examples/workspace/core/orders/execution_algos/twap_buy.py');

describe('sptrader algo: the state folder opened as by every other command', function () {
  this.timeout(180_000);
  let dir: string;
  let template: string;

  const cli = (args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, SPTRADER_DEBUG: '' },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const auditText = (stateDir: string): string =>
    readdirSync(join(stateDir, 'audit'))
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(stateDir, 'audit', f), 'utf8'))
      .join('');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-algo-folder-'));
    template = join(dir, 'template');
    const placed = cli(['execute', LIMIT, '--state-dir', template]);
    assert.equal(placed.code, 0, placed.stdout + placed.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const args of [
    ['algo', '--resume'],
    ['compare', LIMIT, '--venues', 'paper'],
  ])
    it(`${args[0]}: a file in the place of the folder: exit 6 naming it`, () => {
      const file = join(dir, `a-file-${args[0]}`);
      writeFileSync(file, 'not a folder');
      const r = cli([...args, '--state-dir', file]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /a-file-\w+: this is a file, not a state directory/);
      assert.doesNotMatch(r.stderr, /ENOTDIR/);
    });

  it('a folder in the place of risk-limits.json: exit 6 naming it, as status', () => {
    const stateDir = join(dir, 'limits-folder');
    cpSync(template, stateDir, { recursive: true });
    mkdirSync(join(stateDir, 'risk-limits.json'));
    for (const args of [['algo', '--resume'], ['status']]) {
      const r = cli([...args, '--state-dir', stateDir]);
      assert.equal(r.code, 6, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /risk-limits\.json: a directory is in the place of the risk limits file/);
    }
  });

  for (const resume of [true, false])
    it(`${resume ? 'algo --resume' : 'algo <twap>'} over a damaged working-orders.json: exit 6 naming it and this folder's recover, nothing sent`, () => {
      const stateDir = join(dir, resume ? 'damaged-resume' : 'damaged-new');
      cpSync(template, stateDir, { recursive: true });
      writeFileSync(join(stateDir, 'working-orders.json'), '{"version":');
      const submitted = auditText(stateDir).split('"SubmitOrder"').length;
      const r = cli(['algo', ...(resume ? ['--resume'] : [TWAP]), '--state-dir', stateDir]);
      assert.equal(r.code, 6, r.stdout + r.stderr);
      assert.match(r.stderr, /working-orders\.json: /);
      assert.ok(r.stderr.includes(`sptrader recover --state-dir ${stateDir}\``), r.stderr);
      assert.doesNotMatch(r.stdout, /No parent order was left working|Started/);
      assert.equal(auditText(stateDir).split('"SubmitOrder"').length, submitted, 'no order was sent');
    });
});
