/**
 * IB's messages → ours: what each TWS error code means (a rejection, a cancel, a warning, or an error with a
 * `BrokerError` reason and `retryable`).
 */
import { BrokerError, type BrokerErrorReason } from '../errors';

/** What an IB error code means for us. */
export type IbErrorMeaning =
  /** The venue refused the order: a `rejected` status with this text, not an exception. */
  | { kind: 'reject' }
  /** Confirms a cancel (202). */
  | { kind: 'cancelled' }
  /** A warning or notice (market data farm OK, order message…): nothing to do. */
  | { kind: 'info' }
  /** A failure of the request (or of the connection) that callers decide on by reason. */
  | {
      kind: 'error';
      reason: BrokerErrorReason;
      retryable?: boolean;
      connection?: boolean;
      /**
       * TWS refused the request without processing it (`BrokerError.notActed`): nothing was placed or changed, so
       * the same request may be sent again later (src/brokers/retry.ts).
       */
      notActed?: boolean;
      /** What the trader can do about it, added to the message. */
      advice?: string;
    };

/**
 * IB error codes (TWS API "Message Codes") → meaning. TWS sends "true error messages as well as notifications
 * that do not mean anything is wrong" through the same `error` event (TWS API "Error Handling"), so a notice
 * must never end an order: codes 2100–2999 and any message with "Warning:" in it are notices (the rule
 * `@stoqey/ib`'s own `isNonFatalError` applies, common/errorCode.ts), as are the order notices listed below,
 * after which TWS goes on working the order. Other unlisted codes for an order id are order rejections (IB
 * follows most with `Inactive`).
 * | code              | meaning                                                      | ours                               |
 * |-------------------|--------------------------------------------------------------|------------------------------------|
 * | 100               | max rate of messages per second exceeded: a pacing violation, the message dropped unprocessed | RATE_LIMITED, not acted on (retryable; never a rejection) |
 * | 103               | duplicate order id: TWS's integer orderId is taken (not our client id, which is orderRef); nothing was placed | INTERNAL, not acted on (the adapter places once more under a fresh id) |
 * | 104, 105, 110, 10243 | modify a filled order, mismatch, price off tick, fractional | INVALID_ORDER                    |
 * | 321               | "Error validating request" (any request): "Read-Only" in the text → PERMISSION_DENIED (API set read-only), else INVALID_ORDER; for a data request see `brokerErrorFor` |
 * | 135, 10147        | order id not found (cancel)                                  | ORDER_NOT_FOUND                    |
 * | 161, 10148        | cancel of an order not cancellable (filled, already cancelled) | INVALID_ORDER (10148's state: `cancelRefusedState`; none named: cancelOrder reads TWS's) |
 * | 200               | no security definition found                                 | UNKNOWN_SYMBOL                     |
 * | 201               | order rejected - reason:…                                    | rejected status with the reason    |
 * | 202               | order cancelled                                              | cancel confirmation                |
 * | 203, 460, 354, 10168, 10186 | no permission for the security / no market data subscription (10168 and 10186: and delayed data not enabled) | PERMISSION_DENIED |
 * | 10197             | no market data during a competing live session (the user is logged in elsewhere) | VENUE_UNAVAILABLE (retryable) |
 * | 326               | client id already in use                                     | AUTHENTICATION (pick another id)   |
 * | 502, 1300         | could not connect / socket port reset                        | NETWORK (connection)               |
 * | 504               | not connected                                                | NOT_CONNECTED (connection)         |
 * | 1100, 2110        | connectivity between TWS and IB lost                         | NETWORK (retryable)                |
 * | 505, 507, 508     | decoding failure, bad length, bad message                    | BAD_RESPONSE                       |
 * | 1101, 1102, 399, 2100–2999, 10167, 10090 | restored / order warning / farm notices / delayed data | info        |
 * | 404               | shares not available for short sale: "the order will be held while we attempt to locate the shares" | info |
 * | 10311             | "This order will be directly routed to …" (precaution notice; the order goes on) | info           |
 * | 10349             | "Order TIF was set to DAY based on order preset" (the order goes on, with TIF DAY) | info         |
 * | 10233             | "Defaults were inherited from CASH preset during the creation of this order." (the order goes on) | info |
 * | any, text "Warning:" | e.g. 10983 "Warning: The 'EtradeOnly' order attribute is not supported" | info               |
 */
export function errorMeaning(code: number, message = ''): IbErrorMeaning {
  if (WARNING_TEXT.test(message) && !FAILURE_CODES.has(code)) return { kind: 'info' };
  switch (code) {
    case 100:
      // TWS API "Message Codes" 100 "Max rate of messages per second has been exceeded": TWS drops a message sent
      // past its pacing limit (about 50 a second) without acting on it. Not a verdict on the order: nothing was
      // placed (or cancelled), and the same request may be sent again once the pace is back under the limit.
      return {
        kind: 'error',
        reason: 'RATE_LIMITED',
        retryable: true,
        notActed: true,
        advice:
          'TWS dropped the request unprocessed because more than its limit of messages per second reached it (a ' +
          'pacing violation), so nothing was done: send it again in a moment',
      };
    case 103:
      // TWS API "Message Codes" 103: "An order was placed with an order ID that is less than or equal to the order
      // ID of a previous order from this client" ("Placing Orders" → "The Next Valid Identifier": with several
      // clients, greater than every id in their openOrder/orderStatus too). The placement is refused, so nothing
      // was placed; our client order id (orderRef) is not what clashed.
      return {
        kind: 'error',
        reason: 'INTERNAL',
        retryable: true,
        notActed: true,
        advice:
          "TWS refused the order id as already used, so nothing was placed: TWS's order id sequence is behind " +
          'orders it already holds (another program on the same client id, or "Reset API order ID sequence" in ' +
          'TWS); reconnect, or use a client id of its own, then send the order again',
      };
    case 321:
      return READ_ONLY.test(message)
        ? {
            kind: 'error',
            reason: 'PERMISSION_DENIED',
            retryable: false,
            advice: 'the TWS API is read-only: untick "Read-Only API" in TWS (Global Configuration → API → Settings)',
          }
        : { kind: 'error', reason: 'INVALID_ORDER', retryable: false };
    case 104:
    case 105:
    case 110:
    case 161:
    case 10148:
    case 10243:
      return { kind: 'error', reason: 'INVALID_ORDER', retryable: false };
    case 135:
    case 10147:
      return { kind: 'error', reason: 'ORDER_NOT_FOUND', retryable: false };
    case 200:
      return { kind: 'error', reason: 'UNKNOWN_SYMBOL', retryable: false };
    case 201:
      return { kind: 'reject' };
    case 202:
      return { kind: 'cancelled' };
    case 203:
    case 460:
    case 354:
      return { kind: 'error', reason: 'PERMISSION_DENIED', retryable: false };
    // 10186 in IBKR's table ("Requested market data is not subscribed. Delayed market data is not enabled"), 10168
    // with the same text from TWS builds that predate it: no delayed ticks follow.
    case 10168:
    case 10186:
      return {
        kind: 'error',
        reason: 'PERMISSION_DENIED',
        retryable: false,
        advice:
          'this IB account has no market data subscription for it and delayed data is not enabled: subscribe to ' +
          "the instrument's market data in IBKR's Client Portal",
      };
    case 10197:
      // TWS API "Message Codes" 10197; TWS API "Error Handling": a market data request "made during a competing
      // session (when a paper user is logged into simultaneously on a different computer from the associated live
      // user)". The data comes back once the other session ends.
      return {
        kind: 'error',
        reason: 'VENUE_UNAVAILABLE',
        retryable: true,
        advice:
          'the same IBKR user is logged in elsewhere (TWS, IBKR Mobile or the web portal) and that session holds ' +
          'the live market data: log out of it, and quotes return once it ends',
      };
    case 326:
      return { kind: 'error', reason: 'AUTHENTICATION', retryable: false, connection: true };
    case 502:
    case 1300:
      return { kind: 'error', reason: 'NETWORK', retryable: true, connection: true };
    case 504:
      return { kind: 'error', reason: 'NOT_CONNECTED', retryable: true, connection: true };
    case 1100:
    case 2110:
      return { kind: 'error', reason: 'NETWORK', retryable: true };
    case 505:
    case 507:
    case 508:
      return { kind: 'error', reason: 'BAD_RESPONSE', retryable: false };
    case 1101:
    case 1102:
    case 399:
    case 404:
    case 10167:
    // "Part of requested market data is not subscribed. Subscription-independent ticks are still active. Delayed
    // market data is available.": the request goes on (with delayed ticks), as after 10167.
    case 10090:
    case 10311:
    case 10349:
    // "Defaults were inherited from CASH preset during the creation of this order." (IBKR's message table): a
    // preset notice like 10349, about an order TWS created and works.
    case 10233:
      return { kind: 'info' };
    default:
      if (code >= 2100 && code < 3000) return { kind: 'info' };
      return { kind: 'reject' };
  }
}

/** TWS's text when its API settings are read-only ("… The API interface is currently in Read-Only mode."). */
const READ_ONLY = /read-only/i;
/** IB marks a notice with "Warning:" in its text (e.g. "Order Message: … Warning: your order will not be placed …"). */
const WARNING_TEXT = /\bWarning:/;
/** Codes that stay what the table says whatever their text: a rejection or a failure is never a notice. */
const FAILURE_CODES: ReadonlySet<number> = new Set([
  100, 103, 104, 105, 110, 135, 161, 200, 201, 202, 203, 321, 326, 10147, 10148, 10168, 10186, 10197,
]);

/**
 * The BrokerError for an IB error code the table calls an error (or a refusal): `notActed` as the table says unless
 * `extra` says otherwise. `request: 'data'` is a request
 * that places nothing (a quote, the account, positions): a refusal of one is not an invalid order, so what the
 * table would call INVALID_ORDER (321, an unlisted code) is IB declining the request (VENUE_UNAVAILABLE, not
 * retryable: the same request would be refused again).
 */
/** TWS's order states (TWS API "Order Management" → "Possible Order States"). */
const ORDER_STATES = new Set([
  'ApiPending',
  'PendingSubmit',
  'PendingCancel',
  'PreSubmitted',
  'Submitted',
  'ApiCancelled',
  'Cancelled',
  'Filled',
  'Inactive',
]);

/**
 * The state TWS names when it refuses a cancel (10148 "OrderId {id} that needs to be cancelled cannot be
 * cancelled, state: {state}."), or undefined for any other error, or a state TWS does not document.
 */
export function cancelRefusedState(code: number, message: string): string | undefined {
  if (code !== 10148) return undefined;
  const state = /\bstate:\s*([A-Za-z]+)/.exec(message)?.[1];
  return state !== undefined && ORDER_STATES.has(state) ? state : undefined;
}

export function brokerErrorFor(
  code: number,
  message: string,
  extra: { outcomeUnknown?: boolean; notActed?: boolean; request?: 'order' | 'data' } = {},
): BrokerError {
  const meaning = errorMeaning(code, message);
  let reason: BrokerErrorReason = meaning.kind === 'error' ? meaning.reason : 'INVALID_ORDER';
  let retryable = meaning.kind === 'error' ? meaning.retryable : false;
  if (extra.request === 'data' && reason === 'INVALID_ORDER') {
    reason = 'VENUE_UNAVAILABLE';
    retryable = false;
  }
  const advice = meaning.kind === 'error' && meaning.advice !== undefined ? `: ${meaning.advice}` : '';
  const notActed = extra.notActed ?? (meaning.kind === 'error' ? meaning.notActed : undefined);
  return new BrokerError(reason, `IB error ${code}: ${message}${advice}`, {
    venueCode: code,
    ...(retryable === undefined ? {} : { retryable }),
    ...(reason === 'RATE_LIMITED' ? { retryAfterMs: 1000 } : {}),
    ...(extra.outcomeUnknown === undefined ? {} : { outcomeUnknown: extra.outcomeUnknown }),
    ...(notActed === undefined ? {} : { notActed }),
  });
}
