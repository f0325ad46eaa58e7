/**
 * `sptrader halt` and `sptrader resume` SIGKILLed right after trading-state.json took the change and before the
 * audit log recorded it (the file is saved first, so that a halt holds even when the log's write fails). The next
 * open takes the file's state (it is newer than the log's), and the audit log — the record — must then say so too:
 * otherwise the log showed orders sent while it said HALTED (a resume it never recorded), or a halt it never had.
 * The change is recorded once, at the time it was made, and nothing is reported damaged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, cli, MARKET } from './crashKit';

interface Changed {
  seq: number;
  data: { at: number; from: string; to: string; reason: string; source: string };
}

/** The audit log's TradingStateChanged records, in order. */
function stateChanges(stateDir: string): Changed[] {
  const audit = join(stateDir, 'audit');
  const out: Changed[] = [];
  for (const name of readdirSync(audit)
    .filter((f) => f.endsWith('.jsonl'))
    .sort())
    for (const line of readFileSync(join(audit, name), 'utf8').split('\n'))
      if (line.includes('"type":"TradingStateChanged"')) out.push(JSON.parse(line) as Changed);
  return out;
}

const tradingState = (stateDir: string): { state: string; reason: string; since: number } =>
  JSON.parse(readFileSync(join(stateDir, 'trading-state.json'), 'utf8')) as {
    state: string;
    reason: string;
    since: number;
  };

describe('crash suite: a trading state change saved to its file, then the process killed before the log had it', function () {
  this.timeout(300_000);
  let root: string;
  let market: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-trading-state-crash-'));
    market = join(root, 'market.py');
    writeFileSync(market, MARKET);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('halt killed there: the next open is HALTED and the log records that halt, once, at its time', async () => {
    const stateDir = join(root, 'halt');
    const first = await cli(['execute', market, '--state-dir', stateDir, '--json']);
    assert.equal(first.code, 0, `${first.stderr}${first.stdout.slice(0, 400)}`);
    const killed = await cli(['halt', '--reason', 'desk says stop', '--state-dir', stateDir], {
      SPTRADER_CRASH_AT: 'trading-state-saved',
    });
    assert.equal(killed.signal, 'SIGKILL', `the halt was killed there: ${killed.stderr}${killed.stdout}`);
    assert.equal(tradingState(stateDir).state, 'HALTED', 'the file took the halt');
    assert.deepEqual(stateChanges(stateDir), [], 'the log had not recorded it when the process died');

    for (let open = 1; open <= 2; open++) {
      const status = await cli(['status', '--state-dir', stateDir, '--json']);
      assert.equal(status.code, 0, `open ${open}: ${status.stderr}${status.stdout.slice(0, 400)}`);
      assert.equal((JSON.parse(status.stdout) as { tradingState: string }).tradingState, 'HALTED');
      assert.doesNotMatch(status.stderr, /damaged|older than/i, `open ${open}: nothing is reported damaged`);
      const changes = stateChanges(stateDir);
      assert.equal(changes.length, 1, `open ${open}: the halt is in the log, once: ${JSON.stringify(changes)}`);
      const halt = changes[0]?.data;
      assert.equal(halt?.to, 'HALTED');
      assert.equal(halt?.from, 'ACTIVE');
      assert.equal(halt?.source, 'user');
      assert.match(halt?.reason ?? '', /desk says stop/);
      assert.equal(halt?.at, tradingState(stateDir).since, 'recorded at the time the halt was made');
    }
    const denied = await cli(['execute', market, '--state-dir', stateDir, '--json']);
    assert.notEqual(denied.code, 0, 'still halted: nothing is sent');
    await check(stateDir);
  });

  it('resume killed there: the next open is ACTIVE and the log records the resume before any order it lets through', async () => {
    const stateDir = join(root, 'resume');
    for (const args of [
      ['execute', market],
      ['halt', '--reason', 'lunch'],
    ]) {
      const r = await cli([...args, '--state-dir', stateDir, '--json']);
      assert.equal(r.code, 0, `${args[0]}: ${r.stderr}${r.stdout.slice(0, 400)}`);
    }
    const killed = await cli(['resume', '--state-dir', stateDir], { SPTRADER_CRASH_AT: 'trading-state-saved' });
    assert.equal(killed.signal, 'SIGKILL', `the resume was killed there: ${killed.stderr}${killed.stdout}`);
    assert.equal(tradingState(stateDir).state, 'ACTIVE', 'the file took the resume');
    assert.equal(stateChanges(stateDir).at(-1)?.data.to, 'HALTED', "the log's last word is still the halt");

    const next = await cli(['execute', market, '--state-dir', stateDir, '--json']);
    assert.equal(
      next.code,
      0,
      `the file's state is taken: trading goes on: ${next.stderr}${next.stdout.slice(0, 400)}`,
    );
    assert.doesNotMatch(next.stderr, /damaged|older than/i, 'nothing is reported damaged');
    const changes = stateChanges(stateDir);
    const resumed = changes.at(-1);
    assert.equal(resumed?.data.from, 'HALTED');
    assert.equal(resumed?.data.to, 'ACTIVE', `the resume is in the log: ${JSON.stringify(changes.map((c) => c.data))}`);
    // Recorded before the order it let through: the log never shows an order sent while it says HALTED.
    const audit = join(stateDir, 'audit');
    const lines = readdirSync(audit)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(audit, f), 'utf8').split('\n'));
    const lastSubmit = lines.map((l) => l.includes('"type":"OrderSubmitted"')).lastIndexOf(true);
    const resumeAt = lines.findIndex((l) => l.includes('"type":"TradingStateChanged"') && l.includes('"to":"ACTIVE"'));
    assert.ok(resumeAt >= 0 && resumeAt < lastSubmit, 'the resume comes before the order sent after it');
    await check(stateDir);
  });
});
