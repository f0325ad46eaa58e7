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

/**
 * Which run of a pid this is, on Linux: the boot it belongs to and the time it started (ticks since boot, field
 * 22 of /proc/<pid>/stat). A lock naming a pid that is running now was still a dead holder's when this differs
 * from what the holder wrote: the pid was given to another process since (a container's, a browser's), and the
 * lock would have read as busy for as long as that process ran. Undefined where it cannot be read.
 */
export function processStartOf(pid: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "<pid> (<command>) ": state is field 3, starttime field 22.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start === undefined || !/^\d+$/.test(start)) return undefined;
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}/${start}`;
  } catch {
    return undefined;
  }
}
