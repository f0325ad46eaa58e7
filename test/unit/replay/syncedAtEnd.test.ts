/**
 * A replay's audit files are synced once, when the replay ends: not per batch, per file or per new directory entry
 * (the log rotates by simulated day, and a component ordering every ~17 simulated hours paid a new file's open,
 * directory sync and data sync per order). What is written is in the file at once all the same.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayFeed } from '../../../src/brokers/paper/replayFeed';
import { verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { replayComponent } from '../../../src/usecases/replay';
import { syncedAtClose, syncFileNamed } from '../../../src/usecases/replaySetup';
import type { ComponentBatchRequest } from '../../../src/python/protocol';
import { batchSize } from '../../../src/python/batchColumns';

describe('replay: audit files synced once, at the end', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-synced-end-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function recording(): { fs: ReturnType<typeof syncedAtClose>; files: string[]; dirs: string[] } {
    const files: string[] = [];
    const dirs: string[] = [];
    const fs = syncedAtClose(
      {
        openForAppend: () => Promise.reject(new Error('not used')),
        syncDirectory: async (path) => void dirs.push(path),
      },
      async (path) => {
        files.push(path);
        await syncFileNamed(path);
      },
    );
    return { fs, files, dirs };
  }

  it('writes at once, syncs nothing until syncAll, then each written file and each new entry once', async () => {
    const { fs, files, dirs } = recording();
    const a = join(dir, 'a.jsonl');
    const b = join(dir, 'b.jsonl');
    const c = join(dir, 'c.jsonl');
    for (const path of [a, b, c]) {
      const handle = await fs.openForAppend(path);
      if (path !== c) {
        const bytes = Buffer.from(`{"file":"${path}"}\n`);
        await handle.write(bytes, 0, bytes.length);
        await handle.datasync();
      }
      await fs.syncDirectory(dir);
      await handle.close();
      if (path !== c) assert.equal(readFileSync(path, 'utf8'), `{"file":"${path}"}\n`, 'written at once');
    }
    assert.deepEqual([files, dirs], [[], []], 'nothing synced before the end');
    await fs.syncAll();
    assert.deepEqual(files.sort(), [a, b], 'each written file once (c had nothing written)');
    assert.deepEqual(dirs, [dir], 'the directory once, however many files were made in it');
    await fs.syncAll();
    assert.equal(files.length + dirs.length, 3, 'a second call has nothing left to sync');
  });

  it('a file gone before the end is said by name', async () => {
    const { fs } = recording();
    const path = join(dir, 'gone.jsonl');
    const handle = await fs.openForAppend(path);
    await handle.write(Buffer.from('x\n'), 0, 2);
    await handle.close();
    rmSync(path);
    await assert.rejects(fs.syncAll(), (e: Error) => e.message.includes(path) && /moved or deleted/.test(e.message));
  });

  it('a replay ordering once a simulated day writes a file per day, every one whole and the chain verifying', async () => {
    const file = join(dir, 'core/orders/daily.py');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'class Daily: pass\n');
    const start = Date.UTC(2024, 2, 4);
    const n = 5 * 24 * 60; // five days of minute candles
    const time: number[] = [];
    const close: number[] = [];
    for (let i = 0; i < n; i++) {
      time.push(start + i * 60_000);
      close.push(1.085 + ((i % 20) - 10) * 1e-5);
    }
    const data = ReplayFeed.fromColumns(
      {
        time,
        open: close,
        high: close.map((x) => x + 2e-5),
        low: close.map((x) => x - 2e-5),
        close,
        volume: time.map(() => 100),
      },
      'test',
      { symbol: 'EUR_USD' },
    );
    let side = 'sell';
    const runner = {
      runBatch: async (req: ComponentBatchRequest) => {
        const items = [];
        for (let j = 0; j < batchSize(req); j++)
          if (((req.indexStart ?? 0) + j) % 1440 === 720) {
            side = side === 'buy' ? 'sell' : 'buy';
            items.push({
              index: j,
              ok: true as const,
              output: { symbol: 'EUR_USD', side, order_type: 'market', quantity: 1000 },
            });
          }
        return { ok: true, done: batchSize(req), items, metadata: null, stdout: '', stderr: '', totalMs: 0 };
      },
    };
    const stateDir = join(dir, 'run');
    const report = await replayComponent({ file, data, runner, stateDir });
    assert.equal(report.ok, true, JSON.stringify(report.fatal));
    assert.equal(report.orders.filled, 5);
    const audit = join(stateDir, 'audit');
    const days = readdirSync(audit).filter((f) => f.endsWith('.jsonl'));
    assert.ok(days.length >= 5, `a file per simulated day with an order: ${days.join(', ')}`);
    const verified = await verifyAuditDir(audit);
    assert.equal(verified.verified, true);
    assert.equal(verified.files, days.length);
  });
});
