/**
 * Finds the Python that runs components and resolves it once to the real `sys.executable`:
 * version-manager shims (pyenv) add ~60 ms to every spawn.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { PythonRunError } from './errors';

export interface ResolvedInterpreter {
  /** What was asked for (a path or a command name). */
  command: string;
  /** The interpreter's own `sys.executable`: spawn this. */
  executable: string;
  version: [number, number, number];
}

const MINIMUM: [number, number] = [3, 8];
// `python -c` looks in the working folder first: a user's json.py there must not make Python look missing.
const PROBE =
  "import sys\nif sys.path[:1] == ['']: del sys.path[0]\nimport json\nprint(json.dumps({'executable':sys.executable,'version':list(sys.version_info[:3])}))";
const cache = new Map<string, Promise<ResolvedInterpreter | undefined>>();

export function defaultInterpreterCandidates(explicit?: string): string[] {
  return explicit ? [explicit] : ['python3', 'python'];
}

function probe(command: string): Promise<ResolvedInterpreter | undefined> {
  return new Promise((resolve) => {
    execFile(command, ['-c', PROBE], { timeout: 15_000, windowsHide: true }, (error, stdout) => {
      if (error) return resolve(undefined);
      try {
        const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '') as { executable?: unknown; version?: unknown };
        const v = parsed.version;
        if (
          typeof parsed.executable !== 'string' ||
          !Array.isArray(v) ||
          v.length < 3 ||
          !v.every((n) => typeof n === 'number')
        )
          return resolve(undefined);
        resolve({
          command,
          executable: parsed.executable || command,
          version: [v[0], v[1], v[2]] as [number, number, number],
        });
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** The first candidate that runs and is new enough; else a PythonRunError saying what to do. */
export async function resolveInterpreter(candidates: string[]): Promise<ResolvedInterpreter> {
  const tooOld: ResolvedInterpreter[] = [];
  for (const command of candidates) {
    let pending = cache.get(command);
    if (!pending) {
      pending = probe(command);
      cache.set(command, pending);
    }
    const found = await pending;
    // A failure is not kept: an interpreter installed, or made executable, after it is found on the next try.
    if (!found) {
      cache.delete(command);
      continue;
    }
    const [major, minor] = found.version;
    if (major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1])) return found;
    tooOld.push(found);
  }
  if (tooOld.length > 0) {
    const first = tooOld[0]!;
    throw new PythonRunError(
      'INTERPRETER_TOO_OLD',
      `${first.command} is Python ${first.version.join('.')}; SPtrader needs Python ${MINIMUM.join('.')} or newer. Set sptrader.python.interpreterPath (or --python) to a newer interpreter.`,
    );
  }
  const why = candidates.length === 1 ? notAnInterpreter(candidates[0] as string) : undefined;
  throw new PythonRunError(
    'INTERPRETER_NOT_FOUND',
    why !== undefined
      ? `the Python interpreter ${shown(candidates[0] as string)} ${why}. Set sptrader.python.interpreterPath (CLI: --python PATH or SPTRADER_PYTHON) to a Python ${MINIMUM.join('.')}+ executable.`
      : `no Python interpreter found (tried ${candidates.map(shown).join(', ')}). Install Python ${MINIMUM.join('.')}+ or set sptrader.python.interpreterPath (CLI: --python PATH or SPTRADER_PYTHON).`,
  );
}

/** A path or command as a message shows it: quoted and escaped when it holds anything but printable ASCII. */
function shown(command: string): string {
  return /^[\x21-\x7e]+$/.test(command)
    ? command
    : JSON.stringify(command).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Why an interpreter given by path did not run ("does not exist", "is a folder", …), or undefined for a command
 * name looked up on PATH, or a file that is executable (it then ran, and was not a Python that answered).
 */
function notAnInterpreter(command: string): string | undefined {
  if (!/[\\/]/.test(command)) return undefined;
  const relative = !/^([\\/]|[A-Za-z]:)/.test(command)
    ? ` (a relative path is taken from ${process.cwd()}: give the full path)`
    : '';
  try {
    const stat = statSync(command);
    if (stat.isDirectory()) return `is a folder, not an executable${relative}`;
    if (!stat.isFile()) return 'is not a regular file';
  } catch {
    return `does not exist${relative}`;
  }
  try {
    accessSync(command, constants.X_OK);
  } catch {
    return 'is not executable (chmod +x, or choose the interpreter itself)';
  }
  return 'ran but did not answer as Python does (is it a Python interpreter?)';
}
