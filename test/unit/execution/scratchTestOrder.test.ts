/**
 * Issue 16: Test Order leaves the paper account as it was. On the embedded paper venue it fills on a
 * scratch copy of the account (same cash, positions and resting orders); Execute on Paper is what
 * changes the account; Reset Paper Account starts it afresh with the audit log agreeing. Real Python,
 * the real harness, a real paper account file and audit log in a state directory, opened as the CLI
 * and the editor open them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { tailAudit } from '../../../src/execution/audit/auditLog';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import { runTestOrder, type TestOrderRequest } from '../../../src/usecases/testOrder';
import { formatOutcome } from '../../../src/usecases/formatOutcome';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { defaultInterpreterCandidates, resolveInterpreter } from '../../../src/python/interpreter';
import { PythonWorker } from '../../../src/python/runner';
import { LOOSE } from './engineHelpers';

const EXAMPLES = resolve(__dirname, '../../../../examples/workspace/core/orders');
const MARKET = join(EXAMPLES, 'execution_algos', 'spread_guarded_market.py');
const RESTING = join(EXAMPLES, 'execution_algos', 'limit_below_bid.py');

describe('Test Order on a scratch copy of the paper account (issue 16)', function () {
  this.timeout(30_000);
  let worker: PythonWorker;
  let dir: string;
  let clock: TestClock;
  let paper: PaperBroker;
  let session: TradingSession | undefined;

  before(async () => {
    worker = new PythonWorker({
      interpreter: await resolveInterpreter(defaultInterpreterCandidates()),
      timeoutMs: 5000,
    });
  });
  after(() => worker.dispose());

  const open = async (startingCash?: number): Promise<TradingSession> => {
    paper = new PaperBroker({
      clock,
      seed: 7,
      stateFile: join(dir, 'paper-account.json'),
      ...(startingCash === undefined ? {} : { startingCash }),
    });
    const settings = {
      limits: { ...LOOSE, maxOrderQuantity: 1_000_000 },
      circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER },
    };
    session = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
    await session.engine.connect('paper');
    return session;
  };
  const reopen = async (startingCash?: number): Promise<TradingSession> => {
    await session?.close();
    await paper.disconnect();
    session = undefined;
    return open(startingCash);
  };
  const run = (request: TestOrderRequest, broker: BrokerApi = paper) => {
    if (!session) throw new Error('no session');
    return runTestOrder(request, { runner: worker, broker, engine: session.engine, clock });
  };
  /** Everything the paper account is: what the venue answers and the bytes of its files. */
  const accountState = async () => ({
    account: await paper.getAccountInfo(),
    positions: await paper.getPositions(),
    open: (await paper.listOpenOrders()).map((o) => o.client_order_id),
    fills: paper.fillsEver(),
    file: readFileSync(join(dir, 'paper-account.json'), 'utf8'),
    journal: existsSync(join(dir, 'paper-account.json.journal'))
      ? readFileSync(join(dir, 'paper-account.json.journal'), 'utf8')
      : null,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sptrader-scratch-'));
    clock = new TestClock(Date.UTC(2026, 0, 6, 12));
  });
  afterEach(async () => {
    await session?.close();
    await paper.disconnect();
    session = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills realistically on the copy and changes nothing: not the account, its file, nor the fills in the audit log', async () => {
    await open();
    // A position and a resting order in the account, placed by Execute on Paper.
    const placed = await run({ file: MARKET, source: 'execute-paper' });
    assert.equal(placed.scratch, false);
    assert.equal(placed.response?.status.status, 'filled', placed.summary);
    const resting = await run({ file: RESTING, source: 'execute-paper' });
    assert.equal(resting.response?.status.status, 'submitted', resting.summary);
    const before = await accountState();
    assert.equal(before.positions[0]?.quantity, 10_000);
    assert.equal(before.open.length, 1);
    await session!.audit.flush();
    const seqBefore = (await tailAudit(join(dir, 'audit'), 1))[0]?.seq ?? 0;

    for (let i = 0; i < 3; i++) {
      const outcome = await run({ file: MARKET });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
      assert.equal(outcome.scratch, true);
      assert.equal(outcome.response?.status.status, 'filled');
      assert.equal(outcome.response?.filled_quantity, 10_000);
      // The copy's quote is the account's: the fill is at the ask the component saw.
      assert.equal(outcome.response?.filled_price, outcome.marketData?.['ask']);
      assert.deepEqual(
        outcome.events.map((e) => e.type),
        ['OrderSubmitted', 'OrderAccepted', 'OrderFilled'],
      );
      assert.equal(outcome.risk.length, 10, 'every check ran against the account');
      assert.match(outcome.summary, /^FILLED on a scratch copy of the Paper account: the account is unchanged\./);
      assert.ok(outcome.notes.some((n) => /scratch copy/.test(n)));
    }
    assert.deepEqual(await accountState(), before, 'Test Order changed the paper account');

    // The log recorded each Test Order's check (with its risk results), never a scratch fill.
    await session!.audit.flush();
    const since = (await tailAudit(join(dir, 'audit'), 1000)).filter((r) => r.seq > seqBefore).map((r) => r.type);
    assert.deepEqual(since, ['CheckOrder', 'CheckOrder', 'CheckOrder']);

    // The engine's check on open: the account and the log still agree.
    const again = await reopen();
    assert.deepEqual(again.damage, []);
    assert.equal(paper.fillsEver(), before.fills);
  });

  it('a fill far from the market-data fixture the component decided on says why (the venue fills at its own quote)', async () => {
    await open();
    const far = await run({ file: MARKET, marketData: { symbol: 'EUR_USD', bid: 0.9, ask: 0.9001 } });
    assert.equal(far.exitCode, 0, JSON.stringify(far.errors));
    const filled = far.response?.filled_price ?? NaN;
    assert.ok(Math.abs(filled - 0.9001) / 0.9001 > 0.005, `the paper venue fills at its own quote, got ${filled}`);
    assert.ok(
      far.notes.some(
        (n) => n.startsWith(`the market-data fixture's ask 0.9001 is `) && n.includes(`from the fill at ${filled}`),
      ),
      far.notes.join('\n'),
    );
    // A fixture at the venue's own prices: nothing to explain.
    const quote = await paper.getQuote('EUR_USD');
    const near = await run({ file: MARKET, marketData: { symbol: 'EUR_USD', bid: quote.bid, ask: quote.ask } });
    assert.equal(near.exitCode, 0, JSON.stringify(near.errors));
    assert.ok(!near.notes.some((n) => n.includes('market-data fixture')), near.notes.join('\n'));
  });

  it('a resting order rests on the copy and is discarded with it', async () => {
    await open();
    const outcome = await run({ file: RESTING });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.scratch, true);
    assert.equal(outcome.response?.status.status, 'submitted');
    assert.match(outcome.summary, /It rested there and was discarded with the copy/);
    // What the user reads agrees with itself: the Status line says the state the first line says (the venue-neutral
    // status calls an accepted order "submitted"), and no note says it filled.
    const printed = formatOutcome(outcome);
    assert.match(printed.split('\n')[0] ?? '', /→ ACCEPTED \(working at the venue\)$/, printed);
    assert.match(printed, /^Status {5}ACCEPTED {3}order id /m, printed);
    assert.doesNotMatch(printed, /^Note .*\bfilled\b/m, printed);
    assert.deepEqual(await paper.listOpenOrders(), []);
    assert.deepEqual(session?.engine.workingOrders(), []);
  });

  it("the copy has the account's cash: beyond its buying power the Test Order is denied; Reset Paper Account brings it back, and the log agrees", async () => {
    await open(15_000);
    const spent = await run({ file: MARKET, source: 'execute-paper' });
    assert.equal(spent.response?.status.status, 'filled', spent.summary);
    const denied = await run({ file: MARKET });
    assert.equal(denied.exitCode, 3, denied.summary);
    assert.equal(denied.denial?.code, 'NOTIONAL_EXCEEDS_BUYING_POWER');
    assert.equal(denied.response, null);

    await session!.engine.resetLocalVenue('paper', () => paper.reset(), 'test: Reset Paper Account');
    assert.deepEqual(await paper.getPositions(), []);
    assert.equal((await paper.getAccountInfo()).balance, 15_000);
    assert.deepEqual(session!.engine.damage, [], 'the reset is not damage');
    const after = await run({ file: MARKET });
    assert.equal(after.response?.status.status, 'filled', after.summary);

    // On the next open the log (a VenueBaseline of nothing) and the fresh account agree.
    const again = await reopen(15_000);
    assert.deepEqual(again.damage, []);
    assert.deepEqual(again.engine.positionsOf('paper'), {});
    const types = (await tailAudit(join(dir, 'audit'), 1000)).map((r) => r.type);
    assert.ok(types.includes('VenueBaseline'), types.join(','));
  });

  it('Reset Paper Account is refused while the engine has a working paper order (cancel it first)', async () => {
    await open();
    const resting = await run({ file: RESTING, source: 'execute-paper' });
    assert.equal(resting.response?.status.status, 'submitted');
    await assert.rejects(
      session!.engine.resetLocalVenue('paper', () => paper.reset(), 'test'),
      /has 1 working order\(s\): cancel them before resetting the account/,
    );
    assert.equal((await paper.listOpenOrders()).length, 1, 'nothing was reset');
  });

  it('a process that dies after the log records the reset but before the account is reset: the next open finishes the reset (the log is the record), nothing damaged', async () => {
    await open();
    await run({ file: MARKET, source: 'execute-paper' });
    assert.equal(paper.fillsEver(), 1);
    await assert.rejects(
      session!.engine.resetLocalVenue(
        'paper',
        () => {
          throw new Error('died here');
        },
        'test',
      ),
      /died here/,
    );
    const again = await reopen();
    assert.deepEqual(again.damage, []);
    assert.deepEqual(await paper.getPositions(), []);
    assert.equal(paper.fillsEver(), 0);
    // Trading goes on from the reset account, and the next open agrees too.
    const outcome = await run({ file: MARKET, source: 'execute-paper' });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    const after = await reopen();
    assert.deepEqual(after.damage, []);
    assert.equal(paper.fillsEver(), 1);
  });

  it("a broker's practice profile: Test Order sends to that practice account, and says so", async () => {
    await open();
    // Another account behind a broker's interface (no scratch copy there), standing in for a practice account.
    const account = new PaperBroker({ clock, seed: 7 });
    await account.connect();
    const practice: BrokerApi = {
      ...delegatingBroker(account, { id: 'oanda-practice', displayName: 'OANDA' }),
      environment: 'practice',
    };
    session!.engine.addBroker('oanda-practice', practice);
    const outcome = await run({ file: MARKET }, practice);
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.errors));
    assert.equal(outcome.scratch, false);
    assert.equal(outcome.response?.status.status, 'filled');
    assert.equal(account.fillsEver(), 1, 'the practice account traded');
    assert.equal(paper.fillsEver(), 0);
    assert.equal(outcome.summary, 'FILLED on OANDA (practice account).');
    assert.ok(outcome.notes.some((n) => /sent this order to the OANDA practice account/.test(n)));
    session!.engine.removeBroker('oanda-practice');
  });
});
