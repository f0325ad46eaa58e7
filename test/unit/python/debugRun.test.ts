/**
 * Debug Order (issue 16): a component runs under debugpy, a real DAP client (test/kit/dapClient.ts, speaking
 * as the editor does) attaches, stops at a breakpoint on generate_order's `return`, reads a local, continues,
 * and the order goes on through Test Order's pipeline to a scratch copy of a real paper account.
 * Real Python with debugpy (Debian's python3-debugpy for /usr/bin/python3, which .ci/run installs).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import { runTestOrder, type TestOrderOutcome } from '../../../src/usecases/testOrder';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { PythonDebugRunner, type DebugRunOptions } from '../../../src/python/debugRun';
import { resolveInterpreter, type ResolvedInterpreter } from '../../../src/python/interpreter';
import type { DebugEndpoint } from '../../../src/python/protocol';
import { PythonWorker } from '../../../src/python/runner';
import { DapClient } from '../../kit/dapClient';
import { LOOSE } from '../execution/engineHelpers';

const COMPONENT = `from core.orders.order_base import OrderBase


class DebuggedMarket(OrderBase):
    def generate_order(self, market_data, signal=None):
        spread = market_data['ask'] - market_data['bid']
        order = {
            'symbol': market_data['symbol'],
            'side': (signal or {}).get('side', 'buy'),
            'order_type': 'market',
            'quantity': self.config.get('quantity', 10000),
            'time_in_force': 'IOC',
            'metadata': {'spread': spread},
        }
        return order
`;
const RETURN_LINE = COMPONENT.split('\n').findIndex((l) => l.trim() === 'return order') + 1;

/** The first interpreter that imports debugpy, or why there is none. */
function interpreterWithDebugpy(): string | { reason: string } {
  const tried: string[] = [];
  for (const command of [process.env['SPTRADER_DEBUG_PYTHON'], '/usr/bin/python3', 'python3']) {
    if (!command) continue;
    try {
      execFileSync(command, ['-c', 'import debugpy'], { stdio: 'ignore', timeout: 15_000 });
      return command;
    } catch {
      tried.push(command);
    }
  }
  return { reason: `debugpy is not importable in ${tried.join(', ')} (apt install python3-debugpy)` };
}

describe('Debug Order: a component under debugpy, its order through Test Order (issue 16)', function () {
  this.timeout(60_000);
  let interpreter: ResolvedInterpreter;
  let worker: PythonWorker;
  let dir: string;
  let file: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let session: TradingSession;
  const clients: DapClient[] = [];

  before(async function () {
    const found = interpreterWithDebugpy();
    if (typeof found !== 'string') {
      console.log(`      skipped: ${found.reason}`);
      this.skip();
    }
    interpreter = await resolveInterpreter([found]);
    worker = new PythonWorker({ interpreter, timeoutMs: 10_000 });
  });
  after(() => worker?.dispose());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-debug-'));
    file = join(dir, 'core', 'orders', 'debugged_market.py');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, COMPONENT);
    clock = new TestClock(Date.UTC(2026, 0, 6, 12));
    paper = new PaperBroker({ clock, seed: 7, stateFile: join(dir, 'state', 'paper-account.json') });
    session = await openTradingSession({
      stateDir: join(dir, 'state'),
      clock,
      brokers: { paper },
      settings: { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } },
    });
    await session.engine.connect('paper');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await session.close();
    await paper.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const debugOrder = (runner: PythonDebugRunner): Promise<TestOrderOutcome> =>
    runTestOrder(
      { file, signal: { side: 'sell' }, parameters: { quantity: 2500 } },
      { runner, broker: paper, engine: session.engine, clock },
    );

  /** Attaches as the editor does: initialize, attach, breakpoints, configurationDone (attach answers after it). */
  const attach = async (endpoint: DebugEndpoint, lines: number[]): Promise<DapClient> => {
    const client = await DapClient.open(endpoint.host, endpoint.port);
    clients.push(client);
    await client.ok('initialize', {
      clientID: 'sptrader-test',
      adapterID: 'sptrader-python',
      linesStartAt1: true,
      columnsStartAt1: true,
      pathFormat: 'path',
    });
    const attached = client.request('attach', { justMyCode: true });
    await client.event('initialized');
    const set = await client.ok('setBreakpoints', {
      source: { path: file },
      breakpoints: lines.map((line) => ({ line })),
    });
    assert.deepEqual(
      (set['breakpoints'] as Array<{ verified: boolean }>).map((b) => b.verified),
      lines.map(() => true),
    );
    await client.ok('configurationDone');
    const answer = await attached;
    assert.ok(answer.success, answer.message);
    return client;
  };

  it('stops at the return line with the exact market data, and the order fills on a scratch copy when it continues', async () => {
    let paused: (value: { line: number; bid: string; spread: string; signal: string }) => void = () => undefined;
    const sawPause = new Promise<{ line: number; bid: string; spread: string; signal: string }>((r) => (paused = r));
    const runner = new PythonDebugRunner({ interpreter, timeoutMs: 10_000 }, worker, {
      attachTimeoutMs: 20_000,
      onListening: async (endpoint) => {
        assert.equal(endpoint.host, '127.0.0.1');
        const client = await attach(endpoint, [RETURN_LINE]);
        const stopped = await client.event('stopped');
        assert.equal(stopped.body?.['reason'], 'breakpoint');
        const threadId = stopped.body?.['threadId'] as number;
        const trace = await client.ok('stackTrace', { threadId, startFrame: 0, levels: 1 });
        const frame = (trace['stackFrames'] as Array<{ id: number; line: number; name: string }>)[0]!;
        const scopes = await client.ok('scopes', { frameId: frame.id });
        const locals = (scopes['scopes'] as Array<{ name: string; variablesReference: number }>).find(
          (s) => s.name === 'Locals',
        )!;
        const vars = (await client.ok('variables', { variablesReference: locals.variablesReference }))[
          'variables'
        ] as Array<{ name: string; value: string; variablesReference: number }>;
        const marketData = vars.find((v) => v.name === 'market_data')!;
        const fields = (await client.ok('variables', { variablesReference: marketData.variablesReference }))[
          'variables'
        ] as Array<{ name: string; value: string }>;
        paused({
          line: frame.line,
          bid: fields.find((v) => v.name === "'bid'")?.value ?? '(none)',
          spread: vars.find((v) => v.name === 'spread')?.value ?? '(none)',
          signal: vars.find((v) => v.name === 'signal')?.value ?? '(none)',
        });
        await client.ok('continue', { threadId });
      },
    });
    const outcome = await debugOrder(runner);
    const pause = await sawPause;
    assert.equal(pause.line, RETURN_LINE);
    // What the debugger showed is what the component was given, which is what the order was built from.
    assert.equal(Number(pause.bid), outcome.marketData?.['bid']);
    assert.equal(
      Number(pause.spread),
      (outcome.marketData?.['ask'] as number) - (outcome.marketData?.['bid'] as number),
    );
    assert.match(pause.signal, /'side': 'sell'/);
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.scratch, true, 'Debug Order trades on a scratch copy, as Test Order does');
    assert.equal(outcome.order?.side, 'sell');
    assert.equal(outcome.order?.quantity, 2500);
    assert.equal(outcome.response?.status.status, 'filled');
    assert.equal(outcome.response?.filled_quantity, 2500);
    assert.deepEqual(
      outcome.events.map((e) => e.type),
      ['OrderSubmitted', 'OrderAccepted', 'OrderFilled'],
    );
    // The debug adapter was the run's own process: ended with it, not reported as the component's leftover.
    assert.ok(!outcome.component.stderr.includes('killed'), outcome.component.stderr);
    assert.ok(runner.endpoint?.debugpyPath.endsWith('debugpy'), runner.endpoint?.debugpyPath);
    // The interpreter that hosted the debugger ended with the run; the warm worker (metadata) is another process.
    const pid = runner.pid!;
    assert.throws(() => process.kill(pid, 0), /ESRCH/, `the debug interpreter ${pid} still runs`);
    assert.notEqual(worker.pidFor(file), pid);
  });

  it('an async def generate_order stops at its return after an await, and its order fills when it continues', async () => {
    writeFileSync(
      file,
      COMPONENT.replace('from core.orders', 'import asyncio\nfrom core.orders')
        .replace('    def generate_order', '    async def generate_order')
        .replace('        return order', '        await asyncio.sleep(0)\n        return order'),
    );
    const returnLine =
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((l) => l.trim() === 'return order') + 1;
    let stoppedAt = 0;
    const runner = new PythonDebugRunner({ interpreter, timeoutMs: 10_000 }, worker, {
      attachTimeoutMs: 20_000,
      onListening: async (endpoint) => {
        const client = await attach(endpoint, [returnLine]);
        const stopped = await client.event('stopped');
        const threadId = stopped.body?.['threadId'] as number;
        const trace = await client.ok('stackTrace', { threadId, startFrame: 0, levels: 1 });
        stoppedAt = (trace['stackFrames'] as Array<{ line: number }>)[0]?.line ?? 0;
        await client.ok('continue', { threadId });
      },
    });
    const outcome = await debugOrder(runner);
    assert.equal(stoppedAt, returnLine);
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.response?.status.status, 'filled');
    assert.equal(outcome.response?.filled_quantity, 2500);
  });

  it('a debugger that cannot attach ends the run with DEBUGGER_FAILED, and nothing is sent', async () => {
    const runner = new PythonDebugRunner({ interpreter }, worker, {
      onListening: () => Promise.reject(new Error('the editor did not start the debug session')),
    });
    const outcome = await debugOrder(runner);
    assert.equal(outcome.errors[0]?.code, 'DEBUGGER_FAILED', JSON.stringify(outcome.errors));
    assert.match(
      outcome.errors[0].message,
      /could not attach to 127\.0\.0\.1:\d+: the editor did not start the debug session; nothing was sent/,
    );
    assert.equal(outcome.order, null);
    assert.deepEqual(outcome.events, []);
  });

  it('fails with DEBUGGER_NOT_ATTACHED when no debugger attaches in time, and sends nothing', async () => {
    let listened: DebugEndpoint | undefined;
    const runner = new PythonDebugRunner({ interpreter }, worker, {
      attachTimeoutMs: 400,
      onListening: (endpoint) => void (listened = endpoint),
    });
    const outcome = await debugOrder(runner);
    assert.ok(listened, 'the run listened before it gave up');
    assert.equal(outcome.errors[0]?.code, 'DEBUGGER_NOT_ATTACHED', JSON.stringify(outcome.errors));
    assert.match(outcome.errors[0].message, /no debugger attached to 127\.0\.0\.1:\d+ within 0\.4 s/);
    assert.equal(outcome.order, null);
    assert.deepEqual(outcome.events, []);
  });

  it('cancel at a breakpoint stops the component: nothing is sent and its interpreter is gone', async () => {
    const runner = new PythonDebugRunner({ interpreter }, worker, {
      onListening: async (endpoint) => {
        const client = await attach(endpoint, [RETURN_LINE]);
        await client.event('stopped');
        await runner.cancel();
      },
    });
    const outcome = await debugOrder(runner);
    assert.equal(outcome.errors[0]?.code, 'DEBUG_CANCELLED', JSON.stringify(outcome.errors));
    assert.match(outcome.errors[0].message, /cancelled; the component was stopped and nothing was sent/);
    const pid = runner.pid!;
    assert.throws(() => process.kill(pid, 0), /ESRCH/, `the interpreter ${pid} still runs`);
    await assert.rejects(DapClient.open(runner.endpoint!.host, runner.endpoint!.port), /ECONNREFUSED/);
    assert.equal(outcome.order, null);
    assert.deepEqual(outcome.events, []);
    assert.equal(outcome.response, null);
  });

  it('an interpreter without debugpy uses the fallback copy (the Python Debugger extension’s), else says how to get one', async function () {
    // A venv without system packages: the interpreter itself has no debugpy.
    const venv = join(dir, 'venv');
    try {
      execFileSync(interpreter.executable, ['-m', 'venv', '--without-pip', venv], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      console.log('      skipped: this Python cannot make a venv (python3-venv)');
      this.skip();
    }
    const bare = await resolveInterpreter([join(venv, 'bin', 'python')]);
    const missing = await debugOrder(
      new PythonDebugRunner({ interpreter: bare }, worker, { onListening: () => assert.fail('nothing listens') }),
    );
    assert.equal(missing.errors[0]?.code, 'DEBUGPY_NOT_FOUND', JSON.stringify(missing.errors));
    assert.match(missing.errors[0].message, /Python Debugger extension \(ms-python\.debugpy\)/);
    assert.match(missing.errors[0].message, /pip install debugpy/);

    // A folder holding debugpy and what it needs (Debian's build imports the separate `bytecode` package), as
    // the extension's bundled/libs does.
    const real = execFileSync(interpreter.executable, [
      '-c',
      'import debugpy, os; print(os.path.dirname(debugpy.__file__))',
    ])
      .toString()
      .trim();
    const libs = join(dir, 'bundled', 'libs');
    mkdirSync(libs, { recursive: true });
    for (const name of ['debugpy', 'bytecode'])
      if (existsSync(join(dirname(real), name))) symlinkSync(join(dirname(real), name), join(libs, name));
    let seen: DebugEndpoint | undefined;
    const runner = new PythonDebugRunner({ interpreter: bare }, worker, {
      debugpyPath: libs,
      onListening: async (endpoint) => {
        seen = endpoint;
        const client = await attach(endpoint, []);
        clients.push(client);
      },
    } satisfies DebugRunOptions);
    const outcome = await debugOrder(runner);
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(seen?.debugpyPath, join(libs, 'debugpy'));
    assert.equal(outcome.response?.status.status, 'filled');
    assert.ok(existsSync(file) && readFileSync(file, 'utf8') === COMPONENT);
  });
});
