/**
 * `sptrader reset-paper` SIGKILLed at each of its steps: after the audit log recorded the reset (a
 * VenueBaseline of nothing) but before the account was touched, and between the account's files going.
 * The log's record is durable at each of these points, so the next open must find the account fully reset
 * (no positions, no fills, starting cash) — never the old account against a log that says it was reset,
 * never a journal without its account — and trading must go on from there.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalFile, readPaperAccount } from '../../../src/brokers/paper/state';
import { check, cli, MARKET } from './crashKit';

describe('crash suite: reset-paper killed at each step', function () {
  this.timeout(300_000);
  let root: string;
  let market: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-reset-crash-'));
    market = join(root, 'market.py');
    writeFileSync(market, MARKET);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const point of ['paper-reset-begin', 'paper-reset-between', 'paper-reset-between:2']) {
    it(`killed at ${point}: the next open finds the account fully reset, and trading goes on`, async () => {
      const stateDir = join(root, point.replace(':', '-'));
      const account = join(stateDir, 'paper-account.json');
      for (let i = 0; i < 2; i++) {
        const run = await cli(['execute', market, '--state-dir', stateDir, '--json']);
        assert.equal(run.code, 0, `execute ${i + 1}: ${run.stderr}${run.stdout.slice(0, 400)}`);
      }
      assert.ok(existsSync(journalFile(account)), 'the account has a journal beside its snapshot');
      assert.equal(readPaperAccount(account)?.state.counters.fill, 2);

      const killed = await cli(['reset-paper', '--yes', '--state-dir', stateDir], { SPTRADER_CRASH_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `the reset was killed at ${point}: ${killed.stderr}${killed.stdout}`);

      const next = await cli(['positions', '--state-dir', stateDir, '--json']);
      assert.equal(next.code, 0, `the next open succeeds: ${next.stderr}${next.stdout.slice(0, 600)}`);
      assert.doesNotMatch(next.stderr, /damaged|missing|disagrees/i, 'nothing is reported damaged');
      const after = readPaperAccount(account)?.state;
      assert.equal(after?.counters.fill ?? 0, 0, 'the account has no fills: it was reset');
      assert.deepEqual(after?.positions.filter((p) => BigInt(p.quantity) !== 0n) ?? [], [], 'no positions');
      assert.deepEqual(
        readdirSync(stateDir).filter(
          (f) => f.startsWith('paper-account') && !/^paper-account\.json(\.journal)?$/.test(f),
        ),
        [],
        'no file of the reset is left behind',
      );
      await check(stateDir);

      const again = await cli(['execute', market, '--state-dir', stateDir, '--json']);
      assert.equal(again.code, 0, `trading goes on: ${again.stderr}${again.stdout.slice(0, 400)}`);
      assert.equal(readPaperAccount(account)?.state.counters.fill, 1, 'one fill since the reset');
      await check(stateDir);
    });
  }
});
