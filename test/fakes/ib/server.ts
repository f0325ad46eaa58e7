/**
 * A fake TWS on 127.0.0.1 that speaks the socket protocol `@stoqey/ib` speaks, at server version
 * 187 (the version the brokers reference checked against the real client; ORDER_STATUS carries no
 * version field, ERR_MSG carries the advanced-reject JSON, OPEN_ORDER has 129 fields).
 *
 * - Handshake: client "API\0" + len + "v100..193" → server [187, connection time]; START_API →
 *   NEXT_VALID_ID + MANAGED_ACCTS. Then every message is a uint32 BE length + NUL-terminated fields.
 * - A second START_API with a client id already connected → ERR 326 and the socket is closed.
 * - REQ_IDS → NEXT_VALID_ID (one more per call). A PLACE_ORDER reusing an order id → ERR 103 (no modify). PLACE_ORDER → Submitted (PreSubmitted for stops)
 *   and, when marketable, Filled at the touch; IOC/FOK that cannot fill → Cancelled. `setQuote`
 *   re-evaluates resting orders (limits fill at the limit, stops trigger at the touch).
 * - TRAIL (TWS API "Order Types" → Trailing Stop; `Order.auxPrice` "trailing amount", `trailingPercent`
 *   "mutually exclusive with the existing trailing amount", `trailStopPrice` the initial stop): held
 *   PreSubmitted while it trails; a SELL's stop is the best price since placement minus the amount (or
 *   that percentage of it), raised as the price rises and never lowered, a BUY's the mirror; when the
 *   price reaches it, it executes as a market order. The fake has no trades: its price is the touch (the
 *   bid for a sell, the ask for a buy). PLACE_ORDER carries trailStopPrice and trailingPercent at fields 68
 *   and 69, OPEN_ORDER at 64 and 65 (server version 187, as @stoqey/ib encodes and decodes them).
 * - Each fill is also an EXECUTION_DATA (11: execId, shares, price, cumQty, avgPrice, lastLiquidity; reqId -1) and
 *   then a COMMISSION_REPORT (59: execId, commission, currency, realizedPNL unset) after the ORDER_STATUS, as TWS
 *   API "Executions and Commissions" describes ("When an order is filled either fully or partially, the
 *   IBApi.EWrapper.execDetails and IBApi.EWrapper.commissionReport events will deliver IBApi.Execution and
 *   IBApi.CommissionReport objects"; the report is matched to its execution by execId). Field layout at server
 *   version 187 as `@stoqey/ib`'s decoder reads it (decodeMsg_EXECUTION_DATA: no version field from
 *   LAST_LIQUIDITY (136) on; decodeMsg_COMMISSION_REPORT). The commission is IB's fixed US-stock rate:
 *   USD 0.005 a share, at least USD 1.00 an order (per execution here); `commissionReports: false` leaves the
 *   reports out, `executions: false` both. The report names its own currency (TWS API "CommissionReport":
 *   `Currency` "the reporting currency", interactivebrokers.github.io/tws-api/classIBApi_1_1CommissionReport.html),
 *   which need not be the contract's: `commissionCurrency` picks it per contract (default USD, as before).
 * - CANCEL_ORDER → ERR 202 + Cancelled, or 10148 / 161 (not cancellable: `cancelRefusal`) / 10147 (not found).
 * - REQ_POSITIONS, REQ_ACCOUNT_SUMMARY, REQ_MKT_DATA (snapshot: ticks 1, 2, 4 + end, or ERR 200).
 * - REQ_MARKET_DATA_TYPE (59: version 1, marketDataType) sets the session's market data type, live (1) until asked
 *   otherwise: TWS API "Delayed Streaming Data" (interactivebrokers.github.io/tws-api/delayed_data.html: "By default,
 *   the API is in the real time market data mode … To switch to delayed streaming data, the function
 *   IBApi::EClient::reqMarketDataType must be invoked with a parameter of 3 (for delayed) or 4 (for delayed-frozen) …
 *   Subsequent calls to IBApi::EClient::reqMktData will then result in requests for delayed data which will be
 *   returned to the delayed tick types … If live data is available, it will always be returned instead of delayed
 *   data"). So with 3 or 4, a REQ_MKT_DATA refused for want of a subscription (`marketDataError` 10168, 10186 or 354)
 *   is answered with the delayed data instead, unless `delayedMarketData` is false: MARKET_DATA_TYPE (58: version 1,
 *   reqId, type; TWS API "Market Data Types", market_data_type.html: "A successful switch to a different (non-live)
 *   market data type for a particular market data request will be indicated by a callback to
 *   IBApi::EWrapper::marketDataType with the ticker ID"), ticks 66/67/68, then TICK_SNAPSHOT_END.
 * - REQ_ALL_OPEN_ORDERS → OPEN_ORDER + ORDER_STATUS for every working order, then OPEN_ORDER_END; orders that are
 *   done (Filled, Cancelled, ApiCancelled, Inactive) are left out: TWS API "Open Orders"
 *   (interactivebrokers.github.io/tws-api/open_orders.html: "As long as an order is active, it is possible to
 *   retrieve it … Note: it is not possible to obtain cancelled or fully filled orders"); they come from
 *   REQ_COMPLETED_ORDERS.
 * - REQ_EXECUTIONS (7: version 3, reqId, then the ExecutionFilter clientId, acctCode, time, symbol, secType,
 *   exchange, side) → every execution of the day that passes the filter (clientId, and time "yyyymmdd-hh:mm:ss"
 *   UTC: those reported after it) as EXECUTION_DATA under that reqId, each with its COMMISSION_REPORT, then
 *   EXECUTION_DATA_END (55, 1, reqId). TWS API "Executions and Commissions": "IBApi.EClient.reqExecutions …
 *   the execution details … will be delivered via IBApi.EWrapper.execDetails … and IBApi.EWrapper.commissionReport
 *   … IBApi.EWrapper.execDetailsEnd". A fill made while no client of its clientId was connected is never pushed;
 *   only REQ_EXECUTIONS tells it (TWS does not send missed executions again on its own).
 * - REQ_COMPLETED_ORDERS (99, apiOnly) → COMPLETED_ORDER (101) for every order that is done, then
 *   COMPLETED_ORDERS_END (102): TWS API "Completed Orders" (layout at `completedOrder` below). `endOrder` ends a
 *   working order at TWS (cancelled in TWS, expired, Inactive) with no part of its client in it.
 * Symbols for `setQuote`: AAPL, EUR_USD / EUR.USD / EURUSD, BTCUSD (separators are ignored).
 *
 * Faults (`injectNext`, FIFO per target) hit the next PLACE_ORDER (`on: 'submit'`) or CANCEL_ORDER
 * (`on: 'cancel'`). TWS has no HTTP status: `serverError` is ERR 1100 "Connectivity between IB and
 * Trader Workstation has been lost" for the order (TWS API "Message Codes": 1100 is a system message,
 * and TWS keeps orders it already took), after acting when `placed`; `rateLimit` is ERR 100 "Max rate
 * of messages per second has been exceeded" (the message was dropped unprocessed); timeoutAfterAccept
 * and dropConnection act (or not, `placed: false`) and then stay silent / close the socket;
 * malformedBody acts and sends an ORDER_STATUS TWS would never send; errorEchoingAccount refuses the
 * order with ERR 201 naming the account.
 *
 * Past 450 lines on purpose: one fake is one closure over one TWS's state (sessions, quotes, orders,
 * positions, faults), and its message handlers, matching and fault hooks read and change that state
 * together; split apart they would pass all of it around.
 */
import * as net from 'node:net';
import { FaultQueue, type FakeFault, type FakeVenue } from '../control';

export const FAKE_TWS_SERVER_VERSION = 187;
export const FAKE_TWS_ACCOUNT = 'DU1234567';
/** Statuses of an order that is done without being filled. */
const ENDED_UNFILLED: ReadonlySet<string> = new Set(['Cancelled', 'ApiCancelled', 'Inactive']);
/** Statuses of an order that is done: listed by REQ_COMPLETED_ORDERS, not by REQ_ALL_OPEN_ORDERS. */
const DONE: ReadonlySet<string> = new Set([...ENDED_UNFILLED, 'Filled']);
/** Market data refusals for want of a live subscription (TWS API "Message Codes"), which delayed data can answer. */
const NOT_SUBSCRIBED: ReadonlySet<number> = new Set([354, 10168, 10186]);

const MSG_NAMES: Record<number, string> = {
  1: 'REQ_MKT_DATA',
  59: 'REQ_MARKET_DATA_TYPE',
  2: 'CANCEL_MKT_DATA',
  3: 'PLACE_ORDER',
  4: 'CANCEL_ORDER',
  7: 'REQ_EXECUTIONS',
  8: 'REQ_IDS',
  16: 'REQ_ALL_OPEN_ORDERS',
  99: 'REQ_COMPLETED_ORDERS',
  61: 'REQ_POSITIONS',
  62: 'REQ_ACCOUNT_SUMMARY',
  63: 'CANCEL_ACCOUNT_SUMMARY',
  64: 'CANCEL_POSITIONS',
  71: 'START_API',
};

export interface FakeTwsOptions {
  /** Cash in USD at the start (default 100 000). */
  cash?: number;
  /** First order id NEXT_VALID_ID announces (default 1). */
  firstOrderId?: number;
  /** Send EXECUTION_DATA for each fill (default true). */
  executions?: boolean;
  /** Send a COMMISSION_REPORT after each EXECUTION_DATA (default true). */
  commissionReports?: boolean;
  /** Answer REQ_EXECUTIONS (default true); false: ignore it, as a TWS without it would. */
  executionRequests?: boolean;
  /** Answer REQ_COMPLETED_ORDERS (default true); false: ignore it, as a TWS without it would. */
  completedOrderRequests?: boolean;
  /**
   * How a cancel of an order that is not working is refused (TWS API "Message Codes"): 'state' (default) 10148
   * "OrderId {id} that needs to be cancelled cannot be cancelled, state: {state}."; 'bare' the same without the
   * state, as older TWS builds word it; '161' 161 "Cancel attempted when order is not in a cancellable state. Order
   * permId = {permId}", which names no state either.
   */
  cancelRefusal?: 'state' | 'bare' | '161';
  /** TWS's clock for execution times (default Date.now): executions then carry its time, to the second. */
  executionClock?: () => number;
  /** The commission of an execution of `shares` (default `fakeTwsCommission`, IB's fixed US-stock rate). */
  commission?: (shares: number) => number;
  /** The currency a COMMISSION_REPORT names for an execution of this contract (default 'USD'). */
  commissionCurrency?: (contract: { symbol: string; secType: string; currency: string }) => string;
  /**
   * Market data as an account without a live subscription gets it: this notice first (an ERR_MSG for the request's
   * id: TWS API "Message Codes" 10167 "Requested market data is not subscribed. Displaying delayed market data.",
   * 10090 "Part of requested market data is not subscribed. Subscription-independent ticks are still active.
   * Delayed market data is available."), then the delayed ticks (TWS API "Delayed Streaming Data": tick types 66
   * delayed bid, 67 delayed ask, 68 delayed last).
   */
  marketDataNotice?: { code: number; message: string };
  /**
   * Market data refused: REQ_MKT_DATA is answered with this ERR_MSG for the request's id and nothing else. TWS API
   * "Message Codes": 10197 "No market data during competing live session" (TWS API "Error Handling": a market data
   * request "made during a competing session (when a paper user is logged into simultaneously on a different
   * computer from the associated live user)"), 10186 (10168 from older TWS builds) "Requested market data is not
   * subscribed. Delayed market data is not enabled", 354 "Requested market data is not subscribed.", 321 "Server
   * error when validating an API client request".
   */
  marketDataError?: { code: number; message: string };
  /**
   * Whether delayed data exists for what `marketDataError` refuses (default true): after REQ_MARKET_DATA_TYPE 3 or 4
   * it is sent instead of the refusal. false: the refusal stays whatever type was asked for (an instrument or
   * account with no delayed data either).
   */
  delayedMarketData?: boolean;
  /**
   * With delayed ticks, the delayed last trade's time: TICK_STRING (46: version, reqId, tickType, value) of tick type
   * 88, TWS API "Available Tick Types": "Delayed Last Timestamp … Delayed time of the last trade (in UNIX time)", the
   * value as TWS writes it (whole seconds, as text). Unset: not sent.
   */
  delayedLastTimestamp?: string;
  /**
   * TWS's API set to "Read-Only API" (Global Configuration → API → Settings): every PLACE_ORDER is refused with
   * ERR 321, in the text TWS sends ("Error validating request.-'bN' : cause - The API interface is currently in
   * Read-Only mode.", as reported by ib_insync and other TWS clients), and nothing is placed.
   */
  readOnlyApi?: boolean;
  /**
   * Send `Filled` for a market order that executes in full on arrival (default true). false: its last ORDER_STATUS
   * says `Submitted` with `filled` its whole quantity and `remaining` 0, and no `Filled` follows; its executions come
   * as usual, and TWS no longer lists it open (it is done). TWS API "Order Management" → orderStatus: "Filled:
   * indicates that the order has been completely filled. Market orders executions will not always trigger a Filled
   * status."
   */
  filledStatusForMarketOrders?: boolean;
}

/** The fake's commission for one execution: USD 0.005 a share, at least USD 1.00 (IB's fixed US-stock rate). */
export const fakeTwsCommission = (shares: number): number => Math.max(1, Number((shares * 0.005).toFixed(4)));

interface FakeContract {
  conId: number;
  symbol: string;
  secType: string;
  exchange: string;
  currency: string;
  localSymbol: string;
}

interface FakeOrder {
  orderId: number;
  clientId: number;
  permId: number;
  contract: FakeContract;
  action: 'BUY' | 'SELL';
  qty: number;
  type: string;
  lmt: number | undefined;
  aux: number | undefined;
  /** TRAIL: the trail as a percentage (instead of an amount in aux), and the stop it has reached. */
  trailingPercent: number | undefined;
  trailStopPrice: number | undefined;
  tif: string;
  goodTillDate: string;
  orderRef: string;
  status: string;
  filled: number;
  avgFillPrice: number;
  lastFillPrice: number;
  triggered: boolean;
  /** Once done (Filled, Cancelled, Inactive): IB's words for how it ended and when (COMPLETED_ORDER). */
  completedStatus?: string;
  completedTime?: string;
}

interface Position {
  contract: FakeContract;
  qty: number;
  avgCost: number;
}

/**
 * One message of a scripted order life: an ORDER_STATUS (cumulative filled and average price, as TWS sends
 * them) or an ERR_MSG for the order's id (a rejection, a cancel confirmation, or a notice).
 */
export type FakeTwsStep =
  | { status: string; filled?: number; avgFillPrice?: number; lastFillPrice?: number }
  | { error: number; message: string }
  /**
   * An EXECUTION_DATA for the order (a script with one sends no executions of its own). `cumQty` (Execution.cumQty,
   * "Cumulative quantity") defaults to the shares of the script's executions so far, this one included; a
   * correction ("all parameters identical except for the execID", TWS API "Executions and Commissions") repeats
   * the cumQty of the execution it corrects.
   */
  | { execution: { execId: string; shares: number; price: number; lastLiquidity?: number; cumQty?: number } }
  /** A COMMISSION_REPORT (`commission` undefined: IB's "unset" value). */
  | { commissionReport: { execId: string; commission: number | undefined; currency?: string } }
  /** An OPEN_ORDER for the order whose OrderState says this status (TWS sends one on placement and on changes). */
  | { openOrder: string };

export interface FakeTws extends FakeVenue {
  /** Orders as the fake holds them (for assertions). */
  orders(): ReadonlyArray<Readonly<FakeOrder>>;
  /**
   * The next PLACE_ORDER that the fake accepts is answered with exactly these messages, in order, instead of
   * its own matching (the order is kept with the last status sent), e.g. TWS's notices (ERR 10349 "Order TIF
   * was set to DAY based on order preset") before PreSubmitted, partial fills, ApiCancelled, Inactive.
   */
  scriptNextOrder(steps: FakeTwsStep[]): void;
  /** The ExecutionFilter of each REQ_EXECUTIONS: clientId, acctCode, time, symbol, secType, exchange, side. */
  executionFilters(): ReadonlyArray<ReadonlyArray<string>>;
  /** Closes every client connection (as TWS does when it restarts), keeping orders and positions. */
  dropConnections(): void;
  /**
   * Ends a working order at TWS without its client asking (cancelled in TWS's window, expired, made Inactive):
   * `completedStatus` is the text COMPLETED_ORDER carries (TWS API "Completed Orders"). A connected client of its
   * clientId is told (ERR 202 "Order Canceled - reason:…" and the status); one that is away learns it only from
   * REQ_COMPLETED_ORDERS. Returns false when the order is not working.
   */
  endOrder(orderId: number, status: 'Cancelled' | 'ApiCancelled' | 'Inactive', completedStatus: string): boolean;
  /**
   * TWS holds (and reports in OPEN_ORDER and COMPLETED_ORDER) the order's goodTillDate as `text`: as TWS keeps an
   * expiry set in its window or by another client in the exchange's time zone. TWS API "Orders", "Changes in the
   * date/time field": "API allows UTC format "yyyymmdd-hh:mm:ss" … API allows date/time field format with
   * instrument's exchange timezone … Example: IBM 20220930-15:00:00 US/Eastern".
   */
  restateGoodTillDate(orderId: number, text: string): void;
  /**
   * TWS's "Reset API order ID sequence" (Global Configuration → API → Settings): NEXT_VALID_ID starts again at
   * `next` (default 1) while the orders already placed keep their ids, so a client that trusts nextValidId alone
   * sends an id TWS holds and gets ERR 103 "Duplicate order id".
   */
  resetOrderIdSequence(next?: number): void;
  /**
   * Fills a working order at `price` without a word to its client: no ORDER_STATUS, EXECUTION_DATA or
   * COMMISSION_REPORT is sent (as when they were lost to the client), though REQ_EXECUTIONS and REQ_COMPLETED_ORDERS
   * list it, and a cancel of it is refused as TWS refuses one of a filled order (10148 "… cannot be cancelled,
   * state: Filled."). Returns false when the order is not working.
   */
  fillWithoutNotice(orderId: number, price: number): boolean;
  /**
   * Cancels a working order at TWS (in TWS's window) without a word to its client, as `fillWithoutNotice` fills one:
   * a cancel of it is then refused 10148 "… cannot be cancelled, state: Cancelled.". Returns false when not working.
   */
  cancelWithoutNotice(orderId: number): boolean;
  /**
   * The trader changes a working order's size in TWS's window (an API order can be modified there; TWS API "Modifying
   * Orders": an order's "price, size, and tif" are what one changes, the order keeping its `orderId`). Its client is
   * told as TWS tells of any change: an OPEN_ORDER with the new totalQuantity ("The openOrder callback": TWS sends it
   * when an order is placed and when it changes) and an ORDER_STATUS whose `remaining` is the new size less `filled`.
   * Later fills go up to the new size, and Filled then means that. Returns false when the order is not working or the
   * new size is not above what was filled.
   */
  modifyInTws(orderId: number, totalQuantity: number): boolean;
}

const key = (symbol: string): string => symbol.toUpperCase().replace(/[^A-Z0-9]/g, '');
const contractKey = (c: FakeContract): string => (c.secType === 'STK' ? key(c.symbol) : key(c.symbol + c.currency));
const num = (s: string | undefined): number | undefined => {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) && n < 1e300 ? n : undefined;
};

function frame(fields: ReadonlyArray<string | number>): Buffer {
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

function connectionTime(ms = Date.now()): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}

class Session {
  buffer = Buffer.alloc(0);
  handshaken = false;
  started = false;
  clientId = -1;
  /** REQ_MARKET_DATA_TYPE's last value: 1 live (TWS's default), 2 frozen, 3 delayed, 4 delayed-frozen. */
  marketDataType = 1;
  queue: Promise<void> = Promise.resolve();
  constructor(readonly socket: net.Socket) {}
  send(fields: ReadonlyArray<string | number>): void {
    if (!this.socket.destroyed) this.socket.write(frame(fields));
  }
}

export async function startFakeTws(options: FakeTwsOptions = {}): Promise<FakeTws> {
  const sessions = new Set<Session>();
  const quotes = new Map<string, { bid: number; ask: number }>();
  const orders = new Map<number, FakeOrder>();
  const positions = new Map<string, Position>();
  const faults = new FaultQueue();
  const counts = new Map<string, number>();
  let cash = options.cash ?? 100_000;
  let nextId = options.firstOrderId ?? 1;
  let nextPermId = 1_000_000;
  let nextConId = 10_000;
  const conIds = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const sessionOf = (clientId: number): Session | undefined =>
    [...sessions].find((s) => s.clientId === clientId && !s.socket.destroyed);

  const statusFields = (o: FakeOrder, garbled = false): Array<string | number> => [
    3,
    o.orderId,
    o.status,
    garbled ? '1.0.0x' : o.filled,
    garbled ? 'zz' : o.qty - o.filled,
    garbled ? 'NaN?' : o.avgFillPrice,
    o.permId,
    0,
    o.lastFillPrice,
    o.clientId,
    '',
    0,
  ];
  const scripts: FakeTwsStep[][] = [];
  const notify = (o: FakeOrder) => {
    const session = sessionOf(o.clientId);
    session?.send(statusFields(o));
    for (const f of takeFills(o)) if (session && !session.socket.destroyed) session.socket.write(f);
  };
  const error = (s: Session, id: number, code: number, message: string) => s.send([4, 2, id, code, message, '']);
  let execSeq = 0;
  const executionFields = (
    o: FakeOrder,
    e: { execId: string; shares: number; price: number; at: number; lastLiquidity?: number; cumQty?: number },
  ): Array<string | number> => [
    11,
    -1,
    o.orderId,
    o.contract.conId,
    o.contract.symbol,
    o.contract.secType,
    '',
    0,
    '',
    '',
    o.contract.exchange,
    o.contract.currency,
    o.contract.localSymbol,
    '',
    e.execId,
    connectionTime(e.at),
    FAKE_TWS_ACCOUNT,
    o.contract.exchange,
    o.action === 'BUY' ? 'BOT' : 'SLD',
    e.shares,
    e.price,
    o.permId,
    o.clientId,
    0,
    e.cumQty ?? o.filled,
    o.avgFillPrice,
    o.orderRef,
    '',
    '',
    '',
    e.lastLiquidity ?? 2,
    0,
  ];
  const commissionFields = (
    execId: string,
    commission: number | undefined,
    currency = 'USD',
  ): Array<string | number> => [
    59,
    1,
    execId,
    commission ?? '1.7976931348623157E308',
    currency,
    '1.7976931348623157E308',
    '1.7976931348623157E308',
    '',
  ];
  /** Every execution of the day, for REQ_EXECUTIONS: its fields (reqId -1), its commission report, when. */
  const executionLog: Array<{
    clientId: number;
    at: number;
    fields: Array<string | number>;
    report?: Array<string | number>;
  }> = [];
  /** The EXECUTION_DATA and COMMISSION_REPORT frames of one fill of `shares` at `price`. */
  const executionFrames = (o: FakeOrder, shares: number, price: number, liquidity: number): Buffer[] => {
    if (options.executions === false || !(shares > 0)) return [];
    const execId = `0000e0d5.${(o.permId * 1000 + ++execSeq).toString(16)}.01.01`;
    const at = (options.executionClock ?? Date.now)();
    const fields = executionFields(o, { execId, shares, price, at, lastLiquidity: liquidity });
    const frames = [frame(fields)];
    const logged: (typeof executionLog)[number] = { clientId: o.clientId, at, fields };
    if (options.commissionReports !== false) {
      logged.report = commissionFields(
        execId,
        (options.commission ?? fakeTwsCommission)(shares),
        options.commissionCurrency?.(o.contract) ?? 'USD',
      );
      frames.push(frame(logged.report));
    }
    executionLog.push(logged);
    return frames;
  };
  const executionFilters: string[][] = [];
  /** ExecutionFilter.time "yyyymmdd-hh:mm:ss" (or with a space), read as UTC; undefined when absent or unreadable. */
  const filterTime = (t: string | undefined): number | undefined => {
    const m = /^(\d{4})(\d{2})(\d{2})[- ](\d{2}):(\d{2}):(\d{2})/.exec(t ?? '');
    return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
  };
  /** Fills made by matching, sent after the order's next status. */
  const unsentFills = new Map<number, Buffer[]>();
  /** Orders that rested after placement (a later fill of a limit added liquidity). */
  const resting = new Set<number>();
  const takeFills = (o: FakeOrder): Buffer[] => {
    const frames = unsentFills.get(o.orderId) ?? [];
    unsentFills.delete(o.orderId);
    return frames;
  };

  const conIdOf = (c: Omit<FakeContract, 'conId'>): number => {
    const k = contractKey({ ...c, conId: 0 });
    let id = conIds.get(k);
    if (id === undefined) conIds.set(k, (id = nextConId++));
    return id;
  };

  const fill = (o: FakeOrder, price: number, resting = false) => {
    const qty = o.qty - o.filled;
    o.avgFillPrice = (o.avgFillPrice * o.filled + price * qty) / o.qty;
    o.filled = o.qty;
    o.lastFillPrice = price;
    o.status = 'Filled';
    unsentFills.set(o.orderId, [
      ...(unsentFills.get(o.orderId) ?? []),
      ...executionFrames(o, qty, price, resting ? 1 : 2),
    ]);
    const k = contractKey(o.contract);
    const signed = o.action === 'BUY' ? qty : -qty;
    const pos = positions.get(k) ?? { contract: o.contract, qty: 0, avgCost: 0 };
    const newQty = pos.qty + signed;
    if (newQty === 0) positions.delete(k);
    else {
      pos.avgCost =
        Math.sign(pos.qty) === Math.sign(signed) || pos.qty === 0
          ? (pos.avgCost * pos.qty + price * signed) / newQty
          : pos.avgCost;
      pos.qty = newQty;
      positions.set(k, pos);
    }
    if (o.contract.currency === 'USD') cash -= signed * price;
  };

  /** Fills or triggers an order against the touch; returns true when something changed. */
  const evaluate = (o: FakeOrder): boolean => {
    if (o.status !== 'Submitted' && o.status !== 'PreSubmitted') return false;
    const q = quotes.get(contractKey(o.contract));
    if (!q) return false;
    const buy = o.action === 'BUY';
    const touch = buy ? q.ask : q.bid;
    let limit: number | undefined;
    if (o.type === 'MKT') limit = undefined;
    else if (o.type === 'TRAIL') {
      if (!o.triggered) {
        const price = touch;
        const distance = (best: number) => (o.aux !== undefined ? o.aux : (best * (o.trailingPercent ?? 0)) / 100);
        const candidate = buy ? price + distance(price) : price - distance(price);
        // The stop follows the price in the order's favour only.
        if (o.trailStopPrice === undefined || (buy ? candidate < o.trailStopPrice : candidate > o.trailStopPrice))
          o.trailStopPrice = Number(candidate.toFixed(10));
        if (!(buy ? q.ask >= o.trailStopPrice : q.bid <= o.trailStopPrice)) return false;
        o.triggered = true;
        o.status = 'Submitted';
      }
      limit = undefined;
    } else if (o.type === 'LMT') limit = o.lmt;
    else if (o.type === 'STP' || o.type === 'STP LMT') {
      if (!o.triggered) {
        const stop = o.aux ?? 0;
        if (!(buy ? q.ask >= stop : q.bid <= stop)) return false;
        o.triggered = true;
        o.status = 'Submitted';
      }
      limit = o.type === 'STP LMT' ? o.lmt : undefined;
    }
    if (limit !== undefined && !(buy ? touch <= limit : touch >= limit)) return o.status === 'Submitted' && o.triggered;
    fill(o, touch, o.type === 'LMT' && o.status === 'Submitted' && resting.has(o.orderId));
    return true;
  };

  const place = async (s: Session, f: string[]) => {
    const orderId = Number(f[1]);
    const contract0 = {
      symbol: f[3] ?? '',
      secType: f[4] ?? '',
      exchange: f[9] ?? '',
      currency: f[11] ?? '',
      localSymbol: f[12] ?? '',
    };
    const contract: FakeContract = { ...contract0, conId: conIdOf(contract0) };
    const fault = faults.take('submit');
    if (fault?.kind === 'latency') await later(fault.ms);
    if ((fault?.kind === 'timeoutAfterAccept' || fault?.kind === 'dropConnection') && fault.placed === false)
      return fault.kind === 'dropConnection' ? void s.socket.destroy() : undefined;
    if (fault?.kind === 'errorEchoingAccount') {
      error(
        s,
        orderId,
        201,
        `Order rejected - reason:The account ${FAKE_TWS_ACCOUNT} is not permitted to trade this contract.`,
      );
      return s.send([3, orderId, 'Inactive', 0, Number(f[17]), 0, 0, 0, 0, s.clientId, '', 0]);
    }
    if (fault?.kind === 'serverError' && fault.placed !== true)
      return error(
        s,
        orderId,
        fault.status !== undefined && fault.status >= 1000 ? fault.status : 1100,
        'Connectivity between IB and Trader Workstation has been lost.',
      );
    if (fault?.kind === 'rateLimit')
      return error(s, orderId, 100, 'Max rate of messages per second has been exceeded:max=50 rec=51 (1)');
    if (options.readOnlyApi)
      return error(
        s,
        orderId,
        321,
        "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode.",
      );
    // TWS API "Message Codes" 103 "Duplicate order id": an id TWS already holds an order under (TWS API "Placing
    // Orders": a new id must be greater than every id seen in openOrder/orderStatus); nothing is placed.
    if (fault?.kind === 'duplicateClientId' || orders.has(orderId)) return error(s, orderId, 103, 'Duplicate order id');
    if (fault?.kind === 'reject') {
      error(
        s,
        orderId,
        201,
        `Order rejected - reason:${fault.reason ?? 'YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE MUST EXCEED THE INITIAL MARGIN'}`,
      );
      return s.send([3, orderId, 'Inactive', 0, Number(f[17]), 0, 0, 0, 0, s.clientId, '', 0]);
    }
    const o: FakeOrder = {
      orderId,
      clientId: s.clientId,
      permId: nextPermId++,
      contract,
      action: f[16] === 'SELL' ? 'SELL' : 'BUY',
      qty: Number(f[17]),
      type: f[18] ?? '',
      lmt: num(f[19]),
      aux: num(f[20]),
      trailStopPrice: num(f[68]),
      trailingPercent: num(f[69]),
      tif: f[21] ?? '',
      orderRef: f[26] ?? '',
      goodTillDate: f[38] ?? '',
      status: 'Submitted',
      filled: 0,
      avgFillPrice: 0,
      lastFillPrice: 0,
      triggered: false,
    };
    if (o.type === 'TRAIL' && (o.aux === undefined) === (o.trailingPercent === undefined)) {
      error(s, orderId, 201, 'Order rejected - reason:a TRAIL order needs a trailing amount or a trailing percent');
      return s.send([3, orderId, 'Inactive', 0, o.qty, 0, 0, 0, 0, s.clientId, '', 0]);
    }
    if (!(o.qty > 0) || !['MKT', 'LMT', 'STP', 'STP LMT', 'TRAIL'].includes(o.type)) {
      error(s, orderId, 201, `Order rejected - reason:unsupported order (${o.type} ${o.qty})`);
      return s.send([3, orderId, 'Inactive', 0, o.qty, 0, 0, 0, 0, s.clientId, '', 0]);
    }
    if ((o.type === 'MKT' || o.type === 'TRAIL') && !quotes.has(contractKey(contract))) {
      error(s, orderId, 201, `Order rejected - reason:no market data for ${contract.symbol}`);
      return s.send([3, orderId, 'Inactive', 0, o.qty, 0, 0, 0, 0, s.clientId, '', 0]);
    }
    nextId = Math.max(nextId, orderId + 1);
    const script = scripts.shift();
    if (script) {
      orders.set(orderId, o);
      // A script that sends no executions of its own gets one (and its commission) after each status that fills.
      const auto = !script.some((step) => 'execution' in step || 'commissionReport' in step);
      let executed = 0;
      for (const step of script) {
        if ('error' in step) {
          error(s, orderId, step.error, step.message);
          continue;
        }
        if ('execution' in step) {
          executed += step.execution.shares;
          s.send(
            executionFields(o, {
              ...step.execution,
              at: (options.executionClock ?? Date.now)(),
              cumQty: step.execution.cumQty ?? executed,
            }),
          );
          continue;
        }
        if ('openOrder' in step) {
          const status = o.status;
          o.status = step.openOrder;
          s.send(openOrder(o));
          o.status = status;
          continue;
        }
        if ('commissionReport' in step) {
          const r = step.commissionReport;
          s.send(commissionFields(r.execId, r.commission, r.currency));
          continue;
        }
        const before = o.filled;
        const notionalBefore = o.filled * o.avgFillPrice;
        o.status = step.status;
        o.filled = step.filled ?? o.filled;
        o.avgFillPrice = step.avgFillPrice ?? o.avgFillPrice;
        o.lastFillPrice = step.lastFillPrice ?? o.lastFillPrice;
        s.send(statusFields(o));
        const shares = o.filled - before;
        if (auto && shares > 0) {
          const price =
            step.lastFillPrice ?? Number(((o.filled * o.avgFillPrice - notionalBefore) / shares).toFixed(8));
          for (const f of executionFrames(o, shares, price, 2)) s.socket.write(f);
        }
      }
      return;
    }
    o.status = o.type === 'STP' || o.type === 'STP LMT' || o.type === 'TRAIL' ? 'PreSubmitted' : 'Submitted';
    orders.set(orderId, o);
    const accepted = statusFields(o);
    evaluate(o);
    if ((o.tif === 'IOC' || o.tif === 'FOK') && o.status !== 'Filled') o.status = 'Cancelled';
    if (fault?.kind === 'timeoutAfterAccept') return;
    if (fault?.kind === 'dropConnection') return void s.socket.destroy();
    if (fault?.kind === 'malformedBody') return s.send(statusFields(o, true));
    if (fault?.kind === 'serverError')
      return error(
        s,
        orderId,
        fault.status !== undefined && fault.status >= 1000 ? fault.status : 1100,
        'Connectivity between IB and Trader Workstation has been lost.',
      );
    if (o.status === accepted[2] && o.filled === 0) resting.add(orderId);
    // A market order filled on arrival, told without `Filled` (the option's comment): Submitted, nothing remaining.
    const told =
      options.filledStatusForMarketOrders === false && o.type === 'MKT' && o.status === 'Filled'
        ? { ...o, status: 'Submitted' }
        : o;
    s.socket.write(
      Buffer.concat([
        frame(accepted),
        ...(told.status === accepted[2] && told.filled === 0 ? [] : [frame(statusFields(told))]),
        ...takeFills(o),
      ]),
    );
  };

  const cancel = (s: Session, f: string[]) => {
    const orderId = Number(f[2]);
    const fault = faults.take('cancel');
    if ((fault?.kind === 'timeoutAfterAccept' || fault?.kind === 'dropConnection') && fault.placed === false)
      return fault.kind === 'dropConnection' ? void s.socket.destroy() : undefined;
    if (fault?.kind === 'serverError' && fault.placed !== true)
      return error(
        s,
        orderId,
        fault.status !== undefined && fault.status >= 1000 ? fault.status : 1100,
        'Connectivity between IB and Trader Workstation has been lost.',
      );
    const o = orders.get(orderId);
    if (!o) return error(s, orderId, 10147, `OrderId ${orderId} that needs to be cancelled is not found.`);
    if (o.status !== 'Submitted' && o.status !== 'PreSubmitted') {
      if (options.cancelRefusal === '161')
        return error(
          s,
          orderId,
          161,
          `Cancel attempted when order is not in a cancellable state. Order permId = ${o.permId}`,
        );
      const state = options.cancelRefusal === 'bare' ? '' : `, state: ${o.status}`;
      return error(s, orderId, 10148, `OrderId ${orderId} that needs to be cancelled cannot be cancelled${state}.`);
    }
    o.status = 'Cancelled';
    if (fault?.kind === 'timeoutAfterAccept') return;
    if (fault?.kind === 'dropConnection') return void s.socket.destroy();
    if (fault?.kind === 'serverError')
      return error(
        s,
        orderId,
        fault.status !== undefined && fault.status >= 1000 ? fault.status : 1100,
        'Connectivity between IB and Trader Workstation has been lost.',
      );
    error(s, orderId, 202, 'Order Canceled - reason:');
    s.send(statusFields(o));
  };

  const openOrder = (o: FakeOrder): Array<string | number> => {
    // Server version 187: 129 fields after the message id (checked against @stoqey/ib's decoder).
    const f: Array<string | number> = new Array<string | number>(129).fill('');
    const set = (i: number, v: string | number | undefined) => (f[i] = v ?? '');
    set(0, o.orderId);
    set(1, o.contract.conId);
    set(2, o.contract.symbol);
    set(3, o.contract.secType);
    set(8, o.contract.exchange);
    set(9, o.contract.currency);
    set(10, o.contract.localSymbol);
    set(12, o.action);
    set(13, o.qty);
    set(14, o.type);
    set(15, o.lmt);
    set(16, o.aux);
    set(17, o.tif);
    set(19, FAKE_TWS_ACCOUNT);
    set(22, o.orderRef);
    set(23, o.clientId);
    set(24, o.permId);
    set(34, o.goodTillDate);
    set(64, o.trailStopPrice);
    set(65, o.trailingPercent);
    set(84, o.status);
    return [5, ...f];
  };

  /**
   * COMPLETED_ORDER (101), TWS API "Completed Orders" (interactivebrokers.github.io/tws-api/completed_orders.html):
   * "IBApi.EClient.reqCompletedOrders … apiOnly - request only API orders", answered by
   * "IBApi.EWrapper.completedOrder (Contract contract, Order order, OrderState orderState)" for each and then
   * "IBApi.EWrapper.completedOrdersEnd" (COMPLETED_ORDERS_END, 102, no fields); MIN_SERVER_VER_COMPLETED_ORDERS 150.
   * The message carries no orderId and no clientId: the order is known by its permId and orderRef. OrderState has
   * `status` ("Filled", "Cancelled", "Inactive"), `completedTime` and `completedStatus` (IB's text). Field layout
   * at server version 187: 97 fields after the message id, as @stoqey/ib's decodeMsg_COMPLETED_ORDER reads them
   * (contract 0-10, action 11, totalQuantity 12, orderType 13, lmtPrice 14, auxPrice 15, tif 16, account 18,
   * orderRef 21, permId 22, goodTillDate 31, trailingPercent 56, status 71, trailStopPrice 75, filledQuantity 81,
   * completedTime 88, completedStatus 89; checked by decoding it with the library).
   */
  const completedOrder = (o: FakeOrder): Array<string | number> => {
    const f: Array<string | number> = new Array<string | number>(97).fill('');
    const set = (i: number, v: string | number | undefined) => (f[i] = v ?? '');
    set(0, o.contract.conId);
    set(1, o.contract.symbol);
    set(2, o.contract.secType);
    set(7, o.contract.exchange);
    set(8, o.contract.currency);
    set(9, o.contract.localSymbol);
    set(11, o.action);
    set(12, o.qty);
    set(13, o.type);
    set(14, o.lmt);
    set(15, o.aux);
    set(16, o.tif);
    set(18, FAKE_TWS_ACCOUNT);
    set(21, o.orderRef);
    set(22, o.permId);
    set(31, o.goodTillDate);
    set(56, o.trailingPercent);
    set(71, o.status);
    set(75, o.trailStopPrice);
    set(81, o.filled);
    set(88, o.completedTime ?? connectionTime());
    set(89, o.completedStatus ?? o.status);
    return [101, ...f];
  };

  const handle = async (s: Session, f: string[]) => {
    const id = Number(f[0]);
    const name = MSG_NAMES[id] ?? `MSG_${id}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (!s.started && id !== 71) return;
    switch (id) {
      case 71:
        if (sessionOf(Number(f[2]))) {
          error(s, -1, 326, 'Unable to connect as the client id is already in use. Retry with a unique client id.');
          return void s.socket.end();
        }
        s.started = true;
        s.clientId = Number(f[2]);
        s.send([9, 1, nextId]);
        s.send([15, 1, FAKE_TWS_ACCOUNT]);
        return;
      case 8:
        s.send([9, 1, nextId++]);
        return;
      case 7: {
        executionFilters.push(f.slice(3, 10));
        if (options.executionRequests === false) return;
        const reqId = Number(f[2]);
        const client = f[3] === undefined || f[3] === '' ? undefined : Number(f[3]);
        const since = filterTime(f[5]);
        for (const e of executionLog) {
          if (client !== undefined && e.clientId !== client) continue;
          // ExecutionFilter.time: "Only those executions reported after the specified time will be returned" (an
          // execution's time is to the second): one in the very second the filter names is not after it.
          if (since !== undefined && Math.floor(e.at / 1000) * 1000 <= since) continue;
          s.send([e.fields[0] as number, reqId, ...e.fields.slice(2)]);
          if (e.report) s.send(e.report);
        }
        s.send([55, 1, reqId]);
        return;
      }
      case 3:
        return place(s, f);
      case 4:
        return cancel(s, f);
      case 16:
        for (const o of orders.values()) {
          if (DONE.has(o.status)) continue;
          s.send(openOrder(o));
          s.send(statusFields(o));
        }
        s.send([53, 1]);
        return;
      case 99:
        // [99, apiOnly]: every order of the day that is done (all of the fake's orders come from the API).
        if (options.completedOrderRequests === false) return;
        for (const o of orders.values()) if (DONE.has(o.status)) s.send(completedOrder(o));
        s.send([102]);
        return;
      case 61:
        for (const p of positions.values()) {
          const c = p.contract;
          s.send([
            61,
            3,
            FAKE_TWS_ACCOUNT,
            c.conId,
            c.symbol,
            c.secType,
            '',
            0,
            '',
            '',
            c.exchange,
            c.currency,
            c.localSymbol,
            '',
            p.qty,
            p.avgCost,
          ]);
        }
        s.send([62, 1]);
        return;
      case 62: {
        const reqId = Number(f[2]);
        const tags = (f[4] ?? '').split(',');
        let marked = cash;
        for (const p of positions.values()) {
          const q = quotes.get(contractKey(p.contract));
          marked += p.qty * (q ? (q.bid + q.ask) / 2 : p.avgCost);
        }
        const values: Record<string, number> = {
          NetLiquidation: marked,
          TotalCashValue: cash,
          BuyingPower: marked * 4,
          AvailableFunds: marked,
        };
        for (const tag of tags)
          if (values[tag] !== undefined) s.send([63, 1, reqId, FAKE_TWS_ACCOUNT, tag, values[tag].toFixed(2), 'USD']);
        s.send([64, 1, reqId]);
        return;
      }
      case 1: {
        const reqId = Number(f[2]);
        const c = { symbol: f[4] ?? '', secType: f[5] ?? '', currency: f[12] ?? '' };
        const q = quotes.get(contractKey({ ...c, conId: 0, exchange: '', localSymbol: '' }));
        if (!q) return error(s, reqId, 200, 'No security definition has been found for the request');
        const refused = options.marketDataError;
        const delayed =
          refused !== undefined &&
          NOT_SUBSCRIBED.has(refused.code) &&
          (s.marketDataType === 3 || s.marketDataType === 4) &&
          options.delayedMarketData !== false;
        if (refused && !delayed) return error(s, reqId, refused.code, refused.message);
        const notice = options.marketDataNotice;
        if (notice || delayed) {
          if (delayed) s.send([58, 1, reqId, s.marketDataType]);
          if (notice) error(s, reqId, notice.code, notice.message);
          s.send([1, 6, reqId, 66, q.bid, 100, 0]);
          s.send([1, 6, reqId, 67, q.ask, 200, 0]);
          s.send([1, 6, reqId, 68, (q.bid + q.ask) / 2, 1, 0]);
          if (options.delayedLastTimestamp !== undefined) s.send([46, 6, reqId, 88, options.delayedLastTimestamp]);
          s.send([57, 1, reqId]);
          return;
        }
        // TICK_PRICE carries a size too, but @stoqey/ib drops the bid's (tick type 0 is falsy), so TWS's separate TICK_SIZE matters.
        s.send([1, 6, reqId, 1, q.bid, 100, 0]);
        s.send([2, 6, reqId, 0, 100]);
        s.send([1, 6, reqId, 2, q.ask, 200, 0]);
        s.send([2, 6, reqId, 3, 200]);
        s.send([1, 6, reqId, 4, (q.bid + q.ask) / 2, 1, 0]);
        s.send([57, 1, reqId]);
        return;
      }
      case 59:
        s.marketDataType = Number(f[2]);
        return;
      default:
        return;
    }
  };

  const onData = (s: Session, chunk: Buffer) => {
    s.buffer = Buffer.concat([s.buffer, chunk]);
    if (!s.handshaken) {
      if (s.buffer.length < 8) return;
      if (s.buffer.subarray(0, 4).toString('latin1') !== 'API\0') return void s.socket.destroy();
      const len = s.buffer.readUInt32BE(4);
      if (s.buffer.length < 8 + len) return;
      s.buffer = s.buffer.subarray(8 + len);
      s.handshaken = true;
      s.send([FAKE_TWS_SERVER_VERSION, connectionTime()]);
    }
    while (s.buffer.length >= 4) {
      const len = s.buffer.readUInt32BE(0);
      if (s.buffer.length < 4 + len) return;
      const body = s.buffer.subarray(4, 4 + len).toString('utf8');
      s.buffer = s.buffer.subarray(4 + len);
      const fields = body.split('\0');
      if (fields[fields.length - 1] === '') fields.pop();
      s.queue = s.queue
        .then(() => handle(s, fields))
        .catch(() => {
          s.socket.destroy();
        });
    }
  };

  const server = net.createServer((socket) => {
    const s = new Session(socket);
    sessions.add(s);
    socket.on('data', (chunk) => onData(s, chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `tcp://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    setQuote(symbol: string, bid: number, ask: number) {
      quotes.set(key(symbol), { bid, ask });
      for (const o of orders.values()) {
        if (contractKey(o.contract) !== key(symbol)) continue;
        const before = `${o.status}/${o.filled}`;
        if (evaluate(o) || `${o.status}/${o.filled}` !== before) notify(o);
      }
    },
    injectNext(fault: FakeFault) {
      faults.push(fault);
    },
    ordersWithClientId(clientOrderId: string) {
      return [...orders.values()].filter((o) => o.orderRef === clientOrderId).length;
    },
    requestCount(route?: string) {
      if (route === undefined) return [...counts.values()].reduce((a, b) => a + b, 0);
      return counts.get(route) ?? 0;
    },
    requestCounts() {
      return Object.fromEntries(counts);
    },
    orders: () => [...orders.values()],
    scriptNextOrder(steps: FakeTwsStep[]) {
      scripts.push(steps);
    },
    executionFilters() {
      return executionFilters;
    },
    dropConnections() {
      for (const s of sessions) s.socket.destroy();
    },
    restateGoodTillDate(orderId, text) {
      const o = orders.get(orderId);
      if (!o) throw new Error(`no order ${orderId}`);
      o.goodTillDate = text;
    },
    endOrder(orderId, status, completedStatus) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'Submitted' && o.status !== 'PreSubmitted')) return false;
      o.status = status;
      o.completedStatus = completedStatus;
      o.completedTime = connectionTime();
      resting.delete(orderId);
      const session = sessionOf(o.clientId);
      if (session) {
        if (status !== 'Inactive') error(session, orderId, 202, `Order Canceled - reason:${completedStatus}`);
        session.send(statusFields(o));
      }
      return true;
    },
    fillWithoutNotice(orderId, price) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'Submitted' && o.status !== 'PreSubmitted')) return false;
      fill(o, price);
      unsentFills.delete(orderId);
      o.completedStatus = 'Filled';
      o.completedTime = connectionTime();
      resting.delete(orderId);
      return true;
    },
    cancelWithoutNotice(orderId) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'Submitted' && o.status !== 'PreSubmitted')) return false;
      o.status = 'Cancelled';
      o.completedStatus = 'Cancelled by Trader';
      o.completedTime = connectionTime();
      resting.delete(orderId);
      return true;
    },
    modifyInTws(orderId, totalQuantity) {
      const o = orders.get(orderId);
      if (!o || (o.status !== 'Submitted' && o.status !== 'PreSubmitted') || !(totalQuantity > o.filled)) return false;
      o.qty = totalQuantity;
      const session = sessionOf(o.clientId);
      session?.send(openOrder(o));
      session?.send(statusFields(o));
      return true;
    },
    resetOrderIdSequence(next = 1) {
      nextId = next;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sessions) s.socket.destroy();
      sessions.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
