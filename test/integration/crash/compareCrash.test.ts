/**
 * `sptrader compare --venues oanda-practice,paper` SIGKILLed after both venues had the order and before the engine
 * recorded OANDA's answer (a fake OANDA, as its v20 documentation describes it). The next open of the state folder
 * (paper only) shows the OANDA order UNCONFIRMED with the command that settles it: it named
 * `sptrader test-order --broker oanda-practice`, which refuses a profile id (only broker kinds are brokers). The
 * command it names now settles the order, once: its fill is recorded, nothing is sent again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOanda, type FakeOanda } from '../../fakes/oanda/server';
import { check, cli, MARKET, NOTHING } from './crashKit';

describe('crash suite: compare killed after one venue answered', function () {
  this.timeout(300_000);
  let root: string;
  let oanda: FakeOanda;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'sptrader-compare-crash-'));
    oanda = await startFakeOanda();
    oanda.setQuote('EUR_USD', 1.085, 1.0852);
  });
  after(async () => {
    await oanda.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("the next open names the command that settles OANDA's order, and that command records its fill once", async () => {
    const stateDir = join(root, 'state');
    const market = join(root, 'market.py');
    const nothing = join(root, 'nothing.py');
    writeFileSync(market, MARKET);
    writeFileSync(nothing, NOTHING);
    const profiles = join(root, 'profiles.json');
    writeFileSync(profiles, JSON.stringify([{ id: 'oanda-practice', broker: 'oanda', baseUrl: oanda.url }]));
    const env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
    const venues = ['--venues', 'oanda-practice,paper', '--profiles', profiles];
    // Paper's order is sent first (its answer is the first); the kill comes after OANDA's answer.
    const killed = await cli(['compare', market, ...venues, '--state-dir', stateDir], {
      ...env,
      SPTRADER_CRASH_AT: 'engine-after-venue-answered:2',
    });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr + killed.stdout);
    const atOanda = oanda.orders().filter((o) => o.clientExtensions?.id !== undefined);
    assert.equal(atOanda.length, 1, 'OANDA had the order when the process died');

    const orders = await cli(['orders', '--state-dir', stateDir]);
    assert.equal(orders.code, 0, orders.stderr + orders.stdout);
    assert.match(orders.stdout, /oanda-practice \S+ +UNCONFIRMED/);
    assert.match(
      orders.stdout,
      /`sptrader test-order <component> --venues oanda-practice --profiles FILE` \(FILE the profiles that name oanda-practice\)/,
    );
    assert.doesNotMatch(orders.stdout, /--broker oanda-practice/);

    const settle = await cli(
      ['test-order', nothing, '--venues', 'oanda-practice', '--profiles', profiles, '--state-dir', stateDir],
      env,
    );
    assert.equal(settle.code, 0, settle.stderr + settle.stdout);
    const after = await cli(['orders', '--state-dir', stateDir]);
    assert.doesNotMatch(after.stdout, /UNCONFIRMED/, after.stdout);
    const audit = join(stateDir, 'audit');
    const lines = readdirSync(audit)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(audit, f), 'utf8').split('\n'))
      .filter((l) => l.includes('"venue":"oanda-practice"'));
    assert.equal(lines.filter((l) => l.includes('"type":"OrderFilled"')).length, 1, "OANDA's fill recorded once");
    assert.equal(lines.filter((l) => l.includes('"type":"SubmitOrder"')).length, 1, 'sent once');
    assert.equal(oanda.orders().filter((o) => o.clientExtensions?.id !== undefined).length, 1, 'one order at OANDA');
    await check(stateDir);
  });
});
