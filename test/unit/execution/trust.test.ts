/**
 * Issue 11's promises at the engine: one identity per instrument whatever its spelling, secrets never
 * stored, damage refused until recover, and an order the last process died sending looked up, not lost.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { StateDamagedError } from '../../../src/common/stateErrors';
import { normalizeComponentOrder } from '../../../src/orders/normalize';
import { verifyAuditDir } from '../../../src/execution/audit/auditVerify';
import { readdirSync } from 'node:fs';
import { recoverStateDir } from '../../../src/usecases/recover';
import { openTradingSession } from '../../../src/usecases/session';
import { submitOrderCommand } from '../../../src/execution/events';
import { DEFAULT_CIRCUIT_BREAKER } from '../../../src/execution/tradingState';
import { FixedQuotes, order } from '../paper/helpers';
import { LOOSE, makeRig, settle, type Rig } from './engineHelpers';

/** A state directory with a paper venue kept in it, opened as the CLI and the editor open it. */
function stateDirRig(quotes: FixedQuotes = new FixedQuotes()) {
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-trust-'));
  const clock = new TestClock();
  const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
  const open = async (connect = true) => {
    const paper = new PaperBroker({ clock, quotes, stateFile: join(dir, 'paper-account.json') });
    const session = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
    if (connect) await session.engine.connect('paper');
    return session;
  };
  return { dir, clock, open, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('trust: symbols, secrets, damage and recovery', function () {
  this.timeout(30_000);
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('a position limit cannot be bypassed by spelling: EUR_USD, EURUSD, eur/usd and EUR-USD are one instrument', async () => {
    rig = await makeRig({ limits: { ...LOOSE, maxPositionQuantity: 30_000 } });
    rig.quotes.set('EUR_USD', 1.1, 1.1002);
    const spellings = ['EUR_USD', 'EURUSD', 'eur/usd', 'EUR-USD'];
    // Sequential, then all at once: both must stop at the limit.
    const first = [];
    for (const s of spellings)
      first.push(await rig.engine.submitOrder(order('buy', 25_000, { type: 'market' }, { type: 'GTC' }, s), 'paper'));
    assert.deepEqual(
      first.map((r) => r.denial?.code ?? r.order.state),
      ['FILLED', 'POSITION_EXCEEDS_MAXIMUM', 'POSITION_EXCEEDS_MAXIMUM', 'POSITION_EXCEEDS_MAXIMUM'],
    );
    assert.deepEqual(
      first.map((r) => r.order.request.symbol),
      ['EUR_USD', 'EUR_USD', 'EUR_USD', 'EUR_USD'],
      'the venue id is the key everywhere',
    );
    assert.deepEqual(rig.engine.positionsOf('paper'), { EUR_USD: 25_000 });
    const burst = await Promise.all(
      spellings.map((s) =>
        rig!.engine.submitOrder(order('sell', 25_000, { type: 'market' }, { type: 'GTC' }, s), 'paper'),
      ),
    );
    // Long 25,000: one sell flattens it, a second takes it to -25,000, a third would be -50,000.
    assert.equal(burst.filter((r) => r.order.state === 'FILLED').length, 2);
    assert.equal(burst.filter((r) => r.denial?.code === 'POSITION_EXCEEDS_MAXIMUM').length, 2);
  });

  it('a secret-looking key nested in metadata is redacted before the order exists, so no state file or log holds it', () => {
    const result = normalizeComponentOrder(
      {
        symbol: 'EUR_USD',
        side: 'buy',
        order_type: 'market',
        quantity: 1000,
        metadata: {
          note: 'x',
          auth: { api_key: 'AKIA-SECRET-1', nested: [{ password: 'hunter2' }] },
          token: 'tok-SECRET-2',
        },
      },
      { now: Date.now() },
    );
    if (!result.ok) throw new Error(JSON.stringify(result));
    const text = JSON.stringify(result.order);
    for (const secret of ['AKIA-SECRET-1', 'hunter2', 'tok-SECRET-2'])
      assert.ok(!text.includes(secret), `${secret} is not in ${text}`);
    assert.equal(result.order.metadata['note'], 'x');
  });

  it('an order sent through the engine directly keeps no secret-looking metadata key in the account, working orders or log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-trust-'));
    try {
      const clock = new TestClock();
      const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
      const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), stateFile: join(dir, 'paper-account.json') });
      const s = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
      await s.engine.connect('paper');
      const o = {
        ...order('buy', 1, { type: 'limit', price: 90 }),
        metadata: { api_key: 'SECRET-KEY-123', Password: 'SECRET-PW-456', note: 'kept' },
      };
      const r = await s.engine.submitOrder(o, 'paper');
      assert.equal(r.order.state, 'ACCEPTED', JSON.stringify(r.denial));
      await s.close();
      const { readdirSync: list } = await import('node:fs');
      const texts = [
        readFileSync(join(dir, 'paper-account.json'), 'utf8'),
        ...(list(dir).includes('paper-account.json.journal')
          ? [readFileSync(join(dir, 'paper-account.json.journal'), 'utf8')]
          : []),
        readFileSync(join(dir, 'working-orders.json'), 'utf8'),
        ...list(join(dir, 'audit'))
          .filter((f) => f.endsWith('.jsonl'))
          .map((f) => readFileSync(join(dir, 'audit', f), 'utf8')),
      ];
      for (const t of texts) {
        assert.ok(!t.includes('SECRET-KEY-123') && !t.includes('SECRET-PW-456'), 'no secret in any state file');
      }
      assert.ok(texts.some((t) => t.includes('kept')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a paper account put back to an older copy is found on open, trading is refused, and recover rebuilds it from the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-trust-'));
    try {
      const clock = new TestClock();
      const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
      const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
      const file = join(dir, 'paper-account.json');
      const open = async () => {
        const paper = new PaperBroker({ clock, quotes, stateFile: file });
        const session = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
        await session.engine.connect('paper');
        return session;
      };
      let s = await open();
      await s.engine.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
      await s.close();
      const older = readFileSync(file, 'utf8');
      const olderJournal = (() => {
        try {
          return readFileSync(`${file}.journal`, 'utf8');
        } catch {
          return '';
        }
      })();
      s = await open();
      await s.engine.submitOrder(order('buy', 2000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
      await s.close();
      writeFileSync(file, older);
      writeFileSync(`${file}.journal`, olderJournal);

      s = await open();
      assert.ok(
        s.damage.some((d) => d instanceof StateDamagedError && d.file === file),
        JSON.stringify(s.damage.map((d) => d.message)),
      );
      const denied = await s.engine.submitOrder(
        order('buy', 1, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'),
        'paper',
      );
      assert.equal(denied.denial?.code, 'STATE_DAMAGED');
      assert.match(denied.denial?.message ?? '', /paper-account\.json.*recover/s);
      await s.close();

      const report = await recoverStateDir({ stateDir: dir, clock });
      assert.equal(report.changed, true);
      assert.ok(
        report.actions.some((a) => /rebuild it from the audit log's \d+ paper fill/.test(a)),
        report.actions.join('\n'),
      );
      s = await open();
      assert.deepEqual(s.damage, []);
      assert.deepEqual(s.engine.positionsOf('paper'), { EUR_USD: 3000 });
      const ok = await s.engine.submitOrder(
        order('sell', 3000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'),
        'paper',
      );
      assert.equal(ok.order.state, 'FILLED');
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a deleted audit log is found; recover keeps the intact paper account as the new log’s baseline, with its resting order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-trust-'));
    try {
      const clock = new TestClock();
      const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
      const settings = { limits: { ...LOOSE }, circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER } };
      const open = async () => {
        const paper = new PaperBroker({ clock, quotes, stateFile: join(dir, 'paper-account.json') });
        const session = await openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
        await session.engine.connect('paper');
        return session;
      };
      let s = await open();
      await s.engine.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
      const resting = await s.engine.submitOrder(
        order('buy', 500, { type: 'limit', price: 1.05 }, { type: 'GTC' }, 'EUR_USD'),
        'paper',
      );
      assert.equal(resting.order.state, 'ACCEPTED');
      await s.close();
      rmSync(join(dir, 'audit'), { recursive: true });

      s = await open();
      assert.ok(
        s.damage.some((d) => /every record was removed|audit log is (missing|empty)/.test(d.problem)),
        JSON.stringify(s.damage.map((d) => d.message)),
      );
      assert.equal(
        (await s.engine.submitOrder(order('buy', 1, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper')).denial
          ?.code,
        'STATE_DAMAGED',
      );
      await s.close();

      const report = await recoverStateDir({ stateDir: dir, clock });
      assert.ok(
        report.actions.some((a) => /keep the paper account/.test(a)),
        report.actions.join('\n'),
      );
      s = await open();
      assert.deepEqual(
        s.damage.map((d) => d.message),
        [],
      );
      assert.deepEqual(s.engine.positionsOf('paper'), { EUR_USD: 1000 });
      assert.equal(
        s.engine.getOrder(resting.order.clientOrderId)?.state,
        'ACCEPTED',
        'the resting order is adopted, not external',
      );
      const more = await s.engine.submitOrder(
        order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'),
        'paper',
      );
      assert.equal(more.order.state, 'FILLED');
      await s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an edited audit line (one flipped bit): recover sets the log aside and carries the agreeing paper account, with its resting order, into the new log; the next open and a second recover find nothing wrong', async () => {
    const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
    const { dir, clock, open, dispose } = stateDirRig(quotes);
    try {
      let s = await open();
      await s.engine.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
      const resting = await s.engine.submitOrder(
        order('buy', 500, { type: 'limit', price: 1.05 }, { type: 'GTC' }, 'EUR_USD'),
        'paper',
      );
      assert.equal(resting.order.state, 'ACCEPTED');
      await s.close();
      // A bit of a record's data flipped: the JSON still parses (the records stay readable), the chain breaks.
      const audit = join(dir, 'audit');
      const day = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl')) as string);
      const text = readFileSync(day, 'utf8');
      const at = text.indexOf('"OrderSubmitted"');
      assert.ok(at > 0);
      writeFileSync(day, `${text.slice(0, at)}"OrderSubmittee"${text.slice(at + '"OrderSubmitted"'.length)}`);

      const report = await recoverStateDir({ stateDir: dir, clock });
      assert.ok(
        report.actions.some((a) => /set the damaged audit log aside/.test(a)) &&
          report.actions.some((a) => /carry the paper account/.test(a)),
        report.actions.join('\n'),
      );
      s = await open();
      assert.deepEqual(
        s.damage.map((d) => d.message),
        [],
      );
      assert.deepEqual(s.engine.positionsOf('paper'), { EUR_USD: 1000 });
      assert.equal(s.engine.getOrder(resting.order.clientOrderId)?.state, 'ACCEPTED', 'the resting order is kept');
      const more = await s.engine.submitOrder(
        order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'),
        'paper',
      );
      assert.equal(more.order.state, 'FILLED');
      await s.close();
      const again = await recoverStateDir({ stateDir: dir, clock });
      assert.equal(again.changed, false, again.problems.join('\n'));
      assert.ok(existsSync(join(dir, 'paper-account.json')), 'the account is kept');
    } finally {
      dispose();
    }
  });

  it('an audit file replaced by a folder, a named pipe or a link: recover sets the log aside (as its message says) instead of failing on it, and the next open finds nothing wrong', async function () {
    if (process.platform === 'win32') this.skip(); // no named pipes in a folder there
    const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
    for (const variant of ['folder', 'named pipe', 'link'] as const) {
      const { dir, clock, open, dispose } = stateDirRig(quotes);
      try {
        let s = await open();
        await s.engine.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
        const resting = await s.engine.submitOrder(
          order('buy', 500, { type: 'limit', price: 1.05 }, { type: 'GTC' }, 'EUR_USD'),
          'paper',
        );
        await s.close();
        const audit = join(dir, 'audit');
        const day = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl')) as string);
        const copy = `${dir}-elsewhere.jsonl`;
        writeFileSync(copy, readFileSync(day));
        rmSync(day);
        if (variant === 'folder') mkdirSync(day);
        else if (variant === 'named pipe') execFileSync('mkfifo', [day]);
        else symlinkSync(copy, day);
        await assert.rejects(open(), /run `sptrader recover` to set the damaged log aside/, `${variant}: refused`);

        const report = await recoverStateDir({ stateDir: dir, clock });
        assert.ok(
          report.actions.some((a) => /set the damaged audit log aside/.test(a)),
          `${variant}: ${report.actions.join('\n')}`,
        );
        assert.ok(
          report.problems.some((p) => p.includes(day)),
          `${variant}: the file is named: ${report.problems.join('\n')}`,
        );
        s = await open();
        assert.deepEqual(
          s.damage.map((d) => d.message),
          [],
          variant,
        );
        assert.deepEqual(s.engine.positionsOf('paper'), { EUR_USD: 1000 }, `${variant}: the position is kept`);
        assert.equal(s.engine.getOrder(resting.order.clientOrderId)?.state, 'ACCEPTED', `${variant}: resting kept`);
        await s.close();
        rmSync(copy, { force: true });
      } finally {
        dispose();
      }
    }
  });

  it('an edited audit line and a damaged paper account: recover rebuilds the account from the readable records and starts the new log from it; the next open finds nothing wrong', async () => {
    const quotes = new FixedQuotes().set('EUR_USD', 1.1, 1.1002);
    const { dir, clock, open, dispose } = stateDirRig(quotes);
    try {
      let s = await open();
      await s.engine.submitOrder(order('buy', 1000, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
      await s.engine.submitOrder(order('sell', 400, { type: 'market' }, { type: 'GTC' }, 'EUR_USD'), 'paper');
      await s.close();
      const audit = join(dir, 'audit');
      const day = join(audit, readdirSync(audit).find((f) => f.endsWith('.jsonl')) as string);
      const text = readFileSync(day, 'utf8');
      const at = text.indexOf('"OrderSubmitted"');
      writeFileSync(day, `${text.slice(0, at)}"OrderSubmittee"${text.slice(at + '"OrderSubmitted"'.length)}`);
      writeFileSync(join(dir, 'paper-account.json'), 'garbage');

      const report = await recoverStateDir({ stateDir: dir, clock });
      assert.ok(
        report.actions.some((a) => /rebuild it from the audit log's 2 paper fill/.test(a)),
        report.actions.join('\n'),
      );
      s = await open();
      assert.deepEqual(
        s.damage.map((d) => d.message),
        [],
      );
      assert.deepEqual(s.engine.positionsOf('paper'), { EUR_USD: 600 });
      await s.close();
      assert.equal((await recoverStateDir({ stateDir: dir, clock })).changed, false);
    } finally {
      dispose();
    }
  });

  it('a deleted trading-state.json never ends a halt: the log says HALTED, and the file is named', async () => {
    const { dir, clock, open, dispose } = stateDirRig();
    try {
      let s = await open(false);
      s.engine.setTradingState('HALTED', 'stop everything');
      await s.close();
      rmSync(join(dir, 'trading-state.json'));
      s = await open(false);
      assert.equal(s.engine.status().tradingState, 'HALTED');
      assert.ok(s.damage.some((d) => d.file === join(dir, 'trading-state.json') && /missing.*HALTED/.test(d.problem)));
      await s.close();
      await recoverStateDir({ stateDir: dir, clock });
      s = await open(false);
      assert.equal(s.engine.status().tradingState, 'HALTED', 'still halted after recover: a person resumes');
      assert.deepEqual(s.damage, []);
      await s.close();
    } finally {
      dispose();
    }
  });

  it('a deleted trading-state.json under a halt for bad settings keeps the breaker’s halt it covered (from the log, and through recover)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-trust-'));
    const clock = new TestClock();
    const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), stateFile: join(dir, 'paper-account.json') });
    const settings = {
      limits: { ...LOOSE },
      circuitBreaker: { maxConsecutiveFailures: 1, maxFailuresInWindow: 100, windowMs: 60_000, cooldownMs: 60_000 },
    };
    const open = () => openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
    try {
      let s = await open();
      await s.engine.connect('paper');
      paper.faults.rejectNext('venue says no');
      await s.engine.submitOrder(order('buy', 1), 'paper');
      const tripped = s.engine.status();
      assert.equal(tripped.source, 'circuit_breaker');
      s.engine.haltCovering('a risk setting is not valid: x');
      await s.close();
      rmSync(join(dir, 'trading-state.json'));
      s = await open();
      // Taken from the log: the halt and what it covers (it was the settings halt alone, lifted when fixed).
      s.engine.endCoveringHalt('the risk settings are valid again');
      let status = s.engine.status();
      assert.deepEqual(
        [status.tradingState, status.source, status.reason, status.resumeAt],
        ['HALTED', 'circuit_breaker', tripped.reason, tripped.resumeAt],
      );
      s.engine.haltCovering('a risk setting is not valid: x');
      await s.close();
      rmSync(join(dir, 'trading-state.json'));
      await recoverStateDir({ stateDir: dir, clock });
      s = await open();
      assert.deepEqual(s.damage, []);
      s.engine.endCoveringHalt('the risk settings are valid again');
      status = s.engine.status();
      assert.deepEqual(
        [status.source, status.reason, status.resumeAt],
        ['circuit_breaker', tripped.reason, tripped.resumeAt],
      );
      await s.close();
    } finally {
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a deleted trading-state.json keeps the day’s starting equity (from the log): the daily loss limit is not reset by recover', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sptrader-trust-'));
    const clock = new TestClock();
    const quotes = new FixedQuotes();
    const paper = new PaperBroker({ clock, quotes, stateFile: join(dir, 'paper-account.json'), startingCash: 100_000 });
    const settings = { limits: { ...LOOSE }, circuitBreaker: { maxDailyLoss: 500, cooldownMs: 60_000 } };
    const open = () => openTradingSession({ stateDir: dir, clock, brokers: { paper }, settings });
    const buyOne = async (s: Awaited<ReturnType<typeof open>>): Promise<void> => {
      clock.advance(2000);
      assert.equal((await s.engine.submitOrder(order('buy', 1), 'paper')).order.state, 'FILLED');
      await settle(20);
    };
    try {
      let s = await open();
      await s.engine.connect('paper');
      assert.equal((await s.engine.submitOrder(order('buy', 100), 'paper')).order.state, 'FILLED');
      await settle(20);
      // About 400 lost: under the limit.
      quotes.move(96, 96.02);
      await buyOne(s);
      assert.equal(s.engine.status().tradingState, 'ACTIVE');
      await s.close();
      rmSync(join(dir, 'trading-state.json'));
      await recoverStateDir({ stateDir: dir, clock });
      s = await open();
      await s.engine.connect('paper');
      assert.deepEqual(s.damage, []);
      await buyOne(s);
      // About 200 more: 600 since the day started. Rebuilt without it, the day started again at 96 (200 lost).
      quotes.move(94, 94.02);
      await buyOne(s);
      const status = s.engine.status();
      assert.equal(status.tradingState, 'HALTED');
      assert.match(status.reason, /daily loss limit of 500/);
      await s.close();
    } finally {
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a retried command denied as a duplicate is not taken on the next open for an order being sent (its fills counted twice)', async () => {
    const { dir, clock, open, dispose } = stateDirRig();
    try {
      let s = await open();
      const cmd = submitOrderCommand(order('buy', 5), { venue: 'paper', source: 'api', clock });
      assert.equal((await s.engine.submit(cmd)).order.state, 'FILLED');
      assert.equal((await s.engine.submit(cmd)).denial?.code, 'DUPLICATE_CLIENT_ORDER_ID');
      await s.close();
      s = await open();
      // The duplicate's SubmitOrder was taken for an order the last process died sending: UNCONFIRMED, looked up by
      // its id, and the first order's fill counted again.
      assert.deepEqual(s.engine.workingOrders(), []);
      assert.deepEqual(s.engine.positionsOf('paper'), { AAPL: 5 });
      assert.deepEqual(s.damage, []);
      await s.close();
      const records = readdirSync(join(dir, 'audit'))
        .filter((f) => f.endsWith('.jsonl'))
        .flatMap((f) =>
          readFileSync(join(dir, 'audit', f), 'utf8')
            .split('\n')
            .filter(Boolean),
        );
      assert.ok(!records.some((line) => line.includes('"OrderUnconfirmed"')));
    } finally {
      dispose();
    }
  });

  it('a retried command denied for damage does not end the working order that holds its id (in the log)', async () => {
    const { dir, clock, open, dispose } = stateDirRig();
    try {
      let s = await open();
      const cmd = submitOrderCommand(order('buy', 5, { type: 'limit', price: 90 }), {
        venue: 'paper',
        source: 'api',
        clock,
      });
      assert.equal((await s.engine.submit(cmd)).order.state, 'ACCEPTED');
      await s.close();
      rmSync(join(dir, 'working-orders.json'));
      s = await open();
      assert.ok(s.damage.length > 0);
      // Damage is checked before duplicates: the retry is denied STATE_DAMAGED, under the working order's id.
      assert.equal((await s.engine.submit(cmd)).denial?.code, 'STATE_DAMAGED');
      assert.equal(s.engine.getOrder(cmd.clientOrderId)?.state, 'ACCEPTED');
      await s.close();
      s = await open();
      // The log took that denial for the order's: the next open forgot it (found at the venue as an external order).
      assert.deepEqual(
        s.engine.workingOrders().map((o) => [o.clientOrderId, o.state]),
        [[cmd.clientOrderId, 'ACCEPTED']],
      );
      assert.deepEqual(s.engine.externalOrders(), []);
      await s.close();
      await recoverStateDir({ stateDir: dir, clock });
      s = await open();
      assert.deepEqual(s.damage, []);
      assert.deepEqual(
        s.engine.workingOrders().map((o) => o.clientOrderId),
        [cmd.clientOrderId],
      );
      await s.close();
    } finally {
      dispose();
    }
  });

  it('an audit log whose last record was cut off stays damaged on every open until recover, not only on the first', async () => {
    const { dir, clock, open, dispose } = stateDirRig();
    try {
      let s = await open();
      await s.engine.submitOrder(order('buy', 1), 'paper');
      await s.close();
      const logFile = join(dir, 'audit', readdirSync(join(dir, 'audit')).find((f) => f.endsWith('.jsonl')) as string);
      const bytes = readFileSync(logFile);
      // The last record loses its end (and its newline): the open cuts it off as a torn write.
      writeFileSync(logFile, bytes.subarray(0, bytes.length - 40));
      s = await open();
      assert.ok(s.damage.length > 0, 'the first open finds the cut');
      await s.close();
      s = await open();
      assert.ok(
        s.damage.some((d) => /audit log/.test(d.problem)),
        `the second open still finds it: ${JSON.stringify(s.damage.map((d) => d.problem))}`,
      );
      await s.close();
      assert.equal((await verifyAuditDir(join(dir, 'audit'))).verified, false, 'verify still says so');
      await recoverStateDir({ stateDir: dir, clock });
      s = await open();
      assert.deepEqual(
        s.damage.map((d) => `${d.file}: ${d.problem}`),
        [],
      );
      await s.close();
      assert.equal((await verifyAuditDir(join(dir, 'audit'))).verified, true);
    } finally {
      dispose();
    }
  });

  it('a state folder whose only order was denied is not called damaged on the next open (working-orders.json was never needed)', async () => {
    const { open, dispose } = stateDirRig();
    try {
      let s = await open();
      const r = await s.engine.submitOrder(order('buy', 2e9), 'paper');
      assert.equal(r.denial?.code, 'QUANTITY_EXCEEDS_MAXIMUM', JSON.stringify(r.denial));
      await s.close();
      s = await open(false);
      assert.deepEqual(
        s.damage.map((d) => `${d.file}: ${d.problem}`),
        [],
      );
      await s.close();
    } finally {
      dispose();
    }
  });

  it('working-orders.json is on disk once the folder is opened, before any order: a kill during the first order cannot leave it missing', async () => {
    const { dir, open, dispose } = stateDirRig();
    try {
      let s = await open(false);
      const text = readFileSync(join(dir, 'working-orders.json'), 'utf8');
      assert.deepEqual((JSON.parse(text) as { orders: unknown[] }).orders, []);
      await s.close();
      // Closed (or killed) before the log held a record: the empty file is no witness of a deleted log.
      s = await open(false);
      assert.deepEqual(
        s.damage.map((d) => `${d.file}: ${d.problem}`),
        [],
      );
      await s.close();
    } finally {
      dispose();
    }
  });

  it('an audit log cut short is found against its anchor, by open and by verify', async () => {
    const { dir, open, dispose } = stateDirRig();
    try {
      let s = await open();
      for (let i = 0; i < 3; i++) await s.engine.submitOrder(order('buy', 1), 'paper');
      await s.close();
      const logFile = join(dir, 'audit', readdirSync(join(dir, 'audit')).find((f) => f.endsWith('.jsonl')) as string);
      const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
      writeFileSync(logFile, lines.slice(0, lines.length - 4).join('\n') + '\n');
      const report = await verifyAuditDir(join(dir, 'audit'));
      assert.equal(report.verified, false);
      assert.ok(
        report.problems.some((p) => p.kind === 'truncated'),
        JSON.stringify(report.problems),
      );
      s = await open(false);
      assert.ok(s.damage.length > 0);
      await s.close();
    } finally {
      dispose();
    }
  });
});
