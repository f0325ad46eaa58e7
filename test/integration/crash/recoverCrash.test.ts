/**
 * `sptrader recover --yes` SIGKILLed at each of its steps (marker written, damaged audit log set aside, paper
 * account rebuilt, StateRecovered logged, just before it is done), for each kind of damage it repairs: a broken
 * audit log with a damaged paper account (rebuilt from the log), a broken log alone (the account carried into
 * the new log), a damaged account alone. Whatever the step, the folder refuses to trade until `recover --yes` is
 * run again, and that run ends where an uninterrupted one would: the positions the log held (never an account
 * rebuilt from an empty log), nothing left to recover, trading going on.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, MARKET } from './crashKit';

/** A limit order 3% below the bid: it rests (inside the 500 bps price collar). */
const RESTS = `from core.orders.order_base import OrderBase
class Rest(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'price': round(market_data['bid'] * 0.97, 5), 'quantity': 100}
`;

type Damage = 'log and account' | 'log' | 'account';
const POINTS: Record<Damage, readonly string[]> = {
  'log and account': [
    'recover-begun',
    'recover-log-set-aside',
    'recover-paper-rebuilt',
    'recover-logged',
    'recover-before-done',
  ],
  log: ['recover-begun', 'recover-log-set-aside', 'recover-logged', 'recover-before-done'],
  account: ['recover-begun', 'recover-paper-rebuilt', 'recover-logged', 'recover-before-done'],
};

function damage(stateDir: string, what: Damage): void {
  if (what !== 'account') {
    const audit = join(stateDir, 'audit');
    const file = join(audit, readdirSync(audit).find((n) => n.endsWith('.jsonl')) as string);
    const lines = readFileSync(file, 'utf8').split('\n');
    // A record edited in the middle of the chain: its hash no longer matches.
    lines[3] = (lines[3] as string).replace('"at":', '"At":');
    writeFileSync(file, lines.join('\n'));
  }
  if (what !== 'log') writeFileSync(join(stateDir, 'paper-account.json'), 'garbage');
}

const position = async (stateDir: string): Promise<number> => {
  const run = await cli(['positions', '--state-dir', stateDir, '--json']);
  assert.equal(run.code, 0, `positions: ${run.stderr}`);
  const rows = JSON.parse(run.stdout) as Array<{ symbol: string; quantity: number }>;
  return rows.find((r) => r.symbol === 'EUR_USD')?.quantity ?? 0;
};

describe('crash suite: recover killed at each step', function () {
  this.timeout(600_000);
  let root: string;
  let base: string;
  let market: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-recover-crash-'));
    market = join(root, 'market.py');
    writeFileSync(market, MARKET);
    const rests = join(root, 'rests.py');
    writeFileSync(rests, RESTS);
    base = join(root, 'base');
    for (const component of [market, market, rests]) {
      const run = await cli(['execute', component, '--state-dir', base, '--json']);
      assert.equal(run.code, 0, `setting up: ${run.stderr}${run.stdout.slice(0, 400)}`);
    }
    assert.equal(await position(base), 2000);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const what of Object.keys(POINTS) as Damage[]) {
    for (const point of POINTS[what]) {
      it(`${what} damaged, recover killed at ${point}: refused until recover runs again, which ends with the log's positions`, async () => {
        const stateDir = join(root, `${what.replace(/ /g, '-')}-${point}`);
        cpSync(base, stateDir, { recursive: true });
        damage(stateDir, what);

        const killed = await cli(['recover', '--yes', '--state-dir', stateDir], { SPTRADER_CRASH_AT: point });
        assert.equal(killed.signal, 'SIGKILL', `killed at ${point}: ${killed.stderr}${killed.stdout}`);

        const refused = await cli(['execute', market, '--state-dir', stateDir, '--json']);
        assert.equal(refused.code, 6, `trading is refused meanwhile: ${refused.stderr}${refused.stdout.slice(0, 400)}`);
        assert.match(
          `${refused.stderr}${refused.stdout}`,
          // The interrupted recover is named, or (before it rebuilt the account) the account it had yet to rebuild.
          /recovering\.json: a recover of this folder was interrupted|paper-account\.json: the paper account cannot be loaded.*sptrader recover/,
        );

        const again = await cli(['recover', '--yes', '--state-dir', stateDir]);
        assert.equal(again.code, 0, `recover again: ${again.stderr}${again.stdout}`);
        assert.equal(existsSync(join(stateDir, 'recovering.json')), false, 'the recover is finished');
        assert.equal(await position(stateDir), 2000, `the log's position survives: ${again.stdout}`);
        const look = await cli(['recover', '--state-dir', stateDir, '--json']);
        assert.deepEqual(
          (JSON.parse(look.stdout) as { problems: string[] }).problems,
          [],
          'nothing is left to recover',
        );

        const trade = await cli(['execute', market, '--state-dir', stateDir, '--json']);
        assert.equal(trade.code, 0, `trading goes on: ${trade.stderr}${trade.stdout.slice(0, 400)}`);
        assert.equal(await position(stateDir), 3000);
      });
    }
  }
});
