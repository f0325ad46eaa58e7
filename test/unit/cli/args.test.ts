/** The CLI's argument readers: an empty number, a parameter named like a prototype key. */
import assert from 'node:assert/strict';
import { flagNumber, parseParams, typedParams } from '../../../src/cli/args';
import { main } from '../../../src/cli/main';

const fail = (message: string): Error => new Error(message);
describe('CLI arguments', () => {
  it('an empty number flag is a usage error (exit 2), not a zero', async () => {
    const write = process.stderr.write.bind(process.stderr);
    let printed = '';
    process.stderr.write = (chunk: string | Uint8Array): boolean => ((printed += String(chunk)), true);
    try {
      assert.equal(await main(['audit', 'tail', '-n', '']), 2);
      assert.equal(await main(['replay', 'missing.py', '--data', 'a.csv', '--spread-ticks=']), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(printed, /-n must be a whole number, not ''/);
    assert.match(printed, /--spread-ticks must be a whole number ≥ 0, not ''/);
  });

  it('reads an empty number as no number, not as 0', () => {
    assert.ok(Number.isNaN(flagNumber('')));
    assert.ok(Number.isNaN(flagNumber('  ')));
    assert.equal(flagNumber(' 7 '), 7);
  });

  it('keeps a parameter named __proto__ as a parameter', () => {
    const params = parseParams(['__proto__={"polluted": 1}', 'constructor=5'], fail);
    assert.deepEqual(Object.keys(params), ['__proto__', 'constructor']);
    assert.equal((params as { polluted?: unknown }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(params), Object.prototype);
    assert.equal(JSON.stringify(params), '{"__proto__":{"polluted":1},"constructor":5}');
    assert.throws(
      () => parseParams(['levels={"a": 1, "a": 2}'], fail),
      /--param levels: line 1: the key "a" appears twice in one object/,
    );
    assert.deepEqual(parseParams(['t={"a": 1', 'n=5'], fail), { t: '{"a": 1', n: 5 }, 'not JSON: text');
    // As a component's __metadata__ arrives (JSON): '__proto__' an own key, declared a float.
    const metadata: unknown = JSON.parse(
      '{"parameters": {"__proto__": {"type": "float", "default": 1}, "k": {"default": 1}}}',
    );
    const typed = typedParams(['__proto__=3', 'k=2'], metadata, 'c.py', fail, () => {});
    assert.deepEqual(Object.keys(typed), ['__proto__', 'k']);
    const text: unknown = JSON.parse('{"parameters": {"note": {"type": "str", "default": ""}}}');
    assert.deepEqual(
      typedParams(['note={"a": 1, "a": 2}'], text, 'c.py', fail, () => {}),
      {
        note: '{"a": 1, "a": 2}',
      },
    );
    assert.equal(Object.getOwnPropertyDescriptor(typed, '__proto__')?.value, 3);
  });
});
