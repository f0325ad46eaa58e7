/**
 * Test kit: a fresh folder for each test's component files, and a real interpreter to run them. Registers the
 * mocha hooks (interpreter found once before the suite; a new temp folder before each test, removed after it)
 * and hands the test the folder and the runner options through `use`, so a suite keeps its own `dir` and
 * `options` names. Call it inside `describe`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../src/python/interpreter';
import type { RunnerOptions } from '../../src/python/runner';

export interface ComponentFolderHooks {
  /** Called with the runner options once the interpreter is found (in `before`). */
  readonly options?: (options: RunnerOptions) => void | Promise<void>;
  /** Called with each test's new folder (in `beforeEach`). */
  readonly dir: (dir: string) => void;
}

/**
 * `sptrader-<prefix>-…` under the temp folder for every test; the returned `write` puts a file at a path
 * relative to the current test's folder (making its parent folders) and returns the file's path.
 */
export function componentFolder(
  prefix: string,
  timeoutMs: number,
  hooks: ComponentFolderHooks,
): (rel: string, text: string) => string {
  let current: string | undefined;
  before(async () => {
    await hooks.options?.({ interpreter: await resolveInterpreter(defaultInterpreterCandidates()), timeoutMs });
  });
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), `sptrader-${prefix}-`));
    hooks.dir(current);
  });
  afterEach(() => {
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  return (rel, text) => {
    if (current === undefined) throw new Error('componentFolder: write is for use inside a test');
    const file = join(current, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
}
