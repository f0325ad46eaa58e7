/**
 * The audit log's tail read from the end (auditTail.ts) over logs the real AuditLog wrote, rotated into
 * several files: it equals the last N records of a whole read, leaves out a torn last line and says so,
 * reports a damaged line by its place, and says why an empty or missing folder gives nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { TestClock } from '../../../src/common/clock';
import { AuditLog, type AuditRecord } from '../../../src/execution/audit/auditLog';
import { auditTailNotes, readAuditTail, tailAudit } from '../../../src/execution/audit/auditTail';
import { auditFiles, tempDir } from './helpers';

const ROTATE_BYTES = 4096;

/** `count` records written by the real log, rotated by size into several files; some data is multi-byte UTF-8. */
async function writeLog(dir: string, count: number): Promise<void> {
  const { log } = await AuditLog.open(dir, {
    clock: new TestClock(Date.UTC(2026, 0, 5, 9)),
    rotateBytes: ROTATE_BYTES,
  });
  for (let i = 0; i < count; i++)
    await log.append(i % 3 ? 'OrderFilled' : 'SubmitOrder', {
      clientOrderId: `c-${i}`,
      note: i % 4 ? 'plain' : `é€😀 ${'x'.repeat(i % 37)}`,
      qty: 100 + i,
    });
  await log.close();
}

/** The records of a whole read of every file, oldest first; lines that are not records skipped. */
function fullRead(dir: string): AuditRecord[] {
  return auditFiles(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .flatMap((l) => {
        try {
          const r = JSON.parse(l) as Partial<AuditRecord>;
          return typeof r.hash === 'string' ? [r as AuditRecord] : [];
        } catch {
          return [];
        }
      }),
  );
}

const lineCount = (path: string): number => readFileSync(path, 'utf8').split('\n').length - 1;
const newestPath = (dir: string): string => join(dir, auditFiles(dir).at(-1) as string);

describe('audit tail', () => {
  const dirs: string[] = [];
  const dir = (label: string): string => {
    const d = tempDir(label);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  let log: string;
  let all: AuditRecord[];
  before(async () => {
    log = dir('rotated');
    await writeLog(log, 120);
    all = fullRead(log);
  });

  it('reads N smaller than, equal to and larger than the newest file, walking back through older files', async () => {
    const files = auditFiles(log);
    assert.ok(files.length >= 4, `rotation made several files: ${files.join(', ')}`);
    assert.equal(all.length, 120);
    const inNewest = lineCount(newestPath(log));
    const inTwoNewest = inNewest + lineCount(join(log, files.at(-2) as string));
    const cases: Array<[number, number]> = [
      [1, 1],
      [inNewest - 1, 1],
      [inNewest, 1],
      [inNewest + 1, 2],
      [inTwoNewest, 2],
      [inTwoNewest + 1, 3],
      [120, files.length],
      [500, files.length],
    ];
    for (const [n, filesRead] of cases) {
      const tail = await readAuditTail(log, n);
      assert.deepEqual(tail.records, all.slice(-n), `n = ${n}`);
      assert.equal(tail.filesRead, filesRead, `files read for n = ${n}`);
      assert.equal(tail.newestFile, newestPath(log));
      assert.deepEqual([tail.problems, tail.problemCount, tail.tornTail, tail.note], [[], 0, undefined, undefined]);
      assert.deepEqual(auditTailNotes(tail), []);
    }
    assert.deepEqual((await readAuditTail(log, 0)).records, []);
    assert.deepEqual(await tailAudit(log, 7), all.slice(-7));
  });

  it('equals the last N of a whole read for any N and any chunk size (lines spanning chunks, multi-byte text)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 130 }), fc.integer({ min: 1, max: 600 }), async (n, chunkBytes) => {
        const tail = await readAuditTail(log, n, { chunkBytes });
        assert.deepEqual(tail.records, n === 0 ? [] : all.slice(-n));
        assert.equal(tail.problemCount, 0);
      }),
      { numRuns: 60 },
    );
  });

  it('leaves out a torn last line and says so', async () => {
    const d = dir('torn');
    await writeLog(d, 30);
    const whole = fullRead(d);
    const newest = newestPath(d);
    const torn = '{"seq":31,"ts":1767603600000,"type":"OrderFil';
    appendFileSync(newest, torn);
    for (const chunkBytes of [5, 64, 65_536]) {
      const tail = await readAuditTail(d, 10, { chunkBytes });
      assert.deepEqual(tail.records, whole.slice(-10));
      assert.deepEqual(tail.tornTail, { file: newest, bytes: torn.length });
      assert.equal(tail.problemCount, 0);
    }
    const notes = auditTailNotes(await readAuditTail(d, 10));
    assert.equal(notes.length, 1);
    assert.match(
      notes[0] ?? '',
      new RegExp(`^Left out: the last ${torn.length} bytes of .*audit-.*\\.jsonl, a line with no newline`),
    );
    // Re-opened, the log cuts the torn line off, and the tail has nothing more to say.
    const { log: reopened } = await AuditLog.open(d);
    await reopened.close();
    assert.equal((await readAuditTail(d, 10)).tornTail, undefined);
  });

  it('reports a damaged line in the middle of the tail by its place, and still returns N records', async () => {
    const d = dir('damaged');
    await writeLog(d, 30);
    const newest = newestPath(d);
    const lines = readFileSync(newest, 'utf8').split('\n').slice(0, -1);
    assert.ok(lines.length >= 5, `${lines.length} lines in the newest file`);
    const garbledAt = lines.length - 2; // 0-based: the third line from the end
    const notRecordAt = lines.length - 4;
    const garbledSeq = (JSON.parse(lines[garbledAt] as string) as AuditRecord).seq;
    const notRecordSeq = (JSON.parse(lines[notRecordAt] as string) as AuditRecord).seq;
    lines[garbledAt] = `${(lines[garbledAt] as string).slice(0, 20)}#####`;
    lines[notRecordAt] = '{"seq":1,"note":"hand-written"}';
    writeFileSync(newest, lines.map((l) => `${l}\n`).join(''));
    const offsetOf = (i: number): number =>
      Buffer.byteLength(
        lines
          .slice(0, i)
          .map((l) => `${l}\n`)
          .join(''),
      );

    const kept = fullRead(d);
    for (const chunkBytes of [3, 100, 65_536]) {
      const tail = await readAuditTail(d, 6, { chunkBytes });
      assert.deepEqual(tail.records, kept.slice(-6), `chunk ${chunkBytes}`);
      assert.ok(!tail.records.some((r) => r.seq === garbledSeq || r.seq === notRecordSeq));
      assert.deepEqual(
        tail.problems.map((p) => ({ file: p.file, offset: p.offset, lineFromEnd: p.lineFromEnd, kind: p.kind })),
        [
          { file: newest, offset: offsetOf(garbledAt), lineFromEnd: 2, kind: 'invalid-json' },
          { file: newest, offset: offsetOf(notRecordAt), lineFromEnd: 4, kind: 'not-a-record' },
        ],
      );
      assert.equal(tail.problemCount, 2);
    }
    const notes = auditTailNotes(await readAuditTail(d, 6));
    assert.match(
      notes[0] ?? '',
      /^Skipped: .*audit-.*\.jsonl, line 2 from the end \(byte \d+\): the line is not valid JSON/,
    );
    assert.match(notes[1] ?? '', /line 4 from the end \(byte \d+\): unexpected field "note"/);
  });

  it('gives an empty tail with a clear note for a missing folder and for a folder without audit files', async () => {
    const missing = join(dir('missing'), 'audit');
    const none = await readAuditTail(missing, 10);
    assert.deepEqual([none.records, none.filesRead, none.newestFile], [[], 0, undefined]);
    assert.match(none.note ?? '', /audit does not exist \(nothing written yet\)$/);
    assert.deepEqual(auditTailNotes(none), [`No audit log to read: ${none.note}.`]);

    const empty = dir('empty');
    writeFileSync(join(empty, 'notes.txt'), 'not an audit file\n');
    const nothing = await readAuditTail(empty, 10);
    assert.deepEqual(nothing.records, []);
    assert.match(nothing.note ?? '', /holds no audit files/);

    // A log whose only file is empty (a rotation just made it) has no note: it is there, with nothing in it.
    const fresh = dir('fresh');
    writeFileSync(join(fresh, 'audit-2026-01-05.jsonl'), '');
    const blank = await readAuditTail(fresh, 10);
    assert.deepEqual([blank.records, blank.note, blank.tornTail], [[], undefined, undefined]);
  });

  it('refuses a bad N and names a directory standing in for an audit file', async () => {
    await assert.rejects(readAuditTail(log, -1), /n must be a whole number/);
    await assert.rejects(readAuditTail(log, 1.5), /n must be a whole number/);
    const d = dir('dir-file');
    mkdirSync(join(d, 'audit-2026-01-05.jsonl'));
    await assert.rejects(
      readAuditTail(d, 1),
      /audit-2026-01-05\.jsonl: a folder is in the place of this audit log file/,
    );
    assert.ok(statSync(join(d, 'audit-2026-01-05.jsonl')).isDirectory());
  });

  it('names a named pipe or a link standing in for an audit file, at once (opening the pipe waited for a writer)', async function () {
    if (process.platform === 'win32') this.skip();
    const d = dir('fifo');
    execFileSync('mkfifo', [join(d, 'audit-2026-01-05.jsonl')]);
    await assert.rejects(
      readAuditTail(d, 5),
      /audit-2026-01-05\.jsonl: a named pipe is in the place of this audit log file/,
    );
    const l = dir('link');
    symlinkSync(join(log, auditFiles(log)[0] as string), join(l, 'audit-2026-01-05.jsonl'));
    await assert.rejects(
      readAuditTail(l, 5),
      (e: Error) => /audit-2026-01-05\.jsonl/.test(e.message) && /link/i.test(e.message),
    );
  });
});
