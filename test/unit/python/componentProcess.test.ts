/**
 * A component's module and process as the harness keeps them (red team rt-comp9): the module is named by its file's
 * stem (what its logger and its classes' __module__ show) unless that name is another module's, and a terminating
 * signal says where it came from: the component's own line, or another process.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PythonWorker, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const component = (body: string, head = '') =>
  `${head}from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}\n`;
const QUOTE = { symbol: 'EUR_USD', bid: 1.1, ask: 1.1002 };

describe('Python components: their module name and their signals (rt-comp9)', function () {
  this.timeout(60_000);
  let options: RunnerOptions;
  let dir = '';
  const write = componentFolder('component-process', 10_000, {
    options: (o) => void (options = o),
    dir: (d) => (dir = d),
  });

  it("names the module by its file's stem; a stem that is another module's keeps the private name", async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const says =
        '        import logging, pickle\n        return {"name": __name__, "logger": logging.getLogger(__name__).name, "module": type(self).__module__, "pickled": len(pickle.dumps(self)) > 0}';
      const mine = write('strategies/mean_revert.py', component(says));
      const r = await worker.run({ file: mine, marketData: QUOTE });
      assert.ok(r.ok, JSON.stringify(r.error));
      // Before: sptrader_component_<hash> in every log line the component wrote.
      assert.deepEqual(r.output, { name: 'mean_revert', logger: 'mean_revert', module: 'mean_revert', pickled: true });
      // Named as the standard library's json, or as a module another folder's component already holds: not taken.
      const json = await worker.run({ file: write('json.py', component(says)), marketData: QUOTE });
      assert.ok(json.ok, JSON.stringify(json.error));
      assert.match((json.output as { name: string }).name, /^sptrader_component_[0-9a-f]+$/);
      const again = await worker.run({ file: write('other/mean_revert.py', component(says)), marketData: QUOTE });
      assert.ok(again.ok, JSON.stringify(again.error));
      assert.equal((again.output as { name: string }).name, 'mean_revert', 'each folder its own, set aside in turn');
      const first = await worker.run({ file: mine, marketData: QUOTE });
      assert.deepEqual(first.output, r.output);
      // A helper beside the component that imports it by its name gets that module, not a second copy of it.
      write(
        'strategies/uses_self.py',
        component(
          '        import helper_reads\n        return {"same": helper_reads.mod() is __import__("sys").modules[__name__]}',
        ),
      );
      write('strategies/helper_reads.py', 'def mod():\n    import uses_self\n    return uses_self\n');
      const self = await worker.run({ file: join(dir, 'strategies/uses_self.py'), marketData: QUOTE });
      assert.deepEqual(self.output, { same: true }, JSON.stringify(self.error));
    } finally {
      await worker.dispose();
    }
  });

  it('what a component prints, forks or patches never stands in for its answer, nor reaches the next run', async () => {
    const corpus = join(__dirname, '../../../../test/fixtures/components');
    const worker = new PythonWorker({ ...options });
    const market = { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 };
    try {
      for (const name of [
        'thread_keeps_printing.py',
        'fork_returns_twice.py',
        'prints_protocol_line.py',
        'patches_json.py',
        'patches_json_encoder.py',
        'shims_signal_module.py',
        // rt-comp10: a fake answer and a line with no end written to fd 1, sys.stdout closed, every warning an error.
        'fd_write_stdout.py',
        'closes_stdout.py',
        'warnings_as_errors.py',
      ]) {
        const r = await worker.run({ file: join(corpus, name), marketData: QUOTE });
        assert.deepEqual([name, r.ok, r.output], [name, true, market], JSON.stringify(r.error));
        const next = await worker.run({ file: join(corpus, 'shipped_market_order.py'), marketData: QUOTE });
        assert.ok(next.ok, `${name}: ${JSON.stringify(next.error)}`);
        // The chatty thread's lines (GBP_USD) went with the interpreter it was left in.
        assert.doesNotMatch(next.stdout + next.stderr, /GBP_USD/, name);
      }
      // Its warnings filter stayed with it: the next component's warnings are warnings, not errors.
      await worker.run({ file: join(corpus, 'warnings_as_errors.py'), marketData: QUOTE });
      const warns = await worker.run({ file: join(corpus, 'logging_warnings.py'), marketData: QUOTE });
      assert.deepEqual([warns.ok, warns.output], [true, market], JSON.stringify(warns.error));
      assert.match(warns.stderr, /UserWarning: user warning here/);
    } finally {
      await worker.dispose();
    }
  });

  it('warnings filters a component sets at import hold for each of its runs and for no other component (rt-comp10)', async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const warns = "        import warnings\n        warnings.warn('stale quote', UserWarning)\n        return None";
      const strict = write('strict.py', component(warns, "import warnings\nwarnings.simplefilter('error')\n"));
      const lenient = write('lenient.py', component(warns));
      for (let i = 0; i < 2; i++) {
        const own = await worker.run({ file: strict, marketData: QUOTE });
        // Its own filter, set once at import, still holds on its second run in the warm worker.
        assert.deepEqual([i, own.ok, own.error?.code], [i, false, 'COMPONENT_ERROR']);
        assert.match(own.error?.message ?? '', /raised UserWarning: stale quote/);
        // Before: COMPONENT_ERROR here too, its warning made an error by the other component's filter.
        const other = await worker.run({ file: lenient, marketData: QUOTE });
        assert.equal(other.ok, true, JSON.stringify(other.error));
        assert.match(other.stderr, /UserWarning: stale quote/);
      }
      // Each run shows its own warnings again, as a fresh `python file.py` would (before: once per worker).
      const again = await worker.run({ file: lenient, marketData: QUOTE });
      assert.match(again.stderr, /UserWarning: stale quote/);
    } finally {
      await worker.dispose();
    }
  });

  it("an asyncio task one component left behind never runs during another component's call", async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const head = 'import asyncio\n';
      const leaves = write(
        'leaves_task.py',
        `import asyncio\n\nasync def chatter():\n    while True:\n        print('left behind')\n        await asyncio.sleep(0.01)\n\n` +
          component('        asyncio.get_running_loop().create_task(chatter())\n        return None').replace(
            '    def generate_order',
            '    async def generate_order',
          ),
      );
      const waits = write(
        'waits.py',
        component('        await asyncio.sleep(0.1)\n        return None', head).replace(
          '    def generate_order',
          '    async def generate_order',
        ),
      );
      assert.equal((await worker.run({ file: leaves, marketData: QUOTE })).ok, true);
      const other = await worker.run({ file: waits, marketData: QUOTE });
      assert.equal(other.ok, true, JSON.stringify(other.error));
      // Before: ten "left behind" lines in the other component's output, its task running on the shared loop.
      assert.equal(other.stdout, '');
      // Its own later calls still run it (a task it keeps, as a websocket reader would be).
      const again = await worker.run({ file: leaves, marketData: QUOTE });
      assert.match(again.stdout, /left behind/);
    } finally {
      await worker.dispose();
    }
  });

  it('SIGTERM from another process is said to come from outside, with the line the component was at', async () => {
    const worker = new PythonWorker({ ...options });
    try {
      const pidFile = join(dir, 'pid');
      const file = write(
        'slow.py',
        component(
          `        open(${JSON.stringify(pidFile)}, 'w').write(str(__import__('os').getpid()))\n        __import__('time').sleep(5)\n        return None`,
        ),
      );
      const run = worker.run({ file, marketData: QUOTE });
      const started = Date.now();
      let pid = 0;
      while (pid === 0 && Date.now() - started < 8000) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          pid = Number(readFileSync(pidFile, 'utf8'));
        } catch {
          // not yet
        }
      }
      process.kill(pid, 'SIGTERM');
      const r = await run;
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, 'PROCESS_EXITED');
      // Before: "did the component end its own process?" and no line.
      assert.match(
        r.error?.message ?? '',
        /signal SIGTERM before returning a result; SIGTERM came from another process \(kill, a shutdown, a process manager\) while the component ran .*slow\.py:6\. Nothing was sent/,
      );
    } finally {
      await worker.dispose();
    }
  });
});
