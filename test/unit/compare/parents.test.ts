/**
 * Parent orders (issue 15): TWAP, iceberg, bracket and trailing stop carried out as children through a
 * real trading session (engine, audit log, paper venue saved in the state folder) on a test clock; a
 * restart in the middle, and a child the process wrote to the log but died before sending.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QuoteSource } from '../../../src/brokers/paper/feed';
import { instrumentKey } from '../../../src/brokers/paper/instruments';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { TestClock } from '../../../src/common/clock';
import { splitParent, type ParentSpec } from '../../../src/execution/algos/dialect';
import { ParentOrders } from '../../../src/execution/algos/parents';
import { tailAudit, verifyAuditDir } from '../../../src/execution/audit/auditLog';
import { submitOrderCommand } from '../../../src/execution/events';
import { openTradingSession, type TradingSession } from '../../../src/usecases/session';
import type { Quote } from '../../../src/orders/model';

class Touches implements QuoteSource {
  private readonly map = new Map<string, { bid: number; ask: number }>();
  set(symbol: string, bid: number, ask: number): void {
    this.map.set(instrumentKey(symbol), { bid, ask });
  }
  quote(symbol: string, atMs: number): Quote {
    const t = this.map.get(instrumentKey(symbol)) ?? { bid: 1.08, ask: 1.0802 };
    return { symbol, bid: t.bid, ask: t.ask, last: t.bid, bid_size: 1e9, ask_size: 1e9, timestamp: atMs };
  }
}

const LIMITS = {
  maxOrderQuantity: 1e9,
  maxPositionQuantity: 1e12,
  maxOrderNotional: 1e12,
  priceCollarBps: 5000,
  maxOpenOrders: 1000,
};

interface Rig {
  clock: TestClock;
  quotes: Touches;
  paper: PaperBroker;
  session: TradingSession;
  parents: ParentOrders;
  dir: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-parents-'));
  const clock = new TestClock(Date.UTC(2026, 11, 2, 12));
  const quotes = new Touches();
  quotes.set('EUR_USD', 1.08, 1.0802);
  const r = {} as Rig;
  const open = async (): Promise<void> => {
    r.paper = new PaperBroker({
      clock,
      quotes,
      stateFile: join(dir, 'paper-account.json'),
      depth: false,
      startingCash: 1e7,
    });
    r.session = await openTradingSession({
      stateDir: dir,
      clock,
      brokers: { paper: r.paper },
      settings: {
        limits: LIMITS,
        circuitBreaker: { maxConsecutiveFailures: 100, maxFailuresInWindow: 100, windowMs: 60_000, cooldownMs: 60_000 },
      },
    });
    await r.session.engine.connect('paper');
    r.parents = new ParentOrders({
      engine: r.session.engine,
      audit: r.session.audit,
      clock,
      instrument: (_v, s) => r.paper.getInstrument(s),
      quote: (_v, s) => r.paper.getQuote(s),
    });
  };
  await open();
  Object.assign(r, {
    clock,
    quotes,
    dir,
    restart: async () => {
      r.parents.dispose();
      await r.session.close();
      await r.paper.disconnect();
      await open();
    },
    close: async () => {
      r.parents.dispose();
      await r.session.close();
      await r.paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  });
  return r;
}

const spec = (output: Record<string, unknown>): ParentSpec => {
  const s = splitParent(output);
  assert.ok('parent' in s && s.parent, JSON.stringify(s));
  return s.parent;
};

/** Moves the touch and lets the paper venue match its resting orders (it does so when called). */
async function move(r: Rig, bid: number, ask: number): Promise<void> {
  r.quotes.set('EUR_USD', bid, ask);
  await r.paper.listOpenOrders();
}

async function records(r: Rig): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  return (await tailAudit(join(r.dir, 'audit'), 100_000)).map((x) => ({ type: x.type, data: x.data }));
}

describe('parent orders', () => {
  let r: Rig;
  beforeEach(async () => (r = await rig()));
  afterEach(async () => r.close());

  it('TWAP: equal slices on schedule, each a child through the engine, logged before it is sent', async () => {
    const p = await r.parents.start(
      spec({ algo: 'twap', symbol: 'EUR_USD', side: 'buy', quantity: 10_000, duration_s: 60, slices: 4 }),
      'paper',
    );
    assert.equal(p.children.length, 1, 'the first slice goes at once');
    r.clock.advance(10_000);
    await r.parents.poll();
    assert.equal(r.parents.get(p.parentId)?.children.length, 1, 'not before 15 s');
    for (const t of [5_000, 15_000, 15_000]) {
      r.clock.advance(t);
      await r.parents.poll();
    }
    await r.parents.poll();
    const done = r.parents.get(p.parentId);
    assert.equal(done?.state, 'DONE', `${done?.reason} ${JSON.stringify(done?.childStates)}`);
    assert.equal(done?.filled, 10_000);
    assert.deepEqual(
      Object.values(done?.childStates ?? {}).map((c) => [c.state, c.filled]),
      [
        ['FILLED', 2500],
        ['FILLED', 2500],
        ['FILLED', 2500],
        ['FILLED', 2500],
      ],
    );
    const positions = await r.paper.getPositions();
    assert.equal(positions.find((x) => x.symbol === 'EUR_USD')?.quantity, 10_000);
    const log = await records(r);
    for (const c of done?.children ?? []) {
      const announced = log.findIndex((x) => x.type === 'ParentChild' && x.data['childId'] === c.id);
      const submitted = log.findIndex((x) => x.type === 'SubmitOrder' && JSON.stringify(x.data).includes(`"${c.id}"`));
      assert.ok(announced >= 0 && submitted > announced, `${c.id}: ParentChild before SubmitOrder`);
    }
    assert.ok(log.some((x) => x.type === 'ParentEnded' && x.data['state'] === 'DONE' && x.data['filled'] === 10_000));
    assert.equal((await verifyAuditDir(join(r.dir, 'audit'))).verified, true);
  });

  it('iceberg: one clip of the display size at a time, the next when it fills; cancelling the parent cancels the clip', async () => {
    await move(r, 1.081, 1.0812);
    const p = await r.parents.start(
      spec({
        algo: 'iceberg',
        symbol: 'EUR_USD',
        side: 'buy',
        quantity: 5000,
        limit_price: 1.08,
        display_quantity: 2000,
      }),
      'paper',
    );
    const open = async (): Promise<number[]> => (await r.paper.listOpenOrders()).map((o) => o.quantity);
    assert.deepEqual(await open(), [2000], 'only the display size shows');
    await move(r, 1.0798, 1.08);
    await r.parents.poll();
    await r.parents.poll();
    const after = r.parents.get(p.parentId);
    assert.equal(after?.children.length, 3, 'clip 2 filled at once (marketable), clip 3 holds the rest');
    assert.equal(after?.state, 'DONE');
    assert.equal(after?.filled, 5000);

    r.clock.advance(1000); // the engine's order-rate check counts per second
    await move(r, 1.081, 1.0812);
    const q = await r.parents.start(
      spec({
        algo: 'iceberg',
        symbol: 'EUR_USD',
        side: 'buy',
        quantity: 5000,
        limit_price: 1.08,
        display_quantity: 2000,
      }),
      'paper',
    );
    assert.deepEqual(await open(), [2000], JSON.stringify(r.parents.get(q.parentId)));
    await r.parents.cancel(q.parentId, 'cancelled by the test');
    assert.deepEqual(await open(), [], 'the resting clip was cancelled');
    assert.equal(r.parents.get(q.parentId)?.state, 'CANCELLED');
  });

  it('bracket: the entry fills, stop-loss and take-profit rest, the first exit to fill cancels the other', async () => {
    const p = await r.parents.start(
      spec({ algo: 'bracket', symbol: 'EUR_USD', side: 'buy', quantity: 10_000, stop_loss: 1.07, take_profit: 1.09 }),
      'paper',
    );
    await r.parents.poll();
    const legs = (): string[] =>
      (r.parents.get(p.parentId)?.children ?? []).map(
        (c) => `${c.role}:${r.parents.get(p.parentId)?.childStates[c.id]?.state}`,
      );
    assert.deepEqual(legs(), ['entry:FILLED', 'stop_loss:ACCEPTED', 'take_profit:ACCEPTED']);
    await move(r, 1.0905, 1.0907);
    await r.parents.poll();
    await r.parents.poll();
    assert.deepEqual(legs(), ['entry:FILLED', 'stop_loss:CANCELLED', 'take_profit:FILLED']);
    assert.equal(r.parents.get(p.parentId)?.state, 'DONE');
    assert.equal(r.parents.get(p.parentId)?.reason, 'take profit filled');
    assert.equal((await r.paper.getPositions()).find((x) => x.symbol === 'EUR_USD')?.quantity ?? 0, 0, 'flat again');
  });

  it('the emergency stop ends every parent; its children were cancelled', async () => {
    const p = await r.parents.start(
      spec({ algo: 'bracket', symbol: 'EUR_USD', side: 'buy', quantity: 1000, stop_loss: 1.07, take_profit: 1.09 }),
      'paper',
    );
    await r.parents.poll();
    await r.session.engine.emergencyStop({ reason: 'test stop' });
    await r.parents.poll();
    const after = r.parents.get(p.parentId);
    assert.equal(after?.state, 'CANCELLED');
    assert.match(after?.reason ?? '', /trading halted/);
    assert.deepEqual(await r.paper.listOpenOrders(), []);
  });

  it('trailing stop: the watermark follows the bid up and the stop triggers on the fall back; it survives a restart', async () => {
    const long = {
      symbol: 'EUR_USD',
      side: 'buy' as const,
      quantity: 10_000,
      order_type: { type: 'market' as const },
      time_in_force: { type: 'IOC' as const },
      metadata: {},
    };
    await r.session.engine.submit(submitOrderCommand(long, { venue: 'paper', source: 'api', clock: r.clock }));
    const p = await r.parents.start(
      spec({ algo: 'trailing_stop', symbol: 'EUR_USD', side: 'sell', quantity: 10_000, trail_offset: 0.002 }),
      'paper',
    );
    assert.equal(r.parents.get(p.parentId)?.watermark, 1.08);
    await move(r, 1.085, 1.0852);
    await r.parents.poll();
    assert.equal(r.parents.get(p.parentId)?.watermark, 1.085);
    await move(r, 1.0835, 1.0837);
    await r.parents.poll();
    assert.equal(r.parents.get(p.parentId)?.children.length, 0, 'not yet: the stop is at 1.0830');

    await r.restart();
    const restored = await r.parents.restore(join(r.dir, 'audit'));
    assert.deepEqual(
      restored.map((x) => [x.parentId, x.watermark]),
      [[p.parentId, 1.085]],
    );
    await move(r, 1.0829, 1.0831);
    await r.parents.poll();
    await r.parents.poll();
    const after = r.parents.get(p.parentId);
    assert.equal(after?.state, 'DONE');
    assert.equal(after?.filled, 10_000);
    assert.equal((await r.paper.getPositions()).find((x) => x.symbol === 'EUR_USD')?.quantity ?? 0, 0);
  });

  it('after a restart: a child logged but never sent is sent once under its id; one that was sent is never sent again', async () => {
    const p = await r.parents.start(
      spec({ algo: 'twap', symbol: 'EUR_USD', side: 'buy', quantity: 3000, duration_s: 30, slices: 3 }),
      'paper',
    );
    const first = p.children[0]?.id as string;
    // The process wrote slice 2's ParentChild record and died before its SubmitOrder.
    const second = `${p.parentId}-2`;
    const order = {
      ...p.children[0]?.order,
      client_order_id: second,
      metadata: { parent: p.parentId, algo: 'twap', slice: '2/3' },
    };
    await r.session.audit.append('ParentChild', {
      at: r.clock.now(),
      parentId: p.parentId,
      childId: second,
      role: 'slice',
      index: 1,
      order,
    });
    await r.restart();
    await r.parents.restore(join(r.dir, 'audit'));
    r.clock.advance(10_000);
    await r.parents.poll();
    const ids = async (): Promise<string[]> => {
      const log = await records(r);
      return log
        .filter((x) => x.type === 'SubmitOrder')
        .map((x) => JSON.stringify(x.data).match(/"clientOrderId":"([^"]+)"/)?.[1] ?? '');
    };
    assert.deepEqual(await ids(), [first, second], 'slice 2 sent once, slice 1 not again');
    r.clock.advance(10_000);
    await r.parents.poll();
    await r.parents.poll();
    const done = r.parents.get(p.parentId);
    assert.equal(done?.state, 'DONE');
    assert.equal(done?.filled, 3000);
    assert.equal((await ids()).length, 3);
    assert.equal((await r.paper.getPositions()).find((x) => x.symbol === 'EUR_USD')?.quantity, 3000);
  });

  it('a sell trailing stop of 10,000 bps or more (its stop at or below zero, never reached) is refused at trail_bps', () => {
    const spec = (side: string, trail_bps: number): ReturnType<typeof splitParent> =>
      splitParent({ algo: 'trailing_stop', symbol: 'EUR_USD', side, quantity: 1000, trail_bps });
    for (const bps of [10_000, 1e9]) {
      const s = spec('sell', bps);
      assert.ok('error' in s, JSON.stringify(s));
      assert.equal(s.error.path, 'trail_bps');
      assert.match(s.error.message, /^trail_bps must be below 10,000 \(100% of the price\) for a sell/);
    }
    const near = spec('sell', 9_999);
    assert.ok('parent' in near && near.parent !== undefined, JSON.stringify(near));
    // A buy's stop trails above the price: any distance is a price that can be reached.
    assert.ok('parent' in spec('buy', 20_000));
  });

  it('names the field of a bad parent order', () => {
    const bad = (v: Record<string, unknown>): string => {
      const s = splitParent(v);
      assert.ok('error' in s, JSON.stringify(v));
      return `${s.error.path}: ${s.error.message}`;
    };
    assert.equal(splitParent({ symbol: 'X' }).hasOwnProperty('parent'), true);
    // An algo in other letters or words is that algo, as a side or an order type is (rt-comp10; before: "algo
    // \"BRACKET\" is not a parent order").
    const twap = { symbol: 'X', side: 'SELL', quantity: 1, duration_s: 60, slices: 2 };
    const trail = { symbol: 'X', side: 'SELL', quantity: 1, trail_bps: 20 };
    for (const [given, algo] of [
      [{ ...twap, algo: 'TWAP' }, 'twap'],
      [{ ...trail, algo: ' Trailing-Stop' }, 'trailing_stop'],
      [{ ...trail, algo: 'trailing stop' }, 'trailing_stop'],
    ] as const) {
      const s = splitParent(given);
      assert.ok('parent' in s && s.parent !== undefined, `${given.algo}: ${JSON.stringify(s)}`);
      assert.deepEqual([s.parent.algo, s.parent.side], [algo, 'sell']);
    }
    assert.match(
      bad({ algo: 'vwap', symbol: 'X', side: 'buy', quantity: 1 }),
      /algo "vwap" is not a parent order; use one of twap, iceberg, bracket, trailing_stop/,
    );
    assert.match(
      bad({ algo: 'twap', symbol: 'X', side: 'buy', quantity: 1, duration_s: 60, slices: 2.5 }),
      /^slices: slices must be a whole number$/,
    );
    assert.match(
      bad({ algo: 'iceberg', symbol: 'X', side: 'buy', quantity: 1, limit_price: 1, display_quantity: 5 }),
      /^display_quantity: display_quantity must not exceed quantity$/,
    );
    assert.match(
      bad({ algo: 'bracket', symbol: 'X', side: 'buy', quantity: 1, stop_loss: 1.1, take_profit: 1.0 }),
      /^stop_loss: for a buy, stop_loss \(1\.1\) must be below take_profit \(1\)$/,
    );
    assert.match(
      bad({ algo: 'trailing_stop', symbol: 'X', side: 'sell', quantity: 1, trail_offset: 0.1, trail_bps: 5 }),
      /^trail_offset: give exactly one of/,
    );
    assert.match(
      bad({ algo: 'twap', symbol: 'X', side: 'buy', quantity: -1, duration_s: 60, slices: 2 }),
      /^quantity: quantity must be greater than zero$/,
    );
    // It named neither what the order takes nor where the trail goes ("colour: not a field of a twap parent order").
    assert.equal(
      bad({ algo: 'twap', symbol: 'X', side: 'buy', quantity: 1, duration_s: 60, slices: 2, colour: 'red' }),
      "colour: 'colour' is not a field of a twap parent order; a twap parent order takes algo, symbol, side, quantity, duration_s, slices, limit_price (optional)",
    );
  });

  it('a trailing stop with trail_pips: what is wrong, where, what it takes, and what pips are here', () => {
    const s = splitParent({ algo: 'trailing_stop', symbol: 'EUR_USD', side: 'sell', quantity: 1000, trail_pips: 20 });
    assert.ok('error' in s, JSON.stringify(s));
    assert.deepEqual(s.error, {
      path: 'trail_pips',
      message:
        "'trail_pips' is not a field of a trailing_stop parent order; a trail in pips is trail_offset, the price distance (20 pips is 0.0020 on EUR_USD, 0.20 on USD_JPY); a trailing_stop parent order takes algo, symbol, side, quantity, trail_offset or trail_bps (exactly one), activation_price (optional)",
    });
    const two = splitParent({
      algo: 'trailing_stop',
      symbol: 'EUR_USD',
      side: 'sell',
      quantity: 1000,
      trail_offset: 0.002,
      trailPercent: 1,
      note: 'x',
    });
    assert.ok('error' in two, JSON.stringify(two));
    assert.equal(two.error.path, 'trailPercent, note');
    assert.match(
      two.error.message,
      /^'trailPercent' and 'note' are not fields of a trailing_stop parent order; a trail in percent is trail_bps, in basis points of the price \(1% is 100\); a trailing_stop parent order takes algo, /,
    );
  });
});

describe('sptrader algo (the CLI carries a parent out, and carries it on after a kill)', function () {
  this.timeout(120_000);
  const ROOT = join(__dirname, '../../../..');
  const CLI = join(ROOT, 'dist', 'cli.js');
  const TWAP = join(ROOT, 'examples/workspace/core/orders/execution_algos/twap_buy.py');
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sptrader-algo-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  };

  it('killed after logging slice 2 and before sending it: --resume sends it once, under its id, and finishes', async () => {
    const args = [
      'algo',
      TWAP,
      '--param',
      'quantity=3000',
      '--param',
      'duration_s=1',
      '--param',
      'slices=3',
      '--state-dir',
      dir,
    ];
    const killed = cli(args, { SPTRADER_CRASH_AT: 'parent-child-logged:2' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const resumed = cli(['algo', '--resume', '--state-dir', dir]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(resumed.stdout, /^Resuming pa-\S+ TWAP BUY 3,000 EUR_USD, 3 slices over 1 s, filled 1,000/m);
    assert.match(resumed.stdout, /^DONE: .* filled 3,000 \(complete\)$/m);
    const log = await tailAudit(join(dir, 'audit'), 100_000);
    const sent = log
      .filter((x) => x.type === 'SubmitOrder')
      .map((x) => JSON.stringify(x.data).match(/"clientOrderId":"([^"]+)"/)?.[1]);
    assert.equal(sent.length, 3, 'three slices sent');
    assert.equal(new Set(sent).size, 3, 'none twice');
    assert.deepEqual(
      sent.map((id) => id?.replace(/^pa-[^-]+-[^-]+-/, '')),
      ['1', '2', '3'],
    );
    const positions = cli(['positions', '--state-dir', dir, '--json']);
    assert.deepEqual(
      (JSON.parse(positions.stdout) as Array<{ symbol: string; quantity: number }>).map((p) => [p.symbol, p.quantity]),
      [['EUR_USD', 3000]],
    );
    assert.equal((await verifyAuditDir(join(dir, 'audit'))).verified, true);
    const again = cli(['algo', '--resume', '--state-dir', dir]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /No parent order was left working/);
  });

  it('says how the paper venue carries a parent: a trailing stop emulated locally and why, a TWAP scheduled by the engine', () => {
    const file = join(dir, 'trail.py');
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        'class Trail(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        return {'algo': 'trailing_stop', 'symbol': 'EUR_USD', 'side': 'sell', 'quantity': 1000, 'trail_bps': 25}",
        '',
      ].join('\n'),
    );
    const trail = cli(['algo', file, '--max-seconds', '1', '--state-dir', dir]);
    assert.equal(trail.code, 4, trail.stderr + trail.stdout);
    assert.match(
      trail.stdout,
      /^Started pa-\S+ TRAILING_STOP SELL 1,000 EUR_USD, trailing 25 bps \(emulated locally\), filled 0$/m,
    );
    assert.match(
      trail.stdout,
      /^ {2}Emulated locally \(the paper venue has no trailing stop order of its own\): the engine trails the venue’s quote/m,
    );
    const twap = cli([
      'algo',
      TWAP,
      '--param',
      'quantity=2000',
      '--param',
      'duration_s=1',
      '--param',
      'slices=2',
      '--state-dir',
      dir,
    ]);
    assert.equal(twap.code, 0, twap.stderr + twap.stdout);
    assert.match(twap.stdout, /^ {2}Emulated locally: the engine sends each slice as an IOC order on its schedule\.$/m);
  });

  it('a component that returns a plain order, or a bad parent, is refused at its return line', () => {
    const plain = cli([
      'algo',
      join(ROOT, 'examples/workspace/core/orders/execution_algos/market_order.py'),
      '--state-dir',
      dir,
    ]);
    assert.equal(plain.code, 1);
    assert.match(
      plain.stderr,
      /market_order\.py:\d+: the component returned a plain order, not a parent order \(it has no 'algo'\); use test-order/,
    );
    // A value below the minimum __metadata__ declares is refused before the component runs…
    const below = cli(['algo', TWAP, '--param', 'slices=0', '--state-dir', dir]);
    assert.equal(below.code, 1);
    assert.match(
      below.stderr,
      /INVALID_PARAMETER: the parameter 'slices' is 0, .*below the minimum 1; nothing was sent/,
    );
    // …and a parent the component builds wrong is refused at its return line.
    const file = join(dir, 'bad_twap.py');
    writeFileSync(
      file,
      [
        'from core.orders.order_base import OrderBase',
        'class BadTwap(OrderBase):',
        '    def generate_order(self, market_data, signal=None):',
        "        return {'algo': 'twap', 'symbol': 'EUR_USD', 'side': 'buy', 'quantity': 1000, 'duration_s': 1, 'slices': 0}",
        '',
      ].join('\n'),
    );
    const bad = cli(['algo', file, '--state-dir', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad_twap\.py:\d+: the parent order is invalid: slices: slices must be at least 1/);
  });
});
