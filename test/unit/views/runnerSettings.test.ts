import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
