/**
 * A fake OANDA v20 REST venue on 127.0.0.1 (an ephemeral port), speaking the routes and bodies of
 * `/work/shared/reference/brokers.md` §5 under `/v3/accounts/{id}`:
 *   POST /orders · GET /orders/{id|@clientId} · PUT /orders/{spec}/cancel · GET /orders?state=PENDING
 *   GET /pendingOrders · GET /summary · GET /openPositions · GET /pricing?instruments=
 *   GET /instruments?instruments= · GET /transactions/{id} · GET /transactions/idrange?from=&to=&type=
 * It checks `Authorization: Bearer <token>` (401) and the account id (403), enforces precision,
 * minimum size and the TIF rules (market FOK/IOC only; GTD needs a future gtdTime), keeps orders by
 * id and clientExtensions.id (a reused client id is refused with CLIENT_ORDER_ID_ALREADY_EXISTS),
 * fills market orders at the touch (buy at the ask, sell at the bid; unlimited liquidity), rests
 * limit and stop orders until `setQuote` makes them executable or their gtdTime passes (checked
 * on every request against `now()`), nets positions, and refuses orders beyond its margin
 * (marginRate × notional, with the quote currency taken 1:1 as the account's) the way OANDA does:
 * 201 with the order created and cancelled for INSUFFICIENT_MARGIN.
 *
 * Faults (`injectNext`) apply to the next `POST /orders` (`on: 'submit'`, default), `PUT
 * /orders/{spec}/cancel` (`on: 'cancel'`), `GET /orders/{spec}` (`on: 'lookup'`) or `GET /pendingOrders`
 * (`on: 'list'`), FIFO per target
 * (`playHttpFault` in ../control.ts):
 * latency → answer late · timeoutAfterAccept → act (or not, `placed: false`), never answer (the
 * socket is closed by close()) · serverError → 5xx (default 500), `{errorMessage}` or a gateway's
 * HTML page, after acting when `placed` (OANDA's spec documents 4xx error responses only; a 5xx is
 * the HTTP layer's, RFC 9110 §15.6, and promises nothing about the order) · rateLimit → 429 +
 * Retry-After (seconds or HTTP-date), nothing done (best-practices page: limit requests per
 * connection; a 429 is the limiter refusing the request) · dropConnection → act (or not), destroy
 * the socket · malformedBody → act, answer 201/200 with a body missing required fields ·
 * duplicateClientId → 400 CLIENT_ORDER_ID_ALREADY_EXISTS · reject → 400 orderRejectTransaction with
 * the reason (default INSUFFICIENT_MARGIN) · errorEchoingAccount → 400 whose errorMessage quotes the
 * request path with the account id in it.
 *
 * Past 450 lines on purpose: one fake is one closure over one venue's state (quotes, orders, transactions,
 * positions, faults), and its routes, matching and fault hooks read and change that state together; split
 * apart they would pass all of it around.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultQueue, playHttpFault, type FakeFault, type FakeVenue } from '../control';

export interface FakeOandaInstrument {
  name: string;
  type: 'CURRENCY' | 'CFD' | 'METAL';
  pipLocation: number;
  displayPrecision: number;
  tradeUnitsPrecision: number;
  minimumTradeSize: string;
  maximumOrderUnits: string;
}

export interface FakeOandaOptions {
  token?: string;
  accountId?: string;
  currency?: string;
  balance?: number;
  /** Margin per unit of notional; default 0.02 (50:1). */
  marginRate?: number;
  instruments?: FakeOandaInstrument[];
  /** The venue's time (GTD expiry, transaction times); default Date.now. */
  now?: () => number;
  /** Echo the Authorization header in 401 messages (to prove the client redacts it). */
  leakyErrors?: boolean;
  /**
   * Commission per unit of notional (default 0). OrderFillTransaction.commission: "The commission charged in
   * the Account's home currency as a result of filling the Order. The commission is always represented as a
   * positive quantity of the Account's home currency, however it reduces the balance in the Account."
   */
  commissionRate?: number;
  /**
   * Which prices an ORDER_FILL carries: 'all' (default: `price`, `fullVWAP` and the trades' prices) or
   * 'tradesOnly'. The spec requires none of them and says of `price`: "This field is now deprecated and should
   * no longer be used. The individual tradesClosed, tradeReduced and tradeOpened fields contain the
   * exact/official price each unit was filled at."; `fullVWAP` is what the units "should have been filled at,
   * in the absence of guaranteed price execution". 'fillOnly': `price` on the fill and none on its trades, as
   * OANDA's example replies show them (Trade Endpoints: a TradeOpen `{tradeID, units}`; the spec's TradeOpen and
   * TradeReduce require no field, their `price` included).
   */
  fillPrices?: 'all' | 'tradesOnly' | 'fillOnly';
  /**
   * Order objects carry `fillingTransactionID`, `filledTime` and `tradeOpenedID` only when the order is FILLED, as
   * Order Definitions word each: "ID of the Transaction that filled this Order (only provided when the Order's state
   * is FILLED)". An IOC filled in part and then cancelled then names its cancel only; its fill is found in the
   * account's transactions (GET /transactions/idrange?from=&to=&type=, "Get a range of Transactions for an Account
   * based on the Transaction IDs", `{transactions: [...], lastTransactionID}`).
   */
  strictOrderFields?: boolean;
  /**
   * Serve only the routes of brokers.md §5's minimal fake: no GET /transactions/{id} nor /transactions/idrange
   * (answered 404, as a server answers a route it does not have). An order's fill is then known only from the
   * order object (state FILLED, its price, fillingTransactionID).
   */
  noTransactionRoutes?: boolean;
  /** Order objects never name the transaction that filled them (a FILLED order without fillingTransactionID). */
  omitFillingTransactionId?: boolean;
  /**
   * A GTC/GTD limit or stop that can fill only in part (`setLiquidity`) fills that part and its remaining units go
   * on as a NEW order that replaces it. From the docs: Order Endpoints, POST /orders 201, `orderReissueTransaction`:
   * "The Transaction that reissues the Order. Only provided when the Order is configured to be reissued for its
   * remaining units after a partial fill and the reissue was successful"; Transaction Definitions,
   * LimitOrderTransaction/StopOrderTransaction: `reason` (LimitOrderReason "CLIENT_ORDER, REPLACEMENT"),
   * `replacesOrderID` ("The ID of the Order that this Order replaces") and `cancellingTransactionID` ("The ID of
   * the Transaction that cancels the replaced Order"); an order's id "derived from the TransactionID of the
   * Transaction that created the Order" (a new id); OrderCancelTransaction.replacedByOrderID and
   * Order.replacedByOrderID on the replaced order. The spec names no cancel reason for a reissue: the fake says
   * CLIENT_REQUEST_REPLACED (its only replacement reason). The reissue carries the order's clientExtensions
   * (`@clientId` then finds the reissued order), unless `reissueKeepsClientId` is false.
   */
  reissueRemainder?: boolean;
  reissueKeepsClientId?: boolean;
}

export const DEFAULT_FAKE_INSTRUMENTS: FakeOandaInstrument[] = [
  {
    name: 'EUR_USD',
    type: 'CURRENCY',
    pipLocation: -4,
    displayPrecision: 5,
    tradeUnitsPrecision: 0,
    minimumTradeSize: '1',
    maximumOrderUnits: '100000000',
  },
  {
    name: 'USD_JPY',
    type: 'CURRENCY',
    pipLocation: -2,
    displayPrecision: 3,
    tradeUnitsPrecision: 0,
    minimumTradeSize: '1',
    maximumOrderUnits: '100000000',
  },
  {
    name: 'DE30_EUR',
    type: 'CFD',
    pipLocation: 0,
    displayPrecision: 1,
    tradeUnitsPrecision: 1,
    minimumTradeSize: '0.1',
    maximumOrderUnits: '2500',
  },
];

export interface FakeOandaOrder {
  id: string;
  type: 'MARKET' | 'LIMIT' | 'STOP';
  state: 'PENDING' | 'FILLED' | 'TRIGGERED' | 'CANCELLED';
  instrument: string;
  units: string;
  price?: string;
  priceBound?: string;
  timeInForce: string;
  gtdTime?: string;
  positionFill: string;
  triggerCondition?: string;
  clientExtensions?: { id?: string; tag?: string; comment?: string };
  createTime: string;
  fillingTransactionID?: string;
  filledTime?: string;
  cancellingTransactionID?: string;
  cancelledTime?: string;
  replacesOrderID?: string;
  replacedByOrderID?: string;
}

export interface RecordedRequest {
  method: string;
  route: string;
  path: string;
  body: unknown;
}

export interface FakeOanda extends FakeVenue {
  readonly token: string;
  readonly accountId: string;
  /** Every request received, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** The `order` bodies of every `POST /orders`, oldest first. */
  orderBodies(): Array<Record<string, unknown>>;
  orders(): FakeOandaOrder[];
  setBalance(amount: number): void;
  balance(): number;
  /** Re-evaluates resting orders (expiry, triggers) now; every request and setQuote do it too. */
  evaluate(): void;
  /**
   * A price as OANDA sends it outside trading hours or during a halt: `tradeable` false, `time` the time of the
   * last price (ClientPrice, developer.oanda.com/rest-live-v20/pricing-df).
   */
  setPriceState(instrument: string, state: { tradeable?: boolean; time?: number }): void;
  /**
   * At most this many units of `instrument` can be filled at once from now on (undefined: unlimited). An IOC
   * order fills what there is and the rest is cancelled (INSUFFICIENT_LIQUIDITY); a FOK order that cannot fill
   * entirely is cancelled (TimeInForce: "FOK: The Order must be immediately 'Filled Or Killed'", "IOC: The
   * Order must be 'Immediately partially filled Or Cancelled'").
   */
  setLiquidity(instrument: string, units: number | undefined): void;
  /**
   * Replaces a pending order as OANDA does for PUT /orders/{orderSpecifier} (Order Endpoints, "Replace an Order in an
   * Account by simultaneously cancelling it and creating a replacement Order"; what OANDA's own platforms do when a
   * user edits an order): the order is CANCELLED (OrderCancelTransaction reason CLIENT_REQUEST_REPLACED,
   * `replacedByOrderID`), a new order is created (its create transaction's reason REPLACEMENT, `replacesOrderID`,
   * `cancellingTransactionID`) with the fields given and the old order's other fields, its clientExtensions too
   * unless `clientExtensions` is null (a replacement request that sends none). Returns the new order's id.
   */
  replaceOrder(
    orderId: string,
    changes: {
      type?: 'LIMIT' | 'STOP';
      price?: string;
      units?: string;
      timeInForce?: string;
      gtdTime?: string;
      clientExtensions?: null;
    },
  ): string;
  /**
   * Changes a pending order's client extensions as `PUT /orders/{orderSpecifier}/clientExtensions` does ("Update the
   * Client Extensions for an Order in an Account", Order Endpoints; ClientExtensions: "Do not set, modify, or delete
   * this field if your account is associated with MT4", whose platform keeps its own there): the order keeps its id,
   * an ORDER_CLIENT_EXTENSIONS_MODIFY transaction (`orderID`, `clientOrderID` the id before, `clientExtensionsModify`)
   * is recorded, and the order answers to `@<new id>` only from then on (its later transactions name the new one).
   */
  modifyClientExtensions(orderId: string, clientExtensions: { id: string; tag?: string; comment?: string }): void;
}

interface Quote {
  bid: number;
  ask: number;
  /**
   * ClientPrice.tradeable (developer.oanda.com/rest-live-v20/pricing-df: "Flag indicating if the Price is tradeable
   * or not"): false while the market is closed or the instrument halted, the price being the last one before.
   */
  tradeable?: boolean;
  /** ClientPrice.time ("The date/time when the Price was created"), ms; default: the venue's now at the request. */
  time?: number;
}
interface Net {
  units: number;
  avg: number;
}
type Json = Record<string, unknown>;

class Reject extends Error {
  constructor(
    readonly rejectReason: string,
    message: string,
  ) {
    super(message);
  }
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const decimalsIn = (s: string): number => (s.includes('.') ? (s.split('.')[1] ?? '').length : 0);
/** RFC 3339 with nanoseconds, as OANDA writes it. */
const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000000Z');
const money = (n: number): string => n.toFixed(4);

export async function startFakeOanda(options: FakeOandaOptions = {}): Promise<FakeOanda> {
  const token = options.token ?? 'fake-oanda-token-0123456789abcdef';
  const accountId = options.accountId ?? '101-001-1234567-001';
  const currency = options.currency ?? 'USD';
  const marginRate = options.marginRate ?? 0.02;
  const now = options.now ?? (() => Date.now());
  const instruments = new Map((options.instruments ?? DEFAULT_FAKE_INSTRUMENTS).map((i) => [i.name, i]));
  let balance = options.balance ?? 100_000;
  let lastTx = 0;
  const quotes = new Map<string, Quote>([
    ['EUR_USD', { bid: 1.0999, ask: 1.1001 }],
    ['USD_JPY', { bid: 150.0, ask: 150.02 }],
    ['DE30_EUR', { bid: 16000.0, ask: 16001.0 }],
  ]);
  const orders = new Map<string, FakeOandaOrder>();
  const byClientId = new Map<string, string>();
  const transactions = new Map<string, Json>();
  const positions = new Map<string, Net>();
  /** Open trades per instrument, oldest first (signed units), as OANDA keeps them (FIFO closing). */
  const trades = new Map<string, Array<{ id: string; units: number }>>();
  const liquidity = new Map<string, number>();
  const commissionRate = options.commissionRate ?? 0;
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const held = new Set<ServerResponse>();

  const nextId = (): string => String(++lastTx);
  const record = (tx: Json): Json => {
    transactions.set(tx.id as string, tx);
    return tx;
  };
  const txBase = (id: string): Json => ({
    id,
    accountID: accountId,
    userID: 1,
    batchID: id,
    requestID: `req-${id}`,
    time: rfc3339(now()),
  });
  const instrumentOf = (name: string): FakeOandaInstrument | undefined => instruments.get(name);
  const fmtPrice = (instrument: string, p: number): string =>
    p.toFixed(instrumentOf(instrument)?.displayPrecision ?? 5);
  const mid = (instrument: string): number | undefined => {
    const q = quotes.get(instrument);
    return q ? (q.bid + q.ask) / 2 : undefined;
  };

  function unrealized(instrument: string, pos: Net): number {
    const m = mid(instrument) ?? pos.avg;
    return (m - pos.avg) * pos.units;
  }
  function totals(): { upl: number; nav: number; marginUsed: number; marginAvailable: number } {
    let upl = 0;
    let marginUsed = 0;
    for (const [instrument, pos] of positions) {
      upl += unrealized(instrument, pos);
      marginUsed += Math.abs(pos.units) * (mid(instrument) ?? pos.avg) * marginRate;
    }
    const nav = balance + upl;
    return { upl, nav, marginUsed, marginAvailable: nav - marginUsed };
  }

  /** Applies a fill to the netted position; returns the realized P/L. */
  function applyFill(instrument: string, units: number, price: number): number {
    const pos = positions.get(instrument) ?? { units: 0, avg: 0 };
    let pl = 0;
    if (pos.units === 0 || Math.sign(pos.units) === Math.sign(units)) {
      const total = Math.abs(pos.units) + Math.abs(units);
      pos.avg = (Math.abs(pos.units) * pos.avg + Math.abs(units) * price) / total;
      pos.units += units;
    } else {
      const closing = Math.min(Math.abs(units), Math.abs(pos.units));
      pl = closing * (price - pos.avg) * Math.sign(pos.units);
      const after = pos.units + units;
      if (after === 0) pos.avg = 0;
      else if (Math.sign(after) !== Math.sign(pos.units)) pos.avg = price;
      pos.units = Number(after.toFixed(10));
    }
    balance += pl;
    if (pos.units === 0) positions.delete(instrument);
    else positions.set(instrument, pos);
    return pl;
  }

  /** The trades a fill opens, closes and reduces (TradeOpen, TradeReduce in the spec), FIFO. */
  function tradeEffects(instrument: string, units: number, price: number, id: string): Json {
    const open = trades.get(instrument) ?? [];
    const out: Json = {};
    const closed: Json[] = [];
    let left = units;
    const p = fmtPrice(instrument, price);
    while (left !== 0 && open.length > 0 && Math.sign(open[0]!.units) !== Math.sign(left)) {
      const t = open[0]!;
      const take = Math.min(Math.abs(left), Math.abs(t.units)) * Math.sign(left);
      const effect = {
        tradeID: t.id,
        units: String(take),
        ...(options.fillPrices === 'fillOnly' ? { financing: '0.0000' } : { price: p, halfSpreadCost: '0.0000' }),
        realizedPL: '0.0000',
      };
      t.units = Number((t.units + take).toFixed(10));
      left = Number((left - take).toFixed(10));
      if (t.units === 0) {
        open.shift();
        closed.push(effect);
      } else out.tradeReduced = effect;
    }
    if (closed.length > 0) out.tradesClosed = closed;
    if (left !== 0) {
      open.push({ id, units: left });
      out.tradeOpened =
        options.fillPrices === 'fillOnly'
          ? { tradeID: id, units: String(left) }
          : { tradeID: id, units: String(left), price: p, halfSpreadCost: '0.0000' };
    }
    if (open.length > 0) trades.set(instrument, open);
    else trades.delete(instrument);
    return out;
  }

  function fill(order: FakeOandaOrder, price: number, fillUnits?: number): Json {
    const units = fillUnits ?? Number(order.units);
    const pl = applyFill(order.instrument, units, price);
    const commission = Math.abs(units) * price * commissionRate;
    balance -= commission;
    const id = nextId();
    const unitsText = fillUnits === undefined ? order.units : String(fillUnits);
    const tx = record({
      ...txBase(id),
      type: 'ORDER_FILL',
      orderID: order.id,
      ...(order.clientExtensions?.id ? { clientOrderID: order.clientExtensions.id } : {}),
      instrument: order.instrument,
      units: unitsText,
      ...(options.fillPrices === 'tradesOnly'
        ? {}
        : { price: fmtPrice(order.instrument, price), fullVWAP: fmtPrice(order.instrument, price) }),
      reason: `${order.type}_ORDER`,
      pl: money(pl),
      financing: '0.0000',
      commission: money(commission),
      halfSpreadCost: '0.0000',
      accountBalance: money(balance),
      ...tradeEffects(order.instrument, units, price, id),
    });
    order.state = 'FILLED';
    order.fillingTransactionID = id;
    order.filledTime = tx.time as string;
    return tx;
  }

  function cancel(order: FakeOandaOrder, reason: string): Json {
    const id = nextId();
    const tx = record({
      ...txBase(id),
      type: 'ORDER_CANCEL',
      orderID: order.id,
      ...(order.clientExtensions?.id ? { clientOrderID: order.clientExtensions.id } : {}),
      reason,
    });
    order.state = 'CANCELLED';
    order.cancellingTransactionID = id;
    order.cancelledTime = tx.time as string;
    return tx;
  }

  /**
   * Fills `part` units (signed) of `order` and reissues the rest as a new order replacing it (`reissueRemainder`):
   * the ORDER_FILL, the new order's create transaction (reason REPLACEMENT, replacesOrderID) and the cancel of the
   * original (replacedByOrderID).
   */
  function fillAndReissue(order: FakeOandaOrder, price: number, part: number): { fill: Json; reissue: Json } {
    const fillTx = fill(order, price, part);
    const rest = Number((Number(order.units) - part).toFixed(10));
    const id = nextId();
    const next: FakeOandaOrder = { ...order, id, state: 'PENDING', units: String(rest), createTime: rfc3339(now()) };
    delete next.fillingTransactionID;
    delete next.filledTime;
    next.replacesOrderID = order.id;
    if (options.reissueKeepsClientId === false) delete next.clientExtensions;
    else if (order.clientExtensions) next.clientExtensions = { ...order.clientExtensions };
    orders.set(id, next);
    const cancelTx = cancel(order, 'CLIENT_REQUEST_REPLACED');
    cancelTx.replacedByOrderID = id;
    order.replacedByOrderID = id;
    if (next.clientExtensions?.id) byClientId.set(next.clientExtensions.id, id);
    const { id: _id, state: _s, createTime: _c, ...fields } = next;
    const reissue = record({
      ...txBase(id),
      ...fields,
      type: `${next.type}_ORDER`,
      reason: 'REPLACEMENT',
      cancellingTransactionID: cancelTx.id,
    });
    return { fill: fillTx, reissue };
  }

  /** The price an order executes at now, or undefined when it cannot. */
  function executable(order: FakeOandaOrder): number | undefined {
    const q = quotes.get(order.instrument);
    if (!q) return undefined;
    const buy = Number(order.units) > 0;
    const touch = buy ? q.ask : q.bid;
    if (order.type === 'MARKET') return touch;
    const price = Number(order.price);
    if (order.type === 'LIMIT') return (buy ? touch <= price : touch >= price) ? touch : undefined;
    return (buy ? touch >= price : touch <= price) ? touch : undefined;
  }

  const boundOk = (order: FakeOandaOrder, price: number): boolean =>
    order.priceBound === undefined ||
    (Number(order.units) > 0 ? price <= Number(order.priceBound) : price >= Number(order.priceBound));

  /** Margin needed beyond what the account has for the position this order would leave. */
  function marginShort(order: FakeOandaOrder, price: number): boolean {
    const before = positions.get(order.instrument)?.units ?? 0;
    const after = before + Number(order.units);
    if (Math.abs(after) <= Math.abs(before)) return false;
    return (Math.abs(after) - Math.abs(before)) * price * marginRate > totals().marginAvailable;
  }

  /** The units (signed) a resting order reissued after a partial fill fills now, or undefined (it fills whole). */
  function reissuedPart(order: FakeOandaOrder): number | undefined {
    const available = liquidity.get(order.instrument);
    const wanted = Math.abs(Number(order.units));
    const resting = order.type !== 'MARKET' && (order.timeInForce === 'GTC' || order.timeInForce === 'GTD');
    if (!options.reissueRemainder || !resting || available === undefined || available <= 0 || available >= wanted)
      return undefined;
    return available * Math.sign(Number(order.units));
  }

  function evaluate(): void {
    const t = now();
    // The orders as they stand: one a reissue creates now waits for the next evaluation.
    for (const order of [...orders.values()]) {
      if (order.state !== 'PENDING') continue;
      if (order.timeInForce === 'GTD' && order.gtdTime !== undefined && Date.parse(order.gtdTime) <= t) {
        cancel(order, 'TIME_IN_FORCE_EXPIRED');
        continue;
      }
      const price = executable(order);
      if (price === undefined) continue;
      const part = reissuedPart(order);
      if (!boundOk(order, price)) cancel(order, 'BOUNDS_VIOLATION');
      else if (marginShort(order, price)) cancel(order, 'INSUFFICIENT_MARGIN');
      else if (part !== undefined) fillAndReissue(order, price, part);
      else fill(order, price);
    }
  }

  /** Validates an order request as OANDA does; throws Reject. */
  function validateOrder(o: Json): FakeOandaOrder {
    const type = o.type;
    if (type !== 'MARKET' && type !== 'LIMIT' && type !== 'STOP')
      throw new Reject('ORDER_TYPE_INVALID', `order type ${String(type)} is not supported here`);
    const instrument = typeof o.instrument === 'string' ? instrumentOf(o.instrument) : undefined;
    if (!instrument) throw new Reject('INSTRUMENT_UNKNOWN', 'The instrument specified is unknown');
    const units = o.units;
    if (typeof units !== 'string' || !DECIMAL.test(units) || Number(units) === 0)
      throw new Reject('UNITS_INVALID', 'The units specified are invalid');
    if (decimalsIn(units) > instrument.tradeUnitsPrecision)
      throw new Reject('UNITS_PRECISION_EXCEEDED', 'The units specified contain more precision than is allowed');
    if (Math.abs(Number(units)) < Number(instrument.minimumTradeSize))
      throw new Reject('UNITS_MINIMUM_NOT_MET', 'The units specified are below the minimum');
    if (Math.abs(Number(units)) > Number(instrument.maximumOrderUnits))
      throw new Reject('UNITS_LIMIT_EXCEEDED', 'The units specified exceed the maximum');
    const tif = typeof o.timeInForce === 'string' ? o.timeInForce : type === 'MARKET' ? 'FOK' : 'GTC';
    if (!['GTC', 'GTD', 'GFD', 'FOK', 'IOC'].includes(tif))
      throw new Reject('TIME_IN_FORCE_INVALID', 'The time-in-force specified is invalid');
    if (type === 'MARKET' && tif !== 'FOK' && tif !== 'IOC')
      throw new Reject('TIME_IN_FORCE_INVALID', 'Market orders must be FOK or IOC');
    let price: string | undefined;
    if (type !== 'MARKET') {
      if (typeof o.price !== 'string') throw new Reject('PRICE_MISSING', 'The price is missing');
      if (!DECIMAL.test(o.price) || Number(o.price) <= 0) throw new Reject('PRICE_INVALID', 'The price is invalid');
      if (decimalsIn(o.price) > instrument.displayPrecision)
        throw new Reject('PRICE_PRECISION_EXCEEDED', 'The price has more precision than is allowed');
      price = o.price;
    }
    let gtdTime: string | undefined;
    if (tif === 'GTD') {
      if (typeof o.gtdTime !== 'string') throw new Reject('TIME_IN_FORCE_GTD_TIMESTAMP_MISSING', 'GTD needs a gtdTime');
      const at = Date.parse(o.gtdTime);
      if (Number.isNaN(at)) throw new Reject('TIME_IN_FORCE_GTD_TIMESTAMP_INVALID', 'The gtdTime is invalid');
      if (at <= now()) throw new Reject('TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST', 'The gtdTime is in the past');
      gtdTime = rfc3339(at);
    }
    const ext = o.clientExtensions as Json | undefined;
    const clientId = typeof ext?.id === 'string' ? ext.id : undefined;
    if (clientId !== undefined && byClientId.has(clientId))
      throw new Reject('CLIENT_ORDER_ID_ALREADY_EXISTS', 'The client Order ID specified is already assigned');
    const order: FakeOandaOrder = {
      id: '',
      type,
      state: 'PENDING',
      instrument: instrument.name,
      units,
      timeInForce: tif,
      positionFill: typeof o.positionFill === 'string' ? o.positionFill : 'DEFAULT',
      createTime: rfc3339(now()),
    };
    if (price !== undefined) order.price = price;
    if (typeof o.priceBound === 'string') order.priceBound = o.priceBound;
    if (gtdTime !== undefined) order.gtdTime = gtdTime;
    if (type !== 'MARKET')
      order.triggerCondition = typeof o.triggerCondition === 'string' ? o.triggerCondition : 'DEFAULT';
    if (clientId !== undefined) order.clientExtensions = { id: clientId };
    return order;
  }

  function rejectBody(o: Json, reason: string, message: string): Json {
    const id = nextId();
    const type = typeof o.type === 'string' ? o.type : 'MARKET';
    const tx = record({
      ...txBase(id),
      ...o,
      type: `${type}_ORDER_REJECT`,
      rejectReason: reason,
      reason: 'CLIENT_ORDER',
    });
    return {
      orderRejectTransaction: tx,
      relatedTransactionIDs: [id],
      lastTransactionID: String(lastTx),
      errorCode: reason,
      errorMessage: message,
    };
  }

  /** Places a valid order; returns the 201 body. */
  function place(order: FakeOandaOrder): Json {
    const id = nextId();
    order.id = id;
    orders.set(id, order);
    if (order.clientExtensions?.id) byClientId.set(order.clientExtensions.id, id);
    const { id: _id, state: _s, createTime: _c, ...fields } = order;
    const created = record({ ...txBase(id), ...fields, type: `${order.type}_ORDER`, reason: 'CLIENT_ORDER' });
    const reply: Json = { orderCreateTransaction: created };
    const related = [id];
    const price = executable(order);
    const immediate = order.type === 'MARKET' || order.timeInForce === 'IOC' || order.timeInForce === 'FOK';
    const available = liquidity.get(order.instrument);
    const wanted = Math.abs(Number(order.units));
    if (price !== undefined && available !== undefined && available < wanted && immediate) {
      // Not enough at once: FOK is killed; IOC (and a MARKET's default FOK aside) fills what there is.
      const part = order.timeInForce === 'IOC' ? Math.min(available, wanted) : 0;
      if (part > 0) reply.orderFillTransaction = fill(order, price, part * Math.sign(Number(order.units)));
      reply.orderCancelTransaction = cancel(order, 'INSUFFICIENT_LIQUIDITY');
    } else if (price !== undefined) {
      const part = reissuedPart(order);
      if (!boundOk(order, price)) reply.orderCancelTransaction = cancel(order, 'BOUNDS_VIOLATION');
      else if (marginShort(order, price)) reply.orderCancelTransaction = cancel(order, 'INSUFFICIENT_MARGIN');
      else if (part !== undefined) {
        const done = fillAndReissue(order, price, part);
        reply.orderFillTransaction = done.fill;
        reply.orderReissueTransaction = done.reissue;
        related.push(done.fill.id as string, done.reissue.id as string, done.reissue.cancellingTransactionID as string);
      } else reply.orderFillTransaction = fill(order, price);
    } else if (order.type === 'MARKET') {
      reply.orderCancelTransaction = cancel(order, 'MARKET_HALTED');
    } else if (immediate) {
      // Not executable at once: an IOC/FOK limit or stop ends here (reason as the fake chooses it).
      reply.orderCancelTransaction = cancel(order, 'TIME_IN_FORCE_EXPIRED');
    }
    for (const k of ['orderFillTransaction', 'orderCancelTransaction'])
      if (reply[k] && !related.includes((reply[k] as Json).id as string)) related.push((reply[k] as Json).id as string);
    return { ...reply, relatedTransactionIDs: related, lastTransactionID: String(lastTx) };
  }

  const orderView = (o: FakeOandaOrder): Json => {
    if (options.omitFillingTransactionId) {
      const { fillingTransactionID: _f, ...rest } = o;
      return rest;
    }
    if (!options.strictOrderFields || o.state === 'FILLED') return { ...o };
    const { fillingTransactionID: _f, filledTime: _t, ...rest } = o;
    return rest;
  };
  const findOrder = (spec: string): FakeOandaOrder | undefined => {
    const id = spec.startsWith('@') ? byClientId.get(spec.slice(1)) : spec;
    return id === undefined ? undefined : orders.get(id);
  };
  const pending = (): Json[] => [...orders.values()].filter((o) => o.state === 'PENDING').map(orderView);

  function positionsView(): Json[] {
    return [...positions].map(([instrument, pos]) => {
      const upl = money(unrealized(instrument, pos));
      const side = (units: number): Json =>
        units === 0
          ? { units: '0', pl: '0.0000', unrealizedPL: '0.0000', resettablePL: '0.0000', financing: '0.0000' }
          : {
              units: String(units),
              averagePrice: fmtPrice(instrument, pos.avg),
              pl: '0.0000',
              unrealizedPL: upl,
              resettablePL: '0.0000',
              financing: '0.0000',
              tradeIDs: ['1'],
            };
      return {
        instrument,
        pl: '0.0000',
        unrealizedPL: upl,
        resettablePL: '0.0000',
        long: side(pos.units > 0 ? pos.units : 0),
        short: side(pos.units < 0 ? pos.units : 0),
      };
    });
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function routeOf(method: string, rest: string): string {
    if (rest === '/orders') return `${method} /orders`;
    if (/^\/orders\/[^/]+\/cancel$/.test(rest)) return `${method} /orders/{spec}/cancel`;
    if (/^\/orders\/[^/]+$/.test(rest)) return `${method} /orders/{spec}`;
    if (rest === '/transactions/idrange') return `${method} /transactions/idrange`;
    if (/^\/transactions\/[^/]+$/.test(rest)) return `${method} /transactions/{id}`;
    return `${method} ${rest}`;
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    const m = /^\/v3\/accounts\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const rest = m?.[2] ?? url.pathname;
    const route = routeOf(method, rest);
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = text;
      }
    }
    requests.push({ method, route, path: `${url.pathname}${url.search}`, body });

    const auth = req.headers.authorization;
    if (auth !== `Bearer ${token}`) {
      const detail = options.leakyErrors ? ` (got '${auth ?? ''}')` : '';
      return send(res, 401, { errorMessage: `Insufficient authorization to perform request.${detail}` });
    }
    if (!m) return send(res, 404, { errorMessage: 'The requested resource was not found' });
    if (decodeURIComponent(m[1] ?? '') !== accountId)
      return send(res, 403, { errorMessage: 'The provided request was forbidden.' });
    evaluate();
    const last = (): string => String(lastTx);

    if (route === 'POST /orders') {
      if (
        typeof body !== 'object' ||
        body === null ||
        typeof (body as Json).order !== 'object' ||
        (body as Json).order === null
      )
        return send(res, 400, { errorMessage: "Invalid value specified for 'order'" });
      const o = (body as Json).order as Json;
      let order: FakeOandaOrder | undefined;
      let reply: unknown;
      return playHttpFault(faults.take('submit'), req, res, {
        held,
        act: () => {
          try {
            order = validateOrder(o);
          } catch (e) {
            if (e instanceof Reject) {
              send(res, 400, rejectBody(o, e.rejectReason, e.message));
              return false;
            }
            throw e;
          }
          reply = place(order);
          return true;
        },
        reply: () => send(res, 201, reply),
        malformed: () => {
          const placed = order as FakeOandaOrder;
          send(res, 201, {
            orderCreateTransaction: { type: `${placed.type}_ORDER`, instrument: placed.instrument },
            lastTransactionID: last(),
          });
        },
        serverError: (status) => send(res, status, { errorMessage: 'Internal server error (injected)' }),
        rateLimited: (status, headers) => send(res, status, { errorMessage: 'Too many requests (injected)' }, headers),
        other: (fault) => {
          if (fault.kind === 'duplicateClientId')
            send(
              res,
              400,
              rejectBody(o, 'CLIENT_ORDER_ID_ALREADY_EXISTS', 'The client Order ID specified is already assigned'),
            );
          else if (fault.kind === 'reject') {
            const reason = fault.reason ?? 'INSUFFICIENT_MARGIN';
            send(res, 400, rejectBody(o, reason, `The order was rejected: ${reason} (injected)`));
          } else if (fault.kind === 'errorEchoingAccount')
            send(res, 400, {
              errorCode: 'INVALID_ORDER_REQUEST',
              errorMessage: `Invalid order request for ${url.pathname} (account ${accountId})`,
            });
          else return false;
          return true;
        },
      });
    }
    if (route === 'GET /orders/{spec}') {
      const order = findOrder(decodeURIComponent(rest.slice('/orders/'.length)));
      return playHttpFault(faults.take('lookup'), req, res, {
        held,
        act: () => {
          if (order) return true;
          send(res, 404, {
            errorCode: 'ORDER_DOESNT_EXIST',
            errorMessage: 'The order specified does not exist',
            lastTransactionID: last(),
          });
          return false;
        },
        reply: () => send(res, 200, { order: orderView(order as FakeOandaOrder), lastTransactionID: last() }),
        malformed: () => send(res, 200, { order: { id: (order as FakeOandaOrder).id }, lastTransactionID: last() }),
        serverError: (status) => send(res, status, { errorMessage: 'Internal server error (injected)' }),
        rateLimited: (status, headers) => send(res, status, { errorMessage: 'Too many requests (injected)' }, headers),
      });
    }
    if (route === 'PUT /orders/{spec}/cancel') {
      const spec = decodeURIComponent(rest.slice('/orders/'.length, -'/cancel'.length));
      const order = findOrder(spec);
      let tx: Json | undefined;
      return playHttpFault(faults.take('cancel'), req, res, {
        held,
        act: () => {
          if (!order || order.state !== 'PENDING') {
            const id = nextId();
            const reject = record({
              ...txBase(id),
              type: 'ORDER_CANCEL_REJECT',
              orderID: order?.id ?? spec,
              rejectReason: 'ORDER_DOESNT_EXIST',
            });
            send(res, 404, {
              orderCancelRejectTransaction: reject,
              relatedTransactionIDs: [id],
              lastTransactionID: last(),
              errorCode: 'ORDER_DOESNT_EXIST',
              errorMessage: 'The order specified does not exist',
            });
            return false;
          }
          tx = cancel(order, 'CLIENT_REQUEST');
          return true;
        },
        reply: () =>
          send(res, 200, {
            orderCancelTransaction: tx,
            relatedTransactionIDs: [(tx as Json).id],
            lastTransactionID: last(),
          }),
        malformed: () =>
          send(res, 200, { orderCancelTransaction: { type: 'ORDER_CANCEL' }, lastTransactionID: last() }),
        serverError: (status) => send(res, status, { errorMessage: 'Internal server error (injected)' }),
        rateLimited: (status, headers) => send(res, status, { errorMessage: 'Too many requests (injected)' }, headers),
      });
    }
    if (route === 'GET /orders') {
      const state = url.searchParams.get('state') ?? 'PENDING';
      const instrument = url.searchParams.get('instrument');
      const list = [...orders.values()]
        .filter((o) => (state === 'ALL' || o.state === state) && (!instrument || o.instrument === instrument))
        .reverse()
        .slice(0, Number(url.searchParams.get('count') ?? 50))
        .map(orderView);
      return send(res, 200, { orders: list, lastTransactionID: last() });
    }
    if (route === 'GET /pendingOrders')
      return playHttpFault(faults.take('list'), req, res, {
        held,
        act: () => true,
        reply: () => send(res, 200, { orders: pending(), lastTransactionID: last() }),
        malformed: () => send(res, 200, { orders: 'none', lastTransactionID: last() }),
        serverError: (status) => send(res, status, { errorMessage: 'Internal server error (injected)' }),
        rateLimited: (status, headers) => send(res, status, { errorMessage: 'Too many requests (injected)' }, headers),
      });
    if (options.noTransactionRoutes && route.startsWith('GET /transactions'))
      return send(res, 404, { errorMessage: `No route for ${route}` });
    if (route === 'GET /transactions/idrange') {
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      const types = url.searchParams.get('type')?.split(',');
      if (!Number.isInteger(from) || !Number.isInteger(to))
        return send(res, 400, { errorMessage: 'Invalid value specified for from or to' });
      const list = [...transactions.values()].filter(
        (t) => Number(t.id) >= from && Number(t.id) <= to && (types === undefined || types.includes(t.type as string)),
      );
      return send(res, 200, { transactions: list, lastTransactionID: last() });
    }
    if (route === 'GET /transactions/{id}') {
      const tx = transactions.get(decodeURIComponent(rest.slice('/transactions/'.length)));
      if (!tx) return send(res, 404, { errorMessage: 'The transaction specified does not exist' });
      return send(res, 200, { transaction: tx, lastTransactionID: last() });
    }
    if (route === 'GET /summary') {
      const t = totals();
      return send(res, 200, {
        account: {
          id: accountId,
          alias: 'Primary',
          currency,
          balance: money(balance),
          NAV: money(t.nav),
          unrealizedPL: money(t.upl),
          marginUsed: money(t.marginUsed),
          marginAvailable: money(t.marginAvailable),
          marginRate: String(marginRate),
          openPositionCount: positions.size,
          pendingOrderCount: pending().length,
          lastTransactionID: last(),
        },
        lastTransactionID: last(),
      });
    }
    if (route === 'GET /openPositions')
      return send(res, 200, { positions: positionsView(), lastTransactionID: last() });
    if (route === 'GET /pricing' || route === 'GET /instruments') {
      const names = (url.searchParams.get('instruments') ?? '').split(',').filter((s) => s.length > 0);
      if (names.length === 0 || names.some((n) => !instrumentOf(n)))
        return send(res, 400, { errorMessage: "Invalid value specified for 'instruments'" });
      if (route === 'GET /instruments')
        return send(res, 200, { instruments: names.map((n) => instrumentOf(n)), lastTransactionID: last() });
      const prices = names.flatMap((n) => {
        const q = quotes.get(n);
        if (!q) return [];
        return [
          {
            type: 'PRICE',
            instrument: n,
            time: rfc3339(q.time ?? now()),
            tradeable: q.tradeable ?? true,
            bids: [{ price: fmtPrice(n, q.bid), liquidity: 1000000 }],
            asks: [{ price: fmtPrice(n, q.ask), liquidity: 1000000 }],
            closeoutBid: fmtPrice(n, q.bid),
            closeoutAsk: fmtPrice(n, q.ask),
          },
        ];
      });
      return send(res, 200, { prices, time: rfc3339(now()) });
    }
    return send(res, 404, { errorMessage: 'The requested resource was not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { errorMessage: `fake OANDA failed: ${(e as Error).message}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    token,
    accountId,
    requests,
    setQuote(symbol, bid, ask) {
      quotes.set(symbol, { bid, ask });
      evaluate();
    },
    setPriceState(instrument, state) {
      const q = quotes.get(instrument);
      if (!q) throw new Error(`fake OANDA has no price for ${instrument}`);
      quotes.set(instrument, { ...q, ...state });
    },
    injectNext(fault: FakeFault) {
      faults.push(fault);
    },
    ordersWithClientId(clientOrderId) {
      return [...orders.values()].filter((o) => o.clientExtensions?.id === clientOrderId).length;
    },
    requestCount(route) {
      return route === undefined ? requests.length : requests.filter((r) => r.route === route).length;
    },
    requestCounts() {
      const out: Record<string, number> = {};
      for (const r of requests) out[r.route] = (out[r.route] ?? 0) + 1;
      return out;
    },
    orderBodies() {
      return requests
        .filter((r) => r.route === 'POST /orders')
        .map((r) => ((r.body as Json | undefined)?.order ?? {}) as Record<string, unknown>);
    },
    orders() {
      return [...orders.values()].map((o) => ({ ...o }));
    },
    setBalance(amount) {
      balance = amount;
    },
    balance() {
      return balance;
    },
    evaluate,
    setLiquidity(instrument, units) {
      if (units === undefined) liquidity.delete(instrument);
      else liquidity.set(instrument, units);
    },
    replaceOrder(orderId, changes) {
      const order = orders.get(orderId);
      if (!order || order.state !== 'PENDING') throw new Error(`fake OANDA: order ${orderId} is not pending`);
      const id = nextId();
      const { clientExtensions, ...changed } = changes;
      const next: FakeOandaOrder = { ...order, ...changed, id, state: 'PENDING', createTime: rfc3339(now()) };
      next.replacesOrderID = order.id;
      delete next.replacedByOrderID;
      if (clientExtensions === null || !order.clientExtensions) delete next.clientExtensions;
      else next.clientExtensions = { ...order.clientExtensions };
      orders.set(id, next);
      const cancelTx = cancel(order, 'CLIENT_REQUEST_REPLACED');
      cancelTx.replacedByOrderID = id;
      order.replacedByOrderID = id;
      if (next.clientExtensions?.id) byClientId.set(next.clientExtensions.id, id);
      const { id: _id, state: _s, createTime: _c, ...fields } = next;
      record({
        ...txBase(id),
        ...fields,
        type: `${next.type}_ORDER`,
        reason: 'REPLACEMENT',
        cancellingTransactionID: cancelTx.id,
      });
      return id;
    },
    modifyClientExtensions(orderId, clientExtensions) {
      const order = orders.get(orderId);
      if (!order || order.state !== 'PENDING') throw new Error(`fake OANDA: order ${orderId} is not pending`);
      if (byClientId.has(clientExtensions.id))
        throw new Error(`fake OANDA: CLIENT_ORDER_ID_ALREADY_EXISTS ${clientExtensions.id}`);
      const before = order.clientExtensions?.id;
      if (before !== undefined) byClientId.delete(before);
      order.clientExtensions = { ...clientExtensions };
      byClientId.set(clientExtensions.id, order.id);
      record({
        ...txBase(nextId()),
        type: 'ORDER_CLIENT_EXTENSIONS_MODIFY',
        orderID: order.id,
        ...(before === undefined ? {} : { clientOrderID: before }),
        clientExtensionsModify: { ...clientExtensions },
      });
    },
    async close() {
      for (const res of held) res.destroy();
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
