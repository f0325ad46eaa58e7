/**
 * A replay's audit log is written as the replay goes, not held in memory to its end: a batch's orders
 * run as promise callbacks, and a component run in-process never waits on I/O, so without turns of the
 * event loop the log's writes (and every line of the replay) would wait for the last record.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { verifyAuditDir, type AuditLog } from '../../../src/execution/audit/auditLog';
import { replayComponent } from '../../../src/usecases/replay';
import { defaultEngine } from '../../../src/usecases/replaySetup';
import type { ComponentBatchRequest } from '../../../src/python/protocol';
import { batchSize } from '../../../src/python/batchColumns';

const CANDLES = 3000;

function candles(n: number): ReplayFeed {
  const start = Date.UTC(2024, 2, 4);
  const time: number[] = [];
  const close: number[] = [];
  for (let i = 0; i < n; i++) {
    time.push(start + i * 60_000);
    close.push(1.085 + ((i % 20) - 10) * 1e-5);
  }
  return ReplayFeed.fromColumns(
    {
      time,
      open: close,
      high: close.map((c) => c + 2e-5),
      low: close.map((c) => c - 2e-5),
      close,
      volume: time.map(() => 100),
    },
    'test',
    { symbol: 'EUR_USD' },
  );
}

describe('replay: the audit log as it goes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-replay-audit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a component ordering on every candle, run in-process: lines are written in small batches, and the chain verifies', async () => {
    const file = join(dir, 'core/orders/every.py');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'class Every: pass\n');
    let side = 'sell';
    const runner = {
      runBatch: async (req: ComponentBatchRequest) => {
        const size = batchSize(req);
        const items = Array.from({ length: size }, (_, index) => {
          side = side === 'buy' ? 'sell' : 'buy';
          return {
            index,
            ok: true as const,
            output: { symbol: 'EUR_USD', side, order_type: 'market', quantity: 1000 },
          };
        });
        return { ok: true, done: size, items, metadata: null, stdout: '', stderr: '', totalMs: 0 };
      },
    };
    let log: AuditLog | undefined;
    const report = await replayComponent({
      file,
      data: candles(CANDLES),
      runner,
      stateDir: join(dir, 'state'),
      engineFactory: async (context) => {
        const opened = await defaultEngine(context);
        log = opened.audit as AuditLog;
        return opened;
      },
    });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.orders.filled, CANDLES);
    assert.ok(log);
    const stats = log.stats();
    assert.ok(stats.lines >= 4 * CANDLES, `${stats.lines} lines`);
    // 64 orders between turns, four or five lines each, more while a new day's file is being opened: far
    // from the 12,000 lines of the whole replay, or the 8,000 of one batch of 2,048 candles.
    assert.ok(stats.largestBatch <= 2000, `largest batch ${stats.largestBatch} lines`);
    assert.ok(stats.batches >= 20, `${stats.batches} batches for ${stats.lines} lines`);
    assert.equal((await verifyAuditDir(join(dir, 'state', 'audit'))).verified, true);
  });
});
