/**
 * OANDA v20 REST (practice or live) behind `BrokerApi`, over our keep-alive HTTP client
 * (`../http.ts`, which also enforces `timeoutMs`), with no SDK: `@oanda/v20` is untyped, has no
 * timeout and crashes on a refused connection.
 *
 * This file is the `BrokerApi` over its neighbours: orders.ts (what OANDA accepts, order wire ↔ model, the
 * status table), errors.ts (refusals → `BrokerError`, the error table), market.ts (instruments, prices),
 * account.ts (summary and positions), connection.ts (session, request limit, HTTP exchange, resending),
 * wire.ts (numbers, times, the reply reader) and reissue.ts (an order carried on under a new id). It runs past
 * 450 lines because the state every call shares (the tracker, the read caches, the transactions and instruments
 * seen, the reissues) lives here, and about 40 of them are the contract below.
 *
 * Order mapping (ours → `POST /v3/accounts/{id}/orders` body `{order: …}`); units are signed
 * (negative sells), prices strings at the instrument's displayPrecision, positionFill DEFAULT,
 * clientExtensions.id = our client order id:
 * | ours \ TIF | GTC                 | GTD                              | IOC                 | FOK                 |
 * |------------|---------------------|----------------------------------|---------------------|---------------------|
 * | market     | refused (below)     | refused (below)                  | MARKET, IOC         | MARKET, FOK         |
 * | limit      | LIMIT price, GTC    | LIMIT price, GTD, gtdTime RFC3339 | LIMIT price, IOC   | LIMIT price, FOK    |
 * | stop       | STOP price, GTC     | STOP price, GTD, gtdTime RFC3339 | STOP price, IOC     | STOP price, FOK     |
 * | stop_limit | refused (below)     | refused                          | refused             | refused             |
 *
 * Refused before anything is sent (BrokerError UNSUPPORTED_ORDER; also in `capabilities.unsupported`):
 * - stop-limit: OANDA has none; a STOP with priceBound is cancelled (not rested) when the market
 *   gaps past the bound. Send a stop, or watch the price and send a limit.
 * - market with GTC/GTD: OANDA takes market orders only as FOK or IOC.
 * Also refused locally (INVALID_ORDER, nothing sent, never rounded): a price off displayPrecision,
 * units off tradeUnitsPrecision, below minimumTradeSize or above maximumOrderUnits.
 *
 * Outcomes: a submit or cancel that times out, whose connection drops after it was sent, that gets
 * any 5xx (a plain 500 as much as a gateway's 502/504) or a 2xx body that cannot be read throws with
 * `outcomeUnknown: true` and is never resent: look the order up by client order id
 * (`GET /orders/@{id}`). `POST /orders` has no idempotency key and OANDA's spec does not say whether
 * clientExtensions.id stays unique after an order ends, so a resend is never proven safe by
 * deduplication: only a request OANDA provably did not act on (a 429, or a connection refused
 * before anything was written) is sent again, within `retry` (default 3 attempts, 5 s, Retry-After
 * honoured); when that bound runs out the error is RATE_LIMITED/NETWORK, retryable, never a
 * rejected order. `getOrderByClientId` is undefined only on OANDA's own 404 (ORDER_DOESNT_EXIST);
 * any other failure throws, retryable.
 *
 * Updates: every change the adapter sees (submit reply, cancel, look-ups, listing, and polling of
 * `GET /pendingOrders` every `pollIntervalMs` while an order of ours is working) goes through the order tracker
 * (`../orderTracker.ts`), which emits each change once through `onOrderUpdate`. An order object carries neither fill price nor cancel reason, so the adapter
 * reads its ORDER_FILL / ORDER_CANCEL transaction (`GET /transactions/{id}`, cached) when it ends.
 *
 * Reissues (reissue.ts): when OANDA carries an order's remaining units on as a new order after a partial fill
 * (`orderReissueTransaction` in a submit reply, or an order whose `replacesOrderID` names ours, found by a poll,
 * a listing or a look-up of the order it replaced), the new order IS our order: its views are reported under
 * our order id and client order id with every fill so far, the replaced order is never reported cancelled, and
 * cancelOrder/getOrderStatus go to the order that carries it now.
 *
 * The token is read at `connect()`, sent only in the Authorization header, and redacted from
 * every message this adapter produces; the account id (also in every path) is masked to its last
 * four characters ("…-001") in them.
 */
import type { RetryPolicy } from '../retry';
import { systemClock, type Clock } from '../../common/clock';
import {
  isFinalStatus,
  checkOrderRequest,
  type AccountInfo,
  type InstrumentRules,
  type OrderResponse,
  type PlacedOrderRequest,
  type Position,
  type Quote,
} from '../../orders/model';
import { OrderTracker, synthesisedFillId } from '../orderTracker';
import { lookUpVanishedOrders } from '../vanishedOrders';
import { ReadCache } from '../readCache';
import { toMoney } from '../../common/decimal';
import { Reissues, stillWorking } from './reissue';
import {
  OrderUpdateListeners,
  type BrokerApi,
  type BrokerCapabilities,
  type Disposable,
  type OrderLookupHint,
  type OrderUpdate,
} from '../broker';
import { MissingCredentialError, requireCredential, type CredentialSource } from '../credentials';
import { BrokerError, isBrokerError } from '../errors';
import { accountFromV20, parseSummary, parsePositions, positionsFromV20 } from './account';
import {
  OANDA_LIVE_URL,
  OANDA_PRACTICE_URL,
  sessionFor,
  V20Connection,
  type RequestSpec,
  type Session,
} from './connection';
import { orderDoesNotExist, readErrorBody, rejectReasonOf, unknownSymbol } from './errors';
import { instrumentRules, midOfPrice, parseInstruments, parsePrices, quoteFromV20, type V20Instrument } from './market';
import {
  OANDA_CAPABILITIES,
  cancelFromOrder,
  oandaRefusal,
  orderFromV20,
  fillFromOrder,
  fillOfOrder,
  parseCancelReply,
  parseCancelTransaction,
  parseFillTransaction,
  parseOrderList,
  parseOrderListLines,
  parseOrderReply,
  parseSubmitReply,
  rejectedResponse,
  toV20OrderRequest,
  venueCancelReason,
  type OrderDetails,
  type V20CancelTransaction,
  type V20FillTransaction,
  type V20Order,
} from './orders';

export interface OandaBrokerOptions {
  credentials: CredentialSource;
  /** Default 'practice' (https://api-fxpractice.oanda.com); 'live' is https://api-fxtrade.oanda.com. */
  environment?: 'practice' | 'live';
  /** Overrides the environment's URL (a fake, a proxy). Without a trailing /v3. */
  baseUrl?: string;
  /** Timestamps of local events (a rejection). Default: the system clock. */
  clock?: Clock;
  /** Per request, headers and body; default 10 000. */
  timeoutMs?: number;
  /** Poll pending orders this often while connected and emit their changes; 0 = off. Default 2000. */
  pollIntervalMs?: number;
  /** Client-side limit (OANDA allows about 100–120/s per IP, then 429). Default 50. */
  maxRequestsPerSecond?: number;
  /** Where failures nobody awaits go (a poll, a listener). Default: `process.emitWarning`. Messages are redacted. */
  onError?: (message: string, error: unknown) => void;
  /** Resending of requests OANDA refused unprocessed (429, connection refused); see `RetryPolicy`. */
  retry?: RetryPolicy;
  /** Reuse an account or positions read this long unless an order of ours changed since (`ReadCache`); default 0 (the registry sets 1000). */
  readReuseMs?: number;
}

const TRANSACTIONS_KEPT = 500;
/** Replacements followed in one look-up (a reissue of a reissue …) before the rest waits for the next. */
const REISSUES_FOLLOWED = 8;

export class OandaBroker implements BrokerApi {
  readonly id = 'oanda';
  readonly displayName: string;
  readonly environment: 'practice' | 'live';
  readonly capabilities: BrokerCapabilities = OANDA_CAPABILITIES;

  private readonly baseUrl: string;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly connection: V20Connection;
  private connected = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly listeners = new OrderUpdateListeners((e) =>
    this.reportError(`an OANDA order update listener failed: ${(e as Error).message}`, e),
  );
  private readonly instruments = new Map<string, V20Instrument>();
  /** Turns each view of an order into the updates it brings, once; knows which orders are open. */
  private readonly tracker = new OrderTracker((u) => {
    this.reads.invalidate();
    this.listeners.emit(u);
  });
  /** Account and positions reads, shared while in flight and reused briefly (see `ReadCache`). */
  private readonly reads: ReadCache;
  /** Quotes: identical reads in flight share one request, never reused after. */
  private readonly quotes = new ReadCache(0);
  private readonly transactions = new Map<string, V20FillTransaction | V20CancelTransaction>();
  /** Which venue order carries which of ours after OANDA reissued its remaining units (reissue.ts). */
  private readonly reissues = new Reissues();
  /** OANDA answered that it serves no transaction asked for (said once). */
  private transactionsMissingSaid = false;

  constructor(private readonly options: OandaBrokerOptions) {
    this.environment = options.environment ?? 'practice';
    this.displayName = this.environment === 'live' ? 'OANDA (live)' : 'OANDA (practice)';
    this.baseUrl = (options.baseUrl ?? (this.environment === 'live' ? OANDA_LIVE_URL : OANDA_PRACTICE_URL)).replace(
      /\/+$/,
      '',
    );
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.connection = new V20Connection({
      displayName: this.displayName,
      timeoutMs: this.timeoutMs,
      maxRequestsPerSecond: options.maxRequestsPerSecond ?? 50,
      retry: options.retry,
      clock: this.clock,
    });
    this.reads = new ReadCache(options.readReuseMs ?? 0);
  }

  // --- lifecycle ---

  /** Reads the token and account id, and checks them with `GET /summary`. */
  async connect(): Promise<void> {
    if (this.connected) return;
    let session: Session;
    try {
      const token = await requireCredential(this.options.credentials, 'oanda.token');
      const accountId = await requireCredential(this.options.credentials, 'oanda.accountId');
      session = sessionFor(this.baseUrl, token, accountId);
    } catch (e) {
      if (e instanceof MissingCredentialError)
        throw new BrokerError('AUTHENTICATION', e.message, { retryable: false, cause: e });
      throw e;
    }
    this.connection.open(session);
    try {
      parseSummary(
        await this.connection.request({
          method: 'GET',
          path: '/summary',
          route: 'GET /summary',
          notFound: 'PERMISSION_DENIED',
        }),
      );
    } catch (e) {
      this.connection.forget();
      throw e;
    }
    this.connected = true;
    if (this.pollIntervalMs > 0) {
      this.timer = setInterval(() => void this.pollFromTimer(), this.pollIntervalMs);
      // The adapter must never keep a CLI or the extension host alive on its own.
      this.timer.unref();
    }
  }

  async disconnect(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.connected = false;
    this.connection.close();
  }

  isConnected(): boolean {
    return this.connected;
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.listeners.add(listener);
  }

  // --- orders ---

  async submitOrder(order: PlacedOrderRequest): Promise<OrderResponse> {
    this.ensureConnected();
    const wellFormed = checkOrderRequest(order);
    if (!wellFormed.success || !order.client_order_id) {
      const why = wellFormed.success
        ? 'client_order_id is required'
        : wellFormed.error.issues.map((i) => i.message).join('; ');
      throw new BrokerError('INVALID_ORDER', `SPtrader cannot send this order to OANDA: ${why}`, { retryable: false });
    }
    const refusal = oandaRefusal(order.order_type.type, order.time_in_force.type);
    if (refusal !== undefined) throw new BrokerError('UNSUPPORTED_ORDER', refusal, { retryable: false });
    const body = toV20OrderRequest(order, this.instruments.get(order.symbol) ?? (await this.instrument(order.symbol)));
    this.reads.invalidate();
    const spec: RequestSpec = {
      method: 'POST',
      path: '/orders',
      route: 'POST /orders',
      body: { order: body },
      mutating: true,
    };
    const reply = await this.connection.sendRetrying(spec);
    if (reply.status === 200 || reply.status === 201) {
      const outcome = parseSubmitReply(reply.body, order);
      const seen = this.tracker.observe(outcome.order);
      if (outcome.reissuedAs !== undefined) this.reissues.record(outcome.reissuedAs, seen);
      return seen;
    }
    if (reply.status >= 200 && reply.status < 300)
      throw new BrokerError(
        'BAD_RESPONSE',
        `OANDA answered POST /orders with HTTP ${reply.status}, which it does not document; the order may have been placed: look it up by client order id`,
        {
          outcomeUnknown: true,
          retryable: false,
        },
      );
    const error = readErrorBody(reply.body);
    const rejectReason = rejectReasonOf(error);
    if ((reply.status === 400 || reply.status === 404) && rejectReason !== undefined) {
      if (rejectReason === 'CLIENT_ORDER_ID_ALREADY_EXISTS')
        throw new BrokerError(
          'DUPLICATE_CLIENT_ORDER_ID',
          `OANDA already has an order with client order id ${order.client_order_id}; look it up (getOrderByClientId) instead of sending it again`,
          { retryable: false, venueCode: rejectReason },
        );
      return this.tracker.observe(
        rejectedResponse(
          order,
          { ...error, errorMessage: error.errorMessage && this.connection.redact(error.errorMessage) },
          this.clock.now(),
        ),
      );
    }
    throw this.connection.failure({ method: 'POST', path: '/orders', route: 'POST /orders', mutating: true }, reply);
  }

  async cancelOrder(orderId: string, attempt = 0): Promise<void> {
    this.ensureConnected();
    // Our order's remaining units may work under a reissued order now: that one is cancelled.
    const venueId = this.reissues.venueIdOf(orderId);
    const spec = encodeURIComponent(venueId);
    const route = {
      method: 'PUT',
      path: `/orders/${spec}/cancel`,
      route: 'PUT /orders/{spec}/cancel',
      mutating: true,
    } as const;
    this.reads.invalidate();
    const reply = await this.connection.sendRetrying(route);
    if (reply.status === 404) {
      // Unknown, or no longer pending: tell the two apart (and report a fill that beat the cancel).
      const now = await this.lookUp(spec);
      if (now && isFinalStatus(now.status))
        throw new BrokerError(
          'INVALID_ORDER',
          `order ${orderId} is already ${now.status.status} and cannot be cancelled`,
          { retryable: false },
        );
      // Reissued meanwhile: the look-up found the order carrying the rest, which is cancelled instead.
      if (now && this.reissues.venueIdOf(orderId) !== venueId && attempt < REISSUES_FOLLOWED)
        return this.cancelOrder(orderId, attempt + 1);
      throw this.connection.failure({ ...route, notFound: 'ORDER_NOT_FOUND' }, reply);
    }
    if (reply.status !== 200 && reply.status !== 201)
      throw this.connection.failure({ ...route, notFound: 'ORDER_NOT_FOUND' }, reply);
    let cancel: V20CancelTransaction;
    try {
      cancel = parseCancelReply(reply.body);
    } catch (e) {
      // OANDA answered 2xx: the cancel was most likely applied, but the reply does not show it.
      const message = e instanceof Error ? e.message : String(e);
      throw new BrokerError(
        'BAD_RESPONSE',
        this.connection.redact(`${message}; the cancel of order ${orderId} may have been applied: look the order up`),
        {
          outcomeUnknown: true,
          retryable: false,
          cause: e,
        },
      );
    }
    this.remember(cancel);
    const last = this.tracker.last(this.reissues.ourIdOf(cancel.orderID));
    if (last && !isFinalStatus(last.status)) {
      this.tracker.observe({
        ...last,
        status: { status: 'cancelled' },
        timestamp: Math.max(last.timestamp, cancel.time),
      });
    } else {
      // Not seen before (placed elsewhere or before a restart): read the whole order to report it.
      await this.lookUp(encodeURIComponent(cancel.orderID)).catch((e: unknown) =>
        this.reportError(`could not read cancelled order ${cancel.orderID}`, e),
      );
    }
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    this.ensureConnected();
    const found = await this.lookUp(encodeURIComponent(this.reissues.venueIdOf(orderId)));
    if (!found)
      throw new BrokerError('ORDER_NOT_FOUND', `OANDA has no order ${orderId} that SPtrader can read`, {
        retryable: false,
      });
    return found;
  }

  /**
   * Undefined only on OANDA's own 404 for the order (ORDER_DOESNT_EXIST); any other failure (5xx,
   * timeout, reset, an unreadable body) throws a retryable error, since it proves nothing.
   */
  async getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined> {
    this.ensureConnected();
    try {
      const found = await this.lookUp(`@${encodeURIComponent(clientOrderId)}`);
      // Not under our client order id: one OANDA acknowledged (the caller's last view names its OANDA id) may have had
      // its client extensions changed since (PUT /orders/{spec}/clientExtensions): it is looked up by that id, as ours.
      const last = hint?.last;
      if (found !== undefined || last?.client_order_id !== clientOrderId || !/^\d+$/.test(last.order_id)) return found;
      return await this.lookUp(encodeURIComponent(last.order_id), undefined, 0, last);
    } catch (e) {
      if (
        e instanceof BrokerError &&
        !e.retryable &&
        e.reason !== 'AUTHENTICATION' &&
        e.reason !== 'PERMISSION_DENIED' &&
        e.reason !== 'NOT_CONNECTED'
      )
        throw new BrokerError(
          e.reason,
          `${e.message}; the look-up of client order id ${clientOrderId} failed, which says nothing about the order`,
          {
            retryable: true,
            venueCode: e.venueCode,
            cause: e,
          },
        );
      throw e;
    }
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    this.ensureConnected();
    const orders = parseOrderList(
      await this.connection.request({ method: 'GET', path: '/pendingOrders', route: 'GET /pendingOrders' }),
    );
    const out: OrderResponse[] = [];
    for (const o of orders) {
      const seen = await this.observeListed(o);
      if (seen) out.push(seen);
    }
    return out;
  }

  // --- account and market ---

  async getAccountInfo(): Promise<AccountInfo> {
    this.ensureConnected();
    return this.reads.read('account', async () => {
      const summary = parseSummary(
        await this.connection.request({
          method: 'GET',
          path: '/summary',
          route: 'GET /summary',
          notFound: 'PERMISSION_DENIED',
        }),
      );
      return accountFromV20(summary, await this.getPositions());
    });
  }

  async getPositions(): Promise<Position[]> {
    this.ensureConnected();
    return this.reads.read('positions', () => this.readPositions());
  }

  private async readPositions(): Promise<Position[]> {
    const list = parsePositions(
      await this.connection.request({
        method: 'GET',
        path: '/openPositions',
        route: 'GET /openPositions',
        notFound: 'PERMISSION_DENIED',
      }),
    );
    const mids = new Map<string, number>();
    if (list.length > 0) {
      const names = list.map((p) => encodeURIComponent(p.instrument)).join(',');
      const prices = parsePrices(
        await this.connection.request({
          method: 'GET',
          path: `/pricing?instruments=${names}`,
          route: 'GET /pricing',
          badRequest: 'UNKNOWN_SYMBOL',
        }),
      );
      for (const p of prices) {
        const mid = midOfPrice(p);
        if (mid !== undefined) mids.set(p.instrument, mid);
      }
    }
    return positionsFromV20(list, mids);
  }

  async getQuote(symbol: string): Promise<Quote> {
    this.ensureConnected();
    return this.quotes.read(symbol, () => this.readQuote(symbol));
  }

  private async readQuote(symbol: string): Promise<Quote> {
    const prices = parsePrices(
      await this.connection.request({
        method: 'GET',
        path: `/pricing?instruments=${encodeURIComponent(symbol)}`,
        route: 'GET /pricing',
        badRequest: 'UNKNOWN_SYMBOL',
      }),
    );
    const price = prices.find((p) => p.instrument === symbol);
    if (!price) throw unknownSymbol(symbol);
    return quoteFromV20(price, this.clock.now());
  }

  /** From `GET /instruments`, cached for the life of the adapter. */
  async getInstrument(symbol: string): Promise<InstrumentRules> {
    this.ensureConnected();
    return instrumentRules(await this.instrument(symbol));
  }

  /** Checks pending orders now and emits what changed (the timer calls this while connected). */
  async poll(): Promise<void> {
    this.ensureConnected();
    // Polling follows our working orders; orders placed elsewhere are found by listOpenOrders (reconcile).
    if (this.polling || this.tracker.openOrderIds().length === 0) return;
    this.polling = true;
    try {
      const lines = parseOrderListLines(
        await this.connection.request({ method: 'GET', path: '/pendingOrders', route: 'GET /pendingOrders' }),
      );
      const stillPending = new Set<string>();
      for (const line of lines) {
        // One line that cannot be read (or cannot be right) is said, and the others are still followed.
        try {
          if ('error' in line) throw line.error;
          const o = line.order;
          stillPending.add(o.id);
          const seen = await this.observeListed(o);
          // The order of ours it carries on is still working.
          if (seen) stillPending.add(seen.order_id);
        } catch (e) {
          if ('error' in line && line.id !== undefined) stillPending.add(line.id);
          const id = 'error' in line ? (line.id ?? '(without an id)') : line.order.id;
          this.reportError(
            `OANDA: pending order ${id} could not be read; the other orders are followed: ${(e as Error).message}`,
            e,
          );
        }
      }
      // Orders that left the pending list ended somehow: each is asked how.
      await lookUpVanishedOrders(this.tracker, stillPending, {
        lookUp: async (id) =>
          (await this.lookUp(encodeURIComponent(this.reissues.venueIdOf(id)))) === undefined ? 'gone' : 'seen',
        // OANDA asked for quiet: the rest waits for the next poll.
        endsRound: (e) => isBrokerError(e) && e.reason === 'RATE_LIMITED',
        report: (id, e) =>
          this.reportError(
            `OANDA: looking up order ${id}, which left the pending list, failed (asked again at the next poll): ${(e as Error).message}`,
            e,
          ),
      });
    } finally {
      this.polling = false;
    }
  }

  // --- internals: orders ---

  /**
   * A listed order (pending orders, a poll) through the tracker: as our order when it carries one of ours on (a
   * reissue of its remaining units), first looking up the order it replaces when that one is ours and its fills
   * are not all known yet. Returns the view observed (as ours), or undefined for an order type we do not map.
   */
  private async observeListed(o: V20Order): Promise<OrderResponse | undefined> {
    let ourId = this.carriedOn(o, o.replacesOrderID);
    if (
      ourId === undefined &&
      o.replacesOrderID !== undefined &&
      (this.follows(o.replacesOrderID) || this.tracker.last(o.id) === undefined)
    ) {
      // The order it replaces is read (its fill, then on to this one), which records the replacement: also when
      // neither is known yet (a reconciliation after a restart), so the remainder shows as the order first placed.
      await this.lookUp(encodeURIComponent(o.replacesOrderID));
      ourId = this.carriedOn(o, o.replacesOrderID);
      if (ourId !== undefined) return this.tracker.last(ourId);
    }
    const key = ourId ?? o.id;
    const mapped = orderFromV20(o, {}, this.tracker.last(key));
    if (!mapped) return undefined;
    const ours = ourId === undefined ? undefined : this.tracker.last(ourId);
    return this.tracker.observe(ours ? this.reissues.asOurs(mapped, ours) : mapped);
  }

  /** Whether `venueId` is (or carries on) an order of ours that is still working. */
  private follows(venueId: string): boolean {
    const ours = this.tracker.last(this.reissues.ourIdOf(venueId));
    return ours !== undefined && !isFinalStatus(ours.status);
  }

  /**
   * The id of our order venue order `o` carries on, or undefined when it carries none: known already, or a new
   * order replacing `replacedId` (ours, or a replacement of ours; `replaced` is its view just read, when it was)
   * for exactly our order's remaining units on the same instrument, side and price (a reissue after a partial
   * fill; an order replaced with other terms is its own).
   */
  private carriedOn(o: V20Order, replacedId: string | undefined, replaced?: OrderResponse): string | undefined {
    const known = this.reissues.ourIdOf(o.id);
    if (known !== o.id) return known;
    if (replacedId === undefined || o.units === undefined || o.instrument === undefined) return undefined;
    const ours = replaced ?? this.tracker.last(this.reissues.ourIdOf(replacedId));
    if (!ours || isFinalStatus(ours.status) || ours.symbol !== o.instrument || o.units < 0 !== (ours.side === 'sell'))
      return undefined;
    // Another type (a limit replaced by a stop at the same price) is another order: it fills where ours would not.
    const type = o.type === 'LIMIT' ? 'limit' : o.type === 'STOP' ? 'stop' : o.type === 'MARKET' ? 'market' : undefined;
    if (type !== ours.order_type.type) return undefined;
    if (toMoney(Math.abs(o.units)) + toMoney(ours.filled_quantity ?? 0) !== toMoney(ours.quantity)) return undefined;
    const price = 'price' in ours.order_type ? ours.order_type.price : undefined;
    if (price !== undefined && o.price !== undefined && toMoney(o.price) !== toMoney(price)) return undefined;
    this.reissues.record(o.id, ours);
    return ours.order_id;
  }

  /** `GET /orders/{spec}` with its fill or cancel transaction; undefined on 404 or an order type we do not map. */
  private async lookUp(
    spec: string,
    replacing?: { id: string; view: OrderResponse },
    depth = 0,
    /** The caller's last view of the order asked for by its OANDA id (after a restart): it is ours. */
    known?: OrderResponse,
  ): Promise<OrderResponse | undefined> {
    const reply = await this.connection.sendRetrying({
      method: 'GET',
      path: `/orders/${spec}`,
      route: 'GET /orders/{spec}',
    });
    if (reply.status === 404 && orderDoesNotExist(reply.body)) return undefined;
    if (reply.status !== 200)
      throw this.connection.failure(
        { method: 'GET', path: `/orders/${spec}`, route: 'GET /orders/{spec}', notFound: 'ORDER_NOT_FOUND' },
        reply,
      );
    const order = parseOrderReply(reply.body);
    // The order asked for, by id or by `@clientId` (the spec is URL-encoded).
    const byClientId = spec.startsWith('@');
    const asked = decodeURIComponent(byClientId ? spec.slice(1) : spec);
    if (byClientId ? order.clientExtensions?.id !== asked : order.id !== asked)
      throw new BrokerError(
        'BAD_RESPONSE',
        `OANDA answered a look-up of ${byClientId ? 'client order id' : 'order'} ${asked} with order ${order.id} ` +
          `(client order id ${order.clientExtensions?.id ?? 'none'}); none of it was applied: look the order up again`,
        { retryable: true },
      );
    // A reissue of our order's remaining units (found by its predecessor, or naming it) is read as our order.
    let ourId = this.carriedOn(order, order.replacesOrderID ?? replacing?.id, replacing?.view) ?? order.id;
    if (
      ourId === order.id &&
      order.replacesOrderID !== undefined &&
      replacing === undefined &&
      this.tracker.last(order.id) === undefined &&
      depth < REISSUES_FOLLOWED
    ) {
      // A replacement seen before the order it replaces (a submit whose reply was lost, found by client order id):
      // the order it replaces is read first, which follows on to this one and records it when it is a reissue.
      await this.lookUp(encodeURIComponent(order.replacesOrderID), undefined, depth + 1);
      ourId = this.reissues.ourIdOf(order.id);
    }
    const before = this.tracker.last(ourId) ?? (known?.order_id === order.id ? known : undefined);
    const details = await this.details(order);
    const own = orderFromV20(order, details, before);
    // Our order as it stood before this replacement: tracked, or just read from the order this one replaces.
    const ours = ourId === order.id ? undefined : (before ?? replacing?.view);
    let mapped = own && ours ? this.reissues.asOurs(own, ours) : own;
    const next = order.replacedByOrderID;
    if (
      mapped &&
      next !== undefined &&
      (order.state === 'CANCELLED' || order.state === 'FILLED') &&
      (before === undefined || !isFinalStatus(before.status)) &&
      depth < REISSUES_FOLLOWED
    ) {
      // Replaced: its fills stand and the order goes on under `next` (looked up now, recorded on the way).
      const working = stillWorking(mapped);
      const after = await this.lookUp(encodeURIComponent(next), { id: order.id, view: working }, depth + 1);
      if (this.reissues.ourIdOf(next) !== next) return after ?? this.tracker.observe(working);
      // `next` is not a reissue of its remaining units (replaced with other terms): this order ended here, and says
      // so (OANDA's CLIENT_REQUEST_REPLACED reads as a cancel the client asked for, which the user did not).
      if (mapped.status.status === 'cancelled')
        mapped = {
          ...mapped,
          status: {
            status: 'cancelled',
            reason:
              `REPLACED: OANDA replaced order ${order.id} by order ${next}` +
              `${after ? ` (${after.order_type.type} ${after.quantity} ${after.symbol})` : ''}, which is another ` +
              `order: followed as an order of its own`,
          },
        };
    }
    // Our status has no room for why: a working order OANDA cancelled itself (a stop triggered without the
    // margin to fill it, …) is `cancelled`, and OANDA's reason is said here, once, as it happens.
    const why = venueCancelReason(details.cancel?.reason);
    if (mapped && why !== undefined && mapped.status.status === 'cancelled' && before && !isFinalStatus(before.status))
      this.reportError(
        `OANDA cancelled order ${order.id} (client order id ${mapped.client_order_id}) itself: ${why}`,
        undefined,
      );
    return mapped && this.tracker.observe(mapped);
  }

  private async details(o: V20Order): Promise<OrderDetails> {
    const details: OrderDetails = {};
    if (o.fillingTransactionID !== undefined && o.state !== 'PENDING') {
      const tx = await this.transactionIfServed(o.fillingTransactionID, 'fill', o.id);
      if (tx?.type === 'ORDER_FILL') details.fill = tx;
      else if (tx === undefined) {
        const fill = fillFromOrder(o, o.fillingTransactionID);
        if (fill) details.fill = fill;
      }
    } else if (o.state === 'FILLED' && o.units !== undefined) {
      // FILLED without the transaction that filled it (the spec provides fillingTransactionID on FILLED orders; a
      // venue that leaves it out): all its units at its own price, under the id of a fill known from cumulative
      // figures (so a fill OANDA lists later is not counted again).
      const fill = fillFromOrder(o, synthesisedFillId(o.id, Math.abs(o.units)));
      if (fill) details.fill = fill;
    }
    if (o.cancellingTransactionID !== undefined && o.state === 'CANCELLED') {
      const tx = await this.transactionIfServed(o.cancellingTransactionID, 'cancel', o.id);
      if (tx?.type === 'ORDER_CANCEL') details.cancel = tx;
      else if (tx === undefined) {
        const cancel = cancelFromOrder(o, o.cancellingTransactionID);
        if (cancel) details.cancel = cancel;
      }
      // An IOC cancelled for the rest may have filled in part, and name no filling transaction (Order Definitions:
      // fillingTransactionID "only provided when the Order's state is FILLED"): for an order whose submit reply was
      // not seen (lost, or placed before a restart), its fill is looked for between its creation and its cancel.
      // So may an order replaced by a reissue of its remaining units (it was filled in part first).
      if (
        details.fill === undefined &&
        ((o.timeInForce === 'IOC' && this.tracker.last(o.id) === undefined) || o.replacedByOrderID !== undefined)
      ) {
        const fill = await this.fillBetween(o.id, o.cancellingTransactionID).catch((e: unknown) => {
          this.reportError(
            `OANDA: could not read the transactions of cancelled IOC order ${o.id} for a fill before its cancel ` +
              `(${e instanceof Error ? e.message : String(e)}): a part it filled is not counted`,
            e,
          );
          return undefined;
        });
        if (fill) details.fill = fill;
      }
    }
    return details;
  }

  /**
   * The ORDER_FILL of order `orderId` among the transactions from its creation (an order's id is the id of the
   * transaction that created it) to `untilId` (GET /transactions/idrange, "Get a range of Transactions for an
   * Account based on the Transaction IDs", filtered to ORDER_FILL), or undefined.
   */
  private async fillBetween(orderId: string, untilId: string): Promise<V20FillTransaction | undefined> {
    if (!/^\d{1,18}$/.test(orderId) || !/^\d{1,18}$/.test(untilId)) return undefined;
    const from = BigInt(orderId);
    const to = BigInt(untilId);
    // One batch of transactions (create, fill, cancel) lies within a few ids; a wider span is not this order's.
    if (to <= from || to - from > 1000n) return undefined;
    const body = await this.connection.request({
      method: 'GET',
      path: `/transactions/idrange?from=${orderId}&to=${untilId}&type=ORDER_FILL`,
      route: 'GET /transactions/idrange',
    });
    const fill = fillOfOrder(body, orderId);
    if (fill) this.remember(fill);
    return fill;
  }

  /**
   * `transaction`, or undefined (said once) when OANDA answers that it has no such transaction or route (404, 405):
   * a venue serving only the order routes (brokers.md §5's minimal server has no /transactions). The order is then
   * read from the order object alone, never left working for ever.
   */
  private async transactionIfServed(
    id: string,
    kind: 'fill' | 'cancel',
    orderId: string,
  ): Promise<V20FillTransaction | V20CancelTransaction | undefined> {
    try {
      return await this.transaction(id, kind);
    } catch (e) {
      const absent = isBrokerError(e) && (e.venueCode === 404 || e.venueCode === 405 || e.reason === 'ORDER_NOT_FOUND');
      if (!absent) throw e;
      if (!this.transactionsMissingSaid) {
        this.transactionsMissingSaid = true;
        this.reportError(
          `OANDA did not give ${kind} transaction ${id} of order ${orderId} (${e.message}): orders are read from the ` +
            `order alone (a fill at the order's own price, a cancel's reason from its times)`,
          e,
        );
      }
      return undefined;
    }
  }

  private async transaction(id: string, kind: 'fill' | 'cancel'): Promise<V20FillTransaction | V20CancelTransaction> {
    const cached = this.transactions.get(id);
    if (cached) return cached;
    const body = await this.connection.request({
      method: 'GET',
      path: `/transactions/${encodeURIComponent(id)}`,
      route: 'GET /transactions/{id}',
    });
    const tx = kind === 'fill' ? parseFillTransaction(body) : parseCancelTransaction(body);
    this.remember(tx);
    return tx;
  }

  private remember(tx: V20FillTransaction | V20CancelTransaction): void {
    this.transactions.set(tx.id, tx);
    if (this.transactions.size > TRANSACTIONS_KEPT)
      this.transactions.delete(this.transactions.keys().next().value as string);
  }

  private async pollFromTimer(): Promise<void> {
    if (!this.connected) return;
    try {
      await this.poll();
    } catch (e) {
      this.reportError(`OANDA order polling failed: ${(e as Error).message}`, e);
    }
  }

  private reportError(message: string, error: unknown): void {
    const text = this.connection.redact(message);
    if (this.options.onError) this.options.onError(text, error);
    else process.emitWarning(text);
  }

  private async instrument(symbol: string): Promise<V20Instrument> {
    const cached = this.instruments.get(symbol);
    if (cached) return cached;
    const list = parseInstruments(
      await this.connection.request({
        method: 'GET',
        path: `/instruments?instruments=${encodeURIComponent(symbol)}`,
        route: 'GET /instruments',
        badRequest: 'UNKNOWN_SYMBOL',
      }),
    );
    for (const i of list) this.instruments.set(i.name, i);
    const found = this.instruments.get(symbol);
    if (!found) throw unknownSymbol(symbol);
    return found;
  }

  private ensureConnected(): void {
    if (!this.connected)
      throw new BrokerError('NOT_CONNECTED', `not connected to ${this.displayName}: call connect() first`, {
        retryable: false,
      });
  }
}
