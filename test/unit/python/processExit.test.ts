/**
 * A component that ends its own Python process (red team rt-comp11): os.abort() and posix._exit() are stopped at their
 * line with the worker alive; what Python cannot stop (a C library's abort() or _exit() through ctypes) is said as the
 * component ending the process, with the line faulthandler's traceback names where there is one, and the next Test
 * Order gets a new interpreter with nothing of the old one left running. Real python3.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const QUOTE = { symbol: 'EUR_USD', bid: 1.1, ask: 1.1002 };
// No core file in the test's folder from the SIGABRT.
const HEAD = 'import ctypes, os, resource, subprocess\nresource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n';
const component = (body: string) =>
  `${HEAD}from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}\n`;

/** Whether a process runs (a zombie waiting to be reaped does not). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !'ZX'.includes(stat.charAt(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

describe('Python components: a component that ends its own process (rt-comp11)', function () {
  this.timeout(60_000);
  let options: RunnerOptions;
  let dir = '';
  const write = componentFolder('process-exit', 10_000, { options: (o) => void (options = o), dir: (d) => (dir = d) });

  it("a C library's abort(): said as the component ending the process, at its line; the next run gets a new worker", async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const pidFile = join(dir, 'child.pid');
      const aborts = write(
        'aborts.py',
        component(
          `        child = subprocess.Popen(['sleep', '30'])\n        open(${JSON.stringify(pidFile)}, 'w').write(str(child.pid))\n        ctypes.CDLL(None).abort()\n        return None`,
        ),
      );
      const fine = write('fine.py', component("        return {'pid': os.getpid()}"));
      const before = await worker.run({ file: fine, marketData: QUOTE });
      const firstPid = (before.output as { pid: number }).pid;
      const r = await worker.run({ file: aborts, marketData: QUOTE });
      assert.equal(r.error?.code, 'PROCESS_EXITED', r.error?.message);
      // Before: "did the component end its own process (a signal, os.abort())?" and no line.
      assert.match(
        r.error.message,
        /^the component ended the Python process \(signal SIGABRT: Aborted\) at line 9, in generate_order; nothing was sent\. A component returns its order .* the next run starts a new Python process\./,
      );
      assert.equal(r.error.line, 9);
      assert.equal(r.error.file, aborts);
      const next = await worker.run({ file: fine, marketData: QUOTE });
      assert.equal(next.error, undefined, next.error?.message);
      const nextPid = (next.output as { pid: number }).pid;
      assert.notEqual(nextPid, firstPid);
      assert.equal(alive(firstPid), false, 'the aborted worker is gone');
      // What it started went with it: nothing of the old worker is left to write into another run.
      assert.equal(alive(Number(readFileSync(pidFile, 'utf8'))), false, 'its child is gone');
    } finally {
      await worker.dispose();
    }
  });

  it('a run stopped from outside (a cancel) says so, not that the component ended its process', async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const pidFile = join(dir, 'worker.pid');
      const slow = write(
        'slow.py',
        component(
          `        open(${JSON.stringify(pidFile)}, 'w').write(str(os.getpid()))\n        __import__('time').sleep(5)`,
        ),
      );
      const run = worker.run({ file: slow, marketData: QUOTE });
      const started = Date.now();
      while (Date.now() - started < 8000) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          if (Number(readFileSync(pidFile, 'utf8')) > 0) break;
        } catch {
          // not yet
        }
      }
      await worker.stop();
      const r = await run;
      assert.equal(r.error?.code, 'PROCESS_EXITED');
      assert.match(r.error.message, /^the run was stopped \(cancelled\) before the component returned/);
    } finally {
      await worker.dispose();
    }
  });

  it('an exit code through C (libc _exit): said as the component ending the process, with no line to give', async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const exits = write('exits.py', component('        ctypes.CDLL(None)._exit(5)'));
      const r = await worker.run({ file: exits, marketData: QUOTE });
      assert.equal(r.error?.code, 'PROCESS_EXITED', r.error?.message);
      assert.match(
        r.error.message,
        /^the component ended the Python process \(exit code 5\) before returning a result; where in exits\.py cannot be told: it left Python without an exception/,
      );
      assert.equal(r.error.line, undefined);
      const next = await worker.run({ file: write('fine.py', component('        return None')), marketData: QUOTE });
      assert.equal(next.error, undefined, next.error?.message);
    } finally {
      await worker.dispose();
    }
  });

  it('os.abort() and posix._exit() stop the run at their line and the worker carries on', async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const pid = (file: string) => worker.pidFor(file);
      const abort = write('abort.py', component('        os.abort()'));
      const posix = write('posix.py', component('        import posix\n        posix._exit(2)'));
      const inThread = write(
        'thread.py',
        component(
          '        import threading\n        t = threading.Thread(target=lambda: os.abort())\n        t.start(); t.join()\n        return None',
        ),
      );
      const first = await worker.run({ file: abort, marketData: QUOTE });
      const started = pid(abort);
      assert.equal(first.error?.code, 'COMPONENT_EXIT', first.error?.message);
      assert.equal(first.error.line, 7);
      assert.match(
        first.error.message,
        /^the component called os\.abort\(\) inside generate_order at line 7; the harness stopped it/,
      );
      const second = await worker.run({ file: posix, marketData: QUOTE });
      assert.equal(second.error?.code, 'COMPONENT_EXIT', second.error?.message);
      assert.equal(second.error.line, 8);
      assert.match(second.error.message, /called os\._exit\(2\) inside generate_order at line 8/);
      const third = await worker.run({ file: inThread, marketData: QUOTE });
      assert.equal(third.error?.code, 'COMPONENT_EXIT', third.error?.message);
      assert.match(
        third.error.message,
        /^a thread the component started \(Thread-\d+.*\) called os\.abort\(\) at line 8 while generate_order ran/,
      );
      assert.equal(pid(abort), started, 'the same worker served all three');
    } finally {
      await worker.dispose();
    }
  });

  it('exit() and quit() at load and in the constructor say what was called; the next run still reads no input', async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const atLoad = write('at_load.py', 'import sys\n\nif True:\n    quit(2)\n');
      const inInit = write(
        'in_init.py',
        'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def __init__(self, config=None):\n        exit()\n\n    def generate_order(self, market_data, signal=None):\n        return None\n',
      );
      const reads = write('reads.py', component("        import sys\n        return {'read': sys.stdin.read()}"));
      const load = await worker.run({ file: atLoad, marketData: QUOTE });
      assert.match(
        load.error?.message ?? '',
        /^the component called quit\(2\) \(the interactive shell's quit, .*\) while loading at line 4/,
      );
      const init = await worker.run({ file: inInit, marketData: QUOTE });
      assert.match(
        init.error?.message ?? '',
        /^the component called exit\(\) \(the interactive shell's exit, .*\) in its constructor at line 5$/,
      );
      // exit() and quit() close sys.stdin first; before, the next component's read raised "I/O operation on closed file".
      const read = await worker.run({ file: reads, marketData: QUOTE });
      assert.deepEqual([read.error, read.output], [undefined, { read: '' }]);
    } finally {
      await worker.dispose();
    }
  });
});
