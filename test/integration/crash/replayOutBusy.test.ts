/**
 * Two replays into one --out folder at once. Each put its fills and report.json in place when it ended, with no
 * lock on the folder: the folder could end with one run's report.json beside the other's fills (a report counting
 * 30 fills over a fills.csv of 10). Now the second is refused (exit 5) naming the folder and the replay writing
 * it, and writes nothing there; a replay killed while it held the folder does not keep the next one out.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, cli } from './crashKit';

const SAMPLE = resolve(__dirname, '../../../../examples/data/eurusd_m1_sample.csv');

/** A market order on every record, each call slowed so that the replay is still running when the next one starts. */
const SLOW_MARKET = `import time
from core.orders.order_base import OrderBase
class SlowBuy(OrderBase):
    def generate_order(self, market_data, signal=None):
        time.sleep(0.2)
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'IOC'}
`;
const MARKET = `from core.orders.order_base import OrderBase
class Buy(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000, 'time_in_force': 'IOC'}
`;

describe('crash suite: two replays into one --out folder', function () {
  this.timeout(300_000);
  let root: string;
  let slow: string;
  let quick: string;
  const data: Record<'long' | 'short', string> = { long: '', short: '' };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-replay-out-busy-'));
    slow = join(root, 'slow.py');
    writeFileSync(slow, SLOW_MARKET);
    quick = join(root, 'quick.py');
    writeFileSync(quick, MARKET);
    const lines = readFileSync(SAMPLE, 'utf8').split('\n');
    for (const [name, rows] of [
      ['long', 30],
      ['short', 10],
    ] as const) {
      data[name] = join(root, `${name}.csv`);
      writeFileSync(data[name], `${lines.slice(0, rows + 1).join('\n')}\n`);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** Starts the slow replay into `out`; resolves once it holds the folder (its lock is there). */
  async function startSlow(out: string): Promise<{ done: Promise<{ code: number | null; out: string }>; pid: number }> {
    const child = spawn(process.execPath, [CLI, 'replay', slow, '--data', data.long, '--out', out, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const done = new Promise<{ code: number | null; out: string }>((settle) =>
      child.on('close', (code) => settle({ code, out: text })),
    );
    let ended = false;
    void done.then(() => (ended = true));
    // Held once the lock names its holder: a lock caught between its creation and the write of its record (a few
    // microseconds) is one a holder may be writing, busy by design for a while (stateLock.ts), and a kill there made
    // the second test's next replay find it so.
    while (!holdsLock(join(out, 'lock'))) {
      assert.ok(!ended, `the slow replay ended before it took the folder:\n${text}`);
      await new Promise<void>((r) => setImmediate(r));
    }
    return { done, pid: child.pid as number };
  }

  /** Whether the lock file is there and holds its holder's whole record (its pid). */
  function holdsLock(lock: string): boolean {
    if (!existsSync(lock)) return false;
    try {
      return typeof (JSON.parse(readFileSync(lock, 'utf8')) as { pid?: unknown }).pid === 'number';
    } catch {
      return false;
    }
  }

  /** report.json's fill rows and fills.csv's rows. */
  function rows(out: string): { report: number; csv: number } {
    const report = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { fillsFiles: { rows: number } })
      .fillsFiles.rows;
    const csv = readFileSync(join(out, 'fills.csv'), 'utf8').trim().split('\n').length - 1;
    return { report, csv };
  }

  it('the second, started while the first writes the folder, is refused (exit 5) naming both; the folder holds the first run whole', async () => {
    const out = join(root, 'out-busy');
    const first = await startSlow(out);
    const second = await cli(['replay', quick, '--data', data.short, '--out', out]);
    assert.equal(second.code, 5, `exit ${second.code}\n${second.stderr}${second.stdout}`);
    assert.match(second.stderr, new RegExp(`--out ${out}: another replay is writing its files there now`));
    assert.match(second.stderr, new RegExp(`pid ${first.pid}`));
    assert.ok(!existsSync(join(out, 'report.json')), 'the refused replay wrote no report');
    const ran = await first.done;
    assert.equal(ran.code, 0, ran.out);
    assert.deepEqual(rows(out), { report: 30, csv: 30 }, 'one run: its report over its own fills');
    assert.ok(!existsSync(join(out, 'lock')), 'the lock is gone with the replay');
  });

  it('a replay killed while it held the folder does not keep the next one out; the next writes all its files', async () => {
    const out = join(root, 'out-killed');
    const first = await startSlow(out);
    process.kill(first.pid, 'SIGKILL');
    await first.done;
    assert.ok(existsSync(join(out, 'lock')), 'the killed replay left its lock');
    const next = await cli(['replay', quick, '--data', data.short, '--out', out]);
    assert.equal(next.code, 0, `${next.stderr}${next.stdout}`);
    assert.deepEqual(rows(out), { report: 10, csv: 10 });
    assert.ok(!existsSync(join(out, 'lock')));
  });
});
