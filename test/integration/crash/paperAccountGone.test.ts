/**
 * The paper account file deleted (or moved) after it traded, its journal with it or never made: the next open must
 * say that the file is missing, naming it, and nothing trades until `recover` rebuilds it from the audit log. It said
 * only that the account "disagrees with the audit log" (account 0 where the log has 1000), as if the file were there
 * and wrong.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, cli, MARKET } from './crashKit';

describe('crash suite: the paper account file gone while the audit log has its fills', function () {
  this.timeout(120_000);
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), 'sptrader-paper-gone-'))));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the next open says it is missing, naming the file; recover rebuilds it from the log', async () => {
    const stateDir = join(root, 'state');
    const market = join(root, 'market.py');
    writeFileSync(market, MARKET);
    const first = await cli(['execute', market, '--state-dir', stateDir, '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(0, 400));
    const account = join(stateDir, 'paper-account.json');
    rmSync(account);
    rmSync(`${account}.journal`, { force: true });

    const next = await cli(['execute', market, '--state-dir', stateDir, '--json']);
    assert.equal(next.code, 6, next.stderr + next.stdout.slice(0, 400));
    const said = next.stderr + next.stdout;
    assert.ok(said.includes(`${account}: the paper account is missing (deleted or moved)`), said.slice(0, 600));
    assert.match(said, /sptrader recover/);

    const recover = await cli(['recover', '--yes', '--state-dir', stateDir]);
    assert.equal(recover.code, 0, recover.stderr + recover.stdout);
    const positions = await cli(['positions', '--state-dir', stateDir, '--json']);
    assert.deepEqual(
      (JSON.parse(positions.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', 1000]],
    );
    await check(stateDir);
  });

  it("a directory in the place of the account's journal is said to be in the journal's place", async () => {
    const stateDir = join(root, 'journal-dir');
    const market = join(root, 'market.py');
    writeFileSync(market, MARKET);
    const first = await cli(['execute', market, '--state-dir', stateDir, '--json']);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(0, 400));
    const journal = join(stateDir, 'paper-account.json.journal');
    rmSync(journal, { force: true });
    mkdirSync(journal);
    const next = await cli(['positions', '--state-dir', stateDir]);
    assert.equal(next.code, 6, next.stderr + next.stdout);
    assert.ok(
      next.stderr.includes(`${journal}: a directory is in the place of the paper account's journal`),
      next.stderr,
    );
  });
});
