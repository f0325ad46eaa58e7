/**
 * What a run says when the Python process ended under it (PROCESS_EXITED). The harness turns what it can into an
 * answer with a line (sys.exit, os._exit, os.abort, a signal the component sent itself: COMPONENT_EXIT), so a process
 * that still ended was ended by something Python could not stop: a C library's abort() or exit() through ctypes, a
 * crash, SIGKILL to itself, or something outside (the out-of-memory killer). faulthandler (enabled by the harness,
 * sptrader_harness/processes.py report_faults) writes the Python frames of a fatal signal to the process's stderr:
 * the innermost one in the component's file is the line said.
 */
import { basename } from 'node:path';
import { PythonRunError } from './errors';

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The frames of faulthandler's last dump in `output`, innermost first. */
function faultFrames(
  output: string,
): { fatal: string; frames: { file: string; line: number; name: string }[] } | undefined {
  const at = output.lastIndexOf('Fatal Python error: ');
  if (at < 0) return undefined;
  const dump = output.slice(at);
  const fatal = /^Fatal Python error: ([^\n]*)/.exec(dump)?.[1]?.trim() ?? '';
  const frames = [...dump.matchAll(/^\s+File "([^"\n]+)", line (\d+) in ([^\s]+)$/gm)].map((m) => ({
    file: m[1] as string,
    line: Number(m[2]),
    name: m[3] as string,
  }));
  return { fatal, frames };
}

/**
 * The PROCESS_EXITED error for a process that ended with `end` while running `file` (undefined between runs).
 * `signalled` is what the harness's own signal handler said of a signal from outside (it then knows better).
 */
export function processExitError(
  end: ProcessEnd,
  output: string,
  file: string | undefined,
  signalled: string | undefined,
  tail: string,
): PythonRunError {
  const how = end.signal ? `signal ${end.signal}` : `exit code ${end.code}`;
  if (signalled !== undefined)
    return new PythonRunError(
      'PROCESS_EXITED',
      `the Python process exited with ${end.signal ? `signal ${end.signal}` : `code ${end.code}`} before returning a result; ${signalled} Nothing was sent.${tail}`,
      file,
    );
  const next = 'the next run starts a new Python process';
  const fault = faultFrames(output);
  const own = file === undefined ? undefined : fault?.frames.find((f) => f.file === file);
  if (fault !== undefined && own !== undefined) {
    const inner = fault.frames[0];
    const via =
      inner !== undefined && inner !== own ? ` (in ${basename(inner.file)}:${inner.line}, ${inner.name})` : '';
    return new PythonRunError(
      'PROCESS_EXITED',
      `the component ended the Python process (${how}${fault.fatal ? `: ${fault.fatal}` : ''}) at line ${own.line}, in ${own.name}${via}; nothing was sent. A component returns its order (None for no order) and never ends its process; ${next}.${tail}`,
      file,
      own.line,
    );
  }
  const innermost = fault?.frames[0];
  const where =
    innermost !== undefined
      ? ` in ${innermost.file}:${innermost.line} (${innermost.name})`
      : file !== undefined
        ? `; where in ${basename(file)} cannot be told: it left Python without an exception (a C library's abort() or exit(), a signal it sent itself, a crash), or something outside ended it (the out-of-memory killer)`
        : '';
  return new PythonRunError(
    'PROCESS_EXITED',
    `${file !== undefined ? 'the component ended the Python process' : 'the Python process ended'} (${how}) before returning a result${where}; nothing was sent; ${next}.${tail}`,
    file,
  );
}
