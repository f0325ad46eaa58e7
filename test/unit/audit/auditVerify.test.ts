import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { canonicalJson } from '../../../src/execution/audit/canonicalJson';
import { auditFiles, tempDir } from './helpers';

/** A log of `count` lines over two files (rotation by day after `split` lines). */
async function writeLog(dir: string, count: number, split = count): Promise<void> {
  const clock = new TestClock(Date.UTC(2026, 0, 5, 9));
  const { log } = await AuditLog.open(dir, { clock });
  for (let i = 0; i < count; i++) {
    if (i === split) clock.advance(86_400_000);
    await log.append(i % 2 ? 'OrderFilled' : 'SubmitOrder', { clientOrderId: `c-${i}`, qty: 100 + i, px: 1.25 });
  }
  await log.close();
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

describe('audit verification', () => {
  const dirs: string[] = [];
  const dir = (label: string): string => {
    const d = tempDir(label);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('reports the file and line of a changed byte', async () => {
    const d = dir('tamper');
    await writeLog(d, 20, 10);
    const second = join(d, auditFiles(d)[1] as string);
    const text = lines(second);
    // Line 4 of the second file: quantity 113 becomes 913, still valid JSON.
    text[3] = (text[3] as string).replace('"qty":113', '"qty":913');
    writeFileSync(second, text.map((l) => `${l}\n`).join(''));
    const report = await verifyAuditDir(d);
    assert.equal(report.verified, false);
    const problem = report.problems.find((p) => p.kind === 'hash-mismatch');
    assert.deepEqual(problem && { file: problem.file, line: problem.line, seq: problem.seq }, {
      file: second,
      line: 4,
      seq: 14,
    });
    // The line after it no longer links to it.
    assert.ok(report.problems.some((p) => p.kind === 'prev-mismatch' && p.file === second && p.line === 5));
    assert.equal(report.tornTailBytes, 0);
  });

  it('reports a byte change that breaks the JSON', async () => {
    const d = dir('tamperjson');
    await writeLog(d, 5);
    const file = join(d, auditFiles(d)[0] as string);
    const bytes = readFileSync(file);
    const offset = bytes.indexOf('"type"', bytes.indexOf('\n') + 1);
    bytes[offset] = 0x7b;
    writeFileSync(file, bytes);
    const report = await verifyAuditDir(d);
    assert.ok(report.problems.some((p) => p.kind === 'invalid-json' && p.file === file && p.line === 2));
    assert.ok(report.problems.some((p) => p.kind === 'prev-mismatch' && p.line === 3));
    assert.equal(
      report.problems.filter((p) => p.kind === 'seq-gap').length,
      0,
      'an unreadable line still takes its seq',
    );
  });

  it('reports a deleted line as a seq gap', async () => {
    const d = dir('delete');
    await writeLog(d, 10);
    const file = join(d, auditFiles(d)[0] as string);
    const text = lines(file);
    text.splice(6, 1);
    writeFileSync(file, text.map((l) => `${l}\n`).join(''));
    const report = await verifyAuditDir(d);
    const gap = report.problems.find((p) => p.kind === 'seq-gap');
    assert.ok(gap, JSON.stringify(report.problems));
    assert.deepEqual({ file: gap.file, line: gap.line, seq: gap.seq }, { file, line: 7, seq: 8 });
    assert.match(gap.problem, /expected seq 7, found 8: 1 record\(s\) missing/);
  });

  it('reports a missing first file', async () => {
    const d = dir('nofirst');
    await writeLog(d, 6, 3);
    rmSync(join(d, auditFiles(d)[0] as string));
    const report = await verifyAuditDir(d);
    assert.deepEqual(report.problems.map((p) => p.kind).sort(), ['prev-mismatch', 'seq-start']);
  });

  it('reports an extra field and a secret added by hand', async () => {
    const d = dir('extra');
    await writeLog(d, 3);
    const file = join(d, auditFiles(d)[0] as string);
    const text = lines(file);
    text[0] = (text[0] as string).replace('{"seq"', '{"note":"x","seq"');
    text[1] = (text[1] as string).replace('"data":{', '"data":{"apiKey":"k",');
    writeFileSync(file, text.map((l) => `${l}\n`).join(''));
    const kinds = (await verifyAuditDir(d)).problems.map((p) => `${p.line}:${p.kind}`);
    assert.ok(kinds.includes('1:not-a-record'), kinds.join());
    assert.ok(kinds.includes('2:secret') && kinds.includes('2:hash-mismatch'), kinds.join());
  });

  it('opens a log with a broken middle, says so, and appends after the last line as written', async () => {
    const d = dir('brokenopen');
    await writeLog(d, 8);
    const file = join(d, auditFiles(d)[0] as string);
    const text = lines(file);
    text.splice(2, 1);
    writeFileSync(file, text.map((l) => `${l}\n`).join(''));
    const { log, recovery } = await AuditLog.open(d);
    assert.equal(recovery.verified, false);
    assert.equal(recovery.tornTailBytes, 0);
    assert.equal(log.lastSeq, 8);
    assert.equal((await log.append('X', {})).seq, 9);
    await log.close();
    const after = await verifyAuditDir(d);
    assert.deepEqual(
      after.problems.map((p) => p.line),
      [3, 3],
    );
  });

  describe('torn tail', () => {
    for (const [label, torn] of [
      ['a partial line', '{"seq":7,"ts":1767605400000,"type":"Subm'],
      ['a line that ends in a newline but is not JSON', '{"seq":7,"ts":17676\u0000\u0000\u0000\n'],
      ['a lone newline', '\n'],
    ] as const) {
      it(`cuts off exactly ${label} and continues the chain`, async () => {
        const d = dir('torn');
        await writeLog(d, 6, 3);
        const files = auditFiles(d);
        const newest = join(d, files[files.length - 1] as string);
        const before = readFileSync(newest);
        const older = readFileSync(join(d, files[0] as string));
        appendFileSync(newest, torn);
        const tornBytes = Buffer.byteLength(torn);

        const check = await verifyAuditDir(d);
        assert.deepEqual([check.verified, check.tornTailBytes, check.tornTailRemoved], [true, tornBytes, false]);
        assert.equal(statSync(newest).size, before.length + tornBytes, 'verify is read-only');

        const { log, recovery } = await AuditLog.open(d);
        assert.equal(recovery.tornTailBytes, tornBytes);
        assert.equal(recovery.tornTailFile, newest);
        assert.equal(recovery.tornTailRemoved, true);
        assert.equal(recovery.verified, true);
        assert.equal(recovery.lines, 6);
        assert.deepEqual(readFileSync(newest), before);
        assert.deepEqual(readFileSync(join(d, files[0] as string)), older);
        const next = await log.append('SubmitOrder', { clientOrderId: 'c-6' });
        assert.equal(next.seq, 7);
        await log.close();
        const after = await verifyAuditDir(d);
        assert.deepEqual([after.verified, after.lines, after.lastSeq], [true, 7, 7]);
      });
    }

    it('keeps a last line made invalid JSON by one changed byte: reported, never cut, the chain goes on after it', async () => {
      const d = dir('damagedLast');
      await writeLog(d, 4);
      const file = join(d, auditFiles(d)[0] as string);
      const text = lines(file);
      const damaged = `#${(text[3] as string).slice(1)}`;
      text[3] = damaged;
      writeFileSync(file, text.map((l) => `${l}\n`).join(''));
      const size = statSync(file).size;
      const { log, recovery } = await AuditLog.open(d);
      assert.equal(recovery.tornTailBytes, 0);
      assert.equal(recovery.verified, false);
      assert.ok(
        recovery.problems.some((p) => p.kind === 'invalid-json'),
        JSON.stringify(recovery.problems),
      );
      assert.equal(statSync(file).size, size, 'the damaged record is kept');
      await log.append('SubmitOrder', { clientOrderId: 'c-after' });
      await log.close();
      assert.ok(lines(file).includes(damaged), 'still there after more records');
      const after = await verifyAuditDir(d);
      assert.equal(after.verified, false, 'and still reported');
    });

    // Only the start of a record is what a write cut short leaves: anything else after the last line break was
    // cut off as a "torn write" (100 MB of it, text, a file of another shape), the bytes gone and the run trading on.
    for (const [label, stray] of [
      ['text that is not a record', 'hello trader'],
      ['JSON of another shape', '{"version":1}'],
      ['a run of spaces', ' '.repeat(4096)],
      ['zeros after a line that is not a record', '[1,2\u0000\u0000\n'],
    ] as const) {
      it(`keeps ${label} after the last line: reported, never cut; the next record starts a line of its own`, async () => {
        const d = dir('stray');
        await writeLog(d, 4);
        const file = join(d, auditFiles(d)[0] as string);
        const before = readFileSync(file);
        appendFileSync(file, stray);

        const check = await verifyAuditDir(d);
        assert.equal(check.verified, false);
        assert.equal(check.tornTailBytes, 0);
        assert.deepEqual(
          check.problems.map((p) => [p.file, p.line]),
          [[file, 5]],
          JSON.stringify(check.problems),
        );

        // The same day as writeLog's records: the next record goes to the same file.
        const { log, recovery } = await AuditLog.open(d, { clock: new TestClock(Date.UTC(2026, 0, 5, 10)) });
        assert.equal(recovery.tornTailBytes, 0);
        assert.equal(recovery.verified, false);
        const kept = readFileSync(file);
        assert.deepEqual(
          kept.subarray(0, before.length + Buffer.byteLength(stray)),
          Buffer.concat([before, Buffer.from(stray)]),
        );
        const next = await log.append('SubmitOrder', { clientOrderId: 'c-after' });
        await log.close();
        assert.equal(next.seq, 6, 'the stray line took a place in the chain, as a damaged line does');
        const last = lines(file).pop() as string;
        assert.ok(last.startsWith('{"seq":6,'), `the next record is a line of its own: ${last.slice(0, 40)}`);
        const after = await verifyAuditDir(d);
        assert.deepEqual(
          after.problems.map((p) => p.line),
          [5],
          'only the stray bytes are reported; the record after them verifies',
        );
      });
    }

    it('leaves a complete last line that is only damaged alone', async () => {
      const d = dir('notTorn');
      await writeLog(d, 4);
      const file = join(d, auditFiles(d)[0] as string);
      const text = lines(file);
      text[3] = (text[3] as string).replace('"qty":103', '"qty":104');
      writeFileSync(file, text.map((l) => `${l}\n`).join(''));
      const size = statSync(file).size;
      const { log, recovery } = await AuditLog.open(d);
      await log.close();
      assert.equal(recovery.tornTailBytes, 0);
      assert.equal(recovery.verified, false);
      assert.equal(statSync(file).size, size);
    });
  });

  it('says clearly when the folder does not exist', async () => {
    await assert.rejects(
      verifyAuditDir(join(dir('missing'), 'nope')),
      /nope: no audit log here: the folder does not exist/,
    );
  });
});

describe('canonical JSON', () => {
  it('is independent of key order and stable through parse and re-encode', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalJson({ v: value }).json;
        assert.equal(canonicalJson(JSON.parse(once) as unknown).json, once);
        const shuffled = JSON.parse(JSON.stringify({ v: value }), (_k, v: unknown) =>
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        ) as unknown;
        assert.equal(canonicalJson(shuffled).json, once);
      }),
      { numRuns: 300 },
    );
  });

  it("is JSON.stringify with every object's keys sorted, for any plain JSON value", () => {
    // Written out by hand: an object cannot hold "0" after "" (integer-like keys always come first).
    const sorted = (v: unknown): string =>
      v === null || typeof v !== 'object'
        ? JSON.stringify(v)
        : Array.isArray(v)
          ? `[${v.map(sorted).join(',')}]`
          : `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${sorted((v as Record<string, unknown>)[k])}`)
              .join(',')}}`;
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        assert.equal(canonicalJson(value).json, sorted(value));
      }),
      { numRuns: 500 },
    );
  });

  it('still names secret-looking keys and odd values, wherever they sit', () => {
    assert.deepEqual(canonicalJson({ a: [{ b: 1 }, { apiKey: 'x' }] }).secretPaths, ['data.a[1].apiKey']);
    assert.deepEqual(canonicalJson({ a: { token: '[redacted]' } }), {
      json: '{"a":{"token":"[redacted]"}}',
      secretPaths: [],
    });
    assert.throws(() => canonicalJson({ a: [1, { b: Number.NaN }] }), /data\.a\[1\]\.b: NaN is not a finite number/);
    assert.throws(() => canonicalJson({ m: new Map() }), /data\.m: a Map has no JSON form/);
    assert.equal(canonicalJson({ d: new Date(0) }).json, '{"d":"1970-01-01T00:00:00.000Z"}');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = { back: cyclic };
    assert.throws(() => canonicalJson(cyclic), /data\.self\.back: refers back to itself/);
  });
});
