/**
 * Ends a harness and every process below it. Used when the harness cannot clean up after itself:
 * at a timeout (it is busy in component code), past a limit, or when its answer asks for it.
 *
 * On Linux the harness is a child subreaper (see python/sptrader_harness/processes.py), so a
 * descendant whose parent died hangs under the harness rather than init. The harness is stopped
 * first (SIGSTOP) so that it keeps them there and reaps none; then /proc is walked for its
 * descendants, each is killed, and the walk repeats until it finds nobody new (a process forked
 * between two walks is found in the next); last the harness and its process group are killed.
 * Elsewhere, the process group (the harness is spawned as its leader) and Windows' `taskkill /T`.
 *
 * Parent links are lost once the harness itself dies (a signal it sent itself, a crash): its
 * orphans go to init. So each session also puts a random marker in the harness's environment,
 * which every process it starts inherits, and on Linux a process whose /proc/<pid>/environ holds
 * the marker is killed too, wherever it hangs. This walks all of /proc (a few ms): it runs only on
 * these rare paths, never per run.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** pid → live children, from the parent field of /proc/<pid>/stat; undefined when /proc cannot be read. */
function childrenByParent(): Map<number, number[]> | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 2);
    if (fields.length < 2 || fields[0] === 'Z') continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  return children;
}

export function descendantsOf(root: number): number[] | undefined {
  const children = childrenByParent();
  if (!children) return undefined;
  const found: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    for (const pid of children.get(todo.pop()!) ?? []) {
      found.push(pid);
      todo.push(pid);
    }
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Live processes whose environment holds `marker` (a `NAME=value` string); empty when /proc cannot be read. */
export function markedProcesses(marker: string): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  const needle = Buffer.from(`\0${marker}\0`);
  const first = Buffer.from(`${marker}\0`);
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57 || Number(name) === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    if (environ.includes(needle) || environ.subarray(0, first.length).equals(first)) found.push(Number(name));
  }
  return found;
}

/**
 * Kills `pid`, its process group and (on Linux) every descendant, wherever its group or session. Synchronous:
 * each walk of /proc is ~12 ms on a small VM, so the walk is by parent links only while the harness lives
 * (as a subreaper it keeps them); the marker is for `killLeftovers`, once the harness is gone.
 */
export function killProcessTree(pid: number): void {
  if (process.platform === 'win32') {
    spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true });
    return;
  }
  if (process.platform === 'linux') {
    signal(pid, 'SIGSTOP');
    const killed = new Set<number>();
    for (let round = 0, quiet = 0; round < 50 && quiet < 2; round++) {
      const found = descendantsOf(pid);
      if (!found) break;
      const fresh = found.filter((p) => !killed.has(p) && p !== pid);
      quiet = fresh.length === 0 ? quiet + 1 : 0;
      for (const p of fresh) {
        killed.add(p);
        signal(p, 'SIGKILL');
      }
    }
    // SIGKILL is delivered asynchronously: the run is over only once they are gone (zombies under the stopped
    // harness count as gone), so nothing of it can still act after its result is reported. A clean-clone CI
    // saw a daemon grandchild still running right after a TIMEOUT was reported.
    awaitGone(killed, 1000);
  }
  signal(-pid, 'SIGKILL');
  signal(pid, 'SIGKILL');
}

/** After the harness is gone: kills what is left of its process group and, on Linux, every process carrying `marker`. */
export function killLeftovers(pid: number, marker: string): void {
  if (process.platform === 'win32') return;
  signal(-pid, 'SIGKILL');
  if (process.platform !== 'linux') return;
  const killed = new Set<number>();
  for (let round = 0; round < 10; round++) {
    const fresh = markedProcesses(marker).filter((p) => !killed.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      killed.add(p);
      signal(p, 'SIGKILL');
    }
  }
  // SIGKILL is delivered asynchronously: the run is over only once they are gone (or zombies waiting for
  // init), so nothing of it can still act after its result is reported. Rare path (a harness that died).
  awaitGone(killed, 1000);
}

/** Waits (synchronously, in 1 ms steps, at most `limitMs`) until each pid is gone or a zombie. */
function awaitGone(pids: ReadonlySet<number>, limitMs: number): void {
  if (pids.size === 0) return;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + limitMs;
  let left = [...pids];
  while (left.length > 0 && Date.now() < deadline) {
    left = left.filter(running);
    if (left.length > 0) Atomics.wait(sleeper, 0, 0, 1);
  }
}

/** Whether a process exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
