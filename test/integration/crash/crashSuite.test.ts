/**
 * The crash suite: the real CLI (dist/cli.js) is SIGKILLed at each step of the pipeline — before the
 * send, after the paper venue saved the order and its fill but before they were delivered, after the
 * venue answered but before the engine recorded it, between a journal fold's two steps — and at random
 * moments. After the next open (which reconciles every unfinished order by client id), the audit log's
 * fills must equal the paper account's positions, every order the log sent must be settled, no order may
 * be at the venue twice, and the log must verify: in 100% of trials.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, cli, MARKET, NOTHING, RESTING, SELL } from './crashKit';

describe('crash suite: SIGKILL at every step of the pipeline, then the next open', function () {
  this.timeout(600_000);
  let root: string;
  const components: Record<string, string> = {};

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-crash-'));
    for (const [name, text] of Object.entries({ market: MARKET, sell: SELL, resting: RESTING, nothing: NOTHING })) {
      const file = join(root, `${name}.py`);
      writeFileSync(file, text);
      components[name] = file;
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a kill during the first order of a new state folder: the next execute trades, no file is called deleted', async () => {
    for (const point of ['engine-before-send', 'engine-after-venue-answered', 'paper-after-save']) {
      const stateDir = join(root, `first-${point}`);
      const killed = await cli(['execute', components['market'] as string, '--state-dir', stateDir, '--json'], {
        SPTRADER_CRASH_AT: point,
      });
      assert.equal(killed.signal, 'SIGKILL', `${point}: the run was killed there`);
      const next = await cli(['execute', components['market'] as string, '--state-dir', stateDir, '--json']);
      assert.equal(next.code, 0, `${point}: the next execute trades: ${next.stderr}${next.stdout.slice(0, 600)}`);
      assert.doesNotMatch(next.stderr, /damaged|missing|deleted/i, `${point}: nothing is reported damaged`);
      await check(stateDir);
    }
  });

  const POINTS = ['engine-before-send', 'engine-after-venue-answered', 'paper-after-save', 'paper-fold-between'];
  const TRIALS_PER_POINT = 5;
  const RANDOM_TRIALS = 8;

  it(`${POINTS.length} crash points × ${TRIALS_PER_POINT} trials and ${RANDOM_TRIALS} random kills: the log's fills equal the venue's positions every time`, async () => {
    const stateDir = join(root, 'state');
    const env = { SPTRADER_PAPER_JOURNAL_LIMIT_BYTES: '1' };
    let trials = 0;
    let killed = 0;
    let agreed = 0;
    const kinds = ['market', 'sell', 'resting'];
    const plan: Array<{ point?: string; killAfterMs?: number; component: string }> = [];
    for (const point of POINTS)
      for (let i = 0; i < TRIALS_PER_POINT; i++) plan.push({ point, component: kinds[i % kinds.length] as string });
    // Seeded: the same moments on every run.
    let seed = 20261202;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < RANDOM_TRIALS; i++)
      plan.push({ killAfterMs: Math.floor(120 + rand() * 500), component: kinds[i % kinds.length] as string });

    for (const step of plan) {
      trials++;
      const run = await cli(
        ['execute', components[step.component] as string, '--state-dir', stateDir, '--json'],
        { ...env, ...(step.point ? { SPTRADER_CRASH_AT: step.point } : {}) },
        step.killAfterMs,
      );
      if (run.signal === 'SIGKILL') killed++;
      else
        assert.ok(
          run.code === 0 || run.code === 3,
          `a run that was not killed ends cleanly (exit ${run.code}): ${run.stderr}${run.stdout.slice(0, 400)}`,
        );
      // The next open: a run that reconciles and sends nothing.
      const next = await cli(['test-order', components['nothing'] as string, '--state-dir', stateDir, '--json'], env);
      assert.equal(next.code, 0, `the next open succeeds: ${next.stderr}${next.stdout.slice(0, 600)}`);
      await check(stateDir);
      agreed++;
    }
    const totals = await check(stateDir);
    console.log(
      `      crash suite: ${trials} trials (${killed} killed mid-run), audit fills = venue positions in ${agreed}/${trials} (${Math.round((100 * agreed) / trials)}%); ${totals.orders} orders, ${totals.fills} fills, 0 sent twice`,
    );
    assert.ok(killed >= POINTS.length * TRIALS_PER_POINT * 0.75, `most planned crashes happened (${killed})`);
  });
});
