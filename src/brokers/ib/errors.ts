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
  | { kind: 'error'; reason: BrokerErrorReason; retryable?: boolean; connection?: boolean };

/**
 * IB error codes (TWS API "Message Codes") → meaning. TWS sends "true error messages as well as notifications
 * that do not mean anything is wrong" through the same `error` event (TWS API "Error Handling"), so a notice
 * must never end an order: codes 2100–2999 and any message with "Warning:" in it are notices (the rule
 * `@stoqey/ib`'s own `isNonFatalError` applies, common/errorCode.ts), as are the order notices listed below,
 * after which TWS goes on working the order. Other unlisted codes for an order id are order rejections (IB
 * follows most with `Inactive`).
 * | code              | meaning                                                      | ours                               |
 * |-------------------|--------------------------------------------------------------|------------------------------------|
 * | 100               | max rate of messages per second exceeded                     | RATE_LIMITED (retryable)           |
 * | 103               | duplicate order id                                           | DUPLICATE_CLIENT_ORDER_ID          |
 * | 104, 105, 110, 321, 10243 | modify a filled order, mismatch, price off tick, invalid request, fractional | INVALID_ORDER |
 * | 135, 10147        | order id not found (cancel)                                  | ORDER_NOT_FOUND                    |
 * | 161, 10148        | cancel of an order not cancellable (filled, already cancelled) | INVALID_ORDER                    |
 * | 200               | no security definition found                                 | UNKNOWN_SYMBOL                     |
 * | 201               | order rejected - reason:…                                    | rejected status with the reason    |
 * | 202               | order cancelled                                              | cancel confirmation                |
 * | 203, 460, 354     | no permission for the security / no market data subscription | PERMISSION_DENIED                  |
 * | 326               | client id already in use                                     | AUTHENTICATION (pick another id)   |
 * | 502, 1300         | could not connect / socket port reset                        | NETWORK (connection)               |
 * | 504               | not connected                                                | NOT_CONNECTED (connection)         |
 * | 1100, 2110        | connectivity between TWS and IB lost                         | NETWORK (retryable)                |
 * | 505, 507, 508     | decoding failure, bad length, bad message                    | BAD_RESPONSE                       |
 * | 1101, 1102, 399, 2100–2999, 10167, 10090 | restored / order warning / farm notices / delayed data | info        |
 * | 404               | shares not available for short sale: "the order will be held while we attempt to locate the shares" | info |
 * | 10311             | "This order will be directly routed to …" (precaution notice; the order goes on) | info           |
 * | 10349             | "Order TIF was set to DAY based on order preset" (the order goes on, with TIF DAY) | info         |
 * | any, text "Warning:" | e.g. 10983 "Warning: The 'EtradeOnly' order attribute is not supported" | info               |
 */
export function errorMeaning(code: number, message = ''): IbErrorMeaning {
  if (WARNING_TEXT.test(message) && !FAILURE_CODES.has(code)) return { kind: 'info' };
  switch (code) {
    case 100:
      return { kind: 'error', reason: 'RATE_LIMITED', retryable: true };
    case 103:
      return { kind: 'error', reason: 'DUPLICATE_CLIENT_ORDER_ID', retryable: false };
    case 104:
    case 105:
    case 110:
    case 321:
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
      return { kind: 'info' };
    default:
      if (code >= 2100 && code < 3000) return { kind: 'info' };
      return { kind: 'reject' };
  }
}

/** IB marks a notice with "Warning:" in its text (e.g. "Order Message: … Warning: your order will not be placed …"). */
const WARNING_TEXT = /\bWarning:/;
/** Codes that stay what the table says whatever their text: a rejection or a failure is never a notice. */
const FAILURE_CODES: ReadonlySet<number> = new Set([
  100, 103, 104, 105, 110, 135, 161, 200, 201, 202, 203, 321, 326, 10147, 10148,
]);

/** The BrokerError for an IB error code the table calls an error. */
export function brokerErrorFor(code: number, message: string, extra: { outcomeUnknown?: boolean } = {}): BrokerError {
  const meaning = errorMeaning(code, message);
  const reason: BrokerErrorReason = meaning.kind === 'error' ? meaning.reason : 'INVALID_ORDER';
  const retryable = meaning.kind === 'error' ? meaning.retryable : false;
  return new BrokerError(reason, `IB error ${code}: ${message}`, {
    venueCode: code,
    ...(retryable === undefined ? {} : { retryable }),
    ...(reason === 'RATE_LIMITED' ? { retryAfterMs: 1000 } : {}),
    ...(extra.outcomeUnknown === undefined ? {} : { outcomeUnknown: extra.outcomeUnknown }),
  });
}
