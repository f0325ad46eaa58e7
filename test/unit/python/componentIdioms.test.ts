/**
 * Components as users write them across several files and with everyday Python idioms: relative imports of a
 * sibling helper, a helper that does not compile, a decorated generate_order, a component that rebinds the json
 * module's functions, an order returned as an object rather than a dict. A real interpreter runs each through
 * the harness, warm (the worker) where it matters.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}";

describe('Python components: modules and idioms', function () {
  this.timeout(30_000);
  let dir!: string;
  let options!: RunnerOptions;
  const write = componentFolder('modules', 5000, { options: (o) => void (options = o), dir: (d) => void (dir = d) });

  it('resolves relative imports against the component’s package, with or without __init__.py', async () => {
    write('core/orders/algos/__init__.py', '');
    write('core/orders/algos/sizing.py', 'def size():\n    return 1200\n');
    const inPackage = write(
      'core/orders/algos/sized.py',
      'from .sizing import size\nfrom . import sizing\nfrom core.orders.order_base import OrderBase\n\n' +
        'class C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'q': size(), 'same': sizing.size is size}\n",
    );
    const r = await runComponentCold(options, { file: inPackage, marketData: {} });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, { q: 1200, same: true });
    // A folder without __init__.py is a namespace package to Python: relative imports work there too.
    write('core/orders/loose/helpers.py', 'LOT = 7\n');
    const loose = write(
      'core/orders/loose/lot.py',
      'from .helpers import LOT\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'q': LOT}\n",
    );
    assert.deepEqual((await runComponentCold(options, { file: loose, marketData: {} })).output, { q: 7 });
  });

  it('a helper module that does not compile is a SYNTAX_ERROR at the helper’s own line and column', async () => {
    write('core/orders/algos/helper.py', 'X = 1\n\ndef f(:\n    pass\n');
    const atLoad = write(
      'core/orders/algos/uses.py',
      `from core.orders.algos import helper\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const inCall = write(
      'core/orders/algos/later.py',
      'class C:\n    def generate_order(self, market_data, signal=None):\n' +
        `        from core.orders.algos import helper\n        return ${ORDER}\n`,
    );
    const worker = new PythonWorker(options);
    try {
      for (const [file, line] of [
        [atLoad, 1],
        [inCall, 3],
      ] as const) {
        const r = await worker.run({ file, marketData: {} });
        assert.equal(r.ok, false);
        assert.equal(r.error?.code, 'SYNTAX_ERROR');
        assert.equal(r.error.file, join(dir, 'core/orders/algos/helper.py'));
        assert.equal(r.error.line, 3);
        assert.equal(r.error.column, 7);
        const name = file === atLoad ? 'uses.py' : 'later.py';
        assert.match(
          r.error.message,
          new RegExp(`^syntax error in helper\\.py at line 3, column 7: .*\\(imported by ${name} at line ${line}\\)$`),
        );
      }
      // Fixed, the same warm worker imports it.
      write('core/orders/algos/helper.py', 'X = 1\n\ndef f():\n    pass\n');
      assert.equal((await worker.run({ file: atLoad, marketData: {} })).error, undefined);
    } finally {
      await worker.dispose();
    }
  });

  it('a generate_order(self, market_data) under a functools.wraps decorator gets market_data alone', async () => {
    const file = write(
      'core/orders/timed.py',
      'import functools\nfrom core.orders.order_base import OrderBase\n\n' +
        'def timed(f):\n    @functools.wraps(f)\n    def wrapper(*args, **kwargs):\n        return f(*args, **kwargs)\n    return wrapper\n\n' +
        "class C(OrderBase):\n    @timed\n    def generate_order(self, market_data):\n        return {'bid': market_data['bid']}\n",
    );
    const r = await runComponentCold(options, { file, marketData: { bid: 1.5 }, signal: { strength: 1 } });
    assert.equal(r.error, undefined, r.error?.message);
    assert.deepEqual(r.output, { bid: 1.5 });
  });

  it('a component that rebinds json.dumps and json.loads does not break the answer or the warm worker', async () => {
    const file = write(
      'core/orders/fastjson.py',
      "import json\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        json.dumps = lambda *a, **k: 'not json'\n" +
        `        json.loads = lambda *a, **k: {}\n        return ${ORDER}\n`,
    );
    const worker = new PythonWorker(options);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await worker.run({ file, marketData: {} });
        assert.equal(r.error, undefined, r.error?.message);
        assert.deepEqual(r.output, { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 1000 });
      }
    } finally {
      await worker.dispose();
    }
  });

  it('an order returned as an object is refused with the conversion that makes it a dict', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        "O = collections.namedtuple('O', 'symbol side order_type quantity')",
        "O('EUR_USD', 'buy', 'market', 1000)",
        /^generate_order returned a namedtuple O, not a dict; return its _asdict\(\)$/,
      ],
      [
        "@dataclasses.dataclass\nclass O:\n    symbol: str = 'EUR_USD'",
        'O()',
        /the value at order is an O, .*\(a dataclass: return dataclasses\.asdict\(\.\.\.\) of it\)$/,
      ],
      [
        'class O:\n    def to_dict(self):\n        return {}',
        'O()',
        /is an O, .*\(it has to_dict\(\): return what that gives\)$/,
      ],
      [
        "class Side(enum.Enum):\n    BUY = 'buy'",
        "{'symbol': 'EUR_USD', 'side': Side.BUY, 'order_type': 'market', 'quantity': 1}",
        /the value at order\.side is a Side, .*\(an Enum member: return its \.value, 'buy'\)$/,
      ],
    ];
    const worker = new PythonWorker(options);
    try {
      for (const [i, [defs, value, message]] of cases.entries()) {
        const file = write(
          `core/orders/object${i}.py`,
          `import collections, dataclasses, enum\n${defs}\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return ${value}\n`,
        );
        const r = await worker.run({ file, marketData: {} });
        assert.equal(r.error?.code, 'NOT_SERIALIZABLE', JSON.stringify(r.error));
        assert.match(r.error.message, message);
        assert.equal(r.error.line, defs.split('\n').length + 5, 'the return line');
      }
    } finally {
      await worker.dispose();
    }
  });

  it('a class deriving OrderBase whose generate_order is misspelt is named as abstract, not just "no class"', async () => {
    const file = write(
      'core/orders/typo.py',
      'from core.orders.order_base import OrderBase\n\nclass Typo(OrderBase):\n' +
        '    def generate_orders(self, market_data, signal=None):\n        return None\n',
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'NO_COMPONENT_CLASS');
    // ... and the method it defines instead, at its line (round 12).
    assert.match(
      r.error.message,
      /; abstract, so not one: Typo \(it does not define generate_order; it defines generate_orders at line 4: did you mean generate_order \(what OrderBase declares\)\?\)$/,
    );
  });

  it('a file that only imports a component class says where that class is defined', async () => {
    write(
      'core/orders/algos/defined.py',
      'from core.orders.order_base import OrderBase\n\nclass Defined(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const file = write(
      'core/orders/reexport.py',
      'from sqlite3 import Cursor\nfrom core.orders.algos.defined import Defined\n',
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'NO_COMPONENT_CLASS');
    assert.match(
      r.error.message,
      /; imported classes are not this file's components: run the file that defines Defined \(from core\.orders\.algos\.defined\), or derive a class from it here$/,
    );
  });

  it('the warm worker runs a sibling helper’s edit, and keeps an unchanged helper’s state', async () => {
    write('core/orders/algos/__init__.py', '');
    const helper = write(
      'core/orders/algos/sizing.py',
      'CALLS = [0]\n\ndef size():\n    CALLS[0] += 1\n    return 1200\n',
    );
    const file = write(
      'core/orders/algos/sized.py',
      'from .sizing import size, CALLS\nfrom core.orders.algos import sizing\n\n' +
        'class C:\n    def generate_order(self, market_data, signal=None):\n' +
        "        return {'q': size(), 'via_package': sizing.size(), 'calls': CALLS[0]}\n",
    );
    const worker = new PythonWorker(options);
    try {
      assert.deepEqual((await worker.run({ file, marketData: {} })).output, { q: 1200, via_package: 1200, calls: 2 });
      const pid = worker.pidFor(file);
      assert.deepEqual((await worker.run({ file, marketData: {} })).output, { q: 1200, via_package: 1200, calls: 4 });
      writeFileSync(helper, 'CALLS = [0]\n\ndef size():\n    CALLS[0] += 1\n    return 34567\n');
      assert.deepEqual((await worker.run({ file, marketData: {} })).output, { q: 34567, via_package: 34567, calls: 2 });
      assert.equal(worker.pidFor(file), pid, 'the same interpreter');
    } finally {
      await worker.dispose();
    }
  });

  it('a thread a run leaves printing never reaches the next run: the warm worker is replaced, and says why', async () => {
    const chatty = write(
      'core/orders/chatty.py',
      'import threading, time\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n' +
        "        def loop():\n            for i in range(400):\n                print('CHATTY' * 100, i)\n                time.sleep(0.005)\n" +
        '        threading.Thread(target=loop, daemon=True).start()\n        return None\n',
    );
    const quiet = write(
      'core/orders/quiet.py',
      "class C:\n    def generate_order(self, market_data, signal=None):\n        return {'ok': 1}\n",
    );
    const worker = new PythonWorker(options);
    try {
      const first = await worker.run({ file: chatty, marketData: {} });
      assert.equal(first.error, undefined);
      assert.match(first.stderr, /\[sptrader\] the component left 1 thread running \(.*\); a thread cannot be stopped/);
      const pid = worker.pidFor(chatty);
      for (let i = 0; i < 3; i++) {
        const r = await worker.run({ file: quiet, marketData: {} });
        assert.deepEqual(r.output, { ok: 1 });
        assert.doesNotMatch(r.stdout + r.stderr, /CHATTY/);
      }
      assert.notEqual(worker.pidFor(quiet), pid, 'a new interpreter');
      // A run that leaves no thread behind keeps its interpreter.
      const kept = worker.pidFor(quiet);
      await worker.run({ file: quiet, marketData: {} });
      assert.equal(worker.pidFor(quiet), kept);
    } finally {
      await worker.dispose();
    }
  });

  it('a constructor that needs a parameter it was not given says which, and how to give it', async () => {
    const config = write(
      'core/orders/needs_config.py',
      'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def __init__(self, config):\n' +
        "        super().__init__(config)\n        self.qty = config['qty']\n\n" +
        "    def generate_order(self, market_data, signal=None):\n        return {'q': self.qty}\n",
    );
    const keyword = write(
      'core/orders/needs_argument.py',
      "class C:\n    def __init__(self, qty):\n        self.qty = qty\n\n    def execute(self, market_state):\n        return {'q': self.qty}\n",
    );
    const worker = new PythonWorker(options);
    try {
      for (const file of [config, keyword]) {
        const r = await worker.run({ file, marketData: {} });
        assert.equal(r.error?.code, 'CONSTRUCTOR_ERROR');
        assert.match(r.error.message, /; the parameter 'qty' was not given: .*--param qty=VALUE/);
        assert.deepEqual((await worker.run({ file, marketData: {}, parameters: { qty: 3 } })).output, { q: 3 });
      }
    } finally {
      await worker.dispose();
    }
  });

  it('a run’s chdir and signal handlers do not carry over to the next run in the warm worker', async () => {
    const changes = write(
      'core/orders/changes.py',
      'import os, signal\n\nclass C:\n    def generate_order(self, market_data, signal_=None):\n' +
        "        os.chdir('/')\n        signal.signal(signal.SIGINT, signal.SIG_IGN)\n" +
        '        signal.signal(signal.SIGTERM, lambda *a: None)\n        return None\n',
    );
    const reads = write(
      'core/orders/reads.py',
      'import os, signal\n\nclass C:\n    def generate_order(self, market_data, signal_=None):\n' +
        "        return {'cwd': os.getcwd(), 'sigint': signal.getsignal(signal.SIGINT) is signal.default_int_handler,\n" +
        "                'sigterm': getattr(signal.getsignal(signal.SIGTERM), '__name__', None)}\n",
    );
    const worker = new PythonWorker(options);
    try {
      const before = (await worker.run({ file: reads, marketData: {} })).output as { cwd: string };
      // SIGTERM's handler is the harness's own: it says which line of a component sent it (rt-comp9).
      assert.deepEqual(before, { cwd: before.cwd, sigint: true, sigterm: '_on_signal' });
      assert.notEqual(before.cwd, '/');
      assert.equal((await worker.run({ file: changes, marketData: {} })).error, undefined);
      assert.deepEqual((await worker.run({ file: reads, marketData: {} })).output, before);
    } finally {
      await worker.dispose();
    }
  });

  it('inspect names the leaf under an abstract intermediate as the component, as the run picks it', async () => {
    const file = write(
      'core/orders/deep.py',
      [
        'import abc',
        'from core.orders.order_base import OrderBase',
        'class Sizer:',
        '    def size(self): return 1000',
        'class Abstract(OrderBase):',
        '    @abc.abstractmethod',
        '    def pick_side(self): ...',
        '    def generate_order(self, market_data, signal=None):',
        "        return {'side': self.pick_side(), 'q': self.size()}",
        'class Mid(Sizer, Abstract):',
        '    pass',
        'class Leaf(Mid):',
        "    def pick_side(self): return 'sell'",
        '',
      ].join('\n'),
    );
    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(file);
      assert.deepEqual(
        info.classes.map((c) => [c.name, c.entryPoint]),
        [
          ['Sizer', null],
          ['Abstract', null],
          ['Mid', null],
          ['Leaf', 'generate_order'],
        ],
      );
      const r = await worker.run({ file, marketData: {} });
      assert.equal(r.className, 'Leaf');
      assert.deepEqual(r.output, { side: 'sell', q: 1000 });
      const asked = await worker.run({ file, className: 'Mid', marketData: {} });
      assert.equal(asked.error?.code, 'CLASS_NOT_FOUND');
      assert.match(asked.error.message, /\(Mid is abstract: it does not define pick_side\); available: Leaf$/);
    } finally {
      await worker.dispose();
    }
  });

  it('a component that rebinds builtins (open, isinstance, vars) still has its order answered, and the next run is unharmed', async () => {
    const patches = write(
      'core/orders/patches.py',
      'import builtins\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n' +
        '        builtins.isinstance = lambda *a: True\n        builtins.open = None\n        builtins.vars = None\n' +
        "        del builtins.len\n        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 7}\n",
    );
    const after = write(
      'core/orders/after.py',
      "class C:\n    def generate_order(self, market_data, signal=None):\n        return {'n': len(open(__file__).read()) > 0}\n",
    );
    const worker = new PythonWorker(options);
    try {
      const r = await worker.run({ file: patches, marketData: {} });
      assert.equal(r.error, undefined, r.error?.message);
      assert.deepEqual(r.output, { symbol: 'EUR_USD', side: 'buy', order_type: 'market', quantity: 7 });
      const pid = worker.pidFor(patches);
      assert.deepEqual((await worker.run({ file: after, marketData: {} })).output, { n: true });
      assert.equal(worker.pidFor(after), pid, 'the same interpreter');
    } finally {
      await worker.dispose();
    }
  });

  it('a generate_order that yields its order is named a generator function at its def line, in a run and a batch', async () => {
    const file = write(
      'core/orders/yields.py',
      `class C:\n    def generate_order(self, market_data, signal=None):\n        yield ${ORDER}\n`,
    );
    const worker = new PythonWorker(options);
    try {
      const r = await worker.run({ file, marketData: {} });
      assert.equal(r.error?.code, 'NOT_SERIALIZABLE');
      assert.equal(r.error?.line, 2);
      assert.match(r.error.message, /^generate_order contains yield, so calling it returns a generator/);
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1]] });
      const item = batch.items[0];
      assert.ok(item && !item.ok);
      assert.equal(item.error.line, 2);
      assert.match(item.error.message, /contains yield/);
    } finally {
      await worker.dispose();
    }
  });

  it('a KeyError for a key market_data and self.config lack lists the keys they have; one they have is left alone', async () => {
    const file = write(
      'core/orders/reads_close.py',
      'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n' +
        "        if market_data.get('nested'):\n            return {}['bid']\n        return market_data['close']\n",
    );
    const worker = new PythonWorker(options);
    try {
      const r = await worker.run({ file, marketData: { bid: 1.1, ask: 1.2 }, parameters: { qty: 5 } });
      assert.equal(r.error?.code, 'COMPONENT_ERROR');
      assert.equal(r.error?.line, 7);
      assert.equal(
        r.error.message,
        "generate_order raised KeyError: 'close'; neither market_data nor self.config has 'close' (market_data's keys: ask, bid; self.config's: qty)",
      );
      const batch = await worker.runBatch({ file, common: { ask: 1.2 }, keys: ['bid'], rows: [[1.1]] });
      const item = batch.items[0];
      assert.ok(item && !item.ok);
      assert.match(item.error.message, /market_data's keys: ask, bid;/);
      // The key is in market_data: the KeyError came from elsewhere, and nothing is added.
      const other = await worker.run({ file, marketData: { nested: true, bid: 1.1 } });
      assert.equal(other.error?.message, "generate_order raised KeyError: 'bid'");
    } finally {
      await worker.dispose();
    }
  });

  it('a relative path not found that is beside the component says where relative paths are read from, and how to reach it; input() that it has none', async () => {
    write('core/orders/algos/params.json', '{"lot": 10}');
    const body = "json.load(open('params.json'))";
    const inCall = write(
      'core/orders/algos/reads_params.py',
      `import json\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return ${body}\n`,
    );
    const atLoad = write(
      'core/orders/algos/loads_params.py',
      `import json\nP = ${body}\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return P\n`,
    );
    const inInit = write(
      'core/orders/algos/inits_params.py',
      `import json\n\nclass C:\n    def __init__(self):\n        self.p = ${body}\n\n    def generate_order(self, market_data, signal=None):\n        return self.p\n`,
    );
    const elsewhere = write(
      'core/orders/algos/reads_missing.py',
      "class C:\n    def generate_order(self, market_data, signal=None):\n        return open('nowhere.json').read()\n",
    );
    const hint = (root: string) =>
      `; relative paths are read from the working folder ${root}, and 'params.json' is beside the component: open os.path.join(os.path.dirname(__file__), 'params.json')`;
    for (const [file, code, line] of [
      [inCall, 'COMPONENT_ERROR', 5],
      [atLoad, 'IMPORT_ERROR', 2],
      [inInit, 'CONSTRUCTOR_ERROR', 5],
    ] as const) {
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error?.code, code);
      assert.equal(r.error?.line, line);
      assert.ok(r.error?.message.endsWith(hint(dir)), r.error?.message);
    }
    const r = await runComponentCold(options, { file: elsewhere, marketData: {} });
    assert.match(r.error?.message ?? '', /No such file or directory: 'nowhere\.json'$/);
    const asks = write(
      'core/orders/algos/asks.py',
      "class C:\n    def generate_order(self, market_data, signal=None):\n        return {'q': input('qty? ')}\n",
    );
    const a = await runComponentCold(options, { file: asks, marketData: {} });
    assert.equal(a.error?.line, 3);
    assert.match(
      a.error?.message ?? '',
      /EOFError: EOF when reading a line; a component has no input to read .*take the value as a parameter$/,
    );
  });

  it('an annotated __metadata__ (`__metadata__: Dict[str, Any] = {...}`) is read without running the file', async () => {
    const file = write(
      'core/orders/annotated.py',
      "raise RuntimeError('inspect must not run the file')\nfrom typing import Any, Dict\n\n" +
        "__metadata_version__: int = 2\n__metadata__: Dict[str, Any] = {'name': 'annotated', 'symbol': 'BTCUSDT',\n" +
        "    'parameters': {'qty': {'type': 'float', 'default': 0.01, 'max': 1}}, 'risk_limits': {'max_position_size': 0.5}}\n" +
        'limit: float\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const worker = new PythonWorker(options);
    try {
      const info = await worker.inspect(file);
      assert.deepEqual(info.metadata, {
        name: 'annotated',
        symbol: 'BTCUSDT',
        parameters: { qty: { type: 'float', default: 0.01, max: 1 } },
        risk_limits: { max_position_size: 0.5 },
      });
      assert.deepEqual(
        info.classes.map((c) => [c.name, c.entryPoint]),
        [['C', 'generate_order']],
      );
    } finally {
      await worker.dispose();
    }
  });

  it("super().__init__() without OrderBase's config says so, not that a parameter 'config' is missing; a call's TypeError is at the def", async () => {
    const bare = write(
      'core/orders/bare_super.py',
      'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def __init__(self, lot=10):\n' +
        '        super().__init__()\n\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const r = await runComponentCold(options, { file: bare, marketData: {} });
    assert.equal(r.error?.code, 'CONSTRUCTOR_ERROR');
    assert.equal(r.error?.line, 5);
    assert.match(
      r.error?.message ?? '',
      /missing 1 required positional argument: 'config'; OrderBase\.__init__ takes the parameters as one dict: call super\(\)\.__init__\(config\)/,
    );
    assert.doesNotMatch(r.error?.message ?? '', /--param config/);
    const needs = write(
      'core/orders/needs_lot.py',
      'from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def __init__(self, config, lot):\n' +
        '        super().__init__(config)\n\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const n = await runComponentCold(options, { file: needs, marketData: {} });
    assert.equal(n.error?.line, 4, 'the def of __init__: the call itself raised');
    assert.match(n.error?.message ?? '', /the parameter 'lot' was not given/);
  });

  it('a component that closes sys.stdout (or its buffer) still has its order answered, and the next run its output', async () => {
    const file = write(
      'core/orders/closes_stdout.py',
      "import sys\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        print('before')\n" +
        '        with sys.stdout:\n            pass\n        sys.stdout.close()\n        sys.stdout.buffer.close()\n' +
        "        print('after')\n        return {'ok': 1}\n",
    );
    const worker = new PythonWorker(options);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await worker.run({ file, marketData: {} });
        assert.equal(r.error, undefined, r.error?.message);
        assert.deepEqual(r.output, { ok: 1 });
        assert.equal(r.stdout, 'before\nafter\n');
      }
    } finally {
      await worker.dispose();
    }
  });
});
