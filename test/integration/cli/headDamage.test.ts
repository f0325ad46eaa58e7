/**
 * A flipped bit in the audit log's head that working-orders.json or audit/anchor.json records (a digit of its seq,
 * of its hash), through dist/cli.js as a user meets it. Without their checksums every command blamed the log:
 * "the log ends at seq 11, but working-orders.json saw it reach seq 21: 10 record(s) at its end were removed", "the
 * log was replaced by another copy or rewritten", and `recover` planned "records past its end are lost", when no
 * record was gone. Now the damaged file is named as damaged, nothing is sent, and `recover --yes` puts it right
 * with the log untouched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const BLAMES_THE_LOG = /were removed|replaced by another copy|cut short|are lost|records past its end/;

const cli = (args: string[]): { code: number | null; out: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SPTRADER_DEBUG: '' },
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stderr}${r.stdout}` };
};

/** Each position's symbol, quantity and average price (its valuation moves with the quote). */
const held = (stateDir: string): string[] =>
  (
    JSON.parse(cli(['positions', '--state-dir', stateDir, '--json']).out) as Array<{
      symbol: string;
      quantity: number;
      average_price: number;
    }>
  ).map((p) => `${p.symbol} ${p.quantity} @ ${p.average_price}`);

const auditText = (stateDir: string): string =>
  readdirSync(join(stateDir, 'audit'))
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => readFileSync(join(stateDir, 'audit', f), 'utf8'))
    .join('');

/** `text` with the first digit of the first `key` value changed to another: still JSON of the right shape. */
function flipDigit(text: string, key: 'seq' | 'hash'): string {
  const m = new RegExp(`"${key}": ?"?([0-9a-f])`).exec(text);
  if (!m) throw new Error(`no ${key} in ${text}`);
  const at = m.index + m[0].length - 1;
  return `${text.slice(0, at)}${m[1] === '1' ? '2' : '1'}${text.slice(at + 1)}`;
}

describe('sptrader: a flipped bit in the audit head a state file records is that file’s damage, not the log’s', function () {
  this.timeout(300_000);
  let dir: string;
  let template: string;
  let positions: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-head-damage-'));
    template = join(dir, 'template');
    assert.equal(cli(['execute', MARKET, '--state-dir', template]).code, 0);
    const resting = cli(
      ['execute', LIMIT, '--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'].concat([
        '--state-dir',
        template,
      ]),
    );
    assert.equal(resting.code, 0, resting.out);
    positions = held(template);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of ['working-orders.json', 'audit/anchor.json'])
    for (const key of ['seq', 'hash'] as const)
      it(`${file}: a digit of its ${key} changed`, () => {
        const stateDir = join(dir, `${file.replace(/\W/g, '-')}-${key}`);
        cpSync(template, stateDir, { recursive: true });
        const path = join(stateDir, file);
        writeFileSync(path, flipDigit(readFileSync(path, 'utf8'), key));
        const log = auditText(stateDir);

        // The first open finds the damage (working-orders.json is then set aside, anchor.json written anew).
        const status = cli(['status', '--state-dir', stateDir]);
        assert.equal(status.code, 6, `status: exit ${status.code}\n${status.out}`);
        assert.ok(status.out.includes(path), `status names ${path}:\n${status.out}`);
        assert.match(status.out, /is damaged.*does not match its checksum/);
        for (const r of [status, cli(['recover', '--state-dir', stateDir])])
          assert.doesNotMatch(r.out, BLAMES_THE_LOG, `the audit log is not blamed:\n${r.out}`);
        assert.doesNotMatch(auditText(stateDir).slice(log.length), /"type":"OrderSubmitted"/, 'nothing was sent');
        assert.ok(auditText(stateDir).startsWith(log), 'the log was only added to');

        const fixed = cli(['recover', '--yes', '--state-dir', stateDir]);
        assert.equal(fixed.code, 0, fixed.out);
        assert.doesNotMatch(fixed.out, BLAMES_THE_LOG);
        assert.equal(cli(['status', '--state-dir', stateDir]).code, 0);
        assert.equal(cli(['audit', 'verify', '--state-dir', stateDir]).code, 0);
        assert.deepEqual(held(stateDir), positions, 'the account is as it was');
        assert.equal(cli(['test-order', MARKET, '--state-dir', stateDir]).code, 0, 'and trading goes on');
      });
});
