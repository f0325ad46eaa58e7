/**
 * LineWriter writes a record's line as bytes without building it as a string: these tests hold it to the
 * string definitions of the format (hashInput, formatLine), byte for byte and hash for hash.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeInteger } from '../../../src/execution/audit/canonicalBytes';
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

  it('property: data encoded straight into the line (prepareData) gives the bytes and hash of its canonical JSON', () => {
    const writer = new LineWriter();
    // Values the byte encoder must leave to the careful encoder: it answers false and prepares nothing.
    const careful = fc.constantFrom<unknown>(NaN, Infinity, 1n, new Date(0), new Map(), { password: 'x' }, () => 1);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 253402300799999 }),
        text.filter((t) => t !== ''),
        fc.oneof(data, fc.record({ inner: data, odd: careful })),
        fc.oneof(fc.constant(GENESIS_PREV), hex64),
        (seq, ts, type, value, prev) => {
          const typeJson = JSON.stringify(type);
          writer.prepare(1, 2, '"before"', '{}', GENESIS_PREV);
          const before = { hash: writer.hash, lineBytes: writer.lineBytes };
          const handled = writer.prepareData(seq, ts, typeJson, value, prev);
          if (!handled) {
            assert.ok('odd' in value || canonicalJson(value).secretPaths.length > 0, 'only careful cases are left');
            assert.deepEqual({ hash: writer.hash, lineBytes: writer.lineBytes }, before);
            return;
          }
          const want = expected(seq, ts, type, canonicalJson(value).json, prev);
          assert.equal(writer.hash, want.hash);
          const into = Buffer.alloc(writer.lineBytes);
          assert.equal(writer.write(into, 0), want.lineHash);
          assert.deepEqual(into, want.bytes);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('objects of shapes seen before (same keys, other orders, one key more, a secret one) encode as their canonical JSON', () => {
    const writer = new LineWriter();
    const values: Array<Record<string, unknown>> = [
      { a: 1, b: 'x', c: [1, { z: 2, y: 3 }] },
      { b: 'x', a: 1, c: [1, { y: 3, z: 2 }] },
      { a: 1, b: 'x' },
      { a: 1, b: 'x', c: undefined, d: null },
      { a: 2, b: 'y', c: 3 },
      ...Array.from({ length: 5000 }, (_, i) => ({ a: i, [`k${i}`]: i })),
      { a: 1, b: 'x', c: 3 },
    ];
    for (const value of values) {
      assert.ok(writer.prepareData(1, 2, '"T"', value, GENESIS_PREV));
      const into = Buffer.alloc(writer.lineBytes);
      assert.equal(writer.write(into, 0), expected(1, 2, 'T', canonicalJson(value).json, GENESIS_PREV).lineHash);
    }
    // A secret-looking key after keys seen before goes to the careful encoder, every time.
    for (let i = 0; i < 2; i++)
      assert.equal(writer.prepareData(1, 2, '"T"', { a: 1, b: 'x', token: 't' }, GENESIS_PREV), false);
  });

  it('an enumerable key someone put on Object.prototype is not taken for the object own (the careful path)', () => {
    const writer = new LineWriter();
    const value = { a: 1, b: 'x' };
    assert.ok(writer.prepareData(1, 2, '"T"', value, GENESIS_PREV));
    const proto = Object.prototype as Record<string, unknown>;
    proto['polluted'] = 'yes';
    try {
      // The fast encoder sees a key that is not the object's own: it leaves the object to the careful encoder.
      assert.equal(writer.prepareData(1, 2, '"T"', value, GENESIS_PREV), false);
    } finally {
      delete proto['polluted'];
    }
    assert.ok(writer.prepareData(1, 2, '"T"', value, GENESIS_PREV));
    const into = Buffer.alloc(writer.lineBytes);
    assert.equal(writer.write(into, 0), expected(1, 2, 'T', canonicalJson(value).json, GENESIS_PREV).lineHash);
  });

  it('property: writeInteger writes what String writes, for every safe integer and -0', () => {
    const buf = Buffer.alloc(40, 0xab);
    const check = (n: number) => {
      const end = writeInteger(buf, 3, n);
      assert.equal(buf.toString('latin1', 3, end), String(n));
      assert.equal(buf[2], 0xab);
    };
    for (const n of [0, -0, 1, -1, 9, 10, 99, 100, 1e15, -1e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])
      check(n);
    fc.assert(fc.property(fc.maxSafeInteger(), check), { numRuns: 2000 });
  });

  it('grows its scratch space for data longer than it has room for, and stays right after', () => {
    const writer = new LineWriter();
    for (const size of [10, 20_000, 3, 300_000, 5]) {
      for (const value of [
        { note: '€'.repeat(size), n: size },
        { ascii: 'a'.repeat(size), list: Array.from({ length: size % 1000 }, (_, i) => ({ i, s: `x${i}` })) },
      ]) {
        const dataJson = canonicalJson(value).json;
        const want = expected(size, 1_700_000_000_000, 'OrderFilled', dataJson, GENESIS_PREV);
        writer.prepare(size, 1_700_000_000_000, want.typeJson, dataJson, GENESIS_PREV);
        const into = Buffer.alloc(writer.lineBytes);
        assert.equal(writer.write(into, 0), want.lineHash);
        assert.deepEqual(into, want.bytes);
        // And encoded straight into the scratch space, which must grow the same way.
        assert.ok(writer.prepareData(size, 1_700_000_000_000, want.typeJson, value, GENESIS_PREV));
        const again = Buffer.alloc(writer.lineBytes);
        assert.equal(writer.write(again, 0), want.lineHash);
        assert.deepEqual(again, want.bytes);
      }
    }
  });
});
