/**
 * The crash suite: the real CLI (dist/cli.js) is SIGKILLed at each step of the pipeline — before the
 * send, after the paper venue saved the order and its fill but before they were delivered, after the
 * venue answered but before the engine recorded it, between a journal fold's two steps — and at random
 * moments. After the next open (which reconciles every unfinished order by client id), the audit log's
 * fills must equal the paper account's positions, every order the log sent must be settled, no order may
 * be at the venue twice, and the log must verify: in 100% of trials.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { fromMoney, toMoney } from '../../../src/common/decimal';
import { scanAuditDir } from '../../../src/execution/audit/auditVerify';
import { AuditDigest } from '../../../src/execution/auditDigest';

const CLI = resolve(__dirname, '../../../../dist/cli.js');

const MARKET = `from core.orders.order_base import OrderBase
class Buy(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'IOC'}
`;
const SELL = `from core.orders.order_base import OrderBase
class Sell(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'eur/usd', 'side': 'sell', 'order_type': 'market', 'quantity': 400, 'time_in_force': 'IOC'}
`;
const RESTING = `from core.orders.order_base import OrderBase
class Rest(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EURUSD', 'side': 'buy', 'order_type': 'limit', 'price': round(market_data['bid'] * 0.9, 5), 'quantity': 100}
`;
const NOTHING = `from core.orders.order_base import OrderBase
class Nothing(OrderBase):
    def generate_order(self, market_data, signal=None):
        return None
`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** What the log and the paper account say after the next open; throws with the difference. */
async function check(stateDir: string): Promise<{ fills: number; orders: number }> {
  const digest = new AuditDigest({ keepFillsOf: ['paper'] });
  const { report } = await scanAuditDir(join(stateDir, 'audit'), false, { visit: digest.visit });
  assert.equal(report.verified, true, `the audit log verifies: ${JSON.stringify(report.problems.slice(0, 3))}`);
  const fromLog = new Map<string, bigint>();
  for (const f of digest.fillsOf.get('paper') ?? []) {
    const key = instrumentKey(f.symbol);
    fromLog.set(key, (fromLog.get(key) ?? 0n) + toMoney(f.quantity) * (f.side === 'buy' ? 1n : -1n));
  }
  const account = readPaperAccount(join(stateDir, 'paper-account.json'));
  const atVenue = new Map<string, bigint>();
  for (const p of account?.state.positions ?? []) atVenue.set(instrumentKey(p.symbol), BigInt(p.quantity));
  for (const key of new Set([...fromLog.keys(), ...atVenue.keys()])) {
    assert.equal(
      fromMoney(fromLog.get(key) ?? 0n),
      fromMoney(atVenue.get(key) ?? 0n),
      `${key}: audit log fills vs paper position`,
    );
  }
  assert.equal(
    account?.state.counters.fill ?? 0,
    digest.fillCount.get('paper') ?? 0,
    'every paper fill is in the audit log, once',
  );
  // Nothing sent twice: one paper order per client order id.
  const ids = (account?.state.orders ?? []).map((o) => o.request.client_order_id);
  assert.equal(new Set(ids).size, ids.length, 'no client order id twice at the venue');
  // Every order the log sent is settled: final, or open at the venue (resting), never forgotten.
  for (const o of digest.open.values()) {
    assert.ok(
      o.state === 'ACCEPTED' || o.state === 'PARTIALLY_FILLED',
      `order ${o.clientOrderId} is settled, not ${o.state}`,
    );
    assert.ok(ids.includes(o.clientOrderId), `open order ${o.clientOrderId} is at the venue`);
  }
  return { fills: digest.fillCount.get('paper') ?? 0, orders: digest.known.size };
}

describe('crash suite: SIGKILL at every step of the pipeline, then the next open', function () {
  this.timeout(600_000);
  let root: string;
  const components: Record<string, string> = {};

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-crash-'));
    for (const [name, text] of Object.entries({ market: MARKET, sell: SELL, resting: RESTING, nothing: NOTHING })) {
      const file = join(root, `${name}.py`);
      writeFileSync(file, text);
      components[name] = file;
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a kill during the first order of a new state folder: the next execute trades, no file is called deleted', async () => {
    for (const point of ['engine-before-send', 'engine-after-venue-answered', 'paper-after-save']) {
      const stateDir = join(root, `first-${point}`);
      const killed = await cli(['execute', components['market'] as string, '--state-dir', stateDir, '--json'], {
        SPTRADER_CRASH_AT: point,
      });
      assert.equal(killed.signal, 'SIGKILL', `${point}: the run was killed there`);
      const next = await cli(['execute', components['market'] as string, '--state-dir', stateDir, '--json']);
      assert.equal(next.code, 0, `${point}: the next execute trades: ${next.stderr}${next.stdout.slice(0, 600)}`);
      assert.doesNotMatch(next.stderr, /damaged|missing|deleted/i, `${point}: nothing is reported damaged`);
      await check(stateDir);
    }
  });

  const POINTS = ['engine-before-send', 'engine-after-venue-answered', 'paper-after-save', 'paper-fold-between'];
  const TRIALS_PER_POINT = 5;
  const RANDOM_TRIALS = 8;

  it(`${POINTS.length} crash points × ${TRIALS_PER_POINT} trials and ${RANDOM_TRIALS} random kills: the log's fills equal the venue's positions every time`, async () => {
    const stateDir = join(root, 'state');
    const env = { SPTRADER_PAPER_JOURNAL_LIMIT_BYTES: '1' };
    let trials = 0;
    let killed = 0;
    let agreed = 0;
    const kinds = ['market', 'sell', 'resting'];
    const plan: Array<{ point?: string; killAfterMs?: number; component: string }> = [];
    for (const point of POINTS)
      for (let i = 0; i < TRIALS_PER_POINT; i++) plan.push({ point, component: kinds[i % kinds.length] as string });
    // Seeded: the same moments on every run.
    let seed = 20261202;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < RANDOM_TRIALS; i++)
      plan.push({ killAfterMs: Math.floor(120 + rand() * 500), component: kinds[i % kinds.length] as string });

    for (const step of plan) {
      trials++;
      const run = await cli(
        ['execute', components[step.component] as string, '--state-dir', stateDir, '--json'],
        { ...env, ...(step.point ? { SPTRADER_CRASH_AT: step.point } : {}) },
        step.killAfterMs,
      );
      if (run.signal === 'SIGKILL') killed++;
      else
        assert.ok(
          run.code === 0 || run.code === 3,
          `a run that was not killed ends cleanly (exit ${run.code}): ${run.stderr}${run.stdout.slice(0, 400)}`,
        );
      // The next open: a run that reconciles and sends nothing.
      const next = await cli(['test-order', components['nothing'] as string, '--state-dir', stateDir, '--json'], env);
      assert.equal(next.code, 0, `the next open succeeds: ${next.stderr}${next.stdout.slice(0, 600)}`);
      await check(stateDir);
      agreed++;
    }
    const totals = await check(stateDir);
    console.log(
      `      crash suite: ${trials} trials (${killed} killed mid-run), audit fills = venue positions in ${agreed}/${trials} (${Math.round((100 * agreed) / trials)}%); ${totals.orders} orders, ${totals.fills} fills, 0 sent twice`,
    );
    assert.ok(killed >= POINTS.length * TRIALS_PER_POINT * 0.75, `most planned crashes happened (${killed})`);
  });
});
