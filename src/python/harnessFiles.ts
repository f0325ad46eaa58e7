/** Where a component's package starts, where the bundled harness is, and the checks made before Python starts. */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { notAFile } from '../common/userFile';
import { PythonRunError } from './errors';
import type { ComponentError } from './protocol';

/** If the path has a `core` folder, its parent (SPtraderB's layout); else above the top package; else the file's folder. */
export function findPackageRoot(file: string): string {
  const abs = resolve(file);
  const parts = abs.split(/[\\/]/);
  const core = parts.lastIndexOf('core', parts.length - 2);
  if (core > 0) return parts.slice(0, core).join('/') || '/';
  let dir = dirname(abs);
  while (existsSync(join(dir, '__init__.py')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

let libraryDirCache: string | undefined;
export function defaultLibraryDir(): string {
  if (libraryDirCache) return libraryDirCache;
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'python');
    if (existsSync(join(candidate, 'sptrader_harness', 'server.py'))) return (libraryDirCache = candidate);
    const parent = dirname(dir);
    if (parent === dir)
      throw new PythonRunError(
        'INTERNAL',
        `the bundled Python library (python/sptrader_harness) was not found above ${__dirname}; reinstall the extension`,
      );
    dir = parent;
  }
}

/**
 * Whether a file is never a component, whatever it holds: the component contract (`spec/components.md`)
 * says `test_*.py` and `__init__.py` are not components (a test imports the component and may subclass it).
 */
export function isNotAComponentFile(path: string): boolean {
  const name = path.split(/[\\/]/).pop() ?? '';
  return /^test_.*\.py$/i.test(name) || name === '__init__.py';
}

/** Checks done in Node so that obvious mistakes never cost a Python start. */
export function precheck(file: string): ComponentError | undefined {
  if (!file.endsWith('.py'))
    return {
      code: 'NOT_PYTHON_FILE',
      message: `${file} is not a Python file (.py); open or pass an order component`,
      file,
    };
  if (isNotAComponentFile(file)) {
    // Run, a test's stand-in subclass of the component would have placed an order as if it were the component.
    const init = /(^|[\\/])__init__\.py$/.test(file);
    return {
      code: 'NOT_A_COMPONENT',
      message: init
        ? `${file} is a package's __init__.py, which the component contract says is not a component; run the component's own file`
        : `${file} is a test (test_*.py), which the component contract says is not a component; run the component it ` +
          'tests, or rename the file if it is a component',
      file,
    };
  }
  let stat;
  try {
    stat = statSync(file);
  } catch {
    return { code: 'FILE_NOT_FOUND', message: `${file} does not exist; check the path`, file };
  }
  if (!stat.isFile())
    return {
      code: 'FILE_NOT_FOUND',
      message: `${file} is not a regular file (${notAFile(stat)}); an order component is a .py file`,
      file,
    };
  return undefined;
}
