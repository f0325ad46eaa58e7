/**
 * The socket to TWS / IB Gateway: `@stoqey/ib` loaded on first connect, the API handshake, and the one way a
 * request waits for its answer (subscribe, send, then done, failed, timed out or the socket closed).
 */
import type * as IbLib from '@stoqey/ib';
import type { EventEmitter } from 'node:events';
import { BrokerError } from '../errors';
import { errorMeaning } from './errors';

export type IbApi = IbLib.IBApi;
export type Lib = typeof IbLib;

export function loadLib(): Lib {
  try {
    // Lazy on purpose: the SDK (and its dotenv side effect) loads only when IB is used.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@stoqey/ib') as Lib;
  } catch (e) {
    throw new BrokerError('INTERNAL', `IB: cannot load @stoqey/ib: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
}

export function asBrokerError(e: unknown, what: string): BrokerError {
  if (e instanceof BrokerError) return e;
  return new BrokerError('INTERNAL', `IB: ${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export interface AnswerErrors {
  timeout?: () => BrokerError;
  closed?: () => BrokerError;
}

/**
 * Waits for an answer: `start` subscribes and sends, returns its unsubscribe. Fails on timeout
 * and when the socket closes, with the errors given (defaults: TIMEOUT, NOT_CONNECTED).
 */
export function awaitAnswer<T>(
  ib: IbApi,
  lib: Lib,
  what: string,
  timeoutMs: number,
  start: (done: (value: T) => void, fail: (error: BrokerError) => void) => () => void,
  errors: AnswerErrors = {},
): Promise<T> {
  const E = lib.EventName;
  return new Promise<T>((resolve, reject) => {
    let finished = false;
    let cleanup: (() => void) | undefined;
    const finish = () => {
      finished = true;
      clearTimeout(timer);
      ib.off(E.disconnected, onClosed);
      cleanup?.();
    };
    const done = (value: T) => {
      if (finished) return;
      finish();
      resolve(value);
    };
    const fail = (error: BrokerError) => {
      if (finished) return;
      finish();
      reject(error);
    };
    const onClosed = () =>
      fail(
        errors.closed?.() ??
          new BrokerError('NOT_CONNECTED', `IB: the connection to TWS closed during ${what}`, { retryable: true }),
      );
    const timer = setTimeout(
      () => fail(errors.timeout?.() ?? new BrokerError('TIMEOUT', `IB: no answer to ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ib.on(E.disconnected, onClosed);
    try {
      cleanup = start(done, fail);
      if (finished) cleanup();
    } catch (e) {
      fail(asBrokerError(e, what));
    }
  });
}

/**
 * What to do about a connection TWS refused. TWS API "Connectivity" (interactivebrokers.github.io/tws-api/
 * connection.html): 502 comes from the operating system, not TWS: "Most commonly error 502 will indicate that TWS
 * is not running with the API enabled or is listening for connection requests on a different socket port. If
 * connecting across a network, it can also occur if there is a firewall or antivirus program blocking
 * connections." The ports are TWS's and IB Gateway's defaults (brokers.md §0).
 */
function adviceFor(code: number): string {
  if (code !== 502) return '';
  return "; is TWS or IB Gateway running, with 'Enable ActiveX and Socket Clients' on (Global Configuration → API → Settings) and its Socket Port the one in this profile (by default TWS 7497 paper, 7496 live; IB Gateway 4002 paper, 4001 live)? Across a network, a firewall may block it";
}

/**
 * Connects `ib` and waits for TWS's first `nextValidId`; fails on a connection error TWS reports, on the
 * socket closing, or after `timeoutMs`.
 */
export function handshake(
  ib: IbApi,
  lib: Lib,
  events: EventEmitter,
  options: { where: string; clientId: number; timeoutMs: number },
): Promise<void> {
  const E = lib.EventName;
  const { where } = options;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: BrokerError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ib.off(E.nextValidId, onId);
      events.off('ibError', onErr);
      ib.off(E.disconnected, onClosed);
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () =>
        finish(
          new BrokerError(
            'TIMEOUT',
            `IB: no API handshake from ${where} within ${options.timeoutMs} ms (is TWS/IB Gateway running with the API enabled?)`,
          ),
        ),
      options.timeoutMs,
    );
    const onId = () => finish();
    const onErr = (id: number, code: number, message: string) => {
      const m = errorMeaning(code);
      if (id !== -1 || m.kind !== 'error' || !(m.connection || code === 503 || code === 506)) return;
      const reason = m.reason === 'NOT_CONNECTED' ? 'NETWORK' : m.reason;
      finish(
        new BrokerError(reason, `IB: cannot connect to ${where}: ${message} (error ${code})${adviceFor(code)}`, {
          venueCode: code,
          retryable: m.retryable ?? false,
        }),
      );
    };
    const onClosed = () =>
      finish(new BrokerError('NETWORK', `IB: ${where} closed the connection during the handshake`));
    ib.on(E.nextValidId, onId);
    events.on('ibError', onErr);
    ib.on(E.disconnected, onClosed);
    ib.connect(options.clientId);
  });
}

/** What a reader of one kind of TWS answer needs of the connection. */
export interface TwsRequest {
  ib: IbApi;
  lib: Lib;
  timeoutMs: number;
  /** Fails the request on an error TWS sends for its id (warnings excepted); returns the unsubscribe. */
  requestErrors: (reqId: number, fail: (error: BrokerError) => void) => () => void;
  /** This socket is still the broker's and connected (a subscription is cancelled only then). */
  current: () => boolean;
}
