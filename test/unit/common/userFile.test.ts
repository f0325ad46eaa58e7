/** Fixture files a user names (signal, market data): what reaches the component is what the file says. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPaperAccount } from '../../../src/brokers/paper/state';
import { StateDamagedError, StateFileError } from '../../../src/common/stateErrors';
import { acquireStateDirLock } from '../../../src/common/stateLock';
import { journalOf, statePaths } from '../../../src/common/statePaths';
import fc from 'fast-check';
import {
  readJsonObjectFile,
  readRegularFileSync,
  syntaxErrorOffset,
  UserFileError,
} from '../../../src/common/userFile';
import { DEFAULT_RISK_LIMITS } from '../../../src/execution/risk';
import { loadRiskSettings, SettingsError } from '../../../src/usecases/session';
import { withPipes } from './pipes';

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

  it('reads a file that starts with a UTF-8 byte order mark (as Windows editors save JSON)', () => {
    const file = join(dir, 'signal.json');
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"side": "buy"}')]));
    assert.deepEqual(readJsonObjectFile(file, '--signal:'), { side: 'buy' });
  });

  it('refuses a key given twice in one object, naming it and its line, instead of keeping the last', () => {
    const file = join(dir, 'signal.json');
    for (const [text, key, line] of [
      ['{"side": "buy",\n "side": "sell"}', 'side', 2],
      ['{"a": {"x": 1, "y": [{"q": 1}, {"q": 2}]},\n\n "b": {"x": 1, "\\u0078": 2}}', 'x', 3],
      ['{"k\\"": 1, "k\\u0022": 2}', 'k"', 1],
    ] as const) {
      writeFileSync(file, text);
      assert.throws(
        () => readJsonObjectFile(file, '--signal:'),
        (e: unknown) =>
          e instanceof UserFileError &&
          e.message ===
            `--signal: ${file}: line ${line}: the key ${JSON.stringify(key)} appears twice in one object; keep one`,
        text,
      );
    }
    writeFileSync(file, '{"a": {"x": 1}, "b": {"x": 1}, "c": ["x", "x"], "d": "x", "x": "d"}');
    assert.deepEqual(Object.keys(readJsonObjectFile(file, '--signal:') ?? {}), ['a', 'b', 'c', 'd', 'x']);
  });

  it('risk-limits.json: a BOM is skipped, and a limit written twice is refused, not the looser one kept', () => {
    const file = join(dir, 'risk-limits.json');
    writeFileSync(file, '\ufeff{"limits": {"maxOrderNotional": 1000}}');
    assert.equal(loadRiskSettings(file).limits.maxOrderNotional, 1000);
    writeFileSync(file, '{"limits": {\n  "maxOrderNotional": 1000,\n  "maxOrderNotional": 1e12\n}}');
    assert.throws(
      () => loadRiskSettings(file),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message ===
          `invalid risk settings in ${file}: line 3: the key "maxOrderNotional" appears twice in one object; keep one`,
    );
  });

  it('risk-limits.json: a link to a file that is gone is refused naming both, never read as "no file" (the defaults)', () => {
    const file = join(dir, 'risk-limits.json');
    const shared = join(dir, 'shared', 'limits.json');
    mkdirSync(join(dir, 'shared'));
    writeFileSync(shared, '{"limits": {"maxOrderNotional": 1000}}');
    symlinkSync(shared, file);
    // A settings file a person keeps elsewhere may be linked: it is read through the link.
    assert.equal(loadRiskSettings(file).limits.maxOrderNotional, 1000);
    rmSync(join(dir, 'shared'), { recursive: true });
    // Moved or deleted: the looser defaults would trade in its place.
    assert.throws(
      () => loadRiskSettings(file),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message.includes(file) &&
        e.message.includes(shared) &&
        /does not exist/.test(e.message),
    );
    // Without a link there, a missing file still means the defaults.
    rmSync(file);
    assert.equal(loadRiskSettings(file).limits.maxOrderNotional, DEFAULT_RISK_LIMITS.maxOrderNotional);
  });
});

describe('a fixture or settings file whose bytes are not UTF-8 text, or that cannot be opened: said in words', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-usertext-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const refusal = (file: string, what = '--signal:'): string => {
    try {
      readJsonObjectFile(file, what);
    } catch (e) {
      assert.ok(e instanceof UserFileError, String(e));
      assert.equal(e.file, file);
      return e.message;
    }
    return assert.fail('read');
  };

  it('UTF-16 (PowerShell\'s >, Notepad\'s "Unicode"): named as such, not "unexpected ��"', () => {
    const file = join(dir, 'signal.json');
    for (const bytes of [
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"side": "buy"}', 'utf16le')]),
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('{"side": "buy"}', 'utf16le').swap16()]),
    ]) {
      writeFileSync(file, bytes);
      assert.equal(
        refusal(file),
        `--signal: ${file} is UTF-16 text (it starts with UTF-16's byte order mark, as PowerShell's > and Notepad's "Unicode" write); save it as UTF-8`,
      );
    }
  });

  it('a Latin-1 byte (or any byte UTF-8 does not allow there) is refused with its line and column, not read as "�"', () => {
    const file = join(dir, 'signal.json');
    for (const [bytes, line, column, byte] of [
      [Buffer.from('{"note": "caf\xe9"}', 'latin1'), 1, 14, 'E9'],
      [
        Buffer.concat([
          Buffer.from('{\n  "note": "d\u00e9j\u00e0 ', 'utf8'),
          Buffer.from([0xc0, 0xaf]),
          Buffer.from('"}'),
        ]),
        2,
        17,
        'C0',
      ],
      [Buffer.concat([Buffer.from('{"a": "'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 1, 8, 'ED'],
      [Buffer.concat([Buffer.from('{"a": 1}'), Buffer.from([0xe2, 0x82])]), 1, 9, 'E2'],
    ] as const) {
      writeFileSync(file, bytes);
      assert.equal(
        refusal(file),
        `--signal: ${file} is not UTF-8 text: line ${line}, column ${column} has the byte 0x${byte}, which UTF-8 does not allow there (saved as Latin-1 or Windows-1252?); save it as UTF-8`,
      );
    }
    // UTF-8 of every length, and U+FFFD itself, is read.
    writeFileSync(file, '{"note": "é € 𝄞 \ufffd"}');
    assert.deepEqual(readJsonObjectFile(file, '--signal:'), { note: 'é € 𝄞 \ufffd' });
  });

  it('a NUL byte is a control character where JSON has none, said as such', () => {
    const file = join(dir, 'market.json');
    writeFileSync(file, '{"bid": 1.1}\u0000');
    assert.equal(
      refusal(file, '--market-data:'),
      `--market-data: ${file} is not valid JSON (line 1, column 13: a control character (U+0000), which JSON has only escaped inside a string (a NUL byte: is this a binary file?))`,
    );
  });

  it('risk-limits.json saved as UTF-16 names the encoding', () => {
    const file = join(dir, 'risk-limits.json');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"limits": {}}', 'utf16le')]));
    assert.throws(
      () => loadRiskSettings(file),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message ===
          `cannot read risk settings ${file}: it is UTF-16 text (it starts with UTF-16's byte order mark, as PowerShell's > and Notepad's "Unicode" write); save it as UTF-8`,
    );
  });

  it('a loop of symbolic links, a path through a file, and "-" (standard input) are said in words, not ELOOP', () => {
    symlinkSync(join(dir, 'b.json'), join(dir, 'a.json'));
    symlinkSync(join(dir, 'a.json'), join(dir, 'b.json'));
    assert.equal(
      refusal(join(dir, 'a.json')),
      `--signal: ${join(dir, 'a.json')} cannot be read: it is a symbolic link that leads back to itself (a loop of links); point it at the file`,
    );
    writeFileSync(join(dir, 'file'), '{}');
    assert.equal(
      refusal(join(dir, 'file', 'x.json')),
      `--signal: ${join(dir, 'file', 'x.json')} cannot be read: a part of its path is a file, not a folder`,
    );
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.equal(
        refusal('-'),
        '--signal: - cannot be read: it does not exist (SPtrader reads files, not standard input: give the path of a file)',
      );
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('JSON a user wrote that is not JSON: where it breaks', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-userjson-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('NaN, Infinity, comments, single quotes, a trailing comma: line and column, and the fix for NaN and Infinity', () => {
    const file = join(dir, 'market.json');
    for (const [text, expected] of [
      // V8 said only "Unexpected token 'N', ...": no line in a fixture of hundreds.
      ['{\n  "bid": 1.1,\n  "ask": NaN\n}', 'line 3, column 10: NaN is not a JSON number; write a number (or null)'],
      ['\ufeff{"bid": -Infinity}', 'line 1, column 10: Infinity is not a JSON number; write a number (or null)'],
      ['{"bid": 1.1, // the bid\n"ask": 1.2}', 'line 1, column 14: Expected double-quoted property name'],
      ["{'bid': 1.1}", "line 1, column 2: Expected property name or '}'"],
      ['{"bid": 1.1,\n}', 'line 2, column 1: Expected double-quoted property name'],
      ['{"bid": 1.1', 'line 1, column 12: the text ends before the JSON does'],
    ] as const) {
      writeFileSync(file, text);
      assert.throws(
        () => readJsonObjectFile(file, '--market-data:'),
        (e: unknown) =>
          e instanceof UserFileError && e.message === `--market-data: ${file} is not valid JSON (${expected})`,
        text,
      );
    }
    writeFileSync(file, '{"limits": {"maxOrderQuantity": NaN}}');
    assert.throws(
      () => loadRiskSettings(file),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message ===
          `risk settings ${file} is not JSON: line 1, column 33: NaN is not a JSON number; write a number (or null)`,
    );
  });

  it('property: the scan finds a break exactly when JSON.parse refuses the text', () => {
    const refuses = (t: string): boolean => {
      try {
        JSON.parse(t);
        return false;
      } catch {
        return true;
      }
    };
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.string({ maxLength: 3 }), (json, at, insert) => {
        const p = at % (json.length + 1);
        const text = json.slice(0, p) + insert + json.slice(p);
        assert.equal(syntaxErrorOffset(text) !== undefined, refuses(text), text);
      }),
      { numRuns: 2000, seed: 7 },
    );
    // Nested far deeper than any recursion could follow.
    assert.equal(syntaxErrorOffset('['.repeat(1_000_000) + ']'.repeat(1_000_000)), undefined);
    assert.equal(syntaxErrorOffset('['.repeat(1_000_000)), 1_000_000);
  });
});

describe('state files that are not regular files (a named pipe, a link to /dev/zero)', () => {
  const pipes = withPipes('sptrader-statefile-');
  const { pipeAt } = pipes;
  let dir: string;
  beforeEach(() => {
    dir = pipes.dir();
  });

  it('readRegularFileSync refuses what is not a regular file at once, with an errno code, and reads a file', () => {
    const fifo = join(dir, 'pipe');
    pipeAt(fifo);
    const zero = join(dir, 'zero');
    symlinkSync('/dev/zero', zero);
    mkdirSync(join(dir, 'folder'));
    const cases: Array<[string, string, RegExp]> = [
      [fifo, 'ENOTREG', /^a named pipe is in the place of this file/],
      [zero, 'ENOTREG', /^a device is in the place of this file/],
      [join(dir, 'folder'), 'EISDIR', /^a folder is in the place of this file/],
      [join(dir, 'missing'), 'ENOENT', /ENOENT/],
    ];
    for (const [file, code, message] of cases)
      assert.throws(
        () => readRegularFileSync(file),
        (e: unknown) => (e as NodeJS.ErrnoException).code === code && message.test((e as Error).message),
        file,
      );
    writeFileSync(join(dir, 'plain'), 'é');
    assert.equal(readRegularFileSync(join(dir, 'plain')), 'é');
  });

  it('risk-limits.json, the paper account, its journal and the lock: a clear error naming the file, never a hang', () => {
    const paths = statePaths(dir);
    pipeAt(paths.riskLimits);
    assert.throws(
      () => loadRiskSettings(paths.riskLimits),
      (e: unknown) =>
        e instanceof SettingsError &&
        e.message.includes(paths.riskLimits) &&
        /a named pipe is in the place of this file/.test(e.message),
    );
    symlinkSync('/dev/zero', paths.paperAccount);
    assert.throws(
      () => readPaperAccount(paths.paperAccount),
      (e: unknown) =>
        e instanceof StateDamagedError &&
        e.file === paths.paperAccount &&
        // A state file is never read through a link: refused before /dev/zero is opened.
        /a symbolic link \(to \/dev\/zero\) is in the place of this file/.test(e.message),
    );
    rmSync(paths.paperAccount);
    writeFileSync(
      paths.paperAccount,
      JSON.stringify({
        version: 2,
        accountId: 'PAPER-1',
        currency: 'USD',
        seed: null,
        cash: { USD: '1000000000000000' },
        realized: {},
        positions: [],
        counters: { order: 0, fill: 0 },
        orders: [],
        fills: [],
        generation: 0,
      }),
    );
    pipeAt(journalOf(paths.paperAccount));
    assert.throws(
      () => readPaperAccount(paths.paperAccount),
      (e: unknown) =>
        e instanceof StateDamagedError &&
        e.file === journalOf(paths.paperAccount) &&
        /a named pipe is in the place of this file/.test(e.message),
    );
    pipeAt(paths.lock);
    assert.throws(
      () => acquireStateDirLock(dir, 'test'),
      (e: unknown) =>
        e instanceof StateFileError &&
        e.file === paths.lock &&
        /a named pipe is in the place of this file/.test(e.message),
    );
  });
});
