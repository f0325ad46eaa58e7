/**
 * Request lines written in pieces (src/python/requestLine.ts): the text is JSON.stringify's for the same
 * body (raw members last), the bytes on the stream are its UTF-8, and a kept buffer is never written over
 * while the stream still holds it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { columnsJson, encodeColumn, prepareColumns } from '../../../src/python/batchColumns';
import { RequestLineWriter, RawJson, requestParts } from '../../../src/python/requestLine';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';

/** A stream that keeps every chunk as it was handed over and finishes a write only when told. */
class HeldStream extends Writable {
  readonly chunks: Buffer[] = [];
  readonly copies: Buffer[] = [];
  private readonly finishers: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 1 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    this.copies.push(Buffer.from(chunk));
    this.finishers.push(done);
  }
  finishAll(): void {
    while (this.finishers.length > 0) this.finishers.shift()?.();
  }
}

describe('request lines written in pieces', () => {
  it('requestParts gives the text of JSON.stringify, raw members after the rest', () => {
    const columns = [
      encodeColumn([1.5, 2.25, 3]),
      encodeColumn([1, 2, 3]),
      encodeColumn(['a', 'é\u{1F600}', '"quoted"\\']),
      encodeColumn([null, 'x', { a: [1] }]),
    ];
    const keys = ['p', 'q', 'r', 's'];
    const text = requestParts({ op: 'run_batch', id: 'abc', keys, columns: columnsJson(columns), size: 3 }).join('');
    assert.equal(text, JSON.stringify({ op: 'run_batch', id: 'abc', keys, size: 3, columns }));
    assert.equal(requestParts({ only: new RawJson(['[1', ',2]']) }).join(''), '{"only":[1,2]}');
    assert.equal(requestParts({ a: 1 }).join(''), '{"a":1}');
  });

  it('columnsJson is JSON.stringify of the encoded columns (generated)', () => {
    const value = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.boolean());
    const column = fc.oneof(
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 3, maxLength: 3 }),
      fc.array(fc.oneof(fc.double(), fc.integer()), { minLength: 3, maxLength: 3 }),
      fc.array(fc.string(), { minLength: 3, maxLength: 3 }),
      fc.array(value, { minLength: 3, maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.array(column, { maxLength: 5 }), (raw) => {
        const encoded = raw.map(encodeColumn);
        assert.equal(columnsJson(encoded).parts.join(''), JSON.stringify(encoded));
        const keys = raw.map((_, c) => `k${c}`);
        const prepared = prepareColumns({ keys, columns: raw, size: 3 });
        assert.equal(prepared.json.parts.join(''), JSON.stringify(encoded));
        assert.equal(prepared.size, 3);
      }),
      { numRuns: 300 },
    );
  });

  it('a large line is its UTF-8 bytes, and a buffer the stream still holds is not written over', async () => {
    const writer = new RequestLineWriter();
    const stream = new HeldStream();
    const big = (mark: string): string[] => requestParts({ id: mark, text: `${mark}é\u{1F600}`.repeat(20_000) });
    const lines = ['one', 'two', 'six'].map(big);
    const expected = [...lines.map((p) => `${p.join('')}\n`), '{"id":"small"}\n'];
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    // The second line comes before the stream has finished the first: it gets a buffer of its own.
    writer.write(stream, lines[0] as string[]);
    writer.write(stream, lines[1] as string[]);
    stream.finishAll();
    await settle();
    stream.finishAll();
    await settle();
    // Both finished: the third line (as long as the first) reuses the kept buffer (the first line's), and the second is untouched.
    writer.write(stream, lines[2] as string[]);
    stream.finishAll();
    await settle();
    writer.write(stream, requestParts({ id: 'small' }));
    stream.finishAll();
    await settle();
    assert.equal(stream.copies.length, 4);
    stream.copies.forEach((copy, n) => assert.equal(copy.toString('utf8'), expected[n]));
    const [first, second, third] = stream.chunks as [Buffer, Buffer, Buffer];
    assert.ok(second.buffer !== first.buffer, 'the second line got a buffer of its own');
    assert.ok(third.buffer === first.buffer, 'the third line reused the kept buffer');
    assert.equal(second.toString('utf8'), expected[1]);
  });

  it('says a line was sent only once the stream has taken it, large or small', async () => {
    const writer = new RequestLineWriter();
    const stream = new HeldStream();
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const said: string[] = [];
    writer.write(stream, requestParts({ id: 'large', text: 'x'.repeat(100_000) }), () => said.push('large'));
    writer.write(stream, requestParts({ id: 'small' }), () => said.push('small'));
    await settle();
    assert.deepEqual(said, [], 'nothing is said while the stream holds the lines');
    stream.finishAll();
    await settle();
    stream.finishAll();
    await settle();
    assert.deepEqual(said, ['large', 'small']);
  });
});

describe('a batch request leaving for the worker (replay prepares the next batch after it)', () => {
  it('the Python worker calls onSent once, before its answer, for a request larger than a pipe holds', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-onsent-'));
    const file = join(dir, 'never.py');
    writeFileSync(file, 'class Never:\n    def generate_order(self, market_data, signal=None):\n        return None\n');
    const worker = new PythonWorker({ interpreter: await resolveInterpreter(defaultInterpreterCandidates()) });
    try {
      const size = 20_000;
      const events: string[] = [];
      const prices = Array.from({ length: size }, (_, i) => 1.1 + i * 1e-5);
      const answer = worker
        .runBatch({ file, common: {}, keys: ['bid'], columns: [prices], size, onSent: () => events.push('sent') })
        .then((r) => (events.push('answer'), r));
      const r = await answer;
      assert.equal(r.ok, true, JSON.stringify(r.error));
      assert.equal(r.done, size);
      assert.deepEqual(events, ['sent', 'answer']);
    } finally {
      await worker.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
