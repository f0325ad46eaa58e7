/**
 * Whether a process of this machine is still running: what decides that a lock (stateLock.ts) or a temp
 * file (durableFile.ts) it left is a dead process's leftover.
 */
import { readFileSync } from 'node:fs';

/** True while `pid` names a running process (one that has ended but is not reaped yet counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  return !isZombie(pid);
}

/**
 * Whether a pid is a process that has ended and not been reaped yet (Linux: state Z or X in /proc): a
 * holder killed with SIGKILL whose parent has not waited for it (a shell's `timeout`, a container whose init
 * reaps late) still answers kill(pid, 0), and its lock would read as busy though nothing holds it.
 */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "<pid> (<command, which may hold spaces and parentheses>) <state> …"
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
