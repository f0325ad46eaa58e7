/**
 * A file-system error as a StateFileError: said in plain words, the path named once. A symbolic link loop (ELOOP) and
 * a path too long (ENAMETOOLONG) were Node's own message, which names the path again ("ENAMETOOLONG: name too long,
 * stat '<the 100 KB path>'", the path printed twice). Real errors from the file system, not made-up ones.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stateFileErrorOf } from '../../../src/common/stateErrors';

describe('stateFileErrorOf', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-state-errors-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const thrownBy = (action: () => unknown): unknown => {
    try {
      action();
    } catch (e) {
      return e;
    }
    assert.fail('it did not throw');
  };

  it('a symbolic link loop is said as one, the path named once', () => {
    const a = join(dir, 'a');
    symlinkSync(join(dir, 'b'), a);
    symlinkSync(a, join(dir, 'b'));
    const error = stateFileErrorOf(
      a,
      'use it as the state directory',
      thrownBy(() => statSync(a)),
    );
    assert.equal(error.file, a);
    assert.match(
      error.problem,
      /^cannot use it as the state directory: its symbolic links point at each other in a loop/,
    );
    assert.doesNotMatch(error.message, /ELOOP/);
  });

  it('a path too long is said as one, the path named once', () => {
    const long = join(dir, 'x'.repeat(5000));
    const error = stateFileErrorOf(
      long,
      'read the risk limits',
      thrownBy(() => statSync(long)),
    );
    assert.match(error.problem, /^cannot read the risk limits: the path is too long for the file system/);
    assert.equal(error.message.split('x'.repeat(5000)).length, 2, 'the path appears once');
  });
});
