/** The engine's public shapes, shared by the facade (`../engine.ts`) and its pieces. */
import type { Clock } from '../../common/clock';
import type { BrokerApi } from '../../brokers/broker';
import type { StateDamagedError } from '../../common/stateErrors';
import type { AuditLog } from '../audit/auditLog';
import type { AuditDigest } from '../auditDigest';
import type { DenialCode } from '../events';
import type { OrderRecord } from '../orderState';
import type { LoadedWorkingOrders } from '../orderStore';
import type { RiskCheckResult, RiskLimits, TradingStateName } from '../risk';
import type { CircuitBreakerSettings, TradingStateStore } from '../tradingState';

export interface EngineOptions {
  clock: Clock;
  /** Brokers by profile id; orders name the one they go to. */
  brokers: ReadonlyMap<string, BrokerApi> | Record<string, BrokerApi>;
  /** Where every command and event is recorded; null only in tests that say why. */
  audit: AuditLog | null;
  limits?: RiskLimits;
  circuitBreaker?: CircuitBreakerSettings;
  /** The trading state file (halts survive restarts); undefined keeps it in memory. */
  tradingStateFile?: string;
  /** Orders waiting or in flight before submits are denied with QUEUE_FULL. Default 1024. */
  queueCapacity?: number;
  /** Look-ups of an unconfirmed order before it is left for the next reconcile. Default 8. */
  reconcileAttempts?: number;
  /** First delay between look-ups of an unconfirmed order (doubles each time). Default 100 ms. */
  reconcileDelayMs?: number;
  /**
   * How long `close` waits for the orders and cancels under way to be answered (their answers recorded) before it
   * closes anyway: a venue's own timeouts are shorter, but a client that never settles a call must not hold the
   * session open for ever. Default 30 000 ms.
   */
  closeWaitMs?: number;
  /** Finished orders kept in memory for the UI. Default 10 000. */
  maxFinishedOrders?: number;
  /**
   * Where the engine keeps its working orders between runs, so that orders it placed are reconciled as
   * its own after a restart (not mistaken for external ones). Undefined: memory only.
   */
  ordersFile?: string;
  /** The working-orders file as already read (the session reads it first, to anchor the audit log). */
  loadedOrders?: LoadedWorkingOrders;
  /**
   * What the audit log says (gathered when it was opened): the orders that may still be alive at a
   * venue — each is reconciled by client order id on connect, including ones the last process died
   * while sending — the positions and fills it recorded, and the last trading state.
   */
  digest?: AuditDigest;
  /**
   * Venues whose whole state lives in this state directory and changes only through this engine (the
   * paper venue): after reconciling, their positions and fills must equal the audit log's, or the
   * account file is damaged and trading is refused.
   */
  localVenues?: ReadonlyMap<string, LocalVenue>;
  /** Damage found before the engine was made (the audit log itself): trading is refused until `recover`. */
  damage?: readonly StateDamagedError[];
  /**
   * A simulation (replay): nothing the engine sends leaves the process, so an order need not wait for its
   * SubmitOrder command to reach the disk before it goes to the venue. The command is still written
   * first, in chain order, and a failure to write it still halts trading; it is made durable with the
   * log's next batch. Never set for a venue that trades (the default, false, waits).
   */
  simulation?: boolean;
}

/** A venue kept in the state directory (see EngineOptions.localVenues). */
export interface LocalVenue {
  /** Its account file, named in messages. */
  readonly file: string;
  /** Fills it has made since its account was opened; undefined when it cannot say. */
  fillsEver(): number | undefined;
}

export interface Denial {
  readonly code: DenialCode;
  readonly message: string;
}

export interface SubmitResult {
  readonly order: OrderRecord;
  readonly risk: readonly RiskCheckResult[];
  readonly denial?: Denial;
  /**
   * Engine time: validation, risk, the audit records and the state machine (the venue's updates for
   * this order included), summed over the synchronous stretches of this order's handling; excluded are
   * the venue's own work, waits for the disk and the time other orders in flight ran in between.
   */
  readonly engineMs: number;
  /** From calling the broker until it answered. */
  readonly venueMs: number | null;
}

export interface EngineStatus {
  tradingState: TradingStateName;
  reason: string;
  source: string;
  since: number;
  resumeAt: number | null;
  breaker: ReturnType<TradingStateStore['breakerStatus']>;
  workingOrders: number;
  queued: number;
  queueCapacity: number;
  externalOrders: number;
  venues: Array<{ id: string; environment: string; connected: boolean }>;
  limits: RiskLimits;
  audit: { dir: string; lastSeq: number; state: string } | null;
}

export interface EmergencyStopReport {
  cancelled: string[];
  failed: Array<{ venue: string; order: string; reason: string }>;
  flattened: Array<{ venue: string; symbol: string; quantity: number; result: string }>;
}
