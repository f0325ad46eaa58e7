/** Fixture files a user names (signal, market data): what reaches the component is what the file says. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonObjectFile, UserFileError } from '../../../src/common/userFile';

describe('readJsonObjectFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-userfile-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a number too large for a float, naming where it is, instead of handing the component None', () => {
    const file = join(dir, 'market.json');
    for (const [text, where] of [
      ['{"bid": 1e999, "ask": 1.1}', 'bid'],
      ['{"bid": 1.1, "ask": -1e400}', 'ask'],
      ['{"book": {"levels": [{"price": 1.1}, {"price": 1e309}]}}', 'book.levels[1].price'],
    ] as const) {
      writeFileSync(file, text);
      assert.throws(
        () => readJsonObjectFile(file, '--market-data:'),
        (e: unknown) =>
          e instanceof UserFileError &&
          e.file === file &&
          e.message.startsWith(`--market-data: ${file}: ${where} is a number too large for a float`),
        text,
      );
    }
  });

  it('keeps large finite numbers, and every other value, as they are', () => {
    const file = join(dir, 'signal.json');
    writeFileSync(file, '{"a": 1.7e308, "b": -1e-320, "c": [0, "1e999", null, true], "d": {"e": 5}}');
    assert.deepEqual(readJsonObjectFile(file, '--signal:'), {
      a: 1.7e308,
      b: -1e-320,
      c: [0, '1e999', null, true],
      d: { e: 5 },
    });
  });
});
