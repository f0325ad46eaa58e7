/**
 * One way to build a venue from a broker profile, for the CLI and the editor alike.
 *
 * A profile names the venue and its environment; the combination is checked here (live is allowed
 * when a profile says so, never chosen by default):
 * | broker  | environments      | default  | also                                                  |
 * |---------|-------------------|----------|-------------------------------------------------------|
 * | paper   | paper             | paper    | the account file lives in `stateDir` when given       |
 * | oanda   | practice, live    | practice | baseUrl (a proxy or a fake)                           |
 * | alpaca  | paper, live       | paper    | baseUrl, dataUrl (the market-data host; see below), dataFeed |
 * | binance | testnet, live     | testnet  | baseUrl                                               |
 * | ib      | paper, live       | paper    | host, port, clientId (required: unique per TWS)       |
 *
 * Alpaca has two hosts, trading and market data, and its keys go to both. A profile that moves the
 * trading host (`baseUrl`) must name the data host too (`dataUrl`, the same server if it serves market
 * data): otherwise quotes would still go to Alpaca's own data host with the keys, which an offline or
 * self-hosted setup cannot reach and should not send them to. `createBroker` refuses such a profile
 * (`alpacaDataUrlProblem`), naming the field; the schema accepts it, so the profile stays listed.
 *
 * Venue adapter modules are required inside `createBroker`, so loading this module loads none of them and no SDK
 * (the paper venue, plain TypeScript, is imported directly; `@alpacahq/alpaca-trade-api`, `ccxt` and `@stoqey/ib`
 * load only on an adapter's connect()).
 * `BROKER_SUPPORT` reads each venue's capability constant (kept in its SDK-free parse module) and
 * says, per order type × time in force, whether the venue takes it or why it is refused before sending.
 *
 * Just past 450 lines on purpose: the profile schema, its checks and the one switch that builds each venue read
 * best together (a profile's fields and what each venue does with them).
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../common/clock';
import {
  ORDER_TYPE_NAMES,
  TIME_IN_FORCE_NAMES,
  type InstrumentRules,
  type OrderTypeName,
  type TimeInForceName,
} from '../orders/model';
import type * as AlpacaModule from './alpaca/adapter';
import { ALPACA_DATA_URL } from './alpaca/connection';
import { ALPACA_CAPABILITIES } from './alpaca/orders';
import type * as BinanceModule from './binance/adapter';
import { BINANCE_CAPABILITIES } from './binance/orders';
import { unsupportedReason, type BrokerApi, type BrokerCapabilities, type BrokerEnvironment } from './broker';
import type { CredentialSource } from './credentials';
import type * as IbModule from './ib/adapter';
import { IB_CAPABILITIES } from './ib/orders';
import type * as OandaModule from './oanda/adapter';
import { OANDA_CAPABILITIES } from './oanda/orders';
import { PAPER_CAPABILITIES, PaperBroker } from './paper/paperBroker';
import { paperAccountName } from '../common/statePaths';
import { FEE_PRESETS, type FeeSchedule } from './paper/costs';

export const BROKER_KINDS = ['paper', 'oanda', 'alpaca', 'binance', 'ib'] as const;
export type BrokerKind = (typeof BROKER_KINDS)[number];
/** Every venue's environments together (BROKER_ENVIRONMENTS says which venue has which). */
export const ENVIRONMENT_NAMES = [
  'paper',
  'practice',
  'testnet',
  'live',
] as const satisfies readonly BrokerEnvironment[];

/** The environments each venue has, the first being the default. */
export const BROKER_ENVIRONMENTS: Readonly<Record<BrokerKind, readonly [BrokerEnvironment, ...BrokerEnvironment[]]>> = {
  paper: ['paper'],
  oanda: ['practice', 'live'],
  alpaca: ['paper', 'live'],
  binance: ['testnet', 'live'],
  ib: ['paper', 'live'],
};

const VENUE_NAMES: Readonly<Record<BrokerKind, string>> = {
  paper: 'Paper',
  oanda: 'OANDA',
  alpaca: 'Alpaca',
  binance: 'Binance',
  ib: 'IB',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Whitespace, C0/C1 controls, and the characters that reorder or hide text (bidi controls, zero-width ones). */
const INVISIBLE = /[\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

/** A value of the wrong JSON type, as a message shows it: what settings.json holds there. */
function shownType(value: unknown): string {
  if (typeof value === 'string') return `the text ${shownName(value)}`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

/**
 * A field's message for a value of the wrong type, saying what it takes ("port must be a whole number from 1 to
 * 65535, not the text "7497""): zod's own ("Invalid input: expected number, received string") said neither.
 */
const wrongType =
  (field: string, what: string) =>
  (issue: { code?: string; input?: unknown }): string | undefined =>
    issue.code === 'invalid_type' ? `${field} must be ${what}, not ${shownType(issue.input)}` : undefined;

/** An absolute URL, https (plain http only on a loopback address: the keys travel in headers). */
function endpointUrl(field: string) {
  return (
    z
      .string({ error: wrongType(field, 'text: an https URL such as https://api.example.com') })
      .max(2048, `${field} must be at most 2,048 characters`)
      // The URL parser drops a tab or a line break inside a URL: "https://api.example.com\n.evil.net" was shown as
      // api.example.com on its line and reached api.example.com.evil.net. Nothing invisible may be in one.
      .refine((s) => !INVISIBLE.test(s), {
        message: `${field} must not hold spaces, control characters or invisible formatting characters`,
      })
      // The parser turns a host of look-alike letters ("https://аpi.example.com", a Cyrillic а) into another host
      // (xn--pi-…), shown as the one the user knows while the keys go to the other.
      .superRefine((s, ctx) => {
        const odd = /[^\x00-\x7f]/.exec(s);
        if (odd !== null)
          ctx.addIssue({
            code: 'custom',
            message: `${field} must be ASCII: it has the character U+${odd[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${odd.index + 1} (a look-alike of a Latin letter?); write an international domain name in its xn-- form`,
          });
      })
      .refine((s) => URL.canParse(s), { message: `${field} must be an absolute URL` })
      .refine(
        (s) => {
          const u = URL.canParse(s) ? new URL(s) : undefined;
          return (
            u === undefined || u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname))
          );
        },
        { message: `${field} must be https (plain http only on a loopback address)` },
      )
      // A user name or password in the URL would be saved in settings and shown wherever the URL is: keys
      // belong in the credential store. The message does not repeat the URL.
      .refine((s) => !URL.canParse(s) || (new URL(s).username === '' && new URL(s).password === ''), {
        message: `${field} must not hold a user name or password (user:password@host); put the keys in the credential store`,
      })
      // Paths are appended to it: a query or fragment would swallow them (".../v3?x=1/accounts").
      .refine((s) => !URL.canParse(s) || (new URL(s).search === '' && new URL(s).hash === '' && !/[?#]/.test(s)), {
        message: `${field} must not have a query (?…) or fragment (#…): give the venue's address and path only`,
      })
  );
}

export const BrokerProfileSchema = z
  .strictObject({
    id: z
      .string({ error: wrongType('id', 'text: 1–64 letters, digits or . _ -') })
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        'id must be 1–64 letters, digits or . _ - (starting with a letter or digit)',
      ),
    broker: z.enum(BROKER_KINDS, { error: () => `broker must be one of ${BROKER_KINDS.join(', ')}` }),
    /** Omitted: the venue's default (never live). */
    environment: z
      .enum(ENVIRONMENT_NAMES, {
        error: () => `environment must be one of ${ENVIRONMENT_NAMES.join(', ')}`,
      })
      .optional(),
    baseUrl: endpointUrl('baseUrl').optional(),
    /** Alpaca only: the market-data host (default https://data.alpaca.markets); required with `baseUrl` to connect. */
    dataUrl: endpointUrl('dataUrl').optional(),
    /**
     * Alpaca only: the stock quote feed (default iex, free to every account); sip needs a paid market-data plan;
     * delayed_sip is SIP 15 minutes behind, its quotes flagged to the checks as not the live price.
     */
    dataFeed: z
      .enum(['iex', 'sip', 'delayed_sip'], { error: () => 'dataFeed must be one of iex, sip, delayed_sip' })
      .optional(),
    host: z
      .string({ error: wrongType('host', 'text: a host name or an IP address') })
      .min(1, 'host must not be empty')
      .regex(/^[A-Za-z0-9._\-:[\]%]+$/, 'host must be a host name or an IP address (no spaces, scheme or path)')
      .optional(),
    port: z
      .number({ error: wrongType('port', 'a whole number from 1 to 65535 (TWS paper 7497, IB Gateway paper 4002)') })
      .int('port must be a whole number')
      .min(1, 'port must be 1–65535')
      .max(65535, 'port must be 1–65535')
      .optional(),
    clientId: z
      .number({ error: wrongType('clientId', 'a whole number from 0 to 2147483647') })
      .int('clientId must be a whole number')
      .nonnegative('clientId must not be negative')
      .max(2 ** 31 - 1, 'clientId must be at most 2147483647 (TWS takes a 32-bit id)')
      .optional(),
    displayName: z
      .string({ error: wrongType('displayName', 'text of 1–64 characters') })
      .min(1, 'displayName must not be empty')
      .max(64, 'displayName must be at most 64 characters')
      // Shown in the status bar, pickers and the live confirmation: a line break or a bidi control there
      // could make one profile read as another.
      .refine(
        (s) => !/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/.test(s),
        {
          message: 'displayName must not hold control characters or invisible formatting characters',
        },
      )
      .optional(),
  })
  .superRefine((p, ctx) => {
    const allowed = BROKER_ENVIRONMENTS[p.broker];
    if (p.environment !== undefined && !allowed.includes(p.environment))
      ctx.addIssue({
        code: 'custom',
        path: ['environment'],
        message: `${p.broker} has no ${p.environment} environment (use ${allowed.join(' or ')})`,
      });
    if (p.broker === 'ib' && p.clientId === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clientId'],
        message: 'ib requires clientId (an integer unique per TWS / IB Gateway instance)',
      });
    if (p.broker !== 'ib')
      for (const field of ['host', 'port', 'clientId'] as const)
        if (p[field] !== undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: `${field} applies to ib only` });
    if ((p.broker === 'ib' || p.broker === 'paper') && p.baseUrl !== undefined)
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: `baseUrl does not apply to ${p.broker}` });
    if (p.broker !== 'alpaca' && p.dataUrl !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['dataUrl'],
        message: 'dataUrl applies to alpaca only (its market-data host)',
      });
    if (p.broker !== 'alpaca' && p.dataFeed !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['dataFeed'],
        message: 'dataFeed applies to alpaca only (its stock quotes)',
      });
  })
  .transform((p) => ({ ...p, environment: p.environment ?? BROKER_ENVIRONMENTS[p.broker][0] }));

/** A profile as written in settings or a file (environment optional). */
export type BrokerProfileInput = z.input<typeof BrokerProfileSchema>;
/** A checked profile (environment resolved). */
export type BrokerProfile = z.output<typeof BrokerProfileSchema>;

/** A profile that does not validate; `fields` names every offending field, and so does the message. */
export class BrokerProfileError extends Error {
  override readonly name = 'BrokerProfileError';
  constructor(
    readonly fields: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

export function parseBrokerProfile(input: unknown): BrokerProfile {
  const result = BrokerProfileSchema.safeParse(input);
  if (result.success) {
    const live = liveEndpointProblem(result.data);
    if (live !== undefined) failProfile(live.fields, live.message);
    return result.data;
  }
  const id =
    typeof input === 'object' && input !== null && 'id' in input && typeof input.id === 'string'
      ? ` ${shownName(input.id)}`
      : '';
  const fields: string[] = [];
  const parts = result.error.issues.map((issue) => {
    // Names a settings file or --profiles gives are anyone's text: shown short and escaped, never as is.
    const keys =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => (/^[\w.-]{1,64}$/.test(k) ? k : shownName(k)))
        : [issue.path.map(String).join('.') || '(profile)'];
    fields.push(...keys);
    return issue.code === 'unrecognized_keys'
      ? `${keys.join(', ')}: not a broker profile field`
      : `${keys[0]}: ${issue.message}`;
  });
  return failProfile(fields, `broker profile${id} is invalid: ${parts.join('; ')}`);
}

/** A name as a message shows it: quoted, at most 64 characters, anything but printable ASCII escaped. */
function shownName(name: string): string {
  const short = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return JSON.stringify(short).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Where each venue trades real money: its live REST hosts (OANDA's "fxTrade" hosts, Alpaca's trading API,
 * Binance's spot API and its mirrors api1–4/api-gcp) and, for IB, the ports TWS and IB Gateway take for a live
 * session by default (TWS API "Connectivity": 7496 TWS live, 7497 paper; 4001 Gateway live, 4002 paper).
 */
const LIVE_HOSTS: Readonly<Record<'oanda' | 'alpaca' | 'binance', readonly string[]>> = {
  oanda: ['api-fxtrade.oanda.com', 'stream-fxtrade.oanda.com'],
  alpaca: ['api.alpaca.markets'],
  binance: [
    'api.binance.com',
    'api-gcp.binance.com',
    'api1.binance.com',
    'api2.binance.com',
    'api3.binance.com',
    'api4.binance.com',
  ],
};
const IB_LIVE_PORTS: readonly number[] = [7496, 4001];

/**
 * Why a profile that is not `live` points where its venue trades real money: its orders would go out as a
 * practice account's, with no per-order confirmation (the engine asks one only of a live venue). Refused
 * wherever a profile is read (settings, the profile wizard, the CLI's --profiles file).
 */
function liveEndpointProblem(p: BrokerProfile): { fields: string[]; message: string } | undefined {
  if (p.environment === 'live') return undefined;
  const environment = p.environment;
  const fix = `Set "environment": "live" (every order is then confirmed one by one) or point it at the ${environment}`;
  if (p.broker === 'ib') {
    if (p.port === undefined || !IB_LIVE_PORTS.includes(p.port)) return undefined;
    return {
      fields: ['port', 'environment'],
      message: `broker profile "${p.id}": its port ${p.port} is where TWS or IB Gateway listen for a LIVE session, but its environment is ${environment}; orders to it could trade real money without Execute Live's confirmation. ${fix} port (7497 TWS, 4002 IB Gateway)`,
    };
  }
  if (p.baseUrl === undefined || (p.broker !== 'oanda' && p.broker !== 'alpaca' && p.broker !== 'binance'))
    return undefined;
  let host: string;
  try {
    host = new URL(p.baseUrl).hostname.toLowerCase().replace(/\.+$/, '');
  } catch {
    return undefined;
  }
  if (!LIVE_HOSTS[p.broker].includes(host)) return undefined;
  return {
    fields: ['baseUrl', 'environment'],
    message: `broker profile "${p.id}": its baseUrl ${p.baseUrl} is ${p.broker}'s LIVE host ${host}, but its environment is ${environment}; orders to it would trade real money without Execute Live's confirmation. ${fix} host`,
  };
}

function failProfile(fields: string[], message: string): never {
  throw new BrokerProfileError(fields, message);
}

export interface BrokerDeps {
  clock: Clock;
  credentials: CredentialSource;
  /** Where the paper venue keeps its account (`paper-account.json`, or `paper-account-<id>.json` for other profile ids). */
  stateDir?: string;
}

/** Alpaca's own market-data host, where quotes go when a profile names no `dataUrl`. */
export const ALPACA_DEFAULT_DATA_URL = ALPACA_DATA_URL;

/**
 * Why an Alpaca profile cannot connect as written (a custom trading host and no market-data host), naming
 * the missing field; undefined when it can, and for every other venue.
 */
export function alpacaDataUrlProblem(
  p: Pick<BrokerProfile, 'id' | 'broker' | 'baseUrl' | 'dataUrl'>,
): string | undefined {
  if (p.broker !== 'alpaca' || p.baseUrl === undefined || p.dataUrl !== undefined) return undefined;
  return (
    `broker profile "${p.id}": baseUrl points Alpaca's trading API at ${p.baseUrl}, but quotes would still go to Alpaca's data host ` +
    `${ALPACA_DATA_URL} with your keys: add dataUrl (the same server, if it serves market data too; ${ALPACA_DATA_URL} to keep Alpaca's own)`
  );
}

/**
 * Builds (never connects) the venue a profile describes. Throws `BrokerProfileError` naming the field when
 * the profile is invalid, or is an Alpaca profile with a `baseUrl` and no `dataUrl` (`alpacaDataUrlProblem`).
 */
export function createBroker(profile: BrokerProfileInput, deps: BrokerDeps): BrokerApi {
  const p = parseBrokerProfile(profile);
  const dataProblem = alpacaDataUrlProblem(p);
  if (dataProblem !== undefined) failProfile(['dataUrl'], dataProblem);
  const broker = construct(p, deps);
  if (p.displayName !== undefined)
    Object.defineProperty(broker, 'displayName', { value: p.displayName, enumerable: true });
  return broker;
}

/* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose: only the chosen adapter is loaded */
/**
 * How long an account or positions read is reused by the product's adapters, unless an order of ours
 * changed something since (`readCache.ts`): one Test Order reads the account for the component's
 * capital and again for the engine's check a moment later, and the engine's reconcile right after
 * connecting reads what connecting just read.
 */
export const READ_REUSE_MS = 1000;

function construct(p: BrokerProfile, deps: BrokerDeps): BrokerApi {
  const { clock, credentials } = deps;
  const readReuseMs = READ_REUSE_MS;
  switch (p.broker) {
    case 'paper': {
      // The paper venue is plain TypeScript (no SDK) and is already loaded for its capabilities.
      const file = paperAccountName(p.id);
      return new PaperBroker({ clock, stateFile: deps.stateDir === undefined ? undefined : join(deps.stateDir, file) });
    }
    case 'oanda': {
      const { OandaBroker } = require('./oanda/adapter') as typeof OandaModule;
      return new OandaBroker({
        credentials,
        clock,
        environment: p.environment === 'live' ? 'live' : 'practice',
        baseUrl: p.baseUrl,
        readReuseMs,
      });
    }
    case 'alpaca': {
      const { AlpacaBroker } = require('./alpaca/adapter') as typeof AlpacaModule;
      return new AlpacaBroker({
        credentials,
        clock,
        environment: p.environment === 'live' ? 'live' : 'paper',
        baseUrl: p.baseUrl,
        dataBaseUrl: p.dataUrl,
        ...(p.dataFeed === undefined ? {} : { dataFeed: p.dataFeed }),
        readReuseMs,
      });
    }
    case 'binance': {
      const { BinanceBroker } = require('./binance/adapter') as typeof BinanceModule;
      return new BinanceBroker({
        credentials,
        clock,
        environment: p.environment === 'live' ? 'live' : 'testnet',
        baseUrl: p.baseUrl,
        readReuseMs,
      });
    }
    case 'ib': {
      const { IbBroker } = require('./ib/adapter') as typeof IbModule;
      // clientId is checked by the schema; the fallback is unreachable.
      return new IbBroker({
        clock,
        environment: p.environment === 'live' ? 'live' : 'paper',
        host: p.host,
        port: p.port,
        clientId: p.clientId ?? 0,
        readReuseMs,
      });
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

// --- what each venue takes ---

export type SupportCell = { supported: true } | { supported: false; reason: string };
export type SupportTable = Readonly<Record<OrderTypeName, Readonly<Record<TimeInForceName, SupportCell>>>>;

export const BROKER_CAPABILITIES: Readonly<Record<BrokerKind, BrokerCapabilities>> = {
  paper: PAPER_CAPABILITIES,
  oanda: OANDA_CAPABILITIES,
  alpaca: ALPACA_CAPABILITIES,
  binance: BINANCE_CAPABILITIES,
  ib: IB_CAPABILITIES,
};

export function supportTable(capabilities: BrokerCapabilities, venue: string): SupportTable {
  const rows = {} as Record<OrderTypeName, Record<TimeInForceName, SupportCell>>;
  for (const type of ORDER_TYPE_NAMES) {
    const row = {} as Record<TimeInForceName, SupportCell>;
    for (const tif of TIME_IN_FORCE_NAMES) {
      const reason = unsupportedReason(capabilities, type, tif, venue);
      row[tif] = reason === undefined ? { supported: true } : { supported: false, reason };
    }
    rows[type] = row;
  }
  return rows;
}

/** Per broker, per order type × time in force: supported, or the reason it is refused before anything is sent. */
export const BROKER_SUPPORT: Readonly<Record<BrokerKind, SupportTable>> = {
  paper: supportTable(BROKER_CAPABILITIES.paper, VENUE_NAMES.paper),
  oanda: supportTable(BROKER_CAPABILITIES.oanda, VENUE_NAMES.oanda),
  alpaca: supportTable(BROKER_CAPABILITIES.alpaca, VENUE_NAMES.alpaca),
  binance: supportTable(BROKER_CAPABILITIES.binance, VENUE_NAMES.binance),
  ib: supportTable(BROKER_CAPABILITIES.ib, VENUE_NAMES.ib),
};

/** `BROKER_SUPPORT` as a Markdown table (one row per broker × order type), for the README. */
export function supportMarkdown(): string {
  const lines = ['| broker | order type | GTC | IOC | FOK | GTD |', '|---|---|---|---|---|---|'];
  const notes: string[] = [];
  for (const broker of BROKER_KINDS) {
    for (const type of ORDER_TYPE_NAMES) {
      const cells = TIME_IN_FORCE_NAMES.map((tif) => {
        const cell = BROKER_SUPPORT[broker][type][tif];
        if (cell.supported) return '✓';
        let n = notes.indexOf(cell.reason);
        if (n < 0) n = notes.push(cell.reason) - 1;
        return `✗ [${n + 1}]`;
      });
      lines.push(`| ${broker} | ${type.replace('_', '-')} | ${cells.join(' | ')} |`);
    }
  }
  return [...lines, '', ...notes.map((reason, i) => `[${i + 1}] ${reason}`)].join('\n');
}

/**
 * A venue kind's presumptive fees for an instrument: the paper venue's own model (crypto 10 bps, else
 * none), a broker's public retail schedule otherwise. The CLI and the editor route with the same table.
 */
export function presumptiveFees(kind: BrokerKind, instrument: InstrumentRules): FeeSchedule | undefined {
  if (kind === 'paper') return instrument.kind === 'crypto' ? { takerBps: 10 } : undefined;
  return FEE_PRESETS[kind];
}
