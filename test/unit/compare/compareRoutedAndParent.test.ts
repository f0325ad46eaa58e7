/**
 * `sptrader compare` of a component that routes and of one that returns a parent order (issue 15), through
 * the built CLI against the paper venue and the brokers' local fakes:
 * - a routed order is compared over the route's candidates among the compared venues: each is sent the
 *   order, each column says whether the router would pick it, pass it over or skip it, and a compared venue
 *   the route does not list is not sent to;
 * - a parent is carried out on each venue at once, and its children's fills are compared (quantity,
 *   average price, slippage against each venue's own quote, fees); one still working when the comparison
 *   ends is cancelled, and its column says so; a trailing stop's column says whether the venue carries it
 *   natively (IB) or the engine emulates it (OANDA), and why.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tailAudit, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import type { CompareOutcome } from '../../../src/usecases/compare';
import { startFakeTws, type FakeTws } from '../../fakes/ib/server';
import { startFakeOanda } from '../../fakes/oanda/server';

const ROOT = resolve(__dirname, '../../../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const EXAMPLES = join(ROOT, 'examples/workspace/core/orders');
const ROUTED = join(EXAMPLES, 'smart_routing/best_price_market.py');
const TWAP = join(EXAMPLES, 'execution_algos/twap_buy.py');
const BRACKET = join(EXAMPLES, 'risk_filters/bracket_entry.py');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('sptrader compare: routed and parent orders', function () {
  this.timeout(90_000);
  let dir: string;
  let oanda: Awaited<ReturnType<typeof startFakeOanda>>;
  let ib: FakeTws;
  let profiles: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-compare-rp-'));
    oanda = await startFakeOanda();
    // IB's fake charges no commission here: the router's presumptive fee is then what the fills prove wrong.
    ib = await startFakeTws({ commission: () => 0 });
    oanda.setQuote('EUR_USD', 1.085, 1.0852);
    ib.setQuote('EUR_USD', 1.0849, 1.0851);
    profiles = join(dir, 'profiles.json');
    writeFileSync(
      profiles,
      JSON.stringify([
        { id: 'oanda-practice', broker: 'oanda', baseUrl: oanda.url },
        { id: 'ib-paper', broker: 'ib', host: '127.0.0.1', port: ib.port, clientId: 7 },
      ]),
    );
    env = { SPTRADER_OANDA_TOKEN: oanda.token, SPTRADER_OANDA_ACCOUNT_ID: oanda.accountId };
  });
  afterEach(async () => {
    await oanda.close();
    await ib.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a routed order: the route's candidates are each sent it, with the router's pick beside the fills; the others are not", async () => {
    const stateDir = join(dir, 'state');
    const args = [
      'compare',
      ROUTED,
      '--venues',
      'paper,oanda-practice,ib-paper',
      '--profiles',
      profiles,
      '--param',
      'venues=oanda-practice,ib-paper,nowhere',
      '--param',
      'quantity=1000',
      '--state-dir',
      stateDir,
    ];
    const r = await cli([...args, '--json'], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as CompareOutcome;
    assert.deepEqual(
      out.venues.map((c) => [c.id, c.verdict, c.route?.role]),
      [
        ['paper', 'NOT_SENT', 'not a candidate'],
        ['oanda-practice', 'FILLED', 'chosen'],
        ['ib-paper', 'FILLED', 'passed over'],
      ],
    );
    const paper = out.venues[0]!;
    assert.equal(paper.code, 'NOT_A_CANDIDATE');
    assert.match(paper.reason ?? '', /not a candidate of the component's route \(oanda-practice, ib-paper, nowhere\)/);
    assert.equal(paper.order, null, 'nothing was sent to a venue the route does not list');
    // The router's decision, as Test Order would make it: IB's ask is a pip lower, but IB's presumptive
    // minimum commission on 1,000 units outweighs it, so the router picks OANDA; 'nowhere' is skipped.
    assert.equal(out.route?.chosen, 'oanda-practice');
    assert.match(
      out.route?.reason ?? '',
      /^best net price: oanda-practice ask 1\.0852 = 1\.0852\/unit; over ib-paper ask 1\.0851 \+ fee/,
    );
    assert.match(
      out.route?.candidates.find((c) => c.venue === 'nowhere')?.skipped ?? '',
      /not a venue of this session/,
    );
    assert.ok(
      out.notes.some((n) => /the route also lists nowhere, which is not compared/.test(n)),
      out.notes.join('; '),
    );
    // The fake charged IB no commission: the fills say the router's pick was not the best, and the note says so.
    assert.equal(out.best, 'ib-paper');
    assert.ok(
      out.notes.some((n) =>
        /the router would pick oanda-practice by its quotes and fees; the best fill net of fees was at ib-paper/.test(
          n,
        ),
      ),
      out.notes.join('; '),
    );
    // One order at each candidate's fake.
    const [, o, i] = out.venues;
    assert.equal(oanda.ordersWithClientId(o!.order!.client_order_id!), 1);
    assert.equal(ib.ordersWithClientId(i!.order!.client_order_id!), 1);
    assert.equal(o?.fill?.averagePrice, 1.0852);
    assert.equal(i?.fill?.averagePrice, 1.0851);
    // The text form has a route row and the router's sentence.
    const text = await cli(args, env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^route\s+not a candidate\s+chosen\s+passed over$/m);
    assert.match(text.stdout, /^Route \(best_price\): the router would pick oanda-practice: best net price/m);
  });

  it("a TWAP parent: carried out on each venue at once; its children's fills are compared, best average first", async () => {
    const stateDir = join(dir, 'state');
    const r = await cli(
      [
        'compare',
        TWAP,
        '--venues',
        'oanda-practice,ib-paper,paper',
        '--profiles',
        profiles,
        '--param',
        'quantity=2000',
        '--param',
        'duration_s=1',
        '--param',
        'slices=2',
        '--state-dir',
        stateDir,
        '--json',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as CompareOutcome;
    assert.equal(out.parent?.algo, 'twap');
    assert.equal(out.order, null);
    assert.deepEqual(
      out.venues.map((c) => [c.id, c.verdict, c.parent?.state, c.parent?.children, c.fill?.quantity, c.fill?.fills]),
      [
        ['oanda-practice', 'FILLED', 'DONE', 2, 2000, 2],
        ['ib-paper', 'FILLED', 'DONE', 2, 2000, 2],
        ['paper', 'FILLED', 'DONE', 2, 2000, 2],
      ],
    );
    const [o, i] = out.venues;
    assert.equal(o?.fill?.averagePrice, 1.0852);
    assert.equal(i?.fill?.averagePrice, 1.0851);
    for (const c of out.venues) {
      assert.ok(c.slippage, `${c.id}: the average is measured against its own quote`);
      assert.equal(c.slippage.referencePrice, c.quote?.ask);
      assert.match(c.parent?.emulation ?? '', /^Emulated locally: the engine sends each slice/);
      assert.ok(c.latency.fillMs !== null, `${c.id}: first send to last fill`);
    }
    // Best average net of fees (a buy: the lowest). The fakes' prices are fixed; the paper venue's synthetic
    // quote moves with the time of day, so the best is worked out from the columns, not named.
    const cost = (c: (typeof out.venues)[number]): number =>
      (c.fill?.averagePrice ?? Infinity) + (c.fees ?? 0) / (c.fill?.quantity ?? 1);
    const cheapest = [...out.venues].sort((a, b) => cost(a) - cost(b))[0];
    assert.equal(out.best, cheapest?.id);
    assert.notEqual(out.best, 'oanda-practice', 'OANDA fills at 1.0852, above IB’s 1.0851');
    // Each child reached its venue once; the parents' lives are in the one audit log, which verifies.
    for (const id of [o.parent!.parentId + '-1', o.parent!.parentId + '-2'])
      assert.equal(oanda.ordersWithClientId(id), 1, id);
    for (const id of [i.parent!.parentId + '-1', i.parent!.parentId + '-2'])
      assert.equal(ib.ordersWithClientId(id), 1, id);
    assert.equal((await verifyAuditDir(join(stateDir, 'audit'))).verified, true);
    const ended = (await tailAudit(join(stateDir, 'audit'), 500)).filter((rec) => rec.type === 'ParentEnded');
    assert.equal(ended.length, 3);
  });

  it('a bracket parent: the entries are compared; the exits still resting at the end are cancelled and the columns say so', async () => {
    const stateDir = join(dir, 'state');
    const r = await cli(
      [
        'compare',
        BRACKET,
        '--venues',
        'oanda-practice,ib-paper',
        '--profiles',
        profiles,
        '--param',
        'quantity=1000',
        '--state-dir',
        stateDir,
        '--json',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout) as CompareOutcome;
    assert.deepEqual(
      out.venues.map((c) => [c.id, c.verdict, c.parent?.state, c.parent?.children, c.fill?.quantity]),
      [
        ['oanda-practice', 'FILLED', 'CANCELLED', 3, 1000],
        ['ib-paper', 'FILLED', 'CANCELLED', 3, 1000],
      ],
    );
    for (const c of out.venues) {
      assert.equal(c.parent?.cancelledAtEnd, true);
      assert.ok(
        c.notes.some((n) => /its exits no longer rest/.test(n)),
        c.notes.join('; '),
      );
    }
    assert.equal(ib.orders().filter((o) => o.status === 'PreSubmitted' || o.status === 'Submitted').length, 0);
  });

  it('a trailing stop parent: native at IB, emulated at OANDA, and each column says which; the one at IB is cancelled there at the end', async () => {
    const file = join(dir, 'trail.py');
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        'class Trail(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        return {'algo': 'trailing_stop', 'symbol': 'EUR_USD', 'side': 'sell', 'quantity': 1000, 'trail_offset': 0.001}",
        '',
      ].join('\n'),
    );
    const args = [
      'compare',
      file,
      '--venues',
      'oanda-practice,ib-paper',
      '--profiles',
      profiles,
      '--parent-seconds',
      '0.5',
    ];
    const r = await cli([...args, '--state-dir', join(dir, 'state'), '--json'], env);
    const out = JSON.parse(r.stdout) as CompareOutcome;
    assert.deepEqual(
      out.venues.map((c) => [c.id, c.verdict, c.parent?.state, c.parent?.children, c.parent?.cancelledAtEnd]),
      [
        ['oanda-practice', 'CANCELLED', 'CANCELLED', 0, true],
        ['ib-paper', 'CANCELLED', 'CANCELLED', 1, true],
      ],
    );
    const [o, i] = out.venues;
    assert.match(
      o?.parent?.emulation ?? '',
      /^Emulated locally \(OANDA's trailing stop \(TrailingStopLossOrder\) belongs to one open trade/,
    );
    assert.match(i?.parent?.emulation ?? '', /^Native at ib-paper: the venue trails its own trailing stop order/);
    assert.match(i?.parent?.description ?? '', /trailing 0\.001 \(native at ib-paper\)/);
    // The native order reached IB once, as a TRAIL, and the end of the comparison cancelled it there.
    const trail = ib.orders().filter((x) => x.type === 'TRAIL');
    assert.deepEqual(
      trail.map((x) => [x.orderRef, x.aux, x.status]),
      [[`${i!.parent!.parentId}-1`, 0.001, 'Cancelled']],
    );
    assert.equal(oanda.requestCount('POST /orders'), 0, 'nothing was sent to OANDA while it trailed');
    const text = await cli([...args, '--state-dir', join(dir, 'state2')], env);
    assert.match(text.stdout, /^ib-paper: Native at ib-paper: /m);
    assert.match(text.stdout, /^oanda-practice: Emulated locally \(OANDA's trailing stop/m);
  });
});
