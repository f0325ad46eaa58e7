/** An engine over a real paper venue (behind fault injection) and a real audit log in a temp dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { FaultInjectingBroker, type FaultPlan } from '../../../src/brokers/paper/faults';
import assert from 'node:assert/strict';
import {
  AuditLog,
  tailAudit,
  verifyAuditDir,
  type AuditFileSystem,
  type AuditRecord,
} from '../../../src/execution/audit/auditLog';
import { ExecutionEngine, type EngineOptions } from '../../../src/execution/engine';
import type { EngineEvent } from '../../../src/execution/events';
import type { RiskLimits } from '../../../src/execution/risk';
import type { CircuitBreakerSettings } from '../../../src/execution/tradingState';
import type { PlacedOrderRequest } from '../../../src/orders/model';
import { FixedQuotes, limit, order } from '../paper/helpers';
import { delegatingBroker, type BrokerApi } from '../../../src/brokers/broker';

export interface Rig {
  clock: TestClock;
  quotes: FixedQuotes;
  paper: PaperBroker;
  venue: FaultInjectingBroker;
  engine: ExecutionEngine;
  audit: AuditLog;
  dir: string;
  events: EngineEvent[];
  /** Reopens an engine on the same state dir and venue (a restart); the old one is closed first. */
  restart(): Promise<void>;
  close(): Promise<void>;
  auditRecords(): Promise<AuditRecord[]>;
}

export interface RigOptions {
  limits?: RiskLimits;
  circuitBreaker?: CircuitBreakerSettings;
  plan?: FaultPlan;
  queueCapacity?: number;
  startingCash?: number;
  /** Defaults to true: the engine connects (and reconciles) before the test starts. */
  connect?: boolean;
  /** False: the venue has no update stream (a REST-only venue); the engine learns only from replies and look-ups. */
  stream?: boolean;
  /** How many finished orders the engine keeps whole (its default: 10,000). */
  maxFinishedOrders?: number;
  /** A replay's engine (EngineOptions.simulation). */
  simulation?: boolean;
}

/** A venue without an update stream: every call goes through, `onOrderUpdate` never calls back. */
export function withoutStream(inner: BrokerApi): BrokerApi {
  return delegatingBroker(inner, { onOrderUpdate: () => ({ dispose: () => undefined }) });
}

/** Limits loose enough that only the check under test decides. */
export const LOOSE: RiskLimits = {
  maxOrderQuantity: 1e9,
  maxPositionQuantity: 1e12,
  maxOrderNotional: 1e12,
  priceCollarBps: 5000,
  maxOpenOrders: 100_000,
};

export async function makeRig(options: RigOptions = {}): Promise<Rig> {
  const clock = new TestClock();
  const quotes = new FixedQuotes();
  const dir = mkdtempSync(join(tmpdir(), 'sptrader-engine-'));
  const paper = new PaperBroker({ clock, quotes, startingCash: options.startingCash ?? 1e9 });
  const venue = new FaultInjectingBroker(paper, { clock, plan: options.plan, sleep: () => Promise.resolve() });
  const build = async (): Promise<{ engine: ExecutionEngine; audit: AuditLog }> => {
    const { log } = await AuditLog.open(join(dir, 'audit'), { clock });
    const engineOptions: EngineOptions = {
      clock,
      brokers: { paper: options.stream === false ? withoutStream(venue) : venue },
      audit: log,
      limits: options.limits ?? LOOSE,
      circuitBreaker: options.circuitBreaker,
      tradingStateFile: join(dir, 'trading-state.json'),
      queueCapacity: options.queueCapacity,
      maxFinishedOrders: options.maxFinishedOrders,
      ...(options.simulation ? { simulation: true } : {}),
      reconcileDelayMs: 2,
    };
    const engine = new ExecutionEngine(engineOptions);
    return { engine, audit: log };
  };
  const first = await build();
  const rig: Rig = {
    clock,
    quotes,
    paper,
    venue,
    engine: first.engine,
    audit: first.audit,
    dir,
    events: [],
    async restart() {
      await rig.engine.close();
      await rig.audit.close();
      const next = await build();
      rig.engine = next.engine;
      rig.audit = next.audit;
      rig.engine.subscribe((e) => rig.events.push(e));
    },
    async close() {
      await rig.engine.close();
      await rig.audit.close();
      await venue.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
    async auditRecords() {
      await rig.audit.flush();
      const report = await verifyAuditDir(join(dir, 'audit'));
      if (!report.verified) throw new Error(`audit chain broken: ${JSON.stringify(report.problems)}`);
      return tailAudit(join(dir, 'audit'), Number.MAX_SAFE_INTEGER);
    },
  };
  rig.engine.subscribe((e) => rig.events.push(e));
  if (options.connect !== false) await rig.engine.connect('paper');
  return rig;
}

/** Lets timers and promise chains run (reconcile back-off uses real timers of a few ms). */
export const settle = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * An engine over the real paper venue behind a wrapper that counts the cancels it is sent (and, while `gate` is set,
 * holds each back until it settles: a slow venue), its audit log on `fileSystem` (test/kit/auditDisk.ts holds back or
 * refuses chosen records): the rig of the tests of a cancel's durable record.
 */
export interface CancelRig {
  readonly dir: string;
  readonly clock: TestClock;
  readonly paper: PaperBroker;
  readonly engine: ExecutionEngine;
  readonly audit: AuditLog;
  /** Venue order ids of the cancels sent, in order. */
  readonly cancels: string[];
  gate: Promise<void> | undefined;
  /** A limit order below the market, accepted: it rests at the venue. */
  resting(symbol?: string): Promise<PlacedOrderRequest>;
  /** The data of the log's records of `type`. */
  records(type: string): Promise<Array<Record<string, unknown>>>;
  /** Lets a held disk go (so that closing does not wait on it when an assertion failed first), closes, removes. */
  close(): Promise<void>;
}

export async function cancelRig(prefix: string, fileSystem: AuditFileSystem): Promise<CancelRig> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const clock = new TestClock();
  const paper = new PaperBroker({ clock, quotes: new FixedQuotes(), startingCash: 1e9 });
  const cancels: string[] = [];
  const venue: BrokerApi = {
    ...delegatingBroker(paper, { id: 'paper' }),
    cancelOrder: async (id): Promise<void> => {
      cancels.push(id);
      if (rig.gate) await rig.gate;
      await paper.cancelOrder(id);
    },
  };
  const audit = (await AuditLog.open(join(dir, 'audit'), { clock, fileSystem })).log;
  const engine = new ExecutionEngine({
    clock,
    brokers: { paper: venue },
    audit,
    limits: LOOSE,
    tradingStateFile: join(dir, 'trading-state.json'),
    reconcileAttempts: 2,
    reconcileDelayMs: 2,
  });
  const rig: CancelRig = {
    dir,
    clock,
    paper,
    engine,
    audit,
    cancels,
    gate: undefined,
    resting: async (symbol = 'AAPL') => {
      const o = order('buy', 10, limit(95), undefined, symbol);
      const result = await engine.submitOrder(o, 'paper');
      assert.equal(result.order.state, 'ACCEPTED', JSON.stringify(result.denial));
      return o;
    },
    records: async (type) =>
      (await tailAudit(join(dir, 'audit'), 1000)).filter((r) => r.type === type).map((r) => r.data),
    close: async () => {
      if ('release' in fileSystem) (fileSystem.release as () => void)();
      await engine.close().catch(() => undefined);
      await audit.close().catch(() => undefined);
      await paper.disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await engine.connect('paper');
  return rig;
}

/** A few turns of the event loop: what a cancel sent at once would have needed to reach the venue many times over. */
export async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}
