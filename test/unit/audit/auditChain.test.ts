/**
 * The hash chain computed away from `commit` (auditChain.ts): on the calling thread for small batches, on
 * the worker thread for large ones. Whichever path hashed a batch, the bytes on disk are those of the
 * writer before the worker existed, kept here as a reference implementation; a broken worker fails the log.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { TestClock } from '../../../src/common/clock';
import { chainBatch, lineByteLength } from '../../../src/execution/audit/auditChain';
import { AuditLog, AuditLogFailedError, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { canonicalJson } from '../../../src/execution/audit/canonicalJson';
import { auditFiles, tempDir } from './helpers';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Entry {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly ts: number;
}

interface ReferenceLine {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
  readonly text: string;
}

/**
 * The writer as it was before the worker: each line hashed and formatted in `commit`, in call order,
 * with prev the sha256 of the previous line.
 */
function referenceLines(entries: readonly Entry[], firstSeq = 1, genesis = '0'.repeat(64)): ReferenceLine[] {
  let prev = genesis;
  return entries.map((e, i) => {
    const seq = firstSeq + i;
    const typeJson = JSON.stringify(e.type);
    const dataJson = canonicalJson(e.data).json;
    const hash = sha(`{"data":${dataJson},"prev":"${prev}","seq":${seq},"ts":${e.ts},"type":${typeJson}}`);
    const text = `{"seq":${seq},"ts":${e.ts},"type":${typeJson},"data":${dataJson},"prev":"${prev}","hash":"${hash}"}`;
    const line = { seq, prev, hash, text };
    prev = sha(text);
    return line;
  });
}

/** Every audit file of `dir`, concatenated in chain order. */
function logBytes(dir: string): Buffer {
  return Buffer.concat(auditFiles(dir).map((f) => readFileSync(join(dir, f))));
}

const TYPES = ['SubmitOrder', 'OrderAccepted', 'OrderFilled', 'Ordre «spécial» ✓', 'Emoji 🚀'];
const T0 = Date.UTC(2026, 0, 5, 23, 59, 59, 0);

/** Record i of the deterministic stream the log tests write: unicode, nesting, a redacted secret key. */
function entry(i: number): Entry {
  return {
    type: TYPES[i % TYPES.length] as string,
    ts: T0 + i * 7,
    data: {
      clientOrderId: `c-${i}`,
      quantity: i * 1.5,
      note: i % 3 === 0 ? 'café ☕ "quoted" \\ back\nnew line' : 'plain',
      legs: [{ px: 1.08425 + i, side: i % 2 ? 'buy' : 'sell' }, null, true],
      ...(i % 11 === 0 ? { apiKey: '[redacted]' } : {}),
      pad: 'x'.repeat((i * 37) % 300),
    },
  };
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const arbEntries = fc.array(
  fc.record({
    type: fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
    data: fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 6 }),
    ts: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }),
  }),
  { minLength: 1, maxLength: 40 },
);

/** Splits `lines` into segments of at least one line each, at the given cut points. */
function segmentsOf(lines: number, cuts: readonly number[]): number[] {
  const points = [...new Set(cuts.map((c) => 1 + (c % lines)))].filter((p) => p < lines).sort((a, b) => a - b);
  const out: number[] = [];
  let last = 0;
  for (const p of points) {
    out.push(p - last);
    last = p;
  }
  out.push(lines - last);
  return out;
}

describe('audit hash chain (auditChain.ts)', () => {
  it('chainBatch writes the bytes and hashes of the reference writer, whatever the segments', () => {
    fc.assert(
      fc.property(
        arbEntries,
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.boolean(),
        (entries, cuts, firstSeq, transferable) => {
          const genesis = sha(String(firstSeq));
          const reference = referenceLines(entries, firstSeq, genesis);
          const segmentLines = segmentsOf(entries.length, cuts);
          const output = chainBatch(
            {
              firstSeq,
              prev: genesis,
              ts: entries.map((e) => e.ts),
              texts: entries.flatMap((e) => [JSON.stringify(e.type), canonicalJson(e.data).json]),
              segmentLines,
            },
            transferable,
          );
          assert.equal(output.segments.length, segmentLines.length);
          let line = 0;
          segmentLines.forEach((count, k) => {
            const expected = reference
              .slice(line, line + count)
              .map((r) => `${r.text}\n`)
              .join('');
            assert.ok(Buffer.from(expected).equals(output.segments[k] as Uint8Array), `segment ${k}`);
            line += count;
          });
          assert.equal(output.hashes, reference.map((r) => r.hash).join(''));
          assert.equal(output.lineHashes, reference.map((r) => sha(r.text)).join(''));
          for (const [i, e] of entries.entries()) {
            const size = lineByteLength(
              firstSeq + i,
              e.ts,
              Buffer.byteLength(JSON.stringify(e.type)),
              Buffer.byteLength(canonicalJson(e.data).json),
            );
            assert.equal(size, Buffer.byteLength((reference[i] as ReferenceLine).text) + 1, `line ${i} size`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  describe('AuditLog', () => {
    const dirs: string[] = [];
    const dir = (label: string): string => {
      const d = tempDir(label);
      dirs.push(d);
      return d;
    };
    after(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    /**
     * Writes the stream in batches of the given sizes (some by `append`, some by `write`) and returns the
     * records `append` resolved with, by seq. With `untilWorker`, first writes batches of 8 until the
     * worker thread has hashed one, and returns how many records that took.
     */
    async function writeStream(
      log: AuditLog,
      clock: TestClock,
      sizes: readonly number[],
      start: number,
    ): Promise<{ next: number; records: Map<number, { prev: string; hash: string }> }> {
      const records = new Map<number, { prev: string; hash: string }>();
      let i = start;
      for (const size of sizes) {
        const waits: Array<Promise<void>> = [];
        for (let k = 0; k < size; k++, i++) {
          const e = entry(i);
          clock.set(e.ts);
          if (i % 4 === 3) {
            log.write(e.type, e.data);
          } else {
            waits.push(log.append(e.type, e.data).then((r) => void records.set(r.seq, { prev: r.prev, hash: r.hash })));
          }
        }
        await Promise.all(waits);
        await log.flush();
      }
      return { next: i, records };
    }

    it('writes the same bytes whichever thread hashed each batch, and they verify', async () => {
      const sizes = [1, 3, 20, 64, 2, 100, 5, 17, 16, 15, 200, 1, 1, 40];
      // Small files and a day change on the way: batches span segments of several files.
      const options = { rotateBytes: 8 * 1024 };

      const viaWorker = dir('chain-worker');
      const clockA = new TestClock(T0);
      const { log: a } = await AuditLog.open(viaWorker, { ...options, clock: clockA, workerLines: 8 });
      // The worker starts with the first large batch and takes batches once it is up.
      let next = 0;
      const warmup = new Map<number, { prev: string; hash: string }>();
      for (let round = 0; a.stats().workerBatches === 0; round++) {
        assert.ok(round < 5000, 'the worker thread never took a batch');
        const r = await writeStream(a, clockA, [8], next);
        next = r.next;
        for (const [seq, rec] of r.records) warmup.set(seq, rec);
      }
      const warm = next;
      const mainPart = await writeStream(a, clockA, sizes, warm);
      const statsA = a.stats();
      await a.close();
      assert.ok(statsA.workerBatches >= 2, `the worker hashed ${statsA.workerBatches} batches`);
      assert.ok(statsA.workerBatches < statsA.batches, 'some batches were hashed on the calling thread');

      const inThread = dir('chain-thread');
      const clockB = new TestClock(T0);
      const { log: b } = await AuditLog.open(inThread, { ...options, clock: clockB, workerLines: Infinity });
      await writeStream(b, clockB, [warm], 0);
      await writeStream(b, clockB, sizes, warm);
      assert.equal(b.stats().workerBatches, 0);
      await b.close();

      const total = mainPart.next;
      const reference = referenceLines(Array.from({ length: total }, (_, i) => entry(i)));
      const expected = Buffer.from(reference.map((r) => `${r.text}\n`).join(''));
      assert.ok(logBytes(inThread).equals(expected), 'the calling thread wrote the reference bytes');
      assert.ok(logBytes(viaWorker).equals(expected), 'the worker wrote the reference bytes');
      assert.deepEqual(auditFiles(viaWorker), auditFiles(inThread));
      assert.ok(auditFiles(viaWorker).length > 3, 'the stream spans several files');

      for (const [seq, rec] of [...warmup, ...mainPart.records]) {
        const r = reference[seq - 1] as ReferenceLine;
        assert.deepEqual(rec, { prev: r.prev, hash: r.hash }, `record ${seq} as append resolved it`);
      }
      for (const d of [viaWorker, inThread]) {
        const report = await verifyAuditDir(d);
        assert.deepEqual(report.problems, []);
        assert.equal(report.verified, true);
        assert.equal(report.lines, total);
      }

      // Reopened, the log continues the chain from the worker's last line.
      const { log: again } = await AuditLog.open(viaWorker, { ...options, clock: clockA });
      const after = await again.append('Reopened', {});
      assert.equal(after.seq, total + 1);
      assert.equal(after.prev, sha((reference[total - 1] as ReferenceLine).text));
      assert.deepEqual(again.durableHead, { seq: total + 1, hash: sha(readLast(viaWorker)) });
      await again.close();
    });

    it('fails for good when the worker thread throws: the batch is rejected, nothing after it is written', async () => {
      const d = dir('chain-throw');
      const { log } = await AuditLog.open(d, {
        workerLines: 4,
        workerFile: join(__dirname, 'failingChainWorker.js'),
      });
      const failures: AuditLogFailedError[] = [];
      log.onFailure((e) => failures.push(e));
      let seq = 0;
      let rejected: unknown;
      // Batches of 4 go to the worker once it is up; until then they are hashed here and written.
      for (let round = 0; rejected === undefined; round++) {
        assert.ok(round < 5000, 'the log never handed a batch to the worker');
        try {
          await Promise.all(Array.from({ length: 4 }, () => log.append('T', { n: ++seq })));
        } catch (e) {
          rejected = e;
        }
      }
      assert.ok(rejected instanceof AuditLogFailedError, (rejected as Error).message);
      assert.match(rejected.message, /hashing thread failed: the test worker broke on purpose/);
      assert.equal(log.state, 'failed');
      assert.equal(failures.length, 1);
      assert.equal(failures[0], rejected);
      await assert.rejects(log.append('After', {}), AuditLogFailedError);
      assert.throws(() => log.write('After', {}), AuditLogFailedError);
      await log.close();

      const report = await verifyAuditDir(d);
      assert.equal(report.verified, true);
      // The failed batch and everything after it are absent; every batch before it is there.
      assert.equal(report.lines, seq - 4);
      assert.equal(report.lastSeq, seq - 4);
    });

    it('fails when the worker thread exits while idle, and refuses later records', async () => {
      const d = dir('chain-exit');
      const { log } = await AuditLog.open(d, {
        workerLines: 4,
        workerFile: join(__dirname, 'exitingChainWorker.js'),
      });
      const failed = new Promise<AuditLogFailedError>((resolve) => log.onFailure(resolve));
      let seq = 0;
      for (let round = 0; log.stats().workerBatches === 0; round++) {
        assert.ok(round < 5000, 'the log never handed a batch to the worker');
        await Promise.all(Array.from({ length: 4 }, () => log.append('T', { n: ++seq })));
      }
      // The worker answered its batch (durable, acknowledged), then exits on its own.
      const error = await failed;
      assert.match(error.message, /hashing thread exited with code 7/);
      assert.equal(log.state, 'failed');
      await assert.rejects(log.append('After', {}), AuditLogFailedError);
      await log.close();
      const report = await verifyAuditDir(d);
      assert.equal(report.verified, true);
      assert.equal(report.lastSeq, seq);
    });

    it('lets a process whose only work is an append in the worker wait for it, and exit once idle', async () => {
      const { spawnSync } = await import('node:child_process');
      const d = dir('chain-exit-idle');
      const script = `
        const { AuditLog } = require(${JSON.stringify(join(__dirname, '../../../src/execution/audit/auditLog.js'))});
        (async () => {
          const { log } = await AuditLog.open(${JSON.stringify(d)}, { workerLines: 1 });
          let r;
          while (log.stats().workerBatches === 0) r = await log.append('T', {});
          process.stdout.write(String(r.seq));
          // No close: the idle worker must not keep the process alive.
        })();`;
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 15_000 });
      assert.equal(run.status, 0, run.stderr);
      assert.ok(Number(run.stdout) >= 1, run.stdout);
      const report = await verifyAuditDir(d);
      assert.equal(report.verified, true);
      assert.equal(report.lastSeq, Number(run.stdout));
    });
  });
});

function readLast(dir: string): string {
  const files = auditFiles(dir);
  const lines = readFileSync(join(dir, files[files.length - 1] as string), 'utf8').split('\n');
  return lines[lines.length - 2] as string;
}
