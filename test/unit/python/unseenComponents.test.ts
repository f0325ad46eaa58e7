/**
 * Components a trader writes that earlier suites never ran (red team, round 12): each failure names the component's
 * file and line and what to change. sys.exit() where the component loads, is created or runs (its line was missing);
 * two runnable classes in one file (said with their lines, and when one derives the other, how to run only the
 * subclass); `self.config` on an OrderBase component whose own __init__ never called OrderBase's; a __metadata__
 * too large, said at its assignment, and output past its limit, at the print that passed it (both had no line); a
 * file saved as UTF-16 or holding a NUL byte (rt-hostile16: "syntax error at line None").
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

const ORDER = "{'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}";

describe('Python components: unseen shapes', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('unseen', 10_000, { options: (o) => void (options = o), dir: () => undefined });

  it('sys.exit() is said at its line, while loading, in the constructor and in generate_order', async () => {
    const atLoad = write('at_load.py', `import sys\n\nif True:\n    sys.exit(3)\n`);
    const inInit = write(
      'in_init.py',
      'import sys\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
        "    def __init__(self, config):\n        super().__init__(config)\n        if not config.get('ok'):\n" +
        "            sys.exit('missing ok')\n\n    def generate_order(self, market_data, signal=None):\n        return None\n",
    );
    const inCall = write(
      'in_call.py',
      'import sys\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        if market_data.get("bid"):\n' +
        '            sys.exit(0)\n',
    );
    for (const [file, line, what] of [
      [atLoad, 4, /sys\.exit\(3\) while loading at line 4; .*__name__ == '__main__'/],
      [inInit, 8, /sys\.exit\('missing ok'\) in its constructor at line 8$/],
      [inCall, 7, /sys\.exit\(0\) inside generate_order at line 7; return None to place no order instead$/],
    ] as const) {
      const r = await runComponentCold(options, { file, marketData: { bid: 1.1 } });
      assert.equal(r.error?.code, 'COMPONENT_EXIT', r.error?.message);
      assert.equal(r.error.file, file);
      assert.equal(r.error.line, line, r.error.message);
      assert.match(r.error.message, what);
    }
    // In a replay batch too, where it ends the batch (and the replay) at that record: said at the line.
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file: inCall, common: {}, keys: ['bid'], rows: [[1.1], [1.2]] });
      assert.equal(batch.ok, false);
      assert.equal(batch.done, 0);
      assert.equal(batch.error?.code, 'COMPONENT_EXIT');
      assert.equal(batch.error.line, 7);
    } finally {
      await worker.dispose();
    }
  });

  it('two runnable classes: each named with its line, the error at the first; a subclass of the other says how', async () => {
    const two = write(
      'two.py',
      'from core.orders.order_base import OrderBase\n\nclass SellIt(OrderBase):\n' +
        `    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n\n` +
        `class BuyIt(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const r = await runComponentCold(options, { file: two, marketData: {} });
    assert.equal(r.error?.code, 'AMBIGUOUS_COMPONENT_CLASS');
    assert.equal(r.error.line, 3);
    assert.match(r.error.message, /several order components \(SellIt \(line 3\), BuyIt \(line 7\)\).*--class NAME/);
    assert.doesNotMatch(r.error.message, /derives/);
    const chained = write(
      'chained.py',
      'from core.orders.order_base import OrderBase\n\nclass BaseMarket(OrderBase):\n    qty = 1000\n' +
        "    def generate_order(self, market_data, signal=None):\n        return {'quantity': self.qty}\n\n" +
        'class BigMarket(BaseMarket):\n    qty = 5000\n',
    );
    const c = await runComponentCold(options, { file: chained, marketData: {} });
    assert.equal(c.error?.code, 'AMBIGUOUS_COMPONENT_CLASS');
    assert.match(c.error.message, /BaseMarket \(line 3\), BigMarket \(line 8\)/);
    assert.match(c.error.message, /BigMarket derives BaseMarket.*make BaseMarket abstract/);
    // Chosen by name, each runs as itself.
    const big = await runComponentCold(options, { file: chained, marketData: {}, className: 'BigMarket' });
    assert.deepEqual(big.output, { quantity: 5000 });
    // An abstract class chosen by name is said at its class line.
    const abstract = write(
      'abstract_base.py',
      'from abc import abstractmethod\nfrom core.orders.order_base import OrderBase\n\nclass Sized(OrderBase):\n' +
        "    def generate_order(self, market_data, signal=None):\n        return {'side': self.decide()}\n\n" +
        "    @abstractmethod\n    def decide(self): ...\n\nclass Buyer(Sized):\n    def decide(self):\n        return 'buy'\n",
    );
    const chosen = await runComponentCold(options, { file: abstract, marketData: {}, className: 'Sized' });
    assert.equal(chosen.error?.code, 'CLASS_NOT_FOUND');
    assert.equal(chosen.error.line, 4);
    assert.match(chosen.error.message, /\(Sized is abstract: it does not define decide\); available: Buyer$/);
  });

  it('self.config read where the own __init__ never called OrderBase.__init__ says so at that __init__', async () => {
    const file = write(
      'no_super.py',
      "from core.orders.order_base import OrderBase\n\n__metadata__ = {'parameters': {'qty': {'type': 'int', 'default': 1000}}}\n\n" +
        'class NoSuper(OrderBase):\n    def __init__(self):\n        self.n = 0\n\n' +
        "    def generate_order(self, market_data, signal=None):\n        return {'quantity': self.config['qty']}\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.equal(r.error.line, 10);
    assert.match(
      r.error.message,
      /has no attribute 'config'; self\.config is set by OrderBase\.__init__\(config\), which NoSuper\.__init__ \(line 6\) never calls: .*super\(\)\.__init__\(config\)/,
    );
    // Another missing attribute, or a component that set config itself, is left as Python said it.
    const own = write(
      'own_config.py',
      'from core.orders.order_base import OrderBase\n\nclass Own(OrderBase):\n    def __init__(self):\n' +
        '        self.config = {}\n\n    def generate_order(self, market_data, signal=None):\n        return self.sizing\n',
    );
    const o = await runComponentCold(options, { file: own, marketData: {} });
    assert.equal(o.error?.code, 'COMPONENT_ERROR');
    assert.doesNotMatch(o.error.message, /OrderBase\.__init__/);
  });

  it('a __metadata__ past its size limit is said at the line that assigns it, in a run and a replay batch', async () => {
    const file = write(
      'huge_meta.py',
      'from core.orders.order_base import OrderBase\n\n' +
        `__metadata__ = {\n    'name': 'huge',\n    'description': '${'lorem ipsum '.repeat(8000)}',\n}\n\n` +
        `class Huge(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'METADATA_TOO_LARGE');
    assert.equal(r.error.file, file);
    assert.equal(r.error.line, 3);
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1]] });
      assert.equal(batch.ok, false);
      assert.equal(batch.error?.code, 'METADATA_TOO_LARGE');
      assert.equal(batch.error.line, 3);
    } finally {
      await worker.dispose();
    }
  });

  it('two keys that are the same text in JSON (1 and "1", a key object whose str() is "size") are refused, not one dropped', async () => {
    const head =
      'from core.orders.order_base import OrderBase\n\nclass Key:\n    def __str__(self):\n        return "size"\n\n' +
      'class C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n';
    for (const [body, path, key, type] of [
      // The order's size was the other key's 5: the order went with quantity 5.
      [
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'type': 'market', 'size': 1000, Key(): 5}\n",
        'order',
        'size',
        'Key',
      ],
      [
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'type': 'market', 'size': 1000, 'metadata': {'1': 'b', 1: 'a'}}\n",
        'order.metadata',
        '1',
        'int',
      ],
      [
        "        return {'symbol': 'EUR_USD', 'side': 'buy', 'type': 'market', 'size': 1000, 'metadata': {True: 1, 'True': 2}}\n",
        'order.metadata',
        'True',
        'bool',
      ],
    ] as const) {
      const r = await runComponentCold(options, { file: write('collide.py', head + body), marketData: {} });
      assert.equal(r.error?.code, 'NOT_SERIALIZABLE', JSON.stringify(r.output));
      assert.equal(
        r.error.message,
        `two keys of the dict at ${path} are both '${key}' as text (one of type ${type}); JSON keys are text, so one would replace the other: give them distinct names`,
      );
      assert.equal(r.output, null);
    }
    // A key that is not text and is the only one of its text is kept, as text.
    const r = await runComponentCold(options, {
      file: write(
        'int_key.py',
        `${head}        return {'symbol': 'EUR_USD', 'side': 'buy', 'type': 'market', 'size': 1000, 'metadata': {1: 'a', (2, 3): 'b'}}\n`,
      ),
      marketData: {},
    });
    assert.equal(r.ok, true, r.error?.message);
    assert.deepEqual((r.output as { metadata: unknown }).metadata, { '1': 'a', '(2, 3)': 'b' });
  });

  it('a run is stopped at the print that passes the limit, not at its time limit; `except Exception` does not keep it going', async () => {
    const file = write(
      'chatty.py',
      'from core.orders.order_base import OrderBase\n\nclass Chatty(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        while True:\n            try:\n' +
        "                print('tick ' * 1000)\n            except Exception:\n                return " +
        `${ORDER}\n`,
    );
    // A time limit far past the suite's: before, the loop printed on until it (and the suite timed out first).
    const r = await runComponentCold({ ...options, timeoutMs: 600_000 }, { file, marketData: {} });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'OUTPUT_LIMIT_EXCEEDED', r.error?.message);
    assert.equal(r.error.line, 7);
    assert.match(
      r.error.message,
      /more than the limit of 1,048,576 \(the print at line 7 passed it\), and was stopped there; nothing was sent/,
    );
    assert.equal(r.output, null);
    assert.ok(r.stdout.length <= 1_048_576, `kept ${r.stdout.length}`);
    // The worker goes on: the next run of the same file in it fails the same way, and a quiet one runs.
    const worker = new PythonWorker(options);
    try {
      const again = await worker.run({ file, marketData: {} });
      assert.equal(again.error?.code, 'OUTPUT_LIMIT_EXCEEDED');
      const quiet = write(
        'quiet.py',
        `from core.orders.order_base import OrderBase\n\nclass Q(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        print('one line')\n        return ${ORDER}\n`,
      );
      const ok = await worker.run({ file: quiet, marketData: {} });
      assert.equal(ok.ok, true, ok.error?.message);
      assert.equal(ok.stdout, 'one line\n');
    } finally {
      await worker.dispose();
    }
  });

  it('output past the limit names the line whose print passed it, in a run and in a batch (which it ends)', async () => {
    const file = write(
      'flood.py',
      'import sys\nfrom core.orders.order_base import OrderBase\n\nclass Flood(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        print("start")\n' +
        "        for i in range(200):\n            sys.stderr.write('x' * 100 + '\\n')\n" +
        `        return ${ORDER}\n`,
    );
    const small = { ...options, outputLimitBytes: 5000 };
    const r = await runComponentCold(small, { file, marketData: {} });
    assert.equal(r.error?.code, 'OUTPUT_LIMIT_EXCEEDED');
    assert.equal(r.error.line, 8);
    assert.match(
      r.error.message,
      /printed 5,056 bytes, more than the limit of 5,000 \(the print at line 8 passed it\), and was stopped there/,
    );
    const worker = new PythonWorker(small);
    try {
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1], [1.2]] });
      assert.equal(batch.ok, false);
      assert.equal(batch.done, 0);
      assert.equal(batch.error?.code, 'OUTPUT_LIMIT_EXCEEDED');
      assert.equal(batch.error.line, 8, batch.error.message);
      assert.match(batch.error.message, /on record 0 \(the print at line 8 passed it\) and was stopped there/);
    } finally {
      await worker.dispose();
    }
  });

  it("numpy datetime64 is sent as UTC with its Z, whatever its precision (NaT as 'NaT')", async function () {
    const file = write(
      'np_time.py',
      'from core.orders.order_base import OrderBase\n\nclass T(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n        try:\n            import numpy as np\n' +
        "        except ImportError:\n            return {'skip': True}\n" +
        "        return {'s': np.datetime64('2030-01-01T00:00:00'), 'ns': np.datetime64('2030-01-01T00:00:00.123456789'),\n" +
        "                'day': np.datetime64('2030-01-02'), 'nat': np.datetime64('NaT')}\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error, undefined, r.error?.message);
    if ((r.output as { skip?: boolean }).skip) this.skip();
    // .item() gave a naive datetime (read as local time) for seconds, and an int of nanoseconds for the rest.
    assert.deepEqual(r.output, {
      s: '2030-01-01T00:00:00.000Z',
      ns: '2030-01-01T00:00:00.123Z',
      day: '2030-01-02T00:00:00.000Z',
      nat: 'NaT',
    });
  });

  it("a class left abstract by a misspelt or the other dialect's entry point is said at its class, naming the method", async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'from core.orders.order_base import OrderBase\n\nclass Mixed(OrderBase):\n    def execute(self, market_state):\n        return None\n',
        'mixed.py',
        /Mixed \(it does not define generate_order; it defines execute at line 4, the entry point of classes deriving Order: rename it generate_order, or derive Order\)/,
      ],
      [
        'from core.orders.order_base import OrderBase\n\nclass Typo(OrderBase):\n    def generate_orders(self, market_data, signal=None):\n        return None\n',
        'typo.py',
        /Typo \(it does not define generate_order; it defines generate_orders at line 4: did you mean generate_order/,
      ],
      [
        'from core.orders.order_base import OrderBase\n\nclass Camel(OrderBase):\n    def generateOrder(self, market_data, signal=None):\n        return None\n',
        'camel.py',
        /it defines generateOrder at line 4: the name must be exactly generate_order/,
      ],
      [
        'from core.base.order import Order\n\nclass Exe(Order):\n    def exec(self, market_state):\n        return None\n',
        'exe.py',
        /Exe \(it does not define execute; it defines exec at line 4: did you mean execute \(what Order declares\)\?\)/,
      ],
    ];
    for (const [source, name, expected] of cases) {
      const file = write(name, source);
      const r = await runComponentCold(options, { file, marketData: {} });
      assert.equal(r.error?.code, 'NO_COMPONENT_CLASS', name);
      assert.equal(r.error.line, 3, name);
      assert.match(r.error.message, expected);
    }
  });

  it('a replay batch holds loading and the constructor to the record time limit, said at the line it was running', async () => {
    const stuck = write(
      'stuck_init.py',
      'import time\nfrom core.orders.order_base import OrderBase\n\nclass Stuck(OrderBase):\n    def __init__(self, config):\n' +
        '        super().__init__(config)\n        while True:\n            time.sleep(0.05)\n\n' +
        '    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const slowImport = write(
      'slow_import.py',
      'import time\n\nwhile True:\n    time.sleep(0.05)\n\nclass C:\n    def generate_order(self, market_data, signal=None):\n        return None\n',
    );
    const fine = write(
      'fine.py',
      `class Fine:\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`,
    );
    const worker = new PythonWorker({ ...options, timeoutMs: 1000 });
    try {
      for (const [file, line, stage] of [
        [stuck, 8, 'creating Stuck'],
        [slowImport, 4, 'loading the component'],
      ] as const) {
        const started = Date.now();
        const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1], [1.2]] });
        assert.ok(
          Date.now() - started < 6000,
          `${Date.now() - started} ms: the batch's backstop, not the record limit`,
        );
        assert.equal(batch.ok, false);
        assert.equal(batch.error?.code, 'TIMEOUT');
        assert.equal(batch.error.line, line);
        assert.match(
          batch.error.message,
          new RegExp(`^${stage} did not finish within 1 s; .*\\(it was running line ${line}\\)`),
        );
      }
      // The worker that was cut off is replaced: the next batch runs.
      const next = await worker.runBatch({ file: fine, common: {}, keys: ['bid'], rows: [[1.1]] });
      assert.equal(next.ok, true, next.error?.message);
      assert.equal(next.items.length, 1);
    } finally {
      await worker.dispose();
    }
  });

  it('an empty string returned for "no order" is told to return None, at its return', async () => {
    const file = write(
      'empty_string.py',
      "class E:\n    def generate_order(self, market_data, signal=None):\n        return ''\n",
    );
    const r = await runComponentCold(options, { file, marketData: {} });
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.equal(r.error.line, 3);
    assert.match(r.error.message, /^generate_order returned an empty string; to place no order, return None;/);
  });

  it("a signal key the signal lacks lists the signal's keys; None subscripted without a signal says the signal may be it", async () => {
    const file = write(
      'signal_key.py',
      'from core.orders.order_base import OrderBase\n\nclass S(OrderBase):\n' +
        '    def generate_order(self, market_data, signal=None):\n' +
        "        qty = int(10000 * signal['confidence'])\n        return None\n",
    );
    const r = await runComponentCold(options, {
      file,
      marketData: { bid: 1.1 },
      signal: { side: 'sell', strength: 0.8 },
    });
    assert.equal(r.error?.code, 'COMPONENT_ERROR');
    assert.equal(r.error.line, 5);
    assert.match(
      r.error.message,
      /KeyError: 'confidence'; neither market_data nor the signal nor self\.config has 'confidence' \(market_data's keys: bid; the signal's: side, strength; self\.config's: none\)$/,
    );
    const none = await runComponentCold(options, { file, marketData: { bid: 1.1 } });
    assert.match(
      none.error?.message ?? '',
      /not subscriptable; if that is the signal: this run has none \(signal is None;/,
    );
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid'], rows: [[1.1]], signal: { side: 'buy' } });
      const [item] = batch.items;
      assert.ok(item && !item.ok);
      if (item && !item.ok) assert.match(item.error.message, /the signal's: side;/);
    } finally {
      await worker.dispose();
    }
  });

  it('a component saved as UTF-16, or holding a NUL byte, is said as such, never "syntax error at line None" (rt-hostile16)', async () => {
    const source = `from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n        return ${ORDER}\n`;
    const bytes = (rel: string, data: Buffer): string => {
      const file = write(rel, '');
      writeFileSync(file, data);
      return file;
    };
    const utf16 =
      /is UTF-16 text \((it starts with UTF-16's byte order mark|every other byte is 0)\), as Notepad's "Unicode" and Windows PowerShell's > and Out-File save it; Python reads a component as UTF-8: save it as UTF-8$/;
    const cases: { file: string; line: number; column?: number; message: RegExp }[] = [
      // Notepad's "Unicode" and PowerShell 5's > write UTF-16 LE with a byte order mark.
      { file: bytes('notepad.py', Buffer.from(`\ufeff${source}`, 'utf16le')), line: 1, message: utf16 },
      { file: bytes('no_bom.py', Buffer.from(source, 'utf16le')), line: 1, message: utf16 },
      {
        file: bytes('big_endian.py', Buffer.from(Buffer.from(`\ufeff${source}`, 'utf16le').swap16())),
        line: 1,
        message: utf16,
      },
      {
        file: bytes('stray_nul.py', Buffer.concat([Buffer.from(source), Buffer.from('# pasted \0 here\n')])),
        line: 6,
        column: 10,
        message: /^line 6, column 10 holds a NUL byte \(\\x00\), which Python source cannot hold .*: remove it$/,
      },
    ];
    const worker = new PythonWorker(options);
    try {
      for (const c of cases) {
        const r = await runComponentCold(options, { file: c.file, marketData: { bid: 1.1 } });
        assert.equal(r.error?.code, 'SYNTAX_ERROR', r.error?.message);
        assert.match(r.error.message, c.message);
        assert.doesNotMatch(r.error.message, /None/);
        assert.equal(r.error.file, c.file);
        assert.equal(r.error.line, c.line, r.error.message);
        assert.equal(r.error.column, c.column);
        // The editor reads the component first (CodeLens, parameters): said the same way there.
        const inspected = await worker.inspect(c.file).then(
          () => assert.fail(`${c.file} was inspected`),
          (e: unknown) => e as { code?: string; message?: string },
        );
        assert.equal(inspected.code, 'SYNTAX_ERROR', inspected.message);
        assert.match(inspected.message ?? '', c.message);
      }
    } finally {
      await worker.dispose();
    }
  });
});
