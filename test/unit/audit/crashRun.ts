/** Runs test/unit/audit/crashWorker.js as a child and kills it; shared by the audit crash tests. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CHILD = join(__dirname, 'crashWorker.js');

export interface ChildRun {
  acked: number[];
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Runs the child until SIGKILL lands `delayMs` after its first acknowledgement. */
export function runAndKill(dir: string, rotateBytes: number, delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(rotateBytes), '32'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      if (timer) clearTimeout(timer);
      // A seq is acknowledged only if its line arrived whole.
      const acked = out.split('\n').slice(0, -1).map(Number);
      resolve({ acked, stderr, signal });
    });
  });
}
