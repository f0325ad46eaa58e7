/**
 * Interactive Brokers through the TWS / IB Gateway socket API (`@stoqey/ib`, loaded lazily in
 * `connect()` so the extension never pays for it unless IB is used).
 *
 * This file is the `BrokerApi` over its neighbours: orders.ts (what IB accepts, order wire ↔ model, status),
 * orderRegistry.ts (our orders, kept current by TWS's events), errors.ts (TWS message codes → `BrokerError`),
 * market.ts (symbols ↔ contracts, static rules, snapshot quotes), account.ts (account summary, positions) and
 * connection.ts (loading `@stoqey/ib`, the handshake, waiting for an answer). It runs past 450 lines because
 * placing and cancelling an order on a socket are each a small state machine over TWS's events (about 170
 * lines together, clearer read beside the socket's lifecycle than apart), and about 50 are the contract below.
 *
 * Where TWS listens (always passed explicitly: `@stoqey/ib` would otherwise read IB_HOST/IB_PORT
 * from the environment and from a `.env` file in the working directory):
 * | app        | paper | live |
 * |------------|-------|------|
 * | TWS        | 7497  | 7496 |
 * | IB Gateway | 4002  | 4001 |
 * The default is 127.0.0.1:7497 (TWS paper); `environment: 'live'` only changes the default port to 7496.
 *
 * Mapping (details in `orders.ts` and `market.ts`, the status table in `orders.ts`, error codes in `errors.ts`):
 * | ours                         | IB                                                                 |
 * |------------------------------|--------------------------------------------------------------------|
 * | market / limit / stop / stop_limit | `MKT` / `LMT` (lmtPrice) / `STP` (auxPrice) / `STP LMT` (lmtPrice + auxPrice) |
 * | GTC / IOC / FOK / GTD        | `tif` GTC / IOC / FOK / GTD + `goodTillDate` "yyyyMMdd HH:mm:ss UTC" |
 * | client_order_id              | `orderRef` (free text, not a venue key: the adapter keeps the index) |
 * | order_id                     | the TWS `orderId` (from `reqIds` → `nextValidId`), as a string      |
 * | EUR_USD / AAPL / BTCUSD      | CASH EUR.USD IDEALPRO / STK SMART USD / CRYPTO PAXOS USD           |
 * | fills                        | `execDetails` (id execId, price, shares) with its `commissionReport`; else the increase of `filled` |
 * | commission                   | the report's, converted to the account's currency (`commission.ts`) |
 * | account                      | `reqAccountSummary`: NetLiquidation → equity, TotalCashValue → balance, BuyingPower |
 * | positions                    | `reqPositions` (avgCost / multiplier), marked with a snapshot quote when one comes |
 * | quote                        | `reqMktData` snapshot: ticks 1/2/4 (bid/ask/last, or delayed 66/67/68: `Quote.delayed`, timed by 88) until `tickSnapshotEnd`; refused for want of a subscription (10168, 10186, 354): `reqMarketDataType(3)` once, and asked again (`MarketDataMode`) |
 *
 * - TWS has no idempotent client order id: a submit whose first status does not arrive within
 *   `timeoutMs`, or whose connection drops, fails with `outcomeUnknown: true` and is never resent.
 *   The order stays in the registry (orderId → orderRef, request, status, fills) and is reconciled
 *   by `reqAllOpenOrders` on `connect()`, `reconcile()`, and look-ups of unconfirmed orders.
 * - An error TWS sends for the order saying its link to IB's servers is lost (1100, 1300, 2110) or that
 *   it could not read a message (505, 507, 508) does not prove the order was not taken: the outcome is
 *   unknown as well. Errors that do (104–110 invalid order, …) are known failures; 100 "Max rate of messages per
 *   second" (a pacing violation) dropped the placeOrder unprocessed: nothing was placed, the order is not rejected
 *   (`notActed`, RATE_LIMITED, retryable) and not resent by the adapter; 103 "Duplicate order id" refuses TWS's
 *   integer order id (not our client id): nothing was placed, so the order is placed once more under an id past
 *   every one TWS has shown us, and a second 103 is reported as not placed (`notActed`); 201 and other refusals are
 *   rejected orders. An Inactive status with no error yet waits up to `rejectReasonWaitMs` for the one saying why
 *   (201 may follow it), so the rejection carries IB's reason.
 * - `getOrderByClientId` is undefined when TWS, asked with `reqAllOpenOrders` (answered in order on
 *   the same socket, after the placeOrder), does not list the order: absence is not conclusive on IB
 *   (`absenceConclusiveAfterMs` unset), since TWS documents no time after which an order cannot arrive. Unless
 *   the caller's last view (`OrderLookupHint.last`, the engine's after a restart) has TWS's order id: TWS
 *   acknowledged it, and "as long as an order is active, it is possible to retrieve it" (TWS API "Open Orders"), so
 *   one that the full listing, the completed orders and the executions all leave out ended while we were away, how
 *   TWS no longer says: it is answered ended (cancelled, saying so; expired for a GTD past its time).
 * - Account ids (managedAccounts) are masked to their last four characters in every message.
 * - A client order id already in the registry is refused locally (DUPLICATE_CLIENT_ORDER_ID)
 *   unless its earlier attempt failed before TWS accepted it.
 * - After the socket closes every call fails with NOT_CONNECTED until `connect()` succeeds again.
 * - Quantities must be whole for stocks and FX (API fractional shares need a separate permission),
 *   so `fractionalQuantity` is false; crypto (PAXOS) quantities may be fractional.
 * - Non-order request ids start at 900 000 000 so they never collide with order ids in `error` events.
 * - Orders that ended while we were away: `reqAllOpenOrders` lists open orders only, so each reconcile also asks
 *   `reqCompletedOrders(apiOnly)` (TWS API "Completed Orders"); a cancelled or Inactive one of ours (matched by
 *   orderRef and permId, the message has no orderId) becomes cancelled (IB's `completedStatus` as the reason) or
 *   rejected. A Filled one is left to `reqExecutions` below, so no fill is counted twice. After a restart (an
 *   empty registry) a completed order whose orderRef no open order carries is adopted with its end and the fills
 *   its executions tell (its TWS id is theirs; one that never executed is named by its permId, negated).
 * - Fills made while we were away: TWS pushes executions only to a connected client, and `reqAllOpenOrders`
 *   tells an order's cumulative status, not its executions or commissions. So every `connect()` first asks
 *   `reqExecutions` (filter: this clientId and, once TWS reported one, the time of its latest execution)
 *   and applies those executions with their commission reports before reconciling (TWS API "Executions and
 *   Commissions"). An execution already seen (same execId) or a quantity already counted is not counted again.
 */
import type * as IbLib from '@stoqey/ib';
import { systemClock, type Clock } from '../../common/clock';
import { EventEmitter } from 'node:events';
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
import { OrderTracker } from '../orderTracker';
import { ReadCache } from '../readCache';
import {
  OrderUpdateListeners,
  unsupportedReason,
  type BrokerApi,
  type BrokerCapabilities,
  type Disposable,
  type OrderLookupHint,
  type OrderUpdate,
} from '../broker';
import { maskAccountIds } from '../credentials';
import { BrokerError } from '../errors';
import { accountFromSummary, accountSummaryRows, positionFrom, positionRows } from './account';
import {
  awaitAnswer,
  handshake,
  loadLib,
  type AnswerErrors,
  type IbApi,
  type Lib,
  type TwsRequest,
} from './connection';
import { brokerErrorFor, cancelRefusedState, errorMeaning } from './errors';
import { contractFor, instrumentRulesFor, MarketDataMode, symbolOf, type IbContract } from './market';
import { atRate, commissionWithoutQuote, type ExecutedAt, type ReportedCommission } from './commission';
import { newEntry, OrderRegistry, PENDING_IB, REJECT_REASON_WAIT_MS, type Entry } from './orderRegistry';
import { IB_CAPABILITIES, earlierTwsTime, orderFor, responseOf, type IbOrder } from './orders';

/** Executions are asked for from this many seconds before the latest one seen (see `earlierTwsTime`). */
const EXECUTIONS_OVERLAP_S = 60;

export interface IbBrokerOptions {
  /** Default 'paper'. */
  environment?: 'paper' | 'live';
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 7497 (TWS paper); 7496 for live. IB Gateway: 4002 paper, 4001 live. */
  port?: number;
  /** Unique per TWS instance; required (TWS refuses a second connection with the same id: error 326). */
  clientId: number;
  clock?: Clock;
  /** How long a request waits for TWS (default 10 000 ms). */
  timeoutMs?: number;
  /** How long `connect()` waits for the handshake and `nextValidId` (default 5 000 ms). */
  connectTimeoutMs?: number;
  /** Passed to `@stoqey/ib` (default 40; TWS allows 50 messages per second). */
  maxRequestsPerSecond?: number;
  /** Mark positions with a snapshot quote (default true). */
  markPositions?: boolean;
  /** Where failures nobody awaits go (a listener that threw, a failed reconcile on connect). Default `process.emitWarning`. */
  onError?: (message: string, error: unknown) => void;
  /** Reuse an account or positions read this long unless an order of ours changed since (`ReadCache`); default 0 (the registry sets 1000). */
  readReuseMs?: number;
  /**
   * How long a fill waits for its execution's commission report before it is reported with commission 0
   * (default 1 000 ms; TWS sends the report right after the execution). See `orderRegistry.ts`.
   */
  commissionWaitMs?: number;
  /**
   * How long an Inactive status waits for the error telling why (201 "Order rejected - reason:…", which may come
   * after it), so the rejection carries IB's reason. Default 500 ms, at most a quarter of `timeoutMs`.
   */
  rejectReasonWaitMs?: number;
}

const REQ_ID_BASE = 900_000_000;
/** TWS API "Completed Orders": `reqCompletedOrders` needs server version 150 (MIN_SERVER_VER_COMPLETED_ORDERS). */
const MIN_SERVER_VER_COMPLETED_ORDERS = 150;
/**
 * Error codes that, for an order just placed, do not prove TWS did nothing with it: its connection to
 * IB's servers is lost or restored with data loss (1100, 1300, 2110), or it could not read a message
 * (505, 507, 508). TWS API "Message codes".
 */
const UNKNOWN_AFTER_PLACE: ReadonlySet<number> = new Set([1100, 1300, 2110, 505, 507, 508]);

export class IbBroker implements BrokerApi {
  readonly id = 'ib';
  readonly displayName = 'Interactive Brokers';
  readonly environment: 'paper' | 'live';
  readonly capabilities: BrokerCapabilities = IB_CAPABILITIES;

  private readonly host: string;
  private readonly port: number;
  private readonly clientId: number;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly onError: (message: string, error: unknown) => void;

  private lib: Lib | undefined;
  private ib: IbApi | undefined;
  private connected = false;
  private connecting: Promise<void> | undefined;
  private accountId = '';
  /** Every account of this login (managedAccounts), masked in messages. */
  private accountIds: string[] = [];
  private nextOrderId = 0;
  private nextReqId = REQ_ID_BASE;
  private idChain: Promise<unknown> = Promise.resolve();
  private reconciling: Promise<void> | undefined;
  /**
   * The time of the latest execution TWS reported (Execution.time, TWS's own clock): on reconnect, executions
   * from then on are asked for. TWS's clock, not ours: the filter is compared with TWS's execution times.
   */
  private lastExecutionTime: string | undefined;
  /** The account's base currency (NetLiquidation's), what fills' commissions are in: asked once per connection. */
  private accountCurrency: Promise<string | undefined> | undefined;
  private knownAccountCurrency: string | undefined;
  /** Internal notifications: 'status' (orderId), 'bad' (orderId, why), 'ibError' (id, code, message), 'openOrderEnd'. */
  private readonly events = new EventEmitter();
  private readonly listeners = new OrderUpdateListeners((e) => this.onError('IB: an order update listener threw', e));
  /** IB reports cumulative status: the tracker turns each report into the updates it brings, once. */
  private readonly tracker = new OrderTracker((u) => {
    this.reads.invalidate();
    this.listeners.emit(u);
  });
  /** Account and positions reads, shared while in flight and reused briefly (see `ReadCache`). */
  private readonly reads: ReadCache;
  /** Quotes: identical snapshots in flight share one request, never reused after. */
  private readonly quotes = new ReadCache(0);
  /** This connection's market data type: live, or delayed once a quote was refused for want of a subscription. */
  private marketData = new MarketDataMode();
  /** Our orders by TWS id and by client order id, kept current by TWS's events. */
  private readonly orders: OrderRegistry;

  constructor(private readonly options: IbBrokerOptions) {
    if (!Number.isInteger(options.clientId) || options.clientId < 0)
      throw new RangeError('IB: clientId must be a non-negative integer');
    this.environment = options.environment ?? 'paper';
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? (this.environment === 'live' ? 7496 : 7497);
    this.clientId = options.clientId;
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.onError =
      options.onError ??
      ((message, error) =>
        process.emitWarning(`${message}: ${error instanceof Error ? error.message : String(error)}`));
    this.events.setMaxListeners(0);
    this.orders = new OrderRegistry({
      clock: this.clock,
      tracker: this.tracker,
      events: this.events,
      onError: (message, error) => this.onError(message, error),
      ...(options.commissionWaitMs === undefined ? {} : { commissionWaitMs: options.commissionWaitMs }),
      rejectReasonWaitMs:
        options.rejectReasonWaitMs ?? Math.min(REJECT_REASON_WAIT_MS, (options.timeoutMs ?? 10_000) / 4),
      convertCommission: (reported, execution) => this.convertCommission(reported, execution),
    });
    this.reads = new ReadCache(options.readReuseMs ?? 0);
  }

  // --- connection ---

  async connect(): Promise<void> {
    if (this.connected) return;
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.detach();
    const lib = (this.lib ??= loadLib());
    const ib = new lib.IBApi({
      host: this.host,
      port: this.port,
      clientId: this.clientId,
      maxReqPerSec: this.options.maxRequestsPerSecond ?? 40,
    });
    this.ib = ib;
    // TWS starts each session with live market data (TWS API "Delayed Streaming Data").
    this.marketData = new MarketDataMode();
    this.install(ib, lib);
    try {
      await handshake(ib, lib, this.events, {
        where: `${this.host}:${this.port}`,
        clientId: this.clientId,
        timeoutMs: this.connectTimeoutMs,
      });
    } catch (e) {
      this.detach();
      throw e;
    }
    this.connected = true;
    // What commissions are converted to (see `commission.ts`); asked now so the first fill need not wait for it.
    this.accountCurrency = this.readAccountCurrency();
    try {
      await this.reconcile();
    } catch (e) {
      this.onError('IB: reconciling open orders after connect failed', e);
    }
  }

  async disconnect(): Promise<void> {
    this.detach();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Stops listening to the current IBApi and closes its socket. */
  private detach(): void {
    this.orders.flush();
    // The currency last known stays until the next connection's answer (the same login, as a rule).
    this.accountCurrency = undefined;
    const ib = this.ib;
    this.ib = undefined;
    this.connected = false;
    if (!ib) return;
    ib.removeAllListeners();
    try {
      ib.disconnect();
    } catch {
      // already closed
    }
  }

  private ensureConnected(): IbApi {
    if (!this.connected || !this.ib)
      throw new BrokerError('NOT_CONNECTED', 'IB: not connected to TWS/IB Gateway (call connect())', {
        retryable: true,
      });
    return this.ib;
  }

  /** Global listeners: they keep the registry current and never throw into the socket. */
  private install(ib: IbApi, lib: Lib): void {
    const E = lib.EventName;
    const guard =
      <A extends unknown[]>(what: string, fn: (...args: A) => void) =>
      (...args: A): void => {
        try {
          fn(...args);
        } catch (e) {
          this.onError(`IB: handling ${what} failed`, e);
        }
      };
    ib.on(
      E.disconnected,
      guard('disconnected', () => {
        if (this.ib === ib) this.connected = false;
      }),
    );
    ib.on(
      E.managedAccounts,
      guard('managedAccounts', (accounts: string) => {
        this.accountIds = accounts
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a.length > 0);
        this.accountId = this.accountIds[0] ?? '';
      }),
    );
    ib.on(
      E.nextValidId,
      guard('nextValidId', (id: number) => {
        if (Number.isInteger(id)) this.nextOrderId = Math.max(this.nextOrderId, id);
      }),
    );
    ib.on(
      E.orderStatus,
      guard(
        'orderStatus',
        (
          orderId: number,
          status: string,
          filled: number,
          remaining: number,
          avgFillPrice: number,
          permId?: number,
          _parentId?: number,
          lastFillPrice?: number,
        ) => {
          this.sawOrderId(orderId);
          this.orders.onStatus(orderId, { status, filled, remaining, avgFillPrice, lastFillPrice, permId });
        },
      ),
    );
    ib.on(
      E.openOrder,
      guard('openOrder', (orderId: number, contract: IbLib.Contract, order: IbLib.Order, state: IbLib.OrderState) => {
        this.sawOrderId(orderId);
        this.orders.onOpenOrder(orderId, contract, order, String(state.status));
      }),
    );
    ib.on(
      E.completedOrder,
      guard('completedOrder', (contract: IbLib.Contract, order: IbLib.Order, state: IbLib.OrderState) =>
        this.orders.onCompletedOrder(contract as IbContract, order as IbOrder, state),
      ),
    );
    ib.on(
      E.execDetails,
      guard('execDetails', (_reqId: number, contract: IbLib.Contract, execution: IbLib.Execution) => {
        if (typeof execution.time === 'string' && /^\d{8}[ -]/.test(execution.time))
          this.lastExecutionTime = execution.time.trim().replace(/\s+/g, ' ');
        if (execution.orderId === undefined || execution.execId === undefined) return;
        this.sawOrderId(execution.orderId);
        this.orders.onExecution(execution.orderId, {
          execId: execution.execId,
          shares: Number(execution.shares),
          price: Number(execution.price),
          liquidity: execution.lastLiquidity === undefined ? undefined : Number(execution.lastLiquidity),
          ...(execution.cumQty === undefined ? {} : { cumQty: Number(execution.cumQty) }),
          ...(execution.permId === undefined ? {} : { permId: Number(execution.permId) }),
          ...this.currenciesOf(execution.orderId, contract),
        });
      }),
    );
    ib.on(
      E.commissionReport,
      guard('commissionReport', (report: IbLib.CommissionReport) => {
        if (report.execId !== undefined) this.orders.onCommission(report.execId, report.commission, report.currency);
      }),
    );
    ib.on(
      E.openOrderEnd,
      guard('openOrderEnd', () => this.events.emit('openOrderEnd')),
    );
    ib.on(
      E.error,
      guard('error', (error: Error, code: number, reqId: number) =>
        this.onIbError(reqId ?? -1, code, error?.message ?? String(error)),
      ),
    );
    ib.on(
      E.info,
      guard('info', (message: string, code: number) => this.events.emit('ibError', -1, code, message)),
    );
  }

  /**
   * The currency an execution's price is in and, for a pair, its base: from the execution's contract, else
   * from the order's symbol (what the commission is converted to, see `orderRegistry.ts`).
   */
  private currenciesOf(orderId: number, contract: IbContract | undefined): { currency?: string; base?: string } {
    let c = contract;
    if (!c?.currency) {
      const symbol = this.orders.byId.get(orderId)?.request.symbol;
      try {
        c = symbol === undefined ? c : contractFor(symbol).contract;
      } catch {
        // not a symbol we map: the commission is taken as reported
      }
    }
    if (!c?.currency) return {};
    const pair = c.secType === 'CASH' || c.secType === 'CRYPTO';
    return { currency: c.currency, ...(pair && c.symbol ? { base: c.symbol } : {}) };
  }

  /** A reported commission in the account's currency: at once when no quote is needed, else once IB's rate is. */
  private convertCommission(
    reported: ReportedCommission,
    execution: ExecutedAt & { execId: string },
  ): number | Promise<number> {
    if (reported.amount === 0 || reported.currency === '') return reported.amount;
    const known = this.knownAccountCurrency;
    const now = known === undefined ? undefined : commissionWithoutQuote(reported, known, execution);
    return now ?? this.convertLater(reported, execution);
  }

  private async convertLater(
    reported: ReportedCommission,
    execution: ExecutedAt & { execId: string },
  ): Promise<number> {
    const to = this.knownAccountCurrency ?? (await (this.accountCurrency ??= this.readAccountCurrency()));
    const value =
      to === undefined
        ? undefined
        : (commissionWithoutQuote(reported, to, execution) ??
          atRate(reported.amount, await this.rate(reported.currency, to)));
    if (value !== undefined) return value;
    this.onError(
      `IB: the commission ${reported.amount} ${reported.currency} of execution ${execution.execId} is left out of its ` +
        `fill: it is not in the account's currency (${to ?? 'which IB did not tell'}) and IB gave no price between the two`,
      new Error(`no ${reported.currency}/${to ?? '?'} rate`),
    );
    return 0;
  }

  /** The account's base currency: the currency of its NetLiquidation in the account summary. */
  private async readAccountCurrency(): Promise<string | undefined> {
    try {
      const rows = await accountSummaryRows(this.tws(), this.nextReqId++);
      const mine = rows.filter((r) => !this.accountId || r.account === this.accountId);
      const currency = (mine.find((r) => r.tag === 'NetLiquidation') ?? mine.find((r) => r.currency))?.currency;
      if (currency) this.knownAccountCurrency = currency.trim().toUpperCase();
      return this.knownAccountCurrency;
    } catch (e) {
      // Asked again by the next commission that needs it.
      this.accountCurrency = undefined;
      this.onError('IB: reading the account currency failed', e);
      return undefined;
    }
  }

  /**
   * How many units of `to` one unit of `from` is worth by IB's own prices: the mid of a snapshot of the pair
   * (`FROM_TO`, else the inverse of `TO_FROM`: IDEALPRO lists each pair one way only); undefined when IB has
   * neither.
   */
  private async rate(from: string, to: string): Promise<number | undefined> {
    const mid = async (symbol: string): Promise<number | undefined> => {
      try {
        const { kind, contract } = contractFor(symbol);
        if (kind === 'equity') return undefined;
        const q = await this.quotes.read(symbol, () => this.snapshot(symbol, contract));
        const m = (q.bid + q.ask) / 2;
        return Number.isFinite(m) && m > 0 ? m : undefined;
      } catch {
        return undefined;
      }
    };
    const direct = await mid(`${from}_${to}`);
    if (direct !== undefined) return direct;
    const inverse = await mid(`${to}_${from}`);
    return inverse === undefined ? undefined : 1 / inverse;
  }

  private onIbError(id: number, code: number, raw: string): void {
    const message = maskAccountIds(raw, this.accountIds);
    this.orders.onError(id, code, message);
    this.events.emit('ibError', id, code, message);
  }

  onOrderUpdate(listener: (update: OrderUpdate) => void): Disposable {
    return this.listeners.add(listener);
  }

  /** `awaitAnswer` on this connection's library. */
  private request<T>(
    ib: IbApi,
    what: string,
    timeoutMs: number,
    start: (done: (value: T) => void, fail: (error: BrokerError) => void) => () => void,
    errors: AnswerErrors = {},
  ): Promise<T> {
    return awaitAnswer(ib, this.lib as Lib, what, timeoutMs, start, errors);
  }

  /** Listens to an internal event for the duration of a request. */
  private on(event: string, fn: (...args: never[]) => void): () => void {
    const listener = fn as (...args: unknown[]) => void;
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  /**
   * TWS API "Placing Orders" → "The Next Valid Identifier": with several clients on one account, or after
   * `reqAllOpenOrders`, "subsequent orders placed by that client must have order IDs greater than" every id in
   * the openOrder and orderStatus callbacks; a lower one is refused with 103 "Duplicate order id".
   */
  private sawOrderId(orderId: number): void {
    if (Number.isInteger(orderId) && orderId > 0) this.nextOrderId = Math.max(this.nextOrderId, orderId + 1);
  }

  /** Next order id: `reqIds` → `nextValidId`, never below one already used or seen (serialized). */
  private allocateOrderId(): Promise<number> {
    const run = this.idChain.then(async () => {
      const ib = this.ensureConnected();
      const E = (this.lib as Lib).EventName;
      const given = await this.request<number>(ib, 'reqIds', this.timeoutMs, (done) => {
        const onId = (id: number) => done(id);
        ib.on(E.nextValidId, onId);
        ib.reqIds();
        return () => ib.off(E.nextValidId, onId);
      });
      let id = Math.max(given, this.nextOrderId);
      // An id an order we know already has (one of ours, or adopted) would be TWS's 103, or worse a modify of it.
      while (this.orders.byId.has(id)) id++;
      this.nextOrderId = id + 1;
      return id;
    });
    this.idChain = run.catch(() => undefined);
    return run;
  }

  // --- orders ---

  async submitOrder(request: PlacedOrderRequest): Promise<OrderResponse> {
    this.ensureConnected();
    const wellFormed = checkOrderRequest(request);
    if (!wellFormed.success || !request.client_order_id) {
      const why = wellFormed.success
        ? 'client_order_id is required'
        : wellFormed.error.issues.map((i) => i.message).join('; ');
      throw new BrokerError('INVALID_ORDER', `IB cannot read this order: ${why}`);
    }
    const refused = unsupportedReason(this.capabilities, request.order_type.type, request.time_in_force.type, 'IB');
    if (refused) throw new BrokerError('UNSUPPORTED_ORDER', refused);
    if (request.time_in_force.type === 'GTD' && request.time_in_force.expires_at <= this.clock.now())
      throw new BrokerError(
        'INVALID_ORDER',
        `IB: GTD expiry ${new Date(request.time_in_force.expires_at).toISOString()} is already past`,
      );
    const { kind, contract } = contractFor(request.symbol);
    const ibOrder = orderFor(request, kind);
    const cid = request.client_order_id;
    const previous = this.orders.byRef.get(cid);
    if (previous && !previous.failedBeforeAcceptance)
      throw new BrokerError(
        'DUPLICATE_CLIENT_ORDER_ID',
        `IB: client order id ${cid} was already sent as order ${previous.orderId}`,
        { retryable: false },
      );

    this.reads.invalidate();
    try {
      return await this.place(request, contract, ibOrder);
    } catch (e) {
      // 103: TWS refused the order id itself as taken (by an order of another program on this client id, or
      // one from before "Reset API order ID sequence"), so nothing was placed. Our client id is not what
      // clashed: once more under an id past every one seen; a second refusal is reported as not placed.
      if (!(e instanceof BrokerError) || e.venueCode !== 103) throw e;
      return await this.place(request, contract, ibOrder).catch((again: unknown) => {
        throw again instanceof BrokerError && again.venueCode === 103
          ? new BrokerError(again.reason, `${again.message} (twice, under two order ids)`, {
              retryable: true,
              notActed: true,
              venueCode: 103,
              cause: again,
            })
          : again;
      });
    }
  }

  /** One placeOrder under a fresh order id, answered by its first status past pending or by its refusal. */
  private async place(
    request: PlacedOrderRequest,
    contract: ReturnType<typeof contractFor>['contract'],
    ibOrder: ReturnType<typeof orderFor>,
  ): Promise<OrderResponse> {
    const cid = request.client_order_id;
    const orderId = await this.allocateOrderId();
    const ib = this.ensureConnected();
    const entry = newEntry(orderId, { ...request, metadata: { ...request.metadata } }, this.clock.now(), false);
    this.orders.register(entry);
    const unknown = (reason: 'TIMEOUT' | 'NETWORK' | 'BAD_RESPONSE', why: string) =>
      new BrokerError(
        reason,
        `IB: order ${orderId} (${cid}) ${why}; it may be working at TWS: reconcile, do not resend`,
        {
          outcomeUnknown: true,
          retryable: false,
        },
      );
    await this.request<void>(
      ib,
      `order ${orderId}`,
      this.timeoutMs,
      (done, fail) => {
        const offStatus = this.on('status', (id: number) => {
          if (id === orderId && entry.ibStatus !== undefined && !PENDING_IB.has(entry.ibStatus)) done();
        });
        const offBad = this.on('bad', (id: number, why: string) => {
          if (id === orderId) fail(unknown('BAD_RESPONSE', `got an unreadable status (${why})`));
        });
        const offErr = this.on('ibError', (id: number, code: number, message: string) => {
          if (id !== orderId) return;
          const meaning = errorMeaning(code, message);
          if (meaning.kind === 'reject' || meaning.kind === 'cancelled') done();
          else if (meaning.kind === 'error' && UNKNOWN_AFTER_PLACE.has(code))
            fail(unknown('NETWORK', `got error ${code} (${message})`));
          else if (meaning.kind === 'error') {
            entry.failedBeforeAcceptance = true;
            // TWS did not act on the placeOrder (100: dropped for pacing; 103: the id is another order's): there is
            // no order of ours under this id, and none to report as rejected. Forgotten, so that a look-up by client
            // id finds nothing (not a rejection, not a pending order) and later news for the id is not taken as ours.
            if (meaning.notActed === true) this.orders.forget(entry);
            else entry.rejectReason = message;
            fail(brokerErrorFor(code, message, { outcomeUnknown: false }));
          }
        });
        ib.placeOrder(orderId, contract as IbLib.Contract, ibOrder as IbLib.Order);
        return () => {
          offStatus();
          offBad();
          offErr();
        };
      },
      {
        timeout: () => unknown('TIMEOUT', `got no status within ${this.timeoutMs} ms`),
        closed: () => unknown('NETWORK', 'lost its connection before TWS answered'),
      },
    );
    return responseOf(entry, this.clock.now());
  }

  async cancelOrder(orderId: string): Promise<void> {
    const ib = this.ensureConnected();
    const id = Number(orderId);
    if (!Number.isInteger(id) || id <= 0) throw new BrokerError('ORDER_NOT_FOUND', `IB: no order ${orderId}`);
    if (!this.orders.byId.has(id)) await this.reconcile();
    const entry = this.orders.byId.get(id);
    if (!entry) throw new BrokerError('ORDER_NOT_FOUND', `IB: no order ${orderId}`);
    const state = responseOf(entry, this.clock.now()).status.status;
    if (state === 'cancelled' || state === 'expired') return;
    this.reads.invalidate();
    if (state === 'filled' || state === 'rejected')
      throw new BrokerError('INVALID_ORDER', `IB: order ${orderId} cannot be cancelled: it is ${state}`, {
        retryable: false,
      });
    // An unknown outcome leaves our view of the order stale: the next look-up asks TWS (reconcile).
    const stale = (e: unknown): never => {
      if (e instanceof BrokerError && e.outcomeUnknown) entry.confirmed = false;
      throw e;
    };
    // A refusal that names no state (161, a 10148 without one): TWS is asked what became of the order, after.
    let refused: { code: number; message: string } | undefined;
    await this.request<void>(
      ib,
      `cancel of order ${id}`,
      this.timeoutMs,
      (done, fail) => {
        const offStatus = this.on('status', (oid: number) => {
          if (oid !== id) return;
          const now = responseOf(entry, this.clock.now()).status.status;
          if (now === 'cancelled' || now === 'expired') done();
          else if (now === 'filled' || now === 'rejected')
            fail(
              new BrokerError('INVALID_ORDER', `IB: order ${id} was ${now} before the cancel took effect`, {
                retryable: false,
              }),
            );
        });
        const offErr = this.on('ibError', (oid: number, code: number, message: string) => {
          if (oid !== id) return;
          const meaning = errorMeaning(code, message);
          const refusedIn = cancelRefusedState(code, message);
          if (meaning.kind === 'cancelled' || refusedIn === 'Cancelled' || refusedIn === 'ApiCancelled') done();
          // TWS is cancelling it already: its status says when.
          else if (refusedIn === 'PendingCancel') return;
          else if (code === 161 || (code === 10148 && refusedIn === undefined)) {
            refused = { code, message };
            done();
          } else if (refusedIn === 'Filled') {
            // Too late: the fills this client did not hear are read from TWS, so the order does not stay working.
            void this.reconcile().catch((e: unknown) => this.onError(`IB: reading order ${id}'s fills failed`, e));
            fail(
              new BrokerError(
                'INVALID_ORDER',
                `IB: too late to cancel order ${id}: IB says it is already Filled (error 10148: ${message}); its fills are read from IB`,
                { retryable: false, venueCode: code },
              ),
            );
          } else if (refusedIn !== undefined)
            fail(
              new BrokerError(
                'INVALID_ORDER',
                `IB: order ${id} cannot be cancelled in its state at IB, ${refusedIn} (error 10148: ${message})`,
                { retryable: false, venueCode: code },
              ),
            );
          else if (meaning.kind === 'error' && UNKNOWN_AFTER_PLACE.has(code))
            fail(
              new BrokerError(
                'NETWORK',
                `IB: error ${code} during the cancel of order ${id} (${message}); it may have been applied`,
                {
                  outcomeUnknown: true,
                  retryable: false,
                },
              ),
            );
          else if (meaning.kind !== 'info') fail(brokerErrorFor(code, message));
        });
        entry.cancelRequested = true;
        ib.cancelOrder(id);
        return () => {
          offStatus();
          offErr();
        };
      },
      {
        timeout: () =>
          new BrokerError('TIMEOUT', `IB: no answer to the cancel of order ${id} within ${this.timeoutMs} ms`, {
            outcomeUnknown: true,
          }),
        closed: () =>
          new BrokerError('NETWORK', `IB: the connection closed during the cancel of order ${id}`, {
            outcomeUnknown: true,
          }),
      },
    ).catch(stale);
    if (refused) await this.settleRefusedCancel(id, entry, refused.code, refused.message);
  }

  /**
   * A cancel TWS refused without naming the order's state (TWS API "Message Codes" 161 "Cancel attempted when order
   * is not in a cancellable state", or 10148 without ", state: …"): TWS's open and completed orders and executions
   * are read (`reconcile`) and the order ends as they say. Cancelled there → the cancel is done; Filled → too late,
   * with the fills read; anything else → refused, naming what IB lists. Nothing is sent again.
   */
  private async settleRefusedCancel(id: number, entry: Entry, code: number, message: string): Promise<void> {
    const said = `error ${code}: ${message}`;
    try {
      await this.reconcile();
    } catch (e) {
      entry.confirmed = false;
      throw new BrokerError(
        'INVALID_ORDER',
        `IB: order ${id} cannot be cancelled in its state at IB (${said}), and reading that state failed: ${e instanceof Error ? e.message : String(e)}`,
        { retryable: false, venueCode: code },
      );
    }
    const now = responseOf(entry, this.clock.now()).status.status;
    if (now === 'cancelled' || now === 'expired') return;
    if (now === 'filled')
      throw new BrokerError(
        'INVALID_ORDER',
        `IB: too late to cancel order ${id}: IB lists it Filled (${said}); its fills were read from IB`,
        { retryable: false, venueCode: code },
      );
    throw new BrokerError(
      'INVALID_ORDER',
      `IB: order ${id} cannot be cancelled in its state at IB (${said}); IB lists it ${now}`,
      { retryable: false, venueCode: code },
    );
  }

  async getOrderStatus(orderId: string): Promise<OrderResponse> {
    this.ensureConnected();
    const id = Number(orderId);
    let entry = this.orders.byId.get(id);
    if (!entry || !entry.confirmed) {
      await this.reconcile();
      entry = this.orders.byId.get(id);
    }
    if (!entry) throw new BrokerError('ORDER_NOT_FOUND', `IB: no order ${orderId}`);
    return responseOf(entry, this.clock.now());
  }

  async getOrderByClientId(clientOrderId: string, hint?: OrderLookupHint): Promise<OrderResponse | undefined> {
    this.ensureConnected();
    let entry = this.orders.byRef.get(clientOrderId);
    if (!entry || !entry.confirmed) {
      await this.reconcile();
      entry = this.orders.byRef.get(clientOrderId);
    }
    // Sent by us but not listed by TWS just now, and not refused either: TWS does not hold it.
    if (entry && !entry.confirmed && !entry.failedBeforeAcceptance && entry.rejectReason === undefined)
      return undefined;
    // Adopted from TWS's lists after a restart: the size we placed is the engine's, TWS's may have been cut in TWS.
    if (entry && hint?.last?.client_order_id === clientOrderId) this.orders.placedAs(entry, hint.last.quantity);
    return entry ? responseOf(entry, this.clock.now()) : this.endedWhileAway(clientOrderId, hint);
  }

  /**
   * An order TWS acknowledged (the caller's last view carries TWS's order id), still working in that view, that the
   * reconcile just done (every open order of every client, the completed orders, today's executions) does not name:
   * not working at IB (TWS API "Open Orders": "As long as an order is active, it is possible to retrieve it"), ended
   * while we were away in a way TWS no longer tells. Undefined without such a view (absence proves nothing then).
   */
  private endedWhileAway(clientOrderId: string, hint: OrderLookupHint | undefined): OrderResponse | undefined {
    const last = hint?.last;
    if (last?.client_order_id !== clientOrderId || last.order_id === '' || isFinalStatus(last.status)) return undefined;
    const now = this.clock.now();
    const tif = last.time_in_force;
    const expired = tif.type === 'GTD' && tif.expires_at <= now;
    return {
      ...last,
      fills: [...last.fills],
      status: expired
        ? { status: 'expired' }
        : {
            status: 'cancelled',
            reason:
              "IB no longer lists it among its working orders (TWS lists every active order), and TWS has no record left of how it ended (completed orders and executions cover its current session and day only): it is not working at IB; look in TWS's Trade Log or IB's statements for a fill before today (positions are read from IB)",
          },
      timestamp: Math.max(last.timestamp, now),
    };
  }

  async listOpenOrders(): Promise<OrderResponse[]> {
    this.ensureConnected();
    if ([...this.orders.byId.values()].some((e) => !e.confirmed)) await this.reconcile();
    const now = this.clock.now();
    return [...this.orders.byId.values()].map((e) => responseOf(e, now)).filter((r) => !isFinalStatus(r.status));
  }

  /**
   * Asks TWS for this client's executions since the latest one it told (`reqExecutions`), for the orders done
   * today (`reqCompletedOrders`: an order of ours that ended while we were away gets
   * its end) and then for every open order (`reqAllOpenOrders`), and folds them into the registry; adopts open
   * orders with an orderRef from earlier sessions, then completed ones of an orderRef still unknown (after a
   * restart: an order of ours that ended while we were away, with the fills its executions tell). TWS answers in order, so the end of the open orders is the
   * end of both (a TWS that does not answer the first does not hold the reconcile up).
   */
  async reconcile(): Promise<void> {
    const ib = this.ensureConnected();
    this.reconciling ??= this.reconcileOnce(ib).finally(() => {
      this.reconciling = undefined;
      this.orders.reconciling = false;
    });
    return this.reconciling;
  }

  private async reconcileOnce(ib: IbApi): Promise<void> {
    // Sent first and answered first (TWS answers one socket's requests in order): the executions are in the
    // registry before the orders' statuses would make fills up for them, and before a completed order, which has
    // no prices, ends an order whose fills only they tell (one filled while away, or whose answers were lost).
    const executions = this.recoverExecutions().catch((e: unknown) =>
      this.onError('IB: reading the executions made while away failed', e),
    );
    try {
      await this.request<void>(ib, 'reqAllOpenOrders', this.timeoutMs, (done) => {
        const off = this.on('openOrderEnd', () => {
          // The open orders are known: completed orders of an earlier session can be told from them now.
          this.orders.adoptCompleted();
          done();
        });
        this.orders.reconciling = true;
        if (ib.serverVersion >= MIN_SERVER_VER_COMPLETED_ORDERS) ib.reqCompletedOrders(true);
        ib.reqAllOpenOrders();
        return off;
      });
    } finally {
      await executions;
    }
  }

  /**
   * Asks TWS for this client's executions (from the time of the latest execution TWS reported, in TWS's clock;
   * the whole day before any) and waits for `execDetailsEnd` (or the end of the open orders asked
   * right after): the `execDetails` and
   * `commissionReport` events they bring go through the registry like live ones (an execId already known is
   * ignored), so a fill made while away carries IB's execution id, price and commission.
   */
  private async recoverExecutions(): Promise<void> {
    const ib = this.ensureConnected();
    const E = (this.lib as Lib).EventName;
    const reqId = this.nextReqId++;
    const filter: IbLib.ExecutionFilter = { clientId: String(this.clientId) };
    if (this.lastExecutionTime !== undefined)
      filter.time = earlierTwsTime(this.lastExecutionTime, EXECUTIONS_OVERLAP_S);
    await this.request<void>(ib, 'reqExecutions', this.timeoutMs, (done, fail) => {
      const onEnd = (id: number) => {
        if (id === reqId) done();
      };
      ib.on(E.execDetailsEnd, onEnd);
      // The open orders asked after it are answered: a TWS that has not answered this will not (it does not
      // implement it), and waiting longer would only slow the connect.
      const offOpenEnd = this.on('openOrderEnd', () => done());
      const offErr = this.requestErrors(reqId, fail);
      ib.reqExecutions(reqId, filter);
      return () => {
        ib.off(E.execDetailsEnd, onEnd);
        offOpenEnd();
        offErr();
      };
    });
  }

  // --- account and market data ---

  async getAccountInfo(): Promise<AccountInfo> {
    this.ensureConnected();
    return this.reads.read('account', () => this.readAccount());
  }

  private async readAccount(): Promise<AccountInfo> {
    const rows = await accountSummaryRows(this.tws(), this.nextReqId++);
    const account = this.accountId || rows[0]?.account || '';
    const mine = rows.filter((r) => !account || r.account === account);
    return accountFromSummary(account, mine, await this.getPositions());
  }

  async getPositions(): Promise<Position[]> {
    this.ensureConnected();
    return this.reads.read('positions', () => this.readPositions());
  }

  private async readPositions(): Promise<Position[]> {
    const raw = await positionRows(this.tws());
    const open = raw.filter(
      (p) => Number.isFinite(p.pos) && p.pos !== 0 && (!this.accountId || p.account === this.accountId),
    );
    const mark = this.options.markPositions ?? true;
    return Promise.all(
      open.map(async (p) => {
        let price: number | undefined;
        if (mark) {
          try {
            // Shared with a quote of the same symbol in flight (the engine reads quote and account at once).
            const symbol = symbolOf(p.contract);
            const q = await this.quotes.read(symbol, () => this.snapshot(symbol, p.contract));
            price = (q.bid + q.ask) / 2;
          } catch {
            price = undefined;
          }
        }
        return positionFrom(p.contract, p.pos, p.avgCost, price);
      }),
    );
  }

  async getQuote(symbol: string): Promise<Quote> {
    this.ensureConnected();
    return this.quotes.read(symbol, () => this.snapshot(symbol, contractFor(symbol).contract));
  }

  private async snapshot(symbol: string, contract: IbContract): Promise<Quote> {
    return this.marketData.quote(
      this.tws(),
      () => this.nextReqId++,
      symbol,
      contract,
      () => this.clock.now(),
    );
  }

  /** This connection's requests, for the account and market readers. */
  private tws(): TwsRequest {
    const ib = this.ensureConnected();
    return {
      ib,
      lib: this.lib as Lib,
      timeoutMs: this.timeoutMs,
      requestErrors: (reqId, fail) => this.requestErrors(reqId, fail),
      current: () => this.ib === ib && this.connected,
    };
  }

  /** Fails a non-order request on an error TWS sends for its id (warnings excepted). */
  private requestErrors(reqId: number, fail: (error: BrokerError) => void): () => void {
    return this.on('ibError', (id: number, code: number, message: string) => {
      if (id !== reqId) return;
      const meaning = errorMeaning(code, message);
      if (meaning.kind !== 'info') fail(brokerErrorFor(code, message, { request: 'data' }));
    });
  }

  /** Static rules (IB's real ones come from `reqContractDetails`: minTick, sizeIncrement). Answered without a connection. */
  async getInstrument(symbol: string): Promise<InstrumentRules> {
    return instrumentRulesFor(symbol);
  }
}
