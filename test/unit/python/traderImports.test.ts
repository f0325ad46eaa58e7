/**
 * What a component imports, as traders write them (red team, components round 3): a helper module saved
 * as UTF-16 (or holding a NUL byte) is named with the line that imported it (Python names no file for it: the run
 * said "code compiled at line 2 raised SyntaxError: source code string cannot contain null bytes"); a component whose
 * package's __init__.py imports it runs once, as the package's module (its module-level code ran twice, its state was
 * split between two copies).
 */
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker, runComponentCold, type RunnerOptions } from '../../../src/python/runner';
import { componentFolder } from '../../kit/componentFolder';

describe('Python components: what they import, as traders write them', function () {
  this.timeout(30_000);
  let options!: RunnerOptions;
  const write = componentFolder('inputs', 10_000, { options: (o) => void (options = o), dir: () => undefined });

  describe('a helper module saved as UTF-16 is named, with the line that imported it', () => {
    const utf16 = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const HELPER = 'def size_for(capital):\n    return int(capital * 0.01)\n';
    const component = (imports: string, inside = ''): string =>
      `from core.orders.order_base import OrderBase\n${imports}\n\nclass C(OrderBase):\n` +
      `    def generate_order(self, market_data, signal=None):\n${inside}        return None\n`;
    const UTF16 = (name: string, what: string): RegExp =>
      new RegExp(
        `^${name} is UTF-16 text \\(it starts with UTF-16's byte order mark\\), as Notepad's "Unicode" and Windows ` +
          `PowerShell's > and Out-File save it; Python reads a module as UTF-8: save it as UTF-8 \\(imported by ${what}\\)$`,
      );
    const cases: Array<[string, Record<string, string | Buffer>, string, RegExp, number | undefined]> = [
      [
        'imported where the component loads',
        { 'helper16.py': utf16(HELPER), 'c.py': component('from helper16 import size_for') },
        'helper16.py',
        UTF16('helper16.py', 'c.py at line 2'),
        1,
      ],
      [
        'imported inside generate_order',
        { 'helper16.py': utf16(HELPER), 'c.py': component('', '        import helper16\n') },
        'helper16.py',
        UTF16('helper16.py', 'c.py at line 6'),
        1,
      ],
      [
        'imported by importlib.import_module',
        {
          'helper16.py': utf16(HELPER),
          'c.py': component('import importlib', "        importlib.import_module('helper16')\n"),
        },
        'helper16.py',
        UTF16('helper16.py', 'c.py at line 6'),
        1,
      ],
      [
        'imported by __import__',
        { 'helper16.py': utf16(HELPER), 'c.py': component('', "        __import__('helper16')\n") },
        'helper16.py',
        UTF16('helper16.py', 'c.py at line 6'),
        1,
      ],
      [
        'imported by a helper the component imports',
        {
          'helper16.py': utf16(HELPER),
          'helper_a.py': 'import os\nfrom helper16 import size_for\n',
          'c.py': component('import helper_a'),
        },
        'helper16.py',
        UTF16('helper16.py', "helper_a.py at line 2; the component's line 2"),
        1,
      ],
      [
        'a relative import in a package',
        {
          'pkg/__init__.py': '',
          'pkg/consts.py': utf16('X = 5\n'),
          'pkg/c.py': component('from .consts import X'),
        },
        'pkg/consts.py',
        UTF16('consts.py', 'c.py at line 2'),
        1,
      ],
      [
        'a NUL byte pasted into a helper',
        { 'nul_helper.py': 'A = 1\nB = "x\u0000y"\n', 'c.py': component('from nul_helper import A') },
        'nul_helper.py',
        /^line 2, column 7 holds a NUL byte \(\\x00\), which Python source cannot hold .*: remove it \(imported by c\.py at line 2\)$/,
        2,
      ],
    ];
    for (const [what, files, helper, message, line] of cases)
      it(what, async () => {
        const paths = new Map<string, string>();
        for (const [rel, text] of Object.entries(files)) {
          paths.set(rel, write(rel, ''));
          writeFileSync(paths.get(rel)!, text);
        }
        const main = [...paths].find(([rel]) => rel.endsWith('c.py'))![1];
        const r = await runComponentCold(options, { file: main, marketData: { bid: 1.1, ask: 1.1001 } });
        assert.equal(r.ok, false);
        assert.equal(r.error?.code, 'SYNTAX_ERROR');
        assert.match(r.error?.message ?? '', message);
        assert.equal(r.error?.file, paths.get(helper));
        assert.equal(r.error?.line, line);
      });
  });

  it("a duration of pandas' kind (a timedelta subclass with isoformat()) is refused as a duration, not sent as text", async () => {
    // pandas.Timedelta derives datetime.timedelta and has isoformat(): its 'P0DT1H0M0S' went out as the expiry, and
    // the order was refused as "not a time"; in metadata it was kept as that text. Written here without pandas.
    const file = write(
      'duration.py',
      `import datetime
from core.orders.order_base import OrderBase


class Timedelta(datetime.timedelta):
    def isoformat(self):
        return 'P0DT1H0M0S'


class Duration(OrderBase):
    def generate_order(self, market_data, signal=None):
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1000, 'price': 1.1,
                'time_in_force': 'GTD', 'expires_at': Timedelta(hours=1)}
`,
    );
    const said =
      /^the value at order\.expires_at is a Timedelta, which cannot be sent as JSON; .*\(a timedelta is a duration: a time is a datetime, such as datetime\.now\(timezone\.utc\) \+ it, or in a replay market_data\['timestamp_ms'\] \+ 3600000; as a number of seconds, its \.total_seconds\(\)\)/;
    const r = await runComponentCold(options, { file, marketData: { bid: 1.1, ask: 1.1001 } });
    assert.equal(r.error?.code, 'NOT_SERIALIZABLE', JSON.stringify(r.output));
    assert.match(r.error?.message ?? '', said);
    const worker = new PythonWorker(options);
    try {
      const batch = await worker.runBatch({ file, common: {}, keys: ['bid', 'ask'], rows: [[1.1, 1.1001]] });
      const item = batch.items[0];
      assert.ok(item !== undefined && !item.ok, JSON.stringify(item));
      assert.equal(item.error.code, 'NOT_SERIALIZABLE');
      assert.match(item.error.message, said);
    } finally {
      await worker.dispose();
    }
  });

  describe('a component its package re-exports runs once, as one module', () => {
    // core/orders/algos/__init__.py imports the component (`from .breakout import Breakout`); the component imports its
    // helper relatively. Its module ran twice: once as the harness's, once as the package's submodule.
    const component = (tag: string): string => `from core.orders.order_base import OrderBase
from .sizing import UNITS

print('loading ${tag} as', __name__)
CALLS = []


class Breakout(OrderBase):
    def generate_order(self, market_data, signal=None):
        CALLS.append(1)
        from core.orders.algos import breakout, helpers
        same = breakout.CALLS is CALLS and helpers.Breakout is Breakout and isinstance(self, helpers.Breakout)
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': UNITS * len(CALLS),
                'metadata': {'same_module': same, 'tag': '${tag}'}}
`;
    const files = (): string => {
      write('core/orders/algos/__init__.py', 'from .breakout import Breakout\n');
      write('core/orders/algos/sizing.py', 'UNITS = 1000\n');
      write('core/orders/algos/helpers.py', 'from core.orders.algos.breakout import Breakout\n');
      return write('core/orders/algos/breakout.py', component('v1'));
    };

    it('in Test Order, and again in a warm worker after the component changed', async () => {
      const file = files();
      const worker = new PythonWorker(options);
      try {
        const md = { bid: 1.1, ask: 1.1001 };
        const first = await worker.run({ file, marketData: md });
        assert.equal(first.ok, true, first.error?.message);
        assert.equal(first.stdout, 'loading v1 as core.orders.algos.breakout\n');
        assert.deepEqual((first.output as { metadata: unknown }).metadata, { same_module: true, tag: 'v1' });
        // Warm: the module is kept, and its state with it.
        const second = await worker.run({ file, marketData: md });
        assert.equal(second.stdout, '');
        assert.equal((second.output as { quantity: number }).quantity, 2000);
        // Edited: the new code runs, once, and is the module the package's helpers see.
        writeFileSync(file, component('v2'));
        utimesSync(file, new Date(), new Date(Date.now() + 5_000));
        const third = await worker.run({ file, marketData: md });
        assert.equal(third.ok, true, third.error?.message);
        assert.equal(third.stdout, 'loading v2 as core.orders.algos.breakout\n');
        assert.deepEqual((third.output as { metadata: unknown }).metadata, { same_module: true, tag: 'v2' });
      } finally {
        await worker.dispose();
      }
    });

    it('in a replay batch', async () => {
      const file = files();
      const worker = new PythonWorker(options);
      try {
        const batch = await worker.runBatch({
          file,
          common: {},
          keys: ['bid', 'ask'],
          rows: [
            [1.1, 1.1001],
            [1.1, 1.1001],
          ],
        });
        assert.equal(batch.ok, true, batch.error?.message);
        assert.equal(batch.stdout, 'loading v1 as core.orders.algos.breakout\n');
        assert.deepEqual(
          batch.items.map((i) => (i.ok ? (i.output as { quantity: number; metadata: unknown }) : i.error)),
          [
            {
              symbol: 'EUR_USD',
              side: 'buy',
              order_type: 'market',
              quantity: 1000,
              metadata: { same_module: true, tag: 'v1' },
            },
            {
              symbol: 'EUR_USD',
              side: 'buy',
              order_type: 'market',
              quantity: 2000,
              metadata: { same_module: true, tag: 'v1' },
            },
          ],
        );
      } finally {
        await worker.dispose();
      }
    });

    it('a package whose __init__.py fails past the component still runs it, as when nothing imported the package', async () => {
      write('core/orders/algos/__init__.py', 'from .breakout import Breakout\nfrom .sizing import MISSING\n');
      write('core/orders/algos/sizing.py', 'UNITS = 1000\n');
      const file = write(
        'core/orders/algos/breakout.py',
        `from core.orders.order_base import OrderBase\n\nprint('loading')\n\n\nclass Breakout(OrderBase):\n` +
          `    def generate_order(self, market_data, signal=None):\n` +
          `        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'market', 'quantity': 1000}\n`,
      );
      const r = await runComponentCold(options, { file, marketData: { bid: 1.1, ask: 1.1001 } });
      assert.equal(r.ok, true, r.error?.message);
      assert.equal(r.stdout, 'loading\n');
    });
  });
});

/** Parses market_data['timestamp'] the stdlib way. */
const PARSES_TIME = `from datetime import datetime, timedelta
from core.orders.order_base import OrderBase


class ParsesTime(OrderBase):
    def generate_order(self, market_data, signal=None):
        at = datetime.fromisoformat(market_data['timestamp'])
        return {'symbol': 'EUR_USD', 'side': 'buy', 'order_type': 'limit', 'quantity': 1000, 'price': 1.1,
                'time_in_force': 'GTD', 'expires_at': at + timedelta(hours=1)}
`;

// Every interpreter SPTRADER_PYTHONS lists (SPTRADER_PYTHONS=python3.8,python3.10,python3.12), else the default one.
const interpreters = (process.env['SPTRADER_PYTHONS'] ?? '').split(',').filter(Boolean);
for (const python of interpreters.length ? interpreters : [undefined]) {
  describe(`datetime.fromisoformat(market_data['timestamp'])${python ? ` (${python})` : ''}`, function () {
    this.timeout(30_000);
    let options!: RunnerOptions;
    const write = componentFolder('isotime', 10_000, {
      options: async (o) => void (options = python ? { ...o, interpreter: await resolveInterpreter([python]) } : o),
      dir: () => undefined,
    });

    it("runs from Python 3.11 on; before it, the error says how to read the time's trailing Z", async () => {
      const file = write('parses_time.py', PARSES_TIME);
      const r = await runComponentCold(options, {
        file,
        marketData: { bid: 1.1, ask: 1.1001, timestamp: '2026-12-05T11:25:35.750Z', timestamp_ms: 1796469935750 },
      });
      const [major, minor] = options.interpreter.version;
      if (major > 3 || minor >= 11) {
        assert.equal(r.ok, true, r.error?.message);
        return;
      }
      assert.equal(r.error?.code, 'COMPONENT_ERROR');
      assert.equal(r.error?.line, 7);
      assert.equal(
        r.error?.message,
        "generate_order raised ValueError: Invalid isoformat string: '2026-12-05T11:25:35.750Z'; datetime.fromisoformat " +
          `reads a time ending in 'Z' (UTC) from Python 3.11 on, and this interpreter is ${major}.${minor}: replace the Z ` +
          "first (ts.replace('Z', '+00:00')), or take market_data['timestamp_ms'] (epoch milliseconds): " +
          "datetime.fromtimestamp(market_data['timestamp_ms'] / 1000, timezone.utc)",
      );
    });
  });
}
