/** An engine over a real paper venue (behind fault injection) and a real audit log in a temp dir. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClock } from '../../../src/common/clock';
import { PaperBroker } from '../../../src/brokers/paper/paperBroker';
import { FaultInjectingBroker, type FaultPlan } from '../../../src/brokers/paper/faults';
import { AuditLog, tailAudit, verifyAuditDir, type AuditRecord } from '../../../src/execution/audit/auditLog';
import { ExecutionEngine, type EngineOptions } from '../../../src/execution/engine';
import type { EngineEvent } from '../../../src/execution/events';
import type { RiskLimits } from '../../../src/execution/risk';
import type { CircuitBreakerSettings } from '../../../src/execution/tradingState';
import { FixedQuotes } from '../paper/helpers';
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
