/**
 * Finds the Python that runs components and resolves it once to the real `sys.executable`:
 * version-manager shims (pyenv) add ~60 ms to every spawn.
 */
import { execFile } from 'node:child_process';
import { PythonRunError } from './errors';

export interface ResolvedInterpreter {
  /** What was asked for (a path or a command name). */
  command: string;
  /** The interpreter's own `sys.executable`: spawn this. */
  executable: string;
  version: [number, number, number];
}

const MINIMUM: [number, number] = [3, 8];
const PROBE = "import sys,json;print(json.dumps({'executable':sys.executable,'version':list(sys.version_info[:3])}))";
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
    if (!found) continue;
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
  throw new PythonRunError(
    'INTERPRETER_NOT_FOUND',
    `no Python interpreter found (tried ${candidates.join(', ')}). Install Python ${MINIMUM.join('.')}+ or set sptrader.python.interpreterPath (CLI: --python PATH or SPTRADER_PYTHON).`,
  );
}
