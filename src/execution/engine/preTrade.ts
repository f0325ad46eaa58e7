/**
 * Pre-trade checks: everything an order must pass before it may be sent, in order — the engine can
 * trade (audit log, state files), the order is well formed and its id unused, its venue is known,
 * connected and supports it, it lies on the instrument's grid, and every risk check passes against the
 * venue's quote and account. Sends nothing and records nothing; the submit lanes do that with the verdict.
 *
 * Past 450 lines on purpose: the checks run in one fixed order, within the call for a venue that answers so (the
 * paper venue), through promises otherwise (a venue across a network, an instrument not yet known, a rate to
 * convert); the two paths share every step, which a split would let drift apart.
 */
import { monotonicMs, type Clock } from '../../common/clock';
import { fromMoney, isOnStep } from '../../common/decimal';
import type { AccountFunds, BrokerApi } from '../../brokers/broker';
import { unsupportedReason } from '../../brokers/broker';
import { isBrokerError } from '../../brokers/errors';
import {
  checkOrderRequest,
  type AccountInfo,
  type InstrumentRules,
  type PlacedOrderRequest,
  type Quote,
} from '../../orders/model';
import { isSecretKey, REDACTED } from '../../common/secrets';
import { isFrozenCopy, orderTerms, type DenialCode, type SubmitOrder } from '../events';
import {
  DEFAULT_RISK_LIMITS,
  runRiskChecks,
  tightenLimits,
  TokenBucket,
  type RiskCheckResult,
  type RiskLimits,
  type TradingStateName,
} from '../risk';
import type { EventLog } from './eventLog';
import type { OrderCache } from './orderCache';
import type { TradingControl } from './tradingControl';
import type { Denial } from './types';
import type { VenueRegistry } from './venues';

/**
 * Engine time of one order: the sum of the synchronous stretches between awaits. With many orders in
 * flight, the time an await takes to resume is spent on other orders and is not this order's.
 */
export class EngineTime {
  private total = 0;
  private stretch = monotonicMs();

  pause(): void {
    this.total += monotonicMs() - this.stretch;
  }

  resume(): void {
    this.stretch = monotonicMs();
  }

  spent(): number {
    return this.total + (monotonicMs() - this.stretch);
  }
}

/** The verdict on one order. */
export interface Checked {
  /** The command as it will be sent (the venue's instrument id, no secret-looking metadata). */
  readonly cmd: SubmitOrder;
  readonly risk: RiskCheckResult[];
  readonly denial?: Denial;
  /** What the order uses of buying power (account currency) until the venue acknowledges it. */
  /** Engine time the checks (and the acceptance) took. */
  readonly engineMs: number;
  /** For an order accepted for sending: its SubmitOrder command's durability. */
  readonly durable?: Promise<unknown>;
}

/**
 * Takes a passed order as working and records its SubmitOrder command; returns the command's
 * durability. Called in the same synchronous stretch as the risk checks, so that no other order's
 * checks run in between without counting it.
 */
export type Accept = (cmd: SubmitOrder, risk: RiskCheckResult[], reserve: number) => Promise<unknown> | undefined;

export class PreTradeChecks {
  private limits: RiskLimits;
  private readonly bucket: TokenBucket | undefined;
  private readonly instruments = new Map<string, InstrumentRules>();
  private readonly rates = new Map<string, { rate: number | undefined; delayed: boolean; at: number }>();
  private readonly tightened = new WeakMap<object, { base: RiskLimits; result: ReturnType<typeof tightenLimits> }>();
  /** Each live confirmation seen, with the order it confirmed: one confirmation sends one order. */
  private readonly usedConfirmations = new WeakMap<object, string>();

  constructor(
    private readonly clock: Clock,
    private readonly cache: OrderCache,
    private readonly log: EventLog,
    private readonly control: TradingControl,
    private readonly venues: VenueRegistry,
    limits: RiskLimits | undefined,
  ) {
    this.limits = limits ?? { ...DEFAULT_RISK_LIMITS };
    const rate = this.limits.maxOrdersPerSecond;
    this.bucket =
      rate === undefined
        ? undefined
        : new TokenBucket(rate, this.limits.orderBurst ?? Math.max(1, Math.ceil(rate)), clock);
  }

  get currentLimits(): RiskLimits {
    return this.limits;
  }

  setLimits(limits: RiskLimits): void {
    this.limits = limits;
    const rate = limits.maxOrdersPerSecond;
    if (rate !== undefined) this.bucket?.configure(rate, limits.orderBurst ?? Math.max(1, Math.ceil(rate)));
  }

  /** A profile added again under this id may point elsewhere: its instrument rules are read afresh. */
  forgetVenue(venue: string): void {
    for (const key of [...this.instruments.keys()]) if (key.startsWith(`${venue}:`)) this.instruments.delete(key);
  }

  /**
   * Runs every check. `dryRun` (a Test Order on a live profile, a confirmation's preview) neither needs a
   * live confirmation nor uses the submit rate, and is not accepted. Answers within the call (no promise)
   * where the venue does (`BrokerApi.immediate`: the paper venue) and its instrument rules are known.
   */
  check(cmd: SubmitOrder, accept: Accept | 'dry-run'): Checked | Promise<Checked> {
    const time = new EngineTime();
    const auditFailure = this.log.failure;
    if (auditFailure)
      return denial(
        cmd,
        time,
        'AUDIT_LOG_FAILED',
        `The audit log failed (${auditFailure.message}); nothing is sent until it is fixed.`,
      );
    const damaged = this.control.damage;
    if (damaged.length > 0) {
      return denial(
        cmd,
        time,
        'STATE_DAMAGED',
        `${damaged.map((d) => `${d.file}: ${d.problem}`).join('; ')}. ${damaged[0]?.remedy ?? ''}`.trim(),
      );
    }
    const wellFormed = checkOrderRequest(cmd.order);
    if (!wellFormed.success) {
      return denial(
        cmd,
        time,
        'INVALID_ORDER',
        wellFormed.error.issues.map((i) => `${i.path.join('.') || 'order'}: ${i.message}`).join('; '),
      );
    }
    if (cmd.order.client_order_id !== cmd.clientOrderId) {
      return denial(
        cmd,
        time,
        'INVALID_ORDER',
        `the order's client_order_id ${cmd.order.client_order_id} differs from the command's ${cmd.clientOrderId}`,
      );
    }
    const duplicate = this.duplicateOf(cmd, time);
    if (duplicate) return duplicate;
    const broker = this.venues.get(cmd.venue);
    if (!broker)
      return denial(
        cmd,
        time,
        'UNKNOWN_VENUE',
        `no broker profile named ${cmd.venue} (known: ${this.venues.ids().join(', ') || 'none'})`,
      );
    if (!broker.isConnected())
      return denial(cmd, time, 'VENUE_NOT_CONNECTED', `${broker.displayName} is not connected; connect it first`);
    // A check sends nothing, so it runs every risk check on a live account too (Test Order, and Execute
    // Live before its confirmation); only sending needs the per-order confirmation.
    if (accept !== 'dry-run' && broker.environment === 'live') {
      const unconfirmed = this.confirmationProblem(cmd);
      if (unconfirmed !== undefined)
        return denial(
          cmd,
          time,
          'LIVE_NOT_CONFIRMED',
          `${broker.displayName} is a live account: every live order needs its own confirmation; ${unconfirmed}; nothing was sent`,
        );
    }
    let order = cmd.order;
    // Whatever path it came by (Test Order redacts at normalisation), no secret-looking metadata key is
    // kept: the order is stored by the venue, the working orders and the log.
    const meta = order.metadata;
    if (meta !== undefined && hasSecretKey(meta)) {
      order = Object.freeze({
        ...order,
        metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : v])),
      });
      cmd = Object.freeze({ ...cmd, order });
    }
    const refusal = unsupportedReason(
      broker.capabilities,
      order.order_type.type,
      order.time_in_force.type,
      broker.displayName,
    );
    if (refusal !== undefined) return denial(cmd, time, 'UNSUPPORTED_ORDER', refusal);

    const instrument = this.instruments.get(`${cmd.venue}:${order.symbol}`);
    const immediate = instrument === undefined ? undefined : broker.immediate?.();
    if (instrument === undefined || immediate === undefined) return this.checkAtVenue(cmd, accept, broker, time);
    let quote: Quote;
    let account: AccountFunds;
    try {
      quote = immediate.quote(order.symbol);
      account = immediate.funds();
    } catch (e) {
      if (!isBrokerError(e)) throw e;
      return unpriced(cmd, time, broker, e);
    }
    return this.checkPriced(cmd, accept, broker, time, instrument, quote, account);
  }

  /** The rest of `check` for a venue that answers with promises (or an instrument not yet known). */
  private async checkAtVenue(
    cmd: SubmitOrder,
    accept: Accept | 'dry-run',
    broker: BrokerApi,
    time: EngineTime,
  ): Promise<Checked> {
    const order = cmd.order;
    let instrument = this.instruments.get(`${cmd.venue}:${order.symbol}`);
    let quote: Quote;
    let account: AccountInfo;
    time.pause();
    try {
      if (!instrument) {
        instrument = await broker.getInstrument(order.symbol);
        this.instruments.set(`${cmd.venue}:${order.symbol}`, instrument);
      }
      // Both asked at once: against a remote venue that is one round trip of waiting, not two. Awaited one
      // after the other rather than through Promise.all (its array, element callbacks and destructuring were
      // a tenth of what the checks allocated per order); the account's failure is handled if the quote's wins.
      const quoteAsked = broker.getQuote(order.symbol);
      const accountAsked = broker.getAccountInfo();
      try {
        quote = await quoteAsked;
      } catch (e) {
        accountAsked.catch(ignore);
        throw e;
      }
      account = await accountAsked;
    } catch (e) {
      time.resume();
      if (!isBrokerError(e)) throw e;
      return unpriced(cmd, time, broker, e);
    }
    time.resume();
    return this.checkPriced(cmd, accept, broker, time, instrument, quote, account);
  }

  /** The grid and every risk check against the venue's quote and account; accepts a passed order. */
  private checkPriced(
    cmd: SubmitOrder,
    accept: Accept | 'dry-run',
    broker: BrokerApi,
    time: EngineTime,
    instrument: InstrumentRules,
    quote: Quote,
    account: AccountFunds,
  ): Checked | Promise<Checked> {
    let order = cmd.order;
    // The venue's own id for the instrument: risk, exposure, positions, the log and the venue all key
    // by it, whatever spelling the component used.
    if (instrument.symbol !== order.symbol && instrument.symbol !== '') {
      order = Object.freeze({ ...order, symbol: instrument.symbol });
      cmd = Object.freeze({ ...cmd, order });
    }
    const offGrid = gridProblem(order, instrument);
    if (offGrid) return denial(cmd, time, 'INVALID_ORDER', offGrid);

    let limits = this.limits;
    if (cmd.componentLimits !== undefined) {
      const tightened = this.tighten(limits, cmd.componentLimits);
      if (tightened.issues.length > 0)
        return denial(
          cmd,
          time,
          'INVALID_RISK_LIMITS',
          `the component's __metadata__['risk_limits'] is invalid: ${tightened.issues.join('; ')}`,
        );
      limits = tightened.limits;
    }
    if (sameCurrency(instrument.quoteCurrency, account.currency))
      return this.runChecks(cmd, accept, time, order, limits, quote, account, { rate: 1, delayed: false });
    return this.converted(cmd, accept, broker, time, order, limits, instrument, quote, account);
  }

  /** `runChecks` once the quote currency's rate to the account's is known. */
  private async converted(
    cmd: SubmitOrder,
    accept: Accept | 'dry-run',
    broker: BrokerApi,
    time: EngineTime,
    order: PlacedOrderRequest,
    limits: RiskLimits,
    instrument: InstrumentRules,
    quote: Quote,
    account: AccountFunds,
  ): Promise<Checked> {
    time.pause();
    const conversion = await this.conversionRate(broker, instrument.quoteCurrency, account.currency);
    time.resume();
    return this.runChecks(cmd, accept, time, order, limits, quote, account, conversion);
  }

  private runChecks(
    cmd: SubmitOrder,
    accept: Accept | 'dry-run',
    time: EngineTime,
    order: PlacedOrderRequest,
    limits: RiskLimits,
    quote: Quote,
    account: AccountFunds,
    conversion: { readonly rate: number | undefined; readonly delayed: boolean },
  ): Checked {
    // Again, in the stretch that accepts it: while this order's quote was awaited, another lane (another venue or
    // instrument) may have accepted an order under the same id, and two records under one id send both.
    const duplicate = this.duplicateOf(cmd, time);
    if (duplicate) return duplicate;
    const conversionRate = conversion.rate;
    this.control.tick();
    const positions = this.cache.positionMap(cmd.venue);
    const working = this.cache.exposure.left(cmd.venue, order.symbol);
    // Orders not yet acknowledged are not in the venue's buying power yet.
    const reserved = this.cache.exposure.reserved(cmd.venue);
    // A flatten while HALTED (the emergency stop's, or a person closing a position) is checked as REDUCING and not
    // held back by the submit rate.
    const emergency = cmd.source === 'flatten' && this.control.state === 'HALTED';
    const tradingState: TradingStateName = emergency ? 'REDUCING' : this.control.state;
    const dryRun = accept === 'dry-run';
    const checks = runRiskChecks(
      {
        order,
        now: this.clock.now(),
        tradingState,
        tradingReason: this.control.reason,
        bid: quote.bid,
        ask: quote.ask,
        position: fromMoney(positions.get(order.symbol) ?? 0n),
        workingBuy: fromMoney(working.buy),
        workingSell: fromMoney(working.sell),
        openOrders: this.cache.workingCount,
        buyingPower: account.buying_power - reserved,
        accountCurrency: account.currency,
        conversionRate,
        // The venue's delayed market data (IB without a live subscription): the checks that read it say so.
        quoteDelayed: quote.delayed === true || conversion.delayed,
      },
      limits,
      emergency ? FLATTEN_WHILE_HALTED : dryRun ? undefined : this.bucket,
    );
    if (checks.denial) return denial(cmd, time, checks.denial.code, checks.denial.message, checks.results);
    if (accept === 'dry-run') return { cmd, risk: checks.results, engineMs: time.spent() };
    const reserve = order.quantity * (order.side === 'buy' ? quote.ask : quote.bid) * (conversionRate ?? 1);
    const durable = accept(cmd, checks.results, reserve);
    return durable === undefined
      ? { cmd, risk: checks.results, engineMs: time.spent() }
      : { cmd, risk: checks.results, engineMs: time.spent(), durable };
  }

  /** The denial of a command whose client order id an order holds or held, or undefined. */
  private duplicateOf(cmd: SubmitOrder, time: EngineTime): Checked | undefined {
    const other = this.cache.get(cmd.clientOrderId);
    if (other) {
      return denial(
        cmd,
        time,
        'DUPLICATE_CLIENT_ORDER_ID',
        `client order id ${cmd.clientOrderId} was already used (order ${other.state}); a retry of a command never sends a second order`,
      );
    }
    const usedEarlier = this.cache.usedEarlier(cmd.clientOrderId);
    if (usedEarlier !== undefined) {
      return denial(
        cmd,
        time,
        'DUPLICATE_CLIENT_ORDER_ID',
        `client order id ${cmd.clientOrderId} was already used by an order in the audit log (${usedEarlier}); a retry of a command never sends a second order`,
      );
    }
    return undefined;
  }

  /**
   * Why the command's live confirmation does not confirm this very order, or undefined. A confirmation
   * is bound to one order (client order id, venue, terms) and is used once: the same confirmation on
   * another command (a copy under a new client order id, a changed order, another venue) is refused.
   */
  private confirmationProblem(cmd: SubmitOrder): string | undefined {
    const c = cmd.liveConfirmation;
    if (c === undefined || c === null || typeof c !== 'object') return 'this order has none';
    if (c.clientOrderId !== undefined && c.clientOrderId !== cmd.clientOrderId)
      return `the confirmation given was for order ${c.clientOrderId}, not ${cmd.clientOrderId}`;
    if (c.venue !== undefined && c.venue !== cmd.venue)
      return `the confirmation given was for ${c.venue}, not ${cmd.venue}`;
    if (c.terms !== undefined && c.terms !== orderTerms(cmd.order))
      return 'the order differs from the one that was confirmed';
    const usedBy = this.usedConfirmations.get(c);
    if (usedBy !== undefined && usedBy !== cmd.clientOrderId)
      return `the confirmation given was already used for order ${usedBy}`;
    this.usedConfirmations.set(c, cmd.clientOrderId);
    return undefined;
  }

  /**
   * The settings' limits tightened by a component's. A command's limits cannot change (the command is
   * deep-frozen), so the result is remembered per limits object: a replay's orders share one.
   */
  private tighten(base: RiskLimits, componentLimits: unknown): ReturnType<typeof tightenLimits> {
    if (!isFrozenCopy(componentLimits)) return tightenLimits(base, componentLimits);
    const known = this.tightened.get(componentLimits);
    if (known?.base === base) return known.result;
    const result = tightenLimits(base, componentLimits);
    this.tightened.set(componentLimits, { base, result });
    return result;
  }

  /**
   * Quote currency → account currency at the mid, and whether that quote was delayed market data; 1 for the same
   * currency (USDT/USDC count as USD).
   */
  private async conversionRate(
    broker: BrokerApi,
    from: string,
    to: string,
  ): Promise<{ rate: number | undefined; delayed: boolean }> {
    if (sameCurrency(from, to)) return { rate: 1, delayed: false };
    const key = `${broker.id}:${from}:${to}`;
    const cached = this.rates.get(key);
    const now = this.clock.now();
    if (cached && now - cached.at < 1000) return cached;
    let rate: number | undefined;
    let delayed = false;
    for (const [symbol, invert] of [
      [`${from}_${to}`, false],
      [`${to}_${from}`, true],
    ] as const) {
      try {
        const q = await broker.getQuote(symbol);
        const mid = (q.bid + q.ask) / 2;
        rate = invert ? 1 / mid : mid;
        delayed = q.delayed === true;
        break;
      } catch {
        // try the other way round
      }
    }
    const known = { rate, delayed, at: now };
    this.rates.set(key, known);
    return known;
  }
}

const ignore = (): void => undefined;

/** The verdict on an order denied before it became working. */
function denial(
  cmd: SubmitOrder,
  time: EngineTime,
  code: DenialCode,
  message: string,
  risk: RiskCheckResult[] = [],
): Checked {
  return { cmd, risk, denial: { code, message }, engineMs: time.spent() };
}

/** Denied for want of the venue's quote or account. */
function unpriced(cmd: SubmitOrder, time: EngineTime, broker: BrokerApi, e: { message: string }): Checked {
  return denial(
    cmd,
    time,
    'QUOTE_UNAVAILABLE',
    `cannot check the order without ${broker.displayName}'s quote and account: ${e.message}`,
  );
}

/** Whether an order's metadata has a secret-looking key (no array of keys made for the common empty or plain one). */
function hasSecretKey(meta: object): boolean {
  for (const k in meta) if (Object.prototype.hasOwnProperty.call(meta, k) && isSecretKey(k)) return true;
  return false;
}

// A flatten while HALTED only reduces: the submit rate, which would leave positions open in the emergency, does not
// hold it back (and it takes no token from the orders that follow the resume).
const FLATTEN_WHILE_HALTED = { notCounted: 'a flatten while trading is HALTED is not held back by the submit rate.' };

const dollars = (c: string): string => (c === 'USDT' || c === 'USDC' ? 'USD' : c);
/** Whether two currencies are one for risk purposes (USDT and USDC count as USD). */
const sameCurrency = (a: string, b: string): boolean => a === b || dollars(a) === dollars(b);

/** Why a price or quantity is off the venue's grid, or undefined. */
function gridProblem(order: PlacedOrderRequest, instrument: InstrumentRules): string | undefined {
  if (order.quantity < instrument.minQuantity)
    return `quantity ${order.quantity} is below ${instrument.symbol}'s minimum of ${instrument.minQuantity}`;
  if (!isOnStep(order.quantity, instrument.lotSize))
    return `quantity ${order.quantity} is not a multiple of ${instrument.symbol}'s lot size ${instrument.lotSize}`;
  const t = order.order_type;
  const prices: Array<[string, number]> =
    t.type === 'limit'
      ? [['limit price', t.price]]
      : t.type === 'stop'
        ? [['stop price', t.price]]
        : t.type === 'stop_limit'
          ? [
              ['stop price', t.stop_price],
              ['limit price', t.limit_price],
            ]
          : t.type === 'trailing_stop' && t.trail_offset !== undefined
            ? [['trail offset', t.trail_offset]]
            : [];
  for (const [label, p] of prices) {
    if (!isOnStep(p, instrument.tickSize))
      return `${label} ${p} is not on ${instrument.symbol}'s tick size ${instrument.tickSize}`;
  }
  return undefined;
}
