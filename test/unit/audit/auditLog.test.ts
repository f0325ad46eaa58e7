import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { StateFileError } from '../../../src/common/stateErrors';
import {
  AuditLog,
  AuditLogFailedError,
  AuditSecretError,
  nodeAuditFileSystem,
  redactSecrets,
  tailAudit,
  verifyAuditDir,
  type AuditFileSystem,
} from '../../../src/execution/audit/auditLog';
import { auditFiles, tempDir } from './helpers';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function readLines(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const file of auditFiles(dir)) {
    const content = readFileSync(join(dir, file), 'utf8');
    assert.ok(content === '' || content.endsWith('\n'), `${file} ends with a newline`);
    for (const text of content.split('\n').slice(0, -1)) out.push({ file, text });
  }
  return out;
}

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

  it('writes durable, hash-chained lines that verify and read back', async () => {
    const d = join(dir('roundtrip'), 'nested', 'audit');
    const clock = new TestClock();
    const { log, recovery } = await AuditLog.open(d, { clock });
    assert.equal(recovery.verified, true);
    assert.equal(recovery.lines, 0);
    assert.equal((statSync(d).mode & 0o777).toString(8), '700');

    const first = await log.append('SubmitOrder', {
      clientOrderId: 'c-1',
      symbol: 'EURUSD',
      qty: 1000,
      px: 1.0842,
      tags: ['a', { z: 1, a: 2 }],
    });
    clock.advance(5);
    const second = await log.append('OrderFilled', { clientOrderId: 'c-1', fillQty: 1000 });
    assert.equal(first.seq, 1);
    assert.equal(second.seq, 2);
    assert.equal(first.prev, '0'.repeat(64));
    assert.equal(log.lastSeq, 2);
    await log.close();

    const lines = readLines(d);
    assert.equal(lines.length, 2);
    const [l1, l2] = lines.map((l) => l.text) as [string, string];
    assert.equal(second.prev, sha(l1));
    const parsed = JSON.parse(l1) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['seq', 'ts', 'type', 'data', 'prev', 'hash']);
    assert.equal(parsed['ts'], clock.now() - 5);
    // Keys sorted at every level, so the hash can be recomputed from the parsed line.
    assert.match(
      l1,
      /"data":\{"clientOrderId":"c-1","px":1.0842,"qty":1000,"symbol":"EURUSD","tags":\["a",\{"a":2,"z":1\}\]\}/,
    );
    const hashInput = `{"data":${JSON.stringify((JSON.parse(l2) as { data: unknown }).data)},"prev":"${sha(l1)}","seq":2,"ts":${clock.now()},"type":"OrderFilled"}`;
    assert.equal(second.hash, sha(hashInput));
    const fileMode = statSync(join(d, auditFiles(d)[0] as string)).mode & 0o777;
    assert.equal(fileMode.toString(8), '600');

    const report = await verifyAuditDir(d);
    assert.equal(report.verified, true);
    assert.equal(report.lines, 2);
    assert.equal(report.lastSeq, 2);
    assert.equal(report.lastLineHash, sha(l2));

    const again = await AuditLog.open(d, { clock });
    assert.equal(again.recovery.verified, true);
    const third = await again.log.append('OrderCanceled', { clientOrderId: 'c-1' });
    assert.equal(third.seq, 3);
    assert.equal(third.prev, sha(l2));
    await again.log.close();
    assert.deepEqual(
      (await tailAudit(d, 2)).map((r) => r.seq),
      [2, 3],
    );
    assert.deepEqual(
      await tailAudit(d, 2),
      [second, third].map((r) => JSON.parse(JSON.stringify(r)) as unknown),
    );
  });

  it('rotates by size and by UTC day, continuing seq and prev across files', async () => {
    const d = dir('rotate');
    const clock = new TestClock(Date.UTC(2026, 0, 5, 23, 59, 59, 0));
    const { log } = await AuditLog.open(d, { clock, rotateBytes: 1024 });
    for (let i = 0; i < 20; i++) await log.append('Tick', { i, pad: 'x'.repeat(100) });
    clock.set(Date.UTC(2026, 0, 6, 0, 0, 0, 0));
    for (let i = 0; i < 3; i++) await log.append('Tick', { i });
    // A clock that steps back must not reopen an older file: name order is chain order.
    clock.set(Date.UTC(2026, 0, 5, 12, 0, 0, 0));
    await log.append('Tick', { back: true });
    clock.set(Date.UTC(2026, 0, 7, 9, 0, 0, 0));
    await Promise.all([log.append('Tick', { i: 1 }), log.append('Tick', { i: 2 })]);
    await log.close();

    const files = auditFiles(d);
    assert.ok(files.length >= 5, files.join(', '));
    assert.equal(files[0], 'audit-2026-01-05.jsonl');
    assert.ok(files.includes('audit-2026-01-05.1.jsonl'));
    assert.ok(files.includes('audit-2026-01-06.jsonl'));
    assert.equal(files[files.length - 1], 'audit-2026-01-07.jsonl');
    for (const f of files) assert.ok(statSync(join(d, f)).size <= 1024, `${f} stays within rotateBytes`);
    const lines = readLines(d);
    assert.equal(lines.length, 26);
    let prev = '0'.repeat(64);
    lines.forEach(({ text }, i) => {
      const r = JSON.parse(text) as { seq: number; prev: string };
      assert.equal(r.seq, i + 1);
      assert.equal(r.prev, prev);
      prev = sha(text);
    });
    assert.equal(lines.find((l) => l.text.includes('"back":true'))?.file, 'audit-2026-01-06.jsonl');
    const report = await verifyAuditDir(d);
    assert.deepEqual([report.verified, report.lines, report.files], [true, 26, files.length]);

    const tail = await tailAudit(d, 5);
    assert.deepEqual(
      tail.map((r) => r.seq),
      [22, 23, 24, 25, 26],
    );
    assert.equal((await tailAudit(d, 1000)).length, 26);
    assert.deepEqual(await tailAudit(d, 0), []);
  });

  it('keeps one file when daily rotation is off', async () => {
    const d = dir('nodaily');
    const clock = new TestClock(Date.UTC(2026, 0, 5, 12));
    const { log } = await AuditLog.open(d, { clock, rotateDaily: false });
    await log.append('A', {});
    clock.advance(3 * 86_400_000);
    await log.append('B', {});
    await log.close();
    assert.deepEqual(auditFiles(d), ['audit-2026-01-05.jsonl']);
  });

  it("a file in the place of its folder: an error naming it and saying so (not mkdir's EEXIST), the file untouched", async () => {
    const dir = tempDir('file-in-place');
    try {
      const audit = join(dir, 'audit');
      writeFileSync(audit, 'not a folder\n');
      await assert.rejects(
        AuditLog.open(audit),
        (e: unknown) =>
          e instanceof StateFileError &&
          e.file === audit &&
          /a file is in the place of the audit log folder/.test(e.message) &&
          !/EEXIST/.test(e.message),
      );
      assert.equal(readFileSync(audit, 'utf8'), 'not a folder\n');
      // The folder is free again: a second open (once the file is moved) is not refused as "already open".
      rmSync(audit);
      const { log } = await AuditLog.open(audit);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('group-commits 10,000 appends issued at once, in call order, each exactly once', async () => {
    const d = dir('concurrent');
    const { log } = await AuditLog.open(d, { rotateBytes: 256 * 1024 });
    const promises = Array.from({ length: 10_000 }, (_, i) => log.append('Tick', { i }));
    const records = await Promise.all(promises);
    records.forEach((r, i) => {
      assert.equal(r.seq, i + 1);
      assert.equal(r.data['i'], i);
    });
    const stats = log.stats();
    await log.close();
    assert.equal(stats.lines, 10_000);
    assert.ok(stats.fsyncs < 100, `fsyncs ${stats.fsyncs} should be far fewer than lines`);
    const lines = readLines(d);
    assert.equal(lines.length, 10_000);
    lines.forEach(({ text }, i) => {
      const r = JSON.parse(text) as { seq: number; data: { i: number } };
      assert.equal(r.seq, i + 1);
      assert.equal(r.data.i, i);
    });
    assert.ok(auditFiles(d).length > 1, 'rotated by size while batching');
    assert.equal((await verifyAuditDir(d)).verified, true);
  });

  it('writes a batch whose lines fill several chunks, one line longer than a chunk, byte for byte', async () => {
    const d = dir('chunks');
    const clock = new TestClock();
    const { log } = await AuditLog.open(d, { clock });
    const notes = ['€𝄞 short', 'x'.repeat(100_000), 'ü'.repeat(30_000), 'tail'];
    const appends = [];
    for (let i = 0; i < 400; i++) appends.push(log.append('Note', { i, note: notes[i % notes.length] }));
    const records = await Promise.all(appends);
    // A second batch reuses the first's written chunks; its lines must not carry the old bytes.
    const later = await Promise.all([log.append('Note', { i: 400, note: 'after' }), log.append('Note', { i: 401 })]);
    await log.close();
    const lines = readLines(d);
    assert.equal(lines.length, 402);
    let prev = '0'.repeat(64);
    [...records, ...later].forEach((record, i) => {
      const text = lines[i]?.text ?? '';
      const parsed = JSON.parse(text) as { data: { i: number; note?: string }; prev: string; hash: string };
      assert.equal(parsed.data.i, i);
      assert.equal(parsed.data.note, i < 400 ? notes[i % notes.length] : i === 400 ? 'after' : undefined);
      assert.equal(parsed.prev, prev);
      assert.equal(parsed.hash, record.hash);
      prev = sha(text);
    });
    assert.equal((await verifyAuditDir(d)).verified, true);
  });

  it('on a system with O_DSYNC, a batch is one durable writev and no fdatasync', async function () {
    if (process.platform === 'win32') this.skip();
    const d = dir('dsync');
    const calls = { writev: 0, write: 0, datasync: 0 };
    const fileSystem: AuditFileSystem = {
      syncDirectory: (path: string) => nodeAuditFileSystem.syncDirectory(path),
      async openForAppend(path: string) {
        const real = await nodeAuditFileSystem.openForAppend(path);
        assert.equal(real.durableWrites, true);
        return {
          durableWrites: true,
          writev: (buffers: Uint8Array[]) => (
            calls.writev++,
            (real.writev as NonNullable<typeof real.writev>)(buffers)
          ),
          write: (b: Uint8Array, o: number, l: number) => (calls.write++, real.write(b, o, l)),
          datasync: () => (calls.datasync++, real.datasync()),
          close: () => real.close(),
        };
      },
    };
    const { log } = await AuditLog.open(d, { fileSystem });
    await Promise.all(Array.from({ length: 500 }, (_, i) => log.append('Note', { i, note: 'x'.repeat(300) })));
    const stats = log.stats();
    await log.close();
    assert.equal(calls.datasync, 0);
    assert.equal(calls.write, 0);
    assert.equal(calls.writev, stats.batches);
    assert.equal(readLines(d).length, 500);
    assert.equal((await verifyAuditDir(d)).verified, true);
  });

  it('a file that writes only part of a writev gets the rest written, in order, byte for byte', async () => {
    const d = dir('shortwritev');
    let writevs = 0;
    let datasyncs = 0;
    const fileSystem: AuditFileSystem = {
      syncDirectory: (path: string) => nodeAuditFileSystem.syncDirectory(path),
      async openForAppend(path: string) {
        const real = await nodeAuditFileSystem.openForAppend(path);
        return {
          // Takes only the first 1,000 bytes of each writev (ENOSPC-free short writes happen on pipes and
          // some file systems), and is not O_DSYNC: the log must still sync it.
          async writev(buffers: Uint8Array[]) {
            writevs++;
            const all = Buffer.concat(buffers);
            return real.write(all, 0, Math.min(1000, all.length));
          },
          write: (b: Uint8Array, o: number, l: number) => real.write(b, o, Math.min(l, 700)),
          datasync: async () => {
            datasyncs++;
            await real.datasync();
          },
          close: () => real.close(),
        };
      },
    };
    const { log } = await AuditLog.open(d, { fileSystem });
    const records = await Promise.all(
      Array.from({ length: 300 }, (_, i) => log.append('Note', { i, note: 'ü'.repeat(i % 500) })),
    );
    await log.close();
    assert.ok(writevs > 0);
    assert.ok(datasyncs > 0, 'a file without durable writes is synced');
    const lines = readLines(d);
    assert.equal(lines.length, 300);
    lines.forEach(({ text }, i) => assert.equal((JSON.parse(text) as { hash: string }).hash, records[i]?.hash));
    assert.equal((await verifyAuditDir(d)).verified, true);
  });

  it('batches concurrent callers that each wait for their own ack', async () => {
    const d = dir('writers');
    const { log } = await AuditLog.open(d);
    let next = 0;
    const seen: number[] = [];
    const writer = async (): Promise<void> => {
      while (next < 2000) {
        const r = await log.append('Tick', { n: next++ });
        seen.push(r.seq);
      }
    };
    await Promise.all(Array.from({ length: 16 }, writer));
    const stats = log.stats();
    await log.close();
    assert.equal(seen.length, 2000);
    assert.ok(stats.fsyncs < 2000 / 4, `fsyncs ${stats.fsyncs}`);
    assert.equal(stats.largestBatch >= 8, true);
    assert.equal((await verifyAuditDir(d)).lines, 2000);
  });

  it('appendMany is all or none', async () => {
    const d = dir('many');
    const { log } = await AuditLog.open(d);
    assert.throws(
      () =>
        log.appendMany([
          { type: 'A', data: {} },
          { type: 'B', data: { token: 't' } },
        ]),
      AuditSecretError,
    );
    const records = await log.appendMany([
      { type: 'A', data: {} },
      { type: 'B', data: { x: 1 } },
    ]);
    assert.deepEqual(
      records.map((r) => r.seq),
      [1, 2],
    );
    await log.flush();
    await log.close();
    assert.equal(readLines(d).length, 2);
  });

  describe('secrets', () => {
    it('refuses data holding a secret-looking key, synchronously, writing nothing', async () => {
      const d = dir('secret');
      const { log } = await AuditLog.open(d);
      await log.append('Connect', { venue: 'alpaca' });
      for (const data of [
        { apiKey: 'sk_live_SECRETVALUE' },
        { nested: { deeper: [{ api_key: 'sk_live_SECRETVALUE' }] } },
        { headers: { Authorization: 'Bearer x' } },
        { PRIVATE_KEY: 'k' },
        { refreshToken: null },
      ]) {
        assert.throws(
          () => log.append('Connect', data),
          (e: unknown) =>
            e instanceof AuditSecretError &&
            /redactSecrets/.test(e.message) &&
            !e.message.includes('sk_live_SECRETVALUE'),
        );
      }
      const ok = await log.append('Connect', { apiKey: '[redacted]', passwordSet: '[redacted]' });
      assert.equal(ok.seq, 2);
      await log.close();
      const lines = readLines(d);
      assert.equal(lines.length, 2);
      assert.ok(!lines.some((l) => l.text.includes('sk_live_SECRETVALUE') || l.text.includes('Bearer')));
    });

    it('names where the secret is', () => {
      const e = new AuditSecretError('Connect', ['data.broker.apiKey']);
      assert.match(e.message, /data\.broker\.apiKey/);
    });

    it('redactSecrets replaces secret values in nested objects and arrays and leaves the input alone', () => {
      const input = {
        venue: 'oanda',
        apiKey: 'sk_live_SECRETVALUE',
        accounts: [{ id: 1, token: 'tok', settings: { passphrase: { nested: 'x' } } }, 'plain'],
        headers: { 'x-api-key': 'k', Authorization: 'Bearer y', accept: 'json' },
        when: new Date(Date.UTC(2026, 0, 5)),
      };
      const out = redactSecrets(input);
      assert.deepEqual(out, {
        venue: 'oanda',
        apiKey: '[redacted]',
        accounts: [{ id: 1, token: '[redacted]', settings: { passphrase: '[redacted]' } }, 'plain'],
        headers: { 'x-api-key': '[redacted]', Authorization: '[redacted]', accept: 'json' },
        when: '2026-01-05T00:00:00.000Z',
      });
      assert.equal(input.apiKey, 'sk_live_SECRETVALUE');
    });

    it('the redact option redacts instead of refusing', async () => {
      const d = dir('redact');
      const { log } = await AuditLog.open(d, { redact: redactSecrets });
      const r = await log.append('Connect', { apiKey: 'sk_live_SECRETVALUE', user: 'u' });
      await log.close();
      assert.deepEqual(r.data, { apiKey: '[redacted]', user: 'u' });
      assert.ok(!readFileSync(join(d, auditFiles(d)[0] as string), 'utf8').includes('sk_live_SECRETVALUE'));
    });
  });

  it('refuses data that JSON would silently change', async () => {
    const d = dir('badjson');
    const { log } = await AuditLog.open(d);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    assert.throws(() => log.append('X', { px: Number.NaN }), /data\.px: NaN is not a finite number/);
    assert.throws(() => log.append('X', { qty: 10n }), /data\.qty: a bigint/);
    assert.throws(() => log.append('X', { m: new Map() }), /data\.m: a Map/);
    assert.throws(() => log.append('X', cyclic), /data\.self: refers back to itself/);
    assert.throws(() => log.append('', {}), /non-empty string/);
    assert.equal(log.lastSeq, 0);
    await log.close();
    assert.deepEqual(readLines(d), []);
  });

  it('refuses a second writer on the same directory in one process', async () => {
    const d = dir('twice');
    const { log } = await AuditLog.open(d);
    await assert.rejects(AuditLog.open(d), /already open in this process/);
    await log.close();
    const again = await AuditLog.open(d);
    await again.log.close();
  });

  it('refuses appends after close', async () => {
    const d = dir('closed');
    const { log } = await AuditLog.open(d);
    const pending = log.append('A', {});
    const closing = log.close();
    await assert.rejects(
      log.append('B', {}),
      (e: unknown) => e instanceof AuditLogFailedError && /closed/.test(e.message),
    );
    await pending;
    await closing;
    assert.equal(log.state, 'closed');
    assert.equal(readLines(d).length, 1);
  });

  describe('write failure', () => {
    /** node:fs, except that the chosen fdatasync fails like a dying disk would. */
    function failingFileSystem(failOnSync: number): AuditFileSystem & { syncs: number } {
      const fs = {
        syncs: 0,
        syncDirectory: (path: string) => nodeAuditFileSystem.syncDirectory(path),
        async openForAppend(path: string) {
          const real = await nodeAuditFileSystem.openForAppend(path);
          return {
            write: (b: Uint8Array, o: number, l: number) => real.write(b, o, l),
            close: () => real.close(),
            datasync: async () => {
              fs.syncs++;
              if (fs.syncs === failOnSync) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
              await real.datasync();
            },
          };
        },
      };
      return fs;
    }

    it('rejects the batch that failed, then every later append, with a clear error', async () => {
      const d = dir('fail');
      const { log } = await AuditLog.open(d, { fileSystem: failingFileSystem(2) });
      const ok = await log.append('A', { n: 0 });
      assert.equal(ok.seq, 1);
      const batch = Array.from({ length: 50 }, (_, n) => log.append('A', { n }));
      const results = await Promise.allSettled(batch);
      assert.ok(results.every((r) => r.status === 'rejected'));
      const reason: unknown = (results[0] as PromiseRejectedResult).reason;
      assert.ok(reason instanceof AuditLogFailedError);
      assert.match(reason.message, /could not write .*audit-\d{4}-\d{2}-\d{2}\.jsonl \(EIO/);
      assert.match(reason.message, /from seq 2 on are not durable/);
      assert.match(reason.message, /stop trading/);
      assert.equal(log.state, 'failed');
      await assert.rejects(log.append('B', {}), (e: unknown) => e === reason);
      await assert.rejects(log.flush(), (e: unknown) => e === reason);
      await log.close();
      // The lines written before the failed sync may or may not be on disk; what is there still verifies.
      const reopened = await AuditLog.open(d);
      assert.equal(reopened.recovery.verified, true);
      assert.ok(reopened.log.lastSeq >= 1);
      await reopened.log.close();
    });

    it('rejects lines queued behind the failing batch too', async () => {
      const d = dir('failqueue');
      const { log } = await AuditLog.open(d, { fileSystem: failingFileSystem(1) });
      const first = log.append('A', {});
      // Queued while the first batch is in flight, so they form the next batch that will never run.
      await new Promise((r) => setImmediate(r));
      const queued = log.append('B', {});
      await assert.rejects(first, AuditLogFailedError);
      await assert.rejects(queued, AuditLogFailedError);
      await log.close();
    });

    it('fails, acknowledging nothing more, when its file or its whole folder is deleted while it is open', async () => {
      for (const what of ['file', 'folder'] as const) {
        const parent = dir(`deleted-${what}`);
        const d = join(parent, 'audit');
        const { log } = await AuditLog.open(d);
        assert.equal((await log.append('A', { n: 1 })).seq, 1);
        if (what === 'file') for (const f of auditFiles(d)) rmSync(join(d, f));
        else rmSync(parent, { recursive: true, force: true });
        // The open file still takes writes, to a file no one can read again: refused instead.
        await assert.rejects(
          log.append('SubmitOrder', { n: 2 }),
          (e: unknown) =>
            e instanceof AuditLogFailedError &&
            /could not write .*audit-\d{4}-\d{2}-\d{2}\.jsonl \(the file was deleted while the log was open/.test(
              e.message,
            ) &&
            /from seq 2 on are not durable/.test(e.message),
          what,
        );
        assert.equal(log.state, 'failed', what);
        await log.close();
      }
    });

    it('fails when the file cannot be opened', async () => {
      const d = dir('failopen');
      const fileSystem: AuditFileSystem = {
        syncDirectory: (path: string) => nodeAuditFileSystem.syncDirectory(path),
        openForAppend: () =>
          Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })),
      };
      const { log } = await AuditLog.open(d, { fileSystem });
      await assert.rejects(log.append('A', {}), /ENOSPC.*stop trading/);
      assert.equal(log.state, 'failed');
      await log.close();
      assert.deepEqual(auditFiles(d), []);
    });
  });
});
