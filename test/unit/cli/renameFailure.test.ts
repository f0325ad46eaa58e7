/**
 * A rename of a temp file over a state file that fails for what is at the state file's name (a folder there): the
 * failure named the temp file ("trading-state.json.<pid>.tmp: cannot replace it: a directory is in the place of this
 * file"), which SPtrader had already removed, not the file the user must look at. A real rename, a real folder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asStateFileError } from '../../../src/cli/failures';
import { replaceFileSync } from '../../../src/common/durableFile';

describe('cli failures: a rename over a state file names the state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-rename-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const failureOf = (act: () => void): unknown => {
    try {
      act();
    } catch (e) {
      return e;
    }
    assert.fail('the rename went through');
  };

  it('a folder in the place of the file replaced: the file is named, not the temp file', () => {
    const file = join(dir, 'trading-state.json');
    mkdirSync(file);
    writeFileSync(join(file, 'stray'), 'x');
    const error = asStateFileError(failureOf(() => replaceFileSync(file, '{}')));
    assert.ok(error, 'a file-system error is a state file error');
    assert.equal(error.file, file);
    assert.match(error.message, /trading-state\.json: cannot replace it: a directory is in the place of this file/);
    assert.doesNotMatch(error.message, /\.tmp/);
  });

  it('a rename whose source is missing still names the source', () => {
    const from = join(dir, 'gone.json');
    const error = asStateFileError(failureOf(() => renameSync(from, join(dir, 'to.json'))));
    assert.equal(error?.file, from);
    assert.match(error.message, /does not exist/);
  });
});
