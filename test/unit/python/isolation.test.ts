/**
 * Regressions of issue 11: the harness's answer can only come from the harness serving that run,
 * processes a component leaves behind die with its run, a run ends at its timeout whatever they do,
 * and answers and metadata have limits checked before anything is stored or sent.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monotonicMs } from '../../../src/common/clock';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const component = (body: string, head = '') =>
  `${head}from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}\n`;

/** Code a component can use to reach the harness's own request id and channel descriptor (a deliberate act, as a test needs). */
const HARNESS_SECRETS = `
def harness_secrets():
    import sys
    frame = sys._getframe()
    while frame is not None:
        if 'rid' in frame.f_locals and 'self' in frame.f_locals and hasattr(frame.f_locals['self'], 'proto_out'):
            return frame.f_locals['rid'], frame.f_locals['self'].proto_out.fileno()
        frame = frame.f_back
    raise RuntimeError('harness frame not found')

`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for every purpose here; Linux shows it as state Z.
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}

/** Every live process below `root`, from the parent links in /proc (Linux). */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

describe('Python runner isolation (issue 11)', function () {
  this.timeout(60_000);
  let dir!: string;
  let options!: RunnerOptions;
  const write = componentFolder('isolation', 5000, { options: (o) => void (options = o), dir: (d) => void (dir = d) });

  it("a child and a thread left behind by component A, forging A's answer later, do not answer component B's run", async () => {
    const forged = "{'symbol': 'FORGED', 'side': 'sell', 'quantity': 999999}";
    const a = write(
      'core/orders/a.py',
      component(
        `        import json, os, subprocess, sys, threading, time
        rid, fd = harness_secrets()
        harness = os.getpid()
        line = ('\\n' + json.dumps({'id': rid, 'ok': True, 'result': ${forged}, 'stdout': '', 'stderr': ''}, separators=(',', ':')) + '\\n').encode()
        started = os.path.join(${JSON.stringify(dir)}, 'b-started')
        def forge():
            # Only once B runs: while A runs, A's id is current, and a component that reads its own id can answer
            # for itself (the documented boundary: a component runs with the user's rights).
            while not os.path.exists(started):
                time.sleep(0.005)
            for _ in range(40):
                time.sleep(0.01)
                try:
                    os.write(fd, line)
                except OSError:
                    pass
        threading.Thread(target=forge, daemon=True).start()
        # A child writes the same through /proc, the one way a child can still reach the channel.
        code = 'import os, sys, time\\n' \\
               'time.sleep(0.3)\\n' \\
               'fd = os.open("/proc/%d/fd/%d", os.O_WRONLY)\\n' \\
               'os.write(fd, sys.argv[1].encode())\\n' % (harness, fd)
        child = subprocess.Popen([sys.executable, '-c', code, line.decode()], start_new_session=True)
        print('child', child.pid)
        # A line under another id, on the channel during A's own run, is set aside too.
        os.write(fd, line.replace(rid.encode(), b'not-' + rid.encode()))
        return {'symbol': 'A', 'side': 'buy', 'quantity': 1}`,
        HARNESS_SECRETS,
      ),
    );
    const b = write(
      'core/orders/b.py',
      component(
        `        import time\n        open(${JSON.stringify(join(dir, 'b-started'))}, 'w').close()\n        time.sleep(0.6)\n        return {'symbol': 'B', 'side': 'buy', 'quantity': 2}`,
      ),
    );
    const worker = new PythonWorker(options);
    try {
      const first = await worker.run({ file: a, marketData: {} });
      assert.deepEqual(first.output, { symbol: 'A', side: 'buy', quantity: 1 });
      const child = Number(/child (\d+)/.exec(first.stdout)?.[1]);
      assert.ok(child > 0, first.stdout);
      assert.equal(alive(child), false, 'the child component A left running is killed when its run ends');
      assert.match(first.diagnostics?.join('\n') ?? '', new RegExp(`killed 1 process .*\\(${child}\\)`));
      assert.match(first.diagnostics?.join('\n') ?? '', /discarded \d+ bytes on the harness's answer channel .*FORGED/);
      assert.match(first.stderr, /\[sptrader\] discarded/);
      // A thread cannot be killed: the worker it lives in is, and B runs in a new one.
      assert.match(first.stderr, /\[sptrader\] the component left 1 thread running/);
      const pid = worker.pidFor(a);
      const second = await worker.run({ file: b, marketData: {} });
      assert.deepEqual(second.output, { symbol: 'B', side: 'buy', quantity: 2 });
      assert.equal(second.error, undefined);
      assert.doesNotMatch(JSON.stringify(second), /FORGED/);
      assert.notEqual(worker.pidFor(b), pid);
    } finally {
      await worker.dispose();
    }
  });

  it('a grandchild sleeping 60 s does not hold a 2 s run past its timeout, and is dead afterwards', async () => {
    const file = write(
      'core/orders/linger.py',
      component(
        `        import os, subprocess, sys, time
        # The grandchild leaves the session and holds stdout/stderr open; then the component spins.
        code = 'import os, sys, time\\nif os.fork() == 0:\\n    os.setsid()\\n    print("grandchild", os.getpid(), file=sys.stderr, flush=True)\\n    time.sleep(60)\\n'
        subprocess.Popen([sys.executable, '-c', code]).wait()
        while True:
            time.sleep(0.01)`,
      ),
    );
    const started = monotonicMs();
    const r = await runComponentCold({ ...options, timeoutMs: 2000 }, { file, marketData: {} });
    const took = monotonicMs() - started;
    console.log(`      timeout run with a lingering grandchild: ${took.toFixed(0)} ms (timeout 2000 ms)`);
    assert.equal(r.error?.code, 'TIMEOUT');
    assert.ok(took < 3000, `took ${took} ms`);
    const grandchild = Number(/grandchild (\d+)/.exec(r.stderr)?.[1]);
    assert.ok(grandchild > 0, r.stderr);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(alive(grandchild), false, 'the grandchild is killed with the tree');
  });

  it('a Node process that ran a component exits at once, whatever the component left running', async () => {
    const file = write(
      'core/orders/daemon.py',
      component(
        `        import os, subprocess, sys
        code = 'import os, sys, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(60)\\n'
        subprocess.Popen([sys.executable, '-c', code], start_new_session=True).wait()
        return {'symbol': 'X', 'side': 'buy', 'quantity': 1}`,
      ),
    );
    const runner = join(__dirname, '../../../src/python/runner.js');
    const script = `const { runComponentCold } = require(${JSON.stringify(runner)});
      const interpreter = ${JSON.stringify(options.interpreter)};
      runComponentCold({ interpreter, timeoutMs: 5000 }, { file: ${JSON.stringify(file)}, marketData: {} })
        .then((r) => { process.stdout.write(JSON.stringify(r.output) + ' ' + Date.now() + '\\n'); });`;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    const ended = Date.now();
    const [output, resultAt] = child.stdout.trim().split(' ');
    assert.equal(output, JSON.stringify({ symbol: 'X', side: 'buy', quantity: 1 }), child.stderr);
    console.log(
      `      Node process: result after ${Number(resultAt) - started} ms, exited ${ended - Number(resultAt)} ms later`,
    );
    assert.ok(ended - Number(resultAt) < 1000, `Node lingered ${ended - Number(resultAt)} ms after the result`);
  });

  it('the harness of a Node process killed while its component loops (and what the component started) ends too', async () => {
    const file = write(
      'core/orders/spins.py',
      component(
        `        import subprocess, sys
        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
        while True:
            pass`,
      ),
    );
    const runner = join(__dirname, '../../../src/python/runner.js');
    // A warm worker in a Node process that is SIGKILLed while the component spins (a one-run session ends at its
    // run's own limit, which the harness keeps itself).
    for (const how of ['worker']) {
      const run = `new PythonWorker({ interpreter, timeoutMs: 60000 }).run({ file: ${JSON.stringify(file)}, marketData: {} })`;
      const script = `const { PythonWorker, runComponentCold } = require(${JSON.stringify(runner)});
        const interpreter = ${JSON.stringify(options.interpreter)};
        void ${run};
        setTimeout(() => process.stdout.write('spinning\\n'), 1500);`;
      const node = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          node.stdout.on('data', (d: Buffer) => (String(d).includes('spinning') ? resolve() : undefined));
          node.on('exit', (code) => reject(new Error(`the Node process exited (${code}) before its component ran`)));
        });
        const harness = descendantsOf(node.pid as number);
        assert.ok(harness.length >= 2, `${how}: the harness and the component's child run (${harness.join(', ')})`);
        node.kill('SIGKILL');
        const deadline = Date.now() + 5000;
        while (harness.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(harness.filter(alive), [], `${how}: processes left running after their Node process died`);
      } finally {
        node.kill('SIGKILL');
      }
    }
  });

  it('a 10 MB field is refused quickly with a clear error, and nothing of it is kept', async () => {
    const file = write(
      'core/orders/huge.py',
      component("        return {'symbol': 'X', 'side': 'buy', 'quantity': 1, 'note': 'x' * (10 * 1024 * 1024)}"),
    );
    const worker = new PythonWorker(options);
    try {
      await worker.run({ file: write('core/orders/warm.py', component('        return None')), marketData: {} });
      const started = monotonicMs();
      const r = await worker.run({ file, marketData: {} });
      const took = monotonicMs() - started;
      console.log(`      10 MB field refused in ${took.toFixed(1)} ms`);
      assert.equal(r.ok, false);
      assert.equal(r.output, null);
      assert.equal(r.error?.code, 'ANSWER_TOO_LARGE');
      assert.match(
        r.error.message,
        /at least 10,48\d,\d{3} bytes as JSON \(order\.note is a string of 10,485,760 characters\)/,
      );
      assert.match(r.error.message, /more than the limit of 262,144 bytes.*nothing was sent/);
      assert.match(
        r.error.message,
        /raise maxAnswerBytes \(CLI --max-answer-bytes, setting sptrader\.python\.maxAnswerBytes\)/,
      );
      assert.ok(took < 5000, `took ${took} ms`);
      assert.ok(JSON.stringify(r).length < 10_000, 'the result holds nothing of the 10 MB');
    } finally {
      await worker.dispose();
    }
  });

  it('limits are options: a larger answer passes when allowed, and __metadata__ and nesting have their own', async () => {
    const big = write('core/orders/big.py', component("        return {'symbol': 'X', 'note': 'y' * 300000}"));
    const meta = write(
      'core/orders/meta.py',
      component("        return {'symbol': 'X'}", `__metadata__ = {'name': 'm', 'blob': '${'z'.repeat(70000)}'}\n`),
    );
    const deep = write(
      'core/orders/deep.py',
      component("        v = {'symbol': 'X'}\n        for _ in range(70):\n            v = {'n': v}\n        return v"),
    );
    const cyclic = write(
      'core/orders/cyclic.py',
      component("        v = {'symbol': 'X'}\n        v['self'] = v\n        return v"),
    );
    const worker = new PythonWorker(options);
    const roomy = new PythonWorker({
      ...options,
      maxAnswerBytes: 1024 * 1024,
      maxMetadataBytes: 128 * 1024,
      maxNestingDepth: 100,
    });
    try {
      assert.equal((await worker.run({ file: big, marketData: {} })).error?.code, 'ANSWER_TOO_LARGE');
      assert.equal(((await roomy.run({ file: big, marketData: {} })).output as { note: string }).note.length, 300000);
      const m = await worker.run({ file: meta, marketData: {} });
      assert.equal(m.error?.code, 'METADATA_TOO_LARGE');
      assert.match(
        m.error.message,
        /__metadata__ is at least 70,0\d\d bytes .*limit of 65,536 bytes, reached at __metadata__\.blob/,
      );
      await assert.rejects(worker.inspect(meta), (e: Error & { code?: string }) => e.code === 'METADATA_TOO_LARGE');
      assert.deepEqual((await roomy.run({ file: meta, marketData: {} })).output, { symbol: 'X' });
      const d = await worker.run({ file: deep, marketData: {} });
      assert.equal(d.error?.code, 'ANSWER_TOO_DEEP');
      assert.match(d.error.message, /nested more than 64 levels deep at order\.n\.n/);
      assert.equal((await roomy.run({ file: deep, marketData: {} })).error, undefined);
      const c = await worker.run({ file: cyclic, marketData: {} });
      assert.equal(c.error?.code, 'ANSWER_TOO_DEEP');
      assert.match(c.error.message, /does a value contain itself\?/);
    } finally {
      await worker.dispose();
      await roomy.dispose();
    }
  });

  it('printing stays bounded and linear: 50 MB of print() is cut at the output limit', async () => {
    const file = write(
      'core/orders/chatty.py',
      component("        for _ in range(50):\n            print('p' * (1024 * 1024))\n        return {'symbol': 'X'}"),
    );
    const worker = new PythonWorker(options);
    try {
      await worker.run({ file: write('core/orders/warm.py', component('        return None')), marketData: {} });
      const started = monotonicMs();
      const r = await worker.run({ file, marketData: {} });
      const took = monotonicMs() - started;
      console.log(`      50 MB printed, refused in ${took.toFixed(0)} ms`);
      assert.equal(r.error?.code, 'OUTPUT_LIMIT_EXCEEDED');
      assert.ok(r.stdout.length <= 1024 * 1024, `kept ${r.stdout.length}`);
    } finally {
      await worker.dispose();
    }
  });

  it('the answer channel is not at fd 0, 1 or 2 and is closed in children, forked or executed', async () => {
    const file = write(
      'core/orders/fds.py',
      component(
        `        import os, subprocess, sys
        rid, fd = harness_secrets()
        pid = os.fork()
        if pid == 0:
            try:
                target = os.readlink('/proc/self/fd/%d' % fd)
            except OSError:
                target = 'closed'
            with open(os.path.join(${JSON.stringify(dir)}, 'forked.txt'), 'w') as f:
                f.write(target)
            os._exit(0)
        os.waitpid(pid, 0)
        listed = subprocess.run([sys.executable, '-c', 'import os; print(sorted(int(x) for x in os.listdir("/proc/self/fd")))'],
                                capture_output=True, text=True).stdout
        with open(os.path.join(${JSON.stringify(dir)}, 'forked.txt')) as f:
            forked = f.read()
        return {'fd': fd, 'own': os.readlink('/proc/self/fd/%d' % fd), 'stdout': os.readlink('/proc/self/fd/1'), 'forked': forked, 'exec': listed}`,
        HARNESS_SECRETS,
      ),
    );
    const worker = new PythonWorker(options);
    try {
      const r = await worker.run({ file, marketData: {} });
      const o = r.output as { fd: number; own: string; stdout: string; forked: string; exec: string };
      assert.ok(o.fd >= 10, `channel at fd ${o.fd}`);
      assert.match(o.own, /^(pipe|socket):/);
      assert.notEqual(o.stdout, o.own, 'fd 1 is not the channel');
      assert.equal(o.forked, '/dev/null');
      assert.ok(!(JSON.parse(o.exec) as number[]).includes(o.fd), `an executed child inherited fd ${o.fd}: ${o.exec}`);
    } finally {
      await worker.dispose();
    }
  });
});
