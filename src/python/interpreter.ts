/**
 * Finds the Python that runs components and resolves it once to the real `sys.executable`:
 * version-manager shims (pyenv) add ~60 ms to every spawn.
 */
import { spawn } from 'node:child_process';
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
const cache = new Map<string, Promise<Probed>>();

/** Variables of SPtrader itself, such as the CLI's broker credentials (Windows' names are case-insensitive). */
const OWN_VARIABLE = /^SPTRADER_/i;

/**
 * The environment without SPtrader's own variables (SPTRADER_OANDA_TOKEN and the like): what every Python process
 * SPtrader starts is given. The interpreter runs code that is not SPtrader's before any of ours (a `--python`
 * wrapper script, a version-manager shim, `sitecustomize`, an installed package's `.pth` file), and what that code is
 * handed it can print, write or send anywhere: the probe passed the CLI's credentials on while the component's
 * process was already kept from them.
 */
export function withoutOwnVariables(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !OWN_VARIABLE.test(k)) env[k] = v;
  return env;
}

export function defaultInterpreterCandidates(explicit?: string): string[] {
  return explicit ? [explicit] : ['python3', 'python'];
}

/** How long an interpreter may take to answer the probe when the caller sets no timeout (a cold pyenv shim, a slow disk). */
const PROBE_TIMEOUT_MS = 15_000;
/**
 * The least time the probe is given, whatever the run's --timeout (rt-comp11): that is the component's time limit, and
 * a sound interpreter started on a busy machine (a cold disk cache, a pyenv shim, another build running) may take
 * more than a short one (`--timeout 1`) to print its version, which was then reported as no interpreter at all.
 */
export const PROBE_FLOOR_MS = 5_000;

type Probed = ResolvedInterpreter | 'timeout' | undefined;

/**
 * Runs the probe in its own process group: at the timeout the group is killed, so a wrapper script that hangs in a
 * child (`sleep`) holding the pipe cannot keep the probe waiting past it.
 */
function probe(command: string, timeoutMs: number): Promise<Probed> {
  return new Promise((resolve) => {
    let out = '';
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, ['-c', PROBE], {
        env: withoutOwnVariables(process.env),
        stdio: ['ignore', 'pipe', 'ignore'],
        windowsHide: true,
        detached: process.platform !== 'win32',
      });
    } catch {
      return resolve(undefined);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Already gone.
      }
      child.stdout?.destroy();
      resolve('timeout');
    }, timeoutMs);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (out.length < 64 * 1024) out += chunk;
    });
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return;
      if (code !== 0) return resolve(undefined);
      try {
        const parsed = JSON.parse(out.trim().split('\n').pop() ?? '') as { executable?: unknown; version?: unknown };
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

/**
 * The first candidate that runs and is new enough; else a PythonRunError saying what to do. `timeoutMs` (the run's
 * --timeout) bounds each candidate's answer, never below PROBE_FLOOR_MS (15 s when not given): an interpreter that
 * does not answer in that time is said to (INTERPRETER_NOT_ANSWERING), not said to be missing.
 */
export async function resolveInterpreter(
  candidates: string[],
  options: { timeoutMs?: number } = {},
): Promise<ResolvedInterpreter> {
  const timeoutMs =
    options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs) && options.timeoutMs > 0
      ? Math.min(Math.max(options.timeoutMs, PROBE_FLOOR_MS), 2 ** 31 - 1)
      : PROBE_TIMEOUT_MS;
  const tooOld: ResolvedInterpreter[] = [];
  const hung: string[] = [];
  for (const command of candidates) {
    let pending = cache.get(command);
    if (!pending) {
      pending = probe(command, timeoutMs);
      cache.set(command, pending);
    }
    const found = await pending;
    // A failure is not kept: an interpreter installed, or made executable, after it is found on the next try.
    if (found === undefined || found === 'timeout') {
      if (found === 'timeout') hung.push(command);
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
  if (hung.length > 0) {
    const seconds = timeoutMs / 1000;
    const floor =
      options.timeoutMs !== undefined && options.timeoutMs < timeoutMs
        ? ` (the probe's own least time; the --timeout of ${options.timeoutMs / 1000} s is the component's)`
        : options.timeoutMs !== undefined
          ? ' (the timeout)'
          : '';
    throw new PythonRunError(
      'INTERPRETER_NOT_ANSWERING',
      `the Python interpreter ${hung.map(shown).join(', ')} did not answer the probe (its version and sys.executable) within ${seconds} s${floor}: it hangs, is very slow to start (a busy machine, a cold version-manager shim), or is not a Python interpreter. Try again, or set sptrader.python.interpreterPath (CLI: --python PATH or SPTRADER_PYTHON) to a Python ${MINIMUM.join('.')}+ executable.`,
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
