/**
 * `sptrader algo <component.py>`: runs a component that returns a parent order (TWAP, iceberg, bracket,
 * trailing stop; see src/execution/algos/dialect.ts) and carries it out on the paper venue until it
 * ends, printing each child as it goes. `sptrader algo --resume` carries on the parents an earlier run
 * left working (after a crash, too): they are rebuilt from the audit log. Ctrl-C or --max-seconds
 * cancels what is still working. Exit codes: 0 the parent completed, 1 component or validation error,
 * 2 usage error, 3 a child was denied, 4 the parent ended otherwise (cancelled, failed), 6 a state file is damaged,
 * missing or unreadable (the message names it; nothing was run or sent).
 */
import { printable } from '../usecases/formatOutcome';
import { resolve } from 'node:path';
import { systemClock } from '../common/clock';
import {
  cliInterpreter,
  MAX_TIMEOUT_SECONDS,
  numberFlag,
  parseFlags,
  parseParams,
  symbolFlag,
  TIMER_SECONDS,
} from './args';
import { PaperBroker } from '../brokers/paper/paperBroker';
import { splitParent } from '../execution/algos/dialect';
import { describeEmulation, describeParent, ParentOrders, type ParentOrder } from '../execution/algos/parents';
import { openTradingSession } from '../usecases/session';
import { buildMarketData, invalidRunSymbol } from '../usecases/testOrder';
import { PythonRunError, PythonSession } from '../python/runner';
import { statePaths } from '../common/statePaths';
import { CloseFailure, closeAll } from './closing';
import { stateDirOf } from './stateDir';
import { reportDamage, reportRecovery, riskSettings } from './session';

export const ALGO_USAGE = `  algo <component.py> | algo --resume
                              Run a component that returns a parent order (twap, iceberg, bracket, trailing_stop) and
                              carry it out on the paper venue as children, each through risk and the audit log, until
                              it ends; --resume carries on the parents a stopped run left working.
      --max-seconds N         Cancel what is still working after N seconds (default 3600).
      --symbol S  --param k=v  --class NAME  --state-dir DIR  --python PATH  --json   as for test-order.
`;

class AlgoUsageError extends Error {}

/**
 * A line on stderr, escaped: a component's exception, its file's name and its parent order's fields are anyone's text,
 * and a terminal escape in them (a title set, a colour, a line cleared) reached the terminal as it was.
 */
const say = (text: string): void => void process.stderr.write(`sptrader algo: ${printable(text)}\n`);

export async function algoCommand(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (e) {
    if (e instanceof AlgoUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`sptrader algo: ${printable((e as Error).message)}\n\nUsage:\n${ALGO_USAGE}`);
      return 2;
    }
    if (e instanceof PythonRunError) {
      say(`${e.code}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      resume: { type: 'boolean' },
      'max-seconds': { type: 'string' },
      symbol: { type: 'string' },
      class: { type: 'string' },
      param: { type: 'string', multiple: true },
      'state-dir': { type: 'string' },
      python: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.resume ? positionals.length !== 0 : positionals.length !== 1)
    throw new AlgoUsageError(
      values.resume ? '--resume takes no component file' : 'algo needs exactly one component file',
    );
  const maxSeconds =
    values['max-seconds'] === undefined
      ? 3600
      : numberFlag(
          '--max-seconds',
          values['max-seconds'],
          { ...TIMER_SECONDS, what: 'a positive number', range: `at most ${MAX_TIMEOUT_SECONDS}, about 24 days` },
          (message) => new AlgoUsageError(message),
        );
  const symbolArg = symbolFlag(values.symbol, (message) => new AlgoUsageError(message));
  const parameters = parseParams(values.param ?? [], (message) => new AlgoUsageError(message));
  // As every other command: a file in the folder's place refused (it read "ENOTDIR" and exited 2), the folder named in
  // remedies (they said `--state-dir DIR`), a folder or unreadable file in the risk limits' place a state file's fault.
  const stateDir = stateDirOf(values['state-dir']);
  const paths = statePaths(stateDir);
  const settings = riskSettings(stateDir, undefined);
  const paper = new PaperBroker({ clock: systemClock, stateFile: paths.paperAccount });
  const trading = await openTradingSession({
    stateDir,
    clock: systemClock,
    brokers: { paper },
    settings,
    purpose: 'sptrader algo',
    // A resume may finish a cancel cut short (children's cancels go over damage); a new parent's orders would be denied.
    brokenLog: values.resume ? 'open' : 'refuse',
  });
  const print = (text: string): void => {
    // A parent's reason and a child's state may carry a venue's or the component's words: never a terminal escape.
    if (!values.json) process.stdout.write(`${printable(text)}\n`);
  };
  let parents: ParentOrders | undefined;
  let session: PythonSession | undefined;
  let thrown = false;
  try {
    reportRecovery(trading, { parents: values.resume !== true });
    await trading.engine.connect('paper');
    // Damaged, missing or rolled-back state: said with its remedy, before a component runs or a parent is carried on.
    // Every child would be denied (a new parent ended "denied", exit 3), and a resume with nothing to carry on ended 0
    // without a word of it.
    if (reportDamage(trading)) return 6;
    parents = new ParentOrders({
      engine: trading.engine,
      audit: trading.audit,
      clock: systemClock,
      instrument: (_v, s) => paper.getInstrument(s),
      quote: (_v, s) => paper.getQuote(s),
      capabilities: () => paper.capabilities,
      ...(positionals[0] ? { component: resolve(positionals[0]) } : {}),
    });
    let ids: string[];
    if (values.resume) {
      const working = await parents.restore(paths.audit);
      ids = working.map((p) => p.parentId);
      print(
        working.length === 0
          ? 'No parent order was left working.'
          : `Resuming ${working.map((p) => describeResumed(p, parents?.cancelRequested(p.parentId))).join('; ')}`,
      );
    } else {
      const file = resolve(positionals[0] as string);
      const interpreter = await cliInterpreter(values.python);
      session = await PythonSession.start(
        { interpreter, timeoutMs: 30_000, brokerProfile: 'paper', testMode: false },
        file,
      );
      const info = await session.inspect(file).catch(() => undefined);
      const symbol =
        symbolArg ?? (typeof info?.metadata?.['symbol'] === 'string' ? info.metadata['symbol'] : 'EUR_USD');
      const badSymbol = invalidRunSymbol(symbol, { file, symbol: values.symbol }, info?.metadata ?? null);
      if (badSymbol !== undefined) {
        say(badSymbol);
        return 1;
      }
      const marketData = await buildMarketData(paper, symbol, { file });
      const result = await session.run({ file, className: values.class, parameters, marketData, signal: null });
      if (!result.ok || result.error) {
        const e = result.error ?? { code: 'COMPONENT_ERROR', message: 'the component failed without a message' };
        say(`${e.code}: ${e.message}${e.line ? ` (${e.file ?? file}:${e.line})` : ''}`);
        return 1;
      }
      const split = splitParent(result.output);
      const where = result.returnedAt ? `${result.returnedAt.file}:${result.returnedAt.line}` : file;
      if ('error' in split) {
        say(`${where}: the parent order is invalid: ${split.error.path}: ${split.error.message}`);
        return 1;
      }
      if (!split.parent) {
        say(
          `${where}: the component returned ${result.output === null ? 'None' : 'a plain order'}, not a parent order (it has no 'algo'); use test-order`,
        );
        return 1;
      }
      const started = await parents.start(split.parent, 'paper');
      ids = [started.parentId];
      print(`Started ${describeParent(started)}`);
      print(`  ${describeEmulation(started)}`);
    }
    // Drive until every parent ends: on the engine's events and every 250 ms; cancel on Ctrl-C or the deadline.
    const deadline = Date.now() + maxSeconds * 1000;
    let interrupted = false;
    const onSigint = (): void => {
      interrupted = true;
    };
    process.on('SIGINT', onSigint);
    const seen = new Map<string, string>();
    try {
      for (;;) {
        await parents.poll();
        for (const p of parents.list()) {
          if (!ids.includes(p.parentId)) continue;
          for (const c of p.children) {
            const s = p.childStates[c.id];
            const line = `${c.role} ${c.index + 1}: ${c.order.side.toUpperCase()} ${c.order.quantity} ${c.order.symbol} → ${s?.state ?? 'NOT_SENT'}${s && s.filled > 0 ? ` ${s.filled}` : ''}`;
            if (seen.get(c.id) !== line) print(`  ${c.id}  ${line}`);
            seen.set(c.id, line);
          }
        }
        const working = parents.list().filter((p) => ids.includes(p.parentId) && p.state === 'WORKING');
        if (working.length === 0) break;
        if (interrupted || Date.now() > deadline) {
          for (const p of working)
            await parents.cancel(
              p.parentId,
              interrupted ? 'interrupted (Ctrl-C)' : `--max-seconds ${maxSeconds} passed`,
            );
          continue;
        }
        await new Promise((r) => setTimeout(r, 250));
        await paper.listOpenOrders(); // the paper venue matches its resting orders when called
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
    const ended = parents.list().filter((p) => ids.includes(p.parentId));
    if (values.json) process.stdout.write(`${JSON.stringify({ parents: ended })}\n`);
    else for (const p of ended) print(`${p.state}: ${describeParent(p)}${p.reason ? ` (${p.reason})` : ''}`);
    if (ended.every((p) => p.state === 'DONE')) return 0;
    return ended.some((p) => /denied/.test(p.reason ?? '')) ? 3 : 4;
  } catch (e) {
    thrown = true;
    throw e;
  } finally {
    parents?.dispose();
    await session?.close();
    // The venue is let go even when closing the session fails (a save or the audit log failed: the command's result).
    const closeError = await closeAll(
      () => trading.close(),
      () => paper.disconnect(),
    );
    // What the command threw goes first; otherwise its result was shown, and then the failure to close.
    if (closeError !== undefined && !thrown) throw new CloseFailure(closeError);
  }
}

/**
 * A parent carried on; a trailing stop's watermark as the log left it, where its stop stands on resuming; one whose
 * cancel was cut short is said to be finishing it.
 */
function describeResumed(p: ParentOrder, cancelled: string | undefined): string {
  const cancel = cancelled === undefined ? '' : `, finishing its cancel (${cancelled})`;
  return `${describeParent(p)}${p.watermark === null ? '' : `, trail watermark ${p.watermark}`}${cancel}`;
}
