/**
 * A kill between writing a state file's temp file and renaming it over the file (the working orders, the
 * paper account's snapshot, the trading state): the temp file is left behind. The next open must remove it
 * (they would otherwise pile up a kill at a time), keep the file it belonged to as it was, and settle every
 * order as the crash suite does: nothing lost, nothing sent twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { check, cli, MARKET, NOTHING } from './crashKit';

/** A limit order 3% below the bid: it rests (inside the 500 bps price collar, far from any fill). */
const RESTS = `from core.orders.order_base import OrderBase
class Rest(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': round(market_data['bid'] * 0.97, 5), 'quantity': 100}
`;

const temps = (stateDir: string): string[] =>
  [...readdirSync(stateDir), ...readdirSync(join(stateDir, 'audit')).map((n) => `audit/${n}`)].filter((n) =>
    n.endsWith('.tmp'),
  );

describe('crash suite: killed between a temp file and its rename', function () {
  this.timeout(300_000);
  let root: string;
  const components: Record<string, string> = {};

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-temp-crash-'));
    for (const [name, text] of Object.entries({ market: MARKET, rests: RESTS, nothing: NOTHING })) {
      components[name] = join(root, `${name}.py`);
      writeFileSync(components[name], text);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const CASES: Array<{ name: string; point: string; args: (stateDir: string) => string[]; left: RegExp }> = [
    {
      name: 'the first working-orders file of a new folder',
      point: 'replace-before-rename:1',
      args: (d) => ['execute', components['market'] as string, '--state-dir', d, '--json'],
      left: /^working-orders\.json\.\d+\.tmp$/,
    },
    {
      name: "the paper account's first snapshot, with the order at the venue",
      point: 'replace-before-rename:2',
      args: (d) => ['execute', components['market'] as string, '--state-dir', d, '--json'],
      left: /^paper-account\.json\.\d+\.tmp$/,
    },
    {
      name: 'the working orders rewritten after a resting order',
      point: 'working-orders-before-rename',
      args: (d) => ['execute', components['rests'] as string, '--state-dir', d, '--json'],
      left: /^working-orders\.json\.\d+\.[0-9a-f]{8}\.tmp$/,
    },
    {
      name: 'the trading state of a halt',
      point: 'replace-before-rename:1',
      args: (d) => ['halt', '--state-dir', d],
      left: /^trading-state\.json\.\d+\.tmp$/,
    },
  ];

  it('a replay killed while it wrote its fills or its report: the next replay into that --out removes the temp files and writes them whole', async () => {
    const data = resolve(__dirname, '../../../../examples/data/eurusd_m1_sample.csv');
    for (const [point, left] of [
      ['engine-before-send:5', /^fills\.(csv|parquet)\.\d+\.tmp$/],
      ['replace-before-rename:1', /^report\.json\.\d+\.tmp$/],
    ] as const) {
      const stateDir = join(root, `replay-${point.replace(/\W+/g, '-')}`);
      const out = join(root, `replay-out-${point.replace(/\W+/g, '-')}`);
      const args = ['replay', components['market'] as string, '--data', data, '--state-dir', stateDir, '--out', out];
      const killed = await cli(args, { SPTRADER_CRASH_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `killed at ${point}: ${killed.stderr}`);
      assert.ok(
        readdirSync(out).some((n) => left.test(n)),
        `the kill left its temp file: ${readdirSync(out).join(', ')}`,
      );
      const again = await cli(args);
      assert.equal(again.code, 0, `the next replay: ${again.stderr}${again.stdout.slice(0, 400)}`);
      assert.deepEqual(readdirSync(out).sort(), ['fills.csv', 'fills.parquet', 'report.json'], point);
    }
  });

  for (const c of CASES) {
    it(`${c.name} (${c.point}): the next open removes the temp file and settles every order`, async () => {
      const stateDir = join(root, c.name.replace(/\W+/g, '-'));
      // A folder with an order and its fill in it first, except for the cases that kill its very first run.
      if (!/first/.test(c.name)) {
        const first = await cli(['execute', components['market'] as string, '--state-dir', stateDir, '--json']);
        assert.equal(first.code, 0, `the first execute: ${first.stderr}${first.stdout.slice(0, 400)}`);
      }
      const killed = await cli(c.args(stateDir), { SPTRADER_CRASH_AT: c.point });
      assert.equal(killed.signal, 'SIGKILL', `killed at ${c.point}: ${killed.stderr}${killed.stdout.slice(0, 400)}`);
      assert.ok(
        temps(stateDir).some((n) => c.left.test(n)),
        `the kill left its temp file: ${readdirSync(stateDir).join(', ')}`,
      );

      const next = await cli(['test-order', components['nothing'] as string, '--state-dir', stateDir, '--json']);
      assert.equal(next.code, 0, `the next open succeeds: ${next.stderr}${next.stdout.slice(0, 600)}`);
      assert.deepEqual(temps(stateDir), [], 'no temp file is left');
      await check(stateDir);

      const again = await cli(['execute', components['market'] as string, '--state-dir', stateDir, '--json']);
      assert.equal(again.code, 0, `trading goes on: ${again.stderr}${again.stdout.slice(0, 400)}`);
      assert.deepEqual(temps(stateDir), []);
      await check(stateDir);
    });
  }
});
