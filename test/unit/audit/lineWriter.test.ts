/**
 * LineWriter writes a record's line as bytes without building it as a string: these tests hold it to the
 * string definitions of the format (hashInput, formatLine), byte for byte and hash for hash.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '../../../src/execution/audit/canonicalJson';
import { formatLine, GENESIS_PREV, hashInput, LineWriter, sha256Hex } from '../../../src/execution/audit/auditRecord';

// Text that exercises UTF-8: ASCII, two-, three- and four-byte characters, escapes, lone surrogates.
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('\ud800', 'a\udfffb', '"quoted"\\', '\n\t\u0000', 'EUR_USD', '€', '𝄞'),
);
const data = fc.dictionary(text, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

function expected(seq: number, ts: number, type: string, dataJson: string, prev: string) {
  const typeJson = JSON.stringify(type);
  const hash = sha256Hex(hashInput(seq, ts, typeJson, dataJson, prev));
  const line = formatLine(seq, ts, typeJson, dataJson, prev, hash);
  return { typeJson, hash, bytes: Buffer.from(`${line}\n`, 'utf8'), lineHash: sha256Hex(line) };
}

describe('LineWriter', () => {
  it('property: the bytes, hash and line hash are those of hashInput and formatLine', () => {
    const writer = new LineWriter();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 253402300799999 }),
        text.filter((t) => t !== ''),
        data,
        fc.oneof(fc.constant(GENESIS_PREV), hex64),
        fc.nat({ max: 50 }),
        (seq, ts, type, value, prev, at) => {
          const dataJson = canonicalJson(value).json;
          const want = expected(seq, ts, type, dataJson, prev);
          writer.prepare(seq, ts, want.typeJson, dataJson, prev);
          assert.equal(writer.hash, want.hash);
          assert.equal(writer.lineBytes, want.bytes.length);
          // Written at an offset into a buffer with other bytes around it, which must stay as they were.
          const into = Buffer.alloc(at + writer.lineBytes + 7, 0xab);
          const lineHash = writer.write(into, at);
          assert.equal(lineHash, want.lineHash);
          assert.deepEqual(into.subarray(at, at + writer.lineBytes), want.bytes);
          assert.ok(into.subarray(0, at).every((b) => b === 0xab));
          assert.ok(into.subarray(at + writer.lineBytes).every((b) => b === 0xab));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('grows its scratch space for data longer than it has room for, and stays right after', () => {
    const writer = new LineWriter();
    for (const size of [10, 20_000, 3, 300_000, 5]) {
      const dataJson = canonicalJson({ note: '€'.repeat(size), n: size }).json;
      const want = expected(size, 1_700_000_000_000, 'OrderFilled', dataJson, GENESIS_PREV);
      writer.prepare(size, 1_700_000_000_000, want.typeJson, dataJson, GENESIS_PREV);
      const into = Buffer.alloc(writer.lineBytes);
      assert.equal(writer.write(into, 0), want.lineHash);
      assert.deepEqual(into, want.bytes);
    }
  });
});
