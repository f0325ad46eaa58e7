/** The Python runner and harness with a real interpreter. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, utimesSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { findPackageRoot, PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const base = (body: string, extra = '') =>
  `${extra}from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}\n`;

describe('Python runner', function () {
  this.timeout(30_000);
  let dir!: string;
  let options!: RunnerOptions;
  const write = componentFolder('runner', 5000, { options: (o) => void (options = o), dir: (d) => void (dir = d) });

  it('resolves the interpreter to its real executable once', async () => {
    const i = await resolveInterpreter(['python3']);
    assert.ok(i.version[0] === 3 && i.version[1] >= 8);
    assert.ok(i.executable.startsWith('/'), i.executable);
    assert.equal(await resolveInterpreter(['python3']), i);
  });

  it('finds the package root from the core/ layout, from packages, or the folder', () => {
    assert.equal(findPackageRoot('/ws/core/orders/algos/x.py'), '/ws');
    const pkg = write('proj/pkg/sub/x.py', '');
    write('proj/pkg/__init__.py', '');
    write('proj/pkg/sub/__init__.py', '');
    assert.equal(findPackageRoot(pkg), join(dir, 'proj'));
    assert.equal(findPackageRoot(write('loose/x.py', '')), join(dir, 'loose'));
  });

  it('passes the environment: TEST_MODE, BROKER_PROFILE, data variables, PYTHONPATH', async () => {
    const file = write(
      'core/orders/env.py',
      base(
        "        import os, sys\n        return {k: os.environ.get(k) for k in ('TEST_MODE', 'BROKER_PROFILE', 'CANDLE_DATA_FILE')}",
      ),
    );
    const r = await runComponentCold(
      { ...options, brokerProfile: 'paper-2', env: { ...process.env, CANDLE_DATA_FILE: '/data/eurusd.parquet' } },
      { file, marketData: {} },
    );
    assert.deepEqual(r.output, {
      TEST_MODE: 'true',
      BROKER_PROFILE: 'paper-2',
      CANDLE_DATA_FILE: '/data/eurusd.parquet',
    });
  });

  it('never hands a component SPtrader’s own variables: the CLI’s broker credentials stay out of its reach', async () => {
    const file = write(
      'core/orders/creds.py',
      base(
        "        import os\n        return sorted(k for k in os.environ if k.upper().startswith('SPTRADER_') and k != 'SPTRADER_RUN_TREE')",
      ),
    );
    const env = {
      ...process.env,
      SPTRADER_OANDA_TOKEN: 'tok-0123456789',
      SPTRADER_BINANCE_SECRET: 'sec-0123456789',
      sptrader_alpaca_secret_key: 'lower-case-0123',
      SPTRADER_PYTHON: 'python3',
      MY_DATA_VENDOR_KEY: 'the user’s own',
    };
    const r = await runComponentCold({ ...options, env }, { file, marketData: {} });
    assert.deepEqual(r.output, []);
    const own = write(
      'core/orders/own.py',
      base("        import os\n        return {'v': os.environ.get('MY_DATA_VENDOR_KEY')}"),
    );
    assert.deepEqual((await runComponentCold({ ...options, env }, { file: own, marketData: {} })).output, {
      v: 'the user’s own',
    });
  });

  it('uses the bundled OrderBase when the workspace lacks it, and the user’s own when present', async () => {
    const file = write(
      'core/orders/which.py',
      base('        import core.orders.order_base as m\n        return {"file": m.__file__}'),
    );
    const bundled = await runComponentCold(options, { file, marketData: {} });
    assert.match(
      String((bundled.output as { file: string }).file),
      /python\/sptrader_lib\/core\/orders\/order_base\.py$/,
    );
    write('core/__init__.py', '');
    write('core/orders/__init__.py', '');
    write(
      'core/orders/order_base.py',
      'class OrderBase:\n    def __init__(self, config):\n        self.config = config\n',
    );
    const own = await runComponentCold(options, { file, marketData: {} });
    assert.equal((own.output as { file: string }).file, join(dir, 'core/orders/order_base.py'));
  });

  it('gives an execute component its parameters as keyword arguments, defaults from metadata', async () => {
    const file = write(
      'core/orders/shipped.py',
      "from core.base.order import Order\n__metadata__ = {'parameters': {'base_size': {'default': 0.01}, 'urgency': {'default': 'normal'}}}\n\nclass M(Order):\n    def __init__(self, base_size=0.5, urgency='x'):\n        self.base_size, self.urgency = base_size, urgency\n    def execute(self, market_state):\n        return {'size': self.base_size, 'urgency': self.urgency, 'signal': market_state.get('signal')}\n",
    );
    const r = await runComponentCold(options, {
      file,
      marketData: {},
      parameters: { base_size: 0.02 },
      signal: { side: 'sell' },
    });
    assert.deepEqual(r.output, { size: 0.02, urgency: 'normal', signal: { side: 'sell' } });
    assert.equal(r.entryPoint, 'execute');
    // One it has no argument for and __metadata__ does not declare is refused: it was dropped without a word.
    const unknown = await runComponentCold(options, {
      file,
      marketData: {},
      parameters: { base_size: 0.02, unknown: 1 },
    });
    assert.equal(unknown.error?.code, 'INVALID_PARAMETER');
    assert.equal(unknown.error.line, 5);
  });

  it('parses the to_json envelope and picks a class by name', async () => {
    const file = write(
      'core/orders/two.py',
      `${base("        return self.to_json({'symbol': 'X'})")}\nclass D(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return {'d': 1}\n`,
    );
    const r = await runComponentCold(options, { file, className: 'C', marketData: {} });
    assert.deepEqual(r.output, {
      type: 'order_request',
      order: { symbol: 'X' },
      metadata: { component: 'C', version: '1.0' },
    });
    const missing = await runComponentCold(options, { file, className: 'Nope', marketData: {} });
    assert.equal(missing.error?.code, 'CLASS_NOT_FOUND');
    assert.match(missing.error.message, /available: C, D|available: D, C/);
  });

  it('reports a value JSON cannot carry, by path', async () => {
    const file = write('core/orders/obj.py', base("        return {'symbol': 'X', 'metadata': {'obj': object()}}"));
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
    assert.match(r.error.message, /order\.metadata\.obj is an object/);
  });

  it('inspects classes and metadata without executing the file', async () => {
    const file = write(
      'core/orders/inspect_me.py',
      `raise SystemExit('must not run')\n__metadata__ = {'symbol': 'AAPL', 'parameters': {'q': {'default': 3}}}\n${base('        return None')}`,
    );
    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(file);
      assert.deepEqual(
        info.classes.map((c) => [c.name, c.entryPoint, c.line]),
        [['C', 'generate_order', 5]],
      );
      assert.deepEqual(info.metadata, { symbol: 'AAPL', parameters: { q: { default: 3 } } });
    } finally {
      await worker.dispose();
    }
  });

  it('the worker keeps one process and runs a same-size edit made within the same second', async () => {
    const file = write('core/orders/edit.py', base("        return {'qty': 11}"));
    const worker = new PythonWorker(options);
    try {
      assert.deepEqual((await worker.run({ file, marketData: {} })).output, { qty: 11 });
      const pid = worker.pidFor(file);
      const before = statSync(file);
      writeFileSync(file, base("        return {'qty': 22}"));
      // Same size and the same whole-second mtime: the case where importlib.reload ran stale bytecode.
      utimesSync(file, before.atime, new Date(Math.floor(before.mtimeMs / 1000) * 1000 + 500));
      assert.deepEqual((await worker.run({ file, marketData: {} })).output, { qty: 22 });
      assert.equal(worker.pidFor(file), pid);
    } finally {
      await worker.dispose();
    }
  });

  it('a timeout kills the whole process tree, and the worker starts afresh afterwards', async () => {
    const file = write(
      'core/orders/spin.py',
      base(
        "        import subprocess, sys, time\n        child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n        print('child', child.pid)\n        while True:\n            time.sleep(0.01)",
      ),
    );
    const ok = write('core/orders/ok.py', base("        return {'ok': True}"));
    const worker = new PythonWorker({ ...options, timeoutMs: 1500 });
    try {
      await worker.run({ file: ok, marketData: {} });
      const pid = worker.pidFor(ok)!;
      const r = await worker.run({ file, marketData: {} });
      assert.equal(r.error?.code, 'TIMEOUT');
      assert.match(r.error.message, /1\.5 s; its process tree was stopped and nothing was sent/);
      await new Promise((res) => setTimeout(res, 200));
      // ps exits 1 when no process is left in the group at all (nothing to list): that is the pass case too.
      const alive = spawnSync('ps', ['-o', 'pid=,stat=,args=', '-g', String(pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.trim() && !/\sZ/.test(l))
        .join('\n');
      assert.equal(alive, '', `processes left in the group: ${alive}`);
      assert.deepEqual((await worker.run({ file: ok, marketData: {} })).output, { ok: true });
      assert.notEqual(worker.pidFor(ok), pid);
    } finally {
      await worker.dispose();
    }
  });

  it('os._exit() in a component is a clear error that leaves the worker running', async () => {
    const boom = write('core/orders/boom.py', base('        import os\n        os._exit(3)'));
    const ok = write('core/orders/ok2.py', base("        return {'ok': 1}"));
    const worker = new PythonWorker(options);
    try {
      assert.deepEqual((await worker.run({ file: ok, marketData: {} })).output, { ok: 1 });
      const pid = worker.pidFor(ok);
      const r = await worker.run({ file: boom, marketData: {} });
      assert.equal(r.error?.code, 'COMPONENT_EXIT');
      assert.match(r.error.message, /os\._exit\(3\) inside generate_order at line 6/);
      assert.deepEqual((await worker.run({ file: ok, marketData: {} })).output, { ok: 1 });
      assert.equal(worker.pidFor(ok), pid);
    } finally {
      await worker.dispose();
    }
  });

  it('the worker recovers after the component kills its own process', async () => {
    const boom = write(
      'core/orders/boom.py',
      base('        import os, signal\n        os.kill(os.getpid(), signal.SIGKILL)'),
    );
    const ok = write('core/orders/ok2.py', base("        return {'ok': 1}"));
    const worker = new PythonWorker(options);
    try {
      const r = await worker.run({ file: boom, marketData: {} });
      assert.equal(r.error?.code, 'PROCESS_EXITED');
      assert.match(r.error.message, /signal SIGKILL/);
      assert.deepEqual((await worker.run({ file: ok, marketData: {} })).output, { ok: 1 });
    } finally {
      await worker.dispose();
    }
  });
});

describe('Python worker under load', function () {
  this.timeout(30_000);
  it('serves concurrent runs from one interpreter, each with its own output cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-load-'));
    try {
      const file = join(dir, 'chatty.py');
      writeFileSync(file, base("        print('x' * 600)\n        return {'n': market_data['n']}"));
      const worker = new PythonWorker({
        interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
        outputLimitBytes: 2048,
      });
      try {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, n) => worker.run({ file, marketData: { n } })),
        );
        assert.deepEqual(
          results.map((r) => r.output),
          Array.from({ length: 20 }, (_, n) => ({ n })),
        );
        assert.ok(results.every((r) => r.stdout.length === 601));
      } finally {
        await worker.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
