/**
 * Properties of the execution engine over random sessions against a real paper venue behind fault
 * injection and a real audit log: submits (one at a time and in concurrent bursts), cancels, scripted
 * or seeded faults, halts, resumes, emergency stops and quote moves. After each session has been
 * reconciled, the engine, the venue and the audit log must agree.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FAULT_KINDS, type FaultKind, type FaultPlan } from '../../../src/brokers/paper/faults';
import { fromMoney, toMoney } from '../../../src/common/decimal';
import type { EngineEvent, EngineEventType } from '../../../src/execution/events';
import { ORDER_STATES } from '../../../src/execution/orderState';
import type { SubmitResult } from '../../../src/execution/engine';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { GTC, IOC, gtd, limit, order } from '../paper/helpers';
import { makeRig, settle, type Rig } from './engineHelpers';

interface OrderSpec {
  symbol: 'AAPL' | 'MSFT';
  side: 'buy' | 'sell';
  quantity: number;
  /** Null: a market order. */
  limitCents: number | null;
  /** Time in force of a limit order (a market order is GTC); GTD expires `gtdMs` from now. */
  tif: 'GTC' | 'IOC' | 'GTD';
  gtdMs: number;
}

type Command =
  | { kind: 'submit'; fault: FaultKind | null; order: OrderSpec }
  /** Submitted together (Promise.all); optionally a cancel of one of them, a few ms in. */
  | { kind: 'burst'; faults: FaultKind[]; orders: OrderSpec[]; cancel: { index: number; delayMs: number } | null }
  | { kind: 'cancel'; pick: number }
  | { kind: 'halt' }
  | { kind: 'resume' }
  | { kind: 'stop'; flatten: boolean }
  /** The clock and the quote move (`size` at the touch: small sizes make partial fills); `poll` runs the venue's timer. */
  | { kind: 'move'; advanceMs: number; bidCents: number; size: number; poll: boolean };

const fault = fc.constantFrom(...FAULT_KINDS);

const orderSpec: fc.Arbitrary<OrderSpec> = fc.record({
  symbol: fc.constantFrom('AAPL' as const, 'MSFT' as const),
  side: fc.constantFrom('buy' as const, 'sell' as const),
  quantity: fc.integer({ min: 1, max: 20 }),
  limitCents: fc.option(fc.integer({ min: 9_900, max: 10_100 }), { freq: 2 }),
  tif: fc.constantFrom('GTC' as const, 'IOC' as const, 'GTD' as const),
  gtdMs: fc.integer({ min: 1, max: 8_000 }),
});

function commandArb(scriptedFaults: boolean): fc.Arbitrary<Command> {
  const maybeFault = scriptedFaults ? fc.option(fault, { freq: 2 }) : fc.constant(null);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('submit' as const), fault: maybeFault, order: orderSpec }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('burst' as const),
        faults: scriptedFaults ? fc.array(fault, { maxLength: 2 }) : fc.constant<FaultKind[]>([]),
        orders: fc.array(orderSpec, { minLength: 2, maxLength: 5 }),
        cancel: fc.option(fc.record({ index: fc.nat(4), delayMs: fc.integer({ min: 0, max: 3 }) })),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'halt' as const }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'resume' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('stop' as const), flatten: fc.boolean() }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('move' as const),
        advanceMs: fc.integer({ min: 0, max: 5_000 }),
        bidCents: fc.integer({ min: 9_900, max: 10_100 }),
        size: fc.constantFrom(3, 8, 1_000),
        poll: fc.boolean(),
      }),
    },
  );
}

function toRequest(s: OrderSpec, now: number): PlacedOrderRequest {
  if (s.limitCents === null) return order(s.side, s.quantity, { type: 'market' }, GTC, s.symbol);
  return order(
    s.side,
    s.quantity,
    limit(s.limitCents / 100),
    s.tif === 'GTC' ? GTC : s.tif === 'IOC' ? IOC : gtd(now + s.gtdMs),
    s.symbol,
  );
}

/** Every event type the engine publishes: compile-time complete, so the audit comparison misses none. */
const EVENT_TYPE_FLAGS: Record<EngineEventType, true> = {
  OrderSubmitted: true,
  OrderDenied: true,
  OrderAccepted: true,
  OrderUnconfirmed: true,
  OrderPartiallyFilled: true,
  OrderFilled: true,
  OrderCancelRequested: true,
  OrderCancelRejected: true,
  OrderCancelled: true,
  OrderExpired: true,
  OrderRejected: true,
  OrderNeverArrived: true,
  StateSaveFailed: true,
  StateDamaged: true,
  TransitionRefused: true,
  ExternalOrderFound: true,
  PositionsReconciled: true,
  TradingStateChanged: true,
  VenueError: true,
};
const EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(EVENT_TYPE_FLAGS));

const eventKey = (type: string, data: object): string =>
  `${type}:${'clientOrderId' in data ? String(data.clientOrderId) : ''}`;

interface Session {
  submitted: string[];
  results: SubmitResult[];
  cancels: number;
  halts: number;
  resumes: number;
  stops: number;
  flattens: number;
  /** Client ids of OrderSubmitted events published while the engine was HALTED. */
  sentWhileHalted: string[];
}

async function run(rig: Rig, commands: Command[]): Promise<Session> {
  const s: Session = {
    submitted: [],
    results: [],
    cancels: 0,
    halts: 0,
    resumes: 0,
    stops: 0,
    flattens: 0,
    sentWhileHalted: [],
  };
  // `trading.state` is the very value `send()` checks before the order goes out; `status()` would tick the breaker from inside a listener.
  rig.engine.subscribe((e) => {
    if (e.type === 'OrderSubmitted' && rig.engine.trading.state === 'HALTED') s.sentWhileHalted.push(e.clientOrderId);
  });
  const submit = async (spec: OrderSpec): Promise<void> => {
    const request = toRequest(spec, rig.clock.now());
    s.submitted.push(request.client_order_id);
    const result = await rig.engine.submitOrder(request, 'paper');
    assert.equal(result.order.clientOrderId, request.client_order_id);
    assert.equal(
      result.denial !== undefined,
      result.order.state === 'DENIED',
      `denial ${result.denial?.code} vs state ${result.order.state}`,
    );
    s.results.push(result);
  };
  const cancel = async (id: string): Promise<void> => {
    if (rig.engine.getOrder(id) === undefined) return; // not yet through validation: nothing to cancel
    s.cancels++;
    const after = await rig.engine.cancel(id);
    assert.ok(ORDER_STATES.includes(after.state));
  };
  for (const c of commands) {
    switch (c.kind) {
      case 'submit':
        if (c.fault) rig.venue.injectNext(c.fault);
        await submit(c.order);
        break;
      case 'burst': {
        for (const f of c.faults) rig.venue.injectNext(f);
        const first = s.submitted.length;
        const all: Array<Promise<void>> = c.orders.map((o) => submit(o));
        if (c.cancel) {
          const target = s.submitted[first + (c.cancel.index % c.orders.length)] as string;
          all.push(settle(c.cancel.delayMs).then(() => cancel(target)));
        }
        await Promise.all(all);
        break;
      }
      case 'cancel':
        if (s.submitted.length > 0) await cancel(s.submitted[c.pick % s.submitted.length] as string);
        break;
      case 'halt':
        s.halts++;
        rig.engine.setTradingState('HALTED', 'property test halt');
        break;
      case 'resume':
        s.resumes++;
        rig.engine.setTradingState('ACTIVE', 'property test resume');
        break;
      case 'stop': {
        s.stops++;
        const connected = rig.venue.isConnected();
        const report = await rig.engine.emergencyStop({ reason: 'property test stop', flatten: c.flatten });
        assert.equal(rig.engine.trading.state, 'HALTED');
        s.flattens += report.flattened.length;
        if (connected && rig.venue.isConnected() && report.failed.length === 0) {
          assert.deepEqual(await rig.venue.listOpenOrders(), [], 'an emergency stop leaves no open order');
        }
        break;
      }
      case 'move':
        rig.clock.advance(c.advanceMs);
        rig.quotes.move(c.bidCents / 100, (c.bidCents + 2) / 100, c.size);
        if (c.poll) rig.paper.poll();
        break;
    }
  }
  return s;
}

/** Reconnects if a fault dropped the link and reconciles until nothing is left unresolved. */
async function quiesce(rig: Rig): Promise<void> {
  for (let round = 0; round < 5; round++) {
    if (!rig.venue.isConnected()) await rig.venue.connect();
    await rig.engine.reconcile('paper');
    await settle(3);
    const unresolved = rig.engine.workingOrders().some((o) => o.state !== 'ACCEPTED' && o.state !== 'PARTIALLY_FILLED');
    if (!unresolved && rig.venue.isConnected()) return;
  }
}

const positionsFromFills = (rig: Rig): Record<string, number> => {
  const units = new Map<string, bigint>();
  for (const o of rig.engine.allOrders()) {
    for (const f of o.fills)
      units.set(f.symbol, (units.get(f.symbol) ?? 0n) + toMoney(f.quantity) * (f.side === 'buy' ? 1n : -1n));
  }
  return Object.fromEntries([...units].filter(([, u]) => u !== 0n).map(([sym, u]) => [sym, fromMoney(u)]));
};

const sorted = (o: Record<string, number>): Array<[string, number]> =>
  Object.entries(o).sort(([a], [b]) => a.localeCompare(b));

async function checkInvariants(rig: Rig, s: Session): Promise<void> {
  const { engine, paper } = rig;

  // The state machine never refused anything; every record is in a known state.
  assert.deepEqual(
    rig.events.filter((e) => e.type === 'TransitionRefused'),
    [],
  );
  for (const o of engine.allOrders())
    assert.ok(ORDER_STATES.includes(o.state), `${o.clientOrderId} in unknown state ${o.state}`);
  assert.ok(
    engine.workingOrders().every((o) => o.state === 'ACCEPTED' || o.state === 'PARTIALLY_FILLED'),
    `unresolved after reconcile: ${JSON.stringify(engine.workingOrders().map((o) => [o.clientOrderId, o.state]))}`,
  );

  // Positions: the engine's = the sum of its own fills = the venue's.
  const fromFills = sorted(positionsFromFills(rig));
  assert.deepEqual(
    sorted(engine.positionsOf('paper')),
    fromFills,
    'engine positions = signed sum of the fills in its order records',
  );
  const venuePositions = (await paper.getPositions())
    .filter((p) => p.quantity !== 0)
    .map((p): [string, number] => [p.symbol, p.quantity]);
  assert.deepEqual(
    venuePositions.sort(([a], [b]) => a.localeCompare(b)),
    fromFills,
    'engine positions = venue positions',
  );
  // Each venue fill is in exactly one engine record, and the engine has no fill the venue did not make.
  const engineFills = engine.allOrders().flatMap((o) => o.fills.map((f) => f.fill_id));
  assert.equal(new Set(engineFills).size, engineFills.length, 'no fill counted twice');
  assert.deepEqual(
    [...engineFills].sort(),
    paper
      .getFills()
      .map((f) => f.fill_id)
      .sort(),
  );
  // The engine's running positions never drifted from the venue's: every reconcile found no difference.
  for (const e of rig.events)
    if (e.type === 'PositionsReconciled') assert.deepEqual(e.differences, [], 'positions drifted');

  // One client id, at most one live order: at the engine, at the venue, and the same set at both.
  const working = engine.workingOrders().map((o) => o.clientOrderId);
  assert.equal(new Set(working).size, working.length);
  const open = (await paper.listOpenOrders()).map((o) => o.client_order_id);
  assert.equal(new Set(open).size, open.length, 'two open venue orders share a client id');
  assert.deepEqual([...open].sort(), [...working].sort(), 'the venue’s open orders are the engine’s working orders');

  // Nothing was sent while HALTED, except the emergency stop's own flattening orders.
  await engine.close();
  const records = await rig.auditRecords();
  const submits = records
    .filter((r) => r.type === 'SubmitOrder')
    .map((r) => r.data['command'] as { clientOrderId: string; source: string });
  const sourceOf = new Map(submits.map((c) => [c.clientOrderId, c.source]));
  for (const id of s.sentWhileHalted) assert.equal(sourceOf.get(id), 'flatten', `order ${id} was sent while HALTED`);

  // Every published event is in the log exactly once and in order; every command once.
  const published = rig.events.map((e: EngineEvent) => eventKey(e.type, e));
  const logged = records.filter((r) => EVENT_TYPES.has(r.type)).map((r) => eventKey(r.type, r.data));
  assert.deepEqual(logged, published, 'the audit log holds each published event once, in order');
  const perId = new Map<string, number>();
  for (const c of submits) perId.set(c.clientOrderId, (perId.get(c.clientOrderId) ?? 0) + 1);
  for (const id of s.submitted) assert.equal(perId.get(id), 1, `SubmitOrder records for ${id}`);
  assert.equal(
    submits.length,
    s.submitted.length + s.flattens,
    'one SubmitOrder per command, flattening orders included',
  );
  assert.equal(submits.filter((c) => c.source === 'flatten').length, s.flattens);
  const count = (type: string): number => records.filter((r) => r.type === type).length;
  assert.equal(count('Halt'), s.halts);
  assert.equal(count('Resume'), s.resumes);
  assert.equal(count('EmergencyStop'), s.stops);
  assert.ok(count('CancelOrder') >= s.cancels);
  assert.equal(s.results.length, s.submitted.length, 'every submit resolved');
}

async function session(commands: Command[], stream: boolean, plan?: FaultPlan): Promise<void> {
  const rig = await makeRig(plan === undefined ? { stream } : { stream, plan });
  try {
    const s = await run(rig, commands);
    await quiesce(rig);
    await checkInvariants(rig, s);
  } finally {
    await rig.close();
  }
}

/** 40 by default; SPTRADER_PROPERTY_RUNS=1000 for a longer search. */
const RUNS = Number(process.env['SPTRADER_PROPERTY_RUNS'] ?? 40);

/** Mostly a venue with an update stream; sometimes a REST-only one, where the engine learns only from replies and look-ups. */
const withStream = fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

describe('ExecutionEngine properties', function () {
  this.timeout(60_000);

  it('random sessions with scripted faults: engine, venue and audit log agree', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb(true), { minLength: 1, maxLength: 25 }), withStream, (commands, stream) =>
        session(commands, stream),
      ),
      { numRuns: RUNS },
    );
  });

  it('random sessions on a seeded random fault plan: engine, venue and audit log agree', async () => {
    const plan: fc.Arbitrary<FaultPlan> = fc.record({
      seed: fc.nat(),
      reject: fc.constantFrom(0, 0.05),
      errorBeforeSend: fc.constantFrom(0, 0.05),
      timeoutAfterAccept: fc.constantFrom(0, 0.1),
      disconnectMidFill: fc.constantFrom(0, 0.1),
      duplicateAck: fc.constantFrom(0, 0.1),
      outOfOrderAck: fc.constantFrom(0, 0.1),
    });
    await fc.assert(
      fc.asyncProperty(
        plan,
        fc.array(commandArb(false), { minLength: 1, maxLength: 25 }),
        withStream,
        (p, commands, stream) => session(commands, stream, p),
      ),
      { numRuns: RUNS },
    );
  });
});
