/**
 * The corruption suite: every state file of a state directory that has seen a few paper orders
 * × (missing, empty, truncated, garbled, an older copy of itself, a directory or a symbolic link to a copy
 * elsewhere in its place)
 * × every command, run as a user runs it (`node dist/cli.js`, a fresh copy of the damaged folder each).
 *
 * What must hold, whatever the damage:
 * - no silent reset: positions, cash, orders and the trading state shown are the truth, or the command
 *   fails with a message naming the file at fault;
 * - no order sent on damaged state (the test-order outcome and the audit log's OrderSubmitted records);
 * - no stack trace, no exit 70, no hang;
 * - every failure names the file at fault, with a documented exit code (6 for a state file, 5/6 for the
 *   lock; `audit verify` may say 1 for a broken chain; a replay into a trading folder is always 2).
 * A case whose variant leaves the file as it was (an older copy identical to the current one, a lock
 * left by a dead process, no lock) is intact: every command must then simply work.
 * Derived files (working-orders.json and audit/anchor.json, which the engine rebuilds from the audit
 * log) may be repaired on open instead of refused — then an order may go out, but only if the run says
 * which file it repaired, and every view must still be the truth; an older copy of one is what a crash
 * before its last rewrite leaves, so it counts as intact. A directory (or a link) in a derived file's place cannot
 * be repaired and must be refused.
 * `audit verify|tail` read only the audit folder: they run on the audit files' cases (and the control);
 * a replay's refusal depends only on the folder being a trading one: it runs on the "missing" cases.
 *
 * The work runs once in `before`, several cases at a time; each case is then one test that lists what
 * went wrong in it, and `after` prints the figures. Nothing is skipped: a case fails until the code
 * detects what it must.
 * Past 450 lines on purpose: the damage, the commands and the judgement of one case read as one table.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
// Two pips below the bid could fill while the suite runs; two hundred cannot, and stay inside the price collar.
const RESTING = ['--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'];
const CONCURRENCY = 3;
const COMMAND_TIMEOUT_MS = 60_000;

type Variant = 'missing' | 'empty' | 'truncated' | 'garbled' | 'older' | 'directory' | 'symlink';
const VARIANTS: readonly Variant[] = ['missing', 'empty', 'truncated', 'garbled', 'older', 'directory', 'symlink'];
const COMMANDS = [
  'test-order',
  'status',
  'positions',
  'account',
  'orders',
  'halt',
  'resume',
  'audit verify',
  'audit tail',
  'replay',
] as const;
type Command = (typeof COMMANDS)[number];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const run = (args: readonly string[]): Promise<Run> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, SPTRADER_DEBUG: '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, stdout, stderr, timedOut: error?.killed === true });
      },
    );
  });

/** Runs `tasks` at most `limit` at a time. */
async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const json = (text: string): unknown => {
  try {
    return JSON.parse(text.trim().split('\n').pop() ?? '');
  } catch {
    return undefined;
  }
};

/** What a healthy state directory shows: the truth every command's output is held to. */
interface Truth {
  positions: Array<[string, number, number]>;
  balance: number;
  tradingState: string;
  working: string[];
  paperOpen: string[];
  lastSeq: number;
}

async function measureTruth(dir: string, scratch: string): Promise<Truth> {
  // Reading commands append to the audit log (reconcile records): measure on a copy.
  const copy = join(scratch, `truth-${Math.random().toString(36).slice(2)}`);
  cpSync(dir, copy, { recursive: true });
  const lastSeq = (json((await run(['audit', 'verify', '--state-dir', dir, '--json'])).stdout) as { lastSeq: number })
    .lastSeq;
  const positions = await run(['positions', '--state-dir', copy, '--json']);
  const account = await run(['account', '--state-dir', copy, '--json']);
  const orders = await run(['orders', '--state-dir', copy, '--json']);
  const status = await run(['status', '--state-dir', copy, '--json']);
  for (const [name, r] of Object.entries({ positions, account, orders, status }))
    assert.equal(r.code, 0, `the healthy folder's ${name} failed: ${r.stderr}${r.stdout}`);
  rmSync(copy, { recursive: true, force: true });
  return {
    positions: positionsOf(json(positions.stdout)),
    balance: (json(account.stdout) as { balance: number }).balance,
    tradingState: (json(status.stdout) as { tradingState: string }).tradingState,
    working: workingOf(json(orders.stdout)),
    paperOpen: paperOf(json(orders.stdout)),
    lastSeq,
  };
}

const positionsOf = (v: unknown): Array<[string, number, number]> =>
  Array.isArray(v)
    ? (v as Array<{ symbol: string; quantity: number; average_price: number }>)
        .map((p): [string, number, number] => [p.symbol, p.quantity, p.average_price])
        .sort()
    : [];
const workingOf = (v: unknown): string[] =>
  ((v as { working?: Array<{ clientOrderId: string }> } | undefined)?.working ?? []).map((o) => o.clientOrderId).sort();
const paperOf = (v: unknown): string[] =>
  ((v as { paper?: Array<{ client_order_id: string }> } | undefined)?.paper ?? []).map((o) => o.client_order_id).sort();

/** OrderSubmitted records (an order handed to a venue) in a state directory's audit files, as raw text. */
function ordersSubmitted(dir: string): number {
  let n = 0;
  const audit = join(dir, 'audit');
  let names: string[];
  try {
    names = readdirSync(audit);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = join(audit, name);
    try {
      if (!statSync(file).isFile()) continue;
      n += readFileSync(file, 'utf8').split('"type":"OrderSubmitted"').length - 1;
    } catch {
      // not readable: counts nothing
    }
  }
  return n;
}

interface Case {
  readonly label: string;
  /** The file at fault, relative to the state directory ('' for the pristine control). */
  readonly file: string;
  readonly variant: Variant | 'none' | 'halt rolled back';
}

interface Violation {
  readonly kind:
    | 'silent reset'
    | 'order sent on damaged state'
    | 'stack trace / exit 70 / hang'
    | 'message without the file name'
    | 'undocumented or unexpected exit code'
    | 'failed on intact state'
    | 'replay wrote into trading state';
  readonly command: Command;
  readonly detail: string;
}

interface CaseResult {
  readonly damaged: boolean;
  readonly violations: Violation[];
  readonly runs: number;
}

const FIGURES: ReadonlyArray<Violation['kind']> = [
  'silent reset',
  'order sent on damaged state',
  'stack trace / exit 70 / hang',
  'message without the file name',
  'undocumented or unexpected exit code',
  'failed on intact state',
  'replay wrote into trading state',
];

/** Rebuilt from the audit log on open (see the file comment). */
const DERIVED = new Set(['working-orders.json', 'audit/anchor.json']);
const AUDIT_FILES = new Set(['audit log', 'audit/anchor.json']);

/** The commands a case runs (see the file comment for what is left out where). */
function commandsOf(c: Case): Command[] {
  const control = c.variant === 'none';
  return COMMANDS.filter((command) => {
    // A link is refused where the file is read, the same for every command: one that sends, and two that read.
    if (c.variant === 'symlink' && !['test-order', 'positions', 'audit verify'].includes(command)) return false;
    if (command === 'audit verify' || command === 'audit tail') return control || AUDIT_FILES.has(c.file);
    if (command === 'replay') return control || c.variant === 'missing';
    return true;
  });
}

const STATE_FILES = [
  'paper-account.json',
  'paper-account.json.journal',
  'trading-state.json',
  'working-orders.json',
  'audit log',
  'audit/anchor.json',
  'lock',
];

const CASES: Case[] = [
  { label: 'pristine (control)', file: '', variant: 'none' },
  ...STATE_FILES.flatMap((file) => VARIANTS.map((variant): Case => ({ label: `${file}: ${variant}`, file, variant }))),
  // The dangerous rollback: a halt lost by putting back the trading state from before it.
  { label: 'trading-state.json: halt rolled back to ACTIVE', file: 'trading-state.json', variant: 'halt rolled back' },
];

describe('corruption suite: damaged state × every command (dist/cli.js)', function () {
  // Every case runs in `before` (358 CLI runs, ~5 min on a quiet machine): room for a slow or loaded one.
  this.timeout(1_500_000);
  let scratch: string;
  let template: string;
  let older: string;
  let auditLogName: string;
  let truth: Truth;
  let replayData: string;
  const results = new Map<string, CaseResult>();
  let setupError: Error | undefined;

  before(async function () {
    scratch = mkdtempSync(join(tmpdir(), 'sptrader-corruption-'));
    template = join(scratch, 'template');
    older = join(scratch, 'older');
    replayData = join(scratch, 'ticks.csv');
    writeFileSync(replayData, 'time,bid,ask\n2024-01-01T00:00:00Z,1.1,1.10012\n2024-01-01T00:00:01Z,1.1,1.10012\n');
    try {
      // The template: a fill, a halt (the older copy is taken here), a resume, a second fill, a resting order.
      const step = async (args: string[]): Promise<void> => {
        const r = await run([...args, '--state-dir', template]);
        assert.equal(r.code, 0, `template step ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      };
      await step(['execute', MARKET]);
      await step(['halt', '--reason', 'corruption suite: the older copy is halted']);
      cpSync(template, older, { recursive: true });
      await step(['resume']);
      await step(['execute', MARKET]);
      await step(['execute', LIMIT, ...RESTING]);
      auditLogName = join(
        'audit',
        readdirSync(join(template, 'audit')).find((f) => /^audit-.*\.jsonl$/.test(f)) ?? 'audit-missing.jsonl',
      );
      truth = await measureTruth(template, scratch);
      assert.equal(truth.working.length, 1, 'the template has one working order');
      assert.equal(truth.paperOpen.length, 1, 'the template has one open paper order');
      assert.equal(truth.tradingState, 'ACTIVE');
      const haltedTruth = await prepareHaltRolledBack();
      const outcomes = await pool(
        CASES.map(
          (c) => () =>
            runCase(
              c,
              c.variant === 'halt rolled back' ? haltedTruth.truth : truth,
              c.variant === 'halt rolled back' ? haltedTruth.dir : template,
            ),
        ),
        CONCURRENCY,
      );
      CASES.forEach((c, i) => results.set(c.label, outcomes[i] as CaseResult));
    } catch (e) {
      setupError = e as Error;
    }
  });

  after(function () {
    if (results.size > 0) printFigures(results);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** A folder that was halted, with its trading state put back to the ACTIVE one from before the halt; its truth is the halted one. */
  async function prepareHaltRolledBack(): Promise<{ dir: string; truth: Truth }> {
    const dir = join(scratch, 'halted');
    cpSync(template, dir, { recursive: true });
    const r = await run(['halt', '--reason', 'corruption suite: this halt is rolled back', '--state-dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    const halted = await measureTruth(dir, scratch);
    assert.equal(halted.tradingState, 'HALTED');
    return { dir, truth: halted };
  }

  function pathOf(c: Case): string {
    return c.file === 'audit log' ? auditLogName : c.file;
  }

  /** Applies the case's damage to `dir`; false when the file is as it was (an intact case). */
  function damage(c: Case, dir: string, base: string): boolean {
    if (c.variant === 'none') return false;
    const rel = pathOf(c);
    const target = join(dir, rel);
    if (c.variant === 'halt rolled back') {
      cpSync(join(template, rel), target);
      return true;
    }
    if (c.file === 'lock') return damageLock(c.variant, target);
    if (!existsSync(join(base, rel)))
      throw new Error(`the template has no ${rel}: the case cannot be made (is the file still written?)`);
    const original = readFileSync(target);
    const replace = (content: Buffer | string): boolean => {
      writeFileSync(target, content);
      return !Buffer.from(content).equals(original);
    };
    switch (c.variant) {
      case 'missing':
        rmSync(target);
        return true;
      case 'empty':
        return replace('');
      case 'truncated':
        return replace(original.subarray(0, Math.floor(original.length / 2)));
      case 'garbled': {
        // 16 bytes of '#' right after the first ':' past the middle: always broken syntax, wherever the
        // middle falls (bytes changed inside a string value can still be valid JSON: see the report).
        const garbled = Buffer.from(original);
        const colon = garbled.indexOf(':', Math.floor(garbled.length / 2));
        const at = colon < 0 ? Math.floor(garbled.length / 2) : colon + 1;
        garbled.fill('#', at, Math.min(garbled.length, at + 16));
        return replace(garbled);
      }
      case 'older': {
        const before = join(older, rel);
        if (!existsSync(before)) {
          rmSync(target);
          return !DERIVED.has(c.file);
        }
        return replace(readFileSync(before)) && !DERIVED.has(c.file);
      }
      case 'directory':
        rmSync(target);
        mkdirSync(target);
        writeFileSync(join(target, 'stray'), 'x');
        return true;
      case 'symlink':
        // The same bytes, but elsewhere: writes through the name would miss it or reach another folder's file.
        return linkElsewhere(target, original);
    }
  }

  /** Puts a symbolic link to a copy of `content` outside the folder in the place of `target`. */
  function linkElsewhere(target: string, content: Buffer | string): boolean {
    const elsewhere = join(scratch, 'elsewhere', `${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(scratch, 'elsewhere'), { recursive: true });
    writeFileSync(elsewhere, content);
    rmSync(target, { force: true });
    symlinkSync(elsewhere, target);
    return true;
  }

  /** The lock's "original" is a live holder's (this test process): damaged variants must be refused; no lock, or a dead holder's, is intact. */
  function damageLock(variant: Variant, target: string): boolean {
    const live = JSON.stringify({
      pid: process.pid,
      host: hostname(),
      since: Date.now(),
      purpose: 'corruption suite: a live holder',
    });
    switch (variant) {
      case 'missing':
        return false;
      case 'empty':
        writeFileSync(target, '');
        return true;
      case 'truncated':
        writeFileSync(target, live.slice(0, Math.floor(live.length / 2)));
        return true;
      case 'garbled':
        writeFileSync(target, `${live.slice(0, 10)}########${live.slice(18)}`);
        return true;
      case 'older': {
        const dead = spawnSync(process.execPath, ['-e', '0']).pid;
        writeFileSync(
          target,
          JSON.stringify({ pid: dead, host: hostname(), since: 0, purpose: 'a run that died long ago' }),
        );
        return false;
      }
      case 'directory':
        mkdirSync(target);
        return true;
      case 'symlink':
        return linkElsewhere(target, live);
    }
  }

  function argsOf(command: Command, dir: string): string[] {
    switch (command) {
      case 'test-order':
        return ['test-order', MARKET, '--state-dir', dir, '--json'];
      case 'audit verify':
        return ['audit', 'verify', '--state-dir', dir, '--json'];
      case 'audit tail':
        return ['audit', 'tail', '--state-dir', dir, '-n', '5', '--json'];
      case 'replay':
        return ['replay', MARKET, '--data', replayData, '--state-dir', dir, '--json'];
      default:
        return [command, '--state-dir', dir, '--json'];
    }
  }

  async function runCase(c: Case, caseTruth: Truth, base: string): Promise<CaseResult> {
    const violations: Violation[] = [];
    let damaged = false;
    const slug = c.label.replace(/[^a-z0-9]+/gi, '-');
    const commands = commandsOf(c);
    for (const command of commands) {
      const dir = join(scratch, 'cases', `${slug}--${command.replace(' ', '-')}`);
      cpSync(base, dir, { recursive: true });
      damaged = damage(c, dir, base);
      const submittedBefore = ordersSubmitted(dir);
      const r = await run(argsOf(command, dir));
      const submitted = ordersSubmitted(dir) - submittedBefore;
      judge(c, command, dir, damaged, caseTruth, r, submitted, violations);
      rmSync(dir, { recursive: true, force: true });
    }
    return { damaged, violations, runs: commands.length };
  }

  function judge(
    c: Case,
    command: Command,
    dir: string,
    damaged: boolean,
    t: Truth,
    r: Run,
    submitted: number,
    out: Violation[],
  ): void {
    const add = (kind: Violation['kind'], detail: string): void => {
      out.push({ kind, command, detail: `${detail} [exit ${r.code}] ${firstLine(r.stderr) || firstLine(r.stdout)}` });
    };
    const text = r.stdout + r.stderr;
    if (r.timedOut || r.code === null)
      return add('stack trace / exit 70 / hang', `did not end within ${COMMAND_TIMEOUT_MS / 1000} s`);
    if (r.code === 70 || /^\s+at .+:\d+:\d+\)?$/m.test(r.stderr))
      return add('stack trace / exit 70 / hang', 'a stack trace or exit 70');
    if (![0, 1, 2, 3, 4, 5, 6, 7].includes(r.code))
      return add('undocumented or unexpected exit code', `exit ${r.code} is not documented`);
    const testOrder =
      command === 'test-order'
        ? (json(r.stdout) as { response?: unknown; events?: Array<{ type: string }> } | undefined)
        : undefined;
    const sent =
      submitted > 0 ||
      (testOrder?.response ?? null) !== null ||
      (testOrder?.events ?? []).some((e) => e.type === 'OrderSubmitted');

    if (command === 'replay') {
      if (r.code !== 2)
        add(
          r.code === 0 ? 'replay wrote into trading state' : 'undocumented or unexpected exit code',
          'a replay into a trading folder must be refused with exit 2',
        );
      else if (!text.includes(dir)) add('message without the file name', `the refusal does not name ${dir}`);
      if (submitted > 0)
        add(
          'replay wrote into trading state',
          `${submitted} OrderSubmitted record(s) appeared in the trading audit log`,
        );
      return;
    }
    if (!damaged) {
      if (r.code !== 0) return add('failed on intact state', 'the folder is intact: the command must work');
      if (command === 'test-order' && !sent)
        add('failed on intact state', 'the order was not sent from an intact folder');
      if (command !== 'test-order') silentReset(command, r, t, c, add, false);
      return;
    }
    const files = namesOf(c, dir);
    const named = files.some((f) => text.includes(f));
    const repairable = DERIVED.has(c.file) && c.variant !== 'directory' && c.variant !== 'symlink';
    if (sent && !(repairable && named))
      add(
        'order sent on damaged state',
        `an order went out from a folder whose ${pathOf(c)} is ${c.variant}${repairable ? ' (a derived file: allowed only when the run says it repaired it)' : ''}`,
      );
    if (r.code === 0) {
      if (command !== 'test-order') silentReset(command, r, t, c, add, true);
      return;
    }
    if (!named)
      add(
        'message without the file name',
        `the message names none of ${files.map((f) => f.slice(dir.length + 1) || dir).join(', ')}`,
      );
    const expected = c.file === 'lock' ? [5, 6] : command === 'audit verify' && isAuditFile(c) ? [1, 6] : [6];
    if (!expected.includes(r.code))
      add('undocumented or unexpected exit code', `expected ${expected.join(' or ')} for a damaged ${pathOf(c)}`);
  }

  const isAuditFile = (c: Case): boolean => AUDIT_FILES.has(c.file);

  /** The paths a message may name for a case's file: the file itself, its pair (snapshot and journal), the audit folder for the log's files. */
  function namesOf(c: Case, dir: string): string[] {
    const own = join(dir, pathOf(c));
    if (c.file.startsWith('paper-account.json'))
      return [join(dir, 'paper-account.json'), join(dir, 'paper-account.json.journal')];
    if (isAuditFile(c)) return [own, join(dir, 'audit')];
    return [own];
  }

  /** A command that succeeded on damaged state must show the truth: anything else is a silent reset. */
  function silentReset(
    command: Command,
    r: Run,
    t: Truth,
    c: Case,
    add: (kind: Violation['kind'], detail: string) => void,
    damaged: boolean,
  ): void {
    const v = json(r.stdout);
    const differ = (what: string, shown: unknown, truthValue: unknown): void =>
      add(
        damaged ? 'silent reset' : 'failed on intact state',
        `${what}: shown ${JSON.stringify(shown)}, truth ${JSON.stringify(truthValue)}`,
      );
    switch (command) {
      case 'positions':
        if (JSON.stringify(positionsOf(v)) !== JSON.stringify(t.positions))
          differ('positions', positionsOf(v), t.positions);
        break;
      case 'account': {
        const balance = (v as { balance?: number } | undefined)?.balance;
        if (balance !== t.balance) differ('balance', balance, t.balance);
        break;
      }
      case 'orders':
        if (JSON.stringify(workingOf(v)) !== JSON.stringify(t.working))
          differ('working orders', workingOf(v), t.working);
        if (JSON.stringify(paperOf(v)) !== JSON.stringify(t.paperOpen))
          differ('paper open orders', paperOf(v), t.paperOpen);
        break;
      case 'status': {
        const s = v as { tradingState?: string; working?: Array<{ client_order_id: string }> } | undefined;
        if (s?.tradingState !== t.tradingState) differ('trading state', s?.tradingState, t.tradingState);
        const working = (s?.working ?? []).map((o) => o.client_order_id).sort();
        if (JSON.stringify(working) !== JSON.stringify(t.working)) differ('working orders', working, t.working);
        break;
      }
      case 'halt': {
        const cancelled = (v as { emergencyStop?: { cancelled?: unknown[] } } | undefined)?.emergencyStop?.cancelled
          ?.length;
        if (cancelled !== t.paperOpen.length)
          differ('orders cancelled by the emergency stop', cancelled, t.paperOpen.length);
        break;
      }
      case 'resume': {
        const s = v as { working?: Array<{ client_order_id: string }> } | undefined;
        const working = (s?.working ?? []).map((o) => o.client_order_id).sort();
        if (JSON.stringify(working) !== JSON.stringify(t.working)) differ('working orders', working, t.working);
        break;
      }
      case 'audit verify': {
        const report = v as { verified?: boolean; lastSeq?: number } | undefined;
        if (isAuditFile(c) || !damaged) {
          if (report?.verified !== true || report.lastSeq !== t.lastSeq)
            differ('audit log (verified, last seq)', [report?.verified, report?.lastSeq], [true, t.lastSeq]);
        }
        break;
      }
      case 'audit tail': {
        const records = Array.isArray(v) ? (v as Array<{ seq: number }>) : [];
        const last = records[records.length - 1]?.seq;
        if (last !== t.lastSeq) differ('last audit record', last, t.lastSeq);
        break;
      }
      default:
        break;
    }
  }

  for (const c of CASES) {
    it(c.label, function () {
      if (setupError) throw setupError;
      const result = results.get(c.label);
      assert.ok(result, 'the case did not run');
      assert.deepEqual(
        result.violations.map((v) => `${v.command}: ${v.kind}: ${v.detail}`),
        [],
        `${c.label} (${result.damaged ? 'damaged' : 'intact'})`,
      );
    });
  }
});

const firstLine = (s: string): string => (s.trim().split('\n')[0] ?? '').slice(0, 300);

function printFigures(results: ReadonlyMap<string, CaseResult>): void {
  let runs = 0;
  const counts = new Map<Violation['kind'], number>(FIGURES.map((k) => [k, 0]));
  for (const r of results.values()) {
    runs += r.runs;
    for (const v of r.violations) counts.set(v.kind, (counts.get(v.kind) ?? 0) + 1);
  }
  const failing = [...results.entries()].filter(([, r]) => r.violations.length > 0).length;
  const lines = [
    '',
    `  corruption suite: ${results.size} cases, ${runs} command runs; ${failing} case(s) with violations`,
    ...FIGURES.map((k) => `    ${k.padEnd(40)} ${String(counts.get(k) ?? 0).padStart(5)}`),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
