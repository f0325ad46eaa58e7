/**
 * The one interface every venue implements (the design's `BrokerAPI`, plus what an engine needs
 * to reconcile and to show positions). Errors are thrown as `BrokerError`; a venue's refusal of
 * a well-formed order is not an error but a `rejected` status in the returned response.
 */
import type {
  AccountInfo,
  Fill,
  InstrumentKind,
  InstrumentRules,
  OrderResponse,
  OrderTypeName,
  PlacedOrderRequest,
  Position,
  Quote,
  TimeInForceName,
} from '../orders/model';

export type BrokerEnvironment = 'paper' | 'practice' | 'testnet' | 'live';

export interface BrokerCapabilities {
  orderTypes: Readonly<Record<OrderTypeName, boolean>>;
  timeInForce: Readonly<Record<TimeInForceName, boolean>>;
  /** Combinations refused before sending, with the reason the user can act on. */
  unsupported?: ReadonlyArray<{ orderType?: OrderTypeName; timeInForce?: TimeInForceName; reason: string }>;
  fractionalQuantity: boolean;
  shortSelling: boolean;
  cancelReplace: boolean;
  /** What of a trailing stop the venue takes natively, when `orderTypes.trailing_stop` is true. */
  trailingStop?: TrailingStopCapability;
}

/**
 * A venue's own trailing stop for a quantity, standing alone (not tied to a position or a trade): per way
 * of trailing, `true` when the venue takes it, else why it does not (the engine then emulates the stop
 * locally and says that reason).
 */
export interface TrailingStopCapability {
  byOffset: true | string;
  byBps: true | string;
  /** Set when the venue trails by whole basis points only: why a fraction of one is emulated. */
  wholeBpsOnly?: string;
  /** Instrument kinds the venue takes no trailing stop for, with why. */
  notFor?: Partial<Record<InstrumentKind, string>>;
}

/** A trailing stop as a parent asks for it: by a price distance or by basis points, maybe from an activation price. */
export interface TrailingStopWanted {
  trailOffset?: number | undefined;
  trailBps?: number | undefined;
  activationPrice?: number | undefined;
  kind: InstrumentKind;
}

/**
 * Why this venue cannot carry this trailing stop as its own order (the engine emulates it), or undefined
 * when it can. The venue's reasons come first: they name what it does have.
 */
export function trailingStopEmulationReason(
  capabilities: BrokerCapabilities,
  wanted: TrailingStopWanted,
  venue: string,
): string | undefined {
  const refused = unsupportedReason(capabilities, 'trailing_stop', 'GTC', venue);
  if (refused !== undefined) return refused;
  const cap = capabilities.trailingStop;
  if (cap === undefined) return `${venue} does not say which trailing stops it takes`;
  const notFor = cap.notFor?.[wanted.kind];
  if (notFor !== undefined) return notFor;
  if (wanted.trailOffset !== undefined && cap.byOffset !== true) return cap.byOffset;
  if (wanted.trailBps !== undefined) {
    if (cap.byBps !== true) return cap.byBps;
    if (cap.wholeBpsOnly !== undefined && !Number.isInteger(wanted.trailBps)) return cap.wholeBpsOnly;
  }
  if (wanted.activationPrice !== undefined)
    return `an activation price is watched locally (SPtrader sends none to ${venue}), so the whole stop is emulated`;
  return undefined;
}

/**
 * One event in an order's life at a venue, emitted once. With `fill`: one new fill (its `fill_id`
 * stable: the venue's own, or `<order id>:<cumulative quantity>` when the venue lists none, see
 * `orderTracker.ts`), and `order` as it stands just after it (`partially_filled` or `filled`).
 * Without: a change of state (pending, submitted, cancelled, expired, rejected), after the fills that
 * came with it. States never go back and nothing follows a final one but a late fill. Polled venues
 * emit through `OrderTracker`; streaming ones (IB's reports also pass through it, paper) the same way.
 */
export interface OrderUpdate {
  order: OrderResponse;
  /** The fill this update reports, when it reports one. */
  fill?: Fill;
}

export interface Disposable {
  dispose(): void;
}

/** What a caller knows of an order it looks up by client order id. */
export interface OrderLookupHint {
  readonly symbol?: string;
  /**
   * The caller's last view of the order (the engine's, saved across a restart): what a venue answer that names the
   * order final without its details (Binance -2026 ORDER_ARCHIVED) ends, when this session's adapter never saw it.
   */
  readonly last?: OrderResponse;
}

export interface BrokerApi {
  readonly id: string;
  readonly displayName: string;
  readonly environment: BrokerEnvironment;
  readonly capabilities: BrokerCapabilities;
  /**
   * When set: an order looked up by client order id and not found, whose submit was first sent more
   * than this many milliseconds ago (by our clock), never reached the venue and never will; the engine
   * may then conclude 'never arrived'. Unset: absence proves nothing (the order may still be in flight).
   */
  readonly absenceConclusiveAfterMs?: number;

  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;

  /** Sends an order. Resolves with the venue's view right after acceptance (it may already be filled). */
  submitOrder(order: PlacedOrderRequest): Promise<OrderResponse>;
  cancelOrder(orderId: string): Promise<void>;
  getOrderStatus(orderId: string): Promise<OrderResponse>;
  /**
   * Looks an order up by the id we gave it; `undefined` when the venue never saw it. `hint` is what the
   * caller knows of the order (its symbol), for venues that cannot look an id up without it (Binance).
   */
  getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined>;
  listOpenOrders(): Promise<OrderResponse[]>;
  getAccountInfo(): Promise<AccountInfo>;
  getPositions(): Promise<Position[]>;
  getQuote(symbol: string): Promise<Quote>;
  /** Tick, lot and minimum for a symbol, so orders can be checked and snapped before sending. */
  getInstrument(symbol: string): Promise<InstrumentRules>;
  /** Every change to an order (acceptance, fill, cancel, expiry) in the order the venue made it. */
  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable;
  /**
   * An in-process venue's answers within the call (`ImmediateVenue`), or undefined while they must take the promise
   * way (a fault switched on, not connected). Unset for venues across a network.
   */
  immediate?(): ImmediateVenue | undefined;
}

/** What the pre-trade checks read of an account: its buying power, in its currency. */
export type AccountFunds = Pick<AccountInfo, 'buying_power' | 'currency'>;

/**
 * What an in-process venue (the paper venue) answers within the call: exactly what `getQuote`, `getAccountInfo` (the
 * part the checks read: `funds`) and `submitOrder` would resolve with (or throw what they would reject with), without a
 * promise or a turn of the event loop each. The engine checks and sends a paper order in one synchronous stretch with it.
 */
export interface ImmediateVenue {
  quote(symbol: string): Quote;
  /** `getAccountInfo`'s buying power and currency, without marking every position into rows nobody reads here. */
  funds(): AccountFunds;
  submit(order: PlacedOrderRequest): OrderResponse;
}

/** Why the venue would refuse this combination before anything is sent, or undefined. */
export function unsupportedReason(
  capabilities: BrokerCapabilities,
  orderType: OrderTypeName,
  timeInForce: TimeInForceName,
  venue: string,
): string | undefined {
  // The venue's own reasons first: they say what to do instead.
  for (const rule of capabilities.unsupported ?? []) {
    if (
      (rule.orderType === undefined || rule.orderType === orderType) &&
      (rule.timeInForce === undefined || rule.timeInForce === timeInForce)
    )
      return rule.reason;
  }
  if (!capabilities.orderTypes[orderType]) return `${venue} does not accept ${orderType.replace('_', '-')} orders`;
  if (!capabilities.timeInForce[timeInForce]) return `${venue} does not accept time in force ${timeInForce}`;
  return undefined;
}

/**
 * The listeners of one venue's `onOrderUpdate`: each update goes to every listener registered when it
 * was emitted, and a listener that throws is reported, never allowed to stop the others (or undo the
 * venue's change).
 */
export class OrderUpdateListeners {
  private listeners: Array<(update: OrderUpdate) => void> = [];

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  add(listener: (update: OrderUpdate) => void): Disposable {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }

  emit(update: OrderUpdate): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(update);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }
}

/** A venue that answers as `inner` does except for what `overrides` replaces (its id, its update stream…). */
export function delegatingBroker(
  inner: BrokerApi,
  overrides: Partial<Pick<BrokerApi, 'id' | 'displayName' | 'onOrderUpdate'>> & {
    /**
     * Keep the inner venue's scratch copy (the paper venue's `scratchCopy`, under the same id): for a paper profile,
     * whose Test Order fills on a copy of its account as the built-in paper venue's does. Off by default: a wrapper
     * standing in for another account (a practice or live one, in tests) must not turn into a copy.
     */
    keepScratchCopy?: boolean;
  },
): BrokerApi {
  const renamed: BrokerApi = {
    id: overrides.id ?? inner.id,
    displayName: overrides.displayName ?? inner.displayName,
    environment: inner.environment,
    capabilities: inner.capabilities,
    ...(inner.absenceConclusiveAfterMs === undefined
      ? {}
      : { absenceConclusiveAfterMs: inner.absenceConclusiveAfterMs }),
    connect: () => inner.connect(),
    disconnect: () => inner.disconnect(),
    isConnected: () => inner.isConnected(),
    submitOrder: (o) => inner.submitOrder(o),
    cancelOrder: (id) => inner.cancelOrder(id),
    getOrderStatus: (id) => inner.getOrderStatus(id),
    getOrderByClientId: (id, hint) => inner.getOrderByClientId(id, hint),
    listOpenOrders: () => inner.listOpenOrders(),
    getAccountInfo: () => inner.getAccountInfo(),
    getPositions: () => inner.getPositions(),
    getQuote: (s) => inner.getQuote(s),
    getInstrument: (s) => inner.getInstrument(s),
    onOrderUpdate: overrides.onOrderUpdate ?? ((listener) => inner.onOrderUpdate(listener)),
    // No `immediate`: a caller that spreads this and replaces `submitOrder` (a wrapper that counts or delays what is
    // sent) would be bypassed by it; the renamed venue answers through its promises.
  };
  // A venue that keeps its account in a file of the state folder (a paper profile's paper-account-<id>.json) stays
  // one under its profile's id, so that the engine checks that file against the audit log as it checks the built-in
  // paper account's: renamed without it, a deleted account was a fresh one, and orders went out from it.
  const local = inner as BrokerApi & { accountFile?: unknown; fillsEver?: unknown; reset?: unknown };
  if (typeof local.fillsEver === 'function' && 'accountFile' in local) {
    const fillsEver = local.fillsEver as () => number;
    const reset = local.reset;
    Object.defineProperty(renamed, 'accountFile', { get: () => local.accountFile, enumerable: true });
    Object.assign(renamed, {
      fillsEver: () => fillsEver.call(inner),
      ...(typeof reset === 'function' ? { reset: () => (reset as () => void).call(inner) } : {}),
    });
  }
  const copyable = inner as BrokerApi & { scratchCopy?: unknown };
  if (overrides.keepScratchCopy === true && typeof copyable.scratchCopy === 'function') {
    const scratchCopy = copyable.scratchCopy as () => BrokerApi;
    Object.assign(renamed, {
      scratchCopy: (): BrokerApi =>
        delegatingBroker(scratchCopy.call(inner), { id: renamed.id, displayName: renamed.displayName }),
    });
  }
  return renamed;
}
