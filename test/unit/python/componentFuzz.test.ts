/**
 * Component-output fuzz (issue 11): over a thousand seeded components return wrong types, non-finite,
 * huge, deep and unicode values, raise base exceptions, exit, signal themselves, forge answers on every
 * descriptor (the answer channel included) with guessed and stale ids, fork, and leave processes behind.
 * For each: the result is exactly what generate_order returned or an error with a code and a message,
 * never a forged answer; no run outlives its timeout by more than a margin; no process outlives its run.
 *
 * Most cases share one warm worker (as Test Order runs them); cases that end the interpreter, time out
 * or run cold are fewer. The seed is fixed: a failure names its case and reproduces.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monotonicMs } from '../../../src/common/clock';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import {
  PythonWorker,
  runComponentCold,
  type ComponentRunResult,
  type RunnerOptions,
} from '../../../src/python/runner';

const SEED = 0x5eed11;
const HELPERS = resolve(__dirname, '../../../../test/unit/python/fuzzHelpers.py');
const NONFINITE = '__sptrader_nonfinite__';

/** mulberry32: small, seeded, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)]!;

/** What a case's component does and what the run must come to. */
interface Case {
  name: string;
  /** The body of generate_order (8-space indented lines), or the whole file when `file` is set. */
  body?: string;
  file?: string;
  /** Lines before the class (imports, __metadata__). */
  head?: string;
  expect: { output: unknown } | { codes: string[] };
  /** pids printed as `PIDS [..]` must be dead after the run. */
  leaves?: boolean;
}

// ---- values: a Python literal and the JSON the runner must hand back -------------------------------

const CHAR_POOL = [
  'a',
  'b',
  'z',
  'Q',
  '0',
  '9',
  ' ',
  '_',
  '-',
  '.',
  '"',
  "'",
  '\\',
  '/',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u00e9',
  '\u00ff',
  '\u0100',
  '\u2028',
  '\u2029',
  '\u4e2d',
  '\ufeff',
  '\uffff',
  '\ud800',
  '\udfff',
  '\u{1f600}',
  '\u{10ffff}',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
];

function pyString(s: string): string {
  let out = "'";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f && ch !== "'" && ch !== '\\') out += ch;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}'`;
}

function randomString(rng: Rng): string {
  let s = '';
  const n = int(rng, 4) === 0 ? int(rng, 200) : int(rng, 12);
  for (let i = 0; i < n; i++) s += pick(rng, CHAR_POOL);
  return s;
}

interface Value {
  py: string;
  json: unknown;
}

function randomNumber(rng: Rng): Value {
  switch (int(rng, 9)) {
    case 0:
      return { py: "float('nan')", json: { [NONFINITE]: 'NaN' } };
    case 1:
      return { py: "float('inf')", json: { [NONFINITE]: 'Infinity' } };
    case 2:
      return { py: "-float('inf')", json: { [NONFINITE]: '-Infinity' } };
    case 3: {
      // An integer of up to 1,023 bits: exact in Python, the nearest double in JSON.
      let big = 1n;
      const bits = 1 + int(rng, 1022);
      for (let i = 0; i < bits; i += 30) big = (big << 30n) | BigInt(int(rng, 2 ** 30));
      big &= (1n << BigInt(bits)) - 1n;
      const text = (rng() < 0.5 ? '-' : '') + big.toString();
      return { py: text, json: JSON.parse(text) };
    }
    case 4: {
      const x = (rng() - 0.5) * 10 ** int(rng, 40);
      return { py: `float(${JSON.stringify(String(x))})`, json: x === 0 ? 0 : x };
    }
    case 5:
      return { py: String(Number.MAX_VALUE), json: Number.MAX_VALUE };
    case 6:
      return { py: '5e-324', json: 5e-324 };
    default: {
      const n = int(rng, 2_000_001) - 1_000_000;
      return { py: String(n), json: n };
    }
  }
}

function randomValue(rng: Rng, depth: number): Value {
  const r = int(rng, depth > 5 ? 6 : 10);
  if (r === 0) return { py: 'None', json: null };
  if (r === 1) return rng() < 0.5 ? { py: 'True', json: true } : { py: 'False', json: false };
  if (r <= 3) return randomNumber(rng);
  if (r <= 5) {
    const s = randomString(rng);
    return { py: pyString(s), json: s };
  }
  const n = int(rng, 6);
  if (r <= 7) {
    const items = Array.from({ length: n }, () => randomValue(rng, depth + 1));
    const tuple = rng() < 0.3;
    return {
      py: tuple ? `(${items.map((i) => `${i.py},`).join(' ')})` : `[${items.map((i) => i.py).join(', ')}]`,
      json: items.map((i) => i.json),
    };
  }
  const json: Record<string, unknown> = {};
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = randomValue(rng, depth + 1);
    if (rng() < 0.2) {
      const k = int(rng, 100);
      parts.push(`${k}: ${v.py}`);
      json[String(k)] = v.json;
    } else {
      const k = randomString(rng);
      parts.push(`${pyString(k)}: ${v.py}`);
      json[k] = v.json;
    }
  }
  return { py: `{${parts.join(', ')}}`, json };
}

/** A string returned at the top is JSON text to the harness (the to_json envelope): random strings go inside a dict. */
function topValue(rng: Rng, depth: number): Value {
  const v = randomValue(rng, depth);
  // A tuple of one dict at the top is `return order,`, which the harness refuses saying so: a list here instead.
  if (Array.isArray(v.json) && v.json.length === 1 && v.py.startsWith('({') && v.py.endsWith(',)'))
    return { py: `[${v.py.slice(1, -2)}]`, json: v.json };
  return typeof v.json === 'string' ? { py: `{'v': ${v.py}}`, json: { v: v.json } } : v;
}

function nested(depth: number, leaf: Value, dict: boolean): Value {
  let py = leaf.py;
  let json = leaf.json;
  for (let i = 0; i < depth; i++) {
    py = dict ? `{'n': ${py}}` : `[${py}]`;
    json = dict ? { n: json } : [json];
  }
  return { py, json };
}

// ---- cases ---------------------------------------------------------------------------------------------

const ret = (py: string) => `        return ${py}`;

function valueCase(rng: Rng, i: number): Case {
  const kind = int(rng, 10);
  if (kind === 0) {
    // Deep: a chain built at run time, either within the limit of 64 or past it (up to far past it).
    const ok = rng() < 0.5;
    const depth = ok ? 1 + int(rng, 63) : pick(rng, [65, 80, 1000, 100_000]);
    const dict = rng() < 0.5;
    const build = dict ? `v = {'n': v}` : `v = [v]`;
    const body = `        v = 7\n        for _ in range(${depth}):\n            ${build}\n        return v`;
    return {
      name: `value ${i}: ${dict ? 'dicts' : 'lists'} ${depth} deep`,
      body,
      expect: ok ? { output: nested(depth, { py: '7', json: 7 }, dict).json } : { codes: ['ANSWER_TOO_DEEP'] },
    };
  }
  if (kind === 1) {
    const huge = pick(rng, [
      `{'symbol': 'X', 'note': 'x' * ${pick(rng, [300_000, 1_048_576, 10_485_760])}}`,
      `list(range(${pick(rng, [100_000, 1_000_000])}))`,
      `{str(i): i for i in range(${pick(rng, [30_000, 200_000])})}`,
      `['\\u4e2d' * 50000]`,
      `{'k' * 300000: 1}`,
      `[b'x' * 10 for _ in range(10)]`,
    ]);
    const codes = huge.startsWith('[b') ? ['NOT_SERIALIZABLE'] : ['ANSWER_TOO_LARGE'];
    return { name: `value ${i}: huge ${huge.slice(0, 40)}`, body: ret(huge), expect: { codes } };
  }
  const value = topValue(rng, 0);
  return { name: `value ${i}: random`, body: ret(value.py), expect: { output: value.json } };
}

const WEIRD: Array<{ head?: string; body: string; expect: Case['expect'] }> = [
  { body: ret('{1, 2}'), expect: { codes: ['NOT_SERIALIZABLE'] } },
  { body: ret('object()'), expect: { codes: ['NOT_SERIALIZABLE'] } },
  { body: ret('lambda: 1'), expect: { codes: ['NOT_SERIALIZABLE'] } },
  { body: ret('(i for i in range(3))'), expect: { codes: ['NOT_SERIALIZABLE'] } },
  { body: ret('complex(1, 2)'), expect: { codes: ['NOT_SERIALIZABLE'] } },
  { body: ret(`{'q': 10 ** 400}`), expect: { codes: ['NOT_SERIALIZABLE'] } },
  { body: ret(`b'{"symbol": "X", "quantity": 3}'`), expect: { output: { symbol: 'X', quantity: 3 } } },
  { body: ret(`bytearray(b'[1, 2]')`), expect: { output: [1, 2] } },
  { body: ret(`b'\\xff\\xfe'`), expect: { codes: ['COMPONENT_ERROR'] } },
  { body: ret(`'{"a": [1, {"b": null}]}'`), expect: { output: { a: [1, { b: null }] } } },
  { body: ret(`'not json'`), expect: { codes: ['COMPONENT_ERROR'] } },
  { body: ret(`'[' * 100000 + ']' * 100000`), expect: { codes: ['ANSWER_TOO_DEEP'] } },
  { body: ret(`'[' * 70 + ']' * 70`), expect: { codes: ['ANSWER_TOO_DEEP'] } },
  { body: ret(`'"' + 'x' * 300000 + '"'`), expect: { codes: ['ANSWER_TOO_LARGE'] } },
  { body: ret(`bytes(10 * 1024 * 1024)`), expect: { codes: ['ANSWER_TOO_LARGE'] } },
  { head: 'import decimal\n', body: ret(`{'p': decimal.Decimal('1.5')}`), expect: { output: { p: 1.5 } } },
  {
    head: 'import datetime\n',
    body: ret(`{'t': datetime.datetime(2024, 1, 2, 3, 4, 5)}`),
    expect: { output: { t: '2024-01-02T03:04:05' } },
  },
  {
    head: 'class BadKey:\n    def __str__(self):\n        raise RuntimeError("no")\n    def __hash__(self):\n        return 1\n',
    body: ret('{BadKey(): 1}'),
    expect: { codes: ['NOT_SERIALIZABLE'] },
  },
  {
    head: 'class D(dict):\n    def items(self):\n        raise RuntimeError("items")\n',
    body: ret('D(a=1)'),
    expect: { codes: ['NOT_SERIALIZABLE'] },
  },
  {
    head: 'class Me:\n    def item(self):\n        return self\n',
    body: ret('Me()'),
    expect: { codes: ['NOT_SERIALIZABLE'] },
  },
  {
    head: 'class Scalar:\n    def item(self):\n        return 42\n',
    body: ret("{'q': Scalar()}"),
    expect: { output: { q: 42 } },
  },
  {
    head: 'class S(str):\n    def __str__(self):\n        return "other"\n',
    body: ret("{S('k'): S('v')}"),
    expect: { output: { k: 'v' } },
  },
  {
    head: 'class I(int):\n    def __repr__(self):\n        return "nonsense"\n',
    body: ret("{'q': I(5)}"),
    expect: { output: { q: 5 } },
  },
  {
    head: 'class F(float):\n    def __repr__(self):\n        return "nonsense"\n',
    body: ret("{'q': F(2.5)}"),
    expect: { output: { q: 2.5 } },
  },
  { body: '        v = []\n        v.append(v)\n        return v', expect: { codes: ['ANSWER_TOO_DEEP'] } },
  { body: ret('None'), expect: { output: null } },
  { body: ret('True'), expect: { output: true } },
  { body: ret("{(1, 2): 'tuple key'}"), expect: { output: { '(1, 2)': 'tuple key' } } },
  {
    head: "__metadata__ = {'blob': 'm' * 100000}\n",
    body: ret("{'symbol': 'X'}"),
    expect: { codes: ['METADATA_TOO_LARGE'] },
  },
  {
    head: `__metadata__ = {'a': ${'['.repeat(70)}1${']'.repeat(70)}}\n`,
    body: ret("{'symbol': 'X'}"),
    expect: { codes: ['METADATA_TOO_DEEP'] },
  },
  { head: "__metadata__ = {'obj': object()}\n", body: ret("{'symbol': 'X'}"), expect: { output: { symbol: 'X' } } },
  { head: "__metadata__ = 'not a dict'\n", body: ret("{'symbol': 'X'}"), expect: { output: { symbol: 'X' } } },
];

const RAISES: Array<{
  head?: string;
  body: string;
  codes: string[];
  output?: unknown;
  ctor?: boolean;
  module?: boolean;
}> = [
  { body: '        raise SystemExit(3)', codes: ['COMPONENT_EXIT'] },
  { body: '        import sys\n        sys.exit()', codes: ['COMPONENT_EXIT'] },
  { body: "        import sys\n        sys.exit('bye')", codes: ['COMPONENT_EXIT'] },
  { body: '        raise KeyboardInterrupt', codes: ['COMPONENT_INTERRUPTED'] },
  {
    body: '        import os, signal, time\n        os.kill(os.getpid(), signal.SIGINT)\n        time.sleep(1)',
    codes: ['COMPONENT_INTERRUPTED'],
  },
  { body: '        raise GeneratorExit', codes: ['COMPONENT_ERROR'] },
  { head: 'class Base(BaseException):\n    pass\n', body: '        raise Base("mine")', codes: ['COMPONENT_ERROR'] },
  { body: "        raise ValueError('m' * 10_000_000)", codes: ['COMPONENT_ERROR'] },
  {
    head: 'class Mute(Exception):\n    def __str__(self):\n        raise RuntimeError("mute")\n',
    body: '        raise Mute()',
    codes: ['COMPONENT_ERROR'],
  },
  { body: '        def f():\n            return f()\n        f()', codes: ['COMPONENT_ERROR'] },
  { body: '        import os\n        os._exit(4)', codes: ['COMPONENT_EXIT'] },
  { body: '        import os\n        os.abort()', codes: ['COMPONENT_EXIT'] },
  { body: '        exit(5)', codes: ['COMPONENT_EXIT'] },
  { body: '        raise StopIteration', codes: ['COMPONENT_ERROR'] },
  { body: '        raise MemoryError()', codes: ['COMPONENT_ERROR'] },
  { body: '        return input()', codes: ['COMPONENT_ERROR'] },
  { body: '        import sys\n        return {"read": sys.stdin.read()}', codes: [], output: { read: '' } },
  { body: '        raise RuntimeError("ctor")', codes: ['CONSTRUCTOR_ERROR'], ctor: true },
  { body: '        import os\n        os._exit(9)', codes: ['COMPONENT_EXIT'], ctor: true },
  { body: '        raise KeyboardInterrupt', codes: ['CONSTRUCTOR_ERROR'], ctor: true },
  { body: 'raise KeyboardInterrupt', codes: ['IMPORT_ERROR'], module: true },
  { body: 'import sys\nsys.exit(2)', codes: ['COMPONENT_EXIT'], module: true },
  { body: 'import os\nos._exit(2)', codes: ['COMPONENT_EXIT'], module: true },
  { body: 'raise GeneratorExit', codes: ['IMPORT_ERROR'], module: true },
];

function raiseCase(rng: Rng, i: number): Case {
  const r = pick(rng, RAISES);
  const name = `raise ${i}: ${r.body.trim().split('\n').pop()}${r.ctor ? ' (constructor)' : r.module ? ' (module)' : ''}`;
  if (r.ctor) return { name, head: r.head, file: fileWithConstructor(r.body), expect: { codes: r.codes } };
  if (r.module) return { name, file: `${r.body}\n${componentSource(ret('None'))}`, expect: { codes: r.codes } };
  return { name, head: r.head, body: r.body, expect: 'output' in r ? { output: r.output } : { codes: r.codes } };
}

const FORGERIES = [
  (seed: number) => `        H.write_everywhere(${seed})`,
  (seed: number) => `        H.print_forgeries(${seed})`,
  (seed: number) => `        if H.fork_forger(${seed}):\n            return H.FORGED`,
  (seed: number) => `        H.thread_forger(${seed})`,
  (seed: number) => `        H.multiprocess_forger(${seed})`,
  (seed: number) => `        H.write_everywhere(${seed})\n        H.print_forgeries(${seed})`,
];

function forgeCase(rng: Rng, i: number): Case {
  const v = topValue(rng, 2);
  const which = int(rng, FORGERIES.length);
  const seed = int(rng, 1e9);
  // Some runs also read their own id once done forging, so that later runs forge with a stale one.
  const harvest = rng() < 0.3 ? '        H.harvest()\n' : '';
  return {
    name: `forge ${i}: forgery ${which}${harvest ? ' + harvest' : ''}`,
    body: `${FORGERIES[which]!(seed)}\n${harvest}${ret(v.py)}`,
    expect: { output: v.json },
  };
}

const LEAVERS = ['popen', 'popen-session', 'fork', 'double-fork', 'shell', 'pipe-holder'];

function leaveCase(rng: Rng, i: number, folder: string): Case {
  const kinds = Array.from({ length: 1 + int(rng, 2) }, () => pick(rng, LEAVERS));
  const v = topValue(rng, 3);
  const body = `        pids = []\n${kinds.map((k) => `        pids += H.leave_processes('${k}', ${JSON.stringify(folder)})`).join('\n')}\n        print('PIDS', pids)\n${ret(v.py)}`;
  return { name: `leave ${i}: ${kinds.join('+')}`, body, expect: { output: v.json }, leaves: true };
}

/** Cases that end the interpreter (the worker starts a new one) or break its channel. */
const KILLERS: Case[] = [
  {
    // The harness's handler stops the run at the os.kill line (COMPONENT_EXIT, rt-comp9) instead of the process ending.
    name: 'kill: SIGTERM to self',
    body: '        import os, signal, time\n        os.kill(os.getpid(), signal.SIGTERM)\n        time.sleep(2)',
    expect: { codes: ['COMPONENT_EXIT'] },
  },
  {
    name: 'kill: SIGKILL to self',
    body: '        import os, signal, time\n        os.kill(os.getpid(), signal.SIGKILL)\n        time.sleep(2)',
    expect: { codes: ['PROCESS_EXITED'] },
  },
  {
    name: 'kill: SIGALRM to self',
    body: '        import os, signal, time\n        os.kill(os.getpid(), signal.SIGALRM)\n        time.sleep(2)',
    expect: { codes: ['PROCESS_EXITED'] },
  },
  {
    name: 'kill: SIGSEGV to self',
    body: '        import os, signal, time\n        os.kill(os.getpid(), signal.SIGSEGV)\n        time.sleep(2)',
    expect: { codes: ['PROCESS_EXITED'] },
  },
  {
    // os.abort() itself is stopped at its line by the harness (COMPONENT_EXIT, rt-comp11); C's abort() still ends it.
    name: "kill: C's abort()",
    body: '        import ctypes, resource\n        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n        ctypes.CDLL(None).abort()',
    expect: { codes: ['PROCESS_EXITED'] },
  },
  {
    name: 'kill: closes every descriptor',
    body: "        import os\n        os.closerange(3, 65536)\n        return {'symbol': 'X'}",
    expect: { codes: ['PROCESS_EXITED'] },
  },
  {
    name: 'kill: 2 MB without a newline on the answer channel',
    body: "        rid, fd = H.secrets()\n        import os\n        os.write(fd, b'{\"id\":\"' + b'x' * 2_000_000)\n        return {'symbol': 'X'}",
    expect: { codes: ['OUTPUT_LIMIT_EXCEEDED'] },
  },
  {
    name: 'kill: 2 MB to fd 2',
    body: "        import os\n        os.write(2, b'e' * 2_000_000)\n        return {'symbol': 'X'}",
    expect: { codes: ['OUTPUT_LIMIT_EXCEEDED'] },
  },
  {
    name: 'kill: a child dies by SIGKILL to the whole group after leaving a grandchild',
    body: "        pids = H.leave_processes('double-fork', '.')\n        import os, signal, sys, time\n        sys.__stderr__.write('PIDS %s\\n' % pids)\n        sys.__stderr__.flush()\n        os.kill(os.getpid(), signal.SIGKILL)\n        time.sleep(2)",
    expect: { codes: ['PROCESS_EXITED'] },
    leaves: true,
  },
];

/** Cases that run into the timeout (each on its own worker, all at once). */
const HANGS: Case[] = [
  { name: 'hang: busy loop', body: '        while True:\n            pass', expect: { codes: ['TIMEOUT'] } },
  {
    name: 'hang: SIGSTOP to self',
    body: '        import os, signal\n        os.kill(os.getpid(), signal.SIGSTOP)',
    expect: { codes: ['TIMEOUT'] },
  },
  { name: 'hang: long sleep', body: '        import time\n        time.sleep(100)', expect: { codes: ['TIMEOUT'] } },
  {
    name: 'hang: SIGTERM ignored, then spin',
    body: '        import signal\n        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n        while True:\n            pass',
    expect: { codes: ['TIMEOUT'] },
  },
  {
    name: 'hang: a daemon grandchild holds the pipes, then spin',
    body: "        pids = H.leave_processes('double-fork', '.') + H.leave_processes('pipe-holder', '.')\n        print('PIDS', pids)\n        import sys\n        sys.__stderr__.write('PIDS %s\\n' % pids)\n        sys.__stderr__.flush()\n        while True:\n            pass",
    expect: { codes: ['TIMEOUT'] },
    leaves: true,
  },
  {
    name: 'hang: forges then sleeps',
    body: '        H.write_everywhere(5)\n        import time\n        time.sleep(100)',
    expect: { codes: ['TIMEOUT'] },
  },
];

function componentSource(body: string, head = ''): string {
  return `import fuzz_helpers as H\n${head}from core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def generate_order(self, market_data, signal=None):\n${body}\n`;
}

function fileWithConstructor(body: string): string {
  return `import fuzz_helpers as H\nfrom core.orders.order_base import OrderBase\n\nclass C(OrderBase):\n    def __init__(self, config=None):\n${body}\n    def generate_order(self, market_data, signal=None):\n        return None\n`;
}

// ---- running and judging -------------------------------------------------------------------------------

interface Tally {
  cases: number;
  forgedAccepted: number;
  maxMs: number;
  maxTimeoutMs: number;
  errors: Map<string, number>;
  leftovers: number;
  problems: string[];
}

function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function judge(c: Case, r: ComponentRunResult, ms: number, timeoutMs: number, tally: Tally): void {
  tally.cases++;
  const hang = timeoutMs + 1500;
  if (c.expect && 'codes' in c.expect && c.expect.codes.includes('TIMEOUT'))
    tally.maxTimeoutMs = Math.max(tally.maxTimeoutMs, ms);
  else tally.maxMs = Math.max(tally.maxMs, ms);
  const problem = (text: string): void => void tally.problems.push(`${c.name}: ${text}`);
  if (ms > hang) problem(`took ${ms.toFixed(0)} ms, past its timeout of ${timeoutMs} ms and a margin`);
  if (JSON.stringify(r.output ?? null).includes('FORGED')) {
    tally.forgedAccepted++;
    problem(`a forged answer was accepted: ${JSON.stringify(r.output).slice(0, 200)}`);
  }
  if (r.error) {
    tally.errors.set(r.error.code, (tally.errors.get(r.error.code) ?? 0) + 1);
    if (!/^[A-Z][A-Z_]+$/.test(r.error.code)) problem(`error code ${JSON.stringify(r.error.code)}`);
    if (typeof r.error.message !== 'string' || r.error.message.length < 20)
      problem(`unclear message ${JSON.stringify(r.error.message)}`);
    if (r.error.message.length > 20_000) problem(`a message of ${r.error.message.length} characters`);
  }
  if ('output' in c.expect) {
    if (!r.ok || r.error)
      problem(
        `expected the output ${JSON.stringify(c.expect.output).slice(0, 100)}, got ${r.error?.code}: ${r.error?.message.slice(0, 300)}`,
      );
    else {
      try {
        assert.deepStrictEqual(r.output, c.expect.output);
      } catch {
        problem(
          `output differs: ${JSON.stringify(r.output).slice(0, 300)} vs ${JSON.stringify(c.expect.output).slice(0, 300)}`,
        );
      }
    }
  } else if (!r.error || !c.expect.codes.includes(r.error.code)) {
    problem(
      `expected ${c.expect.codes.join('|')}, got ${r.error ? `${r.error.code}: ${r.error.message.slice(0, 300)}` : `output ${JSON.stringify(r.output).slice(0, 100)}`}`,
    );
  }
  if (c.leaves) {
    const match = /PIDS \[([\d, ]*)\]/.exec(`${r.stdout}\n${r.stderr}`);
    if (!match) problem(`printed no pids: ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 200)}`);
    for (const pid of (match?.[1] ?? '')
      .split(',')
      .filter((s) => s.trim())
      .map(Number))
      if (processAlive(pid)) {
        tally.leftovers++;
        problem(`process ${pid} outlived the run`);
      }
  }
}

describe('component-output fuzz (issue 11)', function () {
  this.timeout(300_000);
  let dir: string;
  let options: RunnerOptions;
  let counter = 0;
  const tally: Tally = {
    cases: 0,
    forgedAccepted: 0,
    maxMs: 0,
    maxTimeoutMs: 0,
    errors: new Map(),
    leftovers: 0,
    problems: [],
  };

  const fileFor = (c: Case): string => {
    const file = join(dir, 'core', 'orders', `case_${counter++}.py`);
    writeFileSync(file, c.file ?? componentSource(c.body ?? ret('None'), c.head));
    return file;
  };
  const runOn = async (worker: PythonWorker, c: Case, timeoutMs: number): Promise<void> => {
    const file = fileFor(c);
    const started = monotonicMs();
    const r = await worker.run({ file, marketData: { symbol: 'EUR_USD', bid: 1.1, ask: 1.1002 } });
    judge(c, r, monotonicMs() - started, timeoutMs, tally);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-fuzz-'));
    mkdirSync(join(dir, 'core', 'orders'), { recursive: true });
    copyFileSync(HELPERS, join(dir, 'fuzz_helpers.py'));
    options = {
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 5000,
      packageRoot: dir,
    };
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    const errors = [...tally.errors.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(
      `      fuzz: ${tally.cases} cases (seed ${SEED}), accepted forged answers ${tally.forgedAccepted}, processes left alive ${tally.leftovers}, ` +
        `max run ${tally.maxMs.toFixed(0)} ms (timeout 5000), max timed-out run ${tally.maxTimeoutMs.toFixed(0)} ms (timeout 1000)\n      errors: ${errors}`,
    );
  });

  it('warm worker: 1,000 values, wrong types, exceptions, forgeries and leftover processes', async () => {
    const rng = prng(SEED);
    const worker = new PythonWorker(options);
    const cases: Case[] = [];
    for (let i = 0; i < 560; i++) cases.push(valueCase(rng, i));
    for (let i = 0; i < WEIRD.length * 3; i++) {
      const w = WEIRD[i % WEIRD.length]!;
      cases.push({ name: `weird ${i}: ${w.body.trim().slice(0, 60)}`, head: w.head, body: w.body, expect: w.expect });
    }
    for (let i = 0; i < 110; i++) cases.push(raiseCase(rng, i));
    for (let i = 0; i < 180; i++) cases.push(forgeCase(rng, i));
    for (let i = 0; i < 60; i++) cases.push(leaveCase(rng, i, dir));
    // Shuffled (seeded), so that forgeries and leftovers sit between ordinary runs they could disturb.
    for (let i = cases.length - 1; i > 0; i--) {
      const j = int(rng, i + 1);
      [cases[i], cases[j]] = [cases[j]!, cases[i]!];
    }
    const started = monotonicMs();
    try {
      for (const c of cases) await runOn(worker, c, 5000);
    } finally {
      await worker.dispose();
    }
    console.log(`      warm: ${cases.length} cases in ${((monotonicMs() - started) / 1000).toFixed(1)} s`);
    assert.deepEqual(tally.problems, []);
  });

  it('cases that end the interpreter, each followed by an ordinary run on the restarted worker', async () => {
    const worker = new PythonWorker(options);
    const ordinary: Case = {
      name: 'after a kill: ordinary',
      body: ret("{'symbol': 'OK'}"),
      expect: { output: { symbol: 'OK' } },
    };
    try {
      for (const c of KILLERS) {
        await runOn(worker, c, 5000);
        await runOn(worker, { ...ordinary, name: `after ${c.name}` }, 5000);
      }
    } finally {
      await worker.dispose();
    }
    assert.deepEqual(tally.problems, []);
  });

  it('cases that hang end at their timeout, with their process trees', async () => {
    const timeoutMs = 1000;
    await Promise.all(
      HANGS.map(async (c) => {
        const worker = new PythonWorker({ ...options, timeoutMs });
        try {
          await runOn(worker, c, timeoutMs);
        } finally {
          await worker.dispose();
        }
      }),
    );
    assert.deepEqual(tally.problems, []);
  });

  it('cold runs: forgeries, leftovers and exits in a fresh interpreter each', async () => {
    const rng = prng(SEED ^ 0xc01d);
    const cases: Case[] = [];
    for (let i = 0; i < 8; i++) cases.push(forgeCase(rng, 1000 + i));
    for (let i = 0; i < 6; i++) cases.push(leaveCase(rng, 1000 + i, dir));
    for (let i = 0; i < 6; i++) cases.push(raiseCase(rng, 1000 + i));
    for (let i = 0; i < cases.length; i += 2) {
      await Promise.all(
        cases.slice(i, i + 2).map(async (c) => {
          const file = fileFor(c);
          const started = monotonicMs();
          const r = await runComponentCold(options, { file, marketData: {} });
          judge(c, r, monotonicMs() - started, 5000, tally);
        }),
      );
    }
    assert.deepEqual(tally.problems, []);
    assert.ok(tally.cases >= 1000, `${tally.cases} cases`);
    assert.equal(tally.forgedAccepted, 0);
    assert.ok(existsSync(dir));
  });
});
