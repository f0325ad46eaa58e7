/**
 * What the crash suites share: the real CLI (dist/cli.js) run as a child (killed at a crash point, or
 * after a delay), the components they run, the audit log's records as a test reads them, the parents a
 * stopped run leaves in the log (being cancelled, ended by a halt), and the check after the next open: the
 * audit log's fills equal the paper account's positions and fill count, no client order id is at the venue
 * twice, every order the log sent is settled, and the log verifies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { fromMoney, toMoney } from '../../../src/common/decimal';
import { scanAuditDir } from '../../../src/execution/audit/auditVerify';
import { AuditDigest } from '../../../src/execution/auditDigest';

export const CLI = resolve(__dirname, '../../../../dist/cli.js');

export const TWAP = resolve(__dirname, '../../../../examples/workspace/core/orders/execution_algos/twap_buy.py');
// Three pips: more than the paper quote's noise between two polls, so the run is cancelled before it is hit.
export const TRAIL = `from core.orders.order_base import OrderBase
class Trail(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'algo': 'trailing_stop', 'symbol': 'EUR_USD', 'side': 'sell', 'quantity': 1000, 'trail_offset': 0.0003}
`;

export const MARKET = `from core.orders.order_base import OrderBase
class Buy(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'IOC'}
`;
export const SELL = `from core.orders.order_base import OrderBase
class Sell(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'eur/usd', 'side': 'sell', 'order_type': 'market', 'quantity': 400, 'time_in_force': 'IOC'}
`;
/** A limit order 3% below the bid: it rests (inside the 500 bps price collar; at 10% it was denied, never sent). */
export const RESTING = `from core.orders.order_base import OrderBase
class Rest(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EURUSD', 'side': 'buy', 'order_type': 'limit', 'price': round(market_data['bid'] * 0.97, 5), 'quantity': 100}
`;
export const NOTHING = `from core.orders.order_base import OrderBase
class Nothing(OrderBase):
    def generate_order(self, market_data, signal=None):
        return None
`;

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<Run> {
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

export interface Rec {
  type: string;
  data: Record<string, unknown>;
}

/** Every record of the audit log in `stateDir`, in order (its files by name, each line parsed). */
export function records(stateDir: string): Rec[] {
  const audit = join(stateDir, 'audit');
  return readdirSync(audit)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(audit, f), 'utf8').split('\n'))
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Rec);
}

export const ofType = (stateDir: string, type: string): Rec[] => records(stateDir).filter((r) => r.type === type);

/** What `sptrader orders --json` lists: the engine's working orders and the paper venue's open ones. */
export interface Orders {
  working: Array<{ clientOrderId: string; state: string }>;
  paper: Array<{ client_order_id: string }>;
}

export async function orders(stateDir: string): Promise<Orders> {
  const run = await cli(['orders', '--state-dir', stateDir, '--json']);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  return JSON.parse(run.stdout) as Orders;
}

/** The records about `id` after its SubmitOrder, by type. */
export const about = (stateDir: string, id: string): string[] =>
  records(stateDir)
    .filter((r) => r.data['clientOrderId'] === id && r.type !== 'SubmitOrder')
    .map((r) => r.type);
/** The client order ids the log's SubmitOrder commands sent, in order. */
export const sentIds = (stateDir: string): string[] =>
  ofType(stateDir, 'SubmitOrder').map((r) => (r.data['command'] as { clientOrderId: string }).clientOrderId);

/**
 * A parent left being cancelled: an emulated trailing stop (TRAIL, written into `component`) whose `--max-seconds`
 * ran out, killed after its cancel was decided (ParentCancelRequested) and before it ended. Nothing was sent.
 */
export async function leaveParentCancelling(stateDir: string, component: string): Promise<string> {
  writeFileSync(component, TRAIL);
  const killed = await cli(['algo', component, '--max-seconds', '0.001', '--state-dir', stateDir], {
    SPTRADER_CRASH_AT: 'parent-children-cancelled',
  });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
  return ofType(stateDir, 'ParentStarted')[0]?.data['parentId'] as string;
}

/**
 * A parent a halt came upon: a TWAP of 3 × 1,000 whose run was killed after slice 1 filled and slice 2 was logged
 * (never sent), then a `halt` killed once its HALTED and its stop were durable, before it ended the parent.
 */
export async function leaveParentHalted(stateDir: string): Promise<string> {
  const args = ['--param', 'quantity=3000', '--param', 'duration_s=3', '--param', 'slices=3'];
  const stopped = await cli(['algo', TWAP, ...args, '--state-dir', stateDir], {
    SPTRADER_CRASH_AT: 'parent-child-logged:2',
  });
  assert.equal(stopped.signal, 'SIGKILL', stopped.stderr + stopped.stdout);
  const halt = await cli(['halt', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'halt-stopped' });
  assert.equal(halt.signal, 'SIGKILL', halt.stderr + halt.stdout);
  return ofType(stateDir, 'ParentStarted')[0]?.data['parentId'] as string;
}

/** What the log and the paper account say after the next open; throws with the difference. */
export async function check(stateDir: string): Promise<{ fills: number; orders: number }> {
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
