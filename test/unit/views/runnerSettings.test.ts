import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RUNNER_LIMITS } from '../../../src/python/runner';
import { readRunnerSettings, RUNNER_NUMBER_SETTINGS } from '../../../src/views/runnerSettings';

const ROOT = join(__dirname, '../../../..');
const settingsOf = (values: Record<string, unknown>) => readRunnerSettings((key) => values[key]);

describe('sptrader.python.* settings (what VS Code hands over unchecked)', () => {
  it('unset: the defaults, and no problem', () => {
    const s = settingsOf({});
    assert.deepEqual(s, {
      interpreterPath: undefined,
      packageRoot: undefined,
      ...DEFAULT_RUNNER_LIMITS,
      problems: [],
    });
  });

  it('values that fit are used as they are', () => {
    const s = settingsOf({
      'python.interpreterPath': '  /usr/bin/python3 ',
      'python.packageRoot': '',
      'python.timeoutSeconds': 2.5,
      'python.outputLimitBytes': 2048,
      'python.maxAnswerBytes': 4096,
      'python.maxMetadataBytes': 1024,
      'python.maxNestingDepth': 1000,
    });
    assert.deepEqual(s.problems, []);
    assert.equal(s.interpreterPath, '/usr/bin/python3');
    assert.equal(s.packageRoot, undefined);
    assert.equal(s.timeoutMs, 2500);
    assert.equal(s.outputLimitBytes, 2048);
    assert.equal(s.maxAnswerBytes, 4096);
    assert.equal(s.maxMetadataBytes, 1024);
    assert.equal(s.maxNestingDepth, 1000);
  });

  it('a timeout of 0, a negative one, text or NaN no longer fails every run: the default, reported', () => {
    for (const bad of [0, -1, 'sixty', Number.NaN, Number.POSITIVE_INFINITY, true, [30], { s: 30 }]) {
      const s = settingsOf({ 'python.timeoutSeconds': bad });
      assert.equal(s.timeoutMs, DEFAULT_RUNNER_LIMITS.timeoutMs, JSON.stringify(bad));
      assert.equal(s.problems.length, 1, JSON.stringify(bad));
      assert.match(
        s.problems[0] ?? '',
        /^sptrader\.python\.timeoutSeconds must be a number of at least 1, not .+; 30 is used$/,
      );
    }
    assert.match(settingsOf({ 'python.timeoutSeconds': 'sixty' }).problems[0] ?? '', /not the string "sixty"/);
    // A number in a string worked before (it was multiplied as is): it still does.
    assert.deepEqual(settingsOf({ 'python.timeoutSeconds': ' 60 ' }).timeoutMs, 60_000);
    assert.equal(
      settingsOf({ 'python.timeoutSeconds': 1.0005 }).timeoutMs,
      1001,
      'whole milliseconds, as the runner takes',
    );
  });

  it('limits below their minimum or not whole are reported and replaced by the default', () => {
    const s = settingsOf({
      'python.outputLimitBytes': 10,
      'python.maxAnswerBytes': 2048.5,
      'python.maxMetadataBytes': '64k',
      'python.maxNestingDepth': 0,
    });
    assert.equal(s.outputLimitBytes, DEFAULT_RUNNER_LIMITS.outputLimitBytes);
    assert.equal(s.maxAnswerBytes, DEFAULT_RUNNER_LIMITS.maxAnswerBytes);
    assert.equal(s.maxMetadataBytes, DEFAULT_RUNNER_LIMITS.maxMetadataBytes);
    assert.equal(s.maxNestingDepth, DEFAULT_RUNNER_LIMITS.maxNestingDepth);
    assert.deepEqual(
      s.problems.map((p) => p.split(' must ')[0]),
      [
        'sptrader.python.outputLimitBytes',
        'sptrader.python.maxAnswerBytes',
        'sptrader.python.maxMetadataBytes',
        'sptrader.python.maxNestingDepth',
      ],
    );
  });

  it('a path that is not a string is ignored and reported (it threw "trim is not a function" inside Test Order)', () => {
    const s = settingsOf({ 'python.interpreterPath': ['python3'], 'python.packageRoot': 7 });
    assert.equal(s.interpreterPath, undefined);
    assert.equal(s.packageRoot, undefined);
    assert.deepEqual(s.problems, [
      'sptrader.python.interpreterPath must be a path in a string, not a list; it is ignored',
      'sptrader.python.packageRoot must be a path in a string, not 7; it is ignored',
    ]);
  });

  it('a value too large for a run to work is reported and its largest working value used', () => {
    // setTimeout fires at once past 2^31-1 ms: every run "did not return within 1000000000 s".
    const s = settingsOf({ 'python.timeoutSeconds': 1e9, 'python.outputLimitBytes': 1e300 });
    assert.equal(s.timeoutMs, 2_147_483_000);
    assert.ok(s.timeoutMs <= 2 ** 31 - 1);
    // The runner refused it ("outputLimitBytes must be a positive whole number, not 1e+300"), naming no setting.
    assert.equal(s.outputLimitBytes, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(s.problems, [
      'sptrader.python.timeoutSeconds must be at most 2147483 (about 24 days, the longest timer there is), not 1000000000; 2147483 is used',
      'sptrader.python.outputLimitBytes must be at most 9007199254740991, not 1e+300; 9007199254740991 is used',
    ]);
    assert.equal(settingsOf({ 'python.timeoutSeconds': 3600 }).timeoutMs, 3_600_000, 'package.json maximum: as is');
  });

  it('a package root that is missing or not a folder is named and ignored (the spawn said "could not start python3")', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-root-'));
    try {
      const file = join(dir, 'core.py');
      writeFileSync(file, '');
      assert.equal(settingsOf({ 'python.packageRoot': dir }).packageRoot, dir);
      const missing = settingsOf({ 'python.packageRoot': join(dir, 'gone') });
      assert.equal(missing.packageRoot, undefined);
      assert.deepEqual(missing.problems, [
        `sptrader.python.packageRoot must be a folder, but ${join(dir, 'gone')} does not exist; it is ignored (the folder is found from the component's location)`,
      ]);
      const notFolder = settingsOf({ 'python.packageRoot': file });
      assert.equal(notFolder.packageRoot, undefined);
      assert.match(
        notFolder.problems[0] ?? '',
        /packageRoot must be a folder, but .*core\.py is a file; it is ignored/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the minimums and defaults are the ones package.json declares', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      contributes: { configuration: Array<{ properties: Record<string, { minimum?: number; maximum?: number }> }> };
    };
    const properties = Object.assign({}, ...pkg.contributes.configuration.map((c) => c.properties)) as Record<
      string,
      { minimum?: number; maximum?: number; default?: number }
    >;
    for (const { key, min, fallback } of Object.values(RUNNER_NUMBER_SETTINGS)) {
      const declared = properties[`sptrader.${key}`];
      assert.ok(declared, key);
      assert.equal(declared.minimum, min, key);
      assert.equal(declared.default, fallback, key);
    }
  });
});
