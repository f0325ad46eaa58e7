/**
 * The reader that splits the harness's end-of-run marks out of its stderr (src/python/outputMarks.ts): marks and
 * UTF-8 characters cut anywhere by the pipe's chunks, bytes that only look like the start of a mark, and a mark's
 * beginning left at the end of the stream.
 */
import assert from 'node:assert/strict';
import { OutputMarks } from '../../../src/python/outputMarks';

const ID_A = 'a'.repeat(32);
const ID_B = '0123456789abcdef0123456789abcdef';
const mark = (id: string): string => `\0SPTRADER_SYNC:${id}\0`;

function readAll(chunks: Buffer[]): { text: string; bytes: number; marks: string[] } {
  const reader = new OutputMarks();
  let text = '';
  let bytes = 0;
  const marks: string[] = [];
  for (const chunk of [...chunks.map((c) => reader.push(c)), reader.flush()]) {
    text += chunk.text;
    bytes += chunk.bytes;
    marks.push(...chunk.marks);
  }
  return { text, bytes, marks };
}

describe('output marks on the harness’s stderr', () => {
  const output = `été 1\n${mark(ID_A)}€ two\0SPTRADER_SYNC:not-a-mark\0 three ${mark(ID_B)}\0SPTRADER`;
  const whole = Buffer.from(output, 'utf8');
  const expected = `été 1\n€ two\0SPTRADER_SYNC:not-a-mark\0 three \0SPTRADER`;

  it('takes the marks out, in order, and counts only the rest as output', () => {
    const r = readAll([whole]);
    assert.equal(r.text, expected);
    assert.deepEqual(r.marks, [ID_A, ID_B]);
    assert.equal(r.bytes, Buffer.byteLength(expected));
  });

  it('gives the same whatever the chunks: cut once at every byte, and byte by byte', () => {
    for (let at = 0; at <= whole.length; at++) {
      const r = readAll([whole.subarray(0, at), whole.subarray(at)]);
      assert.equal(r.text, expected, `cut at ${at}`);
      assert.deepEqual(r.marks, [ID_A, ID_B], `cut at ${at}`);
    }
    const bytes = readAll([...whole].map((b) => Buffer.from([b])));
    assert.equal(bytes.text, expected);
    assert.deepEqual(bytes.marks, [ID_A, ID_B]);
  });
});
