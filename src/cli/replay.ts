/**
 * `sptrader replay <component.py> --data FILE`: runs a component over recorded candles or ticks
 * through the engine and the paper venue (see src/usecases/replay.ts). Progress goes to stderr
 * when it is a terminal; the summary (or one JSON object with --json) to stdout.
 * Exit codes: 0 the replay ran to the end (component errors on single records are reported, not
 * fatal), 1 the component could not run, the data is invalid, or the replay stopped early (a record past the time
 * or output limit, sys.exit(), or --max-consecutive-errors records in a row failing the same way), 2 usage error (a --state-dir that is
 * not a replay's own folder too: a replay never writes into trading state), 5 the folder is in use,
 * 6 a file of the replay's folder cannot be read or written, or its audit log does not verify (nothing is replayed
 * onto a broken log). Other failures go to main's handler.
 */
import {
  cliInterpreter,
  numberFlag,
  parseFlags,
  parseParams,
  RUNNER_LIMIT_FLAGS,
  runnerLimits,
  symbolFlag,
  TIMER_SECONDS,
  type NumberFlag,
  typedParams,
} from './args';
import { mkdirSync } from 'node:fs';
import { removeStaleTempFilesOf, replaceFileSync } from '../common/durableFile';
import { basename, join, resolve } from 'node:path';
import { ReplayDataError } from '../brokers/paper/replayFeed';
import { currencyDecimals } from '../brokers/paper/instruments';
import {
  prepareReplayStateDir,
  replayComponent,
  ReplayStateDirError,
  type ReplayProgress,
  type ReplayReport,
} from '../usecases/replay';
import { PythonRunError, PythonWorker } from '../python/runner';
import { printable } from '../usecases/formatOutcome';
import { replayOutputText } from '../usecases/replayReport';
import { MAX_CONSECUTIVE_ERRORS } from '../usecases/replayFailures';
import { declaredRiskLimitsProblem, riskLimitsLine } from '../usecases/componentLimitsAt';
import { isFolder, lockOutFolder, ReplayOutBusyError, replayOutputProblem } from './replayOut';

/** A replay's ticks of synthetic spread: past a million, a quote is no longer a market (EUR/USD asked at 10). */
const SPREAD_TICKS: NumberFlag = {
  what: 'a whole number ≥ 0',
  min: 0,
  max: 1_000_000,
  whole: true,
  range: 'at most 1,000,000',
};
/** Records in a row failing the same way that stop a replay (0: never); a million is past any data set's warm-up. */
const CONSECUTIVE_ERRORS: NumberFlag = {
  what: 'a whole number ≥ 0',
  min: 0,
  max: MAX_CONSECUTIVE_ERRORS,
  whole: true,
  range: 'at most 1,000,000,000',
};
/** A replay's starting cash: a trillion is past any account, and keeps every amount exact to the cent. */
const CASH: NumberFlag = {
  what: 'a positive amount',
  min: 0,
  aboveMin: true,
  max: 1e12,
  range: 'at most 1,000,000,000,000',
};

export const REPLAY_USAGE = `  replay <component.py> --data FILE
                              Run a component over recorded candles or ticks (.csv or .parquet) through the
                              engine and the paper venue; report orders, fills, P&L and slippage.
      --data FILE             time,open,high,low,close[,volume] or time,bid,ask[,bid_size,ask_size].
      --symbol S              The data's instrument (default EUR_USD).
      --class NAME            The component class, when the file defines several.
      --param k=v             Component parameter (repeatable), read and checked as __metadata__ declares it.
      --spread-ticks N        Candles: the synthetic spread in ticks, 0 to 1,000,000 (default the instrument's).
      --cash AMOUNT           Starting cash of the paper account, up to 1e12 (default 100000).
      --state-dir DIR         Where the replay's audit log goes (default a new temp folder): a new or empty folder,
                              or one an earlier replay made (it holds replay.json); never a trading state folder.
      --python PATH           Python interpreter (default: $SPTRADER_PYTHON, python3, python).
      --timeout SECONDS       Stop the replay at a record whose call of the component takes longer (default 30).
      --output-limit-bytes N  What one call of the component may print (default 1048576): a record that prints
                              more stops the replay there; --max-answer-bytes N, --max-metadata-bytes N,
                              --max-nesting-depth N: as for test-order.
      --max-consecutive-errors N
                              Stop the replay when N records in a row fail with the same error at the same line
                              (default 1000; 0 replays every record whatever fails).
      --fills-csv FILE        Write every fill (time, record, order, side, quantity, price, commission,
                              decision price, slippage) to a CSV file.
      --fills-parquet FILE    The same as a Parquet file.
      --out DIR               Write report.json, fills.csv and fills.parquet into DIR (created if missing).
      --json                  Print one JSON object instead of the summary.
`;

class ReplayUsageError extends Error {}

export async function replayCommand(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (e) {
    if (e instanceof ReplayUsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `sptrader replay: ${printable((e as Error).message)}\n\nUsage: sptrader replay <component.py> --data FILE [options]\n${REPLAY_USAGE}`,
      );
      return 2;
    }
    if (e instanceof ReplayOutBusyError) {
      process.stderr.write(`sptrader replay: ${printable(e.message)}\n`);
      return 5;
    }
    // What a data file holds (a cell, a header name) and the paths typed are said escaped: a terminal escape in a
    // CSV cell reached the terminal as is.
    if (e instanceof ReplayStateDirError) {
      process.stderr.write(`sptrader replay: ${printable(e.message)}\n`);
      return 2;
    }
    if (e instanceof ReplayDataError) {
      process.stderr.write(`sptrader replay: ${printable(e.message)}\n`);
      return 1;
    }
    if (e instanceof PythonRunError) {
      process.stderr.write(`sptrader replay: ${e.code}: ${printable(e.message)}\n`);
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
      data: { type: 'string' },
      symbol: { type: 'string' },
      class: { type: 'string' },
      param: { type: 'string', multiple: true },
      'spread-ticks': { type: 'string' },
      cash: { type: 'string' },
      'state-dir': { type: 'string' },
      python: { type: 'string' },
      timeout: { type: 'string' },
      'max-consecutive-errors': { type: 'string' },
      json: { type: 'boolean' },
      'fills-csv': { type: 'string' },
      'fills-parquet': { type: 'string' },
      out: { type: 'string' },
      ...RUNNER_LIMIT_FLAGS,
    },
  });
  if (positionals.length !== 1) throw new ReplayUsageError('replay needs exactly one component file');
  if (values.data === undefined)
    throw new ReplayUsageError('--data FILE is required (a .csv or .parquet of candles or ticks)');
  const usage = (message: string): Error => new ReplayUsageError(message);
  const spreadTicks =
    values['spread-ticks'] === undefined
      ? undefined
      : numberFlag('--spread-ticks', values['spread-ticks'], SPREAD_TICKS, usage);
  const cash = values.cash === undefined ? undefined : numberFlag('--cash', values.cash, CASH, usage);
  let parameters = parseParams(values.param ?? [], (message) => new ReplayUsageError(message));
  const limits = runnerLimits(values, (message) => new ReplayUsageError(message));
  const symbol = symbolFlag(values.symbol, usage);
  const timeoutSeconds =
    values.timeout === undefined ? 30 : numberFlag('--timeout', values.timeout, TIMER_SECONDS, usage);
  const maxConsecutiveErrors =
    values['max-consecutive-errors'] === undefined
      ? undefined
      : numberFlag('--max-consecutive-errors', values['max-consecutive-errors'], CONSECUTIVE_ERRORS, usage);
  const file = resolve(positionals[0] ?? '');
  // Refused before anything starts: a replay never writes into trading state.
  const stateDir = values['state-dir'] === undefined ? undefined : prepareReplayStateDir(values['state-dir']);

  let fillsCsv = values['fills-csv'] === undefined ? undefined : resolve(values['fills-csv']);
  let fillsParquet = values['fills-parquet'] === undefined ? undefined : resolve(values['fills-parquet']);
  const out = values.out === undefined ? undefined : resolve(values.out);
  const data = resolve(values.data);
  for (const [flag, path] of [
    ['--fills-csv', fillsCsv],
    ['--fills-parquet', fillsParquet],
    ['--out', out],
  ] as const) {
    if (path === undefined) continue;
    const problem = replayOutputProblem(path, flag === '--out', [data, file]);
    if (problem !== undefined) throw new ReplayUsageError(`${flag} ${path}: ${problem}`);
  }
  if (out !== undefined) {
    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new ReplayUsageError(`--out ${out}: the folder cannot be created (${(e as Error).message})`);
    }
    fillsCsv ??= join(out, 'fills.csv');
    fillsParquet ??= join(out, 'fills.parquet');
  }
  // Said before the replay runs: a folder where an output file goes failed only once every record had run, as
  // "cannot remove it", with the fills written and the report not.
  for (const path of [fillsCsv, fillsParquet, out === undefined ? undefined : join(out, 'report.json')]) {
    if (path !== undefined && isFolder(path))
      throw new ReplayUsageError(
        `${path}: a folder is in the place of this output file; move it away or write elsewhere`,
      );
  }

  // Two replays writing one --out folder at once each put their files in place: the folder could end with one run's
  // report.json beside the other's fills. One at a time, under a lock in the folder (a killed run's is taken over).
  const outLock = out === undefined ? undefined : lockOutFolder(out);
  try {
    const interpreter = await cliInterpreter(values.python, values.timeout === undefined ? undefined : timeoutSeconds);
    // The timeout limits each record's call of the component (a batch of records is one request: runner.ts).
    const worker = new PythonWorker({
      interpreter,
      timeoutMs: Math.max(1, Math.round(timeoutSeconds * 1000)),
      brokerProfile: 'paper',
      testMode: true,
      ...limits,
    });
    // Read without running the file: the parameters __metadata__ declares (type, min/max, options), and its
    // risk_limits, before any record runs.
    const info = await worker.inspect(file).catch(() => undefined);
    const limitsProblem = declaredRiskLimitsProblem(info);
    if (limitsProblem !== undefined) {
      // The engine would deny every order the component makes (INVALID_RISK_LIMITS): said once, at its line.
      await worker.dispose();
      const at = `${file}${limitsProblem.line === undefined ? '' : `:${limitsProblem.line}`}`;
      throw new PythonRunError(
        'INVALID_RISK_LIMITS',
        `${at}: ${limitsProblem.message}; nothing was replayed (every order would be denied)`,
        file,
        limitsProblem.line,
      );
    }
    if (values.param !== undefined) {
      try {
        parameters = typedParams(
          values.param,
          info?.metadata,
          file,
          (message) => new ReplayUsageError(message),
          (m) => process.stderr.write(`sptrader: ${m}\n`),
        );
      } catch (e) {
        await worker.dispose();
        throw e;
      }
    }
    const bar = process.stderr.isTTY && !values.json ? progressBar() : undefined;
    let report: ReplayReport;
    try {
      report = await replayComponent({
        file,
        className: values.class,
        data: resolve(values.data),
        symbol,
        parameters,
        spreadTicks,
        startingCash: cash,
        stateDir,
        runner: worker,
        ...(maxConsecutiveErrors === undefined ? {} : { maxConsecutiveErrors }),
        onProgress: bar?.update,
        ...(fillsCsv === undefined ? {} : { fillsCsv }),
        ...(fillsParquet === undefined ? {} : { fillsParquet }),
        ...(out === undefined ? {} : { fillsDescribedBy: [join(out, 'report.json')] }),
      });
    } finally {
      bar?.done();
      await worker.dispose();
    }
    // Replaced whole (temp file, then rename): a kill while it is written leaves the old report or the new one.
    if (out !== undefined) {
      removeStaleTempFilesOf(join(out, 'report.json'));
      replaceFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
    }
    process.stdout.write(
      values.json ? `${JSON.stringify(report)}\n` : withLimitsDenial(formatReplay(report), report, info),
    );
    return report.ok ? 0 : 1;
  } finally {
    outLock?.release();
  }
}

/**
 * A replay whose orders were denied for the component's risk_limits, built at import (a literal one is refused before
 * the replay): the summary's count alone said neither why nor where; a line under the orders says both.
 */
function withLimitsDenial(
  summary: string,
  report: ReplayReport,
  info: { metadataLine?: number; riskLimitsLines?: Readonly<Record<string, number>> } | undefined,
): string {
  const denied = report.orders.deniedByCode['INVALID_RISK_LIMITS'];
  if (denied === undefined || denied === 0) return summary;
  const line = riskLimitsLine(info, '');
  const at = `${printable(basename(report.component.file))}${line === undefined ? '' : `:${line}`}`;
  const why = `  why        INVALID_RISK_LIMITS: the component's __metadata__['risk_limits'] (${at}) are not valid, so its orders were denied; \`sptrader test-order ${printable(basename(report.component.file))}\` says which limit and why`;
  const lines = summary.split('\n');
  const orders = lines.findIndex((l) => l.startsWith('  orders '));
  lines.splice(orders < 0 ? lines.length - 1 : orders + 1, 0, why);
  return lines.join('\n');
}

function progressBar(): { update: (p: ReplayProgress) => void; done: () => void } {
  let drawn = false;
  return {
    update(p) {
      const fraction = p.total > 0 ? p.processed / p.total : 1;
      const width = 30;
      const filled = Math.round(fraction * width);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${p.processed.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}  ${Math.round(p.ticksPerSecond).toLocaleString('en-US')} ticks/s  ${p.ordersSent} orders`;
      process.stderr.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}

const n = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: 6 });
/**
 * An amount in `currency` to its cents as the venue keeps them (none for JPY, 8 places for USDT), past 2 places only
 * as far as it has digits: 199.996 USDT read "200.00", a commission of 28.200003 USDT "28.20".
 */
const money = (x: number, currency: string): string => {
  const decimals = currency === '' ? 2 : currencyDecimals(currency);
  const text = x.toFixed(decimals);
  return decimals <= 2 ? text : text.replace(/(\.\d\d\d*?)0+$/, '$1');
};
/** "1 candle", "2 candles". */
const unitOf = (kind: 'candles' | 'ticks', count: number): string => (count === 1 ? kind.slice(0, -1) : kind);
/** "1 round trip", "2 round trips" (the count in en-US). */
const counted = (count: number, word: string): string => `${n(count)} ${word}${count === 1 ? '' : 's'}`;

/** The human summary. */
export function formatReplay(r: ReplayReport): string {
  const o = r.orders;
  const lines: string[] = [];
  lines.push(`Replay of ${r.component.file}${r.component.className ? ` (${r.component.className})` : ''}`);
  lines.push(
    `  data       ${r.data.source}: ${n(r.data.records)} ${unitOf(r.data.kind, r.data.records)} of ${r.data.symbol}, ${r.data.from} → ${r.data.to}`,
  );
  // Rows dropped for a repeated time change what was replayed: said, not only in --json.
  const dup = r.data.duplicatesCollapsed;
  if (dup > 0)
    lines.push(
      `             ${n(dup)} row${dup === 1 ? '' : 's'} with the same time as the next row dropped (the later row of each time is kept)`,
    );
  lines.push(
    `  processed  ${n(r.processed)} ${unitOf(r.data.kind, r.processed)} in ${(r.elapsedMs / 1000).toFixed(2)} s (${n(r.ticksPerSecond)}/s, ${counted(r.batches, 'round trip')}${r.syncs > 0 ? `, ${counted(r.syncs, 'capital request')}` : ''})`,
  );
  const denied = Object.entries(o.deniedByCode)
    .map(([code, count]) => `${code} ${n(count)}`)
    .join(', ');
  // Parent orders the component returned (their children are among the orders sent and denied); absent in an older report.
  const pa = r.parents as ReplayReport['parents'] | undefined;
  const ofParents =
    pa && pa.started > 0
      ? `: ${n(pa.started)} parent order${pa.started === 1 ? '' : 's'}, whose children are counted from here on`
      : '';
  lines.push(
    `  orders     ${n(o.produced)} produced${o.noOrder ? ` (${counted(o.noOrder, 'record')} with no order: the component returned None)` : ''}${ofParents}, ${n(o.sent)} sent, ${n(o.denied)} denied${denied ? ` (${denied})` : ''}, ${n(o.invalid)} invalid; ${n(o.filled)} filled, ${n(o.rejected)} rejected, ${n(o.cancelled)} cancelled, ${o.expired ? `${n(o.expired)} expired, ` : ''}${n(o.open)} open`,
  );
  if (pa && pa.started > 0)
    lines.push(
      `  parents    ${n(pa.started)} started (${n(pa.children)} children): ${n(pa.done)} done, ${n(pa.cancelled)} cancelled, ${n(pa.failed)} failed`,
    );
  lines.push(
    `  fills      ${r.fills}${r.fillsFiles.rows > 0 || r.fillsFiles.csv || r.fillsFiles.parquet ? ` → ${[r.fillsFiles.csv, r.fillsFiles.parquet].filter(Boolean).join(', ')}` : ''}`,
  );
  const positions = Object.entries(r.positions);
  lines.push(`  positions  ${positions.length === 0 ? 'flat' : positions.map(([s, q]) => `${s} ${n(q)}`).join(', ')}`);
  const realized = Object.entries(r.pnl.realized)
    .map(([ccy, v]) => `${money(v, ccy)} ${ccy}`)
    .join(', ');
  const c = r.curve;
  const dd = c.drawdown;
  // The commission is in the instrument's quote currency, the curve's.
  lines.push(
    `  P&L        realized ${realized || `${money(0, r.pnl.currency)} ${r.pnl.currency}`}, unrealized ${money(r.pnl.unrealized, r.pnl.currency)} ${r.pnl.currency}, commission ${money(r.pnl.commission, c.currency)}${c.currency ? ` ${c.currency}` : ''}; equity ${money(r.pnl.equity, r.pnl.currency)} ${r.pnl.currency} (from ${money(r.pnl.startingCash, r.pnl.currency)})`,
  );
  lines.push(
    `  curve      P&L ${money(c.final, c.currency)} ${c.currency} (quote currency, after commission); max drawdown ${money(dd.max, c.currency)} ${c.currency}${dd.maxPercent === null ? '' : ` (${dd.maxPercent.toFixed(3)}%)`}${dd.peakIndex === null ? '' : ` from #${dd.peakIndex} to #${dd.troughIndex}`}; turnover ${n(c.turnover)} ${c.currency}`,
  );
  const s = r.slippage;
  if (s.orders > 0)
    lines.push(
      `  slippage   ${counted(s.orders, 'order')} vs the decision quote: mean ${s.meanUnits} ${s.unit}s (${s.meanBps} bps), worst ${s.worstUnits}, best ${s.bestUnits}; cost ${money(s.cost, c.currency)} ${c.currency}`,
    );
  const rejected = Object.entries(o.rejectedByReason);
  if (rejected.length > 0)
    lines.push(`  rejected   ${rejected.map(([reason, count]) => `${reason} ${count}`).join(', ')}`);
  // A problem is said at its place in the component's file (file:line, as an editor or terminal opens it).
  const at = (line: number | undefined): string =>
    line === undefined ? '' : ` (${printable(basename(r.component.file))}:${line})`;
  if (r.errorCount > 0) {
    // By code (absent in an older report), and whether they stopped the replay (its STOPPED line says why).
    const byCode = Object.entries((r.errorsByCode as ReplayReport['errorsByCode'] | undefined) ?? {})
      .map(([code, count]) => `${code} ${n(count)}`)
      .join(', ');
    const went = r.fatal?.code === 'REPEATED_COMPONENT_ERROR' ? 'the replay stopped' : 'the replay went on';
    lines.push(
      `  errors     ${n(r.errorCount)} record${r.errorCount === 1 ? '' : 's'} failed (${byCode ? `${byCode}; ` : ''}${went}):`,
    );
    for (const e of r.errors.slice(0, 10))
      lines.push(`    #${e.index} ${e.time} ${e.code}${at(e.line)}: ${printable(e.message.split('\n')[0] ?? '')}`);
    if (r.errorCount > 10) lines.push(`    … ${n(r.errorCount - 10)} more (--json lists up to ${r.errors.length})`);
  }
  if (r.fatal)
    lines.push(
      `  STOPPED    at #${r.fatal.index} ${r.fatal.time}: ${r.fatal.code}${at(r.fatal.line)}: ${printable(r.fatal.message)}`,
    );
  if (r.auditDir) lines.push(`  audit log  ${r.auditDir} (check: sptrader audit verify ${r.auditDir})`);
  // What the component printed, as Test Order shows it (absent in an older report); --json has the same text.
  const printed = replayOutputText(r.output);
  if (printed !== undefined) lines.push(printed);
  // The component's file, the data's and the replay's folder are named by anyone: never a terminal escape.
  return printable(`${lines.join('\n')}\n`);
}
