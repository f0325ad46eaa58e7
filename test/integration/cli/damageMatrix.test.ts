/**
 * The damage matrix: every file statePaths.ts names in a state folder × every way a hostile disk, tool or hand can
 * damage it, run as a user meets it (`node dist/cli.js`, a fresh copy of a folder that has traded each time).
 * corruption.test.ts crosses the common damages with every command; this suite adds the damages that leave a file
 * readable — valid JSON of the wrong shape and numbers too large or not numbers at all (both with the file's
 * checksum made to match, so that only the reader's checks stand between them and the truth), binary garbage, a file
 * its user may not read — the audit log's own (a torn last line, an edited middle line, a deleted middle file,
 * a whole line of another shape appended), and the files a folder holds only at times (the lock, a recover's
 * marker, a replay's marker, the risk limits, a paper profile's own account), and it follows each case through
 * `recover --yes`.
 *
 * For every case:
 * - status, positions and test-order either show the truth (a damaged file is not read as a fresh account) or
 *   fail with a documented exit code and a message naming the file (its folder, for the audit log's files);
 * - no order is sent from damaged state, except where a derived file (working orders, the anchor) or a torn last
 *   line is repaired on open and the run says so;
 * - no stack trace, no exit 70, no hang;
 * - `recover --yes` either puts the folder right (then status works, positions are the truth, an order goes out)
 *   or refuses naming the file; either way every audit record the damaged folder held is still in it. A folder
 *   left HALTED by the open that found the damage (the halt is in the log, so recover keeps it) must say so naming
 *   the file, and trade after a `resume`. The user's own risk limits are left as found (recover does not own them).
 * The template's audit log is split as size rotation leaves it (three files), so that a middle file can go.
 * Unreadable files are skipped when the suite runs as root (root reads anything; unreadableStateFiles.test.ts runs
 * that case as another user).
 * Past 450 lines on purpose: the damages, the files and the judgement of one case read as one table.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sealJson } from '../../../src/common/checksum';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MARKET = join(ROOT, 'examples/workspace/core/orders/execution_algos/spread_guarded_market.py');
const LIMIT = join(ROOT, 'examples/workspace/core/orders/execution_algos/limit_below_bid.py');
const RESTING = ['--param', 'offset_pips=200', '--param', 'expiry_minutes=1440'];
const CONCURRENCY = 2;
const COMMAND_TIMEOUT_MS = 60_000;
const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const AS_ROOT = process.getuid?.() === 0;

type Damage =
  | 'missing'
  | 'empty'
  | 'truncated'
  | 'garbage bytes'
  | 'wrong shape'
  | 'huge numbers'
  | 'NaN-like numbers'
  | 'directory'
  | 'symlink'
  | 'unreadable'
  | 'torn last line'
  | 'edited middle line'
  | 'deleted middle file'
  | 'foreign whole line';
const COMMON: readonly Damage[] = [
  'missing',
  'empty',
  'truncated',
  'garbage bytes',
  'wrong shape',
  'huge numbers',
  'NaN-like numbers',
  'directory',
  'symlink',
  'unreadable',
];
const AUDIT_ONLY: readonly Damage[] = [
  'torn last line',
  'edited middle line',
  'deleted middle file',
  'foreign whole line',
];

interface FileSpec {
  /** Relative to the state folder; 'audit log' is the log's last file. */
  readonly name: string;
  /** Rebuilt from the audit log on open: a content damage may be repaired there, if the run says so. */
  readonly derived?: boolean;
  /** Not in the template: written by the case (`original`), so that "missing" is the intact control. */
  readonly original?: string;
  /** A link in its place is the user's own choice (a settings file kept elsewhere): it must simply work. */
  readonly linkAllowed?: boolean;
  /** The user's own file (settings): recover never rewrites it; it must leave it as it found it. */
  readonly userOwned?: boolean;
  /** Opened only by an order to this paper profile (`--venues <id> --profiles FILE`); status and positions never read it. */
  readonly venue?: string;
  /** The exit codes a refusal may have besides 6. */
  readonly codes?: readonly number[];
  readonly damages: readonly Damage[];
}

const FILES: readonly FileSpec[] = [
  { name: 'paper-account.json', damages: COMMON },
  { name: 'paper-account.json.journal', damages: COMMON },
  {
    name: 'paper-account-desk2.json',
    venue: 'desk2',
    damages: COMMON,
  },
  { name: 'trading-state.json', damages: COMMON },
  { name: 'working-orders.json', derived: true, damages: COMMON },
  { name: 'audit/anchor.json', derived: true, damages: COMMON },
  { name: 'audit log', damages: [...COMMON, ...AUDIT_ONLY] },
  {
    name: 'risk-limits.json',
    linkAllowed: true,
    userOwned: true,
    codes: [2],
    damages: COMMON.filter((d) => d !== 'missing'),
  },
  {
    name: 'lock',
    original: '',
    codes: [5],
    damages: ['missing', 'garbage bytes', 'wrong shape', 'huge numbers', 'NaN-like numbers', 'directory'],
  },
  {
    name: 'recovering.json',
    original: `${JSON.stringify({ version: 1, startedAt: 1, auditSetAside: null })}\n`,
    damages: ['missing', 'empty', 'garbage bytes', 'wrong shape', 'huge numbers', 'NaN-like numbers', 'directory'],
  },
  {
    name: 'replay.json',
    original: `${JSON.stringify({ kind: 'sptrader-replay', version: 1, createdAt: '2026-01-01T00:00:00.000Z' })}\n`,
    damages: ['empty', 'garbage bytes', 'wrong shape', 'directory'],
  },
];

interface Case {
  readonly label: string;
  readonly file: FileSpec;
  readonly damage: Damage;
}

const CASES: Case[] = FILES.flatMap((file) =>
  file.damages.map((damage): Case => ({ label: `${file.name}: ${damage}`, file, damage })),
);

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

const lastJson = (text: string): unknown => {
  try {
    return JSON.parse(text.trim().split('\n').pop() ?? '');
  } catch {
    return undefined;
  }
};

interface Truth {
  readonly positions: string;
  readonly tradingState: string;
  readonly working: string;
}

const positionsOf = (v: unknown): string =>
  JSON.stringify(
    Array.isArray(v)
      ? (v as Array<{ symbol: string; quantity: number; average_price: number }>)
          .map((p) => [p.symbol, p.quantity, p.average_price])
          .sort()
      : v,
  );
const workingOf = (v: unknown): string =>
  JSON.stringify(
    ((v as { working?: Array<{ client_order_id: string }> } | undefined)?.working ?? [])
      .map((o) => o.client_order_id)
      .sort(),
  );

/** Every audit record's hash in the folder's audit files (the log and any copy recover set aside). */
function auditHashes(dir: string): Set<string> {
  const hashes = new Set<string>();
  const visit = (folder: string): void => {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(folder, name);
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        continue;
      }
      if (stat.isDirectory() && (name.startsWith('audit') || folder !== dir)) visit(path);
      else if (stat.isFile() && /\.jsonl/.test(name)) {
        for (const m of readFileSync(path, 'utf8').matchAll(/"hash":"([0-9a-f]{64})"\}$/gm)) hashes.add(m[1] as string);
      }
    }
  };
  visit(dir);
  return hashes;
}

function ordersSubmitted(dir: string): number {
  let n = 0;
  const audit = join(dir, 'audit');
  let names: string[] = [];
  try {
    names = readdirSync(audit);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      if (!name.endsWith('.jsonl')) continue;
      n += readFileSync(join(audit, name), 'utf8').split('"type":"OrderSubmitted"').length - 1;
    } catch {
      // unreadable: counts nothing
    }
  }
  return n;
}

/** The text SPtrader writes for `value`, in the layout of `original` (compact or indented), sealed as it was. */
function rewrite(original: string, value: unknown): string {
  const indent = original.charCodeAt(1) === 10 ? (/^\{\n( *)/.exec(original)?.[1]?.length ?? 0) : 0;
  const text = JSON.stringify(value, null, indent || undefined);
  return original.includes('"crc32"') && text.startsWith('{') ? sealJson(text) : text;
}

const HUGE = '"\u0000huge"';
/** Every number but `version` (whose change reads as another format) replaced by `to`. */
function mapNumbers(v: unknown, to: (n: number) => unknown, key = ''): unknown {
  if (typeof v === 'number') return key === 'version' ? v : to(v);
  if (Array.isArray(v)) return v.map((x) => mapNumbers(x, to));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'crc32') out[k] = mapNumbers(x, to, k);
    return out;
  }
  // Exact amounts are kept as digit strings (the paper account's cash, positions): too large too.
  if (typeof v === 'string' && /^-?\d{6,}$/.test(v)) return '9'.repeat(400);
  return v;
}

/** Every value but `version` replaced by one of another JSON type: valid JSON, the wrong shape. */
function wrongShape(v: unknown): unknown {
  if (Array.isArray(v)) return { items: 'not a list' };
  if (!v || typeof v !== 'object') return ['not', 'a', typeof v];
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'crc32') continue;
    out[k] =
      k === 'version'
        ? x
        : typeof x === 'number'
          ? String(x)
          : typeof x === 'string'
            ? 42
            : typeof x === 'boolean'
              ? 'yes'
              : x === null
                ? []
                : Array.isArray(x)
                  ? { list: false }
                  : 'an object was here';
  }
  return out;
}

/** Applies `change` to the JSON text (the last line of a JSON-lines file), written back in the same layout. */
function changeJson(text: string, change: (v: unknown) => unknown): string {
  const lines = text.split('\n');
  const lineBased = lines.length > 2 && text.startsWith('{"');
  if (!lineBased) {
    const original = text.trim();
    return `${rewrite(original, change(JSON.parse(original)))}\n`.split(HUGE).join('1e999');
  }
  const last = lines.length - (lines[lines.length - 1] === '' ? 2 : 1);
  const line = lines[last] as string;
  lines[last] = rewrite(line, change(JSON.parse(line)))
    .split(HUGE)
    .join('1e999');
  return lines.join('\n');
}

describe('damage matrix: every state file × every damage, then recover (dist/cli.js)', function () {
  this.timeout(1_500_000);
  let scratch: string;
  let template: string;
  let profiles: string;
  let auditFiles: string[];
  let truth: Truth;
  const results = new Map<string, string[]>();
  const outcomes = new Map<string, string>();
  let setupError: Error | undefined;

  before(async function () {
    scratch = mkdtempSync(join(tmpdir(), 'sptrader-damage-matrix-'));
    template = join(scratch, 'template');
    profiles = join(scratch, 'profiles.json');
    try {
      const step = async (args: string[]): Promise<void> => {
        const r = await run([...args, '--state-dir', template]);
        assert.equal(r.code, 0, `template step ${args.join(' ')}: exit ${r.code}\n${r.stderr}${r.stdout}`);
      };
      mkdirSync(template);
      writeFileSync(
        join(template, 'risk-limits.json'),
        `${JSON.stringify({ limits: { maxOrderQuantity: 1_000_000, maxOrderNotional: 5_000_000 }, circuitBreaker: { maxConsecutiveFailures: 5 } }, null, 2)}\n`,
      );
      await step(['execute', MARKET]);
      await step(['halt', '--reason', 'damage matrix: a halt and a resume write trading-state.json']);
      await step(['resume']);
      await step(['execute', LIMIT, ...RESTING]);
      writeFileSync(profiles, JSON.stringify([{ id: 'desk2', broker: 'paper' }]));
      await step(['execute', MARKET, '--venues', 'desk2', '--profiles', profiles]);
      splitAuditLog(join(template, 'audit'));
      auditFiles = readdirSync(join(template, 'audit'))
        .filter((f) => f.endsWith('.jsonl'))
        .sort(byRotation);
      assert.equal(auditFiles.length, 3, `the template's log is in three files: ${auditFiles.join(', ')}`);
      truth = await measureTruth(template);
      assert.equal(truth.tradingState, 'ACTIVE');
      assert.notEqual(truth.working, '[]', 'the template has a working order');
      const done = await pool(
        CASES.map((c) => () => runCase(c)),
        CONCURRENCY,
      );
      CASES.forEach((c, i) => {
        const d = done[i] as { violations: string[]; outcome: string };
        results.set(c.label, d.violations);
        outcomes.set(c.label, d.outcome);
      });
    } catch (e) {
      setupError = e as Error;
    }
  });

  after(function () {
    if (outcomes.size > 0) {
      const lines = CASES.map((c) => `    ${c.label.padEnd(42)} ${outcomes.get(c.label) ?? '(not run)'}`);
      process.stdout.write(`\n  damage matrix (status | test-order | recover --yes → status)\n${lines.join('\n')}\n`);
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** The log as size rotation leaves it: audit-D.jsonl, audit-D.1.jsonl, audit-D.2.jsonl (the chain unchanged). */
  function splitAuditLog(audit: string): void {
    const name = readdirSync(audit).find((f) => /^audit-\d{4}-\d{2}-\d{2}\.jsonl$/.test(f));
    assert.ok(name, 'the template has an audit file');
    const day = name.slice('audit-'.length, -'.jsonl'.length);
    const lines = readFileSync(join(audit, name), 'utf8').split('\n').filter(Boolean);
    const third = Math.ceil(lines.length / 3);
    const parts = [lines.slice(0, third), lines.slice(third, 2 * third), lines.slice(2 * third)];
    parts.forEach((part, i) =>
      writeFileSync(join(audit, i === 0 ? name : `audit-${day}.${i}.jsonl`), `${part.join('\n')}\n`),
    );
  }

  async function measureTruth(dir: string): Promise<Truth> {
    const copy = join(scratch, 'truth');
    cpSync(dir, copy, { recursive: true });
    const status = await run(['status', '--state-dir', copy, '--json']);
    const positions = await run(['positions', '--state-dir', copy, '--json']);
    const verify = await run(['audit', 'verify', '--state-dir', copy, '--json']);
    for (const [what, r] of Object.entries({ status, positions, verify }))
      assert.equal(r.code, 0, `the healthy folder's ${what} failed: ${r.stderr}${r.stdout}`);
    rmSync(copy, { recursive: true, force: true });
    const s = lastJson(status.stdout) as { tradingState: string };
    return {
      tradingState: s.tradingState,
      working: workingOf(s),
      positions: positionsOf(lastJson(positions.stdout)),
    };
  }

  const pathOf = (c: Case, dir: string): string =>
    join(dir, c.file.name === 'audit log' ? join('audit', auditFiles[2] as string) : c.file.name);

  /** Damages the case's file in `dir`; false when the folder is intact (the file's "missing" where it is optional). */
  function damage(c: Case, dir: string): boolean {
    const target = pathOf(c, dir);
    if (c.file.original !== undefined) {
      if (c.damage === 'missing') return false;
      if (c.file.name === 'lock') writeFileSync(target, JSON.stringify(deadLock()));
      else writeFileSync(target, c.file.original);
    }
    const original = readFileSync(target);
    const text = original.toString('utf8');
    switch (c.damage) {
      case 'missing':
        rmSync(target);
        return true;
      case 'empty':
        writeFileSync(target, '');
        return true;
      case 'truncated':
        writeFileSync(target, original.subarray(0, Math.floor(original.length / 2)));
        return true;
      case 'garbage bytes':
        writeFileSync(target, Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x00, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]));
        return true;
      case 'wrong shape':
        writeFileSync(target, changeJson(text, wrongShape));
        return true;
      case 'huge numbers':
        writeFileSync(
          target,
          changeJson(text, (v) => mapNumbers(v, () => HUGE.slice(1, -1))),
        );
        return true;
      case 'NaN-like numbers':
        writeFileSync(
          target,
          changeJson(text, (v) => mapNumbers(v, () => 'NaN')),
        );
        return true;
      case 'directory':
        rmSync(target);
        mkdirSync(target);
        writeFileSync(join(target, 'stray'), 'x');
        return true;
      case 'symlink': {
        mkdirSync(join(scratch, 'elsewhere'), { recursive: true });
        const elsewhere = join(scratch, 'elsewhere', Math.random().toString(36).slice(2));
        writeFileSync(elsewhere, original);
        rmSync(target);
        symlinkSync(elsewhere, target);
        return !c.file.linkAllowed;
      }
      case 'unreadable':
        chmodSync(target, 0o000);
        return true;
      case 'torn last line': {
        const lines = text.split('\n').filter(Boolean);
        const last = lines[lines.length - 1] as string;
        writeFileSync(target, `${text}${last.slice(0, Math.floor(last.length / 2))}`);
        return true;
      }
      case 'edited middle line': {
        const middle = join(dir, 'audit', auditFiles[1] as string);
        const lines = readFileSync(middle, 'utf8').split('\n');
        const at = Math.floor(lines.filter(Boolean).length / 2);
        lines[at] = (lines[at] as string).replace(/"ts":(\d)/, (_m, d: string) => `"ts":${(Number(d) + 1) % 10}`);
        writeFileSync(middle, lines.join('\n'));
        return true;
      }
      case 'deleted middle file':
        rmSync(join(dir, 'audit', auditFiles[1] as string));
        return true;
      case 'foreign whole line':
        writeFileSync(target, `${text}${JSON.stringify({ note: 'a whole JSON line no SPtrader write leaves' })}\n`);
        return true;
    }
  }

  /** A lock record of a holder that is no longer running (taken over when whole). */
  const deadLock = (): Record<string, unknown> => ({
    pid: spawnSync(process.execPath, ['-e', '0']).pid,
    host: hostname(),
    since: 1,
    purpose: 'damage matrix',
  });

  /** The paths a message may name: the file, its pair (snapshot and journal), the audit folder for the log's files. */
  function namesOf(c: Case, dir: string): string[] {
    const own = pathOf(c, dir);
    if (c.file.name.startsWith('paper-account'))
      return [own.replace(/\.journal$/, ''), `${own.replace(/\.journal$/, '')}.journal`];
    if (c.file.name.startsWith('audit'))
      return [own, join(dir, 'audit'), ...auditFiles.map((f) => join(dir, 'audit', f))];
    return [own];
  }

  async function runCase(c: Case): Promise<{ violations: string[]; outcome: string }> {
    const violations: string[] = [];
    if (c.damage === 'unreadable' && AS_ROOT) return { violations, outcome: 'skipped (root reads anything)' };
    const dir = join(scratch, 'cases', c.label.replace(/[^a-z0-9]+/gi, '-'));
    cpSync(template, dir, { recursive: true });
    const damaged = damage(c, dir);
    const hashesBefore = auditHashes(dir);
    const names = namesOf(c, dir);
    const repairable =
      (c.file.derived === true && !['directory', 'symlink', 'unreadable'].includes(c.damage)) ||
      c.damage === 'torn last line';
    const codes = [6, ...(c.file.codes ?? [])];
    const verdicts: string[] = [];
    // A run has named the damaged file (a repair on open is said once, by the run that made it).
    let said = false;

    const judge = (what: string, r: Run, allowed: readonly number[] = codes): boolean => {
      const add = (v: string): void => {
        violations.push(`${what}: ${v} [exit ${r.code}] ${firstLine(r.stderr) || firstLine(r.stdout)}`);
      };
      verdicts.push(`${what} ${r.code}`);
      if (names.some((f) => (r.stdout + r.stderr).includes(f))) said = true;
      if (r.timedOut || r.code === null) return (add('did not end'), false);
      if (r.code === 70 || STACK.test(r.stderr)) return (add('a stack trace or exit 70'), false);
      if (r.code === 0) return true;
      if (!damaged) return (add('failed on an intact folder'), false);
      if (!allowed.includes(r.code)) add(`exit ${r.code} is not one of ${allowed.join(', ')}`);
      const text = r.stdout + r.stderr;
      if (!names.some((f) => text.includes(f))) add(`the message names none of ${names.join(', ')}`);
      return false;
    };
    /** Status and positions against the truth; true when the folder is left halted over the damage (said so). */
    const truthOf = async (when: string): Promise<boolean> => {
      let haltedOverDamage = false;
      const status = await run(['status', '--state-dir', dir, '--json']);
      if (judge(`status ${when}`, status)) {
        const s = lastJson(status.stdout) as { tradingState?: string; reason?: string } | undefined;
        // The safe recovery: the open that found the damage halted trading (recorded in the log, so recover keeps
        // it), its reason naming the file; a person resumes.
        haltedOverDamage =
          when === 'after recover' &&
          s?.tradingState === 'HALTED' &&
          truth.tradingState === 'ACTIVE' &&
          names.some((f) => status.stdout.includes(f));
        if (s?.tradingState !== truth.tradingState && !haltedOverDamage)
          violations.push(`status ${when}: trading state ${s?.tradingState}, the truth ${truth.tradingState}`);
        if (when === 'after damage' && workingOf(s) !== truth.working && !repairable)
          violations.push(`status ${when}: working orders ${workingOf(s)}, the truth ${truth.working}`);
      }
      const positions = await run(['positions', '--state-dir', dir, '--json']);
      if (judge(`positions ${when}`, positions) && positionsOf(lastJson(positions.stdout)) !== truth.positions)
        violations.push(
          `positions ${when}: ${positionsOf(lastJson(positions.stdout))}, the truth ${truth.positions} (a silent reset)`,
        );
      return haltedOverDamage;
    };
    const order = async (): Promise<{ sent: boolean; r: Run }> => {
      const before = ordersSubmitted(dir);
      const venue = c.file.venue === undefined ? [] : ['--venues', c.file.venue, '--profiles', profiles];
      const r = await run(['test-order', MARKET, ...venue, '--state-dir', dir, '--json']);
      const v = lastJson(r.stdout) as { response?: unknown } | undefined;
      return { sent: ordersSubmitted(dir) > before || (v?.response ?? null) !== null, r };
    };

    await truthOf('after damage');
    const first = await order();
    judge('test-order', first.r);
    const text = first.r.stdout + first.r.stderr;
    if (!damaged && !first.sent) violations.push('test-order: nothing was sent from an intact folder');
    if (damaged && first.sent && !(repairable && (said || names.some((f) => text.includes(f)))))
      violations.push(`test-order: an order was sent from a folder whose ${c.label}`);

    if (damaged && c.damage !== 'unreadable') {
      const userFile = pathOf(c, dir);
      const userBytes = c.file.userOwned ? snapshot(userFile) : undefined;
      // A remedy that asks for a step before recover (a paper profile's account deleted with its journal) is followed.
      const touch = /create it empty \(`touch ([^`]+)`\)/.exec(text)?.[1];
      if (touch !== undefined) writeFileSync(touch, '');
      const recover = await run(['recover', '--yes', '--state-dir', dir, '--json']);
      let recovered = judge('recover --yes', recover);
      const lost = [...hashesBefore].filter((h) => !auditHashes(dir).has(h));
      if (lost.length > 0) violations.push(`recover --yes: ${lost.length} audit record(s) are gone from the folder`);
      if (userBytes !== undefined) {
        // Not recover's to rebuild: left as found, and the folder works once its user puts the file right.
        if (snapshot(userFile) !== userBytes) violations.push(`recover --yes: it changed ${userFile}`);
        rmSync(userFile, { recursive: true, force: true });
        cpSync(pathOf(c, template), userFile);
        recovered = true;
      }
      if (recovered) {
        if (await truthOf('after recover')) {
          const resume = await run(['resume', '--state-dir', dir, '--json']);
          judge('resume', resume, []);
        }
        const again = await order();
        if (!again.sent || again.r.code !== 0)
          violations.push(
            `test-order after recover: nothing was sent [exit ${again.r.code}] ${firstLine(again.r.stderr) || firstLine(again.r.stdout)}`,
          );
        verdicts.push(`test-order ${again.r.code}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    return { violations, outcome: verdicts.join(' | ') };
  }

  for (const c of CASES) {
    it(c.label, function () {
      if (setupError) throw setupError;
      if (c.damage === 'unreadable' && AS_ROOT) this.skip();
      const violations = results.get(c.label);
      assert.ok(violations, 'the case did not run');
      assert.deepEqual(violations, [], c.label);
    });
  }
});

/** A file's bytes (base64), or what reading it said (a folder in its place). */
function snapshot(file: string): string {
  try {
    return readFileSync(file).toString('base64');
  } catch (e) {
    return String((e as NodeJS.ErrnoException).code);
  }
}

const firstLine = (s: string): string => (s.trim().split('\n')[0] ?? '').slice(0, 300);

/** audit-D.jsonl before audit-D.1.jsonl before audit-D.2.jsonl. */
function byRotation(a: string, b: string): number {
  const index = (f: string): number => Number(/\.(\d+)\.jsonl$/.exec(f)?.[1] ?? 0);
  return a.slice(0, 16).localeCompare(b.slice(0, 16)) || index(a) - index(b);
}
