/**
 * Commands into the engine and events out of it. Commands are immutable and carry their own id and
 * time; every command and every event is written to the audit log exactly once, in the order the
 * engine handled them, and published to subscribers (the UI, the CLI, the log).
 */
import { newClientOrderId, newSequentialId } from '../common/ids';
import type { Clock } from '../common/clock';
import { canonicalJson } from './audit/canonicalJson';
import {
  carryValidity,
  frozenOrderParts,
  type Fill,
  type OrderRequest,
  type OrderResponse,
  type PlacedOrderRequest,
} from '../orders/model';
import type { OrderState } from './orderState';
import type { RiskCheckResult, TradingStateName } from './risk';

/** Where an order came from, for the audit log and the UI. */
export type OrderSource =
  'test-order' | 'execute-paper' | 'execute-live' | 'cli' | 'replay' | 'flatten' | 'compare' | 'algo' | 'api';

export interface SubmitOrder {
  readonly type: 'SubmitOrder';
  readonly commandId: string;
  readonly issuedAt: number;
  /** Fixed once per command: a retry of the same command can never become a second order. */
  readonly clientOrderId: string;
  /** The broker profile to route to. */
  readonly venue: string;
  readonly order: Readonly<PlacedOrderRequest>;
  readonly source: OrderSource;
  /** The component's `__metadata__['risk_limits']`, which may only tighten the settings' limits. */
  readonly componentLimits?: unknown;
  /** Set only after a person confirmed this very order for a live account. */
  readonly liveConfirmation?: LiveConfirmation;
  /** The component file that produced the order, for the audit log. */
  readonly component?: string;
}

/**
 * A person's confirmation of one live order. `submitOrderCommand` binds it to the order it is built
 * with (client order id, venue and the order's terms), and the engine sends only that order with it.
 */
export interface LiveConfirmation {
  readonly confirmedAt: number;
  readonly summary: string;
  /** The client order id of the order confirmed. */
  readonly clientOrderId?: string;
  /** The broker profile it was confirmed for. */
  readonly venue?: string;
  /** The confirmed order's terms (`orderTerms`). */
  readonly terms?: string;
}

/** An order's terms as a confirmation binds them: what is traded, how much, at what price, for how long. */
export function orderTerms(order: Readonly<PlacedOrderRequest>): string {
  // The audit log's canonical JSON (keys sorted): the same terms give the same text however they were built.
  return canonicalJson([order.symbol, order.side, order.quantity, order.order_type, order.time_in_force], 'order terms')
    .json;
}

/** Each confirmation object a caller handed in, with the binding it got the first time. */
const confirmationBindings = new WeakMap<object, LiveConfirmation>();

/**
 * Binds a caller's confirmation to the command being built. A confirmation already bound (one taken
 * from another command) keeps its binding, and so does one object handed in a second time: either is
 * then for another order, which the engine refuses.
 */
function bindConfirmation(
  given: LiveConfirmation,
  cmd: { clientOrderId: string; venue: string; order: PlacedOrderRequest },
): LiveConfirmation {
  const earlier = confirmationBindings.get(given);
  if (earlier !== undefined) return earlier;
  const bound: LiveConfirmation = {
    confirmedAt: given.confirmedAt,
    summary: given.summary,
    clientOrderId: given.clientOrderId ?? cmd.clientOrderId,
    venue: given.venue ?? cmd.venue,
    terms: given.terms ?? orderTerms(cmd.order),
  };
  Object.freeze(bound);
  confirmationBindings.set(given, bound);
  return bound;
}

const newCommandId = (): string => newSequentialId('cmd');

/**
 * Freezes a command built by `submitOrderCommand`: its own objects (made fresh there) one by one, and
 * deep only where a caller's nested values were copied in (metadata, component limits).
 */
function freezeCommand(cmd: SubmitOrder): SubmitOrder {
  const order = cmd.order;
  Object.freeze(order.order_type);
  Object.freeze(order.time_in_force);
  if (order.metadata !== undefined) deepFreeze(order.metadata);
  Object.freeze(order);
  if (cmd.componentLimits !== undefined) deepFreeze(cmd.componentLimits);
  if (cmd.liveConfirmation !== undefined) Object.freeze(cmd.liveConfirmation);
  return Object.freeze(cmd);
}

// Component limits copied and deep-frozen here: nothing can change them, so a command may keep them as they are.
const frozenCopies = new WeakSet<object>();

/** Whether `value` came from `frozenCopy` (deep-frozen data that cannot change). */
export const isFrozenCopy = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && frozenCopies.has(value);

/**
 * A deep-frozen copy of plain data (structuredClone: data only, no getters), which commands keep rather
 * than copy again: for a replay's risk_limits, the same for every order.
 */
export function frozenCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null || frozenCopies.has(value)) return value;
  const copy = deepFreeze(structuredClone(value));
  frozenCopies.add(copy);
  return copy;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Builds an immutable SubmitOrder; the order's own client id is kept, else one is made. */
export function submitOrderCommand(
  order: OrderRequest,
  options: {
    venue: string;
    source: OrderSource;
    clock: Clock;
    componentLimits?: unknown;
    component?: string;
    /** A person's confirmation of this very order (live accounts); bound to it here. */
    liveConfirmation?: LiveConfirmation;
  },
): SubmitOrder {
  const issuedAt = options.clock.now();
  const clientOrderId = order.client_order_id ?? newClientOrderId('sp', issuedAt);
  // An order whose parts are frozen (normalised, fitted) shares them: only its top object is new. Anything
  // else is copied, so that the caller's later changes cannot reach the command. Built field by field: in
  // Node 20 a spread that adds a key ({...order, client_order_id}) takes ~1.5 µs, a literal ~0.06 µs.
  const shared = order.metadata !== undefined && frozenOrderParts(order);
  const placed: PlacedOrderRequest = {
    symbol: order.symbol,
    side: order.side,
    order_type: shared ? order.order_type : { ...order.order_type },
    quantity: order.quantity,
    time_in_force: shared ? order.time_in_force : { ...order.time_in_force },
    metadata: shared ? order.metadata : { ...order.metadata },
    client_order_id: clientOrderId,
  };
  const cmd: {
    -readonly [K in keyof SubmitOrder]: SubmitOrder[K];
  } = {
    type: 'SubmitOrder',
    commandId: newCommandId(),
    issuedAt,
    clientOrderId,
    venue: options.venue,
    order: placed,
    source: options.source,
  };
  // The same frozen risk_limits for every order of a replay (frozenCopy): kept, not cloned each time.
  if (options.componentLimits !== undefined) cmd.componentLimits = frozenCopy(options.componentLimits);
  if (options.component !== undefined) cmd.component = options.component;
  if (options.liveConfirmation !== undefined) cmd.liveConfirmation = bindConfirmation(options.liveConfirmation, cmd);
  const frozen = freezeCommand(cmd);
  carryValidity(order, frozen.order);
  return frozen;
}

export type DenialCode =
  | RiskCheckResult['code']
  | 'INVALID_ORDER'
  | 'INVALID_RISK_LIMITS'
  | 'UNSUPPORTED_ORDER'
  | 'DUPLICATE_CLIENT_ORDER_ID'
  | 'QUEUE_FULL'
  | 'UNKNOWN_VENUE'
  | 'VENUE_NOT_CONNECTED'
  | 'QUOTE_UNAVAILABLE'
  | 'LIVE_NOT_CONFIRMED'
  | 'AUDIT_LOG_FAILED'
  | 'ENGINE_CLOSED'
  | 'CANCELLED_BEFORE_SEND'
  /** A state file is damaged, missing or older than the audit log: nothing is sent until `recover`. */
  | 'STATE_DAMAGED';

interface OrderEventBase {
  readonly at: number;
  readonly clientOrderId: string;
  readonly venue: string;
  readonly symbol: string;
  /** The order's state after the event. */
  readonly state: OrderState;
}

export type EngineEvent =
  | (OrderEventBase & {
      readonly type: 'OrderSubmitted';
      readonly commandId: string;
      readonly order: PlacedOrderRequest;
      readonly risk: readonly RiskCheckResult[];
    })
  | (OrderEventBase & {
      readonly type: 'OrderDenied';
      readonly commandId: string;
      readonly code: DenialCode;
      readonly reason: string;
      readonly risk: readonly RiskCheckResult[];
      readonly order: unknown;
    })
  | (OrderEventBase & { readonly type: 'OrderAccepted'; readonly venueOrderId: string })
  | (OrderEventBase & { readonly type: 'OrderUnconfirmed'; readonly reason: string })
  | (OrderEventBase & {
      readonly type: 'OrderPartiallyFilled' | 'OrderFilled';
      readonly fill: Fill;
      readonly filledQuantity: number;
      readonly remainingQuantity: number;
      readonly averagePrice: number | null;
      readonly position: number;
    })
  | (OrderEventBase & { readonly type: 'OrderCancelRequested' })
  | (OrderEventBase & { readonly type: 'OrderCancelRejected'; readonly reason: string })
  /** `reason`: when the venue rejected the rest of an order that had traded (it ends CANCELLED, its fills kept). */
  | (OrderEventBase & { readonly type: 'OrderCancelled'; readonly reason?: string })
  | (OrderEventBase & { readonly type: 'OrderExpired' })
  | (OrderEventBase & { readonly type: 'OrderRejected'; readonly reason: string })
  /** An order whose fate was unknown and which the venue's own rules prove never reached it (final, REJECTED). */
  | (OrderEventBase & { readonly type: 'OrderNeverArrived'; readonly reason: string })
  /** A state file could not be written; trading halts (the audit log still holds everything). */
  | { readonly type: 'StateSaveFailed'; readonly at: number; readonly file: string; readonly message: string }
  /** A state file found damaged, missing or older than the audit log on open: trading is refused until `recover`. */
  | { readonly type: 'StateDamaged'; readonly at: number; readonly file: string; readonly problem: string }
  | {
      readonly type: 'TransitionRefused';
      readonly at: number;
      readonly clientOrderId: string;
      readonly venue: string;
      readonly code: string;
      readonly message: string;
    }
  | { readonly type: 'ExternalOrderFound'; readonly at: number; readonly venue: string; readonly order: OrderResponse }
  | {
      readonly type: 'PositionsReconciled';
      readonly at: number;
      readonly venue: string;
      readonly differences: ReadonlyArray<{ symbol: string; engine: number; venue: number }>;
    }
  | {
      readonly type: 'TradingStateChanged';
      readonly at: number;
      readonly from: TradingStateName;
      readonly to: TradingStateName;
      readonly reason: string;
      readonly source: string;
      /** When a circuit breaker's halt ends by itself (ms since epoch), if it does. */
      readonly resumeAt?: number;
      /** What a halt for risk settings that are not valid took the place of, to come back when it ends. */
      readonly covers?: {
        readonly state: TradingStateName;
        readonly reason: string;
        readonly source: string;
        readonly since: number;
        readonly resumeAt: number | null;
      };
      /** Why the record is late: a change the trading state file held alone, recorded on the next open. */
      readonly note?: string;
    }
  | {
      readonly type: 'VenueError';
      readonly at: number;
      readonly venue: string;
      readonly operation: string;
      readonly reason: string;
      readonly message: string;
    };

export type EngineEventType = EngineEvent['type'];
