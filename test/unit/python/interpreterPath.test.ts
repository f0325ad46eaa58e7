/** An interpreter given by path that is not one: the message says why, and a fixed path is found without a reload. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PythonRunError } from '../../../src/python/errors';
import { PROBE_FLOOR_MS, resolveInterpreter } from '../../../src/python/interpreter';

describe('sptrader.python.interpreterPath / --python that is not an interpreter', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-interpreter-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = async (path: string): Promise<string> => {
    try {
      await resolveInterpreter([path]);
    } catch (e) {
      assert.ok(e instanceof PythonRunError && e.code === 'INTERPRETER_NOT_FOUND', String(e));
      return e.message;
    }
    return assert.fail(`${path} was taken as an interpreter`);
  };

  it('a folder, a missing file, a file that is not executable, a program that is not Python: each said', async () => {
    mkdirSync(join(dir, 'venv'));
    writeFileSync(join(dir, 'notes.txt'), 'not a program\n');
    writeFileSync(join(dir, 'fake-python'), '#!/bin/sh\necho hello\n');
    chmodSync(join(dir, 'fake-python'), 0o755);
    // "no Python interpreter found (tried …)" for every one of them: nothing said which was wrong, or how.
    assert.match(await refusal(join(dir, 'venv')), /^the Python interpreter .*venv is a folder, not an executable\./);
    assert.match(
      await refusal(join(dir, 'missing', 'python3')),
      /python3 does not exist\. Set sptrader\.python\.interpreterPath/,
    );
    assert.match(await refusal(join(dir, 'notes.txt')), /notes\.txt is not executable \(chmod \+x/);
    assert.match(await refusal(join(dir, 'fake-python')), /fake-python ran but did not answer as Python does/);
    assert.match(
      await refusal('venv/bin/python'),
      /does not exist \(a relative path is taken from .*: give the full path\)/,
    );
    assert.match(await refusal('py\nthon'), /\(tried "py\\nthon"\)/, 'a line break shown escaped');
  });

  it('an "interpreter" that hangs is given up at the probe\'s own least time, its child too, and said not to answer (rt-comp9, rt-comp11)', async () => {
    const hang = join(dir, 'hang.sh');
    // The script's sleep holds the probe's pipe: killing the script alone left the probe waiting for it.
    writeFileSync(hang, '#!/bin/sh\nsleep 30\n');
    chmodSync(hang, 0o755);
    const started = Date.now();
    let message = '';
    try {
      await resolveInterpreter([hang], { timeoutMs: 1000 });
    } catch (e) {
      // Before (rt-comp11): INTERPRETER_NOT_FOUND, as if there were none.
      assert.ok(e instanceof PythonRunError && e.code === 'INTERPRETER_NOT_ANSWERING', String(e));
      message = e.message;
    }
    const took = Date.now() - started;
    // Before rt-comp9: the probe's own 15 s, whatever the timeout; the --timeout of 1 s is the component's, not the probe's.
    assert.ok(took >= PROBE_FLOOR_MS - 100 && took < PROBE_FLOOR_MS + 4000, `gave up after ${took} ms`);
    assert.match(
      message,
      /hang\.sh did not answer the probe \(its version and sys\.executable\) within 5 s \(the probe's own least time; the --timeout of 1 s is the component's\): it hangs, is very slow to start/,
    );
  });

  it('an interpreter slower to start than a short --timeout is found all the same (rt-comp11)', async () => {
    const python = (await resolveInterpreter(['python3'])).executable;
    const slow = join(dir, 'slow-python');
    // A sound interpreter on a busy machine: 2 s before it answers, past the run's 1 s time limit.
    writeFileSync(slow, `#!/bin/sh\nsleep 2\nexec ${JSON.stringify(python)} "$@"\n`);
    chmodSync(slow, 0o755);
    // Before: INTERPRETER_NOT_FOUND, "did not answer within 1 s (the timeout)".
    const found = await resolveInterpreter([slow], { timeoutMs: 1000 });
    assert.equal(found.executable, python);
    assert.equal(found.command, slow);
  });

  it('a path that was not an interpreter is found once it is one, without starting again', async () => {
    const link = join(dir, 'python');
    await refusal(link);
    const python = (await resolveInterpreter(['python3'])).executable;
    symlinkSync(python, link);
    const found = await resolveInterpreter([link]);
    assert.ok(found.version[0] === 3, JSON.stringify(found));
  });
});
